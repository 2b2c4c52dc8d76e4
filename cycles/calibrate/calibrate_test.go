package calibrate

import (
	"github.com/osrsim/osrsim/cycles"
	"os"
	"testing"
)

func TestCalibrate(t *testing.T) {
	if testing.Short() {
		t.Skip("native microbenchmarks")
	}
	f, err := Run(Options{Iterations: 50000, Samples: 5, Log: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range f.Calibration.Benchmarks {
		t.Logf("%-16s cycles %7.2f model %7.2f", b.Name, b.Cycles, b.Model)
	}
	t.Logf("cost %v taken %v penalties %+v rms %.3f", f.Cost, f.Taken, f.Penalties, f.Calibration.RMSRelError)
	if p := os.Getenv("OSRSIM_CALIBRATION_OUT"); p != "" {
		if err := cycles.WriteFile(p, f); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.Model(); err != nil {
		t.Fatal(err)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }
