package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/osrsim/osrsim/baseline"
	"github.com/osrsim/osrsim/experiments"
	"github.com/osrsim/osrsim/report"
	"github.com/osrsim/osrsim/runner"
	"github.com/osrsim/osrsim/sim"
)

// cmdCheck runs experiments and compares them with a stored baseline:
// exact on emulated counts, statistical on native time (off by default).
// Exit 0 ok, 1 regression (or a libunicorn mismatch), 2 bad input.
func cmdCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("check", flag.ContinueOnError)
	var sel selection
	sel.register(fset)
	base := fset.String("baseline", "", "baseline report.json (required)")
	tol := fset.String("tolerance", "0", "allowed relative rise of exact counts (0.01 or 1%)")
	nativeMode := fset.String("native", "off", "compare native time too: off, warn or enforce")
	threshold := fset.String("native-threshold", "5%", "smallest relative change of native median time that counts")
	update := fset.Bool("update", false, "rewrite the baseline from this run (the only way a baseline is written)")
	markdown := fset.Bool("markdown", false, "print the delta table as Markdown (for CI summaries)")
	pos, err := parse(fset, args)
	if err != nil {
		return err
	}
	if *base == "" {
		return badf("check: --baseline FILE is required")
	}
	opt := baseline.DefaultOptions()
	if opt.Tolerance, err = baseline.ParseFraction(*tol); err != nil {
		return badf("--tolerance: %v", err)
	}
	if opt.NativeThreshold, err = baseline.ParseFraction(*threshold); err != nil {
		return badf("--native-threshold: %v", err)
	}
	if opt.Native, err = baseline.ParseNativeMode(*nativeMode); err != nil {
		return badf("--native: %v", err)
	}
	if err := opt.Validate(); err != nil {
		return badf("check: %v", err)
	}
	var old *report.Report
	if !*update {
		if old, err = baseline.Load(*base); err != nil {
			return badInput{err}
		}
	} else if _, err := os.Stat(*base); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return badf("--baseline: %v", err)
	}
	exps, err := sel.load(pos)
	if err != nil {
		return err
	}
	cur, err := runChecked(ctx, exps, opt.Native != baseline.NativeOff)
	if err != nil {
		return err
	}
	if *update {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := baseline.Save(*base, cur); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "recorded %d results of %s in %s (libunicorn %s)\n", len(cur.Results), cur.Experiment, *base, cur.Env.Unicorn)
		return nil
	}
	v := baseline.Compare(old, cur, opt)
	if *markdown {
		fmt.Fprint(stdout, v.Markdown())
	} else {
		fmt.Fprint(stdout, v.Table())
	}
	switch v.ExitCode() {
	case 0:
		return nil
	case 1:
		return regression{fmt.Sprintf("check against %s: %s", *base, v.Summary())}
	}
	return badf("check against %s: %s", *base, v.Summary())
}

// runChecked runs the experiments (emulation only unless native time is
// compared too) and merges their results into one report.
func runChecked(ctx context.Context, exps []*experiments.Experiment, withNative bool) (*report.Report, error) {
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
		r, err := runner.Run(e, runner.Options{Version: version, Cycles: m, Done: ctx.Done()})
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
