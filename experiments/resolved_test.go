package experiments

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/osrsim/osrsim/patchpoint"
)

// Resolved reads back into the same experiment: every config in this
// directory, the seed, and experiments changed by --set and --strategy.
func TestResolvedRoundTrip(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) < 2 {
		t.Fatalf("configs %v (%v)", files, err)
	}
	var exps []*Experiment
	for _, f := range files {
		e, err := Load(f)
		if err != nil {
			t.Fatal(err)
		}
		exps = append(exps, e)
	}
	set := func(e *Experiment, kvs ...string) *Experiment {
		for i := 0; i < len(kvs); i += 2 {
			if err := e.Set(kvs[i], kvs[i+1]); err != nil {
				t.Fatal(err)
			}
		}
		return e
	}
	live, _ := Load("live-locals.yaml")
	set(live, "live_locals", "3") // fixes the sweep to one value
	seed := set(Default(), "emulation.awaits", "77", "patchpoint.hit_limit", "4", "native.samples", "3", "emulation.timeout", "90s", "platform", "linux-x64")
	seed.Strategies, seed.Baseline = []patchpoint.Strategy{patchpoint.Direct, patchpoint.Helper}, patchpoint.Helper
	exps = append(exps, Default(), live, seed)

	for _, e := range exps {
		text := e.Resolved()
		back, err := Parse(e.Name+" (resolved)", text)
		if err != nil {
			t.Fatalf("%s: resolved config does not parse: %v\n%s", e.File, err, text)
		}
		if again := back.Resolved(); string(again) != string(text) {
			t.Errorf("%s: resolving twice differs:\n%s\nthen\n%s", e.File, text, again)
		}
		want, got := *e, *back
		want.File, got.File = "", ""
		for _, s := range []*[]Sweep{&want.Sweeps, &got.Sweeps} {
			*s = append([]Sweep(nil), *s...)
			for i := range *s {
				(*s)[i].Line = 0
			}
		}
		if !reflect.DeepEqual(want, got) {
			t.Errorf("%s: read back as\n%+v\nwant\n%+v\nfrom\n%s", e.File, got, want, text)
		}
		if !reflect.DeepEqual(e.Cells(), back.Cells()) {
			t.Errorf("%s: cells differ", e.File)
		}
	}
}
