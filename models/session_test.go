package models

import (
	"context"
	"testing"
	"time"
)

// TestPurgeExpiredSessions deletes expired sessions and ceremonies and the
// sign-in failures of over a day ago that hold no lockout, and nothing else.
func TestPurgeExpiredSessions(t *testing.T) {
	ctx := context.Background()
	db, a, _ := passkeyFixture(t)
	live := &Session{UserID: a.ID, Method: AuthPasskey, Host: "a.example"}
	liveTok, err := db.NewSession(ctx, live)
	if err != nil {
		t.Fatal(err)
	}
	dead := &Session{UserID: a.ID, Method: AuthPassword, Host: "a.example"}
	deadTok, _ := db.NewSession(ctx, dead)
	db.Exec(`UPDATE sessions SET expires_at = ? WHERE id = ?`, NowMs()-1, dead.ID)
	if s, _ := db.SessionByToken(ctx, deadTok); s != nil {
		t.Fatal("an expired session was loaded")
	}
	db.StartCeremony(ctx, "anon:x", CeremonyLogin, 0, []byte(`{}`))
	db.StartCeremony(ctx, "anon:y", CeremonyLogin, 0, []byte(`{}`))
	db.Exec(`UPDATE webauthn_ceremonies SET expires_at = ? WHERE session_id = 'anon:x'`, NowMs()-1)
	old := NowMs() - (25 * time.Hour).Milliseconds()
	db.Exec(`INSERT INTO login_failures (key, failures, last_at, locked_until) VALUES ('ip:old', 3, ?, 0), ('ip:recent', 3, ?, 0), ('email:locked', 9, ?, ?)`,
		old, NowMs(), old, NowMs()+60_000)

	n, err := db.PurgeExpiredSessions(ctx)
	if err != nil || n != 1 {
		t.Fatalf("purged %d, %v", n, err)
	}
	if s, _ := db.SessionByToken(ctx, liveTok); s == nil || s.Method != AuthPasskey || s.Host != "a.example" {
		t.Fatalf("the live session: %+v", s)
	}
	var sessions, ceremonies int
	db.QueryRow(`SELECT count(*) FROM sessions`).Scan(&sessions)
	db.QueryRow(`SELECT count(*) FROM webauthn_ceremonies WHERE session_id = 'anon:y'`).Scan(&ceremonies)
	if sessions != 1 || ceremonies != 1 {
		t.Fatalf("left: %d sessions, %d live ceremonies", sessions, ceremonies)
	}
	var keys string
	db.QueryRow(`SELECT group_concat(key, ' ') FROM (SELECT key FROM login_failures ORDER BY key)`).Scan(&keys)
	if keys != "email:locked ip:recent" {
		t.Fatalf("sign-in failures left: %q", keys)
	}
}

// TestTouchSessionDoesNotWait: a session is touched only when the write lock
// is free, at once either way.
func TestTouchSessionDoesNotWait(t *testing.T) {
	ctx := context.Background()
	db, a, _ := passkeyFixture(t)
	s := &Session{UserID: a.ID, Method: AuthPasskey}
	tok, _ := db.NewSession(ctx, s)
	db.Exec(`UPDATE sessions SET last_seen_at = 0 WHERE id = ?`, s.ID)
	s, _ = db.SessionByToken(ctx, tok)
	if !s.NeedsTouch() {
		t.Fatal("a session last seen in 1970 needs no touch")
	}
	other, err := Open(db.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, _ := other.Conn(ctx)
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := db.TouchSession(ctx, s); !IsLocked(err) || time.Since(start) >= busyTimeout {
		t.Fatalf("touch under another writer's lock: %v after %s", err, time.Since(start))
	}
	conn.ExecContext(ctx, `ROLLBACK`)
	if err := db.TouchSession(ctx, s); err != nil || s.NeedsTouch() {
		t.Fatalf("touch with the lock free: %v", err)
	}
	s, _ = db.SessionByToken(ctx, tok)
	if s.NeedsTouch() {
		t.Fatal("the touch was not stored")
	}
	// The pool's connections still wait for a lock as before.
	var timeout int
	db.QueryRow(`PRAGMA busy_timeout`).Scan(&timeout)
	if timeout != int(busyTimeout.Milliseconds()) {
		t.Fatalf("busy_timeout after TryExec = %d", timeout)
	}
}
