package report

import (
	"bytes"
	"testing"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
)

// report.bench reads back through benchfmt (what benchstat uses): every
// result line, its name keys, values and units, the configuration, and
// the exact units marked assume=exact.
func TestBenchRoundTrip(t *testing.T) {
	r := fixture()
	Compare(r, "helper")
	data, err := Bench(r)
	if err != nil {
		t.Fatal(err)
	}
	rd := benchfmt.NewReader(bytes.NewReader(data), "report.bench")
	type line struct {
		name           string
		instr, cycles  float64
		ns             float64
		hasNs          bool
		n, experiment  string
		awaitsInConfig string
	}
	var lines []line
	for rd.Scan() {
		switch rec := rd.Result(); rec := rec.(type) {
		case *benchfmt.SyntaxError:
			t.Fatalf("syntax error: %v\n%s", rec, data)
		case *benchfmt.Result:
			l := line{name: string(rec.Name), n: rec.GetConfig("n"), experiment: rec.GetConfig("experiment"), awaitsInConfig: rec.GetConfig("awaits")}
			for _, v := range rec.Values {
				unit, val := v.Unit, v.Value
				if v.OrigUnit != "" { // benchfmt tidied it (ns/resume → sec/resume)
					unit, val = v.OrigUnit, v.OrigValue
				}
				switch unit {
				case BenchUnitInstructions:
					l.instr = val
				case BenchUnitCycles:
					l.cycles = val
				case BenchUnitNative:
					l.ns, l.hasNs = val, true
				default:
					t.Errorf("unit %q", unit)
				}
			}
			if rec.Iters != 1 {
				t.Errorf("%s: %d iterations", l.name, rec.Iters)
			}
			lines = append(lines, l)
		}
	}
	if err := rd.Err(); err != nil {
		t.Fatal(err)
	}
	// Three points of three strategies; the one with native results has
	// a line per sample (10, 10 and 3).
	if len(lines) != 2*3+10+10+3 {
		t.Fatalf("%d lines:\n%s", len(lines), data)
	}
	first := lines[0]
	if first.name != "AwaitLoop/strategy=helper/awaits=1000" || first.instr != 1946.2 || first.cycles != 4000 || first.hasNs ||
		first.n != "20000" || first.experiment != "seed" || first.awaitsInConfig != "" {
		t.Errorf("first line %+v", first)
	}
	var direct []float64
	for _, l := range lines {
		if l.name == "AwaitLoop/strategy=direct/awaits=100000" {
			if l.instr != 308.9 || !l.hasNs {
				t.Errorf("%+v", l)
			}
			direct = append(direct, l.ns)
		}
	}
	if want := r.Results[len(r.Results)-2].Native.SamplesNs; len(direct) != len(want) || direct[0] != want[0] || direct[9] != want[9] {
		t.Errorf("direct samples %v, want %v", direct, want)
	}
	units := rd.Units()
	for unit, want := range map[string]benchmath.Assumption{BenchUnitInstructions: benchmath.AssumeExact, BenchUnitCycles: benchmath.AssumeExact, BenchUnitNative: benchmath.AssumeNothing} {
		if got := units.GetAssumption(unit); got != want {
			t.Errorf("%s: assumption %v, want %v", unit, got, want)
		}
	}
}

func TestBenchName(t *testing.T) {
	for in, want := range map[string]string{"await-loop": "AwaitLoop", "reentry": "Reentry", "bench.cs": "Bench.cs"} {
		if got := benchName(in); got != want {
			t.Errorf("benchName(%q) = %q, want %q", in, got, want)
		}
	}
}
