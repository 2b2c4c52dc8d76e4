package main

import (
	"context"
	debugelf "debug/elf"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

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

// imageFlags are the flags of osrsim image.
type imageFlags struct {
	sel         selection
	out, elfOut string
}

func imageCommand() *cobra.Command {
	var f imageFlags
	cmd := &cobra.Command{
		Use:   "image [CONFIG.yaml] (--out DIR | --elf FILE)",
		Short: "Write the image: region .bin files and image.json, or an ELF file",
		Long: `Build the first cell of the experiment for its first (or only selected)
strategy and write the image: --out DIR writes each region as a .bin file
with image.json (regions, symbols with their region and step, events);
--elf FILE writes an ELF64 executable with symbols and .eh_frame records
(objdump -d, readelf --debug-dump=frames-interp, gdb).`,
		Example: `  osrsim image --strategy helper --out img/
  osrsim image --strategy direct --elf osr.elf && objdump -d osr.elf`,
		Args:              maxArgs(1),
		ValidArgsFunction: completeInputs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.run(cmd.Context(), args, cmd.OutOrStdout())
		},
	}
	f.sel.register(cmd)
	fs := cmd.Flags()
	fs.StringVarP(&f.out, "out", "o", "", "write the region .bin files and image.json into `DIR`")
	fs.StringVar(&f.elfOut, "elf", "", "write the image as an ELF executable `FILE`")
	cmd.MarkFlagsOneRequired("out", "elf")
	cmd.MarkFlagDirname("out")
	return cmd
}

func (f *imageFlags) run(ctx context.Context, args []string, stdout io.Writer) error {
	if f.out != "" {
		if err := checkWritableDir(f.out); err != nil {
			return err
		}
	}
	if f.elfOut != "" {
		if st, err := os.Stat(f.elfOut); err == nil && st.IsDir() {
			return badf("--elf %s is a directory", f.elfOut)
		}
		if err := checkWritableDir(filepath.Dir(f.elfOut)); err != nil {
			return err
		}
	}
	b, err := buildOne(&f.sel, args)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if f.out != "" {
		if err := sim.WriteDir(b.Image, f.out); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s/ (%s, %s): %d regions, %d symbols, entry %#x\n", f.out, b.Params.Workload, b.Strategy,
			len(b.Image.Regions), len(b.Image.Symbols), b.Image.Entry)
		fmt.Fprintf(stdout, "disassemble with: objdump -D -b binary -m i386:x86-64 --adjust-vma=%#x %s/code.bin\n", sim.CodeBase, f.out)
	}
	if f.elfOut != "" {
		if err := os.MkdirAll(filepath.Dir(f.elfOut), 0o755); err != nil {
			return err
		}
		if err := elfFile(b).WriteFile(f.elfOut); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s (%s, %s): try objdump -d, readelf --debug-dump=frames-interp, gdb\n", f.elfOut, b.Params.Workload, b.Strategy)
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
