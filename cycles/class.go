package cycles

/*
#include "cycles.h"
*/
import "C"

import (
	"fmt"

	"golang.org/x/arch/x86/x86asm"
)

// InstClass is an instruction's cost class in the cycle model (README.md,
// "Instruction classes").
type InstClass uint8

const (
	ClassALU        InstClass = iota // register/immediate integer ops and moves, nop, setcc/cmov on registers
	ClassLoad                        // reads memory, writes none: mov r,[m]; op r,[m]; cmp [m],x; pop r
	ClassStore                       // writes memory, reads none: mov [m],x; push r/imm; setcc [m]
	ClassRMW                         // reads and writes memory: op [m],x; inc [m]; push [m]
	ClassLea                         // lea
	ClassMul                         // imul, mul
	ClassDiv                         // div, idiv
	ClassCondBranch                  // jcc, jrcxz, loop
	ClassJump                        // direct jmp
	ClassCall                        // direct call
	ClassIndJump                     // jmp reg / jmp [m]
	ClassIndCall                     // call reg / call [m]
	ClassRet                         // ret
	ClassLocked                      // lock-prefixed ops, xchg with memory
	ClassXMM                         // SSE/AVX moves and ops (any operand kinds)
	ClassPushf                       // pushfq
	ClassPopf                        // popfq
	ClassString                      // string ops (movs, stos, ...), per iteration with rep
	ClassFence                       // mfence, lfence, sfence
	ClassOther                       // anything else (cpuid, ud2, ...)
	ClassFxsave                      // fxsave: the x87/SSE state stored (microcoded)
	ClassFxrstor                     // fxrstor: the x87/SSE state loaded (microcoded, serialising on the control words)
	ClassSegRead                     // mov r/m16, Sreg: a segment selector read
	ClassFPCtrl                      // x87 and SSE control/status words: fnstcw, fldcw, stmxcsr, ldmxcsr
	NumClasses
)

var classNames = [NumClasses]string{
	"alu", "load", "store", "rmw", "lea", "mul", "div", "cond_branch", "jump", "call",
	"ind_jump", "ind_call", "ret", "locked", "xmm", "pushf", "popf", "string", "fence", "other",
	"fxsave", "fxrstor", "seg_read", "fp_ctrl",
}

// String is the class's name in calibration files and reports.
func (c InstClass) String() string {
	if c < NumClasses {
		return classNames[c]
	}
	return fmt.Sprintf("class(%d)", uint8(c))
}

// ClassByName returns the class named s (as String gives it).
func ClassByName(s string) (InstClass, bool) {
	for i, n := range classNames {
		if n == s {
			return InstClass(i), true
		}
	}
	return 0, false
}

// transfer is an instruction's control-transfer kind, what the predictors
// look at (cycles.h CYC_K_*).
type transfer uint8

const (
	transferNone    transfer = C.CYC_K_OTHER
	transferCond    transfer = C.CYC_K_COND
	transferJump    transfer = C.CYC_K_JMP
	transferCall    transfer = C.CYC_K_CALL
	transferIndJump transfer = C.CYC_K_IJMP
	transferIndCall transfer = C.CYC_K_ICALL
	transferReturn  transfer = C.CYC_K_RET
)

// Instruction families by x86asm opcode.
var (
	condBranchOps = opSet(x86asm.JA, x86asm.JAE, x86asm.JB, x86asm.JBE, x86asm.JE, x86asm.JNE, x86asm.JG,
		x86asm.JGE, x86asm.JL, x86asm.JLE, x86asm.JO, x86asm.JNO, x86asm.JP, x86asm.JNP, x86asm.JS, x86asm.JNS,
		x86asm.JRCXZ, x86asm.JECXZ, x86asm.JCXZ, x86asm.LOOP, x86asm.LOOPE, x86asm.LOOPNE)
	stringOps = opSet(x86asm.MOVSB, x86asm.MOVSW, x86asm.MOVSD, x86asm.MOVSQ, x86asm.STOSB, x86asm.STOSW,
		x86asm.STOSD, x86asm.STOSQ, x86asm.LODSB, x86asm.LODSW, x86asm.LODSD, x86asm.LODSQ, x86asm.CMPSB,
		x86asm.CMPSW, x86asm.CMPSD, x86asm.CMPSQ, x86asm.SCASB, x86asm.SCASW, x86asm.SCASD, x86asm.SCASQ)
	setccOps = opSet(x86asm.SETA, x86asm.SETAE, x86asm.SETB, x86asm.SETBE, x86asm.SETE, x86asm.SETNE,
		x86asm.SETG, x86asm.SETGE, x86asm.SETL, x86asm.SETLE, x86asm.SETO, x86asm.SETNO, x86asm.SETP,
		x86asm.SETNP, x86asm.SETS, x86asm.SETNS)
	cmovOps = opSet(x86asm.CMOVA, x86asm.CMOVAE, x86asm.CMOVB, x86asm.CMOVBE, x86asm.CMOVE, x86asm.CMOVNE,
		x86asm.CMOVG, x86asm.CMOVGE, x86asm.CMOVL, x86asm.CMOVLE, x86asm.CMOVO, x86asm.CMOVNO, x86asm.CMOVP,
		x86asm.CMOVNP, x86asm.CMOVS, x86asm.CMOVNS)
	// Opcodes whose class does not depend on their operands.
	fixedClass = map[x86asm.Op]InstClass{
		x86asm.RET: ClassRet, x86asm.LEA: ClassLea, x86asm.NOP: ClassALU,
		x86asm.IMUL: ClassMul, x86asm.MUL: ClassMul, x86asm.DIV: ClassDiv, x86asm.IDIV: ClassDiv,
		x86asm.PUSHFQ: ClassPushf, x86asm.PUSHF: ClassPushf, x86asm.PUSHFD: ClassPushf,
		x86asm.POPFQ: ClassPopf, x86asm.POPF: ClassPopf, x86asm.POPFD: ClassPopf,
		x86asm.MFENCE: ClassFence, x86asm.LFENCE: ClassFence, x86asm.SFENCE: ClassFence,
		x86asm.CPUID: ClassOther, x86asm.UD2: ClassOther, x86asm.HLT: ClassOther, x86asm.INT: ClassOther,
		x86asm.RDTSC: ClassOther, x86asm.RDTSCP: ClassOther, x86asm.PAUSE: ClassOther,
		x86asm.FXSAVE: ClassFxsave, x86asm.FXSAVE64: ClassFxsave,
		x86asm.FXRSTOR: ClassFxrstor, x86asm.FXRSTOR64: ClassFxrstor,
		x86asm.FNSTCW: ClassFPCtrl, x86asm.FLDCW: ClassFPCtrl, x86asm.STMXCSR: ClassFPCtrl, x86asm.LDMXCSR: ClassFPCtrl,
	}
)

func opSet(ops ...x86asm.Op) map[x86asm.Op]bool {
	s := make(map[x86asm.Op]bool, len(ops))
	for _, op := range ops {
		s[op] = true
	}
	return s
}

// Classify returns the cost class of a decoded instruction.
func Classify(in x86asm.Inst) InstClass {
	c, _ := classify(in)
	return c
}

// classify returns the class of a decoded instruction and its
// control-transfer kind.
func classify(in x86asm.Inst) (InstClass, transfer) {
	o := operandsOf(&in)
	switch {
	case hasPrefix(&in, x86asm.PrefixLOCK):
		return ClassLocked, transferNone
	case condBranchOps[in.Op]:
		return ClassCondBranch, transferCond
	case in.Op == x86asm.JMP && o.relative():
		return ClassJump, transferJump
	case in.Op == x86asm.JMP:
		return ClassIndJump, transferIndJump
	case in.Op == x86asm.CALL && o.relative():
		return ClassCall, transferCall
	case in.Op == x86asm.CALL:
		return ClassIndCall, transferIndCall
	case in.Op == x86asm.RET:
		return ClassRet, transferReturn
	}
	if c, ok := fixedClass[in.Op]; ok {
		return c, transferNone
	}
	if in.Op == x86asm.MOV && isSegment(in.Args[1]) {
		return ClassSegRead, transferNone
	}
	return classifyData(in.Op, o), transferNone
}

// classifyData classes an instruction that is not a control transfer by
// its memory operand: is it read, written, or both?
func classifyData(op x86asm.Op, o operands) InstClass {
	switch {
	case stringOps[op] && !(op == x86asm.MOVSD && o.xmm): // SSE2 movsd is not the string op
		return ClassString
	case op == x86asm.XCHG && o.mem != nil: // xchg with memory is implicitly locked
		return ClassLocked
	case (op == x86asm.PUSH || op == x86asm.POP) && o.mem != nil:
		return ClassRMW
	case op == x86asm.PUSH:
		return ClassStore
	case op == x86asm.POP:
		return ClassLoad
	case o.xmm:
		return ClassXMM
	case o.mem == nil:
		return ClassALU
	case o.memAt != 0: // Intel order puts the destination first
		return ClassLoad
	case op == x86asm.MOV || op == x86asm.MOVNTI || setccOps[op]:
		return ClassStore
	case op == x86asm.CMP || op == x86asm.TEST || op == x86asm.BT:
		return ClassLoad
	}
	return ClassRMW
}

func hasPrefix(in *x86asm.Inst, p x86asm.Prefix) bool {
	for _, q := range in.Prefix {
		if q == 0 {
			break
		}
		if q&0xff == p {
			return true
		}
	}
	return false
}

// isSegment reports whether a is a segment register.
func isSegment(a x86asm.Arg) bool {
	r, ok := a.(x86asm.Reg)
	return ok && r >= x86asm.ES && r <= x86asm.GS
}
