package cycles

/*
#include "cycles.h"
*/
import "C"

import (
	"fmt"
	"math"
)

// Predictor names for Model.Predictor.
const (
	PredictorBimodal = "bimodal"
	PredictorGshare  = "gshare"
	PredictorTAGE    = "tage"
)

// TAGEHistory are the global-history lengths of the "tage" predictor's
// tagged tables (a geometric series, after Seznec and Michaud, "A case for
// (partially) TAgged GEometric history length branch prediction", JILP
// 2006).
var TAGEHistory = [C.CYC_TAGE_T]uint32{5, 15, 44, 130}

// Model parameterises the cycle estimate (README.md): an Estimator
// evaluates it on a machine's run. Costs and penalties are in cycles
// (resolution 1/65536).
type Model struct {
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
	// indexed by branch address), PredictorGshare (address xor global
	// history of HistoryBits outcomes) or PredictorTAGE (TAGEHistory).
	// PHTBits is log2 of the counters.
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
func (m *Model) Validate() error {
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
	if m.RSBDepth < 1 || m.RSBDepth > C.CYC_RSB_MAX {
		return fmt.Errorf("cycle model %q: rsb_depth %d not in 1..%d", m.Name, m.RSBDepth, C.CYC_RSB_MAX)
	}
	return nil
}

// Core parameterises the out-of-order core model (Model.Core; see
// cycles/README.md, "Out-of-order core"). With it, Model.Cost is each
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

// Resource groups of the core model (cyc_ii.grp, fewer than CYC_NGRP);
// Model.Cost is the occupancy of a class's group.
const (
	grpInt = iota
	grpBranch
	grpLoad
	grpStore
	grpFP
	grpSerial // microcoded / serialising: pushf, popf, locked, fence, div, other, fxsave, fxrstor, fp_ctrl
)

// groupOf is the resource group of a class in the core model.
func groupOf(c InstClass) int {
	switch c {
	case ClassALU, ClassLea, ClassMul:
		return grpInt
	case ClassCondBranch, ClassJump, ClassCall, ClassIndJump, ClassIndCall, ClassRet:
		return grpBranch
	case ClassLoad:
		return grpLoad
	case ClassStore, ClassRMW, ClassString, ClassSegRead:
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
	if k.ROBSize < 1 || k.ROBSize > C.CYC_ROB_MAX {
		return fmt.Errorf("cycle model %q: rob_size %d not in 1..%d", name, k.ROBSize, C.CYC_ROB_MAX)
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
