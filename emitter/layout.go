package emitter

import (
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/osrsim/osrsim/region"
)

// Layout. Builders append every variable-size item (relaxable branch,
// alignment) at its maximum size and record it as an item. Finish picks the
// final sizes: branches start short and grow to long until every short
// displacement fits (monotone, so at most len(items)+1 passes); alignment
// padding follows from the final offsets. A buffer position p maps to the
// final offset p + (sum of size changes of the items that end at or before p);
// no recorded position lies strictly inside an item.

type itemKind uint8

const (
	itemBranch itemKind = iota
	itemAlign
)

type item struct {
	kind   itemKind
	pos    int // buffer position
	bufLen int // bytes reserved in the buffer
	// branch
	label *Label
	cond  int // -1 for jmp
	fix   int // index of the rel32 fixup of the long form
	// align
	n    int
	fill byte
	nops bool
}

type fixKind uint8

const (
	fixRel32 fixKind = iota // field = target + addend - end
	fixAbs64                // field = target + addend
	fixRVA32                // field = target + addend - base (32 bits, unsigned)
)

type fixup struct {
	pos    int // field position
	end    int // end of the instruction (PC-relative base)
	kind   fixKind
	label  *Label
	sym    string
	addend int64
	base   string // fixRVA32: the symbol the field is relative to
	at     site   // where a symbol was referenced, for errors at Finish
	items  int    // items recorded before this fixup
	// An abs64 reference may repeat: repeat more copies, each stride bytes
	// after the one before (a table column; see Builder.Words).
	repeat, stride int
}

// layout holds the final sizes of one section's items.
type layout struct {
	b     *Builder
	long  []bool // branch is in rel32 form
	size  []int  // final size of each item
	ends  []int  // buffer end of each item (sorted)
	cum   []int  // cumulative size change after each item
	fpos  []int  // final offset of each item
	total int
}

// final maps a buffer position to its final section offset.
func (l *layout) final(p int) int {
	k := sort.SearchInts(l.ends, p+1) // items with end <= p
	if k == 0 {
		return p
	}
	return p + l.cum[k-1]
}

func (l *layout) compute() {
	shift := 0
	for i, it := range l.b.items {
		l.fpos[i] = it.pos + shift
		switch it.kind {
		case itemBranch:
			if l.long[i] {
				l.size[i] = it.bufLen
			} else {
				l.size[i] = 2
			}
		case itemAlign:
			l.size[i] = (it.n - l.fpos[i]%it.n) % it.n
		}
		shift += l.size[i] - it.bufLen
		l.cum[i] = shift
	}
	l.total = len(l.b.buf) + shift
}

// shortDisp is the rel8 displacement of short branch i.
func (l *layout) shortDisp(i int) int {
	return l.final(l.b.items[i].label.pos) - (l.fpos[i] + 2)
}

func newLayout(b *Builder) *layout {
	n := len(b.items)
	l := &layout{b: b, long: make([]bool, n), size: make([]int, n), ends: make([]int, n), cum: make([]int, n), fpos: make([]int, n)}
	for i, it := range b.items {
		l.ends[i] = it.pos + it.bufLen
		if it.kind == itemBranch {
			l.long[i] = !b.p.relax || it.label.sec != b
		}
	}
	for pass := 0; ; pass++ {
		if pass > n+1 {
			bug("branch relaxation of section %q did not converge after %d passes", b.name, pass)
		}
		l.compute()
		changed := false
		for i, it := range b.items {
			if it.kind == itemBranch && !l.long[i] {
				if d := l.shortDisp(i); d < -128 || d > 127 {
					l.long[i] = true
					changed = true
				}
			}
		}
		if !changed {
			return l
		}
	}
}

// adder records an error found at Finish.
type adder func(pos string, kind error, format string, args ...any)

// Finish lays out every section, relaxes branches, resolves the fixups that
// stay within a section and returns the object with the remaining
// relocations, or every recorded error.
func (p *Program) Finish() (*Object, error) {
	errs := append(ErrorList(nil), p.errs...)
	add := func(pos string, kind error, format string, args ...any) {
		errs = append(errs, &Error{Pos: pos, Err: fmt.Errorf("%w: "+format, append([]any{kind}, args...)...)})
	}
	p.checkOpen(add)
	p.checkReferences(add)
	if len(errs) > 0 {
		return nil, errs
	}

	obj := &Object{Externs: append([]string(nil), p.externs...), Steps: append(region.Catalogue(nil), p.steps...)}
	for _, b := range p.sections {
		if !p.eh.owns(b) {
			obj.Sections = append(obj.Sections, b.finish(add))
		}
	}
	if p.eh != nil { // its records describe the laid-out code
		p.eh.fill(obj.Section(p.eh.code.name), add)
		obj.Sections = append(obj.Sections, p.eh.hdr.finish(add), p.eh.frame.finish(add))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return obj, nil
}

// checkOpen reports functions and ranges left open.
func (p *Program) checkOpen(add adder) {
	for _, b := range p.sections {
		if b.fn != nil {
			add(b.fn.where.String(), ErrSymbolNesting, "func %q has no EndFunc", b.fn.sym.name)
		}
		for _, r := range b.ranges {
			add("", ErrSymbolNesting, "range %q has no EndRange", r.name)
		}
	}
}

// checkReferences reports labels used but never bound (once each) and
// symbols referenced but never defined.
func (p *Program) checkReferences(add adder) {
	unbound := map[*Label]bool{}
	for _, b := range p.sections {
		for _, f := range b.fixups {
			switch {
			case f.label != nil && f.label.sec == nil && !unbound[f.label]:
				unbound[f.label] = true
				add(f.label.at.String(), ErrUnboundLabel, "label %q is used but never bound", f.label.name)
			case f.label == nil:
				if _, ok := p.symbols[f.sym]; !ok {
					add(f.at.String(), ErrUndefinedSymbol, "symbol %q referenced in section %q is never defined", f.sym, b.name)
				}
			}
			if _, ok := p.symbols[f.base]; f.kind == fixRVA32 && !ok {
				add(f.at.String(), ErrUndefinedSymbol, "symbol %q referenced in section %q is never defined", f.base, b.name)
			}
		}
	}
}

// finish lays the section out: bytes with every branch and alignment at
// its final size, then everything that points into them.
func (b *Builder) finish(add adder) *Section {
	l := newLayout(b)
	s := &Section{Name: b.name, Labels: map[string]int{}}
	bytes, short, alignInsts := l.bytes()
	s.Bytes = bytes
	s.Insts = l.insts(alignInsts)
	for _, lb := range b.labels {
		s.Labels[lb.name] = l.final(lb.pos)
		s.labelOrder = append(s.labelOrder, lb.name)
	}
	s.Relocs = l.fixups(bytes, short, add)
	s.Symbols = l.symbols(len(bytes), add)
	s.Unwind = l.unwind(add)
	return s
}

// bytes writes the section: short branches re-encoded in rel8 form,
// alignment padding as fill or as nop instructions (returned, in order).
// short holds the fixup indices of short branches: their rel8 is final.
func (l *layout) bytes() (out []byte, short map[int]bool, alignInsts []Inst) {
	b := l.b
	out = make([]byte, 0, l.total)
	short = map[int]bool{}
	prev := 0
	for i, it := range b.items {
		out = append(out, b.buf[prev:it.pos]...)
		switch {
		case it.kind == itemBranch && l.long[i]:
			out = append(out, b.buf[it.pos:it.pos+it.bufLen]...)
		case it.kind == itemBranch:
			op := byte(0xeb)
			if it.cond >= 0 {
				op = 0x70 | byte(it.cond)
			}
			out = append(out, op, byte(int8(l.shortDisp(i))))
			short[it.fix] = true
		case it.nops:
			for pad := l.size[i]; pad > 0; {
				k := min(pad, 9)
				alignInsts = append(alignInsts, Inst{Off: len(out), Len: k})
				out = append(out, nops[k]...)
				pad -= k
			}
		default:
			for range l.size[i] {
				out = append(out, it.fill)
			}
		}
		prev = it.pos + it.bufLen
	}
	out = append(out, b.buf[prev:]...)
	if len(out) != l.total {
		bug("section %q: laid out %d bytes, expected %d", b.name, len(out), l.total)
	}
	return out, short, alignInsts
}

// insts lists every instruction at its final offset: spans are in buffer
// order, alignment nops in layout order; it merges the two sorted lists.
func (l *layout) insts(alignInsts []Inst) []Inst {
	out := make([]Inst, 0, len(l.b.insts)+len(alignInsts))
	for _, sp := range l.b.insts {
		start := l.final(sp.start)
		for len(alignInsts) > 0 && alignInsts[0].Off < start {
			out = append(out, alignInsts[0])
			alignInsts = alignInsts[1:]
		}
		out = append(out, Inst{Off: start, Len: l.final(sp.end) - start})
	}
	return append(out, alignInsts...)
}

// fixups patches every rel32 that stays within the section into out and
// returns the others as relocations. Short branches (already final) are
// skipped.
func (l *layout) fixups(out []byte, short map[int]bool, add adder) []Reloc {
	b := l.b
	var relocs []Reloc
	for i, f := range b.fixups {
		if short[i] {
			continue
		}
		pos, end := l.final(f.pos), l.final(f.end)
		var tsec *Builder
		var tpos int
		name, isLabel := f.sym, f.label != nil
		if isLabel {
			tsec, tpos, name = f.label.sec, f.label.pos, f.label.name
		} else if d := b.p.symbols[f.sym]; d.kind != symExtern {
			tsec, tpos = d.sec, d.start
		}
		if f.kind == fixRel32 && tsec == b {
			v := int64(l.final(tpos)) + f.addend - int64(end)
			if v != int64(int32(v)) {
				add("", ErrDispRange, "section %q offset %#x: rel32 to %q out of range", b.name, pos, name)
				continue
			}
			binary.LittleEndian.PutUint32(out[pos:], uint32(int32(v)))
			continue
		}
		r := Reloc{Off: pos, Kind: RelocAbs64, Target: name, Label: isLabel, Addend: f.addend, Repeat: f.repeat, Stride: f.stride}
		switch f.kind {
		case fixRel32:
			r.Kind, r.Addend = RelocPCRel32, f.addend-int64(end-pos)
		case fixRVA32:
			r.Kind, r.Base = RelocRVA32, f.base
		}
		relocs = append(relocs, r)
	}
	return relocs
}

// symbols lists the section's symbols sorted by start, with their
// metadata checked against the declared steps. A data symbol without an
// end extends to the next symbol that starts later, or to size.
func (l *layout) symbols(size int, add adder) []Symbol {
	var syms []Symbol
	for _, d := range l.b.syms {
		end := d.end
		if end < 0 && d.kind != SymData {
			continue // unclosed; already reported
		}
		sym := Symbol{Name: d.name, Kind: d.kind, Start: l.final(d.start), End: -1, Meta: l.b.p.meta(d, add)}
		if end >= 0 {
			sym.End = l.final(end)
		}
		syms = append(syms, sym)
	}
	sort.SliceStable(syms, func(i, j int) bool { return syms[i].Start < syms[j].Start })
	for i := range syms {
		if syms[i].End >= 0 {
			continue
		}
		syms[i].End = size
		for _, o := range syms[i+1:] {
			if o.Start > syms[i].Start {
				syms[i].End = o.Start
				break
			}
		}
	}
	return syms
}

// meta is d's metadata with a range's region filled in from its function,
// checked against the declared steps.
func (p *Program) meta(d *symDef, add adder) region.Meta {
	m := d.meta
	if d.kind == SymRange && d.fn != nil {
		if m.Region != region.None && m.Region != d.fn.meta.Region {
			add(d.metaAt.String(), ErrSymbolMeta, "range %q: region %q differs from its function's (%q)", d.name, m.Region, d.fn.meta.Region)
		}
		m.Region = d.fn.meta.Region
	}
	if err := p.steps.Check(m); err != nil {
		add(d.metaAt.String(), ErrSymbolMeta, "symbol %q: %v", d.name, err)
	}
	return m
}

// unwind builds every closed function's unwind record at final offsets.
func (l *layout) unwind(add adder) []FuncUnwind {
	var out []FuncUnwind
	for _, fn := range l.b.funcs {
		if fn.sym.end < 0 {
			continue
		}
		start := l.final(fn.sym.start)
		u := FuncUnwind{Name: fn.sym.name, Start: start, End: l.final(fn.sym.end), FrameReg: fn.frameReg, FrameOffset: fn.frameOff, HasFrame: fn.hasFrame}
		prolog := 0
		for _, c := range fn.codes {
			off := l.final(c.pos) - start
			if off > 255 {
				add(c.where.String(), ErrUnwind, "func %q: unwind code at prolog offset %d > 255", fn.sym.name, off)
				off = 255
			}
			u.Codes = append(u.Codes, UnwindCode{CodeOffset: uint8(off), Op: c.op, Info: c.info, Operand: c.operand})
			prolog = max(prolog, off)
		}
		if fn.prologEnd >= 0 {
			prolog = l.final(fn.prologEnd) - start
		}
		if prolog > 255 {
			add(fn.where.String(), ErrUnwind, "func %q: prolog of %d bytes > 255", fn.sym.name, prolog)
			prolog = 255
		}
		u.PrologSize = uint8(prolog)
		u.Info = encodeUnwindInfo(&u)
		if n := len(u.Info)/2 - 2; n > 255 {
			add(fn.where.String(), ErrUnwind, "func %q: %d unwind slots > 255", fn.sym.name, n)
		}
		out = append(out, u)
	}
	return out
}
