package observe

import (
	"testing"

	"github.com/osrsim/osrsim/sim/simtest"
	"golang.org/x/arch/x86/x86asm"
)

// Every instruction start keeps its number (the hooks' instruction
// numbers follow the image's starts); data that the hand-written image
// lists as instructions stays undecoded.
func TestDecode(t *testing.T) {
	im := simtest.Assemble(t, `
main:
	call f
	ret
f:
	ret
	.p2align 2
table:
	.long 0xffffdcff, 0xffffffff
`, nil)
	c, err := Decode(im)
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := im.CodeRange()
	if c.Base != lo || c.Size != hi-lo || len(c.Addrs) != len(im.InstStarts) || len(c.Insts) != len(c.Addrs) {
		t.Fatalf("code [%#x+%#x) with %d/%d instructions for %d starts", c.Base, c.Size, len(c.Addrs), len(c.Insts), len(im.InstStarts))
	}
	main, _ := im.Symbol("main")
	table, _ := im.Symbol("table")
	undecoded := 0
	for i, a := range c.Addrs {
		if a != im.InstStarts[i] || c.Offset(i) != a-lo {
			t.Fatalf("instruction %d at %#x (offset %#x), start %#x", i, a, c.Offset(i), im.InstStarts[i])
		}
		if a == main.Start && c.Insts[i].Op != x86asm.CALL {
			t.Errorf("main starts with %v", c.Insts[i])
		}
		if !c.Decoded(i) {
			undecoded++
			if a < table.Start {
				t.Errorf("instruction at %#x does not decode", a)
			}
		}
	}
	if undecoded == 0 {
		t.Error("the data table decoded")
	}
}
