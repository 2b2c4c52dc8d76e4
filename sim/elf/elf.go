// Package elf writes an image as an ELF64 x86-64 executable, so standard
// tools see it at its fixed addresses: objdump -d with function names, gdb,
// perf, and readelf --debug-dump=frames for the .eh_frame records.
//
// Every region becomes a section and a PT_LOAD segment at its address
// (initial bytes in the file, the rest of the region as memory size), the
// eh_frame_hdr region also a PT_GNU_EH_FRAME segment; symbols go to .symtab.
// Constants come from debug/elf; the layout is the ELF-64 Object File
// Format (version 1.5) and the System V x86-64 psABI.
package elf

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/osrsim/osrsim/internal/atomicfile"
	"github.com/osrsim/osrsim/sim"
)

// Sizes of the ELF64 structures.
const (
	ehdrSize = 64
	phdrSize = 56
	shdrSize = 64
	symSize  = 24
	align    = sim.PageSize // segment alignment: file offset ≡ address mod page
)

// Section is one allocated section.
type Section struct {
	Name  string
	Addr  uint64
	Data  []byte // file contents
	Size  uint64 // memory size, >= len(Data); the rest is zero
	Flags elf.SectionFlag
	Align uint64
}

// Symbol is a named address range.
type Symbol struct {
	Name  string
	Value uint64
	Size  uint64
	Type  elf.SymType // STT_FUNC, STT_OBJECT or STT_NOTYPE
	Local bool
}

// File is an executable to write.
type File struct {
	Entry    uint64
	Sections []Section // one PT_LOAD each
	Symbols  []Symbol
	// EHFrameHdr names the section PT_GNU_EH_FRAME points at ("" for none).
	EHFrameHdr string
}

// sectionNames maps region names to section names; any other region
// becomes "." + its name.
var sectionNames = map[string]string{sim.RegionCode: ".text"}

// FromImage describes im: a section per region, and a symbol per image
// symbol. A symbol that no other symbol contains is a function (STT_FUNC,
// global); the named sub-ranges inside functions (helper steps, prologs)
// are local STT_NOTYPE symbols with their sizes.
func FromImage(im *sim.Image) *File {
	f := &File{Entry: im.Entry}
	for _, r := range im.Regions {
		name, ok := sectionNames[r.Name]
		if !ok {
			name = "." + r.Name
		}
		if r.Name == sim.RegionEHFrameHdr {
			f.EHFrameHdr = name
		}
		flags := elf.SHF_ALLOC
		if r.Perm&sim.PermW != 0 {
			flags |= elf.SHF_WRITE
		}
		if r.Perm&sim.PermX != 0 {
			flags |= elf.SHF_EXECINSTR
		}
		f.Sections = append(f.Sections, Section{Name: name, Addr: r.Base, Data: r.Init, Size: r.Size, Flags: flags, Align: 16})
	}
	for i, s := range im.Symbols {
		nested := false
		for j, o := range im.Symbols {
			if j != i && o.Start <= s.Start && s.End <= o.End && (o.Start != s.Start || o.End != s.End || j < i) {
				nested = true
				break
			}
		}
		sym := Symbol{Name: s.Name, Value: s.Start, Size: s.End - s.Start, Type: elf.STT_FUNC}
		if nested {
			sym.Type, sym.Local = elf.STT_NOTYPE, true
		}
		f.Symbols = append(f.Symbols, sym)
	}
	return f
}

// strtab builds a string table.
type strtab struct {
	b   []byte
	off map[string]uint32
}

func newStrtab() *strtab { return &strtab{b: []byte{0}, off: map[string]uint32{"": 0}} }

func (t *strtab) add(s string) uint32 {
	if o, ok := t.off[s]; ok {
		return o
	}
	o := uint32(len(t.b))
	t.b = append(append(t.b, s...), 0)
	t.off[s] = o
	return o
}

// WriteFile writes the file to path atomically.
func (f *File) WriteFile(path string) error {
	b, err := f.Bytes()
	if err != nil {
		return err
	}
	return atomicfile.Write(path, b)
}

// Bytes lays the file out: ELF header, program headers, each section's data
// at a file offset congruent to its address modulo the page size, then the
// symbol and string tables and the section headers.
func (f *File) Bytes() ([]byte, error) {
	secs := append([]Section(nil), f.Sections...)
	sort.SliceStable(secs, func(i, j int) bool { return secs[i].Addr < secs[j].Addr })
	for i, s := range secs {
		if uint64(len(s.Data)) > s.Size {
			return nil, fmt.Errorf("elf: section %s: %d bytes of data exceed its size %#x", s.Name, len(s.Data), s.Size)
		}
		if i > 0 && secs[i-1].Addr+secs[i-1].Size > s.Addr {
			return nil, fmt.Errorf("elf: sections %s and %s overlap", secs[i-1].Name, s.Name)
		}
	}
	hdrIdx := -1
	for i, s := range secs {
		if f.EHFrameHdr != "" && s.Name == f.EHFrameHdr {
			hdrIdx = i
		}
	}
	if f.EHFrameHdr != "" && hdrIdx < 0 {
		return nil, fmt.Errorf("elf: no section %s for PT_GNU_EH_FRAME", f.EHFrameHdr)
	}

	// Section indices: 0 null, 1..n allocated, then .symtab, .strtab, .shstrtab.
	n := len(secs)
	strtabIdx, shstrIdx := n+2, n+3 // .symtab is n+1
	nphdr := n
	if hdrIdx >= 0 {
		nphdr++
	}

	// File offsets of the section data.
	off := uint64(ehdrSize + nphdr*phdrSize)
	offs := make([]uint64, n)
	for i, s := range secs {
		if len(s.Data) == 0 {
			offs[i] = off
			continue
		}
		off += (s.Addr - off) % align
		offs[i] = off
		off += uint64(len(s.Data))
	}

	// Symbols: the null symbol, locals, then globals (sh_info is the first global).
	syms := append([]Symbol(nil), f.Symbols...)
	sort.SliceStable(syms, func(i, j int) bool {
		if syms[i].Local != syms[j].Local {
			return syms[i].Local
		}
		return syms[i].Value < syms[j].Value
	})
	strs := newStrtab()
	var symtab bytes.Buffer
	symtab.Write(make([]byte, symSize))
	firstGlobal := 1
	for _, s := range syms {
		shndx := elf.SHN_ABS
		for i, sec := range secs {
			if s.Value >= sec.Addr && s.Value < sec.Addr+sec.Size {
				shndx = elf.SectionIndex(i + 1)
			}
		}
		bind := elf.STB_GLOBAL
		if s.Local {
			bind = elf.STB_LOCAL
			firstGlobal++
		}
		binary.Write(&symtab, binary.LittleEndian, elf.Sym64{
			Name: strs.add(s.Name), Info: elf.ST_INFO(bind, s.Type), Shndx: uint16(shndx), Value: s.Value, Size: s.Size,
		})
	}
	symOff := (off + 7) &^ 7
	strOff := symOff + uint64(symtab.Len())
	shstrs := newStrtab()
	for _, s := range secs {
		shstrs.add(s.Name)
	}
	for _, s := range []string{".symtab", ".strtab", ".shstrtab"} {
		shstrs.add(s)
	}
	shstrOff := strOff + uint64(len(strs.b))
	shOff := (shstrOff + uint64(len(shstrs.b)) + 7) &^ 7

	var out bytes.Buffer
	w := func(v any) { binary.Write(&out, binary.LittleEndian, v) }
	var ident [elf.EI_NIDENT]byte
	copy(ident[:], elf.ELFMAG)
	ident[elf.EI_CLASS], ident[elf.EI_DATA], ident[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	ident[elf.EI_OSABI] = byte(elf.ELFOSABI_NONE)
	w(elf.Header64{
		Ident: ident, Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
		Entry: f.Entry, Phoff: ehdrSize, Shoff: shOff, Ehsize: ehdrSize,
		Phentsize: phdrSize, Phnum: uint16(nphdr), Shentsize: shdrSize, Shnum: uint16(shstrIdx + 1), Shstrndx: uint16(shstrIdx),
	})
	for i, s := range secs {
		flags := elf.PF_R
		if s.Flags&elf.SHF_WRITE != 0 {
			flags |= elf.PF_W
		}
		if s.Flags&elf.SHF_EXECINSTR != 0 {
			flags |= elf.PF_X
		}
		off := offs[i]
		if len(s.Data) == 0 {
			off = s.Addr % align
		}
		w(elf.Prog64{Type: uint32(elf.PT_LOAD), Flags: uint32(flags), Off: off,
			Vaddr: s.Addr, Paddr: s.Addr, Filesz: uint64(len(s.Data)), Memsz: s.Size, Align: align})
	}
	if hdrIdx >= 0 {
		s := secs[hdrIdx]
		w(elf.Prog64{Type: uint32(elf.PT_GNU_EH_FRAME), Flags: uint32(elf.PF_R), Off: offs[hdrIdx],
			Vaddr: s.Addr, Paddr: s.Addr, Filesz: uint64(len(s.Data)), Memsz: uint64(len(s.Data)), Align: 4})
	}
	pad := func(to uint64) { out.Write(make([]byte, to-uint64(out.Len()))) }
	for i, s := range secs {
		if len(s.Data) > 0 {
			pad(offs[i])
			out.Write(s.Data)
		}
	}
	pad(symOff)
	out.Write(symtab.Bytes())
	out.Write(strs.b)
	out.Write(shstrs.b)
	pad(shOff)

	w(elf.Section64{})
	for i, s := range secs {
		typ, size := elf.SHT_PROGBITS, uint64(len(s.Data))
		if len(s.Data) == 0 {
			typ, size = elf.SHT_NOBITS, s.Size
		}
		w(elf.Section64{Name: shstrs.add(s.Name), Type: uint32(typ), Flags: uint64(s.Flags), Addr: s.Addr,
			Off: offs[i], Size: size, Addralign: max(s.Align, 1)})
	}
	w(elf.Section64{Name: shstrs.add(".symtab"), Type: uint32(elf.SHT_SYMTAB), Off: symOff, Size: uint64(symtab.Len()),
		Link: uint32(strtabIdx), Info: uint32(firstGlobal), Addralign: 8, Entsize: symSize})
	w(elf.Section64{Name: shstrs.add(".strtab"), Type: uint32(elf.SHT_STRTAB), Off: strOff, Size: uint64(len(strs.b)), Addralign: 1})
	w(elf.Section64{Name: shstrs.add(".shstrtab"), Type: uint32(elf.SHT_STRTAB), Off: shstrOff, Size: uint64(len(shstrs.b)), Addralign: 1})
	return out.Bytes(), nil
}
