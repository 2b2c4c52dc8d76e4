package patchpoint

import (
	. "github.com/osrsim/osrsim/emitter"
)

// The native thread state the worker touches: the OS's per-thread block
// (the TEB on Windows, the TCB and errno under glibc), CoreCLR's Thread
// object and its Frame chain, and the globals it checks. Generated code
// cannot use the host's segment registers (gs is Windows' TEB, fs is the
// host process's own TCB), so the segment-relative loads read data words
// standing for them: one instruction for one, as gs:[30h] and fs:[0] are.

// TEB (Windows): the fields the helper reads.
const (
	OffTEBSelf      = 0x30 // NT_TIB.Self: what gs:[30h] reads
	OffTEBTLS       = 0x58 // ThreadLocalStoragePointer: gs:[58h]
	OffTEBLastError = 0x68 // LastErrorValue
	TEBSize         = 0x70
)

// TCB (glibc, x86-64): fs:[0] is the TCB's own address, fs:[8] the
// dynamic thread vector (DTV) that __tls_get_addr indexes.
const (
	OffTCBSelf = 0x00
	OffTCBDTV  = 0x08
	// threadID is the thread's tid in its struct pthread (offTCBTid).
	threadID = 4242
	// The DTV: a generation count, then a TLS block pointer per module
	// (16-byte entries, dtv_t); coreclr's module id.
	OffDTVGeneration = 0x00
	dtvEntrySize     = 0x10
	coreclrModuleID  = 1
	DTVSize          = dtvEntrySize * (coreclrModuleID + 1)
	// tls_index (the GOT entry __tls_get_addr takes): module, offset.
	OffTLSIndexModule = 0x00
	OffTLSIndexOffset = 0x08
	TLSIndexSize      = 0x10
)

// coreclr's thread-local block (its TLS block on both platforms): errno
// lives in libc's, the rest in coreclr's; one block stands for both.
const (
	OffTLSErrno      = 0x00 // int errno (glibc's __errno_location points here)
	OffTLSThreadInfo = 0x08 // t_CurrentThreadInfo.m_pThread
	TLSBlockSize     = 0x10
	// coreclrTLSIndex is coreclr's _tls_index (Windows: the slot of its
	// block in ThreadLocalStoragePointer).
	coreclrTLSIndex = 3
)

// CoreCLR's Thread: the fields the worker touches, in the order Thread
// declares them (threads.h); the offsets are osrsim's.
const (
	OffThreadState          = 0x00 // m_State (ThreadState bits)
	OffThreadPreemptiveOff  = 0x04 // m_fPreemptiveGCDisabled
	OffThreadFrame          = 0x08 // m_pFrame: the top of the Frame chain
	OffThreadHijackRetPtr   = 0x10 // m_ppvHJRetAddrPtr
	OffThreadHijackRetValue = 0x18 // m_pvHJRetAddr
	ThreadSize              = 0x20
	// TSHijacked is TS_Hijacked: a return address of this thread was
	// hijacked for a GC suspension.
	TSHijacked = 0x00000080
	// frameChainTop is FRAME_TOP, the end of the chain.
	frameChainTop = ^uint64(0)
)

// DynamicHelperFrame (frames.h): the Frame the worker pushes over the
// stub's TransitionBlock.
const (
	OffFrameIdentifier      = 0x00 // FrameIdentifier (the frames no longer have vtables)
	OffFrameNext            = 0x08 // m_Next
	OffFrameTransitionBlock = 0x10 // m_pTransitionBlock
	OffFrameFlags           = 0x18 // m_dynamicHelperFrameFlags
	FrameSize               = 0x20
	// frameIDDynamicHelper stands for FrameIdentifier::DynamicHelperFrame.
	frameIDDynamicHelper = 0x12
)

// Thread mirrors the Thread fields.
type Thread struct {
	State, PreemptiveOff                uint32
	Frame, HijackRetPtr, HijackRetValue uint64
}

// DynamicHelperFrame mirrors the frame.
type DynamicHelperFrame struct {
	Identifier, Next, TransitionBlock uint64
	Flags                             uint32
	_                                 uint32
}

// Symbols of the thread state.
const (
	SymTEB            = "patchpoint.teb" // Windows: the TEB (gs:)
	SymTLSArray       = "patchpoint.tls_array"
	SymTLSBlock       = "patchpoint.tls_block"
	SymTCB            = "patchpoint.tcb" // Linux: the TCB (fs:)
	SymDTV            = "patchpoint.dtv"
	SymTLSIndex       = "patchpoint.tls_index" // coreclr's tls_index for __tls_get_addr
	SymErrnoTPOff     = "patchpoint.errno_tpoff"
	SymThread         = "patchpoint.thread"                 // CoreCLR's Thread
	SymTrapReturning  = "patchpoint.trap_returning_threads" // g_TrapReturningThreads
	SymWBCopyStart    = "patchpoint.write_barrier_copy"     // the write barrier's W^X copy: start
	SymWBCopyEnd      = "patchpoint.write_barrier_copy.end" // and end
	SymGetLastError   = "patchpoint.get_last_error"         // kernelbase!GetLastError / the PAL's
	SymSetLastError   = "patchpoint.set_last_error"         // kernelbase!SetLastError / the PAL's
	SymErrnoLocation  = "libc.errno_location"               // glibc's __errno_location
	SymTLSGetAddr     = "libc.tls_get_addr"                 // glibc's __tls_get_addr
	SymUnhijackThread = "patchpoint.unhijack_thread"        // Thread::UnhijackThread
)

// emitLoadTEB loads the TEB's address as `mov r, gs:[30h]` does.
func emitLoadTEB(b *Builder, dst Reg) {
	b.Mov(S64, dst, RIPSym(SymTEB).Off(OffTEBSelf))
}

// emitStoreLastError is RtlSetLastWin32Error inline: the TEB's
// LastErrorValue = src. Clobbers scratch.
func emitStoreLastError(b *Builder, src, scratch Reg) {
	emitLoadTEB(b, scratch)
	b.Mov(S32, M(scratch, OffTEBLastError), src)
}

// emitThreadFuncs emits the functions of the thread state: the last
// error's (Windows: kernelbase's GetLastError and SetLastError; Linux:
// the PAL's, which read and write errno, and glibc's __errno_location and
// __tls_get_addr) and Thread::UnhijackThread.
func (g Generator) emitThreadFuncs(b *Builder) {
	if g.Settings.Platform == WindowsX64 {
		helperFunc(b, SymGetLastError, StepLastError)
		b.EndProlog()
		emitLoadTEB(b, RAX)
		b.Mov(S32, RAX, M(RAX, OffTEBLastError))
		b.Ret()
		b.EndFunc()
		helperFunc(b, SymSetLastError, StepLastError) // ECX = the error
		b.EndProlog()
		emitStoreLastError(b, RCX, RAX)
		b.Ret()
		b.EndFunc()
	} else {
		// GetLastError() { return errno; } and SetLastError(e) { errno = e; }
		helperFunc(b, SymGetLastError, StepLastError)
		b.AllocStack(8)
		b.EndProlog()
		b.Call(Sym(SymErrnoLocation))
		b.Mov(S32, RAX, M(RAX, 0))
		b.Add(S64, RSP, Imm(8))
		b.Ret()
		b.EndFunc()
		helperFunc(b, SymSetLastError, StepLastError) // EDI = the error
		b.PushNonvol(RBX)
		b.EndProlog()
		b.Mov(S32, RBX, RDI)
		b.Call(Sym(SymErrnoLocation))
		b.Mov(S32, M(RAX, 0), RBX)
		b.Pop(RBX)
		b.Ret()
		b.EndFunc()
		// __errno_location: the initial-exec TLS offset of errno plus fs:[0].
		helperFunc(b, SymErrnoLocation, StepLastError)
		b.EndProlog()
		b.Mov(S64, RAX, RIPSym(SymErrnoTPOff))
		b.Add(S64, RAX, RIPSym(SymTCB).Off(OffTCBSelf))
		b.Ret()
		b.EndFunc()
		// __tls_get_addr(tls_index*): the DTV's entry of the module, if
		// the DTV is current (else the slow path: not modelled), plus the
		// offset.
		slow := b.NewLabel("tls_get_addr.slow")
		helperFunc(b, SymTLSGetAddr, StepThread)
		b.EndProlog()
		b.Mov(S64, RDX, RIPSym(SymTCB).Off(OffTCBDTV))
		b.Mov(S64, RAX, M(RDI, OffTLSIndexModule))
		b.Shl(S64, RAX, 4)
		b.Mov(S64, RAX, MIdx(RDX, RAX, 1, 0))
		b.Cmp(S64, RAX, Imm(-1)) // TLS_DTV_UNALLOCATED
		b.Jcc(CondE, slow)
		b.Add(S64, RAX, M(RDI, OffTLSIndexOffset))
		b.Ret()
		b.Bind(slow)
		b.Ud2()
		b.EndFunc()
	}

	// Thread::UnhijackThread (threadsuspend.cpp): if a return address of
	// this thread was hijacked, put it back and clear TS_Hijacked.
	// RCX = the Thread. Clobbers RAX, RDX.
	hijacked := b.NewLabel("unhijack.hijacked")
	helperFunc(b, SymUnhijackThread, StepThread)
	b.EndProlog()
	b.Test(S32, M(RCX, OffThreadState), Imm(TSHijacked))
	b.Jcc(CondNE, hijacked)
	b.Ret()
	b.Bind(hijacked)
	b.Mov(S64, RAX, M(RCX, OffThreadHijackRetPtr))
	b.Mov(S64, RDX, M(RCX, OffThreadHijackRetValue))
	b.Mov(S64, M(RAX, 0), RDX)
	b.And(S32, M(RCX, OffThreadState), Imm(^TSHijacked)) // an interlocked and in CoreCLR
	b.Ret()
	b.EndFunc()
}

// emitGetThread is GetThread() inline, t_CurrentThreadInfo.m_pThread:
// Windows' TLS (gs:[58h], coreclr's _tls_index); under glibc the
// general-dynamic access coreclr is built with (__tls_get_addr; its
// argument in RDI). Clobbers RAX, RCX, RDX, RDI.
func (g Generator) emitGetThread(b *Builder, dst Reg) {
	if g.Settings.Platform == WindowsX64 {
		b.Mov(S64, RAX, RIPSym(SymTEB).Off(OffTEBTLS))
		b.Mov(S64, RAX, M(RAX, 8*coreclrTLSIndex))
		b.Mov(S64, dst, M(RAX, OffTLSThreadInfo))
		return
	}
	b.Lea(RDI, RIPSym(SymTLSIndex))
	b.Call(Sym(SymTLSGetAddr))
	b.Mov(S64, dst, M(RAX, OffTLSThreadInfo))
}

// emitThreadData lays out the thread state: the OS's block for the
// platform, coreclr's TLS block, the Thread (cooperative mode, no hijack,
// an empty Frame chain), the globals the worker checks.
func (g Generator) emitThreadData(d *Builder) {
	d.Align(64, 0)
	if g.Settings.Platform == WindowsX64 {
		d.DefineSymbol(SymTEB)
		d.Space(OffTEBSelf)
		d.U64Sym(SymTEB, 0)
		d.Space(OffTEBTLS - OffTEBSelf - 8)
		d.U64Sym(SymTLSArray, 0)
		d.Space(TEBSize - OffTEBTLS - 8) // LastErrorValue 0
		d.EndSymbol(SymTEB)
		d.DefineSymbol(SymTLSArray)
		for i := 0; i <= coreclrTLSIndex; i++ {
			if i == coreclrTLSIndex {
				d.U64Sym(SymTLSBlock, 0)
			} else {
				d.U64(0)
			}
		}
		d.EndSymbol(SymTLSArray)
	} else {
		d.DefineSymbol(SymTCB)
		d.U64Sym(SymTCB, 0)
		d.U64Sym(SymDTV, 0)
		d.Space(offTCBTid - OffTCBDTV - 8)
		d.U32(threadID)
		d.U32(0)
		d.EndSymbol(SymTCB)
		d.DefineSymbol(SymDTV)
		d.U64(1) // generation
		d.U64(0)
		d.U64Sym(SymTLSBlock, 0)
		d.U64(0)
		d.EndSymbol(SymDTV)
		d.DefineSymbol(SymTLSIndex)
		d.U64(coreclrModuleID)
		d.U64(0)
		d.EndSymbol(SymTLSIndex)
		// errno's offset from fs:[0] (negative in real processes: the TLS
		// blocks lie below the TCB; here the block is elsewhere).
		d.DefineSymbol(SymErrnoTPOff)
		d.U32RVA(SymTLSBlock, OffTLSErrno, SymTCB)
		d.U32(0)
		d.EndSymbol(SymErrnoTPOff)
	}
	d.Align(16, 0)
	d.DefineSymbol(SymTLSBlock)
	d.U64(0) // errno
	d.U64Sym(SymThread, 0)
	d.EndSymbol(SymTLSBlock)
	d.DefineSymbol(SymThread)
	d.U32(0)
	d.U32(1) // cooperative mode: managed code called the helper
	d.U64(frameChainTop)
	d.U64(0)
	d.U64(0)
	d.EndSymbol(SymThread)
	d.DefineSymbol(SymTrapReturning)
	d.U32(0)
	d.U32(0)
	d.EndSymbol(SymTrapReturning)
	d.DefineSymbol(SymShadowStacks)
	d.U32(0) // shadow stacks are off
	d.U32(0)
	d.EndSymbol(SymShadowStacks)
	// The write barrier's executable copy (W^X): an empty range here.
	d.DefineSymbol(SymWBCopyStart)
	d.U64(0)
	d.EndSymbol(SymWBCopyStart)
	d.DefineSymbol(SymWBCopyEnd)
	d.U64(0)
	d.EndSymbol(SymWBCopyEnd)
}
