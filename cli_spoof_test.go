package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tracpro/models"
)

// TestCLIRecountAfterSpoofData: spoof data (SPEC §3.6) keeps the counters
// exact when it is made and when it is cleared, as `tracpro recount` sees
// them; clearing leaves the real poll run's counters alone.
func TestCLIRecountAfterSpoofData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := models.OpenMigrated(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	org, err := db.CreateOrg(ctx, models.NewOrg{Name: "Org", Subdomain: "org", RapidProURL: "http://127.0.0.1:1", Token: "t"})
	must(err)
	_, err = db.Exec(`UPDATE orgs SET show_spoof_data = 1 WHERE id = ?`, org.ID)
	must(err)
	_, _, err = db.SyncGroups(ctx, org.ID, []models.RapidProGroup{{UUID: "g-1", Name: "Kabul"}, {UUID: "g-c", Name: "Teachers"}})
	must(err)
	for table, name := range map[string]string{"regions": "Kabul", "cohorts": "Teachers"} {
		gs, _ := db.ResolveGroups(ctx, org.ID, []string{name})
		_, err = db.TrackGroups(ctx, org.ID, table, gs)
		must(err)
	}
	_, _, _, err = db.SyncFlows(ctx, org.ID, []models.FlowInfo{{UUID: "flow-1", Name: "Attendance"}})
	must(err)
	_, err = db.TrackPolls(ctx, org.ID, []string{"Attendance"})
	must(err)
	polls, _ := db.ListPolls(ctx, org.ID, true)
	num := []models.Rule{{Category: "Any", Test: "number"}}
	_, _, _, err = db.SyncQuestions(ctx, polls[0].ID, []models.QuestionDef{{UUID: "node-num", ResultKey: "pupils", Label: "Pupils", Rules: num},
		{UUID: "node-t", ResultKey: "teachers", Label: "Teachers", Order: 1, Rules: num}})
	must(err)
	qs, _ := db.PollQuestions(ctx, polls[0].ID)
	_, err = db.ApplyContacts(ctx, org, []models.ContactRow{
		{UUID: "c1", Name: "c1", URNs: []string{"tel:+93700000001"}, Groups: []string{"g-1", "g-c"}, Active: true, ModifiedOn: time.Now()},
		{UUID: "c2", Name: "c2", URNs: []string{"tel:+93700000002"}, Groups: []string{"g-1"}, Active: true, ModifiedOn: time.Now()}}, nil)
	must(err)
	ri, err := db.NewRunIngester(ctx, org)
	must(err)
	d := time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
	_, err = ri.ApplyPage(ctx, []models.RunRow{{UUID: "r1", FlowUUID: "flow-1", ContactUUID: "c1", ExitType: "completed", CreatedOn: d, ModifiedOn: d,
		Values: []models.RunValueRow{{Key: "pupils", Value: "12", Time: d}}}}, nil)
	must(err)
	recount := func(want string) {
		t.Helper()
		code, out, stderr := runCLI(t, "recount", "--db", path, "--org", "org")
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("recount: exit %d, %q %q; want %q", code, out, stderr, want)
		}
	}
	recount("3 counters checked, 0 drifted")

	scope, err := db.ResolveScope(ctx, org.ID, 0, true, 0, true)
	must(err)
	var ids []int64
	rows, err := db.Query(`SELECT id FROM contacts ORDER BY id`)
	must(err)
	for rows.Next() {
		var id int64
		must(rows.Scan(&id))
		ids = append(ids, id)
	}
	rows.Close()
	res, err := db.CreateSpoofData(ctx, org, scope, models.SpoofInput{Contacts: ids, StartDate: "2026-03-01", EndDate: "2026-03-03",
		BaselineQuestionID: qs[0].ID, FollowUpQuestionID: qs[1].ID, BaselineMin: "5", BaselineMax: "5", FollowUpMin: "7", FollowUpMax: "7"}, nil, 0)
	must(err)
	if res.Pollruns != 4 || res.Responses != 8 {
		t.Fatalf("spoofed %+v", res)
	}
	// 4 spoofed poll runs × (1 answers + 1 responses + 1 value counter)
	// more: fixed values (5 and 7), so both contacts share each value row.
	recount("15 counters checked, 0 drifted")
	_, err = db.ClearSpoofData(ctx, org.ID)
	must(err)
	recount("3 counters checked, 0 drifted")
}
