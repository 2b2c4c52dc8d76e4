package emitter_test

import (
	"errors"
	"strings"
	"testing"

	. "github.com/osrsim/osrsim/emitter"
	"github.com/osrsim/osrsim/region"
)

// Invalid uses are recorded, not panicked, and carry the position of the
// caller in this file.
func TestInvalidOperands(t *testing.T) {
	cases := []struct {
		name  string
		want  error
		build func(p *Program, b *Builder)
	}{
		{"mem to mem", ErrInvalidOperands, func(p *Program, b *Builder) { b.Add(S64, M(RAX, 0), M(RBX, 0)) }},
		{"mov mem to mem", ErrInvalidOperands, func(p *Program, b *Builder) { b.Mov(S32, M(RAX, 0), M(RBX, 8)) }},
		{"imm64 in add", ErrImmRange, func(p *Program, b *Builder) { b.Add(S64, RAX, Imm(1<<40)) }},
		{"imm32 unsigned in S64 mov", ErrImmRange, func(p *Program, b *Builder) { b.Mov(S64, RAX, Imm(0x80000000)) }},
		{"imm too wide for S8", ErrImmRange, func(p *Program, b *Builder) { b.Cmp(S8, RAX, Imm(0x100)) }},
		{"scale 3", ErrInvalidOperands, func(p *Program, b *Builder) { b.Mov(S64, RAX, MIdx(RAX, RBX, 3, 0)) }},
		{"rsp as index", ErrInvalidOperands, func(p *Program, b *Builder) { b.Lea(RAX, MIdx(RAX, RSP, 1, 0)) }},
		{"zero Mem", ErrInvalidOperands, func(p *Program, b *Builder) { b.Mov(S64, RAX, Mem{}) }},
		{"imul S8", ErrInvalidOperands, func(p *Program, b *Builder) { b.Imul(S8, RAX, RBX) }},
		{"invalid size", ErrInvalidOperands, func(p *Program, b *Builder) { b.Add(Size(3), RAX, RBX) }},
		{"immediate destination", ErrInvalidOperands, func(p *Program, b *Builder) { b.Mov(S32, Imm(1), RAX) }},
		{"shift count", ErrImmRange, func(p *Program, b *Builder) { b.Shl(S32, RAX, 32) }},
		{"movdqu gpr", ErrInvalidOperands, func(p *Program, b *Builder) { b.Movdqu(RAX, M(RSI, 0)) }},
		{"movdqu mem to mem", ErrInvalidOperands, func(p *Program, b *Builder) { b.Movdqu(M(RDI, 0), M(RSI, 0)) }},
		{"setcc xmm", ErrInvalidOperands, func(p *Program, b *Builder) { b.Setcc(CondE, X0) }},
		{"movzx from S32", ErrInvalidOperands, func(p *Program, b *Builder) { b.MovZX(S64, RAX, S32, RBX) }},
		{"movsx to S8", ErrInvalidOperands, func(p *Program, b *Builder) { b.MovSX(S8, RAX, S8, RBX) }},
		{"push xmm", ErrInvalidOperands, func(p *Program, b *Builder) { b.Push(X1) }},
		{"jmp int", ErrInvalidOperands, func(p *Program, b *Builder) { b.Jmp(42) }},
		{"invalid register", ErrInvalidOperands, func(p *Program, b *Builder) { b.Mov(S64, Reg(16), RAX) }},
		{"unbound label", ErrUnboundLabel, func(p *Program, b *Builder) { b.Jmp(p.NewLabel("nowhere")) }},
		{"label bound twice", ErrLabelRebound, func(p *Program, b *Builder) {
			l := b.NewLabel("twice")
			b.Bind(l)
			b.Bind(l)
		}},
		{"undefined symbol", ErrUndefinedSymbol, func(p *Program, b *Builder) { b.Call(Sym("nope")) }},
		{"undefined RIP symbol", ErrUndefinedSymbol, func(p *Program, b *Builder) { b.Lea(RAX, RIPSym("nope")) }},
		{"duplicate symbol", ErrDuplicateSymbol, func(p *Program, b *Builder) {
			b.DefineSymbol("x")
			b.DefineSymbol("x")
		}},
		{"EndFunc without Func", ErrSymbolNesting, func(p *Program, b *Builder) { b.EndFunc() }},
		{"Func without EndFunc", ErrSymbolNesting, func(p *Program, b *Builder) { b.Func("open") }},
		{"unwind outside func", ErrUnwind, func(p *Program, b *Builder) { b.AllocStack(8) }},
		{"frame offset", ErrUnwind, func(p *Program, b *Builder) {
			b.Func("f")
			b.SetFramePointer(RBP, 17)
			b.EndFunc()
		}},
		{"alloc not multiple of 8", ErrUnwind, func(p *Program, b *Builder) {
			b.Func("f")
			b.AllocStack(12)
			b.EndFunc()
		}},
		{"unwind after prolog", ErrUnwind, func(p *Program, b *Builder) {
			b.Func("f")
			b.EndProlog()
			b.PushNonvol(RBX)
			b.EndFunc()
		}},
		{"prolog over 255 bytes", ErrUnwind, func(p *Program, b *Builder) {
			b.Func("f")
			b.PushNonvol(RBP)
			b.Nop(300)
			b.EndProlog()
			b.EndFunc()
		}},
		{"push after a MOV save", ErrUnwind, func(p *Program, b *Builder) {
			b.Func("f")
			b.AllocStack(32)
			b.SaveNonvol(RBX, 8)
			b.PushNonvol(RSI)
			b.EndFunc()
		}},
		{"alloc between SetFramePointer and a save", ErrUnwind, func(p *Program, b *Builder) {
			b.Func("f")
			b.PushNonvol(RBP)
			b.SetFramePointer(RBP, 0)
			b.AllocStack(32)
			b.SaveXMM128(X6, 16)
			b.EndFunc()
		}},
		{"frame register saved after SetFramePointer", ErrUnwind, func(p *Program, b *Builder) {
			b.Func("f")
			b.AllocStack(32)
			b.SetFramePointer(RBP, 16)
			b.SaveNonvol(RBP, 8)
			b.EndFunc()
		}},
		{"frame register pushed after SetFramePointer", ErrUnwind, func(p *Program, b *Builder) {
			b.Func("f")
			b.SetFramePointer(RBX, 0)
			b.PushNonvol(RBX)
			b.EndFunc()
		}},
		{"machine frame not first", ErrUnwind, func(p *Program, b *Builder) {
			b.Func("f")
			b.PushNonvol(RBX)
			b.UnwindRecord(UwopPushMachframe, 0, 0)
			b.EndFunc()
		}},
		{"bad alignment", ErrInvalidAlignment, func(p *Program, b *Builder) { b.NopAlign(3) }},
		{"meta outside symbols", ErrSymbolMeta, func(p *Program, b *Builder) { b.SetMeta(region.Meta{Region: region.Helper}) }},
		{"undeclared step", ErrSymbolMeta, func(p *Program, b *Builder) {
			b.Func("f")
			b.SetMeta(region.Meta{Region: region.Helper, Step: "nope"})
			b.EndFunc()
		}},
		{"step of another region", ErrSymbolMeta, func(p *Program, b *Builder) {
			b.DeclareSteps(region.Step{Region: region.Runtime, Name: "s"})
			b.Func("f")
			b.SetMeta(region.Meta{Region: region.Helper, Step: "s"})
			b.EndFunc()
		}},
		{"range in another region", ErrSymbolMeta, func(p *Program, b *Builder) {
			b.Func("f")
			b.SetMeta(region.Meta{Region: region.Helper})
			b.BeginRange("f.r")
			b.SetMeta(region.Meta{Region: region.Runtime})
			b.EndRange()
			b.EndFunc()
		}},
		{"unknown region", ErrSymbolMeta, func(p *Program, b *Builder) {
			b.Func("f")
			b.SetMeta(region.Meta{Region: "jit"})
			b.EndFunc()
		}},
		{"step declared twice", ErrSymbolMeta, func(p *Program, b *Builder) {
			b.DeclareSteps(region.Step{Region: region.Helper, Name: "s", Doc: "one"}, region.Step{Region: region.Helper, Name: "s", Doc: "two"})
		}},
		{"foreign label", ErrForeignLabel, func(p *Program, b *Builder) { b.Jmp(NewProgram().NewLabel("other")) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := NewProgram()
			b := p.Section("text")
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("panic: %v", r)
					}
				}()
				c.build(p, b)
			}()
			obj, err := p.Finish()
			if err == nil || obj != nil {
				t.Fatalf("Finish = %v, %v; want an error", obj, err)
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("error %v is not %v", err, c.want)
			}
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %T is not an ErrorList", err)
			}
			for _, e := range list {
				if !strings.Contains(e.Pos, "errors_test.go:") {
					t.Errorf("position %q does not name errors_test.go (%v)", e.Pos, e)
				}
			}
		})
	}
}

func TestErrorListCollectsAll(t *testing.T) {
	p := NewProgram()
	b := p.Section("text")
	b.Add(S64, M(RAX, 0), M(RBX, 0))
	b.Mov(S64, RAX, Imm(1<<40))
	b.Ret()
	b.Lea(RAX, MIdx(RAX, RSP, 1, 0))
	_, err := p.Finish()
	list, ok := err.(ErrorList)
	if !ok || len(list) != 3 {
		t.Fatalf("got %v, want 3 errors", err)
	}
	if !strings.HasSuffix(err.Error(), "(and 2 more errors)") || !strings.HasPrefix(err.Error(), list[0].Error()) {
		t.Errorf("Error() = %q", err.Error())
	}
	if !errors.Is(err, ErrImmRange) || !errors.Is(err, ErrInvalidOperands) || errors.Is(err, ErrUnwind) {
		t.Errorf("errors.Is does not see the right sentinels in %v", err)
	}
	if ErrorList(nil).Err() != nil {
		t.Errorf("empty ErrorList.Err() != nil")
	}
}
