package workload

import (
	"bytes"
	"strings"
	"testing"

	"github.com/osrsim/osrsim/emitter"
	"github.com/osrsim/osrsim/patchpoint"
	"github.com/osrsim/osrsim/region"
)

func TestExpect(t *testing.T) {
	p := DefaultParams(AwaitLoop)
	p.N, p.Awaits, p.LiveLocals = 100000, 10, 2
	e, _ := p.Expect()
	// sum 0..99999 = 4,999,950,000 wraps to 705,032,704 as a C# int; each
	// live local adds (k+1) + sum 0..9.
	if want := uint32(4999950000%(1<<32)) + (1 + 45) + (2 + 45); e.SValue != want || e.Ops != 10 {
		t.Fatalf("expect %+v, want s_value %d", e, want)
	}
	r := DefaultParams(Reentry)
	r.Calls, r.Iterations = 3, 4
	if e, _ := r.Expect(); e.SValue != 18 || e.Ops != 3 {
		t.Fatalf("reentry expect %+v", e)
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		mut  func(*Params)
		want string
	}{
		{func(p *Params) { p.Awaits = -1 }, "awaits"},
		{func(p *Params) { p.Patchpoint.HitLimit = 0 }, "hit_limit"},
		{func(p *Params) { p.LiveLocals = 65 }, "live_locals"},
		{func(p *Params) { p.Workload = "spin" }, "unknown workload"},
	} {
		p := DefaultParams(AwaitLoop)
		c.mut(&p)
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want %q, got %v", c.want, err)
		}
	}
}

// Images are deterministic, and scale lives in data only: code bytes don't
// depend on n or awaits.
func TestBuildDeterministicAndScaleFree(t *testing.T) {
	for _, s := range patchpoint.Strategies {
		p := DefaultParams(AwaitLoop)
		a, err := Build(p, s)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Build(p, s)
		p.N, p.Awaits = 10_000_000, 1_000_000
		c, _ := Build(p, s)
		code := func(x *Built) []byte { return x.Image.Region("code").Init }
		data := func(x *Built) []byte { return x.Image.Region("data").Init }
		if !bytes.Equal(code(a), code(b)) || !bytes.Equal(data(a), data(b)) {
			t.Errorf("%s: two builds differ", s)
		}
		if !bytes.Equal(code(a), code(c)) || bytes.Equal(data(a), data(c)) {
			t.Errorf("%s: scale should change data only", s)
		}
	}
}

// Every function says which region it belongs to, the code-range table
// flags the managed ones, and the counting events are found from what the
// generators said, not from symbol names: one OSR entry per OSR method, one
// suspension event per suspension point.
func TestSymbolsCarryTheirRegion(t *testing.T) {
	for _, s := range patchpoint.Strategies {
		for _, w := range []string{AwaitLoop, Reentry} {
			b, err := Build(DefaultParams(w), s)
			if err != nil {
				t.Fatal(err)
			}
			sec := b.Object.Section(secCode)
			count := map[region.Region]int{}
			for _, sym := range sec.Symbols {
				if sym.Kind == emitter.SymFunc {
					if sym.Region == region.None {
						t.Errorf("%s/%s: function %s has no region", w, s, sym.Name)
					}
					count[sym.Region]++
				}
			}
			for _, f := range functions(sec) {
				if want := sym(sec, f.Name).Region.Managed(); f.Managed != want {
					t.Errorf("%s/%s: %s managed %v, want %v", w, s, f.Name, f.Managed, want)
				}
			}
			events := map[string]int{}
			for _, e := range b.Image.Events {
				events[strings.SplitN(e.Name, ".", 2)[0]]++
			}
			suspends := 0
			if w == AwaitLoop {
				suspends = 1 + count[region.OSR] // tier0 and every OSR method suspend once
			}
			if events[EvOSREntry] != count[region.OSR] || events[EvSuspend] != suspends || events[EvHelper] != 1 {
				t.Errorf("%s/%s: events %v for %d OSR methods", w, s, events, count[region.OSR])
			}
		}
	}
}

func sym(sec *emitter.Section, name string) emitter.Symbol {
	for _, s := range sec.Symbols {
		if s.Name == name {
			return s
		}
	}
	return emitter.Symbol{}
}
