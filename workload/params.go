package workload

import (
	"fmt"
	"strings"

	"github.com/osrsim/osrsim/internal/bounds"
)

// Param is one integer parameter of Params under its config name. The
// tables below are the one place that knows a parameter's name, meaning
// and limits: Validate checks them, and the experiments package reads,
// sweeps, --sets and documents them from the same entries.
type Param struct {
	Name  string // config key: "n", "patchpoint.hit_limit"
	Doc   string // one line for experiments/README.md
	Range bounds.Range
	Field func(*Params) *int
}

// Check checks v against the parameter's range.
func (q Param) Check(v int64) error {
	if err := q.Range.Check(v); err != nil {
		return &ParamError{Param: q.Name, Err: err}
	}
	return nil
}

// ParamError is a parameter with a value it cannot take. Param is the
// parameter's config name, so callers can point at the key that set it.
type ParamError struct {
	Param string
	Err   error
}

func (e *ParamError) Error() string { return e.Param + ": " + e.Err.Error() }
func (e *ParamError) Unwrap() error { return e.Err }

// SharedParams are the integer parameters every workload has: CoreCLR's
// patchpoint knobs and the code tables' sizes (patchpoint.Settings;
// defaults patchpoint.Defaults), the runtime's allocation quantum
// (continuation.Settings).
var SharedParams = []Param{
	{"patchpoint.initial_counter", "patchpoint executions before the first helper call (TC_OnStackReplacement_InitialCounter)",
		bounds.Range{Min: 1, Max: 1 << 30}, func(p *Params) *int { return &p.Patchpoint.InitialCounter }},
	{"patchpoint.counter_bump", "patchpoint executions between later helper calls (OSR_CounterBump)",
		bounds.Range{Min: 1, Max: 1 << 30}, func(p *Params) *int { return &p.Patchpoint.CounterBump }},
	{"patchpoint.hit_limit", "helper calls at one patchpoint that trigger OSR (OSR_HitLimit)",
		bounds.Range{Min: 1, Max: 1 << 30}, func(p *Params) *int { return &p.Patchpoint.HitLimit }},
	{"patchpoint.jit_methods", "JIT-compiled methods in the code heap: sizes its nibble map and range section (the lookup is constant-time)",
		bounds.Range{Min: 1, Max: 1 << 17}, func(p *Params) *int { return &p.Patchpoint.JITMethods }},
	{"patchpoint.native_functions", "entries of the native module's function table, searched in binary for each native frame",
		bounds.Range{Min: 1, Max: 1 << 18}, func(p *Params) *int { return &p.Patchpoint.NativeFunctions }},
	{"runtime.alloc_quantum", "bytes of the allocation context the GC hands a thread at a time (runtime.model coreclr)",
		bounds.Range{Min: 256, Max: HeapSize / 4}, func(p *Params) *int { return &p.Runtime.AllocQuantum }},
}

// extraFrame is the parameter both built-in workloads have.
var extraFrame = Param{"extra_frame", "extra zero-initialised tier0 frame bytes",
	bounds.Range{Min: 0, Max: 1 << 16}, func(p *Params) *int { return &p.ExtraFrame }}

// kindParams are each workload's own parameters, in report order. Counts
// are stored as 32-bit ints in the image (C# int), hence bounds.Int32.
var kindParams = map[string][]Param{
	AwaitLoop: {
		{"n", "loop-1 iterations (`s_value += i`); OSR needs `initial_counter + (hit_limit-1)*counter_bump` of them",
			bounds.Int32, func(p *Params) *int { return &p.N }},
		{"awaits", "loop-2 iterations, one await (a suspension and a resumption) each",
			bounds.Int32, func(p *Params) *int { return &p.Awaits }},
		{"live_locals", "extra int locals live across the await",
			bounds.Range{Min: 0, Max: 64}, func(p *Params) *int { return &p.LiveLocals }},
		extraFrame,
	},
	Reentry: {
		extraFrame,
		{"calls", "calls of the method, one helper transition each",
			bounds.Int32, func(p *Params) *int { return &p.Calls }},
		{"iterations", "loop iterations per call",
			bounds.Int32, func(p *Params) *int { return &p.Iterations }},
	},
}

// ParamsOf lists a workload kind's own parameters (not SharedParams) in
// report order; nil for an unknown kind.
func ParamsOf(kind string) []Param { return kindParams[kind] }

// Own lists p's own parameters: its kind's, or a C# workload's (its
// entry method's int parameters and its constants).
func (p Params) Own() []Param {
	if p.Source != nil {
		return p.sourceParams()
	}
	return kindParams[p.Workload]
}

// Validate checks the parameters. A value out of range is a *ParamError.
func (p Params) Validate() error {
	own, ok := kindParams[p.Workload]
	if p.Source != nil {
		if err := p.validateSource(); err != nil {
			return err
		}
		own, ok = p.Own(), true
	}
	if !ok {
		return fmt.Errorf("unknown workload %q (want %s)", p.Workload, strings.Join(Kinds, " or "))
	}
	for _, table := range [][]Param{SharedParams, own} {
		for _, q := range table {
			if err := q.Check(int64(*q.Field(&p))); err != nil {
				return err
			}
		}
	}
	if !p.Patchpoint.Platform.Valid() {
		return fmt.Errorf("unknown platform %s", p.Patchpoint.Platform)
	}
	if !p.Tier0Variant.Valid() {
		return fmt.Errorf("unknown tier0 patchpoint variant %s", p.Tier0Variant)
	}
	return nil
}
