// Package runner runs experiment cells on the engines and turns engine
// results into report results: region and helper-step breakdowns, event
// counts, verification against the Go reference computation.
package runner

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/osrsim/osrsim/continuation"
	"github.com/osrsim/osrsim/cycles"
	"github.com/osrsim/osrsim/cycles/emu"
	"github.com/osrsim/osrsim/experiments"
	"github.com/osrsim/osrsim/patchpoint"
	"github.com/osrsim/osrsim/region"
	"github.com/osrsim/osrsim/report"
	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/unicorn"
	"github.com/osrsim/osrsim/workload"
)

// RegionOther is the by_region key of code that no symbol assigns a
// region: reports list it so that regions add up to the total.
const RegionOther = "other"

// Breakdown describes the regions and steps of an image's counts for
// reports: every region with the steps the image declares for it, in
// declaration order, then RegionOther.
func Breakdown(im *sim.Image) []report.Part {
	var parts []report.Part
	for _, info := range region.All {
		p := report.Part{Name: string(info.Region), Doc: info.Doc}
		for _, s := range im.Steps {
			if s.Region == info.Region {
				p.Steps = append(p.Steps, report.Part{Name: s.Name, Doc: s.Doc})
			}
		}
		parts = append(parts, p)
	}
	return append(parts, report.Part{Name: RegionOther, Doc: "code outside every region"})
}

// Emulate runs a built workload under Unicorn, with the cycle model m
// unless it is nil, and checks it against the Go reference: final
// s_value, suspensions and resumptions.
//
// Per-op figures and breakdowns of the templates count what the operations
// add: the run minus the same run without operations (Params.Setup),
// emulated too. A C# workload with a stopwatch counts its measured region:
// what a run cut at the stop mark adds over a run cut at the start mark;
// without one, its whole run.
func Emulate(b *workload.Built, opt unicorn.Options, m *cycles.Model) (*report.Result, *unicorn.Result, error) {
	return emulate(b, opt, m, nil)
}

// emulate is Emulate taking a template's setup run from setups when a cell
// before had the same setup run.
func emulate(b *workload.Built, opt unicorn.Options, m *cycles.Model, setups *setupCache) (*report.Result, *unicorn.Result, error) {
	r, cc, err := emu.Run(b.Image, opt, m, false)
	if err != nil {
		return nil, r, fmt.Errorf("%s/%s: %w", b.Params.Workload, b.Strategy, err)
	}
	res := FromCounts(b, r)
	res.CyclesEst = cyclesOf(cc, b.Expect.Ops)
	if err := Verify(b, res); err != nil {
		return res, r, err
	}
	if b.Expect.Err != nil {
		return res, r, nil // the program stopped with its run-time error: no figures
	}
	var setup *setupCounts
	switch {
	case b.Expect.Stopwatch:
		setup, err = outsideRegion(b, res, opt, m)
	case b.Params.Source != nil:
		setup = &setupCounts{ins: &report.Instructions{}}
		if res.CyclesEst != nil {
			setup.cycles = &report.Cycles{}
		}
	default:
		setup, err = setups.get(b, func() (*setupCounts, error) { return emulateSetup(b, opt, m) })
	}
	if err != nil {
		return nil, r, err
	}
	subtract(res.Instructions, setup.ins, b.Expect.Ops)
	if res.CyclesEst != nil && setup.cycles != nil && b.Expect.Ops > 0 {
		res.CyclesEst.Setup = setup.cycles.Total
		res.CyclesEst.PerResume = float64(res.CyclesEst.Total-setup.cycles.Total) / float64(b.Expect.Ops)
	}
	return res, r, nil
}

// setupCounts are what a run's figures subtract: its setup run's counts,
// or what it executes outside its stopwatch region.
type setupCounts struct {
	ins    *report.Instructions
	cycles *report.Cycles
}

// emulateSetup emulates a template's setup run: b's image with the
// operation counts set to zero in its data.
func emulateSetup(b *workload.Built, opt unicorn.Options, m *cycles.Model) (*setupCounts, error) {
	res, err := emulateVariant(b, b.Params.Setup(), opt, m, true)
	if err != nil {
		return nil, err
	}
	return &setupCounts{ins: res.Instructions, cycles: res.CyclesEst}, nil
}

// emulateVariant emulates b's workload at another scale (its setup run, a
// cut run: workload.Built.AtScale); verify checks it against its own
// reference.
func emulateVariant(b *workload.Built, p workload.Params, opt unicorn.Options, m *cycles.Model, verify bool) (*report.Result, error) {
	vb, err := b.AtScale(p)
	if err != nil {
		return nil, err
	}
	vr, cc, err := emu.Run(vb.Image, opt, m, false)
	if err != nil {
		return nil, fmt.Errorf("%s/%s %s run: %w", b.Params.Workload, b.Strategy, variantName(p), err)
	}
	res := FromCounts(vb, vr)
	res.CyclesEst = cyclesOf(cc, vb.Expect.Ops)
	if verify {
		if err := Verify(vb, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func variantName(p workload.Params) string {
	switch p.Cut {
	case continuation.CutStart:
		return "cut-at-start"
	case continuation.CutStop:
		return "cut-at-stop"
	}
	return "setup"
}

// outsideRegion is what the full run executes outside the stopwatch
// region: full - (cut at stop - cut at start).
func outsideRegion(b *workload.Built, full *report.Result, opt unicorn.Options, m *cycles.Model) (*setupCounts, error) {
	var cuts [2]*report.Result
	for i, cut := range []int{continuation.CutStart, continuation.CutStop} {
		p := b.Params
		p.Cut = cut
		r, err := emulateVariant(b, p, opt, m, false)
		if err != nil {
			return nil, err
		}
		cuts[i] = r
	}
	start, stop := cuts[0].Instructions, cuts[1].Instructions
	out := &report.Instructions{Total: full.Instructions.Total - (stop.Total - start.Total),
		ByRegion: map[string]uint64{}, ByStep: map[string]uint64{}, BySymbol: map[string]uint64{}}
	for _, m := range []struct{ out, full, start, stop map[string]uint64 }{
		{out.ByRegion, full.Instructions.ByRegion, start.ByRegion, stop.ByRegion},
		{out.ByStep, full.Instructions.ByStep, start.ByStep, stop.ByStep},
		{out.BySymbol, full.Instructions.BySymbol, start.BySymbol, stop.BySymbol},
	} {
		for k, v := range m.full {
			m.out[k] = v - (m.stop[k] - m.start[k])
		}
	}
	setup := &setupCounts{ins: out}
	if c := full.CyclesEst; c != nil {
		setup.cycles = &report.Cycles{Total: c.Total - (cuts[1].CyclesEst.Total - cuts[0].CyclesEst.Total)}
	}
	return setup, nil
}

// setupCacheSize is how many setup runs a run remembers: enough for the
// cells of a sweep over operation counts to share theirs, bounded so that
// memory does not grow with the number of cells.
const setupCacheSize = 64

// setupCache holds the counts of recent setup runs. Cells whose parameters
// differ only in their operation counts (a sweep over awaits) have the
// same setup run, which is emulated once. Its methods are safe for
// concurrent use; a nil cache remembers nothing.
type setupCache struct {
	mu      sync.Mutex
	entries []*setupEntry // oldest first
}

type setupEntry struct {
	params   workload.Params // the setup run's
	strategy patchpoint.Strategy
	ready    chan struct{} // closed when counts or err is set
	counts   *setupCounts
	err      error
}

func newSetupCache() *setupCache { return &setupCache{} }

// get returns the counts of b's setup run, from the cache or from run.
func (c *setupCache) get(b *workload.Built, run func() (*setupCounts, error)) (*setupCounts, error) {
	if c == nil {
		return run()
	}
	key := b.Params.Setup()
	c.mu.Lock()
	for _, e := range c.entries {
		if e.strategy == b.Strategy && reflect.DeepEqual(e.params, key) {
			c.mu.Unlock()
			<-e.ready
			return e.counts, e.err
		}
	}
	e := &setupEntry{params: key, strategy: b.Strategy, ready: make(chan struct{})}
	if len(c.entries) == setupCacheSize {
		c.entries = c.entries[1:]
	}
	c.entries = append(c.entries, e)
	c.mu.Unlock()
	e.counts, e.err = run()
	close(e.ready)
	return e.counts, e.err
}

// subtract leaves in ins what the operations add over the setup run.
func subtract(ins, setup *report.Instructions, ops uint64) {
	ins.Setup = setup.Total
	for _, m := range []struct{ a, b map[string]uint64 }{{ins.ByRegion, setup.ByRegion}, {ins.ByStep, setup.ByStep}, {ins.BySymbol, setup.BySymbol}} {
		for k, v := range m.b {
			if m.a[k] < v {
				panic(fmt.Sprintf("BUG: %s: the setup run executes more (%d) than the full run (%d)", k, v, m.a[k]))
			}
			m.a[k] -= v
			if m.a[k] == 0 {
				delete(m.a, k)
			}
		}
	}
	if ops > 0 {
		ins.PerResume = float64(ins.Total-ins.Setup) / float64(ops)
	}
}

// FromCounts builds a report result from an emulated run.
func FromCounts(b *workload.Built, r *unicorn.Result) *report.Result {
	c := r.Counts
	ops := b.Expect.Ops
	per := func(n uint64) float64 {
		if ops == 0 {
			return 0
		}
		return float64(n) / float64(ops)
	}
	ins := &report.Instructions{Total: c.Total, PerResume: per(c.Total), BySymbol: map[string]uint64{}}
	for _, s := range b.Image.Symbols {
		if n := c.ByRegion[s.Name]; n > 0 {
			ins.BySymbol[s.Name] = n
		}
	}
	ins.ByRegion = attribute(b.Image.Symbols, c.ByRegion, func(m region.Meta) string { return string(m.Region) })
	ins.ByStep = attribute(b.Image.Symbols, c.ByRegion, func(m region.Meta) string { return m.Step })
	attributed := uint64(0)
	for _, n := range ins.ByRegion {
		attributed += n
	}
	if attributed < c.Total {
		ins.ByRegion[RegionOther] = c.Total - attributed
	}

	ev := func(prefix string) uint64 {
		var n uint64
		for k, v := range c.Events {
			if k == prefix || strings.HasPrefix(k, prefix+".") {
				n += v
			}
		}
		return n
	}
	osrEntries, jumps := ev(workload.EvOSREntry), ev(workload.EvResumeJump)
	return &report.Result{
		Workload: b.Params.Workload, Strategy: b.Strategy.String(), Engine: sim.Emu,
		Params: experiments.Flatten(b.Params), Ops: ops, Instructions: ins,
		HelperCalls: &report.HelperCalls{Patchpoint: ev(workload.EvHelper), PatchpointForced: ev(workload.EvForced)},
		OSREntries:  &report.OSREntries{ViaHelper: osrEntries - jumps, ViaJump: jumps},
		Suspensions: ev(workload.EvSuspend), Resumptions: ev(workload.EvResume),
		FinalState: finalState(r.State),
	}
}

// attribute splits inclusive per-symbol counts by a key the symbols' Meta
// gives (region or step): each instruction counts for the key of the
// innermost symbol around it that has one. Symbols nest (ranges inside
// their function), so a keyed symbol's own count is its inclusive count
// minus that of the keyed symbols directly inside it (uint64 arithmetic
// wraps, so the order of the symbols does not matter). Keys with no
// instructions are left out.
func attribute(syms []sim.Symbol, inclusive map[string]uint64, key func(region.Meta) string) map[string]uint64 {
	var keyed []sim.Symbol
	for _, s := range syms {
		if key(s.Meta) != "" {
			keyed = append(keyed, s)
		}
	}
	own := map[string]uint64{}
	for i, s := range keyed {
		own[key(s.Meta)] += inclusive[s.Name]
		if p := enclosing(keyed, i); p >= 0 {
			own[key(keyed[p].Meta)] -= inclusive[s.Name]
		}
	}
	for k, n := range own {
		if n == 0 {
			delete(own, k)
		}
	}
	return own
}

// enclosing is the index of the smallest symbol of syms that contains
// syms[i] (of two with the same extent, the one listed first contains the
// other), or -1.
func enclosing(syms []sim.Symbol, i int) int {
	s, best := syms[i], -1
	size := func(s sim.Symbol) uint64 { return s.End - s.Start }
	for j, o := range syms {
		if j == i || o.Start > s.Start || o.End < s.End || (size(o) == size(s) && j > i) {
			continue
		}
		if best < 0 || size(o) < size(syms[best]) || (size(o) == size(syms[best]) && j > best) {
			best = j
		}
	}
	return best
}

// cyclesOf is the report's view of a run's cycle estimate (nil: none).
func cyclesOf(cc *cycles.Counts, ops uint64) *report.Cycles {
	if cc == nil {
		return nil
	}
	total := uint64(math.Round(cc.Estimated))
	perResume := 0.0
	if ops > 0 {
		perResume = float64(total) / float64(ops)
	}
	return &report.Cycles{Total: total, PerResume: perResume, Model: cc.Model,
		Mispredicts: report.Mispredicts{Branch: cc.BranchMispredicts, Indirect: cc.IndirectMispredicts, Return: cc.ReturnMispredicts}}
}

// Verify checks a result against the workload's Go reference computation.
func Verify(b *workload.Built, res *report.Result) error { return verify(b.Expect, res) }

func verify(want workload.Expected, res *report.Result) error {
	var errs []string
	got := workload.DecodeError(res.FinalState.Ret)
	switch {
	case want.Err != nil && (got == nil || got.Kind != want.Err.Kind || got.Pos != want.Err.Pos):
		errs = append(errs, fmt.Sprintf("return value %#x, want the run-time error %v at %v", res.FinalState.Ret, want.Err.Kind, want.Err.Pos))
	case want.Err == nil && got != nil:
		errs = append(errs, fmt.Sprintf("run-time error %v at %v, want none", got.Kind, got.Pos))
	case want.Err != nil:
	case res.FinalState.SValue != want.SValue:
		errs = append(errs, fmt.Sprintf("s_value %d, want %d", res.FinalState.SValue, want.SValue))
	case uint32(res.FinalState.Ret>>32) != want.Hash:
		errs = append(errs, fmt.Sprintf("statics hash %#x, want %#x", uint32(res.FinalState.Ret>>32), want.Hash))
	}
	if res.Engine == sim.Emu {
		if res.Suspensions != want.Suspensions {
			errs = append(errs, fmt.Sprintf("suspensions %d, want %d", res.Suspensions, want.Suspensions))
		}
		if res.Resumptions != want.Resumptions {
			errs = append(errs, fmt.Sprintf("resumptions %d, want %d", res.Resumptions, want.Resumptions))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s/%s/%s: model does not match the reference: %s", res.Workload, res.Strategy, res.Engine, strings.Join(errs, "; "))
	}
	return nil
}

// finalState condenses an engine's final state: s_value is the return
// value; the checksum covers every compared region.
func finalState(s sim.State) report.FinalState {
	names := make([]string, 0, len(s.Checksums))
	for k := range s.Checksums {
		names = append(names, k)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, k := range names {
		fmt.Fprintf(h, "%s=%s\n", k, s.Checksums[k])
	}
	return report.FinalState{SValue: uint32(s.Ret), Ret: s.Ret, Checksum: hex.EncodeToString(h.Sum(nil))[:32]}
}
