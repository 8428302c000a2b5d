package admin

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/auth"
)

// The column chooser of a list: the user shows or hides columns among the members they may list, with
// cols=name,phone (or the chooser's checkboxes, cols=name&cols=phone) in the URL so a choice is linkable
// and works without script. The choice is remembered per user and entity in a cookie and used when a
// request names no columns. A name the user may not list (a field hidden from their role, a secret, a
// name that is no member) is dropped on the server, whatever the URL says: the chooser only narrows the
// columns the field rules already allow.

// columnChoice is one checkbox of the column chooser.
type columnChoice struct {
	Name, Label string
	Shown       bool
}

// columnCandidates are the members a list could show as columns, default columns first: every field but
// secrets and JSON documents, and the belongsTo relations.
func columnCandidates(e *metamodel.Entity) []member {
	out := listColumns(e)
	seen := map[string]bool{}
	for _, m := range out {
		seen[m.Name] = true
	}
	for _, f := range e.Fields {
		if !seen[f.Name] && !f.Secret && f.Type != metamodel.TypeJSON {
			seen[f.Name] = true
			out = append(out, member{Name: f.Name, Field: f})
		}
	}
	for _, r := range e.Relations {
		if !seen[r.Name] && r.Kind == metamodel.BelongsTo {
			seen[r.Name] = true
			out = append(out, member{Name: r.Name, Rel: r})
		}
	}
	return out
}

// parseCols reads the requested column names: comma-separated values, possibly repeated, trimmed, empty
// and repeated names dropped, in the order given.
func parseCols(values []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range values {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" && !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
	}
	return out
}

// pickColumns keeps the allowed members that names asks for, in the allowed (chooser) order, so the
// columns do not reorder as boxes are ticked. Names outside allowed are ignored.
func pickColumns(allowed []member, names []string) []member {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []member
	for _, m := range allowed {
		if want[m.Name] {
			out = append(out, m)
		}
	}
	return out
}

// colsCookie names the cookie remembering the columns chosen for an entity's list.
func colsCookie(e *metamodel.Entity) string { return "cols_" + e.Name }

// rememberedCols is the column names remembered for the user, nil when none are (or the cookie is
// another user's, on a shared browser).
func rememberedCols(r *http.Request, e *metamodel.Entity) []string {
	p := auth.FromContext(r.Context())
	c, err := r.Cookie(colsCookie(e))
	if p == nil || err != nil {
		return nil
	}
	v, err := url.QueryUnescape(c.Value)
	if err != nil {
		return nil
	}
	user, names, ok := strings.Cut(v, ":")
	if !ok || user != strconv.Itoa(p.ID) {
		return nil
	}
	return parseCols([]string{names})
}

// rememberCols keeps the chosen columns for the user's next visit to the list, or forgets them when the
// user went back to the default columns.
func (s *server) rememberCols(w http.ResponseWriter, r *http.Request, e *metamodel.Entity, chosen []member) {
	p := auth.FromContext(r.Context())
	if p == nil {
		return
	}
	c := &http.Cookie{Name: colsCookie(e), Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode}
	if len(chosen) == 0 {
		c.MaxAge = -1
	} else {
		names := make([]string, len(chosen))
		for i, m := range chosen {
			names[i] = m.Name
		}
		c.Value = url.QueryEscape(strconv.Itoa(p.ID) + ":" + strings.Join(names, ","))
		c.MaxAge = 365 * 24 * 3600
	}
	s.setCookie(w, r, c)
}

// chooseColumns applies the request's column choice (or the remembered one) to lq, and returns the
// chooser's checkboxes. allowed are the candidates the user may list; with no valid choice the list keeps
// its default columns.
func (s *server) chooseColumns(w http.ResponseWriter, r *http.Request, lq *listQuery, lang string) []columnChoice {
	var allowed []member
	for _, m := range columnCandidates(lq.e) {
		if lq.a.Lists(m.Name) {
			allowed = append(allowed, m)
		}
	}
	q := r.URL.Query()
	var chosen []member
	if q.Has("cols") {
		chosen = pickColumns(allowed, parseCols(q["cols"]))
		s.rememberCols(w, r, lq.e, chosen)
	} else {
		chosen = pickColumns(allowed, rememberedCols(r, lq.e))
	}
	if len(chosen) > 0 {
		lq.columns = chosen
	}
	shown := map[string]bool{}
	for _, m := range lq.columns {
		shown[m.Name] = true
	}
	out := make([]columnChoice, len(allowed))
	for i, m := range allowed {
		out[i] = columnChoice{Name: m.Name, Label: s.memberLabel(m, lang), Shown: shown[m.Name]}
	}
	return out
}
