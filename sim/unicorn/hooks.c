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

static void osr_cyc_free(osr_cyc *c) {
	if (!c)
		return;
	free(c->cost);
	free(c->end_kind);
	free(c->end_start);
	free(c->cls_prefix);
	free(c->cls_counts);
	free(c->pht);
	free(c->btb_pc);
	free(c->btb_target);
	free(c);
}

osr_cyc *osr_cyc_new(osr_state *s, uint32_t pht_bits, uint32_t btb_entries, uint32_t nclass, int cls) {
	osr_cyc *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	uint64_t n = s->size + 1;
	c->cost = calloc(n, sizeof *c->cost);
	c->end_kind = calloc(n, 1);
	c->end_start = calloc(n, sizeof *c->end_start);
	c->pht_bits = pht_bits;
	c->pht = calloc((size_t)1 << pht_bits, 1);
	c->btb_entries = btb_entries;
	c->btb_pc = calloc(btb_entries, sizeof *c->btb_pc);
	c->btb_target = calloc(btb_entries, sizeof *c->btb_target);
	c->nclass = nclass;
	if (cls) {
		c->cls_prefix = calloc(n * nclass, sizeof *c->cls_prefix);
		c->cls_counts = calloc(nclass, sizeof *c->cls_counts);
	}
	if (!c->cost || !c->end_kind || !c->end_start || !c->pht || !c->btb_pc || !c->btb_target ||
	    (cls && (!c->cls_prefix || !c->cls_counts))) {
		osr_cyc_free(c);
		return NULL;
	}
	osr_cyc_free(s->cyc);
	s->cyc = c;
	osr_cyc_reset(c);
	return c;
}

// Every run starts with cold predictors, so runs are deterministic.
void osr_cyc_reset(osr_cyc *c) {
	c->prev_end = UINT64_MAX;
	c->ghist = 0;
	c->rsb_top = 0;
	memset(c->rsb, 0, sizeof c->rsb);
	memset(c->pht, 2, (size_t)1 << c->pht_bits); // weakly taken
	memset(c->btb_pc, 0xff, c->btb_entries * sizeof *c->btb_pc);
	memset(c->btb_target, 0, c->btb_entries * sizeof *c->btb_target);
	c->cycles = 0;
	c->taken = c->cond = c->cond_miss = c->ind = c->ind_miss = c->ret = c->ret_miss = 0;
	if (c->cls_counts)
		memset(c->cls_counts, 0, c->nclass * sizeof *c->cls_counts);
}

void osr_state_free(osr_state *s) {
	if (!s)
		return;
	osr_cyc_free(s->cyc);
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

int osr_inst_counts_new(osr_state *s) {
	s->inst_counts = calloc(s->prefix[s->size] + 1, sizeof *s->inst_counts);
	return s->inst_counts ? 0 : -1;
}

int osr_trace_new(osr_state *s, uint64_t cap) {
	s->trace = calloc(3 * cap, sizeof *s->trace);
	s->trace_cap = cap;
	s->trace_seg = UINT32_MAX;
	return s->trace ? 0 : -1;
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
	if (s->cyc)
		osr_cyc_reset(s->cyc);
	if (s->inst_counts)
		memset(s->inst_counts, 0, (s->prefix[s->size] + 1) * sizeof *s->inst_counts);
	s->trace_len = 0;
	s->trace_dropped = 0;
	s->trace_seg = UINT32_MAX;
}

// trace_span records the segments [a, e) enters, before its instructions
// are added to the total.
static void trace_span(osr_state *s, uint64_t a, uint64_t e) {
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
		r[0] = s->total + s->prefix[off] - s->prefix[a];
		r[1] = s->base + off;
		r[2] = id;
	}
}

static void count_insts(osr_state *s, uint64_t a, uint64_t e) {
	for (uint32_t i = s->prefix[a]; i < s->prefix[e]; i++)
		s->inst_counts[i]++;
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

// The control transfer that ended at code offset c->prev_end (if any) went
// to addr: run the predictors on it. Block and exact mode both call this
// with the previous block's (instruction's) end, so they agree: a block
// ends at every control transfer, and a block that ends without one is a
// fall-through (kind OSR_K_OTHER).
static void cyc_transfer(osr_state *s, osr_cyc *c, uint64_t addr, uint64_t pe, int k) {
	uint64_t next = s->base + pe; // fall-through / return address
	uint64_t pc = s->base + c->end_start[pe];
	uint64_t extra = 0;
	switch (k) {
	case OSR_K_COND: {
		int taken = addr != next;
		uint64_t mask = ((uint64_t)1 << c->pht_bits) - 1;
		uint64_t i = pc ^ (pc >> c->pht_bits);
		if (c->gshare)
			i ^= c->ghist;
		i &= mask;
		uint8_t ctr = c->pht[i];
		c->cond++;
		if ((ctr >= 2) != taken) {
			c->cond_miss++;
			extra += c->cond_pen;
		}
		if (taken) {
			if (ctr < 3)
				c->pht[i] = ctr + 1;
			c->taken++;
			extra += c->taken_cost;
		} else if (ctr > 0) {
			c->pht[i] = ctr - 1;
		}
		if (c->hist_bits)
			c->ghist = ((c->ghist << 1) | (uint64_t)taken) & (((uint64_t)1 << c->hist_bits) - 1);
		break;
	}
	case OSR_K_CALL:
	case OSR_K_ICALL:
		if (++c->rsb_top == c->rsb_depth)
			c->rsb_top = 0;
		c->rsb[c->rsb_top] = next;
		if (k == OSR_K_CALL)
			goto direct;
		/* fall through */
	case OSR_K_IJMP: {
		uint64_t i = (pc ^ (pc >> 12)) & (c->btb_entries - 1);
		c->ind++;
		if (c->btb_pc[i] != pc || c->btb_target[i] != addr) {
			c->ind_miss++;
			extra += c->ind_pen;
			c->btb_pc[i] = pc;
			c->btb_target[i] = addr;
		}
		goto direct;
	}
	case OSR_K_RET: {
		uint64_t pred = c->rsb[c->rsb_top];
		c->rsb_top = (c->rsb_top ? c->rsb_top : c->rsb_depth) - 1;
		c->ret++;
		if (pred != addr) {
			c->ret_miss++;
			extra += c->ret_pen;
		}
		goto direct;
	}
	case OSR_K_JMP:
	direct:
		c->taken++;
		extra += c->taken_cost;
		break;
	}
	c->cycles += extra;
}

// The cycle model's part of a block [a, e) of code offsets.
static inline void cyc_block(osr_state *s, osr_cyc *c, uint64_t addr, uint64_t a, uint64_t e) {
	uint64_t pe = c->prev_end;
	if (pe != UINT64_MAX) {
		int k = c->end_kind[pe];
		if (k != OSR_K_OTHER)
			cyc_transfer(s, c, addr, pe, k);
	}
	c->cycles += c->cost[e] - c->cost[a];
	if (c->cls_prefix) {
		uint64_t n = s->size + 1;
		for (uint32_t k = 0; k < c->nclass; k++)
			c->cls_counts[k] += c->cls_prefix[k * n + e] - c->cls_prefix[k * n + a];
	}
	c->prev_end = e;
}

// The hot path: one call per translation block executed.
static void block_cb(uc_engine *uc, uint64_t addr, uint32_t size, void *ud) {
	osr_state *s = ud;
	uint64_t a = addr - s->base, e = a + size;
	if (a >= s->size)
		return; // outside the tables; the hook range should prevent this
	if (e > s->size)
		e = s->size;
	uint32_t n = s->prefix[e] - s->prefix[a];
	if (s->trace)
		trace_span(s, a, e);
	if (s->inst_counts)
		count_insts(s, a, e);
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
	if (s->cyc)
		cyc_block(s, s->cyc, addr, a, e);
	if (s->max_insts && s->total > s->max_insts)
		runaway(uc, s);
}

// Exact and verification mode: one call per instruction executed.
static void insn_cb(uc_engine *uc, uint64_t addr, uint32_t size, void *ud) {
	osr_state *s = ud;
	uint64_t a = addr - s->base;
	if (a >= s->size)
		return;
	if (s->trace)
		trace_span(s, a, a + 1);
	if (s->inst_counts)
		s->inst_counts[s->prefix[a]]++;
	s->total++;
	s->seg_counts[s->seg[a]]++;
	if (s->cyc) {
		uint64_t e = a + size;
		cyc_block(s, s->cyc, addr, a, e <= s->size ? e : s->size);
	}
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
