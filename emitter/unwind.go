package emitter

import "fmt"

// Windows x64 unwind data.
//
// UNWIND_INFO, as stored in FuncUnwind.Info (little-endian):
//
//	offset 0  u8  Version:3 (=1) | Flags:5 << 3 (always 0 here)
//	offset 1  u8  SizeOfProlog       prolog length in bytes
//	offset 2  u8  CountOfCodes       number of 2-byte slots used by the codes
//	offset 3  u8  FrameRegister:4 | FrameOffset:4 << 4   (offset scaled by 16)
//	offset 4  UNWIND_CODE[CountOfCodes], then one zero slot if the count is odd
//
// Codes are stored in reverse prolog order (the last operation first). Each
// UNWIND_CODE is u8 CodeOffset (offset from the function start of the end of
// the instruction that did the operation) and u8 UnwindOp:4 | OpInfo:4 << 4,
// followed by the operation's extra slots:
//
//	PUSH_NONVOL      info=reg                          no extra slot
//	ALLOC_LARGE      info=0: u16 size/8                1 extra slot
//	                 info=1: u32 size (low u16 first)  2 extra slots
//	ALLOC_SMALL      info=(size-8)/8, size 8..128      no extra slot
//	SET_FPREG        info=0 (register/offset in the header)
//	SAVE_NONVOL      info=reg: u16 offset/8            1 extra slot
//	SAVE_NONVOL_FAR  info=reg: u32 offset              2 extra slots
//	SAVE_XMM128      info=xmm: u16 offset/16           1 extra slot
//	SAVE_XMM128_FAR  info=xmm: u32 offset              2 extra slots
//	PUSH_MACHFRAME   info=0/1 (error code pushed)      no extra slot

// UnwindOp is the UWOP_* operation of an UNWIND_CODE.
type UnwindOp uint8

const (
	UwopPushNonvol    UnwindOp = 0
	UwopAllocLarge    UnwindOp = 1
	UwopAllocSmall    UnwindOp = 2
	UwopSetFPReg      UnwindOp = 3
	UwopSaveNonvol    UnwindOp = 4
	UwopSaveNonvolFar UnwindOp = 5
	UwopSaveXMM128    UnwindOp = 8
	UwopSaveXMM128Far UnwindOp = 9
	UwopPushMachframe UnwindOp = 10
)

// Field offsets and sizes of the encoded UNWIND_INFO.
const (
	UnwindInfoVersion      = 1
	UnwindOffVersionFlags  = 0
	UnwindOffSizeOfProlog  = 1
	UnwindOffCountOfCodes  = 2
	UnwindOffFrame         = 3
	UnwindOffCodes         = 4
	UnwindCodeSize         = 2 // one slot
	UnwindOffCodeOffset    = 0 // within a slot
	UnwindOffCodeOpInfo    = 1
	UnwindMaxSmallAlloc    = 128
	UnwindMaxLargeAllocU16 = 0xffff * 8
	UnwindMaxFrameOffset   = 240
)

func (op UnwindOp) String() string {
	switch op {
	case UwopPushNonvol:
		return "PUSH_NONVOL"
	case UwopAllocLarge:
		return "ALLOC_LARGE"
	case UwopAllocSmall:
		return "ALLOC_SMALL"
	case UwopSetFPReg:
		return "SET_FPREG"
	case UwopSaveNonvol:
		return "SAVE_NONVOL"
	case UwopSaveNonvolFar:
		return "SAVE_NONVOL_FAR"
	case UwopSaveXMM128:
		return "SAVE_XMM128"
	case UwopSaveXMM128Far:
		return "SAVE_XMM128_FAR"
	case UwopPushMachframe:
		return "PUSH_MACHFRAME"
	}
	return fmt.Sprintf("UWOP(%d)", uint8(op))
}

// UnwindSlots is the number of 2-byte slots a code occupies, or 0 if op/info
// is not a valid combination.
func UnwindSlots(op UnwindOp, info uint8) int {
	switch op {
	case UwopPushNonvol, UwopAllocSmall, UwopSetFPReg:
		return 1
	case UwopPushMachframe:
		if info <= 1 {
			return 1
		}
	case UwopAllocLarge:
		switch info {
		case 0:
			return 2
		case 1:
			return 3
		}
	case UwopSaveNonvol, UwopSaveXMM128:
		return 2
	case UwopSaveNonvolFar, UwopSaveXMM128Far:
		return 3
	}
	return 0
}

// UnwindCode is one operation in prolog order. Operand is the value of its
// extra slots exactly as encoded (scaled for ALLOC_LARGE/0, SAVE_NONVOL and
// SAVE_XMM128).
type UnwindCode struct {
	CodeOffset uint8
	Op         UnwindOp
	Info       uint8
	Operand    uint32
}

// FuncUnwind is the unwind data of one function.
type FuncUnwind struct {
	Name        string
	Start, End  int // section offsets
	PrologSize  uint8
	FrameReg    Reg   // valid if HasFrame
	FrameOffset int32 // bytes (a multiple of 16)
	HasFrame    bool
	Codes       []UnwindCode // prolog order
	Info        []byte       // encoded UNWIND_INFO
}

type codeRec struct {
	pos     int
	op      UnwindOp
	info    uint8
	operand uint32
	where   site
}

type funcRec struct {
	sym       *symDef
	codes     []codeRec
	prologEnd int // buffer position; -1 until EndProlog
	frameReg  Reg
	frameOff  int32
	hasFrame  bool
	where     site
	// For the ordering rules record checks.
	movSaved     bool // a SAVE_NONVOL or SAVE_XMM128 was recorded
	movedSinceFP bool // RSP moved after SET_FPREG
}

// inProlog checks that a prolog operation happens inside an open function's prolog.
func (b *Builder) inProlog(name string) bool {
	if b.fn == nil {
		b.p.errorf(ErrUnwind, "%s outside Func", name)
		return false
	}
	if b.fn.prologEnd >= 0 {
		b.p.errorf(ErrUnwind, "%s after EndProlog in func %q", name, b.fn.sym.name)
		return false
	}
	return true
}

// record appends a code after checking the ordering rules that make the
// SAVE codes' offsets mean the same to every unwinder. Windows takes them
// from the establisher frame: the final RSP, or the frame register minus its
// offset once SET_FPREG has run. So MOV saves come after every RSP
// adjustment (as OSRX64EpilogRedesign.md requires of OSR prologs), RSP must
// not move between SET_FPREG and a save, a machine frame is the first
// operation (the unwind ends at it), and the frame register is not saved
// after it holds the frame.
func (b *Builder) record(op UnwindOp, info uint8, operand uint32) {
	fn := b.fn
	framed := fn.hasFrame && op != UwopSetFPReg && Reg(info) == fn.frameReg
	switch op {
	case UwopPushNonvol, UwopAllocSmall, UwopAllocLarge, UwopPushMachframe:
		switch {
		case fn.movSaved:
			b.p.errorf(ErrUnwind, "func %q: %v after a MOV save: saves must follow every RSP adjustment", fn.sym.name, op)
		case op == UwopPushMachframe && len(fn.codes) > 0:
			b.p.errorf(ErrUnwind, "func %q: PUSH_MACHFRAME must be the first prolog operation", fn.sym.name)
		case op == UwopPushNonvol && framed:
			b.p.errorf(ErrUnwind, "func %q: push of frame register %v after SetFramePointer", fn.sym.name, fn.frameReg)
		}
		if fn.hasFrame {
			fn.movedSinceFP = true
		}
	case UwopSaveNonvol, UwopSaveNonvolFar, UwopSaveXMM128, UwopSaveXMM128Far:
		isGPR := op == UwopSaveNonvol || op == UwopSaveNonvolFar
		switch {
		case fn.movedSinceFP:
			b.p.errorf(ErrUnwind, "func %q: %v after RSP moved past SetFramePointer: the offset would not be from the frame", fn.sym.name, op)
		case isGPR && framed:
			b.p.errorf(ErrUnwind, "func %q: save of frame register %v after SetFramePointer", fn.sym.name, fn.frameReg)
		}
		fn.movSaved = true
	}
	fn.codes = append(fn.codes, codeRec{pos: len(b.buf), op: op, info: info, operand: operand, where: b.p.here()})
}

// PushNonvol is push r with UWOP_PUSH_NONVOL.
func (b *Builder) PushNonvol(r Reg) {
	if !b.inProlog("PushNonvol") || !b.opsOK("push", S64, r) {
		return
	}
	b.Push(r)
	b.record(UwopPushNonvol, uint8(r), 0)
}

// AllocStack is sub rsp, n with UWOP_ALLOC_SMALL (8..128) or UWOP_ALLOC_LARGE.
func (b *Builder) AllocStack(n int32) {
	if !b.inProlog("AllocStack") {
		return
	}
	if n <= 0 || n%8 != 0 {
		b.p.errorf(ErrUnwind, "AllocStack(%d): size must be a positive multiple of 8", n)
		return
	}
	b.Sub(S64, RSP, Imm(n))
	b.record(AllocCode(n))
}

// AllocCode is the code that describes an allocation of n bytes (a positive
// multiple of 8): UWOP_ALLOC_SMALL up to 128, else UWOP_ALLOC_LARGE, in its
// 32-bit form past 0xffff*8. UnwindRecord(AllocCode(n)) records one without
// an instruction.
func AllocCode(n int32) (op UnwindOp, info uint8, operand uint32) {
	switch {
	case n <= UnwindMaxSmallAlloc:
		return UwopAllocSmall, uint8((n - 8) / 8), 0
	case n <= UnwindMaxLargeAllocU16:
		return UwopAllocLarge, 0, uint32(n / 8)
	}
	return UwopAllocLarge, 1, uint32(n)
}

// SetFramePointer establishes r = rsp + offset with UWOP_SET_FPREG. Offset 0
// is emitted as mov r, rsp (the usual frame setup), else lea r, [rsp+offset].
func (b *Builder) SetFramePointer(r Reg, offset int32) {
	if !b.inProlog("SetFramePointer") || !b.opsOK("SetFramePointer", S64, r) {
		return
	}
	if offset < 0 || offset > UnwindMaxFrameOffset || offset%16 != 0 {
		b.p.errorf(ErrUnwind, "SetFramePointer offset %d: must be a multiple of 16 in 0..240", offset)
		return
	}
	if b.fn.hasFrame {
		b.p.errorf(ErrUnwind, "SetFramePointer twice in func %q", b.fn.sym.name)
		return
	}
	if r == RSP {
		b.p.errorf(ErrUnwind, "SetFramePointer: rsp cannot be the frame register")
		return
	}
	if offset == 0 {
		b.Mov(S64, r, RSP)
	} else {
		b.Lea(r, M(RSP, offset))
	}
	b.fn.hasFrame, b.fn.frameReg, b.fn.frameOff = true, r, offset
	b.record(UwopSetFPReg, 0, 0)
}

// SaveNonvol is mov [rsp+offset], r with UWOP_SAVE_NONVOL (or _FAR).
func (b *Builder) SaveNonvol(r Reg, offset int32) {
	if !b.inProlog("SaveNonvol") || !b.opsOK("SaveNonvol", S64, r) {
		return
	}
	if offset < 0 || offset%8 != 0 {
		b.p.errorf(ErrUnwind, "SaveNonvol offset %d: must be a non-negative multiple of 8", offset)
		return
	}
	b.Mov(S64, M(RSP, offset), r)
	if offset/8 <= 0xffff {
		b.record(UwopSaveNonvol, uint8(r), uint32(offset/8))
	} else {
		b.record(UwopSaveNonvolFar, uint8(r), uint32(offset))
	}
}

// SaveXMM128 is movdqa [rsp+offset], x with UWOP_SAVE_XMM128 (or _FAR).
func (b *Builder) SaveXMM128(x XReg, offset int32) {
	if !b.inProlog("SaveXMM128") || !b.opsOK("SaveXMM128", 0, x) {
		return
	}
	if offset < 0 || offset%16 != 0 {
		b.p.errorf(ErrUnwind, "SaveXMM128 offset %d: must be a non-negative multiple of 16", offset)
		return
	}
	b.Movdqa(M(RSP, offset), x)
	if offset/16 <= 0xffff {
		b.record(UwopSaveXMM128, uint8(x), uint32(offset/16))
	} else {
		b.record(UwopSaveXMM128Far, uint8(x), uint32(offset))
	}
}

// UnwindRecord records a raw code at the current offset without emitting an
// instruction (for pseudo codes such as an OSR method's inherited frame at
// offset 0). Operand is the extra-slot value as encoded.
func (b *Builder) UnwindRecord(op UnwindOp, info uint8, operand uint32) {
	if !b.inProlog("UnwindRecord") {
		return
	}
	n := UnwindSlots(op, info)
	switch {
	case n == 0 || info > 15:
		b.p.errorf(ErrUnwind, "UnwindRecord: invalid op %v info %d", op, info)
		return
	case n == 1 && operand != 0:
		b.p.errorf(ErrUnwind, "UnwindRecord: %v takes no operand", op)
		return
	case n == 2 && operand > 0xffff:
		b.p.errorf(ErrUnwind, "UnwindRecord: %v operand %#x exceeds 16 bits", op, operand)
		return
	}
	b.record(op, info, operand)
}

// EndProlog ends the prolog of the open function here.
func (b *Builder) EndProlog() {
	if !b.inProlog("EndProlog") {
		return
	}
	b.fn.prologEnd = len(b.buf)
	b.fn.where = b.p.here()
}

// encodeUnwindInfo builds the UNWIND_INFO bytes.
func encodeUnwindInfo(u *FuncUnwind) []byte {
	slots := 0
	for _, c := range u.Codes {
		slots += UnwindSlots(c.Op, c.Info)
	}
	frame := byte(0)
	if u.HasFrame {
		frame = byte(u.FrameReg) | byte(u.FrameOffset/16)<<4
	}
	out := []byte{UnwindInfoVersion, u.PrologSize, byte(slots), frame}
	for i := len(u.Codes) - 1; i >= 0; i-- {
		c := u.Codes[i]
		out = append(out, c.CodeOffset, byte(c.Op)|c.Info<<4)
		switch UnwindSlots(c.Op, c.Info) {
		case 2:
			out = append(out, byte(c.Operand), byte(c.Operand>>8))
		case 3:
			out = append(out, byte(c.Operand), byte(c.Operand>>8), byte(c.Operand>>16), byte(c.Operand>>24))
		}
	}
	if slots%2 == 1 {
		out = append(out, 0, 0)
	}
	return out
}
