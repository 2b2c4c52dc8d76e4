package experiments

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Error is one config error. Parse reports its errors as an ErrorList of
// them; Load and Set return a single *Error.
type Error struct {
	File string // the config path; "--set" for Set
	Line int    // 1-based; 0 when unknown
	Key  string // dotted path of the offending key ("workloads.await-loop.n"); "" when none
	Msg  string
}

// Error formats as "file:line: key: msg", leaving out what is unknown.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is every error found in one config, in line order. The parser
// goes on after an error, so one run shows every mistake.
type ErrorList []*Error

// Error is the first error and how many follow, as go/scanner and avo
// write it; print the list itself to show them all.
func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	return fmt.Sprintf("%s (and %d more errors)", l[0], len(l)-1)
}

// Unwrap gives errors.As and errors.Is the single errors.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// Err is nil for an empty list and the list, sorted by line, otherwise.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	sort.SliceStable(l, func(i, j int) bool { return l[i].Line < l[j].Line })
	return l
}
