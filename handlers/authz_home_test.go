package handlers

import (
	"net/url"
	"strconv"
)

// Authorization matrix entries of starting polls (home's own entries are in
// authz_test.go). POST bodies are invalid on purpose: 400/422 mean "allowed
// past the guard". The start progress of a regional poll run of Province A
// is visible to supervisor A and administrators, not to supervisor B.
func init() {
	startOfA := func(f *matrixFixture) string {
		var poll, pr int64
		if err := f.DB.QueryRow(`INSERT INTO polls (org_id, flow_uuid, rapidpro_name, is_active) VALUES (?, 'flow-a', 'Flow A', 1)
			ON CONFLICT (org_id, flow_uuid) DO UPDATE SET is_active = 1 RETURNING id`, f.Org1.ID).Scan(&poll); err != nil {
			panic(err)
		}
		if err := f.DB.QueryRow(`INSERT INTO pollruns (org_id, poll_id, pollrun_type, region_id, conducted_on, local_date) VALUES (?, ?, 'r', ?, 1, '1970-01-01') RETURNING id`,
			f.Org1.ID, poll, f.Panels["Province A"]).Scan(&pr); err != nil {
			panic(err)
		}
		return "/pollrun/start/" + strconv.FormatInt(pr, 10) + "/"
	}
	addMatrix(map[string]Access{
		// Supervisors have a panel selected (no poll: 422); administrators
		// are on "All panels" (no panel: 422).
		"POST /pollrun/create/":   {Form: url.Values{"poll": {"x"}}, Anon: 303, SupA: 422, SupB: 422, Admin: 422, OtherAdmin: 403, Super: 422},
		"POST /pollrun/restart/":  {Form: url.Values{"pollrun": {"x"}}, Anon: 303, SupA: 400, SupB: 400, Admin: 400, OtherAdmin: 403, Super: 400},
		"GET /pollrun/start/:id/": {Setup: startOfA, Anon: 303, SupA: 200, SupB: 404, Admin: 200, OtherAdmin: 403, Super: 200},
	})
}
