package report

import (
	"errors"
	"fmt"
	"math"
	"sort"

	mstats "github.com/aclements/go-moremath/stats"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Alpha is the significance level of the Mann–Whitney U test used for
// native-time verdicts (as benchstat's default -alpha).
const Alpha = 0.05

// MinSamplesUTest is the smallest number of samples per side with which a
// two-sided Mann–Whitney U test can reach p < 0.05 (benchstat: with n = 3
// per side the smallest possible p is 2/20 = 0.1).
const MinSamplesUTest = 4

// ErrTooFewSamples is returned by MannWhitney when either side has fewer
// than MinSamplesUTest samples: such a test can never be significant at
// α = 0.05, so its p-value would only give false comfort.
var ErrTooFewSamples = errors.New("report: too few samples for a Mann–Whitney U test (need at least 4 per side)")

// Summarize summarises wall-clock samples, BenchmarkDotNet-style.
//
// Outliers are found with Tukey fences: below Q1 − 1.5·IQR or above
// Q3 + 1.5·IQR, with the quartiles from gonum's stat.Quantile(LinInterp)
// on the sorted samples (requires n ≥ 4; smaller samples have no
// outliers). Stats.Outliers counts the outliers on both sides and
// Stats.OutliersRemoved the upper ones. Like BenchmarkDotNet's default
// OutlierMode.RemoveUpper, the upper outliers (a preempted or migrated
// run only ever makes a sample slower) are excluded from every figure,
// while lower outliers are kept; the caller keeps the raw samples (e.g.
// in Native.SamplesNs).
//
// Over the remaining N samples: Mean, Median (the middle value, or the
// mean of the two middle values), StdDev (n−1 denominator,
// stat.MeanStdDev), and CI95, the 95% confidence interval of the mean
// from Student's t with N−1 degrees of freedom (distuv.StudentsT). With
// N < 2 the interval is undefined and CI95 is [0, 0] (JSON has no
// infinity); StdDev is then 0. No field is ever NaN or infinite for
// finite input. NaN samples are dropped before anything else.
func Summarize(samples []float64) Stats {
	xs := make([]float64, 0, len(samples))
	for _, v := range samples {
		if !math.IsNaN(v) {
			xs = append(xs, v)
		}
	}
	sort.Float64s(xs)
	var s Stats
	if len(xs) == 0 {
		return s
	}
	if len(xs) >= 4 {
		q1 := stat.Quantile(0.25, stat.LinInterp, xs, nil)
		q3 := stat.Quantile(0.75, stat.LinInterp, xs, nil)
		iqr := q3 - q1
		lo, hi := q1-1.5*iqr, q3+1.5*iqr
		kept := xs[:0:0]
		for _, v := range xs {
			switch {
			case v > hi:
				s.Outliers++
				s.OutliersRemoved++
			case v < lo:
				s.Outliers++
				kept = append(kept, v)
			default:
				kept = append(kept, v)
			}
		}
		xs = kept
	}
	n := len(xs)
	s.N = n
	s.Median = median(xs)
	if n == 1 {
		s.Mean = xs[0]
		return s
	}
	mean, sd := stat.MeanStdDev(xs, nil)
	s.Mean, s.StdDev = mean, sd
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile(0.975)
	h := t * sd / math.Sqrt(float64(n))
	s.CI95 = [2]float64{mean - h, mean + h}
	return s
}

// median of sorted xs.
func median(xs []float64) float64 {
	n := len(xs)
	switch {
	case n == 0:
		return 0
	case n%2 == 1:
		return xs[n/2]
	default:
		return (xs[n/2-1] + xs[n/2]) / 2
	}
}

// MannWhitney returns the two-sided p-value of the Mann–Whitney U test
// (github.com/aclements/go-moremath/stats.MannWhitneyUTest: exact for
// small samples without ties, normal approximation with tie and
// continuity corrections otherwise) for "a and b come from distributions
// with different locations". Identical samples (all values equal, as
// deterministic figures produce) give p = 1 and no error. Fewer than
// MinSamplesUTest samples on either side give ErrTooFewSamples.
func MannWhitney(a, b []float64) (p float64, err error) {
	if len(a) < MinSamplesUTest || len(b) < MinSamplesUTest {
		return 0, ErrTooFewSamples
	}
	res, err := mstats.MannWhitneyUTest(a, b, mstats.LocationDiffers)
	if errors.Is(err, mstats.ErrSamplesEqual) {
		return 1, nil
	}
	if err != nil {
		return 0, fmt.Errorf("report: Mann–Whitney U test: %w", err)
	}
	return res.P, nil
}
