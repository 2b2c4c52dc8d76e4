package cycles

import (
	"encoding/json"
	"fmt"
	"github.com/osrsim/osrsim/internal/atomicfile"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/osrsim/osrsim/sim/unicorn"
)

// DefaultName is the built-in model configs get when they name none.
const DefaultName = "default"

// Default is the built-in "default" model: the out-of-order core model
// (unicorn.Core) with TAGE, parameters for AMD Zen 4 from public data plus
// the 4K-alias figures measured by `osrsim calibrate`. The numbers and
// their sources are in README.md.
func Default() *unicorn.CycleModel {
	m := Additive()
	m.Name = DefaultName
	m.Predictor = unicorn.PredictorTAGE
	// Resource-group occupancies where Zen 4 has more units than the
	// additive model's generic core: 3 loads and 2 stores per cycle.
	m.Cost[unicorn.ClassLoad] = 1.0 / 3
	m.Cost[unicorn.ClassStore] = 0.5
	m.Cost[unicorn.ClassRMW] = 0.5
	m.Core = DefaultCore()
	// Penalties count from the transfer's resolution in the core model.
	m.BranchPenalty, m.IndirectPenalty, m.ReturnPenalty = 13, 13, 13
	return m
}

// DefaultCore is the default model's out-of-order core: AMD Zen 4 (the
// development machine) from public data; sources in README.md.
func DefaultCore() *unicorn.Core {
	k := &unicorn.Core{
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
	for c, v := range map[unicorn.InstClass]float64{
		unicorn.ClassALU:        1,
		unicorn.ClassLoad:       1, // after the loaded value; 0 for a plain mov (see README)
		unicorn.ClassStore:      0,
		unicorn.ClassRMW:        1,
		unicorn.ClassLea:        1,
		unicorn.ClassMul:        3,
		unicorn.ClassDiv:        14,
		unicorn.ClassCondBranch: 1,
		unicorn.ClassJump:       1,
		unicorn.ClassCall:       1,
		unicorn.ClassIndJump:    1,
		unicorn.ClassIndCall:    1,
		unicorn.ClassRet:        1,
		unicorn.ClassLocked:     8,
		unicorn.ClassXMM:        1,
		unicorn.ClassPushf:      1,
		unicorn.ClassPopf:       1,
		unicorn.ClassString:     1,
		unicorn.ClassFence:      1,
		unicorn.ClassOther:      1,
	} {
		k.Latency[c] = v
	}
	return k
}

// Additive is the built-in "additive" model (the default before the core
// model): the sum of per-class costs, taken transfers and misprediction
// penalties, with gshare.
func Additive() *unicorn.CycleModel {
	m := &unicorn.CycleModel{
		Name:            "additive",
		Taken:           0.5,
		BranchPenalty:   16,
		IndirectPenalty: 16,
		ReturnPenalty:   16,
		Predictor:       unicorn.PredictorGshare,
		PHTBits:         12,
		HistoryBits:     8,
		BTBEntries:      512,
		RSBDepth:        16,
	}
	for c, v := range map[unicorn.InstClass]float64{
		unicorn.ClassALU:        0.25,
		unicorn.ClassLoad:       0.5,
		unicorn.ClassStore:      1,
		unicorn.ClassRMW:        1.5,
		unicorn.ClassLea:        0.25,
		unicorn.ClassMul:        1,
		unicorn.ClassDiv:        25,
		unicorn.ClassCondBranch: 0.5,
		unicorn.ClassJump:       0.5,
		unicorn.ClassCall:       1,
		unicorn.ClassIndJump:    1,
		unicorn.ClassIndCall:    1.5,
		unicorn.ClassRet:        1,
		unicorn.ClassLocked:     18,
		unicorn.ClassXMM:        0.5,
		unicorn.ClassPushf:      3,
		unicorn.ClassPopf:       20,
		unicorn.ClassString:     1,
		unicorn.ClassFence:      33,
		unicorn.ClassOther:      5,
	} {
		m.Cost[c] = v
	}
	return m
}

// Unit is the built-in "unit" model: every instruction costs 1 and nothing
// else does, so its estimate equals the instruction count (a check and a
// baseline; its predictors still count mispredictions).
func Unit() *unicorn.CycleModel {
	m := Additive()
	m.Name = "unit"
	for i := range m.Cost {
		m.Cost[i] = 1
	}
	m.Taken, m.BranchPenalty, m.IndirectPenalty, m.ReturnPenalty = 0, 0, 0, 0
	return m
}

var builtins = map[string]func() *unicorn.CycleModel{
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
func Lookup(nameOrPath, dir string) (*unicorn.CycleModel, error) {
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

// File is a calibration file (JSON): a model plus how it was obtained.
type File struct {
	Name string `json:"name"`
	// Unit of all costs: "cycles" (ns × the measured clock, see Calibration).
	Unit string `json:"unit"`
	// Cost per instruction class, by class name (unicorn.InstClass.String);
	// classes missing here take the "default" model's cost.
	Cost map[string]float64 `json:"cost"`
	// Taken and penalties in cycles.
	Taken     float64   `json:"taken"`
	Penalties Penalties `json:"penalties"`
	Predictor string    `json:"predictor"`
	PHTBits   int       `json:"pht_bits"`
	HistBits  int       `json:"history_bits"`
	BTB       int       `json:"btb_entries"`
	RSBDepth  int       `json:"rsb_depth"`
	// Core is the out-of-order core model (costs are then resource-group
	// occupancies); files without it are additive models (as written
	// before the core model existed).
	Core *CoreFile `json:"core,omitempty"`
	// Calibration records the measurements behind the fit (optional).
	Calibration *Calibration `json:"calibration,omitempty"`
}

// CoreFile is unicorn.Core in a calibration file.
type CoreFile struct {
	DispatchWidth       float64            `json:"dispatch_width"`
	RetireWidth         float64            `json:"retire_width"`
	ROBSize             int                `json:"rob_size"`
	Latency             map[string]float64 `json:"latency"` // missing classes: DefaultCore's
	LoadLatency         float64            `json:"load_latency"`
	ForwardLatency      float64            `json:"forward_latency"`
	StackForwardLatency float64            `json:"stack_forward_latency"`
	Addresses           bool               `json:"addresses"`
	AliasLatency        float64            `json:"alias_latency"`
	StoreCommitDelay    float64            `json:"store_commit_delay"`
	StoreQueue          int                `json:"store_queue"`
}

// Penalties are misprediction penalties in cycles.
type Penalties struct {
	Branch   float64 `json:"branch"`
	Indirect float64 `json:"indirect"`
	Return   float64 `json:"return"`
}

// FileOf describes a model as a file.
func FileOf(m *unicorn.CycleModel) *File {
	f := &File{
		Name: m.Name, Unit: "cycles", Cost: map[string]float64{}, Taken: m.Taken,
		Penalties: Penalties{m.BranchPenalty, m.IndirectPenalty, m.ReturnPenalty},
		Predictor: m.Predictor, PHTBits: m.PHTBits, HistBits: m.HistoryBits, BTB: m.BTBEntries, RSBDepth: m.RSBDepth,
	}
	for c := range unicorn.NumClasses {
		f.Cost[c.String()] = m.Cost[c]
	}
	if k := m.Core; k != nil {
		f.Core = &CoreFile{DispatchWidth: k.DispatchWidth, RetireWidth: k.RetireWidth, ROBSize: k.ROBSize,
			Latency: map[string]float64{}, LoadLatency: k.LoadLatency, ForwardLatency: k.ForwardLatency,
			StackForwardLatency: k.StackForwardLatency, Addresses: k.Addresses, AliasLatency: k.AliasLatency,
			StoreCommitDelay: k.StoreCommitDelay, StoreQueue: k.StoreQueue}
		for c := range unicorn.NumClasses {
			f.Core.Latency[c.String()] = k.Latency[c]
		}
	}
	return f
}

// Model turns the file into a validated model.
func (f *File) Model() (*unicorn.CycleModel, error) {
	if f.Unit != "" && f.Unit != "cycles" {
		return nil, fmt.Errorf("cycle model %q: unit %q, want cycles", f.Name, f.Unit)
	}
	m := Default()
	if f.Core == nil {
		m = Additive()
	}
	m.Name = f.Name
	if cf := f.Core; cf != nil {
		k := &unicorn.Core{DispatchWidth: cf.DispatchWidth, RetireWidth: cf.RetireWidth, ROBSize: cf.ROBSize,
			Latency: DefaultCore().Latency, LoadLatency: cf.LoadLatency, ForwardLatency: cf.ForwardLatency,
			StackForwardLatency: cf.StackForwardLatency, Addresses: cf.Addresses, AliasLatency: cf.AliasLatency,
			StoreCommitDelay: cf.StoreCommitDelay, StoreQueue: cf.StoreQueue}
		for name, v := range cf.Latency {
			c, ok := unicorn.ClassByName(name)
			if !ok {
				return nil, fmt.Errorf("cycle model %q: unknown instruction class %q in core latencies", f.Name, name)
			}
			k.Latency[c] = v
		}
		m.Core = k
	}
	for name, v := range f.Cost {
		c, ok := unicorn.ClassByName(name)
		if !ok {
			return nil, fmt.Errorf("cycle model %q: unknown instruction class %q", f.Name, name)
		}
		m.Cost[c] = v
	}
	m.Taken = f.Taken
	m.BranchPenalty, m.IndirectPenalty, m.ReturnPenalty = f.Penalties.Branch, f.Penalties.Indirect, f.Penalties.Return
	if f.Predictor != "" {
		m.Predictor = f.Predictor
	}
	if f.PHTBits != 0 {
		m.PHTBits, m.HistoryBits = f.PHTBits, f.HistBits
	}
	if f.BTB != 0 {
		m.BTBEntries = f.BTB
	}
	if f.RSBDepth != 0 {
		m.RSBDepth = f.RSBDepth
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// ReadFile reads a calibration file.
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cycle model: %w", err)
	}
	var f File
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("cycle model %s: %w", path, err)
	}
	if f.Name == "" {
		f.Name = filepath.Base(path)
	}
	return &f, nil
}

// WriteFile writes f as indented JSON, atomically (temp file, rename).
func WriteFile(path string, f *File) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(b, '\n'))
}
