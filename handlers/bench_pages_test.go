package handlers

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"tracpro/models"
)

// BenchmarkDashboardPages measures the dashboard pages end to end on the
// generated org of issue #4 (models.GenerateBenchOrg: 100,000 contacts, 200
// panels, 50 poll runs, 1,000,000 responses): the server time of full HTTP
// requests through the real app (middleware, session, queries, templates,
// gzip) for an administrator on "All panels" and a supervisor of one
// province, p50/p95 of 60 requests per page, the gzip bytes of each full page
// and htmx swap (fragment), the p95 of all swaps, the recount time (zero
// drift) and the CSV export's rows/s through its route. Run it with
//
//	TRACPRO_BENCH_DASHBOARD=1 go test -run '^$' -bench BenchmarkDashboardPages -benchtime 1x -timeout 30m ./handlers/
//
// (TRACPRO_BENCH_DB=path keeps the generated database between runs; the
// same file serves BenchmarkDashboard in jobs/.)
func BenchmarkDashboardPages(b *testing.B) {
	db, bo := openBenchOrg(b)
	ctx := context.Background()
	org := bo.Org

	// TRACPRO_BENCH_ONLY=text times only the pages whose name contains text,
	// without the recount and the CSV export (for iterating on one page).
	only := os.Getenv("TRACPRO_BENCH_ONLY")
	// TRACPRO_BENCH_COLD=1 commits a change before every request (untimed), so
	// that nothing is served from the data cache (models.DB.Cached): the
	// figures of a dashboard read right after a sync.
	cold := os.Getenv("TRACPRO_BENCH_COLD") == "1"
	// Counters: build them (a generated org has none), then check them.
	t0 := time.Now()
	rep, err := &models.RecountReport{}, error(nil)
	if only == "" {
		rep, err = db.RecountOrg(ctx, org.ID, true)
	}
	if err != nil {
		b.Fatal(err)
	}
	fixTime := time.Since(t0)
	t0 = time.Now()
	if only == "" {
		rep, err = db.RecountOrg(ctx, org.ID, false)
	}
	if err != nil {
		b.Fatal(err)
	}
	recount := time.Since(t0)
	if rep.Drifted != 0 {
		b.Fatalf("recount found %d drifted counters", rep.Drifted)
	}
	fmt.Printf("recount --fix %s; recount: %d counters checked (and %d cohort, %d field counters), 0 drifted in %s\n",
		fixTime.Round(time.Millisecond), rep.Checked, rep.CohortsChecked, rep.FieldsChecked, recount.Round(time.Millisecond))
	b.ReportMetric(recount.Seconds(), "recount-s")

	a := newBenchApp(b, db, bo)

	// Universal poll runs (visible to both personas), newest first.
	var runs []int64
	rows, err := db.QueryContext(ctx, `SELECT id FROM pollruns WHERE org_id = ? AND pollrun_type = 'u' ORDER BY conducted_on DESC`, org.ID)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		runs = append(runs, id)
	}
	rows.Close()
	runs = runs[:min(len(runs), 12)]
	poll := func(i int) string { return strconv.FormatInt(bo.Polls[i%len(bo.Polls)], 10) }
	run := func(i int) string { return strconv.FormatInt(runs[i%len(runs)], 10) }

	type page struct {
		name string
		path func(i int) string
	}
	pages := []page{
		{"home", func(int) string { return "/" }},
		{"poll detail (12 months)", func(i int) string { return "/poll/read/" + poll(i) + "/?date_range=12-months" }},
		{"poll detail, average, split by panel", func(i int) string {
			return "/poll/read/" + poll(i) + "/?date_range=12-months&numeric=average&split_regions=1"
		}},
		{"poll detail, field filter", func(i int) string {
			return "/poll/read/" + poll(i) + "/?date_range=12-months&contact_" + bo.FieldKey + "=3"
		}},
		{"poll run summary", func(i int) string { return "/pollrun/read/" + run(i) + "/" }},
		{"participation by cohort", func(i int) string { return "/pollrun/participation/" + run(i) + "/" }},
		{"participation by panel", func(i int) string { return "/pollrun/participation/" + run(i) + "/?group-by=region" }},
		{"responses, page 1", func(i int) string { return "/response/by_pollrun/" + run(i) + "/" }},
	}
	const iters = 60
	var swaps []int
	fmt.Printf("\n%-38s %-10s %-8s %9s %9s %10s\n", "page", "persona", "kind", "p50 ms", "p95 ms", "gzip B")
	for _, pg := range pages {
		if !strings.Contains(pg.name, only) {
			continue
		}
		for _, who := range a.personas() {
			for _, frag := range []bool{false, true} {
				kind := "page"
				if frag {
					kind = "swap"
				}
				do := func(i int) (time.Duration, int) {
					if cold {
						if _, err := db.ExecContext(ctx, `UPDATE sessions SET last_seen_at = last_seen_at + 1 WHERE id = ?`, models.HashToken(who.token)); err != nil {
							b.Fatal(err)
						}
					}
					el, body := a.get(b, who.token, pg.path(i), frag)
					return el, len(body)
				}
				do(0) // warm up
				var ds []time.Duration
				var sizes []int
				for i := 0; i < iters; i++ {
					d, n := do(i)
					ds = append(ds, d)
					sizes = append(sizes, n)
				}
				if frag {
					swaps = append(swaps, sizes...)
				}
				sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
				sort.Ints(sizes)
				p50, p95 := ds[len(ds)/2], ds[len(ds)*95/100]
				fmt.Printf("%-38s %-10s %-8s %9.2f %9.2f %10d\n", pg.name, who.name, kind, msf(p50), msf(p95), sizes[len(sizes)/2])
				metric := strings.NewReplacer(" ", "-", ",", "", "(", "", ")", "").Replace(pg.name + "-" + who.name + "-" + kind)
				b.ReportMetric(msf(p95), metric+"-p95-ms")
			}
		}
	}
	sort.Ints(swaps)
	swapP95 := swaps[len(swaps)*95/100]
	fmt.Printf("\nswap bytes (gzip) over %d swaps: p50 %d B, p95 %d B, max %d B (budget 4096 B at p95)\n", len(swaps), swaps[len(swaps)/2], swapP95, swaps[len(swaps)-1])
	b.ReportMetric(float64(swapP95), "swap-p95-B")

	if only != "" {
		return
	}
	// CSV export through the route: the largest poll run for each persona.
	for _, who := range a.personas() {
		var best float64
		var lines int
		for i := 0; i < 5; i++ {
			var el time.Duration
			lines, el = a.csv(b, who.token, "/response/by_pollrun/"+run(i)+"/?_format=csv")
			if r := float64(lines) / el.Seconds(); r > best {
				best = r
			}
		}
		fmt.Printf("CSV export (route, one poll run), %s: %d rows, best of 5 %.0f rows/s\n", who.name, lines, best)
		b.ReportMetric(best, "csv-"+who.name+"-rows/s")
	}
}

// openBenchOrg skips the benchmark unless TRACPRO_BENCH_DASHBOARD is set,
// then opens the benchmark org (generated, or kept in TRACPRO_BENCH_DB),
// closed when the benchmark ends.
func openBenchOrg(b *testing.B) (*models.DB, *models.BenchOrg) {
	b.Helper()
	if os.Getenv("TRACPRO_BENCH_DASHBOARD") == "" {
		b.Skip("set TRACPRO_BENCH_DASHBOARD=1: it generates 1,000,000 responses")
	}
	t0 := time.Now()
	db, bo, err := models.OpenBenchOrg(context.Background(), os.Getenv("TRACPRO_BENCH_DB"), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	b.Logf("benchmark org ready in %s", time.Since(t0).Round(time.Millisecond))
	return db, bo
}

// benchApp is the app over the benchmark org with an administrator (all
// panels) and a supervisor of one province signed in.
type benchApp struct {
	app        *fiber.App
	host       string
	admin, sup string // session tokens
}

// benchPersona is a signed-in user of a benchmark.
type benchPersona struct{ name, token string }

// newBenchApp builds the app over the benchmark org and signs its two
// personas in (passkeys off for the administrator).
func newBenchApp(b *testing.B, db *models.DB, bo *models.BenchOrg) *benchApp {
	b.Helper()
	if _, err := db.ExecContext(context.Background(), `UPDATE orgs SET admin_passkeys = 0 WHERE id = ?`, bo.Org.ID); err != nil {
		b.Fatal(err)
	}
	app, err := New(&Handlers{DB: db, Domain: testDomain})
	if err != nil {
		b.Fatal(err)
	}
	return &benchApp{app: app, host: bo.Org.Subdomain + "." + testDomain,
		admin: benchSession(b, db, bo.Org, "bench-admin@example.org", models.RoleAdmin),
		sup:   benchSession(b, db, bo.Org, "bench-supervisor@example.org", models.RoleSupervisor, bo.Province)}
}

// personas are the administrator and the province supervisor.
func (a *benchApp) personas() []benchPersona {
	return []benchPersona{{"admin", a.admin}, {"province", a.sup}}
}

// get requests path gzipped as token's user (an htmx swap when frag); any
// answer but a gzipped 200 fails the benchmark. It returns the time taken
// and the (compressed) body.
func (a *benchApp) get(b *testing.B, token, path string, frag bool) (time.Duration, []byte) {
	b.Helper()
	req := httptest.NewRequest("GET", "http://"+a.host+path, nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: token})
	req.Header.Set("Accept-Encoding", "gzip")
	if frag {
		req.Header.Set("HX-Request", "true")
	}
	t := time.Now()
	resp, err := a.app.Test(req, -1)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	el := time.Since(t)
	if resp.StatusCode != fiber.StatusOK {
		b.Fatalf("%s (fragment %v): %d %.300s", path, frag, resp.StatusCode, body)
	}
	if resp.Header.Get("Content-Encoding") != "gzip" {
		b.Fatalf("%s: not gzipped", path)
	}
	return el, body
}

// csv downloads a CSV route as token's user and returns its data rows (the
// header not counted) and the time taken.
func (a *benchApp) csv(b *testing.B, token, path string) (int, time.Duration) {
	b.Helper()
	req := httptest.NewRequest("GET", "http://"+a.host+path, nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: token})
	t := time.Now()
	resp, err := a.app.Test(req, -1)
	if err != nil {
		b.Fatal(err)
	}
	n, err := countLines(resp.Body)
	resp.Body.Close()
	el := time.Since(t)
	if err != nil || resp.StatusCode != fiber.StatusOK {
		b.Fatalf("%s: %d %v", path, resp.StatusCode, err)
	}
	return n - 1, el
}

// benchSession finds or makes a user of the org with a role (and panels)
// and returns a session token for it.
func benchSession(b *testing.B, db *models.DB, org *models.Org, email, role string, panels ...int64) string {
	b.Helper()
	ctx := context.Background()
	u, err := db.UserByEmail(ctx, email)
	if err != nil || u == nil {
		if u, err = db.CreateUser(ctx, models.NewUser{Email: email, FullName: "Bench " + role}); err != nil {
			b.Fatal(err)
		}
	}
	if err := db.SetMembership(ctx, org.ID, u.ID, role); err != nil {
		b.Fatal(err)
	}
	if err := db.SetUserPanels(ctx, org.ID, u.ID, panels); err != nil {
		b.Fatal(err)
	}
	// A passkey session (administrators of orgs with the passkey policy on have one).
	token, err := db.NewSession(ctx, &models.Session{UserID: u.ID, Method: models.AuthPasskey, Host: org.Subdomain + "." + testDomain, OrgID: org.ID})
	if err != nil {
		b.Fatal(err)
	}
	return token
}

func countLines(r io.Reader) (int, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	buf := make([]byte, 64<<10)
	n := 0
	for {
		k, err := br.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

func msf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
