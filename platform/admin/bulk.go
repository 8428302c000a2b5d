package admin

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/auth"
)

// Bulk actions on a list's checked rows beyond delete: run one workflow transition on each, or set one
// field to one value on each. Like the bulk delete, every row goes through the API on its own (its own
// mutation, so its own transaction): a row the API refuses keeps only itself back, the others are
// written, and the answer lists each refused row by its title with the reason in the user's language,
// worded as the record page words it. The screens offer only what the user may do; the API still
// decides per row (state, guard, row scope, locks).

// bulkBar is what the list's bulk bar offers besides delete; nil when it offers nothing.
type bulkBar struct {
	Transitions []bulkChoice // workflow transitions the user's roles may run, by label
	Fields      []bulkChoice // fields and to-one relations the user may set on an edit
}

type bulkChoice struct{ Name, Label string }

// bulkEditBody is the small form that asks for the value of the chosen field once for all rows.
type bulkEditBody struct {
	Label, Title, URL, Field, Next, Back, Error string
	IDs                                         []string
	Input                                       formField
}

// bulkOutcome is the answer to a bulk transition or edit: how many rows were written and each refused
// row with the reason.
type bulkOutcome struct {
	Label, Action, Done, NotDone, Back string
	Refused                            []refusedRow
}

// Checks reports whether the list's rows carry checkboxes: some bulk action is offered.
func (b *listBody) Checks() bool { return b.CanDelete || b.Bulk != nil }

// bulkBarOf is the bulk bar of e's list for the user of ctx, or nil.
func (s *server) bulkBarOf(ctx context.Context, e *metamodel.Entity, si *schemaInfo, lang string) *bulkBar {
	bb := &bulkBar{}
	for _, t := range s.bulkTransitions(ctx, e, si) {
		bb.Transitions = append(bb.Transitions, bulkChoice{Name: t.Name, Label: s.cfg.Model.Localize(t.Label, lang, t.Name)})
	}
	for _, m := range s.bulkFields(ctx, e, si) {
		bb.Fields = append(bb.Fields, bulkChoice{Name: m.Name, Label: s.memberLabel(m, lang)})
	}
	if len(bb.Transitions) == 0 && len(bb.Fields) == 0 {
		return nil
	}
	return bb
}

// bulkTransitions are the transitions of e's workflows the bulk bar offers: those the user's roles may
// run (the workflow engine's own role check) through an API that has the transition mutation.
//
// Transitions that require fields or a comment are left out: each row needs its own values (a physician
// and due time per follow-up, a reason per complaint sent back), which the record page's dialog asks
// for; one value for many rows would hide that choice. A hand-made post naming one is refused.
func (s *server) bulkTransitions(ctx context.Context, e *metamodel.Entity, si *schemaInfo) []*metamodel.Transition {
	p := auth.FromContext(ctx)
	if p == nil || si == nil || !si.has("Mutation", "transition"+e.Name) {
		return nil
	}
	var out []*metamodel.Transition
	for _, w := range s.cfg.Model.Workflows {
		if w.Entity != e.Name {
			continue
		}
		for _, t := range w.Transitions {
			if len(t.Requires) > 0 || t.Comment == metamodel.CommentRequired || !mayRunTransition(s.cfg.Model, w, t, p) {
				continue
			}
			out = append(out, t)
		}
	}
	return out
}

// bulkFields are the members the bulk edit may set: those the edit form shows as inputs for the user
// (the same rule, mode), limited to one-value kinds: scalar fields but JSON, and to-one relations.
// Unique fields are left out, since one value cannot hold on many rows.
func (s *server) bulkFields(ctx context.Context, e *metamodel.Entity, si *schemaInfo) []member {
	a := access(ctx, e.Name)
	if si == nil || !a.MayUpdate() || !si.has("Mutation", "update"+e.Name) {
		return nil
	}
	var out []member
	for _, m := range allMembers(e) {
		if mode(si, e, a, m, false) != modeEdit {
			continue
		}
		if m.Rel != nil && m.Rel.Kind != metamodel.BelongsTo {
			continue
		}
		if f := m.Field; f != nil && (f.Type == metamodel.TypeJSON || f.Type.Attachment() || f.Unique) {
			continue
		}
		out = append(out, m)
	}
	return out
}

// bulkTarget reads what every bulk post carries: the checked ids and where to go back to (the list as
// it was, or the entity's list).
func bulkTarget(e *metamodel.Entity, r *http.Request) (ids []string, back string) {
	back = entityURL(e)
	if next := localPath(r.PostForm.Get("next")); strings.HasPrefix(next, back) {
		back = next
	}
	return r.PostForm["id"], back
}

// bulkTitles names the rows by their titles, to list the refused ones.
func (s *server) bulkTitles(ctx context.Context, e *metamodel.Entity, ids []string, lang string) map[string]string {
	titles := map[string]string{}
	if resp, err := s.gql(ctx, "query($ids: [ID!]) { l: "+e.QueryField()+"(first: "+strconv.Itoa(len(ids))+", where: {idIn: $ids}) { edges { node { "+
		displaySelection(e)+" } } } }", map[string]any{"ids": ids}); err == nil {
		for _, nd := range nodes(resp.Data["l"]) {
			titles[str(nd["id"])] = s.displayOf(e, nd, lang)
		}
	}
	return titles
}

// bulkRun writes each row with write, collecting the refused ones, and shows the outcome.
func (s *server) bulkRun(w http.ResponseWriter, r *http.Request, e *metamodel.Entity, ids []string, back, action, transition string,
	write func(id string) error) {
	lang := language(s.cfg.Model, r)
	titles := s.bulkTitles(r.Context(), e, ids, lang)
	o := &bulkOutcome{Label: s.entityLabel(e, lang), Action: action, Back: back}
	done := 0
	for _, id := range ids {
		if err := write(id); err != nil {
			title := titles[id]
			if title == "" {
				title = o.Label + " #" + id
			}
			o.Refused = append(o.Refused, refusedRow{ID: id, Title: title, URL: recordURL(e, id), Reason: s.refusal(r, e, transition, err)})
			continue
		}
		done++
	}
	o.Done = fmt.Sprintf(translate(lang, "bulk done of"), action, done, len(ids))
	if len(o.Refused) > 0 {
		o.NotDone = fmt.Sprintf(translate(lang, "bulk not done"), len(o.Refused))
	}
	f := s.newFrame(r, o.Label+" · "+action)
	f.Active = e.Name
	f.Body = o
	s.render(w, r, http.StatusOK, "bulkdone", f) // an answer, refusals included, not a failed page load
}

// bulkTransition runs one transition on each checked row. Only a transition the bulk bar offers is run;
// any other name (one that needs fields or a comment, one of another entity or role) is refused whole.
func (s *server) bulkTransition(w http.ResponseWriter, r *http.Request) {
	e := s.entity(w, r)
	if e == nil || !parseForm(w, r) {
		return
	}
	ids, back := bulkTarget(e, r)
	if len(ids) == 0 {
		redirect(w, r, back)
		return
	}
	ctx := r.Context()
	si, err := s.schema(ctx)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	var t *metamodel.Transition
	for _, c := range s.bulkTransitions(ctx, e, si) {
		if c.Name == r.PostForm.Get("transition") {
			t = c
		}
	}
	if t == nil {
		s.fail(w, r, http.StatusForbidden, nil)
		return
	}
	lang := language(s.cfg.Model, r)
	s.bulkRun(w, r, e, ids, back, s.cfg.Model.Localize(t.Label, lang, t.Name), t.Name, func(id string) error {
		return s.runTransition(ctx, e, id, t.Name, "")
	})
}

// bulkEdit sets one field to one value on each checked row. Posted from the list it asks for the value
// (the edit form's input for the field); posted from that form (apply=1) it writes. A field the user may
// not update on the edit form is refused whole, before anything is written, however the post was made.
func (s *server) bulkEdit(w http.ResponseWriter, r *http.Request) {
	e := s.entity(w, r)
	if e == nil || !parseForm(w, r) {
		return
	}
	ids, back := bulkTarget(e, r)
	if len(ids) == 0 {
		redirect(w, r, back)
		return
	}
	ctx := r.Context()
	si, err := s.schema(ctx)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	var m *member
	for _, c := range s.bulkFields(ctx, e, si) {
		if c.Name == r.PostForm.Get("field") {
			m = &c
		}
	}
	if m == nil {
		s.fail(w, r, http.StatusForbidden, nil)
		return
	}
	lang := language(s.cfg.Model, r)
	if r.PostForm.Get("apply") != "1" {
		s.bulkEditForm(w, r, e, *m, ids, back, nil, "")
		return
	}
	in, rule := s.bulkInput(si, e, *m, r.PostForm, s.zones(r.Context()))
	if rule != "" {
		s.bulkEditForm(w, r, e, *m, ids, back, r.PostForm, ruleText(lang, rule))
		return
	}
	action := fmt.Sprintf(translate(lang, "bulk set"), s.memberLabel(*m, lang))
	s.bulkRun(w, r, e, ids, back, action, "", func(id string) error {
		_, err := s.gql(ctx, "mutation($id: ID!, $input: Update"+e.Name+"Input!) { r: update"+e.Name+"(id: $id, input: $input) { id } }",
			map[string]any{"id": id, "input": in})
		return err
	})
}

// bulkInput is the update input that sets m to the posted value, or the rule the value breaks. An
// empty value clears an optional member and is refused for a required one.
func (s *server) bulkInput(si *schemaInfo, e *metamodel.Entity, m member, posted map[string][]string, z zones) (map[string]any, string) {
	raw := ""
	if v := posted[m.Name]; len(v) > 0 {
		raw = v[0]
	}
	var v any
	if m.Rel != nil {
		if id := strings.TrimSpace(raw); id != "" {
			v = id
		}
	} else {
		var rule string
		if v, rule = inputValue(m.Field, raw, z); rule != "" {
			return nil, rule
		}
	}
	if v == nil {
		required := (m.Rel != nil && m.Rel.Required) || (m.Field != nil && m.Field.Required)
		ck := clearKey(si, e, m)
		if required || ck == "" {
			return nil, "required"
		}
		return map[string]any{ck: true}, ""
	}
	return map[string]any{inputKey(si, e, m, false): v}, ""
}

// bulkEditForm asks for the value of m for the checked rows (posted: the value sent, with its error).
func (s *server) bulkEditForm(w http.ResponseWriter, r *http.Request, e *metamodel.Entity, m member, ids []string, back string,
	posted map[string][]string, errText string) {
	lang := language(s.cfg.Model, r)
	label := s.memberLabel(m, lang)
	ff := formField{Name: m.Name, ID: "bulk-value", Label: label}
	s.widget(&ff, m, nil, posted, lang, s.zones(r.Context()))
	ff.Error = errText
	b := &bulkEditBody{Label: s.entityLabel(e, lang), URL: entityURL(e), Field: m.Name, Next: back, Back: back, IDs: ids, Input: ff,
		Title: fmt.Sprintf(translate(lang, "bulk edit title"), label, len(ids))}
	f := s.newFrame(r, b.Title)
	f.Active = e.Name
	f.Body = b
	s.render(w, r, http.StatusOK, "bulkedit", f)
}
