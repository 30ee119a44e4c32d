/* float32 GEMM for AVX-512F: 12x32 register tile (24 zmm accumulators) over the same
 * packed-B format as the AVX2 kernels (16-column panels, see f32-gemm.h): a tile reads two
 * neighbouring panels, so weights packed by the table's f32_gemm_pack_b (shared with AVX2)
 * serve both.
 *
 * Pre-packed B (weights): per K block of <= 192 (equal blocks, a function of K only):
 * chunks of 144 rows of A (12 row tiles, their slice stays in L2) > panel pairs (32
 * columns, read sequentially once per chunk while the next pair is prefetched a slice per
 * row tile: weights usually come from L3 or memory, and this hides most of their latency)
 * > row tiles. The micro-kernel loads two B vectors per k and broadcasts twelve A values
 * into 24 FMAs; A is read in place. The on-the-fly path (f32_gemm) packs 64 columns of
 * op(B) at a time into a stack buffer. Edges use lane masks. The first K block starts from
 * zero, the bias or C, later ones continue from C, the last one applies the fused
 * activation (all kinds vectorized with the approximations of kernels/vmath.h) before the
 * store. Every element of C sees the same operations for any split of M or of N at
 * multiples of 32, so threads give identical bits. */
#include <immintrin.h>
#include <string.h>

#include "kernels/x86/f32-gemm.h"
#include "kernels/x86/x32-transpose.h"
#define ER_VW 16
#include "kernels/x86/vmath-simd.h"

#define MR 12
#define NR 32 /* tile width: two panels */
#define PW 16 /* panel width of the packed format */
#define KC 192 /* measured best of 96..512 for tinybert shapes with cold weights */
#define MC 144 /* rows per L2 chunk of A when B is pre-packed (12 row tiles) */
#define NC_UNPACKED 64 /* columns packed at once by the on-the-fly path (stack buffer) */

enum { INIT_ZERO, INIT_BIAS, INIT_C };

static inline __mmask16 mask_n(int64_t n) { /* lanes [0, n) for n in [0, 16] */
  return (__mmask16)(n >= 16 ? 0xffff : ((1u << n) - 1u));
}

/* NaN handling as in the AVX2 kernel (max/min return the second operand on NaN). */
static inline __m512 act_apply(__m512 x, int kind, __m512 pa, __m512 pb) {
  const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
  switch (kind) {
    case ER_ACT_RELU: return _mm512_max_ps(x, zero);
    case ER_ACT_CLIP: return _mm512_min_ps(pb, _mm512_max_ps(pa, x));
    case ER_ACT_LEAKYRELU:
      return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, zero, _CMP_GE_OQ), _mm512_mul_ps(pa, x), x);
    case ER_ACT_HARDSIGMOID:
      return _mm512_min_ps(one, _mm512_max_ps(zero, _mm512_fmadd_ps(pa, x, pb)));
    case ER_ACT_HARDSWISH: {
      __m512 t = _mm512_fmadd_ps(x, _mm512_set1_ps(1.0f / 6.0f), _mm512_set1_ps(0.5f));
      return _mm512_mul_ps(x, _mm512_min_ps(one, _mm512_max_ps(zero, t)));
    }
    case ER_ACT_SILU: return vm_silu(x);
    case ER_ACT_GELU: return vm_gelu(x);
    case ER_ACT_SIGMOID: return vm_sigmoid(x);
    case ER_ACT_TANH: return vm_tanh(x);
    default: return x;
  }
}

/* One tile: C[0..mr)[0..nr) (= or +=) A[0..mr)[0..kc) * Bpanel[0..kc)[0..32).
 * mr and wide (nr > 16) are compile-time constants after inlining. */
static inline __attribute__((always_inline)) void tile(const int mr, const int wide, int64_t kc,
                                                       const float *a, int64_t lda,
                                                       const float *b, const float *b2, float *c,
                                                       int64_t ldc, int nr, int init,
                                                       const float *bias, const er_act *act) {
  __m512 acc0[MR], acc1[MR];
  const __mmask16 m0 = mask_n(nr < 16 ? nr : 16), m1 = mask_n(nr > 16 ? nr - 16 : 0);
  if (init == INIT_ZERO) {
#pragma GCC unroll 12
    for (int r = 0; r < mr; r++) acc0[r] = acc1[r] = _mm512_setzero_ps();
  } else if (init == INIT_BIAS) {
    const __m512 v0 = _mm512_maskz_loadu_ps(m0, bias);
    const __m512 v1 = wide ? _mm512_maskz_loadu_ps(m1, bias + 16) : _mm512_setzero_ps();
#pragma GCC unroll 12
    for (int r = 0; r < mr; r++) acc0[r] = v0, acc1[r] = v1;
  } else {
#pragma GCC unroll 12
    for (int r = 0; r < mr; r++) {
      acc0[r] = _mm512_maskz_loadu_ps(m0, c + r * ldc);
      acc1[r] = wide ? _mm512_maskz_loadu_ps(m1, c + r * ldc + 16) : _mm512_setzero_ps();
    }
  }
  const float *ap[MR];
#pragma GCC unroll 12
  for (int r = 0; r < mr; r++) ap[r] = a + r * lda;
  for (int64_t k = 0; k < kc; k++) {
    const __m512 b0 = _mm512_loadu_ps(b + k * PW);
    if (wide) {
      const __m512 b1 = _mm512_loadu_ps(b2 + k * PW);
#pragma GCC unroll 12
      for (int r = 0; r < mr; r++) {
        const __m512 va = _mm512_set1_ps(ap[r][k]);
        acc0[r] = _mm512_fmadd_ps(va, b0, acc0[r]);
        acc1[r] = _mm512_fmadd_ps(va, b1, acc1[r]);
      }
    } else {
#pragma GCC unroll 12
      for (int r = 0; r < mr; r++) acc0[r] = _mm512_fmadd_ps(_mm512_set1_ps(ap[r][k]), b0, acc0[r]);
    }
  }
  if (act && act->kind != ER_ACT_NONE) {
    const __m512 pa = _mm512_set1_ps(act->a), pb = _mm512_set1_ps(act->b);
    const int kind = act->kind;
#pragma GCC unroll 12
    for (int r = 0; r < mr; r++) {
      acc0[r] = act_apply(acc0[r], kind, pa, pb);
      if (wide) acc1[r] = act_apply(acc1[r], kind, pa, pb);
    }
  }
#pragma GCC unroll 12
  for (int r = 0; r < mr; r++) {
    _mm512_mask_storeu_ps(c + r * ldc, m0, acc0[r]);
    if (wide) _mm512_mask_storeu_ps(c + r * ldc + 16, m1, acc1[r]);
  }
}

typedef void (*tile_fn)(int64_t kc, const float *a, int64_t lda, const float *b,
                        const float *b2, float *c, int64_t ldc, int nr, int init,
                        const float *bias, const er_act *act);
#define TILE_FN(mr, wide)                                                                     \
  static void tile_##mr##_##wide(int64_t kc, const float *a, int64_t lda, const float *b,     \
                                 const float *b2, float *c, int64_t ldc, int nr, int init,    \
                                 const float *bias, const er_act *act) {                      \
    tile(mr, wide, kc, a, lda, b, b2, c, ldc, nr, init, bias, act);                           \
  }
#define TILE_ROWS(X) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12)
#define TILE_NARROW(mr) TILE_FN(mr, 0)
#define TILE_WIDE(mr) TILE_FN(mr, 1)
TILE_ROWS(TILE_NARROW)
TILE_ROWS(TILE_WIDE)
#define TILE_REF0(mr) tile_##mr##_0,
#define TILE_REF1(mr) tile_##mr##_1,
static const tile_fn k_tiles[2][MR + 1] = {{0, TILE_ROWS(TILE_REF0)}, {0, TILE_ROWS(TILE_REF1)}};

/* b: the first panel's rows [k0, k0 + kc); the second panel starts panel_stride later */
static inline void run_tile(int64_t mr, int64_t kc, const float *a, int64_t lda, const float *b,
                            int64_t panel_stride, float *c, int64_t ldc, int64_t nr, int init,
                            const float *bias, const er_act *act) {
  k_tiles[nr > 16][mr](kc, a, lda, b, nr > 16 ? b + panel_stride : NULL, c, ldc, (int)nr, init, bias,
                       act);
}

/* K blocks: ceil(K / KC) blocks of equal size (the last may be shorter); depends on K only. */
static inline int64_t k_block(int64_t K) {
  if (K <= 0) return 0;
  int64_t nb = (K + KC - 1) / KC;
  return (K + nb - 1) / nb;
}

/* Pack op(B)[k0 .. k0+kc)[j0 .. j0+nc) * alpha into 16-column panels (zero-padded, an even
 * number of them), panel p at dst + p * panel_stride, row k at + k * 16. */
static void pack_panels(int transB, const float *B, int64_t ldb, int64_t k0, int64_t kc,
                        int64_t j0, int64_t nc, float alpha, float *dst, int64_t panel_stride) {
  const __m512 va = _mm512_set1_ps(alpha);
  const int64_t np = (nc + NR - 1) / NR * 2;
  for (int64_t p = 0; p < np; p++) {
    float *d = dst + p * panel_stride;
    const int64_t jj = j0 + p * PW, nr = nc - p * PW < 0 ? 0 : nc - p * PW < PW ? nc - p * PW : PW;
    if (!transB) {
      const __mmask16 m = mask_n(nr);
      for (int64_t k = 0; k < kc; k++)
        _mm512_storeu_ps(d + k * PW, _mm512_mul_ps(va, _mm512_maskz_loadu_ps(m, B + (k0 + k) * ldb + jj)));
    } else if (alpha == 1.0f) { /* rows of B become panel columns: 8x8 register transposes */
      if (nr > 0) er_x32_transpose_8x8__avx2(B + jj * ldb + k0, ldb, d, PW, nr, kc);
      if (nr < PW)
        for (int64_t k = 0; k < kc; k++) memset(d + k * PW + nr, 0, sizeof(float) * (size_t)(PW - nr));
    } else {
      for (int64_t c = 0; c < PW; c++) {
        if (c < nr) {
          const float *s = B + (jj + c) * ldb + k0;
          for (int64_t k = 0; k < kc; k++) d[k * PW + c] = alpha * s[k];
        } else {
          for (int64_t k = 0; k < kc; k++) d[k * PW + c] = 0.0f;
        }
      }
    }
  }
}

static inline void copy_rows(const float *a, int64_t lda, int64_t mr, int64_t kc, float *dst) {
  for (int64_t r = 0; r < mr; r++) memcpy(dst + r * kc, a + r * lda, sizeof(float) * (size_t)kc);
}

void er_f32_gemm_packed_cols_12x32__avx512(int64_t M, int64_t N, int64_t K, const float *A,
                                           int64_t lda, const void *packed, const float *bias,
                                           er_act act, float *C, int64_t ldc, int64_t n0,
                                           int64_t n1) {
  if (n1 > N) n1 = N;
  if (M <= 0 || n0 >= n1) return;
  const float *P = (const float *)packed;
  const int64_t kcb = k_block(K);
  const er_act *ea = act.kind != ER_ACT_NONE ? &act : NULL;
  if (M <= MR) {
    /* one row tile: stream each B panel whole (same operations as below: same bits) */
    for (int64_t j = n0; j < n1; j += NR) {
      const int64_t nr = n1 - j < NR ? n1 - j : NR;
      const float *bp = P + (j / PW) * K * PW;
      int64_t k0 = 0;
      do {
        const int64_t kc = K - k0 < kcb ? K - k0 : kcb;
        const int init = k0 > 0 ? INIT_C : bias ? INIT_BIAS : INIT_ZERO;
        run_tile(M, kc, A + k0, lda, bp + k0 * PW, K * PW, C + j, ldc, nr, init,
                 bias ? bias + j : NULL, k0 + kc >= K ? ea : NULL);
        k0 += kc;
      } while (k0 < K);
    }
    return;
  }
  /* K blocks > chunks of MC rows (their A slice stays in L2) > panel pairs (read once per
   * chunk, sequentially, the next pair prefetched a slice per row tile) > row tiles */
  int64_t k0 = 0;
  do { /* at least one pass: K == 0 gives act(bias) */
    const int64_t kc = K - k0 < kcb ? K - k0 : kcb;
    const int init = k0 > 0 ? INIT_C : bias ? INIT_BIAS : INIT_ZERO;
    const er_act *a_last = k0 + kc >= K ? ea : NULL;
    for (int64_t ic = 0; ic < M; ic += MC) {
      const int64_t mc = M - ic < MC ? M - ic : MC, tiles = (mc + MR - 1) / MR;
      for (int64_t j = n0; j < n1; j += NR) {
        const int64_t nr = n1 - j < NR ? n1 - j : NR;
        const float *bp = P + (j / PW) * K * PW + k0 * PW;
        /* the pair used next (here, in the next chunk, or in the next K block) */
        int64_t jn = j + NR, kn = k0, kcn = kc;
        if (jn >= n1) {
          jn = n0;
          if (ic + MC >= M) kn = k0 + kc, kcn = K - kn < kcb ? K - kn : kcb;
        }
        const float *np0 = kcn > 0 ? P + (jn / PW) * K * PW + kn * PW : NULL;
        const float *np1 = np0 && n1 - jn > PW ? np0 + K * PW : NULL;
        for (int64_t i0 = ic, t = 0; i0 < ic + mc; i0 += MR, t++) {
          const int64_t mr = ic + mc - i0 < MR ? ic + mc - i0 : MR;
          if (np0) /* its rows [kn, kn + kcn), one line per row and panel */
            for (int64_t l = t * kcn / tiles, le = (t + 1) * kcn / tiles; l < le; l++) {
              _mm_prefetch((const char *)(np0 + l * PW), _MM_HINT_T0);
              if (np1) _mm_prefetch((const char *)(np1 + l * PW), _MM_HINT_T0);
            }
          run_tile(mr, kc, A + i0 * lda + k0, lda, bp, K * PW, C + i0 * ldc + j, ldc, nr, init,
                   bias ? bias + j : NULL, a_last);
        }
      }
    }
    k0 += kc;
  } while (k0 < K);
}

void er_f32_gemm_packed_12x32__avx512(int64_t M, int64_t N, int64_t K, const float *A,
                                      int64_t lda, const void *packed, const float *bias,
                                      er_act act, float *C, int64_t ldc) {
  er_f32_gemm_packed_cols_12x32__avx512(M, N, K, A, lda, packed, bias, act, C, ldc, 0, N);
}

void er_f32_gemm_12x32__avx512(int transA, int transB, int64_t M, int64_t N, int64_t K,
                               float alpha, const float *A, int64_t lda, const float *B,
                               int64_t ldb, float beta, float *C, int64_t ldc) {
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
  float bbuf[KC * NC_UNPACKED] __attribute__((aligned(64)));
  float abuf[MR * KC] __attribute__((aligned(64)));
  const int64_t kcb = k_block(K);
  for (int64_t k0 = 0; k0 < K; k0 += kcb) {
    const int64_t kc = K - k0 < kcb ? K - k0 : kcb;
    const int init = k0 > 0 || beta != 0.0f ? INIT_C : INIT_ZERO;
    for (int64_t jc = 0; jc < N; jc += NC_UNPACKED) {
      const int64_t nc = N - jc < NC_UNPACKED ? N - jc : NC_UNPACKED;
      pack_panels(transB, B, ldb, k0, kc, jc, nc, alpha, bbuf, kc * PW);
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
        for (int64_t j = 0; j < nc; j += NR) {
          const int64_t nr = nc - j < NR ? nc - j : NR;
          run_tile(mr, kc, ai, as, bbuf + (j / PW) * kc * PW, kc * PW, ci + j, ldc, nr, init,
                   NULL, NULL);
        }
      }
    }
  }
}
