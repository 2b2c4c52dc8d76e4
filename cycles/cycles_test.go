package cycles_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	. "github.com/osrsim/osrsim/cycles"
	"github.com/osrsim/osrsim/cycles/emu"
	"github.com/osrsim/osrsim/sim/observe"
	"github.com/osrsim/osrsim/sim/simtest"
	"github.com/osrsim/osrsim/sim/unicorn"
)

// testModel has distinct costs per class so sums identify them.
func testModel() *Model {
	m := &Model{Name: "test", Taken: 0.5, BranchPenalty: 10, IndirectPenalty: 20, ReturnPenalty: 30,
		Predictor: PredictorBimodal, PHTBits: 10, BTBEntries: 64, RSBDepth: 16}
	for i := range m.Cost {
		m.Cost[i] = float64(i + 1)
	}
	return m
}

// testCoreModel is testModel with the out-of-order core (Zen-4-like
// widths, TAGE, real addresses).
func testCoreModel() *Model {
	m := testModel()
	m.Predictor, m.PHTBits = PredictorTAGE, 12
	for i := range m.Cost {
		m.Cost[i] = 0.25
	}
	k := &Core{DispatchWidth: 6, RetireWidth: 8, ROBSize: 320, LoadLatency: 4, ForwardLatency: 1,
		StackForwardLatency: 1, Addresses: true, AliasLatency: 20, StoreQueue: 64}
	for i := range k.Latency {
		k.Latency[i] = 1
	}
	m.Core = k
	return m
}

func cyc(t *testing.T, src string, m *Model, exact bool) *Counts {
	t.Helper()
	im := simtest.Assemble(t, src, nil)
	_, c, err := emu.Run(im, unicorn.Options{Exact: exact}, m, true)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// both runs src in block and exact mode, checks they agree and returns
// the block-mode counts.
func both(t *testing.T, src string, m *Model) *Counts {
	t.Helper()
	b, e := cyc(t, src, m, false), cyc(t, src, m, true)
	if fmt.Sprint(*b) != fmt.Sprint(*e) {
		t.Fatalf("block and exact mode differ:\nblock %+v\nexact %+v", *b, *e)
	}
	return b
}

func TestClassify(t *testing.T) {
	im := simtest.Assemble(t, `
main:
	add %rcx, %rax
	mov (%rsp), %rax
	mov %rax, 8(%rsp)
	addq $1, 8(%rsp)
	lea 8(%rsp), %rax
	imul %rcx, %rax
	cmpq $0, 8(%rsp)
	push %rax
	pop %rax
	lock xaddq %rax, 8(%rsp)
	movdqu (%rsp), %xmm0
	movdqu %xmm1, 16(%rsp)
	pushfq
	popfq
	xor %edx, %edx
	mov $1, %ecx
	div %rcx
	fxsave (%rsp)
	fxrstor (%rsp)
	mov %cs, 8(%rsp)
	mov %ss, %eax
	fnstcw 8(%rsp)
	stmxcsr 8(%rsp)
	lea next(%rip), %rax
	jmp *%rax
next:
	ret
`, nil)
	want := []InstClass{ClassALU, ClassLoad, ClassStore, ClassRMW, ClassLea, ClassMul, ClassLoad, ClassStore, ClassLoad,
		ClassLocked, ClassXMM, ClassXMM, ClassPushf, ClassPopf, ClassALU, ClassALU, ClassDiv,
		ClassFxsave, ClassFxrstor, ClassSegRead, ClassSegRead, ClassFPCtrl, ClassFPCtrl, ClassLea, ClassIndJump, ClassRet}
	m, _ := im.Symbol("main")
	code, err := observe.Decode(im)
	if err != nil {
		t.Fatal(err)
	}
	var got []InstClass
	for i, in := range code.Insts {
		if code.Addrs[i] >= m.Start {
			got = append(got, Classify(in))
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("classes\n got %v\nwant %v", got, want)
	}
}

// A straight-line program: cycles are the sum of its class costs plus the
// taken call into it; the entry stub runs too, so compare against ByClass.
func TestCyclesAreSumOfClassCosts(t *testing.T) {
	m := testModel()
	c := both(t, `
main:
	add %rcx, %rax
	mov (%rsp), %rax
	mov %rax, -8(%rsp)
	lea 8(%rsp), %rax
	imul %rcx, %rax
	pushfq
	popfq
	ret
`, m)
	var sum float64
	var n uint64
	for cl, k := range c.ByClass {
		sum += float64(k) * m.Cost[cl]
		n += k
	}
	sum += float64(c.Taken)*m.Taken + float64(c.BranchMispredicts)*m.BranchPenalty +
		float64(c.IndirectMispredicts)*m.IndirectPenalty + float64(c.ReturnMispredicts)*m.ReturnPenalty
	if math.Abs(sum-c.Estimated) > 1e-6 || n != 19+8 {
		t.Fatalf("estimated %v, sum of parts %v, %d instructions (want 27): %+v", c.Estimated, sum, n, *c)
	}
	if c.ByClass[ClassPopf] != 1 || c.ByClass[ClassPushf] != 1 || c.ByClass[ClassMul] != 1 {
		t.Fatalf("by class %v", c.ByClass)
	}
	// Two calls (entry -> main is one; the host's call is not executed),
	// one ret evaluated (main's; the entry's ret to the host is not).
	if c.Returns != 1 || c.ReturnMispredicts != 0 || c.Taken != 2 {
		t.Fatalf("%+v", *c)
	}
}

// Balanced calls and returns never mispredict, however deep, while the
// depth fits the RSB.
func TestRSBBalanced(t *testing.T) {
	c := both(t, `
main:
	mov $100, %ebx
l:
	call f
	dec %ebx
	jnz l
	ret
f:
	call g
	ret
g:
	call h
	ret
h:
	ret
`, testModel())
	if c.Returns != 301 || c.ReturnMispredicts != 0 {
		t.Fatalf("returns %d, mispredicted %d; want 301, 0", c.Returns, c.ReturnMispredicts)
	}
}

// chain returns a program whose calls nest depth deep (the entry stub's
// call to main is the first) through distinct functions, so every return
// address differs.
func chain(depth int) string {
	var b strings.Builder
	b.WriteString("main:\n\tcall f1\n\tret\n")
	for i := 1; i < depth-1; i++ {
		fmt.Fprintf(&b, "f%d:\n\tcall f%d\n\tret\n", i, i+1)
	}
	fmt.Fprintf(&b, "f%d:\n\tret\n", depth-1)
	return b.String()
}

// Overflow: the RSB is circular. With depth d and calls nested d+k deep,
// the d innermost returns predict correctly and the k outermost mispredict
// (their entries were overwritten by the k innermost calls). The entry
// stub's call to main is the outermost of the d+k calls (its return, main's
// ret, is evaluated; the entry's own ret to the host is not).
func TestRSBOverflow(t *testing.T) {
	m := testModel()
	m.RSBDepth = 8
	for _, k := range []int{0, 1, 5, 12} {
		c := both(t, chain(m.RSBDepth+k), m)
		if c.Returns != uint64(m.RSBDepth+k) || c.ReturnMispredicts != uint64(k) {
			t.Errorf("k=%d: returns %d mispredicted %d, want %d %d", k, c.Returns, c.ReturnMispredicts, m.RSBDepth+k, k)
		}
	}
}

// A context restore (patchpoint.restore_context): T calls the helper H,
// which returns with `ret` to the OSR entry O, an address no call pushed.
// That ret pops H's return address: one mispredict. The RSB is balanced
// again afterwards (the call's entry was consumed), so O's return to T's
// caller predicts correctly: exactly 1 mispredict per transition.
func TestRSBContextRestoreRet(t *testing.T) {
	c := both(t, `
main:
	mov $10, %ebx
l:
	call T
	dec %ebx
	jnz l
	ret
T:
	push %rbp
	call H
	ud2
H:
	lea O(%rip), %rax
	mov %rax, (%rsp)
	ret
O:
	pop %rbp
	ret
`, testModel())
	if c.ReturnMispredicts != 10 || c.Returns != 21 {
		t.Fatalf("returns %d mispredicted %d, want 21 10", c.Returns, c.ReturnMispredicts)
	}
}

// A non-local jump out of a callee: T calls H, and H leaves its frame with
// `add $8, %rsp; jmp *%rax` into O, which returns to T's caller. H's
// return address stays on the RSB, so O's ret (predicted: H's return
// address) mispredicts, and the stale entry shifts the RSB by one: every
// later return into a frame that was live before the jump mispredicts
// too, here main's final ret to the entry stub. N transitions: N+1.
// The direct strategy's `jmp rax` from tier0 itself (no pending call) adds
// no mispredict: see TestRSBJumpFromCaller.
func TestRSBNonLocalJump(t *testing.T) {
	c := both(t, `
main:
	mov $10, %ebx
l:
	call T
	dec %ebx
	jnz l
	ret
T:
	call H
	ud2
H:
	lea O(%rip), %rax
	add $8, %rsp
	jmp *%rax
O:
	ret
`, testModel())
	if c.ReturnMispredicts != 11 || c.Returns != 11 {
		t.Fatalf("returns %d mispredicted %d, want 11 11", c.Returns, c.ReturnMispredicts)
	}
	if c.Indirect != 10 || c.IndirectMispredicts != 1 {
		t.Fatalf("indirect %d mispredicted %d, want 10 1 (cold BTB)", c.Indirect, c.IndirectMispredicts)
	}
}

// The direct strategy: tier0 jumps (`jmp rax`) into the OSR method, which
// returns to tier0's caller. No call is left pending, so returns stay
// predicted; the indirect jump always goes to the same target, so only the
// first (cold BTB) mispredicts.
func TestRSBJumpFromCaller(t *testing.T) {
	c := both(t, `
main:
	mov $10, %ebx
l:
	call T
	dec %ebx
	jnz l
	ret
T:
	lea O(%rip), %rax
	jmp *%rax
O:
	ret
`, testModel())
	if c.ReturnMispredicts != 0 || c.Returns != 11 || c.IndirectMispredicts != 1 {
		t.Fatalf("%+v", *c)
	}
}

// A last-target BTB mispredicts every execution of an indirect jump whose
// target alternates.
func TestBTBAlternatingTargets(t *testing.T) {
	c := both(t, `
main:
	mov $100, %ebx
	lea a(%rip), %r8
	lea b(%rip), %r9
l:
	xchg %r8, %r9
	jmp *%r8
a:
	nop
b:
	dec %ebx
	jnz l
	ret
`, testModel())
	if c.Indirect != 100 || c.IndirectMispredicts != 100 {
		t.Fatalf("indirect %d mispredicted %d, want 100 100", c.Indirect, c.IndirectMispredicts)
	}
}

// A loop of 4 iterations run 50 times: bimodal mispredicts each exit (the
// counter saturates at taken and the exit decrements it only to weakly
// taken); gshare with enough history learns the exit after warm-up.
func TestConditionalPredictors(t *testing.T) {
	src := `
main:
	mov $50, %ebx
outer:
	mov $4, %ecx
inner:
	dec %ecx
	jnz inner
	dec %ebx
	jnz outer
	ret
`
	m := testModel()
	c := both(t, src, m)
	if c.Branches != 250 || c.BranchMispredicts != 51 {
		// 50 inner exits + the outer loop's exit.
		t.Fatalf("bimodal: branches %d mispredicted %d, want 250 51", c.Branches, c.BranchMispredicts)
	}
	m.Predictor, m.HistoryBits = PredictorGshare, 8
	g := both(t, src, m)
	if g.Branches != 250 || g.BranchMispredicts >= 20 {
		t.Fatalf("gshare: branches %d mispredicted %d, want 250 and < 20", g.Branches, g.BranchMispredicts)
	}
	t.Logf("gshare mispredicts %d of %d", g.BranchMispredicts, g.Branches)
}

func TestCycleModelValidate(t *testing.T) {
	m := testModel()
	m.RSBDepth = 0
	if _, err := NewEstimator(m, false); err == nil || !strings.Contains(err.Error(), "rsb_depth 0") {
		t.Fatalf("rsb depth 0: %v", err)
	}
}

// An estimator watches one machine only.
func TestEstimatorAttachesOnce(t *testing.T) {
	im := simtest.Assemble(t, "main:\n\tret\n", nil)
	e, err := NewEstimator(testModel(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	m, err := unicorn.New(im, unicorn.Options{Observers: []observe.Observer{e}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := unicorn.New(im, unicorn.Options{Observers: []observe.Observer{e}}); err == nil {
		t.Fatal("estimator attached to a second machine")
	}
}

// A 16-branch pattern (the bits of a constant) repeated 300 times, the
// kind of path a binary search for the same key takes: gshare with 8
// history bits sees only the last few pattern bits (the loop branch
// interleaves), TAGE's long histories learn it.
func TestTAGELearnsRepeatingPath(t *testing.T) {
	src := `
main:
	mov $300, %ebx
outer:
	mov $0xb5a3, %edx
	mov $16, %ecx
inner:
	shr $1, %edx
	jc skip
	nop
skip:
	dec %ecx
	jnz inner
	dec %ebx
	jnz outer
	ret
`
	m := testModel()
	m.Predictor, m.HistoryBits = PredictorGshare, 8
	g := both(t, src, m)
	m.Predictor = PredictorTAGE
	tg := both(t, src, m)
	if tg.Branches != g.Branches || tg.BranchMispredicts*10 > g.BranchMispredicts || tg.BranchMispredicts > 300 {
		t.Fatalf("tage mispredicts %d, gshare %d of %d branches", tg.BranchMispredicts, g.BranchMispredicts, g.Branches)
	}
	t.Logf("branches %d: gshare mispredicts %d, tage %d", g.Branches, g.BranchMispredicts, tg.BranchMispredicts)
}

// The core model gives the same figures in block and exact mode, has
// real addresses for every block here, and sees
// store-to-load forwarding through a stack slot and a global.
func TestCoreBlockExactAgree(t *testing.T) {
	src := `
main:
	push %rbp
	mov %rsp, %rbp
	sub $32, %rsp
	mov $0x510000000, %rsi
	mov $200, %ecx
l:
	mov %rcx, -8(%rbp)
	mov -8(%rbp), %rax
	add %rax, %rdx
	incq 8(%rsi)
	call f
	dec %ecx
	jnz l
	add $32, %rsp
	pop %rbp
	ret
f:
	mov 8(%rsi), %rax
	ret
`
	m := testCoreModel()
	m.Core.Addresses = true
	c := both(t, src, m)
	if c.SymbolicInsts != 0 || c.AddressInsts == 0 || c.StackForwards == 0 || c.Forwards == 0 {
		t.Fatalf("%+v", *c)
	}
	m.Core.Addresses = false
	s := both(t, src, m)
	if s.AddressInsts != 0 || s.StackForwards == 0 {
		t.Fatalf("symbolic: %+v", *s)
	}
	t.Logf("addresses: %.1f cycles, symbolic: %.1f", c.Estimated, s.Estimated)
}

// A load 4096 bytes below a store just made (4K aliasing) costs the alias
// latency; the same load 4096+64 bytes below does not.
func TestCoreAlias4K(t *testing.T) {
	prog := func(off int) string {
		return fmt.Sprintf(`
main:
	mov $100, %%ecx
l:
	mov %%rcx, -64(%%rsp)
	mov %d(%%rsp), %%rax
	dec %%ecx
	jnz l
	ret
`, -64-off)
	}
	m := testCoreModel()
	m.Core.Addresses = true
	a := both(t, prog(4096), m)
	n := both(t, prog(4096+64), m)
	if a.Aliases < 90 || n.Aliases != 0 || a.Estimated < n.Estimated+90*m.Core.AliasLatency*0.9 {
		t.Fatalf("alias %+v\nno alias %+v", *a, *n)
	}
}

// Generated code always decodes; an instruction start that does not (data
// a hand-written image lists as code) is a bug the model refuses to guess
// about.
func TestUndecodedInstructionIsABug(t *testing.T) {
	im := simtest.Assemble(t, "main:\n\tret\n\t.p2align 2\ntable:\n\t.long 0xffffdcff\n", nil)
	defer func() {
		if r := recover(); r == nil || !strings.HasPrefix(fmt.Sprint(r), "BUG: ") {
			t.Fatalf("recovered %v, want a BUG panic", r)
		}
	}()
	emu.Run(im, unicorn.Options{}, testModel(), false)
}

// A block with more memory accesses than the buffer holds runs with
// symbolic addresses, in both modes.
func TestCoreManyAccessesFallBack(t *testing.T) {
	var b strings.Builder
	b.WriteString("main:\n\tsub $0x1000, %rsp\n")
	const stores = 300 // one block, more than OSR_ACC_MAX accesses
	for i := range stores {
		fmt.Fprintf(&b, "\tmov %%rax, %d(%%rsp)\n", 8*i)
	}
	b.WriteString("\tadd $0x1000, %rsp\n\tret\n")
	m := testCoreModel()
	c := cyc(t, b.String(), m, false)
	if c.SymbolicInsts < stores {
		t.Fatalf("%d instructions with symbolic addresses, want at least %d: %+v", c.SymbolicInsts, stores, *c)
	}
	if e := cyc(t, b.String(), m, true); e.SymbolicInsts != 0 || e.Estimated <= 0 {
		t.Fatalf("exact mode (one access per block): %+v", *e)
	}
}
