// Package charts draws TracPro's charts as small inline SVG on the server: time
// series (line or stacked area), 100%-stacked columns, horizontal bars,
// histograms and word clouds, plus the figures behind them (SPEC §3.3–§3.4).
//
// Every function is pure: data in, HTML out. A chart comes with a data table in a
// <details> element for screen readers and copying. The package holds no
// user-visible text: titles, descriptions and table headers arrive already
// translated in a Labels value, and numbers are formatted by the caller's
// functions in Options, so locale digits and grouping stay outside.
//
// The SVGs use a 360-unit wide viewBox at width 100%, so one unit is one CSS pixel
// on a 360 px phone; text is at least 11 units. Fills are presentation
// attributes (the app's Content-Security-Policy forbids style attributes), so a
// chart renders without any stylesheet; the classes "chart" and s0…s7 are hooks
// for the app's CSS. In right-to-left layouts (Options.RTL) the x axis runs from
// right to left and the y axis labels sit on the right.
package charts

import (
	"html"
	"html/template"
	"math"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Palette is the Okabe–Ito colour-blind-safe palette, in the order series use it.
var Palette = [8]string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"}

// Layout constants in viewBox units (= CSS px on a 360 px screen).
const (
	width     = 360
	tickFont  = 11  // axis tick labels
	textFont  = 12  // legends, bar labels
	charWidth = 0.6 // estimated glyph width as a fraction of the font size
	gridColor = "#d8dde3"
	mutedText = "#5b6470"
)

// Chart is a drawn chart: the SVG and its data table (a <details> element).
// The zero Chart means "nothing to draw"; callers show their own "No data".
type Chart struct {
	SVG   template.HTML
	Table template.HTML
}

// HTML returns the SVG followed by its data table.
func (c Chart) HTML() template.HTML { return c.SVG + c.Table }

// Empty reports whether there was nothing to draw (a Light word cloud is
// its table alone).
func (c Chart) Empty() bool { return c.SVG == "" && c.Table == "" }

// Labels are the translated texts of a chart. Title and Desc become the SVG's
// <title> and <desc> (Title is also the table caption); Table is the text of the
// <summary> that opens the data table; X heads the first table column (dates,
// categories, ranges, words) and Y the value column when there is a single one.
// Total, when set, adds a total column to PercentStacked tables.
type Labels struct {
	Title, Desc, Table string
	X, Y, Total        string
}

// Options are the behaviour and number formatting shared by all charts.
type Options struct {
	// RTL mirrors the chart for right-to-left languages.
	RTL bool
	// Format formats values (sums, averages, rates, tick labels);
	// default strconv with 1 decimal ("66.7").
	Format func(float64) string
	// Count formats counts; default strconv.Itoa.
	Count func(int) string
	// Percent formats shares in percent (0–100); default Format(v) + "%".
	Percent func(float64) string
	// Digits writes a number already formatted with ASCII digits and "."
	// (a histogram range) in the reader's digits; default as is.
	Digits func(string) string
	// Flagged marks x labels whose data is not real (spoofed poll runs): the
	// time series draw their points hollow, the stacked columns get a dashed
	// outline, and FlagNote (translated, e.g. "Spoofed") follows their
	// tooltips and data table rows and explains the mark under the chart.
	Flagged  []bool
	FlagNote string
	// Light drops what costs bytes but not meaning, for a browser that asks
	// to save data: time axes label at most lightLabels dates (the table
	// has them all) and a word cloud is only its lightWords top words as a
	// table.
	Light bool
}

// What a Light chart keeps.
const (
	lightLabels = 4
	lightWords  = 10
)

// flagged reports whether x label i is flagged.
func (o Options) flagged(i int) bool { return i < len(o.Flagged) && o.Flagged[i] && o.FlagNote != "" }

// noted appends the flag note to s when x label i is flagged.
func (o Options) noted(s string, i int) string {
	if o.flagged(i) {
		return s + " (" + o.FlagNote + ")"
	}
	return s
}

// flagKey explains the flag mark under a chart when some x label is flagged,
// returning its height; dashed draws the columns' dashed outline instead of a
// hollow point.
func flagKey(b *strings.Builder, y float64, n int, dashed bool, o Options) float64 {
	some := false
	for i := 0; i < n; i++ {
		some = some || o.flagged(i)
	}
	if !some {
		return 0
	}
	x, tx := 13.0, 24.0
	if o.RTL {
		x, tx = width-13, width-24
	}
	if dashed {
		b.WriteString(`<rect x="` + f(x-5) + `" y="` + f(y) + `" width="10" height="10" fill="none" stroke="#000" stroke-dasharray="2 2"/>`)
	} else {
		b.WriteString(`<circle cx="` + f(x) + `" cy="` + f(y+5) + `" r="4" fill="#fff" stroke="#000" stroke-width="2"/>`)
	}
	text(b, tx, y+9.5, "", "", o.FlagNote)
	return 18
}

func (o Options) num(v float64) string {
	if o.Format != nil {
		return o.Format(v)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func (o Options) count(n int) string {
	if o.Count != nil {
		return o.Count(n)
	}
	return strconv.Itoa(n)
}

func (o Options) digits(s string) string {
	if o.Digits != nil {
		return o.Digits(s)
	}
	return s
}

func (o Options) pct(v float64) string {
	if o.Percent != nil {
		return o.Percent(v)
	}
	return o.num(v) + "%"
}

// esc escapes text for HTML and XML, dropping characters XML forbids.
func esc(s string) string {
	clean := true
	for _, r := range s {
		if !xmlChar(r) {
			clean = false
			break
		}
	}
	if !clean {
		s = strings.Map(func(r rune) rune {
			if xmlChar(r) {
				return r
			}
			return -1
		}, s)
	}
	return html.EscapeString(s)
}

func xmlChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0xD7FF) ||
		(r >= 0xE000 && r <= 0xFFFD) || r >= 0x10000
}

// safeURL keeps relative and http(s) URLs and rejects every other scheme
// (javascript:, data:), because links are written without html/template.
func safeURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	switch strings.ToLower(u.Scheme) {
	case "", "http", "https":
		return s
	}
	return ""
}

// f formats a coordinate with at most one decimal.
func f(v float64) string {
	v = math.Round(v*10) / 10
	if v == 0 {
		return "0"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// textWidth estimates the rendered width of s at the given font size.
func textWidth(s string, size float64) float64 {
	return float64(utf8.RuneCountInString(s)) * size * charWidth
}

// clip shortens s to at most n runes, ending with an ellipsis.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// svgOpen starts an SVG element with its accessible name and description.
// Charts with links are not role="img", which would hide the links.
func svgOpen(b *strings.Builder, height float64, l Labels, o Options, links bool) {
	b.WriteString(`<svg class="chart" viewBox="0 0 360 `)
	b.WriteString(f(math.Ceil(height)))
	b.WriteString(`" width="100%" font-size="12"`)
	if o.RTL {
		b.WriteString(` direction="rtl"`)
	}
	if !links {
		b.WriteString(` role="img"`)
	}
	b.WriteString(`><title>`)
	b.WriteString(esc(l.Title))
	b.WriteString(`</title><desc>`)
	b.WriteString(esc(l.Desc))
	b.WriteString(`</desc>`)
}

// text writes a <text> element; anchor is "", "start", "middle" or "end" and is
// logical, so it mirrors with the SVG's direction.
func text(b *strings.Builder, x, y float64, anchor, extra, s string) {
	b.WriteString(`<text x="`)
	b.WriteString(f(x))
	b.WriteString(`" y="`)
	b.WriteString(f(y))
	b.WriteString(`"`)
	if anchor != "" && anchor != "start" {
		b.WriteString(` text-anchor="` + anchor + `"`)
	}
	b.WriteString(extra)
	b.WriteString(`>`)
	b.WriteString(esc(s))
	b.WriteString(`</text>`)
}

// table builds the <details> data table: a header row and body rows whose first
// cell is a row header, optionally linked.
type table struct {
	b strings.Builder
}

func newTable(l Labels, headers []string) *table {
	return newTableOpen(l, headers, false)
}

// newTableOpen is newTable, shown open when the table replaces the chart.
func newTableOpen(l Labels, headers []string, open bool) *table {
	t := &table{}
	t.b.WriteString(`<details class="chart-data"`)
	if open {
		t.b.WriteString(` open=""`)
	}
	t.b.WriteString(`><summary>`)
	t.b.WriteString(esc(l.Table))
	// Focusable: a keyboard can scroll a table wider than the screen (it has no link).
	t.b.WriteString(`</summary><div class="scroll" tabindex="0"><table><caption>`)
	t.b.WriteString(esc(l.Title))
	t.b.WriteString(`</caption><thead><tr>`)
	for _, h := range headers {
		t.b.WriteString(`<th scope="col">` + esc(h) + `</th>`)
	}
	t.b.WriteString(`</tr></thead><tbody>`)
	return t
}

func (t *table) row(head, link string, cells ...string) {
	t.b.WriteString(`<tr><th scope="row">`)
	if u := safeURL(link); u != "" {
		t.b.WriteString(`<a href="` + esc(u) + `">` + esc(head) + `</a>`)
	} else {
		t.b.WriteString(esc(head))
	}
	t.b.WriteString(`</th>`)
	for _, c := range cells {
		t.b.WriteString(`<td>` + esc(c) + `</td>`)
	}
	t.b.WriteString(`</tr>`)
}

func (t *table) html() template.HTML {
	t.b.WriteString(`</tbody></table></div></details>`)
	return template.HTML(t.b.String())
}

// legend lays out colour swatches and names in rows from the start edge,
// returning its height. Names longer than 24 runes are clipped (the table has
// them in full).
func legend(b *strings.Builder, y float64, names []string, o Options) float64 {
	if len(names) < 2 {
		return 0
	}
	const row = 18
	x, h := 8.0, float64(row)
	b.WriteString(`<g class="legend">`)
	for i, n := range names {
		n = clip(n, 24)
		w := 14 + textWidth(n, textFont) + 12
		if x > 8 && x+w > width-8 {
			x, y, h = 8, y+row, h+row
		}
		rx, tx := x, x+14
		if o.RTL {
			rx, tx = width-x-10, width-x-14
		}
		b.WriteString(`<rect x="` + f(rx) + `" y="` + f(y) + `" width="10" height="10" fill="` + Palette[i%len(Palette)] + `"/>`)
		text(b, tx, y+9.5, "", "", n)
		x += w
	}
	b.WriteString(`</g>`)
	return h
}

// niceTicks returns about four round tick values covering [lo, hi].
func niceTicks(lo, hi float64) []float64 {
	if hi <= lo {
		hi = lo + 1
	}
	raw := (hi - lo) / 4
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag * 10
	for _, m := range []float64{1, 2, 2.5, 5} {
		if raw <= m*mag {
			step = m * mag
			break
		}
	}
	var ticks []float64
	start := math.Floor(lo/step) * step
	for v := start; v < hi+step*0.999; v += step {
		// 12 significant digits drop the float noise of k × step (0.30000000000000004).
		t, _ := strconv.ParseFloat(strconv.FormatFloat(math.Round(v/step)*step, 'g', 12, 64), 64)
		ticks = append(ticks, t)
	}
	return ticks
}

func svgHTML(b *strings.Builder) template.HTML { return template.HTML(b.String()) }
