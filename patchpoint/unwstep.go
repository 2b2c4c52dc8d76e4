package patchpoint

import (
	"github.com/osrsim/osrsim/ehframe"
	. "github.com/osrsim/osrsim/emitter"
)

// libunwind's step: unw_step, dwarf_step with find_reg_state and its
// register-state cache, apply_reg_state, and the cache's lock.

// emitUnwStep emits unw_step, dwarf_step and apply_reg_state.
func emitUnwStep(b *Builder) {
	// unw_step (x86_64/Gstep.c): DWARF-based unwinding; its fallbacks
	// (frame chains, PLT entries, signal frames) are not modelled.
	fail := b.NewLabel("unw_step.fail")
	helperFunc(b, SymUnwStep, StepUnwStep)
	b.PushNonvol(RBX)
	b.EndProlog()
	b.Mov(S64, RBX, RDI)
	b.Mov(S64, M(RBX, OffCurSigcontextFmt), Imm(0)) // X86_64_SCF_NONE
	b.Call(Sym(SymUnwDwarfStep))
	b.Test(S32, RAX, RAX)
	b.Jcc(CondS, fail)
	b.Inc(S64, M(RBX, OffCurFrames))
	b.Pop(RBX)
	b.Ret()
	b.Bind(fail)
	b.Ud2() // -UNW_ENOINFO: _unw_step_fallback
	b.EndFunc()

	emitDwarfStep(b)
	emitApplyRegState(b)
}

// dwarf_step frame: the state record, the cache index found.
const (
	dsSR    = 0
	dsFrame = StateRecordSize + 8
)

// emitDwarfStep is dwarf_step (dwarf/Gparser.c) with find_reg_state
// inline: the register state of the cursor's IP from the cache (a hit),
// or found, computed and entered (a miss), then apply_reg_state. RDI =
// the cursor. RBX = the cursor, R12 = the cache, R13 = the state, R14 =
// its index.
func emitDwarfStep(b *Builder) {
	L := func(n string) *Label { return b.NewLabel("dwarf_step." + n) }
	miss, found, tail, noCache, flush, fail, lookupAgain, enter := L("miss"), L("found"), L("tail"), L("no_cache"), L("flush"), L("fail"), L("lookup_again"), L("enter")
	sr := func(off int32) Mem { return M(RSP, dsSR+off) }
	helperFunc(b, SymUnwDwarfStep, StepUnwStep)
	fr := b.Prolog(dsFrame, RBX, R12, R13, R14)
	b.Mov(S64, RBX, RDI)

	// get_rs_cache: the global cache under its lock, flushed if stale.
	getCache := func() {
		b.Mov(S64, R12, M(RBX, OffCurAs))
		b.Cmp(S32, M(R12, OffASCachingPolicy), Imm(cacheNone))
		b.Jcc(CondE, noCache)
		b.Lea(R12, M(R12, OffASGlobalCache))
		b.Mov(S64, RDI, R12)
		b.Call(Sym(SymMutexLock))
		b.Mov(S64, RAX, M(RBX, OffCurAs))
		b.Mov(S32, RAX, M(RAX, OffASCacheGenration))
		b.Cmp(S32, RAX, M(R12, OffCacheGeneration))
		b.Jcc(CondNE, flush)
		b.Cmp(S64, M(R12, OffCacheHash), Imm(0))
		b.Jcc(CondE, flush)
	}
	// rs_lookup: the cursor's hint, then the hash chain of its IP. R14 =
	// the index; to found on a match, else on.
	lookup := func(onMiss *Label) {
		hashed, chain := b.NewLabel(""), b.NewLabel("")
		b.MovSX(S64, R14, S16, M(RBX, OffCurHint))
		b.Test(S64, R14, R14)
		b.Jcc(CondLE, hashed)
		b.Dec(S64, R14)
		emitCacheMatch(b, found)
		b.Bind(hashed)
		emitHashIP(b, RAX, M(RBX, OffCurIP))
		b.Mov(S64, RDX, M(R12, OffCacheHash))
		b.MovZX(S32, R14, S16, MIdx(RDX, RAX, 2, 0))
		b.Bind(chain)
		b.Cmp(S32, R14, Imm(CacheEntries))
		b.Jcc(CondAE, onMiss)
		emitCacheMatch(b, found)
		b.Mov(S64, RDX, M(R12, OffCacheLinks))
		b.Mov(S64, RAX, R14)
		b.Shl(S64, RAX, 4)
		b.MovZX(S32, R14, S16, MIdx(RDX, RAX, 1, OffLinkCollChain))
		b.Jmp(chain)
	}
	getCache()
	lookup(miss)

	b.Bind(found) // a hit: c->use_prev_instr = !signal_frame; the state copied
	b.Mov(S64, RDX, M(R12, OffCacheLinks))
	b.Mov(S64, RAX, R14)
	b.Shl(S64, RAX, 4)
	b.Test(S8, MIdx(RDX, RAX, 1, OffLinkBits), Imm(linkSignalFrame))
	b.Jcc(CondNE, fail) // signal frames: not modelled
	b.Or(S32, M(RBX, OffCurFlags), Imm(curFlagUsePrevInst))
	emitStateAddr(b, R13, R12, R14)
	emitCopyState(b, sr(OffSRCurrent), M(R13, 0), RAX)
	b.Jmp(tail)

	b.Bind(miss) // release the lock while the state is computed
	b.Lea(RDI, M(R12, OffCacheLock))
	b.Call(Sym(SymMutexUnlock))
	b.Mov(S64, RDI, RBX)
	b.Mov(S64, RSI, M(RBX, OffCurIP))
	b.Call(Sym(SymUnwFetchProcInfo))
	b.Test(S32, RAX, RAX)
	b.Jcc(CondS, fail)
	b.Mov(S64, RDI, RBX)
	b.Lea(RSI, sr(0))
	b.Mov(S64, RDX, M(RBX, OffCurIP))
	b.Call(Sym(SymUnwCreateStateRecord))
	b.Test(S32, RAX, RAX)
	b.Jcc(CondS, fail)
	// put_unwind_info: the CIE info goes back (dwarf_put_unwind_info); the
	// next frame uses the previous instruction unless this is a signal frame.
	b.Mov(S64, M(RBX, OffCurPI+OffPIUnwindInfo), Imm(0))
	b.Or(S32, M(RBX, OffCurFlags), Imm(curFlagUsePrevInst))
	getCache()
	b.Bind(lookupAgain) // another thread may have entered it meanwhile
	lookup(enter)
	b.Bind(enter)
	emitRSNew(b)
	b.Mov(S64, RDX, M(R12, OffCacheLinks))
	b.Mov(S64, RAX, R14)
	b.Shl(S64, RAX, 4)
	b.Mov(S16, MIdx(RDX, RAX, 1, OffLinkHint), Imm(0))
	emitStateAddr(b, R13, R12, R14)
	emitCopyState(b, M(R13, 0), sr(OffSRCurrent), RAX)

	b.Bind(tail) // the hints, tdep_reuse_frame, the lock released
	b.Mov(S64, RDX, M(R12, OffCacheLinks))
	b.Mov(S64, RAX, R14)
	b.Shl(S64, RAX, 4)
	b.MovZX(S32, RCX, S16, MIdx(RDX, RAX, 1, OffLinkHint))
	b.Mov(S16, M(RBX, OffCurHint), RCX)
	b.MovSX(S64, RCX, S16, M(RBX, OffCurPrevRS))
	b.Shl(S64, RCX, 4)
	b.Lea(RAX, M(R14, 1))
	b.Mov(S16, MIdx(RDX, RCX, 1, OffLinkHint), RAX)
	b.Mov(S16, M(RBX, OffCurPrevRS), R14)
	b.Mov(S64, M(RBX, OffCurSigcontextFmt), Imm(0)) // tdep_reuse_frame: not a signal frame
	b.Lea(RDI, M(R12, OffCacheLock))
	b.Call(Sym(SymMutexUnlock))
	b.Mov(S64, RDI, RBX)
	b.Lea(RSI, sr(OffSRCurrent))
	b.Call(Sym(SymUnwApplyRegState))
	exit := b.NewLabel("dwarf_step.exit")
	b.Bind(exit)
	b.Epilog(fr)
	b.Bind(fail)
	b.Mov(S32, RAX, Imm(-10)) // -UNW_ENOINFO
	b.Jmp(exit)
	b.Bind(noCache) // UNW_CACHE_NONE: not used
	b.Bind(flush)   // dwarf_flush_rs_cache: the data start flushed
	b.Ud2()
	b.EndFunc()
}

// emitHashIP is libunwind's hash(ip, log_size): ip * magic >> (64 -
// (log_size + 1)), with the cache (R12)'s log size. Clobbers RCX, RDX.
func emitHashIP(b *Builder, dst Reg, ip Mem) {
	b.Mov(S64, dst, ip)
	b.MovImm64(RDX, hashMagic)
	b.Imul(S64, dst, RDX)
	b.MovZX(S32, RDX, S16, M(R12, OffCacheLogSize))
	b.Mov(S32, RCX, Imm(63))
	b.Sub(S32, RCX, RDX)
	b.ShrCL(S64, dst)
}

// emitCacheMatch is cache_match(cache, R14, c->ip): the entry is valid and
// holds the cursor's IP; to found if so. Clobbers RAX, RDX.
func emitCacheMatch(b *Builder, found *Label) {
	next := b.NewLabel("")
	b.Mov(S64, RDX, M(R12, OffCacheLinks))
	b.Mov(S64, RAX, R14)
	b.Shl(S64, RAX, 4)
	b.Add(S64, RDX, RAX)
	b.Test(S8, M(RDX, OffLinkBits), Imm(linkValid))
	b.Jcc(CondE, next)
	b.Mov(S64, RAX, M(RBX, OffCurIP))
	b.Cmp(S64, RAX, M(RDX, OffLinkIP))
	b.Jcc(CondE, found)
	b.Bind(next)
}

// emitStateAddr sets dst to &cache->buckets[index]. Clobbers RAX.
func emitStateAddr(b *Builder, dst, cache, index Reg) {
	b.ImulImm(S64, RAX, index, RegStateSize)
	b.Mov(S64, dst, M(cache, OffCacheBuckets))
	b.Add(S64, dst, RAX)
}

// emitCopyState is memcpy of a dwarf_reg_state_t (184 bytes), as the
// compiler inlines it: 16-byte moves and a last 8 through scratch, which
// must be neither address's base.
func emitCopyState(b *Builder, dst, src Mem, scratch Reg) {
	for off := int32(0); off+16 <= RegStateSize; off += 16 {
		b.Movdqu(X0, src.Off(off))
		b.Movdqu(dst.Off(off), X0)
	}
	if RegStateSize%16 != 0 {
		off := int32(RegStateSize &^ 15)
		b.Mov(S64, scratch, src.Off(off))
		b.Mov(S64, dst.Off(off), scratch)
	}
}

// emitRSNew is rs_new(cache, c): the round-robin head's entry taken (its
// old IP unhashed), the cursor's IP hashed into it. R12 = the cache, RBX =
// the cursor; R14 = the entry's index. Clobbers RAX, RCX, RDX, R8-R10.
func emitRSNew(b *Builder) {
	L := func(n string) *Label { return b.NewLabel("rs_new." + n) }
	unhash, scan, unlink, insert := L("unhash"), L("scan"), L("unlink"), L("insert")
	b.MovZX(S32, R14, S16, M(R12, OffCacheRRHead))
	b.Lea(RAX, M(R14, 1))
	b.And(S32, RAX, Imm(CacheEntries-1))
	b.Mov(S16, M(R12, OffCacheRRHead), RAX)
	b.Mov(S64, R9, M(R12, OffCacheLinks))
	b.Mov(S64, R10, R14)
	b.Shl(S64, R10, 4)
	b.Add(S64, R10, R9) // &links[head]
	b.Cmp(S64, M(R10, OffLinkIP), Imm(0))
	b.Jcc(CondE, insert)
	b.Bind(unhash) // remove the old state from its hash chain
	emitHashIP(b, RAX, M(R10, OffLinkIP))
	b.Mov(S64, RDX, M(R12, OffCacheHash))
	b.Lea(R8, MIdx(RDX, RAX, 2, 0)) // pindex
	b.Bind(scan)
	b.MovZX(S32, RAX, S16, M(R8, 0))
	b.Cmp(S32, RAX, Imm(CacheEntries))
	b.Jcc(CondAE, insert)
	b.Cmp(S32, RAX, R14)
	b.Jcc(CondE, unlink)
	b.Shl(S64, RAX, 4)
	b.Lea(R8, MIdx(R9, RAX, 1, OffLinkCollChain))
	b.Jmp(scan)
	b.Bind(unlink)
	b.MovZX(S32, RAX, S16, M(R10, OffLinkCollChain))
	b.Mov(S16, M(R8, 0), RAX)
	b.Bind(insert) // enter the cursor's IP
	emitHashIP(b, RAX, M(RBX, OffCurIP))
	b.Mov(S64, RDX, M(R12, OffCacheHash))
	b.MovZX(S32, RCX, S16, MIdx(RDX, RAX, 2, 0))
	b.Mov(S16, M(R10, OffLinkCollChain), RCX)
	b.Mov(S16, MIdx(RDX, RAX, 2, 0), R14)
	b.Mov(S64, RAX, M(RBX, OffCurIP))
	b.Mov(S64, M(R10, OffLinkIP), RAX)
	b.Mov(S16, M(R10, OffLinkBits), Imm(linkValid)) // valid, not a signal frame (tdep_cache_frame)
}

// apply_reg_state frame: the new locations, the CFA read.
const (
	arNewLoc = 0
	arCFA    = LocSize * UnwNumPreserved
	arFrame  = arCFA + 8
)

// emitApplyRegState is apply_reg_state(c, rs) (dwarf/Gparser.c): the CFA
// (a register plus an offset; the stack pointer's own value when it is
// the CFA register and has no location), then each preserved register's
// new location by its rule, the IP from the return-address column.
// RDI = the cursor, RSI = the state. Returns 1 (a frame), or
// -UNW_EBADFRAME when neither the IP nor the CFA moved.
func emitApplyRegState(b *Builder) {
	lbl := func(n string) *Label { return b.NewLabel("apply_reg_state." + n) }
	getReg, haveCFA, loop, next, undef, cfaVal, cfaRel, inReg, ipNull, ipDone, badFrame, bad := lbl("get_reg"), lbl("have_cfa"), lbl("loop"), lbl("next"), lbl("undef"), lbl("cfa"), lbl("cfarel"), lbl("reg"), lbl("ip_null"), lbl("ip_done"), lbl("bad_frame"), lbl("bad")
	where := func(col int32) Mem { return M(R12, OffRSWhere+col) }
	val := func(col int32) Mem { return M(R12, OffRSVal+8*col) }
	helperFunc(b, SymUnwApplyRegState, StepUnwStep)
	fr := b.Prolog(arFrame, RBX, R12, R13, R14, R15)
	b.Mov(S64, RBX, RDI)
	b.Mov(S64, R12, RSI)
	b.Cmp(S64, M(R12, OffRSRetAddrColumn), Imm(UnwNumPreserved))
	b.Jcc(CondAE, badFrame)
	b.Mov(S64, R14, M(RBX, OffCurIP))  // prev_ip
	b.Mov(S64, R15, M(RBX, OffCurCFA)) // prev_cfa
	b.Cmp(S8, where(UnwCFARegColumn), Imm(WhereReg))
	b.Jcc(CondNE, bad) // a CFA expression: not used
	b.Mov(S64, RAX, val(UnwCFARegColumn))
	b.Cmp(S64, RAX, Imm(int64(ehframe.RSP)))
	b.Jcc(CondNE, getReg)
	b.Cmp(S64, M(RBX, OffCurLoc+LocSize*int32(ehframe.RSP)+OffLocVal), Imm(0))
	b.Jcc(CondNE, getReg)
	b.Mov(S64, R13, R15)
	b.Jmp(haveCFA)
	b.Bind(getReg)
	b.Lea(RDX, RIPSym(SymUnwRegnumMap)) // dwarf_to_unw_regnum
	b.MovZX(S32, RSI, S8, MIdx(RDX, RAX, 1, 0))
	b.Mov(S64, RDI, RBX)
	b.Lea(RDX, M(RSP, arCFA))
	b.Call(Sym(SymUnwGetReg))
	b.Test(S32, RAX, RAX)
	b.Jcc(CondS, bad)
	b.Mov(S64, R13, M(RSP, arCFA))
	b.Bind(haveCFA)
	b.Add(S64, R13, val(UnwCFAOffColumn))

	emitCopyLocs(b, M(RSP, arNewLoc), M(RBX, OffCurLoc))
	b.Xor(S32, RCX, RCX) // the column
	b.Bind(loop)
	b.MovZX(S32, RAX, S8, MIdx(R12, RCX, 1, OffRSWhere))
	b.Mov(S64, RDX, RCX)
	b.Shl(S64, RDX, 4) // the column's new location
	for _, c := range []struct {
		w int64
		l *Label
	}{{WhereSame, next}, {WhereCFARel, cfaRel}, {WhereUndef, undef}, {WhereCFA, cfaVal}, {WhereReg, inReg}} {
		b.Cmp(S32, RAX, Imm(c.w))
		b.Jcc(CondE, c.l)
	}
	b.Jmp(bad) // expressions: not used
	b.Bind(undef)
	b.Mov(S64, MIdx(RSP, RDX, 1, arNewLoc+OffLocVal), Imm(0))
	b.Mov(S64, MIdx(RSP, RDX, 1, arNewLoc+OffLocType), Imm(0))
	b.Jmp(next)
	b.Bind(cfaVal)
	b.Mov(S64, MIdx(RSP, RDX, 1, arNewLoc+OffLocVal), R13)
	b.Mov(S64, MIdx(RSP, RDX, 1, arNewLoc+OffLocType), Imm(locTypeVal))
	b.Jmp(next)
	b.Bind(cfaRel)
	b.Mov(S64, RAX, MIdx(R12, RCX, 8, OffRSVal))
	b.Add(S64, RAX, R13)
	b.Mov(S64, MIdx(RSP, RDX, 1, arNewLoc+OffLocVal), RAX)
	b.Mov(S64, MIdx(RSP, RDX, 1, arNewLoc+OffLocType), Imm(locTypeMem))
	b.Jmp(next)
	b.Bind(inReg)
	b.Mov(S64, RAX, MIdx(R12, RCX, 8, OffRSVal))
	b.Shl(S64, RAX, 4)
	b.Movdqu(X0, MIdx(RSP, RAX, 1, arNewLoc))
	b.Movdqu(MIdx(RSP, RDX, 1, arNewLoc), X0)
	b.Bind(next)
	b.Inc(S32, RCX)
	b.Cmp(S32, RCX, Imm(UnwNumPreserved))
	b.Jcc(CondB, loop)
	emitCopyLocs(b, M(RBX, OffCurLoc), M(RSP, arNewLoc))
	b.Mov(S64, M(RBX, OffCurCFA), R13)

	// The IP: the return-address column's location read (dwarf_get).
	b.Mov(S64, RAX, M(R12, OffRSRetAddrColumn))
	b.Shl(S64, RAX, 4)
	b.Lea(RAX, MIdx(RBX, RAX, 1, OffCurLoc))
	b.Mov(S64, RSI, M(RAX, OffLocVal))
	b.Test(S64, RSI, RSI)
	b.Jcc(CondE, ipNull)
	b.Test(S8, M(RAX, OffLocType), Imm(locTypeVal|locTypeReg))
	b.Jcc(CondNE, bad) // the return address in a register or a value: not used
	b.Lea(RDX, M(RBX, OffCurIP))
	emitDwarfGetMem(b, RBX)
	b.Test(S32, RAX, RAX)
	b.Jcc(CondS, bad)
	b.Jmp(ipDone)
	b.Bind(ipNull) // an undefined return address: the end of the stack
	b.Mov(S64, M(RBX, OffCurIP), Imm(0))
	b.Bind(ipDone)
	b.Xor(S32, RAX, RAX)
	b.Cmp(S64, M(RBX, OffCurIP), Imm(0))
	b.Setcc(CondNE, RAX)
	b.Cmp(S64, M(RBX, OffCurIP), R14)
	exit := b.NewLabel("apply_reg_state.exit")
	b.Jcc(CondNE, exit)
	b.Cmp(S64, M(RBX, OffCurCFA), R15)
	b.Jcc(CondE, badFrame) // ip and cfa unchanged: stop
	b.Bind(exit)
	b.Epilog(fr)
	b.Bind(badFrame)
	b.Mov(S32, RAX, Imm(-7)) // -UNW_EBADFRAME
	b.Jmp(exit)
	b.Bind(bad)
	b.Ud2()
	b.EndFunc()
}

// emitCopyLocs is memcpy of the 17 locations (272 bytes).
func emitCopyLocs(b *Builder, dst, src Mem) {
	for off := int32(0); off < LocSize*UnwNumPreserved; off += 16 {
		b.Movdqu(X0, src.Off(off))
		b.Movdqu(dst.Off(off), X0)
	}
}

// emitMutex emits glibc's pthread_mutex_lock and pthread_mutex_unlock for
// an uncontended PTHREAD_MUTEX_TIMED_NP (the default kind): the lock word
// taken with lock cmpxchg, the owner's tid (THREAD_GETMEM) and the user
// count kept; released with an exchange. RDI = the mutex.
func emitMutex(b *Builder) {
	other, wait := b.NewLabel("mutex_lock.other"), b.NewLabel("mutex_lock.wait")
	helperFunc(b, SymMutexLock, StepUnwStep)
	b.EndProlog()
	b.Mov(S32, RAX, M(RDI, OffMutexKind))
	b.And(S32, RAX, Imm(0x17f)) // PTHREAD_MUTEX_KIND_MASK_NP | PTHREAD_MUTEX_ELISION_FLAGS_NP
	b.Jcc(CondNE, other)
	b.Mov(S32, RDX, Imm(1))
	b.LockCmpxchg(S32, M(RDI, OffMutexLock), RDX) // lll_lock: EAX is 0
	b.Jcc(CondNE, wait)
	b.Mov(S32, RAX, RIPSym(SymTCB).Off(offTCBTid))
	b.Mov(S32, M(RDI, OffMutexOwner), RAX)
	b.Add(S32, M(RDI, OffMutexNUsers), Imm(1))
	b.Xor(S32, RAX, RAX)
	b.Ret()
	b.Bind(other)
	b.Bind(wait)
	b.Ud2() // other kinds, contention: not modelled
	b.EndFunc()

	otherU, wake := b.NewLabel("mutex_unlock.other"), b.NewLabel("mutex_unlock.wake")
	helperFunc(b, SymMutexUnlock, StepUnwStep)
	b.EndProlog()
	b.Mov(S32, RAX, M(RDI, OffMutexKind))
	b.And(S32, RAX, Imm(0x17f))
	b.Jcc(CondNE, otherU)
	b.Mov(S32, M(RDI, OffMutexOwner), Imm(0))
	b.Sub(S32, M(RDI, OffMutexNUsers), Imm(1))
	b.Xor(S32, RDX, RDX)
	b.Xchg(S32, M(RDI, OffMutexLock), RDX) // lll_unlock
	b.Cmp(S32, RDX, Imm(1))
	b.Jcc(CondG, wake)
	b.Xor(S32, RAX, RAX)
	b.Ret()
	b.Bind(otherU)
	b.Bind(wake)
	b.Ud2() // futex wake: not modelled
	b.EndFunc()
}
