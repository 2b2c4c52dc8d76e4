package report

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/osrsim/osrsim/sim"
)

// Metric names used in Comparison.Metric.
const (
	MetricInstructions = "instructions.per_resume"
	MetricCycles       = "cycles_est.per_resume"
	MetricNative       = "native.ns_per_resume"
)

// Verdicts of a native-time comparison.
const (
	VerdictFaster   = "faster"
	VerdictSlower   = "slower"
	VerdictSame     = "same"
	VerdictTooFew   = "too few samples"
	VerdictNoResult = "no test"
)

// group is the results sharing workload, params and engine.
type group struct {
	Workload string
	Params   Params
	Engine   sim.Engine
	Results  []*Result // in report order, one per strategy (first wins)
}

// ParamsKey renders params canonically ("awaits=100000,n=20000", keys
// sorted); the empty map gives "".
func ParamsKey(p Params) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(p[k].String())
	}
	return b.String()
}

// groups splits r.Results by (workload, params, engine) in order of first
// appearance.
func groups(r *Report) []*group {
	var out []*group
	idx := map[string]*group{}
	for i := range r.Results {
		res := &r.Results[i]
		k := res.Workload + "\x00" + ParamsKey(res.Params) + "\x00" + res.Engine.String()
		g := idx[k]
		if g == nil {
			g = &group{Workload: res.Workload, Params: res.Params, Engine: res.Engine}
			idx[k] = g
			out = append(out, g)
		}
		dup := false
		for _, o := range g.Results {
			if o.Strategy == res.Strategy {
				dup = true
			}
		}
		if !dup {
			g.Results = append(g.Results, res)
		}
	}
	return out
}

// nativeStats returns the summary of a native result, computing it from
// the raw samples when the engine left it empty.
func nativeStats(n *Native) Stats {
	if n.NsPerResume.N > 0 || len(n.SamplesNs) == 0 {
		return n.NsPerResume
	}
	return Summarize(n.SamplesNs)
}

// nativeSampleCount is the number of samples behind a native result.
func nativeSampleCount(n *Native) int {
	if len(n.SamplesNs) > 0 {
		return len(n.SamplesNs)
	}
	return n.NsPerResume.N
}

// Compare rebuilds r.Comparisons relative to the baseline strategy and
// sets r.Baseline. Results are grouped by (workload, params, engine); in
// every group that has the baseline, each other strategy gets one
// comparison per metric both results carry:
//
//   - instructions.per_resume and cycles_est.per_resume: exact counts, so
//     no statistics: Ratio = baseline / candidate.
//   - native.ns_per_resume: Ratio = baseline median / candidate median
//     (ratio of medians, as benchstat; medians after upper-outlier
//     removal), PValue from a two-sided Mann–Whitney U test over the raw
//     samples, and Verdict "faster"/"slower" (candidate vs baseline, by
//     the medians) when p < Alpha, "same" otherwise, or "too few samples"
//     when either side has fewer than MinSamplesUTest samples.
//
// A ratio above 1 means the candidate is that many times cheaper. A
// comparison whose candidate figure is 0 is skipped (no finite ratio).
// For too few native samples Compare adds a warning to r.Warnings saying
// how many are needed (once; Compare can be called again).
func Compare(r *Report, baseline string) {
	r.Baseline = baseline
	r.Comparisons = nil
	defer func() { r.Agreement = agreement(r) }()
	for _, g := range groups(r) {
		var base *Result
		for _, res := range g.Results {
			if res.Strategy == baseline {
				base = res
			}
		}
		if base == nil {
			continue
		}
		for _, c := range g.Results {
			if c == base {
				continue
			}
			mk := func(metric string, ratio float64) Comparison {
				return Comparison{Workload: g.Workload, Params: g.Params, Engine: g.Engine,
					Metric: metric, Baseline: baseline, Candidate: c.Strategy, Ratio: ratio}
			}
			if base.Instructions != nil && c.Instructions != nil && c.Instructions.PerResume != 0 {
				r.Comparisons = append(r.Comparisons, mk(MetricInstructions, base.Instructions.PerResume/c.Instructions.PerResume))
			}
			if base.CyclesEst != nil && c.CyclesEst != nil && c.CyclesEst.PerResume != 0 {
				r.Comparisons = append(r.Comparisons, mk(MetricCycles, base.CyclesEst.PerResume/c.CyclesEst.PerResume))
			}
			if base.Native != nil && c.Native != nil {
				bs, cs := nativeStats(base.Native), nativeStats(c.Native)
				if cs.Median == 0 {
					continue
				}
				cmp := mk(MetricNative, bs.Median/cs.Median)
				cmp.BaselineN, cmp.CandidateN = nativeSampleCount(base.Native), nativeSampleCount(c.Native)
				p, err := MannWhitney(base.Native.SamplesNs, c.Native.SamplesNs)
				if errors.Is(err, ErrTooFewSamples) && len(base.Native.SamplesNs)*len(c.Native.SamplesNs) == 0 &&
					cmp.BaselineN >= MinSamplesUTest && cmp.CandidateN >= MinSamplesUTest {
					err = errors.New("no raw samples kept (samples_ns), cannot test")
				}
				switch {
				case errors.Is(err, ErrTooFewSamples):
					cmp.Verdict = VerdictTooFew
					r.addWarning(fmt.Sprintf("%s %s: native %s vs %s has %d and %d samples; a Mann–Whitney U test needs at least %d per side to reach α=%.2f (benchstat advises 10, 20 if possible)",
						g.Workload, paramsLabel(g.Params), baseline, c.Strategy, cmp.BaselineN, cmp.CandidateN, MinSamplesUTest, Alpha))
				case err != nil:
					cmp.Verdict = VerdictNoResult
					r.addWarning(fmt.Sprintf("%s %s: native %s vs %s: %v", g.Workload, paramsLabel(g.Params), baseline, c.Strategy, err))
				default:
					pv := p
					cmp.PValue = &pv
					switch {
					case p >= Alpha || cs.Median == bs.Median:
						cmp.Verdict = VerdictSame
					case cs.Median < bs.Median:
						cmp.Verdict = VerdictFaster
					default:
						cmp.Verdict = VerdictSlower
					}
				}
				r.Comparisons = append(r.Comparisons, cmp)
			}
		}
	}
}

// scaleParams are the parameters emulated and native runs may set
// differently; agreement matches results on everything else.
var scaleParams = map[string]bool{"n": true, "awaits": true, "calls": true, "iterations": true}

// unscaled is p without the scale parameters (nil if nothing is left).
func unscaled(p Params) Params {
	return pointParams(p, nil)
}

// pointParams is p without the scale parameters that no sweep (a key of
// sweeps) varies: the parameters that say which point of an experiment a
// result belongs to, whichever engine's scale it ran at. Nil if nothing
// is left.
func pointParams(p Params, sweeps []string) Params {
	var q Params
	for k, v := range p {
		if !scaleParams[k] || slices.Contains(sweeps, k) {
			if q == nil {
				q = Params{}
			}
			q[k] = v
		}
	}
	return q
}

// agreement pairs each cycles_est comparison with the native comparison of
// the same workload, strategies and (scale-free) parameters.
func agreement(r *Report) []Agreement {
	seen := map[string]bool{}
	model := map[string]string{}
	for _, res := range r.Results {
		if res.CyclesEst != nil {
			model[res.Workload] = res.CyclesEst.Model
		}
	}
	var out []Agreement
	for _, c := range r.Comparisons {
		if c.Metric != MetricCycles {
			continue
		}
		key := ParamsKey(unscaled(c.Params))
		// A sweep over a scale parameter gives several emulated groups
		// for one native one: the first stands for them (per-op figures
		// don't depend on the scale).
		if id := c.Workload + "|" + key + "|" + c.Candidate; seen[id] {
			continue
		} else {
			seen[id] = true
		}
		for _, n := range r.Comparisons {
			if n.Metric == MetricNative && n.Workload == c.Workload && n.Candidate == c.Candidate &&
				n.Baseline == c.Baseline && ParamsKey(unscaled(n.Params)) == key && n.Ratio > 0 {
				out = append(out, Agreement{Workload: c.Workload, Params: unscaled(c.Params), Baseline: c.Baseline,
					Candidate: c.Candidate, Model: model[c.Workload], CyclesRatio: c.Ratio, NativeRatio: n.Ratio,
					Error: c.Ratio/n.Ratio - 1})
			}
		}
	}
	return out
}

func (r *Report) addWarning(w string) {
	for _, o := range r.Warnings {
		if o == w {
			return
		}
	}
	r.Warnings = append(r.Warnings, w)
}

// paramsLabel renders params for humans: "(awaits=100000, n=20000)", or
// "" when there are none.
func paramsLabel(p Params) string {
	if len(p) == 0 {
		return ""
	}
	return "(" + strings.ReplaceAll(ParamsKey(p), ",", ", ") + ")"
}
