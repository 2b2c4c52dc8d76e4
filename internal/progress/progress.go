// Package progress tells how far a long run has got: a bar with an
// estimate of the time left on a terminal, plain lines where output is
// kept (CI logs, pipes, files).
package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Reporter is told when a phase starts, each time one of its tasks is
// done, and when it is over (runner.Progress).
type Reporter interface {
	Start(total int, what string)
	Done()
	Finish()
}

// New reports to w: a bar when w is a terminal, else plain lines.
func New(w io.Writer) Reporter {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return &bar{w: w}
	}
	return NewLines(w, LineInterval)
}

// bar draws a progress bar with the count, the elapsed time and the time
// left.
type bar struct {
	w io.Writer
	b *progressbar.ProgressBar
}

func (p *bar) Start(total int, what string) {
	p.b = progressbar.NewOptions(total, progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(), progressbar.OptionSetElapsedTime(true), progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
}
func (p *bar) Done()   { p.b.Add(1) }
func (p *bar) Finish() { p.b.Finish() }

// LineInterval is how often Lines writes a line while a phase goes on:
// often enough to show a run is alive, seldom enough to keep logs short.
const LineInterval = 10 * time.Second

// Lines writes a line at most every interval while a phase goes on
// ("emulating: 120/300 (40%), 12s elapsed, about 18s left"), and one when
// it ends if it wrote any: short phases stay silent.
type Lines struct {
	w        io.Writer
	interval time.Duration
	now      func() time.Time

	mu           sync.Mutex
	what         string
	total, done  int
	start, last  time.Time
	wroteAnyLine bool
}

// NewLines reports to w every interval.
func NewLines(w io.Writer, interval time.Duration) *Lines {
	return &Lines{w: w, interval: interval, now: time.Now}
}

func (l *Lines) Start(total int, what string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.what, l.total, l.done, l.wroteAnyLine = what, total, 0, false
	l.start = l.now()
	l.last = l.start
}

func (l *Lines) Done() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.done++
	if now := l.now(); now.Sub(l.last) >= l.interval && l.done < l.total {
		l.last = now
		elapsed := now.Sub(l.start)
		left := time.Duration(float64(elapsed) / float64(l.done) * float64(l.total-l.done))
		fmt.Fprintf(l.w, "%s: %d/%d (%d%%), %s elapsed, about %s left\n", l.what, l.done, l.total, 100*l.done/max(l.total, 1), round(elapsed), round(left))
		l.wroteAnyLine = true
	}
}

func (l *Lines) Finish() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.wroteAnyLine {
		fmt.Fprintf(l.w, "%s: %d/%d in %s\n", l.what, l.done, l.total, round(l.now().Sub(l.start)))
	}
}

func round(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}
