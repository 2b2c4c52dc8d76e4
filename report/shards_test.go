package report

import (
	"fmt"
	"strings"
	"testing"

	"github.com/osrsim/osrsim/sim"
)

// shards splits a report's results into n partial reports by cell, as
// osrsim run --shard does: results of cell k go to shard k mod n.
func shards(whole *Report, n int) []Partial {
	var out []Partial
	for i := range n {
		r := *whole
		r.Results = nil
		r.Shard = &Shard{Index: i, Count: n, Cells: 4, Config: "cfg"}
		for _, res := range whole.Results {
			if res.Cell%n == i {
				r.Results = append(r.Results, res)
			}
		}
		out = append(out, Partial{Name: fmt.Sprintf("dir%d", i), Report: &r})
	}
	return out
}

// cells gives the fixture's results cell numbers: one cell per value of
// awaits (the fixture's sweep), emulated results before native ones.
func cellFixture() *Report {
	r := fixture()
	cell := map[Value]int{}
	for i := range r.Results {
		a := r.Results[i].Params["awaits"]
		if _, ok := cell[a]; !ok {
			cell[a] = len(cell)
		}
		r.Results[i].Cell = cell[a]
	}
	return r
}

func TestMergeShardsRestoresOrder(t *testing.T) {
	whole := cellFixture()
	Compare(whole, "helper")
	parts := shards(whole, 3)
	parts[0], parts[2] = parts[2], parts[0]
	m, err := MergeShards(parts)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Results) != len(whole.Results) {
		t.Fatalf("%d results, want %d", len(m.Results), len(whole.Results))
	}
	for i, res := range m.Results {
		w := whole.Results[i]
		if res.Cell != w.Cell || res.Strategy != w.Strategy || res.Engine != w.Engine {
			t.Errorf("result %d is %d/%s/%s, want %d/%s/%s", i, res.Cell, res.Strategy, res.Engine, w.Cell, w.Strategy, w.Engine)
		}
	}
	if len(m.Comparisons) != len(whole.Comparisons) || m.Baseline != "helper" {
		t.Errorf("%d comparisons against %q, want %d against helper", len(m.Comparisons), m.Baseline, len(whole.Comparisons))
	}
	if m.Shard != nil || len(m.Shards) != 3 {
		t.Errorf("merged report keeps shard %+v, lists %d shards", m.Shard, len(m.Shards))
	}
}

func TestMergeShardsRefuses(t *testing.T) {
	whole := cellFixture()
	Compare(whole, "helper")
	cases := []struct {
		name  string
		edit  func([]Partial) []Partial
		wants []string
	}{
		{"not partial", func(p []Partial) []Partial { p[1].Report.Shard = nil; return p }, []string{"dir1 is not a partial report"}},
		{"experiment", func(p []Partial) []Partial { p[2].Report.Experiment = "other"; return p }, []string{"dir0 and dir2 differ in experiment"}},
		{"config", func(p []Partial) []Partial { p[1].Report.Shard.Config = "x"; return p }, []string{"differ in configuration"}},
		{"osrsim", func(p []Partial) []Partial { p[1].Report.Env.Osrsim = "v9"; return p }, []string{"differ in osrsim version", `"v0.1.0" and "v9"`}},
		{"unicorn", func(p []Partial) []Partial { p[1].Report.Env.Unicorn = "2.0.1"; return p }, []string{"libunicorn version"}},
		{"count", func(p []Partial) []Partial { p[1].Report.Shard.Count = 4; return p }, []string{"number of shards"}},
		{"missing", func(p []Partial) []Partial { return p[:2] }, []string{"shard 2/3 is missing"}},
		{"missing two", func(p []Partial) []Partial { return p[:1] }, []string{"shards 1, 2 of 3 are missing"}},
		{"duplicate", func(p []Partial) []Partial { p[2] = Partial{"again", p[1].Report}; return p }, []string{"dir1 and again are both shard 1/3", "shard 2/3 is missing"}},
		{"wrong cell", func(p []Partial) []Partial { p[0].Report.Results[0].Cell = 1; return p }, []string{"dir0: shard 0/3 holds a result of cell 1, which belongs to shard 1"}},
		{"cell outside", func(p []Partial) []Partial { p[1].Report.Results[0].Cell = 7; return p }, []string{"cell 7, outside the sweep's 4 cells"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			parts := shards(whole, 3)
			for i := range parts { // deep enough copies to edit
				r := *parts[i].Report
				sh := *r.Shard
				r.Shard = &sh
				r.Results = append([]Result(nil), r.Results...)
				parts[i].Report = &r
			}
			_, err := MergeShards(c.edit(parts))
			if err == nil {
				t.Fatal("merged")
			}
			for _, w := range c.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	if _, err := MergeShards(nil); err == nil {
		t.Errorf("merged nothing")
	}
}

// Native results follow every emulated one, whatever shard they came from.
func TestMergeShardsEnginesApart(t *testing.T) {
	whole := cellFixture()
	m, err := MergeShards(shards(whole, 2))
	if err != nil {
		t.Fatal(err)
	}
	native := false
	for _, r := range m.Results {
		if r.Engine == sim.Native {
			native = true
		} else if native {
			t.Fatalf("an emulated result after a native one")
		}
	}
	if !native {
		t.Fatalf("the fixture has no native results")
	}
}
