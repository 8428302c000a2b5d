package report

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/crmgen/crmgen/metamodel"
)

// A groupBy report is one GROUP BY in the database. Time buckets are grouped there by quarter hour (every
// time zone's offset is a whole number of them) and merged here into days, weeks, months, quarters or years
// of the app's time zone, so a bucket is right across daylight saving changes on SQLite as on Postgres.
// Measures are read as partials that merge (avg as a sum and a count).

// quarterHour is the database's time grain, in seconds.
const quarterHour = 900

type partial struct {
	fn    string // COUNT, SUM, MIN, MAX
	field *metamodel.Field
}

func (q *run) aggregate(res *Result) error {
	r, e := q.r, q.Model.Entity(q.r.Entity)
	loc := q.Model.App.Location()
	var keyExprs []string
	var partials []partial
	type measureAt struct{ idx, count int } // the measure's partials: at idx (and the count at count for avg)
	var at []measureAt
	s, err := q.selectFrom(e.Name, func(s *entsql.Selector) []string {
		var cols []string
		for _, g := range r.GroupBy {
			expr := s.C(column(e, g.Field))
			if g.Bucket != "" || len(g.Bands) > 0 {
				expr = "(" + q.epoch(q.instantSQL(expr, e.Field(g.Field))) + " / " + strconv.Itoa(quarterHour) + ")"
			}
			keyExprs = append(keyExprs, expr)
			cols = append(cols, expr)
		}
		add := func(fn string, f *metamodel.Field, expr string) int {
			partials = append(partials, partial{fn: fn, field: f})
			cols = append(cols, fn+"("+expr+")")
			return len(partials) - 1
		}
		for _, m := range r.Measures {
			var f *metamodel.Field
			expr := "*"
			if m.Field != "" {
				f = e.Field(m.Field)
				expr = s.C(column(e, m.Field))
			}
			switch m.Func {
			case "count":
				at = append(at, measureAt{idx: add("COUNT", f, expr)})
			case "sum":
				at = append(at, measureAt{idx: add("SUM", f, expr)})
			case "avg":
				i := add("SUM", f, expr)
				at = append(at, measureAt{idx: i, count: add("COUNT", f, expr)})
			case "min":
				at = append(at, measureAt{idx: add("MIN", f, expr)})
			case "max":
				at = append(at, measureAt{idx: add("MAX", f, expr)})
			}
		}
		return cols
	})
	if err != nil {
		return err
	}
	if len(keyExprs) > 0 {
		s.GroupBy(keyExprs...)
	}

	type group struct {
		keys []any
		vals []any // merged partials
	}
	agers := make([]*ager, len(r.GroupBy))
	for i, g := range r.GroupBy {
		if len(g.Bands) > 0 {
			agers[i] = q.newAger(g, e.Field(g.Field), loc)
		}
	}
	groups := map[string]*group{}
	var order []string
	err = q.query(s, func(vals []any) error {
		keys := make([]any, len(r.GroupBy))
		var sb strings.Builder
		for i, g := range r.GroupBy {
			v := vals[i]
			switch f := e.Field(g.Field); {
			case v == nil:
			case len(g.Bands) > 0:
				n, _ := toInt(v)
				v = agers[i].band(time.Unix(int64(n)*quarterHour, 0))
			case g.Bucket != "":
				n, _ := toInt(v)
				// A date is stored as its midnight in the app's zone, so dates bucket in that zone too.
				v = bucketStart(time.Unix(int64(n)*quarterHour, 0).In(loc), g.Bucket).Format("2006-01-02")
			case f != nil:
				v = cell(f, v, loc)
			default: // a relation's key
				id, _ := toInt(v)
				v = id
			}
			keys[i] = v
			fmt.Fprintf(&sb, "%v\x00", v)
		}
		k := sb.String()
		grp := groups[k]
		if grp == nil {
			grp = &group{keys: keys, vals: make([]any, len(partials))}
			groups[k] = grp
			order = append(order, k)
		}
		for i, p := range partials {
			grp.vals[i] = merge(p.fn, grp.vals[i], vals[len(r.GroupBy)+i])
		}
		return nil
	})
	if err != nil {
		return err
	}

	// Columns: the groups' keys, then the measures.
	for _, g := range r.GroupBy {
		c := &Column{Name: g.Field, Label: memberLabel(q.Model, e, g.Field, q.lang)}
		switch f := e.Field(g.Field); {
		case len(g.Bands) > 0:
			c.Type = "string"
			c.Label += q.say(q.lang, "bucket.bands")
		case g.Bucket != "":
			c.Type = "date"
			c.Label += q.say(q.lang, "bucket."+g.Bucket)
		case f != nil:
			c.Type = fieldType(f)
		default:
			c.Type = "record"
		}
		res.Columns = append(res.Columns, c)
	}
	for _, m := range r.Measures {
		res.Columns = append(res.Columns, q.measureColumn(e, m))
	}

	// Titles of related records, by relation.
	titles := map[int]map[int]string{}
	for i, g := range r.GroupBy {
		rel := e.Relation(g.Field)
		if rel == nil {
			continue
		}
		var ids []int
		for _, k := range order {
			if id, ok := groups[k].keys[i].(int); ok {
				ids = append(ids, id)
			}
		}
		t, err := q.titles(rel.To, ids)
		if err != nil {
			return err
		}
		titles[i] = t
	}

	// Enum values and workflow states sort in the order the model declares them; the rest by value.
	ranks := make([]map[string]int, len(r.GroupBy))
	for i, g := range r.GroupBy {
		f := e.Field(g.Field)
		if f == nil || g.Bucket != "" || len(g.Bands) > 0 {
			continue
		}
		var names []string
		if wf := q.Model.WorkflowOf(e.Name, f.Name); wf != nil {
			for _, st := range wf.States {
				names = append(names, st.Name)
			}
		} else if en := q.Model.Enum(f.Enum); en != nil {
			for _, v := range en.Values {
				names = append(names, v.Key)
			}
		}
		if names != nil {
			ranks[i] = map[string]int{}
			for j, n := range names {
				ranks[i][n] = j
			}
		}
	}
	sort.SliceStable(order, func(a, b int) bool {
		ka, kb := groups[order[a]].keys, groups[order[b]].keys
		for i := range ka {
			x, y := ka[i], kb[i]
			if rk := ranks[i]; rk != nil && x != nil && y != nil {
				x, y = rk[fmt.Sprint(x)], rk[fmt.Sprint(y)]
			}
			if c := compareCells(x, y); c != 0 {
				return c < 0
			}
		}
		return false
	})
	for _, k := range order {
		grp := groups[k]
		row := map[string]any{}
		for i, g := range r.GroupBy {
			v := grp.keys[i]
			if t, ok := titles[i]; ok && v != nil {
				id := v.(int)
				v = recordCell(id, t[id])
			} else if len(g.Bands) > 0 && v != nil {
				v = q.bandLabel(g, v.(int))
			}
			row[g.Field] = v
		}
		for i, m := range r.Measures {
			row[measureName(m)] = measureValue(m, e, grp.vals, at[i].idx, at[i].count, loc)
		}
		res.Data = append(res.Data, row)
	}
	return nil
}

// measureName is a measure's column: count, count_f, sum_amount, avg_amount…
func measureName(m *metamodel.Measure) string {
	if m.Field == "" {
		return m.Func
	}
	return m.Func + "_" + m.Field
}

func (q *run) measureColumn(e *metamodel.Entity, m *metamodel.Measure) *Column {
	c := &Column{Name: measureName(m), Type: "float"}
	if m.Field == "" {
		c.Label, c.Type = q.say(q.lang, "measure.count"), "int"
		return c
	}
	c.Label = q.say(q.lang, "measure."+m.Func, memberLabel(q.Model, e, m.Field, q.lang))
	f := e.Field(m.Field)
	switch {
	case m.Func == "count":
		c.Type = "int"
	case (m.Func == "sum" || m.Func == "min" || m.Func == "max") && f != nil && f.Type == metamodel.TypeInt:
		c.Type = "int"
	case (m.Func == "min" || m.Func == "max") && f != nil:
		c.Type = fieldType(f)
	}
	return c
}

// measureValue is a measure's cell from the merged partials.
func measureValue(m *metamodel.Measure, e *metamodel.Entity, vals []any, idx, count int, loc *time.Location) any {
	v := vals[idx]
	switch m.Func {
	case "count":
		n, _ := toInt(v)
		return n
	case "avg":
		sum, ok := toFloat(v)
		n, _ := toFloat(vals[count])
		if !ok || n == 0 {
			return nil
		}
		return round(sum / n)
	}
	if v == nil {
		if m.Func == "sum" {
			return 0
		}
		return nil
	}
	f := e.Field(m.Field)
	return cell(f, v, loc)
}

// merge combines two partials of the same function.
func merge(fn string, a, b any) any {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	switch fn {
	case "COUNT", "SUM":
		x, _ := toFloat(a)
		y, _ := toFloat(b)
		return x + y
	case "MIN", "MAX":
		if ta, ok := toTime(a); ok {
			tb, _ := toTime(b)
			if (fn == "MIN") == tb.Before(ta) {
				return b
			}
			return a
		}
		x, _ := toFloat(a)
		y, _ := toFloat(b)
		if fn == "MIN" {
			return math.Min(x, y)
		}
		return math.Max(x, y)
	}
	return a
}

// bucketStart is the first instant of t's bucket in t's location. Weeks start on Monday (ISO 8601).
func bucketStart(t time.Time, bucket string) time.Time {
	y, m, d := t.Date()
	switch bucket {
	case "week":
		wd := (int(t.Weekday()) + 6) % 7
		return time.Date(y, m, d-wd, 0, 0, 0, 0, t.Location())
	case "month":
		return time.Date(y, m, 1, 0, 0, 0, 0, t.Location())
	case "quarter":
		return time.Date(y, m-(m-1)%3, 1, 0, 0, 0, 0, t.Location())
	case "year":
		return time.Date(y, 1, 1, 0, 0, 0, 0, t.Location())
	}
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

// compareCells orders group keys: nulls last, numbers by value, the rest as text.
func compareCells(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	if x, ok := a.(bool); ok {
		y, _ := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	}
	if x, ok := toFloat(a); ok {
		if _, isStr := a.(string); !isStr {
			y, _ := toFloat(b)
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

// ager puts times of one group in its age bands; it is made once per report run, not per row.
type ager struct {
	from   time.Time       // ages are counted back from here
	limits []time.Duration // the bands' upper ends, increasing
}

// newAger is g's ager: a date's age is counted in whole days of the app's zone (a date is stored as its
// midnight there), a datetime's from now.
func (q *run) newAger(g *metamodel.GroupBy, f *metamodel.Field, loc *time.Location) *ager {
	a := &ager{from: q.now}
	if f != nil && f.Type == metamodel.TypeDate {
		y, m, d := q.now.In(loc).Date()
		a.from = time.Date(y, m, d, 0, 0, 0, 0, loc)
	}
	for _, s := range g.Bands {
		if d, err := metamodel.ParseDuration(s); err == nil { // validated with the model
			a.limits = append(a.limits, d)
		}
	}
	return a
}

// band is the age band of t: -1 when t is after the clock ("not yet"), else the index of the first band
// its age fits in, len(limits) past the last.
func (a *ager) band(t time.Time) int {
	age := a.from.Sub(t)
	if age < 0 {
		return -1
	}
	for i, d := range a.limits {
		if age <= d {
			return i
		}
	}
	return len(a.limits)
}

// bandLabel names band i of g in the reader's language: "not yet", "within 30 days", "30–60 days", "over
// 180 days".
func (q *run) bandLabel(g *metamodel.GroupBy, i int) string {
	switch {
	case i < 0:
		return q.say(q.lang, "band.notYet")
	case i == 0:
		return q.say(q.lang, "band.within", q.durationWords(g.Bands[0]))
	case i >= len(g.Bands):
		return q.say(q.lang, "band.over", q.durationWords(g.Bands[len(g.Bands)-1]))
	}
	return q.say(q.lang, "band.between", q.durationNumber(g.Bands[i-1], g.Bands[i]), q.durationWords(g.Bands[i]))
}

// durationWords says a model duration (30d, 2w, 72h, 30m) in the reader's language.
func (q *run) durationWords(s string) string {
	n, unit := s[:len(s)-1], s[len(s)-1:]
	if n == "1" {
		unit += "1" // "1 day", not "1 days"
	}
	return q.say(q.lang, "unit."+unit, n)
}

// durationNumber is the lower end of a band: its number alone when both ends share a unit ("30–60 days"),
// else in words ("72 hours – 7 days").
func (q *run) durationNumber(lower, upper string) string {
	if lower[len(lower)-1] == upper[len(upper)-1] {
		return lower[:len(lower)-1]
	}
	return q.durationWords(lower) + " "
}
