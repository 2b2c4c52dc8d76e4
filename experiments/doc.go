// Package experiments parses and validates osrsim's YAML experiment configs
// and expands them into the grid of cells the runner executes. The default
// experiment, seed.yaml (the benchmark of dotnet/runtime#123757), is
// embedded in the binary; see Default. README.md in this directory is the
// user-facing reference.
//
// # Format
//
// A config is one YAML document, a mapping:
//
//	name: seed                       # required, [a-z0-9._-]+, used as results/<name>/
//	description: "free text"         # default ""
//	strategies: [helper, direct, helper-return]   # default: all three, report order
//	engines: [emu, native]           # default [emu]; "both" is not a config value
//	baseline: helper                 # comparisons divide by it; must be in strategies; default: first strategy
//	workloads:                       # required, at least one: await-loop and/or reentry
//	  await-loop:                    # parameters at native (full) scale; default workload.DefaultParams
//	    n: 10000000                  # loop-1 iterations (OSR triggers at iteration 10,000 by default)
//	    awaits: 1000000              # loop-2 iterations, one await each
//	    live_locals: 0               # extra locals live across the await (0..64)
//	    extra_frame: 0               # extra zero-initialised tier0 frame bytes (0..65536)
//	    emulation:                   # overrides for emulated runs (same keys)
//	      n: 20000
//	      awaits: 10000
//	  reentry:                       # parameters: calls, iterations, extra_frame
//	    calls: 100
//	    iterations: 1500
//	patchpoint:                      # applies to every workload, both scales; defaults patchpoint.Defaults
//	  initial_counter: 1000
//	  counter_bump: 1000
//	  hit_limit: 10
//	  methods: 20000
//	sweeps:                          # key: list of values; several sweeps form a grid (file order)
//	  live_locals: [0, 2, 4, 8]
//	  patchpoint.hit_limit: [2, 10]
//	native:
//	  warmup: 1                      # >= 0, default 1
//	  samples: 10                    # >= 1, default 10
//	  reps: 1                        # >= 1, default 1
//	  timeout: 10m                   # Go duration, default 10m
//	emulation:
//	  max_instructions: 20000000000  # runaway guard, default 2e10
//	  timeout: 5m                    # default 5m
//	cycle_model: default             # free string for now, default "default"
//
// A workload's resolved parameters are workload.DefaultParams, then the
// patchpoint section, then its own keys (Workload.Native); Workload.Emu is
// that with the workload's emulation overrides applied. Both scales must
// pass workload.Params.Validate.
//
// Sweep keys are a workload parameter (both scales of every workload that
// has it; a key no listed workload has is an error),
// "emulation.<param>" (the emulation scale only) or "patchpoint.<field>".
// Cells expands workloads × the cartesian product of the sweeps that apply
// to each workload.
//
// # Strictness
//
// Unknown keys at any level, duplicate keys, wrong types (a quoted number,
// a float or a scalar where a list belongs), out-of-range values, unknown
// strategies, engines and workloads, parameters a workload does not have,
// empty lists, a baseline outside the strategies, YAML syntax errors, an
// empty file and more than one document are errors. Every error is an
// *Error carrying the file, the line and the dotted key
// ("workloads.await-loop.emulation.n"). Anchors and aliases work; merge
// keys (<<) do not.
package experiments
