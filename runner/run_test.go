package runner

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/osrsim/osrsim/experiments"
	"github.com/osrsim/osrsim/patchpoint"
	"github.com/osrsim/osrsim/sim"
)

// Native runs execute the code that completed under emulation, at another
// scale: an emulation override of a parameter that shapes the code is
// refused while emulating, before any native run.
func TestNativeScaleMustNotChangeCode(t *testing.T) {
	e := parseConfig(t, `name: scales
engines: [emu, native]
workloads:
  await-loop:
    n: 12000
    awaits: 20
    emulation:
      live_locals: 2
`)
	if _, err := Run(e, Options{Version: "test"}); err == nil || !strings.Contains(err.Error(), "live_locals differs from the built workload in more than its scale (n, awaits)") {
		t.Errorf("Run = %v", err)
	}
}

// cancelExperiment is the default experiment's first cell for one
// strategy on both engines, its native runs far longer than the test waits
// (2·10^9 resumptions through the helper).
func cancelExperiment(t *testing.T) *experiments.Experiment {
	t.Helper()
	e := experiments.Default()
	e.Strategies = []patchpoint.Strategy{patchpoint.Helper}
	e.Engines = []sim.Engine{sim.Emu, sim.Native}
	for k, v := range map[string]string{"n": "2000000000", "awaits": "2000000000", "emulation.awaits": "100",
		"native.samples": "1", "native.launches": "1", "cycle_model": "none"} {
		if err := e.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// Closing Options.Done stops a run, in emulation or in a native child, and
// Run says so with sim.ErrCanceled rather than with a report.
func TestRunStopsWhenDone(t *testing.T) {
	for _, after := range []time.Duration{0, 200 * time.Millisecond, 2 * time.Second} {
		done := make(chan struct{})
		time.AfterFunc(after, func() { close(done) })
		start := time.Now()
		r, err := Run(cancelExperiment(t), Options{Done: done, Workers: 1})
		if !errors.Is(err, sim.ErrCanceled) || r != nil {
			t.Fatalf("closed after %v: report %v, err %v; want sim.ErrCanceled", after, r != nil, err)
		}
		if d := time.Since(start) - after; d > 10*time.Second {
			t.Errorf("closed after %v: stopping took %v", after, d)
		}
	}
}
