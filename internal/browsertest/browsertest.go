// Package browsertest runs headless Chromium for tests that drive pages: the
// GraphiQL page and the admin screens.
//
// [New] starts a browser for one test and returns the context of a tab in it,
// for use with chromedp:
//
//	ctx := browsertest.New(t)
//	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("main"))); err != nil {
//		t.Fatal(err)
//	}
//	browsertest.Screenshot(t, ctx, "deals-list")
//	browsertest.NoErrors(t, ctx)
//
// The browser is Debian's chromium package (nothing is downloaded at test time):
// the binary named by CRMGEN_CHROMIUM, else /usr/bin/chromium. Without it the
// test is skipped, except under CI=true, where it fails: CI never skips.
//
// Each browser gets a new, empty user data directory, so tests share no
// cookies or storage; it runs headless with --no-sandbox (CI runs as root) and
// without the background services that would try to reach the network.
// Screenshots go to the artifacts directory: CRMGEN_ARTIFACTS, else
// <module root>/artifacts.
//
// [Errors] counts what DevTools shows in red, including failed loads. Note that
// Chromium asks for /favicon.ico when a page declares no icon, so a server
// without one produces a 404 error: serve an icon, or declare
// <link rel="icon" href="data:,">.
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Environment variables that the package reads.
const (
	EnvChromium  = "CRMGEN_CHROMIUM"
	EnvArtifacts = "CRMGEN_ARTIFACTS"
)

// DefaultChromium is the binary of Debian's chromium package.
const DefaultChromium = "/usr/bin/chromium"

// Viewport is the size, in CSS pixels, of every tab's viewport: the width of
// screenshots, and their least height.
var Viewport = struct{ Width, Height int }{1280, 800}

// tabTimeout bounds the life of a tab's context, so that a page that never
// shows what a test waits for fails that test instead of the whole run.
const tabTimeout = 5 * time.Minute

type collectorKey struct{}

// startAttempts is how many times [New] starts a browser that exits before it
// listens. Chromium has been seen, once in many CI runs on a loaded machine,
// to exit at start having printed only its usual warnings; a second process
// started at once has always come up. Any other error fails at once.
const startAttempts = 3

// exitedAtStart tells whether err is chromedp's report of a browser process
// that ended before it printed its DevTools address.
func exitedAtStart(err error) bool {
	return strings.Contains(err.Error(), "chrome failed to start")
}

// New starts headless Chromium for the test and returns the context of a tab
// in it. The browser is closed, and its user data directory removed, when the
// test ends. The context ends after a few minutes, or shortly before the
// test's deadline.
func New(t testing.TB) context.Context {
	t.Helper()
	bin := Chromium(t)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.WindowSize(Viewport.Width, Viewport.Height),
		// No user-data-dir: chromedp then makes a new temporary one for this
		// browser and removes it (killing leftover helpers) when it exits.
	)
	var (
		col    *collector
		tabCtx context.Context
		stop   func()
	)
	for attempt := 1; ; attempt++ {
		col = &collector{} // a failed attempt's messages are not the page's
		allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithListener(col.listen))
		stop = func() {
			cancelTab()
			cancelAlloc() // waits for the browser to exit
		}
		// The first action starts the browser, so its context has no deadline:
		// the browser lives as long as that context. It sets the viewport
		// exactly, which the window size leaves to the browser.
		err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(Viewport.Width), int64(Viewport.Height)))
		if err == nil {
			tabCtx = ctx
			break
		}
		stop()
		if attempt == startAttempts || !exitedAtStart(err) {
			t.Fatalf("browsertest: start %s (attempt %d of %d): %v", bin, attempt, startAttempts, err)
		}
		t.Logf("browsertest: start %s (attempt %d of %d): %v; starting it again", bin, attempt, startAttempts, err)
	}

	deadline := time.Now().Add(tabTimeout)
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if td, ok := d.Deadline(); ok && td.Add(-30*time.Second).Before(deadline) {
			deadline = td.Add(-30 * time.Second)
		}
	}
	ctx, cancelTimeout := context.WithDeadline(tabCtx, deadline)
	t.Cleanup(func() {
		cancelTimeout()
		stop()
	})
	return context.WithValue(ctx, collectorKey{}, col)
}

// Chromium returns the Chromium binary to run, or ends the test when there is
// none: it skips, or fails under CI=true. A CRMGEN_CHROMIUM that names a
// missing file always fails.
func Chromium(t testing.TB) string {
	t.Helper()
	if bin := os.Getenv(EnvChromium); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("browsertest: %s=%s: %v", EnvChromium, bin, err)
		}
		return bin
	}
	if _, err := os.Stat(DefaultChromium); err != nil {
		msg := fmt.Sprintf("browsertest: no Chromium: %s is unset and %v (install Debian's chromium package, or run .ci/run)", EnvChromium, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return DefaultChromium
}

// Errors returns the errors that pages in the tab of ctx (a context from New)
// have reported so far, one line each: uncaught exceptions and unhandled
// promise rejections, calls of console.error and console.assert, and browser
// log entries of level error, such as a failed load or a blocked resource.
func Errors(ctx context.Context) []string {
	col, _ := ctx.Value(collectorKey{}).(*collector)
	if col == nil {
		panic("browsertest: Errors needs a context from browsertest.New")
	}
	return col.errors()
}

// NoErrors fails the test if pages in the tab of ctx reported errors (see
// [Errors]), listing them.
func NoErrors(t testing.TB, ctx context.Context) {
	t.Helper()
	if errs := Errors(ctx); len(errs) > 0 {
		t.Errorf("the page reported %d errors:\n\t%s", len(errs), strings.Join(errs, "\n\t"))
	}
}

// Screenshot saves a PNG of the whole page in the tab of ctx as <name>.png in
// the artifacts directory, and returns its path. A failure to take or save it
// fails the test but does not stop it.
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG, lossless
	if err != nil {
		t.Errorf("browsertest: screenshot %q: %v", name, err)
		return ""
	}
	path := filepath.Join(ArtifactsDir(t), fileName(name)+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Errorf("browsertest: %v", err)
		return ""
	}
	t.Logf("screenshot: %s", path)
	return path
}

// ArtifactsDir returns the directory for test artifacts, creating it:
// CRMGEN_ARTIFACTS, else the artifacts directory at the root of the module
// that contains the working directory.
func ArtifactsDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(EnvArtifacts)
	if dir == "" {
		root, err := moduleRoot()
		if err != nil {
			t.Fatalf("browsertest: %v; set %s", err, EnvArtifacts)
		}
		dir = filepath.Join(root, "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	return dir
}

// moduleRoot returns the nearest directory at or above the working directory
// that holds a go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// fileName makes name safe as a file name: letters, digits, '-', '_' and '.'
// stay, anything else becomes '_'.
func fileName(name string) string {
	name = strings.TrimSuffix(name, ".png")
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, name)
}

// collector keeps the errors that a tab reports. Its listen method runs in
// the tab's event loop, so it only formats and appends.
type collector struct {
	mu   sync.Mutex
	errs []string
}

func (c *collector) listen(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		msg = "exception: " + exceptionText(ev.ExceptionDetails)
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		msg = "console." + string(ev.Type) + ": " + argsText(ev.Args) + stackPlace(ev.StackTrace)
	case *log.EventEntryAdded:
		e := ev.Entry
		if e.Level != log.EntryLevelError {
			return
		}
		msg = "log." + string(e.Source) + ": " + e.Text
		if e.URL != "" {
			msg += " (" + e.URL + ")"
		}
	default:
		return
	}
	c.mu.Lock()
	c.errs = append(c.errs, msg)
	c.mu.Unlock()
}

func (c *collector) errors() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.errs...)
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return "(no details)"
	}
	text := d.Text
	if d.Exception != nil && d.Exception.Description != "" {
		desc, _, _ := strings.Cut(d.Exception.Description, "\n")
		text += " " + desc
	}
	place := d.URL
	if place == "" && d.StackTrace != nil && len(d.StackTrace.CallFrames) > 0 {
		place = d.StackTrace.CallFrames[0].URL
	}
	if place != "" {
		text += fmt.Sprintf(" (%s:%d:%d)", place, d.LineNumber+1, d.ColumnNumber+1)
	}
	return text
}

// argsText renders console arguments roughly as DevTools shows them.
func argsText(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		switch {
		case a.Type == runtime.RemoteObjectTypeString && len(a.Value) > 0:
			var s string
			if err := json.Unmarshal(a.Value, &s); err == nil {
				parts = append(parts, s)
				continue
			}
			parts = append(parts, string(a.Value))
		case len(a.Value) > 0:
			parts = append(parts, string(a.Value))
		case a.UnserializableValue != "":
			parts = append(parts, string(a.UnserializableValue))
		case a.Description != "":
			desc, _, _ := strings.Cut(a.Description, "\n")
			parts = append(parts, desc)
		default:
			parts = append(parts, string(a.Type))
		}
	}
	return strings.Join(parts, " ")
}

func stackPlace(st *runtime.StackTrace) string {
	if st == nil || len(st.CallFrames) == 0 {
		return ""
	}
	f := st.CallFrames[0]
	return fmt.Sprintf(" (%s:%d:%d)", f.URL, f.LineNumber+1, f.ColumnNumber+1)
}
