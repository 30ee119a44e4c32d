/*
 * Channels-last depthwise convolution (channel multiplier 1), AVX-512F: the AVX2 kernel's
 * structure (f32-nhwc-dwconv-4x16-avx2.c; semantics in kernels/dispatch.h, f32_nhwc_dwconv)
 * with 16-lane vectors and mask registers for the channel tail:
 *   - blocks of np output pixels x 32 channels (then one masked vector of <= 16), a weight
 *     vector load serving np = 4 pixels;
 *   - runs of stride-1 3- or 5-wide kernels: np pixels x 16 channels with a kernel row's
 *     weights in registers, each input vector loaded once for the outputs that use it.
 * Each output is bias + its taps in order with FMA whatever block computes it, then the
 * activation (in registers, or SILU / SIGMOID / GELU / TANH over the stored pixel row), so
 * any split of the pixels gives the same bits.
 */
#include <immintrin.h>

#include "kernels/x86/f32-conv.h"
#include "kernels/x86/f32-nhwc.h"

static inline __mmask16 lanes(int64_t n) { return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1); }

/* np pixels x nv vectors (1 or 2) of channels at c0, the last vector masked with m1 (the
 * first with m0). run: tap t of pixel p at in[t] + off + p*step; else at in[p*T + t]. */
static inline __attribute__((always_inline)) void block(const int np, const int nv, const int run, int64_t T,
                                                        const float *const *in, int64_t off, int64_t step,
                                                        const float *w, int64_t C, int64_t c0, const float *bias,
                                                        __mmask16 m0, __mmask16 m1, int vact, er_act act, float *out,
                                                        int64_t ldo) {
  __m512 a0[4], a1[4];
  const __m512 b0 = bias ? _mm512_maskz_loadu_ps(m0, bias + c0) : _mm512_setzero_ps();
  const __m512 b1 = bias && nv == 2 ? _mm512_maskz_loadu_ps(m1, bias + c0 + 16) : _mm512_setzero_ps();
#pragma GCC unroll 4
  for (int p = 0; p < np; p++) a0[p] = b0, a1[p] = b1;
  const float *wt = w + c0;
  for (int64_t t = 0; t < T; t++, wt += C) {
    const __m512 w0 = _mm512_maskz_loadu_ps(m0, wt), w1 = nv == 2 ? _mm512_maskz_loadu_ps(m1, wt + 16) : w0;
    const float *x0 = run ? in[t] + off + c0 : 0;
#pragma GCC unroll 4
    for (int p = 0; p < np; p++) {
      const float *x = run ? x0 + p * step : in[p * T + t] + c0;
      a0[p] = _mm512_fmadd_ps(w0, _mm512_maskz_loadu_ps(m0, x), a0[p]);
      if (nv == 2) a1[p] = _mm512_fmadd_ps(w1, _mm512_maskz_loadu_ps(m1, x + 16), a1[p]);
    }
  }
#pragma GCC unroll 4
  for (int p = 0; p < np; p++) {
    float *o = out + p * ldo + c0;
    _mm512_mask_storeu_ps(o, m0, vact ? er_nhwc_act_min_avx512(a0[p], act) : a0[p]);
    if (nv == 2) _mm512_mask_storeu_ps(o + 16, m1, vact ? er_nhwc_act_min_avx512(a1[p], act) : a1[p]);
  }
}

static inline __attribute__((always_inline)) void pixels(const int np, const int run, int64_t C, int64_t T,
                                                         const float *const *in, int64_t off, int64_t step,
                                                         const float *w, const float *bias, int vact, er_act act,
                                                         float *out, int64_t ldo) {
  int64_t c0 = 0;
  for (; c0 + 32 <= C; c0 += 32) block(np, 2, run, T, in, off, step, w, C, c0, bias, 0xffff, 0xffff, vact, act, out, ldo);
  if (c0 + 16 < C)
    block(np, 2, run, T, in, off, step, w, C, c0, bias, 0xffff, lanes(C - c0 - 16), vact, act, out, ldo);
  else if (c0 < C)
    block(np, 1, run, T, in, off, step, w, C, c0, bias, lanes(C - c0), 0, vact, act, out, ldo);
  if (act.kind != ER_ACT_NONE && !vact)
    er_nhwc_act_block_avx512(out, ldo, np, C, act);
}

/* Runs of stride-1 kernels whose taps come in rows of L consecutive input pixels: np pixels
 * x 16 channels, the L weight vectors of a kernel row in registers, each input vector loaded
 * once for the (up to L) outputs that use it. Same operations per output as block(). */
static inline __attribute__((always_inline)) void rows_block(const int np, const int L, int64_t R,
                                                             const float *const *in, int64_t off, int64_t step,
                                                             const float *w, int64_t C, int64_t c0, const float *bias,
                                                             __mmask16 m, int vact, er_act act, float *out,
                                                             int64_t ldo) {
  __m512 acc[8];
  const __m512 b = bias ? _mm512_maskz_loadu_ps(m, bias + c0) : _mm512_setzero_ps();
#pragma GCC unroll 8
  for (int p = 0; p < np; p++) acc[p] = b;
  for (int64_t r = 0; r < R; r++) {
    const float *x = in[r * L] + off + c0, *wr = w + r * L * C + c0;
    __m512 wv[7];
#pragma GCC unroll 7
    for (int j = 0; j < L; j++) wv[j] = _mm512_maskz_loadu_ps(m, wr + j * C);
#pragma GCC unroll 14
    for (int q = 0; q < L + np - 1; q++) {
      const __m512 xv = _mm512_maskz_loadu_ps(m, x + q * step);
#pragma GCC unroll 8
      for (int p = 0; p < np; p++)
        if (q - p >= 0 && q - p < L) acc[p] = _mm512_fmadd_ps(wv[q - p], xv, acc[p]);
    }
  }
#pragma GCC unroll 8
  for (int p = 0; p < np; p++)
    _mm512_mask_storeu_ps(out + p * ldo + c0, m, vact ? er_nhwc_act_min_avx512(acc[p], act) : acc[p]);
}

static inline __attribute__((always_inline)) void rows_pixels(const int np, const int L, int64_t R, int64_t C,
                                                              const float *const *in, int64_t off, int64_t step,
                                                              const float *w, const float *bias, int vact, er_act act,
                                                              float *out, int64_t ldo) {
  for (int64_t c0 = 0; c0 < C; c0 += 16)
    rows_block(np, L, R, in, off, step, w, C, c0, bias, lanes(C - c0), vact, act, out, ldo);
  if (act.kind != ER_ACT_NONE && !vact)
    er_nhwc_act_block_avx512(out, ldo, np, C, act);
}

#define DW_ACT_REGS er_nhwc_act_regs_avx512
#define DW_NAME er_f32_nhwc_dwconv_4x32__avx512
#include "kernels/x86/f32-nhwc-dwconv-impl.h"
