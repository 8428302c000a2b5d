package admin

import (
	"net/url"

	"github.com/crmgen/crmgen/metamodel"
)

// The record page's summary header and tabs. The header answers "what is this and where does it stand"
// before the reader scrolls: the title, the workflow state, and a few key fields picked from what the
// model already says (no extra model syntax), so every generated app gets one. The tabs keep a long
// record page short on a phone: details, each related list, history and timeline are one tab each,
// switched by ?tab= links, so they work without script and each tab can be linked to.

// maxKeyFields bounds the header's compact line: a glance, not a second details card.
const maxKeyFields = 6

// keyField is one field of the header line. Name is the member's name, for tests and styling.
type keyField struct {
	Name, Label string
	Value       cell
}

// keyFieldKinds are the kinds of field the header shows, in order, each with how many of that kind at
// most: the record's number (autoNumber), the person responsible for it (the owner relation), enum fields
// whose values the model colours (a grade, a priority, a channel), a phone number to call, an amount (a
// decimal with two places), and another User relation (an assignee, a creator) if room is left.
var keyFieldKinds = []struct {
	max int
	is  func(e *metamodel.Entity, m member) bool
}{
	{1, func(e *metamodel.Entity, m member) bool { return m.Field != nil && m.Field.AutoNumber != "" }},
	{1, func(e *metamodel.Entity, m member) bool { return m.Rel != nil && m.Name == e.OwnerField }},
	{2, func(e *metamodel.Entity, m member) bool { return m.Field != nil && colouredEnum(m.Field) }},
	{1, func(e *metamodel.Entity, m member) bool { return m.Field != nil && m.Field.Type == metamodel.TypePhone }},
	{1, func(e *metamodel.Entity, m member) bool {
		return m.Field != nil && m.Field.Type == metamodel.TypeDecimal && m.Field.Scale == 2
	}},
	{1, func(e *metamodel.Entity, m member) bool {
		return m.Rel != nil && m.Name != e.OwnerField && m.Rel.To == "User" && m.Rel.Kind == metamodel.BelongsTo
	}},
}

// colouredEnum reports whether f is an enum (not a workflow's state: the header shows that apart) that
// gives at least one of its values a colour.
func colouredEnum(f *metamodel.Field) bool {
	if f.Type != metamodel.TypeEnum || f.StateOf != "" || f.EnumRef == nil {
		return false
	}
	for _, v := range f.EnumRef.Values {
		if v.Color != "" {
			return true
		}
	}
	return false
}

// keyFields picks the header's fields among members, the members the page shows this reader (so a field
// hidden from the reader's role is absent here too, never blank). The display field, the workflow state
// field and empty values are left out: the title and the state tag show the first two, and an empty
// value says nothing at a glance.
func (s *server) keyFields(e *metamodel.Entity, members []member, n map[string]any, lang string, z zones) []keyField {
	skip := map[string]bool{e.Display: true}
	for _, w := range s.cfg.Model.Workflows {
		if w.Entity == e.Name {
			skip[w.Field] = true
		}
	}
	var out []keyField
	for _, kind := range keyFieldKinds {
		taken := 0
		for _, m := range members {
			if len(out) == maxKeyFields || taken == kind.max {
				break
			}
			if skip[m.Name] || (m.Rel != nil && m.Rel.Many()) || !kind.is(e, m) {
				continue
			}
			c := s.cellOf(m, n, lang, z)
			if c.Empty {
				continue
			}
			skip[m.Name] = true
			taken++
			out = append(out, keyField{Name: m.Name, Label: s.memberLabel(m, lang), Value: c})
		}
	}
	return out
}

// recordTab is one tab of a record page: Key is what ?tab= names it by.
type recordTab struct {
	Key, Label, URL string
	Count           int
	Counted, Active bool
}

// tabDetails is the first tab, shown when ?tab= names no tab of the record.
const tabDetails = "details"

// relatedTab is the tab key of a related list.
func relatedTab(rel string) string { return "rel-" + rel }

// recordTabs builds b's tabs and marks the one ?tab= asks for (details when it names none): details,
// each related list with its count, the workflow timeline if the entity has a workflow, and the audit
// history if it is audited.
func (s *server) recordTabs(b *detailBody, requested, lang string) {
	add := func(key, label string, count int, counted bool) {
		b.Tabs = append(b.Tabs, recordTab{Key: key, Label: label, Count: count, Counted: counted,
			URL: b.URL + "?tab=" + url.QueryEscape(key) + "#record-tabs"})
	}
	add(tabDetails, translate(lang, "details"), 0, false)
	for _, rl := range b.Related {
		add(relatedTab(rl.Name), rl.Label, rl.Total, true)
	}
	if b.HasTimeline {
		add("timeline", translate(lang, "workflow"), len(b.Timeline), true)
	}
	if b.HasHistory {
		add("history", translate(lang, "history"), len(b.History), true)
	}
	b.Tab = tabDetails
	for _, t := range b.Tabs {
		if t.Key == requested {
			b.Tab = requested
		}
	}
	for i := range b.Tabs {
		b.Tabs[i].Active = b.Tabs[i].Key == b.Tab
	}
}
