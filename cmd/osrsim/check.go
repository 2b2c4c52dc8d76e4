package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

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
	stderr                           io.Writer
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
		Long: `Re-run the experiment the baseline records (or the CONFIGs named, which must
be of the baseline's experiment) and compare the results with the baseline.
Emulated counts are compared exactly: a rise beyond --tolerance fails (exit
1), falls are listed as faster. Native time is compared only with --native
report|warn|enforce (Mann–Whitney U test, --native-threshold). A baseline
recorded under another libunicorn version exits 1 as such. Only --update
writes a baseline.`,
		Example: `  osrsim check --baseline results/baselines/seed.json
  osrsim check --baseline results/baselines/live-locals.json experiments/live-locals.yaml --markdown
  osrsim check --update --baseline results/baselines/frame-size.json experiments/frame-size.yaml`,
		ValidArgsFunction: completeInputs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f.stderr = cmd.ErrOrStderr()
			return f.run(cmd.Context(), args, cmd.OutOrStdout())
		},
	}
	f.sel.register(cmd)
	fs := cmd.Flags()
	fs.StringVar(&f.base, "baseline", "", "the baseline, a report.json `FILE` (required)")
	fs.StringVar(&f.tol, "tolerance", "0", "let exact counts rise by this `FRACTION` (0.01 or 1%)")
	fs.StringVar(&f.nativeMode, "native", "off", "compare native time too: `off|report|warn|enforce`")
	fs.StringVar(&f.threshold, "native-threshold", "5%", "a native median must move by this `FRACTION` to count")
	fs.BoolVar(&f.update, "update", false, "rewrite the baseline from this run (the only way a baseline is written)")
	fs.BoolVar(&f.markdown, "markdown", false, "print the delta table as Markdown (for CI summaries)")
	cmd.MarkFlagRequired("baseline")
	cmd.MarkFlagFilename("baseline", "json")
	completeValues(cmd, "native", enum.Names(baseline.NativeModes))
	return cmd
}

func (f *checkFlags) run(ctx context.Context, args []string, stdout io.Writer) error {
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
	old, err := baseline.Load(f.base)
	switch {
	case err == nil:
	case f.update && errors.Is(err, fs.ErrNotExist):
		old = nil // a first baseline
	case f.update && len(args) > 0:
		old = nil // the configs say what to record over it
	default:
		return badInput{err}
	}
	exps, err := f.experiments(args, old)
	if err != nil {
		return err
	}
	cur, err := runChecked(ctx, exps, opt.Native != baseline.NativeOff)
	if err != nil {
		return err
	}
	if f.update {
		if err := ctx.Err(); err != nil {
			return err
		}
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

// experiments are what check runs: the configs named, or the ones the
// baseline records (the default experiment for a first baseline), with
// --strategy and --set applied. Configs of another experiment than the
// baseline's are refused; configs of its experiment that differ from the
// recorded ones get a note on stderr.
func (f *checkFlags) experiments(args []string, old *report.Report) ([]*experiments.Experiment, error) {
	if len(args) == 0 && old != nil {
		return f.recorded(old)
	}
	exps, err := f.sel.load(args)
	if err != nil || old == nil {
		return exps, err
	}
	var names []string
	var configs []string
	for _, e := range exps {
		names = append(names, e.Name)
		configs = append(configs, string(e.Resolved()))
	}
	if got := strings.Join(names, "+"); got != old.Experiment {
		return nil, badf("%s is experiment %q, but baseline %s is of %q: name that experiment's config, or none to run the one the baseline records",
			strings.Join(args, " "), got, f.base, old.Experiment)
	}
	if recorded := baseline.Configs(old); recorded != nil && !slices.Equal(recorded, configs) {
		fmt.Fprintf(f.stderr, "osrsim: note: the config differs from the one baseline %s records:\n%s", f.base,
			lineDiff(strings.Join(recorded, ""), strings.Join(configs, "")))
	}
	return exps, nil
}

// recorded reads the configs a baseline records, with --strategy and
// --set applied.
func (f *checkFlags) recorded(old *report.Report) ([]*experiments.Experiment, error) {
	configs := baseline.Configs(old)
	if len(configs) == 0 {
		return nil, badf("baseline %s does not record its experiment's config (it was recorded before baselines did): name the config, e.g. osrsim check --baseline %s experiments/%s.yaml, or re-record it with --update and the config",
			f.base, f.base, old.Experiment)
	}
	var exps []*experiments.Experiment
	for _, c := range configs {
		e, err := experiments.ParseRecorded(f.base+" (recorded config)", []byte(c))
		if err != nil {
			return nil, err
		}
		exps = append(exps, e)
	}
	return exps, f.sel.applyAll(exps)
}

// lineDiff lists the lines only in a ("- ") and only in b ("+ "),
// indented: what a changed config changed.
func lineDiff(a, b string) string {
	as, bs := strings.Split(strings.TrimSuffix(a, "\n"), "\n"), strings.Split(strings.TrimSuffix(b, "\n"), "\n")
	var out strings.Builder
	for _, l := range as {
		if !slices.Contains(bs, l) {
			out.WriteString("  - " + l + "\n")
		}
	}
	for _, l := range bs {
		if !slices.Contains(as, l) {
			out.WriteString("  + " + l + "\n")
		}
	}
	return out.String()
}

// runChecked runs the experiments (emulation only unless native time is
// compared too) and merges their results into one report.
func runChecked(ctx context.Context, exps []*experiments.Experiment, withNative bool) (*report.Report, error) {
	var reports []*report.Report
	for _, e := range exps {
		config := e.Resolved() // as configured: the engines below are check's
		e.Engines = []sim.Engine{sim.Emu}
		if withNative {
			e.Engines = append(e.Engines, sim.Native)
		}
		m, err := cycleModel(e)
		if err != nil {
			return nil, err
		}
		r, err := runner.Run(e, runner.Options{Version: version, Cycles: m, Done: ctx.Done()})
		if err != nil {
			return nil, err
		}
		r.Config = string(config)
		reports = append(reports, r)
	}
	merged, err := baseline.Merge(reports...)
	if err != nil {
		return nil, badInput{err}
	}
	return merged, nil
}
