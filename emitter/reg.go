package emitter

import "fmt"

// Reg is a general-purpose register by hardware number; its width comes from
// the Size of the instruction that uses it.
type Reg uint8

const (
	RAX Reg = iota
	RCX
	RDX
	RBX
	RSP
	RBP
	RSI
	RDI
	R8
	R9
	R10
	R11
	R12
	R13
	R14
	R15
)

// noReg marks an absent base or index inside Mem.
const noReg Reg = 0xff

var regNames = [4][16]string{
	{"al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil", "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b"},
	{"ax", "cx", "dx", "bx", "sp", "bp", "si", "di", "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"},
	{"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"},
	{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"},
}

func (r Reg) valid() bool { return r < 16 }

// String is the 64-bit name.
func (r Reg) String() string { return r.Name(S64) }

// Name is the register's name at width sz.
func (r Reg) Name(sz Size) string {
	if !r.valid() || !sz.valid() {
		return fmt.Sprintf("Reg(%d)", uint8(r))
	}
	return regNames[sz.log2()][r]
}

// low3 and hi are the ModRM/SIB field bits and the REX extension bit.
func (r Reg) low3() byte { return byte(r) & 7 }
func (r Reg) hi() byte   { return byte(r) >> 3 & 1 }

// XReg is an SSE register X0..X15.
type XReg uint8

const (
	X0 XReg = iota
	X1
	X2
	X3
	X4
	X5
	X6
	X7
	X8
	X9
	X10
	X11
	X12
	X13
	X14
	X15
)

func (x XReg) valid() bool    { return x < 16 }
func (x XReg) String() string { return fmt.Sprintf("xmm%d", uint8(x)) }

// Size is an operand width in bytes.
type Size uint8

const (
	S8  Size = 1
	S16 Size = 2
	S32 Size = 4
	S64 Size = 8
)

func (s Size) valid() bool { return s == S8 || s == S16 || s == S32 || s == S64 }

func (s Size) log2() int {
	switch s {
	case S8:
		return 0
	case S16:
		return 1
	case S32:
		return 2
	case S64:
		return 3
	}
	bug("log2 of invalid size %d", s)
	return 0
}

func (s Size) String() string {
	if !s.valid() {
		return fmt.Sprintf("Size(%d)", uint8(s))
	}
	return fmt.Sprintf("S%d", 8*int(s))
}

// Cond is a condition code by hardware number (the low nibble of Jcc/SETcc/CMOVcc).
type Cond uint8

const (
	CondO Cond = iota
	CondNO
	CondB
	CondAE
	CondE
	CondNE
	CondBE
	CondA
	CondS
	CondNS
	CondP
	CondNP
	CondL
	CondGE
	CondLE
	CondG
)

// Aliases with the same encodings.
const (
	CondZ  = CondE
	CondNZ = CondNE
	CondC  = CondB
	CondNC = CondAE
)

var condNames = [16]string{"o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"}

func (c Cond) valid() bool { return c < 16 }

func (c Cond) String() string {
	if !c.valid() {
		return fmt.Sprintf("Cond(%d)", uint8(c))
	}
	return condNames[c]
}

// Invert returns the opposite condition (cc ^ 1).
func (c Cond) Invert() Cond { return c ^ 1 }

// SegReg is a segment register by hardware number (the ModRM.reg field of
// `mov r/m16, Sreg`).
type SegReg uint8

const (
	ES SegReg = iota
	CS
	SS
	DS
	FS
	GS
)

var segNames = [...]string{"es", "cs", "ss", "ds", "fs", "gs"}

func (s SegReg) valid() bool { return s <= GS }

func (s SegReg) String() string {
	if !s.valid() {
		return fmt.Sprintf("SegReg(%d)", uint8(s))
	}
	return segNames[s]
}
