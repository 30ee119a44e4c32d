/*
 * Channels-last conv GEMM, AVX-512F: the contract of f32_nhwc_gemm (kernels/dispatch.h) over
 * the same packed weights as the reference and AVX2 tables (16-column panels,
 * kernels/ref/nhwc_mk.h): one zmm register holds one panel row, so the format needs no
 * change. C = act(base + A * B), A rows = output pixels (input rows of a 1x1 conv,
 * gathered rows, Winograd tiles).
 *
 * Register tiles of mr rows x np panels (16 columns each): 12 x 2 (24 accumulators, 2
 * weight loads and 12 broadcasts per depth step) for full row tiles; the last 1-11 rows of
 * a call use tiles as wide as 24 accumulators allow (1-3 rows: up to 4 panels). Every
 * element is summed in k order with FMA from the same start (0, bias or C) over the same
 * depth blocks (a function of kc only), whatever tile computes it; activations without
 * exp are applied per register, SILU / SIGMOID / GELU / TANH over the stored row (AVX2
 * row code, the same per element wherever the row starts): any split of rows or columns
 * gives the same bits.
 *
 * Loop nest per depth block (<= KC): column blocks of NCB columns (their weights stay in
 * L2) > row tiles > panel pairs; calls of 13-96 rows (Winograd tiles, 7x7 planes) run the
 * row tiles inside each panel pair (the pair's weights read once from L2, then from L1).
 */
#include <immintrin.h>
#include <string.h>

#include "kernels/x86/f32-conv.h"
#include "kernels/x86/f32-nhwc.h"

enum { NR = 16, KC = 256, NCB = 256, MR = 12 };
enum { INIT_ZERO, INIT_BIAS, INIT_C };

/* C[0..mr)[0..nr) for nr <= 16*np: b = packed rows at this depth for the first column,
 * ps = floats between panels. exact: nr == 16*np. vact: RELU / CLIP in registers; the
 * callers apply the other activations over the stored rows. */
static inline __attribute__((always_inline)) void tile(const int mr, const int np, const int exact, int64_t kc,
                                                       const float *a, int64_t lda, const float *b, int64_t ps,
                                                       float *c, int64_t ldc, int64_t nr, int mode, const float *bias,
                                                       int vact, er_act act, const float *pf) {
  __m512 acc[MR][4];
  __mmask16 m[4];
#pragma GCC unroll 4
  for (int v = 0; v < np; v++) {
    const int64_t left = nr - 16 * v;
    m[v] = exact || left >= 16 ? (__mmask16)0xffff : left <= 0 ? (__mmask16)0 : (__mmask16)((1u << left) - 1);
  }
  if (mode == INIT_C) {
#pragma GCC unroll 12
    for (int r = 0; r < mr; r++)
#pragma GCC unroll 4
      for (int v = 0; v < np; v++) acc[r][v] = _mm512_maskz_loadu_ps(m[v], c + r * ldc + 16 * v);
  } else {
#pragma GCC unroll 4
    for (int v = 0; v < np; v++) {
      const __m512 bv = mode == INIT_BIAS ? _mm512_maskz_loadu_ps(m[v], bias + 16 * v) : _mm512_setzero_ps();
#pragma GCC unroll 12
      for (int r = 0; r < mr; r++) acc[r][v] = bv;
    }
  }
  /* the full tile: rows in threes off 4 pointers (row 3i + e at ap[i] + e * lda), 5
   * registers for the addresses rather than 12 (its depth loop reloaded row pointers from
   * the stack); the others: a pointer per row (the three-pointer form made the masked
   * 12-row tiles of PP-OCR's 24-channel Winograd GEMMs 35% slower) */
  const float *ar[MR], *ap[4];
#pragma GCC unroll 12
  for (int r = 0; r < mr; r++) ar[r] = a + r * lda;
#pragma GCC unroll 4
  for (int i = 0; i < 4; i++) ap[i] = a + (3 * i < mr ? 3 * i : 0) * lda;
  for (int64_t k = 0; k < kc; k++) {
    __m512 bk[4];
#pragma GCC unroll 4
    for (int v = 0; v < np; v++) bk[v] = _mm512_loadu_ps(b + v * ps);
#pragma GCC unroll 12
    for (int r = 0; r < mr; r++) {
      const __m512 av = _mm512_set1_ps(exact && mr == MR ? ap[r / 3][(r % 3) * lda + k] : ar[r][k]);
#pragma GCC unroll 4
      for (int v = 0; v < np; v++) acc[r][v] = _mm512_fmadd_ps(av, bk[v], acc[r][v]);
    }
    if (pf) _mm_prefetch((const char *)(pf + k * NR), _MM_HINT_T1);
    b += NR;
  }
#pragma GCC unroll 12
  for (int r = 0; r < mr; r++)
#pragma GCC unroll 4
    for (int v = 0; v < np; v++)
      _mm512_mask_storeu_ps(c + r * ldc + 16 * v, m[v], vact ? er_nhwc_act_min_avx512(acc[r][v], act) : acc[r][v]);
}
/* act_on: the activation is due (last depth block); 1 if it goes in registers */
static inline int act_regs(int act_on, er_act act) { return act_on && er_nhwc_act_regs_avx512(act.kind); }
/* the other activations over mr stored rows of n columns */
static inline void act_rows(int mr, int act_on, er_act act, float *c, int64_t ldc, int64_t n) {
  if (act_on && !er_nhwc_act_regs_avx512(act.kind)) er_nhwc_act_block_avx512(c, ldc, mr, n, act);
}

/* the full 12x32 tile, out of line: one copy (it needs every register: a loop around it
 * in the same function would spill) */
static __attribute__((noinline)) void tile_full(int64_t kc, const float *a, int64_t lda, const float *b, int64_t ps,
                                                float *c, int64_t ldc, int mode, const float *bias, int vact,
                                                er_act act, const float *pf) {
  tile(MR, 2, 1, kc, a, lda, b, ps, c, ldc, 2 * NR, mode, bias, vact, act, pf);
}
/* full tiles: nt row tiles x npp panel pairs (a, b, c and bias at the first); activations not
 * in registers go over each row tile's rows once its panels are done */
static void tiles_full(int64_t nt, int64_t npp, int64_t kc, const float *a, int64_t lda, const float *b, int64_t ps,
                       float *c, int64_t ldc, int mode, const float *bias, int act_on, er_act act) {
  const int vact = act_regs(act_on, act);
  for (int64_t t = 0; t < nt; t++, a += MR * lda, c += MR * ldc) {
    for (int64_t p = 0; p < npp; p++)
      tile_full(kc, a, lda, b + 2 * p * ps, ps, c + 2 * p * NR, ldc, mode, bias ? bias + 2 * p * NR : 0, vact, act, 0);
    act_rows(MR, act_on, act, c, ldc, npp * 2 * NR);
  }
}

typedef void (*tile_fn)(int64_t kc, const float *a, int64_t lda, const float *b, int64_t ps, float *c, int64_t ldc,
                        int64_t nr, int mode, const float *bias, int vact, er_act act);
#define TILE(mr, np)                                                                                          \
  static void tile_##mr##x##np(int64_t kc, const float *a, int64_t lda, const float *b, int64_t ps, float *c, \
                               int64_t ldc, int64_t nr, int mode, const float *bias, int vact, er_act act) {   \
    tile(mr, np, 0, kc, a, lda, b, ps, c, ldc, nr, mode, bias, vact, act, 0);                                \
  }
TILE(1, 1) TILE(1, 2) TILE(1, 3) TILE(1, 4) TILE(2, 1) TILE(2, 2) TILE(2, 3) TILE(2, 4) TILE(3, 1) TILE(3, 2)
TILE(3, 3) TILE(3, 4) TILE(4, 1) TILE(4, 2) TILE(6, 1) TILE(6, 2) TILE(8, 1) TILE(8, 2) TILE(12, 1) TILE(12, 2)
#undef TILE
/* tiles[mr][np] for the tile heights 1-4, 6, 8 and 12 (other row counts: the tallest that
 * fits, then the rest); the widest np of a height is its step */
static const tile_fn tiles[MR + 1][5] = {
    {0},
    {0, tile_1x1, tile_1x2, tile_1x3, tile_1x4},
    {0, tile_2x1, tile_2x2, tile_2x3, tile_2x4},
    {0, tile_3x1, tile_3x2, tile_3x3, tile_3x4},
    {0, tile_4x1, tile_4x2},
    {0},
    {0, tile_6x1, tile_6x2},
    {0},
    {0, tile_8x1, tile_8x2},
    {0}, {0}, {0},
    {0, tile_12x1, tile_12x2},
};
static const int max_np[MR + 1] = {0, 4, 4, 4, 2, 2, 2, 2, 2, 2, 2, 2, 2};
static const int height[MR + 1] = {0, 1, 2, 3, 4, 4, 6, 6, 8, 8, 8, 8, 12}; /* tallest tile <= mr rows */

/* mr rows x nr columns (nr <= 16 * max_np[mr]) through tiles of ceil(nr / 16) panels, then
 * the other activations */
static void tile_part(int mr, int64_t kc, const float *a, int64_t lda, const float *b, int64_t ps, float *c,
                      int64_t ldc, int64_t nr, int mode, const float *bias, int act_on, er_act act) {
  const int np = (int)((nr + NR - 1) / NR);
  for (int r = 0; r < mr;) {
    const int h = height[mr - r];
    tiles[h][np](kc, a + r * lda, lda, b, ps, c + r * ldc, ldc, nr, mode, bias, act_regs(act_on, act), act);
    r += h;
  }
  act_rows(mr, act_on, act, c, ldc, nr);
}

void er_f32_nhwc_gemm_12x32__avx512(int64_t M, int64_t N, int64_t kc, const float *A, int64_t lda,
                                    const void *packed, int64_t K, int64_t k0, int64_t n0, const float *bias,
                                    int accumulate, er_act act, float *C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (kc <= 0) {
    er_nhwc_gemm_no_depth(M, N, bias, accumulate, act, C, ldc);
    return;
  }
  const int64_t ps = K * NR; /* floats between panels */
  const float *P = (const float *)packed + (n0 / NR) * ps + k0 * NR;
  const int64_t kb = er_nhwc_k_block(kc, KC);
  for (int64_t kk = 0; kk < kc; kk += kb) {
    const int64_t kl = kc - kk < kb ? kc - kk : kb;
    const int mode = kk > 0 || accumulate ? INIT_C : bias ? INIT_BIAS : INIT_ZERO;
    const int act_on = kk + kl == kc && act.kind != ER_ACT_NONE;
    for (int64_t jc = 0; jc < N; jc += NCB) {
      const int64_t je = N - jc < NCB ? N : jc + NCB;
      const int64_t jf = jc + (je - jc) / (2 * NR) * (2 * NR); /* full panel pairs end */
      if (M > MR && M <= 8 * MR) {
        /* a few row tiles: each panel pair once from L2, then from L1 for the other row tiles */
        for (int64_t j = jc; j < je; j += 2 * NR) {
          const int64_t nr = je - j < 2 * NR ? je - j : 2 * NR;
          const float *b = P + (j / NR) * ps + kk * NR, *bs = bias ? bias + j : 0;
          /* in a whole model a layer's weights come from L3: the first two row tiles fetch
           * the next pair's panels (one 64-byte line per depth step each) into L2 */
          const float *nb = j + 2 * NR < je ? b + 2 * ps : 0;
          for (int64_t i0 = 0; i0 < M; i0 += MR) {
            const int mr = M - i0 < MR ? (int)(M - i0) : MR;
            const float *a = A + i0 * lda + kk;
            float *c = C + i0 * ldc + j;
            if (mr == MR && nr == 2 * NR) {
              tile_full(kl, a, lda, b, ps, c, ldc, mode, bs, act_regs(act_on, act), act,
                        nb && i0 < 2 * MR ? nb + (i0 / MR) * ps : 0);
              act_rows(MR, act_on, act, c, ldc, 2 * NR);
            } else
              tile_part(mr, kl, a, lda, b, ps, c, ldc, nr, mode, bs, act_on, act);
          }
        }
        continue;
      }
      int64_t i0 = 0;
      if (jf > jc && M >= MR) { /* full 12x32 tiles, then the rest */
        const int64_t nt = M / MR;
        tiles_full(nt, (jf - jc) / (2 * NR), kl, A + kk, lda, P + (jc / NR) * ps + kk * NR, ps, C + jc, ldc, mode,
                   bias ? bias + jc : 0, act_on, act);
        for (; i0 < MR * nt; i0 += MR)
          if (jf < je)
            tile_part(MR, kl, A + i0 * lda + kk, lda, P + (jf / NR) * ps + kk * NR, ps, C + i0 * ldc + jf, ldc,
                      je - jf, mode, bias ? bias + jf : 0, act_on, act);
      }
      for (; i0 < M; i0 += MR) {
        const int mr = M - i0 < MR ? (int)(M - i0) : MR;
        const int64_t step = NR * max_np[mr];
        const float *a = A + i0 * lda + kk;
        float *c = C + i0 * ldc;
        for (int64_t j = jc; j < je; j += step) {
          const int64_t nr = je - j < step ? je - j : step;
          tile_part(mr, kl, a, lda, P + (j / NR) * ps + kk * NR, ps, c + j, ldc, nr, mode, bias ? bias + j : 0, act_on,
                    act);
        }
      }
    }
  }
}
