package csharp

import (
	"context"
	"fmt"
	"os"
	"strings"

	sitter "github.com/smacker/go-tree-sitter"
	"github.com/smacker/go-tree-sitter/csharp"

	"github.com/osrsim/osrsim/jit"
)

// Program is a C# file lowered to the jit IR, with what the workload needs
// to run it.
type Program struct {
	File string
	// Class holds the entry method first, then every synchronous method
	// it calls (directly or not), and the static fields and constants.
	Class *jit.Class
	// Params are the workload's parameters: the entry method's int
	// parameters (their values come from Main) then the class's const int
	// fields (their initializers), in source order.
	Params []Param
	// EntryArgs maps each parameter of the entry method to its index in
	// Params, or -1 for the awaiter.
	EntryArgs []int
	// Stopwatch: the entry method marks a measured region.
	Stopwatch bool
}

// Param is a workload parameter of a C# program.
type Param struct {
	Name  string
	Value int32      // the native-scale value
	Sym   jit.Static // the data field holding it
	Line  int        // where it is declared
	Const bool       // a const int field (else an entry parameter)
}

// Symbols of a program's data: statics, constants and the entry method's
// parameter values (read by the driver, so code does not depend on them).
func StaticSym(name string) jit.Static { return jit.Static("static." + name) }
func ConstSym(name string) jit.Static  { return jit.Static("const." + name) }
func ParamSym(name string) jit.Static  { return jit.Static("param." + name) }

// Load reads and lowers a C# file.
func Load(path string) (*Program, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		msg := err.Error()
		if pe, ok := err.(*os.PathError); ok {
			msg = pe.Err.Error()
		}
		return nil, &Error{File: path, Msg: "cannot read C# source: " + msg}
	}
	return Parse(path, src)
}

// bail carries an *Error out of the recursive lowering.
type bail struct{ err *Error }

// Parse lowers src; file names it in errors. Every error is an *Error.
func Parse(file string, src []byte) (prog *Program, err error) {
	p := &parser{file: file, src: src}
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bail)
			if !ok {
				panic(r)
			}
			prog, err = nil, b.err
		}
	}()
	tsp := sitter.NewParser()
	tsp.SetLanguage(csharp.GetLanguage())
	tree, perr := tsp.ParseCtx(context.Background(), nil, src)
	if perr != nil {
		return nil, &Error{File: file, Line: 1, Col: 1, Kind: KindSyntax, Msg: perr.Error()}
	}
	defer tree.Close()
	root := tree.RootNode()
	if root.HasError() {
		p.syntaxError(root)
	}
	return p.program(root), nil
}

type parser struct {
	file    string
	src     []byte
	class   string
	classN  *sitter.Node
	fields  map[string]*field
	order   []string // field names in source order
	methods map[string]*methodDecl
	mOrder  []string
	awaiter map[string]bool // nested awaiter classes
	main    *sitter.Node
	// stopwatch: the entry method marks a measured region.
	stopwatch bool
	// calls holds each method's first call of each callee.
	calls map[string]map[string]*sitter.Node
}

type field struct {
	name string
	sym  jit.Static
	init int32
	cnst bool
	line int
	node *sitter.Node
}

type methodDecl struct {
	name   string
	node   *sitter.Node
	async  bool
	result bool
	params []paramDecl
	m      *jit.Method
}

type paramDecl struct {
	name string
	typ  typ
	node *sitter.Node
}

func (p *parser) fail(n *sitter.Node, kind, format string, args ...any) {
	pt := n.StartPoint()
	panic(bail{&Error{File: p.file, Line: int(pt.Row) + 1, Col: int(pt.Column) + 1, Kind: kind, Msg: fmt.Sprintf(format, args...)}})
}

func (p *parser) unsupported(n *sitter.Node, format string, args ...any) {
	p.fail(n, KindUnsupported, format, args...)
}

func (p *parser) errorf(n *sitter.Node, format string, args ...any) {
	p.fail(n, KindError, format, args...)
}

func (p *parser) text(n *sitter.Node) string { return n.Content(p.src) }

// syntaxError reports the first ERROR or missing node in document order.
func (p *parser) syntaxError(n *sitter.Node) {
	var find func(n *sitter.Node) *sitter.Node
	find = func(n *sitter.Node) *sitter.Node {
		if n.IsError() || n.IsMissing() || (n.IsNamed() && n.ChildCount() == 0 && n.StartByte() == n.EndByte() && n.Type() != "compilation_unit") {
			return n
		}
		for i := 0; i < int(n.ChildCount()); i++ {
			if c := n.Child(i); c.HasError() || c.IsMissing() || c.StartByte() == c.EndByte() {
				if f := find(c); f != nil {
					return f
				}
			}
		}
		return nil
	}
	bad := find(n)
	if bad == nil {
		p.fail(n, KindSyntax, "cannot parse")
	}
	switch {
	case bad.IsError():
		tok := strings.Fields(p.text(bad))
		what := "unexpected input"
		if len(tok) > 0 {
			t := tok[0]
			if len(t) > 20 {
				t = t[:20] + "…"
			}
			what = fmt.Sprintf("unexpected %q", t)
		}
		p.fail(bad, KindSyntax, "%s", what)
	case bad.IsNamed():
		p.fail(bad, KindSyntax, "missing %s", describe(bad.Type()))
	}
	p.fail(bad, KindSyntax, "missing %q", bad.Type())
}

// describe names a node kind for messages.
func describe(kind string) string {
	switch kind {
	case "conditional_expression":
		return "conditional expression (?:)"
	case "element_access_expression":
		return "array or indexer access"
	case "checked_expression":
		return "checked/unchecked expression"
	case "lambda_expression":
		return "lambda"
	case "object_creation_expression":
		return "object creation (new)"
	case "cast_expression":
		return "cast"
	case "labeled_statement":
		return "labeled statement"
	case "interpolated_string_expression":
		return "interpolated string"
	}
	return strings.ReplaceAll(kind, "_", " ")
}

// children lists n's named children, skipping comments.
func children(n *sitter.Node) []*sitter.Node {
	var out []*sitter.Node
	for i := 0; i < int(n.NamedChildCount()); i++ {
		c := n.NamedChild(i)
		if c.Type() != "comment" {
			out = append(out, c)
		}
	}
	return out
}

// modifiers returns n's modifier keywords.
func (p *parser) modifiers(n *sitter.Node) map[string]*sitter.Node {
	mods := map[string]*sitter.Node{}
	for _, c := range children(n) {
		if c.Type() == "modifier" {
			mods[p.text(c)] = c
		}
	}
	return mods
}

// allowMods rejects modifiers outside allowed.
func (p *parser) allowMods(mods map[string]*sitter.Node, what string, allowed ...string) {
	for m, n := range mods {
		ok := false
		for _, a := range allowed {
			ok = ok || a == m
		}
		if !ok {
			p.unsupported(n, "%s modifier on %s", m, what)
		}
	}
}

// program finds the one class and lowers it.
func (p *parser) program(root *sitter.Node) *Program {
	var class *sitter.Node
	var walk func(n *sitter.Node)
	walk = func(n *sitter.Node) {
		for _, c := range children(n) {
			switch c.Type() {
			case "using_directive", "extern_alias_directive":
			case "namespace_declaration":
				walk(c.ChildByFieldName("body"))
			case "file_scoped_namespace_declaration":
				walk(c)
			case "identifier", "qualified_name":
				if n.Type() != "file_scoped_namespace_declaration" && n.Type() != "namespace_declaration" {
					p.unsupported(c, "%s at the top level", describe(c.Type()))
				}
			case "class_declaration":
				if class != nil {
					p.unsupported(c, "a second class (one class per file; awaiters nest inside it)")
				}
				class = c
			default:
				p.unsupported(c, "%s at the top level", describe(c.Type()))
			}
		}
	}
	walk(root)
	if class == nil {
		p.fail(root, KindError, "no class (want one class with Main and an async entry method)")
	}
	return p.lowerClass(class)
}

// typ is the type of a C# value in the subset.
type typ uint8

const (
	tVoid typ = iota
	tInt
	tBool
	tAwaiter
	tStopwatch
)

func (t typ) String() string {
	return [...]string{"void", "int", "bool", "awaiter", "Stopwatch"}[t]
}

// typeOf resolves a type node of a local, parameter or field.
func (p *parser) typeOf(n *sitter.Node) typ {
	switch t := p.text(n); {
	case t == "int" || t == "Int32" || t == "System.Int32":
		return tInt
	case t == "bool" || t == "Boolean" || t == "System.Boolean":
		return tBool
	case p.awaiter[t]:
		return tAwaiter
	case t == "Stopwatch" || t == "System.Diagnostics.Stopwatch":
		return tStopwatch
	}
	p.unsupported(n, "type %s (the subset has int, bool and the awaiter class)", p.text(n))
	return tVoid
}

func (p *parser) lowerClass(c *sitter.Node) *Program {
	p.classN = c
	p.class = p.text(c.ChildByFieldName("name"))
	p.allowMods(p.modifiers(c), "the class", "public", "internal", "static", "sealed", "partial")
	for _, ch := range children(c) {
		switch ch.Type() {
		case "modifier", "identifier", "declaration_list":
		case "base_list":
			p.unsupported(ch, "a base class or interface on the program's class")
		default:
			p.unsupported(ch, "%s on the class", describe(ch.Type()))
		}
	}
	p.fields, p.methods, p.awaiter = map[string]*field{}, map[string]*methodDecl{}, map[string]bool{}
	body := c.ChildByFieldName("body")
	// Nested classes first: they name the awaiter type.
	for _, d := range children(body) {
		if d.Type() == "class_declaration" {
			p.checkAwaiter(d)
		}
	}
	prog := &Program{File: p.file, Class: &jit.Class{}}
	for _, d := range children(body) {
		switch d.Type() {
		case "class_declaration":
		case "field_declaration":
			p.fieldDecl(d)
		case "method_declaration":
			p.methodDecl(d)
		default:
			p.unsupported(d, "%s in the class (the subset has static int fields, const int fields and static methods)", describe(d.Type()))
		}
	}
	if p.main == nil {
		p.errorf(c.ChildByFieldName("name"), "class %s has no Main method", p.class)
	}
	for _, name := range p.order {
		f := p.fields[name]
		if f.cnst {
			prog.Params = append(prog.Params, Param{Name: name, Value: f.init, Sym: f.sym, Line: f.line, Const: true})
		}
		prog.Class.Fields = append(prog.Class.Fields, jit.Field{Sym: f.sym, Init: f.init, Const: f.cnst})
	}
	entry := p.lowerMain(prog)
	for _, name := range p.mOrder {
		d := p.methods[name]
		d.m = &jit.Method{Name: name, Async: d.async, Result: d.result}
	}
	p.calls = map[string]map[string]*sitter.Node{}
	for _, name := range p.mOrder {
		p.lowerMethod(p.methods[name], name == entry.name)
	}
	p.checkRecursion()
	// The entry method first, then what it calls.
	seen := map[string]bool{}
	var add func(name string)
	add = func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		d := p.methods[name]
		prog.Class.Methods = append(prog.Class.Methods, d.m)
		for _, c := range d.m.Callees() {
			add(c)
		}
	}
	add(entry.name)
	prog.Stopwatch = p.stopwatch
	if err := prog.Class.Validate(); err != nil {
		p.errorf(c, "%v", err)
	}
	return prog
}

// checkRecursion rejects call cycles at the call that closes one: the
// subset's methods have fixed frames and the image a fixed stack.
func (p *parser) checkRecursion() {
	state := map[string]int{} // 1 on the path, 2 done
	var path []string
	var visit func(m string)
	visit = func(m string) {
		state[m] = 1
		path = append(path, m)
		for _, callee := range p.mOrder {
			n := p.calls[m][callee]
			switch {
			case n == nil:
			case state[callee] == 1:
				p.unsupported(n, "recursive calls (%s → %s)", strings.Join(path, " → "), callee)
			case state[callee] == 0:
				visit(callee)
			}
		}
		path = path[:len(path)-1]
		state[m] = 2
	}
	for _, m := range p.mOrder {
		if state[m] == 0 {
			visit(m)
		}
	}
}

// checkAwaiter accepts a nested class as the awaiter: one that never
// completes synchronously (IsCompleted is the constant false) and has the
// Continue method Main resumes it with.
func (p *parser) checkAwaiter(c *sitter.Node) {
	name := p.text(c.ChildByFieldName("name"))
	completed, cont := false, false
	for _, d := range children(c.ChildByFieldName("body")) {
		dn := d.ChildByFieldName("name")
		if dn == nil {
			continue
		}
		switch p.text(dn) {
		case "IsCompleted":
			completed = p.constFalse(d)
			if !completed {
				p.unsupported(d, "an awaiter whose IsCompleted is not the constant false (the runtime's awaiter never completes synchronously)")
			}
		case "Continue":
			cont = d.Type() == "method_declaration"
		}
	}
	if !completed || !cont {
		p.unsupported(c, "nested class %s: the subset's only nested class is the awaiter (IsCompleted => false, UnsafeOnCompleted stores the continuation, Continue() runs it)", name)
	}
	p.awaiter[name] = true
}

// constFalse reports whether a property returns the constant false.
func (p *parser) constFalse(d *sitter.Node) bool {
	if d.Type() != "property_declaration" {
		return false
	}
	body := strings.Join(strings.Fields(p.text(d)), " ")
	return strings.HasSuffix(body, "=> false;") || strings.Contains(body, "get { return false; }") || strings.Contains(body, "get => false;")
}

func (p *parser) fieldDecl(d *sitter.Node) {
	mods := p.modifiers(d)
	p.allowMods(mods, "a field", "static", "const", "private", "public", "internal")
	_, cnst := mods["const"]
	if _, st := mods["static"]; !st && !cnst {
		p.unsupported(d, "an instance field (fields are static int or const int)")
	}
	var decl *sitter.Node
	for _, c := range children(d) {
		if c.Type() == "variable_declaration" {
			decl = c
		}
	}
	if p.typeOf(decl.ChildByFieldName("type")) != tInt {
		p.unsupported(decl.ChildByFieldName("type"), "a %s field (fields are int)", p.text(decl.ChildByFieldName("type")))
	}
	for _, v := range children(decl) {
		if v.Type() != "variable_declarator" {
			continue
		}
		name := p.text(v.ChildByFieldName("name"))
		if p.fields[name] != nil {
			p.errorf(v, "field %s declared twice", name)
		}
		f := &field{name: name, cnst: cnst, line: int(v.StartPoint().Row) + 1, node: v, sym: StaticSym(name)}
		if cnst {
			f.sym = ConstSym(name)
		}
		init := initializer(v)
		switch {
		case init != nil:
			f.init = p.constInt(init)
		case cnst:
			p.errorf(v, "const %s has no value", name)
		}
		p.fields[name] = f
		p.order = append(p.order, name)
	}
}

// initializer is a declarator's value, or nil.
func initializer(v *sitter.Node) *sitter.Node {
	cs := children(v)
	if len(cs) >= 2 {
		last := cs[len(cs)-1]
		if last.Type() == "equals_value_clause" {
			return children(last)[0]
		}
		return last
	}
	return nil
}

// constInt evaluates a constant int: a literal, a negated literal or a
// constant declared earlier.
func (p *parser) constInt(n *sitter.Node) int32 {
	switch n.Type() {
	case "integer_literal":
		return p.intLiteral(n, false)
	case "parenthesized_expression":
		return p.constInt(children(n)[0])
	case "prefix_unary_expression":
		if op := p.text(n.Child(0)); op == "-" && children(n)[0].Type() == "integer_literal" {
			return p.intLiteral(children(n)[0], true)
		}
	case "identifier":
		if f := p.fields[p.text(n)]; f != nil && f.cnst {
			return f.init
		}
	}
	p.unsupported(n, "a value that is not an integer literal or a constant declared before it")
	return 0
}

// intLiteral parses a C# integer literal (decimal, hex, binary, digit
// separators) as an int, negated if neg.
func (p *parser) intLiteral(n *sitter.Node, neg bool) int32 {
	s := strings.ReplaceAll(strings.ToLower(p.text(n)), "_", "")
	if strings.TrimRight(s, "ul") != s {
		p.unsupported(n, "integer literal %s with a suffix (the subset's integers are int)", p.text(n))
	}
	base := 10
	switch {
	case strings.HasPrefix(s, "0x"):
		base, s = 16, s[2:]
	case strings.HasPrefix(s, "0b"):
		base, s = 2, s[2:]
	}
	var v uint64
	for _, ch := range s {
		d := uint64(strings.IndexRune("0123456789abcdef", ch))
		v = v*uint64(base) + d
		if v > 1<<32 {
			break
		}
	}
	limit := uint64(1<<31 - 1)
	if neg {
		limit++
	}
	if base != 10 && v <= 1<<32-1 && !neg {
		return int32(uint32(v)) // C#: hex literals above int.MaxValue are uint
	}
	if v > limit {
		p.unsupported(n, "integer literal %s outside int's range", p.text(n))
	}
	if neg {
		return int32(-int64(v))
	}
	return int32(v)
}

func (p *parser) methodDecl(d *sitter.Node) {
	mods := p.modifiers(d)
	p.allowMods(mods, "a method", "static", "async", "private", "public", "internal")
	name := p.text(d.ChildByFieldName("name"))
	if name == "Main" {
		if p.main != nil {
			p.errorf(d, "Main declared twice")
		}
		p.main = d
		return
	}
	if _, ok := mods["static"]; !ok {
		p.unsupported(d.ChildByFieldName("name"), "an instance method (methods are static)")
	}
	if tp := d.ChildByFieldName("type_parameters"); tp != nil {
		p.unsupported(tp, "a generic method")
	}
	if p.methods[name] != nil {
		p.unsupported(d.ChildByFieldName("name"), "overloads (method %s declared twice)", name)
	}
	_, async := mods["async"]
	md := &methodDecl{name: name, node: d, async: async}
	ret := d.ChildByFieldName("returns")
	if ret == nil {
		ret = d.ChildByFieldName("type")
	}
	rt := strings.Join(strings.Fields(p.text(ret)), "")
	switch {
	case async && rt == "Task":
	case async && rt == "Task<int>":
		md.result = true
	case !async && rt == "int":
		md.result = true
	default:
		p.unsupported(ret, "a %smethod returning %s (methods are static int, static async Task or static async Task<int>)",
			map[bool]string{true: "async ", false: ""}[async], p.text(ret))
	}
	for _, c := range children(d.ChildByFieldName("parameters")) {
		if c.Type() != "parameter" {
			p.unsupported(c, "%s in a parameter list", describe(c.Type()))
		}
		for _, m := range children(c) {
			if m.Type() == "modifier" || m.Type() == "parameter_modifier" || m.Type() == "equals_value_clause" {
				p.unsupported(m, "parameter modifiers and default values")
			}
		}
		t := p.typeOf(c.ChildByFieldName("type"))
		if t == tAwaiter && !async {
			p.unsupported(c, "an awaiter parameter of a synchronous method")
		}
		if t == tStopwatch {
			p.unsupported(c, "a Stopwatch parameter")
		}
		md.params = append(md.params, paramDecl{name: p.text(c.ChildByFieldName("name")), typ: t, node: c})
	}
	max := len(jit.ArgRegs)
	if async {
		max--
	}
	if len(md.params) > max {
		p.unsupported(d.ChildByFieldName("parameters"), "%d parameters (at most %d for %s methods)", len(md.params), max,
			map[bool]string{true: "async", false: "synchronous"}[async])
	}
	p.methods[name] = md
	p.mOrder = append(p.mOrder, name)
}
