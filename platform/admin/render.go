package admin

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"html/template"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/auth"
	"github.com/crmgen/crmgen/platform/enforce"
	"github.com/crmgen/crmgen/platform/requestid"
	views "github.com/crmgen/crmgen/templates/admin"
)

// pageSet holds one template set per page: the shared layout cloned, plus the page's own file, so every
// page can define its own "content".
type pageSet struct {
	byName map[string]*template.Template
}

var funcs = template.FuncMap{
	"add":   func(a, b int) int { return a + b },
	"sub":   func(a, b int) int { return a - b },
	"query": urlQueryEscape,
	"asset": func(name string) string { return "/static/" + name + "?v=" + assetVersion },
}

func loadPages() *pageSet {
	base := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(views.Files, "layout.html"))
	names, err := fs.Glob(views.Files, "pages/*.html")
	if err != nil {
		panic(err)
	}
	ps := &pageSet{byName: map[string]*template.Template{}}
	for _, n := range names {
		t := template.Must(template.Must(base.Clone()).ParseFS(views.Files, n))
		ps.byName[strings.TrimSuffix(path.Base(n), ".html")] = t
	}
	return ps
}

// frame is what the layout renders around every page; Body is the page's own data.
type frame struct {
	Lang     string
	Langs    []string
	AppTitle string
	Title    string
	User     *auth.Principal
	Nav      []navItem
	Unread   int
	HasInbox bool
	Diagrams bool   // the user may see the model's diagrams (a superuser): the navigation links to them
	Profile  bool   // the app keeps users' preferences: the header links to the profile page
	Path     string // the current request URI, to return to after switching language
	Active   string // the entity whose screens are shown, highlighted in the navigation
	Flash    string
	Error    string
	Body     any
}

// T translates a catalogue key in the page's language: {{$.T "save"}}.
func (f *frame) T(key string) string { return translate(f.Lang, key) }

// navItem is one entity in the navigation.
type navItem struct {
	Name, Label, URL string
	Count            int
	CountCapped      bool // more than Count records (Config.CountLimit)
}

// newFrame builds the frame of a page for r: language, user and the navigation of entities they may read.
func (s *server) newFrame(r *http.Request, title string) *frame {
	lang := language(s.cfg.Model, r)
	f := &frame{Lang: lang, Langs: languages, AppTitle: s.cfg.Model.Localize(s.cfg.Model.App.Title, lang, s.cfg.Model.App.Name),
		Title: title, User: auth.FromContext(r.Context()), Path: r.URL.RequestURI()}
	if f.User != nil {
		f.Nav = s.navigation(r.Context(), lang)
		f.Diagrams = mayDesign(s.cfg.Model, f.User)
		f.Profile = s.cfg.Preferences != nil
		if si, err := s.schema(r.Context()); err == nil && si.has("Query", "unreadCount") {
			f.HasInbox = true
			if resp, err := s.gql(r.Context(), `{ unreadCount }`, nil); err == nil {
				f.Unread = intOf(resp.Data["unreadCount"])
			}
		}
	}
	if c, err := r.Cookie("flash"); err == nil {
		f.Flash = flashText(lang, c.Value)
	}
	return f
}

// navigation lists the entities the user may read, in model order.
func (s *server) navigation(ctx context.Context, lang string) []navItem {
	var out []navItem
	for _, e := range s.cfg.Model.Entities {
		if access(ctx, e.Name).MayRead() {
			out = append(out, navItem{Name: e.Name, Label: s.entityLabel(e, lang), URL: entityURL(e)})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return builtinLast(out[i].Name) < builtinLast(out[j].Name) })
	return out
}

// builtinLast orders the model's own entities before the built-in User and Team.
func builtinLast(name string) int {
	if name == "User" || name == "Team" {
		return 1
	}
	return 0
}

// render writes the named page (or, for an htmx request, the named partial when part is not "").
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, name string, f *frame) {
	s.renderTemplate(w, r, status, name, "layout", f)
}

// renderPart writes one partial template of a page (what htmx swaps in).
func (s *server) renderPart(w http.ResponseWriter, r *http.Request, name, part string, f *frame) {
	s.renderTemplate(w, r, http.StatusOK, name, part, f)
}

func (s *server) renderTemplate(w http.ResponseWriter, r *http.Request, status int, name, tmpl string, f *frame) {
	t := s.pages.byName[name]
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, tmpl, f); err != nil {
		s.cfg.Log.ErrorContext(r.Context(), "render admin page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if f.Flash != "" {
		s.setCookie(w, r, &http.Cookie{Name: "flash", Path: "/", MaxAge: -1})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Vary", "Cookie, HX-Request, Accept-Encoding")
	body := buf.Bytes()
	if acceptsGzip(r) && len(body) > 1400 {
		if z := gzipped(body); z != nil {
			w.Header().Set("Content-Encoding", "gzip")
			body = z
		}
	}
	w.WriteHeader(status)
	w.Write(body)
}

// acceptsGzip reports whether the client takes gzip-encoded responses.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(enc, "gzip") && strings.TrimSpace(q) != "q=0" {
			return true
		}
	}
	return false
}

// gzipped compresses b, or returns nil when that does not make it smaller.
func gzipped(b []byte) []byte {
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestSpeed)
	zw.Write(b)
	zw.Close()
	if z.Len() >= len(b) {
		return nil
	}
	return z.Bytes()
}

// fail renders an error page: not found (also for rows the user may not read, which do not exist for
// them), forbidden, or a general error whose detail goes to the log only.
func (s *server) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	f := s.newFrame(r, "")
	switch status {
	case http.StatusNotFound:
		f.Error = f.T("not found")
	case http.StatusForbidden:
		f.Error = f.T("forbidden")
		if es, ok := err.(gqlErrors); ok && len(es) > 0 {
			f.Error += ": " + es[0].Message
		}
	default:
		f.Error = errorText(f.Lang, requestid.From(r.Context()))
		if err != nil {
			s.cfg.Log.ErrorContext(r.Context(), "admin screen", "path", r.URL.Path, "err", err)
		}
	}
	f.Title = f.Error
	s.render(w, r, status, "error", f)
}

func flashText(lang, v string) string {
	key, err := url.QueryUnescape(v)
	if err != nil || catalogue["en"][key] == "" {
		return ""
	}
	return translate(lang, key)
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// entity resolves the {entity} of a path for a screen that reads it, or answers 404 when the model has no
// such entity and 403 when the user may read none of its records: such an entity has no screens for them,
// as it has no card on their home. The built-in User and Team follow the same rule (every signed-in user
// may read them unless a role of the model declares who may).
func (s *server) entity(w http.ResponseWriter, r *http.Request) *metamodel.Entity {
	return s.entityIf(w, r, (*enforce.Access).MayRead)
}

// entityIf is entity for a screen that needs the right may grants (MayCreate for a create form).
func (s *server) entityIf(w http.ResponseWriter, r *http.Request, may func(*enforce.Access) bool) *metamodel.Entity {
	e := s.cfg.Model.Entity(r.PathValue("entity"))
	switch {
	case e == nil:
		s.fail(w, r, http.StatusNotFound, nil)
	case !may(access(r.Context(), e.Name)):
		s.fail(w, r, http.StatusForbidden, nil)
		return nil
	}
	return e
}

// static assets, with their content hashes as ETags. The files stay where go:embed put them, in the
// binary's read-only data, and are streamed from there: copying them to the heap (mermaid alone is
// 5.5 MB) would hold 9 MB of the app's live heap, and twice that of its memory under the collector.
// Only their gzipped forms, made once at start, are kept.
type staticFile struct {
	name        string
	gz          []byte // the gzipped body, nil when compression does not pay
	etag, ctype string
}

var statics = func() map[string]*staticFile {
	out := map[string]*staticFile{}
	entries, err := fs.ReadDir(views.Files, "static")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		f, err := views.Files.Open("static/" + e.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.New()
		var z bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&z, gzip.BestSpeed)
		n, err := io.Copy(io.MultiWriter(sum, zw), f)
		f.Close()
		if err != nil {
			panic(err)
		}
		zw.Close()
		var gz []byte
		if int64(z.Len()) < n {
			gz = bytes.Clone(z.Bytes())
		}
		ct := mime.TypeByExtension(path.Ext(e.Name()))
		if ct == "" || strings.HasPrefix(e.Name(), "LICENSE") {
			ct = "text/plain; charset=utf-8"
		}
		out[e.Name()] = &staticFile{name: e.Name(), gz: gz, etag: `"` + hex.EncodeToString(sum.Sum(nil)[:8]) + `"`, ctype: ct}
	}
	return out
}()

// assetVersion changes whenever any asset does, so pages can ask for /static/x?v=… and cache for long.
var assetVersion = func() string {
	h := sha256.New()
	names := make([]string, 0, len(statics))
	for n := range statics {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		h.Write([]byte(statics[n].etag))
	}
	return hex.EncodeToString(h.Sum(nil)[:6])
}()

func serveStatic(w http.ResponseWriter, r *http.Request) {
	f := statics[r.PathValue("file")]
	if f == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", f.ctype)
	w.Header().Set("ETag", f.etag)
	if r.URL.Query().Get("v") != "" {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Header().Set("Vary", "Accept-Encoding")
	if r.Header.Get("If-None-Match") == f.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if f.gz != nil && acceptsGzip(r) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(f.gz)
		return
	}
	body, err := views.Files.Open("static/" + f.name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer body.Close()
	io.Copy(w, body)
}

// serveFavicon answers the browser's automatic request with an empty icon, so it logs no 404.
func serveFavicon(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.WriteHeader(http.StatusNoContent)
}
