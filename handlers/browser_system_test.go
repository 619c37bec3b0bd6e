package handlers

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"tracpro/models"
)

// A superuser opens the System page on a phone: the warning that the
// database is not replicated is visible, nothing scrolls sideways, and the
// menu links to the page.
func TestBrowserSystemPageOnPhone(t *testing.T) {
	ctx := context.Background()
	db, err := models.OpenMigrated(ctx, filepath.Join(t.TempDir(), "sys.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	org, err := db.CreateOrg(ctx, models.NewOrg{Name: "Ministry", Subdomain: "min", RapidProURL: "http://127.0.0.1:1", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE orgs SET admin_passkeys = 0 WHERE id = ?`, org.ID); err != nil {
		t.Fatal(err)
	}
	su, err := db.CreateUser(ctx, models.NewUser{Email: "root@example.org", FullName: "Root", Password: testPassword, Superuser: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetMembership(ctx, org.ID, su.ID, models.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	app, err := New(&Handlers{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, app)
	b.phone()
	b.run("sign in", chromedp.Navigate(b.base+"/users/login/"), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), su.Email), chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS(`#login form button.primary`)), chromedp.WaitVisible(chromedp.CSS("#home-page")))
	if href := b.eval(`String([...document.querySelectorAll("nav a")].map(a => a.getAttribute("href")).includes("/manage/system/"))`); href != "true" {
		t.Fatal("the superuser's menu has no System link")
	}
	b.run("system page", chromedp.Navigate(b.base+"/manage/system/"), chromedp.WaitVisible(chromedp.CSS("#system")))
	if warn := b.eval(`document.querySelector("#system .banner.warn").innerText`); !strings.Contains(warn, "not replicated") {
		t.Fatalf("warning = %q", warn)
	}
	b.usableOnPhone("system page")
	b.shot("system-phone.png")

	// In Persian: right to left, the warning translated, still usable at 360 px.
	if _, err := db.ExecContext(ctx, `UPDATE users SET language = 'fa' WHERE id = ?`, su.ID); err != nil {
		t.Fatal(err)
	}
	b.run("system page in fa", chromedp.Navigate(b.base+"/manage/system/"), chromedp.WaitVisible(chromedp.CSS("#system")))
	if dir := b.eval(`document.documentElement.dir`); dir != "rtl" {
		t.Fatalf("Persian System page dir = %q", dir)
	}
	if warn := b.eval(`document.querySelector("#system .banner.warn").innerText`); warn == "" || strings.Contains(warn, "not replicated") {
		t.Fatalf("Persian warning = %q", warn)
	}
	b.usableOnPhone("Persian system page")
	b.shot("system-phone-fa.png")
}
