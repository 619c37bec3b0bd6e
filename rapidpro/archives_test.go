package rapidpro

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func gzipLines(t *testing.T, lines ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	for _, l := range lines {
		var c bytes.Buffer
		if l != "" {
			if err := json.Compact(&c, []byte(l)); err != nil {
				t.Fatal(err)
			}
		}
		c.WriteByte('\n')
		zw.Write(c.Bytes())
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func archiveServer(t *testing.T, blob []byte) *recorder {
	return newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(blob)
	})
}

func TestStreamRunArchive(t *testing.T) {
	blob := gzipLines(t, ossRun, "", legacyRun, hostedRun)
	rec := archiveServer(t, blob)
	c, _ := testClient(rec, nil)
	a := Archive{Type: "run", StartDate: "2025-01-01", Size: int64(len(blob)), Hash: strings.ToUpper(md5hex(blob)),
		DownloadURL: rec.srv.URL + "/archives/run.jsonl.gz?sig=abc"}
	var keys []string
	err := c.StreamRunArchive(context.Background(), a, func(r Run) error {
		keys = append(keys, r.Key())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(keys, ",") != "r-oss,4012,r-hosted" {
		t.Errorf("keys %v", keys)
	}
	// Same host as the API: the token is sent.
	if rec.requests[0].Header.Get("Authorization") != "Token "+testToken || rec.urls()[0] != "/archives/run.jsonl.gz?sig=abc" {
		t.Errorf("request %v %v", rec.urls(), rec.requests[0].Header)
	}
}

func TestStreamArchiveForeignHostHasNoToken(t *testing.T) {
	blob := gzipLines(t, `{"id": 1, "text": "hi", "direction": "in"}`)
	rec := archiveServer(t, blob)
	// API on another host: the archive URL is foreign.
	c := New(Options{BaseURL: "http://api.invalid", Token: testToken})
	a := Archive{Type: "message", Size: int64(len(blob)), Hash: md5hex(blob), DownloadURL: rec.srv.URL + "/x.gz"}
	var msgs []Message
	if err := c.StreamMessageArchive(context.Background(), a, func(m Message) error { msgs = append(msgs, m); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Key() != "1" || msgs[0].Text != "hi" {
		t.Errorf("msgs %+v", msgs)
	}
	if h := rec.requests[0].Header.Get("Authorization"); h != "" {
		t.Errorf("token sent to foreign host: %q", h)
	}
}

func TestStreamArchiveCorrupt(t *testing.T) {
	blob := gzipLines(t, ossRun)
	rec := archiveServer(t, blob)
	c, _ := testClient(rec, nil)
	for name, a := range map[string]Archive{
		"size": {Size: int64(len(blob)) + 1, Hash: md5hex(blob)},
		"md5":  {Size: int64(len(blob)), Hash: "f0d79988b7772c003d04a28bd7417a62"},
	} {
		a.DownloadURL = rec.srv.URL + "/a.gz"
		delivered := 0
		err := c.StreamArchive(context.Background(), a, func([]byte) error { delivered++; return nil })
		if !errors.Is(err, ErrArchiveCorrupt) || delivered != 0 {
			t.Errorf("%s: err %v delivered %d", name, err, delivered)
		}
	}
	// No size/hash: accepted, lines delivered.
	n := 0
	if err := c.StreamArchive(context.Background(), Archive{DownloadURL: rec.srv.URL + "/a.gz"}, func(line []byte) error {
		n++
		return nil
	}); err != nil || n != 1 {
		t.Errorf("unverified: %v %d", err, n)
	}
	// A body that claims gzip but is garbage, with matching size/hash.
	bad := append([]byte{0x1f, 0x8b}, []byte("not really gzip at all")...)
	rec2 := archiveServer(t, bad)
	err := c.StreamArchive(context.Background(), Archive{Size: int64(len(bad)), Hash: md5hex(bad), DownloadURL: rec2.srv.URL + "/b.gz"},
		func([]byte) error { return nil })
	if !errors.Is(err, ErrArchiveCorrupt) {
		t.Errorf("garbage gzip: %v", err)
	}
}

func TestStreamArchiveRetriesAndErrors(t *testing.T) {
	blob := gzipLines(t, `{"a":1}`, `{"a":2}`)
	var n atomic.Int32
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/expired"):
			w.WriteHeader(http.StatusForbidden)
		case n.Add(1) == 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.Write(blob)
		}
	})
	var endpoints []string
	c, sl := testClient(rec, func(o *Options) {
		o.AfterRequest = func(method, endpoint string, status int, d time.Duration) { endpoints = append(endpoints, endpoint) }
	})
	var lines []string
	a := Archive{Size: int64(len(blob)), Hash: md5hex(blob), DownloadURL: rec.srv.URL + "/ok.gz"}
	if err := c.StreamArchive(context.Background(), a, func(l []byte) error { lines = append(lines, string(l)); return nil }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(lines, "|") != `{"a":1}|{"a":2}` || len(sl.all()) != 1 || strings.Join(endpoints, ",") != "archive_download,archive_download" {
		t.Errorf("lines %v sleeps %v endpoints %v", lines, sl.all(), endpoints)
	}
	err := c.StreamArchive(context.Background(), Archive{DownloadURL: rec.srv.URL + "/expired.gz"}, func([]byte) error { return nil })
	if !errors.Is(err, ErrArchiveExpired) {
		t.Errorf("expired: %v", err)
	}
	if err := c.StreamArchive(context.Background(), Archive{}, func([]byte) error { return nil }); err == nil {
		t.Error("missing URL accepted")
	}
	stop := errors.New("stop")
	err = c.StreamArchive(context.Background(), a, func([]byte) error { return stop })
	if err != stop {
		t.Errorf("fn error not returned as is: %v", err)
	}
}

func TestEachLineLongLines(t *testing.T) {
	long := strings.Repeat("x", 600<<10)
	var got []int
	err := eachLine(strings.NewReader("a\n\n  \n"+long+"\r\nlast"), func(l []byte) error {
		got = append(got, len(l))
		return nil
	})
	if err != nil || len(got) != 3 || got[0] != 1 || got[1] != len(long) || got[2] != 4 {
		t.Errorf("err %v lens %v", err, got)
	}
}

func TestStreamArchiveStallIsRetried(t *testing.T) {
	blob := gzipLines(t, `{"a":1}`)
	var n atomic.Int32
	release := make(chan struct{})
	defer close(release)
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Content-Length", fmt.Sprint(len(blob)))
			w.Write(blob[:5])
			w.(http.Flusher).Flush()
			<-release // stall mid-body
			return
		}
		w.Write(blob)
	})
	c, sl := testClient(rec, func(o *Options) { o.Timeout = 50 * time.Millisecond })
	lines := 0
	a := Archive{Size: int64(len(blob)), Hash: md5hex(blob), DownloadURL: rec.srv.URL + "/a.gz"}
	if err := c.StreamArchive(context.Background(), a, func([]byte) error { lines++; return nil }); err != nil {
		t.Fatal(err)
	}
	if lines != 1 || rec.count() != 2 || len(sl.all()) != 1 {
		t.Errorf("lines %d requests %d sleeps %v", lines, rec.count(), sl.all())
	}
}
