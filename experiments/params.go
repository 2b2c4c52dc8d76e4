package experiments

import (
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
// (patchpoint.initial_counter, ...); a C# workload's are its program's.
// For an unknown workload every parameter is included.
func Flatten(p workload.Params) map[string]int64 {
	m := map[string]int64{}
	for _, k := range keys {
		if k.field == nil {
			continue
		}
		if k.has(p.Workload) || (workload.ParamsOf(p.Workload) == nil && p.Source == nil) {
			m[k.Name] = int64(*k.field(&p))
		}
	}
	if p.Source != nil {
		for _, q := range p.Own() {
			m[q.Name] = int64(*q.Field(&p))
		}
	}
	return m
}
