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
func build(t *testing.T, heap uint64) *sim.Image { return buildEH(t, heap, false) }

// buildEH is build, with .eh_frame records of every function if eh is set.
func buildEH(t *testing.T, heap uint64, eh bool) *sim.Image {
	p := NewProgram()
	code, data := p.Section(Code), p.Section(Data)
	if eh {
		p.EHFrame(code, func(region.Region) bool { return true })
	}
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
	for _, eh := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "eh_frame"}[eh], func(t *testing.T) { testEntryAndImage(t, eh) })
	}
}

// testEntryAndImage runs the image in both engines; the .eh_frame records,
// when there are any, are two read-only regions outside the compared state.
func testEntryAndImage(t *testing.T, eh bool) {
	im := buildEH(t, 0, eh)
	if im.Region(sim.RegionHeap) != nil || im.Region(sim.RegionStack) == nil || im.Region(sim.RegionHost).Compared {
		t.Fatalf("regions %+v", im.Regions)
	}
	for _, c := range []struct {
		name string
		base uint64
	}{{sim.RegionEHFrameHdr, sim.EHFrameHdrBase}, {sim.RegionEHFrame, sim.EHFrameBase}} {
		r := im.Region(c.name)
		if (r != nil) != eh || (r != nil && (r.Base != c.base || r.Perm != sim.PermR || r.Compared || len(r.Init) == 0)) {
			t.Fatalf("region %s: %+v", c.name, r)
		}
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
