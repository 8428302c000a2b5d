package admin

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/auth"
	"github.com/crmgen/crmgen/platform/workflow"
)

// Work queues of the home page, derived from the model with no syntax of their own. For each workflow:
//   - one queue per transition the user's roles may run: the records in one of its from states with its
//     required fields set, and, for a transition with a guard, those the API offers the transition on
//     (availableTransitions), since only the API evaluates guards;
//   - the overdue records: a timer of the state they are in has passed;
//   - the records assigned to the user: a belongsTo User relation (other than the owner trait's) points at
//     them, in a state that is not final.
//
// Every count is a totalCount the API answers for the user, so rows their scope hides are not counted, and
// each queue opens the entity's list with the queue's parameter (queue=…), which adds the same condition.

// queueGroup is the queues of one workflow.
type queueGroup struct {
	Workflow, Label string
	Queues          []*workQueue
}

// workQueue is one queue: its key (the list's queue parameter), label, count and list link.
type workQueue struct {
	Key, Kind, Label, URL string
	Count                 int
	entity                *metamodel.Entity
	where                 map[string]any
	guarded               bool // the count needs the API's availableTransitions per candidate record
	transition            string
}

// queueCandidates bounds the records of a guarded transition's queue the API is asked about.
const queueCandidates = 500

// workQueues lists the queues of the signed-in user (without counts), in model order. key, when not
// "", keeps only that queue.
func (s *server) workQueues(ctx context.Context, lang, key string) []*queueGroup {
	p := auth.FromContext(ctx)
	si, err := s.schema(ctx)
	if p == nil || err != nil {
		return nil
	}
	var overdue []workflow.Timer
	needOverdue := key == "" || strings.HasPrefix(key, "overdue.")
	if s.cfg.Overdue != nil && needOverdue {
		if overdue, err = s.cfg.Overdue(ctx); err != nil {
			s.cfg.Log.ErrorContext(ctx, "read overdue timers", "err", err)
		}
	}
	var out []*queueGroup
	for _, w := range s.cfg.Model.Workflows {
		e := s.cfg.Model.Entity(w.Entity)
		state := e.Field(w.Field)
		a := access(ctx, e.Name)
		wt := e.Name + "WhereInput"
		if state == nil || !a.MayRead() || !a.Sortable(state.Name) || !si.has(wt, state.GraphQLName()+"In") {
			continue
		}
		g := &queueGroup{Workflow: w.Name, Label: s.entityLabel(e, lang)}
		add := func(q *workQueue) {
			if key != "" && q.Key != key {
				return
			}
			q.entity = e
			q.URL = entityURL(e) + "?queue=" + url.QueryEscape(q.Key)
			g.Queues = append(g.Queues, q)
		}
		for _, t := range w.Transitions {
			if !mayRunTransition(s.cfg.Model, w, t, p) {
				continue
			}
			and := []any{map[string]any{state.GraphQLName() + "In": t.From}}
			for _, name := range t.Requires {
				if c := setCondition(si, e, a, name); c != nil {
					and = append(and, c)
				}
			}
			add(&workQueue{Key: "t." + w.Name + "." + t.Name, Kind: "transition", Label: s.cfg.Model.Localize(t.Label, lang, t.Name),
				where: map[string]any{"and": and}, guarded: t.Guard.Src != "", transition: t.Name})
		}
		if len(w.Timers) > 0 && needOverdue {
			var or []any
			byState := map[string][]any{}
			var states []string
			seen := map[workflow.Timer]bool{}
			for _, tm := range overdue {
				if tm.Workflow != w.Name || tm.Entity != e.Name {
					continue
				}
				k := workflow.Timer{State: tm.State, RecordID: tm.RecordID}
				if seen[k] {
					continue // several timers of the state have passed
				}
				seen[k] = true
				if _, ok := byState[tm.State]; !ok {
					states = append(states, tm.State)
				}
				byState[tm.State] = append(byState[tm.State], strconv.Itoa(tm.RecordID))
			}
			for _, st := range states {
				or = append(or, map[string]any{state.GraphQLName(): st, "idIn": byState[st]})
			}
			where := noRows
			if len(or) > 0 {
				where = map[string]any{"or": or}
			}
			add(&workQueue{Key: "overdue." + w.Name, Kind: "overdue", Label: translate(lang, "overdue"), where: where})
		}
		var open []string
		for _, st := range w.States {
			if !st.Final {
				open = append(open, st.Name)
			}
		}
		for _, r := range e.Relations {
			if r.Kind != metamodel.BelongsTo || r.To != "User" || r.System || !a.Sortable(r.Name) || !si.has(wt, r.GraphQLFKName()) {
				continue
			}
			add(&workQueue{Key: "mine." + w.Name + "." + r.Name, Kind: "mine",
				Label: fmt.Sprintf(translate(lang, "assigned to me"), s.memberLabel(member{Name: r.Name, Rel: r}, lang)),
				where: map[string]any{r.GraphQLFKName(): strconv.Itoa(p.ID), state.GraphQLName() + "In": open}})
		}
		if len(g.Queues) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// mayRunTransition reports whether p's roles allow t, as the workflow engine decides it (a record in t's
// first from state, readable, passes every check before the role's, so only a role refusal is one).
func mayRunTransition(m *metamodel.Model, w *metamodel.Workflow, t *metamodel.Transition, p *auth.Principal) bool {
	if len(t.From) == 0 {
		return false
	}
	err := workflow.Check(m, w, t, map[string]any{w.Field: t.From[0]}, p, true, "")
	var role *workflow.RoleError
	return !errors.As(err, &role)
}

// setCondition is the where condition "name is set" for a required field or relation of e, or nil when
// the API offers none the user may use (the queue then also holds records the transition waits on).
func setCondition(si *schemaInfo, e *metamodel.Entity, a interface{ Sortable(string) bool }, name string) map[string]any {
	m, ok := memberOf(e, name)
	if !ok || !a.Sortable(name) {
		return nil
	}
	wt := e.Name + "WhereInput"
	if m.Rel != nil {
		has := "has" + metamodel.Pascal(m.Rel.GraphQLName())
		if si.has(wt, has) {
			return map[string]any{has: true}
		}
		return nil
	}
	var and []any
	if k := m.Field.GraphQLName() + "NotNil"; si.has(wt, k) {
		and = append(and, map[string]any{k: true})
	}
	switch m.Field.Type {
	case metamodel.TypeString, metamodel.TypeText, metamodel.TypeEmail, metamodel.TypePhone, metamodel.TypeURL:
		if k := m.Field.GraphQLName() + "NEQ"; si.has(wt, k) {
			and = append(and, map[string]any{k: ""})
		}
	}
	switch len(and) {
	case 0:
		return nil
	case 1:
		return and[0].(map[string]any)
	}
	return map[string]any{"and": and}
}

// countQueues fills in the counts of the queues: one GraphQL operation for the plain ones (a totalCount
// each, aliased), one more per guarded transition for its candidates' availableTransitions. A queue whose
// count the API refuses is dropped.
func (s *server) countQueues(ctx context.Context, groups []*queueGroup) {
	var q strings.Builder
	var decl []string
	vars := map[string]any{}
	var plain []*workQueue
	for _, g := range groups {
		for _, wq := range g.Queues {
			if wq.guarded {
				continue
			}
			i := len(plain)
			plain = append(plain, wq)
			decl = append(decl, fmt.Sprintf("$w%d: %sWhereInput", i, wq.entity.Name))
			fmt.Fprintf(&q, " q%d: %s(where: $w%d) { totalCount }", i, wq.entity.QueryField(), i)
			vars[fmt.Sprintf("w%d", i)] = wq.where
		}
	}
	counted := map[*workQueue]bool{}
	if len(plain) > 0 {
		resp, err := s.gql(ctx, "query("+strings.Join(decl, ", ")+") {"+q.String()+" }", vars)
		if err != nil && resp == nil {
			s.cfg.Log.ErrorContext(ctx, "count work queues", "err", err)
		}
		if resp != nil {
			for i, wq := range plain {
				if c, ok := resp.Data[fmt.Sprintf("q%d", i)].(map[string]any); ok {
					wq.Count, counted[wq] = intOf(c["totalCount"]), true
				}
			}
		}
	}
	for _, g := range groups {
		for _, wq := range g.Queues {
			if wq.guarded {
				if ids, err := s.guardedIDs(ctx, wq); err == nil {
					wq.Count, counted[wq] = len(ids), true
				} else {
					s.cfg.Log.ErrorContext(ctx, "count work queue", "queue", wq.Key, "err", err)
				}
			}
		}
		g.Queues = slices.DeleteFunc(g.Queues, func(wq *workQueue) bool { return !counted[wq] })
	}
}

// guardedIDs are the records of a guarded transition's queue: the candidates (in a from state, required
// fields set) on which the API offers the transition now.
func (s *server) guardedIDs(ctx context.Context, wq *workQueue) ([]string, error) {
	resp, err := s.gql(ctx, "query($w: "+wq.entity.Name+"WhereInput, $n: Int) { l: "+wq.entity.QueryField()+
		"(where: $w, first: $n) { edges { node { id availableTransitions { name } } } } }",
		map[string]any{"w": wq.where, "n": queueCandidates})
	if err != nil {
		return nil, err
	}
	ids := []string{}
	for _, n := range nodes(resp.Data["l"]) {
		list, _ := n["availableTransitions"].([]any)
		for _, v := range list {
			if str(dig(v, "name")) == wq.transition {
				ids = append(ids, str(n["id"]))
				break
			}
		}
	}
	return ids, nil
}

// queueWhere is the condition of the list's queue parameter for e, and the queue's label, or nil when e
// has no such queue for this user.
func (s *server) queueWhere(ctx context.Context, e *metamodel.Entity, key, lang string) (map[string]any, string) {
	if key == "" {
		return nil, ""
	}
	for _, g := range s.workQueues(ctx, lang, key) {
		for _, wq := range g.Queues {
			if wq.entity != e {
				continue
			}
			label := g.Label + " · " + wq.Label
			if !wq.guarded {
				return wq.where, label
			}
			ids, err := s.guardedIDs(ctx, wq)
			if err != nil || len(ids) == 0 {
				return noRows, label
			}
			return map[string]any{"idIn": ids}, label
		}
	}
	return noRows, ""
}
