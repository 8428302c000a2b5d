package gqlwrite

import (
	"strings"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/crmgen/crmgen/metamodel"
)

// A compiled list's statement returns plain values: a row per row of the list, or, when a nested
// connection's rows are spread over the statement's rows (a LATERAL join), a row per nested row, the
// list's values repeated in each. Its response is a tree of slots, each written from a column of the
// current row. Postgres spends as much on writing JSON text as on finding the rows (to_json of each
// string, a time's format, concatenation); written in Go from binary values, the same list costs the
// database what the hand-written baseline's two statements cost (BENCHMARKS.md, "Where the API's time
// goes").

// kind is how a column's value is written.
type kind uint8

const (
	kindText  kind = iota // a string, quoted
	kindInt               // a number
	kindID                // an id: a number, quoted
	kindBool              // true, false
	kindFloat             // a float64 as gqlgen writes it; NaN and the infinities null
	kindTime              // RFC 3339, as gqlgen writes a time.Time
	kindJSON              // JSON text the statement wrote, as it is
)

// kindOf is how a stored field's value is written, and false for a type not compiled (dates, JSON,
// files, computed values).
func kindOf(f *metamodel.Field) (kind, bool) {
	if f.Computed.Src != "" && !f.Stored {
		return 0, false
	}
	switch f.Type {
	case metamodel.TypeString, metamodel.TypeText, metamodel.TypeEmail, metamodel.TypePhone, metamodel.TypeURL,
		metamodel.TypeEnum:
		return kindText, true
	case metamodel.TypeInt:
		return kindInt, true
	case metamodel.TypeBool:
		return kindBool, true
	case metamodel.TypeFloat, metamodel.TypeDecimal:
		return kindFloat, true // the API answers both as a float64
	case metamodel.TypeDateTime:
		return kindTime, true
	}
	return 0, false
}

// stored is the column of a stored value, cast to the type its kind is read as.
func stored(k kind, col string) string {
	switch k {
	case kindText:
		return col + "::text"
	case kindInt:
		return col + "::int8"
	case kindFloat:
		return col + "::float8"
	}
	return col
}

// slotKind tells what a slot writes.
type slotKind uint8

const (
	slotLiteral slotKind = iota // JSON known in advance: a type name, null
	slotValue                   // the value of col
	slotObject                  // an object of slots, null where col (when there is one) is NULL
	slotRows                    // an array: the object of slots of each row of the group whose col is not NULL
	slotText                    // asText: JSON text the SQL text writes (quoted: between quotes)
	slotWritten                 // an array whose elements are written already (a list's edges)
)

// slot is one key of an object of the response and what its value is written from.
type slot struct {
	key     string // "alias": — GraphQL names, which need no escaping
	kind    slotKind
	lit     string
	col     int // -1: none
	slots   []slot
	text    sql.Querier
	quoted  bool
	written []byte
}

// mode is how a record's values come back: asColumns, as columns of the statement's rows, or asText, as
// the JSON text the statement writes (a record inside a connection written as text, jsontext.go).
type mode bool

const (
	asColumns mode = false
	asText    mode = true
)

func literalSlot(alias, json string) slot {
	return slot{key: `"` + alias + `":`, kind: slotLiteral, lit: json, col: -1}
}

// column adds expr to the statement's columns, written as k, and returns its index.
func (c *compiler) column(expr sql.Querier, k kind) int {
	c.cols = append(c.cols, expr)
	c.kinds = append(c.kinds, k)
	return len(c.cols) - 1
}

// ref is column for a plain reference to a table's column (an id, a stored value): the statement reads
// it once however many slots write it.
func (c *compiler) ref(expr string, k kind) int {
	if i, ok := c.refs[expr]; ok && c.kinds[i] == k {
		return i
	}
	if c.refs == nil {
		c.refs = map[string]int{}
	}
	c.refs[expr] = c.column(sql.Raw(expr), k)
	return c.refs[expr]
}

// reference is SQL that reads a column of a table of the statement.
type reference string

func (r reference) Query() (string, []any) { return string(r), nil }

// join is a table (or, lateral, a subquery of each row) LEFT JOINed to the list's rows.
type join struct {
	table   string
	lateral *sql.Selector
	alias   string
	on      sql.Querier // nil: true
}

// statement is the list's SQL: its columns, from rows (the list's rows, ordered and limited) under
// alias, with the joins, in the list's order and then the nested rows'.
func (c *compiler) statement(rows *sql.Selector, alias string) (string, []any, error) {
	b := &sql.Builder{}
	b.SetDialect(dialect.Postgres)
	b.WriteString("SELECT ")
	b.JoinComma(c.cols...)
	b.WriteString(" FROM ")
	b.Wrap(func(b *sql.Builder) { b.Join(rows) })
	b.WriteString(" AS ")
	b.Ident(alias)
	for _, j := range c.joins {
		b.WriteString(" LEFT JOIN ")
		if j.lateral != nil {
			b.WriteString("LATERAL ")
			b.Wrap(func(b *sql.Builder) { b.Join(j.lateral) })
		} else {
			b.Ident(j.table)
		}
		b.WriteString(" AS ")
		b.Ident(j.alias)
		b.WriteString(" ON ")
		if j.on == nil {
			b.WriteString("true")
		} else {
			b.Join(j.on)
		}
	}
	b.WriteString(" ORDER BY " + strings.Join(c.orderBy, ", "))
	query, args := b.Query()
	if err := rows.Err(); err != nil {
		return "", nil, err
	}
	return query, args, b.Err()
}

// connection is the slots of a connection of entity selected by conns: totalCount from the column
// total, edges an object of edge per row whose column id is not NULL.
func connection(conns []graphql.CollectedField, entity string, total, id int, edge []slot) []slot {
	var slots []slot
	for _, f := range conns {
		key := `"` + f.Alias + `":`
		switch f.Name {
		case "__typename":
			slots = append(slots, literalSlot(f.Alias, `"`+entity+`Connection"`))
		case "totalCount":
			slots = append(slots, slot{key: key, kind: slotValue, col: total})
		case "edges":
			slots = append(slots, slot{key: key, kind: slotRows, col: id, slots: edge})
		}
	}
	return slots
}

// edgeShape is the slots of an edge of entity whose row is table's.
func (c *compiler) edgeShape(sel ast.SelectionSet, entity, table string, m mode) ([]slot, bool) {
	var slots []slot
	for _, f := range c.fields(sel, entity+"Edge") {
		if !name.MatchString(f.Alias) {
			return nil, false
		}
		switch f.Name {
		case "__typename":
			slots = append(slots, literalSlot(f.Alias, `"`+entity+`Edge"`))
		case "node":
			node, ok := c.recordShape(f.Selections, entity, table, m)
			if !ok {
				return nil, false
			}
			s := slot{kind: slotObject, col: -1, slots: node}
			if m == asText {
				s = textSlot(textObject(node))
			}
			s.key = `"` + f.Alias + `":`
			slots = append(slots, s)
		default:
			return nil, false // a cursor
		}
	}
	return slots, true
}

// recordShape is the slots of the record of entity whose row is table's, as Connection's record writes
// it.
func (c *compiler) recordShape(sel ast.SelectionSet, entity, table string, m mode) ([]slot, bool) {
	e := c.rt.Model.Entity(entity)
	a := c.access.of(c.ctx, c.rt, entity)
	var slots []slot
	for _, f := range c.fields(sel, entity, "Node") {
		if !name.MatchString(f.Alias) {
			return nil, false
		}
		key := `"` + f.Alias + `":`
		if f.Name == "__typename" {
			slots = append(slots, literalSlot(f.Alias, `"`+entity+`"`))
			continue
		}
		if f.Name == "id" {
			if m == asText {
				slots = append(slots, slot{key: key, kind: slotText, col: -1, text: sql.Raw(column(table, "id")), quoted: true})
			} else {
				slots = append(slots, slot{key: key, kind: slotValue, col: c.ref(column(table, "id"), kindID)})
			}
			continue
		}
		member, ok := c.rt.Member(entity, f.Name)
		if !ok {
			return nil, false
		}
		if !a.Shows(member) || !a.Lists(member) {
			slots = append(slots, literalSlot(f.Alias, "null"))
			continue
		}
		s, ok := c.memberSlot(f, e, member, table, c.rt.ShownWhere(c.ctx, entity, member), m)
		if !ok {
			return nil, false
		}
		s.key = key
		slots = append(slots, s)
	}
	return slots, true
}

// memberSlot is the slot of the field f of table's row, a record of e, which answers member; where,
// when not nil, selects the rows it is shown on (ShownWhere).
func (c *compiler) memberSlot(f graphql.CollectedField, e *metamodel.Entity, member, table string,
	where func(*sql.Selector), m mode) (slot, bool) {
	// A field shown on some rows only is NULL on the others (JSON's null as text): its value, or the
	// column that tells whether its record is there.
	shownOn := func(v sql.Querier) sql.Querier {
		if where == nil {
			return v
		}
		return c.shown(e, table, where, v)
	}
	// value is the slot of a value: expr, written as k, or asText the SQL of its JSON text.
	value := func(expr sql.Querier, k kind) (slot, bool) {
		switch r, ok := expr.(reference); {
		case m == asText && where == nil:
			return textSlot(expr), true
		case m == asText:
			return textSlot(orNullText(shownOn(expr))), true
		case ok && where == nil:
			return slot{kind: slotValue, col: c.ref(string(r), k)}, true
		}
		return slot{kind: slotValue, col: c.column(shownOn(expr), k)}, true
	}
	if fd := e.Field(member); fd != nil {
		k, ok := kindOf(fd)
		if !ok || len(f.Arguments) > 0 || f.Name != member {
			return slot{}, false
		}
		if m == asText {
			text, _ := textValue(fd, column(table, fd.Column()))
			return value(text, k)
		}
		return value(reference(stored(k, column(table, fd.Column()))), k)
	}
	r := e.Relation(member)
	switch {
	case r == nil:
		return slot{}, false
	case r.Kind == metamodel.BelongsTo && f.Name == r.GraphQLFKName():
		if m == asText {
			text, ok := c.key(r, table)
			if !ok {
				return slot{}, false
			}
			return value(text, kindJSON)
		}
		s, alias, err := c.keyRows(r, table)
		if err != nil {
			return slot{}, false
		}
		s.SelectExpr(sql.Raw(column(alias, "id")))
		return value(sql.ExprFunc(func(b *sql.Builder) { b.Wrap(func(b *sql.Builder) { b.Join(s) }) }), kindID)
	case f.Name != r.GraphQLName():
		return slot{}, false
	case r.Kind == metamodel.BelongsTo && len(f.Arguments) == 0:
		if m == asText {
			text, ok := c.related(f.Selections, r, table)
			if !ok {
				return slot{}, false
			}
			return value(text, kindJSON)
		}
		return c.joined(f.Selections, r, table, shownOn)
	case r.Kind == metamodel.HasMany:
		if m == asColumns {
			if s, ok, spread := c.spread(f, r, table, where == nil); spread {
				return s, ok
			}
		}
		text, ok := c.nested(f, r, table)
		if !ok {
			return slot{}, false
		}
		return value(text, kindJSON)
	}
	return slot{}, false // many-to-many, has-one
}

// joined is the slot of the record a belongsTo relation of table's row names: its table is joined to the
// statement (LEFT JOIN on its id, the reader's read filter in the join's condition), which Postgres plans
// as a join rather than a subquery per row. A to-one relation adds no rows, so the list's LIMIT and
// count are its rows'. The record is null where the joined id is NULL: no record, or one the reader may
// not read.
func (c *compiler) joined(sel ast.SelectionSet, r *metamodel.Relation, table string, shownOn func(sql.Querier) sql.Querier) (slot, bool) {
	filter, alias, err := c.rows(r.To) // the read filter, for the join's condition
	if err != nil {
		return slot{}, false
	}
	on := sql.ColumnsEQ(column(alias, "id"), column(table, r.FKColumn()))
	if w := filter.P(); w != nil {
		on = sql.And(on, w)
	}
	// Joined before the related record's own relations, whose joins refer to it (a declined list
	// discards the statement).
	c.joins = append(c.joins, join{table: c.rt.Model.Entity(r.To).Table(), alias: alias, on: on})
	present := c.column(shownOn(sql.Raw(column(alias, "id"))), kindID)
	obj, ok := c.recordShape(sel, r.To, alias, asColumns)
	if !ok {
		return slot{}, false
	}
	return slot{kind: slotObject, col: present, slots: obj}, true
}

// spread answers a hasMany relation's connection on table's row from the statement's rows: its rows
// are LEFT JOINed LATERAL to the list's (one statement row per nested row, the list's values repeated;
// one with NULLs for a record without any), so their values come back as columns too. It does so for
// one connection of the list's rows only (two would multiply each other's rows), with edges, shown on
// every row; spread false leaves the connection to jsontext.go.
func (c *compiler) spread(f graphql.CollectedField, r *metamodel.Relation, table string, everywhere bool) (s slot, ok, spread bool) {
	if c.spreadRows || !everywhere {
		return slot{}, false, false
	}
	m, ok := c.many(f, r, table)
	if !ok {
		return slot{}, false, true
	}
	if m.edges == nil {
		return slot{}, false, false
	}
	c.spreadRows = true
	c.joins = append(c.joins, join{lateral: m.rows, alias: m.alias})
	c.orderBy = append(c.orderBy, m.orderBy...)
	id := c.ref(column(m.alias, "id"), kindID)
	total := -1
	if m.counted {
		total = c.column(sql.ExprFunc(func(b *sql.Builder) { b.Wrap(func(b *sql.Builder) { b.Join(m.count) }) }), kindInt)
	}
	edge, ok := c.edgeShape(m.edges.Selections, r.To, m.alias, asColumns)
	if !ok {
		return slot{}, false, true
	}
	return slot{kind: slotObject, col: -1, slots: connection(m.conns, r.To, total, id, edge)}, true, true
}
