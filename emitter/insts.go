package emitter

import (
	"fmt"
	"strings"
)

// Instruction methods. Operand order is Intel's: destination first. Each
// method validates its operands, records an error and emits nothing if they
// are invalid, and otherwise emits exactly one instruction.

func (b *Builder) bad(name string, sz Size, why string, ops ...Operand) {
	var parts []string
	for _, o := range ops {
		parts = append(parts, operandString(o, sz))
	}
	desc := name
	if sz != 0 {
		desc += " " + sz.String()
	}
	if len(parts) > 0 {
		desc += " " + strings.Join(parts, ", ")
	}
	b.p.errorf(ErrInvalidOperands, "%s: %s", desc, why)
}

func (b *Builder) memOK(name string, m Mem) bool {
	switch {
	case !m.set:
		b.p.errorf(ErrInvalidOperands, "%s: zero Mem; use M, MIdx, MAbs, RIP or RIPSym", name)
		return false
	case m.err != "":
		b.p.errorf(ErrInvalidOperands, "%s: %s", name, m.err)
		return false
	case m.label != nil && m.label.prog != b.p:
		b.p.errorf(ErrForeignLabel, "%s: label %q", name, m.label.name)
		return false
	}
	return true
}

// opsOK checks registers and memory references of every operand.
func (b *Builder) opsOK(name string, sz Size, ops ...Operand) bool {
	for _, o := range ops {
		switch o := o.(type) {
		case Reg:
			if !o.valid() {
				b.bad(name, sz, fmt.Sprintf("invalid register %d", uint8(o)), ops...)
				return false
			}
		case XReg:
			if !o.valid() {
				b.bad(name, sz, fmt.Sprintf("invalid xmm register %d", uint8(o)), ops...)
				return false
			}
		case Mem:
			if !b.memOK(name, o) {
				return false
			}
		case Imm:
		default:
			b.bad(name, sz, "unsupported operand type", ops...)
			return false
		}
	}
	return true
}

// sizeOK checks sz against the sizes an instruction allows.
func (b *Builder) sizeOK(name string, sz Size, allowed ...Size) bool {
	for _, a := range allowed {
		if sz == a {
			return true
		}
	}
	b.p.errorf(ErrInvalidOperands, "%s: size %v not allowed", name, sz)
	return false
}

var allSizes = []Size{S8, S16, S32, S64}

// rmOf converts a Reg or Mem operand to an r/m argument.
func rmOf(o Operand) (rmArg, bool) {
	switch o := o.(type) {
	case Reg:
		return rmReg(o), true
	case Mem:
		return rmMem(o), true
	}
	return rmArg{}, false
}

// opRM emits a sized "op reg, r/m" with the S8 opcode op8 and the wider one op8+1.
func (b *Builder) opRM(sz Size, op8 byte, reg Reg, rm rmArg) {
	e := enc{reg: byte(reg), rm: rm}
	e.sized(sz)
	if sz == S8 {
		e.opcode(op8)
		e.byteReg(reg)
		if rm.isReg {
			e.byteReg(Reg(rm.reg))
		}
	} else {
		e.opcode(op8 + 1)
	}
	b.encode(&e)
}

// opDigit emits a sized "op /digit r/m" with optional immediate.
func (b *Builder) opDigit(sz Size, op8, op byte, digit byte, rm rmArg, immLen int, imm int64) {
	e := enc{reg: digit, rm: rm, immLen: immLen, imm: imm}
	e.sized(sz)
	if sz == S8 {
		e.opcode(op8)
		if rm.isReg {
			e.byteReg(Reg(rm.reg))
		}
	} else {
		e.opcode(op)
	}
	b.encode(&e)
}

// alu emits the classic two-operand ALU group (digit n: add 0, or 1, and 4,
// sub 5, xor 6, cmp 7).
func (b *Builder) alu(name string, n byte, sz Size, dst, src Operand) {
	if !b.sizeOK(name, sz, allSizes...) || !b.opsOK(name, sz, dst, src) {
		return
	}
	switch s := src.(type) {
	case Reg:
		if rm, ok := rmOf(dst); ok {
			b.opRM(sz, n<<3, s, rm)
			return
		}
	case Mem:
		if d, ok := dst.(Reg); ok {
			b.opRM(sz, n<<3|2, d, rmMem(s))
			return
		}
	case Imm:
		rm, ok := rmOf(dst)
		if !ok {
			break
		}
		v := int64(s)
		if !immFits(v, sz) {
			b.p.errorf(ErrImmRange, "%s %v %s, %#x: immediate does not fit", name, sz, operandString(dst, sz), v)
			return
		}
		switch {
		case sz == S8 && rm.isReg && rm.reg == byte(RAX):
			b.encode(&enc{op: [3]byte{n<<3 | 4}, nop: 1, noRM: true, immLen: 1, imm: v})
		case sz != S8 && fitsImm8(v, sz):
			b.opDigit(sz, 0x80, 0x83, n, rm, 1, v)
		case rm.isReg && rm.reg == byte(RAX):
			e := enc{noRM: true, immLen: immLen(sz), imm: v}
			e.sized(sz)
			e.opcode(n<<3 | 5)
			b.encode(&e)
		default:
			b.opDigit(sz, 0x80, 0x81, n, rm, immLen(sz), v)
		}
		return
	}
	b.bad(name, sz, "unsupported operand combination", dst, src)
}

func (b *Builder) Add(sz Size, dst, src Operand) { b.alu("add", 0, sz, dst, src) }
func (b *Builder) Or(sz Size, dst, src Operand)  { b.alu("or", 1, sz, dst, src) }
func (b *Builder) Adc(sz Size, dst, src Operand) { b.alu("adc", 2, sz, dst, src) }
func (b *Builder) Sbb(sz Size, dst, src Operand) { b.alu("sbb", 3, sz, dst, src) }
func (b *Builder) And(sz Size, dst, src Operand) { b.alu("and", 4, sz, dst, src) }
func (b *Builder) Sub(sz Size, dst, src Operand) { b.alu("sub", 5, sz, dst, src) }
func (b *Builder) Xor(sz Size, dst, src Operand) { b.alu("xor", 6, sz, dst, src) }
func (b *Builder) Cmp(sz Size, dst, src Operand) { b.alu("cmp", 7, sz, dst, src) }

// Test forms: r/r, m/r, r/imm, m/imm.
func (b *Builder) Test(sz Size, dst, src Operand) {
	const name = "test"
	if !b.sizeOK(name, sz, allSizes...) || !b.opsOK(name, sz, dst, src) {
		return
	}
	rm, ok := rmOf(dst)
	if ok {
		switch s := src.(type) {
		case Reg:
			b.opRM(sz, 0x84, s, rm)
			return
		case Imm:
			v := int64(s)
			if !immFits(v, sz) {
				b.p.errorf(ErrImmRange, "test %v %s, %#x: immediate does not fit", sz, operandString(dst, sz), v)
				return
			}
			if rm.isReg && rm.reg == byte(RAX) {
				e := enc{noRM: true, immLen: immLen(sz), imm: v}
				e.sized(sz)
				e.opcode(0xa8)
				if sz != S8 {
					e.opcode(0xa9)
				}
				b.encode(&e)
				return
			}
			b.opDigit(sz, 0xf6, 0xf7, 0, rm, immLen(sz), v)
			return
		}
	}
	b.bad(name, sz, "unsupported operand combination", dst, src)
}

// Mov forms: r/r, r/m, m/r, r/imm, m/imm (S64 immediates are imm32
// sign-extended; use MovImm64 for wider values).
func (b *Builder) Mov(sz Size, dst, src Operand) {
	const name = "mov"
	if !b.sizeOK(name, sz, allSizes...) || !b.opsOK(name, sz, dst, src) {
		return
	}
	switch s := src.(type) {
	case Reg:
		if rm, ok := rmOf(dst); ok {
			b.opRM(sz, 0x88, s, rm)
			return
		}
	case Mem:
		if d, ok := dst.(Reg); ok {
			b.opRM(sz, 0x8a, d, rmMem(s))
			return
		}
	case Imm:
		rm, ok := rmOf(dst)
		if !ok {
			break
		}
		v := int64(s)
		if !immFits(v, sz) {
			b.p.errorf(ErrImmRange, "mov %v %s, %#x: immediate does not fit", sz, operandString(dst, sz), v)
			return
		}
		if rm.isReg && sz != S64 {
			// B0+r / B8+r: the short register form for 8/16/32 bits.
			e := enc{noRM: true, opReg: rm.reg, immLen: int(sz), imm: v}
			e.sized(sz)
			if sz == S8 {
				e.opcode(0xb0)
				e.byteReg(Reg(rm.reg))
			} else {
				e.opcode(0xb8)
			}
			b.encode(&e)
			return
		}
		b.opDigit(sz, 0xc6, 0xc7, 0, rm, immLen(sz), v)
		return
	}
	b.bad(name, sz, "unsupported operand combination", dst, src)
}

// MovImm64 is movabs r64, imm64.
func (b *Builder) MovImm64(dst Reg, v uint64) {
	if !b.opsOK("movabs", S64, dst) {
		return
	}
	b.encode(&enc{w: true, op: [3]byte{0xb8}, nop: 1, noRM: true, opReg: byte(dst), immLen: 8, imm: int64(v)})
}

// MovAbs is movabs r64, &sym+addend (an abs64 relocation resolved by Link).
func (b *Builder) MovAbs(dst Reg, sym string, addend int64) {
	if !b.opsOK("movabs", S64, dst) {
		return
	}
	if sym == "" {
		b.p.errorf(ErrInvalidOperands, "movabs: empty symbol name")
		return
	}
	b.MovImm64(dst, 0)
	end := len(b.buf)
	b.addFixup(fixup{pos: end - 8, end: end, kind: fixAbs64, sym: sym, addend: addend, at: b.p.here()})
}

// MovAbsLabel is movabs r64, &label (an abs64 relocation resolved by Link).
func (b *Builder) MovAbsLabel(dst Reg, l *Label) {
	if !b.opsOK("movabs", S64, dst) || !b.checkLabel(l) {
		return
	}
	b.MovImm64(dst, 0)
	end := len(b.buf)
	b.addFixup(fixup{pos: end - 8, end: end, kind: fixAbs64, label: l})
}

// MovZX zero-extends an S8/S16 source into a wider register.
func (b *Builder) MovZX(dsz Size, dst Reg, ssz Size, src Operand) {
	b.movx("movzx", 0xb6, dsz, dst, ssz, src)
}

// MovSX sign-extends an S8/S16/S32 source (S32 to S64 is movsxd).
func (b *Builder) MovSX(dsz Size, dst Reg, ssz Size, src Operand) {
	if ssz == S32 {
		if dsz != S64 || !b.opsOK("movsxd", dsz, dst, src) {
			if dsz != S64 {
				b.p.errorf(ErrInvalidOperands, "movsxd: destination size %v, want S64", dsz)
			}
			return
		}
		rm, ok := rmOf(src)
		if !ok {
			b.bad("movsxd", dsz, "source must be a register or memory", dst, src)
			return
		}
		e := enc{w: true, reg: byte(dst), rm: rm}
		e.opcode(0x63)
		b.encode(&e)
		return
	}
	b.movx("movsx", 0xbe, dsz, dst, ssz, src)
}

func (b *Builder) movx(name string, op byte, dsz Size, dst Reg, ssz Size, src Operand) {
	if !b.opsOK(name, dsz, dst, src) {
		return
	}
	if (ssz != S8 && ssz != S16) || dsz <= ssz || !dsz.valid() {
		b.p.errorf(ErrInvalidOperands, "%s: sizes %v <- %v", name, dsz, ssz)
		return
	}
	rm, ok := rmOf(src)
	if !ok {
		b.bad(name, dsz, "source must be a register or memory", dst, src)
		return
	}
	e := enc{reg: byte(dst), rm: rm}
	e.sized(dsz)
	if ssz == S8 {
		e.opcode(0x0f, op)
		if rm.isReg {
			e.byteReg(Reg(rm.reg))
		}
	} else {
		e.opcode(0x0f, op+1)
	}
	b.encode(&e)
}

// Lea is lea r64, m.
func (b *Builder) Lea(dst Reg, m Mem) { b.LeaSz(S64, dst, m) }

// LeaSz is lea with a 16/32/64-bit destination.
func (b *Builder) LeaSz(sz Size, dst Reg, m Mem) {
	if !b.sizeOK("lea", sz, S16, S32, S64) || !b.opsOK("lea", sz, dst, m) {
		return
	}
	e := enc{reg: byte(dst), rm: rmMem(m)}
	e.sized(sz)
	e.opcode(0x8d)
	b.encode(&e)
}

func (b *Builder) unary(name string, op8, op, digit byte, sz Size, dst Operand) {
	if !b.sizeOK(name, sz, allSizes...) || !b.opsOK(name, sz, dst) {
		return
	}
	rm, ok := rmOf(dst)
	if !ok {
		b.bad(name, sz, "operand must be a register or memory", dst)
		return
	}
	b.opDigit(sz, op8, op, digit, rm, 0, 0)
}

func (b *Builder) Inc(sz Size, dst Operand) { b.unary("inc", 0xfe, 0xff, 0, sz, dst) }
func (b *Builder) Dec(sz Size, dst Operand) { b.unary("dec", 0xfe, 0xff, 1, sz, dst) }
func (b *Builder) Not(sz Size, dst Operand) { b.unary("not", 0xf6, 0xf7, 2, sz, dst) }
func (b *Builder) Neg(sz Size, dst Operand) { b.unary("neg", 0xf6, 0xf7, 3, sz, dst) }

// Mul is unsigned rdx:rax = rax * src.
func (b *Builder) Mul(sz Size, src Operand) { b.unary("mul", 0xf6, 0xf7, 4, sz, src) }

// Div is unsigned rax, rdx = rdx:rax / src.
func (b *Builder) Div(sz Size, src Operand) { b.unary("div", 0xf6, 0xf7, 6, sz, src) }

// Idiv is signed rax, rdx = rdx:rax / src.
func (b *Builder) Idiv(sz Size, src Operand) { b.unary("idiv", 0xf6, 0xf7, 7, sz, src) }

// Cdq sign-extends eax into edx; Cqo sign-extends rax into rdx.
func (b *Builder) Cdq() { b.encode(&enc{op: [3]byte{0x99}, nop: 1, noRM: true}) }
func (b *Builder) Cqo() { b.encode(&enc{w: true, op: [3]byte{0x99}, nop: 1, noRM: true}) }

// Imul is imul r, r/m (16/32/64-bit).
func (b *Builder) Imul(sz Size, dst Reg, src Operand) {
	if !b.sizeOK("imul", sz, S16, S32, S64) || !b.opsOK("imul", sz, dst, src) {
		return
	}
	rm, ok := rmOf(src)
	if !ok {
		b.bad("imul", sz, "source must be a register or memory", dst, src)
		return
	}
	e := enc{reg: byte(dst), rm: rm}
	e.sized(sz)
	e.opcode(0x0f, 0xaf)
	b.encode(&e)
}

// ImulImm is imul r, r/m, imm (imm8 form when it fits).
func (b *Builder) ImulImm(sz Size, dst Reg, src Operand, imm int32) {
	if !b.sizeOK("imul", sz, S16, S32, S64) || !b.opsOK("imul", sz, dst, src) {
		return
	}
	rm, ok := rmOf(src)
	if !ok {
		b.bad("imul", sz, "source must be a register or memory", dst, src)
		return
	}
	v := int64(imm)
	if sz == S16 && !immFits(v, S16) {
		b.p.errorf(ErrImmRange, "imul S16: immediate %#x does not fit", v)
		return
	}
	e := enc{reg: byte(dst), rm: rm, imm: v}
	e.sized(sz)
	if fitsImm8(v, sz) {
		e.opcode(0x6b)
		e.immLen = 1
	} else {
		e.opcode(0x69)
		e.immLen = immLen(sz)
	}
	b.encode(&e)
}

func (b *Builder) shift(name string, digit byte, sz Size, dst Operand, count uint8) {
	if !b.sizeOK(name, sz, allSizes...) || !b.opsOK(name, sz, dst) {
		return
	}
	rm, ok := rmOf(dst)
	if !ok {
		b.bad(name, sz, "operand must be a register or memory", dst)
		return
	}
	max := uint8(31)
	if sz == S64 {
		max = 63
	}
	if count > max {
		b.p.errorf(ErrImmRange, "%s %v: count %d > %d", name, sz, count, max)
		return
	}
	if count == 1 {
		b.opDigit(sz, 0xd0, 0xd1, digit, rm, 0, 0)
		return
	}
	b.opDigit(sz, 0xc0, 0xc1, digit, rm, 1, int64(count))
}

func (b *Builder) shiftCL(name string, digit byte, sz Size, dst Operand) {
	if !b.sizeOK(name, sz, allSizes...) || !b.opsOK(name, sz, dst) {
		return
	}
	rm, ok := rmOf(dst)
	if !ok {
		b.bad(name, sz, "operand must be a register or memory", dst)
		return
	}
	b.opDigit(sz, 0xd2, 0xd3, digit, rm, 0, 0)
}

func (b *Builder) Shl(sz Size, dst Operand, count uint8) { b.shift("shl", 4, sz, dst, count) }
func (b *Builder) Shr(sz Size, dst Operand, count uint8) { b.shift("shr", 5, sz, dst, count) }
func (b *Builder) Sar(sz Size, dst Operand, count uint8) { b.shift("sar", 7, sz, dst, count) }
func (b *Builder) ShlCL(sz Size, dst Operand)            { b.shiftCL("shl", 4, sz, dst) }
func (b *Builder) ShrCL(sz Size, dst Operand)            { b.shiftCL("shr", 5, sz, dst) }
func (b *Builder) SarCL(sz Size, dst Operand)            { b.shiftCL("sar", 7, sz, dst) }

// Push forms: r64, imm (imm8 or imm32 sign-extended), m64.
func (b *Builder) Push(src Operand) {
	if !b.opsOK("push", S64, src) {
		return
	}
	switch s := src.(type) {
	case Reg:
		b.encode(&enc{op: [3]byte{0x50}, nop: 1, noRM: true, opReg: byte(s)})
	case Imm:
		v := int64(s)
		switch {
		case v >= -128 && v <= 127:
			b.encode(&enc{op: [3]byte{0x6a}, nop: 1, noRM: true, immLen: 1, imm: v})
		case immFits(v, S64):
			b.encode(&enc{op: [3]byte{0x68}, nop: 1, noRM: true, immLen: 4, imm: v})
		default:
			b.p.errorf(ErrImmRange, "push %#x: immediate does not fit imm32", v)
		}
	case Mem:
		b.encode(&enc{op: [3]byte{0xff}, nop: 1, reg: 6, rm: rmMem(s)})
	default:
		b.bad("push", 0, "unsupported operand", src)
	}
}

// Pop forms: r64, m64.
func (b *Builder) Pop(dst Operand) {
	if !b.opsOK("pop", S64, dst) {
		return
	}
	switch d := dst.(type) {
	case Reg:
		b.encode(&enc{op: [3]byte{0x58}, nop: 1, noRM: true, opReg: byte(d)})
	case Mem:
		b.encode(&enc{op: [3]byte{0x8f}, nop: 1, reg: 0, rm: rmMem(d)})
	default:
		b.bad("pop", 0, "unsupported operand", dst)
	}
}

// branchTarget classifies a Call/Jmp target.
func (b *Builder) indirect(name string, digit byte, t any) {
	switch t := t.(type) {
	case Reg:
		if !b.opsOK(name, S64, t) {
			return
		}
		// FF /digit without REX.W: jmp rax is FF E0, jmp r8 is 41 FF E0.
		b.encode(&enc{op: [3]byte{0xff}, nop: 1, reg: digit, rm: rmReg(t)})
	case Mem:
		if !b.opsOK(name, S64, t) {
			return
		}
		b.encode(&enc{op: [3]byte{0xff}, nop: 1, reg: digit, rm: rmMem(t)})
	default:
		b.p.errorf(ErrInvalidOperands, "%s: unsupported target %T", name, t)
	}
}

// rel32 emits opcode bytes followed by a rel32 fixup to a label or symbol.
func (b *Builder) rel32(l *Label, sym string, ops ...byte) {
	e := enc{noRM: true, immLen: 4}
	e.opcode(ops...)
	b.encode(&e)
	end := len(b.buf)
	f := fixup{pos: end - 4, end: end, kind: fixRel32, label: l, sym: sym}
	if l == nil {
		f.at = b.p.here()
	}
	b.fixups = append(b.fixups, f)
}

// Call: *Label or Sym -> call rel32; Reg or Mem -> call *r/m.
func (b *Builder) Call(t any) {
	switch t := t.(type) {
	case *Label:
		if b.checkLabel(t) {
			b.rel32(t, "", 0xe8)
		}
	case Sym:
		if t == "" {
			b.p.errorf(ErrInvalidOperands, "call: empty symbol")
			return
		}
		b.rel32(nil, string(t), 0xe8)
	default:
		b.indirect("call", 2, t)
	}
}

// Jmp: *Label -> jmp rel32, relaxed to rel8 when the label is in this
// section and near; Sym -> jmp rel32; Reg or Mem -> jmp *r/m.
func (b *Builder) Jmp(t any) {
	switch t := t.(type) {
	case *Label:
		if b.checkLabel(t) {
			b.branch(t, -1)
		}
	case Sym:
		if t == "" {
			b.p.errorf(ErrInvalidOperands, "jmp: empty symbol")
			return
		}
		b.rel32(nil, string(t), 0xe9)
	default:
		b.indirect("jmp", 4, t)
	}
}

// Jcc is a conditional jump to l (relaxed like Jmp).
func (b *Builder) Jcc(c Cond, l *Label) {
	if !c.valid() {
		b.p.errorf(ErrInvalidOperands, "jcc: invalid condition %d", c)
		return
	}
	if b.checkLabel(l) {
		b.branch(l, int(c))
	}
}

// branch emits the rel32 form and records it as a relaxation candidate.
func (b *Builder) branch(l *Label, cond int) {
	pos := len(b.buf)
	if cond < 0 {
		b.rel32(l, "", 0xe9)
	} else {
		b.rel32(l, "", 0x0f, 0x80|byte(cond))
	}
	b.items = append(b.items, item{kind: itemBranch, pos: pos, bufLen: len(b.buf) - pos, label: l, cond: cond, fix: len(b.fixups) - 1})
}

// Setcc sets an 8-bit register or memory byte to the condition.
func (b *Builder) Setcc(c Cond, dst Operand) {
	if !c.valid() {
		b.p.errorf(ErrInvalidOperands, "setcc: invalid condition %d", c)
		return
	}
	if !b.opsOK("set"+c.String(), S8, dst) {
		return
	}
	rm, ok := rmOf(dst)
	if !ok {
		b.bad("set"+c.String(), S8, "operand must be a register or memory", dst)
		return
	}
	e := enc{rm: rm}
	e.opcode(0x0f, 0x90|byte(c))
	if rm.isReg {
		e.byteReg(Reg(rm.reg))
	}
	b.encode(&e)
}

// Cmovcc is cmovcc r, r/m (16/32/64-bit).
func (b *Builder) Cmovcc(c Cond, sz Size, dst Reg, src Operand) {
	if !c.valid() {
		b.p.errorf(ErrInvalidOperands, "cmovcc: invalid condition %d", c)
		return
	}
	name := "cmov" + c.String()
	if !b.sizeOK(name, sz, S16, S32, S64) || !b.opsOK(name, sz, dst, src) {
		return
	}
	rm, ok := rmOf(src)
	if !ok {
		b.bad(name, sz, "source must be a register or memory", dst, src)
		return
	}
	e := enc{reg: byte(dst), rm: rm}
	e.sized(sz)
	e.opcode(0x0f, 0x40|byte(c))
	b.encode(&e)
}

func (b *Builder) simple(ops ...byte) {
	e := enc{noRM: true}
	e.opcode(ops...)
	b.encode(&e)
}

func (b *Builder) Ret()    { b.simple(0xc3) }
func (b *Builder) Pushfq() { b.simple(0x9c) }
func (b *Builder) Popfq()  { b.simple(0x9d) }
func (b *Builder) Int3()   { b.simple(0xcc) }
func (b *Builder) Ud2()    { b.simple(0x0f, 0x0b) }
func (b *Builder) Hlt()    { b.simple(0xf4) }
func (b *Builder) Mfence() { b.simple(0x0f, 0xae, 0xf0) }
func (b *Builder) Rdtsc()  { b.simple(0x0f, 0x31) } // EDX:EAX = time stamp counter

func (b *Builder) lockOp(name string, op8 byte, sz Size, dst Mem, src Reg) {
	if !b.sizeOK(name, sz, allSizes...) || !b.opsOK(name, sz, dst, src) {
		return
	}
	e := enc{lock: true, reg: byte(src), rm: rmMem(dst)}
	e.sized(sz)
	if sz == S8 {
		e.opcode(0x0f, op8)
		e.byteReg(src)
	} else {
		e.opcode(0x0f, op8+1)
	}
	b.encode(&e)
}

// LockCmpxchg is lock cmpxchg m, r.
func (b *Builder) LockCmpxchg(sz Size, dst Mem, src Reg) {
	b.lockOp("lock cmpxchg", 0xb0, sz, dst, src)
}

// LockXadd is lock xadd m, r.
func (b *Builder) LockXadd(sz Size, dst Mem, src Reg) { b.lockOp("lock xadd", 0xc0, sz, dst, src) }

// Xchg is xchg r/m, r (90+r when one register is the accumulator, as GNU as does).
func (b *Builder) Xchg(sz Size, dst Operand, src Reg) {
	if !b.sizeOK("xchg", sz, allSizes...) || !b.opsOK("xchg", sz, dst, src) {
		return
	}
	rm, ok := rmOf(dst)
	if !ok {
		b.bad("xchg", sz, "destination must be a register or memory", dst, src)
		return
	}
	if rm.isReg && sz != S8 {
		other := -1
		switch {
		case src == RAX:
			other = int(rm.reg)
		case Reg(rm.reg) == RAX:
			other = int(src)
		}
		// xchg eax, eax must not become 90 (nop, which doesn't zero-extend).
		if other >= 0 && !(other == int(RAX) && sz == S32) {
			e := enc{noRM: true, opReg: byte(other)}
			e.sized(sz)
			e.opcode(0x90)
			b.encode(&e)
			return
		}
	}
	b.opRM(sz, 0x86, src, rm)
}

func (b *Builder) sse(name string, mand byte, dst, src Operand) {
	if !b.opsOK(name, 0, dst, src) {
		return
	}
	switch d := dst.(type) {
	case XReg:
		switch s := src.(type) {
		case XReg:
			b.encode(&enc{mand: mand, op: [3]byte{0x0f, 0x6f}, nop: 2, reg: byte(d), rm: rmXReg(s)})
			return
		case Mem:
			b.encode(&enc{mand: mand, op: [3]byte{0x0f, 0x6f}, nop: 2, reg: byte(d), rm: rmMem(s)})
			return
		}
	case Mem:
		if s, ok := src.(XReg); ok {
			b.encode(&enc{mand: mand, op: [3]byte{0x0f, 0x7f}, nop: 2, reg: byte(s), rm: rmMem(d)})
			return
		}
	}
	b.bad(name, 0, "unsupported operand combination", dst, src)
}

// Movdqu: xmm <- xmm|m128, m128 <- xmm (unaligned).
func (b *Builder) Movdqu(dst, src Operand) { b.sse("movdqu", 0xf3, dst, src) }

// Movdqa: as Movdqu but memory must be 16-byte aligned.
func (b *Builder) Movdqa(dst, src Operand) { b.sse("movdqa", 0x66, dst, src) }

// Pxor is pxor xmm, xmm (pxor x, x zeroes x).
func (b *Builder) Pxor(dst, src XReg) {
	if !b.opsOK("pxor", 0, dst, src) {
		return
	}
	b.encode(&enc{mand: 0x66, op: [3]byte{0x0f, 0xef}, nop: 2, reg: byte(dst), rm: rmXReg(src)})
}

// nops are the recommended multi-byte nops (Intel SDM, NOP).
var nops = [10][]byte{
	1: {0x90},
	2: {0x66, 0x90},
	3: {0x0f, 0x1f, 0x00},
	4: {0x0f, 0x1f, 0x40, 0x00},
	5: {0x0f, 0x1f, 0x44, 0x00, 0x00},
	6: {0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00},
	7: {0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00},
	8: {0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
	9: {0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
}

// Nop emits n bytes of nops: one instruction up to 9 bytes, more beyond.
func (b *Builder) Nop(n int) {
	if n < 1 {
		b.p.errorf(ErrInvalidOperands, "nop: length %d < 1", n)
		return
	}
	for n > 0 {
		k := min(n, 9)
		start := len(b.buf)
		b.buf = append(b.buf, nops[k]...)
		b.insts = append(b.insts, span{start, len(b.buf)})
		n -= k
	}
}

// MovFromSeg is `mov dst, s`: to a register the selector zero-extended to
// 32 bits (`mov r32, Sreg`), to memory the 16-bit selector (`mov m16, Sreg`).
func (b *Builder) MovFromSeg(dst Operand, s SegReg) {
	name := "mov from " + s.String()
	if !s.valid() {
		b.p.errorf(ErrInvalidOperands, "mov from segment register: invalid register %d", s)
		return
	}
	if !b.opsOK(name, 0, dst) {
		return
	}
	rm, ok := rmOf(dst)
	if !ok {
		b.bad(name, 0, "operand must be a register or memory", dst)
		return
	}
	e := enc{reg: byte(s), rm: rm}
	e.opcode(0x8c)
	b.encode(&e)
}

// memOp emits an instruction whose only operand is memory, encoded as
// the opcode bytes with /digit in ModRM.reg.
func (b *Builder) memOp(name string, m Mem, digit byte, ops ...byte) {
	if !b.opsOK(name, 0, m) {
		return
	}
	e := enc{reg: digit, rm: rmMem(m)}
	e.opcode(ops...)
	b.encode(&e)
}

// Fxsave stores the x87, MMX and SSE state (512 bytes, 16-byte aligned)
// at m, in the legacy (32-bit pointer) format.
func (b *Builder) Fxsave(m Mem) { b.memOp("fxsave", m, 0, 0x0f, 0xae) }

// Fxrstor loads the state Fxsave stored at m.
func (b *Builder) Fxrstor(m Mem) { b.memOp("fxrstor", m, 1, 0x0f, 0xae) }

// Ldmxcsr loads MXCSR from the 32 bits at m.
func (b *Builder) Ldmxcsr(m Mem) { b.memOp("ldmxcsr", m, 2, 0x0f, 0xae) }

// Stmxcsr stores MXCSR to the 32 bits at m.
func (b *Builder) Stmxcsr(m Mem) { b.memOp("stmxcsr", m, 3, 0x0f, 0xae) }

// Fldcw loads the x87 control word from the 16 bits at m.
func (b *Builder) Fldcw(m Mem) { b.memOp("fldcw", m, 5, 0xd9) }

// Fnstcw stores the x87 control word to the 16 bits at m (no wait).
func (b *Builder) Fnstcw(m Mem) { b.memOp("fnstcw", m, 7, 0xd9) }

// RetImm is `ret imm16`: return, then release n bytes of arguments.
func (b *Builder) RetImm(n uint16) {
	e := enc{noRM: true, immLen: 2, imm: int64(n)}
	e.opcode(0xc2)
	b.encode(&e)
}

// RepRet is `rep ret` (F3 C3), the two-byte return older compilers emit
// after a branch target.
func (b *Builder) RepRet() { b.simple(0xf3, 0xc3) }

// BndRet is `bnd ret` (F2 C3): a return with the REPNE prefix MPX reused.
func (b *Builder) BndRet() { b.simple(0xf2, 0xc3) }

// TailJmp is `rex.W jmp r` (48 FF /4): the redundant REX.W marks a jump
// out of the function for the Windows x64 unwinder (CoreCLR's TAILJMP_RAX).
func (b *Builder) TailJmp(r Reg) {
	if !b.opsOK("tailjmp", S64, r) {
		return
	}
	b.encode(&enc{w: true, op: [3]byte{0xff}, nop: 1, reg: 4, rm: rmReg(r)})
}

// Pause is the spin-wait hint (F3 90).
func (b *Builder) Pause() { b.simple(0xf3, 0x90) }
