package experiments

import (
	"fmt"
	"strings"

	"github.com/osrsim/osrsim/report"
	"github.com/osrsim/osrsim/workload"
)

// sweeps parses the sweeps section.
func (p *parser) sweeps(e *Experiment, f kv) []Sweep {
	entries, _ := p.mapping(f.v, "sweeps", true)
	var out []Sweep
	for _, g := range entries {
		if s, ok := p.sweep(e, g); ok {
			out = append(out, s)
		}
	}
	p.grid(e, out)
	return out
}

// sweepKey resolves a sweep key for a workload: an integer parameter, or
// emulation.<param> for a workload's own parameter; nil if the workload
// has no such parameter.
func sweepKey(key string, w workload.Params) (k *Key, emuOnly bool) {
	name, emuOnly := splitEmu(key)
	k = paramKeyFor(w, name)
	if k == nil || !k.sweepable() || (emuOnly && k.Scope != Param) {
		return nil, emuOnly
	}
	return k, emuOnly
}

// target is a workload a sweep (or --set) applies to, with the key of the
// parameter in it.
type target struct {
	w Workload
	k *Key
}

// sweep parses one sweep.
func (p *parser) sweep(e *Experiment, g kv) (Sweep, bool) {
	key := join("sweeps", g.key)
	var targets []target
	emuOnly := false
	for _, w := range e.Workloads {
		if k, emu := sweepKey(g.key, w.Native); k != nil {
			targets, emuOnly = append(targets, target{w, k}), emu
		}
	}
	if len(targets) == 0 {
		name, _ := splitEmu(g.key)
		if k, _ := sweepKey(g.key, workload.DefaultParams(workload.Kinds[0])); k == nil && !isParam(name) {
			p.errorf(g.k.Line, key, "unknown sweep key %s (want a workload parameter, emulation.<param>, patchpoint.<field>, platform or runtime.model)", g.key)
		} else {
			p.errorf(g.k.Line, key, "no workload of this experiment has parameter %s", name)
		}
		return Sweep{}, false
	}
	what := "integers"
	if targets[0].k.field == nil {
		what = "names"
	}
	items, err := node{g.v}.list(what, "value")
	if err != nil {
		p.fail(g.v.Line, key, err)
		return Sweep{}, false
	}
	values, ok := p.sweepValues(key, emuOnly, items, targets)
	return Sweep{Key: g.key, Values: values, Line: g.k.Line}, ok
}

// sweepValues reads a sweep's values, checking each on every scale of
// every workload it applies to; ok is false if any fails.
func (p *parser) sweepValues(key string, emuOnly bool, items []raw, targets []target) (values []report.Value, ok bool) {
	seen := map[report.Value]int{}
	ok = true
	for _, it := range items {
		v, err := sweepValue(targets[0].k, it)
		if err == nil {
			if first, dup := seen[v]; dup {
				err = fmt.Errorf("duplicate value %s (first at line %d)", v, first)
			}
			seen[v] = it.line()
		}
		for _, t := range targets {
			if err != nil {
				break
			}
			err = setScales(t.k, it, &t.w, emuOnly) // t.w is a copy
		}
		if err != nil {
			p.fail(it.line(), key, err)
			ok = false
			continue
		}
		values = append(values, v)
	}
	return values, ok
}

// sweepValue reads one value of a sweep over k: an integer, or a name
// (which setScales then checks against the key's names).
func sweepValue(k *Key, it raw) (report.Value, error) {
	if k.field != nil {
		n, err := it.integer()
		return report.Int(n), err
	}
	s, err := it.str("one of " + strings.Join(k.Type.Names, ", "))
	if err != nil || s == "" {
		return report.Value{}, fmt.Errorf("want one of %s", strings.Join(k.Type.Names, ", "))
	}
	return report.Name(s), nil
}

// setScales sets parameter k to v on the scales of w that a sweep or
// --set changes (the emulation scale only for emulation.<param>) and
// validates them.
func setScales(k *Key, v raw, w *Workload, emuOnly bool) error {
	scales := []*workload.Params{&w.Emu}
	if !emuOnly {
		scales = append(scales, &w.Native)
	}
	for _, q := range scales {
		if err := k.param(q, v); err != nil {
			return err
		}
		if err := q.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// grid checks the size of every workload's grid.
func (p *parser) grid(e *Experiment, sweeps []Sweep) {
	for _, w := range e.Workloads {
		total := 1
		for _, s := range sweeps {
			if !sweepApplies(s.Key, w.Native) {
				continue
			}
			if total *= len(s.Values); total > MaxCells {
				p.errorf(s.Line, join("sweeps", s.Key), "the grid of %s has more than %d cells", w.Kind, MaxCells)
				break
			}
		}
	}
}
