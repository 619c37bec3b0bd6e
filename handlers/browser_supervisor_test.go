package handlers

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"tracpro/models"
)

// fromMenu opens the menu, follows its link to href and waits for sel.
func (b *browser) fromMenu(href, sel string) {
	b.t.Helper()
	link := `.menu a[href="` + href + `"]`
	b.run("menu "+href, chromedp.Click(chromedp.CSS("details.menu summary")), chromedp.WaitVisible(chromedp.CSS(link)),
		chromedp.Click(chromedp.CSS(link)), chromedp.WaitVisible(chromedp.CSS(sel)))
}

// waitJS waits until the JavaScript expression cond is true.
func (b *browser) waitJS(cond string) {
	b.t.Helper()
	b.eval(`new Promise(done => { const f = () => { if (` + cond + `) done("ok"); else setTimeout(f, 50) }; f() })`)
}

// TestBrowserSupervisorWalk is issue #5's phone walk, in one sequence, in
// Debian's chromium on a 360×640 screen over a simulator-synced org: a
// supervisor
//  1. opens the contact list from the menu and a contact, goes through its
//     tabs (the current one marked, the URL following), edits its name and a
//     data field, sees the push pending and — once the outbox is delivered —
//     sent, with RapidPro (the simulator) holding the new values;
//  2. from a poll run's Participation tab writes to the non-respondents,
//     sees how many contacts it reaches, sends it (pending, one broadcast per
//     100 contacts queued);
//  3. opens the inbox and a conversation and replies: the reply shows at
//     once, pending;
//  4. opens participation across polls from the menu.
//
// Every page is checked for sideways scrolling and 44 px touch targets.
// Screenshots go to screenshots/issue5-*.png. Mandatory when TRACPRO_E2E=1.
func TestBrowserSupervisorWalk(t *testing.T) {
	w := newContactWorld(t)
	b := newBrowser(t, w.App)
	sup := w.createUser(w.org, "phone-sup@example.org", models.RoleSupervisor, testPassword, w.panelA)
	var id int64
	var urn string
	if err := w.DB.QueryRow(`SELECT id, urn FROM contacts WHERE region_id = ? AND is_active = 1 AND urn LIKE 'tel:%' ORDER BY lower(name) LIMIT 1`, w.panelA).Scan(&id, &urn); err != nil {
		t.Fatal(err)
	}
	sid := strconv.FormatInt(id, 10)
	run := w.busiestRun()
	nonResp := w.count(`SELECT count(DISTINCT c.id) FROM responses r JOIN contacts c ON c.id = r.contact_id
		WHERE r.pollrun_id = ? AND r.is_active = 1 AND c.is_active = 1 AND c.region_id = ?
		AND NOT EXISTS (SELECT 1 FROM responses d WHERE d.pollrun_id = r.pollrun_id AND d.contact_id = c.id AND d.is_active = 1 AND d.status = 'C')`, run, w.panelA)
	if nonResp == 0 {
		t.Fatal("no non-respondents in panel A")
	}
	step, eval, shot := b.run, b.eval, b.shot
	b.phone()
	b.signIn(sup.Email, testPassword)

	// 1. Contacts: the list from the menu, a contact, its tabs, the edit.
	b.fromMenu("/contact/", "#contact-list table")
	b.usableOnPhone("the contact list")
	shot("issue5-01-contacts.png")
	if strings.Contains(eval(`document.querySelector("#contact-list").textContent`), w.nameB) {
		t.Fatalf("the list shows contacts of %s", w.nameB)
	}
	step("open contact", chromedp.Click(chromedp.CSS(`#contact-list tbody a`)), chromedp.WaitVisible(chromedp.CSS("#contact-page #contact-tab")))
	b.usableOnPhone("the contact page")
	shot("issue5-02-contact.png")
	for _, tab := range []struct{ name, href, panel string }{
		{"Responses", "/response/by_contact/" + sid + "/", "#contact-responses"},
		{"Messages", "/message/by_contact/" + sid + "/", "#contact-messages"},
		{"Summary", "/contact/read/" + sid + "/", "#contact-tab"},
	} {
		step(tab.name+" tab", chromedp.Click(chromedp.CSS(`#contact-page nav.tabs a[href="`+tab.href+`"]`)), chromedp.WaitVisible(chromedp.CSS("#contact-page "+tab.panel)))
		if cur := eval(`document.querySelector('#contact-page nav.tabs a[aria-current="page"]').textContent`); cur != tab.name {
			t.Fatalf("the current tab is %q after choosing %s", cur, tab.name)
		}
		if loc := eval(`location.pathname`); loc != tab.href {
			t.Fatalf("after choosing %s the address is %s", tab.name, loc)
		}
		if tab.name == "Messages" {
			b.usableOnPhone("the contact's messages")
			shot("issue5-03-contact-messages.png")
		}
	}
	step("edit", chromedp.Click(chromedp.CSS(`#contact-page .actions a[href^="/contact/update/"]`)), chromedp.WaitVisible(chromedp.CSS("#contact-form")))
	b.usableOnPhone("the contact form")
	step("change", chromedp.SetValue(chromedp.CSS("#name"), "Edited On A Phone"), chromedp.SetValue(chromedp.CSS("#field-gender"), "female"))
	shot("issue5-04-contact-form.png")
	step("save", chromedp.Click(chromedp.CSS("#contact-form button.primary")), chromedp.WaitVisible(chromedp.CSS(`#pushes li[data-state="pending"]`)))
	if h1 := eval(`document.querySelector("#contact-page h1").textContent`); h1 != "Edited On A Phone" {
		t.Fatalf("after saving the page shows %q", h1)
	}
	b.usableOnPhone("the contact page after the edit")
	eval(`document.querySelector("#pushes").scrollIntoView(); ""`)
	shot("issue5-05-contact-pending.png")
	w.deliver()
	step("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`#pushes li[data-state="sent"]`)))
	if n := eval(`String(document.querySelectorAll('#pushes li[data-state="pending"]').length)`); n != "0" {
		t.Fatalf("%s pushes still pending after delivery", n)
	}
	eval(`document.querySelector("#pushes").scrollIntoView(); ""`)
	shot("issue5-06-contact-sent.png")
	if c := w.simContact(urn); c == nil || c.Name != "Edited On A Phone" || c.Fields["gender"] != "female" {
		t.Fatalf("RapidPro has %+v", c)
	}

	// 2. A message to the non-respondents of a poll run, from its Participation tab.
	step("participation tab", chromedp.Navigate(fmt.Sprintf("%s/pollrun/participation/%d/", b.base, run)), chromedp.WaitVisible(chromedp.CSS("#message-compose summary")))
	step("open the form", chromedp.Click(chromedp.CSS("#message-compose summary")), chromedp.WaitVisible(chromedp.CSS("#msg-text")))
	if label := eval(`document.querySelector('input[name=recipients][value=N]').parentElement.textContent`); !strings.Contains(label, "("+strconv.Itoa(nonResp)+")") {
		t.Fatalf("non-respondents choice reads %q, want the count %d", label, nonResp)
	}
	b.usableOnPhone("the send message form")
	step("write", chromedp.Click(chromedp.CSS(`input[name=recipients][value=N]`)),
		chromedp.SendKeys(chromedp.CSS("#msg-text"), "Please answer this week's questions."))
	shot("issue5-07-message-compose.png")
	step("review", chromedp.Click(chromedp.CSS("#message-review")), chromedp.WaitVisible(chromedp.CSS("#message-count")))
	if got := eval(`document.querySelector("#message-count").textContent`); !strings.HasPrefix(got, fmt.Sprintf("It goes to %d contact", nonResp)) || strings.Contains(got, "%!") {
		t.Fatalf("the confirmation says %q, want %d contacts", got, nonResp)
	}
	if loc := eval(`location.pathname`); loc != fmt.Sprintf("/pollrun/participation/%d/", run) {
		t.Fatalf("the confirmation replaced the page: %s", loc)
	}
	b.usableOnPhone("the confirmation")
	shot("issue5-08-message-confirm.png")
	step("send", chromedp.Click(chromedp.CSS("#message-send")), chromedp.WaitVisible(chromedp.CSS("#pollrun-messages")))
	if got := eval(`document.querySelector("#pollrun-messages li").textContent`); !strings.Contains(got, "Pending") || !strings.Contains(got, "("+strconv.Itoa(nonResp)+")") {
		t.Fatalf("the sent message reads %q", got)
	}
	if n := w.count(`SELECT count(*) FROM outbox WHERE kind = 'broadcast' AND state = 'pending'`); n != (nonResp+99)/100 {
		t.Fatalf("%d broadcasts queued for %d contacts", n, nonResp)
	}
	b.usableOnPhone("the participation tab after sending")
	shot("issue5-09-message-sent.png")

	// 3. The inbox, a conversation, a reply that shows at once as pending.
	b.fromMenu("/inboxmessage/", "#inbox .inbox a")
	b.usableOnPhone("the inbox")
	shot("issue5-10-inbox.png")
	step("conversation", chromedp.Click(chromedp.CSS("#inbox .inbox a")), chromedp.WaitVisible(chromedp.CSS("#reply-text")))
	b.usableOnPhone("the conversation")
	step("reply", chromedp.SendKeys(chromedp.CSS("#reply-text"), "Thank you, we are on it."), chromedp.Click(chromedp.CSS("#reply-send")))
	// Until the swapped conversation holds the reply on top (it waits for the swap, not the old list).
	b.waitJS(`(document.querySelector("#conversation li.msg") || {textContent: ""}).textContent.startsWith("Thank you, we are on it.")`)
	if got := eval(`document.querySelector("#conversation li.msg").textContent`); !strings.Contains(got, "Pending") {
		t.Fatalf("the newest message reads %q", got)
	}
	if got := eval(`document.querySelector("#reply-text").value`); got != "" {
		t.Fatalf("the reply box still holds %q", got)
	}
	b.usableOnPhone("the conversation after replying")
	shot("issue5-11-reply.png")
	if n := w.count(`SELECT count(*) FROM messages WHERE cohort = 'C' AND text = 'Thank you, we are on it.' AND status = 'P'`); n != 1 {
		t.Fatalf("%d pending replies stored", n)
	}

	// 4. Participation across polls, from the menu: the grid scrolls inside its box, never the page.
	b.fromMenu("/participation/", "#participation-all table.grid")
	if n := eval(`String(document.querySelectorAll("#participation-all tbody tr").length)`); n == "0" {
		t.Fatal("the participation grid is empty")
	}
	b.usableOnPhone("participation across polls")
	shot("issue5-12-participation.png")
}
