package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"tracpro/assets"
	"tracpro/locale"
	"tracpro/models"
)

// setOffline cuts (or restores) the network with Chrome's network
// emulation: the tab's, and that of every service worker (its own fetches are
// not the tab's), attached to once and kept attached.
func (b *browser) setOffline(off bool) {
	b.t.Helper()
	emulate := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			EmulateOfflineServiceWorker: &off,
			MatchedNetworkConditions:    []*network.Conditions{{Offline: off, DownloadThroughput: -1, UploadThroughput: -1}},
		}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: off, DownloadThroughput: -1, UploadThroughput: -1})
		return err
	})
	b.run(fmt.Sprintf("offline %v", off), emulate)
	targets, err := chromedp.Targets(b.tab)
	if err != nil {
		b.t.Fatal(err)
	}
	if b.workers == nil {
		b.workers = map[target.ID]context.Context{}
	}
	for _, ti := range targets {
		if ti.Type != "service_worker" || !strings.HasPrefix(ti.URL, b.base) {
			continue
		}
		ctx, ok := b.workers[ti.TargetID]
		if !ok {
			var cancel context.CancelFunc
			ctx, cancel = chromedp.NewContext(b.tab, chromedp.WithTargetID(ti.TargetID))
			b.t.Cleanup(cancel)
			b.workers[ti.TargetID] = ctx
		}
		if err := chromedp.Do(ctx, emulate); err != nil {
			b.t.Fatalf("offline %v (service worker %s): %v", off, ti.URL, err)
		}
	}
}

// waitKept waits (20 s at most) until the worker's kept addresses satisfy
// cond, a JavaScript expression of s, their JSON; it fails with what is kept.
func (b *browser) waitKept(what, cond string) {
	b.t.Helper()
	ok := b.eval(`new Promise(done => { const end = Date.now() + 20000; const f = () => ` + keptJS + `.then(s => (` + cond + `) ? done("true") : Date.now() > end ? done("false") : setTimeout(f, 50), () => setTimeout(f, 50)); f() })`)
	if ok != "true" {
		b.t.Fatalf("%s: the worker keeps %v", what, b.kept())
	}
}

// keptJS lists the addresses the worker keeps (path and query), as JSON.
const keptJS = `caches.keys().then(ns => Promise.all(ns.filter(n => n.startsWith("tracpro-pages-")).map(n => caches.open(n).then(c => c.keys()))))
	.then(ls => JSON.stringify(ls.flat().map(r => new URL(r.url)).map(u => u.pathname + u.search).filter(p => !p.startsWith("/offline/")).sort()))`

// kept returns the addresses the worker keeps.
func (b *browser) kept() []string {
	b.t.Helper()
	var out []string
	if err := json.Unmarshal([]byte(b.eval(keptJS)), &out); err != nil {
		b.t.Fatal(err)
	}
	return out
}

// visit opens a page online and returns the as-of times its copy may carry
// (the minute before and after the visit, in the org's zone).
func (b *browser) visit(path, sel string, cat *locale.Catalog, loc *time.Location) []string {
	b.t.Helper()
	before := time.Now().In(loc)
	b.run("open "+path, chromedp.Navigate(b.base+path), chromedp.WaitVisible(chromedp.CSS(sel)))
	after := time.Now().In(loc)
	return []string{asOf(cat, before), asOf(cat, after)}
}

// within waits up to d for the JavaScript condition cond, and reports
// whether it came true.
func (b *browser) within(cond string, d time.Duration) bool {
	b.t.Helper()
	return b.eval(fmt.Sprintf(`new Promise(done => { const end = Date.now() + %d; const f = () => { if (%s) done("true"); else if (Date.now() > end) done("false"); else setTimeout(f, 50) }; f() })`, d.Milliseconds(), cond)) == "true"
}

// goTo navigates without failing on the browser's own network error page.
func (b *browser) goTo(path string) {
	b.t.Helper()
	_, _ = chromedp.Run(b.tab, chromedp.Navigate(b.base+path))
}

// TestBrowserOffline is issue #16's walk in Debian's chromium at 360×640,
// offline through Chrome's network emulation: a supervisor (in French) visits
// home, a poll, a poll run and a contact; offline, the poll and the poll run
// open from the kept copies with the banner and the time they were kept, the
// contact does not (the translated Offline page says so), an htmx tab says
// it cannot load, and the Offline page lists exactly the kept pages. After
// signing out nothing is kept; a second user on the same browser sees none of
// the first one's copies; 7 days and 40 pages bound the copies, and an
// expired session gets none; back online pages are fresh and carry no
// banner. A deploy of a new worker takes over without reloading the page, and
// a phone asking to save data gets the light map tab. Mandatory when
// TRACPRO_E2E=1.
func TestBrowserOffline(t *testing.T) {
	w := newStartWorld(t)
	b := newBrowserFor(t, w.App, 3*time.Minute)
	loc := w.org.Location()
	fr, en := locale.Get("fr"), locale.Get("en")
	first := w.createUser(w.org, "field@example.org", models.RoleSupervisor, testPassword, w.panelA)
	if err := w.DB.SetUserLanguage(w.Ctx, first.ID, "fr"); err != nil {
		t.Fatal(err)
	}
	second := w.createUser(w.org, "second@example.org", models.RoleSupervisor, testPassword, w.panelA)
	run := w.busiestRun()
	var contact int64
	if err := w.DB.QueryRow(`SELECT id FROM contacts WHERE region_id = ? AND is_active = 1 ORDER BY id LIMIT 1`, w.panelA).Scan(&contact); err != nil {
		t.Fatal(err)
	}
	home, poll := "/", fmt.Sprintf("/poll/read/%d/", w.poll.ID)
	pollrun, contactPage := fmt.Sprintf("/pollrun/read/%d/", run), fmt.Sprintf("/contact/read/%d/", contact)
	eval := b.eval
	visible := func(sel string) bool {
		return eval(`String(!!document.querySelector("`+sel+`") && !document.querySelector("`+sel+`").hidden)`) == "true"
	}
	text := func(sel string) string { return eval(`document.querySelector("` + sel + `").textContent`) }
	b.phone()
	b.signIn(first.Email, testPassword)
	b.waitJS(`navigator.serviceWorker.controller !== null`)
	asof := map[string][]string{}
	asof[home] = b.visit(home, "#home-page", fr, loc)
	asof[poll] = b.visit(poll, "#poll-body", fr, loc)
	asof[pollrun] = b.visit(pollrun, "#pollrun-tab", fr, loc)
	b.visit(contactPage, "#contact-page", fr, loc)
	if visible("#offline-banner") {
		t.Fatal("the offline banner shows online")
	}
	want := []string{home, poll, pollrun}
	slices.Sort(want)
	b.waitKept("the first user's visits", `s === `+quotedJSON(want))
	// Offline: the poll and the poll run from their copies, with the banner.
	b.setOffline(true)
	for _, p := range []struct{ path, sel string }{{poll, "#poll-body"}, {pollrun, "#pollrun-tab"}} {
		b.goTo(p.path)
		if !visible("#offline-banner") {
			t.Fatalf("offline %s: no offline banner shown", p.path)
		}
		if n := eval(`String(document.querySelectorAll("` + p.sel + `").length)`); n != "1" {
			t.Fatalf("offline %s: the kept copy has no %s", p.path, p.sel)
		}
		got := text("#offline-banner")
		if !strings.HasPrefix(got, fr.T("Offline — as of %s", asof[p.path][0])) && !strings.HasPrefix(got, fr.T("Offline — as of %s", asof[p.path][1])) {
			t.Fatalf("offline %s: the banner reads %q, want %q", p.path, got, fr.T("Offline — as of %s", asof[p.path][0]))
		}
		b.usableOnPhone("the kept copy of " + p.path)
	}
	b.shot("offline-01-pollrun.png")
	// An htmx tab of the kept poll run cannot load: the page says so.
	b.run("participation tab offline", chromedp.Click(chromedp.CSS(`#pollrun-tab nav.tabs a[href^="/pollrun/participation/"]`)))
	if !b.within(`!document.getElementById("offline-swap").hidden`, 10*time.Second) {
		t.Fatal("the failed htmx swap says nothing")
	}
	if got := text("#offline-swap"); got != fr.T("No connection: this part of the page could not be loaded.") {
		t.Fatalf("the failed swap says %q", got)
	}
	b.shot("offline-02-swap-failed.png")

	// The contact page was not kept: the Offline page, in French, says so and lists the kept pages.
	b.goTo(contactPage)
	if !visible("#offline-missing") {
		t.Fatal("offline, the contact page does not get the Offline page")
	}
	if n := eval(`String(document.querySelectorAll("#contact-page").length)`); n != "0" {
		t.Fatal("the contact page was served offline")
	}
	if got := text("#offline-missing"); got != fr.T("You are offline and this page is not kept on this device.") {
		t.Fatalf("the Offline page says %q", got)
	}
	if dir := eval(`document.documentElement.lang`); dir != "fr" {
		t.Fatalf("the Offline page is in %q", dir)
	}
	listed := func() []string {
		var out []string
		json.Unmarshal([]byte(eval(`JSON.stringify([...document.querySelectorAll("#kept-list a")].map(a => a.getAttribute("href")).sort())`)), &out)
		return out
	}
	if got := listed(); !slices.Equal(got, want) {
		t.Fatalf("the Offline page lists %v, want %v", got, want)
	}
	b.usableOnPhone("the Offline page")
	b.shot("offline-03-not-kept.png")
	b.goTo("/offline/")
	if got := listed(); !slices.Equal(got, want) || visible("#offline-missing") {
		t.Fatalf("/offline/ lists %v (want %v), missing shown %v", got, want, visible("#offline-missing"))
	}
	row := eval(`[...document.querySelectorAll("#kept-list tr")].find(r => r.querySelector('a[href="` + poll + `"]')).textContent`)
	if !strings.Contains(row, w.poll.DisplayName()) || !strings.Contains(row, w.nameA) || !strings.Contains(row, asof[poll][0]) && !strings.Contains(row, asof[poll][1]) {
		t.Fatalf("the poll's row reads %q (title, panel %s, as of %s)", row, w.nameA, asof[poll][0])
	}
	b.shot("offline-04-list.png")

	// Online again: sign out; nothing is kept, offline nothing is served.
	b.setOffline(false)
	b.visit(home, "#home-page", fr, loc)
	b.run("sign out", chromedp.Submit(chromedp.CSS(`form[action="/users/logout/"]`)), chromedp.WaitVisible(chromedp.CSS("#login")))
	if got := b.kept(); len(got) != 0 {
		t.Fatalf("after signing out %v are kept", got)
	}
	b.setOffline(true)
	b.goTo(poll)
	if n := eval(`String(document.querySelectorAll("#poll-body, #offline-page").length)`); n != "0" {
		t.Fatal("after signing out, a page is served offline")
	}
	b.setOffline(false)

	// A second user on the same browser: none of the first one's copies, also
	// when the first one's session ended without signing out (ended on the
	// server: no Clear-Site-Data, the worker's own wipe).
	b.signIn(first.Email, testPassword)
	b.waitJS(`navigator.serviceWorker.controller !== null`)
	b.visit(pollrun, "#pollrun-tab", fr, loc)
	b.waitKept("the first user again", `s.includes("`+pollrun+`")`)
	if err := w.DB.DeleteUserSessions(w.Ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	b.signIn(second.Email, testPassword)
	b.waitJS(`navigator.serviceWorker.controller !== null`)
	b.visit(home, "#home-page", en, loc)
	b.visit(poll, "#poll-body", en, loc)
	mine := []string{home, poll}
	slices.Sort(mine)
	b.waitKept("the second user's pages", `s === `+quotedJSON(mine))
	b.setOffline(true)
	b.goTo(pollrun)
	if !visible("#offline-missing") {
		t.Fatal("offline, the second user does not get the Offline page for the first one's poll run")
	}
	if got := text("#offline-missing"); got != en.T("You are offline and this page is not kept on this device.") {
		t.Fatalf("the second user's Offline page says %q", got)
	}
	if got := listed(); !slices.Equal(got, mine) {
		t.Fatalf("the second user's Offline page lists %v", got)
	}

	// Back online: fresh pages (a change made meanwhile shows, not the kept
	// copy), no banner.
	if _, err := w.DB.Exec(`UPDATE polls SET name = 'Renamed while offline' WHERE id = ?`, w.poll.ID); err != nil {
		t.Fatal(err)
	}
	b.setOffline(false)
	b.visit(poll, "#poll-body", en, loc)
	if h1 := text("#poll h1"); h1 != "Renamed while offline" || visible("#offline-banner") {
		t.Fatalf("online the poll page reads %q (banner shown: %v)", h1, visible("#offline-banner"))
	}
	b.shot("offline-05-online-again.png")

	// The limits: a copy older than 7 days goes, and beyond 40 the oldest go
	// (45 made-up copies an hour old, then a page kept now).
	eval(`caches.keys().then(ns => caches.open(ns.find(n => n.startsWith("tracpro-pages-")))).then(async c => {
		await c.put("/pollrun/read/999999/", new Response("old", {headers: {"TracPro-Kept-At": String(Date.now() - 8*24*3600*1000)}}));
		for (let i = 0; i < 45; i++) await c.put("/poll/read/" + (900000 + i) + "/", new Response("x", {headers: {"TracPro-Kept-At": String(Date.now() - 3600*1000 + i)}}));
		return "";
	})`)
	b.visit(pollrun, "#pollrun-tab", en, loc)
	b.waitKept("a page past the limits", `s.includes("`+pollrun+`")`)
	limited := b.kept()
	if len(limited) != 40 || slices.Contains(limited, "/pollrun/read/999999/") || slices.Contains(limited, "/poll/read/900007/") ||
		!slices.Contains(limited, "/poll/read/900008/") || !slices.Contains(limited, home) {
		t.Fatalf("after the limits %d pages are kept: %v", len(limited), limited)
	}
	// When the session has expired, nothing is served and the copies go.
	eval(`caches.keys().then(ns => caches.open(ns.find(n => n.startsWith("tracpro-pages-")))).then(c => c.put("/offline/state", new Response(JSON.stringify({exp: Date.now() - 1000, lang: "en"})))).then(() => "")`)
	b.setOffline(true)
	b.goTo(pollrun)
	if n := eval(`String(document.querySelectorAll("#pollrun-tab, #offline-page").length)`); n != "0" {
		t.Fatal("a page is served offline after the session expired")
	}
	b.setOffline(false)
	b.goTo("/livez") // a page of the origin that says nothing to the worker
	if got := b.kept(); len(got) != 0 {
		t.Fatalf("after the session expired %d pages are kept", len(got))
	}

	// A deploy with a new worker: it installs and takes over this page
	// without reloading it.
	src, err := assets.FS.ReadFile("sw.js")
	if err != nil {
		t.Fatal(err)
	}
	next := newWorkerScript(w.H.assets, append(src, "\n// the next deploy\n"...))
	w.H.worker.Store(next)
	// The page waits for the new controller (asking the old worker for its
	// version meanwhile would keep it busy and hold the new one back), then
	// asks it its version.
	eval(`window.sameDocument = true; navigator.serviceWorker.addEventListener("controllerchange", () => { window.controllerChanged = true }, {once: true});
		navigator.serviceWorker.getRegistration().then(r => r.update()).then(() => "")`)
	if !b.within(`window.controllerChanged && navigator.serviceWorker.controller.state === "activated"`, 20*time.Second) {
		t.Fatal("the deployed worker did not take over the page")
	}
	got := eval(`new Promise(done => { navigator.serviceWorker.addEventListener("message", e => done(e.data.version), {once: true}); navigator.serviceWorker.controller.postMessage("version") })`)
	if got != next.version {
		t.Fatalf("the worker in control is version %q, want the deployed %q", got, next.version)
	}
	if eval(`String(window.sameDocument)`) != "true" {
		t.Fatal("the page reloaded when the new worker took over")
	}
	b.visit(pollrun, "#pollrun-tab", en, loc)
	b.waitKept("after the deploy", `s.includes("`+pollrun+`")`)

	// A phone that asks to save data gets the light map tab, through the worker.
	b.run("save data", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Save-Data": "on"}})
		return err
	}))
	mapTab := fmt.Sprintf("/pollrun/map/%d/", run)
	b.visit(mapTab, "#save-data", en, loc)
	if n := eval(`String(document.querySelectorAll("svg.map").length)`); n != "0" || !strings.Contains(eval(`document.querySelector("#save-data a").href`), "full=1") {
		t.Fatalf("the Save-Data map tab draws %s maps", n)
	}
	b.usableOnPhone("the Save-Data map tab")
	b.shot("offline-06-save-data.png")
}

// quotedJSON is v as JSON, quoted as a JavaScript string literal.
func quotedJSON(v any) string {
	b, _ := json.Marshal(v)
	s, _ := json.Marshal(string(b))
	return string(s)
}
