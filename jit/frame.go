package jit

import (
	"fmt"

	. "github.com/osrsim/osrsim/emitter"
)

// Tier0 frame on x64 (win-x64 managed convention inside the image):
//
//	[rbp+0x10+8k]  home slots of the argument registers (caller's area);
//	               the continuation argument is homed at [rbp+0x10]
//	[rbp+8]        return address
//	[rbp]          caller's RBP
//	[rbp-0x38..-8] maximal callee-save area: R15 R14 R13 R12 RDI RSI RBX
//	below          patchpoint counter, OSR temp, locals, expression temps,
//	               extra space
//	[rsp..rsp+32]  outgoing home area
const (
	ContHome       = 0x10
	calleeSaveSize = int32(8 * len(Tier0Saves))
	homeArea       = HomeArea
)

// Tier0Saves are the callee-saved registers tier0 pushes after RBP, in push
// order. OSR epilogs pop them in reverse.
var Tier0Saves = [...]Reg{R15, R14, R13, R12, RDI, RSI, RBX}

// ArgRegs are the argument registers of the managed convention.
var ArgRegs = []Reg{RCX, RDX, R8, R9}

// Frame is a tier0 frame layout.
type Frame struct {
	Slots      map[Local]int32 // FP-relative offsets of every variable
	Temps      []int32         // expression temps (spilled operands, call arguments)
	Counter    int32           // patchpoint counter slot
	OSRTemp    int32           // "IL offset / OSR address for tier0 OSR method"
	Alloc      int32           // bytes subtracted from RSP after the pushes
	ZeroStart  int32           // FP-relative start of the zero-initialised area
	ZeroBytes  int32
	HasCounter bool
}

// Layout computes m's tier0 frame.
func Layout(m *Method) Frame {
	f := Frame{Slots: map[Local]int32{}, HasCounter: m.HasPatchpoints()}
	argBase := int32(ContHome)
	if m.Async {
		argBase += 8
	}
	for i, p := range m.Params {
		f.Slots[p] = argBase + 8*int32(i)
	}
	off := int32(-calleeSaveSize)
	next := func() int32 { off -= 8; return off }
	f.Counter = next()
	f.OSRTemp = next()
	for _, l := range m.Locals {
		f.Slots[l] = next()
	}
	for k := stmtTemps(m); k > 0; k-- {
		f.Temps = append(f.Temps, next())
	}
	extra := int32((m.ExtraFrame + 7) &^ 7)
	off -= extra
	f.ZeroStart = off
	f.ZeroBytes = -calleeSaveSize - off
	// After the return address, RBP and 7 pushes RSP is 8 mod 16: the
	// allocation must be too, so RSP is 16-aligned at calls.
	f.Alloc = -off - calleeSaveSize + homeArea
	if f.Alloc%16 != 8 {
		f.Alloc += 8
	}
	return f
}

// SPToFP is the distance from tier0's SP (in its body) up to its FP.
func (f Frame) SPToFP() int32 { return f.Alloc + calleeSaveSize }

// PatchpointInfo is what the JIT records for OSR methods: where tier0 keeps
// every variable, and its frame size (SP to FP plus 8 for the pseudo return
// address slot, as in CoreCLR's generatePatchpointInfo).
type PatchpointInfo struct {
	TotalFrameSize int32
	Offsets        map[Local]int32
	ContHome       int32
}

// Info returns f's PatchpointInfo.
func (f Frame) Info() PatchpointInfo {
	return PatchpointInfo{TotalFrameSize: f.SPToFP() + 8, Offsets: f.Slots, ContHome: ContHome}
}

// Event symbols: sub-ranges the engines count executions of.
func SuspendSym(fn string, state int) string { return fmt.Sprintf("%s.suspend%d", fn, state) }
func ResumeJmpSym(method string) string      { return method + ".tier0.resume_jmp" }

// Names of a method's code symbols.
func Tier0Sym(method string) string { return method + ".tier0" }
func OSRSym(method string, il int) string {
	return fmt.Sprintf("%s.osr@%#x", method, il)
}
