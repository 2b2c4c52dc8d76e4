// Command osrsim simulates JIT on-stack replacement mechanisms on x64: it
// generates real machine code, runs it under Unicorn and natively, and
// reports instruction counts, estimated cycles and wall-clock time.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/osrsim/osrsim/experiments"
	"github.com/osrsim/osrsim/sim/native"
	"github.com/osrsim/osrsim/sim/unicorn"
)

// version is set by the Makefile from git describe.
var version = "dev"

// maxConfigErrors is how many errors of one config are printed.
const maxConfigErrors = 10

// Exit codes.
const (
	exitOK         = 0
	exitFailure    = 1 // a run failed, or check found a regression
	exitBadInput   = 2
	exitRegression = 1
)

func main() {
	native.ChildMain() // a native run's child process never returns from here
	ctx, stop := withInterrupts(context.Background())
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// badInput marks errors caused by the user's input (flags, configs, files).
type badInput struct{ err error }

func (e badInput) Error() string { return e.err.Error() }
func (e badInput) Unwrap() error { return e.err }

func badf(format string, args ...any) error { return badInput{fmt.Errorf(format, args...)} }

// A command stops early, writing nothing, once ctx is done (an interrupt).
var commands = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error{
	"run":       cmdRun,
	"image":     cmdImage,
	"disasm":    cmdDisasm,
	"trace":     cmdTrace,
	"calibrate": cmdCalibrate,
	"check":     cmdCheck,
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitBadInput
	}
	switch args[0] {
	case "version":
		fmt.Fprintf(stdout, "osrsim %s\ngo %s %s/%s\nlibunicorn %s\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH, unicorn.Version())
		return exitOK
	case "help", "-h", "--help":
		usage(stdout)
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "osrsim: unknown command %q\n", args[0])
		usage(stderr)
		return exitBadInput
	}
	err := cmd(ctx, args[1:], stdout, stderr)
	if err == nil {
		return exitOK
	}
	if i, ok := interruption(ctx, err); ok {
		fmt.Fprintln(stderr, "osrsim: interrupted; nothing written")
		return i.exitCode()
	}
	var cfgs experiments.ErrorList
	var cfg *experiments.Error
	var bad badInput
	var reg regression
	switch {
	case errors.As(err, &reg):
		fmt.Fprintln(stderr, "osrsim:", err)
		return exitRegression
	case errors.As(err, &cfgs):
		for i, e := range cfgs {
			if i == maxConfigErrors {
				fmt.Fprintf(stderr, "osrsim: (and %d more errors)\n", len(cfgs)-i)
				break
			}
			fmt.Fprintln(stderr, "osrsim:", e)
		}
		return exitBadInput
	case errors.As(err, &cfg), errors.As(err, &bad):
		fmt.Fprintln(stderr, "osrsim:", err)
		return exitBadInput
	}
	fmt.Fprintln(stderr, "osrsim:", err)
	return exitFailure
}

// regression is check's "the candidate is worse" outcome.
type regression struct{ msg string }

func (r regression) Error() string { return r.msg }

func usage(w io.Writer) {
	fmt.Fprint(w, `osrsim: simulate JIT on-stack replacement mechanisms on x64

usage:
  osrsim run [CONFIG.yaml ...] [--engine emu|native|both] [--strategy S,...] [--set key=value ...] [--out DIR] [--exact]
  osrsim check --baseline FILE [CONFIG.yaml ...] [--tolerance N] [--native-check] [--update]
  osrsim disasm [CONFIG.yaml] [--strategy S] [--set key=value ...] [--no-counts]
  osrsim image  [CONFIG.yaml] [--strategy S] [--set key=value ...] [--out DIR] [--elf FILE]
  osrsim trace  [CONFIG.yaml] [--strategy S] [--set key=value ...] --out FILE
  osrsim calibrate [--out FILE]
  osrsim version

Without a CONFIG, commands use the embedded default experiment (the
benchmark of dotnet/runtime#123757). Strategies: helper, direct,
helper-return. Exit codes: 0 ok, 1 failure or regression, 2 bad input,
130/143 interrupted by SIGINT/SIGTERM (nothing written).
`)
}
