// Package bounds checks integer settings against inclusive ranges, so that
// every config key and workload parameter words its limits the same way.
package bounds

import (
	"fmt"
	"math"
)

// Range is an inclusive range of integers.
type Range struct{ Min, Max int64 }

// Common ranges.
var (
	NonNegative = Range{0, math.MaxInt64}
	Positive    = Range{1, math.MaxInt64}
	// Int32 is what a C# int (and a 32-bit load in generated code) holds
	// of a count.
	Int32 = Range{0, math.MaxInt32}
	// AnyInt32 is every value of a C# int (a C# workload's parameters).
	AnyInt32 = Range{math.MinInt32, math.MaxInt32}
)

// Check returns an error saying how v misses the range, or nil.
func (r Range) Check(v int64) error {
	switch {
	case v < r.Min && r.Min == 0:
		return fmt.Errorf("must not be negative, got %d", v)
	case v < r.Min && r.Min == 1:
		return fmt.Errorf("must be positive, got %d", v)
	case v < r.Min:
		return fmt.Errorf("must be at least %d, got %d", r.Min, v)
	case v > r.Max:
		return fmt.Errorf("must be at most %d, got %d", r.Max, v)
	}
	return nil
}

// String describes the range for documentation: "0 or more", "1 to 1024".
func (r Range) String() string {
	if r.Max == math.MaxInt64 {
		return fmt.Sprintf("%d or more", r.Min)
	}
	return fmt.Sprintf("%d to %d", r.Min, r.Max)
}
