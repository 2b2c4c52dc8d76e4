package report

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/osrsim/osrsim/sim"
)

// Partial is a partial report (written by osrsim run --shard) and where it
// came from, for messages.
type Partial struct {
	Name   string // e.g. the directory it was read from
	Report *Report
}

// MergeShards joins the partial reports of one sweep, one per shard, into
// the report of the whole sweep: results in cell order (emulated, then
// native, as an unsharded run lists them), the breakdown of every share,
// comparisons computed anew. Env is shard 0's; Shards lists each share's.
//
// It refuses, naming the reports, a report that is not partial, shards of
// another experiment, configuration (the fingerprint of the resolved
// config, cycle model and counting mode), osrsim or libunicorn version or
// sweep size, a shard given twice, a missing shard, and a result whose
// cell is not in its shard.
func MergeShards(parts []Partial) (*Report, error) {
	if len(parts) == 0 {
		return nil, errors.New("merge: no partial reports")
	}
	if err := checkShards(parts); err != nil {
		return nil, err
	}
	parts = slices.Clone(parts)
	slices.SortFunc(parts, func(a, b Partial) int { return a.Report.Shard.Index - b.Report.Shard.Index })
	first := parts[0].Report
	r := &Report{Experiment: first.Experiment, Description: first.Description, Env: first.Env, Sweeps: first.Sweeps, Config: first.Config}
	for _, p := range parts {
		r.Results = append(r.Results, p.Report.Results...)
		r.Breakdown = MergeBreakdown(r.Breakdown, p.Report.Breakdown)
		r.Shards = append(r.Shards, ShardEnv{Index: p.Report.Shard.Index, Env: p.Report.Env})
	}
	// An unsharded run lists every emulated result in cell order, then
	// every native one; within a cell, strategies in config order, which
	// each shard kept (the sort is stable).
	slices.SortStableFunc(r.Results, func(a, b Result) int {
		if ea, eb := a.Engine == sim.Native, b.Engine == sim.Native; ea != eb {
			if ea {
				return 1
			}
			return -1
		}
		return a.Cell - b.Cell
	})
	Compare(r, first.Baseline)
	return r, nil
}

// checkShards reports every reason the partial reports do not make up one
// sweep.
func checkShards(parts []Partial) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("merge: "+format, args...)) }
	var ok []Partial
	for _, p := range parts {
		if p.Report.Shard == nil {
			bad("%s is not a partial report (it has no shard; write shares with osrsim run --shard i/n)", p.Name)
			continue
		}
		ok = append(ok, p)
	}
	if len(ok) == 0 {
		return errors.Join(errs...)
	}
	ref := ok[0]
	rs := ref.Report.Shard
	same := []struct {
		what string
		get  func(*Report) string
	}{
		{"experiment", func(r *Report) string { return r.Experiment }},
		{"configuration (a fingerprint of the resolved config, the cycle model and --exact)", func(r *Report) string { return r.Shard.Config }},
		{"osrsim version", func(r *Report) string { return r.Env.Osrsim }},
		{"libunicorn version", func(r *Report) string { return r.Env.Unicorn }},
		{"number of shards", func(r *Report) string { return fmt.Sprint(r.Shard.Count) }},
		{"number of cells", func(r *Report) string { return fmt.Sprint(r.Shard.Cells) }},
	}
	for _, p := range ok[1:] {
		for _, s := range same {
			if a, b := s.get(ref.Report), s.get(p.Report); a != b {
				bad("%s and %s differ in %s: %q and %q", ref.Name, p.Name, s.what, a, b)
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	byIndex := map[int]string{}
	for _, p := range ok {
		sh := p.Report.Shard
		if sh.Index < 0 || sh.Index >= sh.Count {
			bad("%s: shard %d/%d is out of range", p.Name, sh.Index, sh.Count)
			continue
		}
		if prev, dup := byIndex[sh.Index]; dup {
			bad("%s and %s are both shard %d/%d", prev, p.Name, sh.Index, sh.Count)
		}
		byIndex[sh.Index] = p.Name
		for _, res := range p.Report.Results {
			if res.Cell < 0 || res.Cell >= sh.Cells {
				bad("%s: a result of cell %d, outside the sweep's %d cells", p.Name, res.Cell, sh.Cells)
				break
			}
			if res.Cell%sh.Count != sh.Index {
				bad("%s: shard %d/%d holds a result of cell %d, which belongs to shard %d", p.Name, sh.Index, sh.Count, res.Cell, res.Cell%sh.Count)
				break
			}
		}
	}
	var missing []string
	for i := range rs.Count {
		if _, ok := byIndex[i]; !ok {
			missing = append(missing, fmt.Sprint(i))
		}
	}
	switch {
	case len(missing) == 1:
		bad("shard %s/%d is missing", missing[0], rs.Count)
	case len(missing) > 1:
		bad("shards %s of %d are missing", strings.Join(missing, ", "), rs.Count)
	}
	return errors.Join(errs...)
}
