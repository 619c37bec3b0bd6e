package fake

import (
	"hash/fnv"
	"strconv"
	"sync"
	"time"
)

// svPendingGap is the least store-clock time between two ProcessPending calls
// while the store version has not moved.
const svPendingGap = 50 * time.Millisecond

// svPending throttles calls to Store.ProcessPending.
type svPending struct {
	mu          sync.Mutex
	ran         bool
	lastVersion uint64
	lastAt      time.Time
}

// maybeProcessPending advances flow starts and broadcasts before a request is
// handled. It costs one read-locked check when nothing is pending, and bumps
// Store.Version only when ProcessPending changed something.
func (s *Server) maybeProcessPending() {
	st := s.store
	st.Mu.RLock()
	has := st.PendingWork()
	v := st.Version
	st.Mu.RUnlock()
	if !has {
		return
	}
	now := st.Clock.Now()
	s.pend.mu.Lock()
	skip := s.pend.ran && v == s.pend.lastVersion && now.Sub(s.pend.lastAt) < svPendingGap
	s.pend.mu.Unlock()
	if skip {
		return
	}
	st.Mu.Lock()
	before := svPendingFingerprint(st)
	st.ProcessPending(s.cfg.StartDelay)
	if svPendingFingerprint(st) != before {
		st.Version++
	}
	v = st.Version
	st.Mu.Unlock()
	s.pend.mu.Lock()
	s.pend.ran, s.pend.lastVersion, s.pend.lastAt = true, v, now
	s.pend.mu.Unlock()
}

// svPendingFingerprint summarises what ProcessPending may change: the number
// of runs and messages and the statuses of starts and broadcasts. Lock held.
func svPendingFingerprint(st *Store) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(strconv.Itoa(len(st.Runs)) + "/" + strconv.Itoa(len(st.Messages)) + "/"))
	for _, fs := range st.FlowStarts {
		_, _ = h.Write([]byte(fs.Status))
		_, _ = h.Write([]byte{0})
	}
	for _, b := range st.Broadcasts {
		_, _ = h.Write([]byte(b.Status))
		_, _ = h.Write([]byte{0})
	}
	return h.Sum64()
}
