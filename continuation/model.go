package continuation

import (
	"fmt"

	"github.com/osrsim/osrsim/internal/enum"
	"github.com/osrsim/osrsim/region"
)

// Model is the async runtime that resumptions and suspensions run through.
type Model uint8

const (
	// CoreCLR runs what every resumption runs in CoreCLR besides the OSR
	// mechanism (CoreLib's AsyncHelpers of early 2026, the runtime's
	// allocation and write barrier helpers, virtual stub dispatch): the
	// continuation allocated from the thread's allocation context and
	// filled through write barriers, the ExecutionContext captured and
	// restored through calls, UnsafeOnCompleted through a resolve stub,
	// DispatchContinuations' bookkeeping.
	CoreCLR Model = iota
	// Minimal is the thin runtime of osrsim's first figures: a free list,
	// plain stores, a dispatcher loop and a call through the awaiter's
	// method table.
	Minimal
)

// Models lists every model, the default first.
var Models = []Model{CoreCLR, Minimal}

func (m Model) String() string {
	switch m {
	case CoreCLR:
		return "coreclr"
	case Minimal:
		return "minimal"
	}
	return fmt.Sprintf("Model(%d)", uint8(m))
}

// ParseModel accepts a model name as printed by String.
func ParseModel(name string) (Model, error) { return enum.Parse(Models, "runtime model", name) }

// Settings are the runtime's knobs.
type Settings struct {
	Model Model
	// AllocQuantum is the size of the allocation context the GC hands a
	// thread when its current one is used up (CoreCLR model).
	AllocQuantum int
}

// DefaultAllocQuantum is the GC's allocation quantum: CLR_SIZE, "the max
// amount of bytes from gen0 that is set to 0 in one chunk" (gcpriv.h,
// 8 KiB + 32).
const DefaultAllocQuantum = 8*1024 + 32

// Defaults are the CoreCLR model with the GC's allocation quantum.
func Defaults() Settings { return Settings{Model: CoreCLR, AllocQuantum: DefaultAllocQuantum} }

// Steps of the runtime: the keys of instructions.by_step for runtime code.
const (
	StepDriver            = "driver"
	StepAwaiter           = "awaiter"
	StepDispatch          = "dispatch"
	StepResumeStub        = "resume_stub"
	StepAwaitAwaiter      = "await_awaiter"
	StepAlloc             = "alloc"
	StepAllocRefill       = "alloc_refill"
	StepWriteBarrier      = "write_barrier"
	StepExecContext       = "exec_context"
	StepInterfaceDispatch = "interface_dispatch"
)

// allSteps are the runtime's steps in the order a resumption meets them;
// each model declares the ones it runs (Model.steps).
var allSteps = []region.Step{
	{Region: region.Runtime, Name: StepDriver, Doc: "the driver's loop (Main: while (!t.IsCompleted) na.Continue())"},
	{Region: region.Runtime, Name: StepAwaiter, Doc: "the awaiter's own methods (NullAwaiter.Continue, UnsafeOnCompleted)"},
	{Region: region.Runtime, Name: StepDispatch, Doc: "DispatchContinuations and HandleSuspended: contexts, dispatcher info, flags checks, Next linking, the loop"},
	{Region: region.Runtime, Name: StepResumeStub, Doc: "the method's resume stub (ResumeInfo.Resume)"},
	{Region: region.Runtime, Name: StepExecContext, Doc: "ExecutionContext captured at suspension and restored at resumption"},
	{Region: region.Runtime, Name: StepAwaitAwaiter, Doc: "AsyncHelpers.UnsafeAwaitAwaiter: the notifier and contexts into the await state"},
	{Region: region.Runtime, Name: StepAlloc, Doc: "continuation allocation (the thread's allocation context)"},
	{Region: region.Runtime, Name: StepAllocRefill, Doc: "allocation slow path: a new allocation quantum, cleared"},
	{Region: region.Runtime, Name: StepWriteBarrier, Doc: "write barriers: generation checks, card table and card bundle marking"},
	{Region: region.Runtime, Name: StepInterfaceDispatch, Doc: "UnsafeOnCompleted through virtual stub dispatch (resolve stub: hash, cache probe, jump)"},
}

// steps are the steps model m's code runs.
func (m Model) steps() []region.Step {
	if m == CoreCLR {
		return allSteps
	}
	var out []region.Step
	for _, s := range allSteps {
		switch s.Name {
		case StepDriver, StepAwaiter, StepDispatch, StepResumeStub, StepAlloc:
			out = append(out, s)
		}
	}
	return out
}
