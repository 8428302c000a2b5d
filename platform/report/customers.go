package report

import (
	"cmp"
	"slices"
	"sort"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/crmgen/crmgen/metamodel"
)

// eventStats is what the events say of one record.
type eventStats struct {
	last   time.Time
	count  int
	amount float64
}

// records lists the ids of the report entity's records the reader may read and the where selects, in id
// order, with their titles.
func (q *run) records() ([]int, map[int]string, error) {
	s, err := q.readableIDs(q.r.Entity)
	if err != nil {
		return nil, nil, err
	}
	s.OrderBy(s.C("id"))
	var ids []int
	err = q.query(s, func(vals []any) error {
		id, _ := toInt(vals[0])
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	titles, err := q.titles(q.r.Entity, ids)
	return ids, titles, err
}

// events aggregates the readable events of the readable records, by record: one GROUP BY.
func (q *run) events() (map[int]*eventStats, error) {
	ev := q.r.Events
	ee := q.Model.Entity(ev.Entity)
	by := ee.Relation(ev.By).FKColumn()
	date := ee.Field(ev.Date).Column()
	ids, err := q.readableIDs(q.r.Entity)
	if err != nil {
		return nil, err
	}
	s := entsql.Dialect(q.Dialect).Select().From(entsql.Table(ee.Table())).WithContext(q.ctx)
	cols := []string{s.C(by), "MAX(" + s.C(date) + ")", "COUNT(*)"}
	if ev.Amount != "" {
		cols = append(cols, "SUM("+s.C(ee.Field(ev.Amount).Column())+")")
	}
	s.Select(cols...).Where(entsql.And(entsql.NotNull(s.C(date)), entsql.In(s.C(by), ids))).GroupBy(s.C(by))
	if err := q.restrict(s, ee.Name); err != nil {
		return nil, err
	}
	out := map[int]*eventStats{}
	err = q.query(s, func(vals []any) error {
		id, _ := toInt(vals[0])
		st := &eventStats{}
		st.last, _ = toTime(vals[1]) // a date reads as its midnight in the app's zone (platform/database)
		st.count, _ = toInt(vals[2])
		if len(vals) > 3 {
			st.amount, _ = toFloat(vals[3])
		}
		out[id] = st
		return nil
	})
	return out, err
}

// recencyStatus puts a record in active, dormant or churned by the time since its last event, or none.
func (q *run) recencyStatus(r *metamodel.Report, st *eventStats) string {
	if st == nil {
		return "none"
	}
	since := q.now.Sub(st.last)
	if d, err := metamodel.ParseDuration(r.Buckets["active"]); err == nil && since <= d {
		return "active"
	}
	if d, err := metamodel.ParseDuration(r.Buckets["dormant"]); err == nil && since <= d {
		return "dormant"
	}
	return "churned"
}

func (q *run) recency(res *Result) error {
	ids, titles, err := q.records()
	if err != nil {
		return err
	}
	stats, err := q.events()
	if err != nil {
		return err
	}
	// lastEventAt is typed like the event's date field: a date field's last event is a day, not an instant.
	dateField := q.Model.Entity(q.r.Events.Entity).Field(q.r.Events.Date)
	lastType := "datetime"
	if dateField != nil && dateField.Type == metamodel.TypeDate {
		lastType = "date"
	}
	res.Columns = []*Column{
		{Name: "record", Label: q.Model.Localize(q.Model.Entity(q.r.Entity).Label, q.lang, q.r.Entity), Type: "record"},
		{Name: "status", Label: q.say(q.lang, "col.status"), Type: "enum"},
		{Name: "lastEventAt", Label: q.say(q.lang, "col.lastEventAt"), Type: lastType},
	}
	loc := q.Model.App.Location()
	for _, id := range ids {
		st := stats[id]
		row := map[string]any{"record": recordCell(id, titles[id]), "status": q.recencyStatus(q.r, st), "lastEventAt": nil}
		if st != nil && lastType == "date" {
			row["lastEventAt"] = st.last.In(loc).Format("2006-01-02")
		} else if st != nil {
			row["lastEventAt"] = st.last.In(loc).Format(time.RFC3339)
		}
		res.Data = append(res.Data, row)
	}
	return nil
}

// rfm scores each record with events 1–5 on recency, frequency and monetary value by quintiles (ties share
// the lower score's start, so equal values score equally), and names its segment from the scores: high is
// 3 or more. A record without events has nothing to score and is not listed.
func (q *run) rfm(res *Result) error {
	ids, titles, err := q.records()
	if err != nil {
		return err
	}
	stats, err := q.events()
	if err != nil {
		return err
	}
	var scored []int
	for _, id := range ids {
		if stats[id] != nil {
			scored = append(scored, id)
		}
	}
	// Whole days: events minutes apart are equally recent.
	days := func(id int) float64 { return float64(int(q.now.Sub(stats[id].last).Hours() / 24)) }
	r := quintiles(scored, func(id int) float64 { return -days(id) }) // more recent is better
	f := quintiles(scored, func(id int) float64 { return float64(stats[id].count) })
	m := quintiles(scored, func(id int) float64 { return stats[id].amount })
	res.Columns = []*Column{
		{Name: "record", Label: q.Model.Localize(q.Model.Entity(q.r.Entity).Label, q.lang, q.r.Entity), Type: "record"},
		{Name: "r", Label: q.say(q.lang, "col.r"), Type: "int"},
		{Name: "f", Label: q.say(q.lang, "col.f"), Type: "int"},
		{Name: "m", Label: q.say(q.lang, "col.m"), Type: "int"},
		{Name: "segment", Label: q.say(q.lang, "col.segment"), Type: "enum"},
		{Name: "recencyDays", Label: q.say(q.lang, "col.recencyDays"), Type: "int"},
		{Name: "frequency", Label: q.say(q.lang, "col.frequency"), Type: "int"},
		{Name: "monetary", Label: q.say(q.lang, "col.monetary"), Type: "float"},
	}
	counts := map[RFMCount]int{}
	for _, id := range scored {
		st := stats[id]
		seg := Segment(r[id], f[id], m[id])
		res.Data = append(res.Data, map[string]any{
			"record": recordCell(id, titles[id]), "r": r[id], "f": f[id], "m": m[id], "segment": seg,
			"recencyDays": int(days(id)), "frequency": st.count, "monetary": round(st.amount),
		})
		counts[RFMCount{R: r[id], F: f[id], Segment: seg}]++
	}
	for k, n := range counts {
		k.Count = n
		res.RFM = append(res.RFM, &k)
	}
	slices.SortFunc(res.RFM, func(a, b *RFMCount) int {
		return cmp.Or(cmp.Compare(b.R, a.R), cmp.Compare(a.F, b.F), cmp.Compare(slices.Index(Segments, a.Segment), slices.Index(Segments, b.Segment)))
	})
	return nil
}

// RFMCount is how many records of an rfm report have recency score R, frequency score F and segment
// Segment: what a summary of the whole result needs (records per segment, the R × F matrix) without its
// rows, one per record. The GraphQL type RFMCount.
type RFMCount struct {
	R       int    `json:"r"`
	F       int    `json:"f"`
	Segment string `json:"segment"`
	Count   int    `json:"count"`
}

// Segments are the rfm segments, named by whether R, F and M are high (3 or more).
var Segments = []string{"champions", "potential", "atRisk", "cantLose", "loyal", "new", "hibernating", "lost"}

// Segment names the rfm segment of scores r, f, m.
func Segment(r, f, m int) string {
	hr, hf, hm := r >= 3, f >= 3, m >= 3
	switch {
	case hr && hf && hm:
		return "champions"
	case hr && !hf && hm:
		return "potential"
	case !hr && hf && hm:
		return "atRisk"
	case !hr && !hf && hm:
		return "cantLose"
	case hr && hf:
		return "loyal"
	case hr:
		return "new"
	case hf:
		return "hibernating"
	}
	return "lost"
}

// quintiles scores ids 1–5 by value: the score of the first of equal values at position p of n is
// 1 + 5p/n.
func quintiles(ids []int, value func(int) float64) map[int]int {
	sorted := append([]int(nil), ids...)
	sort.SliceStable(sorted, func(a, b int) bool { return value(sorted[a]) < value(sorted[b]) })
	out := make(map[int]int, len(ids))
	n := len(sorted)
	first := 0
	for i, id := range sorted {
		if i > 0 && value(sorted[i-1]) != value(id) {
			first = i
		}
		out[id] = 1 + 5*first/n
	}
	return out
}
