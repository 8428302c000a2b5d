package metamodel

import (
	"strings"
	"unicode"
)

// How model names map onto ent, SQL and GraphQL. The mapping is mechanical and lives here, in one place,
// so that the generator (which emits ent schemas) and the platform (which reads rows, builds filters and
// SQL for reports at run time) always agree.

// Snake turns lowerCamel or Pascal into snake_case: "birthDate" → "birth_date", "FollowUp" → "follow_up",
// "HTTPServer" → "http_server".
func Snake(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]) ||
				(i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))) {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Camel turns snake_case into lowerCamel the way entgql names GraphQL fields: "birth_date" → "birthDate".
func Camel(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		parts[i] = Pascal(parts[i])
	}
	return strings.Join(parts, "")
}

// Pascal upper-cases the first letter: "birthDate" → "BirthDate".
func Pascal(s string) string {
	if s == "" {
		return s
	}
	rs := []rune(s)
	rs[0] = unicode.ToUpper(rs[0])
	return string(rs)
}

// LowerFirst lower-cases the first letter: "FollowUp" → "followUp".
func LowerFirst(s string) string {
	if s == "" {
		return s
	}
	rs := []rune(s)
	rs[0] = unicode.ToLower(rs[0])
	return string(rs)
}

// Plural is a small English pluralizer for identifiers: "Category" → "Categories", "Address" →
// "Addresses", "FollowUp" → "FollowUps". It only needs to be deterministic and readable.
func Plural(s string) string {
	lower := strings.ToLower(s)
	switch {
	case strings.HasSuffix(lower, "y") && len(s) > 1 && !strings.ContainsRune("aeiou", rune(lower[len(lower)-2])):
		return s[:len(s)-1] + "ies"
	case strings.HasSuffix(lower, "s"), strings.HasSuffix(lower, "x"), strings.HasSuffix(lower, "z"),
		strings.HasSuffix(lower, "ch"), strings.HasSuffix(lower, "sh"):
		return s + "es"
	}
	return s + "s"
}

// NameRoundTrips reports whether a lowerCamel name survives Snake then Camel unchanged. Names that do not
// ("isVIP" → "is_vip" → "isVip") would get a different GraphQL name than the model's, so validation
// rejects them.
func NameRoundTrips(name string) bool { return Camel(Snake(name)) == name }

// EntName is the ent name of a field, snake_case as ent expects ("tax_id"). entgql derives the GraphQL
// name from it, upper-casing later initialisms ("taxID"); see GraphQLName.
func (f *Field) EntName() string { return Snake(f.Name) }

// Column is the SQL column of a field.
func (f *Field) Column() string { return Snake(f.Name) }

// EntName is the ent edge name of a relation end (snake_case, see Field.EntName).
func (r *Relation) EntName() string { return Snake(r.Name) }

// DeletedQueryField is the query listing a soft-delete entity's deleted records ("deletedComplaints").
func (e *Entity) DeletedQueryField() string { return "deleted" + Pascal(e.QueryField()) }

// FKField is the model-level name of the foreign-key edge field of a belongsTo relation ("department" →
// "departmentID", GraphQL field "departmentID", ent field "department_id", column "department_id").
func (r *Relation) FKField() string { return r.Name + "ID" }

// FKColumn is the SQL column, and the ent field name, holding a belongsTo relation's foreign key.
func (r *Relation) FKColumn() string { return Snake(r.Name) + "_id" }

// JoinTable is the SQL table of a many-to-many relation, named from its declaring side.
func (r *Relation) JoinTable() string {
	owner := r
	if r.Derived {
		owner = r.InverseRel
	}
	return Snake(owner.Entity.Name) + "_" + Snake(owner.Name)
}

// JoinColumns are the columns of JoinTable: the declaring side's id, then the target's id.
func (r *Relation) JoinColumns() (string, string) {
	owner := r
	if r.Derived {
		owner = r.InverseRel
	}
	from, to := Snake(owner.Entity.Name)+"_id", Snake(owner.Target.Name)+"_id"
	if from == to { // self-reference: ent's default names the second column after the inverse end
		to = Snake(owner.InverseRel.Name) + "_id"
	}
	return from, to
}

// Table is the SQL table of an entity: ent's default, the plural of the snake name ("follow_ups").
func (e *Entity) Table() string { return Snake(Plural(e.Name)) }

// GoName is the Go type name of the entity in the generated ent package.
func (e *Entity) GoName() string { return e.Name }

// Package is the generated ent sub-package of the entity ("FollowUp" → "followup").
func (e *Entity) Package() string { return strings.ToLower(e.Name) }

// QueryField is the GraphQL connection field on Query listing the entity: "followUps".
func (e *Entity) QueryField() string { return LowerFirst(Plural(e.Name)) }

// CountField is the GraphQL query field that counts what QueryField lists ("patientsCount").
func (e *Entity) CountField() string { return e.QueryField() + "Count" }

// entAcronyms are the initialisms ent upper-cases when it derives Go and GraphQL names from snake_case
// (entc/gen's ruleset; TestGraphQLNamesMatchEnt in package generator keeps the two lists in step).
var entAcronyms = map[string]bool{
	"ACL": true, "API": true, "ASCII": true, "AWS": true, "CPU": true, "CSS": true, "DNS": true, "EOF": true,
	"GB": true, "GUID": true, "HCL": true, "HTML": true, "HTTP": true, "HTTPS": true, "ID": true, "IP": true,
	"JSON": true, "KB": true, "LHS": true, "MAC": true, "MB": true, "QPS": true, "RAM": true, "RHS": true,
	"RPC": true, "SLA": true, "SMTP": true, "SQL": true, "SSH": true, "SSO": true, "TCP": true, "TLS": true,
	"TTL": true, "UDP": true, "UI": true, "UID": true, "URI": true, "URL": true, "UTF8": true, "UUID": true,
	"VM": true, "XML": true, "XMPP": true, "XSRF": true, "XSS": true,
}

// graphQLName is how entgql names a snake_case ent name in GraphQL: the first word lower-cased, later
// words capitalized, initialisms upper-cased ("tax_id" → "taxID", "website_url" → "websiteURL").
func graphQLName(snake string) string {
	words := strings.FieldsFunc(snake, func(r rune) bool { return r == '_' })
	if len(words) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(strings.ToLower(words[0]))
	for _, w := range words[1:] {
		if up := strings.ToUpper(w); entAcronyms[up] {
			b.WriteString(up)
		} else {
			b.WriteString(Pascal(w))
		}
	}
	return b.String()
}

// GraphQLName is the field's name in the GraphQL API. It equals the model's name except where a later
// word is an initialism written in lower case: "taxId" is exposed as "taxID", as Go and entgql name it.
func (f *Field) GraphQLName() string { return graphQLName(f.EntName()) }

// GraphQLName is the relation's name in the GraphQL API (see Field.GraphQLName).
func (r *Relation) GraphQLName() string { return graphQLName(r.EntName()) }

// GraphQLFKName is the GraphQL name of a belongsTo relation's foreign-key field ("regionID").
func (r *Relation) GraphQLFKName() string { return graphQLName(r.FKColumn()) }

// UploadKey names file or image field f of entity e in the API's enum AttachmentField, which an API
// client's uploadFile mutation takes as the field the file is for ("Patient_photo"). Entity names have
// no underscore, so the key reads back unambiguously.
func UploadKey(e *Entity, f *Field) string { return e.Name + "_" + f.GraphQLName() }
