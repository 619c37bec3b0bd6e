package models

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"
)

func adminScope(t *testing.T, f *fixture) *Scope {
	t.Helper()
	s, err := f.db.ResolveScope(context.Background(), f.org.ID, 0, true, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

// popSD is the population standard deviation from count, sum and sum of squares.
func popSD(n int, sum, sumSq float64) float64 {
	if n == 0 {
		return 0
	}
	m := sum / float64(n)
	return math.Sqrt(math.Max(0, sumSq/float64(n)-m*m))
}

// addPanels tracks Kabul and Herat as panels and Teachers and Nurses as cohorts.
func addPanels(t *testing.T, f *fixture) (kabul, herat int64) {
	t.Helper()
	ctx := context.Background()
	groups := []RapidProGroup{{UUID: "g-kabul", Name: "Kabul"}, {UUID: "g-teachers", Name: "Teachers"}, {UUID: "g-herat", Name: "Herat"}, {UUID: "g-nurses", Name: "Nurses"}}
	if _, _, err := f.db.SyncGroups(ctx, f.org.ID, groups); err != nil {
		t.Fatal(err)
	}
	for table, names := range map[string][]string{"regions": {"Kabul", "Herat"}, "cohorts": {"Teachers", "Nurses"}} {
		gs, _ := f.db.ResolveGroups(ctx, f.org.ID, names)
		if _, err := f.db.TrackGroups(ctx, f.org.ID, table, gs); err != nil {
			t.Fatal(err)
		}
	}
	rs, _ := f.db.ListRegions(ctx, f.org.ID, true)
	for _, r := range rs {
		if r.Name == "Herat" {
			herat = r.ID
		} else {
			kabul = r.ID
		}
	}
	return kabul, herat
}

// TestStatsSpecExamples reproduces SPEC §3.3/§3.4's verified numbers (the
// original's test_charts): answers 4, 3 and 8 on one date → sum 15, average 5,
// response rate 100, population SD 2.2; one answer removed → rate 66.7.
func TestStatsSpecExamples(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	d := time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
	run := func(uuid, contact, value, category string) RunRow {
		r := numRun(uuid, contact, d, value)
		r.Values[0].Category = cat(category)
		return r
	}
	f.ingest(t, run("r1", "c1", "4.00000", "1 - 5"), run("r2", "c2", "3.00000", "1 - 5"), run("r3", "c3", "8.00000", "6 - 10"))
	scope := adminScope(t, f)
	flt := ChartFilter{Scope: scope}
	prs, err := f.db.ChartPollruns(ctx, f.poll.ID, flt, true)
	if err != nil || len(prs) != 1 || prs[0].LocalDate != "2026-03-02" {
		t.Fatalf("poll runs = %+v, %v", prs, err)
	}
	st, err := f.db.StatsByPollrun(ctx, f.qNum, prs, flt)
	if err != nil {
		t.Fatal(err)
	}
	s := st[0]
	if s.Sum != 15 || s.Average() != 5 || s.ResponseRate() != 100 || s.Responses != 3 || s.Answers != 3 {
		t.Fatalf("stats = %+v", s)
	}
	if got := round1(popSD(s.Numeric, s.Sum, s.SumSq)); got != 2.2 {
		t.Fatalf("single-date SD = %v, want 2.2", got)
	}
	if s.Categories["1 - 5"] != 2 || s.Categories["6 - 10"] != 1 {
		t.Fatalf("categories = %v", s.Categories)
	}
	// The answer of c1 disappears (its run updated without it): 2 answers of 3 responses.
	upd := run("r1", "c1", "4.00000", "1 - 5")
	upd.Values, upd.ExitType, upd.ModifiedOn = nil, "", d.Add(time.Hour)
	f.ingest(t, upd)
	st, _ = f.db.StatsByPollrun(ctx, f.qNum, prs, flt)
	if r := round1(st[0].ResponseRate()); r != 66.7 || st[0].Sum != 11 {
		t.Fatalf("after removing an answer: rate %v, %+v", r, st[0])
	}
	assertNoDrift(t, f)
}

// Three contacts answering 3, 5, 7: sum 15, average 5, rate 100; a fourth
// empty response makes the rate 75.
func TestStatsResponseRateCountsEmptyResponses(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.db.ApplyContacts(ctx, f.org, []ContactRow{contactRow("c4", true, "g-kabul")}, nil); err != nil {
		t.Fatal(err)
	}
	d := time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
	f.ingest(t, numRun("a", "c1", d, "3"), numRun("b", "c2", d, "5"), numRun("c", "c3", d, "7"))
	flt := ChartFilter{Scope: adminScope(t, f)}
	prs, _ := f.db.ChartPollruns(ctx, f.poll.ID, flt, true)
	st, err := f.db.StatsByPollrun(ctx, f.qNum, prs, flt)
	if err != nil || st[0].Sum != 15 || st[0].Average() != 5 || st[0].ResponseRate() != 100 {
		t.Fatalf("stats = %+v %v", st, err)
	}
	empty := RunRow{UUID: "e", FlowUUID: "flow-1", ContactUUID: "c4", CreatedOn: d, ModifiedOn: d}
	f.ingest(t, empty)
	st, _ = f.db.StatsByPollrun(ctx, f.qNum, prs, flt)
	if st[0].ResponseRate() != 75 || st[0].Responses != 4 {
		t.Fatalf("with an empty response: %+v", st[0])
	}
	// A date range outside the poll run selects nothing.
	flt.From = d.Add(24 * time.Hour)
	if prs, _ := f.db.ChartPollruns(ctx, f.poll.ID, flt, true); len(prs) != 0 {
		t.Fatalf("date range: %+v", prs)
	}
	assertNoDrift(t, f)
}

func TestStatsScopingSplitFiltersAndParticipation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	kabul, herat := addPanels(t, f)
	if _, _, _, err := f.db.SyncFields(ctx, f.org.ID, []DataField{{Key: "district", Label: "District", ValueType: "T"}}); err != nil {
		t.Fatal(err)
	}
	district := func(v string) map[string]*string { return map[string]*string{"district": &v} }
	c1, c2, c3 := contactRow("c1", true, "g-kabul", "g-teachers", "g-nurses"), contactRow("c2", true, "g-kabul", "g-teachers"), contactRow("c3", true, "g-herat")
	c1.Fields, c2.Fields, c3.Fields = district("Kabul City"), district("Kabul East"), district("Herat West")
	if _, err := f.db.ApplyContacts(ctx, f.org, []ContactRow{c1, c2, c3}, nil); err != nil {
		t.Fatal(err)
	}
	d := time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
	partial := numRun("c", "c3", d, "8")
	partial.ExitType = ""
	f.ingest(t, numRun("a", "c1", d, "4"), numRun("b", "c2", d, "3"), partial)
	assertNoDrift(t, f)

	all := ChartFilter{Scope: adminScope(t, f)}
	prs, _ := f.db.ChartPollruns(ctx, f.poll.ID, all, false)
	byPanel, err := f.db.StatsByPanel(ctx, f.qNum, prs, all)
	if err != nil {
		t.Fatal(err)
	}
	if k, h := byPanel[kabul][0], byPanel[herat][0]; k.Sum != 7 || k.Average() != 3.5 || h.Sum != 8 || h.ResponseRate() != 100 {
		t.Fatalf("split: kabul %+v herat %+v", k, h)
	}

	// A supervisor of Kabul never counts Herat's contact.
	sup, err := f.db.CreateMember(ctx, f.org.ID, NewUser{Email: "sup@example.org", FullName: "Sup"}, "supervisor", []int64{kabul})
	if err != nil {
		t.Fatal(err)
	}
	scope, err := f.db.ResolveScope(ctx, f.org.ID, sup.ID, false, herat, true)
	if err != nil {
		t.Fatal(err)
	}
	mine := ChartFilter{Scope: scope}
	prs2, _ := f.db.ChartPollruns(ctx, f.poll.ID, mine, false)
	st, _ := f.db.StatsByPollrun(ctx, f.qNum, prs2, mine)
	if len(st) != 1 || st[0].Sum != 7 || st[0].Responses != 2 {
		t.Fatalf("supervisor stats = %+v", st)
	}
	vals, _ := f.db.AnswerValues(ctx, f.qNum, prs2, mine, 0)
	if len(vals) != 2 {
		t.Fatalf("supervisor answer values = %+v", vals)
	}
	mineEast := mine
	mineEast.Fields = map[string]string{"district": "east"}
	if st, err := f.db.StatsByPollrun(ctx, f.qNum, prs2, mineEast); err != nil || st[0].Sum != 3 || st[0].Responses != 1 {
		t.Fatalf("supervisor filtered stats = %+v %v", st, err)
	}
	if vals, _ := f.db.AnswerValues(ctx, f.qNum, prs2, mineEast, 0); len(vals) != 1 || vals[0].Value != "3" {
		t.Fatalf("supervisor filtered values = %+v", vals)
	}
	rows, totals, _ := f.db.Participation(ctx, prs2[0].ID, mine, "panel")
	if len(rows) != 1 || rows[0].ID != kabul || totals.Total() != 2 {
		t.Fatalf("supervisor participation = %+v %+v", rows, totals)
	}

	// Filters matching everyone give the unfiltered numbers; others narrow.
	for _, tc := range []struct {
		value           string
		sum             float64
		responses, vals int
	}{{"", 15, 3, 3}, {" ", 15, 3, 3}, {"kabul", 7, 2, 2}, {"WEST", 8, 1, 1}, {"nowhere", 0, 0, 0}} {
		flt := all
		flt.Fields = map[string]string{"district": tc.value}
		st, err := f.db.StatsByPollrun(ctx, f.qNum, prs, flt)
		if err != nil {
			t.Fatal(err)
		}
		vs, _ := f.db.AnswerValues(ctx, f.qNum, prs, flt, 0)
		if st[0].Sum != tc.sum || st[0].Responses != tc.responses || len(vs) != tc.vals {
			t.Errorf("filter %q: %+v, %d values", tc.value, st[0], len(vs))
		}
	}
	flt := all
	flt.Fields = map[string]string{"district": "A"} // every district has an "a"
	fst, _ := f.db.StatsByPollrun(ctx, f.qNum, prs, flt)
	ust, _ := f.db.StatsByPollrun(ctx, f.qNum, prs, all)
	if fmt.Sprint(fst) != fmt.Sprint(ust) {
		t.Fatalf("filtered %+v != unfiltered %+v", fst, ust)
	}
	fp, _ := f.db.StatsByPanel(ctx, f.qNum, prs, flt)
	if fmt.Sprint(fp) != fmt.Sprint(byPanel) {
		t.Fatalf("filtered split %+v != unfiltered %+v", fp, byPanel)
	}

	// Participation by cohort: c1 is in both cohorts, counted once in the totals.
	rows, totals, err = f.db.Participation(ctx, prs[0].ID, all, "cohort")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Name != "Nurses" || rows[0].Full != 1 || rows[1].Name != "Teachers" || rows[1].Full != 2 {
		t.Fatalf("cohort rows = %+v", rows)
	}
	if totals.Full != 2 || totals.Total() != 2 || totals.Completion() != 100 {
		t.Fatalf("cohort totals = %+v", totals)
	}
	rows, totals, _ = f.db.Participation(ctx, prs[0].ID, all, "panel")
	if len(rows) != 2 || rows[0].Name != "Herat" || rows[0].Partial != 1 || rows[0].Completion() != 0 || totals.Total() != 3 || totals.Completion() != 66 {
		t.Fatalf("panel rows = %+v totals %+v", rows, totals)
	}
	flt.Fields = map[string]string{"district": "kabul"}
	rows, totals, _ = f.db.Participation(ctx, prs[0].ID, flt, "panel")
	if len(rows) != 1 || totals.Full != 2 {
		t.Fatalf("filtered panel rows = %+v totals %+v", rows, totals)
	}
}
