package report

import (
	"reflect"
	"strings"
	"testing"

	"github.com/osrsim/osrsim/sim"
)

// breakdownReport has runtime steps beside the helper's, a helper step no
// renderer has heard of, and a region ("jit") that is not one of today's:
// every format must show them from the breakdown alone.
func breakdownReport() *Report {
	ins := func(helper, runtime uint64, steps map[string]uint64) *Instructions {
		return &Instructions{Total: 10 * (helper + runtime + 7), PerResume: float64(helper + runtime + 7),
			ByRegion: map[string]uint64{"helper": 10 * helper, "runtime": 10 * runtime, "jit": 70}, ByStep: steps}
	}
	return &Report{
		Experiment: "steps",
		Breakdown: []Part{
			{Name: "jit", Doc: "the JIT"},
			{Name: "runtime", Doc: "the async runtime", Steps: []Part{{Name: "dispatch", Doc: "dispatcher loop"}, {Name: "alloc", Doc: "continuation allocation"}}},
			{Name: "helper", Doc: "the patchpoint helper", Steps: []Part{{Name: "xstate", Doc: "XSTATE capture"}, {Name: "stub", Doc: "stub frame"}}},
		},
		Results: []Result{
			{Workload: "w", Strategy: "helper", Engine: sim.Emu, Ops: 10,
				Instructions: ins(5, 3, map[string]uint64{"stub": 20, "xstate": 30, "alloc": 10, "dispatch": 20})},
			{Workload: "w", Strategy: "direct", Engine: sim.Emu, Ops: 10,
				Instructions: ins(0, 3, map[string]uint64{"alloc": 10, "dispatch": 20})},
		},
	}
}

func TestBreakdownIsData(t *testing.T) {
	r := breakdownReport()
	md := Markdown(r)
	for _, want := range []string{
		"| Strategy | jit | runtime | helper | total |\n",
		"| helper | 7.00 | 3.00 | 5.00 | 15.00 |\n",
		"Steps of the async runtime, instructions per resume:\n\n| Strategy | dispatch | alloc |\n",
		"| direct | 2.00 | 1.00 |\n",
		"Steps of the patchpoint helper, instructions per resume:\n\n| Strategy | xstate | stub |\n",
		"| helper | 3.00 | 2.00 |\n| direct | 0.00 | 0.00 |\n",
		"- **by region**: instructions per resumption in the JIT, the async runtime and the patchpoint helper; they add up to the total.",
		"- **runtime steps**: instructions per resumption in each step of the async runtime: `dispatch` dispatcher loop; `alloc` continuation allocation.",
		"- **helper steps**: instructions per resumption in each step of the patchpoint helper: `xstate` XSTATE capture; `stub` stub frame.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Index(md, "**runtime steps**") > strings.Index(md, "**helper steps**") {
		t.Error("legend does not follow the breakdown's order")
	}

	var cols []string
	for _, h := range csvRecords(t, r)[0] {
		if strings.HasPrefix(h, "by_") {
			cols = append(cols, h)
		}
	}
	want := []string{"by_region.jit", "by_region.runtime", "by_region.helper", "by_step.dispatch", "by_step.alloc", "by_step.xstate", "by_step.stub"}
	if !reflect.DeepEqual(cols, want) {
		t.Errorf("CSV breakdown columns %v, want %v", cols, want)
	}

	files, err := Plots(r)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		if strings.HasSuffix(f.Name, ".svg") {
			names = append(names, f.Name)
		}
	}
	if want := []string{"per-resume-w.svg", "steps-runtime-w.svg", "steps-helper-w.svg"}; !reflect.DeepEqual(names, want) {
		t.Errorf("plots %v, want %v", names, want)
	}

	js, err := JSON(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `"breakdown": [`) || !strings.Contains(string(js), `"name": "xstate",`) {
		t.Errorf("report.json lacks the breakdown:\n%s", js)
	}
}

// Reports without a breakdown (written before it existed) list every key,
// sorted, and steps in one table.
func TestBreakdownMissing(t *testing.T) {
	r := breakdownReport()
	r.Breakdown = nil
	md := Markdown(r)
	for _, want := range []string{
		"| Strategy | helper | jit | runtime | total |\n",
		"Steps, instructions per resume:\n\n| Strategy | alloc | dispatch | stub | xstate |\n",
		"- **by region**: instructions per resumption in `helper`, `jit` and `runtime`; they add up to the total.",
		"- **steps**: instructions per resumption in each step: `alloc`, `dispatch`, `stub`, `xstate`.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestMergeBreakdown(t *testing.T) {
	a := []Part{{Name: "tier0"}, {Name: "helper", Steps: []Part{{Name: "stub"}, {Name: "capture"}}}}
	b := []Part{{Name: "helper", Steps: []Part{{Name: "stub"}, {Name: "xstate"}}}, {Name: "runtime", Steps: []Part{{Name: "alloc"}}}}
	got := MergeBreakdown(a, b)
	// xstate goes right after stub, which precedes it in b; runtime after
	// helper.
	want := []Part{{Name: "tier0"}, {Name: "helper", Steps: []Part{{Name: "stub"}, {Name: "xstate"}, {Name: "capture"}}},
		{Name: "runtime", Steps: []Part{{Name: "alloc"}}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("MergeBreakdown = %+v, want %+v", got, want)
	}
	if len(a[1].Steps) != 2 {
		t.Error("MergeBreakdown changed its argument")
	}
}
