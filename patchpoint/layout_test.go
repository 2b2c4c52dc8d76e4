package patchpoint

import (
	"fmt"
	"strings"
	"testing"
	"unsafe"

	. "github.com/osrsim/osrsim/emitter"
)

func TestTableOffsets(t *testing.T) {
	var (
		fr  RangeSectionFragment
		rs  RangeSection
		hl  HeapList
		rch RealCodeHeader
		rf  RuntimeFunction
		eci EECodeInfo
		mod NativeModule
	)
	var p PPEntry
	var j JITEntry
	var x Context
	for _, o := range []struct {
		name      string
		got, want uintptr
	}{
		{"Fragment.Next", unsafe.Offsetof(fr.Next), OffFragNext},
		{"Fragment.Begin", unsafe.Offsetof(fr.Begin), OffFragBegin},
		{"Fragment.End", unsafe.Offsetof(fr.End), OffFragEnd},
		{"Fragment.RangeSection", unsafe.Offsetof(fr.RangeSection), OffFragRangeSection},
		{"Fragment.Primary", unsafe.Offsetof(fr.Primary), OffFragFlags},
		{"Fragment size", unsafe.Sizeof(fr), FragmentSize},
		{"RangeSection.Begin", unsafe.Offsetof(rs.Begin), OffRSBegin},
		{"RangeSection.End", unsafe.Offsetof(rs.End), OffRSEnd},
		{"RangeSection.Flags", unsafe.Offsetof(rs.Flags), OffRSFlags},
		{"RangeSection.JitManager", unsafe.Offsetof(rs.JitManager), OffRSJitManager},
		{"RangeSection.HeapList", unsafe.Offsetof(rs.HeapList), OffRSHeapList},
		{"RangeSection.NextForDelete", unsafe.Offsetof(rs.NextForDelete), OffRSNextForDelete},
		{"RangeSection size", unsafe.Sizeof(rs), RangeSectionSize},
		{"HeapList.Start", unsafe.Offsetof(hl.Start), OffHLStart},
		{"HeapList.End", unsafe.Offsetof(hl.End), OffHLEnd},
		{"HeapList.MapBase", unsafe.Offsetof(hl.MapBase), OffHLMapBase},
		{"HeapList.HdrMap", unsafe.Offsetof(hl.HdrMap), OffHLHdrMap},
		{"HeapList.MaxCodeHeapSize", unsafe.Offsetof(hl.MaxCodeHeapSize), OffHLMaxCodeHeap},
		{"HeapList.Personality", unsafe.Offsetof(hl.Personality), OffHLPersonality},
		{"HeapList size", unsafe.Sizeof(hl), HeapListSize},
		{"RealCodeHeader.MethodDesc", unsafe.Offsetof(rch.MethodDesc), OffRCHMethodDesc},
		{"RealCodeHeader.UnwindCount", unsafe.Offsetof(rch.UnwindCount), OffRCHUnwindCount},
		{"RealCodeHeader.Unwind", unsafe.Offsetof(rch.Unwind), OffRCHUnwindInfos},
		{"RealCodeHeader size", unsafe.Sizeof(rch), RealCodeHeaderSize},
		{"RUNTIME_FUNCTION.End", unsafe.Offsetof(rf.End), OffRFEnd},
		{"RUNTIME_FUNCTION.UnwindData", unsafe.Offsetof(rf.UnwindData), OffRFUnwindData},
		{"RUNTIME_FUNCTION size", unsafe.Sizeof(rf), RuntimeFunctionSize},
		{"EECodeInfo.RangeSection", unsafe.Offsetof(eci.RangeSection), OffECIRangeSection},
		{"EECodeInfo.CodeHeader", unsafe.Offsetof(eci.CodeHeader), OffECICodeHeader},
		{"EECodeInfo.MethodDesc", unsafe.Offsetof(eci.MethodDesc), OffECIMethodDesc},
		{"EECodeInfo.RelOffset", unsafe.Offsetof(eci.RelOffset), OffECIRelOffset},
		{"EECodeInfo.FunctionEntry", unsafe.Offsetof(eci.FunctionEntry), OffECIFunctionEntry},
		{"EECodeInfo size", unsafe.Sizeof(eci), EECodeInfoSize},
		{"NativeModule.Size", unsafe.Offsetof(mod.Size), OffModSize},
		{"NativeModule.Functions", unsafe.Offsetof(mod.Functions), OffModFunctions},
		{"NativeModule.Count", unsafe.Offsetof(mod.Count), OffModCount},
		{"NativeModule size", unsafe.Sizeof(mod), ModuleSize},
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
	for _, size := range []int{PPEntrySize} {
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
