package workload

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/osrsim/osrsim/patchpoint"
)

// AtScale gives exactly what Build gives at the other scale, for the setup
// run and for a larger scale, and leaves the original alone.
func TestAtScaleIsBuild(t *testing.T) {
	for _, kind := range Kinds {
		for _, s := range patchpoint.Strategies {
			p := DefaultParams(kind)
			p.LiveLocals, p.ExtraFrame = 0, 48
			b, err := Build(p, s)
			if err != nil {
				t.Fatal(err)
			}
			data := bytes.Clone(b.Image.Region("data").Init)
			big := p
			if kind == AwaitLoop {
				big.N, big.Awaits = 5_000_000, 100_000
			} else {
				big.Calls, big.Iterations = 70_000, 3000
			}
			for _, q := range []Params{p.Setup(), big} {
				got, err := b.AtScale(q)
				if err != nil {
					t.Fatal(err)
				}
				want, err := Build(q, s)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s/%s: AtScale(%+v) differs from Build", kind, s, q)
				}
			}
			if !bytes.Equal(b.Image.Region("data").Init, data) || !bytes.Equal(b.Linked.Bytes["data"], data) {
				t.Errorf("%s/%s: AtScale changed the original's data", kind, s)
			}
		}
	}
}

// A parameter that shapes the code is not a scale.
func TestAtScaleRefusesCodeParameters(t *testing.T) {
	p := DefaultParams(AwaitLoop)
	b, err := Build(p, patchpoint.Direct)
	if err != nil {
		t.Fatal(err)
	}
	q := p
	q.Awaits, q.LiveLocals = 10, 3
	if _, err := b.AtScale(q); err == nil || !strings.Contains(err.Error(), "live_locals") || !strings.Contains(err.Error(), "n, awaits") {
		t.Errorf("AtScale with other live_locals: %v", err)
	}
	q = p
	q.Awaits = -1
	if _, err := b.AtScale(q); err == nil {
		t.Errorf("AtScale accepted awaits=-1")
	}
}
