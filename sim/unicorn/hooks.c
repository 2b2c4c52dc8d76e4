#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "hooks.h"

static const int gpr_ids[16] = {
	UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
	UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
	UC_X86_REG_R8, UC_X86_REG_R9, UC_X86_REG_R10, UC_X86_REG_R11,
	UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
};

static void machine_regs(void *ctx, uint32_t mask, uint64_t *gpr) {
	osr_state *s = ctx;
	for (int i = 0; i < 16; i++)
		if (mask >> i & 1)
			uc_reg_read(s->uc, gpr_ids[i], &gpr[i]);
}

osr_state *osr_state_new(uc_engine *uc, uint64_t base, uint64_t size, uint32_t nseg, uint32_t nevents) {
	osr_state *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->uc = uc;
	s->machine = (osr_machine){.ctx = s, .regs = machine_regs, .regions = s->regions};
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
	s->blk_count = calloc(size, sizeof *s->blk_count);
	s->blk_end = calloc(size, sizeof *s->blk_end);
	if (!s->prefix || !s->seg || !s->seg_end || !s->flags || !s->seg_counts || !s->event_counts ||
	    !s->blk_count || !s->blk_end) {
		osr_state_free(s);
		return NULL;
	}
	return s;
}

uint8_t *osr_map(osr_state *s, uint64_t base, uint64_t size, uint32_t perms, uc_err *err) {
	*err = UC_ERR_NOMEM;
	if (s->machine.nregions == OSR_MAX_REGIONS)
		return NULL;
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	*err = uc_mem_map_ptr(s->uc, base, size, perms, p);
	if (*err != UC_ERR_OK) {
		munmap(p, size);
		return NULL;
	}
	s->regions[s->machine.nregions++] = (osr_region){.base = base, .size = size, .host = p};
	return p;
}

void osr_state_free(osr_state *s) {
	if (!s)
		return;
	for (uint32_t i = 0; i < s->machine.nregions; i++)
		munmap((void *)s->regions[i].host, s->regions[i].size);
	free(s->prefix);
	free(s->seg);
	free(s->seg_end);
	free(s->flags);
	free(s->seg_counts);
	free(s->event_counts);
	free(s->blk_count);
	free(s->blk_end);
	free(s->inst_counts);
	free(s->trace);
	free(s);
}

int osr_observer_add(osr_state *s, const osr_observer *o) {
	if (s->nobs == OSR_MAX_OBSERVERS || !o->block)
		return -1;
	s->obs[s->nobs++] = *o;
	if (o->attach)
		o->attach(o->ctx, &s->machine);
	return 0;
}

void osr_observers_end(osr_state *s) {
	for (uint32_t k = 0; k < s->nobs; k++)
		if (s->obs[k].end)
			s->obs[k].end(s->obs[k].ctx);
}

int osr_inst_counts_new(osr_state *s) {
	s->inst_counts = calloc(s->prefix[s->size] + 1, sizeof *s->inst_counts);
	return s->inst_counts ? 0 : -1;
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
	memset(s->blk_count, 0, s->size * sizeof *s->blk_count);
	memset(s->blk_end, 0, s->size * sizeof *s->blk_end);
	memset(s->seg_counts, 0, s->nseg * sizeof *s->seg_counts);
	if (s->inst_counts)
		memset(s->inst_counts, 0, (s->prefix[s->size] + 1) * sizeof *s->inst_counts);
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

// count_block adds n executions of the block [a, e) to the counters: one
// step per segment it spans, using the prefix table inside each piece.
static void count_block(osr_state *s, uint64_t a, uint64_t e, uint64_t n) {
	// A call always ends its translation block, so a block that ends at a
	// call's return address executed that call.
	if (s->flags[e] & OSR_FLAG_CALL_END)
		s->calls += n;
	if (s->inst_counts)
		for (uint32_t i = s->prefix[a]; i < s->prefix[e]; i++)
			s->inst_counts[i] += n;
	while (a < e) {
		uint32_t id = s->seg[a];
		uint64_t end = s->seg_end[id];
		if (end > e)
			end = e;
		s->seg_counts[id] += n * (s->prefix[end] - s->prefix[a]);
		a = end;
	}
}

// A block at offset a that ends elsewhere than the one counted there so
// far (a block can be translated again, shorter or longer): count what
// the old one ran, and count this one from now on.
static void new_block(osr_state *s, uint64_t a, uint64_t e) {
	if (s->blk_end[a])
		count_block(s, a, s->blk_end[a] - 1, s->blk_count[a]);
	s->blk_end[a] = (uint32_t)e + 1;
	s->blk_count[a] = 1;
}

void osr_state_finish(osr_state *s) {
	for (uint64_t a = 0; a < s->size; a++)
		if (s->blk_end[a]) {
			count_block(s, a, s->blk_end[a] - 1, s->blk_count[a]);
			s->blk_end[a] = 0;
		}
}

// count counts the block [a, e) of instructions [i0, i1) in the code range:
// what both hooks do for each block or instruction they see.
static inline void count(uc_engine *uc, osr_state *s, uint64_t a, uint64_t e, uint32_t i0, uint32_t i1) {
	for (uint32_t k = 0; k < s->nobs; k++)
		s->obs[k].block(s->obs[k].ctx, a, e, i0, i1);
	if (s->blk_end[a] == e + 1)
		s->blk_count[a]++;
	else
		new_block(s, a, e);
	s->total += i1 - i0;
	if (s->max_insts && s->total > s->max_insts)
		runaway(uc, s);
}

// The hot path: one call per translation block executed.
static void block_cb(uc_engine *uc, uint64_t addr, uint32_t size, void *ud) {
	osr_state *s = ud;
	uint64_t a = addr - s->base, e = a + size;
	if (a >= s->size)
		return; // outside the tables; the hook range should prevent this
	if (e > s->size)
		e = s->size;
	count(uc, s, a, e, s->prefix[a], s->prefix[e]);
}

// Exact and verification mode: one call per instruction executed.
static void insn_cb(uc_engine *uc, uint64_t addr, uint32_t size, void *ud) {
	osr_state *s = ud;
	uint64_t a = addr - s->base, e = a + size;
	if (a >= s->size)
		return;
	if (e > s->size)
		e = s->size;
	if (s->check_align && (s->flags[a] & OSR_FLAG_CALL)) {
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
	count(uc, s, a, e, s->prefix[a], s->prefix[e]);
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
	uc_err err = uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)intr_cb, s, 1, 0);
	if (err == UC_ERR_OK)
		err = uc_hook_add(uc, &h, UC_HOOK_INSN, (void *)syscall_cb, s, 1, 0, UC_X86_INS_SYSCALL);
	if (err == UC_ERR_OK)
		err = uc_hook_add(uc, &h, UC_HOOK_INSN, (void *)syscall_cb, s, 1, 0, UC_X86_INS_SYSENTER);
	return err;
}

uc_err osr_hook_mem_fault(uc_engine *uc, osr_state *s, int types, uint64_t begin, uint64_t end) {
	uc_hook h;
	return uc_hook_add(uc, &h, types, (void *)mem_invalid_cb, s, begin, end);
}

#if UC_API_MAJOR == 2 && UC_API_MINOR < 1
// libunicorn 2.1's TLB interface (unicorn.h of 2.1.4), so that a build
// against 2.0 headers still uses it when it loads 2.1: Go's build cache
// does not compile this package again when only the system's headers
// change. 2.0 rejects the control (UC_ERR_ARG).
#define UC_HOOK_TLB_FILL (1 << 17)
#define UC_CTL_TLB_TYPE 12
#define UC_TLB_CPU 0
#define UC_TLB_VIRTUAL 1
typedef struct uc_tlb_entry {
	uint64_t paddr;
	uc_prot perms;
} uc_tlb_entry;
#endif

// tlb_fill_cb maps every page to itself, like the CPU's own TLB with paging
// off, but executable only in the code range (or for a fetch, which then
// faults on the region's protection as before). With paging off every page
// would be executable, and Unicorn never clears the not-dirty mark of a
// TLB entry that allows execution (notdirty_write: pages with code must
// see every write), so every store would take the slow path.
static bool tlb_fill_cb(uc_engine *uc, uint64_t vaddr, uc_mem_type type, uc_tlb_entry *e, void *ud) {
	osr_state *s = ud;
	e->paddr = vaddr;
	e->perms = UC_PROT_READ | UC_PROT_WRITE;
	if (type == UC_MEM_FETCH || vaddr - s->base < s->size)
		e->perms |= UC_PROT_EXEC;
	return true;
}

int osr_tlb_virtual(uc_engine *uc, osr_state *s) {
	uc_hook h;
	// libunicorn 2.0 (built against 2.1 headers) rejects the control.
	if (uc_ctl(uc, UC_CTL_WRITE(UC_CTL_TLB_TYPE, 1), UC_TLB_VIRTUAL) != UC_ERR_OK)
		return 0;
	if (uc_hook_add(uc, &h, UC_HOOK_TLB_FILL, (void *)tlb_fill_cb, s, 1, 0) != UC_ERR_OK) {
		uc_ctl(uc, UC_CTL_WRITE(UC_CTL_TLB_TYPE, 1), UC_TLB_CPU);
		return 0;
	}
	return 1;
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
