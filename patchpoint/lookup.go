package patchpoint

import (
	. "github.com/osrsim/osrsim/emitter"
)

// The code lookups, as CoreCLR runs them: managed code through the
// RangeSectionMap and the code heap's nibble map (EECodeInfo, IsManagedCode),
// native code through its module's function table (RtlLookupFunctionEntry).

// emitFindRangeSection is RangeSectionMap::LookupRangeSection inline:
// RCX = address (kept) → RAX = its RangeSection; to none when there is
// none. Clobbers RDX, R8.
func emitFindRangeSection(b *Builder, none *Label) {
	loop, next, found := b.NewLabel("map.fragment"), b.NewLabel("map.next"), b.NewLabel("map.found")
	b.Mov(S64, RAX, RCX)
	b.Shr(S64, RAX, MapShift) // the address bits the map uses
	b.Lea(R8, RIPSym(SymCodeMap))
	for level := MapLevels; level >= 1; level-- {
		b.Mov(S64, RDX, RAX)
		if s := uint8((level - 1) * MapBitsPerLevel); s > 0 {
			b.Shr(S64, RDX, s)
		}
		b.MovZX(S32, RDX, S8, RDX)
		b.Mov(S64, R8, MIdx(R8, RDX, 8, 0)) // the next level, or the fragment list
		if level > 1 {
			emitMapPointerChecks(b, none)
		}
	}
	b.Bind(loop) // the fragments of this 128 KiB: the one whose range holds RCX
	emitMapPointerChecks(b, none)
	b.Cmp(S64, RCX, M(R8, OffFragBegin))
	b.Jcc(CondB, next)
	b.Cmp(S64, RCX, M(R8, OffFragEnd))
	b.Jcc(CondAE, next)
	b.Mov(S64, RAX, M(R8, OffFragRangeSection))
	b.Cmp(S64, M(RAX, OffRSNextForDelete), Imm(0)) // being deleted: not in range
	b.Jcc(CondE, found)
	b.Bind(next)
	b.Mov(S64, R8, M(R8, OffFragNext))
	b.Jmp(loop)
	b.Bind(found)
}

// emitMapPointerChecks: a collectible pointer (low bit set) needs the
// reader lock this lock-free lookup does not hold (none is collectible
// here); a null one means no code.
func emitMapPointerChecks(b *Builder, none *Label) {
	b.Test(S8, R8, Imm(MapCollectibleBit))
	b.Jcc(CondNE, none)
	b.Test(S64, R8, R8)
	b.Jcc(CondE, none)
}

// emitFindMethodCode is EECodeGenManager::FindMethodCode inline: RAX = the
// range section, RCX = address → RAX = start of the method's code, via the
// heap's nibble map; to none when the map knows no method there. Clobbers
// RCX, RDX, R8-R11; R9 is left holding the map base.
func emitFindMethodCode(b *Builder, none *Label) {
	L := func(n string) *Label { return b.NewLabel("nibble." + n) }
	earlier, scan, found, prevDword, pointer, atNibble, done := L("earlier"), L("scan"), L("found"), L("prev_dword"), L("pointer"), L("at_nibble"), L("done")
	b.Mov(S64, R8, M(RAX, OffRSHeapList))
	b.Cmp(S64, RCX, M(R8, OffHLStart))
	b.Jcc(CondB, none)
	b.Cmp(S64, RCX, M(R8, OffHLEnd))
	b.Jcc(CondA, none)
	b.Mov(S64, R9, M(R8, OffHLMapBase))
	b.Mov(S64, R10, M(R8, OffHLHdrMap))
	b.Sub(S64, RCX, R9) // delta
	b.Mov(S64, R11, RCX)
	b.Shr(S64, R11, 5) // startPos = ADDR2POS(delta)
	b.Mov(S32, RDX, RCX)
	b.And(S32, RDX, Imm(NibbleBytesPerBucket-1))
	b.Shr(S32, RDX, 2)
	b.Inc(S32, RDX) // offset = ADDR2OFFS(delta)
	b.Mov(S64, RAX, R11)
	b.Shr(S64, RAX, 3)
	b.Lea(R10, MIdx(R10, RAX, 4, 0)) // the DWORD of the address
	b.Mov(S32, RAX, M(R10, 0))
	emitNibblePointerCheck(b, pointer) // #2: a pointer, the method covers it
	b.Mov(S32, RCX, R11)               // #3: its nibble, if at or before the address
	b.And(S32, RCX, Imm(NibblesPerDword-1))
	b.Shl(S32, RCX, 2)
	b.Neg(S32, RCX)
	b.Add(S32, RCX, Imm(nibbleHighestBit)) // POS2SHIFTCOUNT(startPos)
	b.ShrCL(S32, RAX)
	b.Mov(S32, R8, RAX)
	b.And(S32, R8, Imm(nibbleMask))
	b.Jcc(CondE, earlier)
	b.Cmp(S32, R8, RDX)
	b.Jcc(CondBE, atNibble)
	b.Bind(earlier) // #4: an earlier nibble of this DWORD
	b.Shr(S32, RAX, 4)
	b.Jcc(CondE, prevDword)
	b.Dec(S64, R11)
	b.Bind(scan)
	b.Test(S8, RAX, Imm(nibbleMask))
	b.Jcc(CondNE, found)
	b.Shr(S32, RAX, 4)
	b.Dec(S64, R11)
	b.Jmp(scan)
	b.Bind(prevDword) // #5: the DWORD before, unless this is the first
	b.Cmp(S64, R11, Imm(NibblesPerDword))
	b.Jcc(CondB, none)
	b.And(S64, R11, Imm(-NibblesPerDword))
	b.Dec(S64, R11)
	b.Mov(S32, RAX, M(R10, -4))
	b.Test(S32, RAX, RAX)
	b.Jcc(CondE, none)
	emitNibblePointerCheck(b, pointer)
	b.Jmp(scan)
	b.Bind(pointer) // base + DecodePointer(dword)
	b.Mov(S32, R8, RAX)
	b.And(S32, R8, Imm(nibbleMask))
	b.Sub(S32, R8, Imm(9))
	b.Shl(S32, R8, 2)
	b.And(S32, RAX, Imm(^nibbleMask))
	b.Add(S32, RAX, R8)
	b.Add(S64, RAX, R9)
	b.Jmp(done)
	b.Bind(found)
	b.Mov(S32, R8, RAX)
	b.And(S32, R8, Imm(nibbleMask))
	b.Bind(atNibble) // base + POSOFF2ADDR(startPos, nibble)
	b.Shl(S64, R11, 5)
	b.Lea(RAX, MIdx(R9, R11, 1, 0))
	b.Lea(RAX, MIdx(RAX, R8, 4, -NibbleCodeAlign))
	b.Bind(done)
}

// emitNibblePointerCheck jumps to pointer when EAX is a pointer DWORD (its
// low nibble above 8). Clobbers R8.
func emitNibblePointerCheck(b *Builder, pointer *Label) {
	b.Mov(S32, R8, RAX)
	b.And(S32, R8, Imm(nibbleMask))
	b.Cmp(S32, R8, Imm(8))
	b.Jcc(CondA, pointer)
}

// code_info(ip, eci) → nonzero if ip is in a JIT-compiled method: EECodeInfo::
// Init, i.e. ExecutionManager::FindCodeRange and JitCodeToMethodInfo. Fills
// the EECodeInfo: address, method token (range section, code header),
// MethodDesc, offset in the method and unwind entry. Clobbers RAX, RCX,
// RDX, R8-R11.
func emitCodeInfo(b *Builder) {
	fail, funclets := b.NewLabel("code_info.fail"), b.NewLabel("code_info.funclets")
	helperFunc(b, SymCodeInfo, StepCodeLookup)
	b.PushNonvol(RBX)
	b.EndProlog()
	b.Mov(S64, RBX, RDX)
	b.Mov(S64, M(RBX, OffECICodeAddress), RCX)
	emitFindRangeSection(b, fail)
	b.Test(S32, M(RAX, OffRSFlags), Imm(RangeSectionCodeHeap))
	b.Jcc(CondE, fail) // a range list of stubs: no method
	b.Mov(S64, M(RBX, OffECIRangeSection), RAX)
	emitFindMethodCode(b, fail)
	b.Mov(S64, R8, M(RAX, -CodeHeaderSize)) // the CodeHeader: a RealCodeHeader or a stub kind
	b.Cmp(S64, R8, Imm(StubCodeBlockLast))
	b.Jcc(CondBE, fail)
	b.Lea(RDX, M(RAX, -CodeHeaderSize))
	b.Mov(S64, M(RBX, OffECICodeHeader), RDX)
	b.Mov(S64, RDX, M(RBX, OffECICodeAddress))
	b.Sub(S32, RDX, RAX)
	b.Mov(S32, M(RBX, OffECIRelOffset), RDX)
	b.Cmp(S32, M(R8, OffRCHUnwindCount), Imm(1))
	b.Jcc(CondNE, funclets)
	b.Lea(RDX, M(R8, OffRCHUnwindInfos))
	b.Mov(S64, M(RBX, OffECIFunctionEntry), RDX)
	b.Mov(S64, RDX, M(R8, OffRCHMethodDesc))
	b.Mov(S64, M(RBX, OffECIMethodDesc), RDX)
	b.Mov(S32, RAX, Imm(1))
	b.Pop(RBX)
	b.Ret()
	b.Bind(fail)
	b.Xor(S32, RAX, RAX)
	b.Pop(RBX)
	b.Ret()
	b.Bind(funclets)
	b.Ud2() // the entry of a funclet is found lazily; no method here has funclets
	b.EndFunc()
}

// is_managed_code(ip) → nonzero for JIT-compiled code: ExecutionManager::
// IsManagedCode (IsManagedCodeWorker; the thread is in cooperative mode,
// so no reader lock). Clobbers RAX, RCX, RDX, R8-R11.
func emitIsManagedCode(b *Builder) {
	no := b.NewLabel("is_managed.no")
	helperFunc(b, SymIsManagedCode, StepCodeLookup)
	b.EndProlog()
	b.Test(S64, RCX, RCX)
	b.Jcc(CondE, no)
	emitFindRangeSection(b, no)
	b.Test(S32, M(RAX, OffRSFlags), Imm(RangeSectionCodeHeap))
	b.Jcc(CondE, no)
	emitFindMethodCode(b, no)
	b.Cmp(S64, M(RAX, -CodeHeaderSize), Imm(StubCodeBlockLast)) // a stub is not managed code
	b.Jcc(CondBE, no)
	b.Mov(S32, RAX, Imm(1))
	b.Ret()
	b.Bind(no)
	b.Xor(S32, RAX, RAX)
	b.Ret()
	b.EndFunc()
}

// lookup_function_entry(ip, &image_base) → RUNTIME_FUNCTION or 0:
// RtlLookupFunctionEntry. Finds the module around ip, then its function
// entry by binary search of the module's table (sorted by begin RVA).
// Clobbers RAX, RDX, R8-R11.
func emitLookupFunctionEntry(b *Builder) {
	loop, left, right, none := b.NewLabel("pdata.loop"), b.NewLabel("pdata.left"), b.NewLabel("pdata.right"), b.NewLabel("pdata.none")
	helperFunc(b, SymLookupFunctionEntry, StepNativeLookup)
	b.EndProlog()
	b.Lea(R8, RIPSym(SymNativeModule))
	b.Mov(S64, RAX, RCX)
	b.Sub(S64, RAX, M(R8, OffModBase))
	b.Cmp(S64, RAX, M(R8, OffModSize))
	b.Jcc(CondAE, none) // not in the module: no entry
	b.Mov(S64, R9, M(R8, OffModBase))
	b.Mov(S64, M(RDX, 0), R9)
	b.Mov(S64, R10, M(R8, OffModFunctions))
	b.Xor(S32, R9, R9)                  // low
	b.Mov(S32, R11, M(R8, OffModCount)) // high = count - 1
	b.Dec(S32, R11)
	b.Bind(loop)
	b.Cmp(S32, R9, R11)
	b.Jcc(CondG, none)
	b.Lea(RDX, MIdx(R9, R11, 1, 0))
	b.Shr(S32, RDX, 1) // middle
	b.Lea(R8, MIdx(RDX, RDX, 2, 0))
	b.Lea(R8, MIdx(R10, R8, 4, 0)) // &table[middle]: 12-byte entries
	b.Cmp(S32, RAX, M(R8, OffRFBegin))
	b.Jcc(CondB, left)
	b.Cmp(S32, RAX, M(R8, OffRFEnd))
	b.Jcc(CondAE, right)
	b.Mov(S64, RAX, R8)
	b.Ret()
	b.Bind(left)
	b.Lea(R11, M(RDX, -1))
	b.Jmp(loop)
	b.Bind(right)
	b.Lea(R9, M(RDX, 1))
	b.Jmp(loop)
	b.Bind(none)
	b.Xor(S32, RAX, RAX)
	b.Ret()
	b.EndFunc()
}
