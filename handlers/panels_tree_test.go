package handlers

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"tracpro/models"
)

func TestPanelTreeUpdate(t *testing.T) {
	e := newTestEnv(t)
	org, org2 := e.createOrg("org1"), e.createOrg("org2")
	ids := e.createPanels(org, [2]string{"Country", ""}, [2]string{"Province A", "Country"}, [2]string{"District A1", "Province A"}, [2]string{"Province B", "Country"})
	zone := e.createPanels(org2, [2]string{"Zone Z", ""})["Zone Z"]
	if _, _, _, err := e.DB.SyncBoundaries(e.Ctx, org.ID, []models.Boundary{{OSMID: "R1", Name: "Rwanda", Level: 0}, {OSMID: "R2", Name: "Kigali", Level: 1, ParentID: "R1"}}); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := e.DB.SyncBoundaries(e.Ctx, org2.ID, []models.Boundary{{OSMID: "Z1", Name: "Zland", Level: 0}}); err != nil {
		t.Fatal(err)
	}
	bid := func(orgID int64, osm string) string {
		var id int64
		if err := e.DB.QueryRow(`SELECT id FROM boundaries WHERE org_id = ? AND osm_id = ?`, orgID, osm).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return strconv.FormatInt(id, 10)
	}
	admin := e.newClient(org, e.createUser(org, "admin@org1.test", models.RoleAdmin, ""))
	s := func(id int64) string { return strconv.FormatInt(id, 10) }
	upd := func(id int64) string { return "/region/" + s(id) + "/update/" }

	r := admin.get("/region/")
	if r.Code != 200 || !strings.Contains(r.Body, "No panel has a boundary, maps cannot be drawn.") || !strings.Contains(r.Body, "District A1") {
		t.Fatalf("tree: %d %s", r.Code, r.Body)
	}
	// Under itself or one of its descendants: refused.
	for _, parent := range []int64{ids["Province A"], ids["District A1"]} {
		r := admin.post(upd(ids["Province A"]), url.Values{"parent": {s(parent)}})
		if r.Code != 422 || !strings.Contains(r.Body, "A panel cannot be placed under itself or one of its sub-panels.") {
			t.Fatalf("cycle via %d: %d", parent, r.Code)
		}
	}
	// Another org's panel, parent or boundary: refused.
	if r := admin.post(upd(zone), url.Values{"parent": {""}}); r.Code != 404 {
		t.Fatalf("another org's panel: %d", r.Code)
	}
	if r := admin.post(upd(ids["Province B"]), url.Values{"parent": {s(zone)}}); r.Code != 422 {
		t.Fatalf("another org's parent: %d", r.Code)
	}
	if r := admin.post(upd(ids["Province B"]), url.Values{"boundary": {bid(org2.ID, "Z1")}}); r.Code != 422 || !strings.Contains(r.Body, "Choose a boundary of this organization.") {
		t.Fatalf("another org's boundary: %d", r.Code)
	}
	if r := admin.post(upd(ids["Province B"]), url.Values{"parent": {"abc"}}); r.Code != 400 {
		t.Fatalf("malformed parent: %d", r.Code)
	}
	var parent, boundary int64
	if err := e.DB.QueryRow(`SELECT coalesce(parent_id, 0), coalesce(boundary_id, 0) FROM regions WHERE id = ?`, ids["Province B"]).Scan(&parent, &boundary); err != nil || parent != ids["Country"] || boundary != 0 {
		t.Fatalf("refused updates changed the panel: %d %d %v", parent, boundary, err)
	}
	// Move District A1 under Province B with a boundary.
	r = admin.post(upd(ids["District A1"]), url.Values{"parent": {s(ids["Province B"])}, "boundary": {bid(org.ID, "R2")}})
	if r.Code != 303 || r.Header.Get("Location") != "/region/" {
		t.Fatalf("update: %d %s", r.Code, r.Body)
	}
	if err := e.DB.QueryRow(`SELECT coalesce(parent_id, 0), coalesce(boundary_id, 0) FROM regions WHERE id = ?`, ids["District A1"]).Scan(&parent, &boundary); err != nil {
		t.Fatal(err)
	}
	if parent != ids["Province B"] || s(boundary) != bid(org.ID, "R2") {
		t.Fatalf("saved parent %d boundary %d", parent, boundary)
	}
	// Top level with no boundary.
	if r := admin.post(upd(ids["Province A"]), url.Values{"parent": {""}, "boundary": {""}}); r.Code != 303 {
		t.Fatalf("to top level: %d", r.Code)
	}
	r = admin.get("/region/")
	if strings.Contains(r.Body, "No panel has a boundary") || !strings.Contains(r.Body, "Kigali") {
		t.Fatal("the boundary is not shown or the warning stays")
	}
	sup := e.newClient(org, e.createUser(org, "sup@org1.test", models.RoleSupervisor, "", ids["Country"]))
	if r := sup.get("/region/"); r.Code != 403 {
		t.Fatalf("supervisor on the tree: %d", r.Code)
	}
}

func TestChooserKeepsTheOrgInTheSessionWithoutDomain(t *testing.T) {
	e := newTestEnv(t)
	e.H.Domain = ""
	e.createOrg("alpha")
	beta := e.createOrg("beta")
	su := e.newClient(nil, e.createSuperuser("root@tracpro.test"))
	if r := su.get("/"); r.Code != 303 || r.Header.Get("Location") != "/manage/org/chooser/" {
		t.Fatalf("no org: %d %q", r.Code, r.Header.Get("Location"))
	}
	if r := su.get("/manage/org/chooser/"); r.Code != 200 || !strings.Contains(r.Body, "Org beta") {
		t.Fatalf("chooser: %d", r.Code)
	}
	if r := su.post("/manage/org/choose/", url.Values{"org": {strconv.FormatInt(beta.ID, 10)}}); r.Code != 303 || r.Header.Get("Location") != "/" {
		t.Fatalf("choose: %d", r.Code)
	}
	if r := su.get("/"); r.Code != 200 || !strings.Contains(r.Body, `class="brand" href="/">Org beta<`) {
		t.Fatalf("home after choosing: %d", r.Code)
	}
	// An administrator's session cannot pick an org this way.
	admin := e.newClient(nil, e.createUser(beta, "admin@beta.test", models.RoleAdmin, ""))
	if _, err := e.DB.Exec(`UPDATE sessions SET data = '{"org":`+strconv.FormatInt(beta.ID, 10)+`}' WHERE id = ?`, admin.SessionID); err != nil {
		t.Fatal(err)
	}
	if r := admin.get("/"); r.Code != 404 {
		t.Fatalf("administrator with a chosen org in the session: %d", r.Code)
	}
}

// TestPanelTreeEditsOneRowAtATime: the panel tree lists the panels without
// a form each (151 KB for 43 panels when every row carried a select of every
// panel and every boundary); "Change" opens one panel's form — the whole page
// without JavaScript, the row alone for htmx — and at 200 panels with 200
// boundaries the page stays within the first-load budget and the swap within
// the swap budget.
func TestPanelTreeEditsOneRowAtATime(t *testing.T) {
	e := newTestEnv(t)
	org := e.createOrg("org1")
	tree := [][2]string{{"Country", ""}}
	var bs []models.Boundary
	for p := range 10 {
		prov := fmt.Sprintf("Province %02d", p)
		tree = append(tree, [2]string{prov, "Country"})
		for d := range 19 {
			tree = append(tree, [2]string{fmt.Sprintf("District %02d-%02d of %s", p, d, prov), prov})
		}
	}
	for i, p := range tree {
		bs = append(bs, models.Boundary{OSMID: fmt.Sprintf("R%d", i), Name: p[0], Level: min(i, 2)})
	}
	ids := e.createPanels(org, tree...)
	if len(ids) != 201 {
		t.Fatalf("%d panels", len(ids))
	}
	if _, _, _, err := e.DB.SyncBoundaries(e.Ctx, org.ID, bs); err != nil {
		t.Fatal(err)
	}
	if _, err := e.DB.LinkRegionsToBoundaries(e.Ctx, org.ID); err != nil {
		t.Fatal(err)
	}
	admin := e.newClient(org, e.createUser(org, "admin@org1.test", models.RoleAdmin, ""))
	r := admin.get("/region/")
	if n := strings.Count(r.Body, `/update/"`); n != 0 {
		t.Errorf("the tree has %d panel forms, want none", n)
	}
	if n := strings.Count(r.Body, `href="/region/?edit=`); n != 201 {
		t.Errorf("%d Change links for 201 panels", n)
	}
	weigh(t, admin, "panel tree, 201 panels and boundaries", r, true)

	id := strconv.FormatInt(ids["District 04-07 of Province 04"], 10)
	page := admin.get("/region/?edit=" + id)
	if page.Code != 200 || !strings.Contains(page.Body, "<html") || !strings.Contains(page.Body, `action="/region/`+id+`/update/"`) ||
		strings.Count(page.Body, `name="parent"`) != 1 {
		t.Fatalf("the page with one form open = %d", page.Code)
	}
	swap := admin.get("/region/?edit="+id, "HX-Request", "true")
	if swap.Code != 200 || strings.Contains(swap.Body, "<html") || !strings.HasPrefix(swap.Body, `<li id="panel-`+id+`">`) ||
		optionsOf(swap.Body, "parent-"+id)[0] != "Top level" || len(optionsOf(swap.Body, "parent-"+id)) != 201 || len(optionsOf(swap.Body, "boundary-"+id)) != 202 {
		t.Fatalf("the row swap = %d %.300s", swap.Code, swap.Body)
	}
	if n := gzipSize(t, []byte(swap.Body)); n > swapBudget {
		t.Errorf("the row swap weighs %d B gzip, over %d B", n, swapBudget)
	}
	for _, bad := range []string{"x", "0", "999999"} {
		if r := admin.get("/region/?edit=" + bad); r.Code != 404 {
			t.Errorf("edit=%s: %d, want 404", bad, r.Code)
		}
	}
}
