// Package jit is a small method IR and two compilers for it: tier0 (every
// local in a frame slot, patchpoint counters at loop heads, naive code like
// .NET tier0) and OSR (entered at one patchpoint, locals in registers, on top
// of the live tier0 frame).
package jit

import (
	"fmt"

	"github.com/osrsim/osrsim/emitter"
)

// Local names a parameter or local variable.
type Local string

// Expr is an operand: a Local or a Const.
type Expr interface{ isExpr() }

// Const is a 32-bit integer constant.
type Const int32

func (Local) isExpr() {}
func (Const) isExpr() {}

// Stmt is a statement.
type Stmt interface{ isStmt() }

// Set is Dst = Src (32-bit).
type Set struct {
	Dst Local
	Src Expr
}

// Add is Dst += Src, wrapping like C# int.
type Add struct {
	Dst Local
	Src Expr
}

// AddStatic is Static += Src on a 32-bit static field, wrapping.
type AddStatic struct {
	Static string
	Src    Expr
}

// Loop is `for (; Var < Limit; Var++) Body` with a patchpoint at its head,
// identified by the head's IL offset.
type Loop struct {
	IL    int
	Var   Local
	Limit Local
	Body  []Stmt
}

// Await suspends on an awaiter that never completes synchronously.
type Await struct {
	Awaiter Local
}

func (Set) isStmt()       {}
func (Add) isStmt()       {}
func (AddStatic) isStmt() {}
func (Loop) isStmt()      {}
func (Await) isStmt()     {}

// Method is a static method.
type Method struct {
	Name  string
	Async bool // takes and returns a continuation
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

// Validate checks the method is within what the compilers support.
func (m *Method) Validate() error {
	maxParams := 4
	if m.Async {
		maxParams = 3
	}
	if len(m.Params) > maxParams {
		return fmt.Errorf("method %s: %d parameters, at most %d", m.Name, len(m.Params), maxParams)
	}
	known := map[Local]bool{}
	for _, v := range m.Vars() {
		if known[v] {
			return fmt.Errorf("method %s: %s declared twice", m.Name, v)
		}
		known[v] = true
	}
	var check func([]Stmt) error
	use := func(e Expr) error {
		if l, ok := e.(Local); ok && !known[l] {
			return fmt.Errorf("method %s: unknown local %s", m.Name, l)
		}
		return nil
	}
	ils := map[int]bool{}
	check = func(ss []Stmt) error {
		for _, s := range ss {
			var err error
			switch s := s.(type) {
			case Set:
				err = firstErr(use(s.Dst), use(s.Src))
			case Add:
				err = firstErr(use(s.Dst), use(s.Src))
			case AddStatic:
				err = use(s.Src)
			case Loop:
				if ils[s.IL] {
					return fmt.Errorf("method %s: two loops at IL %#x", m.Name, s.IL)
				}
				ils[s.IL] = true
				err = firstErr(use(s.Var), use(s.Limit), check(s.Body))
			case Await:
				if !m.Async {
					return fmt.Errorf("method %s: await in a non-async method", m.Name)
				}
				err = use(s.Awaiter)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	return check(m.Body)
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// awaits lists the method's awaits in program order; the resumption state
// of the k-th is k+1.
func (m *Method) awaits() []*Await {
	var out []*Await
	var walk func([]Stmt)
	walk = func(ss []Stmt) {
		for i := range ss {
			switch s := ss[i].(type) {
			case Await:
				a := s
				out = append(out, &a)
			case Loop:
				walk(s.Body)
			}
		}
	}
	walk(m.Body)
	return out
}

// Awaits is the number of awaits: resumption states run from 1 to it, and
// each names a suspension point (SuspendSym).
func (m *Method) Awaits() int { return len(m.awaits()) }

// LiveAcrossAwaits is the set of variables a continuation must carry, in
// declaration order: everything used after an await in its block, anywhere
// in a loop enclosing it (loop-carried), or after those loops, plus the
// awaiter. The same list (and order) is used by tier0 and OSR code, so
// either can resume the other's continuations.
func (m *Method) LiveAcrossAwaits() []Local {
	live := map[Local]bool{}
	uses := func(ss []Stmt) { collectUses(ss, live) }
	// walk returns whether ss contains an await; when it does, everything
	// after it in ss (and, in a loop, the whole loop) is live.
	var walk func(ss []Stmt) bool
	walk = func(ss []Stmt) bool {
		for i, s := range ss {
			found := false
			switch s := s.(type) {
			case Await:
				found = true
			case Loop:
				if walk(s.Body) {
					uses([]Stmt{s})
					found = true
				}
			}
			if found {
				uses(ss[i:])
				return true
			}
		}
		return false
	}
	if !walk(m.Body) {
		return nil
	}
	var out []Local
	for _, v := range m.Vars() {
		if live[v] {
			out = append(out, v)
		}
	}
	return out
}

func addExpr(set map[Local]bool, es ...Expr) {
	for _, e := range es {
		if l, ok := e.(Local); ok {
			set[l] = true
		}
	}
}
