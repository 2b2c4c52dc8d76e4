package emitter

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/arch/x86/x86asm"
)

// Every encoding case is built into a fixed little image:
//
//	text at 0x1000: the case's one instruction at offset 0, label "near" at
//	  +0x40, symbol "tsym" at +0x80, label "far" at +0x1000
//	data at 0x3000: symbol "dsym" at +0x10, label "dlab" at +0x20
//
// so branch and RIP-relative texts have fixed targets.
const (
	textBase = 0x1000
	dataBase = 0x3000
)

type tg struct{ near, far, dlab *Label }

// encCase: builder closure, expected x86asm.GNUSyntax text (at pc 0x1000),
// expected hex ("A|B" accepts either), and GNU as source when the text
// itself does not assemble to the same instruction ("" = text; branches to
// an absolute target are rewritten to ".+rel" automatically).
type encCase struct {
	text, hex, gas string
	build          func(b *Builder, t *tg)
}

// knownTargets are the addresses a PC-relative case may reach.
var knownTargets = map[uint64]string{
	textBase + 0x40:   "near",
	textBase + 0x80:   "tsym",
	textBase + 0x1000: "far",
	dataBase + 0x10:   "dsym",
	dataBase + 0x20:   "dlab",
}

type builtCase struct {
	obj   *Object
	ln    *Linked
	inst  Inst
	bytes []byte // the case's instruction
}

func buildCase(t testing.TB, c encCase) builtCase {
	t.Helper()
	p := NewProgram()
	text, data := p.Section("text"), p.Section("data")
	g := &tg{near: p.NewLabel("near"), far: p.NewLabel("far"), dlab: p.NewLabel("dlab")}
	c.build(text, g)
	text.Align(0x40, 0xcc)
	text.Bind(g.near)
	text.Space(0x40)
	text.DefineSymbol("tsym")
	text.Align(0x1000, 0xcc)
	text.Bind(g.far)
	text.Ret()
	data.Space(0x10)
	data.DefineSymbol("dsym")
	data.Space(0x10)
	data.Bind(g.dlab)
	data.Space(0x10)
	obj, err := p.Finish()
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	ln, err := obj.Link(map[string]uint64{"text": textBase, "data": dataBase})
	if err != nil {
		t.Fatalf("Link: %v", err)
	}
	s := obj.Section("text")
	if len(s.Insts) < 2 || s.Insts[0].Off != 0 {
		t.Fatalf("want one instruction at offset 0, got %v", s.Insts)
	}
	in := s.Insts[0]
	return builtCase{obj: obj, ln: ln, inst: in, bytes: ln.Bytes["text"][in.Off : in.Off+in.Len]}
}

// hexMatches reports whether got is one of the "A|B" alternatives.
func hexMatches(want, got string) bool {
	for _, alt := range strings.Split(want, "|") {
		if strings.TrimSpace(alt) == got {
			return true
		}
	}
	return false
}

// pcTarget is the address a PC-relative instruction at pc reaches.
func pcTarget(d x86asm.Inst, pc uint64) (uint64, bool) {
	if d.PCRel == 0 {
		return 0, false
	}
	for _, a := range d.Args {
		switch a := a.(type) {
		case x86asm.Rel:
			return pc + uint64(d.Len) + uint64(int64(a)), true
		case x86asm.Mem:
			if a.Base == x86asm.RIP {
				return pc + uint64(d.Len) + uint64(a.Disp), true
			}
		}
	}
	return 0, false
}

// checkCase decodes the case's bytes with x86asm and compares everything.
func checkCase(t *testing.T, c encCase) {
	t.Helper()
	bc := buildCase(t, c)
	got := hexBytes(bc.bytes)
	if !hexMatches(c.hex, got) {
		t.Errorf("bytes %s, want %s", got, c.hex)
	}
	d, err := x86asm.Decode(bc.bytes, 64)
	if err != nil {
		t.Fatalf("x86asm: %v", err)
	}
	if d.Len != bc.inst.Len {
		t.Errorf("x86asm length %d, ours %d", d.Len, bc.inst.Len)
	}
	if text := x86asm.GNUSyntax(d, textBase, nil); text != c.text {
		t.Errorf("text %q, want %q", text, c.text)
	}
	target, pcrel := pcTarget(d, textBase)
	if !pcrel {
		return
	}
	if _, ok := knownTargets[target]; !ok {
		t.Errorf("PC-relative target %#x is none of the known targets", target)
	}
	// A cross-section reference is a relocation exactly at x86asm's PCRelOff.
	var relocs []Reloc
	for _, r := range bc.obj.Section("text").Relocs {
		if r.Off < bc.inst.Len {
			relocs = append(relocs, r)
		}
	}
	if target >= dataBase {
		if len(relocs) != 1 || relocs[0].Off != d.PCRelOff || relocs[0].Kind != RelocPCRel32 {
			t.Errorf("relocs %+v, want one pcrel32 at PCRelOff %d", relocs, d.PCRelOff)
		}
	} else if len(relocs) != 0 {
		t.Errorf("intra-section reference left relocations %+v", relocs)
	}
}

// gasSource is the GNU as input for a case.
func gasSource(t testing.TB, c encCase) string {
	if c.gas != "" {
		return c.gas
	}
	bc := buildCase(t, c)
	d, err := x86asm.Decode(bc.bytes, 64)
	if err != nil {
		t.Fatalf("%s: x86asm: %v", c.text, err)
	}
	for _, a := range d.Args {
		if r, ok := a.(x86asm.Rel); ok {
			op, _, _ := strings.Cut(c.text, " ")
			op = strings.TrimSuffix(op, "q") // jmpq/callq: GNU as wants no suffix on direct branches
			return fmt.Sprintf("%s .%+#x", op, int64(d.Len)+int64(r))
		}
	}
	// x86asm prints an R12 base without index as (%r12,%riz), which GNU as
	// (without %riz support for R12) rejects; the plain form encodes the same.
	return strings.ReplaceAll(c.text, ",%riz)", ")")
}

// assembleGAS assembles one source line per case with GNU as and returns
// each case's bytes.
func assembleGAS(t *testing.T, srcs []string) [][]byte {
	t.Helper()
	for _, tool := range []string{"as", "objcopy", "nm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found: %v", tool, err)
		}
	}
	dir := t.TempDir()
	var src bytes.Buffer
	src.WriteString("\t.text\n")
	for i, s := range srcs {
		fmt.Fprintf(&src, "c_%d:\n\t%s\n", i, s)
	}
	fmt.Fprintf(&src, "c_%d:\n", len(srcs))
	run := func(name string, args ...string) []byte {
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return out
	}
	if err := os.WriteFile(filepath.Join(dir, "cases.s"), src.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	run("as", "--64", "-o", "cases.o", "cases.s")
	run("objcopy", "-O", "binary", "-j", ".text", "cases.o", "cases.bin")
	bin, err := os.ReadFile(filepath.Join(dir, "cases.bin"))
	if err != nil {
		t.Fatal(err)
	}
	offs := make([]int, len(srcs)+1)
	for _, line := range strings.Split(string(run("nm", "cases.o")), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || !strings.HasPrefix(f[2], "c_") {
			continue
		}
		i, err1 := strconv.Atoi(f[2][2:])
		off, err2 := strconv.ParseUint(f[0], 16, 64)
		if err1 != nil || err2 != nil || i > len(srcs) {
			t.Fatalf("nm line %q", line)
		}
		offs[i] = int(off)
	}
	out := make([][]byte, len(srcs))
	for i := range srcs {
		out[i] = bin[offs[i]:offs[i+1]]
	}
	return out
}

var _ = hex.EncodeToString
