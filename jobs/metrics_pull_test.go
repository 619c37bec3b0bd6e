package jobs

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"tracpro/metrics"
	"tracpro/rapidpro/fake"
)

// Real pulls feed the pull metrics (the serve wiring: Cfg.OnPull =
// ObservePull), and every pull gauge read from the database agrees with the
// rows the pulls wrote: one histogram observation per pull, the error kind
// sync_runs recorded, the newest success, the API requests recorded this hour.
func TestPullMetricsFromRealPulls(t *testing.T) {
	e := newEnv(t, fake.GenConfig{Seed: 11, Contacts: 60, Weeks: 2, Timezone: "Africa/Kigali"}, fake.Config{}, false)
	ctx := context.Background()
	m := metrics.New(e.db)
	e.syncer.Cfg.OnPull = m.ObservePull
	e.mustPull(ResContacts)
	e.mustPull(ResContacts)
	e.sim.Script(fake.Fault{Kind: fake.FaultStatus, Status: 503, Path: "runs", Times: 100})
	if r := e.syncer.Pull(ctx, e.org, ResRuns); r.Err == nil {
		t.Fatal("the runs pull did not fail on 503s")
	}
	var kind string
	var contactsOK int64
	if err := e.db.QueryRowContext(ctx, `SELECT error_kind FROM sync_runs WHERE resource = 'runs' AND status = 'error'`).Scan(&kind); err != nil || kind == "" {
		t.Fatalf("runs error kind %q %v", kind, err)
	}
	if err := e.db.QueryRowContext(ctx, `SELECT max(finished_at) FROM sync_runs WHERE resource = 'contacts' AND status = 'ok'`).Scan(&contactsOK); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	out := rec.Body.String()
	for _, want := range []string{
		`tracpro_pulls_total{error_kind="",resource="contacts",status="ok"} 2`,
		`tracpro_pull_duration_seconds_count{resource="contacts"} 2`,
		fmt.Sprintf(`tracpro_pulls_total{error_kind=%q,resource="runs",status="error"} 1`, kind),
		`tracpro_pull_duration_seconds_count{resource="runs"} 1`,
		`tracpro_pull_failing_orgs{resource="runs"} 1`,
		`tracpro_pull_failing_orgs{resource="contacts"} 0`,
		fmt.Sprintf(`tracpro_pull_last_success_timestamp_seconds{resource="contacts"} %g`, float64(contactsOK)/1000),
		// runs never succeeded: 0, so that a staleness alert fires.
		`tracpro_pull_last_success_timestamp_seconds{resource="runs"} 0`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// The API requests gauge is the sum of this hour's api_usage rows.
	hour := time.Now().UTC().Truncate(time.Hour).UnixMilli()
	rows, err := e.db.QueryContext(ctx, `SELECT scope, sum(requests) FROM api_usage WHERE hour_start = ? GROUP BY scope`, hour)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var scope string
		var sum int
		rows.Scan(&scope, &sum)
		n++
		if want := fmt.Sprintf(`tracpro_rapidpro_api_requests_this_hour{scope=%q} %d`, scope, sum); !strings.Contains(out, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if got := strings.Count(out, "tracpro_rapidpro_api_requests_this_hour{"); got != n {
		t.Errorf("%d API usage series for %d scopes recorded this hour", got, n)
	}
	t.Logf("%d throttle scopes used this hour", n)
}
