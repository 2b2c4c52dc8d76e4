package calibrate

import (
	"fmt"

	. "github.com/osrsim/osrsim/emitter"
	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/link"
)

// A microbenchmark: body is emitted once per loop iteration; r15 is the
// loop counter, rbx and r12 hold small constants, [rsp, rsp+0x200) is
// scratch memory, bench.leaf is `ret` and bench.redirect returns to the
// address in r13 (a `ret` to an address no call pushed).
type bench struct {
	name string
	body func(b *Builder, i int)
	// clock benchmarks run a dependent chain of latency-1 adds; they give
	// the core clock and are not part of the fit.
	clock bool
	// setup is emitted once before the loop.
	setup func(b *Builder)
	// latency names the core-model parameter this benchmark determines
	// (latency benchmarks are fitted one parameter each, after the
	// throughput fit; see fitLatencies).
	latency string
}

// Latency benchmarks, one per core-model latency parameter, in fitting order.
const (
	latLoad       = "load_latency"
	latForward    = "forward_latency"
	latStackFwd   = "stack_forward_latency"
	latAlias      = "alias_latency"
	latCommit     = "store_commit_delay"
	latBranchPen  = "penalty.branch"
	latReturnPen  = "penalty.return"
	latIndirectPn = "penalty.indirect"
)

const (
	benchStack = 0x10000
	scratch    = 0x200
)

var rot = []Reg{RAX, RCX, RDX, RSI, RDI, R8, R9, R10, R11, R14}

func repeat(n int, f func(b *Builder, k int)) func(b *Builder, i int) {
	return func(b *Builder, i int) {
		for k := range n {
			f(b, k)
		}
	}
}

// skip emits a taken branch over one ud2 (so its target differs from its
// fall-through).
func skip(b *Builder, emit func(l *Label)) {
	l := b.NewLabel("")
	emit(l)
	b.Ud2()
	b.Bind(l)
}

// xorshift advances rax (a nonzero state) and leaves bit 0 random in al.
func xorshift(b *Builder) {
	b.Mov(S64, RDX, RAX)
	b.Shl(S64, RDX, 13)
	b.Xor(S64, RAX, RDX)
	b.Mov(S64, RDX, RAX)
	b.Shr(S64, RDX, 7)
	b.Xor(S64, RAX, RDX)
	b.Mov(S64, RDX, RAX)
	b.Shl(S64, RDX, 17)
	b.Xor(S64, RAX, RDX)
}

var benches = []bench{
	{name: "clock", clock: true, body: repeat(48, func(b *Builder, k int) { b.Add(S64, RAX, RCX) })},
	{name: "alu", body: repeat(48, func(b *Builder, k int) { b.Add(S64, rot[k%8], Imm(1)) })},
	{name: "alu-mix", body: repeat(48, func(b *Builder, k int) {
		r := rot[k%8]
		switch k % 3 {
		case 0:
			b.Xor(S64, r, RBX)
		case 1:
			b.Mov(S32, r, Imm(int64(k)))
		default:
			b.Shl(S64, r, 1)
		}
	})},
	{name: "lea", body: repeat(32, func(b *Builder, k int) { b.Lea(rot[k%8], MIdx(RBX, R12, 2, int32(k))) })},
	{name: "load", body: repeat(32, func(b *Builder, k int) { b.Mov(S64, rot[k%8], M(RSP, int32(8*k))) })},
	{name: "store", body: repeat(32, func(b *Builder, k int) { b.Mov(S64, M(RSP, int32(8*k)), rot[k%8]) })},
	{name: "store-imm", body: repeat(32, func(b *Builder, k int) { b.Mov(S32, M(RSP, int32(8*k)), Imm(int64(k))) })},
	{name: "rmw", body: repeat(16, func(b *Builder, k int) { b.Add(S64, M(RSP, int32(8*k)), RBX) })},
	{name: "mul", body: repeat(16, func(b *Builder, k int) { b.Imul(S64, rot[k%8], RBX) })},
	{name: "div", body: repeat(4, func(b *Builder, k int) {
		b.Xor(S32, RDX, RDX)
		b.Mov(S32, RAX, Imm(1000+int64(k)))
		b.Div(S64, R12)
	})},
	{name: "push-pop", body: repeat(16, func(b *Builder, k int) { b.Push(RBX); b.Pop(rot[k%8]) })},
	{name: "call-ret", body: repeat(8, func(b *Builder, k int) { b.Call(Sym("bench.leaf")) })},
	{name: "ind-call", body: repeat(8, func(b *Builder, k int) { b.Call(R13) })},
	{name: "jump", body: repeat(16, func(b *Builder, k int) { skip(b, func(l *Label) { b.Jmp(l) }) })},
	{name: "ind-jump", body: repeat(8, func(b *Builder, k int) {
		skip(b, func(l *Label) { b.Lea(RAX, RIP(l)); b.Jmp(RAX) })
	})},
	{name: "cond-not-taken", body: repeat(32, func(b *Builder, k int) {
		l := b.NewLabel("")
		b.Jcc(CondE, l) // ZF is clear: the loop's dec leaves r15 > 0
		b.Bind(l)
	})},
	{name: "cond-taken", body: repeat(16, func(b *Builder, k int) { skip(b, func(l *Label) { b.Jcc(CondNE, l) }) })},
	{name: "locked", body: repeat(8, func(b *Builder, k int) { b.LockXadd(S64, M(RSP, int32(8*k)), rot[k%8]) })},
	{name: "xmm", body: repeat(8, func(b *Builder, k int) {
		b.Movdqu(XReg(k), M(RSP, int32(16*k)))
		b.Movdqu(M(RSP, int32(0x100+16*k)), XReg(8+k))
	})},
	{name: "pushf-popf", body: repeat(8, func(b *Builder, k int) { b.Pushfq(); b.Popfq() })},
	// The machine-state instructions of the helper's context capture and
	// restore: fxsave and fxrstor of the 512-byte area (the scratch
	// memory, 16-byte aligned), segment selector reads, the x87 and SSE
	// control words.
	{name: "fxsave", body: repeat(2, func(b *Builder, k int) { b.Fxsave(M(RSP, 0)) })},
	{name: "fxrstor", setup: func(b *Builder) { b.Fxsave(M(RSP, 0)) },
		body: repeat(2, func(b *Builder, k int) { b.Fxrstor(M(RSP, 0)) })},
	{name: "seg-read", body: repeat(12, func(b *Builder, k int) {
		b.MovFromSeg(M(RSP, int32(8*k)), []SegReg{CS, DS, ES, SS, FS, GS}[k%6])
	})},
	{name: "fp-ctrl", body: repeat(8, func(b *Builder, k int) {
		if k%2 == 0 {
			b.Fnstcw(M(RSP, int32(8*k)))
		} else {
			b.Stmxcsr(M(RSP, int32(8*k)))
		}
	})},
	{name: "pushf", body: repeat(8, func(b *Builder, k int) { b.Pushfq(); b.Pop(rot[k%8]) })},
	{name: "mfence", body: repeat(2, func(b *Builder, k int) { b.Mfence() })},
	// Misprediction benchmarks. A `ret` to an address no call pushed (as in
	// a context restore): the RSB predicts the call's return address.
	{name: "ret-mispredict", latency: latReturnPen, body: repeat(4, func(b *Builder, k int) {
		l := b.NewLabel("")
		b.Lea(R13, RIP(l))
		b.Call(Sym("bench.redirect"))
		b.Ud2()
		b.Bind(l)
	})},
	// Random conditional branches (xorshift bit 0): half mispredict in
	// hardware and in the model.
	{name: "cond-random", latency: latBranchPen, body: repeat(4, func(b *Builder, k int) {
		xorshift(b)
		b.Test(S32, RAX, Imm(1))
		l := b.NewLabel("")
		b.Jcc(CondNE, l)
		b.Nop(1)
		b.Bind(l)
	})},
	// An indirect jump to one of two targets at random.
	{name: "ind-random", latency: latIndirectPn, body: repeat(2, func(b *Builder, k int) {
		ta, tb, join := b.NewLabel(""), b.NewLabel(""), b.NewLabel("")
		xorshift(b)
		b.Lea(R8, RIP(ta))
		b.Lea(R9, RIP(tb))
		b.Test(S32, RAX, Imm(1))
		b.Cmovcc(CondNE, S64, R8, R9)
		b.Jmp(R8)
		b.Bind(ta)
		b.Jmp(join)
		b.Bind(tb)
		b.Nop(1)
		b.Bind(join)
	})},
	// Latency chains (core model). A pointer chase: r14 points to itself.
	{name: "pointer-chase", latency: latLoad,
		setup: func(b *Builder) { b.Lea(R14, M(RSP, 0x100)); b.Mov(S64, M(R14, 0), R14) },
		body:  repeat(16, func(b *Builder, k int) { b.Mov(S64, R14, M(R14, 0)) })},
	// Read-modify-write of one global (RIP-relative, as the runtime's
	// heap.live counter): each load forwards from the previous store.
	{name: "forward-chain", latency: latForward,
		body: repeat(8, func(b *Builder, k int) { b.Add(S64, RIPSym("bench.data"), Imm(1)) })},
	// A local in a stack slot, reloaded right after being stored.
	{name: "stack-forward-chain", latency: latStackFwd,
		body: repeat(8, func(b *Builder, k int) {
			b.Mov(S64, RAX, M(RSP, 8))
			b.Inc(S64, RAX)
			b.Mov(S64, M(RSP, 8), RAX)
		})},
	// 4K aliasing: each load reads the address 4096 bytes below a store
	// just made (same bits 11:0, another address); nothing depends on the
	// loads.
	{name: "alias-4k", latency: latAlias, body: repeat(4, func(b *Builder, k int) {
		b.Mov(S64, M(RSP, int32(0x100+8*k)), RBX)
		b.Mov(S64, rot[k%8], M(RSP, int32(0x100+8*k-4096)))
		for j := range 8 {
			b.Add(S64, rot[(k+j+1)%8], Imm(1))
		}
	})},
	// The same with the load 48 independent adds after its store: the
	// penalty remains while the store has not left the store queue.
	{name: "alias-4k-far", latency: latCommit, body: repeat(2, func(b *Builder, k int) {
		b.Mov(S64, M(RSP, int32(0x100+8*k)), RBX)
		for j := range 48 {
			b.Add(S64, rot[(k+j+1)%8], Imm(1))
		}
		b.Mov(S64, R11, M(RSP, int32(0x100+8*k-4096)))
	})},
	// tier0-like code: locals in stack slots, reloaded right after being
	// stored (store-to-load forwarding), as generated tier0 code does.
	{name: "tier0-like", body: repeat(8, func(b *Builder, k int) {
		b.Mov(S32, RAX, M(RSP, 8))
		b.Inc(S32, RAX)
		b.Mov(S32, M(RSP, 8), RAX)
		b.Cmp(S32, M(RSP, 8), Imm(0))
		skip(b, func(l *Label) { b.Jcc(CondNE, l) })
	})},
}

// benchImage links one benchmark: host.entry (as in workload) calls
// bench.main(iterations).
func benchImage(bn bench) (*sim.Image, error) {
	prog := NewProgram()
	code, data := prog.Section("code"), prog.Section("data")
	link.Entry(code, "host.entry", "bench.main", sim.StackBase+benchStack)

	code.Func("bench.main")
	code.AllocStack(scratch + 8)
	code.EndProlog()
	code.Mov(S64, R15, RDI)
	for _, r := range rot {
		code.Mov(S32, r, Imm(1))
	}
	code.Mov(S32, RBX, Imm(3))
	code.Mov(S32, R12, Imm(7))
	code.Lea(R13, RIPSym("bench.leaf"))
	loop := code.NewLabel("bench.loop")
	if bn.setup != nil {
		bn.setup(code)
	}
	code.Test(S64, R15, R15)
	end := code.NewLabel("bench.end")
	code.Jcc(CondE, end)
	code.NopAlign(64)
	code.Bind(loop)
	bn.body(code, 0)
	code.Dec(S64, R15)
	code.Jcc(CondNE, loop)
	code.Bind(end)
	code.Add(S64, RSP, Imm(scratch+8))
	code.Ret()
	code.EndFunc()

	code.Func("bench.leaf")
	code.EndProlog()
	code.Ret()
	code.EndFunc()
	code.Func("bench.redirect")
	code.EndProlog()
	code.Mov(S64, M(RSP, 0), R13)
	code.Ret()
	code.EndFunc()

	link.EmitZero(data)
	data.DefineSymbol("bench.data")
	data.U64(0)
	data.EndSymbol("bench.data")

	obj, err := prog.Finish()
	if err != nil {
		return nil, fmt.Errorf("benchmark %s: %w", bn.name, err)
	}
	im, _, err := link.Image(obj, link.Layout{Entry: "host.entry", StackSize: benchStack})
	if err != nil {
		return nil, fmt.Errorf("benchmark %s: %w", bn.name, err)
	}
	return im, nil
}
