package experiments

import (
	"sort"
	"strings"

	"github.com/osrsim/osrsim/workload"
)

// field is one integer knob of workload.Params, by its config name.
type field struct {
	name  string   // "n", "patchpoint.hit_limit", ...
	kinds []string // workloads that have it; nil: every workload (patchpoint.*)
	ptr   func(p *workload.Params) *int
}

// fields lists every knob in report order (the order of Flatten's doc).
var fields = []field{
	{"n", []string{workload.AwaitLoop}, func(p *workload.Params) *int { return &p.N }},
	{"awaits", []string{workload.AwaitLoop}, func(p *workload.Params) *int { return &p.Awaits }},
	{"live_locals", []string{workload.AwaitLoop}, func(p *workload.Params) *int { return &p.LiveLocals }},
	{"extra_frame", []string{workload.AwaitLoop, workload.Reentry}, func(p *workload.Params) *int { return &p.ExtraFrame }},
	{"calls", []string{workload.Reentry}, func(p *workload.Params) *int { return &p.Calls }},
	{"iterations", []string{workload.Reentry}, func(p *workload.Params) *int { return &p.Iterations }},
	{"patchpoint.initial_counter", nil, func(p *workload.Params) *int { return &p.Patchpoint.InitialCounter }},
	{"patchpoint.counter_bump", nil, func(p *workload.Params) *int { return &p.Patchpoint.CounterBump }},
	{"patchpoint.hit_limit", nil, func(p *workload.Params) *int { return &p.Patchpoint.HitLimit }},
	{"patchpoint.methods", nil, func(p *workload.Params) *int { return &p.Patchpoint.Methods }},
}

const ppPrefix = "patchpoint."

func lookupField(name string) (field, bool) {
	for _, f := range fields {
		if f.name == name {
			return f, true
		}
	}
	return field{}, false
}

func (f field) has(kind string) bool {
	if f.kinds == nil {
		return true
	}
	for _, k := range f.kinds {
		if k == kind {
			return true
		}
	}
	return false
}

// isWorkloadParam reports whether name is a workload parameter (not a
// patchpoint field) of any workload.
func isWorkloadParam(name string) bool {
	f, ok := lookupField(name)
	return ok && f.kinds != nil
}

// ParamNames lists the parameters a workload kind accepts in the config
// (under workloads.<kind> and its emulation overrides), in report order;
// nil for an unknown kind. Patchpoint fields are not included.
func ParamNames(kind string) []string {
	if !knownKind(kind) {
		return nil
	}
	var names []string
	for _, f := range fields {
		if f.kinds != nil && f.has(kind) {
			names = append(names, f.name)
		}
	}
	return names
}

// patchpointNames lists the fields of the patchpoint section.
func patchpointNames() []string {
	var names []string
	for _, f := range fields {
		if f.kinds == nil {
			names = append(names, strings.TrimPrefix(f.name, ppPrefix))
		}
	}
	return names
}

func knownKind(kind string) bool {
	for _, k := range workload.Kinds {
		if k == kind {
			return true
		}
	}
	return false
}

// Flatten turns workload parameters into the params map of a report
// result: the parameters its workload has (await-loop: n, awaits,
// live_locals, extra_frame; reentry: calls, iterations, extra_frame) and
// every patchpoint setting as patchpoint.initial_counter,
// patchpoint.counter_bump, patchpoint.hit_limit, patchpoint.methods. For an
// unknown workload every parameter is included.
func Flatten(p workload.Params) map[string]int64 {
	m := make(map[string]int64, len(fields))
	known := knownKind(p.Workload)
	for _, f := range fields {
		if !known || f.has(p.Workload) {
			m[f.name] = int64(*f.ptr(&p))
		}
	}
	return m
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
