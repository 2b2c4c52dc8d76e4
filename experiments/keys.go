package experiments

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/osrsim/osrsim/continuation"
	"github.com/osrsim/osrsim/internal/bounds"
	"github.com/osrsim/osrsim/internal/enum"
	"github.com/osrsim/osrsim/patchpoint"
	"github.com/osrsim/osrsim/report"
	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/workload"
)

// Key is one leaf of the config format: a key that holds a value, written
// dotted (native.launches is `launches:` under `native:`). The table of
// keys is the one place that knows what each accepts, what it sets and
// what it means; the YAML parser, Set (--set) and the key reference in
// README.md (Reference) all read it.
type Key struct {
	Name  string // dotted path; a workload parameter's plain name ("n")
	Doc   string // one line for README.md
	Type  Type
	Scope Scope
	// Kinds lists the workloads a Param key belongs to.
	Kinds []string
	// Required keys must be in every config.
	Required bool
	// FileOnly keys are not accepted by --set.
	FileOnly bool
	// Default describes the value a config that leaves the key out gets;
	// "" for the zero value of the type, "required" for Required keys.
	Default string

	run       func(*Experiment, raw) error      // Run keys: check and set
	show      func(*Experiment) string          // Run keys: the value as a config writes it
	param     func(*workload.Params, raw) error // Shared and Param keys: check and set
	showParam func(*workload.Params) string     // Shared and Param keys: the value as a config writes it
	field     func(*workload.Params) *int       // integer parameters: what sweeps and cells set
}

// Scope says what a key sets.
type Scope uint8

const (
	// Run keys set the experiment itself: what runs, on what, how often.
	Run Scope = iota
	// Shared keys set a parameter of every workload, on both scales.
	Shared
	// Param keys set a parameter of the workloads that have it: under
	// workloads.<workload> (and its emulation overrides), in sweeps and
	// with --set.
	Param
)

// has reports whether a Shared or Param key applies to a workload kind.
func (k *Key) has(kind string) bool {
	return k.Scope == Shared || (k.Scope == Param && slices.Contains(k.Kinds, kind))
}

// namePattern is what an experiment's name may be: it names a directory.
const namePattern = "[a-z0-9._-]+"

var nameRE = regexp.MustCompile("^" + namePattern + "$")

// runKeys are the keys that set the experiment itself, in reference order.
var runKeys = []Key{
	runKey("name", "the experiment's name; results go to `results/<name>/`",
		stringValue("`"+namePattern+"`", checkName, func(e *Experiment) *string { return &e.Name })).required().fileOnly(),
	runKey("description", "free text for the report",
		stringValue("any string", nil, func(e *Experiment) *string { return &e.Description })).fileOnly(),
	runKey("strategies", "the strategies to run, in report order",
		listValue("strategies", "strategy", patchpoint.Strategies, patchpoint.ParseStrategy,
			func(e *Experiment) *[]patchpoint.Strategy { return &e.Strategies })).fileOnly(),
	runKey("engines", "the engines to run on: emu counts exactly, native times on this CPU",
		listValue("engines", "engine", sim.Engines, parseConfigEngine, func(e *Experiment) *[]sim.Engine { return &e.Engines })).fileOnly(),
	runKey("baseline", "the strategy comparisons divide by; one of strategies",
		enumValue(patchpoint.Strategies, patchpoint.ParseStrategy, func(e *Experiment) *patchpoint.Strategy { return &e.Baseline })).
		fileOnly().withDefault("the first strategy"),
	runKey("native.warmup", "untimed runs before the samples",
		intValue(bounds.Range{Min: 0, Max: 1 << 30}, func(e *Experiment) *int { return &e.Native.Warmup })),
	runKey("native.samples", "timed samples",
		intValue(bounds.Range{Min: 1, Max: 1 << 30}, func(e *Experiment) *int { return &e.Native.Samples })),
	runKey("native.reps", "runs of the image per timed sample",
		intValue(bounds.Range{Min: 1, Max: 1 << 30}, func(e *Experiment) *int { return &e.Native.Reps })),
	runKey("native.launches", "child processes the samples are spread over, interleaved across strategies",
		intValue(bounds.Range{Min: 1, Max: 1 << 10}, func(e *Experiment) *int { return &e.Native.Launches })),
	runKey("native.timeout", "time limit of one native run",
		durationValue(func(e *Experiment) *time.Duration { return &e.Native.Timeout })),
	runKey("emulation.max_instructions", "runaway guard: instructions one emulated run may execute",
		intValue(bounds.Range{Min: 1, Max: 1 << 62}, func(e *Experiment) *uint64 { return &e.Emulation.MaxInstructions })),
	runKey("emulation.timeout", "time limit of one emulated run",
		durationValue(func(e *Experiment) *time.Duration { return &e.Emulation.Timeout })),
	runKey("cycle_model", "the cycle model of emulated runs",
		stringValue("a built-in model, a calibration file or `none`", checkNotEmpty, func(e *Experiment) *string { return &e.CycleModel })),
}

// sharedKeys are the shared parameters that are not integers, in
// reference order (integer ones come from workload.SharedParams). They
// are swept by name (sweeps: {platform: [windows-x64, linux-x64]}) and
// reports list them among the parameters.
var sharedKeys = []Key{
	sharedKey("platform", "the operating system whose patchpoint helper runs the transition: `windows-x64` (the PR's) or `linux-x64` (the PAL's context capture, native frames unwound from DWARF call-frame information by libunwind)",
		enumValue(patchpoint.Platforms, patchpoint.ParsePlatform, func(p *workload.Params) *patchpoint.Platform { return &p.Patchpoint.Platform })),
	sharedKey("runtime.model", "the async runtime resumptions run through: `coreclr` (CoreCLR's common resume path) or `minimal` (the thin runtime of the first figures)",
		enumValue(continuation.Models, continuation.ParseModel, func(p *workload.Params) *continuation.Model { return &p.Runtime.Model })),
}

func checkName(s string) error {
	if !nameRE.MatchString(s) || strings.Trim(s, ".") == "" {
		return fmt.Errorf("%q is not a valid name (want %s, used as results/<name>/)", s, namePattern)
	}
	return nil
}

func checkNotEmpty(s string) error {
	if s == "" {
		return fmt.Errorf("must not be empty")
	}
	return nil
}

// parseConfigEngine is sim.ParseEngine with a hint for the command line's
// name of every engine.
func parseConfigEngine(name string) (sim.Engine, error) {
	e, err := sim.ParseEngine(name)
	if err != nil && name == sim.AllEngines {
		err = fmt.Errorf("%v; list every engine as [%s]", err, strings.Join(enum.Names(sim.Engines), ", "))
	}
	return e, err
}

// runKey makes a key that sets the experiment.
func runKey(name, doc string, v value[Experiment]) Key {
	return Key{Name: name, Doc: doc, Type: v.typ, Scope: Run, run: v.set, show: v.show}
}

// sharedKey makes a key that sets a parameter of every workload.
func sharedKey(name, doc string, v value[workload.Params]) Key {
	return Key{Name: name, Doc: doc, Type: v.typ, Scope: Shared, param: v.set, showParam: v.show}
}

// paramKey makes the key of an integer workload parameter: of the given
// workload kinds, or of every workload (Shared) when kinds is nil.
func paramKey(q workload.Param, kinds []string) Key {
	k := sharedKey(q.Name, q.Doc, intValue(q.Range, q.Field))
	k.field = q.Field
	if kinds != nil {
		k.Scope, k.Kinds = Param, kinds
	}
	return k
}

// sweepable reports whether a parameter key can be swept: an integer
// (it has a field) or a name (an enumeration).
func (k *Key) sweepable() bool { return k.field != nil || (k.Scope != Run && k.Type.Kind == Enum) }

// valueOf is the parameter's value in p as a report writes it.
func (k *Key) valueOf(p *workload.Params) report.Value {
	if k.field != nil {
		return report.Int(int64(*k.field(p)))
	}
	return report.Name(k.showParam(p))
}

// setValue sets the parameter in p to v, a value a sweep or --set
// checked already.
func (k *Key) setValue(p *workload.Params, v report.Value) {
	if n, ok := v.Int(); ok && k.field != nil {
		*k.field(p) = int(n)
		return
	}
	if err := k.param(p, text(v.String())); err != nil {
		panic("BUG: a checked value no longer sets " + k.Name + ": " + err.Error())
	}
}

func (k Key) required() Key            { k.Required, k.Default = true, "required"; return k }
func (k Key) fileOnly() Key            { k.FileOnly = true; return k }
func (k Key) withDefault(d string) Key { k.Default = d; return k }

// keys is every key: the run keys, the shared parameters, then the
// workloads' own parameters (one key per name, with the kinds that have it).
var keys = buildKeys()

func buildKeys() []Key {
	ks := slices.Clone(runKeys)
	for _, q := range workload.SharedParams {
		ks = append(ks, paramKey(q, nil))
	}
	ks = append(ks, sharedKeys...)
	at := map[string]int{}
	for _, kind := range workload.Kinds {
		for _, q := range workload.ParamsOf(kind) {
			if i, ok := at[q.Name]; ok {
				ks[i].Kinds = append(ks[i].Kinds, kind)
				continue
			}
			at[q.Name] = len(ks)
			ks = append(ks, paramKey(q, []string{kind}))
		}
	}
	d := defaults("")
	for i := range ks {
		switch k := &ks[i]; {
		case k.Scope != Run:
			k.Default = paramDefault(k)
		case k.Default == "":
			k.Default = k.show(d)
		}
	}
	return ks
}

// paramDefault renders a parameter's default in the workloads that have
// it: "0", or "20000 (await-loop)" where they differ.
func paramDefault(k *Key) string {
	kinds := k.Kinds
	if k.Scope == Shared {
		kinds = workload.Kinds
	}
	vals := make([]string, len(kinds))
	for i, kind := range kinds {
		p := workload.DefaultParams(kind)
		vals[i] = k.showParam(&p)
	}
	if len(slices.Compact(slices.Clone(vals))) == 1 {
		return vals[0]
	}
	for i := range vals {
		vals[i] += " (" + kinds[i] + ")"
	}
	return strings.Join(vals, ", ")
}

// Keys returns the table of keys in reference order.
func Keys() []Key { return slices.Clone(keys) }

// lookupKey finds a key by its dotted name.
func lookupKey(name string) *Key {
	for i := range keys {
		if keys[i].Name == name {
			return &keys[i]
		}
	}
	return nil
}

// isParam reports whether name is a workload's own parameter.
func isParam(name string) bool {
	k := lookupKey(name)
	return k != nil && k.Scope == Param
}

// isSection reports whether name is a section: a dotted prefix of a run
// or shared key ("native", "patchpoint").
func isSection(name string) bool {
	for _, k := range keys {
		if k.Scope != Param && strings.HasPrefix(k.Name, name+".") {
			return true
		}
	}
	return false
}

// children lists the names a section (or the top level, "") may hold, in
// reference order.
func children(section string) []string {
	var names []string
	for _, k := range keys {
		rest, ok := strings.CutPrefix(k.Name, section+".")
		if section == "" {
			rest, ok = k.Name, true
		}
		if !ok || k.Scope == Param {
			continue
		}
		first, _, _ := strings.Cut(rest, ".")
		if !slices.Contains(names, first) {
			names = append(names, first)
		}
	}
	return names
}
