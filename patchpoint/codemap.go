package patchpoint

// How CoreCLR finds code, as data the generated lookups read: the
// RangeSectionMap (vm/codeman.h), a radix map from address to RangeSection;
// the code heap's nibble map (vm/nibblemapmacros.h), from an address to the
// start of the method around it in constant time; the CodeHeader just
// before every method's code and the RealCodeHeader it points to (method
// info and unwind entry); and, for native code, a module's function table
// (.pdata) that RtlLookupFunctionEntry searches in binary.

// RangeSectionMap on 64-bit targets: five levels of 256 pointers, indexed
// by 8 bits each of address bits 17..56; a last-level entry covers 128 KiB
// and holds a list of RangeSectionFragments (codeman.h: mapLevels,
// bitsPerLevel, maxSetBit, entriesPerMapLevel).
const (
	MapLevels          = 5
	MapBitsPerLevel    = 8
	MapMaxSetBit       = 56
	MapEntriesPerLevel = 1 << MapBitsPerLevel
	// MapShift drops the address bits below the map:
	// maxSetBit + 1 - mapLevels*bitsPerLevel.
	MapShift = MapMaxSetBit + 1 - MapLevels*MapBitsPerLevel
	// MapBytesAtLastLevel is what one last-level entry covers.
	MapBytesAtLastLevel = 1 << MapShift
	mapLevelSize        = 8 * MapEntriesPerLevel
	// A level pointer or fragment pointer with this bit set belongs to a
	// collectible range: following it needs the reader lock.
	MapCollectibleBit = 1
)

// MapIndex is RangeSectionMap::EffectiveBitsForLevel: the index of addr in a
// map level (1 is the last).
func MapIndex(addr uint64, level int) int {
	return int(addr >> MapShift >> (uint(level-1) * MapBitsPerLevel) & (MapEntriesPerLevel - 1))
}

// RangeSectionFragment: one per 128 KiB a range section touches, linked
// from the last-level entry of that address.
const (
	OffFragNext         = 0x00
	OffFragBegin        = 0x08 // the range section's range [begin, end)
	OffFragEnd          = 0x10
	OffFragRangeSection = 0x18
	OffFragFlags        = 0x20 // isPrimary, isCollectible (bytes)
	FragmentSize        = 0x28
)

// RangeSectionFragment mirrors a fragment.
type RangeSectionFragment struct {
	Next, Begin, End, RangeSection uint64
	Primary, Collectible           uint8
	_                              [6]byte
}

// RangeSection: a range of code and what manages it.
const (
	OffRSBegin         = 0x00
	OffRSEnd           = 0x08
	OffRSFlags         = 0x10
	OffRSJitManager    = 0x18
	OffRSHeapList      = 0x20
	OffRSNextForDelete = 0x28
	RangeSectionSize   = 0x30
	// RangeSectionCodeHeap flags a range of JIT code (RANGE_SECTION_CODEHEAP).
	RangeSectionCodeHeap = 0x2
)

// RangeSection mirrors a RangeSection.
type RangeSection struct {
	Begin, End    uint64
	Flags         uint32
	_             uint32
	JitManager    uint64
	HeapList      uint64
	NextForDelete uint64
}

// HeapList: one code heap, its nibble map and the base the map and the
// methods' unwind entries are relative to.
const (
	OffHLNext         = 0x00
	OffHLHeap         = 0x08
	OffHLStart        = 0x10 // startAddress
	OffHLEnd          = 0x18 // endAddress: end of the used part (inclusive bound)
	OffHLMapBase      = 0x20 // startAddress rounded down to a page
	OffHLHdrMap       = 0x28 // the nibble map
	OffHLMaxCodeHeap  = 0x30
	OffHLReserveStubs = 0x38
	OffHLAllocator    = 0x40
	OffHLPersonality  = 0x48
	HeapListSize      = 0x50
)

// HeapList mirrors a HeapList.
type HeapList struct {
	Next, Heap, Start, End, MapBase, HdrMap, MaxCodeHeapSize, ReserveForJumpStubs, Allocator, Personality uint64
}

// CodeHeaderSize is sizeof(CodeHeader): on x64 it holds only the pointer to
// the RealCodeHeader (USE_INDIRECT_CODEHEADER), or a small StubCodeBlockKind.
const (
	CodeHeaderSize = 8
	// StubCodeBlockLast is the largest StubCodeBlockKind: a CodeHeader whose
	// value is at most this is a stub, not a method.
	StubCodeBlockLast = 0xF
)

// RealCodeHeader: a method's debug, EH and GC info, its MethodDesc and its
// unwind entries (RUNTIME_FUNCTIONs relative to the heap's module base).
const (
	OffRCHDebugInfo    = 0x00
	OffRCHEHInfo       = 0x08
	OffRCHGCInfo       = 0x10
	OffRCHMethodDesc   = 0x18
	OffRCHUnwindCount  = 0x20
	OffRCHUnwindInfos  = 0x24
	RealCodeHeaderSize = OffRCHUnwindInfos + RuntimeFunctionSize
)

// RealCodeHeader mirrors a RealCodeHeader with one unwind entry.
type RealCodeHeader struct {
	DebugInfo, EHInfo, GCInfo, MethodDesc uint64
	UnwindCount                           uint32
	Unwind                                RuntimeFunction
}

// RUNTIME_FUNCTION: begin, end and unwind data of a function, as 32-bit
// offsets from its module's base (RVAs).
const (
	OffRFBegin          = 0x0
	OffRFEnd            = 0x4
	OffRFUnwindData     = 0x8
	RuntimeFunctionSize = 0xC
)

// RuntimeFunction mirrors a RUNTIME_FUNCTION.
type RuntimeFunction struct {
	Begin, End, UnwindData uint32
}

// EECodeInfo: what a code lookup of a managed address finds.
const (
	OffECICodeAddress   = 0x00
	OffECIRangeSection  = 0x08 // the method token: range section ...
	OffECICodeHeader    = 0x10 // ... and code header
	OffECIMethodDesc    = 0x18
	OffECIRelOffset     = 0x20
	OffECIFunctionEntry = 0x28
	EECodeInfoSize      = 0x30
)

// EECodeInfo mirrors an EECodeInfo.
type EECodeInfo struct {
	CodeAddress, RangeSection, CodeHeader, MethodDesc uint64
	RelOffset                                         uint32
	_                                                 uint32
	FunctionEntry                                     uint64
}

// Native module: what RtlLookupFunctionEntry finds a module's function
// table through (the loader's table of loaded images, one image here).
const (
	OffModBase      = 0x00
	OffModSize      = 0x08
	OffModFunctions = 0x10 // the exception directory: RUNTIME_FUNCTIONs sorted by begin
	OffModCount     = 0x18
	ModuleSize      = 0x20
)

// NativeModule mirrors a module record.
type NativeModule struct {
	Base, Size, Functions uint64
	Count                 uint32
	_                     uint32
}

// Nibble map (nibblemapmacros.h, 64-bit hosts): a 4-bit nibble per 32-byte
// bucket of the code heap, eight to a DWORD numbered from the top bits; a
// nibble holds 1 + the DWORD-granular offset of a method start in its
// bucket. A DWORD whose 256 bytes one method covers entirely holds, instead,
// a pointer to that method's start, relative to the map base, with a low
// nibble above 8.
const (
	NibbleCodeAlign      = 4
	NibbleBytesPerBucket = 32
	NibblesPerDword      = 8
	NibbleBytesPerDword  = NibblesPerDword * NibbleBytesPerBucket
	nibbleMask           = 0xF
	nibbleHighestBit     = 32 - 4
)

// NibbleMap is CoreCLR's nibble map of one code heap, in Go: Set is
// EECodeGenManager::NibbleMapSetUnlocked, Find is FindMethodCode. The
// generated lookup reads the same DWORDs.
type NibbleMap []uint32

// NewNibbleMap sizes a map for a heap of size bytes (HEAP2MAPSIZE).
func NewNibbleMap(size uint64) NibbleMap {
	return make(NibbleMap, size/NibbleBytesPerDword+1)
}

func nibbleEncodePointer(delta uint64) uint32 {
	return uint32(delta&^nibbleMask + (delta&nibbleMask)>>2 + 9)
}

func nibbleDecodePointer(dword uint32) uint64 {
	return uint64(dword&^nibbleMask) + uint64(dword&nibbleMask-9)<<2
}

func nibbleIsPointer(dword uint32) bool { return dword&nibbleMask > 8 }

func nibblePos(delta uint64) uint64  { return delta / NibbleBytesPerBucket }
func nibbleOffs(delta uint64) uint32 { return uint32(delta%NibbleBytesPerBucket/NibbleCodeAlign + 1) }
func nibbleShift(pos uint64) uint32  { return nibbleHighestBit - uint32(pos%NibblesPerDword)*4 }
func nibbleAddr(pos uint64, of uint32) uint64 {
	return pos*NibbleBytesPerBucket + uint64(of-1)*NibbleCodeAlign
}

// Set records a method of size bytes starting delta bytes above the map
// base: its nibble, and a pointer in every later DWORD it covers whole.
func (m NibbleMap) Set(delta, size uint64) {
	delta &^= NibbleCodeAlign - 1
	pos := nibblePos(delta)
	index := pos / NibblesPerDword
	if m[index]>>nibbleShift(pos)&nibbleMask != 0 || nibbleIsPointer(m[index]) {
		panic("BUG: nibble map: two methods start in one bucket, or one starts in a covered DWORD")
	}
	m[index] |= nibbleOffs(delta) << nibbleShift(pos)
	for index++; (index+1)*NibbleBytesPerDword <= delta+size; index++ {
		m[index] = nibbleEncodePointer(delta)
	}
}

// Find returns the offset from the map base of the start of the method
// around delta, and false where the map knows no method there.
func (m NibbleMap) Find(delta uint64) (uint64, bool) {
	start, path := m.find(delta)
	return start, path != NibbleNone
}

// NibblePath is the way Find took to an answer.
type NibblePath uint8

const (
	NibbleNone        NibblePath = iota // no method known there
	NibblePointer                       // the address's DWORD is a pointer
	NibbleAtAddress                     // its nibble starts at or before the address
	NibbleEarlier                       // an earlier nibble of its DWORD
	NibblePrevPointer                   // the previous DWORD is a pointer
	NibblePrevNibble                    // the last nibble of the previous DWORD
	NibblePaths                         // the number of paths
)

// FindPath is Find that also says which way it went.
func (m NibbleMap) FindPath(delta uint64) (uint64, NibblePath) { return m.find(delta) }

func (m NibbleMap) find(delta uint64) (uint64, NibblePath) {
	pos, offset := nibblePos(delta), nibbleOffs(delta)
	index := pos / NibblesPerDword
	dword := m[index]
	if nibbleIsPointer(dword) {
		return nibbleDecodePointer(dword), NibblePointer
	}
	tmp := dword >> nibbleShift(pos)
	if n := tmp & nibbleMask; n != 0 && n <= offset {
		return nibbleAddr(pos, n), NibbleAtAddress
	}
	if tmp >>= 4; tmp != 0 { // an earlier start in this DWORD
		for pos--; tmp&nibbleMask == 0; pos-- {
			tmp >>= 4
		}
		return nibbleAddr(pos, tmp&nibbleMask), NibbleEarlier
	}
	if pos < NibblesPerDword {
		return 0, NibbleNone
	}
	pos = pos/NibblesPerDword*NibblesPerDword - 1
	dword = m[index-1]
	switch {
	case dword == 0:
		return 0, NibbleNone
	case nibbleIsPointer(dword):
		return nibbleDecodePointer(dword), NibblePrevPointer
	}
	for tmp = dword; tmp&nibbleMask == 0; pos-- {
		tmp >>= 4
	}
	return nibbleAddr(pos, tmp&nibbleMask), NibblePrevNibble
}
