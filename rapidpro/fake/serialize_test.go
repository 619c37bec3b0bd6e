package fake

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// srvtShape asserts which keys m has and lacks.
func srvtShape(t *testing.T, what string, m map[string]any, has, lacks string) {
	t.Helper()
	for _, k := range strings.Fields(has) {
		if _, ok := m[k]; !ok {
			t.Fatalf("%s: missing %q in %v", what, k, m)
		}
	}
	for _, k := range strings.Fields(lacks) {
		if _, ok := m[k]; ok {
			t.Fatalf("%s: unexpected %q in %v", what, k, m)
		}
	}
}

// srvtProfileSeed adds a message, a broadcast, a flow start and an archive.
func srvtProfileSeed(st *Store, fx *srvtFixture) {
	c := fx.contacts[0]
	srvtRun(st, fx, c, srvtBase.Add(-time.Hour+123456*time.Microsecond), true)
	st.AddMessage(&Message{ContactUUID: c.UUID, URN: c.URNs[0], Direction: "in", Status: "handled", Text: "hi", CreatedOn: srvtBase.Add(-time.Minute)})
	st.AddBroadcast(&Broadcast{Contacts: []string{c.UUID}, Text: "Hello", Status: "queued"})
	st.AddFlowStart(&FlowStart{FlowUUID: fx.flow.UUID, Contacts: []string{c.UUID}, RestartParticipants: true, Params: map[string]any{"day": "Monday"}, Status: "complete"})
}

func TestSrvProfileShapes(t *testing.T) {
	type shape struct{ has, lacks string }
	cases := map[Profile]map[string]shape{
		ProfileLegacy2017: {
			"runs":        {"id flow contact start responded path values created_on modified_on exited_on exit_type", "uuid"},
			"value":       {"value category node time", "name input"},
			"contacts":    {"uuid name language urns groups fields blocked stopped created_on modified_on", "status last_seen_on"},
			"fields":      {"key label value_type", "name type"},
			"messages":    {"id broadcast contact urn direction type status archived text labels created_on sent_on", "uuid visibility quick_replies"},
			"broadcasts":  {"id urns contacts groups text created_on", "uuid"},
			"flow_starts": {"id flow status groups contacts restart_participants extra created_on modified_on", "uuid params"},
			"flows":       {"uuid name archived labels expires runs results created_on", "type modified_on"},
			"groups":      {"uuid name query count", "status system"},
		},
		ProfileOSS2025: {
			"runs":        {"id uuid flow contact start responded path values created_on modified_on exited_on exit_type", ""},
			"value":       {"value category node time name input", ""},
			"contacts":    {"uuid name status language urns groups fields flow created_on modified_on last_seen_on blocked stopped", ""},
			"fields":      {"key name type label value_type", ""},
			"messages":    {"id broadcast contact urn channel direction type status visibility text labels attachments flow created_on sent_on modified_on", "uuid quick_replies"},
			"broadcasts":  {"id urns contacts groups text attachments base_language status created_on", "uuid"},
			"flow_starts": {"id uuid flow status groups contacts restart_participants exclude_active params extra created_on modified_on", ""},
			"flows":       {"uuid name type archived labels expires runs results parent_refs created_on modified_on", ""},
			"groups":      {"uuid name query status system count", ""},
		},
		ProfileHosted2025: {
			"runs":        {"uuid flow contact start responded path values created_on modified_on exited_on exit_type", "id"},
			"value":       {"value category node time name", "input"},
			"contacts":    {"uuid name status language urns groups fields flow created_on modified_on last_seen_on", "blocked stopped"},
			"fields":      {"key name type", "label value_type"},
			"messages":    {"uuid contact urn channel direction type status visibility text labels attachments quick_replies flow created_on sent_on modified_on", "id broadcast archived"},
			"broadcasts":  {"uuid status urns contacts groups text created_on", "id"},
			"flow_starts": {"uuid flow status groups contacts params created_on modified_on", "id"},
			"flows":       {"uuid name type archived labels expires runs results created_on modified_on", ""},
			"groups":      {"uuid name query status system count", ""},
		},
	}
	for prof, shapes := range cases {
		e, fx := srvtNew(t, Config{Profile: prof}, srvtProfileSeed)
		for ep, sh := range shapes {
			if ep == "value" {
				continue
			}
			res := e.walk("/api/v2/" + ep + ".json")
			if len(res) == 0 {
				t.Fatalf("%s %s: empty", prof, ep)
			}
			srvtShape(t, string(prof)+" "+ep, res[0], sh.has, sh.lacks)
		}
		run := e.walk("/api/v2/runs.json")[0]
		v := run["values"].(map[string]any)["water_points"].(map[string]any)
		srvtShape(t, string(prof)+" value", v, shapes["value"].has, shapes["value"].lacks)
		if run["modified_on"] != "2025-03-10T11:00:00.123456Z" || run["created_on"] != "2025-03-10T10:59:00.123456Z" {
			t.Fatalf("%s: dates %v %v", prof, run["modified_on"], run["created_on"])
		}
		ct := e.walk("/api/v2/contacts.json?uuid=" + fx.contacts[0].UUID)[0]
		fields := ct["fields"].(map[string]any)
		if _, ok := fields["district"]; !ok || fields["district"] != nil {
			t.Fatalf("%s: every field must be a key: %v", prof, fields)
		}
		if prof == ProfileLegacy2017 {
			if fields["age"] != 30.0 {
				t.Fatalf("legacy numeric field %v", fields["age"])
			}
		} else if fields["age"] != "30" || ct["status"] != "active" {
			t.Fatalf("%s: contact %v", prof, ct)
		}
		f := e.walk("/api/v2/fields.json?key=age")[0]
		if prof != ProfileHosted2025 && f["value_type"] != "numeric" {
			t.Fatalf("%s: value_type %v", prof, f["value_type"])
		}
		if prof != ProfileLegacy2017 && f["type"] != "number" {
			t.Fatalf("%s: type %v", prof, f["type"])
		}
		b := e.walk("/api/v2/broadcasts.json")[0]
		if _, isDict := b["text"].(map[string]any); isDict != (prof == ProfileOSS2025) {
			t.Fatalf("%s: broadcast text %v", prof, b["text"])
		}
		m := e.walk("/api/v2/messages.json")[0]
		if prof == ProfileLegacy2017 && m["type"] != "inbox" {
			t.Fatalf("legacy message type %v", m["type"])
		}
		fl := e.walk("/api/v2/flows.json?uuid=" + fx.flow.UUID)[0]
		results := fl["results"].([]any)
		r0 := results[0].(map[string]any)
		if len(results) != 2 || r0["key"] != "water_points" || r0["node_uuids"].([]any)[0] != "11111111-1111-4111-8111-111111111111" {
			t.Fatalf("%s: flow results %v", prof, results)
		}
		if fl["runs"].(map[string]any)["completed"] != 1.0 {
			t.Fatalf("%s: runs counts %v", prof, fl["runs"])
		}
	}
}

func TestSrvRunContactSummary(t *testing.T) {
	e, fx := srvtNew(t, Config{}, srvtProfileSeed)
	run := e.walk("/api/v2/runs.json")[0]
	c := run["contact"].(map[string]any)
	if c["urn"] != fx.contacts[0].URNs[0] || c["name"] != "Ann" {
		t.Fatalf("contact ref %v", c)
	}
	if run2 := e.walk("/api/v2/runs.json?paths=false")[0]; run2["path"] != nil {
		t.Fatalf("paths=false must give null path: %v", run2["path"])
	}
}

func TestSrvDefinitions(t *testing.T) {
	e, fx := srvtNew(t, Config{}, nil)
	doc := e.obj("GET", "/api/v2/definitions.json?flow="+fx.flow.UUID+"&dependencies=none", nil, 200)
	flows := doc["flows"].([]any)
	if doc["version"] != "13" || len(flows) != 1 || len(doc["fields"].([]any)) != 0 {
		t.Fatalf("none: %v", doc)
	}
	f := flows[0].(map[string]any)
	if f["spec_version"] != "13.1.0" || f["type"] != "messaging" || f["expire_after_minutes"] != 720.0 {
		t.Fatalf("flow header %v", f)
	}
	nodes := f["nodes"].([]any)
	if len(nodes) != 4 {
		t.Fatalf("want send+router per question, got %d nodes", len(nodes))
	}
	send := nodes[0].(map[string]any)
	act := send["actions"].([]any)[0].(map[string]any)
	exit := send["exits"].([]any)[0].(map[string]any)
	if act["type"] != "send_msg" || act["text"] != "How many water points?" || exit["destination_uuid"] != "11111111-1111-4111-8111-111111111111" {
		t.Fatalf("send node %v", send)
	}
	router := nodes[1].(map[string]any)["router"].(map[string]any)
	if router["type"] != "switch" || router["result_name"] != "Water Points" || router["wait"].(map[string]any)["type"] != "msg" {
		t.Fatalf("router %v", router)
	}
	cats := router["categories"].([]any)
	cases := router["cases"].([]any)
	c0 := cases[0].(map[string]any)
	if len(cats) != 3 || len(cases) != 2 || c0["type"] != "has_number_between" || c0["category_uuid"] != cats[0].(map[string]any)["uuid"] {
		t.Fatalf("cases/categories %v %v", cases, cats)
	}
	if router["default_category_uuid"] != cats[2].(map[string]any)["uuid"] {
		t.Fatalf("default category %v", router["default_category_uuid"])
	}
	// default dependencies=all adds the other flows, fields and groups
	all := e.obj("GET", "/api/v2/definitions.json?flow="+fx.flow.UUID, nil, 200)
	if len(all["flows"].([]any)) != 2 || len(all["fields"].([]any)) != 2 || len(all["groups"].([]any)) != 2 {
		t.Fatalf("all: %d flows", len(all["flows"].([]any)))
	}
	flowsOnly := e.obj("GET", "/api/v2/definitions.json?flow="+fx.flow.UUID+"&dependencies=flows", nil, 200)
	if len(flowsOnly["flows"].([]any)) != 2 || len(flowsOnly["fields"].([]any)) != 0 {
		t.Fatal("flows dependencies")
	}
	// legacy v10
	e2, fx2 := srvtNew(t, Config{Profile: ProfileLegacy2017}, nil)
	leg := e2.obj("GET", "/api/v2/definitions.json?flow="+fx2.flow.UUID+"&dependencies=0", nil, 200)
	lf := leg["flows"].([]any)
	if len(lf) != 1 {
		t.Fatalf("legacy flows %d", len(lf))
	}
	l0 := lf[0].(map[string]any)
	if l0["metadata"].(map[string]any)["uuid"] != fx2.flow.UUID {
		t.Fatalf("legacy metadata %v", l0["metadata"])
	}
	rs := l0["rule_sets"].([]any)[0].(map[string]any)
	rules := rs["rules"].([]any)
	r0 := rules[0].(map[string]any)
	last := rules[len(rules)-1].(map[string]any)
	if rs["uuid"] != "11111111-1111-4111-8111-111111111111" || rs["label"] != "Water Points" || rs["ruleset_type"] != "wait_message" ||
		r0["test"].(map[string]any)["type"] != "between" || r0["test"].(map[string]any)["min"] != "1" ||
		r0["category"].(map[string]any)["eng"] != "1 - 5" || last["category"].(map[string]any)["eng"] != "Other" ||
		last["test"].(map[string]any)["type"] != "true" {
		t.Fatalf("legacy rule set %v", rs)
	}
}

// TestSrvFixtureShapes checks that every key of the real samples appears in
// our oss/hosted output for the same endpoint (apart from data we do not model).
func TestSrvFixtureShapes(t *testing.T) {
	dir := "/work/shared/rapidpro-api/v2"
	if _, err := os.Stat(dir); err != nil {
		t.Skip("no samples")
	}
	skip := map[string]bool{"labels": true}
	e, _ := srvtNew(t, Config{Profile: ProfileHosted2025}, srvtProfileSeed)
	e.srv.ArchiveRuns(srvtBase, "daily")
	e.st.Write(func() {
		e.st.AddBoundary(&Boundary{OSMID: "R1", Name: "Rwanda", Geometry: json.RawMessage(`{"type":"MultiPolygon","coordinates":[]}`)})
	})
	for _, ep := range []string{"runs", "contacts", "fields", "messages", "broadcasts", "flow_starts", "flows", "groups", "boundaries", "archives", "labels"} {
		raw, err := os.ReadFile(filepath.Join(dir, ep+".json"))
		if err != nil || skip[ep] {
			continue
		}
		var sample struct{ Results []map[string]any }
		if err := json.Unmarshal(raw, &sample); err != nil || len(sample.Results) == 0 {
			continue
		}
		q := "/api/v2/" + ep + ".json"
		if ep == "runs" {
			e.st.Write(func() {
				for _, r := range e.st.Runs {
					r.Archived = false
				}
			})
		}
		if ep == "boundaries" {
			q += "?geometry=true"
		}
		ours := e.walk(q)
		if len(ours) == 0 {
			t.Fatalf("%s: nothing served", ep)
		}
		for k := range sample.Results[0] {
			if _, ok := ours[0][k]; !ok {
				t.Errorf("%s: sample key %q missing from %v", ep, k, ours[0])
			}
		}
	}
}
