// Package winunwind is a Go reference of Windows x64 virtual unwinding
// (RtlVirtualUnwind) over the UNWIND_INFO records the emitter writes. Tests
// use it as the oracle for the generated unwinder (patchpoint) and for the
// frames the JIT lays out: it follows the Windows algorithm step by step,
// establisher frame included, rather than osrsim's generated code.
//
// Not modelled: epilog detection (RtlVirtualUnwind decodes the bytes at
// the IP to see whether it is inside an epilog), chained unwind info and the
// version 2 epilog codes. Decode rejects records that need them.
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
