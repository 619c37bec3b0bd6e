package charts

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

// cloudColors are the Okabe–Ito colours dark enough for text on white.
var cloudColors = [5]string{"#0072B2", "#D55E00", "#000000", "#009E73", "#CC79A7"}

type box struct{ x0, y0, x1, y1 float64 }

func (a box) overlaps(b box) bool {
	return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1
}

// WordCloud draws the TopWords most frequent words (by count, ties by word),
// sized 12–34 by count and placed deterministically on an elliptic spiral from
// the centre outwards, each at the first position whose estimated bounding box
// overlaps no earlier word (a word that finds none is left out of the picture
// but stays in the table). Each word's <title> carries its count; the data table
// lists words (Labels.X) and counts (Labels.Y). Empty input returns the zero
// Chart. A Light cloud is the table of the top lightWords words alone, open.
func WordCloud(words []WordCount, l Labels, o Options) Chart {
	counts := map[string]int{}
	for _, w := range words {
		counts[w.Word] += w.Count
	}
	words = Top(counts, TopWords)
	if len(words) == 0 {
		return Chart{}
	}
	if o.Light {
		t := newTableOpen(l, []string{l.X, l.Y}, true)
		for _, w := range words[:min(lightWords, len(words))] {
			t.row(w.Word, "", o.count(w.Count))
		}
		return Chart{Table: t.html()}
	}
	lo, hi := words[len(words)-1].Count, words[0].Count
	type placed struct {
		word                     string
		size, x, y, color, count int
	}
	var done []placed
	var boxes []box
	const half = width/2 - 6
	for i, w := range words {
		size := 18.0
		if hi > lo {
			size = 12 + 22*float64(w.Count-lo)/float64(hi-lo)
		}
		word := w.Word
		if tw := textWidth(word, size); tw > 2*half {
			size = math.Max(11, math.Floor(2*half/textWidth(word, 1)))
			word = clip(word, int(2*half/(size*charWidth)))
		}
		size = math.Round(size)
		bw, bh := textWidth(word, size)+4, size*1.2
		// An elliptic Archimedean spiral, four times wider than tall, walked in
		// steps of about 4 units of arc.
		for t := 0.0; t < 1200; t += math.Min(0.25, 4/(1+4*t)) {
			cx, cy := math.Round(t*math.Cos(t)*4), math.Round(t*math.Sin(t))
			b := box{cx - bw/2, cy - bh/2, cx + bw/2, cy + bh/2}
			if b.x0 < -half || b.x1 > half {
				continue
			}
			free := true
			for _, o := range boxes {
				if b.overlaps(o) {
					free = false
					break
				}
			}
			if free {
				boxes = append(boxes, b)
				done = append(done, placed{word, int(size), int(cx), int(cy), i % len(cloudColors), w.Count})
				break
			}
		}
	}
	top, bottom := 0.0, 0.0
	for _, b := range boxes {
		top, bottom = math.Min(top, b.y0), math.Max(bottom, b.y1)
	}
	dy := 4 - top
	// Group words by colour so the fill is written once per colour.
	sort.SliceStable(done, func(i, j int) bool { return done[i].color < done[j].color })

	var b strings.Builder
	svgOpen(&b, bottom-top+8, l, o, false)
	b.WriteString(`<g text-anchor="middle">`)
	for i, p := range done {
		if i == 0 || done[i-1].color != p.color {
			if i > 0 {
				b.WriteString(`</g>`)
			}
			b.WriteString(`<g fill="` + cloudColors[p.color] + `">`)
		}
		y := float64(p.y) + dy + 0.35*float64(p.size)
		b.WriteString(`<text x="` + strconv.Itoa(p.x+width/2) + `" y="` + f(math.Round(y)) + `" font-size="` + strconv.Itoa(p.size) + `">` +
			esc(p.word) + `<title>` + esc(o.count(p.count)) + `</title></text>`)
	}
	b.WriteString(`</g></g></svg>`)

	t := newTable(l, []string{l.X, l.Y})
	for _, w := range words {
		t.row(w.Word, "", o.count(w.Count))
	}
	return Chart{SVG: svgHTML(&b), Table: t.html()}
}
