package main

// End-to-end tests of issue #6: the entrypoint script, Litestream and tracpro
// run as child processes against an S3 server living in this test process
// (gofakes3 over net/http on 127.0.0.1, path-style). They run when
// TRACPRO_E2E=1 (CI sets it); the first run builds the Litestream CLI from the
// module pinned in go.mod (about two minutes cold, seconds from the build cache).

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"tracpro/metrics"
	"tracpro/rapidpro/fake"
)

const e2eBucket = "tracpro"

func requireE2E(t testing.TB) {
	t.Helper()
	if os.Getenv("TRACPRO_E2E") != "1" {
		t.Skip("replication end-to-end test: set TRACPRO_E2E=1 (CI does) to run Litestream and tracpro as child processes")
	}
}

// fakeS3 is an S3-compatible server on 127.0.0.1 inside the test process.
type fakeS3 struct {
	URL     string
	backend *s3mem.Backend
	// writesDown makes every write answer 503 (S3 failing: nothing more is
	// replicated) while reads still work.
	writesDown atomic.Bool
}

func startS3(t testing.TB) *fakeS3 {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(e2eBucket); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s3h := gofakes3.New(backend, gofakes3.WithTimeSkewLimit(0)).Server()
	s3 := &fakeS3{URL: "http://" + ln.Addr().String(), backend: backend}
	// gofakes3 does not check credentials; this server accepts only the
	// test's access key, as S3 would (the wrong-credentials case).
	auth := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s3.writesDown.Load() && r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if !strings.Contains(r.Header.Get("Authorization"), "Credential=e2e-key/") {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidAccessKeyId</Code><Message>The AWS Access Key Id you provided does not exist in our records.</Message></Error>`)
			return
		}
		s3h.ServeHTTP(w, r)
	})
	srv := &http.Server{Handler: auth}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s3
}

// objects counts the objects under prefix.
func (s *fakeS3) objects(t testing.TB, prefix string) int {
	t.Helper()
	p := prefix
	list, err := s.backend.ListBucket(e2eBucket, &gofakes3.Prefix{Prefix: p, HasPrefix: true}, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	return len(list.Contents)
}

// node is one machine: a data directory, its environment, and (while it
// runs) the entrypoint process group.
type node struct {
	t        testing.TB
	dir, db  string
	addr     string
	env      []string
	args     []string // passed by the entrypoint to tracpro serve
	cmd      *exec.Cmd
	log      *bytes.Buffer
	done     chan struct{}
	exitCode int
}

// replicaEnv is the environment of the entrypoint, litestream and tracpro.
func replicaEnv(s3url, path, dbPath, syncInterval string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "LITESTREAM_") || strings.HasPrefix(k, "TRACPRO_") {
			continue
		}
		env = append(env, kv)
	}
	cwd, _ := os.Getwd()
	return append(env,
		"AWS_CA_BUNDLE=", // set on these machines; Litestream's S3 client refuses to start with it (DESIGN.md §5)
		"AWS_ACCESS_KEY_ID=e2e-key", "AWS_SECRET_ACCESS_KEY=e2e-secret",
		"TRACPRO_DB="+dbPath, "TRACPRO_ENV=production", "TRACPRO_API_RATE=0",
		"LITESTREAM_CONFIG="+filepath.Join(cwd, "litestream.yml"),
		"LITESTREAM_BIN="+binLitest, "TRACPRO_BIN="+binTracpro,
		"LITESTREAM_BUCKET="+e2eBucket, "LITESTREAM_PATH="+path, "LITESTREAM_ENDPOINT="+s3url,
		"LITESTREAM_REGION=us-east-1", "LITESTREAM_FORCE_PATH_STYLE=true", "LITESTREAM_SYNC_INTERVAL="+syncInterval,
	)
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func newNode(t testing.TB, s3 *fakeS3, path, syncInterval string) *node {
	dir := t.TempDir()
	n := &node{t: t, dir: dir, db: filepath.Join(dir, "tracpro.db"), addr: freeAddr(t)}
	n.env = append(replicaEnv(s3.URL, path, n.db, syncInterval), "TRACPRO_ADDR="+n.addr)
	return n
}

// start runs docker/entrypoint.sh in its own process group.
func (n *node) start() {
	n.t.Helper()
	n.cmd = exec.Command("sh", append([]string{"docker/entrypoint.sh"}, n.args...)...)
	n.cmd.Env = n.env
	n.log = &bytes.Buffer{}
	n.cmd.Stdout, n.cmd.Stderr = syncWriter(n.log), syncWriter(n.log)
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := n.cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	n.done = make(chan struct{})
	go func() {
		n.cmd.Wait()
		n.exitCode = n.cmd.ProcessState.ExitCode()
		close(n.done)
	}()
	n.t.Cleanup(func() {
		syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
		<-n.done
	})
}

var logMu sync.Mutex

type lockedWriter struct{ b *bytes.Buffer }

func (w lockedWriter) Write(p []byte) (int, error) {
	logMu.Lock()
	defer logMu.Unlock()
	return w.b.Write(p)
}

func syncWriter(b *bytes.Buffer) lockedWriter { return lockedWriter{b} }

func (n *node) logs() string {
	logMu.Lock()
	defer logMu.Unlock()
	return n.log.String()
}

// waitReady waits for /readyz to answer 200 (and fails if the process exits).
func (n *node) waitReady() {
	n.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-n.done:
			n.t.Fatalf("entrypoint exited (%d) before serving:\n%s", n.exitCode, n.logs())
		default:
		}
		if resp, err := http.Get("http://" + n.addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	n.t.Fatalf("not ready after 30s:\n%s", n.logs())
}

// kill sends sig to the whole process group (SIGKILL: the machine is lost).
func (n *node) kill(sig syscall.Signal) {
	syscall.Kill(-n.cmd.Process.Pid, sig)
	<-n.done
}

// stop sends SIGTERM to the entrypoint's process (Litestream after the exec),
// as `docker stop` does to PID 1, and returns how long the exit took.
func (n *node) stop() time.Duration {
	n.t.Helper()
	start := time.Now()
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(15 * time.Second):
		n.t.Fatalf("still running 15 s after SIGTERM:\n%s", n.logs())
	}
	return time.Since(start)
}

// tracpro runs a tracpro command against the node's database.
func (n *node) tracpro(stdin string, args ...string) string {
	n.t.Helper()
	cmd := exec.Command(binTracpro, args...)
	cmd.Env = n.env
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		n.t.Fatalf("tracpro %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// restore runs `litestream restore` of the node's replica into out.
func (n *node) restore(out string, extra ...string) (string, error) {
	args := append([]string{"restore", "-config", envValue(n.env, "LITESTREAM_CONFIG"), "-o", out}, extra...)
	cmd := exec.Command(binLitest, append(args, n.db)...)
	cmd.Env = n.env
	b, err := cmd.CombinedOutput()
	return string(b), err
}

func envValue(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

// facts is what a user would check survived: the rows the writes made.
type facts struct {
	Orgs, Users, Contacts, Responses, Pollruns int
	Emails, EditedName                         string
}

func readFacts(t testing.TB, path, contactUUID string) facts {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var f facts
	var ok string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check of %s = %q %v", path, ok, err)
	}
	for q, dst := range map[string]*int{`SELECT count(*) FROM orgs`: &f.Orgs, `SELECT count(*) FROM users`: &f.Users,
		`SELECT count(*) FROM contacts`: &f.Contacts, `SELECT count(*) FROM responses`: &f.Responses, `SELECT count(*) FROM pollruns`: &f.Pollruns} {
		if err := db.QueryRow(q).Scan(dst); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.QueryRow(`SELECT coalesce(group_concat(email, ','), '') FROM (SELECT email FROM users ORDER BY email)`).Scan(&f.Emails); err != nil {
		t.Fatal(err)
	}
	if contactUUID != "" {
		if err := db.QueryRow(`SELECT name FROM contacts WHERE uuid = ?`, contactUUID).Scan(&f.EditedName); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func TestReplicationEndToEnd(t *testing.T) {
	requireE2E(t)
	buildBinaries(t, true)
	s3 := startS3(t)
	const interval = 500 * time.Millisecond
	started := time.Now()

	// 1. An empty data directory and an empty bucket: a fresh database,
	// serving and replicating.
	a := newNode(t, s3, "prod", interval.String())
	lsAddr := freeAddr(t)
	a.env = append(a.env, "LITESTREAM_METRICS_ADDR="+lsAddr)
	a.start()
	a.waitReady()
	if !strings.Contains(a.logs(), "the replica is empty: starting on a new database") {
		t.Fatalf("first boot did not say it started a new database:\n%s", a.logs())
	}
	waitFor(t, "replica objects", func() bool { return s3.objects(t, "prod/") > 0 })
	// The System page's view of Litestream, read from the real Litestream.
	var ls metrics.LitestreamStatus
	waitFor(t, "Litestream's metrics", func() bool {
		ls = metrics.ReadLitestream(context.Background(), http.DefaultClient, "http://"+lsAddr+"/metrics", a.db)
		return ls.Replicating && ls.TXID > 0 && ls.Uploads > 0
	})
	if ls.ReplicaErrors != 0 || ls.SyncErrors != 0 {
		t.Fatalf("Litestream reports errors: %+v", ls)
	}

	// 2. Writes through the app: an org synced from the simulator, then more
	// runs and a contact edit (the simulator changes a contact; a sync brings it).
	sim, err := startSimulator("127.0.0.1:0", fake.GenConfig{Seed: 6, Contacts: 120, Weeks: 3, Timezone: "Africa/Kigali"}, fake.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.close()
	a.tracpro("", "org", "create", "-name", "Demo", "-subdomain", "demo", "-rapidpro-url", sim.url, "-token", sim.server.Token(), "-timezone", "Africa/Kigali")
	a.tracpro("", "org", "track", "-org", "demo", "-panels", strings.Join(sim.info.Panels, ","), "-cohorts", strings.Join(sim.info.Cohorts, ","), "-polls", strings.Join(sim.info.Polls, ","))
	a.tracpro("", "sync", "-org", "demo")
	a.tracpro("correct horse battery staple 6\n", "user", "create", "-email", "admin@e2e.example", "-name", "Admin", "-org", "demo", "-role", "admin", "-password-stdin")
	activity := fake.NewActivity(sim.store, 6)
	for range 5 {
		activity.Step(40)
	}
	var edited string
	sim.store.Write(func() {
		c := sim.store.Contacts[7]
		edited = c.UUID
		sim.store.TouchContact(c.UUID, func(c *fake.Contact) { c.Name = "Edited Before The Crash" })
	})
	a.tracpro("", "sync", "-org", "demo", "-only", "contacts,runs")
	want := readFacts(t, a.db, edited)
	if want.Contacts < 100 || want.Responses == 0 || want.EditedName != "Edited Before The Crash" || want.Users != 1 {
		t.Fatalf("the writes did not land: %+v", want)
	}
	committed := time.Now()

	// 3. SIGKILL (the machine is lost) at least one sync interval after the
	// last commit → a new empty data directory restores every write.
	time.Sleep(2*interval + 300*time.Millisecond)
	a.kill(syscall.SIGKILL)
	t.Logf("killed %s after the last commit", time.Since(committed).Round(time.Millisecond))
	// The restored node ships every 3 s: what it writes in the fraction of
	// a second before the SIGTERM of step 4 needs the final sync.
	b := newNode(t, s3, "prod", "3s")
	b.start()
	b.waitReady()
	if !strings.Contains(b.logs(), "restored "+b.db+" from the replica") {
		t.Fatalf("second boot did not restore:\n%s", b.logs())
	}
	if got := readFacts(t, b.db, edited); got != want {
		t.Fatalf("after SIGKILL the restored database has %+v, want %+v", got, want)
	}
	// It serves the restored org: the sign-in page of the org answers.
	if resp, err := http.Get("http://" + b.addr + "/users/login/"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("login page on the restored node: %v %v", resp, err)
	}

	// 4. SIGTERM instead: writes made just before it (far less than one sync
	// interval) are all in the replica — Litestream's final sync. Litestream
	// reconciles a restored database with its replica at its first check
	// (one interval); a SIGTERM before that skips the final sync (the rows
	// stay in the local file and ship at the next start on that volume).
	waitFor(t, "litestream to reconcile the restored database", func() bool {
		return strings.Contains(b.logs(), "detected database behind replica")
	})
	activity.Step(40)
	b.tracpro("", "sync", "-org", "demo", "-only", "runs")
	for i := range 3 {
		b.tracpro("long enough password "+fmt.Sprint(i)+"\n", "user", "create", "-email", fmt.Sprintf("late%d@e2e.example", i), "-name", "Late", "-password-stdin")
	}
	want2 := readFacts(t, b.db, edited)
	if want2.Users != 4 {
		t.Fatalf("late writes: %+v", want2)
	}
	took := b.stop()
	if b.exitCode != 0 {
		t.Fatalf("SIGTERM: exit %d:\n%s", b.exitCode, b.logs())
	}
	if took > 10*time.Second {
		t.Fatalf("SIGTERM: stopped in %s, want ≤ 10 s", took)
	}
	t.Logf("SIGTERM: stopped in %s", took.Round(time.Millisecond))
	c := newNode(t, s3, "prod", interval.String())
	c.start()
	c.waitReady()
	if got := readFacts(t, c.db, edited); got != want2 {
		t.Fatalf("after SIGTERM the restored database has %+v, want %+v (zero loss)", got, want2)
	}
	c.stop()

	// 5. Point-in-time restore between two batches returns exactly the first.
	d := newNode(t, s3, "pitr", interval.String())
	d.start()
	d.waitReady()
	for i := range 3 {
		d.tracpro("first batch password "+fmt.Sprint(i)+"\n", "user", "create", "-email", fmt.Sprintf("first%d@e2e.example", i), "-name", "First", "-password-stdin")
	}
	time.Sleep(3 * interval)
	between := time.Now().UTC()
	time.Sleep(3 * interval)
	for i := range 3 {
		d.tracpro("second batch password "+fmt.Sprint(i)+"\n", "user", "create", "-email", fmt.Sprintf("second%d@e2e.example", i), "-name", "Second", "-password-stdin")
	}
	time.Sleep(3 * interval)
	pit := filepath.Join(t.TempDir(), "pit.db")
	if out, err := d.restore(pit, "-timestamp", between.Format(time.RFC3339Nano)); err != nil {
		t.Fatalf("restore -timestamp: %v\n%s", err, out)
	}
	if got := readFacts(t, pit, "").Emails; got != "first0@e2e.example,first1@e2e.example,first2@e2e.example" {
		t.Fatalf("point-in-time restore has users %q, want exactly the first batch", got)
	}
	latest := filepath.Join(t.TempDir(), "latest.db")
	if out, err := d.restore(latest); err != nil {
		t.Fatalf("restore latest: %v\n%s", err, out)
	}
	if got := readFacts(t, latest, "").Users; got != 6 {
		t.Fatalf("latest restore has %d users, want 6", got)
	}
	// 6. The README's swap: stop, delete the database and its companions
	// (-wal, -shm, .<db>-litestream/), move the restored point-in-time file
	// in, start: no restore, the file is replicated and becomes the
	// replica's latest state.
	d.stop()
	for _, p := range []string{d.db, d.db + "-wal", d.db + "-shm", filepath.Join(d.dir, ".tracpro.db-litestream")} {
		if err := os.RemoveAll(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Rename(pit, d.db); err != nil {
		t.Fatal(err)
	}
	d.start()
	d.waitReady()
	if strings.Contains(d.logs(), "restoring") {
		t.Fatalf("the swapped-in file was restored over:\n%s", d.logs())
	}
	// As after a restore (step 4), Litestream takes the file as its
	// replica's new state at its first check.
	waitFor(t, "litestream to reconcile the swapped-in database", func() bool {
		return strings.Contains(d.logs(), "detected database behind replica")
	})
	d.tracpro("after the swap password\n", "user", "create", "-email", "swapped@e2e.example", "-name", "Swapped", "-password-stdin")
	d.stop()
	swapped := filepath.Join(t.TempDir(), "swapped.db")
	if out, err := d.restore(swapped); err != nil {
		t.Fatalf("restore after the swap: %v\n%s", err, out)
	}
	if got := readFacts(t, swapped, "").Emails; got != "first0@e2e.example,first1@e2e.example,first2@e2e.example,swapped@e2e.example" {
		t.Fatalf("after the swap the replica has users %q, want the first batch and the new user", got)
	}
	t.Logf("replication end-to-end: %s", time.Since(started).Round(time.Millisecond))
}

func TestEntrypointFailsClosed(t *testing.T) {
	requireE2E(t)
	buildBinaries(t, true)
	// An address nothing listens on: S3 unreachable.
	dead := "http://" + freeAddr(t)
	n := newNode(t, &fakeS3{URL: dead}, "prod", "1s")
	n.start()
	select {
	case <-n.done:
	case <-time.After(90 * time.Second):
		t.Fatalf("entrypoint still running 90 s after boot with S3 unreachable:\n%s", n.logs())
	}
	if n.exitCode == 0 {
		t.Fatalf("entrypoint exited 0 with S3 unreachable:\n%s", n.logs())
	}
	if left, _ := os.ReadDir(n.dir); len(left) > 0 {
		t.Fatalf("files left in the data directory although the restore failed: %v", left)
	}
	if !strings.Contains(n.logs(), "restore failed: not starting") {
		t.Fatalf("no clear message:\n%s", n.logs())
	}

	// Wrong credentials on a reachable S3 that holds a replica: no database either.
	s3 := startS3(t)
	seed := newNode(t, s3, "prod", "1s")
	seed.start()
	seed.waitReady()
	waitFor(t, "replica objects", func() bool { return s3.objects(t, "prod/") > 0 })
	seed.stop()
	bad := newNode(t, s3, "prod", "1s")
	bad.env = append(bad.env, "AWS_ACCESS_KEY_ID=someone-else")
	bad.start()
	<-bad.done
	if bad.exitCode == 0 || !strings.Contains(bad.logs(), "restore failed: not starting") {
		t.Fatalf("wrong credentials: exit %d\n%s", bad.exitCode, bad.logs())
	}
	if left, _ := os.ReadDir(bad.dir); len(left) > 0 {
		t.Fatalf("wrong credentials: files left in the data directory: %v", left)
	}

	// A bucket that does not exist (a typo, or the wrong account) and a
	// configuration file that does not parse: no database either.
	for name, change := range map[string][]string{
		"missing bucket":   {"LITESTREAM_BUCKET=no-such-bucket"},
		"malformed config": {"LITESTREAM_CONFIG=" + writeFile(t, "bad.yml", "dbs:\n  - path: [unclosed\n")},
	} {
		n := newNode(t, s3, "prod", "1s")
		n.env = append(n.env, change...)
		n.start()
		select {
		case <-n.done:
		case <-time.After(60 * time.Second):
			t.Fatalf("%s: entrypoint still running 60 s after boot:\n%s", name, n.logs())
		}
		if n.exitCode == 0 || !strings.Contains(n.logs(), "restore failed: not starting") {
			t.Fatalf("%s: exit %d\n%s", name, n.exitCode, n.logs())
		}
		if left, _ := os.ReadDir(n.dir); len(left) > 0 {
			t.Fatalf("%s: files left in the data directory: %v", name, left)
		}
	}

	// Replication not configured at all: refuse to start rather than run unreplicated.
	m := newNode(t, s3, "prod", "1s")
	m.env = append(m.env, "LITESTREAM_BUCKET=")
	m.start()
	<-m.done
	if m.exitCode == 0 || !strings.Contains(m.logs(), "LITESTREAM_BUCKET is not set") {
		t.Fatalf("no bucket: exit %d\n%s", m.exitCode, m.logs())
	}
}

func waitFor(t testing.TB, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// writeFile writes a file in a new temporary directory and returns its path.
func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
