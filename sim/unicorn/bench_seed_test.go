package unicorn

import (
	"testing"
	"time"

	"github.com/osrsim/osrsim/patchpoint"
	"github.com/osrsim/osrsim/workload"
)

// BenchmarkSeedCountingOverhead runs the default experiment's emulated
// await-loop (n = 20,000, awaits = 10,000) for each strategy with counting
// on and on raw Unicorn, interleaved in one run, and reports the speed
// ratio (counting / raw; 1 = free).
func BenchmarkSeedCountingOverhead(b *testing.B) {
	for _, s := range patchpoint.Strategies {
		b.Run(s.String(), func(b *testing.B) {
			built, err := workload.Build(workload.DefaultParams(workload.AwaitLoop), s)
			if err != nil {
				b.Fatal(err)
			}
			raw := newMachine(b, built.Image, Options{noHooks: true})
			cnt := newMachine(b, built.Image, Options{})
			var tRaw, tCnt time.Duration
			var insts uint64
			for b.Loop() {
				t0 := time.Now()
				if _, err := raw.Run(); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				res, err := cnt.Run()
				if err != nil {
					b.Fatal(err)
				}
				tRaw, tCnt = tRaw+t1.Sub(t0), tCnt+time.Since(t1)
				insts += res.Counts.Total
			}
			b.ReportMetric(float64(insts)/tRaw.Seconds(), "raw-insts/s")
			b.ReportMetric(float64(insts)/tCnt.Seconds(), "counted-insts/s")
			b.ReportMetric(tRaw.Seconds()/tCnt.Seconds(), "ratio")
		})
	}
}

// BenchmarkSeedCycleOverhead runs the default experiment's emulated
// await-loop with counting only and with the core cycle model (TAGE, real
// addresses), interleaved, and reports the time ratio (cycles/counting).
func BenchmarkSeedCycleOverhead(b *testing.B) {
	for _, s := range []patchpoint.Strategy{patchpoint.Helper, patchpoint.Direct} {
		b.Run(s.String(), func(b *testing.B) {
			built, err := workload.Build(workload.DefaultParams(workload.AwaitLoop), s)
			if err != nil {
				b.Fatal(err)
			}
			cnt := newMachine(b, built.Image, Options{})
			cy := newMachine(b, built.Image, Options{Cycles: testCoreModel()})
			var tCnt, tCy time.Duration
			for b.Loop() {
				t0 := time.Now()
				if _, err := cnt.Run(); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if _, err := cy.Run(); err != nil {
					b.Fatal(err)
				}
				tCnt, tCy = tCnt+t1.Sub(t0), tCy+time.Since(t1)
			}
			b.ReportMetric(tCy.Seconds()/tCnt.Seconds(), "ratio")
		})
	}
}
