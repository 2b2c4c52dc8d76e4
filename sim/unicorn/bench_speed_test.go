package unicorn

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/osrsim/osrsim/cycles"
	"github.com/osrsim/osrsim/patchpoint"
	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/elf"
	"github.com/osrsim/osrsim/sim/observe"
	"github.com/osrsim/osrsim/workload"
)

// speedAwaits is the scale of BenchmarkSeedSpeed: the seed workload with
// 100,000 awaits (helper: about 151M instructions), where valgrind's own
// start-up is a small part of its time.
const speedAwaits = 100_000

// BenchmarkSeedSpeed times (in CPU time, see cpuTime) one whole run of the seed image (a fresh
// machine: mapping, decoding, translation and the run) each way, in turn,
// and reports each way's speed in image instructions per second:
//
//   - raw: Unicorn with no hook at all;
//   - counting: exact counts per region, helper step and instruction
//     (block hooks, Options.PerInstruction), what osrsim reports;
//   - exact: the same counts from a per-instruction hook (verification);
//   - cycles: counting with the default cycle model attached;
//   - additive: counting with the additive cycle model (per-block costs
//     and the predictors, no out-of-order core): what an estimate costs
//     without the core model;
//   - tage: the additive model with the default model's TAGE predictor:
//     what that predictor costs alone;
//   - callgrind: `valgrind --tool=callgrind --dump-instr=yes` running the
//     same image natively through a small C loader (testdata/loader.c), the
//     per-instruction counter a user would otherwise pick; skipped when
//     valgrind or gcc is missing.
//
// and the ratios counting/callgrind speed (>= 1: counting is at least as
// fast), and cycles/counting, additive/counting and tage/counting time
// (what each model costs).
func BenchmarkSeedSpeed(b *testing.B) {
	for _, s := range []patchpoint.Strategy{patchpoint.Helper, patchpoint.Direct} {
		b.Run(s.String(), func(b *testing.B) {
			p := workload.DefaultParams(workload.AwaitLoop)
			p.Awaits = speedAwaits
			built, err := workload.Build(p, s)
			if err != nil {
				b.Fatal(err)
			}
			seedSpeed(b, built.Image)
		})
	}
}

// speedWay is one way of running the image: it returns the image
// instructions it ran, the value the entry returned and the CPU time it
// took (user + system).
type speedWay struct {
	name string
	run  func() (insts, ret uint64, cpu time.Duration, err error)
	t    time.Duration
}

// cpuTime is the CPU time this process has used so far. The ways are timed
// in CPU time rather than wall time because the machines this runs on are
// shared: wall time counts other processes' turns.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func seedSpeed(b *testing.B, im *sim.Image) {
	emu := func(opt Options, model *cycles.Model) func() (uint64, uint64, time.Duration, error) {
		return func() (uint64, uint64, time.Duration, error) {
			t0 := cpuTime()
			o := opt
			if model != nil {
				e, err := cycles.NewEstimator(model, false)
				if err != nil {
					return 0, 0, 0, err
				}
				defer e.Close()
				o.Observers = []observe.Observer{e}
			}
			r, err := Run(im, o)
			if err != nil {
				return 0, 0, 0, err
			}
			return r.Counts.Total, r.State.Ret, cpuTime() - t0, nil
		}
	}
	ways := []*speedWay{
		{name: "raw", run: emu(Options{noHooks: true}, nil)},
		{name: "counting", run: emu(Options{PerInstruction: true}, nil)},
		{name: "exact", run: emu(Options{PerInstruction: true, Exact: true}, nil)},
		{name: "cycles", run: emu(Options{PerInstruction: true}, cycles.Default())},
		{name: "additive", run: emu(Options{PerInstruction: true}, cycles.Additive())},
		{name: "tage", run: emu(Options{PerInstruction: true}, additiveTAGE())},
	}
	if cg := callgrindWay(b, im); cg != nil {
		ways = append(ways, cg)
	}
	var insts, ret uint64
	for b.Loop() {
		for _, w := range ways {
			n, r, t, err := w.run()
			w.t += t
			if err != nil {
				b.Fatalf("%s: %v", w.name, err)
			}
			if w.name == "counting" {
				insts, ret = n, r
			}
			if w.name == "callgrind" && r != ret {
				b.Fatalf("callgrind: the image returned %d natively, %d emulated", r, ret)
			}
		}
	}
	speed := map[string]float64{}
	for _, w := range ways {
		speed[w.name] = float64(insts) * float64(b.N) / w.t.Seconds()
		b.ReportMetric(speed[w.name], w.name+"-insts/s")
	}
	b.ReportMetric(speed["counting"]/speed["cycles"], "cycles/counting")
	b.ReportMetric(speed["counting"]/speed["additive"], "additive/counting")
	b.ReportMetric(speed["counting"]/speed["tage"], "tage/counting")
	if c := speed["callgrind"]; c > 0 {
		b.ReportMetric(speed["counting"]/c, "counting/callgrind")
	}
}

// additiveTAGE is the additive model with the default model's predictor.
func additiveTAGE() *cycles.Model {
	m := cycles.Additive()
	m.Name = "additive-tage"
	m.Predictor = cycles.Default().Predictor
	return m
}

// callgrindWay builds the C loader and writes im as an ELF file (package
// sim/elf), or returns nil (and logs why) when valgrind or gcc is missing.
func callgrindWay(b *testing.B, im *sim.Image) *speedWay {
	valgrind, err := exec.LookPath("valgrind")
	if err != nil {
		b.Log("valgrind not installed: no callgrind comparison")
		return nil
	}
	cc, err := exec.LookPath("gcc")
	if err != nil {
		b.Log("gcc not installed: no callgrind comparison")
		return nil
	}
	dir := b.TempDir()
	loader, image := filepath.Join(dir, "loader"), filepath.Join(dir, "image.elf")
	if out, err := exec.Command(cc, "-O2", "-o", loader, "testdata/loader.c").CombinedOutput(); err != nil {
		b.Fatalf("gcc: %v\n%s", err, out)
	}
	if err := elf.FromImage(im).WriteFile(image); err != nil {
		b.Fatal(err)
	}
	out := filepath.Join(dir, "callgrind.out")
	return &speedWay{name: "callgrind", run: func() (uint64, uint64, time.Duration, error) {
		cmd := exec.Command(valgrind, "-q", "--tool=callgrind", "--dump-instr=yes", "--callgrind-out-file="+out,
			loader, image, strconv.FormatUint(im.Arg, 10))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.Output()
		if err != nil {
			return 0, 0, 0, fmt.Errorf("%v\n%s", err, stderr.Bytes())
		}
		ret, err := strconv.ParseUint(strings.TrimSpace(string(stdout)), 10, 64)
		return 0, ret, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), err
	}}
}
