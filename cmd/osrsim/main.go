// Command osrsim simulates JIT on-stack replacement mechanisms on x64: it
// generates real machine code, runs it under Unicorn and natively, and
// reports instruction counts, estimated cycles and wall-clock time.
package main

import (
	"fmt"
	"os"
	"runtime"
)

// version is set by the Makefile from git describe.
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:]))
}

// Exit codes.
const (
	exitOK         = 0
	exitRegression = 1
	exitBadInput   = 2
)

func run(args []string) int {
	if len(args) == 0 {
		usage()
		return exitBadInput
	}
	switch args[0] {
	case "version":
		fmt.Printf("osrsim %s\ngo %s %s/%s\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return exitOK
	case "help", "-h", "--help":
		usage()
		return exitOK
	}
	fmt.Fprintf(os.Stderr, "osrsim: unknown command %q\n", args[0])
	usage()
	return exitBadInput
}

func usage() {
	fmt.Fprint(os.Stderr, `usage:
  osrsim run [CONFIG.yaml ...] [--engine emu|native|both] [--strategy S,...] [--set key=value ...] [--out DIR]
  osrsim check --baseline FILE [CONFIG.yaml ...]
  osrsim disasm [CONFIG.yaml] [--strategy S]
  osrsim image  [CONFIG.yaml] [--strategy S] --out DIR
  osrsim trace  [CONFIG.yaml] [--strategy S] --out FILE
  osrsim version
`)
}
