package fake

import (
	"encoding/json"
	"math"
	"testing"
)

type multiPolygon struct {
	Type        string          `json:"type"`
	Coordinates [][][][]float64 `json:"coordinates"`
}

// ringArea is the signed shoelace area (positive when counter-clockwise).
func ringArea(ring [][]float64) float64 {
	a := 0.0
	for i := 0; i+1 < len(ring); i++ {
		a += ring[i][0]*ring[i+1][1] - ring[i+1][0]*ring[i][1]
	}
	return a / 2
}

func TestPanelTreeAndBoundaries(t *testing.T) {
	s, info := genStore(t, 11, 200, 1)
	tree := PanelTree(s)
	if len(tree) != len(info.Panels) || len(tree) != 36 {
		t.Fatalf("tree has %d panels, info %d", len(tree), len(info.Panels))
	}
	levels := map[int]int{}
	for _, p := range Panels(s) {
		levels[p.Level]++
		osm, parent, ok := PanelBoundary(s, p.Name)
		if !ok || osm != p.OSMID || parent != tree[p.Name] {
			t.Fatalf("PanelBoundary(%q) = %q %q %v", p.Name, osm, parent, ok)
		}
		switch p.Level {
		case 0:
			if p.Parent != "" {
				t.Fatalf("root %q has parent %q", p.Name, p.Parent)
			}
		default:
			if pp := tree[p.Parent]; p.Parent == "" || (p.Level == 1) != (pp == "") {
				t.Fatalf("panel %q (level %d) has parent %q", p.Name, p.Level, p.Parent)
			}
		}
	}
	if levels[0] != 1 || levels[1] != 5 || levels[2] != 30 {
		t.Fatalf("levels %v", levels)
	}
	if _, _, ok := PanelBoundary(s, "Head Teachers"); ok {
		t.Fatal("a cohort is reported as a panel")
	}

	byOSM := map[string]*Boundary{}
	for _, b := range s.Boundaries {
		if byOSM[b.OSMID] != nil {
			t.Fatalf("duplicate osm id %s", b.OSMID)
		}
		byOSM[b.OSMID] = b
	}
	area := map[string]float64{}
	childArea := map[string]float64{}
	for _, b := range s.Boundaries {
		if b.Level > 0 && (byOSM[b.Parent] == nil || byOSM[b.Parent].Level != b.Level-1) {
			t.Fatalf("boundary %s has bad parent %q", b.Name, b.Parent)
		}
		var g multiPolygon
		if err := json.Unmarshal(b.Geometry, &g); err != nil || g.Type != "MultiPolygon" || len(g.Coordinates) != 1 || len(g.Coordinates[0]) != 1 {
			t.Fatalf("geometry of %s: %v %s", b.Name, err, b.Geometry)
		}
		ring := g.Coordinates[0][0]
		first, last := ring[0], ring[len(ring)-1]
		if first[0] != last[0] || first[1] != last[1] {
			t.Fatalf("ring of %s not closed", b.Name)
		}
		if b.Level == 2 && (len(ring)-1 < 20 || len(ring)-1 > 60) {
			t.Fatalf("district %s ring has %d vertices", b.Name, len(ring)-1)
		}
		for _, p := range ring {
			if p[0] < 28.5 || p[0] > 31.2 || p[1] < -3.1 || p[1] > -0.8 || math.Abs(p[0]*1e6-math.Round(p[0]*1e6)) > 1e-3 {
				t.Fatalf("point %v of %s", p, b.Name)
			}
		}
		a := ringArea(ring)
		if a <= 0 {
			t.Fatalf("ring of %s is not counter-clockwise (area %g)", b.Name, a)
		}
		area[b.OSMID] = a
		childArea[b.Parent] += a
	}
	// Children tile their parent: the areas add up exactly (shared vertices).
	for osm, sum := range childArea {
		if osm == "" {
			continue
		}
		if math.Abs(sum-area[osm]) > 1e-9 {
			t.Fatalf("children of %s cover %g, parent %g", byOSM[osm].Name, sum, area[osm])
		}
	}
}

func TestSplitBlock(t *testing.T) {
	for n := 1; n <= 9; n++ {
		b := [4]int{3, 5, 17, 27}
		cells := 0
		parts := splitBlock(b, n)
		if len(parts) != n {
			t.Fatalf("n=%d: %d parts", n, len(parts))
		}
		for _, p := range parts {
			if p[0] < b[0] || p[1] < b[1] || p[2] > b[2] || p[3] > b[3] || p[2] <= p[0] || p[3] <= p[1] {
				t.Fatalf("n=%d: part %v outside %v", n, p, b)
			}
			cells += (p[2] - p[0]) * (p[3] - p[1])
		}
		if cells != (b[2]-b[0])*(b[3]-b[1]) {
			t.Fatalf("n=%d: parts cover %d cells", n, cells)
		}
	}
}
