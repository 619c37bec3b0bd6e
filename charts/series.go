package charts

import (
	"math"
	"strconv"
	"strings"
)

// Series is one named row of values over the x labels of a time series. Links,
// when set, holds one URL per point (empty = no link): the point's marker (or,
// with several series, the date's column) links to it, e.g. the poll run with the
// filters carried along. The first series' links are the ones used for columns.
type Series struct {
	Name   string
	Values []float64
	Links  []string
}

// val is the value at x label i: 0 when missing, NaN or infinite.
func (s Series) val(i int) float64 {
	if i < len(s.Values) && !math.IsNaN(s.Values[i]) && !math.IsInf(s.Values[i], 0) {
		return s.Values[i]
	}
	return 0
}

// missing reports whether the value at x label i is NaN (no value).
func (s Series) missing(i int) bool { return i < len(s.Values) && math.IsNaN(s.Values[i]) }

// link is the (safe) link of x label i, "" when none.
func (s Series) link(i int) string {
	if i < len(s.Links) {
		return safeURL(s.Links[i])
	}
	return ""
}

// Category is one category's counts over the x labels of PercentStacked.
type Category struct {
	Name   string
	Counts []int
}

// plot is the geometry shared by the charts with a vertical value axis.
type plot struct {
	o              Options
	n              int
	start, end     float64 // logical margins: start side holds the y labels
	inset          float64 // padding inside the plot before the first point
	step           float64
	columns        bool
	top, bottom    float64
	lo, hi         float64
	rotate         bool
	every          int
	labelW, labels float64 // widest x label; height the x labels take
}

// newPlot plans the horizontal layout for n x labels: when they fit side by side
// they are centred under their points, otherwise rotated 45° and thinned so that
// rotated labels are at least 30 units apart (the newest is always labelled;
// the data table has every date); Light charts label at most lightLabels.
func newPlot(o Options, xs []string, yLabelW float64, columns bool) *plot {
	p := &plot{o: o, n: len(xs), start: yLabelW + 8, end: 10, columns: columns, top: 8, bottom: 168}
	for _, s := range xs {
		p.labelW = math.Max(p.labelW, textWidth(clip(s, 16), tickFont))
	}
	p.every = 1
	p.fit(false)
	if p.n > 1 && p.step < p.labelW+8 {
		p.rotate = true
		p.start = math.Max(p.start, p.labelW*0.71+4)
		p.fit(true)
		p.every = int(math.Ceil(30 / p.step))
		p.labels = math.Ceil(p.labelW*0.71) + 16
	} else {
		p.labels = 18
	}
	if o.Light && p.n > lightLabels {
		p.every = max(p.every, (p.n+lightLabels-1)/lightLabels)
	}
	return p
}

func (p *plot) fit(rotated bool) {
	w := width - p.start - p.end
	p.inset = 0
	switch {
	case p.columns:
		p.step = w / float64(p.n)
	case p.n == 1:
		p.inset = w / 2
	default:
		if !rotated {
			p.inset = p.labelW / 2
		}
		p.step = (w - 2*p.inset) / float64(p.n-1)
	}
}

// x is the physical x of point (or column centre) i, mirrored in RTL.
func (p *plot) x(i int) float64 {
	off := p.inset + float64(i)*p.step
	if p.columns {
		off = (float64(i) + 0.5) * p.step
	}
	if p.o.RTL {
		return width - p.start - off
	}
	return p.start + off
}

func (p *plot) y(v float64) float64 {
	return p.bottom - (v-p.lo)/(p.hi-p.lo)*(p.bottom-p.top)
}

// axes draws the gridlines, the y tick labels and the x labels.
func (p *plot) axes(b *strings.Builder, ticks []float64, tick func(float64) string, xs []string) {
	x0, x1 := p.start, width-p.end
	lx := p.start - 4
	if p.o.RTL {
		x0, x1 = p.end, width-p.start
		lx = width - p.start + 4
	}
	b.WriteString(`<path d="`)
	for _, t := range ticks {
		b.WriteString(`M` + f(x0) + ` ` + f(p.y(t)) + `H` + f(x1))
	}
	b.WriteString(`" stroke="` + gridColor + `"/><g font-size="11" fill="` + mutedText + `" text-anchor="end">`)
	for _, t := range ticks {
		text(b, lx, p.y(t)+4, "", "", tick(t))
	}
	b.WriteString(`</g><g font-size="11" fill="` + mutedText + `" text-anchor="`)
	if p.rotate {
		b.WriteString(`end">`)
	} else {
		b.WriteString(`middle">`)
	}
	ly := p.bottom + 14
	// Rotated labels share one rotated group: each is placed at its point
	// turned back by the group's angle (cheaper than a transform per label).
	deg := -45.0
	if p.o.RTL {
		deg = 45
	}
	if p.rotate {
		b.WriteString(`<g transform="rotate(` + f(deg) + `)">`)
	}
	sin, cos := math.Sincos(-deg * math.Pi / 180)
	for i, s := range xs {
		if (p.n-1-i)%p.every != 0 {
			continue
		}
		x, y := p.x(i), ly
		if p.rotate {
			x += 3
			if p.o.RTL {
				x -= 6
			}
			x, y = x*cos-y*sin, x*sin+y*cos
		}
		text(b, x, y, "", "", clip(s, 16))
	}
	if p.rotate {
		b.WriteString(`</g>`)
	}
	b.WriteString(`</g>`)
}

// minTarget is the least width of a link's target in a chart: WCAG 2.5.5's
// 44 CSS px: a chart is 360 units wide in the 336 px of a 360 px phone's
// page, so 48 units are 44.8 px.
const minTarget = 48

// target is the x extent of the tap target of x label i: w wide, widened to
// minTarget and kept inside the chart.
func (p *plot) target(i int, w float64) (float64, float64) {
	w = math.Max(w, minTarget)
	l := math.Min(math.Max(p.x(i)-w/2, 0), width-w)
	return l, l + w
}

// column is an invisible column of the plot's height between x0 and x1 (a
// link's target) titled tip, as a path of whole units.
func (p *plot) column(x0, x1 float64, tip string) string {
	return `<path d="` + p.columnD(x0, x1) + `"><title>` + esc(tip) + `</title></path>`
}

// columnD is the path data of a column of the plot's height between x0 and x1.
func (p *plot) columnD(x0, x1 float64) string {
	l, r := int(math.Round(x0)), int(math.Round(x1))
	top, h := int(math.Round(p.top)), int(math.Round(p.bottom-p.top))
	return `M` + strconv.Itoa(l) + ` ` + strconv.Itoa(top) + `h` + strconv.Itoa(r-l) + `v` + strconv.Itoa(h) + `h` + strconv.Itoa(l-r) + `z`
}

// yLabelWidth is the width of the widest tick label.
func yLabelWidth(ticks []float64, tick func(float64) string) float64 {
	w := 0.0
	for _, t := range ticks {
		w = math.Max(w, textWidth(tick(t), tickFont))
	}
	return w
}

// TimeSeries draws values over ordered x labels (poll run dates): a line with
// point markers for one series, stacked areas for several (SPEC §3.3). Each
// marker has a <title> with its value and links to the series' Links[i] when
// set. Values missing at the end of a series count as 0. The data table has one
// row per x label and one column per series (headed Labels.Y for a single
// unnamed series). Empty x returns the zero Chart.
func TimeSeries(xs []string, series []Series, l Labels, o Options) Chart {
	if len(xs) == 0 || len(series) == 0 {
		return Chart{}
	}
	// cum[k][i] is the top of series k at point i (stacked from series 0 up).
	cum := make([][]float64, len(series))
	lo, hi := 0.0, 0.0
	links := false
	for k, s := range series {
		cum[k] = make([]float64, len(xs))
		for i := range xs {
			base := 0.0
			if k > 0 {
				base = cum[k-1][i]
			}
			cum[k][i] = base + s.val(i)
			lo, hi = math.Min(lo, cum[k][i]), math.Max(hi, cum[k][i])
			links = links || s.link(i) != ""
		}
	}
	ticks := niceTicks(lo, hi)
	p := newPlot(o, xs, yLabelWidth(ticks, o.num), false)
	p.lo, p.hi = ticks[0], ticks[len(ticks)-1]

	names := make([]string, len(series))
	for k, s := range series {
		names[k] = s.Name
	}
	var body strings.Builder
	p.axes(&body, ticks, o.num, xs)
	stacked := len(series) > 1
	// Without negative values each band is drawn as an opaque area from
	// its top down to zero, the top series first and each lower one over
	// it: the same picture as bands, with half the path data.
	overlaid := stacked && lo >= 0
	order := make([]int, len(series))
	for k := range order {
		order[k] = k
		if overlaid {
			order[k] = len(series) - 1 - k
		}
	}
	for _, k := range order {
		c := Palette[k%len(Palette)]
		body.WriteString(`<path class="s` + strconv.Itoa(k%8) + `" d="`)
		var pts [][2]float64
		for i := range xs {
			pts = append(pts, [2]float64{p.x(i), p.y(cum[k][i])})
		}
		switch {
		case overlaid:
			pts = append(pts, [2]float64{p.x(len(xs) - 1), p.y(0)}, [2]float64{p.x(0), p.y(0)})
		case stacked:
			for i := len(xs) - 1; i >= 0; i-- {
				bottom := p.y(0)
				if k > 0 {
					bottom = p.y(cum[k-1][i])
				}
				pts = append(pts, [2]float64{p.x(i), bottom})
			}
		}
		body.WriteString(polyline(pts))
		switch {
		case overlaid:
			body.WriteString(`Z" fill="` + c + `"/>`)
		case stacked:
			body.WriteString(`Z" fill="` + c + `" fill-opacity=".8"/>`)
		default:
			body.WriteString(`" fill="none" stroke="` + c + `" stroke-width="2"/>`)
		}
	}
	if stacked {
		// Several series: one link per poll run (a column as tall as the
		// plot, titled with its date) instead of a marker per point; the
		// values are in the data table.
		if links {
			body.WriteString(`<g fill="#fff" fill-opacity="0">`)
			w := p.step
			if len(xs) == 1 {
				w = width - p.start - p.end
			}
			for i, x := range xs {
				u := series[0].link(i)
				if u == "" {
					continue
				}
				l, r := p.target(i, w)
				body.WriteString(`<a href="` + esc(u) + `">` + p.column(l, r, o.noted(x, i)) + `</a>`)
			}
			body.WriteString(`</g>`)
		}
		p.flagOutlines(&body, 4)
	}
	for k, s := range series {
		if stacked {
			break
		}
		p.points(&body, k, func(i int) float64 { return cum[k][i] }, func(i int) string {
			tip := xs[i] + ": " + o.num(s.val(i))
			if stacked {
				tip = s.Name + ", " + tip
			}
			return tip
		}, func(i int) string { return s.link(i) })
	}
	h := p.bottom + p.labels
	if stacked {
		h += legend(&body, h, names, o) + 4
	}
	h += flagKey(&body, h, len(xs), stacked, o)

	var b strings.Builder
	svgOpen(&b, h, l, o, links)
	b.WriteString(body.String())
	b.WriteString(`</svg>`)

	headers := []string{l.X}
	if stacked {
		headers = append(headers, names...)
	} else if series[0].Name != "" {
		headers = append(headers, series[0].Name)
	} else {
		headers = append(headers, l.Y)
	}
	t := newTable(l, headers)
	for i, x := range xs {
		cells := make([]string, len(series))
		for k, s := range series {
			cells[k] = o.num(s.val(i))
		}
		t.row(o.noted(x, i), "", cells...) // the chart's markers or columns carry the links
	}
	return Chart{SVG: svgHTML(&b), Table: t.html()}
}

// PercentStacked draws each x label (poll run) as a column split into the
// categories' shares of that column's total (100%-stacked, SPEC §3.3 multiple
// choice). Every segment's <title> gives the category, its share and its count;
// links (one per x label, optional) wrap the whole column. The data table lists
// the counts, plus a total column when Labels.Total is set. Empty input returns
// the zero Chart.
func PercentStacked(xs []string, cats []Category, links []string, l Labels, o Options) Chart {
	if len(xs) == 0 || len(cats) == 0 {
		return Chart{}
	}
	cnt := func(c Category, i int) int {
		if i < len(c.Counts) && c.Counts[i] > 0 {
			return c.Counts[i]
		}
		return 0
	}
	totals := make([]int, len(xs))
	for _, c := range cats {
		for i := range xs {
			totals[i] += cnt(c, i)
		}
	}
	link := func(i int) string {
		if i < len(links) {
			return safeURL(links[i])
		}
		return ""
	}
	ticks := []float64{0, 25, 50, 75, 100}
	tick := func(v float64) string {
		if v == 25 || v == 75 {
			return ""
		}
		return o.pct(v)
	}
	p := newPlot(o, xs, yLabelWidth(ticks, tick), true)
	p.lo, p.hi = 0, 100
	bw := math.Min(p.step*0.7, 48)

	var body strings.Builder
	p.axes(&body, ticks, tick, xs)
	// One path per category: its segment of every column.
	acc := make([]int, len(xs))
	for k, c := range cats {
		var d strings.Builder
		for i := range xs {
			n := cnt(c, i)
			if n == 0 {
				continue
			}
			y0, y1 := p.y(100*float64(acc[i])/float64(totals[i])), p.y(100*float64(acc[i]+n)/float64(totals[i]))
			acc[i] += n
			d.WriteString(`M` + f(p.x(i)-bw/2) + ` ` + f(y0) + `V` + f(y1) + `h` + f(bw) + `V` + f(y0) + `z`)
		}
		if d.Len() > 0 {
			body.WriteString(`<path class="s` + strconv.Itoa(k%8) + `" fill="` + Palette[k%len(Palette)] + `" d="` + d.String() + `"/>`)
		}
	}
	// A column links to its poll run, titled with its date (the table has
	// the counts and totals).
	anyLink := false
	for i, x := range xs {
		if totals[i] == 0 {
			continue
		}
		l, r := p.target(i, bw)
		col := p.column(l, r, o.noted(x, i))
		if !anyLink {
			body.WriteString(`<g fill="#fff" fill-opacity="0">`)
			anyLink = true
		}
		if u := link(i); u != "" {
			body.WriteString(`<a href="` + esc(u) + `">` + col + `</a>`)
		} else {
			body.WriteString(col)
		}
	}
	if anyLink {
		body.WriteString(`</g>`)
	}
	p.flagOutlines(&body, bw/2)
	anyLink = false
	for i := range xs {
		anyLink = anyLink || (totals[i] > 0 && link(i) != "")
	}
	names := make([]string, len(cats))
	for k, c := range cats {
		names[k] = c.Name
	}
	h := p.bottom + p.labels
	h += legend(&body, h, names, o) + 4
	h += flagKey(&body, h, len(xs), true, o)

	var b strings.Builder
	svgOpen(&b, h, l, o, anyLink)
	b.WriteString(body.String())
	b.WriteString(`</svg>`)

	headers := append([]string{l.X}, names...)
	if l.Total != "" {
		headers = append(headers, l.Total)
	}
	t := newTable(l, headers)
	for i, x := range xs {
		cells := make([]string, 0, len(cats)+1)
		for _, c := range cats {
			cells = append(cells, o.count(cnt(c, i)))
		}
		if l.Total != "" {
			cells = append(cells, o.count(totals[i]))
		}
		t.row(o.noted(x, i), "", cells...) // the chart's columns carry the links
	}
	return Chart{SVG: svgHTML(&b), Table: t.html()}
}

// points draws series k's points, one per x: a circle at height y(i) in
// the series' colour titled tip(i) (with the flag note; hollow when the x is
// flagged), inside a link when url(i) is not empty; none where y(i) is
// NaN (a missing value). A link's target is the
// point's column, as tall as the plot and at least minTarget wide
// (transparent): a 7 px dot is too small to tap.
func (p *plot) points(body *strings.Builder, k int, y func(int) float64, tip func(int) string, url func(int) string) {
	c := Palette[k%len(Palette)]
	body.WriteString(`<g fill="` + c + `" stroke="#fff">`)
	for i := 0; i < p.n; i++ {
		if math.IsNaN(y(i)) {
			continue
		}
		u := url(i)
		if u != "" {
			l, r := p.target(i, p.step)
			body.WriteString(`<a href="` + esc(u) + `"><path d="` + p.columnD(l, r) + `" opacity="0"/>`)
		}
		hollow := ""
		if p.o.flagged(i) {
			hollow = ` fill="#fff" stroke="` + c + `" stroke-width="2"`
		}
		body.WriteString(`<circle cx="` + f(p.x(i)) + `" cy="` + f(p.y(y(i))) + `" r="4"` + hollow + `><title>` + esc(p.o.noted(tip(i), i)) + `</title></circle>`)
		if u != "" {
			body.WriteString(`</a>`)
		}
	}
	body.WriteString(`</g>`)
}

// flagOutlines draws a dashed outline, half wide either side of its x, around
// the whole plot height at every flagged x label (spoofed poll runs): the
// mark of stacked charts, which have no point markers to draw hollow.
func (p *plot) flagOutlines(body *strings.Builder, half float64) {
	some := false
	for i := 0; i < p.n; i++ {
		if !p.o.flagged(i) {
			continue
		}
		if !some {
			body.WriteString(`<g fill="none" stroke="#000" stroke-width="1.5" stroke-dasharray="4 3">`)
			some = true
		}
		body.WriteString(`<path d="` + p.columnD(p.x(i)-half, p.x(i)+half) + `"/>`)
	}
	if some {
		body.WriteString(`</g>`)
	}
}

// polyline writes path data through the points: whole units (one CSS pixel
// on a 360 px phone), the first point absolute and the others relative to
// the previous one, so a 13-point line costs a few dozen bytes.
func polyline(pts [][2]float64) string {
	var b strings.Builder
	px, py := 0, 0
	for i, pt := range pts {
		x, y := int(math.Round(pt[0])), int(math.Round(pt[1]))
		if i == 0 {
			b.WriteString("M" + strconv.Itoa(x) + " " + strconv.Itoa(y) + "l")
		} else {
			dx, dy := x-px, y-py
			if i > 1 && dx >= 0 {
				b.WriteByte(' ')
			}
			b.WriteString(strconv.Itoa(dx))
			if dy >= 0 {
				b.WriteByte(' ')
			}
			b.WriteString(strconv.Itoa(dy))
		}
		px, py = x, y
	}
	if len(pts) == 1 {
		return strings.TrimSuffix(b.String(), "l")
	}
	return b.String()
}
