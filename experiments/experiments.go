package experiments

import (
	_ "embed"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/osrsim/osrsim/patchpoint"
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
	Name        string // [a-z0-9._-]+, results go to results/<Name>/
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
// resolved: workload.DefaultParams, then the patchpoint section, then the
// workload's own parameters (Native); Emu is Native with the workload's
// emulation overrides applied. Both pass workload.Params.Validate.
type Workload struct {
	Kind   string // workload.AwaitLoop or workload.Reentry
	Native workload.Params
	Emu    workload.Params
}

// Sweep is one sweep dimension. Key is a workload parameter ("live_locals":
// both scales of every workload that has it), "emulation.<param>" (the
// emulation scale only) or "patchpoint.<field>" (every workload, both
// scales). Line is the line of the key in the file (0 if unknown).
type Sweep struct {
	Key    string
	Values []int64
	Line   int
}

// Cell is one point of the grid: a workload with the sweep coordinates
// applied to both scales.
type Cell struct {
	Workload    string // the workload kind
	Emu, Native workload.Params
	// Point holds the coordinates of the sweeps that apply to this
	// workload (key → value); empty (not nil) without sweeps.
	Point map[string]int64
}

// NativeSettings control native (wall-clock) runs.
type NativeSettings struct {
	Warmup  int // untimed runs before sampling (≥ 0); default 1
	Samples int // timed samples (≥ 1); default 10
	Reps    int // runs of the image per timed sample (≥ 1); default 1
	// Launches spreads the samples over this many child processes,
	// interleaved across strategies (BenchmarkDotNet's LaunchCount):
	// per-process effects such as physical page placement then average
	// out instead of biasing one strategy. Default 3.
	Launches int
	Timeout  time.Duration
}

// EmulationSettings control emulated runs.
type EmulationSettings struct {
	MaxInstructions uint64 // runaway guard (≥ 1); default 20,000,000,000
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

// Error is a config error. Every error Load, Parse and Set return is an
// *Error.
type Error struct {
	File string // the config path; "--set" for Set
	Line int    // 1-based; 0 when unknown
	Key  string // dotted path of the offending key ("workloads.await-loop.n"); "" when none
	Msg  string
}

// Error formats as "file:line: key: msg", leaving out what is unknown.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
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
			if sweepApplies(s.Key, w.Kind) {
				dims = append(dims, s)
			}
		}
		idx := make([]int, len(dims))
		for {
			c := Cell{Workload: w.Kind, Emu: w.Emu, Native: w.Native, Point: map[string]int64{}}
			for pass := 0; pass < 2; pass++ {
				for d, s := range dims {
					v := s.Values[idx[d]]
					name, emuOnly := splitEmu(s.Key)
					if emuOnly != (pass == 1) {
						continue
					}
					c.Point[s.Key] = v
					f, _ := lookupField(name)
					*f.ptr(&c.Emu) = int(v)
					if !emuOnly {
						*f.ptr(&c.Native) = int(v)
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

// sweepApplies reports whether a sweep (or --set) key names a knob of the
// workload kind.
func sweepApplies(key, kind string) bool {
	name, _ := splitEmu(key)
	f, ok := lookupField(name)
	return ok && f.has(kind)
}

// Set applies a --set key=value override. Keys:
//
//   - a workload parameter (n, awaits, live_locals, extra_frame, calls,
//     iterations): both scales of every workload that has it;
//   - emulation.<param>: the emulation scale only;
//   - patchpoint.<field> (initial_counter, counter_bump, hit_limit,
//     methods): every workload, both scales;
//   - native.warmup, native.samples, native.reps, native.timeout,
//     emulation.max_instructions, emulation.timeout, cycle_model.
//
// Values are checked as in a file (integers as in Go source, e.g. 1000,
// 1_000, 0x3e8; durations as time.ParseDuration). A key no workload of the
// experiment or setting knows is an error. Setting a swept key fixes that
// sweep to the single value (a plain param also fixes a sweep over
// emulation.<param>); setting emulation.<param> while <param> is swept is an
// error. On error nothing changes.
func (e *Experiment) Set(key, value string) error {
	fail := func(format string, args ...any) error {
		return &Error{File: "--set", Key: key, Msg: fmt.Sprintf(format, args...)}
	}
	value = strings.TrimSpace(value)
	parseInt := func() (int64, error) {
		v, err := strconv.ParseInt(value, 0, 64)
		if err != nil {
			return 0, fail("want an integer, got %q", value)
		}
		return v, nil
	}
	parseDur := func() (time.Duration, error) {
		d, err := time.ParseDuration(value)
		if err != nil || d <= 0 {
			return 0, fail("want a positive Go duration such as 90s or 10m, got %q", value)
		}
		return d, nil
	}
	switch key {
	case "native.warmup", "native.samples", "native.reps", "native.launches":
		v, err := parseInt()
		if err != nil {
			return err
		}
		min := int64(1)
		if key == "native.warmup" {
			min = 0
		}
		if v < min || v > 1<<30 {
			return fail("must be in [%d, %d], got %d", min, 1<<30, v)
		}
		switch key {
		case "native.warmup":
			e.Native.Warmup = int(v)
		case "native.samples":
			e.Native.Samples = int(v)
		case "native.launches":
			e.Native.Launches = int(v)
		default:
			e.Native.Reps = int(v)
		}
		return nil
	case "native.timeout", "emulation.timeout":
		d, err := parseDur()
		if err != nil {
			return err
		}
		if key == "native.timeout" {
			e.Native.Timeout = d
		} else {
			e.Emulation.Timeout = d
		}
		return nil
	case "emulation.max_instructions":
		v, err := strconv.ParseUint(value, 0, 64)
		if err != nil || v == 0 {
			return fail("want a positive integer, got %q", value)
		}
		e.Emulation.MaxInstructions = v
		return nil
	case "cycle_model":
		if value == "" {
			return fail("must not be empty")
		}
		e.CycleModel = value
		return nil
	}

	name, emuOnly := splitEmu(key)
	f, ok := lookupField(name)
	if !ok || (emuOnly && f.kinds == nil) {
		return fail("unknown key (want a workload parameter, emulation.<param>, patchpoint.<field>, native.warmup, native.samples, native.reps, native.launches, native.timeout, emulation.max_instructions, emulation.timeout or cycle_model)")
	}
	v, err := parseInt()
	if err != nil {
		return err
	}
	if int64(int(v)) != v {
		return fail("%d out of range", v)
	}
	if emuOnly {
		for _, s := range e.Sweeps {
			if s.Key == name {
				return fail("%s is swept (line %d); --set %s=V fixes the sweep on both scales", name, s.Line, name)
			}
		}
	}
	ws := append([]Workload(nil), e.Workloads...)
	applied := false
	for i := range ws {
		w := &ws[i]
		if !f.has(w.Kind) {
			continue
		}
		applied = true
		*f.ptr(&w.Emu) = int(v)
		if !emuOnly {
			*f.ptr(&w.Native) = int(v)
		}
		for _, p := range []workload.Params{w.Native, w.Emu} {
			if err := p.Validate(); err != nil {
				return fail("%s", trimName(err.Error(), name))
			}
		}
	}
	if !applied {
		return fail("no workload of this experiment has parameter %s", name)
	}
	copy(e.Workloads, ws)
	for i := range e.Sweeps {
		s := &e.Sweeps[i]
		if s.Key == key || (!emuOnly && s.Key == "emulation."+name) {
			s.Values = []int64{v}
		}
	}
	return nil
}
