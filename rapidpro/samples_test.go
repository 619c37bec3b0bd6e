package rapidpro

import (
	"context"
	"reflect"
	"testing"
	"time"
)

// collect runs a list call and gathers every result.
func collect[T any](t *testing.T, call func(fn func(Page[T]) error) error) []T {
	t.Helper()
	var out []T
	if err := call(func(p Page[T]) error {
		out = append(out, p.Results...)
		return nil
	}); err != nil {
		t.Fatalf("list: %v", err)
	}
	return out
}

func TestSampleRuns(t *testing.T) {
	c, _ := testClient(serveSamples(t), nil)
	runs := collect(t, func(fn func(Page[Run]) error) error { return c.Runs(context.Background(), RunQuery{}, fn) })
	if len(runs) != 2 {
		t.Fatalf("got %d runs", len(runs))
	}
	r := runs[0]
	if r.UUID != "0b6ed5cb-4b9f-422d-a53d-83965f93ff40" || r.Key() != r.UUID || r.ID != 0 {
		t.Errorf("identity: %+v", r)
	}
	if r.Flow != (Ref{UUID: "ffce0fbb-4fe1-4052-b26a-91beb2ebae9a", Name: "Water Survey"}) {
		t.Errorf("flow: %+v", r.Flow)
	}
	if r.Contact.UUID != "d33e9ad5-5c35-414c-abd4-e7451c69ff1d" || r.Contact.Name != "Frank McFlow" {
		t.Errorf("contact: %+v", r.Contact)
	}
	if r.StartUUID != "93a624ad-5440-415e-b49f-17bf42754acb" || !r.Responded {
		t.Errorf("start/responded: %q %v", r.StartUUID, r.Responded)
	}
	if len(r.Path) != 4 || r.Path[3].Node != "4c9cb68d-474f-4b9a-b65e-c2aa593a3466" ||
		!r.Path[3].Time.Equal(mustTime(t, "2015-11-11T13:05:57.576056Z")) {
		t.Errorf("path: %+v", r.Path)
	}
	color := r.Values["color"]
	if color.Value != "blue" || deref(color.Category) != "Blue" || color.Name != "color" ||
		deref(color.Input) != "it is blue" || color.Node != "fc32aeb0-ac3e-42a8-9ea7-10248fdf52a1" ||
		!color.Time.Equal(mustTime(t, "2015-11-11T13:03:51.635662Z")) {
		t.Errorf("color: %+v", color)
	}
	if deref(r.Values["reason"].Category) != "All Responses" || r.Values["reason"].Value != "Because it's the color of sky" {
		t.Errorf("reason: %+v", r.Values["reason"])
	}
	if r.CreatedOn != mustTime(t, "2015-08-26T10:04:09.737686Z") || r.CreatedOn.Location() != time.UTC {
		t.Errorf("created_on: %v", r.CreatedOn)
	}
	if r.ExitedOn == nil || !r.ExitedOn.Equal(mustTime(t, "2015-08-26T10:05:47.516562Z")) || r.ExitType != "completed" {
		t.Errorf("exit: %v %q", r.ExitedOn, r.ExitType)
	}
	r2 := runs[1]
	if r2.StartUUID != "" || r2.Responded || len(r2.Path) != 0 || len(r2.Values) != 0 || r2.ExitType != "expired" {
		t.Errorf("second run: %+v", r2)
	}
}

func TestSampleContacts(t *testing.T) {
	c, _ := testClient(serveSamples(t), nil)
	cs := collect(t, func(fn func(Page[Contact]) error) error {
		return c.Contacts(context.Background(), ContactQuery{}, fn)
	})
	if len(cs) != 3 {
		t.Fatalf("got %d contacts", len(cs))
	}
	joe := cs[0]
	if joe.Name != "Joe" || joe.Language != "eng" || !joe.Active() || joe.Status != "active" || joe.Blocked {
		t.Errorf("joe: %+v", joe)
	}
	if deref(joe.Fields["nickname"]) != "Jo" || deref(joe.Fields["age"]) != "34" {
		t.Errorf("joe fields: nickname=%s age=%s", deref(joe.Fields["nickname"]), deref(joe.Fields["age"]))
	}
	if !reflect.DeepEqual(joe.URNs, []string{"tel:+250973635665"}) || len(joe.Groups) != 1 || joe.Groups[0].Name != "Customers" {
		t.Errorf("joe urns/groups: %v %v", joe.URNs, joe.Groups)
	}
	if joe.Flow != nil || joe.LastSeenOn != nil || joe.ModifiedOn != mustTime(t, "2015-11-11T08:30:25.525936Z") {
		t.Errorf("joe flow/dates: %+v", joe)
	}
	frank := cs[1]
	if frank.Status != "blocked" || frank.Active() || !frank.Blocked || frank.Language != "" {
		t.Errorf("frank: %+v", frank)
	}
	if v, ok := frank.Fields["age"]; !ok || v != nil {
		t.Errorf("frank age should be present and nil: %v %v", ok, v)
	}
	if cs[2].Name != "" || cs[2].Status != "blocked" || len(cs[2].Fields) != 0 {
		t.Errorf("third: %+v", cs[2])
	}
}

func TestSampleFlowsGroupsFields(t *testing.T) {
	ctx := context.Background()
	c, _ := testClient(serveSamples(t), nil)
	flows := collect(t, func(fn func(Page[Flow]) error) error { return c.Flows(ctx, FlowQuery{}, fn) })
	if len(flows) != 2 {
		t.Fatalf("flows: %d", len(flows))
	}
	f := flows[0]
	if f.Name != "Registration" || f.Expires != 600 || f.Runs["completed"] != 123 || f.Runs["expired"] != 34 ||
		len(f.Labels) != 1 || f.Labels[0].Name != "Important" || f.ModifiedOn != nil {
		t.Errorf("flow: %+v", f)
	}
	if len(f.Results) != 1 || f.Results[0].Key != "color" ||
		!reflect.DeepEqual(f.Results[0].Categories, []string{"Orange", "Blue", "Other", "Nothing"}) ||
		len(f.Results[0].NodeUUIDs) != 2 {
		t.Errorf("flow results: %+v", f.Results)
	}

	groups := collect(t, func(fn func(Page[Group]) error) error { return c.Groups(ctx, GroupQuery{}, fn) })
	if len(groups) != 2 || groups[0].Query != nil || groups[0].Count != 4 ||
		deref(groups[1].Query) != "issupport = yes" || groups[1].Name != "Support Team" {
		t.Errorf("groups: %+v", groups)
	}

	fields := collect(t, func(fn func(Page[Field]) error) error { return c.Fields(ctx, FieldQuery{}, fn) })
	want := []Field{{Key: "chat_name", Name: "Chat Name", Type: "text"}, {Key: "registered", Name: "Registered On", Type: "datetime"}}
	if !reflect.DeepEqual(fields, want) {
		t.Errorf("fields: %+v", fields)
	}
}

func TestSampleOrg(t *testing.T) {
	c, _ := testClient(serveSamples(t), nil)
	o, err := c.Org(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := Org{Name: "Nyaruka", Country: "RW", Languages: []string{"eng", "fre"}, PrimaryLanguage: "eng",
		Timezone: "Africa/Kigali", DateStyle: "day_first"}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("org: %+v", o)
	}
}

func TestSampleMessagesBroadcasts(t *testing.T) {
	ctx := context.Background()
	c, _ := testClient(serveSamples(t), nil)
	msgs := collect(t, func(fn func(Page[Message]) error) error { return c.Messages(ctx, MessageQuery{}, fn) })
	if len(msgs) != 2 {
		t.Fatalf("messages: %d", len(msgs))
	}
	m := msgs[0]
	if m.Key() != "eb6aeae0-0433-45de-bbed-031039a1cfaa" || m.Channel == nil || m.Channel.Name != "Nexmo" ||
		m.Direction != "out" || m.Status != "wired" || m.Visibility != "visible" || m.Flow == nil ||
		m.SentOn == nil || m.ModifiedOn != nil || m.Text != "How are you?" {
		t.Errorf("message 0: %+v", m)
	}
	m = msgs[1]
	if m.Channel != nil || m.Visibility != "archived" || len(m.Labels) != 1 || m.SentOn != nil ||
		!reflect.DeepEqual(m.Attachments, []Attachment{{ContentType: "audio/wav", URL: "http://domain.com/recording.wav"}}) ||
		m.CreatedOn != mustTime(t, "2015-11-10T12:59:10Z") {
		t.Errorf("message 1: %+v", m)
	}

	bcs := collect(t, func(fn func(Page[Broadcast]) error) error { return c.Broadcasts(ctx, BroadcastQuery{}, fn) })
	if len(bcs) != 2 {
		t.Fatalf("broadcasts: %d", len(bcs))
	}
	if bcs[0].Key() != "c4f3b6e1-2d3a-4f4b-8f4e-1e2d3c4b5a6f" || bcs[0].Status != "sent" ||
		!reflect.DeepEqual(bcs[0].Text, map[string]string{"base": "Hello"}) || len(bcs[0].URNs) != 2 ||
		bcs[0].Groups[0].Name != "The A-Team" {
		t.Errorf("broadcast 0: %+v", bcs[0])
	}
	if bcs[1].Status != "" || bcs[1].Text["base"] != "Goodbye" || len(bcs[1].Contacts) != 0 {
		t.Errorf("broadcast 1: %+v", bcs[1])
	}
}

func TestSampleFlowStartsBoundariesArchives(t *testing.T) {
	ctx := context.Background()
	c, _ := testClient(serveSamples(t), nil)
	starts := collect(t, func(fn func(Page[FlowStart]) error) error { return c.FlowStarts(ctx, FlowStartQuery{}, fn) })
	if len(starts) != 2 {
		t.Fatalf("starts: %d", len(starts))
	}
	s := starts[0]
	if s.UUID != "93a624ad-5440-415e-b49f-17bf42754acb" || s.Status != "pending" || s.RestartParticipants == nil ||
		!*s.RestartParticipants || s.ExcludeActive != nil || s.Params["day"] != "Monday" || len(s.Contacts) != 2 {
		t.Errorf("start 0: %+v", s)
	}
	if s := starts[1]; s.Params != nil || s.RestartParticipants == nil || *s.RestartParticipants ||
		s.CreatedOn != mustTime(t, "2013-08-19T19:11:21.082Z") {
		t.Errorf("start 1: %+v", s)
	}

	bs := collect(t, func(fn func(Page[Boundary]) error) error {
		return c.Boundaries(ctx, BoundaryQuery{Geometry: true}, fn)
	})
	if len(bs) != 2 || bs[0].Parent != nil || bs[0].Level != 0 || len(bs[0].Geometry) == 0 {
		t.Fatalf("boundaries: %+v", bs)
	}
	if bs[1].Parent == nil || *bs[1].Parent != (BoundaryRef{OSMID: "R195269", Name: "Burundi"}) ||
		!reflect.DeepEqual(bs[1].Aliases, []string{"Buja"}) {
		t.Errorf("boundary 1: %+v", bs[1])
	}

	as := collect(t, func(fn func(Page[Archive]) error) error { return c.Archives(ctx, ArchiveQuery{}, fn) })
	want := Archive{Type: "run", StartDate: "2018-04-01", Period: "monthly", RecordCount: 1, Size: 2,
		Hash: "f0d79988b7772c003d04a28bd7417a62", DownloadURL: "http://s3-bucket.aws.com/my/archive.jsonl.gz"}
	if len(as) != 4 || as[0] != want || as[1].Type != "message" || as[3].RecordCount != 1000 {
		t.Errorf("archives: %+v", as)
	}
}

func TestSampleEmpty(t *testing.T) {
	rec := serveSamples(t)
	c, _ := testClient(rec, nil)
	// A page from empty.json: served for every runs request via Resume.
	pages := 0
	err := c.Runs(context.Background(), RunQuery{Resume: rec.srv.URL + "/api/v2/empty.json"}, func(p Page[Run]) error {
		pages++
		if len(p.Results) != 0 || p.Next != "" {
			t.Errorf("page: %+v", p)
		}
		return nil
	})
	if err != nil || pages != 1 {
		t.Fatalf("err=%v pages=%d", err, pages)
	}
}

func TestSampleDefinitionsLegacy(t *testing.T) {
	defs, err := ParseDefinitions(sample(t, "definitions.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(defs) != 1 {
		t.Fatalf("defs: %+v", defs)
	}
	d := defs[0]
	if d.UUID != "f14e4ff0-724d-43fe-a953-1d16aefd1c0b" || d.Name != "Water Point Survey" || d.SpecVersion != "7" {
		t.Errorf("flow: %+v", d)
	}
	want := []QuestionDef{{UUID: "32d415f8-6d31-4b82-922e-a93416d5aa0a", ResultKey: "name", Label: "Name",
		Categories: []string{"All Responses"}, Type: QuestionOpen}}
	if !reflect.DeepEqual(d.Questions, want) {
		t.Errorf("questions:\n got %+v\nwant %+v", d.Questions, want)
	}
}

func TestEverySampleDecodesAsPage(t *testing.T) {
	// Every list sample decodes through the page machinery without error,
	// including resources this package does not model (as Ref-like noise).
	for _, name := range []string{"campaign_events.json", "campaigns.json", "channel_events.json", "channels.json",
		"classifiers.json", "globals.json", "labels.json", "resthook_events.json", "resthook_subscribers.json", "resthooks.json"} {
		var p wirePage[wireFlow]
		if err := decodeTolerant(sample(t, name), &p); err != nil || len(p.Results) != 2 {
			t.Errorf("%s: err=%v n=%d", name, err, len(p.Results))
		}
	}
}
