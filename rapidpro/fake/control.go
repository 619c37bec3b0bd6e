package fake

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// serveControl handles the control API under /_sim/ (same tokens as the API):
//
//	POST   /_sim/clock?advance=1h | ?set=RFC3339 | ?freeze=1|0
//	POST   /_sim/faults        body: a Fault as JSON ("delay" may be a Go duration string or milliseconds)
//	DELETE /_sim/faults
//	POST   /_sim/revoke?token=T
//	POST   /_sim/archive?before=RFC3339&period=daily|monthly&type=run|message (both when absent)
//	GET    /_sim/log?limit=N
//	GET    /_sim/stats
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request, body []byte) int {
	if rep := s.authenticate(r); rep != nil {
		return s.emit(w, r, rep, nil)
	}
	return s.emit(w, r, s.control(r, body), nil)
}

func (s *Server) control(r *http.Request, body []byte) *reply {
	q := r.URL.Query()
	op := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/_sim/"), "/")
	method := r.Method
	notAllowed := detailReply(405, "Method \""+method+"\" not allowed.")
	clk := s.store.Clock
	switch op {
	case "clock":
		if method != http.MethodPost {
			if method == http.MethodGet {
				return jsonReply(200, map[string]any{"now": clk.Now()})
			}
			return notAllowed
		}
		if v := q.Get("set"); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return detailReply(400, "set must be an RFC3339 time")
			}
			clk.Set(t)
		}
		if v := q.Get("advance"); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				return detailReply(400, "advance must be a duration such as 90s or 1h")
			}
			clk.Advance(d)
		}
		if v := q.Get("freeze"); v != "" {
			if svStrToBool(v) {
				clk.Freeze()
			} else {
				clk.Unfreeze()
			}
		}
		return jsonReply(200, map[string]any{"now": clk.Now()})
	case "faults":
		switch method {
		case http.MethodDelete:
			s.ClearFaults()
			return &reply{status: 204}
		case http.MethodPost:
			f, err := svDecodeFault(body)
			if err != "" {
				return detailReply(400, err)
			}
			s.Script(f)
			return jsonReply(201, f)
		}
		return notAllowed
	case "revoke":
		if method != http.MethodPost {
			return notAllowed
		}
		if q.Get("token") == "" {
			return detailReply(400, "token is required")
		}
		s.RevokeToken(q.Get("token"))
		return jsonReply(200, map[string]any{"revoked": true})
	case "archive":
		if method != http.MethodPost {
			return notAllowed
		}
		before, err := time.Parse(time.RFC3339Nano, q.Get("before"))
		if err != nil {
			return detailReply(400, "before must be an RFC3339 time")
		}
		out := map[string]int{}
		typ := q.Get("type")
		if typ == "" || typ == "run" {
			out["runs"] = s.ArchiveRuns(before, q.Get("period"))
		}
		if typ == "" || typ == "message" {
			out["messages"] = s.ArchiveMessages(before, q.Get("period"))
		}
		return jsonReply(200, out)
	case "log":
		if method != http.MethodGet {
			return notAllowed
		}
		reqs := s.Requests()
		if n, err := strconv.Atoi(q.Get("limit")); err == nil && n >= 0 && n < len(reqs) {
			reqs = reqs[len(reqs)-n:]
		}
		return jsonReply(200, reqs)
	case "stats":
		if method != http.MethodGet {
			return notAllowed
		}
		return jsonReply(200, s.stats())
	}
	return detailReply(404, svNotFoundDetail)
}

// svDecodeFault parses a Fault from JSON, accepting "delay" as a Go duration
// string or a number of milliseconds.
func svDecodeFault(body []byte) (Fault, string) {
	var aux struct {
		Fault
		Delay json.RawMessage `json:"delay"`
	}
	if err := json.Unmarshal(body, &aux); err != nil {
		return Fault{}, "invalid fault JSON: " + err.Error()
	}
	f := aux.Fault
	if len(aux.Delay) > 0 && string(aux.Delay) != "null" {
		var str string
		var ms float64
		switch {
		case json.Unmarshal(aux.Delay, &str) == nil:
			d, err := time.ParseDuration(str)
			if err != nil {
				return Fault{}, "delay must be a duration such as 2s"
			}
			f.Delay = d
		case json.Unmarshal(aux.Delay, &ms) == nil:
			f.Delay = time.Duration(ms * float64(time.Millisecond))
		default:
			return Fault{}, "delay must be a duration string or milliseconds"
		}
	}
	switch f.Kind {
	case FaultStatus, FaultReset, FaultTruncate, FaultSlowFirstByte, FaultSlowBody, FaultHang, FaultThrottle:
	default:
		return Fault{}, "unknown fault kind " + strconv.Quote(string(f.Kind))
	}
	return f, ""
}

// stats summarises the store and the request counters.
func (s *Server) stats() map[string]any {
	out := map[string]any{}
	s.store.Read(func() {
		st := s.store
		live, deleted := 0, 0
		for _, c := range st.Contacts {
			if c.Deleted {
				deleted++
			} else {
				live++
			}
		}
		runs, archivedRuns := 0, 0
		for _, r := range st.Runs {
			if r.Archived {
				archivedRuns++
			} else {
				runs++
			}
		}
		msgs := 0
		for _, m := range st.Messages {
			if !m.Archived {
				msgs++
			}
		}
		out["contacts"] = live
		out["deleted_contacts"] = deleted
		out["runs"] = runs
		out["archived_runs"] = archivedRuns
		out["messages"] = msgs
		out["flows"] = len(st.Flows)
		out["groups"] = len(st.Groups)
		out["broadcasts"] = len(st.Broadcasts)
		out["flow_starts"] = len(st.FlowStarts)
		out["archives"] = len(st.Archives)
		out["version"] = st.Version
	})
	out["now"] = s.store.Clock.Now()
	out["scopes"] = s.ScopeCounts()
	out["profile"] = s.cfg.Profile
	return out
}
