//go:build linux && amd64 && cgo

package difftest

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	. "github.com/osrsim/osrsim/emitter"
	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/native"
	"github.com/osrsim/osrsim/sim/unicorn"
)

// The native runs' child is this test binary.
func TestMain(m *testing.M) {
	native.ChildMain()
	os.Exit(m.Run())
}

// FuzzEngines generates a program from the input and runs it on both
// engines; they must agree on main's final registers, defined flags and
// every compared byte of memory. Programs that fault under emulation are
// logged and never run natively; only a division the generator could not
// make safe may fault (anything else, say an access outside the data it
// aimed at, means the emitter or the generator is wrong). `go test` runs the seed corpus in
// testdata/fuzz/FuzzEngines; `go test -fuzz=FuzzEngines` explores.
func FuzzEngines(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := NewCase(in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Run(c)
		if err != nil {
			t.Fatal(err)
		}
		if out.Fault != nil && !c.MayFault {
			t.Fatalf("a program without a division that may fault faulted under emulation:\n%v\nprogram (%v):\n%s", out.Fault, c.Forms, c.Listing())
		}
		if out.Fault != nil {
			t.Logf("faults under emulation, not run natively: %s", firstLine(out.Fault.Error()))
			return
		}
		if len(out.Diffs) > 0 {
			t.Fatalf("the engines differ:\n  %s\nprogram (%v):\n%s", strings.Join(out.Diffs, "\n  "), c.Forms, c.Listing())
		}
	})
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// corpus reads the seed corpus (go test fuzz v1 files of one []byte).
func corpus(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzEngines", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no seed corpus: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		head, val, _ := strings.Cut(strings.TrimSpace(string(data)), "\n")
		lit, ok := strings.CutPrefix(val, "[]byte(")
		lit, ok2 := strings.CutSuffix(lit, ")")
		in, err := strconv.Unquote(lit)
		if head != "go test fuzz v1" || !ok || !ok2 || err != nil {
			t.Fatalf("%s: not a go test fuzz v1 file of one []byte", f)
		}
		out[filepath.Base(f)] = []byte(in)
	}
	return out
}

// The seed corpus, which CI runs, covers every form and both outcomes
// (programs that fault under emulation and programs that complete).
func TestCorpusCoversEveryForm(t *testing.T) {
	forms := map[string]int{}
	for name, in := range corpus(t) {
		c, err := NewCase(in)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for f, n := range c.Forms {
			forms[f] += n
		}
	}
	for _, f := range []string{"alu", "mov", "lea", "unary", "mul", "shift", "setcc/cmovcc", "xchg", "sse",
		"division", "raw division", "push/pop", "if", "loop", "call", "jump", "cdq/cqo"} {
		if forms[f] == 0 {
			t.Errorf("no seed uses form %q (forms: %v)", f, forms)
		}
	}
}

// fixedInsts bounds what a program executes besides main's body: the entry
// stub, main's set-up (registers from random values) and its dump.
const fixedInsts = 200

// Every seed that completes stays within its bound, which keeps each run
// far below the emulator's instruction limit; the empty body shows the
// fixed part fits fixedInsts.
func TestRunsStayWithinBound(t *testing.T) {
	cases := map[string]*Case{"empty body": handCase(t, func(*Builder) {})}
	for name, in := range corpus(t) {
		c, err := NewCase(in)
		if err != nil {
			t.Fatal(err)
		}
		cases[name] = c
	}
	for name, c := range cases {
		_, n, err := emulate(c.Image)
		if err != nil {
			continue // a faulting division
		}
		if n > uint64(c.Bound+fixedInsts) {
			t.Errorf("%s executed %d instructions, bound %d + %d", name, n, c.Bound, fixedInsts)
		}
		if c.Bound+fixedInsts > maxInstructions {
			t.Errorf("%s: bound %d exceeds the emulator's limit", name, c.Bound)
		}
	}
}

// Generation is a function of the input alone.
func TestNewCaseIsDeterministic(t *testing.T) {
	for name, in := range corpus(t) {
		a, err := NewCase(in)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := NewCase(in)
		if !bytes.Equal(a.Image.Region(sim.RegionCode).Init, b.Image.Region(sim.RegionCode).Init) ||
			!bytes.Equal(a.Image.Region(sim.RegionData).Init, b.Image.Region(sim.RegionData).Init) {
			t.Fatalf("%s: two programs from one input", name)
		}
	}
}

// handCase is a program whose main runs body between the usual prologue
// and the dump.
func handCase(t *testing.T, body func(b *Builder)) *Case {
	t.Helper()
	c, err := newGen(nil).build(body)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A program that divides by zero faults under emulation and is reported
// as such, without a native run (which would crash).
func TestFaultingProgramIsNotRunNatively(t *testing.T) {
	c := handCase(t, func(b *Builder) {
		b.Xor(S32, RCX, RCX)
		b.Div(S32, RCX)
	})
	out, err := Run(c)
	if err != nil {
		t.Fatal(err)
	}
	if out.Fault == nil || out.Fault.Kind != unicorn.FaultException || out.Fault.Intr != 0 || out.Diffs != nil {
		t.Fatalf("outcome %+v, want a #DE fault and no native run", out)
	}
}

// The comparison finds what differs: a register, a defined flag, an XMM
// register, a byte of the stack; and ignores flags the program left
// undefined.
func TestCompareFindsDifferences(t *testing.T) {
	c := handCase(t, func(b *Builder) {})
	c.Defined = fCF | fZF
	emu, _, err := emulate(c.Image)
	if err != nil {
		t.Fatal(err)
	}
	area := int(c.Linked.Symbols[symArea] - sim.DataBase)
	for _, tc := range []struct {
		name   string
		change func(n final)
		want   string // "" for no difference
	}{
		{"nothing", func(final) {}, ""},
		{"rbx", func(n final) { n.mem[sim.RegionData][area+dumpGPRs+8*int(RBX)] ^= 1 }, "rbx: emu"},
		{"defined flag", func(n final) { n.mem[sim.RegionData][area+dumpFlags] ^= 1 }, "rflags & 0x41"},
		{"undefined flag", func(n final) { n.mem[sim.RegionData][area+dumpFlags+1] ^= 8 }, ""},
		{"system flag", func(n final) { n.mem[sim.RegionData][area+dumpFlags+1] ^= 2 }, ""},
		{"xmm", func(n final) { n.mem[sim.RegionData][area+dumpXMM+16*9+15] ^= 1 }, "xmm9: emu"},
		{"data", func(n final) { n.mem[sim.RegionData][area+100] ^= 1 }, "data+"},
		{"stack", func(n final) { n.mem[sim.RegionStack][0x7f0] ^= 1 }, "stack+0x7f0: emu"},
		{"ret", func(n final) {}, "return value"},
	} {
		n := final{ret: emu.ret, mem: map[string][]byte{}}
		e := final{ret: emu.ret, mem: map[string][]byte{}}
		for k, v := range emu.mem {
			n.mem[k], e.mem[k] = bytes.Clone(v), bytes.Clone(v)
		}
		if tc.name == "ret" {
			n.ret++
		}
		tc.change(n)
		diffs := c.compare(e, n)
		got := strings.Join(diffs, "\n")
		if tc.want == "" && len(diffs) != 0 || tc.want != "" && (len(diffs) != 1 || !strings.Contains(got, tc.want)) {
			t.Errorf("%s: diffs %q, want one with %q", tc.name, diffs, tc.want)
		}
	}
}

// End to end: a program whose result depends on the machine (the time
// stamp counter) is reported as a difference, with the register.
func TestRunReportsDifferences(t *testing.T) {
	c := handCase(t, func(b *Builder) {
		b.Bytes([]byte{0x0f, 0x31}) // rdtsc: edx:eax
		b.Mov(S64, RBX, RAX)
	})
	c.Image.InstStarts = nil // raw bytes: no instruction table to agree with
	out, err := Run(c)
	if err != nil {
		t.Fatal(err)
	}
	if out.Fault != nil || !strings.Contains(strings.Join(out.Diffs, "\n"), "rbx: emu") {
		t.Fatalf("outcome %+v, want rbx to differ", out)
	}
}

// The dump layout fits the data section the generator lays out.
func TestDumpLayout(t *testing.T) {
	c := handCase(t, func(b *Builder) {})
	data := c.Image.Region(sim.RegionData)
	area := c.Linked.Symbols[symArea] - sim.DataBase
	if end := area + dumpOff + dumpSize; end > uint64(len(data.Init)) || end > data.Size {
		t.Fatalf("dump ends at %#x, data has %#x bytes", end, len(data.Init))
	}
	if got := binary.LittleEndian.Uint64(data.Init[area+dumpGPRs:]); got != 0 {
		t.Errorf("dump starts non-zero: %#x", got)
	}
}
