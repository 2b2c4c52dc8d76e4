package unicorn

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/simtest"
)

// Each program faults at the label "bad".
var faultCases = []struct {
	name   string
	src    string
	opt    Options
	kind   FaultKind
	addr   uint64 // checked when nonzero
	size   int
	intr   uint32
	inst   string // substring of the decoded instruction at the PC
	pcNext bool   // Unicorn reports the PC after the instruction
}{
	{name: "read-unmapped", src: "bad:\n\tmov 0x1234, %rax\n", kind: FaultReadUnmapped, addr: 0x1234, size: 8, inst: "mov 0x1234,%rax"},
	{name: "read-unmapped-exact", src: "bad:\n\tmov 0x1234, %rax\n", opt: Options{Exact: true}, kind: FaultReadUnmapped, addr: 0x1234, size: 8, inst: "mov 0x1234,%rax"},
	{name: "write-unmapped", src: "bad:\n\tmovl $1, 0x2000\n", kind: FaultWriteUnmapped, addr: 0x2000, size: 4, inst: "movl $0x1,0x2000"},
	{name: "write-code", src: "bad:\n\tmovb $0, main(%rip)\n", kind: FaultWriteProt, size: 1, inst: "movb $0x0,"},
	{name: "fetch-unmapped", src: "\tmov $0x7000, %eax\nbad:\n\tjmp *%rax\n", kind: FaultFetchUnmapped, addr: 0x7000},
	{name: "fetch-data", src: fmt.Sprintf("\tmovabs $%#x, %%rax\nbad:\n\tcall *%%rax\n", sim.DataBase), kind: FaultFetchProt, addr: sim.DataBase},
	{name: "ud2", src: "bad:\n\tud2\n", kind: FaultInvalidInsn, inst: "ud2"},
	{name: "divide-by-zero", src: "\txor %ecx, %ecx\nbad:\n\tdiv %ecx\n", kind: FaultException, intr: 0, inst: "div %ecx"},
	{name: "int3", src: "bad:\n\tint3\n\tnop\n", kind: FaultException, intr: 3, pcNext: true},
	{name: "syscall", src: "bad:\n\tsyscall\n\tnop\n", kind: FaultSyscall, inst: "syscall"},
	{name: "runaway", src: "bad:\n\tjmp bad\n", opt: Options{MaxInstructions: 1000}, kind: FaultRunaway, inst: "jmp"},
	{name: "runaway-exact", src: "bad:\n\tjmp bad\n", opt: Options{MaxInstructions: 1000, Exact: true}, kind: FaultRunaway, inst: "jmp"},
	{name: "timeout", src: "bad:\n\tjmp bad\n", opt: Options{Timeout: 50 * time.Millisecond}, kind: FaultTimeout, inst: "jmp"},
}

func TestFaultsBecomeErrors(t *testing.T) {
	for _, c := range faultCases {
		t.Run(c.name, func(t *testing.T) {
			im := simtest.Assemble(t, "main:\n\tmov $0x77, %r13\n"+c.src, nil)
			res, err := Run(im, c.opt)
			var f *Fault
			if !errors.As(err, &f) {
				t.Fatalf("res %+v err %v, want *Fault", res, err)
			}
			t.Logf("%v", err)
			if f.Kind != c.kind {
				t.Fatalf("kind %v, want %v", f.Kind, c.kind)
			}
			bad, _ := im.Symbol("bad")
			wantPC := bad.Start
			if c.pcNext {
				wantPC = bad.Start + 1
			}
			switch c.kind {
			case FaultFetchUnmapped, FaultFetchProt:
				wantPC = c.addr // the PC is the unfetchable target
			}
			if f.PC != wantPC {
				t.Errorf("pc %#x, want %#x", f.PC, wantPC)
			}
			if c.addr != 0 && f.Addr != c.addr {
				t.Errorf("addr %#x, want %#x", f.Addr, c.addr)
			}
			if c.size != 0 && f.Size != c.size {
				t.Errorf("size %d, want %d", f.Size, c.size)
			}
			if c.kind == FaultException && f.Intr != c.intr {
				t.Errorf("intr %d, want %d", f.Intr, c.intr)
			}
			if !strings.Contains(f.Inst, c.inst) {
				t.Errorf("inst %q, want %q", f.Inst, c.inst)
			}
			if f.Regs.GPR[13] != 0x77 || f.Regs.RIP == 0 && f.PC != 0 {
				t.Errorf("regs %+v", f.Regs)
			}
			if c.kind != FaultFetchUnmapped && c.kind != FaultFetchProt && !strings.HasPrefix(f.Symbol, "bad") && f.Symbol != "main" {
				t.Errorf("symbol %q", f.Symbol)
			}
			if !strings.Contains(err.Error(), "r13 0000000000000077") {
				t.Errorf("Error() lacks registers:\n%v", err)
			}
		})
	}
}

// Closing Options.Done stops a running emulation promptly, in block and
// exact mode, and a run whose Done is already closed does not start. A
// run that completes is unaffected by a Done that is never closed.
func TestDoneCancels(t *testing.T) {
	spin := simtest.Assemble(t, "main:\n\tjmp main\n", nil)
	for _, exact := range []bool{false, true} {
		done := make(chan struct{})
		time.AfterFunc(50*time.Millisecond, func() { close(done) })
		start := time.Now()
		_, err := Run(spin, Options{Exact: exact, Done: done, Timeout: time.Minute})
		if !errors.Is(err, sim.ErrCanceled) {
			t.Fatalf("exact=%v: err %v, want sim.ErrCanceled", exact, err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("exact=%v: stopping took %v", exact, d)
		}
		if _, err := Run(spin, Options{Exact: exact, Done: done}); !errors.Is(err, sim.ErrCanceled) {
			t.Fatalf("exact=%v, already closed: err %v, want sim.ErrCanceled", exact, err)
		}
	}
	ok := simtest.Assemble(t, "main:\n\tmov $7, %eax\n\tret\n", nil)
	res, err := Run(ok, Options{Done: make(chan struct{})})
	if err != nil || res.State.Ret != 7 {
		t.Fatalf("res %+v err %v", res, err)
	}
}
