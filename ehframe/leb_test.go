package ehframe

import (
	"encoding/hex"
	"testing"
)

func TestLEB128(t *testing.T) {
	for _, c := range []struct {
		v    int64
		u, s string
	}{
		{0, "00", "00"}, {2, "02", "02"}, {63, "3f", "3f"}, {64, "40", "c000"}, {127, "7f", "ff00"},
		{128, "8001", "8001"}, {-1, "", "7f"}, {-8, "", "78"}, {-64, "", "40"}, {-65, "", "bf7f"}, {624485, "e58e26", "e58e26"},
	} {
		if c.u != "" {
			if got := hex.EncodeToString(appendULEB(nil, uint64(c.v))); got != c.u {
				t.Errorf("ULEB(%d) = %s, want %s", c.v, got, c.u)
			}
			r := &reader{b: appendULEB(nil, uint64(c.v))}
			if got := r.uleb(); got != uint64(c.v) || !r.done() {
				t.Errorf("uleb(%s) = %d", c.u, got)
			}
		}
		if got := hex.EncodeToString(appendSLEB(nil, c.v)); got != c.s {
			t.Errorf("SLEB(%d) = %s, want %s", c.v, got, c.s)
		}
		r := &reader{b: appendSLEB(nil, c.v)}
		if got := r.sleb(); got != c.v || !r.done() {
			t.Errorf("sleb(%s) = %d", c.s, got)
		}
	}
}
