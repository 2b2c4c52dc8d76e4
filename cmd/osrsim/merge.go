package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/osrsim/osrsim/report"
)

func mergeCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "merge DIR... --out DIR",
		Short: "Join the partial reports of a sharded sweep into the full report",
		Long: `Join the partial reports that osrsim run --shard i/n wrote, one per shard,
into the report of the whole sweep: report.json, report.md, report.csv and
plots, results in the order an unsharded run gives. Each DIR is a shard's
output directory (or its report.json). Shards of another experiment,
configuration, osrsim or libunicorn version, a missing shard and a shard
given twice are refused (exit 2).`,
		Example: `  osrsim merge shard-0 shard-1 shard-2 shard-3 --out results/sweep
  osrsim merge shards/shard-* --out results/sweep`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{fmt.Errorf("%s needs the shards' directories", cmd.CommandPath())}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return merge(cmd.Context(), args, out, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "write the full report into `DIR` (required)")
	cmd.MarkFlagRequired("out")
	cmd.MarkFlagDirname("out")
	return cmd
}

func merge(ctx context.Context, dirs []string, out string, stdout io.Writer) error {
	for _, d := range dirs {
		if filepath.Clean(d) == filepath.Clean(out) {
			return badf("merge: --out %s is one of the shards; write the full report elsewhere", out)
		}
	}
	if err := checkWritableDir(out); err != nil {
		return err
	}
	var parts []report.Partial
	for _, d := range dirs {
		r, err := readPartial(d)
		if err != nil {
			return err
		}
		parts = append(parts, report.Partial{Name: d, Report: r})
	}
	r, err := report.MergeShards(parts)
	if err != nil {
		return badInput{err}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(filepath.Clean(out)), 0o755); err != nil {
		return err
	}
	files, err := report.WriteDir(r, out)
	if err != nil {
		return err
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = filepath.Base(f)
	}
	fmt.Fprintf(stdout, "%s: merged %d shards, %d results; wrote %s/ (%s)\n", r.Experiment, len(parts), len(r.Results), out, strings.Join(names, ", "))
	return nil
}

// readPartial reads a shard's report.json from its directory (or the file
// itself).
func readPartial(path string) (*report.Report, error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, badf("merge: %s does not exist", path)
	case err != nil:
		return nil, badf("merge: %v", err)
	case st.IsDir():
		path = filepath.Join(path, "report.json")
	}
	r, err := report.ReadJSON(path)
	if err != nil {
		return nil, badf("merge: %v", err)
	}
	return r, nil
}
