package emitter

import (
	"fmt"
	"sort"

	"github.com/osrsim/osrsim/ehframe"
	"github.com/osrsim/osrsim/region"
	"golang.org/x/arch/x86/x86asm"
)

// DWARF call-frame information for native functions.
//
// The records are a second encoding of the prolog description that
// UNWIND_INFO encodes (FuncUnwind.Codes): each code becomes CFA instructions
// at the same code offset. Epilogs, which UNWIND_INFO leaves to the
// unwinder's decoding of the bytes at the IP, are found the same way
// RtlVirtualUnwind recognises them (`add rsp, N` or `lea rsp, [fp+d]`, then
// pops, then `ret`) and described explicitly, as GCC does: the CFA follows
// RSP through the epilog, each popped register gets its rule back, and
// remember_state/restore_state bracket an epilog that code follows.

// Sections and symbols Program.EHFrame creates. Each symbol spans its
// section.
const (
	SecEHFrameHdr = "eh_frame_hdr"
	SecEHFrame    = "eh_frame"
	SymEHFrameHdr = "eh_frame_hdr"
	SymEHFrame    = "eh_frame"
)

// dwarfRegs maps hardware register numbers to DWARF columns (x86-64 psABI
// figure 3.36).
var dwarfRegs = [16]ehframe.Reg{
	RAX: ehframe.RAX, RCX: ehframe.RCX, RDX: ehframe.RDX, RBX: ehframe.RBX,
	RSP: ehframe.RSP, RBP: ehframe.RBP, RSI: ehframe.RSI, RDI: ehframe.RDI,
	R8: ehframe.R8, R9: ehframe.R9, R10: ehframe.R10, R11: ehframe.R11,
	R12: ehframe.R12, R13: ehframe.R13, R14: ehframe.R14, R15: ehframe.R15,
}

// DWARFReg is r's DWARF register number.
func DWARFReg(r Reg) ehframe.Reg { return dwarfRegs[r&15] }

// DWARFXReg is x's DWARF register number.
func DWARFXReg(x XReg) ehframe.Reg { return ehframe.XMM0 + ehframe.Reg(x&15) }

type ehFrame struct {
	code       *Builder
	native     func(region.Region) bool
	hdr, frame *Builder
}

// EHFrame makes Finish describe the functions of section code for which
// native returns true (by their region) in .eh_frame records: section SecEHFrame holds a CIE,
// one FDE per such function and the terminator; section SecEHFrameHdr the
// .eh_frame_hdr binary-search table of their start addresses. Code can
// refer to both by SymEHFrameHdr and SymEHFrame; Link places them like any
// section.
func (p *Program) EHFrame(code *Builder, native func(region.Region) bool) {
	if p.eh != nil {
		p.errorf(ErrUnwind, "EHFrame called twice")
		return
	}
	if code == nil || code.p != p || native == nil {
		p.errorf(ErrInvalidOperands, "EHFrame: needs a section of this program and a predicate")
		return
	}
	e := &ehFrame{code: code, native: native, hdr: p.Section(SecEHFrameHdr), frame: p.Section(SecEHFrame)}
	if len(e.hdr.buf) > 0 || len(e.frame.buf) > 0 {
		p.errorf(ErrUnwind, "EHFrame: sections %q and %q must be left to EHFrame", SecEHFrameHdr, SecEHFrame)
		return
	}
	e.hdr.defineSym(SymEHFrameHdr, SymData)
	e.frame.defineSym(SymEHFrame, SymData)
	p.eh = e
}

// owns reports whether b is one of the sections EHFrame fills.
func (e *ehFrame) owns(b *Builder) bool { return e != nil && (b == e.hdr || b == e.frame) }

// fill writes both sections from the laid-out code section.
func (e *ehFrame) fill(code *Section, add func(pos string, kind error, format string, args ...any)) {
	where := map[string]site{}
	for _, f := range e.code.funcs {
		where[f.sym.name] = f.where
	}
	type fde struct {
		fn    string
		start int
		off   int
	}
	var fdes []fde
	w := ehframe.NewWriter()
	regionOf := map[string]region.Region{}
	for _, s := range code.Symbols {
		if s.Kind == SymFunc {
			regionOf[s.Name] = s.Region
		}
	}
	for _, u := range code.Unwind {
		if !e.native(regionOf[u.Name]) {
			continue
		}
		prog, err := cfaProgram(code, u)
		if err != nil {
			add(where[u.Name].String(), ErrUnwind, "func %q: %v", u.Name, err)
			continue
		}
		fdes = append(fdes, fde{u.Name, u.Start, w.AddFDE(uint32(u.End-u.Start), prog)})
	}
	sort.SliceStable(fdes, func(i, j int) bool { return fdes[i].start < fdes[j].start })

	// A 32-bit field that Link sets to S + addend - P, P its address:
	// pcrel with addend 0; relative to the start of .eh_frame_hdr
	// (datarel) with the field's offset in it as addend.
	rel := func(b *Builder, field int, sym string, addend int) {
		b.fixups = append(b.fixups, fixup{pos: field, end: field, kind: fixRel32, sym: sym, addend: int64(addend)})
	}
	e.frame.Bytes(w.Bytes())
	for _, f := range fdes {
		rel(e.frame, f.off+ehframe.FDEOffPCBegin, f.fn, 0)
	}
	e.frame.EndSymbol(SymEHFrame)

	e.hdr.Bytes(ehframe.AppendHdr(nil, len(fdes)))
	rel(e.hdr, ehframe.HdrOffEHFramePtr, SymEHFrame, 0)
	for i, f := range fdes {
		entry := ehframe.HdrOffTable + i*ehframe.HdrEntrySize
		loc, ptr := entry+ehframe.HdrEntryOffLoc, entry+ehframe.HdrEntryOffFDE
		rel(e.hdr, loc, f.fn, loc)             // datarel: start - hdr
		rel(e.hdr, ptr, SymEHFrame, f.off+ptr) // datarel: FDE - hdr
	}
	e.hdr.EndSymbol(SymEHFrameHdr)
}

// cfaState follows the CFA rule and RSP's distance below the CFA.
type cfaState struct {
	w      *ehframe.CFAWriter
	depth  int64 // CFA - RSP
	cfaReg ehframe.Reg
	cfaOff int64
	saved  [ehframe.NumRegs]bool
	pushes int
}

// grow moves RSP down by n bytes.
func (s *cfaState) grow(n int64) {
	s.depth += n
	if s.cfaReg == ehframe.RSP {
		s.cfaOff = s.depth
		s.w.DefCFAOffset(s.depth)
	}
}

// save records that r is saved rsp+off bytes (RSP as it is now).
func (s *cfaState) save(r ehframe.Reg, off int64) {
	s.w.Offset(r, off-s.depth)
	s.saved[r] = true
}

// cfaProgram translates u's prolog codes and its epilogs into a CFA program.
func cfaProgram(sec *Section, u FuncUnwind) ([]byte, error) {
	s := &cfaState{w: &ehframe.CFAWriter{}, depth: 8, cfaReg: ehframe.RSP, cfaOff: 8}
	for _, c := range u.Codes {
		s.w.AdvanceTo(uint64(c.CodeOffset))
		switch c.Op {
		case UwopPushNonvol:
			s.grow(8)
			s.save(DWARFReg(Reg(c.Info)), 0)
			s.pushes++
		case UwopAllocSmall, UwopAllocLarge:
			s.grow(c.allocSize())
		case UwopSetFPReg:
			fp, off := DWARFReg(u.FrameReg), s.depth-int64(u.FrameOffset)
			if off == s.cfaOff {
				s.w.DefCFARegister(fp)
			} else {
				s.w.DefCFA(fp, off)
			}
			s.cfaReg, s.cfaOff = fp, off
		case UwopSaveNonvol, UwopSaveNonvolFar:
			s.save(DWARFReg(Reg(c.Info)), c.saveOffset())
		case UwopSaveXMM128, UwopSaveXMM128Far:
			s.save(DWARFXReg(XReg(c.Info)), c.saveOffset())
		default:
			return nil, fmt.Errorf("prolog code %v at +%#x has no .eh_frame form", c.Op, c.CodeOffset)
		}
	}
	if err := describeEpilogs(sec, u, s); err != nil {
		return nil, err
	}
	return s.w.Bytes()
}

// epilogInst is an instruction that can be part of an epilog.
type epilogInst struct {
	end  int // function offset after it
	kind x86asm.Op
	reg  Reg   // pop: the register; lea: the base
	imm  int64 // add: the immediate; lea: the displacement
}

// decodeEpilogInst classifies the instruction in of the function at start
// as `add rsp, imm`, `lea rsp, [reg+disp]`, `pop r64`, `ret`, or none of
// them (kind 0).
func decodeEpilogInst(sec *Section, in Inst, start int) epilogInst {
	e := epilogInst{end: in.Off + in.Len - start}
	d, err := x86asm.Decode(sec.Bytes[in.Off:in.Off+in.Len], 64)
	if err != nil {
		return e
	}
	gpr := func(a x86asm.Arg) (Reg, bool) {
		r, ok := a.(x86asm.Reg)
		return Reg(r - x86asm.RAX), ok && r >= x86asm.RAX && r <= x86asm.R15
	}
	switch d.Op {
	case x86asm.RET:
		if d.Args[0] == nil {
			e.kind = d.Op
		}
	case x86asm.POP:
		if r, ok := gpr(d.Args[0]); ok {
			e.kind, e.reg = d.Op, r
		}
	case x86asm.ADD:
		imm, isImm := d.Args[1].(x86asm.Imm)
		if r, ok := gpr(d.Args[0]); ok && r == RSP && isImm {
			e.kind, e.imm = d.Op, int64(imm)
		}
	case x86asm.LEA:
		m, isMem := d.Args[1].(x86asm.Mem)
		base, isBase := gpr(m.Base)
		if r, ok := gpr(d.Args[0]); ok && r == RSP && isMem && isBase && m.Index == 0 {
			e.kind, e.reg, e.imm = d.Op, base, m.Disp
		}
	}
	return e
}

// describeEpilogs adds the CFA instructions of every epilog after u's
// prolog; s holds the state at the end of the prolog. Without a frame to
// release there is nothing to describe.
func describeEpilogs(sec *Section, u FuncUnwind, s *cfaState) error {
	if s.depth == 8 && s.cfaReg == ehframe.RSP {
		return nil
	}
	lo := sort.Search(len(sec.Insts), func(i int) bool { return sec.Insts[i].Off >= u.Start+int(u.PrologSize) })
	hi := sort.Search(len(sec.Insts), func(i int) bool { return sec.Insts[i].Off >= u.End })
	body := make([]epilogInst, 0, hi-lo)
	for _, in := range sec.Insts[lo:hi] {
		body = append(body, decodeEpilogInst(sec, in, u.Start))
	}
	for k, ret := range body {
		if ret.kind != x86asm.RET {
			continue
		}
		first := k
		for pops := 0; first > 0 && body[first-1].kind == x86asm.POP && pops < s.pushes; pops++ {
			first--
		}
		if first > 0 && (body[first-1].kind == x86asm.ADD || body[first-1].kind == x86asm.LEA) {
			first--
		}
		if err := describeEpilog(*s, body[first:k], ret.end, ret.end < u.End-u.Start); err != nil {
			return fmt.Errorf("ret at +%#x: %w", ret.end-1, err)
		}
	}
	return nil
}

// describeEpilog describes the instructions ops that precede a ret ending
// at function offset retEnd, from the body's state s; more says code
// follows the ret, whose rows are the body's again.
func describeEpilog(s cfaState, ops []epilogInst, retEnd int, more bool) error {
	for i, op := range ops {
		s.w.AdvanceTo(uint64(op.end))
		if i == 0 && more {
			s.w.RememberState()
		}
		switch {
		case op.kind == x86asm.POP:
			s.depth -= 8
		case op.kind == x86asm.ADD || op.reg == RSP:
			s.depth -= op.imm
		case DWARFReg(op.reg) == s.cfaReg: // lea rsp, [fp+d]
			s.depth = s.cfaOff - op.imm
		default:
			return fmt.Errorf("lea rsp from %v, but the CFA is %v%+d", op.reg, s.cfaReg, s.cfaOff)
		}
		if s.depth < 8 {
			return fmt.Errorf("the epilog releases %d bytes more than the prolog allocated", 8-s.depth)
		}
		if s.cfaReg != ehframe.RSP {
			s.w.DefCFA(ehframe.RSP, s.depth)
		} else {
			s.w.DefCFAOffset(s.depth)
		}
		s.cfaReg, s.cfaOff = ehframe.RSP, s.depth
		if r := DWARFReg(op.reg); op.kind == x86asm.POP && s.saved[r] {
			s.w.Restore(r)
			s.saved[r] = false
		}
	}
	if s.depth != 8 {
		return fmt.Errorf("no epilog releases the %d-byte frame", s.depth-8)
	}
	if more && len(ops) > 0 {
		s.w.AdvanceTo(uint64(retEnd))
		s.w.RestoreState()
	}
	return nil
}

// allocSize is the stack allocation of an ALLOC_SMALL or ALLOC_LARGE code.
func (c UnwindCode) allocSize() int64 {
	switch {
	case c.Op == UwopAllocSmall:
		return int64(c.Info)*8 + 8
	case c.Info == 0:
		return int64(c.Operand) * 8
	}
	return int64(c.Operand)
}

// saveOffset is the RSP offset of a SAVE_NONVOL(_FAR) or SAVE_XMM128(_FAR)
// code.
func (c UnwindCode) saveOffset() int64 {
	switch c.Op {
	case UwopSaveNonvol:
		return int64(c.Operand) * 8
	case UwopSaveXMM128:
		return int64(c.Operand) * 16
	}
	return int64(c.Operand)
}
