package charts

import (
	"math"
	"regexp"
	"strings"
	"testing"
)

// TestCompare checks the indicator chart: a dashed baseline and the
// follow-up series side by side (not stacked), with the flagged (spoofed)
// point hollow and noted in its tooltip and table row.
func TestCompare(t *testing.T) {
	xs := []string{"2026-03-10", "2026-03-11", "2026-03-12"}
	l := labels("Pupils")
	o := Options{Flagged: []bool{false, true, false}, FlagNote: "Spoofed"}
	c := Compare(xs, []Series{{Name: "Baseline", Values: []float64{60, 60, 60}}, {Name: "Follow up", Values: []float64{42, 84, 126},
		Links: []string{"/pollrun/read/1/", "/pollrun/read/2/", "javascript:alert(1)"}}}, l, o)
	svg, rows := check(t, c, l)
	want := [][]string{{"x-head", "Baseline", "Follow up"}, {"2026-03-10", "60.0", "42.0"}, {"2026-03-11 (Spoofed)", "60.0", "84.0"}, {"2026-03-12", "60.0", "126.0"}}
	if len(rows) != len(want) {
		t.Fatalf("rows = %q", rows)
	}
	for i := range want {
		if strings.Join(rows[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d = %q, want %q", i, rows[i], want[i])
		}
	}
	circles := svg.all("circle")
	// 6 points + the flag key.
	if len(circles) != 7 {
		t.Fatalf("%d circles", len(circles))
	}
	// Not stacked: the axis ends at 150 (126 is the highest value), not at
	// 200 as 60 + 126 stacked would need.
	var ticks []string
	for _, tx := range svg.all("text") {
		ticks = append(ticks, tx.text())
	}
	if !contains(ticks, "150.0") || contains(ticks, "200.0") {
		t.Errorf("axis labels = %q, want a top of 150", ticks)
	}
	var tips []string
	hollow := 0
	for _, ci := range circles {
		if len(ci.all("title")) > 0 {
			tips = append(tips, ci.all("title")[0].Text)
		}
		if ci.attr("fill") == "#fff" {
			hollow++
		}
	}
	if hollow != 3 { // the two points of the spoofed date and the key
		t.Errorf("%d hollow markers, want 3", hollow)
	}
	if !contains(tips, "Follow up, 2026-03-11: 84.0 (Spoofed)") || !contains(tips, "Baseline, 2026-03-10: 60.0") {
		t.Errorf("tooltips = %q", tips)
	}
	if strings.Contains(string(c.SVG), "javascript:") || !strings.Contains(string(c.SVG), `href="/pollrun/read/2/"`) {
		t.Error("links not filtered")
	}
	if !strings.Contains(string(c.SVG), `stroke-dasharray="6 4"`) {
		t.Error("the baseline is not dashed")
	}
	if Compare(nil, nil, l, o).SVG != "" {
		t.Error("empty input draws something")
	}
}

// TestFlaggedPoints checks that the poll charts mark flagged (spoofed) poll runs.
func TestFlaggedPoints(t *testing.T) {
	xs := dates(3)
	o := Options{Flagged: []bool{true}, FlagNote: "Spoofed"}
	l := labels("Sum")
	ts := TimeSeries(xs, []Series{{Values: []float64{1, 2, 3}}}, l, o)
	_, rows := check(t, ts, l)
	if rows[1][0] != xs[0]+" (Spoofed)" || rows[2][0] != xs[1] {
		t.Errorf("time series rows = %q", rows)
	}
	if !strings.Contains(string(ts.SVG), "Spoofed</text>") {
		t.Error("no flag key under the time series")
	}
	ps := PercentStacked(xs, []Category{{Name: "Yes", Counts: []int{1, 2, 3}}, {Name: "No", Counts: []int{1, 1, 1}}}, nil, l, o)
	_, rows = check(t, ps, l)
	if rows[1][0] != xs[0]+" (Spoofed)" || !strings.Contains(string(ps.SVG), `stroke-dasharray="4 3"`) {
		t.Errorf("percent stacked: rows %q, dashed outline %v", rows, strings.Contains(string(ps.SVG), `stroke-dasharray="4 3"`))
	}
	plain := TimeSeries(xs, []Series{{Values: []float64{1, 2, 3}}}, l, Options{})
	if strings.Contains(string(plain.SVG), "Spoofed") || strings.Contains(string(plain.SVG), `fill="#fff"`) {
		t.Error("unflagged chart marked")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestCompareGap: a missing follow-up value (NaN) breaks the line and its
// area into two runs instead of dropping to zero, gets no marker and shows
// as a dash in the table.
func TestCompareGap(t *testing.T) {
	xs := []string{"d1", "d2", "d3", "d4"}
	follow := []float64{10, math.NaN(), 12, 14}
	c := Compare(xs, []Series{{Name: "Baseline", Values: []float64{11, 11, 11, 11}}, {Name: "Follow up", Values: follow, Links: []string{"/a", "/b", "/c", "/d"}}}, Labels{X: "Date"}, Options{})
	svg := string(c.SVG)
	line := regexp.MustCompile(`<path class="s1" d="([^"]*)"`).FindStringSubmatch(svg)
	if line == nil || strings.Count(line[1], "M") != 2 {
		t.Fatalf("the follow-up line is not two runs: %v", line)
	}
	if strings.Contains(svg, `href="/b"`) || strings.Count(svg, "<circle") != 7 {
		t.Errorf("the missing value has a marker or link (%d markers)", strings.Count(svg, "<circle"))
	}
	if y0 := regexp.MustCompile(`M[\d.]+ ([\d.]+)`).FindAllStringSubmatch(line[1], -1); len(y0) != 2 || y0[0][1] == "168" {
		t.Errorf("runs start at %v", y0)
	}
	if !strings.Contains(string(c.Table), `d2</a></th><td>11.0</td><td>–</td>`) {
		t.Errorf("table row of the gap: %s", c.Table)
	}
}
