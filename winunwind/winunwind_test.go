package winunwind_test

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	. "github.com/osrsim/osrsim/emitter"
	"github.com/osrsim/osrsim/winunwind"
)

// record builds one function with the emitter and returns its unwind data.
func record(t *testing.T, prolog func(b *Builder)) FuncUnwind {
	t.Helper()
	p := NewProgram()
	b := p.Section("text")
	b.Func("f")
	prolog(b)
	b.EndProlog()
	b.Ret()
	b.EndFunc()
	obj, err := p.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return obj.Section("text").Unwind[0]
}

func TestDecode(t *testing.T) {
	u := record(t, func(b *Builder) {
		b.PushNonvol(RBP)          // -> 1
		b.PushNonvol(R12)          // -> 3
		b.AllocStack(0x80008)      // -> 10, ALLOC_LARGE/1
		b.SetFramePointer(RBP, 32) // -> 15
		b.SaveNonvol(RSI, 0x80000) // -> 23, SAVE_NONVOL_FAR
		b.SaveXMM128(X6, 0x30)     // -> 29
	})
	got, err := winunwind.Decode(u.Info)
	if err != nil {
		t.Fatal(err)
	}
	if got.PrologSize != u.PrologSize || !got.HasFrame || got.FrameReg != RBP || got.FrameOffset != 32 {
		t.Errorf("header %+v", got)
	}
	if len(got.Codes) != len(u.Codes) {
		t.Fatalf("%d codes, emitter recorded %d", len(got.Codes), len(u.Codes))
	}
	for i, c := range got.Codes { // stored order is the reverse of prolog order
		if want := u.Codes[len(u.Codes)-1-i]; c != want {
			t.Errorf("code %d: %+v, want %+v", i, c, want)
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	for _, c := range []struct {
		name string
		info []byte
		want string
	}{
		{"short", []byte{1, 0, 0}, "UNWIND_INFO of 3 bytes"},
		{"version 2", []byte{2, 0, 0, 0}, "version/flags"},
		{"handler flag", []byte{1 | 1<<3, 0, 0, 0}, "version/flags"},
		{"truncated codes", []byte{1, 4, 2, 0, 4, 0x01}, "2 code slots need 8 bytes"},
		{"code past the count", []byte{1, 4, 1, 0, 4, 0x01, 0, 0}, "needs 2 slots, 1 left"},
		{"UWOP_EPILOG", []byte{1, 1, 1, 0, 1, 0x06, 0, 0}, "unsupported code UWOP(6)"},
	} {
		if _, err := winunwind.Decode(c.info); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

// frame is a hand-made stack: words from Base upwards.
func frame(base uint64, words ...uint64) winunwind.Stack {
	s := winunwind.Stack{Base: base}
	for _, w := range words {
		s.Bytes = binary.LittleEndian.AppendUint64(s.Bytes, w)
	}
	return s
}

// A frame-pointer function whose body moved RSP (alloca): the SAVE codes
// are taken from the establisher frame (RBP - 0x10), not from RSP, and
// SET_FPREG brings RSP back before the pushes are undone.
func TestUnwindDynamicFrame(t *testing.T) {
	u := record(t, func(b *Builder) {
		b.PushNonvol(RBP)          // 1
		b.PushNonvol(RBX)          // 2
		b.AllocStack(0x18)         // 6
		b.SetFramePointer(RBP, 16) // 11
		b.SaveNonvol(RSI, 8)       // 16
	})
	const (
		base = 0x1000   // RSP in the body, 0x20 below the establisher frame
		est  = 0x1020   // RSP after the prolog
		ret  = 0x777777 // return address
	)
	stack := frame(base,
		0, 0, 0, 0, // alloca area
		0, 0x5151, 0, // fixed allocation: RSI saved at est+8
		0xBBBB, 0xBFBF, ret) // pushed RBX, RBP, return address
	ctx := winunwind.Context{RIP: 0x40 + uint64(u.PrologSize) + 1}
	ctx.GPR[RSP], ctx.GPR[RBP] = base, est+16
	got, err := winunwind.Unwind(&ctx, 0x40, u.Info, stack)
	if err != nil {
		t.Fatal(err)
	}
	if got != est || ctx.RIP != ret || ctx.GPR[RSP] != base+10*8 || ctx.GPR[RSI] != 0x5151 ||
		ctx.GPR[RBX] != 0xBBBB || ctx.GPR[RBP] != 0xBFBF {
		t.Errorf("establisher %#x, context %+v", got, ctx)
	}
}

// In the prolog only the codes whose instructions have run apply, and the
// establisher frame is RSP until SET_FPREG has run.
func TestUnwindMidProlog(t *testing.T) {
	u := record(t, func(b *Builder) {
		b.PushNonvol(RBP)          // 1
		b.AllocStack(0x20)         // 5
		b.SetFramePointer(RBP, 16) // 10
		b.SaveNonvol(RBX, 0)       // 14
	})
	for _, c := range []struct {
		at       uint64
		rsp, est uint64
		rbx      uint64
	}{
		{at: 0, rsp: 0x2000, est: 0x2000, rbx: 0xB0},        // nothing ran: pop the return address
		{at: 5, rsp: 0x2000 - 0x28, est: 0x1fd8, rbx: 0xB0}, // push, alloc ran
		{at: 10, rsp: 0x2000 - 0x28, est: 0x1fd8, rbx: 0xB0},
		{at: 14, rsp: 0x2000 - 0x28, est: 0x1fd8, rbx: 0xB1}, // the save ran
	} {
		stack := frame(0x1fd8, 0xB1, 0, 0, 0, 0xBF, 0x777)
		if c.at == 0 {
			stack = frame(0x2000, 0x777)
		}
		ctx := winunwind.Context{RIP: 0x100 + c.at}
		ctx.GPR[RSP], ctx.GPR[RBP], ctx.GPR[RBX] = c.rsp, 0x1fd8+16, 0xB0
		if c.at < 10 {
			ctx.GPR[RBP] = 0xBF // not the frame yet
		}
		est, err := winunwind.Unwind(&ctx, 0x100, u.Info, stack)
		if err != nil {
			t.Fatalf("at %d: %v", c.at, err)
		}
		if est != c.est || ctx.RIP != 0x777 || ctx.GPR[RBX] != c.rbx || ctx.GPR[RBP] != 0xBF ||
			ctx.GPR[RSP] != stack.Base+uint64(len(stack.Bytes)) {
			t.Errorf("at %d: establisher %#x context %+v", c.at, est, ctx)
		}
	}
}

// A machine frame gives RIP and RSP from the frame, with no return
// address to pop; an error code shifts it by one word.
func TestUnwindMachineFrame(t *testing.T) {
	for info, words := range [][]uint64{
		{0x1234, 0x33, 0x202, 0x9000, 0x2B},
		{0xE, 0x1234, 0x33, 0x202, 0x9000, 0x2B},
	} {
		u := record(t, func(b *Builder) {
			b.UnwindRecord(UwopPushMachframe, uint8(info), 0)
			b.PushNonvol(RBX)
		})
		stack := frame(0x3000-8, append([]uint64{0xB0}, words...)...)
		ctx := winunwind.Context{RIP: 0x10 + 1}
		ctx.GPR[RSP] = 0x3000 - 8
		if _, err := winunwind.Unwind(&ctx, 0x10, u.Info, stack); err != nil {
			t.Fatal(err)
		}
		if ctx.RIP != 0x1234 || ctx.GPR[RSP] != 0x9000 || ctx.GPR[RBX] != 0xB0 {
			t.Errorf("info %d: %+v", info, ctx)
		}
	}
}

func TestUnwindErrors(t *testing.T) {
	u := record(t, func(b *Builder) { b.PushNonvol(RBX) })
	ctx := winunwind.Context{RIP: 0x10}
	if _, err := winunwind.Unwind(&ctx, 0x20, u.Info, winunwind.Stack{}); err == nil {
		t.Error("RIP before the function accepted")
	}
	ctx = winunwind.Context{RIP: 0x21}
	ctx.GPR[RSP] = 0x5000
	if _, err := winunwind.Unwind(&ctx, 0x20, u.Info, frame(0x5000, 1)); !errors.Is(err, winunwind.ErrOutside) {
		t.Errorf("read past the stack: %v", err)
	}
	// A machine frame that is not the first prolog operation: the
	// emitter refuses it, so build the record by hand.
	bad := []byte{1, 2, 2, 0, 2, 0x0A, 1, 0x30}
	ctx = winunwind.Context{RIP: 0x22}
	ctx.GPR[RSP] = 0x5000
	if _, err := winunwind.Unwind(&ctx, 0x20, bad, frame(0x5000, 1, 2, 3, 4, 5, 6)); err == nil ||
		!strings.Contains(err.Error(), "after PUSH_MACHFRAME") {
		t.Errorf("code after the machine frame: %v", err)
	}
}

// VirtualUnwind recognises an epilog from the bytes at the IP, as
// RtlVirtualUnwind does, and emulates what is left of it; a body sequence
// that only looks like one (its jump stays inside the function) is undone
// through the unwind codes. Every IP gives the same caller state.
func TestVirtualUnwindEpilog(t *testing.T) {
	p := NewProgram()
	b := p.Section("text")
	b.Func("f")
	fr := b.Prolog(0x20, RBX) // push rbx; sub rsp,0x20: 5 bytes
	body := b.NewLabel("body")
	b.Bind(body)
	b.Mov(S32, RAX, Imm(1)) // at 5
	b.Add(S64, RSP, Imm(0x20))
	b.Pop(RBX)
	b.Jmp(body) // inside the function: not an epilog
	b.Epilog(fr)
	b.EndFunc()
	obj, err := p.Finish()
	if err != nil {
		t.Fatal(err)
	}
	sec := obj.Section("text")
	var adds []int // the lookalike's and the epilog's add rsp,0x20
	for _, in := range sec.Insts {
		if strings.HasPrefix(string(sec.Bytes[in.Off:]), "\x48\x83\xc4\x20") {
			adds = append(adds, in.Off)
		}
	}
	if len(adds) != 2 {
		t.Fatalf("add rsp at %v in % x", adds, sec.Bytes)
	}
	lookalike, epilog := adds[0], adds[1]
	const begin = 0x400000
	fn := winunwind.Function{Begin: begin, End: begin + uint64(len(sec.Bytes)), Info: sec.Unwind[0].Info}
	code := winunwind.Stack{Base: begin, Bytes: append(sec.Bytes, make([]byte, 8)...)} // it may read a few bytes past the end
	stack := frame(0x1000, 0, 0, 0, 0, 0xB1, 0x777)                                    // the allocation, saved RBX, return address
	for _, c := range []struct {
		name     string
		off      int
		rsp, rbx uint64
		epilog   bool
	}{
		{"body", 5, 0x1000, 0, false},
		{"lookalike", lookalike, 0x1000, 0, false},
		{"add rsp", epilog, 0x1000, 0, true},
		{"pop rbx", epilog + 4, 0x1020, 0, true},
		{"ret", epilog + 5, 0x1028, 0xB1, true},
	} {
		ctx := winunwind.Context{RIP: begin + uint64(c.off)}
		ctx.GPR[RSP], ctx.GPR[RBX] = c.rsp, c.rbx
		_, in, err := winunwind.VirtualUnwind(&ctx, fn, stack, code)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if in != c.epilog || ctx.RIP != 0x777 || ctx.GPR[RSP] != 0x1030 || ctx.GPR[RBX] != 0xB1 {
			t.Errorf("%s: in epilog %v, context RIP %#x RSP %#x RBX %#x", c.name, in, ctx.RIP, ctx.GPR[RSP], ctx.GPR[RBX])
		}
	}
}
