package handlers

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"tracpro/models"
)

// The authorization matrix: every route of the app × every persona → the
// status the route must answer. A GET is sent as is; a POST carries a valid
// CSRF token and a harmless (usually empty or invalid) body, so 400/422 mean
// "allowed past the guard" without changing anything that matters.
//
// The table is the map matrix, keyed "METHOD /route/pattern" exactly as the
// route is registered in routes.go. This file holds the mechanism and the
// entries of the shell, the profile and the supervisors; every other area adds
// its own in handlers/authz_<area>_test.go:
//
//	func init() {
//		addMatrix(map[string]Access{
//			"GET /region/": {Anon: 303, SupA: 403, SupB: 403, Admin: 200, OtherAdmin: 403, Super: 200},
//			"POST /region/:id/update/": {Path: "/region/{panelA}/update/", Form: url.Values{"parent": {"x"}},
//				Anon: 303, SupA: 403, SupB: 403, Admin: 400, OtherAdmin: 403, Super: 400},
//		})
//	}
//
// A route without an entry fails TestAuthorizationMatrix (naming the route),
// and so does an entry whose route no longer exists. Path placeholders
// ({supA}, {panelB}, {org2} … see matrixFixture.vars) take ids from the
// fixture; Setup can build anything else (an enrolment token, a task) and
// return the path. Every request runs on a fresh session of its persona, and
// sign-in throttling is reset before each one.

// Access is one matrix entry: how to call the route and the status expected
// for each persona.
type Access struct {
	Path  string                                  // request path with {placeholders}; "" = the route pattern itself
	Setup func(f *matrixFixture) string           // builds the path instead (optional)
	Form  url.Values                              // POST body besides _csrf
	Check func(t *testing.T, p string, r *result) // extra assertions on every persona's answer (optional)

	Anon       int // signed out (with an anonymous session, so POSTs pass CSRF)
	SupA       int // supervisor of Province A in org 1
	SupB       int // supervisor of Province B, A's sibling, in org 1
	Admin      int // administrator of org 1
	OtherAdmin int // administrator of org 2, asking on org 1's host
	Super      int // superuser (member of no org)
}

// matrix is the expectation table (see addMatrix).
var matrix = map[string]Access{}

// addMatrix adds entries to the authorization matrix; a key added twice panics.
func addMatrix(entries map[string]Access) {
	for k, v := range entries {
		if _, dup := matrix[k]; dup {
			panic("authorization matrix: duplicate entry " + k)
		}
		matrix[k] = v
	}
}

// personas in the order of Access's fields.
var personas = []string{"anonymous", "supervisor A", "supervisor B", "administrator", "administrator of org 2", "superuser"}

func (a Access) expected() []int {
	return []int{a.Anon, a.SupA, a.SupB, a.Admin, a.OtherAdmin, a.Super}
}

// publicRoutes need no entry: static files, the icon, the service worker and health checks.
var publicRoutes = map[string]bool{"GET /static/*": true, "GET /favicon.ico": true, "GET /sw.js": true, "GET /livez": true, "GET /readyz": true}

// matrixFixture is the world of the matrix. Org 1 ("org1") has the panel tree
// Country → Province A (District A1, District A2), Province B (District B1,
// District B2); org 2 ("org2") has Zone Z.
type matrixFixture struct {
	*testEnv
	Org1, Org2 *models.Org
	Panels     map[string]int64 // by name (names are unique across both orgs)
	SupA, SupB *models.User     // supervisors of Province A / B
	Admin      *models.User     // administrator of org 1
	OtherAdmin *models.User     // administrator of org 2
	OtherSup   *models.User     // supervisor of Zone Z in org 2
	Super      *models.User
}

func newMatrixFixture(t *testing.T) *matrixFixture {
	e := newTestEnv(t)
	f := &matrixFixture{testEnv: e, Org1: e.createOrg("org1"), Org2: e.createOrg("org2"), Panels: map[string]int64{}}
	for k, v := range e.createPanels(f.Org1, [2]string{"Country", ""}, [2]string{"Province A", "Country"}, [2]string{"Province B", "Country"},
		[2]string{"District A1", "Province A"}, [2]string{"District A2", "Province A"},
		[2]string{"District B1", "Province B"}, [2]string{"District B2", "Province B"}) {
		f.Panels[k] = v
	}
	for k, v := range e.createPanels(f.Org2, [2]string{"Zone Z", ""}) {
		f.Panels[k] = v
	}
	f.SupA = e.createUser(f.Org1, "sup-a@org1.test", models.RoleSupervisor, "", f.Panels["Province A"])
	f.SupB = e.createUser(f.Org1, "sup-b@org1.test", models.RoleSupervisor, "", f.Panels["Province B"])
	f.Admin = e.createUser(f.Org1, "admin@org1.test", models.RoleAdmin, "")
	f.OtherAdmin = e.createUser(f.Org2, "admin@org2.test", models.RoleAdmin, "")
	f.OtherSup = e.createUser(f.Org2, "sup@org2.test", models.RoleSupervisor, "", f.Panels["Zone Z"])
	f.Super = e.createSuperuser("root@tracpro.test")
	return f
}

// vars are the path placeholders.
func (f *matrixFixture) vars() map[string]int64 {
	return map[string]int64{
		"{supA}": f.SupA.ID, "{supB}": f.SupB.ID, "{admin}": f.Admin.ID, "{otherAdmin}": f.OtherAdmin.ID,
		"{otherSup}": f.OtherSup.ID, "{super}": f.Super.ID, "{org1}": f.Org1.ID, "{org2}": f.Org2.ID,
		"{country}": f.Panels["Country"], "{panelA}": f.Panels["Province A"], "{panelB}": f.Panels["Province B"],
		"{districtA1}": f.Panels["District A1"], "{districtB1}": f.Panels["District B1"], "{zoneZ}": f.Panels["Zone Z"],
	}
}

// personaClient is a fresh session of persona i on org 1's host.
func (f *matrixFixture) personaClient(i int) *client {
	users := []*models.User{nil, f.SupA, f.SupB, f.Admin, f.OtherAdmin, f.Super}
	return f.newClient(f.Org1, users[i])
}

var placeholderRe = regexp.MustCompile(`\{[A-Za-z0-9]+\}`)

// path resolves the request path of an entry.
func (f *matrixFixture) path(route string, a Access) (string, error) {
	if a.Setup != nil {
		return a.Setup(f), nil
	}
	p := a.Path
	if p == "" {
		p = route
	}
	if strings.Contains(p, ":") || strings.Contains(p, "*") {
		return "", fmt.Errorf("route parameters need a Path or Setup")
	}
	vars := f.vars()
	var bad string
	p = placeholderRe.ReplaceAllStringFunc(p, func(k string) string {
		v, ok := vars[k]
		if !ok {
			bad = k
		}
		return strconv.FormatInt(v, 10)
	})
	if bad != "" {
		return "", fmt.Errorf("unknown placeholder %s", bad)
	}
	return p, nil
}

// eachGetPage calls fn with every GET route of the app that has a matrix
// entry ("GET /pattern"), its entry and its request path.
func (f *matrixFixture) eachGetPage(t *testing.T, fn func(k string, a Access, path string)) {
	t.Helper()
	for _, k := range appRoutes(f.testEnv) {
		method, route, _ := strings.Cut(k, " ")
		a, ok := matrix[k]
		if method != "GET" || !ok {
			continue
		}
		path, err := f.path(route, a)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		fn(k, a, path)
	}
}

// appRoutes lists "METHOD /pattern" of every GET and POST route of the app.
func appRoutes(e *testEnv) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range e.App.GetRoutes(true) {
		if r.Method != "GET" && r.Method != "POST" {
			continue
		}
		k := r.Method + " " + r.Path
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func TestAuthorizationMatrix(t *testing.T) {
	f := newMatrixFixture(t)
	routes := appRoutes(f.testEnv)
	present := map[string]bool{}
	for _, k := range routes {
		present[k] = true
		if publicRoutes[k] {
			continue
		}
		a, ok := matrix[k]
		if !ok {
			t.Errorf("route %s has no authorization matrix entry: add one (handlers/authz_<area>_test.go)", k)
			continue
		}
		method, route, _ := strings.Cut(k, " ")
		path, err := f.path(route, a)
		if err != nil {
			t.Errorf("%s: %v", k, err)
			continue
		}
		for i, want := range a.expected() {
			if _, err := f.DB.ExecContext(f.Ctx, `DELETE FROM login_failures`); err != nil {
				t.Fatal(err)
			}
			c := f.personaClient(i)
			var r *result
			if method == "GET" {
				r = c.get(path)
			} else {
				r = c.post(path, a.Form)
			}
			if r.Code != want {
				t.Errorf("%s %s as %s = %d, want %d", method, path, personas[i], r.Code, want)
				continue
			}
			if i == 0 && want == 303 && !strings.HasPrefix(r.Header.Get("Location"), "/users/login/") {
				t.Errorf("%s %s as anonymous redirects to %q, want the sign-in page", method, path, r.Header.Get("Location"))
			}
			if a.Check != nil {
				a.Check(t, personas[i], r)
			}
		}
	}
	for k := range matrix {
		if !present[k] {
			t.Errorf("authorization matrix entry %s names no route of the app", k)
		}
	}
}

func init() {
	// The shell: sign-in, language, home, panel scope; profile and supervisors.
	addMatrix(map[string]Access{
		"GET /users/login/":        {Anon: 200, SupA: 303, SupB: 303, Admin: 303, OtherAdmin: 303, Super: 303},
		"POST /users/login/":       {Anon: 422, SupA: 422, SupB: 422, Admin: 422, OtherAdmin: 422, Super: 422},
		"POST /users/logout/":      {Anon: 303, SupA: 303, SupB: 303, Admin: 303, OtherAdmin: 303, Super: 303},
		"POST /i18n/setlang/":      {Anon: 400, SupA: 400, SupB: 400, Admin: 400, OtherAdmin: 400, Super: 400},
		"GET /":                    {Anon: 303, SupA: 200, SupB: 200, Admin: 200, OtherAdmin: 403, Super: 200},
		"POST /set-region/":        {Anon: 303, SupA: 400, SupB: 400, Admin: 400, OtherAdmin: 403, Super: 400},
		"POST /toggle-subregions/": {Anon: 303, SupA: 400, SupB: 400, Admin: 400, OtherAdmin: 403, Super: 400},

		"GET /profile/self/":  {Anon: 303, SupA: 200, SupB: 200, Admin: 200, OtherAdmin: 200, Super: 200},
		"POST /profile/self/": {Anon: 303, SupA: 422, SupB: 422, Admin: 422, OtherAdmin: 422, Super: 422},
		"GET /user/":          {Anon: 303, SupA: 403, SupB: 403, Admin: 200, OtherAdmin: 403, Super: 200},
		"GET /user/create/":   {Anon: 303, SupA: 403, SupB: 403, Admin: 200, OtherAdmin: 403, Super: 200},
		"POST /user/create/":  {Anon: 303, SupA: 403, SupB: 403, Admin: 422, OtherAdmin: 403, Super: 422},
		// Supervisor A asks for B's profile: not found (only their own, or as administrator).
		"GET /user/read/:id/":    {Path: "/user/read/{supB}/", Anon: 303, SupA: 404, SupB: 200, Admin: 200, OtherAdmin: 403, Super: 200},
		"GET /user/update/:id/":  {Path: "/user/update/{supB}/", Anon: 303, SupA: 403, SupB: 403, Admin: 200, OtherAdmin: 403, Super: 200},
		"POST /user/update/:id/": {Path: "/user/update/{supB}/", Anon: 303, SupA: 403, SupB: 403, Admin: 422, OtherAdmin: 403, Super: 422},
	})
}

// optionsOf returns the text of the <option>s inside the element with id.
func optionsOf(body, id string) []string {
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		return nil
	}
	rest := body[i:]
	if j := strings.Index(rest, "</select>"); j >= 0 {
		rest = rest[:j]
	}
	var out []string
	for _, m := range regexp.MustCompile(`<option[^>]*>([^<]*)</option>`).FindAllStringSubmatch(rest, -1) {
		out = append(out, strings.TrimSpace(strings.ReplaceAll(m[1], "\u00a0", "")))
	}
	return out
}

func sameStrings(a, b []string) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// TestScopedPagesShowOnlyTheViewersRows checks that pages list nothing from
// outside the viewer's panels or org.
func TestScopedPagesShowOnlyTheViewersRows(t *testing.T) {
	f := newMatrixFixture(t)
	foreign := map[string][]string{
		"supervisor A": {"Province B", "District B1", "District B2", "Country", "Zone Z"},
		"supervisor B": {"Province A", "District A1", "District A2", "Country", "Zone Z"},
	}
	for name, tc := range map[string]struct {
		u       *models.User
		options []string
	}{
		"supervisor A": {f.SupA, []string{"Province A", "District A1", "District A2"}},
		"supervisor B": {f.SupB, []string{"Province B", "District B1", "District B2"}},
	} {
		r := f.newClient(f.Org1, tc.u).get("/")
		if r.Code != 200 {
			t.Fatalf("%s: home = %d", name, r.Code)
		}
		if got := optionsOf(r.Body, "panel-select"); !sameStrings(got, tc.options) {
			t.Errorf("%s: panel choices = %q, want %q", name, got, tc.options)
		}
		for _, want := range tc.options {
			if !strings.Contains(r.Body, ">"+want+"<") {
				t.Errorf("%s: home does not list %s", name, want)
			}
		}
		for _, bad := range foreign[name] {
			if strings.Contains(r.Body, bad) {
				t.Errorf("%s: home names %s, outside their panels", name, bad)
			}
		}
	}

	// Choosing a panel outside one's own is refused, and the scope stays.
	ca := f.newClient(f.Org1, f.SupA)
	if r := ca.post("/set-region/", url.Values{"region": {strconv.FormatInt(f.Panels["Province B"], 10)}}); r.Code != 400 {
		t.Errorf("supervisor A choosing Province B = %d, want 400", r.Code)
	}
	if r := ca.post("/set-region/", url.Values{"region": {"all"}}); r.Code != 400 {
		t.Errorf("supervisor A choosing all panels = %d, want 400", r.Code)
	}

	// The supervisors list of org 1 names org 1's supervisors only.
	r := f.newClient(f.Org1, f.Admin).get("/user/")
	for _, want := range []string{"sup-a@org1.test", "sup-b@org1.test", "Province A", "Province B"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("/user/ of org 1 lacks %s", want)
		}
	}
	for _, bad := range []string{"sup@org2.test", "admin@org2.test", "Zone Z", "admin@org1.test", "root@tracpro.test"} {
		if strings.Contains(r.Body, bad) {
			t.Errorf("/user/ of org 1 lists %s", bad)
		}
	}
	// The panel choices of the supervisor form are org 1's panels.
	r = f.newClient(f.Org1, f.Admin).get("/user/create/")
	want := []string{"Country", "Province A", "District A1", "District A2", "Province B", "District B1", "District B2"}
	if got := optionsOf(r.Body, "panels"); !sameStrings(got, want) {
		t.Errorf("supervisor form panel choices = %q, want %q", got, want)
	}
	// Org 2's administrator on org 2's host sees org 2's supervisor only.
	r = f.newClient(f.Org2, f.OtherAdmin).get("/user/")
	if !strings.Contains(r.Body, "sup@org2.test") || strings.Contains(r.Body, "org1.test") {
		t.Errorf("/user/ of org 2 = %d, lists the wrong users", r.Code)
	}
	// A supervisor's own profile names their panels, not the sibling's.
	r = f.newClient(f.Org1, f.SupA).get("/user/read/" + strconv.FormatInt(f.SupA.ID, 10) + "/")
	if r.Code != 200 || !strings.Contains(r.Body, "Province A") || strings.Contains(r.Body, "Province B") {
		t.Errorf("supervisor A's profile = %d, panels wrong", r.Code)
	}
}
