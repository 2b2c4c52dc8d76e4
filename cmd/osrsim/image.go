package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/osrsim/osrsim/experiments"
	"github.com/osrsim/osrsim/sim"
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

func cmdImage(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	var sel selection
	sel.register(fs)
	out := fs.String("out", "", "output directory (required)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *out == "" {
		return badf("image: --out DIR is required")
	}
	if err := checkWritableDir(*out); err != nil {
		return err
	}
	b, err := buildOne(&sel, pos)
	if err != nil {
		return err
	}
	if err := sim.WriteDir(b.Image, *out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s/ (%s, %s): %d regions, %d symbols, entry %#x\n", *out, b.Params.Workload, b.Strategy,
		len(b.Image.Regions), len(b.Image.Symbols), b.Image.Entry)
	fmt.Fprintf(stdout, "disassemble with: objdump -D -b binary -m i386:x86-64 --adjust-vma=%#x %s/code.bin\n", sim.CodeBase, *out)
	return nil
}
