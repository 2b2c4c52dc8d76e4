package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/osrsim/osrsim/report"
	"github.com/osrsim/osrsim/runner"
	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/unicorn"
)

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var sel selection
	sel.register(fs)
	engine := fs.String("engine", "", fmt.Sprintf("%s, %s or %s (default: the config's engines)", sim.Emu, sim.Native, sim.AllEngines))
	out := fs.String("out", "", "output directory (default results/<experiment>/)")
	exact := fs.Bool("exact", false, "count with a per-instruction hook (verification mode)")
	workers := fs.Int("workers", 0, "parallel emulation workers (default: one per core)")
	quiet := fs.Bool("quiet", false, "print only where the report went")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	var engines []sim.Engine
	if *engine != "" {
		if engines, err = sim.ParseEngines(*engine); err != nil {
			return badf("--engine: %v", err)
		}
	}
	if *exact && engines != nil && !slices.Contains(engines, sim.Emu) {
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
	models := make([]*unicorn.CycleModel, len(exps))
	for i, e := range exps {
		if models[i], err = cycleModel(e); err != nil {
			return err
		}
	}
	reports := make([]*report.Report, len(exps))
	took := make([]time.Duration, len(exps))
	for i, e := range exps {
		start := time.Now()
		reports[i], err = runner.Run(e, runner.Options{Version: version, Exact: *exact, Cycles: models[i], Workers: *workers, Progress: newProgress(stderr, *quiet), Done: ctx.Done()})
		if err != nil {
			return err
		}
		took[i] = time.Since(start)
	}
	// Every report is written, or none: an interrupt or a failure of any
	// experiment leaves every output directory as it was.
	if err := ctx.Err(); err != nil {
		return err
	}
	for i, e := range exps {
		r := reports[i]
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
		fmt.Fprintf(stdout, "%s: %d results in %.1fs; wrote %s/ (", e.Name, len(r.Results), took[i].Seconds(), dirs[i])
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
