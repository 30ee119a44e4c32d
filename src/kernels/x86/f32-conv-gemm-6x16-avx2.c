/*
 * Conv GEMM with pre-packed weights (A), AVX2/FMA, 6x16 register tile.
 * B loads are never masked: a partial last panel (N % 16) is read in place when the
 * caller says B rows are padded (b_padded), else from a zero-padded copy.
 *
 * Packed A: panels of 6 rows (the last one zero-padded); panel p holds, for k = 0..K-1,
 * the 6 values A[6p + r][k] contiguously: packed[(p*K + k)*6 + r].
 *
 * C[i][n] = act(base + sum_{k<kc} A[m0+i][k0+k] * B[k*ldb + n]) for i < M, n < N, where
 * base = accumulate ? C[i][n] : (bias ? bias[i] : 0). B is read in place (row-major,
 * typically an im2col tile or an NCHW input plane). Depth is blocked by GEMM_KC so the
 * 16-column B panel stays in L1; the blocking depends only on kc, so results do not depend
 * on how callers split M or N.
 */
#include <immintrin.h>
#include <string.h>

#include "kernels/x86/f32-conv.h"

enum { MR = 6, NR = 16, GEMM_KC = 256 };

size_t er_f32_gemm_pack_a_size_6x16__avx2(int64_t M, int64_t K) {
  return (size_t)((M + MR - 1) / MR) * MR * (size_t)K * sizeof(float);
}

void er_f32_gemm_pack_a_6x16__avx2(int64_t M, int64_t K, const float *A, int64_t lda, void *packed) {
  float *p = (float *)packed;
  for (int64_t m0 = 0; m0 < M; m0 += MR)
    for (int64_t k = 0; k < K; k++)
      for (int r = 0; r < MR; r++) *p++ = m0 + r < M ? A[(m0 + r) * lda + k] : 0.0f;
}

static const int32_t mask_src[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

/* One mr x nr block (mr <= 6 and `full` are compile-time constants after inlining).
 * a: packed panel at (row offset, k), advancing MR per k. mode: 0 = zero, 1 = bias, 2 = C. */
static inline __attribute__((always_inline)) void ukernel(const int mr, const int full, const int two, int64_t nr,
                                                          int64_t kc, const float *a, const float *b,
                                                          int64_t ldb, float *c, int64_t ldc,
                                                          const float *bias, int mode, int act_on,
                                                          er_act act) {
  __m256i m0 = _mm256_setzero_si256(), m1 = m0;
  if (!full) {
    int64_t n0 = nr < 8 ? nr : 8, n1 = nr - n0;
    m0 = _mm256_loadu_si256((const __m256i *)(mask_src + 8 - n0));
    m1 = _mm256_loadu_si256((const __m256i *)(mask_src + 8 - n1));
  }
#define ER_LD(p) (full ? _mm256_loadu_ps(p) : _mm256_maskload_ps((p), m0))
#define ER_LD1(p) (!two ? _mm256_setzero_ps() : full ? _mm256_loadu_ps(p) : _mm256_maskload_ps((p), m1))
  __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
  c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = _mm256_setzero_ps();
#define ER_INIT(i)                                                                    \
  if (mr > i) {                                                                       \
    if (mode == 1) {                                                                  \
      c##i##0 = c##i##1 = _mm256_broadcast_ss(bias + i);                              \
    } else if (mode == 2) {                                                           \
      c##i##0 = ER_LD(c + i * ldc);                                                   \
      c##i##1 = ER_LD1(c + i * ldc + 8);                                              \
    }                                                                                 \
  }
  ER_INIT(0) ER_INIT(1) ER_INIT(2) ER_INIT(3) ER_INIT(4) ER_INIT(5)
#undef ER_INIT
  for (int64_t k = 0; k < kc; k++) {
    /* B is always readable for 8 (or 16) columns: partial panels come from a padded copy */
    const __m256 b0 = _mm256_loadu_ps(b), b1 = two ? _mm256_loadu_ps(b + 8) : _mm256_setzero_ps();
    b += ldb;
    __m256 av;
#define ER_FMA(i)                                   \
  if (mr > i) {                                     \
    av = _mm256_broadcast_ss(a + i);                \
    c##i##0 = _mm256_fmadd_ps(av, b0, c##i##0);     \
    if (two) c##i##1 = _mm256_fmadd_ps(av, b1, c##i##1); \
  }
    ER_FMA(0) ER_FMA(1) ER_FMA(2) ER_FMA(3) ER_FMA(4) ER_FMA(5)
#undef ER_FMA
    a += MR;
  }
  const int vec_act = act_on && er_act_is_vector(act.kind);
#define ER_ST(i)                                                      \
  if (mr > i) {                                                       \
    if (vec_act) {                                                    \
      c##i##0 = er_act_avx2(c##i##0, act);                            \
      c##i##1 = er_act_avx2(c##i##1, act);                            \
    }                                                                 \
    if (full) {                                                       \
      _mm256_storeu_ps(c + i * ldc, c##i##0);                         \
      _mm256_storeu_ps(c + i * ldc + 8, c##i##1);                     \
    } else {                                                          \
      _mm256_maskstore_ps(c + i * ldc, m0, c##i##0);                  \
      if (two) _mm256_maskstore_ps(c + i * ldc + 8, m1, c##i##1);     \
    }                                                                 \
    if (act_on && !vec_act) er_f32_apply_act(c + i * ldc, nr, act);   \
  }
  ER_ST(0) ER_ST(1) ER_ST(2) ER_ST(3) ER_ST(4) ER_ST(5)
#undef ER_ST
#undef ER_LD
#undef ER_LD1
}

#define ER_UK_CASES(full, two)                                                              \
  switch (mr) {                                                                             \
    case 6: ukernel(6, full, two, nr, kc, a, b, ldb, c, ldc, bias, mode, act_on, act); break;    \
    case 5: ukernel(5, full, two, nr, kc, a, b, ldb, c, ldc, bias, mode, act_on, act); break;    \
    case 4: ukernel(4, full, two, nr, kc, a, b, ldb, c, ldc, bias, mode, act_on, act); break;    \
    case 3: ukernel(3, full, two, nr, kc, a, b, ldb, c, ldc, bias, mode, act_on, act); break;    \
    case 2: ukernel(2, full, two, nr, kc, a, b, ldb, c, ldc, bias, mode, act_on, act); break;    \
    default: ukernel(1, full, two, nr, kc, a, b, ldb, c, ldc, bias, mode, act_on, act); break;   \
  }

static void ukernel_any(int mr, int64_t nr, int64_t kc, const float *a, const float *b, int64_t ldb,
                        float *c, int64_t ldc, const float *bias, int mode, int act_on, er_act act) {
  if (nr == NR) {
    ER_UK_CASES(1, 1)
  } else if (nr > 8) {
    ER_UK_CASES(0, 1)
  } else { /* one vector of columns: half the work */
    ER_UK_CASES(0, 0)
  }
}

void er_f32_gemm_packed_a_6x16__avx2(int64_t M, int64_t N, int64_t kc, const void *packed, int64_t K,
                                     int64_t m0, int64_t k0, const float *B, int64_t ldb,
                                     int b_padded, const float *bias, int accumulate, er_act act,
                                     float *C, int64_t ldc) {
  const float *pa = (const float *)packed;
  if (M <= 0 || N <= 0) return;
  if (kc <= 0) { /* no depth: C = act(base) */
    for (int64_t i = 0; i < M; i++) {
      float *c = C + i * ldc;
      if (!accumulate)
        for (int64_t n = 0; n < N; n++) c[n] = bias ? bias[i] : 0.0f;
      if (act.kind != ER_ACT_NONE) er_f32_apply_act(c, N, act);
    }
    return;
  }
  /* full panels: rows outer, then depth blocks, then 16-column panels: each 6-row A panel
   * is read sequentially once, its C block stays in L1 across depth blocks, B streams from L2 */
  /* with padded B rows the partial panel joins the main loop (only its C access is masked) */
  const int64_t Nf = b_padded ? N : N / NR * NR;
  if (Nf > 0)
    for (int64_t i = 0; i < M;) {
      const int64_t m = m0 + i, r = m % MR;
      int64_t mr = MR - r;
      if (mr > M - i) mr = M - i;
      const float *ap = pa + ((m / MR) * K + k0) * MR + r;
      for (int64_t kb = 0; kb < kc; kb += GEMM_KC) {
        const int64_t kl = kc - kb < GEMM_KC ? kc - kb : GEMM_KC;
        const int mode = kb > 0 || accumulate ? 2 : bias ? 1 : 0;
        const int act_on = kb + kl == kc && act.kind != ER_ACT_NONE;
        for (int64_t n = 0; n < Nf; n += NR)
          ukernel_any((int)mr, Nf - n < NR ? Nf - n : NR, kl, ap + kb * MR, B + kb * ldb + n, ldb, C + i * ldc + n,
                      ldc, bias ? bias + i : 0, mode, act_on, act);
      }
      i += mr;
    }
  if (Nf == N) return;
  /* last partial panel: copy it zero-padded per depth block (unmasked loads in the loop) */
  const int64_t nr = N - Nf, width = nr > 8 ? 16 : 8;
  float bt[GEMM_KC * 16] __attribute__((aligned(32)));
  for (int64_t kb = 0; kb < kc; kb += GEMM_KC) {
    const int64_t kl = kc - kb < GEMM_KC ? kc - kb : GEMM_KC;
    const int mode = kb > 0 || accumulate ? 2 : bias ? 1 : 0;
    const int act_on = kb + kl == kc && act.kind != ER_ACT_NONE;
    for (int64_t k = 0; k < kl; k++) {
      const float *src = B + (kb + k) * ldb + Nf;
      float *dst = bt + k * width;
      int64_t j = 0;
      for (; j < nr; j++) dst[j] = src[j];
      for (; j < width; j++) dst[j] = 0.0f;
    }
    for (int64_t i = 0; i < M;) {
      const int64_t m = m0 + i, r = m % MR;
      int64_t mr = MR - r;
      if (mr > M - i) mr = M - i;
      const float *ap = pa + ((m / MR) * K + k0 + kb) * MR + r;
      ukernel_any((int)mr, nr, kl, ap, bt, width, C + i * ldc + Nf, ldc, bias ? bias + i : 0, mode, act_on, act);
      i += mr;
    }
  }
}
