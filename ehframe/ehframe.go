// Package ehframe encodes, decodes and interprets DWARF call-frame
// information in the .eh_frame and .eh_frame_hdr format that the x86-64
// System V toolchain writes and libunwind reads (Linux Standard Base 5.0,
// "Exception Frames"; DWARF 4 §6.4; System V x86-64 psABI §3.7).
//
// The emitter writes the records of native functions with Writer and
// CFAWriter. The decoder, the CFA interpreter (FDE.RowAt, FDE.Table) and the
// unwind step (Unwinder.Step) are the reference that readelf checks and that
// a generated unwinder interpreting the same bytes is compared with, CFA
// instruction by instruction (the trace of RowAt).
package ehframe

import "fmt"

// Reg is a DWARF register number of the x86-64 psABI (figure 3.36). It is
// not the hardware encoding: RDX is 1, RCX is 2, RSP is 7.
type Reg uint8

const (
	RAX Reg = iota
	RDX
	RCX
	RBX
	RSI
	RDI
	RBP
	RSP
	R8
	R9
	R10
	R11
	R12
	R13
	R14
	R15
	// RA is the return-address column (the caller's RIP).
	RA
	// XMM0 is the first of XMM0..XMM15 (17..32).
	XMM0
)

// NumRegs is the number of register columns the interpreter tracks:
// the 16 GPRs, the return address and XMM0..XMM15.
const NumRegs = int(XMM0) + 16

// NumGPRs is the number of general-purpose registers (0..15).
const NumGPRs = 16

var regNames = [NumRegs]string{
	"rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip",
	"xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
	"xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15",
}

// String is the psABI name (readelf's: the return-address column is "rip").
func (r Reg) String() string {
	if int(r) < NumRegs {
		return regNames[r]
	}
	return fmt.Sprintf("r%d", uint8(r))
}

// Op is a call-frame instruction opcode. The three packed forms carry their
// operand in the low 6 bits: AdvanceLoc (delta), Offset and Restore
// (register).
type Op uint8

const (
	CFANop                       Op = 0x00
	CFASetLoc                    Op = 0x01
	CFAAdvanceLoc1               Op = 0x02
	CFAAdvanceLoc2               Op = 0x03
	CFAAdvanceLoc4               Op = 0x04
	CFAOffsetExtended            Op = 0x05
	CFARestoreExtended           Op = 0x06
	CFAUndefined                 Op = 0x07
	CFASameValue                 Op = 0x08
	CFARegister                  Op = 0x09
	CFARememberState             Op = 0x0a
	CFARestoreState              Op = 0x0b
	CFADefCFA                    Op = 0x0c
	CFADefCFARegister            Op = 0x0d
	CFADefCFAOffset              Op = 0x0e
	CFADefCFAExpression          Op = 0x0f
	CFAExpression                Op = 0x10
	CFAOffsetExtendedSF          Op = 0x11
	CFADefCFASF                  Op = 0x12
	CFADefCFAOffsetSF            Op = 0x13
	CFAValOffset                 Op = 0x14
	CFAValOffsetSF               Op = 0x15
	CFAValExpression             Op = 0x16
	CFAGNUArgsSize               Op = 0x2e
	CFAGNUNegativeOffsetExtended Op = 0x2f

	CFAAdvanceLoc Op = 0x40 // high two bits 01, delta in the low 6
	CFAOffset     Op = 0x80 // high two bits 10, register in the low 6
	CFARestore    Op = 0xc0 // high two bits 11, register in the low 6

	// PackedMask selects the high two bits that mark a packed form;
	// PackedOperand the low 6 bits holding its operand.
	PackedMask    = 0xc0
	PackedOperand = 0x3f
)

var opNames = map[Op]string{
	CFANop: "DW_CFA_nop", CFASetLoc: "DW_CFA_set_loc", CFAAdvanceLoc1: "DW_CFA_advance_loc1",
	CFAAdvanceLoc2: "DW_CFA_advance_loc2", CFAAdvanceLoc4: "DW_CFA_advance_loc4",
	CFAOffsetExtended: "DW_CFA_offset_extended", CFARestoreExtended: "DW_CFA_restore_extended",
	CFAUndefined: "DW_CFA_undefined", CFASameValue: "DW_CFA_same_value", CFARegister: "DW_CFA_register",
	CFARememberState: "DW_CFA_remember_state", CFARestoreState: "DW_CFA_restore_state",
	CFADefCFA: "DW_CFA_def_cfa", CFADefCFARegister: "DW_CFA_def_cfa_register",
	CFADefCFAOffset: "DW_CFA_def_cfa_offset", CFADefCFAExpression: "DW_CFA_def_cfa_expression",
	CFAExpression: "DW_CFA_expression", CFAOffsetExtendedSF: "DW_CFA_offset_extended_sf",
	CFADefCFASF: "DW_CFA_def_cfa_sf", CFADefCFAOffsetSF: "DW_CFA_def_cfa_offset_sf",
	CFAValOffset: "DW_CFA_val_offset", CFAValOffsetSF: "DW_CFA_val_offset_sf",
	CFAValExpression: "DW_CFA_val_expression", CFAGNUArgsSize: "DW_CFA_GNU_args_size",
	CFAGNUNegativeOffsetExtended: "DW_CFA_GNU_negative_offset_extended",
	CFAAdvanceLoc:                "DW_CFA_advance_loc", CFAOffset: "DW_CFA_offset", CFARestore: "DW_CFA_restore",
}

func (op Op) String() string {
	if s, ok := opNames[op]; ok {
		return s
	}
	return fmt.Sprintf("DW_CFA_%#02x", uint8(op))
}

// Pointer encodings (DW_EH_PE_*): a value format in the low 4 bits, how it
// is applied in bits 4..6, and an indirection bit.
const (
	PEAbsPtr  = 0x00
	PEULEB128 = 0x01
	PEUData2  = 0x02
	PEUData4  = 0x03
	PEUData8  = 0x04
	PESLEB128 = 0x09
	PESData2  = 0x0a
	PESData4  = 0x0b
	PESData8  = 0x0c

	PEPCRel    = 0x10 // relative to the address of the encoded value
	PETextRel  = 0x20
	PEDataRel  = 0x30 // relative to the start of .eh_frame_hdr
	PEFuncRel  = 0x40
	PEAligned  = 0x50
	PEIndirect = 0x80
	PEOmit     = 0xff

	peFormatMask = 0x0f
	peApplyMask  = 0x70
)

// The encodings the Writer uses, which are the ones GCC and clang emit and
// the only table encoding libunwind binary-searches.
const (
	FDEEncoding      = PEPCRel | PESData4 // FDE pc_begin (CIE augmentation "R")
	HdrEHFramePtrEnc = PEPCRel | PESData4
	HdrFDECountEnc   = PEUData4
	HdrTableEnc      = PEDataRel | PESData4
	HdrVersion       = 1
	CIEVersion       = 1
	CodeAlign        = 1
	DataAlign        = -8
	cieAugmentation  = "zR"
)

// Layout of .eh_frame_hdr as Writer lays it out (byte offsets).
const (
	HdrOffVersion       = 0
	HdrOffEHFramePtrEnc = 1
	HdrOffFDECountEnc   = 2
	HdrOffTableEnc      = 3
	HdrOffEHFramePtr    = 4  // sdata4, relative to this field
	HdrOffFDECount      = 8  // udata4
	HdrOffTable         = 12 // FDECount entries, ascending by initial location
	HdrEntrySize        = 8
	HdrEntryOffLoc      = 0 // sdata4: function start - .eh_frame_hdr start
	HdrEntryOffFDE      = 4 // sdata4: FDE address - .eh_frame_hdr start
)

// Layout of the CIE Writer lays out at the start of .eh_frame (byte
// offsets): length, id 0, version 1, "zR", code alignment 1, data
// alignment -8, return-address column 16, augmentation length 1, the FDE
// encoding, then the initial instructions (def_cfa rsp+8; offset ra at
// cfa-8) padded with DW_CFA_nop to 24 bytes.
const (
	CIEOffLength      = 0
	CIEOffID          = 4
	CIEOffVersion     = 8
	CIEOffFDEEncoding = 16
	CIEOffInsts       = 17
	CIESize           = 24
)

// Layout of an FDE as Writer lays it out (byte offsets from its start).
const (
	FDEOffLength  = 0  // u32: bytes after this field
	FDEOffCIEPtr  = 4  // u32: this field's address - the CIE's address
	FDEOffPCBegin = 8  // sdata4, relative to this field
	FDEOffPCRange = 12 // sdata4 (the pc_begin format without its application)
	FDEOffAugLen  = 16 // ULEB128 0: no augmentation data
	FDEOffInsts   = 17 // the CFA program, then DW_CFA_nop padding to 8 bytes
)

// appendULEB appends v as unsigned LEB128.
func appendULEB(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// appendSLEB appends v as signed LEB128.
func appendSLEB(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
