package elf_test

import (
	"bytes"
	debugelf "debug/elf"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/osrsim/osrsim/patchpoint"
	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/elf"
	"github.com/osrsim/osrsim/workload"
)

// images builds the default await-loop image for every strategy.
func images(t *testing.T) map[patchpoint.Strategy]*workload.Built {
	t.Helper()
	out := map[patchpoint.Strategy]*workload.Built{}
	for _, s := range patchpoint.Strategies {
		b, err := workload.Build(workload.DefaultParams(workload.AwaitLoop), s)
		if err != nil {
			t.Fatal(err)
		}
		out[s] = b
	}
	return out
}

// writeELF writes f to a temporary file.
func writeELF(t *testing.T, f *elf.File) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "image.elf")
	if err := f.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReadBack reads a written image back with debug/elf: every region is a
// section and a segment at its address with its bytes, every function a
// sized STT_FUNC symbol, every sub-range a local symbol inside it.
func TestReadBack(t *testing.T) {
	b := images(t)[patchpoint.Helper]
	im := b.Image
	raw, err := elf.FromImage(im).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	f, err := debugelf.NewFile(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if f.Class != debugelf.ELFCLASS64 || f.Machine != debugelf.EM_X86_64 || f.Type != debugelf.ET_EXEC || f.Entry != im.Entry {
		t.Errorf("header %+v", f.FileHeader)
	}
	for _, r := range im.Regions {
		name := "." + r.Name
		if r.Name == sim.RegionCode {
			name = ".text"
		}
		s := f.Section(name)
		if s == nil {
			t.Errorf("no section %s", name)
			continue
		}
		wantType, wantSize := debugelf.SHT_PROGBITS, uint64(len(r.Init))
		if len(r.Init) == 0 {
			wantType, wantSize = debugelf.SHT_NOBITS, r.Size
		}
		if s.Addr != r.Base || s.Type != wantType || s.Size != wantSize || s.Flags&debugelf.SHF_ALLOC == 0 ||
			(s.Flags&debugelf.SHF_WRITE != 0) != (r.Perm&sim.PermW != 0) || (s.Flags&debugelf.SHF_EXECINSTR != 0) != (r.Perm&sim.PermX != 0) {
			t.Errorf("section %s: %+v", name, s.SectionHeader)
		}
		if data, err := s.Data(); len(r.Init) > 0 && (err != nil || !bytes.Equal(data, r.Init)) {
			t.Errorf("section %s: contents differ (%v)", name, err)
		}
		found := false
		for _, p := range f.Progs {
			if p.Type == debugelf.PT_LOAD && p.Vaddr == r.Base && p.Memsz == r.Size && p.Filesz == uint64(len(r.Init)) && p.Off%p.Align == p.Vaddr%p.Align {
				found = true
			}
		}
		if !found {
			t.Errorf("no PT_LOAD for region %s", r.Name)
		}
	}
	hdr := im.Region(sim.RegionEHFrameHdr)
	ehSeg := false
	for _, p := range f.Progs {
		ehSeg = ehSeg || (p.Type == debugelf.PT_GNU_EH_FRAME && p.Vaddr == hdr.Base && p.Filesz == uint64(len(hdr.Init)))
	}
	if !ehSeg {
		t.Error("no PT_GNU_EH_FRAME for .eh_frame_hdr")
	}

	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]debugelf.Symbol{}
	for _, s := range syms {
		byName[s.Name] = s
	}
	for _, u := range b.Object.Section("code").Unwind {
		s, ok := byName[u.Name]
		if !ok || s.Value != b.Linked.Symbols[u.Name] || s.Size != uint64(u.End-u.Start) ||
			debugelf.ST_TYPE(s.Info) != debugelf.STT_FUNC || debugelf.ST_BIND(s.Info) != debugelf.STB_GLOBAL || f.Sections[s.Section].Name != ".text" {
			t.Errorf("function %s: %+v", u.Name, s)
		}
	}
	step, ok := byName[patchpoint.RangeUnwind]
	if !ok || debugelf.ST_TYPE(step.Info) != debugelf.STT_NOTYPE || debugelf.ST_BIND(step.Info) != debugelf.STB_LOCAL ||
		step.Value < b.Linked.Symbols[patchpoint.SymWorker] || step.Value+step.Size > b.Linked.SymbolEnds[patchpoint.SymWorker] {
		t.Errorf("step range %s: %+v", patchpoint.RangeUnwind, step)
	}
}

func TestBadFile(t *testing.T) {
	f := &elf.File{Sections: []elf.Section{{Name: ".a", Addr: 0x1000, Size: 0x2000}, {Name: ".b", Addr: 0x2000, Size: 0x10}}}
	if _, err := f.Bytes(); err == nil || !strings.Contains(err.Error(), "overlap") {
		t.Errorf("overlapping sections: %v", err)
	}
	f = &elf.File{Sections: []elf.Section{{Name: ".a", Addr: 0x1000, Size: 1, Data: []byte{1, 2}}}}
	if _, err := f.Bytes(); err == nil || !strings.Contains(err.Error(), "exceed") {
		t.Errorf("data larger than the section: %v", err)
	}
	f = &elf.File{EHFrameHdr: ".eh_frame_hdr"}
	if _, err := f.Bytes(); err == nil || !strings.Contains(err.Error(), "PT_GNU_EH_FRAME") {
		t.Errorf("missing .eh_frame_hdr: %v", err)
	}
}

// TestObjdump: objdump -d disassembles the image with function names.
func TestObjdump(t *testing.T) {
	objdump, err := exec.LookPath("objdump")
	if err != nil {
		t.Skip("objdump not installed (scripts/deps.sh installs binutils)")
	}
	b := images(t)[patchpoint.Helper]
	path := writeELF(t, elf.FromImage(b.Image))
	out, err := exec.Command(objdump, "-d", path).CombinedOutput()
	if err != nil {
		t.Fatalf("objdump -d: %v\n%s", err, out)
	}
	for _, u := range b.Object.Section("code").Unwind {
		head := fmt.Sprintf("%016x <%s>:", b.Linked.Symbols[u.Name], u.Name)
		if !strings.Contains(string(out), head) {
			t.Errorf("objdump -d lacks %q", head)
		}
	}
	// Calls show their targets by name.
	if !strings.Contains(string(out), fmt.Sprintf("call   %x <%s>", b.Linked.Symbols[patchpoint.SymWorker], patchpoint.SymWorker)) {
		t.Error("the stub's call of the worker is not named")
	}
}
