package models

import (
	"context"
	"errors"
	mrand "math/rand/v2"
	"testing"
	"time"
)

func (f *indicatorFixture) contactIDs(t *testing.T, uuids ...string) []int64 {
	t.Helper()
	var out []int64
	for _, u := range uuids {
		var id int64
		if err := f.db.QueryRow(`SELECT id FROM contacts WHERE org_id = ? AND uuid = ?`, f.org.ID, u).Scan(&id); err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	return out
}

// TestSpoofData checks SPEC §3.6's spoof rules: one baseline poll run on the
// start date and one follow-up poll run per day (inclusive), a complete
// response per contact in each, answers drawn in [min, max) (max only when
// min = max); spoofed runs count like universal ones while the org shows
// spoof data; clearing removes every row and counter, and the counters of
// real data stay exact.
func TestSpoofData(t *testing.T) {
	f := newIndicatorFixture(t)
	ctx := context.Background()
	if _, err := f.db.Exec(`UPDATE orgs SET show_spoof_data = 1 WHERE id = ?`, f.org.ID); err != nil {
		t.Fatal(err)
	}
	// Real data first: c1's baseline of 10.
	f.ingest(t, numRun("b1", "c1", time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC), "10"))
	assertNoDrift(t, f.fixture)

	contacts := f.contactIDs(t, "c2", "c3", "c4")
	res, err := f.db.CreateSpoofData(ctx, f.org, scopeOf(t, f, 0), SpoofInput{Contacts: append(contacts, contacts[0]), StartDate: "2026-03-03", EndDate: "2026-03-09",
		BaselineQuestionID: f.qNum, FollowUpQuestionID: f.qFU, BaselineMin: "5", BaselineMax: "5", FollowUpMin: "1", FollowUpMax: "3"},
		mrand.New(mrand.NewPCG(1, 2)), 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Pollruns != 8 || res.Responses != 24 {
		t.Fatalf("made %d poll runs and %d responses, want 8 and 24", res.Pollruns, res.Responses)
	}
	rows, err := f.db.Query(`SELECT pr.poll_id, pr.local_date, count(r.id), sum(r.status = 'C' AND r.is_active = 1) FROM pollruns pr JOIN responses r ON r.pollrun_id = pr.id
		WHERE pr.pollrun_type = 's' GROUP BY pr.id ORDER BY pr.poll_id, pr.local_date`)
	if err != nil {
		t.Fatal(err)
	}
	var days []string
	for rows.Next() {
		var poll int64
		var day string
		var n, complete int
		if err := rows.Scan(&poll, &day, &n, &complete); err != nil {
			t.Fatal(err)
		}
		if n != 3 || complete != 3 {
			t.Errorf("%s: %d responses, %d complete and active; want 3", day, n, complete)
		}
		if poll == f.poll.ID {
			days = append(days, "baseline "+day)
		} else {
			days = append(days, day)
		}
	}
	rows.Close()
	want := []string{"baseline 2026-03-03", "2026-03-03", "2026-03-04", "2026-03-05", "2026-03-06", "2026-03-07", "2026-03-08", "2026-03-09"}
	if len(days) != len(want) {
		t.Fatalf("poll runs = %v, want %v", days, want)
	}
	for i := range want {
		if days[i] != want[i] {
			t.Errorf("poll run %d = %s, want %s", i, days[i], want[i])
		}
	}
	// Values: the baseline range 5–5 gives 5; the follow-up range 1–3 gives 1 or 2, never 3.
	values := map[int64]map[string]int{}
	vr, err := f.db.Query(`SELECT a.question_id, a.value FROM answers a JOIN responses r ON r.id = a.response_id JOIN pollruns pr ON pr.id = r.pollrun_id WHERE pr.pollrun_type = 's'`)
	if err != nil {
		t.Fatal(err)
	}
	for vr.Next() {
		var q int64
		var v string
		if err := vr.Scan(&q, &v); err != nil {
			t.Fatal(err)
		}
		if values[q] == nil {
			values[q] = map[string]int{}
		}
		values[q][v]++
	}
	vr.Close()
	if len(values[f.qNum]) != 1 || values[f.qNum]["5"] != 3 {
		t.Errorf("baseline values = %v, want 5 ×3", values[f.qNum])
	}
	if fu := values[f.qFU]; fu["1"]+fu["2"] != 21 || fu["1"] == 0 || fu["2"] == 0 || len(fu) != 2 {
		t.Errorf("follow-up values = %v, want 21 answers of 1 or 2", fu)
	}
	assertNoDrift(t, f.fixture)

	// The indicator counts spoofed runs like universal ones: baseline 10 + 3 × 5.
	rep := f.report(t, scopeOf(t, f, 0), 0, nil)
	if rep.Baseline != 25 || len(rep.FollowUps) != 7 || !rep.FollowUps[0].Spoofed() {
		t.Errorf("with spoof data: baseline %v, %d follow-ups", rep.Baseline, len(rep.FollowUps))
	}
	// Hidden while the org does not show spoof data.
	if _, err := f.db.Exec(`UPDATE orgs SET show_spoof_data = 0 WHERE id = ?`, f.org.ID); err != nil {
		t.Fatal(err)
	}
	if rep := f.report(t, scopeOf(t, f, 0), 0, nil); rep.Baseline != 10 || len(rep.FollowUps) != 0 {
		t.Errorf("spoof data hidden: baseline %v, %d follow-ups; want 10 and none", rep.Baseline, len(rep.FollowUps))
	}

	n, err := f.db.ClearSpoofData(ctx, f.org.ID)
	if err != nil || n != 8 {
		t.Fatalf("cleared %d, %v; want 8", n, err)
	}
	for table, q := range map[string]string{
		"pollruns":          `SELECT count(*) FROM pollruns WHERE pollrun_type = 's'`,
		"responses":         `SELECT count(*) FROM responses WHERE run_uuid LIKE 'spoof-%' OR pollrun_id NOT IN (SELECT id FROM pollruns)`,
		"answers":           `SELECT count(*) FROM answers WHERE response_id NOT IN (SELECT id FROM responses)`,
		"answer_counters":   `SELECT count(*) FROM answer_counters WHERE pollrun_id NOT IN (SELECT id FROM pollruns)`,
		"response_counters": `SELECT count(*) FROM response_counters WHERE pollrun_id NOT IN (SELECT id FROM pollruns)`,
		"cohort_counters":   `SELECT count(*) FROM cohort_counters WHERE pollrun_id NOT IN (SELECT id FROM pollruns)`,
	} {
		var left int
		if err := f.db.QueryRow(q).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left != 0 {
			t.Errorf("after clearing, %d %s rows of spoof data are left", left, table)
		}
	}
	assertNoDrift(t, f.fixture)
	if _, err := f.db.Exec(`UPDATE orgs SET show_spoof_data = 1 WHERE id = ?`, f.org.ID); err != nil {
		t.Fatal(err)
	}
	if rep := f.report(t, scopeOf(t, f, 0), 0, nil); rep.Baseline != 10 || len(rep.FollowUps) != 0 {
		t.Errorf("after clearing: baseline %v, %d follow-ups; want the real 10 and none", rep.Baseline, len(rep.FollowUps))
	}
}

// TestSpoofValidation checks the form's errors, including contacts outside
// the user's panels.
func TestSpoofValidation(t *testing.T) {
	f := newIndicatorFixture(t)
	ctx := context.Background()
	herat := f.contactIDs(t, "c5")
	_, err := f.db.CreateSpoofData(ctx, f.org, scopeOf(t, f, f.kabul), SpoofInput{Contacts: herat, StartDate: "2026-03-09", EndDate: "2026-03-03",
		BaselineQuestionID: f.qChoice, FollowUpQuestionID: f.qFU, BaselineMin: "x", BaselineMax: "5", FollowUpMin: "4", FollowUpMax: "3"}, nil, 0)
	var fe FieldErrors
	if !errors.As(err, &fe) {
		t.Fatalf("error = %v", err)
	}
	got := map[string]string{}
	for _, e := range fe {
		got[e.Field] = e.Message
	}
	want := map[string]string{"contacts": "Choose contacts of your panels.", "end_date": "The end date must not be before the start date.",
		"baseline_question": "Choose a numeric question.", "baseline_min": "Enter a whole number.",
		"follow_up_max": "The maximum must not be below the minimum."}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	_, err = f.db.CreateSpoofData(ctx, f.org, scopeOf(t, f, 0), SpoofInput{StartDate: "2026-01-01", EndDate: "2027-01-02",
		BaselineQuestionID: f.qNum, FollowUpQuestionID: f.qFU, BaselineMin: "1", BaselineMax: "2", FollowUpMin: "1", FollowUpMax: "2"}, nil, 0)
	fe = nil
	errors.As(err, &fe)
	if len(fe) != 2 || fe[0].Field != "end_date" || fe[1].Field != "contacts" {
		t.Errorf("367 days, no contacts: %v", err)
	}
	// The form's list: Kabul's four contacts by name, cut at the limit.
	list, more, err := f.db.SpoofContacts(ctx, scopeOf(t, f, f.kabul), 3)
	if err != nil || len(list) != 3 || !more || list[0].Name != "c1" || list[2].Name != "c3" {
		t.Errorf("spoof contacts = %+v, more %v, %v", list, more, err)
	}
	if list, more, _ := f.db.SpoofContacts(ctx, scopeOf(t, f, f.herat), 3); len(list) != 1 || more || list[0].Panel != "Herat" {
		t.Errorf("Herat's spoof contacts = %+v, more %v", list, more)
	}
	if n, _ := f.db.CountSpoofed(ctx, f.org.ID); n != 0 {
		t.Errorf("invalid requests made %d poll runs", n)
	}
}

// TestSpoofDataStaysOutOfSameDay: a real answer given the day of a spoofed
// one keeps its own same-day values (the org sums same-day answers), and the
// spoofed answer keeps its own; clearing leaves the real one as it is.
func TestSpoofDataStaysOutOfSameDay(t *testing.T) {
	f := newIndicatorFixture(t)
	ctx := context.Background()
	if _, err := f.db.Exec(`UPDATE orgs SET show_spoof_data = 1, sameday = 'sum' WHERE id = ?`, f.org.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.CreateSpoofData(ctx, f.org, scopeOf(t, f, 0), SpoofInput{Contacts: f.contactIDs(t, "c1"), StartDate: "2026-03-10", EndDate: "2026-03-10",
		BaselineQuestionID: f.qNum, FollowUpQuestionID: f.qFU, BaselineMin: "5", BaselineMax: "5", FollowUpMin: "1", FollowUpMax: "1"}, nil, 0); err != nil {
		t.Fatal(err)
	}
	// 06:00 UTC is 10:30 in Kabul: the same org-local day as the spoofed runs.
	f.ingest(t, numRun("real", "c1", time.Date(2026, 3, 10, 6, 0, 0, 0, time.UTC), "10"))
	values := func() map[string]string {
		out := map[string]string{}
		rows, err := f.db.Query(`SELECT pr.pollrun_type, a.last_value || '/' || a.sum_value FROM answers a JOIN responses r ON r.id = a.response_id
			JOIN pollruns pr ON pr.id = r.pollrun_id WHERE a.question_id = ?`, f.qNum)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var typ, v string
			if err := rows.Scan(&typ, &v); err != nil {
				t.Fatal(err)
			}
			out[typ] = v
		}
		return out
	}
	if got := values(); got["u"] != "10/10" || got["s"] != "5/5" {
		t.Errorf("same-day values = %v, want the real 10/10 and the spoofed 5/5 apart", got)
	}
	assertNoDrift(t, f.fixture)
	if _, err := f.db.ClearSpoofData(ctx, f.org.ID); err != nil {
		t.Fatal(err)
	}
	if got := values(); got["u"] != "10/10" || len(got) != 1 {
		t.Errorf("after clearing: %v", got)
	}
	assertNoDrift(t, f.fixture)
}
