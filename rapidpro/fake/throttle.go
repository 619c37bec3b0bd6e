package fake

import (
	"math"
	"sync"
	"time"
)

// svDefaultRates are the oss per-org rates per hour.
var svDefaultRates = map[string]int{
	"v2": 2500, "v2.contacts": 2500, "v2.messages": 2500, "v2.runs": 2500, "v2.broadcasts": 36000,
}

// svThrottleWindow is the length of the sliding window.
const svThrottleWindow = time.Hour

// svThrottle implements DRF's SimpleRateThrottle per scope for the single org,
// on the store clock, plus per-scope request counters.
type svThrottle struct {
	mu      sync.Mutex
	rates   map[string]int
	history map[string][]time.Time // oldest first
	counts  map[string]int
}

func (t *svThrottle) init(cfg map[string]int) {
	t.rates = map[string]int{}
	for k, v := range svDefaultRates {
		t.rates[k] = v
	}
	for k, v := range cfg {
		if v != 0 {
			t.rates[k] = v
		}
	}
	t.history = map[string][]time.Time{}
	t.counts = map[string]int{}
}

// rate returns the hourly rate of scope; negative means unlimited.
func (t *svThrottle) rate(scope string) int {
	if r, ok := t.rates[scope]; ok {
		return r
	}
	return t.rates["v2"]
}

// count records a request against scope's counter.
func (t *svThrottle) count(scope string) {
	t.mu.Lock()
	t.counts[scope]++
	t.mu.Unlock()
}

// check admits a request at now or returns the 429 reply. Retry-After is the
// ceiling of DRF's wait(): the time until the oldest request leaves the window
// divided by the free slots plus one; absent when that is not positive.
func (t *svThrottle) check(scope string, now time.Time) *reply {
	t.mu.Lock()
	defer t.mu.Unlock()
	limit := t.rate(scope)
	if limit < 0 {
		return nil
	}
	h := t.history[scope]
	cut := 0
	for cut < len(h) && !h[cut].After(now.Add(-svThrottleWindow)) {
		cut++
	}
	if cut > 0 {
		h = append(h[:0], h[cut:]...)
	}
	if len(h) >= limit {
		t.history[scope] = h
		remaining := svThrottleWindow
		if len(h) > 0 {
			remaining = svThrottleWindow - now.Sub(h[0])
		}
		avail := limit - len(h) + 1
		if avail <= 0 {
			return throttledReply(0, false)
		}
		wait := remaining.Seconds() / float64(avail)
		return throttledReply(int(math.Ceil(wait)), true)
	}
	t.history[scope] = append(h, now)
	return nil
}

// ScopeCounts returns the number of API requests per throttle scope since the
// server started (throttled and faulted requests included).
func (s *Server) ScopeCounts() map[string]int {
	s.thr.mu.Lock()
	defer s.thr.mu.Unlock()
	out := make(map[string]int, len(s.thr.counts))
	for k, v := range s.thr.counts {
		out[k] = v
	}
	return out
}
