package ehframe_test

import (
	"bufio"
	"bytes"
	"debug/elf"
	"fmt"
	"github.com/osrsim/osrsim/region"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/osrsim/osrsim/ehframe"
	"github.com/osrsim/osrsim/emitter"
	"github.com/osrsim/osrsim/patchpoint"
	"github.com/osrsim/osrsim/sim"
	simelf "github.com/osrsim/osrsim/sim/elf"
	"github.com/osrsim/osrsim/workload"
)

// The oracle: GNU readelf decodes our records in an ELF file, and its
// tables (--debug-dump=frames-interp) and instruction listings
// (--debug-dump=frames) must agree with ours at every instruction.

// readelfFDE is one FDE (or CIE) as readelf prints it.
type readelfFDE struct {
	cie        uint64 // section offset of the CIE (of a CIE: its own)
	begin, end uint64
	insts      []string // --debug-dump=frames, without " to LOC"
	cols       []string // --debug-dump=frames-interp
	rows       []readelfRow
}

type readelfRow struct {
	loc   uint64
	cfa   string
	rules []string
}

var (
	fdeHead = regexp.MustCompile(`^[0-9a-f]+ [0-9a-f]+ [0-9a-f]+ FDE cie=([0-9a-f]+) pc=([0-9a-f]+)\.\.([0-9a-f]+)$`)
	cieHead = regexp.MustCompile(`^([0-9a-f]+) [0-9a-f]+ [0-9a-f]+ CIE`)
)

// fields splits a frames-interp row; a register rule is printed as
// "r11 (r11)", one field.
func fields(line string) []string {
	var out []string
	for _, f := range strings.Fields(line) {
		if strings.HasPrefix(f, "(") && len(out) > 0 {
			out[len(out)-1] += " " + f
			continue
		}
		out = append(out, f)
	}
	return out
}

// readelf runs both dumps of the ELF file at path and returns the FDEs by
// start address; cies holds the CIEs by section offset.
func readelf(t *testing.T, path string) (fdes, cies map[uint64]*readelfFDE) {
	t.Helper()
	bin, err := exec.LookPath("readelf")
	if err != nil {
		t.Skip("readelf not installed (scripts/deps.sh installs binutils)")
	}
	fdes, cies = map[uint64]*readelfFDE{}, map[uint64]*readelfFDE{}
	for _, dump := range []string{"frames", "frames-interp"} {
		out, err := exec.Command(bin, "--debug-dump="+dump, path).CombinedOutput()
		if err != nil {
			t.Fatalf("readelf --debug-dump=%s: %v\n%s", dump, err, out)
		}
		var cur *readelfFDE
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			line := sc.Text()
			if m := fdeHead.FindStringSubmatch(line); m != nil {
				cie, _ := strconv.ParseUint(m[1], 16, 64)
				begin, _ := strconv.ParseUint(m[2], 16, 64)
				end, _ := strconv.ParseUint(m[3], 16, 64)
				if cur = fdes[begin]; cur == nil {
					cur = &readelfFDE{cie: cie, begin: begin, end: end}
					fdes[begin] = cur
				}
				continue
			}
			if m := cieHead.FindStringSubmatch(line); m != nil {
				off, _ := strconv.ParseUint(m[1], 16, 64)
				if cur = cies[off]; cur == nil {
					cur = &readelfFDE{cie: off}
					cies[off] = cur
				}
				continue
			}
			f := fields(line)
			switch {
			case cur == nil || len(f) == 0:
				cur = nil
			case dump == "frames" && strings.HasPrefix(f[0], "DW_CFA"):
				in := strings.TrimSpace(line)
				if i := strings.Index(in, " to "); strings.HasPrefix(in, "DW_CFA_advance_loc") && i > 0 {
					in = in[:i]
				}
				cur.insts = append(cur.insts, in)
			case dump == "frames":
				// CIE fields: Version, Augmentation, ...
			case f[0] == "LOC":
				cur.cols = f[2:]
			default:
				loc, err := strconv.ParseUint(f[0], 16, 64)
				if err != nil || len(f) != 2+len(cur.cols) {
					t.Fatalf("readelf row %q", line)
				}
				cur.rows = append(cur.rows, readelfRow{loc: loc, cfa: f[1], rules: f[2:]})
			}
		}
	}
	return fdes, cies
}

// column is the register readelf names col (it calls the return-address
// column "ra").
func column(t *testing.T, col string) ehframe.Reg {
	if col == "ra" {
		return ehframe.RA
	}
	for r := ehframe.Reg(0); int(r) < ehframe.NumRegs; r++ {
		if r.String() == col {
			return r
		}
	}
	t.Fatalf("readelf column %q", col)
	return 0
}

// compareWithReadelf checks every FDE of the .eh_frame at [addr, addr+size)
// in mem against readelf's dump of the ELF file at path, at each pc that
// pcs gives for it; it returns the number of FDEs.
func compareWithReadelf(t *testing.T, path string, mem ehframe.Memory, addr, size uint64, pcs func(f *ehframe.FDE) []uint64) int {
	t.Helper()
	theirs, cies := readelf(t, path)
	fdes, err := ehframe.ReadSection(mem, addr, size)
	if err != nil {
		t.Fatal(err)
	}
	if len(fdes) != len(theirs) {
		t.Errorf("%d FDEs, readelf shows %d", len(fdes), len(theirs))
	}
	for _, f := range fdes {
		r := theirs[f.PCBegin]
		if r == nil || r.end != f.PCEnd {
			t.Errorf("FDE [%#x, %#x): readelf has %+v", f.PCBegin, f.PCEnd, r)
			continue
		}
		insts, err := ehframe.Decode(f.CIE, f.Insts, f.InstsAddr)
		if err != nil {
			t.Fatal(err)
		}
		var ours []string
		for _, in := range insts {
			ours = append(ours, in.String())
		}
		if strings.Join(ours, "\n") != strings.Join(r.insts, "\n") {
			t.Errorf("FDE at %#x decodes as\n%s\nreadelf:\n%s", f.PCBegin, strings.Join(ours, "\n"), strings.Join(r.insts, "\n"))
		}
		if len(r.rows) == 0 { // an empty program: readelf shows no table, the CIE's row applies
			c := cies[r.cie]
			if c == nil {
				t.Fatalf("FDE at %#x: readelf shows no CIE at %#x", f.PCBegin, r.cie)
			}
			r.cols, r.rows = c.cols, c.rows
		}
		cols := map[ehframe.Reg]int{}
		for i, c := range r.cols {
			cols[column(t, c)] = i
		}
		for _, pc := range pcs(f) {
			row, err := f.RowAt(pc, nil)
			if err != nil {
				t.Fatal(err)
			}
			var want *readelfRow
			for i := range r.rows {
				if r.rows[i].loc <= pc {
					want = &r.rows[i]
				}
			}
			if want == nil {
				t.Fatalf("%#x: readelf has no row", pc)
			}
			diff := ""
			if got := row.CFA.String(); got != want.cfa {
				diff += fmt.Sprintf(" CFA %s/%s", got, want.cfa)
			}
			for reg := ehframe.Reg(0); int(reg) < ehframe.NumRegs; reg++ {
				got, theirs := row.Regs[reg].String(), "u"
				if i, ok := cols[reg]; ok {
					theirs = want.rules[i]
				} else if row.Regs[reg].Kind != ehframe.RuleUnset {
					theirs = "(no column)"
				}
				if got != theirs {
					diff += fmt.Sprintf(" %v %s/%s", reg, got, theirs)
				}
			}
			if diff != "" {
				t.Errorf("%#x (readelf row %#x), ours/readelf:%s", pc, want.loc, diff)
			}
		}
	}
	return len(fdes)
}

// writeELF writes f to a temporary file.
func writeELF(t *testing.T, f *simelf.File) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "records.elf")
	if err := f.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// instPCs lists the instruction starts of im inside each FDE.
func instPCs(im *sim.Image) func(f *ehframe.FDE) []uint64 {
	return func(f *ehframe.FDE) []uint64 {
		var pcs []uint64
		for _, a := range im.InstStarts {
			if a >= f.PCBegin && a < f.PCEnd {
				pcs = append(pcs, a)
			}
		}
		return pcs
	}
}

// TestReadelfOracleImages: the helper's records in every strategy's image
// on both platforms, written by osrsim's ELF writer.
func TestReadelfOracleImages(t *testing.T) {
	for _, pl := range patchpoint.Platforms {
		for _, s := range patchpoint.Strategies {
			p := workload.DefaultParams(workload.AwaitLoop)
			p.Patchpoint.Platform = pl
			checkImageRecords(t, p, s)
		}
	}
}

// checkImageRecords compares an image's records with readelf's decoding;
// every helper function must have one.
func checkImageRecords(t *testing.T, p workload.Params, s patchpoint.Strategy) {
	t.Helper()
	b, err := workload.Build(p, s)
	if err != nil {
		t.Fatal(err)
	}
	path := writeELF(t, simelf.FromImage(b.Image))
	var mem ehframe.Segments
	for _, r := range b.Image.Regions {
		mem = append(mem, ehframe.Segment{Addr: r.Base, Data: r.Init})
	}
	eh := b.Image.Region(sim.RegionEHFrame)
	n := compareWithReadelf(t, path, mem, eh.Base, uint64(len(eh.Init)), instPCs(b.Image))
	var helpers int
	for _, sym := range b.Object.Section("code").Symbols {
		if sym.Kind == emitter.SymFunc && sym.Region == region.Helper {
			helpers++
		}
	}
	if n != helpers || n < 5 {
		t.Errorf("%v/%v: %d FDEs for %d helper functions", p.Patchpoint.Platform, s, n, helpers)
	}
}

// TestReadelfOracleEmitted: a function using every prolog code with an
// .eh_frame form and two kinds of epilog (the emitter's own test shape).
func TestReadelfOracleEmitted(t *testing.T) {
	p := emitter.NewProgram()
	text := p.Section("text")
	p.EHFrame(text, func(region.Region) bool { return true })
	emitRunFuncs(text)
	obj, err := p.Finish()
	if err != nil {
		t.Fatal(err)
	}
	l, err := obj.Link(map[string]uint64{"text": runText, emitter.SecEHFrameHdr: runHdr, emitter.SecEHFrame: runFrame})
	if err != nil {
		t.Fatal(err)
	}
	f := &simelf.File{EHFrameHdr: ".eh_frame_hdr"}
	var mem ehframe.Segments
	for _, s := range []struct{ sec, name string }{{"text", ".text"}, {emitter.SecEHFrameHdr, ".eh_frame_hdr"}, {emitter.SecEHFrame, ".eh_frame"}} {
		b := l.Bytes[s.sec]
		f.Sections = append(f.Sections, simelf.Section{Name: s.name, Addr: l.Bases[s.sec], Data: b, Size: uint64(len(b)), Flags: elf.SHF_ALLOC})
		mem = append(mem, ehframe.Segment{Addr: l.Bases[s.sec], Data: b})
	}
	path := writeELF(t, f)
	code := obj.Section("text")
	n := compareWithReadelf(t, path, mem, runFrame, uint64(len(l.Bytes[emitter.SecEHFrame])), func(fde *ehframe.FDE) []uint64 {
		var pcs []uint64
		for _, in := range code.Insts {
			if pc := runText + uint64(in.Off); pc >= fde.PCBegin && pc < fde.PCEnd {
				pcs = append(pcs, pc)
			}
		}
		return pcs
	})
	if n != 3 {
		t.Errorf("%d FDEs, want 3", n)
	}
}

// TestReadelfOracleAllOps: a hand-written program with every instruction
// the interpreter executes, at every address around each row change.
func TestReadelfOracleAllOps(t *testing.T) {
	mem := buildRecords(t, []testFunc{{0x1000, 0x20000, allOps}, {0x30000, 0x10, func(w *ehframe.CFAWriter) {}}})
	f := &simelf.File{EHFrameHdr: ".eh_frame_hdr", Sections: []simelf.Section{
		{Name: ".eh_frame_hdr", Addr: testHdr, Data: mem[0].Data, Size: uint64(len(mem[0].Data)), Flags: elf.SHF_ALLOC},
		{Name: ".eh_frame", Addr: testFrame, Data: mem[1].Data, Size: uint64(len(mem[1].Data)), Flags: elf.SHF_ALLOC},
	}}
	path := writeELF(t, f)
	compareWithReadelf(t, path, mem, testFrame, uint64(len(mem[1].Data)), func(fde *ehframe.FDE) []uint64 {
		rows, err := fde.Table()
		if err != nil {
			t.Fatal(err)
		}
		var pcs []uint64
		for _, r := range rows {
			for _, pc := range []uint64{r.Loc - 1, r.Loc, r.Loc + 1} {
				if pc >= fde.PCBegin && pc < fde.PCEnd {
					pcs = append(pcs, pc)
				}
			}
		}
		return append(pcs, fde.PCEnd-1)
	})
}
