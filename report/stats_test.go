package report

import (
	"errors"
	"math"
	"math/rand"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestSummarizeUpperOutlierRemoved(t *testing.T) {
	// Sorted: 10 11 12 13 14 100. Quartiles (R type 4, gonum LinInterp):
	// Q1 = x1+0.5(x2-x1) = 10.5, Q3 = x4+0.5(x5-x4) = 13.5, IQR 3, fences
	// 6 and 18: 100 is an upper outlier and is removed.
	s := Summarize([]float64{12, 100, 10, 14, 11, 13})
	if s.Outliers != 1 || s.OutliersRemoved != 1 || s.N != 5 {
		t.Fatalf("outliers %d removed %d n %d, want 1 1 5", s.Outliers, s.OutliersRemoved, s.N)
	}
	if s.Mean != 12 || s.Median != 12 {
		t.Errorf("mean %v median %v, want 12 12", s.Mean, s.Median)
	}
	// sd of 10..14 with n-1: sqrt(10/4).
	if !near(s.StdDev, math.Sqrt(2.5), 1e-12) {
		t.Errorf("stddev %v", s.StdDev)
	}
	// t(0.975, 4) = 2.776445105 (tables); half-width = t*sd/sqrt(5).
	h := 2.776445105 * math.Sqrt(2.5) / math.Sqrt(5)
	if !near(s.CI95[0], 12-h, 1e-6) || !near(s.CI95[1], 12+h, 1e-6) {
		t.Errorf("ci95 %v, want 12 ± %v", s.CI95, h)
	}
}

func TestSummarizeLowerOutlierKept(t *testing.T) {
	// n=8: Q1 = x2 = 50, Q3 = x6 = 52, IQR 2, lower fence 47: 1 is an
	// outlier, counted but kept (RemoveUpper).
	s := Summarize([]float64{50, 1, 50, 51, 51, 52, 52, 53})
	if s.Outliers != 1 || s.OutliersRemoved != 0 || s.N != 8 {
		t.Fatalf("outliers %d removed %d n %d, want 1 0 8", s.Outliers, s.OutliersRemoved, s.N)
	}
	if s.Median != 51 || s.Mean != 45 {
		t.Errorf("median %v mean %v, want 51 45", s.Median, s.Mean)
	}
}

func TestSummarizeSmall(t *testing.T) {
	if s := Summarize(nil); s != (Stats{}) {
		t.Errorf("empty: %+v", s)
	}
	s := Summarize([]float64{5, math.NaN()})
	if s.N != 1 || s.Mean != 5 || s.Median != 5 || s.StdDev != 0 || s.CI95 != [2]float64{} {
		t.Errorf("one sample: %+v", s)
	}
	// Even n: the median is the mean of the middle two (gonum's LinInterp
	// would give 2).
	s = Summarize([]float64{4, 1, 3, 2})
	if s.Median != 2.5 || s.Mean != 2.5 || s.Outliers != 0 {
		t.Errorf("1..4: %+v", s)
	}
	// Two samples: t(0.975,1) = 12.7062047; sd = sqrt(2)/... of {1,3} is sqrt(2).
	s = Summarize([]float64{1, 3})
	h := 12.7062047 * math.Sqrt(2) / math.Sqrt(2)
	if !near(s.CI95[1], 2+h, 1e-5) || !near(s.CI95[0], 2-h, 1e-5) {
		t.Errorf("{1,3} ci %v, want 2 ± %v", s.CI95, h)
	}
}

func TestMannWhitneyKnown(t *testing.T) {
	cases := []struct {
		a, b []float64
		p    float64
	}{
		// Fully separated: only 1 of C(10,5)=252 arrangements gives U=0,
		// two-sided doubles it.
		{[]float64{1, 2, 3, 4, 5}, []float64{6, 7, 8, 9, 10}, 2.0 / 252},
		{[]float64{5, 6, 7, 8}, []float64{1, 2, 3, 4}, 2.0 / 70},
		// Interleaved: U=6 of mean 8; P(U<=6) = 24/70 (counts
		// 1,1,2,3,5,5,7), two-sided 48/70 (scipy: 0.6857).
		{[]float64{1, 3, 5, 7}, []float64{2, 4, 6, 8}, 48.0 / 70},
	}
	for _, c := range cases {
		p, err := MannWhitney(c.a, c.b)
		if err != nil || !near(p, c.p, 1e-9) {
			t.Errorf("MannWhitney(%v, %v) = %v, %v; want %v", c.a, c.b, p, err, c.p)
		}
	}
}

// exactP enumerates every split of the pooled ranks (no ties) and returns
// the two-sided exact p-value: P(|U − mean| ≥ |U_obs − mean|).
func exactP(a, b []float64) float64 {
	n1, n2 := len(a), len(b)
	uObs := 0.0
	for _, x := range a {
		for _, y := range b {
			if x > y {
				uObs++
			}
		}
	}
	mean := float64(n1*n2) / 2
	n := n1 + n2
	total, extreme := 0, 0
	for mask := 0; mask < 1<<n; mask++ {
		cnt, rankSum := 0, 0
		for i := 0; i < n; i++ {
			if mask&(1<<i) != 0 {
				cnt++
				rankSum += i + 1
			}
		}
		if cnt != n1 {
			continue
		}
		total++
		u := float64(rankSum - n1*(n1+1)/2)
		if math.Abs(u-mean) >= math.Abs(uObs-mean)-1e-9 {
			extreme++
		}
	}
	return float64(extreme) / float64(total)
}

func TestMannWhitneyMatchesEnumeration(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for trial := 0; trial < 20; trial++ {
		n1, n2 := 4+rng.Intn(3), 4+rng.Intn(4)
		perm := rng.Perm(n1 + n2)
		a, b := make([]float64, n1), make([]float64, n2)
		for i := range a {
			a[i] = float64(perm[i]) + rng.Float64()*0.1*float64(trial%3)
		}
		for i := range b {
			b[i] = float64(perm[n1+i]) + 0.5
		}
		p, err := MannWhitney(a, b)
		if err != nil {
			t.Fatal(err)
		}
		if want := exactP(a, b); !near(p, want, 1e-9) {
			t.Errorf("trial %d %v vs %v: p %v, enumeration %v", trial, a, b, p, want)
		}
	}
}

func TestMannWhitneyEdgeCases(t *testing.T) {
	p, err := MannWhitney([]float64{3, 3, 3, 3}, []float64{3, 3, 3, 3, 3})
	if err != nil || p != 1 {
		t.Errorf("equal samples: %v, %v; want 1, nil", p, err)
	}
	if _, err := MannWhitney([]float64{1, 2, 3}, []float64{4, 5, 6, 7}); !errors.Is(err, ErrTooFewSamples) {
		t.Errorf("n=3: err %v, want ErrTooFewSamples", err)
	}
	if _, err := MannWhitney([]float64{1, 2, 3, 4}, nil); !errors.Is(err, ErrTooFewSamples) {
		t.Errorf("empty: err %v, want ErrTooFewSamples", err)
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct {
		n    uint64
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1,000"}, {100000, "100,000"}, {1234567, "1,234,567"}} {
		if got := FormatInt(c.n); got != c.want {
			t.Errorf("FormatInt(%d) = %q, want %q", c.n, got, c.want)
		}
	}
	for _, c := range []struct {
		v    float64
		want string
	}{{0.5, "0.50"}, {79.914, "79.91"}, {99.994, "99.99"}, {100, "100.0"}, {1946.26, "1,946.3"},
		{1234567.89, "1,234,567.9"}, {-1234.56, "-1,234.6"}, {-12.345678, "-12.35"}, {math.Inf(1), "∞"}} {
		if got := FormatFloat(c.v); got != c.want {
			t.Errorf("FormatFloat(%v) = %q, want %q", c.v, got, c.want)
		}
	}
}
