package unicorn

import (
	"testing"
	"time"

	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/simtest"
)

func benchImage(b *testing.B, iters uint64) *sim.Image {
	return simtest.LoopImage(b, simtest.Tier0Loop, iters, "patchpoint", "work")
}

func newMachine(b *testing.B, im *sim.Image, opt Options) *Machine {
	b.Helper()
	m, err := New(im, opt)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	if _, err := m.Run(); err != nil { // warm the translation cache
		b.Fatal(err)
	}
	return m
}

// BenchmarkTier0Loop runs 10^6 iterations (about 15M instructions) per op
// with no hooks (raw Unicorn), block counting, and exact counting.
func BenchmarkTier0Loop(b *testing.B) {
	im := benchImage(b, 1_000_000)
	ref, err := Run(im, Options{})
	if err != nil {
		b.Fatal(err)
	}
	insts := float64(ref.Counts.Total)
	for _, c := range []struct {
		name string
		opt  Options
	}{
		{"raw", Options{noHooks: true}},
		{"blocks", Options{}},
		{"exact", Options{Exact: true}},
	} {
		b.Run(c.name, func(b *testing.B) {
			m := newMachine(b, im, c.opt)
			b.ResetTimer()
			for b.Loop() {
				res, err := m.Run()
				if err != nil {
					b.Fatal(err)
				}
				if res.State.Ret != ref.State.Ret {
					b.Fatalf("ret %d, want %d", res.State.Ret, ref.State.Ret)
				}
			}
			b.ReportMetric(insts*float64(b.N)/b.Elapsed().Seconds(), "insts/s")
		})
	}
}

// alternate runs image im on two machines in turn (simtest.Alternate) and
// returns each one's total time and the instructions counted (by the
// second, or the first if only it counts).
func alternate(b *testing.B, im *sim.Image, first, second Options) (t1, t2 time.Duration, insts uint64) {
	m1, m2 := newMachine(b, im, first), newMachine(b, im, second)
	var n1, n2 uint64
	run := func(m *Machine, n *uint64) func() error {
		return func() error {
			r, err := m.Run()
			if err == nil {
				*n = r.Counts.Total
			}
			return err
		}
	}
	t1, t2 = simtest.Alternate(b, run(m1, &n1), run(m2, &n2))
	return t1, t2, uint64(b.N) * max(n1, n2)
}

// countingOverhead reports raw and counted speed and their ratio
// (counted/raw speed; 1.0 = free).
func countingOverhead(b *testing.B, im *sim.Image) {
	tRaw, tCnt, insts := alternate(b, im, Options{noHooks: true}, Options{})
	b.ReportMetric(float64(insts)/tRaw.Seconds(), "raw-insts/s")
	b.ReportMetric(float64(insts)/tCnt.Seconds(), "counted-insts/s")
	b.ReportMetric(tRaw.Seconds()/tCnt.Seconds(), "ratio")
}

// BenchmarkCountingOverhead: block counting against raw Unicorn on the
// tier0-style loop.
func BenchmarkCountingOverhead(b *testing.B) {
	countingOverhead(b, benchImage(b, 1_000_000))
}

// BenchmarkRegisterLoop is the worst case for block counting: a
// 3-instruction loop with no memory access, one block per iteration.
func BenchmarkRegisterLoop(b *testing.B) {
	im := simtest.LoopImage(b, simtest.RegisterLoop, 10_000_000)
	ref, err := Run(im, Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		opt  Options
	}{{"raw", Options{noHooks: true}}, {"blocks", Options{}}} {
		b.Run(c.name, func(b *testing.B) {
			m := newMachine(b, im, c.opt)
			for b.Loop() {
				if _, err := m.Run(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(ref.Counts.Total)*float64(b.N)/b.Elapsed().Seconds(), "insts/s")
		})
	}
}
