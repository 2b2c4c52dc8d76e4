package experiments

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that Parse never panics, returns either an experiment or
// an *Error, and that what it accepts expands into valid cells.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("*.yaml")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("name: a\nworkloads: {reentry: &r {calls: 3}}\nsweeps: {calls: [1, 2], patchpoint.methods: [5]}\n"))
	f.Add([]byte("a: &x [1]\nb: *x\n<<: {c: 1}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := Parse("f.yaml", data)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) || e != nil {
				t.Fatalf("Parse = %v, %v", e, err)
			}
			return
		}
		for _, c := range e.Cells() {
			if err := c.Emu.Validate(); err != nil {
				t.Fatalf("cell %v: %v", c.Point, err)
			}
			if err := c.Native.Validate(); err != nil {
				t.Fatalf("cell %v: %v", c.Point, err)
			}
		}
	})
}
