// Package trace turns an emulated run's timeline into Chrome trace JSON
// (opens in Perfetto and chrome://tracing) and JSON lines. Timestamps are
// instruction counts: one "microsecond" of the trace is one executed
// instruction, so slice lengths read as instruction counts.
package trace

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"github.com/osrsim/osrsim/region"
	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/unicorn"
)

// Run is what a trace describes.
type Run struct {
	Name    string                 // e.g. "await-loop/direct"
	Records []unicorn.TraceRecord  // the timeline
	End     uint64                 // instructions executed in total
	Events  map[uint64]string      // event addresses and names
	Meta    map[string]interface{} // extra metadata (params, strategy)
	// Symbols say which region and step each symbol's code counts for
	// (the image's symbols).
	Symbols []sim.Symbol
}

// metas indexes what the run's symbols say about their code.
func (r Run) metas() map[string]region.Meta {
	m := make(map[string]region.Meta, len(r.Symbols))
	for _, s := range r.Symbols {
		m[s.Name] = s.Meta
	}
	return m
}

type chromeEvent struct {
	Name string                 `json:"name"`
	Cat  string                 `json:"cat,omitempty"`
	Ph   string                 `json:"ph"`
	Ts   uint64                 `json:"ts"`
	Dur  *uint64                `json:"dur,omitempty"`
	Pid  int                    `json:"pid"`
	Tid  int                    `json:"tid"`
	S    string                 `json:"s,omitempty"`
	Args map[string]interface{} `json:"args,omitempty"`
}

// Chrome writes the run in Chrome trace format: a complete ("X") slice for
// every stay in a symbol, nested by symbol containment (a helper step
// inside the worker), in the category of the symbol's region and with its
// step as an argument, and an instant ("i") event at every event address
// (suspensions, resumptions, helper calls, OSR entries).
func Chrome(w io.Writer, r Run) error {
	metas := r.metas()
	evs := []chromeEvent{
		{Name: "process_name", Ph: "M", Pid: 1, Args: map[string]interface{}{"name": "osrsim " + r.Name}},
		{Name: "thread_name", Ph: "M", Pid: 1, Tid: 1, Args: map[string]interface{}{"name": "emulated CPU (ts = instructions)"}},
	}
	type open struct {
		name string
		at   uint64
	}
	var stack []open
	closeTo := func(depth int, at uint64) {
		for len(stack) > depth {
			o := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			d := at - o.at
			m := metas[o.name]
			ev := chromeEvent{Name: o.name, Cat: category(m), Ph: "X", Ts: o.at, Dur: &d, Pid: 1, Tid: 1}
			if m.Step != "" {
				ev.Args = map[string]interface{}{"step": m.Step}
			}
			evs = append(evs, ev)
		}
	}
	for _, rec := range r.Records {
		common := 0
		for common < len(stack) && common < len(rec.Symbols) && stack[common].name == rec.Symbols[common] {
			common++
		}
		// Re-entering the same innermost symbol at an event (a new call)
		// starts a new slice.
		if name, ok := r.Events[rec.Addr]; ok {
			if common == len(rec.Symbols) && common > 0 {
				common--
			}
			closeTo(common, rec.At)
			evs = append(evs, chromeEvent{Name: name, Cat: "event", Ph: "i", S: "t", Ts: rec.At, Pid: 1, Tid: 1,
				Args: map[string]interface{}{"addr": fmt.Sprintf("%#x", rec.Addr)}})
		} else {
			closeTo(common, rec.At)
		}
		for _, s := range rec.Symbols[len(stack):] {
			stack = append(stack, open{s, rec.At})
		}
	}
	closeTo(0, r.End)
	out := map[string]interface{}{"traceEvents": evs, "displayTimeUnit": "ns", "otherData": r.Meta}
	enc := json.NewEncoder(w)
	return enc.Encode(out)
}

// category groups slices for Perfetto's colouring: by region.
func category(m region.Meta) string {
	if m.Region == region.None {
		return "other"
	}
	return string(m.Region)
}

// JSONLines writes one JSON object per timeline record, with the region
// and step its instructions count for (the innermost symbol's that names
// one).
func JSONLines(w io.Writer, r Run) error {
	metas := r.metas()
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for _, rec := range r.Records {
		var at region.Meta
		for _, s := range rec.Symbols { // outermost first
			if m := metas[s]; m.Region != region.None {
				at.Region = m.Region
			}
			if m := metas[s]; m.Step != "" {
				at.Step = m.Step
			}
		}
		line := struct {
			At      uint64        `json:"at"`
			Addr    string        `json:"addr"`
			Symbols []string      `json:"symbols"`
			Region  region.Region `json:"region,omitempty"`
			Step    string        `json:"step,omitempty"`
			Event   string        `json:"event,omitempty"`
		}{rec.At, fmt.Sprintf("%#x", rec.Addr), rec.Symbols, at.Region, at.Step, r.Events[rec.Addr]}
		if err := enc.Encode(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}
