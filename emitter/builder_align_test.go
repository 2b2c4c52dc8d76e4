package emitter

import "testing"

func TestSetFuncAlign(t *testing.T) {
	p := NewProgram()
	b := p.Section("code")
	b.SetFuncAlign(32)
	for _, name := range []string{"a", "b", "c"} {
		b.Func(name)
		b.EndProlog()
		b.Mov(S32, RAX, Imm(1))
		b.Ret()
		b.EndFunc()
	}
	obj, err := p.Finish()
	if err != nil {
		t.Fatal(err)
	}
	sec := obj.Section("code")
	for _, s := range sec.Symbols {
		if s.Start%32 != 0 {
			t.Errorf("%s starts at %#x", s.Name, s.Start)
		}
	}
	if len(sec.Insts) != 6 || sec.Bytes[6] != 0xcc {
		t.Errorf("%d instructions; padding % x", len(sec.Insts), sec.Bytes[:32])
	}
}

// FrameAlloc keeps RSP 16-byte aligned at calls for any number of pushes
// (return address + pushes + allocation), with the least padding.
func TestFrameAlloc(t *testing.T) {
	for pushes := 0; pushes < 9; pushes++ {
		for _, size := range []int32{0, 8, 16, HomeArea, 0x1b0} {
			got := FrameAlloc(pushes, size)
			if (8*(1+int32(pushes))+got)%16 != 0 || got < size || got > size+8 {
				t.Errorf("FrameAlloc(%d, %d) = %d", pushes, size, got)
			}
		}
		if CallFrame(pushes) != FrameAlloc(pushes, HomeArea) {
			t.Errorf("CallFrame(%d) = %d", pushes, CallFrame(pushes))
		}
	}
	// The runtime's frames: 40 bytes without pushes, 32 after one push.
	if CallFrame(0) != 40 || CallFrame(1) != 32 {
		t.Errorf("CallFrame(0) = %d, CallFrame(1) = %d", CallFrame(0), CallFrame(1))
	}
}
