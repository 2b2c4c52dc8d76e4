// Package simtest builds small test images from GNU assembler text, so the
// engines can be tested independently of osrsim's own emitter. It needs
// binutils (`as`, `objcopy`, `objdump`), which the deps script installs.
package simtest

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/osrsim/osrsim/sim"
)

// Standard sizes of the regions of a test image.
const (
	DataSize  = 0x10000
	HeapSize  = 0x10000
	StackSize = 0x10000
)

// Prologue is the entry stub every test image starts with: it saves the
// host's callee-saved registers and stack pointer in the host page, switches
// to the image stack, calls `main` with the argument in %rdi, and switches
// back: the shape of sim/link.Entry, which the mechanism's images use (and
// which also clears the registers it doesn't pass).
var Prologue = fmt.Sprintf(`
	.text
	.globl entry
entry:
	push %%rbx
	push %%rbp
	push %%r12
	push %%r13
	push %%r14
	push %%r15
	movabs $%#x, %%rax
	mov %%rsp, (%%rax)
	movabs $%#x, %%rsp
	call main
	movabs $%#x, %%rcx
	mov (%%rcx), %%rsp
	pop %%r15
	pop %%r14
	pop %%r13
	pop %%r12
	pop %%rbp
	pop %%rbx
	ret
`, sim.HostBase, sim.StackBase+StackSize, sim.HostBase)

// Assemble builds an image whose code is Prologue followed by src (which
// must define `main`). Symbols are the text labels of the source (a label's
// range runs to the next label). Events name labels whose addresses are
// counted. dataInit gives the initial bytes of the data region.
func Assemble(tb testing.TB, src string, dataInit []byte, events ...string) *sim.Image {
	tb.Helper()
	im, err := AssembleErr(src, dataInit, events...)
	if err != nil {
		tb.Fatal(err)
	}
	return im
}

// AssembleErr is Assemble without a testing.TB, for benchmarks and tools.
func AssembleErr(src string, dataInit []byte, events ...string) (*sim.Image, error) {
	dir, err := os.MkdirTemp("", "simtest")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	s, o, bin := filepath.Join(dir, "t.s"), filepath.Join(dir, "t.o"), filepath.Join(dir, "t.bin")
	if err := os.WriteFile(s, []byte(Prologue+"\n"+src+"\n"), 0o644); err != nil {
		return nil, err
	}
	for _, c := range [][]string{
		{"as", "--64", "-o", o, s},
		{"objcopy", "-O", "binary", "-j", ".text", o, bin},
	} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("%s: %v\n%s", c[0], err, out)
		}
	}
	code, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	dump, err := exec.Command("objdump", "-d", "-w", "--no-show-raw-insn", o).Output()
	if err != nil {
		return nil, fmt.Errorf("objdump: %v", err)
	}
	starts, labels, err := parseObjdump(dump)
	if err != nil {
		return nil, err
	}
	im := &sim.Image{Entry: sim.CodeBase}
	codeSize := (uint64(len(code)) + sim.PageSize - 1) &^ (sim.PageSize - 1)
	im.Regions = []sim.Region{
		{Name: sim.RegionCode, Base: sim.CodeBase, Size: codeSize, Perm: sim.PermR | sim.PermX, Init: code},
		{Name: sim.RegionData, Base: sim.DataBase, Size: DataSize, Perm: sim.PermR | sim.PermW, Init: dataInit, Compared: true},
		{Name: sim.RegionHeap, Base: sim.HeapBase, Size: HeapSize, Perm: sim.PermR | sim.PermW, Compared: true},
		{Name: sim.RegionStack, Base: sim.StackBase, Size: StackSize, Perm: sim.PermR | sim.PermW, Compared: true},
		{Name: sim.RegionHost, Base: sim.HostBase, Size: sim.HostSize, Perm: sim.PermR | sim.PermW},
	}
	for _, a := range starts {
		im.InstStarts = append(im.InstStarts, sim.CodeBase+a)
	}
	for i, l := range labels {
		end := uint64(len(code))
		if i+1 < len(labels) {
			end = labels[i+1].off
		}
		im.Symbols = append(im.Symbols, sim.Symbol{Name: l.name, Start: sim.CodeBase + l.off, End: sim.CodeBase + end})
	}
	for _, e := range events {
		sym, ok := im.Symbol(e)
		if !ok {
			return nil, fmt.Errorf("event %q: no such label", e)
		}
		im.Events = append(im.Events, sim.Event{Name: e, Addr: sym.Start})
	}
	return im, im.Validate()
}

type label struct {
	name string
	off  uint64
}

var (
	labelRe = regexp.MustCompile(`^([0-9a-f]+) <([^>]+)>:$`)
	instRe  = regexp.MustCompile(`^\s*([0-9a-f]+):\s`)
)

func parseObjdump(out []byte) (starts []uint64, labels []label, err error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " ")
		if m := labelRe.FindStringSubmatch(line); m != nil {
			off, _ := strconv.ParseUint(m[1], 16, 64)
			labels = append(labels, label{m[2], off})
			continue
		}
		if m := instRe.FindStringSubmatch(line); m != nil {
			off, _ := strconv.ParseUint(m[1], 16, 64)
			starts = append(starts, off)
		}
	}
	if len(starts) == 0 {
		return nil, nil, fmt.Errorf("objdump found no instructions")
	}
	return starts, labels, sc.Err()
}
