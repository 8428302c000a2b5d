package admin

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// Every form of a redirect target that a browser would resolve to another site, or that is no path of
// this site, falls back to "/"; paths of the site pass unchanged. The values are as a handler reads them
// from a query string or a form: already percent-decoded once.
func TestLocalPath(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		// Paths of this site, with queries and fragments.
		{"/", "/"},
		{"/e/Patient", "/e/Patient"},
		{"/e/Patient?q=1&sort=-name", "/e/Patient?q=1&sort=-name"},
		{"/e/Patient?q=%E5%BC%A0", "/e/Patient?q=%E5%BC%A0"},
		{"/e/Patient?q=a\\b", "/e/Patient?q=a\\b"}, // a backslash in the query is only text
		{"/e/Patient?next=//x", "/e/Patient?next=//x"},
		{"/e/Patient#top", "/e/Patient#top"},
		{"/e/患者", "/e/患者"},

		// Another origin: scheme-relative, with slashes and backslashes in any mix (browsers read \ as / in
		// http(s) URLs).
		{"//evil.example", "/"},
		{"///evil.example", "/"},
		{"/\\evil.example", "/"},
		{"\\/evil.example", "/"},
		{"\\\\evil.example", "/"},
		{"/\\/evil.example", "/"},
		// Browsers drop tab, CR and LF anywhere, and leading C0 controls and spaces.
		{"/\t/evil.example", "/"},
		{"/\n/evil.example", "/"},
		{"/\r/evil.example", "/"},
		{"\t//evil.example", "/"},
		{" //evil.example", "/"},
		{"\x00//evil.example", "/"},
		{"/\x00/evil.example", "/"},
		{"/\x7f/evil.example", "/"},
		{"/a\r\nSet-Cookie: x=1", "/"},
		// Encoded slashes and backslashes, in case anything on the way decodes them once more.
		{"/%2F/evil.example", "/"},
		{"/%2f/evil.example", "/"},
		{"/%5C/evil.example", "/"},
		{"/%5cevil.example", "/"},
		{"/%09/evil.example", "/"},
		{"/%252F/evil.example", "/"},
		{"/%zz", "/"},
		// Absolute URLs and other schemes; relative paths.
		{"https://evil.example", "/"},
		{"HTTPS://evil.example/", "/"},
		{"https:evil.example", "/"},
		{"https:/\\evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"data:text/html,x", "/"},
		{"evil.example", "/"},
		{"e/Patient", "/"},
		{"", "/"},
	} {
		if got := localPath(c.in); got != c.want {
			t.Errorf("localPath(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// The redirects themselves: the Location a browser gets, and the HX-Redirect an htmx request gets, are
// the checked target.
func TestRedirectChecksTarget(t *testing.T) {
	for _, htmx := range []bool{false, true} {
		for to, want := range map[string]string{"/\t/evil.example": "/", "/e/Patient?q=1": "/e/Patient?q=1"} {
			r := httptest.NewRequest("POST", "/e/Patient/delete", nil)
			if htmx {
				r.Header.Set("HX-Request", "true")
			}
			w := httptest.NewRecorder()
			redirect(w, r, to)
			got := w.Header().Get("Location")
			if htmx {
				got = w.Header().Get("HX-Redirect")
			}
			if got != want {
				t.Errorf("redirect to %q (htmx %t): %q, want %q", to, htmx, got, want)
			}
		}
	}
	// GET /lang and the sign-in page go through the same check.
	h := newTestHandler(t)
	for _, path := range []string{"/lang?l=en&next=/%09/evil.example", "/lang?l=en&next=%5C%5Cevil.example"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" {
			t.Errorf("GET %s: %d to %q, want 303 to /", path, w.Code, w.Header().Get("Location"))
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/login?next="+url.QueryEscape("/\t/evil.example"), nil))
	if !strings.Contains(w.Body.String(), `<input type="hidden" name="next" value="/">`) {
		t.Errorf("the sign-in page does not reduce a foreign next to / in its form:\n%s", w.Body)
	}
}
