package stats

import (
	"math"
	"testing"
)

// TestMeanSD checks SPEC §3.6's verified example (sums 42, 84, 126 → mean
// 84, SD 34.3) and the empty case.
func TestMeanSD(t *testing.T) {
	xs := []float64{42, 84, 126}
	if m, sd := Mean(xs), PopulationSD(xs); m != 84 || math.Round(sd*10)/10 != 34.3 {
		t.Fatalf("mean %v, SD %v", m, sd)
	}
	if Mean(nil) != 0 || PopulationSD(nil) != 0 {
		t.Fatal("empty input is not 0")
	}
}
