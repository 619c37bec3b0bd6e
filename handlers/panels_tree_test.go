package handlers

import (
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
