package simtest

import (
	"testing"

	"github.com/osrsim/osrsim/sim"
)

func TestAssembleFindsLabelsAndInstructions(t *testing.T) {
	im := Assemble(t, `
main:
	mov $3, %ecx
loop:
	dec %ecx
	jnz loop
	mov %rdi, %rax
	ret
`, nil, "loop")
	mainSym, ok := im.Symbol("main")
	if !ok {
		t.Fatal("no main symbol")
	}
	loop, _ := im.Symbol("loop")
	if loop.Start != mainSym.End {
		t.Fatalf("main ends at %#x, loop starts at %#x", mainSym.End, loop.Start)
	}
	if len(im.Events) != 1 || im.Events[0].Addr != loop.Start {
		t.Fatalf("events %+v", im.Events)
	}
	// entry stub: 6 pushes, movabs, mov, movabs, call, movabs, mov, 6 pops, ret = 19
	// main: mov, dec, jnz, mov, ret = 5
	if got := len(im.InstStarts); got != 24 {
		t.Fatalf("instruction count %d, want 24", got)
	}
	if im.InstStarts[0] != sim.CodeBase {
		t.Fatalf("first instruction at %#x", im.InstStarts[0])
	}
}
