package rapidpro

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func runPage(uuid, next string) string {
	n := "null"
	if next != "" {
		n = fmt.Sprintf("%q", next)
	}
	return fmt.Sprintf(`{"next": %s, "previous": null, "results": [{"uuid": %q, "flow": {"uuid": "f", "name": "F"}}]}`, n, uuid)
}

func TestPaginationFollowsNextVerbatim(t *testing.T) {
	var rec *recorder
	rec = newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("cursor") {
		case "":
			// Absolute next that keeps the original params, in its own order.
			fmt.Fprint(w, runPage("r1", rec.srv.URL+"/api/v2/runs.json?flow=f1&cursor=abc%3D&after=2025-01-01T00%3A00%3A00.000000Z"))
		case "abc=":
			// Relative next.
			fmt.Fprint(w, runPage("r2", "/api/v2/runs.json?cursor=def"))
		case "def":
			fmt.Fprint(w, runPage("r3", ""))
		}
	})
	c, _ := testClient(rec, nil)
	var got []string
	var nexts []string
	after := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	err := c.Runs(context.Background(), RunQuery{Flow: "f1", After: after}, func(p Page[Run]) error {
		for _, r := range p.Results {
			got = append(got, r.UUID)
		}
		nexts = append(nexts, p.Next)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []string{"r1", "r2", "r3"}) {
		t.Errorf("results %v", got)
	}
	wantURLs := []string{
		"/api/v2/runs.json?after=2025-01-01T00%3A00%3A00.000000Z&flow=f1",
		"/api/v2/runs.json?flow=f1&cursor=abc%3D&after=2025-01-01T00%3A00%3A00.000000Z",
		"/api/v2/runs.json?cursor=def",
	}
	if u := rec.urls(); !reflect.DeepEqual(u, wantURLs) {
		t.Errorf("urls:\n got %q\nwant %q", u, wantURLs)
	}
	if nexts[2] != "" || nexts[1] != rec.srv.URL+"/api/v2/runs.json?cursor=def" {
		t.Errorf("nexts %q", nexts)
	}

	// Resume from a stored cursor: first request is that URL verbatim.
	before := rec.count()
	err = c.Runs(context.Background(), RunQuery{Flow: "ignored", Resume: nexts[1]}, func(Page[Run]) error { return nil })
	if err != nil || rec.urls()[before] != "/api/v2/runs.json?cursor=def" {
		t.Errorf("resume: %v %v", err, rec.urls())
	}

	// fn's error stops the iteration and is returned.
	stop := errors.New("stop here")
	before = rec.count()
	err = c.Runs(context.Background(), RunQuery{}, func(Page[Run]) error { return stop })
	if !errors.Is(err, stop) || rec.count() != before+1 {
		t.Errorf("fn error: %v, %d requests", err, rec.count()-before)
	}
}

func TestPaginationStopsOnEmptyResults(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"next": "http://example.invalid/api/v2/runs.json?cursor=x", "results": []}`)
	})
	c, _ := testClient(rec, nil)
	pages := 0
	err := c.Runs(context.Background(), RunQuery{}, func(p Page[Run]) error {
		pages++
		if p.Next != "" {
			t.Errorf("next should be blank when iteration stops: %q", p.Next)
		}
		return nil
	})
	if err != nil || pages != 1 || rec.count() != 1 {
		t.Errorf("err=%v pages=%d requests=%d", err, pages, rec.count())
	}
}

func TestNextOnForeignHostIsRebased(t *testing.T) {
	var rec *recorder
	rec = newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("cursor") == "" {
			fmt.Fprint(w, runPage("r1", "http://evil.example.com:9/api/v2/runs.json?cursor=2"))
			return
		}
		if r.Header.Get("Authorization") != "Token "+testToken {
			t.Error("missing token on rebased request")
		}
		fmt.Fprint(w, runPage("r2", ""))
	})
	c, _ := testClient(rec, nil)
	n := 0
	if err := c.Runs(context.Background(), RunQuery{}, func(p Page[Run]) error { n += len(p.Results); return nil }); err != nil || n != 2 {
		t.Fatalf("err=%v n=%d", err, n)
	}
}

func TestQueryFormatting(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"next": null, "results": []}`)
	})
	c, _ := testClient(rec, nil)
	ctx := context.Background()
	loc := time.FixedZone("CAT", 2*3600)
	after := time.Date(2025, 3, 4, 7, 6, 7, 123456789, loc)
	before := time.Date(2025, 3, 5, 0, 0, 0, 0, time.UTC)
	yes, no := true, false
	noop := func(Page[Run]) error { return nil }
	calls := []func() error{
		func() error {
			return c.Runs(ctx, RunQuery{Flow: "f", Responded: &yes, After: after, Before: before, Reverse: true, Paths: &no}, noop)
		},
		func() error {
			return c.Contacts(ctx, ContactQuery{Group: "Cohort A", Deleted: true, After: after}, func(Page[Contact]) error { return nil })
		},
		func() error {
			return c.Flows(ctx, FlowQuery{Archived: &no, Type: "message"}, func(Page[Flow]) error { return nil })
		},
		func() error {
			return c.Messages(ctx, MessageQuery{UUID: "123", Folder: "inbox"}, func(Page[Message]) error { return nil })
		},
		func() error {
			return c.Archives(ctx, ArchiveQuery{Type: "run", Period: "daily", After: after}, func(Page[Archive]) error { return nil })
		},
		func() error {
			return c.Boundaries(ctx, BoundaryQuery{Geometry: true}, func(Page[Boundary]) error { return nil })
		},
		func() error { return c.Groups(ctx, GroupQuery{}, func(Page[Group]) error { return nil }) },
	}
	for _, call := range calls {
		if err := call(); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		"/api/v2/runs.json?after=2025-03-04T05%3A06%3A07.123456Z&before=2025-03-05T00%3A00%3A00.000000Z&flow=f&paths=false&responded=true&reverse=true",
		"/api/v2/contacts.json?after=2025-03-04T05%3A06%3A07.123456Z&deleted=true&group=Cohort+A",
		"/api/v2/flows.json?archived=false&type=message",
		"/api/v2/messages.json?folder=inbox&id=123",
		"/api/v2/archives.json?after=2025-03-04&archive_type=run&period=daily&type=run",
		"/api/v2/boundaries.json?geometry=true",
		"/api/v2/groups.json",
	}
	if got := rec.urls(); !reflect.DeepEqual(got, want) {
		t.Errorf("urls:\n got %q\nwant %q", got, want)
	}
	h := rec.requests[0].Header
	if h.Get("Authorization") != "Token "+testToken || h.Get("Accept") != "application/json" ||
		h.Get("User-Agent") != DefaultUserAgent || h.Get("Content-Type") != "" {
		t.Errorf("headers: %v", h)
	}
}

func TestBaseURLForms(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"name": "X"}`) })
	for _, base := range []string{rec.srv.URL, rec.srv.URL + "/", rec.srv.URL + "/api/v2", rec.srv.URL + "/api/v2/"} {
		c := New(Options{BaseURL: base, Token: "t", UserAgent: "my Zapier bot"})
		if o, err := c.Org(context.Background()); err != nil || o.Name != "X" {
			t.Errorf("%s: %v", base, err)
		}
	}
	for _, u := range rec.urls() {
		if u != "/api/v2/org.json" {
			t.Errorf("url %q", u)
		}
	}
	if ua := rec.requests[0].Header.Get("User-Agent"); strings.Contains(strings.ToLower(ua), "zapier") {
		t.Errorf("UA %q", ua)
	}
	if _, err := New(Options{BaseURL: "not a url"}).Org(context.Background()); err == nil {
		t.Error("invalid base URL accepted")
	}
}

func TestRateLimitRetryAfterHonoured(t *testing.T) {
	var n atomic.Int32
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 2 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"detail": "Request was throttled. Expected available in 1 second."}`)
			return
		}
		fmt.Fprint(w, runPage("r1", ""))
	})
	c, sl := testClient(rec, nil)
	err := c.Runs(context.Background(), RunQuery{}, func(Page[Run]) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if got := sl.all(); !reflect.DeepEqual(got, []time.Duration{time.Second, time.Second}) {
		t.Errorf("sleeps %v", got)
	}
	if rec.count() != 3 || rec.urls()[0] != rec.urls()[2] {
		t.Errorf("requests %v", rec.urls())
	}
}

func TestRateLimitWithoutHeaderBacksOff(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTooManyRequests)
	})
	c, sl := testClient(rec, func(o *Options) {
		o.BackoffBase = 100 * time.Millisecond
		o.BackoffMax = 250 * time.Millisecond
		o.MaxAttempts = 6
	})
	err := c.Runs(context.Background(), RunQuery{}, func(Page[Run]) error { return nil })
	var rl *RateLimitError
	if !errors.As(err, &rl) || !errors.Is(err, ErrRateLimited) || rl.RetryAfter != 0 || rl.Endpoint != "runs" {
		t.Fatalf("err %v", err)
	}
	got := sl.all()
	if len(got) != 5 || rec.count() != 6 {
		t.Fatalf("sleeps %v, requests %d", got, rec.count())
	}
	caps := []time.Duration{100, 200, 250, 250, 250}
	distinct := map[time.Duration]bool{}
	for i, d := range got {
		distinct[d] = true
		if d < 0 || d > caps[i]*time.Millisecond {
			t.Errorf("sleep %d = %v exceeds cap %v", i, d, caps[i]*time.Millisecond)
		}
	}
	if len(distinct) < 2 {
		t.Errorf("no jitter: %v", got)
	}
}

func TestRateLimitHugeRetryAfterReturnsAtOnce(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	c, sl := testClient(rec, nil)
	err := c.Runs(context.Background(), RunQuery{}, func(Page[Run]) error { return nil })
	var rl *RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != time.Hour {
		t.Fatalf("err %v", err)
	}
	if len(sl.all()) != 0 || rec.count() != 1 {
		t.Errorf("sleeps %v requests %d", sl.all(), rec.count())
	}
}

func TestServerErrorThenSuccessOnGet(t *testing.T) {
	var n atomic.Int32
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1:
			http.Error(w, "Server Error. Site administrators have been notified.", 500)
		case 2:
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "<html><body>Bad Gateway</body></html>")
		case 3:
			fmt.Fprint(w, `{"next": null, "results": [{"uuid": "r1", "flow": `) // truncated JSON
		default:
			fmt.Fprint(w, runPage("r1", ""))
		}
	})
	var statuses []int
	var mu sync.Mutex
	c, sl := testClient(rec, func(o *Options) {
		o.AfterRequest = func(method, endpoint string, status int, d time.Duration) {
			mu.Lock()
			statuses = append(statuses, status)
			mu.Unlock()
			if method != "GET" || endpoint != "runs" {
				t.Errorf("after: %s %s", method, endpoint)
			}
		}
	})
	var got []Run
	err := c.Runs(context.Background(), RunQuery{}, func(p Page[Run]) error { got = append(got, p.Results...); return nil })
	if err != nil || len(got) != 1 {
		t.Fatalf("err %v got %d", err, len(got))
	}
	if len(sl.all()) != 3 || !reflect.DeepEqual(statuses, []int{500, 502, 200, 200}) {
		t.Errorf("sleeps %v statuses %v", sl.all(), statuses)
	}
}

func TestServerErrorExhaustsAttempts(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "Server Error. Site administrators have been notified.", 503)
	})
	c, _ := testClient(rec, func(o *Options) { o.MaxAttempts = 3 })
	err := c.Runs(context.Background(), RunQuery{}, func(Page[Run]) error { return nil })
	var ae *APIError
	if !errors.Is(err, ErrUnavailable) || !errors.As(err, &ae) || ae.Status != 503 || rec.count() != 3 ||
		ae.Detail != "Server Error. Site administrators have been notified." {
		t.Errorf("err %v, %d requests", err, rec.count())
	}
}

func TestForbiddenIsNotRetried(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"detail": "Invalid token"}`)
	})
	c, sl := testClient(rec, nil)
	err := c.Runs(context.Background(), RunQuery{}, func(Page[Run]) error { return nil })
	var ae *APIError
	if !errors.Is(err, ErrToken) || !errors.As(err, &ae) || ae.Detail != "Invalid token" || rec.count() != 1 || len(sl.all()) != 0 {
		t.Fatalf("err %v requests %d", err, rec.count())
	}
	if strings.Contains(err.Error(), testToken) {
		t.Errorf("token leaked: %v", err)
	}
}

func TestPerAttemptTimeoutOnHungHandler(t *testing.T) {
	var n atomic.Int32
	release := make(chan struct{})
	defer close(release)
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			<-release // hang
			return
		}
		fmt.Fprint(w, runPage("r1", ""))
	})
	c, sl := testClient(rec, func(o *Options) { o.Timeout = 50 * time.Millisecond })
	start := time.Now()
	err := c.Runs(context.Background(), RunQuery{}, func(Page[Run]) error { return nil })
	if err != nil || rec.count() != 2 || len(sl.all()) != 1 {
		t.Fatalf("err %v requests %d", err, rec.count())
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("took %v", time.Since(start))
	}

	// With every attempt hanging, the error says unavailable, not the
	// caller's context deadline.
	c2, _ := testClient(newRecorder(t, func(w http.ResponseWriter, r *http.Request) { <-release }), func(o *Options) {
		o.Timeout = 20 * time.Millisecond
		o.MaxAttempts = 2
	})
	err = c2.Runs(context.Background(), RunQuery{}, func(Page[Run]) error { return nil })
	if !errors.Is(err, ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v", err)
	}
}

func TestContextCancel(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { <-release })
	c, _ := testClient(rec, nil)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(30*time.Millisecond, cancel)
	err := c.Runs(ctx, RunQuery{}, func(Page[Run]) error { return nil })
	if !errors.Is(err, context.Canceled) || rec.count() != 1 {
		t.Errorf("err %v requests %d", err, rec.count())
	}

	// Cancelled during a backoff sleep (default Sleep honours ctx).
	rec2 := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	c2 := New(Options{BaseURL: rec2.srv.URL, Token: "t", BackoffBase: time.Hour, BackoffMax: time.Hour})
	ctx2, cancel2 := context.WithCancel(context.Background())
	time.AfterFunc(30*time.Millisecond, cancel2)
	start := time.Now()
	err = c2.Runs(ctx2, RunQuery{}, func(Page[Run]) error { return nil })
	if !errors.Is(err, context.Canceled) || time.Since(start) > 5*time.Second {
		t.Errorf("err %v after %v", err, time.Since(start))
	}
}

func TestBeforeRequestScopesAndAbort(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"next": null, "results": []}`)
	})
	var scopes []string
	budget := errors.New("budget exhausted")
	c, _ := testClient(rec, func(o *Options) {
		o.BeforeRequest = func(ctx context.Context, scope string) error {
			scopes = append(scopes, scope)
			if len(scopes) > 4 {
				return budget
			}
			return nil
		}
	})
	ctx := context.Background()
	_ = c.Runs(ctx, RunQuery{}, func(Page[Run]) error { return nil })
	_ = c.Contacts(ctx, ContactQuery{}, func(Page[Contact]) error { return nil })
	_ = c.Messages(ctx, MessageQuery{}, func(Page[Message]) error { return nil })
	_ = c.Flows(ctx, FlowQuery{}, func(Page[Flow]) error { return nil })
	_, err := c.SendBroadcast(ctx, BroadcastWrite{Text: "x", URNs: []string{"tel:+1"}})
	if !errors.Is(err, budget) || rec.count() != 4 {
		t.Errorf("err %v requests %d", err, rec.count())
	}
	if !reflect.DeepEqual(scopes, []string{"v2.runs", "v2.contacts", "v2.messages", "v2", "v2.broadcasts"}) {
		t.Errorf("scopes %v", scopes)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := map[string]struct {
		d  time.Duration
		ok bool
	}{
		"":                              {0, false},
		"0":                             {0, false},
		"abc":                           {0, false},
		"7":                             {7 * time.Second, true},
		"1.5":                           {1500 * time.Millisecond, true},
		"Wed, 01 Jan 2025 00:00:30 GMT": {30 * time.Second, true},
	}
	for h, want := range cases {
		d, ok := parseRetryAfter(h, now)
		if d != want.d || ok != want.ok {
			t.Errorf("%q: %v %v", h, d, ok)
		}
	}
}
