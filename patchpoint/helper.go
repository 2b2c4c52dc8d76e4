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

// stub frame: the pushed nonvolatiles, then a TransitionBlock: the
// outgoing home area and the four float argument registers.
var (
	stubSaves     = [...]Reg{R15, R14, R13, R12, RBP, RBX, RSI, RDI}
	stubSaved     = int32(8 * len(stubSaves))
	stubFloatArgs = int32(HomeArea)
	stubAlloc     = FrameAlloc(len(stubSaves), stubFloatArgs+4*16)
)

// worker frame: the pushed nonvolatiles, the outgoing home area, the
// context record, an EECodeInfo and the image base a native lookup
// returns.
var (
	workerSaves     = [...]Reg{RBX, RSI, RDI, R12, R13, R14, R15, RBP}
	workerCtx       = int32(HomeArea)
	workerECI       = workerCtx + ContextSize
	workerImageBase = workerECI + EECodeInfoSize
	workerAlloc     = FrameAlloc(len(workerSaves), workerImageBase+8)
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

// EmitCode generates every helper function.
func (g Generator) EmitCode(b *Builder) {
	b.DeclareSteps(Steps...)
	g.emitStub(b, SymHelper, false)
	if !g.Strategy.ResumeByJump() {
		g.emitStub(b, SymForced, true)
	}
	g.emitWorker(b)
	emitCodeInfo(b)
	emitPPLookup(b)
	emitJITCompile(b)
	if g.Strategy != HelperReturn {
		emitCapture(b)
		emitIsManagedCode(b)
		emitLookupFunctionEntry(b)
		emitVirtualUnwind(b)
		emitRestore(b)
	}
}

// emitStub is the assembly stub (JIT_Patchpoint / JIT_PatchpointForced):
// it builds a transition frame and calls the worker with ⟨transition block,
// counter address or 0, IL offset, patchpoint return address⟩.
func (g Generator) emitStub(b *Builder, name string, forced bool) {
	helperFunc(b, name, StepStub)
	for _, r := range stubSaves {
		b.PushNonvol(r)
	}
	b.AllocStack(stubAlloc)
	b.EndProlog()
	entry := stubAlloc + stubSaved // caller's RSP before the call, minus the return address
	for i, r := range []Reg{RCX, RDX, R8, R9} {
		b.Mov(S64, M(RSP, entry+8+int32(8*i)), r) // home the argument registers
	}
	for i := 0; i < 4; i++ {
		b.Movdqu(M(RSP, stubFloatArgs+int32(16*i)), XReg(i))
	}
	if forced {
		b.Mov(S32, R8, RCX)  // IL offset
		b.Xor(S32, RDX, RDX) // no counter: must transition
	} else {
		b.Mov(S32, R8, RDX)
		b.Mov(S64, RDX, RCX)
	}
	b.Lea(RCX, M(RSP, stubAlloc))
	b.Mov(S64, R9, M(RSP, entry))
	b.Call(Sym(SymWorker))
	if forced {
		b.Ud2() // the forced helper never returns
	}
	b.Add(S64, RSP, Imm(stubAlloc))
	for i := len(stubSaves) - 1; i >= 0; i-- {
		b.Pop(stubSaves[i])
	}
	b.Ret()
	b.EndFunc()
}

// emitWorker is JIT_Patchpoint's body.
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
	b.Mov(S64, R12, RDX)
	b.Mov(S32, R13, R8)
	b.Mov(S64, R14, R9)

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
	if g.Strategy == HelperReturn {
		// #127213: hand the target back; tier0 jumps to it with its frame
		// intact, so no context work is needed.
		b.Mov(S64, RAX, RSI)
		b.Jmp(epilog)
	} else {
		g.emitTransition(b, fatal)
	}

	b.Bind(noTransition)
	if g.Strategy == HelperReturn {
		b.Lea(RAX, M(R14, JumpToTargetLen)) // continue in tier0 after its jump to the target
	}
	b.Bind(epilog)
	b.Add(S64, RSP, Imm(workerAlloc))
	for i := len(workerSaves) - 1; i >= 0; i-- {
		b.Pop(workerSaves[i])
	}
	b.Ret()
	b.Bind(fatal)
	b.Ud2()
	b.EndFunc()
}

// emitTransition: capture the context, unwind to the tier0 frame and once
// more, point the context at the OSR method and restore it.
func (g Generator) emitTransition(b *Builder, fatal *Label) {
	ctx := func(off int32) Mem { return M(RSP, workerCtx+off) }
	loop, managed := b.NewLabel("worker.unwind_loop"), b.NewLabel("worker.managed")

	b.Lea(RCX, ctx(0))
	b.Call(Sym(SymCapture))

	beginStep(b, RangeUnwind, StepUnwind)
	// VirtualUnwindToFirstManagedCallFrame: each native frame is an
	// IsManagedCode miss, then RtlLookupFunctionEntry and RtlVirtualUnwind.
	b.Bind(loop)
	b.Mov(S64, RCX, ctx(OffCtxRIP))
	b.Call(Sym(SymIsManagedCode))
	b.Test(S32, RAX, RAX)
	b.Jcc(CondNE, managed)
	b.Mov(S64, RCX, ctx(OffCtxRIP))
	b.Lea(RDX, M(RSP, workerImageBase))
	b.Call(Sym(SymLookupFunctionEntry))
	b.Test(S64, RAX, RAX)
	b.Jcc(CondE, fatal) // no unwind information
	b.Lea(RCX, ctx(0))
	b.Mov(S64, RDX, M(RSP, workerImageBase))
	b.Mov(S64, R8, RAX)
	b.Call(Sym(SymVirtualUnwind))
	b.Jmp(loop)
	b.Bind(managed)
	b.Cmp(S64, ctx(OffCtxRIP), R14) // must be the patchpoint's return address
	b.Jcc(CondNE, fatal)
	b.Mov(S64, RDI, ctx(OffCtxRSP)) // tier0 SP
	b.Mov(S64, R12, ctx(OffCtxRBP)) // tier0 FP
	// EECodeInfo callerCodeInfo(ip), then RtlVirtualUnwind of tier0's frame
	// with its module base and function entry: tier0's callee saves back
	// to its caller's values.
	b.Mov(S64, RCX, ctx(OffCtxRIP))
	b.Lea(RDX, M(RSP, workerECI))
	b.Call(Sym(SymCodeInfo))
	b.Test(S32, RAX, RAX)
	b.Jcc(CondE, fatal)
	b.Mov(S64, RDX, M(RSP, workerECI+OffECIRangeSection))
	b.Mov(S64, RDX, M(RDX, OffRSHeapList))
	b.Mov(S64, RDX, M(RDX, OffHLMapBase)) // callerCodeInfo.GetModuleBase()
	b.Mov(S64, R8, M(RSP, workerECI+OffECIFunctionEntry))
	b.Lea(RCX, ctx(0))
	b.Call(Sym(SymVirtualUnwind))
	b.EndRange()

	beginStep(b, RangeOSRContext, StepOSRContext)
	if g.Strategy.OSRPushesSlot() {
		b.Mov(S64, RAX, RDI)
	} else {
		b.Lea(RAX, M(RDI, -8)) // simulate the call: the OSR method sees RSP = tier0 SP - 8
	}
	b.Mov(S64, ctx(OffCtxRSP), RAX)
	b.Mov(S64, ctx(OffCtxRBP), R12)
	b.Mov(S64, ctx(OffCtxRIP), RSI)
	b.EndRange()
	b.Lea(RCX, ctx(0))
	b.Jmp(Sym(SymRestore))
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

// capture_context(ctx): RtlCaptureContext. Records the caller's registers,
// its RIP (our return address) and RSP (after our return).
func emitCapture(b *Builder) {
	helperFunc(b, SymCapture, StepCapture)
	b.EndProlog()
	for r := RAX; r <= R15; r++ {
		if r == RSP {
			continue
		}
		b.Mov(S64, M(RCX, OffCtxGPR+8*int32(r)), r)
	}
	b.Lea(RAX, M(RSP, 8))
	b.Mov(S64, M(RCX, OffCtxRSP), RAX)
	b.Mov(S64, RAX, M(RSP, 0))
	b.Mov(S64, M(RCX, OffCtxRIP), RAX)
	b.Pushfq()
	b.Pop(RAX)
	// Status flags only: IF and the other system flags differ between a
	// user process and the emulator, and popfq ignores them in user mode.
	b.And(S32, RAX, Imm(StatusFlags))
	b.Mov(S64, M(RCX, OffCtxRFlags), RAX)
	for x := 0; x < 16; x++ {
		b.Movdqu(M(RCX, OffCtxXMM+16*int32(x)), XReg(x))
	}
	b.Mov(S64, RAX, M(RCX, OffCtxGPR)) // RAX as the caller left it
	b.Ret()
	b.EndFunc()
}

// virtual_unwind(ctx, image_base, function_entry): RtlVirtualUnwind over
// the emitted UNWIND_INFO of the RUNTIME_FUNCTION (RVAs from image_base).
// Applies each unwind code whose instruction has executed at ctx.RIP, then
// pops the return address. Uses RBX as scratch (saved), clobbers RAX, RDX,
// R8-R11, XMM0. winunwind.Unwind is its reference in Go.
func emitVirtualUnwind(b *Builder) {
	L := func(n string) *Label { return b.NewLabel("unwind." + n) }
	loop, done, exit, skip := L("loop"), L("done"), L("exit"), L("skip")
	push, allocSmall, allocLarge, setFP := L("push"), L("alloc_small"), L("alloc_large"), L("set_fp")
	saveNV, saveNVFar, saveX, saveXFar := L("save_nonvol"), L("save_nonvol_far"), L("save_xmm"), L("save_xmm_far")
	save, frameRSP, saveLoad, saveXLoad, saveStep := L("save"), L("frame_rsp"), L("save_load"), L("save_xmm_load"), L("save_step")
	machFrame := L("machframe")
	large32, two, three, adv := L("large32"), L("two"), L("three"), L("advance")
	ctxRSP := M(RCX, OffCtxRSP)
	operand := M(R11, UnwindCodeSize) // the slot(s) after the code's own
	step := func(slots int32) {
		b.Add(S64, R11, Imm(UnwindCodeSize*slots))
		b.Sub(S32, R10, Imm(slots))
		b.Jmp(loop)
	}

	helperFunc(b, SymVirtualUnwind, StepUnwind)
	b.PushNonvol(RBX)
	b.EndProlog()
	b.Mov(S64, R9, M(RCX, OffCtxRIP))
	b.Sub(S64, R9, RDX)
	b.Mov(S32, RAX, M(R8, OffRFBegin))
	b.Sub(S64, R9, RAX) // offset of RIP in the function
	b.Mov(S32, R8, M(R8, OffRFUnwindData))
	b.Add(S64, R8, RDX) // its UNWIND_INFO
	b.MovZX(S32, R10, S8, M(R8, UnwindOffCountOfCodes))
	b.Lea(R11, M(R8, UnwindOffCodes))
	b.Bind(loop)
	b.Test(S32, R10, R10)
	b.Jcc(CondE, done)
	b.MovZX(S32, RAX, S8, M(R11, UnwindOffCodeOpInfo))
	b.Mov(S32, RDX, RAX)
	b.And(S32, RDX, Imm(15)) // operation
	b.Shr(S32, RAX, 4)       // operation info
	b.MovZX(S32, RBX, S8, M(R11, UnwindOffCodeOffset))
	b.Cmp(S64, RBX, R9)
	b.Jcc(CondA, skip) // that prolog instruction has not run yet
	for _, c := range []struct {
		op UnwindOp
		l  *Label
	}{{UwopPushNonvol, push}, {UwopAllocSmall, allocSmall}, {UwopAllocLarge, allocLarge}, {UwopSetFPReg, setFP},
		{UwopSaveNonvol, saveNV}, {UwopSaveNonvolFar, saveNVFar}, {UwopSaveXMM128, saveX}, {UwopSaveXMM128Far, saveXFar},
		{UwopPushMachframe, machFrame}} {
		b.Cmp(S32, RDX, Imm(int64(c.op)))
		b.Jcc(CondE, c.l)
	}
	b.Ud2() // unknown unwind code

	b.Bind(push) // reg = [rsp]; rsp += 8
	b.Mov(S64, RBX, ctxRSP)
	b.Mov(S64, RBX, M(RBX, 0))
	b.Mov(S64, MIdx(RCX, RAX, 8, OffCtxGPR), RBX)
	b.Add(S64, ctxRSP, Imm(8))
	step(1)

	b.Bind(allocSmall) // rsp += info*8 + 8
	b.Shl(S32, RAX, 3)
	b.Add(S32, RAX, Imm(8))
	b.Add(S64, ctxRSP, RAX)
	step(1)

	b.Bind(allocLarge)
	b.Test(S32, RAX, RAX)
	b.Jcc(CondNE, large32)
	b.MovZX(S32, RBX, S16, operand)
	b.Shl(S32, RBX, 3)
	b.Add(S64, ctxRSP, RBX)
	step(2)
	b.Bind(large32)
	b.Mov(S32, RBX, operand)
	b.Add(S64, ctxRSP, RBX)
	step(3)

	b.Bind(setFP) // rsp = frame register - 16*frame offset
	b.MovZX(S32, RBX, S8, M(R8, UnwindOffFrame))
	b.Mov(S32, RDX, RBX)
	b.And(S32, RDX, Imm(15))
	b.Shr(S32, RBX, 4)
	b.Shl(S32, RBX, 4)
	b.Mov(S64, RDX, MIdx(RCX, RDX, 8, OffCtxGPR))
	b.Sub(S64, RDX, RBX)
	b.Mov(S64, ctxRSP, RDX)
	step(1)

	// The SAVE codes: RBX = the save's offset from the establisher frame,
	// then one path for all four.
	b.Bind(saveNV)
	b.MovZX(S32, RBX, S16, operand)
	b.Shl(S32, RBX, 3)
	b.Jmp(save)
	b.Bind(saveNVFar)
	b.Mov(S32, RBX, operand)
	b.Jmp(save)
	b.Bind(saveX)
	b.MovZX(S32, RBX, S16, operand)
	b.Shl(S32, RBX, 4)
	b.Jmp(save)
	b.Bind(saveXFar)
	b.Mov(S32, RBX, operand)
	b.Bind(save)
	// Establisher frame: in the body of a function with a frame register,
	// that register minus its offset (RSP may have moved since the prolog);
	// else RSP as restored so far, which in a prolog is the final RSP (the
	// emitter allows MOV saves only there).
	b.MovZX(S32, RDX, S8, M(R8, UnwindOffSizeOfProlog))
	b.Cmp(S64, R9, RDX)
	b.Jcc(CondB, frameRSP)
	b.MovZX(S32, RDX, S8, M(R8, UnwindOffFrame))
	b.And(S32, RDX, Imm(15))
	b.Jcc(CondE, frameRSP)
	b.Add(S64, RBX, MIdx(RCX, RDX, 8, OffCtxGPR))
	b.MovZX(S32, RDX, S8, M(R8, UnwindOffFrame))
	b.Shr(S32, RDX, 4)
	b.Shl(S32, RDX, 4)
	b.Sub(S64, RBX, RDX)
	b.Jmp(saveLoad)
	b.Bind(frameRSP)
	b.Add(S64, RBX, ctxRSP)
	b.Bind(saveLoad)
	b.MovZX(S32, RDX, S8, M(R11, 1)) // the operation again
	b.And(S32, RDX, Imm(15))
	b.Cmp(S32, RDX, Imm(UwopSaveXMM128))
	b.Jcc(CondAE, saveXLoad)
	b.Mov(S64, RBX, M(RBX, 0)) // reg = [frame + offset]
	b.Mov(S64, MIdx(RCX, RAX, 8, OffCtxGPR), RBX)
	b.Jmp(saveStep)
	b.Bind(saveXLoad) // xmm = [frame + offset]
	b.Movdqu(X0, M(RBX, 0))
	b.Shl(S32, RAX, 4)
	b.Movdqu(MIdx(RCX, RAX, 1, OffCtxXMM), X0)
	b.Bind(saveStep) // 2 slots, 3 for the FAR forms (the odd operations)
	b.And(S32, RDX, Imm(1))
	b.Add(S32, RDX, Imm(2))
	b.Sub(S32, R10, RDX)
	b.Lea(R11, MIdx(R11, RDX, 2, 0))
	b.Jmp(loop)

	b.Bind(machFrame) // rip = [rsp + 8*info]; rsp = [rsp + 8*info + 24]
	b.Mov(S64, RBX, ctxRSP)
	b.Lea(RBX, MIdx(RBX, RAX, 8, 0))
	b.Mov(S64, RAX, M(RBX, 0))
	b.Mov(S64, M(RCX, OffCtxRIP), RAX)
	b.Mov(S64, RAX, M(RBX, 24))
	b.Mov(S64, ctxRSP, RAX)
	// The machine frame is the first prolog operation (the emitter checks
	// it), so its code is the last: no return address to pop.
	b.Jmp(exit)

	b.Bind(skip) // advance over a code whose instruction has not run
	b.Mov(S32, RBX, Imm(1))
	b.Cmp(S32, RDX, Imm(UwopSaveNonvol))
	b.Jcc(CondE, two)
	b.Cmp(S32, RDX, Imm(UwopSaveXMM128))
	b.Jcc(CondE, two)
	b.Cmp(S32, RDX, Imm(UwopSaveNonvolFar))
	b.Jcc(CondE, three)
	b.Cmp(S32, RDX, Imm(UwopSaveXMM128Far))
	b.Jcc(CondE, three)
	b.Cmp(S32, RDX, Imm(UwopAllocLarge))
	b.Jcc(CondNE, adv)
	b.Test(S32, RAX, RAX)
	b.Jcc(CondE, two)
	b.Bind(three)
	b.Inc(S32, RBX)
	b.Bind(two)
	b.Inc(S32, RBX)
	b.Bind(adv)
	b.Sub(S32, R10, RBX)
	b.Lea(R11, MIdx(R11, RBX, UnwindCodeSize, 0))
	b.Jmp(loop)

	b.Bind(done) // return: rip = [rsp]; rsp += 8
	b.Mov(S64, RBX, ctxRSP)
	b.Mov(S64, RAX, M(RBX, 0))
	b.Mov(S64, M(RCX, OffCtxRIP), RAX)
	b.Add(S64, ctxRSP, Imm(8))
	b.Bind(exit)
	b.Pop(RBX)
	b.Ret()
	b.EndFunc()
}

// restore_context(ctx): ClrRestoreNonvolatileContextWorker (vm/amd64/
// Context.asm, Context.S). Loads the XMM registers (fxrstor there) and the
// integer registers but RAX, R10 and R11 (volatile, the worker's own
// scratch), restores RFLAGS through the current stack, then sets RSP and
// jumps to RIP through a register. It never returns through `ret`: no call
// pushed the target, and under CET shadow stacks a `ret` (or `iret`) there
// would fault; a jump also leaves the return-stack buffer alone.
func emitRestore(b *Builder) {
	helperFunc(b, SymRestore, StepRestore)
	b.EndProlog()
	b.Mov(S64, R10, RCX)
	ctx := func(off int32) Mem { return M(R10, off) }
	for x := 0; x < 16; x++ {
		b.Movdqu(XReg(x), ctx(OffCtxXMM+16*int32(x)))
	}
	for r := RCX; r <= R15; r++ {
		if r == RSP || r == R10 || r == R11 {
			continue
		}
		b.Mov(S64, r, ctx(OffCtxGPR+8*int32(r)))
	}
	b.Mov(S32, RAX, ctx(OffCtxRFlags))
	b.Push(RAX)
	b.Popfq()
	b.Mov(S64, RAX, ctx(OffCtxRIP))
	b.Mov(S64, RSP, ctx(OffCtxRSP))
	b.Jmp(RAX)
	b.EndFunc()
}
