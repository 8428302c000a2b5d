package admin

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/auth"
)

// Saved views of a list (issue 13): above the list, the user's own views and the shared ones, each a link
// to the list with its query; a form saves the list as it is now under a name. A superuser may share a
// view with everyone; a view is deleted by its owner (a shared one by a superuser too).

// viewsBar is what the list shows of saved views.
type viewsBar struct {
	Views    []savedView
	CanShare bool
	Query    string // the list's current query, what "save view" stores
}

// maxViewName bounds a view's name, in characters.
const maxViewName = 100

// maxViewQuery bounds a view's query, in bytes: the column holds 4000.
const maxViewQuery = 4000

// viewsOf lists the user's views of e's list, or nil without a store or a user.
func (s *server) viewsOf(r *http.Request, e *metamodel.Entity) *viewsBar {
	p := auth.FromContext(r.Context())
	if s.cfg.Views == nil || p == nil {
		return nil
	}
	superuser := isSuperuser(s.cfg.Model, p)
	bar := &viewsBar{CanShare: superuser}
	views, err := s.cfg.Views.list(r.Context(), p.ID, e.Name)
	if err != nil {
		s.cfg.Log.ErrorContext(r.Context(), "saved views", "err", err)
		return bar
	}
	for _, v := range views {
		v.URL = entityURL(e) + "?" + v.Query
		v.Deletable = v.Owned || (v.Shared && superuser)
		bar.Views = append(bar.Views, v)
	}
	return bar
}

// viewQuery is the query a view of the list saves: the request's filters, search, queue and sort, with
// the columns and page size shown (which may come from the remembered choice or the default), not the
// page.
func viewQuery(q url.Values, columns []member, n int) string {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	for _, k := range pagingParams {
		out.Del(k)
	}
	names := make([]string, len(columns))
	for i, m := range columns {
		names[i] = m.Name
	}
	out.Set("cols", strings.Join(names, ","))
	out.Set("n", strconv.Itoa(n))
	return out.Encode()
}

// saveView saves the posted list query under a name for the user, shared when a superuser asks.
func (s *server) saveView(w http.ResponseWriter, r *http.Request) {
	e := s.entity(w, r)
	if e == nil || !parseForm(w, r) {
		return
	}
	p := auth.FromContext(r.Context())
	if s.cfg.Views == nil || p == nil {
		s.fail(w, r, http.StatusNotFound, nil)
		return
	}
	query := cleanViewQuery(r.PostForm.Get("query"))
	name := strings.TrimSpace(r.PostForm.Get("name"))
	if name == "" || utf8.RuneCountInString(name) > maxViewName || len(query) > maxViewQuery {
		redirect(w, r, entityURL(e)+"?"+query)
		return
	}
	shared := r.PostForm.Get("shared") != "" && isSuperuser(s.cfg.Model, p)
	if err := s.cfg.Views.create(r.Context(), p.ID, e.Name, name, query, shared); err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	s.setFlash(w, r, "saved")
	redirect(w, r, entityURL(e)+"?"+query)
}

// deleteView deletes a view the user may delete, and goes back to the list.
func (s *server) deleteView(w http.ResponseWriter, r *http.Request) {
	e := s.entity(w, r)
	if e == nil {
		return
	}
	p := auth.FromContext(r.Context())
	id, err := strconv.Atoi(r.PathValue("view"))
	if s.cfg.Views == nil || p == nil || err != nil {
		s.fail(w, r, http.StatusNotFound, nil)
		return
	}
	ok, err := s.cfg.Views.remove(r.Context(), id, p.ID, isSuperuser(s.cfg.Model, p))
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	if !ok {
		s.fail(w, r, http.StatusForbidden, nil)
		return
	}
	redirect(w, r, entityURL(e))
}
