package admin

import (
	"net/url"
	"reflect"
	"testing"

	"github.com/crmgen/crmgen/metamodel"
)

func TestPageWindow(t *testing.T) {
	for _, tc := range []struct {
		cur, last int
		want      []int
	}{
		{1, 1, []int{1}},
		{1, 3, []int{1, 2, 3}},
		{1, 12, []int{1, 2, 3, 0, 12}},
		{3, 12, []int{1, 2, 3, 4, 5, 0, 12}},
		{6, 12, []int{1, 0, 4, 5, 6, 7, 8, 0, 12}},
		{12, 12, []int{1, 0, 10, 11, 12}},
		{4, 7, []int{1, 2, 3, 4, 5, 6, 7}},
		{99, 5, []int{1, 2, 3, 4, 5}}, // a page past the end shows the last one's window
		{1, 0, nil},
	} {
		if got := pageWindow(tc.cur, tc.last, 2); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("pageWindow(%d, %d) = %v, want %v", tc.cur, tc.last, got, tc.want)
		}
	}
}

func TestPageCount(t *testing.T) {
	for _, tc := range []struct{ total, n, want int }{{0, 25, 1}, {25, 25, 1}, {26, 25, 2}, {600, 50, 12}, {601, 50, 13}} {
		if got := pageCount(tc.total, tc.n); got != tc.want {
			t.Errorf("pageCount(%d, %d) = %d, want %d", tc.total, tc.n, got, tc.want)
		}
	}
}

// A numbered page is one request: from the start for the front half, from the end for the back half.
func TestNumberedPage(t *testing.T) {
	vars, skip, fromEnd := numberedPage(3, 50, 600)
	if !reflect.DeepEqual(vars, map[string]any{"first": 150}) || skip != 100 || fromEnd {
		t.Errorf("page 3: %v skip %d fromEnd %v", vars, skip, fromEnd)
	}
	vars, skip, fromEnd = numberedPage(12, 50, 590) // the last page holds 40
	if !reflect.DeepEqual(vars, map[string]any{"last": 40}) || skip != 0 || !fromEnd {
		t.Errorf("page 12: %v skip %d fromEnd %v", vars, skip, fromEnd)
	}
	vars, _, fromEnd = numberedPage(8, 50, 600)
	if !reflect.DeepEqual(vars, map[string]any{"last": 250}) || !fromEnd {
		t.Errorf("page 8: %v fromEnd %v", vars, fromEnd)
	}
	// Without a total (a hand-written link), or past the end, it counts from the start.
	if vars, skip, fromEnd = numberedPage(5, 25, 0); !reflect.DeepEqual(vars, map[string]any{"first": 125}) || skip != 100 || fromEnd {
		t.Errorf("page 5 without total: %v skip %d fromEnd %v", vars, skip, fromEnd)
	}
	if vars, _, fromEnd = numberedPage(30, 25, 0); fromEnd || vars["first"] != 750 {
		t.Errorf("a page without total: %v fromEnd %v", vars, fromEnd)
	}
	// A page past the end of the total on the link is the last page: never more rows than the total.
	if vars, _, fromEnd = numberedPage(1000000, 25, 100); !fromEnd || vars["last"] != 25 {
		t.Errorf("a page past the end: %v fromEnd %v", vars, fromEnd)
	}
}

func TestRequestPageSize(t *testing.T) {
	e := &metamodel.Entity{Name: "Patient"}
	for raw, want := range map[string]int{"": 25, "n=50": 50, "n=1000": 200, "n=-3": 25, "n=x": 25} {
		q, _ := url.ParseQuery(raw)
		if got := requestPageSize(e, q); got != want {
			t.Errorf("%q: page size %d, want %d", raw, got, want)
		}
	}
}
