package patchpoint

import (
	. "github.com/osrsim/osrsim/emitter"
)

// Bytes of the instructions RtlVirtualUnwind recognises in an epilog
// (minkernel's exdsptch.c, copied into CoreCLR's unwinder/amd64/unwinder.cpp).
const (
	opREXW     = 0x48 // SIZE64_PREFIX
	opAddImm8  = 0x83
	opAddImm32 = 0x81
	opModRMRSP = 0xC4 // ModRM of `add rsp, imm`
	opLea      = 0x8D
	opPop      = 0x58
	opRet      = 0xC3
	opRetImm   = 0xC2
	opRep      = 0xF3
	opRepne    = 0xF2
	opJmpImm8  = 0xEB
	opJmpImm32 = 0xE9
	opJmpInd   = 0xFF
)

// virtual_unwind(ctx, image_base, function_entry): RtlVirtualUnwind
// (Windows' ntdll, and on both platforms CoreCLR's own copy of it in
// unwinder/amd64/unwinder.cpp, OOPStackUnwinderAMD64::VirtualUnwind) over
// the UNWIND_INFO of the RUNTIME_FUNCTION, RVAs from image_base:
//
//   - the establisher frame: RSP, or the frame register minus its offset
//     once the prolog has set it;
//   - epilog detection, as version-1 unwind info requires: the bytes at
//     the IP are decoded (`add rsp, imm` or `lea rsp, [fp+disp]`, any
//     number of pops, then `ret` or a jump out of the function); in an
//     epilog its remaining instructions are emulated;
//   - otherwise each unwind code whose prolog instruction has executed is
//     undone (UnwindPrologue), then the return address popped.
//
// Uses RBX, R12, R13 (saved), clobbers RAX, RDX, R8-R11, XMM0.
// winunwind.VirtualUnwind is its reference in Go.
func emitVirtualUnwind(b *Builder) {
	L := func(n string) *Label { return b.NewLabel("unwind." + n) }
	loop, done, exit, skip := L("loop"), L("done"), L("exit"), L("skip")
	push, allocSmall, allocLarge, setFP := L("push"), L("alloc_small"), L("alloc_large"), L("set_fp")
	saveNV, saveNVFar, saveX, saveXFar := L("save_nonvol"), L("save_nonvol_far"), L("save_xmm"), L("save_xmm_far")
	save, saveXLoad, saveStep := L("save"), L("save_xmm_load"), L("save_step")
	machFrame := L("machframe")
	large32, two, three, adv := L("large32"), L("two"), L("three"), L("advance")
	estRSP, estFP, estSetFP, estScan, estScanNext, epilogCheck := L("establisher_rsp"), L("establisher_fp"), L("establisher_set_fp"), L("establisher_scan"), L("establisher_scan_next"), L("epilog_check")
	prolog := L("prolog")
	ctxRSP := M(RCX, OffCtxRSP)
	operand := M(R11, UnwindCodeSize) // the slot(s) after the code's own
	step := func(slots int32) {
		b.Add(S64, R11, Imm(UnwindCodeSize*slots))
		b.Sub(S32, R10, Imm(slots))
		b.Jmp(loop)
	}

	helperFunc(b, SymVirtualUnwind, StepUnwind)
	b.PushNonvol(RBX)
	b.PushNonvol(R12)
	b.PushNonvol(R13)
	b.EndProlog()
	b.Mov(S64, R9, M(RCX, OffCtxRIP))
	b.Sub(S64, R9, RDX)
	b.Mov(S32, RAX, M(R8, OffRFBegin))
	b.Sub(S64, R9, RAX) // offset of RIP in the function (PrologOffset)
	b.Mov(S32, R13, M(R8, OffRFEnd))
	b.Sub(S64, R13, RAX) // the function's size
	b.Mov(S32, R8, M(R8, OffRFUnwindData))
	b.Add(S64, R8, RDX) // its UNWIND_INFO

	// *EstablisherFrame: RSP without a frame register; the frame register
	// minus its offset past the prolog; in the prolog, the same once the
	// SET_FPREG instruction has run.
	b.MovZX(S32, RAX, S8, M(R8, UnwindOffFrame))
	b.Test(S32, RAX, Imm(15))
	b.Jcc(CondE, estRSP)
	b.MovZX(S32, RDX, S8, M(R8, UnwindOffSizeOfProlog))
	b.Cmp(S64, R9, RDX)
	b.Jcc(CondAE, estFP)
	b.MovZX(S32, R10, S8, M(R8, UnwindOffCountOfCodes))
	b.Lea(R11, M(R8, UnwindOffCodes))
	b.Bind(estScan) // the SET_FPREG code (the emitter writes one with every frame register)
	b.Test(S32, R10, R10)
	b.Jcc(CondE, estRSP) // none: RSP (where Windows would read past the codes)
	b.MovZX(S32, RDX, S8, M(R11, UnwindOffCodeOpInfo))
	b.And(S32, RDX, Imm(15))
	b.Cmp(S32, RDX, Imm(int64(UwopSetFPReg)))
	b.Jcc(CondE, estSetFP)
	b.MovZX(S32, RBX, S8, M(R11, UnwindOffCodeOpInfo))
	b.Shr(S32, RBX, 4)
	emitUnwindSlots(b, RDX, RBX, estScanNext)
	b.Bind(estScanNext)
	b.Sub(S32, R10, RBX)
	b.Lea(R11, MIdx(R11, RBX, UnwindCodeSize, 0))
	b.Jmp(estScan)
	b.Bind(estSetFP)
	b.MovZX(S32, RDX, S8, M(R11, UnwindOffCodeOffset))
	b.Cmp(S64, R9, RDX)
	b.Jcc(CondAE, estFP)
	b.Bind(estRSP)
	b.Mov(S64, R12, ctxRSP)
	b.Jmp(epilogCheck)
	b.Bind(estFP)
	b.Mov(S32, RDX, RAX)
	b.And(S32, RDX, Imm(15))
	b.Mov(S64, R12, MIdx(RCX, RDX, 8, OffCtxGPR))
	b.Shr(S32, RAX, 4)
	b.Shl(S32, RAX, 4)
	b.Sub(S64, R12, RAX)

	b.Bind(epilogCheck)
	emitEpilogCheck(b, prolog, done)

	// UnwindPrologue: undo each code whose instruction has executed.
	b.Bind(prolog)
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
	b.Add(S64, RBX, R12)
	b.MovZX(S32, RDX, S8, M(R11, 1)) // the operation again
	b.And(S32, RDX, Imm(15))
	b.Cmp(S32, RDX, Imm(int64(UwopSaveXMM128)))
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
	b.Cmp(S32, RDX, Imm(int64(UwopSaveNonvol)))
	b.Jcc(CondE, two)
	b.Cmp(S32, RDX, Imm(int64(UwopSaveXMM128)))
	b.Jcc(CondE, two)
	b.Cmp(S32, RDX, Imm(int64(UwopSaveNonvolFar)))
	b.Jcc(CondE, three)
	b.Cmp(S32, RDX, Imm(int64(UwopSaveXMM128Far)))
	b.Jcc(CondE, three)
	b.Cmp(S32, RDX, Imm(int64(UwopAllocLarge)))
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
	b.Pop(R13)
	b.Pop(R12)
	b.Pop(RBX)
	b.Ret()
	b.EndFunc()
}

// emitUnwindSlots sets n (a register) to the slots of the unwind code
// with operation op and info in n, as UnwindOpSlots does; then jumps to
// next. Clobbers nothing else.
func emitUnwindSlots(b *Builder, op, n Reg, next *Label) {
	one, two, three := b.NewLabel(""), b.NewLabel(""), b.NewLabel("")
	b.Cmp(S32, op, Imm(int64(UwopAllocLarge)))
	b.Jcc(CondNE, one)
	b.Test(S32, n, n)
	b.Jcc(CondE, two)
	b.Jmp(three)
	b.Bind(one)
	for _, c := range []UnwindOp{UwopSaveNonvol, UwopSaveXMM128} {
		b.Cmp(S32, op, Imm(int64(c)))
		b.Jcc(CondE, two)
	}
	for _, c := range []UnwindOp{UwopSaveNonvolFar, UwopSaveXMM128Far} {
		b.Cmp(S32, op, Imm(int64(c)))
		b.Jcc(CondE, three)
	}
	b.Mov(S32, n, Imm(1))
	b.Jmp(next)
	b.Bind(two)
	b.Mov(S32, n, Imm(2))
	b.Jmp(next)
	b.Bind(three)
	b.Mov(S32, n, Imm(3))
	b.Jmp(next)
}

// emitEpilogCheck decodes the bytes at the context's IP as RtlVirtualUnwind
// does for version-1 unwind info: `add rsp, imm8/imm32` or `lea rsp,
// [fp+disp8/32]` (fp the function's frame register), pops, an optional
// repne, then `ret`, `rep ret`, `ret imm16`, a jump out of the function or
// to its start, `jmp [rip+disp]` or a REX.W indirect jump. Not an epilog:
// on to prolog. In an epilog: the rest of it emulated, then on to done
// (the return). RCX = the CONTEXT, R8 = the UNWIND_INFO, R9 = the IP's
// offset in the function, R13 = the function's size. Clobbers RAX, RBX,
// RDX.
func emitEpilogCheck(b *Builder, prolog, done *Label) {
	L := func(n string) *Label { return b.NewLabel("unwind.epilog." + n) }
	add32, lea, lea32, pops, popREX, afterPops, noRepne, rep, jmps, jmp8, jmp32, target, rexJmp, in := L("add32"), L("lea"), L("lea32"), L("pops"), L("pop_rex"), L("after_pops"), L("no_repne"), L("rep"), L("jumps"), L("jmp8"), L("jmp32"), L("target"), L("rex_jmp"), L("in")
	eAdd32, eLea, eLea32, ePops, ePopREX, eRegs := L("emulate_add32"), L("emulate_lea"), L("emulate_lea32"), L("emulate_pops"), L("emulate_pop_rex"), L("emulate_pop")
	ctxRSP := M(RCX, OffCtxRSP)
	at := func(i int32) Mem { return M(RDX, i) }
	// rexReg sets RAX to ((b0 & 1) << 3) | (bi & 7): the register byte i
	// at RDX names, extended by the REX prefix's B bit in byte 0 (i = 2:
	// the base of `lea rsp, [reg+disp]`; i = 1: a REX `pop reg`).
	rexReg := func(i int32) {
		b.MovZX(S32, RAX, S8, at(0))
		b.And(S32, RAX, Imm(1))
		b.Shl(S32, RAX, 3)
		b.MovZX(S32, RBX, S8, at(i))
		b.And(S32, RBX, Imm(7))
		b.Or(S32, RAX, RBX)
	}

	b.Mov(S64, RDX, M(RCX, OffCtxRIP)) // NextByte
	b.Cmp(S8, at(0), Imm(opREXW))
	b.Jcc(CondNE, lea)
	b.Cmp(S8, at(2), Imm(opModRMRSP))
	b.Jcc(CondNE, lea)
	b.Cmp(S8, at(1), Imm(opAddImm8))
	b.Jcc(CondNE, add32)
	b.Add(S64, RDX, Imm(4))
	b.Jmp(pops)
	b.Bind(add32)
	b.Cmp(S8, at(1), Imm(opAddImm32))
	b.Jcc(CondNE, lea)
	b.Add(S64, RDX, Imm(7))
	b.Jmp(pops)
	b.Bind(lea) // lea rsp, [fp+disp]: only with the function's own frame register
	b.MovZX(S32, RAX, S8, at(0))
	b.And(S32, RAX, Imm(0xFE))
	b.Cmp(S32, RAX, Imm(opREXW))
	b.Jcc(CondNE, pops)
	b.Cmp(S8, at(1), Imm(opLea))
	b.Jcc(CondNE, pops)
	rexReg(2)
	b.Jcc(CondE, pops)
	b.MovZX(S32, RBX, S8, M(R8, UnwindOffFrame))
	b.And(S32, RBX, Imm(15))
	b.Cmp(S32, RAX, RBX)
	b.Jcc(CondNE, pops)
	b.MovZX(S32, RAX, S8, at(2))
	b.And(S32, RAX, Imm(0xF8))
	b.Cmp(S32, RAX, Imm(0x60)) // disp8
	b.Jcc(CondNE, lea32)
	b.Add(S64, RDX, Imm(4))
	b.Jmp(pops)
	b.Bind(lea32)
	b.Cmp(S32, RAX, Imm(0xA0)) // disp32
	b.Jcc(CondNE, pops)
	b.Add(S64, RDX, Imm(7))

	b.Bind(pops) // pop r64, REX pop r64
	b.MovZX(S32, RAX, S8, at(0))
	b.Mov(S32, RBX, RAX)
	b.And(S32, RBX, Imm(0xF8))
	b.Cmp(S32, RBX, Imm(opPop))
	b.Jcc(CondNE, popREX)
	b.Inc(S64, RDX)
	b.Jmp(pops)
	b.Bind(popREX)
	b.And(S32, RAX, Imm(0xF0))
	b.Cmp(S32, RAX, Imm(0x40))
	b.Jcc(CondNE, afterPops)
	b.MovZX(S32, RAX, S8, at(1))
	b.And(S32, RAX, Imm(0xF8))
	b.Cmp(S32, RAX, Imm(opPop))
	b.Jcc(CondNE, afterPops)
	b.Add(S64, RDX, Imm(2))
	b.Jmp(pops)

	b.Bind(afterPops)
	b.MovZX(S32, RAX, S8, at(0))
	b.Cmp(S32, RAX, Imm(opRepne))
	b.Jcc(CondNE, noRepne)
	b.Inc(S64, RDX)
	b.MovZX(S32, RAX, S8, at(0))
	b.Bind(noRepne)
	b.Cmp(S32, RAX, Imm(opRet))
	b.Jcc(CondE, in)
	b.Cmp(S32, RAX, Imm(opRetImm))
	b.Jcc(CondE, in)
	b.Cmp(S32, RAX, Imm(opRep))
	b.Jcc(CondNE, jmps)
	b.Bind(rep)
	b.Cmp(S8, at(1), Imm(opRet))
	b.Jcc(CondE, in)
	b.Jmp(prolog)
	b.Bind(jmps)
	b.Cmp(S32, RAX, Imm(opJmpImm8))
	b.Jcc(CondE, jmp8)
	b.Cmp(S32, RAX, Imm(opJmpImm32))
	b.Jcc(CondE, jmp32)
	b.Cmp(S32, RAX, Imm(opJmpInd))
	b.Jcc(CondNE, rexJmp)
	b.Cmp(S8, at(1), Imm(0x25)) // jmp [rip+disp32]: to an import
	b.Jcc(CondE, in)
	b.Jmp(prolog)
	b.Bind(rexJmp) // REX.W jmp r/m: overloaded to mean a tail call
	b.And(S32, RAX, Imm(0xF8))
	b.Cmp(S32, RAX, Imm(opREXW))
	b.Jcc(CondNE, prolog)
	b.Cmp(S8, at(1), Imm(opJmpInd))
	b.Jcc(CondNE, prolog)
	b.MovZX(S32, RAX, S8, at(2))
	b.And(S32, RAX, Imm(0x38))
	b.Cmp(S32, RAX, Imm(0x20))
	b.Jcc(CondE, in)
	b.Jmp(prolog)
	b.Bind(jmp8)
	b.MovSX(S64, RAX, S8, at(1))
	b.Lea(RAX, MIdx(RDX, RAX, 1, 2))
	b.Jmp(target)
	b.Bind(jmp32)
	b.MovSX(S64, RAX, S32, at(1))
	b.Lea(RAX, MIdx(RDX, RAX, 1, 5))
	b.Bind(target)
	// The target's offset in the function: outside it (or its start,
	// without chained info) the jump is a tail call and this an epilog.
	b.Sub(S64, RAX, M(RCX, OffCtxRIP))
	b.Add(S64, RAX, R9)
	b.Jcc(CondE, in)
	b.Cmp(S64, RAX, R13)
	b.Jcc(CondB, prolog)

	// In an epilog: emulate `add rsp`/`lea rsp`, the pops, then the return.
	b.Bind(in)
	b.Mov(S64, RDX, M(RCX, OffCtxRIP))
	b.MovZX(S32, RAX, S8, at(0))
	b.And(S32, RAX, Imm(0xF8))
	b.Cmp(S32, RAX, Imm(opREXW))
	b.Jcc(CondNE, ePops)
	b.MovZX(S32, RAX, S8, at(1))
	b.Cmp(S32, RAX, Imm(opAddImm8))
	b.Jcc(CondNE, eAdd32)
	b.MovSX(S64, RAX, S8, at(3))
	b.Add(S64, ctxRSP, RAX)
	b.Add(S64, RDX, Imm(4))
	b.Jmp(ePops)
	b.Bind(eAdd32)
	b.Cmp(S32, RAX, Imm(opAddImm32))
	b.Jcc(CondNE, eLea)
	b.MovSX(S64, RAX, S32, at(3))
	b.Add(S64, ctxRSP, RAX)
	b.Add(S64, RDX, Imm(7))
	b.Jmp(ePops)
	b.Bind(eLea)
	b.Cmp(S32, RAX, Imm(opLea))
	b.Jcc(CondNE, ePops)
	rexReg(2)
	b.Mov(S64, RAX, MIdx(RCX, RAX, 8, OffCtxGPR))
	b.MovZX(S32, RBX, S8, at(2))
	b.And(S32, RBX, Imm(0xF8))
	b.Cmp(S32, RBX, Imm(0x60))
	b.Jcc(CondNE, eLea32)
	b.MovSX(S64, RBX, S8, at(3))
	b.Add(S64, RAX, RBX)
	b.Mov(S64, ctxRSP, RAX)
	b.Add(S64, RDX, Imm(4))
	b.Jmp(ePops)
	b.Bind(eLea32)
	b.Cmp(S32, RBX, Imm(0xA0))
	b.Jcc(CondNE, ePops)
	b.MovSX(S64, RBX, S32, at(3))
	b.Add(S64, RAX, RBX)
	b.Mov(S64, ctxRSP, RAX)
	b.Add(S64, RDX, Imm(7))

	b.Bind(ePops)
	b.MovZX(S32, RAX, S8, at(0))
	b.Mov(S32, RBX, RAX)
	b.And(S32, RBX, Imm(0xF8))
	b.Cmp(S32, RBX, Imm(opPop))
	b.Jcc(CondNE, ePopREX)
	b.And(S32, RAX, Imm(7))
	b.Inc(S64, RDX)
	b.Bind(eRegs) // reg = [rsp]; rsp += 8
	b.Mov(S64, RBX, ctxRSP)
	b.Mov(S64, RBX, M(RBX, 0))
	b.Mov(S64, MIdx(RCX, RAX, 8, OffCtxGPR), RBX)
	b.Add(S64, ctxRSP, Imm(8))
	b.Jmp(ePops)
	b.Bind(ePopREX)
	b.And(S32, RAX, Imm(0xF0))
	b.Cmp(S32, RAX, Imm(0x40))
	b.Jcc(CondNE, done)
	b.MovZX(S32, RBX, S8, at(1))
	b.And(S32, RBX, Imm(0xF8))
	b.Cmp(S32, RBX, Imm(opPop))
	b.Jcc(CondNE, done)
	rexReg(1)
	b.Add(S64, RDX, Imm(2))
	b.Jmp(eRegs)
}
