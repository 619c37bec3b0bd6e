package handlers

import (
	"context"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// busiestRun is the universal poll run with the most responses in panel A.
func (w *startWorld) busiestRun() int64 {
	w.t.Helper()
	var id int64
	if err := w.DB.QueryRow(`SELECT r.pollrun_id FROM responses r JOIN contacts c ON c.id = r.contact_id JOIN pollruns pr ON pr.id = r.pollrun_id
		WHERE r.is_active = 1 AND c.is_active = 1 AND c.region_id = ? AND pr.pollrun_type = 'u'
		GROUP BY r.pollrun_id ORDER BY count(*) DESC, r.pollrun_id LIMIT 1`, w.panelA).Scan(&id); err != nil {
		w.t.Fatal(err)
	}
	return id
}

var radioCountRe = regexp.MustCompile(`value="([ARN])"[^>]*> [^(<]+\((\d+)\)`)

// radioCounts reads the counts the compose form shows per recipient type.
func radioCounts(body string) map[string]int {
	out := map[string]int{}
	for _, m := range radioCountRe.FindAllStringSubmatch(body, -1) {
		n, _ := strconv.Atoi(m[2])
		out[m[1]] = n
	}
	return out
}

func TestMessageSendFromParticipationTab(t *testing.T) {
	w := newStartWorld(t)
	run := w.busiestRun()
	runs := strconv.FormatInt(run, 10)
	// The counts a supervisor of panel A must see: its contacts with a response, each once.
	all := w.count(`SELECT count(DISTINCT c.id) FROM responses r JOIN contacts c ON c.id = r.contact_id
		WHERE r.pollrun_id = ? AND r.is_active = 1 AND c.is_active = 1 AND c.region_id = ?`, run, w.panelA)
	done := w.count(`SELECT count(DISTINCT c.id) FROM responses r JOIN contacts c ON c.id = r.contact_id
		WHERE r.pollrun_id = ? AND r.is_active = 1 AND r.status = 'C' AND c.is_active = 1 AND c.region_id = ?`, run, w.panelA)
	if all == 0 || done == all {
		t.Fatalf("the poll run has %d contacts and %d respondents in panel A: no non-respondents to message", all, done)
	}
	tab := w.supA.get("/pollrun/participation/" + runs + "/")
	if tab.Code != 200 || !strings.Contains(tab.Body, `id="message-compose"`) {
		t.Fatalf("participation tab = %d without the send form", tab.Code)
	}
	if got := radioCounts(tab.Body); got["A"] != all || got["R"] != done || got["N"] != all-done {
		t.Fatalf("send form counts %v, want A=%d R=%d N=%d", got, all, done, all-done)
	}

	// The confirmation: fragment for htmx, full page without; the count of non-respondents.
	q := "/message/send/?pollrun=" + runs + "&recipients=N&cohort=&text=" + url.QueryEscape("Please answer the poll.")
	frag := w.supA.get(q, "HX-Request", "true")
	if frag.Code != 200 || strings.Contains(frag.Body, "<html") || !strings.HasPrefix(frag.Body, `<section id="message-compose"`) || strings.Contains(frag.Body, "%!") {
		t.Fatalf("confirmation fragment = %d", frag.Code)
	}
	wantCount := "It goes to " + strconv.Itoa(all-done) + " contacts</strong>"
	if all-done == 1 {
		wantCount = "It goes to 1 contact</strong>"
	}
	if !strings.Contains(frag.Body, wantCount) {
		t.Fatalf("confirmation does not say %q", wantCount)
	}
	if full := w.supA.get(q); full.Code != 200 || !strings.Contains(full.Body, "<html") || !strings.Contains(full.Body, wantCount) {
		t.Fatalf("confirmation page = %d", full.Code)
	}

	// Bad input: 422 with the message next to the field, nothing written.
	for _, tc := range []struct{ query, field, msg string }{
		{"&recipients=N&text=", "text", "Write the message."},
		{"&recipients=N&text=" + strings.Repeat("a", 641), "text", "The message is too long: at most 640 characters."},
		{"&recipients=X&text=Hi", "recipients", "Choose who receives the message."},
		{"&recipients=N&cohort=999999&text=Hi", "cohort", "Choose one of the cohorts."},
	} {
		r := w.supA.get("/message/send/?pollrun=" + runs + tc.query)
		if r.Code != 422 || !strings.Contains(r.Body, tc.msg) {
			t.Errorf("%s: %d, want 422 with %q", tc.query, r.Code, tc.msg)
		}
		form, _ := url.ParseQuery("pollrun=" + runs + tc.query)
		if p := w.supA.post("/message/send/", form); p.Code != 422 || !strings.Contains(p.Body, tc.msg) {
			t.Errorf("POST %s: %d, want 422 with %q", tc.query, p.Code, tc.msg)
		}
	}
	if n := w.count(`SELECT count(*) FROM messages`); n != 0 {
		t.Fatalf("%d messages written by refused sends", n)
	}
	// 640 characters are fine (not sent: just confirmed).
	if r := w.supA.get("/message/send/?pollrun=" + runs + "&recipients=N&text=" + strings.Repeat("é", 640)); r.Code != 200 {
		t.Fatalf("640 characters refused: %d", r.Code)
	}
	// Supervisor B may see the universal poll run, but none of A's contacts: B's own counts.
	bAll := w.count(`SELECT count(DISTINCT c.id) FROM responses r JOIN contacts c ON c.id = r.contact_id
		WHERE r.pollrun_id = ? AND r.is_active = 1 AND c.is_active = 1 AND c.region_id = ?`, run, w.panelB)
	if got := radioCounts(w.supB.get("/pollrun/participation/" + runs + "/").Body); got["A"] != bAll {
		t.Fatalf("supervisor B's form counts %v, want A=%d", got, bAll)
	}

	// Send: 303 back to the tab; message, recipients and broadcasts queued together.
	r := w.supA.post("/message/send/", url.Values{"pollrun": {runs}, "recipients": {"N"}, "cohort": {""}, "text": {"Please answer the poll."}})
	if r.Code != 303 || r.Header.Get("Location") != "/pollrun/participation/"+runs+"/" {
		t.Fatalf("send = %d to %q", r.Code, r.Header.Get("Location"))
	}
	var msgID int64
	if err := w.DB.QueryRow(`SELECT id FROM messages WHERE pollrun_id = ? AND cohort = 'N' AND status = 'P' AND region_id = ?`, run, w.panelA).Scan(&msgID); err != nil {
		t.Fatal(err)
	}
	if n := w.count(`SELECT count(*) FROM message_recipients mr JOIN contacts c ON c.id = mr.contact_id WHERE mr.message_id = ? AND c.region_id = ?`, msgID, w.panelA); n != all-done {
		t.Fatalf("%d recipients in panel A, want %d", n, all-done)
	}
	if n := w.count(`SELECT count(*) FROM message_recipients WHERE message_id = ?`, msgID); n != all-done {
		t.Fatalf("%d recipients, want %d", n, all-done)
	}
	batches := (all - done + 99) / 100
	if n := w.count(`SELECT count(*) FROM outbox WHERE kind = 'broadcast' AND state = 'pending'`); n != batches {
		t.Fatalf("%d broadcasts queued, want %d", n, batches)
	}
	tab = w.supA.get("/pollrun/participation/" + runs + "/")
	if !strings.Contains(tab.Body, "Message queued for") || !strings.Contains(tab.Body, `<span class="state pending">Pending</span>`) {
		t.Fatal("after sending, the tab shows no pending message")
	}
	// Delivered: the tab, the message log and the recipient's messages say Sent.
	if res, err := w.syncer.DeliverOutbox(context.Background()); err != nil || res.Sent != batches {
		t.Fatalf("delivery %+v %v", res, err)
	}
	if tab := w.supA.get("/pollrun/participation/" + runs + "/"); !strings.Contains(tab.Body, `<span class="state sent">Sent</span>`) {
		t.Fatal("after delivery, the tab does not show the message sent")
	}
	log := w.admin.get("/message/")
	if log.Code != 200 || !strings.Contains(log.Body, "Please answer the poll.") || !strings.Contains(log.Body, "Non-respondents") ||
		!strings.Contains(log.Body, w.nameA) || !strings.Contains(log.Body, "("+strconv.Itoa(all-done)+")") {
		t.Fatalf("message log = %d without the message's row", log.Code)
	}
	if w.supA.get("/message/").Code != 403 {
		t.Fatal("a supervisor opened the message log")
	}
	var recipient int64
	w.DB.QueryRow(`SELECT contact_id FROM message_recipients WHERE message_id = ? LIMIT 1`, msgID).Scan(&recipient)
	rs := strconv.FormatInt(recipient, 10)
	bc := w.supA.get("/message/by_contact/"+rs+"/", "HX-Request", "true")
	if bc.Code != 200 || strings.Contains(bc.Body, "<html") || !strings.Contains(bc.Body, "Please answer the poll.") ||
		!strings.Contains(bc.Body, `<span class="state sent">Sent</span>`) {
		t.Fatalf("messages by contact fragment = %d", bc.Code)
	}
	if !strings.HasPrefix(bc.Body, `<section id="contact-page">`) || !strings.Contains(bc.Body, `id="contact-messages"`) {
		t.Fatal("the messages tab fragment is not the contact page's section")
	}
	if full := w.supA.get("/message/by_contact/" + rs + "/"); full.Code != 200 || !strings.Contains(full.Body, "<html") || !strings.Contains(full.Body, "<h1>") {
		t.Fatalf("messages by contact page = %d", full.Code)
	}
	if w.supB.get("/message/by_contact/"+rs+"/").Code != 404 {
		t.Fatal("supervisor B read the messages of a contact of panel A")
	}
}

// TestMessagesNavItems: Inbox and Participation in the menu for supervisors
// and up, the Message log for administrators only.
func TestMessagesNavItems(t *testing.T) {
	f := newMatrixFixture(t)
	sup := f.newClient(f.Org1, f.SupA).get("/").Body
	adm := f.newClient(f.Org1, f.Admin).get("/").Body
	for _, link := range []string{`href="/inboxmessage/"`, `href="/participation/"`} {
		if !strings.Contains(sup, link) || !strings.Contains(adm, link) {
			t.Errorf("menu lacks %s", link)
		}
	}
	if strings.Contains(sup, `href="/message/"`) || !strings.Contains(adm, `href="/message/"`) {
		t.Error("the Message log link is not for administrators only")
	}
}
