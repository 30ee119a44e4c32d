/* float32 GEMM for AVX-512F: 8x48 register tile (24 zmm accumulators) over the same
 * packed-B format as the AVX2 kernels (16-column panels, see f32-gemm.h): a tile reads three
 * neighbouring panels, so weights packed by the table's f32_gemm_pack_b (shared with AVX2)
 * serve both. Micro-kernel: per k, three B vectors and eight A broadcasts into 24 FMAs (11
 * loads per 24 FMAs; the former 12x32 tile needed 14 and measured ~10% slower in L1 on
 * Sapphire Rapids: 170-180 vs 185-195 GFLOP/s at kc = 156);
 * edges through lane masks; the fused activation (all kinds vectorized with the
 * approximations of kernels/vmath.h) applied before the store. The loop nests are
 * f32-gemm-driver.h's; K blocks of <= 192 measured best for tinybert's shapes with weights
 * streamed from memory. */
#include <immintrin.h>
#include <string.h>

#include "kernels/x86/f32-gemm.h"
#include "kernels/x86/x32-transpose.h"
#define ER_VW 16
#include "kernels/x86/vmath-simd.h"

#define MR 8
#define NR 48 /* tile width: three panels */
#define NP (NR / PW)
#define PW 16 /* panel width of the packed format */
#define KC 192 /* measured best of 96..512 (tinybert shapes, weights from memory) */
#define MC 144 /* rows per L2 chunk of A when B is pre-packed (18 row tiles) */
#define NC_UNPACKED 96 /* columns packed at once by the on-the-fly path (stack buffer) */

enum { INIT_ZERO, INIT_BIAS, INIT_C };

static inline __mmask16 mask_n(int64_t n) { /* lanes [0, n) for n in [0, 16] */
  return (__mmask16)(n >= 16 ? 0xffff : ((1u << n) - 1u));
}


/* One tile: C[0..mr)[0..nr) (= or +=) A[0..mr)[0..kc) * Bpanels[0..kc)[0..16 np).
 * mr and np (panels used, ceil(nr / 16)) are compile-time constants after inlining. */
static inline __attribute__((always_inline)) void tile(const int mr, const int np, int64_t kc,
                                                       const float *a, int64_t lda,
                                                       const float *b, int64_t ps, float *c,
                                                       int64_t ldc, int nr, int init,
                                                       const float *bias, const er_act *act) {
  __m512 acc[MR][NP];
  __mmask16 m[NP];
#pragma GCC unroll 3
  for (int v = 0; v < np; v++) m[v] = mask_n(nr - 16 * v < 0 ? 0 : nr - 16 * v);
  if (init == INIT_ZERO) {
#pragma GCC unroll 8
    for (int r = 0; r < mr; r++)
#pragma GCC unroll 3
      for (int v = 0; v < np; v++) acc[r][v] = _mm512_setzero_ps();
  } else if (init == INIT_BIAS) {
#pragma GCC unroll 3
    for (int v = 0; v < np; v++) {
      const __m512 bv = _mm512_maskz_loadu_ps(m[v], bias + 16 * v);
#pragma GCC unroll 8
      for (int r = 0; r < mr; r++) acc[r][v] = bv;
    }
  } else {
#pragma GCC unroll 8
    for (int r = 0; r < mr; r++)
#pragma GCC unroll 3
      for (int v = 0; v < np; v++) acc[r][v] = _mm512_maskz_loadu_ps(m[v], c + r * ldc + 16 * v);
  }
  const float *ap[MR];
#pragma GCC unroll 8
  for (int r = 0; r < mr; r++) ap[r] = a + r * lda;
  for (int64_t k = 0; k < kc; k++) {
    __m512 bv[NP];
#pragma GCC unroll 3
    for (int v = 0; v < np; v++) bv[v] = _mm512_loadu_ps(b + v * ps + k * PW);
#pragma GCC unroll 8
    for (int r = 0; r < mr; r++) {
      const __m512 va = _mm512_set1_ps(ap[r][k]);
#pragma GCC unroll 3
      for (int v = 0; v < np; v++) acc[r][v] = _mm512_fmadd_ps(va, bv[v], acc[r][v]);
    }
  }
  if (act && act->kind != ER_ACT_NONE) {
    const __m512 pa = _mm512_set1_ps(act->a), pb = _mm512_set1_ps(act->b);
    const int kind = act->kind;
#pragma GCC unroll 8
    for (int r = 0; r < mr; r++)
#pragma GCC unroll 3
      for (int v = 0; v < np; v++) acc[r][v] = vm_act(acc[r][v], kind, pa, pb);
  }
#pragma GCC unroll 8
  for (int r = 0; r < mr; r++)
#pragma GCC unroll 3
    for (int v = 0; v < np; v++) _mm512_mask_storeu_ps(c + r * ldc + 16 * v, m[v], acc[r][v]);
}

typedef void (*tile_fn)(int64_t kc, const float *a, int64_t lda, const float *b, int64_t ps,
                        float *c, int64_t ldc, int nr, int init, const float *bias,
                        const er_act *act);
#define TILE_FN(mr, np)                                                                       \
  static void tile_##mr##_##np(int64_t kc, const float *a, int64_t lda, const float *b,       \
                               int64_t ps, float *c, int64_t ldc, int nr, int init,           \
                               const float *bias, const er_act *act) {                        \
    tile(mr, np, kc, a, lda, b, ps, c, ldc, nr, init, bias, act);                             \
  }
/* tile heights 1-4, 6 and 8; other row counts take the tallest that fits, then the rest
 * (each element is computed the same way whatever tile computes it) */
#define TILE_ROWS(X) X(1) X(2) X(3) X(4) X(6) X(8)
#define TILE_WIDTHS(mr) TILE_FN(mr, 1) TILE_FN(mr, 2) TILE_FN(mr, 3)
TILE_ROWS(TILE_WIDTHS)
#define TILE_REF(mr) [mr] = {0, tile_##mr##_1, tile_##mr##_2, tile_##mr##_3},
static const tile_fn k_tiles[MR + 1][NP + 1] = {TILE_ROWS(TILE_REF)};
static const int k_height[MR + 1] = {0, 1, 2, 3, 4, 4, 6, 6, 8};

/* b: the first panel's rows [k0, k0 + kc); the next panels start panel_stride apart */
static inline void run_tile(int64_t mr, int64_t kc, const float *a, int64_t lda, const float *b,
                            int64_t panel_stride, float *c, int64_t ldc, int64_t nr, int init,
                            const float *bias, const er_act *act) {
  const int np = (int)((nr + PW - 1) / PW);
  for (int64_t r = 0; r < mr;) {
    const int h = k_height[mr - r];
    k_tiles[h][np](kc, a + r * lda, lda, b, panel_stride, c + r * ldc, ldc, (int)nr, init, bias, act);
    r += h;
  }
}

/* Pack op(B)[k0 .. k0+kc)[j0 .. j0+nc) * alpha into 16-column panels (zero-padded, a
 * multiple of NP of them), panel p at dst + p * panel_stride, row k at + k * 16. */
static void pack_panels(int transB, const float *B, int64_t ldb, int64_t k0, int64_t kc,
                        int64_t j0, int64_t nc, float alpha, float *dst, int64_t panel_stride) {
  const __m512 va = _mm512_set1_ps(alpha);
  const int64_t np = (nc + NR - 1) / NR * NP;
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

#define GEMM_PACKED_COLS er_f32_gemm_packed_cols_8x48__avx512
#define GEMM_PACKED er_f32_gemm_packed_8x48__avx512
#define GEMM er_f32_gemm_8x48__avx512
#include "kernels/x86/f32-gemm-driver.h"
