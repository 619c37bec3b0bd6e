package models

import (
	"context"
	"testing"
)

func TestOrgSyncStatusDrivesBannersAndBadge(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	record := func(resource, status, kind string, finished int64) {
		id, err := f.db.StartSyncRun(ctx, f.org.ID, resource)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.db.FinishSyncRun(ctx, &SyncRun{ID: id, Status: status, ErrorKind: kind, FinishedAt: finished}); err != nil {
			t.Fatal(err)
		}
	}
	record("runs", "ok", "", 1000)
	record("contacts", "ok", "", 2000)
	st, err := f.db.OrgSyncStatus(ctx, f.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.LastSuccess != 1000 || st.TokenInvalid || st.Down {
		t.Fatalf("status = %+v", st)
	}
	record("runs", "error", "unavailable", 3000)
	st, _ = f.db.OrgSyncStatus(ctx, f.org.ID)
	if !st.Down || st.TokenInvalid || st.LastSuccess != 1000 {
		t.Fatalf("after a failed pull: %+v (the badge keeps the last successful runs pull)", st)
	}
	record("contacts", "error", "token", 4000)
	st, _ = f.db.OrgSyncStatus(ctx, f.org.ID)
	if !st.TokenInvalid || st.Down {
		t.Fatalf("after a token error: %+v", st)
	}
	record("runs", "ok", "", 5000)
	st, _ = f.db.OrgSyncStatus(ctx, f.org.ID)
	if st.TokenInvalid || st.Down || st.LastSuccess != 5000 {
		t.Fatalf("after recovery: %+v", st)
	}
}
