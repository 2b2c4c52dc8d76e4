package runner

import (
	"encoding/binary"
	"testing"

	"github.com/osrsim/osrsim/patchpoint"
	"github.com/osrsim/osrsim/region"
	"github.com/osrsim/osrsim/sim/unicorn"
	"github.com/osrsim/osrsim/workload"
)

// The generated code lookups, run on every instruction of every function
// of workload images: code_info and is_managed_code find each JIT-compiled
// method's start, MethodDesc and unwind entry through the range section
// map and the nibble map, and no native code; lookup_function_entry finds
// each of the helper's functions in the native module's table, and
// nothing outside the module. Across the images, the nibble map is read
// every way FindMethodCode can go.
func TestGeneratedCodeLookups(t *testing.T) {
	var paths [patchpoint.NibblePaths]int
	for _, p := range []workload.Params{cases()[0], cases()[2], cases()[3]} {
		b := build(t, p, patchpoint.Helper)
		r := newCallRig(t, b)
		l := b.Linked
		data, dataBase := l.Bytes["data"], l.Bases["data"]
		u64 := func(addr uint64) uint64 { return binary.LittleEndian.Uint64(data[addr-dataBase:]) }
		u32 := func(addr uint64) uint64 { return uint64(binary.LittleEndian.Uint32(data[addr-dataBase:])) }
		heapList := l.Symbols[patchpoint.SymHeapList]
		mapBase := u64(heapList + patchpoint.OffHLMapBase)
		nibbles := patchpoint.NibbleMap{}
		for a := l.Symbols[patchpoint.SymNibbleMap]; a < l.SymbolEnds[patchpoint.SymNibbleMap]; a += 4 {
			nibbles = append(nibbles, uint32(u32(a)))
		}
		eci, base := uint64(scratchECI), uint64(scratchECI+0x100)
		code := b.Object.Section("code")
		regions := map[string]region.Region{}
		for _, s := range code.Symbols {
			regions[s.Name] = s.Region
		}
		for _, f := range code.Unwind {
			begin, end := l.Symbols[f.Name], l.SymbolEnds[f.Name]
			for _, in := range code.Insts {
				ip := l.Bases["code"] + uint64(in.Off)
				if ip < begin || ip >= end {
					continue
				}
				managed := r.call(patchpoint.SymIsManagedCode, ip) != 0
				found := r.call(patchpoint.SymCodeInfo, ip, eci) != 0
				entry := r.call(patchpoint.SymLookupFunctionEntry, ip, base)
				rg := regions[f.Name]
				switch {
				case rg.Managed():
					if !managed || !found || entry != 0 {
						t.Fatalf("%s+%#x: managed %v, code_info %v, native entry %#x", f.Name, ip-begin, managed, found, entry)
					}
					header := r.read(eci + patchpoint.OffECICodeHeader)
					rch := r.read(header)
					fe := r.read(eci + patchpoint.OffECIFunctionEntry)
					if header+patchpoint.CodeHeaderSize != begin || rch != l.Symbols[patchpoint.RealCodeHeaderSym(f.Name)] ||
						fe != rch+patchpoint.OffRCHUnwindInfos || r.read(eci+patchpoint.OffECIMethodDesc) != u64(rch+patchpoint.OffRCHMethodDesc) ||
						uint32(r.read(eci+patchpoint.OffECIRelOffset)) != uint32(ip-begin) {
						t.Fatalf("%s+%#x: EECodeInfo header %#x, real header %#x, entry %#x", f.Name, ip-begin, header, rch, fe)
					}
					checkEntry(t, f.Name, mapBase, fe, begin, end, l.Symbols[patchpoint.UnwindSym(f.Name)], u32)
					start, path := nibbles.FindPath(ip - mapBase)
					if start+mapBase != begin {
						t.Fatalf("%s+%#x: the Go nibble map finds %#x", f.Name, ip-begin, start+mapBase)
					}
					paths[path]++
				case rg == region.Helper:
					if managed || found || entry == 0 {
						t.Fatalf("%s+%#x: managed %v, code_info %v, native entry %#x", f.Name, ip-begin, managed, found, entry)
					}
					checkEntry(t, f.Name, r.read(base), entry, begin, end, l.Symbols[patchpoint.UnwindSym(f.Name)], u32)
				default: // the host's entry: neither
					if managed || found || entry != 0 {
						t.Fatalf("%s+%#x: managed %v, code_info %v, native entry %#x", f.Name, ip-begin, managed, found, entry)
					}
				}
			}
		}
	}
	for p, n := range paths[patchpoint.NibblePointer:] {
		if n == 0 {
			t.Errorf("nibble map path %d never taken", p+int(patchpoint.NibblePointer))
		}
	}
	t.Logf("nibble map paths: %v", paths)
}

// checkEntry: a RUNTIME_FUNCTION, its RVAs from base, describes fn at
// [begin, end) with its unwind record at unwind.
func checkEntry(t *testing.T, fn string, base, entry, begin, end, unwind uint64, u32 func(uint64) uint64) {
	t.Helper()
	if got := [3]uint64{base + u32(entry+patchpoint.OffRFBegin), base + u32(entry+patchpoint.OffRFEnd), base + u32(entry+patchpoint.OffRFUnwindData)}; got != [3]uint64{begin, end, unwind} {
		t.Fatalf("%s: RUNTIME_FUNCTION gives [%#x, %#x) unwind %#x, want [%#x, %#x) unwind %#x", fn, got[0], got[1], got[2], begin, end, unwind)
	}
}

// callRig calls generated functions of an image on a scratch stack.
type callRig struct {
	t         *testing.T
	e         *unicorn.Engine
	sym, ends map[string]uint64
	// flush translated blocks first: needed on an engine that also
	// stops elsewhere (unicorn#2341).
	flush bool
}

func newCallRig(t *testing.T, b *workload.Built) *callRig {
	m, err := unicorn.New(b.Image, unicorn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	r := &callRig{t: t, e: m.Engine(), sym: b.Linked.Symbols, ends: b.Linked.SymbolEnds}
	for _, reg := range b.Image.Regions { // Run would do this; this machine is driven by hand
		if err := r.e.MemWrite(reg.Base, reg.Init); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// call runs fn(args...) (RCX, RDX, R8, R9) to its return and returns RAX.
func (r *callRig) call(fn string, args ...uint64) uint64 {
	r.t.Helper()
	if err := r.e.MemWrite(scratchStack, binary.LittleEndian.AppendUint64(nil, unicorn.SentinelAddr)); err != nil {
		r.t.Fatal(err)
	}
	regs := []unicorn.Reg{unicorn.RSP, unicorn.RCX, unicorn.RDX, unicorn.R8, unicorn.R9}
	if err := r.e.RegWriteBatch(regs[:1+len(args)], append([]uint64{scratchStack}, args...)); err != nil {
		r.t.Fatal(err)
	}
	if r.flush {
		if err := r.e.FlushCode(); err != nil {
			r.t.Fatal(err)
		}
	}
	if err := r.e.Start(r.sym[fn], unicorn.SentinelAddr, 0); err != nil {
		r.t.Fatalf("%s: %v", fn, err)
	}
	rax, err := r.e.RegRead(unicorn.RAX)
	if err != nil {
		r.t.Fatal(err)
	}
	return rax
}

func (r *callRig) read(addr uint64) uint64 {
	r.t.Helper()
	b := make([]byte, 8)
	if err := r.e.MemRead(addr, b); err != nil {
		r.t.Fatal(err)
	}
	return binary.LittleEndian.Uint64(b)
}
