package bounds

import (
	"math"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		r    Range
		v    int64
		want string // "" for in range
	}{
		{Range{0, 64}, 0, ""},
		{Range{0, 64}, 64, ""},
		{Range{0, 64}, -1, "must not be negative, got -1"},
		{Range{0, 64}, 65, "must be at most 64, got 65"},
		{Range{1, 1024}, 0, "must be positive, got 0"},
		{Range{1, 1024}, 1, ""},
		{Range{1, 1024}, 5000, "must be at most 1024, got 5000"},
		{Range{3, 5}, 2, "must be at least 3, got 2"},
		{NonNegative, math.MaxInt64, ""},
		{Positive, math.MinInt64, "must be positive, got -9223372036854775808"},
		{Int32, math.MaxInt32 + 1, "must be at most 2147483647, got 2147483648"},
	} {
		err := tc.r.Check(tc.v)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("%v.Check(%d) = %q, want %q", tc.r, tc.v, got, tc.want)
		}
	}
	if s := (Range{1, 1024}).String(); s != "1 to 1024" {
		t.Errorf("String = %q", s)
	}
	if s := Positive.String(); s != "1 or more" {
		t.Errorf("String = %q", s)
	}
}
