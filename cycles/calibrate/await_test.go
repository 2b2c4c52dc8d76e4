package calibrate

import (
	"os"
	"sort"
	"testing"

	"github.com/osrsim/osrsim/cycles"
	"github.com/osrsim/osrsim/cycles/emu"
	"github.com/osrsim/osrsim/patchpoint"
	"github.com/osrsim/osrsim/sim/native"
	"github.com/osrsim/osrsim/sim/unicorn"
	"github.com/osrsim/osrsim/workload"
)

// TestAgreementAwaitLoop compares the helper/direct ratio of estimated
// cycles with the native wall-clock ratio of the same images (await-loop,
// default parameters; OSRSIM_CYCLE_MODEL names the model, default: a fresh
// calibration). It reports the figures; the 20% target is not met
// yet (see cycles/README.md, "Accuracy"), so it does not fail on them.
func TestAgreementAwaitLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("native runs")
	}
	var m *cycles.Model
	if p := os.Getenv("OSRSIM_CYCLE_MODEL"); p != "" {
		var err error
		if m, err = cycles.Lookup(p, ""); err != nil {
			t.Fatal(err)
		}
	} else {
		f, err := Run(Options{Iterations: 50000, Samples: 5})
		if err != nil {
			t.Fatal(err)
		}
		if m, err = f.Model(); err != nil {
			t.Fatal(err)
		}
	}
	p := workload.DefaultParams(workload.AwaitLoop)
	var cyc, ns [2]float64
	for i, s := range []patchpoint.Strategy{patchpoint.Helper, patchpoint.Direct} {
		b, err := workload.Build(p, s)
		if err != nil {
			t.Fatal(err)
		}
		res, c, err := emu.Run(b.Image, unicorn.Options{}, m, false)
		if err != nil {
			t.Fatal(err)
		}
		l, err := native.Load(b.Image)
		if err != nil {
			t.Fatal(err)
		}
		nr, err := l.Run(native.Options{Warmup: 2, Samples: 11})
		l.Close()
		if err != nil {
			t.Fatal(err)
		}
		sort.Float64s(nr.SamplesNs)
		cyc[i], ns[i] = c.Estimated, nr.SamplesNs[len(nr.SamplesNs)/2]
		n := float64(p.Awaits)
		t.Logf("%-6v insts/resume %7.1f cycles/resume %7.1f ns/resume %6.1f mispredicts branch %d indirect %d return %d",
			s, float64(res.Counts.Total)/n, cyc[i]/n, ns[i]/n, c.BranchMispredicts, c.IndirectMispredicts, c.ReturnMispredicts)
	}
	rc, rn := cyc[0]/cyc[1], ns[0]/ns[1]
	t.Logf("model %s: helper/direct cycles %.2f, native %.2f (cycles/native %.2f; target within 20%%)", m.Name, rc, rn, rc/rn)
}
