// Command osrsim simulates JIT on-stack replacement mechanisms on x64: it
// generates real machine code, runs it under Unicorn and natively, and
// reports instruction counts, estimated cycles and wall-clock time.
//
// The command line is a cobra command tree (root.go); each subcommand is
// built by one function in its own file and listed in commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/osrsim/osrsim/csharp"
	"github.com/osrsim/osrsim/experiments"
	"github.com/osrsim/osrsim/sim/native"
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

// run executes the command line args and returns the exit code: 0 ok, 1
// a failure or a regression, 2 bad input (flags, configs, files), 128+n
// interrupted by signal n (nothing written). Commands stop early, writing
// nothing, once ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root, ran := newRoot()
	root.SetArgs(append([]string{}, args...)) // never nil: cobra would read os.Args
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	if i, ok := interruption(ctx, err); ok {
		fmt.Fprintln(stderr, "osrsim: interrupted; nothing written")
		return i.exitCode()
	}
	if u := (usageError{}); !*ran || errors.As(err, &u) {
		// cobra refused the command line before any command ran (an
		// unknown command or flag, a missing flag value, wrong
		// arguments), or a command found it incomplete.
		fmt.Fprintln(stderr, "osrsim:", err)
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		return exitBadInput
	}
	return exitCode(err, stderr)
}

// exitCode prints a command's error on stderr and classifies it.
func exitCode(err error, stderr io.Writer) int {
	var cfgs experiments.ErrorList
	var cfg *experiments.Error
	var bad badInput
	var src *csharp.Error
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
	case errors.As(err, &cfg), errors.As(err, &bad), errors.As(err, &src):
		fmt.Fprintln(stderr, "osrsim:", err)
		return exitBadInput
	}
	fmt.Fprintln(stderr, "osrsim:", err)
	return exitFailure
}

// badInput marks errors caused by the user's input (flags, configs, files).
type badInput struct{ err error }

func (e badInput) Error() string { return e.err.Error() }
func (e badInput) Unwrap() error { return e.err }

func badf(format string, args ...any) error { return badInput{fmt.Errorf(format, args...)} }

// usageError is a command line that cobra, an argument check or a
// command refused as incomplete.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// regression is check's "the candidate is worse" outcome.
type regression struct{ msg string }

func (r regression) Error() string { return r.msg }
