package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCSV checks the benchmark's file: the rows asked for, under the header the other commands expect,
// the same for every run. (bench/import.sh itself is checked by bench/peers' TestScripts, with bash -n.)
func TestCSV(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	for _, name := range []string{"a.csv", "b.csv"} {
		if err := run([]string{"csv", "-n", "25", "-o", filepath.Join(dir, name)}, &out); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := readRows(filepath.Join(dir, "a.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 25 {
		t.Fatalf("%d rows, want 25", len(rows))
	}
	for _, r := range rows {
		if len(r) != len(header) || strings.TrimSpace(r[0]) == "" {
			t.Errorf("row %q", r)
		}
	}
	a, _ := os.ReadFile(filepath.Join(dir, "a.csv"))
	b, _ := os.ReadFile(filepath.Join(dir, "b.csv"))
	if !bytes.Equal(a, b) {
		t.Errorf("two runs wrote different files")
	}
	if err := run([]string{"nothing"}, &out); err == nil {
		t.Errorf("an unknown command is accepted")
	}
}
