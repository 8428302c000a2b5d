package admin

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/report"
	"github.com/crmgen/crmgen/platform/requestid"
)

// Dashboards and report pages. Like every screen, they read through the API (the `report` query), so a
// report shows what the API answers the user: the rows they may read, refused with the API's words when it
// uses a field they may not see. Charts are drawn here as SVG (bars whose lengths are attributes, which the
// content security policy allows), so they work offline and without scripts; every bar and row of a
// groupBy report links to the list of the records it counts, filtered the same way, so drill-down goes
// through the list and its rules. The report engine caches results per user until a record it reads
// changes, so a dashboard does not run unchanged reports on every view.

// cardRows is how many rows a dashboard card shows; the report's page shows all.
const cardRows = 12

type dashboardView struct {
	Name, Label string
	Reports     []*reportView
}

type reportView struct {
	Name, Label, Kind, Chart, URL string
	Error                         string
	Columns                       []reportColumn
	Rows                          [][]reportCell
	Bars                          []reportBar
	More                          int // rows left out of a card
	Accuracy                      string
	CSV                           string // the export link, when the user may export the report's records
	Params                        []reportParam
	Slices                        []pieSlice  // chart pie
	Line                          string      // chart line: the polyline's points
	Points                        []linePoint // chart line
	Matrix                        *rfmMatrix  // kind rfm
	ChartID                       string      // the id of the chart's data island, unique in the page
	Island                        *chartIsland
}

type reportColumn struct {
	Label   string
	Numeric bool
}

type reportCell struct {
	Text, Link string
	Numeric    bool
}

type reportBar struct {
	Label, Value, Link string
	Width              int // percent of the largest
	Offset             int // a funnel's bar starts here, so the bars are centred
	Class              int // a pie slice's colour
}

type reportParam struct {
	Name, Label, Type, Value string
	Options                  []option
}

type option struct{ Value, Label string }

const reportFields = `name label kind chart columns { name label type } rowCount rfm { r f segment count } accuracy`

// dashboards runs the reports of the user's dashboards in one API operation.
func (s *server) dashboards(r *http.Request, lang string) []*dashboardView {
	eng := report.FromContext(r.Context())
	if eng == nil {
		return nil
	}
	ds := eng.Dashboards(r.Context())
	if len(ds) == 0 {
		return nil
	}
	var q strings.Builder
	vars := map[string]any{"l": lang}
	q.WriteString("query($l: String")
	n := 0
	for _, d := range ds {
		for range d.Reports {
			fmt.Fprintf(&q, ", $n%d: String!", n)
			n++
		}
	}
	q.WriteString(") {")
	n = 0
	for _, d := range ds {
		for _, name := range d.Reports {
			vars[fmt.Sprintf("n%d", n)] = name
			fmt.Fprintf(&q, " r%d: report(name: $n%d, locale: $l) { %s rows(first: %d) }", n, n, reportFields, cardRows)
			n++
		}
	}
	q.WriteString(" }")
	resp, _ := s.gql(r.Context(), q.String(), vars)
	var out []*dashboardView
	n = 0
	for _, d := range ds {
		dv := &dashboardView{Name: d.Name, Label: s.cfg.Model.Localize(d.Label, lang, d.Name)}
		for _, name := range d.Reports {
			alias := fmt.Sprintf("r%d", n)
			n++
			rv := &reportView{Name: name, URL: "/reports/" + name, ChartID: "chart-" + d.Name + "-" + name}
			if rep := s.cfg.Model.Report(name); rep != nil {
				rv.Label = s.cfg.Model.Localize(rep.Label, lang, name)
			}
			if resp == nil {
				rv.Error = errorText(lang, requestid.From(r.Context()))
			} else if data, ok := resp.Data[alias].(map[string]any); ok {
				s.fillReport(r, rv, data, lang, cardRows)
			} else {
				rv.Error = errorFor(r, resp, alias, lang)
			}
			dv.Reports = append(dv.Reports, rv)
		}
		out = append(out, dv)
	}
	return out
}

// errorFor is the API's message for the root field alias of resp: the report engine words its refusals
// in the reader's language. Without one, the reader is told of an error and the request's id.
func errorFor(r *http.Request, resp *gqlResponse, alias, lang string) string {
	for _, e := range resp.Errors {
		if len(e.Path) > 0 && e.Path[0] == alias {
			return e.Message
		}
	}
	return errorText(lang, requestid.From(r.Context()))
}

// reportPage shows one report in full, with its parameters and export.
func (s *server) reportPage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	rep := s.cfg.Model.Report(name)
	f := s.newFrame(r, "")
	if rep == nil {
		s.fail(w, r, http.StatusNotFound, nil)
		return
	}
	f.Title = s.cfg.Model.Localize(rep.Label, f.Lang, name)
	rv := &reportView{Name: name, Label: f.Title, URL: "/reports/" + name, ChartID: "chart-" + name}
	params := s.reportParams(rep, r.URL.Query(), f.Lang, rv)
	resp, _ := s.gql(r.Context(), `query($n: String!, $p: JSON, $l: String) { r: report(name: $n, params: $p, locale: $l) { `+reportFields+` rows } }`,
		map[string]any{"n": name, "p": params, "l": f.Lang})
	status := http.StatusOK
	if resp != nil {
		if data, ok := resp.Data["r"].(map[string]any); ok {
			s.fillReport(r, rv, data, f.Lang, 0)
		} else {
			rv.Error, status = errorFor(r, resp, "r", f.Lang), http.StatusForbidden
		}
	} else {
		rv.Error, status = errorText(f.Lang, requestid.From(r.Context())), http.StatusInternalServerError
	}
	if rv.Error == "" && s.mayExportReport(r, rep) {
		rv.CSV = "/reports/" + name + "/export.csv"
		if qs := r.URL.RawQuery; qs != "" {
			rv.CSV += "?" + qs
		}
	}
	f.Body = rv
	s.render(w, r, status, "report", f)
}

// reportParams reads the report's parameters from the query (p.<name>) into the API's params, and keeps
// them for the form.
func (s *server) reportParams(rep *metamodel.Report, q url.Values, lang string, rv *reportView) map[string]any {
	params := map[string]any{}
	for _, p := range rep.Params {
		v := strings.TrimSpace(q.Get("p." + p.Name))
		rp := reportParam{Name: p.Name, Label: s.cfg.Model.Localize(p.Label, lang, p.Name), Type: string(p.Type), Value: v}
		if en := s.cfg.Model.Enum(p.Enum); en != nil {
			for _, ev := range en.Values {
				rp.Options = append(rp.Options, option{Value: ev.Key, Label: s.cfg.Model.Localize(ev.Label, lang, ev.Key)})
			}
		}
		rv.Params = append(rv.Params, rp)
		if v == "" {
			continue
		}
		switch p.Type {
		case metamodel.TypeInt, metamodel.TypeFloat, metamodel.TypeDecimal:
			if n, err := strconv.ParseFloat(v, 64); err == nil {
				params[p.Name] = n
				continue
			}
		case metamodel.TypeBool:
			params[p.Name] = v == "true"
			continue
		}
		params[p.Name] = v
	}
	return params
}

// mayExportReport reports whether the user may export the records the report counts.
func (s *server) mayExportReport(r *http.Request, rep *metamodel.Report) bool {
	ctx := r.Context()
	for _, name := range []string{rep.Entity, eventsEntity(rep), txEntity(rep)} {
		if name != "" && !access(ctx, name).MayExport() {
			return false
		}
	}
	return true
}

func eventsEntity(r *metamodel.Report) string {
	if r.Events != nil {
		return r.Events.Entity
	}
	return ""
}

func txEntity(r *metamodel.Report) string {
	if r.Transactions != nil {
		return r.Transactions.Entity
	}
	return ""
}

// reportExport writes the report's rows as CSV (UTF-8 with a byte order mark, for spreadsheet programs),
// with the export right on its records.
func (s *server) reportExport(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	rep := s.cfg.Model.Report(name)
	lang := language(s.cfg.Model, r)
	if rep == nil || !s.mayExportReport(r, rep) {
		s.fail(w, r, http.StatusForbidden, nil)
		return
	}
	rv := &reportView{Name: name}
	params := s.reportParams(rep, r.URL.Query(), lang, rv)
	resp, _ := s.gql(r.Context(), `query($n: String!, $p: JSON, $l: String) { r: report(name: $n, params: $p, locale: $l) { `+reportFields+` rows } }`,
		map[string]any{"n": name, "p": params, "l": lang})
	if resp == nil {
		s.fail(w, r, http.StatusInternalServerError, nil)
		return
	}
	data, ok := resp.Data["r"].(map[string]any)
	if !ok {
		s.fail(w, r, http.StatusForbidden, nil)
		return
	}
	s.fillReport(r, rv, data, lang, 0)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.csv"`, name))
	_, _ = w.Write([]byte("\xEF\xBB\xBF"))
	cw := csv.NewWriter(w)
	head := make([]string, len(rv.Columns))
	for i, c := range rv.Columns {
		head[i] = csvSafe(c.Label)
	}
	_ = cw.Write(head)
	for _, row := range rv.Rows {
		rec := make([]string, len(row))
		for i, c := range row {
			rec[i] = csvSafe(c.Text)
		}
		_ = cw.Write(rec)
	}
	cw.Flush()
}

// fillReport turns the API's answer into the view: cells in the user's words, a chart's bars, and the
// drill-down link of each row. max > 0 keeps that many rows.
func (s *server) fillReport(r *http.Request, rv *reportView, data map[string]any, lang string, max int) {
	m := s.cfg.Model
	rep := m.Report(rv.Name)
	rv.Label, rv.Kind, rv.Chart = str(data["label"]), str(data["kind"]), str(data["chart"])
	if a, err := strconv.ParseFloat(fmt.Sprint(data["accuracy"]), 64); err == nil && rv.Kind == metamodel.ReportTree {
		rv.Accuracy = fmt.Sprintf("%.0f%%", a*100)
	}
	type col struct{ name, typ string }
	var cols []col
	for _, c := range asList(data["columns"]) {
		cm, _ := c.(map[string]any)
		cols = append(cols, col{name: str(cm["name"]), typ: str(cm["type"])})
		rv.Columns = append(rv.Columns, reportColumn{Label: str(cm["label"]), Numeric: str(cm["type"]) == "int" || str(cm["type"]) == "float"})
	}
	e := m.Entity(rep.Entity)
	groups := len(rep.GroupBy)
	measure := -1 // the column the bars draw
	switch rv.Kind {
	case metamodel.ReportAggregate:
		if len(cols) > groups {
			measure = groups
		}
	case metamodel.ReportFunnel:
		measure = 1
	}
	rows := asList(data["rows"])
	userZone := s.zones(r.Context()).user
	if rv.Kind == metamodel.ReportRFM {
		s.rfmSummary(rv, asList(data["rfm"]), lang) // of every record, whatever rows a card shows
	}
	if max > 0 && len(rows) > max {
		rows = rows[:max]
	}
	if n, err := strconv.Atoi(fmt.Sprint(data["rowCount"])); err == nil && n > len(rows) {
		rv.More = n - len(rows)
	}
	maxVal := 0.0
	var vals []float64
	for _, v := range rows {
		row := map[string]any{}
		switch x := v.(type) {
		case map[string]any:
			row = x
		case string:
			_ = json.Unmarshal([]byte(x), &row)
		}
		cells := make([]reportCell, len(cols))
		for i, c := range cols {
			cells[i] = s.reportCell(rep, e, c.name, c.typ, row, lang, userZone)
		}
		link := ""
		if rv.Kind == metamodel.ReportAggregate {
			link = s.drillDown(rep, e, row, s.zones(r.Context()))
			for i := 0; i < groups && i < len(cells); i++ {
				if cells[i].Link == "" {
					cells[i].Link = link
				}
			}
		}
		rv.Rows = append(rv.Rows, cells)
		if measure >= 0 && measure < len(cols) {
			f, _ := strconv.ParseFloat(fmt.Sprint(row[cols[measure].name]), 64)
			vals = append(vals, f)
			if f > maxVal {
				maxVal = f
			}
			var parts []string
			for i := 0; i < len(cells) && i < max1(groups); i++ {
				parts = append(parts, cells[i].Text)
			}
			rv.Bars = append(rv.Bars, reportBar{Label: strings.Join(parts, " · "), Value: cells[measure].Text, Link: link})
		}
	}
	for i := range vals {
		if maxVal > 0 {
			rv.Bars[i].Width = int(vals[i] / maxVal * 100)
		}
	}
	rv.shapeChart(vals)
	if rv.ChartID != "" {
		rv.Island = rv.island(rv.ChartID, vals)
	}
}

func max1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// reportCell is one cell in the user's words, a time in the user's zone loc. A date (and a time bucket, a
// date too) is the app zone's day, as the report computed it.
func (s *server) reportCell(rep *metamodel.Report, e *metamodel.Entity, name, typ string, row map[string]any, lang string, loc *time.Location) reportCell {
	m := s.cfg.Model
	v := row[name]
	c := reportCell{Numeric: typ == "int" || typ == "float"}
	if v == nil {
		c.Text = "—"
		return c
	}
	switch typ {
	case "record":
		ref, _ := v.(map[string]any)
		c.Text = str(ref["title"])
		target := rep.Entity
		if e != nil {
			if rel := e.Relation(name); rel != nil {
				target = rel.To
			}
		}
		if te := m.Entity(target); te != nil && str(ref["id"]) != "" {
			c.Link = entityURL(te) + "/" + url.PathEscape(str(ref["id"]))
		}
		return c
	case "list":
		var parts []string
		for _, x := range asList(v) {
			parts = append(parts, str(x))
		}
		c.Text = strings.Join(parts, "、")
		return c
	case "float":
		f, _ := strconv.ParseFloat(fmt.Sprint(v), 64)
		c.Text = strconv.FormatFloat(f, 'f', -1, 64)
		if strings.Contains(c.Text, ".") && len(c.Text)-strings.Index(c.Text, ".") > 3 {
			c.Text = strconv.FormatFloat(f, 'f', 2, 64)
		}
		return c
	case "bool":
		if v == true {
			c.Text = translate(lang, "yes")
		} else {
			c.Text = translate(lang, "no")
		}
		return c
	case "datetime":
		if t, err := time.Parse(time.RFC3339, str(v)); err == nil {
			c.Text = t.In(loc).Format("2006-01-02 15:04")
			return c
		}
	case "enum":
		c.Text = s.enumCell(rep, e, name, str(v), row, lang)
		return c
	}
	c.Text = str(v)
	return c
}

// enumCell is an enum-like cell's label: a field's enum value or workflow state, or the report's own
// words (segments, statuses, funnel states, predictions).
func (s *server) enumCell(rep *metamodel.Report, e *metamodel.Entity, name, v string, row map[string]any, lang string) string {
	m := s.cfg.Model
	switch {
	case name == "segment":
		return report.Label(lang, "segment."+v)
	case name == "status" && rep.Kind == metamodel.ReportRecency:
		return report.Label(lang, "status."+v)
	case name == "state" && rep.Kind == metamodel.ReportFunnel, name == "prediction":
		if l := str(row[name+"Label"]); l != "" {
			return l
		}
		if l := str(row["label"]); l != "" {
			return l
		}
	}
	if e == nil {
		return v
	}
	if f := e.Field(name); f != nil {
		if wf := m.WorkflowOf(e.Name, f.Name); wf != nil {
			for _, st := range wf.States {
				if st.Name == v {
					return m.Localize(st.Label, lang, v)
				}
			}
		}
		if en := m.Enum(f.Enum); en != nil {
			for _, ev := range en.Values {
				if ev.Key == v {
					return m.Localize(ev.Label, lang, v)
				}
			}
		}
	}
	return v
}

// drillDown is the list of the records a groupBy row counts: the entity's list filtered by each group's
// key, when every group is one of the list's filters (and the report has no where, which the list could
// not repeat). A time bucket is a range of the app zone's days; for a user in another zone the link says so
// (f.<field>.zone=app), since the list reads a time filter's days in the user's zone.
func (s *server) drillDown(rep *metamodel.Report, e *metamodel.Entity, row map[string]any, z zones) string {
	if e == nil || !rep.Where.IsZero() {
		return ""
	}
	filters := map[string]bool{}
	for _, m := range listFilters(e) {
		filters[m.Name] = true
	}
	q := url.Values{}
	for _, g := range rep.GroupBy {
		if !filters[g.Field] {
			return ""
		}
		v := row[g.Field]
		if v == nil {
			return ""
		}
		if ref, ok := v.(map[string]any); ok {
			v = ref["id"]
		}
		if len(g.Bands) > 0 {
			return "" // an age band moves with the clock; the list's date filter would not follow it
		}
		if g.Bucket != "" {
			start, err := time.Parse("2006-01-02", str(v))
			if err != nil {
				return ""
			}
			end := map[string]time.Time{"day": start, "week": start.AddDate(0, 0, 6), "month": start.AddDate(0, 1, -1),
				"quarter": start.AddDate(0, 3, -1), "year": start.AddDate(1, 0, -1)}[g.Bucket]
			q.Set("f."+g.Field+".from", start.Format("2006-01-02"))
			q.Set("f."+g.Field+".to", end.Format("2006-01-02"))
			if f := e.Field(g.Field); f != nil && z.of(f).String() != z.app.String() {
				q.Set("f."+g.Field+".zone", "app")
			}
			continue
		}
		q.Set("f."+g.Field, fmt.Sprint(v))
	}
	return entityURL(e) + "?" + q.Encode()
}
