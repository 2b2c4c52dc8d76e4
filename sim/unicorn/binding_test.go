package unicorn

import (
	"errors"
	"testing"

	"github.com/osrsim/osrsim/sim"
)

// A tiny program through the raw binding: mov $0x2a, %eax; ret.
func TestEngineRunsUntilAddress(t *testing.T) {
	for _, mapped := range []bool{false, true} {
		e, err := Open()
		if err != nil {
			t.Fatal(err)
		}
		const code, stack, until = 0x10000, 0x20000, 0x30000
		must(t, e.MemMap(code, sim.PageSize, sim.PermR|sim.PermX))
		must(t, e.MemMap(stack, sim.PageSize, sim.PermR|sim.PermW))
		if mapped {
			must(t, e.MemMap(until, sim.PageSize, sim.PermR|sim.PermX))
		}
		must(t, e.MemWrite(code, []byte{0xb8, 0x2a, 0, 0, 0, 0xc3}))
		var ret [8]byte
		putU64(ret[:], until)
		must(t, e.MemWrite(stack+0x800, ret[:]))
		must(t, e.RegWriteBatch([]Reg{RSP, RAX, R15}, []uint64{stack + 0x800, 1, 15}))
		// Finding: with Unicorn 2.0.1 the until address need not be mapped;
		// emulation stops before fetching it.
		must(t, e.Start(code, until, 0))
		vals := make([]uint64, 3)
		must(t, e.RegReadBatch([]Reg{RAX, RIP, R15}, vals))
		if vals[0] != 0x2a || vals[1] != until || vals[2] != 15 {
			t.Fatalf("mapped=%v: rax %#x rip %#x r15 %d", mapped, vals[0], vals[1], vals[2])
		}
		if rsp, _ := e.RegRead(RSP); rsp != stack+0x808 {
			t.Fatalf("rsp %#x", rsp)
		}
		buf := make([]byte, 6)
		must(t, e.MemRead(code, buf))
		if buf[0] != 0xb8 {
			t.Fatalf("code % x", buf)
		}
		if err := e.MemRead(0x90000, buf); !errors.Is(err, ErrReadUnmapped) {
			t.Fatalf("read unmapped: %v", err)
		}
		must(t, e.Close())
		must(t, e.Close()) // idempotent
	}
}

func TestEngineErrors(t *testing.T) {
	e, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	err = e.MemMap(0x1001, sim.PageSize, sim.PermR)
	if !errors.Is(err, ErrArg) || err.Error() != "unicorn: Invalid argument (UC_ERR_ARG)" {
		t.Fatalf("unaligned map: %v", err)
	}
	must(t, e.MemMap(0x1000, sim.PageSize, sim.PermR))
	if err := e.MemMap(0x1000, sim.PageSize, sim.PermR); !errors.Is(err, ErrMap) {
		t.Fatalf("double map: %v", err)
	}
	if err := e.RegReadBatch([]Reg{RAX}, nil); err == nil {
		t.Fatal("mismatched batch accepted")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
