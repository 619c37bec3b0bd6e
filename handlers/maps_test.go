package handlers

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"tracpro/charts"
	"tracpro/models"
)

// mapFixture is the poll fixture (polls_test.go) with boundaries for both
// provinces and numeric rules on Pupils: Low (< 6), Medium (6–10), High (> 10).
func mapFixture(t *testing.T, link bool) *pollFixture {
	t.Helper()
	f := newPollFixture(t)
	sq := func(x0 string) string {
		return `{"type":"MultiPolygon","coordinates":[[[[` + x0 + `,-2],[` + x0 + `.5,-2],[` + x0 + `.5,-1.5],[` + x0 + `,-1.5],[` + x0 + `,-2]]]]}`
	}
	if _, _, _, err := f.DB.SyncBoundaries(f.Ctx, f.Org.ID, []models.Boundary{
		{OSMID: "R1", Name: "Province A", Level: 1, Geometry: sq("29")},
		{OSMID: "R2", Name: "Province B", Level: 1, Geometry: sq("30")},
	}); err != nil {
		t.Fatal(err)
	}
	if link {
		if _, err := f.DB.LinkRegionsToBoundaries(f.Ctx, f.Org.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.DB.ExecContext(f.Ctx, `UPDATE questions SET json_rules = ? WHERE id = ?`,
		`[{"category":"Low","test":"lt","args":["6"]},{"category":"Medium","test":"between","args":["6","10"]},{"category":"High","test":"gt","args":["10"]}]`, f.QPupils); err != nil {
		t.Fatal(err)
	}
	return f
}

// areaPath finds an area's link, title and fill in a map.
func areaFill(t *testing.T, body, title string) string {
	t.Helper()
	m := regexp.MustCompile(`<title>` + regexp.QuoteMeta(title) + `</title><path d="[^"]+" fill="(#[0-9A-F]{6})"/>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no area titled %q in %.3000s", title, body)
	}
	return m[1]
}

// TestMapCategoriesByHand checks the colours and figures of both kinds of
// question against the fixture, worked out by hand:
//
// Poll runs 1 and 2 (universal). Province A: Pupils 4, 5, 6, 2, 12 (a1's
// first answer of day 2 is superseded) → average 5.80 → Low; Water Yes, No,
// Yes → Yes (2 of 3). Province B: Pupils 100, 7 → 53.50 → High; Water No →
// No (1 of 1). Poll run 2 alone, Province A: 2, 12 → 7.00 → Medium; no
// Water answer → no data.
func TestMapCategoriesByHand(t *testing.T) {
	f := mapFixture(t, true)
	admin := f.newClient(f.Org, f.Admin)
	p := "/poll/read/" + sid(f.Poll.ID) + "/?view=map&" + f.custom()
	r := admin.get(p)
	if r.Code != 200 || !strings.Contains(r.Body, "<html") {
		t.Fatalf("poll map = %d", r.Code)
	}
	// Legend order: Low, Medium, High, Other → palette 0, 1, 2, grey.
	if got := areaFill(t, r.Body, "Province A: 5.80 · Low"); got != charts.MapPalette[0] {
		t.Errorf("Province A (Low) filled %s", got)
	}
	if got := areaFill(t, r.Body, "Province B: 53.50 · High"); got != charts.MapPalette[2] {
		t.Errorf("Province B (High) filled %s", got)
	}
	// Water's legend: rule categories Yes, No → palette 0, 1.
	if got := areaFill(t, r.Body, "Province A: Yes (2 of 3 answers)"); got != charts.MapPalette[0] {
		t.Errorf("Province A (Yes) filled %s", got)
	}
	if got := areaFill(t, r.Body, "Province B: No (1 of 1 answers)"); got != charts.MapPalette[1] {
		t.Errorf("Province B (No) filled %s", got)
	}
	mustContain(t, "poll map tables", r.Body,
		`<tr><th scope="row">Province A</th><td>5.80</td><td>Low</td><td>5</td></tr>`,
		`<tr><th scope="row">Province B</th><td>53.50</td><td>High</td><td>2</td></tr>`,
		`<tr><th scope="row">Province A</th><td>Yes</td><td>2</td><td>3</td></tr>`,
		`aria-current="page">Map</a>`, `<ul class="map-legend">`)
	// Comment (open) and Voice (recording) have no map.
	if n := strings.Count(r.Body, `<svg class="map"`); n != 2 {
		t.Errorf("%d maps, want 2 (Pupils, Water)", n)
	}

	// One poll run: run 2 only.
	run := admin.get("/pollrun/map/" + sid(f.Runs[1]) + "/")
	if got := areaFill(t, run.Body, "Province A: 7.00 · Medium"); got != charts.MapPalette[1] {
		t.Errorf("run 2 Province A (Medium) filled %s", got)
	}
	if got := areaFill(t, run.Body, "Province A: No data"); got != charts.MapNoData {
		t.Errorf("run 2 Province A without Water answers filled %s", got)
	}

	// Tapping an area: its figures under each map, the map unchanged.
	tap := admin.get(p + "&map_area=" + sid(f.PanelB))
	mustContain(t, "tapped area", tap.Body, `<p class="figure">53.50 · High</p>`, `<p class="figure">No (1 of 1 answers)</p>`, `stroke="#000"`)
	if strings.Contains(tap.Body, "Show its sub-panels") {
		t.Error("a province without sub-panels offers a drill-down")
	}
}

// TestMapRepresentationsAndScope: the fragment is the poll body alone; a
// supervisor sees only their panel's area and figures, a supervisor of
// another panel cannot drill into it.
func TestMapRepresentationsAndScope(t *testing.T) {
	f := mapFixture(t, true)
	p := "/poll/read/" + sid(f.Poll.ID) + "/?view=map&" + f.custom()
	a := f.newClient(f.Org, f.SupA)
	full := a.get(p)
	frag := a.get(p, "HX-Request", "true")
	if !strings.Contains(full.Body, "<html") || strings.Contains(frag.Body, "<html") || !strings.HasPrefix(frag.Body, `<div id="poll-body">`) {
		t.Fatalf("representations: full %d, fragment %.120s", full.Code, frag.Body)
	}
	if size := gzipSize(t, []byte(frag.Body)); size > 4096 {
		t.Errorf("map fragment %d B gzip, over 4 KB", size)
	} else {
		t.Logf("poll map fragment (2 maps): %d B gzip", size)
	}
	_, maps, _ := strings.Cut(frag.Body, `<div class="maps">`)
	mustContain(t, "supervisor A's map", maps, "Province A: 5.80 · Low")
	mustNotContain(t, "supervisor A's map", maps, "Province B", "53.50")
	// A panel outside the scope: 404, whether as focus or in the URL of a poll run.
	if r := a.get(p + "&map_region=" + sid(f.PanelB)); r.Code != 404 {
		t.Errorf("supervisor A asking for Province B's map: %d", r.Code)
	}
	if r := a.get(p + "&map_region=x"); r.Code != 404 {
		t.Errorf("malformed map_region: %d", r.Code)
	}
	// A tap on an area outside the view selects nothing.
	r := a.get(p + "&map_area=" + sid(f.PanelB))
	mustNotContain(t, "foreign selection", r.Body, "Province B", `class="map-info"`)
	// Supervisor B of the run sent to Province B sees B only.
	pageWeight(t, a, "poll map (supervisor)", p)
	pageWeight(t, a, "poll run map (supervisor)", "/pollrun/map/"+sid(f.Runs[0])+"/")
	b := f.newClient(f.Org, f.SupB).get("/pollrun/map/" + sid(f.Runs[2]) + "/")
	_, bm, _ := strings.Cut(b.Body, `<div class="maps">`)
	mustContain(t, "supervisor B's run map", bm, "Province B: 9.00 · Medium")
	mustNotContain(t, "supervisor B's run map", bm, "Province A")
}

// TestMapAdminWarning: with no boundary linked, administrators are told so
// with a link to the panel tree, supervisors get no Map tab; once the
// administrator links a boundary there, the map is drawn.
func TestMapAdminWarning(t *testing.T) {
	f := mapFixture(t, false)
	p := "/poll/read/" + sid(f.Poll.ID) + "/?view=map&" + f.custom()
	admin := f.newClient(f.Org, f.Admin)
	r := admin.get(p)
	mustContain(t, "admin warning", r.Body, `<p class="banner warn" role="alert">No panel has a boundary, maps cannot be drawn. <a href="/region/">`)
	sup := f.newClient(f.Org, f.SupA)
	s := sup.get("/poll/read/" + sid(f.Poll.ID) + "/?" + f.custom())
	mustNotContain(t, "supervisor without maps", s.Body, ">Map</a>", "banner warn")
	mustContain(t, "supervisor without maps", sup.get(p).Body, "Maps are not available: no panel has a boundary.")

	// The panel tree offers the boundaries; linking one draws the map.
	tree := admin.get("/region/")
	m := regexp.MustCompile(`<option value="(\d+)">Province A</option>`).FindStringSubmatch(tree.Body)
	if m == nil {
		t.Fatalf("the panel tree offers no boundary Province A: %.2000s", tree.Body)
	}
	if res := admin.post("/region/"+sid(f.PanelA)+"/update/", url.Values{"parent": {""}, "boundary": {m[1]}}); res.Code != 303 {
		t.Fatalf("linking the boundary: %d", res.Code)
	}
	r = admin.get(p)
	mustNotContain(t, "after linking", r.Body, "banner warn")
	areaFill(t, r.Body, "Province A: 5.80 · Low")
	mustContain(t, "supervisor after linking", sup.get("/poll/read/"+sid(f.Poll.ID)+"/?"+f.custom()).Body, ">Map</a>")
	// Supervisor B's panel still has none.
	mustContain(t, "supervisor B", f.newClient(f.Org, f.SupB).get(p).Body, "None of your panels has a boundary to draw.")
}

// TestMapShapeVersions: the simplified shapes are cached per boundary
// version; a new geometry pulled from RapidPro is drawn at once, an
// unchanged one keeps its version.
func TestMapShapeVersions(t *testing.T) {
	f := mapFixture(t, true)
	admin := f.newClient(f.Org, f.Admin)
	p := "/poll/read/" + sid(f.Poll.ID) + "/?view=map&" + f.custom()
	pathOf := func() string {
		m := regexp.MustCompile(`<title>Province A: 5.80 · Low</title><path d="([^"]+)"`).FindStringSubmatch(admin.get(p).Body)
		if m == nil {
			t.Fatal("no Province A")
		}
		return m[1]
	}
	version := func() int64 {
		var v int64
		if err := f.DB.QueryRow(`SELECT updated_at FROM boundaries WHERE osm_id = 'R1'`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	before, v0 := pathOf(), version()
	if pathOf() != before {
		t.Fatal("the same version drew differently")
	}
	// The same geometry again: same version.
	sq := `{"type":"MultiPolygon","coordinates":[[[[29,-2],[29.5,-2],[29.5,-1.5],[29,-1.5],[29,-2]]]]}`
	tri := `{"type":"Polygon","coordinates":[[[29,-2],[29.5,-2],[29.25,-1.5],[29,-2]]]}`
	sync := func(g string) {
		t.Helper()
		if _, _, _, err := f.DB.SyncBoundaries(f.Ctx, f.Org.ID, []models.Boundary{
			{OSMID: "R1", Name: "Province A", Level: 1, Geometry: g},
			{OSMID: "R2", Name: "Province B", Level: 1, Geometry: strings.ReplaceAll(strings.ReplaceAll(sq, "[29,", "[30,"), "[29.5,", "[30.5,")},
		}); err != nil {
			t.Fatal(err)
		}
	}
	sync(sq)
	if version() != v0 {
		t.Error("an unchanged geometry got a new version")
	}
	sync(tri)
	after := pathOf()
	// Same bounds, so the same scale: the square's 4 corners become 3.
	if after == before || strings.Count(before, " ") != 4 || strings.Count(after, " ") != 2 {
		t.Errorf("the new triangle is not drawn: %q (was %q)", after, before)
	}
}

// TestCategorizeNumber checks SPEC §3.1's rules on numbers.
func TestCategorizeNumber(t *testing.T) {
	rules := []models.Rule{{Category: "Bad", Test: "has_text"}, {Category: "Few", Test: "between", Args: []string{"0", "4"}},
		{Category: "Some", Test: "lt", Args: []string{"10"}}, {Category: "Ten", Test: "eq", Args: []string{"10"}}, {Category: "Junk", Test: "gt", Args: []string{"x"}}}
	for v, want := range map[float64]string{0: "Few", 4: "Few", 4.5: "Some", 10: "Ten", 11: "Other", -1: "Some"} {
		if got := models.CategorizeNumber(rules, v); got != want {
			t.Errorf("%v → %s, want %s", v, got, want)
		}
	}
	if got := models.CategoryLegend(rules[:2], []string{"Extra", "Few", "Other"}); strings.Join(got, ",") != "Bad,Few,Extra,Other" {
		t.Errorf("legend %v", got)
	}
}

// TestMapMarksSpoofedRuns: a poll's map drawn over a spoofed poll run says
// so (SPEC §3.6: spoofed runs are marked wherever they appear); without one
// it does not.
func TestMapMarksSpoofedRuns(t *testing.T) {
	f := mapFixture(t, true)
	p := "/poll/read/" + sid(f.Poll.ID) + "/?view=map&" + f.custom()
	a := f.newClient(f.Org, f.SupA)
	mustNotContain(t, "map of real poll runs", a.get(p).Body, `<span class="badge spoofed"`)
	if _, err := f.DB.ExecContext(f.Ctx, `UPDATE pollruns SET pollrun_type = 's', region_id = NULL WHERE id = ?`, f.Runs[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := f.DB.ExecContext(f.Ctx, `UPDATE orgs SET show_spoof_data = 1 WHERE id = ?`, f.Org.ID); err != nil {
		t.Fatal(err)
	}
	_, maps, _ := strings.Cut(a.get(p).Body, `<div class="maps">`)
	mustContain(t, "map over a spoofed poll run", maps, `<span class="badge spoofed"`, "Some poll runs are spoofed")
	_, maps, _ = strings.Cut(a.get("/pollrun/map/"+sid(f.Runs[0])+"/").Body, `<div class="maps">`)
	mustContain(t, "a spoofed poll run's map", maps, `<span class="badge spoofed"`)
}

// mapAreas returns the titles of the areas of each map of a page, in order.
func mapAreas(body string) [][]string {
	var out [][]string
	for _, svg := range regexp.MustCompile(`(?s)<svg class="map".*?</svg>`).FindAllString(body, -1) {
		var titles []string
		for _, m := range regexp.MustCompile(`<title>([^<]*)</title><path d=`).FindAllStringSubmatch(svg, -1) {
			titles = append(titles, m[1])
		}
		out = append(out, titles)
	}
	return out
}

// TestMapSharedBoundaryIsOneArea: two panels linked to one boundary are one
// area (SPEC §3.5), figured over the answers of both — by hand, Pupils
// 4, 5, 6, 2, 12 (Province A) and 100, 7 (Province B): 136 / 7 = 19.43 →
// High; Water Yes, No, Yes and No: a tie, Yes first in the legend → Yes (2 of
// 4 answers). A supervisor of one of them sees their own panel's answers
// only; a tap on either panel selects the area; its drill-down goes to the
// sub-panels of the panel that has some.
func TestMapSharedBoundaryIsOneArea(t *testing.T) {
	f := mapFixture(t, true)
	var boundaryA int64
	if err := f.DB.QueryRow(`SELECT boundary_id FROM regions WHERE id = ?`, f.PanelA).Scan(&boundaryA); err != nil {
		t.Fatal(err)
	}
	if err := f.DB.UpdateRegion(f.Ctx, f.Org.ID, f.PanelB, 0, boundaryA); err != nil {
		t.Fatal(err)
	}
	p := "/poll/read/" + sid(f.Poll.ID) + "/?view=map&" + f.custom()
	admin := f.newClient(f.Org, f.Admin)
	r := admin.get(p)
	want := "[[Province A, Province B: 19.43 · High] [Province A, Province B: Yes (2 of 4 answers)]]"
	if got := fmt.Sprint(mapAreas(r.Body)); got != want {
		t.Fatalf("admin's maps: areas %s, want %s", got, want)
	}
	if got := areaFill(t, r.Body, "Province A, Province B: 19.43 · High"); got != charts.MapPalette[2] {
		t.Errorf("the shared area (High) filled %s", got)
	}
	mustContain(t, "shared area tables", r.Body,
		`<tr><th scope="row">Province A, Province B</th><td>19.43</td><td>High</td><td>7</td></tr>`,
		`<tr><th scope="row">Province A, Province B</th><td>Yes</td><td>2</td><td>4</td></tr>`)
	// A tap on either panel selects the one area.
	for _, panel := range []int64{f.PanelA, f.PanelB} {
		tap := admin.get(p + "&map_area=" + sid(panel))
		mustContain(t, "tapped shared area", tap.Body, `<p><strong>Province A, Province B</strong></p><p class="figure">19.43 · High</p>`)
		if n := strings.Count(tap.Body, `stroke="#000"`); n != 2 {
			t.Errorf("%d areas outlined as selected over 2 maps, want 2", n)
		}
	}
	// One poll run (run 2: A 2, 12; B 7 → 7.00 Medium).
	if got := fmt.Sprint(mapAreas(admin.get("/pollrun/map/" + sid(f.Runs[1]) + "/").Body)); got != "[[Province A, Province B: 7.00 · Medium] [Province A, Province B: No data]]" {
		t.Errorf("poll run 2's maps: %s", got)
	}
	// Supervisors: their own panel's answers only, under their panel's name.
	for _, tc := range []struct {
		who  *models.User
		want string
	}{
		{f.SupA, "[[Province A: 5.80 · Low] [Province A: Yes (2 of 3 answers)]]"},
		{f.SupB, "[[Province B: 53.50 · High] [Province B: No (1 of 1 answers)]]"},
	} {
		if got := fmt.Sprint(mapAreas(f.newClient(f.Org, tc.who).get(p).Body)); got != tc.want {
			t.Errorf("%s's maps: %s, want %s", tc.who.Email, got, tc.want)
		}
	}

	// A sub-panel of Province A with a boundary of its own: the shared
	// area leads down to Province A's sub-panels.
	if _, _, err := f.DB.SyncGroups(f.Ctx, f.Org.ID, []models.RapidProGroup{{UUID: "g-a", Name: "Province A"}, {UUID: "g-b", Name: "Province B"},
		{UUID: "g-teachers", Name: "Teachers"}, {UUID: "g-heads", Name: "Heads"}, {UUID: "g-a1", Name: "District A1"}}); err != nil {
		t.Fatal(err)
	}
	gs, err := f.DB.ResolveGroups(f.Ctx, f.Org.ID, []string{"Province A", "Province B", "District A1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.DB.TrackGroups(f.Ctx, f.Org.ID, "regions", gs); err != nil {
		t.Fatal(err)
	}
	var district int64
	if err := f.DB.QueryRow(`SELECT id FROM regions WHERE org_id = ? AND name = 'District A1'`, f.Org.ID).Scan(&district); err != nil {
		t.Fatal(err)
	}
	if err := f.DB.UpdateRegion(f.Ctx, f.Org.ID, district, f.PanelA, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := f.DB.SyncBoundaries(f.Ctx, f.Org.ID, []models.Boundary{
		{OSMID: "R1", Name: "Province A", Level: 1, Geometry: `{"type":"Polygon","coordinates":[[[29,-2],[29.5,-2],[29.5,-1.5],[29,-2]]]}`},
		{OSMID: "R2", Name: "Province B", Level: 1, Geometry: `{"type":"Polygon","coordinates":[[[30,-2],[30.5,-2],[30.5,-1.5],[30,-2]]]}`},
		{OSMID: "D1", Name: "District A1", Level: 2, Geometry: `{"type":"Polygon","coordinates":[[[29,-2],[29.2,-2],[29.2,-1.8],[29,-2]]]}`},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.DB.LinkRegionsToBoundaries(f.Ctx, f.Org.ID); err != nil {
		t.Fatal(err)
	}
	tap := admin.get(p + "&map_area=" + sid(f.PanelB))
	down := "/poll/read/" + sid(f.Poll.ID) + "/?"
	m := regexp.MustCompile(`<a href="(` + regexp.QuoteMeta(down) + `[^"]*)"[^>]*>Show the sub-panels of Province A</a>`).FindStringSubmatch(tap.Body)
	if m == nil || !strings.Contains(m[1], "map_region="+sid(f.PanelA)) {
		t.Fatalf("no way down to Province A's sub-panels from the shared area: %v", m)
	}
	mustNotContain(t, "the shared area's drill-down", tap.Body, "Show the sub-panels of Province B", "Show its sub-panels")
	if got := fmt.Sprint(mapAreas(admin.get(strings.ReplaceAll(m[1], "&amp;", "&")).Body)); got != "[[District A1: No data] [District A1: No data]]" {
		t.Errorf("Province A's sub-panels: %s", got)
	}
}
