package handlers

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tracpro/models"
)

// TestBrowserIndicators completes issue #7's phone walk
// (TestBrowserIndicatorAndMap) with what it does not reach, in Debian's
// chromium on a 360×640 screen: a supervisor signs in, opens the indicator
// list from the menu, opens an indicator, narrows it to their panel and to the last
// follow-up day through the filters (an htmx swap that keeps the URL), with
// screenshots screenshots/indicators-*.png. Mandatory when TRACPRO_E2E=1.
func TestBrowserIndicators(t *testing.T) {
	f := newIndFixture(t)
	b := newBrowser(t, f.App)
	sup := f.createUser(f.Org, "phone@example.org", models.RoleSupervisor, testPassword, f.PanelA)
	base, run, eval, shot := b.base, b.run, b.eval, b.shot

	b.phone()
	b.signIn(sup.Email, testPassword)
	if got := eval(`document.querySelector("#home-indicators h2 a").textContent`); got != "Pupils in school" {
		t.Fatalf("home features %q", got)
	}
	b.usableOnPhone("home with a featured indicator")
	shot("indicators-home.png")

	// The list, from the menu.
	run("menu", chromedp.Click(chromedp.CSS("details.menu summary")), chromedp.WaitVisible(chromedp.CSS(`.menu a[href="/indicators/"]`)),
		chromedp.Click(chromedp.CSS(`.menu a[href="/indicators/"]`)), chromedp.WaitVisible(chromedp.CSS("#indicators table")))
	b.usableOnPhone("the indicator list")
	shot("indicators-list.png")

	// An indicator: SPEC §3.6's figures for the supervisor's panel.
	run("open indicator", chromedp.Click(chromedp.CSS(`#indicators td a`)), chromedp.WaitVisible(chromedp.CSS("#indicator-summary")))
	if m, sd := eval(`document.querySelector("#follow-up-mean").textContent`), eval(`document.querySelector("#follow-up-sd").textContent`); m != "84.0" || sd != "34.3" {
		t.Fatalf("mean %s, SD %s; want 84.0 and 34.3", m, sd)
	}
	if n := eval(`String(document.querySelectorAll("#indicator-body svg circle").length)`); n != "6" {
		t.Fatalf("the chart has %s points, want 6 (baseline and follow-up on 3 dates)", n)
	}
	b.usableOnPhone("the indicator page")
	shot("indicators-detail.png")

	// Filters: the panel and the last follow-up day only.
	last := f.Org.LocalDate(time.Now().AddDate(0, 0, -8))
	run("filters", chromedp.Click(chromedp.CSS("details.filters summary")), chromedp.WaitVisible(chromedp.CSS("#f-panel")),
		chromedp.SetValue(chromedp.CSS("#f-panel"), sid(f.PanelA)), chromedp.SetValue(chromedp.CSS("#f-start"), last))
	b.usableOnPhone("the indicator filters")
	shot("indicators-filters.png")
	run("apply", chromedp.Click(chromedp.CSS("details.filters form button")),
		chromedp.WaitVisible(chromedp.CSS(`#indicator-summary`)))
	// The swap lands: wait for the new figures.
	deadline := time.Now().Add(10 * time.Second)
	for eval(`document.querySelector("#follow-up-mean").textContent`) != "126.0" {
		if time.Now().After(deadline) {
			t.Fatalf("after filtering, mean = %s, want 126.0", eval(`document.querySelector("#follow-up-mean").textContent`))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if loc := eval(`location.search`); !strings.Contains(loc, "start_date="+last) || !strings.Contains(loc, "panel="+sid(f.PanelA)) {
		t.Fatalf("the filtered view is not in the URL: %s", loc)
	}
	if rate := eval(`document.querySelector("#follow-up-rate").textContent`); rate != "66.7%" {
		t.Fatalf("last day's response rate = %s, want 66.7%%", rate)
	}
	b.usableOnPhone("the filtered indicator")
	shot("indicators-filtered.png")

	// The form: choosing the follow-up poll swaps in its numeric questions (htmx).
	run("new indicator", chromedp.Navigate(base+"/indicators/create/"), chromedp.WaitVisible(chromedp.CSS("#follow_up_poll")),
		chromedp.SetValue(chromedp.CSS("#follow_up_poll"), sid(f.FUPoll)))
	eval(`document.querySelector("#follow_up_poll").dispatchEvent(new Event("change", {bubbles: true})), ""`)
	deadline = time.Now().Add(10 * time.Second)
	for eval(`[...document.querySelectorAll("#follow_up_question option")].map(o => o.textContent).join("|")`) != "Choose a question|Pupils now" {
		if time.Now().After(deadline) {
			t.Fatalf("follow-up questions after choosing the poll: %s", eval(`document.querySelector("#follow_up_question").outerHTML`))
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.usableOnPhone("the indicator form")
	shot("indicators-form.png")
	// Saved through htmx: the browser lands on the new indicator.
	run("fill", chromedp.SetValue(chromedp.CSS("#baseline_poll"), sid(f.BasePoll)))
	eval(`document.querySelector("#baseline_poll").dispatchEvent(new Event("change", {bubbles: true})), ""`)
	deadline = time.Now().Add(10 * time.Second)
	for eval(`String(document.querySelectorAll("#baseline_question option").length)`) != "2" {
		if time.Now().After(deadline) {
			t.Fatal("the baseline questions did not arrive")
		}
		time.Sleep(100 * time.Millisecond)
	}
	run("save", chromedp.SendKeys(chromedp.CSS("#name"), "Phone indicator"), chromedp.SetValue(chromedp.CSS("#start_date"), f.Start),
		chromedp.SetValue(chromedp.CSS("#end_date"), f.End), chromedp.SetValue(chromedp.CSS("#baseline_question"), sid(f.QBefore)),
		chromedp.SetValue(chromedp.CSS("#follow_up_question"), sid(f.QNow)), chromedp.Click(chromedp.CSS("#indicator-form button.primary")),
		chromedp.WaitVisible(chromedp.CSS("#indicator-summary")))
	if h1 := eval(`document.querySelector("h1").textContent`); h1 != "Phone indicator" {
		t.Fatalf("after saving, the page is %q", h1)
	}

	// Spoof data (the org shows it): two days for two contacts, then marked in the poll run list.
	if _, err := f.DB.ExecContext(f.Ctx, `UPDATE orgs SET show_spoof_data = 1 WHERE id = ?`, f.Org.ID); err != nil {
		t.Fatal(err)
	}
	run("spoof form", chromedp.Navigate(base+"/indicators/"), chromedp.WaitVisible(chromedp.CSS(`.actions a[href="/indicators/data_spoof/"]`)),
		chromedp.Click(chromedp.CSS(`.actions a[href="/indicators/data_spoof/"]`)), chromedp.WaitVisible(chromedp.CSS("#contacts")))
	eval(`[...document.querySelectorAll("#contacts option")].slice(0, 2).forEach(o => o.selected = true), ""`)
	day := f.Org.LocalDate(time.Now().AddDate(0, 0, -1))
	run("fill spoof", chromedp.SetValue(chromedp.CSS("#start_date"), day), chromedp.SetValue(chromedp.CSS("#end_date"), f.End),
		chromedp.SetValue(chromedp.CSS("#baseline_question"), sid(f.QBefore)), chromedp.SetValue(chromedp.CSS("#follow_up_question"), sid(f.QNow)))
	b.usableOnPhone("the spoof data form")
	shot("indicators-spoof-form.png")
	run("spoof", chromedp.Click(chromedp.CSS("#spoof-form button.primary")), chromedp.WaitVisible(chromedp.CSS("#indicators")))
	run("poll runs", chromedp.Navigate(base+"/pollrun/"), chromedp.WaitVisible(chromedp.CSS("#pollruns table")))
	if n := eval(`String(document.querySelectorAll("#pollruns .badge.spoofed").length)`); n != "3" {
		t.Fatalf("%s Spoofed badges in the poll run list, want 3 (a baseline and two days)", n)
	}
	b.usableOnPhone("the poll run list with spoofed runs")
	shot("indicators-spoofed-pollruns.png")
}
