// The address interpreter: the real addresses of a block's memory accesses,
// computed before the block runs from the registers and memory as they are
// then (the machine's view, observe.h), instead of memory hooks, which put
// every access on the emulator's slow path. It follows the general-purpose
// registers from block to block; what an instruction writes that it does
// not compute (addrplan.go: CYC_A_OTHER) is unknown for the rest of the
// block and read again from the emulator when a later block needs it.
// Stores of the block are kept so that its later loads see them.
//
// Each block runs only its slice (slice below): the instructions whose
// results a used address of the block, or a later block, needs. What the
// others write is left unknown and read from the emulator if a later
// block does need it; that block's slice then keeps it (live_out). The
// emulator's registers are the values the interpreter would have
// computed, so the addresses are the same either way.
#include <stdlib.h>
#include <string.h>

#include "cycles.h"

typedef struct val {
	uint64_t v;
	int ok;
} val;

static const val unknown = {0, 0};

static inline uint64_t mask_of(int size) { return size >= 8 ? ~(uint64_t)0 : ((uint64_t)1 << (8 * size)) - 1; }

static inline uint64_t sext(uint64_t v, int size) {
	if (size >= 8)
		return v;
	int sh = 64 - 8 * size;
	return (uint64_t)((int64_t)(v << sh) >> sh);
}

static __attribute__((noinline)) val read_reg(cyc_addr *x, int r) {
	uint32_t bit = 1u << r;
	if (x->stale & bit)
		return unknown;
	if (x->killed & bit) { // the block that left it unknown computes it from now on
		cyc_slice *p = &x->slice[x->killer[r]];
		p->live_out |= (uint16_t)bit;
		p->i1 = 0;
		x->killed &= ~bit;
	}
	x->m->regs(x->m->ctx, bit, x->gpr);
	x->known |= bit;
	x->reads++;
	return (val){x->gpr[r], 1};
}

// reg reads a whole register: its tracked value, or the emulator's if it
// has not been written with an unknown value in this block.
static inline val reg(cyc_addr *x, int r) {
	if (x->known >> r & 1)
		return (val){x->gpr[r], 1};
	return read_reg(x, r);
}

static inline void set_reg(cyc_addr *x, int r, val v) {
	uint32_t bit = 1u << r;
	if (v.ok) {
		x->gpr[r] = v.v;
		x->known |= bit;
		x->stale &= ~bit;
	} else {
		x->known &= ~bit;
		x->stale |= bit;
	}
}

// host is the byte at addr in guest memory, if mapped.
static const uint8_t *host(cyc_addr *x, uint64_t addr) {
	const osr_region *r = x->last;
	if (r && addr - r->base < r->size)
		return r->host + (addr - r->base);
	for (uint32_t i = 0; i < x->m->nregions; i++) {
		r = &x->m->regions[i];
		if (addr - r->base < r->size) {
			x->last = r;
			return r->host + (addr - r->base);
		}
	}
	return NULL;
}

// load reads size bytes at addr as the block's earlier stores left them.
static val load(cyc_addr *x, val addr, int size) {
	if (!addr.ok || x->st_all || size > 8)
		return unknown;
	int overlap = 0;
	for (uint32_t s = 0; s < x->nst && !overlap; s++)
		overlap = addr.v - x->st_addr[s] < x->st_size[s] || x->st_addr[s] - addr.v < (uint64_t)size;
	if (!overlap) {
		const uint8_t *p = host(x, addr.v);
		if (p && addr.v + size - x->last->base <= x->last->size) {
			uint64_t v = 0;
			memcpy(&v, p, size); // little-endian host, like the guest
			return (val){v, 1};
		}
	}
	uint64_t v = 0;
	for (int b = 0; b < size; b++) {
		uint64_t a = addr.v + b;
		int found = 0;
		for (uint32_t s = x->nst; s-- > 0;) {
			if (a - x->st_addr[s] < x->st_size[s]) {
				if (!x->st_ok[s])
					return unknown;
				v |= ((x->st_val[s] >> (8 * (a - x->st_addr[s]))) & 0xff) << (8 * b);
				found = 1;
				break;
			}
		}
		if (!found) {
			const uint8_t *p = host(x, a);
			if (!p)
				return unknown;
			v |= (uint64_t)*p << (8 * b);
		}
	}
	return (val){v, 1};
}

// store records a store of the block; one wider than 8 bytes (vector,
// fxsave) has an unknown value.
static void store(cyc_addr *x, val addr, int size, val v) {
	if (!addr.ok || x->nst == CYC_STORES_MAX) {
		x->st_all = 1;
		return;
	}
	uint32_t s = x->nst++;
	x->st_addr[s] = addr.v;
	x->st_size[s] = (uint32_t)size;
	x->st_val[s] = v.v;
	x->st_ok[s] = (uint8_t)(v.ok && size <= 8);
}

// ea is the address of the instruction's memory operand.
static inline val ea(cyc_addr *x, const cyc_ai *ai) {
	if (ai->base == CYC_REG_ABS)
		return (val){(uint64_t)ai->disp, 1};
	if (ai->segment || (ai->base == CYC_REG_NONE && ai->index == CYC_REG_NONE))
		return unknown;
	uint64_t a = (uint64_t)ai->disp;
	if (ai->base != CYC_REG_NONE) {
		val b = reg(x, ai->base);
		if (!b.ok)
			return unknown;
		a += b.v;
	}
	if (ai->index != CYC_REG_NONE) {
		val i = reg(x, ai->index);
		if (!i.ok)
			return unknown;
		a += i.v * ai->scale;
	}
	return (val){a, 1};
}

// get reads an operand (size bytes, zero-extended); m is the address of
// the instruction's memory operand.
static inline val get(cyc_addr *x, val m, const cyc_arg *a) {
	switch (a->kind) {
	case CYC_ARG_REG: {
		val r = reg(x, a->reg);
		r.v = (r.v >> a->shift) & mask_of(a->size);
		return r;
	}
	case CYC_ARG_IMM:
		return (val){(uint64_t)a->imm & mask_of(a->size), 1};
	case CYC_ARG_MEM:
		return load(x, m, a->size);
	}
	return unknown;
}

// put writes an operand: 32-bit register writes clear the upper half,
// narrower ones merge into the old value.
static inline void put(cyc_addr *x, val m, const cyc_arg *a, val v) {
	switch (a->kind) {
	case CYC_ARG_REG:
		if (a->size < 4) {
			val old = reg(x, a->reg);
			uint64_t m = mask_of(a->size) << a->shift;
			v = (val){(old.v & ~m) | ((v.v << a->shift) & m), old.ok && v.ok};
		} else {
			v.v &= mask_of(a->size);
		}
		set_reg(x, a->reg, v);
		break;
	case CYC_ARG_MEM:
		store(x, m, a->size, v);
		break;
	}
}

static val alu(int op, val d, val s, int size) {
	if (!d.ok || !s.ok)
		return unknown;
	uint64_t r, m = mask_of(size);
	int bits = size * 8, cnt = (int)(s.v & (size == 8 ? 63 : 31));
	switch (op) {
	case CYC_A_ADD: r = d.v + s.v; break;
	case CYC_A_SUB: r = d.v - s.v; break;
	case CYC_A_AND: r = d.v & s.v; break;
	case CYC_A_OR: r = d.v | s.v; break;
	case CYC_A_XOR: r = d.v ^ s.v; break;
	case CYC_A_IMUL: r = d.v * s.v; break;
	case CYC_A_SHL: r = cnt >= bits ? 0 : d.v << cnt; break;
	case CYC_A_SHR: r = cnt >= bits ? 0 : (d.v & m) >> cnt; break;
	case CYC_A_SAR: r = (uint64_t)((int64_t)sext(d.v, size) >> (cnt >= bits ? bits - 1 : cnt)); break;
	default: return unknown;
	}
	return (val){r & m, 1};
}

static void push(cyc_addr *x, val v) {
	val sp = reg(x, CYC_REG_RSP);
	sp.v -= 8;
	set_reg(x, CYC_REG_RSP, sp);
	store(x, sp, 8, v);
}

// other: the instruction writes registers and memory it does not compute.
static void other(cyc_addr *x, const cyc_ai *ai, val m) {
	for (int r = 0; r < CYC_NGPR; r++)
		if (ai->wr >> r & 1)
			set_reg(x, r, unknown);
	if (ai->wmem == CYC_W_ALL)
		x->st_all = 1;
	else if (ai->wmem == CYC_W_OPERAND && ai->nargs > 0 && ai->a[0].kind == CYC_ARG_MEM)
		store(x, m, ai->a[0].size, unknown);
}

// mem is the address of the instruction's memory operand, from the
// registers as they are now (unknown if it has none).
static inline val mem(cyc_addr *x, const cyc_ai *ai) {
	return ai->base == CYC_REG_NONE && ai->index == CYC_REG_NONE ? unknown : ea(x, ai);
}

// used is the address the core model uses for the instruction, before it
// runs; m is its memory operand's.
static inline val used(cyc_addr *x, const cyc_ai *ai, val m) {
	val u = {0, 1};
	switch (ai->use) {
	case CYC_U_EA:
		u = m;
		break;
	case CYC_U_EA8:
		u = (val){m.v + 8, m.ok};
		break;
	case CYC_U_PUSH:
		u = reg(x, CYC_REG_RSP);
		u.v -= 8;
		break;
	case CYC_U_POP:
		u = reg(x, CYC_REG_RSP);
		break;
	}
	return u;
}

// is_arith: the operations arith runs.
static inline int is_arith(int op) {
	switch (op) {
	case CYC_A_ADD:
	case CYC_A_SUB:
	case CYC_A_AND:
	case CYC_A_OR:
	case CYC_A_XOR:
	case CYC_A_SHL:
	case CYC_A_SHR:
	case CYC_A_SAR:
		return 1;
	}
	return 0;
}

// arith runs add, sub, and, or, xor and the shifts (m: the memory
// operand's address).
static inline void arith(cyc_addr *x, const cyc_ai *ai, val m) {
	const cyc_arg *d = &ai->a[0], *s = &ai->a[1];
	val sv = ai->nargs > 1 ? get(x, m, s) : (val){1, 1}; // shift by 1
	if (s->kind == CYC_ARG_IMM && d->size == 8)
		sv.v = (uint64_t)s->imm; // imm32 sign-extended to 64 bits
	if ((ai->op == CYC_A_XOR || ai->op == CYC_A_SUB) && s->kind == CYC_ARG_REG && d->kind == CYC_ARG_REG &&
	    s->reg == d->reg && s->shift == d->shift)
		put(x, m, d, (val){0, 1}); // zero idiom
	else
		put(x, m, d, alu(ai->op, get(x, m, d), sv, d->size));
}

// stack runs push, pop, call and ret.
static inline void stack(cyc_addr *x, const cyc_ai *ai, val m) {
	const cyc_arg *d = &ai->a[0];
	switch (ai->op) {
	case CYC_A_PUSH: {
		val v = unknown; // pushfq: the flags are not tracked
		if (ai->nargs > 0) {
			v = get(x, m, d);
			if (d->kind == CYC_ARG_IMM)
				v.v = (uint64_t)d->imm;
		}
		push(x, v);
		break;
	}
	case CYC_A_POP: {
		val sp = reg(x, CYC_REG_RSP);
		val v = load(x, sp, 8);
		sp.v += 8;
		set_reg(x, CYC_REG_RSP, sp);
		if (ai->nargs > 0) // popfq: flags
			put(x, d->kind == CYC_ARG_MEM ? ea(x, ai) : m, d, v); // after rsp moved
		break;
	}
	case CYC_A_CALL:
		push(x, (val){ai->next, 1});
		break;
	case CYC_A_RET: {
		val sp = reg(x, CYC_REG_RSP);
		sp.v += 8 + (ai->nargs > 0 && d->kind == CYC_ARG_IMM ? (uint64_t)d->imm : 0);
		set_reg(x, CYC_REG_RSP, sp);
		break;
	}
	}
}

// step interprets one instruction and returns the address the core model
// uses for it (ok = 0: unknown).
static val step(cyc_addr *x, const cyc_ai *ai) {
	const cyc_arg *d = &ai->a[0], *s = &ai->a[1];
	// The memory operand's address, from the registers before the
	// instruction (pop [m] computes it again after rsp moved).
	val m = mem(x, ai);
	val used_ea = used(x, ai, m);
	if (is_arith(ai->op)) {
		arith(x, ai, m);
		return used_ea;
	}
	switch (ai->op) {
	case CYC_A_NONE:
		break;
	case CYC_A_MOV:
		put(x, m, d, get(x, m, s));
		break;
	case CYC_A_MOVZX:
		put(x, m, d, get(x, m, s));
		break;
	case CYC_A_MOVSX: {
		val v = get(x, m, s);
		v.v = sext(v.v, s->size);
		put(x, m, d, v);
		break;
	}
	case CYC_A_LEA:
		put(x, m, d, m);
		break;
	case CYC_A_IMUL:
		if (ai->nargs == 3) {
			val v = get(x, m, s);
			put(x, m, d, alu(CYC_A_IMUL, v, (val){(uint64_t)ai->a[2].imm, 1}, d->size));
		} else {
			put(x, m, d, alu(CYC_A_IMUL, get(x, m, d), get(x, m, s), d->size));
		}
		break;
	case CYC_A_INC:
	case CYC_A_DEC: {
		val v = get(x, m, d);
		v.v += ai->op == CYC_A_INC ? 1 : (uint64_t)-1;
		put(x, m, d, v);
		break;
	}
	case CYC_A_NEG:
	case CYC_A_NOT: {
		val v = get(x, m, d);
		v.v = ai->op == CYC_A_NEG ? -v.v : ~v.v;
		put(x, m, d, v);
		break;
	}
	case CYC_A_PUSH:
	case CYC_A_POP:
	case CYC_A_CALL:
	case CYC_A_RET:
		stack(x, ai, m);
		break;
	case CYC_A_LEAVE: {
		val sp = reg(x, CYC_REG_RBP);
		set_reg(x, CYC_REG_RBP, load(x, sp, 8));
		sp.v += 8;
		set_reg(x, CYC_REG_RSP, sp);
		break;
	}
	case CYC_A_XCHG: {
		val a = get(x, m, d), b = get(x, m, s);
		put(x, m, d, b);
		put(x, m, s, a);
		break;
	}
	case CYC_A_XADD: {
		val a = get(x, m, d), b = get(x, m, s);
		put(x, m, s, a);
		put(x, m, d, (val){a.v + b.v, a.ok && b.ok});
		break;
	}
	case CYC_A_CMPXCHG: {
		cyc_arg acc = {.kind = CYC_ARG_REG, .reg = 0, .size = d->size};
		val a = get(x, m, d), r = get(x, m, &acc);
		if (!a.ok || !r.ok) {
			put(x, m, d, unknown);
			put(x, m, &acc, unknown);
		} else if (a.v == r.v) {
			put(x, m, d, get(x, m, s));
		} else {
			put(x, m, d, a); // the processor writes the old value back
			put(x, m, &acc, a);
		}
		break;
	}
	case CYC_A_CDQE: {
		val v = reg(x, 0);
		v.v = sext(v.v, 4);
		set_reg(x, 0, v);
		break;
	}
	case CYC_A_CQO:
	case CYC_A_CDQ: {
		int size = ai->op == CYC_A_CQO ? 8 : 4;
		val v = reg(x, 0);
		v.v = (sext(v.v, size) >> 63 ? ~(uint64_t)0 : 0) & mask_of(size);
		if (size == 4) {
			cyc_arg edx = {.kind = CYC_ARG_REG, .reg = 2, .size = 4};
			put(x, m, &edx, v);
		} else {
			set_reg(x, 2, v);
		}
		break;
	}
	default:
		other(x, ai, m);
	}
	return used_ea;
}

// Forms of instruction that addr_block runs without step()'s general
// dispatch, the commonest in generated code; each does exactly what step()
// does for it.
enum {
	F_STEP = 0, // anything else: step()
	F_SKIP,     // changes nothing tracked and uses no address: jcc, cmp r,r, test
	F_USED,     // only its used address: cmp r,[m] (or an instruction the slice leaves out)
	F_LOAD,     // mov/movzx r32|r64, [m]
	F_STORE,    // mov [m], r|imm
	F_MOVE,     // mov r32|r64, r|imm
	F_LEA,      // lea r32|r64, [m]
	F_ARITH,    // add, sub, and, or, xor, shifts on a register
	F_STACK,    // push, pop, call, ret without a memory operand
};

static int form(const cyc_ai *ai) {
	const cyc_arg *d = &ai->a[0], *s = &ai->a[1];
	int dreg = ai->nargs == 2 && d->kind == CYC_ARG_REG && d->size >= 4; // whole register written
	int nomem = ai->base == CYC_REG_NONE && ai->index == CYC_REG_NONE;
	if (ai->op == CYC_A_NONE && ai->use == CYC_U_NONE)
		return F_SKIP;
	if (ai->op == CYC_A_NONE)
		return F_USED;
	if ((ai->op == CYC_A_MOV || ai->op == CYC_A_MOVZX) && dreg && s->kind == CYC_ARG_MEM && ai->use == CYC_U_EA)
		return F_LOAD;
	if (ai->op == CYC_A_MOV && ai->nargs == 2 && d->kind == CYC_ARG_MEM &&
	    (s->kind == CYC_ARG_REG || s->kind == CYC_ARG_IMM) && ai->use == CYC_U_EA)
		return F_STORE;
	if (ai->op == CYC_A_MOV && dreg && (s->kind == CYC_ARG_REG || s->kind == CYC_ARG_IMM) && nomem &&
	    ai->use == CYC_U_NONE)
		return F_MOVE;
	if (ai->op == CYC_A_LEA && dreg && ai->use == CYC_U_NONE)
		return F_LEA;
	if (is_arith(ai->op))
		return ai->use == CYC_U_NONE ? F_ARITH : F_STEP;
	switch (ai->op) {
	case CYC_A_PUSH:
	case CYC_A_POP:
	case CYC_A_CALL:
	case CYC_A_RET:
		return nomem ? F_STACK : F_STEP;
	}
	return F_STEP;
}

#define BIT(r) ((uint16_t)(1u << (r)))

// effects summarises what step() reads and writes for ai. Reads and
// may-writes over-approximate, surely-written-whole registers
// under-approximate: a wrong guess only makes a slice run an instruction
// it need not.
static void effects(cyc_ai *ai) {
	const cyc_arg *d = &ai->a[0];
	uint16_t rd = 0, wr = 0, def = 0, used = 0;
	int ld = 0, st = 0, memarg = 0;
	if (ai->base < CYC_NGPR) // step() computes the memory operand's address first
		used |= BIT(ai->base);
	if (ai->index < CYC_NGPR)
		used |= BIT(ai->index);
	if (ai->use == CYC_U_PUSH || ai->use == CYC_U_POP)
		used |= BIT(CYC_REG_RSP);
	rd = used;
	if (ai->op != CYC_A_NONE)
		for (int j = 0; j < ai->nargs; j++) {
			if (ai->a[j].kind == CYC_ARG_REG) { // partial writes merge: read too
				rd |= BIT(ai->a[j].reg);
				wr |= BIT(ai->a[j].reg);
			}
			memarg |= ai->a[j].kind == CYC_ARG_MEM;
		}
	int dwhole = ai->nargs > 0 && d->kind == CYC_ARG_REG && d->size >= 4;
	switch (ai->op) {
	case CYC_A_NONE:
		break;
	case CYC_A_PUSH:
	case CYC_A_CALL:
		rd |= BIT(CYC_REG_RSP), wr |= BIT(CYC_REG_RSP), def |= BIT(CYC_REG_RSP);
		ld = ai->op == CYC_A_PUSH && memarg;
		st = 1;
		break;
	case CYC_A_POP:
		rd |= BIT(CYC_REG_RSP), wr |= BIT(CYC_REG_RSP), def |= BIT(CYC_REG_RSP);
		if (dwhole)
			def |= BIT(d->reg);
		ld = 1;
		st = memarg;
		break;
	case CYC_A_RET:
		rd |= BIT(CYC_REG_RSP), wr |= BIT(CYC_REG_RSP), def |= BIT(CYC_REG_RSP);
		break;
	case CYC_A_LEAVE:
		rd |= BIT(CYC_REG_RBP) | BIT(CYC_REG_RSP);
		wr |= BIT(CYC_REG_RBP) | BIT(CYC_REG_RSP), def |= BIT(CYC_REG_RBP) | BIT(CYC_REG_RSP);
		ld = 1;
		break;
	case CYC_A_CDQE:
		rd |= BIT(0), wr |= BIT(0), def |= BIT(0);
		break;
	case CYC_A_CQO:
	case CYC_A_CDQ:
		rd |= BIT(0), wr |= BIT(2), def |= BIT(2);
		break;
	case CYC_A_OTHER:
		wr |= ai->wr, def |= ai->wr;
		st = ai->wmem != CYC_W_NONE;
		break;
	case CYC_A_MOV:
	case CYC_A_MOVZX:
	case CYC_A_MOVSX:
	case CYC_A_LEA:
		if (dwhole)
			def |= BIT(d->reg);
		ld = ai->op != CYC_A_LEA && memarg && d->kind != CYC_ARG_MEM;
		st = d->kind == CYC_ARG_MEM;
		break;
	default: // ALU, imul, inc/dec/neg/not, xchg, xadd, cmpxchg
		if (ai->op == CYC_A_CMPXCHG)
			rd |= BIT(0), wr |= BIT(0);
		else if (dwhole && ai->op != CYC_A_XCHG && ai->op != CYC_A_XADD)
			def |= BIT(d->reg);
		ld = st = memarg;
	}
	ai->rd = rd, ai->rd_used = used, ai->wr_may = wr, ai->wr_def = def;
	ai->loads = (uint8_t)ld, ai->stores = (uint8_t)st;
}

int addr_prepare(cyc_addr *x, uint32_t ninst) {
	x->form = malloc(ninst + 1);
	if (!x->form)
		return -1;
	for (uint32_t i = 0; i < ninst; i++) {
		x->form[i] = (uint8_t)form(&x->ai[i]);
		effects(&x->ai[i]);
	}
	return 0;
}

// slice decides, from the block's end backwards, which instructions of
// [i0, i1) addr_block runs: whole if they write a register a later one
// it runs reads (or memory a later one loads), for their used address
// only if nothing later needs what they write, else not at all. What the
// instructions it does not run write is left unknown (kill), so a later
// block reads it from the emulator: the values the interpreter tracks are
// those it would have computed, where it knows them.
static void slice(const cyc_addr *x, uint32_t i0, uint32_t i1, cyc_slice *p) {
	uint16_t live = p->live_out, later = 0, kill = 0;
	int memlive = 0;
	for (uint32_t i = i1; i-- > i0;) {
		const cyc_ai *ai = &x->ai[i];
		uint8_t *f = &p->form[i - i0];
		if ((ai->wr_may & live) || (ai->stores && memlive)) {
			*f = x->form[i];
			live = (live & ~ai->wr_def) | ai->rd;
			memlive |= ai->loads;
			later |= ai->wr_def;
			continue;
		}
		*f = ai->use == CYC_U_NONE ? F_SKIP : F_USED;
		live |= ai->rd_used;
		kill |= ai->wr_may & ~later;
	}
	p->i1 = i1;
	p->kill = kill;
	p->defs = later;
}

// forms is the block's slice, computed when it first runs, or, out of
// memory, the block whole (x->whole).
static const cyc_slice *forms(cyc_addr *x, uint32_t i0, uint32_t i1) {
	cyc_slice *p = &x->slice[i0];
	if (p->i1 == i1)
		return p;
	uint8_t *f = i1 > i0 ? realloc(p->form, i1 - i0) : NULL;
	if (!f) {
		x->whole.form = &x->form[i0];
		return &x->whole;
	}
	p->form = f;
	slice(x, i0, i1, p);
	return p;
}

int addr_block(cyc_addr *x, uint32_t i0, uint32_t i1, uint64_t *out) {
	x->stale = 0;
	x->nst = 0;
	x->st_all = 0;
	int ok = i1 - i0 <= CYC_BLOCK_MAX;
	const cyc_slice *p = forms(x, i0, i1);
	const uint8_t *fm = p->form - i0;
	for (uint32_t i = i0; i < i1; i++) {
		int f = fm[i];
		if (f == F_SKIP)
			continue;
		const cyc_ai *ai = &x->ai[i];
		const cyc_arg *d = &ai->a[0], *s = &ai->a[1];
		val u;
		switch (f) {
		case F_USED:
			u = used(x, ai, mem(x, ai));
			break;
		case F_LOAD:
		case F_STORE:
			u = mem(x, ai);
			put(x, u, d, get(x, u, s));
			break;
		case F_MOVE:
			put(x, unknown, d, get(x, unknown, s));
			continue;
		case F_LEA:
			u = mem(x, ai);
			put(x, u, d, u);
			continue;
		case F_ARITH:
			arith(x, ai, mem(x, ai));
			continue;
		case F_STACK:
			u = used(x, ai, unknown);
			stack(x, ai, unknown);
			if (ai->use == CYC_U_NONE)
				continue;
			break;
		default:
			u = step(x, ai);
			if (ai->use == CYC_U_NONE)
				continue;
		}
		if (!u.ok)
			ok = 0;
		else if (i - i0 < CYC_BLOCK_MAX)
			out[i - i0] = u.v;
	}
	if (p->kill | (x->killed & p->defs)) {
		x->known &= ~(uint32_t)p->kill;
		x->killed = (x->killed & ~(uint32_t)p->defs) | p->kill;
		for (uint16_t k = p->kill; k; k &= k - 1)
			x->killer[__builtin_ctz(k)] = i0;
	}
	return ok;
}

// What one run of an instruction leaves (addr_check_effects).
typedef struct outcome {
	uint64_t gpr[CYC_NGPR];
	uint32_t known, stale;
	val used;
	uint32_t nst;
	int st_all;
	uint64_t st_addr[CYC_STORES_MAX], st_val[CYC_STORES_MAX];
	uint32_t st_size[CYC_STORES_MAX];
	uint8_t st_ok[CYC_STORES_MAX];
} outcome;

static void run_one(const cyc_addr *x, uint32_t i, const osr_machine *m, const uint64_t *gpr, outcome *o) {
	cyc_addr y = *x; // a scratch interpreter: x is left as it was
	y.m = m;
	y.last = NULL;
	memcpy(y.gpr, gpr, sizeof y.gpr);
	y.known = (1u << CYC_NGPR) - 1; // every register known: nothing read from the emulator
	y.stale = y.killed = 0;
	y.nst = 0;
	y.st_all = 0;
	o->used = step(&y, &y.ai[i]);
	memcpy(o->gpr, y.gpr, sizeof o->gpr);
	o->known = y.known, o->stale = y.stale;
	o->nst = y.nst, o->st_all = y.st_all;
	memcpy(o->st_addr, y.st_addr, sizeof o->st_addr);
	memcpy(o->st_val, y.st_val, sizeof o->st_val);
	memcpy(o->st_size, y.st_size, sizeof o->st_size);
	memcpy(o->st_ok, y.st_ok, sizeof o->st_ok);
}

static int same_val(val a, val b) { return a.ok == b.ok && (!a.ok || a.v == b.v); }

// same_reg: register r has the same value (or is unknown) in a and b.
static int same_reg(const outcome *a, const outcome *b, int r) {
	uint32_t bit = 1u << r;
	return (a->known & bit) == (b->known & bit) && (a->stale & bit) == (b->stale & bit) &&
	       (!(a->known & bit) || a->gpr[r] == b->gpr[r]);
}

static int same_memory(const outcome *a, const outcome *b) {
	if (a->nst != b->nst || a->st_all != b->st_all)
		return 0;
	for (uint32_t s = 0; s < a->nst; s++)
		if (a->st_addr[s] != b->st_addr[s] || a->st_size[s] != b->st_size[s] || a->st_ok[s] != b->st_ok[s] ||
		    (a->st_ok[s] && a->st_val[s] != b->st_val[s]))
			return 0;
	return 1;
}

// unchanged: register r still holds its value from before (g).
static int unchanged(const outcome *o, const uint64_t *g, int r) {
	return (o->known >> r & 1) && !(o->stale >> r & 1) && o->gpr[r] == g[r];
}

int addr_check_effects(const cyc_addr *x, uint32_t i, const osr_machine *m1, const osr_machine *m2,
                       const uint64_t *g1, const uint64_t *other) {
	static outcome a, b, c; // large: not on the stack
	const cyc_ai *ai = &x->ai[i];
	uint64_t g2[CYC_NGPR];
	for (int r = 0; r < CYC_NGPR; r++)
		g2[r] = ai->rd >> r & 1 ? g1[r] : other[r];
	run_one(x, i, m1, g1, &a);
	run_one(x, i, m1, g2, &b); // other registers outside rd
	run_one(x, i, m2, g1, &c); // other memory
	int bad = 0;
	for (int r = 0; r < CYC_NGPR; r++) {
		uint16_t bit = BIT(r);
		if (!(ai->wr_may & bit) && !unchanged(&a, g1, r))
			bad |= CYC_EFF_WRITES;
		if ((ai->wr_def & bit) && !(ai->rd & bit) && !same_reg(&a, &b, r))
			bad |= CYC_EFF_DEF; // written whole: what it holds does not depend on its old value
		if ((ai->wr_may & bit) && !same_reg(&a, &b, r) && !(unchanged(&a, g1, r) && unchanged(&b, g2, r)))
			bad |= CYC_EFF_READS;
		if (!ai->loads && (ai->wr_may & bit) && !same_reg(&a, &c, r))
			bad |= CYC_EFF_LOADS;
	}
	if (!same_val(a.used, b.used) || !same_memory(&a, &b))
		bad |= CYC_EFF_READS;
	if (!ai->stores && (a.nst || a.st_all))
		bad |= CYC_EFF_STORES;
	if (!ai->loads && (!same_val(a.used, c.used) || !same_memory(&a, &c)))
		bad |= CYC_EFF_LOADS;
	return bad;
}

// Every run starts from registers the interpreter reads when it needs them.
void addr_reset(cyc_addr *x) {
	x->known = 0;
	x->killed = 0;
	x->stale = 0;
	x->last = NULL;
	x->reads = 0;
}

void addr_free(cyc_addr *x) {
	if (!x)
		return;
	if (x->slice)
		for (uint32_t i = 0; i <= x->ninst; i++)
			free(x->slice[i].form);
	free(x->slice);
	free(x->form);
	free(x->ai);
	free(x);
}
