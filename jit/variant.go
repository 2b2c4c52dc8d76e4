package jit

import (
	"fmt"

	"github.com/osrsim/osrsim/internal/enum"
)

// Tier0Variant selects the shape of the tier0 patchpoint sequence, for
// experiments on its shape and for regression tests.
type Tier0Variant uint8

const (
	// Tier0CoreCLR is the JIT's sequence:
	// mov eax,[ctr]; dec eax; mov [ctr],eax; cmp dword [ctr],0; jg skip.
	Tier0CoreCLR Tier0Variant = iota
	// Tier0DecMem decrements in memory: dec dword [ctr]; cmp dword [ctr],0; jg skip.
	Tier0DecMem
	// Tier0JGE is CoreCLR's sequence with jge: it fires one decrement late.
	Tier0JGE
)

// Tier0Variants lists every variant.
var Tier0Variants = []Tier0Variant{Tier0CoreCLR, Tier0DecMem, Tier0JGE}

func (v Tier0Variant) String() string {
	switch v {
	case Tier0CoreCLR:
		return "coreclr"
	case Tier0DecMem:
		return "dec-mem"
	case Tier0JGE:
		return "jge"
	}
	return fmt.Sprintf("Tier0Variant(%d)", uint8(v))
}

// ParseTier0Variant accepts a variant name as printed by String.
func ParseTier0Variant(name string) (Tier0Variant, error) {
	return enum.Parse(Tier0Variants, "tier0 patchpoint variant", name)
}

// Valid reports whether v is one of Tier0Variants.
func (v Tier0Variant) Valid() bool { return int(v) < len(Tier0Variants) }

// DispatchVariant selects the shape of the resumption dispatch.
type DispatchVariant uint8

const (
	// DispatchCoreCLR is CreateResumptionSwitch's: one state resumes
	// directly, two branch on State != 0, more use a switch; each state
	// restores its own live locals.
	DispatchCoreCLR DispatchVariant = iota
	// DispatchCompareChain is osrsim's first shape, kept for the built-in
	// templates and their baselines: restore one layout shared by every
	// await, then compare State with each state in turn.
	DispatchCompareChain
)
