//go:build linux && amd64 && cgo

package native

/*
#cgo CFLAGS: -O2 -Wall
#cgo noescape osrsim_time_calls
#cgo nocallback osrsim_time_calls
#include "shim.h"
*/
import "C"

// timeCalls calls the SysV function at fn reps times with arg, timing the
// loop in C; it returns the elapsed nanoseconds and the last return value.
// The caller holds runtime.LockOSThread.
func timeCalls(fn, arg uint64, reps int) (ns int64, ret uint64) {
	ns, ret, _ = timeCallsTSC(fn, arg, reps)
	return ns, ret
}

// timeCallsTSC is timeCalls that also returns the loop's time stamp
// counter ticks.
func timeCallsTSC(fn, arg uint64, reps int) (ns int64, ret, tsc uint64) {
	var r, t C.uint64_t
	ns = int64(C.osrsim_time_calls(C.uint64_t(fn), C.uint64_t(arg), C.int64_t(reps), &r, &t))
	return ns, uint64(r), uint64(t)
}
