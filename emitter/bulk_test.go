package emitter

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

var fns = []string{"fn0", "fn1", "fn2"}

// emitTable emits a table of rows (i, &sym, &fn(i%3), &sym+8) in a data
// section: each &sym column repeats every row, each fn every third row.
func emitTable(b *Builder, rows int, sym string) {
	b.DefineSymbol("table")
	for i := range rows {
		b.Words(Word{Addend: int64(i)}, Word{Sym: sym}, Word{Sym: fns[i%3]}, Word{Sym: sym, Addend: 8})
	}
	b.EndSymbol("table")
}

func tableProgram(p *Program, rows int) {
	text := p.Section("text")
	for _, fn := range fns {
		text.Func(fn)
		text.Ret()
		text.EndFunc()
	}
	data := p.Section("data")
	data.DefineSymbol("target")
	data.U64(7)
	emitTable(data, rows, "target")
}

// A table's repeating columns become one relocation each, and linking
// writes every entry as if each had its own.
func TestWordsRunsOfRelocations(t *testing.T) {
	const rows = 999
	p := NewProgram()
	tableProgram(p, rows)
	obj, err := p.Finish()
	if err != nil {
		t.Fatal(err)
	}
	relocs := obj.Section("data").Relocs
	// The two target columns, and a run for each fn.
	if len(relocs) != 5 {
		t.Errorf("%d relocations, want 5", len(relocs))
	}
	for _, r := range relocs {
		repeat, stride := rows-1, 32
		if r.Target != "target" {
			repeat, stride = rows/3-1, 96
		}
		if r.Repeat != repeat || r.Stride != stride {
			t.Errorf("run %+v: want %d more copies at stride %d", r, repeat, stride)
		}
	}
	bases := map[string]uint64{"text": 0x1000, "data": 0x10_0000}
	ln, err := obj.Link(bases)
	if err != nil {
		t.Fatal(err)
	}
	tab := ln.Bytes["data"][ln.Symbols["table"]-bases["data"]:]
	for i := range rows {
		row := tab[32*i:]
		want := []uint64{uint64(i), ln.Symbols["target"], ln.Symbols[fns[i%3]], ln.Symbols["target"] + 8}
		for c, w := range want {
			if got := binary.LittleEndian.Uint64(row[8*c:]); got != w {
				t.Fatalf("row %d column %d = %#x, want %#x", i, c, got, w)
			}
		}
	}
}

// A run never spans something layout resizes: alignment padding between
// two references to the same symbol ends the run, so both land where the
// padding leaves them.
func TestWordsRunStopsAtAlignment(t *testing.T) {
	p := NewProgram()
	text := p.Section("text")
	text.Func("f")
	text.Ret()
	text.EndFunc()
	d := p.Section("data")
	d.U64Sym("f", 0)
	d.U64Sym("f", 0) // stride 8: a run
	d.Align(64, 0)   // reserves 63 bytes, keeps 48
	d.U64Sym("f", 0) // 63+8 after the last in the buffer, 48+8 in the layout
	d.U64Sym("f", 0)
	obj, err := p.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(obj.Section("data").Relocs); n != 2 {
		t.Errorf("%d relocations, want 2 (one run on each side of the padding)", n)
	}
	ln, err := obj.Link(map[string]uint64{"text": 0x1000, "data": 0x2000})
	if err != nil {
		t.Fatal(err)
	}
	out := ln.Bytes["data"]
	if len(out) != 80 {
		t.Fatalf("data is %d bytes, want 80", len(out))
	}
	for _, off := range []int{0, 8, 64, 72} {
		if got := binary.LittleEndian.Uint64(out[off:]); got != ln.Symbols["f"] {
			t.Errorf("word at %d = %#x, want f at %#x", off, got, ln.Symbols["f"])
		}
	}
}

// Generate's first run records no positions; the object is the one
// NewProgram builds.
func TestGenerateSucceedsWithoutPositions(t *testing.T) {
	var progs []*Program
	obj, err := Generate(func(p *Program) error {
		progs = append(progs, p)
		tableProgram(p, 10)
		p.Section("text").NewLabel("unused")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(progs) != 1 {
		t.Fatalf("gen ran %d times, want once", len(progs))
	}
	p := progs[0]
	for _, l := range p.labels {
		if l.at.pcs != nil {
			t.Errorf("label %q recorded a position", l.name)
		}
	}
	for _, b := range p.sections {
		for _, f := range b.fixups {
			if f.at.pcs != nil {
				t.Errorf("reference to %q recorded a position", f.sym)
			}
		}
	}
	ref := NewProgram()
	tableProgram(ref, 10)
	want, err := ref.Finish()
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range want.Sections {
		if string(obj.Sections[i].Bytes) != string(s.Bytes) || len(obj.Sections[i].Relocs) != len(s.Relocs) {
			t.Errorf("section %s differs from NewProgram's", s.Name)
		}
	}
}

// Errors only Finish can find still carry the caller's file:line: Generate
// runs gen again with positions.
func TestGenerateErrorsHavePositions(t *testing.T) {
	runs := 0
	_, err := Generate(func(p *Program) error {
		runs++
		b := p.Section("text")
		b.Func("f")
		b.Jmp(b.NewLabel("nowhere"))
		b.Call(Sym("missing"))
		b.EndFunc()
		p.Section("data").Words(Word{Sym: "also_missing"})
		return nil
	})
	if runs != 2 {
		t.Errorf("gen ran %d times, want twice (once more for positions)", runs)
	}
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 3 {
		t.Fatalf("got %v, want 3 errors", err)
	}
	for _, e := range list {
		if !strings.Contains(e.Pos, "bulk_test.go:") {
			t.Errorf("position %q does not name bulk_test.go (%v)", e.Pos, e)
		}
	}
	if !errors.Is(err, ErrUnboundLabel) || !errors.Is(err, ErrUndefinedSymbol) {
		t.Errorf("error kinds in %v", err)
	}
}

// An error gen returns is Generate's, without a second run.
func TestGenerateGenError(t *testing.T) {
	mine := errors.New("mine")
	runs := 0
	if _, err := Generate(func(*Program) error { runs++; return mine }); err != mine || runs != 1 {
		t.Errorf("Generate = %v after %d runs, want %v after one", err, runs, mine)
	}
}

// BenchmarkTable emits, lays out and links a 20,000-row table (the
// code-range table's default size) the way generators do, through Generate.
func BenchmarkTable(bm *testing.B) {
	bm.ReportAllocs()
	for bm.Loop() {
		obj, err := Generate(func(p *Program) error {
			tableProgram(p, 20000)
			return nil
		})
		if err != nil {
			bm.Fatal(err)
		}
		if _, err := obj.Link(map[string]uint64{"text": 0x1000, "data": 0x10_0000}); err != nil {
			bm.Fatal(err)
		}
	}
}
