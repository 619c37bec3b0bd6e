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
// hollow markers. A legend names the series; the data table has one row per x
// label and one column per series. Empty input returns the zero Chart.
func Compare(xs []string, series []Series, l Labels, o Options) Chart {
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
	lo, hi := 0.0, 0.0
	links := false
	for _, s := range series {
		for i := range xs {
			lo, hi = math.Min(lo, val(s, i)), math.Max(hi, val(s, i))
			links = links || link(s, i) != ""
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
		var line strings.Builder
		for i := range xs {
			cmd := "L"
			if i == 0 {
				cmd = "M"
			}
			line.WriteString(cmd + f(p.x(i)) + ` ` + f(p.y(val(s, i))))
		}
		if k == 0 {
			body.WriteString(`<path class="s0" d="` + line.String() + `" fill="none" stroke="` + c + `" stroke-width="2" stroke-dasharray="6 4"/>`)
			continue
		}
		area := line.String() + `L` + f(p.x(len(xs)-1)) + ` ` + f(p.y(0)) + `L` + f(p.x(0)) + ` ` + f(p.y(0)) + `Z`
		body.WriteString(`<path d="` + area + `" fill="` + c + `" fill-opacity=".2"/>`)
		body.WriteString(`<path class="s` + strconv.Itoa(k%8) + `" d="` + line.String() + `" fill="none" stroke="` + c + `" stroke-width="2"/>`)
	}
	for k, s := range series {
		p.points(&body, k, func(i int) float64 { return val(s, i) }, func(i int) string { return s.Name + ", " + xs[i] + ": " + o.num(val(s, i)) },
			func(i int) string { return link(s, i) })
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
			cells[k] = o.num(val(s, i))
		}
		u := ""
		for _, s := range series {
			if u == "" {
				u = link(s, i)
			}
		}
		t.row(o.noted(x, i), u, cells...)
	}
	return Chart{SVG: svgHTML(&b), Table: t.html()}
}
