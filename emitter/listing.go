package emitter

import (
	"fmt"
	"sort"
	"strings"

	"golang.org/x/arch/x86/x86asm"
)

// metaNote shows what a symbol says about its code: a function's region
// and step, a range's step.
func metaNote(sym Symbol) string {
	var parts []string
	if sym.Kind == SymFunc && sym.Region != "" {
		parts = append(parts, "region "+string(sym.Region))
	}
	if sym.Step != "" {
		parts = append(parts, "step "+sym.Step)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// Listing disassembles one linked section in the spirit of the .NET JIT's
// disasm output: symbol headers, label lines, then one line per instruction
// with an optional annotation column (e.g. execution counts), address,
// section offset, bytes and GNU-syntax text whose branch targets and
// RIP-relative operands are shown as label/symbol names. Bytes that are not
// instructions are shown as .byte lines.
func (l *Linked) Listing(o *Object, section string, annotate func(addr uint64) string) string {
	s := o.Section(section)
	code, ok := l.Bytes[section]
	if s == nil || !ok {
		return fmt.Sprintf("; no linked section %q\n", section)
	}
	base := l.Bases[section]
	names := newSymTable(o, l)

	var annots []string
	width := 0
	if annotate != nil {
		annots = make([]string, len(s.Insts))
		for i, in := range s.Insts {
			annots[i] = annotate(base + uint64(in.Off))
			width = max(width, len(annots[i]))
		}
	}
	pad := strings.Repeat(" ", width)

	// Headers and labels by offset.
	heads := map[int][]string{}
	for _, sym := range s.Symbols {
		var h string
		switch sym.Kind {
		case SymFunc:
			h = fmt.Sprintf("; ==== func %s [%#x, %#x) %d bytes%s", sym.Name, base+uint64(sym.Start), base+uint64(sym.End), sym.End-sym.Start, metaNote(sym))
			for _, u := range s.Unwind {
				if u.Name == sym.Name {
					h += fmt.Sprintf(", prolog %d", u.PrologSize)
					if u.HasFrame {
						h += fmt.Sprintf(", frame %s+%d", u.FrameReg, u.FrameOffset)
					}
					for _, c := range u.Codes {
						h += fmt.Sprintf("\n;      unwind +%02x %v info=%d", c.CodeOffset, c.Op, c.Info)
						if UnwindSlots(c.Op, c.Info) > 1 {
							h += fmt.Sprintf(" operand=%#x", c.Operand)
						}
					}
				}
			}
		case SymRange:
			h = fmt.Sprintf("; ---- %s [%#x, %#x)%s", sym.Name, base+uint64(sym.Start), base+uint64(sym.End), metaNote(sym))
		default:
			h = fmt.Sprintf("; ==== data %s [%#x, %#x) %d bytes", sym.Name, base+uint64(sym.Start), base+uint64(sym.End), sym.End-sym.Start)
		}
		heads[sym.Start] = append(heads[sym.Start], h)
	}
	labelsAt := map[int][]string{}
	for _, name := range s.labelOrder {
		off := s.Labels[name]
		if _, isSym := l.Symbols[name]; isSym && l.Symbols[name] == base+uint64(off) {
			continue // a Func's own label
		}
		labelsAt[off] = append(labelsAt[off], name)
	}

	var sb strings.Builder
	fmt.Fprintf(&sb, "; section %s at %#x, %d bytes\n", section, base, len(code))
	marks := func(off int) {
		for _, h := range heads[off] {
			sb.WriteString(h + "\n")
		}
		for _, name := range labelsAt[off] {
			fmt.Fprintf(&sb, "%s%s:\n", pad, name)
		}
	}
	// Offsets where headers or labels sit inside data runs split them.
	var stops []int
	for off := range heads {
		stops = append(stops, off)
	}
	for off := range labelsAt {
		stops = append(stops, off)
	}
	sort.Ints(stops)

	off, ii := 0, 0
	for off < len(code) {
		marks(off)
		if ii < len(s.Insts) && s.Insts[ii].Off == off {
			in := s.Insts[ii]
			addr := base + uint64(off)
			raw := code[off : off+in.Len]
			text := "(bad)"
			if d, err := x86asm.Decode(raw, 64); err == nil && d.Len == in.Len {
				text = x86asm.GNUSyntax(d, addr, names.lookup)
			}
			a := pad
			if annots != nil {
				a = fmt.Sprintf("%*s", width, annots[ii])
			}
			fmt.Fprintf(&sb, "%s  %#x  +%04x  %-24s  %s\n", a, addr, off, hexBytes(raw), text)
			off += in.Len
			ii++
			continue
		}
		// Data up to the next instruction, header, label or 8 bytes.
		end := min(off+8, len(code))
		if ii < len(s.Insts) {
			end = min(end, s.Insts[ii].Off)
		}
		if k := sort.SearchInts(stops, off+1); k < len(stops) {
			end = min(end, stops[k])
		}
		parts := make([]string, 0, end-off)
		for _, c := range code[off:end] {
			parts = append(parts, fmt.Sprintf("%#02x", c))
		}
		fmt.Fprintf(&sb, "%s  %#x  +%04x  %-24s  .byte %s\n", pad, base+uint64(off), off, hexBytes(code[off:end]), strings.Join(parts, ","))
		off = end
	}
	marks(len(code))
	return sb.String()
}

func hexBytes(b []byte) string {
	var sb strings.Builder
	for i, c := range b {
		if i > 0 {
			sb.WriteByte(' ')
		}
		fmt.Fprintf(&sb, "%02x", c)
	}
	return sb.String()
}

// symTable resolves addresses to label and symbol names for x86asm.
type symTable struct {
	exact map[uint64]string
	syms  []addrName // sorted by start
}

type addrName struct {
	start, end uint64
	name       string
}

func newSymTable(o *Object, l *Linked) *symTable {
	t := &symTable{exact: map[uint64]string{}}
	for name, addr := range l.Symbols {
		t.syms = append(t.syms, addrName{addr, l.SymbolEnds[name], name})
	}
	sort.Slice(t.syms, func(i, j int) bool {
		if t.syms[i].start != t.syms[j].start {
			return t.syms[i].start < t.syms[j].start
		}
		return t.syms[i].name < t.syms[j].name
	})
	// Symbols first, then labels override: a label names a jump target more
	// precisely than the function it is in.
	for i := len(t.syms) - 1; i >= 0; i-- {
		t.exact[t.syms[i].start] = t.syms[i].name
	}
	// The first label bound at an address names it.
	for _, s := range o.Sections {
		for i := len(s.labelOrder) - 1; i >= 0; i-- {
			name := s.labelOrder[i]
			if _, isSym := l.Symbols[name]; !isSym {
				t.exact[l.Labels[name]] = name
			}
		}
	}
	return t
}

func (t *symTable) lookup(addr uint64) (string, uint64) {
	if name, ok := t.exact[addr]; ok {
		return name, addr
	}
	// Innermost (latest-starting) symbol containing addr.
	k := sort.Search(len(t.syms), func(i int) bool { return t.syms[i].start > addr })
	for i := k - 1; i >= 0; i-- {
		if s := t.syms[i]; addr < s.end {
			return s.name, s.start
		}
	}
	return "", 0
}
