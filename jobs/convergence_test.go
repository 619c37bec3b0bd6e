package jobs

import (
	"context"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"tracpro/models"
	"tracpro/rapidpro/fake"
)

// expectedContact is what TracPro should hold for a simulator contact.
type expectedContact struct {
	active  bool
	panel   string // panel group uuid
	cohorts []string
}

// truth derives, from the simulator's state, the contacts TracPro tracks and
// the responses it must hold (SPEC §3.1, §4.2, §4.3).
func truth(e *env) (map[string]expectedContact, map[string]models.ResponseSnapshot) {
	ctx := context.Background()
	panels, _ := e.db.ListRegions(ctx, e.org.ID, true)
	panelUUID := map[string]string{} // group uuid -> name
	for _, p := range panels {
		panelUUID[p.UUID] = p.Name
	}
	cohortSet := map[string]bool{}
	rows, _ := e.db.Query(`SELECT uuid FROM cohorts WHERE org_id = ?`, e.org.ID)
	for rows.Next() {
		var u string
		rows.Scan(&u)
		cohortSet[u] = true
	}
	rows.Close()
	tracked := map[string]bool{}
	for _, p := range mustPolls(e.t, e) {
		tracked[p.FlowUUID] = true
	}
	loc := e.org.Location()

	contacts := map[string]expectedContact{}
	responses := map[string]models.ResponseSnapshot{}
	e.store.Read(func() {
		for _, c := range e.store.Contacts {
			var x expectedContact
			for _, g := range c.Groups {
				if name, ok := panelUUID[g]; ok && (x.panel == "" || name < panelUUID[x.panel]) {
					x.panel = g
				}
				if cohortSet[g] {
					x.cohorts = append(x.cohorts, g)
				}
			}
			sort.Strings(x.cohorts)
			x.active = !c.Deleted && c.Status == "active" && x.panel != "" && models.PickURN(c.URNs) != ""
			contacts[c.UUID] = x
		}
		type key struct{ flow, day, contact string }
		newest := map[key]*fake.Run{}
		for _, r := range e.store.Runs {
			if !tracked[r.FlowUUID] || r.Archived {
				continue
			}
			c := e.store.ContactsByUUID[r.ContactUUID]
			if c == nil || !contacts[c.UUID].active {
				continue
			}
			s := models.ResponseSnapshot{FlowUUID: r.FlowUUID, ContactUUID: r.ContactUUID, PollrunType: "u", Answers: map[string][2]string{}}
			switch {
			case r.ExitType == "completed":
				s.Status = models.StatusComplete
			case len(r.Values) > 0:
				s.Status = models.StatusPartial
			default:
				s.Status = models.StatusEmpty
			}
			for k, v := range r.Values {
				cat := ""
				if v.Category != nil && *v.Category != "All Responses" {
					cat = *v.Category
				}
				s.Answers[k] = [2]string{v.Value, cat}
			}
			responses[r.UUID] = s
			k := key{r.FlowUUID, r.CreatedOn.In(loc).Format("2006-01-02"), r.ContactUUID}
			if n := newest[k]; n == nil || r.CreatedOn.After(n.CreatedOn) || (r.CreatedOn.Equal(n.CreatedOn) && r.ID > n.ID) {
				newest[k] = r
			}
		}
		for _, r := range newest {
			s := responses[r.UUID]
			s.Active = true
			responses[r.UUID] = s
		}
	})
	return contacts, responses
}

// TestConvergence runs many sync cycles against the simulator while simulated
// respondents answer, contacts change, and random faults (5xx, 429, resets,
// truncated JSON) hit the API, then checks the local database equals the
// simulator's truth.
func TestConvergence(t *testing.T) {
	e := newEnv(t, fake.GenConfig{Seed: 11, Contacts: 80, Weeks: 3}, fake.Config{PageSize: 7}, false)
	ctx := context.Background()
	act := fake.NewActivity(e.store, 11)
	rng := rand.New(rand.NewPCG(11, 12))
	kinds := []fake.Fault{
		{Kind: fake.FaultStatus, Status: 500},
		{Kind: fake.FaultStatus, Status: 503},
		{Kind: fake.FaultThrottle, RetryAfter: 1},
		{Kind: fake.FaultThrottle, RetryAfter: -1},
		{Kind: fake.FaultReset},
		{Kind: fake.FaultTruncate},
	}
	failures := 0
	for cycle := 0; cycle < 25; cycle++ {
		for i := 0; i < 1+rng.IntN(3); i++ {
			f := kinds[rng.IntN(len(kinds))]
			f.Path = []string{"runs", "contacts", ""}[rng.IntN(3)]
			f.Times = 1 + rng.IntN(6) // up to 6 in a row: sometimes more than the client's attempts
			e.sim.Script(f)
		}
		for _, res := range []string{ResContacts, ResRuns} {
			if r := e.syncer.Pull(ctx, e.org, res); r.Err != nil {
				failures++
			}
		}
		e.store.Clock.Advance(2 * time.Minute)
		act.Step(15)
	}
	if failures == 0 {
		t.Fatal("the faults never made a pull fail; the test does not exercise recovery")
	}
	e.sim.ClearFaults()
	// Final cycles without faults must converge.
	for i := 0; i < 2; i++ {
		e.mustPull(ResContacts)
		e.mustPull(ResRuns)
	}

	wantContacts, wantResponses := truth(e)
	gotContacts, err := e.db.ListContacts(ctx, e.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	regionUUID := map[int64]string{}
	regions, _ := e.db.ListRegions(ctx, e.org.ID, false)
	for _, r := range regions {
		regionUUID[r.ID] = r.UUID
	}
	cohortUUID := map[int64]string{}
	rows, _ := e.db.Query(`SELECT id, uuid FROM cohorts`)
	for rows.Next() {
		var id int64
		var u string
		rows.Scan(&id, &u)
		cohortUUID[id] = u
	}
	rows.Close()
	local := map[string]models.ContactSummary{}
	for _, c := range gotContacts {
		local[c.UUID] = c
	}
	activeWant := 0
	for u, w := range wantContacts {
		c, ok := local[u]
		if !w.active {
			if ok && c.Active {
				t.Errorf("contact %s should be inactive", u)
			}
			continue
		}
		activeWant++
		if !ok || !c.Active {
			t.Errorf("contact %s missing or inactive", u)
			continue
		}
		if regionUUID[c.RegionID] != w.panel {
			t.Errorf("contact %s panel %s, want %s", u, regionUUID[c.RegionID], w.panel)
		}
		var cs []string
		for _, id := range c.Cohorts {
			cs = append(cs, cohortUUID[id])
		}
		sort.Strings(cs)
		if len(cs) != len(w.cohorts) || (len(cs) > 0 && !equalStrings(cs, w.cohorts)) {
			t.Errorf("contact %s cohorts %v, want %v", u, cs, w.cohorts)
		}
	}
	if activeWant < 40 {
		t.Fatalf("only %d tracked contacts: the fixture is too small", activeWant)
	}

	got, err := e.db.SnapshotResponses(ctx, e.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for u, w := range wantResponses {
		g, ok := got[u]
		if !ok {
			t.Errorf("run %s missing", u)
			continue
		}
		checked++
		if g.Status != w.Status || g.Active != w.Active || g.ContactUUID != w.ContactUUID || g.FlowUUID != w.FlowUUID {
			t.Errorf("run %s: got %s active=%v, want %s active=%v", u, g.Status, g.Active, w.Status, w.Active)
		}
		for k, v := range w.Answers {
			if g.Answers[k] != v {
				t.Errorf("run %s answer %s = %v, want %v", u, k, g.Answers[k], v)
			}
		}
		if len(g.Answers) != len(w.Answers) {
			t.Errorf("run %s has %d answers, want %d", u, len(g.Answers), len(w.Answers))
		}
	}
	// Responses of contacts that were later deactivated stay (history); no
	// response may exist for a run the simulator does not have.
	e.store.Read(func() {
		for u := range got {
			if e.store.RunsByUUID[u] == nil {
				t.Errorf("response %s has no run in the simulator", u)
			}
		}
	})
	if checked < 200 {
		t.Fatalf("only %d responses compared", checked)
	}
	t.Logf("converged: %d contacts tracked, %d responses compared, %d pulls failed on the way", activeWant, checked, failures)
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
