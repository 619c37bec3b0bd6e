package rapidpro

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const testToken = "s3cr3t-t0ken"

// sample returns a shared API sample (a copy lives in testdata/v2).
func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "v2", name))
	if err != nil {
		t.Fatalf("reading sample: %v", err)
	}
	return b
}

// recorder is a scripted test server that records every request.
type recorder struct {
	mu       sync.Mutex
	requests []*http.Request
	bodies   []string
	srv      *httptest.Server
}

// newRecorder starts a server whose handler is h; requests are recorded
// before h runs.
func newRecorder(t *testing.T, h http.HandlerFunc) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body strings.Builder
		if r.Body != nil {
			buf := make([]byte, 4096)
			for {
				n, err := r.Body.Read(buf)
				body.Write(buf[:n])
				if err != nil {
					break
				}
			}
		}
		rec.mu.Lock()
		rec.requests = append(rec.requests, r.Clone(context.Background()))
		rec.bodies = append(rec.bodies, body.String())
		rec.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.requests)
}

// urls returns the request URIs (path + raw query) received so far.
func (r *recorder) urls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, req := range r.requests {
		out = append(out, req.URL.RequestURI())
	}
	return out
}

// sleeps records the durations the client asked to sleep.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// testClient returns a client for rec with a recording, instant Sleep.
func testClient(rec *recorder, mod func(*Options)) (*Client, *sleeps) {
	sl := &sleeps{}
	o := Options{BaseURL: rec.srv.URL, Token: testToken, Sleep: sl.sleep, Timeout: 5 * time.Second}
	if mod != nil {
		mod(&o)
	}
	return New(o), sl
}

// serveSamples answers /api/v2/<name>.json with testdata/v2/<name>.json.
func serveSamples(t *testing.T) *recorder {
	return newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/api/v2/")
		b, err := os.ReadFile(filepath.Join("testdata", "v2", name))
		if err != nil {
			http.Error(w, `{"detail": "Not found."}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	})
}

func strp(s string) *string { return &s }

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v.UTC()
}
