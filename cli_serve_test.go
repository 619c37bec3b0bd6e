package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
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
	path, db, _ := orgDB(t, sim, "Big")
	db.Close()
	addr, maddr := freeAddr(t), freeAddr(t)
	srv := startServe(t, bin, path, "-addr", addr, "-metrics-addr", maddr)
	ro := srv.ro
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
			t.Fatalf("no pull running 30 s after start:\n%s", srv.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Metrics are served on their own address, not on the public one.
	// (A pull finishes only after the one holding the org lock: up to a minute
	// for the 3,000 contacts on a loaded machine.)
	waitMetrics := time.Now().Add(60 * time.Second)
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
	took := srv.sigterm()
	t.Logf("serve stopped %s after SIGTERM", took.Round(time.Millisecond))
	if !strings.Contains(srv.log(), `"msg":"stopped"`) {
		t.Fatalf("no clean stop logged:\n%s", srv.log())
	}
	// The database is intact, every pull recorded its outcome, and what the
	// interrupted pulls committed is there.
	var ok string
	if err := ro.QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check = %q %v", ok, err)
	}
	var contacts int
	running, finished := srv.pulls()
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

// TestServeNoJobs: `tracpro serve -no-jobs` (the restore drill's way to look
// at a restored copy) serves pages but pulls nothing from RapidPro and sends
// nothing; the same database served with jobs starts pulling at once. The
// node check runs in both: a copy without its node file has its pending
// pushes marked uncertain at the first serve, pushes queued afterwards stay
// certain, and commands other than serve never write the node file.
func TestServeNoJobs(t *testing.T) {
	sim, err := startSimulator("127.0.0.1:0", fake.GenConfig{Seed: 4, Contacts: 50, Weeks: 2, Timezone: "Africa/Kigali"}, fake.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.close()
	ctx := context.Background()
	path, db, _ := orgDB(t, sim, "Restored")
	pulls := func() (n int) {
		db.QueryRowContext(ctx, `SELECT count(*) FROM sync_runs`).Scan(&n)
		return n
	}
	// serveFor serves for d, or until a pull starts when stopEarly.
	serveFor := func(noJobs bool, d time.Duration, stopEarly bool) int {
		before := pulls()
		c := Config{DB: path, Addr: "127.0.0.1:0", Env: "development", LogLevel: "error", NoJobs: noJobs}
		if err := c.validate(); err != nil {
			t.Fatal(err)
		}
		sctx, cancel := context.WithCancel(ctx)
		addr := make(chan string, 1)
		done := make(chan error, 1)
		go func() {
			done <- serveApp(sctx, &c, db, jobs.NewSyncer(db, c.syncConfig(c.logger(io.Discard))), c.logger(io.Discard), func(a string) { addr <- a })
		}()
		if resp, err := http.Get("http://" + <-addr + "/readyz"); err != nil || resp.StatusCode != 200 {
			t.Fatalf("readyz: %v %v", resp, err)
		}
		for end := time.Now().Add(d); time.Now().Before(end) && !(stopEarly && pulls() > before); {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		return pulls() - before
	}
	// A push queued in the copy before anyone served it.
	admin, err := db.ResolveScope(ctx, 1, 0, true, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	var region int64
	db.QueryRowContext(ctx, `SELECT id FROM regions ORDER BY id LIMIT 1`).Scan(&region)
	queue := func(name, phone string) int64 {
		id, err := db.CreateContact(ctx, &models.Org{ID: 1, Timezone: "Africa/Kigali"}, admin, models.ContactInput{Name: name, Scheme: "tel", Path: phone, RegionID: region, Language: "eng"})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	uncertain := func(contact int64) (since int64) {
		db.QueryRowContext(ctx, `SELECT verify_since FROM outbox WHERE ordering_key = ?`, models.ContactOrdering(contact)).Scan(&since)
		return since
	}
	before := queue("Copied", "+250 788 620 001")
	for _, args := range [][]string{{"migrate"}, {"org", "list"}, {"recount"}} {
		if code := run(append(args, "-db", path), io.Discard, io.Discard); code != 0 {
			t.Fatalf("tracpro %v: exit %d", args, code)
		}
	}
	if _, err := os.Stat(models.NodeFile(path)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a command other than serve touched the node file: %v", err)
	}
	sim.server.ResetLog()
	if n := serveFor(true, 1500*time.Millisecond, false); n != 0 {
		t.Fatalf("-no-jobs: %d pulls started", n)
	}
	if _, err := os.Stat(models.NodeFile(path)); err != nil || uncertain(before) == 0 {
		t.Fatalf("-no-jobs on a copy: node file %v, push uncertain since %d", err, uncertain(before))
	}
	after := queue("Queued while looking", "+250 788 620 002")
	if n := serveFor(true, 300*time.Millisecond, false); n != 0 || uncertain(after) != 0 {
		t.Fatalf("second -no-jobs: %d pulls, the new push uncertain since %d", n, uncertain(after))
	}
	for _, r := range sim.server.Requests() {
		if r.Method != "GET" {
			t.Fatalf("-no-jobs sent %s %s", r.Method, r.Path)
		}
	}
	if n := serveFor(false, 15*time.Second, true); n == 0 {
		t.Fatal("with jobs: no pull started (the test could not tell -no-jobs apart)")
	}
}

// TestServeStopsWithSlowClientsAndAHungPull: SIGTERM reaches `tracpro serve`
// while a client holds a half-sent request (a slow phone on a bad line), a
// second keeps an idle keep-alive connection (a browser between htmx polls),
// and every pull is stuck in a RapidPro request that never answers. It exits
// 0 well within the 10 s Docker gives before SIGKILL, leaving Litestream (its
// parent) time for the final sync, with the stuck pulls recorded as finished.
func TestServeStopsWithSlowClientsAndAHungPull(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs tracpro as a child process")
	}
	bin, _ := buildBinaries(t, false)
	sim, err := startSimulator("127.0.0.1:0", fake.GenConfig{Seed: 5, Contacts: 40, Weeks: 2, Timezone: "Africa/Kigali"}, fake.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.close()
	path, db, _ := orgDB(t, sim, "Hung")
	db.Close()
	// From now on RapidPro accepts every request and never answers.
	sim.server.Script(fake.Fault{Kind: fake.FaultHang, Times: 1000})
	addr := freeAddr(t)
	srv := startServe(t, bin, path, "-addr", addr)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if running, _ := srv.pulls(); running > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pull hung 20 s after start:\n%s", srv.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The half-sent request and the idle keep-alive connection.
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fmt.Fprint(slow, "GET /livez HTTP/1.1\r\nHost: hung\r\nHX-Request: true\r\n")
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	fmt.Fprint(idle, "GET /livez HTTP/1.1\r\nHost: hung\r\n\r\n")
	if line, err := bufio.NewReader(idle).ReadString('\n'); err != nil || !strings.Contains(line, "200") {
		t.Fatalf("keep-alive request: %q %v", line, err)
	}
	time.Sleep(200 * time.Millisecond)

	took := srv.sigterm()
	t.Logf("serve stopped %s after SIGTERM with a half-sent request, an idle connection and hung pulls", took.Round(time.Millisecond))
	if took > httpDrain+2500*time.Millisecond {
		t.Fatalf("stopped after %s, want about the %s drain", took, httpDrain)
	}
	if !strings.Contains(srv.log(), "closed connections still open after the drain") {
		t.Fatalf("the lingering connections were not closed:\n%s", srv.log())
	}
	if running, finished := srv.pulls(); running != 0 || finished == 0 {
		t.Fatalf("hung pulls after SIGTERM: %d still running, %d finished\n%s", running, finished, srv.log())
	}
}

// orgDB creates a database at a new path with one org of sim, tracking its
// panels, cohorts and polls, and returns it open.
func orgDB(t *testing.T, sim *simulator, name string) (string, *models.DB, *models.Org) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), name+".db")
	db, err := models.OpenMigrated(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	org, err := db.CreateOrg(ctx, models.NewOrg{Name: name, Subdomain: strings.ToLower(name), RapidProURL: sim.url, Token: sim.server.Token(),
		Timezone: "Africa/Kigali", Languages: []string{"en"}, Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if err := trackOrg(ctx, jobs.NewSyncer(db, jobs.Config{ScopeLimits: map[string]int{}}), org, sim.info.Panels, sim.info.Cohorts, sim.info.Polls, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	return path, db, org
}

// serveChild is `tracpro serve` running as a child process on a database,
// with a read-only connection to that database.
type serveChild struct {
	t    *testing.T
	cmd  *exec.Cmd
	logs *bytes.Buffer
	done chan error
	ro   *sql.DB
}

func startServe(t *testing.T, bin, path string, args ...string) *serveChild {
	t.Helper()
	s := &serveChild{t: t, logs: &bytes.Buffer{}, done: make(chan error, 1)}
	s.cmd = exec.Command(bin, append([]string{"serve", "-db", path, "-api-rate", "0", "-log-format", "json"}, args...)...)
	s.cmd.Stdout, s.cmd.Stderr = syncWriter(s.logs), syncWriter(s.logs)
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() { s.cmd.Process.Kill() })
	ro, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ro.Close() })
	s.ro = ro
	return s
}

func (s *serveChild) log() string {
	logMu.Lock()
	defer logMu.Unlock()
	return s.logs.String()
}

// pulls counts the sync runs still running and the finished ones.
func (s *serveChild) pulls() (running, finished int) {
	s.ro.QueryRow(`SELECT count(*) FROM sync_runs WHERE status = 'running'`).Scan(&running)
	s.ro.QueryRow(`SELECT count(*) FROM sync_runs WHERE status <> 'running'`).Scan(&finished)
	return running, finished
}

// sigterm stops the process as Litestream (or Docker) does and returns how
// long it took; it fails unless the exit is clean and within 10 s.
func (s *serveChild) sigterm() time.Duration {
	s.t.Helper()
	start := time.Now()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Fatalf("serve exited with %v:\n%s", err, s.log())
		}
	case <-time.After(10 * time.Second):
		s.t.Fatalf("serve still running 10 s after SIGTERM:\n%s", s.log())
	}
	return time.Since(start)
}

// TestDemoListensOnLocalhost: `tracpro demo` listens on, and prints,
// localhost:8080 by default, and any loopback or unspecified address is
// printed as localhost: browsers refuse passkeys on an IP address.
func TestDemoListensOnLocalhost(t *testing.T) {
	if demoAddr != "localhost:8080" {
		t.Fatalf("demo address %q", demoAddr)
	}
	for addr, want := range map[string]string{
		"localhost:8080":    "http://localhost:8080/",
		"127.0.0.1:8080":    "http://localhost:8080/",
		"0.0.0.0:9000":      "http://localhost:9000/",
		"[::1]:8080":        "http://localhost:8080/",
		":8080":             "http://localhost:8080/",
		"192.0.2.7:8080":    "http://192.0.2.7:8080/",
		"tracpro.test:8080": "http://tracpro.test:8080/",
	} {
		if got := appURL(addr); got != want {
			t.Errorf("appURL(%q) = %q, want %q", addr, got, want)
		}
	}
}
