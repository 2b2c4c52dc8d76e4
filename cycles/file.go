package cycles

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/osrsim/osrsim/internal/atomicfile"
)

// File is a calibration file (JSON): a model plus how it was obtained.
type File struct {
	Name string `json:"name"`
	// Unit of all costs: "cycles" (ns × the measured clock, see Calibration).
	Unit string `json:"unit"`
	// Cost per instruction class, by class name (InstClass.String);
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

// CoreFile is Core in a calibration file.
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
func FileOf(m *Model) *File {
	f := &File{
		Name: m.Name, Unit: "cycles", Cost: map[string]float64{}, Taken: m.Taken,
		Penalties: Penalties{m.BranchPenalty, m.IndirectPenalty, m.ReturnPenalty},
		Predictor: m.Predictor, PHTBits: m.PHTBits, HistBits: m.HistoryBits, BTB: m.BTBEntries, RSBDepth: m.RSBDepth,
	}
	for c := range NumClasses {
		f.Cost[c.String()] = m.Cost[c]
	}
	if k := m.Core; k != nil {
		f.Core = &CoreFile{DispatchWidth: k.DispatchWidth, RetireWidth: k.RetireWidth, ROBSize: k.ROBSize,
			Latency: map[string]float64{}, LoadLatency: k.LoadLatency, ForwardLatency: k.ForwardLatency,
			StackForwardLatency: k.StackForwardLatency, Addresses: k.Addresses, AliasLatency: k.AliasLatency,
			StoreCommitDelay: k.StoreCommitDelay, StoreQueue: k.StoreQueue}
		for c := range NumClasses {
			f.Core.Latency[c.String()] = k.Latency[c]
		}
	}
	return f
}

// Model turns the file into a validated model.
func (f *File) Model() (*Model, error) {
	if f.Unit != "" && f.Unit != "cycles" {
		return nil, fmt.Errorf("cycle model %q: unit %q, want cycles", f.Name, f.Unit)
	}
	m := Default()
	if f.Core == nil {
		m = Additive()
	}
	m.Name = f.Name
	if cf := f.Core; cf != nil {
		k := &Core{DispatchWidth: cf.DispatchWidth, RetireWidth: cf.RetireWidth, ROBSize: cf.ROBSize,
			Latency: DefaultCore().Latency, LoadLatency: cf.LoadLatency, ForwardLatency: cf.ForwardLatency,
			StackForwardLatency: cf.StackForwardLatency, Addresses: cf.Addresses, AliasLatency: cf.AliasLatency,
			StoreCommitDelay: cf.StoreCommitDelay, StoreQueue: cf.StoreQueue}
		for name, v := range cf.Latency {
			c, ok := ClassByName(name)
			if !ok {
				return nil, fmt.Errorf("cycle model %q: unknown instruction class %q in core latencies", f.Name, name)
			}
			k.Latency[c] = v
		}
		m.Core = k
	}
	for name, v := range f.Cost {
		c, ok := ClassByName(name)
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

// Calibration records the measurements behind a fitted model.
type Calibration struct {
	Host       string `json:"host"` // GOOS/GOARCH and CPU count
	Date       string `json:"date"`
	Iterations int    `json:"iterations"`
	Samples    int    `json:"samples"`
	// ClockGHz is the core clock measured with a chain of dependent adds
	// (one cycle each); ns × ClockGHz gives the cycles the fit targets.
	ClockGHz float64 `json:"clock_ghz"`
	Prior    float64 `json:"prior"`
	// RMSRelError is the root mean square relative error of the fitted
	// model over the benchmarks.
	RMSRelError float64       `json:"rms_rel_error"`
	Benchmarks  []BenchResult `json:"benchmarks"`
}

// BenchResult is one calibration benchmark, per loop iteration.
type BenchResult struct {
	Name string `json:"name"`
	// Ns measured natively (median), Cycles = Ns × ClockGHz, Model the
	// fitted model's estimate.
	Ns     float64 `json:"ns"`
	Cycles float64 `json:"cycles"`
	Model  float64 `json:"model"`
	// Counts per iteration from emulation: instructions per class, taken
	// transfers, mispredictions (non-zero entries only).
	Counts map[string]float64 `json:"counts"`
}
