package models

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// startFixture is an org with the panels Country → Province A → District A1
// and Province B, the cohorts Teachers and Nurses, two tracked polls and
// contacts: 130 in Province A, 100 in District A1, 20 in Province B (one
// inactive contact in each panel besides).
type startFixture struct {
	db     *DB
	org    *Org
	panels map[string]int64
	polls  []Poll
	ctx    context.Context
}

func newStartFixture(t *testing.T) *startFixture {
	t.Helper()
	ctx := context.Background()
	db := testDB(t)
	org, err := db.CreateOrg(ctx, NewOrg{Name: "Start", Subdomain: "start", RapidProURL: "http://127.0.0.1:1", Token: "t", Timezone: "Africa/Kigali"})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"Country", "Province A", "District A1", "Province B", "Teachers", "Nurses"}
	var groups []RapidProGroup
	for _, n := range names {
		groups = append(groups, RapidProGroup{UUID: "g-" + n, Name: n})
	}
	if _, _, err := db.SyncGroups(ctx, org.ID, groups); err != nil {
		t.Fatal(err)
	}
	for table, ns := range map[string][]string{"regions": names[:4], "cohorts": names[4:]} {
		gs, err := db.ResolveGroups(ctx, org.ID, ns)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.TrackGroups(ctx, org.ID, table, gs); err != nil {
			t.Fatal(err)
		}
	}
	f := &startFixture{db: db, org: org, panels: map[string]int64{}, ctx: ctx}
	regions, _ := db.ListRegions(ctx, org.ID, true)
	for _, r := range regions {
		f.panels[r.Name] = r.ID
	}
	for child, parent := range map[string]string{"Province A": "Country", "District A1": "Province A", "Province B": "Country"} {
		if _, err := db.Exec(`UPDATE regions SET parent_id = ? WHERE id = ?`, f.panels[parent], f.panels[child]); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, _, err := db.SyncFlows(ctx, org.ID, []FlowInfo{{UUID: "flow-1", Name: "Attendance"}, {UUID: "flow-2", Name: "Water"}, {UUID: "flow-3", Name: "Untracked"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.TrackPolls(ctx, org.ID, []string{"Attendance", "Water"}); err != nil {
		t.Fatal(err)
	}
	f.polls, _ = db.ListPolls(ctx, org.ID, true)
	var rows []ContactRow
	add := func(panel string, n int, cohort string, active bool) {
		for i := 0; i < n; i++ {
			u := fmt.Sprintf("00000000-0000-4000-8000-%012d", len(rows)+1)
			rows = append(rows, ContactRow{UUID: u, Name: u, URNs: []string{fmt.Sprintf("tel:+2507%08d", len(rows)+1)},
				Groups: []string{"g-" + panel, "g-" + cohort}, Active: active, ModifiedOn: time.Now()})
		}
	}
	add("Province A", 130, "Teachers", true)
	add("District A1", 100, "Nurses", true)
	add("Province B", 20, "Teachers", true)
	for _, p := range []string{"Province A", "District A1", "Province B"} {
		add(p, 1, "Teachers", true)
	}
	if _, err := db.ApplyContacts(ctx, org, rows, nil); err != nil {
		t.Fatal(err)
	}
	// The last contact of each panel is inactive.
	if _, err := db.Exec(`UPDATE contacts SET is_active = 0 WHERE id IN (SELECT max(id) FROM contacts GROUP BY region_id)`); err != nil {
		t.Fatal(err)
	}
	return f
}

// scope is the scope of an administrator (panels nil) or of a supervisor
// of the given panels, with selected chosen.
func (f *startFixture) scope(t *testing.T, selected string, supervisorOf ...string) *Scope {
	t.Helper()
	var uid int64
	if len(supervisorOf) > 0 {
		u, err := f.db.CreateUser(f.ctx, NewUser{Email: fmt.Sprintf("sup%d@x.test", time.Now().UnixNano()), FullName: "Supervisor"})
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, p := range supervisorOf {
			ids = append(ids, f.panels[p])
		}
		if err := f.db.SetUserPanels(f.ctx, f.org.ID, u.ID, ids); err != nil {
			t.Fatal(err)
		}
		uid = u.ID
	}
	s, err := f.db.ResolveScope(f.ctx, f.org.ID, uid, uid == 0, f.panels[selected], true)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (f *startFixture) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := f.db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStartPollQueuesBatchesWithThePollrun(t *testing.T) {
	f := newStartFixture(t)
	admin := f.scope(t, "Province A")

	// Propagated: Province A and District A1, 230 active contacts.
	res, err := f.db.StartPoll(f.ctx, PollStart{Org: f.org, Scope: admin, PollID: f.polls[0].ID, RegionID: f.panels["Province A"], Propagate: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Contacts != 230 || res.Batches != 3 {
		t.Fatalf("start = %+v", res)
	}
	var typ, day string
	var region int64
	if err := f.db.QueryRow(`SELECT pollrun_type, region_id, local_date FROM pollruns WHERE id = ?`, res.PollrunID).Scan(&typ, &region, &day); err != nil {
		t.Fatal(err)
	}
	if typ != "p" || region != f.panels["Province A"] || day != f.org.LocalDate(time.Now()) {
		t.Fatalf("poll run %s %d %s", typ, region, day)
	}
	items, err := f.db.DueOutbox(f.ctx, []string{OutboxFlowStart}, NowMs(), 10)
	if err != nil {
		t.Fatal(err)
	}
	// Only the first batch of the poll run is due: the others wait for it.
	if len(items) != 1 || items[0].OrderingKey != fmt.Sprintf("pollrun:%d", res.PollrunID) {
		t.Fatalf("due = %+v", items)
	}
	var sizes []int
	seen := map[string]bool{}
	rows, _ := f.db.Query(`SELECT o.payload, fs.contacts, fs.status, fs.uuid IS NULL FROM outbox o JOIN flow_starts fs ON fs.id = json_extract(o.payload, '$.flow_start') ORDER BY o.id`)
	for rows.Next() {
		var payload, status string
		var n int
		var noUUID bool
		if err := rows.Scan(&payload, &n, &status, &noUUID); err != nil {
			t.Fatal(err)
		}
		var p FlowStartPayload
		if err := json.Unmarshal([]byte(payload), &p); err != nil {
			t.Fatal(err)
		}
		if p.Flow != "flow-1" || p.Pollrun != res.PollrunID || len(p.Contacts) != n || status != "pending" || !noUUID {
			t.Fatalf("batch %+v / %d %s", p, n, status)
		}
		for _, c := range p.Contacts {
			seen[c] = true
		}
		sizes = append(sizes, n)
	}
	rows.Close()
	if fmt.Sprint(sizes) != "[100 100 30]" || len(seen) != 230 {
		t.Fatalf("batches %v over %d contacts", sizes, len(seen))
	}

	// Regional: Province A only (130).
	res, err = f.db.StartPoll(f.ctx, PollStart{Org: f.org, Scope: admin, PollID: f.polls[1].ID, RegionID: f.panels["Province A"]})
	if err != nil || res.Contacts != 130 || res.Batches != 2 {
		t.Fatalf("regional start = %+v %v", res, err)
	}
	if n := f.count(t, `SELECT count(*) FROM pollruns WHERE pollrun_type = 'r'`); n != 1 {
		t.Fatalf("%d regional poll runs", n)
	}
}

func TestStartPollRefusals(t *testing.T) {
	f := newStartFixture(t)
	supA := f.scope(t, "Province A", "Province A")
	before := f.count(t, `SELECT count(*) FROM pollruns`)
	for name, tc := range map[string]struct {
		in   PollStart
		code Code
		msg  string
	}{
		"outside the scope": {PollStart{PollID: f.polls[0].ID, RegionID: f.panels["Province B"]}, CodeForbidden, "cannot start"},
		"no panel":          {PollStart{PollID: f.polls[0].ID}, CodeInvalid, "panel"},
		"untracked poll":    {PollStart{PollID: 9999, RegionID: f.panels["Province A"]}, CodeInvalid, "polls"},
	} {
		tc.in.Org, tc.in.Scope = f.org, supA
		_, err := f.db.StartPoll(f.ctx, tc.in)
		if ErrorCode(err) != tc.code || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := f.db.Exec(`UPDATE contacts SET is_active = 0 WHERE region_id = ?`, f.panels["District A1"]); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.StartPoll(f.ctx, PollStart{Org: f.org, Scope: supA, PollID: f.polls[0].ID, RegionID: f.panels["District A1"]}); ErrorCode(err) != CodeInvalid {
		t.Errorf("a panel without active contacts: %v", err)
	}
	if n := f.count(t, `SELECT count(*) FROM pollruns`); n != before {
		t.Fatalf("refused starts left %d poll runs", n-before)
	}
	if n := f.count(t, `SELECT count(*) FROM outbox`) + f.count(t, `SELECT count(*) FROM flow_starts`); n != 0 {
		t.Fatalf("refused starts left %d outbox/flow start rows", n)
	}
}

// respond inserts an active response of a contact in a poll run.
func (f *startFixture) respond(t *testing.T, pollrun int64, contactUUID, status string) {
	t.Helper()
	now := NowMs()
	if _, err := f.db.Exec(`INSERT INTO responses (org_id, pollrun_id, contact_id, run_uuid, created_on, updated_on, modified_on, status)
		SELECT ?, ?, id, ?, ?, ?, ?, ? FROM contacts WHERE uuid = ?`, f.org.ID, pollrun, fmt.Sprintf("run-%d-%s", pollrun, contactUUID), now, now, now, status, contactUUID); err != nil {
		t.Fatal(err)
	}
}

func (f *startFixture) uuids(t *testing.T, panel string, n int) []string {
	t.Helper()
	rows, err := f.db.Query(`SELECT uuid FROM contacts WHERE region_id = ? AND is_active = 1 ORDER BY id LIMIT ?`, f.panels[panel], n)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u string
		rows.Scan(&u)
		out = append(out, u)
	}
	return out
}

func TestRestartNonRespondentsPicksIncompleteContacts(t *testing.T) {
	f := newStartFixture(t)
	selA := f.scope(t, "Province A")
	res, err := f.db.StartPoll(f.ctx, PollStart{Org: f.org, Scope: selA, PollID: f.polls[0].ID, RegionID: f.panels["Province A"], Propagate: true})
	if err != nil {
		t.Fatal(err)
	}
	a := f.uuids(t, "Province A", 130)
	a1 := f.uuids(t, "District A1", 100)
	for _, u := range a[:60] {
		f.respond(t, res.PollrunID, u, StatusComplete)
	}
	for _, u := range a[60:70] {
		f.respond(t, res.PollrunID, u, StatusPartial)
	}
	for _, u := range a1[:40] {
		f.respond(t, res.PollrunID, u, StatusComplete)
	}
	for _, u := range a1[40:50] {
		f.respond(t, res.PollrunID, u, StatusEmpty)
	}
	// An inactive complete response does not count as complete.
	if _, err := f.db.Exec(`UPDATE responses SET is_active = 0 WHERE run_uuid = ?`, fmt.Sprintf("run-%d-%s", res.PollrunID, a1[0])); err != nil {
		t.Fatal(err)
	}
	prog, err := f.db.PollStartProgress(f.ctx, selA, res.PollrunID)
	if err != nil {
		t.Fatal(err)
	}
	if !prog.Latest || prog.NonRespondents != 131 || prog.Runs != 119 || prog.Pending != 3 || prog.Contacts != 230 {
		t.Fatalf("progress = %+v", prog)
	}
	// 230 - 60 - 39 complete = 131 (70 of A, 61 of A1).
	r, err := f.db.RestartNonRespondents(f.ctx, f.org, selA, res.PollrunID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Contacts != 131 || r.Batches != 2 {
		t.Fatalf("restart = %+v", r)
	}
	complete := map[string]bool{}
	for _, u := range append(a[:60], a1[1:40]...) {
		complete[u] = true
	}
	rows, _ := f.db.Query(`SELECT payload FROM outbox ORDER BY id LIMIT -1 OFFSET 3`)
	n := 0
	for rows.Next() {
		var payload string
		rows.Scan(&payload)
		var p FlowStartPayload
		json.Unmarshal([]byte(payload), &p)
		for _, c := range p.Contacts {
			if complete[c] {
				t.Errorf("restart includes %s, who completed", c)
			}
			n++
		}
	}
	rows.Close()
	if n != 131 || f.count(t, `SELECT count(*) FROM flow_starts WHERE pollrun_id = ?`, res.PollrunID) != 5 {
		t.Fatalf("restart queued %d contacts", n)
	}

	// Another panel selected, an older poll run, a universal one: refused.
	if _, err := f.db.RestartNonRespondents(f.ctx, f.org, f.scope(t, "District A1"), res.PollrunID); ErrorCode(err) != CodeInvalid {
		t.Errorf("other panel selected: %v", err)
	}
	if _, err := f.db.StartPoll(f.ctx, PollStart{Org: f.org, Scope: selA, PollID: f.polls[1].ID, RegionID: f.panels["Province A"]}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.RestartNonRespondents(f.ctx, f.org, selA, res.PollrunID); ErrorCode(err) != CodeInvalid || !strings.Contains(err.Error(), "latest") {
		t.Errorf("older poll run: %v", err)
	}
	var uni int64
	if err := f.db.QueryRow(`INSERT INTO pollruns (org_id, poll_id, pollrun_type, conducted_on, local_date) VALUES (?, ?, 'u', ?, '2026-01-01') RETURNING id`,
		f.org.ID, f.polls[0].ID, NowMs()).Scan(&uni); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.RestartNonRespondents(f.ctx, f.org, selA, uni); ErrorCode(err) != CodeInvalid {
		t.Errorf("universal poll run: %v", err)
	}
	if _, err := f.db.RestartNonRespondents(f.ctx, f.org, selA, 99999); ErrorCode(err) != CodeNotFound {
		t.Errorf("unknown poll run: %v", err)
	}
}

func TestMostActiveAndRecentAreScoped(t *testing.T) {
	f := newStartFixture(t)
	admin := f.scope(t, "")
	resA, err := f.db.StartPoll(f.ctx, PollStart{Org: f.org, Scope: admin, PollID: f.polls[0].ID, RegionID: f.panels["Province A"], Propagate: true})
	if err != nil {
		t.Fatal(err)
	}
	resB, err := f.db.StartPoll(f.ctx, PollStart{Org: f.org, Scope: admin, PollID: f.polls[1].ID, RegionID: f.panels["Province B"]})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range f.uuids(t, "Province A", 12) {
		f.respond(t, resA.PollrunID, u, StatusComplete)
	}
	for i, u := range f.uuids(t, "District A1", 9) {
		st := StatusPartial
		if i >= 7 {
			st = StatusEmpty // not counted as activity
		}
		f.respond(t, resA.PollrunID, u, st)
	}
	for _, u := range f.uuids(t, "Province B", 15) {
		f.respond(t, resB.PollrunID, u, StatusComplete)
	}
	since := time.Now().Add(-ActivityWindow)

	panels, cohorts, err := f.db.MostActive(f.ctx, admin, since, 5)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(panels) != fmt.Sprintf("[{%d Province B 15} {%d Province A 12} {%d District A1 7}]", f.panels["Province B"], f.panels["Province A"], f.panels["District A1"]) {
		t.Fatalf("admin most active panels = %v", panels)
	}
	if len(cohorts) != 2 || cohorts[0].Name != "Teachers" || cohorts[0].Count != 27 || cohorts[1].Name != "Nurses" || cohorts[1].Count != 7 {
		t.Fatalf("admin most active cohorts = %v", cohorts)
	}
	supA := f.scope(t, "Province A", "Province A")
	panels, cohorts, err = f.db.MostActive(f.ctx, supA, since, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(panels) != 2 || panels[0].Name != "Province A" || panels[1].Name != "District A1" {
		t.Fatalf("supervisor A most active panels = %v", panels)
	}
	if len(cohorts) != 2 || cohorts[0].Count != 12 || cohorts[1].Count != 7 {
		t.Fatalf("supervisor A most active cohorts = %v", cohorts)
	}
	// Responses last updated before the window do not count (SPEC §3.7).
	if _, err := f.db.Exec(`UPDATE responses SET updated_on = ? WHERE pollrun_id = ?`, time.Now().Add(-31*24*time.Hour).UnixMilli(), resA.PollrunID); err != nil {
		t.Fatal(err)
	}
	if panels, _, _ = f.db.MostActive(f.ctx, supA, since, 5); len(panels) != 0 {
		t.Fatalf("responses updated 31 days ago counted: %v", panels)
	}

	recent, err := f.db.RecentPollruns(f.ctx, supA, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(recent) != 1 || recent[0].ID != resA.PollrunID || recent[0].Complete != 12 || recent[0].Partial != 7 || recent[0].Empty != 2 || recent[0].RegionName != "Province A" {
		t.Fatalf("supervisor A recent = %+v", recent)
	}
	recent, _ = f.db.RecentPollruns(f.ctx, admin, 5)
	if len(recent) != 2 || recent[0].ID != resB.PollrunID || recent[0].Participants() != 15 {
		t.Fatalf("admin recent = %+v", recent)
	}
}
