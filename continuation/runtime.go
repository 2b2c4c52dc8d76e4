package continuation

import (
	. "github.com/osrsim/osrsim/emitter"
	"github.com/osrsim/osrsim/region"
)

// Symbols both models define.
const (
	SymAlloc         = "runtime.alloc"
	SymDispatch      = "runtime.dispatch"
	SymOnSuspended   = "runtime.on_suspended" // the first suspension, from the driver
	SymAwaiterOnComp = "runtime.awaiter.on_completed"
	SymAwaiterCont   = "runtime.awaiter.continue"
	SymAwaiter       = "runtime.awaiter" // the one NullAwaiter instance
	SymAwaiterMT     = "runtime.awaiter_mt"
	SymTaskResult    = "runtime.task_result" // the entry task's int result (Task<int>)
)

// Symbols of the runtime's non-async services: the run-time error stub and
// the stopwatch marks.
const (
	SymThrow          = "runtime.throw"
	SymErrorInfo      = "runtime.error"
	SymStopwatchStart = "runtime.stopwatch.start"
	SymStopwatchStop  = "runtime.stopwatch.stop"
	SymStopwatchCut   = "runtime.stopwatch.cut"
)

// ResumeStub names the resume function of a method, the target of its
// ResumeInfo.
func ResumeStub(method string) string { return "runtime.resume." + method }

// ResumeInfoSym names a method's ResumeInfo record.
func ResumeInfoSym(method string) string { return method + ".resumeinfo" }

// HeapStart is the offset in the heap region of the first block.
const HeapStart = 0x800

// Runtime describes the runtime to generate.
type Runtime struct {
	Settings
	Locals   int    // live locals a continuation carries
	HeapBase uint64 // heap region continuations are allocated in (gen0)
	HeapSize uint64
	DataBase uint64 // data region, where long-lived objects live (gen2)
	// TaskResult lays out the entry task's int result (Task<int>).
	TaskResult bool
}

// EmitCode generates the runtime's functions.
func (rt Runtime) EmitCode(b *Builder) {
	b.DeclareSteps(rt.Model.steps()...)
	if rt.Model == CoreCLR {
		rt.emitCoreCLR(b)
		return
	}
	rt.emitMinimal(b)
}

// EmitData lays out the runtime's statics and objects in the data section.
func (rt Runtime) EmitData(d *Builder) {
	if rt.Model == CoreCLR {
		rt.emitCoreCLRData(d)
		return
	}
	rt.emitMinimalData(d)
}

// runtimeFunc begins a function of the async runtime that counts for step.
func runtimeFunc(b *Builder, name, step string) {
	b.Func(name)
	b.SetMeta(region.Meta{Region: region.Runtime, Step: step})
}

// EmitAwaitLoop is the body of the program's Main for an async entry
// method: `Task t = Foo(...); while (!t.IsCompleted) na.Continue();`. call
// emits the call of the method's tier0 code with its arguments (the
// continuation argument null); the rest is the runtime's, to the point
// where Main's result is computed. The driver stands for the thread-pool
// loop that runs continuations: every resumption passes through it
// (StepDriver).
func (rt Runtime) EmitAwaitLoop(b *Builder, call func()) {
	loop, completed, done := b.NewLabel("main.loop"), b.NewLabel("main.completed"), b.NewLabel("main.done")
	call()
	b.Test(S64, RCX, RCX)
	b.Jcc(CondE, completed)
	if rt.Model == CoreCLR {
		b.Lea(RCX, RIPSym(SymTask)) // FinalizeTaskReturningThunk: the task takes the suspension
	}
	b.Call(Sym(SymOnSuspended))
	b.Bind(loop)
	rt.emitIsCompleted(b, done)
	b.Lea(RCX, RIPSym(SymAwaiter))
	b.Call(Sym(SymAwaiterCont))
	b.Jmp(loop)
	b.Bind(completed)
	rt.emitSetCompleted(b)
	b.Bind(done)
}

// emitIsCompleted jumps to done when the task has completed (t.IsCompleted).
func (rt Runtime) emitIsCompleted(b *Builder, done *Label) {
	if rt.Model == CoreCLR {
		b.Test(S32, RIPSym(SymTask).Off(OffTaskStateFlags), Imm(TaskStateCompletedMask))
	} else {
		b.Cmp(S32, RIPSym(SymTaskCompleted), Imm(0))
	}
	b.Jcc(CondNE, done)
}

// emitSetCompleted completes the task of a method that never suspended.
func (rt Runtime) emitSetCompleted(b *Builder) {
	if rt.Model == CoreCLR {
		b.Or(S32, RIPSym(SymTask).Off(OffTaskStateFlags), Imm(TaskStateRanToCompletion))
	} else {
		b.Mov(S32, RIPSym(SymTaskCompleted), Imm(1))
	}
}

// EmitResumeInfo lays out a method's ResumeInfo; diagIP names the code its
// DiagnosticIP points at.
func EmitResumeInfo(d *Builder, method, diagIP string) {
	d.Align(16, 0)
	d.DefineSymbol(ResumeInfoSym(method))
	d.U64Sym(ResumeStub(method), 0)
	d.U64Sym(diagIP, 0)
	d.EndSymbol(ResumeInfoSym(method))
}

// EmitResumeStub generates ResumeInfo.Resume for a method: calls its tier0
// entry with the continuation and zeroed arguments; returns the method's
// continuation (RCX) in RAX.
func EmitResumeStub(b *Builder, method, tier0 string, nArgs int) {
	runtimeFunc(b, ResumeStub(method), StepResumeStub)
	b.AllocStack(CallFrame(0))
	b.EndProlog()
	for i := 0; i < nArgs && i < 3; i++ {
		r := []Reg{RDX, R8, R9}[i]
		b.Xor(S32, r, r)
	}
	b.Call(Sym(tier0))
	b.Mov(S64, RAX, RCX)
	b.Add(S64, RSP, Imm(CallFrame(0)))
	b.Ret()
	b.EndFunc()
}

// SlotKind says what a suspension stores in the OSR slot, data[0].
type SlotKind uint8

const (
	SlotNone      SlotKind = iota // method without patchpoints: no OSR slot
	SlotTier0Int                  // before #123757: tier0 stores -1
	SlotTier0Addr                 // after: tier0 stores 0
	SlotILOffset                  // before: OSR stores its entry IL offset
	SlotFtnEntry                  // after: OSR stores its own entry (GT_FTN_ENTRY)
)

// Slot is a live local: a 64-bit register or memory operand, and whether
// it holds an object reference (stored through the write barrier).
type Slot struct {
	Op  Operand
	Ref bool
}

// Suspend describes one suspension point.
type Suspend struct {
	Method   string   // for ResumeInfo
	OSRSym   string   // for SlotFtnEntry
	State    int      // resumption state (1-based await index)
	Slot     SlotKind // what goes in data[0]
	IL       int      // for SlotILOffset
	Locals   []Slot   // live locals
	Awaiter  Operand  // the awaiter object (register or memory)
	EventSym string   // label marking the suspension, for counting
	// Temp is a frame slot the method may lose at suspension: the CoreCLR
	// model keeps the new continuation there across its calls.
	Temp Mem
}

// EmitSuspend allocates and fills a continuation and leaves it in RCX, ready
// for the method's epilog. Locals and the awaiter must not live in RAX, RCX
// or RDX: the runtime's functions the suspension calls clobber those and no
// other register, like a JIT helper's contract, so the method may keep
// locals in every other register.
func (m Model) EmitSuspend(b *Builder, s Suspend) {
	if s.EventSym != "" {
		b.BeginRange(s.EventSym)
	}
	if m == CoreCLR {
		emitSuspendCoreCLR(b, s)
	} else {
		emitSuspendMinimal(b, s)
	}
	if s.EventSym != "" {
		b.EndRange()
	}
}

// emitFillHeader stores ResumeInfo, Flags, State and the OSR slot of the
// continuation in RAX (through RCX).
func emitFillHeader(b *Builder, s Suspend) {
	b.Lea(RCX, RIPSym(ResumeInfoSym(s.Method)))
	b.Mov(S64, M(RAX, OffResumeInfo), RCX)
	if s.Slot != SlotNone {
		b.Mov(S32, M(RAX, OffFlags), Imm(FlagHasOsrSlot))
	}
	b.Mov(S32, M(RAX, OffState), Imm(s.State))
	switch s.Slot {
	case SlotTier0Int:
		b.Mov(S32, M(RAX, OffOSRSlot), Imm(-1))
	case SlotTier0Addr:
		b.Xor(S32, RCX, RCX)
		b.Mov(S64, M(RAX, OffOSRSlot), RCX)
	case SlotILOffset:
		b.Mov(S32, M(RAX, OffOSRSlot), Imm(s.IL))
	case SlotFtnEntry:
		b.Lea(RCX, RIPSym(s.OSRSym))
		b.Mov(S64, M(RAX, OffOSRSlot), RCX)
	}
}

// emitStoreLocal stores local k of model m into the continuation in RAX,
// memory sources through RCX.
func (m Model) emitStoreLocal(b *Builder, k int, l Operand) {
	emitMove(b, M(RAX, m.OffLocals()+int32(k*LocalSlot)), l, RCX)
}

// emitMove moves 64 bits from src to dst, through scratch when neither is
// a register.
func emitMove(b *Builder, dst, src Operand, scratch Reg) {
	_, dr := dst.(Reg)
	_, sr := src.(Reg)
	if !dr && !sr {
		b.Mov(S64, scratch, src)
		src = scratch
	}
	b.Mov(S64, dst, src)
}

// EmitRestore loads live locals from the continuation in cont into dsts
// (registers or memory; memory destinations go through scratch); in the
// CoreCLR model it then restores the ExecutionContext the suspension
// captured. Keeps cont; clobbers scratch and RDX.
func (m Model) EmitRestore(b *Builder, cont Reg, dsts []Operand, scratch Reg) {
	for k, d := range dsts {
		emitMove(b, d, M(cont, m.OffLocals()+int32(k*LocalSlot)), scratch)
	}
	if m == CoreCLR {
		b.Mov(S64, RCX, M(cont, OffExecContext))
		b.Call(Sym(SymRestoreExecContext))
	}
}
