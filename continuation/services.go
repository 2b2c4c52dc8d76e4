package continuation

import (
	. "github.com/osrsim/osrsim/emitter"
	"github.com/osrsim/osrsim/region"
)

// ErrorMarker tags the image's return value when a run-time error stopped
// the program: marker | kind<<32 | position code (jit.Pos.Code). Ordinary
// return values leave its bit clear.
const ErrorMarker = 1 << 63

// Stopwatch cut points (the value of SymStopwatchCut): a run can end at a
// mark, so that the instructions and cycles of the measured region are
// what a run to the stop mark adds over a run to the start mark.
const (
	CutNone  = 0
	CutStart = 1
	CutStop  = 2
)

// Services are the runtime pieces a C# workload may use; they clobber
// only RAX, RCX and RDX, like runtime.alloc, so OSR code keeps its
// variables in every other register across them. An image holds only the
// ones its program uses: each is a method of the JIT code heap, whose
// layout the patchpoint helper's code lookups read.
type Services struct {
	Throw     bool // the run-time error stub (the program divides)
	Stopwatch bool // the stopwatch marks
	// Exit is the host entry stub's exit path: it returns RAX to the host
	// from any stack depth.
	Exit *Label
	// TSCStart and TSCStop are where the marks store the time stamp
	// counter (host memory, never compared: its values differ by nature).
	TSCStart, TSCStop uint64
}

// EmitData lays out the services' statics; cut is the run's stopwatch
// cut point (CutNone, CutStart or CutStop).
func (s Services) EmitData(d *Builder, cut int) {
	d.Align(8, 0)
	if s.Throw {
		d.DefineSymbol(SymErrorInfo)
		d.U64(0)
		d.EndSymbol(SymErrorInfo)
	}
	if s.Stopwatch {
		d.DefineSymbol(SymStopwatchCut)
		d.U32(uint32(cut))
		d.EndSymbol(SymStopwatchCut)
	}
}

// EmitCode generates the error stub and the stopwatch marks it has.
func (s Services) EmitCode(b *Builder) {
	if s.Throw {
		s.emitThrow(b)
	}
	if s.Stopwatch {
		s.mark(b, SymStopwatchStart, s.TSCStart, CutStart)
		s.mark(b, SymStopwatchStop, s.TSCStop, CutStop)
	}
}

// emitThrow is runtime.throw(kind, pos): the exception a program does not
// catch. It records it and ends the run with ErrorMarker|kind<<32|pos.
func (s Services) emitThrow(b *Builder) {
	b.Func(SymThrow)
	b.SetMeta(region.Meta{Region: region.Runtime})
	b.EndProlog()
	b.Shl(S64, RCX, 32)
	b.Or(S64, RCX, RDX)
	b.Mov(S64, RIPSym(SymErrorInfo), RCX)
	b.MovImm64(RAX, ErrorMarker)
	b.Or(S64, RAX, RCX)
	b.Jmp(s.Exit)
	b.EndFunc()
}

// mark stores the time stamp counter (Stopwatch's clock) and, in a cut
// run, ends the run here.
func (s Services) mark(b *Builder, name string, slot uint64, cut int) {
	b.Func(name)
	b.SetMeta(region.Meta{Region: region.Runtime})
	b.EndProlog()
	b.Rdtsc()
	b.Shl(S64, RDX, 32)
	b.Or(S64, RAX, RDX)
	b.MovImm64(RCX, slot)
	b.Mov(S64, M(RCX, 0), RAX)
	b.Cmp(S32, RIPSym(SymStopwatchCut), Imm(cut))
	end := b.NewLabel(name + ".cut")
	b.Jcc(CondE, end)
	b.Ret()
	b.Bind(end)
	b.Jmp(s.Exit)
	b.EndFunc()
}
