package continuation

import (
	. "github.com/osrsim/osrsim/emitter"
)

// The CoreCLR model's memory: thread-local storage, the thread's
// allocation context and its refill, and the write barriers with the GC's
// tables. The data region stands for gen2 (long-lived objects: the task,
// the awaiter, the await state, the sentinel continuation), the heap region
// for gen0, where continuations are allocated.

// Thread-local storage. Generated code cannot use the host's segment
// registers, so the TEB's ThreadLocalStoragePointer (gs:[58h] on Windows)
// is a data slot; from there on the loads are the JIT's inline
// thread-static access: this module's TLS block, its table of thread
// statics, the type's statics.
const (
	TLSIndex           = 3    // coreclr's _tls_index
	OffTLSStaticCount  = 0x00 // thread static blocks allocated
	OffTLSStaticBlocks = 0x08 // their table, by type index
	OffTLSAllocPtr     = 0x10 // the thread's allocation context (gc_alloc_context): alloc_ptr
	OffTLSAllocLimit   = 0x18 // alloc_limit
	OffTLSAllocBytes   = 0x20 // alloc_bytes
	TLSBlockSize       = 0x28
)

// TLSBlock mirrors the TLS block.
type TLSBlock struct {
	StaticCount                               uint32
	_                                         uint32
	StaticBlocks, AllocPtr, AllocLimit, Bytes uint64
}

// Type indices of the thread statics the runtime reads.
const (
	typeAsyncHelpers   = 1 // AsyncHelpers.t_runtimeAsyncAwaitState
	typeDispatcherInfo = 2 // AsyncDispatcherInfo.t_current
	typeThread         = 3 // Thread.t_currentThread
	threadStaticTypes  = 4
)

// GC geometry: 4 MiB regions, a card byte per 2 KiB, a card bundle byte
// per 1024 cards (the shifts of JIT_WriteBarrier_Byte_Region64).
const (
	RegionShift     = 22
	CardShift       = 11
	CardBundleShift = 10
	// CardTableSpan is the part of the data region (gen2) the card table
	// covers; the objects old-to-young stores go into lie in it.
	CardTableSpan = 1 << 20
	gen0, gen2    = 0, 2
	cardDirty     = 0xFF
)

// Symbols of the CoreCLR model's memory.
const (
	SymTEB             = "runtime.teb" // stands for gs:[58h]
	SymTLSArray        = "runtime.tls_array"
	SymTLSBlock        = "runtime.tls_block"
	SymThreadStatics   = "runtime.thread_statics"
	SymAllocRefill     = "runtime.alloc_refill"
	SymWriteBarrier    = "runtime.write_barrier"         // JIT_WriteBarrier
	SymCheckedBarrier  = "runtime.checked_write_barrier" // JIT_CheckedWriteBarrier
	SymRegionGen       = "runtime.gc.region_to_generation"
	SymRegionGenBiased = "runtime.gc.region_to_generation.biased"
	SymLowestAddress   = "runtime.gc.lowest_address"
	SymHighestAddress  = "runtime.gc.highest_address"
	SymEphemeralLow    = "runtime.gc.ephemeral_low"
	SymEphemeralHigh   = "runtime.gc.ephemeral_high"
	SymCardTable       = "runtime.gc.card_table"
	SymCardTableBiased = "runtime.gc.card_table.biased"
	SymCardBundle      = "runtime.gc.card_bundle"
	SymCardBundleBias  = "runtime.gc.card_bundle.biased"
	SymGen0Next        = "runtime.gc.gen0_next"
	SymGen0Start       = "runtime.gc.gen0_start"
	SymGen0End         = "runtime.gc.gen0_end"
)

// emitThreadStatic loads into dst the base of thread statics of type
// typeIndex: the JIT's inline thread-static access. Both checks go to slow
// (the helper that allocates a thread's statics; not modelled: they exist).
func emitThreadStatic(b *Builder, dst Reg, typeIndex int, slow *Label) {
	b.Mov(S64, dst, RIPSym(SymTEB))
	b.Mov(S64, dst, M(dst, 8*TLSIndex))
	b.Cmp(S32, M(dst, OffTLSStaticCount), Imm(typeIndex))
	b.Jcc(CondBE, slow)
	b.Mov(S64, dst, M(dst, OffTLSStaticBlocks))
	b.Mov(S64, dst, M(dst, int32(8*typeIndex)))
	b.Test(S64, dst, dst)
	b.Jcc(CondE, slow)
}

// emitCurrentThread loads Thread.CurrentThreadAssumedInitialized into dst.
func emitCurrentThread(b *Builder, dst Reg, slow *Label) {
	emitThreadStatic(b, dst, typeThread, slow)
	b.Mov(S64, dst, M(dst, 0))
}

// emitAllocContext loads the address of the thread's TLS block, which
// holds its allocation context (INLINE_GETTHREAD).
func emitAllocContext(b *Builder, dst Reg) {
	b.Mov(S64, dst, RIPSym(SymTEB))
	b.Mov(S64, dst, M(dst, 8*TLSIndex))
}

// runtime.alloc(mt) → object: JIT_TrialAllocSFastMP_InlineGetThread. Bumps
// the thread's allocation context by the type's base size and stores the
// MethodTable; memory there was cleared when the context was handed out.
// When the context is used up, the slow path refills it and tries again.
// Clobbers RAX, RDX (RCX is the MethodTable throughout).
func emitAlloc(b *Builder) {
	refill := b.NewLabel("alloc.refill")
	runtimeFunc(b, SymAlloc, StepAlloc)
	b.EndProlog()
	b.Mov(S32, RDX, M(RCX, OffMTBaseSize))
	emitAllocContext(b, RAX)
	b.Add(S64, RDX, M(RAX, OffTLSAllocPtr))
	b.Cmp(S64, RDX, M(RAX, OffTLSAllocLimit))
	b.Jcc(CondA, refill)
	b.Mov(S64, M(RAX, OffTLSAllocPtr), RDX)
	b.Mov(S32, RAX, M(RCX, OffMTBaseSize))
	b.Sub(S64, RDX, RAX) // the object: the old alloc_ptr
	b.Mov(S64, M(RDX, 0), RCX)
	b.Mov(S64, RAX, RDX)
	b.Ret()
	b.Bind(refill)
	b.Jmp(Sym(SymAllocRefill)) // AllocFailed: jmp JIT_NEW
	b.EndFunc()
}

// runtime.alloc_refill(mt): the slow path (JIT_New → GCHeap::Alloc →
// adjust_limit_clr): the next quantum of gen0 becomes the thread's
// allocation context, cleared, then the fast path runs again. When gen0
// is used up a GC would run; it is not modelled (every continuation but
// the newest is dead then): allocation goes on from gen0's start. Clobbers
// RAX, RDX, XMM0.
func (rt Runtime) emitAllocRefill(b *Builder) {
	fits, clear := b.NewLabel("refill.fits"), b.NewLabel("refill.clear")
	q := int64(rt.quantum())
	runtimeFunc(b, SymAllocRefill, StepAllocRefill)
	b.EndProlog()
	emitAllocContext(b, RAX)
	b.Add(S64, M(RAX, OffTLSAllocBytes), Imm(q)) // what the context handed out, roughly
	b.Mov(S64, RDX, RIPSym(SymGen0Next))
	b.Add(S64, RDX, Imm(q))
	b.Cmp(S64, RDX, RIPSym(SymGen0End))
	b.Jcc(CondBE, fits)
	b.Mov(S64, RDX, RIPSym(SymGen0Start))
	b.Add(S64, RDX, Imm(q))
	b.Bind(fits)
	b.Mov(S64, RIPSym(SymGen0Next), RDX)
	b.Mov(S64, M(RAX, OffTLSAllocLimit), RDX)
	b.Sub(S64, RDX, Imm(q))
	b.Mov(S64, M(RAX, OffTLSAllocPtr), RDX)
	b.Pxor(X0, X0) // memclr of the quantum, 32 bytes a step
	b.Bind(clear)
	b.Movdqu(M(RDX, 0), X0)
	b.Movdqu(M(RDX, 16), X0)
	b.Add(S64, RDX, Imm(32))
	b.Cmp(S64, RDX, M(RAX, OffTLSAllocLimit))
	b.Jcc(CondB, clear)
	b.Jmp(Sym(SymAlloc))
	b.EndFunc()
}

// quantum is the allocation quantum rounded up to the clearing loop's step.
func (rt Runtime) quantum() int { return (rt.AllocQuantum + 31) &^ 31 }

// runtime.write_barrier(dst, ref): JIT_WriteBarrier as
// JIT_WriteBarrier_Byte_Region64 (x64, regions): the store, then nothing
// more for a destination in gen0 or a reference outside the ephemeral
// range or not younger than the destination; else the destination's card
// and card bundle are marked, when not already. The patched 64-bit
// constants of the real barrier are RIP-relative loads here, and it keeps
// to RAX, RCX and RDX (the real one also uses R8 and R9).
func emitWriteBarrier(b *Builder) {
	L := func(n string) *Label { return b.NewLabel("barrier." + n) }
	notGen0, notLow, notHigh, oldToYoung := L("not_gen0"), L("not_low"), L("not_high"), L("old_to_young")
	runtimeFunc(b, SymWriteBarrier, StepWriteBarrier)
	b.EndProlog()
	b.Mov(S64, M(RCX, 0), RDX)
	b.Mov(S64, RAX, RCX)
	b.Shr(S64, RAX, RegionShift) // the destination's region
	b.Add(S64, RAX, RIPSym(SymRegionGenBiased))
	b.Cmp(S8, M(RAX, 0), Imm(gen0))
	b.Jcc(CondNE, notGen0)
	b.Ret()
	b.Bind(notGen0)
	b.Cmp(S64, RDX, RIPSym(SymEphemeralLow))
	b.Jcc(CondAE, notLow)
	b.Ret()
	b.Bind(notLow)
	b.Cmp(S64, RDX, RIPSym(SymEphemeralHigh))
	b.Jcc(CondB, notHigh)
	b.Ret()
	b.Bind(notHigh)
	b.Shr(S64, RDX, RegionShift) // the reference's region
	b.Add(S64, RDX, RIPSym(SymRegionGenBiased))
	b.Mov(S8, RDX, M(RDX, 0))
	b.Cmp(S8, RDX, M(RAX, 0))
	b.Jcc(CondB, oldToYoung)
	b.Ret()
	b.Bind(oldToYoung)
	b.Shr(S64, RCX, CardShift) // the card
	b.Mov(S64, RAX, RCX)
	b.Add(S64, RAX, RIPSym(SymCardTableBiased))
	emitMarkOrReturn(b, RAX, L("update_card"))
	b.Shr(S64, RCX, CardBundleShift) // its card bundle
	b.Add(S64, RCX, RIPSym(SymCardBundleBias))
	emitMarkOrReturn(b, RCX, L("update_bundle"))
	b.Ret()
	b.EndFunc()
}

// emitMarkOrReturn returns if the table byte at [entry] is dirty, else
// dirties it and goes on.
func emitMarkOrReturn(b *Builder, entry Reg, update *Label) {
	b.Cmp(S8, M(entry, 0), Imm(cardDirty))
	b.Jcc(CondNE, update)
	b.Ret()
	b.Bind(update)
	b.Mov(S8, M(entry, 0), Imm(cardDirty))
}

// runtime.checked_write_barrier(dst, ref): JIT_CheckedWriteBarrier, for a
// destination that may not be in the GC heap (a thread static's storage):
// outside it, a plain store.
func emitCheckedWriteBarrier(b *Builder) {
	notInHeap := b.NewLabel("checked_barrier.not_in_heap")
	runtimeFunc(b, SymCheckedBarrier, StepWriteBarrier)
	b.EndProlog()
	b.Cmp(S64, RCX, RIPSym(SymLowestAddress))
	b.Jcc(CondB, notInHeap)
	b.Cmp(S64, RCX, RIPSym(SymHighestAddress))
	b.Jcc(CondAE, notInHeap)
	b.Jmp(Sym(SymWriteBarrier))
	b.Bind(notInHeap)
	b.Mov(S64, M(RCX, 0), RDX)
	b.Ret()
	b.EndFunc()
}

// emitGCData lays out the TLS block and the GC's tables: generation by
// region (gen2 for the data region, gen0 for the heap), the heap range
// the checked barrier tests, gen0's bounds, the card table and card
// bundles over CardTableSpan bytes of the data region. The tables are read
// through biased pointers, indexed by address >> shift as the barrier does.
func (rt Runtime) emitGCData(d *Builder) {
	u64 := func(name string, v uint64) {
		d.DefineSymbol(name)
		d.U64(v)
		d.EndSymbol(name)
	}
	sym := func(name, target string, addend int64) {
		d.DefineSymbol(name)
		d.U64Sym(target, addend)
		d.EndSymbol(name)
	}
	d.Align(8, 0)
	sym(SymTEB, SymTLSArray, 0)
	d.DefineSymbol(SymTLSArray)
	for i := range TLSIndex + 1 {
		if i == TLSIndex {
			d.U64Sym(SymTLSBlock, 0)
		} else {
			d.U64(0) // other modules' TLS
		}
	}
	d.EndSymbol(SymTLSArray)
	d.DefineSymbol(SymTLSBlock)
	d.U32(threadStaticTypes)
	d.U32(0)
	d.U64Sym(SymThreadStatics, 0)
	d.Space(TLSBlockSize - OffTLSAllocPtr) // an empty allocation context: the first allocation refills it
	d.EndSymbol(SymTLSBlock)
	d.DefineSymbol(SymThreadStatics)
	for _, s := range []string{"", SymAwaitState, SymDispatcherCurrent, SymCurrentThread} {
		if s == "" {
			d.U64(0)
		} else {
			d.U64Sym(s, 0)
		}
	}
	d.EndSymbol(SymThreadStatics)

	heapEnd := rt.HeapBase + rt.HeapSize
	first, last := rt.DataBase>>RegionShift, (heapEnd-1)>>RegionShift
	d.DefineSymbol(SymRegionGen)
	for r := first; r <= last; r++ {
		if r >= rt.HeapBase>>RegionShift {
			d.U8(gen0)
		} else {
			d.U8(gen2)
		}
	}
	d.EndSymbol(SymRegionGen)
	d.Align(8, 0)
	sym(SymRegionGenBiased, SymRegionGen, -int64(first))
	u64(SymLowestAddress, rt.DataBase)
	u64(SymHighestAddress, heapEnd)
	u64(SymEphemeralLow, rt.HeapBase)
	u64(SymEphemeralHigh, heapEnd)
	sym(SymCardTableBiased, SymCardTable, -int64(rt.DataBase>>CardShift))
	sym(SymCardBundleBias, SymCardBundle, -int64(rt.DataBase>>(CardShift+CardBundleShift)))
	u64(SymGen0Next, rt.HeapBase+HeapStart)
	u64(SymGen0Start, rt.HeapBase+HeapStart)
	u64(SymGen0End, heapEnd)
	d.DefineSymbol(SymCardTable)
	d.Space(CardTableSpan >> CardShift)
	d.EndSymbol(SymCardTable)
	d.DefineSymbol(SymCardBundle)
	d.Space(max(CardTableSpan>>(CardShift+CardBundleShift), 1))
	d.EndSymbol(SymCardBundle)
}
