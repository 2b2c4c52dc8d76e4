package cycles

import (
	"encoding/hex"
	"strings"
	"testing"

	"golang.org/x/arch/x86/x86asm"
)

// analysisPC is where the table's instructions are analysed (RIP-relative
// addresses count from the next instruction).
const analysisPC = 0x500001000

// analysisCases pair each instruction's text with its bytes (GNU as; the
// text is x86asm's GNU syntax of the bytes) and give its class and its
// flow: sources, destinations, memory access [address] and the accesses
// the memory hooks report, rsp changes before/after the access, the
// symbolic value operation, zero idiom (indep), and noalu for a loaded
// value that needs no ALU.
var analysisCases = []struct {
	text, hex string
	class     InstClass
	flow      string
}{
	// mov: loads and stores need no ALU (noalu); a 64-bit register copy
	// and constants are tracked values; 8-bit writes merge (read the
	// old value).
	{"mov -0x8(%rbp),%rax", "48 8b 45 f8", ClassLoad, "src=- dst=rax load[rbp-0x8] acc=1 val=fresh noalu"},
	{"mov %rax,-0x8(%rbp)", "48 89 45 f8", ClassStore, "src=rax dst=- store[rbp-0x8] acc=1 val=none noalu"},
	{"mov %rsi,%rdi", "48 89 f7", ClassALU, "src=rsi dst=rdi val=copy noalu"},
	{"mov %esi,%edi", "89 f7", ClassALU, "src=rsi dst=rdi val=fresh noalu"},
	{"mov $0x10,%rax", "48 c7 c0 10 00 00 00", ClassALU, "src=- dst=rax val=const(0x10) noalu"},
	{"mov $-0x1,%ecx", "b9 ff ff ff ff", ClassALU, "src=- dst=rcx val=const(0xffffffff) noalu"},
	{"mov $0x510000000,%rcx", "48 b9 00 00 00 10 05 00 00 00", ClassALU, "src=- dst=rcx val=const(0x510000000) noalu"},
	{"mov %al,%cl", "88 c1", ClassALU, "src=rax,rcx dst=rcx val=fresh noalu"},
	{"movzbl (%rdi),%eax", "0f b6 07", ClassLoad, "src=- dst=rax load[rdi] acc=1 val=fresh noalu"},
	// Address registers are sources of the access, not of the value;
	// RIP-relative addresses are absolute.
	{"movsxd (%rsi,%rdx,4),%rdx", "48 63 14 96", ClassLoad, "src=- dst=rdx load[rsi+idx:rdx] acc=1 val=fresh noalu"},
	{"mov 0x10(%rip),%rax", "48 8b 05 10 00 00 00", ClassLoad, "src=- dst=rax load[0x500001017] acc=1 val=fresh noalu"},
	// lea reads its address registers; base+disp is a tracked value.
	{"lea 0x10(%rip),%rax", "48 8d 05 10 00 00 00", ClassLea, "src=- dst=rax addr[0x500001017] val=lea"},
	{"lea 0x8(%rsp),%rax", "48 8d 44 24 08", ClassLea, "src=rsp dst=rax addr[rsp+0x8] val=lea"},
	{"lea 0x3(%rdi,%rdi,2),%rax", "48 8d 44 7f 03", ClassLea, "src=rdi dst=rax addr[rdi+idx:rdi+0x3] val=fresh"},
	// The stack engine: rsp arithmetic is no dependency.
	{"add $0x30,%rsp", "48 83 c4 30", ClassALU, "src=- dst=flags rsp+0/+48 val=none"},
	{"sub $0x30,%rsp", "48 83 ec 30", ClassALU, "src=- dst=flags rsp+0/-48 val=none"},
	{"sub $0x8,%rax", "48 83 e8 08", ClassALU, "src=rax dst=rax,flags val=addimm(-0x8)"},
	{"add %rax,-0x10(%rbp)", "48 01 45 f0", ClassRMW, "src=rax dst=flags rmw[rbp-0x10] acc=2 val=none"},
	{"add -0x10(%rbp),%rax", "48 03 45 f0", ClassLoad, "src=rax dst=rax,flags load[rbp-0x10] acc=1 val=fresh"},
	{"inc %rax", "48 ff c0", ClassALU, "src=rax dst=rax,flags val=fresh"},
	{"decl -0x14(%rbp)", "ff 4d ec", ClassRMW, "src=- dst=flags rmw[rbp-0x14] acc=2 val=none"},
	// Zero idioms have no source dependency.
	{"xor %eax,%eax", "31 c0", ClassALU, "src=rax dst=rax,flags val=fresh indep"},
	{"sub %rcx,%rcx", "48 29 c9", ClassALU, "src=rcx dst=rcx,flags val=fresh indep"},
	// Compares write only the flags.
	{"cmp -0x20(%rbp),%rax", "48 3b 45 e0", ClassLoad, "src=rax dst=flags load[rbp-0x20] acc=1 val=none"},
	{"cmpq $0x0,0x8(%rsp)", "48 83 7c 24 08 00", ClassLoad, "src=- dst=flags load[rsp+0x8] acc=1 val=none"},
	{"test %rdi,%rdi", "48 85 ff", ClassALU, "src=rdi dst=flags val=none"},
	// push, pop, call and ret access the stack slot; call [m] reports its
	// target load and its push.
	{"push %rbp", "55", ClassStore, "src=rbp dst=- store[rsp] acc=1 rsp-8/+0 val=none"},
	{"pushq 0x8(%rax)", "ff 70 08", ClassRMW, "src=- dst=- rmw[rsp] acc=2 rsp-8/+0 val=none"},
	{"pop %rbp", "5d", ClassLoad, "src=- dst=rbp load[rsp] acc=1 rsp+0/+8 val=fresh noalu"},
	{"callq 0x500001005", "e8 00 00 00 00", ClassCall, "src=- dst=- store[rsp] acc=1 rsp-8/+0 val=none"},
	{"call *%rax", "ff d0", ClassIndCall, "src=rax dst=- store[rsp] acc=1 rsp-8/+0 val=none"},
	{"callq *0x8(%rax)", "ff 50 08", ClassIndCall, "src=rax dst=- store[rsp] acc=2 rsp-8/+0 val=none"},
	{"retq", "c3", ClassRet, "src=- dst=- load[rsp] acc=1 rsp+0/+8 val=none noalu"},
	// Jumps: jmp [m] loads its target.
	{"jmp 0x500001002", "eb 00", ClassJump, "src=- dst=- val=none"},
	{"jmp *%rdx", "ff e2", ClassIndJump, "src=rdx dst=- val=none"},
	{"jmpq *0x10(%rax,%rcx,8)", "ff 64 c8 10", ClassIndJump, "src=- dst=- load[rax+idx:rcx+0x10] acc=1 val=none"},
	{"jne 0x500001002", "75 00", ClassCondBranch, "src=flags dst=- val=none"},
	{"jrcxz 0x500001002", "e3 00", ClassCondBranch, "src=flags,rcx dst=- val=none"},
	// nop ignores its memory operand.
	{"nop", "90", ClassALU, "src=- dst=- val=none"},
	{"nopl (%rax)", "0f 1f 00", ClassALU, "src=- dst=- addr[rax] val=none"},
	// Multiplies and divides: the one-operand forms use rdx:rax (at most
	// two destinations are kept).
	{"imul $0x7,%rax,%rax", "48 6b c0 07", ClassMul, "src=rax dst=rax,flags val=fresh"},
	{"imul %rcx,%rax", "48 0f af c1", ClassMul, "src=rax,rcx dst=rax,flags val=fresh"},
	{"mul %rcx", "48 f7 e1", ClassMul, "src=rcx,rax,rdx dst=rax,rdx val=fresh"},
	{"divq (%rsi)", "48 f7 36", ClassDiv, "src=rax,rdx dst=rax,rdx load[rsi] acc=1 val=fresh"},
	{"cqto", "48 99", ClassALU, "src=rax dst=rdx val=fresh"},
	{"cdqe", "48 98", ClassALU, "src=rax dst=rax val=fresh"},
	{"pushfq", "9c", ClassPushf, "src=flags dst=- store[rsp] acc=1 rsp-8/+0 val=none"},
	{"popfq", "9d", ClassPopf, "src=- dst=flags load[rsp] acc=1 rsp+0/+8 val=none"},
	// Locked and string operations are not reported by the memory hooks;
	// 16-byte vector accesses are reported as two.
	{"xchg %r8,%r9", "4d 87 c1", ClassALU, "src=r9,r8 dst=r9,r8 val=fresh"},
	{"lock xadd %eax,0xc(%rbx)", "f0 0f c1 43 0c", ClassLocked, "src=rax dst=flags rmw[rbx+0xc] acc=0 val=none"},
	{"lock cmpxchg %ecx,0x10(%rbx)", "f0 0f b1 4b 10", ClassLocked, "src=rcx dst=flags rmw[rbx+0x10] acc=0 val=none"},
	{"xchg %rax,(%rdi)", "48 87 07", ClassLocked, "src=rax dst=rax rmw[rdi] acc=0 val=fresh"},
	{"movdqu (%rsp),%xmm0", "f3 0f 6f 04 24", ClassXMM, "src=- dst=- load[rsp] acc=2 val=fresh"},
	{"movdqu %xmm1,0x10(%rsp)", "f3 0f 7f 4c 24 10", ClassXMM, "src=- dst=- rmw[rsp+0x10] acc=2 val=none"},
	{"movq %xmm0,%rax", "66 48 0f 7e c0", ClassXMM, "src=rax dst=- val=fresh"},
	// Instructions that read the flags.
	{"sete %al", "0f 94 c0", ClassALU, "src=flags,rax dst=rax,flags val=fresh"},
	{"setne (%rdi)", "0f 95 07", ClassStore, "src=flags dst=flags store[rdi] acc=1 val=none"},
	{"cmovl %rcx,%rax", "48 0f 4c c1", ClassALU, "src=flags,rax,rcx dst=rax,flags val=fresh"},
	{"adc $0x0,%rdx", "48 83 d2 00", ClassALU, "src=flags,rdx dst=rdx,flags val=fresh"},
	{"movsb %ds:(%rsi),%es:(%rdi)", "a4", ClassString, "src=- dst=flags load[rsi] acc=0 val=fresh"},
	{"rep stos %rax,%es:(%rdi)", "f3 48 ab", ClassString, "src=rax dst=flags rmw[rdi] acc=0 val=none"},
	{"shl $0xd,%rdx", "48 c1 e2 0d", ClassALU, "src=rdx dst=rdx,flags val=fresh"},
	// Any other instruction writes its first operand and the flags.
	{"ud2", "0f 0b", ClassOther, "src=- dst=flags val=fresh"},
	{"mfence", "0f ae f0", ClassFence, "src=- dst=flags val=fresh"},
	// The machine-state instructions of the patchpoint helper's context
	// capture and restore.
	{"fxsave 0x100(%rcx)", "0f ae 81 00 01 00 00", ClassFxsave, "src=- dst=- store[rcx+0x100] acc=1 val=none"},
	{"fxrstor 0x100(%r10)", "41 0f ae 8a 00 01 00 00", ClassFxrstor, "src=- dst=- load[r10+0x100] acc=1 val=none"},
	{"mov %cs,0x38(%rcx)", "8c 49 38", ClassSegRead, "src=- dst=- store[rcx+0x38] acc=1 val=none noalu"},
	{"mov %ss,%eax", "8c d0", ClassSegRead, "src=- dst=rax val=fresh noalu"},
	{"fnstcw 0x100(%rcx)", "d9 b9 00 01 00 00", ClassFPCtrl, "src=- dst=- store[rcx+0x100] acc=1 val=none"},
	{"stmxcsr 0x34(%rcx)", "0f ae 59 34", ClassFPCtrl, "src=- dst=- store[rcx+0x34] acc=1 val=none"},
	{"ldmxcsr 0x8(%rsp)", "0f ae 54 24 08", ClassFPCtrl, "src=- dst=- load[rsp+0x8] acc=1 val=none"},
	// A vector index (VSIB) is not tracked: the access is keyed by its base.
	{"vpgatherdq %ymm2,0x8(%rbp,%xmm7,2),%ymm1", "c4 e2 ed 90 4c 7d 08", ClassLoad, "src=- dst=flags load[rbp+0x8] acc=1 val=fresh"},
}

func TestAnalyze(t *testing.T) {
	for _, c := range analysisCases {
		b, err := hex.DecodeString(strings.ReplaceAll(c.hex, " ", ""))
		if err != nil {
			t.Fatalf("%s: %v", c.text, err)
		}
		in, err := x86asm.Decode(b, 64)
		if err != nil || in.Len != len(b) {
			t.Fatalf("%s: % x decodes to %v (%d bytes), %v", c.text, b, in, in.Len, err)
		}
		if got := x86asm.GNUSyntax(in, analysisPC, nil); got != c.text {
			t.Errorf("% x is %q, not %q", b, got, c.text)
			continue
		}
		cl, _ := classify(in)
		if cl != c.class {
			t.Errorf("%s: class %s, want %s", c.text, cl, c.class)
		}
		if got := analyze(in, analysisPC, cl).String(); got != c.flow {
			t.Errorf("%s:\n got %s\nwant %s", c.text, got, c.flow)
		}
	}
}

// A memory operand whose base is no general-purpose register cannot come
// out of the decoder: the analysis stops instead of guessing.
func TestAnalyzeBadBaseIsABug(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.HasPrefix(r.(string), "BUG: ") {
			t.Fatalf("recovered %v, want a BUG panic", r)
		}
	}()
	in := x86asm.Inst{Op: x86asm.MOV, Len: 3, Args: x86asm.Args{x86asm.RAX, x86asm.Mem{Base: x86asm.X0}}}
	analyze(in, analysisPC, ClassLoad)
}
