package emitter

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/osrsim/osrsim/internal/errlist"
)

// Sentinel errors. Every recorded error wraps exactly one of them, so callers
// can test the kind with errors.Is on an *Error or on the whole ErrorList.
var (
	ErrInvalidOperands  = errors.New("invalid operands")
	ErrImmRange         = errors.New("immediate out of range")
	ErrDispRange        = errors.New("displacement out of range")
	ErrUnboundLabel     = errors.New("unbound label")
	ErrLabelRebound     = errors.New("label bound twice")
	ErrDuplicateSymbol  = errors.New("duplicate symbol")
	ErrUndefinedSymbol  = errors.New("undefined symbol")
	ErrSymbolNesting    = errors.New("symbol nesting")
	ErrSymbolMeta       = errors.New("invalid symbol metadata")
	ErrUnwind           = errors.New("invalid unwind record")
	ErrUnknownSection   = errors.New("unknown section")
	ErrForeignLabel     = errors.New("label of another program")
	ErrInvalidAlignment = errors.New("invalid alignment")
)

// Error is one recorded problem with the position of the caller that caused it.
type Error struct {
	Pos string // file:line of the first caller outside package emitter ("" at Link)
	Err error  // wraps a sentinel
}

func (e *Error) Error() string {
	if e.Pos == "" {
		return e.Err.Error()
	}
	return e.Pos + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// ErrorList collects every problem of one build, so a single run reports all.
type ErrorList = errlist.List[*Error]

// pkgDir is this package's source directory; frames from it that are not
// test files belong to the emitter and are skipped when positioning errors.
var pkgDir = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}()

// callerPos returns file:line of the first caller outside package emitter.
func callerPos() string {
	var pcs [32]uintptr
	n := runtime.Callers(2, pcs[:])
	return posFromPCs(pcs[:n])
}

// callerPCs captures a few frames cheaply for a position that is only
// needed if an error shows up later (at Finish); symbolizing waits until then.
func callerPCs() *[8]uintptr {
	var pcs [8]uintptr
	runtime.Callers(2, pcs[:])
	return &pcs
}

func posFromPCs(pcs []uintptr) string {
	for len(pcs) > 0 && pcs[len(pcs)-1] == 0 {
		pcs = pcs[:len(pcs)-1]
	}
	frames := runtime.CallersFrames(pcs)
	for {
		f, more := frames.Next()
		if f.File != "" && (filepath.Dir(f.File) != pkgDir || strings.HasSuffix(f.File, "_test.go")) {
			return fmt.Sprintf("%s:%d", f.File, f.Line)
		}
		if !more {
			return "?"
		}
	}
}

// bug panics on a broken internal invariant.
func bug(format string, args ...any) {
	panic("BUG: " + fmt.Sprintf(format, args...))
}

// Link errors.
var (
	ErrNoBase         = errors.New("section without base address")
	ErrRel32Range     = errors.New("rel32 out of range")
	ErrSectionOverlap = errors.New("sections overlap")
)
