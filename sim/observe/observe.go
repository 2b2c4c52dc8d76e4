// Package observe is the interface between an emulator and what watches
// code run on it: the cycle model (package cycles), traces and
// per-instruction counts. The emulator decodes an image's code once per
// machine (Decode), gives every observer the decoded code (Attach), and
// calls the observer's C functions (observe.h) from its own C hooks, so
// nothing on the hot path calls into Go. C code that implements or calls
// observers includes observe.h with `#cgo CFLAGS: -I${SRCDIR}/<path to
// sim/observe>`, and its package imports this one.
package observe

import (
	_ "embed"
	"fmt"
	"unsafe"

	"github.com/osrsim/osrsim/sim"
	"golang.org/x/arch/x86/x86asm"
)

// header makes every package that imports this one depend on observe.h:
// the build cache does not track C headers included from another
// directory, but it does track what a dependency embeds.
//
//go:embed observe.h
var header string

// Observer watches code run on one machine.
type Observer interface {
	// Attach is called once, by the machine's constructor before anything
	// runs, with the machine's decoded code. It returns a pointer to the
	// observer's C callbacks (an osr_observer, observe.h) in C memory that
	// stays valid for the machine's lifetime.
	Attach(code *Code) (unsafe.Pointer, error)
}

// Code is a machine's code range [Base, Base+Size) decoded once: the
// image's instruction starts inside it, in ascending order. Instruction
// number i, as the hooks give it, starts at Addrs[i] and decodes to
// Insts[i]. An instruction start x86asm cannot decode keeps its number,
// so counts stay aligned with the image's starts, and its Insts entry is
// the zero Inst (Len 0): hand-written test images list data inside their
// code as instructions; generated images never do.
type Code struct {
	Base, Size uint64
	Addrs      []uint64
	Insts      []x86asm.Inst
}

// Decode decodes every instruction start of im inside its code range
// (sim.Image.CodeRange), once each.
func Decode(im *sim.Image) (*Code, error) {
	lo, hi := im.CodeRange()
	if hi <= lo {
		return nil, fmt.Errorf("image has no executable region")
	}
	c := &Code{Base: lo, Size: hi - lo}
	for _, a := range im.InstStarts {
		if a < lo || a >= hi || len(c.Addrs) > 0 && a == c.Addrs[len(c.Addrs)-1] {
			continue
		}
		in, err := x86asm.Decode(codeBytes(im, a), 64)
		if err != nil {
			in = x86asm.Inst{}
		}
		c.Addrs = append(c.Addrs, a)
		c.Insts = append(c.Insts, in)
	}
	return c, nil
}

// Decoded reports whether instruction i decoded.
func (c *Code) Decoded(i int) bool { return c.Insts[i].Len > 0 }

// Offset is the code offset of instruction i.
func (c *Code) Offset(i int) uint64 { return c.Addrs[i] - c.Base }

// codeBytes returns up to 15 initial bytes at addr from its region.
func codeBytes(im *sim.Image, addr uint64) []byte {
	for i := range im.Regions {
		r := &im.Regions[i]
		if addr < r.Base || addr >= r.End() {
			continue
		}
		b := make([]byte, min(15, r.End()-addr))
		if off := addr - r.Base; off < uint64(len(r.Init)) {
			copy(b, r.Init[off:])
		}
		return b
	}
	return nil
}
