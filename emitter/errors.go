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
// Errors found on the spot use it: they are on the error path already.
func callerPos() string {
	var pcs [32]uintptr
	n := runtime.Callers(2, pcs[:])
	return posFromPCs(pcs[:n])
}

// site is where a call into the emitter came from, kept for an error that
// only Finish can find (a label never bound, a symbol never defined, an
// unwind code out of range). Taking it walks the stack, so only a Program
// that records positions takes one (NewProgram's do; Generate's first run
// does not), and it is turned into file:line only for an error.
type site struct{ pcs *[8]uintptr }

// here is the site of the caller of the exported method that calls it.
func (p *Program) here() site {
	if !p.positions {
		return site{}
	}
	var pcs [8]uintptr
	runtime.Callers(2, pcs[:])
	return site{&pcs}
}

// String is file:line of the first frame outside package emitter, "" for
// a site that was not recorded.
func (s site) String() string {
	if s.pcs == nil {
		return ""
	}
	return posFromPCs(s.pcs[:])
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
