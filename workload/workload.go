// Package workload turns a workload template and its parameters into a
// runnable image for one strategy: the tier0 and OSR methods, the patchpoint
// helper, the async runtime, a driver and the host entry stub, linked at the
// fixed addresses both engines use. It also computes the expected result in
// Go, so every run can be checked.
package workload

import (
	"fmt"

	"github.com/osrsim/osrsim/continuation"
	"github.com/osrsim/osrsim/csharp"
	"github.com/osrsim/osrsim/jit"
	"github.com/osrsim/osrsim/jit/interp"
	"github.com/osrsim/osrsim/patchpoint"
)

// Names of the built-in workloads.
const (
	AwaitLoop = "await-loop"
	Reentry   = "reentry"
)

// Kinds lists the workloads.
var Kinds = []string{AwaitLoop, Reentry}

// Params are a workload's parameters.
type Params struct {
	Workload string
	// await-loop: loop 1 runs N iterations (s_value += i) to get the method
	// into OSR; loop 2 awaits Awaits times.
	N, Awaits int
	// LiveLocals extra int locals are live across the await.
	LiveLocals int
	// ExtraFrame bytes of extra tier0 frame, zero-initialised per call.
	ExtraFrame int
	// reentry: the method is called Calls times; its loop runs Iterations.
	Calls, Iterations int
	Patchpoint        patchpoint.Settings
	Runtime           continuation.Settings
	// Tier0Variant selects a variant of the tier0 patchpoint sequence
	// (jit.Options.Tier0Patchpoint); the zero value is CoreCLR's shape.
	Tier0Variant jit.Tier0Variant

	// Source is a workload written in C#; Workload then names it and
	// Values holds one value per Source.Params.
	Source *csharp.Program
	Values []int
	// Cut ends a C# workload's run at a stopwatch mark
	// (continuation.CutStart, CutStop): the runs whose difference is the
	// measured region.
	Cut int
}

// DefaultParams are the defaults of a workload (the PR's benchmark shape
// for await-loop, at a scale that emulates quickly).
func DefaultParams(kind string) Params {
	p := Params{Workload: kind, Patchpoint: patchpoint.Defaults(), Runtime: continuation.Defaults()}
	switch kind {
	case AwaitLoop:
		p.N, p.Awaits = 20000, 1000
	case Reentry:
		p.Calls, p.Iterations = 100, 1500
	}
	return p
}

// The IL offsets of the templates' loop heads (0x14 is the seed program's
// loop-1 header, per the OSR method name in dotnet/runtime#126791).
const (
	ILLoop1 = 0x14
	ILLoop2 = 0x40
)

// StaticValue is the symbol of s_value.
const StaticValue = "static.s_value"

// Method returns the workload's method in the IR.
func (p Params) Method() *jit.Method {
	switch p.Workload {
	case AwaitLoop:
		m := &jit.Method{Name: "Foo", Async: true, Params: []jit.Local{"n", "awaits", "na"},
			Locals: []jit.Local{"i", "j"}, Ptrs: []jit.Local{"na"}, ExtraFrame: p.ExtraFrame}
		var inits, adds, sums []jit.Stmt
		for k := 0; k < p.LiveLocals; k++ {
			l := jit.Local(fmt.Sprintf("l%d", k))
			m.Locals = append(m.Locals, l)
			inits = append(inits, jit.Assign{Dst: l, Src: jit.Const(k + 1)})
			adds = append(adds, jit.Assign{Dst: l, Op: jit.OpAdd, Src: jit.Local("j")})
			sums = append(sums, jit.Assign{Dst: jit.Static(StaticValue), Op: jit.OpAdd, Src: l})
		}
		m.Body = append(m.Body,
			jit.Assign{Dst: jit.Local("i"), Src: jit.Const(0)},
			jit.CountedLoop(ILLoop1, "i", jit.Local("n"), jit.Assign{Dst: jit.Static(StaticValue), Op: jit.OpAdd, Src: jit.Local("i")}),
		)
		m.Body = append(m.Body, inits...)
		m.Body = append(m.Body,
			jit.Assign{Dst: jit.Local("j"), Src: jit.Const(0)},
			jit.CountedLoop(ILLoop2, "j", jit.Local("awaits"), append([]jit.Stmt{jit.Await{Awaiter: "na"}}, adds...)...),
		)
		m.Body = append(m.Body, sums...)
		return m
	case Reentry:
		return &jit.Method{Name: "Bar", Params: []jit.Local{"n"}, Locals: []jit.Local{"i"}, ExtraFrame: p.ExtraFrame,
			Body: []jit.Stmt{
				jit.Assign{Dst: jit.Local("i"), Src: jit.Const(0)},
				jit.CountedLoop(ILLoop1, "i", jit.Local("n"), jit.Assign{Dst: jit.Static(StaticValue), Op: jit.OpAdd, Src: jit.Local("i")}),
			}}
	}
	return nil
}

// Setup is p without its operations (no awaits, no calls): the run whose
// cost per-operation figures subtract.
func (p Params) Setup() Params {
	q := p
	q.Awaits, q.Calls = 0, 0
	return q
}

// Expected is the Go reference computation of a workload's results.
type Expected struct {
	SValue      uint32 // final s_value (also the return value)
	Suspensions uint64
	Resumptions uint64
	// Calls is what per-operation figures divide by: resumptions for
	// await-loop, calls for reentry.
	Ops uint64
	// Hash is the high half of the return value: a C# workload's driver
	// returns a hash of its statics there (0 for the templates).
	Hash uint32
	// Err is the run-time error a C# workload stops with (nil: none); the
	// return value then encodes it (continuation.ErrorMarker).
	Err *interp.RuntimeError
	// Stopwatch: per-operation figures count the region between the
	// stopwatch marks; Ops is the resumptions inside it.
	Stopwatch bool
}

// Expect computes the expected results: in closed form for the
// templates, with the interpreter for C# workloads.
func (p Params) Expect() (Expected, error) {
	if p.Source != nil {
		return p.sourceExpect()
	}
	return p.templateExpect(), nil
}

func (p Params) templateExpect() Expected {
	sum := func(n int) uint32 { // sum of 0..n-1, wrapping like C# int
		var s uint32
		for i := 0; i < n; i++ {
			s += uint32(i)
		}
		return s
	}
	switch p.Workload {
	case AwaitLoop:
		s := sum(p.N)
		js := sum(p.Awaits)
		for k := 0; k < p.LiveLocals; k++ {
			s += uint32(k+1) + js
		}
		a := uint64(p.Awaits)
		return Expected{SValue: s, Suspensions: a, Resumptions: a, Ops: a}
	case Reentry:
		return Expected{SValue: uint32(p.Calls) * sum(p.Iterations), Ops: uint64(p.Calls)}
	}
	return Expected{}
}
