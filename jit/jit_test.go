package jit

import (
	"reflect"
	"strings"
	"testing"
)

func awaitLoop() *Method {
	return &Method{Name: "Foo", Async: true, Params: []Local{"n", "awaits", "na"}, Locals: []Local{"i", "j", "x"}, Ptrs: []Local{"na"},
		Body: []Stmt{
			Assign{Dst: Local("i"), Src: Const(0)},
			CountedLoop(0x14, "i", Local("n"), Assign{Dst: Static("s"), Op: OpAdd, Src: Local("i")}),
			Assign{Dst: Local("x"), Src: Const(7)},
			Assign{Dst: Local("j"), Src: Const(0)},
			CountedLoop(0x40, "j", Local("awaits"), Await{"na"}, Assign{Dst: Local("x"), Op: OpAdd, Src: Local("j")}),
			Assign{Dst: Static("s"), Op: OpAdd, Src: Local("x")},
		}}
}

func TestLiveAcrossAwaits(t *testing.T) {
	got := awaitLoop().Live().AcrossAwait
	want := [][]Local{{"awaits", "na", "j", "x"}} // n and i die with loop 1
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("live %v, want %v", got, want)
	}
	sync := &Method{Name: "Bar", Params: []Local{"n"}, Locals: []Local{"i"},
		Body: []Stmt{CountedLoop(0x14, "i", Local("n"))}}
	if l := sync.Live().AcrossAwait; len(l) != 0 {
		t.Fatalf("method without awaits has live %v", l)
	}
}

// Each await carries its own live set: a variable dead after the first
// await (redefined before its next use) is not in its continuation, one
// used only on the else path after the second is.
func TestLivenessPerAwait(t *testing.T) {
	m := &Method{Name: "F", Async: true, Params: []Local{"na"}, Ptrs: []Local{"na"}, Locals: []Local{"a", "b", "c", "k"},
		Body: []Stmt{
			Assign{Dst: Local("a"), Src: Const(1)},
			Assign{Dst: Local("b"), Src: Const(2)},
			Await{"na"}, // a, b live
			Assign{Dst: Local("c"), Src: Binary{Op: OpAdd, L: Local("a"), R: Local("b")}},
			Assign{Dst: Local("a"), Src: Const(0)},
			Await{"na"}, // a, c live, b dead; na is awaited again in the loop
			If{Cond: Binary{Op: OpLt, L: Local("c"), R: Const(3)},
				Then: []Stmt{Assign{Dst: Static("s"), Src: Local("c")}},
				Else: []Stmt{Assign{Dst: Static("s"), Src: Local("a")}}},
			Assign{Dst: Local("k"), Src: Const(0)},
			Loop{IL: 0x30, Cond: Binary{Op: OpLt, L: Local("k"), R: Const(3)}, Body: []Stmt{
				If{Cond: Binary{Op: OpEq, L: Local("k"), R: Const(1)}, Then: []Stmt{Continue{}}},
				Await{"na"}, // na, k live (loop-carried)
			}, Post: []Stmt{Assign{Dst: Local("k"), Op: OpAdd, Src: Const(1)}}},
		}}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	got := m.Live().AcrossAwait
	want := [][]Local{{"na", "a", "b"}, {"na", "a", "c"}, {"na", "k"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("live %v, want %v", got, want)
	}
	if n := (Options{}).ContinuationSlots(m); n != 3 {
		t.Errorf("slots %d, want 3", n)
	}
	if n := (Options{ResumeDispatch: DispatchCompareChain}).ContinuationSlots(m); n != 5 {
		t.Errorf("compare-chain slots %d, want 5 (the union)", n)
	}
}

func TestLayout(t *testing.T) {
	for _, extra := range []int{0, 8, 100, 4096} {
		m := awaitLoop()
		m.ExtraFrame = extra
		f := Layout(m)
		if f.Alloc%16 != 0 { // RSP is 16-aligned after the return address and push rbp
			t.Errorf("extra %d: alloc %#x leaves RSP misaligned at calls", extra, f.Alloc)
		}
		if f.Slots["n"] != 0x18 || f.Slots["awaits"] != 0x20 || f.Slots["na"] != 0x28 {
			t.Errorf("arguments not homed after the continuation: %v", f.Slots)
		}
		lowest := int32(0)
		for _, off := range f.Slots {
			lowest = min(lowest, off)
		}
		if -f.SPToFP()+homeArea > f.ZeroStart || f.ZeroStart > lowest {
			t.Errorf("extra %d: locals [%d..] overlap the outgoing home area (SP at %d)", extra, f.ZeroStart, -f.SPToFP())
		}
		if f.ZeroBytes < int32(8*len(m.Locals)+extra) {
			t.Errorf("extra %d: zeroed %d bytes", extra, f.ZeroBytes)
		}
		if f.Info().TotalFrameSize != f.SPToFP()+8 {
			t.Error("PatchpointInfo frame size")
		}
	}
}

// Expression temps get their own zero-initialised slots below the locals.
func TestLayoutTemps(t *testing.T) {
	call := Call{Method: "G", Args: []Expr{Binary{Op: OpAdd, L: Local("a"), R: Const(1)}, Local("a")}}
	m := &Method{Name: "F", Params: []Local{"a"}, Result: true, Body: []Stmt{
		Return{Value: Binary{Op: OpSub, L: Local("a"), R: call}},
	}}
	if n := TempsNeeded(m.Body[0].(Return).Value); n != 3 {
		t.Fatalf("temps %d, want 3 (the left operand, then two arguments)", n)
	}
	f := Layout(m)
	if len(f.Temps) != 3 {
		t.Fatalf("frame has %d temps", len(f.Temps))
	}
	for _, off := range f.Temps {
		if off < f.ZeroStart || off >= f.ZeroStart+f.ZeroBytes {
			t.Errorf("temp at %d outside the zeroed area", off)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		mut  func(*Method)
		want string
	}{
		{func(m *Method) { m.Params = append(m.Params, "p4") }, "parameters"},
		{func(m *Method) { m.Locals = append(m.Locals, "i") }, "declared twice"},
		{func(m *Method) { m.Body = append(m.Body, Assign{Dst: Local("y"), Src: Const(1)}) }, "unknown local y"},
		{func(m *Method) { m.Async = false }, "await in a non-async"},
		{func(m *Method) { m.Body = append(m.Body, CountedLoop(0x14, "i", Local("n"))) }, "two loops"},
		{func(m *Method) { m.Body = append(m.Body, Break{}) }, "outside a loop"},
		{func(m *Method) { m.Body = append(m.Body, Return{Value: Const(1)}) }, "return value"},
		{func(m *Method) { m.Body = append(m.Body, Await{"n"}) }, "not an object reference"},
	} {
		m := awaitLoop()
		c.mut(m)
		if err := m.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want error %q, got %v", c.want, err)
		}
	}
	if err := awaitLoop().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestClassValidate(t *testing.T) {
	g := &Method{Name: "G", Params: []Local{"x"}, Result: true, Body: []Stmt{Return{Value: Call{Method: "H", Args: []Expr{Local("x")}}}}}
	h := &Method{Name: "H", Params: []Local{"x"}, Result: true, Body: []Stmt{Return{Value: Call{Method: "G", Args: []Expr{Local("x")}}}}}
	f := &Method{Name: "F", Async: true, Body: []Stmt{Eval{Call{Method: "G", Args: []Expr{Const(1)}}}}}
	for _, c := range []struct {
		cls  *Class
		want string
	}{
		{&Class{Methods: []*Method{f, g, h}}, "recursive"},
		{&Class{Methods: []*Method{f}}, "unknown method G"},
		{&Class{Methods: []*Method{{Name: "F", Body: []Stmt{Assign{Dst: Static("k"), Src: Const(1)}}}}, Fields: []Field{{Sym: "k", Const: true}}}, "constant"},
		{&Class{Methods: []*Method{{Name: "F", Body: []Stmt{Assign{Dst: Static("q"), Src: Const(1)}}}}}, "unknown static"},
	} {
		if err := c.cls.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want %q, got %v", c.want, err)
		}
	}
}

func TestLoopPath(t *testing.T) {
	inner := Loop{IL: 0x20, Cond: Const(0)}
	m := &Method{Name: "F", Body: []Stmt{
		Assign{Dst: Static("s"), Src: Const(1)},
		If{Cond: Const(1), Else: []Stmt{Loop{IL: 0x10, Body: []Stmt{Break{}, inner}}}},
	}}
	path, top := m.LoopPath(0x20)
	if top != 1 || len(path) != 3 || path[2].(Loop).IL != 0x20 {
		t.Fatalf("path %v top %d", path, top)
	}
	if p, _ := m.LoopPath(0x99); p != nil {
		t.Fatal("found a loop that is not there")
	}
}
