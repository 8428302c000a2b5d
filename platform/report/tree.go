package report

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/crmgen/crmgen/metamodel"
)

// A decision tree (CART, Gini impurity) learns which features explain the target over the readable
// records: a categorical feature (enum, bool, text, a related record) splits on one value against the
// rest, a numeric or date feature on a threshold. A node is split while it is impure, above maxDepth's
// depth, and both sides keep at least minLeaf records. The rows are the leaves: the rule leading there in
// the reader's words, the prediction (the majority), how many records it holds and the share it predicts
// right.

type feature struct {
	name    string
	field   *metamodel.Field
	rel     *metamodel.Relation
	numeric bool
}

type split struct {
	f         int
	value     any // categorical: the value on the left
	threshold float64
	gain      float64
}

type treeNode struct {
	conds []string
	idx   []int
}

func (q *run) tree(res *Result) error {
	r, e := q.r, q.Model.Entity(q.r.Entity)
	var feats []feature
	for _, name := range r.Features {
		ft := feature{name: name, field: e.Field(name), rel: e.Relation(name)}
		if f := ft.field; f != nil {
			switch f.Type {
			case metamodel.TypeInt, metamodel.TypeFloat, metamodel.TypeDecimal, metamodel.TypeDate, metamodel.TypeDateTime:
				ft.numeric = true
			}
		}
		feats = append(feats, ft)
	}
	targets := map[int]string{}
	var target *metamodel.Field
	if r.TargetReport != "" {
		sub := &run{Engine: q.Engine, ctx: q.ctx, r: q.Model.Report(r.TargetReport), lang: q.lang, params: map[string]any{}, now: q.now}
		ids, _, err := sub.records()
		if err != nil {
			return err
		}
		stats, err := sub.events()
		if err != nil {
			return err
		}
		for _, id := range ids {
			targets[id] = sub.recencyStatus(sub.r, stats[id])
		}
	} else {
		target = e.Field(r.Target)
	}
	s, err := q.selectFrom(e.Name, func(s *entsql.Selector) []string {
		cols := []string{s.C("id")}
		for _, f := range feats {
			cols = append(cols, s.C(column(e, f.name)))
		}
		if target != nil {
			cols = append(cols, s.C(target.Column()))
		}
		return cols
	})
	if err != nil {
		return err
	}
	var xs [][]any
	var ys []string
	relIDs := map[int][]int{}
	loc := q.Model.App.Location()
	err = q.query(s, func(vals []any) error {
		id, _ := toInt(vals[0])
		var y string
		if target != nil {
			v := vals[len(vals)-1]
			if v == nil {
				return nil // nothing to learn from a record without a target
			}
			y = fmt.Sprint(cell(target, v, loc))
		} else {
			var ok bool
			if y, ok = targets[id]; !ok {
				return nil
			}
		}
		x := make([]any, len(feats))
		for i, f := range feats {
			v := vals[1+i]
			switch {
			case v == nil:
			case f.numeric && (f.field.Type == metamodel.TypeDate || f.field.Type == metamodel.TypeDateTime):
				t, _ := toTime(v)
				x[i] = float64(t.Unix()) / 86400
			case f.numeric:
				x[i], _ = toFloat(v)
			case f.rel != nil:
				n, _ := toInt(v)
				x[i] = strconv.Itoa(n)
				relIDs[i] = append(relIDs[i], n)
			default:
				x[i] = fmt.Sprint(cell(f.field, v, loc))
			}
		}
		xs, ys = append(xs, x), append(ys, y)
		return nil
	})
	if err != nil {
		return err
	}
	titles := map[int]map[int]string{}
	for i, ids := range relIDs {
		t, err := q.titles(feats[i].rel.To, dedupe(ids))
		if err != nil {
			return err
		}
		titles[i] = t
	}
	show := func(i int, v any) string {
		f := feats[i]
		switch {
		case v == nil:
			return q.say(q.lang, "empty")
		case f.rel != nil:
			id, _ := strconv.Atoi(v.(string))
			return titles[i][id]
		case f.numeric && (f.field.Type == metamodel.TypeDate || f.field.Type == metamodel.TypeDateTime):
			return time.Unix(int64(v.(float64)*86400), 0).In(loc).Format("2006-01-02")
		case f.numeric:
			return strconv.FormatFloat(v.(float64), 'f', -1, 64)
		case f.field.Type == metamodel.TypeEnum:
			return q.enumLabel(f.field.Enum, v.(string))
		case f.field.Type == metamodel.TypeBool:
			if v == "true" {
				return q.say(q.lang, "yes")
			}
			return q.say(q.lang, "no")
		}
		return fmt.Sprint(v)
	}
	label := func(i int) string { return memberLabel(q.Model, e, feats[i].name, q.lang) }
	predLabel := func(y string) string {
		switch {
		case target == nil:
			return q.say(q.lang, "status."+y)
		case target.Type == metamodel.TypeEnum:
			return q.enumLabel(target.Enum, y)
		case y == "true":
			return q.say(q.lang, "yes")
		}
		return q.say(q.lang, "no")
	}

	minLeaf := max(1, len(xs)/50)
	all := make([]int, len(xs))
	for i := range all {
		all[i] = i
	}
	var leaves []*treeNode
	var grow func(n *treeNode, depth int)
	grow = func(n *treeNode, depth int) {
		if depth >= r.MaxDepth || gini(n.idx, ys) == 0 {
			leaves = append(leaves, n)
			return
		}
		sp, ok := bestSplit(n.idx, xs, ys, feats, minLeaf)
		if !ok {
			leaves = append(leaves, n)
			return
		}
		var left, right []int
		for _, i := range n.idx {
			if goesLeft(xs[i][sp.f], sp, feats[sp.f].numeric) {
				left = append(left, i)
			} else {
				right = append(right, i)
			}
		}
		var lc, rc string
		if feats[sp.f].numeric {
			th := show(sp.f, sp.threshold)
			lc, rc = q.say(q.lang, "rule.le", label(sp.f), th), q.say(q.lang, "rule.gt", label(sp.f), th)
		} else {
			val := show(sp.f, sp.value)
			lc, rc = q.say(q.lang, "rule.eq", label(sp.f), val), q.say(q.lang, "rule.ne", label(sp.f), val)
			if other, ok := otherBool(feats[sp.f], sp.value, right, xs, sp.f); ok {
				// "competitor shelf is not no" reads as "competitor shelf is yes" when no value is empty.
				rc = q.say(q.lang, "rule.eq", label(sp.f), show(sp.f, other))
			}
		}
		grow(&treeNode{conds: append(append([]string(nil), n.conds...), lc), idx: left}, depth+1)
		grow(&treeNode{conds: append(append([]string(nil), n.conds...), rc), idx: right}, depth+1)
	}
	if len(all) > 0 {
		grow(&treeNode{idx: all}, 0)
	}
	res.Columns = []*Column{
		{Name: "rule", Label: q.say(q.lang, "col.rule"), Type: "string"},
		{Name: "prediction", Label: q.say(q.lang, "col.prediction"), Type: "enum"},
		{Name: "samples", Label: q.say(q.lang, "col.samples"), Type: "int"},
		{Name: "accuracy", Label: q.say(q.lang, "col.accuracy"), Type: "float"},
	}
	correct := 0
	for _, l := range leaves {
		pred, hits := majority(l.idx, ys)
		correct += hits
		rule := q.say(q.lang, "all")
		if len(l.conds) > 0 {
			rule = q.joinWords(l.conds)
		}
		res.Data = append(res.Data, map[string]any{"rule": rule, "prediction": pred, "predictionLabel": predLabel(pred),
			"samples": len(l.idx), "accuracy": round(float64(hits) / float64(len(l.idx)))})
	}
	if len(xs) > 0 {
		res.Accuracy = round(float64(correct) / float64(len(xs)))
	}
	return nil
}

func goesLeft(v any, sp split, numeric bool) bool {
	if numeric {
		f, ok := v.(float64)
		return ok && f <= sp.threshold
	}
	return v == sp.value
}

// bestSplit finds the split of idx with the largest Gini gain that leaves minLeaf records on each side.
func bestSplit(idx []int, xs [][]any, ys []string, feats []feature, minLeaf int) (split, bool) {
	base := gini(idx, ys)
	best := split{gain: 1e-9}
	found := false
	try := func(sp split) {
		var left, right []int
		for _, i := range idx {
			if goesLeft(xs[i][sp.f], sp, feats[sp.f].numeric) {
				left = append(left, i)
			} else {
				right = append(right, i)
			}
		}
		if len(left) < minLeaf || len(right) < minLeaf {
			return
		}
		n := float64(len(idx))
		g := base - float64(len(left))/n*gini(left, ys) - float64(len(right))/n*gini(right, ys)
		if g > best.gain {
			sp.gain = g
			best, found = sp, true
		}
	}
	for f := range feats {
		if feats[f].numeric {
			var vals []float64
			for _, i := range idx {
				if v, ok := xs[i][f].(float64); ok {
					vals = append(vals, v)
				}
			}
			sort.Float64s(vals)
			vals = dedupeFloats(vals)
			step := max(1, len(vals)/32)
			for i := 0; i+1 < len(vals); i += step {
				try(split{f: f, threshold: (vals[i] + vals[i+1]) / 2})
			}
			continue
		}
		seen := map[any]bool{}
		var values []any
		for _, i := range idx {
			if v := xs[i][f]; !seen[v] {
				seen[v] = true
				values = append(values, v)
			}
		}
		sort.Slice(values, func(a, b int) bool { return fmt.Sprint(values[a]) < fmt.Sprint(values[b]) })
		for _, v := range values {
			try(split{f: f, value: v})
		}
	}
	return best, found
}

func gini(idx []int, ys []string) float64 {
	if len(idx) == 0 {
		return 0
	}
	counts := map[string]int{}
	for _, i := range idx {
		counts[ys[i]]++
	}
	g := 1.0
	n := float64(len(idx))
	for _, c := range counts {
		p := float64(c) / n
		g -= p * p
	}
	return g
}

// majority is the most frequent target of idx (the first in text order on a tie) and its count.
func majority(idx []int, ys []string) (string, int) {
	counts := map[string]int{}
	for _, i := range idx {
		counts[ys[i]]++
	}
	best, n := "", -1
	for y, c := range counts {
		if c > n || c == n && y < best {
			best, n = y, c
		}
	}
	return best, n
}

func dedupe(ids []int) []int {
	seen := map[int]bool{}
	var out []int
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func dedupeFloats(v []float64) []float64 {
	out := v[:0:0]
	for i, x := range v {
		if i == 0 || x != v[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// otherBool is the value every row of idx holds when a bool feature's split sends value one way and the
// rest the other: the opposite value, unless a row there has no value.
func otherBool(f feature, value any, idx []int, xs [][]any, fi int) (any, bool) {
	if f.field == nil || f.field.Type != metamodel.TypeBool || f.numeric {
		return nil, false
	}
	for _, i := range idx {
		if xs[i][fi] == nil {
			return nil, false
		}
	}
	if value == "true" {
		return "false", true
	}
	return "true", true
}
