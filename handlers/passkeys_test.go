package handlers

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"tracpro/models"
)

// The passkey routes in the authorization matrix: management needs a sign-in
// (any role); the ceremonies and the enrolment link are public, and the
// handlers decide (403 JSON for registering while anonymous).
func init() {
	passkeyOf := func(f *matrixFixture, u *models.User, action string) string {
		k := &models.Passkey{UserID: u.ID, CredentialID: []byte(action + u.Email), PublicKey: []byte("k")}
		if err := f.DB.AddPasskey(f.Ctx, k); err != nil {
			panic(err)
		}
		return fmt.Sprintf("/passkeys/%d/%s", k.ID, action)
	}
	addMatrix(map[string]Access{
		"GET /passkeys/": {Anon: 303, SupA: 200, SupB: 200, Admin: 200, OtherAdmin: 200, Super: 200},
		// Supervisor A's passkey: an empty name is 422 for A, 404 for everyone else.
		"POST /passkeys/:id/rename": {Setup: func(f *matrixFixture) string { return passkeyOf(f, f.SupA, "rename") },
			Form: url.Values{"name": {""}}, Anon: 303, SupA: 422, SupB: 404, Admin: 404, OtherAdmin: 404, Super: 404},
		"POST /passkeys/:id/delete": {Setup: func(f *matrixFixture) string { return passkeyOf(f, f.SupA, "delete") },
			Anon: 303, SupA: 303, SupB: 404, Admin: 404, OtherAdmin: 404, Super: 404},
		// The first visit consumes the link; every later one is refused.
		"GET /passkeys/enrol/:token": {Setup: func(f *matrixFixture) string {
			tok, err := f.DB.CreateEnrolLink(f.Ctx, f.SupB.ID)
			if err != nil {
				panic(err)
			}
			return "/passkeys/enrol/" + tok
		}, Anon: 200, SupA: 410, SupB: 410, Admin: 410, OtherAdmin: 410, Super: 410},
		// Supervisor A already has a passkey: adding another needs a passkey
		// session, and the matrix's sessions are password sessions.
		"POST /passkeys/register/begin": {Setup: func(f *matrixFixture) string {
			passkeyOf(f, f.SupA, "register")
			return "/passkeys/register/begin"
		}, Anon: 403, SupA: 403, SupB: 200, Admin: 200, OtherAdmin: 200, Super: 200},
		"POST /passkeys/register/finish": {Anon: 400, SupA: 400, SupB: 400, Admin: 400, OtherAdmin: 400, Super: 400},
		"POST /passkeys/login/begin":     {Anon: 200, SupA: 200, SupB: 200, Admin: 200, OtherAdmin: 200, Super: 200},
		"POST /passkeys/login/finish":    {Anon: 400, SupA: 400, SupB: 400, Admin: 400, OtherAdmin: 400, Super: 400},
	})
}

const uvFlags = pkFlagUP | pkFlagUV

// TestPasskeyRegisterAndSignIn walks an administrator from a password
// sign-in (sent to /passkeys/ by the policy) through registration, the
// refused password sign-in, and a passkey sign-in.
func TestPasskeyRegisterAndSignIn(t *testing.T) {
	e := newPKEnv(t)
	ctx := context.Background()
	admin := e.user("admin@example.org", models.RoleAdmin)
	c := e.client()
	if resp, _ := c.passwordLogin(admin.Email); resp.StatusCode != 303 {
		t.Fatalf("password sign-in without a passkey = %d", resp.StatusCode)
	}
	if resp, _ := c.get("/"); resp.StatusCode != 303 || resp.Header.Get("Location") != "/passkeys/" {
		t.Fatalf("home for an administrator without a passkey = %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := c.get("/passkeys/")
	if resp.StatusCode != 200 || !strings.Contains(body, `id="passkey-register"`) || !strings.Contains(body, "Register one to continue") {
		t.Fatalf("passkeys page = %d %.300s", resp.StatusCode, body)
	}

	// The options require user verification and a discoverable credential,
	// and carry the stable user handle.
	code, opts := c.postJSON("/passkeys/register/begin", nil)
	pk := opts["publicKey"].(map[string]any)
	sel := pk["authenticatorSelection"].(map[string]any)
	if code != 200 || sel["userVerification"] != "required" || sel["residentKey"] != "required" {
		t.Fatalf("register options = %d %v", code, opts)
	}
	if pk["user"].(map[string]any)["id"] != b64u.EncodeToString(admin.Handle) || pk["rp"].(map[string]any)["id"] != pkRPID {
		t.Fatalf("user/rp of the options: %v %v", pk["user"], pk["rp"])
	}
	key := newSoftKey(t)
	reg := key.attest(t, opts, uvFlags|pkFlagBE)
	if code, out := c.postJSON("/passkeys/register/finish", reg); code != 200 || out["redirect"] != "/passkeys/" {
		t.Fatalf("register finish = %d %v", code, out)
	}
	// Replaying the same finish is refused: the ceremony was used. (The
	// session became a passkey session, with a new CSRF token.)
	c.get("/passkeys/")
	if code, out := c.postJSON("/passkeys/register/finish", reg); code != 400 || out["error"] == nil {
		t.Fatalf("replayed register finish = %d %v", code, out)
	}
	keys, _ := e.db.ListPasskeys(ctx, admin.ID)
	if len(keys) != 1 || keys[0].Name != "iCloud Keychain" || !keys[0].BackupEligible || keys[0].BackupState ||
		string(keys[0].CredentialID) != string(key.id) || len(keys[0].Transports) != 2 {
		t.Fatalf("stored passkeys = %+v", keys)
	}
	if resp, body := c.get("/passkeys/"); resp.StatusCode != 200 || !strings.Contains(body, `value="iCloud Keychain"`) || !strings.Contains(body, "Never used") {
		t.Fatalf("list after registration = %d %.500s", resp.StatusCode, body)
	}
	if resp, _ := c.get("/"); resp.StatusCode != 200 {
		t.Fatalf("home with a passkey = %d", resp.StatusCode)
	}

	// Signed out, the password is refused now that a passkey exists.
	c.postForm("/users/logout/", nil)
	resp, body = c.passwordLogin(admin.Email)
	if resp.StatusCode != 422 || !strings.Contains(body, "This account signs in with a passkey.") {
		t.Fatalf("administrator's password sign-in = %d", resp.StatusCode)
	}

	// Passkey sign-in: backup state now set, counter stored, safe next honoured.
	if code, out := c.login(key, uvFlags|pkFlagBE|pkFlagBS, "/passkeys/?x=1"); code != 200 || out["redirect"] != "/passkeys/?x=1" {
		t.Fatalf("passkey sign-in = %d %v", code, out)
	}
	k, _ := e.db.UserPasskey(ctx, admin.ID, keys[0].ID)
	if !k.BackupState || k.SignCount != 1 || k.LastUsedAt == 0 {
		t.Fatalf("after sign-in: %+v", k)
	}
	if resp, body := c.get("/"); resp.StatusCode != 200 || !strings.Contains(body, `id="home"`) {
		t.Fatalf("home after passkey sign-in = %d", resp.StatusCode)
	}
	// An unsafe next falls back to home.
	c2 := e.client()
	if code, out := c2.login(key, uvFlags|pkFlagBE, "//evil.example/"); code != 200 || out["redirect"] != "/" {
		t.Fatalf("sign-in with an unsafe next = %d %v", code, out)
	}
}

// TestPasskeyUserVerificationRequired refuses registration and sign-in
// without the UV flag.
func TestPasskeyUserVerificationRequired(t *testing.T) {
	e := newPKEnv(t)
	u := e.user("sup@example.org", models.RoleSupervisor)
	c := e.client()
	c.passwordLogin(u.Email)
	c.get("/passkeys/")
	if code, out := c.register(newSoftKey(t), pkFlagUP, ""); code != 400 || out["error"] == nil {
		t.Fatalf("registration without UV = %d %v", code, out)
	}
	if n, _ := e.db.CountPasskeys(context.Background(), u.ID); n != 0 {
		t.Fatalf("passkey stored without UV: %d", n)
	}
	key := newSoftKey(t)
	if code, _ := c.register(key, uvFlags, ""); code != 200 {
		t.Fatalf("registration with UV = %d", code)
	}
	anon := e.client()
	if code, out := anon.login(key, pkFlagUP, "/"); code != 401 || out["error"] != "This passkey could not sign you in." {
		t.Fatalf("sign-in without UV = %d %v", code, out)
	}
	if code, _ := anon.login(key, uvFlags, "/"); code != 200 {
		t.Fatalf("sign-in with UV = %d", code)
	}
}

// TestPasskeySignCounterRegression refuses an assertion whose counter went
// backwards, and logs a warning without secrets.
func TestPasskeySignCounterRegression(t *testing.T) {
	e := newPKEnv(t)
	u := e.user("sup@example.org", models.RoleSupervisor)
	c := e.client()
	c.passwordLogin(u.Email)
	c.get("/passkeys/")
	key := newSoftKey(t)
	if code, _ := c.register(key, uvFlags, ""); code != 200 {
		t.Fatal("registration failed")
	}
	key.count = 9
	if code, _ := e.client().login(key, uvFlags, "/"); code != 200 { // counter 10
		t.Fatal("sign-in failed")
	}
	key.count = 4 // a clone replays an older counter (5)
	anon := e.client()
	code, out := anon.login(key, uvFlags, "/")
	if code != 401 || out["error"] == nil {
		t.Fatalf("regressed counter = %d %v", code, out)
	}
	if resp, _ := anon.get("/passkeys/"); resp.StatusCode != 303 {
		t.Fatalf("signed in despite the regressed counter: %d", resp.StatusCode)
	}
	logs := e.log.String()
	if !strings.Contains(logs, "sign counter went backwards") || !strings.Contains(logs, fmt.Sprintf("user_id=%d", u.ID)) {
		t.Fatalf("no warning logged: %s", logs)
	}
	if strings.Contains(logs, b64u.EncodeToString(key.id)) || strings.Contains(logs, "challenge") {
		t.Fatalf("log leaks ceremony data: %s", logs)
	}
	k, _ := e.db.ListPasskeys(context.Background(), u.ID)
	if k[0].SignCount != 10 {
		t.Fatalf("stored counter = %d, want 10", k[0].SignCount)
	}
}

// TestPasskeyCeremonyExpiryAndThrottle refuses an expired ceremony, a finish
// without a begin, and throttles repeated failures per address.
func TestPasskeyCeremonyExpiryAndThrottle(t *testing.T) {
	e := newPKEnv(t)
	u := e.user("sup@example.org", models.RoleSupervisor)
	c := e.client()
	c.passwordLogin(u.Email)
	c.get("/passkeys/")
	key := newSoftKey(t)
	c.register(key, uvFlags, "")

	anon := e.client()
	anon.get("/users/login/")
	_, opts := anon.postJSON("/passkeys/login/begin", nil)
	e.db.Exec(`UPDATE webauthn_ceremonies SET expires_at = ?`, models.NowMs()-1)
	if code, out := anon.postJSON("/passkeys/login/finish", key.assert(t, opts, uvFlags)); code != 400 || out["error"] != "The passkey request expired. Try again." {
		t.Fatalf("expired ceremony = %d %v", code, out)
	}
	// Finish without a begin (nothing to consume).
	if code, _ := anon.postJSON("/passkeys/login/finish", key.assert(t, opts, uvFlags)); code != 400 {
		t.Fatalf("finish without begin = %d", code)
	}
	// Failures add up per address until sign-in waits.
	var code int
	var out map[string]any
	for range 5 {
		code, out = anon.login(key, pkFlagUP, "/")
		if code == 429 {
			break
		}
	}
	if code != 429 || !strings.HasPrefix(out["error"].(string), "Too many attempts.") {
		t.Fatalf("after repeated failures = %d %v", code, out)
	}
}

// TestPasskeyManagement: rename, delete (ending other sessions), the last
// passkey under the policy, and other users' passkeys.
func TestPasskeyManagement(t *testing.T) {
	e := newPKEnv(t)
	ctx := context.Background()
	admin := e.user("admin@example.org", models.RoleAdmin)
	c := e.client()
	c.passwordLogin(admin.Email)
	c.get("/passkeys/")
	k1, k2 := newSoftKey(t), newSoftKey(t)
	if code, _ := c.register(k1, uvFlags, ""); code != 200 {
		t.Fatal("registration failed")
	}
	c.get("/passkeys/")
	keys, _ := e.db.ListPasskeys(ctx, admin.ID)
	id1 := keys[0].ID
	path := func(id int64, action string) string { return fmt.Sprintf("/passkeys/%d/%s", id, action) }

	// Rename.
	if resp, _ := c.postForm(path(id1, "rename"), url.Values{"name": {"Work laptop"}}); resp.StatusCode != 303 {
		t.Fatalf("rename = %d", resp.StatusCode)
	}
	if _, body := c.get("/passkeys/"); !strings.Contains(body, `value="Work laptop"`) || !strings.Contains(body, "The passkey was renamed.") {
		t.Fatalf("renamed passkey not listed: %.600s", body)
	}
	if resp, body := c.postForm(path(id1, "rename"), url.Values{"name": {"  "}}); resp.StatusCode != 422 || !strings.Contains(body, "Give the passkey a name.") {
		t.Fatalf("empty name = %d", resp.StatusCode)
	}

	// The last passkey stays while the policy covers the account.
	resp, body := c.postForm(path(id1, "delete"), nil)
	if resp.StatusCode != 422 || !strings.Contains(body, "You cannot delete your last passkey") {
		t.Fatalf("deleting the last passkey under the policy = %d", resp.StatusCode)
	}

	// Another user cannot touch it.
	other := e.user("other@example.org", models.RoleSupervisor)
	o := e.client()
	o.passwordLogin(other.Email)
	o.get("/passkeys/")
	if resp, _ := o.postForm(path(id1, "rename"), url.Values{"name": {"Mine"}}); resp.StatusCode != 404 {
		t.Fatalf("renaming another user's passkey = %d", resp.StatusCode)
	}
	if resp, _ := o.postForm(path(id1, "delete"), nil); resp.StatusCode != 404 {
		t.Fatalf("deleting another user's passkey = %d", resp.StatusCode)
	}
	if k, _ := e.db.UserPasskey(ctx, admin.ID, id1); k == nil || k.Name != "Work laptop" {
		t.Fatalf("another user changed the passkey: %+v", k)
	}

	// With two passkeys, deleting one ends the other sessions; this browser stays signed in.
	if code, _ := c.register(k2, uvFlags, ""); code != 200 {
		t.Fatal("second registration failed")
	}
	phone := e.client()
	if code, _ := phone.login(k2, uvFlags, "/"); code != 200 {
		t.Fatal("second browser sign-in failed")
	}
	c.get("/passkeys/")
	if resp, _ := c.postForm(path(id1, "delete"), nil); resp.StatusCode != 303 {
		t.Fatalf("delete = %d", resp.StatusCode)
	}
	if resp, body := c.get("/passkeys/"); resp.StatusCode != 200 || !strings.Contains(body, "You were signed out everywhere else.") {
		t.Fatalf("deleting browser after deletion = %d", resp.StatusCode)
	}
	if resp, _ := phone.get("/passkeys/"); resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/users/login/") {
		t.Fatalf("other session after deletion = %d", resp.StatusCode)
	}
	if resp, _ := o.get("/passkeys/"); resp.StatusCode != 200 {
		t.Fatalf("another user's session ended: %d", resp.StatusCode)
	}

	// Policy off: the last passkey may go.
	keys, _ = e.db.ListPasskeys(ctx, admin.ID)
	if _, err := e.db.Exec(`UPDATE orgs SET admin_passkeys = 0 WHERE id = ?`, e.org.ID); err != nil {
		t.Fatal(err)
	}
	c.get("/passkeys/")
	if resp, _ := c.postForm(path(keys[0].ID, "delete"), nil); resp.StatusCode != 303 {
		t.Fatalf("deleting the last passkey without the policy = %d", resp.StatusCode)
	}
	if n, _ := e.db.CountPasskeys(ctx, admin.ID); n != 0 {
		t.Fatalf("passkeys left: %d", n)
	}
}

// TestPasskeyEnrolLink: a single-use, expiring link admits a user to register
// a passkey and signs them in.
func TestPasskeyEnrolLink(t *testing.T) {
	e := newPKEnv(t)
	ctx := context.Background()
	u := e.user("new@example.org", models.RoleAdmin)
	token, err := e.db.CreateEnrolLink(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	c := e.client()
	resp, body := c.get("/passkeys/enrol/" + token)
	if resp.StatusCode != 200 || !strings.Contains(body, `data-enrol="1"`) || !strings.Contains(body, "Welcome, new.") {
		t.Fatalf("enrol page = %d %.300s", resp.StatusCode, body)
	}
	// Second use, from any browser, is refused.
	if resp, body := e.client().get("/passkeys/enrol/" + token); resp.StatusCode != 410 || !strings.Contains(body, "used already or has expired") {
		t.Fatalf("second use of the link = %d", resp.StatusCode)
	}
	// Without ?enrol=1 an anonymous visitor cannot register.
	if code, _ := c.postJSON("/passkeys/register/begin", nil); code != 403 {
		t.Fatalf("anonymous register begin = %d", code)
	}
	key := newSoftKey(t)
	code, out := c.register(key, uvFlags, "?enrol=1")
	if code != 200 || out["redirect"] != "/" {
		t.Fatalf("enrol registration = %d %v", code, out)
	}
	if n, _ := e.db.CountPasskeys(ctx, u.ID); n != 1 {
		t.Fatalf("passkeys after enrolment = %d", n)
	}
	if resp, body := c.get("/"); resp.StatusCode != 200 || !strings.Contains(body, `id="home"`) {
		t.Fatalf("home after enrolment = %d", resp.StatusCode)
	}
	// The admission is spent: the signed-in session holds no EnrolUser.
	fresh := e.client()
	fresh.get("/users/login/")
	if code, _ := fresh.postJSON("/passkeys/register/begin?enrol=1", nil); code != 403 {
		t.Fatalf("register begin with no admission = %d", code)
	}

	// An expired link is refused.
	token2, _ := e.db.CreateEnrolLink(ctx, u.ID)
	if _, err := e.db.Exec(`UPDATE enrol_links SET expires_at = ? WHERE used_at IS NULL`, models.NowMs()-1); err != nil {
		t.Fatal(err)
	}
	if resp, _ := e.client().get("/passkeys/enrol/" + token2); resp.StatusCode != 410 {
		t.Fatalf("expired link = %d", resp.StatusCode)
	}
	if resp, _ := e.client().get("/passkeys/enrol/not-a-token"); resp.StatusCode != 410 {
		t.Fatalf("unknown link = %d", resp.StatusCode)
	}
}

// TestPasskeyPageOnAnIPAddress: opened on an IP address, where browsers
// refuse passkeys, the page says why and how to fix it (the same page on
// localhost for the machine's own address) instead of a register button.
func TestPasskeyPageOnAnIPAddress(t *testing.T) {
	e := newPKEnv(t)
	u := e.user("sup@example.org", models.RoleSupervisor)
	for host, want := range map[string]string{
		"127.0.0.1:8080": `<a href="http://localhost:8080/passkeys/">Open this page on localhost</a>`,
		"192.0.2.10":     "Open TracPro at its domain name to register one.",
	} {
		c := &pkClient{e: e, host: host}
		if resp, _ := c.passwordLogin(u.Email); resp.StatusCode != 303 {
			t.Fatalf("%s: sign-in = %d", host, resp.StatusCode)
		}
		_, body := c.get("/passkeys/")
		ip, _, _ := strings.Cut(host, ":")
		if !strings.Contains(body, "Passkeys do not work on an IP address such as "+ip+": browsers allow them only on a domain name.") ||
			!strings.Contains(body, want) || strings.Contains(body, `id="passkey-register"`) {
			t.Fatalf("%s: passkeys page: %.2000s", host, body)
		}
	}
	c := e.client()
	c.passwordLogin(u.Email)
	if _, body := c.get("/passkeys/"); strings.Contains(body, "IP address") || !strings.Contains(body, `id="passkey-register"`) {
		t.Fatal("the IP explanation on a domain name")
	}
}
