package admin

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/crmgen/crmgen/metamodel"
)

// exportPage is how many rows one GraphQL request of an export reads.
const exportPage = 500

// export streams the list's rows (same search, filters and order) as CSV: every field and to-one
// relation the user may see in lists, read through the API page by page. It needs the role's export
// right; sensitive fields not made visible to the role and hidden fields are left out, as in lists.
func (s *server) export(w http.ResponseWriter, r *http.Request) {
	e := s.entity(w, r)
	if e == nil {
		return
	}
	ctx := r.Context()
	lq, err := s.newListQuery(ctx, e, r.URL.Query(), language(s.cfg.Model, r))
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	if !lq.a.MayExport() {
		s.fail(w, r, http.StatusForbidden, nil)
		return
	}
	lang := language(s.cfg.Model, r)
	var cols []member
	for _, m := range detailMembers(e) {
		if !lq.a.Lists(m.Name) || (m.Rel != nil && m.Rel.Many()) ||
			(m.Field != nil && (m.Field.Type == metamodel.TypeJSON || m.Field.Type.Attachment())) {
			continue
		}
		if m.Field != nil && !lq.si.has(e.Name, m.Field.GraphQLName()) {
			continue
		}
		cols = append(cols, m)
	}
	cols = exportColumns(r, e, cols)
	sel := selections(cols)
	query := "query($first: Int, $after: Cursor, $where: " + e.Name + "WhereInput, $orderBy: [" + e.Name + "Order!]) { " +
		"list: " + e.QueryField() + "(first: $first, after: $after, where: $where, orderBy: $orderBy) { " +
		"pageInfo { hasNextPage endCursor } edges { node { id " + strings.Join(sel, " ") + " } } } }"

	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.csv"`, e.QueryField(), time.Now().In(s.zones(r.Context()).user).Format("20060102")))
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("\uFEFF")) // a byte-order mark, so spreadsheet programs read the UTF-8 as such
	cw := csv.NewWriter(w)
	header := []string{"id"}
	for _, m := range cols {
		header = append(header, s.memberLabel(m, lang))
	}
	cw.Write(header)
	vars := map[string]any{"where": lq.where, "first": exportPage}
	if len(lq.orderBy) > 0 {
		vars["orderBy"] = lq.orderBy
	}
	for {
		resp, err := s.gql(ctx, query, vars)
		if err != nil {
			s.cfg.Log.ErrorContext(ctx, "export", "entity", e.Name, "err", err)
			cw.Write([]string{"export failed"})
			break
		}
		conn := resp.Data["list"]
		for _, nd := range nodes(conn) {
			rec := []string{str(nd["id"])}
			for _, m := range cols {
				rec = append(rec, csvSafe(s.cellOf(m, nd, lang, s.zones(ctx)).Text))
			}
			cw.Write(rec)
		}
		if dig(conn, "pageInfo", "hasNextPage") != true {
			break
		}
		vars["after"] = dig(conn, "pageInfo", "endCursor")
	}
	cw.Flush()
}

// exportColumns narrows the exported columns to the list's column choice: cols= in the export link
// (which carries the list's query), else the choice remembered for the user, so the file has the columns
// the user looked at, in the list's order. Only names among allowed (what the user may read in lists)
// count; with no valid choice every allowed column is exported, as before the chooser.
func exportColumns(r *http.Request, e *metamodel.Entity, allowed []member) []member {
	names := rememberedCols(r, e)
	if q := r.URL.Query(); q.Has("cols") {
		names = parseCols(q["cols"])
	}
	if len(names) == 0 {
		return allowed
	}
	ok := map[string]bool{}
	for _, m := range allowed {
		ok[m.Name] = true
	}
	var order []member
	for _, m := range columnCandidates(e) {
		if ok[m.Name] {
			order = append(order, m)
		}
	}
	if chosen := pickColumns(order, names); len(chosen) > 0 {
		return chosen
	}
	return allowed
}

// csvSafe defuses cells a spreadsheet would run as a formula (CSV injection): a leading =, +, -, @, tab
// or carriage return gets a quote in front.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// bulkResult is the answer to a bulk delete that refused some rows: how many were deleted, and each
// refused row with the reason.
type bulkResult struct {
	Label, Done, NotDone, Back string
	Refused                    []refusedRow
}

type refusedRow struct{ ID, Title, URL, Reason string }

// bulkDelete deletes the checked rows one by one, each in its own transaction, so a row the API refuses
// (still referred to, locked, outside the user's scope) keeps only itself: the others are deleted, and
// the user is told which rows were not and why.
func (s *server) bulkDelete(w http.ResponseWriter, r *http.Request) {
	e := s.entity(w, r)
	if e == nil {
		return
	}
	if !parseForm(w, r) {
		return
	}
	ids := r.PostForm["id"]
	back := entityURL(e)
	if next := localPath(r.PostForm.Get("next")); strings.HasPrefix(next, back) {
		back = next
	}
	if len(ids) == 0 {
		redirect(w, r, back)
		return
	}
	ctx := r.Context()
	lang := language(s.cfg.Model, r)
	// The rows' titles, read before they go, to name the ones refused.
	titles := map[string]string{}
	if resp, err := s.gql(ctx, "query($ids: [ID!]) { l: "+e.QueryField()+"(first: "+strconv.Itoa(len(ids))+", where: {idIn: $ids}) { edges { node { "+
		displaySelection(e)+" } } } }", map[string]any{"ids": ids}); err == nil {
		for _, nd := range nodes(resp.Data["l"]) {
			titles[str(nd["id"])] = s.displayOf(e, nd, lang)
		}
	}
	b := &bulkResult{Label: s.entityLabel(e, lang), Back: back}
	deleted := 0
	for _, id := range ids {
		if _, err := s.gql(ctx, "mutation($id: ID!) { delete"+e.Name+"(id: $id) }", map[string]any{"id": id}); err != nil {
			title := titles[id]
			if title == "" {
				title = s.entityLabel(e, lang) + " #" + id
			}
			b.Refused = append(b.Refused, refusedRow{ID: id, Title: title, URL: recordURL(e, id), Reason: s.refusal(r, e, "", err)})
			continue
		}
		deleted++
	}
	if len(b.Refused) == 0 {
		s.setFlash(w, r, "deleted n")
		redirect(w, r, back)
		return
	}
	b.Done = fmt.Sprintf(translate(lang, "deleted of"), deleted, len(ids))
	b.NotDone = fmt.Sprintf(translate(lang, "not deleted"), len(b.Refused))
	f := s.newFrame(r, b.Label)
	f.Active = e.Name
	f.Body = b
	s.render(w, r, http.StatusOK, "deleted", f) // an answer, not a failed page load
}

// deleteOne deletes one record from its detail screen.
func (s *server) deleteOne(w http.ResponseWriter, r *http.Request) {
	e := s.entity(w, r)
	if e == nil {
		return
	}
	if _, err := s.gql(r.Context(), "mutation($id: ID!) { delete"+e.Name+"(id: $id) }", map[string]any{"id": r.PathValue("id")}); err != nil {
		if es, ok := err.(gqlErrors); ok && !es.hasCode("NOT_FOUND") && !es.hasCode("FORBIDDEN") {
			s.showDetail(w, r, http.StatusOK, s.refusal(r, e, "", err)) // e.g. still referenced: say why, on the record
			return
		}
		s.writeRefusal(w, r, e, err)
		return
	}
	s.setFlash(w, r, "deleted n")
	redirect(w, r, entityURL(e))
}

// writeRefusal shows why the API refused a write: forbidden, not found, or its message.
func (s *server) writeRefusal(w http.ResponseWriter, r *http.Request, e *metamodel.Entity, err error) {
	es, ok := err.(gqlErrors)
	switch {
	case ok && es.hasCode("NOT_FOUND"):
		s.fail(w, r, http.StatusNotFound, err)
	case ok && (es.hasCode("FORBIDDEN") || es.hasCode("FORBIDDEN_FIELD")):
		s.fail(w, r, http.StatusForbidden, err)
	case ok:
		f := s.newFrame(r, "")
		f.Error = s.refusal(r, e, "", es)
		f.Title = f.T("error")
		s.render(w, r, http.StatusOK, "error", f) // a refusal explained, not a failed page load
	default:
		s.fail(w, r, http.StatusInternalServerError, err)
	}
}
