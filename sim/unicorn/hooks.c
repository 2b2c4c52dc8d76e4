#include <stdlib.h>
#include <string.h>

#include "hooks.h"

osr_state *osr_state_new(uint64_t base, uint64_t size, uint32_t nseg, uint32_t nevents) {
	osr_state *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->base = base;
	s->size = size;
	s->nseg = nseg;
	s->nevents = nevents;
	s->prefix = calloc(size + 1, sizeof *s->prefix);
	s->seg = calloc(size, sizeof *s->seg);
	s->seg_end = calloc(nseg, sizeof *s->seg_end);
	s->flags = calloc(size + 1, 1);
	s->seg_counts = calloc(nseg, sizeof *s->seg_counts);
	s->event_counts = calloc(nevents ? nevents : 1, sizeof *s->event_counts);
	if (!s->prefix || !s->seg || !s->seg_end || !s->flags || !s->seg_counts || !s->event_counts) {
		osr_state_free(s);
		return NULL;
	}
	return s;
}

void osr_state_free(osr_state *s) {
	if (!s)
		return;
	free(s->prefix);
	free(s->seg);
	free(s->seg_end);
	free(s->flags);
	free(s->seg_counts);
	free(s->event_counts);
	free(s->inst_counts);
	free(s->trace);
	free(s);
}

int osr_observer_add(osr_state *s, const osr_observer *o) {
	if (s->nobs == OSR_MAX_OBSERVERS || !o->block)
		return -1;
	s->obs[s->nobs++] = *o;
	return 0;
}

void osr_observers_end(osr_state *s) {
	for (uint32_t k = 0; k < s->nobs; k++)
		if (s->obs[k].end)
			s->obs[k].end(s->obs[k].ctx);
}

// ---- Per-instruction counts: a built-in observer -----------------------------

static void inst_counts_block(void *ctx, uint64_t a, uint64_t e, uint32_t i0, uint32_t i1) {
	osr_state *s = ctx;
	for (uint32_t i = i0; i < i1; i++)
		s->inst_counts[i]++;
}

static void inst_counts_reset(void *ctx) {
	osr_state *s = ctx;
	memset(s->inst_counts, 0, (s->prefix[s->size] + 1) * sizeof *s->inst_counts);
}

int osr_inst_counts_new(osr_state *s) {
	s->inst_counts = calloc(s->prefix[s->size] + 1, sizeof *s->inst_counts);
	if (!s->inst_counts)
		return -1;
	osr_observer o = {.ctx = s, .block = inst_counts_block, .reset = inst_counts_reset};
	return osr_observer_add(s, &o);
}

// ---- Trace: a built-in observer ----------------------------------------------

// trace_block records the segments [a, e) enters. Observers run before the
// block is counted, so s->total is the count before it.
static void trace_block(void *ctx, uint64_t a, uint64_t e, uint32_t i0, uint32_t i1) {
	osr_state *s = ctx;
	for (uint64_t off = a; off < e; off = s->seg_end[s->seg[off]]) {
		uint32_t id = s->seg[off];
		if (id == s->trace_seg && !(off == a && (s->flags[a] & OSR_FLAG_EVENT)))
			continue;
		s->trace_seg = id;
		if (s->trace_len == s->trace_cap) {
			s->trace_dropped++;
			continue;
		}
		uint64_t *r = &s->trace[3 * s->trace_len++];
		r[0] = s->total + s->prefix[off] - i0;
		r[1] = s->base + off;
		r[2] = id;
	}
}

static void trace_reset(void *ctx) {
	osr_state *s = ctx;
	s->trace_len = 0;
	s->trace_dropped = 0;
	s->trace_seg = UINT32_MAX;
}

int osr_trace_new(osr_state *s, uint64_t cap) {
	s->trace = calloc(3 * cap, sizeof *s->trace);
	if (!s->trace)
		return -1;
	s->trace_cap = cap;
	s->trace_seg = UINT32_MAX;
	osr_observer o = {.ctx = s, .block = trace_block, .reset = trace_reset};
	return osr_observer_add(s, &o);
}

void osr_state_reset(osr_state *s) {
	s->total = 0;
	memset(s->seg_counts, 0, s->nseg * sizeof *s->seg_counts);
	memset(s->event_counts, 0, (s->nevents ? s->nevents : 1) * sizeof *s->event_counts);
	s->calls = 0;
	s->misaligned = 0;
	memset(s->misaligned_pc, 0, sizeof s->misaligned_pc);
	memset(s->misaligned_rsp, 0, sizeof s->misaligned_rsp);
	s->stop = OSR_STOP_NONE;
	s->mem_type = 0;
	s->mem_size = 0;
	s->mem_value = 0;
	s->mem_addr = 0;
	s->stop_pc = 0;
	s->intno = 0;
	for (uint32_t k = 0; k < s->nobs; k++)
		if (s->obs[k].reset)
			s->obs[k].reset(s->obs[k].ctx);
}

static void runaway(uc_engine *uc, osr_state *s) {
	if (s->stop == OSR_STOP_NONE) {
		s->stop = OSR_STOP_RUNAWAY;
		uc_reg_read(uc, UC_X86_REG_RIP, &s->stop_pc);
	}
	uc_emu_stop(uc);
}

// A block that crosses segment boundaries: one step per segment, not per
// instruction, using the prefix table inside each piece.
static void count_span(osr_state *s, uint64_t a, uint64_t e) {
	while (a < e) {
		uint32_t id = s->seg[a];
		uint64_t end = s->seg_end[id];
		if (end > e)
			end = e;
		s->seg_counts[id] += s->prefix[end] - s->prefix[a];
		a = end;
	}
}

// The hot path: one call per translation block executed.
static void block_cb(uc_engine *uc, uint64_t addr, uint32_t size, void *ud) {
	osr_state *s = ud;
	uint64_t a = addr - s->base, e = a + size;
	if (a >= s->size)
		return; // outside the tables; the hook range should prevent this
	if (e > s->size)
		e = s->size;
	uint32_t i0 = s->prefix[a], i1 = s->prefix[e];
	for (uint32_t k = 0; k < s->nobs; k++)
		s->obs[k].block(s->obs[k].ctx, a, e, i0, i1);
	uint32_t n = i1 - i0;
	s->total += n;
	uint32_t id = s->seg[a];
	if (e <= s->seg_end[id])
		s->seg_counts[id] += n;
	else
		count_span(s, a, e);
	// A call always ends its translation block, so a block that ends at a
	// call's return address executed that call.
	if (e > a && (s->flags[e] & OSR_FLAG_CALL_END))
		s->calls++;
	if (s->max_insts && s->total > s->max_insts)
		runaway(uc, s);
}

// Exact and verification mode: one call per instruction executed.
static void insn_cb(uc_engine *uc, uint64_t addr, uint32_t size, void *ud) {
	osr_state *s = ud;
	uint64_t a = addr - s->base, e = a + size;
	if (a >= s->size)
		return;
	if (e > s->size)
		e = s->size;
	for (uint32_t k = 0; k < s->nobs; k++)
		s->obs[k].block(s->obs[k].ctx, a, e, s->prefix[a], s->prefix[e]);
	s->total++;
	s->seg_counts[s->seg[a]]++;
	if (s->flags[a] & OSR_FLAG_CALL) {
		s->calls++;
		if (s->check_align) {
			uint64_t rsp = 0;
			uc_reg_read(uc, UC_X86_REG_RSP, &rsp);
			if (rsp & 15) {
				if (s->misaligned < OSR_MAX_MISALIGNED) {
					s->misaligned_pc[s->misaligned] = addr;
					s->misaligned_rsp[s->misaligned] = rsp;
				}
				s->misaligned++;
			}
		}
	}
	if (s->max_insts && s->total > s->max_insts)
		runaway(uc, s);
}

static void event_cb(uc_engine *uc, uint64_t addr, uint32_t size, void *ud) {
	(*(uint64_t *)ud)++;
}

static bool mem_invalid_cb(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value,
                           void *ud) {
	osr_state *s = ud;
	if (s->stop == OSR_STOP_NONE) {
		s->stop = OSR_STOP_MEM;
		s->mem_type = type;
		s->mem_addr = addr;
		s->mem_size = size;
		s->mem_value = value;
		// RIP is not synced inside a memory hook (it still holds the
		// block's start); Unicorn restores it before uc_emu_start returns.
	}
	return false; // not handled: uc_emu_start returns the matching error
}

// Without this hook a CPU exception would end the run as UC_ERR_EXCEPTION
// with no exception number; with it, the emulator would resume after the
// handler returns, so stop explicitly.
static void intr_cb(uc_engine *uc, uint32_t intno, void *ud) {
	osr_state *s = ud;
	if (s->stop == OSR_STOP_NONE) {
		s->stop = OSR_STOP_INTR;
		s->intno = intno;
		uc_reg_read(uc, UC_X86_REG_RIP, &s->stop_pc);
	}
	uc_emu_stop(uc);
}

uc_err osr_hook_blocks(uc_engine *uc, osr_state *s) {
	uc_hook h;
	return uc_hook_add(uc, &h, UC_HOOK_BLOCK, (void *)block_cb, s, s->base, s->base + s->size - 1);
}

uc_err osr_hook_insns(uc_engine *uc, osr_state *s) {
	uc_hook h;
	return uc_hook_add(uc, &h, UC_HOOK_CODE, (void *)insn_cb, s, s->base, s->base + s->size - 1);
}

uc_err osr_hook_event(uc_engine *uc, osr_state *s, uint32_t i, uint64_t addr) {
	uc_hook h;
	if (i >= s->nevents)
		return UC_ERR_ARG;
	return uc_hook_add(uc, &h, UC_HOOK_CODE, (void *)event_cb, &s->event_counts[i], addr, addr);
}

// Unicorn 2.0.1 executes syscall and sysenter as no-ops when nothing hooks
// them; generated code must never make one, so stop.
static void syscall_cb(uc_engine *uc, void *ud) {
	osr_state *s = ud;
	if (s->stop == OSR_STOP_NONE) {
		s->stop = OSR_STOP_SYSCALL;
		uc_reg_read(uc, UC_X86_REG_RIP, &s->stop_pc);
	}
	uc_emu_stop(uc);
}

uc_err osr_hook_faults(uc_engine *uc, osr_state *s) {
	uc_hook h;
	uc_err err = uc_hook_add(uc, &h, UC_HOOK_MEM_INVALID, (void *)mem_invalid_cb, s, 1, 0);
	if (err == UC_ERR_OK)
		err = uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)intr_cb, s, 1, 0);
	if (err == UC_ERR_OK)
		err = uc_hook_add(uc, &h, UC_HOOK_INSN, (void *)syscall_cb, s, 1, 0, UC_X86_INS_SYSCALL);
	if (err == UC_ERR_OK)
		err = uc_hook_add(uc, &h, UC_HOOK_INSN, (void *)syscall_cb, s, 1, 0, UC_X86_INS_SYSENTER);
	return err;
}

// mem_cb appends a memory access to an observer's buffer (user data).
static void mem_cb(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value, void *ud) {
	osr_accesses *b = ud;
	if (b->n < OSR_ACC_MAX)
		b->addr[b->n] = addr;
	b->n++;
}

uc_err osr_hook_mem(uc_engine *uc, osr_state *s) {
	for (uint32_t k = 0; k < s->nobs; k++) {
		if (!s->obs[k].mem)
			continue;
		uc_hook h;
		uc_err err = uc_hook_add(uc, &h, UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE, (void *)mem_cb, s->obs[k].mem, 1, 0);
		if (err != UC_ERR_OK)
			return err;
	}
	return UC_ERR_OK;
}

uc_err osr_reg_read_batch(uc_engine *uc, const int *regs, uint64_t *vals, int n) {
	void *ptrs[64];
	if (n < 0 || n > 64)
		return UC_ERR_ARG;
	for (int i = 0; i < n; i++)
		ptrs[i] = &vals[i];
	return uc_reg_read_batch(uc, (int *)regs, ptrs, n);
}

uc_err osr_reg_write_batch(uc_engine *uc, const int *regs, const uint64_t *vals, int n) {
	const void *ptrs[64];
	if (n < 0 || n > 64)
		return UC_ERR_ARG;
	for (int i = 0; i < n; i++)
		ptrs[i] = &vals[i];
	return uc_reg_write_batch(uc, (int *)regs, (void *const *)ptrs, n);
}

uc_err osr_flush_tb(uc_engine *uc) {
	return uc_ctl(uc, UC_CTL_WRITE(UC_CTL_TB_FLUSH, 0));
}
