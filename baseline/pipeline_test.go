package baseline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/osrsim/osrsim/cycles"
	"github.com/osrsim/osrsim/experiments"
	"github.com/osrsim/osrsim/jit"
	"github.com/osrsim/osrsim/report"
	"github.com/osrsim/osrsim/runner"
	"github.com/osrsim/osrsim/sim"
)

// run runs e on the emulator only, as `osrsim check` does. variant
// selects the tier0 patchpoint sequence in every workload (both scales, so
// that the code stays the same).
func run(t *testing.T, e *experiments.Experiment, variant jit.Tier0Variant) *report.Report {
	t.Helper()
	e.Engines = []sim.Engine{sim.Emu}
	for i := range e.Workloads {
		e.Workloads[i].Emu.Tier0Variant = variant
		e.Workloads[i].Native.Tier0Variant = variant
	}
	// The experiment's cycle model, as osrsim check uses it.
	dir := ""
	if e.File != experiments.SeedFile {
		dir = filepath.Dir(e.File)
	}
	m, err := cycles.Lookup(e.CycleModel, dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := runner.Run(e, runner.Options{Version: "test", Cycles: m})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The done-when test of issue #6: one instruction changed in the tier0
// patchpoint sequence fails the check with an exact delta table.
//
// The jge variant (jit.Tier0JGE) changes the sequence's conditional branch from jg to
// jge (same instruction count per execution, but the patchpoint fires one
// decrement late, so loop 1 runs more iterations in tier0 code before OSR):
// the warm-up costs more instructions, which the exact gate catches even
// though per-resume figures are unchanged.
func TestTier0PatchpointChangeFailsCheck(t *testing.T) {
	base := run(t, experiments.Default(), jit.Tier0CoreCLR)
	cur := run(t, experiments.Default(), jit.Tier0JGE)
	v := Compare(base, cur, DefaultOptions())
	t.Logf("jg → jge in the tier0 patchpoint sequence:\n%s", v.Table())
	if v.Status != Regressed || v.ExitCode() != 1 {
		t.Fatalf("status %v, want a regression", v.Status)
	}
	slower := map[string]map[string]Row{} // strategy → metric → row
	for _, r := range rows(v, Slower) {
		if slower[r.Cell.Strategy] == nil {
			slower[r.Cell.Strategy] = map[string]Row{}
		}
		slower[r.Cell.Strategy][r.Metric] = r
	}
	if len(slower) != 3 {
		t.Fatalf("slower rows for %d strategies, want all 3", len(slower))
	}
	for s, m := range slower {
		tot, setup := m["instructions.total"], m["instructions.setup"]
		if !tot.Fails || !setup.Fails || tot.Delta <= 0 || tot.Delta != setup.Delta {
			t.Errorf("%s: total %+v, setup %+v: want equal failing rises (the change is all in the warm-up)", s, tot, setup)
		}
		if tot.New-tot.Old != tot.Delta {
			t.Errorf("%s: delta %v is not new − old", s, tot.Delta)
		}
		if _, ok := m["instructions.per_resume"]; ok {
			t.Errorf("%s: per-resume changed; the change is in loop 1 only", s)
		}
	}
	tab := v.Table()
	for _, want := range []string{"Slower (", "instructions.total", "instructions.setup", "FAIL", ": REGRESSION ("} {
		if !strings.Contains(tab, want) {
			t.Errorf("table lacks %q", want)
		}
	}
}

// A cheaper sequence (dec dword [ctr] instead of load, dec, store: 2 fewer
// instructions per tier0 loop-head execution, 10,000 executions before
// OSR) lists its instruction counts as faster with their exact delta;
// recorded the other way round, the 2 extra instructions fail. (Whether
// the check passes depends on the cycle model too: with the default
// model, fewer instructions here cost more estimated cycles for the
// helper strategy, because the branch history changes, and that rise
// fails the exact gate as it should.)
func TestTier0PatchpointDecMem(t *testing.T) {
	base := run(t, experiments.Default(), jit.Tier0CoreCLR)
	decMem := run(t, experiments.Default(), jit.Tier0DecMem)
	instr := func(v *Verdict, k Kind) []Row {
		var out []Row
		for _, r := range rows(v, k) {
			if strings.HasPrefix(r.Metric, "instructions.") {
				out = append(out, r)
			}
		}
		return out
	}
	v := Compare(base, decMem, DefaultOptions())
	t.Logf("dec-mem against the default sequence:\n%s", v.Table())
	if s := instr(v, Slower); len(s) != 0 {
		t.Errorf("instruction counts rose: %+v", s)
	}
	f := instr(v, Faster)
	if len(f) != 6 {
		t.Fatalf("%d faster instruction rows, want total and setup of 3 strategies", len(f))
	}
	for _, r := range f {
		if (r.Metric != "instructions.total" && r.Metric != "instructions.setup") || r.Delta != -20000 {
			t.Errorf("faster row %s %s: delta %v, want -20000", r.Cell, r.Metric, r.Delta)
		}
	}
	v = Compare(decMem, base, DefaultOptions())
	s := instr(v, Slower)
	if v.Status != Regressed || len(s) != 6 {
		t.Fatalf("default against a dec-mem baseline: status %v\n%s", v.Status, v.Table())
	}
	for _, r := range s {
		if r.Delta != 20000 || !r.Fails {
			t.Errorf("slower row %s %s: delta %v, want a failing +20000", r.Cell, r.Metric, r.Delta)
		}
	}
}

// The baselines checked in under results/baselines are of the experiments
// under experiments/, emulated only, one result per cell and strategy; the
// fast ones are run and must pass unchanged (make check-baselines runs
// them all through the CLI).
func TestCheckedInBaselines(t *testing.T) {
	files, err := filepath.Glob("../results/baselines/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no baselines: %v", err)
	}
	want := []string{"csharp", "frame-size", "live-locals", "patchpoint-settings", "platforms", "reentry", "runtime-minimal", "seed"}
	var names []string
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		names = append(names, name)
		b, err := Load(f)
		if err != nil {
			t.Fatal(err)
		}
		e, err := experiments.Load(filepath.Join("..", "experiments", name+".yaml"))
		if err != nil {
			t.Errorf("baseline %s has no experiment: %v", f, err)
			continue
		}
		if b.Experiment != e.Name {
			t.Errorf("%s: experiment %q, want %q", f, b.Experiment, e.Name)
		}
		if n := len(e.Cells()) * len(e.Strategies); len(b.Results) != n {
			t.Errorf("%s: %d results, want %d (cells × strategies)", f, len(b.Results), n)
		}
		for _, r := range b.Results {
			if r.Engine != sim.Emu {
				t.Errorf("%s: a %s result; count baselines hold emulated results only", f, r.Engine)
				break
			}
		}
		if name != "seed" && name != "reentry" {
			continue
		}
		v := Compare(b, run(t, e, jit.Tier0CoreCLR), DefaultOptions())
		if v.Status != OK || v.Count(Unchanged) != len(v.Rows) || len(v.Warnings) > 0 {
			t.Errorf("%s: the unchanged tree does not pass its baseline (re-record with osrsim check --update if the change is intended):\n%s", f, v.Table())
		}
	}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("baselines %q, want %q", names, want)
	}
	if _, err := os.Stat("../experiments/seed.yaml"); err != nil {
		t.Error(err)
	}
}
