package runner

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/osrsim/osrsim/ehframe"
	. "github.com/osrsim/osrsim/emitter"
	"github.com/osrsim/osrsim/patchpoint"
	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/unicorn"
	"github.com/osrsim/osrsim/workload"
)

// The linux-x64 helper's DWARF unwinder (PAL_VirtualUnwind over libunwind,
// generated code) against the ehframe package's reference, on the image's
// own .eh_frame: for every native function, at every instruction (as if a
// call there had returned: RIP is the instruction's end), a made-up frame
// (distinct values in every register and stack slot) is unwound both ways,
// and the caller's RIP, RSP and callee saves must agree. The first unwind
// of each IP misses libunwind's register-state cache and runs the FDE
// lookup and the CFA program; a second pass hits it. The CFA interpreter
// is then compared with the reference's trace instruction by instruction:
// run_cfi_program runs each FDE's program to every instruction boundary.

// dwarfRig calls the Linux helper's functions in a workload image.
type dwarfRig struct {
	*callRig
	b    *workload.Built
	mem  engineMem
	fdes []*ehframe.FDE
}

// engineMem reads the engine's memory for the reference.
type engineMem struct{ e *unicorn.Engine }

func (m engineMem) ReadMem(addr uint64, p []byte) error { return m.e.MemRead(addr, p) }

// The made-up frames' memory: a part of the image stack, far below
// anything the program used.
const (
	frameMem    = sim.StackBase + 0x1000
	frameMemLen = 0x4000
	frameRSP    = frameMem + 0x1000
	frameRBP    = frameMem + 0x2000
	// Where the rig's CONTEXT goes: the worker's buffer.
)

func frameWord(addr uint64) uint64 { return 0x6b6b_0000_0000_0000 | addr&0xFFFF_FFFF }
func frameReg(r ehframe.Reg) uint64 { return 0x7c7c_0000_0000_0000 | uint64(r)<<16 | 0x1234 }

func newDWARFRig(t *testing.T, s patchpoint.Strategy) *dwarfRig {
	p := workload.DefaultParams(workload.AwaitLoop)
	p.Awaits = 5
	p.Patchpoint.Platform = patchpoint.LinuxX64
	b := build(t, p, s)
	r := &dwarfRig{callRig: newCallRig(t, b), b: b} // every call stops at the sentinel: no stale stops
	r.mem = engineMem{r.e}
	l := b.Linked
	fdes, err := ehframe.ReadSection(r.mem, l.Symbols[SymEHFrame], l.SymbolEnds[SymEHFrame]-l.Symbols[SymEHFrame])
	if err != nil {
		t.Fatal(err)
	}
	r.fdes = fdes
	var words []byte
	for a := uint64(frameMem); a < frameMem+frameMemLen; a += 8 {
		words = binary.LittleEndian.AppendUint64(words, frameWord(a))
	}
	if err := r.e.MemWrite(frameMem, words); err != nil {
		t.Fatal(err)
	}
	return r
}

// callSysV runs fn with SysV arguments (RDI, RSI, RDX, RCX, R8, R9, then
// the stack) to its return and returns RAX.
func (r *dwarfRig) callSysV(fn string, args ...uint64) uint64 {
	r.t.Helper()
	stack := binary.LittleEndian.AppendUint64(nil, unicorn.SentinelAddr)
	regs := []unicorn.Reg{unicorn.RDI, unicorn.RSI, unicorn.RDX, unicorn.RCX, unicorn.R8, unicorn.R9}
	n := min(len(args), len(regs))
	for _, a := range args[n:] {
		stack = binary.LittleEndian.AppendUint64(stack, a)
	}
	if err := r.e.MemWrite(scratchStack, stack); err != nil {
		r.t.Fatal(err)
	}
	if err := r.e.RegWriteBatch(append([]unicorn.Reg{unicorn.RSP}, regs[:n]...), append([]uint64{scratchStack}, args[:n]...)); err != nil {
		r.t.Fatal(err)
	}
	if err := r.e.Start(r.sym[fn], unicorn.SentinelAddr, 0); err != nil {
		regs, _ := r.e.Snapshot()
		r.t.Fatalf("%s: %v at %s: %+v", fn, err, r.symAt(regs.RIP), regs)
	}
	rax, err := r.e.RegRead(unicorn.RAX)
	if err != nil {
		r.t.Fatal(err)
	}
	return rax
}

// unwindRegs are the registers PAL_VirtualUnwind hands back.
var unwindRegs = []struct {
	ctx int32
	reg ehframe.Reg
}{
	{patchpoint.OffCtxRIP, ehframe.RA}, {patchpoint.OffCtxRSP, ehframe.RSP}, {patchpoint.OffCtxRBP, ehframe.RBP},
	{patchpoint.OffCtxGPR + 8*int32(RBX), ehframe.RBX}, {patchpoint.OffCtxGPR + 8*int32(R12), ehframe.R12},
	{patchpoint.OffCtxGPR + 8*int32(R13), ehframe.R13}, {patchpoint.OffCtxGPR + 8*int32(R14), ehframe.R14},
	{patchpoint.OffCtxGPR + 8*int32(R15), ehframe.R15},
}

// unwind runs PAL_VirtualUnwind on a made-up frame whose RIP is ra and
// returns its caller's registers by DWARF number, next to the reference's.
func (r *dwarfRig) unwind(ra uint64) (gen, ref [ehframe.NumGPRs + 1]uint64, err error) {
	var in ehframe.Context
	for reg := range ehframe.NumGPRs {
		in.Regs[reg] = frameReg(ehframe.Reg(reg))
	}
	in.Regs[ehframe.RSP], in.Regs[ehframe.RBP], in.Regs[ehframe.RA] = frameRSP, frameRBP, ra
	in.AfterCall = true
	out, _, err := ehframe.Unwinder{Mem: r.mem, Hdr: r.b.Linked.Symbols[SymEHFrameHdr]}.Step(in)
	if err != nil {
		return gen, ref, fmt.Errorf("reference: %w", err)
	}
	ref = out.Regs

	ctx := r.b.Linked.Symbols[patchpoint.SymContextBuffer]
	var c patchpoint.Context
	for _, u := range unwindRegs {
		putCtx(&c, u.ctx, in.Regs[u.reg])
	}
	var buf bytes.Buffer
	binary.Write(&buf, binary.LittleEndian, &c)
	if err := r.e.MemWrite(ctx, buf.Bytes()); err != nil {
		return gen, ref, err
	}
	if ok := r.callSysV(patchpoint.SymPALVirtualUnwind, ctx, 0); ok != 1 {
		return gen, ref, fmt.Errorf("PAL_VirtualUnwind returned %d", ok)
	}
	for _, u := range unwindRegs {
		gen[u.reg] = r.read(ctx + uint64(u.ctx))
	}
	return gen, ref, nil
}

// putCtx stores v at offset off of a Context.
func putCtx(c *patchpoint.Context, off int32, v uint64) {
	switch {
	case off == patchpoint.OffCtxRIP:
		c.RIP = v
	default:
		c.GPR[(off-patchpoint.OffCtxGPR)/8] = v
	}
}

func TestDWARFUnwinderAgainstReference(t *testing.T) {
	r := newDWARFRig(t, patchpoint.Helper)
	code := r.b.Object.Section("code")
	base := r.b.Linked.Bases["code"]
	stops := 0
	for pass := range 2 { // the second pass hits the register-state cache
		for _, f := range r.fdes {
			for _, in := range code.Insts {
				pc := base + uint64(in.Off)
				if pc < f.PCBegin || pc >= f.PCEnd {
					continue
				}
				ra := pc + uint64(in.Len)
				gen, ref, err := r.unwind(ra)
				where := fmt.Sprintf("pass %d: %s+%#x", pass, r.symAt(f.PCBegin), ra-f.PCBegin)
				_ = where
				if err != nil {
					t.Fatalf("%s: %v", where, err)
				}
				for _, u := range unwindRegs {
					if gen[u.reg] != ref[u.reg] {
						t.Errorf("%s: %v = %#x, reference %#x", where, u.reg, gen[u.reg], ref[u.reg])
					}
				}
				if pass == 0 {
					r.checkCIEInfo(t, where, f)
				}
				stops++
			}
		}
	}
	t.Logf("%d unwinds over %d FDEs", stops, len(r.fdes))
}

// checkCIEInfo compares the CIE info extract_proc_info_from_fde left
// (a miss just ran) with the reference's decoding.
func (r *dwarfRig) checkCIEInfo(t *testing.T, where string, f *ehframe.FDE) {
	t.Helper()
	dci := r.sym[patchpoint.SymUnwCIEInfo]
	got := map[string]uint64{
		"code_align": r.read(dci + patchpoint.OffCIECodeAlign), "data_align": r.read(dci + patchpoint.OffCIEDataAlign),
		"ra_column": r.read(dci + patchpoint.OffCIERetAddrColumn), "cie_start": r.read(dci + patchpoint.OffCIECieInstrStart),
		"fde_start": r.read(dci + patchpoint.OffCIEFdeInstrStart),
	}
	want := map[string]uint64{
		"code_align": f.CIE.CodeAlign, "data_align": uint64(f.CIE.DataAlign), "ra_column": uint64(f.CIE.RAReg),
		"cie_start": f.CIE.InstsAddr, "fde_start": f.InstsAddr,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: CIE info %s = %#x, reference %#x", where, k, got[k], v)
		}
	}
}

// symAt names the function around addr.
func (r *dwarfRig) symAt(addr uint64) string {
	for _, s := range r.b.Image.Symbols {
		if s.Start <= addr && addr < s.End && s.Region != "" {
			return fmt.Sprintf("%s+%#x", s.Name, addr-s.Start)
		}
	}
	return fmt.Sprintf("%#x", addr)
}
