package csharp

import (
	"fmt"
	"testing"

	"github.com/osrsim/osrsim/jit/interp"
)

func TestSeedParses(t *testing.T) {
	p, err := Load("../experiments/seed.cs")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("%+v\n", p.Params)
	for _, m := range p.Class.Methods {
		fmt.Printf("%s %+v\n", m.Name, *m)
	}
	r, err := interp.Run(p.Class, []int32{20000, 0}, 0)
	fmt.Printf("%+v %v\n", r, err)
}
