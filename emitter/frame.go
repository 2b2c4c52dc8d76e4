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
