package experiments

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/osrsim/osrsim/internal/enum"
	"github.com/osrsim/osrsim/workload"
)

var yamlErrLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Parse parses and validates a config; file names it in errors and becomes
// Experiment.File. The error, if any, is an ErrorList of every problem.
func Parse(file string, data []byte) (*Experiment, error) {
	p := &parser{file: file}
	if file != SeedFile {
		p.dir = filepath.Dir(file)
	}
	return parse(p, data)
}

func parse(p *parser, data []byte) (*Experiment, error) {
	var e *Experiment
	if root := p.document(data); root != nil {
		e = p.experiment(root)
	}
	if err := p.errs.Err(); err != nil {
		slices.SortStableFunc(p.errs, func(a, b *Error) int { return a.Line - b.Line })
		return nil, err
	}
	return e, nil
}

// parser collects errors and goes on, skipping only what an error leaves
// undefined.
type parser struct {
	file string
	dir  string // what a workload's relative source path is relative to
	errs ErrorList
}

func (p *parser) errorf(line int, key, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// fail records err from reading key's value at line. The errors of a list
// item carry its own line; a parameter's error its message without the
// parameter's name, which key already says.
func (p *parser) fail(line int, key string, err error) {
	var item *itemError
	if errors.As(err, &item) {
		line = item.line
	}
	p.errorf(line, key, "%s", message(err))
}

// message is err's text without the name of the parameter it is about.
func message(err error) string {
	var pe *workload.ParamError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
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

// mapping returns the entries of a mapping node, leaving out (and
// reporting) duplicate and non-scalar keys. A null node is an empty
// mapping when nullOK. ok is false when n is no mapping.
func (p *parser) mapping(n *yaml.Node, path string, nullOK bool) (entries []kv, ok bool) {
	n = deref(n)
	if nullOK && isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, path, "want a mapping (key: value lines), got %s", describe(n))
		return nil, false
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errorf(k.Line, path, "keys must be plain names")
			continue
		}
		if first, dup := seen[k.Value]; dup {
			p.errorf(k.Line, join(path, k.Value), "duplicate key (first at line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		entries = append(entries, kv{k.Value, k, deref(v)})
	}
	return entries, true
}

// document decodes the single YAML document of data; nil after an error.
func (p *parser) document(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errorf(0, "", "empty config (want a mapping with at least name and workloads)")
		} else {
			p.syntax(err)
		}
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		p.errorf(extra.Line, "", "more than one YAML document (remove the second ---)")
		return nil
	} else if !errors.Is(err, io.EOF) {
		p.syntax(err)
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || isNull(deref(doc.Content[0])) {
		p.errorf(0, "", "empty config (want a mapping with at least name and workloads)")
		return nil
	}
	root := deref(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		p.errorf(root.Line, "", "want a mapping with at least name and workloads, got %s", describe(root))
		return nil
	}
	return root
}

func (p *parser) syntax(err error) {
	msg := err.Error()
	if m := yamlErrLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		p.errorf(line, "", "YAML syntax: %s", m[2])
		return
	}
	p.errorf(0, "", "YAML syntax: %s", strings.TrimPrefix(msg, "yaml: "))
}

// top is what the walk over the table's keys found, for the steps that
// depend on it.
type top struct {
	lines     map[string]int // line of each key read, valid or not
	bad       map[string]bool
	shared    []assignment // valid shared parameters, in file order
	workloads *kv
	sweeps    *kv
}

// assignment is a valid value of a shared parameter, kept to be applied
// to every workload.
type assignment struct {
	k    *Key
	v    raw
	line int
}

// src is where a resolved parameter value came from.
type src struct {
	key  string
	line int
}

func (p *parser) experiment(root *yaml.Node) *Experiment {
	e := defaults(p.file)
	t := &top{lines: map[string]int{}, bad: map[string]bool{}}
	p.walk(e, root, "", t)
	p.required(root, t)
	p.baseline(e, t)
	e.Workloads = p.workloads(root, t)
	if t.sweeps != nil {
		e.Sweeps = p.sweeps(e, *t.sweeps)
	}
	return e
}

// walk reads the run and shared keys of a section ("" for the top level),
// descending into subsections. At the top level, workloads and sweeps are
// kept for later.
func (p *parser) walk(e *Experiment, n *yaml.Node, section string, t *top) {
	entries, _ := p.mapping(n, section, section != "")
	for _, f := range entries {
		name := join(section, f.key)
		k := lookupKey(name)
		switch {
		case k != nil && k.Scope != Param:
			p.read(e, k, f, t)
		case section == "" && f.key == "workloads":
			t.workloads = &f
		case section == "" && f.key == "sweeps":
			t.sweeps = &f
		case isSection(name):
			p.walk(e, f.v, name, t)
		default:
			p.unknownKey(section, f)
		}
	}
}

// unknownKey reports a key a section does not have, with the ones it has.
func (p *parser) unknownKey(section string, f kv) {
	want := children(section)
	if section == "" {
		want = append(want, "workloads", "sweeps")
	}
	hint := ""
	if isParam(f.key) {
		hint = "; workload parameters go under workloads.<workload>"
		if section == "emulation" {
			hint += ".emulation"
		}
	}
	p.errorf(f.k.Line, join(section, f.key), "unknown key (want one of %s%s)", strings.Join(want, ", "), hint)
}

// read sets a run key, or checks a shared parameter and keeps it.
func (p *parser) read(e *Experiment, k *Key, f kv, t *top) {
	t.lines[k.Name] = f.v.Line
	v := node{f.v}
	var err error
	if k.Scope == Run {
		err = k.run(e, v)
	} else {
		scratch := workload.DefaultParams(workload.Kinds[0])
		if err = k.param(&scratch, v); err == nil {
			t.shared = append(t.shared, assignment{k, v, f.v.Line})
		}
	}
	if err != nil {
		t.bad[k.Name] = true
		p.fail(f.v.Line, k.Name, err)
	}
}

// required reports missing required keys.
func (p *parser) required(root *yaml.Node, t *top) {
	for _, k := range keys {
		if _, ok := t.lines[k.Name]; k.Required && !ok {
			p.errorf(root.Line, k.Name, "required key missing")
		}
	}
}

// baseline defaults the baseline to the first strategy, or checks that
// the one given is among the strategies.
func (p *parser) baseline(e *Experiment, t *top) {
	line, set := t.lines["baseline"]
	switch {
	case !set || t.bad["baseline"]:
		e.Baseline = e.Strategies[0]
	case !t.bad["strategies"] && !slices.Contains(e.Strategies, e.Baseline):
		p.errorf(line, "baseline", "baseline %s is not among the strategies (%s)", e.Baseline, strings.Join(enum.Names(e.Strategies), ", "))
	}
}

// workloads resolves the workloads section.
func (p *parser) workloads(root *yaml.Node, t *top) []Workload {
	kinds := strings.Join(workload.Kinds, ", ")
	if t.workloads == nil {
		p.errorf(root.Line, "workloads", "required key missing (want at least one of %s)", kinds)
		return nil
	}
	f := t.workloads
	if isNull(f.v) || (f.v.Kind == yaml.MappingNode && len(f.v.Content) == 0) {
		p.errorf(f.v.Line, "workloads", "want at least one workload (%s)", kinds)
		return nil
	}
	entries, _ := p.mapping(f.v, "workloads", false)
	var ws []Workload
	for _, g := range entries {
		if w, ok := p.workload(g, t.shared); ok {
			ws = append(ws, w)
		}
	}
	return ws
}

// workload resolves one entry of the workloads section: the kind's
// defaults, the shared parameters, its own keys (Native), then its
// emulation overrides (Emu). A workload of a known kind is kept even
// with errors in its keys, which keep their defaults, so that sweeps over
// its parameters are still checked.
func (p *parser) workload(g kv, shared []assignment) (Workload, bool) {
	kind, path := g.key, join("workloads", g.key)
	w := Workload{Kind: kind, Native: workload.DefaultParams(kind)}
	if src := sourceBody(g.v); src != nil {
		var ok bool
		if w.Native, ok = p.sourceWorkload(g, path, src); !ok {
			return Workload{}, false
		}
	} else if workload.ParamsOf(kind) == nil {
		p.errorf(g.k.Line, path, "unknown workload %q (want %s, or a C# program: source: FILE.cs)", kind, strings.Join(workload.Kinds, " or "))
		return Workload{}, false
	}
	srcs := map[string]src{}
	for _, a := range shared {
		if err := a.k.param(&w.Native, a.v); err != nil {
			panic("BUG: a checked shared parameter fails: " + err.Error())
		}
		srcs[a.k.Name] = src{a.k.Name, a.line}
	}
	own, emu := p.body(g.v, path)
	fallback := src{path, g.k.Line}
	p.params(own, path, &w.Native, srcs)
	p.validate(w.Native, srcs, fallback)
	w.Emu = w.Native
	emuSrcs := maps.Clone(srcs)
	p.params(emu, join(path, "emulation"), &w.Emu, emuSrcs)
	p.validate(w.Emu, emuSrcs, fallback)
	return w, true
}

// body splits a workload's entries into its own parameters and its
// emulation overrides.
func (p *parser) body(n *yaml.Node, path string) (own, emu []kv) {
	entries, _ := p.mapping(n, path, true)
	for _, h := range entries {
		if h.key == sourceKey {
			continue // read by sourceWorkload
		}
		if h.key != "emulation" {
			own = append(own, h)
			continue
		}
		epath := join(path, "emulation")
		overrides, _ := p.mapping(h.v, epath, true)
		for _, o := range overrides {
			if o.key == "emulation" {
				p.errorf(o.k.Line, join(epath, o.key), "emulation overrides do not nest")
				continue
			}
			emu = append(emu, o)
		}
	}
	return own, emu
}

// params applies parameter entries of a workload to dst, recording where
// each value came from.
func (p *parser) params(body []kv, path string, dst *workload.Params, srcs map[string]src) {
	kind := dst.Workload
	for _, h := range body {
		key := join(path, h.key)
		k := ownKeyFor(*dst, h.key)
		if k == nil {
			what := "unknown parameter"
			if isParam(h.key) {
				what = kind + " has no parameter"
			}
			p.errorf(h.k.Line, key, "%s %s (%s has %s)", what, h.key, kind, strings.Join(paramNames(*dst), ", "))
			continue
		}
		if err := k.param(dst, node{h.v}); err != nil {
			p.fail(h.v.Line, key, err)
			continue
		}
		srcs[h.key] = src{key, h.v.Line}
	}
}

// validate runs workload.Params.Validate on the resolved parameters and
// reports a failure at the key that set the offending value, or at the
// workload when a default is the offender.
func (p *parser) validate(w workload.Params, srcs map[string]src, fallback src) {
	err := w.Validate()
	if err == nil {
		return
	}
	var pe *workload.ParamError
	if errors.As(err, &pe) {
		if s, ok := srcs[pe.Param]; ok {
			p.errorf(s.line, s.key, "%s", message(err))
			return
		}
	}
	p.errorf(fallback.line, fallback.key, "%v", err)
}
