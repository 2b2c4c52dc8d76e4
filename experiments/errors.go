package experiments

import (
	"strconv"
	"strings"

	"github.com/osrsim/osrsim/internal/errlist"
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
// goes on after an error, so one run shows every mistake; its Error is the
// first and how many follow.
type ErrorList = errlist.List[*Error]
