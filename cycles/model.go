package cycles

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/osrsim/osrsim/sim/unicorn"
)

// DefaultName is the built-in model configs get when they name none.
const DefaultName = "default"

// Default is the built-in "default" model: a generic modern out-of-order
// x86-64 core (4 integer ALUs, 2-3 load and 2 store ports, ~16-cycle
// misprediction), throughput-oriented costs. The numbers and their sources
// are in README.md.
func Default() *unicorn.CycleModel {
	m := &unicorn.CycleModel{
		Name:            DefaultName,
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
	m := Default()
	m.Name = "unit"
	for i := range m.Cost {
		m.Cost[i] = 1
	}
	m.Taken, m.BranchPenalty, m.IndirectPenalty, m.ReturnPenalty = 0, 0, 0, 0
	return m
}

var builtins = map[string]func() *unicorn.CycleModel{
	DefaultName: Default,
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
	// Calibration records the measurements behind the fit (optional).
	Calibration *Calibration `json:"calibration,omitempty"`
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
	return f
}

// Model turns the file into a validated model.
func (f *File) Model() (*unicorn.CycleModel, error) {
	if f.Unit != "" && f.Unit != "cycles" {
		return nil, fmt.Errorf("cycle model %q: unit %q, want cycles", f.Name, f.Unit)
	}
	m := Default()
	m.Name = f.Name
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
	tmp, err := os.CreateTemp(filepath.Dir(path), ".cycles-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
