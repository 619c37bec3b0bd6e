package jobs

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"tracpro/models"
	"tracpro/rapidpro"
	"tracpro/rapidpro/fake"
)

// trackedPair returns a tracked flow and a contact stored locally as active.
func (e *env) trackedPair() (flowUUID, contactUUID string) {
	e.t.Helper()
	if err := e.db.QueryRow(`SELECT p.flow_uuid FROM polls p WHERE p.org_id = ? AND p.is_active = 1 ORDER BY p.id LIMIT 1`, e.org.ID).Scan(&flowUUID); err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.QueryRow(`SELECT uuid FROM contacts WHERE org_id = ? AND is_active = 1 ORDER BY id LIMIT 1`, e.org.ID).Scan(&contactUUID); err != nil {
		e.t.Fatal(err)
	}
	return
}

func TestRunsTiesAcrossPagesAndNextFollowedVerbatim(t *testing.T) {
	e := newEnv(t, fake.GenConfig{Seed: 3, Contacts: 12, Weeks: 2}, fake.Config{PageSize: 3}, true)
	e.mustPull(ResContacts)
	e.mustPull(ResRuns)
	flow, contact := e.trackedPair()

	// Ten runs sharing one modified_on, served three per page.
	tie := time.Now().UTC().Add(-time.Minute).Truncate(time.Microsecond)
	var uuids []string
	e.store.Write(func() {
		for i := 0; i < 10; i++ {
			r := e.store.AddRun(&fake.Run{FlowUUID: flow, ContactUUID: contact, CreatedOn: tie, ModifiedOn: tie, ExitType: "completed"})
			uuids = append(uuids, r.UUID)
		}
	})
	e.pages.reset()
	r := e.mustPull(ResRuns)
	if r.Created != 10 {
		t.Fatalf("created %d runs, want the 10 tied ones (result %+v)", r.Created, r)
	}
	if n := e.count(`SELECT count(*) FROM responses WHERE run_uuid IN ('` + strings.Join(uuids, "','") + `')`); n != 10 {
		t.Fatalf("%d of the 10 tied runs stored", n)
	}
	// Only the newest response of the contact in that poll run stays active.
	if n := e.count(`SELECT count(*) FROM responses WHERE is_active = 1 AND run_uuid IN ('` + strings.Join(uuids, "','") + `')`); n > 1 {
		t.Fatalf("%d tied responses of one contact are active", n)
	}

	runs := e.pages.forPath("/api/v2/runs.json")
	if len(runs) < 4 {
		t.Fatalf("expected several runs pages, got %d requests", len(runs))
	}
	for i, p := range runs {
		if i == 0 {
			if strings.Contains(p.url, "cursor=") {
				t.Fatalf("first request already has a cursor: %s", p.url)
			}
			for _, want := range []string{"reverse=true", "before=", "after="} {
				if !strings.Contains(p.url, want) {
					t.Errorf("first request %s lacks %s", p.url, want)
				}
			}
			continue
		}
		if runs[i-1].next == "" {
			t.Fatalf("request %d made after a last page", i)
		}
		if p.url != runs[i-1].next {
			t.Fatalf("request %d is not the previous next verbatim:\n got %s\nwant %s", i, p.url, runs[i-1].next)
		}
	}
	if runs[len(runs)-1].next != "" {
		t.Fatal("the pull stopped before the last page")
	}
}

func TestRuns429RetryAfterHonouredAndCapped(t *testing.T) {
	e := newEnv(t, fake.GenConfig{Seed: 4, Contacts: 10, Weeks: 1}, fake.Config{PageSize: 5}, false)
	e.mustPull(ResContacts)

	e.sim.Script(fake.Fault{Kind: fake.FaultThrottle, Path: "runs", RetryAfter: 2})
	e.sim.Script(fake.Fault{Kind: fake.FaultThrottle, Path: "runs", RetryAfter: -1})
	r := e.mustPull(ResRuns)
	if r.Created == 0 {
		t.Fatal("nothing stored after the throttled pages were retried")
	}
	sleeps := e.sleeps.all()
	if len(sleeps) < 2 || sleeps[0] != 2*time.Second {
		t.Fatalf("sleeps = %v, want Retry-After 2s then a bounded back-off", sleeps)
	}
	if sleeps[1] <= 0 || sleeps[1] > 30*time.Second {
		t.Fatalf("back-off without Retry-After = %v", sleeps[1])
	}
	wm := e.state(ResRuns).Watermark

	// A huge Retry-After is not waited out: the pull fails, the watermark stays.
	flow, contact := e.trackedPair()
	e.store.Write(func() { e.store.AddRun(&fake.Run{FlowUUID: flow, ContactUUID: contact}) })
	e.sim.Script(fake.Fault{Kind: fake.FaultThrottle, Path: "runs", RetryAfter: 3600})
	before := len(e.sleeps.all())
	r = e.syncer.Pull(context.Background(), e.org, ResRuns)
	if !errors.Is(r.Err, rapidpro.ErrRateLimited) || ErrorKind(r.Err) != "rate_limited" {
		t.Fatalf("err = %v", r.Err)
	}
	for _, d := range e.sleeps.all()[before:] {
		if d >= time.Hour {
			t.Fatalf("slept %v", d)
		}
	}
	if got := e.state(ResRuns).Watermark; got != wm {
		t.Fatalf("watermark moved from %d to %d after a failed pull", wm, got)
	}
	var kind string
	e.db.QueryRow(`SELECT error_kind FROM sync_runs WHERE resource = 'runs' ORDER BY id DESC LIMIT 1`).Scan(&kind)
	if kind != "rate_limited" {
		t.Fatalf("sync_runs error_kind = %q", kind)
	}
	// The next pull converges.
	r = e.mustPull(ResRuns)
	if r.Created != 1 {
		t.Fatalf("after the throttle, created %d, want 1", r.Created)
	}
}

func TestRuns5xxMidWindowRetriedOrResumed(t *testing.T) {
	e := newEnv(t, fake.GenConfig{Seed: 5, Contacts: 15, Weeks: 2}, fake.Config{PageSize: 4}, false)
	e.mustPull(ResContacts)
	// A transient 500 is retried within the pull.
	e.sim.Script(fake.Fault{Kind: fake.FaultStatus, Status: 500, Path: "runs"})
	e.sim.AfterPage("runs", 2, func(*fake.Store) {
		e.sim.Script(fake.Fault{Kind: fake.FaultStatus, Status: 502, Path: "runs", Times: 1000})
	})
	r := e.syncer.Pull(context.Background(), e.org, ResRuns)
	if !errors.Is(r.Err, rapidpro.ErrUnavailable) {
		t.Fatalf("a permanent 502 mid-window should fail the pull, got %v", r.Err)
	}
	st := e.state(ResRuns)
	if st.Watermark != 0 || !st.InWindow() || st.Cursor == "" {
		t.Fatalf("state after failure = %+v; want the window kept with its cursor and no watermark", st)
	}
	partial := e.count(`SELECT count(*) FROM responses`)
	if partial == 0 {
		t.Fatal("pages before the failure were not stored")
	}
	e.sim.ClearFaults()
	e.mustPull(ResRuns)
	st = e.state(ResRuns)
	if st.Watermark == 0 || st.InWindow() {
		t.Fatalf("state after recovery = %+v", st)
	}
	want := 0
	snap, _ := e.db.SnapshotResponses(context.Background(), e.org.ID)
	contacts := map[string]bool{}
	rows, _ := e.db.Query(`SELECT uuid FROM contacts WHERE org_id = ?`, e.org.ID)
	for rows.Next() {
		var u string
		rows.Scan(&u)
		contacts[u] = true
	}
	rows.Close()
	polls := map[string]bool{}
	for _, p := range mustPolls(t, e) {
		polls[p.FlowUUID] = true
	}
	e.store.Read(func() {
		for _, r := range e.store.Runs {
			if polls[r.FlowUUID] && contacts[r.ContactUUID] && !r.Archived {
				want++
				if _, ok := snap[r.UUID]; !ok {
					t.Errorf("run %s missing after the resumed window", r.UUID)
				}
			}
		}
	})
	if len(snap) != want || want <= partial {
		t.Fatalf("stored %d responses, simulator has %d (partial %d)", len(snap), want, partial)
	}
}

func mustPolls(t *testing.T, e *env) []models.Poll {
	ps, err := e.db.ListPolls(context.Background(), e.org.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func TestRunModifiedMidPassCaughtNextAndExitOnlyChange(t *testing.T) {
	e := newEnv(t, fake.GenConfig{Seed: 6, Contacts: 15, Weeks: 2}, fake.Config{PageSize: 4}, false)
	e.mustPull(ResContacts)
	flow, contact := e.trackedPair()
	var early, late string
	e.store.Write(func() {
		t0 := time.Now().UTC().Add(-30 * time.Minute)
		a := e.store.AddRun(&fake.Run{FlowUUID: flow, ContactUUID: contact, CreatedOn: t0, ModifiedOn: t0})
		b := e.store.AddRun(&fake.Run{FlowUUID: flow, ContactUUID: contact, CreatedOn: t0.Add(time.Minute), ModifiedOn: t0.Add(time.Minute)})
		early, late = a.UUID, b.UUID
	})
	// After the first page, the newest run (not yet seen) gets an exit.
	e.sim.AfterPage("runs", 1, func(st *fake.Store) {
		st.Clock.Advance(time.Second) // the pass is slow: the change lands after its T0
		st.TouchRun(late, func(r *fake.Run) {
			now := st.Clock.Now()
			r.ExitType, r.ExitedOn = "completed", &now
		})
	})
	e.mustPull(ResRuns)
	snap, _ := e.db.SnapshotResponses(context.Background(), e.org.ID)
	if s, ok := snap[late]; ok && s.Status == models.StatusComplete {
		t.Fatal("the run modified mid-pass cannot have been read in its new state in the same pass")
	}
	e.mustPull(ResRuns)
	snap, _ = e.db.SnapshotResponses(context.Background(), e.org.ID)
	if snap[late].Status != models.StatusComplete {
		t.Fatalf("run modified mid-pass not caught by the next pull: %+v", snap[late])
	}
	// An exit-only change (no new value) is applied.
	if snap[early].Status != models.StatusEmpty {
		t.Fatalf("early run status = %s", snap[early].Status)
	}
	e.store.Write(func() {
		e.store.TouchRun(early, func(r *fake.Run) {
			now := e.store.Clock.Now()
			r.ExitType, r.ExitedOn = "completed", &now
		})
	})
	e.mustPull(ResRuns)
	snap, _ = e.db.SnapshotResponses(context.Background(), e.org.ID)
	if snap[early].Status != models.StatusComplete {
		t.Fatalf("exit-only change not applied: %+v", snap[early])
	}
}

func TestRevokedTokenStopsPullsVisibly(t *testing.T) {
	e := newEnv(t, fake.GenConfig{Seed: 7, Contacts: 5, Weeks: 1}, fake.Config{}, false)
	e.sim.RevokeToken(e.sim.Token())
	results, err := e.syncer.SyncAll(context.Background(), e.org, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 || !errors.Is(results[0].Err, rapidpro.ErrToken) {
		t.Fatalf("SyncAll should stop at the first token error: %+v", results)
	}
	runs, _ := e.db.LatestSyncRuns(context.Background(), e.org.ID)
	found := false
	for _, r := range runs {
		if r.Resource == results[0].Resource {
			found = r.Status == "error" && r.ErrorKind == "token" && r.Error != ""
		}
	}
	if !found {
		t.Fatalf("no visible token error in sync_runs: %+v", runs)
	}
	due, _ := e.syncer.Due(context.Background(), e.org.ID, results[0].Resource)
	if due {
		t.Fatal("a pull with a revoked token is due again at once")
	}
	st := e.state(results[0].Resource)
	if st.NextAt < time.Now().Add(50*time.Minute).UnixMilli() {
		t.Fatalf("token error back-off too short: next at %v", time.UnixMilli(st.NextAt))
	}
}

func TestBudgetHoldsPullsBack(t *testing.T) {
	e := newEnv(t, fake.GenConfig{Seed: 8, Contacts: 30, Weeks: 2}, fake.Config{PageSize: 2}, false)
	e.mustPull(ResContacts)
	e.syncer.Meter = NewMeter(e.db, map[string]int{"v2.runs": 20}, 0.25) // pulls may use 15 of 20
	r := e.syncer.Pull(context.Background(), e.org, ResRuns)
	if !errors.Is(r.Err, ErrBudget) || r.Requests != 15 {
		t.Fatalf("err = %v after %d requests; want the budget hold after 15", r.Err, r.Requests)
	}
	runs, _ := e.db.LatestSyncRuns(context.Background(), e.org.ID)
	for _, sr := range runs {
		if sr.Resource == ResRuns && (sr.Status != "skipped" || sr.ErrorKind != "budget") {
			t.Fatalf("sync run = %+v", sr)
		}
	}
	if err := e.syncer.Meter.Allow(context.Background(), e.org.ID, "v2.runs", true); err != nil {
		t.Fatalf("pushes may use the reserve: %v", err)
	}
	used, _ := e.db.APIUsage(context.Background(), e.org.ID, hourStart(time.Now()))
	if used["v2.runs"] != 15 {
		t.Fatalf("persisted usage = %v", used)
	}
}
