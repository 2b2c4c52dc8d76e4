package workload

import (
	"fmt"

	"github.com/osrsim/osrsim/continuation"
	. "github.com/osrsim/osrsim/emitter"
	"github.com/osrsim/osrsim/jit"
	"github.com/osrsim/osrsim/patchpoint"
	"github.com/osrsim/osrsim/region"
	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/link"
)

// Section names.
const (
	secCode = link.Code
	secData = link.Data
)

// Sizes of the writable regions. The heap holds 31 allocation quanta of
// the CoreCLR model (it stands for gen0).
const (
	HeapSize  = 0x40000
	StackSize = 0x40000
)

// MethodAlign is the alignment of every function's entry.
const MethodAlign = 32

// Symbols of the host boundary.
const (
	SymEntry = "host.entry" // SysV: uint64 entry(uint64 arg)
	SymMain  = "runtime.main"
)

// Event names the engines count; reports are built from them.
const (
	EvHelper     = "helper"      // patchpoint helper calls
	EvForced     = "forced"      // forced patchpoint helper calls
	EvOSREntry   = "osr_entry"   // entries into any OSR method (prefix)
	EvResumeJump = "resume_jump" // tier0 resumptions by non-local jump
	EvSuspend    = "suspend"     // suspensions (prefix)
	EvResume     = "resume"      // resume stub calls
	EvTransition = "transition"  // context restores into OSR code
)

// Built is a workload compiled for one strategy.
type Built struct {
	Params   Params
	Strategy patchpoint.Strategy
	Method   *jit.Method
	Frame    jit.Frame
	Image    *sim.Image
	Object   *Object
	Linked   *Linked
	Expect   Expected
}

// Build compiles p for strategy s into an image.
//
// The code tables and the unwind records describe the generated code, so
// generation runs twice: the first pass measures and places every
// function, the second lays the tables out from that. Code never depends
// on the tables' contents (references are rel32), and the second pass
// checks that every function kept its place and size.
func Build(p Params, s patchpoint.Strategy) (*Built, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	cls, err := p.Class()
	if err != nil {
		return nil, err
	}
	m := cls.Methods[0]
	g := &gen{p: p, s: s, cls: cls, m: m}
	obj1, err := g.generate(nil)
	if err != nil {
		return nil, err
	}
	funcs := functions(obj1.Section(secCode))
	obj, err := g.generate(funcs)
	if err != nil {
		return nil, err
	}
	for i, f := range functions(obj.Section(secCode)) {
		if f.Name != funcs[i].Name || f.Size != funcs[i].Size || f.Start != funcs[i].Start {
			panic(fmt.Sprintf("BUG: function %s moved or changed size between passes (%#x+%d, %#x+%d)", f.Name, funcs[i].Start, funcs[i].Size, f.Start, f.Size))
		}
	}
	im, linked, err := g.image(obj)
	if err != nil {
		return nil, err
	}
	exp, err := p.Expect()
	if err != nil {
		return nil, err
	}
	return &Built{Params: p, Strategy: s, Method: m, Frame: g.frame, Image: im, Object: obj, Linked: linked, Expect: exp}, nil
}

type gen struct {
	p     Params
	s     patchpoint.Strategy
	cls   *jit.Class  // the methods (the entry first) and statics
	m     *jit.Method // the entry method
	frame jit.Frame   // its tier0 frame
}

// opt is what the compilers generate code for.
func (g *gen) opt() jit.Options {
	opt := jit.Options{Strategy: g.s, Settings: g.p.Patchpoint, Tier0Patchpoint: g.p.Tier0Variant, Runtime: g.p.Runtime.Model}
	if g.p.Source == nil {
		// The templates keep osrsim's first resumption dispatch, which
		// their baselines were recorded with.
		opt.ResumeDispatch = jit.DispatchCompareChain
	}
	return opt
}

// generate builds the program; emitter.Generate runs it once more, with
// positions for the errors, only if it fails.
func (g *gen) generate(funcs []patchpoint.Func) (*Object, error) {
	return Generate(func(prog *Program) error { return g.emit(prog, funcs) })
}

func (g *gen) emit(prog *Program, funcs []patchpoint.Func) error {
	code, data := prog.Section(secCode), prog.Section(secData)
	// Method entries 32-byte aligned, as CoreCLR's code heap allocates
	// them; it also keeps strategies' layouts comparable (helper-return's
	// extra `jmp rax` would otherwise shift every later function).
	code.SetFuncAlign(MethodAlign)
	prog.EHFrame(code, nativeHelper)
	opt := g.opt()
	helper := patchpoint.Generator{Strategy: g.s, Settings: g.p.Patchpoint}
	rt := continuation.Runtime{Settings: g.p.Runtime, Locals: opt.ContinuationSlots(g.m),
		HeapBase: sim.HeapBase, HeapSize: HeapSize, DataBase: sim.DataBase, TaskResult: g.m.Async && g.m.Result}
	svc := g.services()

	// The native module (the helper) first, the host's entry stub between
	// it and the JIT code heap, where every function gets a CodeHeader
	// before its code.
	helper.EmitCode(code)
	svc.Exit = link.Entry(code, SymEntry, SymMain, sim.StackBase+StackSize)
	code.SetFuncHeader(patchpoint.CodeHeaderSize, patchpoint.EmitCodeHeader(funcs == nil))
	g.emitMain(code, rt)
	var osr []patchpoint.OSRMethod
	for i, m := range g.cls.Methods {
		frame := jit.CompileTier0(code, m, opt)
		if i == 0 {
			g.frame = frame
		}
		for _, il := range m.Loops() {
			if err := jit.CompileOSR(code, m, il, frame, opt); err != nil {
				return err
			}
			osr = append(osr, patchpoint.OSRMethod{Tier0: jit.Tier0Sym(m.Name), OSR: jit.OSRSym(m.Name, il), IL: il})
		}
	}
	if g.m.Async {
		continuation.EmitResumeStub(code, g.m.Name, jit.Tier0Sym(g.m.Name), len(g.m.Params))
		rt.EmitCode(code)
	}
	if g.p.Source != nil {
		svc.EmitCode(code)
	}

	link.EmitZero(data)
	for _, f := range g.cls.Fields {
		data.DefineSymbol(string(f.Sym))
		data.U32(uint32(f.Init))
		data.EndSymbol(string(f.Sym))
	}
	for _, f := range g.paramFields() {
		data.DefineSymbol(f.sym)
		data.U32(uint32(f.v))
		data.EndSymbol(f.sym)
	}
	if g.m.Async {
		rt.EmitData(data)
		continuation.EmitResumeInfo(data, g.m.Name, jit.Tier0Sym(g.m.Name))
	}
	if g.p.Source != nil {
		svc.EmitData(data, g.p.Cut)
	}
	helper.EmitData(data, patchpoint.Tables{CodeBase: sim.CodeBase, Funcs: funcs, OSR: osr})
	return nil
}

// paramField is a parameter the driver reads from data: its word's symbol
// and value.
type paramField struct {
	sym string
	v   int
}

// paramFields are a template's scale parameters (scaleSyms) or a C#
// program's arguments.
func (g *gen) paramFields() []paramField {
	if g.p.Source != nil {
		return g.sourceParams()
	}
	var out []paramField
	for _, q := range scaleParams(g.p.Workload) {
		out = append(out, paramField{scaleSyms[q.Name], *q.Field(&g.p)})
	}
	return out
}

// emitMain is the program's Main.
func (g *gen) emitMain(b *Builder, rt continuation.Runtime) {
	tier0 := Sym(jit.Tier0Sym(g.m.Name))
	b.Func(SymMain)
	// The driver stands for the thread-pool loop that runs continuations:
	// runtime code, every resumption passes through it.
	meta := region.Meta{Region: region.Runtime}
	if g.m.Async {
		meta.Step = continuation.StepDriver
	}
	b.SetMeta(meta)
	switch g.p.Workload {
	case AwaitLoop:
		// Task t = Foo(n, awaits, na); while (!t.IsCompleted) na.Continue();
		g.emitAsyncMain(b, rt, []string{SymParamN, SymParamAwaits, ""}, func() {
			b.Mov(S32, RAX, RIPSym(StaticValue))
		})
	case Reentry:
		// for (c = 0; c < calls; c++) Bar(iterations);
		loop, done := b.NewLabel("main.loop"), b.NewLabel("main.done")
		b.PushNonvol(RBX)
		b.AllocStack(CallFrame(1))
		b.EndProlog()
		b.Mov(S32, RBX, RIPSym(SymParamCalls))
		b.Bind(loop)
		b.Test(S32, RBX, RBX)
		b.Jcc(CondE, done)
		b.Mov(S32, RCX, RIPSym(SymParamIterations))
		b.Call(tier0)
		b.Dec(S32, RBX)
		b.Jmp(loop)
		b.Bind(done)
		b.Mov(S32, RAX, RIPSym(StaticValue))
		b.Add(S64, RSP, Imm(CallFrame(1)))
		b.Pop(RBX)
		b.Ret()
	default:
		g.emitSourceMain(b, rt)
	}
	b.EndFunc()
}

// emitAsyncMain is the PR's Main: Task t = Entry(args); while
// (!t.IsCompleted) na.Continue() (the runtime's loop). args names the data
// field of each argument ("" for the awaiter); result leaves the return
// value in RAX.
func (g *gen) emitAsyncMain(b *Builder, rt continuation.Runtime, args []string, result func()) {
	b.AllocStack(CallFrame(0))
	b.EndProlog()
	rt.EmitAwaitLoop(b, func() {
		b.Xor(S32, RCX, RCX) // no continuation: a first call
		for i, sym := range args {
			r := jit.ArgRegs[i+1]
			if sym == "" {
				b.Lea(r, RIPSym(continuation.SymAwaiter))
			} else {
				b.Mov(S32, r, RIPSym(sym))
			}
		}
		b.Call(Sym(jit.Tier0Sym(g.m.Name)))
	})
	result()
	b.Add(S64, RSP, Imm(CallFrame(0)))
	b.Ret()
}

// nativeHelper says whether code of region r is native in CoreCLR (the
// patchpoint helper's C++ and assembly): it gets .eh_frame records, as
// coreclr's native code has on Linux.
func nativeHelper(r region.Region) bool { return r == region.Helper }

// functions lists the code section's functions for the code tables, with
// their regions: managed code (region.Info.Managed) is in the JIT code heap,
// the helper in the native module.
func functions(code *Section) []patchpoint.Func {
	regions := map[string]region.Region{}
	for _, s := range code.Symbols {
		if s.Kind == SymFunc {
			regions[s.Name] = s.Region
		}
	}
	var fs []patchpoint.Func
	for _, u := range code.Unwind {
		fs = append(fs, patchpoint.Func{Name: u.Name, Start: u.Start, Size: u.End - u.Start, Unwind: u.Info, Region: regions[u.Name]})
	}
	return fs
}

// image links the object and adds the counting events: helper entries and
// transitions, entries into every OSR method, the tier0 resumption's jump,
// every suspension point and the resume stub.
func (g *gen) image(obj *Object) (*sim.Image, *Linked, error) {
	im, l, err := link.Image(obj, link.Layout{Entry: SymEntry, HeapSize: HeapSize, StackSize: StackSize})
	if err != nil {
		return nil, nil, err
	}
	events := map[string]string{ // symbol -> event
		patchpoint.SymHelper:              EvHelper,
		patchpoint.SymForced:              EvForced,
		patchpoint.SymRestore:             EvTransition,
		jit.ResumeJmpSym(g.m.Name):        EvResumeJump,
		continuation.ResumeStub(g.m.Name): EvResume,
	}
	for _, sym := range g.opt().SuspendSyms(g.m) {
		events[sym] = EvSuspend + "." + sym
	}
	for _, s := range obj.Section(secCode).Symbols {
		if s.Region == region.OSR && s.Kind == SymFunc {
			events[s.Name] = EvOSREntry + "." + s.Name
		}
	}
	// Helper events first, then the others in address order.
	for _, sym := range []string{patchpoint.SymHelper, patchpoint.SymForced, patchpoint.SymRestore} {
		if a, ok := l.Symbols[sym]; ok {
			im.Events = append(im.Events, sim.Event{Name: events[sym], Addr: a})
		}
		delete(events, sym)
	}
	for _, s := range obj.Section(secCode).Symbols {
		if ev, ok := events[s.Name]; ok {
			im.Events = append(im.Events, sim.Event{Name: ev, Addr: l.Symbols[s.Name]})
		}
	}
	return im, l, nil
}
