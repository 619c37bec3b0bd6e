package fake

import (
	"sync"
	"testing"
	"time"
)

// TestSrvConcurrentReadsAndWrites exercises indexes, hooks and writes from
// several goroutines (meaningful under -race).
func TestSrvConcurrentReadsAndWrites(t *testing.T) {
	e, fx := srvtNew(t, Config{PageSize: 5}, srvtSpread)
	e.srv.AfterPage("runs", 2, func(st *Store) {
		st.TouchRun(st.Runs[0].UUID, func(*Run) {})
	})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				for _, p := range []string{"/api/v2/runs.json", "/api/v2/contacts.json", "/api/v2/flows.json", "/api/v2/messages.json"} {
					if resp, _ := e.do("GET", p, nil); resp.StatusCode != 200 {
						t.Errorf("%s: %d", p, resp.StatusCode)
					}
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 10; i++ {
			e.do("POST", "/api/v2/flow_starts.json", map[string]any{"flow": fx.flow.UUID, "contacts": []string{fx.contacts[0].UUID}})
			e.do("POST", "/api/v2/broadcasts.json", map[string]any{"text": "hi", "contacts": []string{fx.contacts[1].UUID}})
			e.clk.Advance(time.Second)
		}
	}()
	wg.Wait()
	e.clk.Advance(5 * time.Second)
	starts := e.walk("/api/v2/flow_starts.json")
	for _, s := range starts {
		if s["status"] != "complete" {
			t.Fatalf("start still %v", s["status"])
		}
	}
	if len(starts) != 10 {
		t.Fatalf("%d starts", len(starts))
	}
}
