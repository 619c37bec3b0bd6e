package rapidpro

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Inline fixtures for the three server generations of RAPIDPRO.md §5.

const legacyRun = `{"id": 4012, "flow": {"uuid": "f1", "name": "Survey"},
 "contact": {"uuid": "c1", "name": null},
 "responded": true,
 "path": [{"node": "n1", "time": "2017-03-01T10:00:00+00:00"}],
 "values": {"color": {"value": 12, "category": {"base": "Blue", "fra": "Bleu"}, "node": "n1", "time": "2017-03-01T10:00:00.5+00:00"},
            "mood": {"value": "ok", "category": {"eng": "Fine", "fra": "Bien"}, "node": "n2", "time": "2017-03-01T10:01:00"}},
 "created_on": "2017-03-01T09:59:59+00:00", "modified_on": "2017-03-01T10:01:00.123+00:00",
 "exited_on": null, "exit_type": null}`

const ossRun = `{"id": 99, "uuid": "r-oss", "flow": {"uuid": "f1", "name": "Survey"},
 "contact": {"uuid": "c1", "name": "Ann", "urn": "tel:+250788123123", "urn_display": "0788 123 123"},
 "start": {"uuid": "s1"}, "responded": false, "path": null,
 "values": {"age": {"name": "Age", "value": "34", "category": "Valid", "node": "n3", "time": "2025-01-02T03:04:05.678901Z", "input": "34 years"},
            "note": {"name": "Note", "value": "", "category": null, "node": "n4", "time": "2025-01-02T03:04:06Z", "input": null}},
 "created_on": "2025-01-02T03:04:00Z", "modified_on": "2025-01-02T03:04:06Z", "exited_on": "2025-01-02T03:04:06Z", "exit_type": "failed"}`

const hostedRun = `{"uuid": "r-hosted", "flow": {"uuid": "f1", "name": "Survey"},
 "contact": {"uuid": "c1", "name": "Ann", "anon_display": "#1234", "urn": "tel:********"},
 "start": null, "responded": true, "path": [],
 "values": {"age": {"name": "Age", "value": "34", "category": "Valid", "node": "n3", "time": "2025-06-01T00:00:00.000001+02:00"}},
 "created_on": "2025-06-01T00:00:00Z", "modified_on": "2025-06-01T00:00:00Z", "exited_on": null, "exit_type": null}`

func TestRunShapes(t *testing.T) {
	var legacy, oss, hosted Run
	for src, dst := range map[string]*Run{legacyRun: &legacy, ossRun: &oss, hostedRun: &hosted} {
		if err := json.Unmarshal([]byte(src), dst); err != nil {
			t.Fatal(err)
		}
	}
	if legacy.Key() != "4012" || legacy.UUID != "" || legacy.ID != 4012 || legacy.ExitedOn != nil || legacy.ExitType != "" {
		t.Errorf("legacy identity: %+v", legacy)
	}
	lc := legacy.Values["color"]
	if lc.Name != "" || lc.Value != "12" || deref(lc.Category) != "Blue" || lc.Input != nil ||
		!lc.Time.Equal(mustTime(t, "2017-03-01T10:00:00.5Z")) {
		t.Errorf("legacy color: %+v", lc)
	}
	if m := legacy.Values["mood"]; deref(m.Category) != "Fine" || !m.Time.Equal(mustTime(t, "2017-03-01T10:01:00Z")) {
		t.Errorf("legacy mood (first key in document order, zoneless time as UTC): %+v", m)
	}
	if oss.Key() != "r-oss" || oss.ID != 99 || oss.StartUUID != "s1" || oss.Path != nil || oss.Contact.URNDisplay != "0788 123 123" {
		t.Errorf("oss: %+v", oss)
	}
	if v := oss.Values["age"]; deref(v.Input) != "34 years" || v.Name != "Age" || deref(v.Category) != "Valid" ||
		v.Time != mustTime(t, "2025-01-02T03:04:05.678901Z") {
		t.Errorf("oss age: %+v", v)
	}
	if v := oss.Values["note"]; v.Category != nil || v.Input != nil {
		t.Errorf("oss note nulls: %+v", v)
	}
	if oss.ExitType != "failed" || oss.ExitedOn == nil {
		t.Errorf("oss exit: %+v", oss)
	}
	if hosted.Key() != "r-hosted" || hosted.ID != 0 || hosted.StartUUID != "" || hosted.Contact.AnonDisplay != "#1234" {
		t.Errorf("hosted: %+v", hosted)
	}
	if v := hosted.Values["age"]; v.Input != nil || v.Time != mustTime(t, "2025-05-31T22:00:00.000001Z") {
		t.Errorf("hosted age (offset normalised to UTC): %+v", v)
	}
}

func TestContactShapes(t *testing.T) {
	cases := []struct {
		name, src       string
		status          string
		blocked, active bool
	}{
		{"legacy active", `{"uuid":"a","name":"Ann","blocked":false,"stopped":false,"fields":{"age":"3"}}`, "active", false, true},
		{"legacy blocked", `{"uuid":"a","blocked":true,"stopped":false}`, "blocked", true, false},
		{"legacy stopped", `{"uuid":"a","blocked":false,"stopped":true}`, "stopped", false, false},
		{"legacy deleted", `{"uuid":"a","name":null,"blocked":null,"stopped":null,"urns":[]}`, "deleted", false, false},
		{"oss active", `{"uuid":"a","status":"active","blocked":false,"stopped":false}`, "active", false, true},
		{"oss archived", `{"uuid":"a","status":"archived","blocked":false,"stopped":false}`, "archived", false, false},
		{"oss deleted", `{"uuid":"a","status":null,"blocked":null,"stopped":null,"fields":{}}`, "deleted", false, false},
		{"hosted stopped", `{"uuid":"a","status":"stopped"}`, "stopped", false, false},
		{"hosted deleted", `{"uuid":"a","name":null,"status":null,"language":null,"urns":[],"groups":[],"fields":{}}`, "deleted", false, false},
		{"minimal", `{"uuid":"a"}`, "active", false, true},
	}
	for _, tc := range cases {
		var c Contact
		if err := json.Unmarshal([]byte(tc.src), &c); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if c.Status != tc.status || c.Blocked != tc.blocked || c.Active() != tc.active {
			t.Errorf("%s: status=%q blocked=%v active=%v", tc.name, c.Status, c.Blocked, c.Active())
		}
	}
	var c Contact
	src := `{"uuid":"a","fields":{"n":34.5,"b":true,"s":"x","z":null},"last_seen_on":"2025-01-01T00:00:00Z","flow":{"uuid":"f","name":null}}`
	if err := json.Unmarshal([]byte(src), &c); err != nil {
		t.Fatal(err)
	}
	if deref(c.Fields["n"]) != "34.5" || deref(c.Fields["b"]) != "true" || deref(c.Fields["s"]) != "x" || c.Fields["z"] != nil {
		t.Errorf("fields: %v", c.Fields)
	}
	if c.LastSeenOn == nil || c.Flow == nil || c.Flow.UUID != "f" {
		t.Errorf("contact: %+v", c)
	}
}

func TestFieldShapes(t *testing.T) {
	src := `[{"key":"age","label":"Age","value_type":"numeric"},
	 {"key":"age2","name":"Age","type":"number","label":"Old","value_type":"numeric"},
	 {"key":"d","label":"District","value_type":"I"},
	 {"key":"w","name":"Ward","type":"W"},
	 {"key":"t","name":"Text","value_type":"T"}]`
	var fs []Field
	if err := json.Unmarshal([]byte(src), &fs); err != nil {
		t.Fatal(err)
	}
	want := []Field{{"age", "Age", "number"}, {"age2", "Age", "number"}, {"d", "District", "district"},
		{"w", "Ward", "ward"}, {"t", "Text", "text"}}
	if !reflect.DeepEqual(fs, want) {
		t.Errorf("got %+v", fs)
	}
}

func TestMessageShapes(t *testing.T) {
	legacy := `{"id": 4105, "broadcast": 12, "contact": {"uuid":"c","name":"Ann"}, "urn": "tel:+1", "channel": null,
	 "direction": "in", "type": "inbox", "status": "handled", "archived": true, "text": "hi", "labels": [],
	 "attachments": ["image/jpeg:http://x/y.jpg"], "created_on": "2017-01-01T00:00:00+00:00", "sent_on": null}`
	oss := `{"id": 5, "broadcast": null, "contact": {"uuid":"c","name":"Ann"}, "direction": "out", "type": "text",
	 "status": "sent", "visibility": "visible", "archived": false, "text": null, "attachments": [], "created_on": "2025-01-01T00:00:00Z",
	 "modified_on": "2025-01-01T00:00:01Z"}`
	var lm, om Message
	if err := json.Unmarshal([]byte(legacy), &lm); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(oss), &om); err != nil {
		t.Fatal(err)
	}
	if lm.Key() != "4105" || lm.Broadcast != 12 || lm.Visibility != "archived" || lm.Type != "inbox" ||
		!reflect.DeepEqual(lm.Attachments, []Attachment{{ContentType: "image/jpeg", URL: "http://x/y.jpg"}}) {
		t.Errorf("legacy: %+v", lm)
	}
	if om.Key() != "5" || om.Broadcast != 0 || om.Visibility != "visible" || om.Text != "" || om.ModifiedOn == nil {
		t.Errorf("oss: %+v", om)
	}
}

func TestBroadcastFlowStartShapes(t *testing.T) {
	var legacy, oss Broadcast
	if err := json.Unmarshal([]byte(`{"id": 7, "urns": [], "contacts": [], "groups": [], "text": "Hello", "created_on": "2017-01-01T00:00:00+00:00"}`), &legacy); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(`{"id": 8, "text": {"eng": "Hello", "fra": "Bonjour"}, "status": "queued"}`), &oss); err != nil {
		t.Fatal(err)
	}
	if legacy.Key() != "7" || legacy.Text["base"] != "Hello" {
		t.Errorf("legacy: %+v", legacy)
	}
	if oss.Key() != "8" || !reflect.DeepEqual(oss.Text, map[string]string{"eng": "Hello", "fra": "Bonjour"}) || oss.Status != "queued" {
		t.Errorf("oss: %+v", oss)
	}

	var legacyStart, ossStart FlowStart
	if err := json.Unmarshal([]byte(`{"id": 3, "flow": {"uuid":"f","name":"F"}, "status": "complete", "extra": {"a": 1}, "restart_participants": 1}`), &legacyStart); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(`{"id": 4, "uuid": "u4", "flow": {"uuid":"f","name":"F"}, "status": "pending", "params": {"b": "x"}, "extra": {"a": 1}, "restart_participants": false, "exclude_active": true}`), &ossStart); err != nil {
		t.Fatal(err)
	}
	if legacyStart.ID != 3 || legacyStart.Params["a"] != float64(1) || legacyStart.RestartParticipants == nil || !*legacyStart.RestartParticipants {
		t.Errorf("legacy start: %+v", legacyStart)
	}
	if ossStart.UUID != "u4" || ossStart.Params["b"] != "x" || ossStart.Params["a"] != nil ||
		*ossStart.RestartParticipants || ossStart.ExcludeActive == nil || !*ossStart.ExcludeActive {
		t.Errorf("oss start: %+v", ossStart)
	}
}

func TestArchiveBoundaryShapes(t *testing.T) {
	var oss, hosted Archive
	if err := json.Unmarshal([]byte(`{"archive_type": "run", "start_date": "2017-05-05", "period": "daily", "record_count": "10", "size": 123, "hash": "ab", "download_url": ""}`), &oss); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(`{"type": "message", "archive_type": "run", "start_date": "2025-01-01", "period": "monthly", "size": 9}`), &hosted); err != nil {
		t.Fatal(err)
	}
	if oss.Type != "run" || oss.RecordCount != 10 || oss.Size != 123 {
		t.Errorf("oss archive: %+v", oss)
	}
	if hosted.Type != "message" {
		t.Errorf("hosted archive: %+v", hosted)
	}

	var old, cur Boundary
	if err := json.Unmarshal([]byte(`{"osm_id": "R2", "name": "Kigali", "level": 1, "parent": "R1", "aliases": null, "geometry": null}`), &old); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(`{"osm_id": "R3", "name": "Gasabo", "level": 2, "parent": {"osm_id": "R2", "name": "Kigali"}, "geometry": {"type":"MultiPolygon","coordinates":[]}}`), &cur); err != nil {
		t.Fatal(err)
	}
	if old.Parent == nil || old.Parent.OSMID != "R1" || old.Geometry != nil {
		t.Errorf("old boundary: %+v", old)
	}
	if cur.Parent == nil || *cur.Parent != (BoundaryRef{"R2", "Kigali"}) || string(cur.Geometry) != `{"type":"MultiPolygon","coordinates":[]}` {
		t.Errorf("boundary: %+v", cur)
	}
}

func TestParseTimeForms(t *testing.T) {
	want := time.Date(2015, 11, 11, 13, 5, 57, 576056000, time.UTC)
	for _, s := range []string{"2015-11-11T13:05:57.576056Z", "2015-11-11T13:05:57.576056+00:00",
		"2015-11-11T15:05:57.576056+02:00", "2015-11-11T13:05:57.576056", "2015-11-11 13:05:57.576056+00:00",
		"2015-11-11T13:05:57.576056+0000"} {
		got, err := ParseTime(s)
		if err != nil || got != want {
			t.Errorf("%s: %v %v", s, got, err)
		}
	}
	if got, err := ParseTime("2015-11-11T13:05:57Z"); err != nil || got != want.Truncate(time.Second) {
		t.Errorf("no fraction: %v %v", got, err)
	}
	if _, err := ParseTime("yesterday"); err == nil {
		t.Error("garbage should fail")
	}
	var r Run
	if err := json.Unmarshal([]byte(`{"uuid":"x","created_on":"garbage","modified_on":12}`), &r); err != nil || !r.CreatedOn.IsZero() {
		t.Errorf("tolerant times: %v %v", r.CreatedOn, err)
	}
}

func TestRoundTripThroughMarshal(t *testing.T) {
	var r Run
	if err := json.Unmarshal([]byte(ossRun), &r); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Run
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r, back) {
		t.Errorf("run round trip:\n%+v\n%+v", r, back)
	}
	var c Contact
	if err := json.Unmarshal([]byte(`{"uuid":"a","status":"blocked","fields":{"x":null,"y":"1"},"created_on":"2020-01-01T00:00:00Z"}`), &c); err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(c)
	var c2 Contact
	if err := json.Unmarshal(b, &c2); err != nil || !reflect.DeepEqual(c, c2) {
		t.Errorf("contact round trip: %v\n%+v\n%+v", err, c, c2)
	}
}

func TestContactWriteBody(t *testing.T) {
	cases := []struct {
		w    ContactWrite
		want string
	}{
		{ContactWrite{}, `{}`},
		{ContactWrite{Name: strp("Ann"), Groups: []string{}}, `{"name":"Ann","groups":[]}`},
		{ContactWrite{Language: strp("eng"), URNs: []string{"tel:+1"}, Fields: map[string]string{"age": ""}, Groups: []string{"g1"}},
			`{"language":"eng","urns":["tel:+1"],"fields":{"age":""},"groups":["g1"]}`},
		{ContactWrite{URNs: []string{}, Fields: map[string]string{}}, `{}`},
	}
	for _, tc := range cases {
		b, err := json.Marshal(tc.w)
		if err != nil || string(b) != tc.want {
			t.Errorf("%+v: got %s want %s (%v)", tc.w, b, tc.want, err)
		}
	}
}

func TestDecodePageTolerance(t *testing.T) {
	body := `{"previous": {"x": [1]}, "results": [1, {"uuid": "a", "flow": "not an object", "exit_type": "completed"}, "x",
	  {"uuid": "b", "values": [1, 2]}], "next": "http://h/api/v2/runs.json?cursor=z"}`
	var p wirePage[wireRun]
	mistyped, err := decodePage(strings.NewReader(body), &p)
	if err != nil || mistyped != 4 || len(p.Results) != 2 || p.Next != "http://h/api/v2/runs.json?cursor=z" {
		t.Fatalf("err %v mistyped %d results %d next %q", err, mistyped, len(p.Results), p.Next)
	}
	if r := p.Results[0].api(); r.UUID != "a" || r.ExitType != "completed" || r.Flow.UUID != "" {
		t.Errorf("run a: %+v", r)
	}
	// A bare array (no .json suffix) and a truncated body.
	var q wirePage[wireRun]
	if _, err := decodePage(strings.NewReader(`[]`), &q); err != nil || len(q.Results) != 0 {
		t.Errorf("bare array: %v", err)
	}
	if _, err := decodePage(strings.NewReader(`{"next": null, "results": [{"uuid": "a"`), &q); err == nil {
		t.Error("truncated body accepted")
	}
	if _, err := decodePage(strings.NewReader(`<html>`), &q); err == nil {
		t.Error("html accepted")
	}
}
