package cycles

/*
#include "cycles.h"
*/
import "C"

import (
	"fmt"
	"strings"

	"golang.org/x/arch/x86/x86asm"
)

// reg is a register of the core model (cycles.h): the 16 general-purpose
// registers in encoding order, then the flags; regAbs and regNone stand
// for the base of a memory operand that has none.
type reg uint8

const (
	regRAX reg = iota
	regRCX
	regRDX
	regRBX
	regRSP
	regRBP
	regRSI
	regRDI
	numGPRs  reg = C.CYC_NGPR
	regFlags reg = C.CYC_REG_FLAGS
	// regAbs is the base of a RIP-relative or absolute address: the
	// displacement is the address.
	regAbs  reg = C.CYC_REG_ABS
	regNone reg = C.CYC_REG_NONE
)

var gprNames = [numGPRs]string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}

func (r reg) String() string {
	switch {
	case r < numGPRs:
		return gprNames[r]
	case r == regFlags:
		return "flags"
	case r == regAbs:
		return "abs"
	case r == regNone:
		return "none"
	}
	return fmt.Sprintf("reg(%d)", uint8(r))
}

// gpr maps an x86asm general-purpose register of any width to the core
// model's register and gives its width in bytes.
func gpr(r x86asm.Reg) (reg, int, bool) {
	switch {
	case r >= x86asm.RAX && r <= x86asm.R15:
		return reg(r - x86asm.RAX), 8, true
	case r >= x86asm.EAX && r <= x86asm.R15L:
		return reg(r - x86asm.EAX), 4, true
	case r >= x86asm.AX && r <= x86asm.R15W:
		return reg(r - x86asm.AX), 2, true
	case r >= x86asm.AL && r <= x86asm.BL:
		return reg(r - x86asm.AL), 1, true
	case r >= x86asm.AH && r <= x86asm.BH: // the second byte of rax..rbx
		return reg(r - x86asm.AH), 1, true
	case r >= x86asm.SPB && r <= x86asm.R15B:
		return reg(r-x86asm.SPB) + regRSP, 1, true
	}
	return 0, 0, false
}

// access is how an instruction uses memory (cycles.h CYC_MEM_*).
type access uint8

const (
	memNone  access = C.CYC_MEM_NONE
	memLoad  access = C.CYC_MEM_LOAD
	memStore access = C.CYC_MEM_STORE
	memRMW   access = C.CYC_MEM_RMW
)

var accessNames = map[access]string{memNone: "none", memLoad: "load", memStore: "store", memRMW: "rmw"}

func (a access) String() string { return accessNames[a] }

// valueOp is how an instruction changes the symbolic register values that
// key store-to-load forwarding (cycles.h CYC_V_*).
type valueOp uint8

const (
	valFresh  valueOp = C.CYC_V_FRESH // destination registers get new values
	valCopy   valueOp = C.CYC_V_COPY  // dst = src (64-bit mov)
	valAddImm valueOp = C.CYC_V_ADDI  // dst += imm (64-bit add/sub with an immediate)
	valLea    valueOp = C.CYC_V_LEA   // dst = base + disp, or the absolute address
	valConst  valueOp = C.CYC_V_CONST // dst = imm
	valNone   valueOp = C.CYC_V_NONE  // no tracked register changes (besides rsp deltas)
)

var valueNames = map[valueOp]string{valFresh: "fresh", valCopy: "copy", valAddImm: "addimm",
	valLea: "lea", valConst: "const", valNone: "none"}

func (v valueOp) String() string { return valueNames[v] }

// flow is what the core model knows about one instruction (a cyc_ii
// without its class's latency and occupancy): the registers it reads and
// writes, its memory access and how it changes symbolic register values.
type flow struct {
	src, dst    []reg
	mem         access
	nacc        int   // accesses the emulator's memory hooks report for it
	base, index reg   // of the memory operand (regNone: none)
	disp        int64 // displacement, or the address if base is regAbs
	stack       bool  // the address is [rsp/rbp + disp]
	opl         bool  // a loaded value goes through an ALU op
	indep       bool  // zero idiom: no source dependency
	val         valueOp
	imm         int64 // for valAddImm and valConst
	// rsp changes before the memory access (push, call) and after it
	// (pop, ret, add/sub rsp with an immediate).
	rspDelta, rspPost int32
}

// stackSlotSize is what push, pop, call and ret move rsp by.
const stackSlotSize = 8

// Instruction families the analysis treats alike.
var (
	sameAsMove     = opSet(x86asm.MOV, x86asm.MOVZX, x86asm.MOVSX, x86asm.MOVSXD)
	readsFlags     = union(cmovOps, setccOps, opSet(x86asm.ADC, x86asm.SBB))
	readsRCX       = opSet(x86asm.JRCXZ, x86asm.JECXZ, x86asm.LOOP)
	mulDivOps      = opSet(x86asm.MUL, x86asm.IMUL, x86asm.DIV, x86asm.IDIV)
	compareOps     = opSet(x86asm.CMP, x86asm.TEST, x86asm.BT)
	signExtendOps  = opSet(x86asm.CQO, x86asm.CDQ, x86asm.CDQE)
	pushFlagsOps   = opSet(x86asm.PUSHFQ, x86asm.PUSHF)
	popFlagsOps    = opSet(x86asm.POPFQ, x86asm.POPF)
	wideVectorMove = opSet(x86asm.MOVDQU, x86asm.MOVDQA, x86asm.MOVUPS, x86asm.MOVAPS)
)

func union(sets ...map[x86asm.Op]bool) map[x86asm.Op]bool {
	u := map[x86asm.Op]bool{}
	for _, s := range sets {
		for op := range s {
			u[op] = true
		}
	}
	return u
}

// analyze derives the flow of instruction in of class cl at address pc.
func analyze(in x86asm.Inst, pc uint64, cl InstClass) flow {
	o := operandsOf(&in)
	f := flow{base: regNone, index: regNone, val: valFresh, opl: true, mem: accessOf(in.Op, o, cl)}
	if o.mem != nil {
		f.address(*o.mem, pc+uint64(in.Len))
	}
	f.operation(in.Op, o, cl)
	f.nacc = hookAccesses(in.Op, o, cl, f.mem)
	f.dropAddressSources(o)
	f.fit()
	return f
}

// accessOf is how an instruction uses its memory operand, if it has one
// (lea and nop only compute or ignore the address).
func accessOf(op x86asm.Op, o operands, cl InstClass) access {
	if o.mem == nil || op == x86asm.LEA || op == x86asm.NOP {
		return memNone
	}
	switch cl {
	case ClassLoad, ClassFxrstor:
		return memLoad
	case ClassStore, ClassFxsave, ClassSegRead:
		return memStore
	case ClassRMW, ClassLocked:
		return memRMW
	case ClassFPCtrl: // stores of the control words, or loads
		if op == x86asm.FNSTCW || op == x86asm.STMXCSR {
			return memStore
		}
		return memLoad
	}
	if o.memAt == 0 && len(o.args) > 1 && !compareOps[op] {
		return memRMW
	}
	return memLoad
}

// address records the memory operand m; next is the address of the
// following instruction (RIP-relative operands count from it).
func (f *flow) address(m x86asm.Mem, next uint64) {
	f.disp = m.Disp
	switch {
	case m.Base == x86asm.RIP:
		f.base, f.disp = regAbs, int64(next)+m.Disp
		return
	case m.Base == 0 && m.Index == 0:
		f.base = regAbs
		return
	}
	if m.Base != 0 {
		f.base = mustGPR(m.Base)
	}
	if m.Index != 0 && !vectorRegister(m.Index) {
		f.index = mustGPR(m.Index)
	}
	// A vector index (VSIB: gathers) gives one address per element; the
	// model keys such an access by its base and displacement alone.
}

func vectorRegister(r x86asm.Reg) bool { return r >= x86asm.X0 && r <= x86asm.Z31 }

func mustGPR(r x86asm.Reg) reg {
	g, _, ok := gpr(r)
	if !ok {
		panic(fmt.Sprintf("BUG: cycles: address register %v is not a general-purpose register", r))
	}
	return g
}

// operation applies what the opcode does to registers and the stack.
func (f *flow) operation(op x86asm.Op, o operands, cl InstClass) {
	switch {
	case sameAsMove[op]:
		f.move(op, o)
	case op == x86asm.LEA:
		f.lea(o)
	case op == x86asm.ADD || op == x86asm.SUB:
		f.addSub(op, o)
	case op == x86asm.XOR:
		f.xor(o)
	case compareOps[op]:
		f.readArgs(o, 0)
		f.addDst(regFlags)
		f.val = valNone
	case op == x86asm.PUSH:
		f.push(o)
	case op == x86asm.POP:
		f.pop(o)
	case op == x86asm.CALL:
		f.call(o)
	case op == x86asm.RET:
		f.stackSlot(memLoad, 0, stackSlotSize)
		f.opl, f.val = false, valNone
	case op == x86asm.JMP:
		f.jump(o)
	case op == x86asm.NOP:
		f.val = valNone
	case mulDivOps[op]:
		f.mulDiv(o)
	case signExtendOps[op]:
		f.signExtend(op)
	case pushFlagsOps[op]:
		f.addSrc(regFlags)
		f.stackSlot(memStore, -stackSlotSize, 0)
		f.val = valNone
	case popFlagsOps[op]:
		f.stackSlot(memLoad, 0, stackSlotSize)
		f.dst = []reg{regFlags}
		f.val = valNone
	case cl == ClassFxsave || cl == ClassFxrstor || cl == ClassFPCtrl:
		// The x87, SSE and control state they store or load is not
		// tracked (no general register, no flags).
		f.val = valNone
	case op == x86asm.XCHG:
		f.exchange(o)
	case cl == ClassCondBranch:
		f.condBranch(op)
	default:
		f.generic(op, o, cl)
	}
}

// move: mov, movzx, movsx, movsxd. The loaded value needs no ALU.
func (f *flow) move(op x86asm.Op, o operands) {
	f.opl = false
	f.readArgs(o, 1)
	f.writeDst(o, false)
	r, w, ok := o.gpr(0)
	switch {
	case ok && w == 8:
		if s, sw, ok := o.gpr(1); ok && sw == 8 && op == x86asm.MOV {
			f.val, f.src, f.dst = valCopy, []reg{s}, []reg{r}
		} else if v, ok := o.imm(1); ok {
			f.val, f.imm = valConst, v
		}
	case ok && w == 4:
		if v, ok := o.imm(1); ok {
			f.val, f.imm = valConst, int64(uint32(v)) // zero-extended
		}
	}
	f.memoryDestination(o)
}

// lea reads its address registers only.
func (f *flow) lea(o operands) {
	if f.base < numGPRs {
		f.addSrc(f.base)
	}
	if f.index != regNone {
		f.addSrc(f.index)
	}
	f.writeDst(o, false)
	if f.index == regNone && f.base != regNone {
		f.val = valLea
	}
}

// addSub: add or sub; with a 64-bit immediate the register's symbolic
// value moves by it, and on rsp the stack engine handles it (no dependency).
func (f *flow) addSub(op x86asm.Op, o operands) {
	f.readArgs(o, 0)
	f.writeDst(o, true)
	f.addDst(regFlags)
	if r, w, ok := o.gpr(0); ok && w == 8 {
		if v, ok := o.imm(1); ok {
			if op == x86asm.SUB {
				v = -v
			}
			f.val, f.imm = valAddImm, v
			if r == regRSP {
				f.src, f.dst = nil, []reg{regFlags}
				f.val, f.rspPost = valNone, int32(v)
			}
		}
	}
	if op == x86asm.SUB && o.sameRegs() {
		f.indep = true // zero idiom
	}
	f.memoryDestination(o)
}

func (f *flow) xor(o operands) {
	f.readArgs(o, 0)
	f.writeDst(o, true)
	f.addDst(regFlags)
	if o.sameRegs() {
		f.indep = true // zero idiom
	}
	f.memoryDestination(o)
}

// push is modelled as a store to the new stack slot (push [m]: read
// and write at that slot).
func (f *flow) push(o operands) {
	f.readArgs(o, 0)
	acc := memStore
	if o.mem != nil {
		acc = memRMW
	}
	f.stackSlot(acc, -stackSlotSize, 0)
	f.val = valNone
}

func (f *flow) pop(o operands) {
	f.stackSlot(memLoad, 0, stackSlotSize)
	f.opl = false
	f.writeDst(o, false)
	f.memoryDestination(o)
}

// call pushes the return address; call [m]'s target load is not tracked as
// a slot, but waits for its base register.
func (f *flow) call(o operands) {
	f.readArgs(o, 0)
	f.stackSlot(memStore, -stackSlotSize, 0)
	f.val = valNone
	if o.mem != nil {
		f.src = nil
		if b := o.mem.Base; b != 0 && b != x86asm.RIP {
			f.src = []reg{mustGPR(b)}
		}
	}
}

// jump: jmp [m] loads its target through its base register.
func (f *flow) jump(o operands) {
	f.readArgs(o, 0)
	f.val = valNone
	if o.mem != nil {
		f.src = nil
		if r, _, ok := gpr(o.mem.Base); ok {
			f.src = []reg{r}
		}
		f.mem = memLoad
	}
}

// mulDiv: the one-operand forms use rdx:rax; the three-operand imul reads
// its source only.
func (f *flow) mulDiv(o operands) {
	f.readArgs(o, 0)
	switch len(o.args) {
	case 1:
		f.addSrc(regRAX)
		f.addSrc(regRDX)
		f.dst = []reg{regRAX, regRDX}
	case 3:
		f.src = nil
		f.readArgs(o, 1)
		f.writeDst(o, false)
	default:
		f.writeDst(o, true)
	}
	f.addDst(regFlags)
}

// signExtend: cqo and cdq extend rax into rdx, cdqe rax in place.
func (f *flow) signExtend(op x86asm.Op) {
	f.src, f.dst = []reg{regRAX}, []reg{regRDX}
	if op == x86asm.CDQE {
		f.dst = []reg{regRAX}
	}
}

func (f *flow) exchange(o operands) {
	f.readArgs(o, 0)
	for i := range o.args {
		if r, _, ok := o.gpr(i); ok {
			f.addDst(r)
		}
	}
}

func (f *flow) condBranch(op x86asm.Op) {
	f.addSrc(regFlags)
	if readsRCX[op] {
		f.addSrc(regRCX)
	}
	f.val = valNone
}

// generic: any other instruction reads its register operands and writes
// its first one and the flags (XMM instructions: no tracked register).
func (f *flow) generic(op x86asm.Op, o operands, cl InstClass) {
	if readsFlags[op] {
		f.addSrc(regFlags)
	}
	f.readArgs(o, 0)
	if cl != ClassXMM {
		f.writeDst(o, true)
		f.addDst(regFlags)
	}
	f.memoryDestination(o)
}

// stackSlot makes the access go to [rsp], with rsp moving by delta before
// it and by post after it.
func (f *flow) stackSlot(acc access, delta, post int32) {
	f.base, f.disp, f.mem = regRSP, 0, acc
	f.rspDelta, f.rspPost = delta, post
}

// memoryDestination: an instruction that writes memory, not its first
// register, changes no tracked value.
func (f *flow) memoryDestination(o operands) {
	if o.memAt == 0 {
		f.val = valNone
	}
}

func (f *flow) addSrc(r reg) { f.src = addUniq(f.src, r) }
func (f *flow) addDst(r reg) { f.dst = addUniq(f.dst, r) }

func addUniq(s []reg, r reg) []reg {
	for _, x := range s {
		if x == r {
			return s
		}
	}
	return append(s, r)
}

// readArgs reads the register operands from argument from on.
func (f *flow) readArgs(o operands, from int) {
	for i := from; i < len(o.args); i++ {
		if r, _, ok := o.gpr(i); ok {
			f.addSrc(r)
		}
	}
}

// writeDst writes the first operand if it is a register; 8- and 16-bit
// writes merge into the old value, so they read it too.
func (f *flow) writeDst(o operands, alsoRead bool) {
	if r, w, ok := o.gpr(0); ok {
		if alsoRead || w < 4 {
			f.addSrc(r)
		}
		f.addDst(r)
	}
}

// hookAccesses is how many accesses Unicorn's memory hooks report for the
// instruction: QEMU splits 16-byte vector accesses in two; atomics, string
// ops and other vector accesses are not reported, so a block holding one
// falls back to symbolic addresses.
func hookAccesses(op x86asm.Op, o operands, cl InstClass, mem access) int {
	switch {
	case mem == memNone || cl == ClassLocked || cl == ClassString:
		return 0
	case mem == memRMW:
		return 2
	case op == x86asm.CALL && o.mem != nil: // the target load and the push
		return 2
	case cl == ClassXMM && o.mem != nil && o.mem.Base != 0 && wideVectorMove[op]:
		return 2
	case cl == ClassXMM:
		return 0
	}
	return 1
}

// dropAddressSources: address registers are sources of the access, not
// of the value, unless they are operands too.
func (f *flow) dropAddressSources(o operands) {
	if f.mem == memNone || f.base == regNone || o.mem == nil {
		return
	}
	var s []reg
	for _, r := range f.src {
		if (r == f.base || r == f.index) && !o.hasReg(r) {
			continue
		}
		s = append(s, r)
	}
	f.src = s
}

// fit makes the flow fit the C table: at most CYC_MAX_SRC sources and
// CYC_MAX_DST destinations, value tracking only where it is well defined.
func (f *flow) fit() {
	f.stack = (f.base == regRSP || f.base == regRBP) && f.index == regNone
	f.src = f.src[:min(len(f.src), C.CYC_MAX_SRC)]
	f.dst = f.dst[:min(len(f.dst), C.CYC_MAX_DST)]
	if f.val == valCopy && len(f.src) != 1 {
		f.val = valFresh
	}
	switch f.val {
	case valAddImm, valLea, valConst, valCopy:
		if len(f.dst) == 0 || f.dst[0] >= numGPRs {
			f.val = valFresh
		}
	}
}

// String shows the flow as the analysis tests spell it.
func (f flow) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "src=%s dst=%s", regList(f.src), regList(f.dst))
	if f.mem != memNone {
		fmt.Fprintf(&b, " %s[%s] acc=%d", f.mem, f.addressString(), f.nacc)
	} else if f.base != regNone {
		fmt.Fprintf(&b, " addr[%s]", f.addressString())
	}
	if f.rspDelta != 0 || f.rspPost != 0 {
		fmt.Fprintf(&b, " rsp%+d/%+d", f.rspDelta, f.rspPost)
	}
	fmt.Fprintf(&b, " val=%s", f.val)
	if f.val == valAddImm || f.val == valConst {
		fmt.Fprintf(&b, "(%#x)", f.imm)
	}
	if f.indep {
		b.WriteString(" indep")
	}
	if !f.opl {
		b.WriteString(" noalu")
	}
	return b.String()
}

func (f flow) addressString() string {
	s := ""
	switch {
	case f.base == regAbs:
		return fmt.Sprintf("%#x", f.disp)
	case f.base != regNone:
		s = f.base.String()
	}
	if f.index != regNone {
		s += "+idx:" + f.index.String()
	}
	if f.disp != 0 {
		s += fmt.Sprintf("%+#x", f.disp)
	}
	return s
}

func regList(rs []reg) string {
	if len(rs) == 0 {
		return "-"
	}
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.String()
	}
	return strings.Join(s, ",")
}

// operands are an instruction's explicit arguments as the analysis reads
// them: those before the first nil, its memory argument (the last, if
// several) and whether any is an XMM or MMX register.
type operands struct {
	args  []x86asm.Arg
	mem   *x86asm.Mem
	memAt int // -1: none
	xmm   bool
}

func operandsOf(in *x86asm.Inst) operands {
	o := operands{memAt: -1}
	for i, a := range in.Args {
		if a == nil {
			break
		}
		o.args = in.Args[:i+1]
		if m, ok := a.(x86asm.Mem); ok {
			o.mem, o.memAt = &m, i
		}
		if r, ok := a.(x86asm.Reg); ok && (r >= x86asm.X0 && r <= x86asm.X15 || r >= x86asm.M0 && r <= x86asm.M7) {
			o.xmm = true
		}
	}
	return o
}

// relative: the first argument is a relative branch target.
func (o operands) relative() bool {
	if len(o.args) == 0 {
		return false
	}
	_, ok := o.args[0].(x86asm.Rel)
	return ok
}

// gpr is argument i as a general-purpose register, with its width.
func (o operands) gpr(i int) (reg, int, bool) {
	if i >= len(o.args) {
		return 0, 0, false
	}
	r, ok := o.args[i].(x86asm.Reg)
	if !ok {
		return 0, 0, false
	}
	return gpr(r)
}

func (o operands) imm(i int) (int64, bool) {
	if i >= len(o.args) {
		return 0, false
	}
	v, ok := o.args[i].(x86asm.Imm)
	return int64(v), ok
}

// sameRegs: the first two arguments are the same register (xor r,r).
func (o operands) sameRegs() bool {
	a, _, ok := o.gpr(0)
	b, _, ok2 := o.gpr(1)
	return ok && ok2 && a == b
}

// hasReg: some argument is (part of) register r.
func (o operands) hasReg(r reg) bool {
	for i := range o.args {
		if g, _, ok := o.gpr(i); ok && g == r {
			return true
		}
	}
	return false
}
