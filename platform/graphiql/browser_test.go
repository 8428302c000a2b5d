package graphiql_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/crmgen/crmgen/internal/browsertest"
	"github.com/crmgen/crmgen/platform/graphiql"
)

// introspection is the schema `type Query { hello: String }` as an
// introspection result, enough for GraphiQL's editor and docs.
const introspection = `{"data":{"__schema":{
"description":null,
"queryType":{"name":"Query"},"mutationType":null,"subscriptionType":null,
"types":[
 {"kind":"OBJECT","name":"Query","description":"The root of all queries.","specifiedByURL":null,
  "fields":[{"name":"hello","description":"A greeting.","args":[],"type":{"kind":"SCALAR","name":"String","ofType":null},"isDeprecated":false,"deprecationReason":null}],
  "inputFields":null,"interfaces":[],"enumValues":null,"possibleTypes":null},
 {"kind":"SCALAR","name":"String","description":"Text.","specifiedByURL":null,"fields":null,"inputFields":null,"interfaces":null,"enumValues":null,"possibleTypes":null},
 {"kind":"SCALAR","name":"Boolean","description":"true or false.","specifiedByURL":null,"fields":null,"inputFields":null,"interfaces":null,"enumValues":null,"possibleTypes":null}
],
"directives":[]}}}`

// fakeAPI answers GraphiQL's introspection and `{ __typename }`, and records
// what the last other request carried.
type fakeAPI struct {
	mu                   sync.Mutex
	introspected         bool
	query, auth, session string
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Query string `json:"query"`
	}
	if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&req) != nil {
		http.Error(w, "want a POST of a GraphQL request", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	f.mu.Lock()
	defer f.mu.Unlock()
	if strings.Contains(req.Query, "__schema") {
		f.introspected = true
		w.Write([]byte(introspection))
		return
	}
	f.query = req.Query
	f.auth = r.Header.Get("Authorization")
	if c, err := r.Cookie("crmgen_session"); err == nil {
		f.session = c.Value
	}
	w.Write([]byte(`{"data":{"__typename":"Query"}}`))
}

// TestGraphiQLInChromium loads the page in headless Chromium, runs a query
// with a header typed in the headers editor, and checks what reached the API.
func TestGraphiQLInChromium(t *testing.T) {
	api := &fakeAPI{}
	mux := http.NewServeMux()
	h := graphiql.Handler("/query")
	mux.Handle("/graphiql", h)
	mux.Handle("/graphiql/", h)
	mux.Handle("/query", api)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/graphiql"),
		chromedp.WaitVisible(chromedp.CSS(".graphiql-container .graphiql-query-editor .CodeMirror")),
	); err != nil {
		t.Fatalf("load GraphiQL: %v", err)
	}

	// What a signed-in user has: a session cookie, and a token typed in the
	// headers editor.
	const setUp = `(() => {
		document.cookie = 'crmgen_session=s3cret; path=/';
		const tab = [...document.querySelectorAll('.graphiql-editor-tools button')].find(b => b.textContent.trim() === 'Headers');
		if (!tab) throw new Error('no Headers tab');
		tab.click();
		document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue('{ __typename }');
		return true;
	})()`
	const setHeaders = `(() => {
		const ed = document.querySelector('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror');
		ed.CodeMirror.setValue('{"Authorization": "Bearer t0ken"}');
		return true;
	})()`
	if err := chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](setUp),
		chromedp.WaitVisible(chromedp.CSS(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror")),
		chromedp.Evaluate[chromedp.Void](setHeaders),
		chromedp.Click(chromedp.CSS(".graphiql-execute-button")),
	); err != nil {
		t.Fatalf("run a query: %v", err)
	}
	result, err := chromedp.Run(ctx, chromedp.Poll[string](
		`(() => { const v = document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue(); return v.includes('__typename') && v; })()`,
		chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		t.Fatalf("wait for the result: %v", err)
	}
	if !strings.Contains(result, `"__typename": "Query"`) {
		t.Errorf("result pane shows %q", result)
	}

	api.mu.Lock()
	if !api.introspected {
		t.Errorf("GraphiQL did not fetch the schema")
	}
	if !strings.Contains(api.query, "__typename") {
		t.Errorf("API got query %q, want { __typename }", api.query)
	}
	if api.auth != "Bearer t0ken" {
		t.Errorf("API got Authorization %q, want the header typed in the editor", api.auth)
	}
	if api.session != "s3cret" {
		t.Errorf("API got session cookie %q, want s3cret", api.session)
	}
	api.mu.Unlock()

	browsertest.Screenshot(t, ctx, "graphiql")
	browsertest.NoErrors(t, ctx)
}
