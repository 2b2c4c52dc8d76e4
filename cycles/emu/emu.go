// Package emu runs images under the Unicorn emulator with the cycle model
// attached: the glue between package cycles and package sim/unicorn, which
// know nothing of each other.
package emu

import (
	"github.com/osrsim/osrsim/cycles"
	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/observe"
	"github.com/osrsim/osrsim/sim/unicorn"
)

// Run runs im once like unicorn.Run, with an estimator for model m among
// the observers unless m is nil; byClass also counts instructions per
// class. The counts come with every valid result, including one returned
// with an *unicorn.AlignmentError.
func Run(im *sim.Image, opt unicorn.Options, m *cycles.Model, byClass bool) (*unicorn.Result, *cycles.Counts, error) {
	if m == nil {
		r, err := unicorn.Run(im, opt)
		return r, nil, err
	}
	est, err := cycles.NewEstimator(m, byClass)
	if err != nil {
		return nil, nil, err
	}
	defer est.Close()
	opt.Observers = append(append([]observe.Observer(nil), opt.Observers...), est)
	r, err := unicorn.Run(im, opt)
	if r == nil {
		return nil, nil, err
	}
	return r, est.Counts(), err
}
