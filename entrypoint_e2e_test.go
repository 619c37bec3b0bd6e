package main

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// foreignWAL returns the -wal file of another database (a table of its own,
// committed but not checkpointed): what a stale -wal beside a missing
// database looks like to SQLite.
func foreignWAL(t *testing.T) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "foreign.db")
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{`PRAGMA wal_autocheckpoint = 0`, `CREATE TABLE foreign_rows (x TEXT)`,
		`INSERT INTO foreign_rows SELECT hex(randomblob(400)) FROM generate_series(1, 200)`} {
		if _, err := db.Exec(q); err != nil {
			// generate_series may be missing from the build: a recursive CTE instead.
			if _, err2 := db.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200) INSERT INTO foreign_rows SELECT hex(randomblob(400)) FROM n`); err2 != nil || !strings.Contains(q, "generate_series") {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	wal, err := os.ReadFile(path + "-wal")
	if err != nil || len(wal) < 32*1024 {
		t.Fatalf("foreign WAL: %d bytes, %v", len(wal), err)
	}
	return wal
}

// The entrypoint with paths that contain spaces and a quote (the data
// directory, the tracpro binary, an argument), a restart on an existing
// database (no restore, just replicate), and a database deleted by hand with
// its -wal, -shm and Litestream directory left behind (they are removed, the
// replica is restored, nothing foreign is replayed into it).
func TestEntrypointPathsRestartAndStaleFiles(t *testing.T) {
	requireE2E(t)
	tracpro, _ := buildBinaries(t, true)
	s3 := startS3(t)
	const interval = 300 * time.Millisecond
	n := newNode(t, s3, "odd", interval.String())
	odd := filepath.Join(n.dir, "data dir", "it's here")
	bindir := filepath.Join(n.dir, "bin dir")
	for _, d := range []string{odd, bindir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(tracpro)
	if err != nil {
		t.Fatal(err)
	}
	spacedBin := filepath.Join(bindir, "trac pro")
	if err := os.WriteFile(spacedBin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	n.dir, n.db = odd, filepath.Join(odd, "track pro.db")
	n.env = append(n.env, "TRACPRO_DB="+n.db, "TRACPRO_BIN="+spacedBin)
	users := func(path string) string {
		t.Helper()
		return readFacts(t, path, "").Emails
	}
	addUser := func(i int) {
		n.tracpro(fmt.Sprintf("spaced path password %d\n", i), "user", "create", "-email", fmt.Sprintf("u%d@e2e.example", i), "-name", "U", "-password-stdin")
	}
	// 1. First boot: a new database at the spaced path; the entrypoint's
	// arguments reach `tracpro serve`.
	n.args = []string{"-log-format", "text"}
	n.start()
	n.waitReady()
	// (The log line may follow the first answer by a moment.)
	waitFor(t, "tracpro serve's text log (-log-format text overrides production's JSON)", func() bool {
		return strings.Contains(n.logs(), "msg=serving")
	})
	addUser(1)
	addUser(2)
	time.Sleep(3 * interval)
	if took := n.stop(); n.exitCode != 0 || took > 10*time.Second {
		t.Fatalf("SIGTERM: exit %d after %s\n%s", n.exitCode, took, n.logs())
	}

	// 2. Restart on the existing database: no restore, just replicate.
	n.args = nil
	n.start()
	n.waitReady()
	if !strings.Contains(n.logs(), "using the existing database "+n.db) || strings.Contains(n.logs(), "restoring") {
		t.Fatalf("restart on an existing database:\n%s", n.logs())
	}
	addUser(3)
	// SIGKILL below: the write must have shipped (a few sync intervals).
	time.Sleep(6 * interval)
	want := users(n.db)
	if want != "u1@e2e.example,u2@e2e.example,u3@e2e.example" {
		t.Fatalf("users = %q", want)
	}
	n.kill(syscall.SIGKILL)

	// 3. Someone deletes only the database file to force a restore: the
	// -wal (here another database's, so a replay would show), the -shm and
	// Litestream's directory stay behind.
	if err := os.Remove(n.db); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(n.db+"-wal", foreignWAL(t), 0o644); err != nil {
		t.Fatal(err)
	}
	meta := filepath.Join(odd, ".track pro.db-litestream")
	if _, err := os.Stat(meta); err != nil {
		t.Fatalf("Litestream's metadata directory is not where the README says: %v", err)
	}
	n.start()
	n.waitReady()
	for _, want := range []string{"removing " + n.db + "-wal", "removing " + meta, "restored " + n.db + " from the replica"} {
		if !strings.Contains(n.logs(), want) {
			t.Fatalf("the log lacks %q:\n%s", want, n.logs())
		}
	}
	if got := users(n.db); got != want {
		t.Fatalf("restored users = %q, want %q", got, want)
	}
	n.stop()
}
