package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"

	"github.com/osrsim/osrsim/sim"
)

// interrupted is the cause of a run stopped by a signal.
type interrupted struct{ sig syscall.Signal }

func (i interrupted) Error() string { return "interrupted by " + i.sig.String() }

// exitCode is the shell's code for a process ended by the signal: 128 plus
// its number (130 for SIGINT, 143 for SIGTERM).
func (i interrupted) exitCode() int { return 128 + int(i.sig) }

// withInterrupts returns a context that the first SIGINT or SIGTERM
// cancels with cause interrupted. Commands then stop their engines, remove
// their temporary files and write nothing. That first signal restores the
// default handling, so a second one ends osrsim at once (its native child
// dies with it).
func withInterrupts(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		select {
		case s := <-sigs:
			signal.Stop(sigs)
			cancel(interrupted{s.(syscall.Signal)})
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		cancel(nil)
	}
}

// interruption reports whether err is a command giving up because ctx was
// interrupted (as opposed to failing on its own).
func interruption(ctx context.Context, err error) (interrupted, bool) {
	var i interrupted
	stopped := errors.Is(err, context.Canceled) || errors.Is(err, sim.ErrCanceled)
	return i, stopped && errors.As(context.Cause(ctx), &i)
}
