/* float32 GEMM for AVX2/FMA: 6x16 register tile, B in 16-column panels (see f32-gemm.h).
 *
 * Pre-packed B (weights), per K block of <= 256: chunks of 120 rows of A (their slice stays
 * in L2) > 16-column panels (read sequentially once per chunk while the panel used next is
 * prefetched a slice per row tile; weights usually come from L3 or memory) > row tiles of
 * 6. On-the-fly B (f32_gemm): column blocks of 64 packed into a stack buffer > row tiles
 * (the 6 x kc slice of A copied together when several panels reuse it) > panels.
 * Micro-kernel: per k, two B vectors, six A broadcasts, twelve FMAs. A is read in place
 * through row pointers when it is row-major; a transposed A is packed per row tile into a
 * small stack buffer. The first K block starts from zero, the bias row, or C; later blocks
 * continue from C; the last one applies the fused activation before the store. */
#include <immintrin.h>
#include <string.h>

#include "kernels/x86/f32-gemm.h"
#include "kernels/x86/x32-transpose.h"
#define ER_VW 8
#include "kernels/x86/vmath-simd.h"

#define MR 6
#define MC 120 /* rows per L2 chunk of A when B is pre-packed (20 row tiles) */
#define NR 16
#define KC 256
#define NC_UNPACKED 64  /* columns packed at once by the on-the-fly path (stack buffer) */

enum { INIT_ZERO, INIT_BIAS, INIT_C };

static const int32_t k_mask_tab[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
/* lanes [0, n) set, n in [0, 8] */
static inline __m256i lane_mask(int n) {
  return _mm256_loadu_si256((const __m256i *)(k_mask_tab + 8 - n));
}

/* Vectorized activations (all kinds; the transcendental ones with the approximations of
 * kernels/vmath.h); returns 0 when the kind needs the scalar fallback. */
static inline int act_vectorized(int kind) { return kind >= ER_ACT_NONE && kind <= ER_ACT_LEAKYRELU; }

/* NaN handling follows er_f32_apply_act: max_ps/min_ps return their second operand when
 * either is NaN. */
static inline __m256 act_apply(__m256 x, int kind, __m256 pa, __m256 pb) {
  const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
  switch (kind) {
    case ER_ACT_RELU: return _mm256_max_ps(x, zero);                      /* NaN -> 0 */
    case ER_ACT_CLIP: return _mm256_min_ps(pb, _mm256_max_ps(pa, x));     /* NaN stays */
    case ER_ACT_LEAKYRELU:
      return _mm256_blendv_ps(_mm256_mul_ps(pa, x), x, _mm256_cmp_ps(x, zero, _CMP_GE_OQ));
    case ER_ACT_HARDSIGMOID:
      return _mm256_min_ps(one, _mm256_max_ps(zero, _mm256_fmadd_ps(pa, x, pb)));
    case ER_ACT_HARDSWISH: {
      __m256 t = _mm256_fmadd_ps(x, _mm256_set1_ps(1.0f / 6.0f), _mm256_set1_ps(0.5f));
      return _mm256_mul_ps(x, _mm256_min_ps(one, _mm256_max_ps(zero, t)));
    }
    case ER_ACT_SILU: return vm_silu(x);
    case ER_ACT_GELU: return vm_gelu(x);
    case ER_ACT_SIGMOID: return vm_sigmoid(x);
    case ER_ACT_TANH: return vm_tanh(x);
    default: return x;
  }
}

/* One tile: C[0..mr)[0..nr) (= or +=) A[0..mr)[0..kc) * Bpanel[0..kc)[0..16).
 * mr and wide (nr > 8) are compile-time constants after inlining. */
static inline __attribute__((always_inline)) void tile(const int mr, const int wide, int64_t kc,
                                                       const float *a, int64_t lda,
                                                       const float *b, float *c, int64_t ldc,
                                                       int nr, int init, const float *bias,
                                                       const er_act *act) {
  __m256 acc0[MR], acc1[MR];
  const int full = nr == NR;
  const __m256i m0 = lane_mask(nr < 8 ? nr : 8), m1 = lane_mask(nr > 8 ? nr - 8 : 0);
  if (init == INIT_ZERO) {
#pragma GCC unroll 6
    for (int r = 0; r < mr; r++) acc0[r] = acc1[r] = _mm256_setzero_ps();
  } else if (init == INIT_BIAS) {
    __m256 v0 = full ? _mm256_loadu_ps(bias) : _mm256_maskload_ps(bias, m0);
    __m256 v1 = full ? _mm256_loadu_ps(bias + 8)
                     : (wide ? _mm256_maskload_ps(bias + 8, m1) : _mm256_setzero_ps());
#pragma GCC unroll 6
    for (int r = 0; r < mr; r++) acc0[r] = v0, acc1[r] = v1;
  } else {
#pragma GCC unroll 6
    for (int r = 0; r < mr; r++) {
      const float *cr = c + r * ldc;
      acc0[r] = full ? _mm256_loadu_ps(cr) : _mm256_maskload_ps(cr, m0);
      acc1[r] = full ? _mm256_loadu_ps(cr + 8)
                     : (wide ? _mm256_maskload_ps(cr + 8, m1) : _mm256_setzero_ps());
    }
  }
  const float *ap[MR];
#pragma GCC unroll 6
  for (int r = 0; r < mr; r++) ap[r] = a + r * lda;
  for (int64_t k = 0; k < kc; k++) {
    const __m256 b0 = _mm256_loadu_ps(b);
    if (wide) {
      const __m256 b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
      for (int r = 0; r < mr; r++) {
        const __m256 va = _mm256_broadcast_ss(ap[r] + k);
        acc0[r] = _mm256_fmadd_ps(va, b0, acc0[r]);
        acc1[r] = _mm256_fmadd_ps(va, b1, acc1[r]);
      }
    } else {
#pragma GCC unroll 6
      for (int r = 0; r < mr; r++)
        acc0[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(ap[r] + k), b0, acc0[r]);
    }
    b += NR;
  }
  int scalar_act = 0;
  if (act) {
    if (act_vectorized(act->kind)) {
      const __m256 pa = _mm256_set1_ps(act->a), pb = _mm256_set1_ps(act->b);
      const int kind = act->kind;
#pragma GCC unroll 6
      for (int r = 0; r < mr; r++) {
        acc0[r] = act_apply(acc0[r], kind, pa, pb);
        if (wide) acc1[r] = act_apply(acc1[r], kind, pa, pb);
      }
    } else {
      scalar_act = 1;
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < mr; r++) {
    float *cr = c + r * ldc;
    if (full) {
      _mm256_storeu_ps(cr, acc0[r]);
      _mm256_storeu_ps(cr + 8, acc1[r]);
    } else {
      _mm256_maskstore_ps(cr, m0, acc0[r]);
      if (wide) _mm256_maskstore_ps(cr + 8, m1, acc1[r]);
    }
  }
  if (scalar_act)
    for (int r = 0; r < mr; r++) er_f32_apply_act(c + r * ldc, nr, *act);
}

typedef void (*tile_fn)(int64_t kc, const float *a, int64_t lda, const float *b, float *c,
                        int64_t ldc, int nr, int init, const float *bias, const er_act *act);
#define TILE_FN(mr, wide)                                                                    \
  static void tile_##mr##_##wide(int64_t kc, const float *a, int64_t lda, const float *b,    \
                                 float *c, int64_t ldc, int nr, int init, const float *bias, \
                                 const er_act *act) {                                        \
    tile(mr, wide, kc, a, lda, b, c, ldc, nr, init, bias, act);                              \
  }
TILE_FN(1, 0) TILE_FN(2, 0) TILE_FN(3, 0) TILE_FN(4, 0) TILE_FN(5, 0) TILE_FN(6, 0)
TILE_FN(1, 1) TILE_FN(2, 1) TILE_FN(3, 1) TILE_FN(4, 1) TILE_FN(5, 1) TILE_FN(6, 1)
static const tile_fn k_tiles[2][MR + 1] = {
    {0, tile_1_0, tile_2_0, tile_3_0, tile_4_0, tile_5_0, tile_6_0},
    {0, tile_1_1, tile_2_1, tile_3_1, tile_4_1, tile_5_1, tile_6_1},
};
static inline void run_tile(int64_t mr, int64_t kc, const float *a, int64_t lda, const float *b,
                            float *c, int64_t ldc, int64_t nr, int init, const float *bias,
                            const er_act *act) {
  k_tiles[nr > 8][mr](kc, a, lda, b, c, ldc, (int)nr, init, bias, act);
}

/* K blocks: ceil(K / KC) blocks of equal size (the last may be shorter); depends on K only. */
static inline int64_t k_block(int64_t K) {
  if (K <= 0) return 0;
  int64_t nb = (K + KC - 1) / KC;
  return (K + nb - 1) / nb;
}

/* Pack op(B)[k0 .. k0+kc)[j0 .. j0+nc) * alpha into 16-column panels (zero-padded), panel p
 * at dst + p * panel_stride, row k at + k * 16. */
static void pack_panels(int transB, const float *B, int64_t ldb, int64_t k0, int64_t kc,
                        int64_t j0, int64_t nc, float alpha, float *dst, int64_t panel_stride) {
  const __m256 va = _mm256_set1_ps(alpha);
  for (int64_t p = 0; p * NR < nc; p++) {
    float *d = dst + p * panel_stride;
    int64_t jj = j0 + p * NR, nr = nc - p * NR < NR ? nc - p * NR : NR;
    if (!transB) {
      for (int64_t k = 0; k < kc; k++) {
        const float *s = B + (k0 + k) * ldb + jj;
        float *dk = d + k * NR;
        if (nr == NR) {
          _mm256_storeu_ps(dk, _mm256_mul_ps(va, _mm256_loadu_ps(s)));
          _mm256_storeu_ps(dk + 8, _mm256_mul_ps(va, _mm256_loadu_ps(s + 8)));
        } else {
          int64_t c = 0;
          for (; c < nr; c++) dk[c] = alpha * s[c];
          for (; c < NR; c++) dk[c] = 0.0f;
        }
      }
    } else if (alpha == 1.0f) { /* rows of B become panel columns: 8x8 register transposes */
      er_x32_transpose_8x8__avx2(B + jj * ldb + k0, ldb, d, NR, nr, kc);
      if (nr < NR)
        for (int64_t k = 0; k < kc; k++) memset(d + k * NR + nr, 0, sizeof(float) * (size_t)(NR - nr));
    } else {
      for (int64_t c = 0; c < NR; c++) {
        if (c < nr) {
          const float *s = B + (jj + c) * ldb + k0;
          for (int64_t k = 0; k < kc; k++) d[k * NR + c] = alpha * s[k];
        } else {
          for (int64_t k = 0; k < kc; k++) d[k * NR + c] = 0.0f;
        }
      }
    }
  }
}

/* Rows of A far apart (a large lda, worst at multiples of 4 KB) compete for the same L1
 * sets; a contiguous copy of the tile's rows (kc floats each) avoids that. */
static inline void copy_rows(const float *a, int64_t lda, int64_t mr, int64_t kc, float *dst) {
  for (int64_t r = 0; r < mr; r++) memcpy(dst + r * kc, a + r * lda, sizeof(float) * (size_t)kc);
}

/* Prefetch part `part` of `parts` of the cache lines of rows [0, rows) x [0, kc) of a (the
 * next row tile, fetched piecewise while the current one sweeps its panels). */
static inline void prefetch_rows(const float *a, int64_t lda, int64_t rows, int64_t kc,
                                 int64_t part, int64_t parts) {
  const int64_t lpr = (kc + 15) / 16, total = rows * lpr;
  for (int64_t l = part * total / parts, e = (part + 1) * total / parts; l < e; l++)
    _mm_prefetch((const char *)(a + (l / lpr) * lda + (l % lpr) * 16), _MM_HINT_T0);
}

size_t er_f32_gemm_packed_size_16__avx2(int64_t K, int64_t N) {
  if (K <= 0 || N <= 0) return 0;
  return (size_t)((N + NR - 1) / NR) * NR * (size_t)K * sizeof(float);
}

void er_f32_gemm_pack_b_16__avx2(int transB, int64_t K, int64_t N, const float *B, int64_t ldb,
                                 void *packed) {
  if (K <= 0 || N <= 0) return;
  pack_panels(transB, B, ldb, 0, K, 0, N, 1.0f, (float *)packed, K * NR);
}

void er_f32_gemm_packed_cols_6x16__avx2(int64_t M, int64_t N, int64_t K, const float *A,
                                        int64_t lda, const void *packed, const float *bias,
                                        er_act act, float *C, int64_t ldc, int64_t n0, int64_t n1) {
  if (n1 > N) n1 = N;
  if (M <= 0 || n0 >= n1) return;
  const float *P = (const float *)packed;
  const int64_t kcb = k_block(K);
  const er_act *ea = act.kind != ER_ACT_NONE ? &act : NULL;
  if (M <= MR) {
    /* one row tile: stream each B panel whole (all K blocks in a row; same operations in the
     * same order as below, so the same bits) */
    for (int64_t j = n0; j < n1; j += NR) {
      const int64_t nr = n1 - j < NR ? n1 - j : NR;
      const float *bp = P ? P + (j / NR) * K * NR : NULL;
      int64_t k0 = 0;
      do {
        const int64_t kc = K - k0 < kcb ? K - k0 : kcb;
        const int init = k0 > 0 ? INIT_C : bias ? INIT_BIAS : INIT_ZERO;
        run_tile(M, kc, A + k0, lda, bp ? bp + k0 * NR : NULL, C + j, ldc, nr, init,
                 bias ? bias + j : NULL, k0 + kc >= K ? ea : NULL);
        k0 += kc;
      } while (k0 < K);
    }
    return;
  }
  /* K blocks > chunks of MC rows (their A slice stays in L2) > 16-column panels (read once
   * per chunk, sequentially, the panel used next prefetched a slice per row tile: weights
   * usually come from L3 or memory) > row tiles. */
  int64_t k0 = 0;
  do { /* at least one pass: K == 0 gives act(bias) */
    const int64_t kc = K - k0 < kcb ? K - k0 : kcb;
    const int init = k0 > 0 ? INIT_C : bias ? INIT_BIAS : INIT_ZERO;
    const er_act *a_last = k0 + kc >= K ? ea : NULL;
    for (int64_t ic = 0; ic < M; ic += MC) {
      const int64_t mc = M - ic < MC ? M - ic : MC, tiles = (mc + MR - 1) / MR;
      for (int64_t j = n0; j < n1; j += NR) {
        const int64_t nr = n1 - j < NR ? n1 - j : NR;
        const float *bp = P + (j / NR) * K * NR + k0 * NR;
        /* the panel used next (here, in the next chunk, or in the next K block) */
        int64_t jn = j + NR, kn = k0, kcn = kc;
        if (jn >= n1) {
          jn = n0;
          if (ic + MC >= M) kn = k0 + kc, kcn = K - kn < kcb ? K - kn : kcb;
        }
        const float *np = kcn > 0 ? P + (jn / NR) * K * NR + kn * NR : NULL;
        for (int64_t i0 = ic, t = 0; i0 < ic + mc; i0 += MR, t++) {
          const int64_t mr = ic + mc - i0 < MR ? ic + mc - i0 : MR;
          if (np) /* its rows [kn, kn + kcn), one line per row */
            for (int64_t l = t * kcn / tiles, le = (t + 1) * kcn / tiles; l < le; l++)
              _mm_prefetch((const char *)(np + l * NR), _MM_HINT_T0);
          run_tile(mr, kc, A + i0 * lda + k0, lda, bp, C + i0 * ldc + j, ldc, nr, init,
                   bias ? bias + j : NULL, a_last);
        }
      }
    }
    k0 += kc;
  } while (k0 < K);
}

void er_f32_gemm_packed_6x16__avx2(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                                   const void *packed, const float *bias, er_act act, float *C,
                                   int64_t ldc) {
  er_f32_gemm_packed_cols_6x16__avx2(M, N, K, A, lda, packed, bias, act, C, ldc, 0, N);
}

void er_f32_gemm_6x16__avx2(int transA, int transB, int64_t M, int64_t N, int64_t K, float alpha,
                            const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                            float *C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  const int degenerate = K <= 0 || alpha == 0.0f;
  if (degenerate || (beta != 0.0f && beta != 1.0f)) { /* C = beta * C first */
    for (int64_t i = 0; i < M; i++) {
      float *cr = C + i * ldc;
      if (beta == 0.0f) memset(cr, 0, sizeof(float) * (size_t)N);
      else if (beta != 1.0f) for (int64_t j = 0; j < N; j++) cr[j] *= beta;
    }
    if (degenerate) return;
  }
  /* from here C holds beta * C_in (or zeros when beta == 0): accumulate into it, except
   * that beta == 0 starts the first K block from zero without reading C */
  float bbuf[KC * NC_UNPACKED] __attribute__((aligned(64)));
  float abuf[MR * KC] __attribute__((aligned(64)));
  const int64_t kcb = k_block(K);
  for (int64_t k0 = 0; k0 < K; k0 += kcb) {
    const int64_t kc = K - k0 < kcb ? K - k0 : kcb;
    const int init = k0 > 0 || beta != 0.0f ? INIT_C : INIT_ZERO;
    for (int64_t jc = 0; jc < N; jc += NC_UNPACKED) {
      const int64_t nc = N - jc < NC_UNPACKED ? N - jc : NC_UNPACKED;
      pack_panels(transB, B, ldb, k0, kc, jc, nc, alpha, bbuf, kc * NR);
      for (int64_t i0 = 0; i0 < M; i0 += MR) {
        const int64_t mr = M - i0 < MR ? M - i0 : MR;
        const float *ai;
        int64_t as;
        if (!transA) {
          ai = A + i0 * lda + k0, as = lda;
          if (nc > NR) {
            copy_rows(ai, lda, mr, kc, abuf);
            ai = abuf, as = kc;
          }
        } else {
          for (int64_t k = 0; k < kc; k++) {
            const float *s = A + (k0 + k) * lda + i0;
            for (int64_t r = 0; r < mr; r++) abuf[r * kc + k] = s[r];
          }
          ai = abuf, as = kc;
        }
        float *ci = C + i0 * ldc + jc;
        const int64_t next_rows = M - i0 - MR < MR ? M - i0 - MR : MR;
        const int64_t parts = (nc + NR - 1) / NR;
        for (int64_t j = 0; j < nc; j += NR) {
          const int64_t nr = nc - j < NR ? nc - j : NR;
          if (!transA && next_rows > 0 && parts > 1)
            prefetch_rows(A + (i0 + MR) * lda + k0, lda, next_rows, kc, j / NR, parts);
          run_tile(mr, kc, ai, as, bbuf + (j / NR) * kc * NR, ci + j, ldc, nr, init, NULL, NULL);
        }
      }
    }
  }
}
