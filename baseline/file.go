// Package baseline compares an osrsim report with a stored baseline report
// and decides whether the change is a regression: the library behind
// `osrsim check`.
//
// Emulated counts (instructions, helper calls, OSR entries, suspensions,
// resumptions, estimated cycles and mispredictions) are deterministic under
// one libunicorn version, so they are compared exactly, as benchstat's
// assume=exact units and iai/CodSpeed do: every difference is listed with
// its old and new value and delta, and a rise beyond Options.Tolerance is a
// regression. Wall-clock times (native results) are noisy and are compared
// only on request, with a threshold on the median ratio plus a Mann–Whitney
// U test (as dotnet/performance's ResultsComparer does), either as warnings
// or as regressions.
//
// A baseline is an ordinary report.json. Load reads one; Save writes one
// atomically and is meant to be called only by `osrsim check --update`:
// nothing else overwrites a baseline.
package baseline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/osrsim/osrsim/internal/atomicfile"
	"os"
	"slices"
	"strings"

	"github.com/osrsim/osrsim/report"
)

// Load reads a baseline (a report.json). Errors name the file: a missing or
// unreadable file, malformed JSON, trailing data, or a document that is not
// an osrsim report (no results, or a result without workload, strategy or
// engine). Unknown fields are ignored, as report.ReadJSON does.
func Load(path string) (*report.Report, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, notExist{path, err}
	}
	return decode(path, "baseline", data, err)
}

// ReadReport reads a report.json to compare (osrsim compare), checked as
// Load checks a baseline; errors call it a report.
func ReadReport(path string) (*report.Report, error) {
	data, err := os.ReadFile(path)
	return decode(path, "report", data, err)
}

// decode decodes and validates a report read from path (what: "baseline"
// or "report", for errors), or wraps the error that reading it gave.
func decode(path, what string, data []byte, err error) (*report.Report, error) {
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	var r report.Report
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%s %s is not a valid report.json: %w", what, path, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s %s is not a valid report.json: data after the report", what, path)
	}
	if err := validate(&r); err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	return &r, nil
}

// notExist is Load's error for a missing baseline; errors.Is(err,
// os.ErrNotExist) holds, so `check --update` can create a first baseline.
type notExist struct {
	path string
	err  error
}

func (e notExist) Error() string {
	return fmt.Sprintf("baseline %s does not exist (record one with osrsim check --update)", e.path)
}

func (e notExist) Unwrap() error { return e.err }

// Merge combines the reports of several experiments checked against one
// baseline (osrsim check --baseline FILE A.yaml B.yaml) into one: results
// in order, Experiment the names joined with "+", Env, Baseline and
// Description of the first, comparisons, sweeps and warnings concatenated,
// and the distinct configs as one YAML stream (Configs splits it). Two
// results of the same cell are an error. One report is returned as is.
func Merge(reports ...*report.Report) (*report.Report, error) {
	switch len(reports) {
	case 0:
		return nil, errors.New("baseline: no reports to merge")
	case 1:
		return reports[0], nil
	}
	m := &report.Report{Env: reports[0].Env, Description: reports[0].Description, Baseline: reports[0].Baseline}
	var names []string
	for _, r := range reports {
		names = append(names, r.Experiment)
		m.Results = append(m.Results, r.Results...)
		m.Comparisons = append(m.Comparisons, r.Comparisons...)
		m.Sweeps = append(m.Sweeps, r.Sweeps...)
		m.Warnings = append(m.Warnings, r.Warnings...)
		if r.Config != "" && !slices.Contains(Configs(m), r.Config) {
			if m.Config != "" {
				m.Config += configSeparator
			}
			m.Config += r.Config
		}
	}
	m.Experiment = strings.Join(names, "+")
	if err := validate(m); err != nil {
		return nil, fmt.Errorf("baseline: merging %s: %w", m.Experiment, err)
	}
	return m, nil
}

// validate checks that r looks like an osrsim report and that its cells are
// unique.
func validate(r *report.Report) error {
	if len(r.Results) == 0 {
		return errors.New("holds no results; is it an osrsim report.json?")
	}
	seen := map[string]int{}
	for i, res := range r.Results {
		if res.Workload == "" || res.Strategy == "" || res.Engine == 0 {
			return fmt.Errorf("result %d has no workload, strategy or engine; is it an osrsim report.json?", i)
		}
		k := keyOf(res).id()
		if j, ok := seen[k]; ok {
			return fmt.Errorf("results %d and %d are the same cell (%s)", j, i, keyOf(res))
		}
		seen[k] = i
	}
	return nil
}

// Save writes r to path as report.json (indented, as osrsim run writes it)
// atomically: into a temporary file in the same directory, synced, then
// renamed over path, so a reader sees the old or the new baseline and
// never a partial one. The directory must exist. On error path is left as
// it was and no temporary file remains. Only `osrsim check --update`
// should call it.
func Save(path string, r *report.Report) (err error) {
	if r == nil {
		return fmt.Errorf("baseline %s: no report to save", path)
	}
	if err := validate(r); err != nil {
		return fmt.Errorf("baseline %s: refusing to save: report %w", path, err)
	}
	data, err := report.JSON(r)
	if err != nil {
		return fmt.Errorf("baseline %s: %w", path, err)
	}
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("baseline %s exists and is not a regular file", path)
	}
	if err := atomicfile.Write(path, data); err != nil {
		return fmt.Errorf("baseline %s: cannot write: %w", path, err)
	}
	return nil
}

// configSeparator starts each config after the first in a merged
// report's Config (a YAML document separator).
const configSeparator = "---\n"

// Configs splits a report's Config into the configs of its experiments:
// one for a report of one experiment, none for a report written before
// reports recorded their config.
func Configs(r *report.Report) []string {
	if r.Config == "" {
		return nil
	}
	parts := strings.Split(r.Config, "\n"+configSeparator)
	for i := range parts[:len(parts)-1] {
		parts[i] += "\n" // each config ends its last line
	}
	return parts
}
