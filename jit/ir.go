// Package jit is a small method IR and two compilers for it: tier0 (every
// local in a frame slot, patchpoint counters at loop heads, naive code like
// .NET tier0) and OSR (entered at one patchpoint, locals in registers, on top
// of the live tier0 frame).
//
// The IR is structured: int expressions with C#'s wrap-around semantics,
// assignments (plain and compound), if/else, loops with a patchpoint at
// their head, break/continue/return, calls to synchronous methods and
// awaits. Package jit/interp is its reference semantics; package csharp
// lowers a C# subset to it.
package jit

import (
	"fmt"

	"github.com/osrsim/osrsim/emitter"
)

// Local names a parameter or local variable.
type Local string

// Static names a static int field by its data symbol. Class constants are
// statics too (read-only): the image reads them from data, so the code of a
// workload does not depend on its scale.
type Static string

// Const is a 32-bit integer constant (bools are 0 and 1).
type Const int32

// Expr is an int (or bool: 0/1) expression.
type Expr interface{ isExpr() }

// Place is something an assignment can store to: a Local or a Static.
type Place interface {
	Expr
	isPlace()
}

// Op is an operator.
type Op uint8

// Operators. Arithmetic wraps like C# int; shifts mask their count to 5
// bits; Div and Rem stop the program with a run-time error on a zero
// divisor or int.MinValue / -1 (C#'s DivideByZeroException and
// OverflowException).
const (
	OpNone Op = iota
	OpAdd
	OpSub
	OpMul
	OpDiv
	OpRem
	OpAnd
	OpOr
	OpXor
	OpShl
	OpShr
	OpLt // comparisons yield a bool
	OpLe
	OpGt
	OpGe
	OpEq
	OpNe
	OpAndAlso // short-circuit &&
	OpOrElse  // short-circuit ||
	OpNeg     // unary -
	OpCompl   // unary ~
	OpNot     // unary ! on a bool
)

var opNames = [...]string{OpNone: "", OpAdd: "+", OpSub: "-", OpMul: "*", OpDiv: "/", OpRem: "%",
	OpAnd: "&", OpOr: "|", OpXor: "^", OpShl: "<<", OpShr: ">>", OpLt: "<", OpLe: "<=", OpGt: ">",
	OpGe: ">=", OpEq: "==", OpNe: "!=", OpAndAlso: "&&", OpOrElse: "||", OpNeg: "-", OpCompl: "~", OpNot: "!"}

func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

// IsCompare reports whether o is a comparison.
func (o Op) IsCompare() bool { return o >= OpLt && o <= OpNe }

// Pos is a source position (1-based), for run-time errors.
type Pos struct{ Line, Col int }

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// Code packs p into the 32-bit immediate generated code passes to the
// run-time error stub; PosFromCode unpacks it.
func (p Pos) Code() int32 { return int32(min(p.Line, 1<<19-1)<<12 | min(p.Col, 1<<12-1)) }

// PosFromCode is the inverse of Pos.Code.
func PosFromCode(c uint32) Pos { return Pos{Line: int(c >> 12), Col: int(c & (1<<12 - 1))} }

// Unary is Op X (OpNeg, OpCompl, OpNot).
type Unary struct {
	Op Op
	X  Expr
}

// Binary is L Op R. Pos locates Div and Rem for run-time errors.
type Binary struct {
	Op   Op
	L, R Expr
	Pos  Pos
}

// Call calls a synchronous static method of the program (int result).
type Call struct {
	Method string
	Args   []Expr
}

func (Local) isExpr()   {}
func (Static) isExpr()  {}
func (Const) isExpr()   {}
func (Unary) isExpr()   {}
func (Binary) isExpr()  {}
func (Call) isExpr()    {}
func (Local) isPlace()  {}
func (Static) isPlace() {}

// IsLeaf reports whether e needs no evaluation: a constant, local or static.
func IsLeaf(e Expr) bool {
	switch e.(type) {
	case Const, Local, Static:
		return true
	}
	return false
}

// Stmt is a statement.
type Stmt interface{ isStmt() }

// Assign is Dst = Src, or with Op set, Dst = Dst Op Src (compound
// assignment, ++ and --); Pos locates a compound division.
type Assign struct {
	Dst Place
	Op  Op
	Src Expr
	Pos Pos
}

// If is if (Cond) Then else Else.
type If struct {
	Cond       Expr
	Then, Else []Stmt
}

// Loop has a patchpoint at its head, identified by the head's IL offset.
// The head tests Cond (nil: always true) and runs Body, then Post (a for
// loop's iterators; continue jumps there). A BottomTest loop (do..while)
// runs Body first: its head is the top of the body and Cond is tested after
// Post.
type Loop struct {
	IL         int
	Cond       Expr
	Body, Post []Stmt
	BottomTest bool
}

// Break leaves the innermost loop; Continue goes to its Post.
type Break struct{}
type Continue struct{}

// Return leaves the method with Value (nil in a method without a result).
type Return struct{ Value Expr }

// Await suspends on an awaiter that never completes synchronously.
type Await struct{ Awaiter Local }

// Eval calls a method for its side effects.
type Eval struct{ Call Call }

// Stopwatch marks the measured region: Stop false is Stopwatch.StartNew(),
// Stop true the use of its Elapsed. Per-resume figures count only between
// the two.
type Stopwatch struct{ Stop bool }

func (Assign) isStmt()    {}
func (If) isStmt()        {}
func (Loop) isStmt()      {}
func (Break) isStmt()     {}
func (Continue) isStmt()  {}
func (Return) isStmt()    {}
func (Await) isStmt()     {}
func (Eval) isStmt()      {}
func (Stopwatch) isStmt() {}

// Method is a static method.
type Method struct {
	Name  string
	Async bool // takes and returns a continuation
	// Result: the method returns an int (int or Task<int>).
	Result bool
	// Params arrive in argument registers after the continuation (async)
	// or from the first (sync): at most 3 for async, 4 for sync.
	Params []Local
	Locals []Local
	// Ptrs are the locals holding object references (64-bit); the rest
	// are 32-bit ints.
	Ptrs []Local
	Body []Stmt
	// ExtraFrame is extra tier0 frame space in bytes (temps, structs),
	// zero-initialised in the prolog like the rest of the frame.
	ExtraFrame int
}

// Vars lists parameters then locals.
func (m *Method) Vars() []Local { return append(append([]Local(nil), m.Params...), m.Locals...) }

// SizeOf is the operand size of v: 64-bit for references, 32-bit for ints.
func (m *Method) SizeOf(v Local) emitter.Size {
	if m.IsPtr(v) {
		return emitter.S64
	}
	return emitter.S32
}

// IsPtr reports whether v holds a reference.
func (m *Method) IsPtr(v Local) bool {
	for _, p := range m.Ptrs {
		if p == v {
			return true
		}
	}
	return false
}

// MaxParams is how many parameters a method may take (the argument
// registers left after the continuation of an async method).
func (m *Method) MaxParams() int {
	if m.Async {
		return len(ArgRegs) - 1
	}
	return len(ArgRegs)
}

// Field is a static int field of a class.
type Field struct {
	Sym   Static
	Init  int32
	Const bool // a class constant: read-only
}

// Class is a set of static methods and the static fields they share (a C#
// class). Methods[0] is the entry method (the one the driver calls).
type Class struct {
	Methods []*Method
	Fields  []Field
}

// Method returns the method called name, or nil.
func (p *Class) Method(name string) *Method {
	for _, m := range p.Methods {
		if m.Name == name {
			return m
		}
	}
	return nil
}

// Validate checks the program is within what the compilers support: every
// method valid, calls to known synchronous methods with the right number
// of arguments, no recursion, no assignment to a constant.
func (p *Class) Validate() error {
	fields := map[Static]Field{}
	for _, f := range p.Fields {
		if _, dup := fields[f.Sym]; dup {
			return fmt.Errorf("static %s declared twice", f.Sym)
		}
		fields[f.Sym] = f
	}
	names := map[string]bool{}
	for _, m := range p.Methods {
		if names[m.Name] {
			return fmt.Errorf("method %s declared twice", m.Name)
		}
		names[m.Name] = true
		if err := m.Validate(); err != nil {
			return err
		}
		var err error
		Walk(m.Body, func(s Stmt) {
			if a, ok := s.(Assign); ok {
				if st, ok := a.Dst.(Static); ok && fields[st].Const {
					err = firstErr(err, fmt.Errorf("method %s: assignment to constant %s", m.Name, st))
				}
			}
			WalkExprs(s, func(e Expr) {
				switch e := e.(type) {
				case Static:
					if _, ok := fields[e]; !ok {
						err = firstErr(err, fmt.Errorf("method %s: unknown static %s", m.Name, e))
					}
				case Call:
					c := p.Method(e.Method)
					switch {
					case c == nil:
						err = firstErr(err, fmt.Errorf("method %s: call to unknown method %s", m.Name, e.Method))
					case c.Async || !c.Result:
						err = firstErr(err, fmt.Errorf("method %s: %s is not a synchronous method with an int result", m.Name, e.Method))
					case len(e.Args) != len(c.Params):
						err = firstErr(err, fmt.Errorf("method %s: %s takes %d arguments, got %d", m.Name, e.Method, len(c.Params), len(e.Args)))
					}
				}
			})
		})
		if err != nil {
			return err
		}
	}
	if cyc := p.recursion(); cyc != "" {
		return fmt.Errorf("recursive calls (%s)", cyc)
	}
	return nil
}

// recursion returns a call cycle, or "".
func (p *Class) recursion() string {
	state := map[string]int{} // 1 visiting, 2 done
	var path []string
	var visit func(name string) string
	visit = func(name string) string {
		switch state[name] {
		case 1:
			return fmt.Sprint(append(path, name))
		case 2:
			return ""
		}
		state[name] = 1
		path = append(path, name)
		m := p.Method(name)
		cyc := ""
		if m != nil {
			for _, c := range m.Callees() {
				if cyc = visit(c); cyc != "" {
					break
				}
			}
		}
		path = path[:len(path)-1]
		state[name] = 2
		return cyc
	}
	for _, m := range p.Methods {
		if cyc := visit(m.Name); cyc != "" {
			return cyc
		}
	}
	return ""
}

// Callees lists the methods m calls, in first-call order.
func (m *Method) Callees() []string {
	var out []string
	seen := map[string]bool{}
	Walk(m.Body, func(s Stmt) {
		WalkExprs(s, func(e Expr) {
			if c, ok := e.(Call); ok && !seen[c.Method] {
				seen[c.Method] = true
				out = append(out, c.Method)
			}
		})
	})
	return out
}

// Validate checks the method on its own.
func (m *Method) Validate() error {
	if len(m.Params) > m.MaxParams() {
		return fmt.Errorf("method %s: %d parameters, at most %d", m.Name, len(m.Params), m.MaxParams())
	}
	known := map[Local]bool{}
	for _, v := range m.Vars() {
		if known[v] {
			return fmt.Errorf("method %s: %s declared twice", m.Name, v)
		}
		known[v] = true
	}
	var err error
	fail := func(format string, args ...any) {
		err = firstErr(err, fmt.Errorf("method %s: "+format, append([]any{m.Name}, args...)...))
	}
	ils := map[int]bool{}
	var check func(ss []Stmt, inLoop bool)
	check = func(ss []Stmt, inLoop bool) {
		for _, s := range ss {
			WalkExprs(s, func(e Expr) {
				if l, ok := e.(Local); ok && !known[l] {
					fail("unknown local %s", l)
				}
			})
			switch s := s.(type) {
			case If:
				check(s.Then, inLoop)
				check(s.Else, inLoop)
			case Loop:
				if ils[s.IL] {
					fail("two loops at IL %#x", s.IL)
				}
				ils[s.IL] = true
				check(s.Body, true)
				check(s.Post, true)
			case Break, Continue:
				if !inLoop {
					fail("%T outside a loop", s)
				}
			case Await:
				if !m.Async {
					fail("await in a non-async method")
				}
				if !m.IsPtr(s.Awaiter) {
					fail("await on %s, which is not an object reference", s.Awaiter)
				}
			case Return:
				if (s.Value != nil) != m.Result {
					fail("return value does not match the method's result")
				}
			case Stopwatch:
				if !m.Async {
					fail("stopwatch outside the async entry method")
				}
			}
		}
	}
	check(m.Body, false)
	return err
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// Walk calls f for every statement in ss, in program order, parents before
// their children.
func Walk(ss []Stmt, f func(Stmt)) {
	for _, s := range ss {
		f(s)
		switch s := s.(type) {
		case If:
			Walk(s.Then, f)
			Walk(s.Else, f)
		case Loop:
			Walk(s.Body, f)
			Walk(s.Post, f)
		}
	}
}

// WalkExprs calls f for every expression s evaluates directly (not in
// nested statements), and their subexpressions, parents first. An
// assignment's destination counts as an expression (it is read by compound
// assignments).
func WalkExprs(s Stmt, f func(Expr)) {
	var walk func(e Expr)
	walk = func(e Expr) {
		if e == nil {
			return
		}
		f(e)
		switch e := e.(type) {
		case Unary:
			walk(e.X)
		case Binary:
			walk(e.L)
			walk(e.R)
		case Call:
			for _, a := range e.Args {
				walk(a)
			}
		}
	}
	switch s := s.(type) {
	case Assign:
		walk(s.Dst)
		walk(s.Src)
	case If:
		walk(s.Cond)
	case Loop:
		walk(s.Cond)
	case Return:
		walk(s.Value)
	case Await:
		walk(s.Awaiter)
	case Eval:
		walk(s.Call)
	}
}

// Loops lists the IL offsets of m's loops in program order.
func (m *Method) Loops() []int {
	var ils []int
	Walk(m.Body, func(s Stmt) {
		if l, ok := s.(Loop); ok {
			ils = append(ils, l.IL)
		}
	})
	return ils
}

// HasPatchpoints reports whether m has a loop (and so a patchpoint
// counter and OSR versions).
func (m *Method) HasPatchpoints() bool { return len(m.Loops()) > 0 }

// LoopPath returns the chain of statements from the top level of m's body
// down to the loop at IL offset il: path[0] is a top-level statement with
// index top in m.Body, the last element is the loop. Nil if there is no
// such loop.
func (m *Method) LoopPath(il int) (path []Stmt, top int) {
	var find func(ss []Stmt) []Stmt
	find = func(ss []Stmt) []Stmt {
		for _, s := range ss {
			var sub []Stmt
			switch s := s.(type) {
			case If:
				if sub = find(s.Then); sub == nil {
					sub = find(s.Else)
				}
			case Loop:
				if s.IL == il {
					return []Stmt{s}
				}
				if sub = find(s.Body); sub == nil {
					sub = find(s.Post)
				}
			}
			if sub != nil {
				return append([]Stmt{s}, sub...)
			}
		}
		return nil
	}
	for i, s := range m.Body {
		if p := find([]Stmt{s}); p != nil {
			return p, i
		}
	}
	return nil, -1
}

// CountedLoop is `for (; v < limit; v++) body` with its patchpoint at IL
// offset il.
func CountedLoop(il int, v Local, limit Expr, body ...Stmt) Loop {
	return Loop{IL: il, Cond: Binary{Op: OpLt, L: v, R: limit}, Body: body,
		Post: []Stmt{Assign{Dst: v, Op: OpAdd, Src: Const(1)}}}
}
