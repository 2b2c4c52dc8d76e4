// C side of osrsim's Unicorn engine: counting hooks that run without ever
// calling back into Go, and that call the machine's observers (observe.h).
// Go fills the tables once, runs, and reads the counters once; nothing here
// holds a Go pointer.
#ifndef OSRSIM_HOOKS_H
#define OSRSIM_HOOKS_H

#include <stdbool.h>
#include <stdint.h>
#include <unicorn/unicorn.h>

#include "observe.h"

#define OSR_MAX_MISALIGNED 8
#define OSR_MAX_OBSERVERS 4

// Per-byte flags over the code range.
enum {
	OSR_FLAG_CALL = 1,     // a call instruction starts here
	OSR_FLAG_CALL_END = 2, // a call instruction ends here (its return address)
	OSR_FLAG_EVENT = 4,    // an event address: always starts a trace record
};

// Why a hook asked the emulator to stop.
enum {
	OSR_STOP_NONE = 0,
	OSR_STOP_RUNAWAY,
	OSR_STOP_MEM,
	OSR_STOP_INTR,
	OSR_STOP_SYSCALL,
};

typedef struct osr_state {
	// Tables, written by Go before the first run and read-only afterwards.
	uint64_t base;      // start of the code range
	uint64_t size;      // bytes in the code range
	uint32_t *prefix;   // [size+1] instruction starts below each offset
	uint32_t *seg;      // [size]   segment id of each byte
	uint64_t *seg_end;  // [nseg]   end offset of each segment
	uint8_t *flags;     // [size+1] OSR_FLAG_*
	uint32_t nseg;
	uint32_t nevents;
	uint64_t max_insts; // 0: no limit
	int check_align;

	// Counters, zeroed by osr_state_reset before each run.
	uint64_t total;
	uint64_t *seg_counts;   // [nseg]
	uint64_t *event_counts; // [nevents]
	uint64_t calls;
	uint64_t misaligned;
	uint64_t misaligned_pc[OSR_MAX_MISALIGNED];
	uint64_t misaligned_rsp[OSR_MAX_MISALIGNED];

	// The first reason a hook stopped the run.
	int stop;
	int mem_type;
	int mem_size;
	int64_t mem_value;
	uint64_t mem_addr;
	uint64_t stop_pc;
	uint32_t intno;

	// Observers, called for every block before it is counted.
	osr_observer obs[OSR_MAX_OBSERVERS];
	uint32_t nobs;

	// Per-instruction execution counts (disasm annotations), indexed by
	// instruction number (prefix table value); NULL unless observed.
	uint64_t *inst_counts; // [prefix[size]]
	// Timeline (trace): a record whenever execution enters another segment
	// or an event address: instructions executed before it, its address,
	// its segment id. NULL unless observed.
	uint64_t *trace; // [3*trace_cap]
	uint64_t trace_cap, trace_len, trace_dropped;
	uint32_t trace_seg; // segment of the last record
} osr_state;

osr_state *osr_state_new(uint64_t base, uint64_t size, uint32_t nseg, uint32_t nevents);
void osr_state_free(osr_state *s);
void osr_state_reset(osr_state *s);

// Observers: add one (a copy of *o; 0 on success), and the built-in ones
// that count per instruction and record the trace (their tables).
int osr_observer_add(osr_state *s, const osr_observer *o);
int osr_inst_counts_new(osr_state *s);
int osr_trace_new(osr_state *s, uint64_t cap);
// Tell every observer that a run completed.
void osr_observers_end(osr_state *s);

// Hook installers; uc_hook_add is variadic, which cgo cannot call.
uc_err osr_hook_blocks(uc_engine *uc, osr_state *s);
uc_err osr_hook_insns(uc_engine *uc, osr_state *s);
uc_err osr_hook_event(uc_engine *uc, osr_state *s, uint32_t i, uint64_t addr);
uc_err osr_hook_faults(uc_engine *uc, osr_state *s);
// Memory hooks for every observer that watches memory.
uc_err osr_hook_mem(uc_engine *uc, osr_state *s);

// Drop every translated block (uc_ctl is variadic too).
uc_err osr_flush_tb(uc_engine *uc);

// Batch register access without storing Go pointers in C memory.
uc_err osr_reg_read_batch(uc_engine *uc, const int *regs, uint64_t *vals, int n);
uc_err osr_reg_write_batch(uc_engine *uc, const int *regs, const uint64_t *vals, int n);

#endif
