package unicorn

/*
#include "hooks.h"
*/
import "C"

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/osrsim/osrsim/sim"
	"golang.org/x/arch/x86/x86asm"
)

// Core parameterises the out-of-order core model (CycleModel.Core; see
// cycles/README.md, "Out-of-order core"). With it, CycleModel.Cost is each
// class's occupancy of its resource group (reciprocal throughput) instead
// of an additive cost, and the estimate is the retirement time of the last
// instruction of a simple dataflow machine: a front end dispatching
// DispatchWidth instructions per cycle, resource groups, register and
// memory dependencies with latencies, a ROBSize-entry window, and
// mispredictions that restart the front end when the branch resolves.
type Core struct {
	// Instructions dispatched and retired per cycle.
	DispatchWidth, RetireWidth float64
	// ROBSize bounds how far dispatch runs ahead of retirement (1..1024).
	ROBSize int
	// Latency per class: cycles from operands ready to result (for
	// loads: the ALU part after the loaded value, 0 for a plain load).
	Latency [NumClasses]float64
	// LoadLatency: L1 hit, address ready to value. ForwardLatency: a
	// load reading an earlier store's address (store-to-load forwarding);
	// StackForwardLatency: the same for [rsp/rbp+disp] slots.
	LoadLatency, ForwardLatency, StackForwardLatency float64
	// Addresses: take the effective address of every access from memory
	// hooks (exact store-to-load forwarding and 4K aliasing) instead of
	// symbolic [register value + displacement] keys.
	Addresses bool
	// AliasLatency: a load whose address matches an older, not yet
	// committed store's in bits 11:3 but is another address (4K
	// aliasing) waits for that store's commit plus this.
	AliasLatency float64
	// StoreCommitDelay: a store leaves the store queue (writes the cache)
	// this long after it retires.
	StoreCommitDelay float64
	// StoreQueue: a store stays in flight (forwards, or aliases) until
	// this many younger stores were dispatched, or until it retired.
	StoreQueue int
}

// Resource groups of the core model (osr_ii.grp); CycleModel.Cost is the
// occupancy of a class's group.
const (
	grpInt = iota
	grpBranch
	grpLoad
	grpStore
	grpFP
	grpSerial // microcoded / serialising: pushf, popf, locked, fence, div, other
	numGroups
)

// GroupOf is the resource group of a class in the core model.
func GroupOf(c InstClass) int {
	switch c {
	case ClassALU, ClassLea, ClassMul:
		return grpInt
	case ClassCondBranch, ClassJump, ClassCall, ClassIndJump, ClassIndCall, ClassRet:
		return grpBranch
	case ClassLoad:
		return grpLoad
	case ClassStore, ClassRMW, ClassString:
		return grpStore
	case ClassXMM:
		return grpFP
	}
	return grpSerial
}

func (k *Core) validate(name string) error {
	bad := func(v float64) bool { return v < 0 || math.IsNaN(v) || math.IsInf(v, 0) || v > 1e6 }
	if k.DispatchWidth <= 0 || k.RetireWidth <= 0 || bad(k.DispatchWidth) || bad(k.RetireWidth) {
		return fmt.Errorf("cycle model %q: core widths %v/%v must be positive", name, k.DispatchWidth, k.RetireWidth)
	}
	if k.StoreQueue < 0 || k.StoreQueue > 1<<16 {
		return fmt.Errorf("cycle model %q: store_queue %d not in 0..65536", name, k.StoreQueue)
	}
	if k.ROBSize < 1 || k.ROBSize > C.OSR_ROB_MAX {
		return fmt.Errorf("cycle model %q: rob_size %d not in 1..%d", name, k.ROBSize, C.OSR_ROB_MAX)
	}
	for i, v := range k.Latency {
		if bad(v) {
			return fmt.Errorf("cycle model %q: latency of %s is %v", name, InstClass(i), v)
		}
	}
	for _, v := range []float64{k.LoadLatency, k.ForwardLatency, k.StackForwardLatency, k.AliasLatency, k.StoreCommitDelay} {
		if bad(v) {
			return fmt.Errorf("cycle model %q: memory latency %v out of range", name, v)
		}
	}
	return nil
}

// gpr maps an x86asm register to 0..15 (RAX..R15) and its width in bytes.
func gpr(r x86asm.Reg) (int, int, bool) {
	switch {
	case r >= x86asm.RAX && r <= x86asm.R15:
		return int(r - x86asm.RAX), 8, true
	case r >= x86asm.EAX && r <= x86asm.R15L:
		return int(r - x86asm.EAX), 4, true
	case r >= x86asm.AX && r <= x86asm.R15W:
		return int(r - x86asm.AX), 2, true
	case r >= x86asm.AL && r <= x86asm.BL:
		return int(r - x86asm.AL), 1, true
	case r >= x86asm.AH && r <= x86asm.BH:
		return int(r - x86asm.AH), 1, true
	case r >= x86asm.SPB && r <= x86asm.R15B:
		return int(r-x86asm.SPB) + 4, 1, true
	}
	return 0, 0, false
}

const regFlags = C.OSR_REG_FLAGS

type dataflow struct {
	src, dst []int
	mem      int // OSR_MEM_*
	nacc     int // accesses the emulator's memory hooks report
	base     int // -1 none, C.OSR_REG_RIP
	index    int
	disp     int64
	opl      bool
	indep    bool
	vop      int
	imm      int64
	rspDelta int32
	rspPost  int32
}

func addUniq(s []int, r int) []int {
	for _, x := range s {
		if x == r {
			return s
		}
	}
	return append(s, r)
}

// analyze derives the registers an instruction reads and writes, its
// memory access and how it changes symbolic register values.
func analyze(in x86asm.Inst, pc uint64, cl InstClass) dataflow {
	df := dataflow{base: -1, index: -1, vop: C.OSR_V_FRESH}
	var memArg *x86asm.Mem
	memAt := -1
	nargs := 0
	for i, a := range in.Args {
		if a == nil {
			break
		}
		nargs = i + 1
		if m, ok := a.(x86asm.Mem); ok {
			mm := m
			memArg, memAt = &mm, i
		}
	}
	if memArg != nil && in.Op != x86asm.LEA && in.Op != x86asm.NOP {
		switch cl {
		case ClassLoad:
			df.mem = C.OSR_MEM_LOAD
		case ClassStore:
			df.mem = C.OSR_MEM_STORE
		case ClassRMW, ClassLocked:
			df.mem = C.OSR_MEM_RMW
		default:
			if memAt == 0 && nargs > 1 && in.Op != x86asm.CMP && in.Op != x86asm.TEST {
				df.mem = C.OSR_MEM_RMW
			} else {
				df.mem = C.OSR_MEM_LOAD
			}
		}
	}
	if memArg != nil {
		switch {
		case memArg.Base == x86asm.RIP:
			df.base = C.OSR_REG_RIP
			df.disp = int64(pc) + int64(in.Len) + memArg.Disp
		case memArg.Base == 0 && memArg.Index == 0:
			df.base = C.OSR_REG_RIP
			df.disp = memArg.Disp
		default:
			if r, _, ok := gpr(memArg.Base); ok {
				df.base = r
			}
			if r, _, ok := gpr(memArg.Index); ok {
				df.index = r
			}
			df.disp = memArg.Disp
		}
	}
	reg := func(i int) (int, int, bool) {
		if i >= nargs {
			return 0, 0, false
		}
		r, ok := in.Args[i].(x86asm.Reg)
		if !ok {
			return 0, 0, false
		}
		return gpr(r)
	}
	imm := func(i int) (int64, bool) {
		if i >= nargs {
			return 0, false
		}
		v, ok := in.Args[i].(x86asm.Imm)
		return int64(v), ok
	}
	readArgs := func(from int) {
		for i := from; i < nargs; i++ {
			if r, _, ok := reg(i); ok {
				df.src = addUniq(df.src, r)
			}
		}
	}
	// Destination (argument 0) write, with a merge read for 8/16-bit.
	writeDst := func(alsoRead bool) {
		if r, w, ok := reg(0); ok {
			if alsoRead || w < 4 {
				df.src = addUniq(df.src, r)
			}
			df.dst = addUniq(df.dst, r)
		}
	}
	flagsOut := func() { df.dst = addUniq(df.dst, regFlags) }
	flagsIn := func() { df.src = addUniq(df.src, regFlags) }
	df.opl = true
	switch in.Op {
	case x86asm.MOV, x86asm.MOVZX, x86asm.MOVSX, x86asm.MOVSXD:
		df.opl = false
		readArgs(1)
		writeDst(false)
		if r, w, ok := reg(0); ok && w == 8 {
			if s, sw, ok := reg(1); ok && sw == 8 && in.Op == x86asm.MOV {
				df.vop, df.src = C.OSR_V_COPY, []int{s}
				df.dst = []int{r}
			} else if v, ok := imm(1); ok {
				df.vop, df.imm = C.OSR_V_CONST, v
			}
		} else if ok && w == 4 {
			if v, ok := imm(1); ok {
				df.vop, df.imm = C.OSR_V_CONST, int64(uint32(v))
			}
		}
		if memAt == 0 {
			df.vop = C.OSR_V_NONE
		}
	case x86asm.LEA:
		df.src = nil
		if df.base >= 0 && df.base < 16 {
			df.src = append(df.src, df.base)
		}
		if df.index >= 0 {
			df.src = addUniq(df.src, df.index)
		}
		writeDst(false)
		if df.index < 0 && df.base >= 0 {
			df.vop = C.OSR_V_LEA
		}
	case x86asm.ADD, x86asm.SUB:
		readArgs(0)
		writeDst(true)
		flagsOut()
		if r, w, ok := reg(0); ok && w == 8 {
			if v, ok := imm(1); ok {
				if in.Op == x86asm.SUB {
					v = -v
				}
				df.vop, df.imm = C.OSR_V_ADDI, v
				if r == 4 { // the stack engine: rsp arithmetic is not a dependency
					df.src, df.dst = nil, []int{regFlags}
					df.vop, df.rspPost = C.OSR_V_NONE, int32(v)
				}
			}
		}
		if in.Op == x86asm.SUB {
			if a, _, ok := reg(0); ok {
				if b, _, ok := reg(1); ok && a == b {
					df.indep = true
				}
			}
		}
		if memAt == 0 {
			df.vop = C.OSR_V_NONE
		}
	case x86asm.XOR:
		readArgs(0)
		writeDst(true)
		flagsOut()
		if a, _, ok := reg(0); ok {
			if b, _, ok := reg(1); ok && a == b {
				df.indep = true
			}
		}
		if memAt == 0 {
			df.vop = C.OSR_V_NONE
		}
	case x86asm.CMP, x86asm.TEST, x86asm.BT:
		readArgs(0)
		flagsOut()
		df.vop = C.OSR_V_NONE
	case x86asm.PUSH:
		readArgs(0)
		df.rspDelta = -8
		df.base, df.disp, df.mem = 4, 0, C.OSR_MEM_STORE
		if memArg != nil {
			df.mem = C.OSR_MEM_RMW // push [m]: modelled at the stack slot
		}
		df.vop = C.OSR_V_NONE
	case x86asm.POP:
		df.base, df.disp, df.mem = 4, 0, C.OSR_MEM_LOAD
		df.rspPost = 8
		df.opl = false
		writeDst(false)
		if memAt == 0 {
			df.vop = C.OSR_V_NONE
		}
	case x86asm.CALL:
		readArgs(0)
		df.rspDelta = -8
		df.base, df.disp, df.mem = 4, 0, C.OSR_MEM_STORE
		df.vop = C.OSR_V_NONE
		if memArg != nil { // call [m]: the target load is not tracked as a slot
			df.src = nil
			if b := memArg.Base; b != 0 && b != x86asm.RIP {
				if r, _, ok := gpr(b); ok {
					df.src = append(df.src, r)
				}
			}
		}
	case x86asm.RET:
		df.base, df.disp, df.mem = 4, 0, C.OSR_MEM_LOAD
		df.rspPost = 8
		df.opl = false
		df.vop = C.OSR_V_NONE
	case x86asm.JMP:
		readArgs(0)
		df.vop = C.OSR_V_NONE
		if memArg != nil {
			df.src = nil
			if r, _, ok := gpr(memArg.Base); ok {
				df.src = append(df.src, r)
			}
			df.mem = C.OSR_MEM_LOAD
		}
	case x86asm.NOP:
		df.vop = C.OSR_V_NONE
	case x86asm.MUL, x86asm.IMUL, x86asm.DIV, x86asm.IDIV:
		readArgs(0)
		if nargs == 1 {
			df.src = addUniq(addUniq(df.src, 0), 2)
			df.dst = []int{0, 2}
		} else if nargs == 3 {
			df.src = nil
			readArgs(1)
			writeDst(false)
		} else {
			writeDst(true)
		}
		flagsOut()
	case x86asm.CQO, x86asm.CDQ, x86asm.CDQE:
		df.src, df.dst = []int{0}, []int{2}
		if in.Op == x86asm.CDQE {
			df.dst = []int{0}
		}
	case x86asm.PUSHFQ, x86asm.PUSHF:
		flagsIn()
		df.rspDelta = -8
		df.base, df.disp, df.mem = 4, 0, C.OSR_MEM_STORE
		df.vop = C.OSR_V_NONE
	case x86asm.POPFQ, x86asm.POPF:
		df.base, df.disp, df.mem = 4, 0, C.OSR_MEM_LOAD
		df.rspPost = 8
		df.dst = []int{regFlags}
		df.vop = C.OSR_V_NONE
	case x86asm.XCHG:
		readArgs(0)
		for i := 0; i < nargs; i++ {
			if r, _, ok := reg(i); ok {
				df.dst = addUniq(df.dst, r)
			}
		}
	default:
		switch cl {
		case ClassCondBranch:
			flagsIn()
			if in.Op == x86asm.JRCXZ || in.Op == x86asm.JECXZ || in.Op == x86asm.LOOP {
				df.src = addUniq(df.src, 1)
			}
			df.vop = C.OSR_V_NONE
		default:
			name := in.Op.String()
			if len(name) > 4 && name[:4] == "CMOV" || in.Op == x86asm.ADC || in.Op == x86asm.SBB ||
				len(name) > 3 && name[:3] == "SET" {
				flagsIn()
			}
			readArgs(0)
			if cl != ClassXMM {
				writeDst(true)
				flagsOut()
			}
			if memAt == 0 {
				df.vop = C.OSR_V_NONE
			}
		}
	}
	// Accesses as Unicorn's memory hooks report them (QEMU splits 16-byte
	// vector accesses in two; atomics and string ops are not counted, so a
	// block holding one falls back to symbolic addresses).
	switch {
	case df.mem == 0 || cl == ClassLocked || cl == ClassString:
	case df.mem == C.OSR_MEM_RMW:
		df.nacc = 2
	case in.Op == x86asm.CALL && memArg != nil:
		df.nacc = 2
	case cl == ClassXMM && memArg != nil && memArg.Base != 0 && (in.Op == x86asm.MOVDQU || in.Op == x86asm.MOVDQA || in.Op == x86asm.MOVUPS || in.Op == x86asm.MOVAPS):
		df.nacc = 2
	case cl == ClassXMM:
	default:
		df.nacc = 1
	}
	// Address registers are sources of the access, not of the value.
	if df.mem != 0 && df.base >= 0 {
		var s []int
		for _, r := range df.src {
			if memArg != nil && (r == df.base || r == df.index) && !isArgReg(in, r, nargs) {
				continue
			}
			s = append(s, r)
		}
		df.src = s
	}
	return df
}

func isArgReg(in x86asm.Inst, r, nargs int) bool {
	for i := 0; i < nargs; i++ {
		if a, ok := in.Args[i].(x86asm.Reg); ok {
			if g, _, ok := gpr(a); ok && g == r {
				return true
			}
		}
	}
	return false
}

// fillCore writes the per-instruction table of the core model.
func (l *layout) fillCore(im *sim.Image, s *C.osr_state, c *C.osr_cyc, m *CycleModel) error {
	ninst := uint32(unsafe.Slice(s.prefix, l.size+1)[l.size])
	if C.osr_cyc_core_new(c, C.uint32_t(ninst)) != 0 {
		return fmt.Errorf("unicorn: out of memory for core tables")
	}
	k := m.Core
	kc := c.core
	ii := unsafe.Slice(kc.ii, ninst+1)
	idx := 0
	for _, a := range im.InstStarts {
		if a < l.base || a-l.base >= l.size {
			continue
		}
		if idx >= int(ninst) {
			break
		}
		e := &ii[idx]
		idx++
		cl := ClassOther
		df := dataflow{base: -1, index: -1, vop: C.OSR_V_FRESH}
		if in, err := x86asm.Decode(codeBytes(im, a), 64); err == nil {
			cl, _ = classify(in)
			df = analyze(in, a, cl)
		}
		e.grp = C.uint8_t(GroupOf(cl))
		e.mem = C.uint8_t(df.mem)
		e.base, e.index = C.OSR_REG_NONE, C.OSR_REG_NONE
		if df.base >= 0 {
			e.base = C.uint8_t(df.base)
		}
		if df.index >= 0 {
			e.index = C.uint8_t(df.index)
		}
		if df.base == 4 || df.base == 5 {
			if df.index < 0 {
				e.stack = 1
			}
		}
		if len(df.src) > 4 {
			df.src = df.src[:4]
		}
		if len(df.dst) > 2 {
			df.dst = df.dst[:2]
		}
		e.nsrc, e.ndst = C.uint8_t(len(df.src)), C.uint8_t(len(df.dst))
		for j, r := range df.src {
			e.src[j] = C.uint8_t(r)
		}
		for j, r := range df.dst {
			e.dst[j] = C.uint8_t(r)
		}
		if df.vop == C.OSR_V_COPY && len(df.src) == 1 {
			// src[0] is the copied register.
		} else if df.vop == C.OSR_V_COPY {
			df.vop = C.OSR_V_FRESH
		}
		if (df.vop == C.OSR_V_ADDI || df.vop == C.OSR_V_LEA || df.vop == C.OSR_V_CONST || df.vop == C.OSR_V_COPY) &&
			(len(df.dst) == 0 || df.dst[0] >= 16) {
			df.vop = C.OSR_V_FRESH
		}
		e.vop = C.uint8_t(df.vop)
		if df.opl {
			e.opl = 1
		}
		if df.indep {
			e.indep = 1
		}
		e.nacc = C.uint8_t(df.nacc)
		e.rsp_delta, e.rsp_post = C.int32_t(df.rspDelta), C.int32_t(df.rspPost)
		e.disp, e.imm = C.int64_t(df.disp), C.int64_t(df.imm)
		e.lat = C.uint64_t(fixed(k.Latency[cl]))
		e.occ = C.uint64_t(fixed(m.Cost[cl]))
	}
	np := unsafe.Slice(kc.nacc_prefix, ninst+1)
	for i := uint32(0); i < ninst; i++ {
		np[i+1] = np[i] + C.uint32_t(ii[i].nacc)
	}
	kc.inv_width = C.uint64_t(fixed(1 / k.DispatchWidth))
	kc.inv_retire = C.uint64_t(fixed(1 / k.RetireWidth))
	kc.rob = C.uint32_t(k.ROBSize)
	kc.load_lat = C.uint64_t(fixed(k.LoadLatency))
	kc.fwd_lat = C.uint64_t(fixed(k.ForwardLatency))
	kc.fwd_stack_lat = C.uint64_t(fixed(k.StackForwardLatency))
	kc.alias_lat = C.uint64_t(fixed(k.AliasLatency))
	kc.stq = C.uint32_t(k.StoreQueue)
	kc.commit_delay = C.uint64_t(fixed(k.StoreCommitDelay))
	return nil
}
