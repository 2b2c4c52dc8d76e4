package continuation

import (
	. "github.com/osrsim/osrsim/emitter"
)

// The minimal model: osrsim's first runtime, kept so that earlier figures
// stay reproducible and an ablation can show what CoreCLR's pieces cost.

// Symbols of the minimal model. Data symbols are one field each so
// generated code can address them RIP-relative.
const (
	SymFree           = "runtime.free"
	SymAllocFree      = "runtime.heap.free"
	SymAllocBump      = "runtime.heap.bump"
	SymAllocLimit     = "runtime.heap.limit"
	SymAllocLive      = "runtime.heap.live"
	SymPendingAwaiter = "runtime.pending_awaiter"
	SymTaskCompleted  = "runtime.task_completed"
	SymContinuationMT = "runtime.continuation_mt"
)

func (rt Runtime) emitMinimalData(d *Builder) {
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

func (rt Runtime) emitMinimal(b *Builder) {
	rt.emitMinimalAlloc(b)
	emitMinimalFree(b)
	emitMinimalDispatch(b)
	emitMinimalOnSuspended(b)
	emitMinimalAwaiter(b)
}

// runtime.alloc: returns a zeroed block in RAX, from the free list or by
// bumping. Clobbers only RAX, RCX, RDX, so OSR code may keep live locals in
// every other register across the call (like a JIT helper's contract).
func (rt Runtime) emitMinimalAlloc(b *Builder) {
	size := rt.Model.ObjectSize(rt.Locals)
	bump, zero, zl, oom := b.NewLabel("alloc.bump"), b.NewLabel("alloc.zero"), b.NewLabel("alloc.zero_loop"), b.NewLabel("alloc.oom")
	runtimeFunc(b, SymAlloc, StepAlloc)
	b.EndProlog()
	b.Mov(S64, RAX, RIPSym(SymAllocFree))
	b.Test(S64, RAX, RAX)
	b.Jcc(CondE, bump)
	b.Mov(S64, RDX, M(RAX, 0))
	b.Mov(S64, RIPSym(SymAllocFree), RDX)
	b.Jmp(zero)
	b.Bind(bump)
	b.Mov(S64, RAX, RIPSym(SymAllocBump))
	b.Lea(RDX, M(RAX, int32(size)))
	b.Cmp(S64, RDX, RIPSym(SymAllocLimit))
	b.Jcc(CondA, oom)
	b.Mov(S64, RIPSym(SymAllocBump), RDX)
	b.Bind(zero)
	b.Mov(S32, RCX, Imm(size))
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
func emitMinimalFree(b *Builder) {
	runtimeFunc(b, SymFree, StepAlloc)
	b.EndProlog()
	b.Mov(S64, RAX, RIPSym(SymAllocFree))
	b.Mov(S64, M(RCX, 0), RAX)
	b.Mov(S64, RIPSym(SymAllocFree), RCX)
	b.Dec(S64, RIPSym(SymAllocLive))
	b.Ret()
	b.EndFunc()
}

// runtime.dispatch(cont): a DispatchContinuations. Resumes the
// continuation through its ResumeInfo; if the method suspends again, links
// the new continuation and hands it to the awaiter; otherwise goes on with
// Next, and marks the task completed at the end of the chain.
func emitMinimalDispatch(b *Builder) {
	next, done, completed, out := b.NewLabel("dispatch.next"), b.NewLabel("dispatch.resumed_done"), b.NewLabel("dispatch.completed"), b.NewLabel("dispatch.out")
	runtimeFunc(b, SymDispatch, StepDispatch)
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
func emitMinimalOnSuspended(b *Builder) {
	runtimeFunc(b, SymOnSuspended, StepDispatch)
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
func emitMinimalAwaiter(b *Builder) {
	runtimeFunc(b, SymAwaiterOnComp, StepAwaiter)
	b.EndProlog()
	b.Mov(S64, M(RCX, OffAwaiterCont), RDX)
	b.Ret()
	b.EndFunc()

	runtimeFunc(b, SymAwaiterCont, StepAwaiter)
	b.EndProlog()
	b.Mov(S64, RAX, RCX)
	b.Mov(S64, RCX, M(RAX, OffAwaiterCont))
	b.Mov(S64, M(RAX, OffAwaiterCont), Imm(0))
	b.Jmp(Sym(SymDispatch)) // tail call
	b.EndFunc()
}

// emitSuspendMinimal: a continuation from runtime.alloc filled with plain
// stores; the awaiter goes to pending_awaiter for on_suspended.
func emitSuspendMinimal(b *Builder, s Suspend) {
	b.Call(Sym(SymAlloc))
	b.Lea(RCX, RIPSym(SymContinuationMT))
	b.Mov(S64, M(RAX, OffMethodTable), RCX)
	emitFillHeader(b, s)
	for k, l := range s.Locals {
		Minimal.emitStoreLocal(b, k, l.Op)
	}
	if r, ok := s.Awaiter.(Reg); ok {
		b.Mov(S64, RIPSym(SymPendingAwaiter), r)
	} else {
		b.Mov(S64, RCX, s.Awaiter)
		b.Mov(S64, RIPSym(SymPendingAwaiter), RCX)
	}
	b.Mov(S64, RCX, RAX)
}
