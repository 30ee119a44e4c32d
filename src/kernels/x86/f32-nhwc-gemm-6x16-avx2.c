/*
 * Channels-last conv GEMM, AVX2/FMA: C = act(base + A * B) with A rows = output pixels (the
 * input rows of a 1x1 conv, gathered rows, or Winograd tiles) and B the packed weights
 * (16-column panels, see kernels/ref/nhwc_mk.h).
 *
 * Register tiles of mr rows x nv vectors of 8 columns: 6 x 2 (6x16) for full row tiles, and
 * for the last 1-5 rows (or a call with so few pixels, e.g. a 1-D conv over a handful of
 * steps or an SE block's 1x1 plane) wider and shallower ones (1 x 8, 2-3 x 4, 4-5 x 2
 * vectors) so at least 8 accumulators hide the FMA latency. A column panel with <= 8 valid
 * columns uses one vector per row. Every element is summed in k order with FMA from the
 * same start (0, bias or C) over the same depth blocks, whatever tile computes it; RELU and
 * CLIP are applied in registers, every other activation over the stored tile row
 * (er_nhwc_act_stored, the same per element wherever the row starts): any split of rows or
 * columns gives the same bits. The full 6x16 tile is inlined once, in tiles_full.
 *
 * Loop nest per depth block (<= KC, equal blocks, a function of kc only): column blocks of
 * NCB columns (their B slice stays in L2) > row tiles > panels.
 */
#include <immintrin.h>
#include <string.h>

#include "kernels/x86/f32-conv.h"
#include "kernels/x86/f32-nhwc.h"

enum { NR = 16, KC = 256, NCB = 256 };
enum { INIT_ZERO, INIT_BIAS, INIT_C };

/* C[0..mr)[0..8*nv): b = packed rows at this depth for the first column, ps = floats between
 * panels. Whole vectors only (columns past N, within the last panel, are the callers' to
 * discard: see tile_part). vact: RELU / CLIP in registers; the callers apply the other
 * activations over the stored rows. */
static inline __attribute__((always_inline)) void tile(const int mr, const int nv, int64_t kc, const float *a,
                                                       int64_t lda, const float *b, int64_t ps, float *c, int64_t ldc,
                                                       int mode, const float *bias, int vact, er_act act) {
  __m256 acc[6][8];
  if (mode == INIT_C) {
#pragma GCC unroll 6
    for (int r = 0; r < mr; r++)
#pragma GCC unroll 8
      for (int v = 0; v < nv; v++) acc[r][v] = _mm256_loadu_ps(c + r * ldc + 8 * v);
  } else {
#pragma GCC unroll 8
    for (int v = 0; v < nv; v++) {
      const __m256 bv = mode == INIT_BIAS ? _mm256_loadu_ps(bias + 8 * v) : _mm256_setzero_ps();
#pragma GCC unroll 6
      for (int r = 0; r < mr; r++) acc[r][v] = bv;
    }
  }
  const float *ar[6];
#pragma GCC unroll 6
  for (int r = 0; r < mr; r++) ar[r] = a + r * lda;
  for (int64_t k = 0; k < kc; k++) {
    __m256 bk[8];
#pragma GCC unroll 8
    for (int v = 0; v < nv; v++) bk[v] = _mm256_loadu_ps(b + (v >> 1) * ps + (v & 1) * 8);
#pragma GCC unroll 6
    for (int r = 0; r < mr; r++) {
      const __m256 av = _mm256_broadcast_ss(ar[r] + k);
#pragma GCC unroll 8
      for (int v = 0; v < nv; v++) acc[r][v] = _mm256_fmadd_ps(av, bk[v], acc[r][v]);
    }
    b += NR;
  }
#pragma GCC unroll 6
  for (int r = 0; r < mr; r++)
#pragma GCC unroll 8
    for (int v = 0; v < nv; v++)
      _mm256_storeu_ps(c + r * ldc + 8 * v, vact ? er_nhwc_act_min_avx2(acc[r][v], act) : acc[r][v]);
}
/* act_on: the activation is due (last depth block); 1 if it goes in registers */
static inline int act_regs(int act_on, er_act act) { return act_on && er_nhwc_act_regs_avx2(act.kind); }
/* the other activations over mr stored rows of n columns */
static inline void act_rows(int mr, int act_on, er_act act, float *c, int64_t ldc, int64_t n) {
  if (act_on && !er_nhwc_act_regs_avx2(act.kind)) er_nhwc_act_block_avx2(c, ldc, mr, n, act);
}

/* full 6x16 tiles: nt row tiles (6 rows each) x np consecutive panels (a, b, c and bias at
 * the first), out of line: one copy of the tile for both loops, and one call for many tiles
 * (a shallow 1x1 conv's tile is a few dozen cycles); activations not in registers go over
 * each row tile's rows once its panels are done */
static __attribute__((noinline)) void tiles_full(int64_t nt, int64_t np, int64_t kc, const float *a, int64_t lda,
                                                 const float *b, int64_t ps, float *c, int64_t ldc, int mode,
                                                 const float *bias, int act_on, er_act act) {
  const int vact = act_regs(act_on, act);
  for (int64_t t = 0; t < nt; t++, a += 6 * lda, c += 6 * ldc) {
    for (int64_t p = 0; p < np; p++)
      tile(6, 2, kc, a, lda, b + p * ps, ps, c + p * NR, ldc, mode, bias ? bias + p * NR : 0, vact, act);
    act_rows(6, act_on, act, c, ldc, np * NR);
  }
}

typedef void (*tile_fn)(int64_t kc, const float *a, int64_t lda, const float *b, int64_t ps, float *c, int64_t ldc,
                        int mode, const float *bias, int vact, er_act act);
#define TILE(mr, nv)                                                                                          \
  static void tile_##mr##x##nv(int64_t kc, const float *a, int64_t lda, const float *b, int64_t ps, float *c, \
                               int64_t ldc, int mode, const float *bias, int vact, er_act act) {             \
    tile(mr, nv, kc, a, lda, b, ps, c, ldc, mode, bias, vact, act);                                           \
  }
TILE(1, 1) TILE(1, 2) TILE(1, 3) TILE(1, 4) TILE(1, 5) TILE(1, 6) TILE(1, 7) TILE(1, 8)
TILE(2, 1) TILE(2, 2) TILE(2, 3) TILE(2, 4) TILE(3, 1) TILE(3, 2) TILE(3, 3) TILE(3, 4)
TILE(4, 1) TILE(4, 2) TILE(5, 1) TILE(5, 2) TILE(6, 1) TILE(6, 2)
#undef TILE
/* tiles[mr][nv]; the widest nv of a row count is its step */
static const tile_fn tiles[7][9] = {
    {0},
    {0, tile_1x1, tile_1x2, tile_1x3, tile_1x4, tile_1x5, tile_1x6, tile_1x7, tile_1x8},
    {0, tile_2x1, tile_2x2, tile_2x3, tile_2x4},
    {0, tile_3x1, tile_3x2, tile_3x3, tile_3x4},
    {0, tile_4x1, tile_4x2},
    {0, tile_5x1, tile_5x2},
    {0, tile_6x1, tile_6x2},
};
static const int max_nv[7] = {0, 8, 4, 4, 2, 2, 2};

/* mr rows x nr columns (nr <= 64) through the tile of ceil(nr / 8) vectors (so no panel past
 * N is read); a partial last vector goes through a zero-padded copy of the tile (C and bias
 * in, C out), so the tiles themselves need no masks. Each element is computed the same way
 * either way. */
static void tile_part(int mr, int64_t kc, const float *a, int64_t lda, const float *b, int64_t ps, float *c,
                      int64_t ldc, int64_t nr, int mode, const float *bias, int act_on, er_act act) {
  const int nv = (int)((nr + 7) / 8), vact = act_regs(act_on, act);
  if (nr % 8 == 0) {
    tiles[mr][nv](kc, a, lda, b, ps, c, ldc, mode, bias, vact, act);
    act_rows(mr, act_on, act, c, ldc, nr);
    return;
  }
  float buf[6 * 64], bb[64];
  const int64_t w = 8 * nv;
  for (int r = 0; r < mr; r++) {
    if (mode == INIT_C) memcpy(buf + r * w, c + r * ldc, sizeof(float) * (size_t)nr);
    memset(buf + r * w + nr, 0, sizeof(float) * (size_t)(w - nr));
  }
  if (mode == INIT_BIAS) {
    memcpy(bb, bias, sizeof(float) * (size_t)nr);
    memset(bb + nr, 0, sizeof(float) * (size_t)(w - nr));
  }
  tiles[mr][nv](kc, a, lda, b, ps, buf, w, mode, mode == INIT_BIAS ? bb : 0, vact, act);
  for (int r = 0; r < mr; r++) memcpy(c + r * ldc, buf + r * w, sizeof(float) * (size_t)nr);
  act_rows(mr, act_on, act, c, ldc, nr);
}

void er_f32_nhwc_gemm_6x16__avx2(int64_t M, int64_t N, int64_t kc, const float *A, int64_t lda, const void *packed,
                                 int64_t K, int64_t k0, int64_t n0, const float *bias, int accumulate, er_act act,
                                 float *C, int64_t ldc) {
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
      int64_t i0 = 0;
      const int64_t jf = jc + (je - jc) / NR * NR; /* full panels end */
      if (M > 6 && M <= 48) {
        /* a few row tiles (Winograd tiles, a 7x7 plane): each B panel once from L2, then from
         * L1 for the other row tiles (their A rows stay in L1) */
        for (int64_t j = jc; j < je; j += NR) {
          const int64_t nr = je - j < NR ? je - j : NR;
          const float *b = P + (j / NR) * ps + kk * NR, *bs = bias ? bias + j : 0;
          for (i0 = 0; i0 < M; i0 += 6) {
            const int mr = M - i0 < 6 ? (int)(M - i0) : 6;
            const float *a = A + i0 * lda + kk;
            float *c = C + i0 * ldc + j;
            if (mr == 6 && nr == NR)
              tiles_full(1, 1, kl, a, lda, b, ps, c, ldc, mode, bs, act_on, act);
            else
              tile_part(mr, kl, a, lda, b, ps, c, ldc, nr, mode, bs, act_on, act);
          }
        }
        continue;
      }
      if (jf > jc && M >= 6) { /* full 6x16 tiles, then the rest */
        const int64_t nt = M / 6;
        tiles_full(nt, (jf - jc) / NR, kl, A + kk, lda, P + (jc / NR) * ps + kk * NR, ps, C + jc, ldc, mode,
                   bias ? bias + jc : 0, act_on, act);
        for (; i0 < 6 * nt; i0 += 6)
          if (jf < je)
            tile_part(6, kl, A + i0 * lda + kk, lda, P + (jf / NR) * ps + kk * NR, ps, C + i0 * ldc + jf, ldc, je - jf,
                      mode, bias ? bias + jf : 0, act_on, act);
      }
      for (; i0 < M; i0 += 6) {
        const int mr = M - i0 < 6 ? (int)(M - i0) : 6;
        const int64_t step = 8 * max_nv[mr];
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
