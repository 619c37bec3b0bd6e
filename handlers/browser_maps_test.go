package handlers

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"tracpro/models"
)

// TestBrowserMaps is issue #7's map walk in Debian's chromium on a 360×640
// screen, over the synced simulator org: a national supervisor opens a poll's
// Map tab (the five provinces), taps a province and reads its figures, drills
// down to its districts, opens a poll run's map; then in Persian (RTL) the
// page turns but the geography does not. Screenshots: screenshots/maps-*.png.
func TestBrowserMaps(t *testing.T) {
	w := newMapWorld(t)
	var country int64
	if err := w.DB.QueryRow(`SELECT r.id FROM regions r JOIN boundaries b ON b.id = r.boundary_id AND b.level = 0`).Scan(&country); err != nil {
		t.Fatal(err)
	}
	sup := w.createUser(w.org, "national@example.org", models.RoleSupervisor, testPassword, country)
	var pollrunID int64
	if err := w.DB.QueryRow(`SELECT id FROM pollruns WHERE poll_id = ? AND pollrun_type = 'u' ORDER BY conducted_on DESC LIMIT 1`, w.poll.ID).Scan(&pollrunID); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, w.App)
	base, run, eval, shot := b.base, b.run, b.eval, b.shot
	b.phone()
	run("sign in", chromedp.Navigate(base+"/users/login/"), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), sup.Email), chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS(`#login form button.primary`)), chromedp.WaitVisible(chromedp.CSS("#home-page")))

	run("open poll", chromedp.Navigate(fmt.Sprintf("%s/poll/read/%d/?date_range=12-months", base, w.poll.ID)), chromedp.WaitVisible(chromedp.CSS("#poll-body")))
	run("map tab", chromedp.Click(chromedp.CSS(`nav.tabs a[href*="view=map"]`)), chromedp.WaitVisible(chromedp.CSS(`svg.map`)))
	if n := eval(`String(document.querySelectorAll("svg.map")[0].querySelectorAll("a").length)`); n != "5" {
		t.Fatalf("the first map has %s areas, want the 5 provinces", n)
	}
	if loc := eval(`location.search`); !strings.Contains(loc, "view=map") {
		t.Fatalf("the map tab is not in the URL: %s", loc)
	}
	b.usableOnPhone("the poll map")
	shot("maps-poll-provinces.png")

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
	shot("maps-poll-tapped.png")

	// Down to the province's districts.
	run("drill down", chromedp.Click(chromedp.CSS(`.map-info .actions a`)), chromedp.WaitVisible(chromedp.CSS(`nav.crumbs a`)))
	here := eval(`document.querySelector("nav.crumbs [aria-current]").textContent`)
	districts := eval(`String(document.querySelectorAll("svg.map")[0].querySelectorAll("a").length)`)
	if here != w.provinceName || districts == "0" || districts == "5" {
		t.Fatalf("after drilling down: at %q with %s areas", here, districts)
	}
	b.usableOnPhone("the district map")
	shot("maps-poll-districts.png")
	// The hover/tap text of a district names it with its figure.
	if title := eval(`document.querySelector("svg.map a title").textContent`); !strings.Contains(title, ": ") {
		t.Fatalf("district title %q has no figure", title)
	}

	// A poll run's Map tab.
	run("poll run map", chromedp.Navigate(fmt.Sprintf("%s/pollrun/read/%d/", base, pollrunID)), chromedp.WaitVisible(chromedp.CSS("#pollrun-tab")),
		chromedp.Click(chromedp.CSS(`nav.tabs a[href^="/pollrun/map/"]`)), chromedp.WaitVisible(chromedp.CSS(`#pollrun-tab svg.map`)))
	b.usableOnPhone("the poll run map")
	shot("maps-pollrun.png")

	// Persian: the page is right-to-left, the map is not mirrored.
	mapURL := fmt.Sprintf("%s/poll/read/%d/?view=map&date_range=12-months", base, w.poll.ID)
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
	shot("maps-poll-rtl.png")
}
