package handlers

import (
	"fmt"
	"testing"

	"tracpro/models"
)

// A split chart keeps the nine busiest panels and merges the rest into one
// exact "Other panels" series.
func TestMergeSmallPanels(t *testing.T) {
	byPanel := map[int64][]models.QuestionStats{}
	for id := int64(1); id <= 14; id++ {
		byPanel[id] = []models.QuestionStats{
			{Responses: int(id), Answers: int(id), Numeric: 1, Sum: float64(id), SumSq: float64(id * id)},
			{Responses: 1, Answers: 0},
		}
	}
	got := mergeSmallPanels(byPanel, 10)
	if len(got) != 10 {
		t.Fatalf("%d series, want 10", len(got))
	}
	for id := int64(6); id <= 14; id++ {
		if _, ok := got[id]; !ok {
			t.Fatalf("busy panel %d merged away", id)
		}
	}
	other := got[0]
	// Panels 1..5 merged: responses 15, numeric 5, sum 15, sum of squares 55.
	if o := other[0]; o.Responses != 15 || o.Answers != 15 || o.Numeric != 5 || o.Sum != 15 || o.SumSq != 55 {
		t.Fatalf("other panels = %+v", o)
	}
	if o := other[1]; o.Responses != 5 || o.Answers != 0 {
		t.Fatalf("other panels, second poll run = %+v", o)
	}
	if small := mergeSmallPanels(map[int64][]models.QuestionStats{1: nil, 2: nil}, 10); len(small) != 2 {
		t.Fatal("few panels must stay as they are")
	}
}

// TestSplitTopPanelsFromCounters: on an org of the benchmark's shape (200
// panels), the split chart's series worked out in SQL (StatsByPanelTop: the
// seven busiest panels and "other panels") equal the per-panel stats merged
// in Go, for "All panels" and a province, every question.
func TestSplitTopPanelsFromCounters(t *testing.T) {
	e := newTestEnv(t)
	bo, err := e.DB.GenerateBenchOrg(e.Ctx, models.BenchOrgConfig{Contacts: 1500, Polls: 1, Pollruns: 6, PerPollrun: 600})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.DB.RecountOrg(e.Ctx, bo.Org.ID, true); err != nil {
		t.Fatal(err)
	}
	figures := func(m map[int64][]models.QuestionStats) string {
		out := map[int64][]string{}
		for id, ss := range m {
			for _, s := range ss {
				out[id] = append(out[id], fmt.Sprintf("%d/%d/%d/%.6g/%.6g", s.Responses, s.Answers, s.Numeric, s.Sum, s.SumSq))
			}
		}
		return fmt.Sprint(out)
	}
	for _, selected := range []int64{0, bo.Province} {
		scope, err := e.DB.ResolveScope(e.Ctx, bo.Org.ID, 0, true, selected, true)
		if err != nil {
			t.Fatal(err)
		}
		f := models.ChartFilter{Scope: scope}
		prs, err := e.DB.ChartPollruns(e.Ctx, bo.Polls[0], f, false)
		if err != nil || len(prs) != 6 {
			t.Fatalf("poll runs %v %v", prs, err)
		}
		for _, q := range bo.Questions[bo.Polls[0]] {
			all, err1 := e.DB.StatsByPanel(e.Ctx, q, prs, f)
			top, err2 := e.DB.StatsByPanelTop(e.Ctx, q, prs, f, maxPanelSeries)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if len(all) <= maxPanelSeries || len(top) != maxPanelSeries || top[0] == nil {
				t.Fatalf("panel %d question %d: %d panels, %d series", selected, q, len(all), len(top))
			}
			if got, want := figures(top), figures(mergeSmallPanels(all, maxPanelSeries)); got != want {
				t.Errorf("panel %d question %d:\nSQL %s\nGo  %s", selected, q, got, want)
			}
		}
	}
}
