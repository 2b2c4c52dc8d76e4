package experiments

import (
	_ "embed"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/osrsim/osrsim/patchpoint"
	"github.com/osrsim/osrsim/report"
	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/workload"
)

//go:embed seed.yaml
var seedYAML []byte

// SeedFile is the File of the embedded default experiment.
const SeedFile = "<embedded seed.yaml>"

// MaxCells bounds the size of a sweep grid (per workload).
const MaxCells = 10000

// Experiment is a parsed, validated and fully resolved experiment config.
type Experiment struct {
	Name        string // results go to results/<Name>/
	Description string
	File        string // the path it came from; SeedFile for Default()

	Strategies []patchpoint.Strategy // no duplicates, file order
	Engines    []sim.Engine          // no duplicates, file order
	Baseline   patchpoint.Strategy   // one of Strategies
	Workloads  []Workload            // in file order, one per kind at most
	Sweeps     []Sweep               // in file order
	Native     NativeSettings
	Emulation  EmulationSettings
	CycleModel string
}

// Workload is one workload of an experiment with its parameters fully
// resolved: workload.DefaultParams, then the shared parameters, then the
// workload's own parameters (Native); Emu is Native with the workload's
// emulation overrides applied. Both pass workload.Params.Validate.
type Workload struct {
	Kind   string // workload.AwaitLoop or workload.Reentry
	Native workload.Params
	Emu    workload.Params
}

// Sweep is one sweep dimension. Key is a workload parameter ("live_locals":
// both scales of every workload that has it), "emulation.<param>" (the
// emulation scale only) or a shared parameter, an integer
// ("patchpoint.hit_limit") or a name ("platform": every workload, both
// scales). Values are integers or names by the key. Line is the line of
// the key in the file (0 if unknown).
type Sweep struct {
	Key    string
	Values []report.Value
	Line   int
}

// Cell is one point of the grid: a workload with the sweep coordinates
// applied to both scales.
type Cell struct {
	Workload    string // the workload kind
	Emu, Native workload.Params
	// Point holds the coordinates of the sweeps that apply to this
	// workload (key → value); empty (not nil) without sweeps.
	Point report.Params
}

// NativeSettings control native (wall-clock) runs. Their keys, limits and
// defaults are in the key table (native.*).
type NativeSettings struct {
	Warmup  int // untimed runs before sampling
	Samples int // timed samples
	Reps    int // runs of the image per timed sample
	// Launches spreads the samples over this many child processes,
	// interleaved across strategies (BenchmarkDotNet's LaunchCount):
	// per-process effects such as physical page placement then average
	// out instead of biasing one strategy.
	Launches int
	Timeout  time.Duration
}

// EmulationSettings control emulated runs (keys emulation.*).
type EmulationSettings struct {
	MaxInstructions uint64 // runaway guard
	Timeout         time.Duration
}

// Defaults of the optional settings.
const (
	DefaultWarmup          = 1
	DefaultSamples         = 10
	DefaultReps            = 1
	DefaultLaunches        = 3
	DefaultNativeTimeout   = 10 * time.Minute
	DefaultMaxInstructions = 20_000_000_000
	DefaultEmuTimeout      = 5 * time.Minute
	DefaultCycleModel      = "default"
)

// defaults is an experiment with every optional key at its default.
func defaults(file string) *Experiment {
	return &Experiment{
		File:       file,
		Strategies: slices.Clone(patchpoint.Strategies),
		Engines:    []sim.Engine{sim.Emu},
		Native:     NativeSettings{Warmup: DefaultWarmup, Samples: DefaultSamples, Reps: DefaultReps, Launches: DefaultLaunches, Timeout: DefaultNativeTimeout},
		Emulation:  EmulationSettings{MaxInstructions: DefaultMaxInstructions, Timeout: DefaultEmuTimeout},
		CycleModel: DefaultCycleModel,
	}
}

// Load reads and parses a config file.
func Load(path string) (*Experiment, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		msg := err.Error()
		if pe, ok := err.(*os.PathError); ok {
			msg = "cannot read config: " + pe.Err.Error()
		}
		return nil, &Error{File: path, Msg: msg}
	}
	return Parse(path, data)
}

// Default returns the embedded default experiment (experiments/seed.yaml,
// the benchmark of dotnet/runtime#123757). Each call returns a fresh copy.
func Default() *Experiment {
	e, err := Parse(SeedFile, seedYAML)
	if err != nil {
		panic("BUG: embedded seed.yaml does not parse: " + err.Error())
	}
	return e
}

// Cells expands the sweep grid: for each workload (file order) the
// cartesian product of the sweeps that apply to it (file order, the last
// sweep varying fastest). A sweep over a parameter a workload lacks does
// not multiply that workload's cells. Plain and patchpoint sweeps are
// applied before emulation.<param> sweeps, so the latter win on the
// emulation scale.
func (e *Experiment) Cells() []Cell {
	var cells []Cell
	for _, w := range e.Workloads {
		var dims []Sweep
		for _, s := range e.Sweeps {
			if sweepApplies(s.Key, w.Native) {
				dims = append(dims, s)
			}
		}
		idx := make([]int, len(dims))
		for {
			c := Cell{Workload: w.Kind, Emu: w.Emu, Native: w.Native, Point: report.Params{}}
			for pass := 0; pass < 2; pass++ {
				for d, s := range dims {
					v := s.Values[idx[d]]
					name, emuOnly := splitEmu(s.Key)
					if emuOnly != (pass == 1) {
						continue
					}
					c.Point[s.Key] = v
					k := paramKeyFor(c.Emu, name)
					k.setValue(&c.Emu, v)
					if !emuOnly {
						k.setValue(&c.Native, v)
					}
				}
			}
			cells = append(cells, c)
			d := len(dims) - 1
			for ; d >= 0; d-- {
				idx[d]++
				if idx[d] < len(dims[d].Values) {
					break
				}
				idx[d] = 0
			}
			if d < 0 {
				break
			}
		}
	}
	return cells
}

// splitEmu splits "emulation.<param>" into the param and true.
func splitEmu(key string) (string, bool) {
	if p, ok := strings.CutPrefix(key, "emulation."); ok {
		return p, true
	}
	return key, false
}

// sweepApplies reports whether a sweep key names a parameter of the
// workload.
func sweepApplies(key string, p workload.Params) bool {
	k, _ := sweepKey(key, p)
	return k != nil
}
