package experiments

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that Parse never panics, returns either an experiment or
// an ErrorList of *Errors in line order, and that what it accepts expands
// into valid cells.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("*.yaml")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("name: a\nworkloads: {reentry: &r {calls: 3}}\nsweeps: {calls: [1, 2], patchpoint.native_functions: [5]}\n"))
	f.Add([]byte("a: &x [1]\nb: *x\n<<: {c: 1}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := Parse("f.yaml", data)
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 || e != nil {
				t.Fatalf("Parse = %v, %v", e, err)
			}
			for i, ce := range list {
				if ce.File != "f.yaml" || ce.Msg == "" || (i > 0 && ce.Line < list[i-1].Line) {
					t.Fatalf("error %d of %v", i, list)
				}
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
