// The cycle model as an observer of one machine (observe.h): per block,
// the predictors judge the control transfer that led to it, and either the
// additive model adds the block's costs or the core model runs its
// instructions.
#include <stdlib.h>
#include <string.h>

#include "cycles.h"

void cyc_free(cyc_state *c) {
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
	if (c->core) {
		free(c->core->ii);
		free(c->core->nacc_prefix);
		addr_free(c->core->addr);
		free(c->core);
	}
	if (c->tage) {
		for (int t = 0; t < CYC_TAGE_T; t++) {
			free(c->tage->tag[t]);
			free(c->tage->ctr[t]);
			free(c->tage->u[t]);
		}
		free(c->tage);
	}
	free(c);
}

cyc_state *cyc_new(uint64_t base, uint64_t size, uint32_t pht_bits, uint32_t btb_entries, uint32_t nclass, int cls) {
	cyc_state *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->base = base;
	c->size = size;
	uint64_t n = size + 1;
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
		cyc_free(c);
		return NULL;
	}
	return c;
}

int cyc_core_new(cyc_state *c, uint32_t ninst) {
	cyc_core *k = calloc(1, sizeof *k);
	if (!k)
		return -1;
	k->ii = calloc(ninst + 1, sizeof *k->ii);
	k->nacc_prefix = calloc(ninst + 1, sizeof *k->nacc_prefix);
	if (!k->ii || !k->nacc_prefix) {
		free(k->ii);
		free(k->nacc_prefix);
		free(k);
		return -1;
	}
	k->ninst = ninst;
	c->core = k;
	return 0;
}

// The address interpreter's table (filled by Go); freed with c.
int cyc_addr_new(cyc_state *c, uint32_t ninst) {
	cyc_addr *x = calloc(1, sizeof *x);
	if (!x)
		return -1;
	c->core->addr = x;
	x->ninst = ninst;
	x->ai = calloc(ninst + 1, sizeof *x->ai);
	x->slice = calloc(ninst + 1, sizeof *x->slice);
	return x->ai && x->slice ? 0 : -1;
}

// On failure the tables allocated so far are freed with c.
int cyc_tage_new(cyc_state *c, uint32_t bits, const uint32_t *hlen) {
	cyc_tage *g = calloc(1, sizeof *g);
	if (!g)
		return -1;
	c->tage = g;
	g->bits = bits;
	for (int t = 0; t < CYC_TAGE_T; t++) {
		g->hlen[t] = hlen[t];
		g->outi[t] = 1u << (hlen[t] % bits);
		g->outt0[t] = 1u << (hlen[t] % 8);
		g->outt1[t] = 1u << (hlen[t] % 7);
		g->tix[t] = (uint32_t)t << (bits - 2);
		g->oword[t] = (hlen[t] - 1) / 64;
		g->oshift[t] = (hlen[t] - 1) % 64;
		g->tag[t] = calloc((size_t)1 << bits, sizeof *g->tag[t]);
		g->ctr[t] = calloc((size_t)1 << bits, 1);
		g->u[t] = calloc((size_t)1 << bits, 1);
		if (!g->tag[t] || !g->ctr[t] || !g->u[t])
			return -1;
	}
	return 0;
}

// Every run starts with cold predictors, so runs are deterministic.
static void cyc_reset(void *ctx) {
	cyc_state *c = ctx;
	c->prev_end = UINT64_MAX;
	c->ghist = 0;
	c->rsb_top = 0;
	memset(c->rsb, 0, sizeof c->rsb);
	memset(c->pht, 2, (size_t)1 << c->pht_bits); // weakly taken
	memset(c->btb_pc, 0xff, c->btb_entries * sizeof *c->btb_pc);
	memset(c->btb_target, 0, c->btb_entries * sizeof *c->btb_target);
	c->cycles = 0;
	c->taken = c->cond = c->cond_miss = c->ind = c->ind_miss = c->ret = c->ret_miss = 0;
	if (c->core)
		core_reset(c->core);
	if (c->tage)
		tage_reset(c->tage);
	if (c->cls_counts)
		memset(c->cls_counts, 0, c->nclass * sizeof *c->cls_counts);
}

// predict_cond runs the conditional-branch predictor on the branch at pc;
// it returns the cycles its outcome adds (misprediction, taken redirect).
static uint64_t predict_cond(cyc_state *c, uint64_t pc, int taken) {
	uint64_t extra = 0;
	c->cond++;
	if (c->tage) {
		if (!tage_predict_update(c->tage, c->pht, c->pht_bits, pc, taken)) {
			c->cond_miss++;
			extra += c->cond_pen;
		}
		if (taken) {
			c->taken++;
			extra += c->taken_cost;
		}
		return extra;
	}
	uint64_t mask = ((uint64_t)1 << c->pht_bits) - 1;
	uint64_t i = pc ^ (pc >> c->pht_bits);
	if (c->gshare)
		i ^= c->ghist;
	i &= mask;
	uint8_t ctr = c->pht[i];
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
	return extra;
}

// predict_indirect looks the branch at pc up in the last-target BTB.
static uint64_t predict_indirect(cyc_state *c, uint64_t pc, uint64_t target) {
	uint64_t i = (pc ^ (pc >> 12)) & (c->btb_entries - 1);
	c->ind++;
	if (c->btb_pc[i] == pc && c->btb_target[i] == target)
		return 0;
	c->ind_miss++;
	c->btb_pc[i] = pc;
	c->btb_target[i] = target;
	return c->ind_pen;
}

// rsb_push and predict_return: the circular return-stack buffer.
static void rsb_push(cyc_state *c, uint64_t ret) {
	if (++c->rsb_top == c->rsb_depth)
		c->rsb_top = 0;
	c->rsb[c->rsb_top] = ret;
}

static uint64_t predict_return(cyc_state *c, uint64_t target) {
	uint64_t pred = c->rsb[c->rsb_top];
	c->rsb_top = (c->rsb_top ? c->rsb_top : c->rsb_depth) - 1;
	c->ret++;
	if (pred == target)
		return 0;
	c->ret_miss++;
	return c->ret_pen;
}

// The control transfer of kind k that ended at code offset pe went to
// addr: run the predictors on it. Block and exact mode both call this
// with the previous block's (instruction's) end, so they agree: a block
// ends at every control transfer, and a block that ends without one is a
// fall-through (kind CYC_K_OTHER).
static void cyc_transfer(cyc_state *c, uint64_t addr, uint64_t pe, int k) {
	uint64_t next = c->base + pe; // fall-through / return address
	uint64_t pc = c->base + c->end_start[pe];
	uint64_t extra = 0;
	int taken = k != CYC_K_COND || addr != next;
	switch (k) {
	case CYC_K_COND:
		extra = predict_cond(c, pc, taken);
		break;
	case CYC_K_CALL:
		rsb_push(c, next);
		break;
	case CYC_K_ICALL:
		rsb_push(c, next);
		extra = predict_indirect(c, pc, addr);
		break;
	case CYC_K_IJMP:
		extra = predict_indirect(c, pc, addr);
		break;
	case CYC_K_RET:
		extra = predict_return(c, addr);
		break;
	case CYC_K_JMP: // always predicted
		break;
	}
	if (k != CYC_K_COND) { // always taken
		c->taken++;
		extra += c->taken_cost;
	}
	if (!c->core) {
		c->cycles += extra;
		return;
	}
	// Penalties delay the front end from the transfer's resolution; a
	// correctly predicted taken transfer costs its redirect bubble.
	uint64_t pen = extra;
	if (pen >= c->taken_cost && taken)
		pen -= c->taken_cost;
	if (pen)
		core_redirect(c->core, pen);
	if (taken)
		c->core->fe += c->taken_cost;
}

// verify compares the computed addresses of the pending block with the
// ones its accesses had, wherever the hooks reported them.
static void verify(cyc_core *k) {
	uint64_t computed[CYC_BLOCK_MAX];
	int ok = k->ea_ok;
	memcpy(computed, k->ea, sizeof computed);
	core_hook_addresses(k, k->pi0, k->pi1);
	if (k->ea_ok)
		for (uint32_t i = k->pi0; i < k->pi1; i++) {
			const cyc_ii *ii = &k->ii[i];
			if (!ii->has_ea)
				continue;
			k->verified++;
			if (!ok || computed[i - k->pi0] != k->ea[i - k->pi0])
				k->mismatches++;
		}
	memcpy(k->ea, computed, sizeof computed);
	k->ea_ok = ok;
}

// core_pending runs the block that ran last through the core model.
static void core_pending(cyc_core *k) {
	if (k->verify)
		verify(k);
	else if (k->use_addr && !k->addr)
		core_hook_addresses(k, k->pi0, k->pi1);
	core_block(k, k->pi0, k->pi1);
	k->pending = 0;
}

// The observer's block callback: code offsets [a, e), instructions [i0, i1).
static void cyc_block(void *ctx, uint64_t a, uint64_t e, uint32_t i0, uint32_t i1) {
	cyc_state *c = ctx;
	uint64_t pe = c->prev_end;
	cyc_core *k = c->core;
	if (k) {
		if (k->pending)
			core_pending(k);
		k->acc.n = 0;
		k->pending = 1;
		k->pi0 = i0;
		k->pi1 = i1;
		if (k->addr) // before the block runs
			k->ea_ok = k->addr->m && addr_block(k->addr, i0, i1, k->ea) &&
			           k->nacc_prefix[i1] - k->nacc_prefix[i0] <= OSR_ACC_MAX;
	}
	if (pe != UINT64_MAX) {
		int kind = c->end_kind[pe];
		if (kind != CYC_K_OTHER)
			cyc_transfer(c, c->base + a, pe, kind);
	}
	if (k)
		c->cycles = k->retire;
	else
		c->cycles += c->cost[e] - c->cost[a];
	if (c->cls_prefix) {
		uint64_t n = c->size + 1;
		for (uint32_t j = 0; j < c->nclass; j++)
			c->cls_counts[j] += c->cls_prefix[j * n + e] - c->cls_prefix[j * n + a];
	}
	c->prev_end = e;
}

// After a run: the core model runs the last block still pending.
static void cyc_end(void *ctx) {
	cyc_state *c = ctx;
	cyc_core *k = c->core;
	if (!k || !k->pending)
		return;
	core_pending(k);
	c->cycles = k->retire;
}

static void cyc_attach(void *ctx, const osr_machine *m) {
	cyc_state *c = ctx;
	c->core->addr->m = m;
}

void cyc_ready(cyc_state *c, int addresses) {
	c->obs = (osr_observer){.ctx = c, .block = cyc_block, .reset = cyc_reset, .end = cyc_end};
	cyc_core *k = c->core;
	if (k && (addresses == CYC_ADDR_COMPUTE || addresses == CYC_ADDR_VERIFY) && k->addr) {
		k->use_addr = 1;
		c->obs.attach = cyc_attach;
		if (addresses == CYC_ADDR_VERIFY) {
			k->verify = 1;
			c->obs.mem = &k->acc;
		}
	} else if (k && addresses == CYC_ADDR_HOOKS) {
		k->use_addr = 1;
		c->obs.mem = &k->acc;
	}
	cyc_reset(c);
}
