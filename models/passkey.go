package models

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// CountPasskeys returns how many passkeys a user has registered.
func (db *DB) CountPasskeys(ctx context.Context, userID int64) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM passkeys WHERE user_id = ?`, userID).Scan(&n)
	return n, err
}

// EnrolLinkLifetime is how long a passkey enrolment link stays valid.
const EnrolLinkLifetime = 24 * time.Hour

// CreateEnrolLink makes a single-use link token letting a user register a
// passkey without signing in; only its hash is stored.
func (db *DB) CreateEnrolLink(ctx context.Context, userID int64) (string, error) {
	token, err := randomToken(32)
	if err != nil {
		return "", err
	}
	now := NowMs()
	_, err = db.ExecContext(ctx, `INSERT INTO enrol_links (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		HashToken(token), userID, now, now+EnrolLinkLifetime.Milliseconds())
	return token, err
}

// UseEnrolLink consumes a link token: it returns the user it admits, or a
// not-found error when the token is unknown, used or expired.
func (db *DB) UseEnrolLink(ctx context.Context, token string) (*User, error) {
	var userID int64
	err := db.QueryRowContext(ctx, `UPDATE enrol_links SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING user_id`,
		NowMs(), HashToken(token), NowMs()).Scan(&userID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, NotFound("This enrolment link is not valid: it was used already or has expired.")
	}
	if err != nil {
		return nil, err
	}
	return db.UserByID(ctx, userID)
}
