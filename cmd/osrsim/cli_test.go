package main

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
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
	if code != exitBadInput || !strings.Contains(stderr, "t.conf: cannot tell what the file holds from its name (want .yaml, .yml)\n") {
		t.Errorf(".conf: exit %d: %q", code, stderr)
	}
}
