package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tracpro/models"
)

// TestCLIRecount: counters kept by the ingest match the raw rows; a broken
// counter is reported (exit 1), --fix rewrites it, bad flags exit 2.
func TestCLIRecount(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := models.OpenMigrated(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	org, err := db.CreateOrg(ctx, models.NewOrg{Name: "Org", Subdomain: "org", RapidProURL: "http://127.0.0.1:1", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, _, err = db.SyncGroups(ctx, org.ID, []models.RapidProGroup{{UUID: "g-1", Name: "Kabul"}})
	must(err)
	gs, _ := db.ResolveGroups(ctx, org.ID, []string{"Kabul"})
	_, err = db.TrackGroups(ctx, org.ID, "regions", gs)
	must(err)
	_, _, _, err = db.SyncFlows(ctx, org.ID, []models.FlowInfo{{UUID: "flow-1", Name: "Attendance"}})
	must(err)
	_, err = db.TrackPolls(ctx, org.ID, []string{"Attendance"})
	must(err)
	polls, _ := db.ListPolls(ctx, org.ID, true)
	_, _, _, err = db.SyncQuestions(ctx, polls[0].ID, []models.QuestionDef{{UUID: "node-num", ResultKey: "pupils", Label: "Pupils",
		Rules: []models.Rule{{Category: "Low", Test: "between", Args: []string{"0", "40"}}}}})
	must(err)
	_, err = db.ApplyContacts(ctx, org, []models.ContactRow{{UUID: "c1", Name: "c1", URNs: []string{"tel:+93700000001"}, Groups: []string{"g-1"}, Active: true, ModifiedOn: time.Now()}}, nil)
	must(err)
	ri, err := db.NewRunIngester(ctx, org)
	must(err)
	d := time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
	_, err = ri.ApplyPage(ctx, []models.RunRow{{UUID: "r1", FlowUUID: "flow-1", ContactUUID: "c1", ExitType: "completed", CreatedOn: d, ModifiedOn: d,
		Values: []models.RunValueRow{{Key: "pupils", Value: "12", Time: d}}}}, nil)
	must(err)

	// One answer counter, one response counter, one value counter (the number 12).
	code, out, stderr := runCLI(t, "recount", "--db", path, "--org", "org")
	if code != 0 || !strings.Contains(out, "3 counters checked, 0 drifted") {
		t.Fatalf("clean recount: exit %d, %q %q", code, out, stderr)
	}
	_, err = db.Exec(`UPDATE answer_counters SET answers = 7`)
	must(err)
	db.Close()
	code, out, stderr = runCLI(t, "recount", "--db", path)
	if code != 1 || !strings.Contains(out, `org: answers pollrun=1 question=1 panel=1 category="": stored answers=7`) ||
		!strings.Contains(out, "3 counters checked, 1 drifted") || !strings.HasPrefix(stderr, "tracpro: counters differ") {
		t.Fatalf("drift: exit %d, %q %q", code, out, stderr)
	}
	if code, out, _ = runCLI(t, "recount", "--db", path, "--org", "org", "--fix"); code != 0 || !strings.Contains(out, "1 drifted (rewritten") {
		t.Fatalf("--fix: exit %d, %q", code, out)
	}
	if code, out, _ = runCLI(t, "recount", "--db", path, "--org", "org"); code != 0 || !strings.Contains(out, "0 drifted") {
		t.Fatalf("after --fix: exit %d, %q", code, out)
	}
	for _, args := range [][]string{{"recount", "--db", path, "--bogus"}, {"recount", "--db", path, "--org", "nosuch"}, {"recount", "--db", path, "extra"}} {
		if code, _, stderr := runCLI(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%q)", args, code, stderr)
		}
	}
}
