package patchpoint

import (
	"fmt"
	"math/bits"

	. "github.com/osrsim/osrsim/emitter"
)

// Generator emits the helper for one strategy.
type Generator struct {
	Strategy Strategy
	Settings Settings
}

// stub frame, Windows (PROLOG_WITH_TRANSITION_BLOCK of AsmMacros.inc): the
// eight callee saves pushed, then the outgoing home area and the four
// float argument registers; the integer argument registers go to the home
// area the caller reserved above the return address. TransitionBlock is
// the callee saves, the return address and that home area.
var (
	stubSavesWindows     = [...]Reg{R15, R14, R13, R12, RBP, RBX, RSI, RDI}
	stubFloatArgsWindows = int32(HomeArea)
	stubAllocWindows     = FrameAlloc(len(stubSavesWindows), stubFloatArgsWindows+4*16)
)

// stub frame, Linux (PROLOG_WITH_TRANSITION_BLOCK of
// unixasmmacrosamd64.inc): rbp (with `mov rbp, rsp`), rbx, r15-r12 pushed
// as callee saves, the six argument registers pushed (their CFI only
// adjusts the CFA), then eight float argument registers and a pad. The
// TransitionBlock starts at the argument registers.
var (
	stubSavesLinux = [...]Reg{RBX, R15, R14, R13, R12}
	stubArgsLinux  = [...]Reg{R9, R8, RCX, RDX, RSI, RDI}
	stubAllocLinux = int32(8*16 + 8)
)

// The Linux TransitionBlock's argument registers, from its start: RDI
// was pushed last.
const (
	tbLinuxRDI = 0
	tbLinuxRSI = 8
)

// worker frame: the pushed nonvolatiles, the outgoing arguments (home
// area and a fifth argument), the DynamicHelperFrame, an EECodeInfo, the
// image base a native lookup returns, the saved last error, the Thread,
// the TransitionBlock, the CONTEXT pointer and size.
var (
	workerSaves      = [...]Reg{RBX, RSI, RDI, R12, R13, R14, R15, RBP}
	workerFrame      = int32(HomeArea + 16)
	workerECI        = workerFrame + FrameSize
	workerImageBase  = workerECI + EECodeInfoSize
	workerLastError  = workerImageBase + 8
	workerThread     = workerLastError + 8
	workerTB         = workerThread + 8
	workerCtxSize    = workerTB + 8
	workerCtxPointer = workerCtxSize + 8
	workerOSRCode    = workerCtxPointer + 8 // osrMethodCode, spilled across the unwind's calls
	workerAlloc      = FrameAlloc(len(workerSaves), workerOSRCode+8)
)

// JumpToTargetLen is the size of tier0's jump to the address the helper
// returns (EmitJumpToTarget). When it does not transition, the HelperReturn
// helper returns the address just past that jump.
const JumpToTargetLen = 2

// EmitJumpToTarget emits what follows tier0's patchpoint call under
// HelperReturn (#127213): a plain `jmp rax` to the address the helper
// returned, JumpToTargetLen bytes.
func EmitJumpToTarget(b *Builder) { b.Jmp(RAX) }

// indexShift is the shift that scales a table index by an entry size, a
// power of two.
func indexShift(entrySize int) uint8 {
	if entrySize <= 0 || entrySize&(entrySize-1) != 0 {
		panic(fmt.Sprintf("BUG: table entry size %#x is not a power of two", entrySize))
	}
	return uint8(bits.TrailingZeros(uint(entrySize)))
}

// windows reports whether the helper follows Windows.
func (g Generator) windows() bool { return g.Settings.Platform == WindowsX64 }

// transitions reports whether the helper transitions itself (captures,
// unwinds and restores a context), which every strategy but HelperReturn
// does.
func (g Generator) transitions() bool { return g.Strategy != HelperReturn }

// EmitCode generates every helper function.
func (g Generator) EmitCode(b *Builder) {
	b.DeclareSteps(Steps(g.Settings.Platform)...)
	g.emitStub(b, SymHelper, false)
	if !g.Strategy.ResumeByJump() {
		g.emitStub(b, SymForced, true)
	}
	g.emitWorker(b)
	emitCodeInfo(b)
	emitPPLookup(b)
	emitJITCompile(b)
	g.emitThreadFuncs(b)
	if !g.transitions() {
		return
	}
	emitIsManagedCode(b)
	emitVirtualUnwind(b)
	g.emitRestore(b)
	if g.windows() {
		emitInitializeContext2(b)
		emitCaptureWindows(b)
		emitLookupFunctionEntry(b)
	} else {
		emitCapturePAL(b)
		emitAdjustContextForVirtualStub(b)
		emitLibunwind(b)
	}
}

// emitStub is the assembly stub (JIT_Patchpoint / JIT_PatchpointForced):
// it builds the TransitionBlock and calls the worker with ⟨transition
// block, counter address or 0, IL offset, patchpoint return address⟩.
// Tier0 passes the counter and IL offset in RCX and RDX on both platforms
// (osrsim's JIT has one calling convention).
func (g Generator) emitStub(b *Builder, name string, forced bool) {
	helperFunc(b, name, StepStub)
	var tb, retAddr int32 // the TransitionBlock's and the return address's offsets from RSP
	if g.windows() {
		for _, r := range stubSavesWindows {
			b.PushNonvol(r)
		}
		b.AllocStack(stubAllocWindows)
		b.EndProlog()
		tb = stubAllocWindows
		retAddr = tb + int32(8*len(stubSavesWindows))
		for i, r := range []Reg{RCX, RDX, R8, R9} {
			b.Mov(S64, M(RSP, retAddr+8+int32(8*i)), r) // home the argument registers
		}
		for i := 0; i < 4; i++ {
			b.Movdqa(M(RSP, stubFloatArgsWindows+int32(16*i)), XReg(i))
		}
	} else {
		b.PushNonvol(RBP)
		b.Mov(S64, RBP, RSP) // a frame chain for tools; the CFA stays on RSP
		for _, r := range stubSavesLinux {
			b.PushNonvol(r)
		}
		for _, r := range stubArgsLinux {
			b.Push(r)
			b.UnwindRecord(UwopAllocSmall, 0, 0)
		}
		b.AllocStack(stubAllocLinux)
		b.EndProlog()
		tb = stubAllocLinux
		retAddr = tb + int32(8*(len(stubArgsLinux)+len(stubSavesLinux)+1))
		for i := 0; i < 8; i++ {
			b.Movdqa(M(RSP, int32(16*i)), XReg(i))
		}
	}
	if forced {
		b.Mov(S32, R8, RCX)  // IL offset
		b.Xor(S32, RDX, RDX) // no counter: must transition
	} else {
		b.Mov(S32, R8, RDX)
		b.Mov(S64, RDX, RCX)
	}
	b.Lea(RCX, M(RSP, tb))
	b.Mov(S64, R9, M(RSP, retAddr))
	b.Call(Sym(SymWorker))
	if forced {
		b.Ud2() // the forced helper never returns
	}
	if g.windows() {
		b.Add(S64, RSP, Imm(stubAllocWindows))
		for i := len(stubSavesWindows) - 1; i >= 0; i-- {
			b.Pop(stubSavesWindows[i])
		}
	} else {
		b.Add(S64, RSP, Imm(stubAllocLinux+8*int32(len(stubArgsLinux)))) // free_stack; SKIP_ARGUMENT_REGISTERS
		for i := len(stubSavesLinux) - 1; i >= 0; i-- {
			b.Pop(stubSavesLinux[i])
		}
		b.Pop(RBP)
	}
	b.Ret()
	b.EndFunc()
}

// emitWorker is JIT_Patchpoint's body (JIT_PatchpointWorkerWorkerWithPolicy).
//
//	r12 = counter address (0 when forced), r13d = IL offset, r14 = return
//	address of the patchpoint call, r15 = start of tier0's code,
//	rbx = PatchpointInfo record, rsi = OSR code.
func (g Generator) emitWorker(b *Builder) {
	noTransition := b.NewLabel("worker.no_transition")
	transition := b.NewLabel("worker.transition")
	fatal := b.NewLabel("worker.fatal")
	skipReset := b.NewLabel("worker.skip_reset")
	epilog := b.NewLabel("worker.epilog")
	helperFunc(b, SymWorker, StepWorker)
	for _, r := range workerSaves {
		b.PushNonvol(r)
	}
	b.AllocStack(workerAlloc)
	b.EndProlog()
	b.Mov(S64, M(RSP, workerTB), RCX)
	b.Mov(S64, R12, RDX)
	b.Mov(S32, R13, R8)
	b.Mov(S64, R14, R9)

	// BEGIN_PRESERVE_LAST_ERROR: the worker may not return normally.
	b.Call(Sym(SymGetLastError))
	b.Mov(S32, M(RSP, workerLastError), RAX)

	beginStep(b, RangeCounter, StepCounter)
	b.Test(S64, R12, R12)
	b.Jcc(CondE, skipReset)
	b.Mov(S32, M(R12, 0), Imm(g.Settings.CounterBump))
	b.Bind(skipReset)
	b.EndRange()

	// EECodeInfo codeInfo(ip): which method is the patchpoint in?
	b.Mov(S64, RCX, R14)
	b.Lea(RDX, M(RSP, workerECI))
	b.Call(Sym(SymCodeInfo))
	b.Test(S32, RAX, RAX)
	b.Jcc(CondE, noTransition) // not managed code: invalid patchpoint
	b.Mov(S64, R15, M(RSP, workerECI+OffECICodeHeader))
	b.Add(S64, R15, Imm(CodeHeaderSize)) // codeInfo.GetStartAddress()

	b.Mov(S64, RCX, R15)
	b.Mov(S32, RDX, R13)
	b.Call(Sym(SymPPLookup))
	b.Mov(S64, RBX, RAX)

	beginStep(b, RangeTrigger, StepTrigger)
	b.Mov(S64, RSI, M(RBX, OffPPOSRCode))
	b.Test(S64, RSI, RSI)
	b.Jcc(CondNE, transition)
	b.Test(S64, R12, R12)
	b.Jcc(CondE, fatal) // forced, but no OSR code
	b.Mov(S32, RAX, Imm(1))
	b.LockXadd(S32, M(RBX, OffPPHits), RAX)
	b.Inc(S32, RAX)
	b.Cmp(S32, RAX, Imm(g.Settings.HitLimit))
	b.Jcc(CondL, noTransition)
	b.Xor(S32, RAX, RAX)
	b.Mov(S32, RCX, Imm(1))
	b.LockCmpxchg(S32, M(RBX, OffPPTriggered), RCX)
	b.Jcc(CondNE, noTransition) // another thread is compiling
	b.Mov(S64, RCX, R15)
	b.Mov(S32, RDX, R13)
	b.Call(Sym(SymJITCompile))
	b.Test(S64, RAX, RAX)
	b.Jcc(CondE, noTransition)
	b.Mov(S64, RSI, RAX)
	b.Mov(S64, M(RBX, OffPPOSRCode), RSI) // publish
	b.EndRange()

	b.Bind(transition)
	if g.transitions() {
		g.emitTransition(b, fatal)
	} else {
		// #127213: hand the target (RSI) back; tier0 jumps to it with its
		// frame intact, so no context work is needed.
		b.Jmp(epilog)
	}

	b.Bind(noTransition)
	if !g.transitions() {
		b.Lea(RSI, M(R14, JumpToTargetLen)) // continue in tier0 after its jump to the target
	}
	b.Bind(epilog)
	g.emitRestoreLastError(b)
	if !g.transitions() {
		b.Mov(S64, RAX, RSI)
	}
	b.Add(S64, RSP, Imm(workerAlloc))
	for i := len(workerSaves) - 1; i >= 0; i-- {
		b.Pop(workerSaves[i])
	}
	b.Ret()
	b.Bind(fatal)
	b.Ud2()
	b.EndFunc()
}

// emitRestoreLastError is END_PRESERVE_LAST_ERROR: SetLastError with the
// error the worker found on entry.
func (g Generator) emitRestoreLastError(b *Builder) {
	arg := RCX
	if !g.windows() {
		arg = RDI
	}
	b.Mov(S32, arg, M(RSP, workerLastError))
	b.Call(Sym(SymSetLastError))
}

// emitTransition: take the thread's state in hand, set up and capture a
// CONTEXT, unwind to the tier0 frame and once more, point the context at
// the OSR method and restore it.
func (g Generator) emitTransition(b *Builder, fatal *Label) {
	ctx := func(off int32) Mem { return M(RBP, off) }
	b.Mov(S64, M(RSP, workerOSRCode), RSI) // the PAL's and libunwind's calls do not preserve RSI

	beginStep(b, RangeThread, StepThread)
	g.emitGetThread(b, RAX)
	b.Mov(S64, M(RSP, workerThread), RAX)
	b.Mov(S64, RCX, RAX)
	b.Call(Sym(SymUnhijackThread)) // a hijacked return address would stop the unwind
	b.EndRange()

	// [I] The DynamicHelperFrame over the stub's TransitionBlock and the
	// GC mode switch, per transition as dotnet/runtime#112025's worker
	// holds them (see README: the sources read here show them only around
	// the compilation).
	beginStep(b, RangeHelperFrame, StepHelperFrame)
	b.Lea(RAX, M(RSP, workerFrame))
	b.Mov(S64, M(RAX, OffFrameIdentifier), Imm(frameIDDynamicHelper))
	b.Mov(S64, RCX, M(RSP, workerTB))
	b.Mov(S64, M(RAX, OffFrameTransitionBlock), RCX)
	b.Mov(S32, M(RAX, OffFrameFlags), Imm(0))
	b.Mov(S64, RCX, M(RSP, workerThread))
	b.Mov(S64, RDX, M(RCX, OffThreadFrame))
	b.Mov(S64, M(RAX, OffFrameNext), RDX) // Frame::Push
	b.Mov(S64, M(RCX, OffThreadFrame), RAX)
	b.EndRange()

	beginStep(b, RangeGCMode, StepGCMode)
	b.Mov(S64, RCX, M(RSP, workerThread))
	b.Mov(S32, M(RCX, OffThreadPreemptiveOff), Imm(0)) // EnablePreemptiveGC
	b.Mov(S32, M(RCX, OffThreadPreemptiveOff), Imm(1)) // DisablePreemptiveGC
	b.Cmp(S32, RIPSym(SymTrapReturning), Imm(0))
	b.Jcc(CondNE, fatal) // RareDisablePreemptiveGC: a suspension is pending (never here)
	b.EndRange()

	beginStep(b, RangeContextInit, StepContextInit)
	if g.windows() {
		g.emitInitializeContexts(b, fatal)
	} else {
		// CONTEXT frameContext; frameContext.ContextFlags = CONTEXT_FULL
		b.Lea(RBP, RIPSym(SymContextBuffer))
		b.Mov(S32, ctx(OffCtxFlags), Imm(ContextFull))
	}
	b.EndRange()

	if g.windows() {
		b.Mov(S64, RCX, RBP)
		b.Call(Sym(SymCaptureWindows))
	} else {
		b.Mov(S64, RDI, RBP)
		b.Call(Sym(SymCapturePAL))
	}

	beginStep(b, RangeUnwind, StepUnwind)
	managed := b.NewLabel("worker.managed")
	g.emitUnwindToManaged(b, managed, fatal)
	b.Bind(managed)
	b.Cmp(S64, ctx(OffCtxRIP), R14) // must be the patchpoint's return address
	b.Jcc(CondNE, fatal)
	if !g.windows() {
		// osrsim's managed code keeps Windows' callee saves on both
		// platforms, RSI and RDI among them, which the PAL's conversions
		// (SysV's callee saves only) do not carry. Tier0 left them as its
		// caller had them, or saved them in its frame for its unwind to
		// restore, so their values at the stub, in its TransitionBlock,
		// are tier0's: they go into the context (osrsim's, not the PAL's).
		b.Mov(S64, RAX, M(RSP, workerTB))
		b.Mov(S64, RCX, M(RAX, tbLinuxRSI))
		b.Mov(S64, ctx(OffCtxGPR+8*int32(RSI)), RCX)
		b.Mov(S64, RCX, M(RAX, tbLinuxRDI))
		b.Mov(S64, ctx(OffCtxGPR+8*int32(RDI)), RCX)
	}
	b.Mov(S64, RDI, ctx(OffCtxRSP)) // tier0 SP
	b.Mov(S64, R12, ctx(OffCtxRBP)) // tier0 FP
	// EECodeInfo callerCodeInfo(ip), then RtlVirtualUnwind of tier0's frame
	// with its module base and function entry: tier0's callee saves back
	// to its caller's values. On Linux too: CoreCLR's own unwinder reads
	// the JIT's Windows-format unwind codes.
	b.Mov(S64, RCX, ctx(OffCtxRIP))
	b.Lea(RDX, M(RSP, workerECI))
	b.Call(Sym(SymCodeInfo))
	b.Test(S32, RAX, RAX)
	b.Jcc(CondE, fatal)
	b.Mov(S64, RDX, M(RSP, workerECI+OffECIRangeSection))
	b.Mov(S64, RDX, M(RDX, OffRSHeapList))
	b.Mov(S64, RDX, M(RDX, OffHLMapBase)) // callerCodeInfo.GetModuleBase()
	b.Mov(S64, R8, M(RSP, workerECI+OffECIFunctionEntry))
	b.Mov(S64, RCX, RBP)
	b.Call(Sym(SymVirtualUnwind))
	b.EndRange()

	beginStep(b, RangeOSRContext, StepOSRContext)
	if g.Strategy.OSRPushesSlot() {
		b.Mov(S64, RAX, RDI)
	} else {
		b.Lea(RAX, M(RDI, -8)) // simulate the call: the OSR method sees RSP = tier0 SP - 8
	}
	if g.windows() {
		// GetSSP: a shadow-stack pointer only with CONTEXT_XSTATE (off).
		skipSSP := b.NewLabel("worker.no_ssp")
		b.Test(S8, ctx(OffCtxFlags), Imm(ctxFlagXState))
		b.Jcc(CondE, skipSSP)
		b.Ud2()
		b.Bind(skipSSP)
	}
	b.Mov(S64, ctx(OffCtxRSP), RAX)
	b.Mov(S64, ctx(OffCtxRBP), R12)
	b.Mov(S64, RAX, M(RSP, workerOSRCode))
	b.Mov(S64, ctx(OffCtxRIP), RAX)
	b.EndRange()

	beginStep(b, RangeHelperFrameEnd, StepHelperFrame)
	b.Mov(S64, RCX, M(RSP, workerThread)) // Frame::Pop
	b.Mov(S64, RAX, M(RSP, workerFrame+OffFrameNext))
	b.Mov(S64, M(RCX, OffThreadFrame), RAX)
	b.EndRange()

	g.emitRestoreLastError(b)
	// ClrRestoreNonvolatileContext(pFrameContext, 0)
	if g.windows() {
		b.Mov(S64, RCX, RBP)
		b.Xor(S32, RDX, RDX)
	} else {
		b.Mov(S64, RDI, RBP)
		b.Xor(S32, RSI, RSI)
	}
	b.Jmp(Sym(SymRestore))
}

// emitInitializeContexts is the Windows worker's CONTEXT: the size query
// (InitializeContext2 without a buffer fails with the length), the
// buffer (_alloca; here the context region, see sim.ContextBase), and the
// initialisation. RBP = the CONTEXT.
func (g Generator) emitInitializeContexts(b *Builder, fatal *Label) {
	noShadow := b.NewLabel("worker.no_shadow_stacks")
	b.Cmp(S32, RIPSym(SymShadowStacks), Imm(0)) // Thread::AreShadowStacksEnabled()
	b.Jcc(CondE, noShadow)
	b.Ud2() // CONTEXT_XSTATE with XSTATE_MASK_CET_U: not modelled
	b.Bind(noShadow)
	b.Mov(S32, M(RSP, workerCtxSize), Imm(0))
	b.Mov(S64, M(RSP, HomeArea), Imm(0)) // XStateCompactionMask
	b.Xor(S32, RCX, RCX)
	b.Mov(S32, RDX, Imm(ContextFull))
	b.Xor(S32, R8, R8)
	b.Lea(R9, M(RSP, workerCtxSize))
	b.Call(Sym(SymInitializeContext2))
	b.Test(S32, RAX, RAX)
	b.Jcc(CondNE, fatal) // the size query must fail
	b.Mov(S32, RAX, M(RSP, workerCtxSize))
	b.Add(S64, RAX, Imm(15)) // _alloca rounds the size up
	b.And(S64, RAX, Imm(-16))
	b.Lea(RCX, RIPSym(SymContextBuffer))
	b.Mov(S32, RDX, Imm(ContextFull))
	b.Lea(R8, M(RSP, workerCtxPointer))
	b.Lea(R9, M(RSP, workerCtxSize))
	b.Call(Sym(SymInitializeContext2))
	b.Test(S32, RAX, RAX)
	b.Jcc(CondE, fatal)
	b.Mov(S64, RBP, M(RSP, workerCtxPointer))
}

// emitUnwindToManaged is Thread::VirtualUnwindToFirstManagedCallFrame
// (vm/stackwalk.cpp): while the context's IP is not managed code, the
// write barrier's W^X copy check, then one native frame's unwind:
// RtlLookupFunctionEntry and RtlVirtualUnwind (VirtualUnwindCallFrame) on
// Windows; AdjustContextForVirtualStub and PAL_VirtualUnwind on Linux.
// RBP = the CONTEXT. Falls through or jumps to managed when the IP is in
// managed code.
func (g Generator) emitUnwindToManaged(b *Builder, managed, fatal *Label) {
	ctx := func(off int32) Mem { return M(RBP, off) }
	loop, noCopy := b.NewLabel("worker.unwind_loop"), b.NewLabel("worker.not_barrier_copy")
	b.Bind(loop)
	b.Mov(S64, RCX, ctx(OffCtxRIP))
	b.Call(Sym(SymIsManagedCode))
	b.Test(S32, RAX, RAX)
	b.Jcc(CondNE, managed)
	// IsIPInWriteBarrierCodeCopy: the copy's range holds no native frame.
	b.Mov(S64, RCX, ctx(OffCtxRIP))
	b.Cmp(S64, RCX, RIPSym(SymWBCopyStart))
	b.Jcc(CondB, noCopy)
	b.Cmp(S64, RCX, RIPSym(SymWBCopyEnd))
	b.Jcc(CondB, fatal) // AdjustWriteBarrierIP: not modelled
	b.Bind(noCopy)
	if g.windows() {
		b.Mov(S64, RCX, ctx(OffCtxRIP))
		b.Lea(RDX, M(RSP, workerImageBase))
		b.Xor(S32, R8, R8)
		b.Call(Sym(SymLookupFunctionEntry))
		b.Test(S64, RAX, RAX)
		b.Jcc(CondE, fatal) // no unwind information
		b.Mov(S64, RCX, RBP)
		b.Mov(S64, RDX, M(RSP, workerImageBase))
		b.Mov(S64, R8, RAX)
		b.Call(Sym(SymVirtualUnwind))
	} else {
		b.Mov(S64, RDI, RBP)
		b.Call(Sym(SymAdjustContextForVirtualStub))
		b.Test(S32, RAX, RAX)
		b.Jcc(CondNE, managed) // in a virtual stub dispatch stub: stop there
		b.Mov(S64, RDI, RBP)
		b.Xor(S32, RSI, RSI)
		b.Call(Sym(SymPALVirtualUnwind))
		b.Test(S32, RAX, RAX)
		b.Jcc(CondE, fatal)
	}
	b.Jmp(loop)
}

// pp_lookup(start, il) → record: open addressing, lock-free on a hit; a miss
// takes the lock and inserts (CrstJitPatchpoint). Clobbers RAX, R8-R11.
func emitPPLookup(b *Builder) {
	probe, next, insert, spin := b.NewLabel("pp.probe"), b.NewLabel("pp.next"), b.NewLabel("pp.insert"), b.NewLabel("pp.spin")
	helperFunc(b, SymPPLookup, StepPPLookup)
	b.EndProlog()
	b.Mov(S64, R8, RCX)
	b.Shr(S64, R8, 4)
	b.ImulImm(S32, R9, RDX, -0x61C8864F) // 0x9E3779B1, Fibonacci hashing
	b.Xor(S64, R8, R9)
	b.And(S32, R8, Imm(PPSlots-1))
	b.Lea(R10, RIPSym(SymPPTable))
	b.Bind(probe)
	b.Mov(S32, R11, R8)
	b.Shl(S64, R11, indexShift(PPEntrySize))
	b.Add(S64, R11, R10)
	b.Mov(S64, RAX, M(R11, OffPPKeyStart))
	b.Test(S64, RAX, RAX)
	b.Jcc(CondE, insert)
	b.Cmp(S64, RAX, RCX)
	b.Jcc(CondNE, next)
	b.Cmp(S32, M(R11, OffPPKeyIL), RDX)
	b.Jcc(CondNE, next)
	b.Mov(S64, RAX, R11)
	b.Ret()
	b.Bind(next)
	b.Inc(S32, R8)
	b.And(S32, R8, Imm(PPSlots-1))
	b.Jmp(probe)
	b.Bind(insert)
	b.Bind(spin)
	b.Xor(S32, RAX, RAX)
	b.Mov(S32, R9, Imm(1))
	b.LockCmpxchg(S32, RIPSym(SymPPLock), R9)
	b.Jcc(CondNE, spin)
	b.Mov(S32, M(R11, OffPPKeyIL), RDX)
	b.Mov(S64, M(R11, OffPPKeyStart), RCX)
	b.Mov(S32, RIPSym(SymPPLock), Imm(0))
	b.Mov(S64, RAX, R11)
	b.Ret()
	b.EndFunc()
}

// jit_compile(start, il) → OSR code or 0: finds what the JIT produced for
// the patchpoint. Clobbers RAX, R8, R9.
func emitJITCompile(b *Builder) {
	loop, next, none := b.NewLabel("jit.loop"), b.NewLabel("jit.next"), b.NewLabel("jit.none")
	helperFunc(b, SymJITCompile, StepTrigger)
	b.EndProlog()
	b.Lea(R8, RIPSym(SymJITTable))
	b.Mov(S32, R9, RIPSym(SymJITTableCount))
	b.Bind(loop)
	b.Test(S32, R9, R9)
	b.Jcc(CondE, none)
	b.Cmp(S64, RCX, M(R8, OffJITStart))
	b.Jcc(CondNE, next)
	b.Cmp(S32, RDX, M(R8, OffJITIL))
	b.Jcc(CondNE, next)
	b.Mov(S64, RAX, M(R8, OffJITCode))
	b.Ret()
	b.Bind(next)
	b.Add(S64, R8, Imm(JITEntrySize))
	b.Dec(S32, R9)
	b.Jmp(loop)
	b.Bind(none)
	b.Xor(S32, RAX, RAX)
	b.Ret()
	b.EndFunc()
}
