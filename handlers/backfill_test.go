package handlers

import (
	"net/url"
	"strings"
	"testing"

	"tracpro/jobs"
	"tracpro/models"
)

// TestWizardAddingPanelsBackfillsTheirRuns: an org synced while only its
// provinces were panels (the simulator's contacts are in districts) holds no
// response, and My organization says why the pulls skipped every contact and
// run. The administrator adds the districts in the setup wizard: a background
// task with progress pulls the contacts and reads the tracked polls' runs
// again, and the districts' contacts' responses are there — as many as the
// simulator's runs of tracked contacts — with 0 drift.
func TestWizardAddingPanelsBackfillsTheirRuns(t *testing.T) {
	e := newOrgEnv(t)
	admin := e.user("admin@example.org", models.RoleAdmin, false)
	store := e.sim.Store()
	var provinces, all []string
	store.Read(func() {
		for _, b := range store.Boundaries {
			if b.Level == 1 {
				provinces = append(provinces, b.Name)
			}
			if b.Level == 1 || b.Level == 2 {
				all = append(all, b.Name)
			}
		}
	})
	trackAndPull(t, e.Ctx, e.syncer, e.org, provinces, e.info.Cohorts, e.info.Polls)
	if n := e.count(`SELECT count(*) FROM responses`); n != 0 {
		t.Fatalf("%d responses while the contacts' panels are not tracked", n)
	}
	home := admin.get("/manage/org/home/").Body
	table := home[strings.Index(home, `id="pulls"`):]
	table = table[:strings.Index(table, "</table>")]
	for _, want := range []string{" contacts not in a tracked panel", " runs of contacts not in a tracked panel", "<th>Last skipped</th>"} {
		if !strings.Contains(table, want) {
			t.Errorf("My organization does not say %q:\n%s", want, table)
		}
	}

	r := admin.post("/region/select/", url.Values{"choices": e.groupUUIDs(all)})
	if r.Code != 303 || r.Header.Get("Location") != "/group/select/" {
		t.Fatalf("panels saved: %d", r.Code)
	}
	jobs.Tasks(e.syncer).Wait()
	task, err := e.DB.LatestTask(e.Ctx, e.org.ID, models.TaskBackfill)
	if err != nil || task == nil || task.State != models.TaskDone || task.Progress != 100 || !strings.Contains(task.Message, " runs read: ") {
		t.Fatalf("backfill task: %+v %v", task, err)
	}
	page := admin.get("/group/select/").Body
	if !strings.Contains(page, "polls are read again in the background for what became visible") {
		t.Error("the wizard does not say the past runs are being read")
	}
	home = admin.get("/manage/org/home/").Body
	if !strings.Contains(home, "Past runs of added panels and polls") || !strings.Contains(home, task.Message) || strings.Contains(home, `id="backfills"`) {
		t.Error("My organization does not show the finished backfill task")
	}

	// The simulator's runs of tracked polls by contacts of tracked panels.
	panels, err := e.DB.TrackedGroupUUIDs(e.Ctx, e.org.ID, "regions")
	if err != nil {
		t.Fatal(err)
	}
	flows := map[string]bool{}
	polls, _ := e.DB.ListPolls(e.Ctx, e.org.ID, true)
	for _, p := range polls {
		flows[p.FlowUUID] = true
	}
	want := 0
	store.Read(func() {
		for _, run := range store.Runs {
			c := store.ContactsByUUID[run.ContactUUID]
			if run.Archived || !flows[run.FlowUUID] || c == nil || c.Deleted || c.Status != "active" || models.PickURN(c.URNs) == "" {
				continue
			}
			for _, g := range c.Groups {
				if panels[g] {
					want++
					break
				}
			}
		}
	})
	if got := e.count(`SELECT count(*) FROM responses`); want < 100 || got != want {
		t.Fatalf("%d responses after the backfill, the simulator has %d runs of tracked contacts", got, want)
	}
	if rep, err := e.DB.RecountOrg(e.Ctx, e.org.ID, false); err != nil || rep.Drifted != 0 {
		t.Fatalf("recount: %v %+v", err, rep)
	}
}
