package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// shell is a shell completion writes a script for.
type shell struct {
	name string
	gen  func(root *cobra.Command, w io.Writer) error
}

var shells = []shell{
	{"bash", func(root *cobra.Command, w io.Writer) error { return root.GenBashCompletionV2(w, true) }},
	{"zsh", func(root *cobra.Command, w io.Writer) error { return root.GenZshCompletion(w) }},
	{"fish", func(root *cobra.Command, w io.Writer) error { return root.GenFishCompletion(w, true) }},
	{"powershell", func(root *cobra.Command, w io.Writer) error { return root.GenPowerShellCompletionWithDesc(w) }},
}

// completionCommand replaces cobra's default one, which prints help and
// exits 0 for a shell it does not know.
func completionCommand() *cobra.Command {
	var names []string
	for _, s := range shells {
		names = append(names, s.name)
	}
	return &cobra.Command{
		Use:   "completion " + strings.Join(names, "|"),
		Short: "Print the shell completion script",
		Long: `Print the script that completes osrsim's commands, flags, flag values
(strategies, engines, --set keys) and config files in the given shell.`,
		Example: `  source <(osrsim completion bash)                    # this bash session
  osrsim completion bash > /etc/bash_completion.d/osrsim
  osrsim completion zsh > "${fpath[1]}/_osrsim"
  osrsim completion fish > ~/.config/fish/completions/osrsim.fish`,
		ValidArgs: names,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 || !slices.Contains(names, args[0]) {
				return usageError{fmt.Errorf("%s wants one shell: %s", cmd.CommandPath(), strings.Join(names, ", "))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			i := slices.IndexFunc(shells, func(s shell) bool { return s.name == args[0] })
			return shells[i].gen(cmd.Root(), cmd.OutOrStdout())
		},
	}
}
