package jit

import (
	"fmt"

	"github.com/osrsim/osrsim/continuation"
	. "github.com/osrsim/osrsim/emitter"
	"github.com/osrsim/osrsim/region"
)

// osrRegs are the registers the OSR compiler keeps variables in. RAX, RCX
// and RDX are scratch (runtime.alloc clobbers them). The callee-saved ones
// it uses, its prolog saves into tier0's callee-save area and its epilog
// pops.
var osrRegs = []Reg{RBX, RSI, RDI, R12, R13, R14, R15, R8, R9, R10, R11}

type osr struct {
	b      *Builder
	m      *Method
	f      Frame
	opt    Options
	il     int
	name   string
	loc    map[Local]Operand // where each variable lives in the OSR method
	live   []Local
	epilog *Label
	resume map[int]*Label // by state
	state  int
	t0     int32 // tier0 FP minus OSR FP
	saves  []Reg // callee saves in tier0's save area, from its top slot down
}

// CompileOSR emits the OSR version of m for the patchpoint at IL offset il,
// which must head a top-level loop. f is m's tier0 frame (its
// PatchpointInfo).
//
// Entry contract: RBP = tier0 FP and RSP = tier0 SP - 8 with the helper
// strategy (the helper made the pseudo return address slot), RSP = tier0 SP
// otherwise (the prolog pushes the slot). Either way the body sees the same
// RSP and RBP.
func CompileOSR(b *Builder, m *Method, il int, f Frame, opt Options) error {
	start := -1
	for i, s := range m.Body {
		if l, ok := s.(Loop); ok && l.IL == il {
			start = i
		}
	}
	if start < 0 {
		return fmt.Errorf("method %s: no top-level loop at IL %#x for OSR", m.Name, il)
	}
	body := m.Body[start:]
	c := &osr{b: b, m: m, f: f, opt: opt, il: il, name: OSRSym(m.Name, il),
		loc: map[Local]Operand{}, live: m.LiveAcrossAwaits(), resume: map[int]*Label{}}
	c.state = countAwaits(m.Body[:start])

	// Allocate registers to every variable the OSR body uses, in
	// declaration order; the rest get OSR frame slots below its FP.
	used := map[Local]bool{}
	for _, v := range c.live {
		used[v] = true
	}
	collectUses(body, used)
	spills := int32(0)
	for _, v := range m.Vars() {
		if !used[v] {
			continue
		}
		if n := len(c.loc); n < len(osrRegs) {
			c.loc[v] = osrRegs[n]
		} else {
			spills++
			c.loc[v] = M(RBP, -8*spills)
		}
	}
	frame := (8*spills + homeArea + 15) &^ 15
	// OSR FP sits 16 bytes below tier0 SP (pseudo return address slot and
	// the re-chained caller RBP).
	c.t0 = 16 + f.SPToFP()
	c.epilog = b.NewLabel(c.name + ".epilog")
	for i, n := 0, countAwaits(body); i < n; i++ {
		c.resume[c.state+i+1] = b.NewLabel(SuspendSym(c.name, c.state+i+1) + ".resumed")
	}

	inUse := map[Operand]bool{}
	for _, op := range c.loc {
		inUse[op] = true
	}
	for _, r := range CalleeSaves { // tier0 saved none of them
		if inUse[r] {
			c.saves = append(c.saves, r)
		}
	}
	c.prolog(frame)

	entry := b.NewLabel(c.name + ".entry")
	if m.Async && len(c.resume) > 0 {
		c.resumeCheck(entry)
	}
	b.Bind(entry)
	// genEnregisterOSRArgsAndLocals: load live-ins from tier0's slots.
	for _, v := range m.Vars() {
		if op, ok := c.loc[v]; ok {
			c.move(S64, op, c.tier0Slot(v))
		}
	}
	c.stmts(body)
	if m.Async {
		b.Xor(S32, RCX, RCX)
	}
	b.Bind(c.epilog)
	// One add over both frames to the lowest save, then pops: back to
	// tier0's caller with a canonical epilog.
	b.Add(S64, RSP, Imm(frame+c.t0-8*int32(len(c.saves))))
	for i := len(c.saves) - 1; i >= 0; i-- {
		b.Pop(c.saves[i])
	}
	b.Pop(RBP)
	b.Ret()
	b.EndFunc()
	return nil
}

// prolog is the OSR prolog (OSRX64EpilogRedesign.md, #127074) on top of the
// live tier0 frame, with unwind codes that describe both frames, so that a
// virtual unwind from inside the OSR method yields tier0's caller:
//
//	phantom, offset 0:  push rbp; sub rsp, tier0 SP-to-FP (+8 for the
//	                    slot the helper made before #127074)
//	[push rax]          the pseudo return address slot (#127074)
//	mov rax,[rbp]; push rax   re-chains RBP: tier0's saved caller RBP
//	sub rsp, frame
//	mov [rsp+k], reg    each callee save it uses, into tier0's save area
//	lea rbp, [rsp+frame]
func (c *osr) prolog(frame int32) {
	b := c.b
	b.Func(c.name)
	b.SetMeta(region.Meta{Region: region.OSR})
	tier0 := c.f.Alloc
	if !c.opt.Strategy.OSRPushesSlot() {
		tier0 += 8
	}
	b.UnwindRecord(UwopPushNonvol, uint8(RBP), 0)
	b.UnwindRecord(AllocCode(tier0))
	if c.opt.Strategy.OSRPushesSlot() {
		b.Push(RAX)
		b.UnwindRecord(UwopAllocSmall, 0, 0)
	}
	b.Mov(S64, RAX, M(RBP, 0))
	b.Push(RAX)
	b.UnwindRecord(UwopPushNonvol, uint8(RBP), 0)
	b.AllocStack(frame)
	for k, r := range c.saves { // UWOP_SAVE_NONVOL, offsets from the final RSP
		b.SaveNonvol(r, frame+c.t0+calleeSaveSlot(k))
	}
	b.Lea(RBP, M(RSP, frame))
	b.EndProlog()
}

func (c *osr) tier0Slot(v Local) Mem { return M(RBP, c.t0+c.f.Slots[v]) }

// resumeCheck: the OSR method sees the continuation through tier0's home
// slot. A tier0 continuation (or none) takes the normal entry path.
func (c *osr) resumeCheck(entry *Label) {
	b := c.b
	b.Mov(S64, RAX, M(RBP, c.t0+ContHome))
	b.Test(S64, RAX, RAX)
	b.Jcc(CondE, entry)
	if c.opt.Strategy.ResumeByJump() {
		b.Cmp(S64, M(RAX, continuation.OffOSRSlot), Imm(0))
		b.Jcc(CondE, entry)
	} else {
		b.Cmp(S32, M(RAX, continuation.OffOSRSlot), Imm(0))
		b.Jcc(CondL, entry)
	}
	var dsts []Operand
	for _, v := range c.live {
		dsts = append(dsts, c.loc[v])
	}
	c.opt.Runtime.EmitRestore(b, RAX, dsts, RCX)
	b.Mov(S32, RCX, M(RAX, continuation.OffState))
	for st := c.state + 1; st <= c.state+len(c.resume); st++ {
		b.Cmp(S32, RCX, Imm(st))
		b.Jcc(CondE, c.resume[st])
	}
	b.Ud2()
}

func (c *osr) stmts(ss []Stmt) {
	for _, s := range ss {
		c.stmt(s)
	}
}

func (c *osr) operand(e Expr) Operand {
	if k, ok := e.(Const); ok {
		return Imm(k)
	}
	return c.loc[e.(Local)]
}

// move copies src to dst, through RAX when both are in memory.
func (c *osr) move(sz Size, dst, src Operand) {
	_, dm := dst.(Mem)
	_, sm := src.(Mem)
	if dm && sm {
		c.b.Mov(sz, RAX, src)
		src = RAX
	}
	c.b.Mov(sz, dst, src)
}

// binop applies op(dst, src), through RAX when both are in memory.
func (c *osr) binop(op func(Size, Operand, Operand), sz Size, dst, src Operand) {
	_, dm := dst.(Mem)
	_, sm := src.(Mem)
	if dm && sm {
		c.b.Mov(sz, RAX, src)
		src = RAX
	}
	op(sz, dst, src)
}

func (c *osr) stmt(s Stmt) {
	b := c.b
	switch s := s.(type) {
	case Set:
		c.move(c.m.SizeOf(s.Dst), c.loc[s.Dst], c.operand(s.Src))
	case Add:
		c.binop(b.Add, S32, c.loc[s.Dst], c.operand(s.Src))
	case AddStatic:
		c.binop(b.Add, S32, RIPSym(s.Static), c.operand(s.Src))
	case Loop:
		head, exit := b.NewLabel(c.name+".loop_head"), b.NewLabel(c.name+".loop_exit")
		b.Bind(head)
		c.binop(b.Cmp, S32, c.loc[s.Var], c.loc[s.Limit])
		b.Jcc(CondGE, exit)
		c.stmts(s.Body)
		b.Inc(S32, c.loc[s.Var])
		b.Jmp(head)
		b.Bind(exit)
	case Await:
		c.state++
		var locals []continuation.Slot
		for _, v := range c.live {
			locals = append(locals, continuation.Slot{Op: c.loc[v], Ref: c.m.IsPtr(v)})
		}
		sus := continuation.Suspend{Method: c.m.Name, State: c.state, Locals: locals,
			Awaiter: c.loc[s.Awaiter], EventSym: SuspendSym(c.name, c.state), Temp: M(RBP, c.t0+ContHome)}
		if c.opt.Strategy.ResumeByJump() {
			sus.Slot, sus.OSRSym = continuation.SlotFtnEntry, c.name // GT_FTN_ENTRY
		} else {
			sus.Slot, sus.IL = continuation.SlotILOffset, c.il
		}
		c.opt.Runtime.EmitSuspend(b, sus)
		b.Jmp(c.epilog)
		b.Bind(c.resume[c.state])
	}
}

func countAwaits(ss []Stmt) int {
	n := 0
	for _, s := range ss {
		switch s := s.(type) {
		case Await:
			n++
		case Loop:
			n += countAwaits(s.Body)
		}
	}
	return n
}

func collectUses(ss []Stmt, set map[Local]bool) {
	for _, s := range ss {
		switch s := s.(type) {
		case Set:
			addExpr(set, s.Dst, s.Src)
		case Add:
			addExpr(set, s.Dst, s.Src)
		case AddStatic:
			addExpr(set, s.Src)
		case Loop:
			addExpr(set, s.Var, s.Limit)
			collectUses(s.Body, set)
		case Await:
			addExpr(set, s.Awaiter)
		}
	}
}
