package ehframe

import (
	"fmt"
	"strconv"
)

// Inst is one decoded call-frame instruction. Operands are in bytes: a
// factored offset is already multiplied by the data alignment, an advance by
// the code alignment.
type Inst struct {
	Addr   uint64 // address of the opcode byte
	Len    int
	Op     Op     // packed forms as CFAAdvanceLoc, CFAOffset, CFARestore
	Reg    Reg    // register operand
	Reg2   Reg    // CFARegister: the register holding the value
	Delta  uint64 // advances: bytes; CFASetLoc: the new location
	Offset int64  // offsets, CFA offsets, DW_CFA_GNU_args_size
	Expr   []byte // expression operands
}

func regText(r Reg) string { return fmt.Sprintf("r%d (%s)", uint8(r), r) }

// String is the instruction as `readelf --debug-dump=frames` prints it,
// without the " to LOC" of advances.
func (in Inst) String() string {
	s := in.Op.String()
	switch in.Op {
	case CFAAdvanceLoc, CFAAdvanceLoc1, CFAAdvanceLoc2, CFAAdvanceLoc4, CFAGNUArgsSize:
		if in.Op == CFAGNUArgsSize {
			return s + ": " + strconv.FormatInt(in.Offset, 10)
		}
		return s + ": " + strconv.FormatUint(in.Delta, 10)
	case CFASetLoc:
		return fmt.Sprintf("%s: %016x", s, in.Delta)
	case CFAOffset, CFAOffsetExtended, CFAOffsetExtendedSF, CFAGNUNegativeOffsetExtended:
		return fmt.Sprintf("%s: %s at cfa%+d", s, regText(in.Reg), in.Offset)
	case CFAValOffset, CFAValOffsetSF:
		return fmt.Sprintf("%s: %s is cfa%+d", s, regText(in.Reg), in.Offset)
	case CFARestore, CFARestoreExtended, CFAUndefined, CFASameValue:
		return s + ": " + regText(in.Reg)
	case CFARegister:
		return fmt.Sprintf("%s: %s in %s", s, regText(in.Reg), regText(in.Reg2))
	case CFADefCFA, CFADefCFASF:
		return fmt.Sprintf("%s: %s ofs %d", s, regText(in.Reg), in.Offset)
	case CFADefCFARegister:
		return s + ": " + regText(in.Reg)
	case CFADefCFAOffset, CFADefCFAOffsetSF:
		return s + ": " + strconv.FormatInt(in.Offset, 10)
	case CFADefCFAExpression:
		return fmt.Sprintf("%s (% x)", s, in.Expr)
	case CFAExpression, CFAValExpression:
		return fmt.Sprintf("%s: %s (% x)", s, regText(in.Reg), in.Expr)
	}
	return s
}

// Decode decodes a CFA program that sits at addr, for CIE c (whose
// alignment factors and FDE encoding apply).
func Decode(c *CIE, prog []byte, addr uint64) ([]Inst, error) {
	r := &reader{b: prog, base: addr}
	var out []Inst
	for !r.done() {
		in := Inst{Addr: r.addr()}
		start := r.off
		b := r.u8()
		reg := func() Reg {
			v := r.uleb()
			if v >= uint64(NumRegs) && r.err == nil {
				r.fail("register %d has no column (x86-64 columns are 0..%d)", v, NumRegs-1)
			}
			return Reg(v)
		}
		factored := func(v int64) int64 { return v * c.DataAlign }
		switch Op(b & PackedMask) {
		case CFAAdvanceLoc:
			in.Op, in.Delta = CFAAdvanceLoc, uint64(b&PackedOperand)*c.CodeAlign
		case CFAOffset:
			in.Op, in.Reg = CFAOffset, Reg(b&PackedOperand)
			if int(in.Reg) >= NumRegs {
				r.fail("register %d has no column", in.Reg)
			}
			in.Offset = factored(int64(r.uleb()))
		case CFARestore:
			in.Op, in.Reg = CFARestore, Reg(b&PackedOperand)
			if int(in.Reg) >= NumRegs {
				r.fail("register %d has no column", in.Reg)
			}
		default:
			in.Op = Op(b)
			switch in.Op {
			case CFANop, CFARememberState, CFARestoreState:
			case CFASetLoc:
				in.Delta = r.pointer(c.FDEEncoding, 0)
			case CFAAdvanceLoc1:
				in.Delta = r.uN(1) * c.CodeAlign
			case CFAAdvanceLoc2:
				in.Delta = r.uN(2) * c.CodeAlign
			case CFAAdvanceLoc4:
				in.Delta = r.uN(4) * c.CodeAlign
			case CFAOffsetExtended, CFAValOffset:
				in.Reg = reg()
				in.Offset = factored(int64(r.uleb()))
			case CFAOffsetExtendedSF, CFAValOffsetSF:
				in.Reg = reg()
				in.Offset = factored(r.sleb())
			case CFAGNUNegativeOffsetExtended:
				in.Reg = reg()
				in.Offset = -factored(int64(r.uleb()))
			case CFARestoreExtended, CFAUndefined, CFASameValue, CFADefCFARegister:
				in.Reg = reg()
			case CFARegister:
				in.Reg, in.Reg2 = reg(), reg()
			case CFADefCFA:
				in.Reg = reg()
				in.Offset = int64(r.uleb())
			case CFADefCFASF:
				in.Reg = reg()
				in.Offset = factored(r.sleb())
			case CFADefCFAOffset:
				in.Offset = int64(r.uleb())
			case CFADefCFAOffsetSF:
				in.Offset = factored(r.sleb())
			case CFAGNUArgsSize:
				in.Offset = int64(r.uleb())
			case CFADefCFAExpression:
				in.Expr = r.bytes(int(r.uleb()))
			case CFAExpression, CFAValExpression:
				in.Reg = reg()
				in.Expr = r.bytes(int(r.uleb()))
			default:
				r.fail("unknown call-frame instruction %#02x", b)
			}
		}
		if r.err != nil {
			return nil, r.err
		}
		in.Len = r.off - start
		out = append(out, in)
	}
	return out, r.err
}

// RuleKind says how a register of the caller is recovered.
type RuleKind uint8

const (
	// RuleUnset: no rule was given (and, after DW_CFA_restore, the CIE gave
	// none). Unwinders keep the register's value, as for RuleSameValue;
	// readelf prints it as "u".
	RuleUnset RuleKind = iota
	RuleUndefined
	RuleSameValue
	RuleOffset        // saved at CFA + Offset
	RuleValOffset     // the value is CFA + Offset
	RuleRegister      // held in register Reg
	RuleExpression    // saved at the address Expr computes
	RuleValExpression // the value Expr computes
)

// Rule is one register's rule in a row.
type Rule struct {
	Kind   RuleKind
	Offset int64
	Reg    Reg
	Expr   []byte
}

// String is readelf's frames-interp notation.
func (r Rule) String() string {
	switch r.Kind {
	case RuleSameValue:
		return "s"
	case RuleOffset:
		return fmt.Sprintf("c%+d", r.Offset)
	case RuleValOffset:
		return fmt.Sprintf("v%+d", r.Offset)
	case RuleRegister:
		return regText(r.Reg)
	case RuleExpression:
		return "exp"
	case RuleValExpression:
		return "vexp"
	}
	return "u"
}

// CFARule defines the CFA: Reg + Offset, or Expr if it is not nil.
type CFARule struct {
	Reg    Reg
	Offset int64
	Expr   []byte
}

// String is readelf's frames-interp notation.
func (c CFARule) String() string {
	if c.Expr != nil {
		return "exp"
	}
	return fmt.Sprintf("%s%+d", c.Reg, c.Offset)
}

// Row is the rule set in force from Loc on.
type Row struct {
	Loc  uint64
	CFA  CFARule
	Regs [NumRegs]Rule
}

// Trace is one executed instruction and the row after it.
type Trace struct {
	Inst Inst
	Row  Row
}

// machine executes CFA instructions.
type machine struct {
	init  *Row // after the CIE's instructions; nil while running them
	row   Row
	stack []Row
}

// exec applies one instruction other than an advance.
func (m *machine) exec(in Inst) error {
	rs := &m.row.Regs
	switch in.Op {
	case CFANop, CFAGNUArgsSize:
	case CFAOffset, CFAOffsetExtended, CFAOffsetExtendedSF, CFAGNUNegativeOffsetExtended:
		rs[in.Reg] = Rule{Kind: RuleOffset, Offset: in.Offset}
	case CFAValOffset, CFAValOffsetSF:
		rs[in.Reg] = Rule{Kind: RuleValOffset, Offset: in.Offset}
	case CFARestore, CFARestoreExtended:
		if m.init == nil {
			return fmt.Errorf("at %#x: %v in a CIE", in.Addr, in.Op)
		}
		rs[in.Reg] = m.init.Regs[in.Reg]
	case CFAUndefined:
		rs[in.Reg] = Rule{Kind: RuleUndefined}
	case CFASameValue:
		rs[in.Reg] = Rule{Kind: RuleSameValue}
	case CFARegister:
		rs[in.Reg] = Rule{Kind: RuleRegister, Reg: in.Reg2}
	case CFAExpression:
		rs[in.Reg] = Rule{Kind: RuleExpression, Expr: in.Expr}
	case CFAValExpression:
		rs[in.Reg] = Rule{Kind: RuleValExpression, Expr: in.Expr}
	case CFARememberState:
		m.stack = append(m.stack, m.row)
	case CFARestoreState:
		if len(m.stack) == 0 {
			return fmt.Errorf("at %#x: %v without a remembered state", in.Addr, in.Op)
		}
		loc := m.row.Loc
		m.row = m.stack[len(m.stack)-1]
		m.row.Loc = loc
		m.stack = m.stack[:len(m.stack)-1]
	case CFADefCFA, CFADefCFASF:
		m.row.CFA = CFARule{Reg: in.Reg, Offset: in.Offset}
	case CFADefCFARegister, CFADefCFAOffset, CFADefCFAOffsetSF:
		if m.row.CFA.Expr != nil {
			return fmt.Errorf("at %#x: %v while the CFA is an expression", in.Addr, in.Op)
		}
		if in.Op == CFADefCFARegister {
			m.row.CFA.Reg = in.Reg
		} else {
			m.row.CFA.Offset = in.Offset
		}
	case CFADefCFAExpression:
		m.row.CFA = CFARule{Expr: in.Expr}
	default:
		return fmt.Errorf("at %#x: %v cannot be executed here", in.Addr, in.Op)
	}
	return nil
}

func isAdvance(op Op) bool {
	switch op {
	case CFAAdvanceLoc, CFAAdvanceLoc1, CFAAdvanceLoc2, CFAAdvanceLoc4, CFASetLoc:
		return true
	}
	return false
}

// InitialRow runs the CIE's initial instructions.
func (c *CIE) InitialRow() (Row, error) {
	insts, err := Decode(c, c.Insts, c.InstsAddr)
	if err != nil {
		return Row{}, fmt.Errorf("CIE at %#x: %w", c.Addr, err)
	}
	var m machine
	for _, in := range insts {
		if isAdvance(in.Op) {
			return Row{}, fmt.Errorf("CIE at %#x: %v in the initial instructions", c.Addr, in.Op)
		}
		if err := m.exec(in); err != nil {
			return Row{}, fmt.Errorf("CIE at %#x: %w", c.Addr, err)
		}
	}
	return m.row, nil
}

// run executes the FDE's program from the CIE's initial row. It calls visit
// after each executed instruction, and stops before an advance past limit.
func (f *FDE) run(limit uint64, visit func(Inst, *Row)) (Row, error) {
	init, err := f.CIE.InitialRow()
	if err != nil {
		return Row{}, err
	}
	insts, err := Decode(f.CIE, f.Insts, f.InstsAddr)
	if err != nil {
		return Row{}, fmt.Errorf("FDE at %#x: %w", f.Addr, err)
	}
	init.Loc = f.PCBegin
	m := machine{init: &init, row: init}
	for _, in := range insts {
		if isAdvance(in.Op) {
			next := m.row.Loc + in.Delta
			if in.Op == CFASetLoc {
				next = in.Delta
			}
			if next < m.row.Loc || next > f.PCEnd {
				return Row{}, fmt.Errorf("FDE at %#x: %v at %#x moves to %#x, outside [%#x, %#x]", f.Addr, in.Op, in.Addr, next, m.row.Loc, f.PCEnd)
			}
			if next > limit {
				break
			}
			m.row.Loc = next
		} else if err := m.exec(in); err != nil {
			return Row{}, fmt.Errorf("FDE at %#x: %w", f.Addr, err)
		}
		if visit != nil {
			visit(in, &m.row)
		}
	}
	return m.row, nil
}

// RowAt computes the row in force at pc: the CIE's initial instructions,
// then the FDE's up to the first advance past pc. If trace is not nil it is
// called after every executed FDE instruction with the row it left, so an
// implementation interpreting the same bytes can be compared step by step.
func (f *FDE) RowAt(pc uint64, trace func(Trace)) (Row, error) {
	if pc < f.PCBegin || pc >= f.PCEnd {
		return Row{}, fmt.Errorf("FDE at %#x covers [%#x, %#x), not %#x", f.Addr, f.PCBegin, f.PCEnd, pc)
	}
	var visit func(Inst, *Row)
	if trace != nil {
		visit = func(in Inst, r *Row) { trace(Trace{Inst: in, Row: *r}) }
	}
	return f.run(pc, visit)
}

// Table is every row of the FDE: the first at PCBegin, then one at each
// location an advance moves to, as readelf's frames-interp prints it.
func (f *FDE) Table() ([]Row, error) {
	var rows []Row
	loc := f.PCBegin
	last, err := f.run(f.PCEnd, func(in Inst, r *Row) {
		if isAdvance(in.Op) && r.Loc != loc {
			prev := *r // an advance changes no rule
			prev.Loc = loc
			rows = append(rows, prev)
			loc = r.Loc
		}
	})
	if err != nil {
		return nil, err
	}
	if last.Loc < f.PCEnd {
		rows = append(rows, last)
	}
	return rows, nil
}
