// Package experiments parses and validates osrsim's YAML experiment configs
// and expands them into the grid of cells the runner executes. The default
// experiment, seed.yaml (the benchmark of dotnet/runtime#123757), is
// embedded in the binary; see Default. README.md in this directory is the
// user-facing reference, with an annotated example and the key reference.
//
// # One table of keys
//
// Every key that holds a value is one entry of a table (Keys): its dotted
// name, the values it accepts, how it applies and a line of
// documentation. The YAML parser, Set (--set) and README.md's key
// reference (Reference, via go generate) all read that table, so a file
// and the command line accept the same values. Keys come in three scopes:
// Run keys set the Experiment (native.samples), Shared keys set a
// parameter of every workload (patchpoint.hit_limit) and Param keys a
// parameter of the workloads that have it (n, live_locals). Parameters
// come from the tables in package workload (workload.SharedParams,
// workload.ParamsOf), which also hold their limits.
//
// Adding a key is one entry, then `go generate ./experiments` for the
// README:
//   - a run setting: runKey(name, doc, v) in runKeys, where v is
//     intValue, durationValue, stringValue, enumValue or listValue of a
//     field of the Experiment;
//   - an integer parameter: a workload.Param in workload.SharedParams (every
//     workload) or in a kind's table in workload/params.go;
//   - any other parameter of every workload (an enumeration of the image):
//     sharedKey(name, doc, enumValue(...)) in sharedKeys, over a field of
//     workload.Params that Validate checks.
//
// # C# workloads
//
// A workload whose body names `source: FILE.cs` (relative to the config)
// is a program of the C# subset (package csharp; experiments/CSHARP.md).
// Its parameters are the program's, made into keys from it (paramKeyFor):
// they take emulation overrides, --set and sweeps like the table's. The
// command line runs a .cs file on its own through FromSource.
//
// # Resolution
//
// A workload's parameters are its defaults (workload.DefaultParams), then
// the shared parameters, then its own keys (Workload.Native); Workload.Emu
// is that with the workload's emulation overrides applied. Both scales must
// pass workload.Params.Validate. Sweep keys are a workload parameter (both
// scales of every workload that has it), "emulation.<param>" (the
// emulation scale only) or a shared parameter; Cells expands workloads ×
// the cartesian product of the sweeps that apply to each workload.
//
// # Errors
//
// Unknown keys at any level, duplicate keys, wrong types (a quoted number,
// a float or a scalar where a list belongs), out-of-range values, unknown
// strategies, engines and workloads, parameters a workload does not have,
// empty lists, a baseline outside the strategies, YAML syntax errors, an
// empty file and more than one document are errors. Each is an *Error
// carrying the file, the line and the dotted key
// ("workloads.await-loop.emulation.n"); Parse goes on after an error and
// returns every one as an ErrorList in line order. Anchors and aliases
// work; merge keys (<<) do not.
package experiments
