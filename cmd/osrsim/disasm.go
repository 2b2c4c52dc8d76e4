package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/osrsim/osrsim/sim/unicorn"
)

// disasmCommand prints the image's listing, annotated (like perf annotate)
// with how often each instruction ran in an emulated run of the experiment.
func disasmCommand() *cobra.Command {
	var sel selection
	var noCounts bool
	cmd := &cobra.Command{
		Use:   "disasm [CONFIG.yaml]",
		Short: "Print the image's listing with per-instruction execution counts",
		Long: `Build the first cell of the experiment for its first (or only selected)
strategy and print the listing of every function, each instruction annotated
with how often it ran in one emulated run (like perf annotate).`,
		Example: `  osrsim disasm --strategy helper
  osrsim disasm experiments/live-locals.yaml --strategy direct --set live_locals=4 --no-counts`,
		Args:              maxArgs(1),
		ValidArgsFunction: completeInputs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return disasm(cmd.Context(), &sel, args, noCounts, cmd.OutOrStdout())
		},
	}
	sel.register(cmd)
	cmd.Flags().BoolVar(&noCounts, "no-counts", false, "list without running")
	return cmd
}

func disasm(ctx context.Context, sel *selection, args []string, noCounts bool, stdout io.Writer) error {
	b, err := buildOne(sel, args)
	if err != nil {
		return err
	}
	var annotate func(uint64) string
	if !noCounts {
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
