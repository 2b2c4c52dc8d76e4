package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/osrsim/osrsim/cycles"
	"github.com/osrsim/osrsim/experiments"
	"github.com/osrsim/osrsim/report"
	"github.com/osrsim/osrsim/runner"
)

func cmdRun(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var sel selection
	sel.register(fs)
	engine := fs.String("engine", "", "emu, native or both (default: the config's engines)")
	out := fs.String("out", "", "output directory (default results/<experiment>/)")
	exact := fs.Bool("exact", false, "count with a per-instruction hook (verification mode)")
	workers := fs.Int("workers", 0, "parallel emulation workers (default: one per core)")
	quiet := fs.Bool("quiet", false, "print only where the report went")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	var engines []string
	switch *engine {
	case "":
	case "emu":
		engines = []string{experiments.Emu}
	case "native":
		engines = []string{experiments.Native}
	case "both":
		engines = []string{experiments.Emu, experiments.Native}
	default:
		return badf("--engine %q: want emu, native or both", *engine)
	}
	if *exact && *engine == "native" {
		return badf("--exact counts emulated instructions; it conflicts with --engine native")
	}
	if *workers < 0 {
		return badf("--workers must not be negative, got %d", *workers)
	}
	exps, err := sel.load(pos)
	if err != nil {
		return err
	}
	dirs := make([]string, len(exps))
	seen := map[string]string{}
	for i, e := range exps {
		if engines != nil {
			e.Engines = engines
		}
		switch {
		case *out == "":
			dirs[i] = filepath.Join("results", e.Name)
		case len(exps) == 1:
			dirs[i] = *out
		default:
			dirs[i] = filepath.Join(*out, e.Name)
		}
		if prev, ok := seen[dirs[i]]; ok {
			return badf("experiments %s and %s would both write %s", prev, e.File, dirs[i])
		}
		seen[dirs[i]] = e.File
		if err := checkWritableDir(dirs[i]); err != nil {
			return err
		}
	}
	models := make([]*cycles.Model, len(exps))
	for i, e := range exps {
		if models[i], err = cycleModel(e); err != nil {
			return err
		}
	}
	for i, e := range exps {
		start := time.Now()
		r, err := runner.Run(e, runner.Options{Version: version, Exact: *exact, Cycles: models[i], Workers: *workers, Progress: newProgress(stderr, *quiet)})
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Clean(dirs[i])), 0o755); err != nil {
			return err
		}
		files, err := report.WriteDir(r, dirs[i])
		if err != nil {
			return err
		}
		if !*quiet {
			fmt.Fprintln(stdout, report.Markdown(r))
		}
		fmt.Fprintf(stdout, "%s: %d results in %.1fs; wrote %s/ (", e.Name, len(r.Results), time.Since(start).Seconds(), dirs[i])
		for j, f := range files {
			if j > 0 {
				fmt.Fprint(stdout, ", ")
			}
			fmt.Fprint(stdout, filepath.Base(f))
		}
		fmt.Fprintln(stdout, ")")
	}
	return nil
}
