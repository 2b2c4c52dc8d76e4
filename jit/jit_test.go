package jit

import (
	"reflect"
	"strings"
	"testing"
)

func awaitLoop(live int) *Method {
	m := &Method{Name: "Foo", Async: true, Params: []Local{"n", "awaits", "na"}, Locals: []Local{"i", "j", "x"}, Ptrs: []Local{"na"},
		Body: []Stmt{
			Set{"i", Const(0)},
			Loop{IL: 0x14, Var: "i", Limit: "n", Body: []Stmt{AddStatic{"s", Local("i")}}},
			Set{"x", Const(7)},
			Set{"j", Const(0)},
			Loop{IL: 0x40, Var: "j", Limit: "awaits", Body: []Stmt{Await{"na"}, Add{"x", Local("j")}}},
			AddStatic{"s", Local("x")},
		}}
	return m
}

func TestLiveAcrossAwaits(t *testing.T) {
	got := awaitLoop(0).LiveAcrossAwaits()
	want := []Local{"awaits", "na", "j", "x"} // n and i die with loop 1
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("live %v, want %v", got, want)
	}
	sync := &Method{Name: "Bar", Params: []Local{"n"}, Locals: []Local{"i"},
		Body: []Stmt{Loop{IL: 0x14, Var: "i", Limit: "n"}}}
	if l := sync.LiveAcrossAwaits(); l != nil {
		t.Fatalf("method without awaits has live %v", l)
	}
}

func TestLayout(t *testing.T) {
	for _, extra := range []int{0, 8, 100, 4096} {
		m := awaitLoop(0)
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

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		mut  func(*Method)
		want string
	}{
		{func(m *Method) { m.Params = append(m.Params, "p4") }, "parameters"},
		{func(m *Method) { m.Locals = append(m.Locals, "i") }, "declared twice"},
		{func(m *Method) { m.Body = append(m.Body, Set{"y", Const(1)}) }, "unknown local y"},
		{func(m *Method) { m.Async = false }, "await in a non-async"},
		{func(m *Method) { m.Body = append(m.Body, Loop{IL: 0x14, Var: "i", Limit: "n"}) }, "two loops"},
	} {
		m := awaitLoop(0)
		c.mut(m)
		if err := m.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want error %q, got %v", c.want, err)
		}
	}
	if err := awaitLoop(0).Validate(); err != nil {
		t.Fatal(err)
	}
}
