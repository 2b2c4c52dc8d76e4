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
)

func frameWord(addr uint64) uint64  { return 0x6b6b_0000_0000_0000 | addr&0xFFFF_FFFF }
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
				where := fmt.Sprintf("pass %d: %s at %s", pass, r.symAt(f.PCBegin), r.symAt(ra))
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

// Scratch for run_cfi_program: a state record, a CIE info, its ip, addr
// and rs_stack variables, on the host stack page below the calls' stack.
const (
	cfaSR    = unicorn.HostStackBase + 0xA000
	cfaDCI   = cfaSR + patchpoint.StateRecordSize
	cfaIP    = cfaDCI + patchpoint.CIEInfoSize
	cfaAddr  = cfaIP + 8
	cfaStack = cfaAddr + 8
	// cfaProgram holds a made-up CFA program.
	cfaProgram = cfaStack + 8
)

func (r *dwarfRig) write64(addr, v uint64) {
	r.t.Helper()
	if err := r.e.MemWrite(addr, binary.LittleEndian.AppendUint64(nil, v)); err != nil {
		r.t.Fatal(err)
	}
}

// runCFA runs run_cfi_program over [from, to) from location ip, without
// an IP limit, and returns the location it reached.
func (r *dwarfRig) runCFA(from, to, ip uint64) uint64 {
	r.t.Helper()
	r.write64(cfaIP, ip)
	r.write64(cfaAddr, from)
	if ret := int32(r.callSysV(patchpoint.SymUnwRunCFIProgram, 0, cfaSR, cfaIP, ^uint64(0), cfaAddr, to, cfaStack, cfaDCI)); ret != 0 {
		r.t.Fatalf("run_cfi_program over [%#x, %#x): %d", from, to, ret)
	}
	for st := r.read(cfaStack); st != 0; st = r.read(cfaStack) { // empty_rstate_stack
		r.write64(cfaStack, r.read(st+patchpoint.OffStackableNext))
		r.callSysV(patchpoint.SymUnwFreeRegState, st)
	}
	return r.read(cfaIP)
}

// cfaState reads the current state's columns.
func (r *dwarfRig) cfaState() (where [patchpoint.UnwColumns]uint8, val [patchpoint.UnwColumns]int64) {
	r.t.Helper()
	buf := make([]byte, patchpoint.RegStateSize)
	if err := r.e.MemRead(cfaSR+patchpoint.OffSRCurrent, buf); err != nil {
		r.t.Fatal(err)
	}
	copy(where[:], buf[patchpoint.OffRSWhere:])
	for i := range val {
		val[i] = int64(binary.LittleEndian.Uint64(buf[patchpoint.OffRSVal+8*i:]))
	}
	return where, val
}

// TestDWARFInterpreterInstructionByInstruction: for every FDE of the
// linux-x64 helper, the generated run_cfi_program run over each prefix of
// the FDE's program (after the CIE's, as setup_fde runs it) leaves the
// state the reference's trace has after that many instructions.
func TestDWARFInterpreterInstructionByInstruction(t *testing.T) {
	r := newDWARFRig(t, patchpoint.Helper)
	ops := map[ehframe.Op]int{}
	for _, f := range r.fdes {
		r.compareCFAPrefixes(t, f, ops)
	}
	// A program of the operations the records do not use but the
	// interpreter handles: a 4-byte advance and a def_cfa after it.
	var w ehframe.CFAWriter
	w.DefCFAOffset(16)
	w.Offset(ehframe.RBX, -16)
	w.AdvanceTo(0x12345) // advance_loc4
	w.DefCFA(ehframe.RBP, 32)
	w.AdvanceTo(0x12346)
	w.Restore(ehframe.RBX)
	prog, err := w.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.e.MemWrite(cfaProgram, prog); err != nil {
		t.Fatal(err)
	}
	synthetic := &ehframe.FDE{CIE: r.fdes[0].CIE, PCBegin: 0x100000, PCEnd: 0x200000, Insts: prog, InstsAddr: cfaProgram}
	r.compareCFAPrefixes(t, synthetic, ops)
	t.Logf("instructions compared, by opcode: %v", ops)
	for _, op := range []ehframe.Op{ehframe.CFADefCFAOffset, ehframe.CFAOffset, ehframe.CFAAdvanceLoc, ehframe.CFAAdvanceLoc1,
		ehframe.CFAAdvanceLoc2, ehframe.CFAAdvanceLoc4, ehframe.CFARestore, ehframe.CFARememberState, ehframe.CFARestoreState,
		ehframe.CFADefCFARegister, ehframe.CFADefCFA, ehframe.CFANop} {
		if ops[op] == 0 {
			t.Errorf("no program uses %v", op)
		}
	}
}

// compareCFAPrefixes runs f's program to every instruction boundary and
// compares each state with the reference's trace; it counts the opcodes
// compared in ops.
func (r *dwarfRig) compareCFAPrefixes(t *testing.T, f *ehframe.FDE, ops map[ehframe.Op]int) {
	t.Helper()
	var trace []ehframe.Trace
	if _, err := f.RowAt(f.PCEnd-1, func(tr ehframe.Trace) { trace = append(trace, tr) }); err != nil {
		t.Fatal(err)
	}
	// setup_fde: every column "same value" but RSP, which is the CFA;
	// the CIE's program; the state kept as the initial one.
	sr := make([]byte, patchpoint.StateRecordSize)
	cur := sr[patchpoint.OffSRCurrent:]
	binary.LittleEndian.PutUint64(cur[patchpoint.OffRSRetAddrColumn:], uint64(f.CIE.RAReg))
	for c := range patchpoint.UnwColumns {
		cur[patchpoint.OffRSWhere+c] = patchpoint.WhereSame
	}
	cur[patchpoint.OffRSWhere+int(ehframe.RSP)] = patchpoint.WhereCFA
	dci := make([]byte, patchpoint.CIEInfoSize)
	binary.LittleEndian.PutUint64(dci[patchpoint.OffCIECodeAlign:], f.CIE.CodeAlign)
	binary.LittleEndian.PutUint64(dci[patchpoint.OffCIEDataAlign:], uint64(f.CIE.DataAlign))
	for addr, b := range map[uint64][]byte{cfaSR: sr, cfaDCI: dci} {
		if err := r.e.MemWrite(addr, b); err != nil {
			t.Fatal(err)
		}
	}
	r.write64(cfaStack, 0)
	r.runCFA(f.CIE.InstsAddr, f.CIE.InstsAddr+uint64(len(f.CIE.Insts)), 0)
	cie := make([]byte, patchpoint.RegStateSize)
	if err := r.e.MemRead(cfaSR+patchpoint.OffSRCurrent, cie); err != nil {
		t.Fatal(err)
	}
	if err := r.e.MemWrite(cfaSR+patchpoint.OffSRInitial, cie); err != nil {
		t.Fatal(err)
	}
	for k, tr := range trace {
		// The program's first k+1 instructions, from the CIE's state.
		if err := r.e.MemWrite(cfaSR+patchpoint.OffSRCurrent, cie); err != nil {
			t.Fatal(err)
		}
		loc := r.runCFA(f.InstsAddr, tr.Inst.Addr+uint64(tr.Inst.Len), f.PCBegin)
		where, val := r.cfaState()
		at := fmt.Sprintf("%s: instruction %d (%v)", r.symAt(f.PCBegin), k, tr.Inst)
		if loc != tr.Row.Loc {
			t.Errorf("%s: location %#x, reference %#x", at, loc, tr.Row.Loc)
		}
		compareCFAState(t, at, where, val, tr.Row)
		ops[tr.Inst.Op]++
	}
}

// compareCFAState compares libunwind's columns with a reference row.
func compareCFAState(t *testing.T, at string, where [patchpoint.UnwColumns]uint8, val [patchpoint.UnwColumns]int64, row ehframe.Row) {
	t.Helper()
	if where[patchpoint.UnwCFARegColumn] != patchpoint.WhereReg || ehframe.Reg(val[patchpoint.UnwCFARegColumn]) != row.CFA.Reg ||
		val[patchpoint.UnwCFAOffColumn] != row.CFA.Offset {
		t.Errorf("%s: CFA where %d %v%+d, reference %v", at, where[patchpoint.UnwCFARegColumn],
			ehframe.Reg(val[patchpoint.UnwCFARegColumn]), val[patchpoint.UnwCFAOffColumn], row.CFA)
	}
	for c := range patchpoint.UnwNumPreserved {
		rule := row.Regs[c]
		w, v := where[c], val[c]
		ok := false
		switch {
		case ehframe.Reg(c) == ehframe.RSP && rule.Kind == ehframe.RuleUnset:
			ok = w == patchpoint.WhereCFA // the stack pointer defaults to the CFA
		case rule.Kind == ehframe.RuleUnset || rule.Kind == ehframe.RuleSameValue:
			ok = w == patchpoint.WhereSame
		case rule.Kind == ehframe.RuleOffset:
			ok = w == patchpoint.WhereCFARel && v == rule.Offset
		case rule.Kind == ehframe.RuleUndefined:
			ok = w == patchpoint.WhereUndef
		case rule.Kind == ehframe.RuleRegister:
			ok = w == patchpoint.WhereReg && ehframe.Reg(v) == rule.Reg
		}
		if !ok {
			t.Errorf("%s: %v where %d val %d, reference %v", at, ehframe.Reg(c), w, v, rule)
		}
	}
}
