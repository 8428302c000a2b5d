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

// relatedIDLimit is how many related records a search's relation branch names by id (see searchWhere);
// more than that, and the branch stays a relation filter.
const relatedIDLimit = 500

// searchWhere is the where input of a search for text over e: its search and title fields, the titles
// of the belongsTo relations among shown, and the record id when text is a number. It is noRows when
// the user may search nothing of e.
//
// A relation's branch names the related records whose titles match by id (departmentIDIn: […]), found
// first with a query of the related entity (the user's own, so through its read rules), when there are
// at most relatedIDLimit of them, and is left out when there are none: a database plans a list of
// values it can see (an index on the foreign key, or nothing at all) where it must guess at a relation
// filter's subquery, and its guess (most rows match) made a search of a million patients read them all.
// More matches than that keep the relation filter (hasDepartmentWith).
func (s *server) searchWhere(ctx context.Context, si *schemaInfo, e *metamodel.Entity, shown []member, text string) map[string]any {
	// The entity's TextSearchFields: the fields its bigram indexes serve on Postgres.
	or := textConditions(ctx, si, e, e.TextSearchFields(), text)
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
		sub := textConditions(ctx, si, r.Target, r.Target.TitleFields(), text)
		if len(sub) == 0 {
			continue
		}
		in := r.GraphQLName() + "IDIn"
		if si.has(e.Name+"WhereInput", in) {
			if ids, ok := s.matchingIDs(ctx, r.Target, map[string]any{"or": sub}); ok {
				if len(ids) > 0 {
					or = append(or, map[string]any{in: ids})
				}
				continue
			}
		}
		or = append(or, map[string]any{has: []any{map[string]any{"or": sub}}})
	}
	if id, err := strconv.Atoi(text); err == nil && id > 0 {
		or = append(or, map[string]any{"id": id})
	}
	if len(or) == 0 {
		return noRows
	}
	return map[string]any{"or": or}
}

// matchingIDs are the ids of the records of e matching where that the user of ctx may read, and
// whether they are all of them: false when there are more than relatedIDLimit or the query failed.
func (s *server) matchingIDs(ctx context.Context, e *metamodel.Entity, where map[string]any) ([]any, bool) {
	resp, err := s.gql(ctx, "query($where: "+e.Name+"WhereInput, $first: Int) { l: "+e.QueryField()+"(first: $first, where: $where) { edges { node { id } } } }",
		map[string]any{"where": where, "first": relatedIDLimit + 1})
	if err != nil || len(resp.Errors) > 0 {
		return nil, false
	}
	ids := []any{}
	for _, nd := range nodes(resp.Data["l"]) {
		ids = append(ids, nd["id"])
	}
	return ids, len(ids) <= relatedIDLimit
}
