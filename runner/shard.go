package runner

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/osrsim/osrsim/experiments"
)

// Shard is one share of a sweep's cells, for running a sweep on many
// machines: cell k of the grid (Experiment.Cells) belongs to shard
// k mod Count, with every strategy of the cell, so that ratios always
// come from one machine. Dealing cells out in turn gives every shard a
// like mix of cheap and costly cells. The zero Shard is every cell.
type Shard struct {
	Index, Count int // 0 <= Index < Count
}

// ParseShard reads "i/n" (0 <= i < n), as `osrsim run --shard` takes it.
// Indices start at 0, as a Kubernetes Indexed Job's completion index does.
func ParseShard(s string) (Shard, error) {
	is, ns, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("shard %q: want i/n, e.g. 0/4 for the first of four shards", s)
	}
	sh := Shard{Index: i, Count: n}
	if err := sh.valid(); err != nil {
		return Shard{}, err
	}
	return sh, nil
}

func (s Shard) valid() error {
	switch {
	case s.Count < 1:
		return fmt.Errorf("shard %d/%d: the number of shards must be at least 1", s.Index, s.Count)
	case s.Index < 0 || s.Index >= s.Count:
		return fmt.Errorf("shard %d/%d: the index must be 0 to %d (indices start at 0)", s.Index, s.Count, s.Count-1)
	}
	return nil
}

// Check tells whether the shard makes sense for a grid of cells: every
// shard must get at least one cell.
func (s Shard) Check(cells int) error {
	if s == (Shard{}) {
		return nil
	}
	if err := s.valid(); err != nil {
		return err
	}
	if s.Count > cells {
		return fmt.Errorf("shard %d/%d: the sweep has only %d cells, fewer than shards", s.Index, s.Count, cells)
	}
	return nil
}

// has reports whether cell k is in the shard.
func (s Shard) has(k int) bool { return s.Count == 0 || k%s.Count == s.Index }

// fingerprint identifies what a run computes: the resolved config (every
// key, as report.json's config records it; not the file it came from), the
// cycle model (a calibration file of the same name may differ between
// machines) and whether counting is exact.
func fingerprint(e *experiments.Experiment, opt Options) string {
	model, err := json.Marshal(opt.Cycles)
	if err != nil {
		panic("BUG: a cycle model does not encode as JSON: " + err.Error())
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n---\n%s\nexact=%v\n", e.Resolved(), model, opt.Exact)
	return hex.EncodeToString(h.Sum(nil)[:16])
}
