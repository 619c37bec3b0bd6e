package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"tracpro/jobs"
	"tracpro/models"
	"tracpro/rapidpro/fake"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCLIBadInputExitsTwoWithOneLine(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.db")
	cases := [][]string{
		{"nosuchcommand"},
		{"migrate", "--db", db, "--bogus"},
		{"migrate", "--db", db, "--log-format", "xml"},
		{"migrate", "--db", db, "--env", "staging"},
		{"migrate", "--db", db, "--api-rate", "-1"},
		{"org"},
		{"org", "create", "--db", db, "--name", "X", "--subdomain", "Bad Sub", "--rapidpro-url", "http://x", "--token", "t", "--check=false"},
		{"org", "create", "--db", db, "--name", "X", "--subdomain", "x", "--rapidpro-url", "ftp://x", "--token", "t", "--check=false"},
		{"org", "create", "--db", db, "--name", "X", "--subdomain", "x", "--rapidpro-url", "http://x", "--token", "t", "--timezone", "Mars/Olympus", "--check=false"},
		{"org", "track", "--db", db, "--org", "x"},
		{"sync", "--db", db},
		{"sync", "--db", db, "--org", "nosuch"},
		{"sync", "--db", db, "--org", "x", "--only", "runs,bogus"},
		{"fetchruns", "--db", db, "x"},
		{"fetchruns", "--db", db},
		{"fetchruns", "x", "--db", db, "--days", "-1"},
		{"fake-rapidpro", "--profile", "v3"},
		{"serve", "--db", db, "--trusted-proxies", "10.0.0.0/33"},
		{"demo", "--trusted-proxies", "127.0.0.1,proxy.internal"},
	}
	for _, args := range cases {
		code, _, stderr := runCLI(t, args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", args, code, stderr)
		}
		if lines := strings.Count(strings.TrimSpace(stderr), "\n"); lines != 0 || !strings.HasPrefix(stderr, "tracpro: ") {
			t.Errorf("%v: stderr is not one line: %q", args, stderr)
		}
	}
}

// TestCLIHelpListsCommands: "tracpro -h" (and --help) lists the commands as
// "tracpro help" does, instead of being read as serve's flags; "serve -h"
// still asks serve for its flags.
func TestCLIHelpListsCommands(t *testing.T) {
	_, want, _ := runCLI(t, "help")
	if !strings.Contains(want, "commands:") || !strings.Contains(want, "healthcheck") {
		t.Fatalf("tracpro help prints %q", want)
	}
	for _, arg := range []string{"-h", "--help", "-help"} {
		code, out, errb := runCLI(t, arg)
		if code != 0 || out != want || errb != "" {
			t.Errorf("tracpro %s: exit %d, stdout %q, stderr %q; want exit 0 and the command list", arg, code, out, errb)
		}
	}
	// serve's flags go to the process's standard output (flag's own usage).
	if code, out, errb := runCLI(t, "serve", "-h"); code != 0 || strings.Contains(out, "commands:") || errb != "" {
		t.Errorf("tracpro serve -h: exit %d, stdout %q, stderr %q; want serve's flags", code, out, errb)
	}
}

// TestCLIOrgTrackSyncFetchruns drives the scriptable commands end to end
// against the simulator: create (token checked, time zone read from RapidPro),
// track by name, sync with its table, and a fetchruns backfill that reads a
// run archive.
func TestCLIOrgTrackSyncFetchruns(t *testing.T) {
	store := fake.NewStore(nil)
	info := fake.Generate(store, fake.GenConfig{Seed: 2, Contacts: 40, Weeks: 3, Timezone: "Asia/Kabul"})
	sim := fake.NewServer(store, fake.Config{PageSize: 25})
	hs := httptest.NewServer(sim)
	defer hs.Close()
	db := filepath.Join(t.TempDir(), "t.db")

	code, out, errs := runCLI(t, "org", "create", "--db", db, "--name", "Kabul schools", "--subdomain", "kabul", "--rapidpro-url", hs.URL, "--token", "wrong")
	if code != 1 || !strings.Contains(errs, "token") {
		t.Fatalf("a bad token must be refused: %d %q %q", code, out, errs)
	}
	code, out, errs = runCLI(t, "org", "create", "--db", db, "--name", "Kabul schools", "--subdomain", "kabul", "--rapidpro-url", hs.URL, "--token", sim.Token())
	if code != 0 || !strings.Contains(out, "timezone Asia/Kabul") {
		t.Fatalf("org create: %d %q %q", code, out, errs)
	}
	if code, _, errs = runCLI(t, "org", "create", "--db", db, "--name", "Again", "--subdomain", "kabul", "--rapidpro-url", hs.URL, "--token", sim.Token()); code != 2 {
		t.Fatalf("duplicate subdomain: exit %d %q", code, errs)
	}
	code, out, _ = runCLI(t, "org", "list", "--db", db)
	if code != 0 || !strings.Contains(out, "kabul") || !strings.Contains(out, "Asia/Kabul") {
		t.Fatalf("org list: %q", out)
	}
	if code, _, errs = runCLI(t, "org", "track", "--db", db, "--org", "kabul", "--panels", "Atlantis"); code != 2 || !strings.Contains(errs, "Atlantis") {
		t.Fatalf("unknown panel: %d %q", code, errs)
	}
	code, out, errs = runCLI(t, "org", "track", "--db", db, "--org", "kabul", "--panels", strings.Join(info.Panels, ","),
		"--cohorts", strings.Join(info.Cohorts, ","), "--polls", strings.Join(info.Polls, ","))
	if code != 0 || !strings.Contains(out, "panels: "+strconv.Itoa(len(info.Panels))+" tracked") || !strings.Contains(out, "polls: 5 tracked (5 new)") {
		t.Fatalf("org track: %d %q %q", code, out, errs)
	}
	code, out, errs = runCLI(t, "sync", "--db", db, "--org", "kabul", "--log-level", "warn")
	if code != 0 {
		t.Fatalf("sync: %d %q %q", code, out, errs)
	}
	runsLine := regexp.MustCompile(`(?m)^runs\s+(\d+)\s+(\d+)\s+\d+\s+\d+\s+(\d+)\s+ok$`).FindStringSubmatch(out)
	if runsLine == nil {
		t.Fatalf("no runs line in:\n%s", out)
	}
	if created, _ := strconv.Atoi(runsLine[2]); created < 100 {
		t.Fatalf("runs created = %d:\n%s", created, out)
	}
	if reqs, _ := strconv.Atoi(runsLine[3]); reqs < 2 {
		t.Fatalf("runs requests = %d with 25-run pages:\n%s", reqs, out)
	}
	// Why records were skipped: the simulator has contacts without a usable
	// URN or blocked, and runs of flows that are not polls.
	if !regexp.MustCompile(`(?m)^contacts skipped: 1 contact without a tel, twitter or twitterid URN, 3 contact blocked, stopped or archived$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^runs skipped: 3 flow not tracked$`).MatchString(out) {
		t.Fatalf("sync does not say why it skipped records:\n%s", out)
	}

	// Archive the older runs: they leave the live API; fetchruns reads them back.
	n := sim.ArchiveRuns(time.Now().Add(-7*24*time.Hour), "daily")
	if n == 0 {
		t.Fatal("nothing archived")
	}
	code, out, errs = runCLI(t, "fetchruns", "kabul", "--db", db, "--days", "30", "--log-level", "warn")
	m := regexp.MustCompile(`fetched (\d+) runs \((\d+) archives\)`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("fetchruns: %d %q %q", code, out, errs)
	}
	if a, _ := strconv.Atoi(m[2]); a == 0 {
		t.Fatalf("fetchruns read no archive: %q", out)
	}

	sim.RevokeToken(sim.Token())
	code, out, errs = runCLI(t, "sync", "--db", db, "--org", "kabul", "--only", "runs", "--log-level", "error")
	if code != 1 || !strings.Contains(out, "error:") || !strings.Contains(errs, "runs pull failed") {
		t.Fatalf("sync with a revoked token: %d %q %q", code, out, errs)
	}
}

// TestServeShutsDownCleanly: SIGTERM (ctx cancelled) stops accepting, stops the
// scheduler and returns well within the 10 s Litestream waits.
func TestServeShutsDownCleanly(t *testing.T) {
	c := Config{DB: filepath.Join(t.TempDir(), "s.db"), Addr: "127.0.0.1:0", Env: "development", LogLevel: "error"}
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	db, err := c.openDB(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	log := c.logger(io.Discard)
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- serveApp(ctx, &c, db, jobs.NewSyncer(db, c.syncConfig(log)), log, func(a string) { addr <- a })
	}()
	base := "http://" + <-addr
	resp, err := http.Get(base + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", err, resp)
	}
	resp.Body.Close()
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop within 10 s")
	}
	if d := time.Since(start); d > 9*time.Second {
		t.Fatalf("shutdown took %v", d)
	}
	if _, err := http.Get(base + "/livez"); err == nil {
		t.Fatal("still accepting after shutdown")
	}
}

func TestCLIUserCreateAndEnrollLink(t *testing.T) {
	db := filepath.Join(t.TempDir(), "u.db")
	if code, _, errs := runCLI(t, "org", "create", "--db", db, "--name", "Org", "--subdomain", "org", "--rapidpro-url", "http://127.0.0.1:1", "--token", "t", "--check=false"); code != 0 {
		t.Fatalf("org create: %s", errs)
	}
	code, out, errs := runCLI(t, "user", "create", "--db", db, "--email", "Amina@Example.org", "--name", "Amina", "--org", "org", "--role", "admin")
	if code != 0 || !strings.Contains(out, "administrator of org") {
		t.Fatalf("user create: %d %q %q", code, out, errs)
	}
	for _, args := range [][]string{
		{"user", "create", "--db", db, "--email", "amina@example.org", "--name", "Again"}, // same email, other case
		{"user", "create", "--db", db, "--email", "not-an-email", "--name", "X"},
		{"user", "create", "--db", db, "--email", "x@example.org", "--name", "X", "--role", "admin"},
		{"user", "create", "--db", db, "--email", "x@example.org", "--name", "X", "--org", "org", "--role", "boss"},
		{"user", "enroll-link", "--db", db},
		{"user", "enroll-link", "--db", db, "--email", "nobody@example.org"},
	} {
		if code, _, errs := runCLI(t, args...); code != 2 {
			t.Errorf("%v: exit %d (%q), want 2", args, code, errs)
		}
	}
	code, out, _ = runCLI(t, "user", "enroll-link", "--db", db, "--email", "amina@example.org", "--base-url", "https://tracpro.example")
	m := regexp.MustCompile(`https://tracpro\.example/passkeys/enrol/([A-Za-z0-9_-]{40,})`).FindStringSubmatch(out)
	if code != 0 || m == nil || !strings.Contains(out, "single use, valid for 24h0m0s") {
		t.Fatalf("enroll-link: %d %q", code, out)
	}
	d, err := models.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	u, err := d.UseEnrolLink(context.Background(), m[1])
	if err != nil || u.Email != "Amina@Example.org" {
		t.Fatalf("link does not admit the user: %v %+v", err, u)
	}
	if _, err := d.UseEnrolLink(context.Background(), m[1]); err == nil {
		t.Fatal("an enrolment link worked twice")
	}
}

// TestTrustedProxiesFromTheEnvironment: a bad TRACPRO_TRUSTED_PROXIES stops
// `serve` with exit code 2 and a message naming the entry.
func TestTrustedProxiesFromTheEnvironment(t *testing.T) {
	t.Setenv("TRACPRO_TRUSTED_PROXIES", "127.0.0.1, caddy.internal")
	// An address nothing can listen on: without the check serve stops there
	// (with another message) instead of serving.
	code, _, stderr := runCLI(t, "serve", "--db", filepath.Join(t.TempDir(), "t.db"), "--addr", "256.0.0.1:0")
	if code != 2 || !strings.Contains(stderr, `TRACPRO_TRUSTED_PROXIES): "caddy.internal" is not an IP address or a CIDR range`) {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}
