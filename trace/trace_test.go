package trace

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

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
	if n := strings.Count(lines.String(), "\n"); n != len(r.Records) || !strings.Contains(lines.String(), `"event":"helper"`) {
		t.Errorf("json lines:\n%s", lines.String())
	}
}

func itoa(v uint64) string {
	b, _ := json.Marshal(v)
	return string(b)
}
