// Package native runs an image's machine code directly on the host CPU, for
// wall-clock time of the very bytes the emulator counts. It needs
// linux/amd64 with cgo; elsewhere every entry point returns ErrUnsupported.
//
// Regions are mapped at their fixed addresses (RW, copy, then mprotect to
// the region's permissions; never writable and executable at once). A small
// C shim calls the entry as a SysV function `uint64_t entry(uint64_t)` and
// runs the timing loop itself, so the cgo transition is paid once per
// sample, not per call; an empty stub timed the same way gives the baseline
// that is subtracted.
//
// Precondition (DESIGN principle 5): a fault in generated code kills the
// process, and Go cannot turn it into a panic. Run in-process (Load, Run)
// only an image that completed cleanly under emulation; run anything else
// with RunInChild, which reports a crash as a *CrashError.
package native

import (
	"errors"
	"fmt"
	"time"

	"github.com/osrsim/osrsim/sim"
)

// ErrUnsupported is returned on hosts that cannot run x64 code natively.
var ErrUnsupported = errors.New("native engine needs linux/amd64 with cgo")

// Options control a run.
type Options struct {
	// Warmup samples run and are discarded.
	Warmup int `json:"warmup"`
	// Samples is the number of timed samples (default 1).
	Samples int `json:"samples"`
	// Reps is the number of calls per sample (default 1). The image is
	// Reset only between samples, not between the calls of one sample, so
	// with Reps > 1 the image must be idempotent (each call starting from the
	// state the previous one left) for State to match a single call.
	Reps int `json:"reps"`
	// Timeout bounds a RunInChild child (0: none); the child is killed and
	// a *CrashError with TimedOut is returned. In-process runs ignore it.
	Timeout time.Duration `json:"timeout,omitempty"`
	// PinCPU, if set, pins a RunInChild child to that CPU before it times
	// anything. On a shared machine a process that migrates between CPUs
	// or shares a core with a busy SMT sibling can run ~1.5x slower for its
	// whole life, which shows up as bimodal samples across launches.
	PinCPU *int `json:"pin_cpu,omitempty"`
	// Memory also returns the final bytes of every Compared region
	// (Result.Memory), for differential tests that report where two
	// engines' states differ, not only that they do.
	Memory bool `json:"memory,omitempty"`
	// Done, when closed (e.g. ctx.Done()), kills a RunInChild child, which
	// then returns sim.ErrCanceled. In-process runs ignore it.
	Done <-chan struct{} `json:"-"`
	// Stopwatch: the image's stopwatch marks store the time stamp counter
	// at sim.HostTSCStart and HostTSCStop; each sample then also reports
	// the time between them (Result.WindowNs).
	Stopwatch bool `json:"stopwatch,omitempty"`
}

func (o Options) withDefaults() (Options, error) {
	if o.Warmup < 0 || o.Samples < 0 || o.Reps < 0 {
		return o, fmt.Errorf("native: negative count in options %+v", o)
	}
	if o.Samples == 0 {
		o.Samples = 1
	}
	if o.Reps == 0 {
		o.Reps = 1
	}
	return o, nil
}

// Result is what a run measured.
type Result struct {
	// SamplesNs holds one figure per sample: nanoseconds per call with the
	// baseline subtracted (so it can be slightly negative for tiny images).
	SamplesNs []float64 `json:"samples_ns"`
	// BaselineNs is the median per-call time of the empty stub through the
	// same shim with the same Reps.
	BaselineNs float64 `json:"baseline_ns"`
	Reps       int     `json:"reps"`
	// WindowNs holds, per sample, the nanoseconds between the stopwatch
	// marks of its last call (with Options.Stopwatch): their time stamp
	// counter ticks at the rate the sample's own ticks and clock give.
	WindowNs []float64 `json:"window_ns,omitempty"`
	// State after the last sample: its return value and the checksum of
	// every Compared region, read from the mapped memory.
	State sim.State `json:"state"`
	// Memory holds every Compared region's final bytes, by name, if
	// Options.Memory asked for them.
	Memory map[string][]byte `json:"memory,omitempty"`
}

// CrashError reports a child run that died from a signal or timed out.
type CrashError struct {
	Signal   string        // e.g. "SIGSEGV"; empty if TimedOut
	PC       uint64        // faulting instruction, if reported (0 if not)
	Symbol   string        // PC as symbol+offset in the image, if any
	Addr     uint64        // fault address, if HasAddr
	HasAddr  bool          // the report gave a fault address (SIGSEGV, SIGBUS)
	TimedOut bool          // killed after Options.Timeout
	Timeout  time.Duration // the timeout, if TimedOut
	Stderr   string        // tail of the child's stderr
}

func (e *CrashError) Error() string {
	msg := "native run crashed: " + e.Signal
	if e.PC != 0 {
		msg += fmt.Sprintf(" at pc %#x", e.PC)
		if e.Symbol != "" {
			msg += " (" + e.Symbol + ")"
		}
	}
	if e.HasAddr {
		msg += fmt.Sprintf(", fault address %#x", e.Addr)
	}
	if e.TimedOut {
		msg = fmt.Sprintf("native run timed out after %v", e.Timeout)
	}
	if e.Stderr != "" {
		msg += "\nchild stderr:\n" + e.Stderr
	}
	return msg
}

// Environment of the child process.
const (
	envChild   = "OSRSIM_NATIVE_CHILD"   // image directory to run
	envOptions = "OSRSIM_NATIVE_OPTIONS" // Options as JSON
	envParent  = "OSRSIM_NATIVE_PARENT"  // pid of the process that started it
)
