package docs

import (
	"encoding/xml"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

// These tests read the SVG that renderChart draws and check its geometry with
// a plain estimate of text width (0.6 em a character, not the drawing code's
// own), so that a label that only "fits" by the code's own arithmetic fails.

type svgEl struct {
	name  string
	attr  map[string]string
	text  string
	class map[string]bool
}

func (e svgEl) num(t *testing.T, name string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(e.attr[name], 64)
	if err != nil {
		t.Fatalf("<%s %s=%q>: %v", e.name, name, e.attr[name], err)
	}
	return f
}

// parseSVG returns the elements of the chart's SVG in document order.
func parseSVG(t *testing.T, markup string) []svgEl {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(markup))
	var out []svgEl
	var stack []int
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			e := svgEl{name: tok.Name.Local, attr: map[string]string{}, class: map[string]bool{}}
			for _, a := range tok.Attr {
				e.attr[a.Name.Local] = a.Value
			}
			for _, c := range strings.Fields(e.attr["class"]) {
				e.class[c] = true
			}
			out = append(out, e)
			stack = append(stack, len(out)-1)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				out[stack[len(stack)-1]].text += string(tok)
			}
		}
	}
	if len(out) == 0 || out[0].name != "svg" {
		t.Fatalf("not an SVG chart:\n%s", markup)
	}
	return out
}

func with(els []svgEl, name string, classes ...string) []svgEl {
	var out []svgEl
	for _, e := range els {
		ok := e.name == name
		for _, c := range classes {
			ok = ok && e.class[c]
		}
		if ok {
			out = append(out, e)
		}
	}
	return out
}

// viewBox returns the chart's width and height.
func viewBox(t *testing.T, svg svgEl) (float64, float64) {
	t.Helper()
	var x, y, w, h float64
	if _, err := fmt.Sscanf(svg.attr["viewBox"], "%g %g %g %g", &x, &y, &w, &h); err != nil {
		t.Fatalf("viewBox %q: %v", svg.attr["viewBox"], err)
	}
	return w, h
}

func estWidth(s string, size float64) float64 { return 0.6 * size * float64(len([]rune(s))) }

func strp(s string) *string { return &s }

// chartOf builds a chart of type typ over columns x, y... and rows of strings.
func chartOf(typ string, cols []string, rows [][]string) *Chart {
	t := &Table{Columns: cols}
	for _, r := range rows {
		var row []*string
		for _, v := range r {
			row = append(row, strp(v))
		}
		t.Rows = append(t.Rows, row)
	}
	return &Chart{Title: "t", Type: typ, X: cols[0], Y: cols[1:], Data: t}
}

func months(from string, n int) []string {
	d, _ := time.Parse("2006-01-02", from)
	var out []string
	for i := range n {
		out = append(out, d.AddDate(0, i, 0).Format("2006-01-02"))
	}
	return out
}

func days(from string, n int) []string {
	d, _ := time.Parse("2006-01-02", from)
	var out []string
	for i := range n {
		out = append(out, d.AddDate(0, 0, i).Format("2006-01-02"))
	}
	return out
}

// series1 gives each x one value, v(i).
func series1(xs []string, v func(i int) float64) [][]string {
	var rows [][]string
	for i, x := range xs {
		rows = append(rows, []string{x, strconv.FormatFloat(v(i), 'f', -1, 64)})
	}
	return rows
}

// funnel is the example's session funnel: twelve months, four series, values of 100 to 2,600.
func funnel() *Chart {
	var rows [][]string
	for i, m := range months("2024-01-01", 12) {
		rows = append(rows, []string{m, strconv.Itoa(1000 + 130*i), strconv.Itoa(300 + 37*i), strconv.Itoa(150 + 19*i), strconv.Itoa(100 + 13*i)})
	}
	return chartOf("bar", []string{"month", "product_view_sessions", "cart_sessions", "checkout_sessions", "purchase_sessions"}, rows)
}

func categories(n int, name func(i int) string) []string {
	var out []string
	for i := range n {
		out = append(out, name(i))
	}
	return out
}

// The x labels of every kind of axis stand apart, inside the chart, and there
// are enough of them to read the axis.
func TestXLabelsDoNotOverlap(t *testing.T) {
	cases := []struct {
		name      string
		chart     *Chart
		atLeast   int
		wantWhole bool // every value keeps its whole label
	}{
		{"monthly bars", chartOf("bar", []string{"month", "revenue"}, series1(months("2024-01-01", 12), func(i int) float64 { return 5e5 + 7e4*float64(i) })), 12, false},
		{"monthly line", chartOf("line", []string{"month", "sessions_per_customer"}, series1(months("2024-01-01", 12), func(i int) float64 { return 1.4 + 0.02*float64(i) })), 12, false},
		{"monthly bars over four years", chartOf("bar", []string{"month", "a", "b"}, func() [][]string {
			var rows [][]string
			for i, m := range months("2021-01-01", 48) {
				rows = append(rows, []string{m, strconv.Itoa(i), strconv.Itoa(2 * i)})
			}
			return rows
		}()), 4, false},
		{"daily line over a year", chartOf("line", []string{"order_day", "revenue"}, series1(days("2024-01-01", 366), func(i int) float64 { return 2e4 + float64(i%17)*1e3 })), 6, false},
		{"timestamps", chartOf("line", []string{"at", "v"}, func() [][]string {
			var rows [][]string
			for i, d := range days("2024-03-01", 40) {
				rows = append(rows, []string{d + " 00:00:00", strconv.Itoa(i)})
			}
			return rows
		}()), 4, false},
		{"numbers along a line", chartOf("line", []string{"n", "v"}, series1(categories(200, func(i int) string { return strconv.Itoa(1000 * i) }), func(i int) float64 { return float64(i) })), 4, false},
		{"four categories", chartOf("bar", []string{"churn_risk", "customers"}, [][]string{{"high", "143"}, {"low", "1264"}, {"medium", "596"}, {"never_ordered", "490"}}), 4, true},
		{"thirty long categories", chartOf("bar", []string{"category", "n"}, series1(categories(30, func(i int) string { return fmt.Sprintf("home_and_garden_%02d", i) }), func(i int) float64 { return float64(i) })), 30, true},
		{"two hundred categories", chartOf("bar", []string{"sku", "n"}, series1(categories(200, func(i int) string { return fmt.Sprintf("sku-%04d", i) }), func(i int) float64 { return float64(i) })), 20, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			els := parseSVG(t, string(renderChart(c.chart)))
			W, _ := viewBox(t, els[0])
			labels := with(els, "text", "tick", "x")
			if len(labels) < c.atLeast {
				t.Fatalf("%d x labels, want at least %d", len(labels), c.atLeast)
			}
			if c.wantWhole {
				if len(labels) != len(c.chart.Data.Rows) {
					t.Fatalf("%d x labels for %d values", len(labels), len(c.chart.Data.Rows))
				}
				for i, l := range labels {
					if want := *c.chart.Data.Rows[i][0]; l.text != want {
						t.Errorf("label %d reads %q, want the whole value %q", i, l.text, want)
					}
				}
			}
			prevEnd, prevX := math.Inf(-1), math.Inf(-1)
			for _, l := range labels {
				x, w := l.num(t, "x"), estWidth(l.text, tickSize)
				if tr := l.attr["transform"]; tr != "" {
					// Slanted: parallel lines of text, which need a line's height between them.
					var deg float64
					if _, err := fmt.Sscanf(tr, "rotate(%g", &deg); err != nil || l.attr["text-anchor"] != "end" {
						t.Fatalf("label %q: transform %q, anchor %q", l.text, tr, l.attr["text-anchor"])
					}
					rad := math.Abs(deg) * math.Pi / 180
					if gap := (x - prevX) * math.Sin(rad); gap < tickSize {
						t.Errorf("slanted labels %q and the one before are %.1f apart, less than a line (%g)", l.text, gap, tickSize)
					}
					if x-w*math.Cos(rad) < 0 {
						t.Errorf("slanted label %q starts left of the chart (%.1f)", l.text, x-w*math.Cos(rad))
					}
					prevX = x
					continue
				}
				if l.attr["text-anchor"] != "middle" {
					t.Fatalf("label %q is anchored %q", l.text, l.attr["text-anchor"])
				}
				x0, x1 := x-w/2, x+w/2
				if x0 < 0 || x1 > W {
					t.Errorf("label %q spans %.1f..%.1f, outside the chart (0..%g)", l.text, x0, x1, W)
				}
				if x0 < prevEnd+2 {
					t.Errorf("label %q (%.1f..%.1f) overlaps the one before it (ending at %.1f)", l.text, x0, x1, prevEnd)
				}
				prevEnd = x1
			}
		})
	}
}

// A value is written above its bar only where it fits the bar's width, so
// that neighbours never collide; where every value fits, every bar has one.
func TestBarValueLabelsDoNotCollide(t *testing.T) {
	monthly := chartOf("bar", []string{"month", "revenue"}, series1(months("2024-01-01", 12), func(i int) float64 { return 583000 + 71000*float64(i) }))
	for _, c := range []struct {
		name     string
		chart    *Chart
		wantSome bool
	}{
		{"session funnel", funnel(), false},
		{"revenue by month", monthly, true},
		{"negative and positive", chartOf("bar", []string{"k", "v"}, [][]string{{"a", "-120"}, {"b", "340"}, {"c", "-5"}}), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			els := parseSVG(t, string(renderChart(c.chart)))
			bars := with(els, "rect", "bar")
			vals := with(els, "text", "barval")
			if c.wantSome && len(vals) != len(bars) {
				t.Fatalf("%d values for %d bars, want one on each", len(vals), len(bars))
			}
			if len(vals) != 0 && len(vals) != len(bars) {
				t.Fatalf("%d values for %d bars: all or none", len(vals), len(bars))
			}
			type box struct{ x0, x1, y0, y1 float64 }
			var boxes []box
			for i, v := range vals {
				x, y, w := v.num(t, "x"), v.num(t, "y"), estWidth(v.text, valueSize)
				b := box{x - w/2, x + w/2, y - valueSize, y}
				bx, bw := bars[i].num(t, "x"), bars[i].num(t, "width")
				if b.x0 < bx-1 || b.x1 > bx+bw+1 {
					t.Errorf("value %q (%.1f..%.1f) is wider than its bar (%.1f..%.1f)", v.text, b.x0, b.x1, bx, bx+bw)
				}
				for j, o := range boxes {
					if b.x0 < o.x1 && o.x0 < b.x1 && b.y0 < o.y1 && o.y0 < b.y1 {
						t.Errorf("value %q collides with value %q", v.text, vals[j].text)
					}
				}
				boxes = append(boxes, b)
			}
		})
	}
}

// The plot (from the y-axis to the right end of the x-axis, from the top
// grid line to the x-axis) takes most of the chart: axes and labels are kept
// to what they need.
func TestPlotFillsTheChart(t *testing.T) {
	for _, c := range []struct {
		name  string
		chart *Chart
	}{
		{"line", chartOf("line", []string{"order_day", "revenue"}, series1(days("2024-01-01", 366), func(i int) float64 { return 2e4 + float64(i%17)*1e3 }))},
		{"bars", chartOf("bar", []string{"month", "revenue"}, series1(months("2024-01-01", 12), func(i int) float64 { return 5e5 + 7e4*float64(i) }))},
		{"bars with a legend", funnel()},
	} {
		t.Run(c.name, func(t *testing.T) {
			els := parseSVG(t, string(renderChart(c.chart)))
			W, H := viewBox(t, els[0])
			var xaxis *svgEl
			for _, l := range with(els, "line", "axis") {
				if l.attr["y1"] == l.attr["y2"] {
					xaxis = &l
				}
			}
			if xaxis == nil {
				t.Fatal("no x-axis")
			}
			top := math.Inf(1)
			for _, g := range with(els, "line", "grid") {
				top = math.Min(top, g.num(t, "y1"))
			}
			w := xaxis.num(t, "x2") - xaxis.num(t, "x1")
			h := xaxis.num(t, "y1") - top
			if w/W < 0.9 {
				t.Errorf("the plot is %.0f of %.0f wide (%.0f%%), want at least 90%%", w, W, 100*w/W)
			}
			if h/H < 0.8 {
				t.Errorf("the plot is %.0f of %.0f high (%.0f%%), want at least 80%%", h, H, 100*h/H)
			}
		})
	}
}

// A y-axis starts at zero, or the chart says where it starts: bars always
// from zero; a line whose values lie far from zero may start near them, and
// then the axis carries a break mark and the chart a note.
func TestYAxisStartsAtZeroOrSaysSo(t *testing.T) {
	for _, c := range []struct {
		name     string
		chart    *Chart
		wantZero bool
	}{
		{"sessions per customer, 1.43 to 1.63", chartOf("line", []string{"month", "v"}, series1(months("2024-01-01", 12), func(i int) float64 { return 1.43 + 0.2*float64(i%3)/2 })), false},
		{"conversion, 0.2 to 1", chartOf("line", []string{"month", "v"}, series1(months("2024-01-01", 12), func(i int) float64 { return 1 - 0.07*float64(i) })), true},
		{"bars far from zero", chartOf("bar", []string{"month", "v"}, series1(months("2024-01-01", 12), func(i int) float64 { return 1e6 + float64(i) })), true},
		{"bars across zero", chartOf("bar", []string{"k", "v"}, [][]string{{"a", "-5"}, {"b", "10"}}), true},
		{"a line of negatives far from zero", chartOf("line", []string{"month", "v"}, series1(months("2024-01-01", 6), func(i int) float64 { return -100 - float64(i) })), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			markup := string(renderChart(c.chart))
			els := parseSVG(t, markup)
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, tk := range with(els, "text", "tick", "y") {
				f, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSuffix(tk.text, "k"), "M"), 64)
				if err != nil {
					t.Fatalf("y tick %q", tk.text)
				}
				lo, hi = math.Min(lo, f), math.Max(hi, f)
			}
			zero := lo <= 0 && hi >= 0
			breaks, notes := with(els, "g", "axis-break"), with(els, "text", "axis-note")
			if zero != c.wantZero {
				t.Errorf("y ticks %g..%g: includes zero %t, want %t", lo, hi, zero, c.wantZero)
			}
			if zero {
				if len(breaks)+len(notes) > 0 {
					t.Errorf("an axis from zero is marked as cut")
				}
				return
			}
			if len(breaks) != 1 || len(notes) != 1 {
				t.Fatalf("the y-axis spans %g..%g without zero, but the chart has %d break marks and %d notes", lo, hi, len(breaks), len(notes))
			}
			want := fmt.Sprintf("starts at %s", compact(lo))
			if lo < 0 {
				want = fmt.Sprintf("ends at %s", compact(hi))
			}
			if !strings.Contains(notes[0].text, want) || !strings.Contains(els[0].attr["aria-label"], want) {
				t.Errorf("note %q, aria-label %q: want both to say %q", notes[0].text, els[0].attr["aria-label"], want)
			}
		})
	}
}

// A line chart draws its points along x whatever order its rows came in
// (a chart sorted by its value, with a limit, picks rows; it does not reorder the line).
func TestLinePointsFollowX(t *testing.T) {
	c := chartOf("line", []string{"day", "v"}, [][]string{{"2024-01-03", "3"}, {"2024-01-01", "1"}, {"2024-01-02", "2"}})
	els := parseSVG(t, string(renderChart(c)))
	pl := with(els, "polyline")
	if len(pl) != 1 {
		t.Fatalf("%d polylines", len(pl))
	}
	prev := math.Inf(-1)
	for _, p := range strings.Fields(pl[0].attr["points"]) {
		x, _ := strconv.ParseFloat(strings.Split(p, ",")[0], 64)
		if x <= prev {
			t.Fatalf("points %q do not run left to right", pl[0].attr["points"])
		}
		prev = x
	}
}
