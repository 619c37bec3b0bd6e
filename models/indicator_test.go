package models

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"
)

// indicatorFixture is the fixture plus a second tracked poll ("Follow up",
// flow-2) with a numeric question, a fourth contact in Kabul and a contact
// in Herat; and an indicator from the numeric question of Attendance
// (baseline) to the one of Follow up.
type indicatorFixture struct {
	*fixture
	kabul, herat int64
	fuPoll, qFU  int64
	ind          *Indicator
}

func newIndicatorFixture(t *testing.T) *indicatorFixture {
	t.Helper()
	ctx := context.Background()
	f := &indicatorFixture{fixture: newFixture(t)}
	f.kabul, f.herat = addPanels(t, f.fixture)
	if _, err := f.db.TrackPolls(ctx, f.org.ID, []string{"Attendance", "Other"}); err != nil {
		t.Fatal(err)
	}
	p, err := f.db.PollByRef(ctx, f.org.ID, "Other")
	if err != nil {
		t.Fatal(err)
	}
	f.fuPoll = p.ID
	if _, _, _, err := f.db.SyncQuestions(ctx, p.ID, []QuestionDef{{UUID: "node-score", ResultKey: "score", Label: "Score",
		Rules: []Rule{{Category: "Any", Test: "number"}}}}); err != nil {
		t.Fatal(err)
	}
	qs, _ := f.db.PollQuestions(ctx, p.ID)
	if len(qs) != 1 || qs[0].Type != QuestionNumeric {
		t.Fatalf("follow-up questions = %+v", qs)
	}
	f.qFU = qs[0].ID
	if _, err := f.db.ApplyContacts(ctx, f.org, []ContactRow{contactRow("c4", true, "g-kabul"), contactRow("c5", true, "g-herat")}, nil); err != nil {
		t.Fatal(err)
	}
	f.ind, err = f.db.CreateIndicator(ctx, f.org, IndicatorInput{Name: "Pupils", StartDate: "2026-03-01", EndDate: "2026-03-31",
		BaselinePollID: f.poll.ID, BaselineQuestionID: f.qNum, FollowUpPollID: f.fuPoll, FollowUpQuestionID: f.qFU})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// fuRun is a completed run of flow-2 (value "" = an empty response).
func fuRun(uuid, contact string, at time.Time, value string) RunRow {
	r := RunRow{UUID: uuid, FlowUUID: "flow-2", ContactUUID: contact, CreatedOn: at, ModifiedOn: at}
	if value != "" {
		r.ExitType = "completed"
		r.Values = []RunValueRow{{Key: "score", Node: "node-score", Value: value, Category: cat("Any"), Time: at}}
	}
	return r
}

// scopeOf is the scope with one selected panel (as a supervisor's), or "All
// panels" for 0.
func scopeOf(t *testing.T, f *indicatorFixture, panel int64) *Scope {
	t.Helper()
	s, err := f.db.ResolveScope(context.Background(), f.org.ID, 0, true, panel, true)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (f *indicatorFixture) report(t *testing.T, scope *Scope, panel int64, goal *float64) *IndicatorReport {
	t.Helper()
	loc := f.org.Location()
	flt := IndicatorFilter{ChartFilter: ChartFilter{Scope: scope, From: time.Date(2026, 3, 1, 0, 0, 0, 0, loc), To: time.Date(2026, 4, 1, 0, 0, 0, 0, loc)}, Panel: panel}
	rep, err := f.db.IndicatorReport(context.Background(), f.ind, flt, goal)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestIndicatorSpecExample reproduces SPEC §3.6's verified example: three
// contacts with baselines 10, 20, 30 → baseline 60; follow-up sums 42, 84,
// 126 → mean 84, (population) standard deviation 34.3. A later baseline
// answer does not replace a contact's earliest one; a fourth contact
// responded without answering (baseline rate 75%); one follow-up response is
// empty (that poll run's rate 66.7%, the mean rate 88.9%).
func TestIndicatorSpecExample(t *testing.T) {
	f := newIndicatorFixture(t)
	d := func(day, hour int) time.Time { return time.Date(2026, 3, day, hour, 0, 0, 0, time.UTC) }
	f.ingest(t, numRun("b1", "c1", d(2, 6), "10"), numRun("b2", "c2", d(2, 6), "20"), numRun("b3", "c3", d(2, 7), "30"),
		numRun("b4", "c4", d(2, 7), ""), numRun("b1-later", "c1", d(5, 6), "99"))
	f.ingest(t, fuRun("f1", "c1", d(10, 6), "12"), fuRun("f2", "c2", d(10, 6), "10"), fuRun("f3", "c3", d(10, 6), "20"),
		fuRun("f4", "c1", d(11, 6), "30"), fuRun("f5", "c2", d(11, 6), "24"), fuRun("f6", "c3", d(11, 6), "30"),
		fuRun("f7", "c1", d(12, 6), "63"), fuRun("f8", "c2", d(12, 6), "63"), fuRun("f9", "c3", d(12, 6), ""))

	rep := f.report(t, scopeOf(t, f, 0), 0, nil)
	if rep.Baseline != 60 || rep.Goal {
		t.Errorf("baseline = %v (goal %v), want 60", rep.Baseline, rep.Goal)
	}
	if rep.BaselineResponded != 4 || rep.BaselineAnswered != 3 || rep.BaselineRate() != 75 {
		t.Errorf("baseline rate = %d/%d = %v, want 3/4 = 75", rep.BaselineAnswered, rep.BaselineResponded, rep.BaselineRate())
	}
	if got := rep.Sums(); len(got) != 3 || got[0] != 42 || got[1] != 84 || got[2] != 126 {
		t.Fatalf("follow-up sums = %v, want [42 84 126]", got)
	}
	if rep.Mean() != 84 || math.Round(rep.SD()*10)/10 != 34.3 {
		t.Errorf("mean = %v, SD = %v; want 84 and 34.3", rep.Mean(), rep.SD())
	}
	if r := rep.FollowUps[2].Rate(); math.Round(r*10)/10 != 66.7 {
		t.Errorf("third poll run's rate = %v, want 66.7", r)
	}
	if r := math.Round(rep.Rate()*10) / 10; r != 88.9 {
		t.Errorf("follow-up rate = %v, want 88.9", r)
	}
	if rep.Answers != 8 {
		t.Errorf("follow-up answers = %d, want 8", rep.Answers)
	}

	// The goal replaces the baseline; the follow-up stays.
	goal := 150.0
	g := f.report(t, scopeOf(t, f, 0), 0, &goal)
	if g.Baseline != 150 || !g.Goal || g.Mean() != 84 {
		t.Errorf("with goal 150: baseline %v goal %v mean %v", g.Baseline, g.Goal, g.Mean())
	}

	// Dates: a range ending before the follow-ups has none.
	loc := f.org.Location()
	early, err := f.db.IndicatorReport(context.Background(), f.ind, IndicatorFilter{ChartFilter: ChartFilter{Scope: scopeOf(t, f, 0),
		From: time.Date(2026, 3, 1, 0, 0, 0, 0, loc), To: time.Date(2026, 3, 10, 0, 0, 0, 0, loc)}}, nil)
	if err != nil || len(early.FollowUps) != 0 || early.Baseline != 60 {
		t.Errorf("1–9 March: %d follow-ups, baseline %v, %v", len(early.FollowUps), early.Baseline, err)
	}
}

// TestIndicatorScope checks that a view of one panel counts only its
// contacts, and the panel filter narrows within the scope.
func TestIndicatorScope(t *testing.T) {
	f := newIndicatorFixture(t)
	d := time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
	f.ingest(t, numRun("b1", "c1", d, "10"), numRun("b5", "c5", d, "1000"))
	f.ingest(t, fuRun("f1", "c1", d.AddDate(0, 0, 3), "7"), fuRun("f5", "c5", d.AddDate(0, 0, 3), "500"))

	all := f.report(t, scopeOf(t, f, 0), 0, nil)
	if all.Baseline != 1010 || all.Sums()[0] != 507 {
		t.Errorf("all panels: baseline %v, sums %v; want 1010 and [507]", all.Baseline, all.Sums())
	}
	if len(all.Panels) != 2 {
		t.Errorf("panel choices = %v, want Kabul and Herat", all.Panels)
	}
	kabul := f.report(t, scopeOf(t, f, f.kabul), 0, nil)
	if kabul.Baseline != 10 || kabul.Sums()[0] != 7 || len(kabul.Panels) != 1 || kabul.Panels[0] != f.kabul {
		t.Errorf("Kabul's view: baseline %v, sums %v, panels %v; want 10, [7], [Kabul]", kabul.Baseline, kabul.Sums(), kabul.Panels)
	}
	herat := f.report(t, scopeOf(t, f, 0), f.herat, nil)
	if herat.Baseline != 1000 || herat.Sums()[0] != 500 || len(herat.Panels) != 2 {
		t.Errorf("all panels, Herat's contacts: baseline %v, sums %v", herat.Baseline, herat.Sums())
	}
	// Contact-field filters: nobody matches an unknown field.
	none, err := f.db.IndicatorReport(context.Background(), f.ind, IndicatorFilter{ChartFilter: ChartFilter{Scope: scopeOf(t, f, 0),
		Fields: map[string]string{"district": "x"}}}, nil)
	if err != nil || none.Baseline != 0 || none.Answers != 0 {
		t.Errorf("unmatched field filter: baseline %v answers %d, %v", none.Baseline, none.Answers, err)
	}
}

// TestIndicatorValidation checks every field error at once.
func TestIndicatorValidation(t *testing.T) {
	f := newIndicatorFixture(t)
	ctx := context.Background()
	fields := func(err error) map[string]string {
		var fe FieldErrors
		if !errors.As(err, &fe) {
			t.Fatalf("error %v is not field errors", err)
		}
		if ErrorCode(err) != CodeInvalid {
			t.Errorf("code = %q", ErrorCode(err))
		}
		out := map[string]string{}
		for _, e := range fe {
			out[e.Field] = e.Message
		}
		return out
	}
	_, err := f.db.CreateIndicator(ctx, f.org, IndicatorInput{Name: " ", StartDate: "2026-03-10", EndDate: "2026-03-01", Goal: "lots",
		BaselinePollID: f.poll.ID, BaselineQuestionID: f.qChoice, FollowUpPollID: f.fuPoll, FollowUpQuestionID: f.qNum})
	got := fields(err)
	want := map[string]string{
		"name": "Enter a name.", "end_date": "The end date must not be before the start date.", "goal": "Enter a number.",
		"baseline_question":  "Choose a numeric question of the chosen poll.", // multiple choice
		"follow_up_question": "Choose a numeric question of the chosen poll.", // of the other poll
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("errors = %v", got)
	}
	_, err = f.db.CreateIndicator(ctx, f.org, IndicatorInput{Name: "x", StartDate: "2026-03-01", EndDate: "2026-03-01",
		BaselinePollID: f.poll.ID, BaselineQuestionID: f.qNum, FollowUpPollID: f.poll.ID, FollowUpQuestionID: f.qNum})
	if got := fields(err); got["follow_up_question"] != "The follow-up question must differ from the baseline question." || len(got) != 1 {
		t.Errorf("same question: %v", got)
	}
	_, err = f.db.CreateIndicator(ctx, f.org, IndicatorInput{Name: "x", StartDate: "03/01/2026", EndDate: "2026-03-01"})
	if got := fields(err); got["start_date"] == "" || got["baseline_poll"] == "" || got["follow_up_poll"] == "" {
		t.Errorf("bad date, no polls: %v", got)
	}
	// Update keeps the checks; delete of another org's indicator is not found.
	if err := f.db.UpdateIndicator(ctx, f.org, f.ind.ID, IndicatorInput{Name: "Renamed", StartDate: "2026-03-01", EndDate: "2026-03-31", Goal: "12.5",
		BaselinePollID: f.poll.ID, BaselineQuestionID: f.qNum, FollowUpPollID: f.fuPoll, FollowUpQuestionID: f.qFU}); err != nil {
		t.Fatal(err)
	}
	ind, err := f.db.IndicatorByID(ctx, f.org.ID, f.ind.ID)
	if err != nil || ind.Name != "Renamed" || ind.Goal == nil || *ind.Goal != 12.5 || ind.FollowUpQuestion != "Score" {
		t.Errorf("updated = %+v, %v", ind, err)
	}
	if err := f.db.DeleteIndicator(ctx, f.org.ID+1, f.ind.ID); ErrorCode(err) != CodeNotFound {
		t.Errorf("delete from another org: %v", err)
	}
	if err := f.db.DeleteIndicator(ctx, f.org.ID, f.ind.ID); err != nil {
		t.Fatal(err)
	}
	if list, _ := f.db.ListIndicators(ctx, f.org.ID, 0); len(list) != 0 {
		t.Errorf("after delete: %d indicators", len(list))
	}
}

// TestIndicatorCountersMatchRaw checks that the follow-up figures read from
// the counters (no field filter) equal those read from the raw rows (a field
// filter every contact matches), including a superseded response, which
// SPEC §3.6 counts too.
func TestIndicatorCountersMatchRaw(t *testing.T) {
	f := newIndicatorFixture(t)
	ctx := context.Background()
	d := func(day, hour int) time.Time { return time.Date(2026, 3, day, hour, 0, 0, 0, time.UTC) }
	f.ingest(t, numRun("b1", "c1", d(2, 6), "10"), numRun("b2", "c2", d(2, 6), "x"), numRun("b2b", "c2", d(3, 6), "20"), numRun("b5", "c5", d(2, 6), "7"))
	// c1 answers twice on the 10th: the first response becomes inactive.
	f.ingest(t, fuRun("f1", "c1", d(10, 6), "12"), fuRun("f1b", "c1", d(10, 7), "5"), fuRun("f2", "c2", d(10, 6), ""),
		fuRun("f5", "c5", d(10, 6), "100"), fuRun("f3", "c3", d(11, 6), "8"))
	var inactive int
	if err := f.db.QueryRow(`SELECT count(*) FROM responses WHERE is_active = 0`).Scan(&inactive); err != nil || inactive != 1 {
		t.Fatalf("inactive responses = %d, %v", inactive, err)
	}
	var field int64
	if err := f.db.QueryRow(`INSERT INTO data_fields (org_id, key, label, show_on_tracpro) VALUES (?, 'district', 'District', 1) RETURNING id`, f.org.ID).Scan(&field); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Exec(`INSERT INTO contact_fields (contact_id, field_id, value) SELECT id, ?, 'Central' FROM contacts`, field); err != nil {
		t.Fatal(err)
	}
	for _, panel := range []int64{0, f.kabul} {
		loc := f.org.Location()
		base := ChartFilter{Scope: scopeOf(t, f, panel), From: time.Date(2026, 3, 1, 0, 0, 0, 0, loc), To: time.Date(2026, 4, 1, 0, 0, 0, 0, loc)}
		counted, err := f.db.IndicatorReport(ctx, f.ind, IndicatorFilter{ChartFilter: base}, nil)
		if err != nil {
			t.Fatal(err)
		}
		base.Fields = map[string]string{"district": "centr"}
		raw, err := f.db.IndicatorReport(ctx, f.ind, IndicatorFilter{ChartFilter: base}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(counted.FollowUps) != fmt.Sprint(raw.FollowUps) || counted.Answers != raw.Answers || counted.Baseline != raw.Baseline ||
			counted.BaselineAnswered != raw.BaselineAnswered || counted.BaselineResponded != raw.BaselineResponded {
			t.Errorf("panel %d: counters %+v\nraw %+v", panel, counted, raw)
		}
		// c2's earliest answer is not a number: its earliest numeric one (20)
		// counts. All panels: c1 10 + c2 20 + c5 7; Kabul: c1 and c2.
		wantBase, wantAnswered := 37.0, 3
		if panel != 0 {
			wantBase, wantAnswered = 30, 2
		}
		if counted.Baseline != wantBase || counted.BaselineAnswered != wantAnswered {
			t.Errorf("panel %d: baseline %v from %d contacts", panel, counted.Baseline, counted.BaselineAnswered)
		}
	}
	all, _ := f.db.IndicatorReport(ctx, f.ind, IndicatorFilter{ChartFilter: ChartFilter{Scope: scopeOf(t, f, 0)}}, nil)
	// The 10th: c1's superseded 5→ both of c1's responses count (use_last
	// makes both answers worth the newest value, 5), c2's empty response, c5's
	// 100: 4 responses, 3 answers, sum 110.
	if p := all.FollowUps[0]; p.Responses != 4 || p.Answers != 3 || p.Sum != 110 {
		t.Errorf("the 10th: %+v", p)
	}
}
