package handlers

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"tracpro/models"
)

// sessionRows is the sessions table as id → data, expiry.
func (e *testEnv) sessionRows() map[string]string {
	e.t.Helper()
	rows, err := e.DB.Query(`SELECT id, data || '|' || expires_at || '|' || last_seen_at FROM sessions`)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, v string
		if err := rows.Scan(&id, &v); err != nil {
			e.t.Fatal(err)
		}
		out[id] = v
	}
	return out
}

// TestAnonymousVisitsStoreNothing: 10,000 cookieless visits of the sign-in
// page leave the sessions table as it was (each one used to store a 14-day
// session row); each answer still gives a CSRF token that signs in.
func TestAnonymousVisitsStoreNothing(t *testing.T) {
	e := newTestEnv(t)
	org := e.createOrg("org1")
	u := e.createUser(org, "amina@org1.test", models.RoleSupervisor, testPassword)
	e.newClient(org, u) // one session that must stay as it is
	before := e.sessionRows()

	var bad atomic.Int32
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2500 {
				req := httptest.NewRequest("GET", "http://org1."+testDomain+"/users/login/", nil)
				if i%2 == 1 {
					req = httptest.NewRequest("GET", "http://org1."+testDomain+"/", nil) // → the sign-in page
				}
				resp, err := e.App.Test(req, -1)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if want := []int{200, 303}[i%2]; resp.StatusCode != want || (i%2 == 0 && cookieNamed(resp, csrfCookie) == "") {
					if bad.Add(1) == 1 {
						t.Errorf("worker %d visit %d: %d, CSRF cookie %q", w, i, resp.StatusCode, cookieNamed(resp, csrfCookie))
					}
				}
			}
		}()
	}
	wg.Wait()
	after := e.sessionRows()
	if len(after) != len(before) {
		t.Fatalf("sessions after 10,000 anonymous visits: %d, before %d", len(after), len(before))
	}
	for id, v := range before {
		if after[id] != v {
			t.Fatalf("session %s changed: %q → %q", id[:8], v, after[id])
		}
	}

	// The token of the page and its cookie sign in; the session is made then.
	c := e.noSessionClient(org)
	c.get("/users/login/")
	if r := c.post("/users/login/", signInForm(u.Email, testPassword)); r.Code != 303 || c.Token == "" {
		t.Fatalf("sign-in with the anonymous token = %d", r.Code)
	}
	if n := len(e.sessionRows()); n != len(before)+1 {
		t.Fatalf("sessions after one sign-in: %d", n)
	}
}

func cookieNamed(resp *http.Response, name string) string {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// TestAnonymousCSRF: the signed double-submit token works only with its own
// cookie and on its own host; a visitor with no cookie gets no valid token;
// the language chosen while signed out is a cookie too.
func TestAnonymousCSRF(t *testing.T) {
	e := newTestEnv(t)
	org := e.createOrg("org1")
	e.createOrg("org2")
	u := e.createUser(org, "amina@org1.test", models.RoleSupervisor, testPassword)
	a, b := e.noSessionClient(org), e.noSessionClient(org)
	a.get("/users/login/")
	b.get("/users/login/")
	if a.CSRF == "" || a.CSRF == b.CSRF || a.Cookies[csrfCookie] == b.Cookies[csrfCookie] {
		t.Fatalf("tokens %q %q", a.CSRF, b.CSRF)
	}
	form := signInForm(u.Email, testPassword)
	// B's token with A's cookie.
	form.Set("_csrf", b.CSRF)
	if r := a.postRaw("/users/login/", form); r.Code != 403 || !strings.Contains(r.Body, "Your form expired.") {
		t.Fatalf("another visitor's token = %d", r.Code)
	}
	// A's token and cookie on org 2's host.
	other := &client{e: e, Host: hostOf(nil), Cookies: a.Cookies, CSRF: a.CSRF}
	other.Host = "org2." + testDomain
	if r := other.post("/users/login/", signInForm(u.Email, testPassword)); r.Code != 403 {
		t.Fatalf("the token on another host = %d", r.Code)
	}
	// The token without its cookie.
	if r := (&client{e: e, Host: a.Host, CSRF: a.CSRF}).post("/users/login/", signInForm(u.Email, testPassword)); r.Code != 403 {
		t.Fatalf("the token without its cookie = %d", r.Code)
	}
	// The language switcher while signed out: a cookie, no session.
	if r := a.post("/i18n/setlang/", url.Values{"language": {"fr"}, "next": {"/users/login/"}}); r.Code != 303 {
		t.Fatalf("set language = %d", r.Code)
	}
	if r := a.get("/users/login/"); !strings.Contains(r.Body, `<html lang="fr"`) {
		t.Fatalf("sign-in page after choosing French: %.120s", r.Body)
	}
	if n := len(e.sessionRows()); n != 0 {
		t.Fatalf("sessions stored by anonymous visitors: %d", n)
	}
	// And the right token signs in, in French from then on.
	if r := a.post("/users/login/", signInForm(u.Email, testPassword)); r.Code != 303 {
		t.Fatalf("sign-in = %d", r.Code)
	}
	if r := a.get("/"); r.Code != 200 || !strings.Contains(r.Body, `<html lang="fr"`) {
		t.Fatalf("home after signing in: %d %.120s", r.Code, r.Body)
	}
}
