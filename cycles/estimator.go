package cycles

/*
#cgo CFLAGS: -I${SRCDIR}/../sim/observe
// -O3: the model runs per emulated instruction; gcc vectorises TAGE's
// folded histories and unrolls more (~10% fewer instructions than -O2).
#cgo CFLAGS: -O3
#include "cycles.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"unsafe"

	"github.com/osrsim/osrsim/sim/observe"
)

// An Estimator evaluates a Model on one machine's runs. Give it to the
// machine as an observer (unicorn.Options.Observers); after each run,
// Counts holds the estimate. It attaches to one machine only. Close it
// after that machine's last run.
type Estimator struct {
	model   Model
	byClass bool
	// hookAddresses takes the core's real addresses from memory hooks
	// instead of computing them, verifyAddresses computes them and
	// compares them with the hooks' (the tests' reference).
	hookAddresses, verifyAddresses bool
	c                              *C.cyc_state
	cleanup                        runtime.Cleanup
}

// NewEstimator validates m and returns an estimator for it; byClass also
// counts executed instructions per class (Counts.ByClass).
func NewEstimator(m *Model, byClass bool) (*Estimator, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	e := &Estimator{model: *m, byClass: byClass}
	if m.Core != nil {
		k := *m.Core
		e.model.Core = &k
	}
	return e, nil
}

// Counts are the cycle model's results for one run.
//
// A control transfer is evaluated when the block it leads to starts, so the
// image's final return to the host (which runs no further block) is not
// counted.
type Counts struct {
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
	// ByClass counts executed instructions per class (only with byClass,
	// see NewEstimator).
	ByClass []uint64
	// Loads the core model (Model.Core) found waiting on a forwarded
	// store: through stack slots and through other addresses.
	StackForwards, Forwards uint64
	// Loads delayed by 4K aliasing (Core.Addresses), and instructions the
	// core model ran with real addresses / with symbolic ones.
	Aliases, AddressInsts, SymbolicInsts uint64
}

// Attach builds the model's tables for code (observe.Observer).
func (e *Estimator) Attach(code *observe.Code) (unsafe.Pointer, error) {
	if e.c != nil {
		return nil, errors.New("cycles: estimator already attached to a machine")
	}
	m := &e.model
	cls := 0
	if e.byClass {
		cls = 1
	}
	c := C.cyc_new(C.uint64_t(code.Base), C.uint64_t(code.Size), C.uint32_t(m.PHTBits), C.uint32_t(m.BTBEntries), C.uint32_t(NumClasses), C.int(cls))
	if c == nil {
		return nil, errors.New("cycles: out of memory for cycle tables")
	}
	e.c = c
	e.cleanup = runtime.AddCleanup(e, freeState, c)
	classes := e.fillBlocks(code)
	e.fillPredictors()
	if m.Predictor == PredictorTAGE {
		h := TAGEHistory
		if C.cyc_tage_new(c, C.uint32_t(m.PHTBits-2), (*C.uint32_t)(unsafe.Pointer(&h[0]))) != 0 {
			return nil, errors.New("cycles: out of memory for predictor tables")
		}
	}
	if m.Core != nil {
		if err := e.fillCore(code, classes); err != nil {
			return nil, err
		}
	}
	addresses := C.CYC_ADDR_NONE
	switch {
	case m.Core == nil || !m.Core.Addresses:
	case e.hookAddresses:
		addresses = C.CYC_ADDR_HOOKS
	case e.verifyAddresses:
		addresses = C.CYC_ADDR_VERIFY
	default:
		addresses = C.CYC_ADDR_COMPUTE
	}
	C.cyc_ready(c, C.int(addresses))
	return unsafe.Pointer(&c.obs), nil
}

func freeState(c *C.cyc_state) { C.cyc_free(c) }

// Close frees the tables; the machine must not run afterwards.
func (e *Estimator) Close() {
	if e.c == nil {
		return
	}
	e.cleanup.Stop()
	C.cyc_free(e.c)
	e.c = nil
}

func fixed(c float64) uint64 { return uint64(math.Round(c * C.CYC_ONE)) }

// fillBlocks classifies every instruction and writes the tables a block
// [a, e) is evaluated with: prefix sums of costs (and of class counts),
// and the kind and start of the instruction ending at each offset.
func (e *Estimator) fillBlocks(code *observe.Code) []InstClass {
	c := e.c
	n := code.Size + 1
	cost := unsafe.Slice((*uint64)(unsafe.Pointer(c.cost)), n)
	kind := unsafe.Slice((*uint8)(unsafe.Pointer(c.end_kind)), n)
	endStart := unsafe.Slice((*uint32)(unsafe.Pointer(c.end_start)), n)
	var clsPrefix []uint32
	if e.byClass {
		clsPrefix = unsafe.Slice((*uint32)(unsafe.Pointer(c.cls_prefix)), n*uint64(NumClasses))
	}
	var fixedCost [NumClasses]uint64
	for i, v := range e.model.Cost {
		fixedCost[i] = fixed(v)
	}
	classes := make([]InstClass, len(code.Insts))
	// Per-offset contributions first (shifted by one), then prefix sums.
	for i, in := range code.Insts {
		if !code.Decoded(i) {
			panic(fmt.Sprintf("BUG: cycles: the instruction at %#x does not decode", code.Addrs[i]))
		}
		off := code.Offset(i)
		cl, k := classify(in)
		classes[i] = cl
		cost[off+1] += fixedCost[cl]
		if clsPrefix != nil {
			clsPrefix[uint64(cl)*n+off+1]++
		}
		if end := off + uint64(in.Len); end <= code.Size {
			kind[end] = uint8(k)
			endStart[end] = uint32(off)
		}
	}
	prefixSum(cost)
	for k := range uint64(NumClasses) {
		if clsPrefix != nil {
			prefixSum(clsPrefix[k*n : (k+1)*n])
		}
	}
	return classes
}

func prefixSum[T uint32 | uint64](p []T) {
	for i := 1; i < len(p); i++ {
		p[i] += p[i-1]
	}
}

// fillPredictors writes the transfer costs and predictor sizes.
func (e *Estimator) fillPredictors() {
	c, m := e.c, &e.model
	c.taken_cost = C.uint64_t(fixed(m.Taken))
	c.cond_pen = C.uint64_t(fixed(m.BranchPenalty))
	c.ind_pen = C.uint64_t(fixed(m.IndirectPenalty))
	c.ret_pen = C.uint64_t(fixed(m.ReturnPenalty))
	if m.Predictor == PredictorGshare {
		c.gshare = 1
		c.hist_bits = C.uint32_t(m.HistoryBits)
	}
	c.rsb_depth = C.uint32_t(m.RSBDepth)
}

// fillCore writes the core model's per-instruction table and parameters.
// The core's tables by class hold every class.
const _ = uint(C.CYC_CLASS_MAX - NumClasses)

func (e *Estimator) fillCore(code *observe.Code, classes []InstClass) error {
	ninst := len(code.Insts)
	if C.cyc_core_new(e.c, C.uint32_t(ninst)) != 0 {
		return errors.New("cycles: out of memory for core tables")
	}
	m, k, kc := &e.model, e.model.Core, e.c.core
	ii := unsafe.Slice(kc.ii, ninst+1)
	np := unsafe.Slice(kc.nacc_prefix, ninst+1)
	var ai []C.cyc_ai
	if k.Addresses && !e.hookAddresses {
		if C.cyc_addr_new(e.c, C.uint32_t(ninst)) != 0 {
			return errors.New("cycles: out of memory for address tables")
		}
		ai = unsafe.Slice(kc.addr.ai, ninst+1)
	}
	for i, in := range code.Insts {
		cl := classes[i]
		f := analyze(in, code.Addrs[i], cl)
		if ai != nil {
			addrPlan(&ai[i], in, code.Addrs[i], cl, &f)
		}
		f.write(&ii[i])
		ii[i].grp = C.uint8_t(groupOf(cl))
		ii[i].cls = C.uint8_t(cl)
		np[i+1] = np[i] + C.uint32_t(f.nacc)
	}
	if ai != nil && C.addr_prepare(kc.addr, C.uint32_t(ninst)) != 0 {
		return errors.New("cycles: out of memory for address tables")
	}
	for cl := range InstClass(NumClasses) {
		kc.lat[cl] = C.uint64_t(fixed(k.Latency[cl]))
		kc.occ[cl] = C.uint64_t(fixed(m.Cost[cl]))
	}
	kc.inv_width = C.uint64_t(fixed(1 / k.DispatchWidth))
	kc.inv_retire = C.uint64_t(fixed(1 / k.RetireWidth))
	kc.rob = C.uint32_t(k.ROBSize)
	kc.load_lat = C.uint64_t(fixed(k.LoadLatency))
	kc.fwd_lat = C.uint64_t(fixed(k.ForwardLatency))
	kc.fwd_stack_lat = C.uint64_t(fixed(k.StackForwardLatency))
	kc.alias_lat = C.uint64_t(fixed(k.AliasLatency))
	kc.stq_lim = C.uint64_t(k.StoreQueue)
	if k.StoreQueue == 0 {
		kc.stq_lim = math.MaxUint64 // no limit
	}
	kc.commit_delay = C.uint64_t(fixed(k.StoreCommitDelay))
	return nil
}

// write fills a table entry with the flow (fit has made it fit).
func (f *flow) write(e *C.cyc_ii) {
	e.mem, e.base, e.index = C.uint8_t(f.mem), C.uint8_t(f.base), C.uint8_t(f.index)
	e.nsrc, e.ndst = C.uint8_t(len(f.src)), C.uint8_t(len(f.dst))
	for j, r := range f.src {
		e.src[j] = C.uint8_t(r)
	}
	for j, r := range f.dst {
		e.dst[j] = C.uint8_t(r)
	}
	e.vop = C.uint8_t(f.val)
	e.stack, e.opl, e.indep = cbool(f.stack), cbool(f.opl), cbool(f.indep)
	e.nacc = C.uint8_t(f.nacc)
	e.has_ea = cbool(f.nacc > 0 && f.mem != memNone)
	e.rsp_delta, e.rsp_post = C.int32_t(f.rspDelta), C.int32_t(f.rspPost)
	e.disp, e.imm = C.int64_t(f.disp), C.int64_t(f.imm)
}

func cbool(b bool) C.uint8_t {
	if b {
		return 1
	}
	return 0
}

// Counts reads the counters of the last run (nil before Attach).
func (e *Estimator) Counts() *Counts {
	c := e.c
	if c == nil {
		return nil
	}
	r := &Counts{
		Model:               e.model.Name,
		Estimated:           float64(c.cycles) / C.CYC_ONE,
		Taken:               uint64(c.taken),
		Branches:            uint64(c.cond),
		BranchMispredicts:   uint64(c.cond_miss),
		Indirect:            uint64(c.ind),
		IndirectMispredicts: uint64(c.ind_miss),
		Returns:             uint64(c.ret),
		ReturnMispredicts:   uint64(c.ret_miss),
	}
	if k := c.core; k != nil {
		r.StackForwards, r.Forwards = uint64(k.stack_forwards), uint64(k.forwards)
		r.Aliases, r.AddressInsts, r.SymbolicInsts = uint64(k.aliases), uint64(k.addr_blocks), uint64(k.sym_blocks)
	}
	if c.cls_counts != nil {
		r.ByClass = append([]uint64(nil), unsafe.Slice((*uint64)(unsafe.Pointer(c.cls_counts)), NumClasses)...)
	}
	return r
}

var _ observe.Observer = (*Estimator)(nil)
