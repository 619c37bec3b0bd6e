package fake

import (
	"math/rand"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FaultKind names a scripted failure.
type FaultKind string

// The fault kinds.
const (
	FaultStatus        FaultKind = "status"          // answer Status with Body (500 plain text, 502-504 HTML by default)
	FaultReset         FaultKind = "reset"           // close the connection mid-body
	FaultTruncate      FaultKind = "truncate"        // valid status, JSON cut in half
	FaultSlowFirstByte FaultKind = "slow_first_byte" // wait Delay before answering
	FaultSlowBody      FaultKind = "slow_body"       // spread Delay over the body
	FaultHang          FaultKind = "hang"            // block until the client goes away (or 10 minutes)
	FaultThrottle      FaultKind = "throttle"        // 429 with RetryAfter seconds (RetryAfter < 0: no header)
)

// Fault scripts a failure for matching requests.
type Fault struct {
	Kind        FaultKind     `json:"kind"`
	Method      string        `json:"method,omitempty"` // "" matches any method
	Path        string        `json:"path,omitempty"`   // endpoint name such as "runs" ("_archives" for downloads); "" any
	Status      int           `json:"status,omitempty"`
	Body        string        `json:"body,omitempty"`
	RetryAfter  int           `json:"retry_after,omitempty"`
	Delay       time.Duration `json:"delay,omitempty"`
	Times       int           `json:"times,omitempty"`       // apply to the next N matching requests; 0 = 1
	Probability float64       `json:"probability,omitempty"` // if > 0: hit each matching request with this probability until ClearFaults
	Seed        int64         `json:"seed,omitempty"`
}

// svHangLimit bounds a hang fault.
const svHangLimit = 10 * time.Minute

type faultState struct {
	f    Fault
	left int
	rng  *rand.Rand
}

// svFaults is the scripted fault queue.
type svFaults struct {
	mu   sync.Mutex
	list []*faultState
}

// Script queues a fault. Faults are matched in the order they were scripted.
func (s *Server) Script(f Fault) {
	st := &faultState{f: f, left: f.Times}
	if st.left <= 0 {
		st.left = 1
	}
	if f.Probability > 0 {
		st.rng = rand.New(rand.NewSource(f.Seed))
	}
	s.flt.mu.Lock()
	s.flt.list = append(s.flt.list, st)
	s.flt.mu.Unlock()
}

// ClearFaults removes every scripted fault.
func (s *Server) ClearFaults() {
	s.flt.mu.Lock()
	s.flt.list = nil
	s.flt.mu.Unlock()
}

// take returns the fault to apply to a request, consuming it, or nil.
func (fs *svFaults) take(method, path string) *Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, st := range fs.list {
		if st.f.Method != "" && !strings.EqualFold(st.f.Method, method) {
			continue
		}
		if st.f.Path != "" && st.f.Path != path {
			continue
		}
		f := st.f
		if st.rng != nil {
			if st.rng.Float64() < f.Probability {
				return &f
			}
			continue
		}
		st.left--
		if st.left <= 0 {
			fs.list = append(fs.list[:i:i], fs.list[i+1:]...)
		}
		return &f
	}
	return nil
}

// faultShortCircuit returns the reply of a fault that replaces the handler
// (status, throttle, hang), or nil for faults that distort a real reply.
func faultShortCircuit(f *Fault) *reply {
	switch f.Kind {
	case FaultStatus:
		st := f.Status
		if st == 0 {
			st = 500
		}
		body, ctype := f.Body, "text/plain"
		switch {
		case body != "":
			if strings.HasPrefix(strings.TrimSpace(body), "{") || strings.HasPrefix(strings.TrimSpace(body), "[") {
				ctype = "application/json"
			} else if strings.HasPrefix(strings.TrimSpace(body), "<") {
				ctype = "text/html"
			}
		case st == 500:
			body = svServerErrorPlain
		case st >= 502 && st <= 504:
			txt := strconv.Itoa(st) + " " + http.StatusText(st)
			body = "<html>\r\n<head><title>" + txt + "</title></head>\r\n<body>\r\n<center><h1>" + txt +
				"</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
			ctype = "text/html"
		default:
			rep := detailReply(st, http.StatusText(st))
			return rep
		}
		return &reply{status: st, body: []byte(body), ctype: ctype}
	case FaultThrottle:
		return throttledReply(f.RetryAfter, f.RetryAfter >= 0)
	case FaultHang:
		return &reply{status: 0}
	}
	return nil
}

// throttledReply is DRF's 429.
func throttledReply(wait int, has bool) *reply {
	msg := "Request was throttled."
	if has {
		unit := "seconds"
		if wait == 1 {
			unit = "second"
		}
		msg += " Expected available in " + strconv.Itoa(wait) + " " + unit + "."
	}
	rep := detailReply(429, msg)
	rep.retryAfter, rep.hasRetry = wait, has
	return rep
}

// hang blocks until the client disconnects or the hang limit passes.
func (s *Server) hang(w http.ResponseWriter, r *http.Request) int {
	t := time.NewTimer(svHangLimit)
	defer t.Stop()
	select {
	case <-r.Context().Done():
		return 0
	case <-t.C:
	}
	return s.emit(w, r, faultShortCircuit(&Fault{Kind: FaultStatus, Status: 504}), nil)
}

// svSleep sleeps d or until the request is cancelled; it reports false when cancelled.
func svSleep(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-r.Context().Done():
		return false
	case <-t.C:
		return true
	}
}

// emit writes rep, distorted by f when it is a body fault, and returns the status.
func (s *Server) emit(w http.ResponseWriter, r *http.Request, rep *reply, f *Fault) int {
	h := w.Header()
	h.Set("Date", s.store.Clock.Now().Format(http.TimeFormat))
	if rep.ctype != "" {
		h.Set("Content-Type", rep.ctype)
	}
	for k, v := range rep.header {
		h.Set(k, v)
	}
	if rep.hasRetry {
		h.Set("Retry-After", strconv.Itoa(rep.retryAfter))
	}
	body := rep.body
	if r.Method == http.MethodHead {
		body = nil
	}
	if rep.status == http.StatusNoContent {
		w.WriteHeader(rep.status)
		return rep.status
	}
	kind := FaultKind("")
	if f != nil {
		kind = f.Kind
	}
	switch kind {
	case FaultTruncate:
		body = body[:len(body)/2]
	case FaultSlowFirstByte:
		if !svSleep(r, f.Delay) {
			return rep.status
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rep.status)
	rc := http.NewResponseController(w)
	switch kind {
	case FaultReset:
		cut := len(body) / 2
		if cut == 0 && len(body) > 0 {
			cut = 1
		}
		_, _ = w.Write(body[:cut])
		_ = rc.Flush()
		if conn, _, err := rc.Hijack(); err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			_ = conn.Close()
		}
		return rep.status
	case FaultSlowBody:
		const chunks = 10
		step := (len(body) + chunks - 1) / chunks
		if step == 0 {
			step = 1
		}
		for i := 0; i < len(body); i += step {
			end := min(i+step, len(body))
			if _, err := w.Write(body[i:end]); err != nil {
				return rep.status
			}
			_ = rc.Flush()
			if end < len(body) && !svSleep(r, f.Delay/chunks) {
				return rep.status
			}
		}
		return rep.status
	}
	_, _ = w.Write(body)
	return rep.status
}
