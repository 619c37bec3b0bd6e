package models

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"testing"
	"time"
)

// participationOf returns "name:none/partial/full" per cohort and the totals.
func participationOf(t *testing.T, f *fixture, pollrun int64, flt ChartFilter) string {
	t.Helper()
	rows, totals, err := f.db.Participation(context.Background(), pollrun, flt, "cohort")
	if err != nil {
		t.Fatal(err)
	}
	s := ""
	for _, r := range rows {
		s += fmt.Sprintf("%s:%d/%d/%d ", r.Name, r.None, r.Partial, r.Full)
	}
	return s + fmt.Sprintf("total:%d/%d/%d", totals.None, totals.Partial, totals.Full)
}

// TestCohortCountersFollowMembership: the trigger-kept cohort counters
// (migration 0005) match the raw rows after ingest, re-answers, cohort
// joins and leaves, moves, deactivations and re-activations; participation
// by cohort read from them equals the raw computation (an inactive cohort,
// or a field filter, takes the raw path).
func TestCohortCountersFollowMembership(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	kabul, _ := addPanels(t, f)
	apply := func(rows ...ContactRow) {
		t.Helper()
		if _, err := f.db.ApplyContacts(ctx, f.org, rows, nil); err != nil {
			t.Fatal(err)
		}
		assertNoDrift(t, f)
	}
	if _, err := f.db.ApplyContacts(ctx, f.org, []ContactRow{contactRow("c1", true, "g-kabul", "g-teachers", "g-nurses"),
		contactRow("c2", true, "g-kabul", "g-teachers"), contactRow("c3", true, "g-herat")}, nil); err != nil {
		t.Fatal(err)
	}
	d := time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
	partial := numRun("r3", "c3", d, "8")
	partial.ExitType = ""
	f.ingest(t, numRun("r1", "c1", d, "4"), numRun("r2", "c2", d, ""), partial)
	assertNoDrift(t, f)
	f.ingest(t, numRun("r1b", "c1", d.Add(time.Hour), "6")) // a re-answer replaces r1
	assertNoDrift(t, f)

	all := ChartFilter{Scope: adminScope(t, f)}
	prs, _ := f.db.ChartPollruns(ctx, f.poll.ID, all, false)
	pr := prs[0].ID
	var n int
	if err := f.db.QueryRow(`SELECT count(*) FROM cohort_counters WHERE pollrun_id = ?`, pr).Scan(&n); err != nil || n == 0 {
		t.Fatalf("cohort counters: %d %v", n, err)
	}
	// c1 (both cohorts) complete, c2 (Teachers) complete without answer;
	// totals count c1 once; c3 in no cohort is not in the totals.
	if got, want := participationOf(t, f, pr, all), "Nurses:0/0/1 Teachers:0/0/2 total:0/0/2"; got != want {
		t.Fatalf("participation = %q, want %q", got, want)
	}
	// c3 joins Nurses, c1 leaves Teachers, c2 moves to Herat.
	apply(contactRow("c3", true, "g-herat", "g-nurses"), contactRow("c1", true, "g-kabul", "g-nurses"), contactRow("c2", true, "g-herat", "g-teachers"))
	if got, want := participationOf(t, f, pr, all), "Nurses:0/1/1 Teachers:0/0/1 total:0/1/2"; got != want {
		t.Fatalf("after membership changes = %q, want %q", got, want)
	}
	sup, err := f.db.ResolveScope(ctx, f.org.ID, 0, true, kabul, true)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := participationOf(t, f, pr, ChartFilter{Scope: sup}), "Nurses:0/0/1 total:0/0/1"; got != want {
		t.Fatalf("Kabul participation = %q, want %q", got, want)
	}
	// Deactivated, then back; a contact leaving every cohort.
	apply(contactRow("c1", false, "g-kabul", "g-nurses"))
	if got, want := participationOf(t, f, pr, all), "Nurses:0/1/0 Teachers:0/0/1 total:0/1/1"; got != want {
		t.Fatalf("after deactivation = %q, want %q", got, want)
	}
	apply(contactRow("c1", true, "g-kabul", "g-nurses"), contactRow("c2", true, "g-herat"))
	if got, want := participationOf(t, f, pr, all), "Nurses:0/1/1 total:0/1/1"; got != want {
		t.Fatalf("after re-activation = %q, want %q", got, want)
	}
	// Poll run heads from the counters equal the raw counts.
	for _, sc := range []*Scope{all.Scope, sup} {
		a, err1 := f.db.PollrunInScope(ctx, f.org.ID, pr, sc)
		b, err2 := f.db.PollrunHeader(ctx, f.org.ID, pr, sc)
		if err1 != nil || err2 != nil || *a != *b {
			t.Fatalf("poll run head: raw %+v, counters %+v (%v %v)", a, b, err1, err2)
		}
	}
	if _, err := f.db.PollrunHeader(ctx, f.org.ID, pr+100, sup); ErrorCode(err) != CodeNotFound {
		t.Fatalf("unknown poll run: %v", err)
	}
	// An inactive cohort (the raw path) gives the same rows for the others.
	if _, err := f.db.Exec(`UPDATE cohorts SET is_active = 0 WHERE name = 'Teachers'`); err != nil {
		t.Fatal(err)
	}
	if got, want := participationOf(t, f, pr, all), "Nurses:0/1/1 total:0/1/1"; got != want {
		t.Fatalf("with an inactive cohort = %q, want %q", got, want)
	}
	// A broken cohort counter is reported and fixed.
	if _, err := f.db.Exec(`UPDATE cohort_counters SET complete = complete + 3 WHERE cohort_id = 0`); err != nil {
		t.Fatal(err)
	}
	rep, err := f.db.RecountOrg(ctx, f.org.ID, true)
	if err != nil || rep.Drifted == 0 || rep.CohortsChecked == 0 {
		t.Fatalf("recount --fix: %+v %v", rep, err)
	}
	assertNoDrift(t, f)
}

// TestResolvedFilterAndExportEncoding: a field filter worked out once
// (ResolveFilter) gives the same figures as the per-query search; the CSV
// keeps answers containing the separators of its one-row-per-response query.
func TestResolvedFilterAndExportEncoding(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	kabul, _ := addPanels(t, f)
	if _, _, _, err := f.db.SyncFields(ctx, f.org.ID, []DataField{{Key: "district", Label: "District", ValueType: "T"}}); err != nil {
		t.Fatal(err)
	}
	district := func(v string) map[string]*string { return map[string]*string{"district": &v} }
	c1, c2, c3 := contactRow("c1", true, "g-kabul", "g-teachers"), contactRow("c2", true, "g-kabul"), contactRow("c3", true, "g-herat")
	c1.Fields, c2.Fields, c3.Fields = district("Kabul City"), district("Kabul East"), district("Herat East")
	if _, err := f.db.ApplyContacts(ctx, f.org, []ContactRow{c1, c2, c3}, nil); err != nil {
		t.Fatal(err)
	}
	d := time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
	odd := numRun("r2", "c2", d, "12:3:x,\"y\"\x1f")
	f.ingest(t, numRun("r1", "c1", d, "4"), odd, numRun("r3", "c3", d, "9"))
	scope, err := f.db.ResolveScope(ctx, f.org.ID, 0, true, kabul, true)
	if err != nil {
		t.Fatal(err)
	}
	flt := ChartFilter{Scope: scope, Fields: map[string]string{"district": "EAST"}}
	prs, _ := f.db.ChartPollruns(ctx, f.poll.ID, flt, false)
	resolved, err := f.db.ResolveFilter(ctx, flt)
	if err != nil || resolved.matched == nil || *resolved.matched != "[2]" {
		t.Fatalf("resolved = %v %v", resolved.matched, err)
	}
	for _, q := range []int64{f.qNum, f.qChoice} {
		a, err1 := f.db.StatsByPollrun(ctx, q, prs, flt)
		b, err2 := f.db.StatsByPollrun(ctx, q, prs, resolved)
		if err1 != nil || err2 != nil || fmt.Sprint(a) != fmt.Sprint(b) || a[0].Responses != 1 {
			t.Fatalf("question %d: %v / %v (%v %v)", q, a, b, err1, err2)
		}
	}
	va, _ := f.db.AnswerValues(ctx, f.qNum, prs, flt, 0)
	vb, _ := f.db.AnswerValues(ctx, f.qNum, prs, resolved, 0)
	if fmt.Sprint(va) != fmt.Sprint(vb) || len(va) != 1 {
		t.Fatalf("values %v / %v", va, vb)
	}

	var buf bytes.Buffer
	n, err := f.db.ExportResponses(ctx, &buf, f.org, f.poll.ID, 0, time.Time{}, adminScope(t, f))
	if err != nil || n != 3 {
		t.Fatalf("export: %d %v", n, err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, r := range recs[1:] {
		got[r[1]] = r
	}
	if r := got["c2"]; r == nil || r[5] != "12:3:x,\"y\"\x1f" || r[4] != "" {
		t.Fatalf("c2 row = %q", r)
	}
	if r := got["c1"]; r == nil || r[5] != "4" || r[4] != "Teachers" || r[3] != "Kabul" {
		t.Fatalf("c1 row = %q", r)
	}
}
