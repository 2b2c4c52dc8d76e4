// Package continuation models runtime-async continuations on x64: the object
// layout, the suspension and resumption sequences the JIT emits, and the
// async runtime in generated code, as one of two models (Model): CoreCLR's
// common resume path (allocation context, write barriers, ExecutionContext,
// virtual stub dispatch, DispatchContinuations), or a thin one.
package continuation

// Object layout on x64, after CoreCLR's Continuation class: a method-table
// pointer, then Next, ResumeInfo, Flags and State, then JIT-laid-out data.
// data[0] is the OSR slot for methods with patchpoints (and OSR methods):
// before dotnet/runtime#123757 a 4-byte IL offset (-1 = tier0), after it an
// 8-byte OSR entry address (0 = tier0). In the CoreCLR model data[1] holds
// the captured ExecutionContext (restored from [cont+0x28] in the #127074
// listing). Live locals follow in 8-byte slots (Model.OffLocals).
const (
	OffMethodTable = 0x00
	OffNext        = 0x08
	OffResumeInfo  = 0x10
	OffFlags       = 0x18
	OffState       = 0x1C
	OffData        = 0x20 // OFFSETOF__CORINFO_Continuation__data
	OffOSRSlot     = OffData
	OffExecContext = OffData + 8
	LocalSlot      = 8
)

// OffLocals is where m's continuations keep live locals.
func (m Model) OffLocals() int32 {
	if m == CoreCLR {
		return OffExecContext + 8
	}
	return OffData + 8
}

// FlagHasOsrSlot marks data[0] as the OSR slot (CoreCLR's HasOsrILOffset).
const FlagHasOsrSlot = 1

// Header mirrors the object header so tests can check the offsets above
// against the Go compiler's layout.
type Header struct {
	MethodTable uint64
	Next        uint64
	ResumeInfo  uint64
	Flags       uint32
	State       uint32
	OSRSlot     uint64
	ExecContext uint64 // CoreCLR model
}

// ObjectSize is the allocation size of one of m's continuations with n
// live locals: for CoreCLR its MethodTable's base size (the object header
// included, a multiple of 8), for the minimal model rounded to its
// allocator's 16-byte granule.
func (m Model) ObjectSize(nLocals int) int {
	size := int(m.OffLocals()) + nLocals*LocalSlot
	if m == CoreCLR {
		return ObjHeaderSize + size
	}
	return (size + 15) &^ 15
}

// ObjHeaderSize is a CoreCLR object's header (sync block index), just
// before its MethodTable pointer; an object's base size counts it.
const ObjHeaderSize = 8

// ResumeInfo layout: the resume function, then a diagnostic IP
// (EmitResumeInfo).
const OffResumeFn = 0x00

// Awaiter object: a method table whose first slot is OnCompleted, and the
// continuation it holds until Continue() runs it.
const (
	OffAwaiterMT   = 0x00
	OffAwaiterCont = 0x08
	// Slot of UnsafeOnCompleted(awaiter, continuation) in the awaiter's
	// method table (minimal model).
	OffMTOnCompleted = 0x00
)
