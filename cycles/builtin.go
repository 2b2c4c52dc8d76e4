package cycles

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// DefaultName is the built-in model configs get when they name none.
const DefaultName = "default"

// Default is the built-in "default" model: the out-of-order core model
// (Core) with TAGE, parameters for AMD Zen 4 from public data plus
// the 4K-alias figures measured by `osrsim calibrate`. The numbers and
// their sources are in README.md.
func Default() *Model {
	m := Additive()
	m.Name = DefaultName
	m.Predictor = PredictorTAGE
	// Resource-group occupancies where Zen 4 has more units than the
	// additive model's generic core: 3 loads and 2 stores per cycle.
	m.Cost[ClassLoad] = 1.0 / 3
	m.Cost[ClassStore] = 0.5
	m.Cost[ClassRMW] = 0.5
	m.Core = DefaultCore()
	// Penalties count from the transfer's resolution in the core model.
	m.BranchPenalty, m.IndirectPenalty, m.ReturnPenalty = 13, 13, 13
	return m
}

// DefaultCore is the default model's out-of-order core: AMD Zen 4 (the
// development machine) from public data; sources in README.md.
func DefaultCore() *Core {
	k := &Core{
		DispatchWidth:       6,
		RetireWidth:         8,
		ROBSize:             320,
		LoadLatency:         4,
		ForwardLatency:      1,
		StackForwardLatency: 1,
		Addresses:           true,
		AliasLatency:        21,
		StoreCommitDelay:    5,
		StoreQueue:          64,
	}
	for c, v := range map[InstClass]float64{
		ClassALU:        1,
		ClassLoad:       1, // after the loaded value; 0 for a plain mov (see README)
		ClassStore:      0,
		ClassRMW:        1,
		ClassLea:        1,
		ClassMul:        3,
		ClassDiv:        14,
		ClassCondBranch: 1,
		ClassJump:       1,
		ClassCall:       1,
		ClassIndJump:    1,
		ClassIndCall:    1,
		ClassRet:        1,
		ClassLocked:     8,
		ClassXMM:        1,
		ClassPushf:      1,
		ClassPopf:       1,
		ClassString:     1,
		ClassFence:      1,
		ClassOther:      1,
		ClassFxsave:     1, // stores only
		ClassFxrstor:    measuredFxrstor,
		ClassSegRead:    1,
		ClassFPCtrl:     1, // the helper only stores them
	} {
		k.Latency[c] = v
	}
	return k
}

// Costs of the machine-state classes the patchpoint helper's context
// capture and restore use, measured by `osrsim calibrate`
// (cycles/calibrate's fxsave, fxrstor, seg-read, fp-ctrl, pushf and
// pushf-popf benchmarks) on the development machine (AMD EPYC, Zen 4,
// 4.0 GHz), rounded: one instruction's cycles in a loop of them, as two
// runs' fits gave them (README.md lists both).
const (
	measuredFxsave  = 77
	measuredFxrstor = 202
	measuredSegRead = 1
	measuredFPCtrl  = 7
	measuredPushf   = 5
	measuredPopf    = 15
)

// Additive is the built-in "additive" model (the default before the core
// model): the sum of per-class costs, taken transfers and misprediction
// penalties, with gshare.
func Additive() *Model {
	m := &Model{
		Name:            "additive",
		Taken:           0.5,
		BranchPenalty:   16,
		IndirectPenalty: 16,
		ReturnPenalty:   16,
		Predictor:       PredictorGshare,
		PHTBits:         12,
		HistoryBits:     8,
		BTBEntries:      512,
		RSBDepth:        16,
	}
	for c, v := range map[InstClass]float64{
		ClassALU:        0.25,
		ClassLoad:       0.5,
		ClassStore:      1,
		ClassRMW:        1.5,
		ClassLea:        0.25,
		ClassMul:        1,
		ClassDiv:        25,
		ClassCondBranch: 0.5,
		ClassJump:       0.5,
		ClassCall:       1,
		ClassIndJump:    1,
		ClassIndCall:    1.5,
		ClassRet:        1,
		ClassLocked:     18,
		ClassXMM:        0.5,
		ClassPushf:      measuredPushf,
		ClassPopf:       measuredPopf,
		ClassString:     1,
		ClassFence:      33,
		ClassOther:      5,
		ClassFxsave:     measuredFxsave,
		ClassFxrstor:    measuredFxrstor,
		ClassSegRead:    measuredSegRead,
		ClassFPCtrl:     measuredFPCtrl,
	} {
		m.Cost[c] = v
	}
	return m
}

// Unit is the built-in "unit" model: every instruction costs 1 and nothing
// else does, so its estimate equals the instruction count (a check and a
// baseline; its predictors still count mispredictions).
func Unit() *Model {
	m := Additive()
	m.Name = "unit"
	for i := range m.Cost {
		m.Cost[i] = 1
	}
	m.Taken, m.BranchPenalty, m.IndirectPenalty, m.ReturnPenalty = 0, 0, 0, 0
	return m
}

var builtins = map[string]func() *Model{
	DefaultName: Default,
	"additive":  Additive,
	"unit":      Unit,
}

// Names lists the built-in models.
func Names() []string {
	var ns []string
	for n := range builtins {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

// Lookup resolves a config's `cycle_model:` value: the name of a built-in
// model, or the path of a calibration file (anything containing a path
// separator or ending in .json). Relative paths are relative to dir
// (usually the config's directory; "" for the working directory).
func Lookup(nameOrPath, dir string) (*Model, error) {
	if nameOrPath == "" {
		nameOrPath = DefaultName
	}
	if f, ok := builtins[nameOrPath]; ok {
		return f(), nil
	}
	if !strings.ContainsRune(nameOrPath, '/') && !strings.HasSuffix(nameOrPath, ".json") {
		return nil, fmt.Errorf("cycle_model %q: no such built-in model (have %s) and not a file path", nameOrPath, strings.Join(Names(), ", "))
	}
	p := nameOrPath
	if !filepath.IsAbs(p) && dir != "" {
		p = filepath.Join(dir, p)
	}
	f, err := ReadFile(p)
	if err != nil {
		return nil, err
	}
	return f.Model()
}
