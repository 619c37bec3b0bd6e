package handlers

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tracpro/models"
)

// TestBrowserIndicatorAndMap is issue #7's phone walk in Debian's chromium
// on a 360×640 screen, over the synced simulator org: a national supervisor
// opens the indicator featured on home (the demo's, SPEC §3.6's figures as
// the models compute them for their panels), follows it to its poll, opens
// the poll's Map tab (the five provinces), taps a province and reads its
// figures, drills down to its districts, opens a poll run's map; then in
// Persian (RTL) the page turns but the geography does not. Screenshots:
// screenshots/walk-*.png.
func TestBrowserIndicatorAndMap(t *testing.T) {
	w := newMapWorld(t)
	var country int64
	if err := w.DB.QueryRow(`SELECT r.id FROM regions r JOIN boundaries b ON b.id = r.boundary_id AND b.level = 0`).Scan(&country); err != nil {
		t.Fatal(err)
	}
	sup := w.createUser(w.org, "national@example.org", models.RoleSupervisor, testPassword, country)
	ind, err := w.DB.CreateDemoIndicator(w.Ctx, w.org)
	if err != nil {
		t.Fatal(err)
	}
	scope, err := w.DB.ResolveScope(w.Ctx, w.org.ID, sup.ID, false, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	start, _ := time.ParseInLocation("2006-01-02", ind.StartDate, w.org.Location())
	end, _ := time.ParseInLocation("2006-01-02", ind.EndDate, w.org.Location())
	rep, err := w.DB.IndicatorReport(w.Ctx, ind, models.IndicatorFilter{ChartFilter: models.ChartFilter{Scope: scope, From: start, To: end.AddDate(0, 0, 1)}}, nil)
	if err != nil || rep.Answers == 0 {
		t.Fatalf("the indicator has no follow-up answers for the supervisor: %v", err)
	}
	var pollrunID int64
	if err := w.DB.QueryRow(`SELECT id FROM pollruns WHERE poll_id = ? AND pollrun_type = 'u' ORDER BY conducted_on DESC LIMIT 1`, ind.FollowUpPollID).Scan(&pollrunID); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, w.App)
	base, run, eval, shot := b.base, b.run, b.eval, b.shot
	b.phone()
	b.signIn(sup.Email, testPassword)

	// Home features the indicator; the supervisor opens it.
	if got := eval(`document.querySelector("#home-indicators h2 a").textContent`); got != ind.Name {
		t.Fatalf("home features %q, want %q", got, ind.Name)
	}
	b.usableOnPhone("home with the featured indicator")
	shot("walk-home.png")
	run("open indicator", chromedp.Click(chromedp.CSS(`#home-indicators h2 a`)), chromedp.WaitVisible(chromedp.CSS("#indicator-summary")))
	for id, want := range map[string]string{"baseline-value": numbersOf("en").Figure(rep.Baseline), "follow-up-mean": numbersOf("en").Dec(rep.Mean()),
		"follow-up-sd": numbersOf("en").Dec(rep.SD()), "follow-up-rate": numbersOf("en").Percent(rep.Rate())} {
		if got := eval(`document.querySelector("#` + id + `").textContent`); got != want {
			t.Errorf("#%s = %q, want %q", id, got, want)
		}
	}
	b.usableOnPhone("the indicator")
	shot("walk-indicator.png")

	// To the follow-up question's poll, then its Map tab over a year.
	run("open poll", chromedp.Click(chromedp.CSS(`#follow-up-question a`)), chromedp.WaitVisible(chromedp.CSS("#poll-body")))
	if p := eval(`location.pathname`); p != fmt.Sprintf("/poll/read/%d/", ind.FollowUpPollID) {
		t.Fatalf("the indicator's poll link went to %s", p)
	}
	run("a year", chromedp.Navigate(fmt.Sprintf("%s/poll/read/%d/?date_range=12-months", base, ind.FollowUpPollID)), chromedp.WaitVisible(chromedp.CSS("#poll-body")))
	run("map tab", chromedp.Click(chromedp.CSS(`nav.tabs a[href*="view=map"]`)), chromedp.WaitVisible(chromedp.CSS(`svg.map`)))
	if n := eval(`String(document.querySelectorAll("svg.map")[0].querySelectorAll("a").length)`); n != "5" {
		t.Fatalf("the first map has %s areas, want the 5 provinces", n)
	}
	if loc := eval(`location.search`); !strings.Contains(loc, "view=map") {
		t.Fatalf("the map tab is not in the URL: %s", loc)
	}
	b.usableOnPhone("the poll map")
	shot("walk-map-provinces.png")

	// Tap the province (a real click at its centre); its figures appear,
	// swapped in by htmx (the page is not reloaded).
	eval(`window.mapMarker = "kept"; ""`)
	sel := fmt.Sprintf(`svg.map a[href*="map_area=%d"]`, w.province)
	run("tap province", chromedp.ScrollIntoView(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)), chromedp.WaitVisible(chromedp.CSS(`.map-info`)))
	info := eval(`document.querySelector(".map-info").textContent`)
	if !strings.Contains(info, w.provinceName) || !strings.ContainsAny(info, "0123456789") {
		t.Fatalf("the tapped area's box says %q", info)
	}
	if loc := eval(`location.search`); !strings.Contains(loc, fmt.Sprintf("map_area=%d", w.province)) {
		t.Fatalf("the selection is not in the URL: %s", loc)
	}
	if m := eval(`String(window.mapMarker)`); m != "kept" {
		t.Fatal("tapping an area reloaded the page instead of swapping the map")
	}
	shot("walk-map-tapped.png")

	// Down to the province's districts.
	run("drill down", chromedp.Click(chromedp.CSS(`.map-info .actions a`)), chromedp.WaitVisible(chromedp.CSS(`nav.crumbs a`)))
	here := eval(`document.querySelector("nav.crumbs [aria-current]").textContent`)
	districts := eval(`String(document.querySelectorAll("svg.map")[0].querySelectorAll("a").length)`)
	if here != w.provinceName || districts == "0" || districts == "5" {
		t.Fatalf("after drilling down: at %q with %s areas", here, districts)
	}
	b.usableOnPhone("the district map")
	shot("walk-map-districts.png")
	// The hover/tap text of a district names it with its figure.
	if title := eval(`document.querySelector("svg.map a title").textContent`); !strings.Contains(title, ": ") {
		t.Fatalf("district title %q has no figure", title)
	}

	// A poll run's Map tab.
	run("poll run map", chromedp.Navigate(fmt.Sprintf("%s/pollrun/read/%d/", base, pollrunID)), chromedp.WaitVisible(chromedp.CSS("#pollrun-tab")),
		chromedp.Click(chromedp.CSS(`nav.tabs a[href^="/pollrun/map/"]`)), chromedp.WaitVisible(chromedp.CSS(`#pollrun-tab svg.map`)))
	b.usableOnPhone("the poll run map")
	shot("walk-pollrun-map.png")

	// Persian: the page is right-to-left, the map is not mirrored.
	mapURL := fmt.Sprintf("%s/poll/read/%d/?view=map&date_range=12-months", base, ind.FollowUpPollID)
	run("ltr map", chromedp.Navigate(mapURL), chromedp.WaitVisible(chromedp.CSS(`svg.map`)))
	box := fmt.Sprintf(`(() => { const r = document.querySelector('svg.map a[href*="map_area=%d"] path').getBBox(); return r.x + "," + r.y })()`, w.province)
	ltr := eval(box)
	if _, err := w.DB.Exec(`UPDATE users SET language = 'fa' WHERE id = ?`, sup.ID); err != nil {
		t.Fatal(err)
	}
	run("rtl map", chromedp.Navigate(mapURL), chromedp.WaitVisible(chromedp.CSS(`svg.map`)))
	if dir := eval(`document.documentElement.dir`); dir != "rtl" {
		t.Fatalf("Persian page dir = %q", dir)
	}
	if rtl := eval(box); rtl != ltr {
		t.Fatalf("the province moved in RTL: %s, was %s", rtl, ltr)
	}
	if d := eval(`getComputedStyle(document.querySelector(".map-legend")).direction`); d != "rtl" {
		t.Fatalf("the legend's direction is %q in Persian", d)
	}
	b.usableOnPhone("the Persian map")
	shot("walk-map-rtl.png")
}
