package handlers

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"tracpro/models"
)

// holdWriteLock makes another writer (a second connection pool on the same
// file, as `tracpro recount --fix` or a backup would be) take the database's
// write lock with BEGIN IMMEDIATE; the returned func releases it.
func holdWriteLock(t *testing.T, path string) func() {
	t.Helper()
	ctx := context.Background()
	other, err := models.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `UPDATE orgs SET name = name`); err != nil {
		t.Fatal(err)
	}
	released := false
	release := func() {
		if released {
			return
		}
		released = true
		conn.ExecContext(ctx, `ROLLBACK`)
		conn.Close()
		other.Close()
	}
	t.Cleanup(release)
	return release
}

// getRoutes is every GET route of the matrix with its request path (built
// before any lock: a Setup may write).
func getRoutes(t *testing.T, f *matrixFixture) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, k := range appRoutes(f.testEnv) {
		method, route, _ := strings.Cut(k, " ")
		if method != "GET" || publicRoutes[k] {
			continue
		}
		p, err := f.path(route, matrix[k])
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		out[k] = p
	}
	return out
}

// TestPagesWhileAnotherWriterHoldsTheDatabase: with another connection
// holding the write lock for longer than the busy timeout, every GET of the
// route table answers as usual for every persona, at once (no page waits for
// the lock: sessions due a touch and pending messages included), and a write
// that cannot get the lock in time answers a translated 503 with Retry-After.
func TestPagesWhileAnotherWriterHoldsTheDatabase(t *testing.T) {
	f := newMatrixFixture(t)
	routes := getRoutes(t, f)
	personas := map[string]*client{"anonymous": f.noSessionClient(f.Org1), "supervisor A": f.personaClient(1),
		"administrator": f.personaClient(3), "superuser": f.personaClient(5)}
	// The administrator's session is due a touch; supervisor A has a message
	// waiting for the next page.
	if _, err := f.DB.Exec(`UPDATE sessions SET last_seen_at = last_seen_at - ? WHERE user_id = ?`, 2*models.SessionTouchInterval.Milliseconds(), f.Admin.ID); err != nil {
		t.Fatal(err)
	}
	if r := personas["supervisor A"].post("/toggle-subregions/", url.Values{"include_subregions": {"0"}, "next": {"/"}}); r.Code != 303 {
		t.Fatalf("toggle = %d", r.Code)
	}
	anon := personas["anonymous"]
	anon.get("/users/login/")

	release := holdWriteLock(t, f.DB.Path)
	for k, p := range routes {
		for name, c := range personas {
			start := time.Now()
			r := c.get(p)
			took := time.Since(start)
			if k == "GET /passkeys/enrol/:token" {
				// Using the link is a write: it waits, then says so.
				if r.Code != 503 || r.Header.Get("Retry-After") != "5" {
					t.Errorf("%s as %s under the lock = %d, want 503", p, name, r.Code)
				}
				continue
			}
			if r.Code >= 500 || took >= 4*time.Second {
				t.Errorf("%s as %s with the database locked = %d after %s", p, name, r.Code, took.Round(time.Millisecond))
			}
		}
	}
	if r := personas["supervisor A"].get("/"); r.Code != 200 || strings.Contains(r.Body, "Sub-panels are left out.") {
		t.Errorf("home of supervisor A: %d (the message was shown by the first page already)", r.Code)
	}

	// Signed out, in French (the choice is a cookie: no write), signing in
	// must write a session: 503, translated, with Retry-After.
	if r := anon.post("/i18n/setlang/", url.Values{"language": {"fr"}, "next": {"/users/login/"}}); r.Code != 303 {
		t.Fatalf("language while locked = %d", r.Code)
	}
	start := time.Now()
	r := anon.post("/users/login/", signInForm("sup-a@org1.test", "anything"))
	if r.Code != 503 || r.Header.Get("Retry-After") != "5" || !strings.Contains(r.Body, "TracPro est occupé") {
		t.Fatalf("sign-in while locked = %d Retry-After %q: %.300s", r.Code, r.Header.Get("Retry-After"), r.Body)
	}
	t.Logf("sign-in answered 503 after %s (busy timeout 5 s)", time.Since(start).Round(time.Millisecond))
	// A passkey ceremony (JSON) gets the same, as JSON.
	r = anon.post("/passkeys/login/begin", nil, "Accept", "application/json")
	var out map[string]string
	if r.Code != 503 || json.Unmarshal([]byte(r.Body), &out) != nil || !strings.HasPrefix(out["error"], "TracPro est occupé") {
		t.Fatalf("passkey begin while locked = %d %.200s", r.Code, r.Body)
	}

	// Once the lock is gone the administrator's session is touched.
	release()
	before := lastSeen(t, f.DB, f.Admin.ID)
	if r := personas["administrator"].get("/"); r.Code != 200 {
		t.Fatalf("home after the lock = %d", r.Code)
	}
	if after := lastSeen(t, f.DB, f.Admin.ID); after <= before {
		t.Fatalf("the session was not touched once the lock was free: %d → %d", before, after)
	}
}

func lastSeen(t *testing.T, db *models.DB, userID int64) int64 {
	t.Helper()
	var ms int64
	if err := db.QueryRow(`SELECT max(last_seen_at) FROM sessions WHERE user_id = ?`, userID).Scan(&ms); err != nil {
		t.Fatal(err)
	}
	return ms
}

// fillDatabase makes the database full for every pooled connection: no page
// may be added (PRAGMA max_page_count, per connection: all eight are held
// while it is set), and the pages there are hold no more room for a session.
// SQLite then answers "database or disk is full", as on a full disk.
func fillDatabase(t *testing.T, db *models.DB) {
	t.Helper()
	ctx := context.Background()
	var pages int64
	if err := db.QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	var conns []*sql.Conn
	for range 8 {
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA max_page_count = %d`, pages)); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, conn)
	}
	for _, c := range conns {
		c.Close()
	}
	for _, size := range []int{2000, 200, 20} {
		for i := 0; ; i++ {
			_, err := db.Exec(`INSERT INTO sessions (id, csrf_token, data, created_at, last_seen_at, expires_at) VALUES (?, '', ?, 0, 0, ?)`,
				fmt.Sprintf("filler-%d-%d", size, i), strings.Repeat("x", size), models.NowMs()+3_600_000)
			if models.IsStorageFull(err) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestPagesOnAFullDisk: with nothing left to write into, signed-in users and
// the sign-in page still read, and signing in answers a translated 503.
func TestPagesOnAFullDisk(t *testing.T) {
	f := newMatrixFixture(t)
	sup := f.personaClient(1)
	anon := f.noSessionClient(f.Org1)
	u := f.createUser(f.Org1, "amina@org1.test", models.RoleSupervisor, testPassword)
	fillDatabase(t, f.DB)
	if r := sup.get("/"); r.Code != 200 || !strings.Contains(r.Body, `id="home`) {
		t.Fatalf("supervisor's home on a full disk = %d", r.Code)
	}
	if r := sup.get("/pollrun/"); r.Code != 200 {
		t.Fatalf("poll runs on a full disk = %d", r.Code)
	}
	if r := anon.get("/users/login/"); r.Code != 200 || anon.CSRF == "" {
		t.Fatalf("sign-in page on a full disk = %d", r.Code)
	}
	r := anon.post("/users/login/", signInForm(u.Email, testPassword))
	if r.Code != 503 || r.Header.Get("Retry-After") != "300" || !strings.Contains(r.Body, "nothing can be saved") {
		t.Fatalf("sign-in on a full disk = %d Retry-After %q: %.300s", r.Code, r.Header.Get("Retry-After"), r.Body)
	}
}
