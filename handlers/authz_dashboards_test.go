package handlers

import (
	"net/url"
	"strings"
)

// Authorization matrix entries of the polls, poll runs and responses pages.
// Org 1 gets a tracked poll, a poll run sent to Province A and a contact of
// District A1: supervisor B is refused them with 404 (out of scope), the
// administrator of org 2 with 403 (not a member).
func init() {
	poll := (*matrixFixture).matrixPoll
	pollPath := func(format string) func(f *matrixFixture) string {
		return func(f *matrixFixture) string { return strings.Replace(format, "{poll}", sid(poll(f)), 1) }
	}
	// A poll run sent to Province A.
	runPath := func(format string) func(f *matrixFixture) string {
		return func(f *matrixFixture) string { return strings.Replace(format, "{run}", sid(f.matrixRun()), 1) }
	}
	contact := func(f *matrixFixture) string {
		return "/response/by_contact/" + sid(f.matrixContact("c-matrix", "Matrix contact", "tel:+250780000009")) + "/"
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
