package link

import (
	"errors"
	"testing"

	. "github.com/osrsim/osrsim/emitter"
	"github.com/osrsim/osrsim/region"
	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/native"
	"github.com/osrsim/osrsim/sim/unicorn"
)

var sumStep = region.Step{Region: region.Runtime, Name: "sum", Doc: "adds what the entry stub left"}

// main returns arg + RBX + XMM0's low word: the entry stub must pass the
// argument and clear everything else, whatever the host left there.
func build(t *testing.T, heap uint64) *sim.Image {
	p := NewProgram()
	code, data := p.Section(Code), p.Section(Data)
	Entry(code, "entry", "main", sim.StackBase+0x10000)
	code.DeclareSteps(sumStep)
	code.Func("main")
	code.SetMeta(region.Meta{Region: region.Runtime, Step: sumStep.Name})
	code.EndProlog()
	code.Lea(RAX, M(RDI, 1))
	code.Add(S64, RAX, RBX)
	code.Movdqu(M(RSP, -16), X0)
	code.Add(S64, RAX, M(RSP, -16))
	code.Ret()
	code.EndFunc()
	EmitZero(data)
	obj, err := p.Finish()
	if err != nil {
		t.Fatal(err)
	}
	im, _, err := Image(obj, Layout{Entry: "entry", HeapSize: heap, StackSize: 0x10000})
	if err != nil {
		t.Fatal(err)
	}
	return im
}

func TestEntryAndImage(t *testing.T) {
	im := build(t, 0)
	if im.Region(sim.RegionHeap) != nil || im.Region(sim.RegionStack) == nil || im.Region(sim.RegionHost).Compared {
		t.Fatalf("regions %+v", im.Regions)
	}
	if build(t, 0x2000).Region(sim.RegionHeap) == nil {
		t.Fatal("no heap region")
	}
	im.Arg = 41
	r, err := unicorn.Run(im, unicorn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.State.Ret != 42 {
		t.Fatalf("emulated: returned %d, want 42", r.State.Ret)
	}
	// Natively the host leaves its own values in RBX and XMM0: only the
	// stub's clearing makes the result 42 there too.
	l, err := native.Load(im)
	if errors.Is(err, native.ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	nr, err := l.Run(native.Options{Samples: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.State.Diff(nr.State); err != nil {
		t.Fatalf("native differs from emulated: %v", err)
	}
	if _, ok := im.Symbol("main"); !ok || len(im.InstStarts) == 0 {
		t.Fatal("symbols or instruction starts missing")
	}
	// Symbols keep what their generator said about them.
	if s, _ := im.Symbol("main"); s.Meta != (region.Meta{Region: region.Runtime, Step: "sum"}) {
		t.Errorf("main: meta %+v", s.Meta)
	}
	if s, _ := im.Symbol("entry"); s.Meta != (region.Meta{Region: region.Host}) {
		t.Errorf("entry: meta %+v", s.Meta)
	}
	if len(im.Steps) != 1 || im.Steps[0] != sumStep {
		t.Errorf("steps %+v", im.Steps)
	}
	if _, _, err := Image(&Object{}, Layout{Entry: "nope"}); err == nil {
		t.Fatal("missing entry accepted")
	}
}
