package fake

import (
	"testing"
	"time"
)

func TestSrvThrottleByRate(t *testing.T) {
	e, _ := srvtNew(t, Config{Rates: map[string]int{"v2.runs": 3, "v2": -1}}, nil)
	for i := 0; i < 3; i++ {
		e.obj("GET", "/api/v2/runs.json", nil, 200)
		e.clk.Advance(10 * time.Minute)
	}
	// oldest request is 30 minutes old: 1800 s remain, one slot -> 1800
	resp, raw := e.do("GET", "/api/v2/runs.json", nil)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1800" ||
		string(raw) != `{"detail":"Request was throttled. Expected available in 1800 seconds."}` {
		t.Fatalf("got %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), raw)
	}
	// other scopes are independent; v2 is unlimited here
	for i := 0; i < 10; i++ {
		e.obj("GET", "/api/v2/flows.json", nil, 200)
	}
	// throttled requests are not recorded: after the oldest ages out one slot frees
	e.clk.Advance(30*time.Minute + time.Second)
	e.obj("GET", "/api/v2/runs.json", nil, 200)
	if resp, _ := e.do("GET", "/api/v2/runs.json", nil); resp.StatusCode != 429 {
		t.Fatalf("window should be full again, got %d", resp.StatusCode)
	}
	// a throttled POST writes nothing
	e2, _ := srvtNew(t, Config{Rates: map[string]int{"v2.contacts": 1}}, nil)
	e2.obj("GET", "/api/v2/contacts.json", nil, 200)
	resp, _ = e2.do("POST", "/api/v2/contacts.json", map[string]any{"name": "Nobody"})
	if resp.StatusCode != 429 {
		t.Fatalf("POST not throttled: %d", resp.StatusCode)
	}
	e2.st.Read(func() {
		if len(e2.st.Contacts) != 3 {
			t.Fatalf("throttled POST wrote a contact")
		}
	})
	if c := e2.srv.ScopeCounts(); c["v2.contacts"] != 2 {
		t.Fatalf("scope counts %v", c)
	}
}

func TestSrvThrottleWaitSingular(t *testing.T) {
	e, _ := srvtNew(t, Config{Rates: map[string]int{"v2": 1}}, nil)
	e.obj("GET", "/api/v2/flows.json", nil, 200)
	e.clk.Advance(time.Hour - 500*time.Millisecond)
	resp, raw := e.do("GET", "/api/v2/flows.json", nil)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" ||
		string(raw) != `{"detail":"Request was throttled. Expected available in 1 second."}` {
		t.Fatalf("got %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), raw)
	}
}

func TestSrvScriptedThrottle(t *testing.T) {
	e, _ := srvtNew(t, Config{}, nil)
	e.srv.Script(Fault{Kind: FaultThrottle, Path: "runs", RetryAfter: 3000})
	e.srv.Script(Fault{Kind: FaultThrottle, Path: "runs", RetryAfter: -1})
	resp, raw := e.do("GET", "/api/v2/runs.json", nil)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "3000" ||
		string(raw) != `{"detail":"Request was throttled. Expected available in 3000 seconds."}` {
		t.Fatalf("scripted: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), raw)
	}
	resp, raw = e.do("GET", "/api/v2/runs.json", nil)
	if _, has := resp.Header["Retry-After"]; resp.StatusCode != 429 || has || string(raw) != `{"detail":"Request was throttled."}` {
		t.Fatalf("no header: %d %v %s", resp.StatusCode, resp.Header, raw)
	}
	e.obj("GET", "/api/v2/runs.json", nil, 200)
	if c := e.srv.ScopeCounts(); c["v2.runs"] != 3 {
		t.Fatalf("scripted throttles must count: %v", c)
	}
}
