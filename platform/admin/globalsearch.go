package admin

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/crmgen/crmgen/platform/enforce"
)

// Global search: the header's search box (Ctrl+K focuses it) asks every entity the user may read through
// the API's search argument, in one operation, so row scopes and field rules hold as they do for any API
// client: rows the user may not read are not found, and a field they may not search by (hidden, or
// sensitive without a visible rule) matches nothing.

// searchHits is the number of records the search page shows per entity; the count says how many match.
const searchHits = 8

// searchBody is the global search page.
type searchBody struct {
	Q      string
	Groups []searchGroup
}

// searchGroup is one entity's matches.
type searchGroup struct {
	Entity, Label, SeeAll string
	Total                 int
	Hits                  []searchHit
}

// searchHit is one matching record.
type searchHit struct{ Title, URL string }

// globalSearch serves GET /search?q=….
func (s *server) globalSearch(w http.ResponseWriter, r *http.Request) {
	f := s.newFrame(r, "")
	f.Title = f.T("search everything")
	ctx := r.Context()
	text := strings.TrimSpace(r.URL.Query().Get("q"))
	if len([]rune(text)) > 100 {
		text = string([]rune(text)[:100])
	}
	body := &searchBody{Q: text}
	f.Body = body
	si, err := s.schema(ctx)
	if text == "" || err != nil {
		s.render(w, r, http.StatusOK, "search", f)
		return
	}
	rt := enforce.FromContext(ctx)
	var q strings.Builder
	var asked []navItem
	for _, n := range f.Nav {
		e := s.cfg.Model.Entity(n.Name)
		if !si.hasArg("Query", e.QueryField(), "search") || (rt != nil && len(rt.Searchable(ctx, e.Name)) == 0) {
			continue // nothing of it the user may search by
		}
		fmt.Fprintf(&q, " e%d: %s(search: $q, first: %d) { totalCount edges { node { %s } } }", len(asked), e.QueryField(), searchHits, displaySelection(e))
		asked = append(asked, n)
	}
	if len(asked) > 0 {
		resp, err := s.gql(ctx, "query($q: String) {"+q.String()+" }", map[string]any{"q": text})
		if resp == nil {
			s.fail(w, r, http.StatusInternalServerError, err)
			return
		}
		for i, n := range asked {
			conn, ok := resp.Data[fmt.Sprintf("e%d", i)].(map[string]any)
			if !ok || intOf(conn["totalCount"]) == 0 {
				continue
			}
			e := s.cfg.Model.Entity(n.Name)
			g := searchGroup{Entity: e.Name, Label: n.Label, Total: intOf(conn["totalCount"]), SeeAll: entityURL(e) + "?q=" + urlQueryEscape(text)}
			for _, nd := range nodes(conn) {
				g.Hits = append(g.Hits, searchHit{Title: s.displayOf(e, nd, f.Lang), URL: recordURL(e, str(nd["id"]))})
			}
			body.Groups = append(body.Groups, g)
		}
	}
	s.render(w, r, http.StatusOK, "search", f)
}
