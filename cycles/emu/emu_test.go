package emu

import (
	"errors"
	"testing"

	"github.com/osrsim/osrsim/cycles"
	"github.com/osrsim/osrsim/sim/simtest"
	"github.com/osrsim/osrsim/sim/unicorn"
)

// The estimate comes with every valid result, also one that comes with an
// alignment error; without a model there is none.
func TestRunCountsWithValidResults(t *testing.T) {
	im := simtest.Assemble(t, `
main:
	call f          # misaligned: rsp = 8 mod 16 at main's entry
	ret
f:
	ret
`, nil)
	r, cc, err := Run(im, unicorn.Options{CheckAlignment: true}, cycles.Unit(), true)
	var ae *unicorn.AlignmentError
	if !errors.As(err, &ae) || r == nil || cc == nil {
		t.Fatalf("result %v, counts %v, error %v; want all three", r, cc, err)
	}
	// The unit model's estimate is the instruction count.
	var byClass uint64
	for _, n := range cc.ByClass {
		byClass += n
	}
	if cc.Estimated != float64(r.Counts.Total) || byClass != r.Counts.Total {
		t.Fatalf("estimated %v, %d by class, %d instructions", cc.Estimated, byClass, r.Counts.Total)
	}
	if _, cc, err := Run(im, unicorn.Options{}, nil, true); err != nil || cc != nil {
		t.Fatalf("without a model: counts %v, error %v", cc, err)
	}
}
