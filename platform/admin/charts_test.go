package admin

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// islandOf renders a report's chart as the pages do and returns the JSON of its data island ("" if it has
// none), failing if the island is not where charts.js looks for it.
func islandOf(t *testing.T, rv *reportView) string {
	t.Helper()
	var b bytes.Buffer
	if err := loadPages().byName["report"].ExecuteTemplate(&b, "reportchart", rv); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	if rv.Island == nil {
		if strings.Contains(html, "chart-data") || strings.Contains(html, "data-chart=") {
			t.Errorf("a chart without an island renders one:\n%s", html)
		}
		return ""
	}
	open := `<div class="chart" data-chart="` + rv.Island.ID + `"><script type="application/json" id="` + rv.Island.ID + `" class="chart-data">`
	i := strings.Index(html, open)
	if i < 0 {
		t.Fatalf("no data island %q in\n%s", rv.Island.ID, html)
	}
	rest := html[i+len(open):]
	end := strings.Index(rest, "</script>")
	if end < 0 {
		t.Fatalf("the island does not end:\n%s", html)
	}
	return rest[:end]
}

// TestChartIsland: a bar chart's island carries the bars' labels, values and links as JSON that the
// browser parses as it is (html/template escapes it for the script element, so a label cannot end the
// element); a table chart, a pie without slices and a line without points have none; an RFM matrix is a
// heatmap's cells.
func TestChartIsland(t *testing.T) {
	hostile := `</script><script>alert(1)</script> & "quoted"`
	rv := &reportView{Name: "visits", Label: "Visits", Chart: "bar", ChartID: "chart-dept-visits", Bars: []reportBar{
		{Label: hostile, Value: "3", Link: "/e/Visit?f.department=1&f.x=%3C"},
		{Label: "心内科", Value: "1.5"},
	}}
	vals := []float64{3, 1.5}
	rv.shapeChart(vals)
	rv.Island = rv.island(rv.ChartID, vals)
	raw := islandOf(t, rv)
	if strings.Contains(raw, "</script") || strings.Contains(raw, "<script") {
		t.Errorf("the island's text can end its element: %s", raw)
	}
	var got chartIsland
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatalf("the island is not JSON: %v\n%s", err, raw)
	}
	want := chartIsland{Kind: "bar", Label: "Visits", Labels: []string{hostile, "心内科"}, Values: vals,
		Links: []string{"/e/Visit?f.department=1&f.x=%3C", ""}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("island = %+v, want %+v", got, want)
	}

	for _, c := range []struct {
		chart string
		vals  []float64
	}{{"table", []float64{1, 2}}, {"pie", []float64{0, 0}}, {"line", []float64{4}}} {
		rv := &reportView{Name: "r", Chart: c.chart, ChartID: "chart-r"}
		for range c.vals {
			rv.Bars = append(rv.Bars, reportBar{Label: "x", Value: "0"})
		}
		rv.shapeChart(c.vals)
		if rv.Island = rv.island(rv.ChartID, c.vals); rv.Island != nil {
			t.Errorf("chart %s of %v has an island: %+v", c.chart, c.vals, rv.Island)
		}
		islandOf(t, rv)
	}

	m := &rfmMatrix{Rows: []rfmRow{{R: 5, Cells: []rfmCell{{F: 1, Count: 2, Segment: "champions"}, {F: 2}}}, {R: 1, Cells: []rfmCell{{F: 5, Count: 7, Segment: "lost"}}}}}
	rv = &reportView{Name: "value", Label: "Value", Kind: "rfm", ChartID: "chart-value", Matrix: m, Bars: []reportBar{{Label: "champions", Value: "2"}}}
	rv.Island = rv.island(rv.ChartID, nil)
	var hm chartIsland
	if err := json.Unmarshal([]byte(islandOf(t, rv)), &hm); err != nil {
		t.Fatal(err)
	}
	if hm.Kind != "heatmap" || !reflect.DeepEqual(hm.Cells, [][3]int{{0, 4, 2}, {4, 0, 7}}) || !reflect.DeepEqual(hm.Segments, []string{"champions", "lost"}) ||
		len(hm.X) != 5 || len(hm.Y) != 5 {
		t.Errorf("RFM island = %+v", hm)
	}
}
