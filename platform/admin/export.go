package admin

import (
	"encoding/csv"
	"fmt"
	"net/http"
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
	lq, err := s.newListQuery(ctx, e, r.URL.Query())
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
			(m.Field != nil && m.Field.Type == metamodel.TypeJSON) {
			continue
		}
		if m.Field != nil && !lq.si.has(e.Name, m.Field.GraphQLName()) {
			continue
		}
		cols = append(cols, m)
	}
	sel := selections(cols)
	query := "query($first: Int, $after: Cursor, $where: " + e.Name + "WhereInput, $orderBy: [" + e.Name + "Order!]) { " +
		"list: " + e.QueryField() + "(first: $first, after: $after, where: $where, orderBy: $orderBy) { " +
		"pageInfo { hasNextPage endCursor } edges { node { id " + strings.Join(sel, " ") + " } } } }"

	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.csv"`, e.QueryField(), time.Now().Format("20060102")))
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
				rec = append(rec, csvSafe(s.cellOf(m, nd, lang).Text))
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

// csvSafe defuses cells a spreadsheet would run as a formula (CSV injection): a leading =, +, -, @, tab
// or carriage return gets a quote in front.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// bulkDelete deletes the checked rows in one GraphQL operation (one transaction: all or none).
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
	var q strings.Builder
	q.WriteString("mutation(")
	vars := map[string]any{}
	for i, id := range ids {
		if i > 0 {
			q.WriteString(", ")
		}
		fmt.Fprintf(&q, "$id%d: ID!", i)
		vars[fmt.Sprintf("id%d", i)] = id
	}
	q.WriteString(") {")
	for i := range ids {
		fmt.Fprintf(&q, " d%d: delete%s(id: $id%d)", i, e.Name, i)
	}
	q.WriteString(" }")
	if _, err := s.gql(r.Context(), q.String(), vars); err != nil {
		s.writeRefusal(w, r, err)
		return
	}
	s.setFlash(w, r, "deleted n")
	redirect(w, r, back)
}

// deleteOne deletes one record from its detail screen.
func (s *server) deleteOne(w http.ResponseWriter, r *http.Request) {
	e := s.entity(w, r)
	if e == nil {
		return
	}
	if _, err := s.gql(r.Context(), "mutation($id: ID!) { delete"+e.Name+"(id: $id) }", map[string]any{"id": r.PathValue("id")}); err != nil {
		if es, ok := err.(gqlErrors); ok && !es.hasCode("NOT_FOUND") && !es.hasCode("FORBIDDEN") {
			s.showDetail(w, r, http.StatusOK, s.refusalText(r, err)) // e.g. still referenced: say why, on the record
			return
		}
		s.writeRefusal(w, r, err)
		return
	}
	s.setFlash(w, r, "deleted n")
	redirect(w, r, entityURL(e))
}

// writeRefusal shows why the API refused a write: forbidden, not found, or its message.
func (s *server) writeRefusal(w http.ResponseWriter, r *http.Request, err error) {
	es, ok := err.(gqlErrors)
	switch {
	case ok && es.hasCode("NOT_FOUND"):
		s.fail(w, r, http.StatusNotFound, err)
	case ok && (es.hasCode("FORBIDDEN") || es.hasCode("FORBIDDEN_FIELD")):
		s.fail(w, r, http.StatusForbidden, err)
	case ok:
		f := s.newFrame(r, "")
		f.Error = es.Error()
		f.Title = f.T("error")
		s.render(w, r, http.StatusOK, "error", f) // a refusal explained, not a failed page load
	default:
		s.fail(w, r, http.StatusInternalServerError, err)
	}
}
