package experiments

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/osrsim/osrsim/patchpoint"
	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/workload"
)

var (
	nameRE      = regexp.MustCompile(`^[a-z0-9._-]+$`)
	yamlErrLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	topKeys     = []string{"name", "description", "strategies", "engines", "baseline", "workloads",
		"patchpoint", "sweeps", "native", "emulation", "cycle_model"}
)

// bail carries an *Error out of the recursive walk.
type bail struct{ err *Error }

type parser struct{ file string }

func (p *parser) fail(line int, key, format string, args ...any) {
	panic(bail{&Error{File: p.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)}})
}

// kv is one entry of a mapping.
type kv struct {
	key  string
	k, v *yaml.Node
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// deref follows aliases.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names a node's type for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing (null)"
		case "!!str":
			return fmt.Sprintf("string %q", n.Value)
		case "!!int":
			return "integer " + n.Value
		case "!!float":
			return "number " + n.Value
		case "!!bool":
			return "boolean " + n.Value
		}
		return fmt.Sprintf("%s %q", strings.TrimPrefix(n.ShortTag(), "!!"), n.Value)
	}
	return "an unexpected node"
}

// mapping returns the entries of a mapping node, rejecting duplicate and
// non-scalar keys. A null node is an empty mapping when nullOK.
func (p *parser) mapping(n *yaml.Node, path string, nullOK bool) []kv {
	n = deref(n)
	if nullOK && isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.fail(n.Line, path, "want a mapping (key: value lines), got %s", describe(n))
	}
	var out []kv
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.fail(k.Line, path, "keys must be plain names")
		}
		if first, dup := seen[k.Value]; dup {
			p.fail(k.Line, join(path, k.Value), "duplicate key (first at line %d)", first)
		}
		seen[k.Value] = k.Line
		out = append(out, kv{k.Value, k, deref(v)})
	}
	return out
}

func (p *parser) str(n *yaml.Node, key string) string {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		hint := ""
		if n.Kind == yaml.ScalarNode && !isNull(n) {
			hint = " (quote it)"
		}
		p.fail(n.Line, key, "want a string, got %s%s", describe(n), hint)
	}
	return n.Value
}

func (p *parser) int(n *yaml.Node, key string) int64 {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" {
		var v int64
		if err := n.Decode(&v); err == nil {
			return v
		}
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" && strings.Trim(n.Value, "+-0123456789_") == "" {
		p.fail(n.Line, key, "integer %s out of range", n.Value)
	}
	p.fail(n.Line, key, "want an integer, got %s", describe(n))
	return 0
}

// intRange reads an int in [min, max].
func (p *parser) intRange(n *yaml.Node, key string, min, max int64) int64 {
	v := p.int(n, key)
	if v < min || v > max {
		switch {
		case min == 1 && v <= 0:
			p.fail(n.Line, key, "must be positive, got %d", v)
		case min == 0 && v < 0:
			p.fail(n.Line, key, "must not be negative, got %d", v)
		}
		p.fail(n.Line, key, "must be in [%d, %d], got %d", min, max, v)
	}
	return v
}

func (p *parser) duration(n *yaml.Node, key string) time.Duration {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		p.fail(n.Line, key, "want a Go duration such as 90s or 10m, got %s", describe(n))
	}
	d, err := time.ParseDuration(n.Value)
	if err != nil {
		p.fail(n.Line, key, "want a Go duration such as 90s or 10m, got %q", n.Value)
	}
	if d <= 0 {
		p.fail(n.Line, key, "must be positive, got %s", n.Value)
	}
	return d
}

// list returns the items of a non-empty sequence.
func (p *parser) list(n *yaml.Node, key, what, one string) []*yaml.Node {
	if n.Kind != yaml.SequenceNode {
		if isNull(n) {
			p.fail(n.Line, key, "want a non-empty list of %s", what)
		}
		p.fail(n.Line, key, "want a list of %s such as [a, b], got %s", what, describe(n))
	}
	if len(n.Content) == 0 {
		p.fail(n.Line, key, "empty list (want at least one %s)", one)
	}
	items := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		items[i] = deref(c)
	}
	return items
}

// Parse parses and validates a config; file names it in errors and becomes
// Experiment.File.
func Parse(file string, data []byte) (exp *Experiment, err error) {
	p := &parser{file: file}
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bail)
			if !ok {
				panic(r)
			}
			exp, err = nil, b.err
		}
	}()
	return p.experiment(p.document(data)), nil
}

// document decodes the single YAML document of data.
func (p *parser) document(data []byte) *yaml.Node {
	syntax := func(err error) {
		msg := err.Error()
		if m := yamlErrLine.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			p.fail(line, "", "YAML syntax: %s", m[2])
		}
		p.fail(0, "", "YAML syntax: %s", strings.TrimPrefix(msg, "yaml: "))
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.fail(0, "", "empty config (want a mapping with at least name and workloads)")
		}
		syntax(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		p.fail(extra.Line, "", "more than one YAML document (remove the second ---)")
	} else if !errors.Is(err, io.EOF) {
		syntax(err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || isNull(deref(doc.Content[0])) {
		p.fail(0, "", "empty config (want a mapping with at least name and workloads)")
	}
	root := deref(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		p.fail(root.Line, "", "want a mapping with at least name and workloads, got %s", describe(root))
	}
	return root
}

// src is where a resolved parameter value came from.
type src struct {
	key  string
	line int
}

func (p *parser) experiment(root *yaml.Node) *Experiment {
	e := &Experiment{
		File:       p.file,
		Strategies: append([]patchpoint.Strategy(nil), patchpoint.Strategies...),
		Engines:    []sim.Engine{sim.Emu},
		Native:     NativeSettings{Warmup: DefaultWarmup, Samples: DefaultSamples, Reps: DefaultReps, Launches: DefaultLaunches, Timeout: DefaultNativeTimeout},
		Emulation:  EmulationSettings{MaxInstructions: DefaultMaxInstructions, Timeout: DefaultEmuTimeout},
		CycleModel: DefaultCycleModel,
	}
	sec := map[string]kv{}
	for _, f := range p.mapping(root, "", false) {
		known := false
		for _, k := range topKeys {
			known = known || k == f.key
		}
		if !known {
			p.fail(f.k.Line, f.key, "unknown key (want one of %s)", strings.Join(topKeys, ", "))
		}
		sec[f.key] = f
	}

	if f, ok := sec["name"]; ok {
		e.Name = p.str(f.v, "name")
		if !nameRE.MatchString(e.Name) || strings.Trim(e.Name, ".") == "" {
			p.fail(f.v.Line, "name", "%q is not a valid name (want [a-z0-9._-]+, used as results/<name>/)", e.Name)
		}
	} else {
		p.fail(root.Line, "name", "required key missing")
	}
	if f, ok := sec["description"]; ok {
		e.Description = p.str(f.v, "description")
	}
	if f, ok := sec["cycle_model"]; ok {
		e.CycleModel = p.str(f.v, "cycle_model")
		if e.CycleModel == "" {
			p.fail(f.v.Line, "cycle_model", "must not be empty")
		}
	}
	if f, ok := sec["strategies"]; ok {
		e.Strategies = nil
		seen := map[patchpoint.Strategy]bool{}
		for _, n := range p.list(f.v, "strategies", "strategies", "strategy") {
			s, err := patchpoint.ParseStrategy(p.str(n, "strategies"))
			if err != nil {
				p.fail(n.Line, "strategies", "%v", err)
			}
			if seen[s] {
				p.fail(n.Line, "strategies", "duplicate strategy %s", s)
			}
			seen[s] = true
			e.Strategies = append(e.Strategies, s)
		}
	}
	e.Baseline = e.Strategies[0]
	if f, ok := sec["baseline"]; ok {
		s, err := patchpoint.ParseStrategy(p.str(f.v, "baseline"))
		if err != nil {
			p.fail(f.v.Line, "baseline", "%v", err)
		}
		found := false
		for _, t := range e.Strategies {
			found = found || t == s
		}
		if !found {
			p.fail(f.v.Line, "baseline", "baseline %s is not among the strategies (%s)", s, strategyList(e.Strategies))
		}
		e.Baseline = s
	}
	if f, ok := sec["engines"]; ok {
		e.Engines = nil
		seen := map[sim.Engine]bool{}
		for _, n := range p.list(f.v, "engines", "engines", "engine") {
			name := p.str(n, "engines")
			en, err := sim.ParseEngine(name)
			if err != nil {
				p.fail(n.Line, "engines", "%v", err)
			}
			if seen[en] {
				p.fail(n.Line, "engines", "duplicate engine %s", name)
			}
			seen[en] = true
			e.Engines = append(e.Engines, en)
		}
	}
	if f, ok := sec["native"]; ok {
		for _, g := range p.mapping(f.v, "native", true) {
			key := join("native", g.key)
			switch g.key {
			case "warmup":
				e.Native.Warmup = int(p.intRange(g.v, key, 0, 1<<30))
			case "samples":
				e.Native.Samples = int(p.intRange(g.v, key, 1, 1<<30))
			case "reps":
				e.Native.Reps = int(p.intRange(g.v, key, 1, 1<<30))
			case "launches":
				e.Native.Launches = int(p.intRange(g.v, key, 1, 1<<10))
			case "timeout":
				e.Native.Timeout = p.duration(g.v, key)
			default:
				p.fail(g.k.Line, key, "unknown key (want warmup, samples, reps, launches or timeout)")
			}
		}
	}
	if f, ok := sec["emulation"]; ok {
		for _, g := range p.mapping(f.v, "emulation", true) {
			key := join("emulation", g.key)
			switch g.key {
			case "max_instructions":
				e.Emulation.MaxInstructions = uint64(p.intRange(g.v, key, 1, 1<<62))
			case "timeout":
				e.Emulation.Timeout = p.duration(g.v, key)
			default:
				hint := ""
				if isWorkloadParam(g.key) {
					hint = "; emulation overrides of workload parameters go under workloads.<workload>.emulation"
				}
				p.fail(g.k.Line, key, "unknown key (want max_instructions or timeout%s)", hint)
			}
		}
	}

	// The patchpoint section applies to every workload.
	pp := patchpoint.Defaults()
	ppSrc := map[string]src{}
	if f, ok := sec["patchpoint"]; ok {
		base := workload.Params{Patchpoint: pp}
		for _, g := range p.mapping(f.v, "patchpoint", true) {
			key := join("patchpoint", g.key)
			fl, ok := lookupField(key)
			if !ok || fl.kinds != nil {
				p.fail(g.k.Line, key, "unknown key (want one of %s)", strings.Join(patchpointNames(), ", "))
			}
			v := p.int(g.v, key)
			if int64(int(v)) != v {
				p.fail(g.v.Line, key, "%d out of range", v)
			}
			*fl.ptr(&base) = int(v)
			ppSrc[key] = src{key, g.v.Line}
		}
		pp = base.Patchpoint
	}

	f, ok := sec["workloads"]
	if !ok {
		p.fail(root.Line, "workloads", "required key missing (want at least one of %s)", strings.Join(workload.Kinds, ", "))
	}
	if isNull(f.v) || (f.v.Kind == yaml.MappingNode && len(f.v.Content) == 0) {
		p.fail(f.v.Line, "workloads", "want at least one workload (%s)", strings.Join(workload.Kinds, ", "))
	}
	for _, g := range p.mapping(f.v, "workloads", false) {
		e.Workloads = append(e.Workloads, p.workload(g, pp, ppSrc))
	}

	if f, ok := sec["sweeps"]; ok {
		p.sweeps(e, f.v)
	}
	return e
}

func strategyList(ss []patchpoint.Strategy) string {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = s.String()
	}
	return strings.Join(names, ", ")
}

// workload resolves one entry of the workloads section.
func (p *parser) workload(g kv, pp patchpoint.Settings, ppSrc map[string]src) Workload {
	kind := g.key
	path := join("workloads", kind)
	if !knownKind(kind) {
		p.fail(g.k.Line, path, "unknown workload %q (want %s)", kind, strings.Join(workload.Kinds, " or "))
	}
	w := Workload{Kind: kind, Native: workload.DefaultParams(kind)}
	w.Native.Patchpoint = pp
	nativeSrc := map[string]src{}
	for k, s := range ppSrc {
		nativeSrc[k] = s
	}
	var emuNode *kv
	// params applies the parameter entries of body to dst.
	params := func(body []kv, path string, dst *workload.Params, srcs map[string]src) {
		for _, h := range body {
			key := join(path, h.key)
			fl, ok := lookupField(h.key)
			if !ok || fl.kinds == nil || !fl.has(kind) {
				what := "unknown parameter"
				if ok && fl.kinds != nil {
					what = kind + " has no parameter"
				}
				p.fail(h.k.Line, key, "%s %s (%s has %s)", what, h.key, kind, strings.Join(ParamNames(kind), ", "))
			}
			v := p.int(h.v, key)
			if int64(int(v)) != v {
				p.fail(h.v.Line, key, "%d out of range", v)
			}
			*fl.ptr(dst) = int(v)
			srcs[h.key] = src{key, h.v.Line}
		}
	}
	var plain []kv
	for _, h := range p.mapping(g.v, path, true) {
		if h.key == "emulation" {
			emuNode = &h
			continue
		}
		plain = append(plain, h)
	}
	params(plain, path, &w.Native, nativeSrc)
	fallback := src{path, g.k.Line}
	p.validate(w.Native, nativeSrc, fallback)

	w.Emu = w.Native
	emuSrc := map[string]src{}
	for k, s := range nativeSrc {
		emuSrc[k] = s
	}
	if emuNode != nil {
		epath := join(path, "emulation")
		body := p.mapping(emuNode.v, epath, true)
		for _, h := range body {
			if h.key == "emulation" {
				p.fail(h.k.Line, join(epath, h.key), "emulation overrides do not nest")
			}
		}
		params(body, epath, &w.Emu, emuSrc)
	}
	p.validate(w.Emu, emuSrc, fallback)
	return w
}

// validate runs workload.Params.Validate and reports a failure at the key
// that set the offending value.
func (p *parser) validate(w workload.Params, srcs map[string]src, fallback src) {
	err := w.Validate()
	if err == nil {
		return
	}
	msg := err.Error()
	name, _, _ := strings.Cut(msg, " ")
	if s, ok := srcs[name]; ok {
		p.fail(s.line, s.key, "%s", trimName(msg, name))
	}
	// The message names no key (or a defaulted one): find the value whose
	// reset to its default makes the parameters valid.
	def := workload.DefaultParams(w.Workload)
	for _, k := range sortedKeys(srcs) {
		fl, _ := lookupField(k)
		q := w
		*fl.ptr(&q) = *fl.ptr(&def)
		if q.Validate() == nil {
			s := srcs[k]
			p.fail(s.line, s.key, "%s", msg)
		}
	}
	p.fail(fallback.line, fallback.key, "%s", msg)
}

// sweeps parses the sweeps section.
func (p *parser) sweeps(e *Experiment, n *yaml.Node) {
	for _, g := range p.mapping(n, "sweeps", true) {
		key := join("sweeps", g.key)
		name, emuOnly := splitEmu(g.key)
		fl, ok := lookupField(name)
		if !ok || (emuOnly && fl.kinds == nil) {
			p.fail(g.k.Line, key, "unknown sweep key %s (want a workload parameter, emulation.<param> or patchpoint.<field>)", g.key)
		}
		var targets []*Workload
		for i := range e.Workloads {
			if fl.has(e.Workloads[i].Kind) {
				targets = append(targets, &e.Workloads[i])
			}
		}
		if len(targets) == 0 {
			p.fail(g.k.Line, key, "no workload of this experiment has parameter %s", name)
		}
		s := Sweep{Key: g.key, Line: g.k.Line}
		seen := map[int64]int{}
		for _, vn := range p.list(g.v, key, "integers", "value") {
			v := p.int(vn, key)
			if first, dup := seen[v]; dup {
				p.fail(vn.Line, key, "duplicate value %d (first at line %d)", v, first)
			}
			seen[v] = vn.Line
			if int64(int(v)) != v {
				p.fail(vn.Line, key, "%d out of range", v)
			}
			for _, w := range targets {
				scales := []workload.Params{w.Emu}
				if !emuOnly {
					scales = append(scales, w.Native)
				}
				for _, q := range scales {
					*fl.ptr(&q) = int(v)
					if err := q.Validate(); err != nil {
						p.fail(vn.Line, key, "%s", trimName(err.Error(), name))
					}
				}
			}
			s.Values = append(s.Values, v)
		}
		e.Sweeps = append(e.Sweeps, s)
	}
	for _, w := range e.Workloads {
		total := 1
		for _, s := range e.Sweeps {
			if sweepApplies(s.Key, w.Kind) {
				total *= len(s.Values)
				if total > MaxCells {
					p.fail(s.Line, join("sweeps", s.Key), "the grid of %s has more than %d cells", w.Kind, MaxCells)
				}
			}
		}
	}
}

// trimName drops the parameter name workload.Params.Validate starts its
// message with when the error's key already names it.
func trimName(msg, name string) string {
	if rest, ok := strings.CutPrefix(msg, name+" "); ok {
		return rest
	}
	return msg
}
