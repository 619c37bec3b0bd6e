package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"tracpro/handlers"
	"tracpro/jobs"
	"tracpro/metrics"
	"tracpro/models"
	"tracpro/rapidpro/fake"
)

// shutdownTimeout bounds each part of a clean stop; the parts run side by
// side, so `tracpro serve` exits within it after SIGTERM (Litestream, its
// parent, waits for the exit before its final sync; Docker's grace is 10 s).
const shutdownTimeout = 8 * time.Second

// httpDrain is how long requests in flight get to finish after SIGTERM;
// connections still open then (a half-sent request from a slow client, a
// stalled download) are closed, so a client cannot hold the stop up.
const httpDrain = 5 * time.Second

// trackedListener remembers its open connections so that the ones still
// open after the drain can be closed.
type trackedListener struct {
	net.Listener
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

type trackedConn struct {
	net.Conn
	l    *trackedListener
	once sync.Once
}

func (l *trackedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, l: l}
	l.mu.Lock()
	l.conns[tc] = struct{}{}
	l.mu.Unlock()
	return tc, nil
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}

// closeAll closes the open connections and returns how many there were.
func (l *trackedListener) closeAll() int {
	l.mu.Lock()
	conns := make([]net.Conn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	return len(conns)
}

// serveApp runs the HTTP server and the scheduler until ctx is done, then stops
// accepting, stops the scheduler (pulls in flight finish their transaction)
// and returns; the caller closes the database.
func serveApp(ctx context.Context, c *Config, db *models.DB, syncer *jobs.Syncer, log *slog.Logger, ready func(addr string)) error {
	// Before anything can queue or deliver a push: is this the database this
	// server left, or a restored or older copy whose pending pushes may
	// already have reached RapidPro? (models/node.go; also with -no-jobs,
	// so that pushes queued while looking at a copy are not taken for
	// uncertain ones later.)
	check, err := db.StartNode(ctx)
	if err != nil {
		return fmt.Errorf("node check: %w", err)
	}
	if check.Reconciles() {
		log.Warn("database restored, copied or older than this server: pending pushes are checked against RapidPro before any is sent",
			"reason", check.Reason, "uncertain_pushes", check.Uncertain, "generation", check.Generation)
	}
	tcp, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return usagef("cannot listen on %s: %v", c.Addr, err)
	}
	ln := &trackedListener{Listener: tcp, conns: map[net.Conn]struct{}{}}
	m := metrics.New(db)
	// Pulls report to the metrics (sync.go calls the hook after recording the run).
	syncer.Cfg.OnPull = m.ObservePull
	var mln net.Listener
	if c.MetricsAddr != "" {
		if mln, err = net.Listen("tcp", c.MetricsAddr); err != nil {
			ln.Close()
			return usagef("cannot listen on %s (metrics): %v", c.MetricsAddr, err)
		}
	}
	app, err := handlers.New(&handlers.Handlers{DB: db, Syncer: syncer, Log: log, Domain: c.Domain, Secure: c.Secure,
		TrustedProxies: c.TrustedProxies, Metrics: m, LitestreamMetrics: c.LitestreamMetrics})
	if err != nil {
		return err
	}
	var sched *jobs.Scheduler
	if c.NoJobs {
		log.Warn("jobs off: no pulls from RapidPro, no outbox delivery")
	} else {
		if sched, err = jobs.NewScheduler(syncer); err != nil {
			return err
		}
		if err := sched.Start(ctx); err != nil {
			return err
		}
	}
	errc := make(chan error, 2)
	go func() { errc <- app.Listener(ln) }()
	var msrv *http.Server
	if mln != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", m.Handler())
		msrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := msrv.Serve(mln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
		log.Info("metrics", "addr", mln.Addr().String())
	}
	log.Info("serving", "addr", ln.Addr().String())
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	log.Info("shutting down")
	start := time.Now()
	// Stop accepting and finish the requests in flight while the scheduler
	// cancels the pulls (each finishes its transaction and records its run).
	// Background tasks (fetch runs, sync now) are cancelled at the same time,
	// so fiber's shutdown hook that also stops them has nothing left to wait for.
	var wg sync.WaitGroup
	var httpErr, schedErr error
	wg.Add(3)
	go func() { defer wg.Done(); jobs.Tasks(syncer).Shutdown(shutdownTimeout) }()
	go func() {
		defer wg.Done()
		if httpErr = app.ShutdownWithTimeout(httpDrain); errors.Is(httpErr, context.DeadlineExceeded) {
			log.Warn("closed connections still open after the drain", "connections", ln.closeAll(), "drain_ms", httpDrain.Milliseconds())
			httpErr = nil
		}
		if msrv != nil {
			sctx, cancel := context.WithTimeout(context.Background(), time.Second)
			msrv.Shutdown(sctx)
			cancel()
		}
	}()
	go func() {
		defer wg.Done()
		if sched != nil {
			schedErr = sched.Stop()
		}
	}()
	wg.Wait()
	log.Info("stopped", "duration_ms", time.Since(start).Milliseconds())
	return errors.Join(err, httpErr, schedErr)
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c Config
	fs := newFlags("serve", stderr)
	bindCommon(fs, &c)
	bindHTTP(fs, &c)
	fs.BoolVar(&c.NoJobs, "no-jobs", false, "serve the pages only: no scheduled pulls, no outbox delivery (to look at a restored copy)")
	if err := c.parse(fs, args, 0); err != nil {
		return err
	}
	log := c.logger(stderr)
	db, err := c.openDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	return serveApp(ctx, &c, db, jobs.NewSyncer(db, c.syncConfig(log)), log, nil)
}

// simulator is a RapidPro simulator served on a local address.
type simulator struct {
	store  *fake.Store
	server *fake.Server
	info   fake.GenInfo
	url    string
	http   *http.Server
}

func startSimulator(addr string, gen fake.GenConfig, cfg fake.Config) (*simulator, error) {
	store := fake.NewStore(nil)
	info := fake.Generate(store, gen)
	srv := fake.NewServer(store, cfg)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, usagef("cannot listen on %s: %v", addr, err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	return &simulator{store: store, server: srv, info: info, url: "http://" + ln.Addr().String(), http: hs}, nil
}

func (s *simulator) close() { s.http.Close() }

func cmdFakeRapidPro(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var addr, profile, token string
	var gen fake.GenConfig
	var pageSize int
	var activity time.Duration
	fs := newFlags("fake-rapidpro", stderr)
	fs.StringVar(&addr, "addr", "127.0.0.1:8000", "listen address")
	fs.Int64Var(&gen.Seed, "seed", 1, "generator seed (same seed, same org)")
	fs.IntVar(&gen.Contacts, "contacts", 500, "contacts to generate")
	fs.IntVar(&gen.Weeks, "weeks", 8, "weeks of weekly poll runs")
	fs.IntVar(&pageSize, "page-size", 250, "page size of list endpoints")
	fs.StringVar(&profile, "profile", string(fake.ProfileOSS2025), "server shape: legacy-2017, oss-2025 or hosted-2025")
	fs.StringVar(&token, "token", "sim-token", "API token to accept")
	fs.DurationVar(&activity, "activity", 0, "advance simulated respondents at this interval (0 = off)")
	unlimited := fs.Bool("unlimited", false, "disable the per-scope hourly rate limits")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	switch fake.Profile(profile) {
	case fake.ProfileLegacy2017, fake.ProfileOSS2025, fake.ProfileHosted2025:
	default:
		return usagef("-profile must be legacy-2017, oss-2025 or hosted-2025, not %q", profile)
	}
	if gen.Contacts < 1 || gen.Weeks < 1 || pageSize < 1 {
		return usagef("-contacts, -weeks and -page-size must be at least 1")
	}
	cfg := fake.Config{Tokens: []string{token}, Profile: fake.Profile(profile), PageSize: pageSize}
	if *unlimited {
		cfg.Rates = map[string]int{"v2": -1, "v2.contacts": -1, "v2.messages": -1, "v2.runs": -1, "v2.broadcasts": -1}
	}
	start := time.Now()
	sim, err := startSimulator(addr, gen, cfg)
	if err != nil {
		return err
	}
	defer sim.close()
	fmt.Fprintf(stdout, "RapidPro simulator: %s\ntoken: %s\npanels: %s\ncohorts: %s\npolls: %s\norg: %d contacts, %d runs (generated in %s)\n",
		sim.url, token, strings.Join(sim.info.Panels, ","), strings.Join(sim.info.Cohorts, ","), strings.Join(sim.info.Polls, ","),
		sim.info.Contacts, sim.info.Runs, time.Since(start).Round(time.Millisecond))
	if activity > 0 {
		go fake.NewActivity(sim.store, gen.Seed).Run(ctx, activity, 50)
	}
	<-ctx.Done()
	return nil
}

// demoAddr is where `tracpro demo` listens unless told otherwise.
const demoAddr = "localhost:8080"

// appURL is the URL to open for an app listening on addr: a loopback or
// unspecified address is shown as localhost, the name passkeys work on (a
// browser refuses WebAuthn on an IP address).
func appURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr + "/"
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && (ip.IsLoopback() || ip.IsUnspecified())) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// demoUsers creates the demo's administrator and a supervisor of one province
// with fresh random passwords, and returns the sign-in details to print.
func demoUsers(ctx context.Context, db *models.DB, org *models.Org) (string, error) {
	pw := func() string {
		b := make([]byte, 9)
		rand.Read(b)
		return "demo-" + base64.RawURLEncoding.EncodeToString(b)
	}
	adminPW, supPW := pw(), pw()
	admin, err := db.CreateUser(ctx, models.NewUser{Email: "admin@demo.example", FullName: "Amina Uwase", Password: adminPW})
	if err != nil {
		return "", err
	}
	if err := db.SetMembership(ctx, org.ID, admin.ID, models.RoleAdmin); err != nil {
		return "", err
	}
	sup, err := db.CreateUser(ctx, models.NewUser{Email: "supervisor@demo.example", FullName: "Jean Habimana", Password: supPW})
	if err != nil {
		return "", err
	}
	if err := db.SetMembership(ctx, org.ID, sup.ID, models.RoleSupervisor); err != nil {
		return "", err
	}
	tree, err := db.LoadPanelTree(ctx, org.ID)
	if err != nil {
		return "", err
	}
	var province *models.Region
	for i, r := range tree.Panels {
		if tree.Depth(r.ID) == 1 && tree.HasChildren(r.ID) {
			province = &tree.Panels[i]
			break
		}
	}
	where := ""
	if province != nil {
		if err := db.SetUserPanels(ctx, org.ID, sup.ID, []int64{province.ID}); err != nil {
			return "", err
		}
		where = " — panel " + province.Name + " and its districts"
	}
	return fmt.Sprintf("Sign in as\n  administrator: %s  password %s  (then register a passkey: administrators sign in with one)\n  supervisor:    %s  password %s%s",
		admin.Email, adminPW, sup.Email, supPW, where), nil
}

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c Config
	var simAddr string
	var gen fake.GenConfig
	fs := newFlags("demo", stderr)
	bindCommon(fs, &c)
	bindHTTP(fs, &c)
	// On localhost, not 127.0.0.1: browsers refuse passkeys on an IP address,
	// and the printed administrator must register one.
	if os.Getenv("TRACPRO_ADDR") == "" {
		c.Addr = demoAddr
		fs.Lookup("addr").DefValue = demoAddr
	}
	fs.StringVar(&simAddr, "sim-addr", "127.0.0.1:0", "listen address of the embedded RapidPro simulator")
	fs.Int64Var(&gen.Seed, "seed", 1, "generator seed")
	fs.IntVar(&gen.Contacts, "contacts", 400, "contacts in the demo org")
	fs.IntVar(&gen.Weeks, "weeks", 8, "weeks of poll history")
	fs.Lookup("db").DefValue = "(a fresh file in the temp directory)"
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	dbSet := false
	fs.Visit(func(f *flag.Flag) { dbSet = dbSet || f.Name == "db" })
	if !dbSet && os.Getenv("TRACPRO_DB") == "" {
		dir := filepath.Join(os.TempDir(), "tracpro-demo")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		c.DB = filepath.Join(dir, "tracpro-demo.db")
	}
	if err := c.validate(); err != nil {
		return err
	}
	if gen.Contacts < 1 || gen.Weeks < 1 {
		return usagef("-contacts and -weeks must be at least 1")
	}
	gen.Timezone = "Africa/Kigali"
	log := c.logger(stderr)
	// The demo database is rebuilt on every start: the simulator is in memory.
	for _, suffix := range []string{"", "-wal", "-shm", ".node"} {
		if err := os.Remove(c.DB + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	sim, err := startSimulator(simAddr, gen, fake.Config{StartDelay: 3 * time.Second})
	if err != nil {
		return err
	}
	defer sim.close()
	db, err := c.openDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	org, err := db.CreateOrg(ctx, models.NewOrg{Name: "Ministry of Education (demo)", Subdomain: "demo", RapidProURL: sim.url,
		Token: sim.server.Token(), Timezone: gen.Timezone, Languages: models.SupportedLanguages, Language: "en"})
	if err != nil {
		return err
	}
	syncer := jobs.NewSyncer(db, c.syncConfig(log))
	if err := trackOrg(ctx, syncer, org, sim.info.Panels, sim.info.Cohorts, sim.info.Polls, io.Discard); err != nil {
		return fmt.Errorf("demo setup: %w", err)
	}
	results, err := syncer.SyncAll(ctx, org, nil)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, jobs.FormatResults(results))
	logins, err := demoUsers(ctx, db, org)
	if err != nil {
		return fmt.Errorf("demo users: %w", err)
	}
	if _, err := db.CreateDemoIndicator(ctx, org); err != nil {
		return fmt.Errorf("demo indicator: %w", err)
	}
	go fake.NewActivity(sim.store, gen.Seed).Run(ctx, 5*time.Second, 40)
	return serveApp(ctx, &c, db, syncer, log, func(addr string) {
		fmt.Fprintf(stdout, "\nTracPro demo is running.\n  app:        %s\n  database:   %s\n  simulator:  %s (token %s)\n%s\nPulls run every minute; simulated respondents keep answering. Ctrl-C stops.\n",
			appURL(addr), c.DB, sim.url, sim.server.Token(), logins)
	})
}
