package handlers

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"tracpro/models"
)

// The passkey policy across hosts (issue 12, point 1). Orgs A and B live at
// a.tracpro.test and b.tracpro.test under TRACPRO_DOMAIN tracpro.test (the bare
// domain serves no org); both have the policy on. Every ceremony is a real
// WebAuthn registration or assertion by the software authenticator.

const policyDomain = "tracpro.test"

// policyWorld is the app under policyDomain with orgs A and B.
type policyWorld struct {
	*pkEnv
	a, b *models.Org
}

func newPolicyWorld(t *testing.T) *policyWorld {
	t.Helper()
	e, orgs := newPKEnvWith(t, policyDomain, models.NewOrg{Name: "Org a", Subdomain: "a"}, models.NewOrg{Name: "Org b", Subdomain: "b"})
	if !orgs[0].AdminPasskeys || !orgs[1].AdminPasskeys {
		t.Fatal("the passkey policy is off by default")
	}
	return &policyWorld{pkEnv: e, a: orgs[0], b: orgs[1]}
}

// on is a new browser on host ("" = the bare domain, else an org's subdomain).
func (w *policyWorld) on(sub string) *pkClient {
	host := policyDomain
	if sub != "" {
		host = sub + "." + policyDomain
	}
	return &pkClient{e: w.pkEnv, host: host}
}

// carried is a browser on another host holding c's cookie and CSRF token
// (an attacker replaying them, or a cookie set for a parent domain).
func (c *pkClient) carried(w *policyWorld, sub string) *pkClient {
	o := w.on(sub)
	o.cookie, o.csrf = c.cookie, c.csrf
	return o
}

func (w *policyWorld) superuser(email string) *models.User {
	w.t.Helper()
	u, err := w.db.CreateUser(context.Background(), models.NewUser{Email: email, FullName: "Super", Password: "correct horse battery", Superuser: true})
	if err != nil {
		w.t.Fatal(err)
	}
	return u
}

// status of a GET, and where a redirect goes.
func (c *pkClient) status(path string) (int, string) {
	resp, _ := c.get(path)
	return resp.StatusCode, resp.Header.Get("Location")
}

// sessionRow is what the sessions table holds for the client's cookie.
func (w *policyWorld) sessionRow(c *pkClient) (method, host string, org int64) {
	w.t.Helper()
	var o *int64
	err := w.db.QueryRow(`SELECT auth_method, host, org_id FROM sessions WHERE id = ?`, models.HashToken(c.cookie)).Scan(&method, &host, &o)
	if err != nil {
		w.t.Fatalf("session of the cookie: %v", err)
	}
	if o != nil {
		org = *o
	}
	return
}

func (w *policyWorld) passkeys(u *models.User) int {
	n, err := w.db.CountPasskeys(context.Background(), u.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

// TestPasskeyPolicyAdministratorAcrossHosts is the reported bypass: an
// administrator of A whose password is refused on a.<domain> signed in with
// it on the bare domain or on b.<domain> and used that cookie on a.<domain>.
func TestPasskeyPolicyAdministratorAcrossHosts(t *testing.T) {
	w := newPolicyWorld(t)
	admin := w.user("admin@a.test", models.RoleAdmin) // of org A only

	// Before any passkey, a password session is made on every host; on each
	// it gets the passkeys page and nothing else.
	bare, onB, onA := w.on(""), w.on("b"), w.on("a")
	for name, c := range map[string]*pkClient{"bare domain": bare, "org B": onB, "org A": onA} {
		if resp, _ := c.passwordLogin(admin.Email); resp.StatusCode != 303 {
			t.Fatalf("%s: password sign-in without a passkey = %d", name, resp.StatusCode)
		}
		if code, to := c.status("/profile/self/"); code != 303 || to != "/passkeys/" {
			t.Fatalf("%s: profile in a password session of a covered account = %d → %q, want the passkeys page", name, code, to)
		}
	}
	for _, path := range []string{"/", "/user/", "/manage/org/edit/", "/region/"} {
		if code, to := onA.status(path); code != 303 || to != "/passkeys/" {
			t.Fatalf("org A: %s in a password session = %d → %q, want the passkeys page only", path, code, to)
		}
	}
	if resp, body := onA.get("/passkeys/"); resp.StatusCode != 200 || !strings.Contains(body, "Register one to continue") {
		t.Fatalf("org A: passkeys page = %d", resp.StatusCode)
	}
	if method, host, org := w.sessionRow(onA); method != models.AuthPassword || host != "a."+policyDomain || org != w.a.ID {
		t.Fatalf("org A session row: %s %s %d", method, host, org)
	}
	if method, host, org := w.sessionRow(bare); method != models.AuthPassword || host != policyDomain || org != 0 {
		t.Fatalf("bare domain session row: %s %s %d", method, host, org)
	}

	// The bare domain's and org B's password cookies carried to org A's host
	// are nobody there: the sign-in page, not org A's administration, and no
	// passkey of the attacker's own.
	bare.get("/passkeys/")
	onB.get("/passkeys/")
	for name, from := range map[string]*pkClient{"bare-domain": bare, "org B": onB} {
		stolen := from.carried(w, "a")
		for _, path := range []string{"/user/", "/passkeys/"} {
			if code, to := stolen.status(path); code != 303 || !strings.HasPrefix(to, "/users/login/") {
				t.Fatalf("%s cookie on org A: %s = %d → %q, want the sign-in page", name, path, code, to)
			}
		}
		if resp, _ := stolen.do("POST", "/passkeys/register/begin", "application/json", []byte("{}")); resp.StatusCode != 403 {
			t.Fatalf("%s cookie on org A: register begin = %d, want 403", name, resp.StatusCode)
		}
	}

	// The administrator registers a passkey on org A's host: that session
	// becomes a passkey session and reaches the administration.
	key := newSoftKey(t)
	if code, out := onA.register(key, uvFlags, ""); code != 200 {
		t.Fatalf("registration = %d %v", code, out)
	}
	if method, _, _ := w.sessionRow(onA); method != models.AuthPasskey {
		t.Fatalf("session after registering the first passkey: %s", method)
	}
	if code, _ := onA.status("/user/"); code != 200 {
		t.Fatalf("org A administration after registering = %d", code)
	}

	// Now the password is refused on every host…
	for _, sub := range []string{"", "b", "a"} {
		c := w.on(sub)
		resp, body := c.passwordLogin(admin.Email)
		if resp.StatusCode != 422 || formError(body) != "This account signs in with a passkey." {
			t.Fatalf("host %q: password sign-in with a passkey = %d %q", sub, resp.StatusCode, formError(body))
		}
	}
	// …the password sessions made before are signed out on their own host…
	for name, c := range map[string]*pkClient{"bare domain": bare, "org B": onB} {
		if code, to := c.status("/passkeys/"); code != 303 || !strings.HasPrefix(to, "/users/login/") {
			t.Fatalf("%s: old password session = %d → %q, want signed out", name, code, to)
		}
		if c.cookie != "" {
			t.Fatalf("%s: the cookie of the ended session was not cleared", name)
		}
	}
	if n := w.passkeys(admin); n != 1 {
		t.Fatalf("passkeys of the administrator = %d, want 1", n)
	}

	// The passkey signs the administrator in on every host (one relying
	// party, the domain); each session is bound to its host.
	for _, sub := range []string{"", "b", "a"} {
		c := w.on(sub)
		if code, out := c.login(key, uvFlags, "/passkeys/"); code != 200 {
			t.Fatalf("host %q: passkey sign-in = %d %v", sub, code, out)
		}
		if method, _, _ := w.sessionRow(c); method != models.AuthPasskey {
			t.Fatalf("host %q: session method %s", sub, method)
		}
		if sub == "a" {
			if code, _ := c.status("/user/"); code != 200 {
				t.Fatalf("org A administration with a passkey session = %d", code)
			}
		}
		if sub == "b" {
			if code, _ := c.status("/"); code != 403 {
				t.Fatalf("org B home for org A's administrator = %d, want 403", code)
			}
			if code, to := c.carried(w, "a").status("/user/"); code != 303 || !strings.HasPrefix(to, "/users/login/") {
				t.Fatalf("org B passkey session on org A = %d → %q, want the sign-in page", code, to)
			}
		}
	}
}

// TestPasskeyPolicySuperuser: a superuser is covered as soon as one org has
// the policy on, on the bare domain too, and no longer once none has.
func TestPasskeyPolicySuperuser(t *testing.T) {
	w := newPolicyWorld(t)
	su := w.superuser("root@example.org")

	bare := w.on("")
	if resp, _ := bare.passwordLogin(su.Email); resp.StatusCode != 303 {
		t.Fatalf("superuser password sign-in without a passkey = %d", resp.StatusCode)
	}
	for _, path := range []string{"/manage/org/", "/manage/system/", "/manage/org/update/" + strconv.FormatInt(w.a.ID, 10) + "/"} {
		if code, to := bare.status(path); code != 303 || to != "/passkeys/" {
			t.Fatalf("bare domain: %s in the superuser's password session = %d → %q, want the passkeys page", path, code, to)
		}
	}
	// The policy cannot be switched off from a password session.
	bare.get("/passkeys/")
	resp, _ := bare.postForm("/manage/org/update/"+strconv.FormatInt(w.a.ID, 10)+"/", url.Values{"name": {"Org a"}, "subdomain": {"a"}, "timezone": {"UTC"}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/passkeys/" {
		t.Fatalf("org update from a password session = %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if o, _ := w.db.OrgByID(context.Background(), w.a.ID); !o.AdminPasskeys {
		t.Fatal("a password session switched the policy off")
	}

	key := newSoftKey(t)
	if code, out := bare.register(key, uvFlags, ""); code != 200 {
		t.Fatalf("superuser registration = %d %v", code, out)
	}
	if code, _ := bare.status("/manage/org/"); code != 200 {
		t.Fatalf("site management after registering = %d", code)
	}
	for _, sub := range []string{"", "a", "b"} {
		if resp, body := w.on(sub).passwordLogin(su.Email); resp.StatusCode != 422 || formError(body) != "This account signs in with a passkey." {
			t.Fatalf("host %q: superuser password sign-in with a passkey = %d", sub, resp.StatusCode)
		}
	}
	onB := w.on("b")
	if code, _ := onB.login(key, uvFlags, "/"); code != 200 {
		t.Fatalf("superuser passkey sign-in on org B = %d", code)
	}
	if code, _ := onB.status("/manage/org/edit/"); code != 200 {
		t.Fatalf("org B administration for the superuser = %d", code)
	}

	// With the policy off everywhere the password works again: on every host.
	if _, err := w.db.Exec(`UPDATE orgs SET admin_passkeys = 0`); err != nil {
		t.Fatal(err)
	}
	c := w.on("")
	if resp, _ := c.passwordLogin(su.Email); resp.StatusCode != 303 {
		t.Fatalf("password sign-in with the policy off = %d", resp.StatusCode)
	}
	if code, _ := c.status("/manage/org/"); code != 200 {
		t.Fatalf("site management in a password session with the policy off = %d", code)
	}
	// One org switching it back on ends that password session.
	if _, err := w.db.Exec(`UPDATE orgs SET admin_passkeys = 1 WHERE id = ?`, w.b.ID); err != nil {
		t.Fatal(err)
	}
	if code, to := c.status("/manage/org/"); code != 303 || !strings.HasPrefix(to, "/users/login/") {
		t.Fatalf("password session once org B's policy is on = %d → %q", code, to)
	}
}

// TestPasskeyEnrolmentNeedsPasskeySession: adding a passkey to an account
// that has one takes a passkey session or a fresh enrolment link, whoever
// the policy covers.
func TestPasskeyEnrolmentNeedsPasskeySession(t *testing.T) {
	w := newPolicyWorld(t)
	sup := w.user("sup@a.test", models.RoleSupervisor) // not covered by the policy
	onA, late := w.on("a"), w.on("a")
	for _, c := range []*pkClient{onA, late} {
		if resp, _ := c.passwordLogin(sup.Email); resp.StatusCode != 303 {
			t.Fatalf("supervisor password sign-in = %d", resp.StatusCode)
		}
		c.get("/passkeys/")
	}
	// A ceremony begun while the account had no passkey…
	code, opts := late.postJSON("/passkeys/register/begin", nil)
	if code != 200 {
		t.Fatalf("register begin without a passkey = %d", code)
	}
	first := newSoftKey(t)
	if code, _ := onA.register(first, uvFlags, ""); code != 200 {
		t.Fatal("first registration failed")
	}
	// …cannot be finished by a password session once it has one.
	k := newSoftKey(t)
	k.origin = late.origin()
	if code, out := late.postJSON("/passkeys/register/finish", k.attest(t, opts, uvFlags)); code != 403 || out["error"] != "Sign in with one of your passkeys to add another." {
		t.Fatalf("finish in a password session once the account has a passkey = %d %v", code, out)
	}

	// A new password session works for the supervisor, but adds no passkey.
	pw := w.on("a")
	if resp, _ := pw.passwordLogin(sup.Email); resp.StatusCode != 303 {
		t.Fatalf("supervisor password sign-in = %d", resp.StatusCode)
	}
	if code, _ := pw.status("/"); code != 200 {
		t.Fatalf("supervisor home in a password session = %d", code)
	}
	pw.get("/passkeys/")
	if code, out := pw.postJSON("/passkeys/register/begin", nil); code != 403 || out["error"] != "Sign in with one of your passkeys to add another." {
		t.Fatalf("register begin in a password session with a passkey = %d %v", code, out)
	}
	if n := w.passkeys(sup); n != 1 {
		t.Fatalf("passkeys = %d, want 1", n)
	}

	// A passkey session adds one.
	onA.get("/passkeys/")
	if code, _ := onA.register(newSoftKey(t), uvFlags, ""); code != 200 {
		t.Fatal("registration in a passkey session failed")
	}
	if n := w.passkeys(sup); n != 2 {
		t.Fatalf("passkeys = %d, want 2", n)
	}

	// So does a fresh enrolment link from the CLI, in a browser with no session.
	token, err := w.db.CreateEnrolLink(context.Background(), sup.ID)
	if err != nil {
		t.Fatal(err)
	}
	link := w.on("b")
	if resp, _ := link.get("/passkeys/enrol/" + token); resp.StatusCode != 200 {
		t.Fatalf("enrol link = %d", resp.StatusCode)
	}
	if code, out := link.register(newSoftKey(t), uvFlags, "?enrol=1"); code != 200 || out["redirect"] != "/" {
		t.Fatalf("registration through the link = %d %v", code, out)
	}
	if method, host, _ := w.sessionRow(link); method != models.AuthEnrol || host != "b."+policyDomain {
		t.Fatalf("session after the enrolment link: %s on %s", method, host)
	}
	if n := w.passkeys(sup); n != 3 {
		t.Fatalf("passkeys = %d, want 3", n)
	}
}
