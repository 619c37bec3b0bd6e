package fake

import (
	"math/rand"
	"testing"
	"time"
)

// TestSrvRunIndexIncremental checks that merging changes into the previous
// runs index gives exactly the order of a full rebuild.
func TestSrvRunIndexIncremental(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	var runs []*Run
	add := func(id int64) {
		runs = append(runs, &Run{ID: id, ModifiedOn: srvtBase.Add(time.Duration(rng.Intn(50)) * time.Second)})
	}
	for i := 0; i < 2000; i++ {
		add(int64(i + 1))
	}
	ix := svBuildRuns(runs, nil)
	for round := 0; round < 30; round++ {
		for k := 0; k < 1+rng.Intn(40); k++ {
			r := runs[rng.Intn(len(runs))]
			switch rng.Intn(3) {
			case 0:
				r.ModifiedOn = srvtBase.Add(time.Duration(rng.Intn(60)) * time.Second)
			case 1:
				r.Archived = !r.Archived
			default:
				add(int64(len(runs) + 1))
			}
		}
		inc := svBuildRuns(runs, ix)
		full := svBuildRuns(runs, nil)
		if len(inc.all) != len(full.all) {
			t.Fatalf("round %d: %d vs %d runs", round, len(inc.all), len(full.all))
		}
		for i := range full.all {
			if inc.all[i] != full.all[i] || runs[inc.pos[i]] != inc.all[i] {
				t.Fatalf("round %d: order differs at %d", round, i)
			}
		}
		ix = inc
	}
	// a replaced slice forces a full rebuild
	other := append([]*Run{{ID: 99999, ModifiedOn: srvtBase}}, runs...)
	if got := svBuildRuns(other, ix); len(got.all) != len(svBuildRuns(other, nil).all) {
		t.Fatal("replaced slice not rebuilt")
	}
}
