package continuation

import (
	"testing"
	"unsafe"
)

// The generated code addresses continuation fields with these constants;
// they must match the layout of the header the model mirrors.
func TestHeaderOffsets(t *testing.T) {
	var h Header
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"MethodTable", unsafe.Offsetof(h.MethodTable), OffMethodTable},
		{"Next", unsafe.Offsetof(h.Next), OffNext},
		{"ResumeInfo", unsafe.Offsetof(h.ResumeInfo), OffResumeInfo},
		{"Flags", unsafe.Offsetof(h.Flags), OffFlags},
		{"State", unsafe.Offsetof(h.State), OffState},
		{"OSRSlot", unsafe.Offsetof(h.OSRSlot), OffOSRSlot},
		{"ExecContext", unsafe.Offsetof(h.ExecContext), OffExecContext},
		{"locals (minimal)", unsafe.Offsetof(h.ExecContext), uintptr(Minimal.OffLocals())},
		{"locals (coreclr)", unsafe.Sizeof(h), uintptr(CoreCLR.OffLocals())},
	} {
		if c.got != c.want {
			t.Errorf("%s at %#x, constant says %#x", c.name, c.got, c.want)
		}
	}
}

func TestObjectSize(t *testing.T) {
	for n, want := range map[int]int{0: 0x30, 1: 0x30, 2: 0x40, 3: 0x40, 14: 0xa0} {
		if got := Minimal.ObjectSize(n); got != want || got%16 != 0 || got < int(Minimal.OffLocals())+n*LocalSlot {
			t.Errorf("minimal ObjectSize(%d) = %#x, want %#x", n, got, want)
		}
	}
	// The base size: header, MethodTable, Next, ResumeInfo, Flags and
	// State, the OSR slot, the ExecutionContext, the locals.
	for n, want := range map[int]int{0: 0x38, 3: 0x50} {
		if got := CoreCLR.ObjectSize(n); got != want || got%8 != 0 {
			t.Errorf("coreclr ObjectSize(%d) = %#x, want %#x", n, got, want)
		}
	}
}
