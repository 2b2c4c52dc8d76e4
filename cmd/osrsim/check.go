package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/osrsim/osrsim/baseline"
	"github.com/osrsim/osrsim/experiments"
	"github.com/osrsim/osrsim/internal/enum"
	"github.com/osrsim/osrsim/report"
	"github.com/osrsim/osrsim/runner"
	"github.com/osrsim/osrsim/sim"
)

// checkFlags are the flags of osrsim check.
type checkFlags struct {
	sel                              selection
	base, tol, nativeMode, threshold string
	update, markdown                 bool
}

// checkCommand runs experiments and compares them with a stored baseline:
// exact on emulated counts, statistical on native time (off by default).
// Exit 0 ok, 1 regression (or a libunicorn mismatch), 2 bad input.
func checkCommand() *cobra.Command {
	var f checkFlags
	cmd := &cobra.Command{
		Use:   "check --baseline FILE [CONFIG.yaml ...]",
		Short: "Re-run experiments and compare them with a stored baseline (the CI gate)",
		Long: `Re-run the experiments and compare the results with a baseline report.json.
Emulated counts are compared exactly: a rise beyond --tolerance fails (exit
1), falls are listed as faster. Native time is compared only with --native
warn|enforce (Mann–Whitney U test, --native-threshold). A baseline recorded
under another libunicorn version exits 1 as such. Only --update writes a
baseline.`,
		Example: `  osrsim check --baseline results/baselines/seed.json experiments/seed.yaml
  osrsim check --baseline results/baselines/live-locals.json experiments/live-locals.yaml --markdown
  osrsim check --update --baseline results/baselines/frame-size.json experiments/frame-size.yaml`,
		ValidArgsFunction: completeInputs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.run(args, cmd.OutOrStdout())
		},
	}
	f.sel.register(cmd)
	fs := cmd.Flags()
	fs.StringVar(&f.base, "baseline", "", "the baseline, a report.json `FILE` (required)")
	fs.StringVar(&f.tol, "tolerance", "0", "let exact counts rise by this `FRACTION` (0.01 or 1%)")
	fs.StringVar(&f.nativeMode, "native", "off", "compare native time too: `off|warn|enforce`")
	fs.StringVar(&f.threshold, "native-threshold", "5%", "a native median must move by this `FRACTION` to count")
	fs.BoolVar(&f.update, "update", false, "rewrite the baseline from this run (the only way a baseline is written)")
	fs.BoolVar(&f.markdown, "markdown", false, "print the delta table as Markdown (for CI summaries)")
	cmd.MarkFlagRequired("baseline")
	cmd.MarkFlagFilename("baseline", "json")
	completeValues(cmd, "native", enum.Names(baseline.NativeModes))
	return cmd
}

func (f *checkFlags) run(args []string, stdout io.Writer) error {
	opt := baseline.DefaultOptions()
	var err error
	if opt.Tolerance, err = baseline.ParseFraction(f.tol); err != nil {
		return badf("--tolerance: %v", err)
	}
	if opt.NativeThreshold, err = baseline.ParseFraction(f.threshold); err != nil {
		return badf("--native-threshold: %v", err)
	}
	if opt.Native, err = baseline.ParseNativeMode(f.nativeMode); err != nil {
		return badf("--native: %v", err)
	}
	if err := opt.Validate(); err != nil {
		return badf("check: %v", err)
	}
	var old *report.Report
	if !f.update {
		if old, err = baseline.Load(f.base); err != nil {
			return badInput{err}
		}
	} else if _, err := os.Stat(f.base); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return badf("--baseline: %v", err)
	}
	exps, err := f.sel.load(args)
	if err != nil {
		return err
	}
	cur, err := runChecked(exps, opt.Native != baseline.NativeOff)
	if err != nil {
		return err
	}
	if f.update {
		if err := baseline.Save(f.base, cur); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "recorded %d results of %s in %s (libunicorn %s)\n", len(cur.Results), cur.Experiment, f.base, cur.Env.Unicorn)
		return nil
	}
	v := baseline.Compare(old, cur, opt)
	if f.markdown {
		fmt.Fprint(stdout, v.Markdown())
	} else {
		fmt.Fprint(stdout, v.Table())
	}
	switch v.ExitCode() {
	case 0:
		return nil
	case 1:
		return regression{fmt.Sprintf("check against %s: %s", f.base, v.Summary())}
	}
	return badf("check against %s: %s", f.base, v.Summary())
}

// runChecked runs the experiments (emulation only unless native time is
// compared too) and merges their results into one report.
func runChecked(exps []*experiments.Experiment, withNative bool) (*report.Report, error) {
	var reports []*report.Report
	for _, e := range exps {
		e.Engines = []sim.Engine{sim.Emu}
		if withNative {
			e.Engines = append(e.Engines, sim.Native)
		}
		m, err := cycleModel(e)
		if err != nil {
			return nil, err
		}
		r, err := runner.Run(e, runner.Options{Version: version, Cycles: m})
		if err != nil {
			return nil, err
		}
		reports = append(reports, r)
	}
	merged, err := baseline.Merge(reports...)
	if err != nil {
		return nil, badInput{err}
	}
	return merged, nil
}
