package handlers

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"tracpro/models"
)

// TestBrowserContactEdit is issue #5's contact walk in Debian's chromium on a
// 360×640 screen: a supervisor signs in, opens the contact list and a
// contact, edits its name and a data field, sees the push to RapidPro
// pending, and — once the outbox is delivered — sent, with RapidPro (the
// simulator) holding the new values. Screenshots go to screenshots/contacts-*.png.
// Mandatory when TRACPRO_E2E=1.
func TestBrowserContactEdit(t *testing.T) {
	w := newContactWorld(t)
	b := newBrowser(t, w.App)
	sup := w.createUser(w.org, "contacts@example.org", models.RoleSupervisor, testPassword, w.panelA)
	var id int64
	var urn string
	if err := w.DB.QueryRow(`SELECT id, urn FROM contacts WHERE region_id = ? AND is_active = 1 AND urn LIKE 'tel:%' ORDER BY lower(name) LIMIT 1`, w.panelA).Scan(&id, &urn); err != nil {
		t.Fatal(err)
	}
	base, run, eval, shot := b.base, b.run, b.eval, b.shot

	b.phone()
	run("sign in", chromedp.Navigate(base+"/users/login/"), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), sup.Email), chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS(`#login form button.primary`)), chromedp.WaitVisible(chromedp.CSS("#home-page")))

	// The list, from the menu.
	run("menu", chromedp.Click(chromedp.CSS("details.menu summary")), chromedp.WaitVisible(chromedp.CSS(`.menu a[href="/contact/"]`)),
		chromedp.Click(chromedp.CSS(`.menu a[href="/contact/"]`)), chromedp.WaitVisible(chromedp.CSS("#contact-list table")))
	b.usableOnPhone("the contact list")
	shot("contacts-list.png")
	if strings.Contains(eval(`document.querySelector("#contact-list").textContent`), w.nameB) {
		t.Fatalf("the list shows contacts of %s", w.nameB)
	}

	// The first contact, then its form.
	run("open contact", chromedp.Click(chromedp.CSS(`#contact-list tbody a`)), chromedp.WaitVisible(chromedp.CSS("#contact-page")))
	b.usableOnPhone("the contact page")
	shot("contacts-read.png")
	run("responses tab", chromedp.Click(chromedp.CSS(`#contact-page nav.tabs a[href^="/response/by_contact/"]`)),
		chromedp.WaitVisible(chromedp.CSS("#contact-tab #contact-responses")))
	if cur := eval(`document.querySelector('#contact-page nav.tabs a[aria-current]').textContent`); cur != "Responses" {
		t.Fatalf("the current tab is %q after choosing Responses", cur)
	}
	shot("contacts-responses.png")
	run("summary tab", chromedp.Click(chromedp.CSS(`#contact-page nav.tabs a[href^="/contact/read/"]`)), chromedp.WaitVisible(chromedp.CSS("#contact-page .actions")))
	run("edit", chromedp.Click(chromedp.CSS(`#contact-page .actions a[href^="/contact/update/"]`)), chromedp.WaitVisible(chromedp.CSS("#contact-form")))
	b.usableOnPhone("the contact form")
	run("change", chromedp.SetValue(chromedp.CSS("#name"), "Edited On A Phone"), chromedp.SetValue(chromedp.CSS("#field-gender"), "female"))
	shot("contacts-form.png")
	run("save", chromedp.Click(chromedp.CSS("#contact-form button.primary")), chromedp.WaitVisible(chromedp.CSS(`#pushes li[data-state="pending"]`)))
	if h1 := eval(`document.querySelector("#contact-page h1").textContent`); h1 != "Edited On A Phone" {
		t.Fatalf("after saving the page shows %q", h1)
	}
	b.usableOnPhone("the contact page after the edit")
	eval(`document.querySelector("#pushes").scrollIntoView(); ""`)
	shot("contacts-pending.png")

	// The outbox delivers; the page shows the push sent.
	w.deliver()
	run("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`#pushes li[data-state="sent"]`)))
	if n := eval(`String(document.querySelectorAll('#pushes li[data-state="pending"]').length)`); n != "0" {
		t.Fatalf("%s pushes still pending after delivery", n)
	}
	eval(`document.querySelector("#pushes").scrollIntoView(); ""`)
	shot("contacts-sent.png")
	c := w.simContact(urn)
	if c == nil || c.Name != "Edited On A Phone" || c.Fields["gender"] != "female" {
		t.Fatalf("RapidPro has %+v", c)
	}
}
