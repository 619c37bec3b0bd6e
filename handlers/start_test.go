package handlers

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"tracpro/jobs"
	"tracpro/models"
)

// startWorld is an org synced from the simulator with supervisors of its two
// largest panels.
type startWorld struct {
	*orgEnv
	panelA, panelB int64
	nameA, nameB   string
	supA, supB     *client
	admin          *client
	poll           models.Poll
}

func newStartWorld(t *testing.T) *startWorld {
	t.Helper()
	e := newOrgEnv(t)
	trackAndPull(t, e.Ctx, e.syncer, e.org, e.info.Panels, e.info.Cohorts, e.info.Polls)
	w := &startWorld{orgEnv: e}
	rows, err := e.DB.Query(`SELECT c.region_id, r.name FROM contacts c JOIN regions r ON r.id = c.region_id
		WHERE c.is_active = 1 GROUP BY c.region_id ORDER BY count(*) DESC, c.region_id LIMIT 2`)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; rows.Next(); i++ {
		if i == 0 {
			rows.Scan(&w.panelA, &w.nameA)
		} else {
			rows.Scan(&w.panelB, &w.nameB)
		}
	}
	rows.Close()
	if w.panelB == 0 {
		t.Fatal("the simulator org has fewer than two panels with contacts")
	}
	w.supA = e.newClient(e.org, e.createUser(e.org, "sup-a@example.org", models.RoleSupervisor, "", w.panelA))
	w.supB = e.newClient(e.org, e.createUser(e.org, "sup-b@example.org", models.RoleSupervisor, "", w.panelB))
	w.admin = e.user("admin@example.org", models.RoleAdmin, false)
	polls, err := e.DB.ListPolls(e.Ctx, e.org.ID, true)
	if err != nil || len(polls) == 0 {
		t.Fatalf("polls: %v", err)
	}
	w.poll = polls[0]
	return w
}

var ddRe = regexp.MustCompile(`<dd id="(n-[a-z]+)">([^<]*)</dd>`)

// facts reads the figures of the start progress page.
func facts(body string) map[string]string {
	out := map[string]string{}
	for _, m := range ddRe.FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// recentRows returns the cells of the home page's recent poll runs table.
// (poll, complete, partial, empty, date, panel).
func recentRows(body string) [][]string {
	i := strings.Index(body, `id="recent"`)
	if i < 0 {
		return nil
	}
	tb := body[i:]
	tb = tb[strings.Index(tb, "<tbody>"):strings.Index(tb, "</tbody>")]
	var out [][]string
	for _, tr := range strings.Split(tb, "<tr>")[1:] {
		var cells []string
		for _, m := range regexp.MustCompile(`<td[^>]*>(.*?)</td>`).FindAllStringSubmatch(tr, -1) {
			cells = append(cells, regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m[1], ""))
		}
		out = append(out, cells)
	}
	return out
}

// listItems returns the names and counts of an "active" list.
func listItems(body, id string) map[string]int {
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		return nil
	}
	ol := body[i : strings.Index(body[i:], "</ol>")+i]
	out := map[string]int{}
	for _, m := range regexp.MustCompile(`<li>([^<]*) <span class="badge">(\d+)</span></li>`).FindAllStringSubmatch(ol, -1) {
		n, _ := strconv.Atoi(m[2])
		out[m[1]] = n
	}
	return out
}

func TestStartPollFromHomeToLinkedRuns(t *testing.T) {
	w := newStartWorld(t)
	var active int
	if err := w.DB.QueryRow(`SELECT count(*) FROM contacts WHERE region_id = ? AND is_active = 1`, w.panelA).Scan(&active); err != nil {
		t.Fatal(err)
	}
	batches := (active + 99) / 100

	// The home page offers "Start…" for the selected panel with the active polls.
	home := w.supA.get("/")
	if home.Code != 200 || !strings.Contains(home.Body, `action="/pollrun/create/"`) || !strings.Contains(home.Body, "Start a poll for panel "+w.nameA+".") {
		t.Fatalf("home: %d, no start form for %s", home.Code, w.nameA)
	}
	if got := optionsOf(home.Body, "start-poll"); len(got) < 2 || !strings.Contains(strings.Join(got, "|"), w.poll.DisplayName()) {
		t.Fatalf("start poll choices %q", got)
	}

	// Invalid: no poll chosen → the form again, 422, message by the field.
	r := w.supA.post("/pollrun/create/", url.Values{"poll": {""}})
	if r.Code != 422 || !strings.Contains(r.Body, "Choose one of the polls.") || !strings.Contains(r.Body, "<details class=\"start\" open>") {
		t.Fatalf("invalid start: %d", r.Code)
	}
	// Supervisor B cannot start for A's panel.
	r = w.supB.post("/pollrun/create/", url.Values{"poll": {i64s(w.poll.ID)}, "region": {i64s(w.panelA)}})
	if r.Code != 403 {
		t.Fatalf("supervisor B starting for panel A: %d", r.Code)
	}
	if n := w.count(`SELECT count(*) FROM pollruns WHERE pollrun_type IN ('r', 'p')`); n != 0 {
		t.Fatalf("refused starts created %d poll runs", n)
	}

	r = w.supA.post("/pollrun/create/", url.Values{"poll": {i64s(w.poll.ID)}})
	loc := r.Header.Get("Location")
	if r.Code != 303 || !strings.HasPrefix(loc, "/pollrun/start/") {
		t.Fatalf("start: %d %q", r.Code, loc)
	}
	prID, _ := strconv.ParseInt(strings.Trim(strings.TrimPrefix(loc, "/pollrun/start/"), "/"), 10, 64)
	var typ string
	var region, by int64
	if err := w.DB.QueryRow(`SELECT pollrun_type, region_id, created_by FROM pollruns WHERE id = ?`, prID).Scan(&typ, &region, &by); err != nil || typ != "r" || region != w.panelA || by == 0 {
		t.Fatalf("poll run %q %d %d %v", typ, region, by, err)
	}
	if n := w.count(`SELECT count(*) FROM outbox WHERE kind = 'flow_start' AND state = 'pending'`); n != batches {
		t.Fatalf("%d outbox rows, want %d", n, batches)
	}

	// Progress: pending batches, polled every 3 s; the flash names the figures.
	p := w.supA.get(loc)
	if p.Code != 200 || !strings.Contains(p.Body, `hx-trigger="every 3s"`) || !strings.Contains(p.Body, fmt.Sprintf("Poll started for %d contacts.", active)) {
		t.Fatalf("progress page: %d", p.Code)
	}
	if f := facts(p.Body); f["n-pending"] != i64s(int64(batches)) || f["n-started"] != "0" || f["n-contacts"] != fmt.Sprintf("0 / %d", active) {
		t.Fatalf("pending figures %v", f)
	}
	// Fragment for htmx, page otherwise; supervisor B does not see it.
	frag := w.supA.get(loc, "HX-Request", "true")
	if frag.Code != 200 || strings.Contains(frag.Body, "<html") || !strings.Contains(frag.Body, `id="start-progress"`) || !strings.Contains(p.Body, "<html") {
		t.Fatalf("fragment: %d", frag.Code)
	}
	if r := w.supB.get(loc); r.Code != 404 {
		t.Fatalf("supervisor B reads A's start: %d", r.Code)
	}

	// Home fragment: ETag, then 304 while unchanged.
	h1 := w.supA.get("/", "HX-Request", "true")
	etag := h1.Header.Get("ETag")
	if h1.Code != 200 || etag == "" || strings.Contains(h1.Body, "<html") || !strings.HasPrefix(h1.Body, `<div id="home"`) ||
		!strings.Contains(h1.Header.Get("Vary"), "HX-Request") || !strings.Contains(h1.Body, strings.Trim(etag, `"`)) {
		t.Fatalf("home fragment: %d etag %q vary %q", h1.Code, etag, h1.Header.Get("Vary"))
	}
	if h2 := w.supA.get("/", "HX-Request", "true", "If-None-Match", etag); h2.Code != 304 || h2.Body != "" {
		t.Fatalf("unchanged home fragment = %d (%d bytes), want 304 without a body", h2.Code, len(h2.Body))
	}
	rows := recentRows(h1.Body)
	// Just started, nobody has answered yet: listed all the same, and marked.
	if len(rows) == 0 || rows[0][0] != w.poll.DisplayName()+" No participants" || rows[0][5] != w.nameA || rows[0][1] != "0" || rows[0][3] != "0" {
		t.Fatalf("recent poll runs %v", rows)
	}

	// Delivery, then the simulator's runs, linked to the regional poll run.
	if res, err := w.syncer.DeliverOutbox(w.Ctx); err != nil || res.Sent != batches {
		t.Fatalf("delivery %+v %v", res, err)
	}
	st := w.sim.Store()
	st.Write(func() { st.ProcessPending(0) })
	if r := w.syncer.Pull(w.Ctx, w.org, jobs.ResRuns); r.Err != nil {
		t.Fatal(r.Err)
	}
	starts := map[string]bool{}
	srows, _ := w.DB.Query(`SELECT uuid FROM flow_starts WHERE pollrun_id = ?`, prID)
	for srows.Next() {
		var u string
		srows.Scan(&u)
		starts[u] = true
	}
	srows.Close()
	created := 0
	st.Read(func() {
		for _, run := range st.RunsByUUID {
			if starts[run.StartUUID] {
				created++
			}
		}
	})
	if created == 0 || created > active {
		t.Fatalf("the simulator created %d runs for %d contacts", created, active)
	}
	p = w.supA.get(loc)
	f := facts(p.Body)
	if f["n-pending"] != "0" || f["n-started"] != i64s(int64(batches)) || f["n-contacts"] != fmt.Sprintf("%d / %d", active, active) || f["n-runs"] != i64s(int64(created)) {
		t.Fatalf("figures after delivery %v (runs created %d)", f, created)
	}
	if strings.Contains(p.Body, `hx-trigger="every 3s"`) {
		t.Fatal("the progress page still polls with nothing pending")
	}
	// The changed fragment is a 200 with a new ETag; it counts the empty runs.
	h3 := w.supA.get("/", "HX-Request", "true", "If-None-Match", etag)
	if h3.Code != 200 || h3.Header.Get("ETag") == etag {
		t.Fatalf("changed home fragment = %d, etag %q", h3.Code, h3.Header.Get("ETag"))
	}
	if rows := recentRows(h3.Body); rows[0][1] != "0" || rows[0][2] != "0" || rows[0][3] != i64s(int64(created)) {
		t.Fatalf("recent after runs %v, want %d empty", rows[0], created)
	}

	// Restart: everybody is a non-respondent (no run is complete).
	if !strings.Contains(p.Body, `action="/pollrun/restart/"`) {
		t.Fatal("no restart form on the latest regional poll run")
	}
	r = w.supA.post("/pollrun/restart/", url.Values{"pollrun": {i64s(prID)}})
	if r.Code != 303 || r.Header.Get("Location") != loc {
		t.Fatalf("restart: %d %q", r.Code, r.Header.Get("Location"))
	}
	if n := w.count(`SELECT coalesce(sum(contacts), 0) FROM flow_starts WHERE pollrun_id = ? AND status = 'pending'`, prID); n != active {
		t.Fatalf("restart queued %d contacts, want %d", n, active)
	}
	// Supervisor B cannot restart A's poll run; an older one is refused.
	if r := w.supB.post("/pollrun/restart/", url.Values{"pollrun": {i64s(prID)}}); r.Code != 422 {
		t.Fatalf("supervisor B restarting A's run: %d", r.Code)
	}
	w.supA.post("/pollrun/create/", url.Values{"poll": {i64s(w.poll.ID)}})
	r = w.supA.post("/pollrun/restart/", url.Values{"pollrun": {i64s(prID)}})
	if r.Code != 422 || !strings.Contains(r.Body, "Only the latest poll run of the panel can be restarted.") {
		t.Fatalf("restart of an older run: %d", r.Code)
	}
}

func TestHomeScopedListsAndRepresentations(t *testing.T) {
	w := newStartWorld(t)
	// A regional poll run of each panel.
	for _, c := range []*client{w.supA, w.supB} {
		if r := c.post("/pollrun/create/", url.Values{"poll": {i64s(w.poll.ID)}}); r.Code != 303 {
			t.Fatalf("start: %d", r.Code)
		}
	}
	panelNames := map[int64]string{}
	rows, _ := w.DB.Query(`SELECT id, name FROM regions`)
	for rows.Next() {
		var id int64
		var n string
		rows.Scan(&id, &n)
		panelNames[id] = n
	}
	rows.Close()
	// Independent count: non-empty active responses updated in the last 30
	// days, by the contact's panel.
	since := models.NowMs() - models.ActivityWindow.Milliseconds()
	want := func(panel int64) int {
		var n int
		w.DB.QueryRow(`SELECT count(*) FROM responses r JOIN contacts c ON c.id = r.contact_id
			WHERE r.is_active = 1 AND r.status <> 'E' AND c.is_active = 1 AND c.region_id = ? AND r.updated_on >= ?`, panel, since).Scan(&n)
		return n
	}
	for _, tc := range []struct {
		c           *client
		mine, other int64
	}{{w.supA, w.panelA, w.panelB}, {w.supB, w.panelB, w.panelA}} {
		page := tc.c.get("/")
		if page.Code != 200 || !strings.Contains(page.Body, "<html") || !strings.Contains(page.Body, `id="home"`) {
			t.Fatalf("home page: %d", page.Code)
		}
		frag := tc.c.get("/", "HX-Request", "true")
		if frag.Code != 200 || strings.Contains(frag.Body, "<html") {
			t.Fatalf("home fragment: %d", frag.Code)
		}
		for _, body := range []string{page.Body, frag.Body} {
			for _, row := range recentRows(body) {
				if row[5] != panelNames[tc.mine] && row[5] != "All" {
					t.Errorf("recent poll runs show panel %q", row[5])
				}
			}
			active := listItems(body, "active-panels")
			if len(active) != 1 || active[panelNames[tc.mine]] != want(tc.mine) || want(tc.mine) == 0 {
				t.Errorf("most active panels %v, want only %s with %d", active, panelNames[tc.mine], want(tc.mine))
			}
			if strings.Contains(body, ">"+panelNames[tc.other]+"<") || strings.Contains(body, panelNames[tc.other]+" <span") {
				t.Errorf("home names %s, outside the viewer's panels", panelNames[tc.other])
			}
		}
		var regional int
		for _, row := range recentRows(page.Body) {
			if row[5] == panelNames[tc.mine] {
				regional++
			}
		}
		if regional != 1 {
			t.Errorf("%d regional poll runs of the viewer's panel listed, want 1", regional)
		}
		// Cohort counts: the contacts of the viewer's panel only.
		for name, n := range listItems(page.Body, "active-cohorts") {
			var wantN int
			w.DB.QueryRow(`SELECT count(*) FROM responses r JOIN contacts c ON c.id = r.contact_id
				JOIN contact_cohorts cc ON cc.contact_id = c.id JOIN cohorts co ON co.id = cc.cohort_id
				WHERE r.is_active = 1 AND r.status <> 'E' AND c.is_active = 1 AND c.region_id = ? AND co.name = ? AND r.updated_on >= ?`,
				tc.mine, name, since).Scan(&wantN)
			if n != wantN || n == 0 {
				t.Errorf("cohort %s: %d, want %d", name, n, wantN)
			}
		}
	}
	// The administrator's "All panels" view lists both regional poll runs, and no start form.
	page := w.admin.get("/")
	both := 0
	for _, row := range recentRows(page.Body) {
		if row[5] == w.nameA || row[5] == w.nameB {
			both++
		}
	}
	if both != 2 || strings.Contains(page.Body, `action="/pollrun/create/"`) {
		t.Fatalf("administrator home: %d regional runs, start form %v", both, strings.Contains(page.Body, `action="/pollrun/create/"`))
	}
	r := w.admin.post("/pollrun/create/", url.Values{"poll": {i64s(w.poll.ID)}})
	if r.Code != 422 || !strings.Contains(r.Body, "Choose a panel first.") {
		t.Fatalf("start with all panels: %d", r.Code)
	}
	pageWeight(t, w.supA, "home with data (supervisor)", "/")
}

func TestHomeViewerHasNoStartForm(t *testing.T) {
	f := newMatrixFixture(t)
	viewer := f.createUser(f.Org1, "viewer@org1.test", models.RoleViewer, "", f.Panels["Province A"])
	c := f.newClient(f.Org1, viewer)
	if r := c.get("/"); r.Code != 200 || strings.Contains(r.Body, "/pollrun/create/") {
		t.Fatalf("viewer home: %d", r.Code)
	}
	if r := c.post("/pollrun/create/", url.Values{"poll": {"1"}}); r.Code != 403 {
		t.Fatalf("viewer start: %d", r.Code)
	}
	// The no-panels notice stays.
	none := f.newClient(f.Org1, f.createUser(f.Org1, "nopanels@org1.test", models.RoleSupervisor, ""))
	if r := none.get("/"); r.Code != 200 || !strings.Contains(r.Body, "You have no panels yet.") {
		t.Fatalf("home without panels: %d", r.Code)
	}
	// ETag matching.
	for h, want := range map[string]bool{`"abc"`: true, `W/"abc"`: true, `"x", "abc"`: true, `*`: true, `"abcd"`: false, ``: false} {
		if etagMatches(h, "abc") != want {
			t.Errorf("etagMatches(%q) != %v", h, want)
		}
	}
}

func i64s(n int64) string { return strconv.FormatInt(n, 10) }
