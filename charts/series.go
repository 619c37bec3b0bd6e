package charts

import (
	"math"
	"strconv"
	"strings"
)

// Series is one named row of values over the x labels of a time series. Links,
// when set, holds one URL per point (empty = no link): the point's marker and the
// table's row header link to it, e.g. the poll run with the filters carried along.
type Series struct {
	Name   string
	Values []float64
	Links  []string
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
// rotated labels are at least 22 units apart (the newest is always labelled).
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
		p.every = int(math.Ceil(22 / p.step))
		p.labels = math.Ceil(p.labelW*0.71) + 16
	} else {
		p.labels = 18
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
	for i, s := range xs {
		if (p.n-1-i)%p.every != 0 {
			continue
		}
		x := p.x(i)
		extra := ""
		if p.rotate {
			deg := "-45 "
			if p.o.RTL {
				deg = "45 "
			}
			x += 3
			if p.o.RTL {
				x -= 6
			}
			extra = ` transform="rotate(` + deg + f(x) + ` ` + f(ly) + `)"`
		}
		text(b, x, ly, "", extra, clip(s, 16))
	}
	b.WriteString(`</g>`)
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
	val := func(s Series, i int) float64 {
		if i < len(s.Values) && !math.IsNaN(s.Values[i]) && !math.IsInf(s.Values[i], 0) {
			return s.Values[i]
		}
		return 0
	}
	link := func(s Series, i int) string {
		if i < len(s.Links) {
			return safeURL(s.Links[i])
		}
		return ""
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
			cum[k][i] = base + val(s, i)
			lo, hi = math.Min(lo, cum[k][i]), math.Max(hi, cum[k][i])
			links = links || link(s, i) != ""
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
	for k := range series {
		c := Palette[k%len(Palette)]
		body.WriteString(`<path class="s` + strconv.Itoa(k%8) + `" d="`)
		for i := range xs {
			cmd := "L"
			if i == 0 {
				cmd = "M"
			}
			body.WriteString(cmd + f(p.x(i)) + ` ` + f(p.y(cum[k][i])))
		}
		if stacked {
			for i := len(xs) - 1; i >= 0; i-- {
				bottom := p.y(0)
				if k > 0 {
					bottom = p.y(cum[k-1][i])
				}
				body.WriteString(`L` + f(p.x(i)) + ` ` + f(bottom))
			}
			body.WriteString(`Z" fill="` + c + `" fill-opacity=".8"/>`)
		} else {
			body.WriteString(`" fill="none" stroke="` + c + `" stroke-width="2"/>`)
		}
	}
	for k, s := range series {
		p.points(&body, k, func(i int) float64 { return cum[k][i] }, func(i int) string {
			tip := xs[i] + ": " + o.num(val(s, i))
			if stacked {
				tip = s.Name + ", " + tip
			}
			return tip
		}, func(i int) string { return link(s, i) })
	}
	h := p.bottom + p.labels
	if stacked {
		h += legend(&body, h, names, o) + 4
	}
	h += flagKey(&body, h, len(xs), false, o)

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
			cells[k] = o.num(val(s, i))
		}
		t.row(o.noted(x, i), link(series[0], i), cells...)
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
	anyLink := false
	for i, x := range xs {
		if totals[i] == 0 {
			continue
		}
		u := link(i)
		if u != "" {
			anyLink = true
			body.WriteString(`<a href="` + esc(u) + `">`)
		} else {
			body.WriteString(`<g>`)
		}
		acc := 0
		for k, c := range cats {
			n := cnt(c, i)
			if n == 0 {
				continue
			}
			share := 100 * float64(n) / float64(totals[i])
			y0, y1 := p.y(100*float64(acc)/float64(totals[i])), p.y(100*float64(acc+n)/float64(totals[i]))
			acc += n
			tip := o.noted(x, i) + ", " + c.Name + ": " + o.pct(share) + " (" + o.count(n) + ")"
			body.WriteString(`<rect x="` + f(p.x(i)-bw/2) + `" y="` + f(y1) + `" width="` + f(bw) + `" height="` + f(y0-y1) +
				`" fill="` + Palette[k%len(Palette)] + `"><title>` + esc(tip) + `</title></rect>`)
		}
		if o.flagged(i) {
			body.WriteString(`<rect x="` + f(p.x(i)-bw/2) + `" y="` + f(p.y(100)) + `" width="` + f(bw) + `" height="` + f(p.y(0)-p.y(100)) +
				`" fill="none" stroke="#000" stroke-width="1.5" stroke-dasharray="4 3"/>`)
		}
		if u != "" {
			body.WriteString(`</a>`)
		} else {
			body.WriteString(`</g>`)
		}
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
		t.row(o.noted(x, i), link(i), cells...)
	}
	return Chart{SVG: svgHTML(&b), Table: t.html()}
}

// points draws series k's points, one per x: a circle at height y(i) in
// the series' colour titled tip(i) (with the flag note; hollow when the x is
// flagged), inside a link when url(i) is not empty.
func (p *plot) points(body *strings.Builder, k int, y func(int) float64, tip func(int) string, url func(int) string) {
	c := Palette[k%len(Palette)]
	body.WriteString(`<g fill="` + c + `" stroke="#fff">`)
	for i := 0; i < p.n; i++ {
		u := url(i)
		if u != "" {
			body.WriteString(`<a href="` + esc(u) + `">`)
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
