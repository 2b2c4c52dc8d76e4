// Package sim holds the fixed-address image that both engines run and the
// results they report. An image is plain data: regions with their initial
// bytes, symbols, instruction boundaries and event addresses. Engines never
// change its behaviour; they only run it and observe.
package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"

	"github.com/osrsim/osrsim/region"
)

// Perm is a region's protection.
type Perm uint8

const (
	PermR Perm = 1 << iota
	PermW
	PermX
)

func (p Perm) String() string {
	b := []byte("---")
	if p&PermR != 0 {
		b[0] = 'r'
	}
	if p&PermW != 0 {
		b[1] = 'w'
	}
	if p&PermX != 0 {
		b[2] = 'x'
	}
	return string(b)
}

// Fixed addresses shared by both engines. They sit far from where Go, cgo and
// the dynamic loader put anything on linux/amd64, so MAP_FIXED_NOREPLACE
// succeeds natively, and they fit in 47 bits.
const (
	CodeBase  uint64 = 0x5_0000_0000
	DataBase  uint64 = 0x5_1000_0000
	HeapBase  uint64 = 0x5_2000_0000
	StackBase uint64 = 0x5_3000_0000
	// HostBase is a small page the entry stub uses to save the host's
	// stack pointer and callee-saved registers. Its contents differ between
	// engines by nature, so it is never part of the compared final state.
	HostBase uint64 = 0x5_4000_0000
	HostSize uint64 = 0x1000
	// The stopwatch marks of a C# workload store the time stamp counter
	// in the host page.
	HostTSCStart = HostBase + 0x100
	HostTSCStop  = HostBase + 0x108
	// EHFrameHdrBase and EHFrameBase hold the DWARF call-frame records of
	// the native functions (.eh_frame_hdr, .eh_frame): read-only, between
	// the code and the data.
	EHFrameHdrBase uint64 = 0x5_0f00_0000
	EHFrameBase    uint64 = 0x5_0f10_0000
	// ContextBase holds the register contexts the patchpoint helper
	// captures (RtlCaptureContext, fxsave): they record machine state
	// that differs between a user process and the emulator (segment
	// selectors, RFLAGS.IF, the x87 and MXCSR state, MXCSR_MASK), so the
	// region is writable but never part of the compared final state.
	ContextBase uint64 = 0x5_0f20_0000
)

// Region names used by the image builder.
const (
	RegionCode  = "code"
	RegionData  = "data"
	RegionHeap  = "heap"
	RegionStack = "stack"
	RegionHost  = "host"
	// The .eh_frame records (not compared: read-only).
	RegionEHFrameHdr = "eh_frame_hdr"
	RegionEHFrame    = "eh_frame"
	// Captured machine contexts (not compared: see ContextBase).
	RegionContext = "context"
)

// PageSize is the granularity of every region.
const PageSize = 0x1000

// Region is one mapping at a fixed address.
type Region struct {
	Name string
	Base uint64
	Size uint64 // multiple of PageSize
	Perm Perm
	Init []byte // initial contents; len(Init) <= Size, the rest is zero
	// Compared regions form the final state both engines must agree on.
	Compared bool
}

// End is one past the last byte.
func (r *Region) End() uint64 { return r.Base + r.Size }

// Symbol is a named address range [Start, End). Functions and their named
// sub-ranges (helper steps, suspensions) are symbols; their Meta says which
// region and step their code counts for (the innermost symbol that names
// one decides).
type Symbol struct {
	Name  string
	Start uint64
	End   uint64
	region.Meta
}

// Event is an address whose executions are counted (helper entries, OSR
// entries, suspension and resumption points).
type Event struct {
	Name string
	Addr uint64
}

// Image is everything an engine needs to run generated code.
type Image struct {
	Regions []Region
	Symbols []Symbol
	// InstStarts lists the address of every instruction in executable
	// regions, ascending. Engines turn it into a prefix table so a block
	// [a, a+size) counts as P[a+size]-P[a] instructions.
	InstStarts []uint64
	Events     []Event
	// Steps are the steps symbols may name, in the order reports list them.
	Steps region.Catalogue
	// Entry is a SysV function `uint64 entry(uint64 arg)` that switches to
	// the image stack, runs, switches back and returns.
	Entry uint64
	Arg   uint64
}

// Region returns the region with the given name, or nil.
func (im *Image) Region(name string) *Region {
	for i := range im.Regions {
		if im.Regions[i].Name == name {
			return &im.Regions[i]
		}
	}
	return nil
}

// Symbol returns the symbol with the given name.
func (im *Image) Symbol(name string) (Symbol, bool) {
	for _, s := range im.Symbols {
		if s.Name == name {
			return s, true
		}
	}
	return Symbol{}, false
}

// SymbolAt names the innermost symbol containing addr ("" if none), with the
// offset from its start; useful for fault reports.
func (im *Image) SymbolAt(addr uint64) (string, uint64) {
	best := -1
	for i, s := range im.Symbols {
		if addr >= s.Start && addr < s.End {
			if best < 0 || s.End-s.Start < im.Symbols[best].End-im.Symbols[best].Start {
				best = i
			}
		}
	}
	if best < 0 {
		return "", 0
	}
	return im.Symbols[best].Name, addr - im.Symbols[best].Start
}

// CodeRange returns the lowest start and highest end of executable regions.
func (im *Image) CodeRange() (lo, hi uint64) {
	lo = ^uint64(0)
	for _, r := range im.Regions {
		if r.Perm&PermX != 0 {
			lo = min(lo, r.Base)
			hi = max(hi, r.End())
		}
	}
	return lo, hi
}

// Validate checks the invariants engines rely on.
func (im *Image) Validate() error {
	rs := append([]Region(nil), im.Regions...)
	sort.Slice(rs, func(i, j int) bool { return rs[i].Base < rs[j].Base })
	for i, r := range rs {
		if r.Base%PageSize != 0 || r.Size == 0 || r.Size%PageSize != 0 {
			return fmt.Errorf("region %s: base %#x size %#x not page-aligned", r.Name, r.Base, r.Size)
		}
		if uint64(len(r.Init)) > r.Size {
			return fmt.Errorf("region %s: %d initial bytes exceed size %#x", r.Name, len(r.Init), r.Size)
		}
		if r.Perm&PermW != 0 && r.Perm&PermX != 0 {
			return fmt.Errorf("region %s: writable and executable", r.Name)
		}
		if i > 0 && rs[i-1].End() > r.Base {
			return fmt.Errorf("regions %s and %s overlap", rs[i-1].Name, r.Name)
		}
	}
	if !sort.SliceIsSorted(im.InstStarts, func(i, j int) bool { return im.InstStarts[i] < im.InstStarts[j] }) {
		return fmt.Errorf("instruction starts not sorted")
	}
	lo, hi := im.CodeRange()
	if im.Entry < lo || im.Entry >= hi {
		return fmt.Errorf("entry %#x outside code", im.Entry)
	}
	var steps region.Catalogue
	if err := steps.Add(im.Steps...); err != nil {
		return err
	}
	if len(steps) != len(im.Steps) {
		return fmt.Errorf("a step is listed twice")
	}
	for _, s := range im.Symbols {
		if err := steps.Check(s.Meta); err != nil {
			return fmt.Errorf("symbol %s: %w", s.Name, err)
		}
	}
	return nil
}

// State is the final state both engines must agree on.
type State struct {
	Ret       uint64            `json:"ret"`
	Checksums map[string]string `json:"checksums"` // region name -> sha256 of its bytes
}

// Checksum hashes a region's bytes.
func Checksum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:16])
}

// Equal reports whether two states agree, and if not, how.
func (s State) Diff(o State) error {
	if s.Ret != o.Ret {
		return fmt.Errorf("return value %#x != %#x", s.Ret, o.Ret)
	}
	for k, v := range s.Checksums {
		if o.Checksums[k] != v {
			return fmt.Errorf("region %s checksum %s != %s", k, v, o.Checksums[k])
		}
	}
	if len(s.Checksums) != len(o.Checksums) {
		return fmt.Errorf("compared regions differ: %d vs %d", len(s.Checksums), len(o.Checksums))
	}
	return nil
}
