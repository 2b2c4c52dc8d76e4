// Package region names what a piece of generated code is part of — the
// tier0 method, its OSR method, the patchpoint helper, the runtime, the host
// boundary — and the named steps a part is broken into.
//
// The generator that emits a symbol attaches a Meta to it (emitter.Builder.
// SetMeta) and declares the steps it uses, in the order reports list them
// (emitter.Builder.DeclareSteps). Counts, reports, traces and listings read
// regions and steps from there, never from a symbol's name.
package region

import "fmt"

// Region is a part of the modelled system. Its name is the key of
// instructions.by_region in report.json.
type Region string

const (
	None    Region = ""
	Tier0   Region = "tier0"   // tier0 code of JIT-compiled methods
	OSR     Region = "osr"     // OSR methods
	Helper  Region = "helper"  // the patchpoint helper (JIT_Patchpoint)
	Runtime Region = "runtime" // the async runtime and the program's driver
	Host    Region = "host"    // the boundary with the host process
)

// Info describes a region.
type Info struct {
	Region Region
	Doc    string // what it holds, for report legends: "the tier0 method"
	// Managed code is JIT-compiled (or, like CoreLib's async dispatcher,
	// managed in CoreCLR): the virtual unwind to the first managed frame
	// stops at it, and it lives in the JIT code heap.
	Managed bool
}

// All lists every region, in the order reports list them.
var All = []Info{
	{Tier0, "the tier0 method", true},
	{OSR, "the OSR method", true},
	{Helper, "the patchpoint helper", false},
	{Runtime, "the async runtime", true},
	{Host, "the host boundary", false},
}

// Lookup returns r's description; ok is false for None and unknown names.
func Lookup(r Region) (info Info, ok bool) {
	for _, i := range All {
		if i.Region == r {
			return i, true
		}
	}
	return Info{}, false
}

// Managed reports whether r's code is managed (see Info.Managed).
func (r Region) Managed() bool {
	i, _ := Lookup(r)
	return i.Managed
}

// Step is one named step of a region's code. Its name is the key of
// instructions.by_step in report.json, so it is unique across regions.
type Step struct {
	Region Region
	Name   string
	Doc    string // what the step does, for report legends
}

// Meta is what a symbol says about its code. An instruction counts for the
// region and the step of the innermost symbol that names one.
type Meta struct {
	// Region of a function; a sub-range leaves it empty (it is its
	// function's).
	Region Region
	// Step names a declared Step of the region, or is empty: the code
	// belongs to the step of an enclosing symbol, if any.
	Step string
}

// Catalogue is a set of declared steps, in declaration order.
type Catalogue []Step

// Add declares steps. Declaring a step again with the same region and doc
// is a no-op; a different declaration of a known name, an unknown region
// or an empty name is an error.
func (c *Catalogue) Add(steps ...Step) error {
	for _, s := range steps {
		if _, ok := Lookup(s.Region); !ok {
			return fmt.Errorf("step %q: unknown region %q", s.Name, s.Region)
		}
		if s.Name == "" {
			return fmt.Errorf("step of region %s without a name", s.Region)
		}
		if old, ok := c.Find(s.Name); ok {
			if old != s {
				return fmt.Errorf("step %q declared twice: %+v and %+v", s.Name, old, s)
			}
			continue
		}
		*c = append(*c, s)
	}
	return nil
}

// Find returns the step called name.
func (c Catalogue) Find(name string) (Step, bool) {
	for _, s := range c {
		if s.Name == name {
			return s, true
		}
	}
	return Step{}, false
}

// Check reports whether m is consistent with the catalogue: a known (or no)
// region, and a step, if any, declared for that region.
func (c Catalogue) Check(m Meta) error {
	if m.Region != None {
		if _, ok := Lookup(m.Region); !ok {
			return fmt.Errorf("unknown region %q", m.Region)
		}
	}
	if m.Step == "" {
		return nil
	}
	s, ok := c.Find(m.Step)
	switch {
	case !ok:
		return fmt.Errorf("step %q is not declared", m.Step)
	case s.Region != m.Region:
		return fmt.Errorf("step %q belongs to region %q, not %q", m.Step, s.Region, m.Region)
	}
	return nil
}
