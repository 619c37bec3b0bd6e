package handlers

import (
	"net/url"
	"strings"
	"time"

	"tracpro/models"
)

// Authorization matrix entries of the polls, poll runs and responses pages.
// Org 1 gets a tracked poll, a poll run sent to Province A and a contact of
// District A1: supervisor B is refused them with 404 (out of scope), the
// administrator of org 2 with 403 (not a member).
func init() {
	poll := func(f *matrixFixture) int64 {
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
		return p.ID
	}
	pollPath := func(format string) func(f *matrixFixture) string {
		return func(f *matrixFixture) string { return strings.Replace(format, "{poll}", sid(poll(f)), 1) }
	}
	// A poll run sent to Province A.
	runPath := func(format string) func(f *matrixFixture) string {
		return func(f *matrixFixture) string {
			var id int64
			now := time.Now()
			if err := f.DB.QueryRowContext(f.Ctx, `INSERT INTO pollruns (org_id, poll_id, pollrun_type, region_id, conducted_on, local_date)
				VALUES (?, ?, 'r', ?, ?, ?) RETURNING id`, f.Org1.ID, poll(f), f.Panels["Province A"], models.Ms(now), f.Org1.LocalDate(now)).Scan(&id); err != nil {
				panic(err)
			}
			return strings.Replace(format, "{run}", sid(id), 1)
		}
	}
	contact := func(f *matrixFixture) string {
		if _, err := f.DB.ApplyContacts(f.Ctx, f.Org1, []models.ContactRow{{UUID: "c-matrix", Name: "Matrix contact", URNs: []string{"tel:+250780000009"},
			Groups: []string{"g-org1-District A1"}, Active: true, ModifiedOn: time.Now()}}, nil); err != nil {
			panic(err)
		}
		var id int64
		if err := f.DB.QueryRowContext(f.Ctx, `SELECT id FROM contacts WHERE uuid = 'c-matrix'`).Scan(&id); err != nil {
			panic(err)
		}
		return "/response/by_contact/" + sid(id) + "/"
	}
	tooLong := url.Values{"name": {strings.Repeat("x", 65)}}
	addMatrix(map[string]Access{
		"GET /poll/":             {Anon: 303, SupA: 403, SupB: 403, Admin: 200, OtherAdmin: 403, Super: 200},
		"GET /poll/update/:id/":  {Setup: pollPath("/poll/update/{poll}/"), Anon: 303, SupA: 403, SupB: 403, Admin: 200, OtherAdmin: 403, Super: 200},
		"POST /poll/update/:id/": {Setup: pollPath("/poll/update/{poll}/"), Form: tooLong, Anon: 303, SupA: 403, SupB: 403, Admin: 422, OtherAdmin: 403, Super: 422},
		"GET /poll/read/:id/":    {Setup: pollPath("/poll/read/{poll}/"), Anon: 303, SupA: 200, SupB: 200, Admin: 200, OtherAdmin: 403, Super: 200},

		"GET /pollrun/":                   {Anon: 303, SupA: 200, SupB: 200, Admin: 200, OtherAdmin: 403, Super: 200},
		"GET /pollrun/by_poll/:poll/":     {Setup: pollPath("/pollrun/by_poll/{poll}/"), Anon: 303, SupA: 200, SupB: 200, Admin: 200, OtherAdmin: 403, Super: 200},
		"GET /pollrun/read/:id/":          {Setup: runPath("/pollrun/read/{run}/"), Anon: 303, SupA: 200, SupB: 404, Admin: 200, OtherAdmin: 403, Super: 200},
		"GET /pollrun/participation/:id/": {Setup: runPath("/pollrun/participation/{run}/"), Anon: 303, SupA: 200, SupB: 404, Admin: 200, OtherAdmin: 403, Super: 200},
		"GET /response/by_pollrun/:id/":   {Setup: runPath("/response/by_pollrun/{run}/"), Anon: 303, SupA: 200, SupB: 404, Admin: 200, OtherAdmin: 403, Super: 200},
		"GET /response/by_contact/:id/":   {Setup: contact, Anon: 303, SupA: 200, SupB: 404, Admin: 200, OtherAdmin: 403, Super: 200},
	})
}
