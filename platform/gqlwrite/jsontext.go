package gqlwrite

import (
	"fmt"
	"strings"

	"entgo.io/ent/dialect/sql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/crmgen/crmgen/metamodel"
)

// The parts of a compiled list below its first nested connection — a second nested connection, the
// connections and related records of nested rows — are JSON text the statement writes itself, in a
// column of its own (kindJSON), since their rows cannot be spread over the statement's rows as those of
// the first are (columns.go).

// part is one key of an object and its JSON text: text known in advance (a type name, null), or the SQL
// of it, which answers no NULL (a SQL NULL is the JSON null 'null'); quoted puts SQL whose text needs no
// escaping (an id) between quotes.
type part struct {
	key    string
	text   string
	sql    sql.Querier
	quoted bool
}

// maxConcat bounds the arguments of one concat(): Postgres takes at most 100.
const maxConcat = 90

// object is the JSON text of parts, in their order, built by one concat() of the known text between the
// values ('{"a":', a, ',"b":', b, '}'), which copies each piece once where a chain of || copies the
// growing text at each step. Objects of many fields nest concat()s.
func object(parts []part) sql.Querier {
	var args []sql.Querier
	var text strings.Builder
	text.WriteByte('{')
	flush := func() {
		if text.Len() > 0 {
			args = append(args, sql.Raw("'"+text.String()+"'"))
			text.Reset()
		}
	}
	for i, p := range parts {
		if i > 0 {
			text.WriteByte(',')
		}
		text.WriteString(`"` + p.key + `":`)
		switch {
		case p.sql == nil:
			text.WriteString(p.text)
		case p.quoted:
			text.WriteByte('"')
			flush()
			args = append(args, p.sql)
			text.WriteByte('"')
		default:
			flush()
			args = append(args, p.sql)
		}
	}
	text.WriteByte('}')
	flush()
	return concat(args)
}

// concat is the SQL concatenating args, none of them NULL.
func concat(args []sql.Querier) sql.Querier {
	if len(args) == 1 {
		return args[0]
	}
	for len(args) > maxConcat {
		var groups []sql.Querier
		for len(args) > 0 {
			n := min(len(args), maxConcat)
			groups = append(groups, concat(args[:n]))
			args = args[n:]
		}
		args = groups
	}
	return sql.ExprFunc(func(b *sql.Builder) {
		b.WriteString("concat(")
		for i, a := range args {
			if i > 0 {
				b.WriteString(", ")
			}
			b.Join(a)
		}
		b.WriteString(")")
	})
}

// literal is a part whose JSON text is known in advance.
func literal(key, json string) part { return part{key: key, text: json} }

// edge is the JSON text of one edge of entity whose row is table's.
func (c *compiler) edge(sel ast.SelectionSet, entity, table string) (sql.Querier, bool) {
	var parts []part
	for _, f := range c.fields(sel, entity+"Edge") {
		if !name.MatchString(f.Alias) {
			return nil, false
		}
		switch f.Name {
		case "__typename":
			parts = append(parts, literal(f.Alias, `"`+entity+`Edge"`))
		case "node":
			node, ok := c.record(f.Selections, entity, table)
			if !ok {
				return nil, false
			}
			parts = append(parts, part{key: f.Alias, sql: node})
		default:
			return nil, false // a cursor
		}
	}
	return object(parts), true
}

// record is the JSON text of the record of entity whose row is table's, as Connection's record writes
// it.
func (c *compiler) record(sel ast.SelectionSet, entity, table string) (sql.Querier, bool) {
	e := c.rt.Model.Entity(entity)
	a := c.access.of(c.ctx, c.rt, entity)
	var parts []part
	for _, f := range c.fields(sel, entity, "Node") {
		if !name.MatchString(f.Alias) {
			return nil, false
		}
		if f.Name == "__typename" {
			parts = append(parts, literal(f.Alias, `"`+entity+`"`))
			continue
		}
		if f.Name == "id" {
			parts = append(parts, part{key: f.Alias, sql: sql.Raw(column(table, "id")), quoted: true})
			continue
		}
		member, ok := c.rt.Member(entity, f.Name)
		if !ok {
			return nil, false
		}
		if !a.Shows(member) || !a.Lists(member) {
			parts = append(parts, literal(f.Alias, "null"))
			continue
		}
		v, ok := c.member(f, e, member, table)
		if !ok {
			return nil, false
		}
		if where := c.rt.ShownWhere(c.ctx, entity, member); where != nil {
			v = orNullText(c.shown(e, table, where, v))
		}
		parts = append(parts, part{key: f.Alias, sql: v})
	}
	return object(parts), true
}

// member is the JSON text of the field f of table's row, a record of e, which answers member.
func (c *compiler) member(f graphql.CollectedField, e *metamodel.Entity, member, table string) (sql.Querier, bool) {
	if fd := e.Field(member); fd != nil {
		if len(f.Arguments) > 0 || f.Name != member {
			return nil, false
		}
		return value(fd, column(table, fd.Column()))
	}
	r := e.Relation(member)
	switch {
	case r == nil:
		return nil, false
	case r.Kind == metamodel.BelongsTo && f.Name == r.GraphQLFKName():
		return c.key(r, table)
	case f.Name != r.GraphQLName():
		return nil, false
	case r.Kind == metamodel.BelongsTo && len(f.Arguments) == 0:
		return c.related(f.Selections, r, table)
	case r.Kind == metamodel.HasMany:
		return c.nested(f, r, table)
	}
	return nil, false // many-to-many, has-one
}

// key is the JSON text of the foreign key of a belongsTo relation of table's row: the related row's id,
// null when there is none or the reader may not read it (KeyShown).
func (c *compiler) key(r *metamodel.Relation, table string) (sql.Querier, bool) {
	s, alias, err := c.keyRows(r, table)
	if err != nil {
		return nil, false
	}
	s.SelectExpr(sql.Raw(`'"' || ` + column(alias, "id") + ` || '"'`))
	return orNull(s), true
}

// orNull is the JSON text the subquery s answers, null when it answers no row.
func orNull(s *sql.Selector) sql.Querier {
	return orNullText(sql.ExprFunc(func(b *sql.Builder) { b.Wrap(func(b *sql.Builder) { b.Join(s) }) }))
}

// orNullText is the JSON text v, null where v is NULL.
func orNullText(v sql.Querier) sql.Querier {
	return sql.ExprFunc(func(b *sql.Builder) {
		b.WriteString("coalesce(")
		b.Join(v)
		b.WriteString(", 'null')")
	})
}

// related is the JSON text of the record a belongsTo relation of table's row names, null when there is
// none or the reader may not read it.
func (c *compiler) related(sel ast.SelectionSet, r *metamodel.Relation, table string) (sql.Querier, bool) {
	s, alias, err := c.rows(r.To)
	if err != nil {
		return nil, false
	}
	obj, ok := c.record(sel, r.To, alias)
	if !ok {
		return nil, false
	}
	s.Where(sql.ColumnsEQ(s.C("id"), column(table, r.FKColumn()))).SelectExpr(obj)
	return orNull(s), true
}

// nested is the JSON text of a hasMany relation's connection on table's row: its first rows the reader
// may read, in the order asked, then by id.
func (c *compiler) nested(f graphql.CollectedField, r *metamodel.Relation, table string) (sql.Querier, bool) {
	m, ok := c.many(f, r, table)
	if !ok {
		return nil, false
	}
	edges := m.edges
	if edges == nil {
		edges = &graphql.CollectedField{}
	}
	// The rows are chosen in m.rows; the outer query reads them as a table of the same name, and
	// aggregates their edges in the same order.
	edge, ok := c.edge(edges.Selections, r.To, m.alias)
	if !ok {
		return nil, false
	}
	var parts []part
	for _, cf := range m.conns {
		switch cf.Name {
		case "__typename":
			parts = append(parts, literal(cf.Alias, `"`+r.To+`Connection"`))
			continue
		case "totalCount":
			parts = append(parts, part{key: cf.Alias, sql: sql.ExprFunc(func(b *sql.Builder) {
				b.Wrap(func(b *sql.Builder) { b.Join(m.count) })
				b.WriteString("::text")
			})})
			continue
		}
		list := sql.ExprFunc(func(b *sql.Builder) {
			b.WriteString("coalesce((SELECT '[' || string_agg(")
			b.Join(edge)
			b.WriteString(", ',' ORDER BY " + strings.Join(m.orderBy, ", ") + ") || ']' FROM ")
			b.Wrap(func(b *sql.Builder) { b.Join(m.rows) })
			b.WriteString(" AS " + m.alias + "), '[]')")
		})
		parts = append(parts, part{key: cf.Alias, sql: list})
	}
	return object(parts), true
}

// value is the SQL of the JSON text of a stored field as gqlgen's marshalers write it, and false for a
// type it does not render (kindOf).
func value(f *metamodel.Field, col string) (sql.Querier, bool) {
	k, ok := kindOf(f)
	if !ok {
		return nil, false
	}
	var expr string
	switch k {
	case kindText:
		expr = "to_json(" + col + ")::text"
	case kindInt, kindBool:
		expr = col + "::text" // 42, true: JSON's text already
	case kindFloat:
		// The API answers floats and decimals as a float64 in Go's shortest form; float8's output is the
		// shortest text that reads back as the same float64 too, and the same text from 1e-4 to 1e15
		// (beyond, it takes an exponent where Go does not: the same JSON number). NaN and the
		// infinities, which JSON has not, are null, as Go writes them.
		expr = "nullif(nullif(nullif(" + col + "::float8, 'NaN'), 'Infinity'), '-Infinity')::text"
	case kindTime:
		// RFC 3339 in UTC, the fraction's trailing zeros trimmed, as Go writes a time: JSON's text of the
		// UTC wall time ("2024-05-05T08:30:00.5"), and the zone.
		expr = `rtrim(to_json(` + col + ` AT TIME ZONE 'UTC')::text, '"') || 'Z"'`
	default:
		return nil, false
	}
	return sql.Raw(fmt.Sprintf("coalesce(%s, 'null')", expr)), true
}
