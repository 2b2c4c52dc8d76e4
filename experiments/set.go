package experiments

import (
	"fmt"
	"strings"

	"github.com/osrsim/osrsim/report"
)

// Set applies a --set key=value override. The keys and values are those
// of a config file (Keys), read through the same table, so a value a file
// rejects --set rejects too:
//
//   - a run key (native.samples, emulation.timeout, cycle_model, ...),
//     except FileOnly ones;
//   - a shared parameter (patchpoint.hit_limit): every workload, both
//     scales;
//   - a workload parameter (n, awaits, ...): both scales of every workload
//     that has it; emulation.<param>: the emulation scale only.
//
// Values are written as on a file's line (integers as in Go source, e.g.
// 1000, 1_000, 0x3e8; durations as time.ParseDuration). A parameter no
// workload of the experiment has is an error. Setting a swept parameter
// fixes that sweep to the single value (a plain parameter also fixes a
// sweep over emulation.<param>); setting emulation.<param> while <param>
// is swept is an error. On error nothing changes.
func (e *Experiment) Set(key, value string) error {
	fail := func(err error) error {
		return &Error{File: "--set", Key: key, Msg: message(err)}
	}
	v := text(strings.TrimSpace(value))
	if k := lookupKey(key); k != nil && k.Scope == Run {
		if k.FileOnly {
			return fail(fmt.Errorf("is set in the config only (--strategy and --engine select strategies and engines)"))
		}
		if err := k.run(e, v); err != nil {
			return fail(err)
		}
		return nil
	}
	name, emuOnly := splitEmu(key)
	if k := lookupKey(name); k != nil && (k.Scope == Run || (emuOnly && k.Scope != Param)) {
		return fail(fmt.Errorf("unknown key (want a workload parameter, emulation.<param>, patchpoint.<field> or one of %s)", strings.Join(settableRunKeys(), ", ")))
	}
	if err := e.setParam(name, emuOnly, v); err != nil {
		return fail(err)
	}
	return nil
}

// setParam sets a shared or workload parameter on the workloads that have
// it and fixes the sweeps over it.
func (e *Experiment) setParam(name string, emuOnly bool, v raw) error {
	if emuOnly {
		for _, s := range e.Sweeps {
			if s.Key == name {
				return fmt.Errorf("%s is swept (line %d); --set %s=V fixes the sweep on both scales", name, s.Line, name)
			}
		}
	}
	ws := append([]Workload(nil), e.Workloads...)
	var set *Workload
	var k *Key
	for i := range ws {
		w := &ws[i]
		wk := paramKeyFor(w.Native, name)
		if wk == nil || (emuOnly && wk.Scope != Param) {
			continue
		}
		if err := setScales(wk, v, w, emuOnly); err != nil {
			return err
		}
		set, k = w, wk
	}
	if set == nil {
		if lookupKey(name) == nil {
			return fmt.Errorf("unknown key (want a workload parameter, emulation.<param>, patchpoint.<field> or one of %s)", strings.Join(settableRunKeys(), ", "))
		}
		return fmt.Errorf("no workload of this experiment has parameter %s", name)
	}
	copy(e.Workloads, ws)
	if !k.sweepable() {
		return nil
	}
	value := k.valueOf(&set.Emu)
	for i := range e.Sweeps {
		// emulation.<param> itself swept was refused above.
		if s := &e.Sweeps[i]; s.Key == name || s.Key == "emulation."+name {
			s.Values = []report.Value{value}
		}
	}
	return nil
}

// settableRunKeys lists the run keys --set accepts.
func settableRunKeys() []string {
	var names []string
	for _, k := range keys {
		if k.Scope == Run && !k.FileOnly {
			names = append(names, k.Name)
		}
	}
	return names
}
