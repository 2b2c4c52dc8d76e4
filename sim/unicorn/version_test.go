package unicorn

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/osrsim/osrsim/cycles"
	"github.com/osrsim/osrsim/patchpoint"
	"github.com/osrsim/osrsim/sim/observe"
	"github.com/osrsim/osrsim/workload"
)

// versionRun is what one libunicorn makes of a seed image.
type versionRun struct {
	Version string
	Counts  []Counts
	Ret     []uint64
	Sums    []map[string]string
	Cycles  []cycles.Counts
}

// seedRuns runs the seed workload of every strategy, counting per
// instruction, with the default cycle model.
func seedRuns(t *testing.T) versionRun {
	v := versionRun{Version: Version()}
	for _, s := range patchpoint.Strategies {
		p := workload.DefaultParams(workload.AwaitLoop)
		p.Awaits = 300
		built, err := workload.Build(p, s)
		if err != nil {
			t.Fatal(err)
		}
		e, err := cycles.NewEstimator(cycles.Default(), true)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Run(built.Image, Options{PerInstruction: true, Observers: []observe.Observer{e}})
		if err != nil {
			t.Fatal(err)
		}
		v.Counts = append(v.Counts, r.Counts)
		v.Ret = append(v.Ret, r.State.Ret)
		v.Sums = append(v.Sums, r.State.Checksums)
		v.Cycles = append(v.Cycles, *e.Counts())
		e.Close()
	}
	return v
}

// Counts, final states and cycle estimates are the same under another
// libunicorn: set OSRSIM_UNICORN_OTHER to a directory holding its
// libunicorn.so.2 (e.g. unpacked from Debian's package with dpkg -x), and
// this test runs itself again with that library.
func TestCountsAcrossVersions(t *testing.T) {
	if out := os.Getenv("OSRSIM_UNICORN_CHILD"); out != "" {
		b, err := json.Marshal(seedRuns(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(out, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	other := os.Getenv("OSRSIM_UNICORN_OTHER")
	if other == "" {
		t.Skip("OSRSIM_UNICORN_OTHER (a directory with another libunicorn.so.2) is not set")
	}
	out := filepath.Join(t.TempDir(), "other.json")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCountsAcrossVersions$")
	cmd.Env = append(os.Environ(), "OSRSIM_UNICORN_CHILD="+out, "LD_LIBRARY_PATH="+other)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var theirs versionRun
	if err := json.Unmarshal(b, &theirs); err != nil {
		t.Fatal(err)
	}
	var ours versionRun
	if b, err = json.Marshal(seedRuns(t)); err == nil {
		err = json.Unmarshal(b, &ours) // compared as the other side is
	}
	if err != nil {
		t.Fatal(err)
	}
	if theirs.Version == ours.Version {
		t.Fatalf("%s holds libunicorn %s, the one this test links", other, ours.Version)
	}
	ours.Version = theirs.Version
	if !reflect.DeepEqual(ours, theirs) {
		t.Fatalf("libunicorn %s and %s differ:\n%+v\n%+v", Version(), theirs.Version, ours, theirs)
	}
	t.Logf("libunicorn %s and %s: the same counts, final states and cycle estimates (%d instructions, %.0f cycles for %s)",
		Version(), theirs.Version, ours.Counts[0].Total, ours.Cycles[0].Estimated, patchpoint.Strategies[0])
}
