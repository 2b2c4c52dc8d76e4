package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/osrsim/osrsim/sim/unicorn"
)

// cmdDisasm prints the image's listing, annotated (like perf annotate) with
// how often each instruction ran in an emulated run of the experiment.
func cmdDisasm(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("disasm", flag.ContinueOnError)
	var sel selection
	sel.register(fs)
	noCounts := fs.Bool("no-counts", false, "list without running")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	b, err := buildOne(&sel, pos)
	if err != nil {
		return err
	}
	var annotate func(uint64) string
	if !*noCounts {
		r, err := unicorn.Run(b.Image, unicorn.Options{PerInstruction: true, Done: ctx.Done()})
		if err != nil {
			return err
		}
		counts := make(map[uint64]uint64, len(b.Image.InstStarts))
		for i, a := range b.Image.InstStarts {
			counts[a] = r.Counts.PerInst[i]
		}
		annotate = func(addr uint64) string {
			if n := counts[addr]; n > 0 {
				return fmt.Sprintf("%12d", n)
			}
			return fmt.Sprintf("%12s", ".")
		}
		fmt.Fprintf(stdout, "; %s, strategy %s: left column = executions in one emulated run (%d instructions)\n",
			b.Params.Workload, b.Strategy, r.Counts.Total)
	} else {
		fmt.Fprintf(stdout, "; %s, strategy %s\n", b.Params.Workload, b.Strategy)
	}
	fmt.Fprint(stdout, b.Linked.Listing(b.Object, "code", annotate))
	return nil
}
