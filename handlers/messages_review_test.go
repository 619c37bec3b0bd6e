package handlers

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"tracpro/rapidpro/fake"
)

// TestMessageFailureShown: RapidPro refuses a broadcast (400): the poll run's
// Participation tab, the recipient's Messages tab and the administrators'
// message log say Failed with RapidPro's reason.
func TestMessageFailureShown(t *testing.T) {
	w := newStartWorld(t)
	run := strconv.FormatInt(w.busiestRun(), 10)
	if r := w.supA.post("/message/send/", url.Values{"pollrun": {run}, "recipients": {"N"}, "text": {"Refused by RapidPro."}}); r.Code != 303 {
		t.Fatalf("send: %d", r.Code)
	}
	var batches, recipient int
	w.DB.QueryRow(`SELECT count(*) FROM outbox WHERE kind = 'broadcast'`).Scan(&batches)
	w.DB.QueryRow(`SELECT contact_id FROM message_recipients LIMIT 1`).Scan(&recipient)
	for range batches {
		w.sim.Script(fake.Fault{Kind: fake.FaultStatus, Method: "POST", Path: "broadcasts", Status: 400, Body: `{"text":["This message is not allowed."]}`})
	}
	if res, err := w.syncer.DeliverOutbox(w.Ctx); err != nil || res.Failed != batches {
		t.Fatalf("delivery %+v %v, want %d failed", res, err, batches)
	}
	const reason = "HTTP 400: text: This message is not allowed."
	tab := w.supA.get("/pollrun/participation/" + run + "/")
	if _, li, _ := strings.Cut(tab.Body, `<ul id="pollrun-messages">`); !strings.Contains(li, `<span class="state failed">Failed</span>`) || !strings.Contains(li, reason) {
		t.Fatalf("the Participation tab does not show the failure: %.500s", li)
	}
	byContact := w.supA.get("/message/by_contact/" + strconv.Itoa(recipient) + "/")
	if !strings.Contains(byContact.Body, "Refused by RapidPro.") || !strings.Contains(byContact.Body, ">Failed</span>") || !strings.Contains(byContact.Body, reason) {
		t.Fatalf("the contact's Messages tab does not show the failure: %d", byContact.Code)
	}
	if log := w.admin.get("/message/"); !strings.Contains(log.Body, "Refused by RapidPro.") || !strings.Contains(log.Body, ">Failed</span>") || !strings.Contains(log.Body, reason) {
		t.Fatalf("the message log does not show the failure: %d", log.Code)
	}
}
