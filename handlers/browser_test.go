package handlers

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"tracpro/models"
)

// TestBrowser drives the real app in Debian's chromium: a passkey registered
// and used through Chrome's virtual authenticator, the refused administrator
// password, a supervisor switching panels on a phone-sized screen, and the
// sign-in page in Persian (right to left). Screenshots go to screenshots/ at
// the repository root. Mandatory when TRACPRO_E2E=1.
func TestBrowser(t *testing.T) {
	e := newPKEnv(t)
	ctx := context.Background()
	admin := e.user("admin@example.org", models.RoleAdmin)
	sup := e.user("sup@example.org", models.RoleSupervisor)
	panels := browserPanels(t, e, "North", "South")
	if err := e.db.SetUserPanels(ctx, e.org.ID, sup.ID, []int64{panels["North"], panels["South"]}); err != nil {
		t.Fatal(err)
	}

	br := newBrowser(t, e.app)
	base, tab, run, eval, shot := br.base, br.tab, br.run, br.eval, br.shot
	location := func() string {
		loc, err := chromedp.Run(tab, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimPrefix(loc, base)
	}
	passwordSignIn := func(email string) {
		t.Helper()
		run("password sign-in "+email,
			chromedp.Navigate(base+"/users/login/"),
			chromedp.WaitVisible(chromedp.CSS("#password")),
			chromedp.SendKeys(chromedp.CSS("#email"), email),
			chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"),
			chromedp.Click(chromedp.CSS("#login form button.primary")),
		)
	}
	signOut := func() {
		t.Helper()
		run("sign out", chromedp.Submit(chromedp.CSS(`form[action="/users/logout/"]`)), chromedp.WaitVisible(chromedp.CSS("#login")))
	}

	// Until scenario 5 tests the autofill, pages see no conditional
	// mediation, so the button and the password form are used.
	br.virtualAuthenticator()
	noAutofill := br.noAutofill()

	// (1) An administrator without a passkey signs in with a password, is
	// sent to /passkeys/, registers one, signs out and signs in with it.
	passwordSignIn(admin.Email)
	run("sent to the passkeys page", chromedp.WaitVisible(chromedp.CSS("#passkey-register")))
	if loc := location(); loc != "/passkeys/" {
		t.Fatalf("administrator without a passkey landed on %s", loc)
	}
	run("register", chromedp.Click(chromedp.CSS("#passkey-register")), chromedp.WaitVisible(chromedp.CSS(`#passkeys input[name="name"]`)))
	if n, _ := e.db.CountPasskeys(ctx, admin.ID); n != 1 {
		t.Fatalf("passkeys after registering in the browser = %d", n)
	}
	shot("passkey-registered.png")
	signOut()
	run("passkey button", chromedp.WaitVisible(chromedp.CSS("#passkey-signin")), chromedp.Click(chromedp.CSS("#passkey-signin")),
		chromedp.WaitVisible(chromedp.CSS("#home")))
	if loc := location(); loc != "/" {
		t.Fatalf("after the passkey sign-in: %s", loc)
	}
	if k, _ := e.db.ListPasskeys(ctx, admin.ID); len(k) != 1 || k[0].LastUsedAt == 0 {
		t.Fatalf("passkey not recorded as used: %+v", k)
	}
	shot("passkey-signin.png")

	// (2) The same administrator is refused a password sign-in.
	signOut()
	passwordSignIn(admin.Email)
	run("password refused", chromedp.WaitVisible(chromedp.CSS("#login p.error")))
	if msg := eval(`document.querySelector("#login p.error").textContent`); msg != "This account signs in with a passkey." {
		t.Fatalf("refusal message = %q", msg)
	}
	shot("admin-password-refused.png")

	// (3) A supervisor on a 360×640 phone switches panels.
	br.phone()
	passwordSignIn(sup.Email)
	run("supervisor home", chromedp.WaitVisible(chromedp.CSS("#home")), chromedp.WaitVisible(chromedp.CSS("#panel-select")))
	if w := eval(`String(window.innerWidth)`); w != "360" {
		t.Fatalf("viewport width = %s", w)
	}
	before := eval(`document.querySelector("#panel-select").value`)
	other := fmt.Sprint(panels["North"])
	name := "North"
	if before == other {
		other, name = fmt.Sprint(panels["South"]), "South"
	}
	run("switch panel", chromedp.SetValue(chromedp.CSS("#panel-select"), other),
		chromedp.Click(chromedp.CSS(`form.panel[action="/set-region/"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".flash.success")))
	if after := eval(`document.querySelector("#panel-select").value`); after != other {
		t.Fatalf("selected panel = %s, want %s (was %s)", after, other, before)
	}
	if msg := eval(`document.querySelector(".flash.success").textContent`); msg != "Showing panel "+name+"." {
		t.Fatalf("flash = %q", msg)
	}
	br.usableOnPhone("the supervisor's home")
	shot("supervisor-phone-panels.png")

	// (4) The sign-in page in Persian is right to left.
	signOut()
	status := eval(`fetch("/i18n/setlang/", {method: "POST", body: new URLSearchParams({language: "fa", next: "/users/login/",
		_csrf: document.querySelector('input[name="_csrf"]').value})}).then(r => String(r.status))`)
	if status != "200" {
		t.Fatalf("set language = %s", status)
	}
	run("reload in Persian", chromedp.Navigate(base+"/users/login/"), chromedp.WaitVisible(chromedp.CSS("#login")))
	if dir, lang := eval(`document.documentElement.dir`), eval(`document.documentElement.lang`); dir != "rtl" || lang != "fa" {
		t.Fatalf("sign-in page in fa: dir=%q lang=%q", dir, lang)
	}
	shot("login-fa-rtl.png")

	// (5) With conditional mediation, the sign-in page signs the
	// administrator in from the autofill, without the button or a password.
	run("autofill", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.RemoveScriptToEvaluateOnNewDocument, page.RemoveScriptToEvaluateOnNewDocumentParams{Identifier: noAutofill})
		return err
	}), chromedp.Navigate(base+"/users/login/"), chromedp.WaitVisible(chromedp.CSS("#home")))
	if loc := location(); loc != "/" {
		t.Fatalf("after the autofill sign-in: %s", loc)
	}
}

// browserPanels makes top-level panels of the org and returns their ids.
func browserPanels(t *testing.T, e *pkEnv, names ...string) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	var groups []models.RapidProGroup
	for _, n := range names {
		groups = append(groups, models.RapidProGroup{UUID: "g-" + n, Name: n})
	}
	if _, _, err := e.db.SyncGroups(ctx, e.org.ID, groups); err != nil {
		t.Fatal(err)
	}
	gs, err := e.db.ResolveGroups(ctx, e.org.ID, names)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.TrackGroups(ctx, e.org.ID, "regions", gs); err != nil {
		t.Fatal(err)
	}
	regions, err := e.db.ListRegions(ctx, e.org.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	for _, r := range regions {
		ids[r.Name] = r.ID
	}
	return ids
}
