// The out-of-order core model (README.md, "Out-of-order core"): each
// executed instruction runs through a small dataflow machine with a front
// end, resource groups, register and memory dependencies, store-to-load
// forwarding, 4K aliasing and a reorder buffer. Times are in CYC_ONE units.
#include <string.h>

#include "cycles.h"

static inline uint64_t max64(uint64_t a, uint64_t b) { return a > b ? a : b; }

// The front end restarts after the instruction that ended the previous
// block resolved (a misprediction) plus the penalty.
void core_redirect(cyc_core *k, uint64_t pen) {
	k->fe = max64(k->fe, k->last_done + pen);
}

static inline uint32_t st_slot(uint64_t vid, int64_t off) {
	uint64_t h = (vid * 0x9E3779B97F4A7C15ull) ^ (uint64_t)off;
	h ^= h >> 29;
	return (uint32_t)(h & (CYC_STQ - 1));
}

// core_inst runs one instruction through the model; ea is its effective
// address if has_ea. It is one function on purpose: split into helpers it
// ran ~4% more instructions per simulated instruction.
static void core_inst(cyc_core *k, const cyc_ii *ii, int has_ea, uint64_t ea) {
	uint64_t i = k->seq++;
	// The ROB entry frees when instruction i-rob retired. For i < rob that
	// reads an entry no instruction of this run wrote yet (rob <=
	// CYC_ROB_MAX), still 0 from core_reset: no test needed.
	uint64_t d = max64(k->fe, k->robq[(i - k->rob) & (CYC_ROB_MAX - 1)]);
	uint64_t *rq = &k->robq[i & (CYC_ROB_MAX - 1)];
	int alias = 0;
	uint64_t vid_st = UINT64_MAX;
	uint32_t sl_st = 0;
	k->fe = d + k->inv_width;
	uint64_t *g = &k->grp[ii->grp];
	uint64_t issue = max64(d, *g);
	*g = issue + k->occ[ii->cls];
	uint64_t src = issue;
	if (!ii->indep)
		for (int j = 0; j < ii->nsrc; j++)
			src = max64(src, k->ready[ii->src[j]]);
	if (ii->rsp_delta)
		k->voff[CYC_REG_RSP] += ii->rsp_delta;
	uint64_t done;
	if (ii->mem != CYC_MEM_NONE) {
		uint64_t addr = issue;
		uint64_t vid;
		int64_t off;
		if (ii->base == CYC_REG_ABS) {
			vid = 0;
			off = ii->disp;
		} else {
			if (ii->base != CYC_REG_NONE && ii->base != CYC_REG_RSP) // the stack engine tracks rsp
				addr = max64(addr, k->ready[ii->base]);
			if (ii->index != CYC_REG_NONE)
				addr = max64(addr, k->ready[ii->index]);
			if (ii->base == CYC_REG_NONE || ii->index != CYC_REG_NONE) {
				vid = UINT64_MAX; // unknown address: no forwarding tracked
				off = 0;
			} else {
				vid = k->vid[ii->base];
				off = k->voff[ii->base] + ii->disp;
			}
		}
		uint32_t sl = st_slot(vid, off);
		uint32_t al = (uint32_t)(ea >> 3) & (CYC_ATQ - 1);
		uint64_t val = src;
		if ((ii->mem & CYC_MEM_LOAD) && has_ea) {
			// Real addresses: forwarding from the youngest store to this
			// 8-byte granule of the page offset; a store to another address
			// with the same bits 11:3 that has not committed yet when the
			// load's address is ready is a 4K alias: the load waits for it.
			val = addr + k->load_lat;
			int inflight = k->at_commit[al] > addr && k->nstores - k->at_seq[al] <= k->stq_lim;
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
			}
			val = max64(val, src);
		} else if (ii->mem & CYC_MEM_LOAD) {
			val = addr + k->load_lat;
			if (vid != UINT64_MAX && k->st_vid[sl] == vid && k->st_off[sl] == off &&
			    k->st_commit[sl] > addr && k->nstores - k->st_seq[sl] <= k->stq_lim) {
				val = max64(addr, k->st_ready[sl]) + (ii->stack ? k->fwd_stack_lat : k->fwd_lat);
				if (ii->stack)
					k->stack_forwards++;
				else
					k->forwards++;
			}
			val = max64(val, src);
		}
		done = val + (ii->mem == CYC_MEM_STORE ? 0 : (ii->opl ? k->lat[ii->cls] : 0));
		if ((ii->mem & CYC_MEM_STORE) && vid != UINT64_MAX) {
			vid_st = vid;
			sl_st = sl;
			k->st_vid[sl] = vid;
			k->st_off[sl] = off;
			k->st_ready[sl] = done;
		}
		if (ii->mem == CYC_MEM_STORE)
			done = max64(done, addr) + 1;
	} else {
		done = src + k->lat[ii->cls];
	}
	uint64_t st_data = done;
	if (alias)
		k->fe = max64(k->fe, done + k->alias_lat);
	if (ii->rsp_post)
		k->voff[CYC_REG_RSP] += ii->rsp_post;
	for (int j = 0; j < ii->ndst; j++)
		k->ready[ii->dst[j]] = done;
	// Symbolic values.
	switch (ii->vop) {
	case CYC_V_NONE:
		break;
	case CYC_V_COPY:
		k->vid[ii->dst[0]] = k->vid[ii->src[0]];
		k->voff[ii->dst[0]] = k->voff[ii->src[0]];
		break;
	case CYC_V_ADDI:
		k->voff[ii->dst[0]] += ii->imm;
		break;
	case CYC_V_LEA:
		if (ii->base == CYC_REG_ABS) {
			k->vid[ii->dst[0]] = 0;
			k->voff[ii->dst[0]] = ii->disp;
		} else {
			k->vid[ii->dst[0]] = k->vid[ii->base];
			k->voff[ii->dst[0]] = k->voff[ii->base] + ii->disp;
		}
		break;
	case CYC_V_CONST:
		k->vid[ii->dst[0]] = 0;
		k->voff[ii->dst[0]] = ii->imm;
		break;
	default:
		for (int j = 0; j < ii->ndst; j++)
			if (ii->dst[j] < CYC_NGPR) {
				k->vid[ii->dst[j]] = k->next_vid++;
				k->voff[ii->dst[j]] = 0;
			}
	}
	k->last_done = done;
	k->retire = max64(k->retire + k->inv_retire, done);
	*rq = k->retire;
	if (ii->mem & CYC_MEM_STORE)
		k->nstores++;
	if ((ii->mem & CYC_MEM_STORE) && vid_st != UINT64_MAX) {
		k->st_commit[sl_st] = k->retire + k->commit_delay;
		k->st_seq[sl_st] = k->nstores;
	}
	if ((ii->mem & CYC_MEM_STORE) && has_ea) {
		uint32_t al = (uint32_t)(ea >> 3) & (CYC_ATQ - 1);
		k->at_addr[al] = ea;
		k->at_ready[al] = st_data;
		k->at_commit[al] = k->retire + k->commit_delay;
		k->at_seq[al] = k->nstores;
	}
}

// core_hook_addresses takes the addresses of instructions [i0, i1) from
// the accesses the memory hooks reported while they ran: for each
// instruction, of its accesses, the last for a store that makes several
// (call [m]: the push after the target load) and the first otherwise. If
// their number is not what the instructions should make (an instruction
// the table does not describe exactly), or more than the buffer holds, the
// block has no real addresses.
void core_hook_addresses(cyc_core *k, uint32_t i0, uint32_t i1) {
	k->ea_ok = i1 - i0 <= CYC_BLOCK_MAX && k->acc.n <= OSR_ACC_MAX &&
	           k->nacc_prefix[i1] - k->nacc_prefix[i0] == k->acc.n;
	if (!k->ea_ok)
		return;
	uint32_t j = 0;
	for (uint32_t i = i0; i < i1; i++) {
		const cyc_ii *ii = &k->ii[i];
		if (ii->has_ea)
			k->ea[i - i0] = k->acc.addr[ii->nacc > 1 && ii->mem == CYC_MEM_STORE ? j + ii->nacc - 1 : j];
		j += ii->nacc;
	}
}

// core_block runs instructions [i0, i1) with the real addresses in ea if
// ea_ok, else with symbolic addresses.
void core_block(cyc_core *k, uint32_t i0, uint32_t i1) {
	int use = k->use_addr && k->ea_ok;
	if (use)
		k->addr_blocks += i1 - i0;
	else
		k->sym_blocks += i1 - i0;
	for (uint32_t i = i0; i < i1; i++) {
		const cyc_ii *ii = &k->ii[i];
		int has = use && ii->has_ea;
		core_inst(k, ii, has, has ? k->ea[i - i0] : 0);
	}
}

void core_reset(cyc_core *k) {
	k->fe = 0;
	memset(k->grp, 0, sizeof k->grp);
	memset(k->ready, 0, sizeof k->ready);
	// Value 0 is the base of absolute addresses and constants; every
	// register starts with a distinct unknown value.
	for (int r = 0; r < CYC_NGPR; r++) {
		k->vid[r] = (uint64_t)r + 1;
		k->voff[r] = 0;
	}
	k->next_vid = CYC_NGPR + 1;
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
	k->acc.n = 0;
	k->pending = 0;
	k->ea_ok = 0;
	if (k->addr)
		addr_reset(k->addr);
	k->forwards = k->stack_forwards = k->aliases = k->addr_blocks = k->sym_blocks = 0;
	k->verified = k->mismatches = 0;
}
