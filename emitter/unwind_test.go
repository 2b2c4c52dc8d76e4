package emitter

import (
	"strings"
	"testing"
)

func unwindOf(t *testing.T, build func(b *Builder)) (*Section, FuncUnwind) {
	t.Helper()
	p := NewProgram()
	b := p.Section("text")
	build(b)
	obj, err := p.Finish()
	if err != nil {
		t.Fatal(err)
	}
	s := obj.Section("text")
	if len(s.Unwind) == 0 {
		t.Fatal("no unwind info")
	}
	return s, s.Unwind[len(s.Unwind)-1]
}

func TestUnwindInfoSmall(t *testing.T) {
	s, u := unwindOf(t, func(b *Builder) {
		b.Func("f")
		b.PushNonvol(RBP)          // 55                -> 1
		b.PushNonvol(R12)          // 41 54             -> 3
		b.AllocStack(0x48)         // 48 83 ec 48       -> 7
		b.SetFramePointer(RBP, 32) // 48 8d 6c 24 20    -> 12
		b.SaveNonvol(RSI, 0x10)    // 48 89 74 24 10    -> 17
		b.SaveXMM128(X6, 0x30)     // 66 0f 7f 74 24 30 -> 23
		b.EndProlog()
		b.Ret()
		b.EndFunc()
	})
	want := []byte{
		0x01, 23, 8, 0x25, // version 1, prolog 23, 8 slots, frame rbp (5) offset 2*16
		23, 0x68, 0x03, 0x00, // SAVE_XMM128 xmm6, 0x30/16
		17, 0x64, 0x02, 0x00, // SAVE_NONVOL rsi, 0x10/8
		12, 0x03, // SET_FPREG
		7, 0x82, // ALLOC_SMALL (0x48-8)/8
		3, 0xc0, // PUSH_NONVOL r12
		1, 0x50, // PUSH_NONVOL rbp
	}
	if got := hexBytes(u.Info); got != hexBytes(want) {
		t.Errorf("UNWIND_INFO\n got %s\nwant %s", got, hexBytes(want))
	}
	if u.Info[UnwindOffSizeOfProlog] != 23 || u.Info[UnwindOffCountOfCodes] != 8 || u.Info[UnwindOffFrame] != 0x25 ||
		u.Info[UnwindOffVersionFlags] != UnwindInfoVersion || u.Info[UnwindOffCodes+UnwindOffCodeOffset] != 23 ||
		u.Info[UnwindOffCodes+UnwindOffCodeOpInfo]&0xf != byte(UwopSaveXMM128) {
		t.Errorf("field offsets disagree with %x", u.Info)
	}
	if u.PrologSize != 23 || !u.HasFrame || u.FrameReg != RBP || u.FrameOffset != 32 || u.Start != 0 || u.End != 24 || len(u.Codes) != 6 {
		t.Errorf("FuncUnwind %+v", u)
	}
	if hexBytes(s.Bytes[:24]) != "55 41 54 48 83 ec 48 48 8d 6c 24 20 48 89 74 24 10 66 0f 7f 74 24 30 c3" {
		t.Errorf("prolog bytes %s", hexBytes(s.Bytes))
	}
}

func TestUnwindInfoLargeAndPseudo(t *testing.T) {
	_, u := unwindOf(t, func(b *Builder) {
		b.Func("first")
		b.Ret()
		b.EndFunc()
		b.Func("g")
		b.UnwindRecord(UwopAllocSmall, 0, 0) // inherited slot at offset 0, no instruction
		b.AllocStack(0x1000)                 // 48 81 ec 00 10 00 00     -> 7
		b.AllocStack(0x80000)                // 48 81 ec 00 00 08 00     -> 14
		b.SaveNonvol(RBX, 0x80000)           // 48 89 9c 24 00 00 08 00  -> 22
		b.EndProlog()
		b.Ret()
		b.EndFunc()
	})
	want := []byte{
		0x01, 22, 9, 0x00,
		22, 0x35, 0x00, 0x00, 0x08, 0x00, // SAVE_NONVOL_FAR rbx, 0x80000
		14, 0x11, 0x00, 0x00, 0x08, 0x00, // ALLOC_LARGE/1 0x80000
		7, 0x01, 0x00, 0x02, // ALLOC_LARGE/0 0x1000/8
		0, 0x02, // ALLOC_SMALL 8 (pseudo)
		0, 0, // padding to an even slot count
	}
	if got := hexBytes(u.Info); got != hexBytes(want) {
		t.Errorf("UNWIND_INFO\n got %s\nwant %s", got, hexBytes(want))
	}
	if u.Start != 1 || u.Codes[0].CodeOffset != 0 || u.Codes[3].Op != UwopSaveNonvolFar {
		t.Errorf("FuncUnwind %+v", u)
	}
}

func TestUnwindSlots(t *testing.T) {
	for _, c := range []struct {
		op   UnwindOp
		info uint8
		n    int
	}{
		{UwopPushNonvol, 3, 1}, {UwopAllocLarge, 0, 2}, {UwopAllocLarge, 1, 3}, {UwopAllocLarge, 2, 0},
		{UwopAllocSmall, 15, 1}, {UwopSetFPReg, 0, 1}, {UwopSaveNonvol, 3, 2}, {UwopSaveNonvolFar, 3, 3},
		{UwopSaveXMM128, 6, 2}, {UwopSaveXMM128Far, 6, 3}, {UwopPushMachframe, 1, 1}, {6, 0, 0},
	} {
		if n := UnwindSlots(c.op, c.info); n != c.n {
			t.Errorf("UnwindSlots(%v, %d) = %d, want %d", c.op, c.info, n, c.n)
		}
	}
}

func TestBugPanics(t *testing.T) {
	defer func() {
		r := recover()
		if s, ok := r.(string); !ok || !strings.HasPrefix(s, "BUG: ") {
			t.Errorf("recovered %v", r)
		}
	}()
	scaleBits(3)
}
