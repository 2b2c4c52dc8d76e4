package sim

import (
	"errors"
	"fmt"
	"strings"

	"github.com/osrsim/osrsim/internal/enum"
)

// Engine is what runs an image: the emulator (exact counts) or the host CPU
// (wall-clock time). Its names are the ones configs, flags and report.json
// use.
type Engine uint8

// The zero Engine is no engine, so a result that never set one is caught.
const (
	Emu    Engine = iota + 1 // Unicorn: exact instruction counts, estimated cycles
	Native                   // the host CPU, linux/amd64: wall-clock samples
)

// Engines lists the engines in report order.
var Engines = []Engine{Emu, Native}

// ErrCanceled is what an engine returns when its Options.Done channel was
// closed before the run completed: the run was stopped, not faulty.
var ErrCanceled = errors.New("run canceled")

// Closed reports whether done (an Options.Done channel) is closed; a nil
// channel never is.
func Closed(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// AllEngines is the command-line name of every engine at once.
const AllEngines = "both"

func (e Engine) String() string {
	switch e {
	case Emu:
		return "emu"
	case Native:
		return "native"
	}
	return fmt.Sprintf("Engine(%d)", uint8(e))
}

// ParseEngine accepts an engine name as printed by String.
func ParseEngine(name string) (Engine, error) { return enum.Parse(Engines, "engine", name) }

// ParseEngines accepts an engine name or AllEngines.
func ParseEngines(name string) ([]Engine, error) {
	if name == AllEngines {
		return append([]Engine(nil), Engines...), nil
	}
	e, err := ParseEngine(name)
	if err != nil {
		return nil, fmt.Errorf("unknown engine %q (want one of %s, %s)", name, strings.Join(enum.Names(Engines), ", "), AllEngines)
	}
	return []Engine{e}, nil
}

// MarshalText writes the engine's name (report.json, baselines).
func (e Engine) MarshalText() ([]byte, error) {
	if _, err := ParseEngine(e.String()); err != nil {
		return nil, err
	}
	return []byte(e.String()), nil
}

// UnmarshalText reads an engine's name.
func (e *Engine) UnmarshalText(b []byte) error {
	v, err := ParseEngine(string(b))
	if err != nil {
		return err
	}
	*e = v
	return nil
}
