package experiments

import (
	"github.com/osrsim/osrsim/report"
	"github.com/osrsim/osrsim/workload"
)

// ParamNames lists the parameters a workload kind accepts in the config
// (under workloads.<kind> and its emulation overrides), in report order;
// nil for an unknown kind. Shared parameters (patchpoint.*) are not
// included.
func ParamNames(kind string) []string {
	var names []string
	for _, q := range workload.ParamsOf(kind) {
		names = append(names, q.Name)
	}
	return names
}

// Flatten turns workload parameters into the params map of a report
// result: the parameters its workload has and every shared parameter
// (patchpoint.initial_counter, ..., platform and runtime.model by name); a
// C# workload's are its program's. For an unknown workload every
// parameter is included.
func Flatten(p workload.Params) report.Params {
	m := report.Params{}
	for i := range keys {
		k := &keys[i]
		if !k.sweepable() {
			continue
		}
		if k.has(p.Workload) || (workload.ParamsOf(p.Workload) == nil && p.Source == nil) {
			m[k.Name] = k.valueOf(&p)
		}
	}
	if p.Source != nil {
		for _, q := range p.Own() {
			m[q.Name] = report.Int(int64(*q.Field(&p)))
		}
	}
	return m
}
