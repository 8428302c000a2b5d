package generator

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/crmgen/crmgen/metamodel"
)

// Import paths used by the emitted ent schemas.
const (
	pkgEnt      = "entgo.io/ent"
	pkgField    = "entgo.io/ent/schema/field"
	pkgEdge     = "entgo.io/ent/schema/edge"
	pkgIndex    = "entgo.io/ent/schema/index"
	pkgSchema   = "entgo.io/ent/schema"
	pkgEntSQL   = "entgo.io/ent/dialect/entsql"
	pkgDialect  = "entgo.io/ent/dialect"
	pkgEntGQL   = "entgo.io/contrib/entgql"
	pkgTime     = "time"
	pkgJSON     = "encoding/json"
	pkgEnforce  = "github.com/crmgen/crmgen/platform/enforce"
	pkgDatabase = "github.com/crmgen/crmgen/platform/database"
)

// entSchemaFiles emits one ent schema file per entity, ent/schema/<entity>.go.
func entSchemaFiles(m *metamodel.Model) (Files, error) {
	files := Files{}
	starts := incrementStarts(m)
	for _, e := range m.Entities {
		f := jen.NewFile("schema")
		f.HeaderComment(generatedHeader)
		emitEntity(f, e, starts[e.Name], m.Restrictable(e))
		src, err := render(f)
		if err != nil {
			return nil, fmt.Errorf("emit ent schema %q: %w", e.Name, err)
		}
		files["ent/schema/"+strings.ToLower(e.Name)+".go"] = src
	}
	return files, nil
}

// incrementStarts gives every entity a fixed range of 1<<32 ids (ent's global unique ids, which let
// GraphQL's node(id) find the type from the id alone). The range is derived from a hash of the entity's
// name rather than its position, so adding or removing an entity never moves another's range and ids
// stored in an existing database keep resolving. Collisions are resolved by probing in name order.
func incrementStarts(m *metamodel.Model) map[string]int {
	const slots = 1 << 15
	names := make([]string, 0, len(m.Entities))
	for _, e := range m.Entities {
		names = append(names, e.Name)
	}
	sort.Strings(names)
	used := map[uint32]bool{}
	out := map[string]int{}
	for _, n := range names {
		h := fnv.New32a()
		h.Write([]byte(n))
		slot := h.Sum32()%(slots-1) + 1
		for used[slot] {
			slot = slot%(slots-1) + 1
		}
		used[slot] = true
		out[n] = int(slot) << 32
	}
	return out
}

// emitEntity emits the schema of e; guarded are its members some reader may be refused (their filters are
// checked per reader).
func emitEntity(f *jen.File, e *metamodel.Entity, start int, guarded map[string]bool) {
	name := e.Name
	f.Commentf("%s holds the schema of the %s entity (%s).", name, name, labelComment(e.Label))
	f.Type().Id(name).Struct(jen.Qual(pkgEnt, "Schema"))

	// Fields: model fields, then the foreign keys of belongsTo relations (ent edge fields).
	var fields []jen.Code
	for _, fd := range e.Fields {
		if fd.Computed.Src != "" && !fd.Stored {
			continue // resolved at read time by the GraphQL layer, not stored
		}
		fields = append(fields, entField(fd, guarded[fd.Name]))
	}
	for _, r := range e.Relations {
		if r.Kind == metamodel.BelongsTo {
			fields = append(fields, fkField(r, guarded[r.Name]))
		}
	}
	f.Commentf("Fields of %s.", name)
	f.Func().Params(jen.Id(name)).Id("Fields").Params().Index().Qual(pkgEnt, "Field").Block(
		jen.Return(list(jen.Index().Qual(pkgEnt, "Field"), fields)),
	)

	var edges []jen.Code
	for _, r := range e.Relations {
		if selfManyToMany(r) && r.Derived {
			continue // declared together with its other end (see entEdge)
		}
		edges = append(edges, entEdge(r))
	}
	f.Commentf("Edges of %s.", name)
	f.Func().Params(jen.Id(name)).Id("Edges").Params().Index().Qual(pkgEnt, "Edge").Block(
		jen.Return(list(jen.Index().Qual(pkgEnt, "Edge"), edges)),
	)

	if idx := entIndexes(e); len(idx) > 0 {
		f.Commentf("Indexes of %s.", name)
		f.Func().Params(jen.Id(name)).Id("Indexes").Params().Index().Qual(pkgEnt, "Index").Block(
			jen.Return(list(jen.Index().Qual(pkgEnt, "Index"), idx)),
		)
	}

	f.Commentf("Annotations of %s: its table, id range, and GraphQL query field, connection and inputs.", name)
	f.Func().Params(jen.Id(name)).Id("Annotations").Params().Index().Qual(pkgSchema, "Annotation").Block(
		jen.Return(list(jen.Index().Qual(pkgSchema, "Annotation"), []jen.Code{
			jen.Qual(pkgEntSQL, "Table").Call(jen.Lit(e.Table())),
			jen.Qual(pkgEntSQL, "IncrementStart").Call(jen.Lit(start)),
			jen.Qual(pkgEntGQL, "QueryField").Call(jen.Lit(e.QueryField())),
			jen.Qual(pkgEntGQL, "RelayConnection").Call(),
			jen.Qual(pkgEntGQL, "MultiOrder").Call(),
			jen.Qual(pkgEntGQL, "Mutations").Call(
				jen.Qual(pkgEntGQL, "MutationCreate").Call(), jen.Qual(pkgEntGQL, "MutationUpdate").Call()),
		})),
	)

	// Behaviour comes from the platform, driven by the embedded model: one hook and one interceptor per
	// entity, so the generated runtime's slots never change with the model.
	f.Commentf("Hooks of %s: validation, numbering, versioning and the model's rules, from the platform.", name)
	f.Func().Params(jen.Id(name)).Id("Hooks").Params().Index().Qual(pkgEnt, "Hook").Block(
		jen.Return(jen.Index().Qual(pkgEnt, "Hook").Values(jen.Qual(pkgEnforce, "Hook").Call(jen.Lit(name)))),
	)
	f.Commentf("Interceptors of %s: row visibility (soft delete, and later row scopes), from the platform.", name)
	f.Func().Params(jen.Id(name)).Id("Interceptors").Params().Index().Qual(pkgEnt, "Interceptor").Block(
		jen.Return(jen.Index().Qual(pkgEnt, "Interceptor").Values(jen.Qual(pkgEnforce, "Interceptor").Call(jen.Lit(name)))),
	)
}

// guard is the annotation of a field whose predicates the platform checks per reader (see
// enforce.Guard and templates/ent).
var guard = jen.Qual(pkgEnforce, "Guard").Values(jen.Dict{jen.Id("Guarded"): jen.True()})

// entField emits one ent field builder chain; a guarded field's predicates are checked per reader.
func entField(fd *metamodel.Field, guarded bool) jen.Code {
	n := fd.EntName()
	var c *jen.Statement
	switch fd.Type {
	case metamodel.TypeText:
		c = jen.Qual(pkgField, "Text").Call(jen.Lit(n))
	case metamodel.TypeInt:
		c = jen.Qual(pkgField, "Int").Call(jen.Lit(n))
	case metamodel.TypeFloat:
		c = jen.Qual(pkgField, "Float").Call(jen.Lit(n))
	case metamodel.TypeDecimal:
		c = jen.Qual(pkgField, "Float").Call(jen.Lit(n)).Dot("SchemaType").Call(jen.Map(jen.String()).String().Values(jen.Dict{
			jen.Qual(pkgDialect, "Postgres"): jen.Lit(fmt.Sprintf("numeric(%d,%d)", fd.Precision, fd.Scale)),
			jen.Qual(pkgDialect, "SQLite"):   jen.Lit("numeric"),
		}))
	case metamodel.TypeBool:
		c = jen.Qual(pkgField, "Bool").Call(jen.Lit(n))
	case metamodel.TypeDate:
		c = jen.Qual(pkgField, "Time").Call(jen.Lit(n)).Dot("SchemaType").Call(jen.Map(jen.String()).String().Values(jen.Dict{
			jen.Qual(pkgDialect, "Postgres"): jen.Lit("date"),
		}))
	case metamodel.TypeDateTime:
		c = jen.Qual(pkgField, "Time").Call(jen.Lit(n))
	case metamodel.TypeEnum:
		var keys []jen.Code
		if fd.EnumRef != nil {
			for _, v := range fd.EnumRef.Values {
				keys = append(keys, jen.Lit(v.Key))
			}
		}
		c = jen.Qual(pkgField, "Enum").Call(jen.Lit(n)).Dot("Values").Call(keys...)
	case metamodel.TypeJSON:
		c = jen.Qual(pkgField, "JSON").Call(jen.Lit(n), jen.Qual(pkgJSON, "RawMessage").Values())
	case metamodel.TypeFile, metamodel.TypeImage:
		// The reference to the uploaded file (platform/attach.File) as JSON text; GraphQL reads it as an
		// Attachment through a resolver and writes it as that text.
		c = jen.Qual(pkgField, "Text").Call(jen.Lit(n))
	default: // string, email, phone, url
		c = jen.Qual(pkgField, "String").Call(jen.Lit(n))
	}
	if fd.Unique {
		c = c.Dot("Unique").Call()
	}
	if def := entDefault(fd); def != nil {
		c = c.Dot("Default").Call(def)
	}
	if fd.Entity != nil && fd.Entity.Has(metamodel.TraitTimestamps) && fd.System {
		switch fd.Name {
		case "createdAt":
			c = c.Dot("Default").Call(jen.Qual(pkgTime, "Now")).Dot("Immutable").Call()
		case "updatedAt":
			c = c.Dot("Default").Call(jen.Qual(pkgTime, "Now")).Dot("UpdateDefault").Call(jen.Qual(pkgTime, "Now"))
		}
	}
	if !fd.Required && fd.Default == nil && !isTimestamp(fd) {
		c = c.Dot("Optional")
		if fd.Type == metamodel.TypeJSON {
			c = c.Call()
		} else {
			c = c.Call().Dot("Nillable").Call()
		}
	}
	if fd.Immutable {
		c = c.Dot("Immutable").Call()
	}
	if fd.Secret {
		c = c.Dot("Sensitive").Call()
	}
	if label := englishLabel(fd.Label); label != "" {
		c = c.Dot("Comment").Call(jen.Lit(label))
	}
	var ann []jen.Code
	switch {
	case fd.Secret:
		ann = append(ann, jen.Qual(pkgEntGQL, "Skip").Call(jen.Qual(pkgEntGQL, "SkipAll")))
	case fd.System && fd.Name == "version":
		// The version a client read goes back in its update, so a stale one is detected (trait versioned).
		ann = append(ann, jen.Qual(pkgEntGQL, "Skip").Call(jen.Qual(pkgEntGQL, "SkipMutationCreateInput")))
	case systemSet(fd):
		ann = append(ann, jen.Qual(pkgEntGQL, "Skip").Call(
			jen.Qual(pkgEntGQL, "SkipMutationCreateInput"), jen.Qual(pkgEntGQL, "SkipMutationUpdateInput")))
	}
	if fd.Type.Attachment() {
		// Read as the Attachment type of crm.graphqls (with its download URL); no predicates or order.
		ann = append(ann, jen.Qual(pkgEntGQL, "Skip").Call(jen.Qual(pkgEntGQL, "SkipType"), jen.Qual(pkgEntGQL, "SkipWhereInput")))
	} else if fd.Type == metamodel.TypeJSON {
		ann = append(ann, jen.Qual(pkgEntGQL, "Type").Call(jen.Lit("JSON")))
		// A JSON document has no order and no where predicates in entgql.
		ann = append(ann, jen.Qual(pkgEntGQL, "Skip").Call(jen.Qual(pkgEntGQL, "SkipWhereInput")))
	} else if !fd.Secret {
		ann = append(ann, jen.Qual(pkgEntGQL, "OrderField").Call(jen.Lit(strings.ToUpper(fd.Column()))))
	}
	if guarded {
		ann = append(ann, guard.Clone())
	}
	if searched(fd) {
		ann = append(ann, jen.Qual(pkgDatabase, "Searched").Values(jen.Dict{jen.Id("Bigrams"): jen.True()}))
	}
	if len(ann) > 0 {
		c = c.Dot("Annotations").Call(ann...)
	}
	return c
}

// searched reports whether fd is one of its entity's TextSearchFields: its ContainsFold predicate is
// database.ContainsFold, served on Postgres by the bigram index its migration creates.
func searched(fd *metamodel.Field) bool {
	if fd.Entity == nil {
		return false
	}
	for _, f := range fd.Entity.TextSearchFields() {
		if f == fd {
			return true
		}
	}
	return false
}

// systemSet reports whether only the system may set the field, so it is left out of GraphQL inputs.
func systemSet(fd *metamodel.Field) bool {
	return fd.System || fd.Readonly || fd.AutoNumber != "" || fd.Computed.Src != ""
}

func isTimestamp(fd *metamodel.Field) bool {
	return fd.System && (fd.Name == "createdAt" || fd.Name == "updatedAt")
}

// entDefault renders a static default value in the field's Go type, or nil.
func entDefault(fd *metamodel.Field) jen.Code {
	if fd.Default == nil {
		return nil
	}
	switch fd.Type {
	case metamodel.TypeInt:
		switch v := fd.Default.(type) {
		case int64:
			return jen.Lit(int(v))
		case float64:
			return jen.Lit(int(v))
		}
	case metamodel.TypeFloat, metamodel.TypeDecimal:
		switch v := fd.Default.(type) {
		case int64:
			return jen.Lit(float64(v))
		case float64:
			return jen.Lit(v)
		}
	case metamodel.TypeBool:
		if v, ok := fd.Default.(bool); ok {
			return jen.Lit(v)
		}
	case metamodel.TypeDate, metamodel.TypeDateTime, metamodel.TypeJSON:
		return nil // applied by the platform hook: a constant time or document is not an ent default
	default:
		if v, ok := fd.Default.(string); ok {
			return jen.Lit(v)
		}
	}
	return nil
}

// fkField emits the edge field holding a belongsTo relation's foreign key; a guarded one's predicates are
// checked per reader.
func fkField(r *metamodel.Relation, guarded bool) jen.Code {
	c := jen.Qual(pkgField, "Int").Call(jen.Lit(r.FKColumn()))
	if !r.Required {
		c = c.Dot("Optional").Call().Dot("Nillable").Call()
	}
	if guarded {
		c = c.Dot("Annotations").Call(guard.Clone())
	}
	// The owner relation is an input too: the platform stamps the creator when it is not given, and
	// those who may update a record may hand it over.
	return c
}

// entEdge emits one end of a relation. The declaring side of a belongsTo is an inverse (edge.From) bound
// to the foreign-key field; the target side is the edge.To that owns the foreign key's on-delete action.
func entEdge(r *metamodel.Relation) jen.Code {
	target := jen.Id(r.To).Dot("Type")
	var c *jen.Statement
	var ann []jen.Code
	switch r.Kind {
	case metamodel.BelongsTo:
		c = jen.Qual(pkgEdge, "From").Call(jen.Lit(r.EntName()), target).
			Dot("Ref").Call(jen.Lit(r.InverseRel.EntName())).
			Dot("Field").Call(jen.Lit(r.FKColumn())).
			Dot("Unique").Call()
		if r.Required {
			c = c.Dot("Required").Call()
		}
	case metamodel.HasMany, metamodel.HasOne:
		c = jen.Qual(pkgEdge, "To").Call(jen.Lit(r.EntName()), target)
		if r.Kind == metamodel.HasOne {
			c = c.Dot("Unique").Call()
		} else {
			ann = append(ann, jen.Qual(pkgEntGQL, "RelayConnection").Call())
		}
		ann = append(ann, jen.Qual(pkgEntSQL, "OnDelete").Call(jen.Qual(pkgEntSQL, onDelete(r.InverseRel.OnDelete))))
		// The foreign key is set from the belongsTo side; listing children in the parent's inputs would
		// let one mutation move rows between parents behind their own checks.
		ann = append(ann, jen.Qual(pkgEntGQL, "Skip").Call(
			jen.Qual(pkgEntGQL, "SkipMutationCreateInput"), jen.Qual(pkgEntGQL, "SkipMutationUpdateInput")))
	case metamodel.ManyToMany:
		if r.Derived {
			c = jen.Qual(pkgEdge, "From").Call(jen.Lit(r.EntName()), target).
				Dot("Ref").Call(jen.Lit(r.InverseRel.EntName()))
		} else {
			from, to := r.JoinColumns()
			key := []jen.Code{jen.Qual(pkgEdge, "Table").Call(jen.Lit(r.JoinTable())),
				jen.Qual(pkgEdge, "Columns").Call(jen.Lit(from), jen.Lit(to))}
			if selfManyToMany(r) {
				// Two separate edges of one type over one table would make ent treat "friends" as
				// symmetric (each link stored both ways); declared as one To/From pair it is directed.
				// The pair takes ent's default storage, which is what JoinTable and JoinColumns name
				// (a storage key on the pair is refused by ent as defined twice).
				c = jen.Qual(pkgEdge, "To").Call(jen.Lit(r.EntName()), target)
				if label := englishLabel(r.Label); label != "" {
					c = c.Dot("Comment").Call(jen.Lit(label))
				}
				c = c.Dot("Annotations").Call(jen.Qual(pkgEntGQL, "RelayConnection").Call()).
					Dot("From").Call(jen.Lit(r.InverseRel.EntName()))
				return c.Dot("Annotations").Call(jen.Qual(pkgEntGQL, "RelayConnection").Call())
			}
			c = jen.Qual(pkgEdge, "To").Call(jen.Lit(r.EntName()), target).Dot("StorageKey").Call(key...)
		}
		ann = append(ann, jen.Qual(pkgEntGQL, "RelayConnection").Call())
	}
	if label := englishLabel(r.Label); label != "" {
		c = c.Dot("Comment").Call(jen.Lit(label))
	}
	if len(ann) > 0 {
		c = c.Dot("Annotations").Call(ann...)
	}
	return c
}

// selfManyToMany reports whether r is a many-to-many relation of an entity with itself.
func selfManyToMany(r *metamodel.Relation) bool {
	return r.Kind == metamodel.ManyToMany && r.To == r.Entity.Name
}

func onDelete(action string) string {
	switch action {
	case metamodel.OnDeleteCascade:
		return "Cascade"
	case metamodel.OnDeleteSetNull:
		return "SetNull"
	}
	return "Restrict"
}

// entIndexes emits the model's indexes and single-field `index: true` flags, an index on every foreign
// key that no other index starts with (nested lists, such as a customer's opportunities, relation filters
// and restrict checks look rows up by it, and neither database indexes foreign keys by itself), and on
// the fields every screen reads by (readIndexed).
func entIndexes(e *metamodel.Entity) []jen.Code {
	var out []jen.Code
	led := map[string]bool{} // columns some index starts with
	for _, ix := range e.Indexes {
		if len(ix.Fields) > 0 {
			if r := e.Relation(ix.Fields[0]); r != nil {
				led[r.FKColumn()] = true
			} else {
				led[metamodel.Snake(ix.Fields[0])] = true
			}
		}
	}
	for _, r := range e.Relations {
		if r.Kind == metamodel.BelongsTo && !r.Unique && !led[r.FKColumn()] {
			out = append(out, jen.Qual(pkgIndex, "Fields").Call(jen.Lit(r.FKColumn())))
		}
	}
	for _, fd := range e.Fields {
		if (fd.Index || readIndexed(e, fd) && !led[fd.EntName()]) && !fd.Unique {
			out = append(out, jen.Qual(pkgIndex, "Fields").Call(jen.Lit(fd.EntName())))
		}
	}
	for _, ix := range e.Indexes {
		var cols []jen.Code
		for _, n := range ix.Fields {
			if r := e.Relation(n); r != nil {
				cols = append(cols, jen.Lit(r.FKColumn()))
			} else {
				cols = append(cols, jen.Lit(metamodel.Snake(n)))
			}
		}
		c := jen.Qual(pkgIndex, "Fields").Call(cols...)
		if ix.Unique {
			c = c.Dot("Unique").Call()
		}
		out = append(out, c)
	}
	return out
}

// readIndexed reports whether field f of e is indexed for the reads every screen makes, beyond what the
// model asks: the list's default order (views.list.sort), with which every list of the entity opens (a
// million patients sorted whole by createdAt for each first page took 173 ms on Postgres; with the index
// the first rows are read in order), and a soft-deleted entity's deletedAt, by which the records of a
// deleted parent are left out of every read of its children (NOT IN the few deleted ids: without the
// index, the whole parent table is read for each such query, 80–200 ms at a million rows).
func readIndexed(e *metamodel.Entity, f *metamodel.Field) bool {
	if e.Has(metamodel.TraitSoftDelete) && f.System && f.Name == "deletedAt" {
		return true
	}
	v := e.Views
	return v != nil && v.List != nil && strings.TrimPrefix(v.List.Sort, "-") == f.Name && !virtual(f)
}

// englishLabel is the label used for schema comments (and so GraphQL descriptions).
func englishLabel(t metamodel.Text) string {
	if s := t["en"]; s != "" {
		return s
	}
	return t[""]
}

// labelComment renders a Text for a doc comment: "患者 / Patient".
func labelComment(t metamodel.Text) string {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, t[k])
	}
	if len(parts) == 0 {
		return "no label"
	}
	return strings.Join(parts, " / ")
}

// list renders a composite literal of typ with one element per line.
func list(typ *jen.Statement, items []jen.Code) *jen.Statement {
	return typ.Custom(jen.Options{Open: "{", Close: "}", Separator: ",", Multi: true}, items...)
}
