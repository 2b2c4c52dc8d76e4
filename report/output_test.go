package report

import (
	"bytes"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/osrsim/osrsim/sim"
)

func TestMarkdown(t *testing.T) {
	r := fixture()
	Compare(r, "helper")
	md := Markdown(r)
	for _, want := range []string{
		"# osrsim report: seed\n",
		"osrsim v0.1.0, Go go1.26.8, libunicorn 2.1.3\nOS: linux/amd64\nCPU: Test CPU @ 3.0GHz\nBaseline: helper\n",
		"## await-loop (awaits=100000, n=20000)\n",
		"| Strategy | Instr/resume | Helper calls (normal/forced) | OSR entries (helper/jump) | Est. cycles/resume | Native ns/resume ± CI95 | Median ns | n | Ratio (instr) | Ratio (cycles) | Ratio (native) |",
		"| helper | 1,946.2 | 10 / 100,000 | 100,001 / 0 | 4,000.0 | 1,947.3 ± 2.90 | 1,948.0 | 9 | 1.00 (baseline) | 1.00 (baseline) | 1.00 (baseline) |",
		"| direct | 308.9 | 10 / 0 | 1 / 100,000 | 900.0 | 80.00 ± 0.83 | 80.00 | 10 | 6.30 | 4.44 | 24.35 (faster, p=0.000) |",
		"| helper-return | 308.9 | 10 / 0 | 1 / 100,000 | 910.0 | 80.00 ± 2.48 | 80.00 | 3 | 6.30 | 4.40 | 24.35 (too few samples) |",
		// A sweep point without native results has no native columns.
		"| helper | 1,946.2 | 10 / 1,000 | 1,001 / 0 | 4,000.0 | 1.00 (baseline) | 1.00 (baseline) |",
		"| Strategy | tier0 | osr | helper | runtime | total |",
		"| helper | 50.00 | 300.0 | 1,500.0 | 96.20 | 1,946.2 |",
		"| direct | 50.00 | 208.9 | 0.00 | 50.00 | 308.9 |",
		"Steps of the patchpoint helper, instructions per resume:\n\n| Strategy | stub | capture | unwind | restore |",
		"| helper | 10.00 | 40.00 | 90.00 | 30.00 |",
		"| direct | — | — | — | — |",
		// Comparisons name each parameter point once: what every point
		// shares in a line, the rest in a heading per point.
		"## Comparisons\n\nEvery point below has n=20000.\n\n### await-loop (awaits=100000)\n\n| Engine | Metric | Baseline | Candidate | Ratio | p | n | Verdict |\n",
		"| native | native.ns_per_resume | helper | direct | 24.35 | 0.000 | 10+10 | faster |",
		"### await-loop (awaits=1000)\n\n| Engine |",
		"## Legend\n",
		"- **Ratio**: baseline / this strategy, baseline `helper`: above 1",
		"ratio of the medians",
		"Exact and deterministic",
		"Upper outliers (Tukey fences",
		"## Hints\n\n- await-loop (awaits=100000, n=20000) helper: 1 outlier(s) detected, 1 upper removed (9 samples kept of 10)\n",
		"## Warnings\n\n- await-loop (awaits=100000, n=20000): native helper vs helper-return has 10 and 3 samples",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
	// No table row repeats the parameters.
	for _, line := range strings.Split(md[strings.Index(md, "## Comparisons"):], "\n") {
		if strings.HasPrefix(line, "|") && strings.Contains(line, "=") {
			t.Errorf("comparison row names parameters: %s", line)
		}
	}
	// Sweep points in ascending order.
	i1, i2, i3 := strings.Index(md, "(awaits=1000,"), strings.Index(md, "(awaits=10000,"), strings.Index(md, "(awaits=100000,")
	if !(i1 < i2 && i2 < i3) {
		t.Errorf("groups out of order: %d %d %d", i1, i2, i3)
	}
	// Every table row has as many cells as its header.
	var cols int
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "|") {
			cols = 0
			continue
		}
		n := strings.Count(line, " | ") + 1
		if cols == 0 {
			cols = n
		} else if n != cols && !strings.HasPrefix(line, "|:") && !strings.HasPrefix(line, "|-") {
			t.Errorf("row has %d cells, header %d: %s", n, cols, line)
		}
	}
}

func TestMarkdownMinimal(t *testing.T) {
	// No comparisons, no native, no env: no ratio or native columns, no
	// legend entries for them, "unknown" environment.
	r := &Report{Results: []Result{{Workload: "reentry", Strategy: "direct", Engine: sim.Emu, Ops: 4,
		Instructions: &Instructions{Total: 10, PerResume: 2.5}}}}
	md := Markdown(r)
	for _, want := range []string{"osrsim unknown, Go unknown, libunicorn unknown", "## reentry\n\n", "| Strategy | Instr/resume |\n", "| direct | 2.50 |\n"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
	for _, bad := range []string{"Ratio", "Native", "## Warnings", "## Comparisons"} {
		if strings.Contains(md, bad) {
			t.Errorf("Markdown has %q:\n%s", bad, md)
		}
	}
}

// csvRecords renders r as CSV and parses it back.
func csvRecords(t *testing.T, r *Report) [][]string {
	t.Helper()
	data, err := CSV(r)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestCSV(t *testing.T) {
	r := fixture()
	recs := csvRecords(t, r)
	if len(recs) != len(r.Results)+1 {
		t.Fatalf("%d records, want header + %d", len(recs), len(r.Results))
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, h := range []string{"workload", "strategy", "engine", "params.awaits", "params.n", "instructions_total", "instructions_per_resume",
		"by_region.tier0", "by_region.osr", "by_region.helper", "by_region.runtime", "by_step.unwind",
		"helper_calls_patchpoint", "helper_calls_patchpoint_forced", "osr_entries_via_helper", "osr_entries_via_jump",
		"suspensions", "resumptions", "cycles_total", "native_mean_ns", "native_median_ns", "native_ci95_lo_ns", "native_ci95_hi_ns", "s_value", "checksum"} {
		if _, ok := col[h]; !ok {
			t.Errorf("no column %q in %v", h, recs[0])
		}
	}
	if !sort.StringsAreSorted([]string{recs[0][col["params.awaits"]], recs[0][col["params.n"]]}) {
		t.Error("params columns not sorted")
	}
	first := recs[1]
	for k, want := range map[string]string{"workload": "await-loop", "strategy": "helper", "engine": "emu", "params.awaits": "100000",
		"instructions_total": "194620000", "instructions_per_resume": "1946.2", "by_region.helper": "150000000",
		"helper_calls_patchpoint_forced": "100000", "native_mean_ns": "", "s_value": "199990000", "checksum": "c0ffee"} {
		if got := first[col[k]]; got != want {
			t.Errorf("row 1 %s = %q, want %q", k, got, want)
		}
	}
	nat := recs[len(recs)-3] // native helper
	if nat[col["engine"]] != "native" || nat[col["native_median_ns"]] != "1948" || nat[col["native_n"]] != "9" ||
		nat[col["native_samples"]] != "10" || nat[col["instructions_total"]] != "" {
		t.Errorf("native row %v", nat)
	}
}

func TestPlots(t *testing.T) {
	r := fixture()
	files, err := Plots(r)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
		checkImage(t, f.Name, f.Data)
	}
	want := []string{"per-resume-await-loop.svg", "per-resume-await-loop.png", "steps-helper-await-loop.svg", "steps-helper-await-loop.png",
		"sweep-awaits.svg", "sweep-awaits.png", "native-await-loop.svg", "native-await-loop.png"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("plots %v, want %v", names, want)
	}
	// Two sweeps: each chart fixes the other key; a workload name with
	// odd characters gets a safe file name; no native, no native chart.
	r = &Report{Sweeps: []string{"a", "b"}}
	for _, a := range []int64{1, 2, 3} {
		for _, b := range []int64{10, 20} {
			for _, s := range []string{"helper", "direct"} {
				r.Results = append(r.Results, Result{Workload: "my/work load", Strategy: s, Engine: sim.Emu,
					Params: Params{"a": Int(a), "b": Int(b)}, Ops: 10,
					Instructions: &Instructions{Total: uint64(100 * a * b), PerResume: float64(10 * a * b)}})
			}
		}
	}
	files, err = Plots(r)
	if err != nil {
		t.Fatal(err)
	}
	names = nil
	for _, f := range files {
		names = append(names, f.Name)
		checkImage(t, f.Name, f.Data)
	}
	want = []string{"per-resume-my_work_load.svg", "per-resume-my_work_load.png", "sweep-a.svg", "sweep-a.png", "sweep-b.svg", "sweep-b.png"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("plots %v, want %v", names, want)
	}
}

func checkImage(t *testing.T, name string, data []byte) {
	t.Helper()
	switch filepath.Ext(name) {
	case ".svg":
		if !bytes.HasPrefix(data, []byte("<?xml")) && !bytes.HasPrefix(data, []byte("<svg")) {
			t.Errorf("%s does not start like SVG: %q", name, data[:min(len(data), 20)])
		}
		if !bytes.Contains(data, []byte("</svg>")) {
			t.Errorf("%s is not a complete SVG", name)
		}
	case ".png":
		if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
			t.Errorf("%s lacks the PNG magic", name)
		}
	default:
		t.Errorf("unexpected plot %s", name)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func TestWriteDir(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	r := fixture()
	Compare(r, "helper")
	files, err := WriteDir(r, dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"native-await-loop.png", "native-await-loop.svg", "per-resume-await-loop.png", "per-resume-await-loop.svg",
		"report.bench", "report.csv", "report.json", "report.md", "steps-helper-await-loop.png", "steps-helper-await-loop.svg", "sweep-awaits.png", "sweep-awaits.svg"}
	if got := dirNames(t, dir); !reflect.DeepEqual(got, want) {
		t.Errorf("dir has %v, want %v", got, want)
	}
	if len(files) != len(want) || files[0] != filepath.Join(dir, want[0]) {
		t.Errorf("files %v", files)
	}
	if got := dirNames(t, parent); !reflect.DeepEqual(got, []string{"out"}) {
		t.Errorf("parent has %v, want only out", got)
	}
	back, err := ReadJSON(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, r) {
		t.Errorf("report.json round trip differs:\n%+v\n%+v", back, r)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	if string(md) != Markdown(r) {
		t.Error("report.md differs from Markdown(r)")
	}
	recs, err := csv.NewReader(mustOpen(t, filepath.Join(dir, "report.csv"))).ReadAll()
	if err != nil || len(recs) != len(r.Results)+1 {
		t.Errorf("report.csv: %d records, %v", len(recs), err)
	}
	for _, n := range want {
		if strings.HasSuffix(n, ".svg") || strings.HasSuffix(n, ".png") {
			data, _ := os.ReadFile(filepath.Join(dir, n))
			checkImage(t, n, data)
		}
	}

	// Again over the previous report: replaced, stale files gone, nothing
	// left in the parent.
	if err := os.WriteFile(filepath.Join(dir, "sweep-old.svg"), []byte("stale"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.Experiment = "second"
	r.Sweeps = nil
	if _, err := WriteDir(r, dir); err != nil {
		t.Fatal(err)
	}
	back, err = ReadJSON(filepath.Join(dir, "report.json"))
	if err != nil || back.Experiment != "second" {
		t.Errorf("second report: %v %v", back, err)
	}
	for _, n := range dirNames(t, dir) {
		if strings.HasPrefix(n, "sweep-") {
			t.Errorf("stale %s left", n)
		}
	}
	if got := dirNames(t, parent); !reflect.DeepEqual(got, []string{"out"}) {
		t.Errorf("parent has %v, want only out", got)
	}

	// An existing empty directory is fine.
	empty := filepath.Join(parent, "empty")
	os.Mkdir(empty, 0o755)
	if _, err := WriteDir(r, empty); err != nil {
		t.Errorf("empty dir: %v", err)
	}
}

func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestWriteDirRefuses(t *testing.T) {
	r := fixture()
	parent := t.TempDir()

	// A non-empty directory without report.json: refused, untouched.
	user := filepath.Join(parent, "user")
	os.Mkdir(user, 0o755)
	os.WriteFile(filepath.Join(user, "notes.txt"), []byte("mine"), 0o644)
	if _, err := WriteDir(r, user); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Errorf("user dir: err %v", err)
	}
	if got := dirNames(t, user); !reflect.DeepEqual(got, []string{"notes.txt"}) {
		t.Errorf("user dir now has %v", got)
	}

	// dir is a file.
	file := filepath.Join(parent, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	if _, err := WriteDir(r, file); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("dir is a file: err %v", err)
	}

	// The parent is a file: error names it, nothing created.
	if _, err := WriteDir(r, filepath.Join(file, "out")); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("parent is a file: err %v", err)
	}
	// The parent does not exist.
	if _, err := WriteDir(r, filepath.Join(parent, "no", "out")); err == nil || !strings.Contains(err.Error(), filepath.Join(parent, "no")) {
		t.Errorf("parent missing: err %v", err)
	}
	if got := dirNames(t, parent); !reflect.DeepEqual(got, []string{"file", "user"}) {
		t.Errorf("parent has %v", got)
	}
}

func TestWriteDirAtomicFailure(t *testing.T) {
	r := fixture()
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	boom := errors.New("boom")

	// A plot fails: no dir, nothing in the parent.
	renderHook = func(name string) error {
		if name == "native-await-loop.png" {
			return boom
		}
		return nil
	}
	_, err := WriteDir(r, dir)
	renderHook = nil
	if !errors.Is(err, boom) {
		t.Fatalf("err %v, want boom", err)
	}
	if got := dirNames(t, parent); len(got) != 0 {
		t.Errorf("parent has %v after a failed plot", got)
	}

	// Writing fails half-way (after report.json and report.md are in the
	// temporary dir): nothing left, and a previous report stays intact.
	if _, err := WriteDir(r, dir); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "report.json"))
	beforeNames := dirNames(t, dir)
	writeHook = func(name string) error {
		if name == "report.csv" {
			return boom
		}
		return nil
	}
	r2 := fixture()
	r2.Experiment = "other"
	_, err = WriteDir(r2, dir)
	writeHook = nil
	if !errors.Is(err, boom) {
		t.Fatalf("err %v, want boom", err)
	}
	if got := dirNames(t, parent); !reflect.DeepEqual(got, []string{"out"}) {
		t.Errorf("parent has %v after a failed write", got)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "report.json"))
	if !bytes.Equal(before, after) || !reflect.DeepEqual(beforeNames, dirNames(t, dir)) {
		t.Error("previous report changed by a failed write")
	}
}

func TestReadJSONErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadJSON(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("missing file: no error")
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"experiment": 3}`), 0o644)
	if _, err := ReadJSON(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("bad json: err %v", err)
	}
	ok := filepath.Join(dir, "ok.json")
	os.WriteFile(ok, []byte(`{"experiment": "x", "future_field": 1, "results": []}`), 0o644)
	if r, err := ReadJSON(ok); err != nil || r.Experiment != "x" {
		t.Errorf("unknown fields: %v %v", r, err)
	}
}
