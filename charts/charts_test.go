package charts

import (
	"encoding/xml"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// node is a generic XML element tree for inspecting the output.
type node struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Children []node     `xml:",any"`
	Text     string     `xml:",chardata"`
}

func (n node) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (n node) num(t *testing.T, name string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(n.attr(name), 64)
	if err != nil {
		t.Fatalf("%s %s=%q: %v", n.XMLName.Local, name, n.attr(name), err)
	}
	return v
}

// all returns every descendant element named name, in document order.
func (n node) all(name string) []node {
	var out []node
	for _, c := range n.Children {
		if c.XMLName.Local == name {
			out = append(out, c)
		}
		out = append(out, c.all(name)...)
	}
	return out
}

// text is the concatenated character data of n and its descendants.
func (n node) text() string {
	s := n.Text
	for _, c := range n.Children {
		s += c.text()
	}
	return s
}

// parse checks that s is well-formed XML and returns its root element.
func parse(t *testing.T, s string) node {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		_, err := d.Token()
		if err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatalf("not well-formed: %v\n%s", err, s)
		}
	}
	var n node
	if err := xml.Unmarshal([]byte(s), &n); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return n
}

// check parses a chart, asserts its accessible name, description and table
// caption, and returns the SVG root and the table's rows (header row first).
func check(t *testing.T, c Chart, l Labels) (node, [][]string) {
	t.Helper()
	if c.Empty() {
		t.Fatal("empty chart")
	}
	svg := parse(t, string(c.SVG))
	if svg.XMLName.Local != "svg" || len(svg.Children) < 2 ||
		svg.Children[0].XMLName.Local != "title" || svg.Children[0].Text != l.Title ||
		svg.Children[1].XMLName.Local != "desc" || svg.Children[1].Text != l.Desc {
		t.Fatalf("svg must start with <title>%s</title><desc>%s</desc>: %.200s", l.Title, l.Desc, c.SVG)
	}
	if svg.attr("width") != "100%" || !strings.HasPrefix(svg.attr("viewBox"), "0 0 360 ") {
		t.Errorf("svg size: width=%q viewBox=%q", svg.attr("width"), svg.attr("viewBox"))
	}
	for _, tx := range svg.all("text") {
		if fs := tx.attr("font-size"); fs != "" {
			if v, _ := strconv.Atoi(fs); v < 11 {
				t.Errorf("font-size %s < 11 for %q", fs, tx.text())
			}
		}
	}
	det := parse(t, string(c.Table))
	if det.XMLName.Local != "details" {
		t.Fatalf("table is not in <details>: %.100s", c.Table)
	}
	if s := det.all("summary"); len(s) != 1 || s[0].Text != l.Table {
		t.Errorf("summary = %v, want %q", s, l.Table)
	}
	if cp := det.all("caption"); len(cp) != 1 || cp[0].Text != l.Title {
		t.Errorf("caption = %v, want %q", cp, l.Title)
	}
	var rows [][]string
	for _, tr := range det.all("tr") {
		var cells []string
		for _, c := range tr.Children {
			cells = append(cells, c.text())
		}
		rows = append(rows, cells)
	}
	return svg, rows
}

func labels(title string) Labels {
	return Labels{Title: title, Desc: "desc of " + title, Table: "data", X: "x-head", Y: "y-head", Total: "total"}
}

func dates(n int) []string {
	xs := make([]string, n)
	for i := range xs {
		xs[i] = fmt.Sprintf("2026-%02d-05", i+1)
	}
	return xs
}

func TestTimeSeriesLine(t *testing.T) {
	xs := dates(12)
	s := Series{Name: "", Values: []float64{15, 5, 0, 3.25, 100, 66.7, 1, 2, 3, 4, 5, 6}}
	for i := range xs {
		s.Links = append(s.Links, fmt.Sprintf("/pollrun/%d/", 100+i))
	}
	l := labels("Average")
	c := TimeSeries(xs, []Series{s}, l, Options{})
	if n := len(c.SVG); n > 3*1024 {
		t.Errorf("12-point series is %d bytes, budget 3 KB", n)
	}
	svg, rows := check(t, c, l)
	if got := rows[0]; strings.Join(got, "|") != "x-head|y-head" {
		t.Errorf("header = %v", got)
	}
	if len(rows) != 13 {
		t.Fatalf("rows = %d, want 13", len(rows))
	}
	for i, x := range xs {
		want := strconv.FormatFloat(s.Values[i], 'f', 1, 64)
		if rows[i+1][0] != x || rows[i+1][1] != want {
			t.Errorf("row %d = %v, want [%s %s]", i, rows[i+1], x, want)
		}
	}
	circles := svg.all("circle")
	if len(circles) != 12 {
		t.Fatalf("markers = %d", len(circles))
	}
	if tip := circles[0].all("title"); len(tip) != 1 || tip[0].Text != "2026-01-05: 15.0" {
		t.Errorf("first marker title = %v", tip)
	}
	as := svg.all("a")
	if len(as) != 12 || as[4].attr("href") != "/pollrun/104/" {
		t.Errorf("links = %d, fifth %q", len(as), as[4].attr("href"))
	}
	if svg.attr("role") == "img" {
		t.Error("a chart with links must not be role=img")
	}
	// The highest value is drawn highest.
	if circles[4].num(t, "cy") >= circles[0].num(t, "cy") || circles[2].num(t, "cy") <= circles[1].num(t, "cy") {
		t.Error("y positions do not follow the values")
	}
	if circles[0].num(t, "cx") >= circles[11].num(t, "cx") {
		t.Error("LTR: first point must be left of the last")
	}
}

func TestTimeSeriesRTL(t *testing.T) {
	for _, n := range []int{1, 3, 12, 40} {
		xs := dates(n)
		vals := make([]float64, n)
		for i := range vals {
			vals[i] = float64(i)
		}
		l := labels("rtl")
		links := make([]string, n)
		for i := range links {
			links[i] = "/pollrun/" + strconv.Itoa(i) + "/"
		}
		c := TimeSeries(xs, []Series{{Name: "a", Values: vals, Links: links}, {Name: "b", Values: vals}}, l, Options{RTL: true})
		svg, _ := check(t, c, l)
		if svg.attr("direction") != "rtl" {
			t.Errorf("n=%d: no direction=rtl", n)
		}
		// Stacked: one link column per date, the first on the right.
		cols := svg.all("a")
		if len(cols) != n || cols[0].attr("href") != "/pollrun/0/" {
			t.Fatalf("n=%d: %d link columns", n, len(cols))
		}
		first, last := columnOf(t, cols[0]), columnOf(t, cols[n-1])
		if n > 1 && first[0] <= last[0] {
			t.Errorf("n=%d: RTL first column x %v must be right of last %v", n, first, last)
		}
		if first[0] < 0 || first[0]+first[1] > 360 || first[1] <= 0 {
			t.Errorf("n=%d: column outside the viewBox: %v", n, first)
		}
		rtlOne := parse(t, string(TimeSeries(xs, []Series{{Name: "a", Values: vals}}, l, Options{RTL: true}).SVG))
		circles := rtlOne.all("circle")
		if n > 1 && circles[0].num(t, "cx") <= circles[n-1].num(t, "cx") {
			t.Errorf("n=%d: RTL first point x %v must be right of last %v", n, circles[0].attr("cx"), circles[n-1].attr("cx"))
		}
		// y tick labels are the first text group; on the right in RTL.
		g := svg.all("g")[0]
		for _, tx := range g.all("text") {
			if tx.num(t, "x") < 300 {
				t.Errorf("n=%d: y label %q at x=%s, want right side", n, tx.text(), tx.attr("x"))
			}
		}
		ltr := parse(t, string(TimeSeries(xs, []Series{{Name: "a", Values: vals}}, l, Options{}).SVG))
		for _, tx := range ltr.all("g")[0].all("text") {
			if tx.num(t, "x") > 60 {
				t.Errorf("n=%d: LTR y label at x=%s, want left side", n, tx.attr("x"))
			}
		}
		for _, c := range append(circles, ltr.all("circle")...) {
			if x := c.num(t, "cx"); x < 0 || x > 360 {
				t.Errorf("n=%d: point outside the viewBox: %v", n, x)
			}
		}
	}
}

func TestTimeSeriesStacked(t *testing.T) {
	xs := dates(3)
	series := []Series{
		{Name: "Acme", Values: []float64{8, 1, 2}},
		{Name: "Beta", Values: []float64{7, 2}}, // short: the last point is 0
	}
	l := labels("Sum")
	format := func(v float64) string { return "<" + strconv.FormatFloat(v, 'f', 2, 64) + ">" }
	c := TimeSeries(xs, series, l, Options{Format: format})
	svg, rows := check(t, c, l)
	want := [][]string{{"x-head", "Acme", "Beta"}, {xs[0], "<8.00>", "<7.00>"}, {xs[1], "<1.00>", "<2.00>"}, {xs[2], "<2.00>", "<0.00>"}}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("table = %v, want %v", rows, want)
	}
	if svg.attr("role") != "img" {
		t.Error("a chart without links should be role=img")
	}
	paths := svg.all("path")
	if len(paths) != 3 || !strings.HasSuffix(paths[2].attr("d"), "Z") {
		t.Errorf("want grid + 2 closed areas, got %d paths", len(paths))
	}
	// Beta's area (drawn first, under Acme's) reaches 8+7 = 15, above Acme's
	// 8; both go down to zero.
	beta, acme := pathPoints(t, paths[1].attr("d")), pathPoints(t, paths[2].attr("d"))
	if paths[1].attr("class") != "s1" || len(acme) != 5 || len(beta) != 5 || beta[0][1] >= acme[0][1] || beta[4] != acme[4] || beta[3] != acme[3] {
		t.Errorf("second series is not stacked on the first: %v / %v", acme, beta)
	}
	// With a negative value, bands: each area closes on the one below it.
	neg := parse(t, string(TimeSeries(xs, []Series{{Name: "a", Values: []float64{-1, 2, 3}}, {Name: "b", Values: []float64{1, 1, 1}}}, l, Options{}).SVG))
	np := neg.all("path")
	lower, upper := pathPoints(t, np[1].attr("d")), pathPoints(t, np[2].attr("d"))
	if np[1].attr("class") != "s0" || len(upper) != 6 || upper[5] != lower[0] || upper[3] != lower[2] {
		t.Errorf("bands with a negative value: %v / %v", lower, upper)
	}
	if len(svg.all("circle")) != 0 || len(svg.all("a")) != 0 {
		t.Error("stacked series without links: no markers, no link columns")
	}
	if legend := svg.all("rect"); len(legend) != 2 {
		t.Errorf("legend swatches = %d", len(legend))
	}
	// With links: one column per date, titled with it.
	series[0].Links = []string{"/pollrun/1/", "", "/pollrun/3/"}
	linked := parse(t, string(TimeSeries(xs, series, l, Options{Format: format}).SVG))
	as := linked.all("a")
	if len(as) != 2 || as[1].attr("href") != "/pollrun/3/" || as[1].all("title")[0].Text != xs[2] {
		t.Errorf("link columns = %v", as)
	}
}

func TestPercentStacked(t *testing.T) {
	xs := dates(2)
	cats := []Category{{Name: "1 - 5", Counts: []int{2, 0}}, {Name: "6 - 10", Counts: []int{1, 4}}}
	l := labels("Categories")
	c := PercentStacked(xs, cats, []string{"/pollrun/1/", "javascript:alert(1)"}, l, Options{})
	svg, rows := check(t, c, l)
	want := [][]string{{"x-head", "1 - 5", "6 - 10", "total"}, {xs[0], "2", "1", "3"}, {xs[1], "0", "4", "4"}}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("table = %v, want %v", rows, want)
	}
	var tips []string
	for _, r := range svg.all("path") {
		if ts := r.all("title"); len(ts) == 1 {
			tips = append(tips, ts[0].Text)
		}
	}
	if fmt.Sprint(tips) != fmt.Sprint(xs) {
		t.Errorf("column titles = %q, want the dates", tips)
	}
	if as := svg.all("a"); len(as) != 1 || as[0].attr("href") != "/pollrun/1/" {
		t.Errorf("links = %v (javascript: must be dropped)", as)
	}
	if strings.Contains(string(c.HTML()), "javascript") {
		t.Error("javascript: URL leaked")
	}
	// Segments of a column fill it exactly: 2/3 + 1/3 of the plot height;
	// one path per category holds its segments (y from, y to).
	segs := func(d string) [][2]float64 {
		var out [][2]float64
		for _, part := range strings.Split(strings.TrimSuffix(d, "z"), "z") {
			_, rest, _ := strings.Cut(part, " ")
			y0s, rest, _ := strings.Cut(rest, "V")
			y1s, _, _ := strings.Cut(rest, "h")
			y0, _ := strconv.ParseFloat(y0s, 64)
			y1, _ := strconv.ParseFloat(y1s, 64)
			out = append(out, [2]float64{y0, y1})
		}
		return out
	}
	paths := svg.all("path")
	low, high := segs(paths[1].attr("d")), segs(paths[2].attr("d"))
	if len(paths) != 5 || len(low) != 1 || len(high) != 2 {
		t.Fatalf("category paths: %d, segments %v %v", len(paths), low, high)
	}
	if h := (low[0][0] - low[0][1]) + (high[0][0] - high[0][1]); h < 159.8 || h > 160.2 || high[0][0] != low[0][1] {
		t.Errorf("column height %v, want 160 (segments %v, %v)", h, low[0], high[0])
	}
	if h := high[1][0] - high[1][1]; h < 159.8 || h > 160.2 {
		t.Errorf("second column height %v, want 160", h)
	}
	rtl := parse(t, string(PercentStacked(xs, cats, nil, l, Options{RTL: true}).SVG))
	r := rtl.all("path")
	if a, b := columnOf(t, r[3]), columnOf(t, r[4]); a[0] <= b[0] {
		t.Errorf("RTL: the first column %v must be right of the second %v", a, b)
	}
}

func TestBarsAndHistogram(t *testing.T) {
	long := strings.Repeat("a very long category label ", 4)
	bars := []Bar{{"Yes", 12}, {long, 3}, {"No", 0}}
	l := labels("Answers")
	c := Bars(bars, l, Options{Count: func(n int) string { return "#" + strconv.Itoa(n) }})
	svg, rows := check(t, c, l)
	want := [][]string{{"x-head", "y-head"}, {"Yes", "#12"}, {long, "#3"}, {"No", "#0"}}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("table = %v, want %v", rows, want)
	}
	rects := svg.all("rect")
	if len(rects) != 2 || rects[0].num(t, "width") <= rects[1].num(t, "width") {
		t.Fatalf("bars = %d", len(rects))
	}
	if w := rects[0].num(t, "x") + rects[0].num(t, "width"); w > 352 {
		t.Errorf("longest bar ends at %v", w)
	}
	rtl := parse(t, string(Bars(bars, l, Options{RTL: true}).SVG)).all("rect")
	if end := rtl[0].num(t, "x") + rtl[0].num(t, "width"); end != 352 || rtl[1].num(t, "x") <= rtl[0].num(t, "x") {
		t.Errorf("RTL bars must grow from the right edge: %v", rtl)
	}

	h := Histogram([]float64{4, 3, 8}, l, Options{})
	_, rows = check(t, h, l)
	want = [][]string{{"x-head", "y-head"}, {"3–5", "2"}, {"6–8", "1"}}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("histogram table = %v, want %v", rows, want)
	}
}

// TestHistogramColumns: many bins (√n of a large poll run) are drawn as
// columns in one path, in a chart of phone height, with every bin that has
// answers in the table and the value range on the axis.
func TestHistogramColumns(t *testing.T) {
	var vals []float64
	for i := 0; i < 400; i++ {
		vals = append(vals, float64(i*7%60))
	}
	l := labels("Pupils")
	for _, rtl := range []bool{false, true} {
		c := Histogram(vals, l, Options{RTL: rtl})
		svg, rows := check(t, c, l)
		bins := Bins(vals)
		nonEmpty, total := 0, 0
		for _, b := range bins {
			if b.Count > 0 {
				nonEmpty++
			}
		}
		for _, r := range rows[1:] {
			n, _ := strconv.Atoi(r[1])
			total += n
		}
		if len(bins) != 20 || len(rows) != nonEmpty+1 || total != 400 {
			t.Errorf("%d bins, %d table rows for %d non-empty bins, total %d", len(bins), len(rows)-1, nonEmpty, total)
		}
		vb := strings.Fields(svg.attr("viewBox"))
		if h, _ := strconv.ParseFloat(vb[3], 64); h > 200 {
			t.Errorf("histogram is %v units tall", h)
		}
		if len(svg.all("rect")) != 0 || strings.Count(svg.all("path")[1].attr("d"), "z") != nonEmpty {
			t.Errorf("want one column per non-empty bin in one path")
		}
		var axis []string
		for _, tx := range svg.all("g")[2].all("text") {
			axis = append(axis, tx.text())
		}
		if fmt.Sprint(axis) != "[0 29.5 59]" {
			t.Errorf("value axis = %v", axis)
		}
		if len(c.SVG) > 2048 {
			t.Errorf("histogram SVG is %d bytes", len(c.SVG))
		}
	}
}

func TestBins(t *testing.T) {
	cases := []struct {
		in     []float64
		counts []int
		labels []string
	}{
		// SPEC §3.4 / the original's single-date test: answers 4, 3, 8 —
		// whole numbers, so whole-number ranges (the original: 3-5.5, 5.5-8).
		{[]float64{4, 3, 8}, []int{2, 1}, []string{"3–5", "6–8"}},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9}, []int{3, 3, 3}, []string{"1–3", "4–6", "7–9"}},
		// Head counts: no edge between two possible answers.
		{[]float64{4, 11, 12, 30, 31, 5, 7, 40, 25}, []int{5, 1, 3}, []string{"4–16", "17–29", "30–40"}},
		// Equal whole values: one bin of that number.
		{[]float64{5, 5, 5, 5}, []int{4}, []string{"5"}},
		// Not whole numbers: equal widths over [min, max], 2 decimals.
		{[]float64{4, 3, 8.5}, []int{2, 1}, []string{"3–5.75", "5.75–8.5"}},
		{[]float64{1.5, 1.5}, []int{0, 2}, []string{"1–1.5", "1.5–2"}},
		// Edges computed in floating point still put 0.3 in the last bin.
		{[]float64{0, 0.1, 0.2, 0.3}, []int{2, 2}, []string{"0–0.15", "0.15–0.3"}},
		// Negative bounds.
		{[]float64{-2, 0, 1, 2, 3}, []int{1, 2, 2}, []string{"-2–-1", "0–1", "2–3"}},
		{[]float64{-2, 0, 1, 2, 3.5}, []int{1, 2, 2}, []string{"-2–-0.17", "-0.17–1.67", "1.67–3.5"}},
	}
	for _, c := range cases {
		bins := Bins(c.in)
		var counts []int
		var labels []string
		total := 0
		for _, b := range bins {
			counts = append(counts, b.Count)
			labels = append(labels, b.Label)
			total += b.Count
		}
		if fmt.Sprint(counts) != fmt.Sprint(c.counts) || fmt.Sprint(labels) != fmt.Sprint(c.labels) || total != len(c.in) {
			t.Errorf("Bins(%v) = %v %q, want %v %q", c.in, counts, labels, c.counts, c.labels)
		}
	}
	if b := Bins(nil); b != nil {
		t.Errorf("Bins(nil) = %v", b)
	}
	// 10 values → ceil(√10) = 4 bins.
	if b := Bins([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}); len(b) != 4 {
		t.Errorf("10 values: %d bins", len(b))
	}
}

func TestEmpty(t *testing.T) {
	l := labels("empty")
	for name, c := range map[string]Chart{
		"series":  TimeSeries(nil, nil, l, Options{}),
		"percent": PercentStacked(nil, nil, nil, l, Options{}),
		"bars":    Bars(nil, l, Options{}),
		"hist":    Histogram(nil, l, Options{}),
		"cloud":   WordCloud(nil, l, Options{}),
	} {
		if !c.Empty() || c.HTML() != "" {
			t.Errorf("%s: want the zero Chart", name)
		}
	}
}

func TestEscaping(t *testing.T) {
	l := Labels{Title: `<script>alert("x")</script> & co`, Desc: "it's \x01", Table: "<b>", X: "&", Y: `"`}
	c := TimeSeries([]string{"<a>", "b&c"}, []Series{{Name: "x'y", Values: []float64{1, 2}, Links: []string{"/p?a=1&b=2", ""}}}, l, Options{RTL: true})
	l.Desc = "it's " // the control character is dropped
	_, rows := check(t, c, l)
	if rows[1][0] != "<a>" || rows[2][0] != "b&c" || rows[0][1] != "x'y" {
		t.Errorf("escaped table = %v", rows)
	}
	if !strings.Contains(string(c.SVG), `href="/p?a=1&amp;b=2"`) {
		t.Error("href not escaped")
	}
}

func TestTicksAndOddValues(t *testing.T) {
	cases := map[[2]float64]string{
		{0, 0}:      "[0 0.25 0.5 0.75 1]",
		{0, 15}:     "[0 5 10 15]",
		{0, 100}:    "[0 25 50 75 100]",
		{-3, 10}:    "[-5 0 5 10]",
		{0, 0.3}:    "[0 0.1 0.2 0.3]",
		{0, 123456}: "[0 50000 100000 150000]",
	}
	for in, want := range cases {
		if got := fmt.Sprint(niceTicks(in[0], in[1])); got != want {
			t.Errorf("niceTicks(%v) = %s, want %s", in, got, want)
		}
	}
	l := labels("odd")
	c := TimeSeries(dates(3), []Series{{Name: "n", Values: []float64{-3, 10, 0}}}, l, Options{})
	svg, _ := check(t, c, l)
	cs := svg.all("circle")
	if !(cs[1].num(t, "cy") < cs[2].num(t, "cy") && cs[2].num(t, "cy") < cs[0].num(t, "cy")) {
		t.Error("negative value not drawn below zero")
	}
	for _, c := range cs {
		if y := c.num(t, "cy"); y < 0 || y > 170 {
			t.Errorf("point outside the plot: %v", y)
		}
	}
}

// pathPoints reads the absolute points of path data written by polyline
// ("Mx yldx dy dx dy…", optionally closed by Z).
func pathPoints(t *testing.T, d string) [][2]int {
	t.Helper()
	d = strings.TrimSuffix(strings.TrimPrefix(d, "M"), "Z")
	head, rest, _ := strings.Cut(d, "l")
	var nums []int
	for _, part := range []string{head, rest} {
		part = strings.ReplaceAll(part, "-", " -")
		for _, fld := range strings.Fields(part) {
			n, err := strconv.Atoi(fld)
			if err != nil {
				t.Fatalf("path %q: %v", d, err)
			}
			nums = append(nums, n)
		}
	}
	var pts [][2]int
	for i := 0; i+1 < len(nums); i += 2 {
		p := [2]int{nums[i], nums[i+1]}
		if i > 0 {
			p[0] += pts[len(pts)-1][0]
			p[1] += pts[len(pts)-1][1]
		}
		pts = append(pts, p)
	}
	return pts
}

// columnOf reads the x and width of the link column in n (a path
// "Mx yhWvHh-Wz", or an element holding one).
func columnOf(t *testing.T, n node) [2]int {
	t.Helper()
	d := n.attr("d")
	if d == "" {
		d = n.all("path")[0].attr("d")
	}
	var x, y, w, h, back int
	if _, err := fmt.Sscanf(d, "M%d %dh%dv%dh%dz", &x, &y, &w, &h, &back); err != nil || back != -w {
		t.Fatalf("column path %q: %v", d, err)
	}
	return [2]int{x, w}
}

var linkTargetRe = regexp.MustCompile(`<a href="[^"]*"><path d="M(-?\d+) (-?\d+)h(-?\d+)v(-?\d+)`)

// TestLinkTargetsAreTappable: every link of a chart — a point, a column of a
// stacked or 100%-stacked chart — starts with its target, a column at least
// 44 units (CSS px on a 360 px phone) wide and as tall as the plot, inside
// the chart, whatever the number of x labels and the direction.
func TestLinkTargetsAreTappable(t *testing.T) {
	for _, n := range []int{1, 2, 5, 13, 52} {
		for _, rtl := range []bool{false, true} {
			xs, links := make([]string, n), make([]string, n)
			vals, other := make([]float64, n), make([]float64, n)
			counts := make([]int, n)
			for i := range xs {
				xs[i], links[i] = fmt.Sprintf("2026-%02d-%02d", 1+i/28, 1+i%28), fmt.Sprintf("/pollrun/read/%d/", i)
				vals[i], other[i], counts[i] = float64(i%7), float64(i%3), 1+i%4
			}
			o := Options{RTL: rtl}
			one := []Series{{Name: "Sum", Values: vals, Links: links}}
			two := []Series{{Name: "A", Values: vals, Links: links}, {Name: "B", Values: other, Links: links}}
			for name, c := range map[string]Chart{
				"line":          TimeSeries(xs, one, Labels{}, o),
				"stacked":       TimeSeries(xs, two, Labels{}, o),
				"compare":       Compare(xs, []Series{{Name: "Baseline", Values: other}, {Name: "Follow up", Values: vals, Links: links}}, Labels{}, o),
				"percent stack": PercentStacked(xs, []Category{{Name: "Yes", Counts: counts}, {Name: "No", Counts: counts}}, links, Labels{}, o),
			} {
				svg := string(c.SVG)
				ms := linkTargetRe.FindAllStringSubmatch(svg, -1)
				if len(ms) != strings.Count(svg, "<a ") || len(ms) < n {
					t.Errorf("%s, %d labels, rtl %v: %d links begin with their target, of %d links", name, n, rtl, len(ms), strings.Count(svg, "<a "))
				}
				for _, m := range ms {
					l, _ := strconv.Atoi(m[1])
					w, _ := strconv.Atoi(m[3])
					h, _ := strconv.Atoi(m[4])
					if w < 44 || h < 44 || l < 0 || l+w > 360 {
						t.Errorf("%s, %d labels, rtl %v: target %s", name, n, rtl, m[0])
					}
				}
			}
		}
	}
}
