package report

import (
	"math"
	"strings"
	"testing"

	"github.com/osrsim/osrsim/sim"
)

func findCmp(t *testing.T, r *Report, awaits int64, engine sim.Engine, metric, cand string) Comparison {
	t.Helper()
	for _, c := range r.Comparisons {
		if c.Params["awaits"] == Int(awaits) && c.Engine == engine && c.Metric == metric && c.Candidate == cand {
			return c
		}
	}
	t.Fatalf("no comparison awaits=%d %s %s %s in %+v", awaits, engine, metric, cand, r.Comparisons)
	return Comparison{}
}

func TestCompare(t *testing.T) {
	r := fixture()
	Compare(r, "helper")
	if r.Baseline != "helper" {
		t.Errorf("baseline %q", r.Baseline)
	}
	// 3 emu groups × 2 candidates × 2 metrics + native 2 candidates.
	if len(r.Comparisons) != 14 {
		t.Errorf("%d comparisons, want 14", len(r.Comparisons))
	}
	c := findCmp(t, r, 100000, sim.Emu, MetricInstructions, "direct")
	if c.Baseline != "helper" || c.Workload != "await-loop" || !near(c.Ratio, 1946.2/308.9, 1e-12) {
		t.Errorf("instructions direct: %+v, want ratio %v", c, 1946.2/308.9)
	}
	if c.PValue != nil || c.Verdict != "" {
		t.Errorf("exact metric has statistics: %+v", c)
	}
	c = findCmp(t, r, 1000, sim.Emu, MetricCycles, "helper-return")
	if !near(c.Ratio, 4000.0/910, 1e-12) {
		t.Errorf("cycles helper-return ratio %v, want %v", c.Ratio, 4000.0/910)
	}
	// Native: ratio of medians (helper median 1948 of the 9 kept samples:
	// 2600 is an upper outlier; direct median 80), fully separated samples:
	// p = 2/C(20,10).
	c = findCmp(t, r, 100000, sim.Native, MetricNative, "direct")
	if !near(c.Ratio, 1948.0/80, 1e-12) {
		t.Errorf("native ratio %v, want %v", c.Ratio, 1948.0/80)
	}
	if c.PValue == nil || !near(*c.PValue, 2/184756.0, 1e-12) || c.Verdict != VerdictFaster {
		t.Errorf("native verdict %+v p %v", c, c.PValue)
	}
	if c.BaselineN != 10 || c.CandidateN != 10 {
		t.Errorf("n %d+%d", c.BaselineN, c.CandidateN)
	}
	c = findCmp(t, r, 100000, sim.Native, MetricNative, "helper-return")
	if c.Verdict != VerdictTooFew || c.PValue != nil {
		t.Errorf("helper-return with 3 samples: %+v", c)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "at least 4") || !strings.Contains(r.Warnings[0], "10 and 3 samples") {
		t.Errorf("warnings %q", r.Warnings)
	}
	// Idempotent.
	Compare(r, "helper")
	if len(r.Comparisons) != 14 || len(r.Warnings) != 1 {
		t.Errorf("second Compare: %d comparisons, %d warnings", len(r.Comparisons), len(r.Warnings))
	}
	// Other baseline: direct vs helper reads as a ratio below 1.
	Compare(r, "direct")
	c = findCmp(t, r, 100000, sim.Emu, MetricInstructions, "helper")
	if !near(c.Ratio, 308.9/1946.2, 1e-12) {
		t.Errorf("reverse ratio %v", c.Ratio)
	}
	c = findCmp(t, r, 100000, sim.Native, MetricNative, "helper")
	if c.Verdict != VerdictSlower {
		t.Errorf("helper vs direct verdict %q, want slower", c.Verdict)
	}
}

func TestCompareSameAndMissingBaseline(t *testing.T) {
	mk := func(s string, xs []float64) Result {
		return Result{Workload: "w", Strategy: s, Engine: sim.Native, Params: Params{"x": Int(1)}, Native: &Native{SamplesNs: xs}}
	}
	r := &Report{Results: []Result{
		mk("helper", []float64{10, 12, 11, 13, 10.5}),
		mk("direct", []float64{11, 10.2, 12.5, 11.5, 13.1}),
		{Workload: "v", Strategy: "direct", Engine: sim.Emu, Instructions: &Instructions{PerResume: 3}},
	}}
	Compare(r, "helper")
	if len(r.Comparisons) != 1 {
		t.Fatalf("comparisons %+v", r.Comparisons)
	}
	c := r.Comparisons[0]
	// NsPerResume was left empty: Compare summarises the samples itself
	// (medians 11 and 11.5).
	if c.Verdict != VerdictSame || c.PValue == nil || *c.PValue < Alpha || !near(c.Ratio, 11/11.5, 1e-12) {
		t.Errorf("overlapping samples: %+v p=%v", c, *c.PValue)
	}
	if len(r.Warnings) != 0 {
		t.Errorf("warnings %q", r.Warnings)
	}
	// Zero candidate: no ratio, no Inf in JSON.
	r = &Report{Results: []Result{
		{Workload: "w", Strategy: "helper", Engine: sim.Emu, Instructions: &Instructions{PerResume: 3}},
		{Workload: "w", Strategy: "direct", Engine: sim.Emu, Instructions: &Instructions{PerResume: 0}},
	}}
	Compare(r, "helper")
	for _, c := range r.Comparisons {
		if math.IsInf(c.Ratio, 0) || math.IsNaN(c.Ratio) {
			t.Errorf("non-finite ratio %+v", c)
		}
	}
}

func TestAgreementPairsCyclesWithNative(t *testing.T) {
	emu := func(s string, cyc float64) Result {
		return Result{Workload: "await-loop", Strategy: s, Engine: sim.Emu, Params: Params{"awaits": Int(100), "live_locals": Int(2)},
			CyclesEst: &Cycles{PerResume: cyc, Model: "default"}}
	}
	nat := func(s string, ns ...float64) Result {
		return Result{Workload: "await-loop", Strategy: s, Engine: sim.Native, Params: Params{"awaits": Int(1000000), "live_locals": Int(2)},
			Native: &Native{SamplesNs: ns, NsPerResume: Summarize(ns)}}
	}
	r := &Report{Results: []Result{emu("helper", 1200), emu("direct", 100), nat("helper", 300, 300, 300, 300), nat("direct", 100, 100, 100, 100)}}
	Compare(r, "helper")
	if len(r.Agreement) != 1 {
		t.Fatalf("agreement %+v", r.Agreement)
	}
	a := r.Agreement[0]
	if a.CyclesRatio != 12 || a.NativeRatio != 3 || a.Error != 3 || a.Params["awaits"] != (Value{}) || a.Params["live_locals"] != Int(2) {
		t.Fatalf("agreement %+v", a)
	}
	if md := Markdown(r); !strings.Contains(md, "Cycle model vs native time") || !strings.Contains(md, "+300%") {
		t.Errorf("markdown lacks the agreement table:\n%s", md)
	}
}
