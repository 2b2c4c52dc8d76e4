package runner

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"testing"

	"github.com/osrsim/osrsim/continuation"
	"github.com/osrsim/osrsim/jit"
	"github.com/osrsim/osrsim/patchpoint"
	"github.com/osrsim/osrsim/report"
	"github.com/osrsim/osrsim/sim/native"
	"github.com/osrsim/osrsim/sim/unicorn"
	"github.com/osrsim/osrsim/workload"
)

func TestMain(m *testing.M) {
	native.ChildMain()
	os.Exit(m.Run())
}

func build(t *testing.T, p workload.Params, s patchpoint.Strategy) *workload.Built {
	t.Helper()
	b, err := workload.Build(p, s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cases are small instances of every workload with non-default shapes,
// the await-loop ones in both runtime models (the first three: CoreCLR's),
// on windows-x64 (the default platform); then the default await-loop,
// the big one and reentry on linux-x64.
func cases() []workload.Params {
	a := workload.DefaultParams(workload.AwaitLoop)
	a.N, a.Awaits, a.LiveLocals, a.ExtraFrame = 12000, 300, 3, 100
	big := a
	big.LiveLocals, big.ExtraFrame = 14, 1000 // spills past the OSR register pool; looped zeroing
	r := workload.DefaultParams(workload.Reentry)
	r.Calls, r.Iterations = 30, 1500
	out := []workload.Params{workload.DefaultParams(workload.AwaitLoop), a, big, r}
	for _, p := range out[:3] {
		p.Runtime.Model = continuation.Minimal
		out = append(out, p)
	}
	for _, p := range []workload.Params{out[0], out[2], out[3]} {
		p.Patchpoint.Platform = patchpoint.LinuxX64
		out = append(out, p)
	}
	return out
}

// checkEngines checks a built workload in every way both engines allow:
// emulation computes the reference result, keeps RSP 16-byte aligned at
// every call and counts the same in block and exact mode, and a native run
// ends in the same final state. It returns the emulated result.
func checkEngines(t *testing.T, b *workload.Built) *report.Result {
	t.Helper()
	exact, er, err := Emulate(b, unicorn.Options{CheckAlignment: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if er.Counts.MisalignedCalls != 0 || er.Counts.Calls == 0 {
		t.Fatalf("calls %d, misaligned %d at %#x", er.Counts.Calls, er.Counts.MisalignedCalls, er.Counts.MisalignedAt)
	}
	fast, fr, err := Emulate(b, unicorn.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(exact, fast) || !reflect.DeepEqual(er.Counts.ByRegion, fr.Counts.ByRegion) {
		t.Fatalf("block counting differs from exact counting:\nexact %+v\nblock %+v", exact.Instructions, fast.Instructions)
	}
	l, err := native.Load(b.Image)
	if errors.Is(err, native.ErrUnsupported) {
		t.Log(err)
		return fast
	}
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	nr, err := l.Run(native.Options{Samples: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := fr.State.Diff(nr.State); err != nil {
		t.Fatalf("native and emulated final states differ: %v", err)
	}
	return fast
}

func name(p workload.Params, s patchpoint.Strategy) string {
	return fmt.Sprintf("%s/%s/%s/live%d/frame%d/%s", p.Workload, p.Patchpoint.Platform, p.Runtime.Model, p.LiveLocals, p.ExtraFrame, s)
}

// inModels is p in each runtime model on each platform.
func inModels(p workload.Params) []workload.Params {
	var out []workload.Params
	for _, pl := range patchpoint.Platforms {
		for _, m := range continuation.Models {
			p.Runtime.Model, p.Patchpoint.Platform = m, pl
			out = append(out, p)
		}
	}
	return out
}

// Every workload × strategy passes checkEngines.
func TestEveryWorkloadAndStrategy(t *testing.T) {
	for _, p := range cases() {
		for _, s := range patchpoint.Strategies {
			t.Run(name(p, s), func(t *testing.T) {
				b := build(t, p, s)
				checkEngines(t, b)
			})
		}
	}
}

// With CoreCLR's defaults the method gets into OSR exactly once in loop 1,
// at its 10,000th loop-head execution; then each resume enters the OSR
// method through the forced helper (helper) or by jump (the others).
func TestAwaitLoopDefaults(t *testing.T) {
	p := workload.DefaultParams(workload.AwaitLoop)
	p.Awaits = 500
	a := uint64(p.Awaits)
	for _, p := range inModels(p) {
		for _, s := range patchpoint.Strategies {
			t.Run(name(p, s), func(t *testing.T) {
				r, _, err := Emulate(build(t, p, s), unicorn.Options{}, nil)
				if err != nil {
					t.Fatal(err)
				}
				if r.HelperCalls.Patchpoint != 10 {
					t.Errorf("patchpoint helper calls %d, want 10", r.HelperCalls.Patchpoint)
				}
				wantForced, wantJump, wantViaHelper := uint64(0), a, uint64(1)
				if s == patchpoint.Helper {
					wantForced, wantJump, wantViaHelper = a, 0, 1+a
				}
				if r.HelperCalls.PatchpointForced != wantForced || r.OSREntries.ViaJump != wantJump || r.OSREntries.ViaHelper != wantViaHelper {
					t.Errorf("forced %d via jump %d via helper %d; want %d %d %d", r.HelperCalls.PatchpointForced,
						r.OSREntries.ViaJump, r.OSREntries.ViaHelper, wantForced, wantJump, wantViaHelper)
				}
				if got := r.Instructions.BySymbol[jit.SuspendSym(jit.OSRSym("Foo", workload.ILLoop1), 1)]; got == 0 {
					t.Errorf("no suspension ran in the OSR method")
				}
			})
		}
	}
}

// Loop 1 with n iterations executes its head n+1 times. The 10th helper call
// (which publishes OSR code and transitions) happens on the 10,000th: n =
// 9,999 gets into OSR, n = 9,998 never does.
func TestOSRAtIteration10000(t *testing.T) {
	for _, tc := range []struct {
		n       int
		entries uint64
		helpers uint64
	}{{9998, 0, 10}, {9999, 1, 10}} { // n=9998: the 10th call is loop 2's patchpoint
		p := workload.DefaultParams(workload.AwaitLoop)
		p.N, p.Awaits = tc.n, 20
		for _, p := range inModels(p) {
			r, _, err := Emulate(build(t, p, patchpoint.Direct), unicorn.Options{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			tier0Suspends := r.Instructions.BySymbol[jit.SuspendSym(jit.Tier0Sym("Foo"), 1)]
			if r.OSREntries.ViaHelper != tc.entries || r.HelperCalls.Patchpoint != tc.helpers {
				t.Errorf("n=%d: OSR entries %d, helper calls %d; want %d, %d", tc.n, r.OSREntries.ViaHelper, r.HelperCalls.Patchpoint, tc.entries, tc.helpers)
			}
			if (tc.entries == 0) != (tier0Suspends > 0) {
				t.Errorf("n=%d: tier0 suspension instructions %d", tc.n, tier0Suspends)
			}
		}
	}
}

// reentry: once OSR code exists, every call reaches the patchpoint and
// transitions through the helper.
func TestReentryTransitionsEveryCall(t *testing.T) {
	p := workload.DefaultParams(workload.Reentry)
	p.Calls, p.Iterations = 40, 1200
	for _, s := range patchpoint.Strategies {
		r, _, err := Emulate(build(t, p, s), unicorn.Options{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		// Calls 1-9 count hits, call 10 publishes and transitions, 11-40 transition.
		if r.HelperCalls.Patchpoint != 40 || r.OSREntries.ViaHelper != 31 {
			t.Errorf("%s: helper calls %d, OSR entries %d; want 40, 31", s, r.HelperCalls.Patchpoint, r.OSREntries.ViaHelper)
		}
	}
}

// The non-local jump is the plain 2-byte `jmp reg` without REX: the REX form
// is the win-x64 unwinder's epilog marker (dotnet/runtime#127213 review).
func TestNonLocalJumpIsTwoBytesWithoutREX(t *testing.T) {
	for _, s := range []patchpoint.Strategy{patchpoint.Direct, patchpoint.HelperReturn} {
		b := build(t, workload.DefaultParams(workload.AwaitLoop), s)
		code := b.Linked.Bytes["code"]
		start := b.Linked.Symbols[jit.ResumeJmpSym("Foo")] - b.Linked.Bases["code"]
		end := b.Linked.SymbolEnds[jit.ResumeJmpSym("Foo")] - b.Linked.Bases["code"]
		if got := code[start:end]; len(got) != 2 || got[0] != 0xFF || got[1]&0xF8 != 0xE0 {
			t.Errorf("%s: resume jump is % x", s, got)
		}
	}
}

// The OSR entry contract: RBP is tier0's FP; RSP is tier0 SP - 8 with the
// helper strategy (the helper made the slot) and tier0 SP otherwise (the
// prolog pushes it). Checked at every arrival: the patchpoint transition and
// resumptions. After the prolog the body sees the same frame either way.
func TestOSREntryContract(t *testing.T) {
	p := workload.DefaultParams(workload.AwaitLoop)
	p.Awaits = 3
	var bodyDepth []uint64
	for _, p := range inModels(p) {
		for _, s := range patchpoint.Strategies {
			b := build(t, p, s)
			spToFP := uint64(b.Frame.SPToFP())
			osr := jit.OSRSym("Foo", workload.ILLoop1)
			entry := b.Linked.Symbols[osr]
			var prolog uint64
			for _, u := range b.Object.Section("code").Unwind {
				if u.Name == osr {
					prolog = uint64(u.PrologSize)
				}
			}
			im := b.Image
			m, err := unicorn.New(im, unicorn.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			e := m.Engine()
			for _, r := range im.Regions { // Machine.Run would do this; we drive the engine ourselves
				if err := e.MemWrite(r.Base, r.Init); err != nil {
					t.Fatal(err)
				}
			}
			sp := unicorn.HostStackBase + unicorn.HostStackSize - 8
			if err := e.MemWrite(sp, make([]byte, 8)); err != nil {
				t.Fatal(err)
			}
			if err := e.RegWrite(unicorn.RSP, sp); err != nil {
				t.Fatal(err)
			}
			pc := b.Image.Entry
			// Translated blocks can carry a stale stop address (unicorn#2341);
			// flushing them whenever it changes keeps stops exact.
			start := func(from, until uint64) error {
				if err := e.FlushCode(); err != nil {
					return err
				}
				return e.Start(from, until, 0)
			}
			for arrival := 0; arrival < 3; arrival++ { // transition, then two resumptions
				if err := start(pc, entry); err != nil {
					rip, _ := e.RegRead(unicorn.RIP)
					t.Fatalf("%s arrival %d: %v (rip %#x)", s, arrival, err, rip)
				}
				rsp, _ := e.RegRead(unicorn.RSP)
				rbp, _ := e.RegRead(unicorn.RBP)
				want := spToFP
				if !s.OSRPushesSlot() {
					want += 8
				}
				if rbp-rsp != want {
					t.Errorf("%s arrival %d: RBP-RSP = %#x at OSR entry, want %#x", s, arrival, rbp-rsp, want)
				}
				if err := start(entry, entry+prolog); err != nil {
					t.Fatal(err)
				}
				bodyRSP, _ := e.RegRead(unicorn.RSP)
				bodyDepth = append(bodyDepth, rbp-bodyRSP) // tier0 FP - body RSP
				pc = entry + prolog
			}
		}
	}
	for _, d := range bodyDepth[1:] {
		if d != bodyDepth[0] {
			t.Fatalf("OSR body frame depth differs by entry path and strategy: %#x", bodyDepth)
		}
	}
}

// The tier0 patchpoint variants change the sequence's instruction count
// (dec-mem: 2 fewer per loop-head execution) or when it fires (jge: one
// decrement late, so OSR code is entered at iteration 10,010), never the
// result.
func TestTier0PatchpointVariants(t *testing.T) {
	p := workload.DefaultParams(workload.AwaitLoop)
	p.Awaits = 50
	base, _, err := Emulate(build(t, p, patchpoint.Direct), unicorn.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Tier0Variant = jit.Tier0DecMem
	dm, _, err := Emulate(build(t, p, patchpoint.Direct), unicorn.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Loop 1's head runs 10,000 times in tier0 before OSR; resumptions
	// jump straight into OSR code and execute no tier0 patchpoint.
	if d := base.Instructions.Setup - dm.Instructions.Setup; d != 2*10000 || dm.Instructions.PerResume != base.Instructions.PerResume {
		t.Errorf("dec-mem saves %d setup instructions, want 20,000 (2 per tier0 loop-head execution)", d)
	}
	p.Tier0Variant = jit.Tier0JGE
	jge, _, err := Emulate(build(t, p, patchpoint.Direct), unicorn.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if jge.Instructions.Setup <= base.Instructions.Setup || jge.Instructions.PerResume != base.Instructions.PerResume {
		t.Errorf("jge: setup %d (base %d), per resume %v (base %v)", jge.Instructions.Setup, base.Instructions.Setup,
			jge.Instructions.PerResume, base.Instructions.PerResume)
	}
}
