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

// osrCalleeSaved are the registers of osrRegs a call preserves: a version
// that calls methods keeps variables only there.
var osrCalleeSaved = osrRegs[:7]

type osr struct {
	gen
	f      Frame
	il     int
	locs   map[Local]Operand // where each variable lives in the OSR method
	epilog *Label
	done   *Label
	sus    []suspension
	next   int
	t0     int32 // tier0 FP minus OSR FP
	saves  []Reg // callee saves in tier0's save area, from its top slot down
}

// CompileOSR emits the OSR version of m for the patchpoint at IL offset il
// (any loop, nested or not). The version holds the code reachable from that
// loop: the top-level statement containing it and everything after; it
// enters at the loop's head. f is m's tier0 frame (its PatchpointInfo).
//
// Entry contract: RBP = tier0 FP and RSP = tier0 SP - 8 with the helper
// strategy (the helper made the pseudo return address slot), RSP = tier0 SP
// otherwise (the prolog pushes the slot). Either way the body sees the same
// RSP and RBP.
func CompileOSR(b *Builder, m *Method, il int, f Frame, opt Options) error {
	path, top := m.LoopPath(il)
	if path == nil {
		return fmt.Errorf("method %s: no loop at IL %#x for OSR", m.Name, il)
	}
	body := m.Body[top:]
	c := &osr{f: f, il: il, locs: map[Local]Operand{}}
	c.gen = gen{b: b, m: m, name: OSRSym(m.Name, il), opt: opt,
		loc: func(v Local) Operand { return c.locs[v] }, contHome: func() Mem { return M(RBP, c.t0+ContHome) }}
	c.sus = c.suspensions(top)

	// Allocate registers to every variable the OSR body uses, in
	// declaration order; the rest get OSR frame slots below its FP.
	used := map[Local]bool{}
	for _, s := range c.sus {
		for _, v := range s.live {
			used[v] = true
		}
	}
	calls := false
	Walk(body, func(s Stmt) {
		WalkExprs(s, func(e Expr) {
			switch e := e.(type) {
			case Local:
				used[e] = true
			case Call:
				calls = true
			}
		})
	})
	regs := osrRegs
	if calls {
		regs = osrCalleeSaved
	}
	spills := int32(0)
	for _, v := range m.Vars() {
		if !used[v] {
			continue
		}
		if n := len(c.locs); n < len(regs) {
			c.locs[v] = regs[n]
		} else {
			spills++
			c.locs[v] = M(RBP, -8*spills)
		}
	}
	temps := int32(stmtTemps(m))
	c.temp = func(k int) Mem { return M(RBP, -8*(spills+int32(k)+1)) }
	frame := (8*(spills+temps) + homeArea + 15) &^ 15
	// OSR FP sits 16 bytes below tier0 SP (pseudo return address slot and
	// the re-chained caller RBP).
	c.t0 = 16 + f.SPToFP()
	c.epilog = b.NewLabel(c.name + ".epilog")
	c.done = b.NewLabel(c.name + ".done")

	inUse := map[Operand]bool{}
	for _, op := range c.locs {
		inUse[op] = true
	}
	for _, r := range CalleeSaves { // tier0 saved none of them
		if inUse[r] {
			c.saves = append(c.saves, r)
		}
	}
	c.prolog(frame)

	entry := b.NewLabel(c.name + ".entry")
	var table []*Label
	if m.Async && len(c.sus) > 0 {
		table = c.resumeCheck(entry)
	}
	b.Bind(entry)
	// genEnregisterOSRArgsAndLocals: load live-ins from tier0's slots.
	for _, v := range m.Vars() {
		if op, ok := c.locs[v]; ok {
			c.move(S64, op, c.tier0Slot(v))
		}
	}
	if len(path) > 1 {
		b.Jmp(c.head(il)) // an inner loop: enter at its head
	}
	c.stmts(body)
	if m.Result && !m.Async {
		b.Xor(S32, RAX, RAX) // not reached: C# returns on every path
	}
	b.Bind(c.done)
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
	c.emitThrows()
	b.EndFunc()
	c.emitJumpTable(table)
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
// slot. A tier0 continuation (or none) takes the normal entry path; its own
// goes through the resumption dispatch.
func (c *osr) resumeCheck(entry *Label) []*Label {
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
	return c.dispatch(c.sus)
}

func (c *osr) stmts(ss []Stmt) {
	for _, s := range ss {
		c.stmt(s)
	}
}

func (c *osr) stmt(s Stmt) {
	if c.gen.stmt(s, c.stmts) {
		return
	}
	b := c.b
	switch s := s.(type) {
	case Loop:
		c.loop(s, func() {}, c.stmts) // OSR methods have no patchpoints
	case Await:
		if c.opt.Strategy.ResumeByJump() {
			c.suspend(c.sus[c.next], s.Awaiter, continuation.SlotFtnEntry, 0, c.name, c.epilog) // GT_FTN_ENTRY
		} else {
			c.suspend(c.sus[c.next], s.Awaiter, continuation.SlotILOffset, c.il, "", c.epilog)
		}
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
