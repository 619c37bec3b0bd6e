package models

import (
	"context"
	"os"
	"time"
)

// StorageStats is the size of the database on disk.
type StorageStats struct {
	DBBytes  int64 // the main file (page_count × page_size)
	WALBytes int64 // the -wal file beside it (0 when absent)
	Pages    int64
	PageSize int64
	Free     int64 // free pages (reused before the file grows)
}

// Storage reads the database's size and its WAL file's size.
func (db *DB) Storage(ctx context.Context) (StorageStats, error) {
	var s StorageStats
	if err := db.QueryRowContext(ctx, `SELECT page_count, page_size, freelist_count FROM pragma_page_count, pragma_page_size, pragma_freelist_count`).
		Scan(&s.Pages, &s.PageSize, &s.Free); err != nil {
		return s, err
	}
	s.DBBytes = s.Pages * s.PageSize
	if fi, err := os.Stat(db.Path + "-wal"); err == nil {
		s.WALBytes = fi.Size()
	}
	return s, nil
}

// OutboxDepth counts the outbox items of every org by state (pending, sent,
// failed, unknown); states without items are present with 0.
func (db *DB) OutboxDepth(ctx context.Context) (map[string]int, error) {
	out, err := stringCounts(ctx, db, `SELECT state, count(*) FROM outbox GROUP BY state`)
	if err != nil {
		return nil, err
	}
	for _, st := range []string{"pending", "sent", "failed", "unknown"} {
		if _, ok := out[st]; !ok {
			out[st] = 0
		}
	}
	return out, nil
}

// stringCounts runs a query of (name, count) rows and returns them as a map.
func stringCounts(ctx context.Context, q querier, query string, args ...any) (map[string]int, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}

// PullHealth is the state of one pull of one org: its newest finished run and
// its newest success.
type PullHealth struct {
	OrgID       int64
	OrgName     string
	Resource    string
	LastStatus  string // ok, error, skipped
	LastError   string // error kind of the newest run when it failed
	LastRunAt   int64  // ms, end of the newest finished run
	LastSuccess int64  // ms, end of the newest successful run (0: never)
	DurationMs  int64  // of the newest finished run
}

// PullHealthAll returns the pull health of every active org × resource that
// has run at least once, ordered by org name then resource.
func (db *DB) PullHealthAll(ctx context.Context) ([]PullHealth, error) {
	rows, err := db.QueryContext(ctx, `
		SELECT o.id, o.name, s.resource, s.status, s.error_kind, coalesce(s.finished_at, 0), coalesce(s.finished_at, 0) - s.started_at,
			coalesce((SELECT max(finished_at) FROM sync_runs k WHERE k.org_id = s.org_id AND k.resource = s.resource AND k.status = 'ok'), 0)
		FROM sync_runs s JOIN orgs o ON o.id = s.org_id
		WHERE o.is_active = 1 AND s.id = (SELECT max(id) FROM sync_runs t WHERE t.org_id = s.org_id AND t.resource = s.resource AND t.status <> 'running')
		ORDER BY o.name, o.id, s.resource`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PullHealth
	for rows.Next() {
		var p PullHealth
		if err := rows.Scan(&p.OrgID, &p.OrgName, &p.Resource, &p.LastStatus, &p.LastError, &p.LastRunAt, &p.DurationMs, &p.LastSuccess); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// APIUsageThisHour sums the recorded RapidPro API requests of every org per
// throttle scope in the current clock hour.
func (db *DB) APIUsageThisHour(ctx context.Context, now time.Time) (map[string]int, error) {
	hour := now.UTC().Truncate(time.Hour).UnixMilli()
	return stringCounts(ctx, db, `SELECT scope, sum(requests) FROM api_usage WHERE hour_start = ? GROUP BY scope`, hour)
}
