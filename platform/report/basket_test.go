package report

import (
	"fmt"
	"testing"
)

// TestApriori checks the rules of five baskets against numbers worked out by hand: each item is in 4 of
// 5 baskets, each pair in 3, the triple in 2. Pair rules: support 3/5, confidence 3/4, lift 0.75/0.8.
// Triple rules {x,y} ⇒ z: support 2/5, confidence 2/3, lift (2/3)/0.8; z ⇒ {x,y} has confidence 2/4,
// under minConfidence.
func TestApriori(t *testing.T) {
	baskets := [][]int{{1, 2, 3}, {1, 2}, {1, 3}, {2, 3}, {1, 2, 3}}
	rules := apriori(baskets, 0.4, 0.6)
	pairs, triples := 0, 0
	for _, r := range rules {
		got := fmt.Sprintf("%.4f %.4f %.4f", r.support, r.confidence, r.lift)
		switch {
		case len(r.antecedent) == 1 && len(r.consequent) == 1:
			pairs++
			if got != "0.6000 0.7500 0.9375" {
				t.Errorf("%v ⇒ %v: %s", r.antecedent, r.consequent, got)
			}
		case len(r.antecedent) == 2 && len(r.consequent) == 1:
			triples++
			if got != "0.4000 0.6667 0.8333" {
				t.Errorf("%v ⇒ %v: %s", r.antecedent, r.consequent, got)
			}
		default:
			t.Errorf("unexpected rule %v ⇒ %v (%s)", r.antecedent, r.consequent, got)
		}
	}
	if pairs != 6 || triples != 3 {
		t.Errorf("%d pair rules and %d triple rules, want 6 and 3", pairs, triples)
	}
	// A support threshold above every pair's leaves no rule.
	if r := apriori(baskets, 0.7, 0.1); len(r) != 0 {
		t.Errorf("minSupport 0.7: %d rules, want none", len(r))
	}
}

func TestQuintilesAndSegments(t *testing.T) {
	vals := map[int]float64{1: 10, 2: 20, 3: 20, 4: 40, 5: 50, 6: 60, 7: 70, 8: 80, 9: 90, 10: 100}
	ids := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	got := quintiles(ids, func(id int) float64 { return vals[id] })
	// Positions 0..9 of 10: score 1 + 5p/10; the two 20s share position 1.
	want := map[int]int{1: 1, 2: 1, 3: 1, 4: 2, 5: 3, 6: 3, 7: 4, 8: 4, 9: 5, 10: 5}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("quintiles %v, want %v", got, want)
	}
	for _, c := range []struct {
		r, f, m int
		want    string
	}{{5, 5, 5, "champions"}, {1, 1, 1, "lost"}, {2, 4, 4, "atRisk"}, {4, 1, 1, "new"}, {5, 5, 1, "loyal"}, {1, 1, 5, "cantLose"}} {
		if got := Segment(c.r, c.f, c.m); got != c.want {
			t.Errorf("Segment(%d,%d,%d) = %s, want %s", c.r, c.f, c.m, got, c.want)
		}
	}
}
