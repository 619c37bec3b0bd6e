package handlers

import (
	"strings"
	"testing"

	"tracpro/models"
)

// Authorization matrix entries of the maps. Province A and its districts get
// boundaries; the poll run map is of a run sent to Province A, drilled down
// to Province A: supervisor B is refused it with 404 (out of scope), the
// administrator of org 2 with 403 (not a member). No answer ever names
// Province B's districts on the map.
func init() {
	mapRun := func(f *matrixFixture) string {
		square := `{"type":"Polygon","coordinates":[[[30,-2],[30.1,-2],[30.1,-1.9],[30,-1.9],[30,-2]]]}`
		var bs []models.Boundary
		for i, name := range []string{"Province A", "District A1", "District A2", "District B1"} {
			bs = append(bs, models.Boundary{OSMID: "R" + sid(int64(i)), Name: name, Level: 1 + min(i, 1), Geometry: square})
		}
		if _, _, _, err := f.DB.SyncBoundaries(f.Ctx, f.Org1.ID, bs); err != nil {
			panic(err)
		}
		if _, err := f.DB.LinkRegionsToBoundaries(f.Ctx, f.Org1.ID); err != nil {
			panic(err)
		}
		id := f.matrixRun()
		return "/pollrun/map/" + sid(id) + "/?map_region=" + sid(f.Panels["Province A"])
	}
	addMatrix(map[string]Access{
		"GET /pollrun/map/:id/": {Setup: mapRun, Anon: 303, SupA: 200, SupB: 404, Admin: 200, OtherAdmin: 403, Super: 200,
			Check: func(t *testing.T, p string, r *result) {
				if _, maps, _ := strings.Cut(r.Body, `<div class="maps">`); strings.Contains(maps, "District B1") {
					t.Errorf("%s: the map of Province A names District B1", p)
				}
			}},
	})
}
