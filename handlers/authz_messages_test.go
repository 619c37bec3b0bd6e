package handlers

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"tracpro/models"
)

// Authorization matrix entries of messages, the inbox and participation
// across polls. Org 1 gets a contact of District A1 ("Matrix messenger")
// with an empty response in a poll run sent to Province A and one inbox
// message: supervisor B is refused the poll run, the contact and its
// conversation with 404 and never sees the contact in the grid; the
// administrator of org 2 gets 403 everywhere; the message log is for
// administrators.
func init() {
	contact := func(f *matrixFixture) int64 {
		id := f.matrixContact("c-msg-matrix", "Matrix messenger", "tel:+250780000019")
		if _, err := f.DB.ExecContext(f.Ctx, `INSERT OR IGNORE INTO inbox_messages (org_id, rapidpro_message_id, contact_id, text, created_on, direction)
			VALUES (?, 'm-matrix', ?, 'Hello from A1', ?, 'I')`, f.Org1.ID, id, models.NowMs()); err != nil {
			panic(err)
		}
		return id
	}
	// A poll run sent to Province A where the contact has an empty response.
	run := func(f *matrixFixture) int64 {
		id := f.matrixRun()
		now := time.Now()
		if _, err := f.DB.ExecContext(f.Ctx, `INSERT INTO responses (org_id, pollrun_id, contact_id, run_uuid, created_on, updated_on, modified_on, status)
			VALUES (?, ?, ?, ?, ?, ?, ?, 'E')`, f.Org1.ID, id, contact(f), "run-matrix-"+sid(id), models.Ms(now), models.Ms(now), models.Ms(now)); err != nil {
			panic(err)
		}
		return id
	}
	path := func(format string, id func(*matrixFixture) int64) func(*matrixFixture) string {
		return func(f *matrixFixture) string { return strings.Replace(format, "{id}", sid(id(f)), 1) }
	}
	// Supervisor B never sees A1's contact; the others in org 1 do.
	gridCheck := func(t *testing.T, p string, r *result) {
		if r.Code == 200 && strings.Contains(r.Body, "Matrix messenger") != (p != "supervisor B") {
			t.Errorf("participation as %s: shows A1's contact = %v", p, strings.Contains(r.Body, "Matrix messenger"))
		}
	}
	addMatrix(map[string]Access{
		"GET /message/": {Anon: 303, SupA: 403, SupB: 403, Admin: 200, OtherAdmin: 403, Super: 200},
		// The confirmation counts the contact (1 non-respondent) for A; B cannot see the poll run.
		"GET /message/send/": {Setup: path("/message/send/?pollrun={id}&recipients=N&text=Hello", run),
			Check: func(t *testing.T, p string, r *result) {
				if r.Code == 200 && !strings.Contains(r.Body, `id="message-count"`) {
					t.Errorf("confirmation as %s shows no count", p)
				}
			},
			Anon: 303, SupA: 200, SupB: 404, Admin: 200, OtherAdmin: 403, Super: 200},
		// An empty text: refused with 422 (nothing sent) where the poll run is visible.
		"POST /message/send/": {Setup: path("/message/send/?pollrun={id}&recipients=N", run), Form: url.Values{"text": {" "}},
			Anon: 303, SupA: 422, SupB: 404, Admin: 422, OtherAdmin: 403, Super: 422},
		"GET /message/by_contact/:id/": {Setup: path("/message/by_contact/{id}/", contact),
			Anon: 303, SupA: 200, SupB: 404, Admin: 200, OtherAdmin: 403, Super: 200},
		"GET /inboxmessage/": {Setup: func(f *matrixFixture) string { contact(f); return "/inboxmessage/" }, Anon: 303, SupA: 200, SupB: 200, Admin: 200, OtherAdmin: 403, Super: 200,
			Check: func(t *testing.T, p string, r *result) {
				if r.Code == 200 && strings.Contains(r.Body, "Hello from A1") != (p != "supervisor B") {
					t.Errorf("inbox as %s: shows A1's message = %v", p, strings.Contains(r.Body, "Hello from A1"))
				}
			}},
		"GET /inboxmessage/conversation/:contact_id/": {Setup: path("/inboxmessage/conversation/{id}/", contact),
			Anon: 303, SupA: 200, SupB: 404, Admin: 200, OtherAdmin: 403, Super: 200},
		"POST /inboxmessage/conversation/:contact_id/": {Setup: path("/inboxmessage/conversation/{id}/", contact), Form: url.Values{"text": {""}},
			Anon: 303, SupA: 422, SupB: 404, Admin: 422, OtherAdmin: 403, Super: 422},
		// Archiving A1's conversation (runs after the GETs above: the matrix goes in route order).
		"POST /inboxmessage/archive/:contact_id/": {Setup: path("/inboxmessage/archive/{id}/", contact),
			Anon: 303, SupA: 303, SupB: 404, Admin: 303, OtherAdmin: 403, Super: 303},
		"GET /participation/": {Setup: func(f *matrixFixture) string { run(f); return "/participation/" }, Check: gridCheck,
			Anon: 303, SupA: 200, SupB: 200, Admin: 200, OtherAdmin: 403, Super: 200},
	})
}
