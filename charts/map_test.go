package charts

import (
	"bytes"
	"compress/gzip"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"tracpro/rapidpro/fake"
)

func gz(t *testing.T, s string) int {
	t.Helper()
	var b bytes.Buffer
	w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	w.Write([]byte(s))
	w.Close()
	return b.Len()
}

// largeCountry generates the simulator's 200-area country and returns its
// districts' shapes and names.
func largeCountry(t *testing.T) ([]*GeoShape, []string, int) {
	t.Helper()
	s := fake.NewStore(nil)
	fake.Generate(s, fake.GenConfig{Seed: 11, Contacts: 20, Weeks: 1, Areas: 200})
	var shapes []*GeoShape
	var names []string
	points := 0
	for _, b := range s.Boundaries {
		if b.Level != 2 {
			continue
		}
		sh, err := ParseGeoJSON(string(b.Geometry))
		if err != nil {
			t.Fatalf("%s: %v", b.Name, err)
		}
		shapes = append(shapes, sh)
		names = append(names, b.Name)
		points += sh.Points()
	}
	return shapes, names, points
}

var pathRe = regexp.MustCompile(`<path d="([^"]+)"`)

// TestMap200Areas is issue #7's size rule: the whole 200-district country,
// each district a link with its name and figure, weighs at most 25 KB gzipped.
func TestMap200Areas(t *testing.T) {
	shapes, names, points := largeCountry(t)
	if len(shapes) < 190 || len(shapes) > 210 {
		t.Fatalf("the large country has %d districts, want about 200", len(shapes))
	}
	if points/len(shapes) < 60 {
		t.Fatalf("districts average %d vertices; realistic borders have many", points/len(shapes))
	}
	legend := []LegendItem{{"Good", MapPalette[0]}, {"Fair", MapPalette[1]}, {"Poor", MapPalette[2]}, {"Other", MapOther}}
	areas := make([]MapArea, len(shapes))
	for i, sh := range shapes {
		areas[i] = MapArea{Shape: sh, Name: names[i], Fill: legend[i%4].Color, Figure: strconv.Itoa(10+i%37) + ".25 · " + legend[i%4].Name,
			Link: "/poll/read/12/?view=map&map_area=" + strconv.Itoa(5000+i), Cells: []string{strconv.Itoa(10+i%37) + ".25", legend[i%4].Name}}
	}
	m := Map(areas, legend, Labels{Title: "Pupils", Desc: "Average per district", Table: "Data table", X: "Panel"}, MapOptions{HXTarget: "#poll-body", Columns: []string{"Average", "Category"}})
	paths := pathRe.FindAllStringSubmatch(string(m.SVG), -1)
	if len(paths) != len(shapes) {
		t.Fatalf("%d paths for %d districts", len(paths), len(shapes))
	}
	kept := 0
	for _, p := range paths {
		kept += strings.Count(p[1], " ") / 2
	}
	size := gz(t, string(m.SVG))
	t.Logf("200-area map: %d districts, %d vertices stored, ~%d drawn; SVG %d B raw, %d B gzip (budget 25600)", len(shapes), points, kept, len(m.SVG), size)
	if size > 25*1024 {
		t.Errorf("the 200-area map SVG is %d B gzipped, over 25 KB", size)
	}
	if kept > points/2 {
		t.Errorf("simplification kept %d of %d vertices", kept, points)
	}
	if !strings.Contains(string(m.SVG), `hx-target:inherited="#poll-body"`) || !strings.Contains(string(m.SVG), `<title>`+names[0]+`: 10.25 · Good</title>`) {
		t.Error("areas lack their htmx target or their figure")
	}
}

// TestMapProjectionNorthUp checks the projection: north is up, east is right,
// and a degree of longitude is cos φ shorter than one of latitude.
func TestMapProjectionNorthUp(t *testing.T) {
	// Two squares of 1° at 60° S: west one, east one.
	west, _ := ParseGeoJSON(`{"type":"Polygon","coordinates":[[[10,-60],[11,-60],[11,-59],[10,-59],[10,-60]]]}`)
	east, _ := ParseGeoJSON(`{"type":"MultiPolygon","coordinates":[[[[11,-60],[12,-60],[12,-59],[11,-59],[11,-60]]]]}`)
	m := Map([]MapArea{{Shape: west, Name: "W"}, {Shape: east, Name: "E"}}, nil, Labels{Title: "t"}, MapOptions{})
	vb := regexp.MustCompile(`viewBox="0 0 (\d+) (\d+)"`).FindStringSubmatch(string(m.SVG))
	w, _ := strconv.Atoi(vb[1])
	h, _ := strconv.Atoi(vb[2])
	// 2° of longitude at cos(59.5°) ≈ 0.508 → 1.015 units of width per 1 of height.
	if w != MapWidth || h < 700 || h > 716 {
		t.Fatalf("viewBox %dx%d, want 720 wide and about 709 high", w, h)
	}
	ps := pathRe.FindAllStringSubmatch(string(m.SVG), -1)
	if !strings.HasPrefix(ps[0][1], "M3 ") || !strings.HasPrefix(ps[1][1], "M360 ") {
		t.Fatalf("west square should start at the left edge, east one in the middle: %q %q", ps[0][1], ps[1][1])
	}
	if strings.Contains(string(m.SVG), "direction") || strings.Contains(string(m.SVG), "scale(-1") {
		t.Error("the map must never be mirrored")
	}
}

// TestSimplifyKeepsShape: a ring with many collinear points keeps only its
// corners; a tiny island disappears but a lone tiny area stays visible.
func TestSimplifyKeepsShape(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"type":"MultiPolygon","coordinates":[[[`)
	for i := 0; i <= 100; i++ {
		b.WriteString("[" + strconv.FormatFloat(float64(i)/100, 'f', -1, 64) + ",0],")
	}
	b.WriteString(`[1,1],[0,1],[0,0]]],[[[5,5],[5.0001,5],[5.0001,5.0001],[5,5]]]]}`)
	s, err := ParseGeoJSON(b.String())
	if err != nil {
		t.Fatal(err)
	}
	rs := s.rings(-10)
	if len(rs) != 1 || len(rs[0]) != 5 {
		t.Fatalf("simplified to %d rings, first of %d points; want the square's 4 corners closed", len(rs), len(rs[0]))
	}
	tiny, _ := ParseGeoJSON(`{"type":"Polygon","coordinates":[[[5,5],[5.0001,5],[5.0001,5.0001],[5,5]]]}`)
	if rs := tiny.rings(-10); len(rs) != 1 {
		t.Fatal("a tiny area vanished")
	}
	if _, err := ParseGeoJSON(`{"type":"Point","coordinates":[1,2]}`); err == nil {
		t.Error("a point is not a boundary")
	}
}

// TestMapCacheVersions: a newer version of a boundary replaces the older.
func TestMapCacheVersions(t *testing.T) {
	var c GeoCache
	s1, _ := ParseGeoJSON(`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}`)
	c.Put(GeoKey{1, 100}, s1)
	if c.Get(GeoKey{1, 100}) != s1 || c.Get(GeoKey{1, 101}) != nil || c.Get(GeoKey{2, 100}) != nil {
		t.Fatal("cache lookups by version")
	}
}
