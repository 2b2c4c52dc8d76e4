package runner

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/osrsim/osrsim/csharp"
	"github.com/osrsim/osrsim/patchpoint"
	"github.com/osrsim/osrsim/sim/native"
	"github.com/osrsim/osrsim/sim/unicorn"
	"github.com/osrsim/osrsim/workload"
)

// FuzzCSharp generates a random program of the C# subset from the fuzz
// input, compiles it for a strategy and patchpoint settings the input also
// picks (small ones, so that OSR happens in short loops), emulates it
// against the interpreter, and runs it natively in a child process, whose
// final state must equal the emulated one.
//
//	go test ./runner -run '^$' -fuzz FuzzCSharp -fuzztime 2m
func FuzzCSharp(f *testing.F) {
	for _, seed := range []string{
		"", "\x01\x02\x03\x04\x05\x06\x07\x08", "loops and awaits: \x05\x03\x02\x09\x04\x07",
		"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4", "\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03",
		"\x10\x20\x30\x40\x50\x60\x70\x80\x90\xa0\xb0\xc0\xd0\xe0",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g := &progGen{data: data}
		src := g.program()
		prog, err := csharp.Parse("fuzz.cs", []byte(src))
		if err != nil {
			t.Fatalf("generated program does not lower: %v\n%s", err, numbered(src))
		}
		p := workload.FromSource("fuzz", prog)
		p.Patchpoint.InitialCounter = 1 + g.n(40)
		p.Patchpoint.CounterBump = 1 + g.n(40)
		p.Patchpoint.HitLimit = 1 + g.n(4)
		s := patchpoint.Strategies[g.n(len(patchpoint.Strategies))]
		b, err := workload.Build(p, s)
		if err != nil {
			t.Fatalf("%v\n%s", err, numbered(src))
		}
		_, er, err := Emulate(b, unicorn.Options{MaxInstructions: 200_000_000}, nil)
		if err != nil {
			t.Fatalf("%s: %v\n%s", s, err, numbered(src))
		}
		nr, err := native.RunInChild(b.Image, native.Options{Samples: 1, Timeout: time.Minute})
		if errors.Is(err, native.ErrUnsupported) {
			return
		}
		if err != nil {
			t.Fatalf("%s native: %v\n%s", s, err, numbered(src))
		}
		if err := er.State.Diff(nr.State); err != nil {
			t.Fatalf("%s: native and emulated final states differ: %v\n%s", s, err, numbered(src))
		}
	})
}

func numbered(src string) string {
	var b strings.Builder
	for i, l := range strings.Split(src, "\n") {
		fmt.Fprintf(&b, "%3d  %s\n", i+1, l)
	}
	return b.String()
}

// progGen writes a random program of the subset, driven by the fuzz input
// (zeros once it runs out). Programs always terminate: loops count a
// variable nothing else assigns up to a small bound.
type progGen struct {
	data []byte
	pos  int
	out  strings.Builder
	ind  int

	ints, bools []string // assignable locals in scope
	reads       []string // read-only ints in scope (parameters, loop counters)
	statics     []string
	consts      []string
	helpers     []helper
	callable    int // helpers from this index on may be called (no recursion)
	async       bool
	helper      bool // writing a helper: small loops, calls outside loops only
	loops       int
	mult        int // iterations of the enclosing loops
	counters    int
	stmts       int
}

// maxIterations bounds the iterations of a loop nest of the entry method
// (times its calls' own), so that every program runs in well under a
// second of emulation.
const maxIterations = 4096

type helper struct {
	name   string
	params int
}

func (g *progGen) n(k int) int {
	if k <= 1 {
		return 0
	}
	if g.pos >= len(g.data) {
		return 0
	}
	v := int(g.data[g.pos])
	g.pos++
	return v % k
}

func (g *progGen) line(format string, args ...any) {
	g.out.WriteString(strings.Repeat("    ", g.ind))
	fmt.Fprintf(&g.out, format, args...)
	g.out.WriteString("\n")
}

func (g *progGen) program() string {
	g.line("using System;")
	g.line("using System.Runtime.CompilerServices;")
	g.line("using System.Threading.Tasks;")
	g.line("class Program")
	g.line("{")
	g.ind++
	for i := 0; i < 1+g.n(3); i++ {
		g.statics = append(g.statics, fmt.Sprintf("s%d", i))
		g.line("static int s%d = %d;", i, g.literal())
	}
	for i := 0; i < g.n(3); i++ {
		g.consts = append(g.consts, fmt.Sprintf("C%d", i))
		g.line("const int C%d = %d;", i, g.literal())
	}
	for i := 0; i < g.n(3); i++ {
		g.helpers = append(g.helpers, helper{fmt.Sprintf("H%d", i), 1 + g.n(3)})
	}
	nparams := g.n(3)
	var args, params []string
	for i := 0; i < nparams; i++ {
		args = append(args, fmt.Sprint(g.n(60)-10))
		params = append(params, fmt.Sprintf("int p%d", i))
	}
	g.line("static void Main()")
	g.line("{")
	g.line("    var na = new NullAwaiter();")
	g.line("    Task t = Foo(%s);", strings.Join(append(args, "na"), ", "))
	g.line("    while (!t.IsCompleted)")
	g.line("        na.Continue();")
	g.line("}")
	g.async, g.mult = true, 1
	g.method("static async Task Foo("+strings.Join(append(params, "NullAwaiter na"), ", ")+")", nparams, "p", false)
	g.async, g.helper = false, true
	for i, h := range g.helpers {
		g.callable = i + 1
		var ps []string
		for k := 0; k < h.params; k++ {
			ps = append(ps, fmt.Sprintf("int a%d", k))
		}
		g.method("static int "+h.name+"("+strings.Join(ps, ", ")+")", h.params, "a", true)
	}
	g.line("class NullAwaiter : ICriticalNotifyCompletion")
	g.line("{")
	g.line("    Action _c;")
	g.line("    public bool IsCompleted => false;")
	g.line("    public NullAwaiter GetAwaiter() => this;")
	g.line("    public void GetResult() { }")
	g.line("    public void OnCompleted(Action c) => _c = c;")
	g.line("    public void UnsafeOnCompleted(Action c) => _c = c;")
	g.line("    public void Continue() { Action c = _c; _c = null; c(); }")
	g.line("}")
	g.ind--
	g.line("}")
	return g.out.String()
}

func (g *progGen) method(sig string, nparams int, prefix string, result bool) {
	g.ints, g.bools, g.reads, g.counters, g.stmts = nil, nil, nil, 0, 0
	for i := 0; i < nparams; i++ {
		g.reads = append(g.reads, fmt.Sprintf("%s%d", prefix, i))
	}
	g.line("%s", sig)
	g.line("{")
	g.ind++
	for i := 0; i < 1+g.n(4); i++ {
		g.ints = append(g.ints, fmt.Sprintf("v%d", i))
		g.line("int v%d = %d;", i, g.literal())
	}
	for i := 0; i < g.n(3); i++ {
		g.bools = append(g.bools, fmt.Sprintf("b%d", i))
		g.line("bool b%d = %s;", i, []string{"false", "true"}[g.n(2)])
	}
	g.block(2 + g.n(5))
	if result {
		g.line("return %s;", g.expr(2))
	}
	g.ind--
	g.line("}")
}

func (g *progGen) block(n int) {
	for i := 0; i < n && g.stmts < 60; i++ {
		g.stmt()
	}
}

func (g *progGen) literal() int32 {
	switch g.n(8) {
	case 0:
		return int32(g.n(256)<<24 | g.n(256)<<16 | g.n(256)<<8 | g.n(256))
	case 1:
		return -2147483647
	}
	return int32(g.n(40) - 12)
}

func (g *progGen) lit() string {
	v := g.literal()
	if v < 0 {
		return fmt.Sprintf("(%d)", v)
	}
	return fmt.Sprint(v)
}

func (g *progGen) stmt() {
	g.stmts++
	deep := g.loops >= 3 || g.ind > 7 || (g.helper && g.loops >= 2)
	switch k := g.n(16); {
	case k < 5:
		g.assign()
	case k == 5 && len(g.bools) > 0:
		g.line("%s = %s;", g.bools[g.n(len(g.bools))], g.cond(2))
	case k == 6 && !deep:
		g.line("if (%s)", g.cond(2))
		g.nested(1 + g.n(3))
		if g.n(2) == 1 {
			g.line("else")
			g.nested(1 + g.n(3))
		}
	case k >= 7 && k <= 9 && !deep:
		g.loop(k - 7)
	case k == 10 && g.loops > 0:
		g.line("if (%s) %s;", g.cond(1), []string{"break", "continue"}[g.n(2)])
	case (k == 11 || k == 12) && g.async:
		g.line("await na;")
	case k == 13 && g.callable < len(g.helpers) && g.mayCall():
		g.line("%s;", g.call(1))
	case k == 14 && g.async && g.n(4) == 0:
		g.line("if (%s) return;", g.cond(1))
	default:
		g.assign()
	}
}

func (g *progGen) nested(n int) {
	g.line("{")
	g.ind++
	g.block(n)
	g.ind--
	g.line("}")
}

// loop writes a for, while or do loop counting a fresh variable up to a
// small bound (or a constant's low bits).
func (g *progGen) loop(kind int) {
	c := fmt.Sprintf("L%d", g.counters)
	g.counters++
	limit := max(1, min(40, maxIterations/g.mult))
	if g.helper {
		limit = 6
	}
	n := 1 + g.n(limit)
	bound := fmt.Sprint(n)
	if len(g.consts) > 0 && g.n(4) == 0 && limit >= 32 {
		n, bound = 32, fmt.Sprintf("(%s & 31)", g.consts[g.n(len(g.consts))])
	}
	g.loops++
	g.mult *= n
	defer func() { g.loops--; g.mult /= n }()
	body := func() {
		g.reads = append(g.reads, c)
		g.block(1 + g.n(4))
		g.reads = g.reads[:len(g.reads)-1]
	}
	switch kind {
	case 0:
		g.line("for (int %s = 0; %s < %s; %s++)", c, c, bound, c)
		g.line("{")
		g.ind++
		body()
	case 1:
		g.line("int %s = 0;", c)
		g.line("while (%s < %s)", c, bound)
		g.line("{")
		g.ind++
		g.line("%s++;", c)
		body()
	default:
		g.line("int %s = 0;", c)
		g.line("do")
		g.line("{")
		g.ind++
		g.line("%s++;", c)
		body()
	}
	g.ind--
	if kind == 2 {
		g.line("} while (%s < %s);", c, bound)
	} else {
		g.line("}")
	}
}

var compoundOps = []string{"=", "+=", "-=", "*=", "&=", "|=", "^=", "<<=", ">>=", "/=", "%="}

func (g *progGen) assign() {
	var dst string
	if len(g.ints) > 0 && g.n(3) > 0 {
		dst = g.ints[g.n(len(g.ints))]
	} else {
		dst = g.statics[g.n(len(g.statics))]
	}
	switch g.n(6) {
	case 0:
		g.line("%s%s;", dst, []string{"++", "--"}[g.n(2)])
		return
	}
	op := compoundOps[g.n(len(compoundOps))]
	src := g.expr(2)
	if op == "/=" || op == "%=" {
		src = g.divisor()
	}
	g.line("%s %s %s;", dst, op, src)
}

// divisor is mostly a non-zero constant; sometimes an expression, which
// may be zero (a run-time error both engines must report alike).
func (g *progGen) divisor() string {
	if g.n(5) == 0 {
		return "(" + g.expr(1) + ")"
	}
	return fmt.Sprint([]int{3, 7, -5, 13, 1000, -1}[g.n(6)])
}

func (g *progGen) expr(depth int) string {
	if depth == 0 || g.n(3) == 0 {
		return g.leaf()
	}
	switch g.n(8) {
	case 0:
		return "-" + g.atom(depth-1)
	case 1:
		return "~" + g.atom(depth-1)
	case 2:
		if g.callable < len(g.helpers) && g.mayCall() {
			return g.call(depth - 1)
		}
	case 3:
		return "(" + g.expr(depth-1) + " " + []string{"/", "%"}[g.n(2)] + " " + g.divisor() + ")"
	}
	op := []string{"+", "-", "*", "&", "|", "^", "<<", ">>"}[g.n(8)]
	return "(" + g.expr(depth-1) + " " + op + " " + g.expr(depth-1) + ")"
}

func (g *progGen) atom(depth int) string {
	e := g.expr(depth)
	if strings.HasPrefix(e, "(") {
		return e
	}
	return "(" + e + ")"
}

func (g *progGen) leaf() string {
	var pool []string
	pool = append(pool, g.ints...)
	pool = append(pool, g.reads...)
	pool = append(pool, g.statics...)
	pool = append(pool, g.consts...)
	if k := g.n(len(pool) + 2); k < len(pool) {
		return pool[k]
	}
	return g.lit()
}

// mayCall: helpers call only outside loops (their calls' cost does not
// multiply); the entry method calls in loops of few iterations.
func (g *progGen) mayCall() bool {
	if g.helper {
		return g.loops == 0
	}
	return g.mult <= 256
}

func (g *progGen) call(depth int) string {
	h := g.helpers[g.callable+g.n(len(g.helpers)-g.callable)]
	var args []string
	for i := 0; i < h.params; i++ {
		args = append(args, g.expr(depth))
	}
	return h.name + "(" + strings.Join(args, ", ") + ")"
}

func (g *progGen) cond(depth int) string {
	if depth == 0 || g.n(3) == 0 {
		if len(g.bools) > 0 && g.n(3) == 0 {
			return g.bools[g.n(len(g.bools))]
		}
		op := []string{"<", "<=", ">", ">=", "==", "!="}[g.n(6)]
		return g.expr(1) + " " + op + " " + g.expr(1)
	}
	switch g.n(4) {
	case 0:
		return "!(" + g.cond(depth-1) + ")"
	case 1:
		return "(" + g.cond(depth-1) + ") == (" + g.cond(depth-1) + ")"
	}
	return "(" + g.cond(depth-1) + ") " + []string{"&&", "||"}[g.n(2)] + " (" + g.cond(depth-1) + ")"
}
