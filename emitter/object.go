package emitter

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"

	"github.com/osrsim/osrsim/region"
)

// Object is the result of Program.Finish: laid-out sections whose remaining
// cross-section and absolute references are relocations resolved by Link.
type Object struct {
	Sections []*Section // in creation order, the EHFrame sections last
	Externs  []string   // symbols declared with Program.Extern
	// Steps are the steps declared with Builder.DeclareSteps, in
	// declaration order; every symbol's step is one of them.
	Steps region.Catalogue
}

// Section is one laid-out section. Offsets are relative to its start.
type Section struct {
	Name    string
	Bytes   []byte
	Insts   []Inst         // every instruction, sorted by offset; data is not listed
	Symbols []Symbol       // sorted by start
	Labels  map[string]int // bound label name -> offset
	Relocs  []Reloc
	Unwind  []FuncUnwind // one per Func, in definition order

	labelOrder []string // label names in binding order (listings prefer the first bound)
}

// Inst is one instruction's extent.
type Inst struct{ Off, Len int }

// Symbol is a named range [Start, End) of a section. Its Meta says what
// its code is part of (Builder.SetMeta); a range's Region is its
// function's.
type Symbol struct {
	Name       string
	Start, End int
	Kind       SymbolKind
	region.Meta
}

// RelocKind is the kind of an unresolved reference.
type RelocKind uint8

const (
	// RelocAbs64: the 8 bytes at Off become S + Addend.
	RelocAbs64 RelocKind = iota
	// RelocPCRel32: the 4 bytes at Off become S + Addend - P, where P is the
	// address of the field itself (ELF R_X86_64_PC32). Addend already holds
	// -(distance from the field to the end of the instruction), so a call
	// has Addend -4 and a RIP-relative operand followed by an imm8 has -5.
	RelocPCRel32
	// RelocRVA32: the 4 bytes at Off become S + Addend - B, B the address
	// of symbol Base: an image-relative address (RVA), as in the
	// RUNTIME_FUNCTION entries of a module's function table. It must fit
	// in 32 bits unsigned.
	RelocRVA32
)

func (k RelocKind) String() string {
	return [...]string{RelocAbs64: "abs64", RelocPCRel32: "pcrel32", RelocRVA32: "rva32"}[k]
}

// Reloc is a reference resolved by Link. Target names a label if Label is
// set, else a symbol. An abs64 reference may repeat (a table column):
// Repeat more copies follow at Off+Stride, Off+2*Stride, ...
type Reloc struct {
	Off            int
	Kind           RelocKind
	Target         string
	Label          bool
	Addend         int64
	Base           string // RelocRVA32: the symbol the field is relative to
	Repeat, Stride int
}

// Section returns the named section or nil.
func (o *Object) Section(name string) *Section {
	for _, s := range o.Sections {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Linked is an object placed at fixed addresses.
type Linked struct {
	Bytes      map[string][]byte // section name -> final bytes
	Bases      map[string]uint64 // section name -> base address
	Symbols    map[string]uint64 // symbol -> absolute start
	SymbolEnds map[string]uint64 // symbol -> absolute end
	Labels     map[string]uint64 // label -> absolute address
}

// Link places every section at its base and resolves every relocation.
func (o *Object) Link(bases map[string]uint64) (*Linked, error) {
	return o.LinkExterns(bases, nil)
}

// LinkExterns is Link with addresses for the symbols declared by Program.Extern.
func (o *Object) LinkExterns(bases, externs map[string]uint64) (*Linked, error) {
	var errs ErrorList
	add := func(kind error, format string, args ...any) {
		errs = append(errs, &Error{Err: fmt.Errorf("%w: "+format, append([]any{kind}, args...)...)})
	}
	ln := &Linked{Bytes: map[string][]byte{}, Bases: map[string]uint64{}, Symbols: map[string]uint64{}, SymbolEnds: map[string]uint64{}, Labels: map[string]uint64{}}
	type extent struct {
		name       string
		start, end uint64
	}
	var exts []extent
	for _, s := range o.Sections {
		base, ok := bases[s.Name]
		if !ok {
			add(ErrNoBase, "section %q", s.Name)
			continue
		}
		ln.Bases[s.Name] = base
		exts = append(exts, extent{s.Name, base, base + uint64(len(s.Bytes))})
		for _, sym := range s.Symbols {
			ln.Symbols[sym.Name] = base + uint64(sym.Start)
			ln.SymbolEnds[sym.Name] = base + uint64(sym.End)
		}
		for name, off := range s.Labels {
			ln.Labels[name] = base + uint64(off)
		}
	}
	for _, name := range o.Externs {
		addr, ok := externs[name]
		if !ok {
			add(ErrUndefinedSymbol, "extern %q has no address", name)
			continue
		}
		ln.Symbols[name], ln.SymbolEnds[name] = addr, addr
	}
	sort.Slice(exts, func(i, j int) bool { return exts[i].start < exts[j].start })
	for i := 1; i < len(exts); i++ {
		if exts[i].start < exts[i-1].end {
			add(ErrSectionOverlap, "%q [%#x,%#x) and %q [%#x,%#x)", exts[i-1].name, exts[i-1].start, exts[i-1].end, exts[i].name, exts[i].start, exts[i].end)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	for _, s := range o.Sections {
		out := append([]byte(nil), s.Bytes...)
		base := ln.Bases[s.Name]
		for _, r := range s.Relocs {
			tab := ln.Symbols
			if r.Label {
				tab = ln.Labels
			}
			target, ok := tab[r.Target]
			if !ok {
				bug("relocation target %q of section %q is unknown after Finish", r.Target, s.Name)
			}
			v := target + uint64(r.Addend)
			switch r.Kind {
			case RelocAbs64:
				for k := 0; k <= r.Repeat; k++ {
					binary.LittleEndian.PutUint64(out[r.Off+k*r.Stride:], v)
				}
			case RelocPCRel32:
				d := int64(v - (base + uint64(r.Off)))
				if d != int64(int32(d)) {
					add(ErrRel32Range, "section %q offset %#x: %q at %#x is %#x bytes away", s.Name, r.Off, r.Target, target, d)
					continue
				}
				binary.LittleEndian.PutUint32(out[r.Off:], uint32(int32(d)))
			case RelocRVA32:
				base, ok := ln.Symbols[r.Base]
				if !ok {
					bug("relocation base %q of section %q is unknown after Finish", r.Base, s.Name)
				}
				if v < base || v-base > math.MaxUint32 {
					add(ErrRel32Range, "section %q offset %#x: %q at %#x is not within 4 GiB above %q at %#x", s.Name, r.Off, r.Target, target, r.Base, base)
					continue
				}
				binary.LittleEndian.PutUint32(out[r.Off:], uint32(v-base))
			}
		}
		ln.Bytes[s.Name] = out
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return ln, nil
}
