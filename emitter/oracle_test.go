package emitter

import "testing"

// TestOracleGAS assembles every encoding case with GNU as and checks that its
// bytes are one of the case's accepted encodings. Documented alternatives:
// a jmp to a same-section symbol stays rel32 here (only labels relax), while
// GNU as relaxes it to rel8.
func TestOracleGAS(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	srcs := make([]string, len(encCases))
	for i, c := range encCases {
		srcs[i] = gasSource(t, c)
	}
	got := assembleGAS(t, srcs)
	for i, c := range encCases {
		if h := hexBytes(got[i]); !hexMatches(c.hex, h) {
			t.Errorf("%s: GNU as (%q) gives %s, want %s", c.text, srcs[i], h, c.hex)
		}
	}
}
