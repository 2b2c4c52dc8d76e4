package emitter

import "testing"

// emitMixed emits a tier0-like method: prolog with unwind codes, frame-slot
// arithmetic, patchpoint counters, loops with forward and backward branches,
// calls and RIP-relative data; about 1000 instructions.
func emitMixed(b *Builder) int {
	const blocks = 40
	b.Func("bench")
	b.PushNonvol(RBP)
	b.PushNonvol(RBX)
	b.AllocStack(0x48)
	b.SetFramePointer(RBP, 0x20)
	b.SaveXMM128(X6, 0x30)
	b.EndProlog()
	n := 5
	for i := 0; i < blocks; i++ {
		head, skip, exit := b.NewLabel("head"), b.NewLabel("skip"), b.NewLabel("exit")
		b.Bind(head)
		b.Dec(S32, RIPSym("counter"))
		b.Jcc(CondG, skip)
		b.Lea(RCX, RIPSym("counter"))
		b.Mov(S32, RDX, Imm(int64(i)))
		b.Call(Sym("helper"))
		b.Bind(skip)
		b.Mov(S32, RAX, M(RBP, -8))
		b.Add(S32, RAX, M(RBP, -16))
		b.Mov(S32, M(RBP, -8), RAX)
		b.Mov(S64, RCX, MIdx(RBX, RAX, 8, 0x10))
		b.Imul(S64, RCX, RDX)
		b.Shr(S64, RCX, 3)
		b.Xor(S64, RCX, Imm(0x1000))
		b.Cmp(S32, RAX, Imm(100))
		b.Jcc(CondGE, exit)
		b.Test(S64, RCX, RCX)
		b.Cmovcc(CondE, S64, RCX, RDX)
		b.Setcc(CondL, RSI)
		b.MovZX(S32, RSI, S8, RSI)
		b.Movdqu(X0, M(RSP, 0x10))
		b.Movdqu(M(RSP, 0x20), X0)
		b.Inc(S32, M(RBP, -16))
		b.Jmp(head)
		b.Bind(exit)
		b.NopAlign(16)
		n += 22
	}
	b.Mov(S64, RSP, RBP)
	b.Pop(RBX)
	b.Pop(RBP)
	b.Ret()
	b.EndFunc()
	b.Func("helper")
	b.Ret()
	b.EndFunc()
	return n + 5
}

func BenchmarkEmit(bm *testing.B) {
	insts := 0
	for bm.Loop() {
		p := NewProgram()
		text := p.Section("text")
		data := p.Section("data")
		data.DefineSymbol("counter")
		data.U32(1000)
		insts += emitMixed(text)
		obj, err := p.Finish()
		if err != nil {
			bm.Fatal(err)
		}
		if len(obj.Sections[0].Insts) < 900 {
			bm.Fatalf("%d instructions", len(obj.Sections[0].Insts))
		}
	}
	bm.ReportMetric(float64(insts)/bm.Elapsed().Seconds(), "insts/s")
}
