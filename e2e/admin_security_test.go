package e2e

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/crmgen/crmgen/internal/apptest"
)

// The admin's forms are protected as the API is: a browser's cross-site POST (a foreign page submitting
// a form to the app with the user's cookie) is refused before it reaches the screens, for sign-in too;
// the same POST from the app's own pages goes through.
func TestAdminCrossSiteForms(t *testing.T) {
	a := adminApp(t, "hospital")
	s := a.Start(t, apptest.SQLitePath(t))
	admin := s.As(t, "admin", "admin123")
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(path, site string, form url.Values) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("POST", s.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", site)
		if site == "cross-site" {
			req.Header.Set("Origin", "https://evil.example")
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	creds := url.Values{"username": {"admin"}, "password": {"admin123"}, "next": {"/"}}
	if resp := post("/login", "cross-site", creds); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site sign-in: %d, want 403", resp.StatusCode)
	}
	if resp := post("/login", "same-origin", creds); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	before := adminCount(t, admin, "careReminders", "")
	id := someID(t, admin, "careReminders", "")
	if resp := post("/e/CareReminder/delete", "cross-site", url.Values{"id": {id}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site delete: %d, want 403", resp.StatusCode)
	}
	if n := adminCount(t, admin, "careReminders", ""); n != before {
		t.Fatalf("a cross-site post deleted a record (%d → %d)", before, n)
	}
	if resp := post("/e/CareReminder/delete", "same-origin", url.Values{"id": {id}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("same-origin delete: %d, want a redirect", resp.StatusCode)
	}
	if n := adminCount(t, admin, "careReminders", ""); n != before-1 {
		t.Errorf("the same-origin delete did not delete (%d → %d)", before, n)
	}
}
