package csharp

import (
	"errors"
	"strings"
	"testing"

	"github.com/osrsim/osrsim/jit"
	"github.com/osrsim/osrsim/jit/interp"
)

// The PR's program lowers to the shape of the await-loop template: loop 1
// at IL 0x14 (the OSR entry point in dotnet/runtime#126791's listing),
// the constant Awaits and the entry's n as parameters, a stopwatch region.
func TestSeed(t *testing.T) {
	p, err := Load("../experiments/seed.cs")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Params) != 2 || p.Params[0].Name != "n" || p.Params[0].Value != 10_000_000 || p.Params[0].Const ||
		p.Params[1].Name != "Awaits" || !p.Params[1].Const || p.Params[1].Sym != "const.Awaits" {
		t.Fatalf("params %+v", p.Params)
	}
	foo := p.Class.Methods[0]
	if foo.Name != "Foo" || !foo.Async || len(p.Class.Methods) != 1 || !p.Stopwatch {
		t.Fatalf("methods %+v", p.Class.Methods)
	}
	if ils := foo.Loops(); len(ils) != 2 || ils[0] != 0x14 {
		t.Errorf("loop heads at %#x, want loop 1 at 0x14", ils)
	}
	if got := foo.Locals; len(got) != 2 || got[0] != "i" || got[1] != "i#2" {
		t.Errorf("locals %v: the two loops' i are two variables", got)
	}
	r, err := interp.Run(p.Class, []int32{20000, 0}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.Statics["static.s_value"] != 199990000 || r.Awaits != 10_000_000 || r.Window.Awaits != r.Awaits {
		t.Errorf("interpreter: %+v", r)
	}
}

const prelude = `using System; using System.Threading.Tasks; using System.Runtime.CompilerServices;
class P {
  static int s;
  static void Main() { var na = new A(); Task t = F(3, na); while (!t.IsCompleted) na.Continue(); }
  class A : ICriticalNotifyCompletion {
    public bool IsCompleted => false; public void GetResult() {} public A GetAwaiter() => this;
    public void OnCompleted(Action c) {} public void UnsafeOnCompleted(Action c) {} public void Continue() {}
  }
`

func program(body string) string {
	return prelude + "  static async Task F(int n, A na) {\n" + body + "\n  }\n}\n"
}

// Every construct outside the subset is an error at its position that
// names it; so are syntax and type errors.
func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want string
	}{
		{program("switch (n) { case 1: break; }"), "10:1: unsupported: switch statement"},
		{program("int x = n > 1 ? 1 : 2;"), "10:9: unsupported: conditional expression (?:)"},
		{program("foreach (var q in n) {}"), "10:1: unsupported: foreach statement"},
		{program("goto L; L: s = 1;"), "10:1: unsupported: goto statement"},
		{program("try { s = 1; } finally { s = 2; }"), "10:1: unsupported: try statement"},
		{program("long x = 1;"), "10:1: unsupported: type long"},
		{program("int x = n++;"), "10:9: unsupported: ++ inside an expression"},
		{program("int x = (s = 2);"), "10:10: unsupported: assignment inside an expression"},
		{program("int x = 2147483648;"), "10:9: unsupported: integer literal 2147483648 outside int's range"},
		{program("int x = 5L;"), "10:9: unsupported: integer literal 5L with a suffix"},
		{program("s = checked(n + 1);"), "10:5: unsupported: checked/unchecked expression"},
		{program("s = G(n);"), "10:5: error: the name G does not exist in the current context"},
		{program("int x = n < 1;"), "10:9: error: cannot convert bool to int"},
		{program("if (n) s = 1;"), "10:5: error: cannot convert int to bool"},
		{program("s = n / 0;"), "10:9: error: division by constant zero"},
		{program("break;"), "10:1: error: no enclosing loop out of which to break"},
		{program("int x = 1 +;"), "10:12: syntax error: missing identifier"},
		{program("s = 1 +* 2;"), "syntax error"},
		{program("await F2();"), "10:7: unsupported: await on F2()"},
		{program("int y = await na;"), "10:9: unsupported: await inside an expression"},
		{prelude + "  static async Task F(int n, A na) { s = G(1); }\n  static int G(int x) { return G(x); }\n}\n", "10:32: unsupported: recursive calls (F → G → G)"},
		{prelude + "  static async Task F(int n, A na) { s = G(1); }\n  static int G(int x) { if (x > 0) return 1; }\n}\n", "error: G: not all code paths return a value"},
		{prelude + "  static async Task F(int n, A na, int a, int b) { }\n}\n", "unsupported: 4 parameters (at most 3 for async methods)"},
		{prelude + "  int x;\n  static async Task F(int n, A na) { }\n}\n", "9:3: unsupported: an instance field"},
		{prelude + "  static async Task F(int n, A na) { var sw = System.Diagnostics.Stopwatch.StartNew(); }\n}\n", "error: the stopwatch is started but its Elapsed is never used"},
		{strings.Replace(program("s = 1;"), "Task t = F(3, na);", "Task t = F(x, na);", 1), "4:53: unsupported: a value that is not an integer literal"},
		{strings.Replace(program("s = 1;"), "IsCompleted => false", "IsCompleted => true", 1), "unsupported: an awaiter whose IsCompleted is not the constant false"},
	} {
		_, err := Parse("t.cs", []byte(tc.src))
		var e *Error
		if !errors.As(err, &e) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want %q, got %v\n%s", tc.want, err, tc.src)
			continue
		}
		if e.Kind == KindUnsupported && !strings.HasSuffix(err.Error(), "(see experiments/CSHARP.md)") {
			t.Errorf("%q does not point at the documentation", err)
		}
	}
}

// Loops get Roslyn-like IL offsets: a top-tested loop's head is its test,
// laid out after the body; a do loop's is the top of its body.
func TestILOffsets(t *testing.T) {
	p, err := Parse("t.cs", []byte(program("int i = 0;\nwhile (i < n) i++;\ndo { i--; } while (i > 0);\nfor (;;) { break; }")))
	if err != nil {
		t.Fatal(err)
	}
	// int i = 0: ldc.i4.0 stloc.0 (2); br.s (2); i++: ldloc ldc add stloc
	// (4): head at 8; test ldloc ldarg blt.s (4); do body at 12.
	ils := p.Class.Methods[0].Loops()
	if len(ils) != 3 || ils[0] != 8 || ils[1] != 12 {
		t.Fatalf("loop heads %v, want [8 12 ...]", ils)
	}
}

// A program's statics, constants and calls lower as C# means them; the
// interpreter runs them with wrap-around arithmetic.
func TestLowering(t *testing.T) {
	src := prelude + `  const int K = -7;
  static int t = 5;
  static async Task F(int n, A na) {
    bool b = n > 2 && !(n == 4);
    int x = int.MaxValue;
    for (int i = 0; i < n; i++) { x += 1; if (b) continue; x = 0; }
    s = x / K + G(n, t) % 4;
    t <<= 33;
    await na;
  }
  static int G(int a, int b) { int r = 1; do { r *= a; b--; } while (b > 0); return r; }
}
`
	src = strings.Replace(src, "int x = int.MaxValue;", "int x = 2147483647;", 1)
	p, err := Parse("t.cs", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Params) != 2 || p.Params[1].Name != "K" || p.Params[1].Value != -7 {
		t.Fatalf("params %+v", p.Params)
	}
	r, err := interp.Run(p.Class, []int32{3, 0}, 0)
	if err != nil {
		t.Fatal(err)
	}
	x := int32(2147483647)
	x += 3 // wraps
	g := int32(3 * 3 * 3 * 3 * 3)
	if want := x/-7 + g%4; r.Statics["static.s"] != want || r.Statics["static.t"] != 10 || r.Awaits != 1 {
		t.Errorf("statics %v awaits %d, want s=%d t=10", r.Statics, r.Awaits, want)
	}
	if len(p.Class.Methods) != 2 || p.Class.Methods[1].Name != "G" || p.Class.Methods[1].Async {
		t.Errorf("methods %v", p.Class.Methods)
	}
	var _ jit.Stmt = jit.Return{}
}
