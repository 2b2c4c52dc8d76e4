// Package patchpoint generates the OSR patchpoint helper and its transition
// in x64: counter reset, hit counting, the trigger, publishing OSR code, and
// the unwinder-based transition (code-range lookup, PatchpointInfo hash
// lookup, context capture, virtual unwind over emitted unwind records,
// context restore), plus the variant that returns the target address.
package patchpoint

import (
	"fmt"

	"github.com/osrsim/osrsim/internal/enum"
)

// Strategy is how execution gets into an OSR method.
type Strategy uint8

const (
	// Helper: before dotnet/runtime#123757. A suspended OSR method stores
	// its IL offset; tier0 resumption calls the forced patchpoint helper,
	// which transitions. The helper makes the OSR method's pseudo return
	// address slot (RSP = tier0 SP - 8).
	Helper Strategy = iota
	// Direct: #123757/#127074. A suspended OSR method stores its entry
	// address; tier0 resumption jumps there with a plain `jmp reg`; the OSR
	// prolog pushes the slot itself. Normal patchpoints still transition
	// through the helper.
	Direct
	// HelperReturn: #127213. As Direct, and the normal patchpoint helper
	// returns the address to continue at (OSR entry or the fall-through);
	// tier0 jumps to it.
	HelperReturn
)

// Strategies lists every strategy in report order.
var Strategies = []Strategy{Helper, Direct, HelperReturn}

func (s Strategy) String() string {
	switch s {
	case Helper:
		return "helper"
	case Direct:
		return "direct"
	case HelperReturn:
		return "helper-return"
	}
	return fmt.Sprintf("Strategy(%d)", uint8(s))
}

// ParseStrategy accepts a strategy name as printed by String.
func ParseStrategy(name string) (Strategy, error) { return enum.Parse(Strategies, "strategy", name) }

// OSRPushesSlot reports whether the OSR prolog pushes the pseudo return
// address slot itself (after #127074) instead of the helper making it.
func (s Strategy) OSRPushesSlot() bool { return s != Helper }

// ResumeByJump reports whether tier0 resumes an OSR continuation with a
// non-local jump instead of the forced helper.
func (s Strategy) ResumeByJump() bool { return s != Helper }

// Settings are the patchpoint knobs (CoreCLR defaults).
type Settings struct {
	InitialCounter int // TC_OnStackReplacement_InitialCounter
	CounterBump    int // OSR_CounterBump
	HitLimit       int // OSR_HitLimit
	// JITMethods is the number of JIT-compiled methods in the code heap
	// (the image's own and others of AvgMethodBytes each): it sizes the
	// heap, its nibble map and its range section fragments. The lookup is
	// constant-time, so it changes no instruction count.
	JITMethods int
	// NativeFunctions is the number of entries of the native module's
	// function table (the helper's and others), which each native frame's
	// RtlLookupFunctionEntry searches in binary.
	NativeFunctions int
	// Platform selects the helper's profile (WindowsX64 by default).
	Platform Platform
}

// Defaults are CoreCLR's defaults, with a code heap of a mid-sized
// application and a native module the size of coreclr's (DefaultNativeFunctions).
func Defaults() Settings {
	return Settings{InitialCounter: 1000, CounterBump: 1000, HitLimit: 10, JITMethods: 20000, NativeFunctions: DefaultNativeFunctions}
}

// DefaultNativeFunctions estimates the function table of coreclr.dll
// (x64): about 5 MB of code at a few hundred bytes a function. The search
// takes one step per doubling, so the estimate matters little.
const DefaultNativeFunctions = 16384

// OSRIteration is the loop iteration at which OSR code is published and
// entered: J + (L-1)*B, per CoreCLR's comment.
func (s Settings) OSRIteration() int {
	return s.InitialCounter + (s.HitLimit-1)*s.CounterBump
}
