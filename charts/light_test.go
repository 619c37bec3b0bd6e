package charts

import (
	"fmt"
	"strings"
	"testing"
)

// xLabels returns the x axis labels of a drawn chart (the texts of the x
// label group: those that are dates).
func xLabels(t *testing.T, c Chart) []string {
	t.Helper()
	var out []string
	for _, tx := range parse(t, string(c.SVG)).all("text") {
		if s := tx.text(); strings.HasPrefix(s, "2026-") {
			out = append(out, s)
		}
	}
	return out
}

// TestLightThinsLabels: for a browser saving data, time axes label at most
// lightLabels dates, always the newest; the data table keeps every date.
func TestLightThinsLabels(t *testing.T) {
	for _, n := range []int{3, 12, 40} {
		xs := dates(n)
		vals := make([]float64, n)
		for i := range vals {
			vals[i] = float64(i % 7)
		}
		l := labels("light")
		for name, draw := range map[string]func(Options) Chart{
			"series": func(o Options) Chart { return TimeSeries(xs, []Series{{Name: "a", Values: vals}}, l, o) },
			"stacked": func(o Options) Chart {
				return PercentStacked(xs, []Category{{Name: "a", Counts: intsOf(vals)}}, nil, l, o)
			},
		} {
			full, light := draw(Options{}), draw(Options{Light: true})
			fl, ll := xLabels(t, full), xLabels(t, light)
			if len(ll) > lightLabels || len(ll) > len(fl) || ll[len(ll)-1] != xs[n-1] {
				t.Errorf("%s n=%d: light labels %v (full %d)", name, n, ll, len(fl))
			}
			if n > lightLabels && len(ll) >= len(fl) {
				t.Errorf("%s n=%d: light has %d labels, full %d", name, n, len(ll), len(fl))
			}
			if _, rows := check(t, light, l); len(rows) != n+1 {
				t.Errorf("%s n=%d: the light table has %d rows", name, n, len(rows)-1)
			}
		}
	}
}

func intsOf(vs []float64) []int {
	out := make([]int, len(vs))
	for i, v := range vs {
		out[i] = int(v) + 1
	}
	return out
}

// TestLightWordCloud: for a browser saving data a word cloud is the table of
// its 10 most frequent words, open, without the drawing.
func TestLightWordCloud(t *testing.T) {
	var words []WordCount
	for i := 0; i < 30; i++ {
		words = append(words, WordCount{fmt.Sprintf("word%02d", i), 100 - i})
	}
	l := labels("Words")
	c := WordCloud(words, l, Options{Light: true})
	if c.SVG != "" || c.Empty() || !strings.HasPrefix(string(c.Table), `<details class="chart-data" open="">`) {
		t.Fatalf("light cloud: svg %d B, table %.60s", len(c.SVG), c.Table)
	}
	rows := parse(t, string(c.Table)).all("tr")
	if len(rows) != 11 || rows[1].Children[0].text() != "word00" || rows[10].Children[0].text() != "word09" {
		t.Fatalf("light cloud table: %d rows", len(rows))
	}
	if full := WordCloud(words, l, Options{}); len(c.Table) >= len(full.SVG)+len(full.Table) {
		t.Fatalf("the light cloud (%d B) is not smaller than the full one", len(c.Table))
	}
}
