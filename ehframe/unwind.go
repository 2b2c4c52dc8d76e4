package ehframe

import (
	"encoding/binary"
	"fmt"
)

// Context is a register context by DWARF number: Regs[0..15] are the GPRs,
// Regs[RA] is RIP.
type Context struct {
	Regs [NumGPRs + 1]uint64
	XMM  [16][16]byte
	// AfterCall says RIP is a return address, so the FDE and row are
	// looked up at RIP-1, inside the call (libunwind's use_prev_instr).
	// Every context Step returns has it set.
	AfterCall bool
}

// Frame is what one unwind step found.
type Frame struct {
	PC  uint64 // the location looked up
	FDE *FDE
	Row Row
	CFA uint64
}

// Unwinder steps through frames described by the .eh_frame_hdr at Hdr, as
// libunwind's unw_step does with dwarf_find_proc_info's binary search.
type Unwinder struct {
	Mem Memory
	Hdr uint64
}

// Lookup finds the FDE covering pc.
func (u Unwinder) Lookup(pc uint64) (*FDE, error) {
	h, err := ReadHdr(u.Mem, u.Hdr)
	if err != nil {
		return nil, err
	}
	at, ok, err := h.Search(u.Mem, pc)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("no FDE covers %#x", pc)
	}
	f, err := ReadFDE(u.Mem, at)
	if err != nil {
		return nil, err
	}
	if pc < f.PCBegin || pc >= f.PCEnd {
		return nil, fmt.Errorf("no FDE covers %#x (nearest below: [%#x, %#x))", pc, f.PCBegin, f.PCEnd)
	}
	return f, nil
}

// Step unwinds one frame: it finds the row at the context's RIP, computes
// the CFA, recovers every register with a rule from the row, and returns
// the caller's context: RSP = CFA, RIP = the return-address column.
// Registers without a rule (or with "same value") keep their values; an
// undefined register becomes 0. Expression rules are not supported.
func (u Unwinder) Step(c Context) (Context, Frame, error) {
	pc := c.Regs[RA]
	if c.AfterCall {
		pc--
	}
	fr := Frame{PC: pc}
	var err error
	if fr.FDE, err = u.Lookup(pc); err != nil {
		return Context{}, fr, err
	}
	if fr.Row, err = fr.FDE.RowAt(pc, nil); err != nil {
		return Context{}, fr, err
	}
	cfa := fr.Row.CFA
	if cfa.Expr != nil || int(cfa.Reg) >= NumGPRs {
		return Context{}, fr, fmt.Errorf("at %#x: CFA %v is not a GPR plus an offset", pc, cfa)
	}
	fr.CFA = c.Regs[cfa.Reg] + uint64(cfa.Offset)

	next := c
	next.AfterCall = true
	for r := Reg(0); int(r) < NumRegs; r++ {
		rule := fr.Row.Regs[r]
		var v [16]byte
		switch rule.Kind {
		case RuleUnset, RuleSameValue:
			continue
		case RuleUndefined:
		case RuleOffset:
			n := 8
			if r >= XMM0 {
				n = 16
			}
			if err := u.Mem.ReadMem(fr.CFA+uint64(rule.Offset), v[:n]); err != nil {
				return Context{}, fr, fmt.Errorf("at %#x: %v saved at %#x: %w", pc, r, fr.CFA+uint64(rule.Offset), err)
			}
		case RuleValOffset:
			binary.LittleEndian.PutUint64(v[:], fr.CFA+uint64(rule.Offset))
		case RuleRegister:
			if int(rule.Reg) <= int(RA) {
				binary.LittleEndian.PutUint64(v[:], c.Regs[rule.Reg])
			} else {
				v = c.XMM[rule.Reg-XMM0]
			}
		default:
			return Context{}, fr, fmt.Errorf("at %#x: %v: rule %v is not supported", pc, r, rule)
		}
		if r <= RA {
			next.Regs[r] = binary.LittleEndian.Uint64(v[:])
		} else {
			next.XMM[r-XMM0] = v
		}
	}
	if k := fr.Row.Regs[fr.FDE.CIE.RAReg].Kind; k == RuleUnset || k == RuleUndefined {
		return Context{}, fr, fmt.Errorf("at %#x: no return address: the outermost frame", pc)
	}
	next.Regs[RA] = next.Regs[fr.FDE.CIE.RAReg]
	next.Regs[RSP] = fr.CFA
	return next, fr, nil
}
