package unicorn

import (
	"reflect"
	"testing"

	"github.com/osrsim/osrsim/sim/simtest"
)

const traceProg = `
main:
	mov $3, %ecx
loop:
	call leaf
	dec %ecx
	jnz loop
	ret
leaf:
	nop
	nop
	ret
`

// Per-instruction counts agree between block and exact mode and with the
// program's structure; the trace enters each function as it runs.
func TestPerInstructionCountsAndTrace(t *testing.T) {
	im := simtest.Assemble(t, traceProg, nil, "leaf")
	for _, exact := range []bool{false, true} {
		r, err := Run(im, Options{Exact: exact, PerInstruction: true, Trace: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Counts.PerInst) != len(im.InstStarts) {
			t.Fatalf("%d per-instruction counts for %d instructions", len(r.Counts.PerInst), len(im.InstStarts))
		}
		var sum uint64
		for _, n := range r.Counts.PerInst {
			sum += n
		}
		if sum != r.Counts.Total {
			t.Errorf("exact=%v: per-instruction counts sum to %d, total %d", exact, sum, r.Counts.Total)
		}
		// Instruction layout: 19 in the entry stub, then main (mov), loop
		// (call, dec, jnz, ret), leaf (nop, nop, ret).
		want := []uint64{1, 3, 3, 3, 1, 3, 3, 3}
		if got := r.Counts.PerInst[19:]; !reflect.DeepEqual(got, want) {
			t.Errorf("exact=%v: counts %v, want %v", exact, got, want)
		}
		var path []string
		for _, rec := range r.Trace {
			path = append(path, rec.Symbols[len(rec.Symbols)-1])
		}
		wantPath := []string{"entry", "main", "loop", "leaf", "loop", "leaf", "loop", "leaf", "loop", "entry"}
		if !reflect.DeepEqual(path, wantPath) {
			t.Errorf("exact=%v: trace %v, want %v", exact, path, wantPath)
		}
		leaf, _ := im.Symbol("leaf")
		for _, rec := range r.Trace {
			if rec.Addr == leaf.Start && r.Counts.PerInst[19+5] == 0 {
				t.Error("trace entered leaf that never ran")
			}
		}
		// main is entered after the stub's 6 pushes, movabs, mov, movabs
		// and call; timestamps never go back.
		if r.Trace[1].At != 10 {
			t.Errorf("exact=%v: main entered after %d instructions, want 10", exact, r.Trace[1].At)
		}
		for i := 1; i < len(r.Trace); i++ {
			if r.Trace[i].At < r.Trace[i-1].At {
				t.Errorf("trace goes back in time at %d", i)
			}
		}
	}
	// Capacity: records that don't fit are counted, not written.
	r, err := Run(im, Options{Trace: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Trace) != 3 || r.TraceDropped != 7 {
		t.Errorf("trace of capacity 3: %d records, %d dropped", len(r.Trace), r.TraceDropped)
	}
}
