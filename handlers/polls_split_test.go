package handlers

import (
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
