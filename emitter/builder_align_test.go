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

// CallFrame keeps RSP 16-byte aligned at calls for any number of pushes
// (return address + pushes + allocation) and always leaves the home area.
func TestCallFrame(t *testing.T) {
	for pushes, want := range []int32{40, 32, 40, 32, 40, 32, 40, 32, 40} {
		got := CallFrame(pushes)
		if got != want || (8*(1+pushes)+int(got))%16 != 0 || got < HomeArea {
			t.Errorf("CallFrame(%d) = %d, want %d", pushes, got, want)
		}
	}
}
