package patchpoint

// Data layouts the generated helper reads. Go mirror structs let tests check
// the offsets against the Go compiler's layout.

// Per-patchpoint record in the PatchpointInfo hash table, keyed by ⟨tier0
// code start, IL offset⟩ (dotnet/runtime#114381).
const (
	OffPPKeyStart  = 0x00
	OffPPKeyIL     = 0x08
	OffPPHits      = 0x0C
	OffPPTriggered = 0x10
	OffPPOSRCode   = 0x18
	PPEntrySize    = 0x40 // one cache line
	PPSlots        = 64   // power of two
)

// PPEntry mirrors the first fields of a hash table record.
type PPEntry struct {
	KeyStart  uint64
	KeyIL     uint32
	Hits      uint32
	Triggered uint32
	_         uint32
	OSRCode   uint64
}

// JIT table: what "compiling" the OSR method finds, ⟨tier0 start, IL
// offset⟩ → OSR code. Compilation cost is not modelled (it happens once).
const (
	OffJITStart  = 0x00
	OffJITIL     = 0x08
	OffJITCode   = 0x10
	JITEntrySize = 0x18
)

// JITEntry mirrors a JIT table entry.
type JITEntry struct {
	Start uint64
	IL    uint32
	_     uint32
	Code  uint64
}

// Symbols of the helper and its tables.
const (
	SymHelper              = "patchpoint.helper" // CORINFO_HELP_PATCHPOINT
	SymForced              = "patchpoint.forced" // CORINFO_HELP_PATCHPOINT_FORCED
	SymWorker              = "patchpoint.worker"
	SymCodeInfo            = "patchpoint.code_info"             // EECodeInfo::Init
	SymIsManagedCode       = "patchpoint.is_managed_code"       // ExecutionManager::IsManagedCode
	SymLookupFunctionEntry = "patchpoint.lookup_function_entry" // RtlLookupFunctionEntry
	SymPPLookup            = "patchpoint.pp_lookup"
	SymJITCompile          = "patchpoint.jit_compile"
	SymCapture             = "patchpoint.capture_context"
	SymVirtualUnwind       = "patchpoint.virtual_unwind"
	SymRestore             = "patchpoint.restore_context"
	SymPPTable             = "patchpoint.pp_table"
	SymPPLock              = "patchpoint.pp_lock"
	SymJITTable            = "patchpoint.jit_table"
	SymJITTableCount       = "patchpoint.jit_table.count"
)

// Named sub-ranges of the worker, one per step they count for.
const (
	RangeCounter        = "helper.counter"
	RangeTrigger        = "helper.trigger"
	RangeThread         = "helper.thread"
	RangeHelperFrame    = "helper.helper_frame"
	RangeGCMode         = "helper.gc_mode"
	RangeContextInit    = "helper.context_init"
	RangeUnwind         = "helper.unwind"
	RangeOSRContext     = "helper.osr_context"
	RangeHelperFrameEnd = "helper.helper_frame_pop"
)

// UnwindSym names a function's UNWIND_INFO in the data section.
func UnwindSym(fn string) string { return "unwind." + fn }
