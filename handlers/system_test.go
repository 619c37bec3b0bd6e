package handlers

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"tracpro/metrics"
	"tracpro/models"
)

// systemWorld is a site with one org, outbox items in three states and a
// runs pull that succeeded, then failed on the token.
func systemWorld(t *testing.T) (*testEnv, *client, time.Time, time.Time) {
	e := newTestEnv(t)
	org := e.createOrg("sys")
	super := e.createSuperuser("root@example.org")
	now := time.Now()
	for _, st := range []string{"pending", "pending", "failed", "sent", "sent", "sent"} {
		if _, err := e.DB.ExecContext(e.Ctx, `INSERT INTO outbox (org_id, kind, payload, state, next_attempt_at, created_at, updated_at) VALUES (?, 'flow_start', '{}', ?, 0, 0, 0)`, org.ID, st); err != nil {
			t.Fatal(err)
		}
	}
	ok := now.Add(-2 * time.Hour)
	bad := now.Add(-time.Minute)
	for _, r := range []struct {
		at     time.Time
		status string
		kind   string
	}{{ok, "ok", ""}, {bad, "error", "token"}} {
		if _, err := e.DB.ExecContext(e.Ctx, `INSERT INTO sync_runs (org_id, resource, started_at, finished_at, status, error_kind) VALUES (?, 'runs', ?, ?, ?, ?)`,
			org.ID, r.at.UnixMilli()-500, r.at.UnixMilli(), r.status, r.kind); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.DB.AddAPIUsage(e.Ctx, org.ID, now.UTC().Truncate(time.Hour).UnixMilli(), "v2.runs", 37); err != nil {
		t.Fatal(err)
	}
	return e, e.newClient(nil, super), ok, bad
}

func TestSystemPageShowsHealthAndWarnsWhenNotReplicated(t *testing.T) {
	_, c, ok, bad := systemWorld(t)
	r := c.get("/manage/system/")
	if r.Code != 200 || !strings.Contains(r.Body, "<html") {
		t.Fatalf("system page = %d", r.Code)
	}
	p := &Page{rc: &reqCtx{}} // DateTime: UTC without an org
	for _, want := range []string{
		"This database is not replicated: Litestream&#39;s metrics address is not configured",
		`<td>Pending</td><td>2</td>`, `<td>Failed</td><td>1</td>`, `<td>Sent</td><td>3</td>`, `<td>Unknown</td><td>0</td>`,
		`<td>Org sys</td><td>runs</td><td>` + p.DateTime(ok.UnixMilli()) + `</td>`,
		p.DateTime(bad.UnixMilli()) + ` (token)`,
		`<td>v2.runs</td><td>37</td>`,
		fmt.Sprintf(`<dd id="schema">%d</dd>`, models.LatestVersion()),
		`<span class="bad">Not replicated</span>`,
	} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("system page lacks %q", want)
		}
	}
	// The htmx fragment of the same URL.
	f := c.get("/manage/system/", "HX-Request", "true")
	if f.Code != 200 || strings.Contains(f.Body, "<html") || !strings.Contains(f.Body, `id="system"`) {
		t.Fatalf("fragment = %d %.200s", f.Code, f.Body)
	}
}

// litestreamServer serves Litestream-style metrics for the database at path.
func litestreamServer(t *testing.T, path string, syncErrors int) string {
	body := fmt.Sprintf(`# HELP litestream_txid The current transaction ID
# TYPE litestream_txid gauge
litestream_txid{db=%[1]q} 42
# TYPE litestream_sync_count counter
litestream_sync_count{db=%[1]q} 17
# TYPE litestream_sync_error_count counter
litestream_sync_error_count{db=%[1]q} %[2]d
# TYPE litestream_replica_operation_total counter
litestream_replica_operation_total{operation="PUT",replica_type="s3"} 9
litestream_replica_operation_total{operation="GET",replica_type="s3"} 4
`, path, syncErrors)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) }))
	t.Cleanup(srv.Close)
	return srv.URL + "/metrics"
}

func TestSystemPageReadsLitestreamMetrics(t *testing.T) {
	e, c, _, _ := systemWorld(t)
	e.H.LitestreamMetrics = litestreamServer(t, e.DB.Path, 0)
	r := c.get("/manage/system/")
	if r.Code != 200 || strings.Contains(r.Body, `class="banner warn"`) {
		t.Fatalf("replicated: %d, warning shown: %v", r.Code, strings.Contains(r.Body, `class="banner warn"`))
	}
	for _, want := range []string{"Replicated by Litestream", "<dd>42</dd>", "<dd>17</dd>", "<dd>9</dd>"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("replicated page lacks %q", want)
		}
	}

	e.H.LitestreamMetrics = litestreamServer(t, e.DB.Path, 3)
	if r := c.get("/manage/system/"); !strings.Contains(r.Body, "Litestream reported 3 failed operations since it started") {
		t.Error("sync errors are not reported")
	}
	e.H.LitestreamMetrics = litestreamServer(t, "/elsewhere/other.db", 0)
	if r := c.get("/manage/system/"); !strings.Contains(r.Body, "Litestream runs but does not replicate this database.") {
		t.Error("another database's metrics are taken for this one")
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	dead := srv.URL + "/metrics"
	srv.Close()
	e.H.LitestreamMetrics = dead
	if r := c.get("/manage/system/"); r.Code != 200 || !strings.Contains(r.Body, "Litestream does not answer at "+dead) {
		t.Errorf("unreachable Litestream: %d", r.Code)
	}
}

func TestMetricsUseRoutePatternsAndDatabaseGauges(t *testing.T) {
	e, c, _, _ := systemWorld(t)
	e.H.Metrics = metrics.New(e.DB)
	// A second org's requests this hour add up; last hour's do not count.
	other := e.createOrg("other")
	hour := time.Now().UTC().Truncate(time.Hour)
	if err := e.DB.AddAPIUsage(e.Ctx, other.ID, hour.UnixMilli(), "v2.runs", 5); err != nil {
		t.Fatal(err)
	}
	if err := e.DB.AddAPIUsage(e.Ctx, other.ID, hour.Add(-time.Hour).UnixMilli(), "v2.runs", 1000); err != nil {
		t.Fatal(err)
	}
	c.get("/manage/system/")
	c.get("/manage/system/")
	c.get("/pollrun/read/98765/")   // a parameter in the path: counted under the pattern
	c.get("/no/such/page/8b1f4c9e") // no route
	e.H.Metrics.ObservePull("runs", "error", "unavailable", 1500*time.Millisecond)
	rec := httptest.NewRecorder()
	e.H.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	out := rec.Body.String()
	for _, want := range []string{
		`tracpro_http_requests_total{method="GET",route="/manage/system/",status="2xx"} 2`,
		`tracpro_http_requests_total{method="GET",route="/pollrun/read/:id/",status=`,
		`tracpro_http_requests_total{method="GET",route="unmatched",status="4xx"} 1`,
		`tracpro_outbox_items{state="pending"} 2`,
		`tracpro_outbox_items{state="failed"} 1`,
		`tracpro_rapidpro_api_requests_this_hour{scope="v2.runs"} 42`,
		`tracpro_pull_failing_orgs{resource="runs"} 1`,
		`tracpro_pulls_total{error_kind="unavailable",resource="runs",status="error"} 1`,
		`tracpro_pull_duration_seconds_count{resource="runs"} 1`,
		`tracpro_pull_last_success_timestamp_seconds{resource="runs"}`,
		fmt.Sprintf("tracpro_schema_version %d", models.LatestVersion()),
		"tracpro_db_scrape_ok 1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	for _, raw := range []string{"98765", "8b1f4c9e"} {
		if strings.Contains(out, raw) {
			t.Errorf("a raw path (%s) became a label", raw)
		}
	}
}
