package rapidpro

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinel errors, for use with errors.Is.
var (
	// ErrToken means the server refused the API token (HTTP 403): it is
	// invalid, revoked, or its user lacks permission.
	ErrToken = errors.New("rapidpro: token rejected")
	// ErrRateLimited means the server throttled the request (HTTP 429) and
	// the client gave up waiting.
	ErrRateLimited = errors.New("rapidpro: rate limited")
	// ErrOutcomeUnknown means a non-idempotent request (POST) may or may not
	// have taken effect on the server. Check it before ErrUnavailable: such
	// an error may wrap a 5xx and must not be retried blindly.
	ErrOutcomeUnknown = errors.New("rapidpro: outcome unknown")
	// ErrNotFound means HTTP 404 (unknown object or invalid cursor).
	ErrNotFound = errors.New("rapidpro: not found")
	// ErrUnavailable means the server could not be reached or kept failing
	// (5xx, timeouts, connection errors, truncated bodies).
	ErrUnavailable = errors.New("rapidpro: server unavailable")
	// ErrBadRequest means HTTP 400: the server rejected the parameters or
	// the body.
	ErrBadRequest = errors.New("rapidpro: bad request")
	// ErrArchiveCorrupt means a downloaded archive failed its size or MD5
	// check, or could not be decompressed.
	ErrArchiveCorrupt = errors.New("rapidpro: archive corrupt")
	// ErrArchiveExpired means an archive download link was refused (403/410),
	// usually because the pre-signed URL expired; list the archives again.
	ErrArchiveExpired = errors.New("rapidpro: archive link expired")
)

// errAttemptTimeout is the cause recorded when one HTTP attempt exceeds
// Options.Timeout. It is deliberately not context.DeadlineExceeded so that
// callers do not mistake it for their own context's deadline.
var errAttemptTimeout = errors.New("request attempt timed out")

// maxErrorBody is how much of an error body is kept in APIError.Body.
const maxErrorBody = 512

// APIError is a non-2xx answer from the API that was not retried away.
type APIError struct {
	Method   string
	Endpoint string
	Status   int
	// Detail is the "detail" string of a DRF error, or a plain-text body.
	Detail string
	// Fields holds per-field validation messages, flattened with dots:
	// {"urns":{"0":["Invalid URN"]}} becomes "urns.0".
	Fields map[string][]string
	// NonField holds "non_field_errors" and bare lists of messages.
	NonField []string
	// Body is the start of the raw body (at most 512 bytes).
	Body string
}

// Error returns a message that is safe to show to users; it never contains
// the token.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rapidpro: %s %s: HTTP %d", e.Method, e.Endpoint, e.Status)
	if t := http.StatusText(e.Status); t != "" {
		b.WriteString(" " + t)
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	for _, m := range e.NonField {
		b.WriteString("; " + m)
	}
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString("; " + k + ": " + strings.Join(e.Fields[k], " "))
	}
	return b.String()
}

// Is maps the status code onto the package sentinels: 403 is ErrToken, 404
// ErrNotFound, 400 ErrBadRequest, 429 ErrRateLimited and 5xx ErrUnavailable.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrToken:
		return e.Status == http.StatusForbidden
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrBadRequest:
		return e.Status == http.StatusBadRequest
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests
	case ErrUnavailable:
		return e.Status >= 500
	}
	return false
}

// RateLimitError reports a 429 the client did not (or no longer) wait out.
// RetryAfter is the server's hint, zero when it sent none.
type RateLimitError struct {
	RetryAfter time.Duration
	Endpoint   string
}

// Error describes the throttling.
func (e *RateLimitError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("rapidpro: %s: rate limited, retry after %s", e.Endpoint, e.RetryAfter)
	}
	return fmt.Sprintf("rapidpro: %s: rate limited", e.Endpoint)
}

// Is reports whether target is ErrRateLimited.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// OutcomeUnknownError reports a write whose effect is unknown: the request
// may have reached the server before a 5xx, a timeout or a broken
// connection. Do not retry it automatically (broadcasts and flow starts are
// not idempotent).
type OutcomeUnknownError struct {
	Method   string
	Endpoint string
	Cause    error
}

// Error describes the failed write.
func (e *OutcomeUnknownError) Error() string {
	return fmt.Sprintf("rapidpro: %s %s: outcome unknown: %v", e.Method, e.Endpoint, e.Cause)
}

// Is reports whether target is ErrOutcomeUnknown.
func (e *OutcomeUnknownError) Is(target error) bool { return target == ErrOutcomeUnknown }

// Unwrap returns the cause.
func (e *OutcomeUnknownError) Unwrap() error { return e.Cause }

// newAPIError builds an APIError from a response body, understanding every
// error body form the API produces: plain text, a JSON string, a JSON list,
// {"detail": ...}, {field: [...]}, {field: "..."} and nested dicts.
func newAPIError(method, endpoint string, status int, body []byte) *APIError {
	e := &APIError{Method: method, Endpoint: endpoint, Status: status, Body: truncateUTF8(body, maxErrorBody)}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return e
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil || dec.More() {
		// Not JSON: keep a short plain-text detail, but not HTML pages.
		if trimmed[0] != '<' {
			line, _, _ := strings.Cut(string(trimmed), "\n")
			e.Detail = truncateUTF8([]byte(strings.TrimSpace(line)), 200)
		}
		return e
	}
	switch x := v.(type) {
	case string:
		e.Detail = x
	case []any:
		e.NonField = messages(x)
	case map[string]any:
		for k, val := range x {
			switch k {
			case "detail":
				if s, ok := val.(string); ok {
					e.Detail = s
					continue
				}
			case "non_field_errors":
				e.NonField = append(e.NonField, messages(val)...)
				continue
			}
			flattenErrors(e, k, val)
		}
	default:
		e.Detail = fmt.Sprint(x)
	}
	return e
}

// flattenErrors records val (a message, list or nested dict) under path.
func flattenErrors(e *APIError, path string, val any) {
	add := func(p string, msgs ...string) {
		if len(msgs) == 0 {
			return
		}
		if e.Fields == nil {
			e.Fields = make(map[string][]string)
		}
		e.Fields[p] = append(e.Fields[p], msgs...)
	}
	switch x := val.(type) {
	case map[string]any:
		for k, sub := range x {
			flattenErrors(e, path+"."+k, sub)
		}
	case []any:
		var direct []string
		for i, item := range x {
			switch item.(type) {
			case map[string]any, []any:
				flattenErrors(e, path+"."+strconv.Itoa(i), item)
			default:
				direct = append(direct, messages(item)...)
			}
		}
		add(path, direct...)
	default:
		add(path, messages(x)...)
	}
}

// messages turns a scalar or a list of scalars into strings.
func messages(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, item := range x {
			out = append(out, messages(item)...)
		}
		return out
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out []string
		for _, k := range keys {
			for _, m := range messages(x[k]) {
				out = append(out, k+": "+m)
			}
		}
		return out
	default:
		return []string{fmt.Sprint(x)}
	}
}

// truncateUTF8 returns at most n bytes of b as a string without splitting a
// UTF-8 sequence.
func truncateUTF8(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	b = b[:n]
	for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
		r, size := utf8.DecodeLastRune(b)
		if r != utf8.RuneError || size > 1 {
			break
		}
		b = b[:len(b)-1]
	}
	return string(b)
}
