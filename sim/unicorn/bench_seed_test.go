package unicorn

import (
	"testing"

	"github.com/osrsim/osrsim/patchpoint"
	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/workload"
)

func seedImage(b *testing.B, s patchpoint.Strategy) *sim.Image {
	built, err := workload.Build(workload.DefaultParams(workload.AwaitLoop), s)
	if err != nil {
		b.Fatal(err)
	}
	return built.Image
}

// BenchmarkSeedCountingOverhead runs the default experiment's emulated
// await-loop (n = 20,000, awaits = 10,000) for each strategy with counting
// on and on raw Unicorn, alternately, and reports the speed ratio
// (counting / raw; 1 = free).
func BenchmarkSeedCountingOverhead(b *testing.B) {
	for _, s := range patchpoint.Strategies {
		b.Run(s.String(), func(b *testing.B) { countingOverhead(b, seedImage(b, s)) })
	}
}
