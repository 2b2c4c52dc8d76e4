package runner

import (
	"strings"
	"testing"
)

// Native runs execute the code that completed under emulation, at another
// scale: an emulation override of a parameter that shapes the code is
// refused while emulating, before any native run.
func TestNativeScaleMustNotChangeCode(t *testing.T) {
	e := parseConfig(t, `name: scales
engines: [emu, native]
workloads:
  await-loop:
    n: 12000
    awaits: 20
    emulation:
      live_locals: 2
`)
	if _, err := Run(e, Options{Version: "test"}); err == nil || !strings.Contains(err.Error(), "live_locals differs from the built workload in more than its scale (n, awaits)") {
		t.Errorf("Run = %v", err)
	}
}
