package patchpoint

import (
	"fmt"

	. "github.com/osrsim/osrsim/emitter"
	"github.com/osrsim/osrsim/region"
	"github.com/osrsim/osrsim/sim/link"
)

// Func describes one generated function for the code tables.
type Func struct {
	Name   string
	Start  int // offset in the code section, from a first layout pass
	Size   int // bytes
	Unwind []byte
	Region region.Region
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

// Sizes that stand for the rest of the application in the code tables.
const (
	// AvgMethodBytes is the code heap space of each JIT-compiled method the
	// image does not contain: CoreCLR's own estimate of an average method
	// ("128 is the estimated size of an average method",
	// UnwindInfoTable::AddToUnwindInfoTable, vm/codeman.cpp).
	AvgMethodBytes = 128
	// avgNativeBytes spaces the native module's other functions; only the
	// order of the entries matters to the search.
	avgNativeBytes = 256
	// codeHeapAlign: a range section starts and ends 16-byte aligned
	// (RangeSectionMap::AttachRangeSectionToMap asserts it).
	codeHeapAlign = 16
	pageSize      = 0x1000
)

// Symbols of the code tables.
const (
	SymCodeMap        = "patchpoint.range_section_map"   // top level of the RangeSectionMap
	SymCodeMapLevel   = "patchpoint.range_section_map.l" // + level number
	SymFragments      = "patchpoint.range_section_fragments"
	SymRangeSection   = "patchpoint.range_section"
	SymHeapList       = "patchpoint.heap_list"
	SymNibbleMap      = "patchpoint.nibble_map"
	SymNativeModule   = "patchpoint.native_module"
	SymNativeFuncs    = "patchpoint.native_module.pdata"
	SymMethodDescs    = "patchpoint.method_descs"
	realCodeHeaderPfx = "codeheader."
)

// RealCodeHeaderSym names the RealCodeHeader of a JIT-compiled method; the
// CodeHeader before the method's code points to it.
func RealCodeHeaderSym(fn string) string { return realCodeHeaderPfx + fn }

// EmitCodeHeader writes the CodeHeader of fn before its code (for
// Builder.SetFuncHeader). In a first layout pass, before the data exist,
// pass first: the header is a placeholder of the same size.
func EmitCodeHeader(first bool) func(b *Builder, fn string) {
	return func(b *Builder, fn string) {
		if first {
			b.U64(0)
			return
		}
		b.U64Sym(RealCodeHeaderSym(fn), 0)
	}
}

// codeMap is the layout of the code tables: the JIT code heap with its
// nibble map, and the native module.
type codeMap struct {
	managed, native []Func
	// JIT code heap: [start, end) of the heap's range section; the map
	// base; the nibble map; and the first managed function, the symbol
	// the heap's RVAs are taken from (it is heapFirst bytes above base).
	start, end, mapBase uint64
	heapFirst           uint64
	nibbles             NibbleMap
	// Native module: its base is nativeFirst bytes below its first
	// function; fillers entries precede the helper's own.
	nativeBase, nativeFirst uint64
	nativeFillers           int
}

// planCodeMap lays the code heap and the native module out. The image's
// JIT-compiled methods come first in the heap, the other jitMethods after
// them; the module's other functions come before the helper's.
func (g Generator) planCodeMap(t Tables) codeMap {
	var m codeMap
	for _, f := range t.Funcs {
		switch {
		case f.Region.Managed():
			m.managed = append(m.managed, f)
		case f.Region == region.Helper:
			m.native = append(m.native, f)
		}
	}
	if len(m.managed) == 0 || len(m.native) == 0 {
		return m // a first layout pass: nothing to describe yet
	}
	addr := func(f Func) uint64 { return t.CodeBase + uint64(f.Start) }
	last := m.managed[len(m.managed)-1]
	for _, f := range m.native {
		if addr(f) >= addr(m.managed[0])-CodeHeaderSize {
			panic(fmt.Sprintf("BUG: native function %s lies inside the JIT code heap", f.Name))
		}
	}
	m.start = (addr(m.managed[0]) - CodeHeaderSize) &^ (codeHeapAlign - 1)
	fillers := max(g.Settings.JITMethods-len(m.managed), 0)
	fillerBase := (addr(last) + uint64(last.Size) + AvgMethodBytes - 1) &^ (AvgMethodBytes - 1)
	m.end = (fillerBase + uint64(fillers)*AvgMethodBytes + codeHeapAlign - 1) &^ (codeHeapAlign - 1)
	m.mapBase = m.start &^ (pageSize - 1)
	m.heapFirst = addr(m.managed[0]) - m.mapBase
	m.nibbles = NewNibbleMap(m.end - m.mapBase)
	for _, f := range m.managed {
		m.nibbles.Set(addr(f)-m.mapBase, uint64(f.Size))
	}
	for k := range fillers { // each: a CodeHeader, then its code
		m.nibbles.Set(fillerBase+uint64(k)*AvgMethodBytes+CodeHeaderSize-m.mapBase, AvgMethodBytes-CodeHeaderSize)
	}
	m.nativeFillers = max(g.Settings.NativeFunctions-len(m.native), 0)
	m.nativeFirst = uint64(m.nativeFillers+1) * avgNativeBytes
	m.nativeBase = addr(m.native[0]) - m.nativeFirst
	return m
}

// EmitData lays out the code tables (the RangeSectionMap and the code heap;
// the native module's function table on Windows, its program headers for
// dl_iterate_phdr on Linux), the thread state, the worker's CONTEXT (in
// the context section), libunwind's state on Linux, the PatchpointInfo
// hash table, the JIT table and every function's unwind record.
func (g Generator) EmitData(d *Builder, t Tables) {
	m := g.planCodeMap(t)
	m.emitRangeSectionMap(d)
	m.emitCodeHeap(d)
	g.emitThreadData(d)
	if g.transitions() {
		emitContextData(d.Program().Section(link.Context))
		if g.windows() {
			m.emitNativeModule(d)
		} else {
			m.emitLoadedObjects(d)
			emitLibunwindData(d)
		}
	}

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
	for _, f := range t.Funcs {
		d.Align(4, 0)
		d.DefineSymbol(UnwindSym(f.Name))
		d.Bytes(f.Unwind)
		d.EndSymbol(UnwindSym(f.Name))
	}
}

// emitRangeSectionMap: the levels on the path to the code heap, and one
// fragment for each 128 KiB the heap touches, in its last-level entry.
func (m codeMap) emitRangeSectionMap(d *Builder) {
	d.Align(64, 0)
	if m.end == 0 {
		for level := MapLevels; level >= 1; level-- {
			d.DefineSymbol(mapLevelSym(level))
			d.Space(mapLevelSize)
			d.EndSymbol(mapLevelSym(level))
		}
		d.DefineSymbol(SymFragments)
		d.EndSymbol(SymFragments)
		return
	}
	if MapIndex(m.start, 2) != MapIndex(m.end-1, 2) || MapIndex(m.start, 3) != MapIndex(m.end-1, 3) {
		panic("BUG: the code heap spans two second-level entries of the range section map")
	}
	first, last := MapIndex(m.start, 1), MapIndex(m.end-1, 1)
	for level := MapLevels; level >= 1; level-- {
		d.DefineSymbol(mapLevelSym(level))
		for i := range MapEntriesPerLevel {
			switch {
			case level > 1 && i == MapIndex(m.start, level):
				d.U64Sym(mapLevelSym(level-1), 0)
			case level == 1 && i >= first && i <= last:
				d.U64Sym(SymFragments, int64(FragmentSize*(i-first)))
			default:
				d.U64(0)
			}
		}
		d.EndSymbol(mapLevelSym(level))
	}
	d.DefineSymbol(SymFragments)
	for i := first; i <= last; i++ {
		d.U64(0) // no other range section shares the entry
		d.U64(m.start)
		d.U64(m.end)
		d.U64Sym(SymRangeSection, 0)
		d.U8(b2u8(i == first)) // isPrimary
		d.U8(0)                // isCollectible
		d.Space(FragmentSize - OffFragFlags - 2)
	}
	d.EndSymbol(SymFragments)
}

func mapLevelSym(level int) string {
	if level == MapLevels {
		return SymCodeMap
	}
	return fmt.Sprintf("%s%d", SymCodeMapLevel, level)
}

func b2u8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// emitCodeHeap: the heap's range section and heap list, its nibble map,
// and each of the image's methods' RealCodeHeader and MethodDesc.
func (m codeMap) emitCodeHeap(d *Builder) {
	d.Align(16, 0)
	d.DefineSymbol(SymRangeSection)
	d.U64(m.start)
	d.U64(m.end)
	d.U32(RangeSectionCodeHeap)
	d.U32(0)
	d.U64(0) // the EEJitManager: one kind of JIT manager here
	d.U64Sym(SymHeapList, 0)
	d.U64(0) // not being deleted
	d.EndSymbol(SymRangeSection)
	d.DefineSymbol(SymHeapList)
	d.U64(0)
	d.U64(0)
	d.U64(m.start)
	d.U64(m.end)
	d.U64(m.mapBase)
	d.U64Sym(SymNibbleMap, 0)
	d.U64(m.end - m.start)
	d.U64(0)
	d.U64(0)
	d.U64(0) // no personality routine thunk: the module base is the map base
	d.EndSymbol(SymHeapList)
	d.Align(4, 0)
	d.DefineSymbol(SymNibbleMap)
	for _, w := range m.nibbles {
		d.U32(w)
	}
	d.EndSymbol(SymNibbleMap)

	// MethodDescs: one 8-byte record each, standing for the method's
	// MethodDesc (its address is what the lookups hand out).
	d.Align(8, 0)
	d.DefineSymbol(SymMethodDescs)
	d.Space(8 * len(m.managed))
	d.EndSymbol(SymMethodDescs)
	if len(m.managed) == 0 {
		return
	}
	first := m.managed[0] // the module base is heapFirst bytes below it
	for i, f := range m.managed {
		rva := uint32(m.heapFirst) + uint32(f.Start-first.Start)
		d.Align(8, 0)
		d.DefineSymbol(RealCodeHeaderSym(f.Name))
		d.Space(3 * 8) // no debug, EH or GC info
		d.U64Sym(SymMethodDescs, int64(8*i))
		d.U32(1)
		d.U32(rva)
		d.U32(rva + uint32(f.Size))
		d.U32RVA(UnwindSym(f.Name), int64(m.heapFirst), first.Name)
		d.EndSymbol(RealCodeHeaderSym(f.Name))
	}
}

// emitNativeModule: the module record and its function table, sorted by
// begin: the other functions of the module, then the helper's.
func (m codeMap) emitNativeModule(d *Builder) {
	d.Align(8, 0)
	d.DefineSymbol(SymNativeModule)
	if len(m.native) == 0 {
		d.Space(ModuleSize)
		d.EndSymbol(SymNativeModule)
		d.DefineSymbol(SymNativeFuncs)
		d.EndSymbol(SymNativeFuncs)
		return
	}
	first, lastFn := m.native[0], m.native[len(m.native)-1]
	d.U64Sym(first.Name, -int64(m.nativeFirst))
	d.U64(m.nativeFirst + uint64(lastFn.Start+lastFn.Size-first.Start))
	d.U64Sym(SymNativeFuncs, 0)
	d.U32(uint32(m.nativeFillers + len(m.native)))
	d.U32(0)
	d.EndSymbol(SymNativeModule)
	d.Align(4, 0)
	d.DefineSymbol(SymNativeFuncs)
	for k := range m.nativeFillers { // the module's other functions: never unwound here
		begin := uint32(k+1) * avgNativeBytes
		d.U32(begin)
		d.U32(begin + avgNativeBytes/2)
		d.U32(0)
	}
	for _, f := range m.native {
		rva := uint32(m.nativeFirst) + uint32(f.Start-first.Start)
		d.U32(rva)
		d.U32(rva + uint32(f.Size))
		d.U32RVA(UnwindSym(f.Name), int64(m.nativeFirst), first.Name)
	}
	d.EndSymbol(SymNativeFuncs)
}

// emitLoadedObjects lays out what dl_iterate_phdr walks: the objects
// loaded before coreclr (a text segment elsewhere each, and its
// .eh_frame_hdr), then coreclr, whose PT_LOAD is the native module and
// whose PT_GNU_EH_FRAME is the image's .eh_frame_hdr. Load bias 0: the
// program headers hold absolute addresses.
func (m codeMap) emitLoadedObjects(d *Builder) {
	d.Align(8, 0)
	d.DefineSymbol(symObjCount)
	d.U32(OtherObjects + 1)
	d.U32(0)
	d.EndSymbol(symObjCount)
	phdrs := func(k int) string { return fmt.Sprintf("libc.phdrs.%d", k) }
	d.DefineSymbol(SymLoadedObjects)
	for k := 0; k <= OtherObjects; k++ {
		d.U64(0) // dlpi_addr
		d.U64(0) // dlpi_name
		d.U64Sym(phdrs(k), 0)
		d.U64(objectPhdrs)
	}
	d.EndSymbol(SymLoadedObjects)
	phdr := func(typ uint32, vaddr func(), size uint64) {
		d.U32(typ)
		d.U32(0) // p_flags
		d.U64(0) // p_offset
		vaddr()
		d.U64(0) // p_paddr
		d.U64(size)
		d.U64(size)
		d.U64(0x1000)
	}
	for k := 0; k < OtherObjects; k++ {
		base := otherObjectBase + uint64(k)*otherObjectSpan
		d.DefineSymbol(phdrs(k))
		phdr(ptLoad, func() { d.U64(base) }, otherObjectSpan/2)
		phdr(ptGNUEHFrame, func() { d.U64(base + otherObjectSpan/2) }, 0x100)
		d.EndSymbol(phdrs(k))
	}
	d.DefineSymbol(phdrs(OtherObjects))
	size := uint64(0)
	if len(m.native) > 0 {
		first, last := m.native[0], m.native[len(m.native)-1]
		size = m.nativeFirst + uint64(last.Start+last.Size-first.Start)
	}
	phdr(ptLoad, func() {
		if len(m.native) == 0 {
			d.U64(0)
			return
		}
		d.U64Sym(m.native[0].Name, -int64(m.nativeFirst))
	}, size)
	phdr(ptGNUEHFrame, func() { d.U64Sym(SymEHFrameHdr, 0) }, 0)
	d.EndSymbol(phdrs(OtherObjects))
}

// The other objects' text segments: far from the image, none holding an
// IP of it.
const (
	otherObjectBase = 0x7f00_0000_0000
	otherObjectSpan = 0x0100_0000
)
