package fake

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestSrvControlAPI(t *testing.T) {
	e, _ := srvtNew(t, Config{Tokens: []string{"a", "b"}}, srvtArchiveSeed)
	e.tok = "a"
	if resp, _ := e.do("GET", "/_sim/stats", nil, "Authorization", "Token nope"); resp.StatusCode != 403 {
		t.Fatalf("control without token: %d", resp.StatusCode)
	}
	m := e.obj("POST", "/_sim/clock?advance=1h", nil, 200)
	if m["now"] != "2025-03-10T13:00:00Z" {
		t.Fatalf("advance: %v", m)
	}
	e.obj("POST", "/_sim/clock?set=2025-04-01T00:00:00Z", nil, 200)
	if now := e.clk.Now(); !now.Equal(time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("set: %v", now)
	}
	e.obj("POST", "/_sim/faults", map[string]any{"kind": "status", "status": 503, "path": "flows", "times": 1}, 201)
	if resp, _ := e.do("GET", "/api/v2/flows.json", nil); resp.StatusCode != 503 {
		t.Fatalf("scripted fault via control: %d", resp.StatusCode)
	}
	e.obj("POST", "/_sim/faults", map[string]any{"kind": "slow_first_byte", "delay": "10ms", "times": 5}, 201)
	if resp, _ := e.do("DELETE", "/_sim/faults", nil); resp.StatusCode != 204 {
		t.Fatalf("clear faults %d", resp.StatusCode)
	}
	e.obj("POST", "/_sim/faults", map[string]any{"kind": "explode"}, 400)
	m = e.obj("POST", "/_sim/archive?before=2025-03-01T00:00:00Z&period=monthly", nil, 200)
	if m["runs"] != 6.0 || m["messages"] != 1.0 {
		t.Fatalf("archive: %v", m)
	}
	st := e.obj("GET", "/_sim/stats", nil, 200)
	if st["runs"] != 1.0 || st["archived_runs"] != 6.0 || st["contacts"] != 3.0 || st["scopes"].(map[string]any)["v2"] != 1.0 {
		t.Fatalf("stats %v", st)
	}
	resp, raw := e.do("GET", "/_sim/log?limit=2", nil)
	var log []LoggedRequest
	if resp.StatusCode != 200 || json.Unmarshal(raw, &log) != nil || len(log) != 2 || log[0].Path != "/_sim/archive" || log[1].Path != "/_sim/stats" {
		t.Fatalf("log: %d %s", resp.StatusCode, raw)
	}
	e.obj("POST", "/_sim/revoke?token=b", nil, 200)
	e.tok = "b"
	if resp, _ := e.do("GET", "/api/v2/flows.json", nil); resp.StatusCode != 403 {
		t.Fatalf("revoked via control: %d", resp.StatusCode)
	}
}

// BenchmarkServeRunsPage serves a mid-stream 250-run page (by cursor) from a
// store of 1,000,000 runs.
func BenchmarkServeRunsPage(b *testing.B) {
	clk := NewClock()
	clk.Freeze()
	clk.Set(srvtBase)
	st := NewStore(clk)
	fx := &srvtFixture{}
	st.Write(func() {
		fx.flow = st.AddFlow(&Flow{Name: "Survey", Questions: []*Question{{NodeUUID: "11111111-1111-4111-8111-111111111111", Key: "water_points", Name: "Water Points"}}})
		for i := 0; i < 1000; i++ {
			fx.contacts = append(fx.contacts, st.AddContact(&Contact{Name: "C", URNs: []string{"tel:+250788100000"}}))
		}
		for i := 0; i < 1_000_000; i++ {
			srvtRun(st, fx, fx.contacts[i%1000], srvtBase.Add(-time.Duration(1_000_000-i)*time.Second/4), true)
		}
	})
	srv := NewServer(st, Config{Rates: map[string]int{"v2.runs": -1}})
	get := func(url string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Token "+srv.Token())
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		return w
	}
	// find a mid-stream cursor: the position of run 500,000
	mid := st.Runs[500_000].ModifiedOn
	k := timeKey(mid)
	cur := pageCursor{pos: &k}.encode(posTime)
	url := "http://sim.local/api/v2/runs.json?cursor=" + cur
	if w := get(url); w.Code != http.StatusOK || w.Body.Len() < 100000 {
		b.Fatalf("warm-up: %d %d", w.Code, w.Body.Len())
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if w := get(url); w.Code != 200 {
			b.Fatal(w.Code)
		}
		if i%1000 == 999 {
			srv.ResetLog()
		}
	}
}
