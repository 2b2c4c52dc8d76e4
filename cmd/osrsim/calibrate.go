package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/osrsim/osrsim/cycles"
	"github.com/osrsim/osrsim/cycles/calibrate"
)

// calibrateCommand fits the cycle model's per-class costs and penalties to this
// machine from native microbenchmarks and writes a calibration file that
// configs name in `cycle_model:`.
func calibrateCommand() *cobra.Command {
	var f calibrateFlags
	cmd := &cobra.Command{
		Use:   "calibrate",
		Short: "Fit the cycle model to this machine",
		Long: `Time native microbenchmarks of each instruction class and predictor event
and write a calibration file: a cycle model that configs name with
cycle_model: (a path relative to the config) or --set cycle_model=FILE.`,
		Example: `  osrsim calibrate --out results/calibration.json
  osrsim run --set cycle_model=results/calibration.json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&f.out, "out", "o", filepath.Join("results", "calibration.json"), "write the calibration to `FILE`")
	fs.StringVar(&f.name, "name", "calibrated", "name the model `NAME` in reports")
	fs.IntVar(&f.iters, "iterations", 0, "run each microbenchmark's loop `N` times (default 200,000)")
	fs.IntVar(&f.samples, "samples", 0, "take `N` native samples of each microbenchmark (default 7)")
	cmd.MarkFlagFilename("out", "json")
	return cmd
}

// calibrateFlags are the flags of osrsim calibrate.
type calibrateFlags struct {
	out, name      string
	iters, samples int
}

func (f *calibrateFlags) run(ctx context.Context, stdout, stderr io.Writer) error {
	if f.iters < 0 || f.samples < 0 {
		return badf("--iterations and --samples must not be negative")
	}
	if err := checkWritableDir(filepath.Dir(f.out)); err != nil {
		return err
	}
	cal, err := calibrate.Run(calibrate.Options{Name: f.name, Iterations: f.iters, Samples: f.samples, Log: stderr})
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(f.out), 0o755); err != nil {
		return err
	}
	if err := cycles.WriteFile(f.out, cal); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s; use it with `cycle_model: <path relative to the config>` or --set cycle_model=%s\n", f.out, f.out)
	return nil
}
