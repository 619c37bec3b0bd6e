// Package jobs runs TracPro's background work: the periodic RapidPro pulls of
// each org (one file per pull) and, later, the outbox. Each pull is a plain
// method taking (ctx, org), testable without the scheduler.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"tracpro/models"
	"tracpro/rapidpro"
)

// The pulled resources, in the order a full sync runs them.
const (
	ResFlows      = "flows"
	ResGroups     = "groups"
	ResFields     = "fields"
	ResBoundaries = "boundaries"
	ResContacts   = "contacts"
	ResRuns       = "runs"
	ResInbox      = "inbox"
)

// Resources lists every pull in dependency order (flows and groups before the
// contacts and runs that refer to them).
var Resources = []string{ResFlows, ResGroups, ResFields, ResBoundaries, ResContacts, ResRuns, ResInbox}

// Config tunes the pulls. Zero values take the defaults of DefaultConfig.
type Config struct {
	Intervals     map[string]time.Duration // per resource
	Overlap       time.Duration            // re-read this much before the watermark
	BackoffBase   time.Duration            // first back-off after a failed pull
	BackoffMax    time.Duration            // cap of the back-off (also the pause after a token error)
	BudgetReserve float64                  // fraction of each hourly API limit kept for pushes
	ScopeLimits   map[string]int           // nil = RapidPro's defaults; a value <= 0 disables the budget of that scope
	// ClientOptions lets tests and benchmarks tune the RapidPro client
	// (timeouts, sleep); BaseURL, Token and the hooks are set by the Syncer.
	ClientOptions rapidpro.Options
	HTTPClient    *http.Client
	Logger        *slog.Logger
	// Now is the clock that bounds pull windows (tests use the simulator's).
	Now func() time.Time
	// OnPull, when set, is told of every finished pull (metrics): its
	// resource, status as recorded in sync_runs, error kind and duration.
	OnPull func(resource, status, errorKind string, d time.Duration)
}

// DefaultConfig returns the production defaults of issue #2.
func DefaultConfig() Config {
	return Config{
		Intervals: map[string]time.Duration{
			ResRuns: time.Minute, ResInbox: time.Minute, ResContacts: 5 * time.Minute,
			ResFlows: 15 * time.Minute, ResGroups: 15 * time.Minute, ResFields: 15 * time.Minute,
			ResBoundaries: 24 * time.Hour,
		},
		Overlap:       5 * time.Minute,
		BackoffBase:   time.Minute,
		BackoffMax:    time.Hour,
		BudgetReserve: 0.05,
	}
}

func (c *Config) fill() {
	d := DefaultConfig()
	if c.Intervals == nil {
		c.Intervals = d.Intervals
	}
	for k, v := range d.Intervals {
		if c.Intervals[k] <= 0 {
			c.Intervals[k] = v
		}
	}
	if c.Overlap <= 0 {
		c.Overlap = d.Overlap
	}
	if c.BackoffBase <= 0 {
		c.BackoffBase = d.BackoffBase
	}
	if c.BackoffMax <= 0 {
		c.BackoffMax = d.BackoffMax
	}
	if c.BudgetReserve <= 0 {
		c.BudgetReserve = d.BudgetReserve
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second}}
	}
}

// Syncer runs pulls for orgs: it serialises the pulls of one org, records each
// in sync_runs, meters API requests and backs off after failures.
type Syncer struct {
	DB    *models.DB
	Cfg   Config
	Meter *Meter
	log   *slog.Logger

	mu    sync.Mutex
	locks map[int64]chan struct{}
}

// NewSyncer returns a Syncer over db.
func NewSyncer(db *models.DB, cfg Config) *Syncer {
	cfg.fill()
	return &Syncer{DB: db, Cfg: cfg, Meter: NewMeter(db, cfg.ScopeLimits, cfg.BudgetReserve), log: cfg.Logger, locks: map[int64]chan struct{}{}}
}

// Result is the outcome of one pull.
type Result struct {
	Resource string
	Items    int // records read from RapidPro
	Created  int
	Updated  int
	Skipped  int
	Skips    map[string]int // Skipped by reason (skips.go)
	Requests int            // API requests made
	Err      error
}

// lock takes the org's pull lock, waiting while another pull of the org runs.
func (s *Syncer) lock(ctx context.Context, orgID int64) (func(), error) {
	s.mu.Lock()
	ch := s.locks[orgID]
	if ch == nil {
		ch = make(chan struct{}, 1)
		s.locks[orgID] = ch
	}
	s.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// pull is the state of one running pull.
type pull struct {
	org      *models.Org
	client   *rapidpro.Client
	res      *Result
	requests int
}

// options are the client options for one RapidPro account: the configured
// ones with url and token; before each request the org's hourly budget is
// asked (push: with the reserve kept for writes and pages) and the request
// counted, then counted is called. An orgID of 0 (an org not saved yet) is
// neither metered nor counted.
func (s *Syncer) options(url, token string, orgID int64, push bool, counted func()) rapidpro.Options {
	o := s.Cfg.ClientOptions
	o.BaseURL, o.Token = url, token
	if o.HTTPClient == nil {
		o.HTTPClient = s.Cfg.HTTPClient
	}
	o.Logger = s.log
	o.BeforeRequest = nil
	if orgID != 0 {
		o.BeforeRequest = func(ctx context.Context, scope string) error {
			if err := s.Meter.Allow(ctx, orgID, scope, push); err != nil {
				return err
			}
			s.Meter.Count(ctx, orgID, scope)
			if counted != nil {
				counted()
			}
			return nil
		}
	}
	return o
}

// client returns a RapidPro client for org whose requests are metered and
// counted into p.
func (s *Syncer) client(org *models.Org, p *pull) *rapidpro.Client {
	return rapidpro.New(s.options(org.RapidProURL, org.APIToken, org.ID, false, func() {
		if p != nil {
			p.requests++
		}
	}))
}

// PageClient returns a client for a request a page makes while its user
// waits (the token check of the org form, the contact form's URN lookup):
// at most attempts tries, each within timeout (0 = the configured one), and,
// for a saved org (orgID ≠ 0), metered against its hourly budget like a
// write, so a page never spends what the pulls need.
func (s *Syncer) PageClient(url, token string, orgID int64, attempts int, timeout time.Duration) *rapidpro.Client {
	o := s.options(url, token, orgID, true, nil)
	o.MaxAttempts = attempts
	if timeout > 0 {
		o.Timeout = timeout
	}
	return rapidpro.New(o)
}

// ErrorKind classifies a pull error for sync_runs and the banners.
func ErrorKind(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, rapidpro.ErrToken):
		return "token"
	case errors.Is(err, ErrBudget):
		return "budget"
	case errors.Is(err, rapidpro.ErrRateLimited):
		return "rate_limited"
	case errors.Is(err, rapidpro.ErrUnavailable), errors.Is(err, rapidpro.ErrOutcomeUnknown), errors.Is(err, context.DeadlineExceeded):
		return "unavailable"
	}
	return "other"
}

// Pull runs one pull of resource for org now, whatever its back-off, and
// records it. It is what `tracpro sync` and the scheduler call.
func (s *Syncer) Pull(ctx context.Context, org *models.Org, resource string) Result {
	fn := s.pullFunc(resource)
	if fn == nil {
		return Result{Resource: resource, Err: models.Invalid("unknown resource %q (one of %s)", resource, strings.Join(Resources, ", "))}
	}
	return s.pullWith(ctx, org, resource, fn, true)
}

// pullWith runs fn as a pull of resource under the org's pull lock, with a
// metered client, and records it in sync_runs. A periodic pull (Pull) also
// moves the resource's back-off and is reported to OnPull; the pulls started
// by hand (fetchruns, the backfill task) are not.
func (s *Syncer) pullWith(ctx context.Context, org *models.Org, resource string, fn func(context.Context, *pull) error, periodic bool) Result {
	res := Result{Resource: resource}
	unlock, err := s.lock(ctx, org.ID)
	if err != nil {
		res.Err = err
		return res
	}
	defer unlock()
	runID, err := s.DB.StartSyncRun(ctx, org.ID, resource)
	if err != nil {
		res.Err = err
		return res
	}
	p := &pull{org: org, res: &res}
	p.client = s.client(org, p)
	start := time.Now()
	res.Err = fn(ctx, p)
	res.Requests = p.requests
	rec := &models.SyncRun{ID: runID, Status: "ok", Items: res.Items, Created: res.Created, Updated: res.Updated, Skipped: res.Skipped, Skips: res.Skips, Requests: res.Requests}
	if res.Err != nil {
		rec.Status, rec.ErrorKind, rec.Error = "error", ErrorKind(res.Err), res.Err.Error()
		if rec.ErrorKind == "budget" {
			rec.Status = "skipped"
		}
	}
	// Record the outcome even when ctx was cancelled (shutdown mid-pull).
	bg := context.WithoutCancel(ctx)
	if err := s.DB.FinishSyncRun(bg, rec); err != nil && res.Err == nil {
		res.Err = err
	}
	if periodic {
		if err := s.backoff(bg, org.ID, resource, res.Err); err != nil && res.Err == nil {
			res.Err = err
		}
	}
	if err := s.Meter.Flush(bg); err != nil {
		s.log.Warn("api usage flush failed", "err", err)
	}
	if periodic && s.Cfg.OnPull != nil {
		s.Cfg.OnPull(resource, rec.Status, rec.ErrorKind, time.Since(start))
	}
	lvl := slog.LevelInfo
	if res.Err != nil {
		lvl = slog.LevelWarn
	}
	s.log.Log(ctx, lvl, "pull", "org", org.Subdomain, "resource", resource, "items", res.Items, "created", res.Created,
		"updated", res.Updated, "skipped", res.Skipped, "requests", res.Requests, "duration_ms", time.Since(start).Milliseconds(), "error", errString(res.Err))
	return res
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// backoff updates the failure count and the earliest next scheduled pull.
// A token error pauses the org's pull for BackoffMax; a budget hold is not a failure.
func (s *Syncer) backoff(ctx context.Context, orgID int64, resource string, err error) error {
	st, gerr := s.DB.GetSyncState(ctx, orgID, resource, "")
	if gerr != nil {
		return gerr
	}
	switch kind := ErrorKind(err); kind {
	case "":
		st.Failures, st.NextAt = 0, 0
	case "budget":
		st.NextAt = time.Now().Truncate(time.Hour).Add(time.Hour).UnixMilli()
	default:
		st.Failures++
		d := s.Cfg.BackoffBase << min(st.Failures-1, 20)
		if d > s.Cfg.BackoffMax || d <= 0 || kind == "token" {
			d = s.Cfg.BackoffMax
		}
		st.NextAt = time.Now().Add(d).UnixMilli()
	}
	return s.DB.SaveSyncState(ctx, &st)
}

// Due reports whether a scheduled pull of resource may run now (its back-off elapsed).
func (s *Syncer) Due(ctx context.Context, orgID int64, resource string) (bool, error) {
	st, err := s.DB.GetSyncState(ctx, orgID, resource, "")
	if err != nil {
		return false, err
	}
	return st.NextAt <= time.Now().UnixMilli(), nil
}

func (s *Syncer) pullFunc(resource string) func(context.Context, *pull) error {
	switch resource {
	case ResFlows:
		return s.pullFlows
	case ResGroups:
		return s.pullGroups
	case ResFields:
		return s.pullFields
	case ResBoundaries:
		return s.pullBoundaries
	case ResContacts:
		return s.pullContacts
	case ResRuns:
		return s.pullRuns
	case ResInbox:
		return s.pullInbox
	}
	return nil
}

// SyncAll runs the given pulls (all when only is empty) once, in dependency
// order, and returns their results; it stops at a token error.
func (s *Syncer) SyncAll(ctx context.Context, org *models.Org, only []string) ([]Result, error) {
	want := Resources
	if len(only) > 0 {
		set := map[string]bool{}
		for _, r := range only {
			r = strings.TrimSpace(r)
			if r == "" {
				continue
			}
			if s.pullFunc(r) == nil {
				return nil, models.Invalid("unknown resource %q (one of %s)", r, strings.Join(Resources, ", "))
			}
			set[r] = true
		}
		want = nil
		for _, r := range Resources {
			if set[r] {
				want = append(want, r)
			}
		}
	}
	var out []Result
	for _, r := range want {
		res := s.Pull(ctx, org, r)
		out = append(out, res)
		if errors.Is(res.Err, rapidpro.ErrToken) || ctx.Err() != nil {
			break
		}
	}
	return out, nil
}

// FormatResults renders results as the table `tracpro sync` prints.
func FormatResults(rs []Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-11s %8s %8s %8s %8s %9s  %s\n", "resource", "items", "created", "updated", "skipped", "requests", "status")
	for _, r := range rs {
		status := "ok"
		if r.Err != nil {
			status = "error: " + r.Err.Error()
		}
		fmt.Fprintf(&b, "%-11s %8d %8d %8d %8d %9d  %s\n", r.Resource, r.Items, r.Created, r.Updated, r.Skipped, r.Requests, status)
	}
	for _, r := range rs {
		if r.Skipped > 0 {
			fmt.Fprintf(&b, "%s skipped: %s\n", r.Resource, FormatSkips(r.Skips))
		}
	}
	return b.String()
}
