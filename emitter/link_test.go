package emitter

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/arch/x86/x86asm"
)

// decodeAt decodes the instruction of sec at offset off, linked at base.
func decodeAt(t *testing.T, ln *Linked, sec string, off int) (x86asm.Inst, uint64) {
	t.Helper()
	d, err := x86asm.Decode(ln.Bytes[sec][off:], 64)
	if err != nil {
		t.Fatalf("%s+%#x: %v", sec, off, err)
	}
	target, _ := pcTarget(d, ln.Bases[sec]+uint64(off))
	return d, target
}

func TestBranchesAndRelaxation(t *testing.T) {
	p := NewProgram()
	b := p.Section("text")
	b.Func("f")
	top, fwdShort, fwdLong, chainA, chainB := b.NewLabel("top"), b.NewLabel("fwd"), b.NewLabel("fwd"), b.NewLabel("a"), b.NewLabel("b")
	b.Bind(top)
	b.Jcc(CondNE, fwdShort) // 0: short
	b.Jmp(fwdLong)          // 2: long (200 bytes of nops follow)
	b.Nop(100)
	b.Bind(fwdShort)
	b.Nop(100)
	b.Bind(fwdLong)
	b.Jcc(CondE, top) // backward, long (> 128 back)
	b.Jmp(top)        // backward, long
	// A chain: a is short only if b is short, and b is just over the edge.
	b.Jmp(chainA)
	b.Jmp(chainB)
	b.Nop(124)
	b.Bind(chainA)
	b.Nop(4)
	b.Bind(chainB)
	back := b.NewLabel("back")
	b.Bind(back)
	b.Nop(5)
	b.Jcc(CondL, back) // backward, short
	b.Ret()
	b.EndFunc()
	obj, err := p.Finish()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := obj.Link(map[string]uint64{"text": 0x10000})
	if err != nil {
		t.Fatal(err)
	}
	s := obj.Section("text")
	var lens []int
	for _, in := range s.Insts {
		d, target := decodeAt(t, ln, "text", in.Off)
		if d.Len != in.Len {
			t.Fatalf("+%#x: x86asm length %d, ours %d", in.Off, d.Len, in.Len)
		}
		if d.PCRel == 0 {
			continue
		}
		lens = append(lens, in.Len)
		// Every branch lands on a label.
		found := false
		for _, a := range ln.Labels {
			found = found || a == target
		}
		if !found {
			t.Errorf("+%#x %v: target %#x is not a label", in.Off, d, target)
		}
	}
	// jne short, jmp long, je long, jmp long, jmp (a) long, jmp (b) long, jl short.
	want := []int{2, 5, 6, 5, 5, 5, 2}
	if len(lens) != len(want) {
		t.Fatalf("branch lengths %v, want %v", lens, want)
	}
	for i := range want {
		if lens[i] != want[i] {
			t.Errorf("branch lengths %v, want %v", lens, want)
			break
		}
	}
	if s.Labels["fwd.1"] != s.Labels["fwd"]+100 {
		t.Errorf("duplicate label names: %v", s.Labels)
	}

	// Without relaxation every label branch is rel32.
	p2 := NewProgram()
	p2.SetRelax(false)
	b2 := p2.Section("text")
	l := b2.NewLabel("l")
	b2.Jmp(l)
	b2.Bind(l)
	b2.Ret()
	obj2, err := p2.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if got := hexBytes(obj2.Section("text").Bytes); got != "e9 00 00 00 00 c3" {
		t.Errorf("unrelaxed jmp: %s", got)
	}
}

func TestNopAlign(t *testing.T) {
	p := NewProgram()
	b := p.Section("text")
	l := b.NewLabel("l")
	b.Jmp(l) // short after relaxation, which changes the padding
	b.NopAlign(16)
	b.Bind(l)
	b.Ret()
	b.Nop(13)
	d := p.Section("data")
	d.U8(1)
	d.Align(8, 0xee)
	d.DefineSymbol("q")
	d.U64(0x1122334455667788)
	obj, err := p.Finish()
	if err != nil {
		t.Fatal(err)
	}
	s := obj.Section("text")
	if s.Labels["l"] != 16 || len(s.Bytes) != 30 {
		t.Fatalf("label at %d, %d bytes: %s", s.Labels["l"], len(s.Bytes), hexBytes(s.Bytes))
	}
	// jmp, the 14 padding bytes as a 9- and a 5-byte nop, ret, nop(13) as 9+4.
	var lens []int
	for _, in := range s.Insts {
		lens = append(lens, in.Len)
	}
	if got := fmt.Sprint(lens); got != "[2 9 5 1 9 4]" {
		t.Errorf("instruction lengths %v", lens)
	}
	if hexBytes(s.Bytes[:2]) != "eb 0e" {
		t.Errorf("jmp %s", hexBytes(s.Bytes[:2]))
	}
	ds := obj.Section("data")
	if hexBytes(ds.Bytes) != "01 ee ee ee ee ee ee ee 88 77 66 55 44 33 22 11" || len(ds.Insts) != 0 {
		t.Errorf("data %s, insts %v", hexBytes(ds.Bytes), ds.Insts)
	}
	if ds.Symbols[0] != (Symbol{Name: "q", Start: 8, End: 16, Kind: SymData}) {
		t.Errorf("data symbol %+v", ds.Symbols[0])
	}
}

// buildLinkProgram has code in two sections and data in a third, with every
// kind of cross-section reference.
func buildLinkProgram(t *testing.T) (*Object, map[string]int) {
	t.Helper()
	p := NewProgram()
	text, code2, data := p.Section("text"), p.Section("code2"), p.Section("data")
	loop, done := p.NewLabel("loop"), p.NewLabel("done")
	// Offset() is an upper bound until Finish relaxes branches, so
	// positions of interest are labels.
	mark := func(name string) { text.Bind(p.NewLabel("at." + name)) }

	text.Func("main")
	text.PushNonvol(RBP)
	text.SetFramePointer(RBP, 0)
	text.EndProlog()
	mark("lea")
	text.Lea(RAX, RIPSym("counter")) // cross-section RIP-relative symbol
	text.Bind(loop)
	mark("call")
	text.Call(Sym("helper")) // cross-section call
	mark("cmp")
	text.Cmp(S32, RIP(done), Imm(3)) // cross-section RIP-relative label, imm after disp
	text.Jcc(CondNE, loop)           // backward
	mark("movabs")
	text.MovAbs(RCX, "counter", 8)
	text.Jmp(done) // label in another section: rel32 relocation
	text.EndFunc()

	code2.Func("helper")
	code2.BeginRange("helper.body")
	code2.Inc(S64, RIPSym("counter"))
	code2.EndRange()
	code2.Ret()
	code2.Bind(done)
	code2.Jmp(Sym("main"))
	code2.EndFunc()

	data.DefineSymbol("counter")
	data.U64(0)
	data.DefineSymbol("table")
	data.U64Sym("main", 0)
	data.U64Sym("helper", 1)
	data.U64Label(done)
	data.EndSymbol("table")
	data.DefineSymbol("tail")
	data.U32(7)
	obj, err := p.Finish()
	if err != nil {
		t.Fatal(err)
	}
	offs := map[string]int{}
	for name, off := range obj.Section("text").Labels {
		if k, ok := strings.CutPrefix(name, "at."); ok {
			offs[k] = off
		}
	}
	return obj, offs
}

func TestLinkCrossSection(t *testing.T) {
	obj, offs := buildLinkProgram(t)
	bases := map[string]uint64{"text": 0x5_0000_0000, "code2": 0x5_0010_0000, "data": 0x5_1000_0000}
	ln, err := obj.Link(bases)
	if err != nil {
		t.Fatal(err)
	}
	sym := ln.Symbols
	check := func(what string, got, want uint64) {
		t.Helper()
		if got != want {
			t.Errorf("%s: %#x, want %#x", what, got, want)
		}
	}
	_, target := decodeAt(t, ln, "text", offs["lea"])
	check("lea counter", target, sym["counter"])
	_, target = decodeAt(t, ln, "text", offs["call"])
	check("call helper", target, sym["helper"])
	d, target := decodeAt(t, ln, "text", offs["cmp"])
	check("cmp [rip+done]", target, ln.Labels["done"])
	if d.Args[1] != x86asm.Imm(3) {
		t.Errorf("cmp immediate %v", d.Args[1])
	}
	d, _ = decodeAt(t, ln, "text", offs["movabs"])
	check("movabs counter+8", uint64(d.Args[1].(x86asm.Imm)), sym["counter"]+8)
	// helper's inc and the jmp back to main.
	helper := obj.Section("code2")
	_, target = decodeAt(t, ln, "code2", helper.Insts[0].Off)
	check("inc counter", target, sym["counter"])
	_, target = decodeAt(t, ln, "code2", helper.Insts[2].Off)
	check("jmp main", target, sym["main"])
	// abs64 data.
	dat := ln.Bytes["data"]
	check("table[0]", binary.LittleEndian.Uint64(dat[8:]), sym["main"])
	check("table[1]", binary.LittleEndian.Uint64(dat[16:]), sym["helper"]+1)
	check("table[2]", binary.LittleEndian.Uint64(dat[24:]), ln.Labels["done"])
	check("table end", ln.SymbolEnds["table"], bases["data"]+32)
	check("counter end", ln.SymbolEnds["counter"], bases["data"]+8)
	check("tail end", ln.SymbolEnds["tail"], bases["data"]+36)
	check("range", ln.Symbols["helper.body"], sym["helper"])
	// The object itself is unchanged by linking.
	if binary.LittleEndian.Uint64(obj.Section("data").Bytes[8:]) != 0 {
		t.Errorf("Link modified the object")
	}
	// Relocation records.
	var kinds []string
	for _, r := range obj.Section("text").Relocs {
		kinds = append(kinds, r.Kind.String()+":"+r.Target)
	}
	if got := strings.Join(kinds, " "); got != "pcrel32:counter pcrel32:helper pcrel32:done abs64:counter pcrel32:done" {
		t.Errorf("text relocs %s", got)
	}
	if r := obj.Section("text").Relocs[2]; r.Addend != -5 || !r.Label {
		t.Errorf("cmp reloc %+v: want addend -5 (disp32 then imm8) and a label target", r)
	}
}

func TestLinkErrors(t *testing.T) {
	obj, _ := buildLinkProgram(t)
	_, err := obj.Link(map[string]uint64{"text": 0x1000, "code2": 0x1000 + 1<<32, "data": 0x2000_0000})
	if !errors.Is(err, ErrRel32Range) {
		t.Errorf("far sections: %v", err)
	}
	_, err = obj.Link(map[string]uint64{"text": 0x1000, "data": 0x2000})
	if !errors.Is(err, ErrNoBase) {
		t.Errorf("missing base: %v", err)
	}
	_, err = obj.Link(map[string]uint64{"text": 0x1000, "code2": 0x1010, "data": 0x2000})
	if !errors.Is(err, ErrSectionOverlap) {
		t.Errorf("overlap: %v", err)
	}
}

func TestExtern(t *testing.T) {
	p := NewProgram()
	p.Extern("host")
	b := p.Section("text")
	b.Call(Sym("host"))
	b.MovAbs(RAX, "host", 0)
	obj, err := p.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := obj.Link(map[string]uint64{"text": 0x1000}); !errors.Is(err, ErrUndefinedSymbol) {
		t.Errorf("missing extern: %v", err)
	}
	ln, err := obj.LinkExterns(map[string]uint64{"text": 0x1000}, map[string]uint64{"host": 0x2000})
	if err != nil {
		t.Fatal(err)
	}
	if _, target := decodeAt(t, ln, "text", 0); target != 0x2000 {
		t.Errorf("call host: %#x", target)
	}
}

func TestListing(t *testing.T) {
	obj, _ := buildLinkProgram(t)
	ln, err := obj.Link(map[string]uint64{"text": 0x5_0000_0000, "code2": 0x5_0010_0000, "data": 0x5_1000_0000})
	if err != nil {
		t.Fatal(err)
	}
	out := ln.Listing(obj, "text", func(addr uint64) string {
		if addr == ln.Labels["loop"] {
			return "1000"
		}
		return ""
	})
	for _, want := range []string{
		"; ==== func main [0x500000000, ",
		"prolog 4, frame rbp+0",
		";      unwind +01 PUSH_NONVOL info=5\n;      unwind +04 SET_FPREG info=0\n",
		"loop:\n",
		"1000  0x50000000b  +000b  e8 ",
		"callq helper",
		"jne loop",
		"lea counter,%rax",
		"  55  ", // push rbp bytes
	} {
		if !strings.Contains(out, want) {
			t.Errorf("listing lacks %q:\n%s", want, out)
		}
	}
	out = ln.Listing(obj, "code2", nil)
	for _, want := range []string{"; ---- helper.body [", "done:\n", "jmpq main", "incq counter"} {
		if !strings.Contains(out, want) {
			t.Errorf("listing lacks %q:\n%s", want, out)
		}
	}
	out = ln.Listing(obj, "data", nil)
	for _, want := range []string{"; ==== data table [0x510000008, 0x510000020) 24 bytes", ".byte 0x00,0x00"} {
		if !strings.Contains(out, want) {
			t.Errorf("listing lacks %q:\n%s", want, out)
		}
	}
	t.Log("\n" + ln.Listing(obj, "text", nil))
}

// U32RVA fields are image-relative: target + addend - base, across
// sections; a target below the base or 4 GiB above it fails to link.
// finishAndLink finishes p and links it at bases, failing the test on an error.
func finishAndLink(t *testing.T, p *Program, bases map[string]uint64) (*Object, *Linked) {
	t.Helper()
	obj, err := p.Finish()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := obj.Link(bases)
	if err != nil {
		t.Fatal(err)
	}
	return obj, ln
}

func TestRVA32(t *testing.T) {
	p := NewProgram()
	text, data := p.Section("text"), p.Section("data")
	text.Func("f")
	text.Ret()
	text.EndFunc()
	text.Func("g")
	text.Nop(3)
	text.Ret()
	text.EndFunc()
	data.DefineSymbol("pdata")
	data.U32RVA("g", 0, "f")
	data.U32RVA("g", 4, "f")
	data.U32RVA("xdata", 0, "f")
	data.EndSymbol("pdata")
	data.DefineSymbol("xdata")
	data.U32(0x11)
	data.EndSymbol("xdata")
	obj, ln := finishAndLink(t, p, map[string]uint64{"text": 0x5_0000_0000, "data": 0x5_1000_0000})
	d := ln.Bytes["data"]
	for i, want := range []uint64{ln.Symbols["g"], ln.Symbols["g"] + 4, ln.Symbols["xdata"]} {
		if got := uint64(binary.LittleEndian.Uint32(d[4*i:])); got != want-ln.Symbols["f"] {
			t.Errorf("field %d = %#x, want %#x", i, got, want-ln.Symbols["f"])
		}
	}
	if r := obj.Section("data").Relocs[0]; r.Kind != RelocRVA32 || r.Base != "f" || r.Kind.String() != "rva32" {
		t.Errorf("reloc %+v", r)
	}
	for _, bases := range []map[string]uint64{
		{"text": 0x5_1000_0000, "data": 0x5_0000_0000}, // data below the base
		{"text": 0x1_0000_0000, "data": 0x2_0000_0000}, // 4 GiB above it
	} {
		if _, err := obj.Link(bases); !errors.Is(err, ErrRel32Range) {
			t.Errorf("%#x: %v", bases, err)
		}
	}
	p = NewProgram()
	p.Section("data").U32RVA("x", 0, "nowhere")
	p.Section("data").DefineSymbol("x")
	if _, err := p.Finish(); !errors.Is(err, ErrUndefinedSymbol) || !strings.Contains(err.Error(), "nowhere") {
		t.Errorf("undefined base: %v", err)
	}
}

// SetFuncHeader puts its bytes right before each aligned function.
func TestFuncHeader(t *testing.T) {
	p := NewProgram()
	b := p.Section("text")
	b.SetFuncAlign(32)
	b.SetFuncHeader(8, func(b *Builder, fn string) { b.U64Sym(fn, 0) })
	for _, fn := range []string{"a", "b", "c"} {
		b.Func(fn)
		b.Nop(len(fn) * 9)
		b.Ret()
		b.EndFunc()
	}
	_, ln := finishAndLink(t, p, map[string]uint64{"text": 0x10000})
	for _, fn := range []string{"a", "b", "c"} {
		a := ln.Symbols[fn]
		if a%32 != 0 {
			t.Errorf("%s at %#x, not 32-byte aligned", fn, a)
		}
		off := a - 0x10000
		if got := binary.LittleEndian.Uint64(ln.Bytes["text"][off-8:]); got != a {
			t.Errorf("header of %s holds %#x, want its address %#x", fn, got, a)
		}
	}
	p = NewProgram()
	b = p.Section("text")
	b.SetFuncHeader(8, func(b *Builder, fn string) { b.U32(0) })
	b.Func("short")
	b.EndFunc()
	if _, err := p.Finish(); !errors.Is(err, ErrInvalidOperands) {
		t.Errorf("header of the wrong size: %v", err)
	}
}
