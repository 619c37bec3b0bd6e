// Package stats holds the small descriptive statistics the charts and the
// models share (SPEC §3.3 and §3.6 summaries): no dependencies, so models
// need not import charts.
package stats

import "math"

// Mean is the arithmetic mean of xs, 0 when there are none.
func Mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// PopulationSD is the population standard deviation of xs (divides by n, as
// numpy.std does), 0 when there are none.
func PopulationSD(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	m := Mean(xs)
	s := 0.0
	for _, x := range xs {
		s += (x - m) * (x - m)
	}
	return math.Sqrt(s / float64(len(xs)))
}
