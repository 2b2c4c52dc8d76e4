// Package interp is the reference semantics of the jit IR: a Go
// interpreter of a lowered program. Every run of a program in either engine
// is checked against it (final statics, result, suspensions, resumptions,
// run-time errors).
//
// The interpreter compiles the IR to Go closures first, so it runs the
// native-scale programs (tens of millions of iterations) in about a second.
package interp

import (
	"errors"
	"fmt"

	"github.com/osrsim/osrsim/jit"
)

// Result is what a program computes.
type Result struct {
	// Value is the entry method's result (0 when it has none).
	Value int32
	// Statics holds every static field's final value.
	Statics map[jit.Static]int32
	// Awaits counts executed awaits. Every await suspends (the awaiter
	// never completes synchronously) and the driver resumes each one, so
	// this is both the suspensions and the resumptions.
	Awaits uint64
	// Window is the measured region between the stopwatch marks.
	Window Window
	// Heads counts executions of each loop head (each patchpoint).
	Heads map[Head]uint64
	// Err is the run-time error that stopped the program, or nil.
	Err *RuntimeError
}

// Window describes the stopwatch region.
type Window struct {
	Started, Stopped bool
	// Awaits executed between the marks (resumptions inside the region).
	Awaits uint64
}

// Head names a loop head: a method and its IL offset.
type Head struct {
	Method string
	IL     int
}

// ErrKind is a run-time error.
type ErrKind uint8

// The run-time errors a program of the IR can raise; the numbers are what
// generated code passes to the error stub.
const (
	DivideByZero ErrKind = 1 // C#'s DivideByZeroException
	Overflow     ErrKind = 2 // int.MinValue / -1 (OverflowException)
)

func (k ErrKind) String() string {
	switch k {
	case DivideByZero:
		return "division by zero"
	case Overflow:
		return "overflow (int.MinValue / -1)"
	}
	return fmt.Sprintf("run-time error %d", uint8(k))
}

// RuntimeError is a run-time error at a source position.
type RuntimeError struct {
	Kind   ErrKind
	Method string
	Pos    jit.Pos
}

func (e *RuntimeError) Error() string {
	return fmt.Sprintf("%s: run-time error in %s: %s", e.Pos, e.Method, e.Kind)
}

// ErrBudget is returned when a program runs longer than its step budget.
var ErrBudget = errors.New("the program did not finish within the interpreter's step budget")

// Run interprets p: the entry method (p.Methods[0]) called with args, one
// per parameter (reference parameters take any value). budget bounds the
// loop-head executions and calls (0: no bound).
func Run(p *jit.Class, args []int32, budget uint64) (*Result, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	entry := p.Methods[0]
	if len(args) != len(entry.Params) {
		return nil, fmt.Errorf("entry method %s takes %d arguments, got %d", entry.Name, len(entry.Params), len(args))
	}
	in := &machine{prog: p, statics: map[jit.Static]int{}, budget: budget,
		res: &Result{Statics: map[jit.Static]int32{}, Heads: map[Head]uint64{}}, heads: map[Head]*uint64{}}
	for i, f := range p.Fields {
		in.statics[f.Sym] = i
		in.vals = append(in.vals, f.Init)
	}
	for _, m := range p.Methods {
		in.methods = append(in.methods, &method{m: m})
	}
	for _, m := range in.methods {
		in.compile(m)
	}
	err := in.call(in.methods[0], args)
	for h, n := range in.heads {
		if *n > 0 {
			in.res.Heads[h] = *n
		}
	}
	for sym, i := range in.statics {
		in.res.Statics[sym] = in.vals[i]
	}
	if err != nil {
		return nil, err
	}
	return in.res, nil
}

type machine struct {
	prog    *jit.Class
	methods []*method
	statics map[jit.Static]int
	vals    []int32
	res     *Result
	heads   map[Head]*uint64
	steps   uint64
	budget  uint64
	inWin   bool
}

type method struct {
	m      *jit.Method
	nvars  int
	params []int
	body   exec
}

type frame struct {
	v   []int32
	ret int32
}

// ctl is how a statement ends.
type ctl uint8

const (
	next ctl = iota
	brk
	cont
	ret
)

type (
	exec func(f *frame) ctl
	eval func(f *frame) int32
)

// stop unwinds the interpreter on a run-time error or the budget.
type stop struct{ err error }

func (in *machine) call(m *method, args []int32) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s, ok := r.(stop)
			if !ok {
				panic(r)
			}
			var re *RuntimeError
			if errors.As(s.err, &re) {
				in.res.Err = re
				return
			}
			err = s.err
		}
	}()
	in.res.Value = in.invoke(m, args)
	return nil
}

func (in *machine) invoke(m *method, args []int32) int32 {
	f := &frame{v: make([]int32, m.nvars)}
	for i, a := range args {
		f.v[m.params[i]] = a
	}
	m.body(f)
	return f.ret
}

func (in *machine) step() {
	in.steps++
	if in.budget != 0 && in.steps > in.budget {
		panic(stop{ErrBudget})
	}
}

func (in *machine) compile(m *method) {
	idx := map[jit.Local]int{}
	for i, v := range m.m.Vars() {
		idx[v] = i
	}
	m.nvars = len(idx)
	for _, p := range m.m.Params {
		m.params = append(m.params, idx[p])
	}
	c := &compiler{in: in, m: m.m, idx: idx}
	m.body = c.seq(m.m.Body)
}

type compiler struct {
	in  *machine
	m   *jit.Method
	idx map[jit.Local]int
}

func (c *compiler) seq(ss []jit.Stmt) exec {
	fs := make([]exec, len(ss))
	for i, s := range ss {
		fs[i] = c.stmt(s)
	}
	return func(f *frame) ctl {
		for _, s := range fs {
			if r := s(f); r != next {
				return r
			}
		}
		return next
	}
}

func (c *compiler) stmt(s jit.Stmt) exec {
	in := c.in
	switch s := s.(type) {
	case jit.Assign:
		src := c.expr(s.Src)
		if s.Op != jit.OpNone {
			src = c.binary(s.Op, c.expr(s.Dst), src, s.Dst, s.Src, s.Pos)
		}
		switch d := s.Dst.(type) {
		case jit.Local:
			i := c.idx[d]
			return func(f *frame) ctl { f.v[i] = src(f); return next }
		case jit.Static:
			i := in.statics[d]
			return func(f *frame) ctl { in.vals[i] = src(f); return next }
		}
	case jit.If:
		cond, then, els := c.expr(s.Cond), c.seq(s.Then), c.seq(s.Else)
		return func(f *frame) ctl {
			if cond(f) != 0 {
				return then(f)
			}
			return els(f)
		}
	case jit.Loop:
		return c.loop(s)
	case jit.Break:
		return func(*frame) ctl { return brk }
	case jit.Continue:
		return func(*frame) ctl { return cont }
	case jit.Return:
		if s.Value == nil {
			return func(*frame) ctl { return ret }
		}
		v := c.expr(s.Value)
		return func(f *frame) ctl { f.ret = v(f); return ret }
	case jit.Await:
		return func(*frame) ctl {
			in.res.Awaits++
			if in.inWin {
				in.res.Window.Awaits++
			}
			return next
		}
	case jit.Eval:
		call := c.expr(s.Call)
		return func(f *frame) ctl { call(f); return next }
	case jit.Stopwatch:
		return func(*frame) ctl {
			w := &in.res.Window
			if s.Stop {
				w.Stopped, in.inWin = w.Started, false
			} else {
				w.Started, w.Stopped, w.Awaits, in.inWin = true, false, 0, true
			}
			return next
		}
	}
	panic(fmt.Sprintf("interp: unknown statement %T", s))
}

func (c *compiler) loop(s jit.Loop) exec {
	in := c.in
	h := Head{c.m.Name, s.IL}
	count := in.heads[h]
	if count == nil {
		count = new(uint64)
		in.heads[h] = count
	}
	cond := func(*frame) int32 { return 1 }
	if s.Cond != nil {
		cond = c.expr(s.Cond)
	}
	body, post := c.seq(s.Body), c.seq(s.Post)
	// iterate runs the body and the iterators; false when the loop ends
	// (break or return).
	iterate := func(f *frame) (ctl, bool) {
		switch body(f) {
		case brk:
			return next, false
		case ret:
			return ret, false
		}
		if post(f) == ret {
			return ret, false
		}
		return next, true
	}
	if s.BottomTest { // the head is the top of the body
		return func(f *frame) ctl {
			for {
				*count++
				in.step()
				if r, ok := iterate(f); !ok {
					return r
				}
				if cond(f) == 0 {
					return next
				}
			}
		}
	}
	return func(f *frame) ctl {
		for {
			*count++
			in.step()
			if cond(f) == 0 {
				return next
			}
			if r, ok := iterate(f); !ok {
				return r
			}
		}
	}
}

func (c *compiler) expr(e jit.Expr) eval {
	in := c.in
	switch e := e.(type) {
	case jit.Const:
		v := int32(e)
		return func(*frame) int32 { return v }
	case jit.Local:
		i := c.idx[e]
		return func(f *frame) int32 { return f.v[i] }
	case jit.Static:
		i := in.statics[e]
		return func(*frame) int32 { return in.vals[i] }
	case jit.Unary:
		x := c.expr(e.X)
		switch e.Op {
		case jit.OpNeg:
			return func(f *frame) int32 { return -x(f) }
		case jit.OpCompl:
			return func(f *frame) int32 { return ^x(f) }
		case jit.OpNot:
			return func(f *frame) int32 { return x(f) ^ 1 }
		}
	case jit.Binary:
		return c.binary(e.Op, c.expr(e.L), c.expr(e.R), e.L, e.R, e.Pos)
	case jit.Call:
		var callee *method
		for _, m := range in.methods {
			if m.m.Name == e.Method {
				callee = m
			}
		}
		args := make([]eval, len(e.Args))
		for i, a := range e.Args {
			args[i] = c.expr(a)
		}
		return func(f *frame) int32 {
			vs := make([]int32, len(args))
			for i, a := range args {
				vs[i] = a(f)
			}
			in.step()
			return in.invoke(callee, vs)
		}
	}
	panic(fmt.Sprintf("interp: unknown expression %T", e))
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

func (c *compiler) binary(op jit.Op, l, r eval, le, re jit.Expr, pos jit.Pos) eval {
	fail := func(k ErrKind) { panic(stop{&RuntimeError{Kind: k, Method: c.m.Name, Pos: pos}}) }
	switch op {
	case jit.OpAdd:
		return func(f *frame) int32 { return l(f) + r(f) }
	case jit.OpSub:
		return func(f *frame) int32 { return l(f) - r(f) }
	case jit.OpMul:
		return func(f *frame) int32 { return l(f) * r(f) }
	case jit.OpDiv, jit.OpRem:
		rem := op == jit.OpRem
		return func(f *frame) int32 {
			a, b := l(f), r(f)
			switch {
			case b == 0:
				fail(DivideByZero)
			case b == -1 && a == -1<<31:
				fail(Overflow)
			case rem:
				return a % b
			}
			return a / b
		}
	case jit.OpAnd:
		return func(f *frame) int32 { return l(f) & r(f) }
	case jit.OpOr:
		return func(f *frame) int32 { return l(f) | r(f) }
	case jit.OpXor:
		return func(f *frame) int32 { return l(f) ^ r(f) }
	case jit.OpShl:
		return func(f *frame) int32 { return l(f) << (r(f) & 31) }
	case jit.OpShr:
		return func(f *frame) int32 { return l(f) >> (r(f) & 31) }
	case jit.OpLt:
		return func(f *frame) int32 { return b2i(l(f) < r(f)) }
	case jit.OpLe:
		return func(f *frame) int32 { return b2i(l(f) <= r(f)) }
	case jit.OpGt:
		return func(f *frame) int32 { return b2i(l(f) > r(f)) }
	case jit.OpGe:
		return func(f *frame) int32 { return b2i(l(f) >= r(f)) }
	case jit.OpEq:
		return func(f *frame) int32 { return b2i(l(f) == r(f)) }
	case jit.OpNe:
		return func(f *frame) int32 { return b2i(l(f) != r(f)) }
	case jit.OpAndAlso:
		return func(f *frame) int32 { return b2i(l(f) != 0 && r(f) != 0) }
	case jit.OpOrElse:
		return func(f *frame) int32 { return b2i(l(f) != 0 || r(f) != 0) }
	}
	panic(fmt.Sprintf("interp: unknown operator %v (%v, %v)", op, le, re))
}
