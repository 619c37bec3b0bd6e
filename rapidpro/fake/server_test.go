package fake

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// srvtBase is the frozen instant tests start at.
var srvtBase = time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)

// srvtEnv is a simulator behind a real loopback HTTP server.
type srvtEnv struct {
	t   *testing.T
	st  *Store
	srv *Server
	ts  *httptest.Server
	clk *Clock
	tok string
}

// srvtFixture is the seeded org: one survey flow, two groups, two fields,
// three contacts.
type srvtFixture struct {
	flow, other *Flow
	manual      *Group
	smart       *Group
	contacts    []*Contact
}

func srvtNew(t *testing.T, cfg Config, seed func(st *Store, fx *srvtFixture)) (*srvtEnv, *srvtFixture) {
	t.Helper()
	clk := NewClock()
	clk.Freeze()
	clk.Set(srvtBase)
	st := NewStore(clk)
	fx := &srvtFixture{}
	st.Write(func() {
		fx.manual = st.AddGroup(&Group{Name: "Panel A"})
		fx.smart = st.AddGroup(&Group{Name: "Adults", Query: "age > 18"})
		st.AddField(&Field{Key: "age", Name: "Age", Type: "number"})
		st.AddField(&Field{Key: "district", Name: "District", Type: "district"})
		fx.flow = st.AddFlow(&Flow{Name: "Water Survey", Expires: 720, Language: "eng", Questions: []*Question{
			{NodeUUID: "11111111-1111-4111-8111-111111111111", Key: "water_points", Name: "Water Points", Prompt: "How many water points?",
				Kind: KindNumeric, Operand: "@input.text", Categories: []string{"1 - 5", "6 - 10", "Other"},
				Cases: []Case{{UUID: "21111111-1111-4111-8111-111111111111", Type: "has_number_between", Arguments: []string{"1", "5"}, Category: "1 - 5"},
					{UUID: "31111111-1111-4111-8111-111111111111", Type: "has_number_between", Arguments: []string{"6", "10"}, Category: "6 - 10"}}},
			{NodeUUID: "41111111-1111-4111-8111-111111111111", Key: "comment", Name: "Comment", Prompt: "Any comment?",
				Kind: KindOpen, Operand: "@input.text", Categories: []string{"All Responses"}},
		}})
		fx.other = st.AddFlow(&Flow{Name: "Registration", Expires: 60})
		for i, name := range []string{"Ann", "Ben", "Cid"} {
			fx.contacts = append(fx.contacts, st.AddContact(&Contact{Name: name, Language: "eng",
				URNs: []string{"tel:+25078800000" + string(rune('1'+i))}, Groups: []string{fx.manual.UUID},
				Fields: map[string]string{"age": "3" + string(rune('0'+i))}}))
		}
		if seed != nil {
			seed(st, fx)
		}
	})
	srv := NewServer(st, cfg)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &srvtEnv{t: t, st: st, srv: srv, ts: ts, clk: clk, tok: srv.Token()}, fx
}

// srvtRun adds a run of flow for contact with a value for water_points.
func srvtRun(st *Store, fx *srvtFixture, c *Contact, mod time.Time, responded bool) *Run {
	cat := "1 - 5"
	exited := mod
	return st.AddRun(&Run{FlowUUID: fx.flow.UUID, ContactUUID: c.UUID, Responded: responded,
		Path:      []Step{{Node: "11111111-1111-4111-8111-111111111111", Time: mod}},
		Values:    map[string]*Value{"water_points": {Name: "Water Points", Value: "3", Category: &cat, Node: "11111111-1111-4111-8111-111111111111", Time: mod, Input: "3 points"}},
		CreatedOn: mod.Add(-time.Minute), ModifiedOn: mod, ExitedOn: &exited, ExitType: "completed"})
}

// do sends a request with the env token; path may be absolute.
func (e *srvtEnv) do(method, path string, body any, hdr ...string) (*http.Response, []byte) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	url := path
	if !strings.HasPrefix(path, "http") {
		url = e.ts.URL + path
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Token "+e.tok)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, raw
}

// obj GETs path and decodes a JSON object, checking the status.
func (e *srvtEnv) obj(method, path string, body any, want int) map[string]any {
	e.t.Helper()
	resp, raw := e.do(method, path, body)
	if resp.StatusCode != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		e.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
	}
	return m
}

// page GETs one page and returns its results and next link.
func (e *srvtEnv) page(path string) ([]map[string]any, string) {
	e.t.Helper()
	m := e.obj("GET", path, nil, 200)
	var out []map[string]any
	for _, r := range m["results"].([]any) {
		out = append(out, r.(map[string]any))
	}
	next, _ := m["next"].(string)
	return out, next
}

// walk follows next links to the end.
func (e *srvtEnv) walk(path string) []map[string]any {
	e.t.Helper()
	var all []map[string]any
	for n := 0; path != ""; n++ {
		if n > 1000 {
			e.t.Fatal("walk does not end")
		}
		var res []map[string]any
		res, path = e.page(path)
		all = append(all, res...)
	}
	return all
}

func TestSrvNoSuffixAnswersEmptyList(t *testing.T) {
	e, _ := srvtNew(t, Config{}, nil)
	resp, raw := e.do("GET", "/api/v2/contacts", nil)
	if resp.StatusCode != 200 || string(raw) != "[]" {
		t.Fatalf("got %d %s", resp.StatusCode, raw)
	}
	resp, raw = e.do("GET", "/api/v2/nothing.json", nil)
	if resp.StatusCode != 404 {
		t.Fatalf("unknown endpoint: %d %s", resp.StatusCode, raw)
	}
}

func TestSrvMethodNotAllowed(t *testing.T) {
	e, _ := srvtNew(t, Config{}, nil)
	m := e.obj("POST", "/api/v2/runs.json", map[string]any{}, 405)
	if m["detail"] != `Method "POST" not allowed.` {
		t.Fatalf("detail %v", m["detail"])
	}
	e.obj("DELETE", "/api/v2/flows.json", nil, 405)
}

func TestSrvAuth(t *testing.T) {
	e, _ := srvtNew(t, Config{Tokens: []string{"tok1", "tok2"}}, nil)
	e.tok = "tok1"
	resp, raw := e.do("GET", "/api/v2/org.json", nil, "Authorization", "")
	if resp.StatusCode != 403 || !strings.Contains(string(raw), "Authentication credentials were not provided.") {
		t.Fatalf("no auth: %d %s", resp.StatusCode, raw)
	}
	resp, raw = e.do("GET", "/api/v2/org.json", nil, "Authorization", "Token nope")
	if resp.StatusCode != 403 || string(raw) != `{"detail":"Invalid token"}` {
		t.Fatalf("bad token: %d %s", resp.StatusCode, raw)
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin@example.com:tok2"))
	resp, raw = e.do("GET", "/api/v2/org.json", nil, "Authorization", basic)
	if resp.StatusCode != 200 {
		t.Fatalf("basic: %d %s", resp.StatusCode, raw)
	}
	basic = "Basic " + base64.StdEncoding.EncodeToString([]byte("admin@example.com:wrong"))
	if resp, _ = e.do("GET", "/api/v2/org.json", nil, "Authorization", basic); resp.StatusCode != 403 {
		t.Fatalf("bad basic: %d", resp.StatusCode)
	}
	// lower-case keyword works too, and the Date header follows the store clock
	resp, _ = e.do("GET", "/api/v2/org.json", nil, "Authorization", "token tok1")
	if resp.StatusCode != 200 || resp.Header.Get("Date") != srvtBase.Format(http.TimeFormat) {
		t.Fatalf("lower-case keyword: %d date %q", resp.StatusCode, resp.Header.Get("Date"))
	}
}

func TestSrvRevokedToken(t *testing.T) {
	e, _ := srvtNew(t, Config{}, nil)
	e.obj("GET", "/api/v2/runs.json", nil, 200)
	e.srv.RevokeToken(e.tok)
	if m := e.obj("GET", "/api/v2/runs.json", nil, 403); m["detail"] != "Invalid token" {
		t.Fatalf("detail %v", m["detail"])
	}
}

func TestSrvOrgProfiles(t *testing.T) {
	for _, p := range []Profile{ProfileLegacy2017, ProfileOSS2025, ProfileHosted2025} {
		e, _ := srvtNew(t, Config{Profile: p}, nil)
		m := e.obj("GET", "/api/v2/org.json", nil, 200)
		if m["timezone"] != "UTC" || m["country"] != "RW" {
			t.Fatalf("%s: %v", p, m)
		}
		_, hasUUID := m["uuid"]
		if hasUUID == (p == ProfileLegacy2017) {
			t.Fatalf("%s: uuid presence wrong: %v", p, m)
		}
		resp, _ := e.do("GET", "/api/v2/workspace.json", nil)
		if (resp.StatusCode == 200) == (p == ProfileLegacy2017) {
			t.Fatalf("%s: workspace status %d", p, resp.StatusCode)
		}
	}
}

func TestSrvRequestLogRedacts(t *testing.T) {
	e, _ := srvtNew(t, Config{}, nil)
	e.do("GET", "/api/v2/runs.json?flow=x", nil)
	e.do("POST", "/api/v2/contacts.json", map[string]any{"name": "Zed"})
	reqs := e.srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests logged", len(reqs))
	}
	r0, r1 := reqs[0], reqs[1]
	if r0.Method != "GET" || r0.Path != "/api/v2/runs.json" || r0.RawQuery != "flow=x" || r0.Status != 200 || r0.Scope != "v2.runs" {
		t.Fatalf("entry %+v", r0)
	}
	if got := r0.Header.Get("Authorization"); strings.Contains(got, e.tok) || got == "" {
		t.Fatalf("authorization not redacted: %q", got)
	}
	if r1.Status != 201 || !strings.Contains(string(r1.Body), "Zed") || r1.Scope != "v2.contacts" {
		t.Fatalf("entry %+v", r1)
	}
	if c := e.srv.ScopeCounts(); c["v2.runs"] != 1 || c["v2.contacts"] != 1 {
		t.Fatalf("scope counts %v", c)
	}
	e.srv.ResetLog()
	if len(e.srv.Requests()) != 0 {
		t.Fatal("log not reset")
	}
}
