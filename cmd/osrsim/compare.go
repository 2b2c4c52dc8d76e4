package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/osrsim/osrsim/baseline"
	"github.com/osrsim/osrsim/report"
)

// compareFlags are the flags of osrsim compare.
type compareFlags struct {
	threshold     string
	markdown, all bool
}

// compareCommand is an A/B comparison of two reports, like benchstat old
// new: the same comparison as check, every difference listed, none
// failing. Exit 0 unless an input is bad (2).
func compareCommand() *cobra.Command {
	var f compareFlags
	cmd := &cobra.Command{
		Use:   "compare OLD NEW",
		Short: "Compare two reports (report.json files or result directories)",
		Long: `Compare two reports, e.g. of two commits, as benchstat compares benchmark
runs: emulated counts exactly (the delta of every metric of every cell),
native time by its medians with a Mann–Whitney U test and the confidence
intervals of both sides, and a verdict per row (slower, faster, changed,
new, missing). OLD and NEW are report.json files or the directories osrsim
run wrote. compare always exits 0 unless an input is bad (2); check is the
gate.`,
		Example: `  osrsim compare results/seed.old results/seed
  osrsim compare old/report.json new/report.json --markdown >> "$GITHUB_STEP_SUMMARY"`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageError{fmt.Errorf("%s wants OLD and NEW, got %d arguments", cmd.CommandPath(), len(args))}
			}
			return nil
		},
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return []string{"json"}, cobra.ShellCompDirectiveFilterFileExt
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.run(args[0], args[1], cmd.OutOrStdout())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.threshold, "native-threshold", "5%", "a native median must move by this `FRACTION` to count")
	fs.BoolVar(&f.markdown, "markdown", false, "print the comparison as Markdown (for CI summaries)")
	fs.BoolVar(&f.all, "all", false, "list unchanged rows too")
	return cmd
}

func (f *compareFlags) run(oldPath, newPath string, stdout io.Writer) error {
	opt := baseline.DefaultOptions()
	opt.Native = baseline.NativeReport
	var err error
	if opt.NativeThreshold, err = baseline.ParseFraction(f.threshold); err != nil {
		return badf("--native-threshold: %v", err)
	}
	old, err := readReport(oldPath)
	if err != nil {
		return err
	}
	cur, err := readReport(newPath)
	if err != nil {
		return err
	}
	v := baseline.Compare(old, cur, opt)
	if v.Status == baseline.BadInput {
		return badf("compare %s %s: %s", oldPath, newPath, v.Message)
	}
	if f.markdown {
		fmt.Fprint(stdout, v.DiffMarkdown(f.all))
	} else {
		fmt.Fprint(stdout, v.DiffTable(f.all))
	}
	return nil
}

// readReport reads a report.json, or the one in a result directory.
func readReport(path string) (*report.Report, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, "report.json")
	}
	r, err := baseline.ReadReport(path)
	if err != nil {
		return nil, badInput{err}
	}
	return r, nil
}
