/*
 * Vectorized activations for the AVX2/FMA epilogues (only visible to AVX2-compiled files).
 */
#ifndef ER_KERNELS_X86_F32_CONV_H
#define ER_KERNELS_X86_F32_CONV_H
#include "kernels/dispatch.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

/* exp(x) for 8 floats (Cephes-style polynomial, ~2 ulp; inputs clamped to +-88.37). */
static inline __m256 er_exp_avx2(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-88.3762626647949f)), _mm256_set1_ps(88.3762626647949f));
  __m256 fx = _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f));
  fx = _mm256_floor_ps(fx);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
  __m256 y = _mm256_set1_ps(1.9875691500E-4f);
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507E-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073E-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894E-2f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459E-1f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201E-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
  __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(fx), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

/* 1 if er_act_avx2 computes this activation in registers; other kinds (GELU, TANH) are
 * applied afterwards with the reference er_f32_apply_act. */
static inline int er_act_is_vector(int kind) { return kind != ER_ACT_GELU && kind != ER_ACT_TANH; }

/* exp-based activations: kept out of line so the cheap ones below inline everywhere */
static __attribute__((noinline, unused)) __m256 er_act_exp_avx2(__m256 x, er_act a) {
  __m256 d = _mm256_add_ps(_mm256_set1_ps(1.0f), er_exp_avx2(_mm256_sub_ps(_mm256_setzero_ps(), x)));
  return _mm256_div_ps(a.kind == ER_ACT_SILU ? x : _mm256_set1_ps(1.0f), d);
}

static inline __attribute__((always_inline)) __m256 er_act_avx2(__m256 x, er_act a) {
  switch (a.kind) {
    case ER_ACT_RELU: return _mm256_max_ps(x, _mm256_setzero_ps());
    case ER_ACT_CLIP: return _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(a.a)), _mm256_set1_ps(a.b));
    case ER_ACT_HARDSWISH: {
      __m256 t = _mm256_add_ps(_mm256_div_ps(x, _mm256_set1_ps(6.0f)), _mm256_set1_ps(0.5f));
      t = _mm256_min_ps(_mm256_max_ps(t, _mm256_setzero_ps()), _mm256_set1_ps(1.0f));
      return _mm256_mul_ps(x, t);
    }
    case ER_ACT_HARDSIGMOID: {
      __m256 t = _mm256_add_ps(_mm256_mul_ps(x, _mm256_set1_ps(a.a)), _mm256_set1_ps(a.b));
      return _mm256_min_ps(_mm256_max_ps(t, _mm256_setzero_ps()), _mm256_set1_ps(1.0f));
    }
    case ER_ACT_SILU:
    case ER_ACT_SIGMOID: return er_act_exp_avx2(x, a);
    case ER_ACT_LEAKYRELU: {
      __m256 neg = _mm256_mul_ps(x, _mm256_set1_ps(a.a));
      return _mm256_blendv_ps(neg, x, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ));
    }
    default: return x;
  }
}

/* Activation over n contiguous floats in place. */
static inline void er_act_row_avx2(float *x, int64_t n, er_act a) {
  if (a.kind == ER_ACT_NONE) return;
  if (!er_act_is_vector(a.kind)) {
    er_f32_apply_act(x, n, a);
    return;
  }
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, er_act_avx2(_mm256_loadu_ps(x + i), a));
  if (i < n) er_f32_apply_act(x + i, n - i, a);
}
#endif
#endif
