/* float32 GEMM for AVX2/FMA: 6x16 register tile, B in 16-column panels (see f32-gemm.h).
 * Micro-kernel: per k, two B vectors, six A broadcasts, twelve FMAs; edges through lane
 * masks; the fused activation applied before the store. The loop nests (pre-packed and
 * on-the-fly B) are f32-gemm-driver.h's. */
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
        acc0[r] = vm_act(acc0[r], kind, pa, pb);
        if (wide) acc1[r] = vm_act(acc1[r], kind, pa, pb);
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
/* The tile is one panel wide (panel_stride unused). */
static inline void run_tile(int64_t mr, int64_t kc, const float *a, int64_t lda, const float *b,
                            int64_t panel_stride, float *c, int64_t ldc, int64_t nr, int init,
                            const float *bias, const er_act *act) {
  (void)panel_stride;
  k_tiles[nr > 8][mr](kc, a, lda, b, c, ldc, (int)nr, init, bias, act);
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

size_t er_f32_gemm_packed_size_16__avx2(int64_t K, int64_t N) {
  if (K <= 0 || N <= 0) return 0;
  return (size_t)((N + NR - 1) / NR) * NR * (size_t)K * sizeof(float);
}

void er_f32_gemm_pack_b_16__avx2(int transB, int64_t K, int64_t N, const float *B, int64_t ldb,
                                 void *packed) {
  if (K <= 0 || N <= 0) return;
  pack_panels(transB, B, ldb, 0, K, 0, N, 1.0f, (float *)packed, K * NR);
}

#define PW NR
#define GEMM_PACKED_COLS er_f32_gemm_packed_cols_6x16__avx2
#define GEMM_PACKED er_f32_gemm_packed_6x16__avx2
#define GEMM er_f32_gemm_6x16__avx2
#include "kernels/x86/f32-gemm-driver.h"
