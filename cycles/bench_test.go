package cycles_test

import (
	"testing"

	. "github.com/osrsim/osrsim/cycles"
	"github.com/osrsim/osrsim/patchpoint"
	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/observe"
	"github.com/osrsim/osrsim/sim/simtest"
	"github.com/osrsim/osrsim/sim/unicorn"
	"github.com/osrsim/osrsim/workload"
)

// runner is a machine for im, warmed up (translation cache), with the
// model m attached unless it is nil, as a function that runs it once.
func runner(b *testing.B, im *sim.Image, m *Model) func() error {
	b.Helper()
	var obs []observe.Observer
	if m != nil {
		e, err := NewEstimator(m, false)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(e.Close)
		obs = append(obs, e)
	}
	mc, err := unicorn.New(im, unicorn.Options{Observers: obs})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { mc.Close() }) // before the estimator's Close
	run := func() error { _, err := mc.Run(); return err }
	if err := run(); err != nil {
		b.Fatal(err)
	}
	return run
}

// overhead alternates counting only and counting with model m on im and
// reports the time ratio (cycles/counting).
func overhead(b *testing.B, im *sim.Image, m *Model) {
	tCnt, tCy := simtest.Alternate(b, runner(b, im, nil), runner(b, im, m))
	b.ReportMetric(tCy.Seconds()/tCnt.Seconds(), "ratio")
}

// BenchmarkSeedCycleOverhead runs the default experiment's emulated
// await-loop with counting only and with the core cycle model (TAGE, real
// addresses), alternately, and reports the time ratio (cycles/counting).
func BenchmarkSeedCycleOverhead(b *testing.B) {
	for _, s := range []patchpoint.Strategy{patchpoint.Helper, patchpoint.Direct} {
		b.Run(s.String(), func(b *testing.B) {
			built, err := workload.Build(workload.DefaultParams(workload.AwaitLoop), s)
			if err != nil {
				b.Fatal(err)
			}
			overhead(b, built.Image, testCoreModel())
		})
	}
}

// BenchmarkCycleModelOverhead alternates block counting with and without
// the cycle model on the same images and reports the time ratio
// cycles/counting (target: at most 2). tier0 is the realistic loop of
// sim/unicorn's BenchmarkTier0Loop; regloop the worst case (a
// 3-instruction register loop, one block per iteration).
func BenchmarkCycleModelOverhead(b *testing.B) {
	for _, c := range []struct {
		name string
		im   *sim.Image
	}{
		{"tier0", simtest.LoopImage(b, simtest.Tier0Loop, 300_000, "patchpoint", "work")},
		{"regloop", simtest.LoopImage(b, simtest.RegisterLoop, 5_000_000)},
	} {
		for _, core := range []bool{false, true} {
			name := c.name
			if core {
				name += "/core"
			}
			b.Run(name, func(b *testing.B) {
				m := testModel()
				m.Predictor, m.HistoryBits = PredictorGshare, 8
				if core {
					m = testCoreModel()
				}
				overhead(b, c.im, m)
			})
		}
	}
}
