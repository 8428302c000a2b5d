package report

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/auth"
)

// run is one run of one report for one reader.
type run struct {
	*Engine
	ctx    context.Context
	r      *metamodel.Report
	lang   string
	params map[string]any
	now    time.Time
}

// selectFrom starts a query over the rows of entity the reader may read, with the report's where when
// entity is the report's own.
func (q *run) selectFrom(entity string, cols func(s *entsql.Selector) []string) (*entsql.Selector, error) {
	e := q.Model.Entity(entity)
	t := entsql.Table(e.Table())
	s := entsql.Dialect(q.Dialect).Select().From(t)
	s = s.WithContext(q.ctx)
	s.Select(cols(s)...)
	if err := q.restrict(s, entity); err != nil {
		return nil, err
	}
	if entity == q.r.Entity && q.r.Filter != nil {
		p, err := q.cond(s, e, q.r.Filter)
		if err != nil {
			return nil, err
		}
		if p != nil {
			s.Where(p)
		}
	}
	return s, nil
}

// restrict limits s (over entity's table) to the rows the reader may read: the one definition of
// readable, enforce.Runtime.ReadFilter.
func (q *run) restrict(s *entsql.Selector, entity string) error {
	f, err := q.Runtime.ReadFilter(q.ctx, entity)
	if err != nil {
		return err
	}
	if f != nil {
		f(s)
	}
	return nil
}

// readableIDs is the subquery of the ids of entity the reader may read (and, for the report's own
// entity, that its where selects).
func (q *run) readableIDs(entity string) (*entsql.Selector, error) {
	return q.selectFrom(entity, func(s *entsql.Selector) []string { return []string{s.C("id")} })
}

// query runs s and calls row for each result row's values.
func (q *run) query(s *entsql.Selector, row func(vals []any) error) error {
	query, args := s.Query()
	if err := s.Err(); err != nil {
		return err
	}
	rows, err := q.DB.QueryContext(q.ctx, query, args...)
	if err != nil {
		return fmt.Errorf("report %s: %w", q.r.Name, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("report %s: %w", q.r.Name, err)
		}
		if err := row(vals); err != nil {
			return err
		}
	}
	return rows.Err()
}

// column is the column of a member of e: a field's, or a belongsTo relation's key.
func column(e *metamodel.Entity, member string) string {
	if member == "id" {
		return "id"
	}
	if f := e.Field(member); f != nil {
		return f.Column()
	}
	if r := e.Relation(member); r != nil {
		return r.FKColumn()
	}
	return member
}

// cond renders a report's where condition (built by validation) as a predicate over s. A comparison whose
// value reads a parameter the reader left empty is dropped (true).
func (q *run) cond(s *entsql.Selector, e *metamodel.Entity, c *metamodel.Cond) (*entsql.Predicate, error) {
	for _, p := range c.Params {
		if _, ok := q.params[p]; !ok {
			return nil, nil
		}
	}
	switch c.Op {
	case metamodel.CondAnd, metamodel.CondOr:
		var ps []*entsql.Predicate
		for _, a := range c.Args {
			p, err := q.cond(s, e, a)
			if err != nil {
				return nil, err
			}
			if p == nil {
				if c.Op == metamodel.CondOr {
					return nil, nil // one side always true
				}
				continue
			}
			ps = append(ps, p)
		}
		switch {
		case len(ps) == 0:
			return nil, nil
		case c.Op == metamodel.CondAnd:
			return entsql.And(ps...), nil
		}
		return entsql.Or(ps...), nil
	case metamodel.CondNot:
		p, err := q.cond(s, e, c.Args[0])
		if err != nil || p == nil {
			return nil, err // not(true) would select nothing; a dropped comparison drops its negation too
		}
		return entsql.Not(p), nil
	}
	v, err := q.value(e, c.Value)
	if err != nil {
		return nil, err
	}
	switch c.Op {
	case metamodel.CondConst:
		if b, ok := v.(bool); ok && b {
			return nil, nil
		}
		return entsql.False(), nil
	case metamodel.CondLike:
		str := fmt.Sprint(v)
		col := s.C(column(e, c.Member))
		switch c.Cmp {
		case "prefix":
			return entsql.HasPrefix(col, str), nil
		case "suffix":
			return entsql.HasSuffix(col, str), nil
		}
		return entsql.Contains(col, str), nil
	case metamodel.CondIn:
		list, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("report %s: in: not a list", q.r.Name)
		}
		args := make([]any, len(list))
		for i, x := range list {
			args[i] = q.dbValue(e, c.Member, x)
		}
		return entsql.In(s.C(column(e, c.Member)), args...), nil
	}
	col := s.C(column(e, c.Member))
	if v == nil {
		switch c.Cmp {
		case "==":
			return entsql.IsNull(col), nil
		case "!=":
			return entsql.NotNull(col), nil
		}
		return entsql.False(), nil
	}
	dv := q.dbValue(e, c.Member, v)
	if _, ok := dv.(time.Time); ok {
		col = q.instantSQL(col, e.Field(c.Member))
	}
	switch c.Cmp {
	case "==":
		return entsql.EQ(col, dv), nil
	case "!=":
		// CEL's != is true for a null field; SQL's is unknown.
		return entsql.Or(entsql.NEQ(col, dv), entsql.IsNull(col)), nil
	case "<":
		return entsql.LT(col, dv), nil
	case "<=":
		return entsql.LTE(col, dv), nil
	case ">":
		return entsql.GT(col, dv), nil
	}
	return entsql.GTE(col, dv), nil
}

// value evaluates a condition's value: CEL over now, params and user.
func (q *run) value(e *metamodel.Entity, src string) (any, error) {
	env, err := q.Model.ReportEnv(e)
	if err != nil {
		return nil, err
	}
	ast, iss := env.Compile(src)
	if iss != nil && iss.Err() != nil {
		return nil, fmt.Errorf("report %s: %w", q.r.Name, iss.Err())
	}
	prg, err := env.Program(ast)
	if err != nil {
		return nil, err
	}
	user := map[string]any{"id": int64(0), "username": "", "roles": []string{}, "team": int64(0)}
	if p := auth.FromContext(q.ctx); p != nil {
		user = map[string]any{"id": int64(p.ID), "username": p.Username, "roles": p.Roles, "team": int64(p.Team)}
	}
	out, _, err := prg.Eval(map[string]any{"now": q.now, "params": q.params, "user": user})
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", q.r.Name, err)
	}
	return native(out), nil
}

// native is a CEL value as the Go value the database driver takes (lists element by element).
func native(v ref.Val) any {
	if _, ok := v.(types.Null); ok {
		return nil
	}
	if l, ok := v.(traits.Lister); ok {
		var out []any
		for it := l.Iterator(); it.HasNext() == types.True; {
			out = append(out, native(it.Next()))
		}
		return out
	}
	return v.Value()
}

// dbValue converts a CEL value to what the member's column holds.
func (q *run) dbValue(e *metamodel.Entity, member string, v any) any {
	switch x := v.(type) {
	case time.Time:
		return x
	case int64:
		if f := e.Field(member); f != nil && (f.Type == metamodel.TypeFloat || f.Type == metamodel.TypeDecimal) {
			return float64(x)
		}
		return x
	}
	return v
}

// instantSQL is the SQL of column col, of field f, as the instant the model means. A date is its midnight in
// the app's zone: SQLite keeps that instant, but a Postgres date column keeps the day, which Postgres takes
// at midnight in the session's zone (UTC) wherever it meets an instant or EXTRACT(EPOCH): from 16:00 to
// 24:00 UTC an app in Asia/Shanghai would read today's dates as still to come.
func (q *run) instantSQL(col string, f *metamodel.Field) string {
	if q.Dialect == dialect.Postgres && f != nil && f.Type == metamodel.TypeDate {
		zone := strings.ReplaceAll(q.Model.App.Location().String(), "'", "''")
		return "(CAST(" + col + " AS timestamp) AT TIME ZONE '" + zone + "')"
	}
	return col
}

// epoch is the SQL expression of a date or datetime column as Unix seconds (an instant: see instantSQL).
func (q *run) epoch(col string) string {
	if q.Dialect == dialect.Postgres {
		return "CAST(EXTRACT(EPOCH FROM " + col + ") AS BIGINT)"
	}
	return "CAST(strftime('%s', " + col + ") AS INTEGER)"
}

// toTime reads a date or datetime the database returned: a time.Time (Postgres) or text (SQLite).
func toTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, true
	case string:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999Z07:00",
			"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02"} {
			if t, err := time.Parse(layout, x); err == nil {
				return t, true
			}
		}
	case []byte:
		return toTime(string(x))
	case int64:
		return time.Unix(x, 0), true
	}
	return time.Time{}, false
}

// toFloat reads a number the database returned (Postgres's numeric arrives as text).
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case int:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	case []byte:
		f, err := strconv.ParseFloat(string(x), 64)
		return f, err == nil
	}
	return 0, false
}

func toInt(v any) (int, bool) {
	f, ok := toFloat(v)
	return int(f), ok
}

// round keeps a measure's float readable: 6 significant decimals.
func round(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return math.Round(f*1e6) / 1e6
}

// titles looks up the titles of records of entity by id, as the reader may see them: a record they may
// not read, or whose title field they may not see, is titled by its entity's label and id.
func (q *run) titles(entity string, ids []int) (map[int]string, error) {
	out := map[int]string{}
	e := q.Model.Entity(entity)
	if e == nil || len(ids) == 0 {
		return out, nil
	}
	label := q.Model.Localize(e.Label, q.lang, e.Name)
	for _, id := range ids {
		out[id] = label + " #" + strconv.Itoa(id)
	}
	// The title fields the reader may see in a list, in their order of precedence (metamodel.TitleFields).
	a := q.Runtime.AccessOf(q.ctx, entity)
	var fields []*metamodel.Field
	for _, f := range e.TitleFields() {
		if a.Lists(f.Name) && (f.Computed.Src == "" || f.Stored) {
			fields = append(fields, f)
		}
	}
	if len(fields) == 0 {
		return out, nil
	}
	const chunk = 5000 // ids per query: few round trips, well under Postgres's 65535 parameters
	for start := 0; start < len(ids); start += chunk {
		end := min(start+chunk, len(ids))
		args := make([]any, 0, end-start)
		for _, id := range ids[start:end] {
			args = append(args, id)
		}
		s := entsql.Dialect(q.Dialect).Select().From(entsql.Table(e.Table())).WithContext(q.ctx)
		cols := []string{s.C("id")}
		for _, f := range fields {
			cols = append(cols, s.C(f.Column()))
		}
		s.Select(cols...).Where(entsql.In(s.C("id"), args...))
		if err := q.restrict(s, entity); err != nil {
			return nil, err
		}
		err := q.query(s, func(vals []any) error {
			id, _ := toInt(vals[0])
			for _, v := range vals[1:] {
				if v == nil {
					continue
				}
				if t := fmt.Sprint(textOf(v)); t != "" {
					out[id] = t
					break
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func textOf(v any) any {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return v
}

// recordCell is a record cell: its id and title.
func recordCell(id int, title string) map[string]any {
	return map[string]any{"id": strconv.Itoa(id), "title": title}
}

// enumLabel is an enum value's label in lang.
func (q *run) enumLabel(enum, key string) string {
	if en := q.Model.Enum(enum); en != nil {
		for _, v := range en.Values {
			if v.Key == key {
				return q.Model.Localize(v.Label, q.lang, key)
			}
		}
	}
	return key
}

// stateLabel is a workflow state's label in lang.
func (q *run) stateLabel(wf *metamodel.Workflow, state string) string {
	for _, s := range wf.States {
		if s.Name == state {
			return q.Model.Localize(s.Label, q.lang, state)
		}
	}
	return state
}

// fieldType is the column type of a field's cells.
func fieldType(f *metamodel.Field) string {
	switch f.Type {
	case metamodel.TypeInt:
		return "int"
	case metamodel.TypeFloat, metamodel.TypeDecimal:
		return "float"
	case metamodel.TypeBool:
		return "bool"
	case metamodel.TypeDate:
		return "date"
	case metamodel.TypeDateTime:
		return "datetime"
	case metamodel.TypeEnum:
		return "enum"
	}
	return "string"
}

// cell converts a field's value from the database to a report cell.
func cell(f *metamodel.Field, v any, loc *time.Location) any {
	if v == nil {
		return nil
	}
	switch f.Type {
	case metamodel.TypeInt:
		n, _ := toInt(v)
		return n
	case metamodel.TypeFloat, metamodel.TypeDecimal:
		n, _ := toFloat(v)
		return round(n)
	case metamodel.TypeBool:
		switch x := v.(type) {
		case bool:
			return x
		default:
			n, _ := toInt(v)
			return n != 0
		}
	case metamodel.TypeDate:
		if t, ok := toTime(v); ok {
			// A date reads as its midnight in the app's zone on both databases (platform/database).
			return t.In(loc).Format("2006-01-02")
		}
	case metamodel.TypeDateTime:
		if t, ok := toTime(v); ok {
			return t.In(loc).Format(time.RFC3339)
		}
	}
	return textOf(v)
}

// joinWords joins conditions of a rule in lang.
func (q *run) joinWords(parts []string) string {
	if q.lang == "zh" {
		return strings.Join(parts, " 且 ")
	}
	return strings.Join(parts, " and ")
}
