package baseline

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "seed.json")
	r := defaultEmu()
	if err := Save(path, r); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, r)
	}
	// Overwrite in place; nothing else is left in the directory.
	r2 := clone(r)
	r2.Results[0].Instructions.Total++
	if err := Save(path, r2); err != nil {
		t.Fatal(err)
	}
	if got, _ := Load(path); got.Results[0].Instructions.Total != r2.Results[0].Instructions.Total {
		t.Error("Save did not replace the baseline")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("directory holds %d entries", len(ents))
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", fi.Mode())
	}
}

func TestSaveFailureLeavesBaseline(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "seed.json")
	if err := Save(path, defaultEmu()); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	bad := defaultEmu()
	bad.Results = nil
	if err := Save(path, bad); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("saving an empty report: %v", err)
	}
	if err := Save(filepath.Join(dir, "no", "such", "dir.json"), defaultEmu()); err == nil {
		t.Error("saving into a missing directory: no error")
	}
	if err := Save(dir, defaultEmu()); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("saving over a directory: %v", err)
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Error("a failed Save changed the baseline")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("directory holds %d entries after failed saves", len(ents))
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct{ path, want string }{
		{filepath.Join(dir, "missing.json"), "does not exist"},
		{write("corrupt.json", `{"experiment": "seed", "results": [`), "not a valid report.json"},
		{write("trailing.json", `{"results": [{"workload":"w","strategy":"s","engine":"emu"}]} {}`), "data after the report"},
		{write("empty.json", `{}`), "holds no results"},
		{write("other.json", `{"results": [{"name": "x"}]}`), "no workload, strategy or engine"},
		{write("dup.json", `{"results": [{"workload":"w","strategy":"s","engine":"emu"},{"workload":"w","strategy":"s","engine":"emu"}]}`), "same cell"},
	} {
		_, err := Load(c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.path) {
			t.Errorf("Load(%s) = %v, want an error naming the file with %q", filepath.Base(c.path), err, c.want)
		}
	}
}

func TestLoadMissingIsNotExist(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "seed.json"))
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "osrsim check --update") {
		t.Errorf("Load of a missing file: %v", err)
	}
}

func TestMerge(t *testing.T) {
	a := rep(emuResult("helper", 0))
	b := rep(emuResult("helper", 64), emuResult("direct", 64))
	b.Experiment = "frame-size"
	m, err := Merge(a, b)
	if err != nil || m.Experiment != "seed+frame-size" || len(m.Results) != 3 {
		t.Fatalf("Merge = %+v, %v", m, err)
	}
	if v := Compare(m, clone(m), DefaultOptions()); v.Status != OK {
		t.Errorf("merged report against itself: %v", v.Status)
	}
	if _, err := Merge(a, clone(a)); err == nil || !strings.Contains(err.Error(), "same cell") {
		t.Errorf("merging duplicates: %v", err)
	}
	if m, err := Merge(a); err != nil || m != a {
		t.Errorf("Merge of one report: %v", err)
	}
	// The configs of the experiments, each once, split back apart.
	a.Config, b.Config = "name: seed\nworkloads: {}\n", "name: frame-size\n"
	c := rep(emuResult("direct", 0))
	c.Config = a.Config
	m, err = Merge(a, b, c)
	if want := []string{a.Config, b.Config}; err != nil || !reflect.DeepEqual(Configs(m), want) || m.Config != a.Config+"---\n"+b.Config {
		t.Errorf("configs %q (%v), want %q", Configs(m), err, want)
	}
	if got := Configs(rep(emuResult("helper", 0))); got != nil {
		t.Errorf("no config: %q", got)
	}
}
