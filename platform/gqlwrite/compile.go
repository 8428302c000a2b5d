package gqlwrite

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/jackc/pgx/v5"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/enforce"
)

// A list query whose every selected field is a stored value, a to-one relation or a nested connection
// of such fields is answered on Postgres by one SQL statement, as PostGraphile's is: the rows of the
// list, each row's related records (joined) and the rows of its first nested connection (a LATERAL join,
// first N in their order) come back as columns of plain values, which the app writes as JSON as they
// come, reading them in Postgres's binary form through pgx's own interface (columns.go, rows.go). Parts
// that cannot be spread over the rows — a second nested connection, those of nested rows — are JSON
// text the statement writes (jsontext.go). Loading the same rows through ent and writing them
// (Connection) costs 3 statements and about four fifths of the request's CPU (BENCHMARKS.md, peers).
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

// Rows runs a statement on one of the app's Postgres connections and hands its rows, read through pgx's
// own interface, to read (platform/database's DB.Rows).
type Rows func(ctx context.Context, query string, args []any, read func(pgx.Rows) error) error

type keptKey struct{}

// kept holds the JSON of the lists an operation's resolvers answered, until the connection is written,
// and how the operation reads rows.
type kept struct {
	mu   sync.Mutex
	m    map[any][]byte
	rows Rows
}

// WithLists makes ctx, an operation's, able to carry compiled lists from their resolver to their
// writer (Connection), reading their rows with rows. Lists are compiled only in such a context, so an
// operation that runs inside a transaction (whose uncommitted rows another connection does not see)
// is not given one.
func WithLists(ctx context.Context, rows Rows) context.Context {
	if rows == nil {
		return ctx
	}
	return context.WithValue(ctx, keptKey{}, &kept{m: map[any][]byte{}, rows: rows})
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

// List answers the list field being resolved in ctx, a connection of entity, with one statement, and
// keeps its JSON for conn, the (empty) connection the resolver returns, which Connection then writes.
// preds are the list's own filters (search, where). It reports false, having run nothing, when the list
// is not one it compiles; an error is the list's answer (a refused filter).
func List(ctx context.Context, conn any, entity string, page Page, preds ...func(*sql.Selector)) (bool, error) {
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
	l := &list{entity: entity, total: -1}
	if counted {
		l.count = s.Clone().Select().Count() // the same rows counted, for a page without rows
	}
	if c.orderBy, ok = c.order(s, entity, page.Order); !ok {
		return false, nil
	}
	// The list's rows are chosen in s; the statement reads them as a table of the same name, with what
	// is joined to them.
	s.SelectExpr(sql.Raw(`"` + table + `".*`))
	if counted {
		s.AppendSelectExpr(sql.Raw(`count(*) OVER () AS "crm_total"`))
		l.total = c.column(sql.Raw(column(table, "crm_total")), kindInt)
	}
	s.Limit(*page.First)
	l.id = c.ref(column(table, "id"), kindID)
	edge, ok := c.edgeShape(edges.Selections, entity, table, asColumns)
	if !ok {
		return false, nil
	}
	if len(c.cols) > maxColumns {
		return false, nil
	}
	l.conn = connection(conns, entity, l.total, -1, edge)
	query, args, err := c.statement(s, table)
	if err := refused(); err != nil {
		return true, err
	}
	if err != nil {
		return true, err
	}
	l.kinds = c.kinds
	k := ctx.Value(keptKey{}).(*kept)
	out, err := l.write(ctx, k.rows, query, args)
	if err != nil {
		return true, err
	}
	k.mu.Lock()
	k.m[conn] = out
	k.mu.Unlock()
	Compiled.Add(1)
	return true, nil
}

// compiler builds the statement of one list.
type compiler struct {
	ctx    context.Context
	oc     *graphql.OperationContext
	rt     *enforce.Runtime
	access accesses
	tables int

	// The statement: its columns and how each is written, the tables joined to the list's rows, whether
	// a nested connection's rows are spread over them (one is, at most), and the order of the rows:
	// the list's, then the nested rows'.
	cols       []sql.Querier
	kinds      []kind
	joins      []join
	refs       map[string]int // ref's columns
	spreadRows bool
	orderBy    []string
}

// maxColumns bounds a compiled statement's columns: Postgres takes at most 1,664 in a select list.
const maxColumns = 1200

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

// column is a table's column, quoted.
func column(table, col string) string { return `"` + table + `"."` + col + `"` }

// many is a nested connection of a hasMany relation on table's row: its selected fields, and the rows
// the reader may read, in the order asked, then by id, the first of them.
type many struct {
	conns   []graphql.CollectedField
	edges   *graphql.CollectedField // nil when not selected
	counted bool
	rows    *sql.Selector // the rows, ordered and limited
	alias   string        // rows' table alias
	count   *sql.Selector // all of the rows counted (when counted)
	orderBy []string      // rows' order
}

// many reads the nested connection f of table's row: its arguments (first, orderBy; others, a where
// or cursors, are not compiled) and its rows. It reports false for what it does not compile.
func (c *compiler) many(f graphql.CollectedField, r *metamodel.Relation, table string) (*many, bool) {
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
	m := &many{conns: c.fields(f.Selections, r.To+"Connection")}
	var ok bool
	if m.edges, m.counted, ok = c.edgesOf(m.conns); !ok {
		return nil, false
	}
	s, alias, err := c.rows(r.To)
	if err != nil {
		return nil, false
	}
	s.Where(sql.ColumnsEQ(s.C(inverse.FKColumn()), column(table, "id")))
	if m.counted {
		m.count = s.Clone().SelectExpr(sql.Raw("count(*)"))
	}
	if m.orderBy, ok = c.order(s, r.To, keys); !ok {
		return nil, false
	}
	if first >= 0 {
		s.Limit(first)
	}
	m.rows, m.alias = s, alias
	return m, true
}

// keyRows is a selector of the row a belongsTo relation of table's row names, if the reader may read
// it, and its alias: a foreign key is shown only when its row may be read (KeyShown).
func (c *compiler) keyRows(r *metamodel.Relation, table string) (*sql.Selector, string, error) {
	s, alias, err := c.rows(r.To)
	if err != nil {
		return nil, "", err
	}
	s.Where(sql.ColumnsEQ(s.C("id"), column(table, r.FKColumn())))
	return s, alias, nil
}

// shown is v on the rows of e (table's row among them) where where holds, and NULL on the others: a
// field shown on some rows only (ShownWhere, the predicate form of VisibleOn).
func (c *compiler) shown(e *metamodel.Entity, table string, where func(*sql.Selector), v sql.Querier) sql.Querier {
	s, _ := c.table(e.Name)
	s.SelectExpr(sql.Raw("1"))
	s.Where(sql.ColumnsEQ(s.C("id"), column(table, "id")))
	where(s)
	return sql.ExprFunc(func(b *sql.Builder) {
		b.WriteString("CASE WHEN EXISTS ")
		b.Wrap(func(b *sql.Builder) { b.Join(s) })
		b.WriteString(" THEN ")
		b.Join(v)
		b.WriteString(" END")
	})
}
