// Package unicorn runs osrsim images under the Unicorn CPU emulator
// (libunicorn 2.0.1) through a thin cgo binding of its own.
//
// Counting happens in C hooks (hooks.c) that never call back into Go: a
// UC_HOOK_BLOCK over the code range turns a block [a, a+size) into
// P[a+size]-P[a] instructions with a prefix table over instruction starts,
// attributes them to symbol segments, and counts calls (a call always ends
// its block); narrow UC_HOOK_CODE hooks count events. Go reads the counters
// once per run. Exact mode and alignment checking use a per-instruction C
// hook instead, and tests check both modes agree.
//
// Whatever else watches execution is an observer (package observe): the
// block hook calls each observer's C block function before counting the
// block, and a memory hook is installed only for observers that watch
// memory. Per-instruction counts and the trace are observers of this
// package; the cycle model (package cycles) is one from outside, attached
// through Options.Observers. The image's code is decoded once per machine
// (observe.Decode) for the call flags and for the observers.
//
// Findings about Unicorn 2.0.1 that this package relies on or works around:
//
//   - Every guest memory write takes the softmmu slow path (notdirty_write,
//     tb_invalidate_phys_page_fast with a malloc'd page collection), about
//     100-150 ns each (unicorn#1970, fixed upstream after 2.0.1 by #1838 and
//     #1970's port). Code that writes memory runs at some 25-45 M inst/s;
//     register-only loops run at over 1 G inst/s. Block-hook overhead is
//     about 4-8 ns per block, so it is small on realistic code and large
//     only on tiny register loops.
//   - Inside a memory-fault hook, and after uc_emu_start returns the fault,
//     RIP still holds the start of the translation block (GPRs are current).
//     Only a per-instruction code hook keeps RIP exact, so Machine re-runs a
//     memory fault in exact mode to report the faulting instruction.
//   - syscall runs as a no-op when nothing hooks it; this package hooks it
//     (and sysenter) and reports a FaultSyscall. ud2 and sysenter give
//     UC_ERR_INSN_INVALID; #DE and int3 reach UC_HOOK_INTR, #DE with RIP at
//     the div and int3 with RIP after it, as on hardware.
//   - A rep string instruction is one block per iteration jumping back to
//     itself, so code and block hooks both see it n+1 times for rcx = n > 0
//     (once for n = 0); see TestRepStringCountsEachIteration.
//   - The until address of uc_emu_start need not be mapped: emulation stops
//     before fetching it.
//   - uc_emu_start's own timeout is a thread polling a clock every 2 µs
//     (a core's worth of wake-ups on a 2-core machine) that gave false
//     timeouts under load here; Machine times out with a timer on Go's
//     monotonic clock calling uc_emu_stop instead, and a run that reached
//     the sentinel is never a timeout.
//   - All hooks are added before the first run: translated blocks are
//     cached and hooks added later can be missed (unicorn#2200).
package unicorn
