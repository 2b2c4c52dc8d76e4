package unicorn

/*
#include <stdlib.h>
#include "hooks.h"
#cgo nocallback osr_state_reset
#cgo nocallback uc_context_restore
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/osrsim/osrsim/sim"
	"github.com/osrsim/osrsim/sim/observe"
)

// Addresses of this engine's own host frame; not part of the image and
// never compared.
const (
	HostStackBase uint64 = 0x5_5000_0000
	HostStackSize uint64 = 0x10000
	// SentinelAddr is the return address pushed for the image's entry
	// function and the until address of uc_emu_start. It is left unmapped:
	// Unicorn stops before fetching it (TestEngineRunsUntilAddress), and
	// anything else reaching it would fault cleanly.
	SentinelAddr uint64 = 0x5_5002_0000
)

// Options control counting and safety limits.
type Options struct {
	// Exact counts with a per-instruction hook instead of block hooks
	// (verification; several times slower).
	Exact bool
	// CheckAlignment checks RSP%16 == 0 at every executed call. It uses the
	// per-instruction hook and so implies Exact.
	CheckAlignment bool
	// MaxInstructions stops a run that exceeds it (0: no limit). Block
	// counting checks after each block, so it may overshoot by one block.
	MaxInstructions uint64
	// Timeout stops a run after this wall time (0: none).
	Timeout time.Duration
	// Done, when closed (e.g. ctx.Done()), stops a run the way Timeout
	// does; Run then returns sim.ErrCanceled.
	Done <-chan struct{}
	// Observers watch every block from the C hooks (see package observe),
	// e.g. the cycle model (cycles.Estimator). Each is attached to this
	// machine only; block and exact mode show them the same instructions.
	Observers []observe.Observer
	// PerInstruction also counts executions of every instruction
	// (Counts.PerInst, in the order of the image's InstStarts), for
	// annotated listings.
	PerInstruction bool
	// Trace records a timeline of up to Trace entries (Result.Trace): one
	// whenever execution enters another symbol segment or an event
	// address. 0: off.
	Trace int

	noHooks bool // raw Unicorn, for overhead benchmarks only
}

// Result of one completed run.
type Result struct {
	State  sim.State
	Counts Counts
	Regs   Regs // final registers (RIP is SentinelAddr)
	// Trace is the timeline recorded with Options.Trace.
	Trace []TraceRecord
	// TraceDropped counts records that did not fit.
	TraceDropped uint64
}

// AlignmentError is returned, together with a valid Result, when
// Options.CheckAlignment found calls with a misaligned stack.
type AlignmentError struct {
	Count uint64
	At    []uint64 // first few call sites
	RSP   []uint64 // RSP at each of them
	im    *sim.Image
}

func (e *AlignmentError) Error() string {
	s := fmt.Sprintf("unicorn: %d calls with RSP %% 16 != 0", e.Count)
	for i, pc := range e.At {
		name, off := e.im.SymbolAt(pc)
		s += fmt.Sprintf("\n  call at %#x <%s+%#x> with rsp %#x", pc, name, off, e.RSP[i])
	}
	return s
}

// Machine is an image mapped into an engine with its hooks installed, ready
// to run repeatedly. It is not safe for concurrent use.
type Machine struct {
	im      *sim.Image
	opt     Options
	eng     *Engine
	lay     *layout
	st      *C.osr_state
	fresh   *C.uc_context // CPU state right after mapping, restored per run
	resets  []reset
	compare []*sim.Region
	buf     []byte
	closed  bool
	cleanup runtime.Cleanup
}

// cRes is what a Machine owns in C memory, freed by Close or, if the
// Machine is dropped unclosed, by a cleanup.
type cRes struct {
	st    *C.osr_state
	fresh *C.uc_context
}

func (r cRes) free() {
	if r.fresh != nil {
		C.uc_context_free(r.fresh)
	}
	C.osr_state_free(r.st)
}

type reset struct {
	addr uint64
	b    []byte // full initial contents
}

// Run maps im, runs it once and closes the engine.
func Run(im *sim.Image, opt Options) (*Result, error) {
	m, err := New(im, opt)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	return m.Run()
}

// New maps every region of im with its protection, plus a host stack, and
// installs all hooks before anything runs: Unicorn 2
// caches translated blocks, so hooks added later could miss code that was
// already translated (unicorn#2200).
func New(im *sim.Image, opt Options) (m *Machine, err error) {
	if err := im.Validate(); err != nil {
		return nil, err
	}
	if opt.CheckAlignment {
		opt.Exact = true
	}
	for _, r := range im.Regions {
		if r.Base < SentinelAddr+sim.PageSize && HostStackBase < r.End() {
			return nil, fmt.Errorf("unicorn: region %s overlaps the host stack at %#x", r.Name, HostStackBase)
		}
	}
	code, err := observe.Decode(im)
	if err != nil {
		return nil, fmt.Errorf("unicorn: %w", err)
	}
	lay := newLayout(im, code)
	eng, err := Open()
	if err != nil {
		return nil, err
	}
	m = &Machine{im: im, opt: opt, eng: eng, lay: lay}
	mc := m // error returns set m to nil
	defer func() {
		if err != nil {
			mc.Close()
		}
	}()
	for i := range im.Regions {
		r := &im.Regions[i]
		if err := eng.MemMap(r.Base, r.Size, r.Perm); err != nil {
			return nil, fmt.Errorf("unicorn: map %s at %#x: %w", r.Name, r.Base, err)
		}
		full := make([]byte, r.Size)
		copy(full, r.Init)
		if r.Perm&sim.PermW != 0 {
			m.resets = append(m.resets, reset{r.Base, full})
		} else if err := eng.MemWrite(r.Base, full); err != nil {
			return nil, err
		}
		if r.Compared {
			m.compare = append(m.compare, r)
			m.buf = make([]byte, max(uint64(len(m.buf)), r.Size))
		}
	}
	if err := eng.MemMap(HostStackBase, HostStackSize, sim.PermR|sim.PermW); err != nil {
		return nil, err
	}
	m.st = C.osr_state_new(C.uint64_t(lay.base), C.uint64_t(lay.size), C.uint32_t(len(lay.segs)), C.uint32_t(len(lay.events)))
	if m.st == nil {
		return nil, errors.New("unicorn: out of memory for counting tables")
	}
	lay.fill(im, code, m.st)
	if opt.PerInstruction && C.osr_inst_counts_new(m.st) != 0 {
		return nil, errors.New("unicorn: out of memory for instruction counts")
	}
	if opt.Trace > 0 && C.osr_trace_new(m.st, C.uint64_t(opt.Trace)) != 0 {
		return nil, errors.New("unicorn: out of memory for the trace buffer")
	}
	for _, o := range opt.Observers {
		p, err := o.Attach(code)
		if err != nil {
			return nil, err
		}
		if C.osr_observer_add(m.st, (*C.osr_observer)(p)) != 0 {
			return nil, fmt.Errorf("unicorn: more than %d observers", C.OSR_MAX_OBSERVERS)
		}
	}
	m.st.max_insts = C.uint64_t(opt.MaxInstructions)
	if opt.CheckAlignment {
		m.st.check_align = 1
	}
	if !opt.noHooks {
		if err := m.addHooks(); err != nil {
			return nil, err
		}
	}
	if err := ucErr(C.uc_context_alloc(eng.uc, &m.fresh)); err != nil {
		return nil, err
	}
	if err := ucErr(C.uc_context_save(eng.uc, m.fresh)); err != nil {
		return nil, err
	}
	m.cleanup = runtime.AddCleanup(m, cRes.free, cRes{m.st, m.fresh})
	return m, nil
}

func (m *Machine) addHooks() error {
	uc, st := m.eng.uc, m.st
	if m.opt.Exact {
		if err := ucErr(C.osr_hook_insns(uc, st)); err != nil {
			return fmt.Errorf("unicorn: instruction hook: %w", err)
		}
	} else if err := ucErr(C.osr_hook_blocks(uc, st)); err != nil {
		return fmt.Errorf("unicorn: block hook: %w", err)
	}
	if err := ucErr(C.osr_hook_mem(uc, st)); err != nil {
		return fmt.Errorf("unicorn: memory hook: %w", err)
	}
	for i, ev := range m.im.Events {
		if err := ucErr(C.osr_hook_event(uc, st, C.uint32_t(i), C.uint64_t(ev.Addr))); err != nil {
			return fmt.Errorf("unicorn: event %s hook: %w", ev.Name, err)
		}
	}
	if err := ucErr(C.osr_hook_faults(uc, st)); err != nil {
		return fmt.Errorf("unicorn: fault hooks: %w", err)
	}
	return nil
}

// Engine exposes the underlying engine, e.g. to inspect memory after Run.
func (m *Machine) Engine() *Engine { return m.eng }

// Close frees the engine and the C tables; later calls do nothing.
func (m *Machine) Close() error {
	if m.closed {
		return nil
	}
	m.closed = true
	m.cleanup.Stop()
	err := m.eng.Close()
	cRes{m.st, m.fresh}.free() // after the engine: its hooks point into st
	m.st, m.fresh = nil, nil
	return err
}

var entryRegs = []Reg{RSP, RDI}

// Run resets writable memory to its initial bytes and the CPU to its
// initial state, calls im.Entry(im.Arg) like a SysV call from a host frame
// whose return address is SentinelAddr, and stops there. Any other end is a
// *Fault. With CheckAlignment, misaligned calls give a valid Result and an
// *AlignmentError.
func (m *Machine) Run() (*Result, error) {
	if m.closed {
		return nil, errors.New("unicorn: machine closed")
	}
	if sim.Closed(m.opt.Done) {
		return nil, sim.ErrCanceled
	}
	eng := m.eng
	for _, r := range m.resets {
		if err := eng.MemWrite(r.addr, r.b); err != nil {
			return nil, err
		}
	}
	var ret [8]byte
	putU64(ret[:], SentinelAddr)
	rsp := HostStackBase + HostStackSize - 8 // ≡ 8 mod 16, as right after a call
	if err := eng.MemWrite(rsp, ret[:]); err != nil {
		return nil, err
	}
	if err := ucErr(C.uc_context_restore(eng.uc, m.fresh)); err != nil {
		return nil, err
	}
	if err := eng.RegWriteBatch(entryRegs, []uint64{rsp, m.im.Arg}); err != nil {
		return nil, err
	}
	C.osr_state_reset(m.st)

	runErr, timedOut, canceled := m.start()
	runtime.KeepAlive(m)
	if f := m.fault(runErr, timedOut); f != nil {
		if canceled && f.Kind == FaultStopped {
			return nil, sim.ErrCanceled
		}
		return nil, f
	}

	C.osr_observers_end(m.st)
	res := &Result{Counts: m.lay.counts(m.st), Trace: m.lay.trace(m.st), TraceDropped: uint64(m.st.trace_dropped)}
	regs, err := eng.Snapshot()
	if err != nil {
		return nil, err
	}
	res.Regs = regs
	res.State = sim.State{Ret: regs.GPR[0], Checksums: make(map[string]string, len(m.compare))}
	for _, r := range m.compare {
		b := m.buf[:r.Size]
		if err := eng.MemRead(r.Base, b); err != nil {
			return nil, err
		}
		res.State.Checksums[r.Name] = sim.Checksum(b)
	}
	if res.Counts.MisalignedCalls > 0 {
		ae := &AlignmentError{Count: res.Counts.MisalignedCalls, At: res.Counts.MisalignedAt, im: m.im}
		for i := range ae.At {
			ae.RSP = append(ae.RSP, uint64(m.st.misaligned_rsp[i]))
		}
		return res, ae
	}
	return res, nil
}

// start runs the image from its entry to the sentinel. The timeout is ours,
// not Unicorn's: Unicorn 2.0.1 times out with a thread that polls a clock
// every 2 µs (stealing a core from other workers) and trusts that clock not
// to jump; here a timer on Go's monotonic clock calls uc_emu_stop, and so
// does the closing of Options.Done.
func (m *Machine) start() (runErr error, timedOut, canceled bool) {
	if m.opt.Timeout <= 0 && m.opt.Done == nil {
		return m.eng.Start(m.im.Entry, SentinelAddr, 0), false, false
	}
	var mu sync.Mutex
	running := true
	// stop stops the run if it is still going and says whether it was.
	stop := func(why *bool) bool {
		mu.Lock()
		defer mu.Unlock()
		if running {
			*why = true
			m.eng.Stop()
		}
		return running
	}
	if m.opt.Timeout > 0 {
		t := time.AfterFunc(m.opt.Timeout, func() { stop(&timedOut) })
		defer t.Stop()
	}
	if m.opt.Done != nil {
		ended := make(chan struct{})
		defer close(ended)
		go func() {
			select {
			case <-ended:
				return
			case <-m.opt.Done:
			}
			// uc_emu_start clears a stop requested before it began: repeat
			// the request until the run has ended.
			for stop(&canceled) {
				select {
				case <-ended:
					return
				case <-time.After(10 * time.Millisecond):
				}
			}
		}()
	}
	runErr = m.eng.Start(m.im.Entry, SentinelAddr, 0)
	mu.Lock()
	running = false
	mu.Unlock()
	return runErr, timedOut, canceled
}

// fault classifies how the run ended; nil means it reached the sentinel.
func (m *Machine) fault(runErr error, timedOut bool) *Fault {
	st := m.st
	f := &Fault{Err: runErr, Executed: uint64(st.total)}
	switch {
	case st.stop == C.OSR_STOP_MEM:
		f.Kind = memFaultKind(C.uc_mem_type(st.mem_type))
		f.Addr, f.Size = uint64(st.mem_addr), int(st.mem_size)
	case st.stop == C.OSR_STOP_INTR:
		f.Kind, f.Intr, f.PC = FaultException, uint32(st.intno), uint64(st.stop_pc)
	case st.stop == C.OSR_STOP_SYSCALL:
		f.Kind, f.PC = FaultSyscall, uint64(st.stop_pc)
	case st.stop == C.OSR_STOP_RUNAWAY:
		f.Kind, f.PC = FaultRunaway, uint64(st.stop_pc)
	case runErr != nil:
		f.Kind = errFaultKind(runErr)
	default:
		// A run that reached the sentinel completed, whatever a timer
		// racing with its end did.
		pc, err := m.eng.RegRead(RIP)
		if err == nil && pc == SentinelAddr {
			return nil
		}
		f.Kind = FaultStopped
		if timedOut {
			f.Kind = FaultTimeout
		}
	}
	f.describe(m.eng, m.im)
	if st.stop == C.OSR_STOP_MEM && !m.opt.Exact {
		m.locate(f)
	}
	if f.Kind == FaultFetchUnmapped || f.Kind == FaultFetchProt {
		if f.Addr == 0 {
			f.Addr = f.PC
		}
	}
	return f
}

// maxLocate bounds the exact re-run that locates a memory fault.
const maxLocate = 100_000_000

// locate finds the exact PC of a memory fault seen with block counting.
// Unicorn 2.0.1 leaves RIP at the start of the translation block when a
// memory access faults (GPRs are current); only a per-instruction hook keeps
// RIP exact. The run is deterministic, so re-run it in exact mode, which
// must fault the same way no later than the block count.
func (m *Machine) locate(f *Fault) {
	f.PCApprox = true
	if f.Executed > maxLocate {
		return
	}
	opt := m.opt
	opt.Exact, opt.MaxInstructions = true, f.Executed
	opt.Observers = nil // they watch, they do not change execution
	ex, err := New(m.im, opt)
	if err != nil {
		return
	}
	defer ex.Close()
	_, err = ex.Run()
	var g *Fault
	if errors.As(err, &g) && g.Kind == f.Kind && g.Addr == f.Addr && !g.PCApprox {
		g.Err = f.Err
		*f = *g
	}
}

func memFaultKind(t C.uc_mem_type) FaultKind {
	switch t {
	case C.UC_MEM_READ_UNMAPPED:
		return FaultReadUnmapped
	case C.UC_MEM_WRITE_UNMAPPED:
		return FaultWriteUnmapped
	case C.UC_MEM_FETCH_UNMAPPED:
		return FaultFetchUnmapped
	case C.UC_MEM_READ_PROT:
		return FaultReadProt
	case C.UC_MEM_WRITE_PROT:
		return FaultWriteProt
	case C.UC_MEM_FETCH_PROT:
		return FaultFetchProt
	}
	return FaultStopped
}

func errFaultKind(err error) FaultKind {
	switch err {
	case ErrReadUnmapped:
		return FaultReadUnmapped
	case ErrWriteUnmapped:
		return FaultWriteUnmapped
	case ErrFetchUnmapped:
		return FaultFetchUnmapped
	case ErrReadProt:
		return FaultReadProt
	case ErrWriteProt:
		return FaultWriteProt
	case ErrFetchProt:
		return FaultFetchProt
	case ErrInsnInvalid:
		return FaultInvalidInsn
	case ErrException:
		return FaultException
	}
	return FaultStopped
}

func putU64(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (8 * i))
	}
}
