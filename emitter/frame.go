package emitter

// HomeArea is the register home ("shadow") space the Windows x64
// convention has every caller reserve just above the return address for
// its callee's four register arguments.
const HomeArea = 32

// CallFrame is what a function that makes calls allocates (AllocStack)
// after pushing pushes registers: the home area of its callees, plus 8
// bytes when the return address and the pushes would otherwise leave RSP
// off 16-byte alignment at its calls.
func CallFrame(pushes int) int32 {
	n := int32(HomeArea)
	if (8*(1+pushes)+HomeArea)%16 != 0 {
		n += 8
	}
	return n
}
