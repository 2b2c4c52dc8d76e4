package patchpoint

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	. "github.com/osrsim/osrsim/emitter"
	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/link"
	"github.com/osrsim/osrsim/sim/unicorn"
	"github.com/osrsim/osrsim/winunwind"
)

// The generated virtual_unwind is checked against winunwind, the Go
// reference, and against the truth (the caller's registers before the call)
// for small functions that use every unwind operation the emitter supports,
// stopped at every instruction of their prologs and bodies. Across the
// table, every instruction of virtual_unwind must run.

// How a table function is entered.
type entryKind uint8

const (
	called       entryKind = iota // by a call: the return address at [RSP]
	machFrame                     // by an interrupt: a machine frame at [RSP]
	machFrameErr                  // the same after an error code
)

type unwindCase struct {
	name  string
	entry entryKind
	// prolog emits the prolog with its unwind codes (EndProlog included).
	prolog func(b *Builder)
	// clobber are the callee-saved registers the prolog saves and the
	// body overwrites, so that only the unwind codes can bring them back
	// (not the frame register: the unwind needs its value).
	clobber  []Reg
	xclobber []XReg
	// dynamic is what the body subtracts from RSP (alloca-like); only
	// functions with a frame register can be unwound after it.
	dynamic int32
	// info replaces the emitted UNWIND_INFO (for a record the generated
	// unwinder must refuse).
	info []byte
	// body emits instructions the unwinder must not take for an epilog
	// (other encodings that start like one); epilog, when set, ends the
	// function in an epilog instead of ud2.
	body, epilog func(b *Builder)
	// inherit and inheritAlloc describe a frame a called function built
	// before jumping here, as tier0 does below an OSR method: it pushed
	// these registers, then allocated inheritAlloc bytes, and left other
	// values in them. Phantom codes at offset 0 describe it.
	inherit      []Reg
	inheritAlloc int32
}

var calleeSaved = []Reg{RBX, RBP, RSI, RDI, R12, R13, R14, R15}

// lookalikes are body instructions whose first bytes lead the epilog
// check down each of its ways out: REX.W forms that are not an
// adjustment, lea of other registers, a short jump within the function,
// REX prefixes without a pop, F3 and FF without a return or an import
// jump, REX.W FF without a jump.
func lookalikes(b *Builder) {
	next := b.NewLabel("")
	b.Lea(RAX, M(RAX, 8)) // lea with register 0
	b.Lea(RCX, M(RSP, 8)) // lea of another register than the frame's
	b.Mov(S64, RAX, RBX)  // REX.W, then neither an add nor a lea
	b.Jmp(next)           // jmp rel8 within the function
	b.Bind(next)
	b.Inc(S64, RAX)            // REX.W FF, not a jump
	b.Inc(S32, M(RSP, 0))      // FF, not jmp [rip+disp]
	b.Pause()                  // F3, not rep ret
	b.Mov(S64, R8, Imm(1))     // REX, not a pop
	b.Mov(S32, RAX, Imm(1))    // neither REX nor a pop
	b.Add(S64, RSP, Imm(0))    // add rsp, 0: an adjustment...
	b.Mov(S32, RDX, Imm(0x77)) // ...followed by no return
}

// farJump is a rel32 jump within the function (to a symbol: only jumps
// to labels are relaxed to rel8), to the next instruction.
func farJump(b *Builder) {
	const next = "rig.far_jump_target"
	b.Jmp(Sym(next))
	b.BeginRange(next)
	b.Nop(1)
	b.EndRange()
}

var unwindCases = []unwindCase{
	{name: "push-all", prolog: func(b *Builder) {
		for _, r := range calleeSaved {
			b.PushNonvol(r)
		}
		b.AllocStack(0x28) // ALLOC_SMALL
		b.EndProlog()
	}, clobber: calleeSaved},
	{name: "alloc-small-max", prolog: func(b *Builder) {
		b.PushNonvol(RBX)
		b.AllocStack(UnwindMaxSmallAlloc)
		b.EndProlog()
	}, clobber: []Reg{RBX}},
	{name: "alloc-large16-max", prolog: func(b *Builder) {
		b.PushNonvol(R12)
		b.AllocStack(UnwindMaxLargeAllocU16) // ALLOC_LARGE with a 16-bit size/8
		b.EndProlog()
	}, clobber: []Reg{R12}},
	{name: "alloc-large32-save-far", prolog: func(b *Builder) {
		b.PushNonvol(RBX)
		b.AllocStack(UnwindMaxLargeAllocU16 + 0x10) // ALLOC_LARGE with a 32-bit size
		b.SaveNonvol(RSI, 0x80000)                  // SAVE_NONVOL_FAR: offset/8 > 0xffff
		b.SaveNonvol(RDI, 0xffff*8)                 // SAVE_NONVOL at its largest offset
		b.EndProlog()
	}, clobber: []Reg{RBX, RSI, RDI}},
	{name: "save-xmm", prolog: func(b *Builder) {
		b.PushNonvol(RBP)
		b.AllocStack(0x60)
		b.SaveXMM128(X6, 0)
		b.SaveXMM128(X15, 0x50)
		b.SaveNonvol(RBX, 0x18)
		b.EndProlog()
	}, clobber: []Reg{RBP, RBX}, xclobber: []XReg{X6, X15}},
	{name: "save-xmm-far", prolog: func(b *Builder) {
		b.PushNonvol(RBX)
		b.AllocStack(0x100010)
		b.SaveXMM128(X7, 0x100000) // SAVE_XMM128_FAR: offset/16 > 0xffff
		b.SaveXMM128(X8, 0xffff*16)
		b.EndProlog()
	}, clobber: []Reg{RBX}, xclobber: []XReg{X7, X8}},
	{name: "frame-first", prolog: func(b *Builder) { // mov rbp, rsp before the pushes
		b.PushNonvol(RBP)
		b.SetFramePointer(RBP, 0)
		b.PushNonvol(RBX)
		b.PushNonvol(RSI)
		b.AllocStack(0x28)
		b.EndProlog()
	}, clobber: []Reg{RBX, RSI}},
	{name: "frame-dynamic", prolog: func(b *Builder) { // frame pointer, then MOV saves
		b.PushNonvol(RBP)
		b.PushNonvol(RBX)
		b.AllocStack(0x58)
		b.SetFramePointer(RBP, 0x30)
		b.SaveNonvol(RSI, 0x40)
		b.SaveXMM128(X9, 0x20)
		b.EndProlog()
	}, clobber: []Reg{RBX, RSI}, xclobber: []XReg{X9}, dynamic: 0x40},
	{name: "save-then-frame", prolog: func(b *Builder) {
		b.PushNonvol(RBP)
		b.AllocStack(0x40)
		b.SaveNonvol(R13, 0x8)
		b.SaveNonvol(R14, 0x10)
		b.SetFramePointer(RBP, 0x20)
		b.EndProlog()
	}, clobber: []Reg{R13, R14}, dynamic: 0x20},
	{name: "machframe", entry: machFrame, prolog: func(b *Builder) {
		b.UnwindRecord(UwopPushMachframe, 0, 0)
		b.PushNonvol(RBX)
		b.AllocStack(0x20)
		b.EndProlog()
	}, clobber: []Reg{RBX}},
	{name: "machframe-error-code", entry: machFrameErr, prolog: func(b *Builder) {
		b.UnwindRecord(UwopPushMachframe, 1, 0)
		b.PushNonvol(RBP)
		b.SetFramePointer(RBP, 0)
		b.AllocStack(0x10)
		b.EndProlog()
	}, dynamic: 0x30},
	{name: "phantom-frame", inherit: []Reg{RBP, RBX}, inheritAlloc: 0x20, prolog: func(b *Builder) {
		b.UnwindRecord(UwopPushNonvol, uint8(RBP), 0)
		b.UnwindRecord(UwopPushNonvol, uint8(RBX), 0)
		b.UnwindRecord(UwopAllocSmall, (0x20-8)/8, 0)
		b.PushNonvol(RSI)
		b.AllocStack(0x20)
		b.SaveNonvol(R12, 0x20+8+0x18) // into the inherited frame's top slot
		b.EndProlog()
	}, clobber: []Reg{RBX, RSI, R12}},
	// Frame registers set before more prolog codes: the establisher's
	// scan for SET_FPREG steps over ALLOC_LARGE (both sizes) and the FAR
	// saves.
	{name: "frame-then-large16", prolog: func(b *Builder) {
		b.PushNonvol(RBP)
		b.SetFramePointer(RBP, 0)
		b.PushNonvol(RBX)
		b.AllocStack(0x1000)
		b.EndProlog()
	}, clobber: []Reg{RBX}},
	{name: "frame-then-large32", prolog: func(b *Builder) {
		b.PushNonvol(RBP)
		b.SetFramePointer(RBP, 0)
		b.AllocStack(UnwindMaxLargeAllocU16 + 0x10)
		b.EndProlog()
	}},
	{name: "frame-far-saves", prolog: func(b *Builder) {
		b.PushNonvol(RBP)
		b.AllocStack(0x100020)
		b.SetFramePointer(RBP, 0x10)
		b.SaveNonvol(RSI, 0x80000)
		b.SaveXMM128(X9, 0x100000)
		b.EndProlog()
	}, clobber: []Reg{RSI}, xclobber: []XReg{X9}},
	// Epilogs (RtlVirtualUnwind emulates them from the bytes at the IP),
	// and bodies whose bytes begin like one but are not.
	{name: "epilog-add8", prolog: func(b *Builder) {
		b.PushNonvol(RBX)
		b.PushNonvol(R12)
		b.AllocStack(0x28)
		b.EndProlog()
	}, clobber: []Reg{RBX, R12}, body: lookalikes, epilog: func(b *Builder) {
		b.Add(S64, RSP, Imm(0x28))
		b.Pop(R12)
		b.Pop(RBX)
		b.Ret()
	}},
	{name: "epilog-add32-ret-imm", prolog: func(b *Builder) {
		b.PushNonvol(RBX)
		b.AllocStack(0x400)
		b.EndProlog()
	}, clobber: []Reg{RBX}, body: farJump, epilog: func(b *Builder) {
		b.Add(S64, RSP, Imm(0x400))
		b.Pop(RBX)
		b.RetImm(0x10)
	}},
	{name: "epilog-lea8", prolog: func(b *Builder) {
		b.PushNonvol(RBP)
		b.PushNonvol(RBX)
		b.AllocStack(0x40)
		b.SetFramePointer(RBP, 0x20)
		b.EndProlog()
	}, clobber: []Reg{RBX}, dynamic: 0x30, body: func(b *Builder) {
		b.Lea(RCX, M(RBP, 8)) // the frame register, but not lea rsp's form
		b.Lea(RCX, M(RSP, 8)) // another register
	}, epilog: func(b *Builder) {
		b.Lea(RSP, M(RBP, 0x20))
		b.Pop(RBX)
		b.Pop(RBP)
		b.Ret()
	}},
	{name: "epilog-lea32-rep-ret", prolog: func(b *Builder) {
		b.PushNonvol(RBP)
		b.PushNonvol(RSI)
		b.AllocStack(0x200)
		b.SetFramePointer(RBP, 0x10)
		b.EndProlog()
	}, clobber: []Reg{RSI}, dynamic: 0x20, epilog: func(b *Builder) {
		b.Lea(RSP, M(RBP, 0x1F0))
		b.Pop(RSI)
		b.Pop(RBP)
		b.RepRet()
	}},
	{name: "epilog-rex-pops-bnd-ret", prolog: func(b *Builder) {
		b.PushNonvol(R13)
		b.PushNonvol(R14)
		b.AllocStack(0x18)
		b.EndProlog()
	}, clobber: []Reg{R13, R14}, epilog: func(b *Builder) {
		b.Add(S64, RSP, Imm(0x18))
		b.Pop(R14)
		b.Pop(R13)
		b.BndRet()
	}},
	{name: "epilog-tail-jmp", prolog: func(b *Builder) {
		b.PushNonvol(RBX)
		b.AllocStack(0x20)
		b.EndProlog()
	}, clobber: []Reg{RBX}, epilog: func(b *Builder) {
		b.Add(S64, RSP, Imm(0x20))
		b.Pop(RBX)
		b.Jmp(Sym(rigDump)) // rel32, out of the function
	}},
	{name: "epilog-tail-import", prolog: func(b *Builder) {
		b.PushNonvol(RSI)
		b.AllocStack(0x10)
		b.EndProlog()
	}, clobber: []Reg{RSI}, epilog: func(b *Builder) {
		b.Add(S64, RSP, Imm(0x10))
		b.Pop(RSI)
		b.Jmp(RIPSym(rigTarget)) // jmp [rip+disp32]
	}},
	{name: "epilog-tail-rexw", prolog: func(b *Builder) {
		b.PushNonvol(RDI)
		b.EndProlog()
	}, clobber: []Reg{RDI}, epilog: func(b *Builder) {
		b.Pop(RDI)
		b.TailJmp(RAX)
	}},
	// UWOP_EPILOG (6) exists only in version 2: the generated unwinder
	// stops at its ud2, the reference refuses the record.
	{name: "unknown-code", prolog: func(b *Builder) {
		b.PushNonvol(RBX)
		b.EndProlog()
	}, clobber: []Reg{RBX}, info: []byte{UnwindInfoVersion, 1, 1, 0, 0, byte(6), 0, 0}},
}

// Addresses and symbols of the test image.
const (
	rigMain      = "rig.main"     // runs virtual_unwind on the input (second machine)
	rigSetup     = "rig.setup"    // loads the XMM registers, jumps to the case (first machine)
	rigDump      = "rig.dump"     // stores the XMM registers (first machine)
	rigDumpEnd   = "rig.dump_end" // label
	rigTarget    = "rig.target"   // data: address setup jumps to
	rigXMMInit   = "rig.xmm_init" // data: initial XMM values
	rigXMMDump   = "rig.xmm_dump" // data: XMM values at the stop
	rigClobber   = "rig.clobber"  // data: what the bodies write into saved XMMs
	rigCtx       = "rig.ctx"      // data: the context virtual_unwind works on
	rigPdata     = "rig.pdata"    // data: a RUNTIME_FUNCTION per table function
	rigImageBase = "rig.entry"    // what the RVAs are relative to
	rigStackSize = 0x10000        // the second machine's own stack
	framesBase   = sim.HeapBase   // the table functions' stack
	framesSize   = 0x200000       // room for the 1 MiB frames
	inputBase    = sim.HeapBase + 0x0100_0000
	inputSize    = sim.PageSize
	// The caller of a table function, as the unwind must find it.
	callerRIP = 0x0000_7777_1234_5670
	callerRSP = framesBase + framesSize - 0x100 // RSP before the call
	// A machine frame's interrupted RIP and RSP.
	frameRIP = 0x0000_6666_0000_1230
	frameRSP = 0x0000_6666_0000_8000
)

func caseSym(name string) string { return "case." + name }

// Initial register values: distinct, so a value restored from the wrong
// slot or register shows.
func initialGPR(r Reg) uint64 { return 0xA5A5_0000_0000_0000 | uint64(r)<<32 | 0x1111*uint64(r+1) }
func initialXMM(x int) (v [16]byte) {
	for i := range v {
		v[i] = byte(0x10*x + i)
	}
	return v
}

// emitRig emits the test program; funcs are the table functions' sizes
// and unwind records from a first pass (nil on the first pass).
func emitRig(funcs []Func) (*Object, error) {
	p := NewProgram()
	code, data := p.Section(link.Code), p.Section(link.Data)
	code.DeclareSteps(Steps(WindowsX64)...)
	link.Entry(code, rigImageBase, rigMain, sim.StackBase+rigStackSize)

	// main: copy the input context (the input page is read-only, so the
	// reset of writable memory before each run keeps it), then
	// virtual_unwind(ctx, image base, function entry).
	copyLoop := p.NewLabel("rig.copy")
	code.Func(rigMain)
	code.AllocStack(8) // RSP 16-aligned at the call
	code.EndProlog()
	code.MovImm64(RSI, inputBase)
	code.Lea(RCX, RIPSym(rigCtx))
	code.Xor(S32, RAX, RAX)
	code.Bind(copyLoop)
	code.Movdqu(X0, MIdx(RSI, RAX, 1, 0))
	code.Movdqu(MIdx(RCX, RAX, 1, 0), X0)
	code.Add(S32, RAX, Imm(16))
	code.Cmp(S32, RAX, Imm(ContextSize))
	code.Jcc(CondB, copyLoop)
	code.Mov(S64, RDX, M(RSI, ContextSize))
	code.Mov(S64, R8, M(RSI, ContextSize+8))
	code.Call(Sym(SymVirtualUnwind))
	code.Add(S64, RSP, Imm(8))
	code.Ret()
	code.EndFunc()

	// setup and dump touch only XMM registers and memory, so the GPRs
	// are exactly what the test writes and reads.
	code.Func(rigSetup)
	code.EndProlog()
	for x := range 16 {
		code.Movdqu(XReg(x), RIPSym(rigXMMInit).Off(int32(16*x)))
	}
	code.Jmp(RIPSym(rigTarget))
	code.EndFunc()
	code.Func(rigDump)
	code.EndProlog()
	for x := range 16 {
		code.Movdqu(RIPSym(rigXMMDump).Off(int32(16*x)), XReg(x))
	}
	code.Bind(p.NewLabel(rigDumpEnd))
	code.Ud2()
	code.EndFunc()

	for _, c := range unwindCases {
		code.Func(caseSym(c.name))
		c.prolog(code)
		if c.dynamic > 0 {
			code.Sub(S64, RSP, Imm(c.dynamic))
		}
		for i, r := range c.clobber {
			code.Mov(S64, r, Imm(-0x1000-int64(i)))
		}
		for _, x := range c.xclobber {
			code.Movdqu(x, RIPSym(rigClobber))
		}
		if c.body != nil {
			c.body(code)
		}
		if c.epilog != nil {
			c.epilog(code) // its last instruction never runs: every stop is before it
		} else {
			code.Ud2() // never reached: every stop is before it
		}
		code.EndFunc()
	}
	emitVirtualUnwind(code)

	link.EmitZero(data)
	data.Align(16, 0)
	data.DefineSymbol(rigXMMInit)
	for x := range 16 {
		v := initialXMM(x)
		data.Bytes(v[:])
	}
	data.EndSymbol(rigXMMInit)
	for _, s := range []struct {
		name string
		size int
	}{{rigXMMDump, 16 * 16}, {rigCtx, ContextSize}, {rigTarget, 16}} {
		data.DefineSymbol(s.name)
		data.Space(s.size)
		data.EndSymbol(s.name)
	}
	data.DefineSymbol(rigClobber)
	data.Bytes(bytes.Repeat([]byte{0xEE}, 16))
	data.EndSymbol(rigClobber)
	// The table functions' RUNTIME_FUNCTIONs, RVAs from the image base
	// (the entry stub, at the start of the code), and unwind records.
	data.Align(4, 0)
	data.DefineSymbol(rigPdata)
	for _, f := range funcs {
		data.U32RVA(f.Name, 0, rigImageBase)
		data.U32RVA(f.Name, int64(f.Size), rigImageBase)
		data.U32RVA(UnwindSym(f.Name), 0, rigImageBase)
	}
	data.EndSymbol(rigPdata)
	for _, f := range funcs {
		data.Align(4, 0)
		data.DefineSymbol(UnwindSym(f.Name))
		data.Bytes(f.Unwind)
		data.EndSymbol(UnwindSym(f.Name))
	}
	return p.Finish()
}

// unwindRig runs the table: a machine of the first image runs a table
// function to a stop, the second runs virtual_unwind on what it saw.
type unwindRig struct {
	obj      *Object
	l        *Linked
	funcs    []Func
	im1, im2 *sim.Image // the frames region is writable in the first only
	second   *unicorn.Machine
	perInst  []uint64 // executions of each instruction of the second image
}

func newUnwindRig(t *testing.T) *unwindRig {
	t.Helper()
	obj, err := emitRig(nil)
	if err != nil {
		t.Fatal(err)
	}
	var funcs []Func
	for _, u := range obj.Section(link.Code).Unwind {
		name, ok := strings.CutPrefix(u.Name, "case.")
		if !ok {
			continue
		}
		f := Func{Name: u.Name, Size: u.End - u.Start, Unwind: u.Info}
		for _, c := range unwindCases {
			if c.name == name && c.info != nil {
				f.Unwind = c.info
			}
		}
		funcs = append(funcs, f)
	}
	if obj, err = emitRig(funcs); err != nil {
		t.Fatal(err)
	}
	r := &unwindRig{obj: obj, funcs: funcs}
	images := [2]*sim.Image{}
	for i, framesPerm := range []sim.Perm{sim.PermR | sim.PermW, sim.PermR} {
		im, l, err := link.Image(obj, link.Layout{Entry: rigImageBase, StackSize: rigStackSize})
		if err != nil {
			t.Fatal(err)
		}
		im.Regions = append(im.Regions,
			sim.Region{Name: "frames", Base: framesBase, Size: framesSize, Perm: framesPerm},
			sim.Region{Name: "input", Base: inputBase, Size: inputSize, Perm: sim.PermR})
		images[i], r.l = im, l
	}
	r.im1, r.im2 = images[0], images[1]
	if r.second, err = unicorn.New(images[1], unicorn.Options{PerInstruction: true}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.second.Close() })
	r.perInst = make([]uint64, len(images[1].InstStarts))
	return r
}

// stop is a table function stopped at one instruction.
type stop struct {
	ctx      winunwind.Context
	stack    winunwind.Stack // from RSP to the top of the frames region
	rip, rsp uint64          // the caller's, as the unwind must find them
}

// runTo enters the function at begin as c.entry says, with every register
// at its initial value, and stops before the instruction at pc.
//
// Each stop gets a fresh machine: a machine that ran to another stop
// address can keep a translated block that stops there (unicorn#2341), and
// flushing them costs ten times more than a new machine.
func (r *unwindRig) runTo(c unwindCase, begin, pc uint64) (stop, error) {
	m, err := unicorn.New(r.im1, unicorn.Options{})
	if err != nil {
		return stop{}, err
	}
	defer m.Close()
	e := m.Engine()
	for _, reg := range r.im1.Regions { // Run would do this; this machine is driven by hand
		if err := e.MemWrite(reg.Base, reg.Init); err != nil {
			return stop{}, err
		}
	}
	var regs [16]uint64
	for reg := range regs {
		regs[reg] = initialGPR(Reg(reg))
	}
	var caller []byte // what the caller leaves at the entry RSP, from the top down
	st := stop{rip: callerRIP, rsp: callerRSP}
	if c.entry == called {
		caller = binary.LittleEndian.AppendUint64(caller, callerRIP)
		for _, reg := range c.inherit {
			caller = binary.LittleEndian.AppendUint64(caller, regs[reg])
			regs[reg] = 0xBAD0 + uint64(reg) // what the inherited frame's function left there
		}
		caller = append(caller, make([]byte, c.inheritAlloc)...)
	} else {
		for _, v := range []uint64{0x2B, frameRSP, 0x202, 0x33, frameRIP} { // SS RSP RFLAGS CS RIP
			caller = binary.LittleEndian.AppendUint64(caller, v)
		}
		if c.entry == machFrameErr {
			caller = binary.LittleEndian.AppendUint64(caller, 0xE) // error code
		}
		st.rip, st.rsp = frameRIP, frameRSP
	}
	regs[RSP] = callerRSP - uint64(len(caller))
	for i := 0; i < len(caller); i += 8 { // the first word is the highest
		if err := e.MemWrite(callerRSP-8-uint64(i), caller[i:i+8]); err != nil {
			return st, err
		}
	}
	if err := e.MemWrite(r.l.Symbols[rigTarget], binary.LittleEndian.AppendUint64(nil, begin)); err != nil {
		return st, err
	}
	if err := e.RegWriteBatch(unicorn.GPRs[:], regs[:]); err != nil {
		return st, err
	}
	if err := e.Start(r.l.Symbols[rigSetup], pc, 0); err != nil {
		return st, fmt.Errorf("run to %#x: %w", pc, err)
	}
	at, err := e.Snapshot()
	if err != nil {
		return st, err
	}
	if at.RIP != pc {
		return st, fmt.Errorf("stopped at %#x, want %#x", at.RIP, pc)
	}
	if err := e.Start(r.l.Symbols[rigDump], r.l.Labels[rigDumpEnd], 0); err != nil {
		return st, fmt.Errorf("dump: %w", err)
	}
	var xmm [16 * 16]byte
	if err := e.MemRead(r.l.Symbols[rigXMMDump], xmm[:]); err != nil {
		return st, err
	}
	st.ctx.GPR, st.ctx.RIP = at.GPR, pc
	for x := range st.ctx.XMM {
		copy(st.ctx.XMM[x][:], xmm[16*x:])
	}
	st.stack.Base = at.GPR[RSP]
	st.stack.Bytes = make([]byte, framesBase+framesSize-at.GPR[RSP])
	return st, e.MemRead(st.stack.Base, st.stack.Bytes)
}

// generated runs virtual_unwind on s with the function entry at entry.
func (r *unwindRig) generated(s stop, entry uint64) (winunwind.Context, error) {
	e := r.second.Engine()
	var in bytes.Buffer
	ctx := Context{GPR: s.ctx.GPR, RIP: s.ctx.RIP}
	ctx.FltSave.XMM = s.ctx.XMM
	binary.Write(&in, binary.LittleEndian, &ctx)
	binary.Write(&in, binary.LittleEndian, r.l.Symbols[rigImageBase])
	binary.Write(&in, binary.LittleEndian, entry)
	if err := e.MemWrite(inputBase, in.Bytes()); err != nil {
		return winunwind.Context{}, err
	}
	if err := e.MemWrite(s.stack.Base, s.stack.Bytes); err != nil {
		return winunwind.Context{}, err
	}
	res, err := r.second.Run()
	if err != nil {
		return winunwind.Context{}, err
	}
	for i, n := range res.Counts.PerInst {
		r.perInst[i] += n
	}
	out := make([]byte, ContextSize)
	if err := e.MemRead(r.l.Symbols[rigCtx], out); err != nil {
		return winunwind.Context{}, err
	}
	if err := binary.Read(bytes.NewReader(out), binary.LittleEndian, &ctx); err != nil {
		return winunwind.Context{}, err
	}
	return winunwind.Context{GPR: ctx.GPR, RIP: ctx.RIP, XMM: ctx.FltSave.XMM}, nil
}

func TestGeneratedUnwinderAgainstReference(t *testing.T) {
	r := newUnwindRig(t)
	code := r.obj.Section(link.Code)
	table := r.l.Symbols[rigPdata]
	ud2 := uint64(0) // virtual_unwind's "unknown code" stop, once seen
	stops := 0
	for i, f := range r.funcs {
		c := unwindCases[i]
		begin, end := r.l.Symbols[f.Name], r.l.SymbolEnds[f.Name]
		entry := table + uint64(i)*RuntimeFunctionSize
		for _, in := range code.Insts {
			pc := sim.CodeBase + uint64(in.Off)
			if pc < begin || pc >= end {
				continue
			}
			stops++
			where := fmt.Sprintf("%s+%#x", c.name, pc-begin)
			s, err := r.runTo(c, begin, pc)
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			ref := s.ctx
			_, _, refErr := winunwind.VirtualUnwind(&ref, winunwind.Function{Begin: begin, End: end, Info: f.Unwind}, s.stack, r.codeMem())
			gen, genErr := r.generated(s, entry)
			if c.info != nil { // a record the unwinders must refuse
				var fault *unicorn.Fault
				if refErr == nil || !errors.As(genErr, &fault) || fault.Kind != unicorn.FaultInvalidInsn {
					t.Fatalf("%s: reference %v, generated %v; want both to refuse", where, refErr, genErr)
				}
				ud2 = fault.PC
				continue
			}
			if refErr != nil || genErr != nil {
				t.Fatalf("%s: reference %v, generated %v", where, refErr, genErr)
			}
			if gen != ref {
				t.Errorf("%s: generated and reference unwinders differ:\n%s", where, ctxDiff(gen, ref))
			}
			if err := s.checkCaller(ref); err != nil {
				t.Errorf("%s: %v", where, err)
			}
		}
	}
	t.Logf("%d stops in %d functions", stops, len(r.funcs))
	r.checkCoverage(t, ud2)
}

// codeMem is the rig's code, where the reference reads the bytes at the IP.
func (r *unwindRig) codeMem() winunwind.Stack {
	return winunwind.Stack{Base: r.l.Bases[link.Code], Bytes: r.l.Bytes[link.Code]}
}

// checkCaller compares an unwound context with the caller's registers.
func (s stop) checkCaller(got winunwind.Context) error {
	var errs []error
	if got.RIP != s.rip || got.GPR[RSP] != s.rsp {
		errs = append(errs, fmt.Errorf("caller RIP %#x RSP %#x, want %#x %#x", got.RIP, got.GPR[RSP], s.rip, s.rsp))
	}
	for _, reg := range calleeSaved {
		if got.GPR[reg] != initialGPR(reg) {
			errs = append(errs, fmt.Errorf("%v = %#x, want %#x", reg, got.GPR[reg], initialGPR(reg)))
		}
	}
	for x := 6; x < 16; x++ { // XMM6-15 are callee-saved on Windows
		if got.XMM[x] != initialXMM(x) {
			errs = append(errs, fmt.Errorf("xmm%d = % x, want % x", x, got.XMM[x], initialXMM(x)))
		}
	}
	return errors.Join(errs...)
}

func ctxDiff(a, b winunwind.Context) string {
	var s strings.Builder
	if a.RIP != b.RIP {
		fmt.Fprintf(&s, "  rip %#x / %#x\n", a.RIP, b.RIP)
	}
	for r := range a.GPR {
		if a.GPR[r] != b.GPR[r] {
			fmt.Fprintf(&s, "  %v %#x / %#x\n", Reg(r), a.GPR[r], b.GPR[r])
		}
	}
	for x := range a.XMM {
		if a.XMM[x] != b.XMM[x] {
			fmt.Fprintf(&s, "  xmm%d % x / % x\n", x, a.XMM[x], b.XMM[x])
		}
	}
	return s.String()
}

// checkCoverage requires every instruction of virtual_unwind to have run:
// counted by the second machine, or, for the ud2 that ends an unknown code,
// seen as the fault.
func (r *unwindRig) checkCoverage(t *testing.T, ud2 uint64) {
	begin, end := r.l.Symbols[SymVirtualUnwind], r.l.SymbolEnds[SymVirtualUnwind]
	labels := map[uint64]string{}
	for name, a := range r.l.Labels {
		if strings.HasPrefix(name, "unwind.") {
			labels[a] = name
		}
	}
	n, missed, label := 0, 0, SymVirtualUnwind
	for i, pc := range r.im2.InstStarts {
		if pc < begin || pc >= end {
			continue
		}
		if l, ok := labels[pc]; ok {
			label = l
		}
		n++
		if r.perInst[i] == 0 && pc != ud2 {
			missed++
			t.Errorf("virtual_unwind+%#x (in %s) never ran", pc-begin, label)
		}
	}
	if ud2 == 0 {
		t.Error("no unknown unwind code reached virtual_unwind's ud2")
	}
	t.Logf("%d of %d instructions of virtual_unwind ran", n-missed, n)
}
