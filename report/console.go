package report

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/osrsim/osrsim/internal/texttable"
	"github.com/osrsim/osrsim/sim"
)

// ConsoleWidth is the width Console wraps its prose and headings to.
const ConsoleWidth = 80

// maxConsoleWarnings is how many warnings Console prints; report.md has all.
const maxConsoleWarnings = 3

// Console renders the report for a terminal, in the spirit of
// BenchmarkDotNet's console summary: the experiment and the environment,
// then per workload and parameter point one compact table (a row per
// strategy: instructions, estimated cycles and native time per resume,
// each with its ratio to the baseline strategy, native ratios with their
// verdict) under a heading that names the point's parameters once, a
// short legend and the first warnings. report.md (Markdown) has the rest:
// breakdowns, comparisons, hints. Console reads r.Comparisons (see
// Compare) and does not modify r.
func Console(r *Report) string {
	var b strings.Builder
	title := orUnknown(r.Experiment)
	if r.Description != "" {
		title += ": " + r.Description
	}
	writeWrapped(&b, title, "", "")
	e := r.Env
	writeWrapped(&b, fmt.Sprintf("osrsim %s, Go %s, libunicorn %s; %s", orUnknown(e.Osrsim), orUnknown(e.Go), orUnknown(e.Unicorn), orUnknown(e.CPU)), "", "")
	shown := writeConsoleTables(&b, r)
	b.WriteByte('\n')
	writeWrapped(&b, consoleLegend(r, shown), "", "")
	if len(r.Warnings) > 0 {
		b.WriteByte('\n')
	}
	for i, w := range r.Warnings {
		if i == maxConsoleWarnings {
			fmt.Fprintf(&b, "(and %d more warnings in report.md)\n", len(r.Warnings)-i)
			break
		}
		writeWrapped(&b, w, "warning: ", "  ")
	}
	return b.String()
}

// writeConsoleTables writes a table per parameter point, each under its
// heading; a workload with several points first gets a line of the
// parameters they share. It returns the heads of the figures shown.
func writeConsoleTables(b *strings.Builder, r *Report) (shown map[string]bool) {
	pts := points(r)
	shown = map[string]bool{}
	var common Params // the parameters every point of this workload shares
	for i, t := range pts {
		if i == 0 || pts[i-1].Workload != t.Workload {
			common = nil
			if countPoints(pts, t.Workload) > 1 {
				common = commonParams(pts, t.Workload)
			}
			if len(common) > 0 {
				b.WriteByte('\n')
				writeParams(b, t.Workload+", every point:", common, nil)
			}
		}
		h := pointHeading(t)
		b.WriteByte('\n')
		writeParams(b, t.Workload, without(h.params, common), h.scales)
		texttable.Write(b, "", consoleTable(r, t, shown), "lrrrrrr")
	}
	return shown
}

// consoleLegend explains the figures shown and the ratios.
func consoleLegend(r *Report, shown map[string]bool) string {
	legend := "Per resumption (per call for reentry)."
	for _, c := range consoleColumns {
		if shown[c.head] {
			legend += " " + c.head + ": " + c.legend + "."
		}
	}
	if bl := baselineOf(r); bl != "" {
		legend += fmt.Sprintf(" Ratio: %s / this strategy (2.00: half the cost)", bl)
		if shown[nativeHead] {
			legend += fmt.Sprintf("; native verdicts from a Mann–Whitney U test at α=%.2f (~: no significant difference; too few: under %d samples a side)", Alpha, MinSamplesUTest)
		}
		legend += "."
	}
	return legend
}

// heading is what names a point: its parameters, and the scale
// parameters of each engine where the engines ran at different scales.
type heading struct {
	params Params
	scales []scale
}

// scale is the scale parameters one engine's results of a point ran at.
type scale struct {
	engine sim.Engine
	params Params
}

// pointHeading gathers a point's parameters: the scale parameters every
// engine ran at with the same value join the point's own.
func pointHeading(t *table) heading {
	byEngine := map[sim.Engine]Params{}
	for _, rw := range t.Rows {
		for _, res := range []*Result{rw.Instr, rw.Cycles, rw.Counts, rw.Native} {
			if res != nil && byEngine[res.Engine] == nil {
				byEngine[res.Engine] = without(res.Params, t.Params)
			}
		}
	}
	var engines []sim.Engine
	for e := range byEngine {
		engines = append(engines, e)
	}
	sort.Slice(engines, func(i, j int) bool { return engines[i] < engines[j] })
	h := heading{params: merged(t.Params, nil)}
	if len(engines) == 0 {
		return h
	}
	for k, v := range byEngine[engines[0]] {
		same := true
		for _, e := range engines[1:] {
			w, ok := byEngine[e][k]
			same = same && ok && w == v
		}
		if same {
			h.params[k] = v
		}
	}
	for _, e := range engines {
		if rest := without(byEngine[e], h.params); len(rest) > 0 {
			h.scales = append(h.scales, scale{e, rest})
		}
	}
	return h
}

// countPoints is how many of pts are of workload.
func countPoints(pts []*table, workload string) int {
	n := 0
	for _, t := range pts {
		if t.Workload == workload {
			n++
		}
	}
	return n
}

// commonParams are the parameters (pointHeading's) with one value in
// every point of a workload: all of them when it has one point.
func commonParams(pts []*table, workload string) Params {
	var hs []heading
	for _, t := range pts {
		if t.Workload == workload {
			hs = append(hs, pointHeading(t))
		}
	}
	if len(hs) == 0 {
		return nil
	}
	common := merged(hs[0].params, nil)
	for _, h := range hs[1:] {
		for k, v := range common {
			if w, ok := h.params[k]; !ok || w != v {
				delete(common, k)
			}
		}
	}
	return common
}

// writeParams writes a heading: the name, the parameters and each
// engine's scale, wrapped, continuation lines under the first parameter.
func writeParams(b *strings.Builder, name string, params Params, scales []scale) {
	indent := strings.Repeat(" ", texttable.Width(name)+1)
	writeWrapped(b, strings.TrimSpace(name+" "+strings.ReplaceAll(ParamsKey(params), ",", " ")), "", indent)
	var ss []string
	for _, s := range scales {
		ss = append(ss, s.engine.String()+": "+strings.ReplaceAll(ParamsKey(s.params), ",", " "))
	}
	if len(ss) > 0 {
		writeWrapped(b, strings.Join(ss, "; "), indent, indent)
	}
}

// without is a copy of p without the keys of q.
func without(p, q Params) Params {
	m := Params{}
	for k, v := range p {
		if _, ok := q[k]; !ok {
			m[k] = v
		}
	}
	return m
}

func merged(a, b Params) Params {
	m := Params{}
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return m
}

// consoleColumn is a figure of Console's tables: its value in a row's
// result, followed by a Ratio column when the report has comparisons.
type consoleColumn struct {
	head, legend string
	metric       string
	result       func(rw *row) *Result // nil when the row has no such figure
	value        func(res *Result) string
}

const nativeHead = "Native ns"

// consoleColumns are the figures of Console's tables, in order.
var consoleColumns = []consoleColumn{
	{"Instr", "emulated instructions, exact", MetricInstructions, func(rw *row) *Result { return rw.Instr },
		func(res *Result) string { return FormatFloat(res.Instructions.PerResume) }},
	{"Est. cycles", "the cycle model's estimate", MetricCycles, func(rw *row) *Result { return rw.Cycles },
		func(res *Result) string { return FormatFloat(res.CyclesEst.PerResume) }},
	{nativeHead, "wall clock, mean ± 95% CI", MetricNative, func(rw *row) *Result { return rw.Native },
		func(res *Result) string {
			s := nativeStats(res.Native)
			ci := "± ∞"
			if s.N >= 2 {
				ci = "± " + FormatFloat((s.CI95[1]-s.CI95[0])/2)
			}
			return FormatFloat(s.Mean) + " " + ci
		}},
}

// consoleRatio is a result's ratio to the baseline strategy in metric, a
// native one with its verdict.
func consoleRatio(r *Report, baseline, metric string, res *Result) string {
	if res.Strategy == baseline {
		return "1.00"
	}
	cmp := findComparison(r, res, metric)
	switch {
	case cmp == nil:
		return "—"
	case metric != MetricNative || cmp.Verdict == "":
		return formatRatio(cmp.Ratio)
	}
	return formatRatio(cmp.Ratio) + " " + shortVerdicts[cmp.Verdict]
}

// shortVerdicts are the native verdicts as Console's ratios show them.
var shortVerdicts = map[string]string{VerdictFaster: "faster", VerdictSlower: "slower", VerdictSame: "~",
	VerdictTooFew: "too few", VerdictNoResult: "untested"}

// consoleTable lays out a point's table, a rule under the heads: the
// strategy, then each figure some row has (added to shown by head), with
// its ratio when the report has a baseline.
func consoleTable(r *Report, t *table, shown map[string]bool) [][]string {
	baseline := baselineOf(r)
	head := []string{"Strategy"}
	var cols []consoleColumn
	for _, c := range consoleColumns {
		if slices.ContainsFunc(t.Rows, func(rw *row) bool { return c.result(rw) != nil }) {
			cols = append(cols, c)
			shown[c.head] = true
			head = append(head, c.head)
			if baseline != "" {
				head = append(head, "Ratio")
			}
		}
	}
	out := [][]string{head, nil}
	for _, rw := range t.Rows {
		cells := []string{rw.Strategy}
		for _, c := range cols {
			res := c.result(rw)
			switch {
			case res == nil && baseline != "":
				cells = append(cells, "—", "—")
			case res == nil:
				cells = append(cells, "—")
			case baseline != "":
				cells = append(cells, c.value(res), consoleRatio(r, baseline, c.metric, res))
			default:
				cells = append(cells, c.value(res))
			}
		}
		out = append(out, cells)
	}
	return out
}

// writeWrapped writes text wrapped at ConsoleWidth on spaces: the first
// line starts with first, the others with rest.
func writeWrapped(b *strings.Builder, text, first, rest string) {
	line := first
	empty := true
	for _, w := range strings.Fields(text) {
		if !empty && texttable.Width(line+" "+w) > ConsoleWidth {
			b.WriteString(line + "\n")
			line, empty = rest, true
		}
		if !empty {
			line += " "
		}
		line += w
		empty = false
	}
	b.WriteString(line + "\n")
}
