package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/osrsim/osrsim/cycles"
	"github.com/osrsim/osrsim/internal/enum"
	"github.com/osrsim/osrsim/report"
	"github.com/osrsim/osrsim/runner"
	"github.com/osrsim/osrsim/sim"
)

// runFlags are the flags of osrsim run.
type runFlags struct {
	sel          selection
	engine, out  string
	exact, quiet bool
	markdown     bool
	workers      int
	shard        string
}

func runCommand() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [CONFIG.yaml ...]",
		Short: "Run experiments and write their reports",
		Long: `Run each experiment (the embedded default without a CONFIG) on its engines
and write results/<experiment>/: report.json, report.md, report.csv and plots.
Emulated results carry exact instruction counts per region and helper step
and estimated cycles; native ones wall-clock samples.`,
		Example: `  osrsim run
  osrsim run experiments/live-locals.yaml --engine emu --set awaits=2000
  osrsim run experiments/*.yaml --out results/all --quiet
  osrsim run sweep.yaml --shard 0/4 --out shard-0   # one share; see osrsim merge`,
		ValidArgsFunction: completeInputs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.run(cmd.Context(), args, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f.sel.register(cmd)
	fs := cmd.Flags()
	fs.StringVar(&f.engine, "engine", "", fmt.Sprintf("run on these engines, `%s|%s|%s` (default: the config's)", sim.Emu, sim.Native, sim.AllEngines))
	fs.StringVarP(&f.out, "out", "o", "", "write the report into `DIR` (default results/<experiment>/)")
	fs.BoolVar(&f.exact, "exact", false, "count with a per-instruction hook (verification mode)")
	fs.IntVar(&f.workers, "workers", 0, "emulate on `N` workers in parallel (default: one per core)")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "print only where the report went")
	fs.BoolVar(&f.markdown, "markdown", false, "print the whole report.md instead of the summary")
	fs.StringVar(&f.shard, "shard", "", "run share `i/n` of the sweep's cells (0 <= i < n: cell k goes to k mod n) and write a partial report for osrsim merge")
	completeValues(cmd, "engine", append(enum.Names(sim.Engines), sim.AllEngines))
	return cmd
}

func (f *runFlags) run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var engines []sim.Engine
	var err error
	if f.engine != "" {
		if engines, err = sim.ParseEngines(f.engine); err != nil {
			return badf("--engine: %v", err)
		}
	}
	if f.exact && engines != nil && !slices.Contains(engines, sim.Emu) {
		return badf("--exact counts emulated instructions; it conflicts with --engine native")
	}
	if f.workers < 0 {
		return badf("--workers must not be negative, got %d", f.workers)
	}
	var shard runner.Shard
	if f.shard != "" {
		if shard, err = runner.ParseShard(f.shard); err != nil {
			return badf("--shard: %v", err)
		}
	}
	exps, err := f.sel.load(args)
	if err != nil {
		return err
	}
	dirs := make([]string, len(exps))
	seen := map[string]string{}
	for i, e := range exps {
		if engines != nil {
			e.Engines = engines
		}
		if err := shard.Check(len(e.Cells())); err != nil {
			return badf("--shard: %s: %v", e.File, err)
		}
		switch {
		case f.out == "" && f.shard != "":
			dirs[i] = filepath.Join("results", fmt.Sprintf("%s.shard-%d-of-%d", e.Name, shard.Index, shard.Count))
		case f.out == "":
			dirs[i] = filepath.Join("results", e.Name)
		case len(exps) == 1:
			dirs[i] = f.out
		default:
			dirs[i] = filepath.Join(f.out, e.Name)
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
	reports := make([]*report.Report, len(exps))
	took := make([]time.Duration, len(exps))
	for i, e := range exps {
		start := time.Now()
		reports[i], err = runner.Run(e, runner.Options{Version: version, Exact: f.exact, Cycles: models[i], Workers: f.workers, Progress: newProgress(stderr, f.quiet), Shard: shard, Done: ctx.Done()})
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
		switch {
		case f.markdown:
			fmt.Fprintln(stdout, report.Markdown(r))
		case !f.quiet:
			fmt.Fprintln(stdout, report.Console(r))
		}
		fmt.Fprintf(stdout, "%s: %d results in %.1fs. Full report: %s\n%s\n", e.Name, len(r.Results), took[i].Seconds(),
			filepath.Join(dirs[i], "report.md"), alsoWritten(dirs[i], files))
	}
	return nil
}

// alsoWritten lists the report's other files, plots counted.
func alsoWritten(dir string, files []string) string {
	var others []string
	plots := map[string]bool{}
	for _, f := range files {
		name := filepath.Base(f)
		switch ext := filepath.Ext(name); {
		case name == "report.md":
		case ext == ".svg" || ext == ".png":
			plots[strings.TrimSuffix(name, ext)] = true
		default:
			others = append(others, name)
		}
	}
	if len(plots) > 0 {
		others = append(others, fmt.Sprintf("%d plots (SVG, PNG)", len(plots)))
	}
	return fmt.Sprintf("Also in %s: %s", filepath.Clean(dir)+string(filepath.Separator), strings.Join(others, ", "))
}
