package experiments

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/osrsim/osrsim/csharp"
	"github.com/osrsim/osrsim/patchpoint"
	"github.com/osrsim/osrsim/workload"
)

// Workloads written in C#: `workloads: { my-bench: { source: bench.cs } }`
// (the path relative to the config). Their parameters are the program's
// (its entry method's int parameters and its const int fields, by name),
// so their keys are made from the program rather than read from the table;
// everything else (emulation overrides, --set, sweeps) treats them like
// the built-in kinds' parameters.

// sourceKey is the key of a workload that names its C# source.
const sourceKey = "source"

// paramKeyFor finds the key of parameter name for workload p: a shared
// parameter, or one of p's own (the table's for a built-in kind, made from
// the program for a C# workload).
func paramKeyFor(p workload.Params, name string) *Key {
	k := lookupKey(name)
	if k != nil && k.Scope == Shared {
		return k
	}
	if p.Source == nil {
		if k != nil && k.Scope == Param && k.has(p.Workload) {
			return k
		}
		return nil
	}
	for _, q := range p.Own() {
		if q.Name == name {
			k := paramKey(q, []string{p.Workload})
			return &k
		}
	}
	return nil
}

// ownKeyFor is paramKeyFor restricted to a workload's own parameters (what
// emulation overrides and emulation.<param> may set).
func ownKeyFor(p workload.Params, name string) *Key {
	if k := paramKeyFor(p, name); k != nil && k.Scope == Param {
		return k
	}
	return nil
}

// ownKeys are the keys of a workload's own parameters, in report order.
func ownKeys(p workload.Params) []*Key {
	var out []*Key
	for _, q := range p.Own() {
		out = append(out, ownKeyFor(p, q.Name))
	}
	return out
}

// paramNames lists a workload's own parameters.
func paramNames(p workload.Params) []string {
	var names []string
	for _, q := range p.Own() {
		names = append(names, q.Name)
	}
	return names
}

// sourceWorkload resolves a workload that names its C# source: the
// program's parameters at Main's values, then the shared parameters.
func (p *parser) sourceWorkload(g kv, path string, src *yaml.Node) (workload.Params, bool) {
	name := g.key
	if slices.Contains(workload.Kinds, name) {
		p.errorf(g.k.Line, path, "%s is a built-in workload; give the C# workload another name", name)
		return workload.Params{}, false
	}
	file, err := node{src}.str("a path to a C# file")
	if err != nil {
		p.fail(src.Line, join(path, sourceKey), err)
		return workload.Params{}, false
	}
	if !filepath.IsAbs(file) {
		file = filepath.Join(p.dir, file)
	}
	prog, err := csharp.Load(file)
	if err != nil {
		p.errorf(src.Line, join(path, sourceKey), "%v", err)
		return workload.Params{}, false
	}
	return workload.FromSource(name, prog), true
}

// ParseRecorded parses a config recorded in a report or baseline
// (Experiment.Resolved): its C# sources are paths as they were loaded,
// relative to the working directory rather than to the record.
func ParseRecorded(name string, data []byte) (*Experiment, error) {
	return parse(&parser{file: name}, data)
}

// SourceEmulationCap is the largest value a parameter of a C# file run on
// its own takes on the emulation scale: twice the iteration at which the
// default patchpoint settings publish OSR code (20,000, the default
// experiment's emulated loop count), so every loop that reaches OSR
// natively still reaches it emulated. Counts inside a measured region are
// linear in the resumptions, so per-resume figures do not depend on it.
var SourceEmulationCap = 2 * patchpoint.Defaults().OSRIteration()

// FromSource is the experiment `osrsim run bench.cs` runs: the default
// settings with one workload, the C# program at Main's values natively
// and with each parameter capped at SourceEmulationCap emulated (--set
// emulation.<param>=V sets another emulation value).
func FromSource(path string) (*Experiment, error) {
	prog, err := csharp.Load(path)
	if err != nil {
		return nil, err
	}
	name := SourceName(path)
	e := defaults(path)
	e.Name = name
	e.Description = "C# workload " + filepath.Base(path)
	e.Baseline = e.Strategies[0]
	w := workload.FromSource(name, prog)
	emu := w
	emu.Values = make([]int, len(w.Values))
	for i, v := range w.Values {
		emu.Values[i] = min(v, SourceEmulationCap)
	}
	e.Workloads = []Workload{{Kind: name, Native: w, Emu: emu}}
	if err := w.Validate(); err != nil {
		return nil, &Error{File: path, Msg: err.Error()}
	}
	return e, nil
}

var notName = regexp.MustCompile(`[^a-z0-9._-]+`)

// SourceName is the experiment and workload name of a C# file run on its
// own: its base name, lower-cased, without .cs.
func SourceName(path string) string {
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	name := strings.Trim(notName.ReplaceAllString(strings.ToLower(base), "-"), "-.")
	if name == "" {
		name = "csharp"
	}
	return name
}

// sourceBody returns the source entry of a workload's body, if any.
func sourceBody(n *yaml.Node) *yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if deref(n.Content[i]).Value == sourceKey {
			return deref(n.Content[i+1])
		}
	}
	return nil
}
