package report

import (
	"bytes"
	"encoding/csv"
	"sort"
	"strconv"
)

// CSV renders one row per result with flattened columns: workload,
// strategy, engine, params.<key> (every key of any result, sorted), ops,
// instructions totals, by_region.<key> and by_step.<key> (in r.Breakdown
// order, steps grouped by region; keys it does not declare after, sorted),
// helper calls, OSR entries, suspensions, resumptions, estimated cycles
// and mispredicts, native figures (ns per resume; ci95_lo/hi) and the
// final state. Absent values are empty cells; floats are written in the
// shortest form that round-trips.
func CSV(r *Report) ([]byte, error) {
	keys := func(get func(*Result) Params) []string {
		set := map[string]bool{}
		for i := range r.Results {
			for k := range get(&r.Results[i]) {
				set[k] = true
			}
		}
		out := make([]string, 0, len(set))
		for k := range set {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	present := func(m func(*Instructions) map[string]uint64) map[string]bool {
		set := map[string]bool{}
		for i := range r.Results {
			if in := r.Results[i].Instructions; in != nil {
				for k := range m(in) {
					set[k] = true
				}
			}
		}
		return set
	}
	params := keys(func(res *Result) Params { return res.Params })
	regions := regionKeys(r, present(byRegion))
	steps := stepKeys(r, present(byStep))

	head := []string{"workload", "strategy", "engine"}
	for _, k := range params {
		head = append(head, "params."+k)
	}
	head = append(head, "ops", "instructions_total", "instructions_per_resume")
	for _, k := range regions {
		head = append(head, "by_region."+k)
	}
	for _, k := range steps {
		head = append(head, "by_step."+k)
	}
	head = append(head,
		"helper_calls_patchpoint", "helper_calls_patchpoint_forced",
		"osr_entries_via_helper", "osr_entries_via_jump",
		"suspensions", "resumptions",
		"cycles_total", "cycles_per_resume", "mispredicts_branch", "mispredicts_indirect", "mispredicts_return",
		"native_mean_ns", "native_median_ns", "native_stddev_ns", "native_ci95_lo_ns", "native_ci95_hi_ns",
		"native_n", "native_outliers", "native_outliers_removed", "native_samples",
		"s_value", "ret", "checksum")

	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(head); err != nil {
		return nil, err
	}
	for i := range r.Results {
		res := &r.Results[i]
		row := []string{res.Workload, res.Strategy, res.Engine.String()}
		for _, k := range params {
			if v, ok := res.Params[k]; ok {
				row = append(row, v.String())
			} else {
				row = append(row, "")
			}
		}
		row = append(row, u(res.Ops))
		in := res.Instructions
		if in != nil {
			row = append(row, u(in.Total), f(in.PerResume))
		} else {
			row = append(row, "", "")
		}
		for _, set := range []struct {
			keys []string
			m    func() map[string]uint64
		}{
			{regions, func() map[string]uint64 { return in.ByRegion }},
			{steps, func() map[string]uint64 { return in.ByStep }},
		} {
			for _, k := range set.keys {
				if in == nil {
					row = append(row, "")
				} else if v, ok := set.m()[k]; ok {
					row = append(row, u(v))
				} else {
					row = append(row, "")
				}
			}
		}
		if h := res.HelperCalls; h != nil {
			row = append(row, u(h.Patchpoint), u(h.PatchpointForced))
		} else {
			row = append(row, "", "")
		}
		if o := res.OSREntries; o != nil {
			row = append(row, u(o.ViaHelper), u(o.ViaJump))
		} else {
			row = append(row, "", "")
		}
		row = append(row, u(res.Suspensions), u(res.Resumptions))
		if c := res.CyclesEst; c != nil {
			row = append(row, u(c.Total), f(c.PerResume), u(c.Mispredicts.Branch), u(c.Mispredicts.Indirect), u(c.Mispredicts.Return))
		} else {
			row = append(row, "", "", "", "", "")
		}
		if n := res.Native; n != nil {
			s := nativeStats(n)
			row = append(row, f(s.Mean), f(s.Median), f(s.StdDev), f(s.CI95[0]), f(s.CI95[1]),
				strconv.Itoa(s.N), strconv.Itoa(s.Outliers), strconv.Itoa(s.OutliersRemoved), strconv.Itoa(nativeSampleCount(n)))
		} else {
			row = append(row, "", "", "", "", "", "", "", "", "")
		}
		row = append(row, strconv.FormatUint(uint64(res.FinalState.SValue), 10), u(res.FinalState.Ret), res.FinalState.Checksum)
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}
