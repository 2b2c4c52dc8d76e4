package runner

import (
	"reflect"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/osrsim/osrsim/patchpoint"
	"github.com/osrsim/osrsim/sim/unicorn"
	"github.com/osrsim/osrsim/workload"
)

// Cells with the same setup run share it: it runs once, however many ask
// at the same time; another strategy or shape has its own.
func TestSetupCacheRunsOnce(t *testing.T) {
	c := newSetupCache()
	p := workload.DefaultParams(workload.AwaitLoop)
	built := func(awaits, frame int, s patchpoint.Strategy) *workload.Built {
		q := p
		q.Awaits, q.ExtraFrame = awaits, frame
		return &workload.Built{Params: q, Strategy: s}
	}
	var runs atomic.Int32
	run := func() (*setupCounts, error) { runs.Add(1); return &setupCounts{}, nil }
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.get(built(10*(i+1), 0, patchpoint.Direct), run); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := runs.Load(); n != 1 {
		t.Errorf("8 cells differing in awaits ran the setup %d times, want once", n)
	}
	c.get(built(10, 0, patchpoint.Helper), run)
	c.get(built(10, 64, patchpoint.Direct), run)
	if n := runs.Load(); n != 3 {
		t.Errorf("another strategy and another frame: %d setup runs in all, want 3", n)
	}
	for k := range setupCacheSize {
		c.get(built(10, 128+k, patchpoint.Direct), run)
	}
	runs.Store(0)
	c.get(built(10, 0, patchpoint.Direct), run)
	if runs.Load() != 1 {
		t.Errorf("the cache kept its oldest entry past %d others", setupCacheSize)
	}
	var nilCache *setupCache
	nilCache.get(built(10, 0, patchpoint.Direct), run)
	nilCache.get(built(10, 0, patchpoint.Direct), run)
	if runs.Load() != 3 {
		t.Errorf("a nil cache remembered a setup run")
	}
}

// A sweep over awaits (one shared setup run per strategy) reports what
// emulating each cell on its own does.
func TestSweepSharingSetupsMatchesEmulate(t *testing.T) {
	e := parseConfig(t, `name: awaits
strategies: [helper, direct]
workloads:
  await-loop:
    n: 12000
sweeps:
  awaits: [10, 30, 50]
`)
	r, err := Run(e, Options{Version: "test", Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	for k, c := range e.Cells() {
		for _, s := range e.Strategies {
			b, err := workload.Build(c.Emu, s)
			if err != nil {
				t.Fatal(err)
			}
			want, _, err := Emulate(b, unicorn.Options{MaxInstructions: e.Emulation.MaxInstructions, Timeout: e.Emulation.Timeout}, nil)
			if err != nil {
				t.Fatal(err)
			}
			want.Cell = k
			if got := r.Results[i]; !reflect.DeepEqual(got.Instructions, want.Instructions) || got.Cell != k || got.Strategy != s.String() {
				t.Errorf("result %d (%s, cell %d): %+v, want %+v", i, got.Strategy, got.Cell, got.Instructions, want.Instructions)
			}
			i++
		}
	}
}
