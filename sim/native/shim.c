//go:build linux && amd64 && cgo

// The C side of the native engine: it calls generated code and times it.
// It runs on the thread's system stack under the SysV ABI, which is what
// the image's entry stub expects.

#include <stdint.h>
#include <time.h>
#include <x86intrin.h>

#include "shim.h"

typedef uint64_t (*entry_fn)(uint64_t);

static int64_t now_ns(void) {
	struct timespec ts;
	// RAW: not slewed by NTP while we measure.
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

// osrsim_time_calls calls fn(arg) reps times and returns the elapsed
// nanoseconds of the whole loop; *ret receives the last return value and
// *tsc the time stamp counter ticks of the loop (to convert the ticks a
// stopwatch region of the image measured).
int64_t osrsim_time_calls(uint64_t fn, uint64_t arg, int64_t reps, uint64_t *ret, uint64_t *tsc) {
	entry_fn f = (entry_fn)(uintptr_t)fn;
	uint64_t r = 0;
	int64_t t0 = now_ns();
	uint64_t c0 = __rdtsc();
	for (int64_t i = 0; i < reps; i++) {
		r = f(arg);
	}
	uint64_t c1 = __rdtsc();
	int64_t t1 = now_ns();
	*ret = r;
	*tsc = c1 - c0;
	return t1 - t0;
}
