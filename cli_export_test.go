package main

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"tracpro/models"
)

// exportDB makes a database file with org "acme" (Africa/Kigali), one panel,
// one tracked poll "Visits" with a numeric question, and three runs: Ann's
// twice (the first becomes an inactive repeat) and Ben's empty.
func exportDB(t *testing.T) (string, int64) {
	t.Helper()
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
	org, err := db.CreateOrg(ctx, models.NewOrg{Name: "Acme", Subdomain: "acme", RapidProURL: "http://127.0.0.1:1", Token: "t", Timezone: "Africa/Kigali"})
	must(err)
	_, _, err = db.SyncGroups(ctx, org.ID, []models.RapidProGroup{{UUID: "g-north", Name: "North"}})
	must(err)
	gs, err := db.ResolveGroups(ctx, org.ID, []string{"North"})
	must(err)
	_, err = db.TrackGroups(ctx, org.ID, "regions", gs)
	must(err)
	_, _, _, err = db.SyncFlows(ctx, org.ID, []models.FlowInfo{{UUID: "flow-v", Name: "Visits"}})
	must(err)
	_, err = db.TrackPolls(ctx, org.ID, []string{"Visits"})
	must(err)
	p, err := db.PollByRef(ctx, org.ID, "visits")
	must(err)
	_, _, _, err = db.SyncQuestions(ctx, p.ID, []models.QuestionDef{{UUID: "n-count", ResultKey: "count", Label: "Count",
		Rules: []models.Rule{{Category: "Any", Test: "number"}}}})
	must(err)
	_, err = db.ApplyContacts(ctx, org, []models.ContactRow{
		{UUID: "c-ann", Name: "Ann", URNs: []string{"tel:+250781111111"}, Groups: []string{"g-north"}, Active: true, ModifiedOn: time.Now()},
		{UUID: "c-ben", Name: "Ben", URNs: []string{"tel:+250782222222"}, Groups: []string{"g-north"}, Active: true, ModifiedOn: time.Now()},
	}, nil)
	must(err)
	at := time.Date(2025, 3, 4, 7, 30, 0, 0, time.UTC)
	val := func(v string, t time.Time) []models.RunValueRow {
		return []models.RunValueRow{{Key: "count", Node: "n-count", Value: v, Time: t}}
	}
	ri, err := db.NewRunIngester(ctx, org)
	must(err)
	_, err = ri.ApplyPage(ctx, []models.RunRow{
		{UUID: "r1", FlowUUID: "flow-v", ContactUUID: "c-ann", ExitType: "completed", CreatedOn: at, ModifiedOn: at, Values: val("-3", at)},
		{UUID: "r2", FlowUUID: "flow-v", ContactUUID: "c-ann", ExitType: "completed", CreatedOn: at.Add(time.Hour), ModifiedOn: at.Add(time.Hour), Values: val("6.0000", at.Add(time.Hour))},
		{UUID: "r3", FlowUUID: "flow-v", ContactUUID: "c-ben", CreatedOn: at, ModifiedOn: at},
	}, nil)
	must(err)
	var run int64
	must(db.QueryRowContext(ctx, `SELECT id FROM pollruns WHERE poll_id = ?`, p.ID).Scan(&run))
	return path, run
}

func TestCLIExportResponses(t *testing.T) {
	path, run := exportDB(t)
	want := "Date,Name,URN,Panel,Cohorts,Count\n" +
		"\"Mar 04, 2025 10:30\",Ann,tel:+250781111111,North,,6.0000\n" +
		"\"Mar 04, 2025 09:30\",Ann,tel:+250781111111,North,,'-3\n"
	for _, args := range [][]string{
		{"--org", "acme", "--poll", "Visits"},
		{"--org", "acme", "--poll", "visits", "--pollrun", sid(run), "--since", "2025-03-04"},
	} {
		code, out, errOut := runCLI(t, append([]string{"export", "responses", "--db", path}, args...)...)
		if code != 0 || out != want {
			t.Fatalf("%v: exit %d, stderr %q, stdout:\n%s\nwant:\n%s", args, code, errOut, out, want)
		}
	}
	code, out, _ := runCLI(t, "export", "responses", "--db", path, "--org", "acme", "--poll", "Visits", "--since", "2025-03-05")
	if code != 0 || out != "Date,Name,URN,Panel,Cohorts,Count\n" {
		t.Fatalf("since the next day: %d %q", code, out)
	}
	for _, args := range [][]string{
		{"export"},
		{"export", "runs"},
		{"export", "responses", "--db", path, "--poll", "Visits"},
		{"export", "responses", "--db", path, "--org", "acme"},
		{"export", "responses", "--db", path, "--org", "acme", "--poll", "Nope"},
		{"export", "responses", "--db", path, "--org", "acme", "--poll", "Visits", "--since", "March"},
		{"export", "responses", "--db", path, "--org", "acme", "--poll", "Visits", "--pollrun", "x"},
		{"export", "responses", "--db", path, "--org", "acme", "--poll", "Visits", "--pollrun", "99999"},
	} {
		code, _, stderr := runCLI(t, args...)
		if code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.HasPrefix(stderr, "tracpro: ") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line", args, code, stderr)
		}
	}
}

func sid(n int64) string { return strconv.FormatInt(n, 10) }
