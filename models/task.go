package models

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"
)

// Task states.
const (
	TaskPending = "pending"
	TaskRunning = "running"
	TaskDone    = "done"
	TaskFailed  = "failed"
)

// Task kinds started from the web.
const (
	TaskSync      = "sync"
	TaskFetchRuns = "fetchruns"
	TaskBackfill  = "backfill" // runs that became visible when panels or polls were added
)

// taskStale is how long an unfinished task may go without a progress update
// before it counts as abandoned (the process running it stopped).
const taskStale = time.Hour

// Task is a background job started from the web, with its progress.
type Task struct {
	ID        int64
	OrgID     int64
	Kind      string
	Params    string // JSON
	State     string
	Progress  int // 0..100
	Message   string
	CreatedBy int64
	CreatedAt int64
	UpdatedAt int64
}

// Finished reports whether the task is done or failed.
func (t *Task) Finished() bool { return t.State == TaskDone || t.State == TaskFailed }

// CreateTask records a pending task of kind for an org. A second unfinished
// task of the same kind in the org is refused with a conflict error, unless
// the first one has not reported progress for an hour (abandoned), in which
// case it is marked failed.
func (db *DB) CreateTask(ctx context.Context, orgID int64, kind string, params any, by int64) (*Task, error) {
	b, err := json.Marshal(params)
	if err != nil {
		return nil, err
	}
	if params == nil {
		b = []byte("{}")
	}
	var id int64
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		now := NowMs()
		if _, err := tx.ExecContext(ctx, `UPDATE tasks SET state = 'failed', message = 'interrupted', updated_at = ?
			WHERE org_id = ? AND kind = ? AND state IN ('pending', 'running') AND updated_at < ?`,
			now, orgID, kind, now-taskStale.Milliseconds()); err != nil {
			return err
		}
		var busy int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM tasks WHERE org_id = ? AND kind = ? AND state IN ('pending', 'running')`,
			orgID, kind).Scan(&busy); err != nil {
			return err
		}
		if busy > 0 {
			return Conflict("A task of this kind is already running.")
		}
		var uid any
		if by != 0 {
			uid = by
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO tasks (org_id, kind, params, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
			orgID, kind, string(b), uid, now, now)
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return nil, err
	}
	return db.TaskByID(ctx, id)
}

const taskCols = `id, org_id, kind, params, state, progress, message, coalesce(created_by, 0), created_at, updated_at`

func scanTask(row interface{ Scan(...any) error }) (*Task, error) {
	var t Task
	err := row.Scan(&t.ID, &t.OrgID, &t.Kind, &t.Params, &t.State, &t.Progress, &t.Message, &t.CreatedBy, &t.CreatedAt, &t.UpdatedAt)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// TaskByID loads one task.
func (db *DB) TaskByID(ctx context.Context, id int64) (*Task, error) {
	t, err := scanTask(db.QueryRowContext(ctx, `SELECT `+taskCols+` FROM tasks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, NotFound("no task with id %d", id)
	}
	return t, err
}

// LatestTask returns the newest task of kind in an org (nil when none).
func (db *DB) LatestTask(ctx context.Context, orgID int64, kind string) (*Task, error) {
	t, err := scanTask(db.QueryRowContext(ctx, `SELECT `+taskCols+` FROM tasks WHERE org_id = ? AND kind = ? ORDER BY id DESC LIMIT 1`, orgID, kind))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return t, err
}

// UpdateTask stores a task's state, progress (clamped to 0..100) and message.
func (db *DB) UpdateTask(ctx context.Context, id int64, state string, progress int, message string) error {
	switch state {
	case TaskPending, TaskRunning, TaskDone, TaskFailed:
	default:
		return Invalid("unknown task state %q", state)
	}
	progress = max(0, min(progress, 100))
	_, err := db.ExecContext(ctx, `UPDATE tasks SET state = ?, progress = ?, message = ?, updated_at = ? WHERE id = ?`,
		state, progress, message, NowMs(), id)
	return err
}
