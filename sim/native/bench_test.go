//go:build linux && amd64 && cgo

package native

import (
	"runtime"
	"slices"
	"strconv"
	"testing"

	"github.com/osrsim/osrsim/sim/simtest"
)

// BenchmarkShimOverhead times the empty stub through the C shim. With
// reps=1, ns/op is one whole sample (cgo transition, two clock reads, one
// call) and ns/call is what the shim itself measures for it; with more
// reps, ns/call is the cost of one call inside the C loop.
func BenchmarkShimOverhead(b *testing.B) {
	l, err := Load(sumImage(b, 1))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	stub := addrOf(l.stub)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for _, reps := range []int{1, 1000} {
		b.Run("reps="+strconv.Itoa(reps), func(b *testing.B) {
			var total int64
			for b.Loop() {
				ns, _ := timeCalls(stub, 0, reps)
				total += ns
			}
			b.ReportMetric(float64(total)/float64(b.N)/float64(reps), "ns/call")
		})
	}
}

// BenchmarkLoopImage runs a 1000-iteration add loop through Run and reports
// the median per-call time with the baseline subtracted.
func BenchmarkLoopImage(b *testing.B) {
	im := simtest.Assemble(b, `
main:
	xor %eax, %eax
	mov $1000, %ecx
loop:
	add %rcx, %rax
	dec %ecx
	jnz loop
	ret
`, nil)
	l, err := Load(im)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	var samples []float64
	var baseline float64
	for b.Loop() {
		res, err := l.Run(Options{Samples: 1, Reps: 100})
		if err != nil {
			b.Fatal(err)
		}
		if res.State.Ret != 500500 {
			b.Fatalf("ret %d", res.State.Ret)
		}
		samples = append(samples, res.SamplesNs...)
		baseline = res.BaselineNs
	}
	slices.Sort(samples)
	b.ReportMetric(samples[len(samples)/2], "ns/call")
	b.ReportMetric(baseline, "baseline-ns/call")
}
