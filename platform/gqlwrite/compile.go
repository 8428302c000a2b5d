package gqlwrite

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/enforce"
)

// A list query whose every selected field is a stored value, a to-one relation or a nested connection
// of such fields is answered on Postgres by one SQL statement that writes the response's JSON, as
// PostGraphile does: the rows of the list, each row's related record and its nested rows (first N, in
// their order) are read and rendered by the database, and the app copies the text out. Loading the
// same rows through ent and writing them (Connection) costs 3 statements and about four fifths of the
// request's CPU (BENCHMARKS.md, peers).
//
// What the reader may see is decided as on every other path, by platform/enforce, on what reaches the
// database: each table is read through its ReadFilter (the one definition of a readable row), so a list,
// a related record, a nested connection, its totalCount and a foreign key hold only rows the reader may
// read; the list's where and search predicates are the generated, guarded ones (their refusals fail the
// list); a field the reader may not list answers null, one shown on some rows only answers it on the
// rows ShownWhere selects; and the sort keys are the ones the reader may sort by. Anything else — a
// cursor or pageInfo, a date or JSON value, a computed value, a nested where, many-to-many, SQLite —
// leaves the list to Paginate and Connection, before any SQL runs.

// Compiled counts the lists answered by one SQL statement (exported at /metrics).
var Compiled atomic.Int64

// Page is what a list query asks of its rows.
type Page struct {
	First   *int
	Cursors bool // after, before or last: entgql's pager answers those
	Order   []Order
}

// Order is one key of a list's orderBy: the order field's GraphQL value (NAME, CREATED_AT) and its
// direction.
type Order struct {
	Field string
	Desc  bool
}

// Querier runs a statement in the request's connection or transaction (the generated ent client).
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*stdsql.Rows, error)
}

type keptKey struct{}

// kept holds the JSON of the lists an operation's resolvers answered, until the connection is written.
type kept struct {
	mu sync.Mutex
	m  map[any][]byte
}

// WithLists makes ctx, an operation's, able to carry compiled lists from their resolver to their
// writer (Connection). Lists are compiled only in such a context.
func WithLists(ctx context.Context) context.Context {
	return context.WithValue(ctx, keptKey{}, &kept{m: map[any][]byte{}})
}

// take returns and forgets the JSON kept for conn.
func take(ctx context.Context, conn any) ([]byte, bool) {
	k, _ := ctx.Value(keptKey{}).(*kept)
	if k == nil {
		return nil, false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	raw, ok := k.m[conn]
	if ok {
		delete(k.m, conn)
	}
	return raw, ok
}

// Compiles reports whether lists may be compiled in ctx: on Postgres, in an operation (WithLists),
// unless the direct path is off. The generated resolvers ask before building the list's predicates.
func Compiles(ctx context.Context) bool {
	if off, _ := ctx.Value(offCtxKey{}).(bool); off {
		return false
	}
	if ctx.Value(keptKey{}) == nil {
		return false
	}
	rt := enforce.FromContext(ctx)
	return rt != nil && rt.Dialect == dialect.Postgres
}

// List answers the list field being resolved in ctx, a connection of entity, with one statement run on
// db, and keeps its JSON for conn, the (empty) connection the resolver returns, which Connection then
// writes. preds are the list's own filters (search, where). It reports false, having run nothing, when
// the list is not one it compiles; an error is the list's answer (a refused filter).
func List(ctx context.Context, db Querier, conn any, entity string, page Page, preds ...func(*sql.Selector)) (bool, error) {
	if !Compiles(ctx) || page.Cursors || page.First == nil || *page.First < 0 {
		return false, nil
	}
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !graphql.HasOperationContext(ctx) {
		return false, nil
	}
	rt := enforce.FromContext(ctx)
	if rt.Model.Entity(entity) == nil {
		return false, nil
	}
	ctx, refused := enforce.WithRefusals(ctx)
	c := &compiler{ctx: ctx, oc: graphql.GetOperationContext(ctx), rt: rt, access: accesses{}}
	conns := c.fields(fc.Field.Selections, entity+"Connection")
	edges, counted, ok := c.edgesOf(conns)
	if !ok || edges == nil {
		return false, nil
	}
	s, table, err := c.rows(entity)
	if err != nil {
		return false, err
	}
	for _, p := range preds {
		p(s)
	}
	var count *sql.Selector // the same rows counted, for a page without rows
	if counted {
		count = s.Clone().Select().Count()
	}
	if _, ok := c.order(s, entity, page.Order); !ok {
		return false, nil
	}
	edge, ok := c.edge(edges.Selections, entity, table, s)
	if !ok {
		return false, nil
	}
	s.SelectExpr(edge)
	if counted {
		s.AppendSelectExpr(sql.Raw("count(*) OVER ()"))
	}
	s.Limit(*page.First)
	query, args := s.Query()
	if err := refused(); err != nil {
		return true, err
	}
	if err := s.Err(); err != nil {
		return true, err
	}
	out, err := c.write(db, query, args, conns, entity, count)
	if err != nil {
		return true, err
	}
	k := ctx.Value(keptKey{}).(*kept)
	k.mu.Lock()
	k.m[conn] = out
	k.mu.Unlock()
	Compiled.Add(1)
	return true, nil
}

// write runs a list's statement and writes the connection's JSON: conns, its fields, in their order;
// the edges from the rows, one each; totalCount from the count of all rows each row carries (the
// statement's second column), or, for a page without rows, from count. Rows are written as they come,
// into one buffer, with nothing kept of them.
func (c *compiler) write(db Querier, query string, args []any, conns []graphql.CollectedField, entity string,
	count *sql.Selector) ([]byte, error) {
	rows, err := db.QueryContext(c.ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var (
		raw   stdsql.RawBytes
		total int
	)
	dest := []any{&raw}
	if count != nil {
		dest = append(dest, &total)
	}
	more := rows.Next()
	if more {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
	} else if err := rows.Err(); err != nil {
		return nil, err
	} else if count != nil {
		if total, err = c.count(db, count); err != nil {
			return nil, err
		}
	}
	out := make([]byte, 0, sizeOf(entity))
	defer func() { sized(entity, len(out)) }()
	out = append(out, '{')
	for i, f := range conns {
		if i > 0 {
			out = append(out, ',')
		}
		out = strconv.AppendQuote(out, f.Alias)
		out = append(out, ':')
		switch f.Name {
		case "__typename":
			out = strconv.AppendQuote(out, entity+"Connection")
		case "totalCount":
			out = strconv.AppendInt(out, int64(total), 10)
		default:
			out = append(out, '[')
			for n := 0; more; n++ {
				if n > 0 {
					if err := rows.Scan(dest...); err != nil {
						return nil, err
					}
					out = append(out, ',')
				}
				out = append(out, raw...)
				more = rows.Next()
			}
			if err := rows.Err(); err != nil {
				return nil, err
			}
			out = append(out, ']')
		}
	}
	return append(out, '}'), nil
}

// sizes remembers, per entity, how long the last list written was: a page is written into a buffer of
// about that size at once, rather than one grown (and copied) a dozen times.
var sizes sync.Map // entity → *atomic.Int64

func sizeOf(entity string) int {
	if v, ok := sizes.Load(entity); ok {
		return int(v.(*atomic.Int64).Load())*9/8 + 64
	}
	return 4096
}

func sized(entity string, n int) {
	v, ok := sizes.Load(entity)
	if !ok {
		v, _ = sizes.LoadOrStore(entity, new(atomic.Int64))
	}
	v.(*atomic.Int64).Store(int64(n))
}

// count counts the rows of s.
func (c *compiler) count(db Querier, s *sql.Selector) (int, error) {
	query, args := s.Query()
	if err := s.Err(); err != nil {
		return 0, err
	}
	var n int
	rows, err := db.QueryContext(c.ctx, query, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, err
		}
	}
	return n, rows.Err()
}

// compiler builds the statement of one list.
type compiler struct {
	ctx    context.Context
	oc     *graphql.OperationContext
	rt     *enforce.Runtime
	access accesses
	tables int
}

// name is what a key or type name may be to be written into SQL as it is: GraphQL's names.
var name = regexp.MustCompile(`^[_A-Za-z][_0-9A-Za-z]*$`)

func (c *compiler) fields(sel ast.SelectionSet, typ string, implements ...string) []graphql.CollectedField {
	return graphql.CollectFields(c.oc, sel, append([]string{typ}, implements...))
}

// edgesOf returns the edges field of a connection's selection (nil when there is none; more than one,
// under aliases, is left to Paginate), and whether totalCount is selected too. Anything else (pageInfo)
// is not compiled.
func (c *compiler) edgesOf(conns []graphql.CollectedField) (*graphql.CollectedField, bool, bool) {
	var edges *graphql.CollectedField
	counted := false
	for i, f := range conns {
		if !name.MatchString(f.Alias) {
			return nil, false, false
		}
		switch f.Name {
		case "__typename":
		case "totalCount":
			counted = true
		case "edges":
			if edges != nil {
				return nil, false, false
			}
			edges = &conns[i]
		default:
			return nil, false, false // pageInfo: entgql's pager answers it
		}
	}
	return edges, counted, true
}

// table returns a selector of entity's table under a table alias of its own, and the alias.
func (c *compiler) table(entity string) (*sql.Selector, string) {
	c.tables++
	alias := "t" + strconv.Itoa(c.tables)
	e := c.rt.Model.Entity(entity)
	return sql.Dialect(dialect.Postgres).Select().From(sql.Table(e.Table()).As(alias)).WithContext(c.ctx), alias
}

// rows returns a selector of the rows of entity the reader may read (table, narrowed by ReadFilter), and
// its alias.
func (c *compiler) rows(entity string) (*sql.Selector, string, error) {
	s, alias := c.table(entity)
	p, err := c.rt.ReadFilter(c.ctx, entity)
	if err != nil {
		return nil, "", err
	}
	if p != nil {
		p(s)
	}
	return s, alias, nil
}

// order orders s as entgql's pager does (the keys, then the id ascending) and returns the ORDER BY terms,
// or false for a key that is not a stored column or that the reader may not sort by (Paginate then
// refuses it).
func (c *compiler) order(s *sql.Selector, entity string, keys []Order) ([]string, bool) {
	var terms []string
	byID := false
	for _, o := range keys {
		col := strings.ToLower(o.Field)
		if col != "id" {
			if _, ok := c.rt.MemberByColumn(entity, col); !ok || c.rt.Sort(c.ctx, entity, col) != nil {
				return nil, false
			}
		}
		byID = byID || col == "id"
		term := s.C(col)
		if o.Desc {
			term = sql.Desc(term)
		}
		terms = append(terms, term)
	}
	if !byID {
		terms = append(terms, s.C("id"))
	}
	s.OrderBy(terms...)
	return terms, true
}

// orderKeys reads a nested connection's orderBy argument (one order or a list).
func orderKeys(v any) ([]Order, bool) {
	var list []any
	switch x := v.(type) {
	case nil:
		return nil, true
	case []any:
		list = x
	default:
		list = []any{x}
	}
	var out []Order
	for _, o := range list {
		m, ok := o.(map[string]any)
		if !ok {
			return nil, false
		}
		field, ok := m["field"].(string)
		if !ok {
			return nil, false
		}
		dir, _ := m["direction"].(string)
		out = append(out, Order{Field: field, Desc: dir == "DESC"})
	}
	return out, true
}

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
func (c *compiler) edge(sel ast.SelectionSet, entity, table string, from *sql.Selector) (sql.Querier, bool) {
	var parts []part
	for _, f := range c.fields(sel, entity+"Edge") {
		if !name.MatchString(f.Alias) {
			return nil, false
		}
		switch f.Name {
		case "__typename":
			parts = append(parts, literal(f.Alias, `"`+entity+`Edge"`))
		case "node":
			node, ok := c.record(f.Selections, entity, table, from)
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
func (c *compiler) record(sel ast.SelectionSet, entity, table string, from *sql.Selector) (sql.Querier, bool) {
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
		v, ok := c.member(f, e, member, table, from)
		if !ok {
			return nil, false
		}
		if where := c.rt.ShownWhere(c.ctx, entity, member); where != nil {
			v = c.shownOn(e, table, where, v)
		}
		parts = append(parts, part{key: f.Alias, sql: v})
	}
	return object(parts), true
}

// member is the JSON text of the field f of table's row, a record of e, which answers member.
func (c *compiler) member(f graphql.CollectedField, e *metamodel.Entity, member, table string, from *sql.Selector) (sql.Querier, bool) {
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
		if from != nil {
			return c.joined(f.Selections, r, table, from)
		}
		return c.related(f.Selections, r, table)
	case r.Kind == metamodel.HasMany:
		return c.nested(f, r, table)
	}
	return nil, false // many-to-many, has-one
}

// shownOn is v on the rows of e (table's row among them) where where holds, and null on the others: a
// field shown on some rows only (VisibleOn).
func (c *compiler) shownOn(e *metamodel.Entity, table string, where func(*sql.Selector), v sql.Querier) sql.Querier {
	s, _ := c.table(e.Name)
	s.SelectExpr(sql.Raw("1"))
	s.Where(sql.ColumnsEQ(s.C("id"), column(table, "id")))
	where(s)
	return sql.ExprFunc(func(b *sql.Builder) {
		b.WriteString("CASE WHEN EXISTS ")
		b.Wrap(func(b *sql.Builder) { b.Join(s) })
		b.WriteString(" THEN ")
		b.Join(v)
		b.WriteString(" ELSE 'null' END")
	})
}

// key is the JSON text of the foreign key of a belongsTo relation of table's row: the related row's id,
// null when there is none or the reader may not read it (KeyShown).
func (c *compiler) key(r *metamodel.Relation, table string) (sql.Querier, bool) {
	s, alias, err := c.rows(r.To)
	if err != nil {
		return nil, false
	}
	s.Where(sql.ColumnsEQ(s.C("id"), column(table, r.FKColumn()))).
		SelectExpr(sql.Raw(`'"' || ` + column(alias, "id") + ` || '"'`))
	return orNull(s), true
}

// orNull is the JSON text the subquery s answers, null when it answers no row.
func orNull(s *sql.Selector) sql.Querier {
	return sql.ExprFunc(func(b *sql.Builder) {
		b.WriteString("coalesce(")
		b.Wrap(func(b *sql.Builder) { b.Join(s) })
		b.WriteString(", 'null')")
	})
}

// joined is related for a row of the list itself: the related table is joined to the list's statement
// from (LEFT JOIN on its id, the reader's read filter in the join's condition), which Postgres plans as a
// join rather than a subquery per row (15% of the peers' list's database time). A to-one relation never
// adds rows, so the list's LIMIT and count are those of its rows.
func (c *compiler) joined(sel ast.SelectionSet, r *metamodel.Relation, table string, from *sql.Selector) (sql.Querier, bool) {
	filter, alias, err := c.rows(r.To) // the read filter, for the join's condition
	if err != nil {
		return nil, false
	}
	target := c.rt.Model.Entity(r.To)
	on := sql.ColumnsEQ(column(alias, "id"), column(table, r.FKColumn()))
	if w := filter.P(); w != nil {
		on = sql.And(on, w)
	}
	// Joined before the related record's own relations, whose joins refer to it (a declined list
	// discards the statement).
	from.LeftJoin(sql.Table(target.Table()).As(alias)).OnP(on)
	obj, ok := c.record(sel, r.To, alias, from)
	if !ok {
		return nil, false
	}
	return sql.ExprFunc(func(b *sql.Builder) {
		b.WriteString("CASE WHEN " + column(alias, "id") + " IS NULL THEN 'null' ELSE ")
		b.Join(obj)
		b.WriteString(" END")
	}), true
}

// related is the JSON text of the record a belongsTo relation of table's row names, null when there is
// none or the reader may not read it.
func (c *compiler) related(sel ast.SelectionSet, r *metamodel.Relation, table string) (sql.Querier, bool) {
	s, alias, err := c.rows(r.To)
	if err != nil {
		return nil, false
	}
	obj, ok := c.record(sel, r.To, alias, nil)
	if !ok {
		return nil, false
	}
	s.Where(sql.ColumnsEQ(s.C("id"), column(table, r.FKColumn()))).SelectExpr(obj)
	return orNull(s), true
}

// nested is the JSON text of a hasMany relation's connection on table's row: its first rows the reader
// may read, in the order asked, then by id.
func (c *compiler) nested(f graphql.CollectedField, r *metamodel.Relation, table string) (sql.Querier, bool) {
	target := c.rt.Model.Entity(r.To)
	inverse := target.Relation(r.Inverse)
	if inverse == nil || inverse.Kind != metamodel.BelongsTo {
		return nil, false
	}
	first := -1
	var keys []Order
	for _, arg := range f.Arguments {
		v, err := arg.Value.Value(c.oc.Variables)
		if err != nil {
			return nil, false
		}
		switch arg.Name {
		case "first":
			if v == nil {
				continue
			}
			n, ok := intOf(v)
			if !ok || n < 0 {
				return nil, false
			}
			first = n
		case "orderBy":
			var ok bool
			if keys, ok = orderKeys(v); !ok {
				return nil, false
			}
		default:
			return nil, false // where, cursors: entgql's collection answers them
		}
	}
	conns := c.fields(f.Selections, r.To+"Connection")
	edges, counted, ok := c.edgesOf(conns)
	if !ok {
		return nil, false
	}
	if edges == nil {
		edges = &graphql.CollectedField{}
	}
	s, inner, err := c.rows(r.To)
	if err != nil {
		return nil, false
	}
	s.Where(sql.ColumnsEQ(s.C(inverse.FKColumn()), column(table, "id")))
	var count *sql.Selector // every row of the relation the reader may read
	if counted {
		count = s.Clone().SelectExpr(sql.Raw("count(*)::text"))
	}
	orderBy, ok := c.order(s, r.To, keys)
	if !ok {
		return nil, false
	}
	if first >= 0 {
		s.Limit(first)
	}
	// The rows are chosen in s; the outer query reads them as a table of the same name, and aggregates
	// their edges in the same order.
	edge, ok := c.edge(edges.Selections, r.To, inner, nil)
	if !ok {
		return nil, false
	}
	var parts []part
	for _, cf := range conns {
		switch cf.Name {
		case "__typename":
			parts = append(parts, literal(cf.Alias, `"`+r.To+`Connection"`))
			continue
		case "totalCount":
			parts = append(parts, part{key: cf.Alias, sql: sql.ExprFunc(func(b *sql.Builder) { b.Wrap(func(b *sql.Builder) { b.Join(count) }) })})
			continue
		}
		list := sql.ExprFunc(func(b *sql.Builder) {
			b.WriteString("coalesce((SELECT '[' || string_agg(")
			b.Join(edge)
			b.WriteString(", ',' ORDER BY " + strings.Join(orderBy, ", ") + ") || ']' FROM ")
			b.Wrap(func(b *sql.Builder) { b.Join(s) })
			b.WriteString(" AS " + inner + "), '[]')")
		})
		parts = append(parts, part{key: cf.Alias, sql: list})
	}
	return object(parts), true
}

// column is a table's column, quoted.
func column(table, col string) string { return `"` + table + `"."` + col + `"` }

// value is the SQL of the JSON text of a stored field as gqlgen's marshalers write it, and false for a
// type it does not render (dates, JSON, files, computed values).
func value(f *metamodel.Field, col string) (sql.Querier, bool) {
	if f.Computed.Src != "" && !f.Stored {
		return nil, false
	}
	var expr string
	switch f.Type {
	case metamodel.TypeString, metamodel.TypeText, metamodel.TypeEmail, metamodel.TypePhone, metamodel.TypeURL,
		metamodel.TypeEnum:
		expr = "to_json(" + col + ")::text"
	case metamodel.TypeInt, metamodel.TypeBool:
		expr = col + "::text" // 42, true: JSON's text already
	case metamodel.TypeFloat, metamodel.TypeDecimal:
		// The API answers both as a float64 in Go's shortest form; float8's output is the shortest text
		// that reads back as the same float64 too, and the same text from 1e-4 to 1e15 (beyond, it
		// takes an exponent where Go does not: the same JSON number). NaN and the infinities, which
		// JSON has not, are null, as Go writes them.
		expr = "nullif(nullif(nullif(" + col + "::float8, 'NaN'), 'Infinity'), '-Infinity')::text"
	case metamodel.TypeDateTime:
		// RFC 3339 in UTC, the fraction's trailing zeros trimmed, as Go writes a time: JSON's text of the
		// UTC wall time ("2024-05-05T08:30:00.5"), and the zone.
		expr = `rtrim(to_json(` + col + ` AT TIME ZONE 'UTC')::text, '"') || 'Z"'`
	default:
		return nil, false
	}
	return sql.Raw(fmt.Sprintf("coalesce(%s, 'null')", expr)), true
}
