// Package link turns emitter output into a sim.Image: the host entry stub
// every image starts with, and the standard regions at the fixed addresses
// both engines use.
package link

import (
	"fmt"

	. "github.com/osrsim/osrsim/emitter"
	"github.com/osrsim/osrsim/region"
	"github.com/osrsim/osrsim/sim"
)

// Section names of images.
const (
	Code = "code"
	Data = "data"
	// Context is a writable section for machine state captured from the
	// CPU, placed at sim.ContextBase and not compared (sim.ContextBase).
	Context = "context"
)

// SymZero names 16 zero bytes in the data section that Entry loads the XMM
// registers from; EmitZero lays them out.
const SymZero = "host.zero"

// EmitZero lays out SymZero in the data section.
func EmitZero(d *Builder) {
	d.Align(16, 0)
	d.DefineSymbol(SymZero)
	d.Space(16)
	d.EndSymbol(SymZero)
}

// Entry emits the host boundary as function name: SysV in (`uint64
// name(uint64 arg)`), it saves the host's callee-saved registers and stack
// pointer in the host page, switches to the image stack (top at stackTop),
// clears every other register, calls main with the argument in RDI, and
// switches back. It returns the label of its way back: jumping there from
// any stack depth returns RAX to the host (a run that ends early).
//
// Clearing matters: code in the image saves callee-saved registers and
// may capture every register (and RFLAGS), so host values would otherwise
// reach image memory and the engines' final states would differ. The data section must
// hold SymZero (EmitZero).
func Entry(b *Builder, name, main string, stackTop uint64) *Label {
	saves := []Reg{RBX, RBP, R12, R13, R14, R15}
	b.Func(name)
	b.SetMeta(region.Meta{Region: region.Host})
	for _, r := range saves {
		b.PushNonvol(r)
	}
	b.EndProlog()
	b.MovImm64(RAX, sim.HostBase)
	b.Mov(S64, M(RAX, 0), RSP)
	b.MovImm64(RSP, stackTop)
	// RFLAGS as a user-mode thread has it, interrupts enabled: the
	// emulator starts with IF clear, and a captured context stores RFLAGS
	// (popfq of IF is ignored natively, where it is set already).
	b.Mov(S32, RAX, Imm(userRFlags))
	b.Push(RAX)
	b.Popfq()
	for r := RAX; r <= R15; r++ {
		if r != RSP && r != RDI {
			b.Xor(S32, r, r)
		}
	}
	for x := 0; x < 16; x++ {
		b.Movdqu(XReg(x), RIPSym(SymZero))
	}
	b.Call(Sym(main))
	exit := b.NewLabel(name + ".exit")
	b.Bind(exit)
	b.MovImm64(RCX, sim.HostBase)
	b.Mov(S64, RSP, M(RCX, 0))
	for i := len(saves) - 1; i >= 0; i-- {
		b.Pop(saves[i])
	}
	b.Ret()
	b.EndFunc()
	return exit
}

// userRFlags is RFLAGS with IF and the reserved bit 1 set.
const userRFlags = 0x202

// Layout sizes an image's writable regions; a zero HeapSize leaves the
// heap out.
type Layout struct {
	Entry     string // symbol of the entry function
	HeapSize  uint64
	StackSize uint64
}

// optionalRegions places the sections an image may have besides code and
// data, when obj has them: the records of Program.EHFrame (read-only) and
// the captured contexts (writable, not compared).
var optionalRegions = []struct {
	section, region string
	base            uint64
	perm            sim.Perm
}{
	{SecEHFrameHdr, sim.RegionEHFrameHdr, sim.EHFrameHdrBase, sim.PermR},
	{SecEHFrame, sim.RegionEHFrame, sim.EHFrameBase, sim.PermR},
	{Context, sim.RegionContext, sim.ContextBase, sim.PermR | sim.PermW},
}

// Image links obj's code and data sections at sim.CodeBase and
// sim.DataBase and returns the image: code (r-x), data, heap, stack
// (compared) and host (not compared), every instruction start, every
// non-empty code symbol with its metadata, and the declared steps. The
// .eh_frame sections, if the program has them, become read-only regions at
// sim.EHFrameHdrBase and sim.EHFrameBase; a Context section a writable
// region at sim.ContextBase that is not compared.
func Image(obj *Object, lay Layout) (*sim.Image, *Linked, error) {
	bases := map[string]uint64{Code: sim.CodeBase, Data: sim.DataBase}
	for _, e := range optionalRegions {
		if obj.Section(e.section) != nil {
			bases[e.section] = e.base
		}
	}
	l, err := obj.Link(bases)
	if err != nil {
		return nil, nil, err
	}
	entry, ok := l.Symbols[lay.Entry]
	if !ok {
		return nil, nil, fmt.Errorf("link: no entry symbol %q", lay.Entry)
	}
	code, data := l.Bytes[Code], l.Bytes[Data]
	page := func(n uint64) uint64 { return (n + sim.PageSize - 1) &^ (sim.PageSize - 1) }
	im := &sim.Image{Entry: entry, Steps: obj.Steps}
	im.Regions = append(im.Regions,
		sim.Region{Name: sim.RegionCode, Base: sim.CodeBase, Size: page(uint64(len(code))), Perm: sim.PermR | sim.PermX, Init: code},
		sim.Region{Name: sim.RegionData, Base: sim.DataBase, Size: page(uint64(len(data))), Perm: sim.PermR | sim.PermW, Init: data, Compared: true})
	if lay.HeapSize > 0 {
		im.Regions = append(im.Regions, sim.Region{Name: sim.RegionHeap, Base: sim.HeapBase, Size: lay.HeapSize, Perm: sim.PermR | sim.PermW, Compared: true})
	}
	im.Regions = append(im.Regions,
		sim.Region{Name: sim.RegionStack, Base: sim.StackBase, Size: lay.StackSize, Perm: sim.PermR | sim.PermW, Compared: true},
		sim.Region{Name: sim.RegionHost, Base: sim.HostBase, Size: sim.HostSize, Perm: sim.PermR | sim.PermW})
	for _, e := range optionalRegions {
		if b, ok := l.Bytes[e.section]; ok {
			im.Regions = append(im.Regions, sim.Region{Name: e.region, Base: e.base, Size: page(uint64(len(b))), Perm: e.perm, Init: b})
		}
	}
	sec := obj.Section(Code)
	for _, in := range sec.Insts {
		im.InstStarts = append(im.InstStarts, sim.CodeBase+uint64(in.Off))
	}
	for _, s := range sec.Symbols {
		if s.End > s.Start {
			im.Symbols = append(im.Symbols, sim.Symbol{Name: s.Name, Start: sim.CodeBase + uint64(s.Start), End: sim.CodeBase + uint64(s.End), Meta: s.Meta})
		}
	}
	return im, l, im.Validate()
}
