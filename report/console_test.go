package report

import (
	"strings"
	"testing"

	"github.com/osrsim/osrsim/internal/texttable"
	"github.com/osrsim/osrsim/sim"
)

// Console: one table per parameter point, the parameters every point
// shares named once, figures and ratios with the native verdict, the
// legend and the warnings, within ConsoleWidth.
func TestConsole(t *testing.T) {
	r := fixture()
	Compare(r, "helper")
	out := Console(r)
	for _, want := range []string{
		"seed: The PR's benchmark.\nosrsim v0.1.0, Go go1.26.8, libunicorn 2.1.3; Test CPU @ 3.0GHz\n",
		"\nawait-loop, every point: n=20000\n\nawait-loop awaits=1000\nStrategy         Instr  Ratio  Est. cycles  Ratio\n",
		"" +
			"await-loop awaits=100000\n" +
			"Strategy         Instr  Ratio  Est. cycles  Ratio       Native ns          Ratio\n" +
			"-------------  -------  -----  -----------  -----  --------------  -------------\n" +
			"helper         1,946.2   1.00      4,000.0   1.00  1,947.3 ± 2.90           1.00\n" +
			"direct           308.9   6.30        900.0   4.44    80.00 ± 0.83   24.35 faster\n" +
			"helper-return    308.9   6.30        910.0   4.40    80.00 ± 2.48  24.35 too few\n",
		"Ratio:\nhelper / this strategy",
		"warning: await-loop (awaits=100000, n=20000): native helper vs helper-return has\n  10 and 3 samples",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Console lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "Strategy ") != 3 || strings.Count(out, "n=20000") != 2 {
		t.Errorf("want 3 tables and n=20000 named in the common line (and a warning) only:\n%s", out)
	}
	if w := texttable.Width(out); w > ConsoleWidth {
		t.Errorf("width %d > %d:\n%s", w, ConsoleWidth, out)
	}
}

// Emulated and native results of one point ran at different scales: one
// table, each engine's scale in the heading; the shared ones with the
// point's own parameters.
func TestConsoleScales(t *testing.T) {
	r := &Report{Experiment: "x"}
	for _, s := range []string{"helper", "direct"} {
		r.Results = append(r.Results,
			Result{Workload: "await-loop", Strategy: s, Engine: sim.Emu, Ops: 10, Params: Params{"n": Int(20000), "awaits": Int(10), "live_locals": Int(2)},
				Instructions: &Instructions{Total: 1000, PerResume: 100}},
			Result{Workload: "await-loop", Strategy: s, Engine: sim.Native, Ops: 10, Params: Params{"n": Int(10000000), "awaits": Int(10), "live_locals": Int(2)},
				Native: &Native{SamplesNs: []float64{10, 11, 12}}})
	}
	out := Console(r) // no Compare: no baseline, no ratios
	want := "" +
		"await-loop awaits=10 live_locals=2\n" +
		"           emu: n=20000; native: n=10000000\n" +
		"Strategy  Instr     Native ns\n" +
		"--------  -----  ------------\n" +
		"helper    100.0  11.00 ± 2.48\n" +
		"direct    100.0  11.00 ± 2.48\n"
	if !strings.Contains(out, want) || strings.Contains(out, "Ratio") {
		t.Errorf("Console:\n%s\nwant\n%s", out, want)
	}
}
