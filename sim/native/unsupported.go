//go:build !(linux && amd64 && cgo)

package native

import (
	"fmt"
	"os"
	"runtime"

	"github.com/osrsim/osrsim/sim"
)

func unsupported() error {
	return fmt.Errorf("%w (this is %s/%s)", ErrUnsupported, runtime.GOOS, runtime.GOARCH)
}

// Loaded is an image mapped at its fixed addresses; here it cannot exist.
type Loaded struct{}

// Load returns ErrUnsupported on this platform.
func Load(im *sim.Image) (*Loaded, error) { return nil, unsupported() }

// Close returns ErrUnsupported on this platform.
func (l *Loaded) Close() error { return unsupported() }

// Reset returns ErrUnsupported on this platform.
func (l *Loaded) Reset() error { return unsupported() }

// Memory returns nil on this platform.
func (l *Loaded) Memory(name string) []byte { return nil }

// Run returns ErrUnsupported on this platform.
func (l *Loaded) Run(opt Options) (*Result, error) { return nil, unsupported() }

// RunInChild returns ErrUnsupported on this platform.
func RunInChild(im *sim.Image, opt Options) (*Result, error) { return nil, unsupported() }

// ChildMain returns at once unless this is a native child, which cannot
// have been started here; it then reports the error and exits.
func ChildMain() {
	if os.Getenv(envChild) == "" {
		return
	}
	fmt.Fprintf(os.Stdout, "{\"error\": %q}\n", unsupported().Error())
	os.Exit(1)
}
