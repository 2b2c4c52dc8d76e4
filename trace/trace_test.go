package trace

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/osrsim/osrsim/region"
	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/unicorn"
)

func TestChromeNestsAndMarksEvents(t *testing.T) {
	r := Run{
		Name: "t",
		Records: []unicorn.TraceRecord{
			{At: 0, Addr: 0x100, Symbols: []string{"main"}},
			{At: 5, Addr: 0x200, Symbols: []string{"patchpoint.worker"}},
			{At: 7, Addr: 0x210, Symbols: []string{"patchpoint.worker", "helper.unwind"}},
			{At: 20, Addr: 0x220, Symbols: []string{"patchpoint.worker"}},
			{At: 22, Addr: 0x200, Symbols: []string{"patchpoint.worker"}}, // called again
			{At: 25, Addr: 0x120, Symbols: []string{"main"}},
		},
		End:    30,
		Events: map[uint64]string{0x200: "helper"},
		Symbols: []sim.Symbol{
			{Name: "main", Meta: region.Meta{Region: region.Runtime}},
			{Name: "patchpoint.worker", Meta: region.Meta{Region: region.Helper, Step: "worker"}},
			{Name: "helper.unwind", Meta: region.Meta{Region: region.Helper, Step: "unwind"}},
		},
	}
	var buf bytes.Buffer
	if err := Chrome(&buf, r); err != nil {
		t.Fatal(err)
	}
	var out struct {
		TraceEvents []chromeEvent `json:"traceEvents"`
	}
	if err := json.Unmarshal(buf.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	var slices, instants []string
	for _, e := range out.TraceEvents {
		switch e.Ph {
		case "X":
			slices = append(slices, e.Name+"@"+itoa(e.Ts)+"+"+itoa(*e.Dur))
			// The category is the region, the step an argument.
			want := map[string]string{"main": "runtime []", "patchpoint.worker": "helper [worker]", "helper.unwind": "helper [unwind]"}[e.Name]
			if got := fmt.Sprintf("%s [%s]", e.Cat, stepArg(e.Args)); got != want {
				t.Errorf("slice %s: %s, want %s", e.Name, got, want)
			}
		case "i":
			instants = append(instants, e.Name+"@"+itoa(e.Ts))
		}
	}
	want := "main@0+5 helper.unwind@7+13 patchpoint.worker@5+17 patchpoint.worker@22+3 main@25+5"
	if got := strings.Join(slices, " "); got != want {
		t.Errorf("slices %s\nwant   %s", got, want)
	}
	if got := strings.Join(instants, " "); got != "helper@5 helper@22" {
		t.Errorf("instants %s", got)
	}
	var lines bytes.Buffer
	if err := JSONLines(&lines, r); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(lines.String(), "\n"); n != len(r.Records) || !strings.Contains(lines.String(), `"event":"helper"`) ||
		!strings.Contains(lines.String(), `"symbols":["patchpoint.worker","helper.unwind"],"region":"helper","step":"unwind"`) {
		t.Errorf("json lines:\n%s", lines.String())
	}
}

func stepArg(args map[string]interface{}) string {
	if s, ok := args["step"].(string); ok {
		return s
	}
	return ""
}

func itoa(v uint64) string {
	b, _ := json.Marshal(v)
	return string(b)
}
