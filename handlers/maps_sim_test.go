package handlers

import (
	"context"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"tracpro/jobs"
	"tracpro/models"
	"tracpro/rapidpro"
	"tracpro/rapidpro/fake"
)

// mapWorld is the simulator's default org (Rwanda: a country panel, 5
// provinces, 30 districts, all with boundaries) synced into TracPro, with
// the province that has the most contacts.
type mapWorld struct {
	*orgEnv
	province     int64
	provinceName string
	poll         models.Poll
}

func newMapWorld(t *testing.T) *mapWorld {
	t.Helper()
	e := newOrgEnv(t)
	trackAndPull(t, e.Ctx, e.syncer, e.org, e.info.Panels, e.info.Cohorts, e.info.Polls)
	w := &mapWorld{orgEnv: e}
	if err := e.DB.QueryRow(`SELECT p.id, p.name FROM regions p JOIN boundaries b ON b.id = p.boundary_id AND b.level = 1
		JOIN regions d ON d.parent_id = p.id JOIN contacts c ON c.region_id = d.id AND c.is_active = 1
		GROUP BY p.id ORDER BY count(*) DESC, p.id LIMIT 1`).Scan(&w.province, &w.provinceName); err != nil {
		t.Fatalf("no province with contacts: %v", err)
	}
	polls, err := e.DB.ListPolls(e.Ctx, e.org.ID, true)
	if err != nil || len(polls) == 0 {
		t.Fatalf("polls: %v", err)
	}
	w.poll = polls[0]
	return w
}

var rowRe = regexp.MustCompile(`<tr><th scope="row">(?:<a href="[^"]*">)?([^<]+)(?:</a>)?</th><td>[^<]*</td><td>[^<]*</td><td>(\d+)</td></tr>`)

// answersByArea reads the first map's table: area → answers.
func answersByArea(t *testing.T, body string) map[string]int {
	t.Helper()
	_, first, _ := strings.Cut(body, `<details class="chart-data">`)
	first, _, _ = strings.Cut(first, `</details>`)
	out := map[string]int{}
	for _, m := range rowRe.FindAllStringSubmatch(first, -1) {
		n, _ := strconv.Atoi(m[2])
		out[m[1]] = n
	}
	return out
}

// TestMapDrillDownSimulator: over the synced simulator org, the
// administrator's poll map starts at the five provinces (the lone country
// panel is skipped), a province's figures split exactly into its districts'
// when drilling down, and the province-level swap stays under 4 KB gzipped.
// A supervisor of the province lands on its districts and never sees another
// province's.
func TestMapDrillDownSimulator(t *testing.T) {
	w := newMapWorld(t)
	admin := w.user("admin@example.org", models.RoleAdmin, false)
	p := "/poll/read/" + sid(w.poll.ID) + "/?view=map&date_range=12-months"
	top := admin.get(p, "HX-Request", "true")
	if top.Code != 200 || strings.Contains(top.Body, "<html") {
		t.Fatalf("map fragment = %d", top.Code)
	}
	provinces := answersByArea(t, top.Body)
	if len(provinces) != 5 {
		t.Fatalf("top map areas: %v, want the 5 provinces", provinces)
	}
	size := gzipSize(t, []byte(top.Body))
	t.Logf("province-level map swap (%d maps): %d B raw, %d B gzip", strings.Count(top.Body, `<svg class="map"`), len(top.Body), size)
	if size > 4096 {
		t.Errorf("province-level map swap %d B gzip, over 4 KB", size)
	}
	// Tap the province, then go down.
	tap := admin.get(p+"&map_area="+sid(w.province), "HX-Request", "true")
	down := regexp.MustCompile(`<a href="([^"]+)"[^>]*>Show its sub-panels</a>`).FindStringSubmatch(tap.Body)
	if down == nil {
		t.Fatalf("no drill-down for %s", w.provinceName)
	}
	href := strings.ReplaceAll(down[1], "&amp;", "&")
	districts := answersByArea(t, admin.get(href, "HX-Request", "true").Body)
	sum := 0
	for _, n := range districts {
		sum += n
	}
	if len(districts) < 3 || sum != provinces[w.provinceName] {
		t.Errorf("%s: %d answers, its %d districts %v sum to %d", w.provinceName, provinces[w.provinceName], len(districts), districts, sum)
	}
	// The supervisor of the province starts on its districts.
	sup := w.newClient(w.org, w.createUser(w.org, "sup@example.org", models.RoleSupervisor, "", w.province))
	s := sup.get(p)
	got := answersByArea(t, s.Body)
	if len(got) != len(districts) {
		t.Fatalf("supervisor's map %v, want the districts %v", got, districts)
	}
	for name, n := range districts {
		if got[name] != n {
			t.Errorf("supervisor's %s: %d answers, administrator's drill-down %d", name, got[name], n)
		}
	}
	for name := range provinces {
		if name != w.provinceName && strings.Contains(s.Body, "<title>"+name) {
			t.Errorf("the supervisor of %s sees %s on the map", w.provinceName, name)
		}
	}
}

// TestMapLargeCountry is issue #7's size rule through the whole pipeline:
// the simulator's 200-area country is pulled from RapidPro and an org that
// tracks its 200 districts as (top-level) panels draws them all on one map
// of at most 25 KB gzipped; a second request reuses the cached shapes.
func TestMapLargeCountry(t *testing.T) {
	e := newTestEnv(t)
	store := fake.NewStore(nil)
	info := fake.Generate(store, fake.GenConfig{Seed: 7, Contacts: 400, Weeks: 2, Areas: 200})
	sim := fake.NewServer(store, fake.Config{PageSize: 250})
	hs := httptest.NewServer(sim)
	t.Cleanup(hs.Close)
	syncer := jobs.NewSyncer(e.DB, jobs.Config{
		ClientOptions: rapidpro.Options{Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }, Timeout: 5 * time.Second, MaxAttempts: 2},
		ScopeLimits:   map[string]int{}, Now: store.Clock.Now,
	})
	t.Cleanup(func() { jobs.Tasks(syncer).Shutdown(10 * time.Second) })
	org, err := e.DB.CreateOrg(e.Ctx, models.NewOrg{Name: "Large", Subdomain: "large", RapidProURL: hs.URL, Token: sim.Token()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.DB.Exec(`UPDATE orgs SET admin_passkeys = 0`); err != nil {
		t.Fatal(err)
	}
	var districts []string
	for _, n := range fake.Panels(store) {
		if n.Level == 2 {
			districts = append(districts, n.Name)
		}
	}
	trackAndPull(t, e.Ctx, syncer, org, districts, info.Cohorts, info.Polls)
	var poll int64
	if err := e.DB.QueryRow(`SELECT id FROM polls WHERE org_id = ? AND is_active = 1 ORDER BY id LIMIT 1`, org.ID).Scan(&poll); err != nil {
		t.Fatal(err)
	}
	admin := e.newClient(org, e.createUser(org, "admin@large.test", models.RoleAdmin, ""))
	start := time.Now()
	r := admin.get("/poll/read/"+sid(poll)+"/?view=map&date_range=12-months", "HX-Request", "true")
	first := time.Since(start)
	svgs := regexp.MustCompile(`(?s)<svg class="map".*?</svg>`).FindAllString(r.Body, -1)
	if len(svgs) == 0 {
		t.Fatalf("no map: %.500s", r.Body)
	}
	if n := strings.Count(svgs[0], "<path d="); n != 200 {
		t.Fatalf("the map draws %d areas, want the 200 districts", n)
	}
	size := gzipSize(t, []byte(svgs[0]))
	start = time.Now()
	admin.get("/poll/read/"+sid(poll)+"/?view=map&date_range=12-months", "HX-Request", "true")
	t.Logf("200-area map from the synced org: SVG %d B raw, %d B gzip (budget 25600); %d maps in the swap (%d B gzip); first request %v, cached %v",
		len(svgs[0]), size, len(svgs), gzipSize(t, []byte(r.Body)), first.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	if size > 25*1024 {
		t.Errorf("the 200-area map SVG is %d B gzipped, over 25 KB", size)
	}
}
