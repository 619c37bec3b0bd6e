package handlers

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var inboxLinkRe = regexp.MustCompile(`href="/inboxmessage/conversation/(\d+)/"`)

func TestInboxScopedConversationAndReply(t *testing.T) {
	w := newStartWorld(t)
	want := w.count(`SELECT count(DISTINCT m.contact_id) FROM inbox_messages m JOIN contacts c ON c.id = m.contact_id
		WHERE m.direction = 'I' AND m.archived = 0 AND c.is_active = 1 AND c.region_id = ?`, w.panelA)
	if want == 0 || want > perPage {
		t.Fatalf("panel A has %d contacts with inbox messages", want)
	}
	r := w.supA.get("/inboxmessage/")
	if r.Code != 200 || !strings.Contains(r.Body, "<html") {
		t.Fatalf("inbox = %d", r.Code)
	}
	links := inboxLinkRe.FindAllStringSubmatch(r.Body, -1)
	if len(links) != want {
		t.Fatalf("inbox lists %d contacts, want %d (one per contact of panel A)", len(links), want)
	}
	for _, l := range links {
		if n := w.count(`SELECT count(*) FROM contacts WHERE id = ? AND region_id = ?`, l[1], w.panelA); n != 1 {
			t.Fatalf("inbox of A lists contact %s outside panel A", l[1])
		}
	}
	// Each entry is the contact's latest message, in either direction.
	contact := links[0][1]
	var latest string
	w.DB.QueryRow(`SELECT text FROM inbox_messages WHERE contact_id = ? ORDER BY created_on DESC, id DESC LIMIT 1`, contact).Scan(&latest)
	if !strings.Contains(r.Body, msgHTMLEscaped(latest)) {
		t.Fatalf("the inbox does not show the latest message %q", latest)
	}
	if frag := w.supA.get("/inboxmessage/", "HX-Request", "true"); strings.Contains(frag.Body, "<html") || !strings.Contains(frag.Body, `<section id="inbox">`) {
		t.Fatal("inbox fragment")
	}
	for _, l := range inboxLinkRe.FindAllStringSubmatch(w.supB.get("/inboxmessage/").Body, -1) {
		if n := w.count(`SELECT count(*) FROM contacts WHERE id = ? AND region_id = ?`, l[1], w.panelB); n != 1 {
			t.Fatalf("inbox of B lists contact %s outside panel B", l[1])
		}
	}

	conv := "/inboxmessage/conversation/" + contact + "/"
	if c := w.supA.get(conv); c.Code != 200 || !strings.Contains(c.Body, msgHTMLEscaped(latest)) || !strings.Contains(c.Body, `id="reply-text"`) {
		t.Fatalf("conversation = %d", c.Code)
	}
	if w.supB.get(conv).Code != 404 || w.supB.post(conv, url.Values{"text": {"Hi"}}).Code != 404 {
		t.Fatal("supervisor B reached a conversation of panel A")
	}
	for _, text := range []string{"  ", strings.Repeat("x", 641)} {
		if c := w.supA.post(conv, url.Values{"text": {text}}, "HX-Request", "true"); c.Code != 422 || !strings.Contains(c.Body, `class="field-error"`) {
			t.Fatalf("reply %d chars = %d, want 422 with the error", len(text), c.Code)
		}
	}
	if n := w.count(`SELECT count(*) FROM messages`); n != 0 {
		t.Fatalf("%d messages written by refused replies", n)
	}
	// The reply: the fragment comes back at once with it on top, pending.
	c := w.supA.post(conv, url.Values{"text": {"Thank you, we will fix it."}}, "HX-Request", "true")
	if c.Code != 200 || strings.Contains(c.Body, "<html") {
		t.Fatalf("reply = %d", c.Code)
	}
	first := strings.Index(c.Body, `<li class="msg`)
	if first < 0 || !strings.HasPrefix(c.Body[first:], `<li class="msg out">Thank you, we will fix it.`) || !strings.Contains(c.Body[first:], `<span class="state pending">Pending</span>`) {
		t.Fatal("the reply is not on top as pending")
	}
	if n := w.count(`SELECT count(*) FROM outbox o JOIN messages m ON o.ordering_key = 'message:' || m.id
		WHERE o.kind = 'broadcast' AND m.cohort = 'C' AND json_array_length(o.payload, '$.contacts') = 1`); n != 1 {
		t.Fatalf("%d one-contact broadcasts queued", n)
	}
	// Without htmx: 303 back to the conversation.
	if p := w.supA.post(conv, url.Values{"text": {"Second reply"}}); p.Code != 303 || p.Header.Get("Location") != conv {
		t.Fatalf("plain reply = %d to %q", p.Code, p.Header.Get("Location"))
	}
	if res, err := w.syncer.DeliverOutbox(context.Background()); err != nil || res.Sent != 2 {
		t.Fatalf("delivery %+v %v", res, err)
	}
	body := w.supA.get(conv).Body
	if strings.Count(body, `<span class="state sent">Sent</span>`) < 2 || strings.Contains(body, "state pending") {
		t.Fatal("after delivery the replies are not shown sent")
	}
	// Archived: the contact leaves the inbox (B may not archive it).
	archive := "/inboxmessage/archive/" + contact + "/"
	if w.supB.post(archive, nil).Code != 404 {
		t.Fatal("supervisor B archived a conversation of panel A")
	}
	if a := w.supA.post(archive, nil); a.Code != 303 || a.Header.Get("Location") != "/inboxmessage/" {
		t.Fatalf("archive = %d to %q", a.Code, a.Header.Get("Location"))
	}
	after := w.supA.get("/inboxmessage/").Body
	if strings.Contains(after, `href="`+conv+`"`) || len(inboxLinkRe.FindAllString(after, -1)) != want-1 || !strings.Contains(after, "Conversation archived.") {
		t.Fatal("the archived conversation is still in the inbox")
	}
	// Pulled back from RapidPro's sent folder, a reply still shows once.
	w.sim.Store().Write(func() { w.sim.Store().ProcessPending(0) })
	if r := w.syncer.Pull(context.Background(), w.org, "inbox"); r.Err != nil {
		t.Fatal(r.Err)
	}
	if n := w.count(`SELECT count(*) FROM inbox_messages WHERE direction = 'O' AND text = 'Thank you, we will fix it.'`); n != 1 {
		t.Fatalf("%d mirrored copies of the reply pulled, want 1", n)
	}
	if n := strings.Count(w.supA.get(conv).Body, "Thank you, we will fix it."); n != 1 {
		t.Fatalf("the reply shows %d times after the inbox pull", n)
	}
}

// msgHTMLEscaped is how html/template writes s in text.
func msgHTMLEscaped(s string) string {
	r := strings.NewReplacer("&", "&amp;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `"`, "&#34;")
	return r.Replace(s)
}
