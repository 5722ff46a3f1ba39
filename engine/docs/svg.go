package docs

import (
	"fmt"
	"html"
	"html/template"
	"math"
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

// FormatNumber adds thousands separators to a number printed by the database,
// keeping every digit it printed; anything else is returned as it is.
func FormatNumber(s string) string {
	if _, err := strconv.ParseFloat(s, 64); err != nil || strings.ContainsAny(s, "eE") {
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

// axisValue places an x value: dates and numbers on a continuous scale, anything else by position.
func axisValue(s string) (float64, bool) {
	for _, layout := range []string{"2006-01-02", "2006-01-02 15:04:05", "2006-01-02 15:04:05-07", "2006-01-02T15:04:05Z07:00", "2006-01-02 15:04:05.999999", "2006-01-02 15:04:05.999999-07"} {
		if t, err := time.Parse(layout, s); err == nil {
			return float64(t.Unix()), true
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f, true
	}
	return 0, false
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
	var yi []int
	for _, y := range ys {
		i := t.col(y, -1)
		if i < 0 {
			fmt.Fprintf(b, `<p class="chart-error">no column %q in the result</p>`, esc(y))
			return
		}
		yi = append(yi, i)
	}
	const W, H, left, right, top, bottom = 720.0, 280.0, 70.0, 16.0, 16.0, 46.0
	pw, ph := W-left-right, H-top-bottom
	n := len(t.Rows)
	// x scale
	continuous := line && n > 1
	xs := make([]float64, n)
	for r, row := range t.Rows {
		v, _ := cell(row, xi)
		f, ok := axisValue(v)
		if !ok {
			continuous = false
		}
		xs[r] = f
	}
	xmin, xmax := math.Inf(1), math.Inf(-1)
	for _, x := range xs {
		xmin, xmax = math.Min(xmin, x), math.Max(xmax, x)
	}
	xpos := func(r int) float64 {
		if continuous && xmax > xmin {
			return left + (xs[r]-xmin)/(xmax-xmin)*pw
		}
		if !line {
			return left + (float64(r)+0.5)*pw/float64(max(n, 1))
		}
		if n <= 1 {
			return left + pw/2
		}
		return left + float64(r)/float64(n-1)*pw
	}
	// y scale, always including zero for bars
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for _, row := range t.Rows {
		for _, i := range yi {
			if v, ok := cell(row, i); ok {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					ymin, ymax = math.Min(ymin, f), math.Max(ymax, f)
				}
			}
		}
	}
	if math.IsInf(ymin, 1) {
		ymin, ymax = 0, 1
	}
	if !line || ymin > 0 && ymin < ymax/3 {
		ymin = math.Min(ymin, 0)
	}
	ticks := niceTicks(ymin, ymax, 5)
	ymin, ymax = math.Min(ymin, ticks[0]), math.Max(ymax, ticks[len(ticks)-1])
	if ymax == ymin {
		ymax = ymin + 1
	}
	ypos := func(f float64) float64 { return top + ph - (f-ymin)/(ymax-ymin)*ph }

	kind := "bar"
	if line {
		kind = "line"
	}
	fmt.Fprintf(b, `<svg class="xy %s" viewBox="0 0 %g %g" width="100%%" preserveAspectRatio="xMidYMid meet" role="img" aria-label="%s" data-rows="%d">`, kind, W, H, esc(c.Title), n)
	for _, tk := range ticks {
		y := ypos(tk)
		fmt.Fprintf(b, `<line class="grid" x1="%g" x2="%g" y1="%.1f" y2="%.1f"/><text class="tick" x="%g" y="%.1f" text-anchor="end">%s</text>`, left, W-right, y, y, left-6, y+4, esc(compact(tk)))
	}
	fmt.Fprintf(b, `<line class="axis" x1="%g" x2="%g" y1="%.1f" y2="%.1f"/>`, left, W-right, top+ph, top+ph)
	// x labels: all of them when they fit, else about eight
	step := 1
	if n > 12 {
		step = int(math.Ceil(float64(n) / 8))
	}
	for r := 0; r < n; r += step {
		v, _ := cell(t.Rows[r], xi)
		fmt.Fprintf(b, `<text class="tick" x="%.1f" y="%g" text-anchor="middle">%s</text>`, xpos(r), top+ph+18, esc(shorten(v, 12)))
	}
	dense := "" // many points: a plain line, with the points showing on hover
	if n > 60 {
		dense = " dense"
	}
	for s, i := range yi {
		color := palette[s%len(palette)]
		if line {
			var pts []string
			for r, row := range t.Rows {
				if v, ok := cell(row, i); ok {
					if f, err := strconv.ParseFloat(v, 64); err == nil {
						pts = append(pts, fmt.Sprintf("%.1f,%.1f", xpos(r), ypos(f)))
					}
				}
			}
			fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="1.6" points="%s"/>`, color, strings.Join(pts, " "))
		}
		bw := pw / float64(max(n, 1)) * 0.8 / float64(len(yi))
		for r, row := range t.Rows {
			xv, _ := cell(row, xi)
			v, ok := cell(row, i)
			f, err := strconv.ParseFloat(v, 64)
			if !ok || err != nil {
				continue
			}
			title := fmt.Sprintf("%s: %s = %s", xv, ys[s], FormatNumber(v))
			if line {
				fmt.Fprintf(b, `<circle class="pt%s" cx="%.1f" cy="%.1f" r="2" fill="%s" data-series="%s" data-x="%s" data-y="%s"><title>%s</title></circle>`, dense, xpos(r), ypos(f), color, esc(ys[s]), esc(xv), esc(v), esc(title))
				continue
			}
			x := xpos(r) - bw*float64(len(yi))/2 + bw*float64(s)
			y0, y1 := ypos(math.Max(0, ymin)), ypos(f)
			fmt.Fprintf(b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" data-series="%s" data-x="%s" data-y="%s"><title>%s</title></rect>`, x, math.Min(y0, y1), math.Max(bw-1, 1), math.Abs(y0-y1), color, esc(ys[s]), esc(xv), esc(v), esc(title))
			if n <= 16 {
				fmt.Fprintf(b, `<text class="barval" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x+bw/2, math.Min(y0, y1)-4, esc(compact(f)))
			}
		}
	}
	if len(yi) > 1 {
		for s := range yi {
			fmt.Fprintf(b, `<rect x="%g" y="%d" width="10" height="10" fill="%s"/><text class="tick" x="%g" y="%d">%s</text>`, left+8, int(top)+s*14, palette[s%len(palette)], left+22, int(top)+s*14+9, esc(ys[s]))
		}
	}
	b.WriteString(`</svg>`)
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
	for k, name := range names {
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
func niceTicks(lo, hi float64, n int) []float64 {
	if hi <= lo {
		hi = lo + 1
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for v := math.Floor(lo/step) * step; v <= hi+step*0.5; v += step {
		out = append(out, math.Round(v/step)*step)
		if v >= hi {
			break
		}
	}
	return out
}

// compact prints an axis value briefly: 1.2M, 35k, 0.25.
func compact(f float64) string {
	a := math.Abs(f)
	switch {
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
