package patchpoint

import (
	"github.com/osrsim/osrsim/ehframe"
	. "github.com/osrsim/osrsim/emitter"
	"github.com/osrsim/osrsim/sim/link"
)

// libunwind's cache-miss path: the FDE of an IP found
// (dwarf/Gfind_proc_info-lsb.c, Gfde.c, Gpe.c) and its CFA program run
// (dwarf/Gparser.c). With UNW_LOCAL_ONLY its byte readers (dwarf_i.h)
// load the records directly.

// DWARF pointer encodings the readers take apart.
const (
	peFormat = 0x0F
	peApply  = 0x70
	peOmit   = 0xFF
	peUdata8 = 0x04
)

// Unwind-info formats (libunwind-dynamic.h).
const (
	infoFormatTable       = 1
	infoFormatRemoteTable = 4
)

// emitULEB reads an unsigned LEB128 at [cur] into dst (dwarf_read_uleb128),
// advancing cur. Clobbers RAX, RCX, R11.
func emitULEB(b *Builder, dst, cur Reg) {
	loop := b.NewLabel("")
	b.Xor(S32, dst, dst)
	b.Xor(S32, RCX, RCX)
	b.Bind(loop)
	b.MovZX(S32, RAX, S8, M(cur, 0))
	b.Inc(S64, cur)
	b.Mov(S32, R11, RAX)
	b.And(S32, R11, Imm(0x7F))
	b.ShlCL(S64, R11)
	b.Or(S64, dst, R11)
	b.Add(S32, RCX, Imm(7))
	b.Test(S8, RAX, Imm(0x80))
	b.Jcc(CondNE, loop)
}

// emitSLEB reads a signed LEB128 (dwarf_read_sleb128). Clobbers RAX, RCX,
// R11.
func emitSLEB(b *Builder, dst, cur Reg) {
	done := b.NewLabel("")
	emitULEB(b, dst, cur)
	b.Cmp(S32, RCX, Imm(64))
	b.Jcc(CondAE, done)
	b.Test(S8, RAX, Imm(0x40))
	b.Jcc(CondE, done)
	b.Mov(S64, R11, Imm(-1))
	b.ShlCL(S64, R11)
	b.Or(S64, dst, R11) // sign-extend from the last byte's sign bit
	b.Bind(done)
}

// emitFetchProcInfo is fetch_proc_info(c, ip) (dwarf/Gparser.c): the IP
// before the return address (use_prev_instr), the proc info cleared, the
// dynamic list (empty) checked, then tdep_find_proc_info, i.e.
// dwarf_find_proc_info with the cursor's address space. RDI = the cursor,
// RSI = its IP. Returns 0 or a negative error.
func emitFetchProcInfo(b *Builder) {
	dynamic, badFormat, exit, atIP := b.NewLabel("fetch_proc_info.dynamic"), b.NewLabel("fetch_proc_info.format"), b.NewLabel("fetch_proc_info.exit"), b.NewLabel("fetch_proc_info.at_ip")
	helperFunc(b, SymUnwFetchProcInfo, StepDWARFFDE)
	b.PushNonvol(RBX)
	b.EndProlog()
	b.Mov(S64, RBX, RDI)
	b.Test(S8, M(RBX, OffCurFlags), Imm(curFlagUsePrevInst))
	b.Jcc(CondE, atIP)
	b.Dec(S64, RSI)
	b.Bind(atIP)
	b.Pxor(X0, X0)
	for off := int32(0); off+16 <= ProcInfoSize; off += 16 {
		b.Movdqu(M(RBX, OffCurPI+off), X0)
	}
	b.Mov(S64, M(RBX, OffCurPI+ProcInfoSize-8), Imm(0))
	b.Cmp(S64, RIPSym(SymUnwDynInfoList).Off(8), Imm(0)) // unwi_find_dynamic_proc_info: list->first
	b.Jcc(CondNE, dynamic)
	b.Mov(S64, RDI, M(RBX, OffCurAs))
	b.Lea(RDX, M(RBX, OffCurPI))
	b.Mov(S32, RCX, Imm(1)) // need_unwind_info
	b.Mov(S64, R8, M(RBX, OffCurAsArg))
	b.Call(Sym(SymUnwFindProcInfo))
	b.Test(S32, RAX, RAX)
	b.Jcc(CondS, exit)
	b.Cmp(S32, M(RBX, OffCurPI+OffPIFormat), Imm(infoFormatTable))
	b.Jcc(CondNE, badFormat)
	b.Or(S32, M(RBX, OffCurFlags), Imm(curFlagPIValid)) // pi_valid 1, pi_is_dynamic 0
	b.Mov(S64, M(RBX, OffCurSigcontextFmt), Imm(0))     // tdep_fetch_frame: not a signal frame
	b.Xor(S32, RAX, RAX)
	b.Bind(exit)
	b.Pop(RBX)
	b.Ret()
	b.Bind(dynamic) // dynamically registered unwind info: not used
	b.Bind(badFormat)
	b.Ud2()
	b.EndFunc()
}

// find_proc_info frame: the callback data.
const (
	fpCB    = 0
	fpFrame = CallbackSize
)

// emitFindProcInfo is dwarf_find_proc_info(as, ip, pi, need, arg): the
// callback data set up, the loaded objects walked (the address space's
// iterate_phdr_function: dl_iterate_phdr) with dwarf_callback, then the
// table it found searched. RDI..R8 as listed.
func emitFindProcInfo(b *Builder) {
	none, exit := b.NewLabel("find_proc_info.none"), b.NewLabel("find_proc_info.exit")
	helperFunc(b, SymUnwFindProcInfo, StepDWARFFDE)
	fr := b.Prolog(fpFrame, RBX, R12, R13, R14, R15)
	b.Mov(S64, RBX, RDI)
	b.Mov(S64, R12, RSI)
	b.Mov(S64, R13, RDX)
	b.Mov(S32, R14, RCX)
	b.Mov(S64, R15, R8)
	cb := func(off int32) Mem { return M(RSP, fpCB+off) }
	b.Pxor(X0, X0) // memset (&cb_data, 0, sizeof (cb_data))
	for off := int32(0); off < CallbackSize; off += 16 {
		b.Movdqu(cb(off), X0)
	}
	b.Mov(S64, cb(OffCBIP), R12)
	b.Mov(S64, cb(OffCBPI), R13)
	b.Mov(S32, cb(OffCBNeedInfo), R14)
	b.Mov(S32, cb(OffCBDIFormat), Imm(-1))
	b.Lea(RDI, RIPSym(SymUnwCallback))
	b.Lea(RSI, cb(0))
	b.Call(M(RBX, OffASIteratePhdr))
	b.Test(S32, RAX, RAX)
	b.Jcc(CondLE, none)
	b.Cmp(S32, cb(OffCBDIFormat), Imm(-1))
	b.Jcc(CondE, none)
	b.Mov(S64, RDI, RBX)
	b.Mov(S64, RSI, R12)
	b.Lea(RDX, cb(0))
	b.Mov(S64, RCX, R13)
	b.Mov(S32, R8, R14)
	b.Mov(S64, R9, R15)
	b.Call(Sym(SymUnwSearchTable))
	b.Bind(exit)
	b.Epilog(fr)
	b.Bind(none)
	b.Mov(S32, RAX, Imm(-10)) // -UNW_ENOINFO
	b.Jmp(exit)
	b.EndFunc()
}

// dl_iterate_phdr frame: the dl_phdr_info handed to the callback
// (dlpi_addr, dlpi_name, dlpi_phdr, dlpi_phnum, dlpi_adds, dlpi_subs).
const (
	dlInfo      = 0
	dlInfoSize  = 48
	dlInfoAdds  = 32
	dlInfoSubs  = 40
	dlFrame     = dlInfoSize + 8
	loaderAdds  = 13 // objects loaded so far (dlpi_adds)
	SymDLLock   = "libc.dl_load_write_lock"
	symObjCount = "libc.loaded_objects.count"
)

// emitDLIteratePhdr is glibc's dl_iterate_phdr(callback, data): under the
// loader's lock, each loaded object's program headers handed to the
// callback until it returns nonzero. RDI = the callback, RSI = its data.
func emitDLIteratePhdr(b *Builder) {
	loop, done := b.NewLabel("dl_iterate_phdr.loop"), b.NewLabel("dl_iterate_phdr.done")
	helperFunc(b, SymDLIteratePhdr, StepDWARFFDE)
	fr := b.Prolog(dlFrame, RBX, R12, R13, R14, R15)
	b.Mov(S64, RBX, RDI)
	b.Mov(S64, R12, RSI)
	b.Lea(RDI, RIPSym(SymDLLock))
	b.Call(Sym(SymMutexLock))
	b.Lea(R13, RIPSym(SymLoadedObjects))
	b.Mov(S32, R14, RIPSym(symObjCount))
	b.Xor(S32, R15, R15)
	b.Bind(loop)
	b.Test(S32, R14, R14)
	b.Jcc(CondE, done)
	for _, off := range []int32{OffObjAddr, OffObjName, OffObjPhdr, OffObjPhnum} {
		b.Mov(S64, RAX, M(R13, off))
		b.Mov(S64, M(RSP, dlInfo+off), RAX)
	}
	b.Mov(S64, M(RSP, dlInfo+dlInfoAdds), Imm(loaderAdds))
	b.Mov(S64, M(RSP, dlInfo+dlInfoSubs), Imm(0))
	b.Lea(RDI, M(RSP, dlInfo))
	b.Mov(S32, RSI, Imm(dlInfoSize))
	b.Mov(S64, RDX, R12)
	b.Call(RBX)
	b.Mov(S32, R15, RAX)
	b.Test(S32, RAX, RAX)
	b.Jcc(CondNE, done)
	b.Add(S64, R13, Imm(ObjectSize))
	b.Dec(S32, R14)
	b.Jmp(loop)
	b.Bind(done)
	b.Lea(RDI, RIPSym(SymDLLock))
	b.Call(Sym(SymMutexUnlock))
	b.Mov(S32, RAX, R15)
	b.Epilog(fr)
	b.EndFunc()
}

// dwarf_callback frame: the address the header is read at, the
// .eh_frame start and the FDE count.
const (
	dcAddr    = 0
	dcEHFrame = 8
	dcCount   = 16
	dcFrame   = 24
)

// emitDwarfCallback is dwarf_callback(info, size, data): the object's
// program headers scanned for the PT_LOAD holding the IP and its
// PT_GNU_EH_FRAME; if found, .eh_frame_hdr read (version, the .eh_frame
// pointer and FDE count through dwarf_read_encoded_pointer, the table's
// encoding) and the table described in the callback data. Returns 1 when
// found, 0 to go on.
func emitDwarfCallback(b *Builder) {
	L := func(n string) *Label { return b.NewLabel("dwarf_callback." + n) }
	loop, next, notLoad, notIn, noMax, scanned, ret0, noHdr, badEnc := L("loop"), L("next"), L("not_load"), L("not_in"), L("no_max"), L("scanned"), L("ret0"), L("no_hdr"), L("bad_enc")
	helperFunc(b, SymUnwCallback, StepDWARFFDE)
	fr := b.Prolog(dcFrame, RBX, R12, R13, R14, R15, RBP)
	b.Mov(S64, RBX, RDX) // cb_data
	b.Mov(S64, R12, RDI) // info
	b.Cmp(S64, RSI, Imm(OffObjPhnum+8))
	b.Jcc(CondB, ret0)
	b.Mov(S64, R13, M(R12, OffObjPhdr))
	b.Mov(S64, RCX, M(R12, OffObjPhnum))
	b.Xor(S32, R14, R14) // p_text
	b.Xor(S32, R15, R15) // p_eh_hdr
	b.Xor(S32, RBP, RBP) // max_load_addr
	b.Mov(S64, R9, M(RBX, OffCBIP))
	b.Bind(loop)
	b.Dec(S64, RCX)
	b.Jcc(CondS, scanned)
	b.Cmp(S32, M(R13, OffPhType), Imm(ptLoad))
	b.Jcc(CondNE, notLoad)
	b.Mov(S64, RAX, M(R13, OffPhVaddr))
	b.Add(S64, RAX, M(R12, OffObjAddr))
	b.Cmp(S64, R9, RAX)
	b.Jcc(CondB, notIn)
	b.Mov(S64, RDX, RAX)
	b.Add(S64, RDX, M(R13, OffPhMemsz))
	b.Cmp(S64, R9, RDX)
	b.Jcc(CondAE, notIn)
	b.Mov(S64, R14, R13)
	b.Bind(notIn)
	b.Add(S64, RAX, M(R13, OffPhFilesz))
	b.Cmp(S64, RAX, RBP)
	b.Jcc(CondBE, noMax)
	b.Mov(S64, RBP, RAX)
	b.Bind(noMax)
	b.Jmp(next)
	b.Bind(notLoad)
	b.Cmp(S32, M(R13, OffPhType), Imm(ptGNUEHFrame))
	b.Jcc(CondNE, next)
	b.Mov(S64, R15, R13)
	b.Bind(next)
	b.Add(S64, R13, Imm(PhdrSize))
	b.Jmp(loop)

	b.Bind(scanned)
	b.Test(S64, R14, R14)
	b.Jcc(CondE, ret0)
	b.Test(S64, R15, R15)
	b.Jcc(CondE, noHdr)
	b.Mov(S64, R13, M(R15, OffPhVaddr))
	b.Add(S64, R13, M(R12, OffObjAddr))   // hdr
	b.Mov(S64, M(RBX, OffCBDIGP), Imm(0)) // no PT_DYNAMIC: data-relative to 0
	b.Mov(S64, RAX, M(RBX, OffCBPI))
	b.Mov(S64, M(RAX, OffPIGP), Imm(0))
	b.Cmp(S8, M(R13, ehframe.HdrOffVersion), Imm(ehframe.HdrVersion))
	b.Jcc(CondNE, ret0)
	b.Lea(RAX, M(R13, ehframe.HdrOffEHFramePtr))
	b.Mov(S64, M(RSP, dcAddr), RAX)
	for _, f := range []struct {
		enc int32
		dst int32
	}{{ehframe.HdrOffEHFramePtrEnc, dcEHFrame}, {ehframe.HdrOffFDECountEnc, dcCount}} {
		b.Lea(RDI, RIPSym(SymUnwLocalAddrSpace))
		b.Mov(S64, RSI, RDI) // unw_get_accessors_int: the accessors lead the address space
		b.Lea(RDX, M(RSP, dcAddr))
		b.MovZX(S32, RCX, S8, M(R13, f.enc))
		b.Mov(S64, R8, M(RBX, OffCBPI))
		b.Lea(R9, M(RSP, f.dst))
		b.Call(Sym(SymUnwReadEncodedPointer))
		b.Test(S32, RAX, RAX)
		b.Jcc(CondS, ret0)
	}
	b.Cmp(S8, M(R13, ehframe.HdrOffTableEnc), Imm(ehframe.HdrTableEnc))
	b.Jcc(CondNE, badEnc)
	b.Mov(S32, M(RBX, OffCBDIFormat), Imm(infoFormatRemoteTable))
	b.Mov(S64, RAX, M(R14, OffPhVaddr))
	b.Add(S64, RAX, M(R12, OffObjAddr))
	b.Mov(S64, M(RBX, OffCBDIStartIP), RAX)
	b.Add(S64, RAX, M(R14, OffPhMemsz))
	b.Mov(S64, M(RBX, OffCBDIEndIP), RAX)
	b.Mov(S64, RAX, M(RSP, dcAddr))
	b.Mov(S64, M(RBX, OffCBDITable), RAX)
	b.Mov(S64, RAX, M(RSP, dcCount)) // fde_count * sizeof (struct table_entry) / sizeof (unw_word_t)
	b.Mov(S64, M(RBX, OffCBDITableLen), RAX)
	b.Mov(S64, M(RBX, OffCBDISegbase), R13)
	b.Mov(S32, RAX, Imm(1))
	exit := L("exit")
	b.Bind(exit)
	b.Epilog(fr)
	b.Bind(ret0)
	b.Xor(S32, RAX, RAX)
	b.Jmp(exit)
	b.Bind(noHdr)  // no .eh_frame_hdr: a synthetic one, linear search (not used)
	b.Bind(badEnc) // a table without binary search: linear search (not used)
	b.Ud2()
	b.EndFunc()
}

// search frame: the FDE address.
const (
	stFDE   = 0
	stFrame = 8
)

// emitSearchUnwindTable is dwarf_search_unwind_table(as, ip, di, pi, need,
// arg) for a remote table in the local address space: lookup's binary
// search of .eh_frame_hdr's sorted (start, FDE) table for the last entry
// at or before the IP (offsets from the header), then the FDE parsed; the
// IP must lie in it. RDI..R9 as listed (R9, the argument, is unused
// locally).
func emitSearchUnwindTable(b *Builder) {
	L := func(n string) *Label { return b.NewLabel("search_table." + n) }
	loop, left, out, none, exit := L("loop"), L("left"), L("out"), L("none"), L("exit")
	helperFunc(b, SymUnwSearchTable, StepDWARFFDE)
	fr := b.Prolog(stFrame, RBX, R12, R13, R14)
	b.Mov(S64, RBX, RDI)
	b.Mov(S64, R12, RSI)
	b.Mov(S64, R13, RCX)
	b.Mov(S32, R14, R8)
	b.Mov(S64, R10, M(RDX, OffCBDITable))
	b.Mov(S64, R9, M(RDX, OffCBDISegbase))
	b.Mov(S64, R11, R12)
	b.Sub(S64, R11, R9)  // rel_ip (an int32 in lookup)
	b.Xor(S32, RAX, RAX) // lo
	b.Mov(S64, RDX, M(RDX, OffCBDITableLen))
	b.Shl(S64, RDX, 3)
	b.Shr(S64, RDX, 3) // hi = table_len*8 / sizeof (struct table_entry)
	b.Bind(loop)
	b.Cmp(S64, RAX, RDX)
	b.Jcc(CondAE, out)
	b.Lea(RCX, MIdx(RAX, RDX, 1, 0))
	b.Shr(S64, RCX, 1) // mid
	b.Cmp(S32, R11, MIdx(R10, RCX, ehframe.HdrEntrySize, ehframe.HdrEntryOffLoc))
	b.Jcc(CondL, left)
	b.Lea(RAX, M(RCX, 1))
	b.Jmp(loop)
	b.Bind(left)
	b.Mov(S64, RDX, RCX)
	b.Jmp(loop)
	b.Bind(out)
	b.Test(S64, RDX, RDX)
	b.Jcc(CondE, none)
	b.MovSX(S64, RAX, S32, MIdx(R10, RDX, ehframe.HdrEntrySize, ehframe.HdrEntryOffFDE-ehframe.HdrEntrySize))
	b.Add(S64, RAX, R9) // fde_addr = e->fde_offset + segbase
	b.Mov(S64, M(RSP, stFDE), RAX)
	b.Mov(S64, RDI, RBX)
	b.Mov(S64, RSI, RBX) // the accessors
	b.Lea(RDX, M(RSP, stFDE))
	b.Mov(S64, RCX, R13)
	b.Xor(S32, R8, R8) // no .debug_frame base
	b.Mov(S32, R9, R14)
	b.Call(Sym(SymUnwExtractFDE))
	b.Test(S32, RAX, RAX)
	b.Jcc(CondS, exit)
	b.Cmp(S64, R12, M(R13, OffPIStartIP))
	b.Jcc(CondB, none)
	b.Cmp(S64, R12, M(R13, OffPIEndIP))
	b.Jcc(CondAE, none)
	b.Xor(S32, RAX, RAX)
	b.Bind(exit)
	b.Epilog(fr)
	b.Bind(none)
	b.Mov(S32, RAX, Imm(-10)) // -UNW_ENOINFO
	b.Jmp(exit)
	b.EndFunc()
}

// extract frame: the address read_encoded_pointer advances, the start
// and range read, the FDE's end, the augmentation string.
const (
	efAddr   = 0
	efStart  = 8
	efRange  = 16
	efEnd    = 24
	efAugStr = 32
	efFrame  = 40
)

// emitExtractFDE is dwarf_extract_proc_info_from_fde(as, a, addrp, pi,
// base, need) with parse_cie inline (dwarf/Gfde.c): the FDE's length and
// CIE pointer; the CIE's length, id, version, augmentation string, code
// and data alignment factors, return-address column and augmentation data
// (the FDE encoding of 'R'); then the FDE's start and range (encoded
// pointers), its augmentation data and its instructions. The CIE info goes
// to unw.cie_info (libunwind's mempool). RDI..R9 as listed; the
// is_debug_frame and arg arguments (0 and unused locally) are left out.
func emitExtractFDE(b *Builder) {
	L := func(n string) *Label { return b.NewLabel("extract_fde." + n) }
	noInfo, einval, wide, badVer, verOK, augLoop, augDone, augKeep, raLEB, augData, augNext, augR, augZ, sized, lsda, notSized := L("no_info"), L("einval"), L("wide"), L("bad_version"), L("version_ok"), L("aug_loop"), L("aug_done"), L("aug_keep"), L("ra_leb"), L("aug_data"), L("aug_next"), L("aug_r"), L("aug_z"), L("sized"), L("lsda"), L("not_sized")
	exit, augEnd := L("exit"), L("aug_end")
	helperFunc(b, SymUnwExtractFDE, StepDWARFFDE)
	fr := b.Prolog(efFrame, RBX, R12, R13, R14, R15, RBP)
	b.Mov(S64, RBP, RDI) // as
	b.Mov(S64, RBX, RDX) // addrp
	b.Mov(S64, R13, RCX) // pi
	b.Lea(R14, RIPSym(SymUnwCIEInfo))
	dci := func(off int32) Mem { return M(R14, off) }
	b.Mov(S64, R12, M(RBX, 0)) // addr
	b.Mov(S32, RAX, M(R12, 0))
	b.Add(S64, R12, Imm(4))
	b.Cmp(S32, RAX, Imm(-1))
	b.Jcc(CondE, wide)
	b.Test(S32, RAX, RAX)
	b.Jcc(CondE, noInfo)
	b.Lea(RDX, MIdx(R12, RAX, 1, 0))
	b.Mov(S64, M(RSP, efEnd), RDX) // fde_end_addr
	b.Mov(S64, R15, R12)           // cie_offset_addr
	b.Mov(S32, RAX, M(R12, 0))
	b.Add(S64, R12, Imm(4))
	b.Test(S32, RAX, RAX)
	b.Jcc(CondE, einval) // a CIE, not an FDE
	b.Sub(S64, R15, RAX) // cie_addr

	// parse_cie: R15 walks the CIE.
	b.Pxor(X0, X0) // memset (&dci, 0, sizeof (dci))
	for off := int32(0); off < CIEInfoSize; off += 16 {
		b.Movdqu(dci(off), X0)
	}
	b.Mov(S8, dci(OffCIELSDAEncoding), Imm(peOmit))
	b.Mov(S8, dci(OffCIEFDEEncoding), Imm(peUdata8)) // the default fde_encoding, address-sized
	b.Mov(S32, RAX, M(R15, 0))
	b.Add(S64, R15, Imm(4))
	b.Cmp(S32, RAX, Imm(-1))
	b.Jcc(CondE, wide)
	b.Lea(RDX, MIdx(R15, RAX, 1, 0))
	b.Mov(S64, dci(OffCIECieInstrEnd), RDX)
	b.Cmp(S32, M(R15, 0), Imm(0)) // the CIE id: 0 in .eh_frame
	b.Jcc(CondNE, einval)
	b.Add(S64, R15, Imm(4))
	b.MovZX(S32, RAX, S8, M(R15, 0)) // version
	b.Inc(S64, R15)
	b.Mov(S32, R10, RAX)
	b.Cmp(S32, RAX, Imm(1))
	b.Jcc(CondE, verOK)
	b.Cmp(S32, RAX, Imm(3))
	b.Jcc(CondNE, badVer) // 4 and 5 add address and segment sizes: not used
	b.Bind(verOK)
	b.Mov(S64, M(RSP, efAugStr), Imm(0)) // augstr[5] cleared
	b.Xor(S32, RDX, RDX)
	b.Bind(augLoop)
	b.MovZX(S32, RAX, S8, M(R15, 0))
	b.Inc(S64, R15)
	b.Test(S32, RAX, RAX)
	b.Jcc(CondE, augDone)
	b.Cmp(S32, RDX, Imm(4))
	b.Jcc(CondAE, augLoop)
	b.Bind(augKeep)
	b.Mov(S8, MIdx(RSP, RDX, 1, efAugStr), RAX)
	b.Inc(S32, RDX)
	b.Jmp(augLoop)
	b.Bind(augDone)
	b.Push(R10) // version, across the LEB readers (RAX, RCX, R11)
	b.Push(R10)
	emitULEB(b, RDX, R15)
	b.Mov(S64, dci(OffCIECodeAlign), RDX)
	emitSLEB(b, RDX, R15)
	b.Mov(S64, dci(OffCIEDataAlign), RDX)
	b.Pop(R10)
	b.Pop(R10)
	b.Cmp(S32, R10, Imm(1))
	b.Jcc(CondNE, raLEB)
	b.MovZX(S32, RAX, S8, M(R15, 0))
	b.Inc(S64, R15)
	b.Mov(S64, dci(OffCIERetAddrColumn), RAX)
	b.Jmp(augData)
	b.Bind(raLEB)
	emitULEB(b, RDX, R15)
	b.Mov(S64, dci(OffCIERetAddrColumn), RDX)
	b.Bind(augData)
	b.Xor(S32, R10, R10) // i
	b.Cmp(S8, M(RSP, efAugStr), Imm('z'))
	b.Jcc(CondNE, augNext)
	b.Bind(augZ)
	b.Or(S32, dci(OffCIEFlags), Imm(cieFlagSized))
	emitULEB(b, RDX, R15) // the augmentation data's size
	b.Inc(S32, R10)
	b.Bind(augNext)
	b.MovZX(S32, RAX, S8, MIdx(RSP, R10, 1, efAugStr))
	b.Test(S32, RAX, RAX)
	b.Jcc(CondE, augEnd)
	b.Cmp(S32, RAX, Imm('R'))
	b.Jcc(CondE, augR)
	b.Ud2() // 'L', 'P', 'S', 'B': not in these records
	b.Bind(augR)
	b.MovZX(S32, RAX, S8, M(R15, 0))
	b.Inc(S64, R15)
	b.Mov(S8, dci(OffCIEFDEEncoding), RAX)
	b.Inc(S32, R10)
	b.Cmp(S32, R10, Imm(5))
	b.Jcc(CondB, augNext)
	b.Bind(augEnd)
	b.Mov(S64, dci(OffCIECieInstrStart), R15)

	// The FDE: its start and range, by the CIE's encoding.
	b.Mov(S64, M(RSP, efAddr), R12)
	for _, f := range []struct {
		dst    int32
		format bool
	}{{efStart, false}, {efRange, true}} {
		b.Mov(S64, RDI, RBP)
		b.Mov(S64, RSI, RBP)
		b.Lea(RDX, M(RSP, efAddr))
		b.MovZX(S32, RCX, S8, dci(OffCIEFDEEncoding))
		if f.format {
			b.And(S32, RCX, Imm(peFormat)) // ip_range_encoding: the format alone
		}
		b.Mov(S64, R8, R13)
		b.Lea(R9, M(RSP, f.dst))
		b.Call(Sym(SymUnwReadEncodedPointer))
		b.Test(S32, RAX, RAX)
		b.Jcc(CondS, exit)
	}
	b.Mov(S64, R12, M(RSP, efAddr))
	b.Mov(S64, RAX, M(RSP, efStart))
	b.Mov(S64, M(R13, OffPIStartIP), RAX)
	b.Add(S64, RAX, M(RSP, efRange))
	b.Mov(S64, M(R13, OffPIEndIP), RAX)
	b.Mov(S64, RAX, dci(OffCIEHandler))
	b.Mov(S64, M(R13, OffPIHandler), RAX)
	b.Test(S8, dci(OffCIEFlags), Imm(cieFlagSized))
	b.Jcc(CondE, notSized)
	b.Bind(sized)
	emitULEB(b, RDX, R12)
	b.Lea(RBX, MIdx(R12, RDX, 1, 0)) // aug_end_addr (addrp is no longer needed: see below)
	b.Cmp(S8, dci(OffCIELSDAEncoding), Imm(peOmit))
	b.Jcc(CondNE, lsda)
	b.Mov(S64, R12, RBX)
	b.Bind(notSized)
	b.Mov(S64, dci(OffCIEFdeInstrStart), R12)
	b.Mov(S64, RAX, M(RSP, efEnd))
	b.Mov(S64, dci(OffCIEFdeInstrEnd), RAX)
	b.Mov(S32, M(R13, OffPIFormat), Imm(infoFormatTable))
	b.Mov(S32, M(R13, OffPIInfoSize), Imm(CIEInfoSize))
	b.Mov(S64, M(R13, OffPIUnwindInfo), R14)
	b.Xor(S32, RAX, RAX)
	b.Bind(exit)
	b.Epilog(fr)
	b.Bind(noInfo)
	b.Mov(S32, RAX, Imm(-10)) // -UNW_ENOINFO
	b.Jmp(exit)
	b.Bind(einval)
	b.Mov(S32, RAX, Imm(-8)) // -UNW_EINVAL
	b.Jmp(exit)
	b.Bind(badVer)
	b.Mov(S32, RAX, Imm(-11)) // -UNW_EBADVERSION
	b.Jmp(exit)
	b.Bind(wide) // 64-bit DWARF: not used
	b.Bind(lsda) // a language-specific data area: not used
	b.Ud2()
	b.EndFunc()
}

// emitReadEncodedPointer is dwarf_read_encoded_pointer(as, a, addrp,
// encoding, pi, valp) (dwarf/Gpe.c, the inlined reader of dwarf_i.h): the
// value in the encoding's format (udata2/4/8, sdata2/4/8 or a pointer),
// then applied (absolute, pc-relative from the field, data-relative from
// pi->gp, function-relative from pi->start_ip). DW_EH_PE_omit gives 0.
// RDI..R9 as listed.
func emitReadEncodedPointer(b *Builder) {
	L := func(n string) *Label { return b.NewLabel("read_encoded_pointer." + n) }
	omit, u2, u4, u8, s2, s4, applied, pcrel, datarel, funcrel, bad, store := L("omit"), L("udata2"), L("udata4"), L("udata8"), L("sdata2"), L("sdata4"), L("applied"), L("pcrel"), L("datarel"), L("funcrel"), L("bad"), L("store")
	helperFunc(b, SymUnwReadEncodedPointer, StepDWARFFDE)
	b.EndProlog()
	b.Cmp(S32, RCX, Imm(peOmit))
	b.Jcc(CondE, omit)
	b.Mov(S64, R10, M(RDX, 0)) // initial_addr
	b.Mov(S32, RAX, RCX)
	b.And(S32, RAX, Imm(peFormat))
	for _, c := range []struct {
		f int64
		l *Label
	}{{0x00, u8}, {0x02, u2}, {0x03, u4}, {0x04, u8}, {0x0A, s2}, {0x0B, s4}, {0x0C, u8}} {
		b.Cmp(S32, RAX, Imm(c.f))
		b.Jcc(CondE, c.l)
	}
	b.Jmp(bad) // LEB128 formats: not used
	b.Bind(u2)
	b.MovZX(S32, RAX, S16, M(R10, 0))
	b.Lea(R11, M(R10, 2))
	b.Jmp(applied)
	b.Bind(u4)
	b.Mov(S32, RAX, M(R10, 0))
	b.Lea(R11, M(R10, 4))
	b.Jmp(applied)
	b.Bind(u8)
	b.Mov(S64, RAX, M(R10, 0))
	b.Lea(R11, M(R10, 8))
	b.Jmp(applied)
	b.Bind(s2)
	b.MovSX(S64, RAX, S16, M(R10, 0))
	b.Lea(R11, M(R10, 2))
	b.Jmp(applied)
	b.Bind(s4)
	b.MovSX(S64, RAX, S32, M(R10, 0))
	b.Lea(R11, M(R10, 4))
	b.Bind(applied)
	b.Mov(S32, RDI, RCX)
	b.And(S32, RDI, Imm(peApply))
	b.Jcc(CondE, store)
	b.Cmp(S32, RDI, Imm(ehframe.PEPCRel))
	b.Jcc(CondE, pcrel)
	b.Cmp(S32, RDI, Imm(ehframe.PEDataRel))
	b.Jcc(CondE, datarel)
	b.Cmp(S32, RDI, Imm(ehframe.PEFuncRel))
	b.Jcc(CondE, funcrel)
	b.Jmp(bad)
	b.Bind(pcrel)
	b.Add(S64, RAX, R10)
	b.Jmp(store)
	b.Bind(datarel)
	b.Add(S64, RAX, M(R8, OffPIGP))
	b.Jmp(store)
	b.Bind(funcrel)
	b.Add(S64, RAX, M(R8, OffPIStartIP))
	b.Bind(store)
	b.Test(S8, RCX, Imm(ehframe.PEIndirect))
	b.Jcc(CondNE, bad)
	b.Mov(S64, M(RDX, 0), R11)
	b.Mov(S64, M(R9, 0), RAX)
	b.Xor(S32, RAX, RAX)
	b.Ret()
	b.Bind(omit)
	b.Mov(S64, M(R9, 0), Imm(0))
	b.Xor(S32, RAX, RAX)
	b.Ret()
	b.Bind(bad)
	b.Ud2()
	b.EndFunc()
}

// create_state_record_for frame: run_cfi_program's ip, addr and rs_stack.
const (
	csIP    = 0
	csAddr  = 8
	csStack = 16
	csFrame = 24
)

// emitCreateStateRecord is create_state_record_for(c, sr, ip) for a table
// FDE: setup_fde (the state cleared, every column "same value" but the
// stack pointer, which is the CFA; the CIE's initial instructions run to
// their end; the initial state kept for DW_CFA_restore), then parse_fde
// (the FDE's instructions run up to the IP, the instruction before the
// return address for a call frame). RDI = the cursor, RSI = the state
// record, RDX = the IP.
func emitCreateStateRecord(b *Builder) {
	L := func(n string) *Label { return b.NewLabel("create_state_record." + n) }
	same, bad, exit, table := L("same"), L("bad"), L("exit"), L("table")
	helperFunc(b, SymUnwCreateStateRecord, StepDWARFCFA)
	fr := b.Prolog(csFrame, RBX, R12, R13, R14)
	b.Mov(S64, RBX, RDI)
	b.Mov(S64, R12, RSI)
	b.Mov(S64, R13, RDX)
	b.Mov(S32, RAX, M(RBX, OffCurPI+OffPIFormat))
	b.Cmp(S32, RAX, Imm(infoFormatTable))
	b.Jcc(CondE, table)
	b.Cmp(S32, RAX, Imm(infoFormatRemoteTable))
	b.Jcc(CondNE, bad)
	b.Bind(table)
	b.Mov(S64, R14, M(RBX, OffCurPI+OffPIUnwindInfo)) // dci

	// setup_fde
	b.Pxor(X0, X0)
	for off := int32(0); off < StateRecordSize; off += 16 {
		b.Movdqu(M(R12, off), X0)
	}
	b.Xor(S32, RCX, RCX)
	b.Bind(same) // set_reg (sr, i, DWARF_WHERE_SAME, 0)
	b.Mov(S8, MIdx(R12, RCX, 1, OffSRCurrent+OffRSWhere), Imm(WhereSame))
	b.Mov(S64, MIdx(R12, RCX, 8, OffSRCurrent+OffRSVal), Imm(0))
	b.Inc(S32, RCX)
	b.Cmp(S32, RCX, Imm(UnwColumns))
	b.Jcc(CondB, same)
	b.Mov(S8, M(R12, OffSRCurrent+OffRSWhere+int32(ehframe.RSP)), Imm(WhereCFA)) // SP defaults to the CFA
	b.Mov(S64, M(R12, OffSRCurrent+OffRSVal+8*int32(ehframe.RSP)), Imm(0))
	b.Mov(S64, RAX, M(R14, OffCIERetAddrColumn))
	b.Mov(S64, M(R12, OffSRCurrent+OffRSRetAddrColumn), RAX)
	run := func(ipInit func(), endIP func(), start, end int32) {
		ipInit()
		b.Mov(S64, RAX, M(R14, start))
		b.Mov(S64, M(RSP, csAddr), RAX)
		b.Mov(S64, M(RSP, csStack), Imm(0))
		b.Mov(S64, RDI, RBX)
		b.Mov(S64, RSI, R12)
		b.Lea(RDX, M(RSP, csIP))
		endIP() // RCX
		b.Lea(R8, M(RSP, csAddr))
		b.Mov(S64, R9, M(R14, end))
		b.Push(R14) // dci, the seventh argument (rs_stack is csStack)
		b.Lea(RAX, M(RSP, 8+csStack))
		b.Push(RAX)
		b.Call(Sym(SymUnwRunCFIProgram))
		b.Add(S64, RSP, Imm(16))
		b.Test(S32, RAX, RAX)
		b.Jcc(CondS, exit)
		emitEmptyRStateStack(b, M(RSP, csStack))
	}
	run(func() { b.Mov(S64, M(RSP, csIP), Imm(0)) }, func() { b.Mov(S64, RCX, Imm(-1)) }, OffCIECieInstrStart, OffCIECieInstrEnd)
	emitCopyState(b, M(R12, OffSRInitial), M(R12, OffSRCurrent), RAX)
	// parse_fde: from the function's start to the IP (less one after a call).
	run(func() {
		b.Mov(S64, RAX, M(RBX, OffCurPI+OffPIStartIP))
		b.Mov(S64, M(RSP, csIP), RAX)
	}, func() {
		b.Mov(S32, RCX, M(RBX, OffCurFlags))
		b.Shr(S32, RCX, 1)
		b.And(S32, RCX, Imm(1)) // use_prev_instr
		b.Neg(S64, RCX)
		b.Add(S64, RCX, R13)
	}, OffCIEFdeInstrStart, OffCIEFdeInstrEnd)
	b.Xor(S32, RAX, RAX)
	b.Bind(exit)
	b.Epilog(fr)
	b.Bind(bad)
	b.Ud2() // dynamic unwind info: not used
	b.EndFunc()
}

// emitEmptyRStateStack is empty_rstate_stack: every remembered state left
// freed. Clobbers RDI, RAX and the caller-saved registers.
func emitEmptyRStateStack(b *Builder, stack Mem) {
	loop, done := b.NewLabel(""), b.NewLabel("")
	b.Bind(loop)
	b.Mov(S64, RDI, stack)
	b.Test(S64, RDI, RDI)
	b.Jcc(CondE, done)
	b.Mov(S64, RAX, M(RDI, OffStackableNext))
	b.Mov(S64, stack, RAX)
	b.Call(Sym(SymUnwFreeRegState))
	b.Jmp(loop)
	b.Bind(done)
}

// cfaOps are the CFA instructions run_cfi_program handles here; the rest
// of its switch (expressions, *_sf forms, register rules, set_loc, the GNU
// and MIPS ones) is not used by the emitter's records and ends in ud2.
var cfaOps = []ehframe.Op{
	ehframe.CFANop, ehframe.CFAAdvanceLoc1, ehframe.CFAAdvanceLoc2, ehframe.CFAAdvanceLoc4,
	ehframe.CFARememberState, ehframe.CFARestoreState, ehframe.CFADefCFA, ehframe.CFADefCFARegister,
	ehframe.CFADefCFAOffset, ehframe.CFAAdvanceLoc, ehframe.CFAOffset, ehframe.CFARestore,
}

// cfaOpTable is the switch's range: op after the packed operand is masked,
// 0..0xC0 (DW_CFA_restore).
const cfaOpTable = int(ehframe.CFARestore) + 1

// run_cfi_program frame.
const (
	rcEndAddr = 0
	rcStackP  = 8
	rcFrame   = 16
)

// emitRunCFIProgram is run_cfi_program(c, sr, ip*, end_ip, addr*,
// end_addr, rs_stack*, dci) (dwarf/Gparser.c): while the location is at
// most end_ip and instructions remain, one instruction decoded (a packed
// form's operand split off) and executed through the switch: advances
// move the location by the code alignment factor; offset, restore,
// def_cfa, def_cfa_register and def_cfa_offset set the current state's
// columns (set_reg; offsets scaled by the data alignment factor, the CFA
// offset not); remember_state pushes a copy of the state on the stack of
// states, restore_state pops it. Registers past the 17 preserved ones are
// errors. RDI..R9, then rs_stack and dci on the stack. Returns 0 or a
// negative error.
func emitRunCFIProgram(b *Builder) {
	L := func(n string) *Label { return b.NewLabel("run_cfi_program." + n) }
	loop, done, packed, unpacked, badReg, badOp, exit := L("loop"), L("done"), L("packed"), L("unpacked"), L("bad_reg"), L("bad_op"), L("exit")
	op := map[ehframe.Op]*Label{}
	for _, o := range cfaOps {
		op[o] = L(o.String())
	}
	helperFunc(b, SymUnwRunCFIProgram, StepDWARFCFA)
	fr := b.Prolog(rcFrame, RBX, R12, R13, R14, R15, RBP)
	args := fr.Alloc + 6*8 + 8 // the stack arguments, past the saves and the return address
	b.Mov(S64, R15, RSI)       // sr
	b.Mov(S64, R13, RDX)       // ip*
	b.Mov(S64, RBP, RCX)       // end_ip
	b.Mov(S64, RBX, R8)        // addr*
	b.Mov(S64, M(RSP, rcEndAddr), R9)
	b.Mov(S64, RAX, M(RSP, args))
	b.Mov(S64, M(RSP, rcStackP), RAX) // rs_stack*
	b.Mov(S64, R14, M(RSP, args+8))   // dci
	b.Mov(S64, R12, M(RBX, 0))        // the instruction address, kept in a register
	cur := func(col Reg, off int32) (where, val Mem) {
		return MIdx(R15, col, 1, OffSRCurrent+OffRSWhere+off), MIdx(R15, col, 8, OffSRCurrent+OffRSVal+8*off)
	}
	setReg := func(col Reg, w int64, v Reg) {
		where, val := cur(col, 0)
		b.Mov(S8, where, Imm(w))
		b.Mov(S64, val, v)
	}
	readReg := func(dst Reg) { // read_regnum
		emitULEB(b, dst, R12)
		b.Cmp(S64, dst, Imm(UnwNumPreserved))
		b.Jcc(CondAE, badReg)
	}
	advance := func(load func()) {
		load() // RDX = the delta
		b.Imul(S64, RDX, M(R14, OffCIECodeAlign))
		b.Add(S64, M(R13, 0), RDX)
		b.Jmp(loop)
	}

	b.Bind(loop)
	b.Cmp(S64, M(R13, 0), RBP)
	b.Jcc(CondA, done)
	b.Cmp(S64, R12, M(RSP, rcEndAddr))
	b.Jcc(CondAE, done)
	b.MovZX(S32, RAX, S8, M(R12, 0)) // op
	b.Inc(S64, R12)
	b.Xor(S32, R8, R8) // operand
	b.Test(S32, RAX, Imm(ehframe.PackedMask))
	b.Jcc(CondE, unpacked)
	b.Bind(packed)
	b.Mov(S32, R8, RAX)
	b.And(S32, R8, Imm(ehframe.PackedOperand))
	b.And(S32, RAX, Imm(ehframe.PackedMask))
	b.Bind(unpacked)
	b.Lea(RDX, RIPSym(SymUnwCFAOps))
	b.Jmp(MIdx(RDX, RAX, 8, 0)) // the switch's jump table

	b.Bind(op[ehframe.CFAAdvanceLoc])
	advance(func() { b.Mov(S64, RDX, R8) })
	b.Bind(op[ehframe.CFAAdvanceLoc1])
	advance(func() { b.MovZX(S32, RDX, S8, M(R12, 0)); b.Inc(S64, R12) })
	b.Bind(op[ehframe.CFAAdvanceLoc2])
	advance(func() { b.MovZX(S32, RDX, S16, M(R12, 0)); b.Add(S64, R12, Imm(2)) })
	b.Bind(op[ehframe.CFAAdvanceLoc4])
	advance(func() { b.Mov(S32, RDX, M(R12, 0)); b.Add(S64, R12, Imm(4)) })

	b.Bind(op[ehframe.CFAOffset])
	b.Cmp(S64, R8, Imm(UnwNumPreserved))
	b.Jcc(CondAE, badReg)
	emitULEB(b, RDX, R12)
	b.Imul(S64, RDX, M(R14, OffCIEDataAlign))
	setReg(R8, WhereCFARel, RDX)
	b.Jmp(loop)

	b.Bind(op[ehframe.CFARestore]) // the column back to its state after the CIE
	b.Cmp(S64, R8, Imm(UnwNumPreserved))
	b.Jcc(CondAE, badReg)
	b.MovZX(S32, RAX, S8, MIdx(R15, R8, 1, OffSRInitial+OffRSWhere))
	b.Mov(S8, MIdx(R15, R8, 1, OffSRCurrent+OffRSWhere), RAX)
	b.Mov(S64, RAX, MIdx(R15, R8, 8, OffSRInitial+OffRSVal))
	b.Mov(S64, MIdx(R15, R8, 8, OffSRCurrent+OffRSVal), RAX)
	b.Jmp(loop)

	b.Bind(op[ehframe.CFANop])
	b.Jmp(loop)

	b.Bind(op[ehframe.CFADefCFA])
	readReg(R8)
	emitULEB(b, RDX, R12)
	b.Mov(S32, R9, Imm(UnwCFARegColumn))
	setReg(R9, WhereReg, R8)
	b.Mov(S32, R9, Imm(UnwCFAOffColumn))
	setReg(R9, 0, RDX) // not factored
	b.Jmp(loop)

	b.Bind(op[ehframe.CFADefCFARegister])
	readReg(R8)
	b.Mov(S32, R9, Imm(UnwCFARegColumn))
	setReg(R9, WhereReg, R8)
	b.Jmp(loop)

	b.Bind(op[ehframe.CFADefCFAOffset])
	emitULEB(b, RDX, R12)
	b.Mov(S32, R9, Imm(UnwCFAOffColumn))
	setReg(R9, 0, RDX) // not factored
	b.Jmp(loop)

	b.Bind(op[ehframe.CFARememberState]) // push_rstate_stack, the state copied
	b.Call(Sym(SymUnwAllocRegState))
	b.Test(S64, RAX, RAX)
	b.Jcc(CondE, badOp)
	b.Mov(S64, RDX, M(RSP, rcStackP))
	b.Mov(S64, RCX, M(RDX, 0))
	b.Mov(S64, M(RAX, OffStackableNext), RCX)
	b.Mov(S64, M(RDX, 0), RAX)
	emitCopyState(b, M(RAX, OffStackableState), M(R15, OffSRCurrent), RCX)
	b.Jmp(loop)

	b.Bind(op[ehframe.CFARestoreState]) // the state back, pop_rstate_stack
	b.Mov(S64, RDX, M(RSP, rcStackP))
	b.Mov(S64, RDI, M(RDX, 0))
	b.Test(S64, RDI, RDI)
	b.Jcc(CondE, badOp) // restore_state without remember_state
	emitCopyState(b, M(R15, OffSRCurrent), M(RDI, OffStackableState), RAX)
	b.Mov(S64, RCX, M(RDI, OffStackableNext))
	b.Mov(S64, M(RDX, 0), RCX)
	b.Call(Sym(SymUnwFreeRegState))
	b.Jmp(loop)

	b.Bind(done)
	b.Mov(S64, M(RBX, 0), R12)
	b.Xor(S32, RAX, RAX)
	b.Bind(exit)
	b.Epilog(fr)
	b.Bind(badReg)
	b.Mov(S32, RAX, Imm(-3)) // -UNW_EBADREG
	b.Jmp(exit)
	b.Bind(badOp)
	b.Ud2() // an instruction the records do not use, or a malformed program
	b.EndFunc()

	emitCFAOpTable(b, op, badOp)
}

// emitCFAOpTable lays run_cfi_program's jump table out in the data
// section: a case label per opcode, the default elsewhere.
func emitCFAOpTable(b *Builder, op map[ehframe.Op]*Label, def *Label) {
	d := b.Program().Section(link.Data)
	d.Align(8, 0)
	d.DefineSymbol(SymUnwCFAOps)
	for i := range cfaOpTable {
		l, ok := op[ehframe.Op(i)]
		if !ok {
			l = def
		}
		d.U64Label(l)
	}
	d.EndSymbol(SymUnwCFAOps)
}

// emitRegStatePool emits alloc_reg_state and free_reg_state:
// libunwind's mempool of stackable states (mempool_alloc, mempool_free
// under the pool's lock) over a free list.
func emitRegStatePool(b *Builder) {
	empty := b.NewLabel("alloc_reg_state.empty")
	helperFunc(b, SymUnwAllocRegState, StepDWARFCFA)
	b.PushNonvol(RBX)
	b.EndProlog()
	b.Lea(RDI, RIPSym(SymUnwRegStatePool))
	b.Call(Sym(SymMutexLock))
	b.Mov(S64, RBX, RIPSym(SymUnwRegStatePool).Off(MutexSize)) // free_list
	b.Test(S64, RBX, RBX)
	b.Jcc(CondE, empty)
	b.Mov(S64, RAX, M(RBX, OffStackableNext))
	b.Mov(S64, RIPSym(SymUnwRegStatePool).Off(MutexSize), RAX)
	b.Lea(RDI, RIPSym(SymUnwRegStatePool))
	b.Call(Sym(SymMutexUnlock))
	b.Mov(S64, RAX, RBX)
	b.Pop(RBX)
	b.Ret()
	b.Bind(empty)
	b.Ud2() // mempool expansion (sos_alloc, mmap): not modelled
	b.EndFunc()

	helperFunc(b, SymUnwFreeRegState, StepDWARFCFA)
	b.PushNonvol(RBX)
	b.EndProlog()
	b.Mov(S64, RBX, RDI)
	b.Lea(RDI, RIPSym(SymUnwRegStatePool))
	b.Call(Sym(SymMutexLock))
	b.Mov(S64, RAX, RIPSym(SymUnwRegStatePool).Off(MutexSize))
	b.Mov(S64, M(RBX, OffStackableNext), RAX)
	b.Mov(S64, RIPSym(SymUnwRegStatePool).Off(MutexSize), RBX)
	b.Lea(RDI, RIPSym(SymUnwRegStatePool))
	b.Call(Sym(SymMutexUnlock))
	b.Pop(RBX)
	b.Ret()
	b.EndFunc()
}
