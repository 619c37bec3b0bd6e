package main

import (
	"bytes"
	"context"
	"database/sql"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"tracpro/jobs"
	"tracpro/models"
	"tracpro/rapidpro/fake"
)

func httpBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return b.String()
}

// TestServeStopsCleanlyOnSIGTERM runs `tracpro serve` as a child process
// whose scheduler is pulling a large org, sends SIGTERM while pulls write,
// and checks that it exits 0 within 10 s with every pull recorded and the
// database intact.
func TestServeStopsCleanlyOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs tracpro as a child process")
	}
	bin, _ := buildBinaries(t, false)
	sim, err := startSimulator("127.0.0.1:0", fake.GenConfig{Seed: 3, Contacts: 3000, Weeks: 6, Timezone: "Africa/Kigali"},
		fake.Config{PageSize: 100, Rates: map[string]int{"v2": -1, "v2.contacts": -1, "v2.messages": -1, "v2.runs": -1, "v2.broadcasts": -1}})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.close()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "serve.db")
	db, err := models.OpenMigrated(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	org, err := db.CreateOrg(ctx, models.NewOrg{Name: "Big", Subdomain: "big", RapidProURL: sim.url, Token: sim.server.Token(),
		Timezone: "Africa/Kigali", Languages: []string{"en"}, Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	syncer := jobs.NewSyncer(db, jobs.Config{ScopeLimits: map[string]int{}})
	if err := trackOrg(ctx, syncer, org, sim.info.Panels, sim.info.Cohorts, sim.info.Polls, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	addr, maddr := freeAddr(t), freeAddr(t)
	cmd := exec.Command(bin, "serve", "-db", path, "-addr", addr, "-metrics-addr", maddr, "-api-rate", "0", "-log-format", "json")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = syncWriter(&logs), syncWriter(&logs)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer cmd.Process.Kill()

	ro, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	// Wait until the server answers and the contacts or runs pull is writing.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var running int
		ro.QueryRow(`SELECT count(*) FROM sync_runs WHERE status = 'running' AND resource IN ('contacts', 'runs')`).Scan(&running)
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
		}
		if err == nil && resp.StatusCode == 200 && running > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pull running 30 s after start:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Metrics are served on their own address, not on the public one.
	waitMetrics := time.Now().Add(20 * time.Second)
	for {
		body := httpBody(t, "http://"+maddr+"/metrics")
		if strings.Contains(body, `tracpro_http_requests_total{method="GET",route="/readyz",status="2xx"}`) && strings.Contains(body, "tracpro_pulls_total{") {
			break
		}
		if time.Now().After(waitMetrics) {
			t.Fatalf("metrics address lacks the requests and pulls:\n%s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if resp, err := http.Get("http://" + addr + "/metrics"); err != nil || resp.StatusCode == 200 {
		t.Fatalf("the public address serves /metrics: %v %v", resp, err)
	}
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exited with %v:\n%s", err, logs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("serve still running 10 s after SIGTERM:\n%s", logs.String())
	}
	took := time.Since(start)
	t.Logf("serve stopped %s after SIGTERM", took.Round(time.Millisecond))
	if !strings.Contains(logs.String(), `"msg":"stopped"`) {
		t.Fatalf("no clean stop logged:\n%s", logs.String())
	}
	// The database is intact, every pull recorded its outcome, and what the
	// interrupted pulls committed is there.
	var ok string
	if err := ro.QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check = %q %v", ok, err)
	}
	var running, finished, contacts int
	ro.QueryRow(`SELECT count(*) FROM sync_runs WHERE status = 'running'`).Scan(&running)
	ro.QueryRow(`SELECT count(*) FROM sync_runs WHERE status <> 'running'`).Scan(&finished)
	ro.QueryRow(`SELECT count(*) FROM contacts`).Scan(&contacts)
	if running != 0 || finished == 0 {
		t.Fatalf("sync_runs after SIGTERM: %d still running, %d finished", running, finished)
	}
	t.Logf("%d pulls recorded, %d contacts committed", finished, contacts)
	// The port is free again (the server stopped accepting).
	if _, err := http.Get("http://" + addr + "/livez"); err == nil {
		t.Fatal("still accepting after exit")
	}
}
