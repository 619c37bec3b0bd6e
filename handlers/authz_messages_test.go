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
		if _, err := f.DB.ApplyContacts(f.Ctx, f.Org1, []models.ContactRow{{UUID: "c-msg-matrix", Name: "Matrix messenger", URNs: []string{"tel:+250780000019"},
			Groups: []string{"g-org1-District A1"}, Active: true, ModifiedOn: time.Now()}}, nil); err != nil {
			panic(err)
		}
		var id int64
		if err := f.DB.QueryRowContext(f.Ctx, `SELECT id FROM contacts WHERE uuid = 'c-msg-matrix'`).Scan(&id); err != nil {
			panic(err)
		}
		if _, err := f.DB.ExecContext(f.Ctx, `INSERT OR IGNORE INTO inbox_messages (org_id, rapidpro_message_id, contact_id, text, created_on, direction)
			VALUES (?, 'm-matrix', ?, 'Hello from A1', ?, 'I')`, f.Org1.ID, id, models.NowMs()); err != nil {
			panic(err)
		}
		return id
	}
	// A poll run sent to Province A where the contact has an empty response.
	run := func(f *matrixFixture) int64 {
		if _, _, _, err := f.DB.SyncFlows(f.Ctx, f.Org1.ID, []models.FlowInfo{{UUID: "flow-m", Name: "Matrix poll"}}); err != nil {
			panic(err)
		}
		if _, err := f.DB.TrackPolls(f.Ctx, f.Org1.ID, []string{"Matrix poll"}); err != nil {
			panic(err)
		}
		p, err := f.DB.PollByRef(f.Ctx, f.Org1.ID, "Matrix poll")
		if err != nil {
			panic(err)
		}
		var id int64
		now := time.Now()
		if err := f.DB.QueryRowContext(f.Ctx, `INSERT INTO pollruns (org_id, poll_id, pollrun_type, region_id, conducted_on, local_date)
			VALUES (?, ?, 'r', ?, ?, ?) RETURNING id`, f.Org1.ID, p.ID, f.Panels["Province A"], models.Ms(now), f.Org1.LocalDate(now)).Scan(&id); err != nil {
			panic(err)
		}
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
