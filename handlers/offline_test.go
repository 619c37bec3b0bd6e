package handlers

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"tracpro/assets"
	"tracpro/locale"
	"tracpro/models"
)

func init() {
	addMatrix(map[string]Access{
		"GET /offline/": {Anon: 303, SupA: 200, SupB: 200, Admin: 200, OtherAdmin: 403, Super: 200},
	})
}

// keptRoutes are the dashboard routes whose pages the worker may keep (issue
// #16: home, poll, poll run summary and participation, indicator, map).
var keptRoutes = map[string]bool{
	"GET /": true, "GET /poll/read/:id/": true, "GET /pollrun/read/:id/": true,
	"GET /pollrun/participation/:id/": true, "GET /pollrun/map/:id/": true, "GET /indicators/read/:id/": true,
}

// offlineInfo parses the TracPro-Offline header ("none" → nil).
func offlineInfo(t *testing.T, r *result) url.Values {
	t.Helper()
	h := r.Header.Get(offlineHeader)
	if h == "" {
		t.Fatalf("no %s header", offlineHeader)
	}
	if h == "none" {
		return nil
	}
	v, err := url.ParseQuery(h)
	if err != nil {
		t.Fatalf("%s: %q: %v", offlineHeader, h, err)
	}
	return v
}

// TestOfflineKeepsOnlyDashboards goes through every GET page of the route
// table as every persona the authorization matrix lets in: exactly the
// dashboard routes are marked keep, for signed-in members only; pages with
// personal data (contacts, messages, inbox, responses, CSV) and every
// administration page are not. Fragments and POST answers are never kept.
func TestOfflineKeepsOnlyDashboards(t *testing.T) {
	f := newMatrixFixture(t)
	kept := map[string]bool{}
	f.eachGetPage(t, func(k string, a Access, path string) {
		for i := range a.expected() {
			c := f.personaClient(i)
			r := c.get(path)
			if r.Header.Get(offlineHeader) == "" {
				t.Fatalf("%s as %s: no %s header", k, personas[i], offlineHeader)
			}
			info := offlineInfo(t, r)
			if keep := info.Get("keep") == "1"; keep != (keptRoutes[k] && r.Code == 200) {
				t.Errorf("%s as %s (%d): keep = %v", k, personas[i], r.Code, keep)
			} else if keep {
				kept[k] = true
				if info.Get("key") == "" || info.Get("title") == "" || info.Get("asof") == "" || info.Get("panel") == "" {
					t.Errorf("%s as %s: kept without key, title, panel or as-of: %v", k, personas[i], info)
				}
			}
			if i == 0 && info != nil {
				t.Errorf("%s signed out: %v, want none", k, info)
			}
			if r.Code == 200 && keptRoutes[k] {
				frag := c.get(path, "HX-Request", "true")
				if offlineInfo(t, frag).Get("keep") != "" {
					t.Errorf("%s as %s: an htmx fragment is marked keep", k, personas[i])
				}
			}
		}
	})
	for k := range keptRoutes {
		if !kept[k] {
			t.Errorf("%s was never marked keep", k)
		}
	}
	// A POST answered with a page (a refused start: the home page again) is not kept.
	sup := f.personaClient(1)
	if r := sup.post("/pollrun/create/", url.Values{"poll": {"0"}}); offlineInfo(t, r).Get("keep") != "" {
		t.Errorf("POST /pollrun/create/ (%d) is marked keep", r.Code)
	}
}

// TestOfflineKeyPerSession: the key differs per session, per user and per
// org; exp is the session's expiry; the kept page's banner (hidden) and the
// header carry the same as-of time, in the user's language.
func TestOfflineKeyPerSession(t *testing.T) {
	f := newMatrixFixture(t)
	if err := f.DB.SetUserLanguage(f.Ctx, f.SupA.ID, "fr"); err != nil {
		t.Fatal(err)
	}
	a1, a2, b := f.newClient(f.Org1, f.SupA), f.newClient(f.Org1, f.SupA), f.newClient(f.Org1, f.SupB)
	before := time.Now().In(f.Org1.Location())
	r1 := a1.get("/")
	after := time.Now().In(f.Org1.Location())
	i1, i2, ib := offlineInfo(t, r1), offlineInfo(t, a2.get("/")), offlineInfo(t, b.get("/"))
	if i1.Get("key") == i2.Get("key") || i1.Get("key") == ib.Get("key") || i2.Get("key") == ib.Get("key") {
		t.Fatalf("keys are shared: %s %s %s", i1.Get("key"), i2.Get("key"), ib.Get("key"))
	}
	// Another org: a member of both orgs gets another key on the other host.
	if err := f.DB.SetMembership(f.Ctx, f.Org2.ID, f.SupA.ID, models.RoleSupervisor); err != nil {
		t.Fatal(err)
	}
	// The org 1 session is not accepted on org 2's host (sessions are bound
	// to their host): no key there; signed in on org 2, another key.
	carried := &client{e: f.testEnv, Host: hostOf(f.Org2), Token: a1.Token}
	if k := offlineInfo(t, carried.get("/")).Get("key"); k != "" {
		t.Fatalf("org 1's session carried to org 2 gets key %q", k)
	}
	other := f.newClient(f.Org2, f.SupA)
	if k := offlineInfo(t, other.get("/")).Get("key"); k == "" || k == i1.Get("key") {
		t.Fatalf("org 2 key %q, org 1 key %q", k, i1.Get("key"))
	}
	s, err := f.DB.SessionByToken(f.Ctx, a1.Token)
	if err != nil || s == nil {
		t.Fatal(err)
	}
	if i1.Get("exp") != sid(s.ExpiresAt) || i1.Get("lang") != "fr" {
		t.Fatalf("exp %s lang %s, want %d fr", i1.Get("exp"), i1.Get("lang"), s.ExpiresAt)
	}
	fr := locale.Get("fr")
	if i1.Get("title") != fr.T("Home") || i1.Get("panel") != "Province A" {
		t.Fatalf("title %q panel %q", i1.Get("title"), i1.Get("panel"))
	}
	if got := i1.Get("asof"); got != asOf(fr, before) && got != asOf(fr, after) {
		t.Fatalf("as of %q, want %q", got, asOf(fr, before))
	}
	if !strings.Contains(i1.Get("asof"), fr.T(locale.Months[before.Month()-1])) {
		t.Fatalf("as of %q has no French month", i1.Get("asof"))
	}
	banner := `<p id="offline-banner" hidden class="banner offline" role="status">` + fr.T("Offline — as of %s", i1.Get("asof"))
	if !strings.Contains(r1.Body, banner) {
		t.Fatalf("the page has no hidden banner %q", banner)
	}
	// A page that is not kept has no banner.
	if r := a1.get("/contact/"); strings.Contains(r.Body, `id="offline-banner"`) || offlineInfo(t, r).Get("key") != i1.Get("key") {
		t.Fatalf("the contact list: banner or another key (%d)", r.Code)
	}
}

// TestSignOutClearsSiteData: signing out asks the browser to delete the
// site's storage (the worker and its copies), and the next page says nobody
// is signed in.
func TestSignOutClearsSiteData(t *testing.T) {
	f := newMatrixFixture(t)
	c := f.newClient(f.Org1, f.SupA)
	r := c.post("/users/logout/", nil)
	if r.Code != 303 || r.Header.Get("Clear-Site-Data") != `"storage"` {
		t.Fatalf("sign-out = %d, Clear-Site-Data %q", r.Code, r.Header.Get("Clear-Site-Data"))
	}
	if info := offlineInfo(t, c.get("/users/login/")); info != nil {
		t.Fatalf("the sign-in page after sign-out: %v", info)
	}
}

// TestServiceWorkerScript: /sw.js is the embedded worker after its version
// and the hashed assets it keeps; revalidated (no-cache, 304 on its ETag);
// a change of the worker changes the version.
func TestServiceWorkerScript(t *testing.T) {
	e := newTestEnv(t)
	c := e.noSessionClient(nil)
	r := c.get("/sw.js")
	if r.Code != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/javascript") || r.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("/sw.js = %d %q %q", r.Code, r.Header.Get("Content-Type"), r.Header.Get("Cache-Control"))
	}
	w := e.H.worker.Load()
	first, _, _ := strings.Cut(r.Body, "\n")
	if !strings.HasPrefix(first, `const VERSION = "`+w.version+`", ASSETS = ["`+e.H.assets.url("app.css")+`","`+e.H.assets.url("app.js")+`","`+e.H.assets.url("vendor/htmx.min.js")+`"]`) {
		t.Fatalf("first line %q", first)
	}
	if r := c.get("/sw.js", "If-None-Match", r.Header.Get("ETag")); r.Code != 304 {
		t.Fatalf("revalidation = %d", r.Code)
	}
	src, err := assets.FS.ReadFile("sw.js")
	if err != nil {
		t.Fatal(err)
	}
	if v := newWorkerScript(e.H.assets, append(src, "\n"...)).version; v == w.version {
		t.Fatal("a changed worker keeps its version")
	}
	if strings.Contains(strings.Join(assetNames(e.H.assets), " "), "sw.") {
		t.Fatal("sw.js is also served at a hashed URL (its scope would be /static/)")
	}
}

func assetNames(a *assetSet) []string {
	var out []string
	for u := range a.byURL {
		out = append(out, u)
	}
	return out
}

// coldBudget is DESIGN.md §4's cold first load with htmx, gzipped.
const coldBudget = 32 * 1024

// TestColdLoadWithWorker: a signed-in supervisor's first visit downloads the
// page, its stylesheet, icon and scripts and the service worker: within 32 KB
// gzipped (the worker's own install fetches hit the HTTP cache).
func TestColdLoadWithWorker(t *testing.T) {
	f := newMatrixFixture(t)
	c := f.newClient(f.Org1, f.SupA)
	r := c.get("/")
	if !strings.Contains(r.Body, " data-sw>") {
		t.Fatal("the home page does not register the worker")
	}
	total, parts := gzipSize(t, []byte(r.Body)), []string{}
	for _, m := range attrRe.FindAllStringSubmatch(r.Body, -1) {
		if u := m[3]; strings.HasPrefix(u, "/static/") {
			a := c.get(u)
			total += gzipSize(t, []byte(a.Body))
			parts = append(parts, u)
		}
	}
	sw := c.get("/sw.js")
	swSize := gzipSize(t, []byte(sw.Body))
	total += swSize
	t.Logf("cold home page: %d B gzip (page + %v + /sw.js %d B raw, %d B gzip; budget %d B)", total, parts, len(sw.Body), swSize, coldBudget)
	if len(parts) != 4 {
		t.Fatalf("assets %v, want the stylesheet, the icon and two scripts", parts)
	}
	if total > coldBudget {
		t.Errorf("cold load %d B gzipped, over the %d B budget", total, coldBudget)
	}
	if swSize > 4*1024 {
		t.Errorf("the worker is %d B gzipped: keep it small (4 KB)", swSize)
	}
	// Signed out, no worker is registered.
	if r := f.noSessionClient(f.Org1).get("/users/login/"); strings.Contains(r.Body, "data-sw") {
		t.Fatal("the sign-in page registers the worker")
	}
}

// TestSaveDataLighterPages: with Save-Data: on, over the synced simulator
// org, a poll run's summary and its poll's page show the open question as
// the top-10 table instead of a word cloud, and a map tab offers a link
// instead of the drawing (the thinned chart labels: charts tests); each page says so in
// one line linking to the full page (?full=1, which is the full page again),
// is within the first-load budget and is smaller than the full one. Both
// answers vary on Save-Data.
func TestSaveDataLighterPages(t *testing.T) {
	w := newMapWorld(t)
	admin := w.user("admin@example.org", models.RoleAdmin, false)
	var run, poll int64
	if err := w.DB.QueryRow(`SELECT pr.id, pr.poll_id FROM pollruns pr JOIN questions q ON q.poll_id = pr.poll_id AND q.question_type = ? AND q.is_active = 1
		JOIN responses r ON r.pollrun_id = pr.id AND r.status = 'C' GROUP BY pr.id ORDER BY count(*) DESC, pr.id LIMIT 1`, models.QuestionOpen).Scan(&run, &poll); err != nil {
		t.Fatalf("no poll run with an open question answered: %v", err)
	}
	en := locale.Get("en")
	cloud := `<desc>` + en.T("Most frequent words in the answers") + `</desc>`
	for _, p := range []struct {
		name, path  string
		full, light func(body string) bool // what the full page has and the light one has instead
	}{
		{"poll run summary", "/pollrun/read/" + sid(run) + "/",
			func(b string) bool { return strings.Contains(b, cloud) },
			func(b string) bool {
				_, table, ok := strings.Cut(b, `<details class="chart-data" open="">`)
				table, _, _ = strings.Cut(table, `</table>`)
				return ok && !strings.Contains(b, cloud) && strings.Count(table, `<tr><th scope="row">`) == 10
			}},
		{"poll page", "/poll/read/" + sid(poll) + "/?date_range=12-months",
			func(b string) bool { return strings.Contains(b, cloud) },
			func(b string) bool {
				return !strings.Contains(b, cloud) && strings.Contains(b, `<details class="chart-data" open="">`)
			}},
		{"poll run map", "/pollrun/map/" + sid(run) + "/",
			func(b string) bool { return strings.Contains(b, `<svg class="map"`) },
			func(b string) bool {
				return !strings.Contains(b, `<svg class="map"`) && strings.Contains(b, `">`+en.T("Show the map")+`</a>`) &&
					strings.Contains(b, `<details class="chart-data" open="">`)
			}},
	} {
		full, light := admin.get(p.path), admin.get(p.path, "Save-Data", "on")
		if full.Code != 200 || light.Code != 200 {
			t.Fatalf("%s: %d / %d", p.name, full.Code, light.Code)
		}
		for _, r := range []*result{full, light} {
			if !strings.Contains(r.Header.Get("Vary"), "Save-Data") {
				t.Errorf("%s: Vary %q", p.name, r.Header.Get("Vary"))
			}
		}
		if !p.full(full.Body) || strings.Contains(full.Body, `id="save-data"`) {
			t.Errorf("%s: the full page lacks what Save-Data leaves out, or says it saves data", p.name)
		}
		if !p.light(light.Body) {
			t.Errorf("%s: the Save-Data page is not the light one", p.name)
		}
		link := `<a href="` + strings.ReplaceAll(strings.Split(p.path, "?")[0], "&", "&amp;")
		if !strings.Contains(light.Body, `<p id="save-data" class="notice">`+en.T("Data saver: word clouds, maps and some chart labels are left out.")+` `+link) ||
			!strings.Contains(light.Body, `full=1">`+en.T("Show the full page")+`</a>`) {
			t.Errorf("%s: the Save-Data page does not say so with a link to the full page", p.name)
		}
		fullSize, lightSize := gzipSize(t, []byte(full.Body)), gzipSize(t, []byte(light.Body))
		t.Logf("%s: full %d B gzip, Save-Data %d B gzip", p.name, fullSize, lightSize)
		if lightSize >= fullSize {
			t.Errorf("%s: the Save-Data page (%d B) is not smaller than the full one (%d B)", p.name, lightSize, fullSize)
		}
		weigh(t, admin, p.name+" (Save-Data)", light, true)
		again := admin.get(p.path+sep(p.path)+"full=1", "Save-Data", "on")
		if !p.full(again.Body) || strings.Contains(again.Body, `id="save-data"`) {
			t.Errorf("%s?full=1 with Save-Data is not the full page", p.name)
		}
	}
}

func sep(path string) string {
	if strings.Contains(path, "?") {
		return "&"
	}
	return "?"
}
