package cycles

/*
#include <stdlib.h>

#include "cycles.h"
*/
import "C"

import (
	"unsafe"

	"golang.org/x/arch/x86/x86asm"
)

// The core model's real addresses are computed rather than reported by the
// emulator's memory hooks (which force every access onto Unicorn's slow
// path): addr.c interprets each block before it runs, from the registers
// and memory as they are then, with the plan below for each instruction.
// An instruction it does not compute makes the registers it writes
// unknown until the next block re-reads them from the emulator.

// addrOp is what an instruction does to registers and memory for the
// interpreter (cycles.h CYC_A_*).
type addrOp uint8

var addrOps = map[x86asm.Op]addrOp{
	x86asm.MOV: C.CYC_A_MOV, x86asm.MOVZX: C.CYC_A_MOVZX, x86asm.MOVSX: C.CYC_A_MOVSX,
	x86asm.MOVSXD: C.CYC_A_MOVSX, x86asm.LEA: C.CYC_A_LEA,
	x86asm.ADD: C.CYC_A_ADD, x86asm.SUB: C.CYC_A_SUB, x86asm.AND: C.CYC_A_AND,
	x86asm.OR: C.CYC_A_OR, x86asm.XOR: C.CYC_A_XOR, x86asm.IMUL: C.CYC_A_IMUL,
	x86asm.INC: C.CYC_A_INC, x86asm.DEC: C.CYC_A_DEC, x86asm.NEG: C.CYC_A_NEG, x86asm.NOT: C.CYC_A_NOT,
	x86asm.SHL: C.CYC_A_SHL, x86asm.SHR: C.CYC_A_SHR, x86asm.SAR: C.CYC_A_SAR,
	x86asm.PUSH: C.CYC_A_PUSH, x86asm.POP: C.CYC_A_POP, x86asm.CALL: C.CYC_A_CALL, x86asm.RET: C.CYC_A_RET,
	x86asm.PUSHFQ: C.CYC_A_PUSH, x86asm.POPFQ: C.CYC_A_POP, x86asm.LEAVE: C.CYC_A_LEAVE,
	x86asm.XCHG: C.CYC_A_XCHG, x86asm.XADD: C.CYC_A_XADD, x86asm.CMPXCHG: C.CYC_A_CMPXCHG,
	x86asm.CDQE: C.CYC_A_CDQE, x86asm.CQO: C.CYC_A_CQO, x86asm.CDQ: C.CYC_A_CDQ,
	// No register or memory changes.
	x86asm.CMP: C.CYC_A_NONE, x86asm.TEST: C.CYC_A_NONE, x86asm.BT: C.CYC_A_NONE,
	x86asm.JMP: C.CYC_A_NONE, x86asm.NOP: C.CYC_A_NONE, x86asm.UD2: C.CYC_A_NONE,
	x86asm.MFENCE: C.CYC_A_NONE, x86asm.LFENCE: C.CYC_A_NONE, x86asm.SFENCE: C.CYC_A_NONE,
	x86asm.PAUSE: C.CYC_A_NONE,
}

// Registers that instructions computed as CYC_A_OTHER write besides their
// register operands.
var implicitWrites = map[x86asm.Op][]reg{
	x86asm.MUL: {regRAX, regRDX}, x86asm.IMUL: {regRAX, regRDX},
	x86asm.DIV: {regRAX, regRDX}, x86asm.IDIV: {regRAX, regRDX},
	x86asm.RDTSC: {regRAX, regRDX}, x86asm.RDTSCP: {regRAX, regRCX, regRDX},
	x86asm.CPUID: {regRAX, regRCX, regRDX, regRBX},
}

// addrPlan writes the interpreter's entry for instruction in (class cl,
// core flow f) at pc.
func addrPlan(e *C.cyc_ai, in x86asm.Inst, pc uint64, cl InstClass, f *flow) {
	o := operandsOf(&in)
	e.next = C.uint64_t(pc + uint64(in.Len))
	e.base, e.index, e.scale = C.CYC_REG_NONE, C.CYC_REG_NONE, 1
	if o.mem != nil && !vectorIndex(o.mem) {
		m := o.mem
		switch {
		case m.Base == x86asm.RIP:
			e.base, e.disp = C.CYC_REG_ABS, C.int64_t(int64(pc)+int64(in.Len)+m.Disp)
		case m.Base == 0 && m.Index == 0:
			e.base, e.disp = C.CYC_REG_ABS, C.int64_t(m.Disp)
		default:
			e.disp = C.int64_t(m.Disp)
			if m.Base != 0 {
				e.base = C.uint8_t(mustGPR(m.Base))
			}
			if m.Index != 0 {
				e.index, e.scale = C.uint8_t(mustGPR(m.Index)), C.uint8_t(m.Scale)
			}
		}
		if m.Segment == x86asm.FS || m.Segment == x86asm.GS {
			e.base = C.CYC_REG_NONE // segment bases are not tracked: unknown
			e.index = C.CYC_REG_NONE
			e.segment = 1
		}
	}
	e.use = C.uint8_t(usedAccess(in.Op, o, f))
	op, ok := addrOps[in.Op]
	switch {
	case cl == ClassCondBranch && !readsRCX[in.Op]: // loop and jrcxz also write rcx
		op = C.CYC_A_NONE
	case !ok || cl == ClassString || cl == ClassXMM && in.Op != x86asm.NOP:
		op = C.CYC_A_OTHER
	}
	if in.Op == x86asm.IMUL && len(o.args) == 1 {
		op = C.CYC_A_OTHER // rdx:rax = rax * src
	}
	e.op = C.uint8_t(op)
	for i, a := range o.args {
		if i == len(e.a) {
			break
		}
		e.a[i] = addrArg(a, in.MemBytes, in.DataSize)
		e.nargs = C.uint8_t(i + 1)
	}
	if op == C.CYC_A_OTHER {
		otherWrites(e, in, o, cl, f.mem)
	}
}

func vectorIndex(m *x86asm.Mem) bool { return m.Index != 0 && vectorRegister(m.Index) }

// addrArg encodes an operand; dataSize sizes immediates (bits).
func addrArg(a x86asm.Arg, memBytes, dataSize int) C.cyc_arg {
	var r C.cyc_arg
	switch a := a.(type) {
	case x86asm.Reg:
		if g, w, ok := gpr(a); ok {
			r.kind, r.reg, r.size = C.CYC_ARG_REG, C.uint8_t(g), C.uint16_t(w)
			if a >= x86asm.AH && a <= x86asm.BH {
				r.shift = 8
			}
		} else {
			r.kind = C.CYC_ARG_XREG // vector, segment or other register: not tracked
		}
	case x86asm.Mem:
		r.kind, r.size = C.CYC_ARG_MEM, C.uint16_t(memBytes)
	case x86asm.Imm:
		r.kind, r.size, r.imm = C.CYC_ARG_IMM, C.uint16_t(max(dataSize/8, 1)), C.int64_t(int64(a))
	case x86asm.Rel:
		r.kind = C.CYC_ARG_REL
	}
	return r
}

// Classes whose instructions write no general-purpose register but their
// first operand: vector, x87/SSE state and control words, segment reads.
var ownOperandOnly = map[InstClass]bool{ClassXMM: true, ClassFxsave: true, ClassFxrstor: true, ClassFPCtrl: true, ClassSegRead: true}

// fxsaveArea is what fxsave writes: the x87, MMX and SSE state (Intel SDM
// vol. 2A, FXSAVE).
const fxsaveArea = 512

// otherWrites lists what an instruction the interpreter does not compute
// writes: its general-purpose register operands and implicit registers,
// its memory operand if it stores there (mem); anything it does not know
// writes every register and all memory (the block's later loads are
// unknown).
func otherWrites(e *C.cyc_ai, in x86asm.Inst, o operands, cl InstClass, mem access) {
	var wr []reg
	known := ownOperandOnly[cl] || readsFlags[in.Op] || mulDivOps[in.Op] || implicitWrites[in.Op] != nil
	switch {
	case cl == ClassString:
		wr = []reg{regRAX, regRCX, regRSI, regRDI}
		e.wmem = C.CYC_W_ALL
	case known:
		for i := range o.args {
			if r, _, ok := o.gpr(i); ok && (i == 0 || in.Op == x86asm.XCHG) {
				wr = addUniq(wr, r)
			}
		}
		for _, r := range implicitWrites[in.Op] {
			wr = addUniq(wr, r)
		}
		if o.memAt == 0 && mem&memStore != 0 {
			e.wmem = C.CYC_W_OPERAND
		}
		if cl == ClassFxsave {
			e.a[0].size = fxsaveArea
		}
	default:
		for r := range numGPRs {
			wr = append(wr, r)
		}
		e.wmem = C.CYC_W_ALL
	}
	for _, r := range wr {
		e.wr |= 1 << r
	}
}

// usedAccess is the access whose address the core model uses for the
// instruction: of the accesses the emulator's hooks report for it, in
// their order, the last for a store that makes several (call [m]: the
// push after the target load; a 16-byte vector store: its second half),
// else the first (core.c core_block).
func usedAccess(op x86asm.Op, o operands, f *flow) int {
	if f.mem == memNone || f.nacc == 0 {
		return C.CYC_U_NONE
	}
	var order []int
	switch {
	case op == x86asm.PUSH && o.mem != nil, op == x86asm.CALL && o.mem != nil:
		order = []int{C.CYC_U_EA, C.CYC_U_PUSH}
	case op == x86asm.PUSH, op == x86asm.CALL, pushFlagsOps[op]:
		order = []int{C.CYC_U_PUSH}
	case op == x86asm.POP && o.mem != nil:
		order = []int{C.CYC_U_POP, C.CYC_U_EA}
	case op == x86asm.POP, op == x86asm.RET, popFlagsOps[op]:
		order = []int{C.CYC_U_POP}
	case f.nacc == 2 && f.mem != memRMW:
		order = []int{C.CYC_U_EA, C.CYC_U_EA8}
	default:
		order = []int{C.CYC_U_EA, C.CYC_U_EA}
	}
	if f.nacc > 1 && f.mem == memStore {
		return order[len(order)-1]
	}
	return order[0]
}

// checkEffects (tests: export_test.go) checks what the address
// interpreter's slices assume of instruction i (addr.c effects) against
// runs of the instruction (addr_check_effects) from registers g, with
// other's values outside those it reads, and from memory mapped at base
// holding mem1 or mem2. It returns the CYC_EFF_* flags of the
// assumptions the runs contradict.
func (e *Estimator) checkEffects(i int, g, other *[numGPRs]uint64, base uint64, mem1, mem2 []byte) int {
	machine := func(mem []byte) *C.osr_machine {
		r := (*C.osr_region)(C.calloc(1, C.size_t(unsafe.Sizeof(C.osr_region{}))))
		r.base, r.size, r.host = C.uint64_t(base), C.uint64_t(len(mem)), (*C.uint8_t)(C.CBytes(mem))
		m := (*C.osr_machine)(C.calloc(1, C.size_t(unsafe.Sizeof(C.osr_machine{}))))
		m.nregions, m.regions = 1, r
		return m
	}
	free := func(m *C.osr_machine) {
		C.free(unsafe.Pointer(m.regions.host))
		C.free(unsafe.Pointer(m.regions))
		C.free(unsafe.Pointer(m))
	}
	m1, m2 := machine(mem1), machine(mem2)
	defer free(m1)
	defer free(m2)
	return int(C.addr_check_effects(e.c.core.addr, C.uint32_t(i), m1, m2,
		(*C.uint64_t)(unsafe.Pointer(&g[0])), (*C.uint64_t)(unsafe.Pointer(&other[0]))))
}
