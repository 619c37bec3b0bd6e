package handlers

import (
	"net/url"
	"strings"
)

// Authorization matrix entries of the contact pages. Org 1 gets a contact of
// District A1: supervisor B is refused it with 404 (out of scope), the
// administrator of org 2 with 403 (not a member). POSTs carry an empty name
// (or no confirmation), so allowed personas get 422 and nothing changes.
func init() {
	contact := func(format string) func(f *matrixFixture) string {
		return func(f *matrixFixture) string {
			id := f.matrixContact("c-matrix-contact", "Matrix person", "tel:+250780000019")
			return strings.Replace(format, "{contact}", sid(id), 1)
		}
	}
	noName := url.Values{"name": {""}, "scheme": {"tel"}}
	addMatrix(map[string]Access{
		"GET /contact/":         {Anon: 303, SupA: 200, SupB: 200, Admin: 200, OtherAdmin: 403, Super: 200},
		"GET /contact/create/":  {Anon: 303, SupA: 200, SupB: 200, Admin: 200, OtherAdmin: 403, Super: 200},
		"POST /contact/create/": {Form: noName, Anon: 303, SupA: 422, SupB: 422, Admin: 422, OtherAdmin: 403, Super: 422},
		"GET /contact/read/:id/": {Setup: contact("/contact/read/{contact}/"),
			Anon: 303, SupA: 200, SupB: 404, Admin: 200, OtherAdmin: 403, Super: 200},
		"GET /contact/update/:id/": {Setup: contact("/contact/update/{contact}/"),
			Anon: 303, SupA: 200, SupB: 404, Admin: 200, OtherAdmin: 403, Super: 200},
		"POST /contact/update/:id/": {Setup: contact("/contact/update/{contact}/"), Form: noName,
			Anon: 303, SupA: 422, SupB: 404, Admin: 422, OtherAdmin: 403, Super: 422},
		"GET /contact/delete/:id/": {Setup: contact("/contact/delete/{contact}/"),
			Anon: 303, SupA: 200, SupB: 404, Admin: 200, OtherAdmin: 403, Super: 200},
		"POST /contact/delete/:id/": {Setup: contact("/contact/delete/{contact}/"),
			Anon: 303, SupA: 422, SupB: 404, Admin: 422, OtherAdmin: 403, Super: 422},
		"GET /contact/pushes/": {Anon: 303, SupA: 403, SupB: 403, Admin: 200, OtherAdmin: 403, Super: 200},
	})
}
