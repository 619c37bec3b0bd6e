// Command tracpro is the TracPro dashboard: one binary for the web server, the
// RapidPro pulls, the demo and operator commands. Run `tracpro help`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"

	"tracpro/handlers"
	"tracpro/jobs"
	"tracpro/models"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `usage: tracpro <command> [flags]

commands:
  serve          the HTTP server and the RapidPro pulls (default)
  demo           the app on an embedded RapidPro simulator with a generated org
  migrate        apply database migrations
  org            create | list | track — orgs and what they track in RapidPro
  sync           run each pull of an org once
  fetchruns      backfill past runs of an org (reads RapidPro's run archives)
  fake-rapidpro  the RapidPro simulator on its own
  user           create | enroll-link — accounts and passkey enrolment links
  export         responses — a poll's responses as CSV on standard output
  recount        check the dashboard counters against the raw rows (--fix rewrites them)
  healthcheck    exit 0 when the server on -addr answers /readyz (Docker HEALTHCHECK)
  version        print the version

Configuration: flags override TRACPRO_* environment variables (TRACPRO_DB,
TRACPRO_ADDR, TRACPRO_LOG_FORMAT, TRACPRO_LOG_LEVEL, TRACPRO_ENV,
TRACPRO_METRICS_ADDR, TRACPRO_LITESTREAM_METRICS). Run
"tracpro <command> -h" for a command's flags.
`

// batchMemoryLimit is the soft Go heap limit of the batch commands.
const batchMemoryLimit = 32 << 20

// usageError is bad input on the command line: a one-line message, exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := "serve"
	// A first argument that is a flag belongs to the default command, serve,
	// except the help flags, which ask for the list of commands.
	if len(args) > 0 && (!strings.HasPrefix(args[0], "-") || isHelpFlag(args[0])) {
		cmd, args = args[0], args[1:]
	}
	if path := os.Getenv("TRACPRO_CPUPROFILE"); path != "" {
		if stopProfile, err := startCPUProfile(path); err == nil {
			defer stopProfile()
		}
	}
	if path := os.Getenv("TRACPRO_MEMPROFILE"); path != "" {
		defer func() {
			if f, err := os.Create(path); err == nil {
				pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	// Batch commands keep their Go heap under a soft limit (GC works harder
	// near it) so a big import stays within a small machine's memory; GOMEMLIMIT
	// overrides it. The server is left to the operator's GOMEMLIMIT.
	if os.Getenv("GOMEMLIMIT") == "" {
		switch cmd {
		case "sync", "fetchruns", "recount", "export":
			debug.SetMemoryLimit(batchMemoryLimit)
		}
	}
	var err error
	switch cmd {
	case "serve":
		err = cmdServe(ctx, args, stdout, stderr)
	case "demo":
		err = cmdDemo(ctx, args, stdout, stderr)
	case "migrate":
		err = cmdMigrate(ctx, args, stdout, stderr)
	case "org":
		err = cmdOrg(ctx, args, stdout, stderr)
	case "sync":
		err = cmdSync(ctx, args, stdout, stderr)
	case "fetchruns":
		err = cmdFetchRuns(ctx, args, stdout, stderr)
	case "fake-rapidpro":
		err = cmdFakeRapidPro(ctx, args, stdout, stderr)
	case "user":
		err = cmdUser(ctx, args, stdout, stderr)
	case "export":
		err = cmdExport(ctx, args, stdout, stderr)
	case "recount":
		err = cmdRecount(ctx, args, stdout, stderr)
	case "healthcheck":
		err = cmdHealthcheck(ctx, args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "tracpro", version)
	case "help", "-h", "--h", "-help", "--help":
		fmt.Fprint(stdout, usage)
	default:
		err = usagef("unknown command %q (run \"tracpro help\")", cmd)
	}
	return exitCode(err, stderr)
}

// isHelpFlag reports whether arg is one of the flags that ask for help.
func isHelpFlag(arg string) bool {
	switch arg {
	case "-h", "--h", "-help", "--help":
		return true
	}
	return false
}

// exitCode prints err as one line and maps it to an exit code: 2 for bad input
// (flags, values, invalid data), 1 for everything else.
func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintln(stderr, "tracpro:", oneLine(err.Error()))
	var ue *usageError
	if errors.As(err, &ue) || models.ErrorCode(err) == models.CodeInvalid || models.ErrorCode(err) == models.CodeNotFound || models.ErrorCode(err) == models.CodeConflict {
		return 2
	}
	return 1
}

// startCPUProfile writes a CPU profile of the command to path (for benchmarks).
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Config is the validated configuration shared by the commands.
type Config struct {
	DB        string // SQLite path
	Addr      string // HTTP listen address
	LogFormat string // text | json
	LogLevel  string // debug | info | warn | error
	Env       string // development | production
	APIRate   int    // RapidPro requests per hour per throttle scope the pulls may plan on; 0 = unmetered
	Domain    string // orgs are served on <subdomain>.<Domain>
	Secure    bool   // session cookies only over HTTPS (behind a TLS proxy)
	// Proxies is TRACPRO_TRUSTED_PROXIES as given; TrustedProxies the
	// addresses and CIDR ranges whose X-Forwarded-* headers count (validate).
	Proxies        string
	TrustedProxies []string
	// MetricsAddr is the separate listen address of /metrics ("" = off): the
	// metrics are not served on the public address, so they need no token.
	MetricsAddr string
	// LitestreamMetrics is the URL of Litestream's Prometheus metrics, read
	// by the System page ("" = the database is not known to be replicated).
	LitestreamMetrics string
	// NoJobs serves the pages without the scheduler: no pulls and no outbox
	// delivery (looking at a restored copy must not resend its flow starts).
	NoJobs bool
}

// env returns the TRACPRO_<name> variable, or <name>_FILE's contents, or def.
func env(name, def string) string {
	if v, ok := os.LookupEnv("TRACPRO_" + name); ok && v != "" {
		return v
	}
	if f := os.Getenv("TRACPRO_" + name + "_FILE"); f != "" {
		if b, err := os.ReadFile(f); err == nil {
			return strings.TrimSpace(string(b))
		}
	}
	return def
}

// newFlags returns a flag set whose errors are returned, not printed and exited on.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("tracpro "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned and printed once, by exitCode
	return fs
}

// bindCommon registers the flags every database command takes.
func bindCommon(fs *flag.FlagSet, c *Config) {
	fs.StringVar(&c.DB, "db", env("DB", "tracpro.db"), "SQLite database path (TRACPRO_DB)")
	fs.StringVar(&c.LogFormat, "log-format", env("LOG_FORMAT", ""), "log format: text or json (TRACPRO_LOG_FORMAT; default json in production)")
	fs.StringVar(&c.LogLevel, "log-level", env("LOG_LEVEL", "info"), "log level: debug, info, warn, error (TRACPRO_LOG_LEVEL)")
	fs.StringVar(&c.Env, "env", env("ENV", "development"), "development or production (TRACPRO_ENV)")
	rate, _ := strconv.Atoi(env("API_RATE", "2500"))
	fs.IntVar(&c.APIRate, "api-rate", rate, "RapidPro API requests per hour per scope (the workspace's rate; 0 = do not meter) (TRACPRO_API_RATE)")
}

// bindHTTP registers the flags of the commands that serve HTTP.
func bindHTTP(fs *flag.FlagSet, c *Config) {
	fs.StringVar(&c.Addr, "addr", env("ADDR", "127.0.0.1:8080"), "HTTP listen address (TRACPRO_ADDR)")
	fs.StringVar(&c.Domain, "domain", env("DOMAIN", ""), "serve each org on <subdomain>.<domain> (TRACPRO_DOMAIN); unset: one org for every host")
	secure, _ := strconv.ParseBool(env("SECURE_COOKIES", "false"))
	fs.BoolVar(&c.Secure, "secure-cookies", secure, "send the session cookie over HTTPS only (TRACPRO_SECURE_COOKIES)")
	fs.StringVar(&c.Proxies, "trusted-proxies", env("TRUSTED_PROXIES", ""), "IP addresses or CIDR ranges of the reverse proxies whose X-Forwarded-* headers count, comma-separated (TRACPRO_TRUSTED_PROXIES); empty: none")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", env("METRICS_ADDR", ""), "listen address of Prometheus /metrics, separate from -addr (TRACPRO_METRICS_ADDR); empty: off")
	fs.StringVar(&c.LitestreamMetrics, "litestream-metrics", env("LITESTREAM_METRICS", ""), "URL of Litestream's metrics, e.g. http://127.0.0.1:9090/metrics, for the System page (TRACPRO_LITESTREAM_METRICS)")
}

// syncConfig is the jobs configuration the command-line configuration asks for.
func (c *Config) syncConfig(log *slog.Logger) jobs.Config {
	cfg := jobs.Config{Logger: log}
	if c.APIRate > 0 {
		cfg.ScopeLimits = map[string]int{"v2": c.APIRate, "v2.contacts": c.APIRate, "v2.messages": c.APIRate, "v2.runs": c.APIRate, "v2.broadcasts": max(c.APIRate, 36000)}
	} else {
		cfg.ScopeLimits = map[string]int{}
	}
	return cfg
}

// parse parses flags; a parse error becomes a usage error (exit 2), and
// positional arguments beyond maxArgs are refused.
func parse(fs *flag.FlagSet, args []string, maxArgs int) error {
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stdout)
			fs.PrintDefaults()
			return err
		}
		return usagef("%s", err)
	}
	if fs.NArg() > maxArgs {
		return usagef("unexpected argument %q", fs.Arg(maxArgs))
	}
	return nil
}

// parse parses the flags, then validates the configuration.
func (c *Config) parse(fs *flag.FlagSet, args []string, maxArgs int) error {
	if err := parse(fs, args, maxArgs); err != nil {
		return err
	}
	return c.validate()
}

// openOrg opens the database and loads the org named by ref (id or subdomain).
func (c *Config) openOrg(ctx context.Context, ref string) (*models.DB, *models.Org, error) {
	if ref == "" {
		return nil, nil, usagef("-org is required")
	}
	db, err := c.openDB(ctx)
	if err != nil {
		return nil, nil, err
	}
	org, err := db.OrgByRef(ctx, ref)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, org, nil
}

// validate checks the common configuration.
func (c *Config) validate() error {
	if strings.TrimSpace(c.DB) == "" {
		return usagef("-db must not be empty")
	}
	switch c.Env {
	case "development", "production":
	default:
		return usagef("-env must be development or production, not %q", c.Env)
	}
	if c.LogFormat == "" {
		c.LogFormat = "text"
		if c.Env == "production" {
			c.LogFormat = "json"
		}
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return usagef("-log-format must be text or json, not %q", c.LogFormat)
	}
	if c.APIRate < 0 {
		return usagef("-api-rate must be 0 (unmetered) or a positive number of requests per hour")
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return usagef("-log-level must be debug, info, warn or error, not %q", c.LogLevel)
	}
	proxies, err := handlers.ParseTrustedProxies(c.Proxies)
	if err != nil {
		return usagef("-trusted-proxies (TRACPRO_TRUSTED_PROXIES): %v", err)
	}
	c.TrustedProxies = proxies
	return nil
}

// logger builds the slog logger the configuration asks for: text in
// development, JSON in production. Attributes whose key names a secret are
// redacted whatever logged them (defence in depth: no code logs one).
func (c *Config) logger(w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl, ReplaceAttr: redactSecrets}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// redactSecrets replaces the value of any attribute whose key names a secret.
func redactSecrets(_ []string, a slog.Attr) slog.Attr {
	k := strings.ToLower(a.Key)
	for _, s := range []string{"token", "password", "secret", "authorization", "cookie", "session", "credential"} {
		if strings.Contains(k, s) {
			return slog.String(a.Key, "[redacted]")
		}
	}
	return a
}

// openDB opens and migrates the configured database.
func (c *Config) openDB(ctx context.Context) (*models.DB, error) {
	return models.OpenMigrated(ctx, c.DB)
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c Config
	fs := newFlags("migrate", stderr)
	bindCommon(fs, &c)
	if err := c.parse(fs, args, 0); err != nil {
		return err
	}
	db, err := models.Open(c.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := db.Upgrade(ctx)
	for _, a := range res.Applied {
		fmt.Fprintln(stdout, "applied", a)
	}
	if err != nil {
		return err
	}
	if res.CountersRebuilt > 0 {
		fmt.Fprintf(stdout, "rebuilt the dashboard counters of %d orgs from their responses\n", res.CountersRebuilt)
	}
	v, _ := db.SchemaVersion(ctx)
	n := len(models.EmbeddedMigrations())
	if len(res.Applied) == 0 {
		fmt.Fprintf(stdout, "schema is current (version %d, all %d migrations applied)\n", v, n)
		return nil
	}
	fmt.Fprintf(stdout, "schema is now current (version %d, all %d migrations applied)\n", v, n)
	return nil
}
