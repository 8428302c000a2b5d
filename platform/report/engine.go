// Package report runs the model's reports (METAMODEL.md, "reports and dashboards") for a reader: groupBy
// aggregates, rfm, recency, association rules, funnels and decision trees.
//
// A report is one more read path, so it asks the one enforcement point what its reader may see: the rows
// it counts are those enforce.Runtime.ReadFilter selects for the reader (row scopes, soft deletes), and a
// report that groups by, measures, filters on or learns from a field the reader may not list (hidden,
// sensitive without a visible rule, or shown on some of their rows only) is refused for that reader, with
// the field's label. Aggregations run in the database (GROUP BY); rfm scores, association rules and the
// tree are computed in Go from rows streamed once. Results are cached per reader and parameters, and
// dropped when a record of an entity the report reads changes.
package report

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/auth"
	"github.com/crmgen/crmgen/platform/enforce"
)

// Engine runs the reports of one model over one database.
type Engine struct {
	Model   *metamodel.Model
	DB      *sql.DB
	Dialect string
	Runtime *enforce.Runtime
	// Now is the clock (time.Now when nil); tests fix it.
	Now func() time.Time

	mu    sync.Mutex
	cache map[string]*cached
	reads map[string][]string // report → entities it reads
}

// Column is one column of a report's rows: its key in each row, its label in the reader's language, and
// the type of its cells (string, int, float, bool, date, datetime, enum, record, list).
type Column struct {
	Name  string `json:"name"`
	Label string `json:"label"`
	Type  string `json:"type"`
}

// Result is a report as one reader sees it.
type Result struct {
	Name    string    `json:"name"`
	Label   string    `json:"label"`
	Kind    string    `json:"kind"`
	Chart   string    `json:"chart,omitempty"`
	Columns []*Column `json:"columns"`
	// Data holds the rows, each keyed by column name (METAMODEL.md gives each kind's columns).
	Data []map[string]any `json:"rows"`
	// Accuracy is a decision tree's share of its records predicted right; 0 for other kinds.
	Accuracy float64 `json:"accuracy,omitempty"`
	// At is when the result was computed (it may come from the cache).
	At time.Time `json:"at"`
	// RFM counts an rfm report's records by scores and segment (nil for other kinds).
	RFM []*RFMCount `json:"rfm,omitempty"`

	rowsJSON []json.RawMessage
}

// Rows are the first rows as JSON documents, as the GraphQL API answers them: all of them when first is
// nil, none when it is not positive. A dashboard's card asks for the few it shows: a report with a row per
// record (recency, rfm) has a million rows over a million records.
func (r *Result) Rows(first *int) []json.RawMessage {
	if first != nil && *first < len(r.rowsJSON) {
		return r.rowsJSON[:max(*first, 0)]
	}
	return r.rowsJSON
}

// RowCount is how many rows the result has, whatever Rows answers.
func (r *Result) RowCount() int { return len(r.rowsJSON) }

// Error is a report refused to its reader, or asked for with parameters it cannot take. Its message is in
// the reader's language and names things by their labels.
type Error struct {
	Code  string // FORBIDDEN, FORBIDDEN_FIELD, NOT_FOUND or VALIDATION
	Field string // the field concerned, when there is one
	Msg   string
}

func (e *Error) Error() string { return e.Msg }

type cached struct {
	res *Result
	at  time.Time
}

// maxAge bounds how long a result is reused even when nothing it reads changed: conditions on now move.
const maxAge = 5 * time.Minute

// maxCached bounds the number of cached results (readers × reports × parameters × languages).
const maxCached = 2000

type engineCtxKey struct{}

// NewContext returns ctx carrying the engine, for the generated resolvers.
func NewContext(ctx context.Context, e *Engine) context.Context {
	return context.WithValue(ctx, engineCtxKey{}, e)
}

// FromContext returns the engine of ctx, or nil.
func FromContext(ctx context.Context) *Engine {
	e, _ := ctx.Value(engineCtxKey{}).(*Engine)
	return e
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// Changed drops the cached results of every report that reads entity. The platform calls it after each
// write (enforce.Runtime.Changed).
func (e *Engine) Changed(entity string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.reads == nil {
		e.reads = map[string][]string{}
		for _, r := range e.Model.Reports {
			e.reads[r.Name] = entitiesRead(e.Model, r)
		}
	}
	for key := range e.cache {
		name, _, _ := strings.Cut(key, "\x00")
		for _, x := range e.reads[name] {
			if x == entity {
				delete(e.cache, key)
				break
			}
		}
	}
}

// entitiesRead lists the entities whose rows a report's result depends on.
func entitiesRead(m *metamodel.Model, r *metamodel.Report) []string {
	out := []string{"User", "Team"} // row scopes depend on owners and teams
	add := func(name string) {
		if name != "" {
			out = append(out, name)
		}
	}
	add(r.Entity)
	if e := m.Entity(r.Entity); e != nil {
		for _, g := range r.GroupBy {
			if rel := e.Relation(g.Field); rel != nil {
				add(rel.To)
			}
		}
		for _, f := range r.Features {
			if rel := e.Relation(f); rel != nil {
				add(rel.To)
			}
		}
	}
	if ev := r.Events; ev != nil {
		add(ev.Entity)
	}
	if tx := r.Transactions; tx != nil {
		add(tx.Entity)
		if e := m.Entity(tx.Entity); e != nil {
			for _, name := range []string{tx.Basket, tx.Item} {
				if rel := e.Relation(name); rel != nil {
					add(rel.To)
				}
			}
		}
	}
	if t := m.Report(r.TargetReport); t != nil {
		out = append(out, entitiesRead(m, t)...)
	}
	return out
}

// Run runs the report named name for the reader of ctx, with params (nil for none), labelled in lang.
func (e *Engine) Run(ctx context.Context, name string, params map[string]any, lang string) (*Result, error) {
	lang = e.language(lang)
	r := e.Model.Report(name)
	if r == nil || !e.mayRun(ctx, r) {
		// A reader who may not run a report is told its label, which the screens show them anyway: its
		// name is the model's identifier.
		shown := name
		if r != nil {
			shown = e.Model.Localize(r.Label, lang, name)
		}
		return nil, &Error{Code: "NOT_FOUND", Msg: e.say(lang, "noReport", shown)}
	}
	vals, err := e.params(r, params, lang)
	if err != nil {
		return nil, err
	}
	if err := e.check(ctx, r, lang); err != nil {
		return nil, err
	}
	key := e.cacheKey(ctx, r, vals, lang)
	now := e.now()
	e.mu.Lock()
	if c, ok := e.cache[key]; ok && now.Sub(c.at) < maxAge {
		e.mu.Unlock()
		return c.res, nil
	}
	e.mu.Unlock()

	q := &run{Engine: e, ctx: ctx, r: r, lang: lang, params: vals, now: now}
	res := &Result{Name: r.Name, Label: e.Model.Localize(r.Label, lang, r.Name), Kind: r.Kind, Chart: r.Chart, At: now}
	switch r.Kind {
	case metamodel.ReportAggregate:
		err = q.aggregate(res)
	case metamodel.ReportRFM:
		err = q.rfm(res)
	case metamodel.ReportRecency:
		err = q.recency(res)
	case metamodel.ReportAssociation:
		err = q.association(res)
	case metamodel.ReportFunnel:
		err = q.funnel(res)
	case metamodel.ReportTree:
		err = q.tree(res)
	default:
		err = fmt.Errorf("report %s: unknown kind %q", r.Name, r.Kind)
	}
	if err != nil {
		return nil, err
	}
	res.rowsJSON = make([]json.RawMessage, len(res.Data))
	for i, row := range res.Data {
		b, err := json.Marshal(row)
		if err != nil {
			return nil, fmt.Errorf("report %s: %w", r.Name, err)
		}
		res.rowsJSON[i] = b
	}
	e.mu.Lock()
	if e.cache == nil || len(e.cache) >= maxCached {
		e.cache = map[string]*cached{} // bounded: many readers × parameters start it afresh
	}
	e.cache[key] = &cached{res: res, at: now}
	e.mu.Unlock()
	return res, nil
}

// Visible lists the reports the reader of ctx may run, in model order: those whose entities they may
// read at all. (A report may still be refused for a field; Run says which.)
func (e *Engine) Visible(ctx context.Context) []*metamodel.Report {
	var out []*metamodel.Report
	for _, r := range e.Model.Reports {
		if e.mayRun(ctx, r) {
			out = append(out, r)
		}
	}
	return out
}

// Dashboards lists the dashboards shown to the reader of ctx: those naming one of their roles (every
// dashboard for a superuser or in a model without roles).
func (e *Engine) Dashboards(ctx context.Context) []*metamodel.Dashboard {
	p := auth.FromContext(ctx)
	if p == nil {
		return nil
	}
	var out []*metamodel.Dashboard
	for _, d := range e.Model.Dashboards {
		show := len(e.Model.Roles) == 0
		for _, role := range p.Roles {
			if r := e.Model.Role(role); r != nil && r.Superuser {
				show = true
			}
			for _, dr := range d.Roles {
				show = show || dr == role
			}
		}
		if show {
			out = append(out, d)
		}
	}
	return out
}

// mayRun reports whether the reader may read every entity r counts.
func (e *Engine) mayRun(ctx context.Context, r *metamodel.Report) bool {
	for _, name := range e.counted(r) {
		if !e.Runtime.AccessOf(ctx, name).MayRead() {
			return false
		}
	}
	return true
}

// counted lists the entities whose rows r counts (the reader must be able to read some of each).
func (e *Engine) counted(r *metamodel.Report) []string {
	var out []string
	if r.Entity != "" {
		out = append(out, r.Entity)
	}
	if r.Events != nil {
		out = append(out, r.Events.Entity)
	}
	if r.Transactions != nil {
		out = append(out, r.Transactions.Entity)
	}
	if t := e.Model.Report(r.TargetReport); t != nil {
		out = append(out, e.counted(t)...)
	}
	return out
}

// used lists, per entity, the members r reads: what it groups by, measures, filters on or learns from.
func (e *Engine) used(r *metamodel.Report) map[string][]string {
	out := map[string][]string{}
	add := func(entity string, members ...string) {
		for _, m := range members {
			if m != "" && m != "id" {
				out[entity] = append(out[entity], m)
			}
		}
	}
	for _, g := range r.GroupBy {
		add(r.Entity, g.Field)
	}
	for _, m := range r.Measures {
		add(r.Entity, m.Field)
	}
	var walk func(c *metamodel.Cond)
	walk = func(c *metamodel.Cond) {
		if c == nil {
			return
		}
		add(r.Entity, c.Member)
		for _, a := range c.Args {
			walk(a)
		}
	}
	walk(r.Filter)
	if ev := r.Events; ev != nil {
		add(ev.Entity, ev.By, ev.Date, ev.Amount)
	}
	if tx := r.Transactions; tx != nil {
		add(tx.Entity, tx.Basket, tx.Item)
	}
	if r.Kind == metamodel.ReportFunnel {
		if wf := e.Model.Workflow(r.Workflow); wf != nil {
			add(r.Entity, wf.Field)
		}
	}
	add(r.Entity, r.Target)
	add(r.Entity, r.Features...)
	if t := e.Model.Report(r.TargetReport); t != nil {
		for k, v := range e.used(t) {
			add(k, v...)
		}
	}
	return out
}

// check refuses r when it reads a member the reader may not list on every row they read.
func (e *Engine) check(ctx context.Context, r *metamodel.Report, lang string) error {
	used := e.used(r)
	entities := make([]string, 0, len(used))
	for name := range used {
		entities = append(entities, name)
	}
	sort.Strings(entities)
	for _, name := range entities {
		a := e.Runtime.AccessOf(ctx, name)
		ent := e.Model.Entity(name)
		for _, m := range used[name] {
			if a.Sortable(m) {
				continue
			}
			return &Error{Code: "FORBIDDEN_FIELD", Field: m,
				Msg: e.say(lang, "hiddenField", e.Model.Localize(r.Label, lang, r.Name), memberLabel(e.Model, ent, m, lang))}
		}
	}
	return nil
}

// cacheKey names a result: the report, who reads it (their rows and fields), the parameters and language.
func (e *Engine) cacheKey(ctx context.Context, r *metamodel.Report, params map[string]any, lang string) string {
	who := ""
	if p := auth.FromContext(ctx); p != nil {
		roles := append([]string(nil), p.Roles...)
		sort.Strings(roles)
		who = strconv.Itoa(p.ID) + "/" + strings.Join(roles, ",") + "/" + strconv.Itoa(p.Team) + fmt.Sprint(p.Teams)
	}
	if enforce.IsSystem(ctx) {
		who = "system"
	}
	b, _ := json.Marshal(params)
	return r.Name + "\x00" + who + "\x00" + string(b) + "\x00" + lang
}

// params checks and converts the reader's parameters to the values CEL compares: a date or datetime is a
// timestamp, an int an int64, a float or decimal a float64. An unknown or malformed parameter is an error
// naming it; a missing one is left out (the comparisons using it are dropped).
func (e *Engine) params(r *metamodel.Report, in map[string]any, lang string) (map[string]any, error) {
	out := map[string]any{}
	names := make([]string, 0, len(in))
	for k := range in {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := in[k]
		p := r.Param(k)
		if p == nil {
			return nil, &Error{Code: "VALIDATION", Field: k, Msg: e.say(lang, "unknownParam", k)}
		}
		if v == nil || v == "" {
			continue
		}
		label := e.Model.Localize(p.Label, lang, p.Name)
		bad := &Error{Code: "VALIDATION", Field: k, Msg: e.say(lang, "badParam", label, e.say(lang, "type."+string(p.Type)))}
		switch p.Type {
		case metamodel.TypeDate, metamodel.TypeDateTime:
			s, ok := v.(string)
			if !ok {
				return nil, bad
			}
			t, err := parseTime(s, e.Model.App.Location())
			if err != nil {
				return nil, bad
			}
			out[k] = t
		case metamodel.TypeInt:
			n, ok := number(v)
			if !ok || n != float64(int64(n)) {
				return nil, bad
			}
			out[k] = int64(n)
		case metamodel.TypeFloat, metamodel.TypeDecimal:
			n, ok := number(v)
			if !ok {
				return nil, bad
			}
			out[k] = n
		case metamodel.TypeBool:
			b, ok := v.(bool)
			if !ok {
				return nil, bad
			}
			out[k] = b
		case metamodel.TypeEnum:
			s, ok := v.(string)
			en := e.Model.Enum(p.Enum)
			if !ok || en == nil || !hasValue(en, s) {
				return nil, bad
			}
			out[k] = s
		default:
			s, ok := v.(string)
			if !ok {
				return nil, bad
			}
			out[k] = s
		}
	}
	return out, nil
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(n, 64)
		return f, err == nil
	}
	return 0, false
}

// parseTime reads a parameter's date (2006-01-02, midnight in loc) or time (RFC 3339).
func parseTime(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, errors.New("not a date")
}

func (e *Engine) language(lang string) string {
	for _, l := range e.Model.App.Locales {
		if l == lang {
			return lang
		}
	}
	if strings.HasPrefix(lang, "zh") {
		return "zh"
	}
	if lang == "" || !strings.HasPrefix(lang, "en") {
		return e.Model.App.DefaultLocale
	}
	return "en"
}

// memberLabel is a field's or relation's label in lang.
func memberLabel(m *metamodel.Model, e *metamodel.Entity, name, lang string) string {
	if e == nil {
		return name
	}
	if f := e.Field(name); f != nil {
		return m.Localize(f.Label, lang, name)
	}
	if r := e.Relation(name); r != nil {
		if len(r.Label) == 0 && r.Target != nil {
			return m.Localize(r.Target.Label, lang, name)
		}
		return m.Localize(r.Label, lang, name)
	}
	return name
}

func hasValue(en *metamodel.Enum, key string) bool {
	for _, v := range en.Values {
		if v.Key == key {
			return true
		}
	}
	return false
}
