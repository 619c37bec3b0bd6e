package models

import (
	"context"
	"fmt"
	"testing"
)

// TestGenerateBenchOrgSmall: a small generated org reads back by its
// subdomain with the same ids, and its counters (built by recount --fix;
// the cohort counters already kept by the triggers) show no drift.
func TestGenerateBenchOrgSmall(t *testing.T) {
	ctx := context.Background()
	db := testDB(t)
	bo, err := db.GenerateBenchOrg(ctx, BenchOrgConfig{Contacts: 300, Polls: 2, Pollruns: 10, PerPollrun: 100})
	if err != nil {
		t.Fatal(err)
	}
	again, err := db.BenchOrgByRef(ctx, "bench")
	strip := func(b *BenchOrg) string { c := *b; c.Org = nil; return fmt.Sprint(c) }
	if err != nil || strip(again) != strip(bo) || again.Org.ID != bo.Org.ID {
		t.Fatalf("read back %+v, generated %+v (%v)", again, bo, err)
	}
	var n int
	db.QueryRow(`SELECT count(*) FROM responses WHERE org_id = ?`, bo.Org.ID).Scan(&n)
	if n != 1000 || len(bo.Pollruns) != 10 || len(bo.Cohorts) != 5 || bo.Province == 0 {
		t.Fatalf("responses %d, %+v", n, bo)
	}
	rep, err := db.RecountOrg(ctx, bo.Org.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range rep.Drifts {
		if len(d.Key) > 7 && d.Key[:7] == "cohorts" {
			t.Fatalf("cohort counter not kept by the triggers: %+v", d)
		}
	}
	if rep, err = db.RecountOrg(ctx, bo.Org.ID, false); err != nil || rep.Drifted != 0 || rep.CohortsChecked == 0 {
		t.Fatalf("after --fix: %+v %v", rep, err)
	}
}
