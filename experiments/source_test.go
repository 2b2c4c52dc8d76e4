package experiments

import (
	"github.com/osrsim/osrsim/report"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/osrsim/osrsim/workload"
)

// A config's C# workload: its source relative to the config, its
// parameters by the program's names, emulation overrides, --set and
// sweeps on them.
func TestSourceWorkload(t *testing.T) {
	e, err := Load("csharp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	w := e.Workloads[0]
	if w.Kind != "seed-cs" || w.Native.Source == nil || !strings.HasSuffix(w.Native.Source.File, filepath.Join("experiments", "seed.cs")) && w.Native.Source.File != "seed.cs" {
		t.Fatalf("workload %+v", w)
	}
	if v, _ := w.Native.Value("Awaits"); v != 10_000_000 {
		t.Errorf("native Awaits %d, want Main's 10,000,000", v)
	}
	if v, _ := w.Emu.Value("Awaits"); v != 10000 {
		t.Errorf("emulated Awaits %d, want the override 10,000", v)
	}
	if err := e.Set("Awaits", "500"); err != nil {
		t.Fatal(err)
	}
	if v, _ := e.Workloads[0].Emu.Value("Awaits"); v != 500 {
		t.Errorf("--set Awaits: emulated %d", v)
	}
	if v, _ := e.Workloads[0].Native.Value("n"); v != 10_000_000 {
		t.Errorf("--set Awaits changed n: %d", v)
	}
	cells := e.Cells()
	seen := map[int]bool{}
	for _, c := range cells {
		if c.Workload == "seed-cs" {
			v, _ := c.Emu.Value("n")
			seen[v] = true
		}
	}
	if !seen[20000] || !seen[40000] || len(seen) != 2 {
		t.Errorf("sweep over emulation.n gave %v", seen)
	}
	// Cells do not share their values.
	if a, _ := cells[0].Emu.Value("n"); a == 40000 {
		t.Errorf("first cell has the last sweep value: values are shared")
	}
	if f := Flatten(w.Native); f["n"] != report.Int(10_000_000) || f["Awaits"] != report.Int(10_000_000) || f["patchpoint.hit_limit"] != report.Int(10) {
		t.Errorf("flatten %v", f)
	}
}

func TestSourceErrors(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile("seed.cs")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "b.cs"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(src), "s_value += i;", "s_value += i > 1 ? 1 : 0;", 1)
	if err := os.WriteFile(filepath.Join(dir, "bad.cs"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"name: t\nworkloads:\n  w:\n    source: b.cs\n    awaits: 3\n", "c.yaml:5: workloads.w.awaits: w has no parameter awaits (w has n, Awaits)"},
		{"name: t\nworkloads:\n  w:\n    source: b.cs\n    emulation:\n      Awaits: 3000000000\n", "c.yaml:6: workloads.w.emulation.Awaits: must be at most 2147483647"},
		{"name: t\nworkloads:\n  w:\n    source: missing.cs\n", "c.yaml:4: workloads.w.source: " + filepath.Join(dir, "missing.cs") + ": cannot read C# source"},
		{"name: t\nworkloads:\n  w:\n    source: bad.cs\n", "c.yaml:4: workloads.w.source: " + filepath.Join(dir, "bad.cs") + ":30:28: unsupported: conditional expression"},
		{"name: t\nworkloads:\n  await-loop:\n    source: b.cs\n", "await-loop is a built-in workload"},
		{"name: t\nworkloads:\n  w:\n    source: 5\n", "c.yaml:4: workloads.w.source: want a path to a C# file"},
		{"name: t\nworkloads:\n  w:\n    source: b.cs\nsweeps:\n  live_locals: [1, 2]\n", "c.yaml:6: sweeps.live_locals: no workload of this experiment has parameter live_locals"},
	} {
		cfg := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(cfg, []byte(tc.yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want %q, got %v", tc.want, err)
		}
	}
}

func TestFromSource(t *testing.T) {
	e, err := FromSource("seed.cs")
	if err != nil {
		t.Fatal(err)
	}
	if e.Name != "seed" || len(e.Workloads) != 1 || e.Workloads[0].Kind != "seed" || e.Workloads[0].Emu.Source == nil {
		t.Fatalf("experiment %+v", e)
	}
	w := e.Workloads[0]
	if want := []int{10_000_000, 10_000_000}; !slices.Equal(w.Native.Values, want) {
		t.Errorf("native values %v, want Main's %v", w.Native.Values, want)
	}
	if seed := Default().Workloads[0].Emu.N; SourceEmulationCap != seed {
		t.Errorf("SourceEmulationCap %d, want the default experiment's emulated n %d", SourceEmulationCap, seed)
	}
	if want := []int{SourceEmulationCap, SourceEmulationCap}; !slices.Equal(w.Emu.Values, want) {
		t.Errorf("emulation values %v, want Main's capped at %d: %v", w.Emu.Values, SourceEmulationCap, want)
	}
	if err := e.Set("emulation.Awaits", "100"); err != nil {
		t.Fatal(err)
	}
	if w := e.Workloads[0]; w.Native.Values[1] != 10_000_000 {
		t.Errorf("emulation.Awaits changed the native scale: %v", w.Native.Values)
	}
	if err := e.Set("Iterations", "100"); err == nil || !strings.Contains(err.Error(), "Iterations") {
		t.Errorf("unknown C# parameter: %v", err)
	}
	if SourceName("dir/My Bench.CS") != "my-bench" {
		t.Errorf("name %q", SourceName("dir/My Bench.CS"))
	}
	var _ = workload.Kinds
}
