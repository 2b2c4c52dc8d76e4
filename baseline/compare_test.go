package baseline

import (
	"math"
	"strings"
	"testing"

	"github.com/osrsim/osrsim/report"
	"github.com/osrsim/osrsim/sim"
)

// emuResult is a synthetic emulated result shaped like a real one.
func emuResult(strategy string, extraFrame int64) report.Result {
	return report.Result{
		Workload: "await-loop", Strategy: strategy, Engine: sim.Emu,
		Params: report.Params{"n": report.Int(20000), "awaits": report.Int(10000), "extra_frame": report.Int(extraFrame)},
		Ops:    10000,
		Instructions: &report.Instructions{
			Total: 15323682, Setup: 193677, PerResume: 1513.0005,
			ByRegion: map[string]uint64{"helper": 13540000, "osr": 430000, "runtime": 870005, "tier0": 290000},
			ByStep:   map[string]uint64{"capture": 410000, "unwind": 5960000},
		},
		HelperCalls: &report.HelperCalls{Patchpoint: 10, PatchpointForced: 10000},
		OSREntries:  &report.OSREntries{ViaHelper: 10001},
		Suspensions: 10000, Resumptions: 10000,
		FinalState: report.FinalState{SValue: 199990000, Ret: 199990000, Checksum: "d3543aaf5e87e80d0b313c0c6324ecdd"},
	}
}

func nativeResult(strategy string, samples ...float64) report.Result {
	return report.Result{
		Workload: "await-loop", Strategy: strategy, Engine: sim.Native,
		Params: report.Params{"n": report.Int(10000000), "awaits": report.Int(1000000)},
		Native: &report.Native{NsPerResume: report.Summarize(samples), SamplesNs: samples},
	}
}

func rep(results ...report.Result) *report.Report {
	return &report.Report{
		Experiment: "seed",
		Env:        report.Env{Osrsim: "test", Unicorn: "2.0.1"},
		Results:    results,
	}
}

// clone deep-copies a report (maps and pointers included).
func clone(r *report.Report) *report.Report {
	c := *r
	c.Results = nil
	for _, res := range r.Results {
		x := res
		x.Params = copyMap(res.Params)
		if res.Instructions != nil {
			in := *res.Instructions
			in.ByRegion, in.ByStep = copyMap(in.ByRegion), copyMap(in.ByStep)
			x.Instructions = &in
		}
		if res.HelperCalls != nil {
			h := *res.HelperCalls
			x.HelperCalls = &h
		}
		if res.OSREntries != nil {
			o := *res.OSREntries
			x.OSREntries = &o
		}
		if res.CyclesEst != nil {
			cy := *res.CyclesEst
			x.CyclesEst = &cy
		}
		if res.Native != nil {
			n := *res.Native
			n.SamplesNs = append([]float64(nil), n.SamplesNs...)
			x.Native = &n
		}
		c.Results = append(c.Results, x)
	}
	return &c
}

func copyMap[V any](m map[string]V) map[string]V {
	if m == nil {
		return nil
	}
	c := make(map[string]V, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func defaultEmu() *report.Report {
	return rep(emuResult("helper", 0), emuResult("direct", 0), emuResult("helper", 64))
}

// rows returns the rows of kind k.
func rows(v *Verdict, k Kind) []Row {
	var out []Row
	for _, r := range v.Rows {
		if r.Kind == k {
			out = append(out, r)
		}
	}
	return out
}

func TestUnchanged(t *testing.T) {
	base := defaultEmu()
	v := Compare(base, clone(base), DefaultOptions())
	if v.Status != OK || v.Regression() || v.ExitCode() != 0 {
		t.Fatalf("status %v, exit %d:\n%s", v.Status, v.ExitCode(), v.Table())
	}
	if n := v.Count(Unchanged); n != len(v.Rows) || n == 0 {
		t.Fatalf("%d unchanged of %d rows:\n%s", n, len(v.Rows), v.Table())
	}
	// 3 cells × (3 totals + 4 regions + 2 steps + 2 helper + 2 OSR + 2 + 3 final state) = 3 × 18.
	if len(v.Rows) != 54 {
		t.Errorf("%d rows, want 54", len(v.Rows))
	}
	if !strings.Contains(v.Table(), "54 unchanged, 0 faster, 0 slower: ok") {
		t.Errorf("summary:\n%s", v.Table())
	}
}

func TestBumpedCountIsRegression(t *testing.T) {
	base := defaultEmu()
	cur := clone(base)
	cur.Results[1].Instructions.Total += 3
	cur.Results[1].Instructions.ByRegion["tier0"] += 3
	v := Compare(base, cur, DefaultOptions())
	if v.Status != Regressed || !v.Regression() || v.ExitCode() != 1 {
		t.Fatalf("status %v:\n%s", v.Status, v.Table())
	}
	slow := rows(v, Slower)
	if len(slow) != 2 {
		t.Fatalf("%d slower rows, want 2:\n%s", len(slow), v.Table())
	}
	r := slow[0]
	if r.Metric != "instructions.total" || r.Old != 15323682 || r.New != 15323685 || r.Delta != 3 || !r.Fails ||
		r.Cell.Strategy != "direct" || r.Cell.Params["extra_frame"] != report.Int(0) {
		t.Errorf("row %+v", r)
	}
	if got, want := r.DeltaPct, 100*3/15323682.0; math.Abs(got-want) > 1e-12 {
		t.Errorf("delta%% %v, want %v", got, want)
	}
	if slow[1].Metric != "instructions.by_region.tier0" || slow[1].Delta != 3 {
		t.Errorf("row %+v", slow[1])
	}
	tab := v.Table()
	for _, want := range []string{
		"Slower (2):",
		"await-loop/direct emu extra_frame=0  instructions.total            15323682  15323685     +3  +0.000020%  FAIL",
		"instructions.by_region.tier0",
		"52 unchanged, 0 faster, 2 slower: REGRESSION (2 failing)",
	} {
		if !strings.Contains(tab, want) {
			t.Errorf("table lacks %q:\n%s", want, tab)
		}
	}
	if strings.Contains(tab, "Faster") || strings.Contains(tab, "Unchanged (") {
		t.Errorf("table lists empty or unchanged groups:\n%s", tab)
	}
	md := v.Markdown()
	if !strings.Contains(md, "| await-loop/direct emu extra_frame=0 | instructions.total | 15323682 | 15323685 | +3 | +0.000020% | FAIL |") {
		t.Errorf("markdown:\n%s", md)
	}
}

func TestTolerance(t *testing.T) {
	base := defaultEmu()
	cur := clone(base)
	cur.Results[0].Instructions.Total = 15323682 + 15323 // +0.1%
	cur.Results[1].Instructions.Total = 15323682 + 1532368 + 1
	cur.Results[2].Instructions.ByStep["new_step"] = 1 // from 0: always fails
	opt := DefaultOptions()
	opt.Tolerance = 0.1
	v := Compare(base, cur, opt)
	if v.Status != Regressed {
		t.Fatalf("status %v:\n%s", v.Status, v.Table())
	}
	slow := rows(v, Slower)
	if len(slow) != 3 {
		t.Fatalf("%d slower rows:\n%s", len(slow), v.Table())
	}
	if slow[0].Fails || !strings.Contains(slow[0].Note, "within tolerance 10%") {
		t.Errorf("+0.1%% with 10%% tolerance: %+v", slow[0])
	}
	if !slow[1].Fails {
		t.Errorf("+10.00001%% with 10%% tolerance should fail: %+v", slow[1])
	}
	if !slow[2].Fails || slow[2].Metric != "instructions.by_step.new_step" || slow[2].Old != 0 || slow[2].DeltaPct != 0 {
		t.Errorf("rise from 0: %+v", slow[2])
	}
	if !strings.Contains(v.Table(), "new  FAIL") {
		t.Errorf("a rise from 0 shows delta%% as new:\n%s", v.Table())
	}
	// Exactly at the tolerance passes.
	cur2 := clone(base)
	cur2.Results[0].Instructions.Total = 15323682 + 1532368
	if v := Compare(base, cur2, opt); v.Status != OK {
		t.Errorf("rise at the tolerance: %v\n%s", v.Status, v.Table())
	}
}

func TestFasterIsOK(t *testing.T) {
	base := defaultEmu()
	cur := clone(base)
	cur.Results[0].Instructions.Total -= 20000
	cur.Results[0].Instructions.PerResume = 1511.0005
	v := Compare(base, cur, DefaultOptions())
	if v.Status != OK || v.ExitCode() != 0 {
		t.Fatalf("status %v:\n%s", v.Status, v.Table())
	}
	f := rows(v, Faster)
	if len(f) != 2 || f[0].Delta != -20000 || f[1].Metric != "instructions.per_resume" {
		t.Fatalf("faster rows %+v", f)
	}
	if !strings.Contains(v.Table(), "1513.0005  1511.0005  -2.0000") || !strings.Contains(v.Table(), "52 unchanged, 2 faster, 0 slower: ok") {
		t.Errorf("table:\n%s", v.Table())
	}
}

func TestMissingFailsNewDoesNot(t *testing.T) {
	base := defaultEmu()
	cur := clone(base)
	cur.Results = cur.Results[:2] // extra_frame=64 is gone
	v := Compare(base, cur, DefaultOptions())
	if v.Status != Regressed {
		t.Fatalf("missing: status %v\n%s", v.Status, v.Table())
	}
	m := rows(v, Missing)
	if len(m) != 1 || m[0].Cell.Params["extra_frame"] != report.Int(64) || !m[0].Fails {
		t.Fatalf("missing rows %+v", m)
	}
	if !strings.Contains(v.Table(), "New/Missing (1):") || !strings.Contains(v.Table(), "extra_frame=64") {
		t.Errorf("table:\n%s", v.Table())
	}

	cur = clone(base)
	cur.Results = append(cur.Results, emuResult("helper-return", 0))
	v = Compare(base, cur, DefaultOptions())
	if v.Status != OK || len(rows(v, New)) != 1 {
		t.Fatalf("new: status %v\n%s", v.Status, v.Table())
	}
}

func TestUnicornMismatch(t *testing.T) {
	base := defaultEmu()
	cur := clone(base)
	cur.Env.Unicorn = "2.1.3"
	cur.Results[0].Instructions.Total += 1000 // would be a regression
	v := Compare(base, cur, DefaultOptions())
	if v.Status != UnicornMismatch || v.Regression() || v.ExitCode() != 1 {
		t.Fatalf("status %v, exit %d", v.Status, v.ExitCode())
	}
	want := "libunicorn version mismatch (baseline 2.0.1, now 2.1.3): counts are not comparable; re-record with --update"
	if v.Message != want {
		t.Errorf("message %q", v.Message)
	}
	if n := v.Count(Slower) + v.Count(Unchanged); n != 0 {
		t.Errorf("%d count rows compared despite the mismatch:\n%s", n, v.Table())
	}
	if tab := v.Table(); !strings.Contains(tab, want) || !strings.Contains(tab, "NOT CHECKED") || strings.Contains(tab, "REGRESSION") {
		t.Errorf("table:\n%s", tab)
	}
}

func TestFinalStateChangeIsChanged(t *testing.T) {
	base := defaultEmu()
	cur := clone(base)
	cur.Results[0].FinalState.Checksum = "00000000000000000000000000000000"
	v := Compare(base, cur, DefaultOptions())
	if v.Status != OK {
		t.Fatalf("status %v", v.Status)
	}
	c := rows(v, Changed)
	if len(c) != 1 || c[0].Metric != "final_state.checksum" || c[0].OldText != "d3543aaf5e87e80d0b313c0c6324ecdd" {
		t.Fatalf("changed rows %+v", c)
	}
	if !strings.Contains(v.Table(), "Changed (1):") || !strings.Contains(v.Table(), "1 changed: ok") {
		t.Errorf("table:\n%s", v.Table())
	}
}

func TestCycles(t *testing.T) {
	base := defaultEmu()
	for i := range base.Results {
		base.Results[i].CyclesEst = &report.Cycles{Total: 9000000, Model: "default", Mispredicts: report.Mispredicts{Branch: 10, Return: 5}}
	}
	cur := clone(base)
	cur.Results[0].CyclesEst.Mispredicts.Return = 6
	v := Compare(base, cur, DefaultOptions())
	s := rows(v, Slower)
	if v.Status != Regressed || len(s) != 1 || s[0].Metric != "cycles_est.mispredicts.return" {
		t.Fatalf("status %v:\n%s", v.Status, v.Table())
	}
	for i := range cur.Results {
		cur.Results[i].CyclesEst.Model = "zen4"
	}
	v = Compare(base, cur, DefaultOptions())
	if v.Status != OK || len(v.Warnings) != 1 || !strings.Contains(v.Warnings[0], "3 result(s): cycle estimates come from different models") {
		t.Fatalf("model mismatch: status %v, warnings %q", v.Status, v.Warnings)
	}
}

// slowSamples are ~20% slower than baseSamples, without overlap.
var (
	baseSamples = []float64{100, 101, 99, 100.5, 99.5, 100.2, 100.8, 99.9}
	slowSamples = []float64{120, 121, 119, 120.5, 119.5, 120.2, 120.8, 119.9}
)

func TestNativeModes(t *testing.T) {
	base := rep(emuResult("helper", 0), nativeResult("helper", baseSamples...))
	cur := rep(emuResult("helper", 0), nativeResult("helper", slowSamples...))

	off := Compare(base, cur, DefaultOptions())
	if off.Status != OK || len(off.Rows) != 18 || len(off.Warnings) != 1 || !strings.Contains(off.Warnings[0], "2 native result(s) not compared") {
		t.Fatalf("off: status %v, %d rows, warnings %q", off.Status, len(off.Rows), off.Warnings)
	}

	opt := DefaultOptions()
	opt.Native = NativeWarn
	warn := Compare(base, cur, opt)
	s := rows(warn, Slower)
	if warn.Status != OK || len(s) != 1 || s[0].Fails || s[0].P == nil || *s[0].P >= 0.05 || len(warn.Warnings) != 1 {
		t.Fatalf("warn: status %v, warnings %q:\n%s", warn.Status, warn.Warnings, warn.Table())
	}
	if s[0].Old != report.Summarize(baseSamples).Median || s[0].New != report.Summarize(slowSamples).Median {
		t.Errorf("medians %v %v", s[0].Old, s[0].New)
	}

	opt.Native = NativeEnforce
	enf := Compare(base, cur, opt)
	if enf.Status != Regressed || !rows(enf, Slower)[0].Fails {
		t.Fatalf("enforce: status %v:\n%s", enf.Status, enf.Table())
	}

	// Significant, but below a 25% threshold.
	opt.NativeThreshold = 0.25
	if v := Compare(base, cur, opt); v.Status != OK || v.Count(Slower) != 0 {
		t.Fatalf("threshold: status %v:\n%s", v.Status, v.Table())
	}
	opt.NativeThreshold = 0.05

	// Faster never fails.
	if v := Compare(cur, base, opt); v.Status != OK || v.Count(Faster) != 1 {
		t.Fatalf("faster: status %v:\n%s", v.Status, v.Table())
	}

	// Overlapping samples: not significant.
	noisy := rep(emuResult("helper", 0), nativeResult("helper", 99.8, 100.9, 99.2, 100.4, 99.7, 100.1, 100.6, 100))
	if v := Compare(base, noisy, opt); v.Status != OK || v.Count(Slower)+v.Count(Faster) != 0 {
		t.Fatalf("noise: status %v:\n%s", v.Status, v.Table())
	}

	// Too few samples: a warning, never a failure.
	few := rep(emuResult("helper", 0), nativeResult("helper", 200, 201, 202))
	v := Compare(base, few, opt)
	if v.Status != OK || len(v.Warnings) != 1 || !strings.Contains(v.Warnings[0], "too few samples") {
		t.Fatalf("few: status %v, warnings %q", v.Status, v.Warnings)
	}
}

func TestBadInput(t *testing.T) {
	base := defaultEmu()
	opt := DefaultOptions()
	opt.Tolerance = -1
	if v := Compare(base, clone(base), opt); v.Status != BadInput || v.ExitCode() != 2 {
		t.Errorf("negative tolerance: %v", v.Status)
	}
	dup := clone(base)
	dup.Results = append(dup.Results, dup.Results[0])
	if v := Compare(base, dup, DefaultOptions()); v.Status != BadInput || !strings.Contains(v.Message, "same cell") {
		t.Errorf("duplicate cell: %v %q", v.Status, v.Message)
	}
	onlyNative := rep(nativeResult("helper", baseSamples...))
	if v := Compare(onlyNative, clone(onlyNative), DefaultOptions()); v.Status != BadInput || v.ExitCode() != 2 {
		t.Errorf("nothing to compare: %v %q", v.Status, v.Message)
	}
	if v := Compare(nil, base, DefaultOptions()); v.Status != BadInput {
		t.Errorf("nil baseline: %v", v.Status)
	}
}

func TestExperimentMismatchWarns(t *testing.T) {
	base := defaultEmu()
	cur := clone(base)
	cur.Experiment = "live-locals"
	v := Compare(base, cur, DefaultOptions())
	if len(v.Warnings) != 1 || !strings.Contains(v.Warnings[0], `"seed"`) {
		t.Errorf("warnings %q", v.Warnings)
	}
}

func TestLabelsShowVaryingParamsOnly(t *testing.T) {
	v := Compare(defaultEmu(), clone(defaultEmu()), DefaultOptions())
	label := v.labeller()
	if got := label(keyOf(emuResult("helper", 64))); got != "await-loop/helper emu extra_frame=64" {
		t.Errorf("label %q", got)
	}
}

func TestParse(t *testing.T) {
	for s, want := range map[string]float64{"0": 0, "0.05": 0.05, "5%": 0.05, " 1.5 % ": 0.015} {
		if got, err := ParseFraction(s); err != nil || math.Abs(got-want) > 1e-15 {
			t.Errorf("ParseFraction(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "-1", "x", "NaN", "Inf", "5%%"} {
		if _, err := ParseFraction(s); err == nil {
			t.Errorf("ParseFraction(%q): no error", s)
		}
	}
	for _, m := range []NativeMode{NativeOff, NativeWarn, NativeEnforce} {
		if got, err := ParseNativeMode(m.String()); err != nil || got != m {
			t.Errorf("ParseNativeMode(%q) = %v, %v", m, got, err)
		}
	}
	if _, err := ParseNativeMode("on"); err == nil {
		t.Error("ParseNativeMode(on): no error")
	}
}
