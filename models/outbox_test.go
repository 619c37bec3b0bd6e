package models

import (
	"context"
	"database/sql"
	"testing"
)

func TestOutboxOrderPerKeyAndStates(t *testing.T) {
	ctx := context.Background()
	db := testDB(t)
	org, err := db.CreateOrg(ctx, NewOrg{Name: "Out", Subdomain: "out", RapidProURL: "http://127.0.0.1:1", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		for _, key := range []string{"k1", "k1", "k2", "", ""} {
			id, err := enqueueOutbox(ctx, tx, org.ID, "flow_start", key, map[string]any{"key": key}, 1000)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		_, err := enqueueOutbox(ctx, tx, org.ID, "broadcast", "", map[string]any{}, 1000)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	due := func(now int64) []int64 {
		t.Helper()
		items, err := db.DueOutbox(ctx, []string{"flow_start"}, now, 10)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, it := range items {
			out = append(out, it.ID)
		}
		return out
	}
	same := func(a, b []int64) bool {
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if a[i] != b[i] {
				return false
			}
		}
		return true
	}
	if got := due(999); len(got) != 0 {
		t.Fatalf("due before their time: %v", got)
	}
	// k1's second row waits for its first; rows without a key are independent;
	// other kinds are not asked for.
	if got, want := due(1000), []int64{ids[0], ids[2], ids[3], ids[4]}; !same(got, want) {
		t.Fatalf("due = %v, want %v", got, want)
	}
	ok, err := db.ClaimOutbox(ctx, ids[0], 1001)
	if err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if ok, _ := db.ClaimOutbox(ctx, ids[0], 1001); ok {
		t.Fatal("a claimed row was claimed twice")
	}
	it, err := db.OutboxByID(ctx, ids[0])
	if err != nil || !it.Interrupted() || it.Attempts != 1 {
		t.Fatalf("claimed row = %+v %v", it, err)
	}
	// Rescheduled (429): the row and the rest of its key wait.
	if err := db.RetryOutbox(ctx, ids[0], 5000, "rate limited"); err != nil {
		t.Fatal(err)
	}
	if got, want := due(2000), []int64{ids[2], ids[3], ids[4]}; !same(got, want) {
		t.Fatalf("due after retry = %v, want %v", got, want)
	}
	if it, _ := db.OutboxByID(ctx, ids[0]); it.Interrupted() || it.LastError != "rate limited" {
		t.Fatalf("retried row = %+v", it)
	}
	if err := db.SettleOutbox(ctx, ids[0], OutboxSent, "start-uuid", "", nil); err != nil {
		t.Fatal(err)
	}
	if got, want := due(2000), []int64{ids[1], ids[2], ids[3], ids[4]}; !same(got, want) {
		t.Fatalf("due after settle = %v, want %v", got, want)
	}
	if err := db.SettleOutbox(ctx, ids[1], "pending", "", "", nil); ErrorCode(err) != CodeInvalid {
		t.Fatalf("settle to pending: %v", err)
	}
	if err := db.SettleOutbox(ctx, ids[1], OutboxUnknown, "", "HTTP 500", nil); err != nil {
		t.Fatal(err)
	}
	counts, err := db.OutboxCounts(ctx, org.ID)
	if err != nil || counts["sent"] != 1 || counts["unknown"] != 1 || counts["pending"] != 4 {
		t.Fatalf("counts = %v %v", counts, err)
	}
	if _, err := db.OutboxByID(ctx, 424242); ErrorCode(err) != CodeNotFound {
		t.Fatalf("missing row: %v", err)
	}
}
