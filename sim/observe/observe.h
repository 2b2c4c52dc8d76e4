// The C side of package observe: what an emulator's hooks call as code
// runs, and what observers may read of the machine. Observers (the cycle
// model, traces) are C functions that never call back into Go.
#ifndef OSR_OBSERVE_H
#define OSR_OBSERVE_H

#include <stdint.h>

#define OSR_ACC_MAX 256

// osr_accesses collects the addresses of the memory accesses of the running
// block, in execution order: the machine's memory hook appends them without
// a call, and the observer empties it (n = 0) when the next block starts.
// Memory hooks keep every access on the emulator's slow path: observers
// should compute addresses from osr_machine instead (the cycle model asks
// for the hook only as its tests' reference).
typedef struct osr_accesses {
	uint32_t n;                 // accesses so far (may exceed OSR_ACC_MAX)
	uint64_t addr[OSR_ACC_MAX]; // the first OSR_ACC_MAX of them
} osr_accesses;

// osr_region is a mapped region of guest memory and where its bytes are in
// the host.
typedef struct osr_region {
	uint64_t base, size;
	const uint8_t *host;
} osr_region;

// osr_machine is what an observer may read of the machine it watches,
// without a memory hook: registers, through a call into the emulator (so
// rarely), and guest memory, directly. Both hold the state before the
// block that the observer's block callback is about to see.
typedef struct osr_machine {
	void *ctx;
	// Read the general-purpose registers in mask (bit i: register i in
	// encoding order, rax rcx rdx rbx rsp rbp rsi rdi r8..r15) into gpr[i].
	// Valid only inside the observer's callbacks.
	void (*regs)(void *ctx, uint32_t mask, uint64_t *gpr);
	uint32_t nregions;
	const osr_region *regions; // ascending, not overlapping
} osr_machine;

// osr_observer sees code as offsets into the machine's code range and as
// instruction numbers: instruction i starts at observe.Code.Addrs[i].
typedef struct osr_observer {
	void *ctx; // passed to every callback
	// Code at offsets [a, e), instructions [i0, i1), is about to run: a
	// translation block, or one instruction in exact mode. Required.
	void (*block)(void *ctx, uint64_t a, uint64_t e, uint32_t i0, uint32_t i1);
	// Where the machine appends memory accesses. NULL: the machine installs
	// no memory hook for this observer (memory hooks are costly).
	osr_accesses *mem;
	// Before every run, and after a run that completed. Either may be NULL.
	void (*reset)(void *ctx);
	void (*end)(void *ctx);
	// Called once when the observer is added to a machine, with the
	// machine's view, valid for the machine's lifetime. May be NULL.
	void (*attach)(void *ctx, const osr_machine *m);
} osr_observer;

#endif
