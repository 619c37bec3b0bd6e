// Package rapidpro is a client for the RapidPro API v2 (see RAPIDPRO.md in
// the shared folder). It decodes the legacy-2017, oss-2025 and hosted-2025
// shapes of every resource into one set of types, pages by following "next"
// verbatim, retries reads on transient failures, waits out rate limits up to
// a cap, and never blindly retries a write whose outcome is unknown.
package rapidpro

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Options configures a Client. Zero values take the documented defaults.
type Options struct {
	// BaseURL is the server root, e.g. "https://app.rapidpro.io". A
	// trailing slash or "/api/v2" suffix is tolerated.
	BaseURL string
	// Token is the API token, sent as "Authorization: Token <token>".
	Token string
	// HTTPClient defaults to a new client without a global timeout.
	HTTPClient *http.Client
	// Timeout bounds each HTTP attempt (default 30s).
	Timeout time.Duration
	// MaxRetryAfter caps how long a 429 Retry-After is honoured (default
	// 60s); a longer hint returns a *RateLimitError at once.
	MaxRetryAfter time.Duration
	// MaxAttempts is the total number of attempts per request (default 5).
	MaxAttempts int
	// BackoffBase is the first backoff step (default 500ms); steps double,
	// are capped at BackoffMax (default 30s) and use full jitter.
	BackoffBase time.Duration
	// BackoffMax caps a backoff step.
	BackoffMax time.Duration
	// UserAgent defaults to "tracpro/1 (+go)". A value containing
	// "Zapier" is replaced by the default.
	UserAgent string
	// BeforeRequest is called before every HTTP attempt with the throttle
	// scope ("v2", "v2.runs", "v2.contacts", "v2.messages",
	// "v2.broadcasts"); a non-nil error aborts the call with that error.
	BeforeRequest func(ctx context.Context, scope string) error
	// AfterRequest is called after every HTTP attempt; status 0 means a
	// transport error. Archive downloads report endpoint "archive_download".
	AfterRequest func(method, endpoint string, status int, dur time.Duration)
	// Sleep waits between attempts; the default honours ctx.
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger is optional. The token is never logged.
	Logger *slog.Logger
}

// DefaultUserAgent is sent when Options.UserAgent is empty.
const DefaultUserAgent = "tracpro/1 (+go)"

// queryTimeLayout is the format of after/before datetimes.
const queryTimeLayout = "2006-01-02T15:04:05.000000Z"

// maxBodyRead bounds how much of an error body is read.
const maxBodyRead = 64 << 10

// Client talks to one RapidPro server with one token. It is safe for
// concurrent use.
type Client struct {
	opts    Options
	hc      *http.Client
	root    *url.URL // server root, no trailing slash
	api     *url.URL // root + "/api/v2/"
	baseErr error
	log     *slog.Logger
	ua      string
	sleep   func(ctx context.Context, d time.Duration) error
}

// New returns a Client for o, applying defaults. An invalid BaseURL is
// reported by every call.
func New(o Options) *Client {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = 60 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = 500 * time.Millisecond
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 30 * time.Second
	}
	c := &Client{opts: o, hc: o.HTTPClient, log: o.Logger, ua: o.UserAgent, sleep: o.Sleep}
	if c.hc == nil {
		c.hc = &http.Client{}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.ua == "" || strings.Contains(strings.ToLower(c.ua), "zapier") {
		c.ua = DefaultUserAgent
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}
	base := strings.TrimRight(strings.TrimSpace(o.BaseURL), "/")
	base = strings.TrimSuffix(base, "/api/v2")
	base = strings.TrimRight(base, "/")
	root, err := url.Parse(base)
	if err != nil || root.Scheme == "" || root.Host == "" {
		c.baseErr = fmt.Errorf("rapidpro: invalid BaseURL %q", o.BaseURL)
		return c
	}
	root.RawQuery, root.Fragment = "", ""
	c.root = root
	c.api, _ = url.Parse(root.String() + "/api/v2/")
	return c
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// scopeOf returns the throttle scope of an endpoint.
func scopeOf(endpoint string) string {
	switch endpoint {
	case "runs", "contacts", "messages", "broadcasts":
		return "v2." + endpoint
	}
	return "v2"
}

// endpointURL builds the URL of an endpoint with a query.
func (c *Client) endpointURL(endpoint string, q url.Values) string {
	u := c.api.String() + endpoint + ".json"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// resolve turns a "next" (or stored resume) URL into the URL to fetch:
// relative URLs are resolved against the API base, and an absolute URL is
// kept verbatim except that its scheme and host are forced to the
// configured server's, so the token never leaves for another host.
func (c *Client) resolve(next string) (string, error) {
	ref, err := url.Parse(strings.TrimSpace(next))
	if err != nil {
		return "", fmt.Errorf("rapidpro: invalid next URL: %w", err)
	}
	u := c.api.ResolveReference(ref)
	if u.Scheme != c.root.Scheme || u.Host != c.root.Host {
		c.log.Debug("rapidpro: rebasing next URL onto BaseURL", "host", u.Host)
		u.Scheme, u.Host, u.User = c.root.Scheme, c.root.Host, nil
	}
	return u.String(), nil
}

// request is one logical API call, retried as a whole.
type request struct {
	method   string
	endpoint string // e.g. "runs"
	url      string
	body     []byte
	// decode reads a 2xx body; nil discards it. It must reset its target,
	// since it may run once per attempt.
	decode func(io.Reader) error
}

// attemptResult is the outcome of one attempt: done (err nil, !retry),
// fatal (err set, !retry) or transient (retry; err is the error to return
// if no attempts remain; wait is a server-imposed delay, 0 for backoff).
type attemptResult struct {
	err   error
	retry bool
	wait  time.Duration
}

// do runs r with the retry policy.
func (c *Client) do(ctx context.Context, r request) error {
	if c.baseErr != nil {
		return c.baseErr
	}
	scope := scopeOf(r.endpoint)
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return c.wrapCtx(r, err)
		}
		if c.opts.BeforeRequest != nil {
			if err := c.opts.BeforeRequest(ctx, scope); err != nil {
				return err
			}
		}
		res := c.attempt(ctx, r)
		if !res.retry {
			return res.err
		}
		if attempt >= c.opts.MaxAttempts {
			return res.err
		}
		wait := res.wait
		if wait <= 0 {
			wait = c.backoff(attempt)
		}
		c.log.Debug("rapidpro: retrying", "method", r.method, "endpoint", r.endpoint,
			"attempt", attempt, "wait", wait, "error", res.err.Error())
		if err := c.sleep(ctx, wait); err != nil {
			return c.wrapCtx(r, err)
		}
	}
}

// backoff returns the full-jitter delay before attempt+1.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.opts.BackoffBase
	for i := 1; i < attempt && d < c.opts.BackoffMax; i++ {
		d *= 2
	}
	if d > c.opts.BackoffMax {
		d = c.opts.BackoffMax
	}
	return time.Duration(rand.Int64N(int64(d) + 1))
}

func (c *Client) wrapCtx(r request, err error) error {
	return fmt.Errorf("rapidpro: %s %s: %w", r.method, r.endpoint, err)
}

// attempt performs one HTTP exchange and classifies its outcome.
func (c *Client) attempt(ctx context.Context, r request) (res attemptResult) {
	actx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(actx, r.method, r.url, body)
	if err != nil {
		return attemptResult{err: fmt.Errorf("rapidpro: %s %s: %w", r.method, r.endpoint, err)}
	}
	req.Header.Set("Authorization", "Token "+c.opts.Token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	start := time.Now()
	status := 0
	if c.opts.AfterRequest != nil {
		defer func() { c.opts.AfterRequest(r.method, r.endpoint, status, time.Since(start)) }()
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return c.transportFailure(ctx, actx, r, err, !isDialError(err))
	}
	defer resp.Body.Close()
	status = resp.StatusCode

	switch {
	case status >= 200 && status < 300:
		if r.decode == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBodyRead))
			return attemptResult{}
		}
		if err := r.decode(resp.Body); err != nil {
			var ie *json.InvalidUnmarshalError
			if errors.As(err, &ie) {
				return attemptResult{err: fmt.Errorf("rapidpro: %s %s: %w", r.method, r.endpoint, err)}
			}
			// The decoders tolerate mistyped fields, so what fails here
			// is a truncated or garbled body, or a broken read: transient.
			return c.transportFailure(ctx, actx, r, fmt.Errorf("reading body: %w", err), true)
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBodyRead))
		return attemptResult{}

	case status == http.StatusTooManyRequests:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBodyRead))
		ra, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		rl := &RateLimitError{RetryAfter: ra, Endpoint: r.endpoint}
		if ok && ra > c.opts.MaxRetryAfter {
			return attemptResult{err: rl}
		}
		return attemptResult{err: rl, retry: true, wait: ra}

	default:
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxBodyRead))
		apiErr := newAPIError(r.method, r.endpoint, status, data)
		if status >= 500 {
			if r.method == http.MethodPost {
				return attemptResult{err: &OutcomeUnknownError{Method: r.method, Endpoint: r.endpoint, Cause: apiErr}}
			}
			return attemptResult{err: apiErr, retry: true}
		}
		return attemptResult{err: apiErr}
	}
}

// transportFailure classifies a failed exchange. mayHaveSent is false only
// when the connection was never established.
func (c *Client) transportFailure(ctx, actx context.Context, r request, err error, mayHaveSent bool) attemptResult {
	if ctx.Err() != nil {
		err := c.wrapCtx(r, ctx.Err())
		if r.method == http.MethodPost && mayHaveSent {
			// Cancelled in flight: the write may still have happened.
			err = &OutcomeUnknownError{Method: r.method, Endpoint: r.endpoint, Cause: err}
		}
		return attemptResult{err: err}
	}
	cause := err
	if errors.Is(actx.Err(), context.DeadlineExceeded) {
		cause = fmt.Errorf("%w after %s", errAttemptTimeout, c.opts.Timeout)
	}
	if r.method == http.MethodPost && mayHaveSent {
		return attemptResult{err: &OutcomeUnknownError{Method: r.method, Endpoint: r.endpoint, Cause: cause}}
	}
	return attemptResult{
		err:   fmt.Errorf("rapidpro: %s %s: %w: %w", r.method, r.endpoint, ErrUnavailable, cause),
		retry: true,
	}
}

// isDialError reports whether err happened while connecting, i.e. before
// any byte of the request could have been sent.
func isDialError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// parseRetryAfter reads a Retry-After header (seconds or an HTTP date).
// ok is false when it is absent, unparsable or not positive.
func parseRetryAfter(h string, now time.Time) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(h, 64); err == nil {
		if secs <= 0 || secs != secs {
			return 0, false
		}
		if secs > 1e9 {
			secs = 1e9
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := t.Sub(now); d > 0 {
			return d.Round(time.Second), true
		}
	}
	return 0, false
}

// converter is implemented by pointers to wire structs.
type converter[T any, W any] interface {
	*W
	api() T
}

// pageDecoder reads one page body: its results, its raw "next" and how
// many values did not fit their field (tolerated).
type pageDecoder[T any] func(io.Reader) (results []T, next string, mistyped int, err error)

// wireDecoder is the page decoder of endpoints decoded with encoding/json
// into a wire struct W converted to T.
func wireDecoder[T any, W any, PW converter[T, W]]() pageDecoder[T] {
	return func(rd io.Reader) ([]T, string, int, error) {
		var page wirePage[W]
		mistyped, err := decodePage(rd, &page)
		if err != nil {
			return nil, "", mistyped, err
		}
		results := make([]T, len(page.Results))
		for i := range page.Results {
			results[i] = PW(&page.Results[i]).api()
		}
		return results, string(page.Next), mistyped, nil
	}
}

// list pages through an endpoint with the wire decoder of W.
func list[T any, W any, PW converter[T, W]](ctx context.Context, c *Client, endpoint string, q url.Values, resume string, fn func(Page[T]) error) error {
	return listWith(ctx, c, endpoint, q, resume, wireDecoder[T, W, PW](), fn)
}

// listWith pages through an endpoint, calling fn once per page.
func listWith[T any](ctx context.Context, c *Client, endpoint string, q url.Values, resume string, decode pageDecoder[T], fn func(Page[T]) error) error {
	if c.baseErr != nil {
		return c.baseErr
	}
	u := c.endpointURL(endpoint, q)
	if resume != "" {
		var err error
		if u, err = c.resolve(resume); err != nil {
			return err
		}
	}
	for {
		var results []T
		var rawNext string
		err := c.do(ctx, request{method: http.MethodGet, endpoint: endpoint, url: u,
			decode: func(rd io.Reader) error {
				var mistyped int
				var err error
				results, rawNext, mistyped, err = decode(rd)
				if mistyped > 0 {
					c.log.Warn("rapidpro: ignored mistyped values", "endpoint", endpoint, "count", mistyped)
				}
				return err
			}})
		if err != nil {
			return err
		}
		next := ""
		if len(results) > 0 && rawNext != "" {
			if next, err = c.resolve(rawNext); err != nil {
				return err
			}
		}
		if err := fn(Page[T]{Results: results, Next: next}); err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		if next == u {
			return fmt.Errorf("rapidpro: GET %s: server returned the same next URL again", endpoint)
		}
		u = next
	}
}

// decodeJSON decodes one JSON value from rd into v, tolerating type
// mismatches of single fields (logged, not fatal).
func (c *Client) decodeJSON(rd io.Reader, v any, endpoint string) error {
	err := json.NewDecoder(rd).Decode(v)
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		c.log.Warn("rapidpro: ignoring mistyped field", "endpoint", endpoint, "field", te.Field, "value", te.Value)
		return nil
	}
	return err
}

// getOne fetches a single object (not a page).
func (c *Client) getOne(ctx context.Context, endpoint string, q url.Values, out any) error {
	if c.baseErr != nil {
		return c.baseErr
	}
	return c.do(ctx, request{method: http.MethodGet, endpoint: endpoint, url: c.endpointURL(endpoint, q),
		decode: func(rd io.Reader) error { return c.decodeJSON(rd, out, endpoint) }})
}

// write sends a POST or DELETE with an optional JSON body and decodes the
// answer into out (when non-nil).
func (c *Client) write(ctx context.Context, method, endpoint string, q url.Values, body any, out any) error {
	if c.baseErr != nil {
		return c.baseErr
	}
	r := request{method: method, endpoint: endpoint, url: c.endpointURL(endpoint, q)}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("rapidpro: %s %s: encoding body: %w", method, endpoint, err)
		}
		r.body = b
	}
	if out != nil {
		r.decode = func(rd io.Reader) error { return c.decodeJSON(rd, out, endpoint) }
	}
	return c.do(ctx, r)
}
