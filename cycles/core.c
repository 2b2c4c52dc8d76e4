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

// A memory operand: when its address is ready, and its symbolic key
// (vid, off) = (the base register's value, offset), vid UINT64_MAX if
// unknown (an index register or no base).
typedef struct {
	uint64_t addr;
	uint64_t vid;
	int64_t off;
	uint32_t slot; // in the symbolic store table
} mem_ref;

static inline mem_ref mem_operand(const cyc_core *k, const cyc_ii *ii, uint64_t issue) {
	mem_ref m = {.addr = issue};
	if (ii->base == CYC_REG_ABS) {
		m.vid = 0;
		m.off = ii->disp;
	} else {
		if (ii->base != CYC_REG_NONE && ii->base != CYC_REG_RSP) // the stack engine tracks rsp
			m.addr = max64(m.addr, k->ready[ii->base]);
		if (ii->index != CYC_REG_NONE)
			m.addr = max64(m.addr, k->ready[ii->index]);
		if (ii->base == CYC_REG_NONE || ii->index != CYC_REG_NONE) {
			m.vid = UINT64_MAX; // unknown address: no forwarding tracked
			m.off = 0;
		} else {
			m.vid = k->vid[ii->base];
			m.off = k->voff[ii->base] + ii->disp;
		}
	}
	m.slot = st_slot(m.vid, m.off);
	return m;
}

static inline uint32_t at_slot(uint64_t ea) { return (uint32_t)(ea >> 3) & (CYC_ATQ - 1); }

// A store is in flight (can forward, or alias) until it commits or until
// more than stq younger stores were dispatched.
static inline int in_flight(const cyc_core *k, uint64_t commit, uint64_t seq, uint64_t addr) {
	return commit > addr && (k->stq == 0 || k->nstores - seq <= k->stq);
}

static inline uint64_t forwarded(cyc_core *k, const cyc_ii *ii, uint64_t addr, uint64_t store_ready) {
	if (ii->stack)
		k->stack_forwards++;
	else
		k->forwards++;
	return max64(addr, store_ready) + (ii->stack ? k->fwd_stack_lat : k->fwd_lat);
}

// load_real is when a load from the real address ea has its value:
// forwarded from the youngest store to this 8-byte granule of the page
// offset, or, if that store went to another address with the same bits
// 11:3 and has not committed when the load's address is ready, after that
// store commits (4K alias: predicted to forward, found wrong, the load
// re-executes and the younger instructions are flushed; *alias is set).
static inline uint64_t load_real(cyc_core *k, const cyc_ii *ii, uint64_t addr, uint64_t ea, int *alias) {
	uint32_t al = at_slot(ea);
	uint64_t val = addr + k->load_lat;
	int inflight = in_flight(k, k->at_commit[al], k->at_seq[al], addr);
	if (k->at_addr[al] == ea && inflight) {
		val = forwarded(k, ii, addr, k->at_ready[al]);
	} else if (k->at_addr[al] != ea && k->at_addr[al] != UINT64_MAX && inflight) {
		val = max64(val, k->at_commit[al] + k->load_lat);
		*alias = 1;
		k->aliases++;
	}
	return val;
}

// load_symbolic is when a load keyed by m has its value: forwarded from an
// in-flight store with the same key, or from the cache.
static inline uint64_t load_symbolic(cyc_core *k, const cyc_ii *ii, const mem_ref *m) {
	uint32_t sl = m->slot;
	if (m->vid != UINT64_MAX && k->st_vid[sl] == m->vid && k->st_off[sl] == m->off &&
	    in_flight(k, k->st_commit[sl], k->st_seq[sl], m->addr))
		return forwarded(k, ii, m->addr, k->st_ready[sl]);
	return m->addr + k->load_lat;
}

// A store the symbolic table recorded, committed when it retires.
typedef struct {
	int keyed;
	uint32_t slot;
} store_key;

// exec_mem is when an instruction with a memory operand completes; it
// records its store under its symbolic key.
static inline uint64_t exec_mem(cyc_core *k, const cyc_ii *ii, uint64_t issue, uint64_t src, int has_ea,
                                uint64_t ea, int *alias, store_key *sk) {
	mem_ref m = mem_operand(k, ii, issue);
	uint64_t val = src;
	if (ii->mem & CYC_MEM_LOAD)
		val = max64(has_ea ? load_real(k, ii, m.addr, ea, alias) : load_symbolic(k, ii, &m), src);
	uint64_t done = val + (ii->mem == CYC_MEM_STORE ? 0 : (ii->opl ? ii->lat : 0));
	if ((ii->mem & CYC_MEM_STORE) && m.vid != UINT64_MAX) {
		uint32_t sl = m.slot;
		sk->keyed = 1;
		sk->slot = sl;
		k->st_vid[sl] = m.vid;
		k->st_off[sl] = m.off;
		k->st_ready[sl] = done;
	}
	if (ii->mem == CYC_MEM_STORE)
		done = max64(done, m.addr) + 1;
	return done;
}

// track_values updates the symbolic register values the memory keys use.
static inline void track_values(cyc_core *k, const cyc_ii *ii) {
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
}

// commit_store records when a retired store leaves the store queue, in the
// symbolic table and, with its real address, in the address table.
static inline void commit_store(cyc_core *k, const store_key *sk, int has_ea, uint64_t ea, uint64_t data) {
	k->nstores++;
	uint64_t commit = k->retire + k->commit_delay;
	if (sk->keyed) {
		k->st_commit[sk->slot] = commit;
		k->st_seq[sk->slot] = k->nstores;
	}
	if (has_ea) {
		uint32_t al = at_slot(ea);
		k->at_addr[al] = ea;
		k->at_ready[al] = data;
		k->at_commit[al] = commit;
		k->at_seq[al] = k->nstores;
	}
}

// core_inst runs one instruction through the model; ea is its effective
// address if has_ea.
static void core_inst(cyc_core *k, const cyc_ii *ii, int has_ea, uint64_t ea) {
	uint64_t i = k->seq++;
	uint64_t d = k->fe;
	if (i >= k->rob) // the ROB entry frees when instruction i-rob retired
		d = max64(d, k->robq[(i - k->rob) & (CYC_ROB_MAX - 1)]);
	k->fe = d + k->inv_width;
	uint64_t *g = &k->grp[ii->grp];
	uint64_t issue = max64(d, *g);
	*g = issue + ii->occ;
	uint64_t src = issue;
	if (!ii->indep)
		for (int j = 0; j < ii->nsrc; j++)
			src = max64(src, k->ready[ii->src[j]]);
	if (ii->rsp_delta)
		k->voff[CYC_REG_RSP] += ii->rsp_delta;
	int alias = 0;
	store_key sk = {0};
	uint64_t done = ii->mem != CYC_MEM_NONE ? exec_mem(k, ii, issue, src, has_ea, ea, &alias, &sk) : src + ii->lat;
	if (alias)
		k->fe = max64(k->fe, done + k->alias_lat);
	if (ii->rsp_post)
		k->voff[CYC_REG_RSP] += ii->rsp_post;
	for (int j = 0; j < ii->ndst; j++)
		k->ready[ii->dst[j]] = done;
	track_values(k, ii);
	k->last_done = done;
	k->retire = max64(k->retire + k->inv_retire, done);
	k->robq[i & (CYC_ROB_MAX - 1)] = k->retire;
	if (ii->mem & CYC_MEM_STORE)
		commit_store(k, &sk, has_ea, ea, done);
}

// core_block runs instructions [i0, i1) with the memory addresses the
// hooks recorded while they executed. If their number is not what the
// instructions should make (an instruction the table does not describe
// exactly), or more than the buffer holds, the block falls back to
// symbolic addresses.
void core_block(cyc_core *k, uint32_t i0, uint32_t i1) {
	int use = k->use_addr && k->acc.n <= OSR_ACC_MAX && k->nacc_prefix[i1] - k->nacc_prefix[i0] == k->acc.n;
	if (use)
		k->addr_blocks += i1 - i0;
	else
		k->sym_blocks += i1 - i0;
	uint32_t j = 0;
	for (uint32_t i = i0; i < i1; i++) {
		const cyc_ii *ii = &k->ii[i];
		int has = use && ii->nacc > 0 && ii->mem != CYC_MEM_NONE;
		uint64_t ea = 0;
		if (has) // call [m] reads its target before pushing: the push is last
			ea = k->acc.addr[ii->nacc > 1 && ii->mem == CYC_MEM_STORE ? j + ii->nacc - 1 : j];
		if (use)
			j += ii->nacc;
		core_inst(k, ii, has, ea);
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
	k->forwards = k->stack_forwards = k->aliases = k->addr_blocks = k->sym_blocks = 0;
}
