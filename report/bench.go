package report

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"

	"golang.org/x/perf/benchfmt"
)

// Units of report.bench. Emulated figures are exact (benchstat's
// assume=exact: no statistics, n=1 is enough); native time is sampled.
const (
	BenchUnitInstructions = "instr/resume"
	BenchUnitCycles       = "est-cycles/resume"
	BenchUnitNative       = "ns/resume"
)

// Bench renders the report in Go's benchmark format (report.bench), so that
// benchstat and benchmark dashboards read osrsim's results directly:
//
//	Unit instr/resume assume=exact
//	experiment: seed
//	live_locals: 0
//	...
//	BenchmarkAwaitLoop/strategy=direct 1 157 instr/resume 41.69 est-cycles/resume 13.1 ns/resume
//
// Per workload and parameter point (as Console's tables), each strategy
// gets one line per native sample, or one line without native results,
// carrying the emulated figures per resumption (per call for reentry)
// and the sample. The name is the workload in CamelCase, the strategy and
// the parameters that vary between the workload's points; the parameters
// every point shares, the scale each engine ran at where they differ
// (emu.n, native.n), the cycle model and the environment are
// configuration lines.
func Bench(r *Report) ([]byte, error) {
	var buf bytes.Buffer
	w := benchfmt.NewWriter(&buf)
	for _, u := range []string{BenchUnitInstructions, BenchUnitCycles} {
		if err := w.Write(&benchfmt.UnitMetadata{UnitMetadataKey: benchfmt.UnitMetadataKey{Unit: u, Key: "assume"}, OrigUnit: u, Value: "exact"}); err != nil {
			return nil, err
		}
	}
	env := [][2]string{{"experiment", r.Experiment}, {"osrsim", r.Env.Osrsim}, {"go", r.Env.Go},
		{"libunicorn", r.Env.Unicorn}, {"os", r.Env.OS}, {"cpu", r.Env.CPU}}
	pts := points(r)
	for _, t := range pts {
		common := commonParams(pts, t.Workload)
		h := pointHeading(t)
		var config []benchfmt.Config
		set := func(k, v string) {
			if v != "" {
				config = append(config, benchfmt.Config{Key: k, Value: []byte(v), File: true})
			}
		}
		for _, kv := range env {
			set(kv[0], kv[1])
		}
		for _, rw := range t.Rows {
			if rw.Cycles != nil {
				set("cycle-model", rw.Cycles.CyclesEst.Model)
				break
			}
		}
		for _, k := range slices.Sorted(maps.Keys(common)) {
			set(k, common[k].String())
		}
		for _, s := range h.scales {
			for _, k := range slices.Sorted(maps.Keys(s.params)) {
				set(s.engine.String()+"."+k, s.params[k].String())
			}
		}
		res := &benchfmt.Result{Config: config, Iters: 1}
		varying := without(h.params, common)
		for _, rw := range t.Rows {
			name := benchName(t.Workload) + "/strategy=" + rw.Strategy
			for _, k := range slices.Sorted(maps.Keys(varying)) {
				name += "/" + k + "=" + varying[k].String()
			}
			res.Name = benchfmt.Name(name)
			var exact []benchfmt.Value
			if rw.Instr != nil {
				exact = append(exact, benchfmt.Value{Value: rw.Instr.Instructions.PerResume, Unit: BenchUnitInstructions})
			}
			if rw.Cycles != nil {
				exact = append(exact, benchfmt.Value{Value: rw.Cycles.CyclesEst.PerResume, Unit: BenchUnitCycles})
			}
			for _, vs := range benchLines(exact, rw.Native) {
				res.Values = vs
				if err := w.Write(res); err != nil {
					return nil, fmt.Errorf("report: report.bench: %w", err)
				}
			}
		}
	}
	return buf.Bytes(), nil
}

// benchLines are the values of a row's lines: the exact ones with each
// native sample (ns per resume: the raw samples, else the summary's
// median), or alone without native figures.
func benchLines(exact []benchfmt.Value, native *Result) [][]benchfmt.Value {
	var samples []float64
	switch {
	case native == nil:
	case len(native.Native.SamplesNs) > 0:
		samples = native.Native.SamplesNs
	case native.Native.NsPerResume.N > 0:
		samples = []float64{native.Native.NsPerResume.Median}
	}
	if len(samples) == 0 {
		if len(exact) == 0 {
			return nil
		}
		return [][]benchfmt.Value{exact}
	}
	var lines [][]benchfmt.Value
	for _, ns := range samples {
		lines = append(lines, append(slices.Clone(exact), benchfmt.Value{Value: ns, Unit: BenchUnitNative}))
	}
	return lines
}

// benchName is a workload's name as a benchmark's: "await-loop" →
// "AwaitLoop".
func benchName(workload string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(workload, func(r rune) bool { return r == '-' || r == '_' || r == ' ' || r == '/' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}
