package fake

import (
	"net/http"
	"sync"
	"time"
)

// LoggedRequest is one request the server answered. Credentials in the
// Authorization header are redacted.
type LoggedRequest struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
	Status   int
	Latency  time.Duration
	Scope    string    // throttle scope of API requests, "" otherwise
	At       time.Time // store clock when the request arrived
}

// svLogLimit bounds the request log; older entries are dropped.
const svLogLimit = 200000

// svLog is the request log.
type svLog struct {
	mu      sync.Mutex
	entries []LoggedRequest
}

func (l *svLog) add(e LoggedRequest) {
	l.mu.Lock()
	if len(l.entries) >= svLogLimit {
		n := copy(l.entries, l.entries[len(l.entries)/2:])
		clear(l.entries[n:])
		l.entries = l.entries[:n]
	}
	l.entries = append(l.entries, e)
	l.mu.Unlock()
}

// Requests returns a copy of the request log, oldest first.
func (s *Server) Requests() []LoggedRequest {
	s.rlog.mu.Lock()
	defer s.rlog.mu.Unlock()
	return append([]LoggedRequest(nil), s.rlog.entries...)
}

// ResetLog empties the request log (scope counters are kept).
func (s *Server) ResetLog() {
	s.rlog.mu.Lock()
	s.rlog.entries = nil
	s.rlog.mu.Unlock()
}
