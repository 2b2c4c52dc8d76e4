package main

import (
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/osrsim/osrsim/runner"
)

// bar shows progress on a terminal; elsewhere (CI, pipes) it stays quiet.
type bar struct {
	w io.Writer
	b *progressbar.ProgressBar
}

func newProgress(w io.Writer, quiet bool) runner.Progress {
	f, ok := w.(*os.File)
	if quiet || !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return &bar{w: w}
}

func (p *bar) Start(total int, what string) {
	p.b = progressbar.NewOptions(total, progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
}
func (p *bar) Done()   { p.b.Add(1) }
func (p *bar) Finish() { p.b.Finish() }
