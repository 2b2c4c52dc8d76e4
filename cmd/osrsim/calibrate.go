package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/osrsim/osrsim/cycles"
)

// cmdCalibrate fits the cycle model's per-class costs and penalties to this
// machine from native microbenchmarks and writes a calibration file that
// configs name in `cycle_model:`.
func cmdCalibrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("calibrate", flag.ContinueOnError)
	out := fs.String("out", filepath.Join("results", "calibration.json"), "calibration file to write")
	name := fs.String("name", "calibrated", "model name recorded in reports")
	iters := fs.Int("iterations", 0, "loop iterations per microbenchmark (default 200,000)")
	samples := fs.Int("samples", 0, "native samples per microbenchmark (default 7)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return badf("calibrate takes no CONFIG")
	}
	if *iters < 0 || *samples < 0 {
		return badf("--iterations and --samples must not be negative")
	}
	if err := checkWritableDir(filepath.Dir(*out)); err != nil {
		return err
	}
	f, err := cycles.Calibrate(cycles.CalibrateOptions{Name: *name, Iterations: *iters, Samples: *samples, Log: stderr})
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}
	if err := cycles.WriteFile(*out, f); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s; use it with `cycle_model: <path relative to the config>` or --set cycle_model=%s\n", *out, *out)
	return nil
}
