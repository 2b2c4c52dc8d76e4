package ehframe_test

import (
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"

	. "github.com/osrsim/osrsim/ehframe"
)

func hexOf(b []byte) string { return hex.EncodeToString(b) }

// TestCFAWriter checks each writer method's encoding (DWARF 4 §7.23).
func TestCFAWriter(t *testing.T) {
	for _, c := range []struct {
		name  string
		write func(w *CFAWriter)
		hex   string
	}{
		{"advance_loc", func(w *CFAWriter) { w.AdvanceTo(63) }, "7f"},
		{"advance_loc1", func(w *CFAWriter) { w.AdvanceTo(64) }, "0240"},
		{"advance_loc2", func(w *CFAWriter) { w.AdvanceTo(0x1234) }, "033412"},
		{"advance_loc4", func(w *CFAWriter) { w.AdvanceTo(0x12345) }, "0445230100"},
		{"advance 0", func(w *CFAWriter) { w.AdvanceTo(0) }, ""},
		{"def_cfa", func(w *CFAWriter) { w.DefCFA(RSP, 8) }, "0c0708"},
		{"def_cfa_sf", func(w *CFAWriter) { w.DefCFA(RBP, -16) }, "120602"},
		{"def_cfa_register", func(w *CFAWriter) { w.DefCFARegister(RBP) }, "0d06"},
		{"def_cfa_offset", func(w *CFAWriter) { w.DefCFAOffset(176) }, "0eb001"},
		{"def_cfa_offset_sf", func(w *CFAWriter) { w.DefCFAOffset(-8) }, "1301"},
		{"offset", func(w *CFAWriter) { w.Offset(RBX, -16) }, "8302"},
		{"offset xmm", func(w *CFAWriter) { w.Offset(XMM0+6, -48) }, "9706"},
		{"offset_extended_sf", func(w *CFAWriter) { w.Offset(RBX, 16) }, "11037e"},
		{"val_offset", func(w *CFAWriter) { w.ValOffset(RSP, -8) }, "140701"},
		{"val_offset_sf", func(w *CFAWriter) { w.ValOffset(RSP, 8) }, "15077f"},
		{"restore", func(w *CFAWriter) { w.Restore(R12) }, "cc"},
		{"undefined", func(w *CFAWriter) { w.Undefined(RA) }, "0710"},
		{"same_value", func(w *CFAWriter) { w.SameValue(RBX) }, "0803"},
		{"register", func(w *CFAWriter) { w.Register(RBX, R11) }, "09030b"},
		{"state", func(w *CFAWriter) { w.RememberState(); w.Nop(); w.RestoreState() }, "0a000b"},
	} {
		var w CFAWriter
		c.write(&w)
		b, err := w.Bytes()
		if err != nil || hexOf(b) != c.hex {
			t.Errorf("%s: %s, %v; want %s", c.name, hexOf(b), err, c.hex)
		}
	}
	var w CFAWriter
	w.AdvanceTo(4)
	w.AdvanceTo(2)
	if _, err := w.Bytes(); err == nil || !strings.Contains(err.Error(), "already") {
		t.Errorf("backward advance: %v", err)
	}
	w = CFAWriter{}
	w.Offset(RBX, -12)
	if _, err := w.Bytes(); err == nil || !strings.Contains(err.Error(), "multiple") {
		t.Errorf("unaligned offset: %v", err)
	}
}

// testFunc is a function for the records built by buildRecords.
type testFunc struct {
	start, size uint64
	prog        func(w *CFAWriter)
}

const (
	testHdr   = 0x7000
	testFrame = 0x8000
)

// buildRecords lays out .eh_frame at testFrame and .eh_frame_hdr at
// testHdr for fs (ascending), resolving the address fields as a linker
// does, and returns them as memory.
func buildRecords(t *testing.T, fs []testFunc) Segments {
	t.Helper()
	w := NewWriter()
	offs := make([]int, len(fs))
	for i, f := range fs {
		var cw CFAWriter
		f.prog(&cw)
		prog, err := cw.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		offs[i] = w.AddFDE(uint32(f.size), prog)
	}
	frame := w.Bytes()
	put := func(b []byte, field int, v uint64) { binary.LittleEndian.PutUint32(b[field:], uint32(int32(int64(v)))) }
	for i, f := range fs {
		field := offs[i] + FDEOffPCBegin
		put(frame, field, f.start-(testFrame+uint64(field)))
	}
	hdr := AppendHdr(nil, len(fs))
	put(hdr, HdrOffEHFramePtr, testFrame-(testHdr+HdrOffEHFramePtr))
	for i, f := range fs {
		e := HdrOffTable + i*HdrEntrySize
		put(hdr, e+HdrEntryOffLoc, f.start-testHdr)
		put(hdr, e+HdrEntryOffFDE, testFrame+uint64(offs[i])-testHdr)
	}
	return Segments{{testHdr, hdr}, {testFrame, frame}}
}

func TestRecordsLayout(t *testing.T) {
	mem := buildRecords(t, []testFunc{{0x1000, 0x20, func(w *CFAWriter) { w.AdvanceTo(1); w.DefCFAOffset(16) }}})
	frame := mem[1].Data
	// The CIE as GCC writes it for x86-64: "zR", 1, -8, 16, pcrel|sdata4,
	// def_cfa rsp+8, offset ra at cfa-8, padded to 24 bytes.
	if got := hexOf(frame[:CIESize]); got != "1400000000000000017a5200017810011b0c070890010000" {
		t.Errorf("CIE %s", got)
	}
	if frame[CIEOffVersion] != CIEVersion || frame[CIEOffFDEEncoding] != FDEEncoding || Op(frame[CIEOffInsts]) != CFADefCFA ||
		binary.LittleEndian.Uint32(frame[CIEOffID:]) != 0 || binary.LittleEndian.Uint32(frame[CIEOffLength:]) != CIESize-4 {
		t.Errorf("CIE field offsets disagree with %s", hexOf(frame[:CIESize]))
	}
	if l := binary.LittleEndian.Uint32(frame[24:]); l != 20 || binary.LittleEndian.Uint32(frame[24+FDEOffCIEPtr:]) != 28 ||
		binary.LittleEndian.Uint32(frame[24+FDEOffPCRange:]) != 0x20 || frame[24+FDEOffAugLen] != 0 ||
		hexOf(frame[24+FDEOffInsts:24+FDEOffInsts+3]) != "410e10" {
		t.Errorf("FDE %s", hexOf(frame[24:]))
	}
	if len(frame) != 24+24+4 || binary.LittleEndian.Uint32(frame[48:]) != 0 {
		t.Errorf("terminator: %d bytes", len(frame))
	}
	fdes, err := ReadSection(mem, testFrame, uint64(len(frame)))
	if err != nil || len(fdes) != 1 {
		t.Fatal(fdes, err)
	}
	c := fdes[0].CIE
	if c.Version != 1 || c.Augmentation != "zR" || c.CodeAlign != 1 || c.DataAlign != -8 || c.RAReg != RA || c.FDEEncoding != FDEEncoding {
		t.Errorf("CIE %+v", c)
	}
	if f := fdes[0]; f.PCBegin != 0x1000 || f.PCEnd != 0x1020 || f.Addr != testFrame+24 || f.InstsAddr != f.Addr+FDEOffInsts {
		t.Errorf("FDE %+v", f)
	}
}

// allOps is a program that uses every instruction the interpreter executes.
func allOps(w *CFAWriter) {
	w.AdvanceTo(1)
	w.DefCFAOffset(16)
	w.Offset(RBP, -16)
	w.AdvanceTo(4)
	w.DefCFARegister(RBP)
	w.AdvanceTo(4 + 0x40) // advance_loc1
	w.Offset(RBX, 8)      // offset_extended_sf
	w.ValOffset(R12, -24)
	w.Register(R13, R11)
	w.SameValue(R14)
	w.Undefined(R15)
	w.Offset(XMM0+6, -48)
	w.AdvanceTo(0x150) // advance_loc2
	w.RememberState()
	w.DefCFA(RSP, 24)
	w.Restore(RBP)
	w.Nop()
	w.AdvanceTo(0x151)
	w.DefCFA(RBX, -8) // def_cfa_sf
	w.AdvanceTo(0x152)
	w.RestoreState()
	w.AdvanceTo(0x10152) // advance_loc4
	w.DefCFAOffset(-16)  // def_cfa_offset_sf
}

func TestRowAtAllOps(t *testing.T) {
	mem := buildRecords(t, []testFunc{{0x1000, 0x20000, allOps}})
	fdes, err := ReadSection(mem, testFrame, uint64(len(mem[1].Data)))
	if err != nil {
		t.Fatal(err)
	}
	f := fdes[0]
	rowText := func(r Row) string {
		var b strings.Builder
		b.WriteString(r.CFA.String())
		for reg := Reg(0); int(reg) < NumRegs; reg++ {
			if r.Regs[reg].Kind != RuleUnset {
				b.WriteString(" " + reg.String() + "=" + r.Regs[reg].String())
			}
		}
		return b.String()
	}
	body := "rbp+16 rbx=c+8 rbp=c-16 r12=v-24 r13=r11 (r11) r14=s r15=u rip=c-8 xmm6=c-48"
	for _, c := range []struct {
		pc   uint64
		want string
	}{
		{0x1000, "rsp+8 rip=c-8"},
		{0x1001, "rsp+16 rbp=c-16 rip=c-8"},
		{0x1043, "rbp+16 rbp=c-16 rip=c-8"},
		{0x1044, body},
		{0x114f, body},
		{0x1150, "rsp+24 rbx=c+8 r12=v-24 r13=r11 (r11) r14=s r15=u rip=c-8 xmm6=c-48"},
		{0x1151, "rbx-8 rbx=c+8 r12=v-24 r13=r11 (r11) r14=s r15=u rip=c-8 xmm6=c-48"},
		{0x1152, body},
		{0x11151, body},
		{0x11152, strings.Replace(body, "rbp+16", "rbp-16", 1)},
		{0x20fff, strings.Replace(body, "rbp+16", "rbp-16", 1)},
	} {
		r, err := f.RowAt(c.pc, nil)
		if err != nil {
			t.Fatalf("%#x: %v", c.pc, err)
		}
		if got := rowText(r); got != c.want || r.Loc > c.pc {
			t.Errorf("%#x: row at %#x %s\nwant %s", c.pc, r.Loc, got, c.want)
		}
	}
	if _, err := f.RowAt(0x21000, nil); err == nil {
		t.Error("RowAt past the FDE succeeded")
	}

	// Table and RowAt agree at every location.
	rows, err := f.Table()
	if err != nil {
		t.Fatal(err)
	}
	locs := []uint64{0x1000, 0x1001, 0x1004, 0x1044, 0x1150, 0x1151, 0x1152, 0x11152}
	if len(rows) != len(locs) {
		t.Fatalf("%d rows, want %d", len(rows), len(locs))
	}
	for i, r := range rows {
		at, _ := f.RowAt(r.Loc, nil)
		if r.Loc != locs[i] || rowText(r) != rowText(at) {
			t.Errorf("row %d at %#x: %s; RowAt: %s", i, r.Loc, rowText(r), rowText(at))
		}
	}

	// The trace lists every executed instruction at its address, each
	// with the row it left.
	var trace []Trace
	if _, err := f.RowAt(0x1151, func(s Trace) { trace = append(trace, s) }); err != nil {
		t.Fatal(err)
	}
	insts, _ := Decode(f.CIE, f.Insts, f.InstsAddr)
	if len(trace) != 19 {
		t.Fatalf("trace of %d steps, want 19", len(trace))
	}
	for i, s := range trace {
		if s.Inst.Addr != insts[i].Addr || s.Inst.Op != insts[i].Op {
			t.Errorf("step %d: %v at %#x, decoded %v at %#x", i, s.Inst, s.Inst.Addr, insts[i], insts[i].Addr)
		}
	}
	if last := trace[len(trace)-1]; last.Inst.Op != CFADefCFASF || rowText(last.Row) != "rbx-8 rbx=c+8 r12=v-24 r13=r11 (r11) r14=s r15=u rip=c-8 xmm6=c-48" {
		t.Errorf("last step %v: %s", last.Inst, rowText(last.Row))
	}
}

func TestDecodeText(t *testing.T) {
	mem := buildRecords(t, []testFunc{{0x1000, 0x20000, allOps}})
	fdes, _ := ReadSection(mem, testFrame, uint64(len(mem[1].Data)))
	insts, err := Decode(fdes[0].CIE, fdes[0].Insts, fdes[0].InstsAddr)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range insts {
		got = append(got, in.String())
	}
	want := []string{
		"DW_CFA_advance_loc: 1", "DW_CFA_def_cfa_offset: 16", "DW_CFA_offset: r6 (rbp) at cfa-16",
		"DW_CFA_advance_loc: 3", "DW_CFA_def_cfa_register: r6 (rbp)", "DW_CFA_advance_loc1: 64",
		"DW_CFA_offset_extended_sf: r3 (rbx) at cfa+8", "DW_CFA_val_offset: r12 (r12) is cfa-24",
		"DW_CFA_register: r13 (r13) in r11 (r11)", "DW_CFA_same_value: r14 (r14)", "DW_CFA_undefined: r15 (r15)",
		"DW_CFA_offset: r23 (xmm6) at cfa-48", "DW_CFA_advance_loc2: 268", "DW_CFA_remember_state",
		"DW_CFA_def_cfa: r7 (rsp) ofs 24", "DW_CFA_restore: r6 (rbp)", "DW_CFA_nop", "DW_CFA_advance_loc: 1",
		"DW_CFA_def_cfa_sf: r3 (rbx) ofs -8", "DW_CFA_advance_loc: 1", "DW_CFA_restore_state",
		"DW_CFA_advance_loc4: 65536", "DW_CFA_def_cfa_offset_sf: -16",
	}
	if strings.Join(got[:len(want)], "\n") != strings.Join(want, "\n") {
		t.Errorf("decoded\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, in := range got[len(want):] {
		if in != "DW_CFA_nop" {
			t.Errorf("padding decodes as %s", in)
		}
	}
}

func TestInterpreterErrors(t *testing.T) {
	cie := &CIE{CodeAlign: 1, DataAlign: -8, RAReg: RA, FDEEncoding: FDEEncoding}
	for _, c := range []struct {
		name, prog, err string
	}{
		{"restore_state without remember", "0b", "without a remembered state"},
		{"unknown opcode", "3f", "unknown call-frame instruction"},
		{"register out of range", "0763", "has no column"},
		{"truncated", "0c07", "past the end"},
		{"advance past the end", "0240", "outside"},
		{"offset with an expression CFA", "0f01300e10", "while the CFA is an expression"},
	} {
		raw, _ := hex.DecodeString(c.prog)
		f := &FDE{CIE: &CIE{CodeAlign: 1, DataAlign: -8, RAReg: RA, FDEEncoding: FDEEncoding, Insts: []byte{0x0c, 7, 8}},
			PCBegin: 0x1000, PCEnd: 0x1010, Insts: raw}
		_, err := f.RowAt(0x100f, nil)
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: %v, want %q", c.name, err, c.err)
		}
	}
	cie.Insts = []byte{0xc3} // restore inside a CIE
	if _, err := cie.InitialRow(); err == nil {
		t.Error("restore in a CIE accepted")
	}
}

func TestHdrSearch(t *testing.T) {
	fs := []testFunc{
		{0x1000, 0x10, func(w *CFAWriter) {}},
		{0x1010, 0x30, func(w *CFAWriter) { w.AdvanceTo(1); w.DefCFAOffset(16) }},
		{0x1100, 0x8, func(w *CFAWriter) {}}, // a gap before it
	}
	mem := buildRecords(t, fs)
	h, err := ReadHdr(mem, testHdr)
	if err != nil || h.Count != 3 || h.EHFrame != testFrame {
		t.Fatal(h, err)
	}
	u := Unwinder{Mem: mem, Hdr: testHdr}
	for _, c := range []struct {
		pc    uint64
		begin uint64 // 0: not found
	}{
		{0xfff, 0}, {0x1000, 0x1000}, {0x100f, 0x1000}, {0x1010, 0x1010}, {0x103f, 0x1010},
		{0x1040, 0}, {0x10ff, 0}, {0x1100, 0x1100}, {0x1107, 0x1100}, {0x1108, 0},
	} {
		f, err := u.Lookup(c.pc)
		switch {
		case c.begin == 0 && err == nil:
			t.Errorf("%#x: found [%#x, %#x)", c.pc, f.PCBegin, f.PCEnd)
		case c.begin != 0 && (err != nil || f.PCBegin != c.begin):
			t.Errorf("%#x: %v, %v; want the FDE at %#x", c.pc, f, err, c.begin)
		}
	}
	bad := append(Segments(nil), mem...)
	bad[0].Data = append([]byte{1, HdrEHFramePtrEnc, HdrFDECountEnc, PEAbsPtr}, mem[0].Data[4:]...)
	if _, err := ReadHdr(bad, testHdr); err == nil || !strings.Contains(err.Error(), "encodings") {
		t.Errorf("absptr table accepted: %v", err)
	}
}

// TestStep unwinds two frames from a hand-built stack: f (rbp frame, rbx
// saved, rbp pushed) called by g (rsp frame, r12 saved with a val_offset
// rsp rule), called from 0x9999.
func TestStep(t *testing.T) {
	fs := []testFunc{
		{0x1000, 0x40, func(w *CFAWriter) { // push rbp; mov rbp, rsp; push rbx
			w.AdvanceTo(1)
			w.DefCFAOffset(16)
			w.Offset(RBP, -16)
			w.AdvanceTo(4)
			w.DefCFARegister(RBP)
			w.AdvanceTo(5)
			w.Offset(RBX, -24)
			w.Offset(XMM0+6, -48)
		}},
		{0x2000, 0x40, func(w *CFAWriter) { // push r12; sub rsp, 16
			w.AdvanceTo(2)
			w.DefCFAOffset(16)
			w.Offset(R12, -16)
			w.AdvanceTo(6)
			w.DefCFAOffset(32)
			w.Register(R13, R11)
		}},
	}
	mem := buildRecords(t, fs)
	const top = 0x10000 // g's caller's RSP
	stack := make([]byte, 0x100)
	base := uint64(top - 0x80)
	put := func(addr, v uint64) { binary.LittleEndian.PutUint64(stack[addr-base:], v) }
	put(top-8, 0x9999)  // g's return address
	put(top-16, 0xc12)  // caller's r12
	put(top-40, 0x2010) // f's return address (CFA of f = top-32)
	put(top-48, 0xb9)   // g's rbp, pushed by f
	put(top-56, 0xb3)   // caller's rbx, saved by f
	copy(stack[top-32-48-base:], "0123456789abcdef")
	mem = append(mem, Segment{base, stack})

	var c Context
	c.Regs[RA] = 0x1008
	c.Regs[RSP] = top - 0x60
	c.Regs[RBP] = top - 48 // after mov rbp, rsp
	c.Regs[RBX], c.Regs[R12], c.Regs[R11], c.Regs[R13] = 0x1, 0x2, 0xd13, 0x3
	u := Unwinder{Mem: mem, Hdr: testHdr}
	g, fr, err := u.Step(c)
	if err != nil {
		t.Fatal(err)
	}
	if fr.CFA != top-32 || fr.FDE.PCBegin != 0x1000 || g.Regs[RA] != 0x2010 || g.Regs[RSP] != top-32 || g.Regs[RBP] != 0xb9 ||
		g.Regs[RBX] != 0xb3 || g.Regs[R12] != 2 || string(g.XMM[6][:]) != "0123456789abcdef" || !g.AfterCall {
		t.Errorf("frame f: cfa %#x, %+v", fr.CFA, g.Regs)
	}
	caller, fr, err := u.Step(g)
	if err != nil {
		t.Fatal(err)
	}
	if fr.PC != 0x200f || fr.CFA != top || caller.Regs[RA] != 0x9999 || caller.Regs[RSP] != top || caller.Regs[R12] != 0xc12 ||
		caller.Regs[R13] != 0xd13 || caller.Regs[RBX] != 0xb3 || caller.Regs[RBP] != 0xb9 {
		t.Errorf("frame g: pc %#x cfa %#x, %+v", fr.PC, fr.CFA, caller.Regs)
	}
	if _, _, err := u.Step(caller); err == nil || !strings.Contains(err.Error(), "no FDE") {
		t.Errorf("step from the unknown caller: %v", err)
	}
}
