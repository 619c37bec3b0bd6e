package jobs

import (
	"context"
	"sync"
	"testing"
	"time"

	"tracpro/models"
	"tracpro/rapidpro/fake"
)

func TestFetchRunsTaskReportsProgress(t *testing.T) {
	e := newEnv(t, fake.GenConfig{Seed: 5, Contacts: 40, Weeks: 3}, fake.Config{PageSize: 50}, false)
	ctx := context.Background()
	e.mustPull(ResContacts)
	e.sim.ArchiveRuns(e.store.Clock.Now().Add(-7*24*time.Hour), "daily")

	var mu sync.Mutex
	var steps [][2]int
	res, err := e.syncer.FetchRunsProgress(ctx, e.org, e.store.Clock.Now().Add(-30*24*time.Hour), func(done, total int) {
		mu.Lock()
		steps = append(steps, [2]int{done, total})
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	polls := len(e.info.Polls)
	last := steps[len(steps)-1]
	if res.Archives == 0 || last[0] != last[1] || last[1] != res.Archives+polls || len(steps) != last[1]+1 {
		t.Fatalf("archives %d, polls %d, steps %v", res.Archives, polls, steps)
	}
	for i, s := range steps {
		if s[0] != i {
			t.Fatalf("step %d reported %v", i, s)
		}
	}

	task, err := e.db.CreateTask(ctx, e.org.ID, models.TaskFetchRuns, FetchRunsParams{Days: 30}, 0)
	if err != nil {
		t.Fatal(err)
	}
	r := Tasks(e.syncer)
	r.StartFetchRuns(task, e.org, 30)
	r.Wait()
	got, _ := e.db.TaskByID(ctx, task.ID)
	if got.State != models.TaskDone || got.Progress != 100 {
		t.Fatalf("task: %+v", got)
	}

	// A task cancelled by a shutdown is recorded as failed.
	task, err = e.db.CreateTask(ctx, e.org.ID, models.TaskSync, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	r.Start(task, func(ctx context.Context, report Report) (string, error) {
		report(10, "waiting")
		close(started)
		<-ctx.Done()
		return "", ctx.Err()
	})
	<-started
	r.Shutdown(5 * time.Second)
	got, _ = e.db.TaskByID(ctx, task.ID)
	if got.State != models.TaskFailed || got.Progress != 10 || got.Message != "interrupted by a shutdown" {
		t.Fatalf("cancelled task: %+v", got)
	}
}
