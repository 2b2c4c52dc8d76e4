// Package calibrate fits a cycle model to this machine: it emulates
// microbenchmarks for their instruction-class counts and mispredictions,
// times them natively, and fits the model's costs and latencies (see
// cycles/README.md, "Calibration").
package calibrate

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"sort"
	"time"

	"github.com/osrsim/osrsim/cycles"
	"github.com/osrsim/osrsim/cycles/emu"
	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/native"
	"github.com/osrsim/osrsim/sim/unicorn"
	"gonum.org/v1/gonum/mat"
)

// Options control Run. The zero value is usable.
type Options struct {
	// Name of the fitted model (default "calibrated").
	Name string
	// Base gives the predictor parameters and the prior the fit is pulled
	// towards where the benchmarks do not determine a cost (default
	// cycles.Default()).
	Base *cycles.Model
	// Iterations of each benchmark's loop per native sample (default
	// 200000; each sample takes a few milliseconds).
	Iterations int
	// Samples per benchmark natively; the median is used (default 7).
	Samples int
	// Prior is the ridge weight pulling each coefficient towards Base's
	// value, relative to one benchmark row (default 0.01).
	Prior float64
	// Log, if set, receives one line per benchmark.
	Log io.Writer
}

// Columns of the design matrix after the classes.
const (
	colTaken = int(cycles.NumClasses) + iota
	colBranch
	colIndirect
	colReturn
	numCols
)

func colName(j int) string {
	switch j {
	case colTaken:
		return "taken"
	case colBranch:
		return "mispredict.branch"
	case colIndirect:
		return "mispredict.indirect"
	case colReturn:
		return "mispredict.return"
	}
	return cycles.InstClass(j).String()
}

func params(m *cycles.Model) []float64 {
	x := make([]float64, numCols)
	for i := range cycles.NumClasses {
		x[i] = m.Cost[i]
	}
	x[colTaken], x[colBranch], x[colIndirect], x[colReturn] = m.Taken, m.BranchPenalty, m.IndirectPenalty, m.ReturnPenalty
	return x
}

func setParams(m *cycles.Model, x []float64) {
	for i := range cycles.NumClasses {
		m.Cost[i] = x[i]
	}
	m.Taken, m.BranchPenalty, m.IndirectPenalty, m.ReturnPenalty = x[colTaken], x[colBranch], x[colIndirect], x[colReturn]
}

// row is a benchmark's per-iteration counts, one entry per column.
func row(c *cycles.Counts) []float64 {
	r := make([]float64, numCols)
	for i, n := range c.ByClass {
		r[i] = float64(n)
	}
	r[colTaken] = float64(c.Taken)
	r[colBranch] = float64(c.BranchMispredicts)
	r[colIndirect] = float64(c.IndirectMispredicts)
	r[colReturn] = float64(c.ReturnMispredicts)
	return r
}

// maxInstructions bounds every emulated benchmark run.
const maxInstructions = 1 << 30

// emuRow emulates im with n and 2n iterations and returns the counts of
// the n extra iterations, per iteration (so the entry stub and predictor
// warm-up cancel out).
func emuRow(im *sim.Image, m *cycles.Model, n int) ([]float64, error) {
	var rows [2][]float64
	for i, it := range []int{n, 2 * n} {
		c := *im
		c.Arg = uint64(it)
		_, cc, err := emu.Run(&c, unicorn.Options{MaxInstructions: maxInstructions}, m, true)
		if err != nil {
			return nil, err
		}
		rows[i] = row(cc)
	}
	r := make([]float64, numCols)
	for j := range r {
		r[j] = (rows[1][j] - rows[0][j]) / float64(n)
	}
	return r, nil
}

// nativeNs runs im natively (it completed under emulation) and returns the
// median ns per loop iteration.
func nativeNs(im *sim.Image, iters, samples int) (float64, error) {
	c := *im
	c.Arg = uint64(iters)
	l, err := native.Load(&c)
	if err != nil {
		return 0, err
	}
	defer l.Close()
	res, err := l.Run(native.Options{Warmup: 2, Samples: samples})
	if err != nil {
		return 0, err
	}
	s := append([]float64(nil), res.SamplesNs...)
	sort.Float64s(s)
	return s[len(s)/2] / float64(iters), nil
}

// Run runs the calibration microbenchmarks (one loop per instruction
// class, plus taken-branch and misprediction loops; see
// cycles/README.md): each
// is emulated first (class counts and mispredictions per iteration, with
// Base's predictors), then timed natively on this machine. Native ns are
// converted to cycles with the clock measured by a dependent-add chain,
// and the per-class costs, the taken-transfer cost and the three
// misprediction penalties are fitted by least squares on relative errors
// (gonum/mat, QR), with a small ridge prior towards Base, and clamped at
// zero (refitting without the clamped columns).
//
// It needs the native engine (linux/amd64); elsewhere it returns
// native.ErrUnsupported. Write the result with cycles.WriteFile and name
// the file in a config's `cycle_model:`.
func Run(opt Options) (*cycles.File, error) {
	if opt.Name == "" {
		opt.Name = "calibrated"
	}
	if opt.Base == nil {
		opt.Base = cycles.Default()
	}
	if err := opt.Base.Validate(); err != nil {
		return nil, err
	}
	if opt.Iterations <= 0 {
		opt.Iterations = 200000
	}
	if opt.Samples <= 0 {
		opt.Samples = 7
	}
	if opt.Prior <= 0 {
		opt.Prior = 0.01
	}
	logf := func(format string, args ...any) {
		if opt.Log != nil {
			fmt.Fprintf(opt.Log, format, args...)
		}
	}
	cal := &cycles.Calibration{
		Host:       fmt.Sprintf("%s/%s, %d CPUs", runtime.GOOS, runtime.GOARCH, runtime.NumCPU()),
		Date:       time.Now().UTC().Format(time.RFC3339),
		Iterations: opt.Iterations, Samples: opt.Samples, Prior: opt.Prior,
	}
	var rows [][]float64
	var ns []float64
	var fit []bench
	var lat []latBench
	for _, bn := range benches {
		im, err := benchImage(bn)
		if err != nil {
			return nil, err
		}
		r, err := emuRow(im, opt.Base, 1000) // emulate before native
		if err != nil {
			return nil, fmt.Errorf("calibrate %s: emulation: %w", bn.name, err)
		}
		t, err := nativeNs(im, opt.Iterations, opt.Samples)
		if err != nil {
			return nil, fmt.Errorf("calibrate %s: native: %w", bn.name, err)
		}
		logf("%-16s %8.3f ns/iter\n", bn.name, t)
		if bn.clock {
			adds := r[cycles.ClassALU] - 1 // minus the loop's dec
			cal.ClockGHz = adds / t
			logf("clock            %8.3f GHz\n", cal.ClockGHz)
			continue
		}
		if bn.latency != "" && bn.latency[:8] != "penalty." {
			lat = append(lat, latBench{bn, im, t})
			continue
		}
		if bn.latency != "" {
			lat = append(lat, latBench{bn, im, t})
		}
		rows, ns, fit = append(rows, r), append(ns, t), append(fit, bn)
	}
	if cal.ClockGHz <= 0 || math.IsNaN(cal.ClockGHz) {
		return nil, fmt.Errorf("calibrate: bad clock measurement %v GHz", cal.ClockGHz)
	}
	y := make([]float64, len(ns))
	for i, t := range ns {
		y[i] = t * cal.ClockGHz
	}
	x, err := fitCosts(rows, y, params(opt.Base), opt.Prior)
	if err != nil {
		return nil, err
	}
	m := *opt.Base
	m.Name = opt.Name
	setParams(&m, x)
	if m.Core != nil {
		k := *m.Core
		m.Core = &k
		for _, lb := range lat {
			v, est, err := fitLatency(&m, lb, cal.ClockGHz)
			if err != nil {
				return nil, err
			}
			logf("%-22s %7.2f cycles (benchmark %.2f cycles/iter, model %.2f)\n", lb.bn.latency, v, lb.ns*cal.ClockGHz, est)
		}
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("calibrate: fitted model invalid: %w", err)
	}
	var se float64
	for _, lb := range lat {
		if lb.bn.latency[:8] == "penalty." {
			continue
		}
		est, err := emuCycles(&m, lb.im, 1000)
		if err != nil {
			return nil, err
		}
		y := lb.ns * cal.ClockGHz
		rel := (est - y) / y
		se += rel * rel
		cal.Benchmarks = append(cal.Benchmarks, cycles.BenchResult{Name: lb.bn.name, Ns: lb.ns, Cycles: y, Model: est})
	}
	for i, bn := range fit {
		est := dot(rows[i], x)
		if m.Core != nil {
			// The core model is not linear in its parameters: evaluate it.
			var err error
			if est, err = emuCycles(&m, benchImageMust(bn), 1000); err != nil {
				return nil, err
			}
		}
		rel := (est - y[i]) / y[i]
		se += rel * rel
		br := cycles.BenchResult{Name: bn.name, Ns: ns[i], Cycles: y[i], Model: est, Counts: map[string]float64{}}
		for j, v := range rows[i] {
			if v != 0 {
				br.Counts[colName(j)] = v
			}
		}
		cal.Benchmarks = append(cal.Benchmarks, br)
	}
	cal.RMSRelError = math.Sqrt(se / float64(len(cal.Benchmarks)))
	f := cycles.FileOf(&m)
	f.Calibration = cal
	return f, nil
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// fitCosts solves min Σ_i ((A_i·x - y_i)/y_i)² + prior·Σ_j ((x_j - x0_j)/s_j)²
// with s_j = max(x0_j, 0.25)
// (each row scaled to relative error; the prior keeps columns that the
// benchmarks leave undetermined at their base value) with x ≥ 0: columns
// that come out negative are fixed at 0 and the rest refitted.
func fitCosts(A [][]float64, y, x0 []float64, prior float64) ([]float64, error) {
	n := len(x0)
	fixed := make([]bool, n)
	for {
		var free []int
		for j := range n {
			if !fixed[j] {
				free = append(free, j)
			}
		}
		rowsN := len(A) + len(free)
		M := mat.NewDense(rowsN, len(free), nil)
		b := mat.NewVecDense(rowsN, nil)
		for i, r := range A {
			for k, j := range free {
				M.Set(i, k, r[j]/y[i])
			}
			b.SetVec(i, 1)
		}
		w := math.Sqrt(prior)
		for k, j := range free {
			// Relative to the base value: a coefficient twice its base
			// costs as much as a benchmark off by sqrt(prior).
			sc := max(x0[j], 0.25)
			M.Set(len(A)+k, k, w/sc)
			b.SetVec(len(A)+k, w*x0[j]/sc)
		}
		var sol mat.VecDense
		if err := sol.SolveVec(M, b); err != nil {
			return nil, fmt.Errorf("calibrate: least squares: %w", err)
		}
		x := make([]float64, n)
		neg := false
		for k, j := range free {
			v := sol.AtVec(k)
			if v < 0 {
				fixed[j] = true
				neg = true
			}
			x[j] = v
		}
		if !neg {
			for j := range n {
				if fixed[j] {
					x[j] = 0
				}
			}
			return x, nil
		}
	}
}

// A latency benchmark: the core-model parameter it determines.
type latBench struct {
	bn bench
	im *sim.Image
	ns float64 // measured per iteration
}

func benchImageMust(bn bench) *sim.Image {
	im, err := benchImage(bn)
	if err != nil {
		panic(err)
	}
	return im
}

// emuCycles is the model's estimate per iteration of im's loop
// (difference of a 2n and an n iteration run).
func emuCycles(m *cycles.Model, im *sim.Image, n int) (float64, error) {
	var est [2]float64
	for i, it := range []int{n, 2 * n} {
		c := *im
		c.Arg = uint64(it)
		_, cc, err := emu.Run(&c, unicorn.Options{MaxInstructions: maxInstructions}, m, false)
		if err != nil {
			return 0, err
		}
		est[i] = cc.Estimated
	}
	return (est[1] - est[0]) / float64(n), nil
}

// latencyParam returns a pointer to the parameter a latency benchmark
// determines.
func latencyParam(m *cycles.Model, name string) *float64 {
	switch name {
	case latLoad:
		return &m.Core.LoadLatency
	case latForward:
		return &m.Core.ForwardLatency
	case latStackFwd:
		return &m.Core.StackForwardLatency
	case latAlias:
		return &m.Core.AliasLatency
	case latCommit:
		return &m.Core.StoreCommitDelay
	case latBranchPen:
		return &m.BranchPenalty
	case latReturnPen:
		return &m.ReturnPenalty
	case latIndirectPn:
		return &m.IndirectPenalty
	}
	panic("unknown latency parameter " + name)
}

// fitLatency sets the benchmark's parameter (in 0..200 cycles) so that the
// core model's estimate per iteration matches the measurement: the
// estimate does not decrease as the parameter grows, so bisection finds
// it. Parameters the benchmark cannot move keep their base value.
func fitLatency(m *cycles.Model, lb latBench, ghz float64) (float64, float64, error) {
	p := latencyParam(m, lb.bn.latency)
	target := lb.ns * ghz
	base := *p
	at := func(v float64) (float64, error) { *p = v; return emuCycles(m, lb.im, 500) }
	lo, hi := 0.0, 200.0
	elo, err := at(lo)
	if err != nil {
		return 0, 0, err
	}
	ehi, err := at(hi)
	if err != nil {
		return 0, 0, err
	}
	if ehi-elo < 1e-3 {
		*p = base
		e, err := at(base)
		return base, e, err
	}
	if target <= elo {
		*p = lo
		return lo, elo, nil
	}
	if target >= ehi {
		*p = hi
		return hi, ehi, nil
	}
	for range 24 {
		mid := (lo + hi) / 2
		e, err := at(mid)
		if err != nil {
			return 0, 0, err
		}
		if e < target {
			lo = mid
		} else {
			hi = mid
		}
	}
	*p = math.Round((lo+hi)/2*100) / 100
	e, err := at(*p)
	return *p, e, err
}
