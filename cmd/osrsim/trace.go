package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/osrsim/osrsim/experiments"
	"github.com/osrsim/osrsim/internal/atomicfile"
	"github.com/osrsim/osrsim/sim/unicorn"
	"github.com/osrsim/osrsim/trace"
	"github.com/osrsim/osrsim/workload"
)

// traceAwaits is the emulated await count trace uses unless --set chooses
// one: a trace is for looking at a few resumptions, not millions.
const traceAwaits = 10

// traceFlags are the flags of osrsim trace.
type traceFlags struct {
	sel   selection
	out   string
	limit int
}

func traceCommand() *cobra.Command {
	var f traceFlags
	cmd := &cobra.Command{
		Use:   "trace [CONFIG.yaml] --out FILE",
		Short: "Write a Chrome trace (ui.perfetto.dev) of an emulated run",
		Long: fmt.Sprintf(`Run the first cell of the experiment for its first (or only selected)
strategy under the emulator with a timeline and write it as Chrome trace JSON
(open in ui.perfetto.dev; one trace microsecond is one instruction) and as
JSON lines next to it. Helper steps are slices, helper calls, transitions
and resumptions instant events. Unless --set chooses, awaits is cut to %d.`, traceAwaits),
		Example: `  osrsim trace --strategy helper --out helper.json
  osrsim trace --strategy direct --set emulation.awaits=3 --out direct.json`,
		Args:              maxArgs(1),
		ValidArgsFunction: completeInputs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.run(cmd.Context(), args, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f.sel.register(cmd)
	fs := cmd.Flags()
	fs.StringVarP(&f.out, "out", "o", "", "write Chrome trace JSON to `FILE` (required); JSON lines go next to it (.jsonl)")
	fs.IntVar(&f.limit, "max-records", 1_000_000, "keep at most `N` timeline records")
	cmd.MarkFlagRequired("out")
	cmd.MarkFlagFilename("out", "json")
	return cmd
}

func (f *traceFlags) run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if f.limit <= 0 {
		return badf("--max-records must be positive, got %d", f.limit)
	}
	if err := checkWritableDir(filepath.Dir(f.out)); err != nil {
		return err
	}
	e, err := oneExperiment(&f.sel, args)
	if err != nil {
		return err
	}
	if !setsAny(f.sel.sets, "awaits", "emulation.awaits") {
		if err := limitAwaits(e); err != nil {
			return err
		}
	}
	b, err := buildFirst(e)
	if err != nil {
		return err
	}
	r, err := unicorn.Run(b.Image, unicorn.Options{Trace: f.limit, MaxInstructions: e.Emulation.MaxInstructions, Timeout: e.Emulation.Timeout, Done: ctx.Done()})
	if err != nil {
		return err
	}
	events := map[uint64]string{}
	for _, ev := range b.Image.Events {
		events[ev.Addr] = ev.Name
	}
	run := trace.Run{Name: fmt.Sprintf("%s/%s", b.Params.Workload, b.Strategy), Records: r.Trace, End: r.Counts.Total, Events: events, Symbols: b.Image.Symbols,
		Meta: map[string]interface{}{"workload": b.Params.Workload, "strategy": b.Strategy.String(), "params": experiments.Flatten(b.Params),
			"time_unit": "1 trace microsecond = 1 executed instruction", "dropped_records": r.TraceDropped}}
	var chrome, lines bytes.Buffer
	if err := trace.Chrome(&chrome, run); err != nil {
		return err
	}
	if err := trace.JSONLines(&lines, run); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	jsonl := strings.TrimSuffix(f.out, filepath.Ext(f.out)) + ".jsonl"
	if err := os.MkdirAll(filepath.Dir(f.out), 0o755); err != nil {
		return err
	}
	if err := atomicfile.Write(f.out, chrome.Bytes()); err != nil {
		return err
	}
	if err := atomicfile.Write(jsonl, lines.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d records over %d instructions (awaits=%d); wrote %s (open in ui.perfetto.dev) and %s\n",
		run.Name, len(r.Trace), r.Counts.Total, b.Params.Awaits, f.out, jsonl)
	if r.TraceDropped > 0 {
		fmt.Fprintf(stderr, "osrsim: %d records did not fit; raise --max-records\n", r.TraceDropped)
	}
	return nil
}

func setsAny(sets []string, keys ...string) bool {
	for _, kv := range sets {
		k, _, _ := strings.Cut(kv, "=")
		for _, key := range keys {
			if strings.TrimSpace(k) == key {
				return true
			}
		}
	}
	return false
}

func limitAwaits(e *experiments.Experiment) error {
	for _, w := range e.Workloads {
		if w.Kind == workload.AwaitLoop && w.Emu.Awaits > traceAwaits {
			return e.Set("emulation.awaits", fmt.Sprint(traceAwaits))
		}
	}
	return nil
}
