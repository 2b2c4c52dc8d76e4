package patchpoint

import (
	"fmt"

	"github.com/osrsim/osrsim/internal/enum"
)

// Platform is the operating system whose CoreCLR the helper's transition
// follows: the steps that differ are the stub's TransitionBlock, the last
// error, the context's creation and capture, the unwinding of the native
// frames and the restore. The managed code (tier0, OSR, runtime) is the
// same on both: osrsim generates one JIT calling convention.
type Platform uint8

const (
	// WindowsX64 is the PR's platform (dotnet/runtime#123757 measured on
	// Windows x64): InitializeContext2 twice, the OS's RtlCaptureContext,
	// RtlLookupFunctionEntry and RtlVirtualUnwind (with its epilog
	// detection) for every native frame, and a restore that runs fxrstor
	// and popfq.
	WindowsX64 Platform = iota
	// LinuxX64: the PAL's context capture (context2.S, with fxsave), and
	// native frames unwound from their DWARF call-frame information by
	// libunwind under PAL_VirtualUnwind; the tier0 frame by CoreCLR's own
	// Windows-format unwinder.
	LinuxX64
)

// Platforms lists every platform, the default first.
var Platforms = []Platform{WindowsX64, LinuxX64}

func (p Platform) String() string {
	switch p {
	case WindowsX64:
		return "windows-x64"
	case LinuxX64:
		return "linux-x64"
	}
	return fmt.Sprintf("Platform(%d)", uint8(p))
}

// ParsePlatform accepts a platform name as printed by String.
func ParsePlatform(name string) (Platform, error) { return enum.Parse(Platforms, "platform", name) }

// Valid reports whether p is one of Platforms.
func (p Platform) Valid() bool { return p <= LinuxX64 }
