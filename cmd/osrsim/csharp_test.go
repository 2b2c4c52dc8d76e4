package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/osrsim/osrsim/report"
)

// A small C# program of the subset (the PR's benchmark, at a small scale).
const okSource = `using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;

class Program
{
    static int s_value;
    const int Awaits = 40;

    static void Main()
    {
        var na = new NullAwaiter();
        Task t = Foo(12000, na);
        while (!t.IsCompleted)
            na.Continue();
    }

    static async Task Foo(int n, NullAwaiter na)
    {
        for (int i = 0; i < n; i++)
            s_value += i;
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < Awaits; i++)
            await na;
        Console.WriteLine(sw.Elapsed);
    }

    class NullAwaiter : ICriticalNotifyCompletion
    {
        Action _c;
        public bool IsCompleted => false;
        public NullAwaiter GetAwaiter() => this;
        public void GetResult() { }
        public void OnCompleted(Action c) => _c = c;
        public void UnsafeOnCompleted(Action c) => _c = c;
        public void Continue() { Action c = _c; _c = null; c(); }
    }
}
`

// osrsim run bench.cs runs the file's Main values, --set changes them by
// name, and the report counts the stopwatch region's resumptions.
func TestRunSource(t *testing.T) {
	dir := t.TempDir()
	src := writeFile(t, dir, "Bench.cs", okSource)
	out := filepath.Join(dir, "out")
	code, _, stderr := osrsim(t, "run", src, "--strategy", "direct", "--set", "Awaits=30", "--out", out, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	r, err := report.ReadJSON(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	res := r.Results[0]
	if r.Experiment != "bench" || res.Workload != "bench" || res.Params["n"] != report.Int(12000) || res.Params["Awaits"] != report.Int(30) || res.Ops != 30 {
		t.Fatalf("report %s, result %+v", r.Experiment, res)
	}
}

// A config names its C# workload's source relative to itself; the
// program's parameters take emulation overrides and sweeps.
func TestRunConfigWithSource(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "progs"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "progs"), "bench.cs", okSource)
	c := writeFile(t, dir, "c.yaml", "name: c\nstrategies: [helper, direct]\nworkloads:\n  mine:\n    source: progs/bench.cs\n    n: 11000\n    emulation:\n      Awaits: 20\nsweeps:\n  emulation.Awaits: [10, 20]\n")
	out := filepath.Join(dir, "out")
	code, _, stderr := osrsim(t, "run", c, "--out", out, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	r, err := report.ReadJSON(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Results) != 4 || r.Results[0].Params["n"] != report.Int(11000) || r.Results[0].Resumptions != 10 || r.Results[3].Resumptions != 20 {
		t.Fatalf("results %+v", r.Results)
	}
}

// Bad C# input: exit 2, the file, line and column and what is wrong, and
// nothing written.
func TestBadSource(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, src string
		args      []string
		want      string
	}{
		{"syntax", strings.Replace(okSource, "s_value += i;", "s_value += ;", 1), nil, "bad.cs:22:23: syntax error: missing identifier"},
		{"unsupported", strings.Replace(okSource, "s_value += i;", "s_value += i > 3 ? 1 : 2;", 1), nil,
			"bad.cs:22:24: unsupported: conditional expression (?:) (see experiments/CSHARP.md)"},
		{"type", strings.Replace(okSource, "s_value += i;", "s_value += i < 3;", 1), nil, "bad.cs:22:21: error: operator += cannot be applied to int and bool"},
		{"run-time", strings.Replace(okSource, "s_value += i;", "s_value += i / (n - 12000);", 1), nil, "bad.cs:22:26: run-time error: division by zero (in Foo)"},
		{"parameter", okSource, []string{"--set", "Iterations=3"}, "Iterations"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := writeFile(t, dir, "bad.cs", tc.src)
			out := filepath.Join(dir, "out")
			code, _, stderr := osrsim(t, append([]string{"run", src, "--out", out}, tc.args...)...)
			if code != exitBadInput || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, stderr, exitBadInput, tc.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("%s was written", out)
			}
		})
	}
}
