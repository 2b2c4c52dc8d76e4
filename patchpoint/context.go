package patchpoint

import (
	. "github.com/osrsim/osrsim/emitter"
)

// CONTEXT (winnt.h, AMD64): the register context RtlCaptureContext fills,
// the unwinders update and ClrRestoreNonvolatileContext loads. 1,232
// bytes, 16-byte aligned. The PAL's CONTEXT (pal.h; offsets in
// pal/src/arch/amd64/asmconstants.h) has the same layout and then the
// extended state (XStateFeaturesMask, the upper halves of the YMM
// registers, AVX-512 and APX): PALContextSize bytes.
const (
	OffCtxFlags   = 0x30 // ContextFlags (32 bits)
	OffCtxMxCsr   = 0x34
	OffCtxSegCs   = 0x38 // SegCs, SegDs, SegEs, SegFs, SegGs, SegSs: 16 bits each
	OffCtxSegDs   = 0x3A
	OffCtxSegEs   = 0x3C
	OffCtxSegFs   = 0x3E
	OffCtxSegGs   = 0x40
	OffCtxSegSs   = 0x42
	OffCtxRFlags  = 0x44 // EFlags (32 bits)
	OffCtxGPR     = 0x78 // Rax..R15 in hardware order, 8 bytes each
	OffCtxRSP     = OffCtxGPR + 8*4
	OffCtxRBP     = OffCtxGPR + 8*5
	OffCtxRIP     = 0xF8
	OffCtxFltSave = 0x100 // XMM_SAVE_AREA32, fxsave's format
	OffCtxXMM     = OffCtxFltSave + OffFltXMM
	ContextSize   = 0x4D0 // 1,232
	// OffCtxXStateFeaturesMask is the PAL's first field after the CONTEXT.
	OffCtxXStateFeaturesMask = ContextSize
	// PALContextSize is CONTEXT_Size of the PAL's asmconstants.h (with
	// the YMM, AVX-512 and APX state).
	PALContextSize = 3232
)

// XMM_SAVE_AREA32 (the fxsave image): offsets inside CONTEXT.FltSave.
const (
	OffFltControlWord = 0x00
	OffFltStatusWord  = 0x02
	OffFltMxCsr       = 0x18
	OffFltXMM         = 0xA0 // XmmRegisters[16]
	FltSaveSize       = 512
)

// CONTEXT.ContextFlags (winnt.h; the PAL's are the same).
const (
	ContextAMD64    = 0x100000
	ContextControl  = ContextAMD64 | 0x1 // SegSs, Rsp, SegCs, Rip, EFlags
	ContextInteger  = ContextAMD64 | 0x2 // Rax..R15 but Rsp
	ContextSegments = ContextAMD64 | 0x4
	ContextFloat    = ContextAMD64 | 0x8 // FltSave (and MxCsr)
	ContextXState   = ContextAMD64 | 0x40
	ContextFull     = ContextControl | ContextInteger | ContextFloat
	// The low byte of each flag, as Context.asm tests them.
	ctxFlagControl = ContextControl & 0xFF
	ctxFlagInteger = ContextInteger & 0xFF
	ctxFlagFloat   = ContextFloat & 0xFF
	ctxFlagXState  = ContextXState & 0xFF
)

// CONTEXT_EX (Windows): follows a CONTEXT that InitializeContext2 laid
// out; each part's offset is relative to the CONTEXT_EX itself.
const (
	OffCtxExAllOffset    = 0x00
	OffCtxExAllLength    = 0x04
	OffCtxExLegacyOffset = 0x08
	OffCtxExLegacyLength = 0x0C
	OffCtxExXStateOffset = 0x10
	OffCtxExXStateLength = 0x14
	ContextExSize        = 0x18
	// contextAlign is CONTEXT's alignment: InitializeContext2 asks for
	// this much more than it lays out, and rounds the buffer up.
	contextAlign = 16
	// ContextLength is what InitializeContext2's size query returns
	// without extended state: a CONTEXT, its CONTEXT_EX, the slack for
	// the alignment.
	ContextLength = ContextSize + ContextExSize + contextAlign - 1
)

// ErrorInsufficientBuffer is ERROR_INSUFFICIENT_BUFFER, the last error of
// InitializeContext2's size query.
const ErrorInsufficientBuffer = 122

// M128 is a 16-byte XMM value.
type M128 = [16]byte

// XMMSaveArea mirrors XMM_SAVE_AREA32.
type XMMSaveArea struct {
	ControlWord, StatusWord uint16
	TagWord, _              uint8
	ErrorOpcode             uint16
	ErrorOffset             uint32
	ErrorSelector, _        uint16
	DataOffset              uint32
	DataSelector, _         uint16
	MxCsr, MxCsrMask        uint32
	FloatRegisters          [8]M128
	XMM                     [16]M128
	_                       [96]byte
}

// Context mirrors the Windows CONTEXT.
type Context struct {
	PHome                                    [6]uint64
	ContextFlags, MxCsr                      uint32
	SegCs, SegDs, SegEs, SegFs, SegGs, SegSs uint16
	EFlags                                   uint32
	Dr                                       [6]uint64
	GPR                                      [16]uint64
	RIP                                      uint64
	FltSave                                  XMMSaveArea
	VectorRegister                           [26]M128
	VectorControl, DebugControl              uint64
	LastBranchToRIP, LastBranchFromRIP       uint64
	LastExceptionToRIP, LastExceptionFromRIP uint64
}

// ContextEx mirrors CONTEXT_EX.
type ContextEx struct {
	AllOffset    int32
	AllLength    uint32
	LegacyOffset int32
	LegacyLength uint32
	XStateOffset int32
	XStateLength uint32
}

// Symbols of the context functions and their data.
const (
	SymInitializeContext2 = "patchpoint.initialize_context2"   // kernelbase!InitializeContext2
	SymCaptureWindows     = "patchpoint.rtl_capture_context"   // ntdll!RtlCaptureContext
	SymCapturePAL         = "pal.rtl_capture_context"          // the PAL's RtlCaptureContext (context2.S)
	SymCaptureContextPAL  = "pal.context_capture_context"      // CONTEXT_CaptureContext (context2.S)
	SymContextBuffer      = "patchpoint.context_buffer"        // the worker's CONTEXT (context region)
	SymShadowStacks       = "patchpoint.shadow_stacks_enabled" // Thread::AreShadowStacksEnabled()
)

// contextBufferSize is room for the larger of the two platforms' CONTEXTs
// with the alignment slack.
const contextBufferSize = PALContextSize + contextAlign

// emitContextData lays out the worker's CONTEXT buffer in the context
// section (not compared: it receives segment selectors, RFLAGS and the
// x87/SSE state of the CPU it runs on).
func emitContextData(c *Builder) {
	c.Align(64, 0)
	c.DefineSymbol(SymContextBuffer)
	c.Space(contextBufferSize)
	c.EndSymbol(SymContextBuffer)
}

// emitInitializeContext2 is kernelbase!InitializeContext2 (Windows 10
// 2004+; RtlGetExtendedContextLength2 and RtlInitializeExtendedContext2)
// for flags without CONTEXT_XSTATE:
//
//	BOOL InitializeContext2(PVOID Buffer, DWORD ContextFlags,
//	    PCONTEXT* Context, PDWORD ContextLength, ULONG64 XStateCompactionMask)
//
// Without a buffer, or with one too small, it stores the length needed,
// sets ERROR_INSUFFICIENT_BUFFER and fails. Otherwise it aligns the buffer
// to a CONTEXT, sets its flags, lays out the CONTEXT_EX after it and
// returns the CONTEXT. Arguments RCX, RDX, R8, R9, [rsp+0x28] (the mask,
// which only CONTEXT_XSTATE reads). Clobbers RAX, RCX, R10, R11.
func emitInitializeContext2(b *Builder) {
	small, xstate := b.NewLabel("ic2.small"), b.NewLabel("ic2.xstate")
	helperFunc(b, SymInitializeContext2, StepContextInit)
	b.EndProlog()
	b.Test(S32, RDX, Imm(ContextXState&^ContextAMD64))
	b.Jcc(CondNE, xstate) // CET shadow stacks: not modelled (they are off)
	b.Mov(S32, R10, Imm(ContextLength))
	b.Test(S64, RCX, RCX)
	b.Jcc(CondE, small)
	b.Cmp(S32, M(R9, 0), R10)
	b.Jcc(CondB, small)
	b.Lea(RAX, M(RCX, contextAlign-1))
	b.And(S64, RAX, Imm(-contextAlign))
	b.Mov(S32, M(RAX, OffCtxFlags), RDX)
	ex := func(off int32) Mem { return M(RAX, ContextSize+off) }
	b.Mov(S32, ex(OffCtxExAllOffset), Imm(-ContextSize))
	b.Mov(S32, ex(OffCtxExAllLength), Imm(ContextSize+ContextExSize))
	b.Mov(S32, ex(OffCtxExLegacyOffset), Imm(-ContextSize))
	b.Mov(S32, ex(OffCtxExLegacyLength), Imm(ContextSize))
	b.Mov(S32, ex(OffCtxExXStateOffset), Imm(ContextExSize))
	b.Mov(S32, ex(OffCtxExXStateLength), Imm(0))
	b.Mov(S64, M(R8, 0), RAX)
	b.Mov(S32, RAX, Imm(1))
	b.Ret()
	b.Bind(small)
	b.Mov(S32, M(R9, 0), R10)
	b.Mov(S32, RCX, Imm(ErrorInsufficientBuffer))
	emitStoreLastError(b, RCX, R11)
	b.Xor(S32, RAX, RAX)
	b.Ret()
	b.Bind(xstate)
	b.Ud2()
	b.EndFunc()
}

// emitCaptureWindows is ntdll!RtlCaptureContext (x64): the caller's
// integer registers, its 16 XMM registers (movaps: the CONTEXT is
// aligned), MXCSR, the six segment selectors, the x87 control word, RSP
// and RIP as after the call, RFLAGS as at the call, and ContextFlags =
// CONTEXT_FULL | CONTEXT_SEGMENTS. RCX = the CONTEXT. Clobbers RAX.
func emitCaptureWindows(b *Builder) {
	helperFunc(b, SymCaptureWindows, StepCapture)
	b.Pushfq()
	b.UnwindRecord(UwopAllocSmall, 0, 0)
	b.EndProlog()
	ctx := func(off int32) Mem { return M(RCX, off) }
	gpr := func(r Reg) { b.Mov(S64, ctx(OffCtxGPR+8*int32(r)), r) }
	for _, r := range []Reg{RAX, RCX, RDX, R8, R9, R10, R11} {
		gpr(r)
	}
	for x := 0; x < 6; x++ {
		b.Movdqa(ctx(OffCtxXMM+16*int32(x)), XReg(x))
	}
	b.Stmxcsr(ctx(OffCtxMxCsr))
	for _, s := range []struct {
		seg SegReg
		off int32
	}{{CS, OffCtxSegCs}, {DS, OffCtxSegDs}, {ES, OffCtxSegEs}, {SS, OffCtxSegSs}, {FS, OffCtxSegFs}, {GS, OffCtxSegGs}} {
		b.MovFromSeg(ctx(s.off), s.seg)
	}
	for _, r := range []Reg{RBX, RBP, RSI, RDI, R12, R13, R14, R15} {
		gpr(r)
	}
	b.Fnstcw(ctx(OffCtxFltSave + OffFltControlWord))
	b.Mov(S32, ctx(OffCtxFltSave+OffFltStatusWord), Imm(0)) // status and tag words
	for x := 6; x < 16; x++ {
		b.Movdqa(ctx(OffCtxXMM+16*int32(x)), XReg(x))
	}
	b.Stmxcsr(ctx(OffCtxFltSave + OffFltMxCsr))
	b.Lea(RAX, M(RSP, 16))
	b.Mov(S64, ctx(OffCtxRSP), RAX)
	b.Mov(S64, RAX, M(RSP, 8))
	b.Mov(S64, ctx(OffCtxRIP), RAX)
	b.Mov(S32, RAX, M(RSP, 0))
	b.Mov(S32, ctx(OffCtxRFlags), RAX)
	b.Mov(S32, ctx(OffCtxFlags), Imm(ContextFull|ContextSegments))
	b.Add(S64, RSP, Imm(8))
	b.Ret()
	b.EndFunc()
}

// emitCapturePAL is the PAL's RtlCaptureContext and CONTEXT_CaptureContext
// (pal/src/arch/amd64/context2.S): ContextFlags = CONTEXT_FULL |
// CONTEXT_SEGMENTS and no extended state, then, by the flags, the integer
// registers; RIP, CS, RFLAGS, RSP and SS; and the x87/SSE state with
// fxsave. RDI = the CONTEXT (SysV). Clobbers RDX.
func emitCapturePAL(b *Builder) {
	helperFunc(b, SymCapturePAL, StepCapture)
	b.EndProlog()
	b.Mov(S32, M(RDI, OffCtxFlags), Imm(ContextFull|ContextSegments))
	b.Mov(S64, M(RDI, OffCtxXStateFeaturesMask), Imm(0))
	b.Jmp(Sym(SymCaptureContextPAL))
	b.EndFunc()

	noInt, noCtl, noFP := b.NewLabel("pal.capture.no_integer"), b.NewLabel("pal.capture.no_control"), b.NewLabel("pal.capture.no_float")
	helperFunc(b, SymCaptureContextPAL, StepCapture)
	b.Pushfq() // push_eflags: before any test changes them
	b.UnwindRecord(UwopAllocSmall, 0, 0)
	b.EndProlog()
	ctx := func(off int32) Mem { return M(RDI, off) }
	b.Test(S8, ctx(OffCtxFlags), Imm(ctxFlagInteger))
	b.Jcc(CondE, noInt)
	for _, r := range []Reg{RDI, RSI, RBX, RDX, RCX, RAX, RBP, R8, R9, R10, R11, R12, R13, R14, R15} {
		b.Mov(S64, ctx(OffCtxGPR+8*int32(r)), r)
	}
	b.Bind(noInt)
	b.Test(S8, ctx(OffCtxFlags), Imm(ctxFlagControl))
	b.Jcc(CondE, noCtl)
	b.Mov(S64, RDX, M(RSP, 8))
	b.Mov(S64, ctx(OffCtxRIP), RDX)
	b.MovFromSeg(ctx(OffCtxSegCs), CS)
	b.Mov(S64, RDX, M(RSP, 0))
	b.Mov(S32, ctx(OffCtxRFlags), RDX)
	b.Lea(RDX, M(RSP, 16))
	b.Mov(S64, ctx(OffCtxRSP), RDX)
	b.MovFromSeg(ctx(OffCtxSegSs), SS)
	b.Bind(noCtl)
	b.Test(S8, ctx(OffCtxFlags), Imm(ctxFlagFloat))
	b.Jcc(CondE, noFP)
	b.Fxsave(ctx(OffCtxFltSave))
	b.Bind(noFP)
	b.Add(S64, RSP, Imm(8)) // free_stack 8
	b.Ret()
	b.EndFunc()
}

// emitRestore is ClrRestoreNonvolatileContextWorker(ctx, ssp)
// (vm/amd64/Context.asm on Windows, Context.S on Linux): by the context's
// flags, the legacy x87/SSE state with fxrstor (Windows only), the
// integer registers but RAX, R10, R11 (its own scratch), the shadow-stack
// pointer when one is given (CET; never here), then RFLAGS through the
// stack with popfq (Windows only), RSP and a jump to RIP. It never returns
// through `ret`: no call pushed the target, a shadow stack would refuse
// it, and a jump leaves the return-stack buffer alone. Arguments RCX, RDX
// on Windows, RDI, RSI on Linux.
func (g Generator) emitRestore(b *Builder) {
	windows := g.Settings.Platform == WindowsX64
	L := func(n string) *Label { return b.NewLabel("restore." + n) }
	noFP, noInt, noCtl, noSSP := L("no_float"), L("no_integer"), L("no_control"), L("no_ssp")
	helperFunc(b, SymRestore, StepRestore)
	b.PushNonvol(RBP)
	b.SetFramePointer(RBP, 0)
	b.EndProlog()
	ctxArg, sspArg := RCX, RDX
	if !windows {
		ctxArg, sspArg = RDI, RSI
	}
	b.Mov(S64, R10, ctxArg)
	b.Mov(S64, R11, sspArg)
	ctx := func(off int32) Mem { return M(R10, off) }
	if windows {
		b.Test(S8, ctx(OffCtxFlags), Imm(ctxFlagFloat))
		b.Jcc(CondE, noFP)
		b.Fxrstor(ctx(OffCtxFltSave))
		b.Bind(noFP)
	}
	b.Test(S8, ctx(OffCtxFlags), Imm(ctxFlagInteger))
	b.Jcc(CondE, noInt)
	for _, r := range []Reg{RBX, RCX, RDX, R8, R9, RBP, RSI, RDI, R12, R13, R14, R15} {
		b.Mov(S64, r, ctx(OffCtxGPR+8*int32(r)))
	}
	b.Bind(noInt)
	b.Test(S8, ctx(OffCtxFlags), Imm(ctxFlagControl))
	b.Jcc(CondE, noCtl)
	b.Test(S64, R11, R11)
	b.Jcc(CondE, noSSP)
	b.Ud2() // rdsspq/incsspq: shadow stacks are off
	b.Bind(noSSP)
	if windows {
		b.Mov(S32, RAX, ctx(OffCtxRFlags))
		b.Push(RAX)
		b.Popfq()
		b.Mov(S64, RSP, ctx(OffCtxRSP))
		b.Jmp(ctx(OffCtxRIP))
	} else {
		b.Mov(S64, RAX, ctx(OffCtxRIP))
		b.Mov(S64, RSP, ctx(OffCtxRSP))
		b.Jmp(RAX)
	}
	b.Bind(noCtl)
	b.Pop(RBP)
	b.Ret()
	b.EndFunc()
}
