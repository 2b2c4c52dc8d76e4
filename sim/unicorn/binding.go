package unicorn

/*
#cgo CFLAGS: -I${SRCDIR}/../observe
#cgo LDFLAGS: -lunicorn
#cgo noescape uc_mem_read
#cgo nocallback uc_mem_read
#cgo noescape uc_mem_write
#cgo nocallback uc_mem_write
#cgo noescape uc_reg_read
#cgo nocallback uc_reg_read
#cgo nocallback uc_reg_write
#cgo noescape osr_reg_read_batch
#cgo nocallback osr_reg_read_batch
#cgo noescape osr_reg_write_batch
#cgo nocallback osr_reg_write_batch
#cgo nocallback uc_emu_start
#cgo nocallback uc_mem_map
#include <stdlib.h>
#include "hooks.h"
*/
import "C"

import (
	"fmt"
	"runtime"
	"sync"
	"time"
	"unsafe"

	"github.com/osrsim/osrsim/sim"
)

// nocallback is valid on uc_emu_start because every hook this package
// installs is C (hooks.c), and so is every observer it calls; no Go
// function is ever reachable from Unicorn.

// Version is the libunicorn version, e.g. "2.0.1". uc_version reports only
// major.minor, so the patch level comes from the header this package was
// built against when its major.minor match the library's.
func Version() string {
	var major, minor C.uint
	C.uc_version(&major, &minor)
	if major == C.UC_API_MAJOR && minor == C.UC_API_MINOR {
		return fmt.Sprintf("%d.%d.%d", major, minor, C.UC_API_PATCH)
	}
	return fmt.Sprintf("%d.%d", major, minor)
}

// Error is a uc_err code; its message comes from uc_strerror.
type Error int

func (e Error) Error() string {
	return "unicorn: " + C.GoString(C.uc_strerror(C.uc_err(e)))
}

// Unicorn error codes that callers may want to match with errors.Is.
const (
	ErrReadUnmapped  = Error(C.UC_ERR_READ_UNMAPPED)
	ErrWriteUnmapped = Error(C.UC_ERR_WRITE_UNMAPPED)
	ErrFetchUnmapped = Error(C.UC_ERR_FETCH_UNMAPPED)
	ErrInsnInvalid   = Error(C.UC_ERR_INSN_INVALID)
	ErrMap           = Error(C.UC_ERR_MAP)
	ErrWriteProt     = Error(C.UC_ERR_WRITE_PROT)
	ErrReadProt      = Error(C.UC_ERR_READ_PROT)
	ErrFetchProt     = Error(C.UC_ERR_FETCH_PROT)
	ErrArg           = Error(C.UC_ERR_ARG)
	ErrException     = Error(C.UC_ERR_EXCEPTION)
)

func ucErr(e C.uc_err) error {
	if e == C.UC_ERR_OK {
		return nil
	}
	return Error(e)
}

// Reg is an x86 register id of Unicorn.
type Reg C.int

const (
	RAX    = Reg(C.UC_X86_REG_RAX)
	RCX    = Reg(C.UC_X86_REG_RCX)
	RDX    = Reg(C.UC_X86_REG_RDX)
	RBX    = Reg(C.UC_X86_REG_RBX)
	RSP    = Reg(C.UC_X86_REG_RSP)
	RBP    = Reg(C.UC_X86_REG_RBP)
	RSI    = Reg(C.UC_X86_REG_RSI)
	RDI    = Reg(C.UC_X86_REG_RDI)
	R8     = Reg(C.UC_X86_REG_R8)
	R9     = Reg(C.UC_X86_REG_R9)
	R10    = Reg(C.UC_X86_REG_R10)
	R11    = Reg(C.UC_X86_REG_R11)
	R12    = Reg(C.UC_X86_REG_R12)
	R13    = Reg(C.UC_X86_REG_R13)
	R14    = Reg(C.UC_X86_REG_R14)
	R15    = Reg(C.UC_X86_REG_R15)
	RIP    = Reg(C.UC_X86_REG_RIP)
	RFLAGS = Reg(C.UC_X86_REG_RFLAGS)
)

// GPRs lists the 16 general-purpose registers in encoding order (the order
// of Regs.GPR).
var GPRs = [16]Reg{RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15}

// Engine is one Unicorn instance in x86 64-bit mode. It is not safe for
// concurrent use.
type Engine struct {
	uc      *C.uc_engine
	once    sync.Once
	cleanup runtime.Cleanup
}

// Open creates an x86-64 engine. Close it when done; a cleanup closes it
// if it becomes unreachable first.
func Open() (*Engine, error) {
	var uc *C.uc_engine
	if err := ucErr(C.uc_open(C.UC_ARCH_X86, C.UC_MODE_64, &uc)); err != nil {
		return nil, err
	}
	e := &Engine{uc: uc}
	e.cleanup = runtime.AddCleanup(e, func(uc *C.uc_engine) { C.uc_close(uc) }, uc)
	return e, nil
}

// Close releases the engine; later calls do nothing.
func (e *Engine) Close() error {
	var err error
	e.once.Do(func() {
		e.cleanup.Stop()
		err = ucErr(C.uc_close(e.uc))
		e.uc = nil
	})
	return err
}

func permBits(p sim.Perm) C.uint32_t {
	var b C.uint32_t
	if p&sim.PermR != 0 {
		b |= C.UC_PROT_READ
	}
	if p&sim.PermW != 0 {
		b |= C.UC_PROT_WRITE
	}
	if p&sim.PermX != 0 {
		b |= C.UC_PROT_EXEC
	}
	return b
}

// MemMap maps [addr, addr+size) with the given protection; both must be
// page-aligned.
func (e *Engine) MemMap(addr, size uint64, perm sim.Perm) error {
	return ucErr(C.uc_mem_map(e.uc, C.uint64_t(addr), C.size_t(size), permBits(perm)))
}

// MemWrite copies b to guest memory at addr (regardless of protection).
func (e *Engine) MemWrite(addr uint64, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return ucErr(C.uc_mem_write(e.uc, C.uint64_t(addr), unsafe.Pointer(&b[0]), C.size_t(len(b))))
}

// MemRead fills b from guest memory at addr.
func (e *Engine) MemRead(addr uint64, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return ucErr(C.uc_mem_read(e.uc, C.uint64_t(addr), unsafe.Pointer(&b[0]), C.size_t(len(b))))
}

// RegRead reads one register.
func (e *Engine) RegRead(r Reg) (uint64, error) {
	var v C.uint64_t
	err := ucErr(C.uc_reg_read(e.uc, C.int(r), unsafe.Pointer(&v)))
	return uint64(v), err
}

// RegWrite writes one register.
func (e *Engine) RegWrite(r Reg, v uint64) error {
	cv := C.uint64_t(v)
	return ucErr(C.uc_reg_write(e.uc, C.int(r), unsafe.Pointer(&cv)))
}

// RegReadBatch reads regs[i] into vals[i] in one call (at most 64).
func (e *Engine) RegReadBatch(regs []Reg, vals []uint64) error {
	if len(regs) != len(vals) {
		return fmt.Errorf("unicorn: %d registers, %d values", len(regs), len(vals))
	}
	if len(regs) == 0 {
		return nil
	}
	return ucErr(C.osr_reg_read_batch(e.uc, (*C.int)(unsafe.Pointer(&regs[0])),
		(*C.uint64_t)(unsafe.Pointer(&vals[0])), C.int(len(regs))))
}

// RegWriteBatch writes vals[i] to regs[i] in one call (at most 64).
func (e *Engine) RegWriteBatch(regs []Reg, vals []uint64) error {
	if len(regs) != len(vals) {
		return fmt.Errorf("unicorn: %d registers, %d values", len(regs), len(vals))
	}
	if len(regs) == 0 {
		return nil
	}
	return ucErr(C.osr_reg_write_batch(e.uc, (*C.int)(unsafe.Pointer(&regs[0])),
		(*C.uint64_t)(unsafe.Pointer(&vals[0])), C.int(len(regs))))
}

// Start runs from begin until the PC reaches until, an error, a hook's
// stop, or the timeout (0: none). It never passes a count: Unicorn
// implements count with a per-instruction hook.
func (e *Engine) Start(begin, until uint64, timeout time.Duration) error {
	us := C.uint64_t(0)
	if timeout > 0 {
		us = C.uint64_t(max(timeout/time.Microsecond, 1))
	}
	return ucErr(C.uc_emu_start(e.uc, C.uint64_t(begin), C.uint64_t(until), us, 0))
}

// Stop asks a running emulation to stop (from another goroutine).
func (e *Engine) Stop() error { return ucErr(C.uc_emu_stop(e.uc)) }

// FlushCode drops all translated blocks, e.g. after hooks were added late
// (unicorn#2200) or code bytes changed.
func (e *Engine) FlushCode() error {
	return ucErr(C.osr_flush_tb(e.uc))
}
