/*
 * Winograd F(4x4, 3x3) transforms across channels, AVX2/FMA (semantics in
 * kernels/dispatch.h: f32_nhwc_wino_in, f32_nhwc_wino_out). Per block of 8 channels (the last
 * one masked): the 6 columns of the 6x6 patch go through B^T (or A^T) into a small stack
 * buffer, then its rows. The output adds the bias and applies the activation per vector
 * (SILU, SIGMOID, GELU, TANH: over the stored pixel afterwards).
 */
#include <immintrin.h>

#include "kernels/x86/f32-conv.h"
#include "kernels/x86/f32-nhwc.h"

/* B^T: 6 vectors -> 6 */
static inline __attribute__((always_inline)) void bt(const __m256 d[6], __m256 o[6]) {
  const __m256 c2 = _mm256_set1_ps(2.0f), c4 = _mm256_set1_ps(4.0f), c5 = _mm256_set1_ps(5.0f);
  o[0] = _mm256_fmadd_ps(c4, d[0], _mm256_fnmadd_ps(c5, d[2], d[4]));
  o[1] = _mm256_fnmadd_ps(c4, _mm256_add_ps(d[1], d[2]), _mm256_add_ps(d[3], d[4]));
  o[2] = _mm256_fmadd_ps(c4, _mm256_sub_ps(d[1], d[2]), _mm256_sub_ps(d[4], d[3]));
  const __m256 a = _mm256_sub_ps(d[4], d[2]), b = _mm256_sub_ps(d[3], d[1]);
  o[3] = _mm256_fmadd_ps(c2, b, a);
  o[4] = _mm256_fnmadd_ps(c2, b, a);
  o[5] = _mm256_fmadd_ps(c4, d[1], _mm256_fnmadd_ps(c5, d[3], d[5]));
}

/* A^T: 6 vectors -> 4 */
static inline __attribute__((always_inline)) void at(const __m256 m[6], __m256 o[4]) {
  const __m256 p12 = _mm256_add_ps(m[1], m[2]), n12 = _mm256_sub_ps(m[1], m[2]);
  const __m256 p34 = _mm256_add_ps(m[3], m[4]), n34 = _mm256_sub_ps(m[3], m[4]);
  o[0] = _mm256_add_ps(_mm256_add_ps(m[0], p12), p34);
  o[1] = _mm256_fmadd_ps(_mm256_set1_ps(2.0f), n34, n12);
  o[2] = _mm256_fmadd_ps(_mm256_set1_ps(4.0f), p34, p12);
  o[3] = _mm256_add_ps(_mm256_fmadd_ps(_mm256_set1_ps(8.0f), n34, n12), m[5]);
}

static inline __attribute__((always_inline)) void wino_in_block(const int masked, const float *const *in, int64_t c0,
                                                                __m256i tail, float *V, int64_t xs) {
  __m256 u[36];
  for (int j = 0; j < 6; j++) { /* columns: u[6i + j] = (B^T d)[i][j] */
    __m256 d[6], o[6];
#pragma GCC unroll 6
    for (int i = 0; i < 6; i++)
      d[i] = masked ? _mm256_maskload_ps(in[6 * i + j] + c0, tail) : _mm256_loadu_ps(in[6 * i + j] + c0);
    bt(d, o);
#pragma GCC unroll 6
    for (int i = 0; i < 6; i++) u[6 * i + j] = o[i];
  }
  for (int i = 0; i < 6; i++) { /* rows */
    __m256 o[6];
    bt(u + 6 * i, o);
#pragma GCC unroll 6
    for (int j = 0; j < 6; j++) {
      float *v = V + (6 * i + j) * xs + c0;
      if (masked)
        _mm256_maskstore_ps(v, tail, o[j]);
      else
        _mm256_storeu_ps(v, o[j]);
    }
  }
}

void er_f32_nhwc_wino_in__avx2(int64_t C, const float *const *in, float *V, int64_t xs) {
  int64_t c0 = 0;
  for (; c0 + 8 <= C; c0 += 8) wino_in_block(0, in, c0, _mm256_setzero_si256(), V, xs);
  if (c0 < C) wino_in_block(1, in, c0, er_nhwc_mask(C - c0), V, xs);
}

static inline __attribute__((always_inline)) void wino_out_block(const int masked, const float *O, int64_t xs,
                                                                 int64_t m0, __m256i tail, const float *bias,
                                                                 int vact, er_act act, float *const *out) {
  __m256 r[24];
  for (int j = 0; j < 6; j++) { /* columns: r[6i + j] = (A^T O)[i][j], i < 4 */
    __m256 m[6], o[4];
#pragma GCC unroll 6
    for (int i = 0; i < 6; i++) {
      const float *p = O + (6 * i + j) * xs + m0;
      m[i] = masked ? _mm256_maskload_ps(p, tail) : _mm256_loadu_ps(p);
    }
    at(m, o);
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) r[6 * i + j] = o[i];
  }
  const __m256 b = !bias ? _mm256_setzero_ps() : masked ? _mm256_maskload_ps(bias + m0, tail) : _mm256_loadu_ps(bias + m0);
  for (int i = 0; i < 4; i++) { /* rows */
    __m256 o[4];
    at(r + 6 * i, o);
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
      float *y = out[4 * i + j];
      if (!y) continue;
      __m256 v = _mm256_add_ps(o[j], b);
      if (vact) v = er_act_avx2(v, act);
      if (masked)
        _mm256_maskstore_ps(y + m0, tail, v);
      else
        _mm256_storeu_ps(y + m0, v);
    }
  }
}

void er_f32_nhwc_wino_out__avx2(int64_t M, const float *O, int64_t xs, const float *bias, er_act act,
                                float *const *out) {
  const int vact = er_nhwc_act_in_regs(act.kind);
  int64_t m0 = 0;
  for (; m0 + 8 <= M; m0 += 8) wino_out_block(0, O, xs, m0, _mm256_setzero_si256(), bias, vact, act, out);
  if (m0 < M) wino_out_block(1, O, xs, m0, er_nhwc_mask(M - m0), bias, vact, act, out);
  if (act.kind != ER_ACT_NONE && !vact)
    for (int e = 0; e < 16; e++)
      if (out[e]) er_nhwc_act_stored(out[e], M, act);
}
