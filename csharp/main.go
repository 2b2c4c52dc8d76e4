package csharp

import (
	"strings"

	sitter "github.com/smacker/go-tree-sitter"
)

// lowerMain reads the driver, in the shape of the PR's program:
//
//	var na = new NullAwaiter();
//	Task t = Foo(10_000_000, na);
//	while (!t.IsCompleted) na.Continue();
//
// Console output may come anywhere. It returns the entry method and sets
// the program's parameters: the entry method's int parameters (values from
// Main's arguments) then the constants.
func (p *parser) lowerMain(prog *Program) *methodDecl {
	m := p.main
	shape := func(n *sitter.Node, what string) {
		p.unsupported(n, "%s in Main (Main creates the awaiter, calls the async entry method and resumes it until the task completes)", what)
	}
	p.allowMods(p.modifiers(m), "Main", "static", "public", "private", "internal")
	if _, ok := p.modifiers(m)["static"]; !ok {
		p.errorf(m, "Main must be static")
	}
	if rt := m.ChildByFieldName("returns"); rt == nil || p.text(rt) != "void" {
		shape(m, "a Main that does not return void")
	}
	for _, c := range children(m.ChildByFieldName("parameters")) {
		if strings.Join(strings.Fields(p.text(c.ChildByFieldName("type"))), "") != "string[]" {
			shape(c, "a parameter other than string[] args")
		}
	}
	body := m.ChildByFieldName("body")
	if body == nil || body.Type() != "block" {
		shape(m, "an expression body")
	}
	var awaiter, task string
	var entry *methodDecl
	var call *sitter.Node
	resumed := false
	for _, s := range children(body) {
		switch {
		case s.Type() == "expression_statement" && p.isConsole(children(s)[0]):
			p.checkConsoleArgs(children(s)[0])
		case s.Type() == "local_declaration_statement" && awaiter == "":
			v := p.onlyDeclarator(s, shape)
			init := initializer(v)
			if init == nil || init.Type() != "object_creation_expression" || !p.awaiter[p.text(init.ChildByFieldName("type"))] {
				shape(s, "a declaration before the awaiter's (new "+firstAwaiter(p)+"())")
			}
			awaiter = p.text(v.ChildByFieldName("name"))
		case s.Type() == "local_declaration_statement" && task == "":
			v := p.onlyDeclarator(s, shape)
			call = initializer(v)
			if call == nil || call.Type() != "invocation_expression" {
				shape(s, "a declaration that is not the entry call (Task t = Foo(...))")
			}
			entry = p.methods[p.text(call.ChildByFieldName("function"))]
			if entry == nil || !entry.async {
				shape(call, "a call to "+p.text(call.ChildByFieldName("function"))+", which is not an async method of the class,")
			}
			task = p.text(v.ChildByFieldName("name"))
		case s.Type() == "while_statement" && task != "" && !resumed:
			cond := strings.Join(strings.Fields(p.text(s.ChildByFieldName("condition"))), "")
			b := strings.Join(strings.Fields(p.text(s.ChildByFieldName("body"))), "")
			want := awaiter + ".Continue();"
			if cond != "!"+task+".IsCompleted" || (b != want && b != "{"+want+"}") {
				shape(s, "a loop other than while (!"+task+".IsCompleted) "+want)
			}
			resumed = true
		default:
			shape(s, describe(s.Type()))
		}
	}
	if !resumed {
		shape(body, "a missing part: the driver needs the awaiter, the entry call and the resume loop")
	}
	p.entryArgs(prog, entry, call, awaiter)
	return entry
}

func firstAwaiter(p *parser) string {
	for a := range p.awaiter {
		return a
	}
	return "NullAwaiter"
}

// onlyDeclarator returns the single declarator of a declaration.
func (p *parser) onlyDeclarator(s *sitter.Node, shape func(*sitter.Node, string)) *sitter.Node {
	var decl *sitter.Node
	for _, c := range children(s) {
		if c.Type() == "variable_declaration" {
			decl = c
		}
	}
	var vs []*sitter.Node
	for _, c := range children(decl) {
		if c.Type() == "variable_declarator" {
			vs = append(vs, c)
		}
	}
	if len(vs) != 1 {
		shape(s, "a declaration of several variables")
	}
	return vs[0]
}

func (p *parser) isConsole(e *sitter.Node) bool {
	if e.Type() != "invocation_expression" {
		return false
	}
	f := strings.TrimPrefix(p.text(e.ChildByFieldName("function")), "System.")
	return f == "Console.WriteLine" || f == "Console.Write"
}

// checkConsoleArgs rejects Console arguments with effects: they are not
// evaluated.
func (p *parser) checkConsoleArgs(e *sitter.Node) {
	var walk func(n *sitter.Node)
	walk = func(n *sitter.Node) {
		switch n.Type() {
		case "invocation_expression", "assignment_expression", "await_expression":
			p.unsupported(n, "%s inside a Console call (its arguments are not evaluated)", describe(n.Type()))
		}
		for _, c := range children(n) {
			walk(c)
		}
	}
	walk(e.ChildByFieldName("arguments"))
}

// entryArgs turns Main's call into parameters: each int argument is the
// native-scale value of the parameter it binds.
func (p *parser) entryArgs(prog *Program, entry *methodDecl, call *sitter.Node, awaiter string) {
	args := children(call.ChildByFieldName("arguments"))
	if len(args) != len(entry.params) {
		p.errorf(call, "%s takes %d arguments, got %d", entry.name, len(entry.params), len(args))
	}
	var params []Param
	for i, a := range args {
		pd := entry.params[i]
		if a.Type() != "argument" || len(children(a)) != 1 {
			p.unsupported(a, "named, ref or out arguments")
		}
		x := children(a)[0]
		if pd.typ == tAwaiter {
			if p.text(x) != awaiter {
				p.errorf(x, "the awaiter argument must be %s", awaiter)
			}
			prog.EntryArgs = append(prog.EntryArgs, -1)
			continue
		}
		if pd.typ != tInt {
			p.unsupported(pd.node, "a %s parameter of the entry method (its parameters are int or the awaiter)", pd.typ)
		}
		if f := p.fields[pd.name]; f != nil && f.cnst {
			p.errorf(pd.node, "parameter %s and const %s would be two workload parameters of one name", pd.name, pd.name)
		}
		prog.EntryArgs = append(prog.EntryArgs, len(params))
		params = append(params, Param{Name: pd.name, Value: p.constInt(x), Sym: ParamSym(pd.name), Line: int(pd.node.StartPoint().Row) + 1})
	}
	for _, prm := range prog.Params { // the constants
		params = append(params, prm)
	}
	prog.Params = params
}
