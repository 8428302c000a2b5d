package browsertest_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
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

// flakyChromium writes a stand-in for the browser that exits at its first
// `fails` starts, printing only a warning as Chromium did when it failed so in
// CI, and runs the real browser after that. It returns the script's path and a
// function that tells how many times it was started.
func flakyChromium(t *testing.T, fails int) (string, func() int) {
	t.Helper()
	real := browsertest.Chromium(t)
	dir := t.TempDir()
	count := filepath.Join(dir, "starts")
	script := filepath.Join(dir, "chromium")
	body := fmt.Sprintf(`#!/bin/sh
echo x >> %[1]q
if [ "$(wc -l < %[1]q)" -le %[2]d ]; then
	echo "ERROR: open /sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq: No such file or directory" >&2
	exit 1
fi
exec %[3]q "$@"
`, count, fails, real)
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script, func() int {
		b, _ := os.ReadFile(count)
		return strings.Count(string(b), "\n")
	}
}

func TestNewStartsAgainABrowserThatExitedAtStart(t *testing.T) {
	script, starts := flakyChromium(t, 2)
	t.Setenv(browsertest.EnvChromium, script)
	srv := serve(t)

	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/clean"), chromedp.WaitVisible(chromedp.CSS("main"))); err != nil {
		t.Fatal(err)
	}
	if n := starts(); n != 3 {
		t.Errorf("browser started %d times, want 3 (two exits, then the browser)", n)
	}
	if errs := browsertest.Errors(ctx); len(errs) != 0 {
		t.Errorf("Errors = %q, want none: the failed starts are not the page's", errs)
	}
}

// fatalTB records the message of Fatalf and stops the goroutine that called it,
// as testing.T does, so a test can see New give up.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (f *fatalTB) Logf(format string, args ...any) { f.TB.Logf(format, args...) }

func TestNewGivesUpOnABrowserThatNeverStarts(t *testing.T) {
	script, starts := flakyChromium(t, 100)
	t.Setenv(browsertest.EnvChromium, script)

	tb := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		browsertest.New(tb)
		t.Error("New returned a browser that never started")
	}()
	<-done
	if n := starts(); n != 3 {
		t.Errorf("browser started %d times, want 3", n)
	}
	for _, want := range []string{"attempt 3 of 3", "chrome failed to start", "scaling_cur_freq"} {
		if !strings.Contains(tb.msg, want) {
			t.Errorf("Fatalf message %q lacks %q", tb.msg, want)
		}
	}
}
