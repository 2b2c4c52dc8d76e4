package ehframe_test

import (
	"fmt"
	"github.com/osrsim/osrsim/region"
	"testing"

	"github.com/osrsim/osrsim/ehframe"
	. "github.com/osrsim/osrsim/emitter"
	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/unicorn"
)

// A small image: a driver that sets every callee-saved register and XMM6
// to known values and calls one native function; the functions' records.
const (
	runText  = 0x10000
	runData  = 0x20000
	runHdr   = 0x30000
	runFrame = 0x31000
	runStack = 0x40000
	runTop   = runStack + 0x8000 // 16-byte aligned
)

var calleeSaved = []Reg{RBX, RBP, RSI, RDI, R12, R13, R14, R15}

func savedValue(r Reg) uint64 { return 0x5a5a_0000_0000_0000 | uint64(r)<<8 | uint64(r) }

const xmm6Value = "caller's xmm6.."

// emitRunFuncs emits the functions under test. Their bodies clobber what
// they saved, and restore it in their epilogs; edi picks one of two
// epilogs in "framed".
func emitRunFuncs(b *Builder) {
	alt := b.NewLabel("alt")
	b.Func("framed")
	b.SetMeta(region.Meta{Region: region.Helper}) // native: described in .eh_frame
	b.PushNonvol(RBP)
	b.PushNonvol(R12)
	b.AllocStack(0x48)
	b.SetFramePointer(RBP, 32)
	b.SaveNonvol(RSI, 0x10)
	b.SaveXMM128(X6, 0x30)
	b.EndProlog()
	b.MovImm64(R12, 1)
	b.MovImm64(RSI, 2)
	b.Movdqu(X6, M(RSP, 0))
	b.Test(S32, RDI, RDI)
	b.Jcc(CondNE, alt)
	b.Mov(S64, RSI, M(RSP, 0x10))
	b.Movdqa(X6, M(RSP, 0x30))
	b.Lea(RSP, M(RBP, 40))
	b.Pop(R12)
	b.Pop(RBP)
	b.Ret()
	b.Bind(alt)
	b.Mov(S64, RSI, M(RSP, 0x10))
	b.Movdqa(X6, M(RSP, 0x30))
	b.Add(S64, RSP, Imm(0x48))
	b.Pop(R12)
	b.Pop(RBP)
	b.Ret()
	b.EndFunc()

	b.Func("pushes")
	b.SetMeta(region.Meta{Region: region.Helper}) // native: described in .eh_frame
	b.PushNonvol(RBX)
	b.PushNonvol(R12)
	b.PushNonvol(R13)
	b.AllocStack(0x18)
	b.EndProlog()
	b.Xor(S32, RBX, RBX)
	b.MovImm64(R12, 1)
	b.MovImm64(R13, 2)
	b.Add(S64, RSP, Imm(0x18))
	b.Pop(R13)
	b.Pop(R12)
	b.Pop(RBX)
	b.Ret()
	b.EndFunc()

	b.Func("leaf")
	b.SetMeta(region.Meta{Region: region.Helper}) // native: described in .eh_frame
	b.EndProlog()
	b.Mov(S32, RAX, Imm(1))
	b.Ret()
	b.EndFunc()
}

// emitDriver emits "drive.<fn>", which calls fn and ends in ud2 at label
// "ret.<fn>".
func emitDriver(b *Builder, fn string) {
	b.Func("drive." + fn)
	b.EndProlog()
	for _, r := range calleeSaved {
		if r != RDI { // RDI selects the path
			b.MovImm64(r, savedValue(r))
		}
	}
	b.Movdqu(X6, RIPSym("xmm6.value"))
	b.Call(Sym(fn))
	b.Bind(b.NewLabel("ret." + fn))
	b.Ud2()
	b.EndFunc()
}

type engineMem struct{ e *unicorn.Engine }

func (m engineMem) ReadMem(addr uint64, p []byte) error { return m.e.MemRead(addr, p) }

// TestStepAgainstExecution runs each native function under Unicorn up to
// every one of its instructions (on each path) and unwinds from there: the
// reference step must give the caller's RSP and RIP and every callee-saved
// register as the caller had it, at every instruction of the prolog, body
// and epilogs.
func TestStepAgainstExecution(t *testing.T) {
	funcs := []string{"framed", "pushes", "leaf"}
	p := NewProgram()
	text, data := p.Section("text"), p.Section("data")
	p.EHFrame(text, func(r region.Region) bool { return r == region.Helper })
	emitRunFuncs(text)
	for _, f := range funcs {
		emitDriver(text, f)
	}
	data.DefineSymbol("xmm6.value")
	data.Bytes([]byte(xmm6Value + "\x00"))
	obj, err := p.Finish()
	if err != nil {
		t.Fatal(err)
	}
	l, err := obj.Link(map[string]uint64{"text": runText, "data": runData, SecEHFrameHdr: runHdr, SecEHFrame: runFrame})
	if err != nil {
		t.Fatal(err)
	}
	mem := []segment{
		{runText, l.Bytes["text"], sim.PermR | sim.PermX}, {runData, l.Bytes["data"], sim.PermR},
		{runHdr, l.Bytes[SecEHFrameHdr], sim.PermR}, {runFrame, l.Bytes[SecEHFrame], sim.PermR},
		{runStack, make([]byte, 0x10000), sim.PermR | sim.PermW},
	}
	code := obj.Section("text")
	for _, fn := range funcs {
		start, end := l.Symbols[fn], l.SymbolEnds[fn]
		for _, in := range code.Insts {
			pc := runText + uint64(in.Off)
			if pc < start || pc >= end {
				continue
			}
			reached := false
			for path := uint64(0); path < 2; path++ {
				e, ctx, ok := runTo(t, mem, l.Symbols["drive."+fn], pc, path)
				if !ok {
					continue
				}
				u := ehframe.Unwinder{Mem: engineMem{e}, Hdr: runHdr}
				reached = true
				where := fmt.Sprintf("%s+%#x (path %d)", fn, pc-start, path)
				caller, fr, err := u.Step(ctx)
				e.Close()
				if err != nil {
					t.Errorf("%s: %v", where, err)
					continue
				}
				if caller.Regs[ehframe.RA] != l.Labels["ret."+fn] || caller.Regs[ehframe.RSP] != runTop {
					t.Errorf("%s: caller rip %#x rsp %#x, want %#x %#x", where, caller.Regs[ehframe.RA], caller.Regs[ehframe.RSP], l.Labels["ret."+fn], runTop)
				}
				for _, r := range calleeSaved {
					if r == RDI {
						continue
					}
					if got := caller.Regs[DWARFReg(r)]; got != savedValue(r) {
						t.Errorf("%s: caller %v = %#x, want %#x (row %v %v)", where, r, got, savedValue(r), fr.Row.CFA, fr.Row.Regs[DWARFReg(r)])
					}
				}
				if x := DWARFXReg(X6); fr.Row.Regs[x].Kind != ehframe.RuleUnset && string(caller.XMM[6][:15]) != xmm6Value {
					t.Errorf("%s: caller xmm6 = %q", where, caller.XMM[6])
				}
			}
			if !reached {
				t.Errorf("%s+%#x: reached on no path", fn, pc-start)
			}
		}
	}
}

type segment struct {
	base uint64
	b    []byte
	perm sim.Perm
}

// runTo runs driver with RDI = path in a fresh engine (Unicorn only stops
// at an address it translated the stop into) until pc, and returns the
// engine and the register context there, or false if pc is not reached on
// that path.
func runTo(t *testing.T, mem []segment, driver, pc, path uint64) (*unicorn.Engine, ehframe.Context, bool) {
	t.Helper()
	var ctx ehframe.Context
	e, err := unicorn.Open()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mem {
		if err := e.MemMap(m.base, (uint64(len(m.b))+sim.PageSize-1)&^(sim.PageSize-1), m.perm); err != nil {
			t.Fatal(err)
		}
		if err := e.MemWrite(m.base, m.b); err != nil {
			t.Fatal(err)
		}
	}
	vals := make([]uint64, 16)
	vals[RSP], vals[RDI] = runTop, path
	if err := e.RegWriteBatch(unicorn.GPRs[:], vals); err != nil {
		t.Fatal(err)
	}
	err = e.Start(driver, pc, 0)
	if err == nil {
		err = e.RegReadBatch(unicorn.GPRs[:], vals)
	}
	rip, _ := e.RegRead(unicorn.RIP)
	if err != nil || rip != pc { // ran into the driver's ud2
		e.Close()
		return nil, ctx, false
	}
	for r, v := range vals {
		ctx.Regs[DWARFReg(Reg(r))] = v
	}
	ctx.Regs[ehframe.RA] = rip
	return e, ctx, true
}
