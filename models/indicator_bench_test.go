package models

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"
)

// BenchmarkIndicatorReport times an indicator's figures (SPEC §3.6) on the
// generated org of issue #4 (1,000,000 responses): baseline = the numeric
// question of the first poll, follow-up = the numeric question of the
// second, over every poll run; for "All panels" and for a supervisor's
// province (the time per call and its 95th percentile). Run it with
//
//	TRACPRO_BENCH_INDICATOR=1 go test -run '^$' -bench BenchmarkIndicatorReport -benchtime 5x -timeout 30m ./models/
//
// (TRACPRO_BENCH_DB=path reuses the database of the dashboard benchmarks).
func BenchmarkIndicatorReport(b *testing.B) {
	if os.Getenv("TRACPRO_BENCH_INDICATOR") == "" {
		b.Skip("set TRACPRO_BENCH_INDICATOR=1: it generates 1,000,000 responses")
	}
	ctx := context.Background()
	db, bo, err := OpenBenchOrg(ctx, os.Getenv("TRACPRO_BENCH_DB"), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	loc := bo.Org.Location()
	ind := &Indicator{OrgID: bo.Org.ID, BaselinePollID: bo.Polls[0], BaselineQuestionID: bo.Questions[bo.Polls[0]][0],
		FollowUpPollID: bo.Polls[1], FollowUpQuestionID: bo.Questions[bo.Polls[1]][0]}
	// The indicator is stored (its baseline poll's first answers are written
	// then: migration 0014), once per database.
	t0 := time.Now()
	res, err := db.ExecContext(ctx, `INSERT INTO indicators (org_id, name, start_date, end_date, baseline_poll_id, baseline_question_id,
		follow_up_poll_id, follow_up_question_id) SELECT ?, 'Bench', '2020-01-01', '2030-12-31', ?, ?, ?, ?
		WHERE NOT EXISTS (SELECT 1 FROM indicators WHERE baseline_poll_id = ?)`, ind.OrgID, ind.BaselinePollID, ind.BaselineQuestionID,
		ind.FollowUpPollID, ind.FollowUpQuestionID, ind.BaselinePollID)
	if err != nil {
		b.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		b.Logf("indicator saved (its baseline poll's first answers written) in %s", time.Since(t0).Round(time.Millisecond))
	}
	// A generated org has no counters: build them (a no-op when a previous run did).
	if _, err := db.RecountOrg(ctx, bo.Org.ID, true); err != nil {
		b.Fatal(err)
	}
	from, to := time.Now().In(loc).AddDate(-2, 0, 0), time.Now().In(loc).AddDate(0, 0, 1)
	for _, tc := range []struct {
		name  string
		panel int64
	}{{"all-panels", 0}, {"province", bo.Province}} {
		scope, err := db.ResolveScope(ctx, bo.Org.ID, 0, true, tc.panel, true)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			var rep *IndicatorReport
			took := make([]time.Duration, 0, b.N)
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				if rep, err = db.IndicatorReport(ctx, ind, IndicatorFilter{ChartFilter: ChartFilter{Scope: scope, From: from, To: to}}, nil); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(t0))
			}
			// The dashboards' budget is a p95 (target 15 ms, floor 50 ms).
			slices.Sort(took)
			b.ReportMetric(float64(took[(len(took)*95+99)/100-1])/1e6, "p95-ms")
			b.Logf("%s: %d follow-up poll runs, %d answers, baseline %.0f from %d contacts", tc.name, len(rep.FollowUps), rep.Answers, rep.Baseline, rep.BaselineAnswered)
		})
	}
}
