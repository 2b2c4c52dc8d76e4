package runner

import (
	"fmt"
	"reflect"
	"slices"
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

// The helper's and the runtime's steps split their regions exactly, every
// region adds up to the total, and the breakdown lists each region's
// steps as its generator declares them, in both runtime models on both
// platforms; the helper strategy runs every step of its platform.
func TestStepsSplitTheirRegion(t *testing.T) {
	base := workload.DefaultParams(workload.AwaitLoop)
	base.Awaits = 20
	for _, p := range inModels(base) {
		model := fmt.Sprintf("%s/%s", p.Patchpoint.Platform, p.Runtime.Model)
		for _, s := range patchpoint.Strategies {
			b := build(t, p, s)
			r, err := unicorn.Run(b.Image, unicorn.Options{})
			if err != nil {
				t.Fatal(err)
			}
			in := FromCounts(b, r).Instructions
			bySteps := map[region.Region]uint64{}
			for _, st := range b.Image.Steps {
				bySteps[st.Region] += in.ByStep[st.Name]
			}
			var regions uint64
			for _, n := range in.ByRegion {
				regions += n
			}
			for _, rg := range []region.Region{region.Helper, region.Runtime} {
				if bySteps[rg] != in.ByRegion[string(rg)] {
					t.Errorf("%s/%s: %s steps add up to %d, the region to %d", model, s, rg, bySteps[rg], in.ByRegion[string(rg)])
				}
			}
			if regions != in.Total {
				t.Errorf("%s/%s: regions add up to %d, total %d", model, s, regions, in.Total)
			}
			if _, ok := in.ByRegion[RegionOther]; ok {
				t.Errorf("%s/%s: %d instructions outside every region", model, s, in.ByRegion[RegionOther])
			}
			listed := map[string][]string{}
			for _, p := range Breakdown(b.Image) {
				for _, st := range p.Steps {
					listed[p.Name] = append(listed[p.Name], st.Name)
				}
			}
			var want []string
			for _, st := range patchpoint.Steps(p.Patchpoint.Platform) {
				want = append(want, st.Name)
			}
			if !reflect.DeepEqual(listed[string(region.Helper)], want) {
				t.Errorf("%s/%s: breakdown lists helper steps %v, want %v", model, s, listed["helper"], want)
			}
			for _, st := range want {
				if s == patchpoint.Helper && in.ByStep[st] == 0 {
					t.Errorf("%s/%s: helper step %s ran no instruction", model, s, st)
				}
			}
			if got := listed[string(region.Runtime)]; len(got) == 0 || (p.Runtime.Model == continuation.CoreCLR) != slices.Contains(got, continuation.StepWriteBarrier) {
				t.Errorf("%s/%s: breakdown lists runtime steps %v", model, s, got)
			}
		}
	}
}

// The runtime's steps reach every report format through the runner and
// the report package unchanged: the allocation step counts the
// allocation functions, and the Markdown, CSV and JSON reports show it.
func TestRuntimeStepReachesReports(t *testing.T) {
	p := workload.DefaultParams(workload.AwaitLoop)
	p.Awaits = 20
	b := build(t, p, patchpoint.Direct)
	res, _, err := Emulate(b, unicorn.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := res.Instructions.ByStep[continuation.StepAlloc]
	fns := res.Instructions.BySymbol[continuation.SymAlloc] + res.Instructions.BySymbol[continuation.SymAllocContinuation]
	if n == 0 || n != fns {
		t.Fatalf("alloc step %d, its functions %d", n, fns)
	}
	rep := &report.Report{Results: []report.Result{*res}, Breakdown: Breakdown(b.Image)}
	md := report.Markdown(rep)
	if !strings.Contains(md, "Steps of the async runtime, instructions per resume:\n\n| Strategy | driver | awaiter | dispatch |") ||
		!strings.Contains(md, "`alloc` continuation allocation (the thread's allocation context)") {
		t.Errorf("Markdown lacks the runtime steps:\n%s", md)
	}
	csv, err := report.CSV(rep)
	if err != nil || !strings.Contains(strings.SplitN(string(csv), "\n", 2)[0], "by_step.write_barrier") {
		t.Errorf("CSV lacks by_step.write_barrier (%v)", err)
	}
	js, err := report.JSON(rep)
	if err != nil || !strings.Contains(string(js), `"write_barrier": `) || !strings.Contains(string(js), `"name": "interface_dispatch"`) {
		t.Errorf("report.json lacks the runtime steps (%v)", err)
	}
	files, err := report.Plots(rep)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	for _, want := range []string{"steps-runtime-await-loop.png", "steps-runtime-await-loop.svg"} {
		if !slices.Contains(names, want) {
			t.Errorf("plots %v lack %s", names, want)
		}
	}
}
