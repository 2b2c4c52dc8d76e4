package interp

import (
	"errors"
	"testing"

	"github.com/osrsim/osrsim/jit"
)

func class(body ...jit.Stmt) *jit.Class {
	m := &jit.Method{Name: "F", Async: true, Params: []jit.Local{"n", "na"}, Ptrs: []jit.Local{"na"},
		Locals: []jit.Local{"i", "x"}, Body: body}
	return &jit.Class{Methods: []*jit.Method{m}, Fields: []jit.Field{{Sym: "s"}, {Sym: "k", Init: 3, Const: true}}}
}

var (
	i, x, n = jit.Local("i"), jit.Local("x"), jit.Local("n")
	s       = jit.Static("s")
)

// Loop heads count like tier0's patchpoints: a top-tested loop's head runs
// once more than its body, a do loop's once per iteration; break, continue
// and return leave as C# does.
func TestLoopsAndControl(t *testing.T) {
	c := class(
		jit.Assign{Dst: i, Src: jit.Const(0)},
		jit.Loop{IL: 1, Cond: jit.Binary{Op: jit.OpLt, L: i, R: n}, Body: []jit.Stmt{
			jit.If{Cond: jit.Binary{Op: jit.OpEq, L: jit.Binary{Op: jit.OpRem, L: i, R: jit.Static("k")}, R: jit.Const(0)}, Then: []jit.Stmt{jit.Continue{}}},
			jit.Assign{Dst: s, Op: jit.OpAdd, Src: i},
			jit.Await{Awaiter: "na"},
		}, Post: []jit.Stmt{jit.Assign{Dst: i, Op: jit.OpAdd, Src: jit.Const(1)}}},
		jit.Stopwatch{},
		jit.Loop{IL: 2, BottomTest: true, Cond: jit.Const(1), Body: []jit.Stmt{
			jit.Assign{Dst: x, Op: jit.OpAdd, Src: jit.Const(1)},
			jit.Await{Awaiter: "na"},
			jit.If{Cond: jit.Binary{Op: jit.OpEq, L: x, R: jit.Const(4)}, Then: []jit.Stmt{jit.Break{}}},
		}},
		jit.Stopwatch{Stop: true},
		jit.Return{},
		jit.Assign{Dst: s, Src: jit.Const(-1)}, // not reached
	)
	r, err := Run(c, []int32{10, 0}, 0)
	if err != nil {
		t.Fatal(err)
	}
	// i = 1,2,4,5,7,8 add to s and await.
	if r.Statics["s"] != 27 || r.Awaits != 6+4 || r.Window.Awaits != 4 || !r.Window.Stopped {
		t.Errorf("result %+v", r)
	}
	if r.Heads[Head{"F", 1}] != 11 || r.Heads[Head{"F", 2}] != 4 {
		t.Errorf("heads %v, want 11 and 4", r.Heads)
	}
}

// Division follows C#: truncation, and errors at the operator's position.
func TestDivision(t *testing.T) {
	pos := jit.Pos{Line: 7, Col: 3}
	for _, tc := range []struct {
		l, r int32
		op   jit.Op
		want int32
		err  ErrKind
	}{
		{-7, 2, jit.OpDiv, -3, 0}, {-7, 2, jit.OpRem, -1, 0}, {7, -2, jit.OpRem, 1, 0},
		{1, 0, jit.OpDiv, 0, DivideByZero}, {1, 0, jit.OpRem, 0, DivideByZero},
		{-1 << 31, -1, jit.OpDiv, 0, Overflow}, {-1 << 31, -1, jit.OpRem, 0, Overflow},
	} {
		c := class(jit.Assign{Dst: x, Src: jit.Const(tc.r)},
			jit.Assign{Dst: s, Src: jit.Binary{Op: tc.op, L: jit.Const(tc.l), R: x, Pos: pos}})
		r, err := Run(c, []int32{0, 0}, 0)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case tc.err != 0 && (r.Err == nil || r.Err.Kind != tc.err || r.Err.Pos != pos || r.Err.Method != "F"):
			t.Errorf("%d %v %d: error %v, want %v", tc.l, tc.op, tc.r, r.Err, tc.err)
		case tc.err == 0 && (r.Err != nil || r.Statics["s"] != tc.want):
			t.Errorf("%d %v %d = %d (%v), want %d", tc.l, tc.op, tc.r, r.Statics["s"], r.Err, tc.want)
		}
	}
}

func TestBudget(t *testing.T) {
	c := class(jit.Loop{IL: 1, Body: []jit.Stmt{jit.Assign{Dst: s, Op: jit.OpAdd, Src: jit.Const(1)}}})
	if _, err := Run(c, []int32{0, 0}, 1000); !errors.Is(err, ErrBudget) {
		t.Fatalf("endless loop: %v", err)
	}
}
