package continuation

import (
	. "github.com/osrsim/osrsim/emitter"
)

// The CoreCLR model: what every resumption runs in CoreCLR besides the OSR
// mechanism, after CoreLib's AsyncHelpers.CoreCLR.cs of the PR's time
// (early 2026: the method captures and restores its ExecutionContext,
// DispatchContinuations keeps an ExecutionAndSyncBlockStore) and the
// runtime's x64 helpers. Paths the benchmark never takes (exceptions,
// continuation contexts, changed ExecutionContexts, lazily allocated state)
// end in ud2 rather than being modelled.

// Objects of the model. Every object starts with its MethodTable pointer;
// a MethodTable starts with its flags and base size.
const (
	OffMTFlags      = 0x00
	OffMTBaseSize   = 0x04
	MethodTableSize = 0x10

	// Thread (System.Threading.Thread): the contexts the runtime compares.
	OffThreadExecContext = 0x08
	OffThreadSyncContext = 0x10
	ThreadSize           = 0x18

	// ExecutionContext: only its flow-suppressed flag is read.
	OffECFlowSuppressed = 0x08
	ExecContextSize     = 0x10

	// RuntimeAsyncTask<T>: the Task fields DispatchContinuations uses.
	OffTaskAction      = 0x08 // m_action: DispatchContinuations as an Action
	OffTaskStateObject = 0x10 // m_stateObject: the continuation while the task waits
	OffTaskStateFlags  = 0x18 // m_stateFlags
	OffTaskResult      = 0x20 // m_result
	TaskSize           = 0x28
	// TASK_STATE_RAN_TO_COMPLETION and TASK_STATE_COMPLETED_MASK.
	TaskStateRanToCompletion = 0x0100_0000
	TaskStateCompletedMask   = 0x0160_0000

	// Delegate (an Action): target and code.
	OffDelegateTarget     = 0x08
	OffDelegateMethodBase = 0x10
	OffDelegateMethodPtr  = 0x18
	OffDelegateMethodAux  = 0x20
	DelegateSize          = 0x28

	// RuntimeAsyncAwaitState (AsyncHelpers.t_runtimeAsyncAwaitState): the
	// sentinel the chain of a suspension hangs from, what it waits on, the
	// contexts at the leaf.
	OffStateSentinel    = 0x00
	OffStateCritical    = 0x08 // ICriticalNotifyCompletion
	OffStateNotifier    = 0x10 // INotifyCompletion
	OffStateVTSNotifier = 0x18
	OffStateTask        = 0x20
	OffStateExecContext = 0x28
	OffStateSyncContext = 0x30
	AwaitStateSize      = 0x38

	// Continuation flags the dispatcher tests (ContinuationFlags).
	FlagHasResult       = 0x08
	FlagsContinueOnMask = 0x70 // ContinueOnThreadPool | ...SynchronizationContext | ...TaskScheduler
)

// Symbols of the CoreCLR model.
const (
	SymTask               = "runtime.task"            // the RuntimeAsyncTask Main waits on
	SymDispatchAction     = "runtime.task.action"     // its m_action
	SymSentinel           = "runtime.sentinel"        // the await state's sentinel continuation
	SymAwaitState         = "runtime.await_state"     // t_runtimeAsyncAwaitState
	SymDispatcherCurrent  = "runtime.dispatcher_info" // AsyncDispatcherInfo.t_current
	SymCurrentThread      = "runtime.current_thread"  // Thread.t_currentThread
	SymThread             = "runtime.thread"
	SymDefaultFlowSupp    = "runtime.ec.default_flow_suppressed" // ExecutionContext.DefaultFlowSuppressed
	SymFlowSuppressedEC   = "runtime.ec.flow_suppressed"
	SymContinuationMTCLR  = "runtime.mt.continuation"
	symMTPrefix           = "runtime.mt."
	SymAllocContinuation  = "runtime.alloc_continuation"        // AsyncHelpers.AllocContinuation
	SymCaptureExecContext = "runtime.capture_execution_context" // AsyncHelpers.CaptureExecutionContext
	SymRestoreExecContext = "runtime.restore_execution_context" // AsyncHelpers.RestoreExecutionContext
	SymUnsafeAwaitAwaiter = "runtime.unsafe_await_awaiter"      // AsyncHelpers.UnsafeAwaitAwaiter
	SymVSDResolve         = "runtime.vsd.resolve"               // the resolve stub of UnsafeOnCompleted
	SymVSDCell            = "runtime.vsd.cell"                  // the call site's indirection cell
	SymVSDCache           = "runtime.vsd.cache"                 // the resolve cache
	SymVSDEntry           = "runtime.vsd.entry"                 // (NullAwaiter, UnsafeOnCompleted) → target
	SymVSDEmpty           = "runtime.vsd.empty"                 // the empty cache entry
)

// Virtual stub dispatch (vm/virtualcallstub.h, amd64/virtualcallstubcpu.hpp).
const (
	// VSDCacheEntries is the resolve cache's size (CALL_STUB_CACHE_SIZE).
	VSDCacheEntries = 4096
	vsdCacheMask    = (VSDCacheEntries - 1) << 3 // and-mask of a pre-shifted hash
	// VSDToken is the dispatch token of ICriticalNotifyCompletion.
	// UnsafeOnCompleted: the interface's type ID above its slot number.
	VSDToken = 0x30<<16 | 0
	// vsdHashedToken is the token hashed by the runtime when it makes the
	// stub, pre-shifted to index pointers.
	vsdHashedToken = (VSDToken * 0x9E3779B1 >> 16 << 3) & vsdCacheMask
	// ResolveCacheElem: the key and the target.
	OffVSDEntryMT     = 0x00
	OffVSDEntryToken  = 0x08
	OffVSDEntryTarget = 0x10
	OffVSDEntryNext   = 0x18
	VSDEntrySize      = 0x20
)

// VSDHash is the resolve stub's cache index of a MethodTable address, a
// byte offset into the cache.
func VSDHash(mt uint64) uint64 { return ((mt + mt>>12) ^ vsdHashedToken) & vsdCacheMask }

// mtSym names the MethodTable of an object kind.
func mtSym(kind string) string { return symMTPrefix + kind }

// framed is a runtime function with a frame: pushed callee saves, locals
// above the outgoing home area.
type framed struct {
	b *Builder
	CalleeFrame
}

// beginFramed begins function name of step with a prolog that pushes
// saves and allocates locals bytes of frame above the home area.
func beginFramed(b *Builder, name, step string, locals int32, saves ...Reg) framed {
	runtimeFunc(b, name, step)
	return framed{b, b.Prolog(HomeArea+locals, saves...)}
}

// epilog returns from the function.
func (f framed) epilog() { f.b.Epilog(f.CalleeFrame) }

// endUnmodelled binds slow, the paths the model leaves out, to a ud2 and
// ends the function.
func endUnmodelled(b *Builder, slow *Label) {
	b.Bind(slow)
	b.Ud2()
	b.EndFunc()
}

func (rt Runtime) emitCoreCLR(b *Builder) {
	emitAlloc(b)
	rt.emitAllocRefill(b)
	emitWriteBarrier(b)
	emitCheckedWriteBarrier(b)
	emitAllocContinuation(b)
	emitCaptureExecContext(b)
	emitRestoreExecContext(b)
	emitUnsafeAwaitAwaiter(b)
	emitDispatchContinuations(b)
	emitHandleSuspended(b)
	emitResolveStub(b)
	emitNullAwaiter(b)
}

// runtime.alloc_continuation(prev, mt) → continuation: AsyncHelpers.
// AllocContinuation: a new object of the continuation's type, linked as
// prev's Next. Clobbers RAX, RCX, RDX.
func emitAllocContinuation(b *Builder) {
	f := beginFramed(b, SymAllocContinuation, StepAlloc, 0, RBX, RSI)
	b.Mov(S64, RBX, RCX)
	b.Mov(S64, RCX, RDX)
	b.Call(Sym(SymAlloc)) // RuntimeTypeHandle.InternalAllocNoChecks(contMT)
	b.Mov(S64, RSI, RAX)
	b.Lea(RCX, M(RBX, OffNext)) // prevContinuation.Next = newContinuation
	b.Mov(S64, RDX, RAX)
	b.Call(Sym(SymWriteBarrier))
	b.Mov(S64, RAX, RSI)
	f.epilog()
	b.EndFunc()
}

// runtime.capture_execution_context() → ExecutionContext:
// ExecutionContext.CaptureForSuspension(Thread.CurrentThreadAssumedInitialized):
// the thread's context, or DefaultFlowSuppressed if flow is suppressed
// (null for the default context). Clobbers RAX.
func emitCaptureExecContext(b *Builder) {
	done, slow := b.NewLabel("capture_ec.done"), b.NewLabel("capture_ec.slow")
	runtimeFunc(b, SymCaptureExecContext, StepExecContext)
	b.EndProlog()
	emitCurrentThread(b, RAX, slow)
	b.Mov(S64, RAX, M(RAX, OffThreadExecContext))
	b.Test(S64, RAX, RAX)
	b.Jcc(CondE, done)
	b.Cmp(S8, M(RAX, OffECFlowSuppressed), Imm(0))
	b.Jcc(CondE, done)
	b.Mov(S64, RAX, RIPSym(SymDefaultFlowSupp))
	b.Bind(done)
	b.Ret()
	endUnmodelled(b, slow)
}

// runtime.restore_execution_context(ec): AsyncHelpers.RestoreExecutionContext:
// nothing when the context is DefaultFlowSuppressed or already the
// thread's; else RestoreChangedContextToThread (not modelled: the
// benchmark's context never changes). Clobbers RCX, RDX.
func emitRestoreExecContext(b *Builder) {
	done, changed := b.NewLabel("restore_ec.done"), b.NewLabel("restore_ec.changed")
	runtimeFunc(b, SymRestoreExecContext, StepExecContext)
	b.EndProlog()
	b.Cmp(S64, RCX, RIPSym(SymDefaultFlowSupp))
	b.Jcc(CondE, done)
	emitCurrentThread(b, RDX, changed)
	b.Cmp(S64, RCX, M(RDX, OffThreadExecContext))
	b.Jcc(CondNE, changed)
	b.Bind(done)
	b.Ret()
	endUnmodelled(b, changed)
}

// runtime.unsafe_await_awaiter(awaiter) → continuation: AsyncHelpers.
// UnsafeAwaitAwaiter: the awaiter and the thread's contexts into the await
// state (thread-static storage: checked write barriers), then AsyncSuspend
// of the sentinel continuation the chain hangs from. Clobbers RAX, RCX,
// RDX.
func emitUnsafeAwaitAwaiter(b *Builder) {
	slow := b.NewLabel("await_awaiter.slow")
	f := beginFramed(b, SymUnsafeAwaitAwaiter, StepAwaitAwaiter, 0, RBX, RSI)
	b.Mov(S64, RBX, RCX)
	emitThreadStatic(b, RSI, typeAsyncHelpers, slow) // ref state = ref t_runtimeAsyncAwaitState
	b.Cmp(S64, M(RSI, OffStateSentinel), Imm(0))
	b.Jcc(CondE, slow) // the first suspension of the thread allocates it
	b.Lea(RCX, M(RSI, OffStateCritical))
	b.Mov(S64, RDX, RBX)
	b.Call(Sym(SymCheckedBarrier))
	emitCurrentThread(b, RBX, slow) // state.CaptureContexts()
	b.Lea(RCX, M(RSI, OffStateExecContext))
	b.Mov(S64, RDX, M(RBX, OffThreadExecContext))
	b.Call(Sym(SymCheckedBarrier))
	b.Lea(RCX, M(RSI, OffStateSyncContext))
	b.Mov(S64, RDX, M(RBX, OffThreadSyncContext))
	b.Call(Sym(SymCheckedBarrier))
	b.Mov(S64, RAX, M(RSI, OffStateSentinel)) // AsyncSuspend(sentinelContinuation)
	f.epilog()
	endUnmodelled(b, slow)
}

// DispatchContinuations' frame: the ExecutionAndSyncBlockStore and the
// AsyncDispatcherInfo, above the outgoing home area.
const (
	dcPrevEC   = HomeArea
	dcPrevSync = HomeArea + 0x08
	dcThread   = HomeArea + 0x10
	dcInfoNext = HomeArea + 0x18
	dcInfoCont = HomeArea + 0x20
	dcLocals   = 0x28
)

// runtime.dispatch(task): RuntimeAsyncTask.DispatchContinuations, run
// through the task's Action: push the contexts, link a dispatcher info in
// t_current, then resume continuations until one suspends (link Next,
// HandleSuspended) or the chain ends (the task's result); pop both.
func emitDispatchContinuations(b *Builder) {
	L := func(n string) *Label { return b.NewLabel("dispatch." + n) }
	loop, taskResult, noResult, haveResult, resumed, setResult, finish, slow := L("loop"), L("task_result"), L("no_result"), L("have_result"), L("resumed"), L("set_result"), L("finish"), L("slow")
	f := beginFramed(b, SymDispatch, StepDispatch, dcLocals, RBX, RSI, RDI)
	b.Pxor(X0, X0) // the frame's GC references are zeroed in the prolog
	b.Movdqu(M(RSP, dcPrevEC), X0)
	b.Movdqu(M(RSP, dcThread), X0)
	b.Mov(S64, M(RSP, dcInfoCont), Imm(0))
	b.Mov(S64, RBX, RCX)
	// contexts.Push(): the thread and its contexts.
	emitCurrentThread(b, RAX, slow)
	b.Mov(S64, M(RSP, dcThread), RAX)
	b.Mov(S64, RCX, M(RAX, OffThreadExecContext))
	b.Mov(S64, M(RSP, dcPrevEC), RCX)
	b.Mov(S64, RCX, M(RAX, OffThreadSyncContext))
	b.Mov(S64, M(RSP, dcPrevSync), RCX)
	// The dispatcher info: Next = t_current, the task's continuation
	// (MoveContinuationState), then t_current = &info.
	emitThreadStatic(b, RSI, typeDispatcherInfo, slow)
	b.Mov(S64, RAX, M(RSI, 0))
	b.Mov(S64, M(RSP, dcInfoNext), RAX)
	b.Mov(S64, RAX, M(RBX, OffTaskStateObject))
	b.Mov(S64, M(RBX, OffTaskStateObject), Imm(0))
	b.Mov(S64, M(RSP, dcInfoCont), RAX)
	b.Lea(RAX, M(RSP, dcInfoNext))
	b.Mov(S64, M(RSI, 0), RAX)

	b.Bind(loop)
	b.Mov(S64, RCX, M(RSP, dcInfoCont)) // curContinuation
	b.Mov(S64, RDI, M(RCX, OffNext))    // nextContinuation
	b.Mov(S64, M(RSP, dcInfoCont), RDI)
	// resultLoc: the next continuation's result storage, or the task's.
	b.Test(S64, RDI, RDI)
	b.Jcc(CondE, taskResult)
	b.Test(S32, M(RDI, OffFlags), Imm(FlagHasResult))
	b.Jcc(CondE, noResult)
	b.Ud2() // a result slot of a caller: no chain here has one
	b.Bind(noResult)
	b.Xor(S32, RDX, RDX)
	b.Jmp(haveResult)
	b.Bind(taskResult)
	b.Lea(RDX, M(RBX, OffTaskResult))
	b.Bind(haveResult)
	b.Mov(S64, RAX, M(RCX, OffResumeInfo))
	b.Call(M(RAX, OffResumeFn)) // curContinuation.ResumeInfo->Resume(cur, ref resultLoc)
	b.Test(S64, RAX, RAX)
	b.Jcc(CondE, resumed)
	b.Lea(RCX, M(RAX, OffNext)) // newContinuation.Next = nextContinuation
	b.Mov(S64, RDX, RDI)
	b.Call(Sym(SymWriteBarrier))
	b.Mov(S64, RCX, RBX)
	b.Call(Sym(SymOnSuspended)) // HandleSuspended()
	b.Jmp(finish)
	b.Bind(resumed) // the method completed: on with the chain, or the task's result
	b.Cmp(S64, M(RSP, dcInfoCont), Imm(0))
	b.Jcc(CondE, setResult)
	b.Mov(S64, RCX, M(RSP, dcInfoCont)) // QueueContinuationFollowUpActionIfNecessary
	b.Test(S32, M(RCX, OffFlags), Imm(FlagsContinueOnMask))
	b.Jcc(CondNE, slow)
	b.Jmp(loop)
	b.Bind(setResult) // TrySetResult
	b.Or(S32, M(RBX, OffTaskStateFlags), Imm(TaskStateRanToCompletion))
	b.Bind(finish)
	// contexts.Pop(): restore what user code changed (nothing here).
	b.Mov(S64, RAX, M(RSP, dcThread))
	b.Mov(S64, RCX, M(RSP, dcPrevSync))
	b.Cmp(S64, RCX, M(RAX, OffThreadSyncContext))
	b.Jcc(CondNE, slow)
	b.Mov(S64, RCX, M(RAX, OffThreadExecContext))
	b.Cmp(S64, RCX, M(RSP, dcPrevEC))
	b.Jcc(CondNE, slow)
	b.Mov(S64, RAX, M(RSP, dcInfoNext)) // t_current = asyncDispatcherInfo.Next
	b.Mov(S64, M(RSI, 0), RAX)
	f.epilog()
	endUnmodelled(b, slow) // contexts changed, continuation contexts
}

// HandleSuspended's frame: the notifiers it reads before clearing them.
const (
	hsNotifier = HomeArea
	hsVTS      = HomeArea + 0x08
	hsTask     = HomeArea + 0x10
	hsLocals   = 0x18
)

// runtime.on_suspended(task): RuntimeAsyncTask.HandleSuspended (from
// DispatchContinuations, and from the driver's first call as
// FinalizeTaskReturningThunk): restore the contexts of the suspension,
// take the notifiers out of the await state, move the head of the chain
// from the sentinel into the task (a write barrier into an old object),
// then critNotifier.UnsafeOnCompleted(task's Action) through virtual stub
// dispatch.
func emitHandleSuspended(b *Builder) {
	slow := b.NewLabel("handle_suspended.slow")
	f := beginFramed(b, SymOnSuspended, StepDispatch, hsLocals, RBX, RSI, RDI)
	b.Mov(S64, RBX, RCX)
	emitThreadStatic(b, RSI, typeAsyncHelpers, slow)
	// RestoreContextsOnSuspension(false, state.ExecutionContext, ...)
	emitCurrentThread(b, RAX, slow)
	b.Mov(S64, RCX, M(RSI, OffStateSyncContext))
	b.Cmp(S64, RCX, M(RAX, OffThreadSyncContext))
	b.Jcc(CondNE, slow)
	b.Mov(S64, RCX, M(RSI, OffStateExecContext))
	b.Cmp(S64, RCX, M(RAX, OffThreadExecContext))
	b.Jcc(CondNE, slow)
	// The notifiers, then the state cleared (null stores: no barrier).
	b.Mov(S64, RDI, M(RSI, OffStateCritical))
	for _, f := range []struct{ field, slot int32 }{{OffStateNotifier, hsNotifier}, {OffStateVTSNotifier, hsVTS}, {OffStateTask, hsTask}} {
		b.Mov(S64, RAX, M(RSI, f.field))
		b.Mov(S64, M(RSP, f.slot), RAX)
	}
	b.Xor(S32, RAX, RAX)
	for _, f := range []int32{OffStateCritical, OffStateNotifier, OffStateVTSNotifier, OffStateTask, OffStateExecContext, OffStateSyncContext} {
		b.Mov(S64, M(RSI, f), RAX)
	}
	// headContinuation = sentinel.Next; sentinel.Next = null;
	// SetContinuationState(headContinuation).
	b.Mov(S64, RAX, M(RSI, OffStateSentinel))
	b.Mov(S64, RDX, M(RAX, OffNext))
	b.Mov(S64, M(RAX, OffNext), Imm(0))
	b.Lea(RCX, M(RBX, OffTaskStateObject))
	b.Call(Sym(SymWriteBarrier))
	// critNotifier.UnsafeOnCompleted(GetContinuationAction()): an
	// interface call through the call site's indirection cell.
	b.Test(S64, RDI, RDI)
	b.Jcc(CondE, slow) // the other notifiers: not modelled
	b.Mov(S64, RCX, RDI)
	b.Mov(S64, RDX, M(RBX, OffTaskAction))
	b.Lea(R11, RIPSym(SymVSDCell))
	b.Call(M(R11, 0))
	f.epilog()
	endUnmodelled(b, slow)
}

// runtime.vsd.resolve(this, ...): the resolve stub of UnsafeOnCompleted
// (ResolveStub::_resolveEntryPoint): hash this's MethodTable with the
// pre-hashed token, probe the cache, compare type and token, jump to the
// target. A miss goes to the resolve worker, which here only caches the
// one implementation there is (the first call); a type without one faults.
func emitResolveStub(b *Builder) {
	miss, unknown := b.NewLabel("vsd.miss"), b.NewLabel("vsd.unknown")
	runtimeFunc(b, SymVSDResolve, StepInterfaceDispatch)
	b.EndProlog()
	b.Mov(S64, RAX, M(RCX, 0))
	b.Push(RDX)
	b.MovAbs(R10, SymVSDCache, 0)
	b.Mov(S64, RDX, RAX)
	emitVSDHash(b, RAX, RDX)
	b.Mov(S64, RAX, MIdx(R10, RAX, 1, 0))
	b.MovImm64(R10, VSDToken)
	b.Cmp(S64, RDX, M(RAX, OffVSDEntryMT))
	b.Jcc(CondNE, miss)
	b.Cmp(S64, R10, M(RAX, OffVSDEntryToken))
	b.Jcc(CondNE, miss)
	b.Mov(S64, RAX, M(RAX, OffVSDEntryTarget))
	b.Pop(RDX)
	b.Jmp(RAX)
	b.Bind(miss) // VirtualCallStubManager::ResolveWorker
	b.Lea(RAX, RIPSym(SymVSDEntry))
	b.Cmp(S64, RDX, M(RAX, OffVSDEntryMT))
	b.Jcc(CondNE, unknown)
	b.Cmp(S64, R10, M(RAX, OffVSDEntryToken))
	b.Jcc(CondNE, unknown)
	b.Mov(S64, R10, RDX)
	emitVSDHash(b, R10, RDX)
	b.MovAbs(R11, SymVSDCache, 0)
	b.Mov(S64, MIdx(R11, R10, 1, 0), RAX) // into the cache
	b.Mov(S64, RAX, M(RAX, OffVSDEntryTarget))
	b.Pop(RDX)
	b.Jmp(RAX)
	endUnmodelled(b, unknown)
}

// emitVSDHash turns h, a copy of the MethodTable in mt, into its cache
// index (VSDHash): ((mt + mt>>12) ^ hashed token) & mask.
func emitVSDHash(b *Builder, h, mt Reg) {
	b.Shr(S64, h, 12)
	b.Add(S64, h, mt)
	b.Xor(S64, h, Imm(vsdHashedToken))
	b.And(S64, h, Imm(vsdCacheMask))
}

// The NullAwaiter (user code): UnsafeOnCompleted stores the continuation
// (a write barrier into a long-lived object); Continue() takes it and
// invokes it (the Action: DispatchContinuations on the task).
func emitNullAwaiter(b *Builder) {
	runtimeFunc(b, SymAwaiterOnComp, StepAwaiter)
	b.EndProlog()
	b.Lea(RCX, M(RCX, OffAwaiterCont)) // _continuation = continuation
	b.Jmp(Sym(SymWriteBarrier))
	b.EndFunc()

	runtimeFunc(b, SymAwaiterCont, StepAwaiter)
	b.AllocStack(CallFrame(0))
	b.EndProlog()
	b.Mov(S64, RAX, M(RCX, OffAwaiterCont))
	b.Mov(S64, M(RCX, OffAwaiterCont), Imm(0))
	b.Mov(S64, RCX, M(RAX, OffDelegateTarget)) // the delegate's Invoke, inlined
	b.Call(M(RAX, OffDelegateMethodPtr))
	b.Add(S64, RSP, Imm(CallFrame(0)))
	b.Ret()
	b.EndFunc()
}

// emitSuspendCoreCLR is what the JIT emits at an await of a custom
// awaiter: the call of AsyncHelpers.UnsafeAwaitAwaiter, which returns a
// continuation (the sentinel), then the method's own suspension: its
// continuation from AllocContinuation (linked as the sentinel's Next),
// header and non-reference locals by plain stores, the ExecutionContext
// and reference locals through the write barrier.
func emitSuspendCoreCLR(b *Builder, s Suspend) {
	b.Mov(S64, RCX, s.Awaiter)
	b.Call(Sym(SymUnsafeAwaitAwaiter))
	b.Mov(S64, RCX, RAX)
	b.Lea(RDX, RIPSym(SymContinuationMTCLR))
	b.Call(Sym(SymAllocContinuation))
	b.Mov(S64, s.Temp, RAX)
	emitFillHeader(b, s)
	for k, l := range s.Locals {
		if !l.Ref {
			CoreCLR.emitStoreLocal(b, k, l.Op)
		}
	}
	b.Call(Sym(SymCaptureExecContext))
	emitBarrierStore(b, s.Temp, OffExecContext, RAX)
	for k, l := range s.Locals {
		if l.Ref {
			emitBarrierStore(b, s.Temp, CoreCLR.OffLocals()+int32(k*LocalSlot), l.Op)
		}
	}
	b.Mov(S64, RCX, s.Temp)
}

// emitBarrierStore stores ref into the field at off of the object in
// memory at obj, through the write barrier.
func emitBarrierStore(b *Builder, obj Mem, off int32, ref Operand) {
	b.Mov(S64, RDX, ref)
	b.Mov(S64, RCX, obj)
	b.Lea(RCX, M(RCX, off))
	b.Call(Sym(SymWriteBarrier))
}

// emitCoreCLRData lays out the model's objects (in the data region,
// standing for gen2), method tables, the await state and thread statics,
// the resolve cache and the GC's tables.
func (rt Runtime) emitCoreCLRData(d *Builder) {
	sym := func(target string) { d.U64Sym(target, 0) }
	object := func(name, mt string, size int, fields func()) {
		d.Align(16, 0)
		d.DefineSymbol(name)
		sym(mt)
		start := d.Offset()
		fields()
		if pad := size - 8 - (d.Offset() - start); pad > 0 {
			d.Space(pad)
		}
		d.EndSymbol(name)
	}
	methodTable := func(name string, baseSize int) {
		d.Align(16, 0)
		d.DefineSymbol(name)
		d.U32(0)
		d.U32(uint32(baseSize))
		d.Space(MethodTableSize - 8)
		d.EndSymbol(name)
	}
	methodTable(SymContinuationMTCLR, rt.Model.ObjectSize(rt.Locals))
	methodTable(SymAwaiterMT, 0x18)
	for _, kind := range []string{"task", "action", "thread", "execution_context"} {
		methodTable(mtSym(kind), 0x20)
	}
	object(SymTask, mtSym("task"), TaskSize, func() {
		sym(SymDispatchAction)
		d.Space(OffTaskResult - OffTaskAction - 8)
		if rt.TaskResult { // m_result, where the method leaves it
			d.DefineSymbol(SymTaskResult)
			d.U32(0)
			d.EndSymbol(SymTaskResult)
		}
	})
	object(SymDispatchAction, mtSym("action"), DelegateSize, func() {
		sym(SymTask)
		d.U64(0)
		sym(SymDispatch)
	})
	object(SymAwaiter, SymAwaiterMT, 0x10, func() {})
	object(SymSentinel, SymContinuationMTCLR, OffData, func() {})
	object(SymThread, mtSym("thread"), ThreadSize, func() {}) // default contexts: null
	object(SymFlowSuppressedEC, mtSym("execution_context"), ExecContextSize, func() { d.U8(1) })
	d.Align(8, 0)
	d.DefineSymbol(SymDefaultFlowSupp)
	sym(SymFlowSuppressedEC)
	d.EndSymbol(SymDefaultFlowSupp)
	// Thread statics' storage.
	d.DefineSymbol(SymAwaitState)
	sym(SymSentinel)
	d.Space(AwaitStateSize - 8)
	d.EndSymbol(SymAwaitState)
	d.DefineSymbol(SymDispatcherCurrent)
	d.U64(0)
	d.EndSymbol(SymDispatcherCurrent)
	d.DefineSymbol(SymCurrentThread)
	sym(SymThread)
	d.EndSymbol(SymCurrentThread)
	// Virtual stub dispatch: the call site's cell, the one cache entry
	// there will be, the empty entry and the cache, all empty.
	d.DefineSymbol(SymVSDCell)
	sym(SymVSDResolve)
	d.EndSymbol(SymVSDCell)
	d.Align(32, 0)
	d.DefineSymbol(SymVSDEntry)
	sym(SymAwaiterMT)
	d.U64(VSDToken)
	sym(SymAwaiterOnComp)
	d.U64(0)
	d.EndSymbol(SymVSDEntry)
	d.DefineSymbol(SymVSDEmpty)
	d.Space(VSDEntrySize)
	d.EndSymbol(SymVSDEmpty)
	rt.emitGCData(d)
	d.Align(64, 0)
	d.DefineSymbol(SymVSDCache)
	for range VSDCacheEntries {
		sym(SymVSDEmpty)
	}
	d.EndSymbol(SymVSDCache)
}
