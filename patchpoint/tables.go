package patchpoint

import (
	. "github.com/osrsim/osrsim/emitter"
)

// Func describes one generated function for the code-range table.
type Func struct {
	Name    string
	Size    int    // bytes, from a first layout pass
	Unwind  []byte // encoded UNWIND_INFO
	Managed bool
}

// OSRMethod is one OSR method the JIT "compiles" on demand.
type OSRMethod struct {
	Tier0, OSR string
	IL         int
}

// Tables is what the helper's data describes.
type Tables struct {
	CodeBase uint64
	Funcs    []Func // in code order (ascending addresses)
	OSR      []OSRMethod
}

// Filler methods stand for the rest of the application in the code-range
// table: they sit below and far above the image's code, so lookups search a
// table of the configured size but never find a filler.
const (
	fillerStride = 0x400
	fillerAbove  = 0x0800_0000
)

// EmitData lays out the code-range table, the PatchpointInfo hash table, the
// JIT table and every function's unwind record.
func (g Generator) EmitData(d *Builder, t Tables) {
	n := max(g.Settings.Methods, len(t.Funcs))
	fillers := n - len(t.Funcs)
	below, above := fillers/2, fillers-fillers/2

	d.Align(16, 0)
	d.DefineSymbol(SymCodeTableCount)
	d.U64(uint64(n))
	d.EndSymbol(SymCodeTableCount)
	d.Align(32, 0)
	d.DefineSymbol(SymCodeTable)
	filler := func(begin uint64) {
		d.Words(Word{Addend: int64(begin)}, Word{Addend: int64(begin + fillerStride/2)}, Word{Sym: SymFillerUnwind}, Word{Addend: CodeManaged})
	}
	for k := below; k > 0; k-- {
		filler(t.CodeBase - uint64(k)*fillerStride)
	}
	for _, f := range t.Funcs {
		d.U64Sym(f.Name, 0)
		d.U64Sym(f.Name, int64(f.Size))
		d.U64Sym(UnwindSym(f.Name), 0)
		if f.Managed {
			d.U64(CodeManaged)
		} else {
			d.U64(0)
		}
	}
	for k := 0; k < above; k++ {
		filler(t.CodeBase + fillerAbove + uint64(k)*fillerStride)
	}
	d.EndSymbol(SymCodeTable)

	d.Align(64, 0)
	d.DefineSymbol(SymPPLock)
	d.U64(0)
	d.EndSymbol(SymPPLock)
	d.Align(64, 0)
	d.DefineSymbol(SymPPTable)
	d.Space(PPSlots * PPEntrySize)
	d.EndSymbol(SymPPTable)

	d.Align(16, 0)
	d.DefineSymbol(SymJITTableCount)
	d.U64(uint64(len(t.OSR)))
	d.EndSymbol(SymJITTableCount)
	d.DefineSymbol(SymJITTable)
	for _, o := range t.OSR {
		d.U64Sym(o.Tier0, 0)
		d.U32(uint32(o.IL))
		d.U32(0)
		d.U64Sym(o.OSR, 0)
	}
	d.EndSymbol(SymJITTable)

	// Unwind records: 4-byte aligned, as UNWIND_INFO requires.
	d.Align(4, 0)
	d.DefineSymbol(SymFillerUnwind)
	d.Bytes([]byte{1, 0, 0, 0})
	d.EndSymbol(SymFillerUnwind)
	for _, f := range t.Funcs {
		d.Align(4, 0)
		d.DefineSymbol(UnwindSym(f.Name))
		d.Bytes(f.Unwind)
		d.EndSymbol(UnwindSym(f.Name))
	}
}
