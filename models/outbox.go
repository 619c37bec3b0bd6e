package models

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"

	"github.com/google/uuid"
)

// Outbox states (DESIGN.md §2): a row is pending until delivered (sent), or
// rejected by RapidPro (failed), or sent without a known outcome (unknown —
// a 5xx or a timeout after the request left; never resent automatically).
const (
	OutboxPending = "pending"
	OutboxSent    = "sent"
	OutboxFailed  = "failed"
	OutboxUnknown = "unknown"
)

// outboxSending is the last_error of a row claimed by the worker: a row
// still pending with it was interrupted mid-request (the process stopped),
// so its outcome is unknown.
const outboxSending = "sending"

// OutboxItem is one write that must reach RapidPro.
type OutboxItem struct {
	ID            int64
	OrgID         int64
	Kind          string
	OrderingKey   string
	Payload       []byte
	State         string
	Attempts      int
	NextAttemptAt int64
	LastError     string
	Result        string
	CreatedAt     int64
	UpdatedAt     int64
	// UID is the row's random key, sent with flow starts so that RapidPro
	// shows whether it made them ("" for rows queued before migration 0022).
	UID string
	// VerifySince (unix ms, 0 = certain) is when the row became uncertain:
	// it may have reached RapidPro (a restored database, an interrupted
	// request), so RapidPro is read before anything is sent again.
	VerifySince int64
}

// enqueueOutbox records a write in the caller's transaction, so that it is
// delivered if and only if the local change commits.
func enqueueOutbox(ctx context.Context, tx *sql.Tx, orgID int64, kind, key string, payload any, now int64) (int64, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO outbox (org_id, kind, ordering_key, payload, next_attempt_at, created_at, updated_at, uid)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, orgID, kind, key, string(b), now, now, now, uuid.NewString())
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

const outboxCols = `id, org_id, kind, ordering_key, payload, state, attempts, next_attempt_at, last_error, result, created_at, updated_at,
	uid, verify_since`

func scanOutbox(rows *sql.Rows) ([]OutboxItem, error) {
	defer rows.Close()
	var out []OutboxItem
	for rows.Next() {
		var it OutboxItem
		var payload string
		if err := rows.Scan(&it.ID, &it.OrgID, &it.Kind, &it.OrderingKey, &payload, &it.State, &it.Attempts,
			&it.NextAttemptAt, &it.LastError, &it.Result, &it.CreatedAt, &it.UpdatedAt, &it.UID, &it.VerifySince); err != nil {
			return nil, err
		}
		it.Payload = []byte(payload)
		out = append(out, it)
	}
	return out, rows.Err()
}

// DueOutbox returns up to limit pending rows of the given kinds that are due
// at now, oldest first, skipping any row behind an earlier pending row of
// the same org and ordering key (rows of one key are delivered in id order).
func (db *DB) DueOutbox(ctx context.Context, kinds []string, now int64, limit int) ([]OutboxItem, error) {
	if len(kinds) == 0 {
		return nil, nil
	}
	args := []any{now}
	for _, k := range kinds {
		args = append(args, k)
	}
	args = append(args, limit)
	rows, err := db.QueryContext(ctx, `SELECT `+outboxCols+` FROM outbox o
		WHERE o.state = 'pending' AND o.next_attempt_at <= ? AND o.kind IN (`+inPlaceholders(len(kinds))+`)
		AND (o.ordering_key = '' OR NOT EXISTS (SELECT 1 FROM outbox e WHERE e.org_id = o.org_id
			AND e.ordering_key = o.ordering_key AND e.id < o.id AND e.state = 'pending'))
		ORDER BY o.id LIMIT ?`, args...)
	if err != nil {
		return nil, err
	}
	return scanOutbox(rows)
}

// OutboxByID returns one outbox row.
func (db *DB) OutboxByID(ctx context.Context, id int64) (*OutboxItem, error) {
	rows, err := db.QueryContext(ctx, `SELECT `+outboxCols+` FROM outbox WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	items, err := scanOutbox(rows)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, NotFound("no such outbox item")
	}
	return &items[0], nil
}

// ClaimOutbox marks a pending row as being sent, just before its request:
// attempts+1 and the "sending" mark, counted in the node file when the
// server holds one (StartNode). It reports false when the row is no longer
// pending (another worker took it). A row found still marked by a later
// DueOutbox was interrupted mid-request: see Interrupted.
func (db *DB) ClaimOutbox(ctx context.Context, id int64, now int64) (bool, error) {
	if db.node != nil {
		db.node.mu.Lock()
		defer db.node.mu.Unlock()
	}
	claimed := false
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = ?, updated_at = ?
			WHERE id = ? AND state = 'pending' AND last_error <> ?`, outboxSending, now, id, outboxSending)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return err
		}
		claimed = true
		return db.countClaim(ctx, tx)
	})
	return claimed && err == nil, err
}

// Interrupted reports whether a pending row was claimed and never settled
// (the process stopped during its request): its outcome is unknown.
func (it *OutboxItem) Interrupted() bool {
	return it.State == OutboxPending && it.LastError == outboxSending
}

// HoldUncertain keeps a pending row uncertain since since (unix ms) and
// out of delivery until until, with msg as its last error; it also clears
// the claim mark of an interrupted row.
func (db *DB) HoldUncertain(ctx context.Context, id, since, until int64, msg string) error {
	_, err := db.ExecContext(ctx, `UPDATE outbox SET verify_since = ?, next_attempt_at = ?, last_error = ?, updated_at = ? WHERE id = ? AND state = 'pending'`,
		since, until, truncate(msg, 500), NowMs(), id)
	return err
}

// RetryOutbox keeps a row pending until next (unix ms): nothing reached
// RapidPro (429, a refused connection, the hourly budget).
func (db *DB) RetryOutbox(ctx context.Context, id, next int64, msg string) error {
	_, err := db.ExecContext(ctx, `UPDATE outbox SET state = 'pending', next_attempt_at = ?, last_error = ?, updated_at = ? WHERE id = ?`,
		next, truncate(msg, 500), NowMs(), id)
	return err
}

// SettleOutbox gives a row its final state (sent, failed or unknown) with a
// result and a message, and runs also (when non-nil) in the same
// transaction, for the local record of the outcome.
func (db *DB) SettleOutbox(ctx context.Context, id int64, state, result, msg string, also func(tx *sql.Tx) error) error {
	if state != OutboxSent && state != OutboxFailed && state != OutboxUnknown {
		return Invalid("bad outbox state %q", state)
	}
	return db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET state = ?, result = ?, last_error = ?, updated_at = ? WHERE id = ?`,
			state, result, truncate(strings.TrimSpace(msg), 500), NowMs(), id); err != nil {
			return err
		}
		if also != nil {
			return also(tx)
		}
		return nil
	})
}

// OutboxCounts returns the org's outbox rows per state.
func (db *DB) OutboxCounts(ctx context.Context, orgID int64) (map[string]int, error) {
	return stringCounts(ctx, db, `SELECT state, count(*) FROM outbox WHERE org_id = ? GROUP BY state`, orgID)
}

// OutboxKeyParam is the params (and extra) key of a flow start that carries
// its outbox row's uid, so that flow_starts.json shows whether RapidPro made it.
const OutboxKeyParam = "tracpro_outbox"

// SentResults returns RapidPro's keys (start UUIDs, broadcast ids) recorded
// by the org's rows of a kind settled sent since since (unix ms): those are
// spoken for when an uncertain row is matched by content.
func (db *DB) SentResults(ctx context.Context, orgID int64, kind string, since int64) (map[string]bool, error) {
	return stringSet(ctx, db, `SELECT result FROM outbox WHERE org_id = ? AND kind = ? AND state = 'sent' AND result <> '' AND updated_at >= ?`,
		orgID, kind, since)
}
