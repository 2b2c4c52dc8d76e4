package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/osrsim/osrsim/report"
)

const sweepConfig = `name: sw
engines: [emu]
workloads:
  await-loop:
    n: 12000
    awaits: 30
sweeps:
  live_locals: [0, 2]
  extra_frame: [0, 64]
`

// Three shards run on their own and merged give the unsharded report's
// results; merge's refusals and --shard's mistakes are bad input.
func TestShardAndMerge(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "sw.yaml", sweepConfig)
	out := func(name string) string { return filepath.Join(dir, name) }
	if code, _, stderr := osrsim(t, "run", cfg, "--out", out("whole"), "--quiet"); code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	for _, sh := range []string{"0", "1", "2"} {
		if code, _, stderr := osrsim(t, "run", cfg, "--shard", sh+"/3", "--out", out("shard-"+sh), "--quiet"); code != 0 {
			t.Fatalf("run --shard %s/3: exit %d: %s", sh, code, stderr)
		}
	}
	code, stdout, stderr := osrsim(t, "merge", out("shard-2"), out("shard-0"), out("shard-1"), "--out", out("merged"))
	if code != 0 || !strings.Contains(stdout, "sw: merged 3 shards, 12 results") {
		t.Fatalf("merge: exit %d: %s%s", code, stdout, stderr)
	}
	whole, err := report.ReadJSON(filepath.Join(out("whole"), "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	merged, err := report.ReadJSON(filepath.Join(out("merged"), "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(merged.Results, whole.Results) || !reflect.DeepEqual(merged.Comparisons, whole.Comparisons) {
		t.Errorf("the merged report's results or comparisons differ from the unsharded run's")
	}
	for _, f := range []string{"report.md", "report.csv", "sweep-live_locals.svg"} {
		if !fileExists(filepath.Join(out("merged"), f)) {
			t.Errorf("merge wrote no %s", f)
		}
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"missing shard", []string{"merge", out("shard-0"), out("shard-2"), "--out", out("m1")}, "shard 1/3 is missing"},
		{"shard twice", []string{"merge", out("shard-0"), out("shard-1"), out("shard-1"), "--out", out("m2")}, "are both shard 1/3"},
		{"not partial", []string{"merge", out("whole"), out("shard-1"), "--out", out("m3")}, "is not a partial report"},
		{"no such dir", []string{"merge", out("shard-9"), "--out", out("m4")}, "shard-9 does not exist"},
		{"into a shard", []string{"merge", out("shard-0"), out("shard-1"), out("shard-2"), "--out", out("shard-1")}, "one of the shards"},
		{"no --out", []string{"merge", out("shard-0")}, "out"},
		{"no shards", []string{"merge", "--out", out("m5")}, "needs the shards"},
		{"bad --shard", []string{"run", cfg, "--shard", "3/3"}, "--shard: shard 3/3: the index must be 0 to 2"},
		{"--shard not i/n", []string{"run", cfg, "--shard", "first"}, "want i/n"},
		{"more shards than cells", []string{"run", cfg, "--shard", "0/5"}, "only 4 cells"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := osrsim(t, tc.args...)
			if code != exitBadInput || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 saying %q", code, stderr, tc.want)
			}
		})
	}
	for _, d := range []string{"m1", "m2", "m3", "m4", "m5"} {
		if fileExists(out(d)) {
			t.Errorf("a refused merge wrote %s", d)
		}
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
