// Package texttable lays out plain-text tables for a terminal: columns two
// spaces apart, each aligned left or right, widths counted in runes.
package texttable

import (
	"strings"
	"unicode/utf8"
)

// Write writes rows as columns two spaces apart, each line starting with
// indent; align[i] is 'l' or 'r' for column i (missing ones are 'l'). A
// nil row is a rule: dashes as wide as each column. Trailing blanks are
// trimmed.
func Write(b *strings.Builder, indent string, rows [][]string, align string) {
	var w []int
	for _, r := range rows {
		for i, c := range r {
			if i == len(w) {
				w = append(w, 0)
			}
			w[i] = max(w[i], utf8.RuneCountInString(c))
		}
	}
	for _, r := range rows {
		if r == nil {
			for _, n := range w {
				r = append(r, strings.Repeat("-", n))
			}
		}
		var line strings.Builder
		line.WriteString(indent)
		for i, c := range r {
			pad := strings.Repeat(" ", w[i]-utf8.RuneCountInString(c))
			if i > 0 {
				line.WriteString("  ")
			}
			if i < len(align) && align[i] == 'r' {
				line.WriteString(pad + c)
			} else {
				line.WriteString(c + pad)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
}

// Width is the width in runes of the widest line of s.
func Width(s string) int {
	w := 0
	for _, l := range strings.Split(s, "\n") {
		w = max(w, utf8.RuneCountInString(l))
	}
	return w
}
