package report

import (
	"slices"
	"sort"
)

// MergeBreakdown adds the regions and steps of b that a lacks to a: each
// right after the part that precedes it in b (at the front if none does),
// so that reports of several images (one helper per platform, say) list
// every part once and each image's parts in its own order.
func MergeBreakdown(a, b []Part) []Part {
	out := append([]Part(nil), a...)
	at := -1 // where b's previous part is in out
	for _, p := range b {
		i := partIndex(out, p.Name)
		if i < 0 {
			i = at + 1
			out = slices.Insert(out, i, Part{Name: p.Name, Doc: p.Doc, Steps: append([]Part(nil), p.Steps...)})
		} else {
			out[i].Steps = MergeBreakdown(out[i].Steps, p.Steps)
		}
		at = i
	}
	return out
}

func partIndex(ps []Part, name string) int {
	for i, p := range ps {
		if p.Name == name {
			return i
		}
	}
	return -1
}

// byRegion and byStep read an instruction breakdown.
func byRegion(in *Instructions) map[string]uint64 { return in.ByRegion }
func byStep(in *Instructions) map[string]uint64   { return in.ByStep }

// keys is the set of keys that the rows' instruction maps (by region or
// by step) hold.
func (t *table) keys(m func(*Instructions) map[string]uint64) map[string]bool {
	present := map[string]bool{}
	for _, rw := range t.Rows {
		if rw.Instr != nil {
			for k := range m(rw.Instr.Instructions) {
				present[k] = true
			}
		}
	}
	return present
}

// presentKeys is the set of regions and of steps the tables' rows count.
func presentKeys(ts []*table) (regions, steps map[string]bool) {
	regions, steps = map[string]bool{}, map[string]bool{}
	for _, t := range ts {
		for k := range t.keys(byRegion) {
			regions[k] = true
		}
		for k := range t.keys(byStep) {
			steps[k] = true
		}
	}
	return regions, steps
}

// stepGroup is the steps of one region present in a table, in order.
type stepGroup struct {
	Region Part // Name "" for steps no region of the breakdown declares
	Keys   []string
}

// regionKeys orders the regions present as the breakdown lists them, the
// rest after them, sorted.
func regionKeys(r *Report, present map[string]bool) []string {
	var pref []string
	for _, p := range r.Breakdown {
		pref = append(pref, p.Name)
	}
	return orderedKeys(present, pref)
}

// stepGroups splits the steps present by region, in breakdown order; steps
// the breakdown does not declare form a last group, sorted.
func stepGroups(r *Report, present map[string]bool) []stepGroup {
	var out []stepGroup
	left := map[string]bool{}
	for k := range present {
		left[k] = true
	}
	for _, reg := range r.Breakdown {
		g := stepGroup{Region: Part{Name: reg.Name, Doc: reg.Doc}}
		for _, st := range reg.Steps {
			if left[st.Name] {
				g.Keys = append(g.Keys, st.Name)
				delete(left, st.Name)
			}
		}
		if len(g.Keys) > 0 {
			out = append(out, g)
		}
	}
	if len(left) > 0 {
		out = append(out, stepGroup{Keys: orderedKeys(left, nil)})
	}
	return out
}

// stepKeys is every step present, grouped and ordered as stepGroups.
func stepKeys(r *Report, present map[string]bool) []string {
	var out []string
	for _, g := range stepGroups(r, present) {
		out = append(out, g.Keys...)
	}
	return out
}

// stepDoc is what the breakdown says about step name ("" if nothing).
func stepDoc(r *Report, name string) string {
	for _, reg := range r.Breakdown {
		if i := partIndex(reg.Steps, name); i >= 0 {
			return reg.Steps[i].Doc
		}
	}
	return ""
}

// orderedKeys returns keys in the preferred order, then the rest sorted.
func orderedKeys(have map[string]bool, pref []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, k := range pref {
		if have[k] && !seen[k] {
			out = append(out, k)
			seen[k] = true
		}
	}
	var rest []string
	for k := range have {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}
