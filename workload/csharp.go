package workload

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/osrsim/osrsim/continuation"
	"github.com/osrsim/osrsim/csharp"
	. "github.com/osrsim/osrsim/emitter"
	"github.com/osrsim/osrsim/internal/bounds"
	"github.com/osrsim/osrsim/jit"
	"github.com/osrsim/osrsim/jit/interp"
	"github.com/osrsim/osrsim/sim"
)

// C# workloads: a csharp.Program with one value per parameter. The image
// runs its Main as the PR's program does (create the awaiter, call the
// async entry method, resume until the task completes); the entry method's
// int arguments and the class's constants come from data, so images of one
// program at different scales share their code.

// InterpBudget bounds the reference interpreter's loop-head executions
// and calls: a program that runs longer is reported, not waited for.
const InterpBudget = 4_000_000_000

// FromSource returns the parameters of a C# program at its native-scale
// values (Main's arguments and the constants' initializers).
func FromSource(name string, prog *csharp.Program) Params {
	p := Params{Workload: name, Source: prog}
	p.Patchpoint, p.Runtime = DefaultParams(AwaitLoop).Patchpoint, DefaultParams(AwaitLoop).Runtime
	for _, q := range prog.Params {
		p.Values = append(p.Values, int(q.Value))
	}
	return p
}

func (p Params) validateSource() error {
	if len(p.Values) != len(p.Source.Params) {
		return fmt.Errorf("%s: %d parameter values for %d parameters", p.Workload, len(p.Values), len(p.Source.Params))
	}
	if p.ExtraFrame != 0 || p.LiveLocals != 0 {
		return fmt.Errorf("extra_frame and live_locals are parameters of the built-in templates")
	}
	return nil
}

// sourceParams describes a C# workload's parameters. Their Field copies
// Values before handing out a pointer: copies of Params share the slice,
// and setting one cell's value must not change another's.
func (p Params) sourceParams() []Param {
	var out []Param
	for i, q := range p.Source.Params {
		doc := fmt.Sprintf("argument %s of the entry method (Main passes %d)", q.Name, q.Value)
		if q.Const {
			doc = fmt.Sprintf("const int %s (declared as %d)", q.Name, q.Value)
		}
		out = append(out, Param{Name: q.Name, Doc: doc, Range: bounds.AnyInt32, Field: func(p *Params) *int {
			p.Values = slices.Clone(p.Values)
			return &p.Values[i]
		}})
	}
	return out
}

// Value returns the value of the C# parameter called name.
func (p Params) Value(name string) (int, bool) {
	for i, q := range p.Source.Params {
		if q.Name == name {
			return p.Values[i], true
		}
	}
	return 0, false
}

// Class is the program the image runs: the template's method and s_value,
// or the C# class with its constants at this scale.
func (p Params) Class() (*jit.Class, error) {
	if p.Source == nil {
		m := p.Method()
		if m == nil {
			return nil, fmt.Errorf("unknown workload %q", p.Workload)
		}
		if err := m.Validate(); err != nil {
			return nil, err
		}
		return &jit.Class{Methods: []*jit.Method{m}, Fields: []jit.Field{{Sym: StaticValue}}}, nil
	}
	src := p.Source.Class
	cls := &jit.Class{Methods: src.Methods, Fields: append([]jit.Field(nil), src.Fields...)}
	for i, q := range p.Source.Params {
		for k := range cls.Fields {
			if q.Const && cls.Fields[k].Sym == q.Sym {
				cls.Fields[k].Init = int32(p.Values[i])
			}
		}
	}
	return cls, cls.Validate()
}

// args are the entry method's arguments (the awaiter's is any value).
func (p Params) args() []int32 {
	var out []int32
	for _, k := range p.Source.EntryArgs {
		if k < 0 {
			out = append(out, 0)
			continue
		}
		out = append(out, int32(p.Values[k]))
	}
	return out
}

// expectCache memoizes interpreter runs: every strategy of a cell, and
// its native and cut runs, share them. It holds its programs, so a key's
// pointer is never reused for another; it forgets everything past
// maxCachedPrograms.
var expectCache = struct {
	sync.Mutex
	m map[*csharp.Program]map[string]*interp.Result
}{m: map[*csharp.Program]map[string]*interp.Result{}}

const maxCachedPrograms = 64

func cachedRun(p Params, cls *jit.Class) (*interp.Result, error) {
	c := &expectCache
	key := fmt.Sprint(p.Values)
	c.Lock()
	r := c.m[p.Source][key]
	c.Unlock()
	if r != nil {
		return r, nil
	}
	r, err := interp.Run(cls, p.args(), InterpBudget)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.Source.File, err)
	}
	c.Lock()
	defer c.Unlock()
	if c.m[p.Source] == nil {
		if len(c.m) >= maxCachedPrograms {
			clear(c.m)
		}
		c.m[p.Source] = map[string]*interp.Result{}
	}
	c.m[p.Source][key] = r
	return r, nil
}

func (p Params) sourceExpect() (Expected, error) {
	cls, err := p.Class()
	if err != nil {
		return Expected{}, err
	}
	r, err := cachedRun(p, cls)
	if err != nil {
		return Expected{}, err
	}
	e := Expected{SValue: uint32(sourceResult(cls, r)), Hash: staticsHash(cls, r.Statics), Err: r.Err,
		Suspensions: r.Awaits, Resumptions: r.Awaits, Ops: r.Awaits, Stopwatch: p.Source.Stopwatch}
	if e.Stopwatch {
		e.Ops = r.Window.Awaits
	}
	if e.Ops == 0 {
		e.Ops = 1 // no resumptions: per-operation figures are per run (of the region)
	}
	return e, nil
}

// sourceResult is the low half of a C# workload's return value: the entry
// method's result, or without one the first static field (s_value in the
// PR's program), or 0.
func sourceResult(cls *jit.Class, r *interp.Result) int32 {
	if cls.Methods[0].Result {
		return r.Value
	}
	for _, f := range cls.Fields {
		if !f.Const {
			return r.Statics[f.Sym]
		}
	}
	return 0
}

// staticsHash is h = h*31 + v over the static fields in declaration
// order, as the driver computes it, in 31 bits (the top bit of the return
// value is continuation.ErrorMarker's).
func staticsHash(cls *jit.Class, vals map[jit.Static]int32) uint32 {
	var h uint32
	for _, f := range cls.Fields {
		if !f.Const {
			h = h*31 + uint32(vals[f.Sym])
		}
	}
	return h & 0x7fff_ffff
}

// services are the runtime services the program uses.
func (g *gen) services() continuation.Services {
	s := continuation.Services{TSCStart: sim.HostTSCStart, TSCStop: sim.HostTSCStop}
	if g.p.Source == nil {
		return s
	}
	s.Stopwatch = g.p.Source.Stopwatch
	for _, m := range g.cls.Methods {
		jit.Walk(m.Body, func(st jit.Stmt) {
			if a, ok := st.(jit.Assign); ok && (a.Op == jit.OpDiv || a.Op == jit.OpRem) {
				s.Throw = true
			}
			jit.WalkExprs(st, func(e jit.Expr) {
				if b, ok := e.(jit.Binary); ok && (b.Op == jit.OpDiv || b.Op == jit.OpRem) {
					s.Throw = true
				}
			})
		})
	}
	return s
}

func (g *gen) sourceParams() []paramField {
	var out []paramField
	for i, q := range g.p.Source.Params {
		if !q.Const {
			out = append(out, paramField{string(q.Sym), g.p.Values[i]})
		}
	}
	return out
}

// emitSourceMain is a C# program's Main (emitAsyncMain), returning the
// result (or first static) in the low half of RAX and the statics' hash
// (staticsHash) in the high half.
func (g *gen) emitSourceMain(b *Builder, rt continuation.Runtime) {
	var args []string
	for _, k := range g.p.Source.EntryArgs {
		sym := ""
		if k >= 0 {
			sym = string(g.p.Source.Params[k].Sym)
		}
		args = append(args, sym)
	}
	g.emitAsyncMain(b, rt, args, func() {
		first := true
		b.Xor(S32, RAX, RAX)
		b.Xor(S32, RDX, RDX)
		for _, f := range g.cls.Fields {
			if f.Const {
				continue
			}
			if first && !g.m.Result {
				b.Mov(S32, RAX, RIPSym(string(f.Sym)))
			}
			first = false
			b.ImulImm(S32, RDX, RDX, 31)
			b.Add(S32, RDX, RIPSym(string(f.Sym)))
		}
		if g.m.Result {
			b.Mov(S32, RAX, RIPSym(continuation.SymTaskResult))
		}
		b.And(S32, RDX, Imm(0x7fff_ffff))
		b.Shl(S64, RDX, 32)
		b.Or(S64, RAX, RDX)
	})
}

// DecodeError turns a return value that carries a run-time error back into
// it (nil if ret is an ordinary result).
func DecodeError(ret uint64) *interp.RuntimeError {
	if ret&continuation.ErrorMarker == 0 {
		return nil
	}
	return &interp.RuntimeError{Kind: interp.ErrKind(ret >> 32 & 0xff), Pos: jit.PosFromCode(uint32(ret))}
}

// SourceError reports a C# workload's run-time error at its source line.
func SourceError(p Params, e *interp.RuntimeError) error {
	return &csharp.Error{File: p.Source.File, Line: e.Pos.Line, Col: e.Pos.Col, Kind: csharp.KindRuntime,
		Msg: strings.TrimSpace(fmt.Sprintf("%s (in %s)", e.Kind, e.Method))}
}
