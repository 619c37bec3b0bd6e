package fake

import (
	"encoding/json"
	"math"
	"testing"
)

// TestLargeCountry: GenConfig.Areas gives a country of about that many
// districts whose fractal borders tile it exactly: every border segment is
// drawn by at most two districts (in opposite directions), and the districts'
// areas add up to the country's.
func TestLargeCountry(t *testing.T) {
	s := NewStore(nil)
	info := Generate(s, GenConfig{Seed: 5, Contacts: 50, Weeks: 1, Areas: 200})
	levels := map[int]int{}
	rings := map[int][][][2]float64{}
	for _, b := range s.Boundaries {
		levels[b.Level]++
		var g struct {
			Type        string
			Coordinates [][][][2]float64
		}
		if err := json.Unmarshal(b.Geometry, &g); err != nil || g.Type != "MultiPolygon" {
			t.Fatalf("%s: %v %s", b.Name, err, g.Type)
		}
		rings[b.Level] = append(rings[b.Level], g.Coordinates[0][0])
	}
	if levels[0] != 1 || levels[1] != 10 || levels[2] != 200 || len(info.Panels) != 211 {
		t.Fatalf("levels %v, %d panels", levels, len(info.Panels))
	}
	area := func(r [][2]float64) float64 {
		a := 0.0
		for i := 0; i+1 < len(r); i++ {
			a += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
		}
		return a / 2
	}
	sum, vertices := 0.0, 0
	seg := map[[4]float64]int{}
	for _, r := range rings[2] {
		if area(r) <= 0 {
			t.Fatal("a district ring is not counter-clockwise")
		}
		sum += area(r)
		vertices += len(r)
		for i := 0; i+1 < len(r); i++ {
			seg[[4]float64{r[i][0], r[i][1], r[i+1][0], r[i+1][1]}]++
		}
	}
	for k, n := range seg {
		if n > 1 || seg[[4]float64{k[2], k[3], k[0], k[1]}] > 1 {
			t.Fatalf("segment %v drawn %d times in one direction", k, n)
		}
	}
	country := area(rings[0][0])
	if math.Abs(sum-country) > 1e-6*country {
		t.Fatalf("districts cover %.6f, the country %.6f", sum, country)
	}
	if vertices/200 < 60 {
		t.Fatalf("districts have %d vertices on average; borders should wiggle", vertices/200)
	}
}
