package experiments

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/osrsim/osrsim/continuation"
	"github.com/osrsim/osrsim/patchpoint"
	"github.com/osrsim/osrsim/report"
	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/workload"
)

func TestCheckedInConfigsParse(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"csharp.yaml", "frame-size.yaml", "live-locals.yaml", "patchpoint-settings.yaml", "platforms.yaml", "reentry.yaml", "runtime-minimal.yaml", "seed.yaml"}
	if !reflect.DeepEqual(files, want) {
		t.Errorf("configs = %v, want %v", files, want)
	}
	for _, f := range files {
		e, err := Load(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if e.File != f || e.Name+".yaml" != f {
			t.Errorf("%s: File %q, Name %q", f, e.File, e.Name)
		}
		if m := e.Cells()[0].Emu.Runtime.Model; (m == continuation.Minimal) != (f == "runtime-minimal.yaml") {
			t.Errorf("%s: runtime model %s", f, m)
		}
		for _, c := range e.Cells() {
			for _, p := range []workload.Params{c.Emu, c.Native} {
				if err := p.Validate(); err != nil {
					t.Errorf("%s: cell %v: %v", f, c.Point, err)
				}
				if p.Workload == workload.AwaitLoop && p.N < p.Patchpoint.OSRIteration() {
					t.Errorf("%s: cell %v: n=%d below the OSR iteration %d", f, c.Point, p.N, p.Patchpoint.OSRIteration())
				}
			}
		}
	}
}

func TestDefaultIsSeed(t *testing.T) {
	d := Default()
	if d.File != SeedFile {
		t.Errorf("File = %q", d.File)
	}
	s, err := Load("seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s.File = SeedFile
	if !reflect.DeepEqual(d, s) {
		t.Errorf("Default() = %+v\nseed.yaml = %+v", d, s)
	}
	if d.Name != "seed" || d.Baseline != patchpoint.Helper ||
		!reflect.DeepEqual(d.Strategies, patchpoint.Strategies) ||
		!reflect.DeepEqual(d.Engines, []sim.Engine{sim.Emu, sim.Native}) {
		t.Errorf("seed: %+v", d)
	}
	w := d.Workloads[0]
	if w.Kind != workload.AwaitLoop || w.Emu.N != 20000 || w.Emu.Awaits != 10000 || w.Native.N != 10_000_000 || w.Native.Awaits != 10_000_000 {
		t.Errorf("seed workload: %+v", w)
	}
	if w.Native.Patchpoint != patchpoint.Defaults() || w.Emu.Patchpoint != patchpoint.Defaults() {
		t.Errorf("seed patchpoint: %+v", w.Native.Patchpoint)
	}
	if d.Native != (NativeSettings{Warmup: 1, Samples: 10, Reps: 1, Launches: 5, Timeout: 10 * time.Minute}) ||
		d.Emulation != (EmulationSettings{MaxInstructions: 20_000_000_000, Timeout: 5 * time.Minute}) || d.CycleModel != "default" {
		t.Errorf("seed settings: %+v %+v %q", d.Native, d.Emulation, d.CycleModel)
	}
	// Fresh copies.
	d.Set("awaits", "5")
	if Default().Workloads[0].Native.Awaits != 10_000_000 {
		t.Error("Default() shares state between calls")
	}
}

func TestSweepCells(t *testing.T) {
	for _, tc := range []struct {
		file   string
		key    string
		values []int64
	}{
		{"live-locals.yaml", "live_locals", []int64{0, 1, 2, 4, 8, 16}},
		{"frame-size.yaml", "extra_frame", []int64{0, 64, 256, 1024, 4096}},
	} {
		e, err := Load(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(e.Engines, []sim.Engine{sim.Emu}) {
			t.Errorf("%s: engines %v", tc.file, e.Engines)
		}
		cells := e.Cells()
		if len(cells) != len(tc.values) {
			t.Fatalf("%s: %d cells, want %d", tc.file, len(cells), len(tc.values))
		}
		for i, c := range cells {
			if !reflect.DeepEqual(c.Point, report.Params{tc.key: report.Int(tc.values[i])}) {
				t.Errorf("%s: cell %d point %v", tc.file, i, c.Point)
			}
			f := Flatten(c.Emu)
			if f[tc.key] != report.Int(tc.values[i]) || Flatten(c.Native)[tc.key] != report.Int(tc.values[i]) {
				t.Errorf("%s: cell %d params %v", tc.file, i, f)
			}
		}
	}

	// An enum key sweeps over names: each cell builds on its platform, and
	// the name reaches the results' params.
	e, err := Load("platforms.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cells := e.Cells()
	if len(cells) != len(patchpoint.Platforms) {
		t.Fatalf("platforms: %d cells", len(cells))
	}
	for i, pl := range patchpoint.Platforms {
		c := cells[i]
		if !reflect.DeepEqual(c.Point, report.Params{"platform": report.Name(pl.String())}) ||
			c.Emu.Patchpoint.Platform != pl || c.Native.Patchpoint.Platform != pl || Flatten(c.Emu)["platform"] != report.Name(pl.String()) {
			t.Errorf("platforms cell %d: %v %+v", i, c.Point, c.Emu.Patchpoint)
		}
	}

	e, err = Load("patchpoint-settings.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cells = e.Cells()
	if len(cells) != 9 {
		t.Fatalf("patchpoint-settings: %d cells", len(cells))
	}
	i := 0
	for _, hl := range []int64{2, 10, 50} {
		for _, m := range []int64{1000, 16384, 200000} {
			c := cells[i]
			want := report.Params{"patchpoint.hit_limit": report.Int(hl), "patchpoint.native_functions": report.Int(m)}
			if !reflect.DeepEqual(c.Point, want) || c.Emu.Patchpoint.HitLimit != int(hl) || c.Native.Patchpoint.NativeFunctions != int(m) {
				t.Errorf("cell %d: %v %+v", i, c.Point, c.Emu.Patchpoint)
			}
			i++
		}
	}

	for _, f := range []string{"seed.yaml", "reentry.yaml"} {
		e, err := Load(f)
		if err != nil {
			t.Fatal(err)
		}
		cells := e.Cells()
		if len(cells) != 1 || cells[0].Point == nil || len(cells[0].Point) != 0 ||
			!reflect.DeepEqual(cells[0].Emu, e.Workloads[0].Emu) || !reflect.DeepEqual(cells[0].Native, e.Workloads[0].Native) {
			t.Errorf("%s: cells %+v", f, cells)
		}
	}
}

// TestCellsScales checks which scale each sweep touches and that a sweep
// does not multiply workloads that lack its parameter.
func TestCellsScales(t *testing.T) {
	e, err := Parse("x.yaml", []byte(`name: x
workloads:
  await-loop:
    n: 20000
    awaits: 100
    emulation:
      awaits: 10
  reentry: {}
sweeps:
  awaits: [200, 300]
  emulation.n: [30000, 40000]
  extra_frame: [0, 8]
`))
	if err != nil {
		t.Fatal(err)
	}
	cells := e.Cells()
	if len(cells) != 8+2 {
		t.Fatalf("%d cells", len(cells))
	}
	c := cells[3] // awaits 200, emulation.n 40000, extra_frame 8
	if c.Workload != workload.AwaitLoop || !reflect.DeepEqual(c.Point, report.Params{"awaits": report.Int(200), "emulation.n": report.Int(40000), "extra_frame": report.Int(8)}) ||
		c.Native.Awaits != 200 || c.Emu.Awaits != 200 || c.Native.N != 20000 || c.Emu.N != 40000 || c.Native.ExtraFrame != 8 || c.Emu.ExtraFrame != 8 {
		t.Errorf("cell 3: %+v", c)
	}
	for i, c := range cells[8:] {
		if c.Workload != workload.Reentry || !reflect.DeepEqual(c.Point, report.Params{"extra_frame": report.Int(int64(8 * i))}) || c.Emu.ExtraFrame != 8*i {
			t.Errorf("reentry cell %d: %+v", i, c)
		}
	}
	if f := Flatten(cells[8].Native); !reflect.DeepEqual(f, report.Params{"calls": report.Int(100), "iterations": report.Int(1500), "extra_frame": report.Int(0), "patchpoint.initial_counter": report.Int(1000), "patchpoint.counter_bump": report.Int(1000), "patchpoint.hit_limit": report.Int(10), "patchpoint.jit_methods": report.Int(20000), "patchpoint.native_functions": report.Int(16384), "runtime.alloc_quantum": report.Int(8224),
		"platform": report.Name("windows-x64"), "runtime.model": report.Name("coreclr")}) {
		t.Errorf("Flatten = %v", f)
	}
}

func TestDefaults(t *testing.T) {
	e, err := Parse("min.yaml", []byte("name: min\nworkloads:\n  reentry:\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := &Experiment{Name: "min", File: "min.yaml", Strategies: patchpoint.Strategies, Engines: []sim.Engine{sim.Emu}, Baseline: patchpoint.Helper,
		Workloads:  []Workload{{Kind: workload.Reentry, Native: workload.DefaultParams(workload.Reentry), Emu: workload.DefaultParams(workload.Reentry)}},
		Native:     NativeSettings{Warmup: 1, Samples: 10, Reps: 1, Launches: 3, Timeout: 10 * time.Minute},
		Emulation:  EmulationSettings{MaxInstructions: 20_000_000_000, Timeout: 5 * time.Minute},
		CycleModel: "default"}
	if !reflect.DeepEqual(e, want) {
		t.Errorf("got  %+v\nwant %+v", e, want)
	}
	e, err = Parse("b.yaml", []byte("name: b\nstrategies: [direct, helper-return]\nworkloads: {await-loop: {n: 10_000, awaits: 0x10}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if e.Baseline != patchpoint.Direct || e.Workloads[0].Emu.N != 10000 || e.Workloads[0].Emu.Awaits != 16 {
		t.Errorf("%+v", e)
	}
}

const good = `name: t
workloads:
  await-loop:
    n: 20000
`

func TestBadConfigs(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		line int
		key  string
		msg  string
	}{
		{"syntax", "name: t\nworkloads:\n  await-loop: [1,\n", 3, "", "YAML syntax"},
		{"syntax tab", "name: t\nworkloads:\n\tawait-loop: {}\n", 3, "", "YAML syntax"},
		{"empty file", "", 0, "", "empty config"},
		{"only comments", "# nothing\n", 0, "", "empty config"},
		{"not a mapping", "- a\n- b\n", 1, "", "want a mapping"},
		{"two documents", good + "---\nname: u\n", 5, "", "more than one YAML document"},
		{"unknown top-level key", good + "sweep:\n  n: [1]\n", 5, "sweep", "unknown key"},
		{"missing name", "workloads:\n  await-loop: {}\n", 1, "name", "required"},
		{"bad name", "name: Seed!\nworkloads:\n  await-loop: {}\n", 1, "name", "not a valid name"},
		{"name dots", "name: ..\nworkloads:\n  await-loop: {}\n", 1, "name", "not a valid name"},
		{"missing workloads", "name: t\n", 1, "workloads", "required"},
		{"no workloads", "name: t\nworkloads: {}\n", 2, "workloads", "at least one"},
		{"unknown workload", "name: t\nworkloads:\n  await-loop: {}\n  spin: {}\n", 4, "workloads.spin", "unknown workload"},
		{"unknown workload param", good + "    m: 5\n", 5, "workloads.await-loop.m", "unknown parameter m"},
		{"param of another workload", "name: t\nworkloads:\n  reentry:\n    live_locals: 2\n", 4, "workloads.reentry.live_locals", "reentry has no parameter live_locals"},
		{"wrong type string for int", good + "    awaits: \"100\"\n", 5, "workloads.await-loop.awaits", "want an integer"},
		{"wrong type float", good + "    awaits: 1e6\n", 5, "workloads.await-loop.awaits", "want an integer"},
		{"int overflow", good + "    awaits: 99999999999999999999\n", 5, "workloads.await-loop.awaits", "out of range"},
		{"wrong type scalar for list", good + "strategies: helper\n", 5, "strategies", "want a list"},
		{"wrong type list for mapping", good + "native: [1]\n", 5, "native", "want a mapping"},
		{"wrong type int for string", good + "description: 5\n", 5, "description", "want a string"},
		{"negative count", good + "    awaits: -5\n", 5, "workloads.await-loop.awaits", "must not be negative, got -5"},
		{"negative in emulation", good + "    emulation:\n      n: -1\n", 6, "workloads.await-loop.emulation.n", "must not be negative, got -1"},
		{"too many live locals", good + "    live_locals: 65\n", 5, "workloads.await-loop.live_locals", "at most 64, got 65"},
		{"zero patchpoint field", good + "patchpoint:\n  hit_limit: 0\n", 6, "patchpoint.hit_limit", "must be positive"},
		{"patchpoint out of range", good + "patchpoint:\n  counter_bump: 5\n  jit_methods: 8388608\n", 7, "patchpoint.jit_methods", "must be at most 131072, got 8388608"},
		{"unknown patchpoint field", good + "patchpoint:\n  hits: 3\n", 6, "patchpoint.hits", "unknown key"},
		{"zero samples", good + "native:\n  samples: 0\n", 6, "native.samples", "must be positive"},
		{"negative warmup", good + "native:\n  warmup: -1\n", 6, "native.warmup", "must not be negative"},
		{"bad duration", good + "native:\n  timeout: 10\n", 6, "native.timeout", "Go duration"},
		{"unknown native key", good + "native:\n  runs: 3\n", 6, "native.runs", "unknown key"},
		{"zero max_instructions", good + "emulation:\n  max_instructions: 0\n", 6, "emulation.max_instructions", "must be positive"},
		{"workload param in emulation settings", good + "emulation:\n  awaits: 10\n", 6, "emulation.awaits", "workloads.<workload>.emulation"},
		{"unknown strategy", good + "strategies: [helper, fast]\n", 5, "strategies", "unknown strategy \"fast\""},
		{"duplicate strategy", good + "strategies:\n  - helper\n  - helper\n", 7, "strategies", "duplicate strategy"},
		{"empty strategies", good + "strategies: []\n", 5, "strategies", "empty list"},
		{"unknown engine", good + "engines: [emu, both]\n", 5, "engines", "unknown engine \"both\""},
		{"baseline not in strategies", good + "strategies: [direct, helper-return]\nbaseline: helper\n", 6, "baseline", "not among the strategies"},
		{"unknown baseline", good + "baseline: fast\n", 5, "baseline", "unknown strategy"},
		{"duplicate top-level key", good + "name: u\n", 5, "name", "duplicate key (first at line 1)"},
		{"duplicate param", good + "    n: 30000\n", 5, "workloads.await-loop.n", "duplicate key (first at line 4)"},
		{"empty sweep", good + "sweeps:\n  live_locals: []\n", 6, "sweeps.live_locals", "empty list"},
		{"null sweep", good + "sweeps:\n  live_locals:\n", 6, "sweeps.live_locals", "non-empty list"},
		{"sweep scalar", good + "sweeps:\n  live_locals: 4\n", 6, "sweeps.live_locals", "want a list"},
		{"sweep on unknown key", good + "sweeps:\n  depth: [1, 2]\n", 6, "sweeps.depth", "unknown sweep key"},
		{"sweep on param no workload has", good + "sweeps:\n  calls: [1, 2]\n", 6, "sweeps.calls", "no workload of this experiment has parameter calls"},
		{"sweep bad value", good + "sweeps:\n  live_locals:\n    - 0\n    - 100\n", 8, "sweeps.live_locals", "at most 64, got 100"},
		{"sweep duplicate value", good + "sweeps:\n  extra_frame: [0, 8, 0]\n", 6, "sweeps.extra_frame", "duplicate value 0"},
		{"emulation override of unknown param", good + "    emulation:\n      calls: 5\n", 6, "workloads.await-loop.emulation.calls", "await-loop has no parameter calls"},
		{"emulation override not a mapping", good + "    emulation: 5\n", 5, "workloads.await-loop.emulation", "want a mapping"},
		{"empty cycle model", good + "cycle_model: \"\"\n", 5, "cycle_model", "must not be empty"},
		{"unknown platform", good + "platform: macos-arm64\n", 5, "platform", "unknown platform \"macos-arm64\" (want one of windows-x64, linux-x64)"},
		{"platform not a name", good + "platform: [linux-x64]\n", 5, "platform", "want a string, got a list"},
		{"sweep unknown platform", good + "sweeps:\n  platform: [linux-x64, macos]\n", 6, "sweeps.platform", "unknown platform \"macos\""},
		{"sweep duplicate platform", good + "sweeps:\n  platform: [linux-x64, linux-x64]\n", 6, "sweeps.platform", "duplicate value linux-x64"},
		{"sweep platform number", good + "sweeps:\n  platform: [1]\n", 6, "sweeps.platform", "want one of windows-x64, linux-x64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Parse("bad.yaml", []byte(tc.yaml))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Parse = %+v, %v; want *Error", e, err)
			}
			if e != nil {
				t.Errorf("experiment returned with error")
			}
			// One mistake, one error: nothing cascades.
			var list ErrorList
			if !errors.As(err, &list) || len(list) != 1 {
				t.Errorf("want one error in an ErrorList, got %#v", err)
			}
			if ce.File != "bad.yaml" || ce.Line != tc.line || ce.Key != tc.key || !strings.Contains(ce.Msg, tc.msg) {
				t.Errorf("got file %q line %d key %q msg %q\nwant line %d key %q msg containing %q", ce.File, ce.Line, ce.Key, ce.Msg, tc.line, tc.key, tc.msg)
			}
			t.Log(err)
		})
	}
}

// A config with several mistakes reports each at its line, in line order,
// and what it can still resolve is checked too (the sweep over a workload
// whose keys have errors).
func TestManyErrors(t *testing.T) {
	_, err := Parse("many.yaml", []byte(`name: Bad!
strategies: [helper, teleport]
baseline: direct
workloads:
  await-loop:
    awaits: -5
    live_locals: 65
    m: 1
    emulation:
      n: many
  spin: {}
patchpoint:
  hit_limit: 0
native:
  launches: 5000
  samples: 0
  runs: 3
sweeps:
  extra_frame: [0, 70000]
  calls: [1]
cycle_model: ""
`))
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Parse = %v", err)
	}
	want := []struct {
		line int
		key  string
		msg  string
	}{
		{1, "name", "not a valid name"},
		{2, "strategies", `unknown strategy "teleport"`},
		{6, "workloads.await-loop.awaits", "must not be negative, got -5"},
		{7, "workloads.await-loop.live_locals", "must be at most 64, got 65"},
		{8, "workloads.await-loop.m", "unknown parameter m"},
		{10, "workloads.await-loop.emulation.n", "want an integer"},
		{11, "workloads.spin", "unknown workload"},
		{13, "patchpoint.hit_limit", "must be positive, got 0"},
		{15, "native.launches", "must be at most 1024, got 5000"},
		{16, "native.samples", "must be positive, got 0"},
		{17, "native.runs", "unknown key"},
		{19, "sweeps.extra_frame", "must be at most 65536, got 70000"},
		{20, "sweeps.calls", "no workload of this experiment has parameter calls"},
		{21, "cycle_model", "must not be empty"},
	}
	for i, w := range want {
		if i >= len(list) {
			t.Errorf("missing %d: %s", w.line, w.key)
			continue
		}
		if e := list[i]; e.File != "many.yaml" || e.Line != w.line || e.Key != w.key || !strings.Contains(e.Msg, w.msg) {
			t.Errorf("error %d = %v, want %d: %s: ...%s", i, e, w.line, w.key, w.msg)
		}
	}
	if len(list) != len(want) {
		t.Errorf("%d errors, want %d:\n%v", len(list), len(want), list)
	}
	if s := list.Error(); !strings.HasPrefix(s, "many.yaml:1: name:") || !strings.HasSuffix(s, "(and 13 more errors)") {
		t.Errorf("Error() = %q", s)
	}
}

func TestErrorString(t *testing.T) {
	for _, tc := range []struct {
		e    Error
		want string
	}{
		{Error{"a.yaml", 3, "native.samples", "must be positive, got 0"}, "a.yaml:3: native.samples: must be positive, got 0"},
		{Error{"a.yaml", 0, "", "empty config"}, "a.yaml: empty config"},
		{Error{"a.yaml", 2, "", "YAML syntax: x"}, "a.yaml:2: YAML syntax: x"},
		{Error{"--set", 0, "awaits", "m"}, "--set: awaits: m"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%q, want %q", got, tc.want)
		}
	}
}

func TestSet(t *testing.T) {
	e, err := Parse("s.yaml", []byte(`name: s
workloads:
  await-loop:
    n: 20000
    awaits: 1000000
    emulation:
      awaits: 1000
  reentry: {}
sweeps:
  live_locals: [0, 4]
`))
	if err != nil {
		t.Fatal(err)
	}
	ok := func(k, v string) {
		t.Helper()
		if err := e.Set(k, v); err != nil {
			t.Fatalf("Set(%s, %s): %v", k, v, err)
		}
	}
	aw, re := &e.Workloads[0], &e.Workloads[1]

	ok("awaits", "5000")
	if aw.Native.Awaits != 5000 || aw.Emu.Awaits != 5000 {
		t.Errorf("awaits: %+v", *aw)
	}
	ok("emulation.awaits", "300")
	if aw.Native.Awaits != 5000 || aw.Emu.Awaits != 300 {
		t.Errorf("emulation.awaits: %+v", *aw)
	}
	ok("extra_frame", "64") // both workloads
	if aw.Native.ExtraFrame != 64 || aw.Emu.ExtraFrame != 64 || re.Native.ExtraFrame != 64 || re.Emu.ExtraFrame != 64 {
		t.Errorf("extra_frame: %+v %+v", *aw, *re)
	}
	ok("calls", "7")
	if re.Native.Calls != 7 || re.Emu.Calls != 7 {
		t.Errorf("calls: %+v", *re)
	}
	ok("patchpoint.hit_limit", "2")
	if aw.Native.Patchpoint.HitLimit != 2 || aw.Emu.Patchpoint.HitLimit != 2 || re.Emu.Patchpoint.HitLimit != 2 {
		t.Errorf("hit_limit: %+v", *aw)
	}
	ok("native.samples", "3")
	ok("native.warmup", "0")
	ok("native.reps", "4")
	ok("native.launches", "2")
	ok("native.timeout", "90s")
	ok("emulation.max_instructions", "1000")
	ok("emulation.timeout", "1m")
	ok("cycle_model", "skylake")
	if e.Native != (NativeSettings{Warmup: 0, Samples: 3, Reps: 4, Launches: 2, Timeout: 90 * time.Second}) ||
		e.Emulation != (EmulationSettings{MaxInstructions: 1000, Timeout: time.Minute}) || e.CycleModel != "skylake" {
		t.Errorf("settings: %+v %+v %q", e.Native, e.Emulation, e.CycleModel)
	}
	if len(e.Cells()) != 3 {
		t.Errorf("%d cells before fixing the sweep", len(e.Cells()))
	}
	ok("live_locals", "8") // fixes the sweep
	if !reflect.DeepEqual(e.Sweeps[0].Values, []report.Value{report.Int(8)}) || aw.Emu.LiveLocals != 8 {
		t.Errorf("sweep after Set: %+v", e.Sweeps)
	}
	if cells := e.Cells(); len(cells) != 2 || cells[0].Emu.LiveLocals != 8 || cells[0].Point["live_locals"] != report.Int(8) {
		t.Errorf("cells after Set: %+v", cells)
	}

	// --set on an enum key fixes its sweep the same way.
	pe, err := Load("platforms.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := pe.Set("platform", "linux-x64"); err != nil {
		t.Fatal(err)
	}
	if cells := pe.Cells(); len(cells) != 1 || cells[0].Emu.Patchpoint.Platform != patchpoint.LinuxX64 ||
		cells[0].Native.Patchpoint.Platform != patchpoint.LinuxX64 || cells[0].Point["platform"] != report.Name("linux-x64") {
		t.Errorf("platforms cells after Set: %+v", cells)
	}

	before := *e
	beforeW := append([]Workload(nil), e.Workloads...)
	for _, tc := range []struct{ key, value, msg string }{
		{"depth", "3", "unknown key"},
		{"emulation.hit_limit", "3", "unknown key"},
		{"emulation.patchpoint.hit_limit", "3", "unknown key"},
		{"native.runs", "3", "unknown key"},
		{"awaits", "many", "want an integer"},
		{"awaits", "-1", "must not be negative"},
		{"emulation.n", "-1", "must not be negative"},
		{"live_locals", "65", "at most 64, got 65"},
		{"patchpoint.native_functions", "0", "must be positive"},
		{"native.samples", "0", "must be positive, got 0"},
		{"native.timeout", "soon", "Go duration"},
		{"emulation.max_instructions", "-5", "must be positive, got -5"},
		{"emulation.live_locals", "2", "live_locals is swept"},
	} {
		err := e.Set(tc.key, tc.value)
		var ce *Error
		if !errors.As(err, &ce) || ce.Key != tc.key || ce.File != "--set" || !strings.Contains(ce.Msg, tc.msg) {
			t.Errorf("Set(%s, %s) = %v, want *Error with %q", tc.key, tc.value, err, tc.msg)
		}
	}
	if !reflect.DeepEqual(before, *e) || !reflect.DeepEqual(beforeW, e.Workloads) {
		t.Errorf("failed Set changed the experiment")
	}

	// A key that exists, but in no workload of this experiment.
	d := Default()
	for _, k := range []string{"calls", "emulation.iterations"} {
		if err := d.Set(k, "5"); err == nil || !strings.Contains(err.Error(), "no workload") {
			t.Errorf("Set(%s) on seed = %v", k, err)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := Load(missing)
	var ce *Error
	if !errors.As(err, &ce) || ce.File != missing || !strings.Contains(err.Error(), missing) {
		t.Errorf("Load(missing) = %v", err)
	}
	dir := t.TempDir()
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("Load(dir) = %v", err)
	}
	if os.Geteuid() != 0 {
		p := filepath.Join(t.TempDir(), "locked.yaml")
		if err := os.WriteFile(p, []byte(good), 0); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("Load(unreadable) = %v", err)
		}
	}
	p := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(p, []byte(good+"bogus: 1\n"), 0o644)
	if _, err := Load(p); !errors.As(err, &ce) || ce.File != p || ce.Line != 5 {
		t.Errorf("Load(bad) = %v", err)
	}
}

func TestParamNames(t *testing.T) {
	if got := ParamNames(workload.AwaitLoop); !reflect.DeepEqual(got, []string{"n", "awaits", "live_locals", "extra_frame"}) {
		t.Errorf("await-loop: %v", got)
	}
	if got := ParamNames(workload.Reentry); !reflect.DeepEqual(got, []string{"extra_frame", "calls", "iterations"}) {
		t.Errorf("reentry: %v", got)
	}
	if ParamNames("spin") != nil {
		t.Error("unknown kind")
	}
}

// TestREADMEExample parses the annotated example of README.md.
func TestREADMEExample(t *testing.T) {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "```yaml\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("no yaml block in README.md")
	}
	e, err := Parse("README.md", []byte(example))
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Workloads) != 3 || e.Workloads[2].Native.Source == nil || len(e.Sweeps) != 2 || !reflect.DeepEqual(e.Engines, []sim.Engine{sim.Emu, sim.Native}) {
		t.Errorf("%+v", e)
	}
	// live_locals × hit_limit for await-loop, hit_limit for reentry and
	// for the C# workload.
	if n := len(e.Cells()); n != 4*2+2+2 {
		t.Errorf("%d cells", n)
	}
}
