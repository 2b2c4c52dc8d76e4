package runner

import (
	"reflect"
	"strings"
	"testing"

	"github.com/osrsim/osrsim/continuation"
	"github.com/osrsim/osrsim/patchpoint"
	"github.com/osrsim/osrsim/region"
	"github.com/osrsim/osrsim/report"
	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/unicorn"
	"github.com/osrsim/osrsim/workload"
)

// An instruction counts for the innermost symbol that names a key:
// sub-ranges without one count for their function, nested keyed ranges
// are taken out of the range around them.
func TestAttribute(t *testing.T) {
	m := func(r region.Region, step string) region.Meta { return region.Meta{Region: r, Step: step} }
	syms := []sim.Symbol{
		{Name: "f", Start: 0, End: 100, Meta: m(region.Helper, "worker")},
		{Name: "f.a", Start: 10, End: 40, Meta: m(region.Helper, "a")},
		{Name: "f.a.b", Start: 20, End: 30, Meta: m(region.Helper, "b")},
		{Name: "f.plain", Start: 50, End: 60, Meta: m(region.Helper, "")},
		{Name: "g", Start: 100, End: 120, Meta: m(region.Runtime, "")},
		{Name: "g.whole", Start: 100, End: 120, Meta: m(region.Runtime, "c")}, // same extent: the range is inside
		{Name: "h", Start: 120, End: 130, Meta: m(region.None, "")},
	}
	incl := map[string]uint64{"f": 1000, "f.a": 300, "f.a.b": 100, "f.plain": 50, "g": 70, "g.whole": 70, "h": 5}
	steps := attribute(syms, incl, func(m region.Meta) string { return m.Step })
	if want := map[string]uint64{"worker": 700, "a": 200, "b": 100, "c": 70}; !reflect.DeepEqual(steps, want) {
		t.Errorf("by step %v, want %v", steps, want)
	}
	regions := attribute(syms, incl, func(m region.Meta) string { return string(m.Region) })
	if want := map[string]uint64{"helper": 1000, "runtime": 70}; !reflect.DeepEqual(regions, want) {
		t.Errorf("by region %v, want %v", regions, want)
	}
}

// The helper's steps split exactly its region, every region adds up to
// the total, and the breakdown lists the helper's steps as it declares
// them.
func TestStepsSplitTheirRegion(t *testing.T) {
	p := workload.DefaultParams(workload.AwaitLoop)
	p.Awaits = 20
	for _, s := range patchpoint.Strategies {
		b := build(t, p, s)
		r, err := unicorn.Run(b.Image, unicorn.Options{})
		if err != nil {
			t.Fatal(err)
		}
		in := FromCounts(b, r).Instructions
		var steps, regions uint64
		for _, n := range in.ByStep {
			steps += n
		}
		for _, n := range in.ByRegion {
			regions += n
		}
		if steps != in.ByRegion[string(region.Helper)] || regions != in.Total {
			t.Errorf("%s: steps add up to %d, helper %d; regions to %d, total %d", s, steps, in.ByRegion["helper"], regions, in.Total)
		}
		if _, ok := in.ByRegion[RegionOther]; ok {
			t.Errorf("%s: %d instructions outside every region", s, in.ByRegion[RegionOther])
		}
		bd := Breakdown(b.Image)
		var helperSteps []string
		for _, p := range bd {
			if p.Name == string(region.Helper) {
				for _, st := range p.Steps {
					helperSteps = append(helperSteps, st.Name)
				}
			}
		}
		var want []string
		for _, st := range patchpoint.Steps {
			want = append(want, st.Name)
		}
		if !reflect.DeepEqual(helperSteps, want) {
			t.Errorf("%s: breakdown lists helper steps %v, want %v", s, helperSteps, want)
		}
	}
}

// A runtime step declared by whoever generates the code reaches every
// report format through the runner and the report package unchanged.
func TestRuntimeStepReachesReports(t *testing.T) {
	p := workload.DefaultParams(workload.AwaitLoop)
	p.Awaits = 20
	b := build(t, p, patchpoint.Direct)
	alloc := region.Step{Region: region.Runtime, Name: "alloc", Doc: "continuation allocation"}
	b.Image.Steps = append(b.Image.Steps, alloc)
	for i := range b.Image.Symbols {
		if b.Image.Symbols[i].Name == continuation.SymAlloc {
			b.Image.Symbols[i].Step = alloc.Name
		}
	}
	if err := b.Image.Validate(); err != nil {
		t.Fatal(err)
	}
	res, _, err := Emulate(b, unicorn.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := res.Instructions.ByStep["alloc"]
	if n == 0 || n != res.Instructions.BySymbol[continuation.SymAlloc] {
		t.Fatalf("alloc step %d, runtime.alloc %d", n, res.Instructions.BySymbol[continuation.SymAlloc])
	}
	rep := &report.Report{Results: []report.Result{*res}, Breakdown: Breakdown(b.Image)}
	md := report.Markdown(rep)
	if !strings.Contains(md, "Steps of the async runtime, instructions per resume:\n\n| Strategy | alloc |") ||
		!strings.Contains(md, "**runtime steps**: instructions per resumption in each step of the async runtime: `alloc` continuation allocation.") {
		t.Errorf("Markdown lacks the runtime step:\n%s", md)
	}
	csv, err := report.CSV(rep)
	if err != nil || !strings.Contains(strings.SplitN(string(csv), "\n", 2)[0], "by_step.alloc") {
		t.Errorf("CSV lacks by_step.alloc (%v)", err)
	}
}
