package unicorn

import (
	"fmt"
	"strings"

	"github.com/osrsim/osrsim/sim"
	"golang.org/x/arch/x86/x86asm"
)

// FaultKind says why a run did not reach its sentinel return address.
type FaultKind int

const (
	FaultReadUnmapped FaultKind = iota + 1
	FaultWriteUnmapped
	FaultFetchUnmapped
	FaultReadProt
	FaultWriteProt
	FaultFetchProt
	FaultInvalidInsn
	FaultException // a CPU exception or interrupt (Fault.Intr: 0 #DE, 3 #BP, 6 #UD, 13 #GP, ...)
	FaultSyscall   // syscall or sysenter, which generated code never makes
	FaultTimeout
	FaultRunaway // more than Options.MaxInstructions
	FaultStopped // stopped elsewhere for another reason (Fault.Err)
)

var faultNames = map[FaultKind]string{
	FaultReadUnmapped:  "read from unmapped memory",
	FaultWriteUnmapped: "write to unmapped memory",
	FaultFetchUnmapped: "fetch from unmapped memory",
	FaultReadProt:      "read from protected memory",
	FaultWriteProt:     "write to protected memory",
	FaultFetchProt:     "fetch from non-executable memory",
	FaultInvalidInsn:   "invalid instruction",
	FaultException:     "CPU exception",
	FaultSyscall:       "system call",
	FaultTimeout:       "timeout",
	FaultRunaway:       "instruction budget exceeded",
	FaultStopped:       "stopped before the sentinel",
}

func (k FaultKind) String() string {
	if s, ok := faultNames[k]; ok {
		return s
	}
	return fmt.Sprintf("FaultKind(%d)", int(k))
}

// Regs is a snapshot of the integer register file.
type Regs struct {
	GPR    [16]uint64 // encoding order, see GPRs and GPRNames
	RIP    uint64
	RFLAGS uint64
}

// GPRNames names Regs.GPR.
var GPRNames = [16]string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}

var snapshotRegs = append(GPRs[:], RIP, RFLAGS)

// Snapshot reads all GPRs, RIP and RFLAGS in one batch.
func (e *Engine) Snapshot() (Regs, error) {
	var v [18]uint64
	if err := e.RegReadBatch(snapshotRegs, v[:]); err != nil {
		return Regs{}, err
	}
	var r Regs
	copy(r.GPR[:], v[:16])
	r.RIP, r.RFLAGS = v[16], v[17]
	return r, nil
}

// Fault is a run that ended without returning to the sentinel: a memory
// fault, an invalid instruction, a CPU exception, a timeout or a runaway.
type Fault struct {
	Kind FaultKind
	// Addr is the data address of a memory fault (the PC for fetches).
	Addr uint64
	Size int    // access size of a memory fault
	Intr uint32 // exception number for FaultException
	// PC is the faulting instruction's address as Unicorn reports it.
	PC uint64
	// PCApprox: PC is only the start of the translation block holding the
	// faulting instruction (memory faults beyond maxLocate instructions).
	PCApprox bool
	Symbol   string // innermost image symbol containing PC, "" if none
	Offset   uint64 // PC - symbol start
	Inst     string // instruction at PC in GNU syntax, "" if unreadable
	Regs     Regs
	// Executed is the instruction count when the run stopped (block
	// counting credits a whole block even if it faulted midway).
	Executed uint64
	Err      error // Unicorn's error, if it returned one
}

func (f *Fault) Unwrap() error { return f.Err }

func (f *Fault) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "unicorn: %s", f.Kind)
	switch f.Kind {
	case FaultReadUnmapped, FaultWriteUnmapped, FaultFetchUnmapped, FaultReadProt, FaultWriteProt, FaultFetchProt:
		fmt.Fprintf(&b, " at %#x (size %d)", f.Addr, f.Size)
	case FaultException:
		fmt.Fprintf(&b, " %d (%s)", f.Intr, exceptionName(f.Intr))
	case FaultStopped:
		if f.Err != nil {
			fmt.Fprintf(&b, ": %v", f.Err)
		}
	}
	fmt.Fprintf(&b, " after %d instructions\n", f.Executed)
	fmt.Fprintf(&b, "  pc  %#x", f.PC)
	if f.PCApprox {
		b.WriteString(" (block start)")
	}
	if f.Symbol != "" {
		fmt.Fprintf(&b, " <%s+%#x>", f.Symbol, f.Offset)
	}
	if f.Inst != "" {
		fmt.Fprintf(&b, ": %s", f.Inst)
	}
	b.WriteByte('\n')
	for i, v := range f.Regs.GPR {
		fmt.Fprintf(&b, "  %-3s %016x", GPRNames[i], v)
		if i%4 == 3 {
			b.WriteByte('\n')
		}
	}
	fmt.Fprintf(&b, "  rip %016x  rflags %016x", f.Regs.RIP, f.Regs.RFLAGS)
	return b.String()
}

func exceptionName(n uint32) string {
	names := map[uint32]string{0: "#DE divide error", 1: "#DB debug", 3: "#BP breakpoint", 4: "#OF overflow",
		5: "#BR bound", 6: "#UD invalid opcode", 8: "#DF double fault", 12: "#SS stack fault",
		13: "#GP general protection", 14: "#PF page fault", 16: "#MF x87", 17: "#AC alignment", 19: "#XM SIMD"}
	if s, ok := names[n]; ok {
		return s
	}
	return "interrupt"
}

// describe fills the location fields of f from the stopped engine.
func (f *Fault) describe(e *Engine, im *sim.Image) {
	if r, err := e.Snapshot(); err == nil {
		f.Regs = r
	}
	if f.PC == 0 {
		f.PC = f.Regs.RIP
	}
	f.Symbol, f.Offset = im.SymbolAt(f.PC)
	f.Inst = disasm(e, im, f.PC)
}

// disasm decodes the instruction at pc from guest memory.
func disasm(e *Engine, im *sim.Image, pc uint64) string {
	n := min(15, sim.PageSize-pc%sim.PageSize) // stay within one page first
	buf := make([]byte, 15)
	if err := e.MemRead(pc, buf[:n]); err != nil {
		return ""
	}
	if n < 15 && e.MemRead(pc+n, buf[n:]) == nil {
		n = 15
	}
	inst, err := x86asm.Decode(buf[:n], 64)
	if err != nil {
		return fmt.Sprintf("(bad: % x)", buf[:min(n, 4)])
	}
	sym := func(addr uint64) (string, uint64) {
		name, off := im.SymbolAt(addr)
		if name == "" {
			return "", 0
		}
		return name, addr - off
	}
	return x86asm.GNUSyntax(inst, pc, sym)
}
