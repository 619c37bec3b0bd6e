package jobs

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"tracpro/models"
)

// BenchmarkDashboard measures the server time of the dashboard queries on a
// generated org of 100,000 contacts, 200 panels (a 3-level tree), 5 cohorts,
// 4 polls of 3 questions (numeric, multiple choice, open), 50 poll runs and
// 1,000,000 responses with about 2.3 million answers, written straight into
// SQLite by models.GenerateBenchOrg (not through the simulator; the page-level
// benchmark, handlers/bench_pages_test.go, uses the same org). It reports the
// recount time (building the counters from empty, then checking them: zero drift required), p50/p95
// of the stats calls behind poll detail (ChartPollruns + StatsByPollrun per
// question), of poll run participation (by panel and by cohort) and of a
// field-filtered poll detail, and CSV export rows/s. Run it with
//
//	TRACPRO_BENCH_DASHBOARD=1 go test -run '^$' -bench BenchmarkDashboard -benchtime 1x -timeout 30m ./jobs/
//
// (TRACPRO_BENCH_DB=path keeps the generated database between runs.)
func BenchmarkDashboard(b *testing.B) {
	if os.Getenv("TRACPRO_BENCH_DASHBOARD") == "" {
		b.Skip("set TRACPRO_BENCH_DASHBOARD=1: it generates 1,000,000 responses")
	}
	ctx := context.Background()
	t0 := time.Now()
	db, bo, err := models.OpenBenchOrg(ctx, os.Getenv("TRACPRO_BENCH_DB"), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	b.Logf("benchmark org ready in %s", time.Since(t0).Round(time.Millisecond))
	org := bo.Org
	var nResp int
	db.QueryRow(`SELECT count(*) FROM responses WHERE org_id = ?`, org.ID).Scan(&nResp)

	t0 = time.Now()
	rep, err := db.RecountOrg(ctx, org.ID, true)
	if err != nil {
		b.Fatal(err)
	}
	fmt.Printf("recount --fix: %d counters (+%d cohort counters) checked, %d rewritten in %s\n", rep.Checked, rep.CohortsChecked, rep.Drifted, time.Since(t0).Round(time.Millisecond))
	t0 = time.Now()
	rep, err = db.RecountOrg(ctx, org.ID, false)
	if err != nil {
		b.Fatal(err)
	}
	recount := time.Since(t0)
	fmt.Printf("recount: %d responses, %d counters (+%d cohort counters) checked, %d drifted in %s\n", nResp, rep.Checked, rep.CohortsChecked, rep.Drifted, recount.Round(time.Millisecond))
	if rep.Drifted != 0 {
		b.Fatalf("recount found %d drifted counters", rep.Drifted)
	}
	b.ReportMetric(recount.Seconds(), "recount-s")

	admin, err := db.ResolveScope(ctx, org.ID, 0, true, 0, true)
	if err != nil {
		b.Fatal(err)
	}
	supScope, err := db.ResolveScope(ctx, org.ID, 0, true, bo.Province, true)
	if err != nil {
		b.Fatal(err)
	}
	polls, _ := db.ListPolls(ctx, org.ID, true)
	questions := map[int64][]models.Question{}
	for _, p := range polls {
		questions[p.ID], _ = db.PollQuestions(ctx, p.ID)
	}
	prIDs := bo.Pollruns

	const iters = 60
	measure := func(name string, fn func(i int) error) {
		var ds []time.Duration
		for i := 0; i < iters; i++ {
			t := time.Now()
			if err := fn(i); err != nil {
				b.Fatalf("%s: %v", name, err)
			}
			ds = append(ds, time.Since(t))
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		p50, p95 := ds[len(ds)/2], ds[len(ds)*95/100]
		fmt.Printf("%-44s p50 %6.2f ms  p95 %6.2f ms\n", name, ms(p50), ms(p95))
		b.ReportMetric(ms(p95), strings.ReplaceAll(name, " ", "-")+"-p95-ms")
	}
	pollDetail := func(scope *models.Scope, fields map[string]string, only bool) func(int) error {
		return func(i int) error {
			p := polls[i%len(polls)]
			f, err := db.ResolveFilter(ctx, models.ChartFilter{Scope: scope, Fields: fields}) // once per page, as handlers do
			if err != nil {
				return err
			}
			prs, err := db.ChartPollruns(ctx, p.ID, f, only)
			if err != nil {
				return err
			}
			for _, q := range questions[p.ID] {
				if _, err := db.StatsByPollrun(ctx, q.ID, prs, f); err != nil {
					return err
				}
			}
			return nil
		}
	}
	measure("poll detail, admin all panels", pollDetail(admin, nil, true))
	measure("poll detail, province (20 panels)", pollDetail(supScope, nil, false))
	measure("poll detail split by panel, admin", func(i int) error {
		p := polls[i%len(polls)]
		f := models.ChartFilter{Scope: admin}
		prs, err := db.ChartPollruns(ctx, p.ID, f, true)
		if err != nil {
			return err
		}
		_, err = db.StatsByPanel(ctx, questions[p.ID][0].ID, prs, f)
		return err
	})
	for _, by := range []string{"panel", "cohort"} {
		for _, sc := range []struct {
			name  string
			scope *models.Scope
		}{{"admin", admin}, {"province", supScope}} {
			measure("participation by "+by+", "+sc.name, func(i int) error {
				_, _, err := db.Participation(ctx, prIDs[i%len(prIDs)], models.ChartFilter{Scope: sc.scope}, by)
				return err
			})
		}
	}
	measure("poll detail filtered (field), province", pollDetail(supScope, map[string]string{"district": "3"}, false))
	measure("word cloud values (limit 2000), admin", func(i int) error {
		p := polls[i%len(polls)]
		f := models.ChartFilter{Scope: admin}
		prs, _ := db.ChartPollruns(ctx, p.ID, f, true)
		_, err := db.AnswerValues(ctx, questions[p.ID][2].ID, prs, f, 2000)
		return err
	})

	// CSV export of one poll (about 190,000 non-empty responses).
	t0 = time.Now()
	n, err := db.ExportResponses(ctx, io.Discard, org, polls[0].ID, 0, time.Time{}, admin)
	if err != nil {
		b.Fatal(err)
	}
	el := time.Since(t0)
	fmt.Printf("CSV export: %d rows in %s = %.0f rows/s\n", n, el.Round(time.Millisecond), float64(n)/el.Seconds())
	b.ReportMetric(float64(n)/el.Seconds(), "csv-rows/s")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
