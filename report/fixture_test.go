package report

import "github.com/osrsim/osrsim/sim"

// fixture builds a report by hand: await-loop at awaits=100000, n=20000
// for three strategies under emulation, plus native samples, plus a
// sweep over awaits.
func fixture() *Report {
	r := &Report{
		Experiment:  "seed",
		Description: "The PR's benchmark.",
		Env:         Env{Osrsim: "v0.1.0", Unicorn: "2.1.3", Go: "go1.26.8", OS: "linux/amd64", CPU: "Test CPU @ 3.0GHz"},
		Sweeps:      []string{"awaits"},
		Breakdown: []Part{
			{Name: "tier0", Doc: "the tier0 method"},
			{Name: "osr", Doc: "the OSR method"},
			{Name: "helper", Doc: "the patchpoint helper", Steps: []Part{
				{Name: "stub", Doc: "stub frame"}, {Name: "counter", Doc: "counter reset"},
				{Name: "capture", Doc: "context capture"}, {Name: "unwind", Doc: "virtual unwind"}, {Name: "restore", Doc: "context restore"}}},
			{Name: "runtime", Doc: "the async runtime"},
			{Name: "host", Doc: "the host boundary"},
		},
	}
	emu := func(strategy string, awaits int64, tier0, osr, helper, runtime uint64, steps map[string]uint64, forced, viaHelper, viaJump uint64, cycles uint64) Result {
		total := tier0 + osr + helper + runtime
		res := Result{
			Workload: "await-loop", Strategy: strategy, Engine: sim.Emu,
			Params: Params{"awaits": Int(awaits), "n": Int(20000)},
			Ops:    uint64(awaits),
			Instructions: &Instructions{Total: total, PerResume: float64(total) / float64(awaits),
				ByRegion: map[string]uint64{"tier0": tier0, "osr": osr, "helper": helper, "runtime": runtime},
				ByStep:   steps},
			HelperCalls: &HelperCalls{Patchpoint: 10, PatchpointForced: forced},
			OSREntries:  &OSREntries{ViaHelper: viaHelper, ViaJump: viaJump},
			Suspensions: uint64(awaits), Resumptions: uint64(awaits),
			FinalState: FinalState{SValue: 199990000, Ret: 0, Checksum: "c0ffee"},
		}
		if cycles > 0 {
			res.CyclesEst = &Cycles{Total: cycles, PerResume: float64(cycles) / float64(awaits), Model: "simple",
				Mispredicts: Mispredicts{Branch: 3, Indirect: 4, Return: 5}}
		}
		return res
	}
	steps := func(scale uint64) map[string]uint64 {
		return map[string]uint64{"stub": 10 * scale, "capture": 40 * scale, "unwind": 90 * scale, "restore": 30 * scale}
	}
	for _, a := range []int64{100000, 1000, 10000} {
		k := uint64(a)
		// helper: 1946.2/resume; direct and helper-return: 308.9/resume.
		r.Results = append(r.Results,
			emu("helper", a, 5000*k/100, 30000*k/100, 150000*k/100, 9620*k/100, steps(k), k, k+1, 0, 400000*k/100),
			emu("direct", a, 5000*k/100, 20890*k/100, 0, 5000*k/100, nil, 0, 1, k, 90000*k/100),
			emu("helper-return", a, 5000*k/100, 20890*k/100, 0, 5000*k/100, nil, 0, 1, k, 91000*k/100),
		)
	}
	native := func(strategy string, samples []float64) Result {
		return Result{Workload: "await-loop", Strategy: strategy, Engine: sim.Native,
			Params: Params{"awaits": Int(100000), "n": Int(20000)}, Ops: 100000,
			Suspensions: 100000, Resumptions: 100000,
			Native:     &Native{NsPerResume: Summarize(samples), SamplesNs: samples, BaselineNs: 1.5, Warmup: 2},
			FinalState: FinalState{SValue: 199990000, Checksum: "c0ffee"}}
	}
	r.Results = append(r.Results,
		native("helper", []float64{1946, 1950, 1940, 1948, 1952, 1944, 1946, 1949, 1951, 2600}),
		native("direct", []float64{80, 79, 81, 80, 78, 82, 80, 79, 81, 80}),
		native("helper-return", []float64{79, 80, 81}),
	)
	return r
}
