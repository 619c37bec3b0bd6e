package jobs

import (
	"context"
	"testing"
	"time"

	"tracpro/rapidpro/fake"
)

// TestSchedulerRunsEveryPullWithoutOverlap runs the scheduler with short
// intervals: every pull of the org runs, repeatedly, and no two pulls of the
// org ever overlap in time; Stop returns promptly.
func TestSchedulerRunsEveryPullWithoutOverlap(t *testing.T) {
	e := newEnv(t, fake.GenConfig{Seed: 31, Contacts: 30, Weeks: 1}, fake.Config{PageSize: 5}, false)
	intervals := map[string]time.Duration{}
	for _, r := range Resources {
		intervals[r] = 150 * time.Millisecond
	}
	e.syncer.Cfg.Intervals = intervals
	sched, err := NewScheduler(e.syncer)
	if err != nil {
		t.Fatal(err)
	}
	if err := sched.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if e.count(`SELECT count(DISTINCT resource) FROM sync_runs WHERE resource IN ('runs','contacts','inbox','flows','groups','fields','boundaries') AND status = 'ok'`) == len(Resources) &&
			e.count(`SELECT count(*) FROM sync_runs WHERE resource = 'runs'`) >= 3 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	stopped := time.Now()
	if err := sched.Stop(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(stopped); d > 9*time.Second {
		t.Fatalf("Stop took %v", d)
	}
	if n := e.count(`SELECT count(*) FROM sync_runs WHERE resource = 'runs'`); n < 3 {
		t.Fatalf("runs pulled %d times", n)
	}
	if e.count(`SELECT count(*) FROM responses`) == 0 {
		t.Fatal("scheduled pulls stored nothing")
	}
	rows, err := e.db.Query(`SELECT started_at, coalesce(finished_at, 0) FROM sync_runs WHERE org_id = ? ORDER BY id`, e.org.ID) // ids follow start order (taken under the org lock)
	if err != nil {
		t.Fatal(err)
	}
	type span struct{ a, b int64 }
	var spans []span
	for rows.Next() {
		var s span
		rows.Scan(&s.a, &s.b)
		spans = append(spans, s)
	}
	rows.Close()
	for i := 1; i < len(spans); i++ {
		if spans[i-1].b == 0 || spans[i].a < spans[i-1].b {
			t.Fatalf("pulls of one org overlap: %v then %v", spans[i-1], spans[i])
		}
	}
}

func TestFailedPullsBackOffExponentiallyWithCap(t *testing.T) {
	e := newEnv(t, fake.GenConfig{Seed: 32, Contacts: 5, Weeks: 1}, fake.Config{}, false)
	e.syncer.Cfg.BackoffBase, e.syncer.Cfg.BackoffMax = time.Minute, 4*time.Minute
	e.sim.Script(fake.Fault{Kind: fake.FaultStatus, Status: 503, Path: "runs", Times: 1000})
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 4 * time.Minute}
	for i, w := range want {
		before := time.Now()
		if r := e.syncer.Pull(context.Background(), e.org, ResRuns); r.Err == nil {
			t.Fatal("pull should fail")
		}
		st := e.state(ResRuns)
		got := time.UnixMilli(st.NextAt).Sub(before)
		if st.Failures != i+1 || got < w-time.Second || got > w+5*time.Second {
			t.Fatalf("failure %d: back-off %v (failures %d), want %v", i+1, got, st.Failures, w)
		}
		if due, _ := e.syncer.Due(context.Background(), e.org.ID, ResRuns); due {
			t.Fatal("a backed-off pull is due")
		}
	}
	e.sim.ClearFaults()
	e.mustPull(ResRuns)
	if st := e.state(ResRuns); st.Failures != 0 || st.NextAt != 0 {
		t.Fatalf("success did not reset the back-off: %+v", st)
	}
}
