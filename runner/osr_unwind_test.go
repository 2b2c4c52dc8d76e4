package runner

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"

	"golang.org/x/arch/x86/x86asm"

	. "github.com/osrsim/osrsim/emitter"
	"github.com/osrsim/osrsim/jit"
	"github.com/osrsim/osrsim/patchpoint"
	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/unicorn"
	"github.com/osrsim/osrsim/winunwind"
	"github.com/osrsim/osrsim/workload"
)

// From every call site inside the OSR method, one virtual unwind (its
// unwind info carries tier0's frame as phantom codes) reaches tier0's
// caller: the RIP and RSP of the call into tier0 and the RBP and callee
// saves the caller had. Checked for the generated unwinder (code_info and
// virtual_unwind, where the strategy has them) and the Go reference, at the
// first two arrivals in the OSR method: the patchpoint transition and a
// resumption.
func TestOSRUnwindReachesTier0Caller(t *testing.T) {
	for _, p := range cases()[:3] { // the await-loop shapes
		for _, s := range patchpoint.Strategies {
			t.Run(name(p, s), func(t *testing.T) {
				checkOSRUnwind(t, build(t, p, s))
			})
		}
	}
}

// osrUnwindRig drives a workload's machine by hand.
type osrUnwindRig struct {
	b   *workload.Built
	e   *unicorn.Engine
	pc  uint64
	osr FuncUnwind
}

// Scratch for running the generated unwinder: this engine's host stack
// page, below the frame Run would use.
const (
	scratchCtx   = unicorn.HostStackBase + 0x1000
	scratchECI   = unicorn.HostStackBase + 0x2000
	scratchStack = unicorn.HostStackBase + 0x8000
)

func checkOSRUnwind(t *testing.T, b *workload.Built) {
	m, err := unicorn.New(b.Image, unicorn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	r := &osrUnwindRig{b: b, e: m.Engine(), pc: b.Image.Entry}
	osrName := jit.OSRSym(b.Method.Name, workload.ILLoop1)
	for _, u := range b.Object.Section("code").Unwind {
		if u.Name == osrName {
			r.osr = u
		}
	}
	for _, reg := range b.Image.Regions {
		if err := r.e.MemWrite(reg.Base, reg.Init); err != nil {
			t.Fatal(err)
		}
	}
	sp := unicorn.HostStackBase + unicorn.HostStackSize - 8
	if err := r.e.MemWrite(sp, binary.LittleEndian.AppendUint64(nil, unicorn.SentinelAddr)); err != nil {
		t.Fatal(err)
	}
	if err := r.e.RegWrite(unicorn.RSP, sp); err != nil {
		t.Fatal(err)
	}
	sites := r.callSites(t)
	if len(sites) == 0 {
		t.Fatalf("no call in %s", osrName)
	}
	tier0 := b.Linked.Symbols[jit.Tier0Sym(b.Method.Name)]
	// Each site is checked after the next entry into tier0, whose frame the
	// OSR code there runs on; a site not reached before the following
	// entry would fail the comparison, not pass it. The sites of the
	// resumption path (before the OSR method's normal entry) come last:
	// the patchpoint transition does not reach them, the resumption after
	// the last suspension site does.
	for arrival := range 2 {
		for i, site := range sites {
			caller := r.runTo(t, tier0)
			if arrival == 0 && i == 0 {
				r.distinctSaves(t, &caller)
			}
			at := r.runTo(t, site)
			where := fmt.Sprintf("arrival %d, call at %s+%#x", arrival, osrName, site-r.b.Linked.Symbols[osrName])
			r.check(t, where, caller, at)
		}
	}
}

// distinctSaves gives RBP and the callee saves distinct values at the first
// entry into tier0, so that no restore can be right by chance (main keeps
// nothing in them; later entries come from the resume stub, whose callers
// do).
func (r *osrUnwindRig) distinctSaves(t *testing.T, regs *unicorn.Regs) {
	t.Helper()
	for _, reg := range append([]Reg{RBP}, jit.CalleeSaves[:]...) {
		regs.GPR[reg] = 0xCA11_0000_0000 + uint64(reg)
		if err := r.e.RegWrite(unicorn.GPRs[reg], regs.GPR[reg]); err != nil {
			t.Fatal(err)
		}
	}
}

// callSites lists the addresses of the OSR method's call instructions.
func (r *osrUnwindRig) callSites(t *testing.T) []uint64 {
	code, base := r.b.Linked.Bytes["code"], r.b.Linked.Bases["code"]
	var sites []uint64
	for _, in := range r.b.Object.Section("code").Insts {
		if in.Off < r.osr.Start || in.Off >= r.osr.End {
			continue
		}
		inst, err := x86asm.Decode(code[in.Off:in.Off+in.Len], 64)
		if err != nil {
			t.Fatal(err)
		}
		if inst.Op == x86asm.CALL {
			sites = append(sites, base+uint64(in.Off))
		}
	}
	entry := r.b.Linked.Labels[r.osr.Name+".entry"]
	if entry == 0 {
		t.Fatalf("no entry label in %s", r.osr.Name)
	}
	slices.SortStableFunc(sites, func(a, b uint64) int { return cmp.Compare(b2i(a < entry), b2i(b < entry)) })
	return sites
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// runTo runs on to addr and returns the registers there.
func (r *osrUnwindRig) runTo(t *testing.T, addr uint64) unicorn.Regs {
	t.Helper()
	// Translated blocks can carry a stale stop address (unicorn#2341).
	if err := r.e.FlushCode(); err != nil {
		t.Fatal(err)
	}
	if err := r.e.Start(r.pc, addr, 0); err != nil {
		t.Fatalf("run to %#x: %v", addr, err)
	}
	regs, err := r.e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if regs.RIP != addr {
		t.Fatalf("stopped at %#x, not %#x: the program never got there", regs.RIP, addr)
	}
	r.pc = addr
	return regs
}

// check unwinds the OSR frame from the call at at.RIP, as seen after the
// callee returned, and compares with the registers at tier0's entry.
func (r *osrUnwindRig) check(t *testing.T, where string, caller, at unicorn.Regs) {
	t.Helper()
	inst, err := x86asm.Decode(r.b.Linked.Bytes["code"][at.RIP-r.b.Linked.Bases["code"]:], 64)
	if err != nil {
		t.Fatal(err)
	}
	in := winunwind.Context{GPR: at.GPR, RIP: at.RIP + uint64(inst.Len)} // the return address
	stack := winunwind.Stack{Base: at.GPR[RSP], Bytes: make([]byte, sim.StackBase+workload.StackSize-at.GPR[RSP])}
	if err := r.e.MemRead(stack.Base, stack.Bytes); err != nil {
		t.Fatal(err)
	}
	ret := make([]byte, 8)
	if err := r.e.MemRead(caller.GPR[RSP], ret); err != nil {
		t.Fatal(err)
	}
	want := caller
	want.GPR[RSP] += 8
	want.RIP = binary.LittleEndian.Uint64(ret)

	ref := in
	fn := winunwind.Function{Begin: r.b.Linked.Symbols[r.osr.Name], End: r.b.Linked.SymbolEnds[r.osr.Name], Info: r.osr.Info}
	code := winunwind.Stack{Base: r.b.Linked.Bases["code"], Bytes: r.b.Linked.Bytes["code"]}
	if _, _, err := winunwind.VirtualUnwind(&ref, fn, stack, code); err != nil {
		t.Fatalf("%s: reference: %v", where, err)
	}
	compareCaller(t, where+", reference", ref, want)
	if _, ok := r.b.Linked.Symbols[patchpoint.SymVirtualUnwind]; !ok {
		return // helper-return transitions without unwinding
	}
	gen := r.generated(t, in)
	compareCaller(t, where+", generated", gen, want)
	if gen != ref {
		t.Errorf("%s: generated %+v, reference %+v", where, gen, ref)
	}
	// Back to where the program stopped.
	if err := r.e.RegWriteBatch(unicorn.GPRs[:], at.GPR[:]); err != nil {
		t.Fatal(err)
	}
	if err := r.e.RegWrite(unicorn.RFLAGS, at.RFLAGS); err != nil {
		t.Fatal(err)
	}
}

// compareCaller checks RIP, RSP, RBP and the callee saves.
func compareCaller(t *testing.T, where string, got winunwind.Context, want unicorn.Regs) {
	t.Helper()
	if got.RIP != want.RIP {
		t.Errorf("%s: RIP %#x, want %#x", where, got.RIP, want.RIP)
	}
	for _, reg := range append([]Reg{RSP, RBP}, jit.CalleeSaves[:]...) {
		if got.GPR[reg] != want.GPR[reg] {
			t.Errorf("%s: %v %#x, want %#x", where, reg, got.GPR[reg], want.GPR[reg])
		}
	}
}

// generated runs the helper's code_info(ctx.RIP) and virtual_unwind(ctx,
// module base, function entry) on in, on a scratch stack.
func (r *osrUnwindRig) generated(t *testing.T, in winunwind.Context) winunwind.Context {
	t.Helper()
	c := &callRig{t: t, e: r.e, sym: r.b.Linked.Symbols, flush: true}
	var buf bytes.Buffer
	ctx := patchpoint.Context{GPR: in.GPR, RIP: in.RIP}
	ctx.FltSave.XMM = in.XMM
	binary.Write(&buf, binary.LittleEndian, &ctx)
	if err := r.e.MemWrite(scratchCtx, buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	if c.call(patchpoint.SymCodeInfo, in.RIP, scratchECI) == 0 {
		t.Fatalf("code_info(%#x) found no method", in.RIP)
	}
	rangeSection := c.read(scratchECI + patchpoint.OffECIRangeSection)
	moduleBase := c.read(c.read(rangeSection+patchpoint.OffRSHeapList) + patchpoint.OffHLMapBase)
	c.call(patchpoint.SymVirtualUnwind, scratchCtx, moduleBase, c.read(scratchECI+patchpoint.OffECIFunctionEntry))
	out := make([]byte, patchpoint.ContextSize)
	if err := r.e.MemRead(scratchCtx, out); err != nil {
		t.Fatal(err)
	}
	if err := binary.Read(bytes.NewReader(out), binary.LittleEndian, &ctx); err != nil {
		t.Fatal(err)
	}
	return winunwind.Context{GPR: ctx.GPR, RIP: ctx.RIP, XMM: ctx.FltSave.XMM}
}
