package runner

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/osrsim/osrsim/experiments"
	"github.com/osrsim/osrsim/report"
)

// shardConfig has two workloads (cells of both in one grid) and seven
// cells: shards get different numbers of them.
const shardConfig = `name: shards
strategies: [helper, direct, helper-return]
engines: [emu]
baseline: helper
workloads:
  await-loop:
    n: 12000
    awaits: 40
  reentry:
    calls: 5
    iterations: 1200
sweeps:
  extra_frame: [0, 32, 64]
  live_locals: [0, 3]
`

func parseConfig(t testing.TB, cfg string) *experiments.Experiment {
	t.Helper()
	e, err := experiments.Parse("shards.yaml", []byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// A 3-way sharded run, merged, is the unsharded run: the same results
// (exact counts) in the same order, the same comparisons and breakdown.
func TestShardedRunMergesToTheWholeRun(t *testing.T) {
	e := parseConfig(t, shardConfig)
	cells := len(e.Cells())
	if cells != 9 { // await-loop 3×2, reentry 3
		t.Fatalf("%d cells, want 9", cells)
	}
	whole, err := Run(e, Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var parts []report.Partial
	for i := 2; i >= 0; i-- { // any order
		r, err := Run(parseConfig(t, shardConfig), Options{Version: "test", Shard: Shard{Index: i, Count: 3}})
		if err != nil {
			t.Fatal(err)
		}
		if r.Shard == nil || r.Shard.Index != i || r.Shard.Count != 3 || r.Shard.Cells != cells {
			t.Fatalf("shard %d: report says %+v", i, r.Shard)
		}
		if want := 3 * len(e.Strategies); len(r.Results) != want {
			t.Errorf("shard %d has %d results, want %d", i, len(r.Results), want)
		}
		for _, res := range r.Results {
			if res.Cell%3 != i {
				t.Errorf("shard %d ran cell %d", i, res.Cell)
			}
		}
		parts = append(parts, report.Partial{Name: fmt.Sprintf("shard%d", i), Report: r})
	}
	merged, err := report.MergeShards(parts)
	if err != nil {
		t.Fatal(err)
	}
	if len(merged.Results) != len(whole.Results) {
		t.Fatalf("merged %d results, whole run %d", len(merged.Results), len(whole.Results))
	}
	for i := range whole.Results {
		if !reflect.DeepEqual(merged.Results[i], whole.Results[i]) {
			t.Errorf("result %d: merged %s/%s cell %d, whole run %s/%s cell %d (or their counts differ)", i,
				merged.Results[i].Workload, merged.Results[i].Strategy, merged.Results[i].Cell,
				whole.Results[i].Workload, whole.Results[i].Strategy, whole.Results[i].Cell)
		}
	}
	if !reflect.DeepEqual(merged.Comparisons, whole.Comparisons) || !reflect.DeepEqual(merged.Breakdown, whole.Breakdown) || merged.Config != whole.Config {
		t.Errorf("comparisons, breakdown or config differ from the whole run's")
	}
	if merged.Shard != nil || len(merged.Shards) != 3 || merged.Shards[0].Index != 0 {
		t.Errorf("merged report: shard %+v, shards %+v", merged.Shard, merged.Shards)
	}
}

// Another config, flag or version is refused at merge time.
func TestMergeRefusesAnotherConfiguration(t *testing.T) {
	run := func(cfg string, sh Shard, version string) report.Partial {
		r, err := Run(parseConfig(t, cfg), Options{Version: version, Shard: sh})
		if err != nil {
			t.Fatal(err)
		}
		return report.Partial{Name: fmt.Sprintf("%s-%d", version, sh.Index), Report: r}
	}
	small := strings.Replace(shardConfig, "  live_locals: [0, 3]\n", "", 1) // 3 + 3 cells
	a := run(small, Shard{0, 2}, "v1")
	cases := map[string]report.Partial{
		"configuration":  run(strings.Replace(small, "awaits: 40", "awaits: 41", 1), Shard{1, 2}, "v1"),
		"osrsim version": run(small, Shard{1, 2}, "v2"),
	}
	for want, b := range cases {
		if _, err := report.MergeShards([]report.Partial{a, b}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("merge with another %s: %v", want, err)
		}
	}
}

func TestParseShard(t *testing.T) {
	for in, want := range map[string]Shard{"0/1": {0, 1}, "2/3": {2, 3}, "9/10": {9, 10}} {
		if got, err := ParseShard(in); err != nil || got != want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for in, want := range map[string]string{"3/3": "0 to 2", "-1/3": "0 to 2", "1/0": "at least 1", "1": "want i/n", "a/b": "want i/n", "1/2/3": "want i/n", "": "want i/n"} {
		if _, err := ParseShard(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseShard(%q) = %v, want an error saying %q", in, err, want)
		}
	}
	if err := (Shard{4, 10}).Check(9); err == nil || !strings.Contains(err.Error(), "only 9 cells") {
		t.Errorf("10 shards of 9 cells: %v", err)
	}
}

// The fingerprint follows what a run computes: not the config's file or
// layout, but every setting, --set included, and the counting mode.
func TestFingerprint(t *testing.T) {
	a := parseConfig(t, shardConfig)
	b, err := experiments.Parse("elsewhere/b.yaml", []byte("# a comment moves every line\n"+shardConfig))
	if err != nil {
		t.Fatal(err)
	}
	if fingerprint(a, Options{}) != fingerprint(b, Options{}) {
		t.Errorf("the file name or line numbers change the fingerprint")
	}
	if fingerprint(a, Options{}) == fingerprint(a, Options{Exact: true}) {
		t.Errorf("--exact does not change the fingerprint")
	}
	if err := b.Set("awaits", "41"); err != nil {
		t.Fatal(err)
	}
	if fingerprint(a, Options{}) == fingerprint(b, Options{}) {
		t.Errorf("--set awaits=41 does not change the fingerprint")
	}
	c := parseConfig(t, shardConfig)
	c.Native.Samples++
	if fingerprint(a, Options{}) == fingerprint(c, Options{}) {
		t.Errorf("native samples do not change the fingerprint")
	}
}
