package patchpoint

import (
	"fmt"
	"strings"
	"testing"
	"unsafe"

	. "github.com/osrsim/osrsim/emitter"
)

func TestTableOffsets(t *testing.T) {
	var c CodeEntry
	var p PPEntry
	var j JITEntry
	var x Context
	for _, o := range []struct {
		name      string
		got, want uintptr
	}{
		{"CodeEntry.Begin", unsafe.Offsetof(c.Begin), OffCodeBegin},
		{"CodeEntry.End", unsafe.Offsetof(c.End), OffCodeEnd},
		{"CodeEntry.Unwind", unsafe.Offsetof(c.Unwind), OffCodeUnwind},
		{"CodeEntry.Flags", unsafe.Offsetof(c.Flags), OffCodeFlags},
		{"CodeEntry size", unsafe.Sizeof(c), CodeEntrySize},
		{"PPEntry.KeyStart", unsafe.Offsetof(p.KeyStart), OffPPKeyStart},
		{"PPEntry.KeyIL", unsafe.Offsetof(p.KeyIL), OffPPKeyIL},
		{"PPEntry.Hits", unsafe.Offsetof(p.Hits), OffPPHits},
		{"PPEntry.Triggered", unsafe.Offsetof(p.Triggered), OffPPTriggered},
		{"PPEntry.OSRCode", unsafe.Offsetof(p.OSRCode), OffPPOSRCode},
		{"JITEntry.Start", unsafe.Offsetof(j.Start), OffJITStart},
		{"JITEntry.IL", unsafe.Offsetof(j.IL), OffJITIL},
		{"JITEntry.Code", unsafe.Offsetof(j.Code), OffJITCode},
		{"JITEntry size", unsafe.Sizeof(j), JITEntrySize},
		{"Context.RSP", unsafe.Offsetof(x.GPR) + 8*4, OffCtxRSP},
		{"Context.RBP", unsafe.Offsetof(x.GPR) + 8*5, OffCtxRBP},
		{"Context.RIP", unsafe.Offsetof(x.RIP), OffCtxRIP},
		{"Context.RFlags", unsafe.Offsetof(x.RFlags), OffCtxRFlags},
		{"Context.XMM", unsafe.Offsetof(x.XMM), OffCtxXMM},
		{"Context size", unsafe.Sizeof(x), ContextSize},
	} {
		if o.got != o.want {
			t.Errorf("%s at %#x, constant says %#x", o.name, o.got, o.want)
		}
	}
	if unsafe.Sizeof(p) > PPEntrySize {
		t.Errorf("a PatchpointInfo record (%d bytes) does not fit its slot", unsafe.Sizeof(p))
	}
	// The lookups index entries with shifts derived from the sizes.
	for _, size := range []int{CodeEntrySize, PPEntrySize} {
		if 1<<indexShift(size) != size {
			t.Errorf("indexShift(%#x) = %d", size, indexShift(size))
		}
	}
	if OffCtxXMM%16 != 0 {
		t.Error("XMM save area must be 16-byte aligned")
	}
}

func TestStrategies(t *testing.T) {
	for _, s := range Strategies {
		got, err := ParseStrategy(s.String())
		if err != nil || got != s {
			t.Errorf("ParseStrategy(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseStrategy("teleport"); err == nil {
		t.Error("unknown strategy accepted")
	}
	if Helper.OSRPushesSlot() || !Direct.OSRPushesSlot() || !HelperReturn.ResumeByJump() {
		t.Error("strategy properties")
	}
	if got := Defaults().OSRIteration(); got != 10000 {
		t.Errorf("OSR iteration with CoreCLR defaults %d, want 10,000", got)
	}
}

func TestIndexShiftRejectsOtherSizes(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "BUG:") {
			t.Errorf("indexShift(JITEntrySize) = %v, want a BUG panic", r)
		}
	}()
	indexShift(JITEntrySize)
}

// The HelperReturn helper's fall-through skips exactly tier0's jump.
func TestJumpToTargetLen(t *testing.T) {
	p := NewProgram()
	b := p.Section("code")
	b.Func("f")
	b.EndProlog()
	EmitJumpToTarget(b)
	b.EndFunc()
	obj, err := p.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(obj.Section("code").Bytes); n != JumpToTargetLen {
		t.Errorf("the jump is %d bytes, JumpToTargetLen says %d", n, JumpToTargetLen)
	}
}
