package csharp

import (
	"fmt"
	"strings"

	sitter "github.com/smacker/go-tree-sitter"

	"github.com/osrsim/osrsim/jit"
)

// variable is a C# local or parameter.
type variable struct {
	ir   jit.Local
	typ  typ
	slot int // IL local slot, or -1
	arg  int // IL argument index, or -1
}

type scope struct {
	vars   map[string]*variable
	parent *scope
}

// lowerer lowers one method body. It also keeps an estimate of the IL
// offset Roslyn would give each construct (il), so every loop head gets a
// deterministic IL offset like the one the JIT keys its patchpoint on.
type lowerer struct {
	p      *parser
	d      *methodDecl
	m      *jit.Method
	entry  bool
	sc     *scope
	names  map[jit.Local]bool
	slots  int
	il     int
	ils    map[int]bool
	loops  int // enclosing loops
	nested int // enclosing blocks, ifs and loops
	watch  *variable
	start  *sitter.Node // the Stopwatch.StartNew() declaration
	stop   bool
}

func (p *parser) lowerMethod(d *methodDecl, entry bool) {
	l := &lowerer{p: p, d: d, m: d.m, entry: entry, names: map[jit.Local]bool{}, ils: map[int]bool{}}
	l.push()
	for i, pd := range d.params {
		if l.sc.vars[pd.name] != nil {
			p.errorf(pd.node, "parameter %s declared twice", pd.name)
		}
		v := &variable{ir: l.fresh(pd.name), typ: pd.typ, slot: -1, arg: i}
		l.sc.vars[pd.name] = v
		l.m.Params = append(l.m.Params, v.ir)
		if pd.typ == tAwaiter {
			l.m.Ptrs = append(l.m.Ptrs, v.ir)
		}
	}
	body := d.node.ChildByFieldName("body")
	if body == nil {
		p.unsupported(d.node, "a method without a body")
	}
	if body.Type() == "arrow_expression_clause" {
		e := children(body)[0]
		if d.async {
			p.unsupported(body, "an expression-bodied async method")
		}
		v, t := l.value(e)
		l.want(e, t, tInt)
		l.m.Body = []jit.Stmt{jit.Return{Value: v}}
		return
	}
	l.m.Body = l.block(body)
	if d.result && completes(l.m.Body) {
		p.errorf(d.node.ChildByFieldName("name"), "%s: not all code paths return a value", d.name)
	}
	if l.start != nil && !l.stop {
		p.errorf(l.start, "the stopwatch is started but its Elapsed is never used (that use ends the measured region)")
	}
	p.stopwatch = p.stopwatch || l.start != nil
}

func (l *lowerer) push() { l.sc = &scope{vars: map[string]*variable{}, parent: l.sc} }
func (l *lowerer) pop()  { l.sc = l.sc.parent }

// fresh returns a unique IR name for a C# local (C# reuses names in
// sibling scopes).
func (l *lowerer) fresh(name string) jit.Local {
	v := jit.Local(name)
	for k := 2; l.names[v]; k++ {
		v = jit.Local(fmt.Sprintf("%s#%d", name, k))
	}
	l.names[v] = true
	return v
}

func (l *lowerer) lookup(name string) *variable {
	for s := l.sc; s != nil; s = s.parent {
		if v := s.vars[name]; v != nil {
			return v
		}
	}
	return nil
}

// declare adds a local to the current scope.
func (l *lowerer) declare(n *sitter.Node, name string, t typ) *variable {
	for s := l.sc; s != nil; s = s.parent {
		if s.vars[name] != nil {
			l.p.errorf(n, "a local or parameter named %s is already declared in this scope", name)
		}
	}
	v := &variable{ir: l.fresh(name), typ: t, slot: l.slots, arg: -1}
	l.slots++
	l.sc.vars[name] = v
	if t == tInt || t == tBool {
		l.m.Locals = append(l.m.Locals, v.ir)
	}
	return v
}

func (l *lowerer) block(n *sitter.Node) []jit.Stmt {
	l.push()
	defer l.pop()
	var out []jit.Stmt
	for _, c := range children(n) {
		out = append(out, l.stmt(c)...)
	}
	return out
}

// nest lowers a statement that is not at the method's top level.
func (l *lowerer) nest(n *sitter.Node) []jit.Stmt {
	l.nested++
	defer func() { l.nested-- }()
	if n.Type() == "block" {
		return l.block(n)
	}
	l.push() // an embedded statement is its own scope
	defer l.pop()
	if n.Type() == "local_declaration_statement" {
		l.p.errorf(n, "a declaration is not allowed as an embedded statement (use a block)")
	}
	return l.stmt(n)
}

func (l *lowerer) stmt(n *sitter.Node) []jit.Stmt {
	switch n.Type() {
	case "block":
		l.nested++
		defer func() { l.nested-- }()
		return l.block(n)
	case "empty_statement":
		return nil
	case "local_declaration_statement":
		return l.declaration(n)
	case "expression_statement":
		return l.exprStmt(children(n)[0])
	case "if_statement":
		return l.ifStmt(n)
	case "while_statement", "do_statement", "for_statement":
		return l.loop(n)
	case "break_statement", "continue_statement":
		if l.loops == 0 {
			l.p.errorf(n, "no enclosing loop out of which to %s", strings.TrimSuffix(n.Type(), "_statement"))
		}
		l.il += 2 // br.s
		if n.Type() == "break_statement" {
			return []jit.Stmt{jit.Break{}}
		}
		return []jit.Stmt{jit.Continue{}}
	case "return_statement":
		cs := children(n)
		if len(cs) == 0 {
			if l.d.result {
				l.p.errorf(n, "%s must return an int", l.d.name)
			}
			l.il++
			return []jit.Stmt{jit.Return{}}
		}
		if !l.d.result {
			l.p.errorf(n, "%s returns no value (it is a Task method)", l.d.name)
		}
		v, t := l.value(cs[0])
		l.want(cs[0], t, tInt)
		l.il++ // ret
		return []jit.Stmt{jit.Return{Value: v}}
	}
	l.p.unsupported(n, "%s", describe(n.Type()))
	return nil
}

func (l *lowerer) declaration(n *sitter.Node) []jit.Stmt {
	for _, c := range children(n) {
		if c.Type() == "modifier" {
			l.p.unsupported(c, "%s locals", l.p.text(c))
		}
	}
	var decl *sitter.Node
	for _, c := range children(n) {
		if c.Type() == "variable_declaration" {
			decl = c
		}
	}
	return l.varDecl(decl)
}

// varDecl lowers `T a = e, b;` (also a for loop's initializer).
func (l *lowerer) varDecl(decl *sitter.Node) []jit.Stmt {
	tn := decl.ChildByFieldName("type")
	implicit := tn.Type() == "implicit_type"
	var declared typ
	if !implicit {
		declared = l.p.typeOf(tn)
	}
	var out []jit.Stmt
	for _, v := range children(decl) {
		if v.Type() != "variable_declarator" {
			continue
		}
		name := l.p.text(v.ChildByFieldName("name"))
		init := initializer(v)
		if isStartNew(l.p, init) || declared == tStopwatch {
			l.startStopwatch(v, name, init, declared, implicit)
			out = append(out, jit.Stopwatch{})
			continue
		}
		if declared == tAwaiter || (implicit && init != nil && init.Type() == "identifier" && l.lookup(l.p.text(init)) != nil && l.lookup(l.p.text(init)).typ == tAwaiter) {
			l.p.unsupported(v, "an awaiter local (await the awaiter parameter itself)")
		}
		if init == nil {
			if implicit {
				l.p.errorf(v, "implicitly-typed variables must be initialized")
			}
			l.declare(v, name, declared)
			continue
		}
		e, t := l.value(init)
		if implicit {
			declared = t
		}
		l.want(init, t, declared)
		x := l.declare(v, name, declared)
		l.il += stloc(x.slot)
		out = append(out, jit.Assign{Dst: x.ir, Src: e})
	}
	return out
}

func isStartNew(p *parser, n *sitter.Node) bool {
	if n == nil || n.Type() != "invocation_expression" {
		return false
	}
	f := strings.TrimPrefix(p.text(n.ChildByFieldName("function")), "System.Diagnostics.")
	return f == "Stopwatch.StartNew"
}

// startStopwatch handles `var sw = Stopwatch.StartNew();`, the start of
// the measured region.
func (l *lowerer) startStopwatch(v *sitter.Node, name string, init *sitter.Node, declared typ, implicit bool) {
	switch {
	case !isStartNew(l.p, init):
		l.p.unsupported(v, "a Stopwatch that is not started with Stopwatch.StartNew()")
	case !implicit && declared != tStopwatch:
		l.p.errorf(v, "Stopwatch.StartNew() returns a Stopwatch, not %s", declared)
	case !l.entry:
		l.p.unsupported(v, "a stopwatch outside the async entry method")
	case l.nested > 0:
		l.p.unsupported(v, "a stopwatch started inside a loop, branch or block (start it at the top level of the entry method)")
	case l.start != nil:
		l.p.unsupported(v, "a second stopwatch (one measured region per program)")
	}
	if len(children(init.ChildByFieldName("arguments"))) > 0 {
		l.p.errorf(init, "Stopwatch.StartNew takes no arguments")
	}
	l.start = v
	l.watch = l.declare(v, name, tStopwatch)
	l.il += 5 + stloc(l.watch.slot) // call StartNew
}

// exprStmt lowers an expression used as a statement.
func (l *lowerer) exprStmt(e *sitter.Node) []jit.Stmt {
	switch e.Type() {
	case "assignment_expression":
		return []jit.Stmt{l.assign(e)}
	case "postfix_unary_expression", "prefix_unary_expression":
		op := l.p.text(e.Child(0))
		if e.Type() == "postfix_unary_expression" {
			op = l.p.text(e.Child(int(e.ChildCount()) - 1))
		}
		if op != "++" && op != "--" {
			break
		}
		dst, t := l.place(children(e)[0])
		l.want(children(e)[0], t, tInt)
		l.il += 2*l.access(dst) + 2 // ld, ldc.i4.1, add|sub, st
		o := jit.OpAdd
		if op == "--" {
			o = jit.OpSub
		}
		return []jit.Stmt{jit.Assign{Dst: dst, Op: o, Src: jit.Const(1)}}
	case "await_expression":
		x := children(e)[0]
		v := (*variable)(nil)
		if x.Type() == "identifier" {
			v = l.lookup(l.p.text(x))
		}
		if v == nil || v.typ != tAwaiter {
			l.p.unsupported(x, "await on %s (the subset awaits the awaiter parameter)", l.p.text(x))
		}
		if !l.d.async {
			l.p.errorf(e, "await in a method that is not async")
		}
		l.il += 20 // ldarg; IsCompleted; brtrue; ldarg; AsyncHelpers.UnsafeAwaitAwaiter; ldarg; GetResult
		return []jit.Stmt{jit.Await{Awaiter: v.ir}}
	case "invocation_expression":
		return l.callStmt(e)
	}
	l.p.errorf(e, "only assignment, call, increment, decrement and await expressions can be used as a statement")
	return nil
}

// callStmt lowers a call statement: a method of the class, or one of the
// library calls the subset knows (Console output, the stopwatch).
func (l *lowerer) callStmt(e *sitter.Node) []jit.Stmt {
	fn := e.ChildByFieldName("function")
	name := strings.TrimPrefix(l.p.text(fn), "System.")
	args := children(e.ChildByFieldName("arguments"))
	switch {
	case name == "Console.WriteLine" || name == "Console.Write":
		l.il += 5 * (len(args) + 1)
		if l.usesStopwatch(e) {
			return l.stopStopwatch(e)
		}
		return nil
	case l.watch != nil && fn.Type() == "member_access_expression" && l.p.text(fn.ChildByFieldName("expression")) == l.watch.name():
		if m := l.p.text(fn.ChildByFieldName("name")); m == "Stop" {
			l.il += 6
			return l.stopStopwatch(e)
		}
		l.p.unsupported(e, "Stopwatch.%s (the subset uses StartNew, Stop and Elapsed)", l.p.text(fn.ChildByFieldName("name")))
	}
	c, _ := l.call(e)
	l.il++ // pop
	return []jit.Stmt{jit.Eval{Call: c}}
}

func (v *variable) name() string {
	s, _, _ := strings.Cut(string(v.ir), "#")
	return s
}

// usesStopwatch reports whether a Console call reads the stopwatch's
// Elapsed; it also rejects arguments the subset would not evaluate.
func (l *lowerer) usesStopwatch(e *sitter.Node) bool {
	uses := false
	var walk func(n *sitter.Node)
	walk = func(n *sitter.Node) {
		switch n.Type() {
		case "invocation_expression", "assignment_expression", "await_expression":
			l.p.unsupported(n, "%s inside a Console call (its arguments are not evaluated)", describe(n.Type()))
		case "postfix_unary_expression", "prefix_unary_expression":
			if op := l.p.text(n); strings.Contains(op, "++") || strings.Contains(op, "--") {
				l.p.unsupported(n, "++ or -- inside a Console call (its arguments are not evaluated)")
			}
		case "member_access_expression":
			if l.watch != nil && l.p.text(n.ChildByFieldName("expression")) == l.watch.name() &&
				strings.HasPrefix(l.p.text(n.ChildByFieldName("name")), "Elapsed") {
				uses = true
			}
		}
		for _, c := range children(n) {
			walk(c)
		}
	}
	walk(e.ChildByFieldName("arguments"))
	return uses
}

// stopStopwatch ends the measured region at its first use.
func (l *lowerer) stopStopwatch(e *sitter.Node) []jit.Stmt {
	if l.stop {
		return nil
	}
	if l.nested > 0 {
		l.p.unsupported(e, "the stopwatch's Elapsed read inside a loop, branch or block (read it at the top level of the entry method)")
	}
	l.stop = true
	return []jit.Stmt{jit.Stopwatch{Stop: true}}
}

var compound = map[string]jit.Op{
	"=": jit.OpNone, "+=": jit.OpAdd, "-=": jit.OpSub, "*=": jit.OpMul, "/=": jit.OpDiv, "%=": jit.OpRem,
	"&=": jit.OpAnd, "|=": jit.OpOr, "^=": jit.OpXor, "<<=": jit.OpShl, ">>=": jit.OpShr,
}

func (l *lowerer) assign(e *sitter.Node) jit.Stmt {
	opn := e.ChildByFieldName("operator")
	op, ok := compound[l.p.text(opn)]
	if !ok {
		l.p.unsupported(opn, "the %s operator", l.p.text(opn))
	}
	left, right := e.ChildByFieldName("left"), e.ChildByFieldName("right")
	dst, dt := l.place(left)
	if op != jit.OpNone {
		l.il += l.access(dst) + 1 // load the destination; the operator
	}
	src, st := l.value(right)
	switch {
	case op == jit.OpNone:
		l.want(right, st, dt)
	case op == jit.OpAnd || op == jit.OpOr || op == jit.OpXor:
		if dt != st || (dt != tInt && dt != tBool) {
			l.p.errorf(opn, "operator %s cannot be applied to %s and %s", l.p.text(opn), dt, st)
		}
	default:
		if dt != tInt || st != tInt {
			l.p.errorf(opn, "operator %s cannot be applied to %s and %s", l.p.text(opn), dt, st)
		}
		if (op == jit.OpDiv || op == jit.OpRem) && isZero(src) {
			l.p.errorf(right, "division by constant zero")
		}
	}
	l.il += l.access(dst) // the store
	return jit.Assign{Dst: dst, Op: op, Src: src, Pos: l.pos(opn)}
}

func isZero(e jit.Expr) bool { k, ok := e.(jit.Const); return ok && k == 0 }

func (l *lowerer) pos(n *sitter.Node) jit.Pos {
	pt := n.StartPoint()
	return jit.Pos{Line: int(pt.Row) + 1, Col: int(pt.Column) + 1}
}

// access is the IL size of loading (or storing) a destination.
func (l *lowerer) access(dst jit.Place) int {
	if _, ok := dst.(jit.Static); ok {
		return 5 // ldsfld, stsfld
	}
	for s := l.sc; s != nil; s = s.parent {
		for _, v := range s.vars {
			if v.ir == dst {
				return v.load()
			}
		}
	}
	return 1
}

// place resolves an assignment's destination: an int or bool local, or a
// static field.
func (l *lowerer) place(n *sitter.Node) (jit.Place, typ) {
	name := l.p.text(n)
	if n.Type() == "member_access_expression" && l.p.text(n.ChildByFieldName("expression")) == l.p.class {
		name = l.p.text(n.ChildByFieldName("name"))
	} else if n.Type() != "identifier" {
		l.p.unsupported(n, "assignment to %s (the subset assigns locals and static fields)", describe(n.Type()))
	}
	if n.Type() == "identifier" {
		if v := l.lookup(name); v != nil {
			if v.typ != tInt && v.typ != tBool {
				l.p.unsupported(n, "assignment to the %s %s", v.typ, name)
			}
			return v.ir, v.typ
		}
	}
	f := l.p.fields[name]
	if f == nil {
		l.p.errorf(n, "the name %s does not exist in the current context", name)
	}
	if f.cnst {
		l.p.errorf(n, "%s is a constant and cannot be assigned", name)
	}
	return f.sym, tInt
}

// want checks that got is the type wanted.
func (l *lowerer) want(n *sitter.Node, got, want typ) {
	if got != want {
		l.p.errorf(n, "cannot convert %s to %s", got, want)
	}
}

func (l *lowerer) ifStmt(n *sitter.Node) []jit.Stmt {
	c := l.cond(n.ChildByFieldName("condition"))
	s := jit.If{Cond: c, Then: l.nest(n.ChildByFieldName("consequence"))}
	if alt := n.ChildByFieldName("alternative"); alt != nil {
		l.il += 2 // br.s over the else part
		s.Else = l.nest(alt)
	}
	return []jit.Stmt{s}
}

// loop lowers for, while and do. Roslyn lays a top-tested loop out as
// `br COND; BODY: body; iterators; COND: test; brtrue BODY`: the IL offset
// of its head is the test's, after the body. A loop without a test (or
// with the constant true) and a do loop have their head at the body.
func (l *lowerer) loop(n *sitter.Node) []jit.Stmt {
	l.push()
	defer l.pop()
	var out []jit.Stmt
	condN := n.ChildByFieldName("condition")
	if n.Type() == "for_statement" {
		for _, c := range fieldChildren(n, "initializer") {
			if c.Type() == "variable_declaration" {
				out = append(out, l.varDecl(c)...)
			} else {
				out = append(out, l.exprStmt(c)...)
			}
		}
	}
	always := condN == nil || l.p.text(condN) == "true"
	bottom := n.Type() == "do_statement"
	if !always && !bottom {
		l.il += 2 // br.s COND
	}
	bodyIL := l.il
	l.loops++
	body := l.nest(n.ChildByFieldName("body"))
	var post []jit.Stmt
	for _, c := range fieldChildren(n, "update") {
		post = append(post, l.exprStmt(c)...)
	}
	l.loops--
	head := l.il
	var cond jit.Expr
	if always || bottom {
		head = bodyIL
	}
	if !always {
		cond = l.cond(condN)
	} else {
		l.il += 2 // br.s BODY
	}
	return append(out, jit.Loop{IL: l.claimIL(head), Cond: cond, Body: body, Post: post, BottomTest: bottom})
}

// fieldChildren lists n's children in field name (a for loop's
// initializers and updates).
func fieldChildren(n *sitter.Node, name string) []*sitter.Node {
	var out []*sitter.Node
	for i := 0; i < int(n.ChildCount()); i++ {
		if n.FieldNameForChild(i) == name && n.Child(i).IsNamed() {
			out = append(out, n.Child(i))
		}
	}
	return out
}

// claimIL returns off, or the next offset no other loop of the method
// has (nested loops without tests can share their first byte).
func (l *lowerer) claimIL(off int) int {
	for l.ils[off] {
		off++
	}
	l.ils[off] = true
	return off
}

// completes reports whether the end of ss is reachable (C#'s rules for the
// statements of the subset), for "not all code paths return a value".
func completes(ss []jit.Stmt) bool {
	for _, s := range ss {
		switch s := s.(type) {
		case jit.Return, jit.Break, jit.Continue:
			return false
		case jit.If:
			if !completes(s.Then) && !completes(s.Else) && len(s.Else) > 0 {
				return false
			}
		case jit.Loop:
			if s.Cond == nil && !breaks(s.Body) {
				return false
			}
		}
	}
	return true
}

// breaks reports whether ss contains a break out of the loop it is the
// body of.
func breaks(ss []jit.Stmt) bool {
	for _, s := range ss {
		switch s := s.(type) {
		case jit.Break:
			return true
		case jit.If:
			if breaks(s.Then) || breaks(s.Else) {
				return true
			}
		}
	}
	return false
}
