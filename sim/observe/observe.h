// The C side of package observe: what an emulator's hooks call as code
// runs. Observers (the cycle model, traces, per-instruction counts) are C
// functions that never call back into Go.
#ifndef OSR_OBSERVE_H
#define OSR_OBSERVE_H

#include <stdint.h>

#define OSR_ACC_MAX 256

// osr_accesses collects the addresses of the memory accesses of the running
// block, in execution order: the machine's memory hook appends them without
// a call, and the observer empties it (n = 0) when the next block starts.
typedef struct osr_accesses {
	uint32_t n;                 // accesses so far (may exceed OSR_ACC_MAX)
	uint64_t addr[OSR_ACC_MAX]; // the first OSR_ACC_MAX of them
} osr_accesses;

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
} osr_observer;

#endif
