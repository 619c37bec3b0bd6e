package handlers

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"tracpro/models"
)

// TestBrowserPasskeyPolicyAcrossHosts drives the passkey policy in chromium
// with Chrome's virtual authenticator, across hosts: TRACPRO_DOMAIN is
// tracpro.test, so org A is a.tracpro.test, org B b.tracpro.test and the bare
// domain tracpro.test, all mapped to the loopback address and treated as
// secure origins (WebAuthn's RP ID, the domain, must be a registrable suffix
// of each host: "localhost" is not one of a.localhost). An
// administrator of A registers a passkey from a password session confined to
// the passkeys page; the password is then refused on the bare domain and on
// B; the passkey signs in on B; B's cookie, copied to A, is nobody there.
func TestBrowserPasskeyPolicyAcrossHosts(t *testing.T) {
	ctx := context.Background()
	db, err := models.OpenMigrated(ctx, filepath.Join(t.TempDir(), "policy.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var orgA *models.Org
	for _, sub := range []string{"a", "b"} {
		o, err := db.CreateOrg(ctx, models.NewOrg{Name: "Org " + sub, Subdomain: sub, RapidProURL: "http://127.0.0.1:1", Token: "t"})
		if err != nil {
			t.Fatal(err)
		}
		if sub == "a" {
			orgA = o
		}
	}
	admin, err := db.CreateUser(ctx, models.NewUser{Email: "admin@a.example", FullName: "Admin A", Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetMembership(ctx, orgA.ID, admin.ID, models.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	app, err := New(&Handlers{DB: db, Domain: policyDomain})
	if err != nil {
		t.Fatal(err)
	}
	var port string
	at := func(sub string) string {
		if sub == "" {
			return "http://" + policyDomain + port
		}
		return "http://" + sub + "." + policyDomain + port
	}
	b := newBrowserWith(t, app, func(p int) []chromedp.ExecAllocatorOption {
		port = fmt.Sprintf(":%d", p)
		return []chromedp.ExecAllocatorOption{
			chromedp.Flag("host-resolver-rules", "MAP "+policyDomain+" 127.0.0.1, MAP *."+policyDomain+" 127.0.0.1"),
			chromedp.Flag("unsafely-treat-insecure-origin-as-secure", at("")+","+at("a")+","+at("b")),
		}
	})
	path := func() string {
		loc, err := chromedp.Run(b.tab, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		return loc[strings.Index(loc[len("http://"):], "/")+len("http://"):]
	}
	passwordSignIn := func(sub string) {
		t.Helper()
		b.run("password sign-in on "+at(sub), chromedp.Navigate(at(sub)+"/users/login/"), chromedp.WaitVisible(chromedp.CSS("#password")),
			chromedp.SendKeys(chromedp.CSS("#email"), admin.Email), chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
			chromedp.Click(chromedp.CSS("#login form button.primary")))
	}
	b.virtualAuthenticator()
	b.noAutofill()

	// A password session on org A's host reaches the passkeys page only.
	passwordSignIn("a")
	b.run("sent to the passkeys page", chromedp.WaitVisible(chromedp.CSS("#passkey-register")))
	b.run("supervisors page", chromedp.Navigate(at("a")+"/user/"), chromedp.WaitVisible(chromedp.CSS("#passkey-register")))
	if p := path(); p != "/passkeys/" {
		t.Fatalf("the supervisors page in a password session landed on %s", p)
	}
	b.run("register", chromedp.Click(chromedp.CSS("#passkey-register")), chromedp.WaitVisible(chromedp.CSS(`#passkeys input[name="name"]`)))
	b.run("supervisors page with a passkey", chromedp.Navigate(at("a")+"/user/"), chromedp.WaitReady(chromedp.CSS("main")))
	if p := path(); p != "/user/" {
		t.Fatalf("after registering, the supervisors page landed on %s", p)
	}
	b.run("sign out", chromedp.Submit(chromedp.CSS(`form[action="/users/logout/"]`)), chromedp.WaitVisible(chromedp.CSS("#login")))

	// The password is refused on the bare domain and on org B.
	for _, sub := range []string{"", "b"} {
		passwordSignIn(sub)
		b.run("refused on "+at(sub), chromedp.WaitVisible(chromedp.CSS("#login p.error")))
		if msg := b.eval(`document.querySelector("#login p.error").textContent`); msg != "This account signs in with a passkey." {
			t.Fatalf("%s: refusal = %q", at(sub), msg)
		}
	}

	// The passkey signs in on org B (one relying party: the domain).
	b.run("passkey sign-in on org B", chromedp.Navigate(at("b")+"/users/login/?next=/passkeys/"),
		chromedp.WaitVisible(chromedp.CSS("#passkey-signin")), chromedp.Click(chromedp.CSS("#passkey-signin")),
		chromedp.WaitVisible(chromedp.CSS(`#passkeys input[name="name"]`)))

	// Org B's session cookie copied to org A's host is nobody there.
	b.run("carry the cookie", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		res, err := cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{at("b") + "/"}})
		if err != nil {
			return err
		}
		for _, ck := range res.Cookies {
			if ck.Name == sessionCookie {
				_, err = cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: ck.Name, Value: ck.Value, URL: at("a") + "/", Path: "/"})
				return err
			}
		}
		t.Fatal("no session cookie on org B's host")
		return nil
	}), chromedp.Navigate(at("a")+"/user/"), chromedp.WaitVisible(chromedp.CSS("#login")))
	if p := path(); !strings.HasPrefix(p, "/users/login/") {
		t.Fatalf("org B's cookie on org A: %s", p)
	}
	b.shot("policy-cookie-carried.png")
}
