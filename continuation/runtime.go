package continuation

import (
	. "github.com/osrsim/osrsim/emitter"
	"github.com/osrsim/osrsim/region"
)

// Symbols of the async runtime. Code symbols are functions; data symbols are
// one field each so generated code can address them RIP-relative.
const (
	SymAlloc          = "runtime.alloc"
	SymFree           = "runtime.free"
	SymDispatch       = "runtime.dispatch"
	SymOnSuspended    = "runtime.on_suspended"
	SymAwaiterOnComp  = "runtime.awaiter.on_completed"
	SymAwaiterCont    = "runtime.awaiter.continue"
	SymAllocFree      = "runtime.heap.free"
	SymAllocBump      = "runtime.heap.bump"
	SymAllocLimit     = "runtime.heap.limit"
	SymAllocLive      = "runtime.heap.live"
	SymPendingAwaiter = "runtime.pending_awaiter"
	SymTaskCompleted  = "runtime.task_completed"
	SymContinuationMT = "runtime.continuation_mt"
	SymAwaiterMT      = "runtime.awaiter_mt"
	SymAwaiter        = "runtime.awaiter" // the one NullAwaiter instance
	SymTaskResult     = "runtime.task_result"
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
	BlockSize int    // continuation allocation size (one size class)
	HeapBase  uint64 // heap region the allocator carves blocks from
	HeapSize  uint64
	// TaskResult lays out the entry task's int result (Task<int>).
	TaskResult bool
}

// EmitData lays out the runtime's statics in the data section.
func (rt Runtime) EmitData(d *Builder) {
	d.Align(16, 0)
	u64 := func(name string, v uint64) {
		d.DefineSymbol(name)
		d.U64(v)
		d.EndSymbol(name)
	}
	u64(SymAllocFree, 0)
	// Blocks start half a page in: the runtime's statics sit near the start
	// of their page, and a continuation at the same page offset makes loads
	// of them 4K-alias the allocator's recent stores (about 21 cycles each
	// on the machine this was measured on), an accident of layout rather
	// than a cost of the mechanism.
	u64(SymAllocBump, rt.HeapBase+HeapStart)
	u64(SymAllocLimit, rt.HeapBase+rt.HeapSize)
	u64(SymAllocLive, 0)
	u64(SymPendingAwaiter, 0)
	u64(SymTaskCompleted, 0)
	if rt.TaskResult {
		u64(SymTaskResult, 0)
	}
	u64(SymContinuationMT, 0xC0DE_0001) // stands in for the Continuation method table
	d.DefineSymbol(SymAwaiterMT)
	d.U64Sym(SymAwaiterOnComp, 0)
	d.EndSymbol(SymAwaiterMT)
	d.DefineSymbol(SymAwaiter)
	d.U64Sym(SymAwaiterMT, 0)
	d.U64(0)
	d.EndSymbol(SymAwaiter)
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

// runtimeFunc begins a function of the async runtime.
func runtimeFunc(b *Builder, name string) {
	b.Func(name)
	b.SetMeta(region.Meta{Region: region.Runtime})
}

// EmitCode generates the runtime's functions.
func (rt Runtime) EmitCode(b *Builder) {
	rt.emitAlloc(b)
	emitFree(b)
	emitDispatch(b)
	emitOnSuspended(b)
	emitAwaiter(b)
}

// runtime.alloc: returns a zeroed block in RAX, from the free list or by
// bumping. Clobbers only RAX, RCX, RDX, so OSR code may keep live locals in
// every other register across the call (like a JIT helper's contract).
func (rt Runtime) emitAlloc(b *Builder) {
	bump, zero, zl, oom := b.NewLabel("alloc.bump"), b.NewLabel("alloc.zero"), b.NewLabel("alloc.zero_loop"), b.NewLabel("alloc.oom")
	runtimeFunc(b, SymAlloc)
	b.EndProlog()
	b.Mov(S64, RAX, RIPSym(SymAllocFree))
	b.Test(S64, RAX, RAX)
	b.Jcc(CondE, bump)
	b.Mov(S64, RDX, M(RAX, 0))
	b.Mov(S64, RIPSym(SymAllocFree), RDX)
	b.Jmp(zero)
	b.Bind(bump)
	b.Mov(S64, RAX, RIPSym(SymAllocBump))
	b.Lea(RDX, M(RAX, int32(rt.BlockSize)))
	b.Cmp(S64, RDX, RIPSym(SymAllocLimit))
	b.Jcc(CondA, oom)
	b.Mov(S64, RIPSym(SymAllocBump), RDX)
	b.Bind(zero)
	b.Mov(S32, RCX, Imm(rt.BlockSize))
	b.Xor(S32, RDX, RDX)
	b.Bind(zl)
	b.Sub(S64, RCX, Imm(8))
	b.Mov(S64, MIdx(RAX, RCX, 1, 0), RDX)
	b.Jcc(CondNE, zl)
	b.Inc(S64, RIPSym(SymAllocLive))
	b.Ret()
	b.Bind(oom)
	b.Ud2() // heap exhausted: a leak in the model, reported as a fault
	b.EndFunc()
}

// runtime.free: pushes RCX's block on the free list. Clobbers RAX.
func emitFree(b *Builder) {
	runtimeFunc(b, SymFree)
	b.EndProlog()
	b.Mov(S64, RAX, RIPSym(SymAllocFree))
	b.Mov(S64, M(RCX, 0), RAX)
	b.Mov(S64, RIPSym(SymAllocFree), RCX)
	b.Dec(S64, RIPSym(SymAllocLive))
	b.Ret()
	b.EndFunc()
}

// runtime.dispatch(cont): CoreLib's DispatchContinuations. Resumes the
// continuation through its ResumeInfo; if the method suspends again, links
// the new continuation and hands it to the awaiter; otherwise goes on with
// Next, and marks the task completed at the end of the chain.
func emitDispatch(b *Builder) {
	next, done, completed, out := b.NewLabel("dispatch.next"), b.NewLabel("dispatch.resumed_done"), b.NewLabel("dispatch.completed"), b.NewLabel("dispatch.out")
	runtimeFunc(b, SymDispatch)
	b.PushNonvol(RBX)
	b.PushNonvol(RSI)
	b.AllocStack(CallFrame(2))
	b.EndProlog()
	b.Mov(S64, RBX, RCX)
	b.Bind(next)
	b.Mov(S64, RSI, M(RBX, OffNext))
	b.Mov(S64, RAX, M(RBX, OffResumeInfo))
	b.Mov(S64, RCX, RBX)
	b.Call(M(RAX, OffResumeFn))
	b.Mov(S64, RCX, RBX)
	b.Mov(S64, RBX, RAX)
	b.Call(Sym(SymFree))
	b.Test(S64, RBX, RBX)
	b.Jcc(CondE, done)
	b.Mov(S64, M(RBX, OffNext), RSI)
	b.Mov(S64, RCX, RBX)
	b.Call(Sym(SymOnSuspended))
	b.Jmp(out)
	b.Bind(done)
	b.Test(S64, RSI, RSI)
	b.Jcc(CondE, completed)
	b.Mov(S64, RBX, RSI)
	b.Jmp(next)
	b.Bind(completed)
	b.Mov(S32, RIPSym(SymTaskCompleted), Imm(1))
	b.Bind(out)
	b.Add(S64, RSP, Imm(CallFrame(2)))
	b.Pop(RSI)
	b.Pop(RBX)
	b.Ret()
	b.EndFunc()
}

// runtime.on_suspended(cont): HandleSuspended: calls UnsafeOnCompleted on
// the awaiter the method left in pending_awaiter, through its method table.
func emitOnSuspended(b *Builder) {
	runtimeFunc(b, SymOnSuspended)
	b.AllocStack(CallFrame(0))
	b.EndProlog()
	b.Mov(S64, RDX, RCX)
	b.Mov(S64, RCX, RIPSym(SymPendingAwaiter))
	b.Mov(S64, RIPSym(SymPendingAwaiter), Imm(0))
	b.Mov(S64, RAX, M(RCX, OffAwaiterMT))
	b.Call(M(RAX, OffMTOnCompleted))
	b.Add(S64, RSP, Imm(CallFrame(0)))
	b.Ret()
	b.EndFunc()
}

// The NullAwaiter: never completes synchronously; OnCompleted stores the
// continuation, Continue() takes it and dispatches it.
func emitAwaiter(b *Builder) {
	runtimeFunc(b, SymAwaiterOnComp)
	b.EndProlog()
	b.Mov(S64, M(RCX, OffAwaiterCont), RDX)
	b.Ret()
	b.EndFunc()

	runtimeFunc(b, SymAwaiterCont)
	b.EndProlog()
	b.Mov(S64, RAX, RCX)
	b.Mov(S64, RCX, M(RAX, OffAwaiterCont))
	b.Mov(S64, M(RAX, OffAwaiterCont), Imm(0))
	b.Jmp(Sym(SymDispatch)) // tail call
	b.EndFunc()
}

// EmitResumeStub generates ResumeInfo.Resume for a method: calls its tier0
// entry with the continuation and zeroed arguments; returns the method's
// continuation (RCX) in RAX.
func EmitResumeStub(b *Builder, method, tier0 string, nArgs int) {
	runtimeFunc(b, ResumeStub(method))
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

// Suspend describes one suspension point.
type Suspend struct {
	Method   string    // for ResumeInfo
	OSRSym   string    // for SlotFtnEntry
	State    int       // resumption state (1-based await index)
	Slot     SlotKind  // what goes in data[0]
	IL       int       // for SlotILOffset
	Locals   []Operand // live locals, 64-bit register or memory operands
	Awaiter  Operand   // the awaiter object (register or memory)
	EventSym string    // label marking the suspension, for counting
}

// EmitSuspend allocates and fills a continuation and leaves it in RCX, ready
// for the method's epilog. Locals and the awaiter must not live in RAX, RCX
// or RDX (runtime.alloc clobbers them).
func EmitSuspend(b *Builder, s Suspend) {
	if s.EventSym != "" {
		b.BeginRange(s.EventSym)
	}
	b.Call(Sym(SymAlloc))
	b.Lea(RCX, RIPSym(SymContinuationMT))
	b.Mov(S64, M(RAX, OffMethodTable), RCX)
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
	for k, l := range s.Locals {
		dst := M(RAX, int32(OffLocals+k*LocalSlot))
		if r, ok := l.(Reg); ok {
			b.Mov(S64, dst, r)
			continue
		}
		b.Mov(S64, RCX, l)
		b.Mov(S64, dst, RCX)
	}
	if r, ok := s.Awaiter.(Reg); ok {
		b.Mov(S64, RIPSym(SymPendingAwaiter), r)
	} else {
		b.Mov(S64, RCX, s.Awaiter)
		b.Mov(S64, RIPSym(SymPendingAwaiter), RCX)
	}
	b.Mov(S64, RCX, RAX)
	if s.EventSym != "" {
		b.EndRange()
	}
}

// EmitRestore loads live locals from the continuation in cont into dsts
// (registers or memory). Memory destinations go through scratch.
func EmitRestore(b *Builder, cont Reg, dsts []Operand, scratch Reg) {
	for k, d := range dsts {
		src := M(cont, int32(OffLocals+k*LocalSlot))
		if r, ok := d.(Reg); ok {
			b.Mov(S64, r, src)
			continue
		}
		b.Mov(S64, scratch, src)
		b.Mov(S64, d, scratch)
	}
}
