package charts

import (
	"math"

	"tracpro/stats"
)

// Mean is the arithmetic mean of xs, 0 when there are none.
func Mean(xs []float64) float64 { return stats.Mean(xs) }

// PopulationSD is the population standard deviation of xs (divides by n, as
// numpy.std does), 0 when there are none.
func PopulationSD(xs []float64) float64 { return stats.PopulationSD(xs) }

// SDFromSums is the population standard deviation of n values from their sum
// and sum of squares, as the counters keep them; 0 when n is 0. For equal
// values floating-point rounding leaves a variance of about 1e-16 of the mean
// square (or a negative one); that is read as 0.
func SDFromSums(n int, sum, sumSq float64) float64 {
	if n <= 0 {
		return 0
	}
	m := sum / float64(n)
	sq := sumSq / float64(n)
	v := sq - m*m
	if v <= 1e-12*sq {
		return 0
	}
	return math.Sqrt(v)
}

// Round1 rounds to one decimal, half away from zero (the charts' precision).
func Round1(v float64) float64 { return math.Round(v*10) / 10 }

// Run is what the figures of one question in one poll run are computed from.
// Responses counts every response in scope (empty ones too), Answers the
// answers to the question among them (numeric or not), Numeric those whose
// value is a number, Sum and SumSq their sum and sum of squares.
type Run struct {
	Responses, Answers, Numeric int
	Sum, SumSq                  float64
}

// Average is the mean numeric answer of the run, 0 when it has none.
func (r Run) Average() float64 {
	if r.Numeric == 0 {
		return 0
	}
	return r.Sum / float64(r.Numeric)
}

// Rate is the response rate in percent: 100 × answers / responses, 0 when the
// run has no responses.
func (r Run) Rate() float64 {
	if r.Responses == 0 {
		return 0
	}
	return 100 * float64(r.Answers) / float64(r.Responses)
}

// NumericSeries returns the three series a numeric question's time series can
// show (SPEC §3.3), one value per run rounded to 1 decimal: the sum of the
// numeric answers, their average and the response rate. Runs without data give 0.
func NumericSeries(runs []Run) (sums, averages, rates []float64) {
	sums = make([]float64, len(runs))
	averages = make([]float64, len(runs))
	rates = make([]float64, len(runs))
	for i, r := range runs {
		sums[i], averages[i], rates[i] = Round1(r.Sum), Round1(r.Average()), Round1(r.Rate())
	}
	return sums, averages, rates
}

// Summary is the summary table of a question: mean, standard deviation and
// response rate, rounded to 1 decimal.
type Summary struct {
	Mean, SD, ResponseRate float64
}

// Summarize is the summary over several poll runs (SPEC §3.3): Mean and SD
// (population) of the per-run averages, ResponseRate the mean of the per-run
// response rates. A run without numeric answers counts with average 0 and one
// without responses with rate 0, so pass every poll run in range. The figures
// are computed from unrounded per-run values and rounded once at the end.
func Summarize(runs []Run) Summary {
	avgs := make([]float64, len(runs))
	rates := make([]float64, len(runs))
	for i, r := range runs {
		avgs[i], rates[i] = r.Average(), r.Rate()
	}
	return Summary{Round1(Mean(avgs)), Round1(PopulationSD(avgs)), Round1(Mean(rates))}
}

// SummarizeRun is the summary of a single poll run (SPEC §3.4): mean and
// population standard deviation of its numeric answers, and its response rate.
func SummarizeRun(r Run) Summary {
	return Summary{Round1(r.Average()), Round1(SDFromSums(r.Numeric, r.Sum, r.SumSq)), Round1(r.Rate())}
}
