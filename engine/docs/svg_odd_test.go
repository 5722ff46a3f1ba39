package docs

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// nullable builds a chart whose cells are text, or NULL where "<null>" is written.
func nullable(typ string, cols []string, rows [][]string) *Chart {
	c := chartOf(typ, cols, rows)
	for _, row := range c.Data.Rows {
		for i, v := range row {
			if *v == "<null>" {
				row[i] = nil
			}
		}
	}
	return c
}

// Charts of the values PostgreSQL may return besides plain numbers: NaN and
// ±Infinity (float8 and numeric have them), NULL, a value just above a round
// tick, numbers near the ends of float8. The page of such a chart failed
// (index out of range in the y ticks: the site's links to it led nowhere);
// a bar of 10.5 rose above an axis that ended at 10; a kpi of Infinity
// read In,fin,ity; a line with a NULL x drew that point past the end of its
// axis. Now every mark lies inside the plot, the axis covers the values,
// what cannot be drawn (NaN, ±Infinity, a NULL) is left out of the plot and
// shows as the database printed it, and a NULL category of a bar chart is
// labelled (null).
func TestChartsOfOddValues(t *testing.T) {
	for _, c := range []struct {
		name   string
		chart  *Chart
		marks  int     // bars or points drawn
		top    float64 // the highest tick is at least this
		labels string  // the x labels, when checked
	}{
		{"a bar just above a tick", nullable("bar", []string{"k", "v"}, [][]string{{"a", "10.5"}, {"b", "7"}}), 2, 10.5, "a b"},
		{"a line just above a tick", nullable("line", []string{"k", "v"}, [][]string{{"1", "10.5"}, {"2", "7"}}), 2, 10.5, ""},
		{"NaN and Infinity bars", nullable("bar", []string{"k", "v"}, [][]string{{"a", "NaN"}, {"b", "Infinity"}, {"c", "-Infinity"}, {"d", "2"}}), 1, 2, "a b c d"},
		{"NaN and Infinity on a line", nullable("line", []string{"k", "v"}, [][]string{{"1", "NaN"}, {"2", "Infinity"}, {"3", "2"}, {"4", "3"}}), 2, 3, ""},
		{"only NaN", nullable("bar", []string{"k", "v"}, [][]string{{"a", "NaN"}}), 0, 0, ""},
		{"no rows", nullable("line", []string{"k", "v"}, nil), 0, 0, ""},
		{"Infinity along x", nullable("line", []string{"k", "v"}, [][]string{{"Infinity", "1"}, {"1", "2"}, {"2", "3"}}), 3, 3, ""},
		{"near the ends of float8", nullable("bar", []string{"k", "v"}, [][]string{{"a", "1e308"}, {"b", "-1e308"}}), 2, 1e308, ""},
		{"the ends of float8", nullable("line", []string{"k", "v"}, [][]string{{"1", "1.7976931348623157e308"}, {"2", "-1.7976931348623157e308"}}), 2, 1.79769e308, ""},
		{"a flat line of large values", nullable("line", []string{"k", "v"}, [][]string{{"1", "1e300"}, {"2", "1e300"}}), 2, 1e300, ""},
		{"a flat line past 2^53", nullable("line", []string{"k", "v"}, [][]string{{"1", "123456789012345678"}, {"2", "123456789012345679"}}), 2, 123456789012345678, ""},
		{"a flat line at the top of float8", nullable("line", []string{"k", "v"}, [][]string{{"1", "1.7976931348623157e308"}}), 1, 1.79769e308, ""},
		{"a NULL category", nullable("bar", []string{"k", "v"}, [][]string{{"a", "1"}, {"<null>", "2"}, {"b", "<null>"}}), 2, 2, "a (null) b"},
		{"a NULL x on a line", nullable("line", []string{"k", "v"}, [][]string{{"1", "1"}, {"2", "<null>"}, {"3", "3"}, {"<null>", "4"}}), 2, 3, "1 2 3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			els := parseSVG(t, string(renderChart(c.chart)))
			// No place or size is NaN or infinite (data-x and data-y
			// hold the values as the database printed them).
			for _, e := range els {
				for k, v := range e.attr {
					if k != "data-x" && k != "data-y" && (strings.Contains(v, "NaN") || strings.Contains(v, "Inf")) {
						t.Errorf("<%s %s=%q>", e.name, k, v)
					}
				}
			}
			for _, a := range with(els, "rect", "plot-area") {
				if x, w := a.num(t, "x"), a.num(t, "width"); x < 0 || w <= 0 || x+w > xyWidth {
					t.Errorf("the plot is at x=%g, %g wide, in a chart %g wide", x, w, xyWidth)
				}
			}
			var base float64
			for _, l := range with(els, "line", "axis") {
				if l.attr["y1"] == l.attr["y2"] {
					base = l.num(t, "y1")
				}
			}
			plotTop, hi := math.Inf(1), math.Inf(-1)
			for _, g := range with(els, "line", "grid") {
				plotTop = math.Min(plotTop, g.num(t, "y1"))
			}
			for _, tk := range with(els, "text", "tick", "y") {
				hi = math.Max(hi, tickValue(t, tk.text))
			}
			if hi < c.top {
				t.Errorf("the y-axis ends at %g, below %g", hi, c.top)
			}
			marks := 0
			for _, m := range append(with(els, "rect", "bar"), with(els, "circle")...) {
				marks++
				for _, a := range []string{"x", "y", "height", "cx", "cy"} {
					if v, ok := m.attr[a]; ok {
						if f, err := strconv.ParseFloat(v, 64); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
							t.Errorf("<%s %s=%q>", m.name, a, v)
						}
					}
				}
				y := m.attr["cy"]
				if m.name == "rect" {
					y = m.attr["y"]
				}
				if f, _ := strconv.ParseFloat(y, 64); f < plotTop-0.5 || f > base+0.5 {
					t.Errorf("<%s> at y=%s, outside the plot (%g to %g)", m.name, y, plotTop, base)
				}
			}
			if marks != c.marks {
				t.Errorf("%d marks drawn, want %d", marks, c.marks)
			}
			// A plot with nothing to draw says so.
			if notes := with(els, "text", "plot-empty"); (marks == 0) != (len(notes) == 1) {
				t.Errorf("%d marks and %d notes that the plot is empty", marks, len(notes))
			}
			for _, p := range with(els, "polyline") {
				if strings.Contains(p.attr["points"], "NaN") || strings.Contains(p.attr["points"], "Inf") {
					t.Errorf("polyline points %q", p.attr["points"])
				}
			}
			if c.labels != "" {
				var got []string
				for _, l := range with(els, "text", "tick", "x") {
					got = append(got, l.text)
				}
				if g := strings.Join(got, " "); g != c.labels {
					t.Errorf("x labels %q, want %q", g, c.labels)
				}
			}
			if strings.Contains(c.labels, nullLabel) {
				var titles []string
				for _, e := range with(els, "title") {
					titles = append(titles, e.text)
				}
				if g := strings.Join(titles, "; "); !strings.Contains(g, "(null): v = 2") {
					t.Errorf("bar titles %q: want the NULL category's as (null): v = 2", g)
				}
			}
		})
	}
}

// tickValue reads an axis label written by compact (35k, 1.2M, 1.79769e+308).
func tickValue(t *testing.T, s string) float64 {
	t.Helper()
	mult := 1.0
	for suffix, m := range map[string]float64{"k": 1e3, "M": 1e6, "B": 1e9} {
		if strings.HasSuffix(s, suffix) {
			s, mult = strings.TrimSuffix(s, suffix), m
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("y tick %q", s)
	}
	return f * mult
}

// A kpi or a table cell of NaN or Infinity shows as the database printed it.
func TestFormatNumberLeavesWordsAlone(t *testing.T) {
	for in, want := range map[string]string{
		"Infinity": "Infinity", "-Infinity": "-Infinity", "NaN": "NaN", "inf": "inf",
		"1234567.5": "1,234,567.5", "-1234": "-1,234", "1e+308": "1e+308", "0x1F": "0x1F", "1_000": "1_000",
	} {
		if got := FormatNumber(in); got != want {
			t.Errorf("FormatNumber(%q) = %q, want %q", in, got, want)
		}
	}
}
