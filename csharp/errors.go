// Package csharp turns a C# source file of osrsim's subset into a workload
// program: it parses with tree-sitter's C# grammar, checks the subset with
// positioned errors, and lowers the syntax tree to the jit IR. The subset
// and its error messages are documented in experiments/CSHARP.md.
package csharp

import "fmt"

// Doc is where the subset is documented; unsupported constructs point there.
const Doc = "experiments/CSHARP.md"

// Error kinds.
const (
	KindSyntax      = "syntax error"
	KindUnsupported = "unsupported"
	KindError       = "error" // valid syntax the program cannot mean (type errors, unknown names)
	KindRuntime     = "run-time error"
)

// Error is a problem in a C# source file, at a 1-based line and column
// (Line 0: the file as a whole, e.g. unreadable).
type Error struct {
	File      string
	Line, Col int
	Kind      string
	Msg       string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	s := fmt.Sprintf("%s:%d:%d: %s: %s", e.File, e.Line, e.Col, e.Kind, e.Msg)
	if e.Kind == KindUnsupported {
		s += " (see " + Doc + ")"
	}
	return s
}
