package fake

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Profile selects which generation of the RapidPro API the simulator imitates
// (see RAPIDPRO.md §5).
type Profile string

// The supported profiles.
const (
	ProfileLegacy2017 Profile = "legacy-2017"
	ProfileOSS2025    Profile = "oss-2025"
	ProfileHosted2025 Profile = "hosted-2025"
)

const (
	svDefaultToken             = "sim-token"
	svMaxBody                  = 8 << 20
	svDefaultPageSize          = 250
	svDefaultCutoff            = 100000
	svDefaultStartWait         = 2 * time.Second
	svDefaultArchiveTTL        = 24 * time.Hour
	svNotFoundDetail           = "Not found."
	svServerErrorPlain         = "Server Error. Site administrators have been notified."
	svNoCredentials            = "Authentication credentials were not provided."
	svInvalidToken             = "Invalid token"
	svInvalidTokenHeaderDetail = "Invalid token header. No credentials provided."
)

// Config configures a Server. Zero values select the documented defaults.
type Config struct {
	Tokens       []string       // accepted API tokens (default: one, "sim-token")
	Profile      Profile        // default oss-2025
	PageSize     int            // default 250
	OffsetCutoff int            // default 100000
	Rates        map[string]int // requests per hour per scope; 0/absent = default; negative = unlimited
	StartDelay   time.Duration  // pending->complete delay of flow starts and broadcasts (Store.ProcessPending); 0 = 2s, negative = at once
	ArchiveTTL   time.Duration  // validity of archive download URLs, default 24h
}

// Server serves the RapidPro API v2 over a Store. It implements http.Handler;
// the API lives under /api/v2/, archive downloads under /_archives/ and the
// control API under /_sim/.
type Server struct {
	store *Store
	cfg   Config

	authMu  sync.RWMutex
	tokens  map[string]bool
	revoked map[string]bool

	thr     svThrottle
	flt     svFaults
	rlog    svLog
	hooks   svHooks
	idx     svIndexes
	pend    svPending
	signKey []byte
	eps     map[string]*apiEndpoint
}

// NewServer returns a server over store configured by cfg.
func NewServer(store *Store, cfg Config) *Server {
	if len(cfg.Tokens) == 0 {
		cfg.Tokens = []string{svDefaultToken}
	}
	if cfg.Profile == "" {
		cfg.Profile = ProfileOSS2025
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = svDefaultPageSize
	}
	if cfg.OffsetCutoff <= 0 {
		cfg.OffsetCutoff = svDefaultCutoff
	}
	if cfg.StartDelay == 0 {
		cfg.StartDelay = svDefaultStartWait
	}
	if cfg.ArchiveTTL <= 0 {
		cfg.ArchiveTTL = svDefaultArchiveTTL
	}
	s := &Server{store: store, cfg: cfg, tokens: map[string]bool{}, revoked: map[string]bool{}}
	for _, t := range cfg.Tokens {
		s.tokens[t] = true
	}
	s.signKey = make([]byte, 32)
	_, _ = rand.Read(s.signKey)
	s.thr.init(cfg.Rates)
	s.eps = svEndpointTable()
	return s
}

// Store returns the store the server serves.
func (s *Server) Store() *Store { return s.store }

// Token returns the first accepted API token.
func (s *Server) Token() string { return s.cfg.Tokens[0] }

// RevokeToken makes later requests with tok fail with 403 "Invalid token".
func (s *Server) RevokeToken(tok string) {
	s.authMu.Lock()
	s.revoked[tok] = true
	s.authMu.Unlock()
}

// apiEndpoint is one /api/v2/<name>.json resource.
type apiEndpoint struct {
	scope string
	list  bool // a paged list: answers [] without the .json suffix
	get   func(*Server, *reqCtx) *reply
	post  func(*Server, *reqCtx) *reply
	del   func(*Server, *reqCtx) *reply
}

func svEndpointTable() map[string]*apiEndpoint {
	return map[string]*apiEndpoint{
		"org":         {scope: "v2", get: (*Server).getOrg},
		"workspace":   {scope: "v2", get: (*Server).getOrg},
		"flows":       {scope: "v2", list: true, get: (*Server).getFlows},
		"definitions": {scope: "v2", get: (*Server).getDefinitions},
		"groups":      {scope: "v2", list: true, get: (*Server).getGroups},
		"fields":      {scope: "v2", list: true, get: (*Server).getFields},
		"contacts":    {scope: "v2.contacts", list: true, get: (*Server).getContacts, post: (*Server).postContact, del: (*Server).deleteContact},
		"runs":        {scope: "v2.runs", list: true, get: (*Server).getRuns},
		"messages":    {scope: "v2.messages", list: true, get: (*Server).getMessages},
		"broadcasts":  {scope: "v2.broadcasts", list: true, get: (*Server).getBroadcasts, post: (*Server).postBroadcast},
		"flow_starts": {scope: "v2", list: true, get: (*Server).getFlowStarts, post: (*Server).postFlowStart},
		"boundaries":  {scope: "v2", list: true, get: (*Server).getBoundaries},
		"labels":      {scope: "v2", list: true, get: (*Server).getLabels},
		"archives":    {scope: "v2", list: true, get: (*Server).getArchives},
	}
}

// reqCtx is what a handler sees of a request.
type reqCtx struct {
	r    *http.Request
	q    url.Values
	body []byte
	name string
	now  time.Time
	prof Profile
}

// reply is a fully buffered response; faults may distort it on the way out.
type reply struct {
	status     int
	body       []byte
	ctype      string
	retryAfter int
	hasRetry   bool
	header     map[string]string
	endpoint   string // for AfterPage hooks: set on paged GET replies
	pageNo     int
	pool       *[]byte // body buffer to recycle after writing
}

// jsonReply encodes v with encoding/json.
func jsonReply(status int, v any) *reply {
	b, err := json.Marshal(v)
	if err != nil {
		return &reply{status: 500, body: []byte(svServerErrorPlain), ctype: "text/plain"}
	}
	return &reply{status: status, body: b, ctype: "application/json"}
}

// detailReply answers {"detail": msg}.
func detailReply(status int, msg string) *reply {
	return jsonReply(status, map[string]string{"detail": msg})
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	body, _ := io.ReadAll(io.LimitReader(r.Body, svMaxBody))
	entry := LoggedRequest{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
		Header: svRedact(r.Header), Body: body, At: s.store.Clock.Now()}
	var status int
	switch p := r.URL.Path; {
	case strings.HasPrefix(p, "/api/v2/"):
		status, entry.Scope = s.serveAPI(w, r, body)
	case strings.HasPrefix(p, "/_archives/"):
		status = s.serveDownload(w, r)
	case strings.HasPrefix(p, "/_sim/"):
		status = s.serveControl(w, r, body)
	default:
		status = s.emit(w, r, &reply{status: 404, body: []byte("<h1>Not Found</h1>"), ctype: "text/html"}, nil)
	}
	entry.Status = status
	entry.Latency = time.Since(start)
	s.rlog.add(entry)
}

// serveAPI handles /api/v2/...: faults, auth, throttle, method, then the handler.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, body []byte) (int, string) {
	name := strings.TrimPrefix(r.URL.Path, "/api/v2/")
	name = strings.TrimSuffix(name, "/")
	name, isJSON := strings.CutSuffix(name, ".json")
	ep := s.eps[name]
	if ep == nil || (name == "workspace" && s.cfg.Profile == ProfileLegacy2017) {
		return s.emit(w, r, &reply{status: 404, body: []byte("<h1>Not Found</h1>"), ctype: "text/html"}, nil), ""
	}
	s.thr.count(ep.scope)
	f := s.flt.take(r.Method, name)
	if f != nil {
		if rep := faultShortCircuit(f); rep != nil {
			if f.Kind == FaultHang {
				return s.hang(w, r), ep.scope
			}
			return s.emit(w, r, rep, nil), ep.scope
		}
	}
	if rep := s.authenticate(r); rep != nil {
		return s.emit(w, r, rep, f), ep.scope
	}
	now := s.store.Clock.Now()
	if rep := s.thr.check(ep.scope, now); rep != nil {
		return s.emit(w, r, rep, f), ep.scope
	}
	var h func(*Server, *reqCtx) *reply
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h = ep.get
	case http.MethodPost:
		h = ep.post
	case http.MethodDelete:
		h = ep.del
	case http.MethodOptions:
		return s.emit(w, r, jsonReply(200, map[string]string{"name": name}), f), ep.scope
	}
	if h == nil {
		return s.emit(w, r, detailReply(405, "Method \""+r.Method+"\" not allowed."), f), ep.scope
	}
	if ep.list && !isJSON && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		return s.emit(w, r, &reply{status: 200, body: []byte("[]"), ctype: "application/json"}, f), ep.scope
	}
	s.maybeProcessPending()
	rc := &reqCtx{r: r, q: svParseQuery(r.URL.RawQuery), body: body, name: name, now: s.store.Clock.Now(), prof: s.cfg.Profile}
	rep := h(s, rc)
	if rep.endpoint != "" && rep.pageNo > 0 {
		s.hooks.fire(s.store, rep.endpoint, rep.pageNo)
	}
	status := s.emit(w, r, rep, f)
	rep.release()
	return status, ep.scope
}

// authenticate checks Token and Basic credentials and answers the DRF 403 on failure.
func (s *Server) authenticate(r *http.Request) *reply {
	tok, rep := s.credential(r)
	if rep != nil {
		return rep
	}
	if !s.validToken(tok) {
		return detailReply(403, svInvalidToken)
	}
	return nil
}

// credential extracts the token from the Authorization header.
func (s *Server) credential(r *http.Request) (string, *reply) {
	h := r.Header.Get("Authorization")
	kw, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	switch strings.ToLower(kw) {
	case "token":
		rest = strings.TrimSpace(rest)
		if rest == "" {
			return "", detailReply(403, svInvalidTokenHeaderDetail)
		}
		if strings.Contains(rest, " ") {
			return "", detailReply(403, "Invalid token header. Token string should not contain spaces.")
		}
		return rest, nil
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
		if err != nil {
			return "", detailReply(403, "Invalid basic header. Credentials not correctly base64 encoded.")
		}
		_, pass, ok := strings.Cut(string(raw), ":")
		if !ok {
			return "", detailReply(403, "Invalid basic header. Credentials not correctly base64 encoded.")
		}
		return pass, nil
	}
	return "", detailReply(403, svNoCredentials)
}

// validToken reports whether tok is accepted and not revoked.
func (s *Server) validToken(tok string) bool {
	s.authMu.RLock()
	defer s.authMu.RUnlock()
	return s.tokens[tok] && !s.revoked[tok]
}

// svRedact copies h with credentials removed.
func svRedact(h http.Header) http.Header {
	c := h.Clone()
	if c == nil {
		c = http.Header{}
	}
	if v := c.Get("Authorization"); v != "" {
		kw, _, _ := strings.Cut(v, " ")
		c.Set("Authorization", kw+" [redacted]")
	}
	return c
}
