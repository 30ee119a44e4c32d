/*
 * Residual epilogue of the channels-last conv, AVX2 (semantics in kernels/dispatch.h:
 * f32_nhwc_add_act): y = act(y + z) over rows still in cache after the conv stored them.
 * RELU / CLIP in registers (the conv kernels' er_nhwc_act_min_avx2), the other activations
 * over the summed row (er_nhwc_act_block_avx2); a masked tail, so every element takes the
 * vector code wherever a row starts. Contiguous rows (ldy = ldz = n) go as one run.
 */
#include "kernels/x86/f32-nhwc.h"

void er_f32_nhwc_add_act__avx2(int64_t rows, int64_t n, const float *z, int64_t ldz, er_act act, float *y,
                               int64_t ldy) {
  if (ldy == n && ldz == n) n *= rows, rows = 1; /* contiguous rows: one run */
  const int regs = er_nhwc_act_regs_avx2(act.kind), stored = !regs && act.kind != ER_ACT_NONE;
  const __m256i tail = er_nhwc_mask(n % 8);
  for (int64_t r = 0; r < rows; r++) {
    float *yr = y + r * ldy;
    const float *zr = z + r * ldz;
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
      __m256 a = _mm256_add_ps(_mm256_loadu_ps(yr + j), _mm256_loadu_ps(zr + j));
      __m256 b = _mm256_add_ps(_mm256_loadu_ps(yr + j + 8), _mm256_loadu_ps(zr + j + 8));
      if (regs) a = er_nhwc_act_min_avx2(a, act), b = er_nhwc_act_min_avx2(b, act);
      _mm256_storeu_ps(yr + j, a);
      _mm256_storeu_ps(yr + j + 8, b);
    }
    for (; j + 8 <= n; j += 8) {
      __m256 a = _mm256_add_ps(_mm256_loadu_ps(yr + j), _mm256_loadu_ps(zr + j));
      if (regs) a = er_nhwc_act_min_avx2(a, act);
      _mm256_storeu_ps(yr + j, a);
    }
    if (j < n) {
      __m256 a = _mm256_add_ps(_mm256_maskload_ps(yr + j, tail), _mm256_maskload_ps(zr + j, tail));
      if (regs) a = er_nhwc_act_min_avx2(a, act);
      _mm256_maskstore_ps(yr + j, tail, a);
    }
    if (stored) er_nhwc_act_block_avx2(yr, 0, 1, n, act);
  }
}
