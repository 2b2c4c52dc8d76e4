#include <stdlib.h>
#include <string.h>
#include <stdio.h>

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
	if (c->core) {
		free(c->core->ii);
		free(c->core->nacc_prefix);
		free(c->core);
	}
	if (c->tage) {
		for (int t = 0; t < OSR_TAGE_T; t++) {
			free(c->tage->tag[t]);
			free(c->tage->ctr[t]);
			free(c->tage->u[t]);
		}
		free(c->tage);
	}
	free(c);
}

int osr_cyc_core_new(osr_cyc *c, uint32_t ninst) {
	osr_core *k = calloc(1, sizeof *k);
	if (!k)
		return -1;
	k->ii = calloc(ninst + 1, sizeof *k->ii);
	k->nacc_prefix = calloc(ninst + 1, sizeof *k->nacc_prefix);
	if (!k->ii || !k->nacc_prefix) {
		free(k->ii);
		free(k);
		return -1;
	}
	k->ninst = ninst;
	c->core = k;
	return 0;
}

int osr_cyc_tage_new(osr_cyc *c, uint32_t bits, const uint32_t *hlen) {
	osr_tage *g = calloc(1, sizeof *g);
	if (!g)
		return -1;
	c->tage = g;
	g->bits = bits;
	for (int t = 0; t < OSR_TAGE_T; t++) {
		g->hlen[t] = hlen[t];
		g->sh[t][0] = hlen[t] % bits;
		g->sh[t][1] = hlen[t] % 8;
		g->sh[t][2] = hlen[t] % 7;
		g->tag[t] = calloc((size_t)1 << bits, sizeof *g->tag[t]);
		g->ctr[t] = calloc((size_t)1 << bits, 1);
		g->u[t] = calloc((size_t)1 << bits, 1);
		if (!g->tag[t] || !g->ctr[t] || !g->u[t])
			return -1;
	}
	return 0;
}

static void core_reset(osr_core *k) {
	k->fe = 0;
	memset(k->grp, 0, sizeof k->grp);
	memset(k->ready, 0, sizeof k->ready);
	for (int r = 0; r < 16; r++) {
		k->vid[r] = (uint64_t)r + 1; // distinct unknown initial values
		k->voff[r] = 0;
	}
	k->next_vid = 17;
	k->retire = k->last_done = 0;
	k->seq = 0;
	memset(k->robq, 0, sizeof k->robq);
	memset(k->st_vid, 0xff, sizeof k->st_vid);
	memset(k->st_off, 0, sizeof k->st_off);
	memset(k->st_ready, 0, sizeof k->st_ready);
	memset(k->st_commit, 0, sizeof k->st_commit);
	memset(k->st_seq, 0, sizeof k->st_seq);
	memset(k->at_seq, 0, sizeof k->at_seq);
	k->nstores = 1u << 20; // so that no cold entry counts as in flight
	memset(k->at_addr, 0xff, sizeof k->at_addr);
	memset(k->at_ready, 0, sizeof k->at_ready);
	memset(k->at_commit, 0, sizeof k->at_commit);
	k->nacc = 0;
	k->pending = 0;
	k->forwards = k->stack_forwards = k->aliases = k->addr_blocks = k->sym_blocks = 0;
}

static void tage_reset(osr_tage *g) {
	size_t n = (size_t)1 << g->bits;
	for (int t = 0; t < OSR_TAGE_T; t++) {
		memset(g->tag[t], 0, n * sizeof *g->tag[t]);
		memset(g->ctr[t], 4, n);
		memset(g->u[t], 0, n);
		g->fi[t] = g->ft0[t] = g->ft1[t] = 0;
	}
	memset(g->hist, 0, sizeof g->hist);
	g->branches = 0;
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
	if (c->core)
		core_reset(c->core);
	if (c->tage)
		tage_reset(c->tage);
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


// ---- TAGE (Seznec & Michaud, JILP 2006), small and deterministic ----------
// A bimodal base (c->pht, indexed by address) and OSR_TAGE_T tagged tables
// indexed by address xor the folded global history of geometric lengths.
// The longest matching table provides the prediction; on a misprediction
// an entry is allocated in a longer table whose useful counter is 0.

static inline uint32_t fold_update(uint32_t f, uint32_t in, uint32_t out, uint32_t sh, uint32_t w) {
	f = (f << 1) | in;
	f ^= out << sh; // sh = history length mod w
	f ^= f >> w;
	return f & ((1u << w) - 1);
}

static inline int hist_bit(const uint64_t *h, uint32_t i) { return (h[i >> 6] >> (i & 63)) & 1; }

static void tage_push(osr_tage *g, int taken) {
	for (int t = 0; t < OSR_TAGE_T; t++) {
		uint32_t out = hist_bit(g->hist, g->hlen[t] - 1);
		g->fi[t] = fold_update(g->fi[t], taken, out, g->sh[t][0], g->bits);
		g->ft0[t] = fold_update(g->ft0[t], taken, out, g->sh[t][1], 8);
		g->ft1[t] = fold_update(g->ft1[t], taken, out, g->sh[t][2], 7);
	}
	g->hist[3] = (g->hist[3] << 1) | (g->hist[2] >> 63);
	g->hist[2] = (g->hist[2] << 1) | (g->hist[1] >> 63);
	g->hist[1] = (g->hist[1] << 1) | (g->hist[0] >> 63);
	g->hist[0] = (g->hist[0] << 1) | (uint64_t)taken;
}

// tage_predict_update predicts the branch at pc, trains on taken and
// returns whether the prediction was right.
static int tage_predict_update(osr_cyc *c, osr_tage *g, uint64_t pc, int taken) {
	uint32_t mask = (1u << g->bits) - 1;
	uint32_t idx[OSR_TAGE_T];
	uint16_t tg[OSR_TAGE_T];
	int prov = -1, alt = -1;
	uint64_t h = pc ^ (pc >> 2);
	for (int t = OSR_TAGE_T - 1; t >= 0; t--) {
		idx[t] = (uint32_t)(h ^ (h >> g->bits) ^ g->fi[t] ^ ((uint32_t)t << (g->bits - 2))) & mask;
		tg[t] = (uint16_t)(((h >> 3) ^ g->ft0[t] ^ (g->ft1[t] << 1)) & 0xff) | 0x100; // 0 = empty
		if (g->tag[t][idx[t]] == tg[t]) {
			if (prov < 0)
				prov = t;
			else if (alt < 0)
				alt = t;
		}
	}
	uint64_t bi = (pc ^ (pc >> c->pht_bits)) & (((uint64_t)1 << c->pht_bits) - 1);
	int base = c->pht[bi] >= 2;
	int altp = alt >= 0 ? g->ctr[alt][idx[alt]] >= 4 : base;
	int pred = prov >= 0 ? g->ctr[prov][idx[prov]] >= 4 : base;
	// Training.
	if (prov >= 0) {
		uint8_t *ct = &g->ctr[prov][idx[prov]];
		if (taken && *ct < 7)
			(*ct)++;
		else if (!taken && *ct > 0)
			(*ct)--;
		if (pred != altp) {
			uint8_t *u = &g->u[prov][idx[prov]];
			if (pred == taken && *u < 3)
				(*u)++;
			else if (pred != taken && *u > 0)
				(*u)--;
		}
	} else {
		uint8_t *ct = &c->pht[bi];
		if (taken && *ct < 3)
			(*ct)++;
		else if (!taken && *ct > 0)
			(*ct)--;
	}
	if (pred != taken && prov < OSR_TAGE_T - 1) {
		int done = 0;
		for (int t = prov + 1; t < OSR_TAGE_T; t++) {
			if (g->u[t][idx[t]] == 0) {
				g->tag[t][idx[t]] = tg[t];
				g->ctr[t][idx[t]] = taken ? 4 : 3;
				done = 1;
				break;
			}
		}
		if (!done)
			for (int t = prov + 1; t < OSR_TAGE_T; t++)
				if (g->u[t][idx[t]])
					g->u[t][idx[t]]--;
	}
	// Graceful ageing of the useful counters.
	if ((++g->branches & ((1u << 18) - 1)) == 0)
		for (int t = 0; t < OSR_TAGE_T; t++)
			for (uint32_t i = 0; i <= mask; i++)
				g->u[t][i] >>= 1;
	tage_push(g, taken);
	return pred == taken;
}

// ---- Out-of-order core -------------------------------------------------------

static inline uint64_t max64(uint64_t a, uint64_t b) { return a > b ? a : b; }

// core_redirect: the front end restarts after the instruction that ended
// the previous block resolved (a misprediction) plus the penalty.
static inline void core_redirect(osr_core *k, uint64_t pen) {
	k->fe = max64(k->fe, k->last_done + pen);
}

static inline uint32_t st_slot(uint64_t vid, int64_t off) {
	uint64_t h = (vid * 0x9E3779B97F4A7C15ull) ^ (uint64_t)off;
	h ^= h >> 29;
	return (uint32_t)(h & (OSR_STQ - 1));
}

// core_inst runs one instruction through the model.
static void core_inst(osr_core *k, const osr_ii *ii, int has_ea, uint64_t ea) {
	uint64_t i = k->seq++;
	uint64_t d = k->fe;
	if (i >= k->rob) // the ROB entry frees when instruction i-rob retired
		d = max64(d, k->robq[(i - k->rob) & (OSR_ROB_MAX - 1)]);
	uint64_t *rq = &k->robq[i & (OSR_ROB_MAX - 1)];
	int alias = 0;
	uint64_t vid_st = UINT64_MAX;
	uint32_t sl_st = 0;
	k->fe = d + k->inv_width;
	uint64_t *g = &k->grp[ii->grp];
	uint64_t issue = max64(d, *g);
	*g = issue + ii->occ;
	uint64_t src = issue;
	if (!ii->indep)
		for (int j = 0; j < ii->nsrc; j++)
			src = max64(src, k->ready[ii->src[j]]);
	if (ii->rsp_delta)
		k->voff[4] += ii->rsp_delta;
	uint64_t done;
	if (ii->mem != OSR_MEM_NONE) {
		uint64_t addr = issue;
		uint64_t vid;
		int64_t off;
		if (ii->base == OSR_REG_RIP) {
			vid = 0;
			off = ii->disp;
		} else {
			if (ii->base != OSR_REG_NONE && ii->base != 4) // the stack engine tracks rsp
				addr = max64(addr, k->ready[ii->base]);
			if (ii->index != OSR_REG_NONE)
				addr = max64(addr, k->ready[ii->index]);
			if (ii->base == OSR_REG_NONE || ii->index != OSR_REG_NONE) {
				vid = UINT64_MAX; // unknown address: no forwarding tracked
				off = 0;
			} else {
				vid = k->vid[ii->base];
				off = k->voff[ii->base] + ii->disp;
			}
		}
		uint32_t sl = st_slot(vid, off);
		uint32_t al = (uint32_t)(ea >> 3) & (OSR_ATQ - 1);
		uint64_t val = src;
		if ((ii->mem & OSR_MEM_LOAD) && has_ea) {
			// Real addresses: forwarding from the youngest store to this
			// 8-byte granule of the page offset; a store to another address
			// with the same bits 11:3 that has not committed yet when the
			// load's address is ready is a 4K alias: the load waits for it.
			val = addr + k->load_lat;
			int inflight = k->at_commit[al] > addr && (k->stq == 0 || k->nstores - k->at_seq[al] <= k->stq);
			if (k->at_addr[al] == ea && inflight) {
				val = max64(addr, k->at_ready[al]) + (ii->stack ? k->fwd_stack_lat : k->fwd_lat);
				if (ii->stack)
					k->stack_forwards++;
				else
					k->forwards++;
			} else if (k->at_addr[al] != ea && k->at_addr[al] != UINT64_MAX && inflight) {
				// Predicted to forward from the aliasing store, found wrong:
				// the load re-executes after the store commits and the
				// younger instructions are flushed (the front end restarts
				// alias_lat after the load completes).
				val = max64(val, k->at_commit[al] + k->load_lat);
				alias = 1;
				k->aliases++;
#ifdef OSR_DEBUG_ALIAS
				if (k->aliases % 1000 == 7 && k->aliases < 40000)
					fprintf(stderr, "alias ea %llx store %llx ii %ld\n", (unsigned long long)ea, (unsigned long long)k->at_addr[al], (long)(ii - k->ii));
#endif
			}
			val = max64(val, src);
		} else if (ii->mem & OSR_MEM_LOAD) {
			val = addr + k->load_lat;
			if (vid != UINT64_MAX && k->st_vid[sl] == vid && k->st_off[sl] == off &&
			    k->st_commit[sl] > addr && (k->stq == 0 || k->nstores - k->st_seq[sl] <= k->stq)) {
				val = max64(addr, k->st_ready[sl]) + (ii->stack ? k->fwd_stack_lat : k->fwd_lat);
				if (ii->stack)
					k->stack_forwards++;
				else
					k->forwards++;
			}
			val = max64(val, src);
		}
		done = val + (ii->mem == OSR_MEM_STORE ? 0 : (ii->opl ? ii->lat : 0));
		if ((ii->mem & OSR_MEM_STORE) && vid != UINT64_MAX) {
			vid_st = vid;
			sl_st = sl;
			k->st_vid[sl] = vid;
			k->st_off[sl] = off;
			k->st_ready[sl] = done;
		}
		if (ii->mem == OSR_MEM_STORE)
			done = max64(done, addr) + 1;
	} else {
		done = src + ii->lat;
	}
	uint64_t st_data = done;
	if (alias)
		k->fe = max64(k->fe, done + k->alias_lat);
	if (ii->rsp_post)
		k->voff[4] += ii->rsp_post;
	for (int j = 0; j < ii->ndst; j++)
		k->ready[ii->dst[j]] = done;
	// Symbolic values.
	switch (ii->vop) {
	case OSR_V_NONE:
		break;
	case OSR_V_COPY:
		k->vid[ii->dst[0]] = k->vid[ii->src[0]];
		k->voff[ii->dst[0]] = k->voff[ii->src[0]];
		break;
	case OSR_V_ADDI:
		k->voff[ii->dst[0]] += ii->imm;
		break;
	case OSR_V_LEA:
		if (ii->base == OSR_REG_RIP) {
			k->vid[ii->dst[0]] = 0;
			k->voff[ii->dst[0]] = ii->disp;
		} else {
			k->vid[ii->dst[0]] = k->vid[ii->base];
			k->voff[ii->dst[0]] = k->voff[ii->base] + ii->disp;
		}
		break;
	case OSR_V_CONST:
		k->vid[ii->dst[0]] = 0;
		k->voff[ii->dst[0]] = ii->imm;
		break;
	default:
		for (int j = 0; j < ii->ndst; j++)
			if (ii->dst[j] < 16) {
				k->vid[ii->dst[j]] = k->next_vid++;
				k->voff[ii->dst[j]] = 0;
			}
	}
	k->last_done = done;
	k->retire = max64(k->retire + k->inv_retire, done);
	*rq = k->retire;
	if (ii->mem & OSR_MEM_STORE)
		k->nstores++;
	if ((ii->mem & OSR_MEM_STORE) && vid_st != UINT64_MAX) {
		k->st_commit[sl_st] = k->retire + k->commit_delay;
		k->st_seq[sl_st] = k->nstores;
	}
	if ((ii->mem & OSR_MEM_STORE) && has_ea) {
		uint32_t al = (uint32_t)(ea >> 3) & (OSR_ATQ - 1);
		k->at_addr[al] = ea;
		k->at_ready[al] = st_data;
		k->at_commit[al] = k->retire + k->commit_delay;
		k->at_seq[al] = k->nstores;
	}
}

// core_block runs the instructions of block [a, e) with the memory
// addresses the hooks recorded while it executed. If their number is not
// what the instructions should make (an instruction the table does not
// describe exactly), the block falls back to symbolic addresses.
static void core_block(osr_state *s, osr_core *k, uint64_t a, uint64_t e) {
	uint32_t i0 = s->prefix[a], i1 = s->prefix[e];
	int use = 0;
	if (k->use_addr)
		use = k->nacc_prefix[i1] - k->nacc_prefix[i0] == k->nacc;
	if (use)
		k->addr_blocks += i1 - i0;
	else
		k->sym_blocks += i1 - i0;
	uint32_t j = 0;
	for (uint32_t i = i0; i < i1; i++) {
		const osr_ii *ii = &k->ii[i];
		int has = use && ii->nacc > 0 && ii->mem != OSR_MEM_NONE;
		uint64_t ea = 0;
		if (has) {
			// call [m] reads its target before pushing: the push is last.
			ea = k->acc[ii->nacc > 1 && ii->mem == OSR_MEM_STORE ? j + ii->nacc - 1 : j];
		}
		if (use)
			j += ii->nacc;
		core_inst(k, ii, has, ea);
	}
}

static void mem_cb(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value, void *ud) {
	osr_core *k = ud;
	if (k->nacc < OSR_ACC_MAX)
		k->acc[k->nacc] = addr;
	k->nacc++;
}

uc_err osr_hook_mem(uc_engine *uc, osr_state *s) {
	uc_hook h;
	if (!s->cyc || !s->cyc->core)
		return UC_ERR_ARG;
	s->cyc->core->use_addr = 1;
	return uc_hook_add(uc, &h, UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE, (void *)mem_cb, s->cyc->core, 1, 0);
}

// osr_cyc_flush runs the last block still pending in the core model.
void osr_cyc_flush(osr_state *s) {
	osr_cyc *c = s->cyc;
	if (!c || !c->core || !c->core->pending)
		return;
	osr_core *k = c->core;
	core_block(s, k, k->pa, k->pe);
	k->pending = 0;
	c->cycles = k->retire;
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
		c->cond++;
		if (c->tage) {
			if (!tage_predict_update(c, c->tage, pc, taken)) {
				c->cond_miss++;
				extra += c->cond_pen;
			}
			if (taken) {
				c->taken++;
				extra += c->taken_cost;
			}
			break;
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
	if (c->core) {
		// Penalties delay the front end from the transfer's resolution;
		// a correctly predicted taken transfer costs its redirect bubble.
		osr_core *kc = c->core;
		uint64_t pen = extra;
		if (pen >= c->taken_cost && (k != OSR_K_COND || addr != next))
			pen -= c->taken_cost;
		if (pen)
			core_redirect(kc, pen);
		if (k != OSR_K_COND || addr != next)
			kc->fe += c->taken_cost;
		return;
	}
	c->cycles += extra;
}

// The cycle model's part of a block [a, e) of code offsets.
static inline void cyc_block(osr_state *s, osr_cyc *c, uint64_t addr, uint64_t a, uint64_t e) {
	uint64_t pe = c->prev_end;
	if (c->core) {
		osr_core *kc = c->core;
		if (kc->pending)
			core_block(s, kc, kc->pa, kc->pe);
		kc->nacc = 0;
		kc->pending = 1;
		kc->pa = a;
		kc->pe = e;
	}
	if (pe != UINT64_MAX) {
		int k = c->end_kind[pe];
		if (k != OSR_K_OTHER)
			cyc_transfer(s, c, addr, pe, k);
	}
	if (c->core) {
		c->cycles = c->core->retire;
	} else {
		c->cycles += c->cost[e] - c->cost[a];
	}
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
