package runner

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/osrsim/osrsim/continuation"
	"github.com/osrsim/osrsim/patchpoint"
	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/unicorn"
	"github.com/osrsim/osrsim/workload"
)

// The CoreCLR model's pieces, each called alone on an image of the seed
// workload.

func coreclrRig(t *testing.T, p workload.Params) (*callRig, *workload.Built) {
	t.Helper()
	p.Runtime.Model = continuation.CoreCLR
	b := build(t, p, patchpoint.Direct)
	return newCallRig(t, b), b
}

func (r *callRig) write(addr, v uint64) {
	r.t.Helper()
	if err := r.e.MemWrite(addr, binary.LittleEndian.AppendUint64(nil, v)); err != nil {
		r.t.Fatal(err)
	}
}

func (r *callRig) bytes(addr, n uint64) []byte {
	r.t.Helper()
	b := make([]byte, n)
	if err := r.e.MemRead(addr, b); err != nil {
		r.t.Fatal(err)
	}
	return b
}

// stopsAtUd2 runs fn(args...) and reports whether it stopped at a ud2:
// a path the model leaves out.
func (r *callRig) stopsAtUd2(fn string, args ...uint64) bool {
	r.t.Helper()
	r.write(scratchStack, unicorn.SentinelAddr)
	regs := []unicorn.Reg{unicorn.RSP, unicorn.RCX, unicorn.RDX}
	if err := r.e.RegWriteBatch(regs[:1+len(args)], append([]uint64{scratchStack}, args...)); err != nil {
		r.t.Fatal(err)
	}
	if err := r.e.Start(r.sym[fn], unicorn.SentinelAddr, 0); err == nil {
		return false
	}
	rip, err := r.e.RegRead(unicorn.RIP)
	if err != nil {
		r.t.Fatal(err)
	}
	return bytes.Equal(r.bytes(rip, 2), []byte{0x0f, 0x0b})
}

// dirtyCards lists the dirty entries of the card table and card bundles
// (offsets from their starts).
func dirtyCards(r *callRig) (cards, bundles []int) {
	table := func(sym string) []int {
		var dirty []int
		for i, c := range r.bytes(r.sym[sym], r.end(sym)-r.sym[sym]) {
			if c != 0 {
				dirty = append(dirty, i)
			}
		}
		return dirty
	}
	return table(continuation.SymCardTable), table(continuation.SymCardBundle)
}

func (r *callRig) end(sym string) uint64 { return r.ends[sym] }

// The write barrier stores, and marks the card of the destination (and
// its bundle) only for a reference from an old object (data region) to a
// young one (heap); the checked barrier stores outside the heap without
// looking further.
func TestWriteBarrier(t *testing.T) {
	young := sim.HeapBase + 0x1000
	for _, tc := range []struct {
		name, fn string
		dst, ref uint64
		card     bool
	}{
		{"into gen0", continuation.SymWriteBarrier, young + 8, young + 0x40, false},
		{"old to old", continuation.SymWriteBarrier, 0, 0, false},
		{"old to young", continuation.SymWriteBarrier, 0, young, true},
		{"checked, outside the heap", continuation.SymCheckedBarrier, scratchECI, young, false},
		{"checked, old to young", continuation.SymCheckedBarrier, 0, young, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, b := coreclrRig(t, workload.DefaultParams(workload.AwaitLoop))
			old := b.Linked.Symbols[continuation.SymAwaiter] + continuation.OffAwaiterCont
			if tc.dst == 0 {
				tc.dst = old
			}
			if tc.ref == 0 {
				tc.ref = b.Linked.Symbols[continuation.SymTask]
			}
			r.call(tc.fn, tc.dst, tc.ref)
			if got := r.read(tc.dst); got != tc.ref {
				t.Errorf("stored %#x, want %#x", got, tc.ref)
			}
			cards, bundles := dirtyCards(r)
			card, bundle := int((tc.dst-sim.DataBase)>>continuation.CardShift), int((tc.dst-sim.DataBase)>>(continuation.CardShift+continuation.CardBundleShift))
			switch {
			case !tc.card && (cards != nil || bundles != nil):
				t.Errorf("cards %v, bundles %v dirty", cards, bundles)
			case tc.card && (len(cards) != 1 || cards[0] != card || len(bundles) != 1 || bundles[0] != bundle):
				t.Errorf("cards %v, bundles %v dirty, want [%d] [%d]", cards, bundles, card, bundle)
			}
		})
	}
}

// Allocation bumps the thread's allocation context by the continuation's
// base size and stores its MethodTable; a new quantum of gen0 (cleared)
// comes when one is used up, from gen0's start again when gen0 is.
func TestAllocationContext(t *testing.T) {
	p := workload.DefaultParams(workload.AwaitLoop)
	p.Runtime.AllocQuantum = 300 // rounded up to 320: four 0x50-byte continuations
	r, b := coreclrRig(t, p)
	mt := b.Linked.Symbols[continuation.SymContinuationMTCLR]
	size := r.read(mt) >> 32 // the MethodTable's base size
	if size != 0x50 {
		t.Fatalf("base size %#x, want 0x50 (three locals)", size)
	}
	const quantum = 320
	start, end := sim.HeapBase+continuation.HeapStart, sim.HeapBase+workload.HeapSize
	perQuantum := quantum / size
	if err := r.e.MemWrite(start, bytes.Repeat([]byte{0xEE}, quantum)); err != nil { // garbage the refill clears
		t.Fatal(err)
	}
	quanta := (end - start) / quantum
	for k := uint64(0); k < (quanta+1)*perQuantum; k++ {
		q := k / perQuantum % quanta
		want := start + q*quantum + k%perQuantum*size
		got := r.call(continuation.SymAlloc, mt)
		if got != want || r.read(got) != mt {
			t.Fatalf("allocation %d at %#x (MethodTable %#x), want %#x", k, got, r.read(got), want)
		}
		if k == 0 && !bytes.Equal(r.bytes(got+8, quantum-8), make([]byte, quantum-8)) {
			t.Fatalf("the first quantum was not cleared")
		}
	}
}

// UnsafeOnCompleted through the resolve stub: the first call misses the
// cache, the resolve worker fills the entry for the awaiter's MethodTable
// and the call reaches NullAwaiter.UnsafeOnCompleted; an object of another
// type has no implementation and faults.
func TestResolveStub(t *testing.T) {
	r, b := coreclrRig(t, workload.DefaultParams(workload.AwaitLoop))
	l := b.Linked.Symbols
	slot := l[continuation.SymVSDCache] + continuation.VSDHash(l[continuation.SymAwaiterMT])
	if got := r.read(slot); got != l[continuation.SymVSDEmpty] {
		t.Fatalf("cache slot holds %#x before the first call", got)
	}
	for i, action := range []uint64{0x5200_1000, 0x5200_2000} {
		r.call(continuation.SymVSDResolve, l[continuation.SymAwaiter], action)
		if r.read(slot) != l[continuation.SymVSDEntry] || r.read(l[continuation.SymAwaiter]+continuation.OffAwaiterCont) != action {
			t.Fatalf("call %d: cache slot %#x, awaiter holds %#x", i, r.read(slot), r.read(l[continuation.SymAwaiter]+continuation.OffAwaiterCont))
		}
	}
	if !r.stopsAtUd2(continuation.SymVSDResolve, l[continuation.SymTask], 0) {
		t.Errorf("a task as the notifier did not stop at the resolve worker's ud2")
	}
}

// The ExecutionContext: null (the default) is captured as null,
// a flow-suppressed one as DefaultFlowSuppressed; restoring
// DefaultFlowSuppressed or the thread's own does nothing, another context
// takes the path the model does not have.
func TestExecutionContext(t *testing.T) {
	r, b := coreclrRig(t, workload.DefaultParams(workload.AwaitLoop))
	l := b.Linked.Symbols
	threadEC := l[continuation.SymThread] + continuation.OffThreadExecContext
	if got := r.call(continuation.SymCaptureExecContext); got != 0 {
		t.Errorf("default context captured as %#x", got)
	}
	suppressed := l[continuation.SymFlowSuppressedEC]
	r.write(threadEC, suppressed)
	if got := r.call(continuation.SymCaptureExecContext); got != r.read(l[continuation.SymDefaultFlowSupp]) || got != suppressed {
		t.Errorf("flow-suppressed context captured as %#x", got)
	}
	r.call(continuation.SymRestoreExecContext, suppressed)
	r.write(threadEC, 0)
	r.call(continuation.SymRestoreExecContext, 0)
	if !r.stopsAtUd2(continuation.SymRestoreExecContext, l[continuation.SymTask]) {
		t.Errorf("restoring another context did not stop at RestoreChangedContextToThread's ud2")
	}
}

// The long-lived objects the barrier marks cards for lie where the card
// table covers.
func TestOldObjectsUnderTheCardTable(t *testing.T) {
	b := build(t, workload.DefaultParams(workload.AwaitLoop), patchpoint.Direct)
	for _, sym := range []string{continuation.SymTask, continuation.SymDispatchAction, continuation.SymAwaiter,
		continuation.SymSentinel, continuation.SymAwaitState, continuation.SymThread} {
		if a, end := b.Linked.Symbols[sym], b.Linked.SymbolEnds[sym]; a < sim.DataBase || end > sim.DataBase+continuation.CardTableSpan {
			t.Errorf("%s at [%#x, %#x): outside the card table's span", sym, a, end)
		}
	}
}
