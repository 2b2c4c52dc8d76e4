// C side of the cycle model (see README.md): the predictors and the
// out-of-order core, evaluated per executed block through the emulator's
// observer interface (observe.h). Go fills the tables once per machine
// (estimator.go) and reads the counters after each run; nothing here holds
// a Go pointer or calls into Go.
#ifndef OSR_CYCLES_H
#define OSR_CYCLES_H

#include <stdint.h>

#include "observe.h"

#define CYC_ONE 65536 // fixed point: cost units per cycle
#define CYC_RSB_MAX 256

// Kind of the instruction that ends at a code offset (cyc_state.end_kind):
// what the predictors look at when the next block starts.
enum {
	CYC_K_OTHER = 0, // falls through
	CYC_K_COND,      // conditional branch
	CYC_K_JMP,       // direct jmp
	CYC_K_CALL,      // direct call
	CYC_K_IJMP,      // indirect jmp
	CYC_K_ICALL,     // indirect call
	CYC_K_RET,       // ret
};

// ---- Out-of-order core: static per-instruction info (analyze.go) ----------

// Registers: the 16 GPRs in encoding order, then the flags.
#define CYC_NGPR 16
#define CYC_NREG (CYC_NGPR + 1)
#define CYC_REG_RSP 4
#define CYC_REG_RBP 5
#define CYC_REG_FLAGS CYC_NGPR
#define CYC_REG_NONE 0xff
#define CYC_REG_ABS 0xfe // base of a RIP-relative or absolute address: disp is the address
enum { CYC_MEM_NONE = 0, CYC_MEM_LOAD = 1, CYC_MEM_STORE = 2, CYC_MEM_RMW = 3 };
// Value-tracking operations (symbolic register values for memory keys).
enum {
	CYC_V_FRESH = 0, // destination registers get new values
	CYC_V_COPY,      // dst = src (64-bit mov)
	CYC_V_ADDI,      // dst += imm (add/sub with an immediate, 64-bit)
	CYC_V_LEA,       // dst = base + disp (no index), or absolute
	CYC_V_CONST,     // dst = imm
	CYC_V_NONE,      // writes no tracked register (besides rsp deltas)
};
#define CYC_MAX_SRC 4
#define CYC_MAX_DST 2
typedef struct cyc_ii {
	uint8_t grp, mem, base, index;
	uint8_t nsrc, ndst, vop, stack; // stack: base is rsp or rbp (no index)
	uint8_t src[CYC_MAX_SRC], dst[CYC_MAX_DST];
	uint8_t opl;       // the loaded value goes through an ALU op (1) or not (0)
	uint8_t nacc;      // memory accesses the emulator reports for it (hooks)
	uint8_t indep;     // zero idiom (xor r,r): no source dependency
	uint8_t has_ea;    // the core uses its real address: accesses memory, reported (nacc > 0)
	int32_t rsp_delta; // rsp change before the memory access (push/call: -8)
	int32_t rsp_post;  // rsp change after it (pop/ret: +8)
	int64_t disp;      // displacement, or the address for CYC_REG_ABS
	int64_t imm;       // for CYC_V_ADDI / CYC_V_CONST
	uint8_t cls;       // its class: cyc_core's lat and occ
} cyc_ii;

// ---- Addresses: each block's accesses computed before it runs (addr.c) ----

enum { CYC_ARG_NONE = 0, CYC_ARG_REG, CYC_ARG_IMM, CYC_ARG_MEM, CYC_ARG_XREG, CYC_ARG_REL };
typedef struct cyc_arg {
	uint8_t kind, reg, shift; // shift: 8 for ah, ch, dh, bh
	uint16_t size;            // bytes
	int64_t imm;
} cyc_arg;
// What an instruction does to registers and memory (addrplan.go).
enum {
	CYC_A_NONE = 0, // nothing the interpreter tracks
	CYC_A_MOV, CYC_A_MOVZX, CYC_A_MOVSX, CYC_A_LEA,
	CYC_A_ADD, CYC_A_SUB, CYC_A_AND, CYC_A_OR, CYC_A_XOR, CYC_A_IMUL,
	CYC_A_INC, CYC_A_DEC, CYC_A_NEG, CYC_A_NOT, CYC_A_SHL, CYC_A_SHR, CYC_A_SAR,
	CYC_A_PUSH, CYC_A_POP, CYC_A_CALL, CYC_A_RET, CYC_A_LEAVE,
	CYC_A_XCHG, CYC_A_XADD, CYC_A_CMPXCHG, CYC_A_CDQE, CYC_A_CQO, CYC_A_CDQ,
	CYC_A_OTHER, // writes values it does not compute (wr, wmem)
};
// The access whose address the core model uses (addrplan.go usedAccess).
enum { CYC_U_NONE = 0, CYC_U_EA, CYC_U_EA8, CYC_U_PUSH, CYC_U_POP };
// What CYC_A_OTHER writes in memory.
enum { CYC_W_NONE = 0, CYC_W_OPERAND, CYC_W_ALL };
typedef struct cyc_ai {
	uint8_t op, use, nargs, wmem;
	uint8_t base, index, scale, segment; // memory operand; base CYC_REG_ABS: disp is the address
	uint16_t wr;                         // CYC_A_OTHER: registers it writes (bit i: register i)
	// What step() reads and writes (addr_prepare: effects), for the blocks'
	// slices: registers read, read for the used address, maybe written,
	// surely written whole; whether it reads or writes memory.
	uint16_t rd, rd_used, wr_may, wr_def;
	uint8_t loads, stores;
	int64_t disp;
	uint64_t next; // address of the next instruction (what a call pushes)
	cyc_arg a[3];  // operands, destination first
} cyc_ai;

#define CYC_BLOCK_MAX 512 // instructions of a block with addresses (QEMU: 512 at most)
#define CYC_STORES_MAX 64 // stores the interpreter forwards within a block

// A block's slice (addr.c slice): how addr_block runs each of its
// instructions, and the registers whose tracked values it leaves unknown.
typedef struct cyc_slice {
	uint32_t i1;       // the block's end; 0: not computed
	uint16_t kill;     // registers written by instructions it does not run
	uint16_t defs;     // registers instructions it runs write whole
	uint16_t live_out; // registers it computes for later blocks (learnt: read_reg)
	uint8_t *form;     // [i1 - i0]
} cyc_slice;

typedef struct cyc_addr {
	cyc_ai *ai; // [ninst]
	uint8_t *form;    // [ninst] how addr_block runs each instruction (addr_prepare)
	cyc_slice *slice; // [ninst] by the block's first instruction
	cyc_slice whole;  // a block run whole (out of memory for its slice)
	uint32_t ninst;
	const osr_machine *m;
	uint64_t gpr[CYC_NGPR];
	uint32_t known;  // registers with a value in gpr
	uint32_t killed; // registers a block's slice left unknown, by block (killer)
	uint32_t killer[CYC_NGPR];
	uint32_t stale;  // registers written with an unknown value in this block
	// Stores of the block being interpreted, for its later loads.
	uint32_t nst;
	int st_all; // a store to an unknown address, or more than the table holds
	uint64_t st_addr[CYC_STORES_MAX], st_val[CYC_STORES_MAX];
	uint32_t st_size[CYC_STORES_MAX];
	uint8_t st_ok[CYC_STORES_MAX];
	const osr_region *last; // region of the last memory read
	uint64_t reads;         // registers read from the emulator
} cyc_addr;

// addr_block computes the addresses the core model uses for instructions
// [i0, i1) into ea[0..i1-i0) and returns whether all of them are known.
int addr_block(cyc_addr *x, uint32_t i0, uint32_t i1, uint64_t *ea);
// addr_prepare picks each instruction's form once its plan is written
// (0, or -1: out of memory).
int addr_prepare(cyc_addr *x, uint32_t ninst);
void addr_reset(cyc_addr *x);
void addr_free(cyc_addr *x);
// addr_check_effects (for tests) runs instruction i from registers g1 and
// memory m1, from g1 with other's values outside the registers it reads
// and m1, and from g1 and m2 (other contents), and returns which of its
// summaries (cyc_ai rd, wr_may, wr_def, loads, stores) the runs
// contradict.
enum { CYC_EFF_WRITES = 1, CYC_EFF_READS = 2, CYC_EFF_DEF = 4, CYC_EFF_LOADS = 8, CYC_EFF_STORES = 16 };
int addr_check_effects(const cyc_addr *x, uint32_t i, const osr_machine *m1, const osr_machine *m2,
                       const uint64_t *g1, const uint64_t *other);

#define CYC_NGRP 8
#define CYC_CLASS_MAX 32 // instruction classes (cycles.NumClasses)
#define CYC_ROB_MAX 1024
#define CYC_STQ 256 // symbolic store table entries (direct-mapped, power of two)
#define CYC_ATQ 512 // address store table: one entry per 8 bytes of a 4 KiB page

typedef struct cyc_core {
	cyc_ii *ii;            // [ninst] by instruction number
	uint32_t *nacc_prefix; // [ninst+1] accesses reported before each instruction
	uint32_t ninst;
	uint64_t inv_width, inv_retire; // 1/dispatch width, 1/retire width
	uint32_t rob;
	uint64_t load_lat, fwd_lat, fwd_stack_lat;
	// By class (a table rather than a copy in each instruction's entry):
	// execution latency, and occupancy of its resource group.
	uint64_t lat[CYC_CLASS_MAX], occ[CYC_CLASS_MAX];
	// State.
	uint64_t fe;               // front end: earliest dispatch of the next instruction
	uint64_t grp[CYC_NGRP];    // resource group clocks
	uint64_t ready[CYC_NREG];  // register ready times
	uint64_t vid[CYC_NGPR];    // symbolic register values: (vid, voff)
	int64_t voff[CYC_NGPR];
	uint64_t next_vid;
	uint64_t retire, last_done;
	uint64_t seq;
	uint64_t robq[CYC_ROB_MAX];
	uint64_t st_vid[CYC_STQ];
	int64_t st_off[CYC_STQ];
	uint64_t st_ready[CYC_STQ], st_commit[CYC_STQ], st_seq[CYC_STQ];
	uint64_t nstores; // stores so far (sequence numbers)
	uint64_t stq_lim; // store queue entries (all if 0): stores with fewer younger ones are in flight
	uint64_t at_addr[CYC_ATQ], at_ready[CYC_ATQ], at_commit[CYC_ATQ], at_seq[CYC_ATQ];
	uint64_t alias_lat, commit_delay;
	// Real addresses of the pending block (instructions [pi0, pi1)), which
	// is processed when the next block starts: computed by the address
	// interpreter before it ran (addr), or, as a reference for tests, from
	// the accesses the machine's memory hooks reported while it ran (acc).
	int use_addr;
	cyc_addr *addr;
	osr_accesses acc;
	int pending;
	uint32_t pi0, pi1;
	int ea_ok;
	uint64_t ea[CYC_BLOCK_MAX];
	int verify;                    // CYC_ADDR_VERIFY
	uint64_t verified, mismatches; // addresses compared, and found different
	uint64_t forwards, stack_forwards, aliases, addr_blocks, sym_blocks;
} cyc_core;

// ---- TAGE -------------------------------------------------------------------

#define CYC_TAGE_T 4

typedef struct cyc_tage {
	uint32_t bits;             // log2 entries per tagged table
	uint32_t hlen[CYC_TAGE_T]; // history lengths
	uint16_t *tag[CYC_TAGE_T];
	uint8_t *ctr[CYC_TAGE_T]; // 3-bit, >= 4 taken
	uint8_t *u[CYC_TAGE_T];
	uint64_t hist[4]; // 256 bits of global history, bit 0 newest
	// Folded histories (index: bits wide; tag: 8 and 7 bits), and where
	// the outcome leaving each table's history enters them: bit hlen mod
	// the width (constants computed once, so that tage_push is straight
	// arithmetic).
	uint32_t fi[CYC_TAGE_T], ft0[CYC_TAGE_T], ft1[CYC_TAGE_T];
	uint32_t outi[CYC_TAGE_T], outt0[CYC_TAGE_T], outt1[CYC_TAGE_T];
	uint32_t tix[CYC_TAGE_T]; // table number in the index's top bits
	uint32_t oword[CYC_TAGE_T], oshift[CYC_TAGE_T]; // where hist holds the outcome leaving each history
	// What the lookups take from them, kept by tage_push: the index's
	// history part (fi ^ tix) and the tag's ((ft0 ^ ft1 << 1) & 0xff).
	uint32_t ix[CYC_TAGE_T], tx[CYC_TAGE_T];
	uint64_t branches;
} cyc_tage;

// tage_predict_update predicts the conditional branch at pc with the
// bimodal base pht (2^pht_bits 2-bit counters) and the tagged tables,
// trains on taken and returns whether the prediction was right.
int tage_predict_update(cyc_tage *g, uint8_t *pht, uint32_t pht_bits, uint64_t pc, int taken);
void tage_reset(cyc_tage *g);

// ---- The estimator ----------------------------------------------------------

// Cycle model state for one machine's code range [base, base+size). Tables
// and parameters are written by Go before the first run; the predictor
// state and counters are reset per run.
typedef struct cyc_state {
	osr_observer obs; // what the machine calls (ctx: this state)
	uint64_t base, size;

	uint64_t *cost;       // [size+1] prefix sum of instruction costs (CYC_ONE units)
	uint8_t *end_kind;    // [size+1] CYC_K_* of the instruction ending at each offset
	uint32_t *end_start;  // [size+1] start offset of the instruction ending there
	uint32_t nclass;      // classes counted when cls_prefix != NULL
	uint32_t *cls_prefix; // [nclass*(size+1)] per-class prefix tables, or NULL

	uint64_t taken_cost; // every taken control transfer
	uint64_t cond_pen, ind_pen, ret_pen;
	int gshare;
	cyc_tage *tage; // NULL: bimodal/gshare
	cyc_core *core; // NULL: additive model
	uint32_t pht_bits, hist_bits;
	uint8_t *pht; // [1 << pht_bits] 2-bit counters
	uint32_t btb_entries; // power of two
	uint64_t *btb_pc, *btb_target;
	uint32_t rsb_depth; // 1..CYC_RSB_MAX

	// Predictor state.
	uint64_t prev_end; // code offset where the previous block ended, or UINT64_MAX
	uint64_t ghist;
	uint32_t rsb_top;
	uint64_t rsb[CYC_RSB_MAX];

	// Counters.
	uint64_t cycles; // CYC_ONE units
	uint64_t taken, cond, cond_miss, ind, ind_miss, ret, ret_miss;
	uint64_t *cls_counts; // [nclass], with cls_prefix
} cyc_state;

// Allocate the tables (cls: also per-class prefix tables); NULL if out of
// memory. The optional parts follow: 0 on success.
cyc_state *cyc_new(uint64_t base, uint64_t size, uint32_t pht_bits, uint32_t btb_entries, uint32_t nclass, int cls);
int cyc_core_new(cyc_state *c, uint32_t ninst);
int cyc_tage_new(cyc_state *c, uint32_t bits, const uint32_t *hlen);
void cyc_free(cyc_state *c);
// Fill c->obs and reset. Real addresses for the core: computed by the
// address interpreter (CYC_ADDR_COMPUTE, needs cyc_addr_new) or reported
// by memory hooks (CYC_ADDR_HOOKS, the reference for tests).
// CYC_ADDR_VERIFY computes them and also compares them with the hooks'.
enum { CYC_ADDR_NONE = 0, CYC_ADDR_COMPUTE, CYC_ADDR_HOOKS, CYC_ADDR_VERIFY };
void cyc_ready(cyc_state *c, int addresses);
int cyc_addr_new(cyc_state *c, uint32_t ninst);

// The core model's part of the observer (core.c).
void core_block(cyc_core *k, uint32_t i0, uint32_t i1);
void core_hook_addresses(cyc_core *k, uint32_t i0, uint32_t i1);
void core_redirect(cyc_core *k, uint64_t pen);
void core_reset(cyc_core *k);

#endif
