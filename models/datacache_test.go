package models

import (
	"context"
	"testing"
)

// TestCachedUntilTheDatabaseChanges: Cached serves what it stored while
// nothing is committed, and computes again after any commit — through the
// app's own pool, or through another handle on the same file (another
// process: a `tracpro` command).
func TestCachedUntilTheDatabaseChanges(t *testing.T) {
	ctx := context.Background()
	db := testDB(t)
	org, err := db.CreateOrg(ctx, NewOrg{Name: "UNICEF", Subdomain: "unicef", RapidProURL: "http://127.0.0.1:1", Token: "t", Timezone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	f := ChartFilter{Scope: &Scope{OrgID: org.ID, Tree: &PanelTree{}}}
	fills := 0
	read := func() int {
		t.Helper()
		v, err := db.Cached("names", f, func() (any, error) {
			fills++
			var n int
			err := db.QueryRowContext(ctx, `SELECT count(*) FROM orgs`).Scan(&n)
			return n, err
		})
		if err != nil {
			t.Fatal(err)
		}
		return v.(int)
	}
	if n := read(); n != 1 || fills != 1 {
		t.Fatalf("first read: %d orgs, %d fills", n, fills)
	}
	if n := read(); n != 1 || fills != 1 {
		t.Fatalf("unchanged database: %d orgs, %d fills (want the stored value)", n, fills)
	}
	if _, err := db.CreateOrg(ctx, NewOrg{Name: "Two", Subdomain: "two", RapidProURL: "http://127.0.0.1:1", Token: "t", Timezone: "UTC"}); err != nil {
		t.Fatal(err)
	}
	if n := read(); n != 2 || fills != 2 {
		t.Fatalf("after a write through the pool: %d orgs, %d fills", n, fills)
	}
	other, err := Open(db.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.ExecContext(ctx, `UPDATE orgs SET name = 'Renamed' WHERE id = ?`, org.ID); err != nil {
		t.Fatal(err)
	}
	if read(); fills != 3 {
		t.Fatalf("a write through another handle did not invalidate the cache (%d fills)", fills)
	}
	if read(); fills != 3 {
		t.Fatalf("unchanged again: %d fills", fills)
	}

	// Contacts resolved by ResolveFilter before a commit: computed, not stored.
	stale := f
	s := db.DataStamp()
	stale.matched, stale.resolvedAt = new(string), s
	if _, err := db.ExecContext(ctx, `UPDATE orgs SET name = 'Again' WHERE id = ?`, org.ID); err != nil {
		t.Fatal(err)
	}
	if db.DataStamp() == s {
		t.Fatal("the stamp did not change with a commit")
	}
	for i := 0; i < 2; i++ {
		if _, err := db.Cached("resolved", stale, func() (any, error) { fills++; return 0, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if fills != 5 {
		t.Fatalf("a result read with contacts resolved before a commit was stored (%d fills, want 5)", fills)
	}
}
