package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/internal/pgtest"
)

// What one request may cost the server, and what it may learn from a failure: body size, fields per
// request, nesting, introspection, metrics, and database errors. Each test attacks the hospital example
// over HTTP as issue 10's attacker did.

// rawGraphQL posts body to /graphql as it is (token may be empty) and returns the status and the body of
// the answer.
func rawGraphQL(t *testing.T, s *apptest.Server, token string, body io.Reader, contentLength int64) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", body)
	req.ContentLength = contentLength
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /graphql: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// graphQLBody is the JSON body of a request holding query.
func graphQLBody(query string) []byte {
	b, _ := json.Marshal(map[string]any{"query": query})
	return b
}

func TestSecurityGraphQLBodyLimit(t *testing.T) {
	a := adminApp(t, "hospital")
	s := a.Start(t, apptest.SQLitePath(t), noTimers)
	// 4 MiB of padding in a request nobody has signed in for: refused before it is read, with 413 and a
	// message that says what the limit is.
	big := graphQLBody("{ __typename }" + strings.Repeat(" ", 4<<20))
	status, body := rawGraphQL(t, s, "", bytes.NewReader(big), int64(len(big)))
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "1 MiB") {
		t.Errorf("4 MiB body: %d %s, want 413 naming the 1 MiB limit", status, body)
	}
	var answer apptest.Response
	if err := json.Unmarshal(body, &answer); err != nil || len(answer.Errors) != 1 || answer.Errors[0].Extensions["code"] != "REQUEST_TOO_LARGE" {
		t.Errorf("4 MiB body: answer %s, want one GraphQL error with code REQUEST_TOO_LARGE", body)
	}
	// The same without a Content-Length (chunked): refused once the limit is read.
	status, body = rawGraphQL(t, s, "", io.MultiReader(bytes.NewReader(big)), -1)
	if status != http.StatusRequestEntityTooLarge {
		t.Errorf("4 MiB chunked body: %d %s, want 413", status, body)
	}
	// Just under the limit is served.
	fits := graphQLBody("{ __typename }" + strings.Repeat(" ", 1<<20-100))
	if status, body := rawGraphQL(t, s, "", bytes.NewReader(fits), int64(len(fits))); status != http.StatusOK || !strings.Contains(string(body), `"__typename":"Query"`) {
		t.Errorf("body just under 1 MiB: %d %.200s, want 200 with data", status, body)
	}

	// The admin's own forms are not GraphQL requests: a 2 MiB form is answered by the screen (here with
	// the field's length rule), not refused as too large; one over the forms' limit (4 MiB) is, with 413.
	c := browserClient(t, s, "admin", "admin123")
	resp := c.postForm(t, "/e/Tag/new", map[string]string{"name": strings.Repeat("长", 250_000)}) // 2.25 MB encoded
	if resp.status != http.StatusOK || !strings.Contains(resp.body, `id="f-name-err"`) {
		t.Errorf("2 MiB admin form: %d, want the form again with its error\n%.500s", resp.status, resp.body)
	}
	resp = c.postForm(t, "/e/Tag/new", map[string]string{"name": strings.Repeat("长", 600_000)}) // 5.4 MB encoded
	if resp.status != http.StatusRequestEntityTooLarge || !strings.Contains(resp.body, "4 MiB") {
		t.Errorf("5 MiB admin form: %d %.300s, want 413 naming the 4 MiB limit", resp.status, resp.body)
	}

	// The limit is a flag.
	small := a.Start(t, apptest.SQLitePath(t), noTimers, "--max-graphql-body=64KiB")
	mid := graphQLBody("{ __typename }" + strings.Repeat(" ", 100<<10))
	if status, body := rawGraphQL(t, small, "", bytes.NewReader(mid), int64(len(mid))); status != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "64 KiB") {
		t.Errorf("100 KiB body with --max-graphql-body=64KiB: %d %s, want 413 naming 64 KiB", status, body)
	}
}

// aliases is a query selecting __typename n times, each under its own alias.
func aliases(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		fmt.Fprintf(&b, " a%d:__typename", i)
	}
	b.WriteString(" }")
	return b.String()
}

func TestSecurityFieldsPerRequest(t *testing.T) {
	s := adminApp(t, "hospital").Start(t, apptest.SQLitePath(t), noTimers)
	admin := s.As(t, "admin", "admin123")
	anon := *s
	anon.Token = ""
	// 50,000 aliases (under 1 MiB): refused before validation, whose check of overlapping fields is
	// quadratic in them, whether signed in or not.
	flood := aliases(50_000)
	if len(graphQLBody(flood)) >= 1<<20 {
		t.Fatalf("the flood does not fit the body limit")
	}
	for _, c := range []*apptest.Server{&anon, admin} {
		r := c.GraphQL(t, flood, nil)
		if len(r.Errors) != 1 || r.Data != nil && string(r.Data) != "null" {
			t.Fatalf("50,000 aliases (token %t): %d errors, data %.200s; want the request refused", c.Token != "", len(r.Errors), r.Data)
		}
		if e := r.Errors[0]; e.Extensions["code"] != "QUERY_TOO_LARGE" || !strings.Contains(e.Message, "50000 fields") || !strings.Contains(e.Message, "2000") {
			t.Errorf("50,000 aliases (token %t): %+v, want QUERY_TOO_LARGE naming 50000 fields and the limit 2000", c.Token != "", e)
		}
	}
	// Fragments count as often as they are spread: 2^20 fields from a few hundred bytes.
	var frag strings.Builder
	frag.WriteString("query { ...F0 } fragment F20 on Query { __typename }")
	for i := 19; i >= 0; i-- {
		fmt.Fprintf(&frag, " fragment F%d on Query { ...F%d ...F%d }", i, i+1, i+1)
	}
	if e := mustFail(t, admin, frag.String(), nil); e.Extensions["code"] != "QUERY_TOO_LARGE" {
		t.Errorf("fragments spread 2^20 times: %+v, want QUERY_TOO_LARGE", e)
	}
	// Within the limit, aliases are served.
	d := query(t, admin, aliases(1500), nil)
	if len(d) != 1500 {
		t.Errorf("1,500 aliases: %d answers", len(d))
	}
	// The limit is a flag.
	small := adminApp(t, "hospital").Start(t, apptest.SQLitePath(t), noTimers, "--max-graphql-fields=100")
	if e := mustFail(t, small, aliases(101), nil); e.Extensions["code"] != "QUERY_TOO_LARGE" || !strings.Contains(e.Message, "100") {
		t.Errorf("101 aliases with --max-graphql-fields=100: %+v", e)
	}
}

// introspectionQuery is graphql-js's standard introspection query, as clients send it.
func introspectionQuery(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "introspection", "graphql-js-16.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	for len(lines) > 0 && strings.HasPrefix(lines[0], "#") {
		lines = lines[1:] // the file's note of where the text comes from
	}
	return strings.TrimSuffix(strings.Join(lines, ""), "\n")
}

func TestSecurityIntrospection(t *testing.T) {
	s := adminApp(t, "hospital").Start(t, apptest.SQLitePath(t), noTimers)
	for _, user := range []struct{ name, password string }{{"admin", "admin123"}, {"liuyang", "doctor123"}} {
		c := s.As(t, user.name, user.password)
		d := query(t, c, introspectionQuery(t), nil)
		types := list(t, d, "__schema.types")
		if len(types) < 20 || str(t, d, "__schema.queryType.name") != "Query" {
			t.Errorf("graphql-js introspection as %s: %d types, query type %v", user.name, len(types), at(t, d, "__schema.queryType"))
		}
	}
	admin := s.As(t, "admin", "admin123")
	// Depth is still bounded outside introspection, also next to an introspection field.
	deep := "{ teams { edges { node { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { name } } } } } } } } } } } } } }"
	for _, q := range []string{deep, "{ __schema { queryType { name } } " + deep[1:]} {
		if e := mustFail(t, admin, q, nil); !strings.Contains(e.Message, "nested 14 levels deep; the limit is 12") {
			t.Errorf("deep query: %q, want it refused as 14 levels deep", e.Message)
		}
	}
	// Introspection has bounds of its own: its type lists may not nest past graphql-js's limit.
	cyclic := `{ __schema { types { fields { type { fields { type { fields { type { fields { name } } } } } } } } } }`
	if e := mustFail(t, admin, cyclic, nil); !strings.Contains(e.Message, "introspection depth") {
		t.Errorf("introspection nesting type lists 4 deep: %q, want refused", e.Message)
	}
	ofTypes := "{ __type(name: \"Patient\") { name" + strings.Repeat(" ofType { name", 40) + strings.Repeat(" }", 40) + " } }"
	if e := mustFail(t, admin, ofTypes, nil); !strings.Contains(e.Message, "introspection") || !strings.Contains(e.Message, "the limit is") {
		t.Errorf("introspection nested 41 levels: %q, want refused by the introspection depth limit", e.Message)
	}
}

func TestSecurityMetrics(t *testing.T) {
	a := adminApp(t, "hospital")
	s := a.Start(t, apptest.SQLitePath(t), noTimers)
	anon := *s
	anon.Token = ""
	if code := get(t, &anon, "/metrics"); code != http.StatusUnauthorized {
		t.Errorf("anonymous /metrics: %d, want 401", code)
	}
	if code := get(t, s.As(t, "liuyang", "doctor123"), "/metrics"); code != http.StatusForbidden {
		t.Errorf("a physician's /metrics: %d, want 403", code)
	}
	if code := get(t, s.As(t, "admin", "admin123"), "/metrics"); code != http.StatusOK {
		t.Errorf("a superuser's /metrics: %d, want 200", code)
	}

	// On its own address (a private network for Prometheus), /metrics needs no sign-in, and nothing else
	// is served there.
	addr := freeAddr(t)
	m := a.Start(t, apptest.SQLitePath(t), noTimers, "--metrics-addr="+addr)
	metrics := &apptest.Server{URL: "http://" + addr}
	if code := get(t, metrics, "/metrics"); code != http.StatusOK {
		t.Errorf("/metrics on --metrics-addr: %d, want 200", code)
	}
	for _, path := range []string{"/graphql", "/", "/healthz"} {
		if code := get(t, metrics, path); code != http.StatusNotFound {
			t.Errorf("%s on --metrics-addr: %d, want 404", path, code)
		}
	}
	mAnon := *m
	mAnon.Token = ""
	if code := get(t, &mAnon, "/metrics"); code != http.StatusUnauthorized {
		t.Errorf("anonymous /metrics on the main port with --metrics-addr: %d, want 401", code)
	}
}

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// engineText matches what a database, its driver or the ORM says, which a client must never see.
var engineText = regexp.MustCompile(`(?i)sqlite|sql|pgx|pgconn|postgres|ent:|variables|parameters|constraint|byte sequence|0x00|syntax|relation "|column`)

func TestSecurityDatabaseErrorsHidden(t *testing.T) {
	a := adminApp(t, "hospital")
	for _, db := range []struct {
		name string
		dsn  func(t *testing.T) string
	}{{"sqlite", func(t *testing.T) string { return apptest.SQLitePath(t) }}, {"postgres", func(t *testing.T) string { return pgtest.DSN(t) }}} {
		t.Run(db.name, func(t *testing.T) {
			s := a.Start(t, db.dsn(t), noTimers)
			admin := s.As(t, "admin", "admin123")
			// 70,000 ids in one filter: more bound parameters than SQLite (32,766) or Postgres' protocol
			// (65,535) take, so the database refuses the statement.
			ids := make([]string, 70_000)
			for i := range ids {
				ids[i] = fmt.Sprint(i + 1)
			}
			r := admin.GraphQL(t, `query($ids: [ID!]) { patients(where: {idIn: $ids}) { totalCount } }`, map[string]any{"ids": ids})
			checkInternal(t, s, r, "70,000 ids")
			if db.name == "postgres" {
				// Postgres text cannot hold a NUL character; no rule of the model says so.
				r = admin.GraphQL(t, `mutation { createTag(input: {name: "a\u0000b"}) { id } }`, nil)
				checkInternal(t, s, r, "a NUL character")
				// The admin screens show the same plain message.
				c := browserClient(t, s, "admin", "admin123")
				resp := c.postForm(t, "/e/Tag/new", map[string]string{"name": "a\x00b"})
				if m := engineText.FindString(resp.body); m != "" {
					t.Errorf("admin form with a NUL character: the page shows %q:\n%.2000s", m, resp.body)
				}
				if !regexp.MustCompile(`(request|请求编号) [0-9a-f]{16}`).MatchString(resp.body) {
					t.Errorf("admin form with a NUL character: the page does not name the request id:\n%.2000s", resp.body)
				}
			}
		})
	}
}

// checkInternal checks that a request the database refused answers INTERNAL with a plain message and
// a request id, which the server's log holds next to the database's own words.
func checkInternal(t *testing.T, s *apptest.Server, r *apptest.Response, what string) {
	t.Helper()
	if len(r.Errors) == 0 {
		t.Fatalf("%s: no error (data %.200s)", what, r.Data)
	}
	e := r.Errors[0]
	if e.Extensions["code"] != "INTERNAL" {
		t.Errorf("%s: %+v, want code INTERNAL", what, e)
	}
	if m := engineText.FindString(e.Message); m != "" {
		t.Errorf("%s: the message %q shows the database's words (%q)", what, e.Message, m)
	}
	for k, v := range e.Extensions {
		if m := engineText.FindString(fmt.Sprint(v)); m != "" {
			t.Errorf("%s: extension %s = %v shows the database's words", what, k, v)
		}
	}
	id, _ := e.Extensions["requestId"].(string)
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(id) || !strings.Contains(e.Message, id) {
		t.Fatalf("%s: %+v, want extensions.requestId (16 hex digits) named in the message", what, e)
	}
	// The server writes the line before it answers; it reaches the test through a pipe, soon after.
	logged := func() bool {
		for _, line := range strings.Split(s.Logs(), "\n") {
			if strings.Contains(line, "request="+id) && engineText.MatchString(line) {
				return true
			}
		}
		return false
	}
	for deadline := time.Now().Add(5 * time.Second); !logged() && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if !logged() {
		t.Errorf("%s: the log has no line with request=%s and the database's error", what, id)
	}
}

// A record's history is a plain list (no page arguments): complexity counts it as a few entries, so
// every record of a list with its history is an ordinary query, while unbounded nesting is still refused.
func TestComplexityOfPlainLists(t *testing.T) {
	s := adminApp(t, "hospital").Start(t, apptest.SQLitePath(t), noTimers)
	admin := s.As(t, "admin", "admin123")
	d := query(t, admin, `{ patients { edges { node { id history { op at username changes { field old new } } } } } }`, nil)
	if len(list(t, d, "patients.edges")) == 0 {
		t.Error("no patients with their history")
	}
	wide := `{ patients { edges { node { visits(first: 1000) { edges { node { history { changes { field } } } } } } } } }`
	if e := mustFail(t, admin, wide, nil); !strings.Contains(e.Message, "complexity") {
		t.Errorf("nested unpaged connections: %q, want refused for complexity", e.Message)
	}
}
