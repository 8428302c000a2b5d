package admin

import (
	"context"
	"strconv"

	"github.com/crmgen/crmgen/metamodel"
)

// The search box of lists and relation pickers. A search matches what the user sees of a record: its
// `search` fields, its title (the display field, an autoNumber code on most workflow entities) and the
// titles of the related records shown as its columns, so "张三" finds the follow-ups of patient 张三 even
// though a follow-up has no text of its own. Every condition goes through the API, which decides which
// fields and relations this user may filter by; the screens only leave out those it would refuse.

// noRows is a where input that matches no record: ids start at 1. An empty condition ({idIn: []}) is no
// condition at all to entgql, which refuses it as an empty predicate.
var noRows = map[string]any{"idIn": []any{0}}

// textConditions are the containsFold conditions on e's fields matching text, for the fields the user
// may filter by (each field once).
func textConditions(ctx context.Context, si *schemaInfo, e *metamodel.Entity, fields []*metamodel.Field, text string) []any {
	a := access(ctx, e.Name)
	var or []any
	seen := map[string]bool{}
	for _, f := range fields {
		key := f.GraphQLName() + "ContainsFold"
		if seen[key] || f.Secret || !si.has(e.Name+"WhereInput", key) || !a.Sortable(f.Name) {
			continue
		}
		seen[key] = true
		or = append(or, map[string]any{key: text})
	}
	return or
}

// searchWhere is the where input of a search for text over e: its search and title fields, the titles
// of the belongsTo relations among shown, and the record id when text is a number. It is noRows when
// the user may search nothing of e.
func searchWhere(ctx context.Context, si *schemaInfo, e *metamodel.Entity, shown []member, text string) map[string]any {
	or := textConditions(ctx, si, e, append(searchFields(e), e.TitleFields()...), text)
	a := access(ctx, e.Name)
	for _, m := range shown {
		r := m.Rel
		if r == nil || r.Kind != metamodel.BelongsTo || !a.Sortable(r.Name) || !access(ctx, r.To).MayRead() {
			continue
		}
		has := "has" + metamodel.Pascal(r.GraphQLName()) + "With"
		if !si.has(e.Name+"WhereInput", has) {
			continue
		}
		if sub := textConditions(ctx, si, r.Target, r.Target.TitleFields(), text); len(sub) > 0 {
			or = append(or, map[string]any{has: []any{map[string]any{"or": sub}}})
		}
	}
	if id, err := strconv.Atoi(text); err == nil && id > 0 {
		or = append(or, map[string]any{"id": id})
	}
	if len(or) == 0 {
		return noRows
	}
	return map[string]any{"or": or}
}
