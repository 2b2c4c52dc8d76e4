package main

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/osrsim/osrsim/sim/unicorn"
)

// commands are osrsim's subcommands in the order help lists them. Each
// function, in its own file, builds one command with its flags (shared
// flags come from helpers such as selection.register); adding a command
// is a file and a line here. cobra adds help.
var commands = []func() *cobra.Command{
	runCommand,
	mergeCommand,
	checkCommand,
	compareCommand,
	disasmCommand,
	traceCommand,
	imageCommand,
	calibrateCommand,
	versionCommand,
	completionCommand,
}

func init() { cobra.EnableCommandSorting = false } // help lists commands in the order above

// newRoot builds the command tree. *ran turns true once a command's own
// code starts: an error before that is a usage error (exit 2). Commands
// must not set PersistentPreRun(E), which would replace the root's.
func newRoot() (root *cobra.Command, ran *bool) {
	ran = new(bool)
	root = &cobra.Command{
		Use:   "osrsim",
		Short: "Simulate JIT on-stack replacement mechanisms on x64",
		Long: `osrsim generates a tier0 method, its OSR method, the patchpoint helper and an
async runtime as real x64 machine code, runs the same bytes under the Unicorn
emulator (exact instruction counts) and natively (wall-clock time), and
writes reports and regression verdicts.

Without a CONFIG, commands use the embedded default experiment (the
benchmark of dotnet/runtime#123757). Strategies: helper, direct,
helper-return. Exit codes: 0 ok, 1 failure or regression, 2 bad input,
130/143 interrupted by SIGINT/SIGTERM (nothing written).`,
		Example: `  osrsim run                                 # the default experiment
  osrsim run experiments/live-locals.yaml --engine emu
  osrsim check --baseline results/baselines/seed.json
  osrsim compare old/report.json results/seed/`,
		Version:       version,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			// cobra checks these after the pre-run hook; checked here,
			// their errors are usage errors like every other flag error.
			if err := cmd.ValidateRequiredFlags(); err != nil {
				return err
			}
			if err := cmd.ValidateFlagGroups(); err != nil {
				return err
			}
			*ran = true
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SetOut(cmd.ErrOrStderr())
			cmd.Usage()
			return usageError{errors.New("a command is required")}
		},
	}
	root.SetVersionTemplate(versionText())
	root.CompletionOptions.DisableDefaultCmd = true // completionCommand replaces it
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	for _, c := range commands {
		root.AddCommand(c())
	}
	return root, ran
}

func versionText() string {
	return fmt.Sprintf("osrsim %s\ngo %s %s/%s\nlibunicorn %s\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH, unicorn.Version())
}

func versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the versions of osrsim, Go and libunicorn",
		Long: `Print the versions of osrsim, Go and libunicorn. Emulated counts are exact
for one libunicorn version; baselines record it.`,
		Example: `  osrsim version
  osrsim --version`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprint(cmd.OutOrStdout(), versionText())
			return nil
		},
	}
}

// noArgs refuses positional arguments.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), args[0])}
	}
	return nil
}

// maxArgs refuses more than n positional arguments.
func maxArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return usageError{fmt.Errorf("%s takes at most %d CONFIG, got %d", cmd.CommandPath(), n, len(args))}
		}
		return nil
	}
}

// completeValues completes a flag's value from a fixed list.
func completeValues(cmd *cobra.Command, flag string, values []string) {
	cmd.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
}
