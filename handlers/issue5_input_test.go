package handlers

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// TestIssue5BadInput sends every new GET and POST of issue #5 malformed or
// foreign input — very long strings, unknown and non-numeric ids, ids of
// another panel and of another org, empty bodies, a cohort of another org,
// page numbers that are negative, not numbers, past the end or of int64
// size — as supervisor A (the message log as the administrator). Each answer
// is a 404 or a 422 whose page says what is wrong (never a 500), a bad page
// number is page 1 and one past the end the last page (as every list of the
// app does), and nothing is written.
func TestIssue5BadInput(t *testing.T) {
	w := newContactWorld(t)
	other := w.createOrg("other")
	zone := w.createPanels(other, [2]string{"Zone Z", ""})["Zone Z"]
	var otherContact, otherCohort, otherRun, contactB int64
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.DB.QueryRow(`INSERT INTO contacts (org_id, uuid, name, urn, region_id, is_active, created_on, modified_on)
		VALUES (?, 'c-other-org', 'Other org person', 'tel:+250788000999', ?, 1, 0, 0) RETURNING id`, other.ID, zone).Scan(&otherContact))
	must(w.DB.QueryRow(`INSERT INTO cohorts (org_id, uuid, name) VALUES (?, 'co-other', 'Other teachers') RETURNING id`, other.ID).Scan(&otherCohort))
	must(w.DB.QueryRow(`INSERT INTO pollruns (org_id, poll_id, pollrun_type, region_id, conducted_on, local_date)
		VALUES (?, ?, 'u', NULL, 1, '1970-01-01') RETURNING id`, other.ID, w.poll.ID).Scan(&otherRun))
	must(w.DB.QueryRow(`SELECT id FROM contacts WHERE region_id = ? AND is_active = 1 LIMIT 1`, w.panelB).Scan(&contactB))
	run := strconv.FormatInt(w.busiestRun(), 10)
	var inboxContact int64
	must(w.DB.QueryRow(`SELECT contact_id FROM inbox_messages i JOIN contacts c ON c.id = i.contact_id WHERE c.region_id = ? LIMIT 1`, w.panelA).Scan(&inboxContact))
	inbox := "/inboxmessage/conversation/" + strconv.FormatInt(inboxContact, 10) + "/"
	var firstA string // the first contact of panel A by name, on page 1 of the list and of the grid
	must(w.DB.QueryRow(`SELECT name FROM contacts WHERE region_id = ? AND is_active = 1 ORDER BY lower(name), id LIMIT 1`, w.panelA).Scan(&firstA))
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	long := strings.Repeat("x", 5000)
	send := func(kv ...string) url.Values {
		v := url.Values{"pollrun": {run}, "recipients": {"N"}, "text": {"Please answer."}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	const notFound = "There is no such page."
	before := [3]int{w.count(`SELECT count(*) FROM contacts`), w.count(`SELECT count(*) FROM outbox`), w.count(`SELECT count(*) FROM messages`)}
	for _, tc := range []struct {
		name, method, path string
		form               url.Values
		code               int
		says               string
	}{
		// Contacts.
		{"empty create", "POST", "/contact/create/", url.Values{}, 422, "Enter a name."},
		{"long name", "POST", "/contact/create/", w.form("name", long), 422, "A name has at most 64 characters."},
		{"long phone number", "POST", "/contact/create/", w.form("urn", long), 422, "This phone number is too long."},
		{"long twitter handle", "POST", "/contact/create/", w.form("scheme", "twitter", "urn", long), 422, "A Twitter handle has 1 to 15 letters, digits or underscores."},
		{"unknown scheme", "POST", "/contact/create/", w.form("scheme", "fax"), 422, "Choose one of the URN types."},
		{"panel not a number", "POST", "/contact/create/", w.form("region", "abc"), 422, "Choose one of your panels."},
		{"panel of another org", "POST", "/contact/create/", w.form("region", id(zone)), 422, "Choose one of your panels."},
		{"cohort of another org", "POST", "/contact/create/", w.form("cohorts", id(otherCohort)), 422, "Choose cohorts of this organization."},
		{"cohort not a number", "POST", "/contact/create/", w.form("cohorts", "abc"), 422, "Choose cohorts of this organization."},
		{"long language", "POST", "/contact/create/", w.form("language", long), 422, "Choose a language from the list."},
		{"long number field", "POST", "/contact/create/", w.form("field_birth_year", long), 422, "Enter a number."},
		{"read unknown", "GET", "/contact/read/999999/", nil, 404, notFound},
		{"read not a number", "GET", "/contact/read/abc/", nil, 404, notFound},
		{"read negative", "GET", "/contact/read/-1/", nil, 404, notFound},
		{"read of panel B", "GET", "/contact/read/" + id(contactB) + "/", nil, 404, notFound},
		{"read of another org", "GET", "/contact/read/" + id(otherContact) + "/", nil, 404, notFound},
		{"edit form of another org", "GET", "/contact/update/" + id(otherContact) + "/", nil, 404, notFound},
		{"update of another org", "POST", "/contact/update/" + id(otherContact) + "/", w.form(), 404, notFound},
		{"update empty body", "POST", "/contact/update/999999/", url.Values{}, 404, notFound},
		{"delete of another org", "POST", "/contact/delete/" + id(otherContact) + "/", url.Values{"confirm": {"1"}}, 404, notFound},
		{"delete not a number", "POST", "/contact/delete/abc/", url.Values{"confirm": {"1"}}, 404, notFound},
		{"delete form of another org", "GET", "/contact/delete/" + id(otherContact) + "/", nil, 404, notFound},
		{"delete without confirmation", "POST", "/contact/delete/" + id(inboxContact) + "/", url.Values{}, 422, "Confirm the deletion with the button below."},
		// Page numbers, as everywhere in the app: a bad one is page 1, one
		// past the end the last page (its rows, never "No contacts found").
		{"list negative page", "GET", "/contact/?page=-3", nil, 200, ">" + firstA + "<"},
		{"list page not a number", "GET", "/contact/?page=abc", nil, 200, ">" + firstA + "<"},
		{"list page zero", "GET", "/contact/?page=0", nil, 200, ">" + firstA + "<"},
		{"list page past the end", "GET", "/contact/?page=400", nil, 200, ">" + firstA + "<"},
		{"list page of int64 size", "GET", "/contact/?page=9223372036854775807", nil, 200, ">" + firstA + "<"},
		{"list long search", "GET", "/contact/?search=" + strings.Repeat("y", 3000), nil, 200, "No contacts found."},
		// Messages.
		{"messages of another org's contact", "GET", "/message/by_contact/" + id(otherContact) + "/", nil, 404, notFound},
		{"messages of panel B's contact", "GET", "/message/by_contact/" + id(contactB) + "/", nil, 404, notFound},
		{"confirm without a poll run", "GET", "/message/send/", nil, 404, notFound},
		{"confirm negative poll run", "GET", "/message/send/?pollrun=-5&recipients=N&text=hi", nil, 404, notFound},
		{"confirm poll run of another org", "GET", "/message/send/?pollrun=" + id(otherRun) + "&recipients=N&text=hi", nil, 404, notFound},
		{"confirm unknown recipients", "GET", "/message/send/?pollrun=" + run + "&recipients=Z&text=hi", nil, 422, "Choose who receives the message."},
		{"confirm cohort of another org", "GET", "/message/send/?pollrun=" + run + "&recipients=N&cohort=" + id(otherCohort) + "&text=hi", nil, 422, "Choose one of the cohorts."},
		{"confirm cohort not a number", "GET", "/message/send/?pollrun=" + run + "&recipients=N&cohort=abc&text=hi", nil, 422, "Choose one of the cohorts."},
		{"confirm empty text", "GET", "/message/send/?pollrun=" + run + "&recipients=N&text=", nil, 422, "Write the message."},
		{"confirm long text", "GET", "/message/send/?pollrun=" + run + "&recipients=N&text=" + strings.Repeat("z", 641), nil, 422, "The message is too long: at most 640 characters."},
		{"send empty body", "POST", "/message/send/", url.Values{}, 404, notFound},
		{"send poll run of another org", "POST", "/message/send/", send("pollrun", id(otherRun)), 404, notFound},
		{"send unknown poll run", "POST", "/message/send/", send("pollrun", "999999"), 404, notFound},
		{"send unknown recipients", "POST", "/message/send/", send("recipients", "Q"), 422, "Choose who receives the message."},
		{"send cohort of another org", "POST", "/message/send/", send("cohort", id(otherCohort)), 422, "Choose one of the cohorts."},
		{"send negative cohort", "POST", "/message/send/", send("cohort", "-3"), 422, "Choose one of the cohorts."},
		{"send long text", "POST", "/message/send/", send("text", long), 422, "The message is too long: at most 640 characters."},
		{"send empty text", "POST", "/message/send/", send("text", " "), 422, "Write the message."},
		{"message log as a supervisor", "GET", "/message/?page=-1", nil, 403, ""},
		// Inbox.
		{"inbox negative page", "GET", "/inboxmessage/?page=-2", nil, 200, "/inboxmessage/conversation/"},
		{"inbox page past the end", "GET", "/inboxmessage/?page=3000", nil, 200, "/inboxmessage/conversation/"},
		{"conversation of another org", "GET", "/inboxmessage/conversation/" + id(otherContact) + "/", nil, 404, notFound},
		{"conversation of panel B", "GET", "/inboxmessage/conversation/" + id(contactB) + "/", nil, 404, notFound},
		{"conversation not a number", "GET", "/inboxmessage/conversation/abc/", nil, 404, notFound},
		{"reply empty body", "POST", inbox, url.Values{}, 422, "Write the message."},
		{"reply long text", "POST", inbox, url.Values{"text": {long}}, 422, "The message is too long: at most 640 characters."},
		{"reply to another org", "POST", "/inboxmessage/conversation/" + id(otherContact) + "/", url.Values{"text": {"hi"}}, 404, notFound},
		{"archive of another org", "POST", "/inboxmessage/archive/" + id(otherContact) + "/", url.Values{}, 404, notFound},
		{"archive not a number", "POST", "/inboxmessage/archive/abc/", url.Values{}, 404, notFound},
		// Participation across polls.
		{"grid negative page", "GET", "/participation/?page=-1", nil, 200, ">" + firstA + "<"},
		{"grid page past the end", "GET", "/participation/?page=999", nil, 200, ">" + firstA + "<"},
		{"grid page of int64 size", "GET", "/participation/?page=9223372036854775807", nil, 200, ">" + firstA + "<"},
		{"grid panel of another org", "GET", "/participation/?panel=" + id(zone), nil, 422, "Choose one of your panels."},
		{"grid panel not a number", "GET", "/participation/?panel=abc", nil, 422, "Choose one of your panels."},
		{"grid cohort of another org", "GET", "/participation/?cohort=" + id(otherCohort), nil, 422, "Choose one of the cohorts."},
		{"csv cohort of another org", "GET", "/participation/?_format=csv&cohort=" + id(otherCohort), nil, 422, "Choose one of the cohorts."},
		{"csv panel of another org", "GET", "/participation/?_format=csv&panel=" + id(zone), nil, 422, "Choose one of your panels."},
	} {
		var r *result
		if tc.method == "GET" {
			r = w.supA.get(tc.path)
		} else {
			r = w.supA.post(tc.path, tc.form)
		}
		if r.Code != tc.code || !strings.Contains(r.Body, htmlText(tc.says)) {
			t.Errorf("%s: %s %.80s → %d, want %d saying %q", tc.name, tc.method, tc.path, r.Code, tc.code, tc.says)
		}
	}
	// The administrator's pages.
	for _, path := range []string{"/message/?page=-1", "/message/?page=abc", "/message/?page=2", "/message/?page=9223372036854775807"} {
		if r := w.admin.get(path); r.Code != 200 || !strings.Contains(r.Body, "<h1>Message log</h1>") || strings.Contains(r.Body, "Page 2") {
			t.Errorf("administrator on %s: %d", path, r.Code)
		}
	}
	if got := [3]int{w.count(`SELECT count(*) FROM contacts`), w.count(`SELECT count(*) FROM outbox`), w.count(`SELECT count(*) FROM messages`)}; got != before {
		t.Fatalf("refused requests wrote: %v → %v", before, got)
	}
}

// TestMessageConfirmLongUnicode: the confirmation step is a GET carrying
// the text; a message of 640 four-byte characters (7.5 KB once
// percent-encoded) is confirmed, not refused for the size of the request.
func TestMessageConfirmLongUnicode(t *testing.T) {
	w := newStartWorld(t)
	run := strconv.FormatInt(w.busiestRun(), 10)
	text := strings.Repeat("🙂", 640)
	r := w.supA.get("/message/send/?pollrun=" + run + "&recipients=N&text=" + url.QueryEscape(text))
	if r.Code != 200 || !strings.Contains(r.Body, `id="message-count"`) || !strings.Contains(r.Body, text) {
		t.Fatalf("640 emoji: %d", r.Code)
	}
}

// TestRequestTooLargeIsNot500: a request line longer than the read buffer
// (a 20 000-character message typed into the GET confirmation, a pasted
// search) is answered 431 with a page that says to shorten the text — the
// error handler used to turn every status it did not know into a 500.
func TestRequestTooLargeIsNot500(t *testing.T) {
	e := newTestEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go e.App.Listener(ln)
	res, err := http.Get("http://" + ln.Addr().String() + "/message/send/?text=" + strings.Repeat("z", 20000))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge || !strings.Contains(string(body), "The request is too large. Shorten what you typed and try again.") {
		t.Fatalf("%d: %.300s", res.StatusCode, body)
	}
}
