package handlers

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"tracpro/models"
)

// TestBrowserMessagesWalk is issue #5's phone walk in Debian's chromium on a
// 360×640 screen over a simulator-synced org: a supervisor opens a poll run's
// Participation tab, writes a message to the non-respondents, sees how many
// contacts it reaches, sends it (it shows pending), then opens the inbox and
// a conversation and replies — the reply appears at once, pending — and
// opens participation across polls from the menu.
// Screenshots go to screenshots/messages-*.png. Mandatory when TRACPRO_E2E=1.
func TestBrowserMessagesWalk(t *testing.T) {
	w := newStartWorld(t)
	b := newBrowser(t, w.App)
	sup := w.createUser(w.org, "phone-msg@example.org", models.RoleSupervisor, testPassword, w.panelA)
	run := w.busiestRun()
	nonResp := w.count(`SELECT count(DISTINCT c.id) FROM responses r JOIN contacts c ON c.id = r.contact_id
		WHERE r.pollrun_id = ? AND r.is_active = 1 AND c.is_active = 1 AND c.region_id = ?
		AND NOT EXISTS (SELECT 1 FROM responses d WHERE d.pollrun_id = r.pollrun_id AND d.contact_id = c.id AND d.is_active = 1 AND d.status = 'C')`, run, w.panelA)
	if nonResp == 0 {
		t.Fatal("no non-respondents in panel A")
	}
	base, step, eval, shot := b.base, b.run, b.eval, b.shot

	b.phone()
	step("sign in", chromedp.Navigate(base+"/users/login/"), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), sup.Email), chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS(`#login form button.primary`)), chromedp.WaitVisible(chromedp.CSS("#home-page")))

	// The Participation tab: "Send message…" with the counts per choice.
	step("participation tab", chromedp.Navigate(fmt.Sprintf("%s/pollrun/participation/%d/", base, run)), chromedp.WaitVisible(chromedp.CSS("#message-compose summary")))
	step("open the form", chromedp.Click(chromedp.CSS("#message-compose summary")), chromedp.WaitVisible(chromedp.CSS("#msg-text")))
	if label := eval(`document.querySelector('input[name=recipients][value=N]').parentElement.textContent`); !strings.Contains(label, "("+strconv.Itoa(nonResp)+")") {
		t.Fatalf("non-respondents choice reads %q, want the count %d", label, nonResp)
	}
	b.usableOnPhone("the send message form")
	step("write", chromedp.Click(chromedp.CSS(`input[name=recipients][value=N]`)),
		chromedp.SendKeys(chromedp.CSS("#msg-text"), "Please answer this week's questions."))
	shot("messages-compose.png")
	step("review", chromedp.Click(chromedp.CSS("#message-review")), chromedp.WaitVisible(chromedp.CSS("#message-count")))
	if got := eval(`document.querySelector("#message-count").textContent`); !strings.HasPrefix(got, fmt.Sprintf("It goes to %d contact", nonResp)) || strings.Contains(got, "%!") {
		t.Fatalf("the confirmation says %q, want %d contacts", got, nonResp)
	}
	if loc := eval(`location.pathname`); loc != fmt.Sprintf("/pollrun/participation/%d/", run) {
		t.Fatalf("the confirmation replaced the page: %s", loc)
	}
	b.usableOnPhone("the confirmation")
	shot("messages-confirm.png")
	step("send", chromedp.Click(chromedp.CSS("#message-send")), chromedp.WaitVisible(chromedp.CSS("#pollrun-messages")))
	if got := eval(`document.querySelector("#pollrun-messages li").textContent`); !strings.Contains(got, "Pending") || !strings.Contains(got, "("+strconv.Itoa(nonResp)+")") {
		t.Fatalf("the sent message reads %q", got)
	}
	if n := w.count(`SELECT count(*) FROM outbox WHERE kind = 'broadcast' AND state = 'pending'`); n != (nonResp+99)/100 {
		t.Fatalf("%d broadcasts queued for %d contacts", n, nonResp)
	}
	b.usableOnPhone("the participation tab after sending")
	shot("messages-sent.png")

	// The inbox, a conversation, a reply that shows at once as pending.
	step("inbox", chromedp.Navigate(base+"/inboxmessage/"), chromedp.WaitVisible(chromedp.CSS("#inbox .inbox a")))
	b.usableOnPhone("the inbox")
	shot("messages-inbox.png")
	step("conversation", chromedp.Click(chromedp.CSS("#inbox .inbox a")), chromedp.WaitVisible(chromedp.CSS("#reply-text")))
	b.usableOnPhone("the conversation")
	step("reply", chromedp.SendKeys(chromedp.CSS("#reply-text"), "Thank you, we are on it."), chromedp.Click(chromedp.CSS("#reply-send")))
	// Until the swapped conversation holds the reply on top (it waits for the swap, not the old list).
	eval(`new Promise(done => { const f = () => { const li = document.querySelector("#conversation li.msg");
		if (li && li.textContent.startsWith("Thank you, we are on it.")) done("ok"); else setTimeout(f, 50) }; f() })`)
	if got := eval(`document.querySelector("#conversation li.msg").textContent`); !strings.HasPrefix(got, "Thank you, we are on it.") || !strings.Contains(got, "Pending") {
		t.Fatalf("the newest message reads %q", got)
	}
	if got := eval(`document.querySelector("#reply-text").value`); got != "" {
		t.Fatalf("the reply box still holds %q", got)
	}
	b.usableOnPhone("the conversation after replying")
	shot("messages-reply.png")
	if n := w.count(`SELECT count(*) FROM messages WHERE cohort = 'C' AND text = 'Thank you, we are on it.' AND status = 'P'`); n != 1 {
		t.Fatalf("%d pending replies stored", n)
	}

	// Participation across polls, from the menu: the grid scrolls inside its box, never the page.
	step("participation", chromedp.Navigate(base+"/"), chromedp.Click(chromedp.CSS("details.menu summary")),
		chromedp.Click(chromedp.CSS(`.menu a[href="/participation/"]`)), chromedp.WaitVisible(chromedp.CSS("#participation-all table.grid")))
	if n := eval(`String(document.querySelectorAll("#participation-all tbody tr").length)`); n == "0" {
		t.Fatal("the participation grid is empty")
	}
	b.usableOnPhone("participation across polls")
	shot("messages-participation.png")
}
