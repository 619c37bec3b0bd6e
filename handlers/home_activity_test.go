package handlers

import (
	"fmt"
	"testing"
	"time"

	"tracpro/models"
)

// TestHomeMostActiveCountsUpdatedResponses checks the figures of the home
// page's most active panels and cohorts (SPEC §3.7): responses *updated* in
// the last 30 days, whenever their poll run was conducted. The poll fixture
// counts, by hand: Province A 5 (poll run 1: Alice, Bob, Carol; poll run 2:
// Alice's newest run, Bob; Carol's run 2 is empty), Province B 3 (Dan twice,
// Eve); Teachers 6 (Alice, Bob and Dan twice each), Heads 3 (Alice twice,
// Carol). Carol then answers, 5 days ago, a run started 31 days ago: it
// counts (Province A 6, Heads 4); Eve's run answered 31 days ago does not.
func TestHomeMostActiveCountsUpdatedResponses(t *testing.T) {
	f := newPollFixture(t)
	now := time.Now()
	ago := func(days int) time.Time { return now.Add(-time.Duration(days) * 24 * time.Hour) }
	ri, err := f.DB.NewRunIngester(f.Ctx, f.Org)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ri.ApplyPage(f.Ctx, []models.RunRow{
		{UUID: "r0-a3", FlowUUID: "flow-1", ContactUUID: "c-a3", ExitType: "completed", CreatedOn: ago(31), ModifiedOn: ago(5),
			Values: []models.RunValueRow{{Key: "pupils", Node: "n-pupils", Value: "8", Category: cat2("Any"), Time: ago(5)}}},
		{UUID: "r0-b2", FlowUUID: "flow-1", ContactUUID: "c-b2", ExitType: "completed", CreatedOn: ago(40), ModifiedOn: ago(31),
			Values: []models.RunValueRow{{Key: "pupils", Node: "n-pupils", Value: "3", Category: cat2("Any"), Time: ago(31)}}},
	}, nil); err != nil {
		t.Fatal(err)
	}
	var conducted int64
	if err := f.DB.QueryRowContext(f.Ctx, `SELECT pr.conducted_on FROM pollruns pr JOIN responses r ON r.pollrun_id = pr.id WHERE r.run_uuid = 'r0-a3'`).Scan(&conducted); err != nil ||
		conducted > now.Add(-models.ActivityWindow).UnixMilli() {
		t.Fatalf("Carol's old run is in a poll run conducted %v (%v), want 31 days ago", models.FromMs(conducted), err)
	}
	for _, tc := range []struct {
		who             *models.User
		panels, cohorts string
	}{
		{f.Admin, "map[Province A:6 Province B:3]", "map[Heads:4 Teachers:6]"},
		{f.SupA, "map[Province A:6]", "map[Heads:4 Teachers:4]"},
		{f.SupB, "map[Province B:3]", "map[Teachers:2]"},
	} {
		c := f.newClient(f.Org, tc.who)
		for _, hx := range []bool{false, true} {
			var r *result
			if hx {
				r = c.get("/", "HX-Request", "true")
			} else {
				r = c.get("/")
			}
			if r.Code != 200 {
				t.Fatalf("home = %d", r.Code)
			}
			if p, co := fmt.Sprint(listItems(r.Body, "active-panels")), fmt.Sprint(listItems(r.Body, "active-cohorts")); p != tc.panels || co != tc.cohorts {
				t.Errorf("%s (fragment %v): most active panels %s, cohorts %s; want %s, %s", tc.who.Email, hx, p, co, tc.panels, tc.cohorts)
			}
		}
	}
}
