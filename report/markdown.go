package report

import (
	"fmt"
	"sort"
	"strings"
)

// regionOrder and stepOrder fix the column order of the breakdown tables;
// other keys follow, sorted.
var (
	regionOrder = []string{"tier0", "osr", "helper", "runtime"}
	stepOrder   = []string{"stub", "counter", "code_lookup", "pp_lookup", "trigger", "capture", "unwind", "osr_context", "restore", "worker"}
)

// row is one strategy of a (workload, params) table, merged over engines.
type row struct {
	Strategy string
	Instr    *Result // first result with Instructions
	Counts   *Result // first result with HelperCalls or OSREntries (emu preferred)
	Cycles   *Result
	Native   *Result
}

// table is one (workload, params) group of the Markdown report.
type table struct {
	Workload string
	Params   map[string]int64
	Rows     []*row
}

func tables(r *Report) []*table {
	var out []*table
	idx := map[string]*table{}
	for i := range r.Results {
		res := &r.Results[i]
		k := res.Workload + "\x00" + ParamsKey(res.Params)
		t := idx[k]
		if t == nil {
			t = &table{Workload: res.Workload, Params: res.Params}
			idx[k] = t
			out = append(out, t)
		}
		var rw *row
		for _, o := range t.Rows {
			if o.Strategy == res.Strategy {
				rw = o
			}
		}
		if rw == nil {
			rw = &row{Strategy: res.Strategy}
			t.Rows = append(t.Rows, rw)
		}
		if rw.Instr == nil && res.Instructions != nil {
			rw.Instr = res
		}
		if res.HelperCalls != nil || res.OSREntries != nil {
			if rw.Counts == nil || (rw.Counts.Engine != "emu" && res.Engine == "emu") {
				rw.Counts = res
			}
		}
		if rw.Cycles == nil && res.CyclesEst != nil {
			rw.Cycles = res
		}
		if rw.Native == nil && res.Native != nil {
			rw.Native = res
		}
	}
	// Within a workload, order groups by the swept params (in r.Sweeps
	// order), then by the other params (sorted keys); workloads keep their
	// order of first appearance.
	wlIndex := map[string]int{}
	for _, t := range out {
		if _, ok := wlIndex[t.Workload]; !ok {
			wlIndex[t.Workload] = len(wlIndex)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Workload != b.Workload {
			return wlIndex[a.Workload] < wlIndex[b.Workload]
		}
		return paramsLess(a.Params, b.Params, r.Sweeps)
	})
	return out
}

// paramsLess orders params maps by the keys in first (in that order),
// then by every other key, sorted; a missing key sorts first.
func paramsLess(a, b map[string]int64, first []string) bool {
	keys := append([]string(nil), first...)
	rest := map[string]bool{}
	for k := range a {
		rest[k] = true
	}
	for k := range b {
		rest[k] = true
	}
	for _, k := range first {
		delete(rest, k)
	}
	keys = append(keys, orderedKeys(rest, nil)...)
	for _, k := range keys {
		va, oka := a[k]
		vb, okb := b[k]
		if oka != okb {
			return !oka
		}
		if va != vb {
			return va < vb
		}
	}
	return false
}

// divisor is what per-resume figures of res divide by: Ops, else
// Resumptions, else what Instructions.PerResume implies; 0 if unknown.
func divisor(res *Result) float64 {
	switch {
	case res.Ops > 0:
		return float64(res.Ops)
	case res.Resumptions > 0:
		return float64(res.Resumptions)
	case res.Instructions != nil && res.Instructions.PerResume > 0:
		return float64(res.Instructions.Total) / res.Instructions.PerResume
	}
	return 0
}

func perOp(res *Result, v uint64) string {
	d := divisor(res)
	if d == 0 {
		return "—"
	}
	return FormatFloat(float64(v) / d)
}

// findComparison returns the comparison for a row, or nil.
func findComparison(r *Report, res *Result, metric string) *Comparison {
	if res == nil {
		return nil
	}
	pk := ParamsKey(res.Params)
	for i := range r.Comparisons {
		c := &r.Comparisons[i]
		if c.Workload == res.Workload && c.Engine == res.Engine && c.Metric == metric &&
			c.Candidate == res.Strategy && ParamsKey(c.Params) == pk && (r.Baseline == "" || c.Baseline == r.Baseline) {
			return c
		}
	}
	return nil
}

// baselineOf is r.Baseline, else the baseline the comparisons name.
func baselineOf(r *Report) string {
	if r.Baseline != "" {
		return r.Baseline
	}
	if len(r.Comparisons) > 0 {
		return r.Comparisons[0].Baseline
	}
	return ""
}

func formatRatio(v float64) string {
	if v >= 100 {
		return FormatFloat(v)
	}
	return fmt.Sprintf("%.2f", v)
}

func formatP(p float64) string {
	return fmt.Sprintf("%.3f", p)
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// orderedKeys returns keys in the preferred order, then the rest sorted.
func orderedKeys(have map[string]bool, pref []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, k := range pref {
		if have[k] {
			out = append(out, k)
			seen[k] = true
		}
	}
	var rest []string
	for k := range have {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

type mdTable struct {
	head  []string
	right []bool
	rows  [][]string
}

func (t *mdTable) col(name string, right bool) {
	t.head = append(t.head, name)
	t.right = append(t.right, right)
}

func (t *mdTable) write(b *strings.Builder) {
	b.WriteString("| " + strings.Join(t.head, " | ") + " |\n|")
	for _, r := range t.right {
		if r {
			b.WriteString("---:|")
		} else {
			b.WriteString(":---|")
		}
	}
	b.WriteByte('\n')
	for _, row := range t.rows {
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	b.WriteByte('\n')
}

// Markdown renders the report BenchmarkDotNet-style: an environment
// header, then per workload and params group a summary table (one row per
// strategy), an instructions-per-resume-by-region table and a
// helper-steps table, then the comparisons, a legend, hints on outliers
// and the warnings. It reads r.Comparisons (see Compare) for the ratio
// columns and does not modify r.
func Markdown(r *Report) string {
	var b strings.Builder
	title := "osrsim report"
	if r.Experiment != "" {
		title += ": " + r.Experiment
	}
	b.WriteString("# " + title + "\n\n")
	if r.Description != "" {
		b.WriteString(r.Description + "\n\n")
	}
	e := r.Env
	b.WriteString("```\n")
	fmt.Fprintf(&b, "osrsim %s, Go %s, libunicorn %s\n", orUnknown(e.Osrsim), orUnknown(e.Go), orUnknown(e.Unicorn))
	fmt.Fprintf(&b, "OS: %s\n", orUnknown(e.OS))
	fmt.Fprintf(&b, "CPU: %s\n", orUnknown(e.CPU))
	if bl := baselineOf(r); bl != "" {
		fmt.Fprintf(&b, "Baseline: %s\n", bl)
	}
	b.WriteString("```\n\n")

	baseline := baselineOf(r)
	var used struct{ instr, counts, osr, cycles, native, ratioI, ratioC, ratioN, regions, steps bool }
	var hints []string
	for _, t := range tables(r) {
		b.WriteString(strings.TrimSpace("## "+t.Workload+" "+paramsLabel(t.Params)) + "\n\n")
		var hasInstr, hasHelper, hasOSR, hasCycles, hasNative, hasRI, hasRC, hasRN bool
		regions, steps := map[string]bool{}, map[string]bool{}
		for _, rw := range t.Rows {
			if rw.Instr != nil {
				hasInstr = true
				for k := range rw.Instr.Instructions.ByRegion {
					regions[k] = true
				}
				for k := range rw.Instr.Instructions.ByStep {
					steps[k] = true
				}
				hasRI = hasRI || findComparison(r, rw.Instr, MetricInstructions) != nil
			}
			if rw.Counts != nil {
				hasHelper = hasHelper || rw.Counts.HelperCalls != nil
				hasOSR = hasOSR || rw.Counts.OSREntries != nil
			}
			if rw.Cycles != nil {
				hasCycles = true
				hasRC = hasRC || findComparison(r, rw.Cycles, MetricCycles) != nil
			}
			if rw.Native != nil {
				hasNative = true
				hasRN = hasRN || findComparison(r, rw.Native, MetricNative) != nil
				s := nativeStats(rw.Native.Native)
				if s.Outliers > 0 {
					hints = append(hints, fmt.Sprintf("%s %s %s: %d outlier(s) detected, %d upper removed (%d samples kept of %d)",
						t.Workload, paramsLabel(t.Params), rw.Strategy, s.Outliers, s.OutliersRemoved, s.N, nativeSampleCount(rw.Native.Native)))
				}
			}
		}
		var mt mdTable
		mt.col("Strategy", false)
		if hasInstr {
			mt.col("Instr/resume", true)
		}
		if hasHelper {
			mt.col("Helper calls (normal/forced)", true)
		}
		if hasOSR {
			mt.col("OSR entries (helper/jump)", true)
		}
		if hasCycles {
			mt.col("Est. cycles/resume", true)
		}
		if hasNative {
			mt.col("Native ns/resume ± CI95", true)
			mt.col("Median ns", true)
			mt.col("n", true)
		}
		if hasRI {
			mt.col("Ratio (instr)", true)
		}
		if hasRC {
			mt.col("Ratio (cycles)", true)
		}
		if hasRN {
			mt.col("Ratio (native)", true)
		}
		for _, rw := range t.Rows {
			isBase := rw.Strategy == baseline
			cells := []string{mdEscape(rw.Strategy)}
			if hasInstr {
				if rw.Instr != nil {
					cells = append(cells, FormatFloat(rw.Instr.Instructions.PerResume))
				} else {
					cells = append(cells, "—")
				}
			}
			if hasHelper {
				if rw.Counts != nil && rw.Counts.HelperCalls != nil {
					h := rw.Counts.HelperCalls
					cells = append(cells, FormatInt(h.Patchpoint)+" / "+FormatInt(h.PatchpointForced))
				} else {
					cells = append(cells, "—")
				}
			}
			if hasOSR {
				if rw.Counts != nil && rw.Counts.OSREntries != nil {
					o := rw.Counts.OSREntries
					cells = append(cells, FormatInt(o.ViaHelper)+" / "+FormatInt(o.ViaJump))
				} else {
					cells = append(cells, "—")
				}
			}
			if hasCycles {
				if rw.Cycles != nil {
					cells = append(cells, FormatFloat(rw.Cycles.CyclesEst.PerResume))
				} else {
					cells = append(cells, "—")
				}
			}
			if hasNative {
				if rw.Native != nil {
					s := nativeStats(rw.Native.Native)
					ci := "± ∞"
					if s.N >= 2 {
						ci = "± " + FormatFloat((s.CI95[1]-s.CI95[0])/2)
					}
					cells = append(cells, FormatFloat(s.Mean)+" "+ci, FormatFloat(s.Median), fmt.Sprint(s.N))
				} else {
					cells = append(cells, "—", "—", "—")
				}
			}
			ratio := func(has bool, res *Result, metric string) {
				if !has {
					return
				}
				switch c := findComparison(r, res, metric); {
				case isBase && res != nil:
					cells = append(cells, "1.00 (baseline)")
				case c == nil:
					cells = append(cells, "—")
				case metric == MetricNative:
					note := c.Verdict
					if c.PValue != nil {
						note += ", p=" + formatP(*c.PValue)
					}
					cells = append(cells, formatRatio(c.Ratio)+" ("+note+")")
				default:
					cells = append(cells, formatRatio(c.Ratio))
				}
			}
			ratio(hasRI, rw.Instr, MetricInstructions)
			ratio(hasRC, rw.Cycles, MetricCycles)
			ratio(hasRN, rw.Native, MetricNative)
			mt.rows = append(mt.rows, cells)
		}
		mt.write(&b)
		used.instr = used.instr || hasInstr
		used.counts = used.counts || hasHelper
		used.osr = used.osr || hasOSR
		used.cycles = used.cycles || hasCycles
		used.native = used.native || hasNative
		used.ratioI = used.ratioI || hasRI
		used.ratioC = used.ratioC || hasRC
		used.ratioN = used.ratioN || hasRN

		if len(regions) > 0 {
			used.regions = true
			keys := orderedKeys(regions, regionOrder)
			var rt mdTable
			rt.col("Strategy", false)
			for _, k := range keys {
				rt.col(mdEscape(k), true)
			}
			rt.col("total", true)
			for _, rw := range t.Rows {
				if rw.Instr == nil {
					continue
				}
				cells := []string{mdEscape(rw.Strategy)}
				for _, k := range keys {
					cells = append(cells, perOp(rw.Instr, rw.Instr.Instructions.ByRegion[k]))
				}
				cells = append(cells, FormatFloat(rw.Instr.Instructions.PerResume))
				rt.rows = append(rt.rows, cells)
			}
			b.WriteString("Instructions per resume by region:\n\n")
			rt.write(&b)
		}
		if len(steps) > 0 {
			used.steps = true
			keys := orderedKeys(steps, stepOrder)
			var st mdTable
			st.col("Strategy", false)
			for _, k := range keys {
				st.col(mdEscape(k), true)
			}
			for _, rw := range t.Rows {
				if rw.Instr == nil {
					continue
				}
				cells := []string{mdEscape(rw.Strategy)}
				for _, k := range keys {
					if rw.Instr.Instructions.ByStep == nil {
						cells = append(cells, "—")
					} else {
						cells = append(cells, perOp(rw.Instr, rw.Instr.Instructions.ByStep[k]))
					}
				}
				st.rows = append(st.rows, cells)
			}
			b.WriteString("Patchpoint helper steps, instructions per resume:\n\n")
			st.write(&b)
		}
	}

	if len(r.Comparisons) > 0 {
		b.WriteString("## Comparisons\n\n")
		var ct mdTable
		for _, h := range []string{"Workload", "Params", "Engine", "Metric", "Baseline", "Candidate"} {
			ct.col(h, false)
		}
		ct.col("Ratio", true)
		ct.col("p", true)
		ct.col("n", true)
		ct.col("Verdict", false)
		for _, c := range r.Comparisons {
			p, n := "", ""
			if c.PValue != nil {
				p = formatP(*c.PValue)
			}
			if c.BaselineN+c.CandidateN > 0 {
				n = fmt.Sprintf("%d+%d", c.BaselineN, c.CandidateN)
			}
			ct.rows = append(ct.rows, []string{mdEscape(c.Workload), ParamsKey(c.Params), c.Engine, c.Metric,
				mdEscape(c.Baseline), mdEscape(c.Candidate), formatRatio(c.Ratio), p, n, c.Verdict})
		}
		ct.write(&b)
	}

	if len(r.Agreement) > 0 {
		b.WriteString("## Cycle model vs native time\n\n")
		var at mdTable
		for _, h := range []string{"Workload", "Params", "Model", "Baseline", "Candidate"} {
			at.col(h, false)
		}
		for _, h := range []string{"Est. cycles ratio", "Native ratio", "Model error"} {
			at.col(h, true)
		}
		for _, a := range r.Agreement {
			at.rows = append(at.rows, []string{mdEscape(a.Workload), ParamsKey(a.Params), mdEscape(a.Model), mdEscape(a.Baseline),
				mdEscape(a.Candidate), formatRatio(a.CyclesRatio), formatRatio(a.NativeRatio), fmt.Sprintf("%+.0f%%", 100*a.Error)})
		}
		at.write(&b)
	}

	b.WriteString("## Legend\n\n")
	leg := func(col, text string) { fmt.Fprintf(&b, "- **%s**: %s\n", col, text) }

	leg("Strategy", "how tier0 resumes into OSR code: `helper` (forced patchpoint helper transitions), `direct` (tier0 jumps to the OSR entry stored in the continuation), `helper-return` (as direct; the normal helper returns the target address).")
	if used.instr {
		leg("Instr/resume", "emulated instructions per resumption (per call for `reentry`). Exact and deterministic under the same libunicorn: compare directly, no statistics needed.")
	}
	if used.counts {
		leg("Helper calls (normal/forced)", "total calls of the patchpoint helper from patchpoint counters / forced calls on resumption.")
	}
	if used.osr {
		leg("OSR entries (helper/jump)", "total entries into OSR code through the helper's transition / by a direct jump.")
	}
	if used.cycles {
		leg("Est. cycles/resume", "the cycle model's estimate per resumption (an estimate from a stated model, not a measurement).")
	}
	if used.native {
		leg("Native ns/resume ± CI95", "wall-clock nanoseconds per resumption on this host (shim overhead subtracted): mean ± half-width of the 95% confidence interval of the mean (Student's t, n−1 d.f.). Upper outliers (Tukey fences, above Q3 + 1.5·IQR) are removed first, as BenchmarkDotNet's RemoveUpper; ± ∞ when n < 2.")
		leg("Median ns", "median of the same samples (outliers removed).")
		leg("n", "samples in the figures (after outlier removal).")
	}
	if used.ratioI || used.ratioC || used.ratioN {
		leg("Ratio", fmt.Sprintf("baseline / this strategy, baseline `%s`: above 1 means this strategy is that many times cheaper (6.30 = 6.3x fewer), below 1 more expensive.", baseline))
	}
	if used.ratioN {
		leg("Ratio (native)", fmt.Sprintf("ratio of the medians; in brackets a two-sided Mann–Whitney U test over the raw samples at α=%.2f: faster/slower if p < α (direction by the medians), same otherwise; \"too few samples\" below %d samples per side (such a test can never reach α).", Alpha, MinSamplesUTest))
	}
	if used.regions {
		leg("by region", "instructions per resumption in the tier0 method, the OSR method, the patchpoint helper and the async runtime; they add up to the total.")
	}
	if used.steps {
		leg("helper steps", "instructions per resumption in each step of the patchpoint helper (stub frame, counter, code-range lookup, patchpoint-info lookup, trigger, context capture, virtual unwind, OSR context, restore, worker).")
	}
	b.WriteByte('\n')

	if len(r.Agreement) > 0 {
		leg("Model error", "estimated-cycle ratio / native-time ratio − 1 for the same comparison (emulated and native runs matched on every parameter but the scale ones: n, awaits, calls, iterations); 0% is perfect agreement, +50% means the model overstates the difference by half.")
	}
	if len(hints) > 0 {
		b.WriteString("## Hints\n\n")
		for _, h := range hints {
			b.WriteString("- " + h + "\n")
		}
		b.WriteByte('\n')
	}
	if len(r.Warnings) > 0 {
		b.WriteString("## Warnings\n\n")
		for _, w := range r.Warnings {
			b.WriteString("- " + w + "\n")
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
