package jit

import (
	"github.com/osrsim/osrsim/continuation"
	. "github.com/osrsim/osrsim/emitter"
)

// gen is what the tier0 and OSR compilers share: expression, condition,
// assignment and call code. Expressions evaluate into EAX, left operand
// first (C#'s order), with RCX and RDX as scratch and frame temps for the
// left value while a non-leaf right operand is evaluated. Tier0 is naive
// (every variable goes through EAX); OSR operates on variables in place
// where x64 allows it.
type gen struct {
	b     *Builder
	m     *Method
	name  string // the version's symbol, a prefix for labels
	opt   Options
	naive bool
	loc   func(Local) Operand // where a variable lives
	temp  func(k int) Mem     // expression temp k
	loops []loopLabels        // enclosing loops, innermost last
	heads map[int]*Label      // loop heads by IL offset
	// throws are the cold run-time error blocks, emitted after the code.
	throws []throwSite
	// contHome is tier0's home slot of the continuation argument, which
	// a suspension may reuse.
	contHome func() Mem
}

type loopLabels struct{ brk, cont *Label }

type throwSite struct {
	l    *Label
	kind int
	pos  Pos
}

// Run-time error kinds passed to the error stub (interp.ErrKind's values).
const (
	errDivideByZero = 1
	errOverflow     = 2
)

// leaf is the operand of a constant, variable or static.
func (g *gen) leaf(e Expr) Operand {
	switch e := e.(type) {
	case Const:
		return Imm(e)
	case Local:
		return g.loc(e)
	case Static:
		return RIPSym(string(e))
	}
	return nil
}

func isMem(o Operand) bool { _, ok := o.(Mem); return ok }

// move copies src to dst, through RAX when both are in memory.
func (g *gen) move(sz Size, dst, src Operand) {
	if isMem(dst) && isMem(src) {
		g.b.Mov(sz, RAX, src)
		src = RAX
	}
	g.b.Mov(sz, dst, src)
}

// binop applies op(dst, src), through RAX when both are in memory.
func (g *gen) binop(op func(Size, Operand, Operand), sz Size, dst, src Operand) {
	if isMem(dst) && isMem(src) {
		g.b.Mov(sz, RAX, src)
		src = RAX
	}
	op(sz, dst, src)
}

// alu returns the instruction of an operator that x64 applies in place
// (op dst, src); nil for the others.
func (g *gen) alu(op Op) func(Size, Operand, Operand) {
	switch op {
	case OpAdd:
		return g.b.Add
	case OpSub:
		return g.b.Sub
	case OpAnd:
		return g.b.And
	case OpOr:
		return g.b.Or
	case OpXor:
		return g.b.Xor
	}
	return nil
}

// pure reports whether e has no side effects (no calls).
func pure(e Expr) bool {
	ok := true
	walkExpr(e, func(x Expr) {
		if _, c := x.(Call); c {
			ok = false
		}
	})
	return ok
}

// TempsNeeded is how many expression temps evaluating e takes, by the
// rules value follows.
func TempsNeeded(e Expr) int {
	switch e := e.(type) {
	case Unary:
		return TempsNeeded(e.X)
	case Binary:
		if e.Op == OpAndAlso || e.Op == OpOrElse || IsLeaf(e.R) {
			return max(TempsNeeded(e.L), TempsNeeded(e.R))
		}
		return max(TempsNeeded(e.L), 1+TempsNeeded(e.R))
	case Call:
		if allLeaves(e.Args) {
			return 0
		}
		n := len(e.Args)
		for i, a := range e.Args {
			n = max(n, i+TempsNeeded(a))
		}
		return n
	}
	return 0
}

// stmtTemps is the most temps any expression of m needs.
func stmtTemps(m *Method) int {
	n := 0
	Walk(m.Body, func(s Stmt) {
		switch s := s.(type) {
		case Assign:
			src := s.Src
			if s.Op != OpNone {
				src = Binary{Op: s.Op, L: s.Dst, R: s.Src}
			}
			n = max(n, TempsNeeded(src))
		default:
			WalkExprs(s, func(e Expr) { n = max(n, TempsNeeded(e)) })
		}
	})
	return n
}

func allLeaves(es []Expr) bool {
	for _, e := range es {
		if !IsLeaf(e) {
			return false
		}
	}
	return true
}

// value evaluates e into EAX; temps from d up are free.
func (g *gen) value(e Expr, d int) {
	b := g.b
	switch e := e.(type) {
	case Const, Local, Static:
		b.Mov(S32, RAX, g.leaf(e))
	case Unary:
		g.value(e.X, d)
		switch e.Op {
		case OpNeg:
			b.Neg(S32, RAX)
		case OpCompl:
			b.Not(S32, RAX)
		case OpNot:
			b.Xor(S32, RAX, Imm(1))
		}
	case Binary:
		switch {
		case e.Op == OpAndAlso || e.Op == OpOrElse:
			f, done := b.NewLabel(g.name+".false"), b.NewLabel(g.name+".bool")
			g.branch(e, d, false, f)
			b.Mov(S32, RAX, Imm(1))
			b.Jmp(done)
			b.Bind(f)
			b.Xor(S32, RAX, RAX)
			b.Bind(done)
		case e.Op.IsCompare():
			g.compare(e, d)
			b.Setcc(condOf(e.Op), RAX)
			b.MovZX(S32, RAX, S8, RAX)
		case e.Op == OpDiv || e.Op == OpRem || e.Op == OpShl || e.Op == OpShr:
			g.pair(e, d)
			g.divShift(e)
		case e.Op == OpMul:
			if k, ok := e.R.(Const); ok {
				g.value(e.L, d)
				b.ImulImm(S32, RAX, RAX, int32(k))
				return
			}
			g.pair(e, d)
			b.Imul(S32, RAX, RCX)
		default:
			op := g.alu(e.Op)
			if IsLeaf(e.R) {
				g.value(e.L, d)
				op(S32, RAX, g.leaf(e.R))
				return
			}
			g.pair(e, d)
			op(S32, RAX, RCX)
		}
	case Call:
		g.call(e, d)
	}
}

// pair evaluates e.L into EAX and e.R into ECX.
func (g *gen) pair(e Binary, d int) {
	b := g.b
	if IsLeaf(e.R) {
		g.value(e.L, d)
		b.Mov(S32, RCX, g.leaf(e.R))
		return
	}
	g.value(e.L, d)
	b.Mov(S32, g.temp(d), RAX)
	g.value(e.R, d+1)
	b.Mov(S32, RCX, RAX)
	b.Mov(S32, RAX, g.temp(d))
}

// divShift computes EAX op ECX for /, %, << and >>. Division checks its
// divisor first, like the JIT's explicit checks before idiv, so a zero
// divisor or int.MinValue / -1 is a reported error, not a #DE fault.
func (g *gen) divShift(e Binary) {
	b := g.b
	switch e.Op {
	case OpShl:
		b.ShlCL(S32, RAX)
		return
	case OpShr:
		b.SarCL(S32, RAX)
		return
	}
	k, isConst := e.R.(Const)
	if !isConst || k == 0 {
		b.Test(S32, RCX, RCX)
		b.Jcc(CondE, g.throw(errDivideByZero, e.Pos))
	}
	if !isConst || k == -1 {
		ok := b.NewLabel(g.name + ".div")
		b.Cmp(S32, RCX, Imm(-1))
		b.Jcc(CondNE, ok)
		b.Cmp(S32, RAX, Imm(-1<<31))
		b.Jcc(CondE, g.throw(errOverflow, e.Pos))
		b.Bind(ok)
	}
	b.Cdq()
	b.Idiv(S32, RCX)
	if e.Op == OpRem {
		b.Mov(S32, RAX, RDX)
	}
}

// throw returns the label of a cold block raising a run-time error.
func (g *gen) throw(kind int, pos Pos) *Label {
	l := g.b.NewLabel(g.name + ".throw")
	g.throws = append(g.throws, throwSite{l, kind, pos})
	return l
}

// emitThrows emits the cold error blocks: the error stub never returns.
func (g *gen) emitThrows() {
	for _, t := range g.throws {
		g.b.Bind(t.l)
		g.b.Mov(S32, RDX, Imm(t.pos.Code()))
		g.b.Mov(S32, RCX, Imm(t.kind))
		g.b.Call(Sym(continuation.SymThrow))
		g.b.Ud2()
	}
}

// compare sets the flags for e.L ? e.R.
func (g *gen) compare(e Binary, d int) {
	b := g.b
	if !g.naive {
		if l, ok := e.L.(Local); ok && IsLeaf(e.R) {
			g.binop(b.Cmp, S32, g.loc(l), g.leaf(e.R))
			return
		}
	}
	if IsLeaf(e.R) {
		g.value(e.L, d)
		b.Cmp(S32, RAX, g.leaf(e.R))
		return
	}
	g.pair(e, d)
	b.Cmp(S32, RAX, RCX)
}

func condOf(op Op) Cond {
	switch op {
	case OpLt:
		return CondL
	case OpLe:
		return CondLE
	case OpGt:
		return CondG
	case OpGe:
		return CondGE
	case OpEq:
		return CondE
	}
	return CondNE
}

// branch jumps to target when e's truth equals jumpIf, else falls through.
func (g *gen) branch(e Expr, d int, jumpIf bool, target *Label) {
	b := g.b
	switch x := e.(type) {
	case Const:
		if (x != 0) == jumpIf {
			b.Jmp(target)
		}
		return
	case Unary:
		if x.Op == OpNot {
			g.branch(x.X, d, !jumpIf, target)
			return
		}
	case Binary:
		switch {
		case x.Op.IsCompare():
			g.compare(x, d)
			c := condOf(x.Op)
			if !jumpIf {
				c = c.Invert()
			}
			b.Jcc(c, target)
			return
		case x.Op == OpAndAlso || x.Op == OpOrElse:
			// a && b jumps on true only if both are; on false if either is not.
			all := x.Op == OpAndAlso
			if jumpIf == all {
				skip := b.NewLabel(g.name + ".sc")
				g.branch(x.L, d, !all, skip)
				g.branch(x.R, d, jumpIf, target)
				b.Bind(skip)
			} else {
				g.branch(x.L, d, jumpIf, target)
				g.branch(x.R, d, jumpIf, target)
			}
			return
		}
	}
	g.value(e, d)
	b.Test(S32, RAX, RAX)
	if jumpIf {
		b.Jcc(CondNE, target)
	} else {
		b.Jcc(CondE, target)
	}
}

// call calls a synchronous method: arguments left to right (through temps
// unless all are leaves), in the argument registers, result in EAX.
func (g *gen) call(c Call, d int) {
	b := g.b
	leaves := allLeaves(c.Args)
	if !leaves {
		for i, a := range c.Args {
			g.value(a, d+i)
			b.Mov(S32, g.temp(d+i), RAX)
		}
	}
	for i, a := range c.Args {
		if leaves {
			b.Mov(S32, ArgRegs[i], g.leaf(a))
		} else {
			b.Mov(S32, ArgRegs[i], g.temp(d+i))
		}
	}
	b.Call(Sym(Tier0Sym(c.Method)))
}

// assign stores an assignment. Tier0 goes through EAX; OSR operates on the
// destination in place where it can.
func (g *gen) assign(s Assign) {
	b := g.b
	dst := g.leaf(s.Dst)
	if l, ok := s.Dst.(Local); ok && g.m.IsPtr(l) {
		g.move(S64, dst, g.leaf(s.Src))
		return
	}
	_, static := s.Dst.(Static)
	switch op := g.alu(s.Op); {
	case s.Op == OpNone:
		if k, ok := s.Src.(Const); ok {
			b.Mov(S32, dst, Imm(k))
			return
		}
		if !g.naive && IsLeaf(s.Src) {
			g.move(S32, dst, g.leaf(s.Src))
			return
		}
		g.value(s.Src, 0)
		b.Mov(S32, dst, RAX)
	case op != nil && pure(s.Src) && (static || !g.naive):
		// In place: op [static], src; in OSR also op reg, src.
		if k, ok := s.Src.(Const); ok && k == 1 && (s.Op == OpAdd || s.Op == OpSub) && !static {
			g.incDec(s.Op, dst)
			return
		}
		src := g.leaf(s.Src)
		if src == nil {
			g.value(s.Src, 0)
			src = RAX
		} else if static && isMem(src) {
			b.Mov(S32, RAX, src)
			src = RAX
		}
		g.binop(op, S32, dst, src)
	case op != nil && pure(s.Src) && IsLeaf(s.Src):
		// Tier0: load, operate, store.
		b.Mov(S32, RAX, dst)
		if k, ok := s.Src.(Const); ok && k == 1 && (s.Op == OpAdd || s.Op == OpSub) {
			g.incDec(s.Op, RAX)
		} else {
			op(S32, RAX, g.leaf(s.Src))
		}
		b.Mov(S32, dst, RAX)
	default:
		g.value(Binary{Op: s.Op, L: s.Dst, R: s.Src, Pos: s.Pos}, 0)
		g.move(S32, dst, RAX)
	}
}

func (g *gen) incDec(op Op, dst Operand) {
	if op == OpAdd {
		g.b.Inc(S32, dst)
	} else {
		g.b.Dec(S32, dst)
	}
}

// stmt emits the statements both versions compile alike; false for the
// ones each compiles itself (loops, awaits, returns).
func (g *gen) stmt(s Stmt, stmts func([]Stmt)) bool {
	b := g.b
	switch s := s.(type) {
	case Assign:
		g.assign(s)
	case If:
		els, done := b.NewLabel(g.name+".else"), b.NewLabel(g.name+".endif")
		g.branch(s.Cond, 0, false, els)
		stmts(s.Then)
		if len(s.Else) > 0 {
			b.Jmp(done)
		}
		b.Bind(els)
		stmts(s.Else)
		b.Bind(done)
	case Break:
		b.Jmp(g.loops[len(g.loops)-1].brk)
	case Continue:
		b.Jmp(g.loops[len(g.loops)-1].cont)
	case Eval:
		g.call(s.Call, 0)
	case Stopwatch:
		sym := continuation.SymStopwatchStart
		if s.Stop {
			sym = continuation.SymStopwatchStop
		}
		b.Call(Sym(sym))
	default:
		return false
	}
	return true
}

// loop emits a loop; head runs at its head (tier0's patchpoint).
func (g *gen) loop(s Loop, head func(), stmts func([]Stmt)) {
	b := g.b
	top, cont, exit := g.head(s.IL), b.NewLabel(g.name+".loop_cont"), b.NewLabel(g.name+".loop_exit")
	b.Bind(top)
	head()
	if s.Cond != nil && !s.BottomTest {
		g.branch(s.Cond, 0, false, exit)
	}
	g.loops = append(g.loops, loopLabels{brk: exit, cont: cont})
	stmts(s.Body)
	g.loops = g.loops[:len(g.loops)-1]
	b.Bind(cont)
	stmts(s.Post)
	if s.BottomTest && s.Cond != nil {
		g.branch(s.Cond, 0, true, top)
	} else {
		b.Jmp(top)
	}
	b.Bind(exit)
}

// head is the label of the loop head at IL offset il (where an OSR
// method enters).
func (g *gen) head(il int) *Label {
	if g.heads == nil {
		g.heads = map[int]*Label{}
	}
	if g.heads[il] == nil {
		g.heads[il] = g.b.NewLabel(g.name + ".loop_head")
	}
	return g.heads[il]
}
