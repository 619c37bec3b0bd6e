package models

import (
	"context"
	mrand "math/rand/v2"
	"testing"
	"time"
)

// TestIndicatorBaselineCountersMatchRaw checks the baseline read from
// first_counters (migration 0014) against the raw rows through new answers
// (an earlier one replaces a contact's earliest), a re-answered run, a
// contact deactivated and one moved to another panel, spoof data made and
// cleared: for "All panels" and Kabul, every panel or one, the whole month
// (counters) and a window leaving the first days out (raw rows either way).
func TestIndicatorBaselineCountersMatchRaw(t *testing.T) {
	f := newIndicatorFixture(t)
	ctx := context.Background()
	loc := f.org.Location()
	d := func(day, hour int) time.Time { return time.Date(2026, 3, day, hour, 0, 0, 0, time.UTC) }
	month := [2]time.Time{time.Date(2026, 3, 1, 0, 0, 0, 0, loc), time.Date(2026, 4, 1, 0, 0, 0, 0, loc)}
	late := [2]time.Time{time.Date(2026, 3, 3, 0, 0, 0, 0, loc), time.Date(2026, 4, 1, 0, 0, 0, 0, loc)}
	check := func(step string, want float64, wantAnswered, wantResponded int) {
		t.Helper()
		assertNoDrift(t, f.fixture)
		for _, scope := range []int64{0, f.kabul} {
			for _, panel := range []int64{0, f.kabul, f.herat} {
				for wi, w := range [][2]time.Time{month, late} {
					cf := ChartFilter{Scope: scopeOf(t, f, scope), From: w[0], To: w[1]}
					counted, err := f.db.IndicatorReport(ctx, f.ind, IndicatorFilter{ChartFilter: cf, Panel: panel}, nil)
					if err != nil {
						t.Fatal(err)
					}
					cf.rawRows = true
					raw, err := f.db.IndicatorReport(ctx, f.ind, IndicatorFilter{ChartFilter: cf, Panel: panel}, nil)
					if err != nil {
						t.Fatal(err)
					}
					if counted.Baseline != raw.Baseline || counted.BaselineAnswered != raw.BaselineAnswered ||
						counted.BaselineResponded != raw.BaselineResponded || len(counted.Panels) != len(raw.Panels) {
						t.Errorf("%s, scope %d, panel %d, window %d: counters %v from %d/%d (panels %v), raw %v from %d/%d (panels %v)", step, scope, panel, wi,
							counted.Baseline, counted.BaselineAnswered, counted.BaselineResponded, counted.Panels,
							raw.Baseline, raw.BaselineAnswered, raw.BaselineResponded, raw.Panels)
					}
					if scope == 0 && panel == 0 && wi == 0 && (raw.Baseline != want || raw.BaselineAnswered != wantAnswered || raw.BaselineResponded != wantResponded) {
						t.Errorf("%s: baseline %v from %d of %d contacts, want %v from %d of %d", step, raw.Baseline, raw.BaselineAnswered,
							raw.BaselineResponded, want, wantAnswered, wantResponded)
					}
				}
			}
		}
		// The whole month holds every baseline poll run: the counters answer.
		basePrs, err := f.db.ChartPollruns(ctx, f.poll.ID, ChartFilter{Scope: scopeOf(t, f, 0), From: month[0], To: month[1]}, true)
		if err != nil {
			t.Fatal(err)
		}
		cf := ChartFilter{Scope: scopeOf(t, f, 0)}
		ok, err := f.db.baselineCounted(ctx, f.poll.ID, f.qNum, basePrs, cf, cf.panels(), false, func(int64) bool { return true }, map[int64]bool{}, &IndicatorReport{})
		if err != nil || !ok {
			t.Errorf("%s: counters not used (%v)", step, err)
		}
	}

	// c1 10; c2 "x" then 20 (its earliest number); c3 2.5; c4 responded
	// without an answer; c5 (Herat) 7. One follow-up answer.
	f.ingest(t, numRun("b1", "c1", d(2, 6), "10"), numRun("b2", "c2", d(2, 6), "x"), numRun("b2b", "c2", d(3, 6), "20"),
		numRun("b3", "c3", d(4, 6), "2.5"), numRun("b4", "c4", d(2, 7), ""), numRun("b5", "c5", d(2, 8), "7"),
		fuRun("f1", "c1", d(10, 6), "12"))
	check("first answers", 39.5, 4, 5)

	// New answers: c1 answered earlier (3 replaces 10), c4 answers later (4).
	f.ingest(t, numRun("b1-early", "c1", d(1, 6), "3"), numRun("b4b", "c4", d(9, 6), "4"))
	check("new answers", 36.5, 5, 5)

	// c3's run re-answered: 2.5 becomes 6.
	re := numRun("b3", "c3", d(4, 6), "6")
	re.ModifiedOn = d(20, 6)
	f.ingest(t, re)
	check("re-answer", 40, 5, 5)

	// c2 deactivated, c5 moved from Herat to Kabul.
	if _, err := f.db.ApplyContacts(ctx, f.org, []ContactRow{contactRow("c2", false, "g-kabul"), contactRow("c5", true, "g-kabul")}, nil); err != nil {
		t.Fatal(err)
	}
	check("deactivated and moved", 20, 4, 4)

	// Spoof data for c2 (inactive: not counted) and c3 (its real 6 stays its
	// earliest), then cleared.
	if _, err := f.db.Exec(`UPDATE orgs SET show_spoof_data = 1 WHERE id = ?`, f.org.ID); err != nil {
		t.Fatal(err)
	}
	contacts := f.contactIDs(t, "c3", "c4")
	if _, err := f.db.CreateSpoofData(ctx, f.org, scopeOf(t, f, 0), SpoofInput{Contacts: contacts, StartDate: "2026-03-01", EndDate: "2026-03-02",
		BaselineQuestionID: f.qNum, FollowUpQuestionID: f.qFU, BaselineMin: "50", BaselineMax: "50", FollowUpMin: "1", FollowUpMax: "3"},
		mrand.New(mrand.NewPCG(1, 2)), 0); err != nil {
		t.Fatal(err)
	}
	// Both spoofed answers (1 March, the start date) come before c3's and
	// c4's real ones: 3 + 50 + 50 + 7.
	check("spoofed", 110, 4, 4)
	if _, err := f.db.ClearSpoofData(ctx, f.org.ID); err != nil {
		t.Fatal(err)
	}
	check("spoof cleared", 20, 4, 4)

	// The question made open-ended (its rows go; the raw rows answer), then
	// numeric again (its rows are written back).
	for _, typ := range []string{QuestionOpen, QuestionNumeric} {
		if _, err := f.db.Exec(`UPDATE questions SET question_type = ? WHERE id = ?`, typ, f.qNum); err != nil {
			t.Fatal(err)
		}
		var rows int
		if err := f.db.QueryRow(`SELECT count(*) FROM first_answers WHERE question_id = ?`, f.qNum).Scan(&rows); err != nil || (rows == 0) != (typ == QuestionOpen) {
			t.Errorf("question type %s: %d first answers, %v", typ, rows, err)
		}
		if typ == QuestionNumeric {
			check("numeric again", 20, 4, 4)
		}
	}

	// The indicator's baseline poll changed (the poll's rows go, the other
	// poll's are written), then back; deleted (the rows go); saved again.
	in := IndicatorInput{Name: "Pupils", StartDate: "2026-03-01", EndDate: "2026-03-31",
		BaselinePollID: f.fuPoll, BaselineQuestionID: f.qFU, FollowUpPollID: f.poll.ID, FollowUpQuestionID: f.qNum}
	rowsOf := func(poll int64) (n int) {
		t.Helper()
		if err := f.db.QueryRow(`SELECT (SELECT count(*) FROM first_answers WHERE poll_id = ?1) + (SELECT count(*) FROM first_counters WHERE poll_id = ?1)`, poll).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := f.db.UpdateIndicator(ctx, f.org, f.ind.ID, in); err != nil {
		t.Fatal(err)
	}
	if rowsOf(f.poll.ID) != 0 || rowsOf(f.fuPoll) == 0 {
		t.Errorf("baseline poll changed: %d rows of the old poll, %d of the new", rowsOf(f.poll.ID), rowsOf(f.fuPoll))
	}
	assertNoDrift(t, f.fixture)
	in.BaselinePollID, in.BaselineQuestionID, in.FollowUpPollID, in.FollowUpQuestionID = f.poll.ID, f.qNum, f.fuPoll, f.qFU
	if err := f.db.UpdateIndicator(ctx, f.org, f.ind.ID, in); err != nil {
		t.Fatal(err)
	}
	check("baseline poll changed back", 20, 4, 4)
	if err := f.db.DeleteIndicator(ctx, f.org.ID, f.ind.ID); err != nil {
		t.Fatal(err)
	}
	if n := rowsOf(f.poll.ID); n != 0 {
		t.Errorf("indicator deleted: %d rows left", n)
	}
	assertNoDrift(t, f.fixture)
	var err error
	if f.ind, err = f.db.CreateIndicator(ctx, f.org, in); err != nil {
		t.Fatal(err)
	}
	check("saved again", 20, 4, 4)

	// A drifted row is found by the recount and rewritten by --fix.
	if _, err := f.db.Exec(`UPDATE first_counters SET sum_last = sum_last + 1 WHERE question_id = ?`, f.qNum); err != nil {
		t.Fatal(err)
	}
	if rep, err := f.db.RecountOrg(ctx, f.org.ID, false); err != nil || rep.Drifted == 0 || rep.FirstChecked == 0 {
		t.Fatalf("recount after a drift: %+v, %v", rep, err)
	}
	if _, err := f.db.RecountOrg(ctx, f.org.ID, true); err != nil {
		t.Fatal(err)
	}
	check("fixed", 20, 4, 4)
}
