package emitter

// Low-level encoding: legacy prefixes, REX, opcode, ModRM/SIB/disp, immediate.
// Instruction methods validate operands first, then describe the instruction
// as an enc and call encode, which cannot fail.

// rmArg is the r/m operand: a register (GPR or XMM number) or memory.
type rmArg struct {
	isReg bool
	reg   byte
	mem   Mem
}

func rmReg(r Reg) rmArg   { return rmArg{isReg: true, reg: byte(r)} }
func rmXReg(x XReg) rmArg { return rmArg{isReg: true, reg: byte(x)} }
func rmMem(m Mem) rmArg   { return rmArg{mem: m} }

// enc describes one ModRM-based (or opcode-only) instruction.
type enc struct {
	lock   bool
	opsize bool // 0x66 operand-size prefix
	mand   byte // mandatory SSE prefix (0x66, 0xF3), emitted after the others and before REX
	w      bool // REX.W
	rex    bool // force a REX prefix (SPL/BPL/SIL/DIL)
	op     [3]byte
	nop    int
	noRM   bool // no ModRM byte: register in the opcode's low bits (opReg)
	opReg  byte // register number added to the last opcode byte when noRM
	reg    byte // ModRM.reg: register number or /digit
	rm     rmArg
	immLen int
	imm    int64
}

func (e *enc) opcode(ops ...byte) {
	e.nop = copy(e.op[:], ops)
}

// sized sets the operand-size prefix or REX.W for sz.
func (e *enc) sized(sz Size) {
	switch sz {
	case S16:
		e.opsize = true
	case S64:
		e.w = true
	}
}

// byteRegs forces REX when an 8-bit register operand is SPL, BPL, SIL or DIL,
// which without REX would mean AH, CH, DH, BH.
func (e *enc) byteReg(r Reg) {
	if r >= RSP && r <= RDI {
		e.rex = true
	}
}

// encode appends the instruction to b.buf and records a fixup for a
// RIP-relative operand. It returns the instruction's start position.
func (b *Builder) encode(e *enc) int {
	start := len(b.buf)
	buf := b.buf
	if e.opsize { // 66 before F0, as GNU as orders them
		buf = append(buf, 0x66)
	}
	if e.lock {
		buf = append(buf, 0xf0)
	}
	if e.mand != 0 {
		buf = append(buf, e.mand)
	}
	var rex byte
	if e.w {
		rex |= 8
	}
	if e.noRM {
		rex |= e.opReg >> 3 & 1
	} else {
		rex |= (e.reg >> 3 & 1) << 2
		if e.rm.isReg {
			rex |= e.rm.reg >> 3 & 1
		} else {
			m := e.rm.mem
			if m.index != noReg {
				rex |= m.index.hi() << 1
			}
			if m.base != noReg {
				rex |= m.base.hi()
			}
		}
	}
	if rex != 0 || e.rex {
		buf = append(buf, 0x40|rex)
	}
	buf = append(buf, e.op[:e.nop]...)
	if e.noRM {
		buf[len(buf)-1] += e.opReg & 7
	}
	fixPos := -1
	if !e.noRM {
		reg := (e.reg & 7) << 3
		if e.rm.isReg {
			buf = append(buf, 0xc0|reg|e.rm.reg&7)
		} else {
			buf, fixPos = appendMem(buf, reg, e.rm.mem)
		}
	}
	switch e.immLen {
	case 0:
	case 1:
		buf = append(buf, byte(e.imm))
	case 2:
		buf = append(buf, byte(e.imm), byte(e.imm>>8))
	case 4:
		buf = append(buf, byte(e.imm), byte(e.imm>>8), byte(e.imm>>16), byte(e.imm>>24))
	case 8:
		for i := 0; i < 8; i++ {
			buf = append(buf, byte(e.imm>>(8*i)))
		}
	default:
		bug("immediate length %d", e.immLen)
	}
	b.buf = buf
	if fixPos >= 0 {
		m := e.rm.mem
		f := fixup{pos: fixPos, end: len(buf), kind: fixRel32, label: m.label, sym: m.sym, addend: int64(m.disp)}
		if m.label == nil {
			f.at = b.p.here()
		}
		b.fixups = append(b.fixups, f)
	}
	b.insts = append(b.insts, span{start, len(buf)})
	return start
}

// appendMem appends ModRM (with reg already shifted into bits 3..5), SIB and
// displacement. For RIP-relative operands it returns the position of the
// disp32 field to fix up, else -1.
func appendMem(buf []byte, reg byte, m Mem) ([]byte, int) {
	switch {
	case m.rip:
		buf = append(buf, reg|0b101)
		pos := len(buf)
		return append(buf, 0, 0, 0, 0), pos
	case m.base == noReg:
		// [disp32] needs SIB with base=101 and index=100 (none); the plain
		// ModRM rm=101 form would be RIP-relative.
		buf = append(buf, reg|0b100, 0b00_100_101)
		return appendLE32(buf, m.disp), -1
	}
	var mod byte
	switch {
	case m.disp == 0 && m.base.low3() != 0b101:
		mod = 0 // RBP/R13 with mod 00 would mean RIP/disp32, so they take disp8 0
	case m.disp >= -128 && m.disp <= 127:
		mod = 0b01
	default:
		mod = 0b10
	}
	if m.index != noReg {
		buf = append(buf, mod<<6|reg|0b100, scaleBits(m.scale)<<6|m.index.low3()<<3|m.base.low3())
	} else if m.base.low3() == 0b100 {
		// RSP/R12 as rm means "SIB follows"; index 100 means none.
		buf = append(buf, mod<<6|reg|0b100, 0b00_100_100)
	} else {
		buf = append(buf, mod<<6|reg|m.base.low3())
	}
	switch mod {
	case 0b01:
		buf = append(buf, byte(int8(m.disp)))
	case 0b10:
		buf = appendLE32(buf, m.disp)
	}
	return buf, -1
}

func scaleBits(s uint8) byte {
	switch s {
	case 1:
		return 0
	case 2:
		return 1
	case 4:
		return 2
	case 8:
		return 3
	}
	bug("scale %d", s)
	return 0
}

func appendLE32(buf []byte, v int32) []byte {
	return append(buf, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}

// immFits reports whether v fits an immediate field of sz bytes, accepting
// both signed and unsigned spellings (0xff and -1 for S8). S64 fields are
// imm32 sign-extended, so only int32 values fit.
func immFits(v int64, sz Size) bool {
	switch sz {
	case S8:
		return v >= -1<<7 && v < 1<<8
	case S16:
		return v >= -1<<15 && v < 1<<16
	case S32:
		return v >= -1<<31 && v < 1<<32
	case S64:
		return v >= -1<<31 && v < 1<<31
	}
	return false
}

// fitsImm8 reports whether v, read at width sz, is a sign-extended imm8.
func fitsImm8(v int64, sz Size) bool {
	switch sz {
	case S16:
		v = int64(int16(v))
	case S32:
		v = int64(int32(v))
	}
	return v >= -128 && v <= 127
}

// immLen is the length of a full-size immediate for sz (imm32 for S64).
func immLen(sz Size) int {
	if sz == S64 {
		return 4
	}
	return int(sz)
}
