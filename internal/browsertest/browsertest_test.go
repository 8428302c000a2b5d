package browsertest_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/crmgen/crmgen/internal/browsertest"
)

const cleanPage = `<!doctype html><title>ok</title><link rel="icon" href="data:,"><main>Hello, 世界</main>`

const brokenPage = `<!doctype html><title>broken</title><link rel="icon" href="data:,">
<main>broken</main>
<img src="/missing.png">
<script>
console.log("not an error");
console.warn("not an error either");
console.error("boom", 42);
Promise.reject(new Error("rejected"));
throw new TypeError("kaput");
</script>`

func serve(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/clean", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(cleanPage)) })
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(brokenPage)) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestCleanPageHasNoErrorsAndAScreenshot(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(browsertest.EnvArtifacts, dir)
	srv := serve(t)

	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/clean"), chromedp.WaitVisible(chromedp.CSS("main"))); err != nil {
		t.Fatal(err)
	}
	if errs := browsertest.Errors(ctx); len(errs) != 0 {
		t.Errorf("Errors = %q, want none", errs)
	}
	path := browsertest.Screenshot(t, ctx, "clean page/1")
	if want := filepath.Join(dir, "clean_page_1.png"); path != want {
		t.Errorf("screenshot path = %q, want %q", path, want)
	}
	png, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("screenshot is not a PNG")
	}
	width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.innerWidth`))
	if err != nil || width != browsertest.Viewport.Width {
		t.Errorf("viewport width = %d (%v), want %d", width, err, browsertest.Viewport.Width)
	}
}

func TestErrorsCollectsWhatThePageReports(t *testing.T) {
	srv := serve(t)
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/broken"), chromedp.WaitVisible(chromedp.CSS("main"))); err != nil {
		t.Fatal(err)
	}
	// The image's 404 and the rejection arrive asynchronously.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('img').complete`)); err != nil {
		t.Fatal(err)
	}
	errs := strings.Join(browsertest.Errors(ctx), "\n")
	t.Logf("errors:\n%s", errs)
	for _, want := range []string{
		"console.error: boom 42",
		"TypeError: kaput",
		"Error: rejected",
		"404",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("Errors lack %q; got:\n%s", want, errs)
		}
	}
	if strings.Contains(errs, "not an error") {
		t.Errorf("Errors include a log or a warning:\n%s", errs)
	}
}

func TestTabsDoNotShareCookies(t *testing.T) {
	srv := serve(t)
	first := browsertest.New(t)
	if err := chromedp.Do(first, chromedp.Navigate(srv.URL+"/clean"),
		chromedp.Evaluate[chromedp.Void](`document.cookie = "s=1; path=/"`)); err != nil {
		t.Fatal(err)
	}
	second := browsertest.New(t)
	if err := chromedp.Do(second, chromedp.Navigate(srv.URL+"/clean")); err != nil {
		t.Fatal(err)
	}
	cookie, err := chromedp.Run(second, chromedp.Evaluate[string](`document.cookie`))
	if err != nil {
		t.Fatal(err)
	}
	if cookie != "" {
		t.Errorf("a new browser sees cookies %q from another", cookie)
	}
}
