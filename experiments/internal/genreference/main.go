// Command genreference rewrites the key reference in experiments/README.md
// from the table of keys (run by `go generate ./experiments`).
package main

import (
	"fmt"
	"os"

	"github.com/osrsim/osrsim/experiments"
	"github.com/osrsim/osrsim/internal/atomicfile"
)

func main() {
	const path = "README.md"
	doc, err := os.ReadFile(path)
	if err == nil {
		var out string
		if out, err = experiments.ReplaceReference(string(doc)); err == nil {
			err = atomicfile.Write(path, []byte(out))
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "genreference: %s: %v\n", path, err)
		os.Exit(1)
	}
}
