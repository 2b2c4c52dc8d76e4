// Package runner runs experiment cells on the engines and turns engine
// results into report results: region and helper-step breakdowns, event
// counts, verification against the Go reference computation.
package runner

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/osrsim/osrsim/cycles"
	"github.com/osrsim/osrsim/cycles/emu"
	"github.com/osrsim/osrsim/emitter"
	"github.com/osrsim/osrsim/experiments"
	"github.com/osrsim/osrsim/patchpoint"
	"github.com/osrsim/osrsim/report"
	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/unicorn"
	"github.com/osrsim/osrsim/workload"
)

// Regions of the per-resume breakdown.
const (
	RegionTier0   = "tier0"
	RegionOSR     = "osr"
	RegionHelper  = "helper"
	RegionRuntime = "runtime"
	RegionOther   = "other"
)

// RegionOf classifies a function symbol.
func RegionOf(fn string) string {
	switch {
	case strings.HasSuffix(fn, ".tier0"):
		return RegionTier0
	case strings.Contains(fn, ".osr@"):
		return RegionOSR
	case strings.HasPrefix(fn, "patchpoint."):
		return RegionHelper
	case strings.HasPrefix(fn, "runtime."):
		return RegionRuntime
	}
	return RegionOther
}

// helperSteps maps a helper step to the symbols (functions or named
// sub-ranges) whose instructions it counts. The worker's own step is what
// remains of it outside its named sub-ranges.
var helperSteps = []struct {
	step string
	syms []string
}{
	{"stub", []string{patchpoint.SymHelper, patchpoint.SymForced}},
	{"counter", []string{patchpoint.StepCounter}},
	{"code_lookup", []string{patchpoint.SymLookupCode}},
	{"pp_lookup", []string{patchpoint.SymPPLookup}},
	{"trigger", []string{patchpoint.StepTrigger, patchpoint.SymJITCompile}},
	{"capture", []string{patchpoint.SymCapture}},
	{"unwind", []string{patchpoint.StepUnwind, patchpoint.SymVirtualUnwind}},
	{"osr_context", []string{patchpoint.StepSetup}},
	{"restore", []string{patchpoint.SymRestore}},
}

// Emulate runs a built workload under Unicorn, with the cycle model m
// unless it is nil, and checks it against the Go reference: final
// s_value, suspensions and resumptions.
//
// Per-op figures and breakdowns count what the operations add: the run
// minus the same run without operations (Params.Setup), emulated too.
func Emulate(b *workload.Built, opt unicorn.Options, m *cycles.Model) (*report.Result, *unicorn.Result, error) {
	r, cc, err := emu.Run(b.Image, opt, m, false)
	if err != nil {
		return nil, r, fmt.Errorf("%s/%s: %w", b.Params.Workload, b.Strategy, err)
	}
	res := FromCounts(b, r)
	res.CyclesEst = cyclesOf(cc, b.Expect.Ops)
	if err := Verify(b, res); err != nil {
		return res, r, err
	}
	sb, err := workload.Build(b.Params.Setup(), b.Strategy)
	if err != nil {
		return nil, r, err
	}
	sr, scc, err := emu.Run(sb.Image, opt, m, false)
	if err != nil {
		return nil, r, fmt.Errorf("%s/%s setup run: %w", b.Params.Workload, b.Strategy, err)
	}
	setup := FromCounts(sb, sr)
	setup.CyclesEst = cyclesOf(scc, sb.Expect.Ops)
	if err := Verify(sb, setup); err != nil {
		return nil, r, err
	}
	subtract(res.Instructions, setup.Instructions, b.Expect.Ops)
	if res.CyclesEst != nil && setup.CyclesEst != nil && b.Expect.Ops > 0 {
		res.CyclesEst.Setup = setup.CyclesEst.Total
		res.CyclesEst.PerResume = float64(res.CyclesEst.Total-setup.CyclesEst.Total) / float64(b.Expect.Ops)
	}
	return res, r, nil
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
	ins := &report.Instructions{Total: c.Total, PerResume: per(c.Total),
		ByRegion: map[string]uint64{}, ByStep: map[string]uint64{}, BySymbol: map[string]uint64{}}
	for _, s := range b.Object.Section("code").Symbols {
		n := c.ByRegion[s.Name]
		if n == 0 {
			continue
		}
		ins.BySymbol[s.Name] = n
		if s.Kind == emitter.SymFunc {
			ins.ByRegion[RegionOf(s.Name)] += n
		}
	}
	if n := c.ByRegion[unicorn.OtherRegion]; n > 0 {
		ins.ByRegion[RegionOther] += n
	}
	stepped := uint64(0)
	for _, st := range helperSteps {
		for _, s := range st.syms {
			ins.ByStep[st.step] += c.ByRegion[s]
			stepped += c.ByRegion[s]
		}
	}
	ins.ByStep["worker"] = ins.ByRegion[RegionHelper] - stepped
	for k, v := range ins.ByStep {
		if v == 0 {
			delete(ins.ByStep, k)
		}
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
		Workload: b.Params.Workload, Strategy: b.Strategy.String(), Engine: "emu",
		Params: experiments.Flatten(b.Params), Ops: ops, Instructions: ins,
		HelperCalls: &report.HelperCalls{Patchpoint: ev(workload.EvHelper), PatchpointForced: ev(workload.EvForced)},
		OSREntries:  &report.OSREntries{ViaHelper: osrEntries - jumps, ViaJump: jumps},
		Suspensions: ev(workload.EvSuspend), Resumptions: ev(workload.EvResume),
		FinalState: finalState(r.State),
	}
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
func Verify(b *workload.Built, res *report.Result) error {
	want := b.Expect
	var errs []string
	if res.FinalState.SValue != want.SValue {
		errs = append(errs, fmt.Sprintf("s_value %d, want %d", res.FinalState.SValue, want.SValue))
	}
	if res.Engine == "emu" {
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
