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
		{"locals", unsafe.Sizeof(h), OffLocals},
	} {
		if c.got != c.want {
			t.Errorf("%s at %#x, constant says %#x", c.name, c.got, c.want)
		}
	}
}

func TestObjectSize(t *testing.T) {
	for n, want := range map[int]int{0: 0x30, 1: 0x30, 2: 0x40, 3: 0x40, 14: 0xa0} {
		if got := ObjectSize(n); got != want || got%16 != 0 || got < OffLocals+n*LocalSlot {
			t.Errorf("ObjectSize(%d) = %#x, want %#x", n, got, want)
		}
	}
}
