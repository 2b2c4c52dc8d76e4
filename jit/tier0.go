package jit

import (
	"github.com/osrsim/osrsim/continuation"
	. "github.com/osrsim/osrsim/emitter"
	"github.com/osrsim/osrsim/patchpoint"
	"github.com/osrsim/osrsim/region"
)

// Options select the mechanism the compilers generate code for.
type Options struct {
	Strategy patchpoint.Strategy
	Settings patchpoint.Settings
	// Tier0Patchpoint selects the shape of the tier0 patchpoint sequence.
	Tier0Patchpoint Tier0Variant
	// ResumeDispatch selects the shape of the resumption dispatch.
	ResumeDispatch DispatchVariant
	// Runtime is the async runtime suspensions and resumptions call.
	Runtime continuation.Model
}

// zeroUnroll is the largest zero-initialised area cleared with straight-line
// stores; bigger frames use a loop, as the .NET JIT does.
const zeroUnroll = 64

type tier0 struct {
	gen
	f      Frame
	epilog *Label
	done   *Label // the method completes (async: no continuation)
	sus    []suspension
	next   int // the next await's index in sus
}

// CompileTier0 emits m's tier0 code into b and returns its frame.
func CompileTier0(b *Builder, m *Method, opt Options) Frame {
	c := &tier0{f: Layout(m)}
	c.gen = gen{b: b, m: m, name: Tier0Sym(m.Name), opt: opt, naive: true,
		loc: func(v Local) Operand { return c.slot(v) }, temp: func(k int) Mem { return M(RBP, c.f.Temps[k]) },
		contHome: func() Mem { return M(RBP, ContHome) }}
	c.epilog = b.NewLabel(c.name + ".epilog")
	c.done = b.NewLabel(c.name + ".done")
	c.sus = c.suspensions(0)
	resume := b.NewLabel(c.name + ".resume")

	b.Func(c.name)
	b.SetMeta(region.Meta{Region: region.Tier0})
	b.PushNonvol(RBP)
	b.AllocStack(c.f.Alloc)
	b.Lea(RBP, M(RSP, c.f.Alloc)) // unreported, as the JIT's genEstablishFramePointer without localloc
	b.EndProlog()
	args := ArgRegs
	if m.Async {
		b.Mov(S64, M(RBP, ContHome), RCX)
		args = args[1:]
	}
	for i, p := range m.Params {
		b.Mov(S64, c.slot(p), args[i])
	}
	c.zeroInit()
	if c.f.HasCounter {
		b.Mov(S32, M(RBP, c.f.Counter), Imm(opt.Settings.InitialCounter))
	}
	if m.Async && len(c.sus) > 0 {
		b.Cmp(S64, M(RBP, ContHome), Imm(0))
		b.Jcc(CondNE, resume)
	}
	c.stmts(m.Body)
	if m.Result && !m.Async {
		b.Xor(S32, RAX, RAX) // not reached: C# returns on every path
	}
	b.Bind(c.done)
	if m.Async {
		b.Xor(S32, RCX, RCX) // completed: no continuation
	}
	b.Bind(c.epilog)
	b.Add(S64, RSP, Imm(c.f.Alloc))
	b.Pop(RBP)
	b.Ret()
	var table []*Label
	if m.Async && len(c.sus) > 0 {
		b.Bind(resume)
		table = c.resumption()
	}
	c.emitThrows()
	b.EndFunc()
	c.emitJumpTable(table)
	return c.f
}

func (c *tier0) slot(v Local) Mem { return M(RBP, c.f.Slots[v]) }

// zeroInit clears the locals area, as tier0 frames are zero-initialised.
func (c *tier0) zeroInit() {
	b, f := c.b, c.f
	b.Xor(S32, RAX, RAX)
	if f.ZeroBytes <= zeroUnroll {
		for off := f.ZeroStart; off < f.ZeroStart+f.ZeroBytes; off += 8 {
			b.Mov(S64, M(RBP, off), RAX)
		}
		return
	}
	loop := b.NewLabel(c.name + ".zero_loop")
	b.Mov(S64, RDX, Imm(-int64(f.ZeroBytes)))
	b.Bind(loop)
	b.Mov(S64, MIdx(RBP, RDX, 1, f.ZeroStart+f.ZeroBytes), RAX)
	b.Add(S64, RDX, Imm(8))
	b.Jcc(CondNE, loop)
	// RDX held an argument: home slots already have it.
	if len(c.m.Params) > 0 {
		args := ArgRegs
		if c.m.Async {
			args = args[1:]
		}
		for i, p := range c.m.Params {
			if args[i] == RDX {
				b.Mov(S64, RDX, c.slot(p))
			}
		}
	}
}

func (c *tier0) stmts(ss []Stmt) {
	for _, s := range ss {
		c.stmt(s)
	}
}

// Tier0 code is naive on purpose: every read and write goes to the frame.
func (c *tier0) stmt(s Stmt) {
	if c.gen.stmt(s, c.stmts) {
		return
	}
	b := c.b
	switch s := s.(type) {
	case Loop:
		c.loop(s, func() { c.patchpoint(s.IL) }, c.stmts)
	case Await:
		c.suspend(c.sus[c.next], s.Awaiter, c.slotKind(), 0, "", c.epilog)
		c.next++
	case Return:
		if s.Value != nil {
			c.value(s.Value, 0)
			if c.m.Async {
				b.Mov(S32, RIPSym(continuation.SymTaskResult), RAX)
			}
		}
		b.Jmp(c.done)
	}
}

// slotKind is what tier0 stores in data[0]: a method with patchpoints marks
// its continuations as tier0 ones.
func (c *tier0) slotKind() continuation.SlotKind {
	switch {
	case !c.f.HasCounter:
		return continuation.SlotNone
	case c.opt.Strategy.ResumeByJump():
		return continuation.SlotTier0Addr
	}
	return continuation.SlotTier0Int
}

// patchpoint is the tier0 patchpoint sequence at a loop head.
func (c *tier0) patchpoint(il int) {
	b, ctr := c.b, M(RBP, c.f.Counter)
	skip := b.NewLabel(c.name + ".pp_skip")
	if c.opt.Tier0Patchpoint == Tier0DecMem {
		b.Dec(S32, ctr)
	} else {
		b.Mov(S32, RAX, ctr)
		b.Dec(S32, RAX)
		b.Mov(S32, ctr, RAX)
	}
	b.Cmp(S32, ctr, Imm(0))
	if c.opt.Tier0Patchpoint == Tier0JGE {
		b.Jcc(CondGE, skip)
	} else {
		b.Jcc(CondG, skip)
	}
	b.Lea(RCX, ctr)
	b.Mov(S32, RDX, Imm(il))
	b.Call(Sym(patchpoint.SymHelper))
	if c.opt.Strategy == patchpoint.HelperReturn {
		patchpoint.EmitJumpToTarget(b) // to the OSR entry or just past this jump
	}
	b.Bind(skip)
}

// resumption is the cold block run when the method is called with a
// continuation: into the OSR method if data[0] names one, else restore the
// tier0 state of the await it names and go on there.
func (c *tier0) resumption() []*Label {
	b := c.b
	cont := M(RBP, ContHome)
	tmp := M(RBP, c.f.OSRTemp)
	toOSR := b.NewLabel(c.name + ".resume_osr")
	b.Mov(S64, RAX, cont)
	if c.f.HasCounter {
		if c.opt.Strategy.ResumeByJump() {
			b.Mov(S64, RAX, M(RAX, continuation.OffOSRSlot))
			b.Mov(S64, tmp, RAX)
			b.Cmp(S64, tmp, Imm(0))
			b.Jcc(CondNE, toOSR)
		} else {
			b.Mov(S32, RAX, M(RAX, continuation.OffOSRSlot))
			b.Mov(S32, tmp, RAX)
			b.Cmp(S32, tmp, Imm(0))
			b.Jcc(CondGE, toOSR)
		}
		b.Mov(S64, RAX, cont)
	}
	table := c.dispatch(c.sus)
	if !c.f.HasCounter {
		return table
	}
	b.Bind(toOSR)
	if c.opt.Strategy.ResumeByJump() {
		// GT_NONLOCAL_JMP: a plain 2-byte `jmp rax`, never the REX form.
		b.Mov(S64, RAX, tmp)
		b.BeginRange(ResumeJmpSym(c.m.Name))
		b.Jmp(RAX)
		b.EndRange()
	} else {
		b.Mov(S32, RCX, tmp)
		b.Call(Sym(patchpoint.SymForced))
		b.Ud2() // the forced helper does not return
	}
	return table
}
