package unicorn

/*
#include "hooks.h"
*/
import "C"

import (
	"sort"
	"unsafe"

	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/observe"
	"golang.org/x/arch/x86/x86asm"
)

// OtherRegion collects instructions outside every symbol.
const OtherRegion = "(other)"

// Counts are what the hooks observed in one run.
type Counts struct {
	// Total instructions executed in the code range.
	Total uint64
	// ByRegion is inclusive per symbol name: a function's count includes
	// its named sub-ranges. OtherRegion holds code outside every symbol.
	ByRegion map[string]uint64
	// Events counts executions of each image event address.
	Events map[string]uint64
	// Calls counts executed call instructions.
	Calls uint64
	// MisalignedCalls counts calls executed with RSP%16 != 0 (only with
	// Options.CheckAlignment); MisalignedAt holds the first few call sites.
	MisalignedCalls uint64
	MisalignedAt    []uint64
	// PerInst counts executions of each instruction, in the order of the
	// image's InstStarts (with Options.PerInstruction).
	PerInst []uint64
}

// segment is a maximal byte range of code whose set of containing symbols
// is constant; the C hooks count per segment and Go sums segments into
// inclusive per-symbol counts.
type segment struct {
	start, end uint64 // offsets in the code range
	names      []string
}

// layout is everything derived from the image once per Machine.
type layout struct {
	base, size uint64
	segs       []segment
	names      []string // every symbol name, for zero entries
	events     []string // per event index
}

// newLayout computes the segments of code's range from im's symbols.
func newLayout(im *sim.Image, code *observe.Code) *layout {
	lo, hi := code.Base, code.Base+code.Size
	l := &layout{base: lo, size: code.Size}
	bounds := []uint64{0, l.size}
	clip := func(a uint64) uint64 { return min(max(a, lo), hi) - lo }
	seen := map[string]bool{}
	for _, s := range im.Symbols {
		bounds = append(bounds, clip(s.Start), clip(s.End))
		if !seen[s.Name] {
			seen[s.Name] = true
			l.names = append(l.names, s.Name)
		}
	}
	sort.Slice(bounds, func(i, j int) bool { return bounds[i] < bounds[j] })
	for i := 0; i+1 < len(bounds); i++ {
		a, b := bounds[i], bounds[i+1]
		if a == b {
			continue
		}
		sg := segment{start: a, end: b}
		inSeg := map[string]bool{}
		var in []sim.Symbol
		for _, s := range im.Symbols {
			if clip(s.Start) <= a && clip(s.End) >= b && s.End > s.Start && !inSeg[s.Name] {
				inSeg[s.Name] = true
				in = append(in, s)
			}
		}
		sort.SliceStable(in, func(i, j int) bool { return in[i].End-in[i].Start > in[j].End-in[j].Start })
		for _, s := range in { // outermost first
			sg.names = append(sg.names, s.Name)
		}
		l.segs = append(l.segs, sg)
	}
	for _, e := range im.Events {
		l.events = append(l.events, e.Name)
	}
	return l
}

// fill writes the tables into a fresh C state: the prefix table over the
// decoded instruction starts, the segment id and end of each byte, and the
// call and event flags.
func (l *layout) fill(im *sim.Image, code *observe.Code, s *C.osr_state) {
	prefix := unsafe.Slice((*uint32)(unsafe.Pointer(s.prefix)), l.size+1)
	seg := unsafe.Slice((*uint32)(unsafe.Pointer(s.seg)), l.size)
	segEnd := unsafe.Slice((*uint64)(unsafe.Pointer(s.seg_end)), len(l.segs))
	flags := unsafe.Slice((*uint8)(unsafe.Pointer(s.flags)), l.size+1)

	for i := range code.Addrs {
		prefix[code.Offset(i)+1] = 1 // instruction starts, summed below
	}
	for off := range l.size {
		prefix[off+1] += prefix[off]
	}
	for id, sg := range l.segs {
		segEnd[id] = sg.end
		for off := sg.start; off < sg.end; off++ {
			seg[off] = uint32(id)
		}
	}
	for i, in := range code.Insts {
		if in.Op != x86asm.CALL {
			continue
		}
		off := code.Offset(i)
		flags[off] |= C.OSR_FLAG_CALL
		if end := off + uint64(in.Len); end <= l.size {
			flags[end] |= C.OSR_FLAG_CALL_END
		}
	}
	for _, e := range im.Events {
		if e.Addr >= l.base && e.Addr-l.base < l.size {
			flags[e.Addr-l.base] |= C.OSR_FLAG_EVENT
		}
	}
}

// counts reads the C counters after a run.
func (l *layout) counts(s *C.osr_state) Counts {
	c := Counts{
		Total:    uint64(s.total),
		ByRegion: make(map[string]uint64, len(l.names)+1),
		Events:   make(map[string]uint64, len(l.events)),
		Calls:    uint64(s.calls),
	}
	for _, n := range l.names {
		c.ByRegion[n] = 0
	}
	segCounts := unsafe.Slice((*uint64)(unsafe.Pointer(s.seg_counts)), len(l.segs))
	for id, sg := range l.segs {
		n := segCounts[id]
		if len(sg.names) == 0 {
			if n != 0 {
				c.ByRegion[OtherRegion] += n
			}
			continue
		}
		for _, name := range sg.names {
			c.ByRegion[name] += n
		}
	}
	if len(l.events) > 0 {
		ev := unsafe.Slice((*uint64)(unsafe.Pointer(s.event_counts)), len(l.events))
		for i, name := range l.events {
			c.Events[name] += ev[i]
		}
	}
	if s.inst_counts != nil {
		n := uint64(unsafe.Slice((*uint32)(unsafe.Pointer(s.prefix)), l.size+1)[l.size])
		c.PerInst = append([]uint64(nil), unsafe.Slice((*uint64)(unsafe.Pointer(s.inst_counts)), n)...)
	}
	c.MisalignedCalls = uint64(s.misaligned)
	for i := range min(c.MisalignedCalls, C.OSR_MAX_MISALIGNED) {
		c.MisalignedAt = append(c.MisalignedAt, uint64(s.misaligned_pc[i]))
	}
	return c
}

// TraceRecord is one entry of the timeline: execution entered Addr, in the
// segment covered by Symbols (outermost first; empty outside any symbol),
// after At instructions.
type TraceRecord struct {
	At      uint64
	Addr    uint64
	Symbols []string
}

// trace reads the C timeline.
func (l *layout) trace(s *C.osr_state) []TraceRecord {
	if s.trace == nil {
		return nil
	}
	raw := unsafe.Slice((*uint64)(unsafe.Pointer(s.trace)), 3*uint64(s.trace_len))
	out := make([]TraceRecord, 0, s.trace_len)
	for i := 0; i+2 < len(raw); i += 3 {
		out = append(out, TraceRecord{At: raw[i], Addr: raw[i+1], Symbols: l.segs[raw[i+2]].names})
	}
	return out
}
