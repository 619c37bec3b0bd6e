package handlers

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"tracpro/models"
)

// TestBrowserDashboardWalk is issue #4's phone walk in Debian's chromium on a
// 360×640 screen: a supervisor signs in, opens a poll, switches the numeric
// display, opens a poll run, reads its participation, exports the CSV and
// starts a poll — over a simulator-synced org. Screenshots go to screenshots/.
// Mandatory when TRACPRO_E2E=1.
func TestBrowserDashboardWalk(t *testing.T) {
	w := newStartWorld(t)
	b := newBrowser(t, w.App)
	sup := w.createUser(w.org, "phone@example.org", models.RoleSupervisor, testPassword, w.panelA)
	var pollrunID int64
	if err := w.DB.QueryRow(`SELECT pr.id FROM pollruns pr WHERE pr.poll_id = ? AND pr.pollrun_type = 'u' ORDER BY pr.conducted_on DESC LIMIT 1`, w.poll.ID).Scan(&pollrunID); err != nil {
		t.Fatal(err)
	}
	base, run, eval, shot := b.base, b.run, b.eval, b.shot

	b.phone()
	run("sign in", chromedp.Navigate(base+"/users/login/"), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), sup.Email), chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS(`#login form button.primary`)), chromedp.WaitVisible(chromedp.CSS("#home-page")))

	// A poll: charts drawn on the server, then the numeric display switched to averages.
	run("open poll", chromedp.Navigate(fmt.Sprintf("%s/poll/read/%d/?date_range=12-months", base, w.poll.ID)), chromedp.WaitVisible(chromedp.CSS("#poll-body")))
	if n := eval(`String(document.querySelectorAll("#poll-body svg").length)`); n == "0" {
		t.Fatal("the poll page draws no chart")
	}
	b.usableOnPhone("the poll page")
	shot("dashboard-poll-sum.png")
	run("switch to averages", chromedp.Click(chromedp.CSS(`nav.tabs a[href*="numeric=average"]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav.tabs a[aria-current="page"][href*="numeric=average"]`)))
	if loc := eval(`location.search`); !strings.Contains(loc, "numeric=average") {
		t.Fatalf("the switched view is not in the URL: %s", loc)
	}
	shot("dashboard-poll-average.png")

	// A poll run, its participation tab.
	run("open poll run", chromedp.Navigate(fmt.Sprintf("%s/pollrun/read/%d/", base, pollrunID)), chromedp.WaitVisible(chromedp.CSS("#pollrun-tab")))
	b.usableOnPhone("the poll run page")
	shot("dashboard-pollrun-summary.png")
	run("participation", chromedp.Navigate(fmt.Sprintf("%s/pollrun/participation/%d/", base, pollrunID)), chromedp.WaitVisible(chromedp.CSS("#pollrun-tab table")))
	total := eval(`document.querySelector("#pollrun-tab tfoot th").textContent`)
	if total == "" {
		t.Fatal("participation has no totals row")
	}
	shot("dashboard-participation.png")

	// The CSV export, fetched as the signed-in supervisor.
	csv := eval(fmt.Sprintf(`fetch("/response/by_pollrun/%d/?_format=csv").then(r => r.text())`, pollrunID))
	if !strings.HasPrefix(csv, "Date,Name,URN,Panel,Cohorts") {
		t.Fatalf("CSV header = %q", strings.SplitN(csv, "\n", 2)[0])
	}
	if strings.Contains(csv, w.nameB) {
		t.Fatalf("the supervisor of %s exported rows of %s", w.nameA, w.nameB)
	}

	// Start a poll for the panel from home; the progress page follows.
	run("home", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("details.start")))
	run("start", chromedp.Click(chromedp.CSS("details.start summary")), chromedp.WaitVisible(chromedp.CSS("#start-poll")),
		chromedp.SetValue(chromedp.CSS("#start-poll"), fmt.Sprint(w.poll.ID)))
	shot("dashboard-start-form.png")
	run("submit start", chromedp.Click(chromedp.CSS(`details.start form button`)), chromedp.WaitVisible(chromedp.CSS("#start-progress")))
	if loc := eval(`location.pathname`); !strings.HasPrefix(loc, "/pollrun/start/") {
		t.Fatalf("after starting, the browser is on %s", loc)
	}
	if _, err := w.syncer.DeliverOutbox(context.Background()); err != nil {
		t.Fatal(err)
	}
	run("progress", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#start-progress")))
	b.usableOnPhone("the start progress page")
	shot("dashboard-start-progress.png")
	var started int
	if err := w.DB.QueryRow(`SELECT count(*) FROM flow_starts WHERE uuid IS NOT NULL`).Scan(&started); err != nil || started == 0 {
		t.Fatalf("no flow start delivered (%v)", err)
	}
}
