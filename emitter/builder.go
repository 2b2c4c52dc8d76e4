// Package emitter is osrsim's x64 machine-code emitter: a builder API with
// Intel operand order, labels and rel32 fixups (optionally relaxed to rel8),
// RIP-relative and absolute relocations across sections, symbols and named
// sub-ranges, Windows x64 UNWIND_INFO records and, from the same prolog
// description, .eh_frame records of native functions (ehframe.go), and
// listings decoded with golang.org/x/arch/x86/x86asm.
//
// Builder methods never return errors: invalid uses are recorded with the
// position of the caller and returned together by Program.Finish as an
// ErrorList. Broken internal invariants panic with a "BUG:" message.
// Generate builds a program without paying for those positions unless an
// error needs them, and Words emits large tables in bulk.
package emitter

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/osrsim/osrsim/region"
)

// Program is a set of sections sharing one label and symbol namespace.
type Program struct {
	sections   []*Builder
	byName     map[string]*Builder
	labelNames map[string]int
	labels     []*Label
	symbols    map[string]*symDef
	externs    []string
	steps      region.Catalogue
	errs       ErrorList
	relax      bool
	eh         *ehFrame // set by EHFrame
	// positions: record where labels, references and unwind codes come
	// from, for errors that Finish finds (see site).
	positions bool
}

// NewProgram returns an empty program with rel8 branch relaxation on. It
// records positions, so every error Finish returns names the caller's
// file:line.
func NewProgram() *Program {
	p := newProgram()
	p.positions = true
	return p
}

func newProgram() *Program {
	return &Program{
		byName:     map[string]*Builder{},
		labelNames: map[string]int{},
		symbols:    map[string]*symDef{},
		relax:      true,
	}
}

// Generate runs gen on a new Program and finishes it. Positions for errors
// cost a stack walk per label, reference and unwind code, and only an error
// needs them, so gen first runs on a Program that records none; only if
// Finish fails does gen run again on one made by NewProgram, whose errors
// (each with its file:line) Generate returns. gen must build the same
// program every time; an error of its own is returned as it is.
func Generate(gen func(*Program) error) (*Object, error) {
	p := newProgram()
	if err := gen(p); err != nil {
		return nil, err
	}
	obj, err := p.Finish()
	if err == nil {
		return obj, nil
	}
	q := NewProgram()
	if gerr := gen(q); gerr != nil {
		return nil, gerr
	}
	if _, qerr := q.Finish(); qerr != nil {
		return nil, qerr
	}
	return nil, err // gen built a different program the second time
}

// SetRelax turns rel8 relaxation of intra-section Jmp/Jcc to labels on or off.
// Off, every branch keeps its rel32 form.
func (p *Program) SetRelax(on bool) { p.relax = on }

// Section creates the named section or returns the existing one. Sections are
// linked at fixed bases by Object.Link.
func (p *Program) Section(name string) *Builder {
	if b, ok := p.byName[name]; ok {
		return b
	}
	b := &Builder{p: p, name: name, idx: len(p.sections)}
	p.sections = append(p.sections, b)
	p.byName[name] = b
	return b
}

// Program is the program b is a section of.
func (b *Builder) Program() *Program { return b.p }

// Extern declares a symbol that no section defines; Object.LinkExterns
// supplies its address.
func (p *Program) Extern(name string) {
	if _, ok := p.symbols[name]; ok {
		p.errorf(ErrDuplicateSymbol, "extern %q is already defined", name)
		return
	}
	p.symbols[name] = &symDef{name: name, kind: symExtern}
	p.externs = append(p.externs, name)
}

// errorf records an error at the caller's position.
func (p *Program) errorf(kind error, format string, args ...any) {
	p.errs = append(p.errs, &Error{Pos: callerPos(), Err: fmt.Errorf("%w: "+format, append([]any{kind}, args...)...)})
}

// Label is a position in some section, program-global. Its name is unique
// within the program (a repeated name gets a ".N" suffix).
type Label struct {
	name string
	prog *Program
	sec  *Builder // nil until bound
	pos  int      // buffer position once bound
	at   site     // where NewLabel was called, for the unbound-label error
}

// Name is the label's unique name.
func (l *Label) Name() string { return l.name }

// NewLabel creates an unbound label.
func (p *Program) NewLabel(name string) *Label {
	if name == "" {
		name = "L"
	}
	unique := name
	if n, ok := p.labelNames[name]; ok {
		for {
			n++
			unique = name + "." + strconv.Itoa(n)
			if _, taken := p.labelNames[unique]; !taken {
				break
			}
		}
		p.labelNames[name] = n
	}
	p.labelNames[unique] = 0
	l := &Label{name: unique, prog: p, pos: -1, at: p.here()}
	p.labels = append(p.labels, l)
	return l
}

// SymbolKind tells functions, their named sub-ranges and data apart.
type SymbolKind uint8

const (
	SymFunc SymbolKind = iota
	SymRange
	SymData
	symExtern
)

func (k SymbolKind) String() string {
	switch k {
	case SymFunc:
		return "func"
	case SymRange:
		return "range"
	case SymData:
		return "data"
	}
	return "extern"
}

type symDef struct {
	name       string
	kind       SymbolKind
	sec        *Builder
	start, end int // buffer positions; end -1 until set
	meta       region.Meta
	fn         *symDef // function a range lies in
	metaAt     site    // where SetMeta was called, for errors at Finish
}

type span struct{ start, end int }

// Builder appends code and data to one section.
type Builder struct {
	p      *Program
	name   string
	idx    int
	buf    []byte // every variable-size item at its maximum size
	items  []item
	insts  []span
	fixups []fixup
	// runs are the last abs64 fixups recorded (index+1, 0: none), the
	// ones a repeated reference may extend.
	runs    [runColumns]int
	nextRun int
	syms    []*symDef
	labels  []*Label
	funcs   []*funcRec
	fn      *funcRec  // open function
	ranges  []*symDef // open ranges, innermost last
	// funcAlign aligns every function start (0 or 1: none); padding
	// between functions is int3, never executed.
	funcAlign int
	header    *funcHeader // written before every function (SetFuncHeader)
}

// funcHeader is data every function is preceded by.
type funcHeader struct {
	size int
	emit func(b *Builder, fn string)
}

// SetFuncAlign makes every later Func start at a multiple of n bytes, as
// JITs align method entries: code after a function that changed size then
// keeps its alignment, so layouts stay comparable.
func (b *Builder) SetFuncAlign(n int) { b.funcAlign = n }

// SetFuncHeader makes every later Func be immediately preceded by size
// bytes that emit writes (given the function's name), as CoreCLR's code
// heap puts a CodeHeader just before each method's code. The function
// keeps its alignment (SetFuncAlign): int3 padding goes before the header.
func (b *Builder) SetFuncHeader(size int, emit func(b *Builder, fn string)) {
	if size <= 0 || emit == nil {
		b.p.errorf(ErrInvalidOperands, "SetFuncHeader(%d): want a positive size and an emitter", size)
		return
	}
	b.header = &funcHeader{size, emit}
}

// Name is the section name.
func (b *Builder) Name() string { return b.name }

// NewLabel is Program.NewLabel.
func (b *Builder) NewLabel(name string) *Label { return b.p.NewLabel(name) }

// Bind binds l at the current offset.
func (b *Builder) Bind(l *Label) {
	switch {
	case l == nil:
		b.p.errorf(ErrInvalidOperands, "bind of nil label")
	case l.prog != b.p:
		b.p.errorf(ErrForeignLabel, "label %q", l.name)
	case l.sec != nil:
		b.p.errorf(ErrLabelRebound, "label %q already bound in section %q", l.name, l.sec.name)
	default:
		l.sec, l.pos = b, len(b.buf)
		b.labels = append(b.labels, l)
	}
}

// Offset is the current offset in the section. Before Finish it counts every
// relaxable branch at its long size and every alignment at its maximum
// padding, so with relaxation or alignment it is an upper bound of the final
// offset; bind a label and read Section.Labels for exact positions.
func (b *Builder) Offset() int { return len(b.buf) }

func (b *Builder) defineSym(name string, kind SymbolKind) *symDef {
	if name == "" {
		b.p.errorf(ErrInvalidOperands, "empty symbol name")
		return nil
	}
	if _, ok := b.p.symbols[name]; ok {
		b.p.errorf(ErrDuplicateSymbol, "symbol %q", name)
		return nil
	}
	s := &symDef{name: name, kind: kind, sec: b, start: len(b.buf), end: -1}
	b.p.symbols[name] = s
	b.syms = append(b.syms, s)
	return s
}

// Func begins function name here: it defines the symbol and a label of the
// same name and starts unwind recording. Functions do not nest.
func (b *Builder) Func(name string) {
	if b.fn != nil {
		b.p.errorf(ErrSymbolNesting, "func %q begins inside func %q", name, b.fn.sym.name)
		return
	}
	if b.funcAlign > 1 {
		b.Align(b.funcAlign, 0xcc)
	}
	if h := b.header; h != nil {
		n := max(b.funcAlign, 1)
		b.Bytes(bytes.Repeat([]byte{0xcc}, (n-h.size%n)%n))
		start := len(b.buf)
		h.emit(b, name)
		if got := len(b.buf) - start; got != h.size {
			b.p.errorf(ErrInvalidOperands, "header of func %q is %d bytes, SetFuncHeader said %d", name, got, h.size)
		}
	}
	s := b.defineSym(name, SymFunc)
	if s == nil {
		return
	}
	b.Bind(b.p.NewLabel(name))
	b.fn = &funcRec{sym: s, prologEnd: -1, where: b.p.here()}
	b.funcs = append(b.funcs, b.fn)
}

// EndFunc ends the open function at the current offset.
func (b *Builder) EndFunc() {
	if b.fn == nil {
		b.p.errorf(ErrSymbolNesting, "EndFunc without Func")
		return
	}
	if len(b.ranges) > 0 {
		b.p.errorf(ErrSymbolNesting, "func %q ends inside range %q", b.fn.sym.name, b.ranges[len(b.ranges)-1].name)
		b.ranges = b.ranges[:0]
	}
	b.fn.sym.end = len(b.buf)
	b.fn = nil
}

// BeginRange begins a named sub-range (e.g. "helper.lookup"); ranges nest.
func (b *Builder) BeginRange(name string) {
	if s := b.defineSym(name, SymRange); s != nil {
		if b.fn != nil {
			s.fn = b.fn.sym
		}
		b.ranges = append(b.ranges, s)
	}
}

// SetMeta says what the innermost open symbol — range, else function — is
// part of: its region (functions; a range's is its function's) and its
// step, one declared with DeclareSteps. Finish checks both.
func (b *Builder) SetMeta(m region.Meta) {
	var s *symDef
	switch {
	case len(b.ranges) > 0:
		s = b.ranges[len(b.ranges)-1]
	case b.fn != nil:
		s = b.fn.sym
	default:
		b.p.errorf(ErrSymbolMeta, "SetMeta(%+v) outside any function or range", m)
		return
	}
	s.meta, s.metaAt = m, b.p.here()
}

// DeclareSteps declares the steps of generated code, in the order reports
// list them. Generators declare their steps before marking symbols with
// them; declaring a step again identically is harmless.
func (b *Builder) DeclareSteps(steps ...region.Step) {
	if err := b.p.steps.Add(steps...); err != nil {
		b.p.errorf(ErrSymbolMeta, "%v", err)
	}
}

// EndRange ends the innermost open range.
func (b *Builder) EndRange() {
	if len(b.ranges) == 0 {
		b.p.errorf(ErrSymbolNesting, "EndRange without BeginRange")
		return
	}
	b.ranges[len(b.ranges)-1].end = len(b.buf)
	b.ranges = b.ranges[:len(b.ranges)-1]
}

// DefineSymbol defines a data symbol here. Its end is set by EndSymbol or
// else is the start of the next symbol of the section (or the section end).
func (b *Builder) DefineSymbol(name string) { b.defineSym(name, SymData) }

// EndSymbol sets the end of data symbol name to the current offset.
func (b *Builder) EndSymbol(name string) {
	s, ok := b.p.symbols[name]
	if !ok || s.sec != b || s.kind != SymData {
		b.p.errorf(ErrUndefinedSymbol, "EndSymbol(%q): no data symbol of that name in section %q", name, b.name)
		return
	}
	s.end = len(b.buf)
}

// Bytes appends raw data (not instructions).
func (b *Builder) Bytes(p []byte) { b.buf = append(b.buf, p...) }

func (b *Builder) U8(v uint8)   { b.buf = append(b.buf, v) }
func (b *Builder) U16(v uint16) { b.buf = append(b.buf, byte(v), byte(v>>8)) }
func (b *Builder) U32(v uint32) { b.buf = appendLE32(b.buf, int32(v)) }
func (b *Builder) U64(v uint64) { b.buf = binary.LittleEndian.AppendUint64(b.buf, v) }

// U64Sym appends the absolute address of symbol name plus addend (resolved by Link).
func (b *Builder) U64Sym(name string, addend int64) { b.words(b.p.here(), Word{name, addend}) }

// Word is one 8-byte data word: the address of Sym plus Addend, resolved
// by Link, or the constant Addend when Sym is "".
type Word struct {
	Sym    string
	Addend int64
}

// Words appends 8-byte words, constants and symbol addresses, such as a
// table's row. Tables may be large (the code-range table describes every
// method of an application), so they take the bulk path: one position for
// the call, and a reference that repeats the one before it at a fixed
// stride (a table column) extends that relocation instead of adding one.
func (b *Builder) Words(ws ...Word) { b.words(b.p.here(), ws...) }

func (b *Builder) words(at site, ws ...Word) {
	for _, w := range ws {
		if w.Sym == "" {
			b.U64(uint64(w.Addend))
			continue
		}
		b.addFixup(fixup{pos: len(b.buf), end: len(b.buf) + 8, kind: fixAbs64, sym: w.Sym, addend: w.Addend, at: at})
		b.U64(0)
	}
}

// U32RVA appends the address of symbol name plus addend relative to symbol
// base, in 32 bits (an RVA; resolved by Link, which rejects a target below
// base or 4 GiB or more above it).
func (b *Builder) U32RVA(name string, addend int64, base string) {
	b.addFixup(fixup{pos: len(b.buf), end: len(b.buf) + 4, kind: fixRVA32, sym: name, addend: addend, base: base, at: b.p.here()})
	b.U32(0)
}

// U64Label appends the absolute address of label l (resolved by Link).
func (b *Builder) U64Label(l *Label) {
	if !b.checkLabel(l) {
		return
	}
	b.addFixup(fixup{pos: len(b.buf), end: len(b.buf) + 8, kind: fixAbs64, label: l})
	b.U64(0)
}

// addFixup records f. An abs64 reference to the target and addend of a
// recent one that it follows at that one's stride, with nothing in
// between that layout resizes, extends that one's run instead: a table
// column becomes one relocation.
func (b *Builder) addFixup(f fixup) {
	f.items = len(b.items)
	if f.kind == fixAbs64 && b.extendRun(f) {
		return
	}
	b.fixups = append(b.fixups, f)
	if f.kind == fixAbs64 {
		b.runs[b.nextRun%len(b.runs)] = len(b.fixups)
		b.nextRun++
	}
}

// runColumns is how many abs64 references a table row may hold and still
// have each column become one relocation: the runs addFixup can extend.
const runColumns = 8

// extendRun adds f to a recent run of references like it, if it continues one.
func (b *Builder) extendRun(f fixup) bool {
	for _, i := range b.runs {
		if i == 0 {
			continue
		}
		r := &b.fixups[i-1]
		if r.sym != f.sym || r.label != f.label || r.addend != f.addend || r.items != f.items {
			continue
		}
		switch {
		case r.repeat == 0:
			r.repeat, r.stride = 1, f.pos-r.pos
			return true
		case f.pos == r.pos+(r.repeat+1)*r.stride:
			r.repeat++
			return true
		}
	}
	return false
}

// Space appends n zero bytes.
func (b *Builder) Space(n int) {
	if n < 0 {
		b.p.errorf(ErrInvalidOperands, "Space(%d)", n)
		return
	}
	b.buf = append(b.buf, make([]byte, n)...)
}

// Align pads with fill to a multiple of n (a power of two) in the final
// layout. Use NopAlign in code.
func (b *Builder) Align(n int, fill byte) { b.align(n, fill, false) }

// NopAlign pads with recommended multi-byte nops (each one instruction) to
// a multiple of n (a power of two) in the final layout.
func (b *Builder) NopAlign(n int) { b.align(n, 0x90, true) }

func (b *Builder) align(n int, fill byte, nops bool) {
	if n <= 0 || n&(n-1) != 0 || n > 4096 {
		b.p.errorf(ErrInvalidAlignment, "alignment %d is not a power of two in 1..4096", n)
		return
	}
	if n == 1 {
		return
	}
	// Reserve the maximum padding; layout shrinks it.
	b.items = append(b.items, item{kind: itemAlign, pos: len(b.buf), bufLen: n - 1, n: n, fill: fill, nops: nops})
	b.buf = append(b.buf, make([]byte, n-1)...)
}

func (b *Builder) checkLabel(l *Label) bool {
	if l == nil {
		b.p.errorf(ErrInvalidOperands, "nil label")
		return false
	}
	if l.prog != b.p {
		b.p.errorf(ErrForeignLabel, "label %q", l.name)
		return false
	}
	return true
}
