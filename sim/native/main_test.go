//go:build linux && amd64 && cgo

package native

import (
	"os"
	"testing"
)

// The child of RunInChild is this test binary; ChildMain intercepts it.
func TestMain(m *testing.M) {
	ChildMain()
	os.Exit(m.Run())
}
