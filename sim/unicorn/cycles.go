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

// InstClass is an instruction's cost class in the cycle model. The model,
// its classes, predictors and default numbers are documented in package
// cycles (cycles/README.md); this package only evaluates it in the hooks.
type InstClass uint8

const (
	ClassALU        InstClass = iota // register/immediate integer ops and moves, nop, setcc/cmov on registers
	ClassLoad                        // reads memory, writes none: mov r,[m]; op r,[m]; cmp [m],x; pop r
	ClassStore                       // writes memory, reads none: mov [m],x; push r/imm; setcc [m]
	ClassRMW                         // reads and writes memory: op [m],x; inc [m]; push [m]
	ClassLea                         // lea
	ClassMul                         // imul, mul
	ClassDiv                         // div, idiv
	ClassCondBranch                  // jcc, jrcxz, loop
	ClassJump                        // direct jmp
	ClassCall                        // direct call
	ClassIndJump                     // jmp reg / jmp [m]
	ClassIndCall                     // call reg / call [m]
	ClassRet                         // ret
	ClassLocked                      // lock-prefixed ops, xchg with memory
	ClassXMM                         // SSE/AVX moves and ops (any operand kinds)
	ClassPushf                       // pushfq
	ClassPopf                        // popfq
	ClassString                      // string ops (movs, stos, ...), per iteration with rep
	ClassFence                       // mfence, lfence, sfence
	ClassOther                       // anything else (cpuid, ud2, ...)
	NumClasses
)

var classNames = [NumClasses]string{
	"alu", "load", "store", "rmw", "lea", "mul", "div", "cond_branch", "jump", "call",
	"ind_jump", "ind_call", "ret", "locked", "xmm", "pushf", "popf", "string", "fence", "other",
}

// String is the class's name in calibration files and reports.
func (c InstClass) String() string {
	if c < NumClasses {
		return classNames[c]
	}
	return fmt.Sprintf("class(%d)", uint8(c))
}

// ClassByName returns the class named s (as String gives it).
func ClassByName(s string) (InstClass, bool) {
	for i, n := range classNames {
		if n == s {
			return InstClass(i), true
		}
	}
	return 0, false
}

// Control-transfer kinds of an instruction, for the predictors.
const (
	kindOther = C.OSR_K_OTHER
	kindCond  = C.OSR_K_COND
	kindJmp   = C.OSR_K_JMP
	kindCall  = C.OSR_K_CALL
	kindIJmp  = C.OSR_K_IJMP
	kindICall = C.OSR_K_ICALL
	kindRet   = C.OSR_K_RET
)

func hasPrefix(in *x86asm.Inst, p x86asm.Prefix) bool {
	for _, q := range in.Prefix {
		if q == 0 {
			break
		}
		if q&0xff == p {
			return true
		}
	}
	return false
}

func isXMM(a x86asm.Arg) bool {
	r, ok := a.(x86asm.Reg)
	return ok && (r >= x86asm.X0 && r <= x86asm.X15 || r >= x86asm.M0 && r <= x86asm.M7)
}

// Classify returns the cost class of a decoded instruction and its
// control-transfer kind for the predictors.
func Classify(in x86asm.Inst) InstClass {
	c, _ := classify(in)
	return c
}

func classify(in x86asm.Inst) (InstClass, int) {
	memAt := -1
	xmm := false
	for i, a := range in.Args {
		if a == nil {
			break
		}
		if _, ok := a.(x86asm.Mem); ok {
			memAt = i
		}
		if isXMM(a) {
			xmm = true
		}
	}
	if hasPrefix(&in, x86asm.PrefixLOCK) {
		return ClassLocked, kindOther
	}
	switch in.Op {
	case x86asm.JA, x86asm.JAE, x86asm.JB, x86asm.JBE, x86asm.JE, x86asm.JNE, x86asm.JG, x86asm.JGE,
		x86asm.JL, x86asm.JLE, x86asm.JO, x86asm.JNO, x86asm.JP, x86asm.JNP, x86asm.JS, x86asm.JNS,
		x86asm.JRCXZ, x86asm.JECXZ, x86asm.JCXZ, x86asm.LOOP, x86asm.LOOPE, x86asm.LOOPNE:
		return ClassCondBranch, kindCond
	case x86asm.JMP:
		if _, ok := in.Args[0].(x86asm.Rel); ok {
			return ClassJump, kindJmp
		}
		return ClassIndJump, kindIJmp
	case x86asm.CALL:
		if _, ok := in.Args[0].(x86asm.Rel); ok {
			return ClassCall, kindCall
		}
		return ClassIndCall, kindICall
	case x86asm.RET:
		return ClassRet, kindRet
	case x86asm.LEA:
		return ClassLea, kindOther
	case x86asm.IMUL, x86asm.MUL:
		return ClassMul, kindOther
	case x86asm.DIV, x86asm.IDIV:
		return ClassDiv, kindOther
	case x86asm.PUSHFQ, x86asm.PUSHF, x86asm.PUSHFD:
		return ClassPushf, kindOther
	case x86asm.POPFQ, x86asm.POPF, x86asm.POPFD:
		return ClassPopf, kindOther
	case x86asm.MFENCE, x86asm.LFENCE, x86asm.SFENCE:
		return ClassFence, kindOther
	case x86asm.MOVSB, x86asm.MOVSW, x86asm.MOVSD, x86asm.MOVSQ, x86asm.STOSB, x86asm.STOSW, x86asm.STOSD,
		x86asm.STOSQ, x86asm.LODSB, x86asm.LODSW, x86asm.LODSD, x86asm.LODSQ, x86asm.CMPSB, x86asm.CMPSW,
		x86asm.CMPSD, x86asm.CMPSQ, x86asm.SCASB, x86asm.SCASW, x86asm.SCASD, x86asm.SCASQ:
		if in.Op == x86asm.MOVSD && xmm { // SSE2 movsd, not the string op
			return ClassXMM, kindOther
		}
		return ClassString, kindOther
	case x86asm.XCHG:
		if memAt >= 0 {
			return ClassLocked, kindOther // xchg with memory is implicitly locked
		}
		return ClassALU, kindOther
	case x86asm.PUSH:
		if memAt >= 0 {
			return ClassRMW, kindOther
		}
		return ClassStore, kindOther
	case x86asm.POP:
		if memAt >= 0 {
			return ClassRMW, kindOther
		}
		return ClassLoad, kindOther
	case x86asm.NOP, x86asm.CPUID, x86asm.UD2, x86asm.HLT, x86asm.INT, x86asm.RDTSC, x86asm.RDTSCP, x86asm.PAUSE:
		if in.Op == x86asm.NOP {
			return ClassALU, kindOther
		}
		return ClassOther, kindOther
	}
	if xmm {
		return ClassXMM, kindOther
	}
	if memAt < 0 {
		return ClassALU, kindOther
	}
	// A memory operand: is it written, read, or both? Intel order puts the
	// destination first.
	if memAt != 0 {
		return ClassLoad, kindOther
	}
	switch in.Op {
	case x86asm.MOV, x86asm.MOVNTI,
		x86asm.SETA, x86asm.SETAE, x86asm.SETB, x86asm.SETBE, x86asm.SETE, x86asm.SETNE, x86asm.SETG,
		x86asm.SETGE, x86asm.SETL, x86asm.SETLE, x86asm.SETO, x86asm.SETNO, x86asm.SETP, x86asm.SETNP,
		x86asm.SETS, x86asm.SETNS:
		return ClassStore, kindOther
	case x86asm.CMP, x86asm.TEST, x86asm.BT:
		return ClassLoad, kindOther
	}
	return ClassRMW, kindOther
}

// Predictor names for CycleModel.Predictor.
const (
	PredictorBimodal = "bimodal"
	PredictorGshare  = "gshare"
	PredictorTAGE    = "tage"
)

// TAGEHistory are the global-history lengths of the "tage" predictor's
// tagged tables (a geometric series, after Seznec and Michaud, "A case for
// (partially) TAgged GEometric history length branch prediction", JILP
// 2006).
var TAGEHistory = [C.OSR_TAGE_T]uint32{5, 15, 44, 130}

// CycleModel parameterises the cycle estimate the C hooks compute. Costs
// and penalties are in cycles (resolution 1/65536). See package cycles for
// the model, its built-in instances and calibration files.
type CycleModel struct {
	Name string
	// Cost of one executed instruction of each class.
	Cost [NumClasses]float64
	// Taken is added for every taken control transfer (a jcc that jumps,
	// jmp, call, ret): the front-end redirect.
	Taken float64
	// Misprediction penalties: conditional branches, indirect jumps and
	// calls (BTB), returns (RSB).
	BranchPenalty, IndirectPenalty, ReturnPenalty float64
	// Predictor for conditional branches: PredictorBimodal (2-bit counters
	// indexed by branch address) or PredictorGshare (address xor global
	// history of HistoryBits outcomes). PHTBits is log2 of the counters.
	Predictor   string
	PHTBits     int
	HistoryBits int
	// BTBEntries: direct-mapped last-target buffer for indirect branches,
	// a power of two.
	BTBEntries int
	// RSBDepth: return-stack buffer entries (circular, 1..256).
	RSBDepth int
	// Core, if set, replaces the additive estimate with the out-of-order
	// core model (see Core); nil keeps the additive model.
	Core *Core
}

// Validate checks the parameters.
func (m *CycleModel) Validate() error {
	for i, c := range m.Cost {
		if c < 0 || math.IsNaN(c) || math.IsInf(c, 0) || c > 1e6 {
			return fmt.Errorf("cycle model %q: cost of %s is %v", m.Name, InstClass(i), c)
		}
	}
	for _, p := range []float64{m.Taken, m.BranchPenalty, m.IndirectPenalty, m.ReturnPenalty} {
		if p < 0 || math.IsNaN(p) || math.IsInf(p, 0) || p > 1e6 {
			return fmt.Errorf("cycle model %q: penalty %v out of range", m.Name, p)
		}
	}
	switch m.Predictor {
	case PredictorBimodal, PredictorGshare, PredictorTAGE:
	default:
		return fmt.Errorf("cycle model %q: unknown predictor %q (want %s, %s or %s)", m.Name, m.Predictor, PredictorBimodal, PredictorGshare, PredictorTAGE)
	}
	if m.Predictor == PredictorTAGE && m.PHTBits < 6 {
		return fmt.Errorf("cycle model %q: tage needs pht_bits >= 6", m.Name)
	}
	if m.Core != nil {
		if err := m.Core.validate(m.Name); err != nil {
			return err
		}
	}
	if m.PHTBits < 1 || m.PHTBits > 24 {
		return fmt.Errorf("cycle model %q: pht_bits %d not in 1..24", m.Name, m.PHTBits)
	}
	if m.HistoryBits < 0 || m.HistoryBits > m.PHTBits {
		return fmt.Errorf("cycle model %q: history_bits %d not in 0..pht_bits", m.Name, m.HistoryBits)
	}
	if m.BTBEntries < 1 || m.BTBEntries > 1<<20 || m.BTBEntries&(m.BTBEntries-1) != 0 {
		return fmt.Errorf("cycle model %q: btb_entries %d is not a power of two in 1..2^20", m.Name, m.BTBEntries)
	}
	if m.RSBDepth < 1 || m.RSBDepth > C.OSR_RSB_MAX {
		return fmt.Errorf("cycle model %q: rsb_depth %d not in 1..%d", m.Name, m.RSBDepth, C.OSR_RSB_MAX)
	}
	return nil
}

// CycleCounts are the cycle model's results for one run (Counts.Cycles).
//
// A control transfer is evaluated when the block it leads to starts, so the
// image's final return to the host (which runs no further block) is not
// counted.
type CycleCounts struct {
	Model string
	// Estimated cycles: instruction costs + taken transfers + penalties.
	Estimated float64
	// Taken control transfers executed.
	Taken uint64
	// Conditional branches, indirect jumps and calls, returns executed, and
	// how many of each the model mispredicted.
	Branches, BranchMispredicts   uint64
	Indirect, IndirectMispredicts uint64
	Returns, ReturnMispredicts    uint64
	// ByClass counts executed instructions per class (only with
	// Options.ClassCounts).
	ByClass []uint64
	// Loads the core model (CycleModel.Core) found waiting on a forwarded
	// store: through stack slots and through other addresses.
	StackForwards, Forwards uint64
	// Loads delayed by 4K aliasing (Core.Addresses), and blocks the core
	// model ran with real addresses / with symbolic ones.
	Aliases, AddressInsts, SymbolicInsts uint64
}

func fixed(c float64) uint64 { return uint64(math.Round(c * C.OSR_CYC_ONE)) }

// fillCycles allocates and fills the cycle model's C tables.
func (l *layout) fillCycles(im *sim.Image, s *C.osr_state, m *CycleModel, classCounts bool) error {
	cls := 0
	if classCounts {
		cls = 1
	}
	c := C.osr_cyc_new(s, C.uint32_t(m.PHTBits), C.uint32_t(m.BTBEntries), C.uint32_t(NumClasses), C.int(cls))
	if c == nil {
		return fmt.Errorf("unicorn: out of memory for cycle tables")
	}
	n := l.size + 1
	cost := unsafe.Slice((*uint64)(unsafe.Pointer(c.cost)), n)
	kind := unsafe.Slice((*uint8)(unsafe.Pointer(c.end_kind)), n)
	endStart := unsafe.Slice((*uint32)(unsafe.Pointer(c.end_start)), n)
	var clsPrefix []uint32
	if classCounts {
		clsPrefix = unsafe.Slice((*uint32)(unsafe.Pointer(c.cls_prefix)), n*uint64(NumClasses))
	}
	// Per-offset contributions first, then prefix sums.
	var fixedCost [NumClasses]uint64
	for i, v := range m.Cost {
		fixedCost[i] = fixed(v)
	}
	for _, a := range im.InstStarts {
		if a < l.base || a-l.base >= l.size {
			continue
		}
		off := a - l.base
		code := codeBytes(im, a)
		cl, k := ClassOther, kindOther
		length := uint64(1)
		if in, err := x86asm.Decode(code, 64); err == nil {
			cl, k = classify(in)
			length = uint64(in.Len)
		}
		cost[off+1] += fixedCost[cl] // shifted by one: prefix below
		if classCounts {
			clsPrefix[uint64(cl)*n+off+1]++
		}
		if end := off + length; end <= l.size {
			kind[end] = uint8(k)
			endStart[end] = uint32(off)
		}
	}
	for i := uint64(1); i < n; i++ {
		cost[i] += cost[i-1]
	}
	if classCounts {
		for k := range uint64(NumClasses) {
			p := clsPrefix[k*n : (k+1)*n]
			for i := uint64(1); i < n; i++ {
				p[i] += p[i-1]
			}
		}
	}
	c.taken_cost = C.uint64_t(fixed(m.Taken))
	c.cond_pen = C.uint64_t(fixed(m.BranchPenalty))
	c.ind_pen = C.uint64_t(fixed(m.IndirectPenalty))
	c.ret_pen = C.uint64_t(fixed(m.ReturnPenalty))
	if m.Predictor == PredictorGshare {
		c.gshare = 1
		c.hist_bits = C.uint32_t(m.HistoryBits)
	}
	c.rsb_depth = C.uint32_t(m.RSBDepth)
	if m.Predictor == PredictorTAGE {
		h := TAGEHistory
		if C.osr_cyc_tage_new(c, C.uint32_t(m.PHTBits-2), (*C.uint32_t)(unsafe.Pointer(&h[0]))) != 0 {
			return fmt.Errorf("unicorn: out of memory for predictor tables")
		}
	}
	if m.Core != nil {
		if err := l.fillCore(im, s, c, m); err != nil {
			return err
		}
	}
	C.osr_cyc_reset(c)
	return nil
}

// cycleCounts reads the cycle counters after a run.
func cycleCounts(s *C.osr_state, m *CycleModel) *CycleCounts {
	c := s.cyc
	if c == nil {
		return nil
	}
	r := &CycleCounts{
		Model:               m.Name,
		Estimated:           float64(c.cycles) / C.OSR_CYC_ONE,
		Taken:               uint64(c.taken),
		Branches:            uint64(c.cond),
		BranchMispredicts:   uint64(c.cond_miss),
		Indirect:            uint64(c.ind),
		IndirectMispredicts: uint64(c.ind_miss),
		Returns:             uint64(c.ret),
		ReturnMispredicts:   uint64(c.ret_miss),
	}
	if c.core != nil {
		r.StackForwards, r.Forwards = uint64(c.core.stack_forwards), uint64(c.core.forwards)
		r.Aliases, r.AddressInsts, r.SymbolicInsts = uint64(c.core.aliases), uint64(c.core.addr_blocks), uint64(c.core.sym_blocks)
	}
	if c.cls_counts != nil {
		r.ByClass = append([]uint64(nil), unsafe.Slice((*uint64)(unsafe.Pointer(c.cls_counts)), NumClasses)...)
	}
	return r
}
