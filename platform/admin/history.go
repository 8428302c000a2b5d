package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/attach"
)

// historyOf renders a record's audit trail, newest first, in the words of the screens: field labels,
// enum values by their labels, and related records by their names (looked up in one query, as the user:
// a record they may not read stays a bare id).
func (s *server) historyOf(ctx context.Context, e *metamodel.Entity, list []any, lang string) []historyEntry {
	type ref struct {
		target *metamodel.Entity
		id     string
	}
	var refs []ref
	seen := map[string]bool{}
	for _, hv := range list {
		changes, _ := dig(hv, "changes").([]any)
		for _, cv := range changes {
			c, _ := cv.(map[string]any)
			m, ok := memberOf(e, str(c["field"]))
			if !ok || m.Rel == nil {
				continue
			}
			for _, v := range []any{c["old"], c["new"]} {
				for _, id := range linkedIDs(v) {
					if _, err := strconv.ParseInt(id, 10, 64); err == nil && !seen[id] { // ids go into the query text
						seen[id] = true
						refs = append(refs, ref{m.Rel.Target, id})
					}
				}
			}
		}
	}
	names := map[string]string{}
	if len(refs) > 0 && len(refs) <= 100 {
		var q strings.Builder
		q.WriteString("{")
		for i, r := range refs {
			fmt.Fprintf(&q, " r%d: node(id: %q) { ... on %s { %s } }", i, r.id, r.target.Name, displaySelection(r.target))
		}
		q.WriteString(" }")
		if resp, _ := s.gql(ctx, q.String(), nil); resp != nil {
			for i, r := range refs {
				if n, ok := resp.Data[fmt.Sprintf("r%d", i)].(map[string]any); ok && n["id"] != nil {
					names[r.id] = s.displayOf(r.target, n, lang)
				}
			}
		}
	}
	z := s.zones(ctx)
	show := func(m member, known bool, v any) string {
		if !known || v == nil {
			return auditValue(v, z.user)
		}
		name := func(id string) string {
			if n := names[id]; n != "" {
				return n
			}
			return "#" + id
		}
		switch {
		case m.Rel != nil && m.Rel.Kind == metamodel.BelongsTo:
			return name(str(v))
		case m.Rel != nil:
			// Many-to-many changes are {"added": [ids], "removed": [ids]}.
			var parts []string
			for _, k := range []struct{ key, sign string }{{"added", "+"}, {"removed", "−"}} {
				list, _ := dig(v, k.key).([]any)
				for _, id := range list {
					parts = append(parts, k.sign+name(str(id)))
				}
			}
			if len(parts) > 0 {
				return strings.Join(parts, ", ")
			}
		case m.Field != nil && m.Field.Type == metamodel.TypeEnum:
			for _, ch := range s.choices(m.Field, lang) {
				if ch.Key == str(v) {
					return ch.Label
				}
			}
		case m.Field != nil && m.Field.Type == metamodel.TypeBool:
			if b, ok := v.(bool); ok {
				if b {
					return translate(lang, "yes")
				}
				return translate(lang, "no")
			}
		case m.Field != nil && m.Field.Type == metamodel.TypeDate:
			if t := auditValue(v, z.app); len(t) >= 10 { // a date is its midnight in the app's zone
				return t[:10]
			}
		case m.Field != nil && m.Field.Type.Attachment():
			if refs, err := attach.ParseField(m.Field, str(v)); err == nil && len(refs) > 0 {
				names := make([]string, len(refs))
				for i, a := range refs {
					names[i] = a.Name
				}
				return strings.Join(names, ", ")
			}
		case m.Field != nil && m.Field.Type == metamodel.TypeJSON:
			b, _ := json.Marshal(v)
			return string(b)
		}
		return auditValue(v, z.user)
	}
	var out []historyEntry
	for i := len(list) - 1; i >= 0; i-- {
		h, _ := list[i].(map[string]any)
		he := historyEntry{Op: translate(lang, opKey(str(h["op"]))), At: z.instant(str(h["at"])), User: actorName(lang, str(h["username"]))}
		changes, _ := h["changes"].([]any)
		for _, cv := range changes {
			c, _ := cv.(map[string]any)
			field := str(c["field"])
			m, known := memberOf(e, field)
			if known {
				field = s.memberLabel(m, lang)
			}
			he.Changes = append(he.Changes, historyChange{Field: field, Old: show(m, known, c["old"]), New: show(m, known, c["new"])})
		}
		out = append(out, he)
	}
	return out
}

// linkedIDs are the record ids an audit value of a relation names: the id of a to-one relation, or the
// added and removed ids of a many-to-many change.
func linkedIDs(v any) []string {
	if m, ok := v.(map[string]any); ok {
		var out []string
		for _, k := range []string{"added", "removed"} {
			list, _ := m[k].([]any)
			for _, id := range list {
				out = append(out, str(id))
			}
		}
		return out
	}
	if id := str(v); id != "" {
		return []string{id}
	}
	return nil
}
