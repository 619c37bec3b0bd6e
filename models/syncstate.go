package models

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
)

// SyncState is the incremental position of one pull (org × resource × scope).
// A window [WindowAfter, WindowBefore] in progress has Cursor = the next page
// URL; Watermark moves to WindowBefore only when the window completes.
type SyncState struct {
	OrgID        int64
	Resource     string
	Scope        string
	Watermark    int64 // ms; 0 = never completed
	WindowAfter  int64 // ms; 0 = open start
	WindowBefore int64 // ms; 0 = no window in progress
	Cursor       string
	Failures     int
	NextAt       int64 // ms; back-off: no pull before
}

// InWindow reports whether a window is in progress.
func (s *SyncState) InWindow() bool { return s.WindowBefore != 0 }

// GetSyncState loads the state (a zero state when none is stored).
func (db *DB) GetSyncState(ctx context.Context, orgID int64, resource, scope string) (SyncState, error) {
	st := SyncState{OrgID: orgID, Resource: resource, Scope: scope}
	var wm, wa, wb sql.NullInt64
	err := db.QueryRowContext(ctx, `SELECT watermark, window_after, window_before, cursor, failures, next_at FROM sync_state WHERE org_id = ? AND resource = ? AND scope = ?`,
		orgID, resource, scope).Scan(&wm, &wa, &wb, &st.Cursor, &st.Failures, &st.NextAt)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	st.Watermark, st.WindowAfter, st.WindowBefore = wm.Int64, wa.Int64, wb.Int64
	return st, err
}

// ListSyncStates returns every stored state of a resource for an org.
func (db *DB) ListSyncStates(ctx context.Context, orgID int64, resource string) ([]SyncState, error) {
	rows, err := db.QueryContext(ctx, `SELECT scope FROM sync_state WHERE org_id = ? AND resource = ? ORDER BY scope`, orgID, resource)
	if err != nil {
		return nil, err
	}
	var scopes []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		scopes = append(scopes, s)
	}
	rows.Close()
	var out []SyncState
	for _, s := range scopes {
		st, err := db.GetSyncState(ctx, orgID, resource, s)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

func nullMs(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

func saveSyncState(ctx context.Context, q querier, st *SyncState) error {
	_, err := q.ExecContext(ctx, `INSERT INTO sync_state (org_id, resource, scope, watermark, window_after, window_before, cursor, failures, next_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (org_id, resource, scope) DO UPDATE SET watermark = excluded.watermark, window_after = excluded.window_after,
		window_before = excluded.window_before, cursor = excluded.cursor, failures = excluded.failures, next_at = excluded.next_at, updated_at = excluded.updated_at`,
		st.OrgID, st.Resource, st.Scope, nullMs(st.Watermark), nullMs(st.WindowAfter), nullMs(st.WindowBefore), st.Cursor, st.Failures, st.NextAt, NowMs())
	return err
}

// SaveSyncState stores the state on its own (outside a page transaction).
func (db *DB) SaveSyncState(ctx context.Context, st *SyncState) error {
	return saveSyncState(ctx, db.DB, st)
}

// ResetSyncState forgets the watermark of a pull so the next one is a full pull.
func (db *DB) ResetSyncState(ctx context.Context, orgID int64, resource, scope string) error {
	_, err := db.ExecContext(ctx, `DELETE FROM sync_state WHERE org_id = ? AND resource = ? AND scope = ?`, orgID, resource, scope)
	return err
}

// SyncRun is one recorded pull.
type SyncRun struct {
	ID         int64
	OrgID      int64
	Resource   string
	StartedAt  int64
	FinishedAt int64
	Status     string // running, ok, error, skipped
	Items      int
	Created    int
	Updated    int
	Skipped    int
	Skips      map[string]int // Skipped by reason (jobs/skips.go)
	Requests   int
	ErrorKind  string // token, unavailable, rate_limited, budget, other
	Error      string
}

// StartSyncRun records the start of a pull and returns its id.
func (db *DB) StartSyncRun(ctx context.Context, orgID int64, resource string) (int64, error) {
	res, err := db.ExecContext(ctx, `INSERT INTO sync_runs (org_id, resource, started_at) VALUES (?, ?, ?)`, orgID, resource, NowMs())
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// FinishSyncRun records the outcome of a pull.
func (db *DB) FinishSyncRun(ctx context.Context, r *SyncRun) error {
	if r.FinishedAt == 0 {
		r.FinishedAt = NowMs()
	}
	skips, err := json.Marshal(r.Skips)
	if err != nil || r.Skips == nil {
		skips = []byte("{}")
	}
	_, err = db.ExecContext(ctx, `UPDATE sync_runs SET finished_at = ?, status = ?, items = ?, created = ?, updated = ?, skipped = ?, skips = ?, requests = ?, error_kind = ?, error = ? WHERE id = ?`,
		r.FinishedAt, r.Status, r.Items, r.Created, r.Updated, r.Skipped, string(skips), r.Requests, r.ErrorKind, r.Error, r.ID)
	return err
}

// LatestSyncRuns returns the newest finished pull of each resource of an org.
func (db *DB) LatestSyncRuns(ctx context.Context, orgID int64) ([]SyncRun, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, org_id, resource, started_at, coalesce(finished_at, 0), status, items, created, updated, skipped, requests, error_kind, error
		FROM sync_runs s WHERE org_id = ? AND id = (SELECT max(id) FROM sync_runs t WHERE t.org_id = s.org_id AND t.resource = s.resource AND t.status <> 'running')
		ORDER BY resource`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SyncRun
	for rows.Next() {
		var r SyncRun
		if err := rows.Scan(&r.ID, &r.OrgID, &r.Resource, &r.StartedAt, &r.FinishedAt, &r.Status, &r.Items, &r.Created, &r.Updated, &r.Skipped, &r.Requests, &r.ErrorKind, &r.Error); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// AddAPIUsage adds n requests of a throttle scope to the org's count for the
// hour starting at hourStart (ms).
func (db *DB) AddAPIUsage(ctx context.Context, orgID, hourStart int64, scope string, n int) error {
	if n == 0 {
		return nil
	}
	_, err := db.ExecContext(ctx, `INSERT INTO api_usage (org_id, hour_start, scope, requests) VALUES (?, ?, ?, ?)
		ON CONFLICT (org_id, hour_start, scope) DO UPDATE SET requests = requests + excluded.requests`, orgID, hourStart, scope, n)
	return err
}

// APIUsage returns the org's recorded requests per throttle scope in the hour
// starting at hourStart (ms).
func (db *DB) APIUsage(ctx context.Context, orgID, hourStart int64) (map[string]int, error) {
	return stringCounts(ctx, db, `SELECT scope, requests FROM api_usage WHERE org_id = ? AND hour_start = ?`, orgID, hourStart)
}

// SyncStatus summarises an org's pulls for the page shell: the banners and
// the "data as of" badge.
type SyncStatus struct {
	LastSuccess  int64 // ms; newest successful runs pull (else any pull)
	TokenInvalid bool  // the newest finished pull failed on the API token
	Down         bool  // the newest finished pull could not reach RapidPro
	Latest       []SyncRun
}

// OrgSyncStatus reads the newest pull of each resource.
func (db *DB) OrgSyncStatus(ctx context.Context, orgID int64) (*SyncStatus, error) {
	runs, err := db.LatestSyncRuns(ctx, orgID)
	if err != nil {
		return nil, err
	}
	st := &SyncStatus{Latest: runs}
	var newest *SyncRun
	for i := range runs {
		if r := &runs[i]; newest == nil || r.FinishedAt > newest.FinishedAt {
			newest = r
		}
	}
	// Data are as fresh as the newest successful runs pull, even when later
	// pulls failed.
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(finished_at), 0) FROM sync_runs WHERE org_id = ? AND resource = 'runs' AND status = 'ok'`,
		orgID).Scan(&st.LastSuccess); err != nil {
		return nil, err
	}
	if newest != nil && newest.Status == "error" {
		st.TokenInvalid = newest.ErrorKind == "token"
		st.Down = newest.ErrorKind == "unavailable"
	}
	return st, nil
}
