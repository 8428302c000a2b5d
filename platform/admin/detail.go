package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/crmgen/crmgen/metamodel"
)

// The detail screen: a record's fields by section, its workflow (state, the transitions this user may
// run, the timeline), the lists of records related to it, and its audit history.

type detailField struct {
	Name, Label string
	Value       cell
}

type detailSection struct {
	Label  string
	Fields []detailField
}

type relatedList struct {
	Name, Label, SeeAllURL, NewURL string
	Total                          int
	Columns                        []string
	Rows                           []listRow
}

type historyEntry struct {
	Op, At, User string
	Changes      []historyChange
}

type historyChange struct{ Field, Old, New string }

type transitionButton struct {
	Name, Label, To, Comment string
	Requires                 []string
	// Fields are the inputs of a blocked transition's dialog: the required fields it waits for, when the
	// user may set them all, so one step sets them and runs the transition.
	Fields []formField
}

type workflowStep struct {
	From, To, Transition, User, At, Comment string
}

type detailBody struct {
	Entity, Label, Title, ID, URL string
	Sections                      []detailSection
	Related                       []relatedList
	History                       []historyEntry
	State                         *cell
	Transitions                   []transitionButton
	Blocked                       []transitionButton // the user's transitions that wait for fields to be set
	Timeline                      []workflowStep
	CanEdit, CanDelete            bool
	Locked                        string // why a record the user could otherwise change is read-only
	Error                         string
	Keys                          []keyField  // the summary header's key fields
	Tabs                          []recordTab // details, related lists, timeline, history
	Tab                           string      // the tab shown
	HasTimeline, HasHistory       bool        // the entity has a workflow, an audit trail
}

// detailQuery builds the selection of one record's screen.
func (s *server) detailQuery(ctx context.Context, e *metamodel.Entity, si *schemaInfo, lang string) (query string, members []member, related []*metamodel.Relation) {
	a := access(ctx, e.Name)
	var sel []string
	for _, m := range detailMembers(e) {
		if !a.Shows(m.Name) || (m.Field != nil && !si.has(e.Name, m.Field.GraphQLName())) {
			continue
		}
		if m.Field != nil && (m.Field.Name == "deletedAt" || m.Field.Name == "version") {
			continue
		}
		members = append(members, m)
		sel = append(sel, selection(m))
	}
	for _, r := range relatedLists(e) {
		if !a.Shows(r.Name) || !access(ctx, r.To).MayRead() || !si.has(e.Name, r.GraphQLName()) {
			continue
		}
		related = append(related, r)
		cols := s.relatedColumns(ctx, r)
		csel := append([]string{displaySelection(r.Target)}, selections(cols)...)
		sel = append(sel, r.GraphQLName()+"(first: 10) { totalCount edges { node { "+strings.Join(csel, " ")+" } } }")
	}
	if si.has(e.Name, "history") {
		sel = append(sel, "history { op at username changes { field old new } }")
	}
	if si.has(e.Name, "availableTransitions") {
		sel = append(sel, `availableTransitions(locale: "`+lang+`") { name label to toLabel comment requires }`)
	}
	if si.has(e.Name, "workflowHistory") {
		sel = append(sel, "workflowHistory { from to transition user at comment }")
	}
	query = nodeQuery(e, "id "+strings.Join(sel, " "))
	return query, members, related
}

// relatedColumns are the columns of a related list: the target's list columns less the relation back to
// the record and what the user may not see, at most four.
func (s *server) relatedColumns(ctx context.Context, r *metamodel.Relation) []member {
	ta := access(ctx, r.To)
	var out []member
	for _, m := range listColumns(r.Target) {
		if len(out) == 4 {
			break
		}
		if m.Name == r.Target.Display || (r.InverseRel != nil && m.Name == r.InverseRel.Name) || !ta.Lists(m.Name) {
			continue
		}
		if m.Rel != nil && m.Rel.Many() {
			continue
		}
		out = append(out, m)
	}
	return out
}

// nodeQuery reads one record of e by id through node(id:), not a filtered list: a single record's
// screens show the sensitive fields the API leaves out of lists.
func nodeQuery(e *metamodel.Entity, selection string) string {
	return "query($id: ID!) { n: node(id: $id) { ... on " + e.Name + " { " + selection + " } } }"
}

// record reads one record for the screens; nil (and no error) when it does not exist for the user.
func (s *server) record(ctx context.Context, e *metamodel.Entity, id, query string) (map[string]any, error) {
	if _, err := strconv.ParseInt(id, 10, 64); err != nil {
		return nil, nil
	}
	resp, err := s.gql(ctx, query, map[string]any{"id": id})
	if err != nil {
		if es, ok := err.(gqlErrors); ok && es.hasCode("NOT_FOUND") {
			return nil, nil
		}
		return nil, err
	}
	n, _ := resp.Data["n"].(map[string]any)
	if n == nil || n["id"] == nil {
		return nil, nil // absent, unreadable, or a record of another entity
	}
	return n, nil
}

func (s *server) detail(w http.ResponseWriter, r *http.Request) {
	s.showDetail(w, r, http.StatusOK, "")
}

// showDetail renders the detail screen, with errMsg (an action's refusal) above it if not "".
func (s *server) showDetail(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	e := s.entity(w, r)
	if e == nil {
		return
	}
	ctx := r.Context()
	si, err := s.schema(ctx)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	lang := language(s.cfg.Model, r)
	query, members, related := s.detailQuery(ctx, e, si, lang)
	n, err := s.record(ctx, e, r.PathValue("id"), query)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	if n == nil {
		s.fail(w, r, http.StatusNotFound, nil)
		return
	}
	a := access(ctx, e.Name)
	id := str(n["id"])
	b := &detailBody{Entity: e.Name, Label: s.entityLabel(e, lang), ID: id, URL: recordURL(e, id),
		Title: s.displayOf(e, n, lang), Error: errMsg}
	b.CanEdit = a.MayUpdate() && si.has("Mutation", "update"+e.Name)
	b.CanDelete = a.MayDelete() && si.has("Mutation", "delete"+e.Name)
	if state := lockedState(s.cfg.Model, e, n); state != "" && !a.All && (b.CanEdit || b.CanDelete) {
		// The API would refuse: say why instead of offering the buttons.
		b.CanEdit, b.CanDelete = false, false
		b.Locked = fmt.Sprintf(translate(lang, "locked note"), s.entityLabel(e, lang), s.stateLabel(e, state, lang))
	}

	byName := map[string]member{}
	for _, m := range members {
		byName[m.Name] = m
	}
	shown := map[string]bool{}
	for _, sec := range formSections(e) {
		ds := detailSection{Label: s.cfg.Model.Localize(sec.Label, lang, "")}
		for _, fm := range sec.Members {
			m, ok := byName[fm.Name]
			if !ok || shown[m.Name] {
				continue
			}
			shown[m.Name] = true
			ds.Fields = append(ds.Fields, detailField{Name: m.Name, Label: s.memberLabel(m, lang), Value: s.cellOf(m, n, lang, s.zones(ctx))})
		}
		if len(ds.Fields) > 0 {
			b.Sections = append(b.Sections, ds)
		}
	}
	rest := detailSection{Label: translate(lang, "details")}
	if len(b.Sections) == 0 {
		rest.Label = ""
	}
	for _, m := range members {
		if shown[m.Name] {
			continue
		}
		rest.Fields = append(rest.Fields, detailField{Name: m.Name, Label: s.memberLabel(m, lang), Value: s.cellOf(m, n, lang, s.zones(ctx))})
	}
	if len(rest.Fields) > 0 {
		b.Sections = append(b.Sections, rest)
	}

	for _, w := range s.cfg.Model.Workflows {
		if w.Entity != e.Name {
			continue
		}
		if m, ok := byName[w.Field]; ok {
			c := s.cellOf(m, n, lang, s.zones(ctx))
			b.State = &c
		}
	}
	if list, ok := n["availableTransitions"].([]any); ok {
		available := map[string]bool{}
		for _, v := range list {
			t, _ := v.(map[string]any)
			available[str(t["name"])] = true
			b.Transitions = append(b.Transitions, transitionButton{Name: str(t["name"]), Label: str(t["label"]), To: str(t["toLabel"]), Comment: str(t["comment"])})
		}
		b.Blocked = s.blockedTransitions(ctx, e, n, available, lang)
	}
	if list, ok := n["workflowHistory"].([]any); ok {
		for _, v := range list {
			st, _ := v.(map[string]any)
			user := actorName(lang, str(st["user"]))
			b.Timeline = append(b.Timeline, workflowStep{From: s.stateLabel(e, str(st["from"]), lang), To: s.stateLabel(e, str(st["to"]), lang),
				Transition: s.transitionLabel(e, str(st["transition"]), lang), User: user, At: s.zones(ctx).instant(str(st["at"])), Comment: str(st["comment"])})
		}
	}
	for _, rel := range related {
		b.Related = append(b.Related, s.relatedOf(ctx, e, rel, n, lang))
	}
	if list, ok := n["history"].([]any); ok {
		b.History = s.historyOf(ctx, e, list, lang)
	}
	b.Keys = s.keyFields(e, members, n, lang, s.zones(ctx))
	b.HasTimeline, b.HasHistory = si.has(e.Name, "workflowHistory"), si.has(e.Name, "history")
	s.recordTabs(b, r.URL.Query().Get("tab"), lang)
	f := s.newFrame(r, b.Title)
	f.Active = e.Name
	f.Body = b
	s.render(w, r, status, "detail", f)
}

// lockedState is the state of record n that locks it (a final state, unless the model says lock: false),
// or "".
func lockedState(m *metamodel.Model, e *metamodel.Entity, n map[string]any) string {
	for _, w := range m.Workflows {
		f := e.Field(w.Field)
		if w.Entity != e.Name || f == nil {
			continue
		}
		for _, st := range w.States {
			if st.Locked() && str(n[f.GraphQLName()]) == st.Name {
				return st.Name
			}
		}
	}
	return ""
}

// relatedOf builds the list of records related to n through rel.
func (s *server) relatedOf(ctx context.Context, e *metamodel.Entity, rel *metamodel.Relation, n map[string]any, lang string) relatedList {
	t := rel.Target
	cols := s.relatedColumns(ctx, rel)
	conn := n[rel.GraphQLName()]
	rl := relatedList{Name: rel.Name, Label: s.memberLabel(member{Name: rel.Name, Rel: rel}, lang), Total: intOf(dig(conn, "totalCount"))}
	rl.Columns = append(rl.Columns, s.entityLabel(t, lang))
	for _, m := range cols {
		rl.Columns = append(rl.Columns, s.memberLabel(m, lang))
	}
	for _, rn := range nodes(conn) {
		row := s.rowOf(t, cols, rn, lang, s.zones(ctx))
		row.Cells = append([]cell{{Text: s.displayOf(t, rn, lang), Link: row.URL}}, row.Cells...)
		rl.Rows = append(rl.Rows, row)
	}
	if inv := rel.InverseRel; inv != nil && filterable(member{Name: inv.Name, Rel: inv}) {
		rl.SeeAllURL = entityURL(t) + "?f." + inv.Name + "=" + urlQueryEscape(str(n["id"]))
		ta := access(ctx, t.Name)
		if inv.Kind == metamodel.BelongsTo && ta.MayCreate() {
			rl.NewURL = entityURL(t) + "/new?" + inv.Name + "=" + urlQueryEscape(str(n["id"]))
		}
	}
	return rl
}

// stateLabel is the label of a workflow state of e.
func (s *server) stateLabel(e *metamodel.Entity, state, lang string) string {
	for _, w := range s.cfg.Model.Workflows {
		if w.Entity != e.Name {
			continue
		}
		for _, st := range w.States {
			if st.Name == state {
				return s.cfg.Model.Localize(st.Label, lang, st.Name)
			}
		}
	}
	return state
}

// transitionLabel is the label of a workflow transition of e, or of a step that was no transition:
// "(created)", "(seeded)".
func (s *server) transitionLabel(e *metamodel.Entity, name, lang string) string {
	if strings.HasPrefix(name, "(") {
		return translate(lang, strings.Trim(name, "()"))
	}
	for _, w := range s.cfg.Model.Workflows {
		if w.Entity != e.Name {
			continue
		}
		for _, t := range w.Transitions {
			if t.Name == name {
				return s.cfg.Model.Localize(t.Label, lang, t.Name)
			}
		}
	}
	return name
}

func opKey(op string) string {
	switch op {
	case "create":
		return "created"
	case "update":
		return "updated"
	case "delete":
		return "deleted"
	case "restore":
		return "restored"
	case "seed":
		return "seeded"
	}
	return op
}

// auditValue renders an old or new value of an audit change, a time as one of loc.
func auditValue(v any, loc *time.Location) string {
	switch v := v.(type) {
	case nil:
		return "—"
	case string:
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t.In(loc).Format("2006-01-02 15:04")
		}
		return v
	case json.Number:
		return v.String()
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// instant renders an RFC 3339 time (when something happened) in the user's zone.
func (z zones) instant(v string) string {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.In(z.user).Format("2006-01-02 15:04")
	}
	return v
}
