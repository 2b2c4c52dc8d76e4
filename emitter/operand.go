package emitter

import (
	"fmt"
	"strings"
)

// Operand is a register, SSE register, memory reference or immediate.
type Operand interface{ isOperand() }

func (Reg) isOperand()  {}
func (XReg) isOperand() {}
func (Mem) isOperand()  {}
func (Imm) isOperand()  {}

// Imm is an immediate; each instruction checks that it fits its field.
type Imm int64

// Sym names a symbol as a call or jump target; it may live in any section.
type Sym string

// Mem is a memory reference: [base + index*scale + disp], [disp32] or
// [rip + target + disp] where the target is a label or a symbol.
// Construct it with M, MIdx, MAbs, RIP or RIPSym; the zero value is invalid.
type Mem struct {
	base, index Reg
	scale       uint8
	disp        int32
	label       *Label // RIP-relative to a label
	sym         string // RIP-relative to a symbol
	rip         bool
	set         bool   // constructed by one of the helpers
	err         string // construction problem, reported when used
}

// M is [base+disp].
func M(base Reg, disp int32) Mem {
	m := Mem{base: base, index: noReg, disp: disp, set: true}
	if !base.valid() {
		m.err = fmt.Sprintf("invalid base register %d", base)
	}
	return m
}

// MIdx is [base+index*scale+disp]; scale is 1, 2, 4 or 8 and index is not RSP.
func MIdx(base, index Reg, scale uint8, disp int32) Mem {
	m := Mem{base: base, index: index, scale: scale, disp: disp, set: true}
	switch {
	case !base.valid():
		m.err = fmt.Sprintf("invalid base register %d", base)
	case !index.valid():
		m.err = fmt.Sprintf("invalid index register %d", index)
	case index == RSP:
		m.err = "rsp cannot be an index register"
	case scale != 1 && scale != 2 && scale != 4 && scale != 8:
		m.err = fmt.Sprintf("scale %d is not 1, 2, 4 or 8", scale)
	}
	return m
}

// MAbs is [disp32], an absolute address sign-extended to 64 bits (SIB form
// without base, since ModRM's own no-base form means RIP-relative in 64-bit mode).
func MAbs(disp int32) Mem { return Mem{base: noReg, index: noReg, disp: disp, set: true} }

// RIP is [rip+label].
func RIP(l *Label) Mem {
	m := Mem{base: noReg, index: noReg, label: l, rip: true, set: true}
	if l == nil {
		m.err = "nil label"
	}
	return m
}

// RIPSym is [rip+symbol]; the symbol may be in another section.
func RIPSym(name string) Mem {
	m := Mem{base: noReg, index: noReg, sym: name, rip: true, set: true}
	if name == "" {
		m.err = "empty symbol name"
	}
	return m
}

// Off returns m with d added to its displacement (for RIP forms: to the target).
func (m Mem) Off(d int32) Mem {
	m.disp += d
	return m
}

func (m Mem) String() string {
	if !m.set {
		return "Mem{}"
	}
	var sb strings.Builder
	sb.WriteByte('[')
	switch {
	case m.rip && m.label != nil:
		sb.WriteString("rip+" + m.label.name)
	case m.rip:
		sb.WriteString("rip+" + m.sym)
	default:
		sep := ""
		if m.base != noReg {
			sb.WriteString(m.base.String())
			sep = "+"
		}
		if m.index != noReg {
			fmt.Fprintf(&sb, "%s%s*%d", sep, m.index, m.scale)
			sep = "+"
		}
		if sep == "" {
			fmt.Fprintf(&sb, "%#x", m.disp)
			sb.WriteByte(']')
			return sb.String()
		}
	}
	if m.disp != 0 {
		fmt.Fprintf(&sb, "%+#x", m.disp)
	}
	sb.WriteByte(']')
	return sb.String()
}

func operandString(o Operand, sz Size) string {
	switch o := o.(type) {
	case nil:
		return "<nil>"
	case Reg:
		if sz.valid() {
			return o.Name(sz)
		}
		return o.String()
	case XReg:
		return o.String()
	case Mem:
		return o.String()
	case Imm:
		return fmt.Sprintf("%#x", int64(o))
	}
	return fmt.Sprintf("%v", o)
}
