// C side of osrsim's Unicorn engine: counting hooks that run without ever
// calling back into Go. Go fills the tables once, runs, and reads the
// counters once; nothing here holds a Go pointer.
#ifndef OSRSIM_HOOKS_H
#define OSRSIM_HOOKS_H

#include <stdbool.h>
#include <stdint.h>
#include <unicorn/unicorn.h>

#define OSR_MAX_MISALIGNED 8

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

// Kind of the instruction that ends at a code offset (osr_cyc.end_kind):
// what the predictors look at when the next block starts.
enum {
	OSR_K_OTHER = 0, // falls through
	OSR_K_COND,      // conditional branch
	OSR_K_JMP,       // direct jmp
	OSR_K_CALL,      // direct call
	OSR_K_IJMP,      // indirect jmp
	OSR_K_ICALL,     // indirect call
	OSR_K_RET,       // ret
};

#define OSR_RSB_MAX 256
#define OSR_CYC_ONE 65536 // fixed point: cost units per cycle

// Out-of-order core model (osr_cyc.core): static per-instruction info,
// indexed by instruction number (osr_state.prefix).
#define OSR_NREG 17      // 16 GPRs + flags
#define OSR_REG_FLAGS 16
#define OSR_REG_NONE 0xff
#define OSR_REG_RIP 0xfe // base of a RIP-relative / absolute address
enum { OSR_MEM_NONE = 0, OSR_MEM_LOAD = 1, OSR_MEM_STORE = 2, OSR_MEM_RMW = 3 };
// Value-tracking operations (symbolic register values for memory keys).
enum {
	OSR_V_FRESH = 0, // destination registers get new values
	OSR_V_COPY,      // dst = src (64-bit mov)
	OSR_V_ADDI,      // dst += imm (add/sub with an immediate, 64-bit)
	OSR_V_LEA,       // dst = base + disp (no index), or absolute
	OSR_V_CONST,     // dst = imm
	OSR_V_NONE,      // writes no tracked register (besides rsp deltas)
};
typedef struct osr_ii {
	uint8_t grp, mem, base, index;
	uint8_t nsrc, ndst, vop, stack; // stack: base is rsp or rbp (no index)
	uint8_t src[4], dst[2];
	uint8_t opl;     // the loaded value goes through an ALU op (1) or not (0)
	uint8_t nacc;    // memory accesses the emulator reports for it (hooks)
	uint8_t indep;   // zero idiom (xor r,r): no source dependency
	int32_t rsp_delta; // rsp change before the memory access (push/call: -8)
	int32_t rsp_post;  // rsp change after it (pop/ret: +8)
	int64_t disp;      // displacement, or absolute address for OSR_REG_RIP
	int64_t imm;       // for OSR_V_ADDI / OSR_V_CONST
	uint64_t lat;      // execution latency (fixed point)
	uint64_t occ;      // occupancy of its resource group (fixed point)
} osr_ii;

#define OSR_NGRP 8
#define OSR_ROB_MAX 1024
#define OSR_STQ 256 // symbolic store table entries (direct-mapped, power of two)
#define OSR_ATQ 512 // address store table: one entry per 8 bytes of a 4 KiB page
#define OSR_ACC_MAX 256
#define OSR_TAGE_T 4

typedef struct osr_core {
	osr_ii *ii; // [ninst]
	uint32_t *nacc_prefix; // [ninst+1] accesses reported before each instruction
	uint32_t ninst;
	uint64_t inv_width, inv_retire; // 1/dispatch width, 1/retire width
	uint32_t rob;
	uint64_t load_lat, fwd_lat, fwd_stack_lat;
	// State.
	uint64_t fe;               // front end: earliest dispatch of the next instruction
	uint64_t grp[OSR_NGRP];    // resource group clocks
	uint64_t ready[OSR_NREG];  // register ready times
	uint64_t vid[16];          // symbolic register values: (vid, voff)
	int64_t voff[16];
	uint64_t next_vid;
	uint64_t retire, last_done;
	uint64_t seq;
	uint64_t robq[OSR_ROB_MAX];
	uint64_t st_vid[OSR_STQ];
	int64_t st_off[OSR_STQ];
	uint64_t st_ready[OSR_STQ], st_commit[OSR_STQ], st_seq[OSR_STQ];
	uint64_t nstores; // stores so far (sequence numbers)
	uint32_t stq;     // store queue entries: younger stores than this are in flight
	uint64_t at_addr[OSR_ATQ], at_ready[OSR_ATQ], at_commit[OSR_ATQ], at_seq[OSR_ATQ];
	uint64_t alias_lat, commit_delay;
	// Memory accesses of the current block (memory hooks), and the block
	// they belong to, processed when the next block starts.
	int use_addr;
	uint32_t nacc;
	uint64_t acc[OSR_ACC_MAX];
	int pending;
	uint64_t pa, pe;
	uint64_t forwards, stack_forwards, aliases, addr_blocks, sym_blocks;
} osr_core;

typedef struct osr_tage {
	uint32_t bits;                 // log2 entries per tagged table
	uint32_t hlen[OSR_TAGE_T];     // history lengths
	uint32_t sh[OSR_TAGE_T][3];    // hlen mod the folded widths
	uint16_t *tag[OSR_TAGE_T];
	uint8_t *ctr[OSR_TAGE_T];      // 3-bit, >= 4 taken
	uint8_t *u[OSR_TAGE_T];
	uint64_t hist[4];              // 256 bits of global history, bit 0 newest
	uint32_t fi[OSR_TAGE_T], ft0[OSR_TAGE_T], ft1[OSR_TAGE_T]; // folded histories
	uint64_t branches;
} osr_tage;

// Cycle model state (see package cycles for the model). Tables and
// parameters are written by Go before the first run; the predictor state
// and counters are reset per run.
typedef struct osr_cyc {
	uint64_t *cost;       // [size+1] prefix sum of instruction costs (OSR_CYC_ONE units)
	uint8_t *end_kind;    // [size+1] OSR_K_* of the instruction ending at each offset
	uint32_t *end_start;  // [size+1] start offset of the instruction ending there
	uint32_t nclass;      // classes counted when cls_prefix != NULL
	uint32_t *cls_prefix; // [nclass*(size+1)] per-class prefix tables, or NULL

	uint64_t taken_cost; // every taken control transfer
	uint64_t cond_pen, ind_pen, ret_pen;
	int gshare;
	osr_tage *tage; // NULL: bimodal/gshare
	osr_core *core; // NULL: additive model
	uint32_t pht_bits, hist_bits;
	uint8_t *pht; // [1 << pht_bits] 2-bit counters
	uint32_t btb_entries; // power of two
	uint64_t *btb_pc, *btb_target;
	uint32_t rsb_depth; // 1..OSR_RSB_MAX

	// Predictor state.
	uint64_t prev_end; // code offset where the previous block ended, or UINT64_MAX
	uint64_t ghist;
	uint32_t rsb_top;
	uint64_t rsb[OSR_RSB_MAX];

	// Counters.
	uint64_t cycles; // OSR_CYC_ONE units
	uint64_t taken, cond, cond_miss, ind, ind_miss, ret, ret_miss;
	uint64_t *cls_counts; // [nclass], with cls_prefix
} osr_cyc;

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

	osr_cyc *cyc; // NULL: no cycle model

	// Optional per-instruction execution counts (disasm annotations),
	// indexed by instruction number (prefix table value).
	uint64_t *inst_counts; // [prefix[size]] or NULL
	// Optional timeline (trace): a record whenever execution enters
	// another segment or an event address: instructions executed before
	// it, its address, its segment id.
	uint64_t *trace; // [3*trace_cap] or NULL
	uint64_t trace_cap, trace_len, trace_dropped;
	uint32_t trace_seg; // segment of the last record
} osr_state;

osr_state *osr_state_new(uint64_t base, uint64_t size, uint32_t nseg, uint32_t nevents);
void osr_state_free(osr_state *s);
void osr_state_reset(osr_state *s);

// Optional tables: per-instruction counts, trace buffer (0 on success).
int osr_inst_counts_new(osr_state *s);
int osr_trace_new(osr_state *s, uint64_t cap);

// Cycle model: allocate tables (cls: also per-class prefix tables), reset.
osr_cyc *osr_cyc_new(osr_state *s, uint32_t pht_bits, uint32_t btb_entries, uint32_t nclass, int cls);
void osr_cyc_reset(osr_cyc *c);
int osr_cyc_core_new(osr_cyc *c, uint32_t ninst);
void osr_cyc_flush(osr_state *s);
uc_err osr_hook_mem(uc_engine *uc, osr_state *s);
int osr_cyc_tage_new(osr_cyc *c, uint32_t bits, const uint32_t *hlen);

// Hook installers; uc_hook_add is variadic, which cgo cannot call.
uc_err osr_hook_blocks(uc_engine *uc, osr_state *s);
uc_err osr_hook_insns(uc_engine *uc, osr_state *s);
uc_err osr_hook_event(uc_engine *uc, osr_state *s, uint32_t i, uint64_t addr);
uc_err osr_hook_faults(uc_engine *uc, osr_state *s);

// Drop every translated block (uc_ctl is variadic too).
uc_err osr_flush_tb(uc_engine *uc);

// Batch register access without storing Go pointers in C memory.
uc_err osr_reg_read_batch(uc_engine *uc, const int *regs, uint64_t *vals, int n);
uc_err osr_reg_write_batch(uc_engine *uc, const int *regs, const uint64_t *vals, int n);

#endif
