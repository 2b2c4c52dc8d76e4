package emitter

import (
	"errors"
	"github.com/osrsim/osrsim/region"
	"strings"
	"testing"

	"github.com/osrsim/osrsim/ehframe"
)

const (
	ehTextBase  = 0x1000
	ehHdrBase   = 0x4000
	ehFrameBase = 0x5000
)

func linkEH(t *testing.T, build func(b *Builder)) (ehframe.Segments, *Linked) {
	t.Helper()
	p := NewProgram()
	b := p.Section("text")
	p.EHFrame(b, func(r region.Region) bool { return r != region.Tier0 })
	build(b)
	obj, err := p.Finish()
	if err != nil {
		t.Fatal(err)
	}
	l, err := obj.Link(map[string]uint64{"text": ehTextBase, SecEHFrameHdr: ehHdrBase, SecEHFrame: ehFrameBase})
	if err != nil {
		t.Fatal(err)
	}
	return ehframe.Segments{{Addr: ehTextBase, Data: l.Bytes["text"]}, {Addr: ehHdrBase, Data: l.Bytes[SecEHFrameHdr]},
		{Addr: ehFrameBase, Data: l.Bytes[SecEHFrame]}}, l
}

func TestEHFrameFromPrologs(t *testing.T) {
	// "framed" uses every prolog code with an .eh_frame form and has an
	// epilog followed by more code; "pushes" returns at its end; "leaf"
	// has no prolog (its body's push and pop are not described); "managed"
	// is not native.
	mem, l := linkEH(t, func(b *Builder) {
		b.Func("framed")
		b.PushNonvol(RBP)
		b.PushNonvol(R12)
		b.AllocStack(0x48)
		b.SetFramePointer(RBP, 32)
		b.SaveNonvol(RSI, 0x10)
		b.SaveXMM128(X6, 0x30)
		b.EndProlog()
		b.Mov(S64, R12, Imm(0))
		b.Lea(RSP, M(RBP, 40))
		b.Pop(R12)
		b.Pop(RBP)
		b.Ret()
		b.Ud2()
		b.EndFunc()
		b.Func("pushes")
		b.PushNonvol(RBX)
		b.AllocStack(0x20)
		b.EndProlog()
		b.Xor(S32, RBX, RBX)
		b.Add(S64, RSP, Imm(0x20))
		b.Pop(RBX)
		b.Ret()
		b.EndFunc()
		b.Func("leaf")
		b.EndProlog()
		b.Push(RAX)
		b.Pop(RAX)
		b.Ret()
		b.EndFunc()
		b.Func("managed")
		b.SetMeta(region.Meta{Region: region.Tier0})
		b.PushNonvol(RBP)
		b.EndProlog()
		b.Pop(RBP)
		b.Ret()
		b.EndFunc()
	})
	want := map[string][]string{
		"framed": {
			"DW_CFA_advance_loc: 1", "DW_CFA_def_cfa_offset: 16", "DW_CFA_offset: r6 (rbp) at cfa-16",
			"DW_CFA_advance_loc: 2", "DW_CFA_def_cfa_offset: 24", "DW_CFA_offset: r12 (r12) at cfa-24",
			"DW_CFA_advance_loc: 4", "DW_CFA_def_cfa_offset: 96",
			"DW_CFA_advance_loc: 5", "DW_CFA_def_cfa: r6 (rbp) ofs 64", // rbp = rsp+32 = CFA-64
			"DW_CFA_advance_loc: 5", "DW_CFA_offset: r4 (rsi) at cfa-80", // [rsp+0x10] = CFA-96+16
			"DW_CFA_advance_loc: 6", "DW_CFA_offset: r23 (xmm6) at cfa-48",
			"DW_CFA_advance_loc: 11", "DW_CFA_remember_state", "DW_CFA_def_cfa: r7 (rsp) ofs 24",
			"DW_CFA_advance_loc: 2", "DW_CFA_def_cfa_offset: 16", "DW_CFA_restore: r12 (r12)",
			"DW_CFA_advance_loc: 1", "DW_CFA_def_cfa_offset: 8", "DW_CFA_restore: r6 (rbp)",
			"DW_CFA_advance_loc: 1", "DW_CFA_restore_state",
		},
		"pushes": {
			"DW_CFA_advance_loc: 1", "DW_CFA_def_cfa_offset: 16", "DW_CFA_offset: r3 (rbx) at cfa-16",
			"DW_CFA_advance_loc: 4", "DW_CFA_def_cfa_offset: 48",
			"DW_CFA_advance_loc: 6", "DW_CFA_def_cfa_offset: 16", // after add rsp, 0x20
			"DW_CFA_advance_loc: 1", "DW_CFA_def_cfa_offset: 8", "DW_CFA_restore: r3 (rbx)",
		},
		"leaf": nil,
	}
	fdes, err := ehframe.ReadSection(mem, ehFrameBase, uint64(len(mem[2].Data)))
	if err != nil {
		t.Fatal(err)
	}
	if len(fdes) != len(want) {
		t.Fatalf("%d FDEs, want %d (the managed function has none)", len(fdes), len(want))
	}
	u := ehframe.Unwinder{Mem: mem, Hdr: ehHdrBase}
	for _, f := range fdes {
		name := ""
		for fn, a := range l.Symbols {
			if a == f.PCBegin {
				name = fn
			}
		}
		if f.PCEnd != l.SymbolEnds[name] {
			t.Errorf("%s: FDE ends at %#x, function at %#x", name, f.PCEnd, l.SymbolEnds[name])
		}
		insts, err := ehframe.Decode(f.CIE, f.Insts, f.InstsAddr)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, in := range insts {
			if in.Op != ehframe.CFANop {
				got = append(got, in.String())
			}
		}
		if strings.Join(got, "\n") != strings.Join(want[name], "\n") {
			t.Errorf("%s:\n%s\nwant\n%s", name, strings.Join(got, "\n"), strings.Join(want[name], "\n"))
		}
		// The hdr table finds this FDE from its first to its last byte.
		for _, pc := range []uint64{f.PCBegin, f.PCEnd - 1} {
			if g, err := u.Lookup(pc); err != nil || g.Addr != f.Addr {
				t.Errorf("%s: lookup of %#x: %v, %v", name, pc, g, err)
			}
		}
	}
	if _, err := u.Lookup(l.Symbols["managed"]); err == nil {
		t.Error("the managed function has an FDE")
	}
	if l.Symbols[SymEHFrameHdr] != ehHdrBase || l.SymbolEnds[SymEHFrameHdr] != ehHdrBase+uint64(ehframe.HdrSize(3)) ||
		l.Symbols[SymEHFrame] != ehFrameBase || l.SymbolEnds[SymEHFrame] != ehFrameBase+uint64(len(mem[2].Data)) {
		t.Errorf("symbols %v %v", l.Symbols, l.SymbolEnds)
	}
}

func TestEHFrameErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		build func(p *Program, b *Builder)
		err   string
	}{
		{"ret without epilog", func(p *Program, b *Builder) {
			b.Func("f")
			b.PushNonvol(RBX)
			b.EndProlog()
			b.Ret()
			b.EndFunc()
		}, `func "f": ret at +0x1: no epilog releases the 8-byte frame`},
		{"epilog releases too much", func(p *Program, b *Builder) {
			b.Func("f")
			b.AllocStack(8)
			b.EndProlog()
			b.Add(S64, RSP, Imm(16))
			b.Ret()
			b.EndFunc()
		}, "releases 8 bytes more"},
		{"lea from another register", func(p *Program, b *Builder) {
			b.Func("f")
			b.PushNonvol(RBP)
			b.SetFramePointer(RBP, 0)
			b.EndProlog()
			b.Lea(RSP, M(RBX, 0))
			b.Pop(RBP)
			b.Ret()
			b.EndFunc()
		}, "lea rsp from rbx, but the CFA is rbp+16"},
		{"machine frame", func(p *Program, b *Builder) {
			b.Func("f")
			b.UnwindRecord(UwopPushMachframe, 0, 0)
			b.EndProlog()
			b.Ret()
			b.EndFunc()
		}, "PUSH_MACHFRAME at +0x0 has no .eh_frame form"},
		{"twice", func(p *Program, b *Builder) { p.EHFrame(b, func(region.Region) bool { return true }) }, "EHFrame called twice"},
	} {
		p := NewProgram()
		b := p.Section("text")
		p.EHFrame(b, func(region.Region) bool { return true })
		c.build(p, b)
		_, err := p.Finish()
		if err == nil || !errors.Is(err, ErrUnwind) || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: %v, want %q", c.name, err, c.err)
		}
	}
}
