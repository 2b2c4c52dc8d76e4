package runner

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/osrsim/osrsim/cycles"
	"github.com/osrsim/osrsim/experiments"
	"github.com/osrsim/osrsim/patchpoint"
	"github.com/osrsim/osrsim/report"
	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/native"
	"github.com/osrsim/osrsim/sim/unicorn"
	"github.com/osrsim/osrsim/workload"
)

// Options control a run.
type Options struct {
	Version string // osrsim's version, for the report's environment
	Exact   bool   // count with a per-instruction hook (verification mode)
	// Cycles is the cycle model for estimated cycles (nil: none).
	Cycles  *cycles.Model
	Workers int // parallel emulation workers; 0 = GOMAXPROCS
	// Progress receives progress updates (nil: none).
	Progress Progress
	// Shard runs one share of the cells and marks the report as partial
	// (the zero Shard: every cell).
	Shard Shard
	// Done, when closed (e.g. ctx.Done()), stops the run: emulations and
	// native children are stopped and Run returns sim.ErrCanceled.
	Done <-chan struct{}
}

// Progress is told about each finished task.
type Progress interface {
	Start(total int, what string)
	Done()
	Finish()
}

// task is one strategy of one cell. Tasks are small: images are built
// when a task runs and dropped when it is done, so a run's memory does
// not grow with its number of cells.
type task struct {
	index    int // in the run's task order
	cellNo   int // the cell's index in the whole grid (Experiment.Cells)
	cell     experiments.Cell
	strategy patchpoint.Strategy
}

// done is what emulating a task leaves: its result and its image's
// breakdown.
type done struct {
	task      *task
	res       *report.Result
	breakdown []report.Part
	err       error
}

// Run runs every cell of the experiment (or of opt.Shard's share) on its
// engines. Every image is emulated first (that is the safety gate for
// native runs, DESIGN principle 5); emulated results are reported when
// sim.Emu is among the engines. Native runs go one at a time, in a child
// process, after all emulation is done, so they don't share the machine
// with emulation workers.
func Run(e *experiments.Experiment, opt Options) (*report.Report, error) {
	wantEmu, wantNative := slices.Contains(e.Engines, sim.Emu), slices.Contains(e.Engines, sim.Native)
	cells := e.Cells()
	if err := opt.Shard.Check(len(cells)); err != nil {
		return nil, err
	}
	var tasks []*task
	for i, c := range cells {
		if !opt.Shard.has(i) {
			continue
		}
		for _, s := range e.Strategies {
			tasks = append(tasks, &task{index: len(tasks), cellNo: i, cell: c, strategy: s})
		}
	}

	if err := checkPrograms(tasks, wantNative); err != nil {
		return nil, err
	}

	r := &report.Report{Experiment: e.Name, Description: e.Description, Env: Environment(opt.Version), Config: string(e.Resolved())}
	if len(tasks) > 0 {
		r.RuntimeModel = tasks[0].cell.Emu.Runtime.Model.String()
	}
	for _, s := range e.Sweeps {
		r.Sweeps = append(r.Sweeps, s.Key)
	}
	if opt.Shard.Count > 0 {
		r.Shard = &report.Shard{Index: opt.Shard.Index, Count: opt.Shard.Count, Cells: len(cells), Config: fingerprint(e, opt)}
	}
	err := emulateAll(tasks, e, opt, func(d done) {
		r.Breakdown = report.MergeBreakdown(r.Breakdown, d.breakdown)
		if wantEmu {
			r.Results = append(r.Results, *d.res)
		}
	})
	if sim.Closed(opt.Done) {
		return nil, sim.ErrCanceled
	}
	if err != nil {
		return nil, err
	}
	if wantNative {
		res, err := runNative(tasks, e, opt)
		if err != nil {
			return nil, err
		}
		r.Results = append(r.Results, res...)
	}
	report.Compare(r, e.Baseline.String())
	return r, nil
}

// checkPrograms reports a C# program that the reference interpreter sees
// stop with a run-time error, at either scale: the user's error, reported
// before anything runs.
func checkPrograms(tasks []*task, wantNative bool) error {
	for i, t := range tasks {
		if i > 0 && tasks[i-1].cellNo == t.cellNo {
			continue // the cell's other strategies: the same program
		}
		scales := []workload.Params{t.cell.Emu}
		if wantNative {
			scales = append(scales, t.cell.Native)
		}
		for _, p := range scales {
			exp, err := p.Expect()
			if err != nil {
				return err
			}
			if exp.Err != nil {
				return workload.SourceError(p, exp.Err)
			}
		}
	}
	return nil
}

// emulateAll emulates every task on a pool of workers and hands each
// outcome to collect in task order, as soon as it and every task before it
// are done. After an error no new task starts, and the error of the
// earliest failed task is returned.
func emulateAll(tasks []*task, e *experiments.Experiment, opt Options, collect func(done)) error {
	uopt := unicorn.Options{Exact: opt.Exact, MaxInstructions: e.Emulation.MaxInstructions, Timeout: e.Emulation.Timeout, Done: opt.Done}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if opt.Progress != nil {
		opt.Progress.Start(len(tasks), "emulating")
		defer opt.Progress.Finish()
	}
	setups := newSetupCache()
	native := slices.Contains(e.Engines, sim.Native)
	todo, out := make(chan *task), make(chan done)
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range todo {
				out <- emulateTask(t, uopt, opt.Cycles, setups, native)
			}
		}()
	}
	go func() {
		for _, t := range tasks {
			if failed.Load() || sim.Closed(opt.Done) {
				break
			}
			todo <- t
		}
		close(todo)
		wg.Wait()
		close(out)
	}()
	pending := map[int]done{}
	next := 0
	var firstErr *done
	for d := range out {
		if opt.Progress != nil {
			opt.Progress.Done()
		}
		if d.err != nil {
			failed.Store(true)
			if firstErr == nil || d.task.index < firstErr.task.index {
				firstErr = &d
			}
			continue
		}
		pending[d.task.index] = d
		for ; firstErr == nil; next++ {
			d, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			collect(d)
		}
	}
	if firstErr != nil {
		return firstErr.err
	}
	return nil
}

// emulateTask builds one task's image, emulates it and keeps what the
// report needs. For a native run it also checks that the native scale is
// the emulated image's (nativeImages), before any native run starts.
func emulateTask(t *task, opt unicorn.Options, m *cycles.Model, setups *setupCache, native bool) done {
	b, err := workload.Build(t.cell.Emu, t.strategy)
	if err != nil {
		return done{task: t, err: err}
	}
	if native {
		if _, err := b.AtScale(t.cell.Native); err != nil {
			return done{task: t, err: err}
		}
	}
	res, _, err := emulate(b, opt, m, setups)
	if err != nil {
		return done{task: t, err: err}
	}
	addPoint(res, t)
	return done{task: t, res: res, breakdown: Breakdown(b.Image)}
}

// runNative times every task natively. It spreads each cell's samples over
// several child processes, interleaved across cells and strategies, so
// per-process effects (physical page placement, a noisy neighbour for a
// while) average out instead of biasing one strategy.
func runNative(tasks []*task, e *experiments.Experiment, opt Options) ([]report.Result, error) {
	launches := max(1, min(e.Native.Launches, e.Native.Samples))
	if opt.Progress != nil {
		opt.Progress.Start(len(tasks)*launches, sim.Native.String())
	}
	accs := make([]*nativeAcc, len(tasks))
	for i, t := range tasks {
		accs[i] = &nativeAcc{task: t}
	}
	for l := 0; l < launches; l++ {
		n := e.Native.Samples / launches
		if l < e.Native.Samples%launches {
			n++
		}
		nopt := native.Options{Warmup: e.Native.Warmup, Samples: n, Reps: e.Native.Reps, Timeout: e.Native.Timeout, PinCPU: pinCPU(), Done: opt.Done}
		for i := range tasks {
			if err := accs[i].launch(nopt); err != nil {
				return nil, err
			}
			if opt.Progress != nil {
				opt.Progress.Done()
			}
		}
	}
	if opt.Progress != nil {
		opt.Progress.Finish()
	}
	var out []report.Result
	for i, t := range tasks {
		res, err := accs[i].result(e.Native.Warmup, launches)
		if err != nil {
			return nil, err
		}
		addPoint(res, t)
		out = append(out, *res)
	}
	return out, nil
}

// addPoint records the task's cell in its result: the cell's index in the
// grid, and the sweep coordinates that aren't workload parameters
// (emulation-only overrides keep the emulated value in params).
func addPoint(r *report.Result, t *task) {
	r.Cell = t.cellNo
	for k, v := range t.cell.Point {
		if _, ok := r.Params[k]; !ok {
			r.Params[k] = v
		}
	}
}

// pinCPU is the CPU native children run on: the last one, so that every
// sample of every strategy sees the same core (nil on one-CPU machines).
func pinCPU() *int {
	if n := runtime.NumCPU(); n > 1 {
		cpu := n - 1
		return &cpu
	}
	return nil
}

// nativeAcc collects the native samples of one cell over several launches.
// For the templates every sample is also timed for the same run without
// operations (Params.Setup), whose median is subtracted, like the PR's
// stopwatch that starts after the warm-up loop. A C# workload with a
// stopwatch times its region itself; one without counts its whole run.
type nativeAcc struct {
	task            *task
	params          workload.Params // at native scale
	expect          workload.Expected
	hasSetup        bool
	samples, setupS []float64 // ns per call (or per region)
	baseline        []float64 // shim overhead per launch
	state           sim.State
}

// nativeImages are the task's images at native scale, its run and (for
// the templates) its setup run, made from the emulated build: the very
// code that completed under emulation, at the native scale. They are built
// for each launch rather than kept, so native runs hold no image between
// launches.
func nativeImages(t *task) (run, setup *workload.Built, err error) {
	b, err := workload.Build(t.cell.Emu, t.strategy)
	if err != nil {
		return nil, nil, err
	}
	if run, err = b.AtScale(t.cell.Native); err != nil {
		return nil, nil, err
	}
	if t.cell.Native.Source != nil {
		return run, nil, nil
	}
	if setup, err = b.AtScale(t.cell.Native.Setup()); err != nil {
		return nil, nil, err
	}
	return run, setup, nil
}

// launch runs one child process for the cell and one for its setup run.
func (a *nativeAcc) launch(opt native.Options) error {
	b, setup, err := nativeImages(a.task)
	if err != nil {
		return err
	}
	a.params, a.expect, a.hasSetup = b.Params, b.Expect, setup != nil
	opt.Stopwatch = b.Expect.Stopwatch
	nr, err := native.RunInChild(b.Image, opt)
	if err != nil {
		return fmt.Errorf("%s/%s native: %w", b.Params.Workload, b.Strategy, err)
	}
	if opt.Stopwatch {
		a.samples = append(a.samples, nr.WindowNs...)
	} else {
		a.samples = append(a.samples, nr.SamplesNs...)
	}
	if setup != nil {
		sr, err := native.RunInChild(setup.Image, opt)
		if err != nil {
			return fmt.Errorf("%s/%s native setup run: %w", b.Params.Workload, b.Strategy, err)
		}
		a.setupS = append(a.setupS, sr.SamplesNs...)
	}
	a.baseline = append(a.baseline, nr.BaselineNs)
	a.state = nr.State
	return nil
}

// result turns the samples into per-op figures and checks the final state
// against the reference computation.
func (a *nativeAcc) result(warmup, launches int) (*report.Result, error) {
	p := a.params
	setupNs := 0.0
	if a.hasSetup {
		setupNs = report.Summarize(a.setupS).Median
	}
	ops := float64(max(a.expect.Ops, 1))
	per := make([]float64, len(a.samples))
	for i, s := range a.samples {
		per[i] = (s - setupNs) / ops
	}
	res := &report.Result{
		Workload: p.Workload, Strategy: a.task.strategy.String(), Engine: sim.Native,
		Params: experiments.Flatten(p), Ops: a.expect.Ops,
		Native: &report.Native{NsPerResume: report.Summarize(per), SamplesNs: per, BaselineNs: report.Summarize(a.baseline).Median,
			SetupNs: setupNs, Warmup: warmup, Launches: launches, Scale: scale(p)},
		FinalState: finalState(a.state),
	}
	return res, verify(a.expect, res)
}

func scale(p workload.Params) string {
	m := experiments.Flatten(p)
	var parts []string
	names := []string{"n", "awaits", "calls", "iterations"}
	if p.Source != nil {
		names = nil
		for _, q := range p.Own() {
			names = append(names, q.Name)
		}
	}
	for _, k := range names {
		if v, ok := m[k]; ok {
			parts = append(parts, k+"="+v.String())
		}
	}
	return strings.Join(parts, " ")
}

// Environment describes this machine for reports.
func Environment(version string) report.Env {
	return report.Env{Osrsim: version, Unicorn: unicorn.Version(),
		Go: runtime.Version(), OS: osName(), CPU: cpuName()}
}

func osName() string {
	name := runtime.GOOS + "/" + runtime.GOARCH
	if f, err := os.Open("/etc/os-release"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "PRETTY_NAME="); ok {
				return strings.Trim(v, `"`) + " " + name
			}
		}
	}
	return name
}

func cpuName() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	cores := 0
	model := ""
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "model name":
			model = strings.TrimSpace(v)
		case "processor":
			cores++
		}
	}
	if model == "" {
		return runtime.GOARCH
	}
	return fmt.Sprintf("%s, %d logical cores", model, cores)
}
