package experiments

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/osrsim/osrsim/internal/bounds"
	"github.com/osrsim/osrsim/internal/enum"
	"github.com/osrsim/osrsim/patchpoint"
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

	run   func(*Experiment, raw) error      // Run keys: check and set
	show  func(*Experiment) string          // Run keys: the value as a config would write it
	param func(*workload.Params, raw) error // Shared and Param keys: check and set
	field func(*workload.Params) *int       // integer parameters: sweeps and cells
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

// ValueKind is the kind of value a key holds.
type ValueKind uint8

const (
	Int      ValueKind = iota // a YAML integer, within Type.Range
	Duration                  // a Go duration string, positive
	String                    // a YAML string
	Enum                      // one of Type.Names
	List                      // a non-empty list of distinct Type.Names
)

// Type is what a key accepts.
type Type struct {
	Kind   ValueKind
	Range  bounds.Range // Int
	Names  []string     // Enum, List
	Syntax string       // String: what the string must look like
}

// String describes the accepted values for the reference.
func (t Type) String() string {
	switch t.Kind {
	case Int:
		return "integer, " + t.Range.String()
	case Duration:
		return "Go duration > 0 (90s, 10m)"
	case Enum:
		return "one of " + strings.Join(t.Names, ", ")
	case List:
		return "list of " + strings.Join(t.Names, ", ")
	}
	return t.Syntax
}

// has reports whether a Shared or Param key applies to a workload kind.
func (k *Key) has(kind string) bool {
	return k.Scope == Shared || (k.Scope == Param && slices.Contains(k.Kinds, kind))
}

// namePattern is what an experiment's name may be: it names a directory.
const namePattern = "[a-z0-9._-]+"

var nameRE = regexp.MustCompile("^" + namePattern + "$")

// runKeys are the keys that set the experiment itself, in reference order.
var runKeys = []Key{
	stringKey("name", "`"+namePattern+"`", "the experiment's name; results go to `results/<name>/`", checkName,
		func(e *Experiment) *string { return &e.Name }).required().fileOnly(),
	stringKey("description", "any string", "free text for the report", nil,
		func(e *Experiment) *string { return &e.Description }).fileOnly(),
	listKey("strategies", "the strategies to run, in report order", "strategy", patchpoint.Strategies, patchpoint.ParseStrategy,
		func(e *Experiment) *[]patchpoint.Strategy { return &e.Strategies }).fileOnly(),
	listKey("engines", "the engines to run on: emu counts exactly, native times on this CPU", "engine", sim.Engines, parseConfigEngine,
		func(e *Experiment) *[]sim.Engine { return &e.Engines }).fileOnly(),
	enumKey("baseline", "the strategy comparisons divide by; one of strategies", patchpoint.Strategies, patchpoint.ParseStrategy,
		func(e *Experiment) *patchpoint.Strategy { return &e.Baseline }).fileOnly().withDefault("the first strategy"),
	intKey("native.warmup", bounds.Range{Min: 0, Max: 1 << 30}, "untimed runs before the samples",
		func(e *Experiment) *int { return &e.Native.Warmup }),
	intKey("native.samples", bounds.Range{Min: 1, Max: 1 << 30}, "timed samples",
		func(e *Experiment) *int { return &e.Native.Samples }),
	intKey("native.reps", bounds.Range{Min: 1, Max: 1 << 30}, "runs of the image per timed sample",
		func(e *Experiment) *int { return &e.Native.Reps }),
	intKey("native.launches", bounds.Range{Min: 1, Max: 1 << 10}, "child processes the samples are spread over, interleaved across strategies",
		func(e *Experiment) *int { return &e.Native.Launches }),
	durationKey("native.timeout", "time limit of one native run",
		func(e *Experiment) *time.Duration { return &e.Native.Timeout }),
	intKey("emulation.max_instructions", bounds.Range{Min: 1, Max: 1 << 62}, "runaway guard: instructions one emulated run may execute",
		func(e *Experiment) *uint64 { return &e.Emulation.MaxInstructions }),
	durationKey("emulation.timeout", "time limit of one emulated run",
		func(e *Experiment) *time.Duration { return &e.Emulation.Timeout }),
	stringKey("cycle_model", "a built-in model, a calibration file or `none`", "the cycle model of emulated runs", checkNotEmpty,
		func(e *Experiment) *string { return &e.CycleModel }),
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

// keys is every key: the run keys, the shared parameters, then the
// workloads' own parameters (one key per name, with the kinds that have it).
var keys = buildKeys()

func buildKeys() []Key {
	ks := append([]Key(nil), runKeys...)
	for _, q := range workload.SharedParams {
		ks = append(ks, paramKey(q, Shared, nil))
	}
	at := map[string]int{}
	for _, kind := range workload.Kinds {
		for _, q := range workload.ParamsOf(kind) {
			if i, ok := at[q.Name]; ok {
				ks[i].Kinds = append(ks[i].Kinds, kind)
				continue
			}
			at[q.Name] = len(ks)
			ks = append(ks, paramKey(q, Param, []string{kind}))
		}
	}
	d := defaults("")
	for i := range ks {
		if ks[i].Scope != Run {
			ks[i].Default = paramDefault(ks[i])
		} else if ks[i].Default == "" && !ks[i].Required {
			ks[i].Default = ks[i].show(d)
		}
	}
	return ks
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

// paramKeyOf finds a parameter of a workload kind by name.
func paramKeyOf(kind, name string) *Key {
	k := lookupKey(name)
	if k == nil || k.Scope != Param || !k.has(kind) {
		return nil
	}
	return k
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

func (k Key) required() Key            { k.Required, k.Default = true, "required"; return k }
func (k Key) fileOnly() Key            { k.FileOnly = true; return k }
func (k Key) withDefault(d string) Key { k.Default = d; return k }

// The constructors below give a run key its type, check and setter from
// one description. Setters assign only after every check has passed.

func intKey[V ~int | ~uint64](name string, r bounds.Range, doc string, field func(*Experiment) *V) Key {
	show := func(e *Experiment) string { return fmt.Sprint(*field(e)) }
	return Key{Name: name, Doc: doc, Type: Type{Kind: Int, Range: r}, show: show, run: func(e *Experiment, v raw) error {
		n, err := v.integer()
		if err == nil {
			err = r.Check(n)
		}
		if err != nil {
			return err
		}
		*field(e) = V(n)
		return nil
	}}
}

func durationKey(name, doc string, field func(*Experiment) *time.Duration) Key {
	const want = "a Go duration such as 90s or 10m"
	show := func(e *Experiment) string { return formatDuration(*field(e)) }
	return Key{Name: name, Doc: doc, Type: Type{Kind: Duration}, show: show, run: func(e *Experiment, v raw) error {
		s, err := v.str(want)
		if err != nil {
			return err
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("want %s, got %q", want, s)
		}
		if d <= 0 {
			return fmt.Errorf("must be positive, got %s", s)
		}
		*field(e) = d
		return nil
	}}
}

func stringKey(name, syntax, doc string, check func(string) error, field func(*Experiment) *string) Key {
	show := func(e *Experiment) string { return *field(e) }
	return Key{Name: name, Doc: doc, Type: Type{Kind: String, Syntax: syntax}, show: show, run: func(e *Experiment, v raw) error {
		s, err := v.str(aString)
		if err == nil && check != nil {
			err = check(s)
		}
		if err != nil {
			return err
		}
		*field(e) = s
		return nil
	}}
}

func enumKey[V fmt.Stringer](name, doc string, all []V, parse func(string) (V, error), field func(*Experiment) *V) Key {
	show := func(e *Experiment) string { return (*field(e)).String() }
	return Key{Name: name, Doc: doc, Type: Type{Kind: Enum, Names: enum.Names(all)}, show: show, run: func(e *Experiment, v raw) error {
		s, err := v.str(aString)
		if err != nil {
			return err
		}
		x, err := parse(s)
		if err != nil {
			return err
		}
		*field(e) = x
		return nil
	}}
}

func listKey[V interface {
	comparable
	fmt.Stringer
}](name, doc, one string, all []V, parse func(string) (V, error), field func(*Experiment) *[]V) Key {
	show := func(e *Experiment) string { return "[" + strings.Join(enum.Names(*field(e)), ", ") + "]" }
	return Key{Name: name, Doc: doc, Type: Type{Kind: List, Names: enum.Names(all)}, show: show, run: func(e *Experiment, v raw) error {
		items, err := v.list(name, one)
		if err != nil {
			return err
		}
		var xs []V
		for _, it := range items {
			s, err := it.str(aString)
			if err != nil {
				return &itemError{it.line(), err}
			}
			x, err := parse(s)
			if err != nil {
				return &itemError{it.line(), err}
			}
			if slices.Contains(xs, x) {
				return &itemError{it.line(), fmt.Errorf("duplicate %s %s", one, s)}
			}
			xs = append(xs, x)
		}
		*field(e) = xs
		return nil
	}}
}

// paramKey is the key of a workload parameter.
func paramKey(q workload.Param, scope Scope, kinds []string) Key {
	return Key{Name: q.Name, Doc: q.Doc, Type: Type{Kind: Int, Range: q.Range}, Scope: scope, Kinds: kinds, field: q.Field,
		param: func(p *workload.Params, v raw) error {
			n, err := v.integer()
			if err == nil && (n < math.MinInt || n > math.MaxInt) {
				err = fmt.Errorf("integer %d out of range", n)
			}
			if err == nil {
				err = q.Check(n)
			}
			if err != nil {
				return err
			}
			*q.Field(p) = int(n)
			return nil
		}}
}

// formatDuration writes d as a config would: 10m, not 10m0s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// paramDefault renders a parameter's default in the workloads that have
// it: "0", or "20000 (await-loop)" where they differ.
func paramDefault(k Key) string {
	kinds := k.Kinds
	if k.Scope == Shared {
		kinds = workload.Kinds
	}
	vals := make([]string, len(kinds))
	for i, kind := range kinds {
		p := workload.DefaultParams(kind)
		vals[i] = fmt.Sprint(*k.field(&p))
	}
	if len(slices.Compact(slices.Clone(vals))) == 1 {
		return vals[0]
	}
	for i := range vals {
		vals[i] += " (" + kinds[i] + ")"
	}
	return strings.Join(vals, ", ")
}
