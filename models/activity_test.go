package models

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// activityFixture is the start fixture with runs ingested as RapidPro sends
// them; run ingests one run per contact.
type activityFixture struct {
	*startFixture
	ri *RunIngester
}

func newActivityFixture(t *testing.T) *activityFixture {
	t.Helper()
	f := newStartFixture(t)
	ri, err := f.db.NewRunIngester(f.ctx, f.org)
	if err != nil {
		t.Fatal(err)
	}
	return &activityFixture{startFixture: f, ri: ri}
}

// run ingests a run of the first poll per contact, created at created and,
// when answered is not zero, answered (one value) at answered.
func (f *activityFixture) run(t *testing.T, tag string, contacts []string, created, answered time.Time, complete bool) {
	t.Helper()
	var runs []RunRow
	for _, c := range contacts {
		r := RunRow{UUID: "run-" + tag + "-" + c, FlowUUID: f.polls[0].FlowUUID, ContactUUID: c, CreatedOn: created, ModifiedOn: created}
		if !answered.IsZero() {
			r.Values = []RunValueRow{{Key: "q", Node: "node-q", Value: "5", Time: answered}}
			r.ModifiedOn = answered
		}
		if complete {
			r.ExitType = "completed"
		}
		runs = append(runs, r)
	}
	if _, err := f.ri.ApplyPage(f.ctx, runs, nil); err != nil {
		t.Fatal(err)
	}
}

// mostActive renders MostActive's lists as "name count, …".
func (f *activityFixture) mostActive(t *testing.T, s *Scope) (panels, cohorts string) {
	t.Helper()
	ps, cs, err := f.db.MostActive(f.ctx, s, time.Now().Add(-ActivityWindow), 5)
	if err != nil {
		t.Fatal(err)
	}
	list := func(l []ActiveCount) string {
		var out []string
		for _, a := range l {
			out = append(out, fmt.Sprintf("%s %d", a.Name, a.Count))
		}
		return strings.Join(out, ", ")
	}
	return list(ps), list(cs)
}

// noDrift fails unless a recount finds every counter exact.
func (f *activityFixture) noDrift(t *testing.T, when string) {
	t.Helper()
	rep, err := f.db.RecountOrg(f.ctx, f.org.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Drifted != 0 {
		t.Fatalf("%s: %d counters drifted: %v", when, rep.Drifted, rep.Drifts)
	}
}

// TestMostActiveCountsResponsesUpdatedInTheWindow: SPEC §3.7 counts the
// responses *updated* in the last 30 days, whenever their poll run was
// conducted, to the millisecond; later changes (an answer, a move, a cohort,
// a deactivation, spoofed data) show at once.
func TestMostActiveCountsResponsesUpdatedInTheWindow(t *testing.T) {
	f := newActivityFixture(t)
	now := time.Now()
	days := func(n int) time.Time { return now.Add(-time.Duration(n) * 24 * time.Hour) }
	a := f.uuids(t, "Province A", 6)                                      // Teachers
	a1 := f.uuids(t, "District A1", 3)                                    // Nurses
	b := f.uuids(t, "Province B", 3)                                      // Teachers
	f.run(t, "old", a[:4], days(31), days(5), true)                       // started 31 days ago, answered 5 days ago: counted
	f.run(t, "older", a1, days(40), days(31), true)                       // answered 31 days ago: not counted
	f.run(t, "edge", a[4:5], days(45), days(30).Add(time.Hour), false)    // just inside the window: counted
	f.run(t, "outside", a[5:6], days(45), days(30).Add(-time.Hour), true) // just outside: not counted
	f.run(t, "new", b[:2], days(2), days(1), true)
	f.run(t, "empty", b[2:], days(3), time.Time{}, false) // no answer: not counted
	var conducted int64
	if err := f.db.QueryRow(`SELECT min(pr.conducted_on) FROM pollruns pr JOIN responses r ON r.pollrun_id = pr.id WHERE r.run_uuid = ?`, "run-old-"+a[0]).Scan(&conducted); err != nil || conducted > Ms(days(30)) {
		t.Fatalf("the old runs' poll run was conducted %v (%v), want 31 days ago", FromMs(conducted), err)
	}
	admin := f.scope(t, "")
	if p, c := f.mostActive(t, admin); p != "Province A 5, Province B 2" || c != "Teachers 7" {
		t.Fatalf("most active = %q / %q, want Province A 5, Province B 2 / Teachers 7", p, c)
	}
	supA := f.scope(t, "Province A", "Province A")
	if p, c := f.mostActive(t, supA); p != "Province A 5" || c != "Teachers 5" {
		t.Fatalf("supervisor of Province A: %q / %q", p, c)
	}
	f.noDrift(t, "after the ingest")

	// An old run answered again today now counts (once).
	f.run(t, "older", a1[:1], days(40), now, true)
	if p, c := f.mostActive(t, admin); p != "Province A 5, Province B 2, District A1 1" || c != "Teachers 7, Nurses 1" {
		t.Fatalf("after an old run was answered today: %q / %q", p, c)
	}

	// Contact changes through the contact sync: a Province A teacher moves
	// to Province B and to the Nurses; another one is deactivated.
	moved, gone := a[0], a[1]
	var rows []ContactRow
	for _, u := range []string{moved, gone} {
		var urn string
		if err := f.db.QueryRow(`SELECT urn FROM contacts WHERE uuid = ?`, u).Scan(&urn); err != nil {
			t.Fatal(err)
		}
		r := ContactRow{UUID: u, Name: u, URNs: []string{urn}, Groups: []string{"g-Province B", "g-Nurses"}, Active: true, ModifiedOn: now.Add(time.Minute)}
		if u == gone {
			r.Groups, r.Active = []string{"g-Province A", "g-Teachers"}, false
		}
		rows = append(rows, r)
	}
	if _, err := f.db.ApplyContacts(f.ctx, f.org, rows, nil); err != nil {
		t.Fatal(err)
	}
	if p, c := f.mostActive(t, admin); p != "Province A 3, Province B 3, District A1 1" || c != "Teachers 5, Nurses 2" {
		t.Fatalf("after a move and a deactivation: %q / %q", p, c)
	}
	f.noDrift(t, "after the contact changes")

	// Spoofed data (a baseline poll run two days ago, follow-ups two days
	// ago and yesterday, for two contacts of Province B) counts only while
	// the org shows it.
	var qs []int64
	for i, p := range f.polls[:2] {
		if _, _, _, err := f.db.SyncQuestions(f.ctx, p.ID, []QuestionDef{{UUID: fmt.Sprintf("node-n%d", i), ResultKey: "n", Label: "Count",
			Rules: []Rule{{Category: "Any", Test: "number"}}}}); err != nil {
			t.Fatal(err)
		}
		var q int64
		if err := f.db.QueryRow(`SELECT id FROM questions WHERE poll_id = ?`, p.ID).Scan(&q); err != nil {
			t.Fatal(err)
		}
		qs = append(qs, q)
	}
	var ids []int64
	for _, u := range b[:2] {
		var id int64
		f.db.QueryRow(`SELECT id FROM contacts WHERE uuid = ?`, u).Scan(&id)
		ids = append(ids, id)
	}
	if res, err := f.db.CreateSpoofData(f.ctx, f.org, admin, SpoofInput{Contacts: ids, StartDate: f.org.LocalDate(days(2)), EndDate: f.org.LocalDate(days(1)),
		BaselineQuestionID: qs[0], FollowUpQuestionID: qs[1], BaselineMin: "1", BaselineMax: "1", FollowUpMin: "2", FollowUpMax: "2"}, nil, 0); err != nil || res.Responses != 6 {
		t.Fatalf("spoof: %+v %v", res, err)
	}
	if p, _ := f.mostActive(t, admin); p != "Province A 3, Province B 3, District A1 1" {
		t.Fatalf("spoofed responses counted while hidden: %q", p)
	}
	if _, err := f.db.Exec(`UPDATE orgs SET show_spoof_data = 1 WHERE id = ?`, f.org.ID); err != nil {
		t.Fatal(err)
	}
	if p, _ := f.mostActive(t, admin); p != "Province B 9, Province A 3, District A1 1" {
		t.Fatalf("spoofed responses shown: %q", p)
	}
	f.noDrift(t, "with spoofed data")
	if _, err := f.db.ClearSpoofData(f.ctx, f.org.ID); err != nil {
		t.Fatal(err)
	}
	f.noDrift(t, "after clearing spoofed data")
	if p, _ := f.mostActive(t, admin); p != "Province A 3, Province B 3, District A1 1" {
		t.Fatalf("after clearing spoofed data: %q", p)
	}
}
