package emitter

import (
	"testing"

	"golang.org/x/arch/x86/x86asm"
)

var (
	jccOps  = [16]x86asm.Op{x86asm.JO, x86asm.JNO, x86asm.JB, x86asm.JAE, x86asm.JE, x86asm.JNE, x86asm.JBE, x86asm.JA, x86asm.JS, x86asm.JNS, x86asm.JP, x86asm.JNP, x86asm.JL, x86asm.JGE, x86asm.JLE, x86asm.JG}
	setOps  = [16]x86asm.Op{x86asm.SETO, x86asm.SETNO, x86asm.SETB, x86asm.SETAE, x86asm.SETE, x86asm.SETNE, x86asm.SETBE, x86asm.SETA, x86asm.SETS, x86asm.SETNS, x86asm.SETP, x86asm.SETNP, x86asm.SETL, x86asm.SETGE, x86asm.SETLE, x86asm.SETG}
	cmovOps = [16]x86asm.Op{x86asm.CMOVO, x86asm.CMOVNO, x86asm.CMOVB, x86asm.CMOVAE, x86asm.CMOVE, x86asm.CMOVNE, x86asm.CMOVBE, x86asm.CMOVA, x86asm.CMOVS, x86asm.CMOVNS, x86asm.CMOVP, x86asm.CMOVNP, x86asm.CMOVL, x86asm.CMOVGE, x86asm.CMOVLE, x86asm.CMOVG}
	aluOps  = [8]x86asm.Op{x86asm.ADD, x86asm.OR, x86asm.ADC, x86asm.SBB, x86asm.AND, x86asm.SUB, x86asm.XOR, x86asm.CMP}
)

// gen turns fuzz bytes into a random valid sequence of builder calls.
type gen struct {
	data   []byte
	i      int
	b      *Builder
	dlab   *Label
	labels []*Label
	want   [][]x86asm.Op // per instruction, the accepted decoded operations
}

func (g *gen) u8() byte {
	if g.i >= len(g.data) {
		return 0
	}
	g.i++
	return g.data[g.i-1]
}

func (g *gen) u32() uint32 {
	return uint32(g.u8()) | uint32(g.u8())<<8 | uint32(g.u8())<<16 | uint32(g.u8())<<24
}

func (g *gen) reg() Reg { return Reg(g.u8() & 15) }

func (g *gen) size() Size { return [4]Size{S8, S16, S32, S64}[g.u8()&3] }

func (g *gen) wide() Size { return [3]Size{S16, S32, S64}[g.u8()%3] }

func (g *gen) disp() int32 {
	switch g.u8() % 3 {
	case 0:
		return 0
	case 1:
		return int32(int8(g.u8()))
	}
	return int32(g.u32())
}

func (g *gen) mem() Mem {
	switch g.u8() % 5 {
	case 0:
		return M(g.reg(), g.disp())
	case 1:
		idx := g.reg()
		if idx == RSP {
			idx = R12
		}
		return MIdx(g.reg(), idx, [4]uint8{1, 2, 4, 8}[g.u8()&3], g.disp())
	case 2:
		return RIP(g.dlab).Off(int32(int8(g.u8())))
	case 3:
		return MAbs(int32(g.u32() & 0x7fffffff))
	}
	return M(g.reg(), 0)
}

func (g *gen) rm() Operand {
	if g.u8()&1 == 0 {
		return g.reg()
	}
	return g.mem()
}

// imm returns an immediate that fits sz, often a short one.
func (g *gen) imm(sz Size) Imm {
	if g.u8()&1 == 0 || sz == S8 {
		return Imm(int8(g.u8()))
	}
	v := int64(int32(g.u32()))
	if sz == S16 {
		v = int64(int16(v))
	}
	return Imm(v)
}

func (g *gen) label() *Label {
	if len(g.labels) == 0 || g.u8()&3 == 0 {
		g.labels = append(g.labels, g.b.NewLabel("L"))
	}
	return g.labels[int(g.u8())%len(g.labels)]
}

func (g *gen) expect(ops ...x86asm.Op) { g.want = append(g.want, ops) }

func (g *gen) step() {
	b := g.b
	switch g.u8() % 30 {
	case 0:
		sz := g.size()
		dst := g.rm()
		if _, isMem := dst.(Mem); isMem {
			b.Mov(sz, dst, g.reg())
		} else {
			b.Mov(sz, dst, g.rm())
		}
		g.expect(x86asm.MOV)
	case 1:
		sz := g.size()
		b.Mov(sz, g.rm(), g.imm(sz))
		g.expect(x86asm.MOV)
	case 2, 3:
		n, sz := g.u8()&7, g.size()
		ops := []func(Size, Operand, Operand){b.Add, b.Or, b.Adc, b.Sbb, b.And, b.Sub, b.Xor, b.Cmp}
		switch g.u8() % 3 {
		case 0:
			ops[n](sz, g.rm(), g.reg())
		case 1:
			ops[n](sz, g.reg(), g.mem())
		default:
			ops[n](sz, g.rm(), g.imm(sz))
		}
		g.expect(aluOps[n])
	case 4:
		sz := g.size()
		if g.u8()&1 == 0 {
			b.Test(sz, g.rm(), g.reg())
		} else {
			b.Test(sz, g.rm(), g.imm(sz))
		}
		g.expect(x86asm.TEST)
	case 5:
		n := g.u8() & 3
		[]func(Size, Operand){b.Inc, b.Dec, b.Neg, b.Not}[n](g.size(), g.rm())
		g.expect([]x86asm.Op{x86asm.INC, x86asm.DEC, x86asm.NEG, x86asm.NOT}[n])
	case 6:
		sz := g.wide()
		if g.u8()&1 == 0 {
			b.Imul(sz, g.reg(), g.rm())
		} else {
			b.ImulImm(sz, g.reg(), g.rm(), int32(g.imm(sz)))
		}
		g.expect(x86asm.IMUL)
	case 7:
		n, sz := g.u8()%3, g.size()
		max := uint8(31)
		if sz == S64 {
			max = 63
		}
		if g.u8()&1 == 0 {
			[]func(Size, Operand, uint8){b.Shl, b.Shr, b.Sar}[n](sz, g.rm(), g.u8()%(max+1))
		} else {
			[]func(Size, Operand){b.ShlCL, b.ShrCL, b.SarCL}[n](sz, g.rm())
		}
		g.expect([]x86asm.Op{x86asm.SHL, x86asm.SHR, x86asm.SAR}[n])
	case 8:
		switch g.u8() % 3 {
		case 0:
			b.Push(g.reg())
		case 1:
			b.Push(g.mem())
		default:
			b.Push(Imm(int32(g.u32())))
		}
		g.expect(x86asm.PUSH)
	case 9:
		if g.u8()&1 == 0 {
			b.Pop(g.reg())
		} else {
			b.Pop(g.mem())
		}
		g.expect(x86asm.POP)
	case 10:
		b.Lea(g.reg(), g.mem())
		g.expect(x86asm.LEA)
	case 11:
		dsz, ssz := g.wide(), S8
		if dsz != S16 && g.u8()&1 == 0 {
			ssz = S16
		}
		if g.u8()&1 == 0 {
			b.MovZX(dsz, g.reg(), ssz, g.rm())
			g.expect(x86asm.MOVZX)
		} else {
			b.MovSX(dsz, g.reg(), ssz, g.rm())
			g.expect(x86asm.MOVSX)
		}
	case 12:
		b.MovSX(S64, g.reg(), S32, g.rm())
		g.expect(x86asm.MOVSXD)
	case 13:
		c := Cond(g.u8() & 15)
		b.Setcc(c, g.rm())
		g.expect(setOps[c])
	case 14:
		c := Cond(g.u8() & 15)
		b.Cmovcc(c, g.wide(), g.reg(), g.rm())
		g.expect(cmovOps[c])
	case 15, 16:
		c := Cond(g.u8() & 15)
		b.Jcc(c, g.label())
		g.expect(jccOps[c])
	case 17:
		b.Jmp(g.label())
		g.expect(x86asm.JMP)
	case 18:
		b.Bind(g.labels[len(g.labels)-1]) // may rebind: filtered out below
		g.labels = g.labels[:len(g.labels)-1]
	case 19:
		switch g.u8() % 3 {
		case 0:
			b.Call(g.reg())
		case 1:
			b.Call(g.mem())
		default:
			b.Call(g.label())
		}
		g.expect(x86asm.CALL)
	case 20:
		if g.u8()&1 == 0 {
			b.Jmp(g.reg())
		} else {
			b.Jmp(g.mem())
		}
		g.expect(x86asm.JMP)
	case 21:
		if g.u8()&1 == 0 {
			b.LockCmpxchg(g.size(), g.mem(), g.reg())
			g.expect(x86asm.CMPXCHG)
		} else {
			b.LockXadd(g.size(), g.mem(), g.reg())
			g.expect(x86asm.XADD)
		}
	case 22:
		sz, dst, src := g.size(), g.rm(), g.reg()
		if dst == RAX && src == RAX && (sz == S16 || sz == S64) {
			src = RCX // 66 90 and 48 90 decode as nop
		}
		b.Xchg(sz, dst, src)
		g.expect(x86asm.XCHG)
	case 23:
		op, name := b.Movdqu, x86asm.MOVDQU
		if g.u8()&1 == 0 {
			op, name = b.Movdqa, x86asm.MOVDQA
		}
		switch g.u8() % 3 {
		case 0:
			op(XReg(g.u8()&15), XReg(g.u8()&15))
		case 1:
			op(XReg(g.u8()&15), g.mem())
		default:
			op(g.mem(), XReg(g.u8()&15))
		}
		g.expect(name)
	case 24:
		n := int(g.u8()%20) + 1
		b.Nop(n)
		for ; n > 0; n -= 9 {
			g.expect(x86asm.NOP)
		}
	case 25:
		b.MovImm64(g.reg(), uint64(g.u32())<<32|uint64(g.u32()))
		g.expect(x86asm.MOV)
	case 26:
		n := g.u8() % 6
		[]func(){b.Ret, b.Pushfq, b.Popfq, b.Cqo, b.Cdq, b.Mfence}[n]()
		g.expect([]x86asm.Op{x86asm.RET, x86asm.PUSHFQ, x86asm.POPFQ, x86asm.CQO, x86asm.CDQ, x86asm.MFENCE}[n])
	case 27:
		n := g.u8() % 3
		[]func(Size, Operand){b.Mul, b.Div, b.Idiv}[n](g.size(), g.rm())
		g.expect([]x86asm.Op{x86asm.MUL, x86asm.DIV, x86asm.IDIV}[n])
	case 28:
		b.NopAlign(1 << (g.u8() % 5))
		g.want = append(g.want, nil) // any number of nops
	case 29:
		sz := [3]Size{S16, S32, S64}[g.u8()%3]
		b.LeaSz(sz, g.reg(), g.mem())
		g.expect(x86asm.LEA)
	}
}

func FuzzEmitDecode(f *testing.F) {
	f.Add([]byte{0, 1, 3, 2, 2, 0, 1, 2, 17, 0, 15, 4, 18, 24, 9})
	f.Add([]byte{15, 3, 0, 24, 200, 24, 200, 18, 17, 0, 1, 28, 4, 22, 1, 0, 0})
	f.Add([]byte{2, 5, 3, 2, 1, 0xff, 0xff, 0xff, 0x7f, 10, 4, 1, 1, 9, 8, 8, 23, 0, 1, 1, 2})
	f.Add([]byte{19, 2, 0, 16, 5, 1, 24, 130, 18, 19, 0, 3, 21, 1, 2, 1, 3, 2, 1, 1, 14, 3, 2, 5, 1, 4})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 {
			return
		}
		p := NewProgram()
		b := p.Section("text")
		data2 := p.Section("data")
		g := &gen{data: data, b: b, dlab: p.NewLabel("d")}
		data2.Bind(g.dlab)
		data2.Space(256)
		for g.i < len(data) {
			if g.u8()%30 == 18 && len(g.labels) == 0 {
				continue // no label to bind
			}
			g.i--
			g.step()
		}
		for _, l := range g.labels {
			b.Bind(l)
		}
		// Labels popped by case 18 are bound; any still unbound were
		// referenced through g.labels and are bound just above.
		obj, err := p.Finish()
		if err != nil {
			t.Fatalf("valid sequence rejected: %v", err)
		}
		ln, err := obj.Link(map[string]uint64{"text": 0x10_0000, "data": 0x20_0000})
		if err != nil {
			t.Fatal(err)
		}
		s := obj.Section("text")
		code := ln.Bytes["text"]
		// Instructions tile the section exactly.
		off := 0
		for _, in := range s.Insts {
			if in.Off != off {
				t.Fatalf("instruction at %#x, expected %#x", in.Off, off)
			}
			off += in.Len
		}
		if off != len(code) {
			t.Fatalf("instructions cover %d of %d bytes", off, len(code))
		}
		// Each builder call decodes back to its operation, at our length.
		wi := 0
		for ii := 0; ii < len(s.Insts); {
			if wi >= len(g.want) {
				t.Fatalf("%d extra instructions", len(s.Insts)-ii)
			}
			if isNopRun(g.want[wi]) {
				// Nop calls and NopAlign padding: a run of nops whose count
				// is exact unless an alignment is among them.
				m, align := 0, false
				for ; wi < len(g.want) && isNopRun(g.want[wi]); wi++ {
					if g.want[wi] == nil {
						align = true
					} else {
						m++
					}
				}
				k := 0
				for ; ii < len(s.Insts); ii, k = ii+1, k+1 {
					in := s.Insts[ii]
					d, err := x86asm.Decode(code[in.Off:in.Off+in.Len], 64)
					if err != nil || d.Op != x86asm.NOP {
						break
					}
					if d.Len != in.Len {
						t.Fatalf("+%#x: nop length %d, ours %d", in.Off, d.Len, in.Len)
					}
				}
				if k < m || (!align && k != m) {
					t.Fatalf("%d nops, want %d (alignment %v)", k, m, align)
				}
				continue
			}
			want := g.want[wi]
			wi++
			in := s.Insts[ii]
			d, err := x86asm.Decode(code[in.Off:in.Off+in.Len], 64)
			if err != nil {
				t.Fatalf("+%#x %x: %v", in.Off, code[in.Off:in.Off+in.Len], err)
			}
			if d.Len != in.Len {
				t.Fatalf("+%#x %x: x86asm length %d, ours %d", in.Off, code[in.Off:in.Off+in.Len], d.Len, in.Len)
			}
			ok := false
			for _, op := range want {
				ok = ok || d.Op == op
			}
			if !ok {
				t.Fatalf("+%#x %x: decoded %v, want %v", in.Off, code[in.Off:in.Off+in.Len], d.Op, want)
			}
			if target, pcrel := pcTarget(d, 0x10_0000+uint64(in.Off)); pcrel && d.Op != x86asm.LEA && d.Args[0] != nil {
				if _, isRel := d.Args[0].(x86asm.Rel); isRel && !isLabelAddr(ln, target) {
					t.Fatalf("+%#x %v: target %#x is not a label", in.Off, d, target)
				}
			}
			ii++
		}
		for ; wi < len(g.want); wi++ {
			if g.want[wi] != nil {
				t.Fatalf("%d instructions missing", len(g.want)-wi)
			}
		}
	})
}

func isNopRun(ops []x86asm.Op) bool { return ops == nil || len(ops) == 1 && ops[0] == x86asm.NOP }

func isLabelAddr(ln *Linked, a uint64) bool {
	for _, v := range ln.Labels {
		if v == a {
			return true
		}
	}
	return false
}
