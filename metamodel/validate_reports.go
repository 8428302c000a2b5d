package metamodel

import (
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
)

// Report vocabulary.
var (
	ReportKinds    = []string{ReportAggregate, ReportRFM, ReportRecency, ReportAssociation, ReportFunnel, ReportTree}
	Charts         = []string{"table", "bar", "line", "pie", "funnel"}
	Buckets        = []string{"day", "week", "month", "quarter", "year"}
	MeasureFuncs   = []string{"count", "sum", "avg", "min", "max"}
	reportKindKeys = map[string][]string{
		ReportAggregate:   {"entity", "groupBy", "measures", "where", "chart"},
		ReportRFM:         {"entity", "events", "where"},
		ReportRecency:     {"entity", "events", "buckets", "where"},
		ReportAssociation: {"transactions", "minSupport", "minConfidence"},
		ReportFunnel:      {"workflow", "states", "where", "chart"},
		ReportTree:        {"entity", "target", "features", "maxDepth", "where"},
	}
	// ParamTypes are the types a report parameter may have.
	ParamTypes = []string{"string", "int", "float", "decimal", "bool", "date", "datetime", "enum"}
)

// computedFields type-checks computed field expressions against their field types.
func (b *builder) computedFields() {
	for _, e := range b.m.Entities {
		for _, f := range e.Fields {
			if f.Computed.IsZero() || !f.Type.known() {
				continue
			}
			ast := b.expr(e, f.Computed, nil)
			if ast == nil {
				continue
			}
			got, want := ast.OutputType(), CELType(f.Type)
			if got.Kind() == types.DynKind || f.Type == TypeJSON || want.IsAssignableType(got) ||
				want == cel.DoubleType && got.Kind() == types.IntKind {
				continue
			}
			b.errorf(f.Computed.Pos, "computed value of field %q has type %s, want %s", e.Name+"."+f.Name, celTypeName(got),
				celTypeName(want))
		}
	}
}

// reports checks each report according to its kind.
func (b *builder) reports() {
	for _, r := range b.m.Reports {
		what := "report " + quote(r.Name)
		if r.Kind == "" {
			r.Kind = ReportAggregate
		}
		keys, ok := reportKindKeys[r.Kind]
		if !ok {
			b.errorf(b.m.posOf(r, "kind", r.Pos), "unknown report kind %q%s", r.Kind, hint(r.Kind, ReportKinds))
			continue
		}
		for _, k := range []string{"entity", "groupBy", "measures", "where", "chart", "events", "buckets", "transactions",
			"minSupport", "minConfidence", "workflow", "states", "target", "features", "maxDepth"} {
			if b.m.hasKey(r, k) && !contains(keys, k) {
				b.errorf(b.m.posOf(r, k, r.Pos), "%s of kind %s cannot have %s", what, r.Kind, k)
			}
		}
		var e *Entity
		if contains(keys, "entity") {
			e = b.m.Entity(r.Entity)
			if r.Entity == "" {
				b.missingf(r, "entity", r.Pos, "%s has no entity", what)
			} else if e == nil {
				b.errorf(b.m.posOf(r, "entity", r.Pos), "unknown entity %q for %s%s", r.Entity, what, didYouMean(r.Entity, b.entityNames()))
			}
		}
		b.params(r)
		if r.Kind == ReportFunnel {
			e = b.funnel(r)
		}
		b.reportWhere(r, e)
		switch r.Kind {
		case ReportAggregate:
			b.aggregate(r, e)
		case ReportRFM, ReportRecency:
			b.events(r, e)
		case ReportAssociation:
			b.association(r)
		case ReportTree:
			b.tree(r, e)
		}
	}
}

// params checks a report's parameters.
func (b *builder) params(r *Report) {
	for _, p := range r.Params {
		if !isLowerCamel(p.Name) {
			b.errorf(p.Pos, "parameter name %q must be lowerCamelCase (rename to %q)", p.Name, lowerCamel(p.Name))
		}
		if !contains(ParamTypes, string(p.Type)) {
			continue // the loader reported the word
		}
		switch {
		case p.Type == TypeEnum && p.Enum == "":
			b.missingf(p, "enum", p.Pos, "parameter %q of report %q has type enum but no enum", p.Name, r.Name)
		case p.Type == TypeEnum && b.m.Enum(p.Enum) == nil:
			b.errorf(b.m.posOf(p, "enum", p.Pos), "unknown enum %q for parameter %q%s", p.Enum, p.Name, didYouMean(p.Enum, sortedKeys(b.m.enumByName)))
		case p.Type != TypeEnum && p.Enum != "":
			b.errorf(b.m.posOf(p, "enum", p.Pos), "parameter %q has type %s; only type enum takes an enum", p.Name, p.Type)
		}
	}
}

// funnel checks a funnel report and returns its workflow's entity, which it counts.
func (b *builder) funnel(r *Report) *Entity {
	if r.Chart == "" {
		r.Chart = "funnel"
	} else if !contains(Charts, r.Chart) {
		b.errorf(b.m.posOf(r, "chart", r.Pos), "unknown chart %q%s", r.Chart, hint(r.Chart, Charts))
	}
	if r.Workflow == "" {
		b.missingf(r, "workflow", r.Pos, "funnel report %q has no workflow", r.Name)
		return nil
	}
	wf := b.m.Workflow(r.Workflow)
	if wf == nil {
		var names []string
		for _, w := range b.m.Workflows {
			names = append(names, w.Name)
		}
		b.errorf(b.m.posOf(r, "workflow", r.Pos), "unknown workflow %q for report %q%s", r.Workflow, r.Name, didYouMean(r.Workflow, names))
		return nil
	}
	var names []string
	for _, s := range wf.States {
		names = append(names, s.Name)
	}
	if len(r.States) == 0 {
		r.States = names
	}
	seen := map[string]bool{}
	for i, s := range r.States {
		switch {
		case !contains(names, s):
			b.errorf(b.m.posOf(r, "states."+itoa(i), r.Pos), "unknown state %q of workflow %q in report %q%s", s, wf.Name, r.Name, didYouMean(s, names))
		case seen[s]:
			b.errorf(b.m.posOf(r, "states."+itoa(i), r.Pos), "state %q is listed twice in report %q", s, r.Name)
		}
		seen[s] = true
	}
	r.Entity = wf.Entity
	return b.m.Entity(wf.Entity)
}

// tree checks a decision tree report.
func (b *builder) tree(r *Report, e *Entity) {
	if !b.m.hasKey(r, "maxDepth") {
		r.MaxDepth = 4
	} else if r.MaxDepth < 1 || r.MaxDepth > 8 {
		b.errorf(b.m.posOf(r, "maxDepth", r.Pos), "maxDepth %d is out of range (want 1 to 8)", r.MaxDepth)
	}
	if e == nil {
		return
	}
	switch {
	case r.TargetReport != "":
		t := b.m.Report(r.TargetReport)
		if t == nil || t.Kind != ReportRecency || t.Entity != e.Name {
			var cands []string
			for _, x := range b.m.Reports {
				if x.Kind == ReportRecency && x.Entity == e.Name {
					cands = append(cands, x.Name)
				}
			}
			b.errorf(b.m.posOf(r, "target", r.Pos), "target report %q of report %q must be a recency report over %q%s", r.TargetReport,
				r.Name, e.Name, orMeant(r.TargetReport, cands))
		}
	case r.Target == "":
		b.missingf(r, "target", r.Pos, "decision tree report %q has no target (a bool or enum field of %q, or {report: <recency report>})", r.Name, e.Name)
	default:
		f := e.Field(r.Target)
		if f == nil || f.Type != TypeBool && f.Type != TypeEnum {
			var cands []string
			for _, x := range e.Fields {
				if x.Type == TypeBool || x.Type == TypeEnum {
					cands = append(cands, x.Name)
				}
			}
			b.errorf(b.m.posOf(r, "target", r.Pos), "target %q of report %q must be a bool or enum field of %q%s", r.Target, r.Name, e.Name,
				orMeant(r.Target, cands))
		}
	}
	if len(r.Features) == 0 {
		b.missingf(r, "features", r.Pos, "decision tree report %q has no features (fields and belongsTo relations of %q)", r.Name, e.Name)
	}
	for i, name := range r.Features {
		f, rel := e.Field(name), e.Relation(name)
		switch {
		case f == nil && rel == nil:
			b.errorf(b.m.posOf(r, "features."+itoa(i), r.Pos), "unknown feature %q of report %q%s", name, r.Name, didYouMean(name, memberNames(e)))
		case rel != nil && rel.Kind != BelongsTo:
			b.errorf(b.m.posOf(r, "features."+itoa(i), r.Pos), "feature %q of report %q is not a belongsTo relation", name, r.Name)
		case f != nil && (f.Type == TypeJSON || f.Type == TypeText || f.Type.Attachment() || virtual(f)):
			b.errorf(b.m.posOf(r, "features."+itoa(i), r.Pos), "feature %q of report %q cannot be used: a %s field", name, r.Name, f.Type)
		case name == r.Target:
			b.errorf(b.m.posOf(r, "features."+itoa(i), r.Pos), "feature %q of report %q is its target", name, r.Name)
		}
	}
}

// virtual reports whether f is computed when read, so the database has no column for it.
func virtual(f *Field) bool { return f.Computed.Src != "" && !f.Stored }

func (b *builder) aggregate(r *Report, e *Entity) {
	if r.Chart == "" {
		r.Chart = "table"
	} else if !contains(Charts, r.Chart) {
		b.errorf(b.m.posOf(r, "chart", r.Pos), "unknown chart %q%s", r.Chart, hint(r.Chart, Charts))
	}
	if len(r.Measures) == 0 {
		r.Measures = []*Measure{{Func: "count", Pos: r.Pos}}
	}
	for _, g := range r.GroupBy {
		if g.Bucket != "" && !contains(Buckets, g.Bucket) {
			b.errorf(b.m.posOf(g, "bucket", g.Pos), "unknown bucket %q%s", g.Bucket, hint(g.Bucket, Buckets))
		}
		if e == nil {
			continue
		}
		f, rel := e.Field(g.Field), e.Relation(g.Field)
		switch {
		case f == nil && rel == nil:
			b.errorf(g.Pos, "unknown field %q in groupBy of report %q%s", g.Field, r.Name, didYouMean(g.Field, memberNames(e)))
		case rel != nil && rel.Kind != BelongsTo:
			b.errorf(g.Pos, "report %q cannot group by relation %q, which is not belongsTo", r.Name, g.Field)
		case g.Bucket != "" && (f == nil || f.Type != TypeDate && f.Type != TypeDateTime):
			b.errorf(b.m.posOf(g, "bucket", g.Pos), "bucket is only for date and datetime fields; %q is not one", g.Field)
		case len(g.Bands) > 0 && (f == nil || f.Type != TypeDate && f.Type != TypeDateTime):
			b.errorf(b.m.posOf(g, "bands", g.Pos), "bands are only for date and datetime fields; %q is not one", g.Field)
		case len(g.Bands) > 0 && g.Bucket != "":
			b.errorf(b.m.posOf(g, "bands", g.Pos), "a group has a bucket or bands, not both")
		case len(g.Bands) > 0:
			var prev time.Duration
			for _, s := range g.Bands {
				d, err := ParseDuration(s)
				switch {
				case err != nil:
					b.errorf(b.m.posOf(g, "bands", g.Pos), "bands: %v", err)
				case d <= prev:
					b.errorf(b.m.posOf(g, "bands", g.Pos), "bands must grow: %q is not longer than the band before it", s)
				}
				prev = d
			}
		case f != nil && (f.Type == TypeJSON || f.Type == TypeText || f.Type.Attachment()):
			b.errorf(g.Pos, "report %q cannot group by field %q of type %s", r.Name, g.Field, f.Type)
		}
	}
	for _, m := range r.Measures {
		if !contains(MeasureFuncs, m.Func) {
			b.errorf(m.Pos, "unknown measure function %q%s", m.Func, hint(m.Func, MeasureFuncs))
			continue
		}
		if m.Field == "" {
			if m.Func != "count" {
				b.errorf(m.Pos, "measure %s needs a field, as in %s(amount)", m.Func, m.Func)
			}
			continue
		}
		if e == nil {
			continue
		}
		f := e.Field(m.Field)
		if f == nil {
			if m.Func == "count" && e.Relation(m.Field) != nil {
				continue
			}
			b.errorf(m.Pos, "unknown field %q in measure %s(%s) of report %q%s", m.Field, m.Func, m.Field, r.Name,
				didYouMean(m.Field, fieldNames(e)))
			continue
		}
		switch m.Func {
		case "sum", "avg":
			if !f.Type.numeric() {
				b.errorf(m.Pos, "%s needs a numeric field; %q has type %s", m.Func, m.Field, f.Type)
			}
		case "min", "max":
			if !f.Type.numeric() && f.Type != TypeDate && f.Type != TypeDateTime {
				b.errorf(m.Pos, "%s needs a numeric, date or datetime field; %q has type %s", m.Func, m.Field, f.Type)
			}
		}
	}
}

func (b *builder) events(r *Report, e *Entity) {
	ev := r.Events
	if ev == nil {
		b.missingf(r, "events", r.Pos, "report %q of kind %s has no events (add events: {entity, by, date%s})", r.Name, r.Kind,
			map[bool]string{true: ", amount", false: ""}[r.Kind == ReportRFM])
		return
	}
	at := func(k string) Pos { return b.m.posOf(ev, k, ev.Pos) }
	ee := b.m.Entity(ev.Entity)
	if ev.Entity == "" {
		b.errorf(ev.Pos, "events of report %q have no entity", r.Name)
	} else if ee == nil {
		b.errorf(at("entity"), "unknown entity %q in events of report %q%s", ev.Entity, r.Name, didYouMean(ev.Entity, b.entityNames()))
	}
	for i, name := range sortedKeys(r.Buckets) {
		_ = i
		if !isLowerCamel(name) {
			b.errorf(b.m.posOf(r, "buckets."+name, r.Pos), "bucket name %q must be lowerCamelCase (rename to %q)", name, lowerCamel(name))
		}
		if _, err := ParseDuration(r.Buckets[name]); err != nil {
			b.errorf(b.m.posOf(r, "buckets."+name, r.Pos), "%v", err)
		}
	}
	if ee == nil {
		return
	}
	if ev.By == "" {
		b.errorf(ev.Pos, "events of report %q have no by (a belongsTo relation of %q to %q)", r.Name, ee.Name, r.Entity)
	} else if rel := ee.Relation(ev.By); rel == nil || rel.Kind != BelongsTo || e != nil && rel.To != e.Name {
		b.errorf(at("by"), "events by %q must be a belongsTo relation of %q to %q%s", ev.By, ee.Name, r.Entity,
			orMeant(ev.By, relationsTo(ee, r.Entity)))
	}
	if ev.Date == "" {
		b.errorf(ev.Pos, "events of report %q have no date (a date or datetime field of %q)", r.Name, ee.Name)
	} else if f := ee.Field(ev.Date); f == nil || f.Type != TypeDate && f.Type != TypeDateTime {
		b.errorf(at("date"), "events date %q must be a date or datetime field of %q%s", ev.Date, ee.Name,
			orMeant(ev.Date, fieldNames(ee)))
	}
	switch {
	case r.Kind == ReportRFM && ev.Amount == "":
		b.errorf(ev.Pos, "events of rfm report %q have no amount (a numeric field of %q)", r.Name, ee.Name)
	case r.Kind == ReportRecency && ev.Amount != "":
		b.errorf(at("amount"), "recency report %q does not use an amount (remove it)", r.Name)
	case ev.Amount != "":
		if f := ee.Field(ev.Amount); f == nil {
			b.errorf(at("amount"), "unknown field %q in events amount of report %q%s", ev.Amount, r.Name,
				didYouMean(ev.Amount, fieldNames(ee)))
		} else if !f.Type.numeric() {
			b.errorf(at("amount"), "events amount %q must be a numeric field; it has type %s", ev.Amount, f.Type)
		}
	}
}

func relationsTo(e *Entity, to string) []string {
	var out []string
	for _, r := range e.Relations {
		if r.Kind == BelongsTo && r.To == to {
			out = append(out, r.Name)
		}
	}
	return out
}

func (b *builder) association(r *Report) {
	tx := r.Transactions
	if !b.m.hasKey(r, "minSupport") {
		r.MinSupport = 0.01
	} else if r.MinSupport <= 0 || r.MinSupport > 1 {
		b.errorf(b.m.posOf(r, "minSupport", r.Pos), "minSupport %v is out of range (want more than 0 and at most 1)", r.MinSupport)
	}
	if !b.m.hasKey(r, "minConfidence") {
		r.MinConfidence = 0.5
	} else if r.MinConfidence <= 0 || r.MinConfidence > 1 {
		b.errorf(b.m.posOf(r, "minConfidence", r.Pos), "minConfidence %v is out of range (want more than 0 and at most 1)", r.MinConfidence)
	}
	if tx == nil {
		b.missingf(r, "transactions", r.Pos, "report %q of kind associationRules has no transactions (add transactions: {entity, basket, item})", r.Name)
		return
	}
	e := b.m.Entity(tx.Entity)
	if tx.Entity == "" {
		b.errorf(tx.Pos, "transactions of report %q have no entity", r.Name)
		return
	}
	if e == nil {
		b.errorf(b.m.posOf(tx, "entity", tx.Pos), "unknown entity %q in transactions of report %q%s", tx.Entity, r.Name,
			didYouMean(tx.Entity, b.entityNames()))
		return
	}
	for _, k := range []struct{ key, name string }{{"basket", tx.Basket}, {"item", tx.Item}} {
		if k.name == "" {
			b.errorf(tx.Pos, "transactions of report %q have no %s (a belongsTo relation of %q)", r.Name, k.key, e.Name)
			continue
		}
		if rel := e.Relation(k.name); rel == nil || rel.Kind != BelongsTo {
			var cands []string
			for _, x := range e.Relations {
				if x.Kind == BelongsTo {
					cands = append(cands, x.Name)
				}
			}
			b.errorf(b.m.posOf(tx, k.key, tx.Pos), "transactions %s %q must be a belongsTo relation of %q%s", k.key, k.name, e.Name,
				orMeant(k.name, cands))
		}
	}
	if tx.Basket != "" && tx.Basket == tx.Item {
		b.errorf(b.m.posOf(tx, "item", tx.Pos), "transactions basket and item of report %q are the same relation", r.Name)
	}
}

// dashboards checks that dashboards name existing roles and reports.
func (b *builder) dashboards() {
	var reports []string
	for _, r := range b.m.Reports {
		reports = append(reports, r.Name)
	}
	for _, d := range b.m.Dashboards {
		for i, r := range d.Roles {
			if b.m.Role(r) == nil {
				b.errorf(b.m.posOf(d, "roles."+itoa(i), d.Pos), "unknown role %q in dashboard %q%s", r, d.Name, didYouMean(r, b.roleNames()))
			}
		}
		if len(d.Reports) == 0 {
			b.missingf(d, "reports", d.Pos, "dashboard %q has no reports", d.Name)
		}
		for i, r := range d.Reports {
			if b.m.Report(r) == nil {
				b.errorf(b.m.posOf(d, "reports."+itoa(i), d.Pos), "unknown report %q in dashboard %q%s", r, d.Name, didYouMean(r, reports))
			}
		}
	}
}
