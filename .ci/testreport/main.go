// Command testreport reads `go test -json` from stdin and prints what a CI log needs: the output of
// failed tests and of packages that failed to build, one line per package, and the slowest tests, so the
// next person who has to shorten CI knows where its minutes go. It exits 1 when any test or package
// failed, so a pipeline can use its status along with go test's.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// event is one line of test2json's output (go doc test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

type key struct{ pkg, test string }

func main() {
	output := map[key]*strings.Builder{}
	type timing struct {
		key
		elapsed float64
	}
	var tests []timing
	failed := false
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<26)
	for in.Scan() {
		line := in.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil || e.Action == "" {
			// go test writes build errors as plain text before any JSON.
			fmt.Println(string(line))
			continue
		}
		k := key{e.Package, e.Test}
		switch e.Action {
		case "output":
			b := output[k]
			if b == nil {
				b = &strings.Builder{}
				output[k] = b
			}
			b.WriteString(e.Output)
		case "pass", "fail", "skip":
			if e.Action == "fail" {
				failed = true
			}
			if e.Test == "" {
				// The package's own output carries "ok", "FAIL" and "no test files" lines.
				if e.Action == "fail" {
					printUnfinished(output, e.Package)
					fmt.Print(text(output[k]))
				} else {
					printSummaryLines(text(output[k]))
				}
				delete(output, k)
				continue
			}
			if e.Action == "fail" {
				fmt.Print(text(output[k]))
			}
			if !strings.Contains(e.Test, "/") {
				tests = append(tests, timing{k, e.Elapsed})
			}
			delete(output, k)
		}
	}
	sort.Slice(tests, func(i, j int) bool { return tests[i].elapsed > tests[j].elapsed })
	fmt.Println("\nslowest tests:")
	for i, t := range tests {
		if i == 25 {
			break
		}
		d := time.Duration(t.elapsed * float64(time.Second)).Round(100 * time.Millisecond)
		fmt.Printf("  %8s  %s %s\n", d, strings.TrimPrefix(t.pkg, "github.com/crmgen/crmgen/"), t.test)
	}
	if failed {
		os.Exit(1)
	}
}

func text(b *strings.Builder) string {
	if b == nil {
		return ""
	}
	return b.String()
}

// printSummaryLines prints a passing package's result line ("ok  pkg  12.3s"), not the -v chatter.
func printSummaryLines(s string) {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "ok ") || strings.HasPrefix(l, "?") {
			fmt.Println(l)
		}
	}
}

// printUnfinished prints the last lines of the tests of pkg that never ended: when a package's binary
// times out or crashes, go test's panic and the goroutine dump land in the output of the tests that were
// running, which get no "fail" event of their own, so without this the log says only "FAIL pkg".
func printUnfinished(output map[key]*strings.Builder, pkg string) {
	var running []string
	for k := range output {
		if k.pkg == pkg && k.test != "" && !strings.Contains(k.test, "/") {
			running = append(running, k.test)
		}
	}
	sort.Strings(running)
	for _, name := range running {
		lines := strings.Split(strings.TrimRight(text(output[key{pkg, name}]), "\n"), "\n")
		if len(lines) > 40 {
			lines = lines[len(lines)-40:]
		}
		fmt.Printf("--- UNFINISHED: %s (last %d lines)\n%s\n", name, len(lines), strings.Join(lines, "\n"))
	}
}
