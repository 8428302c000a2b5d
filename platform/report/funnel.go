package report

import (
	"maps"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/database"
)

// A funnel counts, for each of its states in order, the readable records that reached that state or a
// later one of the funnel: a record that was won passed the earlier steps, even when its history starts
// at won (records loaded with the model's data are seeded in their state). What a record reached is read
// from the workflow history and its current state.
func (q *run) funnel(res *Result) error {
	wf := q.Model.Workflow(q.r.Workflow)
	e := q.Model.Entity(q.r.Entity)
	index := map[string]int{}
	for i, s := range q.r.States {
		index[s] = i
	}
	reached := map[int]int{} // record → highest funnel index reached
	note := func(id int, state string) {
		i, ok := index[state]
		if !ok {
			return
		}
		if cur, ok := reached[id]; !ok || i > cur {
			reached[id] = i
		}
	}
	// A record whose history does not show its path (records loaded with the model's data are seeded in
	// their state) and whose state is not a step of the funnel, such as lost or rejected, passed every
	// funnel state that lies on each path from the initial state to its own.
	passed := mustPass(wf)
	// Current states.
	s, err := q.selectFrom(e.Name, func(s *entsql.Selector) []string {
		return []string{s.C("id"), s.C(column(e, wf.Field))}
	})
	if err != nil {
		return err
	}
	err = q.query(s, func(vals []any) error {
		id, _ := toInt(vals[0])
		if st, ok := textOf(vals[1]).(string); ok {
			note(id, st)
			if _, step := index[st]; !step {
				for _, before := range passed[st] {
					note(id, before)
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// States reached before.
	ids, err := q.readableIDs(e.Name)
	if err != nil {
		return err
	}
	if err := database.Flush(q.ctx); err != nil { // the operation's own steps, if it wrote any
		return err
	}
	h := entsql.Dialect(q.Dialect).Select().From(entsql.Table("crm_workflow_history")).WithContext(q.ctx)
	h.Select(h.C("record_id"), h.C("to_state")).Distinct().
		Where(entsql.And(entsql.EQ(h.C("workflow"), wf.Name), entsql.EQ(h.C("entity"), e.Name), entsql.In(h.C("record_id"), ids)))
	err = q.query(h, func(vals []any) error {
		id, _ := toInt(vals[0])
		if st, ok := textOf(vals[1]).(string); ok {
			note(id, st)
		}
		return nil
	})
	if err != nil {
		return err
	}
	counts := make([]int, len(q.r.States))
	for _, i := range reached {
		for j := 0; j <= i; j++ {
			counts[j]++
		}
	}
	res.Columns = []*Column{
		{Name: "state", Label: q.say(q.lang, "col.state"), Type: "enum"},
		{Name: "count", Label: q.say(q.lang, "col.count"), Type: "int"},
		{Name: "rate", Label: q.say(q.lang, "col.rate"), Type: "float"},
		{Name: "stepRate", Label: q.say(q.lang, "col.stepRate"), Type: "float"},
	}
	for i, st := range q.r.States {
		row := map[string]any{"state": st, "label": q.stateLabel(wf, st), "count": counts[i], "rate": 0.0, "stepRate": 0.0}
		if counts[0] > 0 {
			row["rate"] = round(float64(counts[i]) / float64(counts[0]))
		}
		if i == 0 && counts[0] > 0 {
			row["stepRate"] = 1.0
		} else if i > 0 && counts[i-1] > 0 {
			row["stepRate"] = round(float64(counts[i]) / float64(counts[i-1]))
		}
		res.Data = append(res.Data, row)
	}
	return nil
}

// mustPass returns, for each state of wf, the other states every path from the initial state to it goes
// through (its dominators in the transition graph), found by the classic iteration to a fixed point.
func mustPass(wf *metamodel.Workflow) map[string][]string {
	names := make([]string, len(wf.States))
	for i, st := range wf.States {
		names[i] = st.Name
	}
	preds := map[string][]string{}
	for _, t := range wf.Transitions {
		for _, f := range t.From {
			preds[t.To] = append(preds[t.To], f)
		}
	}
	dom := map[string]map[string]bool{wf.Initial: {wf.Initial: true}}
	for _, n := range names {
		if n == wf.Initial {
			continue
		}
		all := map[string]bool{}
		for _, m := range names {
			all[m] = true
		}
		dom[n] = all
	}
	for changed := true; changed; {
		changed = false
		for _, n := range names {
			if n == wf.Initial {
				continue
			}
			var next map[string]bool
			for _, p := range preds[n] {
				if next == nil {
					next = maps.Clone(dom[p])
					continue
				}
				for k := range next {
					if !dom[p][k] {
						delete(next, k)
					}
				}
			}
			if next == nil {
				next = map[string]bool{} // unreachable: nothing is known to have been passed
			}
			next[n] = true
			if len(next) != len(dom[n]) {
				dom[n], changed = next, true
			}
		}
	}
	out := map[string][]string{}
	for _, n := range names {
		for _, m := range names {
			if m != n && dom[n][m] {
				out[n] = append(out[n], m)
			}
		}
	}
	return out
}
