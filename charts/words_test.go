package charts

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

func TestWords(t *testing.T) {
	cases := []struct {
		name  string
		texts []string
		lang  string
		want  []WordCount
	}{
		// The original's word cloud test: "it's", "very" and "and" are English stop words.
		{"en", []string{"It's very rainy", "rainy and rainy", "Sunny sunny"}, "eng",
			[]WordCount{{"rainy", 3}, {"sunny", 2}}},
		// Typographic apostrophes, punctuation, 1-character words, numbers, hyphens.
		{"en-punct", []string{"We don’t have water!! The well-water is 2 km away, a 20-minute walk.", "No WATER; the well-water..."}, "en",
			[]WordCount{{"water", 2}, {"well-water", 2}, {"20-minute", 1}, {"away", 1}, {"km", 1}, {"walk", 1}}},
		{"fr", []string{"Il pleut beaucoup à Kigali et la pluie tombe", "La pluie, encore la pluie !"}, "fra",
			[]WordCount{{"pluie", 3}, {"beaucoup", 1}, {"kigali", 1}, {"pleut", 1}, {"tombe", 1}}},
		{"es", []string{"No hay agua en la escuela", "El agua está sucia"}, "spa",
			[]WordCount{{"agua", 2}, {"escuela", 1}, {"sucia", 1}}},
		// Persian: stop words go, Arabic yeh/kaf are read as Persian, ZWNJ words stay whole.
		{"fa", []string{"باران زیاد است و هوا سرد است", "باران زياد، می‌خواهم آب"}, "pes",
			[]WordCount{{"باران", 2}, {"زیاد", 2}, {"آب", 1}, {"سرد", 1}, {"می‌خواهم", 1}, {"هوا", 1}}},
		{"ps", []string{"په کلي کې اوبه نشته", "اوبه او ډوډۍ"}, "pus",
			[]WordCount{{"اوبه", 2}, {"نشته", 1}, {"ډوډۍ", 1}, {"کلي", 1}}},
		{"ar", []string{"الماء في القرية قليل جدا", "الماء"}, "ara",
			[]WordCount{{"الماء", 2}, {"القرية", 1}, {"قليل", 1}}},
		{"rw", []string{"Amazi ni make cyane mu mudugudu", "amazi"}, "kin",
			[]WordCount{{"amazi", 2}, {"make", 1}, {"mudugudu", 1}}},
		{"sw", []string{"Maji ni machache sana katika kijiji", "maji"}, "swa",
			[]WordCount{{"maji", 2}, {"kijiji", 1}, {"machache", 1}}},
		// No language: nothing is a stop word (but 1-character words still go).
		{"none", []string{"the rain in a village"}, "",
			[]WordCount{{"in", 1}, {"rain", 1}, {"the", 1}, {"village", 1}}},
	}
	for _, c := range cases {
		got := Words(c.texts, func(int) string { return c.lang })
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: Words = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestWordsPerContactLanguage(t *testing.T) {
	texts := []string{"the water", "l'eau et la water", "la the"}
	langs := []string{"eng", "fra", "xyz"}
	got := Words(texts, func(i int) string { return langs[i] })
	// "the" is an English stop word only in text 0; "la" a French one only in
	// text 1; text 2 has no list.
	want := []WordCount{{"water", 2}, {"l'eau", 1}, {"la", 1}, {"the", 1}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Words = %v, want %v", got, want)
	}
	if Words([]string{"rain"}, nil)[0].Word != "rain" {
		t.Error("nil lang func")
	}
}

func TestWordsTop50(t *testing.T) {
	var texts []string
	for i := 0; i < 80; i++ {
		texts = append(texts, strings.Repeat(fmt.Sprintf("w%02d ", i), 1+i%7))
	}
	got := Words(texts, nil)
	if len(got) != TopWords {
		t.Fatalf("len = %d", len(got))
	}
	for i := 1; i < len(got); i++ {
		a, b := got[i-1], got[i]
		if a.Count < b.Count || (a.Count == b.Count && a.Word >= b.Word) {
			t.Fatalf("order broken at %d: %v %v", i, a, b)
		}
	}
	if got[0] != (WordCount{"w06", 7}) {
		t.Errorf("first = %v", got[0])
	}
}

func TestStopLists(t *testing.T) {
	for _, code := range []string{"en", "fr", "es", "fa", "ps", "ar", "rw", "sw"} {
		if n := len(stopSet(code)); n < 50 && code != "rw" || n < 40 {
			t.Errorf("%s: %d stop words", code, n)
		}
	}
	for code, word := range map[string]string{"eng": "the", "FRA": "les", "spa": "los", "prs": "است", "pbt": "په", "arb": "في", "kin": "kandi", "swh": "lakini"} {
		if !IsStopWord(code, word) {
			t.Errorf("%s: %q is not a stop word", code, word)
		}
	}
	if StopLanguage("deu") != "" || IsStopWord("", "the") {
		t.Error("unknown language must have no stop words")
	}
}

func TestWordCloud(t *testing.T) {
	var words []WordCount
	for i := 0; i < 60; i++ {
		words = append(words, WordCount{fmt.Sprintf("word%02d%s", i, strings.Repeat("x", i%9)), 100 - i})
	}
	words = append(words, WordCount{"زیاد", 101})
	l := labels("Words")
	c := WordCloud(words, l, Options{})
	if n := len(c.SVG); n > 6*1024 {
		t.Errorf("50-word cloud is %d bytes, budget 6 KB", n)
	}
	svg, rows := check(t, c, l)
	if len(rows) != 51 || fmt.Sprint(rows[1]) != "[زیاد 101]" || fmt.Sprint(rows[2]) != "[word00 100]" || fmt.Sprint(rows[50]) != "[word48xxx 52]" {
		t.Fatalf("table rows = %d: %v %v %v", len(rows), rows[1], rows[2], rows[len(rows)-1])
	}
	texts := svg.all("text")
	if len(texts) < 45 {
		t.Errorf("only %d of 50 words placed", len(texts))
	}
	var boxes []box
	for _, tx := range texts {
		word := strings.TrimSuffix(tx.text(), tx.all("title")[0].Text)
		size := tx.num(t, "font-size")
		x, y := tx.num(t, "x"), tx.num(t, "y")-0.35*size
		w := textWidth(word, size)
		b := box{x - w/2, y - size/2, x + w/2, y + size/2}
		if b.x0 < 0 || b.x1 > 360 || b.y0 < 0 {
			t.Errorf("%q outside the viewBox: %+v", word, b)
		}
		for _, o := range boxes {
			if b.overlaps(o) {
				t.Errorf("%q overlaps another word", word)
			}
		}
		boxes = append(boxes, b)
	}
	// Biggest word gets the biggest font.
	again := WordCloud(words, l, Options{})
	if again != c {
		t.Error("layout is not deterministic")
	}
	small := WordCloud([]WordCount{{"rainy", 3}, {"sunny", 2}}, l, Options{RTL: true})
	s, rows := check(t, small, l)
	if fmt.Sprint(rows) != "[[x-head y-head] [rainy 3] [sunny 2]]" {
		t.Errorf("small table = %v", rows)
	}
	sizes := map[string]float64{}
	for _, tx := range s.all("text") {
		sizes[strings.TrimSuffix(tx.text(), tx.all("title")[0].Text)] = tx.num(t, "font-size")
	}
	if sizes["rainy"] <= sizes["sunny"] {
		t.Errorf("sizes = %v", sizes)
	}
}

func TestStats(t *testing.T) {
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	one8 := []float64{1, 2, 3, 4, 5, 6, 7, 8}
	near("Mean(1..8)", Mean(one8), 4.5)
	near("PopulationSD(1..8)", PopulationSD(one8), math.Sqrt(5.25)) // 2.2913
	near("Mean(nil)", Mean(nil), 0)
	near("PopulationSD(nil)", PopulationSD(nil), 0)
	// SPEC §3.6 verified example: follow-ups 42/84/126 → mean 84, SD 34.3.
	f := []float64{42, 84, 126}
	near("Mean(42,84,126)", Mean(f), 84)
	near("SD(42,84,126)", Round1(PopulationSD(f)), 34.3)
	near("SDFromSums equal", SDFromSums(3, 0.3, 0.03), 0)

	// SPEC §3.3/§3.4 verified figures: answers 4, 3 and 8 in one poll run, three
	// complete responses → sum 15, average 5, response rate 100, SD 2.2.
	run := Run{Responses: 3, Answers: 3, Numeric: 3, Sum: 4 + 3 + 8, SumSq: 16 + 9 + 64}
	sums, avgs, rates := NumericSeries([]Run{run})
	if sums[0] != 15 || avgs[0] != 5 || rates[0] != 100 {
		t.Errorf("series = %v %v %v, want 15 5 100", sums, avgs, rates)
	}
	if s := SummarizeRun(run); s != (Summary{Mean: 5, SD: 2.2, ResponseRate: 100}) {
		t.Errorf("SummarizeRun = %+v, want 5 / 2.2 / 100", s)
	}
	near("SDFromSums(4,3,8)", SDFromSums(3, 15, 89), PopulationSD([]float64{4, 3, 8}))
	if s := Summarize([]Run{run}); s != (Summary{Mean: 5, SD: 0, ResponseRate: 100}) {
		t.Errorf("Summarize one run = %+v, want 5 / 0 / 100", s)
	}
	// The answer 4 removed: 2 answers of 3 responses → 66.7.
	run2 := Run{Responses: 3, Answers: 2, Numeric: 2, Sum: 11, SumSq: 73}
	if _, _, r := NumericSeries([]Run{run2}); r[0] != 66.7 {
		t.Errorf("rate = %v, want 66.7", r[0])
	}
	if s := Summarize([]Run{run2}); s.ResponseRate != 66.7 || s.Mean != 5.5 {
		t.Errorf("Summarize = %+v, want mean 5.5, rate 66.7", s)
	}
	// Missing poll runs count as 0: averages 5, 0, 3 → mean 2.7, SD 2.1;
	// rates 100, 0, 50 → 50.
	runs := []Run{run, {}, {Responses: 4, Answers: 2, Numeric: 2, Sum: 6, SumSq: 18}}
	if s := Summarize(runs); s != (Summary{Mean: 2.7, SD: 2.1, ResponseRate: 50}) {
		t.Errorf("Summarize with a missing run = %+v, want 2.7 / 2.1 / 50", s)
	}
	sums, avgs, rates = NumericSeries(runs)
	if fmt.Sprint(sums, avgs, rates) != "[15 0 6] [5 0 3] [100 0 50]" {
		t.Errorf("series with a missing run = %v %v %v", sums, avgs, rates)
	}
	// Non-numeric answers count for the rate but not the average.
	mixed := Run{Responses: 4, Answers: 3, Numeric: 1, Sum: 7, SumSq: 49}
	if s := SummarizeRun(mixed); s != (Summary{Mean: 7, SD: 0, ResponseRate: 75}) {
		t.Errorf("mixed = %+v", s)
	}
}
