package handlers

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"testing"
	"time"

	"tracpro/models"
)

// BenchmarkMessagesPages measures issue #5's pages on the generated
// benchmark org (100,000 contacts, 50 poll runs, 1,000,000 responses):
// participation across polls (first and a far page, a cohort filter), the
// inbox (30,000 messages of 10,000 contacts added), the send confirmation (recipient counts of a poll run), for an
// administrator on "All panels" and a supervisor of one province — p50/p95
// of 30 requests each, the gzip bytes — and the grid's CSV rows/s. Run it with
//
//	TRACPRO_BENCH_DASHBOARD=1 go test -run '^$' -bench BenchmarkMessagesPages -benchtime 1x -timeout 30m ./handlers/
func BenchmarkMessagesPages(b *testing.B) {
	db, bo := openBenchOrg(b)
	ctx := context.Background()
	org := bo.Org
	a := newBenchApp(b, db, bo)
	var run int64
	if err := db.QueryRowContext(ctx, `SELECT id FROM pollruns WHERE org_id = ? AND pollrun_type = 'u' ORDER BY conducted_on DESC LIMIT 1`, org.ID).Scan(&run); err != nil {
		b.Fatal(err)
	}
	cohort := strconv.FormatInt(bo.Cohorts[0], 10)
	// The generated org has no inbox: 3 incoming messages for every 10th contact (30,000, over a week).
	var inbox int
	db.QueryRowContext(ctx, `SELECT count(*) FROM inbox_messages WHERE org_id = ?`, org.ID).Scan(&inbox)
	if inbox == 0 {
		now := models.NowMs()
		if _, err := db.ExecContext(ctx, `INSERT INTO inbox_messages (org_id, rapidpro_message_id, contact_id, text, created_on, direction)
			SELECT c.org_id, 'bench-' || c.id || '-' || k.n, c.id, 'Message ' || k.n || ' from contact ' || c.id, ? - (c.id * 7919 + k.n * 86400000) % 604800000, 'I'
			FROM contacts c, (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3) k WHERE c.org_id = ? AND c.id % 10 = 0`, now, org.ID); err != nil {
			b.Fatal(err)
		}
	}
	pages := []struct{ name, path string }{
		{"participation across polls, page 1", "/participation/"},
		{"participation across polls, page 40", "/participation/?page=40"},
		{"participation across polls, cohort", "/participation/?cohort=" + cohort},
		{"inbox", "/inboxmessage/"},
		{"send confirmation (counts)", "/message/send/?pollrun=" + strconv.FormatInt(run, 10) + "&recipients=N&text=Hello"},
	}
	const iters = 30
	fmt.Printf("\n%-38s %-10s %-6s %9s %9s %9s\n", "page", "persona", "kind", "p50 ms", "p95 ms", "gzip B")
	for _, pg := range pages {
		for _, who := range a.personas() {
			for _, frag := range []bool{false, true} {
				a.get(b, who.token, pg.path, frag)
				var ds []time.Duration
				var size int
				for i := 0; i < iters; i++ {
					d, body := a.get(b, who.token, pg.path, frag)
					ds, size = append(ds, d), len(body)
				}
				sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
				kind := "page"
				if frag {
					kind = "swap"
				}
				fmt.Printf("%-38s %-10s %-6s %9.2f %9.2f %9d\n", pg.name, who.name, kind, msf(ds[len(ds)/2]), msf(ds[len(ds)*95/100]), size)
			}
		}
	}
	for _, who := range a.personas() {
		n, el := a.csv(b, who.token, "/participation/?_format=csv")
		fmt.Printf("participation CSV (%s): %d rows in %s = %.0f rows/s\n", who.name, n, el.Round(time.Millisecond), float64(n)/el.Seconds())
	}
}
