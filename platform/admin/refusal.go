package admin

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/requestid"
)

// What a user is told when the API refuses an action. The API's messages are written for developers:
// they name states, rules and relations as the model spells them and quote guard expressions. The
// screens say the same in the user's language from the error's extensions and the model's labels
// (states, entities, transitions, fields), and never show an expression, a Go error or an engine term.

// refusal is the message for err, the API's answer to an action on a record of e; transition names the
// transition the action ran ("" for other writes). An error that is no API refusal goes to the log, and
// the user is told of an error and the request's id, which finds it there.
func (s *server) refusal(r *http.Request, e *metamodel.Entity, transition string, err error) string {
	lang := language(s.cfg.Model, r)
	es, ok := err.(gqlErrors)
	if !ok || len(es) == 0 {
		s.cfg.Log.ErrorContext(r.Context(), "admin action", "path", r.URL.Path, "err", err)
		return errorText(lang, requestid.From(r.Context()))
	}
	var out []string
	for _, ge := range es {
		msg := s.explain(e, transition, ge, lang)
		if msg == "" {
			s.cfg.Log.ErrorContext(r.Context(), "admin action", "path", r.URL.Path, "err", ge.Message)
			msg = errorText(lang, requestid.From(r.Context()))
		}
		if !slices.Contains(out, msg) {
			out = append(out, msg)
		}
	}
	return strings.Join(out, translate(lang, "; "))
}

// explain words one API error in lang, or returns "" for an error it has no words for.
func (s *server) explain(e *metamodel.Entity, transition string, ge gqlError, lang string) string {
	m := s.cfg.Model
	ext := ge.Extensions
	label := s.entityLabel(e, lang)
	tLabel := s.transitionLabel(e, transition, lang)
	check, _ := ext["check"].(string)
	switch ge.code() {
	case "NOT_FOUND":
		return translate(lang, "not found")
	case "FORBIDDEN", "FORBIDDEN_FIELD":
		if check == "role" && transition != "" {
			return fmt.Sprintf(translate(lang, "refused.role"), tLabel)
		}
		return translate(lang, "forbidden")
	case "CONFLICT":
		if state, _ := ext["state"].(string); check == "state" && state != "" {
			return fmt.Sprintf(translate(lang, "refused.state"), label, s.stateLabel(e, state, lang), tLabel)
		}
		return translate(lang, "refused.changed")
	case "LOCKED":
		state, _ := ext["state"].(string)
		return fmt.Sprintf(translate(lang, "refused.locked"), label, s.stateLabel(e, state, lang))
	case "RESTRICTED":
		return fmt.Sprintf(translate(lang, "refused.restricted"), label, strings.Join(s.referrers(ext["relations"], lang), translate(lang, ", ")))
	case "VALIDATION":
		switch check {
		case "guard":
			if t := findTransition(m, e, transition); t != nil && len(t.GuardMessage) > 0 {
				return fmt.Sprintf(translate(lang, "refused.guardMessage"), tLabel, m.Localize(t.GuardMessage, lang, ""))
			}
			return fmt.Sprintf(translate(lang, "refused.guard"), tLabel)
		case "requires":
			var names []string
			list, _ := ext["fields"].([]any)
			for _, v := range list {
				if mb, ok := memberOf(e, str(v)); ok {
					names = append(names, s.memberLabel(mb, lang))
				}
			}
			return fmt.Sprintf(translate(lang, "refused.requires"), tLabel, strings.Join(names, translate(lang, ", ")))
		case "comment":
			return translate(lang, "comment required")
		}
		var parts []string
		for _, fe := range ge.fieldErrors() {
			text := ruleText(lang, fe.Rule)
			if own := fe.text(m, lang); own != "" {
				text = own
			} else if text == fe.Rule {
				text = translate(lang, "rule.type")
			}
			// A field of no member of e (a path the API checked) is not named: its name is the model's.
			if mb, ok := memberOf(e, fe.Field); ok {
				text = s.memberLabel(mb, lang) + translate(lang, ": ") + text
			}
			parts = append(parts, text)
		}
		if len(parts) > 0 {
			return strings.Join(parts, translate(lang, "; "))
		}
		return translate(lang, "please fix")
	}
	return ""
}

// referrers names the records that still refer to a record, from the API's relations ("Visit.patient"):
// the referring entities' labels.
func (s *server) referrers(v any, lang string) []string {
	var out []string
	list, _ := v.([]any)
	for _, it := range list {
		name, _, _ := strings.Cut(str(it), ".")
		label := translate(lang, "other records")
		if re := s.cfg.Model.Entity(name); re != nil {
			label = s.entityLabel(re, lang)
		}
		if !slices.Contains(out, label) {
			out = append(out, label)
		}
	}
	if len(out) == 0 {
		out = append(out, translate(lang, "other records"))
	}
	return out
}

// findTransition is the transition named name of one of e's workflows, or nil.
func findTransition(m *metamodel.Model, e *metamodel.Entity, name string) *metamodel.Transition {
	for _, w := range m.Workflows {
		if w.Entity != e.Name {
			continue
		}
		for _, t := range w.Transitions {
			if t.Name == name {
				return t
			}
		}
	}
	return nil
}
