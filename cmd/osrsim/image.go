package main

import (
	"context"
	debugelf "debug/elf"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/osrsim/osrsim/emitter"
	"github.com/osrsim/osrsim/experiments"
	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/elf"
	"github.com/osrsim/osrsim/workload"
)

// buildOne builds the first cell of an experiment (emulation scale) for its
// first (or only selected) strategy: what image, disasm and trace show.
func buildOne(sel *selection, pos []string) (*workload.Built, error) {
	e, err := oneExperiment(sel, pos)
	if err != nil {
		return nil, err
	}
	return buildFirst(e)
}

func buildFirst(e *experiments.Experiment) (*workload.Built, error) {
	cells := e.Cells()
	if len(cells) == 0 {
		return nil, badf("%s: no workloads", e.File)
	}
	return workload.Build(cells[0].Emu, e.Strategies[0])
}

func cmdImage(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	var sel selection
	sel.register(fs)
	out := fs.String("out", "", "output directory")
	elfOut := fs.String("elf", "", "ELF executable to write")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *out == "" && *elfOut == "" {
		return badf("image: --out DIR or --elf FILE is required")
	}
	if *out != "" {
		if err := checkWritableDir(*out); err != nil {
			return err
		}
	}
	if *elfOut != "" {
		if st, err := os.Stat(*elfOut); err == nil && st.IsDir() {
			return badf("--elf %s is a directory", *elfOut)
		}
		if err := checkWritableDir(filepath.Dir(*elfOut)); err != nil {
			return err
		}
	}
	b, err := buildOne(&sel, pos)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if *out != "" {
		if err := sim.WriteDir(b.Image, *out); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s/ (%s, %s): %d regions, %d symbols, entry %#x\n", *out, b.Params.Workload, b.Strategy,
			len(b.Image.Regions), len(b.Image.Symbols), b.Image.Entry)
		fmt.Fprintf(stdout, "disassemble with: objdump -D -b binary -m i386:x86-64 --adjust-vma=%#x %s/code.bin\n", sim.CodeBase, *out)
	}
	if *elfOut != "" {
		if err := os.MkdirAll(filepath.Dir(*elfOut), 0o755); err != nil {
			return err
		}
		if err := elfFile(b).WriteFile(*elfOut); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s (%s, %s): try objdump -d, readelf --debug-dump=frames-interp, gdb\n", *elfOut, b.Params.Workload, b.Strategy)
	}
	return nil
}

// elfFile is the image as an ELF file, with the data symbols too.
func elfFile(b *workload.Built) *elf.File {
	f := elf.FromImage(b.Image)
	for _, s := range b.Object.Sections {
		for _, sym := range s.Symbols {
			if sym.Kind == emitter.SymData && sym.End > sym.Start {
				f.Symbols = append(f.Symbols, elf.Symbol{Name: sym.Name, Value: b.Linked.Symbols[sym.Name],
					Size: uint64(sym.End - sym.Start), Type: debugelf.STT_OBJECT})
			}
		}
	}
	return f
}
