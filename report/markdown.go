package report

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/osrsim/osrsim/sim"
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
	Params   Params
	Rows     []*row
}

func tables(r *Report) []*table {
	return groupRows(r, func(res *Result) Params { return res.Params })
}

// points groups r's results by workload and parameter point: results whose
// parameters differ only in the scale ones (which emulated and native runs
// set apart) share a table, unless a sweep varies them. Its Params are the
// point's, without those scale parameters.
func points(r *Report) []*table {
	return groupRows(r, func(res *Result) Params { return pointParams(res.Params, r.Sweeps) })
}

// groupRows groups r's results into tables by workload and the params key
// gives, a row per strategy (merged over engines).
func groupRows(r *Report, key func(*Result) Params) []*table {
	var out []*table
	idx := map[string]*table{}
	for i := range r.Results {
		res := &r.Results[i]
		p := key(res)
		k := res.Workload + "\x00" + ParamsKey(p)
		t := idx[k]
		if t == nil {
			t = &table{Workload: res.Workload, Params: p}
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
			if rw.Counts == nil || (rw.Counts.Engine != sim.Emu && res.Engine == sim.Emu) {
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
	names := nameOrder(r)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Workload != b.Workload {
			return wlIndex[a.Workload] < wlIndex[b.Workload]
		}
		return paramsLess(a.Params, b.Params, r.Sweeps, names)
	})
	return out
}

// nameOrder ranks named parameter values by their first appearance in
// the results, which is the grid's order: a sweep over names keeps the
// config's order.
func nameOrder(r *Report) map[Value]int {
	rank := map[Value]int{}
	for i := range r.Results {
		for _, k := range slices.Sorted(maps.Keys(r.Results[i].Params)) {
			if v := r.Results[i].Params[k]; v.IsName() {
				if _, ok := rank[v]; !ok {
					rank[v] = len(rank)
				}
			}
		}
	}
	return rank
}

// paramsLess orders params maps by the keys in first (in that order),
// then by every other key, sorted; a missing key sorts first. Integers
// compare by value, names by their rank in names.
func paramsLess(a, b Params, first []string, names map[Value]int) bool {
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
			if va.IsName() && vb.IsName() {
				return names[va] < names[vb]
			}
			return va.Less(vb)
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
// strategy), an instructions-per-resume-by-region table and one table of
// steps per region that has them, then the comparisons, a legend, hints on
// outliers and the warnings. It reads r.Comparisons (see Compare) for the
// ratio columns and r.Breakdown for the regions and steps, and does not
// modify r.
func Markdown(r *Report) string {
	var b strings.Builder
	writeHeader(&b, r)
	leg := legend{}
	var hints []string
	cols := summaryColumns(r)
	ts := tables(r)
	for _, t := range ts {
		b.WriteString(strings.TrimSpace("## "+t.Workload+" "+paramsLabel(t.Params)) + "\n\n")
		writeSummary(&b, t, cols, leg)
		writeRegions(&b, r, t)
		writeSteps(&b, r, t)
		hints = append(hints, outlierHints(t)...)
	}
	writeComparisons(&b, r)
	writeAgreement(&b, r, leg)
	breakdownLegend(r, ts, leg)
	leg.write(&b, r, cols)
	writeList(&b, "Hints", hints)
	writeList(&b, "Warnings", r.Warnings)
	return b.String()
}

// writeHeader writes the title, the description and the environment.
func writeHeader(b *strings.Builder, r *Report) {
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
	fmt.Fprintf(b, "osrsim %s, Go %s, libunicorn %s\n", orUnknown(e.Osrsim), orUnknown(e.Go), orUnknown(e.Unicorn))
	fmt.Fprintf(b, "OS: %s\n", orUnknown(e.OS))
	fmt.Fprintf(b, "CPU: %s\n", orUnknown(e.CPU))
	if r.RuntimeModel != "" {
		fmt.Fprintf(b, "Runtime model: %s\n", r.RuntimeModel)
	}
	if bl := baselineOf(r); bl != "" {
		fmt.Fprintf(b, "Baseline: %s\n", bl)
	}
	b.WriteString("```\n\n")
}

// legend collects the entries of the columns tables use.
type legend map[string]string // column name -> text

func (l legend) add(name, text string) { l[name] = text }

// write lists the entries in a fixed order: the summary columns', the
// region table's, the step tables' (by region, in breakdown order), the
// model error's.
func (l legend) write(b *strings.Builder, r *Report, cols []summaryColumn) {
	var order []string
	for _, c := range cols {
		for _, e := range c.legend {
			order = append(order, e[0])
		}
	}
	order = append(order, "by region")
	for _, p := range r.Breakdown {
		order = append(order, p.Name+" steps")
	}
	order = append(order, "steps", "Model error")
	b.WriteString("## Legend\n\n")
	seen := map[string]bool{}
	for _, n := range order {
		if text, ok := l[n]; ok && !seen[n] {
			seen[n] = true
			fmt.Fprintf(b, "- **%s**: %s\n", n, text)
		}
	}
	b.WriteByte('\n')
}

// summaryColumn is one group of columns of the summary table: cells gives
// a row's cells, nil for none ("—" in each); the group is shown when some
// row of the table has cells, or, if set, when has holds for one.
type summaryColumn struct {
	heads  []string
	legend [][2]string // name, text
	has    func(rw *row) bool
	cells  func(rw *row) []string
}

// summaryColumns lists the summary table's column groups in order.
func summaryColumns(r *Report) []summaryColumn {
	baseline := baselineOf(r)
	ratioLegend := [2]string{"Ratio", fmt.Sprintf("baseline / this strategy, baseline `%s`: above 1 means this strategy is that many times cheaper (6.30 = 6.3x fewer), below 1 more expensive.", baseline)}
	ratio := func(head, metric string, res func(*row) *Result, legend ...[2]string) summaryColumn {
		return summaryColumn{
			heads:  []string{head},
			legend: append([][2]string{ratioLegend}, legend...),
			has:    func(rw *row) bool { return findComparison(r, res(rw), metric) != nil },
			cells: func(rw *row) []string {
				switch c := findComparison(r, res(rw), metric); {
				case rw.Strategy == baseline && res(rw) != nil:
					return []string{"1.00 (baseline)"}
				case c == nil:
					return nil
				case metric == MetricNative:
					note := c.Verdict
					if c.PValue != nil {
						note += ", p=" + formatP(*c.PValue)
					}
					return []string{formatRatio(c.Ratio) + " (" + note + ")"}
				default:
					return []string{formatRatio(c.Ratio)}
				}
			},
		}
	}
	return []summaryColumn{
		{
			heads:  []string{"Strategy"},
			legend: [][2]string{{"Strategy", "how tier0 resumes into OSR code: `helper` (forced patchpoint helper transitions), `direct` (tier0 jumps to the OSR entry stored in the continuation), `helper-return` (as direct; the normal helper returns the target address)."}},
			cells:  func(rw *row) []string { return []string{mdEscape(rw.Strategy)} },
		},
		{
			heads:  []string{"Instr/resume"},
			legend: [][2]string{{"Instr/resume", "emulated instructions per resumption (per call for `reentry`). Exact and deterministic under the same libunicorn: compare directly, no statistics needed."}},
			cells: func(rw *row) []string {
				if rw.Instr == nil {
					return nil
				}
				return []string{FormatFloat(rw.Instr.Instructions.PerResume)}
			},
		},
		{
			heads:  []string{"Helper calls (normal/forced)"},
			legend: [][2]string{{"Helper calls (normal/forced)", "total calls of the patchpoint helper from patchpoint counters / forced calls on resumption."}},
			cells: func(rw *row) []string {
				if rw.Counts == nil || rw.Counts.HelperCalls == nil {
					return nil
				}
				h := rw.Counts.HelperCalls
				return []string{FormatInt(h.Patchpoint) + " / " + FormatInt(h.PatchpointForced)}
			},
		},
		{
			heads:  []string{"OSR entries (helper/jump)"},
			legend: [][2]string{{"OSR entries (helper/jump)", "total entries into OSR code through the helper's transition / by a direct jump."}},
			cells: func(rw *row) []string {
				if rw.Counts == nil || rw.Counts.OSREntries == nil {
					return nil
				}
				o := rw.Counts.OSREntries
				return []string{FormatInt(o.ViaHelper) + " / " + FormatInt(o.ViaJump)}
			},
		},
		{
			heads:  []string{"Est. cycles/resume"},
			legend: [][2]string{{"Est. cycles/resume", "the cycle model's estimate per resumption (an estimate from a stated model, not a measurement)."}},
			cells: func(rw *row) []string {
				if rw.Cycles == nil {
					return nil
				}
				return []string{FormatFloat(rw.Cycles.CyclesEst.PerResume)}
			},
		},
		{
			heads: []string{"Native ns/resume ± CI95", "Median ns", "n"},
			legend: [][2]string{
				{"Native ns/resume ± CI95", "wall-clock nanoseconds per resumption on this host (shim overhead subtracted): mean ± half-width of the 95% confidence interval of the mean (Student's t, n−1 d.f.). Upper outliers (Tukey fences, above Q3 + 1.5·IQR) are removed first, as BenchmarkDotNet's RemoveUpper; ± ∞ when n < 2."},
				{"Median ns", "median of the same samples (outliers removed)."},
				{"n", "samples in the figures (after outlier removal)."},
			},
			cells: func(rw *row) []string {
				if rw.Native == nil {
					return nil
				}
				s := nativeStats(rw.Native.Native)
				ci := "± ∞"
				if s.N >= 2 {
					ci = "± " + FormatFloat((s.CI95[1]-s.CI95[0])/2)
				}
				return []string{FormatFloat(s.Mean) + " " + ci, FormatFloat(s.Median), fmt.Sprint(s.N)}
			},
		},
		ratio("Ratio (instr)", MetricInstructions, func(rw *row) *Result { return rw.Instr }),
		ratio("Ratio (cycles)", MetricCycles, func(rw *row) *Result { return rw.Cycles }),
		ratio("Ratio (native)", MetricNative, func(rw *row) *Result { return rw.Native },
			[2]string{"Ratio (native)", fmt.Sprintf("ratio of the medians; in brackets a two-sided Mann–Whitney U test over the raw samples at α=%.2f: faster/slower if p < α (direction by the medians), same otherwise; \"too few samples\" below %d samples per side (such a test can never reach α).", Alpha, MinSamplesUTest)}),
	}
}

// writeSummary writes the table's summary: the column groups some row has.
func writeSummary(b *strings.Builder, t *table, cols []summaryColumn, leg legend) {
	var shown []summaryColumn
	for _, c := range cols {
		for _, rw := range t.Rows {
			if c.has != nil && c.has(rw) || c.has == nil && c.cells(rw) != nil {
				shown = append(shown, c)
				break
			}
		}
	}
	var mt mdTable
	for i, c := range shown {
		for _, h := range c.heads {
			mt.col(h, i > 0)
		}
		for _, l := range c.legend {
			leg.add(l[0], l[1])
		}
	}
	for _, rw := range t.Rows {
		var cells []string
		for _, c := range shown {
			cs := c.cells(rw)
			if cs == nil {
				cs = dashes(len(c.heads))
			}
			cells = append(cells, cs...)
		}
		mt.rows = append(mt.rows, cells)
	}
	mt.write(b)
}

func dashes(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "—"
	}
	return out
}

// writeRegions writes instructions per resume by region, in breakdown
// order, with the total.
func writeRegions(b *strings.Builder, r *Report, t *table) {
	if present := t.keys(byRegion); len(present) > 0 {
		b.WriteString("Instructions per resume by region:\n\n")
		writeBreakdown(b, t, regionKeys(r, present), byRegion, true)
	}
}

// writeSteps writes one table per region whose steps the table's rows
// count, steps in the order the region's generator declared them.
func writeSteps(b *strings.Builder, r *Report, t *table) {
	for _, g := range stepGroups(r, t.keys(byStep)) {
		if g.Region.Name == "" {
			b.WriteString("Steps, instructions per resume:\n\n")
		} else {
			fmt.Fprintf(b, "Steps of %s, instructions per resume:\n\n", partDoc(r.Breakdown, g.Region.Name))
		}
		writeBreakdown(b, t, g.Keys, byStep, false)
	}
}

// writeBreakdown writes instructions per resume under each key of m, a row
// per strategy with instructions ("—" where m has no breakdown), and the
// total if asked.
func writeBreakdown(b *strings.Builder, t *table, keys []string, m func(*Instructions) map[string]uint64, total bool) {
	var bt mdTable
	bt.col("Strategy", false)
	for _, k := range keys {
		bt.col(mdEscape(k), true)
	}
	if total {
		bt.col("total", true)
	}
	for _, rw := range t.Rows {
		if rw.Instr == nil {
			continue
		}
		in := rw.Instr.Instructions
		cells := []string{mdEscape(rw.Strategy)}
		for _, k := range keys {
			if m(in) == nil {
				cells = append(cells, "—")
			} else {
				cells = append(cells, perOp(rw.Instr, m(in)[k]))
			}
		}
		if total {
			cells = append(cells, FormatFloat(in.PerResume))
		}
		bt.rows = append(bt.rows, cells)
	}
	bt.write(b)
}

// breakdownLegend explains the region and step columns of every table,
// from what the breakdown says about each.
func breakdownLegend(r *Report, ts []*table, leg legend) {
	regions, steps := presentKeys(ts)
	if len(regions) > 0 {
		var docs []string
		for _, k := range regionKeys(r, regions) {
			docs = append(docs, partDoc(r.Breakdown, k))
		}
		leg.add("by region", "instructions per resumption in "+joinAnd(docs)+"; they add up to the total.")
	}
	for _, g := range stepGroups(r, steps) {
		var items []string
		for _, k := range g.Keys {
			if d := stepDoc(r, k); d != "" {
				items = append(items, "`"+k+"` "+d)
			} else {
				items = append(items, "`"+k+"`")
			}
		}
		if g.Region.Name == "" {
			leg.add("steps", "instructions per resumption in each step: "+strings.Join(items, ", ")+".")
		} else {
			leg.add(g.Region.Name+" steps", "instructions per resumption in each step of "+partDoc(r.Breakdown, g.Region.Name)+": "+strings.Join(items, "; ")+".")
		}
	}
}

// partDoc is what the breakdown says about region name, else the name.
func partDoc(parts []Part, name string) string {
	if i := partIndex(parts, name); i >= 0 && parts[i].Doc != "" {
		return parts[i].Doc
	}
	return "`" + name + "`"
}

// joinAnd joins "a", "b" and "c" as "a, b and c".
func joinAnd(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// outlierHints notes native rows whose samples had outliers.
func outlierHints(t *table) []string {
	var hints []string
	for _, rw := range t.Rows {
		if rw.Native == nil {
			continue
		}
		if s := nativeStats(rw.Native.Native); s.Outliers > 0 {
			hints = append(hints, fmt.Sprintf("%s %s %s: %d outlier(s) detected, %d upper removed (%d samples kept of %d)",
				t.Workload, paramsLabel(t.Params), rw.Strategy, s.Outliers, s.OutliersRemoved, s.N, nativeSampleCount(rw.Native.Native)))
		}
	}
	return hints
}

// writeComparisons lists every comparison, by parameter point.
func writeComparisons(b *strings.Builder, r *Report) {
	if len(r.Comparisons) == 0 {
		return
	}
	b.WriteString("## Comparisons\n\n")
	point := func(c Comparison) (string, Params) { return c.Workload, c.Params }
	writeByPoint(b, r.Comparisons, point, func(b *strings.Builder, cs []Comparison) {
		var ct mdTable
		for _, h := range []string{"Engine", "Metric", "Baseline", "Candidate"} {
			ct.col(h, false)
		}
		ct.col("Ratio", true)
		ct.col("p", true)
		ct.col("n", true)
		ct.col("Verdict", false)
		for _, c := range cs {
			p, n := "", ""
			if c.PValue != nil {
				p = formatP(*c.PValue)
			}
			if c.BaselineN+c.CandidateN > 0 {
				n = fmt.Sprintf("%d+%d", c.BaselineN, c.CandidateN)
			}
			ct.rows = append(ct.rows, []string{c.Engine.String(), c.Metric, mdEscape(c.Baseline), mdEscape(c.Candidate),
				formatRatio(c.Ratio), p, n, c.Verdict})
		}
		ct.write(b)
	})
}

// writeAgreement sets the cycle model's ratios beside the native ones, by
// parameter point.
func writeAgreement(b *strings.Builder, r *Report, leg legend) {
	if len(r.Agreement) == 0 {
		return
	}
	b.WriteString("## Cycle model vs native time\n\n")
	point := func(a Agreement) (string, Params) { return a.Workload, a.Params }
	writeByPoint(b, r.Agreement, point, func(b *strings.Builder, as []Agreement) {
		var at mdTable
		for _, h := range []string{"Model", "Baseline", "Candidate"} {
			at.col(h, false)
		}
		for _, h := range []string{"Est. cycles ratio", "Native ratio", "Model error"} {
			at.col(h, true)
		}
		for _, a := range as {
			at.rows = append(at.rows, []string{mdEscape(a.Model), mdEscape(a.Baseline), mdEscape(a.Candidate),
				formatRatio(a.CyclesRatio), formatRatio(a.NativeRatio), fmt.Sprintf("%+.0f%%", 100*a.Error)})
		}
		at.write(b)
	})
	leg.add("Model error", "estimated-cycle ratio / native-time ratio − 1 for the same comparison (emulated and native runs matched on every parameter but the scale ones: n, awaits, calls, iterations); 0% is perfect agreement, +50% means the model overstates the difference by half.")
}

// writeByPoint groups items by parameter point (workload and parameters,
// in order of first appearance) and writes each group under a heading
// that names its point once: the parameters every point shares in a line
// above the first heading, each heading the workload and the rest.
func writeByPoint[T any](b *strings.Builder, items []T, point func(T) (string, Params), write func(*strings.Builder, []T)) {
	type group struct {
		workload string
		params   Params
		items    []T
	}
	var gs []*group
	idx := map[string]*group{}
	for _, it := range items {
		w, p := point(it)
		k := w + "\x00" + ParamsKey(p)
		if idx[k] == nil {
			idx[k] = &group{workload: w, params: p}
			gs = append(gs, idx[k])
		}
		idx[k].items = append(idx[k].items, it)
	}
	var common Params
	if len(gs) > 1 {
		common = merged(gs[0].params, nil)
		for _, g := range gs[1:] {
			for k, v := range common {
				if w, ok := g.params[k]; !ok || w != v {
					delete(common, k)
				}
			}
		}
		if len(common) > 0 {
			b.WriteString("Every point below has " + strings.ReplaceAll(ParamsKey(common), ",", ", ") + ".\n\n")
		}
	}
	for _, g := range gs {
		b.WriteString(strings.TrimSpace("### "+mdEscape(g.workload)+" "+paramsLabel(without(g.params, common))) + "\n\n")
		write(b, g.items)
	}
}

// writeList writes a section of bullet points, if there are any.
func writeList(b *strings.Builder, title string, items []string) {
	if len(items) == 0 {
		return
	}
	b.WriteString("## " + title + "\n\n")
	for _, it := range items {
		b.WriteString("- " + it + "\n")
	}
	b.WriteByte('\n')
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
