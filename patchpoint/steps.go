package patchpoint

import (
	. "github.com/osrsim/osrsim/emitter"
	"github.com/osrsim/osrsim/region"
)

// Steps of the patchpoint helper: the keys of instructions.by_step. Every
// helper function and every named sub-range of the worker carries one; the
// worker's own step counts what its sub-ranges leave.
const (
	StepStub         = "stub"
	StepLastError    = "last_error"
	StepThread       = "thread"
	StepCounter      = "counter"
	StepCodeLookup   = "code_lookup"
	StepPPLookup     = "pp_lookup"
	StepTrigger      = "trigger"
	StepHelperFrame  = "helper_frame"
	StepGCMode       = "gc_mode"
	StepContextInit  = "context_init"
	StepCapture      = "capture"
	StepNativeLookup = "native_lookup"
	StepPALUnwind    = "pal_unwind"
	StepUnwCursor    = "unw_cursor"
	StepUnwStep      = "unw_step"
	StepDWARFFDE     = "dwarf_fde"
	StepDWARFCFA     = "dwarf_cfa"
	StepUnwind       = "unwind"
	StepOSRContext   = "osr_context"
	StepRestore      = "restore"
	StepWorker       = "worker"
)

// allSteps are every platform's steps in the order a transition runs them,
// which is the order reports list them in.
var allSteps = []region.Step{
	{Region: region.Helper, Name: StepStub, Doc: "stub frame (JIT_Patchpoint's TransitionBlock: callee saves, argument registers)"},
	{Region: region.Helper, Name: StepLastError, Doc: "last error saved and restored (GetLastError/SetLastError; errno under the PAL)"},
	{Region: region.Helper, Name: StepThread, Doc: "GetThread (thread-local storage) and UnhijackThread"},
	{Region: region.Helper, Name: StepCounter, Doc: "counter reset"},
	{Region: region.Helper, Name: StepCodeLookup, Doc: "managed code lookups: range section map and nibble map (EECodeInfo, IsManagedCode, the PAL's virtual stub check)"},
	{Region: region.Helper, Name: StepPPLookup, Doc: "patchpoint-info lookup"},
	{Region: region.Helper, Name: StepTrigger, Doc: "hit counting and publishing OSR code"},
	{Region: region.Helper, Name: StepHelperFrame, Doc: "DynamicHelperFrame pushed and popped (Thread::m_pFrame)"},
	{Region: region.Helper, Name: StepGCMode, Doc: "GC mode switch to preemptive and back (GCX_PREEMP)"},
	{Region: region.Helper, Name: StepContextInit, Doc: "CONTEXT set up: InitializeContext2 twice (size query, then initialisation) on Windows, the flags under the PAL"},
	{Region: region.Helper, Name: StepCapture, Doc: "context capture: RtlCaptureContext (Windows), the PAL's CONTEXT_CaptureContext with fxsave (Linux)"},
	{Region: region.Helper, Name: StepNativeLookup, Doc: "native frames' function entries: binary search of the module's function table (RtlLookupFunctionEntry)"},
	{Region: region.Helper, Name: StepPALUnwind, Doc: "PAL_VirtualUnwind: its checks and the context conversions both ways (CONTEXT to unw_context_t, cursor to CONTEXT)"},
	{Region: region.Helper, Name: StepUnwCursor, Doc: "libunwind's cursor: unw_init_local and register and memory access (unw_get_reg, access_mem)"},
	{Region: region.Helper, Name: StepUnwStep, Doc: "libunwind's unw_step: the register-state cache under its lock, apply_reg_state"},
	{Region: region.Helper, Name: StepDWARFFDE, Doc: "libunwind's FDE lookup: the loaded object's .eh_frame_hdr binary search, FDE and CIE parsing (cache misses)"},
	{Region: region.Helper, Name: StepDWARFCFA, Doc: "libunwind's CFA program interpretation up to the IP (run_cfi_program; cache misses)"},
	{Region: region.Helper, Name: StepUnwind, Doc: "virtual unwind to the tier0 frame and once more (RtlVirtualUnwind with its epilog detection)"},
	{Region: region.Helper, Name: StepOSRContext, Doc: "RSP, RBP and RIP set for the OSR method"},
	{Region: region.Helper, Name: StepRestore, Doc: "context restore (ClrRestoreNonvolatileContextWorker)"},
	{Region: region.Helper, Name: StepWorker, Doc: "the rest of JIT_Patchpoint's body (frame, calls, branches)"},
}

// linuxOnly and windowsOnly are the steps one platform's helper lacks.
var (
	windowsOnly = []string{StepNativeLookup}
	linuxOnly   = []string{StepPALUnwind, StepUnwCursor, StepUnwStep, StepDWARFFDE, StepDWARFCFA}
)

// Steps declares the steps of platform p's helper, in report order.
func Steps(p Platform) []region.Step {
	skip := linuxOnly
	if p == LinuxX64 {
		skip = windowsOnly
	}
	var out []region.Step
	for _, s := range allSteps {
		if !contains(skip, s.Name) {
			out = append(out, s)
		}
	}
	return out
}

func contains(names []string, n string) bool {
	for _, m := range names {
		if m == n {
			return true
		}
	}
	return false
}

// helperFunc begins a helper function that counts for step.
func helperFunc(b *Builder, name, step string) {
	b.Func(name)
	b.SetMeta(region.Meta{Region: region.Helper, Step: step})
}

// beginStep begins a named sub-range of the worker that counts for step.
func beginStep(b *Builder, name, step string) {
	b.BeginRange(name)
	b.SetMeta(region.Meta{Step: step})
}
