package main

import (
	"flag"
	"fmt"
	"io"
)

func cmdDisasm(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("disasm", flag.ContinueOnError)
	var sel selection
	sel.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	b, err := buildOne(&sel, pos)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "; %s, strategy %s\n", b.Params.Workload, b.Strategy)
	fmt.Fprint(stdout, b.Linked.Listing(b.Object, "code", nil))
	return nil
}
