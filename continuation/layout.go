// Package continuation models runtime-async continuations on x64: the object
// layout, the suspension and resumption sequences the JIT emits, and a small
// async runtime (allocator, awaiter, dispatcher, resume stubs) in generated
// code.
package continuation

// Object layout on x64, after CoreCLR's Continuation class: a method-table
// pointer, then Next, ResumeInfo, Flags and State, then JIT-laid-out data.
// data[0] is the OSR slot for methods with patchpoints (and OSR methods):
// before dotnet/runtime#123757 a 4-byte IL offset (-1 = tier0), after it an
// 8-byte OSR entry address (0 = tier0). Live locals follow in 8-byte slots.
const (
	OffMethodTable = 0x00
	OffNext        = 0x08
	OffResumeInfo  = 0x10
	OffFlags       = 0x18
	OffState       = 0x1C
	OffData        = 0x20 // OFFSETOF__CORINFO_Continuation__data
	OffOSRSlot     = OffData
	OffLocals      = OffData + 8
	LocalSlot      = 8
)

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
}

// ObjectSize is the allocation size of a continuation with n live locals, rounded
// to the allocator's 16-byte granule.
func ObjectSize(nLocals int) int {
	return (OffLocals + nLocals*LocalSlot + 15) &^ 15
}

// ResumeInfo layout: the resume function, then a diagnostic IP
// (EmitResumeInfo).
const OffResumeFn = 0x00

// Awaiter object: a method table whose first slot is OnCompleted, and the
// continuation it holds until Continue() runs it.
const (
	OffAwaiterMT   = 0x00
	OffAwaiterCont = 0x08
	// Slot of UnsafeOnCompleted(awaiter, continuation) in the awaiter's
	// method table.
	OffMTOnCompleted = 0x00
)
