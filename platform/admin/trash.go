package admin

import (
	"net/http"
	"strings"

	"github.com/crmgen/crmgen/metamodel"
)

// trashBody is the data of the screen listing a soft-delete entity's deleted records.
type trashBody struct {
	Entity, Label, URL string
	Columns            []listColumn
	Rows               []listRow
	Deleted            []string // when each row was deleted, by row
	Total              int
}

// trashLimit bounds the deleted records one screen shows (the newest ones).
const trashLimit = 100

// trash serves the deleted records of a soft-delete entity that the user may restore (the API limits
// them to the user's delete scope), newest first, each with a restore button.
func (s *server) trash(w http.ResponseWriter, r *http.Request) {
	e := s.entity(w, r)
	if e == nil {
		return
	}
	ctx := r.Context()
	lq, err := s.newListQuery(ctx, e, nil, "")
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	if !e.Has(metamodel.TraitSoftDelete) || !lq.si.has("Query", e.DeletedQueryField()) {
		s.fail(w, r, http.StatusNotFound, nil)
		return
	}
	lang := language(s.cfg.Model, r)
	f := s.newFrame(r, s.entityLabel(e, lang)+" · "+translate(lang, "deleted records"))
	f.Active = e.Name
	sel := selections(lq.columns)
	query := "query($last: Int) { list: " + e.DeletedQueryField() + "(last: $last) { totalCount edges { node { id deletedAt " +
		strings.Join(sel, " ") + " } } } }"
	resp, err := s.gql(ctx, query, map[string]any{"last": trashLimit})
	if err != nil {
		s.writeRefusal(w, r, e, err)
		return
	}
	b := &trashBody{Entity: e.Name, Label: s.entityLabel(e, lang), URL: entityURL(e)}
	conn := resp.Data["list"]
	b.Total = intOf(dig(conn, "totalCount"))
	ns := nodes(conn)
	for i := len(ns) - 1; i >= 0; i-- { // newest first
		b.Rows = append(b.Rows, s.rowOf(e, lq.columns, ns[i], lang, s.zones(ctx)))
		b.Deleted = append(b.Deleted, s.zones(ctx).instant(str(ns[i]["deletedAt"])))
	}
	for _, m := range lq.columns {
		b.Columns = append(b.Columns, listColumn{Name: m.Name, Label: s.memberLabel(m, lang)})
	}
	f.Body = b
	s.render(w, r, http.StatusOK, "trash", f)
}

// restore restores one deleted record and returns to the trash.
func (s *server) restore(w http.ResponseWriter, r *http.Request) {
	e := s.entity(w, r)
	if e == nil {
		return
	}
	if _, err := s.gql(r.Context(), "mutation($id: ID!) { restore"+e.Name+"(id: $id) { id } }", map[string]any{"id": r.PathValue("id")}); err != nil {
		s.writeRefusal(w, r, e, err)
		return
	}
	s.setFlash(w, r, "restored n")
	redirect(w, r, entityURL(e)+"/deleted")
}
