// Package enum parses the small named enumerations of osrsim (strategies,
// engines, tier0 variants): each is a Go type with a String method and a
// list of its values, and its name is whatever String prints.
package enum

import (
	"fmt"
	"strings"
)

// Parse returns the value of all whose String is name. The error names
// what (a "strategy") and lists the accepted names.
func Parse[T fmt.Stringer](all []T, what, name string) (T, error) {
	for _, v := range all {
		if v.String() == name {
			return v, nil
		}
	}
	var zero T
	return zero, fmt.Errorf("unknown %s %q (want one of %s)", what, name, strings.Join(Names(all), ", "))
}

// Names lists the names of all, in order.
func Names[T fmt.Stringer](all []T) []string {
	names := make([]string, len(all))
	for i, v := range all {
		names[i] = v.String()
	}
	return names
}
