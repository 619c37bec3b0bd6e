package models

import (
	"context"
	"strings"
	"testing"
	"time"
)

// assertNoDrift checks every counter of the org against the raw rows.
func assertNoDrift(t *testing.T, f *fixture) {
	t.Helper()
	rep, err := f.db.RecountOrg(context.Background(), f.org.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Checked == 0 {
		t.Fatal("recount checked no counter")
	}
	if rep.Drifted != 0 {
		var lines []string
		for _, d := range rep.Drifts {
			lines = append(lines, d.Key+": stored "+d.Stored+", raw "+d.Raw)
		}
		t.Fatalf("%d of %d counters drifted:\n%s", rep.Drifted, rep.Checked, strings.Join(lines, "\n"))
	}
}

// ingest applies runs through the production ingest path.
func (f *fixture) ingest(t *testing.T, runs ...RunRow) {
	t.Helper()
	ri, err := f.db.NewRunIngester(context.Background(), f.org)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ri.ApplyPage(context.Background(), runs, nil); err != nil {
		t.Fatal(err)
	}
}

// numRun is a completed run of flow-1 answering the numeric question.
func numRun(uuid, contact string, at time.Time, value string) RunRow {
	r := RunRow{UUID: uuid, FlowUUID: "flow-1", ContactUUID: contact, ExitType: "completed", CreatedOn: at, ModifiedOn: at}
	if value != "" {
		r.Values = []RunValueRow{{Key: "pupils", Node: "node-num", Value: value, Category: cat("Low"), Time: at}}
	}
	return r
}

// contactRow is a pulled contact of the fixture in the given panel groups.
func contactRow(uuid string, active bool, groups ...string) ContactRow {
	return ContactRow{UUID: uuid, Name: uuid, URNs: []string{"tel:+9370000" + uuid}, Groups: groups, Active: active, ModifiedOn: time.Now()}
}

func TestCountersFollowUpdatesReanswersAndDeactivations(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	d := time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
	f.ingest(t, numRun("a1", "c1", d, "3"), numRun("a2", "c2", d, "5"), numRun("a3", "c3", d, "7"))
	assertNoDrift(t, f)

	// A re-answer the same day: a newer response of c1 replaces the first one.
	f.ingest(t, numRun("a1b", "c1", d.Add(time.Hour), "10"))
	assertNoDrift(t, f)
	// An update of an existing run that drops its answer.
	upd := numRun("a2", "c2", d, "")
	upd.ModifiedOn = d.Add(2 * time.Hour)
	f.ingest(t, upd)
	assertNoDrift(t, f)
	// An older run arriving late does not become active, and its same-day
	// sum changes the active answer's sum value.
	f.ingest(t, numRun("a1c", "c1", d.Add(-time.Hour), "1"))
	assertNoDrift(t, f)

	// Contacts deactivated (blocked), moved to another panel, re-activated.
	if _, _, err := f.db.SyncGroups(ctx, f.org.ID, []RapidProGroup{{UUID: "g-kabul", Name: "Kabul"}, {UUID: "g-teachers", Name: "Teachers"}, {UUID: "g-herat", Name: "Herat"}}); err != nil {
		t.Fatal(err)
	}
	gs, _ := f.db.ResolveGroups(ctx, f.org.ID, []string{"Kabul", "Herat"})
	if _, err := f.db.TrackGroups(ctx, f.org.ID, "regions", gs); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.ApplyContacts(ctx, f.org, []ContactRow{contactRow("c1", false, "g-kabul"), contactRow("c3", true, "g-herat")}, nil); err != nil {
		t.Fatal(err)
	}
	assertNoDrift(t, f)
	if _, err := f.db.ApplyContacts(ctx, f.org, []ContactRow{contactRow("c1", true, "g-herat")}, nil); err != nil {
		t.Fatal(err)
	}
	assertNoDrift(t, f)
	if n, err := f.db.DeactivateContactsNotIn(ctx, f.org.ID, map[string]bool{"c1": true, "c2": true}); err != nil || n != 1 {
		t.Fatalf("deactivated %d, %v", n, err)
	}
	assertNoDrift(t, f)

	// A deliberately broken counter is found and fixed.
	if _, err := f.db.Exec(`UPDATE answer_counters SET answers = answers + 5, sum_last = sum_last + 1`); err != nil {
		t.Fatal(err)
	}
	rep, err := f.db.RecountOrg(ctx, f.org.ID, true)
	if err != nil || rep.Drifted == 0 {
		t.Fatalf("recount --fix: %+v %v", rep, err)
	}
	assertNoDrift(t, f)
}

func TestCountersSameDaySumAndLast(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	d := time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
	// c1 answers 10 then 5 the same day (two runs of one poll run); c2 answers 7.
	f.ingest(t, numRun("x1", "c1", d, "10"), numRun("x3", "c2", d, "7"))
	f.ingest(t, numRun("x2", "c1", d.Add(time.Hour), "5"))
	assertNoDrift(t, f)
	scope := adminScope(t, f)
	stats := func() QuestionStats {
		t.Helper()
		org, _ := f.db.OrgByID(ctx, f.org.ID)
		f.org = org
		prs, err := f.db.ChartPollruns(ctx, f.poll.ID, ChartFilter{Scope: scope}, false)
		if err != nil || len(prs) != 1 {
			t.Fatalf("poll runs %v %v", prs, err)
		}
		st, err := f.db.StatsByPollrun(ctx, f.qNum, prs, ChartFilter{Scope: scope})
		if err != nil {
			t.Fatal(err)
		}
		return st[0]
	}
	// use_last: c1 counts 5 (its newest value), c2 7.
	if s := stats(); s.Sum != 12 || s.Numeric != 2 || s.Responses != 2 {
		t.Fatalf("use_last stats = %+v", s)
	}
	// sum: c1 counts 10 + 5; no recount needed (both variants are counted).
	if _, err := f.db.Exec(`UPDATE orgs SET sameday = 'sum' WHERE id = ?`, f.org.ID); err != nil {
		t.Fatal(err)
	}
	if s := stats(); s.Sum != 22 || s.Numeric != 2 || s.SumSq != 15*15+7*7 {
		t.Fatalf("sum stats = %+v", s)
	}
	assertNoDrift(t, f)
}
