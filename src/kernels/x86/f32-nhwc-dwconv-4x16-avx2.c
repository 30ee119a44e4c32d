/*
 * Channels-last depthwise convolution (channel multiplier 1), AVX2/FMA. Semantics in
 * kernels/dispatch.h (f32_nhwc_dwconv): weights [T][C]; each output pixel's taps come from
 * its own T pointers (step 0: borders, padding taps point at a zero vector) or, for a run of
 * interior pixels, from the first pixel's pointers moved by p * step.
 *
 * Blocks of np output pixels x 16 channels (then 8, then a masked tail of < 8): a weight
 * vector load serves np pixels; np = 4 for runs (no pointer per pixel to load), 2 for
 * pointer lists. Each output is bias + its taps in order with FMA whatever block computes
 * it, then the activation per 8-lane vector (GELU / TANH: the scalar reference afterwards),
 * so any split of the pixels gives the same bits.
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
    const __m256 y0 = vact ? er_act_avx2(a0[p], act) : a0[p];
    if (masked)
      _mm256_maskstore_ps(o, tail, y0);
    else
      _mm256_storeu_ps(o, y0);
    if (nv == 2) _mm256_storeu_ps(o + 8, vact ? er_act_avx2(a1[p], act) : a1[p]);
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
    for (int p = 0; p < np; p++) er_f32_apply_act(out + p * ldo, C, act);
}

void er_f32_nhwc_dwconv_4x16__avx2(int64_t n, int64_t C, int64_t T, const float *const *in, int64_t step,
                                   const float *w, const float *bias, er_act act, float *out, int64_t ldo) {
  const int vact = act.kind != ER_ACT_NONE && er_act_is_vector(act.kind);
  int64_t p = 0;
  if (step) {
    for (; p + 4 <= n; p += 4) pixels(4, 1, C, T, in, p * step, step, w, bias, vact, act, out + p * ldo, ldo);
    for (; p < n; p++) pixels(1, 1, C, T, in, p * step, step, w, bias, vact, act, out + p * ldo, ldo);
  } else {
    for (; p + 2 <= n; p += 2) pixels(2, 0, C, T, in + p * T, 0, 0, w, bias, vact, act, out + p * ldo, ldo);
    if (p < n) pixels(1, 0, C, T, in + p * T, 0, 0, w, bias, vact, act, out + p * ldo, ldo);
  }
}
