package rapidpro

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"reflect"
	"sync/atomic"
	"testing"
	"time"
)

func TestPostServerErrorIsOutcomeUnknown(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "Server Error. Site administrators have been notified.", 500)
	})
	c, sl := testClient(rec, nil)
	_, err := c.SendBroadcast(context.Background(), BroadcastWrite{Text: "hi", Contacts: []string{"c1"}})
	var ou *OutcomeUnknownError
	if !errors.As(err, &ou) || !errors.Is(err, ErrOutcomeUnknown) || ou.Method != "POST" || ou.Endpoint != "broadcasts" {
		t.Fatalf("err %v", err)
	}
	if rec.count() != 1 || len(sl.all()) != 0 {
		t.Errorf("requests %d sleeps %v", rec.count(), sl.all())
	}
	if rec.bodies[0] != `{"text":"hi","contacts":["c1"]}` || rec.requests[0].Header.Get("Content-Type") != "application/json" {
		t.Errorf("body %s headers %v", rec.bodies[0], rec.requests[0].Header)
	}
}

func TestPostTimeoutIsOutcomeUnknown(t *testing.T) {
	release := make(chan struct{})
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { <-release })
	defer close(release)
	c, _ := testClient(rec, func(o *Options) { o.Timeout = 50 * time.Millisecond })
	_, err := c.StartFlow(context.Background(), FlowStartWrite{Flow: "f", Contacts: []string{"c"}})
	if !errors.Is(err, ErrOutcomeUnknown) || !errors.Is(err, errAttemptTimeout) || rec.count() != 1 {
		t.Errorf("err %v requests %d", err, rec.count())
	}
	// Cancelled by the caller while in flight: still unknown, and still
	// recognisable as a cancellation.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(30*time.Millisecond, cancel)
	c2, _ := testClient(rec, nil)
	_, err = c2.SendBroadcast(ctx, BroadcastWrite{Text: "x", Contacts: []string{"c"}})
	if !errors.Is(err, ErrOutcomeUnknown) || !errors.Is(err, context.Canceled) || rec.count() != 2 {
		t.Errorf("cancelled: err %v requests %d", err, rec.count())
	}
}

func TestPostRateLimitedIsRetried(t *testing.T) {
	var n atomic.Int32
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"uuid": "s1", "flow": {"uuid": "f", "name": "F"}, "status": "pending", "params": {"x": 1}, "created_on": "2025-01-01T00:00:00Z"}`)
	})
	c, sl := testClient(rec, nil)
	no := false
	s, err := c.StartFlow(context.Background(), FlowStartWrite{Flow: "f", Groups: []string{"g"}, RestartParticipants: &no, Params: map[string]any{"x": 1}})
	if err != nil || s.UUID != "s1" || s.Status != "pending" {
		t.Fatalf("%v %+v", err, s)
	}
	if rec.count() != 2 || !reflect.DeepEqual(sl.all(), []time.Duration{2 * time.Second}) {
		t.Errorf("requests %d sleeps %v", rec.count(), sl.all())
	}
	want := `{"flow":"f","groups":["g"],"restart_participants":false,"params":{"x":1}}`
	if rec.bodies[0] != want || rec.bodies[1] != want {
		t.Errorf("bodies %q", rec.bodies)
	}
}

func TestPostDialErrorIsRetried(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: connection refused
	sl := &sleeps{}
	c := New(Options{BaseURL: "http://" + addr, Token: "t", Sleep: sl.sleep, MaxAttempts: 3})
	_, err = c.CreateContact(context.Background(), ContactWrite{Name: strp("Ann")})
	if errors.Is(err, ErrOutcomeUnknown) || !errors.Is(err, ErrUnavailable) || len(sl.all()) != 2 {
		t.Errorf("err %v sleeps %v", err, sl.all())
	}
}

func TestBadRequestBodies(t *testing.T) {
	cases := []struct {
		body     string
		detail   string
		fields   map[string][]string
		nonField []string
	}{
		{`{"urns": {"0": ["Invalid URN: 123. Ensure phone numbers contain country codes."]}}`, "",
			map[string][]string{"urns.0": {"Invalid URN: 123. Ensure phone numbers contain country codes."}}, nil},
		{`{"fields": {"age": ["Invalid contact field key: age"]}, "non_field_errors": ["Must provide either text or attachments."]}`, "",
			map[string][]string{"fields.age": {"Invalid contact field key: age"}}, []string{"Must provide either text or attachments."}},
		{`{"detail": "You may only specify one of the contact, flow parameters"}`, "You may only specify one of the contact, flow parameters", nil, nil},
		{`{"contacts": "No such object: X"}`, "", map[string][]string{"contacts": {"No such object: X"}}, nil},
		{`["Bad thing", "Other thing"]`, "", nil, []string{"Bad thing", "Other thing"}},
		{`"plain json string"`, "plain json string", nil, nil},
		{`plain text error`, "plain text error", nil, nil},
		{`{"a": {"b": {"c": ["deep"]}}, "urns": [[], ["second bad"]]}`, "",
			map[string][]string{"a.b.c": {"deep"}, "urns.1": {"second bad"}}, nil},
	}
	for _, tc := range cases {
		rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, tc.body)
		})
		c, _ := testClient(rec, nil)
		_, err := c.CreateContact(context.Background(), ContactWrite{URNs: []string{"123"}})
		var ae *APIError
		if !errors.As(err, &ae) || !errors.Is(err, ErrBadRequest) || rec.count() != 1 {
			t.Fatalf("%s: %v", tc.body, err)
		}
		if ae.Detail != tc.detail || !reflect.DeepEqual(ae.Fields, tc.fields) || !reflect.DeepEqual(ae.NonField, tc.nonField) {
			t.Errorf("%s: detail=%q fields=%v nonfield=%v", tc.body, ae.Detail, ae.Fields, ae.NonField)
		}
		if ae.Body != tc.body {
			t.Errorf("body %q", ae.Body)
		}
	}
}

func TestContactWrites(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == "DELETE" && r.URL.Query().Get("uuid") == "gone":
			w.WriteHeader(404)
			fmt.Fprint(w, `{"detail": "Not found."}`)
		case r.Method == "DELETE":
			w.WriteHeader(204)
		case r.Method == "GET" && r.URL.Query().Get("urn") == "tel:+2":
			fmt.Fprint(w, `{"next": null, "results": []}`)
		case r.Method == "GET":
			fmt.Fprint(w, `{"next": null, "results": [{"uuid": "c9", "name": "Ann", "status": "active"}]}`)
		case r.URL.Query().Get("uuid") != "":
			fmt.Fprint(w, `{"uuid": "c1", "name": "Bob", "status": "active"}`)
		default:
			w.WriteHeader(201)
			fmt.Fprint(w, `{"uuid": "c1", "name": "Ann", "status": "active", "fields": {"age": "3"}}`)
		}
	})
	c, _ := testClient(rec, nil)
	ctx := context.Background()
	ct, err := c.CreateContact(ctx, ContactWrite{Name: strp("Ann"), Fields: map[string]string{"age": "3"}})
	if err != nil || ct.UUID != "c1" || deref(ct.Fields["age"]) != "3" {
		t.Fatalf("create: %v %+v", err, ct)
	}
	ct, err = c.UpdateContact(ctx, "c1", ContactWrite{Name: strp("Bob"), Groups: []string{}})
	if err != nil || ct.Name != "Bob" {
		t.Fatalf("update: %v %+v", err, ct)
	}
	if _, err := c.UpdateContact(ctx, "", ContactWrite{}); err == nil {
		t.Error("update without uuid must not be sent")
	}
	if err := c.DeleteContact(ctx, "c1"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	err = c.DeleteContact(ctx, "gone")
	var ae *APIError
	if !errors.Is(err, ErrNotFound) || !errors.As(err, &ae) || ae.Method != "DELETE" {
		t.Errorf("delete 404: %v", err)
	}
	found, err := c.ContactByURN(ctx, "tel:+1")
	if err != nil || found == nil || found.UUID != "c9" {
		t.Errorf("by urn: %v %+v", err, found)
	}
	found, err = c.ContactByURN(ctx, "tel:+2")
	if err != nil || found != nil {
		t.Errorf("by urn none: %v %+v", err, found)
	}
	want := []string{"POST /api/v2/contacts.json", "POST /api/v2/contacts.json?uuid=c1",
		"DELETE /api/v2/contacts.json?uuid=c1", "DELETE /api/v2/contacts.json?uuid=gone",
		"GET /api/v2/contacts.json?urn=tel%3A%2B1", "GET /api/v2/contacts.json?urn=tel%3A%2B2"}
	var got []string
	for _, r := range rec.requests {
		got = append(got, r.Method+" "+r.URL.RequestURI())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("requests:\n got %q\nwant %q", got, want)
	}
	if rec.bodies[0] != `{"name":"Ann","fields":{"age":"3"}}` || rec.bodies[1] != `{"name":"Bob","groups":[]}` {
		t.Errorf("bodies %q", rec.bodies)
	}
}

func TestDeleteRetriedOnServerError(t *testing.T) {
	var n atomic.Int32
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.WriteHeader(502)
			return
		}
		w.WriteHeader(204)
	})
	c, _ := testClient(rec, nil)
	if err := c.DeleteContact(context.Background(), "c1"); err != nil || rec.count() != 2 {
		t.Errorf("err %v requests %d", err, rec.count())
	}
}
