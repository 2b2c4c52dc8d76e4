package main

import (
	"io"

	"github.com/osrsim/osrsim/internal/progress"
	"github.com/osrsim/osrsim/runner"
)

// newProgress shows a run's progress on w: a bar with the time left on a
// terminal, plain lines elsewhere (CI logs, pipes); nothing with --quiet.
func newProgress(w io.Writer, quiet bool) runner.Progress {
	if quiet {
		return nil
	}
	return progress.New(w)
}
