/*
 * Winograd F(4x4, 3x3) transforms across channels, AVX-512F: the AVX2 kernels
 * (f32-nhwc-winograd-avx2.c; semantics in kernels/dispatch.h: f32_nhwc_wino_in,
 * f32_nhwc_wino_out) on 16-channel vectors, the last block masked by a mask register. The
 * output adds the bias and applies the activation per vector (SILU, SIGMOID, GELU, TANH: over
 * the stored pixel afterwards).
 */
#include <immintrin.h>

#include "kernels/x86/f32-conv.h"
#include "kernels/x86/f32-nhwc.h"

/* B^T: 6 vectors -> 6 */
static inline __attribute__((always_inline)) void bt(const __m512 d[6], __m512 o[6]) {
  const __m512 c2 = _mm512_set1_ps(2.0f), c4 = _mm512_set1_ps(4.0f), c5 = _mm512_set1_ps(5.0f);
  o[0] = _mm512_fmadd_ps(c4, d[0], _mm512_fnmadd_ps(c5, d[2], d[4]));
  o[1] = _mm512_fnmadd_ps(c4, _mm512_add_ps(d[1], d[2]), _mm512_add_ps(d[3], d[4]));
  o[2] = _mm512_fmadd_ps(c4, _mm512_sub_ps(d[1], d[2]), _mm512_sub_ps(d[4], d[3]));
  const __m512 a = _mm512_sub_ps(d[4], d[2]), b = _mm512_sub_ps(d[3], d[1]);
  o[3] = _mm512_fmadd_ps(c2, b, a);
  o[4] = _mm512_fnmadd_ps(c2, b, a);
  o[5] = _mm512_fmadd_ps(c4, d[1], _mm512_fnmadd_ps(c5, d[3], d[5]));
}

/* A^T: 6 vectors -> 4 */
static inline __attribute__((always_inline)) void at(const __m512 m[6], __m512 o[4]) {
  const __m512 p12 = _mm512_add_ps(m[1], m[2]), n12 = _mm512_sub_ps(m[1], m[2]);
  const __m512 p34 = _mm512_add_ps(m[3], m[4]), n34 = _mm512_sub_ps(m[3], m[4]);
  o[0] = _mm512_add_ps(_mm512_add_ps(m[0], p12), p34);
  o[1] = _mm512_fmadd_ps(_mm512_set1_ps(2.0f), n34, n12);
  o[2] = _mm512_fmadd_ps(_mm512_set1_ps(4.0f), p34, p12);
  o[3] = _mm512_add_ps(_mm512_fmadd_ps(_mm512_set1_ps(8.0f), n34, n12), m[5]);
}

static inline __attribute__((always_inline)) void wino_in_block(const float *const *in, int64_t c0,
                                                                __mmask16 tail, float *V, int64_t xs) {
  __m512 u[36];
  for (int j = 0; j < 6; j++) { /* columns: u[6i + j] = (B^T d)[i][j] */
    __m512 d[6], o[6];
#pragma GCC unroll 6
    for (int i = 0; i < 6; i++)
      d[i] = _mm512_maskz_loadu_ps(tail, in[6 * i + j] + c0);
    bt(d, o);
#pragma GCC unroll 6
    for (int i = 0; i < 6; i++) u[6 * i + j] = o[i];
  }
  for (int i = 0; i < 6; i++) { /* rows */
    __m512 o[6];
    bt(u + 6 * i, o);
#pragma GCC unroll 6
    for (int j = 0; j < 6; j++) {
      float *v = V + (6 * i + j) * xs + c0;
      _mm512_mask_storeu_ps(v, tail, o[j]);
    }
  }
}

static inline __mmask16 lanes(int64_t n) { return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1); }

void er_f32_nhwc_wino_in__avx512(int64_t C, const float *const *in, float *V, int64_t xs) {
  for (int64_t c0 = 0; c0 < C; c0 += 16) wino_in_block(in, c0, lanes(C - c0), V, xs);
}

static inline __attribute__((always_inline)) void wino_out_block(const float *O, int64_t xs,
                                                                 int64_t m0, __mmask16 tail, const float *bias,
                                                                 int vact, er_act act, float *const *out) {
  __m512 r[24];
  for (int j = 0; j < 6; j++) { /* columns: r[6i + j] = (A^T O)[i][j], i < 4 */
    __m512 m[6], o[4];
#pragma GCC unroll 6
    for (int i = 0; i < 6; i++) {
      const float *p = O + (6 * i + j) * xs + m0;
      m[i] = _mm512_maskz_loadu_ps(tail, p);
    }
    at(m, o);
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) r[6 * i + j] = o[i];
  }
  const __m512 b = !bias ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(tail, bias + m0);
  for (int i = 0; i < 4; i++) { /* rows */
    __m512 o[4];
    at(r + 6 * i, o);
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
      float *y = out[4 * i + j];
      if (!y) continue;
      __m512 v = _mm512_add_ps(o[j], b);
      if (vact) v = er_nhwc_act_avx512(v, act);
      _mm512_mask_storeu_ps(y + m0, tail, v);
    }
  }
}

void er_f32_nhwc_wino_out__avx512(int64_t M, const float *O, int64_t xs, const float *bias, er_act act,
                                  float *const *out) {
  const int vact = er_nhwc_act_in_regs(act.kind);
  for (int64_t m0 = 0; m0 < M; m0 += 16) wino_out_block(O, xs, m0, lanes(M - m0), bias, vact, act, out);
  if (act.kind != ER_ACT_NONE && !vact)
    for (int e = 0; e < 16; e++)
      if (out[e]) er_nhwc_act_stored_avx512(out[e], M, act);
}
