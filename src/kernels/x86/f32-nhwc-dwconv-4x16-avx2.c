/*
 * Channels-last depthwise convolution (channel multiplier 1), AVX2/FMA. Semantics in
 * kernels/dispatch.h (f32_nhwc_dwconv): weights [T][C]; each output pixel's taps come from
 * its own T pointers (step 0: borders, padding taps point at a zero vector) or, for a run of
 * interior pixels, from the first pixel's pointers moved by p * step.
 *
 * Blocks of np output pixels x 16 channels (then 8, then a masked tail of < 8): a weight
 * vector load serves np = 4 pixels (8 accumulators). Runs of stride-1 3- or 5-wide kernels (taps in rows of consecutive input
 * pixels) keep a kernel row's weights in registers and load each input vector once for the
 * 4 outputs that use it. Each output is bias + its taps in order with FMA whatever block computes
 * it, then RELU / CLIP per 8-lane vector in registers, any other activation over each stored
 * pixel row (er_nhwc_act_stored), so any split of the pixels gives the same bits.
 */
#include <immintrin.h>

#include "kernels/x86/f32-conv.h"
#include "kernels/x86/f32-nhwc.h"

/* np pixels x nv vectors (1 or 2) of channels at c0; masked: one vector of `tail` lanes.
 * run: tap t of pixel p at in[t] + off + p*step; else at in[p*T + t]. */
static inline __attribute__((always_inline)) void block(const int np, const int nv, const int masked, const int run,
                                                        int64_t T, const float *const *in, int64_t off, int64_t step,
                                                        const float *w, int64_t C, int64_t c0, const float *bias,
                                                        __m256i tail, int vact, er_act act, float *out, int64_t ldo) {
#define LD(p) (masked ? _mm256_maskload_ps((p), tail) : _mm256_loadu_ps(p))
  __m256 a0[4], a1[4];
  const __m256 b0 = bias ? LD(bias + c0) : _mm256_setzero_ps();
  const __m256 b1 = bias && nv == 2 ? _mm256_loadu_ps(bias + c0 + 8) : _mm256_setzero_ps();
#pragma GCC unroll 4
  for (int p = 0; p < np; p++) a0[p] = b0, a1[p] = b1;
  const float *wt = w + c0;
  for (int64_t t = 0; t < T; t++, wt += C) {
    const __m256 w0 = LD(wt), w1 = nv == 2 ? _mm256_loadu_ps(wt + 8) : w0;
    const float *x0 = run ? in[t] + off + c0 : 0;
#pragma GCC unroll 4
    for (int p = 0; p < np; p++) {
      const float *x = run ? x0 + p * step : in[p * T + t] + c0;
      a0[p] = _mm256_fmadd_ps(w0, LD(x), a0[p]);
      if (nv == 2) a1[p] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + 8), a1[p]);
    }
  }
#pragma GCC unroll 4
  for (int p = 0; p < np; p++) {
    float *o = out + p * ldo + c0;
    const __m256 y0 = vact ? er_nhwc_act_min_avx2(a0[p], act) : a0[p];
    if (masked)
      _mm256_maskstore_ps(o, tail, y0);
    else
      _mm256_storeu_ps(o, y0);
    if (nv == 2) _mm256_storeu_ps(o + 8, vact ? er_nhwc_act_min_avx2(a1[p], act) : a1[p]);
  }
#undef LD
}

static inline __attribute__((always_inline)) void pixels(const int np, const int run, int64_t C, int64_t T,
                                                         const float *const *in, int64_t off, int64_t step,
                                                         const float *w, const float *bias, int vact, er_act act,
                                                         float *out, int64_t ldo) {
  const __m256i none = _mm256_setzero_si256();
  int64_t c0 = 0;
  for (; c0 + 16 <= C; c0 += 16) block(np, 2, 0, run, T, in, off, step, w, C, c0, bias, none, vact, act, out, ldo);
  if (c0 + 8 <= C) block(np, 1, 0, run, T, in, off, step, w, C, c0, bias, none, vact, act, out, ldo), c0 += 8;
  if (c0 < C) block(np, 1, 1, run, T, in, off, step, w, C, c0, bias, er_nhwc_mask(C - c0), vact, act, out, ldo);
  if (act.kind != ER_ACT_NONE && !vact)
    er_nhwc_act_block_avx2(out, ldo, np, C, act);
}

/* Runs of stride-1 kernels whose taps come in rows of L consecutive input pixels (in[t+j] =
 * in[t] + j*step): np pixels x 8 channels (8 accumulators hide the FMA latency), the L
 * weight vectors of a kernel row in registers, each input vector loaded once for the (up to
 * L) outputs that use it. Same operations per output as block(): bias, then the taps in
 * order. */
static inline __attribute__((always_inline)) void rows_block(const int np, const int L, const int masked, int64_t R,
                                                             const float *const *in, int64_t off, int64_t step,
                                                             const float *w, int64_t C, int64_t c0, const float *bias,
                                                             __m256i tail, int vact, er_act act, float *out,
                                                             int64_t ldo) {
#define LD(p) (masked ? _mm256_maskload_ps((p), tail) : _mm256_loadu_ps(p))
  __m256 acc[8];
  const __m256 b = bias ? LD(bias + c0) : _mm256_setzero_ps();
#pragma GCC unroll 8
  for (int p = 0; p < np; p++) acc[p] = b;
  for (int64_t r = 0; r < R; r++) {
    const float *x = in[r * L] + off + c0, *wr = w + r * L * C + c0;
    __m256 wv[7];
#pragma GCC unroll 7
    for (int j = 0; j < L; j++) wv[j] = LD(wr + j * C);
#pragma GCC unroll 14
    for (int q = 0; q < L + np - 1; q++) {
      const __m256 xv = LD(x + q * step);
#pragma GCC unroll 8
      for (int p = 0; p < np; p++)
        if (q - p >= 0 && q - p < L) acc[p] = _mm256_fmadd_ps(wv[q - p], xv, acc[p]);
    }
  }
#pragma GCC unroll 8
  for (int p = 0; p < np; p++) {
    const __m256 y = vact ? er_nhwc_act_min_avx2(acc[p], act) : acc[p];
    if (masked)
      _mm256_maskstore_ps(out + p * ldo + c0, tail, y);
    else
      _mm256_storeu_ps(out + p * ldo + c0, y);
  }
#undef LD
}

static inline __attribute__((always_inline)) void rows_pixels(const int np, const int L, int64_t R, int64_t C,
                                                              const float *const *in, int64_t off, int64_t step,
                                                              const float *w, const float *bias, int vact, er_act act,
                                                              float *out, int64_t ldo) {
  int64_t c0 = 0;
  for (; c0 + 8 <= C; c0 += 8)
    rows_block(np, L, 0, R, in, off, step, w, C, c0, bias, _mm256_setzero_si256(), vact, act, out, ldo);
  if (c0 < C) rows_block(np, L, 1, R, in, off, step, w, C, c0, bias, er_nhwc_mask(C - c0), vact, act, out, ldo);
  if (act.kind != ER_ACT_NONE && !vact)
    er_nhwc_act_block_avx2(out, ldo, np, C, act);
}

#define DW_ACT_REGS er_nhwc_act_regs_avx2
#define DW_NAME er_f32_nhwc_dwconv_4x16__avx2
#include "kernels/x86/f32-nhwc-dwconv-impl.h"
