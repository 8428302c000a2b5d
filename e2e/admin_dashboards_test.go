package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/metamodel"
)

// Dashboards on the home screen of the hospital example, in headless Chromium, for a user of each role
// that has one: every report of their dashboards shows what the API's report query answers that user
// (the same rows, the same numbers), a bar drills down to a list whose total is the bar's count, the report
// page takes its parameters and offers CSV only with the export right, and the page fits a phone.

type apiReport struct {
	Columns  []struct{ Name, Label, Type string }
	Rows     []map[string]any
	Head     []map[string]any
	RowCount int
	RFM      []struct {
		R, F, Count int
		Segment     string
	}
}

// reportAs runs a report through the API as the user of api. It checks what a dashboard's card reads
// instead of the rows (a report of a million records has a million): the first rows (rows(first: 2)) are
// the rows' first, rowCount counts them, and an rfm report's counts by scores and segment count its rows.
func reportAs(t *testing.T, api *apptest.Server, name string, params map[string]any) (*apiReport, string) {
	t.Helper()
	resp := api.GraphQL(t, `query($n: String!, $p: JSON) { report(name: $n, params: $p, locale: "zh") { columns { name label type } rows
		head: rows(first: 2) rowCount rfm { r f segment count } } }`,
		map[string]any{"n": name, "p": params})
	if len(resp.Errors) > 0 {
		return nil, resp.Errors[0].Message
	}
	var out struct{ Report apiReport }
	if err := json.Unmarshal(resp.Data, &out); err != nil {
		t.Fatal(err)
	}
	r := &out.Report
	if r.RowCount != len(r.Rows) || len(r.Head) != min(2, len(r.Rows)) || fmt.Sprint(r.Head) != fmt.Sprint(r.Rows[:len(r.Head)]) {
		t.Errorf("report %s: rowCount %d, rows(first: 2) %v; want %d and the first two of its rows", name, r.RowCount, r.Head, len(r.Rows))
	}
	if len(r.RFM) > 0 {
		want := map[string]int{}
		for _, row := range r.Rows {
			want[fmt.Sprint(row["r"], "/", row["f"], "/", row["segment"])]++
		}
		got := map[string]int{}
		for _, c := range r.RFM {
			got[fmt.Sprint(c.R, "/", c.F, "/", c.Segment)] += c.Count
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("report %s: rfm counts %v, its rows count %v", name, got, want)
		}
	}
	return r, ""
}

// measureSum adds up a report's first measure over its first n rows (the card's bars).
func measureSum(r *apiReport, groups, n int) float64 {
	sum := 0.0
	for i, row := range r.Rows {
		if i >= n {
			break
		}
		f, _ := strconv.ParseFloat(fmt.Sprint(row[r.Columns[groups].Name]), 64)
		sum += f
	}
	return sum
}

func TestAdminDashboards(t *testing.T) {
	a := adminApp(t, "hospital")
	s := a.Start(t, apptest.SQLitePath(t))

	for _, u := range []dashboardUser{
		{"heping", "service123", "service"},         // service center
		{"zhangjianguo", "doctor123", "department"}, // head of cardiology
	} {
		t.Run(u.name, func(t *testing.T) { checkDashboard(t, a, s, "hospital", u) })
	}

	t.Run("DrillDown", func(t *testing.T) {
		p := openBrowser(t, s)
		p.signIn("zhangjianguo", "doctor123")
		p.open("/")
		bar := `article.report-card[data-report="visitsByDepartment"] .report-legend li a`
		if p.count(bar) == 0 {
			t.Fatal("visitsByDepartment has no bar to drill into")
		}
		count := p.texts(`article.report-card[data-report="visitsByDepartment"] .report-legend li strong`)[0]
		p.do(chromedp.Click(chromedp.CSS(bar)))
		p.waitFor(`location.pathname === '/e/Visit' && document.querySelector('#total')`)
		if got := p.text("#total"); got != count {
			t.Errorf("the bar counts %s visits, its list holds %s (%s)", count, got, p.location())
		}

		// The same bar drawn by ECharts, clicked with the mouse, opens the same list. The last bar, so
		// that it is another department's list than the one above.
		p.watchCSP()
		p.open("/")
		card := `article.report-card[data-report="visitsByDepartment"]`
		links := eval[[]string](p, `[...document.querySelectorAll('article.report-card[data-report="visitsByDepartment"] .report-legend li a')].map(a => a.getAttribute('href'))`)
		counts := p.texts(card + " .report-legend li strong")
		last := len(links) - 1
		// ECharts shows the bar's tooltip, drawn as SVG text (its label once more beside the axis's):
		// nothing the content security policy refuses.
		label := p.texts(card + " .report-legend li .bar-label")[last]
		texts := fmt.Sprintf(`[...document.querySelectorAll(%s)].filter(t => t.textContent.includes(%s)).length`,
			jsString(card+" div.echart svg text"), jsString(label))
		before := eval[int](p, texts)
		x, y := p.pointEChartBar(card, last)
		p.waitFor(fmt.Sprintf(`%s > %d`, texts, before))
		if v := p.cspViolations(); len(v) > 0 {
			t.Errorf("pointing at an ECharts bar breaks the content security policy:\n\t%s", strings.Join(v, "\n\t"))
		}
		p.do(chromedp.MouseClickXY(x, y))
		p.waitFor(`location.pathname === '/e/Visit' && document.querySelector('#total')`)
		if got := eval[string](p, `location.pathname + location.search`); got != links[last] {
			t.Errorf("the ECharts bar opens %s, its row links to %s", got, links[last])
		}
		if got := p.text("#total"); got != counts[last] {
			t.Errorf("the ECharts bar counts %s visits, its list holds %s (%s)", counts[last], got, p.location())
		}
		p.noErrors()
	})

	t.Run("ReportPageParamsAndExport", func(t *testing.T) {
		p := openBrowser(t, s)
		p.signIn("heping", "service123")
		api := s.As(t, "heping", "service123")
		from := "2025-01-01"
		want, refusal := reportAs(t, api, "complaintsByMonth", map[string]any{"from": from})
		if refusal != "" {
			t.Fatal(refusal)
		}
		p.watchCSP()
		p.open("/reports/complaintsByMonth?p.from=" + url.QueryEscape(from))
		if got := p.count("table.report-table tbody tr"); got != len(want.Rows) {
			t.Errorf("report page shows %d rows, the API %d", got, len(want.Rows))
		}
		checkEChart(t, p, "main", "complaintsByMonth", a.Model.Report("complaintsByMonth"), want, len(want.Rows))
		if v := p.cspViolations(); len(v) > 0 {
			t.Errorf("the report page breaks the content security policy:\n\t%s", strings.Join(v, "\n\t"))
		}
		if p.count("#report-csv") != 1 {
			t.Errorf("the service center may export complaints but gets no CSV link")
		}
		status, body := p.fetchText("/reports/complaintsByMonth/export.csv?p.from=" + from)
		if status != 200 || strings.Count(strings.TrimSpace(body), "\n") != len(want.Rows) {
			t.Errorf("CSV export: status %d, %d lines for %d rows:\n%s", status, strings.Count(body, "\n"), len(want.Rows), body)
		}
		p.screenshots("hospital-report-complaints-by-month")

		// A head of department may not export complaints: no link, and the export is refused.
		p = openBrowser(t, s)
		p.signIn("zhangjianguo", "doctor123")
		p.open("/reports/complaintFlow")
		if p.count("#report-csv") != 0 {
			t.Errorf("a head of department is offered a CSV export of complaints")
		}
		if status, _ := p.fetchText("/reports/complaintFlow/export.csv"); status != 403 {
			t.Errorf("export without the right: status %d, want 403", status)
		}
	})
}

// dashboardUser is a demo user and the dashboard their home page shows.
type dashboardUser struct{ name, password, dashboard string }

// checkDashboard signs in as u and checks the dashboard on their home page against the API: one card per
// report, as many bars or table rows as the report has rows (at most 12), bars adding up to the report's
// first measure, a refusal said as the API says it, no engine words; then screenshots at desktop and phone
// width, and no sideways scrolling on the phone.
func checkDashboard(t *testing.T, a *apptest.App, s *apptest.Server, example string, u dashboardUser) {
	p := openBrowser(t, s)
	p.watchCSP()
	api := s.As(t, u.name, u.password)
	p.signIn(u.name, u.password)
	p.open("/lang?l=zh&next=/")
	sel := fmt.Sprintf(`section.dashboard[data-dashboard=%q]`, u.dashboard)
	if p.count(sel) != 1 {
		t.Fatalf("%s's home shows no dashboard %s", u.name, u.dashboard)
	}
	d := a.Model.Dashboards[0]
	for _, x := range a.Model.Dashboards {
		if x.Name == u.dashboard {
			d = x
		}
	}
	for _, name := range d.Reports {
		rep := a.Model.Report(name)
		card := fmt.Sprintf(`%s article.report-card[data-report=%q]`, sel, name)
		want, refusal := reportAs(t, api, name, nil)
		if refusal != "" {
			if got := p.text(card + " .error"); got != refusal {
				t.Errorf("%s: card says %q, the API %q", name, got, refusal)
			}
			continue
		}
		shown := min(len(want.Rows), 12)
		checkEChart(t, p, card, name, rep, want, shown)
		if rep.Kind == metamodel.ReportRFM {
			checkRFMCard(t, p, card, name, want)
			continue
		}
		legend := p.count(card + " .report-legend li")
		switch {
		case rep.Chart == "pie" && legend > 0 && p.count(card+" svg.pie circle.slice") != legend:
			t.Errorf("%s: %d pie slices for %d legend rows", name, p.count(card+" svg.pie circle.slice"), legend)
		case rep.Chart == "line" && legend > 1 && p.count(card+" svg.line-chart circle") != legend:
			t.Errorf("%s: %d points on the line for %d legend rows", name, p.count(card+" svg.line-chart circle"), legend)
		}
		if got := legend; got > 0 {
			if got != shown {
				t.Errorf("%s: %d bars, the API has %d rows (card shows at most 12)", name, got, len(want.Rows))
			}
			sum := 0.0
			for _, v := range p.texts(card + " .report-legend li strong") {
				f, _ := strconv.ParseFloat(v, 64)
				sum += f
			}
			groups := len(rep.GroupBy)
			if rep.Kind == "funnel" {
				groups = 1
			}
			if wantSum := measureSum(want, groups, shown); sum != wantSum {
				t.Errorf("%s: bars add up to %v, the API's rows to %v", name, sum, wantSum)
			}
		} else if got := p.count(card + " table.report-table tbody tr"); got != shown {
			t.Errorf("%s: %d table rows, the API has %d", name, got, len(want.Rows))
		}
	}
	if strings.Contains(p.text(sel), "record.") || strings.Contains(p.text(sel), "segment.") {
		t.Errorf("the dashboard shows engine words: %s", p.text(sel))
	}
	if v := p.cspViolations(); len(v) > 0 {
		t.Errorf("%s's dashboard breaks the content security policy:\n\t%s", u.name, strings.Join(v, "\n\t"))
	}
	p.screenshots(example + "-dashboard-" + u.dashboard)
	p.phone()
	p.open("/")
	if over := eval[bool](p, `document.documentElement.scrollWidth > window.innerWidth + 1`); over {
		t.Errorf("%s's dashboard scrolls sideways on a phone", u.name)
	}
	// On a phone, ECharts draws each chart again within the card's width.
	for _, name := range d.Reports {
		card := fmt.Sprintf(`%s article.report-card[data-report=%q]`, sel, name)
		if p.count(card+" script.chart-data") == 0 {
			continue
		}
		if got := p.echart(card); !got.OK || got.Width < 100 || got.Width > 390 {
			t.Errorf("%s on a phone: ECharts chart %+v, want one within the 390px screen", name, got)
		}
	}
	if v := p.cspViolations(); len(v) > 0 {
		t.Errorf("%s's dashboard on a phone breaks the content security policy:\n\t%s", u.name, strings.Join(v, "\n\t"))
	}
	p.desktop()
	p.noErrors()
}

// TestDashboardsExamples checks the dashboards of the other examples the same way, with screenshots
// of each at desktop and phone width: tobacco's analysis (value matrix, basket rules, decision tree, price
// types), b2b-sales' pipeline and bank's managers', branch heads' and risk officer's. (Its name does not
// start with TestAdmin so that CI runs it in the second end-to-end process, which balances the two: see
// E2E_SCREENS in .ci/run.)
func TestDashboardsExamples(t *testing.T) {
	for _, ex := range []struct {
		name  string
		users []dashboardUser
	}{
		{"tobacco", []dashboardUser{{"zhouyan", "analyst123", "marketing"}, {"wangfang", "cm123", "mine"}, {"liuxin", "service123", "service"}}},
		{"b2b-sales", []dashboardUser{{"sunjianhua", "manager123", "sales"}, {"lina", "sales123", "mine"}}},
		{"bank", []dashboardUser{{"liming", "cm123", "myCustomers"}, {"zhanghua", "head123", "branch"}, {"hanmei", "risk123", "risk"}}},
	} {
		t.Run(ex.name, func(t *testing.T) {
			a := adminApp(t, ex.name)
			s := a.Start(t, apptest.SQLitePath(t), noTimers)
			for _, u := range ex.users {
				t.Run(u.name, func(t *testing.T) { checkDashboard(t, a, s, ex.name, u) })
			}
			if ex.name == "tobacco" {
				t.Run("SortableTable", func(t *testing.T) { checkSortableReport(t, s) })
			}
		})
	}
}

// checkRFMCard checks an RFM card: its bars count the records of each segment and its recency × frequency
// matrix counts each record once, both adding up to the API's rows (every scored record, not only the
// rows the card lists).
func checkRFMCard(t *testing.T, p *page, card, name string, want *apiReport) {
	t.Helper()
	sum := func(sel string) int {
		n := 0
		for _, v := range p.texts(sel) {
			k, _ := strconv.Atoi(strings.TrimSpace(v))
			n += k
		}
		return n
	}
	segments := map[string]bool{}
	for _, row := range want.Rows {
		segments[fmt.Sprint(row["segment"])] = true
	}
	if got := p.count(card + " .report-legend li"); got != len(segments) {
		t.Errorf("%s: %d segment bars, the API's rows are in %d segments", name, got, len(segments))
	}
	if got := sum(card + " .report-legend li strong"); got != len(want.Rows) {
		t.Errorf("%s: the segment bars count %d records, the API scores %d", name, got, len(want.Rows))
	}
	if got := sum(card + " table.rfm-matrix td"); got != len(want.Rows) {
		t.Errorf("%s: the matrix counts %d records, the API scores %d", name, got, len(want.Rows))
	}
}

// checkSortableReport sorts the tobacco analyst's problem-retailer report by its amount column, up and
// down, and by a text column, through the headers' buttons.
func checkSortableReport(t *testing.T, s *apptest.Server) {
	p := openBrowser(t, s)
	p.signIn("zhouyan", "analyst123")
	p.open("/lang?l=zh&next=/reports/problemRetailers")
	heads := p.texts("table.report-table thead th")
	col := -1
	for i, h := range heads {
		if strings.HasPrefix(h, "退货金额") {
			col = i
		}
	}
	if col < 0 {
		t.Fatalf("no amount column among %q", heads)
	}
	values := func() []float64 {
		var out []float64
		for _, v := range p.texts(fmt.Sprintf("table.report-table tbody tr td:nth-child(%d)", col+1)) {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("amount cell %q", v)
			}
			out = append(out, f)
		}
		return out
	}
	button := fmt.Sprintf("table.report-table thead th:nth-child(%d) button.sort", col+1)
	for _, dir := range []string{"ascending", "descending"} {
		p.do(chromedp.Click(chromedp.CSS(button)))
		vs := values()
		if len(vs) < 5 {
			t.Fatalf("problemRetailers shows %d rows", len(vs))
		}
		for i := 1; i < len(vs); i++ {
			if dir == "ascending" && vs[i] < vs[i-1] || dir == "descending" && vs[i] > vs[i-1] {
				t.Fatalf("sorted %s, yet %v", dir, vs)
			}
		}
		if got := eval[string](p, fmt.Sprintf(`document.querySelector("table.report-table thead th:nth-child(%d)").getAttribute("aria-sort")`, col+1)); got != dir {
			t.Errorf("the sorted header says aria-sort=%q, want %q", got, dir)
		}
	}
	p.screenshots("tobacco-report-problem-retailers-sorted")
}

// watchCSP makes every document the tab opens from now on keep the content security policy's violations
// in window.__csp (read by cspViolations), whatever the console shows of them.
func (p *page) watchCSP() {
	p.t.Helper()
	p.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{
			Source: `window.__csp = []; document.addEventListener('securitypolicyviolation', e =>
				window.__csp.push(e.effectiveDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber));`,
		})
		return err
	}))
}

// cspViolations returns the violations the current document reported (see watchCSP).
func (p *page) cspViolations() []string {
	p.t.Helper()
	return eval[[]string](p, `window.__csp || ['watchCSP was not called before this page opened']`)
}

// echartOf reads the ECharts chart charts.js drew in a report's chart box (sel, the card or page around
// it): the series' type and the numbers it draws (a heatmap's cell counts). ok is false when no chart
// was drawn there.
type echartOf struct {
	OK     bool      `json:"ok"`
	Type   string    `json:"type"`
	Values []float64 `json:"values"`
	SVGs   int       `json:"svgs"`  // svg elements ECharts drew (the SVG renderer)
	Width  float64   `json:"width"` // of the chart's box, in CSS pixels
}

func (p *page) echart(sel string) echartOf {
	p.t.Helper()
	box := sel + " div.chart[data-chart]"
	p.waitFor(fmt.Sprintf(`document.querySelector(%s)?.dataset.echarts === 'drawn'`, jsString(box)))
	return eval[echartOf](p, fmt.Sprintf(`(() => {
		const el = document.querySelector(%s + ' div.echart');
		const c = el && window.echarts && echarts.getInstanceByDom(el);
		if (!c) return {ok: false};
		const s = c.getOption().series[0];
		return {ok: true, type: s.type, svgs: el.querySelectorAll('svg').length, width: el.getBoundingClientRect().width,
			values: s.data.map(d => Array.isArray(d) ? d[2] : (d !== null && typeof d === 'object' ? d.value : d))};
	})()`, jsString(box)))
}

// checkEChart checks that ECharts redrew a card's chart from the same numbers as the API's report (the
// first measure of the rows the card shows; an RFM matrix's cells count every scored record), as SVG,
// with the server's drawing hidden and the list kept.
func checkEChart(t *testing.T, p *page, card, name string, rep *metamodel.Report, want *apiReport, shown int) {
	t.Helper()
	if rep.Kind != metamodel.ReportRFM && (p.count(card+" .report-legend li") == 0 || !slices.Contains([]string{"bar", "line", "pie", "funnel"}, rep.Chart)) ||
		len(want.Rows) == 0 {
		if n := p.count(card + " script.chart-data"); n != 0 {
			t.Errorf("%s (chart %s, %d rows) has a data island", name, rep.Chart, len(want.Rows))
		}
		return
	}
	wantValues := func() []float64 {
		groups := len(rep.GroupBy)
		if rep.Kind == metamodel.ReportFunnel {
			groups = 1
		}
		var vs []float64
		for _, row := range want.Rows[:shown] {
			f, _ := strconv.ParseFloat(fmt.Sprint(row[want.Columns[groups].Name]), 64)
			vs = append(vs, f)
		}
		return vs
	}
	wantType := rep.Chart
	if rep.Kind == metamodel.ReportRFM {
		wantType = "heatmap"
	}
	if wantType == "pie" && measureSum(want, len(rep.GroupBy), shown) == 0 || wantType == "line" && shown < 2 {
		return // the server drew no pie or line, so there is nothing to redraw
	}
	got := p.echart(card)
	switch {
	case !got.OK:
		t.Errorf("%s: ECharts drew no chart (echarts.getInstanceByDom is null)", name)
		return
	case got.Type != wantType:
		t.Errorf("%s: ECharts drew a %s chart, want %s", name, got.Type, wantType)
	case got.SVGs == 0:
		t.Errorf("%s: ECharts drew no SVG", name)
	}
	if wantType == "heatmap" {
		sum := 0.0
		for _, v := range got.Values {
			sum += v
		}
		if int(sum) != len(want.Rows) {
			t.Errorf("%s: the heatmap counts %v records, the API scores %d", name, sum, len(want.Rows))
		}
	} else if w := wantValues(); fmt.Sprint(got.Values) != fmt.Sprint(w) {
		t.Errorf("%s: ECharts draws %v, the API's rows are %v", name, got.Values, w)
	}
	if hidden := eval[bool](p, fmt.Sprintf(`[...document.querySelectorAll(%s)].every(e => getComputedStyle(e).display === 'none')`,
		jsString(card+" svg.pie, "+card+" svg.line-chart, "+card+" .report-bars svg.bar"))); !hidden && wantType != "heatmap" {
		t.Errorf("%s: the server's SVG still shows beside the ECharts chart", name)
	}
}

// pointEChartBar moves the mouse over the middle of bar i of the ECharts bar chart in the card sel, which
// shows the bar's tooltip, and returns where it is in the viewport.
func (p *page) pointEChartBar(sel string, i int) (x, y float64) {
	p.t.Helper()
	box := sel + " div.chart[data-chart]"
	p.waitFor(fmt.Sprintf(`document.querySelector(%s)?.dataset.echarts === 'drawn'`, jsString(box)))
	xy := eval[[]float64](p, fmt.Sprintf(`(() => {
		const el = document.querySelector(%s + ' div.echart');
		el.scrollIntoView({block: 'center'});
		const c = echarts.getInstanceByDom(el);
		const v = c.getOption().series[0].data[%d];
		const [x, y] = c.convertToPixel({seriesIndex: 0}, [v / 2, %d]);
		const r = el.getBoundingClientRect();
		return [r.left + x, r.top + y];
	})()`, jsString(box), i, i))
	p.do(chromedp.MouseEvent(chromedp.MouseMoved, xy[0], xy[1]))
	return xy[0], xy[1]
}
