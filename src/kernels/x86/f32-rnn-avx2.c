/* Sigmoid, tanh and the fused LSTM step in 8 lanes (method: kernels/ref/rnn_cell.h). */
#include <immintrin.h>
#include <string.h>

#include "kernels/ref/rnn_cell.h"
#include "kernels/x86/f32-conv.h" /* er_exp_avx2 */
#include "kernels/x86/f32-rnn.h"

/* er_exp_avx2 clamps its input, which turns NaN into a number: put NaN back. */
static inline __m256 keep_nan(__m256 r, __m256 x) {
  return _mm256_blendv_ps(r, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

/* 1 / d for d >= 1: the approximate reciprocal and one Newton step (~2 ulp). */
static inline __m256 recip(__m256 d) {
  __m256 r = _mm256_rcp_ps(d);
  return _mm256_mul_ps(r, _mm256_fnmadd_ps(d, r, _mm256_set1_ps(2.0f)));
}

static inline __m256 sigmoid8(__m256 x) {
  __m256 e = er_exp_avx2(_mm256_sub_ps(_mm256_setzero_ps(), x));
  return keep_nan(recip(_mm256_add_ps(_mm256_set1_ps(1.0f), e)), x);
}

static inline __m256 tanh8(__m256 x) {
  const __m256 sign = _mm256_set1_ps(-0.0f), one = _mm256_set1_ps(1.0f);
  __m256 ax = _mm256_andnot_ps(sign, x);
  /* small: x * p(x^2) */
  __m256 u = _mm256_mul_ps(x, x);
  __m256 p = _mm256_set1_ps(ER_TANH_P5);
  p = _mm256_fmadd_ps(p, u, _mm256_set1_ps(ER_TANH_P4));
  p = _mm256_fmadd_ps(p, u, _mm256_set1_ps(ER_TANH_P3));
  p = _mm256_fmadd_ps(p, u, _mm256_set1_ps(ER_TANH_P2));
  p = _mm256_fmadd_ps(p, u, _mm256_set1_ps(ER_TANH_P1));
  p = _mm256_fmadd_ps(p, u, _mm256_set1_ps(ER_TANH_P0));
  __m256 small = _mm256_mul_ps(x, p);
  /* large: 1 - 2 / (exp(2|x|) + 1), with x's sign */
  __m256 a = _mm256_min_ps(ax, _mm256_set1_ps(ER_TANH_SAT));
  __m256 e = er_exp_avx2(_mm256_add_ps(a, a));
  __m256 t = _mm256_fnmadd_ps(_mm256_set1_ps(2.0f), recip(_mm256_add_ps(e, one)), one);
  __m256 large = _mm256_or_ps(t, _mm256_and_ps(sign, x));
  __m256 r = _mm256_blendv_ps(large, small, _mm256_cmp_ps(ax, _mm256_set1_ps(ER_TANH_POLY_MAX), _CMP_LT_OQ));
  return keep_nan(r, x);
}

/* y = f(x) over n floats, the tail through masked loads/stores (f is inlined). */
static inline __attribute__((always_inline)) void map8(int64_t n, const float *x, float *y,
                                                       __m256 (*f)(__m256)) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, f(_mm256_loadu_ps(x + i)));
  if (i < n) {
    __m256i m = er_lanes_below_avx2(n - i);
    _mm256_maskstore_ps(y + i, m, f(_mm256_maskload_ps(x + i, m)));
  }
}

void er_f32_sigmoid__avx2(int64_t n, const float *x, float *y) { map8(n, x, y, sigmoid8); }
void er_f32_tanh__avx2(int64_t n, const float *x, float *y) { map8(n, x, y, tanh8); }

/* ---- LSTM step: groups of 16 hidden units, 4 gates x 2 vectors each ---- */

#define UNITS 16

size_t er_f32_lstm_packed_size_16__avx2(int64_t H) {
  return (size_t)(((H + UNITS - 1) / UNITS) * 4 * UNITS * H) * sizeof(float);
}

void er_f32_lstm_pack_16__avx2(int64_t H, const float *R, void *packed) {
  float *p = (float *)packed;
  for (int64_t j0 = 0; j0 < H; j0 += UNITS, p += 4 * UNITS * H)
    for (int64_t k = 0; k < H; k++)
      for (int q = 0; q < 4; q++)
        for (int u = 0; u < UNITS; u++)
          p[k * 4 * UNITS + q * UNITS + u] = j0 + u < H ? R[(q * H + j0 + u) * H + k] : 0.0f;
}

/* In the LSTM cell only absolute accuracy matters (gates and tanh(c) scale bounded values),
 * so it uses tanh(x) = 2 sigmoid(2x) - 1 (absolute error ~2e-7, one exp like sigmoid) and
 * checks for NaN once per 8 units instead of per activation. */
static inline __m256 sigmoid8_raw(__m256 x) {
  return recip(_mm256_add_ps(_mm256_set1_ps(1.0f), er_exp_avx2(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}
static inline __m256 tanh8_abs(__m256 x) {
  __m256 s = sigmoid8_raw(_mm256_add_ps(x, x));
  return _mm256_fmsub_ps(_mm256_set1_ps(2.0f), s, _mm256_set1_ps(1.0f));
}

/* Cell for 8 units at j (gate sums R h in gi..gc; `left` units remain from j). */
static inline __attribute__((always_inline)) void cell8(int64_t H, int64_t left, __m256 gi, __m256 go,
                                                        __m256 gf, __m256 gc, const float *xw,
                                                        float *c, float *h) {
  const int full = left >= 8;
  const __m256i m = er_lanes_below_avx2(full ? 8 : left);
#define LD(p) (full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m))
  gi = _mm256_add_ps(gi, LD(xw));
  go = _mm256_add_ps(go, LD(xw + H));
  gf = _mm256_add_ps(gf, LD(xw + 2 * H));
  gc = _mm256_add_ps(gc, LD(xw + 3 * H));
  __m256 cp = LD(c);
#undef LD
  __m256 cn = _mm256_fmadd_ps(sigmoid8_raw(gf), cp, _mm256_mul_ps(sigmoid8_raw(gi), tanh8_abs(gc)));
  __m256 hn = _mm256_mul_ps(sigmoid8_raw(go), tanh8_abs(cn));
  /* a NaN in any gate or in c makes both NaN (the clamped exp would hide it) */
  __m256 bad = _mm256_or_ps(_mm256_or_ps(_mm256_cmp_ps(gi, go, _CMP_UNORD_Q), _mm256_cmp_ps(gf, gc, _CMP_UNORD_Q)),
                            _mm256_cmp_ps(cp, cp, _CMP_UNORD_Q));
  cn = _mm256_or_ps(cn, bad);
  hn = _mm256_or_ps(hn, bad);
  if (full) {
    _mm256_storeu_ps(c, cn);
    _mm256_storeu_ps(h, hn);
  } else {
    _mm256_maskstore_ps(c, m, cn);
    _mm256_maskstore_ps(h, m, hn);
  }
}

void er_f32_lstm_step_16__avx2(int64_t H, const float *h_prev, const void *packed,
                               const float *xw, float *c, float *h, int parity) {
  const int64_t groups = (H + UNITS - 1) / UNITS;
  for (int64_t gi = 0; gi < groups; gi++) {
    const int64_t j0 = UNITS * (parity & 1 ? groups - 1 - gi : gi);
    const float *p = (const float *)packed + j0 * 4 * H;
    __m256 i0 = _mm256_setzero_ps(), i1 = i0, o0 = i0, o1 = i0, f0 = i0, f1 = i0, c0 = i0, c1 = i0;
    for (int64_t k = 0; k < H; k++) {
      const __m256 xb = _mm256_broadcast_ss(h_prev + k);
      const float *pk = p + k * 4 * UNITS;
      i0 = _mm256_fmadd_ps(_mm256_loadu_ps(pk), xb, i0);
      i1 = _mm256_fmadd_ps(_mm256_loadu_ps(pk + 8), xb, i1);
      o0 = _mm256_fmadd_ps(_mm256_loadu_ps(pk + 16), xb, o0);
      o1 = _mm256_fmadd_ps(_mm256_loadu_ps(pk + 24), xb, o1);
      f0 = _mm256_fmadd_ps(_mm256_loadu_ps(pk + 32), xb, f0);
      f1 = _mm256_fmadd_ps(_mm256_loadu_ps(pk + 40), xb, f1);
      c0 = _mm256_fmadd_ps(_mm256_loadu_ps(pk + 48), xb, c0);
      c1 = _mm256_fmadd_ps(_mm256_loadu_ps(pk + 56), xb, c1);
    }
    cell8(H, H - j0, i0, o0, f0, c0, xw + j0, c + j0, h + j0);
    if (H - j0 > 8) cell8(H, H - j0 - 8, i1, o1, f1, c1, xw + j0 + 8, c + j0 + 8, h + j0 + 8);
  }
}
