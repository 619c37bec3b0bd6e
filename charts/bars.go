package charts

import (
	"math"
	"strconv"
	"strings"
)

// Bar is one labelled count of a bar chart.
type Bar struct {
	Label string
	Count int
}

// Bars draws horizontal bars, one row per category in the order given, each
// with its label above the bar (so long labels stay readable at 360 px; labels
// over 45 runes are clipped, the <title> and table have them in full) and its
// count at the bar's end (SPEC §3.4 category counts). Empty input returns the
// zero Chart.
func Bars(bars []Bar, l Labels, o Options) Chart {
	if len(bars) == 0 {
		return Chart{}
	}
	const pad, row = 8.0, 36.0
	top, valW := 0, 0.0
	for _, br := range bars {
		if br.Count > top {
			top = br.Count
		}
		valW = math.Max(valW, textWidth(o.count(br.Count), textFont))
	}
	full := width - 2*pad - valW - 6
	var b strings.Builder
	svgOpen(&b, float64(len(bars))*row+4, l, o, false)
	b.WriteString(`<g fill="` + Palette[0] + `">`)
	var labels strings.Builder
	for i, br := range bars {
		y := float64(i)*row + 4
		n := max(br.Count, 0)
		w := 0.0
		if top > 0 {
			w = float64(n) / float64(top) * full
		}
		if n > 0 {
			w = math.Max(w, 1)
			x := pad
			if o.RTL {
				x = width - pad - w
			}
			b.WriteString(`<rect x="` + f(x) + `" y="` + f(y+16) + `" width="` + f(w) + `" height="14"><title>` +
				esc(br.Label+": "+o.count(br.Count)) + `</title></rect>`)
		}
		lx, vx := pad, pad+w+4
		if o.RTL {
			lx, vx = width-pad, width-pad-w-4
		}
		text(&labels, lx, y+12, "", "", clip(br.Label, 45))
		text(&labels, vx, y+27, "", ` fill="`+mutedText+`"`, o.count(br.Count))
	}
	b.WriteString(`</g>`)
	b.WriteString(labels.String())
	b.WriteString(`</svg>`)

	t := newTable(l, []string{l.X, l.Y})
	for _, br := range bars {
		t.row(br.Label, "", o.count(br.Count))
	}
	return Chart{SVG: svgHTML(&b), Table: t.html()}
}

// Bin is one histogram bin: values in [Lo, Hi) (the last bin also holds Hi),
// labelled "lo–hi" with both ends rounded to 2 decimals ("3–5.5"). Bins of
// whole numbers hold the whole numbers from Lo to Hi, both included, and are
// labelled with them ("4–11", or "4" for one number).
type Bin struct {
	Lo, Hi float64
	Count  int
	Label  string
}

// Bins is the automatic histogram of SPEC §3.4: ceil(√n) bins of equal width
// over [min, max] of the finite values (NaN and ±Inf are ignored). When every
// value is equal the range is widened to [v-0.5, v+0.5], as numpy does. When
// every value is a whole number (head counts, ages) the bins are ranges of
// whole numbers of equal size instead, at most ceil(√n) of them, so no edge
// falls between two possible answers ("4–11", not "4-11.29"). No values → nil.
func Bins(values []float64) []Bin {
	var vs []float64
	whole := true
	for _, v := range values {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			vs = append(vs, v)
			whole = whole && v == math.Trunc(v) && math.Abs(v) < 1<<53
		}
	}
	if len(vs) == 0 {
		return nil
	}
	lo, hi := vs[0], vs[0]
	for _, v := range vs {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	k := int(math.Ceil(math.Sqrt(float64(len(vs)))))
	if whole {
		return wholeBins(vs, lo, hi, k)
	}
	if lo == hi {
		lo, hi = lo-0.5, hi+0.5
	}
	step := (hi - lo) / float64(k)
	edge := func(i int) float64 {
		if i == k {
			return hi
		}
		return lo + float64(i)*step
	}
	bins := make([]Bin, k)
	for i := range bins {
		bins[i].Lo, bins[i].Hi = edge(i), edge(i+1)
		bins[i].Label = round2(bins[i].Lo) + "–" + round2(bins[i].Hi)
	}
	for _, v := range vs {
		i := min(int((v-lo)/step), k-1)
		// The division can land one bin off at an edge; the edges decide.
		if i > 0 && v < edge(i) {
			i--
		} else if i < k-1 && v >= edge(i+1) {
			i++
		}
		bins[i].Count++
	}
	return bins
}

// wholeBins splits the whole numbers lo…hi into at most k ranges of equal
// size (the last may be shorter) and counts vs into them.
func wholeBins(vs []float64, lo, hi float64, k int) []Bin {
	span := hi - lo + 1
	size := math.Ceil(span / float64(k))
	n := int(math.Ceil(span / size))
	bins := make([]Bin, n)
	for i := range bins {
		a := lo + float64(i)*size
		b := math.Min(a+size-1, hi)
		bins[i].Lo, bins[i].Hi, bins[i].Label = a, b, round2(a)
		if b > a {
			bins[i].Label += "–" + round2(b)
		}
	}
	for _, v := range vs {
		bins[min(int((v-lo)/size), n-1)].Count++
	}
	return bins
}

func round2(v float64) string {
	v = math.Round(v*100) / 100
	if v == 0 {
		v = 0 // no "-0"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// maxBarBins is the most bins Histogram draws as labelled bars; more are
// drawn as columns.
const maxBarBins = 12

// Histogram draws Bins(values) (SPEC §3.4 numeric questions of a single poll
// run): up to maxBarBins bins as bars labelled "lo-hi"; more (√n bins: 135
// for 18,000 answers) as adjacent columns over a value axis labelled at both
// ends and the middle, with a count axis, in one path — a bar per bin would
// be thousands of pixels tall on a phone. The data table lists every bin
// with answers. Range labels are written with Options.Digits. No finite
// values returns the zero Chart.
func Histogram(values []float64, l Labels, o Options) Chart {
	bins := Bins(values)
	if len(bins) <= maxBarBins {
		bars := make([]Bar, len(bins))
		for i, bn := range bins {
			bars[i] = Bar{Label: o.digits(bn.Label), Count: bn.Count}
		}
		return Bars(bars, l, o)
	}
	top := 0
	for _, bn := range bins {
		top = max(top, bn.Count)
	}
	ticks := niceTicks(0, float64(top))
	tick := func(v float64) string {
		if v == math.Trunc(v) {
			return o.count(int(v))
		}
		return o.num(v)
	}
	p := &plot{o: o, n: len(bins), start: yLabelWidth(ticks, tick) + 8, end: 10, columns: true, top: 8, bottom: 128, labels: 18}
	p.fit(false)
	p.lo, p.hi = ticks[0], ticks[len(ticks)-1]
	var body strings.Builder
	p.axes(&body, ticks, tick, nil)
	body.WriteString(`<path fill="` + Palette[0] + `" d="`)
	for i, bn := range bins {
		if bn.Count == 0 {
			continue
		}
		x := p.x(i) - p.step/2
		body.WriteString(`M` + f(x) + ` ` + f(p.bottom) + `V` + f(p.y(float64(bn.Count))) + `h` + f(p.step) + `V` + f(p.bottom) + `z`)
	}
	body.WriteString(`"/><g font-size="11" fill="` + mutedText + `">`)
	ly := p.bottom + 14
	first, last := p.x(0)-p.step/2, p.x(len(bins)-1)+p.step/2
	if o.RTL {
		first, last = p.x(0)+p.step/2, p.x(len(bins)-1)-p.step/2
	}
	text(&body, first, ly, "start", "", o.digits(round2(bins[0].Lo)))
	text(&body, (first+last)/2, ly, "middle", "", o.digits(round2((bins[0].Lo+bins[len(bins)-1].Hi)/2)))
	text(&body, last, ly, "end", "", o.digits(round2(bins[len(bins)-1].Hi)))
	body.WriteString(`</g>`)

	var b strings.Builder
	svgOpen(&b, p.bottom+p.labels+4, l, o, false)
	b.WriteString(body.String())
	b.WriteString(`</svg>`)
	t := newTable(l, []string{l.X, l.Y})
	for _, bn := range bins {
		if bn.Count > 0 {
			t.row(o.digits(bn.Label), "", o.count(bn.Count))
		}
	}
	return Chart{SVG: svgHTML(&b), Table: t.html()}
}
