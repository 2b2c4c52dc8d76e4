// TAGE (Seznec & Michaud, JILP 2006), small and deterministic: a bimodal
// base (the estimator's pht, indexed by address) and CYC_TAGE_T tagged
// tables indexed by address xor the folded global history of geometric
// lengths. The longest matching table provides the prediction; on a
// misprediction an entry is allocated in a longer table whose useful
// counter is 0.
#include <string.h>

#include "cycles.h"

// fold shifts the outcome in into the folded history f (w bits) and takes
// out (0 or all ones: the outcome leaving the history) out of it at
// outbit: the folded history rotates by one.
static inline uint32_t fold(uint32_t f, uint32_t in, uint32_t out, uint32_t outbit, uint32_t w) {
	f = ((f << 1) | in) ^ (out & outbit);
	f ^= f >> w;
	return f & ((1u << w) - 1);
}

static void tage_push(cyc_tage *g, int taken) {
	uint32_t in = (uint32_t)taken, out[CYC_TAGE_T];
	for (int t = 0; t < CYC_TAGE_T; t++)
		out[t] = -(uint32_t)((g->hist[g->oword[t]] >> g->oshift[t]) & 1);
	for (int t = 0; t < CYC_TAGE_T; t++) {
		g->fi[t] = fold(g->fi[t], in, out[t], g->outi[t], g->bits);
		g->ft0[t] = fold(g->ft0[t], in, out[t], g->outt0[t], 8);
		g->ft1[t] = fold(g->ft1[t], in, out[t], g->outt1[t], 7);
		g->ix[t] = g->fi[t] ^ g->tix[t];
		g->tx[t] = (g->ft0[t] ^ (g->ft1[t] << 1)) & 0xff;
	}
	g->hist[3] = (g->hist[3] << 1) | (g->hist[2] >> 63);
	g->hist[2] = (g->hist[2] << 1) | (g->hist[1] >> 63);
	g->hist[1] = (g->hist[1] << 1) | (g->hist[0] >> 63);
	g->hist[0] = (g->hist[0] << 1) | (uint64_t)taken;
}

static inline void train(uint8_t *ctr, int taken, uint8_t max) {
	if (taken && *ctr < max)
		(*ctr)++;
	else if (!taken && *ctr > 0)
		(*ctr)--;
}

// allocate gives the branch an entry in a table longer than the provider's
// whose useful counter is 0, or ages those entries if none is free.
static void allocate(cyc_tage *g, int prov, const uint32_t *idx, const uint16_t *tg, int taken) {
	for (int t = prov + 1; t < CYC_TAGE_T; t++) {
		if (g->u[t][idx[t]] == 0) {
			g->tag[t][idx[t]] = tg[t];
			g->ctr[t][idx[t]] = taken ? 4 : 3;
			return;
		}
	}
	for (int t = prov + 1; t < CYC_TAGE_T; t++)
		if (g->u[t][idx[t]])
			g->u[t][idx[t]]--;
}

int tage_predict_update(cyc_tage *g, uint8_t *pht, uint32_t pht_bits, uint64_t pc, int taken) {
	uint32_t mask = (1u << g->bits) - 1;
	uint32_t idx[CYC_TAGE_T];
	uint16_t tg[CYC_TAGE_T];
	int prov = -1, alt = -1;
	uint64_t h = pc ^ (pc >> 2);
	uint32_t hi = (uint32_t)(h ^ (h >> g->bits)), ht = (uint32_t)(h >> 3);
	for (int t = 0; t < CYC_TAGE_T; t++) {
		idx[t] = (hi ^ g->ix[t]) & mask;
		tg[t] = (uint16_t)(((ht ^ g->tx[t]) & 0xff) | 0x100); // 0 = empty
	}
	for (int t = CYC_TAGE_T - 1; t >= 0; t--) {
		if (g->tag[t][idx[t]] == tg[t]) {
			if (prov < 0)
				prov = t;
			else if (alt < 0)
				alt = t;
		}
	}
	uint64_t bi = (pc ^ (pc >> pht_bits)) & (((uint64_t)1 << pht_bits) - 1);
	int base = pht[bi] >= 2;
	int altp = alt >= 0 ? g->ctr[alt][idx[alt]] >= 4 : base;
	int pred = prov >= 0 ? g->ctr[prov][idx[prov]] >= 4 : base;
	if (prov >= 0) {
		train(&g->ctr[prov][idx[prov]], taken, 7);
		if (pred != altp)
			train(&g->u[prov][idx[prov]], pred == taken, 3);
	} else {
		train(&pht[bi], taken, 3);
	}
	if (pred != taken && prov < CYC_TAGE_T - 1)
		allocate(g, prov, idx, tg, taken);
	// Graceful ageing of the useful counters.
	if ((++g->branches & ((1u << 18) - 1)) == 0)
		for (int t = 0; t < CYC_TAGE_T; t++)
			for (uint32_t i = 0; i <= mask; i++)
				g->u[t][i] >>= 1;
	tage_push(g, taken);
	return pred == taken;
}

void tage_reset(cyc_tage *g) {
	size_t n = (size_t)1 << g->bits;
	for (int t = 0; t < CYC_TAGE_T; t++) {
		memset(g->tag[t], 0, n * sizeof *g->tag[t]);
		memset(g->ctr[t], 4, n);
		memset(g->u[t], 0, n);
		g->fi[t] = g->ft0[t] = g->ft1[t] = 0;
		g->ix[t] = g->tix[t];
		g->tx[t] = 0;
	}
	memset(g->hist, 0, sizeof g->hist);
	g->branches = 0;
}
