package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/osrsim/osrsim/cycles"
	"github.com/osrsim/osrsim/experiments"
	"github.com/osrsim/osrsim/patchpoint"
)

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// parse parses flags anywhere among the arguments (osrsim run seed.yaml
// --engine emu) and returns the positional ones.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			return nil, badf("unknown flag %s", a)
		}
		if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
			continue
		}
		if i+1 >= len(args) {
			return nil, badf("flag %s needs a value", a)
		}
		i++
		flags = append(flags, args[i])
	}
	if err := fs.Parse(flags); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, badf("%s: see osrsim help", fs.Name())
		}
		return nil, badInput{err}
	}
	return pos, nil
}

// selection holds the flags every command has for choosing what to run.
type selection struct {
	strategies string
	sets       multi
}

func (s *selection) register(fs *flag.FlagSet) {
	fs.StringVar(&s.strategies, "strategy", "", "comma-separated strategies (helper, direct, helper-return)")
	fs.Var(&s.sets, "set", "override a parameter: key=value (repeatable)")
}

// load reads the experiments named on the command line (the embedded
// default when none) and applies --strategy and --set.
func (s *selection) load(paths []string) ([]*experiments.Experiment, error) {
	var exps []*experiments.Experiment
	if len(paths) == 0 {
		exps = append(exps, experiments.Default())
	}
	for _, p := range paths {
		e, err := experiments.Load(p)
		if err != nil {
			return nil, err
		}
		exps = append(exps, e)
	}
	for _, e := range exps {
		if err := s.apply(e); err != nil {
			return nil, err
		}
	}
	return exps, nil
}

func (s *selection) apply(e *experiments.Experiment) error {
	if s.strategies != "" {
		var ss []patchpoint.Strategy
		for _, name := range strings.Split(s.strategies, ",") {
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

// oneExperiment is for commands that take at most one config.
func oneExperiment(s *selection, pos []string) (*experiments.Experiment, error) {
	if len(pos) > 1 {
		return nil, badf("at most one CONFIG, got %d", len(pos))
	}
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
