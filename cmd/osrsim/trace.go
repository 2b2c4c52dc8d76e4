package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/osrsim/osrsim/experiments"
	"github.com/osrsim/osrsim/internal/atomicfile"
	"github.com/osrsim/osrsim/sim/unicorn"
	"github.com/osrsim/osrsim/trace"
	"github.com/osrsim/osrsim/workload"
)

// traceAwaits is the emulated await count trace uses unless --set chooses
// one: a trace is for looking at a few resumptions, not millions.
const traceAwaits = 10

func cmdTrace(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("trace", flag.ContinueOnError)
	var sel selection
	sel.register(fs)
	out := fs.String("out", "", "Chrome trace JSON file (required); JSON lines go next to it (.jsonl)")
	limit := fs.Int("max-records", 1_000_000, "timeline records to keep")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *out == "" {
		return badf("trace: --out FILE is required")
	}
	if *limit <= 0 {
		return badf("--max-records must be positive, got %d", *limit)
	}
	if err := checkWritableDir(filepath.Dir(*out)); err != nil {
		return err
	}
	e, err := oneExperiment(&sel, pos)
	if err != nil {
		return err
	}
	if !setsAny(sel.sets, "awaits", "emulation.awaits") {
		if err := limitAwaits(e); err != nil {
			return err
		}
	}
	b, err := buildFirst(e)
	if err != nil {
		return err
	}
	r, err := unicorn.Run(b.Image, unicorn.Options{Trace: *limit, MaxInstructions: e.Emulation.MaxInstructions, Timeout: e.Emulation.Timeout, Done: ctx.Done()})
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
	jsonl := strings.TrimSuffix(*out, filepath.Ext(*out)) + ".jsonl"
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}
	if err := atomicfile.Write(*out, chrome.Bytes()); err != nil {
		return err
	}
	if err := atomicfile.Write(jsonl, lines.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d records over %d instructions (awaits=%d); wrote %s (open in ui.perfetto.dev) and %s\n",
		run.Name, len(r.Trace), r.Counts.Total, b.Params.Awaits, *out, jsonl)
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
