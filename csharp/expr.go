package csharp

import (
	"strings"

	sitter "github.com/smacker/go-tree-sitter"

	"github.com/osrsim/osrsim/jit"
)

// IL sizes of the instructions Roslyn emits for the subset (ECMA-335 short
// forms where they apply): they only serve the loop heads' IL offsets.
func ldc(v int32) int {
	switch {
	case v >= -1 && v <= 8:
		return 1 // ldc.i4.m1 .. ldc.i4.8
	case v >= -128 && v <= 127:
		return 2 // ldc.i4.s
	}
	return 5 // ldc.i4
}

func stloc(slot int) int {
	switch {
	case slot < 4:
		return 1 // stloc.0 .. stloc.3
	case slot < 256:
		return 2 // stloc.s
	}
	return 4
}

// load is the size of ldloc/ldarg of a variable (same encodings as stloc).
func (v *variable) load() int {
	if v.arg >= 0 {
		return stloc(v.arg)
	}
	return stloc(v.slot)
}

var binaryOps = map[string]jit.Op{
	"+": jit.OpAdd, "-": jit.OpSub, "*": jit.OpMul, "/": jit.OpDiv, "%": jit.OpRem,
	"&": jit.OpAnd, "|": jit.OpOr, "^": jit.OpXor, "<<": jit.OpShl, ">>": jit.OpShr,
	"<": jit.OpLt, "<=": jit.OpLe, ">": jit.OpGt, ">=": jit.OpGe, "==": jit.OpEq, "!=": jit.OpNe,
	"&&": jit.OpAndAlso, "||": jit.OpOrElse,
}

// cond lowers a condition (a bool, evaluated for a branch).
func (l *lowerer) cond(n *sitter.Node) jit.Expr {
	e, t := l.expr(n, true)
	l.want(n, t, tBool)
	return e
}

// value lowers an expression evaluated for its value.
func (l *lowerer) value(n *sitter.Node) (jit.Expr, typ) { return l.expr(n, false) }

// expr lowers an expression; branch says it decides a branch (Roslyn then
// emits conditional branches instead of materialising a bool).
func (l *lowerer) expr(n *sitter.Node, branch bool) (jit.Expr, typ) {
	e, t := l.expr1(n, branch)
	if branch && !isShortCircuitOrCompare(e) {
		l.il += 2 // brtrue.s / brfalse.s
	}
	return e, t
}

func isShortCircuitOrCompare(e jit.Expr) bool {
	switch e := e.(type) {
	case jit.Binary:
		return e.Op.IsCompare() || e.Op == jit.OpAndAlso || e.Op == jit.OpOrElse
	case jit.Unary:
		return e.Op == jit.OpNot
	}
	return false
}

func (l *lowerer) expr1(n *sitter.Node, branch bool) (jit.Expr, typ) {
	switch n.Type() {
	case "integer_literal":
		v := l.p.intLiteral(n, false)
		l.il += ldc(v)
		return jit.Const(v), tInt
	case "boolean_literal":
		l.il++
		if l.p.text(n) == "true" {
			return jit.Const(1), tBool
		}
		return jit.Const(0), tBool
	case "parenthesized_expression":
		return l.expr1(children(n)[0], branch)
	case "identifier":
		return l.name(n)
	case "member_access_expression":
		if l.p.text(n.ChildByFieldName("expression")) == l.p.class {
			return l.field(n.ChildByFieldName("name"))
		}
		l.p.unsupported(n, "member access %s (the subset reads locals and static fields)", l.p.text(n))
	case "prefix_unary_expression":
		return l.unary(n, branch)
	case "postfix_unary_expression":
		l.p.unsupported(n, "%s inside an expression (use ++ and -- as statements)", l.p.text(n.Child(int(n.ChildCount())-1)))
	case "binary_expression":
		return l.binary(n, branch)
	case "invocation_expression":
		return l.call(n)
	case "assignment_expression":
		l.p.unsupported(n, "assignment inside an expression (assign in a statement of its own)")
	case "await_expression":
		l.p.unsupported(n, "await inside an expression (await the awaiter as a statement of its own)")
	case "character_literal", "real_literal", "string_literal", "null_literal", "verbatim_string_literal", "raw_string_literal":
		l.p.unsupported(n, "%s (the subset computes with int and bool)", describe(n.Type()))
	}
	l.p.unsupported(n, "%s", describe(n.Type()))
	return nil, tVoid
}

func (l *lowerer) name(n *sitter.Node) (jit.Expr, typ) {
	name := l.p.text(n)
	if v := l.lookup(name); v != nil {
		switch v.typ {
		case tInt, tBool:
			l.il += v.load()
			return v.ir, v.typ
		case tAwaiter:
			l.p.unsupported(n, "the awaiter %s used as a value (await it)", name)
		default:
			l.p.unsupported(n, "the stopwatch %s used as a value (use its Elapsed in Console.WriteLine)", name)
		}
	}
	return l.field(n)
}

func (l *lowerer) field(n *sitter.Node) (jit.Expr, typ) {
	name := l.p.text(n)
	f := l.p.fields[name]
	if f == nil {
		if l.p.methods[name] != nil || name == "Main" {
			l.p.unsupported(n, "the method %s used as a value", name)
		}
		l.p.errorf(n, "the name %s does not exist in the current context", name)
	}
	l.il += 5 // ldsfld (a constant is an ldc in real IL; osrsim reads constants from data)
	return f.sym, tInt
}

func (l *lowerer) unary(n *sitter.Node, branch bool) (jit.Expr, typ) {
	op := l.p.text(n.Child(0))
	x := children(n)[0]
	switch op {
	case "-":
		if x.Type() == "integer_literal" {
			v := l.p.intLiteral(x, true)
			l.il += ldc(v)
			return jit.Const(v), tInt
		}
		e, t := l.value(x)
		l.want(x, t, tInt)
		l.il++ // neg
		return jit.Unary{Op: jit.OpNeg, X: e}, tInt
	case "+":
		e, t := l.value(x)
		l.want(x, t, tInt)
		return e, tInt
	case "~":
		e, t := l.value(x)
		l.want(x, t, tInt)
		l.il++ // not
		return jit.Unary{Op: jit.OpCompl, X: e}, tInt
	case "!":
		e, t := l.expr1(x, branch)
		l.want(x, t, tBool)
		if branch {
			if !isShortCircuitOrCompare(e) {
				l.il += 2
			}
		} else {
			l.il += 3 // ldc.i4.0; ceq
		}
		return jit.Unary{Op: jit.OpNot, X: e}, tBool
	case "++", "--":
		l.p.unsupported(n, "%s inside an expression (use ++ and -- as statements)", op)
	}
	l.p.unsupported(n, "the unary %s operator", op)
	return nil, tVoid
}

func (l *lowerer) binary(n *sitter.Node, branch bool) (jit.Expr, typ) {
	opn := n.ChildByFieldName("operator")
	op, ok := binaryOps[l.p.text(opn)]
	if !ok {
		l.p.unsupported(opn, "the %s operator", l.p.text(opn))
	}
	ln, rn := n.ChildByFieldName("left"), n.ChildByFieldName("right")
	var le, re jit.Expr
	var lt, rt typ
	if op == jit.OpAndAlso || op == jit.OpOrElse {
		le, lt = l.expr(ln, true)
		re, rt = l.expr(rn, true)
		if !branch {
			l.il += 5 // br.s; ldc.i4.0 (or 1); a join
		}
	} else {
		le, lt = l.value(ln)
		re, rt = l.value(rn)
	}
	bad := func() {
		l.p.errorf(opn, "operator %s cannot be applied to %s and %s", l.p.text(opn), lt, rt)
	}
	result := tInt
	switch op {
	case jit.OpAndAlso, jit.OpOrElse:
		if lt != tBool || rt != tBool {
			bad()
		}
		return jit.Binary{Op: op, L: le, R: re}, tBool
	case jit.OpEq, jit.OpNe:
		if lt != rt || (lt != tInt && lt != tBool) {
			bad()
		}
		result = tBool
	case jit.OpLt, jit.OpLe, jit.OpGt, jit.OpGe:
		if lt != tInt || rt != tInt {
			bad()
		}
		result = tBool
	case jit.OpAnd, jit.OpOr, jit.OpXor:
		if lt != rt || (lt != tInt && lt != tBool) {
			bad()
		}
		result = lt
	default:
		if lt != tInt || rt != tInt {
			bad()
		}
		if (op == jit.OpDiv || op == jit.OpRem) && isZero(re) {
			l.p.errorf(rn, "division by constant zero")
		}
	}
	switch {
	case branch && op.IsCompare():
		l.il += 2 // blt.s, bne.un.s, ...
	case op == jit.OpLt || op == jit.OpGt || op == jit.OpEq:
		l.il += 2 // clt, cgt, ceq
	case op.IsCompare():
		l.il += 5 // cgt; ldc.i4.0; ceq (and the like)
	default:
		l.il++
	}
	return jit.Binary{Op: op, L: le, R: re, Pos: l.pos(opn)}, result
}

// call lowers a call to a synchronous int method of the class.
func (l *lowerer) call(n *sitter.Node) (jit.Call, typ) {
	fn := n.ChildByFieldName("function")
	name := l.p.text(fn)
	if fn.Type() == "member_access_expression" && l.p.text(fn.ChildByFieldName("expression")) == l.p.class {
		name = l.p.text(fn.ChildByFieldName("name"))
	} else if fn.Type() != "identifier" {
		l.p.unsupported(n, "a call to %s (the subset calls static methods of its class)", strings.TrimSpace(name))
	}
	d := l.p.methods[name]
	switch {
	case name == "Main":
		l.p.unsupported(n, "a call to Main")
	case d == nil:
		l.p.errorf(fn, "the name %s does not exist in the current context", name)
	case d.async:
		l.p.unsupported(n, "a call to the async method %s (only Main calls the entry method; other calls go to static int methods)", name)
	}
	args := children(n.ChildByFieldName("arguments"))
	if len(args) != len(d.params) {
		l.p.errorf(n, "%s takes %d arguments, got %d", name, len(d.params), len(args))
	}
	if l.p.calls[l.d.name] == nil {
		l.p.calls[l.d.name] = map[string]*sitter.Node{}
	}
	if l.p.calls[l.d.name][name] == nil {
		l.p.calls[l.d.name][name] = n
	}
	c := jit.Call{Method: name}
	for i, a := range args {
		if a.Type() != "argument" || len(children(a)) != 1 {
			l.p.unsupported(a, "named, ref or out arguments")
		}
		e, t := l.value(children(a)[0])
		l.want(a, t, d.params[i].typ)
		c.Args = append(c.Args, e)
	}
	l.il += 5 // call
	return c, tInt
}
