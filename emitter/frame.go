package emitter

// HomeArea is the register home ("shadow") space the Windows x64
// convention has every caller reserve just above the return address for
// its callee's four register arguments.
const HomeArea = 32

// FrameAlloc is what a function that makes calls allocates (AllocStack)
// after pushing pushes registers, to hold size bytes (its callees' home
// area included): size, plus 8 when the return address and the pushes
// would otherwise leave RSP off 16-byte alignment at its calls.
func FrameAlloc(pushes int, size int32) int32 {
	if (8*(1+int32(pushes))+size)%16 != 0 {
		size += 8
	}
	return size
}

// CallFrame is the allocation of a function that needs no stack of its own
// but the home area of its callees.
func CallFrame(pushes int) int32 { return FrameAlloc(pushes, HomeArea) }

// CalleeFrame is a function's frame as its prolog built it: the callee-saved
// registers pushed, in order, and the stack allocated below them.
type CalleeFrame struct {
	Saves []Reg
	Alloc int32
}

// Prolog pushes saves (each with its unwind code), allocates size bytes
// (FrameAlloc: rounded so that the function's calls see an aligned stack)
// and ends the prolog. Call it right after BeginFunc.
func (b *Builder) Prolog(size int32, saves ...Reg) CalleeFrame {
	f := CalleeFrame{saves, FrameAlloc(len(saves), size)}
	for _, r := range saves {
		b.PushNonvol(r)
	}
	b.AllocStack(f.Alloc)
	b.EndProlog()
	return f
}

// Epilog is f's epilog: the allocation freed, the saves popped in
// reverse order, ret.
func (b *Builder) Epilog(f CalleeFrame) {
	b.Add(S64, RSP, Imm(f.Alloc))
	for i := len(f.Saves) - 1; i >= 0; i-- {
		b.Pop(f.Saves[i])
	}
	b.Ret()
}
