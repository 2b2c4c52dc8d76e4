package workload

import (
	"bytes"
	"errors"
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
		mut   func(*Params)
		param string // the *ParamError's parameter; "" for another error
		want  string
	}{
		{func(p *Params) { p.Awaits = -1 }, "awaits", "awaits: must not be negative, got -1"},
		{func(p *Params) { p.Patchpoint.HitLimit = 0 }, "patchpoint.hit_limit", "must be positive, got 0"},
		{func(p *Params) { p.Patchpoint.JITMethods = 1<<17 + 1 }, "patchpoint.jit_methods", "must be at most 131072"},
		{func(p *Params) { p.Patchpoint.NativeFunctions = 0 }, "patchpoint.native_functions", "must be positive, got 0"},
		{func(p *Params) { p.LiveLocals = 65 }, "live_locals", "live_locals: must be at most 64, got 65"},
		{func(p *Params) { p.N = 1 << 31 }, "n", "must be at most 2147483647"},
		{func(p *Params) { p.Workload = "spin" }, "", "unknown workload"},
		{func(p *Params) { p.Tier0Variant = 9 }, "", "unknown tier0 patchpoint variant"},
	} {
		p := DefaultParams(AwaitLoop)
		c.mut(&p)
		err := p.Validate()
		var pe *ParamError
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want %q, got %v", c.want, err)
		} else if got := errors.As(err, &pe); got != (c.param != "") || (got && pe.Param != c.param) {
			t.Errorf("%v: ParamError %v, want parameter %q", err, pe, c.param)
		}
	}
}

// Every kind has a parameter table, its defaults pass, and each entry
// names its own field.
func TestParamTables(t *testing.T) {
	for _, kind := range Kinds {
		own := ParamsOf(kind)
		if len(own) == 0 {
			t.Errorf("%s: no parameters", kind)
		}
		def := DefaultParams(kind)
		if err := def.Validate(); err != nil {
			t.Errorf("%s defaults: %v", kind, err)
		}
		seen := map[*int]string{}
		for _, q := range append(append([]Param(nil), SharedParams...), own...) {
			f := q.Field(&def)
			if prev, dup := seen[f]; dup {
				t.Errorf("%s: %s and %s share a field", kind, prev, q.Name)
			}
			seen[f] = q.Name
			if q.Doc == "" || q.Range.Min > q.Range.Max {
				t.Errorf("%s: %+v", kind, q)
			}
			for _, v := range []int64{q.Range.Min - 1, q.Range.Max + 1} {
				p := def
				*q.Field(&p) = int(v)
				var pe *ParamError
				if err := p.Validate(); !errors.As(err, &pe) || pe.Param != q.Name {
					t.Errorf("%s: %s=%d: %v", kind, q.Name, v, err)
				}
			}
		}
	}
	if ParamsOf("spin") != nil {
		t.Error("unknown kind has parameters")
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

// Every function says which region it belongs to, the code tables know
// it (code heap or native module) at its place, and the counting events are found from what the
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
				if want := sym(sec, f.Name).Region; f.Region != want || f.Start != sym(sec, f.Name).Start {
					t.Errorf("%s/%s: %s in %s at %#x, want %s", w, s, f.Name, f.Region, f.Start, want)
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
