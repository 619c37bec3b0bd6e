package handlers

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"tracpro/models"
)

const testPassword = "Kandahar-Road-42"

// formError extracts the form-level error of the sign-in page.
func formError(body string) string {
	m := regexp.MustCompile(`<p class="error" role="alert">([^<]*)</p>`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

func signInForm(email, password string) url.Values {
	return url.Values{"email": {email}, "password": {password}, "next": {"/"}}
}

func TestSignInThrottlePerEmail(t *testing.T) {
	e := newTestEnv(t)
	org := e.createOrg("org1")
	e.createUser(org, "amina@org1.test", models.RoleSupervisor, testPassword)
	c := e.newClient(org, nil)
	for i := 1; i <= 5; i++ {
		r := c.post("/users/login/", signInForm("amina@org1.test", "wrong-"+testPassword))
		if r.Code != 422 || formError(r.Body) != "The email address or password is not correct." {
			t.Fatalf("wrong password #%d = %d %q", i, r.Code, formError(r.Body))
		}
	}
	// The per-address counter is cleared so only the account's counter speaks.
	if _, err := e.DB.ExecContext(e.Ctx, `DELETE FROM login_failures WHERE key LIKE 'ip:%'`); err != nil {
		t.Fatal(err)
	}
	r := c.post("/users/login/", signInForm("amina@org1.test", testPassword))
	if r.Code != 429 || !strings.HasPrefix(formError(r.Body), "Too many attempts. Try again in ") {
		t.Errorf("6th attempt (right password) = %d %q, want 429 with the wait", r.Code, formError(r.Body))
	}
	// Another account from the same address is not throttled.
	r = c.post("/users/login/", signInForm("nobody@org1.test", "x"))
	if r.Code != 422 {
		t.Errorf("another email = %d, want 422", r.Code)
	}
}

func TestSignInThrottlePerAddress(t *testing.T) {
	e := newTestEnv(t)
	org := e.createOrg("org1")
	e.createUser(org, "amina@org1.test", models.RoleSupervisor, testPassword)
	c := e.newClient(org, nil)
	for i := 1; i <= 5; i++ {
		if r := c.post("/users/login/", signInForm("guess"+string(rune('0'+i))+"@org1.test", "x")); r.Code != 422 {
			t.Fatalf("guess #%d = %d", i, r.Code)
		}
	}
	r := c.post("/users/login/", signInForm("amina@org1.test", testPassword))
	if r.Code != 429 || !strings.Contains(formError(r.Body), "Too many attempts. Try again in 1 second.") {
		t.Errorf("6th attempt from the address = %d %q, want 429", r.Code, formError(r.Body))
	}
}

func TestSignInSameAnswerForUnknownEmail(t *testing.T) {
	e := newTestEnv(t)
	org := e.createOrg("org1")
	e.createUser(org, "amina@org1.test", models.RoleSupervisor, testPassword)
	c := e.newClient(org, nil)
	wrong := c.post("/users/login/", signInForm("amina@org1.test", "not-the-password"))
	unknown := c.post("/users/login/", signInForm("nobody@org1.test", "not-the-password"))
	if wrong.Code != 422 || unknown.Code != wrong.Code {
		t.Errorf("statuses: wrong password %d, unknown email %d", wrong.Code, unknown.Code)
	}
	a := strings.ReplaceAll(wrong.Body, "amina@org1.test", "EMAIL")
	b := strings.ReplaceAll(unknown.Body, "nobody@org1.test", "EMAIL")
	if a != b || formError(a) == "" {
		t.Errorf("the answers differ:\n%s\n---\n%s", formError(a), formError(b))
	}
}

func TestCSRF(t *testing.T) {
	f := newMatrixFixture(t)
	c := f.newClient(f.Org1, f.SupA)
	form := url.Values{"include_subregions": {"0"}}
	if r := c.postRaw("/toggle-subregions/", form); r.Code != 403 || !strings.Contains(r.Body, "Your form expired.") {
		t.Errorf("POST without token = %d", r.Code)
	}
	bad := url.Values{"include_subregions": {"0"}, "_csrf": {c.CSRF + "x"}}
	if r := c.postRaw("/toggle-subregions/", bad); r.Code != 403 {
		t.Errorf("POST with a wrong token = %d", r.Code)
	}
	if r := c.postRaw("/toggle-subregions/", form, "X-CSRF-Token", "nope"); r.Code != 403 {
		t.Errorf("POST with a wrong header token = %d", r.Code)
	}
	r := c.postRaw("/toggle-subregions/", form, "HX-Request", "true")
	if r.Code != 403 || r.Header.Get("HX-Redirect") != "/users/login/" {
		t.Errorf("htmx POST without token = %d HX-Redirect %q", r.Code, r.Header.Get("HX-Redirect"))
	}
	// Another session's token does not do either.
	other := f.newClient(f.Org1, f.SupA)
	if r := c.postRaw("/toggle-subregions/", url.Values{"include_subregions": {"0"}, "_csrf": {other.CSRF}}); r.Code != 403 {
		t.Errorf("POST with another session's token = %d", r.Code)
	}
	// A cross-origin POST with the right token is refused too.
	if r := c.post("/toggle-subregions/", form, "Origin", "https://evil.example"); r.Code != 403 {
		t.Errorf("cross-origin POST = %d", r.Code)
	}
	// The control: the right token in the field, then in the header.
	if r := c.post("/toggle-subregions/", form); r.Code != 303 {
		t.Errorf("POST with the token = %d", r.Code)
	}
	if r := c.postRaw("/toggle-subregions/", url.Values{"include_subregions": {"1"}}, "X-CSRF-Token", c.CSRF); r.Code != 303 {
		t.Errorf("POST with the header token = %d", r.Code)
	}
}

func TestSessionRotationAndSignOut(t *testing.T) {
	e := newTestEnv(t)
	org := e.createOrg("org1")
	e.createUser(org, "amina@org1.test", models.RoleSupervisor, testPassword)
	// The sign-in page gives a CSRF token, not a session.
	anon := e.noSessionClient(org)
	if r := anon.get("/users/login/"); r.Code != 200 || anon.Token != "" || anon.CSRF == "" {
		t.Fatalf("sign-in page = %d, session cookie %q, CSRF token %q", r.Code, anon.Token, anon.CSRF)
	}
	if r := anon.post("/users/login/", signInForm("amina@org1.test", testPassword)); r.Code != 303 || anon.Token == "" {
		t.Fatalf("sign-in from the page = %d, session cookie %q", r.Code, anon.Token)
	}
	// A session that existed before signing in (an enrolment link's
	// admission) is replaced by a new one.
	c := e.newClient(org, nil)
	oldToken, oldID := c.Token, c.SessionID
	r := c.post("/users/login/", signInForm("amina@org1.test", testPassword))
	if r.Code != 303 || r.Header.Get("Location") != "/" {
		t.Fatalf("sign-in = %d %s", r.Code, r.Header.Get("Location"))
	}
	if c.Token == "" || c.Token == oldToken || c.SessionID == oldID {
		t.Errorf("the session was not rotated (token changed: %v)", c.Token != oldToken)
	}
	if e.sessionExists(oldID) {
		t.Errorf("the pre-sign-in session still exists")
	}
	if r := c.get("/"); r.Code != 200 {
		t.Errorf("home after sign-in = %d", r.Code)
	}
	// The old cookie is worthless.
	stale := &client{e: e, Host: c.Host, Token: oldToken}
	if r := stale.get("/"); r.Code != 303 {
		t.Errorf("home with the old cookie = %d, want 303", r.Code)
	}

	id := c.SessionID
	r = c.post("/users/logout/", nil)
	if r.Code != 303 || r.Header.Get("Location") != "/users/login/" {
		t.Errorf("sign-out = %d %s", r.Code, r.Header.Get("Location"))
	}
	if e.sessionExists(id) {
		t.Errorf("sign-out left the session in the database")
	}
	replay := &client{e: e, Host: c.Host, Token: stale.Token}
	if r := replay.get("/"); r.Code != 303 {
		t.Errorf("home after sign-out = %d", r.Code)
	}
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	e := newTestEnv(t)
	org := e.createOrg("org1")
	u := e.createUser(org, "amina@org1.test", models.RoleSupervisor, testPassword)
	here, elsewhere := e.newClient(org, u), e.newClient(org, u)
	hereID := here.SessionID
	r := here.post("/profile/self/", url.Values{"name": {"Amina"}, "current_password": {testPassword},
		"new_password": {"Herat-Citadel-11"}, "new_password2": {"Herat-Citadel-11"}})
	if r.Code != 303 {
		t.Fatalf("change = %d: %s", r.Code, formError(r.Body))
	}
	if e.sessionExists(elsewhere.SessionID) || e.sessionExists(hereID) {
		t.Errorf("sessions from before the change survive")
	}
	if r := elsewhere.get("/"); r.Code != 303 {
		t.Errorf("the other browser's home = %d, want 303", r.Code)
	}
	// This browser is signed in again on a fresh session, with the flash.
	if here.SessionID == "" || here.SessionID == hereID {
		t.Fatalf("this browser got no new session")
	}
	if r := here.get("/profile/self/"); r.Code != 200 || !strings.Contains(r.Body, "Your password has been changed.") {
		t.Errorf("profile after the change = %d", r.Code)
	}
	got, _ := e.DB.UserByID(e.Ctx, u.ID)
	if !models.VerifyPassword(got.PasswordHash, "Herat-Citadel-11") {
		t.Errorf("the new password is not stored")
	}
}

func TestForcedPasswordChange(t *testing.T) {
	e := newTestEnv(t)
	org := e.createOrg("org1")
	u, err := e.DB.CreateMember(e.Ctx, org.ID, models.NewUser{Email: "new@org1.test", FullName: "New", Password: testPassword, ChangePassword: true}, models.RoleSupervisor, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := e.newClient(org, u)
	for _, p := range []string{"/", "/user/read/1/"} {
		if r := c.get(p); r.Code != 303 || r.Header.Get("Location") != "/profile/self/" {
			t.Errorf("GET %s = %d → %q, want 303 to /profile/self/", p, r.Code, r.Header.Get("Location"))
		}
	}
	r := c.get("/profile/self/")
	if r.Code != 200 || !strings.Contains(r.Body, "Please choose a new password.") {
		t.Errorf("profile = %d without the notice", r.Code)
	}
	// Saving without a new password is refused.
	if r := c.post("/profile/self/", url.Values{"name": {"New"}}); r.Code != 422 || !strings.Contains(r.Body, "Choose a new password.") {
		t.Errorf("save without a password = %d", r.Code)
	}
	r = c.post("/profile/self/", url.Values{"name": {"New"}, "current_password": {testPassword},
		"new_password": {"Bamiyan-Valley-3"}, "new_password2": {"Bamiyan-Valley-3"}})
	if r.Code != 303 || r.Header.Get("Location") != "/" {
		t.Fatalf("change = %d → %q", r.Code, r.Header.Get("Location"))
	}
	if got, _ := e.DB.UserByID(e.Ctx, u.ID); got.ChangePassword {
		t.Errorf("the forced-change flag is still set")
	}
	if r := c.get("/"); r.Code != 200 {
		t.Errorf("home after the change = %d", r.Code)
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := newMatrixFixture(t)
	for name, r := range map[string]*result{
		"sign-in": f.noSessionClient(f.Org1).get("/users/login/"),
		"home":    f.newClient(f.Org1, f.SupA).get("/"),
		"404":     f.newClient(f.Org1, f.SupA).get("/no/such/page/"),
	} {
		csp := r.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") ||
			strings.Contains(csp, "http") || strings.Contains(csp, "*") || strings.Contains(csp, "unsafe") {
			t.Errorf("%s: CSP %q allows another origin or inline code", name, csp)
		}
		if got := r.Header.Get("Referrer-Policy"); got != "same-origin" {
			t.Errorf("%s: Referrer-Policy %q", name, got)
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: nosniff/frame headers missing", name)
		}
	}
}

func TestFullPageOrFragment(t *testing.T) {
	f := newMatrixFixture(t)
	c := f.newClient(f.Org1, f.SupA)
	full := c.get("/")
	frag := c.get("/", "HX-Request", "true")
	boosted := c.get("/", "HX-Request", "true", "HX-Boosted", "true")
	restore := c.get("/", "HX-Request", "true", "HX-History-Restore-Request", "true")
	if !strings.Contains(full.Body, "<html") || !strings.Contains(boosted.Body, "<html") || !strings.Contains(restore.Body, "<html") {
		t.Errorf("a plain, boosted or history-restore request did not get the full page")
	}
	if strings.Contains(frag.Body, "<html") || !strings.Contains(frag.Body, `id="home"`) {
		t.Errorf("the htmx request did not get the fragment alone: %.80q", frag.Body)
	}
	for _, r := range []*result{full, frag, boosted} {
		if !strings.Contains(r.Header.Get("Vary"), "HX-Request") {
			t.Errorf("Vary = %q, want HX-Request", r.Header.Get("Vary"))
		}
	}
}
