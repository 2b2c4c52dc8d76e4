package main

import (
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/osrsim/osrsim/experiments"
)

// inputs are the kinds of file a command takes as positional arguments,
// by extension: the one place that knows which files describe an
// experiment. A new kind (a C# source, say) is one entry.
var inputs = []struct {
	exts []string // lower case, with the dot
	load func(path string) (*experiments.Experiment, error)
}{
	{[]string{".yaml", ".yml"}, experiments.Load},
	{[]string{".cs"}, experiments.FromSource}, // a workload written in C# (experiments/CSHARP.md)
}

// loadInput reads the experiment a positional argument names.
func loadInput(path string) (*experiments.Experiment, error) {
	ext := strings.ToLower(filepath.Ext(path))
	for _, in := range inputs {
		if slices.Contains(in.exts, ext) {
			return in.load(path)
		}
	}
	return nil, badf("%s: cannot tell what the file holds from its name (want %s)", path, strings.Join(inputExts(), ", "))
}

// inputExts lists the extensions of every input kind.
func inputExts() []string {
	var exts []string
	for _, in := range inputs {
		exts = append(exts, in.exts...)
	}
	return exts
}

// completeInputs completes positional arguments with the files of every
// input kind.
func completeInputs(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	var exts []string
	for _, e := range inputExts() {
		exts = append(exts, strings.TrimPrefix(e, "."))
	}
	return exts, cobra.ShellCompDirectiveFilterFileExt
}
