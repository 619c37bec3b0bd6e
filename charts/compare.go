package charts

import (
	"math"
	"strconv"
	"strings"
)

// Compare draws series over the same x labels without stacking them (SPEC
// §3.6: an indicator's flat baseline against its follow-up sums). The first
// series is a dashed reference line; the others are lines over a light
// area, with a marker per point whose <title> gives the series, the x label
// and the value, linked to Links[i] when set. Flagged x labels (Options) get
// hollow markers. A value that is NaN is missing (a poll run without
// follow-up answers): the line has a gap there, not a drop to zero, no
// marker, and the table a dash. A legend names the series; the data table
// has one row per x label and one column per series. Empty input returns the
// zero Chart.
func Compare(xs []string, series []Series, l Labels, o Options) Chart {
	if len(xs) == 0 || len(series) == 0 {
		return Chart{}
	}
	lo, hi := 0.0, 0.0
	links := false
	for _, s := range series {
		for i := range xs {
			lo, hi = math.Min(lo, s.val(i)), math.Max(hi, s.val(i))
			links = links || s.link(i) != ""
		}
	}
	ticks := niceTicks(lo, hi)
	p := newPlot(o, xs, yLabelWidth(ticks, o.num), false)
	p.lo, p.hi = ticks[0], ticks[len(ticks)-1]

	var body strings.Builder
	p.axes(&body, ticks, o.num, xs)
	names := make([]string, len(series))
	for k, s := range series {
		names[k] = s.Name
		c := Palette[k%len(Palette)]
		// One line (and area) per run of present values.
		var line, area strings.Builder
		first, prev := -1, -1
		closeArea := func() {
			if first >= 0 {
				area.WriteString(`L` + f(p.x(prev)) + ` ` + f(p.y(0)) + `L` + f(p.x(first)) + ` ` + f(p.y(0)) + `Z`)
			}
		}
		for i := range xs {
			if s.missing(i) {
				closeArea()
				first = -1
				continue
			}
			cmd := "L"
			if first < 0 {
				cmd, first = "M", i
			}
			pt := cmd + f(p.x(i)) + ` ` + f(p.y(s.val(i)))
			line.WriteString(pt)
			area.WriteString(pt)
			prev = i
		}
		closeArea()
		if k == 0 {
			body.WriteString(`<path class="s0" d="` + line.String() + `" fill="none" stroke="` + c + `" stroke-width="2" stroke-dasharray="6 4"/>`)
			continue
		}
		body.WriteString(`<path d="` + area.String() + `" fill="` + c + `" fill-opacity=".2"/>`)
		body.WriteString(`<path class="s` + strconv.Itoa(k%8) + `" d="` + line.String() + `" fill="none" stroke="` + c + `" stroke-width="2"/>`)
	}
	for k, s := range series {
		p.points(&body, k, func(i int) float64 {
			if s.missing(i) {
				return math.NaN()
			}
			return s.val(i)
		}, func(i int) string { return s.Name + ", " + xs[i] + ": " + o.num(s.val(i)) }, func(i int) string { return s.link(i) })
	}
	h := p.bottom + p.labels
	if len(series) > 1 {
		h += legend(&body, h, names, o) + 4
	}
	h += flagKey(&body, h, len(xs), false, o)

	var b strings.Builder
	svgOpen(&b, h, l, o, links)
	b.WriteString(body.String())
	b.WriteString(`</svg>`)

	t := newTable(l, append([]string{l.X}, names...))
	for i, x := range xs {
		cells := make([]string, len(series))
		for k, s := range series {
			cells[k] = "–"
			if !s.missing(i) {
				cells[k] = o.num(s.val(i))
			}
		}
		u := ""
		for _, s := range series {
			if u == "" {
				u = s.link(i)
			}
		}
		t.row(o.noted(x, i), u, cells...)
	}
	return Chart{SVG: svgHTML(&b), Table: t.html()}
}
