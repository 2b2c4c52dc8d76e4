package ehframe

import (
	"encoding/binary"
	"fmt"
)

// CFAWriter builds a CFA program for the CIE that Writer lays out (code
// alignment 1, data alignment -8). Locations are byte offsets from the
// function start; offsets are in bytes relative to the CFA. The first
// invalid request is kept and returned by Bytes.
type CFAWriter struct {
	b   []byte
	loc uint64
	err error
}

func (w *CFAWriter) fail(format string, args ...any) {
	if w.err == nil {
		w.err = fmt.Errorf(format, args...)
	}
}

// Loc is the current location.
func (w *CFAWriter) Loc() uint64 { return w.loc }

// AdvanceTo moves the location forward to loc with the shortest advance.
func (w *CFAWriter) AdvanceTo(loc uint64) {
	if loc < w.loc {
		w.fail("advance to %#x: location is already %#x", loc, w.loc)
		return
	}
	d := loc - w.loc
	switch {
	case d == 0:
		return
	case d <= PackedOperand:
		w.b = append(w.b, byte(CFAAdvanceLoc)|byte(d))
	case d <= 0xff:
		w.b = append(w.b, byte(CFAAdvanceLoc1), byte(d))
	case d <= 0xffff:
		w.b = binary.LittleEndian.AppendUint16(append(w.b, byte(CFAAdvanceLoc2)), uint16(d))
	case d <= 0xffffffff:
		w.b = binary.LittleEndian.AppendUint32(append(w.b, byte(CFAAdvanceLoc4)), uint32(d))
	default:
		w.fail("advance of %#x bytes does not fit advance_loc4", d)
		return
	}
	w.loc = loc
}

// factored divides a byte offset by the data alignment.
func (w *CFAWriter) factored(off int64) int64 {
	if off%DataAlign != 0 {
		w.fail("offset %d is not a multiple of the data alignment %d", off, DataAlign)
	}
	return off / DataAlign
}

func (w *CFAWriter) reg(op Op, r Reg) {
	w.b = appendULEB(append(w.b, byte(op)), uint64(r))
}

// DefCFA sets CFA = r + off.
func (w *CFAWriter) DefCFA(r Reg, off int64) {
	if off >= 0 {
		w.reg(CFADefCFA, r)
		w.b = appendULEB(w.b, uint64(off))
		return
	}
	w.reg(CFADefCFASF, r)
	w.b = appendSLEB(w.b, w.factored(off))
}

// DefCFARegister keeps the CFA offset and changes its register.
func (w *CFAWriter) DefCFARegister(r Reg) { w.reg(CFADefCFARegister, r) }

// DefCFAOffset keeps the CFA register and changes its offset.
func (w *CFAWriter) DefCFAOffset(off int64) {
	if off >= 0 {
		w.b = appendULEB(append(w.b, byte(CFADefCFAOffset)), uint64(off))
		return
	}
	w.b = appendSLEB(append(w.b, byte(CFADefCFAOffsetSF)), w.factored(off))
}

// Offset says the caller's r is saved at CFA + off.
func (w *CFAWriter) Offset(r Reg, off int64) {
	f := w.factored(off)
	switch {
	case f >= 0 && r <= PackedOperand:
		w.b = appendULEB(append(w.b, byte(CFAOffset)|byte(r)), uint64(f))
	case f >= 0:
		w.reg(CFAOffsetExtended, r)
		w.b = appendULEB(w.b, uint64(f))
	default:
		w.reg(CFAOffsetExtendedSF, r)
		w.b = appendSLEB(w.b, f)
	}
}

// ValOffset says the caller's r is the value CFA + off.
func (w *CFAWriter) ValOffset(r Reg, off int64) {
	f := w.factored(off)
	if f >= 0 {
		w.reg(CFAValOffset, r)
		w.b = appendULEB(w.b, uint64(f))
		return
	}
	w.reg(CFAValOffsetSF, r)
	w.b = appendSLEB(w.b, f)
}

// Restore gives r the rule it has after the CIE's initial instructions.
func (w *CFAWriter) Restore(r Reg) {
	if r <= PackedOperand {
		w.b = append(w.b, byte(CFARestore)|byte(r))
		return
	}
	w.reg(CFARestoreExtended, r)
}

// Undefined says the caller's r cannot be recovered.
func (w *CFAWriter) Undefined(r Reg) { w.reg(CFAUndefined, r) }

// SameValue says r still holds the caller's value.
func (w *CFAWriter) SameValue(r Reg) { w.reg(CFASameValue, r) }

// Register says the caller's r is in register in.
func (w *CFAWriter) Register(r, in Reg) {
	w.reg(CFARegister, r)
	w.b = appendULEB(w.b, uint64(in))
}

// RememberState pushes the current rules (CFA included).
func (w *CFAWriter) RememberState() { w.b = append(w.b, byte(CFARememberState)) }

// RestoreState pops the rules pushed by the matching RememberState.
func (w *CFAWriter) RestoreState() { w.b = append(w.b, byte(CFARestoreState)) }

// Nop is DW_CFA_nop.
func (w *CFAWriter) Nop() { w.b = append(w.b, byte(CFANop)) }

// Bytes returns the program, or the first invalid request.
func (w *CFAWriter) Bytes() ([]byte, error) { return w.b, w.err }

// Writer lays out an .eh_frame section: one CIE, one FDE per function, and
// the zero-length terminator. Address fields (FDE pc_begin, relative to the
// field) are left zero for the caller to relocate; FDEOffPCBegin gives
// their place.
type Writer struct {
	b    []byte
	done bool
}

// NewWriter starts a section with the CIE every FDE shares: "zR", FDE
// addresses pcrel|sdata4, the CFA is rsp+8 at a call target and the return
// address is at CFA-8.
func NewWriter() *Writer {
	var ini CFAWriter
	ini.DefCFA(RSP, 8)
	ini.Offset(RA, -8)
	prog, _ := ini.Bytes()                 // constant operands: cannot fail
	body := []byte{0, 0, 0, 0, CIEVersion} // CIE id 0
	body = append(body, cieAugmentation...)
	body = append(body, 0)
	body = appendULEB(body, CodeAlign)
	body = appendSLEB(body, DataAlign)
	body = append(body, byte(RA)) // version 1: a ubyte
	body = appendULEB(body, 1)    // augmentation data: the "R" encoding
	body = append(body, FDEEncoding)
	body = append(body, prog...)
	w := &Writer{}
	w.b = appendEntry(w.b, body)
	return w
}

// appendEntry appends a length field and body, padded with DW_CFA_nop to a
// multiple of 8 bytes (the address size), as the LSB requires.
func appendEntry(b, body []byte) []byte {
	for (4+len(body))%8 != 0 {
		body = append(body, byte(CFANop))
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(body)))
	return append(b, body...)
}

// AddFDE appends the FDE of a function of size bytes with CFA program prog
// and returns its offset in the section.
func (w *Writer) AddFDE(size uint32, prog []byte) int {
	if w.done {
		panic("BUG: ehframe: AddFDE after Bytes")
	}
	off := len(w.b)
	body := binary.LittleEndian.AppendUint32(nil, uint32(off+FDEOffCIEPtr)) // back to the CIE at 0
	body = binary.LittleEndian.AppendUint32(body, 0)                        // pc_begin, relocated
	body = binary.LittleEndian.AppendUint32(body, size)
	body = appendULEB(body, 0)
	body = append(body, prog...)
	w.b = appendEntry(w.b, body)
	return off
}

// Bytes ends the section with its terminator and returns it.
func (w *Writer) Bytes() []byte {
	if !w.done {
		w.b = binary.LittleEndian.AppendUint32(w.b, 0)
		w.done = true
	}
	return w.b
}

// HdrSize is the size of an .eh_frame_hdr with n table entries.
func HdrSize(n int) int { return HdrOffTable + n*HdrEntrySize }

// AppendHdr appends an .eh_frame_hdr for n FDEs with its encodings and
// count; the eh_frame pointer and the table entries are left zero for the
// caller to relocate (HdrOffEHFramePtr, HdrOffTable).
func AppendHdr(b []byte, n int) []byte {
	b = append(b, HdrVersion, HdrEHFramePtrEnc, HdrFDECountEnc, HdrTableEnc, 0, 0, 0, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	return append(b, make([]byte, n*HdrEntrySize)...)
}
