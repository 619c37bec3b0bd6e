package fake

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// srvtErrJSON asserts a 400 body equals want (compared as JSON).
func srvtErrJSON(t *testing.T, e *srvtEnv, method, path string, body any, want string) {
	t.Helper()
	resp, raw := e.do(method, path, body)
	var got, exp any
	_ = json.Unmarshal(raw, &got)
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 400 || fmt.Sprint(got) != fmt.Sprint(exp) {
		t.Fatalf("%s %s %v: %d %s, want %s", method, path, body, resp.StatusCode, raw, want)
	}
}

func TestSrvContactCreateValidation(t *testing.T) {
	e, fx := srvtNew(t, Config{}, nil)
	p := "/api/v2/contacts.json"
	srvtErrJSON(t, e, "POST", p, map[string]any{"language": "english"}, `{"language":["Not a valid ISO639-3 language code."]}`)
	srvtErrJSON(t, e, "POST", p, map[string]any{"urns": []string{"tel:+250788123123", "tel:0788123123"}},
		`{"urns":{"1":["Invalid URN: tel:0788123123. Ensure phone numbers contain country codes."]}}`)
	srvtErrJSON(t, e, "POST", p, map[string]any{"urns": []string{fx.contacts[0].URNs[0]}}, `{"urns":{"0":["URN is in use by another contact."]}}`)
	srvtErrJSON(t, e, "POST", p, map[string]any{"fields": map[string]any{"shoe_size": "42"}}, `{"fields":{"shoe_size":["Invalid contact field key"]}}`)
	srvtErrJSON(t, e, "POST", p, map[string]any{"groups": []string{"Nope"}}, `{"groups":{"0":["No such object: Nope"]}}`)
	srvtErrJSON(t, e, "POST", p, map[string]any{"groups": []string{fx.smart.UUID}}, `{"groups":["Contact group must not be query based: Adults"]}`)
	srvtErrJSON(t, e, "POST", p, "[1]", `{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}`)
	srvtErrJSON(t, e, "POST", p+"?uuid="+fx.contacts[0].UUID+"&urn=tel:+250788000001", map[string]any{},
		`{"detail":"URL can only contain one of the following parameters: urn, uuid"}`)
	e.st.Read(func() {
		if len(e.st.Contacts) != 3 {
			t.Fatal("failed validation wrote a contact")
		}
	})
	m := e.obj("POST", p, map[string]any{"name": "Dee", "language": "fra", "urns": []string{"tel:+250 788-555-555", "twitter:@DeeDee"},
		"groups": []string{"Panel A"}, "fields": map[string]any{"age": 41}}, 201)
	urns := m["urns"].([]any)
	if m["name"] != "Dee" || m["language"] != "fra" || urns[0] != "tel:+250788555555" || urns[1] != "twitter:deedee" ||
		m["fields"].(map[string]any)["age"] != "41" || m["groups"].([]any)[0].(map[string]any)["name"] != "Panel A" {
		t.Fatalf("created %v", m)
	}
	if n := len(e.walk(p + "?urn=tel:%2B250788555555")); n != 1 {
		t.Fatalf("lookup by urn found %d", n)
	}
}

func TestSrvContactUpdateAndDelete(t *testing.T) {
	e, fx := srvtNew(t, Config{}, nil)
	var other *Group
	e.st.Write(func() { other = e.st.AddGroup(&Group{Name: "Panel B"}) })
	c := fx.contacts[0]
	before := c.ModifiedOn
	e.clk.Advance(time.Second)
	p := "/api/v2/contacts.json?uuid=" + c.UUID
	m := e.obj("POST", p, map[string]any{"groups": []string{other.UUID}, "fields": map[string]any{"age": nil, "district": "Gasabo"}}, 200)
	groups := m["groups"].([]any)
	if len(groups) != 1 || groups[0].(map[string]any)["uuid"] != other.UUID {
		t.Fatalf("groups must be replaced, got %v", groups)
	}
	f := m["fields"].(map[string]any)
	if f["age"] != nil || f["district"] != "Gasabo" || m["name"] != "Ann" || m["language"] != "eng" || len(m["urns"].([]any)) != 1 {
		t.Fatalf("update touched omitted attributes or did not merge fields: %v", m)
	}
	if m["modified_on"] == before.Format("2006-01-02T15:04:05Z") || m["modified_on"] != "2025-03-10T12:00:01Z" {
		t.Fatalf("modified_on not bumped: %v", m["modified_on"])
	}
	// update by URN; no match creates
	e.obj("POST", "/api/v2/contacts.json?urn="+"tel:%2B250788000002", map[string]any{"name": "Benjamin"}, 200)
	e.obj("POST", "/api/v2/contacts.json?urn="+"tel:%2B250799999999", map[string]any{"name": "New"}, 201)
	srvtErrJSON(t, e, "POST", "/api/v2/contacts.json?urn=tel:%2B250788000002", map[string]any{"urns": []string{"tel:+250788000009"}},
		`{"urns":["Can't update contact URNs when referencing by URN"]}`)
	if m := e.obj("POST", "/api/v2/contacts.json?uuid=6b0bcb40-0f0c-4d6a-9e42-0b0a4f0cbd4f", map[string]any{}, 404); m["detail"] != "Not found." {
		t.Fatalf("update missing: %v", m)
	}
	// delete
	srvtErrJSON(t, e, "DELETE", "/api/v2/contacts.json", nil, `{"detail":"URL must contain one of the following parameters: urn, uuid"}`)
	resp, _ := e.do("DELETE", p, nil)
	if resp.StatusCode != 204 {
		t.Fatalf("delete %d", resp.StatusCode)
	}
	if resp, _ := e.do("DELETE", p, nil); resp.StatusCode != 404 {
		t.Fatalf("second delete %d", resp.StatusCode)
	}
	del := e.walk("/api/v2/contacts.json?deleted=true")
	if len(del) != 1 || del[0]["uuid"] != c.UUID {
		t.Fatalf("deleted list %v", del)
	}
	srvtErrJSON(t, e, "POST", p, map[string]any{"name": "Zombie"}, `{"non_field_errors":["Deleted contacts can't be modified."]}`)
	// the freed URN can be reused
	e.obj("POST", "/api/v2/contacts.json", map[string]any{"urns": []string{"tel:+250788000001"}}, 201)
}

func srvtUUIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("6b0bcb40-0f0c-4d6a-9e42-%012d", i)
	}
	return out
}

func TestSrvBroadcastValidation(t *testing.T) {
	e, fx := srvtNew(t, Config{}, nil)
	p := "/api/v2/broadcasts.json"
	c := fx.contacts[0].UUID
	srvtErrJSON(t, e, "POST", p, map[string]any{"contacts": []string{c}}, `{"non_field_errors":["Must provide either text or attachments."]}`)
	srvtErrJSON(t, e, "POST", p, map[string]any{"text": "hi"}, `{"non_field_errors":["Must provide either urns, contacts or groups."]}`)
	srvtErrJSON(t, e, "POST", p, map[string]any{"text": "hi", "contacts": srvtUUIDs(101)}, `{"contacts":["Ensure this field has no more than 100 elements."]}`)
	srvtErrJSON(t, e, "POST", p, map[string]any{"text": "hi", "contacts": []string{c, "6b0bcb40-0f0c-4d6a-9e42-0b0a4f0cbd4f"}},
		`{"contacts":["No such object: 6b0bcb40-0f0c-4d6a-9e42-0b0a4f0cbd4f"]}`)
	srvtErrJSON(t, e, "POST", p, map[string]any{"text": "hi", "groups": []string{"Nope"}}, `{"groups":["No such object: Nope"]}`)
	m := e.obj("POST", p, map[string]any{"text": "Hello", "contacts": []string{c}, "urns": []string{"tel:+250788777777"}, "groups": []string{"Panel A"}}, 201)
	if m["status"] != "queued" || m["text"].(map[string]any)["eng"] != "Hello" || len(m["contacts"].([]any)) != 1 {
		t.Fatalf("broadcast %v", m)
	}
	// exactly 100 is fine
	many := make([]string, 100)
	for i := range many {
		many[i] = c
	}
	e.obj("POST", p, map[string]any{"text": map[string]any{"eng": "Hi"}, "contacts": many}, 201)
}

func TestSrvFlowStartValidationAndProcessing(t *testing.T) {
	e, fx := srvtNew(t, Config{StartDelay: 2 * time.Second}, nil)
	p := "/api/v2/flow_starts.json"
	c := fx.contacts[0].UUID
	srvtErrJSON(t, e, "POST", p, map[string]any{"contacts": []string{c}}, `{"flow":["This field is required."]}`)
	srvtErrJSON(t, e, "POST", p, map[string]any{"flow": "6b0bcb40-0f0c-4d6a-9e42-0b0a4f0cbd4f", "contacts": []string{c}},
		`{"flow":["No such object: 6b0bcb40-0f0c-4d6a-9e42-0b0a4f0cbd4f"]}`)
	srvtErrJSON(t, e, "POST", p, map[string]any{"flow": fx.flow.UUID}, `{"non_field_errors":["Must specify at least one group, contact or URN"]}`)
	srvtErrJSON(t, e, "POST", p, map[string]any{"flow": fx.flow.UUID, "urns": make([]string, 101)}, `{"urns":["Ensure this field has no more than 100 elements."]}`)
	srvtErrJSON(t, e, "POST", p, map[string]any{"flow": fx.flow.UUID, "contacts": []string{c}, "params": []int{1}}, `{"params":["Must be a valid JSON object"]}`)
	srvtErrJSON(t, e, "POST", p, map[string]any{"flow": fx.flow.UUID, "contacts": []string{c}, "restart_participants": "maybe"},
		`{"restart_participants":["Must be a valid boolean."]}`)
	m := e.obj("POST", p, map[string]any{"flow": fx.flow.UUID, "contacts": []string{c}, "restart_participants": 0, "exclude_active": true,
		"params": map[string]any{"week": 3}}, 201)
	if m["status"] != "pending" || m["restart_participants"] != false || m["exclude_active"] != true || m["params"].(map[string]any)["week"] != 3.0 {
		t.Fatalf("flow start %v", m)
	}
	m2 := e.obj("POST", p, map[string]any{"flow": fx.flow.UUID, "groups": []string{fx.manual.UUID}}, 201)
	if m2["restart_participants"] != true || m2["exclude_active"] != false {
		t.Fatalf("defaults %v", m2)
	}
	// the start completes after the delay and creates runs carrying its UUID
	e.clk.Advance(3 * time.Second)
	starts := e.walk(p + "?uuid=" + m2["uuid"].(string))
	if len(starts) != 1 || starts[0]["status"] != "complete" {
		t.Fatalf("start not complete: %v", starts)
	}
	runs := e.walk("/api/v2/runs.json?flow=" + fx.flow.UUID)
	n := 0
	for _, r := range runs {
		if s, ok := r["start"].(map[string]any); ok && s["uuid"] == m2["uuid"] {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("want 3 runs from the group start, got %d of %d", n, len(runs))
	}
}

// TestSrvFlowStartParamsAndListing: params (or the legacy alias extra) are
// stored and served back under both names, "params or extra" decides when
// both come, the encoded size is bounded, and GET lists the starts made
// through the API but not those a flow or trigger made (no creator), newest
// modification first, filtered on modified_on — as the real server does.
func TestSrvFlowStartParamsAndListing(t *testing.T) {
	e, fx := srvtNew(t, Config{StartDelay: time.Hour}, nil)
	p := "/api/v2/flow_starts.json"
	c := fx.contacts[0].UUID
	srvtErrJSON(t, e, "POST", p, map[string]any{"flow": fx.flow.UUID, "contacts": []string{c}, "extra": "YES"}, `{"extra":["Must be a valid JSON object"]}`)
	srvtErrJSON(t, e, "POST", p, map[string]any{"flow": fx.flow.UUID, "contacts": []string{c}, "params": map[string]any{"foo": strings.Repeat("a", 10000)}},
		`{"params":["Cannot exceed 10,000 characters encoded."]}`)
	e.obj("POST", p, map[string]any{"flow": fx.flow.UUID, "contacts": []string{c}, "extra": map[string]any{"key": "by-extra"}}, 201)
	e.clk.Advance(time.Second)
	both := e.obj("POST", p, map[string]any{"flow": fx.flow.UUID, "contacts": []string{c},
		"extra": map[string]any{"key": "extra-loses"}, "params": map[string]any{"key": "params-wins"}}, 201)
	e.clk.Advance(time.Second)
	emptyParams := e.obj("POST", p, map[string]any{"flow": fx.flow.UUID, "contacts": []string{c},
		"extra": map[string]any{"key": "extra-kept"}, "params": map[string]any{}}, 201)
	e.clk.Advance(time.Second)
	var system *FlowStart
	e.st.Write(func() {
		system = e.st.AddFlowStart(&FlowStart{FlowUUID: fx.flow.UUID, Contacts: []string{c}, System: true, Params: map[string]any{"key": "system"}})
	})
	list := e.walk(p)
	var keys []string
	for _, s := range list {
		params, _ := s["params"].(map[string]any)
		extra, _ := s["extra"].(map[string]any)
		if fmt.Sprint(params) != fmt.Sprint(extra) {
			t.Fatalf("params %v and extra %v differ", params, extra)
		}
		keys = append(keys, fmt.Sprint(params["key"]))
		if s["uuid"] == system.UUID {
			t.Fatal("a start made by a flow or trigger is listed")
		}
	}
	if got := strings.Join(keys, ","); got != "extra-kept,params-wins,by-extra" {
		t.Fatalf("listed starts (newest first) carry %s", got)
	}
	if n := len(e.walk(p + "?uuid=" + system.UUID)); n != 0 {
		t.Fatalf("the system start is found by uuid (%d)", n)
	}
	after := e.walk(p + "?after=" + url.QueryEscape(both["modified_on"].(string)))
	if len(after) != 2 || after[0]["uuid"] != emptyParams["uuid"] || after[1]["uuid"] != both["uuid"] {
		t.Fatalf("after=%s lists %v", both["modified_on"], after)
	}
	// The legacy shape has no params: extra carries the key.
	legacy, lfx := srvtNew(t, Config{Profile: ProfileLegacy2017}, nil)
	m := legacy.obj("POST", p, map[string]any{"flow": lfx.flow.UUID, "contacts": []string{lfx.contacts[0].UUID}, "params": map[string]any{"key": "k"}, "extra": map[string]any{"key": "k"}}, 201)
	if _, has := m["params"]; has || m["extra"].(map[string]any)["key"] != "k" {
		t.Fatalf("legacy flow start %v", m)
	}
}
