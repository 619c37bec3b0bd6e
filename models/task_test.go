package models

import (
	"context"
	"path/filepath"
	"testing"
)

func TestTaskLifecycle(t *testing.T) {
	ctx := context.Background()
	db, err := OpenMigrated(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	org, err := db.CreateOrg(ctx, NewOrg{Name: "O", Subdomain: "o", RapidProURL: "http://x", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := db.LatestTask(ctx, org.ID, TaskSync); err != nil || got != nil {
		t.Fatalf("latest of none = %v %v", got, err)
	}
	a, err := db.CreateTask(ctx, org.ID, TaskFetchRuns, map[string]int{"days": 3}, 0)
	if err != nil || a.State != TaskPending || a.Params != `{"days":3}` {
		t.Fatalf("create: %+v %v", a, err)
	}
	if _, err := db.CreateTask(ctx, org.ID, TaskFetchRuns, nil, 0); ErrorCode(err) != CodeConflict {
		t.Fatalf("second unfinished task of a kind: %v", err)
	}
	if _, err := db.CreateTask(ctx, org.ID, TaskSync, nil, 0); err != nil {
		t.Fatalf("another kind may run: %v", err)
	}
	if err := db.UpdateTask(ctx, a.ID, TaskRunning, 150, "half"); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.TaskByID(ctx, a.ID); got.Progress != 100 || got.State != TaskRunning || got.Finished() {
		t.Fatalf("progress is clamped: %+v", got)
	}
	if err := db.UpdateTask(ctx, a.ID, "bogus", 1, ""); ErrorCode(err) != CodeInvalid {
		t.Fatalf("bad state: %v", err)
	}
	// An abandoned task (no progress for an hour) does not block a new one.
	if _, err := db.Exec(`UPDATE tasks SET updated_at = updated_at - 7200000 WHERE id = ?`, a.ID); err != nil {
		t.Fatal(err)
	}
	b, err := db.CreateTask(ctx, org.ID, TaskFetchRuns, nil, 0)
	if err != nil {
		t.Fatalf("after an abandoned task: %v", err)
	}
	if got, _ := db.TaskByID(ctx, a.ID); got.State != TaskFailed {
		t.Fatalf("abandoned task state = %s", got.State)
	}
	if got, _ := db.LatestTask(ctx, org.ID, TaskFetchRuns); got.ID != b.ID {
		t.Fatalf("latest = %d, want %d", got.ID, b.ID)
	}
	if _, err := db.TaskByID(ctx, 9999); ErrorCode(err) != CodeNotFound {
		t.Fatalf("missing task: %v", err)
	}
}
