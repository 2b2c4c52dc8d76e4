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
	StepCounter      = "counter"
	StepCodeLookup   = "code_lookup"
	StepNativeLookup = "native_lookup"
	StepPPLookup     = "pp_lookup"
	StepTrigger      = "trigger"
	StepCapture      = "capture"
	StepUnwind       = "unwind"
	StepOSRContext   = "osr_context"
	StepRestore      = "restore"
	StepWorker       = "worker"
)

// Steps declares the helper's steps in the order a transition runs them,
// which is the order reports list them in.
var Steps = []region.Step{
	{Region: region.Helper, Name: StepStub, Doc: "stub frame (JIT_Patchpoint's transition block)"},
	{Region: region.Helper, Name: StepCounter, Doc: "counter reset"},
	{Region: region.Helper, Name: StepCodeLookup, Doc: "managed code lookups: range section map and nibble map (EECodeInfo, IsManagedCode)"},
	{Region: region.Helper, Name: StepPPLookup, Doc: "patchpoint-info lookup"},
	{Region: region.Helper, Name: StepTrigger, Doc: "hit counting and publishing OSR code"},
	{Region: region.Helper, Name: StepCapture, Doc: "context capture (RtlCaptureContext)"},
	{Region: region.Helper, Name: StepNativeLookup, Doc: "native frames' function entries: binary search of the module's function table (RtlLookupFunctionEntry)"},
	{Region: region.Helper, Name: StepUnwind, Doc: "virtual unwind to the tier0 frame and once more (RtlVirtualUnwind)"},
	{Region: region.Helper, Name: StepOSRContext, Doc: "RSP, RBP and RIP set for the OSR method"},
	{Region: region.Helper, Name: StepRestore, Doc: "context restore (RtlRestoreContext)"},
	{Region: region.Helper, Name: StepWorker, Doc: "the rest of JIT_Patchpoint's body (frame, calls, branches)"},
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
