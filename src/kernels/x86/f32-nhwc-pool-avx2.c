/*
 * Channels-last pooling, AVX2 (semantics in kernels/dispatch.h: f32_nhwc_pool, f32_nhwc_gpool):
 * max or sum across channel vectors, 32 channels (4 vectors) per step, then 8, then a masked
 * tail. Sums run in tap / pixel order from the first value, like the reference.
 */
#include <immintrin.h>

#include "kernels/x86/f32-nhwc.h"

static inline __attribute__((always_inline)) __m256 ld(const float *p, int masked, __m256i tail) {
  return masked ? _mm256_maskload_ps(p, tail) : _mm256_loadu_ps(p);
}

/* nv vectors at c0 of T inputs (pointer list, or rows ldx apart from x when in is NULL) */
static inline __attribute__((always_inline)) void reduce(const int nv, const int masked, int kind, int64_t T,
                                                         const float *const *in, const float *x, int64_t ldx,
                                                         int64_t c0, __m256i tail, __m256 div, float *out) {
  __m256 acc[4];
#pragma GCC unroll 4
  for (int v = 0; v < nv; v++) acc[v] = _mm256_setzero_ps();
  for (int64_t t = 0; t < T; t++) {
    const float *p = (in ? in[t] : x + t * ldx) + c0;
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) {
      const __m256 xv = ld(p + 8 * v, masked, tail);
      acc[v] = t == 0 ? xv : kind == 0 ? _mm256_max_ps(xv, acc[v]) : _mm256_add_ps(acc[v], xv);
    }
  }
#pragma GCC unroll 4
  for (int v = 0; v < nv; v++) {
    const __m256 y = kind == 0 ? acc[v] : _mm256_div_ps(acc[v], div);
    if (masked)
      _mm256_maskstore_ps(out + c0 + 8 * v, tail, y);
    else
      _mm256_storeu_ps(out + c0 + 8 * v, y);
  }
}

static void pool_any(int kind, int64_t C, int64_t T, const float *const *in, const float *x, int64_t ldx, float div,
                     float *out) {
  const __m256 d = _mm256_set1_ps(div);
  const __m256i none = _mm256_setzero_si256();
  int64_t c0 = 0;
  for (; c0 + 32 <= C; c0 += 32) reduce(4, 0, kind, T, in, x, ldx, c0, none, d, out);
  for (; c0 + 8 <= C; c0 += 8) reduce(1, 0, kind, T, in, x, ldx, c0, none, d, out);
  if (c0 < C) reduce(1, 1, kind, T, in, x, ldx, c0, er_nhwc_mask(C - c0), d, out);
}

/* out may be one of the inputs: each block is read whole before it is written */
void er_f32_nhwc_pool__avx2(int kind, int64_t C, int64_t T, const float *const *in, float div, float *out) {
  pool_any(kind, C, T, in, 0, 0, div, out);
}

void er_f32_nhwc_gpool__avx2(int kind, int64_t n, int64_t C, const float *x, int64_t ldx, float *out) {
  pool_any(kind, C, n, 0, x, ldx, (float)n, out);
}
