package main

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/osrsim/osrsim/report"
	"github.com/osrsim/osrsim/sim/native"
)

// atExit runs after every test, e.g. to remove a built osrsim binary.
var atExit []func()

func TestMain(m *testing.M) {
	native.ChildMain()
	code := m.Run()
	for _, f := range atExit {
		f()
	}
	os.Exit(code)
}

func osrsim(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const okConfig = `name: t
engines: [emu]
workloads:
  await-loop:
    n: 12000
    awaits: 50
`

// Every kind of bad input: exit 2, a message naming the file and line where
// there is one, and nothing written.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	cfg := func(name, body string) string { return writeFile(t, dir, name, body) }
	notDir := writeFile(t, dir, "plain-file", "x")
	for _, tc := range []struct {
		name string
		args []string
		want []string // substrings of stderr
	}{
		{"yaml syntax", []string{cfg("syntax.yaml", "name: t\nworkloads: [\n")}, []string{"syntax.yaml:"}},
		{"unknown key", []string{cfg("unknown.yaml", okConfig+"colour: blue\n")}, []string{"unknown.yaml:7", "colour"}},
		{"wrong type", []string{cfg("type.yaml", strings.Replace(okConfig, "awaits: 50", "awaits: many", 1))}, []string{"type.yaml:6", "awaits"}},
		{"negative count", []string{cfg("neg.yaml", strings.Replace(okConfig, "awaits: 50", "awaits: -5", 1))}, []string{"neg.yaml:6", "awaits"}},
		{"zero samples", []string{cfg("zero.yaml", okConfig+"native:\n  samples: 0\n")}, []string{"zero.yaml:8", "samples"}},
		{"unknown strategy", []string{cfg("strat.yaml", okConfig+"strategies: [helper, teleport]\n")}, []string{"strat.yaml:7", "teleport"}},
		{"unknown workload", []string{cfg("wl.yaml", "name: t\nworkloads:\n  spin-loop:\n    n: 1\n")}, []string{"wl.yaml:3", "spin-loop"}},
		{"empty sweep", []string{cfg("sweep.yaml", okConfig+"sweeps:\n  live_locals: []\n")}, []string{"sweep.yaml:8", "live_locals"}},
		{"unreadable file", []string{filepath.Join(dir, "missing.yaml")}, []string{"missing.yaml"}},
		{"conflicting flags", []string{"--engine", "native", "--exact"}, []string{"conflicts"}},
		{"set unknown key", []string{"--set", "colour=blue"}, []string{"colour"}},
		{"set out of range as in a file", []string{"--set", "native.launches=5000"}, []string{"--set: native.launches: must be at most 1024, got 5000"}},
		{"file out of range", []string{cfg("launches.yaml", okConfig+"native:\n  launches: 5000\n")}, []string{"launches.yaml:8: native.launches: must be at most 1024, got 5000"}},
		{"every mistake", []string{cfg("two.yaml", strings.Replace(okConfig, "awaits: 50", "awaits: -5", 1)+"native:\n  samples: 0\n")},
			[]string{"two.yaml:6: workloads.await-loop.awaits: must not be negative", "two.yaml:8: native.samples: must be positive"}},
		{"set bad value", []string{"--set", "awaits=-1"}, []string{"awaits"}},
		{"set without =", []string{"--set", "awaits"}, []string{"key=value"}},
		{"unknown flag", []string{"--fast"}, []string{"--fast"}},
		{"flag without value", []string{"--engine"}, []string{"--engine"}},
		{"bad engine", []string{"--engine", "gpu"}, []string{"gpu"}},
		{"bad --strategy", []string{"--strategy", "direct,teleport"}, []string{"teleport"}},
		{"output not a directory", []string{"--out", notDir}, []string{"not a directory"}},
		{"output under a file", []string{"--out", filepath.Join(notDir, "sub")}, []string{"not a directory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, "out-"+strings.ReplaceAll(tc.name, " ", "-"))
			args := append([]string{"run"}, tc.args...)
			if !containsFlag(tc.args, "--out") {
				args = append(args, "--out", out)
			}
			code, _, stderr := osrsim(t, args...)
			if code != exitBadInput {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitBadInput, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not mention %q", stderr, w)
				}
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("%s was written", out)
			}
		})
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("leftover %s", e.Name())
		}
	}
}

func containsFlag(args []string, f string) bool {
	for _, a := range args {
		if a == f || strings.HasPrefix(a, f+"=") {
			return true
		}
	}
	return false
}

// A config with more mistakes than the cap: the first maxConfigErrors, one
// per line in line order, then how many more.
func TestConfigErrorCap(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: t\nworkloads:\n  await-loop:\n    n: 20000\n")
	for i := 0; i < maxConfigErrors+3; i++ {
		fmt.Fprintf(&b, "bogus%d: 1\n", i)
	}
	p := writeFile(t, t.TempDir(), "many.yaml", b.String())
	code, _, stderr := osrsim(t, "run", p, "--out", filepath.Join(t.TempDir(), "out"))
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if code != exitBadInput || len(lines) != maxConfigErrors+1 || lines[maxConfigErrors] != "osrsim: (and 3 more errors)" {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	for i, l := range lines[:maxConfigErrors] {
		if want := fmt.Sprintf("osrsim: %s:%d: bogus%d: unknown key", p, 5+i, i); !strings.HasPrefix(l, want) {
			t.Errorf("line %d: %q, want %q...", i, l, want)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	if code, _, _ := osrsim(t, "frobnicate"); code != exitBadInput {
		t.Fatalf("exit %d", code)
	}
}

// A config with flags after it, overrides, and a report that reads back.
func TestRunWritesReport(t *testing.T) {
	dir := t.TempDir()
	c := writeFile(t, dir, "t.yaml", okConfig)
	out := filepath.Join(dir, "out")
	code, stdout, stderr := osrsim(t, "run", c, "--strategy", "helper,direct", "--set", "awaits=40", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !regexp.MustCompile(`(?m)^direct +484\.9 +4\.43 +`).MatchString(stdout) {
		t.Errorf("summary lacks the direct row:\n%s", stdout)
	}
	r, err := report.ReadJSON(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Results) != 2 || r.Results[0].Params["awaits"] != report.Int(40) || r.Results[1].Resumptions != 40 {
		t.Fatalf("results %+v", r.Results)
	}
	for _, f := range []string{"report.md", "report.csv", "per-resume-await-loop.svg", "per-resume-await-loop.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestImageAndDisasm(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "img")
	if code, _, stderr := osrsim(t, "image", "--strategy", "direct", "--out", out); code != 0 {
		t.Fatalf("image: exit %d: %s", code, stderr)
	}
	for _, f := range []string{"image.json", "code.bin", "data.bin"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	code, stdout, stderr := osrsim(t, "disasm", "--strategy", "direct")
	if code != 0 {
		t.Fatalf("disasm: exit %d: %s", code, stderr)
	}
	for _, w := range []string{"Foo.tier0", "Foo.osr@0x14", "patchpoint.helper", "runtime.dispatch"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("listing lacks %s", w)
		}
	}
	// Headers say what each function and step range counts for.
	for _, re := range []string{`(?m)^; ==== func Foo\.tier0 .* \(region tier0\)`, `(?m)^; ==== func patchpoint\.rtl_capture_context .* \(region helper, step capture\)`,
		`(?m)^; ---- helper\.unwind \[.*\) \(step unwind\)$`} {
		if !regexp.MustCompile(re).MatchString(stdout) {
			t.Errorf("listing lacks %s", re)
		}
	}
	js, err := os.ReadFile(filepath.Join(out, "image.json"))
	if err != nil {
		t.Fatal(err)
	}
	var im struct {
		Symbols []struct{ Name, Region, Step string }
		Steps   []struct{ Region, Name string }
	}
	if err := json.Unmarshal(js, &im); err != nil {
		t.Fatal(err)
	}
	meta := map[string]string{}
	for _, s := range im.Symbols {
		meta[s.Name] = s.Region + "/" + s.Step
	}
	for name, want := range map[string]string{"Foo.tier0": "tier0/", "Foo.osr@0x14": "osr/", "patchpoint.virtual_unwind": "helper/unwind",
		"helper.counter": "helper/counter", "runtime.dispatch": "runtime/dispatch", "runtime.write_barrier": "runtime/write_barrier", "host.entry": "host/"} {
		if meta[name] != want {
			t.Errorf("image.json: %s is %q, want %q", name, meta[name], want)
		}
	}
	if len(im.Steps) == 0 || im.Steps[0].Name != "stub" || im.Steps[0].Region != "helper" {
		t.Errorf("image.json steps %+v", im.Steps)
	}
	if code, _, _ := osrsim(t, "image"); code != exitBadInput {
		t.Errorf("image without --out: exit %d", code)
	}
}

// image --elf writes the image as an ELF executable, alone or next to the
// image directory.
func TestImageELF(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "sub", "img.elf")
	if code, _, stderr := osrsim(t, "image", "--strategy", "helper", "--elf", exe); code != 0 {
		t.Fatalf("image --elf: exit %d: %s", code, stderr)
	}
	f, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, name := range []string{".text", ".data", ".eh_frame", ".eh_frame_hdr", ".symtab"} {
		if f.Section(name) == nil {
			t.Errorf("no section %s", name)
		}
	}
	syms, _ := f.Symbols()
	kinds := map[string]elf.SymType{}
	for _, s := range syms {
		kinds[s.Name] = elf.ST_TYPE(s.Info)
	}
	if kinds["patchpoint.worker"] != elf.STT_FUNC || kinds["patchpoint.nibble_map"] != elf.STT_OBJECT {
		t.Errorf("symbol types %v", kinds)
	}
	if code, _, _ := osrsim(t, "image", "--elf", dir); code != exitBadInput {
		t.Errorf("--elf DIR: exit %d", code)
	}
}

// trace writes Chrome trace JSON with helper-step slices and an event for
// every forced helper call, transition and resumption of a small run.
func TestTrace(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sub", "t.json")
	code, stdout, stderr := osrsim(t, "trace", "--strategy", "helper", "--set", "emulation.awaits=3", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		TraceEvents []struct {
			Name, Ph, Cat string
		} `json:"traceEvents"`
	}
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, e := range tr.TraceEvents {
		n[e.Ph+" "+e.Name]++
		if e.Ph == "X" && e.Name == "helper.unwind" && e.Cat != "helper" {
			t.Errorf("%s in category %q, want its region", e.Name, e.Cat)
		}
	}
	// 10 helper calls get the method into OSR; each of 3 resumptions calls
	// the forced helper, which transitions. Slices are stays: the worker's
	// unwind step is left for 3 IsManagedCode, 2 native lookups, 3 virtual
	// unwinds and the EECodeInfo of tier0 per transition, so it has 9
	// slices each.
	for k, want := range map[string]int{"i helper": 10, "i forced": 3, "i transition": 4, "i resume": 3,
		"X helper.unwind": 4 * 9, "X patchpoint.rtl_capture_context": 4, "X patchpoint.virtual_unwind": 4 * 3,
		"X patchpoint.is_managed_code": 4 * 3, "X patchpoint.lookup_function_entry": 4 * 2} {
		if n[k] != want {
			t.Errorf("%q: %d, want %d (stdout %s)", k, n[k], want, stdout)
		}
	}
	if _, err := os.Stat(strings.TrimSuffix(out, ".json") + ".jsonl"); err != nil {
		t.Error(err)
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	c := writeFile(t, dir, "t.yaml", okConfig)
	b := filepath.Join(dir, "base.json")
	if code, stdout, stderr := osrsim(t, "check", "--update", "--baseline", b, c); code != 0 || !strings.Contains(stdout, "recorded") {
		t.Fatalf("update: exit %d: %s%s", code, stdout, stderr)
	}
	if code, stdout, stderr := osrsim(t, "check", "--baseline", b, c); code != 0 || !strings.Contains(stdout, "0 slower") {
		t.Fatalf("unchanged: exit %d:\n%s%s", code, stdout, stderr)
	}
	// Other parameters: the baseline's cells are missing from this run.
	if code, stdout, _ := osrsim(t, "check", "--baseline", b, c, "--set", "live_locals=1"); code != exitRegression || !strings.Contains(stdout, "missing") {
		t.Fatalf("changed cells: exit %d:\n%s", code, stdout)
	}
	if code, _, stderr := osrsim(t, "check", "--baseline", filepath.Join(dir, "none.json"), c); code != exitBadInput || !strings.Contains(stderr, "none.json") {
		t.Fatalf("missing baseline: exit %d: %s", code, stderr)
	}
	if code, _, _ := osrsim(t, "check", "--baseline", b, c, "--native", "sometimes"); code != exitBadInput {
		t.Fatalf("bad --native: exit %d", code)
	}
}

// check without a config runs the experiment the baseline records; a
// config of another experiment is refused; one of the same experiment
// that differs gets a note.
func TestCheckRecordedConfig(t *testing.T) {
	dir := t.TempDir()
	c := writeFile(t, dir, "t.yaml", okConfig)
	b := filepath.Join(dir, "base.json")
	if code, _, stderr := osrsim(t, "check", "--update", "--baseline", b, c, "--set", "awaits=30"); code != 0 {
		t.Fatalf("update: exit %d: %s", code, stderr)
	}
	rec, err := report.ReadJSON(b)
	if err != nil || !strings.Contains(rec.Config, "name: t\n") || !strings.Contains(rec.Config, "    awaits: 30\n") || !strings.Contains(rec.Config, "engines: [emu]\n") {
		t.Fatalf("recorded config (%v):\n%s", err, rec.Config)
	}
	// The config file may be gone: the baseline says what to run.
	os.Remove(c)
	if code, stdout, stderr := osrsim(t, "check", "--baseline", b); code != 0 || !strings.Contains(stdout, ", 0 slower: ok") || stderr != "" {
		t.Fatalf("without a config: exit %d:\n%s%s", code, stdout, stderr)
	}
	// --set applies to the recorded config; --update re-records it.
	if code, stdout, _ := osrsim(t, "check", "--baseline", b, "--set", "awaits=31"); code != exitRegression || !strings.Contains(stdout, "missing") {
		t.Fatalf("recorded config with --set: exit %d:\n%s", code, stdout)
	}
	if code, _, stderr := osrsim(t, "check", "--update", "--baseline", b); code != 0 {
		t.Fatalf("update without a config: exit %d: %s", code, stderr)
	}
	if again, _ := report.ReadJSON(b); again.Config != rec.Config {
		t.Errorf("re-recorded config:\n%s\nwas\n%s", again.Config, rec.Config)
	}

	other := writeFile(t, dir, "other.yaml", strings.Replace(okConfig, "name: t", "name: other", 1))
	code, _, stderr := osrsim(t, "check", "--baseline", b, other)
	if code != exitBadInput || !strings.Contains(stderr, `other.yaml is experiment "other", but baseline `+b+` is of "t"`) {
		t.Fatalf("another experiment: exit %d: %s", code, stderr)
	}
	same := writeFile(t, dir, "same.yaml", okConfig)
	code, _, stderr = osrsim(t, "check", "--baseline", b, same)
	if code != exitRegression || !strings.Contains(stderr, "note: the config differs from the one baseline "+b+" records:\n  -     awaits: 30\n  +     awaits: 50\n") {
		t.Fatalf("same experiment, other config: exit %d: %s", code, stderr)
	}

	// A baseline from before baselines recorded their config.
	rec.Config = ""
	data, _ := report.JSON(rec)
	oldStyle := writeFile(t, dir, "old.json", string(data))
	if code, _, stderr := osrsim(t, "check", "--baseline", oldStyle); code != exitBadInput || !strings.Contains(stderr, "does not record its experiment's config") {
		t.Fatalf("old baseline: exit %d: %s", code, stderr)
	}
}

// The checked-in baselines record their configs: check needs no config.
func TestCheckCheckedInBaseline(t *testing.T) {
	code, stdout, stderr := osrsim(t, "check", "--baseline", filepath.Join("..", "..", "results", "baselines", "reentry.json"))
	if code != 0 || !strings.Contains(stdout, "0 slower: ok") {
		t.Fatalf("exit %d:\n%s%s", code, stdout, stderr)
	}
}

// A first run in an empty directory creates results/<experiment>/.
func TestRunCreatesResultsDir(t *testing.T) {
	dir := t.TempDir()
	c := writeFile(t, dir, "t.yaml", okConfig)
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	if code, _, stderr := osrsim(t, "run", c, "--quiet"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "results", "t", "report.md")); err != nil {
		t.Fatal(err)
	}
}
