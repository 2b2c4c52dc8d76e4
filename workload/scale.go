package workload

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/link"
)

// The driver reads the workload's sizes from data, so images of one
// workload at different scales share byte-identical code: native runs at
// full scale execute exactly the code that completed under emulation.
const (
	SymParamN          = "params.n"
	SymParamAwaits     = "params.awaits"
	SymParamCalls      = "params.calls"
	SymParamIterations = "params.iterations"
)

// scaleSyms are the scale parameters, the ones the driver reads from data,
// with the symbol of the 32-bit word each is in. Every other parameter
// shapes the code.
var scaleSyms = map[string]string{
	"n":          SymParamN,
	"awaits":     SymParamAwaits,
	"calls":      SymParamCalls,
	"iterations": SymParamIterations,
}

// scaleParams are a workload kind's scale parameters, in table order (the
// order of their words in data).
func scaleParams(kind string) []Param {
	var out []Param
	for _, q := range ParamsOf(kind) {
		if _, ok := scaleSyms[q.Name]; ok {
			out = append(out, q)
		}
	}
	return out
}

// AtScale is b's workload at the scale of q (its setup run, its native
// scale, a cut run), with b's code: q may differ from b.Params only in
// what the driver reads from data. A template's image, object and linked
// bytes are b's with the words of its scale parameters rewritten, which is
// what Build(q, ...) gives, without generating it again. A C# program (its
// arguments, constants and stopwatch cut are its scale) is built again and
// must have b's code. b is not changed.
func (b *Built) AtScale(q Params) (*Built, error) {
	if b.Params.Source != nil {
		return b.rebuild(q)
	}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	scale := scaleParams(b.Params.Workload)
	same := q
	for _, f := range scale {
		*f.Field(&same) = *f.Field(&b.Params)
	}
	if !reflect.DeepEqual(same, b.Params) {
		return nil, fmt.Errorf("%s/%s: %s differs from the built workload in more than its scale (%s)", b.Params.Workload, b.Strategy, codeDiff(same, b.Params), scaleNames(scale))
	}
	// Offsets are the same in the object's data section, the linked bytes
	// and the image's data region (which holds the linked bytes).
	rewrite := func(src []byte) []byte {
		out := append([]byte(nil), src...)
		for _, f := range scale {
			off := b.Linked.Symbols[scaleSyms[f.Name]] - b.Linked.Bases[link.Data]
			binary.LittleEndian.PutUint32(out[off:], uint32(*f.Field(&q)))
		}
		return out
	}
	exp, err := q.Expect()
	if err != nil {
		return nil, err
	}
	c := *b
	c.Params, c.Expect = q, exp

	ln := *b.Linked
	ln.Bytes = maps.Clone(b.Linked.Bytes)
	ln.Bytes[link.Data] = rewrite(b.Linked.Bytes[link.Data])
	c.Linked = &ln

	im := *b.Image
	im.Regions = slices.Clone(b.Image.Regions)
	im.Region(sim.RegionData).Init = ln.Bytes[link.Data]
	c.Image = &im

	obj := *b.Object
	obj.Sections = slices.Clone(b.Object.Sections)
	for i, s := range obj.Sections {
		if s.Name == link.Data {
			ds := *s
			ds.Bytes = rewrite(s.Bytes)
			obj.Sections[i] = &ds
		}
	}
	c.Object = &obj
	return &c, nil
}

// rebuild builds q, which must have b's code.
func (b *Built) rebuild(q Params) (*Built, error) {
	c, err := Build(q, b.Strategy)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(c.Image.Region(sim.RegionCode).Init, b.Image.Region(sim.RegionCode).Init) {
		return nil, fmt.Errorf("%s/%s: %s changes the code, not only the scale", b.Params.Workload, b.Strategy, codeDiff(q, b.Params))
	}
	return c, nil
}

// codeDiff names the first parameter in which a and b differ.
func codeDiff(a, b Params) string {
	for _, q := range append(append([]Param(nil), SharedParams...), a.Own()...) {
		if *q.Field(&a) != *q.Field(&b) {
			return q.Name
		}
	}
	return "a parameter"
}

func scaleNames(scale []Param) string {
	var names []string
	for _, q := range scale {
		names = append(names, q.Name)
	}
	return strings.Join(names, ", ")
}
