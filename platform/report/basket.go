package report

import (
	"fmt"
	"sort"

	entsql "entgo.io/ent/dialect/sql"
)

// Association rules by Apriori over itemsets of up to three items: the baskets' (basket, item) pairs are
// read once, in basket order, from the lines the reader may read of baskets they may read; frequent single
// items are counted first, then pairs of frequent items, then triples whose every pair is frequent. A rule
// X ⇒ Y is kept when its support (the share of baskets holding X and Y) reaches minSupport and its
// confidence (support of X∪Y over support of X) reaches minConfidence; lift is confidence over the support
// of Y. Rules are listed by lift, then confidence, then support.

type itemset [3]int // item ids, ascending; unused places are 0 (ids start at 1)

func (q *run) association(res *Result) error {
	tx := q.r.Transactions
	te := q.Model.Entity(tx.Entity)
	basketRel, itemRel := te.Relation(tx.Basket), te.Relation(tx.Item)
	baskets, err := q.selectFrom(basketRel.To, func(s *entsql.Selector) []string { return []string{s.C("id")} })
	if err != nil {
		return err
	}
	items, err := q.selectFrom(itemRel.To, func(s *entsql.Selector) []string { return []string{s.C("id")} })
	if err != nil {
		return err
	}
	s := entsql.Dialect(q.Dialect).Select().From(entsql.Table(te.Table())).WithContext(q.ctx)
	bcol, icol := s.C(basketRel.FKColumn()), s.C(itemRel.FKColumn())
	s.Select(bcol, icol).Where(entsql.And(entsql.In(bcol, baskets), entsql.In(icol, items))).OrderBy(bcol, icol)
	if err := q.restrict(s, te.Name); err != nil {
		return err
	}
	var all [][]int // each basket's distinct items, ascending
	cur, curBasket := []int(nil), -1
	err = q.query(s, func(vals []any) error {
		b, _ := toInt(vals[0])
		it, _ := toInt(vals[1])
		if b != curBasket {
			if len(cur) > 0 {
				all = append(all, cur)
			}
			cur, curBasket = nil, b
		}
		if n := len(cur); n == 0 || cur[n-1] != it {
			cur = append(cur, it)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(cur) > 0 {
		all = append(all, cur)
	}
	rules := apriori(all, q.r.MinSupport, q.r.MinConfidence)
	sort.SliceStable(rules, func(a, b int) bool {
		x, y := rules[a], rules[b]
		switch {
		case x.lift != y.lift:
			return x.lift > y.lift
		case x.confidence != y.confidence:
			return x.confidence > y.confidence
		case x.support != y.support:
			return x.support > y.support
		}
		return fmt.Sprint(x.antecedent, x.consequent) < fmt.Sprint(y.antecedent, y.consequent)
	})

	var ids []int
	seen := map[int]bool{}
	for _, r := range rules {
		for _, id := range append(append([]int(nil), r.antecedent...), r.consequent...) {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	titles, err := q.titles(itemRel.To, ids)
	if err != nil {
		return err
	}
	names := func(ids []int) []string {
		out := make([]string, len(ids))
		for i, id := range ids {
			out[i] = titles[id]
		}
		return out
	}
	res.Columns = []*Column{
		{Name: "antecedent", Label: q.say(q.lang, "col.antecedent"), Type: "list"},
		{Name: "consequent", Label: q.say(q.lang, "col.consequent"), Type: "list"},
		{Name: "support", Label: q.say(q.lang, "col.support"), Type: "float"},
		{Name: "confidence", Label: q.say(q.lang, "col.confidence"), Type: "float"},
		{Name: "lift", Label: q.say(q.lang, "col.lift"), Type: "float"},
	}
	for _, r := range rules {
		res.Data = append(res.Data, map[string]any{
			"antecedent": names(r.antecedent), "consequent": names(r.consequent),
			"support": round(r.support), "confidence": round(r.confidence), "lift": round(r.lift),
		})
	}
	return nil
}

type rule struct {
	antecedent, consequent    []int
	support, confidence, lift float64
}

// apriori finds the rules of baskets (each a sorted list of distinct item ids).
func apriori(baskets [][]int, minSupport, minConfidence float64) []rule {
	n := float64(len(baskets))
	if n == 0 {
		return nil
	}
	minCount := int(minSupport*n + 0.999999)
	if minCount < 1 {
		minCount = 1
	}
	counts := map[itemset]int{}
	for _, b := range baskets {
		for _, it := range b {
			counts[itemset{it}]++
		}
	}
	frequent := func(s itemset) bool { return counts[s] >= minCount }
	for _, b := range baskets {
		for i := 0; i < len(b); i++ {
			if !frequent(itemset{b[i]}) {
				continue
			}
			for j := i + 1; j < len(b); j++ {
				if frequent(itemset{b[j]}) {
					counts[itemset{b[i], b[j]}]++
				}
			}
		}
	}
	for _, b := range baskets {
		for i := 0; i < len(b); i++ {
			for j := i + 1; j < len(b); j++ {
				if !frequent(itemset{b[i], b[j]}) {
					continue
				}
				for k := j + 1; k < len(b); k++ {
					if frequent(itemset{b[i], b[k]}) && frequent(itemset{b[j], b[k]}) {
						counts[itemset{b[i], b[j], b[k]}]++
					}
				}
			}
		}
	}
	var out []rule
	add := func(all itemset, ante, cons []int) {
		sup := float64(counts[all]) / n
		a := float64(counts[key(ante)])
		c := float64(counts[key(cons)])
		if a == 0 || c == 0 {
			return
		}
		conf := float64(counts[all]) / a
		if conf+1e-12 < minConfidence {
			return
		}
		out = append(out, rule{antecedent: ante, consequent: cons, support: sup, confidence: conf, lift: conf / (c / n)})
	}
	keys := make([]itemset, 0, len(counts))
	for s := range counts {
		keys = append(keys, s)
	}
	sort.Slice(keys, func(i, j int) bool {
		for k := range 3 {
			if keys[i][k] != keys[j][k] {
				return keys[i][k] < keys[j][k]
			}
		}
		return false
	})
	for _, s := range keys {
		if !frequent(s) || s[1] == 0 {
			continue
		}
		if s[2] == 0 {
			add(s, []int{s[0]}, []int{s[1]})
			add(s, []int{s[1]}, []int{s[0]})
			continue
		}
		for i := range 3 {
			single := []int{s[i]}
			var pair []int
			for j := range 3 {
				if j != i {
					pair = append(pair, s[j])
				}
			}
			add(s, pair, single)
			add(s, single, pair)
		}
	}
	return out
}

// key is the itemset of ids (ascending, at most three).
func key(ids []int) itemset {
	var s itemset
	copy(s[:], ids)
	return s
}
