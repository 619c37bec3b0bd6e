package fake

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// srvtRaw does a GET with the token and returns the response and the body read
// error, if any.
func (e *srvtEnv) srvtRaw(ctx context.Context, path string) (*http.Response, []byte, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", e.ts.URL+path, nil)
	req.Header.Set("Authorization", "Token "+e.tok)
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestSrvFaultStatus(t *testing.T) {
	e, _ := srvtNew(t, Config{}, srvtTenTies)
	e.srv.Script(Fault{Kind: FaultStatus, Status: 500, Path: "runs", Times: 2})
	e.srv.Script(Fault{Kind: FaultStatus, Status: 502})
	e.srv.Script(Fault{Kind: FaultStatus, Status: 503, Method: "POST"})
	for i := 0; i < 2; i++ {
		resp, raw := e.do("GET", "/api/v2/runs.json", nil)
		if resp.StatusCode != 500 || string(raw) != "Server Error. Site administrators have been notified." ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("500: %d %s", resp.StatusCode, raw)
		}
	}
	resp, raw := e.do("GET", "/api/v2/runs.json", nil)
	if resp.StatusCode != 502 || !strings.Contains(string(raw), "<h1>502 Bad Gateway</h1>") {
		t.Fatalf("502: %d %s", resp.StatusCode, raw)
	}
	e.obj("GET", "/api/v2/runs.json", nil, 200)
	resp, _ = e.do("POST", "/api/v2/contacts.json", map[string]any{"name": "X"})
	if resp.StatusCode != 503 {
		t.Fatalf("503 for POST: %d", resp.StatusCode)
	}
	e.st.Read(func() {
		if len(e.st.Contacts) != 3 {
			t.Fatal("a status fault must not run the handler")
		}
	})
	// custom body
	e.srv.Script(Fault{Kind: FaultStatus, Status: 504, Body: "<html>gateway timeout</html>"})
	resp, raw = e.do("GET", "/api/v2/flows.json", nil)
	if resp.StatusCode != 504 || string(raw) != "<html>gateway timeout</html>" {
		t.Fatalf("504: %d %s", resp.StatusCode, raw)
	}
}

func TestSrvFaultProbability(t *testing.T) {
	e, _ := srvtNew(t, Config{}, nil)
	e.srv.Script(Fault{Kind: FaultStatus, Status: 503, Probability: 0.5, Seed: 7})
	hits := 0
	for i := 0; i < 60; i++ {
		if resp, _ := e.do("GET", "/api/v2/flows.json", nil); resp.StatusCode == 503 {
			hits++
		}
	}
	if hits < 15 || hits > 45 {
		t.Fatalf("probability 0.5 hit %d/60", hits)
	}
	e.srv.ClearFaults()
	e.obj("GET", "/api/v2/flows.json", nil, 200)
}

func TestSrvFaultTruncateAndReset(t *testing.T) {
	e, _ := srvtNew(t, Config{}, srvtTenTies)
	e.srv.Script(Fault{Kind: FaultTruncate, Path: "runs"})
	resp, raw, err := e.srvtRaw(context.Background(), "/api/v2/runs.json")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("truncate: %v %v", resp, err)
	}
	var v any
	if json.Unmarshal(raw, &v) == nil || len(raw) < 10 {
		t.Fatalf("truncated body should be invalid JSON: %d bytes", len(raw))
	}
	e.srv.Script(Fault{Kind: FaultReset, Path: "runs"})
	resp, raw, err = e.srvtRaw(context.Background(), "/api/v2/runs.json")
	if err == nil {
		t.Fatalf("reset: expected a body read error, got %d bytes", len(raw))
	}
	if resp.StatusCode != 200 || len(raw) == 0 {
		t.Fatalf("reset should send headers and some bytes first: %d %d", resp.StatusCode, len(raw))
	}
	_, _, err = e.srvtRaw(context.Background(), "/api/v2/runs.json")
	if err != nil {
		t.Fatalf("after the fault: %v", err)
	}
}

func TestSrvFaultSlow(t *testing.T) {
	e, _ := srvtNew(t, Config{}, srvtTenTies)
	e.srv.Script(Fault{Kind: FaultSlowFirstByte, Delay: 150 * time.Millisecond})
	start := time.Now()
	if _, raw, err := e.srvtRaw(context.Background(), "/api/v2/runs.json"); err != nil || !json.Valid(raw) {
		t.Fatalf("slow first byte: %v", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("slow first byte took %v", d)
	}
	e.srv.Script(Fault{Kind: FaultSlowBody, Delay: 200 * time.Millisecond})
	start = time.Now()
	resp, raw, err := e.srvtRaw(context.Background(), "/api/v2/runs.json")
	if err != nil || !json.Valid(raw) || resp.StatusCode != 200 {
		t.Fatalf("slow body: %v", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("slow body took %v", d)
	}
	// a client timeout shorter than the delay fails
	e.srv.Script(Fault{Kind: FaultSlowFirstByte, Delay: 2 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, _, err := e.srvtRaw(ctx, "/api/v2/runs.json"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("expected deadline exceeded, got %v", err)
	}
}

func TestSrvFaultHang(t *testing.T) {
	e, _ := srvtNew(t, Config{}, nil)
	e.srv.Script(Fault{Kind: FaultHang, Path: "flows"})
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := e.srvtRaw(ctx, "/api/v2/flows.json")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("hang: %v after %v", err, time.Since(start))
	}
	// the handler returns once the client is gone and the server keeps serving
	e.obj("GET", "/api/v2/flows.json", nil, 200)
}
