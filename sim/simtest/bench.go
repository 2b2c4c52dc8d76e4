package simtest

import (
	"fmt"
	"testing"
	"time"

	"github.com/osrsim/osrsim/sim"
)

// Tier0Loop looks like a tier0 method: locals in frame slots, a patchpoint
// counter at the loop head that calls a helper every 1000 iterations, a
// call/ret pair and a conditional back edge: 15 instructions in 4
// translation blocks per iteration, 4 of them memory writes. The argument
// is the iteration count; the engines' benchmarks run it.
var Tier0Loop = fmt.Sprintf(`
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

// RegisterLoop is the worst case for block hooks: a 3-instruction loop with
// no memory access, one block per iteration, run as often as the argument
// says.
const RegisterLoop = "main:\n\tmov %rdi, %rcx\nloop:\n\tadd %rcx, %rax\n\tdec %rcx\n\tjnz loop\n\tret\n"

// LoopImage assembles a loop such as the ones above to run iters
// iterations.
func LoopImage(b *testing.B, src string, iters uint64, events ...string) *sim.Image {
	b.Helper()
	im, err := AssembleErr(src, nil, events...)
	if err != nil {
		b.Fatal(err)
	}
	im.Arg = iters
	return im
}

// Alternate runs first and second in turn until the benchmark's loop ends,
// so both see the same machine load, and returns each one's total time.
func Alternate(b *testing.B, first, second func() error) (t1, t2 time.Duration) {
	b.Helper()
	for b.Loop() {
		s0 := time.Now()
		if err := first(); err != nil {
			b.Fatal(err)
		}
		s1 := time.Now()
		if err := second(); err != nil {
			b.Fatal(err)
		}
		t1, t2 = t1+s1.Sub(s0), t2+time.Since(s1)
	}
	return t1, t2
}
