package patchpoint

import (
	"github.com/osrsim/osrsim/ehframe"
	. "github.com/osrsim/osrsim/emitter"
)

// The Linux profile's native unwinding: PAL_VirtualUnwind
// (pal/src/exception/seh-unwind.cpp) over the libunwind CoreCLR bundles
// (src/native/external/libunwind, x86_64, local unwinding: the L* files
// with UNW_LOCAL_ONLY), run as generated code with libunwind's data
// structures:
//
//   - PAL_VirtualUnwind: x86-64's unw_context_t is a ucontext_t, so the
//     PAL fills its gregs from the CONTEXT (WinContextToUnwindContext)
//     instead of calling unw_getcontext; unw_init_local; unw_step; the
//     registers back with unw_get_reg (UnwindContextToWinContext).
//   - unw_step (x86_64/Gstep.c) → dwarf_step (dwarf/Gparser.c):
//     find_reg_state looks the IP up in the address space's register-state
//     cache (UNW_CACHE_GLOBAL, the default: a pthread mutex, a hash of the
//     IP, 128 entries); on a miss fetch_proc_info finds the FDE
//     (dwarf_find_proc_info: dl_iterate_phdr over the loaded objects, the
//     object's PT_GNU_EH_FRAME, the binary search of .eh_frame_hdr, the FDE
//     and its CIE parsed by dwarf_extract_proc_info_from_fde), and
//     create_state_record_for runs the CIE's and the FDE's CFA programs up
//     to the IP (run_cfi_program); the state goes into the cache. Then
//     apply_reg_state computes the CFA and each register's location.
//   - every memory read goes through the address space's access_mem
//     accessor (an indirect call), every byte of the CFA records too, as
//     dwarf_readu8 does.
//
// CoreCLR's libunwind is built without CONFIG_BLOCK_SIGNALS
// (libunwind_extras/config.h.in), so its locks take no sigprocmask.

// Symbols of the PAL's and libunwind's functions and data.
const (
	SymAdjustContextForVirtualStub = "patchpoint.adjust_context_for_virtual_stub" // AdjustContextForVirtualStub (excepamd64.cpp)
	SymPALVirtualUnwind            = "pal.virtual_unwind"                         // PAL_VirtualUnwind
	SymUnwInitLocal                = "unw.init_local"                             // _ULx86_64_init_local
	SymUnwRUCAddr                  = "unw.r_uc_addr"                              // x86_64_r_uc_addr
	SymUnwAccessMem                = "unw.access_mem"                             // the local address space's access_mem
	SymUnwGetReg                   = "unw.get_reg"                                // unw_get_reg
	SymUnwAccessReg                = "unw.access_reg"                             // tdep_access_reg
	SymUnwStep                     = "unw.step"                                   // unw_step
	SymUnwDwarfStep                = "unw.dwarf_step"                             // dwarf_step (find_reg_state inline)
	SymUnwApplyRegState            = "unw.apply_reg_state"                        // apply_reg_state
	SymMutexLock                   = "libc.pthread_mutex_lock"
	SymMutexUnlock                 = "libc.pthread_mutex_unlock"
	SymUnwFetchProcInfo            = "unw.fetch_proc_info"              // fetch_proc_info
	SymUnwFindProcInfo             = "unw.find_proc_info"               // dwarf_find_proc_info
	SymDLIteratePhdr               = "libc.dl_iterate_phdr"             // dl_iterate_phdr
	SymUnwCallback                 = "unw.dwarf_callback"               // dwarf_callback
	SymUnwSearchTable              = "unw.search_unwind_table"          // dwarf_search_unwind_table
	SymUnwExtractFDE               = "unw.extract_proc_info_from_fde"   // dwarf_extract_proc_info_from_fde
	SymUnwParseCIE                 = "unw.parse_cie"                    // parse_cie
	SymUnwReadEncodedPointer       = "unw.read_encoded_pointer"         // dwarf_read_encoded_pointer
	SymUnwCreateStateRecord        = "unw.create_state_record_for"      // create_state_record_for (parse_fde, setup_fde)
	SymUnwRunCFIProgram            = "unw.run_cfi_program"              // run_cfi_program
	SymUnwAllocRegState            = "unw.alloc_reg_state"              // alloc_reg_state (mempool_alloc)
	SymUnwFreeRegState             = "unw.free_reg_state"               // free_reg_state (mempool_free)
	SymUnwLocalAddrSpace           = "unw.local_addr_space"             // unw_local_addr_space's struct
	SymUnwDynInfoList              = "unw.dyn_info_list"                // _U_dyn_info_list
	SymUnwRegStatePool             = "unw.reg_state_pool"               // dwarf_reg_stack_pool
	SymUnwCIEInfo                  = "unw.cie_info"                     // the dwarf_cie_info of the last FDE
	SymUnwRegnumMap                = "unw.regnum_map"                   // dwarf_to_unw_regnum_map
	SymUnwUCRegs                   = "unw.uc_regs"                      // x86_64_r_uc_addr's switch: gregs index by register
	SymUnwCFAOps                   = "unw.cfa_ops"                      // run_cfi_program's switch
	SymLoadedObjects               = "libc.loaded_objects"              // the link maps dl_iterate_phdr walks
	SymSEHReturnAddress            = "pal.seh_process_exception_return" // g_SEHProcessExceptionReturnAddress
	SymActivationReturnAddress     = "pal.activation_handler_return"    // g_InvokeActivationHandlerReturnAddress
)

// ucontext_t (glibc, x86-64): uc_mcontext.gregs at 40, 23 of them, by the
// REG_* indices of sys/ucontext.h; 968 bytes in all.
const (
	OffUCGregs   = 40
	UContextSize = 968
	regR8        = 0
	regR9        = 1
	regR10       = 2
	regR11       = 3
	regR12       = 4
	regR13       = 5
	regR14       = 6
	regR15       = 7
	regRDI       = 8
	regRSI       = 9
	regRBP       = 10
	regRBX       = 11
	regRDX       = 12
	regRAX       = 13
	regRCX       = 14
	regRSP       = 15
	regRIP       = 16
)

// ucGregOf maps libunwind's x86-64 register numbers (the DWARF numbers,
// RIP 16) to gregs indices.
var ucGregOf = [ehframe.NumGPRs + 1]uint8{
	ehframe.RAX: regRAX, ehframe.RDX: regRDX, ehframe.RCX: regRCX, ehframe.RBX: regRBX,
	ehframe.RSI: regRSI, ehframe.RDI: regRDI, ehframe.RBP: regRBP, ehframe.RSP: regRSP,
	ehframe.R8: regR8, ehframe.R9: regR9, ehframe.R10: regR10, ehframe.R11: regR11,
	ehframe.R12: regR12, ehframe.R13: regR13, ehframe.R14: regR14, ehframe.R15: regR15,
	ehframe.RA: regRIP,
}

// libunwind's x86-64 registers as unw_get_reg numbers them (the DWARF
// numbers; UNW_REG_IP is RIP, 16; UNW_X86_64_CFA is 17).
const (
	unwRegIP  = 16
	unwRegCFA = 17
	// UnwNumPreserved is DWARF_NUM_PRESERVED_REGS: RAX..R15 and RIP. The
	// register state has two more columns, the CFA's register and offset.
	UnwNumPreserved = 17
	UnwCFARegColumn = UnwNumPreserved
	UnwCFAOffColumn = UnwNumPreserved + 1
	UnwColumns      = UnwNumPreserved + 2
)

// dwarf_where_t.
const (
	WhereUndef   = 0
	WhereSame    = 1
	WhereCFARel  = 2
	WhereReg     = 3
	WhereExpr    = 4
	WhereValExpr = 5
	WhereCFA     = 6
)

// dwarf_loc_t (local-only build): a value and its type, 16 bytes.
const (
	OffLocVal  = 0
	OffLocType = 8
	LocSize    = 16
	locTypeMem = 0
	locTypeReg = 2
	locTypeVal = 4
)

// struct cursor (tdep-x86_64/libunwind_i.h), the dwarf_cursor first.
const (
	OffCurAsArg         = 0
	OffCurAs            = 8
	OffCurCFA           = 16
	OffCurIP            = 24
	OffCurArgsSize      = 32
	OffCurEHArgs        = 40 // eh_args[2]
	OffCurEHValidMask   = 56
	OffCurLoc           = 64                                  // loc[17]
	OffCurFlags         = OffCurLoc + LocSize*UnwNumPreserved // stash_frames, use_prev_instr, pi_valid, pi_is_dynamic bits
	OffCurPI            = OffCurFlags + 8                     // unw_proc_info_t
	OffCurHint          = OffCurPI + ProcInfoSize             // short
	OffCurPrevRS        = OffCurHint + 2                      // short
	OffCurFrames        = OffCurHint + 8
	OffCurFrameInfo     = OffCurFrames + 8 // unw_tdep_frame_t, 16 bytes
	OffCurSigcontextFmt = OffCurFrameInfo + 16
	OffCurSigcontextAdr = OffCurSigcontextFmt + 8
	CursorUsed          = OffCurSigcontextAdr + 8
	// CursorSize is unw_cursor_t: UNW_TDEP_CURSOR_LEN (127) words.
	CursorSize         = 127 * 8
	curFlagUsePrevInst = 1 << 1
	curFlagPIValid     = 1 << 2
	curFlagPIDynamic   = 1 << 3
)

// unw_proc_info_t.
const (
	OffPIStartIP     = 0
	OffPIEndIP       = 8
	OffPILSDA        = 16
	OffPIHandler     = 24
	OffPIGP          = 32
	OffPIFlags       = 40
	OffPIFormat      = 48
	OffPIInfoSize    = 52
	OffPIUnwindInfo  = 56
	ProcInfoSize     = 72
	piFormatRemoteTB = 4 // UNW_INFO_FORMAT_REMOTE_TABLE
)

// dwarf_reg_state_t and dwarf_state_record_t.
const (
	OffRSRetAddrColumn = 0
	OffRSWhere         = 8  // char where[19]
	OffRSVal           = 32 // unw_word_t val[19]
	RegStateSize       = OffRSVal + 8*UnwColumns
	OffSRFDEEncoding   = 0
	OffSRArgsSize      = 8
	OffSRInitial       = 16
	OffSRCurrent       = OffSRInitial + RegStateSize
	StateRecordSize    = OffSRCurrent + RegStateSize
	// dwarf_stackable_reg_state_t: a next pointer, then a state.
	OffStackableNext  = 0
	OffStackableState = 8
	StackableSize     = 8 + RegStateSize
)

// dwarf_cie_info_t.
const (
	OffCIECieInstrStart = 0
	OffCIECieInstrEnd   = 8
	OffCIEFdeInstrStart = 16
	OffCIEFdeInstrEnd   = 24
	OffCIECodeAlign     = 32
	OffCIEDataAlign     = 40
	OffCIERetAddrColumn = 48
	OffCIEHandler       = 56
	OffCIEFDEEncoding   = 68
	OffCIELSDAEncoding  = 69
	OffCIEFlags         = 72 // sized_augmentation, have_abi_marker, signal_frame bits
	CIEInfoSize         = 80
	cieFlagSized        = 1
	cieFlagSignalFrame  = 4
)

// The register-state cache (struct dwarf_rs_cache) in the address space:
// DWARF_DEFAULT_LOG_UNW_CACHE_SIZE 7, its hash twice as big.
const (
	OffCacheLock         = 0  // pthread_mutex_t, 40 bytes
	OffCacheRRHead       = 40 // unsigned short
	OffCacheLogSize      = 42
	OffCachePrevLogSize  = 44
	OffCacheHash         = 48
	OffCacheGeneration   = 56
	OffCacheBuckets      = 64
	OffCacheLinks        = 72
	OffCacheDefaultHash  = 80
	CacheLogSize         = 7
	CacheEntries         = 1 << CacheLogSize
	cacheHashEntries     = 2 * CacheEntries
	OffCacheDefaultBkts  = OffCacheDefaultHash + 2*cacheHashEntries
	OffCacheDefaultLinks = OffCacheDefaultBkts + RegStateSize*CacheEntries
	CacheSize            = OffCacheDefaultLinks + LinkSize*CacheEntries
	// dwarf_reg_cache_entry_t: ip, coll_chain, hint, valid:1 signal_frame:1.
	OffLinkIP        = 0
	OffLinkCollChain = 8
	OffLinkHint      = 10
	OffLinkBits      = 12
	LinkSize         = 16
	linkValid        = 1
	linkSignalFrame  = 2
	// hashMagic is libunwind's (sqrt(5)/2-1)*2^64.
	hashMagic = 0x9e3779b97f4a7c16
)

// struct unw_addr_space: its accessors, then the rest.
const (
	OffASAccessMem      = 0x18 // acc.access_mem
	OffASIteratePhdr    = 0x58
	OffASCachingPolicy  = 0x60 // UNW_CACHE_NONE 0, UNW_CACHE_GLOBAL 1
	OffASCacheGenration = 0x64
	OffASGlobalCache    = 0x78
	AddrSpaceSize       = OffASGlobalCache + CacheSize
	cacheNone           = 0
	cacheGlobal         = 1
)

// pthread_mutex_t (glibc): __lock, __count, __owner, __nusers, __kind.
const (
	OffMutexLock   = 0
	OffMutexOwner  = 8
	OffMutexNUsers = 12
	OffMutexKind   = 16
	MutexSize      = 40
	offTCBTid      = 0x2d0 // struct pthread's tid, as THREAD_GETMEM reads it
)

// The loaded objects dl_iterate_phdr walks: dl_phdr_info per object
// (dlpi_addr, dlpi_name, dlpi_phdr, dlpi_phnum) and Elf64_Phdr.
const (
	OffObjAddr   = 0
	OffObjName   = 8
	OffObjPhdr   = 16
	OffObjPhnum  = 24
	ObjectSize   = 32
	OffPhType    = 0
	OffPhVaddr   = 16
	OffPhFilesz  = 32
	OffPhMemsz   = 40
	PhdrSize     = 56
	ptLoad       = 1
	ptGNUEHFrame = 0x6474e550
	objectPhdrs  = 2 // PT_LOAD and PT_GNU_EH_FRAME
	// OtherObjects stands for the shared objects a `dotnet app.dll`
	// process has loaded before libcoreclr.so (dotnet, the vDSO,
	// libstdc++, libm, libgcc_s, libc, ld.so, libhostfxr, libhostpolicy,
	// libdl) [I]: dl_iterate_phdr hands each to the callback first.
	OtherObjects = 10
)

// dwarf_callback_data and unw_dyn_info_t: the part the search reads.
const (
	OffCBIP         = 0
	OffCBPI         = 8
	OffCBNeedInfo   = 16
	OffCBSingleFDE  = 20
	OffCBDIFormat   = 24 // di.format
	OffCBDIStartIP  = 32
	OffCBDIEndIP    = 40
	OffCBDIGP       = 48
	OffCBDISegbase  = 56 // di.u.rti.segbase
	OffCBDITable    = 64 // di.u.rti.table_data
	OffCBDITableLen = 72 // di.u.rti.table_len, in words
	CallbackSize    = 80
)

// RegState mirrors dwarf_reg_state_t.
type RegState struct {
	RetAddrColumn uint64
	Where         [UnwColumns]uint8
	_             [5]byte
	Val           [UnwColumns]uint64
}

// Cursor mirrors the used part of libunwind's struct cursor.
type Cursor struct {
	AsArg, As, CFA, IP, ArgsSize uint64
	EHArgs                       [2]uint64
	EHValidMask                  uint32
	_                            uint32
	Loc                          [UnwNumPreserved]struct{ Val, Type uint64 }
	Flags                        uint32
	_                            uint32
	PI                           [ProcInfoSize / 8]uint64
	Hint, PrevRS                 int16
	_                            uint32
	Frames                       uint64
	FrameInfo                    [2]uint64
	SigcontextFormat             uint64
	SigcontextAddr               uint64
}

// emitLibunwind emits the PAL's and libunwind's functions.
func emitLibunwind(b *Builder) {
	emitPALVirtualUnwind(b)
	emitUnwInitLocal(b)
	emitUnwAccessors(b)
	emitUnwStep(b)
	emitMutex(b)
	emitFetchProcInfo(b)
	emitFindProcInfo(b)
	emitDLIteratePhdr(b)
	emitDwarfCallback(b)
	emitSearchUnwindTable(b)
	emitExtractFDE(b)
	emitReadEncodedPointer(b)
	emitCreateStateRecord(b)
	emitRunCFIProgram(b)
	emitRegStatePool(b)
}

// emitAdjustContextForVirtualStub is AdjustContextForVirtualStub
// (vm/amd64/excepamd64.cpp), which VirtualUnwindToFirstManagedCallFrame
// calls on Unix for each native frame: GetThreadNULLOk, then the stub kind
// of the IP (RangeSectionStubManager::GetStubKind: a range section map
// lookup). Virtual stub dispatch stubs are not modelled: a native IP has
// no range section and the answer is FALSE. RDI = the CONTEXT.
func emitAdjustContextForVirtualStub(b *Builder) {
	none, stub := b.NewLabel("adjust_vsd.none"), b.NewLabel("adjust_vsd.stub")
	helperFunc(b, SymAdjustContextForVirtualStub, StepCodeLookup)
	b.PushNonvol(RBX)
	b.EndProlog()
	b.Mov(S64, RBX, RDI)
	b.Lea(RDI, RIPSym(SymTLSIndex)) // GetThreadNULLOk
	b.Call(Sym(SymTLSGetAddr))
	b.Cmp(S64, M(RAX, OffTLSThreadInfo), Imm(0))
	b.Jcc(CondE, none)
	b.Mov(S64, RCX, M(RBX, OffCtxRIP))
	emitFindRangeSection(b, none)
	b.Jmp(stub)
	b.Bind(none)
	b.Xor(S32, RAX, RAX) // STUB_CODE_BLOCK_NOCODE: not a stub
	b.Pop(RBX)
	b.Ret()
	b.Bind(stub)
	b.Ud2() // a range section: a stub of the code heap (not modelled)
	b.EndFunc()
}

// palVU frame: the unw_context_t and the unw_cursor_t, locals.
const (
	palVUUContext = 0
	palVUCursor   = UContextSize
	palVUFrame    = palVUCursor + CursorSize
)

// winToUnwind are the registers WinContextToUnwindContext copies
// (ASSIGN_UNWIND_REGS for HOST_AMD64) and UnwindContextToWinContext reads
// back: CONTEXT offset, libunwind number.
var winToUnwind = []struct {
	ctx int32
	reg ehframe.Reg
}{
	{OffCtxRIP, ehframe.RA}, {OffCtxRSP, ehframe.RSP}, {OffCtxRBP, ehframe.RBP}, {OffCtxGPR + 8*int32(RBX), ehframe.RBX},
	{OffCtxGPR + 8*int32(R12), ehframe.R12}, {OffCtxGPR + 8*int32(R13), ehframe.R13},
	{OffCtxGPR + 8*int32(R14), ehframe.R14}, {OffCtxGPR + 8*int32(R15), ehframe.R15},
}

// emitPALVirtualUnwind is PAL_VirtualUnwind(CONTEXT*, ptrs): the return
// addresses of the signal trampolines checked, the CONTEXT into a
// ucontext_t, unw_init_local, unw_step, the registers back. RDI = the
// CONTEXT, RSI = context pointers (NULL here). Returns TRUE in EAX.
func emitPALVirtualUnwind(b *Builder) {
	fail, special := b.NewLabel("pal_vu.fail"), b.NewLabel("pal_vu.special")
	helperFunc(b, SymPALVirtualUnwind, StepPALUnwind)
	fr := b.Prolog(palVUFrame, RBX, R12)
	b.Mov(S64, RBX, RDI)
	b.Mov(S64, R12, RSI)
	b.Mov(S64, RAX, M(RBX, OffCtxRIP))
	b.Cmp(S64, RAX, RIPSym(SymSEHReturnAddress))
	b.Jcc(CondE, special)
	b.Cmp(S64, RAX, RIPSym(SymActivationReturnAddress))
	b.Jcc(CondE, special)
	for _, r := range winToUnwind { // WinContextToUnwindContext
		b.Mov(S64, RAX, M(RBX, r.ctx))
		b.Mov(S64, M(RSP, palVUUContext+OffUCGregs+8*int32(ucGregOf[r.reg])), RAX)
	}
	b.Lea(RDI, M(RSP, palVUCursor))
	b.Lea(RSI, M(RSP, palVUUContext))
	b.Call(Sym(SymUnwInitLocal))
	b.Test(S32, RAX, RAX)
	b.Jcc(CondS, fail)
	b.Lea(RDI, M(RSP, palVUCursor))
	b.Call(Sym(SymUnwStep))
	b.Test(S32, RAX, RAX)
	b.Jcc(CondS, fail)
	for _, r := range winToUnwind { // UnwindContextToWinContext
		b.Lea(RDI, M(RSP, palVUCursor))
		b.Mov(S32, RSI, Imm(int64(r.reg)))
		b.Lea(RDX, M(RBX, r.ctx))
		b.Call(Sym(SymUnwGetReg))
	}
	b.Test(S64, R12, R12)
	b.Jcc(CondNE, special) // GetContextPointers: not modelled (no caller asks)
	b.Mov(S32, RAX, Imm(1))
	exit := b.NewLabel("pal_vu.exit")
	b.Bind(exit)
	b.Epilog(fr)
	b.Bind(fail)
	b.Xor(S32, RAX, RAX)
	b.Jmp(exit)
	b.Bind(special) // a hardware exception's or activation's frame: not modelled
	b.Ud2()
	b.EndFunc()
}

// emitUnwInitLocal is unw_init_local(cursor, uc) (x86_64/Ginit_local.c,
// common_init of x86_64/init.h): the address space and its argument (the
// ucontext, validation off), each register's location in the ucontext's
// gregs, the IP and the CFA (the ucontext's RSP, through
// x86_64_r_uc_addr) read through access_mem, the rest cleared. RDI = the
// cursor, RSI = the ucontext. Returns 0.
func emitUnwInitLocal(b *Builder) {
	helperFunc(b, SymUnwInitLocal, StepUnwCursor)
	b.PushNonvol(RBX)
	b.PushNonvol(R12)
	b.AllocStack(8)
	b.EndProlog()
	b.Mov(S64, RBX, RDI)
	b.Mov(S64, R12, RSI)
	// tdep_init_done is set once at start-up: its check only.
	b.Lea(RAX, RIPSym(SymUnwLocalAddrSpace))
	b.Mov(S64, M(RBX, OffCurAs), RAX)
	b.Mov(S64, M(RBX, OffCurAsArg), R12) // dwarf_build_as_arg(uc, 0)
	b.Mov(S64, M(RBX, OffCurFrames), Imm(0))
	for r := ehframe.Reg(0); r <= ehframe.RA; r++ { // REG_INIT_LOC
		loc := OffCurLoc + LocSize*int32(r)
		b.Lea(RAX, M(R12, OffUCGregs+8*int32(ucGregOf[r])))
		b.Mov(S64, M(RBX, loc+OffLocVal), RAX)
		b.Mov(S64, M(RBX, loc+OffLocType), Imm(locTypeMem))
	}
	b.Mov(S64, RSI, M(RBX, OffCurLoc+LocSize*unwRegIP+OffLocVal))
	b.Lea(RDX, M(RBX, OffCurIP))
	emitDwarfGetMem(b, RBX)
	b.Mov(S64, RDI, R12)
	b.Mov(S32, RSI, Imm(int64(ehframe.RSP)))
	b.Call(Sym(SymUnwRUCAddr)) // DWARF_REG_LOC(&c->dwarf, UNW_X86_64_RSP)
	b.Mov(S64, RSI, RAX)
	b.Lea(RDX, M(RBX, OffCurCFA))
	emitDwarfGetMem(b, RBX)
	b.Mov(S64, M(RBX, OffCurSigcontextFmt), Imm(0))
	b.Mov(S64, M(RBX, OffCurSigcontextAdr), Imm(0))
	b.Mov(S64, M(RBX, OffCurArgsSize), Imm(0))
	b.Mov(S32, M(RBX, OffCurFlags), Imm(curFlagUsePrevInst)) // stash_frames 0, use_prev_instr 1, pi_valid 0, pi_is_dynamic 0
	b.Mov(S32, M(RBX, OffCurHint), Imm(0))                   // hint 0, prev_rs 0
	b.Mov(S32, M(RBX, OffCurEHValidMask), Imm(0))
	b.Xor(S32, RAX, RAX)
	b.Add(S64, RSP, Imm(8))
	b.Pop(R12)
	b.Pop(RBX)
	b.Ret()
	b.EndFunc()
}

// emitDwarfGetMem is dwarf_get of a memory location, inline: RSI = the
// address, RDX = where the value goes, cursor in c; the read through the
// address space's access_mem. Clobbers the caller-saved registers.
func emitDwarfGetMem(b *Builder, c Reg) {
	b.Mov(S64, RDI, M(c, OffCurAs))
	b.Xor(S32, RCX, RCX)
	b.Mov(S64, R8, M(c, OffCurAsArg))
	b.Call(M(RDI, OffASAccessMem))
}

// emitUnwAccessors emits x86_64_r_uc_addr, access_mem, unw_get_reg and
// tdep_access_reg.
func emitUnwAccessors(b *Builder) {
	// x86_64_r_uc_addr(uc, reg): &uc->uc_mcontext.gregs[REG_x] (a switch
	// in C; a table here). RDI = uc, ESI = the register.
	helperFunc(b, SymUnwRUCAddr, StepUnwCursor)
	b.EndProlog()
	b.Lea(RAX, RIPSym(SymUnwUCRegs))
	b.MovZX(S32, RAX, S8, MIdx(RAX, RSI, 1, 0))
	b.Lea(RAX, MIdx(RDI, RAX, 8, OffUCGregs))
	b.Ret()
	b.EndFunc()

	// access_mem(as, addr, valp, write, arg): the local address space's
	// memory accessor (x86_64/Ginit.c); validation is off in a cursor
	// from unw_init_local.
	write, bad := b.NewLabel("access_mem.write"), b.NewLabel("access_mem.validate")
	helperFunc(b, SymUnwAccessMem, StepUnwCursor)
	b.EndProlog()
	b.Test(S32, RCX, RCX)
	b.Jcc(CondNE, write)
	b.Test(S8, R8, Imm(1)) // AS_ARG_GET_VALIDATE(arg)
	b.Jcc(CondNE, bad)
	b.Mov(S64, RAX, M(RSI, 0))
	b.Mov(S64, M(RDX, 0), RAX)
	b.Xor(S32, RAX, RAX)
	b.Ret()
	b.Bind(write)
	b.Mov(S64, RAX, M(RDX, 0))
	b.Mov(S64, M(RSI, 0), RAX)
	b.Xor(S32, RAX, RAX)
	b.Ret()
	b.Bind(bad)
	b.Ud2() // unw_address_is_valid: not modelled
	b.EndFunc()

	// unw_get_reg(cursor, reg, valp) (mi/Gget_reg.c): the IP from the
	// cursor, anything else through tdep_access_reg.
	notIP := b.NewLabel("get_reg.not_ip")
	helperFunc(b, SymUnwGetReg, StepUnwCursor)
	b.EndProlog()
	b.Cmp(S32, RSI, Imm(unwRegIP))
	b.Jcc(CondNE, notIP)
	b.Mov(S64, RAX, M(RDI, OffCurIP))
	b.Mov(S64, M(RDX, 0), RAX)
	b.Xor(S32, RAX, RAX)
	b.Ret()
	b.Bind(notIP)
	b.Xor(S32, RCX, RCX) // write = 0
	b.Jmp(Sym(SymUnwAccessReg))
	b.EndFunc()

	// tdep_access_reg(c, reg, valp, write) (x86_64/Gregs.c), reads: the
	// CFA from the cursor; RAX and RDX from eh_args when set; any other
	// register through its location (dwarf_get: a value location's value,
	// a memory location through access_mem).
	L := func(n string) *Label { return b.NewLabel("access_reg." + n) }
	cfa, loc, ehArg, val, null, badReg := L("cfa"), L("loc"), L("eh_arg"), L("val"), L("null"), L("bad")
	helperFunc(b, SymUnwAccessReg, StepUnwCursor)
	b.EndProlog()
	b.Test(S32, RCX, RCX)
	b.Jcc(CondNE, badReg) // writes: not used
	b.Cmp(S32, RSI, Imm(unwRegCFA))
	b.Jcc(CondE, cfa)
	b.Jcc(CondA, badReg)
	b.Cmp(S32, RSI, Imm(int64(ehframe.RDX))) // RAX 0, RDX 1: the exception arguments
	b.Jcc(CondA, loc)
	b.Mov(S32, RCX, RSI)
	b.Mov(S32, RAX, Imm(1))
	b.ShlCL(S32, RAX)
	b.Test(S32, M(RDI, OffCurEHValidMask), RAX)
	b.Jcc(CondNE, ehArg)
	b.Xor(S32, RCX, RCX)
	b.Bind(loc)
	b.Mov(S32, RAX, RSI)
	b.Shl(S64, RAX, 4)
	b.Lea(RAX, MIdx(RDI, RAX, 1, OffCurLoc))
	b.Mov(S64, RSI, M(RAX, OffLocVal))
	b.Test(S64, RSI, RSI)
	b.Jcc(CondE, null)
	b.Test(S8, M(RAX, OffLocType), Imm(locTypeVal))
	b.Jcc(CondNE, val)
	b.Mov(S64, R8, M(RDI, OffCurAsArg))
	b.Mov(S64, RDI, M(RDI, OffCurAs))
	b.Jmp(M(RDI, OffASAccessMem)) // tail call: access_mem(as, addr, valp, 0, arg)
	b.Bind(val)
	b.Mov(S64, M(RDX, 0), RSI)
	b.Xor(S32, RAX, RAX)
	b.Ret()
	b.Bind(ehArg)
	b.Mov(S64, RAX, MIdx(RDI, RSI, 8, OffCurEHArgs))
	b.Mov(S64, M(RDX, 0), RAX)
	b.Xor(S32, RAX, RAX)
	b.Ret()
	b.Bind(cfa)
	b.Mov(S64, RAX, M(RDI, OffCurCFA))
	b.Mov(S64, M(RDX, 0), RAX)
	b.Xor(S32, RAX, RAX)
	b.Ret()
	b.Bind(null)
	b.Mov(S32, RAX, Imm(-3)) // -UNW_EBADREG
	b.Ret()
	b.Bind(badReg)
	b.Ud2()
	b.EndFunc()
}

// emitLibunwindData lays out libunwind's and the PAL's state: the local
// address space (its accessors, dl_iterate_phdr, UNW_CACHE_GLOBAL, the
// register-state cache as dwarf_flush_rs_cache leaves it: every hash slot
// empty), the dynamic-info list (empty), the pool of stackable states,
// the CIE info, the register maps, the loader's lock and the PAL's
// trampoline return addresses (addresses of no frame here).
func emitLibunwindData(d *Builder) {
	d.Align(64, 0)
	d.DefineSymbol(SymUnwLocalAddrSpace)
	for i := 0; i < OffASIteratePhdr/8; i++ {
		if i == OffASAccessMem/8 {
			d.U64Sym(SymUnwAccessMem, 0)
		} else {
			d.U64(0) // the other accessors: not called locally
		}
	}
	d.U64Sym(SymDLIteratePhdr, 0)
	d.U32(cacheGlobal)
	d.U32(1) // cache_generation
	d.U64(0) // dyn_generation
	d.U64(0) // dyn_info_list_addr
	cache := SymUnwLocalAddrSpace
	at := func(off int) int64 { return int64(OffASGlobalCache + off) }
	d.Space(MutexSize) // the cache's lock, PTHREAD_MUTEX_INITIALIZER
	d.U16(0)           // rr_head
	d.U16(CacheLogSize)
	d.U16(CacheLogSize)
	d.Space(OffCacheHash - OffCachePrevLogSize - 2)
	d.U64Sym(cache, at(OffCacheDefaultHash))
	d.U32(1) // generation, as the address space's
	d.U32(0)
	d.U64Sym(cache, at(OffCacheDefaultBkts))
	d.U64Sym(cache, at(OffCacheDefaultLinks))
	for range cacheHashEntries {
		d.U16(0xFFFF) // empty
	}
	d.Space(RegStateSize*CacheEntries + LinkSize*CacheEntries)
	d.EndSymbol(SymUnwLocalAddrSpace)

	d.DefineSymbol(SymUnwDynInfoList)
	d.U64(0) // generation
	d.U64(0) // first
	d.EndSymbol(SymUnwDynInfoList)

	// The pool: its lock, its free list, and a few states (remember_state
	// nests no deeper in these records).
	const poolStates = 4
	d.Align(8, 0)
	d.DefineSymbol(SymUnwRegStatePool)
	d.Space(MutexSize)
	d.U64Sym(SymUnwRegStatePool, MutexSize+8)
	for k := range poolStates {
		if k+1 < poolStates {
			d.U64Sym(SymUnwRegStatePool, int64(MutexSize+8+StackableSize*(k+1)))
		} else {
			d.U64(0)
		}
		d.Space(RegStateSize)
	}
	d.EndSymbol(SymUnwRegStatePool)

	d.DefineSymbol(SymUnwCIEInfo)
	d.Space(CIEInfoSize)
	d.EndSymbol(SymUnwCIEInfo)
	d.DefineSymbol(SymUnwRegnumMap) // dwarf_to_unw_regnum: the identity on x86-64
	for r := range UnwNumPreserved {
		d.U8(uint8(r))
	}
	d.EndSymbol(SymUnwRegnumMap)
	d.DefineSymbol(SymUnwUCRegs)
	for _, g := range ucGregOf {
		d.U8(g)
	}
	d.EndSymbol(SymUnwUCRegs)
	d.Align(8, 0)
	d.DefineSymbol(SymDLLock)
	d.Space(MutexSize)
	d.EndSymbol(SymDLLock)
	d.DefineSymbol(SymSEHReturnAddress)
	d.U64(otherObjectBase + 0x10)
	d.EndSymbol(SymSEHReturnAddress)
	d.DefineSymbol(SymActivationReturnAddress)
	d.U64(otherObjectBase + 0x20)
	d.EndSymbol(SymActivationReturnAddress)
}
