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
		{"Context.ContextFlags", unsafe.Offsetof(x.ContextFlags), OffCtxFlags},
		{"Context.MxCsr", unsafe.Offsetof(x.MxCsr), OffCtxMxCsr},
		{"Context.SegCs", unsafe.Offsetof(x.SegCs), OffCtxSegCs},
		{"Context.SegDs", unsafe.Offsetof(x.SegDs), OffCtxSegDs},
		{"Context.SegEs", unsafe.Offsetof(x.SegEs), OffCtxSegEs},
		{"Context.SegFs", unsafe.Offsetof(x.SegFs), OffCtxSegFs},
		{"Context.SegGs", unsafe.Offsetof(x.SegGs), OffCtxSegGs},
		{"Context.SegSs", unsafe.Offsetof(x.SegSs), OffCtxSegSs},
		{"Context.EFlags", unsafe.Offsetof(x.EFlags), OffCtxRFlags},
		{"Context.Rax", unsafe.Offsetof(x.GPR), OffCtxGPR},
		{"Context.Rsp", unsafe.Offsetof(x.GPR) + 8*4, OffCtxRSP},
		{"Context.Rbp", unsafe.Offsetof(x.GPR) + 8*5, OffCtxRBP},
		{"Context.Rip", unsafe.Offsetof(x.RIP), OffCtxRIP},
		{"Context.FltSave", unsafe.Offsetof(x.FltSave), OffCtxFltSave},
		{"FltSave.StatusWord", unsafe.Offsetof(x.FltSave.StatusWord), OffFltStatusWord},
		{"FltSave.MxCsr", unsafe.Offsetof(x.FltSave.MxCsr), OffFltMxCsr},
		{"Context.Xmm0", unsafe.Offsetof(x.FltSave) + unsafe.Offsetof(x.FltSave.XMM), OffCtxXMM},
		{"FltSave size", unsafe.Sizeof(x.FltSave), FltSaveSize},
		{"Context size (winnt.h: 1,232)", unsafe.Sizeof(x), 1232},
		{"ContextSize", ContextSize, 1232},
		{"CONTEXT_EX size", unsafe.Sizeof(ContextEx{}), ContextExSize},
		{"Thread.Frame", unsafe.Offsetof(Thread{}.Frame), OffThreadFrame},
		{"Thread.PreemptiveOff", unsafe.Offsetof(Thread{}.PreemptiveOff), OffThreadPreemptiveOff},
		{"Thread.HijackRetValue", unsafe.Offsetof(Thread{}.HijackRetValue), OffThreadHijackRetValue},
		{"Thread size", unsafe.Sizeof(Thread{}), ThreadSize},
		{"Frame.Next", unsafe.Offsetof(DynamicHelperFrame{}.Next), OffFrameNext},
		{"Frame.TransitionBlock", unsafe.Offsetof(DynamicHelperFrame{}.TransitionBlock), OffFrameTransitionBlock},
		{"Frame.Flags", unsafe.Offsetof(DynamicHelperFrame{}.Flags), OffFrameFlags},
		{"Frame size", unsafe.Sizeof(DynamicHelperFrame{}), FrameSize},
		{"RegState.Where", unsafe.Offsetof(RegState{}.Where), OffRSWhere},
		{"RegState.Val", unsafe.Offsetof(RegState{}.Val), OffRSVal},
		{"RegState size", unsafe.Sizeof(RegState{}), RegStateSize},
		{"cursor.Loc", unsafe.Offsetof(Cursor{}.Loc), OffCurLoc},
		{"cursor.Flags", unsafe.Offsetof(Cursor{}.Flags), OffCurFlags},
		{"cursor.PI", unsafe.Offsetof(Cursor{}.PI), OffCurPI},
		{"cursor.Hint", unsafe.Offsetof(Cursor{}.Hint), OffCurHint},
		{"cursor.PrevRS", unsafe.Offsetof(Cursor{}.PrevRS), OffCurPrevRS},
		{"cursor.Frames", unsafe.Offsetof(Cursor{}.Frames), OffCurFrames},
		{"cursor.SigcontextFormat", unsafe.Offsetof(Cursor{}.SigcontextFormat), OffCurSigcontextFmt},
		{"cursor size", unsafe.Sizeof(Cursor{}), CursorUsed},
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
	if OffCtxXMM%16 != 0 || OffCtxFltSave%16 != 0 {
		t.Error("the XMM and fxsave areas must be 16-byte aligned")
	}
	if CursorUsed > CursorSize {
		t.Errorf("libunwind's cursor (%d bytes) does not fit unw_cursor_t (%d)", CursorUsed, CursorSize)
	}
	if StateRecordSize != 384 || CacheSize != 26192 {
		t.Errorf("dwarf_state_record_t %d bytes (want 384), dwarf_rs_cache %d (want 26,192)", StateRecordSize, CacheSize)
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
