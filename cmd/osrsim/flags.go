package main

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/osrsim/osrsim/cycles"
	"github.com/osrsim/osrsim/experiments"
	"github.com/osrsim/osrsim/internal/enum"
	"github.com/osrsim/osrsim/patchpoint"
)

// selection holds the flags every command has for choosing what to run.
type selection struct {
	strategies []string
	sets       []string
}

// register adds --strategy and --set to cmd, with their completions.
func (s *selection) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringSliceVar(&s.strategies, "strategy", nil, "run these strategies, `S,...` or the flag repeated ("+strings.Join(enum.Names(patchpoint.Strategies), ", ")+")")
	f.StringArrayVar(&s.sets, "set", nil, "set a parameter as the config would, `key=value` (repeatable)")
	completeValues(cmd, "strategy", enum.Names(patchpoint.Strategies))
	cmd.RegisterFlagCompletionFunc("set", completeSetKeys)
}

// completeSetKeys offers every key --set accepts, as "key=".
func completeSetKeys(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	var out []string
	for _, k := range experiments.Keys() {
		if k.FileOnly {
			continue
		}
		out = append(out, k.Name+"=")
		if k.Scope == experiments.Param {
			out = append(out, "emulation."+k.Name+"=")
		}
	}
	return out, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
}

// load reads the experiments named on the command line (the embedded
// default when none) and applies --strategy and --set.
func (s *selection) load(paths []string) ([]*experiments.Experiment, error) {
	var exps []*experiments.Experiment
	if len(paths) == 0 {
		exps = append(exps, experiments.Default())
	}
	for _, p := range paths {
		e, err := loadInput(p)
		if err != nil {
			return nil, err
		}
		exps = append(exps, e)
	}
	return exps, s.applyAll(exps)
}

// applyAll applies --strategy and --set to each experiment.
func (s *selection) applyAll(exps []*experiments.Experiment) error {
	for _, e := range exps {
		if err := s.apply(e); err != nil {
			return err
		}
	}
	return nil
}

func (s *selection) apply(e *experiments.Experiment) error {
	if len(s.strategies) > 0 {
		var ss []patchpoint.Strategy
		for _, name := range s.strategies {
			st, err := patchpoint.ParseStrategy(strings.TrimSpace(name))
			if err != nil {
				return badf("--strategy: %v", err)
			}
			ss = append(ss, st)
		}
		e.Strategies = ss
		found := false
		for _, st := range ss {
			found = found || st == e.Baseline
		}
		if !found {
			e.Baseline = ss[0]
		}
	}
	for _, kv := range s.sets {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return badf("--set %q: want key=value", kv)
		}
		if err := e.Set(strings.TrimSpace(k), strings.TrimSpace(v)); err != nil {
			return err
		}
	}
	return nil
}

// checkWritableDir fails early (before any work) if dir can't be created
// or written, so bad output paths cost nothing and leave nothing behind.
func checkWritableDir(dir string) error {
	parent := filepath.Dir(filepath.Clean(dir))
	if st, err := os.Stat(dir); err == nil {
		if !st.IsDir() {
			return badf("output %s exists and is not a directory", dir)
		}
		parent = dir
	}
	for p := parent; ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err == nil {
			if !st.IsDir() {
				return badf("output %s: %s is not a directory", dir, p)
			}
			f, err := os.CreateTemp(p, ".osrsim-probe-*")
			if err != nil {
				return badf("output directory %s is not writable: %v", dir, err)
			}
			f.Close()
			os.Remove(f.Name())
			return nil
		}
		if p == filepath.Dir(p) {
			return badf("output %s: no existing parent directory", dir)
		}
	}
}

// oneExperiment is for commands that take at most one config (maxArgs(1)).
func oneExperiment(s *selection, pos []string) (*experiments.Experiment, error) {
	exps, err := s.load(pos)
	if err != nil {
		return nil, err
	}
	return exps[0], nil
}

// cycleModel resolves an experiment's cycle_model: a built-in name, a
// calibration file relative to the config, or "none".
func cycleModel(e *experiments.Experiment) (*cycles.Model, error) {
	if e.CycleModel == "none" {
		return nil, nil
	}
	dir := ""
	if e.File != experiments.SeedFile {
		dir = filepath.Dir(e.File)
	}
	m, err := cycles.Lookup(e.CycleModel, dir)
	if err != nil {
		return nil, badf("%s: %v", e.File, err)
	}
	return m, nil
}
