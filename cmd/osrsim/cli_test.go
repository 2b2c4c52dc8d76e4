package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/osrsim/osrsim/internal/texttable"
	"github.com/osrsim/osrsim/report"
	"github.com/osrsim/osrsim/sim"
)

// Every command answers --help and -h on stdout with exit 0: its usage,
// an example and every flag it has.
func TestHelp(t *testing.T) {
	root, _ := newRoot()
	for _, c := range root.Commands() {
		if c.Hidden || c.Name() == "help" {
			continue
		}
		for _, h := range []string{"--help", "-h"} {
			code, stdout, stderr := osrsim(t, c.Name(), h)
			if code != exitOK || stderr != "" {
				t.Errorf("%s %s: exit %d, stderr %q", c.Name(), h, code, stderr)
			}
			if !strings.Contains(stdout, "Usage:\n  osrsim "+c.Name()) {
				t.Errorf("%s %s: no usage line:\n%s", c.Name(), h, stdout)
			}
			if c.Example == "" || !strings.Contains(stdout, "Examples:\n") {
				t.Errorf("%s %s: no example:\n%s", c.Name(), h, stdout)
			}
			c.LocalFlags().VisitAll(func(f *pflag.Flag) {
				if !strings.Contains(stdout, "--"+f.Name+" ") && !strings.Contains(stdout, "--"+f.Name+"\n") {
					t.Errorf("%s %s: flag --%s not listed", c.Name(), h, f.Name)
				}
			})
		}
	}
	// The top level lists every command.
	code, stdout, _ := osrsim(t, "--help")
	for _, c := range root.Commands() {
		if !c.Hidden && !strings.Contains(stdout, "\n  "+c.Name()+" ") {
			t.Errorf("--help does not list %s (exit %d):\n%s", c.Name(), code, stdout)
		}
	}
	if code, stdout, _ := osrsim(t, "help", "check"); code != exitOK || !strings.Contains(stdout, "--baseline FILE") {
		t.Errorf("help check: exit %d:\n%s", code, stdout)
	}
}

// Usage errors: exit 2, the message and a pointer to help, each on a line
// of its own, and nothing on stdout.
func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
		cmd  string
	}{
		{[]string{"run", "--fast"}, "unknown flag: --fast", "osrsim run"},
		{[]string{"check", "-x"}, "unknown shorthand flag: 'x' in -x", "osrsim check"},
		{[]string{"check"}, `required flag(s) "baseline" not set`, "osrsim check"},
		{[]string{"image"}, "at least one of the flags in the group [out elf] is required", "osrsim image"},
		{[]string{"trace", "--out"}, "flag needs an argument: --out", "osrsim trace"},
		{[]string{"disasm", "a.yaml", "b.yaml"}, "osrsim disasm takes at most 1 CONFIG, got 2", "osrsim disasm"},
		{[]string{"calibrate", "x.yaml"}, `osrsim calibrate takes no arguments, got "x.yaml"`, "osrsim calibrate"},
		{[]string{"frobnicate"}, `unknown command "frobnicate" for "osrsim"`, "osrsim"},
		{[]string{"completion", "tcsh"}, "osrsim completion wants one shell: bash, zsh, fish, powershell", "osrsim completion"},
		{nil, "a command is required", "osrsim"},
	} {
		code, stdout, stderr := osrsim(t, tc.args...)
		want := "osrsim: " + tc.msg + "\nRun '" + tc.cmd + " --help' for usage.\n"
		if code != exitBadInput || !strings.HasSuffix(stderr, want) {
			t.Errorf("%q: exit %d, stderr %q, want exit 2 and %q", tc.args, code, stderr, want)
		}
		if stdout != "" {
			t.Errorf("%q: stdout %q", tc.args, stdout)
		}
	}
}

// completion prints a script for each shell that completes osrsim.
func TestCompletion(t *testing.T) {
	for shell, want := range map[string]string{"bash": "__start_osrsim", "zsh": "#compdef osrsim", "fish": "complete -c osrsim", "powershell": "Register-ArgumentCompleter"} {
		code, stdout, stderr := osrsim(t, "completion", shell)
		if code != exitOK || !strings.Contains(stdout, want) {
			t.Errorf("completion %s: exit %d, stderr %q, script lacks %q", shell, code, stderr, want)
		}
	}
	// The script asks osrsim itself: flag values and --set keys complete.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--strategy", ""}, "helper-return\n"},
		{[]string{"run", "--engine", ""}, "both\n"},
		{[]string{"check", "--native", ""}, "enforce\n"},
		{[]string{"run", "--set", "native.s"}, "native.samples=\n"},
		{[]string{"run", "--set", "emulation.aw"}, "emulation.awaits=\n"},
		{[]string{"run", ""}, "yaml\n"},
	} {
		code, stdout, _ := osrsim(t, append([]string{"__complete"}, tc.args...)...)
		if code != exitOK || !strings.Contains(stdout, tc.want) {
			t.Errorf("__complete %q: exit %d, want %q in:\n%s", tc.args, code, tc.want, stdout)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, stdout, _ := osrsim(t, args...)
		if code != exitOK || !strings.HasPrefix(stdout, "osrsim "+version+"\ngo ") || !strings.Contains(stdout, "\nlibunicorn ") {
			t.Errorf("%q: exit %d: %q", args, code, stdout)
		}
	}
}

// Positional arguments are read by their extension; another is refused.
func TestInputKinds(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "t.yml", okConfig)
	if code, _, stderr := osrsim(t, "disasm", p, "--no-counts"); code != exitOK {
		t.Errorf(".yml: exit %d: %s", code, stderr)
	}
	p = writeFile(t, dir, "t.conf", okConfig)
	code, _, stderr := osrsim(t, "disasm", p, "--no-counts")
	if code != exitBadInput || !strings.Contains(stderr, "t.conf: cannot tell what the file holds from its name (want .yaml, .yml, .cs)\n") {
		t.Errorf(".conf: exit %d: %q", code, stderr)
	}
}

// run prints a summary of the default experiment (both engines, at small
// scales that differ) that fits a terminal: one table for the point, the scales
// of both engines in its heading, then where the full report went.
func TestRunSummaryWidth(t *testing.T) {
	out := filepath.Join(t.TempDir(), "seed")
	code, stdout, stderr := osrsim(t, "run", "--set", "awaits=2000", "--set", "n=12000", "--set", "emulation.n=20000",
		"--set", "native.samples=4", "--set", "native.launches=1", "--out", out)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	where := lines[len(lines)-2:]
	if !strings.HasPrefix(where[0], "seed: 6 results in ") || !strings.HasSuffix(where[0], "s. Full report: "+filepath.Join(out, "report.md")) ||
		where[1] != "Also in "+out+"/: report.bench, report.csv, report.json, 4 plots (SVG, PNG)" {
		t.Errorf("where the report went: %q", where)
	}
	summary := strings.Join(lines[:len(lines)-2], "\n")
	for _, want := range []string{"\n           emu: n=20000; native: n=12000\nStrategy  ", "Instr  Ratio  Est. cycles  Ratio", "Native ns", "\nhelper-return "} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
	if w := texttable.Width(summary); w > report.ConsoleWidth || strings.Contains(summary, "|") || strings.Count(summary, "Strategy ") != 1 {
		t.Errorf("summary %d wide (limit %d), want one plain table:\n%s", w, report.ConsoleWidth, summary)
	}
	t.Logf("summary, %d columns wide:\n%s", texttable.Width(summary), summary)
	// --markdown prints the whole report.md instead.
	code, stdout, _ = osrsim(t, "run", "--engine", "emu", "--markdown", "--out", out)
	if md, err := os.ReadFile(filepath.Join(out, "report.md")); code != exitOK || err != nil || !strings.HasPrefix(stdout, string(md)) {
		t.Errorf("--markdown: exit %d (%v), stdout is not report.md:\n%s", code, err, stdout)
	}
}

// compare: an A/B of two reports with known differences (counts edited,
// native samples made up): exact deltas, a native row with its U test and
// intervals, a verdict per row, exit 0; bad inputs exit 2.
func TestCompare(t *testing.T) {
	dir := t.TempDir()
	oldDir := filepath.Join(dir, "old")
	if code, _, stderr := osrsim(t, "run", writeFile(t, dir, "t.yaml", okConfig), "--strategy", "helper,direct", "--out", oldDir, "--quiet"); code != exitOK {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	old, err := report.ReadJSON(filepath.Join(oldDir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	native := func(r *report.Report, samples ...float64) {
		r.Results = append(r.Results, report.Result{Workload: "await-loop", Strategy: "direct", Engine: sim.Native, Params: r.Results[1].Params,
			Native: &report.Native{NsPerResume: report.Summarize(samples), SamplesNs: samples}})
	}
	native(old, 10, 10.2, 9.9, 10.1, 10, 10.3, 9.8, 10.1)
	cur, _ := report.ReadJSON(filepath.Join(oldDir, "report.json"))
	native(cur, 12, 12.2, 11.9, 12.1, 12, 12.3, 11.8, 12.1)
	direct := cur.Results[1].Instructions
	direct.Total += 120
	direct.ByRegion["runtime"] += 120
	cur.Results[0].Instructions.ByStep["unwind"] -= 50
	write := func(name string, r *report.Report) string {
		data, err := report.JSON(r)
		if err != nil {
			t.Fatal(err)
		}
		return writeFile(t, dir, name, string(data))
	}
	oldFile, newFile := write("old.json", old), write("new.json", cur)

	code, stdout, stderr := osrsim(t, "compare", oldFile, newFile)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	oldTotal := old.Results[1].Instructions.Total
	for _, re := range []string{
		`(?m)^Slower \(3\):$`,
		fmt.Sprintf(`(?m)^  await-loop/direct emu +instructions\.total +%d +%d +\+120 +\+[0-9.]+%%$`, oldTotal, oldTotal+120),
		`(?m)^  await-loop/direct emu +instructions\.by_region\.runtime .* \+120 `,
		`(?m)^  await-loop/direct native +native\.ns_per_resume +10\.0500 +12\.0500 +\+2\.0000 +\+19\.90% +p=0\.00[0-9], CI95 of the mean \[9\.9[0-9], 10\.1[0-9]\] → \[11\.9[0-9], 12\.1[0-9]\]$`,
		`(?m)^Faster \(1\):$`,
		`(?m)^  await-loop/helper emu +instructions\.by_step\.unwind .* -50 `,
		`(?m)^[0-9]+ unchanged, 1 faster, 3 slower$`,
	} {
		if !regexp.MustCompile(re).MatchString(stdout) {
			t.Errorf("compare output lacks %s:\n%s", re, stdout)
		}
	}
	if strings.Contains(stdout, "FAIL") || strings.Contains(stdout, "REGRESSION") {
		t.Errorf("compare gates:\n%s", stdout)
	}
	// A result directory reads its report.json; --markdown for CI.
	code, stdout, _ = osrsim(t, "compare", oldDir, newFile, "--markdown")
	if code != exitOK || !strings.HasPrefix(stdout, "### osrsim compare\n") || !strings.Contains(stdout, "| await-loop/direct emu | instructions.total |") {
		t.Errorf("--markdown: exit %d:\n%s", code, stdout)
	}
	for _, args := range [][]string{{oldFile}, {oldFile, filepath.Join(dir, "none.json")}, {oldFile, writeFile(t, dir, "bad.json", "{")}, {oldFile, dir}} {
		if code, _, stderr := osrsim(t, append([]string{"compare"}, args...)...); code != exitBadInput || !strings.HasSuffix(stderr, "\n") {
			t.Errorf("compare %q: exit %d: %q", args, code, stderr)
		}
	}
}
