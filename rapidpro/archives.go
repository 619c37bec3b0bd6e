package rapidpro

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// downloadEndpoint is the endpoint name archive downloads report to
// Options.AfterRequest.
const downloadEndpoint = "archive_download"

// StreamArchive downloads a.DownloadURL to a temporary file, checks its
// size and MD5 against a.Size and a.Hash (when set; a mismatch gives
// ErrArchiveCorrupt), then gunzips it and calls fn for each non-empty JSON
// line, in order. No line is delivered before the whole file is verified.
// The line slice is only valid during the call.
//
// The pre-signed URL is fetched without the Authorization header unless it
// points at the API server itself. Options.Timeout bounds each stall of the
// download (no bytes received), not the whole transfer. Transient failures
// are retried like reads; a refused link (403/404/410) gives
// ErrArchiveExpired. BeforeRequest is not called: downloads are not API
// requests.
func (c *Client) StreamArchive(ctx context.Context, a Archive, fn func(line []byte) error) error {
	if c.baseErr != nil {
		return c.baseErr
	}
	if strings.TrimSpace(a.DownloadURL) == "" {
		return fmt.Errorf("rapidpro: archive %s %s has no download URL", a.Type, a.StartDate)
	}
	ref, err := url.Parse(strings.TrimSpace(a.DownloadURL))
	if err != nil {
		return fmt.Errorf("rapidpro: archive download URL: %w", err)
	}
	u := c.root.ResolveReference(ref)
	sameHost := u.Host == c.root.Host

	f, err := os.CreateTemp("", "rapidpro-archive-*.jsonl.gz")
	if err != nil {
		return fmt.Errorf("rapidpro: archive temp file: %w", err)
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()

	size, sum, err := c.download(ctx, u.String(), sameHost, f)
	if err != nil {
		return err
	}
	if a.Size > 0 && size != a.Size {
		return fmt.Errorf("%w: %s %s: size %d, expected %d", ErrArchiveCorrupt, a.Type, a.StartDate, size, a.Size)
	}
	if h := strings.TrimSpace(a.Hash); h != "" && !strings.EqualFold(h, sum) {
		return fmt.Errorf("%w: %s %s: md5 %s, expected %s", ErrArchiveCorrupt, a.Type, a.StartDate, sum, h)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rapidpro: archive temp file: %w", err)
	}
	return streamArchiveFile(f, fn)
}

// StreamRunArchive streams a run archive, decoding each line as a Run.
func (c *Client) StreamRunArchive(ctx context.Context, a Archive, fn func(Run) error) error {
	n := 0
	s := scanner{share: true}
	return c.StreamArchive(ctx, a, func(line []byte) error {
		n++
		if len(s.names) >= maxInterned {
			s.names = nil // start afresh now and then on long streams
		}
		var r Run
		if _, err := s.decodeRun(line, &r); err != nil {
			return fmt.Errorf("%w: line %d: %v", ErrArchiveCorrupt, n, err)
		}
		return fn(r)
	})
}

// StreamMessageArchive streams a message archive, decoding each line as a
// Message.
func (c *Client) StreamMessageArchive(ctx context.Context, a Archive, fn func(Message) error) error {
	n := 0
	return c.StreamArchive(ctx, a, func(line []byte) error {
		n++
		var w wireMessage
		if err := decodeTolerant(line, &w); err != nil {
			return fmt.Errorf("%w: line %d: %v", ErrArchiveCorrupt, n, err)
		}
		return fn(w.api())
	})
}

// streamArchiveFile decompresses f (plain JSON lines are accepted too) and
// delivers its lines. Errors from fn are returned as is.
func streamArchiveFile(f io.Reader, fn func([]byte) error) error {
	br := bufio.NewReaderSize(f, 64<<10)
	var src io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrArchiveCorrupt, err)
		}
		defer zr.Close()
		src = zr
	}
	var fnErr error
	err := eachLine(src, func(line []byte) error {
		fnErr = fn(line)
		return fnErr
	})
	if err != nil && fnErr == nil {
		return fmt.Errorf("%w: %v", ErrArchiveCorrupt, err)
	}
	return err
}

// eachLine calls fn for every non-blank line of r, without a line length
// limit. The slice passed to fn is reused.
func eachLine(r io.Reader, fn func([]byte) error) error {
	br := bufio.NewReaderSize(r, 256<<10)
	var long []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long, chunk...)
			continue
		}
		line := chunk
		if len(long) > 0 {
			long = append(long, chunk...)
			line = long
		}
		if line = bytes.TrimSpace(line); len(line) > 0 {
			if ferr := fn(line); ferr != nil {
				return ferr
			}
		}
		long = long[:0]
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// download fetches u into f with retries and returns the size and hex MD5
// of what was written.
func (c *Client) download(ctx context.Context, u string, sameHost bool, f *os.File) (int64, string, error) {
	r := request{method: http.MethodGet, endpoint: downloadEndpoint, url: u}
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return 0, "", c.wrapCtx(r, err)
		}
		if err := f.Truncate(0); err != nil {
			return 0, "", fmt.Errorf("rapidpro: archive temp file: %w", err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return 0, "", fmt.Errorf("rapidpro: archive temp file: %w", err)
		}
		h := md5.New()
		n, res := c.downloadAttempt(ctx, u, sameHost, io.MultiWriter(f, h))
		if !res.retry {
			if res.err != nil {
				return 0, "", res.err
			}
			return n, hex.EncodeToString(h.Sum(nil)), nil
		}
		if attempt >= c.opts.MaxAttempts {
			return 0, "", res.err
		}
		wait := res.wait
		if wait <= 0 {
			wait = c.backoff(attempt)
		}
		if err := c.sleep(ctx, wait); err != nil {
			return 0, "", c.wrapCtx(r, err)
		}
	}
}

// stallReader cancels the attempt when no bytes arrive for a while.
type stallReader struct {
	r       io.Reader
	timer   *time.Timer
	timeout time.Duration
}

// Read reads from the body and re-arms the stall timer on progress.
func (s *stallReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 {
		s.timer.Reset(s.timeout)
	}
	return n, err
}

// downloadAttempt performs one download into w.
func (c *Client) downloadAttempt(ctx context.Context, u string, sameHost bool, w io.Writer) (int64, attemptResult) {
	r := request{method: http.MethodGet, endpoint: downloadEndpoint, url: u}
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stalled atomic.Bool
	timer := time.AfterFunc(c.opts.Timeout, func() {
		stalled.Store(true)
		cancel()
	})
	defer timer.Stop()

	req, err := http.NewRequestWithContext(actx, http.MethodGet, u, nil)
	if err != nil {
		return 0, attemptResult{err: fmt.Errorf("rapidpro: archive download: %w", err)}
	}
	req.Header.Set("User-Agent", c.ua)
	if sameHost {
		req.Header.Set("Authorization", "Token "+c.opts.Token)
	}
	start := time.Now()
	status := 0
	if c.opts.AfterRequest != nil {
		defer func() { c.opts.AfterRequest(http.MethodGet, downloadEndpoint, status, time.Since(start)) }()
	}
	fail := func(err error) attemptResult {
		if ctx.Err() != nil {
			return attemptResult{err: c.wrapCtx(r, ctx.Err())}
		}
		if stalled.Load() {
			err = fmt.Errorf("%w: no data for %s", errAttemptTimeout, c.opts.Timeout)
		}
		return attemptResult{err: fmt.Errorf("rapidpro: archive download: %w: %w", ErrUnavailable, err), retry: true}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, fail(err)
	}
	defer resp.Body.Close()
	status = resp.StatusCode
	timer.Reset(c.opts.Timeout)

	switch {
	case status == http.StatusOK:
		n, err := io.Copy(w, &stallReader{r: resp.Body, timer: timer, timeout: c.opts.Timeout})
		if err != nil {
			return 0, fail(err)
		}
		return n, attemptResult{}
	case status == http.StatusTooManyRequests:
		ra, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		rl := &RateLimitError{RetryAfter: ra, Endpoint: downloadEndpoint}
		if ok && ra > c.opts.MaxRetryAfter {
			return 0, attemptResult{err: rl}
		}
		return 0, attemptResult{err: rl, retry: true, wait: ra}
	case status == http.StatusForbidden || status == http.StatusNotFound || status == http.StatusGone:
		return 0, attemptResult{err: fmt.Errorf("rapidpro: archive download: HTTP %d: %w", status, ErrArchiveExpired)}
	case status >= 500:
		return 0, attemptResult{err: fmt.Errorf("rapidpro: archive download: HTTP %d: %w", status, ErrUnavailable), retry: true}
	default:
		return 0, attemptResult{err: fmt.Errorf("rapidpro: archive download: unexpected HTTP %d", status)}
	}
}
