package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"tracpro/models"
	"tracpro/rapidpro"
	"tracpro/rapidpro/fake"
)

// env is one org synced from a simulator in a test.
type env struct {
	t      *testing.T
	db     *models.DB
	org    *models.Org
	sim    *fake.Server
	store  *fake.Store
	info   fake.GenInfo
	syncer *Syncer
	http   *httptest.Server
	sleeps *sleepLog
	pages  *pageLog
}

// sleepLog records the client's back-off sleeps instead of sleeping.
type sleepLog struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleepLog) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleepLog) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// pageLog records, for every API GET, the requested URL and the "next" it answered.
type pageLog struct {
	mu      sync.Mutex
	entries []pageEntry
}

type pageEntry struct {
	path, url, next string
	status          int
}

func (p *pageLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		var body struct {
			Next *string `json:"next"`
		}
		e := pageEntry{path: r.URL.Path, url: "http://" + r.Host + r.URL.RequestURI(), status: rec.Code}
		if json.Unmarshal(rec.Body.Bytes(), &body) == nil && body.Next != nil {
			e.next = *body.Next
		}
		p.mu.Lock()
		p.entries = append(p.entries, e)
		p.mu.Unlock()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		io.Copy(w, bytes.NewReader(rec.Body.Bytes()))
	})
}

func (p *pageLog) forPath(path string) []pageEntry {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []pageEntry
	for _, e := range p.entries {
		if e.path == path {
			out = append(out, e)
		}
	}
	return out
}

func (p *pageLog) reset() {
	p.mu.Lock()
	p.entries = nil
	p.mu.Unlock()
}

// newEnv generates an org in a simulator, creates and tracks it locally (all
// panels, cohorts and polls of the generator) — without pulling contacts or runs.
func newEnv(t *testing.T, gen fake.GenConfig, cfg fake.Config, wrap bool) *env {
	t.Helper()
	ctx := context.Background()
	store := fake.NewStore(nil)
	info := fake.Generate(store, gen)
	sim := fake.NewServer(store, cfg)
	e := &env{t: t, store: store, sim: sim, info: info, sleeps: &sleepLog{}, pages: &pageLog{}}
	var h http.Handler = sim
	if wrap {
		h = e.pages.wrap(sim)
	}
	e.http = httptest.NewServer(h)
	t.Cleanup(e.http.Close)
	db, err := models.OpenMigrated(ctx, filepath.Join(t.TempDir(), "tracpro.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e.db = db
	e.org, err = db.CreateOrg(ctx, models.NewOrg{Name: "Test", Subdomain: "test", RapidProURL: e.http.URL, Token: sim.Token(), Timezone: "Africa/Kigali"})
	if err != nil {
		t.Fatal(err)
	}
	e.syncer = NewSyncer(db, Config{
		ClientOptions: rapidpro.Options{Sleep: e.sleeps.sleep, Timeout: 2 * time.Second, MaxAttempts: 4, BackoffBase: time.Millisecond},
		BackoffBase:   time.Millisecond,
		ScopeLimits:   map[string]int{},
		Now:           store.Clock.Now,
	})
	e.mustPull(ResGroups)
	for _, tr := range []struct {
		table string
		names []string
	}{{"regions", info.Panels}, {"cohorts", info.Cohorts}} {
		gs, err := db.ResolveGroups(ctx, e.org.ID, tr.names)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.TrackGroups(ctx, e.org.ID, tr.table, gs); err != nil {
			t.Fatal(err)
		}
	}
	e.mustPull(ResFlows)
	if _, err := db.TrackPolls(ctx, e.org.ID, info.Polls); err != nil {
		t.Fatal(err)
	}
	e.mustPull(ResFlows)
	e.mustPull(ResFields)
	e.mustPull(ResBoundaries)
	return e
}

func (e *env) mustPull(res string) Result {
	e.t.Helper()
	r := e.syncer.Pull(context.Background(), e.org, res)
	if r.Err != nil {
		e.t.Fatalf("pull %s: %v", res, r.Err)
	}
	return r
}

func (e *env) state(res string) models.SyncState {
	e.t.Helper()
	st, err := e.db.GetSyncState(context.Background(), e.org.ID, res, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.QueryRow(query, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}
