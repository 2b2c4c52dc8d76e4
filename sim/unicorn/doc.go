// Package unicorn runs osrsim images under the Unicorn CPU emulator
// (libunicorn 2.1.4, or 2.0.1: Versions) through a thin cgo binding of its
// own.
//
// Counting happens in C hooks (hooks.c) that never call back into Go: a
// UC_HOOK_BLOCK over the code range counts executions per block start
// (an increment when the block ends where it did before), and after the
// run each block [a, a+size) becomes P[a+size]-P[a] instructions with a
// prefix table over instruction starts, attributed to symbol segments, to
// calls (a call always ends its block) and, with Options.PerInstruction,
// to each instruction. Narrow UC_HOOK_CODE hooks count events. Go reads
// the counters once per run. Exact mode and alignment checking use a
// per-instruction C hook instead, and tests check both modes agree.
//
// Whatever else watches execution is an observer (package observe): the
// block hook calls each observer's C block function before counting the
// block. Observers read registers and guest memory through the machine's
// view (osr_machine): the regions are mapped with uc_mem_map_ptr onto
// host pages the machine owns. A memory hook is installed only for
// observers that ask for one (tests). The trace is an observer of this
// package; the cycle model (package cycles) is one from outside, attached
// through Options.Observers. The image's code is decoded once per machine
// (observe.Decode) for the call flags and for the observers.
//
// Findings about Unicorn 2.x that this package relies on or works around:
//
//   - With paging off (as Unicorn runs x86-64) the CPU's TLB marks every
//     page executable, and Unicorn never clears the not-dirty mark of an
//     executable TLB entry, nor of one that any memory hook covers
//     (notdirty_write), so every guest store takes the softmmu slow path.
//     In 2.0.1 that path also invalidates translations with a malloc'd page
//     collection (unicorn#1970), about 100-150 ns a store; 2.0.1 has no way
//     around it. With 2.1, Machine fills the TLB through a UC_HOOK_TLB_FILL
//     hook (UC_TLB_VIRTUAL) that leaves data pages non-executable, and
//     reports memory faults with hooks over the unmapped gaps and the
//     non-writable regions only, so stores run on the fast path: the seed
//     image runs about 8x faster (README "Emulator versions").
//   - 2.1 calls helper_check_exit_request at the start of every
//     translation block and after every memory access (2.0 tested a flag
//     inline); it is the largest cost left in raw emulation.
//   - A fetch from a writable region ends with UC_ERR_FETCH_PROT and RIP at
//     the fetched address; no hook is needed to report it.
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
