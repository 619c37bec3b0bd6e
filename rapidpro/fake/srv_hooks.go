package fake

import "sync"

// svChainLimit bounds the cursor -> page-number map.
const svChainLimit = 1 << 20

type pageHook struct {
	endpoint string
	n        int
	fn       func(*Store)
	fired    bool
}

// svHooks holds AfterPage hooks and the page numbers of issued cursors, so a
// request carrying a cursor knows which page of its chain it is.
type svHooks struct {
	mu    sync.Mutex
	hooks []*pageHook
	chain map[string]int // endpoint + "\x00" + cursor -> page number
}

// AfterPage registers fn to run under the store write lock right after page n
// (1-based; page 1 has no cursor, following next links counts up) of a request
// chain on endpoint has been computed, before it is sent. It fires once.
func (s *Server) AfterPage(endpoint string, n int, fn func(st *Store)) {
	s.hooks.mu.Lock()
	s.hooks.hooks = append(s.hooks.hooks, &pageHook{endpoint: endpoint, n: n, fn: fn})
	s.hooks.mu.Unlock()
}

// pageNumber returns the chain page number of a request with cursor cur ("" for
// none): 1 without a cursor, 0 when the cursor was not issued by this server.
func (h *svHooks) pageNumber(endpoint, cur string) int {
	if cur == "" {
		return 1
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.chain[endpoint+"\x00"+cur]
}

// note records that cursor cur leads to page n of a chain.
func (h *svHooks) note(endpoint, cur string, n int) {
	if n <= 0 {
		return
	}
	h.mu.Lock()
	if h.chain == nil || len(h.chain) >= svChainLimit {
		h.chain = map[string]int{}
	}
	h.chain[endpoint+"\x00"+cur] = n
	h.mu.Unlock()
}

// fire runs the hooks registered for page n of endpoint.
func (h *svHooks) fire(st *Store, endpoint string, n int) {
	h.mu.Lock()
	var run []*pageHook
	for _, hk := range h.hooks {
		if !hk.fired && hk.endpoint == endpoint && hk.n == n {
			hk.fired = true
			run = append(run, hk)
		}
	}
	h.mu.Unlock()
	for _, hk := range run {
		st.Write(func() { hk.fn(st) })
	}
}
