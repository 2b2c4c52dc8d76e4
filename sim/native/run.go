//go:build linux && amd64 && cgo

package native

import (
	"encoding/binary"
	"errors"
	"runtime"
	"sort"

	"github.com/osrsim/osrsim/sim"
)

var errClosed = errors.New("native: image is closed")

// baselineSamples empty-stub samples are taken per run; their median is
// the baseline.
const baselineSamples = 9

// Run times the image in this process: Warmup untimed and Samples timed
// samples, each after a Reset and made of one C call that runs the entry
// Reps times. See Options for what Reps > 1 requires of the image.
//
// Precondition: the image completed cleanly under emulation (DESIGN
// principle 5). A fault here kills the whole process; use RunInChild for
// anything not known to be safe.
func (l *Loaded) Run(opt Options) (*Result, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	if l.maps == nil {
		return nil, errClosed
	}
	// One thread for the whole run: the same core caches, and the C loop
	// never migrates between Go threads mid-sample.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	entry, arg := l.im.Entry, l.im.Arg
	for range opt.Warmup {
		l.Reset()
		timeCalls(entry, arg, opt.Reps)
	}
	stub := addrOf(l.stub)
	timeCalls(stub, 0, opt.Reps) // warm the stub's page and branch predictors
	base := make([]float64, baselineSamples)
	for i := range base {
		ns, _ := timeCalls(stub, 0, opt.Reps)
		base[i] = float64(ns) / float64(opt.Reps)
	}
	res := &Result{BaselineNs: median(base), Reps: opt.Reps}
	var ret uint64
	for range opt.Samples {
		l.Reset()
		ns, r, tsc := timeCallsTSC(entry, arg, opt.Reps)
		ret = r
		res.SamplesNs = append(res.SamplesNs, float64(ns)/float64(opt.Reps)-res.BaselineNs)
		if opt.Stopwatch {
			// The marks' ticks (of the last call) at the loop's rate.
			start, stop := l.hostWord(sim.HostTSCStart), l.hostWord(sim.HostTSCStop)
			res.WindowNs = append(res.WindowNs, float64(stop-start)*float64(ns)/float64(tsc))
		}
	}
	res.State = l.state(ret)
	if opt.Memory {
		res.Memory = map[string][]byte{}
		for _, r := range l.im.Regions {
			if r.Compared {
				res.Memory[r.Name] = l.Memory(r.Name)
			}
		}
	}
	return res, nil
}

// hostWord reads a 64-bit word of the host page.
func (l *Loaded) hostWord(addr uint64) uint64 {
	for _, m := range l.maps {
		if m.r.Name == sim.RegionHost {
			return binary.LittleEndian.Uint64(m.mem[addr-m.r.Base:])
		}
	}
	return 0
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
