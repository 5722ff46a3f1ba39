package docs

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The charts of a dashboard, drawn as inline SVG. Every mark carries its value
// as the database printed it (data-x, data-y, data-value), so readers and tests
// can check the picture against the tables.

var palette = []string{"#2f6fde", "#e07b39", "#3aa17e", "#b54fc1", "#d6483e", "#7c8b99"}

func renderChart(c *Chart) template.HTML {
	var b strings.Builder
	switch {
	case c.Err != "":
		fmt.Fprintf(&b, `<p class="chart-error">no data: %s</p>`, esc(c.Err))
	case c.Data == nil:
		b.WriteString(`<p class="chart-error">no data: the target was not read</p>`)
	default:
		switch c.Type {
		case "kpi":
			kpiSVG(&b, c)
		case "line":
			xySVG(&b, c, true)
		case "bar":
			xySVG(&b, c, false)
		case "table":
			tableSVG(&b, c)
		default:
			fmt.Fprintf(&b, `<p class="chart-error">chart type %q is not known</p>`, esc(c.Type))
		}
	}
	return template.HTML(b.String())
}

func esc(s string) string { return html.EscapeString(s) }

// col returns the index of name in t's columns, or def when name is empty.
func (t *Table) col(name string, def int) int {
	if name == "" {
		if def < len(t.Columns) {
			return def
		}
		return -1
	}
	for i, c := range t.Columns {
		if c == name {
			return i
		}
	}
	return -1
}

func cell(row []*string, i int) (string, bool) {
	if i < 0 || i >= len(row) || row[i] == nil {
		return "", false
	}
	return *row[i], true
}

func kpiSVG(b *strings.Builder, c *Chart) {
	i := c.Data.col(c.Value, 0)
	if i < 0 {
		fmt.Fprintf(b, `<p class="chart-error">no column %q in the result</p>`, esc(c.Value))
		return
	}
	v, ok := "", false
	if len(c.Data.Rows) > 0 {
		v, ok = cell(c.Data.Rows[0], i)
	}
	shown := "–"
	if ok {
		shown = FormatNumber(v)
	}
	fmt.Fprintf(b, `<svg class="kpi" viewBox="0 0 280 110" width="280" height="110" role="img" aria-label="%s: %s">`, esc(c.Title), esc(shown))
	fmt.Fprintf(b, `<text x="140" y="68" text-anchor="middle" class="kpi-value" data-value="%s" data-null="%t">%s</text>`, esc(v), !ok, esc(shown))
	fmt.Fprintf(b, `<text x="140" y="96" text-anchor="middle" class="kpi-label">%s</text></svg>`, esc(c.Value))
}

// plainNumber is a number written with digits, a sign and a point only: not
// NaN, Infinity or 1e+308, which FormatNumber leaves as they are.
var plainNumber = regexp.MustCompile(`^-?[0-9]+(\.[0-9]*)?$`)

// FormatNumber adds thousands separators to a number printed by the database,
// keeping every digit it printed; anything else is returned as it is.
func FormatNumber(s string) string {
	if !plainNumber.MatchString(s) {
		return s
	}
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var out []byte
	for i := range len(intPart) {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, intPart[i])
	}
	if hasFrac {
		return sign + string(out) + "." + frac
	}
	return sign + string(out)
}

// The x/y charts' geometry, in viewBox units. The SVG is as wide as its card,
// so these are also about the proportions of the text to the card.
const (
	xyWidth    = 960.0
	xyHeight   = 300.0
	tickSize   = 11.0 // font size of axis labels (style.css: svg .tick)
	valueSize  = 10.0 // font size of the values above bars (style.css: svg .barval)
	labelGap   = 8.0  // the least room between two labels
	rotateDeg  = 40.0 // the slant of x labels that do not fit side by side
	maxLabel   = 40   // runes of an x label beyond which it is shortened
	legendRowH = 16.0
)

// series is one y column of an x/y chart.
type series struct {
	name  string
	col   int
	color string
}

func xySVG(b *strings.Builder, c *Chart, line bool) {
	t := c.Data
	xi := t.col(c.X, 0)
	if xi < 0 {
		fmt.Fprintf(b, `<p class="chart-error">no column %q in the result</p>`, esc(c.X))
		return
	}
	ys := c.Y
	if len(ys) == 0 {
		for i, name := range t.Columns {
			if i != xi {
				ys = append(ys, name)
			}
		}
	}
	var ss []series
	for k, y := range ys {
		i := t.col(y, -1)
		if i < 0 {
			fmt.Fprintf(b, `<p class="chart-error">no column %q in the result</p>`, esc(y))
			return
		}
		ss = append(ss, series{name: y, col: i, color: palette[k%len(palette)]})
	}
	// A line has no place for a row whose x is NULL; a bar chart shows it
	// as a category of its own.
	rows := t.Rows
	if line {
		rows = nil
		for _, row := range t.Rows {
			if _, ok := cell(row, xi); ok {
				rows = append(rows, row)
			}
		}
	}
	n := len(rows)
	xraw := make([]string, n)
	xnull := make([]bool, n)
	for r, row := range rows {
		var ok bool
		xraw[r], ok = cell(row, xi)
		xnull[r] = !ok
	}
	xs := newXAxis(xraw, xnull, line)

	// y: bars always start at zero; a line may start elsewhere, and then says so.
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for _, row := range rows {
		for _, s := range ss {
			if f, ok := number(row, s.col); ok {
				ymin, ymax = math.Min(ymin, f), math.Max(ymax, f)
			}
		}
	}
	empty := "" // what the plot says when it has nothing to draw
	if math.IsInf(ymin, 1) {
		ymin, ymax = 0, 1
		empty = "no values to draw (every y is NULL, NaN or Infinity)"
		if n == 0 {
			empty = "no rows"
		}
	}
	if !line || ymin > 0 && ymin < ymax/3 || ymax < 0 && ymax > ymin/3 {
		ymin, ymax = math.Min(ymin, 0), math.Max(ymax, 0)
	}
	ticks := niceTicks(ymin, ymax, 5)
	ylo, yhi := ticks[0], ticks[len(ticks)-1]
	fromZero := ylo <= 0 && yhi >= 0

	// Margins: the y labels' width on the left; above the plot, the legend and
	// the note that the y-axis does not start at zero; below, the x labels.
	left := 0.0
	for _, tk := range ticks {
		left = math.Max(left, textWidth(compact(tk), tickSize))
	}
	left = math.Ceil(left + 10)
	// On a line the last value sits on the right edge: room for half its label.
	right := 12.0
	if line && n > 0 {
		right = math.Max(right, math.Ceil(textWidth(xs.text[xs.order[n-1]], tickSize)/2+4))
	}
	top := 8.0
	var legend []legendItem
	if len(ss) > 1 {
		legend = layoutLegend(ss, left, xyWidth-right)
		top += legend[len(legend)-1].y + legendRowH - 4
	}
	note := ""
	noteY := 0.0
	if !fromZero {
		note = fmt.Sprintf("y-axis starts at %s, not 0", compact(ylo))
		if ylo < 0 {
			note = fmt.Sprintf("y-axis ends at %s, not 0", compact(yhi))
		}
		noteY = top + tickSize
		top += tickSize + 6
	}
	pw := xyWidth - left - right
	xs.place(left, pw, line)
	labels := xs.labels(pw)
	if xs.rotated {
		// Slanted labels reach left of their value: the first ones must not
		// leave the chart.
		over := 0.0
		for _, l := range labels {
			over = math.Max(over, textWidth(l.text, tickSize)*math.Cos(rotateDeg*math.Pi/180)-l.x+4)
		}
		if over > 0 {
			left += math.Ceil(over)
			pw = xyWidth - left - right
			xs.place(left, pw, line)
			labels = xs.labels(pw)
		}
	}

	// Bars: the width of one bar, and whether every value fits above its bar.
	bw := 0.0
	values := false
	if !line && n > 0 {
		bw = pw / float64(n) * 0.8 / float64(len(ss))
		values = true
		for _, row := range rows {
			for _, s := range ss {
				if f, ok := number(row, s.col); ok && textWidth(compact(f), valueSize) > bw-2 {
					values = false
				}
			}
		}
	}
	plotTop := top
	if values {
		plotTop += valueSize + 6 // room for the value above the highest bar
	}
	H := xyHeight
	bottom := tickSize + 14
	if xs.rotated {
		bottom = xs.rotatedHeight() + 12
		H += bottom - (tickSize + 14)
	}
	ph := H - plotTop - bottom
	// (halves: near the ends of float8, yhi-ylo itself would overflow)
	ypos := func(f float64) float64 { return plotTop + ph - (f/2-ylo/2)/(yhi/2-ylo/2)*ph }
	base := top + (H - top - bottom) // the plot's bottom edge

	kind := "bar"
	if line {
		kind = "line"
	}
	label := esc(c.Title)
	if note != "" {
		label += "; " + esc(note)
	}
	fmt.Fprintf(b, `<svg class="xy %s" viewBox="0 0 %g %g" width="100%%" preserveAspectRatio="xMidYMid meet" role="img" aria-label="%s" data-rows="%d" data-y0="%s" data-from-zero="%t">`,
		kind, xyWidth, H, label, n, esc(compact(ylo)), fromZero)
	fmt.Fprintf(b, `<rect class="plot-area" x="%g" y="%.1f" width="%g" height="%.1f" fill="none"/>`, left, top, pw, base-top)
	for _, it := range legend {
		fmt.Fprintf(b, `<g class="legend-item"><rect x="%.1f" y="%.1f" width="10" height="10" fill="%s"/><text class="tick legend" x="%.1f" y="%.1f">%s</text></g>`,
			it.x, it.y, it.s.color, it.x+14, it.y+9, esc(it.s.name))
	}
	if note != "" {
		fmt.Fprintf(b, `<text class="axis-note" x="%g" y="%.1f">%s</text>`, left, noteY, esc(note))
	}
	for _, tk := range ticks {
		y := ypos(tk)
		fmt.Fprintf(b, `<line class="grid" x1="%g" x2="%g" y1="%.1f" y2="%.1f"/><text class="tick y" x="%g" y="%.1f" text-anchor="end">%s</text>`, left, xyWidth-right, y, y, left-6, y+4, esc(compact(tk)))
	}
	fmt.Fprintf(b, `<line class="axis" x1="%g" x2="%g" y1="%.1f" y2="%.1f"/>`, left, xyWidth-right, base, base)
	fmt.Fprintf(b, `<line class="axis" x1="%g" x2="%g" y1="%.1f" y2="%.1f"/>`, left, left, plotTop, base)
	if !fromZero {
		// The break mark where the y-axis is cut: two slants across it.
		y := base - 10
		if ylo < 0 {
			y = plotTop + 10
		}
		fmt.Fprintf(b, `<g class="axis-break"><title>%s</title><rect x="%g" y="%.1f" width="12" height="5" fill="#fff"/><path d="M%g %.1fl12 -4M%g %.1fl12 -4"/></g>`,
			esc(note), left-6, y-3, left-6, y+1, left-6, y+5)
	}
	for _, l := range labels {
		if xs.rotated {
			fmt.Fprintf(b, `<text class="tick x" x="%.1f" y="%.1f" text-anchor="end" transform="rotate(-%g %.1f %.1f)">%s</text>`, l.x, base+14, rotateDeg, l.x, base+14, esc(l.text))
			continue
		}
		fmt.Fprintf(b, `<text class="tick x" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, l.x, base+tickSize+6, esc(l.text))
	}
	if empty != "" {
		fmt.Fprintf(b, `<text class="plot-empty" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, left+pw/2, (plotTop+base)/2, esc(empty))
	}
	dense := "" // many points: a plain line, with the points showing on hover
	if n > 60 {
		dense = " dense"
	}
	for k, s := range ss {
		if line {
			var pts []string
			for _, r := range xs.order {
				if f, ok := number(rows[r], s.col); ok {
					pts = append(pts, fmt.Sprintf("%.1f,%.1f", xs.pos[r], ypos(f)))
				}
			}
			fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="1.6" points="%s"/>`, s.color, strings.Join(pts, " "))
		}
		for r, row := range rows {
			v, _ := cell(row, s.col)
			f, ok := number(row, s.col)
			if !ok {
				continue
			}
			at := xraw[r]
			if xnull[r] {
				at = nullLabel
			}
			title := fmt.Sprintf("%s: %s = %s", at, s.name, FormatNumber(v))
			if line {
				fmt.Fprintf(b, `<circle class="pt%s" cx="%.1f" cy="%.1f" r="2" fill="%s" data-series="%s" data-x="%s" data-y="%s"><title>%s</title></circle>`, dense, xs.pos[r], ypos(f), s.color, esc(s.name), esc(xraw[r]), esc(v), esc(title))
				continue
			}
			x := xs.pos[r] - bw*float64(len(ss))/2 + bw*float64(k)
			y0, y1 := ypos(math.Max(0, ylo)), ypos(f)
			fmt.Fprintf(b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" data-series="%s" data-x="%s" data-y="%s"><title>%s</title></rect>`, x, math.Min(y0, y1), math.Max(bw-1, 1), math.Abs(y0-y1), s.color, esc(s.name), esc(xraw[r]), esc(v), esc(title))
			if values {
				ty := math.Min(y0, y1) - 4
				if f < 0 {
					ty = math.Max(y0, y1) + valueSize + 2
				}
				fmt.Fprintf(b, `<text class="barval" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x+(bw-1)/2, ty, esc(compact(f)))
			}
		}
	}
	b.WriteString(`</svg>`)
}

// number is a cell's value as a number that can be drawn: NaN and
// ±Infinity (float8 and numeric have them) are not, any more than NULL.
func number(row []*string, i int) (float64, bool) {
	v, ok := cell(row, i)
	if !ok {
		return 0, false
	}
	return finite(v)
}

// finite reads s as a number that is neither NaN nor infinite.
func finite(s string) (float64, bool) {
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
}

type legendItem struct {
	s    series
	x, y float64
}

// layoutLegend puts one swatch and name per series in rows from x0 to x1.
func layoutLegend(ss []series, x0, x1 float64) []legendItem {
	var out []legendItem
	x, y := x0, 0.0
	for _, s := range ss {
		w := 14 + textWidth(s.name, tickSize) + 18
		if x > x0 && x+w > x1 {
			x, y = x0, y+legendRowH
		}
		out = append(out, legendItem{s: s, x: x, y: y + 4})
		x += w
	}
	return out
}

// xAxis places the x values of a chart and chooses which to label.
type xAxis struct {
	raw        []string
	vals       []float64 // on a continuous axis: the values (seconds for dates)
	dates      []time.Time
	continuous bool  // placed by value rather than by position
	monthly    bool  // every value is the first of a month
	order      []int // the rows in the order of x (for a line)
	pos        []float64
	slot       float64 // the room of one value on a categorical axis
	rotated    bool
	text       []string // each value's label
	null       []bool   // the value is NULL (a bar chart's category)
}

// nullLabel labels a bar chart's category whose x is NULL.
const nullLabel = "(null)"

// newXAxis lays out the x values raw, of which those marked null are NULL.
func newXAxis(raw []string, null []bool, line bool) *xAxis {
	n := len(raw)
	a := &xAxis{raw: raw, null: null, vals: make([]float64, n), dates: make([]time.Time, n), order: make([]int, n), text: make([]string, n)}
	a.continuous = line && n > 1
	allDates := n > 0
	a.monthly = n > 0
	for r, v := range raw {
		a.order[r] = r
		if null[r] {
			continue // a category of its own: it does not make the axis one of text
		}
		if d, ok := parseDate(v); ok {
			a.dates[r] = d
			a.vals[r] = float64(d.Unix())
			if d.Day() != 1 || d.Hour() != 0 || d.Minute() != 0 || d.Second() != 0 || d.Nanosecond() != 0 {
				a.monthly = false
			}
			continue
		}
		allDates, a.monthly = false, false
		f, ok := finite(v)
		if !ok {
			a.continuous = false
		}
		a.vals[r] = f
	}
	for r, v := range raw {
		switch {
		case null[r]:
			a.text[r] = nullLabel
		case a.monthly:
			a.text[r] = a.dates[r].Format("Jan 2006")
		case allDates:
			a.text[r] = strings.TrimSuffix(strings.TrimSuffix(v, " 00:00:00"), "T00:00:00Z")
		default:
			a.text[r] = shorten(v, maxLabel)
		}
	}
	if allDates && !a.monthly {
		a.dates = a.dates[:n]
	} else if !allDates {
		a.dates = nil
	}
	if a.continuous {
		sort.SliceStable(a.order, func(i, j int) bool { return a.vals[a.order[i]] < a.vals[a.order[j]] })
	}
	return a
}

// parseDate reads a date or timestamp as PostgreSQL prints it.
func parseDate(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02", "2006-01-02 15:04:05", "2006-01-02 15:04:05-07", "2006-01-02T15:04:05Z07:00", "2006-01-02 15:04:05.999999", "2006-01-02 15:04:05.999999-07"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// place puts each value along a plot of width pw that starts at left.
func (a *xAxis) place(left, pw float64, line bool) {
	n := len(a.raw)
	a.pos = make([]float64, n)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range a.vals {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	a.slot = pw / float64(max(n, 1))
	for r := range a.raw {
		switch {
		case a.continuous && hi > lo:
			a.pos[r] = left + (a.vals[r]/2-lo/2)/(hi/2-lo/2)*pw
		case !line:
			a.pos[r] = left + (float64(r)+0.5)*a.slot
		case n <= 1:
			a.pos[r] = left + pw/2
		default:
			a.pos[r] = left + float64(r)/float64(n-1)*pw
		}
	}
	if line && n > 1 {
		a.slot = pw / float64(n-1)
	}
}

type xLabel struct {
	x    float64
	text string
}

// labels chooses the x labels: every value when they fit side by side; for
// categories (bars, or text along a line) that do not, every value slanted;
// else as many as fit without touching, preferring the first of a month (or
// of a quarter, a year) on a date axis. A label is never cut short to fit.
func (a *xAxis) labels(pw float64) []xLabel {
	n := len(a.raw)
	a.rotated = false
	if n == 0 {
		return nil
	}
	all := make([]int, n)
	for i := range all {
		all[i] = a.order[i]
	}
	if a.fits(all, pw) {
		return a.make(all)
	}
	if !a.continuous && a.dates == nil {
		// Categories: slanted, so that each keeps its whole name. One line of
		// slanted text needs tickSize/sin(angle) along the axis, and a little
		// room; when the values are closer than that, every other one (or
		// every third...) is labelled.
		a.rotated = true
		need := (tickSize + 3) / math.Sin(rotateDeg*math.Pi/180)
		step := max(1, int(math.Ceil(need/a.slot-1e-9)))
		var pick []int
		for i := 0; i < n; i += step {
			pick = append(pick, a.order[i])
		}
		return a.make(pick)
	}
	// Dates: the first day of every month, every 2, 3, 6 months, every year,
	// when that makes enough labels to read the axis by.
	if a.dates != nil {
		for _, every := range []int{1, 2, 3, 6, 12, 24, 60} {
			var pick []int
			for _, r := range a.order {
				d := a.dates[r]
				if d.Day() == 1 && (int(d.Month())-1)%min(every, 12) == 0 && (every <= 12 || d.Month() == time.January && d.Year()%(every/12) == 0) {
					pick = append(pick, r)
				}
			}
			if len(pick) >= 4 {
				saved := a.text
				a.text = make([]string, n)
				for _, r := range pick {
					a.text[r] = a.dates[r].Format("Jan 2006")
				}
				if a.fits(pick, pw) {
					return a.make(pick)
				}
				a.text = saved
			}
		}
	}
	for step := 2; step <= n; step++ {
		var pick []int
		for i := 0; i < n; i += step {
			pick = append(pick, a.order[i])
		}
		if a.fits(pick, pw) {
			return a.make(pick)
		}
	}
	return a.make(all[:1])
}

// box is where a label centred at x is drawn: kept inside the chart.
func (a *xAxis) box(r int) (x0, x1 float64) {
	w := textWidth(a.text[r], tickSize)
	x0 = a.pos[r] - w/2
	x0 = math.Max(x0, 4)
	x0 = math.Min(x0, xyWidth-4-w)
	return x0, x0 + w
}

// fits says whether labels of rows pick, in that order, stand side by side with room between.
func (a *xAxis) fits(pick []int, pw float64) bool {
	prev := math.Inf(-1)
	for _, r := range pick {
		x0, x1 := a.box(r)
		if x0 < prev+labelGap {
			return false
		}
		prev = x1
	}
	return true
}

func (a *xAxis) make(pick []int) []xLabel {
	out := make([]xLabel, 0, len(pick))
	for _, r := range pick {
		x := a.pos[r]
		if !a.rotated {
			x0, x1 := a.box(r)
			x = (x0 + x1) / 2
		}
		out = append(out, xLabel{x: x, text: a.text[r]})
	}
	return out
}

// rotatedHeight is how far the slanted labels reach below the axis.
func (a *xAxis) rotatedHeight() float64 {
	w := 0.0
	for _, s := range a.text {
		w = math.Max(w, textWidth(s, tickSize))
	}
	rad := rotateDeg * math.Pi / 180
	return w*math.Sin(rad) + tickSize*math.Cos(rad) + 4
}

// textWidth estimates the width of s in the site's sans-serif font at size:
// the advance widths of DejaVu Sans, the widest of the fonts the stylesheet
// names, so that an estimate errs on the wide side.
func textWidth(s string, size float64) float64 {
	w := 0.0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			w += 0.637
		case r == 'i' || r == 'j' || r == 'l':
			w += 0.278
		case r == 'f' || r == 't' || r == 'r':
			w += 0.411
		case r == 'm':
			w += 0.974
		case r == 'w':
			w += 0.818
		case r >= 'a' && r <= 'z':
			w += 0.635
		case r == 'M' || r == 'W':
			w += 0.99
		case r == 'I' || r == 'J':
			w += 0.4
		case r >= 'A' && r <= 'Z':
			w += 0.77
		case r == ' ' || r == '.' || r == ',' || r == ':' || r == ';' || r == '\'' || r == '!' || r == '|':
			w += 0.338
		case r == '-' || r == '(' || r == ')' || r == '[' || r == ']' || r == '/':
			w += 0.39
		case r == '_':
			w += 0.5
		case r == '%' || r == '@' || r == '…' || r == '—':
			w += 1.0
		case r < 0x80:
			w += 0.838 // other ASCII signs: + = < > # & ...
		default:
			w += 1.0 // wide scripts and anything unknown
		}
	}
	return w * size
}

func tableSVG(b *strings.Builder, c *Chart) {
	t := c.Data
	var idx []int
	var names []string
	if len(c.Fields) == 0 {
		for i, name := range t.Columns {
			idx, names = append(idx, i), append(names, name)
		}
	}
	for _, f := range c.Fields {
		i := t.col(f, -1)
		if i < 0 {
			fmt.Fprintf(b, `<p class="chart-error">no column %q in the result</p>`, esc(f))
			return
		}
		idx, names = append(idx, i), append(names, f)
	}
	widths := make([]int, len(idx))
	for k, name := range names {
		widths[k] = len(name)
	}
	for _, row := range t.Rows {
		for k, i := range idx {
			v, _ := cell(row, i)
			widths[k] = max(widths[k], min(len([]rune(FormatNumber(v))), 40))
		}
	}
	const charW, rowH, pad = 7.4, 22, 14.0
	xs := make([]float64, len(idx)+1)
	for k, w := range widths {
		xs[k+1] = xs[k] + float64(w)*charW + 2*pad
	}
	W, H := xs[len(idx)], float64((len(t.Rows)+1)*rowH+6)
	fmt.Fprintf(b, `<svg class="table" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="%s" data-rows="%d">`, W, H, W, H, esc(c.Title), len(t.Rows))
	// A column of numbers is right-aligned, its heading too.
	numeric := make([]bool, len(idx))
	for k, i := range idx {
		seen := false
		numeric[k] = true
		for _, row := range t.Rows {
			if v, ok := cell(row, i); ok {
				_, err := strconv.ParseFloat(v, 64)
				seen, numeric[k] = true, numeric[k] && err == nil
			}
		}
		numeric[k] = numeric[k] && seen
	}
	for k, name := range names {
		if numeric[k] {
			fmt.Fprintf(b, `<text class="th" x="%.1f" y="16" text-anchor="end">%s</text>`, xs[k+1]-pad, esc(name))
			continue
		}
		fmt.Fprintf(b, `<text class="th" x="%.1f" y="16">%s</text>`, xs[k]+pad, esc(name))
	}
	fmt.Fprintf(b, `<line class="axis" x1="0" x2="%.0f" y1="%d" y2="%d"/>`, W, rowH, rowH)
	for r, row := range t.Rows {
		y := (r+2)*rowH - 6
		if r%2 == 1 {
			fmt.Fprintf(b, `<rect class="stripe" x="0" y="%d" width="%.0f" height="%d"/>`, (r+1)*rowH+2, W, rowH)
		}
		fmt.Fprintf(b, `<g class="tr" data-row="%d">`, r)
		for k, i := range idx {
			v, ok := cell(row, i)
			shown := shorten(FormatNumber(v), 40)
			anchor, x := "start", xs[k]+pad
			if _, err := strconv.ParseFloat(v, 64); err == nil {
				anchor, x = "end", xs[k+1]-pad
			}
			fmt.Fprintf(b, `<text class="td" x="%.1f" y="%d" text-anchor="%s" data-col="%s" data-value="%s" data-null="%t">%s</text>`, x, y, anchor, esc(names[k]), esc(v), !ok, esc(shown))
		}
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// niceTicks returns about n round values covering [lo, hi].
// The first tick is at or below lo and the last at or above hi, so that
// every value lies on the axis; lo and hi are finite.
func niceTicks(lo, hi float64, n int) []float64 {
	if hi <= lo {
		// A flat line: an axis one unit tall, or a tenth of the value
		// (lo + 1 is lo past 2^53); at the top of float8, below lo.
		d := math.Max(1, math.Abs(lo)/10)
		if math.IsInf(lo+d, 0) {
			lo -= d
		} else {
			hi = lo + d
		}
	}
	raw := (hi - lo) / float64(n)
	if math.IsInf(raw, 0) {
		// Near the ends of float8 the range itself overflows.
		raw = hi/float64(n) - lo/float64(n)
	}
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	first := math.Floor(lo / step)
	out := []float64{first * step}
	for k := first + 1; out[len(out)-1] < hi && len(out) <= 2*n+2; k++ {
		out = append(out, k*step)
	}
	// A round tick past the ends of float8 (-2e308 below -1.5e308) is
	// infinite: the axis ends at float8's largest value instead.
	for i, v := range out {
		if math.IsInf(v, 0) {
			out[i] = math.Copysign(math.MaxFloat64, v)
		}
	}
	return out
}

// compact prints an axis value briefly: 1.2M, 35k, 0.25.
func compact(f float64) string {
	a := math.Abs(f)
	switch {
	case a >= 1e15:
		// 1e+15, 1.79769e+308: in thousands of billions it would be as
		// wide as the number (near float8's end, the plot was pushed out
		// of the chart by its labels).
		return strconv.FormatFloat(f, 'g', 6, 64)
	case a >= 1e9:
		return trimZero(fmt.Sprintf("%.1f", f/1e9)) + "B"
	case a >= 1e6:
		return trimZero(fmt.Sprintf("%.1f", f/1e6)) + "M"
	case a >= 1e4:
		return trimZero(fmt.Sprintf("%.1f", f/1e3)) + "k"
	case a >= 100 || f == math.Trunc(f):
		return strconv.FormatFloat(math.Round(f), 'f', -1, 64)
	}
	return trimZero(fmt.Sprintf("%.2f", f))
}

func trimZero(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
