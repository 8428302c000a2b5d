package admin

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/crmgen/crmgen/platform/report"
)

// The shapes of a report's chart, drawn as SVG whose geometry is all in attributes (the content security
// policy allows no inline styles, and the screens work without scripts): a pie's slices as dashes of one
// circle's stroke, a line's points, a funnel's bars centred, and an RFM report's matrix of recency against
// frequency. The bars' list stays beside every chart as its legend and its accessible form: label, value
// and the link to the records behind it.
//
// With scripts, static/charts.js redraws the chart with the vendored ECharts from the chart's data island
// (chartIsland, a <script type="application/json"> that html/template escapes as JSON, so the page still
// runs no inline script), and hides the SVG it replaces; a click on a bar, slice or point follows the same
// link as the bar's row.

// pieRadius makes the circle's circumference 100, so a slice's dash is its percentage.
const pieRadius = "15.9155"

// pieSlice is one slice of a pie: its dash and offset along the circle, and its colour class.
type pieSlice struct {
	Dash, Gap, Offset string
	Class             int
}

// linePoint is a point of a line chart in its 100×40 view box.
type linePoint struct{ X, Y string }

// rfmMatrix counts an RFM report's records by recency score (rows, 5 down to 1) and frequency score
// (columns, 1 to 5); Heat is a colour class from 0 (none) to 4 (the most).
type rfmMatrix struct {
	Rows []rfmRow
}

type rfmRow struct {
	R     int
	Cells []rfmCell
}

type rfmCell struct {
	F, Count, Heat int
	Segment        string
}

// chartIsland is the data charts.js draws a chart from: its kind (bar, line, pie, funnel, or heatmap for
// an RFM report's matrix), and per bar its label, value and drill-down link ("" where there is none), the
// same numbers as the SVG's.
type chartIsland struct {
	ID     string    `json:"-"` // the script element's id
	Kind   string    `json:"kind"`
	Label  string    `json:"label"`
	Labels []string  `json:"labels"`
	Values []float64 `json:"values"`
	Links  []string  `json:"links"`
	// A heatmap's axes and cells: [x, y, count] with x the frequency and y the recency score less one, and
	// each cell's segment (the cell's title in the table).
	X        []string `json:"x,omitempty"`
	Y        []string `json:"y,omitempty"`
	Cells    [][3]int `json:"cells,omitempty"`
	Segments []string `json:"segments,omitempty"`
}

// islandKinds are the charts ECharts redraws; a "table" chart keeps its server-drawn bars.
var islandKinds = map[string]bool{"bar": true, "line": true, "pie": true, "funnel": true}

// island builds the chart's data island from its bars and their values (vals, one per bar), when the
// server drew a chart ECharts can redraw: bars, a pie with slices, a line with points, a funnel, or an RFM
// report's matrix. id names the script element, unique in the page.
func (rv *reportView) island(id string, vals []float64) *chartIsland {
	if rv.Matrix != nil {
		return rv.Matrix.island(id, rv.Label)
	}
	switch {
	case !islandKinds[rv.Chart], len(rv.Bars) == 0, len(vals) != len(rv.Bars),
		rv.Chart == "pie" && len(rv.Slices) == 0, rv.Chart == "line" && rv.Line == "":
		return nil
	}
	is := &chartIsland{ID: id, Kind: rv.Chart, Label: rv.Label, Values: vals}
	for _, b := range rv.Bars {
		is.Labels = append(is.Labels, b.Label)
		is.Links = append(is.Links, b.Link)
	}
	return is
}

// island is the RFM matrix as a heatmap's data.
func (m *rfmMatrix) island(id, label string) *chartIsland {
	is := &chartIsland{ID: id, Kind: "heatmap", Label: label}
	for f := 1; f <= 5; f++ {
		is.X = append(is.X, "F"+strconv.Itoa(f))
	}
	for r := 1; r <= 5; r++ {
		is.Y = append(is.Y, "R"+strconv.Itoa(r))
	}
	for _, row := range m.Rows {
		for _, c := range row.Cells {
			if c.Count > 0 {
				is.Cells = append(is.Cells, [3]int{c.F - 1, row.R - 1, c.Count})
				is.Segments = append(is.Segments, c.Segment)
			}
		}
	}
	return is
}

// sliceColours is the number of colour classes of slices (slice-0 … slice-7 in admin.css).
const sliceColours = 8

// shapeChart fills the chart's shapes from its bars and values: slices for a pie, points for a line,
// offsets for a funnel's centred bars.
func (rv *reportView) shapeChart(vals []float64) {
	switch rv.Chart {
	case "pie":
		total := 0.0
		for _, v := range vals {
			total += math.Max(v, 0)
		}
		if total <= 0 {
			return
		}
		at := 25.0 // start at twelve o'clock
		for i, v := range vals {
			pct := math.Max(v, 0) / total * 100
			rv.Slices = append(rv.Slices, pieSlice{Dash: num2(pct), Gap: num2(100 - pct), Offset: num2(at), Class: i % sliceColours})
			rv.Bars[i].Class = i % sliceColours
			at = math.Mod(at-pct+100, 100)
		}
	case "line":
		if len(vals) < 2 {
			return
		}
		hi := 0.0
		for _, v := range vals {
			hi = math.Max(hi, v)
		}
		var pts []string
		for i, v := range vals {
			x := float64(i) / float64(len(vals)-1) * 100
			y := 38.0
			if hi > 0 {
				y = 38 - math.Max(v, 0)/hi*36
			}
			rv.Points = append(rv.Points, linePoint{X: num2(x), Y: num2(y)})
			pts = append(pts, num2(x)+","+num2(y))
		}
		rv.Line = strings.Join(pts, " ")
	case "funnel":
		for i := range rv.Bars {
			rv.Bars[i].Offset = (100 - rv.Bars[i].Width) / 2
		}
	}
}

// rfmSummary turns an RFM report's counts of records by recency score, frequency score and segment (the
// API's rfm field, over every record, whatever rows a card shows) into bars of records per segment, in the
// segments' order of value, and the recency × frequency matrix.
func (s *server) rfmSummary(rv *reportView, rfm []any, lang string) {
	counts := map[string]int{}
	var grid [6][6]int
	segOf := map[[2]int]map[string]int{}
	for _, v := range rfm {
		c, _ := v.(map[string]any)
		r, _ := strconv.Atoi(fmt.Sprint(c["r"]))
		f, _ := strconv.Atoi(fmt.Sprint(c["f"]))
		n, _ := strconv.Atoi(fmt.Sprint(c["count"]))
		seg := str(c["segment"])
		counts[seg] += n
		if r >= 1 && r <= 5 && f >= 1 && f <= 5 {
			grid[r][f] += n
			k := [2]int{r, f}
			if segOf[k] == nil {
				segOf[k] = map[string]int{}
			}
			segOf[k][seg] += n
		}
	}
	hi := 0
	for _, seg := range report.Segments {
		if n := counts[seg]; n > 0 {
			hi = max(hi, n)
		}
	}
	for _, seg := range report.Segments {
		n := counts[seg]
		if n == 0 {
			continue
		}
		rv.Bars = append(rv.Bars, reportBar{Label: report.Label(lang, "segment."+seg), Value: strconv.Itoa(n), Width: n * 100 / hi})
	}
	most := 0
	for r := 1; r <= 5; r++ {
		for f := 1; f <= 5; f++ {
			most = max(most, grid[r][f])
		}
	}
	m := &rfmMatrix{}
	for r := 5; r >= 1; r-- {
		row := rfmRow{R: r}
		for f := 1; f <= 5; f++ {
			c := rfmCell{F: f, Count: grid[r][f]}
			if most > 0 && c.Count > 0 {
				c.Heat = 1 + (c.Count*3)/most
				if c.Heat > 4 {
					c.Heat = 4
				}
			}
			// The cell's segment is the one most of its records have (ties: the more valuable one).
			segs := segOf[[2]int{r, f}]
			names := make([]string, 0, len(segs))
			for n := range segs {
				names = append(names, n)
			}
			sort.SliceStable(names, func(a, b int) bool {
				if segs[names[a]] != segs[names[b]] {
					return segs[names[a]] > segs[names[b]]
				}
				return segmentRank(names[a]) < segmentRank(names[b])
			})
			if len(names) > 0 {
				c.Segment = report.Label(lang, "segment."+names[0])
			}
			row.Cells = append(row.Cells, c)
		}
		m.Rows = append(m.Rows, row)
	}
	rv.Matrix = m
}

// segmentRank is a segment's place in report.Segments (most valuable first).
func segmentRank(seg string) int {
	for i, s := range report.Segments {
		if s == seg {
			return i
		}
	}
	return len(report.Segments)
}

// num2 formats a coordinate with at most two decimals.
func num2(f float64) string { return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64) }
