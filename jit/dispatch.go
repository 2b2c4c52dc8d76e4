package jit

import (
	"github.com/osrsim/osrsim/continuation"
	. "github.com/osrsim/osrsim/emitter"
)

func (o Options) compareChain() bool { return o.ResumeDispatch == DispatchCompareChain }

// suspension is one await of a method version.
type suspension struct {
	state   int     // the State its continuation stores
	live    []Local // the continuation's locals, in slot order
	resumed *Label  // where execution goes on after the await
}

// states lists the resumption states of the awaits of m.Body[from:] in
// program order: numbered per version from 0, as CoreCLR does (from 1 over
// the whole method with the compare chain). first is the method-wide
// index of the first of them.
func (o Options) states(m *Method, from int) (states []int, first int) {
	first = countAwaits(m.Body[:from])
	n := countAwaits(m.Body)
	for k := first; k < n; k++ {
		if o.compareChain() {
			states = append(states, k+1)
		} else {
			states = append(states, k-first)
		}
	}
	return states, first
}

// SuspendSyms names every suspension point of m's versions (tier0 and the
// OSR method of each loop): the ranges the engines count suspensions by.
func (o Options) SuspendSyms(m *Method) []string {
	var out []string
	add := func(fn string, from int) {
		states, _ := o.states(m, from)
		for _, st := range states {
			out = append(out, SuspendSym(fn, st))
		}
	}
	add(Tier0Sym(m.Name), 0)
	for _, il := range m.Loops() {
		_, top := m.LoopPath(il)
		add(OSRSym(m.Name, il), top)
	}
	return out
}

// suspensions lists the awaits of m.Body[from:] in program order with
// their states and layouts.
func (g *gen) suspensions(from int) []suspension {
	live := g.m.Live().AcrossAwait
	union := g.union()
	states, first := g.opt.states(g.m, from)
	var out []suspension
	for i, st := range states {
		s := suspension{state: st, live: live[first+i], resumed: g.b.NewLabel(g.name + ".resumed")}
		if g.opt.compareChain() {
			s.live = union
		}
		out = append(out, s)
	}
	return out
}

// union is the one layout of the compare-chain variant: every variable
// live across any await, in declaration order.
func (g *gen) union() []Local {
	in := map[Local]bool{}
	for _, l := range g.m.Live().AcrossAwait {
		for _, v := range l {
			in[v] = true
		}
	}
	var out []Local
	for _, v := range g.m.Vars() {
		if in[v] {
			out = append(out, v)
		}
	}
	return out
}

func countAwaits(ss []Stmt) int {
	n := 0
	Walk(ss, func(s Stmt) {
		if _, ok := s.(Await); ok {
			n++
		}
	})
	return n
}

// suspend emits a suspension: fill a continuation, return it to the caller.
func (g *gen) suspend(s suspension, awaiter Local, slot continuation.SlotKind, il int, osrSym string, epilog *Label) {
	var locals []continuation.Slot
	for _, v := range s.live {
		locals = append(locals, continuation.Slot{Op: g.loc(v), Ref: g.m.IsPtr(v)})
	}
	g.opt.Runtime.EmitSuspend(g.b, continuation.Suspend{
		Method: g.m.Name, State: s.state, Slot: slot, IL: il, OSRSym: osrSym,
		Locals: locals, Awaiter: g.loc(awaiter), EventSym: SuspendSym(g.name, s.state), Temp: g.contHome(),
	})
	g.b.Jmp(epilog)
	g.b.Bind(s.resumed)
}

// dispatch emits the resumption switch of a version whose continuation is
// in RAX: restore the live locals of the state it names and go on after
// its await. It returns the jump table to emit after the function (nil
// unless there is a switch).
func (g *gen) dispatch(sus []suspension) []*Label {
	b := g.b
	restore := func(s suspension) {
		var dsts []Operand
		for _, v := range s.live {
			dsts = append(dsts, g.loc(v))
		}
		g.opt.Runtime.EmitRestore(b, RAX, dsts, RCX)
	}
	if g.opt.compareChain() {
		restore(sus[0])
		b.Mov(S32, RCX, M(RAX, continuation.OffState))
		for _, s := range sus {
			b.Cmp(S32, RCX, Imm(s.state))
			b.Jcc(CondE, s.resumed)
		}
		b.Ud2() // unknown state
		return nil
	}
	res := make([]*Label, len(sus))
	for k := range sus {
		res[k] = b.NewLabel(SuspendSym(g.name, sus[k].state) + ".resume")
	}
	var table []*Label
	switch n := len(sus); {
	case n == 2:
		b.Cmp(S32, M(RAX, continuation.OffState), Imm(0))
		b.Jcc(CondNE, res[1])
	case n > 2:
		// switch (State), the default wrapping to the first state.
		b.Mov(S32, RCX, M(RAX, continuation.OffState))
		b.Cmp(S32, RCX, Imm(n-1))
		b.Jcc(CondA, res[0])
		b.Lea(RDX, RIPSym(g.jumpTable()))
		b.Jmp(MIdx(RDX, RCX, 8, 0))
		table = res
	}
	for k, s := range sus {
		b.Bind(res[k])
		restore(s)
		b.Jmp(s.resumed)
	}
	return table
}

func (g *gen) jumpTable() string { return g.name + ".states" }

// emitJumpTable lays out a switch's targets after the function.
func (g *gen) emitJumpTable(targets []*Label) {
	if targets == nil {
		return
	}
	b := g.b
	b.Align(8, 0xcc)
	b.DefineSymbol(g.jumpTable())
	for _, l := range targets {
		b.U64Label(l)
	}
	b.EndSymbol(g.jumpTable())
}

// ContinuationSlots is how many locals the largest continuation of m
// carries: it sizes the runtime's continuation blocks.
func (o Options) ContinuationSlots(m *Method) int {
	g := &gen{m: m, opt: o}
	n := 0
	for _, l := range m.Live().AcrossAwait {
		n = max(n, len(l))
	}
	if o.compareChain() {
		n = len(g.union())
	}
	return n
}
