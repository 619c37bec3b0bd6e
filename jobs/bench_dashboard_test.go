package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
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
// SQLite (not through the simulator). It reports the recount time (building
// the counters from empty, then checking them: zero drift required), p50/p95
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
	path := os.Getenv("TRACPRO_BENCH_DB")
	if path == "" {
		path = filepath.Join(b.TempDir(), "dash.db")
	}
	_, statErr := os.Stat(path)
	db, err := models.OpenMigrated(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if statErr != nil {
		t0 := time.Now()
		if err := generateDashboardOrg(ctx, db); err != nil {
			b.Fatal(err)
		}
		b.Logf("generated in %s", time.Since(t0).Round(time.Millisecond))
	}
	org, err := db.OrgByRef(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	var nResp int
	db.QueryRow(`SELECT count(*) FROM responses WHERE org_id = ?`, org.ID).Scan(&nResp)

	t0 := time.Now()
	rep, err := db.RecountOrg(ctx, org.ID, true)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("recount --fix: %d counters checked, %d rewritten in %s", rep.Checked, rep.Drifted, time.Since(t0).Round(time.Millisecond))
	t0 = time.Now()
	rep, err = db.RecountOrg(ctx, org.ID, false)
	if err != nil {
		b.Fatal(err)
	}
	recount := time.Since(t0)
	b.Logf("recount: %d responses, %d counters checked, %d drifted in %s", nResp, rep.Checked, rep.Drifted, recount.Round(time.Millisecond))
	if rep.Drifted != 0 {
		b.Fatalf("recount found %d drifted counters", rep.Drifted)
	}
	b.ReportMetric(recount.Seconds(), "recount-s")

	admin, err := db.ResolveScope(ctx, org.ID, 0, true, 0, true)
	if err != nil {
		b.Fatal(err)
	}
	var province int64
	db.QueryRow(`SELECT id FROM regions WHERE org_id = ? AND name = 'Province 1'`, org.ID).Scan(&province)
	supScope, err := db.ResolveScope(ctx, org.ID, 0, true, province, true)
	if err != nil {
		b.Fatal(err)
	}
	polls, _ := db.ListPolls(ctx, org.ID, true)
	questions := map[int64][]models.Question{}
	for _, p := range polls {
		questions[p.ID], _ = db.PollQuestions(ctx, p.ID)
	}
	var prIDs []int64
	rows, _ := db.Query(`SELECT id FROM pollruns WHERE org_id = ?`, org.ID)
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		prIDs = append(prIDs, id)
	}
	rows.Close()

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
		b.Logf("%-44s p50 %6.2f ms  p95 %6.2f ms", name, ms(p50), ms(p95))
		b.ReportMetric(ms(p95), strings.ReplaceAll(name, " ", "-")+"-p95-ms")
	}
	pollDetail := func(scope *models.Scope, fields map[string]string, only bool) func(int) error {
		return func(i int) error {
			p := polls[i%len(polls)]
			f := models.ChartFilter{Scope: scope, Fields: fields}
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
	b.Logf("CSV export: %d rows in %s = %.0f rows/s", n, el.Round(time.Millisecond), float64(n)/el.Seconds())
	b.ReportMetric(float64(n)/el.Seconds(), "csv-rows/s")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// generateDashboardOrg writes the benchmark org with multi-row INSERTs.
func generateDashboardOrg(ctx context.Context, db *models.DB) error {
	const (
		nContacts   = 100000
		nProvinces  = 9
		perProvince = 21 // districts: 9 × 21 = 189, plus the root and provinces = 199 + 1 spare
		nPolls      = 4
		nPollruns   = 50
		perPollrun  = 20000
	)
	org, err := db.CreateOrg(ctx, models.NewOrg{Name: "Bench", Subdomain: "bench", RapidProURL: "http://127.0.0.1:1", Token: "t", Timezone: "Africa/Kigali"})
	if err != nil {
		return err
	}
	rnd := rand.New(rand.NewSource(4))
	now := models.NowMs()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	exec := func(q string, args ...any) int64 {
		if err != nil {
			return 0
		}
		var res sql.Result
		res, err = tx.ExecContext(ctx, q, args...)
		if err != nil {
			return 0
		}
		id, _ := res.LastInsertId()
		return id
	}
	// Panels: Country → 9 provinces → 21 districts each, plus one spare top-level panel (200).
	var districts []int64
	root := exec(`INSERT INTO regions (org_id, uuid, name) VALUES (?, 'g-root', 'Country')`, org.ID)
	exec(`INSERT INTO regions (org_id, uuid, name) VALUES (?, 'g-spare', 'Spare')`, org.ID)
	for p := 1; p <= nProvinces; p++ {
		pid := exec(`INSERT INTO regions (org_id, uuid, name, parent_id) VALUES (?, ?, ?, ?)`, org.ID, fmt.Sprintf("g-p%d", p), fmt.Sprintf("Province %d", p), root)
		for d := 1; d <= perProvince; d++ {
			did := exec(`INSERT INTO regions (org_id, uuid, name, parent_id) VALUES (?, ?, ?, ?)`, org.ID, fmt.Sprintf("g-p%d-d%d", p, d), fmt.Sprintf("District %d.%d", p, d), pid)
			districts = append(districts, did)
		}
	}
	var cohorts []int64
	for i := 1; i <= 5; i++ {
		cohorts = append(cohorts, exec(`INSERT INTO cohorts (org_id, uuid, name) VALUES (?, ?, ?)`, org.ID, fmt.Sprintf("g-c%d", i), fmt.Sprintf("Cohort %d", i)))
	}
	field := exec(`INSERT INTO data_fields (org_id, key, label, show_on_tracpro) VALUES (?, 'district', 'District', 1)`, org.ID)
	if err != nil {
		return err
	}
	// Contacts (ids 1..n in this fresh database), their cohorts and a field.
	var cvals, ccvals, cfvals []any
	langs := []string{"eng", "fra", "fas", "pus", "ara"}
	contactRegion := make([]int64, nContacts+1)
	for i := 1; i <= nContacts; i++ {
		r := districts[rnd.Intn(len(districts))]
		contactRegion[i] = r
		cvals = append(cvals, i, org.ID, fmt.Sprintf("c-%08d", i), fmt.Sprintf("Contact %d", i), fmt.Sprintf("tel:+2507%08d", i), r, langs[i%len(langs)], now, now)
		ccvals = append(ccvals, i, cohorts[i%5])
		if i%3 == 0 {
			ccvals = append(ccvals, i, cohorts[(i+1)%5])
		}
		cfvals = append(cfvals, i, field, fmt.Sprintf("District %d", r))
	}
	if err = multi(ctx, tx, `INSERT INTO contacts (id, org_id, uuid, name, urn, region_id, language, created_on, modified_on)`, 9, cvals); err != nil {
		return err
	}
	if err = multi(ctx, tx, `INSERT INTO contact_cohorts (contact_id, cohort_id)`, 2, ccvals); err != nil {
		return err
	}
	if err = multi(ctx, tx, `INSERT INTO contact_fields (contact_id, field_id, value)`, 3, cfvals); err != nil {
		return err
	}
	// Polls with a numeric, a multiple-choice and an open question.
	var pollIDs []int64
	qs := map[int64][3]int64{}
	for p := 1; p <= nPolls; p++ {
		pid := exec(`INSERT INTO polls (org_id, flow_uuid, rapidpro_name, is_active) VALUES (?, ?, ?, 1)`, org.ID, fmt.Sprintf("flow-%d", p), fmt.Sprintf("Poll %d", p))
		var ids [3]int64
		for i, t := range []string{"N", "C", "O"} {
			ids[i] = exec(`INSERT INTO questions (poll_id, ruleset_uuid, result_key, rapidpro_name, question_type, display_order) VALUES (?, ?, ?, ?, ?, ?)`,
				pid, fmt.Sprintf("node-%d-%d", p, i), fmt.Sprintf("q%d", i), fmt.Sprintf("Question %d", i), t, i)
		}
		pollIDs = append(pollIDs, pid)
		qs[pid] = ids
	}
	if err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return err
	}
	// Poll runs: weekly universal runs per poll, some regional ones; each
	// with 20,000 responses of distinct contacts (one transaction each).
	start := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	words := strings.Fields("water school rain teachers books late sick road market clinic food pupils absent flood exam")
	cats := []string{"Yes", "No", "Maybe"}
	respID := int64(0)
	for n := 0; n < nPollruns; n++ {
		poll := pollIDs[n%nPolls]
		day := start.Add(time.Duration(n/nPolls) * 7 * 24 * time.Hour).Add(time.Duration(n%nPolls) * time.Hour)
		typ, region := "u", any(nil)
		if n%10 == 9 {
			typ, region = "r", districts[n%len(districts)]
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		var prID int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO pollruns (org_id, poll_id, pollrun_type, region_id, conducted_on, local_date) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			org.ID, poll, typ, region, models.Ms(day), day.Format("2006-01-02")).Scan(&prID); err != nil {
			tx.Rollback()
			return err
		}
		var rvals, avals []any
		for _, c := range rnd.Perm(nContacts)[:perPollrun] {
			contact := int64(c + 1)
			respID++
			status := "C"
			switch x := rnd.Intn(10); {
			case x == 0:
				status = "E"
			case x < 3:
				status = "P"
			}
			t := models.Ms(day) + int64(rnd.Intn(36000000))
			rvals = append(rvals, respID, org.ID, prID, contact, fmt.Sprintf("run-%09d", respID), t, t, t, status)
			if status == "E" {
				continue
			}
			ld := models.FromMs(t).Format("2006-01-02")
			num := fmt.Sprint(rnd.Intn(60))
			avals = append(avals, respID, qs[poll][0], num, "Low", t, ld, num, num)
			if status == "C" {
				ch := cats[rnd.Intn(3)]
				txt := words[rnd.Intn(len(words))] + " " + words[rnd.Intn(len(words))]
				avals = append(avals, respID, qs[poll][1], ch, ch, t, ld, ch, ch, respID, qs[poll][2], txt, nil, t, ld, txt, txt)
			}
		}
		if err := multi(ctx, tx, `INSERT INTO responses (id, org_id, pollrun_id, contact_id, run_uuid, created_on, updated_on, modified_on, status)`, 9, rvals); err != nil {
			tx.Rollback()
			return err
		}
		if err := multi(ctx, tx, `INSERT INTO answers (response_id, question_id, value, category, submitted_on, local_date, last_value, sum_value)`, 8, avals); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// multi inserts flat groups of cols values, 100 rows a statement.
func multi(ctx context.Context, tx *sql.Tx, head string, cols int, vals []any) error {
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + ")"
	var st *sql.Stmt
	for len(vals) > 0 {
		n := min(len(vals)/cols, 100)
		q := head + " VALUES " + strings.TrimSuffix(strings.Repeat(row+",", n), ",")
		var err error
		if n == 100 && st != nil {
			_, err = st.ExecContext(ctx, vals[:n*cols]...)
		} else if n == 100 {
			if st, err = tx.PrepareContext(ctx, q); err == nil {
				defer st.Close()
				_, err = st.ExecContext(ctx, vals[:n*cols]...)
			}
		} else {
			_, err = tx.ExecContext(ctx, q, vals[:n*cols]...)
		}
		if err != nil {
			return err
		}
		vals = vals[n*cols:]
	}
	return nil
}
