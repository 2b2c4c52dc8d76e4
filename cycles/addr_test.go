package cycles_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/osrsim/osrsim/continuation"
	"github.com/osrsim/osrsim/csharp"
	. "github.com/osrsim/osrsim/cycles"
	"github.com/osrsim/osrsim/patchpoint"
	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/observe"
	"github.com/osrsim/osrsim/sim/simtest"
	"github.com/osrsim/osrsim/sim/unicorn"
	"github.com/osrsim/osrsim/workload"
)

// How estimate gets the core model's real addresses.
const (
	computed = iota // the address interpreter
	hooks           // memory hooks
	verified        // the interpreter, compared with the hooks
)

// estimate runs im once with the default model and the addresses from
// source; verified also returns how many addresses were compared, and how
// many differed.
func estimate(t *testing.T, im *sim.Image, exact bool, source int) (c *Counts, compared, different uint64) {
	t.Helper()
	e, err := NewEstimator(Default(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	switch source {
	case hooks:
		HookAddresses(e)
	case verified:
		VerifyAddresses(e)
	}
	if _, err := unicorn.Run(im, unicorn.Options{Exact: exact, Observers: []observe.Observer{e}}); err != nil {
		t.Fatal(err)
	}
	compared, different = e.Verified()
	return e.Counts(), compared, different
}

// addressImages are the images the address interpreter is checked on:
// every workload template, strategy, runtime model and platform, the C#
// examples, and a program of instructions generated code uses rarely.
func addressImages(t *testing.T) map[string]*sim.Image {
	ims := map[string]*sim.Image{}
	add := func(name string, p workload.Params, s patchpoint.Strategy) {
		built, err := workload.Build(p, s)
		if err != nil {
			t.Fatal(err)
		}
		ims[fmt.Sprintf("%s/%s", name, s)] = built.Image
	}
	for _, s := range patchpoint.Strategies {
		p := workload.DefaultParams(workload.AwaitLoop)
		p.Awaits = 100 // n as in the seed experiment: the method enters OSR
		add("await-loop", p, s)
		p.LiveLocals, p.ExtraFrame = 4, 64
		add("await-loop-locals", p, s)
		p.Runtime.Model = continuation.Minimal
		add("await-loop-minimal-runtime", p, s)
		l := workload.DefaultParams(workload.AwaitLoop)
		l.Awaits = 100
		l.Patchpoint.Platform = patchpoint.LinuxX64
		add("await-loop-linux", l, s)
		r := workload.DefaultParams(workload.Reentry)
		r.Calls, r.Iterations = 20, 1500
		add("reentry", r, s)
		files, _ := filepath.Glob("../experiments/csharp/*.cs")
		for _, f := range append(files, "../experiments/seed.cs") {
			prog, err := csharp.Load(f)
			if err != nil {
				t.Fatal(err)
			}
			p := workload.FromSource(filepath.Base(f), prog)
			for i, v := range p.Values { // from native to a test's scale
				if v > 20_000 || prog.Params[i].Name == "Rows" {
					p.Values[i] = 10
				}
			}
			add(filepath.Base(f), p, s)
		}
	}
	ims["rare"] = simtest.Assemble(t, `
main:
	push %rbp
	mov %rsp, %rbp
	sub $64, %rsp
	movabs $0x510000000, %rsi
	mov %rsi, -8(%rbp)
	mov -8(%rbp), %rdx      # a pointer through a stack slot
	movl $3, 16(%rdx)
	movzbl 16(%rdx), %ecx
	mov (%rdx,%rcx,8), %rax # indexed by a loaded value
	lea 8(%rdx,%rcx,4), %r8
	imul $24, %rcx, %r9
	add %r9, %r8
	mov %rax, (%r8)
	xchg %rax, 24(%rdx)
	lock xadd %rcx, 32(%rdx)
	mov 32(%rdx), %rax
	lock cmpxchg %rdx, 32(%rdx)
	mov %eax, %r10d
	shl $3, %r10
	sar $1, %r10
	mov %al, %ah
	cltq
	cqto
	neg %r10
	not %r11
	rdtsc                   # values the interpreter does not compute
	mov %rax, 40(%rsi)
	mov 40(%rsi), %rbx
	mov %rsi, %rbx
	movq $7, (%rbx)
	movdqu %xmm0, 64(%rbx)
	mov 64(%rbx), %rax
	mov 72(%rbx), %rax
	pushfq
	popfq
	push 8(%rbx)
	pop 16(%rbx)
	leave
	ret
`, nil)
	return ims
}

// The address interpreter computes, access by access, the addresses the
// memory hooks report wherever they report them as the model expects, in
// block and exact mode; and the estimates, the same in both modes, are
// those of the hooks in exact mode, where each instruction is judged on
// its own. In block mode the hooks' estimates may differ: a block holding
// an instruction whose accesses they report differently from the table
// (fxsave, lock-prefixed instructions, push and pop with memory operands)
// ran entirely with symbolic addresses there, which the interpreter does
// not need.
func TestAddressesComputedAsReported(t *testing.T) {
	for name, im := range addressImages(t) {
		t.Run(name, func(t *testing.T) {
			var byMode [2]*Counts
			for i, exact := range []bool{false, true} {
				got, _, _ := estimate(t, im, exact, computed)
				want, _, _ := estimate(t, im, exact, hooks)
				v, compared, different := estimate(t, im, exact, verified)
				byMode[i] = got
				if different != 0 || compared == 0 {
					t.Errorf("exact=%v: %d of %d addresses differ from the hooks'", exact, different, compared)
				}
				if got.SymbolicInsts != 0 {
					t.Errorf("exact=%v: %d instructions with symbolic addresses (hooks: %d)", exact, got.SymbolicInsts, want.SymbolicInsts)
				}
				if fmt.Sprint(*v) != fmt.Sprint(*got) {
					t.Errorf("exact=%v: verifying changed the estimate:\n%+v\n%+v", exact, *v, *got)
				}
				g, w := *got, *want
				g.AddressInsts, g.SymbolicInsts, w.AddressInsts, w.SymbolicInsts = 0, 0, 0, 0
				if exact && fmt.Sprint(g) != fmt.Sprint(w) {
					t.Errorf("exact mode:\ncomputed %+v\nhooks    %+v", *got, *want)
				}
				t.Logf("exact=%v: %.1f cycles, %d/%d instructions with addresses (hooks: %.1f, %d); %d addresses compared", exact,
					got.Estimated, got.AddressInsts, got.AddressInsts+got.SymbolicInsts,
					want.Estimated, want.AddressInsts, compared)
			}
			if fmt.Sprint(*byMode[0]) != fmt.Sprint(*byMode[1]) {
				t.Errorf("block and exact mode differ:\n%+v\n%+v", *byMode[0], *byMode[1])
			}
		})
	}
}

// The address interpreter's slices leave instructions out by what each
// reads and writes (addr.c effects): for every instruction of the images
// it is checked on, runs from registers and memory that differ only where
// the summary says they do not matter end the same, and it writes no
// register or memory the summary leaves out.
func TestAddressEffects(t *testing.T) {
	const base, size = 0x510000000, 1 << 16
	rng := rand.New(rand.NewPCG(1, 2))
	regs := func(g *[16]uint64) { // addresses that mostly fall in the memory below
		for r := range g {
			g[r] = base + size/4 + rng.Uint64N(size/2)&^7
		}
	}
	mem := func() []byte {
		b := make([]byte, size)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	mem1, mem2 := mem(), mem()
	for name, im := range addressImages(t) {
		e, err := NewEstimator(Default(), false)
		if err != nil {
			t.Fatal(err)
		}
		m, err := unicorn.New(im, unicorn.Options{Observers: []observe.Observer{e}})
		if err != nil {
			t.Fatal(err)
		}
		for i := range e.Insts() {
			for range 4 {
				var g, other [16]uint64
				regs(&g)
				regs(&other)
				if bad := e.CheckEffects(i, &g, &other, base, mem1, mem2); bad != 0 {
					t.Errorf("%s: instruction %d: summary contradicted (flags %#x)", name, i, bad)
					break
				}
			}
		}
		m.Close()
		e.Close()
	}
}
