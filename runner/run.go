package runner

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"

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
	Cycles  *unicorn.CycleModel
	Workers int // parallel emulation workers; 0 = GOMAXPROCS
	// Progress receives progress updates (nil: none).
	Progress Progress
}

// Progress is told about each finished task.
type Progress interface {
	Start(total int, what string)
	Done()
	Finish()
}

// task is one strategy of one cell.
type task struct {
	cell     experiments.Cell
	strategy patchpoint.Strategy
	emu      *workload.Built
	native   *workload.Built
	emuRes   *report.Result
	err      error
}

// Run runs every cell of the experiment on its engines. Every image is
// emulated first (that is the safety gate for native runs, DESIGN principle
// 5); emulated results are reported when sim.Emu is among the engines. Native
// runs go one at a time, in a child process, after all emulation is done, so
// they don't share the machine with emulation workers.
func Run(e *experiments.Experiment, opt Options) (*report.Report, error) {
	wantEmu, wantNative := slices.Contains(e.Engines, sim.Emu), slices.Contains(e.Engines, sim.Native)
	tasks, err := buildTasks(e, wantNative)
	if err != nil {
		return nil, err
	}
	emulateAll(tasks, e, opt)

	r := &report.Report{Experiment: e.Name, Description: e.Description, Env: Environment(opt.Version), Config: string(e.Resolved())}
	if len(tasks) > 0 {
		r.RuntimeModel = tasks[0].cell.Emu.Runtime.Model.String()
	}
	for _, s := range e.Sweeps {
		r.Sweeps = append(r.Sweeps, s.Key)
	}
	for _, t := range tasks {
		if t.err != nil {
			return nil, t.err
		}
		r.Breakdown = report.MergeBreakdown(r.Breakdown, Breakdown(t.emu.Image))
		if wantEmu {
			addPoint(t.emuRes, t.cell)
			r.Results = append(r.Results, *t.emuRes)
		}
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

// buildTasks builds every cell for every strategy, at emulation scale and,
// for native runs, at native scale, which must be the same code. A C#
// program that the interpreter sees stop with a run-time error is the
// user's error, reported before anything runs.
func buildTasks(e *experiments.Experiment, wantNative bool) ([]*task, error) {
	var tasks []*task
	for _, c := range e.Cells() {
		for _, s := range e.Strategies {
			t := &task{cell: c, strategy: s}
			var err error
			if t.emu, err = workload.Build(c.Emu, s); err != nil {
				return nil, err
			}
			if rerr := t.emu.Expect.Err; rerr != nil {
				return nil, workload.SourceError(c.Emu, rerr)
			}
			if wantNative {
				if t.native, err = workload.Build(c.Native, s); err != nil {
					return nil, err
				}
				if rerr := t.native.Expect.Err; rerr != nil {
					return nil, workload.SourceError(c.Native, rerr)
				}
				if !bytes.Equal(t.emu.Image.Region("code").Init, t.native.Image.Region("code").Init) {
					return nil, fmt.Errorf("BUG: %s/%s: native-scale code differs from the emulated code", c.Workload, s)
				}
			}
			tasks = append(tasks, t)
		}
	}
	return tasks, nil
}

// emulateAll emulates every task on a pool of workers, leaving each
// task's result or error in it.
func emulateAll(tasks []*task, e *experiments.Experiment, opt Options) {
	uopt := unicorn.Options{Exact: opt.Exact, Cycles: opt.Cycles, MaxInstructions: e.Emulation.MaxInstructions, Timeout: e.Emulation.Timeout}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if opt.Progress != nil {
		opt.Progress.Start(len(tasks), "emulating")
	}
	var wg sync.WaitGroup
	ch := make(chan *task)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range ch {
				t.emuRes, _, t.err = Emulate(t.emu, uopt)
				if opt.Progress != nil {
					opt.Progress.Done()
				}
			}
		}()
	}
	for _, t := range tasks {
		ch <- t
	}
	close(ch)
	wg.Wait()
	if opt.Progress != nil {
		opt.Progress.Finish()
	}
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
		acc, err := newNativeAcc(t.native)
		if err != nil {
			return nil, err
		}
		accs[i] = acc
	}
	for l := 0; l < launches; l++ {
		n := e.Native.Samples / launches
		if l < e.Native.Samples%launches {
			n++
		}
		nopt := native.Options{Warmup: e.Native.Warmup, Samples: n, Reps: e.Native.Reps, Timeout: e.Native.Timeout, PinCPU: pinCPU()}
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
		addPoint(res, t.cell)
		out = append(out, *res)
	}
	return out, nil
}

// addPoint records sweep coordinates that aren't workload parameters
// (emulation-only overrides keep the emulated value in params).
func addPoint(r *report.Result, c experiments.Cell) {
	for k, v := range c.Point {
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
	b, setup        *workload.Built // setup: nil for C# workloads
	samples, setupS []float64       // ns per call (or per region)
	baseline        []float64       // shim overhead per launch
	state           sim.State
}

func newNativeAcc(b *workload.Built) (*nativeAcc, error) {
	if b.Params.Source != nil {
		return &nativeAcc{b: b}, nil
	}
	sb, err := workload.Build(b.Params.Setup(), b.Strategy)
	if err != nil {
		return nil, err
	}
	return &nativeAcc{b: b, setup: sb}, nil
}

// launch runs one child process for the cell and one for its setup run.
func (a *nativeAcc) launch(opt native.Options) error {
	opt.Stopwatch = a.b.Expect.Stopwatch
	nr, err := native.RunInChild(a.b.Image, opt)
	if err != nil {
		return fmt.Errorf("%s/%s native: %w", a.b.Params.Workload, a.b.Strategy, err)
	}
	switch {
	case opt.Stopwatch:
		a.samples = append(a.samples, nr.WindowNs...)
	default:
		a.samples = append(a.samples, nr.SamplesNs...)
	}
	if a.setup != nil {
		sr, err := native.RunInChild(a.setup.Image, opt)
		if err != nil {
			return fmt.Errorf("%s/%s native setup run: %w", a.b.Params.Workload, a.b.Strategy, err)
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
	b := a.b
	setupNs := 0.0
	if a.setup != nil {
		setupNs = report.Summarize(a.setupS).Median
	}
	ops := float64(max(b.Expect.Ops, 1))
	per := make([]float64, len(a.samples))
	for i, s := range a.samples {
		per[i] = (s - setupNs) / ops
	}
	res := &report.Result{
		Workload: b.Params.Workload, Strategy: b.Strategy.String(), Engine: sim.Native,
		Params: experiments.Flatten(b.Params), Ops: b.Expect.Ops,
		Native: &report.Native{NsPerResume: report.Summarize(per), SamplesNs: per, BaselineNs: report.Summarize(a.baseline).Median,
			SetupNs: setupNs, Warmup: warmup, Launches: launches, Scale: scale(b.Params)},
		FinalState: finalState(a.state),
	}
	return res, Verify(b, res)
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
			parts = append(parts, fmt.Sprintf("%s=%d", k, v))
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
