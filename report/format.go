package report

import (
	"math"
	"strconv"
	"strings"
)

// FormatInt renders n with thousands separators: 1234567 → "1,234,567".
func FormatInt(n uint64) string {
	s := strconv.FormatUint(n, 10)
	return groupDigits(s)
}

func groupDigits(s string) string {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	if len(s) <= 3 {
		if neg {
			return "-" + s
		}
		return s
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 && !(neg && b.Len() == 1) {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// FormatFloat renders a per-resume figure for humans: two decimals below
// 100, one decimal from 100 on, thousands separators in the integer part:
// 79.914 → "79.91", 1946.25 → "1,946.3".
func FormatFloat(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "∞"
	case math.IsInf(v, -1):
		return "-∞"
	}
	dec := 2
	if math.Abs(v) >= 100 {
		dec = 1
	}
	s := strconv.FormatFloat(v, 'f', dec, 64)
	ip, fp, _ := strings.Cut(s, ".")
	return groupDigits(ip) + "." + fp
}
