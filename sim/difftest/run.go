package difftest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/native"
	"github.com/osrsim/osrsim/sim/unicorn"
)

// Limits of one engine's run of a case.
const (
	maxInstructions = 5_000_000
	runTimeout      = 30 * time.Second
	// maxDiffs bounds the differences one report lists.
	maxDiffs = 12
)

// Outcome is how a case ran.
type Outcome struct {
	// Fault is the emulator's report of a program that did not complete
	// under emulation (a division error, a runaway); such a program is
	// never run natively.
	Fault *unicorn.Fault
	// Diffs says where the native run's final state differs from the
	// emulated one's; empty when they agree.
	Diffs []string
}

// final is an engine's final state: the entry's return value and the bytes
// of every compared region.
type final struct {
	ret uint64
	mem map[string][]byte
}

// Run runs c under Unicorn and, if it completed there, natively in a child
// process, and compares what they leave. An error means a run could not be
// made at all, not that the engines disagree.
func Run(c *Case) (*Outcome, error) {
	emu, _, err := emulate(c.Image)
	var f *unicorn.Fault
	if errors.As(err, &f) {
		return &Outcome{Fault: f}, nil
	}
	if err != nil {
		return nil, err
	}
	r, err := native.RunInChild(c.Image, native.Options{Memory: true, Timeout: runTimeout})
	var crash *native.CrashError
	if errors.As(err, &crash) {
		return &Outcome{Diffs: []string{"completed under emulation, but natively " + crash.Error()}}, nil
	}
	if err != nil {
		return nil, err
	}
	return &Outcome{Diffs: c.compare(emu, final{ret: r.State.Ret, mem: r.Memory})}, nil
}

// emulate runs im under Unicorn and returns its final state and how many
// instructions it executed.
func emulate(im *sim.Image) (final, uint64, error) {
	m, err := unicorn.New(im, unicorn.Options{MaxInstructions: maxInstructions, Timeout: runTimeout})
	if err != nil {
		return final{}, 0, err
	}
	defer m.Close()
	res, err := m.Run()
	if err != nil {
		return final{}, 0, err
	}
	out := final{ret: res.State.Ret, mem: map[string][]byte{}}
	for _, r := range im.Regions {
		if r.Compared {
			b := make([]byte, r.Size)
			if err := m.Engine().MemRead(r.Base, b); err != nil {
				return final{}, 0, err
			}
			out.mem[r.Name] = b
		}
	}
	return out, res.Counts.Total, nil
}

// compare lists the differences between the emulated (e) and the native
// (n) final state: main's registers and defined flags from the dump, then
// any other byte of a compared region.
func (c *Case) compare(e, n final) []string {
	var diffs []string
	add := func(format string, args ...any) {
		if len(diffs) < maxDiffs {
			diffs = append(diffs, fmt.Sprintf(format, args...))
		}
	}
	if e.ret != n.ret {
		add("return value: emu %#x, native %#x", e.ret, n.ret)
	}
	area := int(c.Linked.Symbols[symArea] - sim.DataBase)
	ed, nd := e.mem[sim.RegionData], n.mem[sim.RegionData]
	if len(ed) != len(nd) || len(ed) < area+dumpOff+dumpSize {
		return append(diffs, fmt.Sprintf("data region: emu %d bytes, native %d", len(ed), len(nd)))
	}
	u64 := func(b []byte, off int) uint64 { return binary.LittleEndian.Uint64(b[area+off:]) }
	for i, name := range unicorn.GPRNames {
		if a, b := u64(ed, dumpGPRs+8*i), u64(nd, dumpGPRs+8*i); a != b {
			add("%s: emu %#x, native %#x", name, a, b)
		}
	}
	mask := c.Defined.mask()
	if a, b := u64(ed, dumpFlags)&mask, u64(nd, dumpFlags)&mask; a != b {
		add("rflags & %#x (the defined flags): emu %#x, native %#x", mask, a, b)
	}
	for x := range 16 {
		off := area + dumpXMM + 16*x
		if a, b := ed[off:off+16], nd[off:off+16]; !bytes.Equal(a, b) {
			add("xmm%d: emu %x, native %x", x, a, b)
		}
	}
	// The dump is compared above (flags under the mask); clear it so the
	// byte comparison below sees only the rest.
	for _, b := range [][]byte{ed, nd} {
		clear(b[area+dumpOff : area+dumpOff+dumpSize])
	}
	for _, r := range c.Image.Regions {
		if r.Compared {
			for _, d := range byteDiffs(r.Name, e.mem[r.Name], n.mem[r.Name]) {
				add("%s", d)
			}
		}
	}
	return diffs
}

// byteDiffs describes the 8-byte words in which a and b differ.
func byteDiffs(region string, a, b []byte) []string {
	if len(a) != len(b) {
		return []string{fmt.Sprintf("region %s: emu %d bytes, native %d", region, len(a), len(b))}
	}
	var out []string
	for off := 0; off < len(a) && len(out) < maxDiffs; off += 8 {
		end := min(off+8, len(a))
		if !bytes.Equal(a[off:end], b[off:end]) {
			out = append(out, fmt.Sprintf("%s+%#x: emu %x, native %x", region, off, a[off:end], b[off:end]))
		}
	}
	return out
}
