package baseline

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/osrsim/osrsim/internal/enum"
	"github.com/osrsim/osrsim/report"
	"github.com/osrsim/osrsim/sim"
)

// NativeMode says what Compare does with native (wall-clock) results.
type NativeMode int

const (
	// NativeOff ignores native results on both sides (the default: CI
	// machines are noisy, and counts need no statistics).
	NativeOff NativeMode = iota
	// NativeWarn compares native times and lists significant slowdowns
	// as warnings that do not fail the check.
	NativeWarn
	// NativeEnforce makes a significant slowdown beyond the threshold a
	// regression.
	NativeEnforce
	// NativeReport compares native times and lists the changes, neither
	// failing nor warning: an A/B comparison (osrsim compare).
	NativeReport
)

// NativeModes lists the native modes, in the order help names them.
var NativeModes = []NativeMode{NativeOff, NativeReport, NativeWarn, NativeEnforce}

// String returns "off", "report", "warn" or "enforce".
func (m NativeMode) String() string {
	switch m {
	case NativeOff:
		return "off"
	case NativeWarn:
		return "warn"
	case NativeEnforce:
		return "enforce"
	case NativeReport:
		return "report"
	}
	return "NativeMode(" + strconv.Itoa(int(m)) + ")"
}

// ParseNativeMode parses "off", "report", "warn" or "enforce".
func ParseNativeMode(s string) (NativeMode, error) {
	for _, m := range NativeModes {
		if m.String() == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("native mode %q: want one of %s", s, strings.Join(enum.Names(NativeModes), ", "))
}

// ParseFraction parses a relative amount: "0.05" or "5%" (both 0.05). It
// must be finite and not negative.
func ParseFraction(s string) (float64, error) {
	t := strings.TrimSpace(s)
	scale := 1.0
	if strings.HasSuffix(t, "%") {
		t, scale = strings.TrimSpace(strings.TrimSuffix(t, "%")), 0.01
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, fmt.Errorf("%q: want a non-negative fraction such as 0.05 or 5%%", s)
	}
	return v * scale, nil
}

// Options control Compare.
type Options struct {
	// Tolerance is the relative rise allowed on exact counts: a count
	// fails when new > old × (1 + Tolerance). 0 (the default) fails on
	// any rise. A count that rises from 0 always fails.
	Tolerance float64
	// Native says whether native times are compared (default off).
	Native NativeMode
	// NativeThreshold is the smallest relative change of the median
	// ns_per_resume that counts (ResultsComparer's --threshold), e.g.
	// 0.05: a significant change below it is reported as unchanged.
	NativeThreshold float64
	// Alpha is the significance level of the Mann–Whitney U test on the
	// native samples; 0 means report.Alpha (0.05).
	Alpha float64
}

// DefaultOptions are the options of `osrsim check` without flags: any
// rise of a count fails, native times are not compared; when they are,
// a 5% threshold at α = 0.05.
func DefaultOptions() Options {
	return Options{Native: NativeOff, NativeThreshold: 0.05, Alpha: report.Alpha}
}

// Validate checks the options.
func (o Options) Validate() error {
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) || v < 0 }
	switch {
	case bad(o.Tolerance):
		return fmt.Errorf("tolerance %v: want a finite fraction >= 0", o.Tolerance)
	case bad(o.NativeThreshold):
		return fmt.Errorf("native threshold %v: want a finite fraction >= 0", o.NativeThreshold)
	case math.IsNaN(o.Alpha) || o.Alpha < 0 || o.Alpha >= 1:
		return fmt.Errorf("alpha %v: want 0 < alpha < 1 (0 for the default %v)", o.Alpha, report.Alpha)
	case !slices.Contains(NativeModes, o.Native):
		return fmt.Errorf("native mode %v: want one of %s", o.Native, strings.Join(enum.Names(NativeModes), ", "))
	}
	return nil
}

// Kind classifies a row.
type Kind string

const (
	Slower    Kind = "slower"    // the value rose (a cost grew)
	Faster    Kind = "faster"    // the value fell
	Unchanged Kind = "unchanged" // equal (counts) or no significant change (native)
	Changed   Kind = "changed"   // a final-state value differs: not a cost, not a regression by itself
	New       Kind = "new"       // a result only in the current report (does not fail)
	Missing   Kind = "missing"   // a result only in the baseline (fails)
)

// Cell identifies a result: workload, strategy, engine and parameters.
type Cell struct {
	Workload string        `json:"workload"`
	Strategy string        `json:"strategy"`
	Engine   sim.Engine    `json:"engine"`
	Params   report.Params `json:"params,omitempty"`
}

func keyOf(r report.Result) Cell {
	return Cell{Workload: r.Workload, Strategy: r.Strategy, Engine: r.Engine, Params: r.Params}
}

// params renders the parameters as sorted key=value pairs, comma-separated.
func (c Cell) params() string { return report.ParamsKey(c.Params) }

func (c Cell) id() string {
	return c.Workload + "\x00" + c.Strategy + "\x00" + c.Engine.String() + "\x00" + c.params()
}

// String is "workload/strategy engine [k=v,...]".
func (c Cell) String() string {
	s := c.Workload + "/" + c.Strategy + " " + c.Engine.String()
	if p := c.params(); p != "" {
		s += " " + p
	}
	return s
}

// Row is one compared metric of one cell (or, for New and Missing, one
// cell, with Metric "result").
type Row struct {
	Kind   Kind   `json:"kind"`
	Cell   Cell   `json:"cell"`
	Metric string `json:"metric"` // e.g. instructions.total, instructions.by_region.tier0, native.ns_per_resume
	// Old and New are the baseline and current values (for native rows
	// the medians of ns_per_resume); Delta is New − Old and DeltaPct
	// 100 × Delta / Old (0 when Old is 0). Non-numeric values (the
	// checksum) are in OldText and NewText, with the numbers 0.
	Old      float64 `json:"old"`
	New      float64 `json:"new"`
	Delta    float64 `json:"delta"`
	DeltaPct float64 `json:"delta_pct"`
	OldText  string  `json:"old_text,omitempty"`
	NewText  string  `json:"new_text,omitempty"`
	// Fails is set on the rows that make the check fail: a count that
	// rose beyond the tolerance, a missing result, an enforced native
	// slowdown.
	Fails bool `json:"fails"`
	// P is the Mann–Whitney p-value of a native row (nil otherwise or
	// when not computed).
	P *float64 `json:"p,omitempty"`
	// OldCI and NewCI are the 95% confidence intervals of the mean
	// ns_per_resume of a native row's two sides (nil below 2 samples).
	OldCI *[2]float64 `json:"old_ci95,omitempty"`
	NewCI *[2]float64 `json:"new_ci95,omitempty"`
	// Note explains the verdict: "within tolerance 1%", "warning only",
	// "too few samples", "not significant", ...
	Note string `json:"note,omitempty"`
}

// Status is the outcome of a comparison.
type Status int

const (
	// OK: no regression (there may be faster, changed or new rows, and
	// warnings).
	OK Status = iota
	// Regressed: at least one row fails.
	Regressed
	// UnicornMismatch: the baseline was recorded under another libunicorn
	// version, so emulated counts are not comparable and the gate cannot
	// be evaluated. Counts are not compared at all; re-record the
	// baseline with --update.
	UnicornMismatch
	// BadInput: invalid options or a report that cannot be compared
	// (duplicate cells, nothing to compare).
	BadInput
)

// String returns "ok", "regression", "libunicorn mismatch" or "bad input".
func (s Status) String() string {
	switch s {
	case OK:
		return "ok"
	case Regressed:
		return "regression"
	case UnicornMismatch:
		return "libunicorn mismatch"
	case BadInput:
		return "bad input"
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}

// Verdict is the result of Compare.
type Verdict struct {
	Status Status `json:"status"`
	// Message explains a status other than OK and Regressed (the
	// libunicorn mismatch, the bad input).
	Message string `json:"message,omitempty"`
	// Rows holds every compared metric, unchanged ones included, in
	// baseline order (then new results).
	Rows []Row `json:"rows"`
	// Warnings: native slowdowns in warn mode, too few samples,
	// incomparable cycle models, experiment-name mismatch, ...
	Warnings []string `json:"warnings,omitempty"`
	Options  Options  `json:"options"`
	// Base and Cur describe the two reports: experiment name and
	// environment.
	Base, Cur Side `json:"-"`

	notes     map[string]int
	noteOrder []string
}

// Side describes one of the two compared reports.
type Side struct {
	Experiment string
	Env        report.Env
}

// Regression reports whether the check fails because of a regression: a
// row with Fails set. A libunicorn mismatch is not a regression (see
// Status and ExitCode).
func (v *Verdict) Regression() bool { return v.Status == Regressed }

// ExitCode is the exit status of `osrsim check`: 0 for OK, 1 for a
// regression or a libunicorn mismatch (the gate cannot be evaluated, so
// it must not pass silently), 2 for bad input.
func (v *Verdict) ExitCode() int {
	switch v.Status {
	case OK:
		return 0
	case Regressed, UnicornMismatch:
		return 1
	}
	return 2
}

// Count returns how many rows have kind k.
func (v *Verdict) Count(k Kind) int {
	n := 0
	for _, r := range v.Rows {
		if r.Kind == k {
			n++
		}
	}
	return n
}

// Compare compares the current report with the baseline. Results are
// matched by cell (workload, strategy, engine, parameters).
//
// Emulated results (sim.Emu): instructions.total, .setup,
// .per_resume, each .by_region.* and .by_step.* (a key on one side only
// counts as 0 on the other), helper_calls.*, osr_entries.*, suspensions,
// resumptions, and cycles_est.total and cycles_est.mispredicts.* when both
// sides have cycle estimates from the same model. Each is compared
// exactly: equal is Unchanged, a fall Faster, a rise Slower, failing when
// it exceeds Options.Tolerance. final_state.s_value, .ret and .checksum
// are compared too: a difference is Changed, never a failure by itself
// (an instruction-count change almost always comes with one).
//
// If both reports hold emulated results and their Env.Unicorn differ,
// counts are not compared at all: the status is UnicornMismatch.
//
// Native results (sim.Native) are ignored with NativeOff. Otherwise
// the median ns_per_resume of each cell is compared: Slower (or Faster)
// when the Mann–Whitney U test on the raw samples gives p < Alpha and the
// median moved by more than NativeThreshold; Unchanged otherwise. Slower
// native rows fail with NativeEnforce and are warnings with NativeWarn.
// Too few samples for the test give a warning and an Unchanged row.
//
// A result only in the baseline is Missing and fails; one only in the
// current report is New and does not.
func Compare(base, cur *report.Report, opt Options) *Verdict {
	v := &Verdict{Options: opt}
	if base != nil {
		v.Base = Side{base.Experiment, base.Env}
	}
	if cur != nil {
		v.Cur = Side{cur.Experiment, cur.Env}
	}
	if opt.Alpha == 0 {
		opt.Alpha = report.Alpha
		v.Options.Alpha = opt.Alpha
	}
	if err := opt.Validate(); err != nil {
		return v.bad(err.Error())
	}
	if base == nil || cur == nil {
		return v.bad("no report to compare")
	}
	if err := validate(base); err != nil {
		return v.bad("baseline: " + err.Error())
	}
	if err := validate(cur); err != nil && len(cur.Results) > 0 {
		return v.bad("current report: " + err.Error())
	}
	if base.Experiment != cur.Experiment {
		v.warn("the reports are of different experiments: %q, then %q", base.Experiment, cur.Experiment)
	}

	use := func(r report.Result) bool { return r.Engine != sim.Native || opt.Native != NativeOff }
	hasEmu := func(rep *report.Report) bool {
		for _, r := range rep.Results {
			if r.Engine != sim.Native {
				return true
			}
		}
		return false
	}
	mismatch := hasEmu(base) && hasEmu(cur) && base.Env.Unicorn != cur.Env.Unicorn
	if mismatch {
		v.Status = UnicornMismatch
		v.Message = fmt.Sprintf("libunicorn version mismatch (baseline %s, now %s): counts are not comparable; re-record with --update",
			orUnknown(base.Env.Unicorn), orUnknown(cur.Env.Unicorn))
	}

	curBy := map[string]report.Result{}
	for _, r := range cur.Results {
		curBy[keyOf(r).id()] = r
	}
	matched := map[string]bool{}
	compared, skippedNative := 0, 0
	for _, b := range base.Results {
		if !use(b) {
			skippedNative++
			continue
		}
		k := keyOf(b)
		c, ok := curBy[k.id()]
		if !ok {
			v.Rows = append(v.Rows, Row{Kind: Missing, Cell: k, Metric: "result", Fails: true, Note: "in the baseline, not in this run"})
			compared++
			continue
		}
		matched[k.id()] = true
		compared++
		if b.Engine == sim.Native {
			v.native(k, b, c, opt)
		} else if !mismatch {
			v.exact(k, b, c, opt)
		}
	}
	for _, c := range cur.Results {
		if !use(c) {
			skippedNative++
			continue
		}
		if k := keyOf(c); !matched[k.id()] {
			v.Rows = append(v.Rows, Row{Kind: New, Cell: k, Metric: "result", Note: "in this run, not in the baseline"})
		}
	}
	for _, msg := range v.noteOrder {
		v.warn("%d result(s): %s", v.notes[msg], msg)
	}
	if skippedNative > 0 {
		v.warn("%d native result(s) not compared (native comparison is off)", skippedNative)
	}
	if compared == 0 && v.Status == OK {
		return v.bad("the baseline has no results to compare (native results need native comparison turned on)")
	}
	for _, r := range v.Rows {
		if r.Fails && v.Status == OK {
			v.Status = Regressed
		}
	}
	return v
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func (v *Verdict) bad(msg string) *Verdict {
	v.Status, v.Message = BadInput, msg
	return v
}

// note records a warning that may apply to many results; Compare lists
// each once with the number of results.
func (v *Verdict) note(msg string) {
	if v.notes == nil {
		v.notes = map[string]int{}
	}
	if v.notes[msg] == 0 {
		v.noteOrder = append(v.noteOrder, msg)
	}
	v.notes[msg]++
}

func (v *Verdict) warn(format string, args ...any) {
	v.Warnings = append(v.Warnings, fmt.Sprintf(format, args...))
}

// metric is one exact value of a result.
type metric struct {
	name  string
	val   float64
	text  string // non-numeric values
	state bool   // final state: Changed, not Slower/Faster
}

// exactMetrics lists the exact metrics of an emulated result in a fixed
// order; maps are flattened with sorted keys, and keys present only on
// the other side (other) appear with 0.
func exactMetrics(r, other report.Result, cycles bool) []metric {
	var ms []metric
	add := func(name string, v float64) { ms = append(ms, metric{name: name, val: v}) }
	in, oin := r.Instructions, other.Instructions
	if in == nil {
		in = &report.Instructions{}
	}
	if oin == nil {
		oin = &report.Instructions{}
	}
	add("instructions.total", float64(in.Total))
	add("instructions.setup", float64(in.Setup))
	add("instructions.per_resume", in.PerResume)
	for _, m := range []struct {
		prefix string
		a, b   map[string]uint64
	}{{"instructions.by_region.", in.ByRegion, oin.ByRegion}, {"instructions.by_step.", in.ByStep, oin.ByStep}} {
		for _, k := range unionKeys(m.a, m.b) {
			add(m.prefix+k, float64(m.a[k]))
		}
	}
	hc := r.HelperCalls
	if hc == nil {
		hc = &report.HelperCalls{}
	}
	add("helper_calls.patchpoint", float64(hc.Patchpoint))
	add("helper_calls.patchpoint_forced", float64(hc.PatchpointForced))
	oe := r.OSREntries
	if oe == nil {
		oe = &report.OSREntries{}
	}
	add("osr_entries.via_helper", float64(oe.ViaHelper))
	add("osr_entries.via_jump", float64(oe.ViaJump))
	add("suspensions", float64(r.Suspensions))
	add("resumptions", float64(r.Resumptions))
	if cycles {
		c := r.CyclesEst
		add("cycles_est.total", float64(c.Total))
		add("cycles_est.mispredicts.branch", float64(c.Mispredicts.Branch))
		add("cycles_est.mispredicts.indirect", float64(c.Mispredicts.Indirect))
		add("cycles_est.mispredicts.return", float64(c.Mispredicts.Return))
	}
	ms = append(ms,
		metric{name: "final_state.s_value", val: float64(r.FinalState.SValue), state: true},
		metric{name: "final_state.ret", val: float64(r.FinalState.Ret), text: strconv.FormatUint(r.FinalState.Ret, 10), state: true},
		metric{name: "final_state.checksum", text: r.FinalState.Checksum, state: true},
	)
	return ms
}

func unionKeys(a, b map[string]uint64) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// exact compares the exact metrics of one emulated cell.
func (v *Verdict) exact(k Cell, b, c report.Result, opt Options) {
	cycles := b.CyclesEst != nil && c.CyclesEst != nil
	switch {
	case cycles && b.CyclesEst.Model != c.CyclesEst.Model:
		v.note(fmt.Sprintf("cycle estimates come from different models (baseline %q, now %q); not compared", b.CyclesEst.Model, c.CyclesEst.Model))
		cycles = false
	case b.CyclesEst != nil && c.CyclesEst == nil:
		v.note("cycle estimates only in the baseline; not compared")
	case b.CyclesEst == nil && c.CyclesEst != nil:
		v.note("cycle estimates only in this run; not compared")
	}
	olds, news := exactMetrics(b, c, cycles), exactMetrics(c, b, cycles)
	for i, o := range olds {
		n := news[i]
		row := Row{Cell: k, Metric: o.name, Old: o.val, New: n.val, Delta: n.val - o.val}
		if o.val != 0 {
			row.DeltaPct = 100 * row.Delta / o.val
		}
		if o.text != "" || n.text != "" {
			row.OldText, row.NewText = o.text, n.text
		}
		same := o.val == n.val && o.text == n.text
		switch {
		case same:
			row.Kind = Unchanged
		case o.state:
			row.Kind = Changed
		case n.val < o.val:
			row.Kind = Faster
		default:
			row.Kind = Slower
			if o.val > 0 && n.val <= o.val*(1+opt.Tolerance) {
				row.Note = "within tolerance " + pct(opt.Tolerance)
			} else {
				row.Fails = true
			}
		}
		v.Rows = append(v.Rows, row)
	}
}

// pct renders a fraction as a percentage: 0.05 → "5%".
func pct(f float64) string {
	return strconv.FormatFloat(100*f, 'g', 4, 64) + "%"
}

// native compares the wall-clock time of one native cell.
func (v *Verdict) native(k Cell, b, c report.Result, opt Options) {
	row := Row{Cell: k, Metric: "native.ns_per_resume", Kind: Unchanged}
	if b.Native == nil || c.Native == nil {
		row.Note = "no native figures on one side"
		v.warn("%s: %s", k, row.Note)
		v.Rows = append(v.Rows, row)
		return
	}
	row.Old, row.New = b.Native.NsPerResume.Median, c.Native.NsPerResume.Median
	row.OldCI, row.NewCI = ci95(b.Native.NsPerResume), ci95(c.Native.NsPerResume)
	row.Delta = row.New - row.Old
	if row.Old != 0 {
		row.DeltaPct = 100 * row.Delta / row.Old
	}
	p, err := report.MannWhitney(b.Native.SamplesNs, c.Native.SamplesNs)
	switch {
	case errors.Is(err, report.ErrTooFewSamples):
		row.Note = fmt.Sprintf("too few samples for a U test (n=%d/%d, need %d per side)",
			len(b.Native.SamplesNs), len(c.Native.SamplesNs), report.MinSamplesUTest)
		v.warn("%s: native time %+.1f%%, not tested: %s", k, row.DeltaPct, row.Note)
		v.Rows = append(v.Rows, row)
		return
	case err != nil:
		row.Note = err.Error()
		v.warn("%s: %s", k, row.Note)
		v.Rows = append(v.Rows, row)
		return
	}
	row.P = &p
	if row.Old <= 0 {
		row.Note = "baseline median is not positive; not compared"
		v.Rows = append(v.Rows, row)
		return
	}
	ratio := row.New / row.Old
	switch {
	case p >= opt.Alpha:
		row.Note = fmt.Sprintf("~ not significant (p=%.3f)", p)
	case ratio > 1+opt.NativeThreshold:
		row.Kind = Slower
		switch opt.Native {
		case NativeEnforce:
			row.Fails = true
		case NativeWarn:
			row.Note = "warning only (native mode warn)"
			v.warn("%s: native time %.2f → %.2f ns/op (%+.1f%%, p=%.3f), beyond the %s threshold", k, row.Old, row.New, row.DeltaPct, p, pct(opt.NativeThreshold))
		}
	case ratio < 1-opt.NativeThreshold:
		row.Kind = Faster
	default:
		row.Note = fmt.Sprintf("significant (p=%.3f) but within the %s threshold", p, pct(opt.NativeThreshold))
	}
	v.Rows = append(v.Rows, row)
}

// ci95 is the confidence interval of s, nil when it has none.
func ci95(s report.Stats) *[2]float64 {
	if s.N < 2 {
		return nil
	}
	ci := s.CI95
	return &ci
}
