package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/auth"
)

// Workflow actions: a transition run from the detail screen's buttons, and a kanban move, which runs
// the transition leading to the target column (or, when the column field is a plain enum, updates it).
// The API decides; the screens only offer what availableTransitions lists for the user.

// transition runs the named transition with the optional comment, then shows the record again.
func (s *server) transition(w http.ResponseWriter, r *http.Request) {
	e := s.entity(w, r)
	if e == nil {
		return
	}
	if !parseForm(w, r) {
		return
	}
	id := r.PathValue("id")
	if err := s.setRequired(r, e, id); err != nil {
		s.showDetail(w, r, http.StatusOK, s.refusal(r, e, "", err))
		return
	}
	if err := s.runTransition(r.Context(), e, id, r.PostForm.Get("transition"), r.PostForm.Get("comment")); err != nil {
		s.showDetail(w, r, http.StatusOK, s.refusal(r, e, r.PostForm.Get("transition"), err))
		return
	}
	s.setFlash(w, r, "saved")
	redirect(w, r, recordURL(e, id))
}

// setRequired saves what a transition's dialog sent for the transition's required fields (only those, and
// only the ones given), through the API's update, before the transition runs. A value that does not parse
// is refused like the API's own validation.
func (s *server) setRequired(r *http.Request, e *metamodel.Entity, id string) error {
	ctx := r.Context()
	var t *metamodel.Transition
	for _, w := range s.cfg.Model.Workflows {
		if w.Entity == e.Name {
			for _, tr := range w.Transitions {
				if tr.Name == r.PostForm.Get("transition") {
					t = tr
				}
			}
		}
	}
	if t == nil || len(t.Requires) == 0 {
		return nil
	}
	si, err := s.schema(ctx)
	if err != nil {
		return err
	}
	in := map[string]any{}
	for _, name := range t.Requires {
		m, ok := memberOf(e, name)
		raw := strings.TrimSpace(r.PostForm.Get(name))
		if !ok || raw == "" || (m.Rel != nil && m.Rel.Many()) {
			continue
		}
		key := inputKey(si, e, m, false)
		if key == "" {
			continue
		}
		if m.Rel != nil {
			in[key] = raw
			continue
		}
		v, rule := inputValue(m.Field, raw, s.zones(r.Context()))
		if rule != "" {
			return gqlErrors{{Message: "invalid value", Extensions: map[string]any{"code": "VALIDATION", "field": name, "rule": rule}}}
		}
		in[key] = v
	}
	if len(in) == 0 {
		return nil
	}
	_, err = s.gql(ctx, "mutation($id: ID!, $input: Update"+e.Name+"Input!) { r: update"+e.Name+"(id: $id, input: $input) { id } }",
		map[string]any{"id": id, "input": in})
	return err
}

// runTransition calls transition<Entity>(id, transition, comment).
func (s *server) runTransition(ctx context.Context, e *metamodel.Entity, id, name, comment string) error {
	vars := map[string]any{"id": id, "t": name}
	if strings.TrimSpace(comment) != "" {
		vars["c"] = comment
	}
	_, err := s.gql(ctx, "mutation($id: ID!, $t: String!, $c: String) { r: transition"+e.Name+"(id: $id, transition: $t, comment: $c) { id } }", vars)
	return err
}

// move serves a kanban drop: to is the target column's value. It answers 200 with {"ok": true}, or
// {"ok": false, "error": reason} (the script leaves the card and shows the reason). A refusal is an
// answer, not a failed request, so it does not show up as a console error.
func (s *server) move(w http.ResponseWriter, r *http.Request) {
	e := s.entity(w, r)
	if e == nil {
		return
	}
	if !parseForm(w, r) {
		return
	}
	if e.Views == nil || e.Views.Kanban == nil {
		http.Error(w, "this list has no board", http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	id, to := r.PathValue("id"), r.PostForm.Get("to")
	field := e.Field(e.Views.Kanban.GroupBy)
	lang := language(s.cfg.Model, r)
	answer := func(errMsg string) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(map[string]any{"ok": errMsg == "", "error": errMsg})
	}
	refuse := answer
	si, err := s.schema(ctx)
	if err != nil || field == nil {
		refuse(translate(lang, "error"))
		return
	}
	if s.cfg.Model.WorkflowOf(e.Name, field.Name) != nil && si.has(e.Name, "availableTransitions") {
		resp, err := s.gql(ctx, "query($id: ID!) { l: "+e.QueryField()+"(where: {id: $id}) { edges { node { availableTransitions { name to comment } } } } }",
			map[string]any{"id": id})
		if err != nil {
			refuse(s.refusal(r, e, "", err))
			return
		}
		ns := nodes(resp.Data["l"])
		if len(ns) == 0 {
			refuse(translate(lang, "not found"))
			return
		}
		list, _ := ns[0]["availableTransitions"].([]any)
		for _, v := range list {
			t, _ := v.(map[string]any)
			if str(t["to"]) != to {
				continue
			}
			if str(t["comment"]) == metamodel.CommentRequired && strings.TrimSpace(r.PostForm.Get("comment")) == "" {
				refuse(translate(lang, "comment required"))
				return
			}
			if err := s.runTransition(ctx, e, id, str(t["name"]), r.PostForm.Get("comment")); err != nil {
				refuse(s.refusal(r, e, str(t["name"]), err))
				return
			}
			answer("")
			return
		}
		refuse(translate(lang, "move refused"))
		return
	}
	key := inputKey(si, e, member{Name: field.Name, Field: field}, false)
	if key == "" {
		refuse(translate(lang, "move refused"))
		return
	}
	if _, err := s.gql(ctx, "mutation($id: ID!, $input: Update"+e.Name+"Input!) { r: update"+e.Name+"(id: $id, input: $input) { id } }",
		map[string]any{"id": id, "input": map[string]any{key: to}}); err != nil {
		refuse(s.refusal(r, e, "", err))
		return
	}
	answer("")
}

// blockedTransitions are the transitions from the record's state that the user's roles may run but the
// API does not offer now, with the fields they still need: shown disabled, so the user knows what to
// fill in (a follow-up is assigned once it has a physician and a due time). Transitions held back by a
// guard or the row scope are not guessed at: only those with unset required fields are listed. When the
// user may set every one of those fields, the transition carries their inputs: its dialog sets them and
// runs it in one step.
func (s *server) blockedTransitions(ctx context.Context, e *metamodel.Entity, n map[string]any, available map[string]bool, lang string) []transitionButton {
	p := auth.FromContext(ctx)
	if p == nil {
		return nil
	}
	superuser := isSuperuser(s.cfg.Model, p)
	si, _ := s.schema(ctx)
	a := access(ctx, e.Name)
	var out []transitionButton
	for _, w := range s.cfg.Model.Workflows {
		f := e.Field(w.Field)
		if w.Entity != e.Name || f == nil {
			continue
		}
		state := str(n[f.GraphQLName()])
		for _, t := range w.Transitions {
			if available[t.Name] || !slices.Contains(t.From, state) || !(superuser || slices.ContainsFunc(t.Roles, p.HasRole)) {
				continue
			}
			tb := transitionButton{Name: t.Name, Label: s.cfg.Model.Localize(t.Label, lang, t.Name), To: s.stateLabel(e, t.To, lang),
				Comment: t.Comment}
			settable := si != nil
			for _, name := range t.Requires {
				m, ok := memberOf(e, name)
				if !ok {
					continue
				}
				key := m.gqlName()
				if v, present := n[key]; present && v != nil && !(m.Rel != nil && m.Rel.Many() && len(nodes(v)) == 0) && str(v) != "" {
					continue
				}
				tb.Requires = append(tb.Requires, s.memberLabel(m, lang))
				if !settable || mode(si, e, a, m, false) != modeEdit || (m.Rel != nil && m.Rel.Many()) {
					settable = false
					continue
				}
				ff := formField{Name: m.Name, ID: "t-" + t.Name + "-" + m.Name, Label: s.memberLabel(m, lang)}
				s.widget(&ff, m, n, nil, lang, s.zones(ctx))
				ff.Required = true
				tb.Fields = append(tb.Fields, ff)
			}
			if !settable {
				tb.Fields = nil
			}
			if len(tb.Requires) > 0 {
				out = append(out, tb)
			}
		}
	}
	return out
}
