package models

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// testDB opens a migrated database file in a temp dir with production pragmas.
func testDB(t *testing.T) *DB {
	t.Helper()
	db, err := OpenMigrated(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

type fixture struct {
	db      *DB
	org     *Org
	poll    Poll
	qNum    int64
	qChoice int64
	panel   int64
}

// newFixture makes an org in Asia/Kabul (UTC+4:30) with one panel, one tracked
// poll with a numeric and a multiple-choice question, and contacts c1..c3.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db := testDB(t)
	org, err := db.CreateOrg(ctx, NewOrg{Name: "UNICEF", Subdomain: "unicef", RapidProURL: "http://127.0.0.1:1", Token: "t", Timezone: "Asia/Kabul"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.SyncGroups(ctx, org.ID, []RapidProGroup{{UUID: "g-kabul", Name: "Kabul"}, {UUID: "g-teachers", Name: "Teachers"}}); err != nil {
		t.Fatal(err)
	}
	gs, _ := db.ResolveGroups(ctx, org.ID, []string{"Kabul"})
	if _, err := db.TrackGroups(ctx, org.ID, "regions", gs); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := db.SyncFlows(ctx, org.ID, []FlowInfo{{UUID: "flow-1", Name: "Attendance"}, {UUID: "flow-2", Name: "Other"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.TrackPolls(ctx, org.ID, []string{"Attendance"}); err != nil {
		t.Fatal(err)
	}
	polls, _ := db.ListPolls(ctx, org.ID, true)
	if len(polls) != 1 {
		t.Fatalf("tracked polls = %d", len(polls))
	}
	_, _, _, err = db.SyncQuestions(ctx, polls[0].ID, []QuestionDef{
		{UUID: "node-num", ResultKey: "pupils", Label: "Pupils", Rules: []Rule{{Category: "Low", Test: "between", Args: []string{"0", "40"}}}},
		{UUID: "node-choice", ResultKey: "water", Label: "Water", Order: 1, Rules: []Rule{{Category: "Yes", Test: "has_any_word", Args: []string{"yes"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	qs, _ := db.PollQuestions(ctx, polls[0].ID)
	if len(qs) != 2 || qs[0].Type != QuestionNumeric || qs[1].Type != QuestionChoice {
		t.Fatalf("questions = %+v", qs)
	}
	regions, _ := db.ListRegions(ctx, org.ID, true)
	var rows []ContactRow
	for _, u := range []string{"c1", "c2", "c3"} {
		rows = append(rows, ContactRow{UUID: u, Name: u, URNs: []string{"tel:+93700000" + u[1:]}, Groups: []string{"g-kabul"}, Active: true, ModifiedOn: time.Now()})
	}
	if _, err := db.ApplyContacts(ctx, org, rows, nil); err != nil {
		t.Fatal(err)
	}
	return &fixture{db: db, org: org, poll: polls[0], qNum: qs[0].ID, qChoice: qs[1].ID, panel: regions[0].ID}
}

func cat(s string) *string { return &s }

func TestRunIngestUniversalPollrunPerOrgLocalDay(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ri, err := f.db.NewRunIngester(ctx, f.org)
	if err != nil {
		t.Fatal(err)
	}
	// 20:00 UTC on Jan 1 is 00:30 on Jan 2 in Kabul: a different org-local day than 19:00 UTC.
	d1 := time.Date(2026, 1, 1, 19, 0, 0, 0, time.UTC)
	d2 := time.Date(2026, 1, 1, 20, 0, 0, 0, time.UTC)
	runs := []RunRow{
		{UUID: "r1", FlowUUID: "flow-1", ContactUUID: "c1", ExitType: "completed", CreatedOn: d1, ModifiedOn: d1,
			Values: []RunValueRow{{Key: "pupils", Node: "node-num", Value: "12", Category: cat("Low"), Time: d1}}},
		{UUID: "r2", FlowUUID: "flow-1", ContactUUID: "c2", CreatedOn: d2, ModifiedOn: d2},
		{UUID: "r3", FlowUUID: "flow-2", ContactUUID: "c3", CreatedOn: d2, ModifiedOn: d2},   // untracked flow
		{UUID: "r4", FlowUUID: "flow-1", ContactUUID: "c404", CreatedOn: d2, ModifiedOn: d2}, // unknown contact
	}
	stats, err := ri.ApplyPage(ctx, runs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Created != 2 || stats.SkippedFlow != 1 || stats.SkippedContact != 1 {
		t.Fatalf("stats = %+v", stats)
	}
	rows, err := f.db.Query(`SELECT local_date, pollrun_type FROM pollruns ORDER BY local_date`)
	if err != nil {
		t.Fatal(err)
	}
	var days []string
	for rows.Next() {
		var d, typ string
		rows.Scan(&d, &typ)
		days = append(days, d+"/"+typ)
	}
	rows.Close()
	if len(days) != 2 || days[0] != "2026-01-01/u" || days[1] != "2026-01-02/u" {
		t.Fatalf("pollruns = %v", days)
	}
	snap, _ := f.db.SnapshotResponses(ctx, f.org.ID)
	if s := snap["r1"]; s.Status != StatusComplete || s.Answers["pupils"] != [2]string{"12", "Low"} {
		t.Fatalf("r1 = %+v", s)
	}
	if s := snap["r2"]; s.Status != StatusEmpty || len(s.Answers) != 0 {
		t.Fatalf("r2 = %+v", s)
	}
}

func TestRunIngestNewestActiveStaleIgnoredAndExitOnlyChange(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ri, _ := f.db.NewRunIngester(ctx, f.org)
	day := time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
	first := RunRow{UUID: "a", FlowUUID: "flow-1", ContactUUID: "c1", CreatedOn: day, ModifiedOn: day.Add(time.Minute),
		Values: []RunValueRow{{Key: "pupils", Value: "10", Time: day.Add(time.Minute)}}}
	second := RunRow{UUID: "b", FlowUUID: "flow-1", ContactUUID: "c1", CreatedOn: day.Add(time.Hour), ModifiedOn: day.Add(time.Hour),
		Values: []RunValueRow{{Key: "pupils", Value: "5", Time: day.Add(time.Hour)}}}
	if _, err := ri.ApplyPage(ctx, []RunRow{second, first}, nil); err != nil {
		t.Fatal(err)
	}
	snap, _ := f.db.SnapshotResponses(ctx, f.org.ID)
	if snap["a"].Active || !snap["b"].Active {
		t.Fatalf("only the newest response may be active: a=%v b=%v", snap["a"].Active, snap["b"].Active)
	}
	if snap["a"].Status != StatusPartial {
		t.Fatalf("a status = %s", snap["a"].Status)
	}
	// Same contact, question and org-local day: both answers get last and sum.
	var last, sum string
	f.db.QueryRow(`SELECT last_value, sum_value FROM answers a JOIN responses r ON r.id = a.response_id WHERE r.run_uuid = 'a'`).Scan(&last, &sum)
	if last != "5" || sum != "15" {
		t.Fatalf("same-day last/sum = %q/%q, want 5/15", last, sum)
	}
	// An exit-only change (Partial → Complete) bumps modified_on and is applied.
	done := first
	done.ExitType, done.ModifiedOn = "completed", day.Add(2*time.Hour)
	st, _ := ri.ApplyPage(ctx, []RunRow{done}, nil)
	if st.Updated != 1 {
		t.Fatalf("exit-only change not applied: %+v", st)
	}
	// An older copy (e.g. from the overlap or an archive) is ignored.
	st, _ = ri.ApplyPage(ctx, []RunRow{first}, nil)
	if st.Unchanged != 1 || st.Updated != 0 {
		t.Fatalf("stale copy applied: %+v", st)
	}
	snap, _ = f.db.SnapshotResponses(ctx, f.org.ID)
	if snap["a"].Status != StatusComplete {
		t.Fatalf("a status after exit = %s", snap["a"].Status)
	}
	f.db.QueryRow(`SELECT last_value, sum_value FROM answers a JOIN responses r ON r.id = a.response_id WHERE r.run_uuid = 'a'`).Scan(&last, &sum)
	if last != "5" || sum != "15" {
		t.Fatalf("same-day values after re-ingest = %q/%q", last, sum)
	}
}

func TestRunIngestLinksFlowStartsAndParsesNumbers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := NowMs()
	var prID int64
	if err := f.db.QueryRow(`INSERT INTO pollruns (org_id, poll_id, pollrun_type, region_id, conducted_on, local_date) VALUES (?, ?, 'r', ?, ?, '2026-03-02') RETURNING id`,
		f.org.ID, f.poll.ID, f.panel, now).Scan(&prID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Exec(`INSERT INTO flow_starts (org_id, pollrun_id, uuid, contacts, created_at, updated_at) VALUES (?, ?, 'start-1', 1, ?, ?)`, f.org.ID, prID, now, now); err != nil {
		t.Fatal(err)
	}
	ri, _ := f.db.NewRunIngester(ctx, f.org)
	d := time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
	if _, err := ri.ApplyPage(ctx, []RunRow{{UUID: "s1", FlowUUID: "flow-1", ContactUUID: "c2", StartUUID: "start-1", CreatedOn: d, ModifiedOn: d}}, nil); err != nil {
		t.Fatal(err)
	}
	var got int64
	f.db.QueryRow(`SELECT pollrun_id FROM responses WHERE run_uuid = 's1'`).Scan(&got)
	if got != prID {
		t.Fatalf("run with start uuid landed in pollrun %d, want %d", got, prID)
	}
	for in, want := range map[string]bool{"12": true, "-3.5": true, "0788123456": true, "+250788123456": false, "250788123456789": false, "abc": false, "": false} {
		if _, ok := ParseNumber(in); ok != want {
			t.Errorf("ParseNumber(%q) ok = %v, want %v", in, ok, want)
		}
	}
}

func TestApplyContactsRules(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := time.Now()
	rows := []ContactRow{
		{UUID: "n1", Name: "New", URNs: []string{"mailto:x@y", "whatsapp:250788"}, Groups: []string{"g-kabul", "g-teachers"}, Active: true, ModifiedOn: now},
		{UUID: "n2", Name: "No panel", URNs: []string{"tel:+1"}, Groups: []string{"g-teachers"}, Active: true, ModifiedOn: now},
		{UUID: "n3", Name: "Only ext", URNs: []string{"ext:abc"}, Groups: []string{"g-kabul"}, Active: true, ModifiedOn: now},
		{UUID: "c1", Name: "Blocked", URNs: []string{"tel:+93700000001"}, Groups: []string{"g-kabul"}, Active: false, ModifiedOn: now},
		{UUID: "c2", Name: "Old copy", URNs: []string{"tel:+93700000002"}, Groups: []string{"g-kabul"}, Active: true, ModifiedOn: now.Add(-time.Hour)},
	}
	st, err := f.db.ApplyContacts(ctx, f.org, rows, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Created != 1 || st.SkippedNoPanel != 1 || st.SkippedNoURN != 1 || st.Deactivated != 1 {
		t.Fatalf("stats = %+v", st)
	}
	cs, _ := f.db.ListContacts(ctx, f.org.ID)
	byUUID := map[string]ContactSummary{}
	for _, c := range cs {
		byUUID[c.UUID] = c
	}
	if c := byUUID["n1"]; c.URN != "whatsapp:250788" || c.RegionID != f.panel || !c.Active {
		t.Fatalf("n1 = %+v", c)
	}
	if byUUID["c1"].Active {
		t.Fatal("blocked contact still active")
	}
	if byUUID["c2"].Name != "c2" {
		t.Fatalf("an older record overwrote a newer one: %+v", byUUID["c2"])
	}
}

func TestRunIngestDuplicateInOneBatchKeepsNewest(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ri, _ := f.db.NewRunIngester(ctx, f.org)
	d := time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
	old := RunRow{UUID: "x", FlowUUID: "flow-1", ContactUUID: "c1", CreatedOn: d, ModifiedOn: d}
	newer := old
	newer.ModifiedOn, newer.ExitType = d.Add(time.Minute), "completed"
	st, err := ri.ApplyPage(ctx, []RunRow{old, newer}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Created != 1 {
		t.Fatalf("stats = %+v", st)
	}
	snap, _ := f.db.SnapshotResponses(ctx, f.org.ID)
	if snap["x"].Status != StatusComplete {
		t.Fatalf("kept the older copy: %+v", snap["x"])
	}
}

func TestBloom(t *testing.T) {
	b := newBloom(1 << 16)
	for i := 0; i < 2000; i++ {
		b.add(fmt.Sprintf("run-%d", i))
	}
	for i := 0; i < 2000; i++ {
		if !b.has(fmt.Sprintf("run-%d", i)) {
			t.Fatalf("added run-%d not found", i)
		}
	}
	fp := 0
	for i := 0; i < 10000; i++ {
		if b.has(fmt.Sprintf("other-%d", i)) {
			fp++
		}
	}
	if fp > 100 { // expected ≈ 0.1 %
		t.Fatalf("%d false positives in 10000", fp)
	}
}

// A first import skips existence lookups, yet a run seen twice (in two pages)
// is updated, not inserted twice.
func TestFirstImportStillUpdatesRepeatedRuns(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ri, _ := f.db.NewRunIngester(ctx, f.org)
	if ri.inserted == nil {
		t.Fatal("an org without responses should use the first-import filter")
	}
	d := time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
	r := RunRow{UUID: "0b6ed5cb-4b9f-422d-a53d-83965f93ff40", FlowUUID: "flow-1", ContactUUID: "c1", CreatedOn: d, ModifiedOn: d}
	if _, err := ri.ApplyPage(ctx, []RunRow{r}, nil); err != nil {
		t.Fatal(err)
	}
	r.ModifiedOn, r.ExitType = d.Add(time.Minute), "completed"
	st, err := ri.ApplyPage(ctx, []RunRow{r}, nil)
	if err != nil || st.Updated != 1 {
		t.Fatalf("second copy: %+v %v", st, err)
	}
	ri2, _ := f.db.NewRunIngester(ctx, f.org)
	if ri2.inserted != nil {
		t.Fatal("an org with responses must look every run up")
	}
}

func TestQuestionOrderChosenByAdminSurvivesSync(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	qs, _ := f.db.PollQuestions(ctx, f.poll.ID)
	if _, err := f.db.Exec(`UPDATE questions SET display_order = 5, order_set = 1 WHERE id = ?`, qs[0].ID); err != nil {
		t.Fatal(err)
	}
	_, _, _, err := f.db.SyncQuestions(ctx, f.poll.ID, []QuestionDef{
		{UUID: "node-num", ResultKey: "pupils", Label: "Pupils", Order: 0},
		{UUID: "node-choice", ResultKey: "water", Label: "Water", Order: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	qs, _ = f.db.PollQuestions(ctx, f.poll.ID)
	if qs[0].UUID != "node-choice" || qs[1].Order != 5 {
		t.Fatalf("the chosen order was overwritten: %+v", qs)
	}
}
