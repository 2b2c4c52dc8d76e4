package cycles

// HookAddresses makes e take the core model's real addresses from memory
// hooks, as before the address interpreter: the reference the tests
// compare the interpreter with.
func HookAddresses(e *Estimator) { e.hookAddresses = true }

// VerifyAddresses makes e compare every address it computes with the one
// the memory hooks report; Verified reads the comparisons of the last run.
func VerifyAddresses(e *Estimator) { e.verifyAddresses = true }

func (e *Estimator) Verified() (compared, different uint64) {
	return uint64(e.c.core.verified), uint64(e.c.core.mismatches)
}

func (e *Estimator) RegReads() uint64 { return uint64(e.c.core.addr.reads) }

// CheckEffects checks what the address interpreter's slices assume of
// instruction i against runs of it (addrplan.go checkEffects).
func (e *Estimator) CheckEffects(i int, g, other *[16]uint64, base uint64, mem1, mem2 []byte) int {
	return e.checkEffects(i, g, other, base, mem1, mem2)
}

// Insts is the number of instructions of the code e is attached to.
func (e *Estimator) Insts() int { return int(e.c.core.ninst) }
