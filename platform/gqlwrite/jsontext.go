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
// the first are (columns.go). Their records are the same slots (recordShape, asText), each value the SQL
// of its JSON text.

// maxConcat bounds the arguments of one concat(): Postgres takes at most 100.
const maxConcat = 90

// textObject is the JSON text of an object of slots (asText: literals and slotText), in their order,
// built by one concat() of the known text between the values ('{"a":', a, ',"b":', b, '}'), which copies
// each piece once where a chain of || copies the growing text at each step. Objects of many fields nest
// concat()s.
func textObject(slots []slot) sql.Querier {
	var args []sql.Querier
	var text strings.Builder
	text.WriteByte('{')
	flush := func() {
		if text.Len() > 0 {
			args = append(args, sql.Raw("'"+text.String()+"'"))
			text.Reset()
		}
	}
	for i, s := range slots {
		if i > 0 {
			text.WriteByte(',')
		}
		text.WriteString(s.key)
		switch {
		case s.kind == slotLiteral:
			text.WriteString(s.lit)
		case s.quoted:
			text.WriteByte('"')
			flush()
			args = append(args, s.text)
			text.WriteByte('"')
		default:
			flush()
			args = append(args, s.text)
		}
	}
	text.WriteByte('}')
	flush()
	return concat(args)
}

// textSlot is a slot whose JSON text is the SQL text, which answers no NULL.
func textSlot(text sql.Querier) slot { return slot{kind: slotText, col: -1, text: text} }

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
	obj, ok := c.recordShape(sel, r.To, alias, asText)
	if !ok {
		return nil, false
	}
	s.Where(sql.ColumnsEQ(s.C("id"), column(table, r.FKColumn()))).SelectExpr(textObject(obj))
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
	edge, ok := c.edgeShape(edges.Selections, r.To, m.alias, asText)
	if !ok {
		return nil, false
	}
	var slots []slot
	for _, cf := range m.conns {
		key := `"` + cf.Alias + `":`
		switch cf.Name {
		case "__typename":
			slots = append(slots, literalSlot(cf.Alias, `"`+r.To+`Connection"`))
			continue
		case "totalCount":
			count := textSlot(sql.ExprFunc(func(b *sql.Builder) {
				b.Wrap(func(b *sql.Builder) { b.Join(m.count) })
				b.WriteString("::text")
			}))
			count.key = key
			slots = append(slots, count)
			continue
		}
		list := textSlot(sql.ExprFunc(func(b *sql.Builder) {
			b.WriteString("coalesce((SELECT '[' || string_agg(")
			b.Join(textObject(edge))
			b.WriteString(", ',' ORDER BY " + strings.Join(m.orderBy, ", ") + ") || ']' FROM ")
			b.Wrap(func(b *sql.Builder) { b.Join(m.rows) })
			b.WriteString(" AS " + m.alias + "), '[]')")
		}))
		list.key = key
		slots = append(slots, list)
	}
	return textObject(slots), true
}

// textValue is the SQL of the JSON text of a stored field as gqlgen's marshalers write it, and false for a
// type it does not render (kindOf).
func textValue(f *metamodel.Field, col string) (sql.Querier, bool) {
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
