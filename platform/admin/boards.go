package admin

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/enforce"
)

// The other ways to browse an entity: the kanban board (views.kanban), the calendar (views.calendar)
// and, for an entity with a relation to itself, the tree. Each reads through the same connection the
// list uses, so the user sees the same rows.

// kanbanCard is one record on the board; Moves lists the columns it may be dragged to.
type kanbanCard struct {
	ID, Title, URL string
	Cells          []cell
	Moves          string // space-separated target column keys; a key ending in "!" needs a comment
	// Targets are the same columns with their labels, for the card's "move to" menu: a phone has no drag
	// and drop (touch screens do not start HTML drags), and a menu is one tap to open and one to move.
	Targets []kanbanTarget
}

// kanbanTarget is a column a card may move to.
type kanbanTarget struct{ Key, Label string }

// kanbanColumn is one value of the grouping field. A column shows at most kanbanLimit cards; when it has
// more, More says how many it shows of how many and links to the list of all of them.
type kanbanColumn struct {
	Key, Label, Color string
	Total             int
	Cards             []kanbanCard
	More, MoreURL     string
}

type kanbanBody struct {
	Entity, Label, URL string
	Columns            []kanbanColumn
	Workflow           bool
}

// kanbanLimit is how many cards a column shows.
const kanbanLimit = 50

func (s *server) kanban(w http.ResponseWriter, r *http.Request) {
	e := s.entity(w, r)
	if e == nil {
		return
	}
	ctx := r.Context()
	if e.Views == nil || e.Views.Kanban == nil || e.Field(e.Views.Kanban.GroupBy) == nil {
		s.fail(w, r, http.StatusNotFound, nil)
		return
	}
	kv := e.Views.Kanban
	lq, err := s.newListQuery(ctx, e, r.URL.Query(), language(s.cfg.Model, r))
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	lang := language(s.cfg.Model, r)
	group := e.Field(kv.GroupBy)
	var cardMembers []member
	for _, name := range kv.Card {
		if m, ok := memberOf(e, name); ok && lq.a.Lists(m.Name) && name != e.Display {
			cardMembers = append(cardMembers, m)
		}
	}
	sel := append([]string{displaySelection(e)}, selections(cardMembers)...)
	wf := s.cfg.Model.WorkflowOf(e.Name, group.Name) != nil && lq.si.has(e.Name, "availableTransitions")
	if wf {
		sel = append(sel, "availableTransitions { to comment }")
	}
	canUpdate := !wf && lq.a.MayUpdate() && lq.a.Writable(group.Name) &&
		inputKey(lq.si, e, member{Name: group.Name, Field: group}, false) != ""
	choices := s.choices(group, lang)
	// One operation, a connection per column, each with its own where variable.
	var decl, body strings.Builder
	vars := map[string]any{}
	decl.WriteString("query($orderBy: [" + e.Name + "Order!]")
	if len(lq.orderBy) > 0 {
		vars["orderBy"] = lq.orderBy
	}
	for i, ch := range choices {
		v := "w" + strconv.Itoa(i)
		vars[v] = withCondition(lq.where, map[string]any{group.GraphQLName(): ch.Key})
		decl.WriteString(", $" + v + ": " + e.Name + "WhereInput")
		body.WriteString(" c" + strconv.Itoa(i) + ": " + e.QueryField() + "(first: " + strconv.Itoa(kanbanLimit) +
			", where: $" + v + ", orderBy: $orderBy) { totalCount edges { node { " + strings.Join(sel, " ") + " } } }")
	}
	q := decl.String() + ") {" + body.String() + " }"
	resp, err := s.gql(ctx, q, vars)
	if err == nil && len(resp.Errors) > 0 {
		err = resp.Errors
	}
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	b := &kanbanBody{Entity: e.Name, Label: s.entityLabel(e, lang), URL: entityURL(e), Workflow: wf}
	labels := make(map[string]string, len(choices))
	for _, ch := range choices {
		labels[ch.Key] = ch.Label
	}
	for i, ch := range choices {
		conn := resp.Data["c"+strconv.Itoa(i)]
		col := kanbanColumn{Key: ch.Key, Label: ch.Label, Color: ch.Color, Total: intOf(dig(conn, "totalCount"))}
		for _, nd := range nodes(conn) {
			card := kanbanCard{ID: str(nd["id"]), Title: s.displayOf(e, nd, lang), URL: recordURL(e, str(nd["id"]))}
			for _, m := range cardMembers {
				card.Cells = append(card.Cells, s.cellOf(m, nd, lang, s.zones(ctx)))
			}
			var moves []string
			if wf {
				list, _ := nd["availableTransitions"].([]any)
				for _, v := range list {
					t, _ := v.(map[string]any)
					mv := str(t["to"])
					if str(t["comment"]) == metamodel.CommentRequired {
						mv += "!"
					}
					moves = append(moves, mv)
				}
			} else if canUpdate {
				for _, other := range choices {
					if other.Key != ch.Key {
						moves = append(moves, other.Key)
					}
				}
			}
			card.Moves = strings.Join(moves, " ")
			for _, mv := range moves {
				key := strings.TrimSuffix(mv, "!")
				if l, ok := labels[key]; ok && !slices.ContainsFunc(card.Targets, func(t kanbanTarget) bool { return t.Key == key }) {
					card.Targets = append(card.Targets, kanbanTarget{Key: key, Label: l})
				}
			}
			col.Cards = append(col.Cards, card)
		}
		if len(col.Cards) < col.Total {
			col.More = fmt.Sprintf(translate(lang, "showing n of"), len(col.Cards), col.Total)
			col.MoreURL = entityURL(e) + "?" + withParams(r.URL.Query(), map[string]string{"f." + group.Name: ch.Key})
		}
		b.Columns = append(b.Columns, col)
	}
	f := s.newFrame(r, b.Label+" · "+translate(lang, "kanban"))
	f.Active = e.Name
	f.Body = b
	s.render(w, r, http.StatusOK, "kanban", f)
}

type calEvent struct{ Title, Time, URL string }

// calDay is a day of the calendar with its first entries; More and MoreURL lead to the rest.
type calDay struct {
	Date             string
	Day              int
	Weekday          string // the day's short name in the reader's language, for the phone's agenda
	InMonth, IsToday bool
	Events           []calEvent
	More, MoreURL    string
}

// How many entries a day shows in the month and in the week view.
const (
	calendarDayLimit     = 6
	calendarWeekDayLimit = 50
)

type calendarBody struct {
	Entity, Label, URL     string
	View, Period           string
	PrevURL, NextURL       string
	TodayURL, OtherViewURL string
	Weekdays               []string
	Weeks                  [][]calDay
	// Agenda is what a phone shows instead of the grid: the period's days that have entries, in order
	// (a month grid of 42 cells is unreadable at 390 px).
	Agenda []calDay
}

var weekdays = map[string][]string{
	"zh": {"一", "二", "三", "四", "五", "六", "日"},
	"en": {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"},
}

// calendar shows the records of a month (six weeks from the Monday before its first day) or of a week,
// placed on the day of views.calendar.date.
func (s *server) calendar(w http.ResponseWriter, r *http.Request) {
	e := s.entity(w, r)
	if e == nil {
		return
	}
	ctx := r.Context()
	var dateField *metamodel.Field
	if e.Views != nil && e.Views.Calendar != nil {
		dateField = e.Field(e.Views.Calendar.Date)
	}
	if dateField == nil {
		s.fail(w, r, http.StatusNotFound, nil)
		return
	}
	a := access(ctx, e.Name)
	if !a.Shows(dateField.Name) {
		s.fail(w, r, http.StatusForbidden, nil)
		return
	}
	lang := language(s.cfg.Model, r)
	// A calendar of dates has the app zone's days, where dates are stored as their midnight; a calendar of
	// times has the user's days and hours. Today is the user's either way.
	z := s.zones(r.Context())
	loc := z.of(dateField)
	today := z.today(loc)
	anchor := today
	if t, err := time.ParseInLocation("2006-01-02", r.URL.Query().Get("d"), loc); err == nil {
		anchor = t
	}
	view := r.URL.Query().Get("view")
	if view != "week" {
		view = "month"
	}
	monday := func(t time.Time) time.Time { return t.AddDate(0, 0, -((int(t.Weekday()) + 6) % 7)) }
	var start, end, prev, next time.Time
	if view == "month" {
		first := time.Date(anchor.Year(), anchor.Month(), 1, 0, 0, 0, 0, loc)
		start, end = monday(first), monday(first).AddDate(0, 0, 42)
		prev, next = first.AddDate(0, -1, 0), first.AddDate(0, 1, 0)
	} else {
		start = monday(anchor)
		end = start.AddDate(0, 0, 7)
		prev, next = start.AddDate(0, 0, -7), end
	}
	titleMember := member{Name: e.Display, Field: e.Field(e.Display)}
	if t := e.Views.Calendar.Title; t != "" {
		if m, ok := memberOf(e, t); ok && a.Shows(t) {
			titleMember = m
		}
	}
	sel := []string{displaySelection(e), dateField.GraphQLName()}
	if titleMember.Field != nil || titleMember.Rel != nil {
		sel = append(sel, selection(titleMember))
	}
	// One connection per day, each with its count, so a busy day shows its first entries and how many
	// more there are, and no day is left out because others filled a limit.
	name := dateField.GraphQLName()
	limit := calendarDayLimit
	if view == "week" {
		limit = calendarWeekDayLimit
	}
	var decl, body strings.Builder
	vars := map[string]any{}
	var days []time.Time
	for d := start; d.Before(end); d = d.AddDate(0, 0, 1) {
		n := strconv.Itoa(len(days))
		days = append(days, d)
		vars["w"+n] = map[string]any{name + "GTE": d.Format(time.RFC3339), name + "LT": d.AddDate(0, 0, 1).Format(time.RFC3339)}
		decl.WriteString(" $w" + n + ": " + e.Name + "WhereInput")
		body.WriteString(" d" + n + ": " + e.QueryField() + "(first: " + strconv.Itoa(limit) + ", where: $w" + n +
			", orderBy: [{field: " + orderField(dateField) + ", direction: ASC}]) { totalCount edges { node { " + strings.Join(sel, " ") + " } } }")
	}
	resp, err := s.gql(ctx, "query("+decl.String()+") {"+body.String()+" }", vars)
	if err == nil && len(resp.Errors) > 0 {
		err = resp.Errors
	}
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	byDay := map[string]*calDay{}
	for i, d := range days {
		key := d.Format("2006-01-02")
		conn := resp.Data["d"+strconv.Itoa(i)]
		cd := &calDay{Date: key, Day: d.Day(), InMonth: view == "week" || d.Month() == anchor.Month(), IsToday: d.Equal(today)}
		for _, nd := range nodes(conn) {
			t, err := time.Parse(time.RFC3339Nano, str(nd[name]))
			if err != nil {
				continue
			}
			title := s.displayOf(e, nd, lang)
			if titleMember.Field != nil || titleMember.Rel != nil {
				if c := s.cellOf(titleMember, nd, lang, s.zones(ctx)); c.Text != "" {
					title = c.Text
				}
			}
			ev := calEvent{Title: title, URL: recordURL(e, str(nd["id"]))}
			if dateField.Type == metamodel.TypeDateTime {
				ev.Time = t.In(loc).Format("15:04")
			}
			cd.Events = append(cd.Events, ev)
		}
		if total := intOf(dig(conn, "totalCount")); total > len(cd.Events) {
			cd.More = fmt.Sprintf(translate(lang, "n more"), total-len(cd.Events))
			cd.MoreURL = entityURL(e) + "?" + url.Values{"f." + dateField.Name + ".from": {key}, "f." + dateField.Name + ".to": {key},
				"sort": {dateField.Name}}.Encode()
		}
		byDay[key] = cd
	}
	b := &calendarBody{Entity: e.Name, Label: s.entityLabel(e, lang), URL: entityURL(e), View: view, Weekdays: weekdays[lang]}
	if b.Weekdays == nil {
		b.Weekdays = weekdays["en"]
	}
	calURL := func(v string, d time.Time) string {
		return entityURL(e) + "/calendar?view=" + v + "&d=" + d.Format("2006-01-02")
	}
	b.PrevURL, b.NextURL, b.TodayURL = calURL(view, prev), calURL(view, next), calURL(view, today)
	if view == "month" {
		b.Period = anchor.Format("2006-01")
		b.OtherViewURL = calURL("week", anchor)
	} else {
		b.Period = start.Format("2006-01-02") + " – " + end.AddDate(0, 0, -1).Format("2006-01-02")
		b.OtherViewURL = calURL("month", anchor)
	}
	var week []calDay
	for _, d := range days {
		cd := byDay[d.Format("2006-01-02")]
		cd.Weekday = b.Weekdays[(int(d.Weekday())+6)%7]
		if cd.InMonth && len(cd.Events) > 0 {
			b.Agenda = append(b.Agenda, *cd)
		}
		week = append(week, *cd)
		if len(week) == 7 {
			b.Weeks = append(b.Weeks, week)
			week = nil
		}
	}
	f := s.newFrame(r, b.Label+" · "+translate(lang, "calendar"))
	f.Active = e.Name
	f.Body = b
	s.render(w, r, http.StatusOK, "calendar", f)
}

// treeNode is one record of a tree with its children.
type treeNode struct {
	Title, URL string
	Children   []*treeNode
}

type treeBody struct {
	Entity, Label, URL string
	Roots              []*treeNode
}

// treeLimit bounds the records a tree shows (regions, departments: hundreds, not millions).
const treeLimit = 2000

// tree shows an entity with a parent relation as nested lists. Records whose parent the user may not
// read are shown at the top.
func (s *server) tree(w http.ResponseWriter, r *http.Request) {
	e := s.entity(w, r)
	if e == nil {
		return
	}
	parent := treeParent(e)
	ctx := r.Context()
	if parent == nil {
		s.fail(w, r, http.StatusNotFound, nil)
		return
	}
	lang := language(s.cfg.Model, r)
	resp, err := s.gql(ctx, "{ l: "+e.QueryField()+"(first: "+strconv.Itoa(treeLimit)+") { edges { node { "+displaySelection(e)+" "+
		parent.GraphQLName()+" { id } } } } }", nil)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	all := map[string]*treeNode{}
	parents := map[string]string{}
	var order []string
	for _, nd := range nodes(resp.Data["l"]) {
		id := str(nd["id"])
		all[id] = &treeNode{Title: s.displayOf(e, nd, lang), URL: recordURL(e, id)}
		parents[id] = str(dig(nd, parent.GraphQLName(), "id"))
		order = append(order, id)
	}
	b := &treeBody{Entity: e.Name, Label: s.entityLabel(e, lang), URL: entityURL(e)}
	for _, id := range order {
		if p := all[parents[id]]; p != nil && parents[id] != id {
			p.Children = append(p.Children, all[id])
		} else {
			b.Roots = append(b.Roots, all[id])
		}
	}
	var sortAll func([]*treeNode)
	sortAll = func(ns []*treeNode) {
		sort.SliceStable(ns, func(i, j int) bool { return ns[i].Title < ns[j].Title })
		for _, n := range ns {
			sortAll(n.Children)
		}
	}
	sortAll(b.Roots)
	f := s.newFrame(r, b.Label+" · "+translate(lang, "tree"))
	f.Active = e.Name
	f.Body = b
	s.render(w, r, http.StatusOK, "tree", f)
}

// options serves the relation picker's type-ahead: up to 20 records of the entity the user may read whose
// search fields (or display field) contain the typed text.
func (s *server) options(w http.ResponseWriter, r *http.Request) {
	// The picker of a form on another entity asks for these: an entity the user may not read answers no
	// options (the API finds no rows) rather than an error page, which a picker cannot show.
	e := s.entityIf(w, r, func(*enforce.Access) bool { return true })
	if e == nil {
		return
	}
	ctx := r.Context()
	si, err := s.schema(ctx)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	text := r.URL.Query().Get("q")
	for k, v := range r.URL.Query() {
		if strings.HasPrefix(k, "q.") && len(v) > 0 {
			text = v[0]
		}
	}
	text = strings.TrimSpace(text)
	where := map[string]any{}
	if text != "" {
		where = s.searchWhere(ctx, si, e, nil, text)
	}
	lang := language(s.cfg.Model, r)
	resp, err := s.gql(ctx, "query($where: "+e.Name+"WhereInput) { l: "+e.QueryField()+"(first: 20, where: $where) { edges { node { "+displaySelection(e)+" } } } }",
		map[string]any{"where": where})
	f := s.newFrame(r, "")
	var opts []enumChoice
	if err == nil {
		for _, nd := range nodes(resp.Data["l"]) {
			opts = append(opts, enumChoice{Key: str(nd["id"]), Label: s.displayOf(e, nd, lang)})
		}
	}
	f.Body = opts
	s.renderPart(w, r, "form", "options", f)
}
