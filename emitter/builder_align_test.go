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

// Prolog and Epilog: the pushes and the aligned allocation as unwind codes,
// and an epilog that undoes them in reverse, as GNU as encodes them.
func TestPrologEpilog(t *testing.T) {
	var fr CalleeFrame
	s, u := unwindOf(t, func(b *Builder) {
		b.Func("f")
		fr = b.Prolog(HomeArea, RBX, R12)
		b.Call(Sym("f"))
		b.Epilog(fr)
		b.EndFunc()
	})
	if fr.Alloc != 40 || len(fr.Saves) != 2 {
		t.Errorf("frame %+v, want 40 bytes below two saves", fr)
	}
	var ops []UnwindOp
	for _, c := range u.Codes {
		ops = append(ops, c.Op)
	}
	if len(ops) != 3 || ops[0] != UwopPushNonvol || ops[1] != UwopPushNonvol || ops[2] != UwopAllocSmall || u.PrologSize != 7 {
		t.Errorf("unwind codes %+v, prolog %d bytes", u.Codes, u.PrologSize)
	}
	// push rbx; push r12; sub rsp,40; call; add rsp,40; pop r12; pop rbx; ret
	want := []byte{0x53, 0x41, 0x54, 0x48, 0x83, 0xec, 0x28, 0xe8, 0xf4, 0xff, 0xff, 0xff, 0x48, 0x83, 0xc4, 0x28, 0x41, 0x5c, 0x5b, 0xc3}
	if got := s.Bytes[u.Start:u.End]; string(got) != string(want) {
		t.Errorf("bytes % x\nwant  % x", got, want)
	}
}
