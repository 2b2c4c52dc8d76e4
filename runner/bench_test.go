package runner

import (
	"fmt"
	"testing"

	"github.com/osrsim/osrsim/experiments"
	"github.com/osrsim/osrsim/patchpoint"
	"github.com/osrsim/osrsim/sim/unicorn"
	"github.com/osrsim/osrsim/workload"
)

// sweepConfig is the sweep of issue 14 (live_locals × extra_frame at
// awaits=2000, three strategies) with the first `cells` cells of its
// 10 × 10 grid, or more: extra_frame takes cells/10 values.
func sweepConfig(b testing.TB, cells int) *experiments.Experiment {
	frames := ""
	for i := 0; i < max(1, cells/10); i++ {
		if i > 0 {
			frames += ", "
		}
		frames += fmt.Sprint(i * 16)
	}
	live := "[0, 1, 2, 3, 4, 5, 6, 8, 12, 16]"
	if cells < 10 {
		live = "[0]"
	}
	cfg := fmt.Sprintf(`name: sweep
strategies: [helper, direct, helper-return]
engines: [emu]
baseline: helper
workloads:
  await-loop:
    n: 20000
    awaits: 2000
sweeps:
  live_locals: %s
  extra_frame: [%s]
`, live, frames)
	e, err := experiments.Parse("sweep.yaml", []byte(cfg))
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// benchCell is one cell of the sweep (live_locals=4, extra_frame=1024).
func benchCell() workload.Params {
	p := workload.DefaultParams(workload.AwaitLoop)
	p.N, p.Awaits, p.LiveLocals, p.ExtraFrame = 20000, 2000, 4, 1024
	return p
}

// BenchmarkCellBuild is the cost of generating, laying out and linking one
// cell's image.
func BenchmarkCellBuild(b *testing.B) {
	b.ReportAllocs()
	p := benchCell()
	for b.Loop() {
		if _, err := workload.Build(p, patchpoint.Direct); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCellEmulate is one cell end to end: build, emulate the run and
// its setup run, verify and turn the counts into a result.
func BenchmarkCellEmulate(b *testing.B) {
	b.ReportAllocs()
	p := benchCell()
	for b.Loop() {
		bt, err := workload.Build(p, patchpoint.Direct)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := Emulate(bt, unicorn.Options{}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSweep runs a 10-cell sweep (30 results) the way `osrsim run`
// does; cells/s is the throughput a sweep sees.
func BenchmarkSweep(b *testing.B) {
	b.ReportAllocs()
	e := sweepConfig(b, 10)
	cells := 0
	for b.Loop() {
		r, err := Run(e, Options{Version: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		cells += len(r.Results) / len(e.Strategies)
	}
	b.ReportMetric(float64(cells)/b.Elapsed().Seconds(), "cells/s")
}
