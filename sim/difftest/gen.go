// Package difftest is a differential test of the two engines on random
// programs: NewCase turns bytes into a program built from the emitter's
// forms (straight-line integer and SSE code, forward branches and jumps,
// loops with bounded trip counts, loads and stores inside the data area and
// the stack frame, direct and indirect calls and returns), and Run runs it under Unicorn and, if it
// completed there, natively in a child process, and compares the final
// registers, flags and memory. FuzzEngines drives it with `go test -fuzz`.
package difftest

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"

	. "github.com/osrsim/osrsim/emitter"
	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/link"
)

// Data layout: the area random code loads from and stores to, then the
// dump where main leaves its final registers and flags. R13 holds the
// area's address throughout.
const (
	symArea  = "fz.area"
	symFuncs = "fz.funcs" // the functions' addresses, for indirect calls
	areaSize = 2048
	// dump: 16 GPRs, RFLAGS, 16 XMM registers.
	dumpOff   = areaSize
	dumpGPRs  = dumpOff
	dumpFlags = dumpGPRs + 16*8
	dumpXMM   = dumpFlags + 8
	dumpSize  = dumpXMM + 16*16 - dumpOff
	// Indexed accesses mask the index first: [r13 + (r12 & idxMask)*scale + disp].
	idxMask   = 0x7f
	maxIdxOff = idxMask * 8
)

// Stack frame of every function, below its return address: a random-access
// area, then one counter slot per loop nesting level. frameSize keeps RSP
// 16-byte aligned at calls (it is 8 mod 16 on entry).
const (
	frameArea = 64
	maxLoops  = 2
	frameSize = frameArea + 8*maxLoops + 8
)

const (
	stackSize = 0x10000
	stackTop  = sim.StackBase + stackSize
	// Limits that keep a program's run short: forms per function body,
	// functions, loop trip counts, and a bound on the instructions one call
	// of a function executes (counting formCost per form, at most, times
	// the trip counts of the loops around it, plus its calls' bounds).
	maxForms = 48
	maxFuncs = 3
	maxTrips = 8
	formCost = 8
	maxCost  = 1_000_000
)

// reserved registers: RSP, and R13 (the data area). Random code writes only
// the others.
var writable = []Reg{RAX, RCX, RDX, RBX, RBP, RSI, RDI, R8, R9, R10, R11, R12, R14, R15}

// divisors are the writable registers but RDX:RAX, the dividend.
var divisors = []Reg{RCX, RBX, RBP, RSI, RDI, R8, R9, R10, R11, R12, R14, R15}

// flags is a set of RFLAGS status flags.
type flags uint8

const (
	fCF flags = 1 << iota
	fPF
	fAF
	fZF
	fSF
	fOF
	fAll = fCF | fPF | fAF | fZF | fSF | fOF
)

// rflagsBits are the RFLAGS bits of fCF..fOF.
var rflagsBits = [...]uint64{1 << 0, 1 << 2, 1 << 4, 1 << 6, 1 << 7, 1 << 11}

// mask is the RFLAGS bits of f.
func (f flags) mask() uint64 {
	var m uint64
	for i, bit := range rflagsBits {
		if f&(1<<i) != 0 {
			m |= bit
		}
	}
	return m
}

// condReads are the flags a condition reads, by Cond>>1 (O, B, E, BE, S,
// P, L, LE and their negations).
var condReads = [8]flags{fOF, fCF, fZF, fCF | fZF, fSF, fPF, fSF | fOF, fZF | fSF | fOF}

// Case is a generated program and what its run should leave.
type Case struct {
	Image  *sim.Image
	Obj    *Object
	Linked *Linked
	// Defined are the flags whose final value the architecture defines;
	// the others (left undefined by e.g. MUL or a shift) may differ.
	Defined flags
	// Forms counts the forms the program was built from.
	Forms map[string]int
	// MayFault: the program has a division that may raise #DE. Nothing
	// else in a generated program can fault.
	MayFault bool
	// Bound bounds the instructions main's body executes (the entry stub,
	// main's set-up and its dump add a fixed number).
	Bound int
}

// Listing is the program's code, for reports.
func (p *Case) Listing() string { return p.Linked.Listing(p.Obj, link.Code, nil) }

// gen builds one function body at a time from the input bytes.
type gen struct {
	in     []byte
	pos    int
	rng    *rand.Rand // values: the data area, initial registers, immediates
	b      *Builder
	undef  flags    // flags whose value is undefined here
	funcs  []callee // functions this body may call
	forms  map[string]int
	pushed bool // inside a push/pop form: RSP is below the frame
	loops  int  // open loops
	left   int  // forms left in this body
	mult   int  // product of the trip counts of the open loops
	cost   int  // bound on the instructions this function executes so far
	faulty bool // a division that may fault was emitted
}

type callee struct {
	name  string
	index int   // in the symFuncs table
	undef flags // undefined flags on return
	cost  int   // bound on the instructions a call executes
}

// NewCase builds the program that in describes. Every input gives a valid
// program; programs may still fault (a division), which Run reports.
func NewCase(in []byte) (*Case, error) { return newGen(in).build(nil) }

func newGen(in []byte) *gen {
	seed := sha256.Sum256(in)
	return &gen{in: in, forms: map[string]int{},
		rng: rand.New(rand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:16])))}
}

// build assembles the program: the entry stub, random callees, and main
// with a random body, or with body's code and no callees if body is set
// (flags then count as undefined).
func (g *gen) build(body func(b *Builder)) (*Case, error) {
	p := NewProgram()
	code, data := p.Section(link.Code), p.Section(link.Data)
	g.b = code
	link.Entry(code, "entry", "main", stackTop)

	var undef flags
	bound := 0
	if body == nil {
		// Callees first, the last one first, so each may call those after
		// it and its callers know the flags it leaves.
		n := int(g.u8()) % (maxFuncs + 1)
		funcs := make([]callee, n)
		for i := n - 1; i >= 0; i-- {
			g.funcs = funcs[i+1:]
			name := fmt.Sprintf("f%d", i)
			undef := g.function(name, fAll, nil)
			funcs[i] = callee{name: name, index: i, undef: undef, cost: g.cost}
		}
		g.funcs = funcs
		// The entry stub's last flag writer is an xor (AF undefined).
		undef = g.function("main", fAF, g.prologue)
		bound = g.cost
	} else {
		code.Func("main")
		code.EndProlog()
		code.Lea(RSP, M(RSP, -frameSize))
		g.prologue()
		body(code)
		undef = fAll
	}
	g.epilogue(code)

	link.EmitZero(data)
	data.Align(16, 0)
	data.DefineSymbol(symArea)
	area := make([]byte, areaSize)
	for i := range area {
		area[i] = byte(g.rng.Uint32())
	}
	data.Bytes(area)
	data.Space(dumpSize)
	data.EndSymbol(symArea)
	data.DefineSymbol(symFuncs)
	for _, f := range g.funcs {
		data.U64Sym(f.name, 0)
	}
	data.U64(0) // the table is never empty
	data.EndSymbol(symFuncs)

	obj, err := p.Finish()
	if err != nil {
		return nil, fmt.Errorf("BUG: difftest generated an invalid program: %w", err)
	}
	im, l, err := link.Image(obj, link.Layout{Entry: "entry", StackSize: stackSize})
	if err != nil {
		return nil, fmt.Errorf("BUG: difftest: %w", err)
	}
	return &Case{Image: im, Obj: obj, Linked: l, Defined: fAll &^ undef, Forms: g.forms, MayFault: g.faulty, Bound: bound}, nil
}

// function emits a function: frame, a random body, return. It returns the
// flags undefined at its end. start emits main's set-up after the frame.
func (g *gen) function(name string, undef flags, start func()) flags {
	b := g.b
	b.Func(name)
	b.EndProlog()
	b.Lea(RSP, M(RSP, -frameSize)) // lea: flags pass through calls
	g.undef, g.left, g.loops, g.pushed, g.mult, g.cost = undef, maxForms, 0, false, 1, 0
	if start != nil {
		start()
	}
	g.body()
	if start == nil { // main ends with the epilogue
		b.Lea(RSP, M(RSP, frameSize))
		b.Ret()
		b.EndFunc()
	}
	return g.undef
}

// prologue points R13 at the data area and gives every other register a
// random value, so that code does not compute on zeros.
func (g *gen) prologue() {
	g.b.Lea(R13, RIPSym(symArea))
	for _, r := range writable {
		g.b.MovImm64(r, g.rng.Uint64())
	}
	for x := range 8 {
		g.b.Movdqu(XReg(x), M(R13, int32(g.rng.IntN(areaSize-16))))
	}
}

// epilogue stores main's registers and flags in the dump, returns RAX, and
// ends main. The flags go through the stack; their slot is cleared after,
// since RFLAGS' system bits differ between the engines.
func (g *gen) epilogue(b *Builder) {
	for r := RAX; r <= R15; r++ {
		b.Mov(S64, M(R13, int32(dumpGPRs+8*int(r))), r)
	}
	b.Pushfq()
	b.Pop(RAX)
	b.Mov(S64, M(R13, dumpFlags), RAX)
	b.Mov(S64, M(RSP, -8), Imm(0))
	for x := range 16 {
		b.Movdqu(M(R13, int32(dumpXMM+16*x)), XReg(x))
	}
	b.Mov(S64, RAX, M(R13, dumpGPRs))
	b.Lea(RSP, M(RSP, frameSize))
	b.Ret()
	b.EndFunc()
}

// u8 is the next input byte, 0 past the end.
func (g *gen) u8() byte {
	if g.pos >= len(g.in) {
		return 0
	}
	g.pos++
	return g.in[g.pos-1]
}

func (g *gen) done() bool { return g.pos >= len(g.in) || g.left <= 0 }

func (g *gen) pick(n int) int { return int(g.u8()) % n }

func (g *gen) form(name string) {
	g.forms[name]++
	g.left--
	g.cost += formCost * g.mult
}

// body emits forms until the input or the form budget runs out, or (1 in
// 16) at random, so that nested bodies end.
func (g *gen) body() {
	for !g.done() {
		k := g.u8()
		if k%16 == 15 {
			return
		}
		g.step(k >> 4)
	}
}

func (g *gen) size() Size { return [4]Size{S8, S16, S32, S64}[g.pick(4)] }
func (g *gen) wide() Size { return [3]Size{S16, S32, S64}[g.pick(3)] }
func (g *gen) dst() Reg   { return writable[g.pick(len(writable))] }

// src is any register but RSP.
func (g *gen) src() Reg {
	if r := Reg(g.u8() & 15); r != RSP {
		return r
	}
	return R13
}

// imm fits an instruction of size sz (imm32 sign-extended for S64).
func (g *gen) imm(sz Size) Imm {
	v := int64(int32(g.rng.Uint32()))
	switch {
	case sz == S8 || g.u8()&1 == 0:
		return Imm(int8(v))
	case sz == S16:
		return Imm(int16(v))
	}
	return Imm(v)
}

// mem is a reference to n bytes inside the data area or, outside push/pop
// forms, the frame's random-access area.
func (g *gen) mem(n int) Mem { return g.memAligned(n, 1) }

// atomic is mem for a locked access: aligned to its size, so that it never
// spans two cache lines (a split lock, which the kernel may penalize).
func (g *gen) atomic(n int) Mem { return g.memAligned(n, n) }

// memAligned is a reference to n bytes at a multiple of align (a power of
// two up to 16) from the start of the 16-aligned data area or frame. Some
// forms first write a register: a copy of the area's address as the base
// (so that every register serves as one), or a masked index in R12 (which
// also writes the flags).
func (g *gen) memAligned(n, align int) Mem {
	off := func(size int) int32 { return int32(align * g.rng.IntN((size-n)/align+1)) }
	switch g.pick(5) {
	case 0:
		return M(R13, off(areaSize))
	case 1:
		g.b.And(S32, R12, Imm(idxMask))
		g.undef = fAF
		scale := uint8(max(align, 1<<g.pick(4)))
		return MIdx(R13, R12, min(scale, 8), off(areaSize-maxIdxOff))
	case 2:
		base := g.dst()
		g.b.Mov(S64, base, R13)
		return M(base, off(areaSize))
	case 3:
		if !g.pushed {
			return M(RSP, off(frameArea))
		}
	}
	return RIPSym(symArea).Off(off(areaSize))
}

// rm is a register or a memory operand of size sz.
func (g *gen) rm(sz Size, write bool) Operand {
	if g.u8()&1 == 0 {
		return g.mem(int(sz))
	}
	if write {
		return g.dst()
	}
	return g.src()
}

// need makes sure fs are defined, with a cmp if they are not.
func (g *gen) need(fs flags) {
	if g.undef&fs != 0 {
		g.b.Cmp(S64, g.src(), g.src())
		g.undef = 0
	}
}

var aluOps = []struct {
	name  string
	emit  func(b *Builder, sz Size, dst, src Operand)
	reads flags // CF for adc and sbb
	undef flags // left undefined
}{
	{"add", (*Builder).Add, 0, 0}, {"or", (*Builder).Or, 0, fAF}, {"adc", (*Builder).Adc, fCF, 0},
	{"sbb", (*Builder).Sbb, fCF, 0}, {"and", (*Builder).And, 0, fAF}, {"sub", (*Builder).Sub, 0, 0},
	{"xor", (*Builder).Xor, 0, fAF}, {"cmp", (*Builder).Cmp, 0, 0}, {"test", (*Builder).Test, 0, fAF},
}

// step emits one form, chosen by k (0-15).
func (g *gen) step(k byte) {
	b := g.b
	switch k {
	case 0, 1: // ALU: reg, reg/mem/imm or mem, reg/imm
		op := aluOps[g.pick(len(aluOps))]
		sz := g.size()
		var dst, src Operand
		switch g.pick(3) {
		case 0:
			dst, src = g.dst(), g.rm(sz, false)
		case 1:
			dst, src = g.rm(sz, true), g.imm(sz)
		default:
			dst, src = g.mem(int(sz)), g.src()
		}
		if op.name == "test" {
			if _, ok := src.(Mem); ok { // test has no reg, mem form
				dst, src = src, dst
			}
		}
		g.need(op.reads)
		op.emit(b, sz, dst, src)
		g.undef = op.undef
		g.form("alu")
	case 2: // moves
		sz := g.size()
		switch g.pick(5) {
		case 0:
			b.Mov(sz, g.dst(), g.rm(sz, false))
		case 1:
			b.Mov(sz, g.mem(int(sz)), g.src())
		case 2:
			b.Mov(sz, g.rm(sz, true), g.imm(sz))
		case 3:
			b.MovImm64(g.dst(), g.rng.Uint64())
		default:
			ssz := [3]Size{S8, S16, S32}[g.pick(3)]
			dsz := S64
			if ssz != S32 {
				dsz = [3]Size{S16, S32, S64}[g.pick(3)]
				if dsz <= ssz {
					dsz = S64
				}
			}
			if ssz != S32 && g.u8()&1 == 0 {
				b.MovZX(dsz, g.dst(), ssz, g.rm(ssz, false))
			} else {
				b.MovSX(dsz, g.dst(), ssz, g.rm(ssz, false))
			}
		}
		g.form("mov")
	case 3: // lea: any address, nothing is accessed
		idx := g.src()
		b.LeaSz([2]Size{S32, S64}[g.pick(2)], g.dst(), MIdx(g.src(), idx, [4]uint8{1, 2, 4, 8}[g.pick(4)], int32(g.rng.Uint32())))
		g.form("lea")
	case 4: // inc, dec, not, neg
		sz := g.size()
		dst := g.rm(sz, true)
		switch g.pick(4) {
		case 0:
			b.Inc(sz, dst)
			g.undef &= fCF
		case 1:
			b.Dec(sz, dst)
			g.undef &= fCF
		case 2:
			b.Not(sz, dst)
		default:
			b.Neg(sz, dst)
			g.undef = 0
		}
		g.form("unary")
	case 5: // multiplication: CF and OF defined
		sz := g.wide()
		switch g.pick(3) {
		case 0:
			b.Imul(sz, g.dst(), g.rm(sz, false))
		case 1:
			b.ImulImm(sz, g.dst(), g.rm(sz, false), int32(g.imm(sz)))
		default:
			sz = g.size()
			b.Mul(sz, g.rm(sz, false))
		}
		g.undef = fSF | fZF | fAF | fPF
		g.form("mul")
	case 6: // shifts by an immediate count or by CL
		g.shift()
	case 7: // setcc, cmovcc
		c := Cond(g.u8() & 15)
		g.need(condReads[c>>1])
		if g.u8()&1 == 0 {
			b.Setcc(c, g.rm(S8, true))
		} else {
			sz := g.wide()
			b.Cmovcc(c, sz, g.dst(), g.rm(sz, false))
		}
		g.form("setcc/cmovcc")
	case 8: // exchanges and atomics on memory
		sz := g.size()
		switch g.pick(3) {
		case 0: // with memory, xchg is locked
			var dst Operand = g.dst()
			if g.u8()&1 == 0 {
				dst = g.atomic(int(sz))
			}
			b.Xchg(sz, dst, g.dst())
		case 1:
			b.LockXadd(sz, g.atomic(int(sz)), g.dst())
			g.undef = 0
		default:
			b.LockCmpxchg(sz, g.atomic(int(sz)), g.dst())
			g.undef = 0
		}
		g.form("xchg")
	case 9: // SSE moves
		x := XReg(g.pick(16))
		switch g.pick(3) {
		case 0:
			b.Movdqu(x, g.mem(16))
		case 1:
			b.Movdqu(g.mem(16), x)
		default:
			b.Movdqu(x, XReg(g.pick(16)))
		}
		g.form("sse")
	case 10: // division: all flags undefined
		g.divide()
	case 11: // push, straight-line code, pop
		if g.pushed {
			return
		}
		g.form("push/pop")
		switch g.pick(3) {
		case 0:
			b.Push(g.src())
		case 1:
			b.Push(g.imm(S32))
		default:
			b.Push(g.mem(8))
		}
		g.pushed = true
		for n := g.pick(4); n > 0 && !g.done(); n-- {
			if k := g.u8() >> 4; k <= 10 { // no control flow
				g.step(k)
			}
		}
		// pop addresses memory with RSP as it is after the pop: the frame's.
		g.pushed = false
		if g.u8()&1 == 0 {
			b.Pop(g.dst())
		} else {
			b.Pop(g.mem(8))
		}
	case 12: // if: a forward branch over a body
		if g.pushed {
			return
		}
		g.form("if")
		b.Cmp(g.size(), g.dst(), g.src())
		g.undef = 0
		skip := b.NewLabel("skip")
		b.Jcc(Cond(g.u8()&15), skip)
		before := g.undef
		g.body()
		b.Bind(skip)
		g.undef |= before
	case 13: // loop with a bounded trip count, its counter in the frame
		if g.pushed || g.loops == maxLoops {
			return
		}
		slot := M(RSP, int32(frameArea+8*g.loops))
		trips := 1 + g.pick(maxTrips)
		b.Mov(S64, slot, Imm(trips))
		top := b.NewLabel("loop")
		b.Bind(top)
		g.loops++
		g.mult *= trips
		g.form("loop") // costed inside: dec and jne run on every trip
		g.undef = fAll // the first pass and the later ones differ
		g.body()
		g.mult /= trips
		g.loops--
		b.Dec(S64, slot)
		g.undef &= fCF
		b.Jcc(CondNE, top)
	case 14: // call, direct or through a register or the table; or a jump
		if g.pushed || len(g.funcs) == 0 || g.u8()&1 == 0 {
			g.jump()
			return
		}
		f := g.funcs[g.pick(len(g.funcs))]
		if g.cost+g.mult*f.cost > maxCost {
			g.jump()
			return
		}
		g.cost += g.mult * f.cost
		switch g.pick(3) {
		case 0:
			b.Call(Sym(f.name))
		case 1:
			r := g.dst()
			b.MovAbs(r, f.name, 0)
			b.Call(r)
		default:
			b.Call(RIPSym(symFuncs).Off(int32(8 * f.index)))
		}
		g.undef = f.undef
		g.form("call")
	default: // cdq, cqo
		if g.u8()&1 == 0 {
			b.Cdq()
		} else {
			b.Cqo()
		}
		g.form("cdq/cqo")
	}
}

// jump emits a forward jump, direct or through a register, over forms that
// never run.
func (g *gen) jump() {
	b := g.b
	g.form("jump")
	over := b.NewLabel("over")
	if g.u8()&1 == 0 {
		b.Jmp(over)
	} else {
		r := g.dst()
		b.MovAbsLabel(r, over)
		b.Jmp(r)
	}
	undef := g.undef
	for n := g.pick(3); n > 0 && !g.done(); n-- {
		if k := g.u8() >> 4; k <= 10 {
			g.step(k)
		}
	}
	g.undef = undef
	b.Bind(over)
}

// shift emits a shift. A count of 0 changes no flag; otherwise SF, ZF and
// PF follow the result, AF is undefined, OF is defined only for a count
// of 1, and CF is undefined once the count reaches the operand's width.
func (g *gen) shift() {
	b := g.b
	sz := g.size()
	dst := g.rm(sz, true)
	ops := [3]struct {
		imm func(Size, Operand, uint8)
		cl  func(Size, Operand)
	}{{b.Shl, b.ShlCL}, {b.Shr, b.ShrCL}, {b.Sar, b.SarCL}}
	op := ops[g.pick(3)]
	g.form("shift")
	if g.u8()&1 == 0 {
		op.cl(sz, dst) // count unknown here: CF, OF and AF are undefined
		g.undef |= fCF | fOF | fAF
		return
	}
	width := 8 * int(sz)
	count := g.u8() & byte(max(31, width-1))
	op.imm(sz, dst, count)
	if count == 0 {
		return
	}
	g.undef = fAF
	if count != 1 {
		g.undef |= fOF
	}
	if int(count) >= width {
		g.undef |= fCF
	}
}

// divide emits a division. Most are made safe (a non-zero divisor and a
// quotient that fits); the others may raise #DE, which emulation reports.
func (g *gen) divide() {
	b := g.b
	sz := [2]Size{S32, S64}[g.pick(2)]
	div := b.Div
	if g.u8()&1 == 0 {
		div = b.Idiv
	}
	src := divisors[g.pick(len(divisors))]
	if g.pick(8) == 0 {
		g.form("raw division")
		g.faulty = true
		sz = g.size()
		div(sz, g.rm(sz, false))
	} else {
		// A divisor of at least 2 that is positive as a signed number, and
		// RDX = 0: the quotient fits, for div and idiv alike.
		g.form("division")
		b.Shr(sz, src, 1)
		b.Or(sz, src, Imm(2))
		b.Xor(S32, RDX, RDX)
		div(sz, src)
	}
	g.undef = fAll
}
