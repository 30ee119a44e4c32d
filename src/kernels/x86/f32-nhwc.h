/*
 * AVX2/FMA micro-kernels of the channels-last ops (kernels/nhwc.h); semantics of each in
 * kernels/dispatch.h ("channels-last" section). The packed weight format is the reference
 * one (16-column panels, kernels/ref/nhwc_mk.h), so the AVX2 table packs with the
 * reference packer.
 *
 *   er_f32_nhwc_gemm_6x16__avx2    pixels x packed weights, 6x16 register tiles (fewer rows:
 *                                  wider tiles up to 1x64), bias + activation epilogue
 *   er_f32_nhwc_dwconv_4x16__avx2  depthwise, up to 4 output pixels x 16 channels per step
 *   er_f32_nhwc_pool__avx2, er_f32_nhwc_gpool__avx2   max / average across channel vectors
 *   er_f32_nhwc_wino_in__avx2, er_f32_nhwc_wino_out__avx2   Winograd F(4x4,3x3) transforms
 */
#ifndef ER_KERNELS_X86_F32_NHWC_H
#define ER_KERNELS_X86_F32_NHWC_H
#include "kernels/dispatch.h"

void er_f32_nhwc_gemm_6x16__avx2(int64_t M, int64_t N, int64_t kc, const float *A, int64_t lda, const void *packed,
                                 int64_t K, int64_t k0, int64_t n0, const float *bias, int accumulate, er_act act,
                                 float *C, int64_t ldc);
/* AVX-512F (f32-nhwc-gemm-12x32-avx512.c): the same contract and packed format, 12x32 tiles */
void er_f32_nhwc_gemm_12x32__avx512(int64_t M, int64_t N, int64_t kc, const float *A, int64_t lda,
                                    const void *packed, int64_t K, int64_t k0, int64_t n0, const float *bias,
                                    int accumulate, er_act act, float *C, int64_t ldc);
void er_f32_nhwc_dwconv_4x32__avx512(int64_t n, int64_t C, int64_t T, const float *const *in, int64_t step,
                                     const float *w, const float *bias, er_act act, float *out, int64_t ldo);
void er_f32_nhwc_wino_in__avx512(int64_t C, const float *const *in, float *V, int64_t xs);
void er_f32_nhwc_wino_out__avx512(int64_t M, const float *O, int64_t xs, const float *bias, er_act act,
                                  float *const *out);
void er_f32_nhwc_pack__avx2(int64_t K, int64_t N, const float *src, int64_t sn, int64_t kin, int64_t sc,
                            int64_t st, void *packed);
void er_f32_nhwc_dwconv_4x16__avx2(int64_t n, int64_t C, int64_t T, const float *const *in, int64_t step,
                                   const float *w, const float *bias, er_act act, float *out, int64_t ldo);
void er_f32_nhwc_pool__avx2(int kind, int64_t C, int64_t T, const float *const *in, float div, float *out);
void er_f32_nhwc_gpool__avx2(int kind, int64_t n, int64_t C, const float *x, int64_t ldx, float *out);
void er_f32_nhwc_wino_in__avx2(int64_t C, const float *const *in, float *V, int64_t xs);
void er_f32_nhwc_wino_out__avx2(int64_t M, const float *O, int64_t xs, const float *bias, er_act act,
                                float *const *out);
/* f32-nhwc-add-act-avx2.c: the residual epilogue y = act(y + z) */
void er_f32_nhwc_add_act__avx2(int64_t rows, int64_t n, const float *z, int64_t ldz, er_act act, float *y,
                               int64_t ldy);

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#include "kernels/x86/f32-conv.h"
/* lanes [0, n) set, n in [0, 8] */
static inline __m256i er_nhwc_mask(int64_t n) {
  static const int32_t src[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256((const __m256i *)(src + 8 - n));
}

/* Activations whose vector form needs exp (SILU, SIGMOID): the kernels store the plain sums
 * and apply these over rows still in L1, in a loop that keeps the polynomial's constants in
 * registers (er_act_avx2 per vector is an out-of-line call, ~3x slower). */
static inline int er_nhwc_act_rows(int kind) { return kind == ER_ACT_SILU || kind == ER_ACT_SIGMOID; }
/* 1 / (1 + exp(-v)) (times v for SILU) with the division as a reciprocal estimate and one
 * Newton step (relative error ~1e-7; a divide costs about as much as the exp) */
static inline __m256 er_nhwc_sig_avx2(__m256 v, int silu) {
  const __m256 d = _mm256_add_ps(_mm256_set1_ps(1.0f), er_exp_avx2(_mm256_sub_ps(_mm256_setzero_ps(), v)));
  __m256 r = _mm256_rcp_ps(d);
  r = _mm256_mul_ps(r, _mm256_fnmadd_ps(d, r, _mm256_set1_ps(2.0f)));
  return silu ? _mm256_mul_ps(v, r) : r;
}
static inline void er_nhwc_act_row_avx2(float *x, int64_t n, er_act a) {
  const int silu = a.kind == ER_ACT_SILU;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, er_nhwc_sig_avx2(_mm256_loadu_ps(x + i), silu));
  if (i < n) {
    const __m256i m = er_nhwc_mask(n - i);
    _mm256_maskstore_ps(x + i, m, er_nhwc_sig_avx2(_mm256_maskload_ps(x + i, m), silu));
  }
}
/* 1 if the kernels apply this activation in registers (er_act_avx2) */
static inline int er_nhwc_act_in_regs(int kind) {
  return kind != ER_ACT_NONE && er_act_is_vector(kind) && !er_nhwc_act_rows(kind);
}
/* The AVX2 kernels keep only RELU and CLIP in registers (two instructions per accumulator,
 * no code growth per tile variant); every other activation runs over the stored row, still
 * in L1 (er_nhwc_act_stored), the same per element wherever a row starts. */
static inline int er_nhwc_act_regs_avx2(int kind) { return kind == ER_ACT_RELU || kind == ER_ACT_CLIP; }
static inline __attribute__((always_inline)) __m256 er_nhwc_act_min_avx2(__m256 x, er_act a) {
  x = _mm256_max_ps(x, _mm256_set1_ps(a.kind == ER_ACT_CLIP ? a.a : 0.0f));
  return a.kind == ER_ACT_CLIP ? _mm256_min_ps(x, _mm256_set1_ps(a.b)) : x;
}
/* An activation over `rows` stored rows of n floats, ldx apart: exp-based ones and the other
 * vector kinds 8 lanes at a time (a masked tail, so every element takes the vector code),
 * GELU / TANH by the reference. Out of line (one copy per file), the kind tested once per
 * block of rows. */
static __attribute__((noinline, unused)) void er_nhwc_act_block_avx2(float *x, int64_t ldx, int64_t rows, int64_t n,
                                                                     er_act a) {
  if (a.kind == ER_ACT_NONE) return;
  if (er_nhwc_act_rows(a.kind)) {
    for (int64_t r = 0; r < rows; r++) er_nhwc_act_row_avx2(x + r * ldx, n, a);
  } else if (er_act_is_vector(a.kind)) {
    const __m256i m = er_nhwc_mask(n % 8);
    for (int64_t r = 0; r < rows; r++) {
      float *xr = x + r * ldx;
      int64_t i = 0;
      for (; i + 8 <= n; i += 8) _mm256_storeu_ps(xr + i, er_act_avx2(_mm256_loadu_ps(xr + i), a));
      if (i < n) _mm256_maskstore_ps(xr + i, m, er_act_avx2(_mm256_maskload_ps(xr + i, m), a));
    }
  } else {
    for (int64_t r = 0; r < rows; r++) er_f32_apply_act(x + r * ldx, n, a);
  }
}
/* the same over one row */
static inline void er_nhwc_act_stored(float *x, int64_t n, er_act a) { er_nhwc_act_block_avx2(x, 0, 1, n, a); }

/* Depth blocks of at most kcmax, all equal (a function of kc only, so any split of a GEMM's
 * rows or columns sums each element over the same blocks). */
static inline int64_t er_nhwc_k_block(int64_t kc, int64_t kcmax) {
  const int64_t nb = (kc + kcmax - 1) / kcmax;
  return (kc + nb - 1) / nb;
}
/* Depthwise: L when the T tap pointers are rows of L >= 2 consecutive pixels (step apart),
 * else 0 */
static inline int64_t er_nhwc_tap_rows(int64_t T, const float *const *in, int64_t step) {
  int64_t L = 1;
  while (L < T && in[L] == in[L - 1] + step) L++;
  if (L < 2 || T % L) return 0;
  for (int64_t t = 0; t < T; t++)
    if (t % L && in[t] != in[t - 1] + step) return 0;
  return L;
}
/* A GEMM call without depth: C = act(base). */
static inline void er_nhwc_gemm_no_depth(int64_t M, int64_t N, const float *bias, int accumulate, er_act act, float *C,
                                         int64_t ldc) {
  for (int64_t i = 0; i < M; i++) {
    float *c = C + i * ldc;
    if (!accumulate)
      for (int64_t j = 0; j < N; j++) c[j] = bias ? bias[j] : 0.0f;
    er_nhwc_act_stored(c, N, act);
  }
}
#if defined(__AVX512F__)
/* AVX-512 SILU / SIGMOID over a stored row: exp(-x) as 2^n * p(r) (the AVX2 polynomial,
 * scaled with vscalefps), then 1/(1+e) as a 14-bit reciprocal and one Newton step; the same
 * per element wherever a row starts, so any split of rows or columns gives the same bits. */
static inline __m512 er_nhwc_sig_avx512(__m512 v, int silu) {
  __m512 x = _mm512_sub_ps(_mm512_setzero_ps(), v);
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-88.3762626647949f)), _mm512_set1_ps(88.3762626647949f));
  const __m512 fx = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  x = _mm512_fnmadd_ps(fx, _mm512_set1_ps(0.693359375f), x);
  x = _mm512_fnmadd_ps(fx, _mm512_set1_ps(-2.12194440e-4f), x);
  __m512 y = _mm512_set1_ps(1.9875691500E-4f);
  y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(1.3981999507E-3f));
  y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(8.3334519073E-3f));
  y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(4.1665795894E-2f));
  y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(1.6666665459E-1f));
  y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(5.0000001201E-1f));
  y = _mm512_fmadd_ps(y, _mm512_mul_ps(x, x), _mm512_add_ps(x, _mm512_set1_ps(1.0f)));
  const __m512 d = _mm512_add_ps(_mm512_set1_ps(1.0f), _mm512_scalef_ps(y, fx));
  __m512 r = _mm512_rcp14_ps(d);
  r = _mm512_mul_ps(r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(2.0f)));
  return silu ? _mm512_mul_ps(v, r) : r;
}
/* AVX-512: the activations computed in registers (the kinds er_nhwc_act_in_regs accepts) */
static inline __attribute__((always_inline)) __m512 er_nhwc_act_avx512(__m512 x, er_act a) {
  switch (a.kind) {
    case ER_ACT_RELU: return _mm512_max_ps(x, _mm512_setzero_ps());
    case ER_ACT_CLIP: return _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(a.a)), _mm512_set1_ps(a.b));
    case ER_ACT_HARDSWISH: {
      __m512 t = _mm512_add_ps(_mm512_div_ps(x, _mm512_set1_ps(6.0f)), _mm512_set1_ps(0.5f));
      t = _mm512_min_ps(_mm512_max_ps(t, _mm512_setzero_ps()), _mm512_set1_ps(1.0f));
      return _mm512_mul_ps(x, t);
    }
    case ER_ACT_HARDSIGMOID: {
      __m512 t = _mm512_add_ps(_mm512_mul_ps(x, _mm512_set1_ps(a.a)), _mm512_set1_ps(a.b));
      return _mm512_min_ps(_mm512_max_ps(t, _mm512_setzero_ps()), _mm512_set1_ps(1.0f));
    }
    case ER_ACT_LEAKYRELU: {
      const __mmask16 neg = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
      return _mm512_mask_mul_ps(x, neg, x, _mm512_set1_ps(a.a));
    }
    default: return x;
  }
}
/* The AVX-512 kernels keep only RELU and CLIP in registers (two instructions, no code
 * growth per accumulator); every other activation runs over the stored row, 16 lanes at a
 * time (GELU, TANH: the reference), the same per element wherever a row starts. */
static inline int er_nhwc_act_regs_avx512(int kind) { return kind == ER_ACT_RELU || kind == ER_ACT_CLIP; }
static inline __attribute__((always_inline)) __m512 er_nhwc_act_min_avx512(__m512 x, er_act a) {
  x = _mm512_max_ps(x, _mm512_set1_ps(a.kind == ER_ACT_CLIP ? a.a : 0.0f));
  return a.kind == ER_ACT_CLIP ? _mm512_min_ps(x, _mm512_set1_ps(a.b)) : x;
}
/* er_nhwc_act_block_avx2 16 lanes at a time (GELU, TANH: the reference) */
static __attribute__((noinline, unused)) void er_nhwc_act_block_avx512(float *x, int64_t ldx, int64_t rows, int64_t n,
                                                                       er_act a) {
  if (a.kind == ER_ACT_NONE) return;
  if (!er_nhwc_act_rows(a.kind) && !er_nhwc_act_in_regs(a.kind)) {
    for (int64_t r = 0; r < rows; r++) er_f32_apply_act(x + r * ldx, n, a); /* GELU, TANH */
    return;
  }
  const int silu = a.kind == ER_ACT_SILU, sig = er_nhwc_act_rows(a.kind);
  const __mmask16 tail = (__mmask16)((1u << (n % 16)) - 1);
  for (int64_t r = 0; r < rows; r++) {
    float *xr = x + r * ldx;
    for (int64_t i = 0; i < n; i += 16) {
      const __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : tail;
      const __m512 v = _mm512_maskz_loadu_ps(m, xr + i);
      _mm512_mask_storeu_ps(xr + i, m, sig ? er_nhwc_sig_avx512(v, silu) : er_nhwc_act_avx512(v, a));
    }
  }
}
static inline void er_nhwc_act_stored_avx512(float *x, int64_t n, er_act a) { er_nhwc_act_block_avx512(x, 0, 1, n, a); }
#endif
#endif
#endif
