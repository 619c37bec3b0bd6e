package fake

import (
	"net/url"
	"testing"
	"time"
)

// srvtSpread seeds runs one minute apart: minute i has run i (i = 0..5),
// responded for even i.
func srvtSpread(st *Store, fx *srvtFixture) {
	for i := 0; i < 6; i++ {
		srvtRun(st, fx, fx.contacts[i%3], srvtBase.Add(-time.Hour+time.Duration(i)*time.Minute), i%2 == 0)
	}
}

func srvtDRF(t time.Time) string { return url.QueryEscape(t.Format("2006-01-02T15:04:05.000000Z")) }

func TestSrvAfterBeforeInclusive(t *testing.T) {
	e, _ := srvtNew(t, Config{}, srvtSpread)
	t1, t3 := srvtBase.Add(-time.Hour+time.Minute), srvtBase.Add(-time.Hour+3*time.Minute)
	res := e.walk("/api/v2/runs.json?after=" + srvtDRF(t1) + "&before=" + srvtDRF(t3))
	if len(res) != 3 {
		t.Fatalf("inclusive range gave %d runs", len(res))
	}
	// other accepted forms: +00:00 offset, no fraction, date only
	if n := len(e.walk("/api/v2/runs.json?after=" + url.QueryEscape(t3.Format("2006-01-02T15:04:05+00:00")))); n != 3 {
		t.Fatalf("offset form gave %d", n)
	}
	if n := len(e.walk("/api/v2/runs.json?before=2020-01-01")); n != 0 {
		t.Fatalf("date form gave %d", n)
	}
}

func TestSrvFiltersEmptyNot400(t *testing.T) {
	e, _ := srvtNew(t, Config{}, srvtSpread)
	for _, q := range []string{
		"/api/v2/runs.json?after=yesterday",
		"/api/v2/runs.json?flow=6b0bcb40-0f0c-4d6a-9e42-0b0a4f0cbd4f",
		"/api/v2/contacts.json?group=Nope",
		"/api/v2/messages.json?folder=spam",
		"/api/v2/contacts.json?before=2025-13-45T00:00:00Z",
	} {
		res, next := e.page(q)
		if len(res) != 0 || next != "" {
			t.Fatalf("%s: %d results", q, len(res))
		}
	}
}

func TestSrvQueryErrors(t *testing.T) {
	e, fx := srvtNew(t, Config{}, srvtSpread)
	c := fx.contacts[0].UUID
	cases := map[string]string{
		"/api/v2/runs.json?flow=" + fx.flow.UUID + "&contact=" + c:          "You may only specify one of the contact, flow parameters",
		"/api/v2/runs.json?uuid=abc":                                        "Value for uuid must be a valid UUID",
		"/api/v2/flow_starts.json?uuid=abc":                                 "Value for uuid must be a valid UUID",
		"/api/v2/definitions.json?flow=" + fx.flow.UUID + "&dependencies=1": "dependencies must be one of none, flows, all",
		"/api/v2/contacts.json?urn=tel:123":                                 "Invalid URN: tel:123",
		"/api/v2/messages.json?folder=inbox&contact=" + c:                   "You may only specify one of the contact, folder, label, broadcast parameters",
	}
	for q, want := range cases {
		if m := e.obj("GET", q, nil, 400); m["detail"] != want {
			t.Fatalf("%s: %v", q, m)
		}
	}
	// the contact filter alone works
	if n := len(e.walk("/api/v2/runs.json?contact=" + c)); n != 2 {
		t.Fatalf("contact filter gave %d", n)
	}
}

func TestSrvRespondedAndTruthy(t *testing.T) {
	e, _ := srvtNew(t, Config{}, srvtSpread)
	if n := len(e.walk("/api/v2/runs.json?responded=false")); n != 6 {
		t.Fatalf("responded=false should be a no-op, got %d", n)
	}
	for _, v := range []string{"true", "Y", "yes", "1", "TRUE"} {
		if n := len(e.walk("/api/v2/runs.json?responded=" + v)); n != 3 {
			t.Fatalf("responded=%s gave %d", v, n)
		}
	}
	if n := len(e.walk("/api/v2/runs.json?responded=on")); n != 6 {
		t.Fatalf("responded=on is not truthy, got %d", n)
	}
}

func TestSrvDeletedContacts(t *testing.T) {
	e, fx := srvtNew(t, Config{}, func(st *Store, fx *srvtFixture) {
		fx.contacts[1].Deleted = true
	})
	live := e.walk("/api/v2/contacts.json")
	del := e.walk("/api/v2/contacts.json?deleted=true")
	if len(live) != 2 || len(del) != 1 || del[0]["uuid"] != fx.contacts[1].UUID {
		t.Fatalf("live %d deleted %d", len(live), len(del))
	}
	d := del[0]
	if d["name"] != nil || d["status"] != nil || len(d["urns"].([]any)) != 0 || len(d["groups"].([]any)) != 0 || len(d["fields"].(map[string]any)) != 0 {
		t.Fatalf("deleted contact shape %v", d)
	}
	if n := len(e.walk("/api/v2/contacts.json?deleted=true&group=" + fx.manual.UUID)); n != 0 {
		t.Fatalf("group+deleted found %d", n)
	}
	if n := len(e.walk("/api/v2/contacts.json?group=Panel%20A")); n != 2 {
		t.Fatalf("group by name found %d", n)
	}
}

func TestSrvLateVisibility(t *testing.T) {
	var late *Run
	e, fx := srvtNew(t, Config{}, srvtSpread)
	e.st.Write(func() {
		late = srvtRun(e.st, fx, fx.contacts[0], srvtBase.Add(-2*time.Hour), true)
		late.HiddenUntil = srvtBase.Add(30 * time.Second)
	})
	if n := len(e.walk("/api/v2/runs.json")); n != 6 {
		t.Fatalf("hidden run served: %d", n)
	}
	e.clk.Advance(time.Minute)
	res := e.walk("/api/v2/runs.json")
	if len(res) != 7 || res[6]["uuid"] != late.UUID {
		t.Fatalf("late run should appear with its old modified_on at the end: %d", len(res))
	}
}

func TestSrvMessageFolders(t *testing.T) {
	e, fx := srvtNew(t, Config{}, func(st *Store, fx *srvtFixture) {
		c := fx.contacts[0]
		at := func(m int) time.Time { return srvtBase.Add(-time.Duration(m) * time.Minute) }
		sent := at(1)
		st.AddMessage(&Message{ContactUUID: c.UUID, URN: c.URNs[0], Direction: "in", Status: "handled", Text: "hi", CreatedOn: at(10), Labels: []string{"Important"}})
		st.AddMessage(&Message{ContactUUID: c.UUID, URN: c.URNs[0], Direction: "in", Status: "handled", Text: "5", FlowUUID: fx.flow.UUID, CreatedOn: at(9)})
		st.AddMessage(&Message{ContactUUID: c.UUID, URN: c.URNs[0], Direction: "in", Status: "handled", Text: "old", Visibility: "archived", CreatedOn: at(8)})
		st.AddMessage(&Message{ContactUUID: c.UUID, URN: c.URNs[0], Direction: "out", Status: "queued", Text: "q", CreatedOn: at(7)})
		st.AddMessage(&Message{ContactUUID: c.UUID, URN: c.URNs[0], Direction: "out", Status: "sent", Text: "s", CreatedOn: at(6), SentOn: &sent})
		st.AddMessage(&Message{ContactUUID: c.UUID, URN: c.URNs[0], Direction: "out", Status: "failed", Text: "f", CreatedOn: at(5)})
		st.AddMessage(&Message{ContactUUID: c.UUID, URN: c.URNs[0], Direction: "in", Status: "handled", Text: "gone", Visibility: "deleted", CreatedOn: at(4)})
	})
	want := map[string]string{"inbox": "hi", "flows": "5", "archived": "old", "outbox": "q", "sent": "s", "failed": "f", "INBOX": "hi"}
	for folder, text := range want {
		res := e.walk("/api/v2/messages.json?folder=" + folder)
		if len(res) != 1 || res[0]["text"] != text {
			t.Fatalf("folder %s: %v", folder, res)
		}
	}
	if n := len(e.walk("/api/v2/messages.json")); n != 6 {
		t.Fatalf("all messages: %d (deleted must be hidden)", n)
	}
	if n := len(e.walk("/api/v2/messages.json?folder=incoming")); n != 2 {
		t.Fatalf("incoming: %d", n)
	}
	if n := len(e.walk("/api/v2/messages.json?label=Important")); n != 1 {
		t.Fatalf("label: %d", n)
	}
	labels := e.walk("/api/v2/labels.json")
	if len(labels) != 1 || labels[0]["name"] != "Important" || labels[0]["count"] != 1.0 {
		t.Fatalf("labels %v", labels)
	}
	_ = fx
}

func TestSrvParseISO(t *testing.T) {
	ok := map[string]time.Time{
		"2015-11-11T13:05:57.576056Z":      time.Date(2015, 11, 11, 13, 5, 57, 576056000, time.UTC),
		"2015-11-11T13:05:57+00:00":        time.Date(2015, 11, 11, 13, 5, 57, 0, time.UTC),
		"2015-11-11 15:05:57.5+02:00":      time.Date(2015, 11, 11, 13, 5, 57, 500000000, time.UTC),
		"2015-11-11":                       time.Date(2015, 11, 11, 0, 0, 0, 0, time.UTC),
		"2015-11-11T13:05":                 time.Date(2015, 11, 11, 13, 5, 0, 0, time.UTC),
		"2015-11-11T13:05:57.123456789Z":   time.Date(2015, 11, 11, 13, 5, 57, 123456000, time.UTC),
		"2015-08-26 10:05:47.516562+00:00": time.Date(2015, 8, 26, 10, 5, 47, 516562000, time.UTC),
	}
	for s, want := range ok {
		got, good := svParseISO(s)
		if !good || !got.Equal(want) {
			t.Fatalf("%s: %v %v", s, got, good)
		}
	}
	for _, s := range []string{"", "yesterday", "2015-02-30", "2015-11-11T25:00", "2015-11-11T13:05:57 00:00", "2015-11-11X"} {
		if _, good := svParseISO(s); good {
			t.Fatalf("%q parsed", s)
		}
	}
}
