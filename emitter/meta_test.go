package emitter_test

import (
	"reflect"
	"strings"
	"testing"

	. "github.com/osrsim/osrsim/emitter"
	"github.com/osrsim/osrsim/region"
)

// What a generator says about its symbols reaches the object: functions
// keep their region and step, ranges take their function's region, and
// the declared steps keep their order (declaring one again is harmless).
func TestSymbolMeta(t *testing.T) {
	steps := []region.Step{
		{Region: region.Helper, Name: "work", Doc: "the work"},
		{Region: region.Helper, Name: "inner", Doc: "the inner part"},
	}
	p := NewProgram()
	b := p.Section("code")
	b.DeclareSteps(steps...)
	b.Func("f")
	b.SetMeta(region.Meta{Region: region.Helper, Step: "work"})
	b.Nop(1)
	b.BeginRange("f.inner")
	b.SetMeta(region.Meta{Step: "inner"})
	b.Nop(1)
	b.EndRange()
	b.BeginRange("f.plain")
	b.Nop(1)
	b.EndRange()
	b.Ret()
	b.EndFunc()
	b.DeclareSteps(steps[0])
	b.Func("g")
	b.Ret()
	b.EndFunc()
	obj, err := p.Finish()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]region.Meta{}
	for _, s := range obj.Section("code").Symbols {
		got[s.Name] = s.Meta
	}
	want := map[string]region.Meta{
		"f":       {Region: region.Helper, Step: "work"},
		"f.inner": {Region: region.Helper, Step: "inner"},
		"f.plain": {Region: region.Helper},
		"g":       {},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("symbol meta %v, want %v", got, want)
	}
	if !reflect.DeepEqual([]region.Step(obj.Steps), steps) {
		t.Errorf("steps %v, want %v", obj.Steps, steps)
	}
	l, err := obj.Link(map[string]uint64{"code": 0x1000})
	if err != nil {
		t.Fatal(err)
	}
	listing := l.Listing(obj, "code", nil)
	for _, want := range []string{"; ==== func f [0x1000, 0x1004) 4 bytes (region helper, step work)", "; ---- f.inner [0x1001, 0x1002) (step inner)\n",
		"; ---- f.plain [0x1002, 0x1003)\n", "; ==== func g [0x1004, 0x1005) 1 bytes, prolog 0\n"} {
		if !strings.Contains(listing, want) {
			t.Errorf("listing lacks %q:\n%s", want, listing)
		}
	}
}
