package jit

import "math/big"

// Liveness across awaits: a continuation carries exactly the variables live
// after its await (CoreCLR's async transformation asks the JIT's liveness
// for the locals live across each suspension point). The analysis runs on a
// small control-flow graph of the method's simple statements.

// cfgNode is one simple statement or condition test.
type cfgNode struct {
	uses, defs []int // variable indices
	succ       []int
	await      int // program-order index of the await, or -1
}

type cfgBuilder struct {
	m     *Method
	idx   map[Local]int
	nodes []cfgNode
	await int // next await index, counting down (the builder runs backward)
}

// exit is the successor of returns and of the method's last statement.
const exit = -1

func (b *cfgBuilder) node(uses []int, defs []int, succ ...int) int {
	b.nodes = append(b.nodes, cfgNode{uses: uses, defs: defs, succ: succ, await: -1})
	return len(b.nodes) - 1
}

// uses lists the variables e reads.
func (b *cfgBuilder) uses(es ...Expr) []int {
	var out []int
	for _, e := range es {
		if e == nil {
			continue
		}
		walkExpr(e, func(x Expr) {
			if l, ok := x.(Local); ok {
				out = append(out, b.idx[l])
			}
		})
	}
	return out
}

// walkExpr calls f for e and its subexpressions.
func walkExpr(e Expr, f func(Expr)) {
	WalkExprs(Return{Value: e}, f)
}

// seq builds ss backward: the entry node of ss, with next after its end.
// brk and cont are the targets of break and continue.
func (b *cfgBuilder) seq(ss []Stmt, next, brk, cont int) int {
	for i := len(ss) - 1; i >= 0; i-- {
		next = b.stmt(ss[i], next, brk, cont)
	}
	return next
}

func (b *cfgBuilder) stmt(s Stmt, next, brk, cont int) int {
	switch s := s.(type) {
	case Assign:
		var defs []int
		srcs := []Expr{s.Src}
		if l, ok := s.Dst.(Local); ok {
			defs = []int{b.idx[l]}
		}
		if s.Op != OpNone {
			srcs = append(srcs, s.Dst)
		}
		return b.node(b.uses(srcs...), defs, next)
	case If:
		els := b.seq(s.Else, next, brk, cont)
		then := b.seq(s.Then, next, brk, cont)
		return b.node(b.uses(s.Cond), nil, then, els)
	case Loop:
		test := b.node(b.uses(s.Cond), nil) // successors set below
		post := b.seq(s.Post, test, next, test)
		body := b.seq(s.Body, post, next, post)
		b.nodes[test].succ = []int{body}
		if s.Cond != nil {
			b.nodes[test].succ = append(b.nodes[test].succ, next)
		}
		if s.BottomTest {
			return body
		}
		return test
	case Break:
		return b.node(nil, nil, brk)
	case Continue:
		return b.node(nil, nil, cont)
	case Return:
		return b.node(b.uses(s.Value), nil, exit)
	case Await:
		n := b.node(b.uses(s.Awaiter), nil, next)
		b.await--
		b.nodes[n].await = b.await
		return n
	case Eval:
		return b.node(b.uses(s.Call), nil, next)
	}
	return b.node(nil, nil, next) // Stopwatch
}

// Liveness is the result of the analysis.
type Liveness struct {
	// AcrossAwait[k] lists the variables live after the method's k-th
	// await (program order), in declaration order.
	AcrossAwait [][]Local
}

// Live analyses m.
func (m *Method) Live() Liveness {
	vars := m.Vars()
	b := &cfgBuilder{m: m, idx: map[Local]int{}}
	for i, v := range vars {
		b.idx[v] = i
	}
	n := 0
	Walk(m.Body, func(s Stmt) {
		if _, ok := s.(Await); ok {
			n++
		}
	})
	b.await = n
	b.seq(m.Body, exit, exit, exit)

	in := make([]big.Int, len(b.nodes))
	out := make([]big.Int, len(b.nodes))
	for changed := true; changed; {
		changed = false
		for i := len(b.nodes) - 1; i >= 0; i-- {
			nd := &b.nodes[i]
			var o big.Int
			for _, s := range nd.succ {
				if s != exit {
					o.Or(&o, &in[s])
				}
			}
			var x big.Int
			x.Set(&o)
			for _, d := range nd.defs {
				x.SetBit(&x, d, 0)
			}
			for _, u := range nd.uses {
				x.SetBit(&x, u, 1)
			}
			if x.Cmp(&in[i]) != 0 || o.Cmp(&out[i]) != 0 {
				in[i], out[i] = x, o
				changed = true
			}
		}
	}
	l := Liveness{AcrossAwait: make([][]Local, n)}
	for i, nd := range b.nodes {
		if nd.await < 0 {
			continue
		}
		for j, v := range vars {
			if out[i].Bit(j) == 1 {
				l.AcrossAwait[nd.await] = append(l.AcrossAwait[nd.await], v)
			}
		}
	}
	return l
}

// MaxLiveAcrossAwaits is the most variables any of m's continuations
// carries: it sizes the continuation allocation.
func (m *Method) MaxLiveAcrossAwaits() int {
	n := 0
	for _, l := range m.Live().AcrossAwait {
		n = max(n, len(l))
	}
	return n
}
