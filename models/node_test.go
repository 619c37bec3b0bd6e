package models

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// nodeDB is a database file of a test "server" with its outbox.
type nodeDB struct {
	t    *testing.T
	path string
	db   *DB
	org  int64
}

func openNodeDB(t *testing.T, path string) *nodeDB {
	t.Helper()
	db, err := OpenMigrated(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	n := &nodeDB{t: t, path: path, db: db}
	db.QueryRow(`SELECT coalesce(max(id), 0) FROM orgs`).Scan(&n.org)
	return n
}

// reopen closes the database and opens the file again (a restart).
func (n *nodeDB) reopen() *nodeDB {
	n.t.Helper()
	n.db.Close()
	return openNodeDB(n.t, n.path)
}

// queue adds k pending pushes (creating the org first if needed).
func (n *nodeDB) queue(k int) []int64 {
	n.t.Helper()
	ctx := context.Background()
	if n.org == 0 {
		org, err := n.db.CreateOrg(ctx, NewOrg{Name: "Node", Subdomain: "node", RapidProURL: "http://127.0.0.1:1", Token: "t"})
		if err != nil {
			n.t.Fatal(err)
		}
		n.org = org.ID
	}
	var ids []int64
	err := n.db.Tx(ctx, func(tx *sql.Tx) error {
		for range k {
			id, err := enqueueOutbox(ctx, tx, n.org, OutboxBroadcast, "", map[string]any{}, NowMs())
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		n.t.Fatal(err)
	}
	return ids
}

// claimAndSend claims a row and settles it sent, as a delivery does.
func (n *nodeDB) claimAndSend(id int64) {
	n.t.Helper()
	ctx := context.Background()
	if ok, err := n.db.ClaimOutbox(ctx, id, NowMs()); err != nil || !ok {
		n.t.Fatalf("claim %d: %v %v", id, ok, err)
	}
	if err := n.db.SettleOutbox(ctx, id, OutboxSent, "x", "", nil); err != nil {
		n.t.Fatal(err)
	}
}

func (n *nodeDB) start() *NodeCheck {
	n.t.Helper()
	c, err := n.db.StartNode(context.Background())
	if err != nil {
		n.t.Fatal(err)
	}
	return c
}

// uncertain returns the ids of the pending rows marked uncertain.
func (n *nodeDB) uncertain() []int64 {
	n.t.Helper()
	rows, err := n.db.Query(`SELECT id FROM outbox WHERE state = 'pending' AND verify_since > 0 ORDER BY id`)
	if err != nil {
		n.t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		out = append(out, id)
	}
	return out
}

// file reads the node file beside the database.
func (n *nodeDB) file() nodeRecord {
	n.t.Helper()
	b, err := os.ReadFile(NodeFile(n.path))
	if err != nil {
		n.t.Fatal(err)
	}
	var r nodeRecord
	if err := json.Unmarshal(b, &r); err != nil {
		n.t.Fatal(err)
	}
	return r
}

func (n *nodeDB) state() nodeRecord {
	n.t.Helper()
	var r nodeRecord
	if err := n.db.QueryRow(`SELECT generation, claims FROM node_state`).Scan(&r.Generation, &r.Claims); err != nil {
		n.t.Fatal(err)
	}
	return r
}

// copyTo writes a consistent copy of the database to path (what a restore
// from the replica, or a careful copy by hand, produces).
func (n *nodeDB) copyTo(path string) {
	n.t.Helper()
	if _, err := n.db.Exec(`VACUUM INTO ?`, path); err != nil {
		n.t.Fatal(err)
	}
}

// TestNodeStartsWithoutReconcilingItsOwnDatabase: a first start on an empty
// database, a restart, and a restart after a crash (the process killed
// between claims, nothing lost on the disk) never mark a push uncertain.
func TestNodeStartsWithoutReconcilingItsOwnDatabase(t *testing.T) {
	n := openNodeDB(t, filepath.Join(t.TempDir(), "tracpro.db"))
	c := n.start()
	if c.State != NodeNew || c.Uncertain != 0 || len(c.Generation) != 32 {
		t.Fatalf("first start = %+v", c)
	}
	if f, s := n.file(), n.state(); f != s || f.Generation != c.Generation || f.Claims != 0 {
		t.Fatalf("file %+v, node_state %+v", f, s)
	}
	ids := n.queue(4)
	n.claimAndSend(ids[0])
	n.claimAndSend(ids[1])
	if f, s := n.file(), n.state(); f != s || f.Claims != 2 {
		t.Fatalf("after 2 claims: file %+v, node_state %+v", f, s)
	}

	// A clean restart: same generation, nothing uncertain.
	n = n.reopen()
	if c2 := n.start(); c2.State != NodeSame || c2.Uncertain != 0 || c2.Generation != c.Generation {
		t.Fatalf("restart = %+v", c2)
	}
	// A claim whose process died mid-request (no settle, no close): the
	// restart finds the same database; the claimed row is left to the
	// interrupted-request rule, the others stay certain.
	if ok, err := n.db.ClaimOutbox(context.Background(), ids[2], NowMs()); err != nil || !ok {
		t.Fatal(ok, err)
	}
	n = n.reopen()
	if c3 := n.start(); c3.State != NodeSame || c3.Uncertain != 0 {
		t.Fatalf("restart after a crash = %+v", c3)
	}
	if got := n.uncertain(); len(got) != 0 {
		t.Fatalf("uncertain after a crash on the same disk: %v", got)
	}
	if f := n.file(); f.Claims != 3 {
		t.Fatalf("claims %d, want 3", f.Claims)
	}
}

// TestNodeFindsRestoredAndOlderCopies: a database restored or copied to an
// empty directory, a copy from another server, an older copy of this
// server's own database swapped in, and a database from before node files
// with pushes queued are all reconciled: every pending push is marked
// uncertain, and the database gets a new generation.
func TestNodeFindsRestoredAndOlderCopies(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"a", "b"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	a := openNodeDB(t, filepath.Join(dir, "a", "tracpro.db"))
	first := a.start()
	ids := a.queue(5)
	a.claimAndSend(ids[0])
	// The state the replica holds: the first push sent, four pending.
	replica := filepath.Join(dir, "replica.db")
	a.copyTo(replica)
	// Then the server sends two more and dies: their claims and sent
	// marks are not in the replica.
	a.claimAndSend(ids[1])
	a.claimAndSend(ids[2])

	// 1. Restored on a new machine: no node file.
	copyFile(t, replica, filepath.Join(dir, "b", "tracpro.db"))
	b := openNodeDB(t, filepath.Join(dir, "b", "tracpro.db"))
	c := b.start()
	if c.State != NodeRestored || c.Uncertain != 4 || c.Generation == first.Generation || !strings.Contains(c.Reason, "no node file") {
		t.Fatalf("restored = %+v", c)
	}
	if got := b.uncertain(); len(got) != 4 || got[0] != ids[1] {
		t.Fatalf("uncertain %v, want ids %v", got, ids[1:])
	}
	if f, s := b.file(), b.state(); f != s || f.Generation != c.Generation || f.Claims != 0 {
		t.Fatalf("restored node: file %+v, node_state %+v", f, s)
	}
	// Its next start is an ordinary restart.
	b = b.reopen()
	if c := b.start(); c.State != NodeSame {
		t.Fatalf("restart of the restored node = %+v", c)
	}

	// 2. An older copy of A's own database swapped in on A's disk (its node
	// file stays): same generation, fewer claims.
	a.db.Close()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(a.path + suffix)
	}
	copyFile(t, replica, a.path)
	a = openNodeDB(t, a.path)
	c = a.start()
	if c.State != NodeBehind || c.Uncertain != 4 || !strings.Contains(c.Reason, "1 outbox claims of this server, which made 3") {
		t.Fatalf("older copy = %+v", c)
	}

	// 3. B's database copied over A's (A's node file stays): another
	// generation.
	a.db.Close()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(a.path + suffix)
	}
	b.copyTo(a.path)
	a = openNodeDB(t, a.path)
	if c := a.start(); c.State != NodeRestored || !strings.Contains(c.Reason, "generation") {
		t.Fatalf("another server's database = %+v", c)
	}

	// 4. An unreadable node file: reconciled rather than trusted.
	if err := os.WriteFile(NodeFile(a.path), []byte("{half"), 0o600); err != nil {
		t.Fatal(err)
	}
	a = a.reopen()
	if c := a.start(); c.State != NodeRestored || !strings.Contains(c.Reason, "unreadable") {
		t.Fatalf("unreadable node file = %+v", c)
	}
}

// TestNodeDatabaseFromBeforeNodeFiles: a database that never had a node
// (a release before migration 0022) is reconciled when it holds pushes, and
// simply adopted when its outbox is empty.
func TestNodeDatabaseFromBeforeNodeFiles(t *testing.T) {
	old := openNodeDB(t, filepath.Join(t.TempDir(), "old.db"))
	old.queue(2)
	if c := old.start(); c.State != NodeRestored || c.Uncertain != 2 || !strings.Contains(c.Reason, "before node files") {
		t.Fatalf("old database with pushes = %+v", c)
	}
	empty := openNodeDB(t, filepath.Join(t.TempDir(), "empty.db"))
	if _, err := empty.db.CreateOrg(context.Background(), NewOrg{Name: "E", Subdomain: "e", RapidProURL: "http://127.0.0.1:1", Token: "t"}); err != nil {
		t.Fatal(err)
	}
	if c := empty.start(); c.State != NodeNew || c.Uncertain != 0 {
		t.Fatalf("old database without pushes = %+v", c)
	}
}

// TestNodeClaimNeedsItsFile: a claim is refused (and the row left pending,
// unclaimed) when the node file cannot be written; commands that never
// call StartNode claim without a node file.
func TestNodeClaimNeedsItsFile(t *testing.T) {
	n := openNodeDB(t, filepath.Join(t.TempDir(), "tracpro.db"))
	n.start()
	ids := n.queue(1)
	// A directory where the temporary file goes: the write fails.
	if err := os.Mkdir(NodeFile(n.path)+".tmp", 0o755); err != nil {
		t.Fatal(err)
	}
	ok, err := n.db.ClaimOutbox(context.Background(), ids[0], NowMs())
	if ok || err == nil || !strings.Contains(err.Error(), "node file") {
		t.Fatalf("claim without a writable node file: %v %v", ok, err)
	}
	var attempts int
	var last string
	n.db.QueryRow(`SELECT attempts, last_error FROM outbox WHERE id = ?`, ids[0]).Scan(&attempts, &last)
	if attempts != 0 || last != "" || n.state().Claims != 0 {
		t.Fatalf("the refused claim left attempts %d, mark %q, claims %d", attempts, last, n.state().Claims)
	}
	os.Remove(NodeFile(n.path) + ".tmp")

	// A command that opens the database without StartNode (sync, user,
	// recount…): claims do not touch the node file or node_state.
	cli := openNodeDB(t, n.path)
	before := n.file()
	if ok, err := cli.db.ClaimOutbox(context.Background(), ids[0], NowMs()); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if n.file() != before || n.state() != before {
		t.Fatalf("a claim without a node changed the node: %+v %+v", n.file(), n.state())
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
