package unicorn

import (
	"fmt"
	"testing"
	"time"

	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/simtest"
)

// tier0Loop looks like a tier0 method: locals in frame slots, a patchpoint
// counter at the loop head that calls a helper every 1000 iterations, a
// call/ret pair and a conditional back edge: 15 instructions in 4
// translation blocks per iteration, 4 of them memory writes.
var tier0Loop = fmt.Sprintf(`
main:
	push %%rbp
	mov %%rsp, %%rbp
	sub $0x30, %%rsp
	movq $0, -8(%%rbp)
	movq $0, -16(%%rbp)
	movl $1000, -20(%%rbp)
	mov %%rdi, -32(%%rbp)
loop:
	decl -20(%%rbp)
	jg skip
	lea -20(%%rbp), %%rcx
	mov $0x1c, %%edx
	call patchpoint
skip:
	mov -8(%%rbp), %%rax
	mov %%rax, %%rdi
	call work
	add %%rax, -16(%%rbp)
	mov -8(%%rbp), %%rax
	inc %%rax
	mov %%rax, -8(%%rbp)
	cmp -32(%%rbp), %%rax
	jl loop
	mov -16(%%rbp), %%rax
	movabs $%#x, %%rcx
	mov %%rax, (%%rcx)
	leave
	ret
work:
	lea 3(%%rdi,%%rdi,2), %%rax
	xor $0x55, %%rax
	imul $7, %%rax, %%rax
	ret
patchpoint:
	movl $1000, (%%rcx)
	ret
`, sim.DataBase)

func benchImage(b *testing.B, iters uint64) *sim.Image {
	b.Helper()
	im, err := simtest.AssembleErr(tier0Loop, nil, "patchpoint", "work")
	if err != nil {
		b.Fatal(err)
	}
	im.Arg = iters
	return im
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

// alternate runs image im on two machines in turn, so both see the same
// machine load, and returns each one's total time and the instructions
// counted (by the second, or the first if only it counts).
func alternate(b *testing.B, im *sim.Image, first, second Options) (t1, t2 time.Duration, insts uint64) {
	m1, m2 := newMachine(b, im, first), newMachine(b, im, second)
	for b.Loop() {
		s0 := time.Now()
		r1, err := m1.Run()
		if err != nil {
			b.Fatal(err)
		}
		s1 := time.Now()
		r2, err := m2.Run()
		if err != nil {
			b.Fatal(err)
		}
		t1, t2 = t1+s1.Sub(s0), t2+time.Since(s1)
		insts += max(r1.Counts.Total, r2.Counts.Total)
	}
	return t1, t2, insts
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
	im, err := simtest.AssembleErr("main:\n\tmov %rdi, %rcx\nloop:\n\tadd %rcx, %rax\n\tdec %rcx\n\tjnz loop\n\tret\n", nil)
	if err != nil {
		b.Fatal(err)
	}
	im.Arg = 10_000_000
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
