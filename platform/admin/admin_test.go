package admin

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crmgen/crmgen/internal/modeltest"
	"github.com/crmgen/crmgen/metamodel"
	views "github.com/crmgen/crmgen/templates/admin"
)

// The screens' pure parts and the pages served without a session. Everything that needs data is tested
// against generated apps in a real browser (e2e/admin_*_test.go).

const tinyModel = `
app: {name: tiny, title: {zh: 小应用, en: Tiny app}, locales: [zh, en], defaultLocale: zh}
entities:
  Item:
    label: {zh: 物品, en: Item}
    fields:
      name: {type: string, required: true, search: true}
`

func newTestHandler(t *testing.T) http.Handler {
	t.Helper()
	m := modeltest.FromYAML(t, tinyModel)
	return Handler(Config{Model: m, GraphQL: http.NotFoundHandler()})
}

func TestSignedOutVisitorsGoToSignIn(t *testing.T) {
	h := newTestHandler(t)
	for _, path := range []string{"/", "/e/Item", "/e/Item/12/edit"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/login?next=") {
			t.Errorf("GET %s: %d %s, want a redirect to the sign-in page", path, rec.Code, rec.Header().Get("Location"))
		}
	}
}

func TestSignInPage(t *testing.T) {
	h := newTestHandler(t)
	for lang, want := range map[string]string{"zh": "登录", "en": "Sign in"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/login?next=/e/Item", nil)
		req.Header.Set("Accept-Language", lang)
		h.ServeHTTP(rec, req)
		body := rec.Body.String()
		if rec.Code != 200 || !strings.Contains(body, want) || !strings.Contains(body, `value="/e/Item"`) {
			t.Errorf("sign-in page in %s: %d\n%s", lang, rec.Code, body)
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("no content security policy: %q", csp)
		}
	}
}

func TestStaticAssets(t *testing.T) {
	h := newTestHandler(t)
	req := httptest.NewRequest("GET", "/static/htmx.min.js?v="+assetVersion, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Header().Get("Content-Encoding") != "gzip" || !strings.Contains(rec.Header().Get("Cache-Control"), "immutable") {
		t.Errorf("htmx: %d %v", rec.Code, rec.Header())
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/static/nope.js", nil))
	if rec.Code != 404 {
		t.Errorf("unknown asset: %d", rec.Code)
	}
	// Every asset, plain and gzipped, is the embedded file, with its hash as ETag.
	entries, err := fs.ReadDir(views.Files, "static")
	if err != nil || len(entries) == 0 {
		t.Fatalf("no assets: %v", err)
	}
	for _, e := range entries {
		want, err := fs.ReadFile(views.Files, "static/"+e.Name())
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(want)
		for _, gz := range []bool{false, true} {
			req := httptest.NewRequest("GET", "/static/"+e.Name(), nil)
			if gz {
				req.Header.Set("Accept-Encoding", "gzip")
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			body := rec.Body.Bytes()
			if rec.Header().Get("Content-Encoding") == "gzip" {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			} else if gz && len(want) > 4096 {
				t.Errorf("%s: not gzipped for a client that takes it", e.Name())
			}
			if rec.Code != 200 || !bytes.Equal(body, want) || rec.Header().Get("ETag") != `"`+hex.EncodeToString(sum[:8])+`"` {
				t.Errorf("%s (gzip %t): %d, %d bytes of %d, ETag %s", e.Name(), gz, rec.Code, len(body), len(want), rec.Header().Get("ETag"))
			}
		}
	}
}

func TestPublic(t *testing.T) {
	for path, want := range map[string]bool{"/": true, "/login": true, "/static/admin.css": true, "/e/Item/1": true,
		"/metrics": false, "/graphqlx": false, "/debug/pprof": false} {
		if got := Public(httptest.NewRequest("GET", path, nil)); got != want {
			t.Errorf("Public(%s) = %v, want %v", path, got, want)
		}
	}
}

func TestCSVSafe(t *testing.T) {
	for in, want := range map[string]string{"=1+1": "'=1+1", "@SUM(A1)": "'@SUM(A1)", "-5": "'-5", "张三": "张三", "": ""} {
		if got := csvSafe(in); got != want {
			t.Errorf("csvSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInputValues(t *testing.T) {
	// The app's zone, not the server's: what the form says is a time of the app's zone.
	loc := time.FixedZone("CST", 8*3600)
	z := zones{app: loc, user: loc}
	defer func(l *time.Location) { time.Local = l }(time.Local)
	time.Local = time.UTC
	cases := []struct {
		typ  metamodel.FieldType
		raw  string
		want any
		rule string
	}{
		{metamodel.TypeInt, "42", int64(42), ""},
		{metamodel.TypeInt, "4.2", nil, "number"},
		{metamodel.TypeDecimal, "1,234.50", 1234.5, ""},
		{metamodel.TypeDate, "2026-03-01", "2026-03-01T00:00:00+08:00", ""},
		{metamodel.TypeDateTime, "2026-03-01T09:30", "2026-03-01T09:30:00+08:00", ""},
		{metamodel.TypeDateTime, "yesterday", nil, "date"},
		{metamodel.TypeBool, "", false, ""},
		{metamodel.TypeBool, "true", true, ""},
		{metamodel.TypeString, "  ", nil, ""},
		{metamodel.TypeJSON, `{"a": 1}`, map[string]any{"a": float64(1)}, ""},
		{metamodel.TypeJSON, `{`, nil, "json"},
	}
	for _, c := range cases {
		got, rule := inputValue(&metamodel.Field{Type: c.typ}, c.raw, z)
		if rule != c.rule || str(got) != str(c.want) {
			t.Errorf("inputValue(%s, %q) = %v, %q; want %v, %q", c.typ, c.raw, got, rule, c.want, c.rule)
		}
	}
	// What the form shows of a stored value parses back to the same value.
	f := &metamodel.Field{Type: metamodel.TypeDateTime}
	stored := "2026-03-01T01:30:00Z"
	if got := formValue(f, stored, z); got != "2026-03-01T09:30" {
		t.Errorf("formValue(%s) = %q, want the app zone's 2026-03-01T09:30", stored, got)
	}
	back, _ := inputValue(f, formValue(f, stored, z), z)
	if !sameValue(f, stored, back) {
		t.Errorf("datetime round trip: %s → %q → %v", stored, formValue(f, stored, z), back)
	}
}

// A user's own zone (issue 13): a time is shown and read in it, a date stays the app zone's day, the same
// for everyone, since the API stores a date as its midnight in the app's zone.
func TestUserZone(t *testing.T) {
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	london, _ := time.LoadLocation("Europe/London")
	z := zones{app: shanghai, user: london}
	at := &metamodel.Field{Name: "at", Type: metamodel.TypeDateTime}
	day := &metamodel.Field{Type: metamodel.TypeDate}
	if got := formValue(at, "2026-11-25T08:30:00+08:00", z); got != "2026-11-25T00:30" {
		t.Errorf("the 08:30 Shanghai slot shows as %q in London, want 2026-11-25T00:30", got)
	}
	if got, _ := inputValue(at, "2026-12-30T08:30", z); got != "2026-12-30T08:30:00Z" {
		t.Errorf("08:30 entered in London is %v, want 2026-12-30T08:30:00Z", got)
	}
	if got := formValue(day, "1968-06-01T00:00:00+08:00", z); got != "1968-06-01" {
		t.Errorf("a date shows as %q for a user in London, want the stored day 1968-06-01", got)
	}
	if got, _ := inputValue(day, "1968-06-02", z); got != "1968-06-02T00:00:00+08:00" {
		t.Errorf("a date entered in London is %v, want its midnight in the app's zone", got)
	}
	s := &server{zone: shanghai}
	if got := s.cellOf(member{Name: "at", Field: at}, map[string]any{"at": "2026-11-25T08:30:00+08:00"}, "en", z).Text; got != "2026-11-25 00:30" {
		t.Errorf("the list shows the slot as %q in London", got)
	}
	if got := z.instant("2026-11-25T08:30:00+08:00"); got != "2026-11-25 00:30" {
		t.Errorf("a history time shows as %q in London", got)
	}
	for _, name := range []string{"Europe/London", "America/New_York", "UTC"} {
		if loadZone(name) == nil {
			t.Errorf("loadZone refused %q", name)
		}
	}
	for _, name := range []string{"", "Local", "Mars/Olympus_Mons", "../../etc/passwd", "Europe/London\x00"} {
		if loadZone(name) != nil {
			t.Errorf("loadZone accepted %q", name)
		}
	}
}

// A report's drill-down for a user in another zone (issue 13): a time bucket is a range of the app zone's
// days, so the link pins the list's filter to the app's zone, and the list reads it so; a date bucket and
// a user in the app's zone need nothing.
func TestDrillDownZone(t *testing.T) {
	model := `
app: {name: zoned, title: {zh: 时区, en: Zoned}, locales: [zh, en], defaultLocale: zh, timezone: Asia/Shanghai}
entities:
  Visit:
    fields:
      name: {type: string}
      at: {type: datetime}
      day: {type: date}
reports:
  byMonth: {entity: Visit, groupBy: [{field: at, bucket: month}], measures: [count]}
  byDay: {entity: Visit, groupBy: [{field: day, bucket: month}], measures: [count]}
`
	m := modeltest.FromYAML(t, model)
	shanghai, london := m.App.Location(), loadZone("Europe/London")
	s := &server{cfg: Config{Model: m}, zone: shanghai}
	e := m.Entity("Visit")
	away, home := zones{app: shanghai, user: london}, zones{app: shanghai, user: shanghai}
	if got := s.drillDown(m.Report("byMonth"), e, map[string]any{"at": "2026-11-01"}, away); !strings.Contains(got, "f.at.zone=app") {
		t.Errorf("a London user's drill-down of a time bucket is %q, want the filter pinned to the app's zone", got)
	}
	for _, c := range []struct {
		rep string
		row map[string]any
		z   zones
	}{{"byMonth", map[string]any{"at": "2026-11-01"}, home}, {"byDay", map[string]any{"day": "2026-11-01"}, away}} {
		if got := s.drillDown(m.Report(c.rep), e, c.row, c.z); strings.Contains(got, "zone") {
			t.Errorf("%s: the drill-down %q pins a zone it does not need", c.rep, got)
		}
	}
	at, _ := memberOf(e, "at")
	lq := &listQuery{e: e, zones: away}
	from := func(q string) string {
		v, _ := url.ParseQuery(q)
		w := filterWhere(lq, at, v)
		if len(w) == 0 {
			return ""
		}
		return str(w[0].(map[string]any)["atGTE"])
	}
	if got := from("f.at.from=2026-11-01"); got != "2026-11-01T00:00:00Z" {
		t.Errorf("a London user's filter from 2026-11-01 starts at %s, want London's midnight", got)
	}
	if got := from("f.at.from=2026-11-01&f.at.zone=app"); got != "2026-11-01T00:00:00+08:00" {
		t.Errorf("a drill-down's filter from 2026-11-01 starts at %s, want Shanghai's midnight", got)
	}
}
