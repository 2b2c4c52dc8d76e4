// Package report holds osrsim's results model and writes it as report.json,
// report.md (BenchmarkDotNet-style), report.csv and plots.
package report

import "github.com/osrsim/osrsim/sim"

// Report is the stable core of report.json.
type Report struct {
	Experiment  string `json:"experiment"`
	Description string `json:"description,omitempty"`
	Env         Env    `json:"env"`
	// RuntimeModel is the async runtime every result ran through
	// (runtime.model; a shared setting, so one per report).
	RuntimeModel string       `json:"runtime_model,omitempty"`
	Results      []Result     `json:"results"`
	Comparisons  []Comparison `json:"comparisons"`
	// Baseline is the strategy comparisons are relative to (set by Compare).
	Baseline string `json:"baseline,omitempty"`
	// Sweeps name the parameters varied in this experiment (in config
	// order); line charts plot per-op cost against each.
	Sweeps []string `json:"sweeps,omitempty"`
	// Agreement sets the cycle model's strategy ratios beside the native
	// ones measured in the same run.
	Agreement []Agreement `json:"agreement,omitempty"`
	Warnings  []string    `json:"warnings,omitempty"`
	// Breakdown describes the keys of instructions.by_region, in the order
	// reports list them, each with the steps it is broken into (keys of
	// instructions.by_step) in the order its generator declared them.
	// Renderers show whatever it describes; keys it does not describe
	// (reports written before it existed) follow, sorted.
	Breakdown []Part `json:"breakdown,omitempty"`
	// Config is the experiment's resolved config (a YAML document that
	// names every key, experiments.Experiment.Resolved), so the report's
	// experiment can be run again exactly (osrsim check without a config).
	// A report merged from several experiments holds each config, as YAML
	// documents separated by "---" lines.
	Config string `json:"config,omitempty"`
	// Shard marks a partial report, one share of the cells (osrsim run
	// --shard); MergeShards joins the shares into the full report.
	Shard *Shard `json:"shard,omitempty"`
	// Shards lists where each share of a merged report ran.
	Shards []ShardEnv `json:"shards,omitempty"`
}

// Shard identifies a partial report: share Index of Count (cell k of the
// grid is in share k mod Count) of a sweep of Cells cells, of the
// experiment whose resolved configuration has fingerprint Config.
type Shard struct {
	Index  int    `json:"index"`
	Count  int    `json:"count"`
	Cells  int    `json:"cells"`
	Config string `json:"config"`
}

// ShardEnv is the environment one share of a merged report ran in.
type ShardEnv struct {
	Index int `json:"index"`
	Env   Env `json:"env"`
}

// Part is a region of the breakdown or one of its steps.
type Part struct {
	Name  string `json:"name"`
	Doc   string `json:"doc,omitempty"` // for legends: "the patchpoint helper"
	Steps []Part `json:"steps,omitempty"`
}

// Env describes where the report was made.
type Env struct {
	Osrsim  string `json:"osrsim"`
	Unicorn string `json:"unicorn"`
	Go      string `json:"go"`
	OS      string `json:"os"`
	CPU     string `json:"cpu"`
}

// Result is one cell: workload × params × strategy × engine.
type Result struct {
	Workload string     `json:"workload"`
	Strategy string     `json:"strategy"`
	Engine   sim.Engine `json:"engine"`
	// Cell is the index of the result's cell in the sweep grid (0 without
	// sweeps); merging shards puts results back in cell order by it.
	Cell   int    `json:"cell"`
	Params Params `json:"params"`
	// Ops is what per-resume figures divide by: resumptions for
	// await-loop, calls for reentry.
	Ops          uint64        `json:"ops"`
	Instructions *Instructions `json:"instructions,omitempty"`
	HelperCalls  *HelperCalls  `json:"helper_calls,omitempty"`
	OSREntries   *OSREntries   `json:"osr_entries,omitempty"`
	Suspensions  uint64        `json:"suspensions"`
	Resumptions  uint64        `json:"resumptions"`
	CyclesEst    *Cycles       `json:"cycles_est,omitempty"`
	Native       *Native       `json:"native,omitempty"`
	FinalState   FinalState    `json:"final_state"`
}

// Instructions are exact emulated counts.
type Instructions struct {
	Total uint64 `json:"total"`
	// Setup is the total of the same run without the operations (awaits =
	// 0, or calls = 0): the warm-up loop, the driver, OSR compilation.
	// Per-op figures and the breakdowns count Total - Setup, so they
	// measure exactly the resumptions (counts are exact and linear).
	Setup     uint64  `json:"setup"`
	PerResume float64 `json:"per_resume"`
	// ByRegion splits the instructions by region (tier0, osr, helper,
	// runtime, ...; Report.Breakdown lists them); they add up to the total.
	ByRegion map[string]uint64 `json:"by_region"`
	// ByStep splits regions into their steps (the helper's stub, counter,
	// code_lookup, ...; Report.Breakdown lists them by region).
	ByStep map[string]uint64 `json:"by_step,omitempty"`
	// BySymbol is every symbol's inclusive count.
	BySymbol map[string]uint64 `json:"by_symbol,omitempty"`
}

// HelperCalls counts patchpoint helper calls.
type HelperCalls struct {
	Patchpoint       uint64 `json:"patchpoint"`
	PatchpointForced uint64 `json:"patchpoint_forced"`
}

// OSREntries counts entries into OSR code by route.
type OSREntries struct {
	ViaHelper uint64 `json:"via_helper"`
	ViaJump   uint64 `json:"via_jump"`
}

// Cycles is the cycle model's estimate.
type Cycles struct {
	Total       uint64      `json:"total"`
	Setup       uint64      `json:"setup"` // as Instructions.Setup
	PerResume   float64     `json:"per_resume"`
	Model       string      `json:"model,omitempty"`
	Mispredicts Mispredicts `json:"mispredicts"`
}

// Mispredicts per predictor.
type Mispredicts struct {
	Branch   uint64 `json:"branch"`
	Indirect uint64 `json:"indirect"`
	Return   uint64 `json:"return"`
}

// Native holds wall-clock figures.
type Native struct {
	NsPerResume Stats `json:"ns_per_resume"`
	// SamplesNs are per-op times of each sample (baseline subtracted).
	SamplesNs  []float64 `json:"samples_ns"`
	BaselineNs float64   `json:"baseline_ns"` // shim overhead per call, subtracted
	SetupNs    float64   `json:"setup_ns"`    // median time of the setup-only run, subtracted
	Warmup     int       `json:"warmup"`
	Launches   int       `json:"launches,omitempty"` // child processes the samples came from
	Scale      string    `json:"scale,omitempty"`    // which parameters ran natively
}

// Stats summarise samples, BenchmarkDotNet/benchstat style.
type Stats struct {
	Mean     float64    `json:"mean"`
	Median   float64    `json:"median"`
	StdDev   float64    `json:"stddev"`
	CI95     [2]float64 `json:"ci95"`
	N        int        `json:"n"`
	Outliers int        `json:"outliers"`
	// OutliersRemoved counts the upper outliers left out of every figure
	// above (N excludes them); see Summarize.
	OutliersRemoved int `json:"outliers_removed"`
}

// FinalState is what both engines must agree on.
type FinalState struct {
	SValue   uint32 `json:"s_value"`
	Ret      uint64 `json:"ret"`
	Checksum string `json:"checksum"`
}

// Comparison relates a candidate strategy to the baseline strategy.
type Comparison struct {
	Workload  string     `json:"workload"`
	Params    Params     `json:"params,omitempty"`
	Engine    sim.Engine `json:"engine"`
	Metric    string     `json:"metric"` // e.g. instructions.per_resume
	Baseline  string     `json:"baseline"`
	Candidate string     `json:"candidate"`
	Ratio     float64    `json:"ratio"` // baseline / candidate: how many times cheaper the candidate is
	// For native time: Mann–Whitney U p-value and a verdict.
	PValue  *float64 `json:"p_value,omitempty"`
	Verdict string   `json:"verdict,omitempty"` // faster, slower, same, or "too few samples"
	// BaselineN and CandidateN are the sample counts behind a native
	// comparison (raw samples, outliers included).
	BaselineN  int `json:"baseline_n,omitempty"`
	CandidateN int `json:"candidate_n,omitempty"`
}

// Agreement compares the cycle model with native time for one strategy
// comparison: Error = CyclesRatio / NativeRatio - 1 (0 is perfect; +0.5
// means the model overstates the difference by half).
type Agreement struct {
	Workload    string  `json:"workload"`
	Params      Params  `json:"params,omitempty"` // without the scale parameters
	Baseline    string  `json:"baseline"`
	Candidate   string  `json:"candidate"`
	Model       string  `json:"model"`
	CyclesRatio float64 `json:"cycles_ratio"`
	NativeRatio float64 `json:"native_ratio"`
	Error       float64 `json:"error"`
}
