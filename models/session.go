package models

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"
)

// SessionLifetime is how long an idle session lasts.
const SessionLifetime = 14 * 24 * time.Hour

// SessionTouchInterval is how often a session in use has its expiry pushed
// back: reading pages writes at most this often per session, and never waits
// for the write lock (TouchSession).
const SessionTouchInterval = time.Hour

// Flash is a one-time message shown on the next page.
type Flash struct {
	Kind    string `json:"k"` // success, error, info
	Message string `json:"m"`
}

// SessionData is the per-session state kept server-side. It changes only on
// POSTs; an anonymous visitor has no session (handlers/anonymous.go) except
// the one an enrolment link's admission needs.
type SessionData struct {
	Panels     map[string]int64 `json:"panels,omitempty"`     // org id -> selected panel (0 = all panels)
	NoSubPanel map[string]bool  `json:"no_sub,omitempty"`     // org id -> include-sub-panels switched off
	EnrolUser  int64            `json:"enrol_user,omitempty"` // user an enrolment link admitted
	Org        int64            `json:"org,omitempty"`        // org a superuser chose in the chooser (no TRACPRO_DOMAIN)
}

// How a session was authenticated (sessions.auth_method).
const (
	AuthPassword = "password" // email and password
	AuthPasskey  = "passkey"  // a passkey assertion, or a passkey registered by the signed-in user
	AuthEnrol    = "enrol"    // a passkey registered through a single-use enrolment link
)

// Session is a server-side session; the cookie holds a random token whose
// SHA-256 is the id, so a database leak does not leak usable cookies. It is
// bound to the host (and the org that host served) it was made on.
type Session struct {
	ID        string
	UserID    int64
	Method    string // AuthPassword, AuthPasskey, AuthEnrol; "" before sign-in
	Host      string // lower-case host name without port
	OrgID     int64  // org the host served when the session was made (0 = none)
	CSRF      string
	Data      SessionData
	ExpiresAt int64
	lastSeen  int64
}

// Strong reports whether the session was authenticated with a passkey (an
// assertion or a registration through an enrolment link), not a password.
func (s *Session) Strong() bool { return s.Method == AuthPasskey || s.Method == AuthEnrol }

func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// HashToken returns the hex SHA-256 of a token.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// NewSession stores s (UserID 0 = anonymous; Method, Host, OrgID and Data set
// by the caller), filling in its id, CSRF token and expiry, and returns the
// cookie token.
func (db *DB) NewSession(ctx context.Context, s *Session) (string, error) {
	token, err := randomToken(32)
	if err != nil {
		return "", err
	}
	if s.CSRF, err = randomToken(32); err != nil {
		return "", err
	}
	now := NowMs()
	s.ID, s.ExpiresAt, s.lastSeen = HashToken(token), now+SessionLifetime.Milliseconds(), now
	b, err := json.Marshal(s.Data)
	if err != nil {
		return "", err
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO sessions (id, user_id, auth_method, host, org_id, csrf_token, data, created_at, last_seen_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, nullID(s.UserID), s.Method, s.Host, nullID(s.OrgID), s.CSRF, string(b), now, now, s.ExpiresAt); err != nil {
		return "", err
	}
	return token, nil
}

// SessionByToken loads the live session of a cookie token (nil when none or
// expired). It only reads: see NeedsTouch and TouchSession.
func (db *DB) SessionByToken(ctx context.Context, token string) (*Session, error) {
	if token == "" {
		return nil, nil
	}
	var s Session
	var uid, org sql.NullInt64
	var data string
	err := db.QueryRowContext(ctx, `SELECT id, user_id, auth_method, host, org_id, csrf_token, data, expires_at, last_seen_at FROM sessions WHERE id = ?`, HashToken(token)).
		Scan(&s.ID, &uid, &s.Method, &s.Host, &org, &s.CSRF, &data, &s.ExpiresAt, &s.lastSeen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if s.ExpiresAt < NowMs() {
		return nil, nil // PurgeExpiredSessions deletes it
	}
	s.UserID, s.OrgID = uid.Int64, org.Int64
	_ = json.Unmarshal([]byte(data), &s.Data)
	return &s, nil
}

// NeedsTouch reports whether the session was last seen over
// SessionTouchInterval ago.
func (s *Session) NeedsTouch() bool {
	return NowMs()-s.lastSeen > SessionTouchInterval.Milliseconds()
}

// TouchSession records that the session is in use and pushes its expiry
// back, if the write lock is free right now: it never waits for another
// writer (a sync, a backup), and its failure (busy, full disk) leaves the
// session as it was, valid until its expiry.
func (db *DB) TouchSession(ctx context.Context, s *Session) error {
	now := NowMs()
	expires := now + SessionLifetime.Milliseconds()
	if err := db.TryExec(ctx, `UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE id = ?`, now, expires, s.ID); err != nil {
		return err
	}
	s.lastSeen, s.ExpiresAt = now, expires
	return nil
}

// SaveSession stores the session's data.
func (db *DB) SaveSession(ctx context.Context, s *Session) error {
	b, err := json.Marshal(s.Data)
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `UPDATE sessions SET data = ? WHERE id = ?`, string(b), s.ID)
	return err
}

// DeleteSession ends one session.
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	_, err := db.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id)
	return err
}

// DeleteUserSessions ends every session of a user.
func (db *DB) DeleteUserSessions(ctx context.Context, userID int64) error {
	_, err := db.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
	return err
}

// PurgeExpiredSessions deletes expired sessions and WebAuthn ceremonies, and
// sign-in failures neither counted nor waited on for a day (a failure's
// lockout is 15 minutes at most), and returns how many sessions went.
func (db *DB) PurgeExpiredSessions(ctx context.Context) (int64, error) {
	now := NowMs()
	res, err := db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < ?`, now)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	if _, err := db.ExecContext(ctx, `DELETE FROM webauthn_ceremonies WHERE expires_at < ?`, now); err != nil {
		return n, err
	}
	day := (24 * time.Hour).Milliseconds()
	_, err = db.ExecContext(ctx, `DELETE FROM login_failures WHERE last_at < ? AND locked_until < ?`, now-day, now)
	return n, err
}

// CookieKey is the database's random key for signing cookies (migration 0021).
func (db *DB) CookieKey(ctx context.Context) ([]byte, error) {
	var key []byte
	err := db.QueryRowContext(ctx, `SELECT value FROM app_keys WHERE name = 'cookie'`).Scan(&key)
	return key, err
}

// Throttle policy for sign-in: the first failures are free, then each one
// doubles the wait, up to 15 minutes.
const (
	freeFailures = 4
	maxLockout   = 15 * time.Minute
)

// LoginWait returns how long sign-in attempts under key must still wait.
func (db *DB) LoginWait(ctx context.Context, key string) (time.Duration, error) {
	var until int64
	err := db.QueryRowContext(ctx, `SELECT locked_until FROM login_failures WHERE key = ?`, key).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if d := time.Until(time.UnixMilli(until)); d > 0 {
		return d, nil
	}
	return 0, nil
}

// RecordLoginFailure counts a failed sign-in under key and returns the wait
// now imposed (failures past the free ones wait 1 s, 2 s, 4 s … 15 min).
func (db *DB) RecordLoginFailure(ctx context.Context, key string) (time.Duration, error) {
	var failures int
	now := NowMs()
	err := db.QueryRowContext(ctx, `INSERT INTO login_failures (key, failures, last_at) VALUES (?, 1, ?)
		ON CONFLICT (key) DO UPDATE SET failures = failures + 1, last_at = excluded.last_at RETURNING failures`, key, now).Scan(&failures)
	if err != nil {
		return 0, err
	}
	var wait time.Duration
	if failures > freeFailures {
		wait = time.Second << min(failures-freeFailures-1, 20)
		if wait > maxLockout {
			wait = maxLockout
		}
	}
	_, err = db.ExecContext(ctx, `UPDATE login_failures SET locked_until = ? WHERE key = ?`, now+wait.Milliseconds(), key)
	return wait, err
}

// ClearLoginFailures forgets the failures under key (after a success).
func (db *DB) ClearLoginFailures(ctx context.Context, key string) error {
	_, err := db.ExecContext(ctx, `DELETE FROM login_failures WHERE key = ?`, key)
	return err
}

// ForgetSession deletes a session if the write lock is free now (TryExec):
// for a session a reading page refuses, which stays refused if it is kept.
func (db *DB) ForgetSession(ctx context.Context, id string) error {
	return db.TryExec(ctx, `DELETE FROM sessions WHERE id = ?`, id)
}
