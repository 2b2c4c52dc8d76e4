// Package winunwind is a Go reference of Windows x64 virtual unwinding
// (RtlVirtualUnwind) over the UNWIND_INFO records the emitter writes. Tests
// use it as the oracle for the generated unwinder (patchpoint) and for the
// frames the JIT lays out: it follows the Windows algorithm step by step,
// establisher frame included, rather than osrsim's generated code.
//
// VirtualUnwind adds RtlVirtualUnwind's epilog detection (it decodes the
// bytes at the IP to see whether it is inside an epilog) to Unwind, the
// prolog's undoing. Not modelled: chained unwind info and the version 2
// epilog codes; Decode rejects records that need them.
package winunwind

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/osrsim/osrsim/emitter"
)

// Info is a decoded UNWIND_INFO.
type Info struct {
	PrologSize  uint8
	FrameReg    emitter.Reg // valid if HasFrame
	FrameOffset uint64      // bytes: FP = RSP + FrameOffset when it is set
	HasFrame    bool
	// Codes in stored order: the last prolog operation first, as the
	// unwinder walks them. Operand is the extra-slot value as encoded.
	Codes []emitter.UnwindCode
}

// Decode parses an encoded UNWIND_INFO.
func Decode(b []byte) (Info, error) {
	if len(b) < emitter.UnwindOffCodes {
		return Info{}, fmt.Errorf("winunwind: UNWIND_INFO of %d bytes", len(b))
	}
	if vf := b[emitter.UnwindOffVersionFlags]; vf != emitter.UnwindInfoVersion {
		return Info{}, fmt.Errorf("winunwind: version/flags byte %#x: only version 1 without flags is supported", vf)
	}
	u := Info{PrologSize: b[emitter.UnwindOffSizeOfProlog]}
	if f := b[emitter.UnwindOffFrame]; f&15 != 0 {
		u.HasFrame, u.FrameReg, u.FrameOffset = true, emitter.Reg(f&15), uint64(f>>4)*16
	}
	slots := int(b[emitter.UnwindOffCountOfCodes])
	if need := emitter.UnwindOffCodes + emitter.UnwindCodeSize*slots; len(b) < need {
		return Info{}, fmt.Errorf("winunwind: %d code slots need %d bytes, have %d", slots, need, len(b))
	}
	slot := func(i int) []byte { return b[emitter.UnwindOffCodes+emitter.UnwindCodeSize*i:] }
	for i := 0; i < slots; {
		s := slot(i)
		c := emitter.UnwindCode{CodeOffset: s[emitter.UnwindOffCodeOffset],
			Op: emitter.UnwindOp(s[emitter.UnwindOffCodeOpInfo] & 15), Info: s[emitter.UnwindOffCodeOpInfo] >> 4}
		n := emitter.UnwindSlots(c.Op, c.Info)
		switch {
		case n == 0:
			return Info{}, fmt.Errorf("winunwind: slot %d: unsupported code %v info %d", i, c.Op, c.Info)
		case i+n > slots:
			return Info{}, fmt.Errorf("winunwind: slot %d: %v needs %d slots, %d left", i, c.Op, n, slots-i)
		case n == 2:
			c.Operand = uint32(binary.LittleEndian.Uint16(slot(i + 1)))
		case n == 3:
			c.Operand = binary.LittleEndian.Uint32(slot(i + 1))
		}
		u.Codes = append(u.Codes, c)
		i += n
	}
	return u, nil
}

// Context is the register state an unwind reads and updates: the part of a
// Windows CONTEXT the unwind codes touch.
type Context struct {
	GPR [16]uint64 // by emitter.Reg number
	RIP uint64
	XMM [16][16]byte
}

// Memory is the unwound thread's stack.
type Memory interface {
	Read(addr uint64, b []byte) error
}

// Stack is a Memory over a copy of the bytes at Base.
type Stack struct {
	Base  uint64
	Bytes []byte
}

// ErrOutside is returned for a read outside a Stack.
var ErrOutside = errors.New("winunwind: read outside the stack")

func (s Stack) Read(addr uint64, b []byte) error {
	if addr < s.Base || addr-s.Base > uint64(len(s.Bytes)) || uint64(len(s.Bytes))-(addr-s.Base) < uint64(len(b)) {
		return fmt.Errorf("%w: %d bytes at %#x", ErrOutside, len(b), addr)
	}
	copy(b, s.Bytes[addr-s.Base:])
	return nil
}

// Unwind undoes the frame of the function starting at begin, whose
// UNWIND_INFO is info, as RtlVirtualUnwind does: ctx.RIP must lie in the
// function (in its prolog or body, not in an epilog). On return ctx holds
// the caller's RSP, RIP and callee-saved registers. It returns the
// establisher frame (RSP after the prolog's fixed allocation).
func Unwind(ctx *Context, begin uint64, info []byte, mem Memory) (establisher uint64, err error) {
	u, err := Decode(info)
	if err != nil {
		return 0, err
	}
	if ctx.RIP < begin {
		return 0, fmt.Errorf("winunwind: RIP %#x before the function at %#x", ctx.RIP, begin)
	}
	at := ctx.RIP - begin // offset of the IP in the function
	establisher = u.establisher(ctx, at)
	machineFrame := false
	for _, c := range u.Codes {
		if uint64(c.CodeOffset) > at {
			continue // that prolog instruction has not run yet
		}
		if machineFrame {
			return 0, fmt.Errorf("winunwind: %v after PUSH_MACHFRAME in prolog order", c.Op)
		}
		switch c.Op {
		case emitter.UwopPushNonvol:
			if ctx.GPR[c.Info], err = readU64(mem, ctx.GPR[emitter.RSP]); err != nil {
				return 0, err
			}
			ctx.GPR[emitter.RSP] += 8
		case emitter.UwopAllocLarge:
			size := uint64(c.Operand)
			if c.Info == 0 {
				size *= 8
			}
			ctx.GPR[emitter.RSP] += size
		case emitter.UwopAllocSmall:
			ctx.GPR[emitter.RSP] += uint64(c.Info)*8 + 8
		case emitter.UwopSetFPReg:
			ctx.GPR[emitter.RSP] = ctx.GPR[u.FrameReg] - u.FrameOffset
		case emitter.UwopSaveNonvol, emitter.UwopSaveNonvolFar:
			if ctx.GPR[c.Info], err = readU64(mem, establisher+saveOffset(c)); err != nil {
				return 0, err
			}
		case emitter.UwopSaveXMM128, emitter.UwopSaveXMM128Far:
			if err := mem.Read(establisher+saveOffset(c), ctx.XMM[c.Info][:]); err != nil {
				return 0, err
			}
		case emitter.UwopPushMachframe:
			// A machine frame (RIP, CS, RFLAGS, RSP, SS), after an error
			// code with info 1: the frame of an interrupted context.
			machineFrame = true
			frame := ctx.GPR[emitter.RSP] + 8*uint64(c.Info)
			if ctx.RIP, err = readU64(mem, frame); err != nil {
				return 0, err
			}
			if ctx.GPR[emitter.RSP], err = readU64(mem, frame+24); err != nil {
				return 0, err
			}
		}
	}
	if !machineFrame { // return: rip = [rsp]; rsp += 8
		if ctx.RIP, err = readU64(mem, ctx.GPR[emitter.RSP]); err != nil {
			return 0, err
		}
		ctx.GPR[emitter.RSP] += 8
	}
	return establisher, nil
}

// establisher is the frame base the SAVE codes are relative to: RSP, or
// once the frame register is set (the IP is past the prolog, or past the
// SET_FPREG instruction), the frame register minus its offset.
func (u Info) establisher(ctx *Context, at uint64) uint64 {
	if !u.HasFrame {
		return ctx.GPR[emitter.RSP]
	}
	set := at >= uint64(u.PrologSize)
	for _, c := range u.Codes {
		if c.Op == emitter.UwopSetFPReg && uint64(c.CodeOffset) <= at {
			set = true
		}
	}
	if set {
		return ctx.GPR[u.FrameReg] - u.FrameOffset
	}
	return ctx.GPR[emitter.RSP]
}

// saveOffset is a SAVE code's byte offset from the establisher frame.
func saveOffset(c emitter.UnwindCode) uint64 {
	switch c.Op {
	case emitter.UwopSaveNonvol:
		return uint64(c.Operand) * 8
	case emitter.UwopSaveXMM128:
		return uint64(c.Operand) * 16
	}
	return uint64(c.Operand) // the FAR forms store bytes
}

func readU64(mem Memory, addr uint64) (uint64, error) {
	var b [8]byte
	if err := mem.Read(addr, b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// Function is what RtlVirtualUnwind gets from a RUNTIME_FUNCTION: the
// function's range and its UNWIND_INFO.
type Function struct {
	Begin, End uint64
	Info       []byte
}

// Bytes of the instructions RtlVirtualUnwind recognises in an epilog.
const (
	rexW      = 0x48
	addImm8   = 0x83
	addImm32  = 0x81
	modRMRSP  = 0xC4
	leaOp     = 0x8D
	popOp     = 0x58
	retOp     = 0xC3
	retImmOp  = 0xC2
	repOp     = 0xF3
	repneOp   = 0xF2
	jmpImm8   = 0xEB
	jmpImm32  = 0xE9
	jmpIndOp  = 0xFF
	maxEpilog = 64 // bytes read at the IP: an adjustment, 16 REX pops, a prefix, a jump
)

// VirtualUnwind is RtlVirtualUnwind for version-1 unwind info, epilog
// detection included: it decodes the bytes at ctx.RIP (read from code) as
// the OS does, and inside an epilog emulates its remaining instructions
// (the stack adjustment, the pops, the return); anywhere else it undoes
// the prolog as Unwind does. It reports whether the IP was in an epilog.
func VirtualUnwind(ctx *Context, fn Function, mem, code Memory) (establisher uint64, inEpilog bool, err error) {
	u, err := Decode(fn.Info)
	if err != nil {
		return 0, false, err
	}
	if ctx.RIP < fn.Begin || ctx.RIP >= fn.End {
		return 0, false, fmt.Errorf("winunwind: RIP %#x outside the function [%#x, %#x)", ctx.RIP, fn.Begin, fn.End)
	}
	var buf [maxEpilog]byte
	n := min(uint64(maxEpilog), fn.End+8-ctx.RIP)
	if err := code.Read(ctx.RIP, buf[:n]); err != nil {
		return 0, false, err
	}
	establisher = u.establisher(ctx, ctx.RIP-fn.Begin)
	if !u.inEpilog(buf[:n], ctx.RIP, fn) {
		est, err := Unwind(ctx, fn.Begin, fn.Info, mem)
		return est, false, err
	}
	return establisher, true, emulateEpilog(ctx, buf[:n], mem)
}

// at reads byte i of the code, 0 past what was read.
func at(b []byte, i int) byte {
	if i < len(b) {
		return b[i]
	}
	return 0
}

// inEpilog decodes the code at the IP as RtlVirtualUnwind does.
func (u Info) inEpilog(b []byte, rip uint64, fn Function) bool {
	i := 0
	switch {
	case at(b, 0) == rexW && at(b, 1) == addImm8 && at(b, 2) == modRMRSP:
		i = 4
	case at(b, 0) == rexW && at(b, 1) == addImm32 && at(b, 2) == modRMRSP:
		i = 7
	case at(b, 0)&0xFE == rexW && at(b, 1) == leaOp:
		reg := emitter.Reg((at(b, 0)&1)<<3 | at(b, 2)&7)
		if reg != 0 && u.HasFrame && reg == u.FrameReg {
			switch at(b, 2) & 0xF8 {
			case 0x60:
				i = 4
			case 0xA0:
				i = 7
			}
		}
	}
	for {
		if at(b, i)&0xF8 == popOp {
			i++
		} else if at(b, i)&0xF0 == 0x40 && at(b, i+1)&0xF8 == popOp {
			i += 2
		} else {
			break
		}
	}
	if at(b, i) == repneOp {
		i++
	}
	switch op := at(b, i); {
	case op == retOp || op == retImmOp || (op == repOp && at(b, i+1) == retOp):
		return true
	case op == jmpImm8 || op == jmpImm32:
		var target uint64
		if op == jmpImm8 {
			target = rip + uint64(i) + 2 + uint64(int64(int8(at(b, i+1))))
		} else {
			d := int32(uint32(at(b, i+1)) | uint32(at(b, i+2))<<8 | uint32(at(b, i+3))<<16 | uint32(at(b, i+4))<<24)
			target = rip + uint64(i) + 5 + uint64(int64(d))
		}
		// A jump out of the function, or to its start: a tail call (no
		// chained unwind info here, so no other entry of the same function).
		return target < fn.Begin || target >= fn.End || target == fn.Begin
	case op == jmpIndOp && at(b, i+1) == 0x25:
		return true
	case op&0xF8 == rexW && at(b, i+1) == jmpIndOp && at(b, i+2)&0x38 == 0x20:
		return true
	}
	return false
}

// emulateEpilog runs the epilog at the IP forward: the stack adjustment,
// the pops, then a return.
func emulateEpilog(ctx *Context, b []byte, mem Memory) error {
	rsp := &ctx.GPR[emitter.RSP]
	i := 0
	if at(b, 0)&0xF8 == rexW {
		switch at(b, 1) {
		case addImm8:
			*rsp += uint64(int64(int8(at(b, 3))))
			i = 4
		case addImm32:
			*rsp += uint64(int64(int32(binary.LittleEndian.Uint32(b[3:]))))
			i = 7
		case leaOp:
			reg := emitter.Reg((at(b, 0)&1)<<3 | at(b, 2)&7)
			switch at(b, 2) & 0xF8 {
			case 0x60:
				*rsp = ctx.GPR[reg] + uint64(int64(int8(at(b, 3))))
				i = 4
			case 0xA0:
				*rsp = ctx.GPR[reg] + uint64(int64(int32(binary.LittleEndian.Uint32(b[3:]))))
				i = 7
			}
		}
	}
	for {
		var reg emitter.Reg
		if at(b, i)&0xF8 == popOp {
			reg = emitter.Reg(at(b, i) & 7)
			i++
		} else if at(b, i)&0xF0 == 0x40 && at(b, i+1)&0xF8 == popOp {
			reg = emitter.Reg((at(b, i)&1)<<3 | at(b, i+1)&7)
			i += 2
		} else {
			break
		}
		v, err := readU64(mem, *rsp)
		if err != nil {
			return err
		}
		ctx.GPR[reg] = v
		*rsp += 8
	}
	v, err := readU64(mem, *rsp) // a return, whatever ends the epilog
	if err != nil {
		return err
	}
	ctx.RIP = v
	*rsp += 8
	return nil
}
