/*
 * SIMD versions of the float32 approximations in kernels/vmath.h (same steps, same
 * constants; see there for the algorithms and their measured errors). Include with ER_VW
 * defined as 8 (AVX2/FMA, __m256) or 16 (AVX-512F, __m512); the file compiling it must
 * enable that ISA. Functions are static inline: vm_exp, vm_erf, vm_tanh, vm_sigmoid,
 * vm_gelu, vm_gelu_tanh, vm_silu, and vm_func(ER_VF_*, x).
 */
#ifndef ER_KERNELS_X86_VMATH_SIMD_H
#define ER_KERNELS_X86_VMATH_SIMD_H
#include <immintrin.h>

#include "kernels/dispatch.h"
#include "kernels/vmath.h"

#if ER_VW == 8
typedef __m256 vf;
typedef __m256i vi;
typedef __m256 vmask;
#define V_SET1 _mm256_set1_ps
#define V_ZERO _mm256_setzero_ps
#define V_ADD _mm256_add_ps
#define V_SUB _mm256_sub_ps
#define V_MUL _mm256_mul_ps
#define V_DIV _mm256_div_ps
#define V_FMA _mm256_fmadd_ps   /* a * b + c */
#define V_FNMA _mm256_fnmadd_ps /* c - a * b */
#define V_MAX _mm256_max_ps     /* NaN in either: the second operand */
#define V_MIN _mm256_min_ps
#define V_LT(a, b) _mm256_cmp_ps(a, b, _CMP_LT_OQ)
#define V_SEL(m, a, b) _mm256_blendv_ps(b, a, m) /* m ? a : b */
#define V_AND(a, b) _mm256_and_ps(a, b)
#define V_XOR(a, b) _mm256_xor_ps(a, b)
#define V_CASTI _mm256_castps_si256
#define V_CASTF _mm256_castsi256_ps
#define VI_SET1 _mm256_set1_epi32
#define VI_ADD _mm256_add_epi32
#define VI_SUB _mm256_sub_epi32
#define VI_SRL _mm256_srli_epi32
#define VI_SLL _mm256_slli_epi32
#define VI_AND _mm256_and_si256
#define V_LOAD _mm256_loadu_ps
#define V_STORE _mm256_storeu_ps
#define V_GE(a, b) _mm256_cmp_ps(a, b, _CMP_GE_OQ)
#define V_NLT(a, b) _mm256_cmp_ps(a, b, _CMP_NLT_UQ) /* !(a < b): true for NaN */
#define V_ZMASK(m, v) _mm256_and_ps(v, m) /* lanes of m clear -> 0 */
/* tails: lanes [0, n) of a vector, n <= ER_VW */
typedef __m256i vtail;
static inline vtail v_tail(int64_t n) {
  static const int32_t tab[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256((const __m256i *)(tab + 8 - n));
}
#define V_TLOAD(t, p) _mm256_maskload_ps(p, t)      /* other lanes 0 */
#define V_TSTORE(t, p, v) _mm256_maskstore_ps(p, t, v)
#define V_TZERO(t, v) _mm256_and_ps(v, _mm256_castsi256_ps(t))
#define V_TSEL(t, a, b) _mm256_blendv_ps(b, a, _mm256_castsi256_ps(t)) /* tail lanes: a */
static inline float v_hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
static inline float v_hmax(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
#elif ER_VW == 16
typedef __m512 vf;
typedef __m512i vi;
typedef __mmask16 vmask;
#define V_SET1 _mm512_set1_ps
#define V_ZERO _mm512_setzero_ps
#define V_ADD _mm512_add_ps
#define V_SUB _mm512_sub_ps
#define V_MUL _mm512_mul_ps
#define V_DIV _mm512_div_ps
#define V_FMA _mm512_fmadd_ps
#define V_FNMA _mm512_fnmadd_ps
#define V_MAX _mm512_max_ps
#define V_MIN _mm512_min_ps
#define V_LT(a, b) _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ)
#define V_SEL(m, a, b) _mm512_mask_blend_ps(m, b, a)
#define V_CASTI _mm512_castps_si512
#define V_CASTF _mm512_castsi512_ps
#define V_AND(a, b) V_CASTF(_mm512_and_si512(V_CASTI(a), V_CASTI(b)))
#define V_XOR(a, b) V_CASTF(_mm512_xor_si512(V_CASTI(a), V_CASTI(b)))
#define VI_SET1 _mm512_set1_epi32
#define VI_ADD _mm512_add_epi32
#define VI_SUB _mm512_sub_epi32
#define VI_SRL _mm512_srli_epi32
#define VI_SLL _mm512_slli_epi32
#define VI_AND _mm512_and_si512
#define V_LOAD _mm512_loadu_ps
#define V_STORE _mm512_storeu_ps
#define V_GE(a, b) _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ)
#define V_NLT(a, b) _mm512_cmp_ps_mask(a, b, _CMP_NLT_UQ)
#define V_ZMASK(m, v) _mm512_maskz_mov_ps(m, v)
typedef __mmask16 vtail;
static inline vtail v_tail(int64_t n) { return (__mmask16)(n >= 16 ? 0xffff : (1u << n) - 1u); }
#define V_TLOAD(t, p) _mm512_maskz_loadu_ps(t, p)
#define V_TSTORE(t, p, v) _mm512_mask_storeu_ps(p, t, v)
#define V_TZERO(t, v) _mm512_maskz_mov_ps(t, v)
#define V_TSEL(t, a, b) _mm512_mask_blend_ps(t, b, a)
static inline float v_hsum(__m512 v) {
  __m256 s = _mm256_add_ps(_mm512_castps512_ps256(v),
                           _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h);
}
static inline float v_hmax(__m512 v) {
  __m256 s = _mm256_max_ps(_mm512_castps512_ps256(v),
                           _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
  __m128 h = _mm_max_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  h = _mm_max_ps(h, _mm_movehl_ps(h, h));
  h = _mm_max_ss(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h);
}
#else
#error "define ER_VW as 8 or 16 before including vmath-simd.h"
#endif

static inline vf vm_abs(vf x) { return V_AND(x, V_CASTF(VI_SET1(0x7fffffff))); }
/* v with the sign bit of x flipped in (v >= 0) */
static inline vf vm_signof(vf x, vf v) {
  return V_XOR(v, V_AND(x, V_CASTF(VI_SET1((int)0x80000000u))));
}

/* e^x = 2^n p(r) for x already clamped: returns p, and t (holding n in its low bits) */
static inline vf vm_exp_parts(vf x, vf *t_out) {
  const vf t = V_FMA(x, V_SET1(ER_VM_LOG2E), V_SET1(ER_VM_ROUND));
  const vf n = V_SUB(t, V_SET1(ER_VM_ROUND));
  vf r = V_FNMA(n, V_SET1(ER_VM_LN2_HI), x);
  r = V_FNMA(n, V_SET1(ER_VM_LN2_LO), r);
  vf p = V_SET1(ER_VM_EXP_C6);
  p = V_FMA(p, r, V_SET1(ER_VM_EXP_C5));
  p = V_FMA(p, r, V_SET1(ER_VM_EXP_C4));
  p = V_FMA(p, r, V_SET1(ER_VM_EXP_C3));
  p = V_FMA(p, r, V_SET1(ER_VM_EXP_C2));
  *t_out = t;
  return V_ADD(V_FMA(V_MUL(p, r), r, r), V_SET1(1.0f));
}

static inline vf vm_exp(vf x) {
  x = V_MAX(V_SET1(ER_VM_EXP_LO), x); /* NaN in x: x */
  x = V_MIN(V_SET1(ER_VM_EXP_HI), x);
  vf t;
  const vf p = vm_exp_parts(x, &t);
#if ER_VW == 16
  return _mm512_scalef_ps(p, V_SUB(t, V_SET1(ER_VM_ROUND))); /* p * 2^n rounded once */
#else
  const vi m = VI_ADD(VI_SUB(V_CASTI(t), V_CASTI(V_SET1(ER_VM_ROUND))), VI_SET1(150));
  const vi m1 = VI_AND(VI_SRL(m, 1), VI_SET1(0x1ff));
  const vi m2 = VI_AND(VI_SUB(m, m1), VI_SET1(0x1ff));
  const vf s1 = V_CASTF(VI_SLL(VI_ADD(m1, VI_SET1(52)), 23));
  const vf s2 = V_CASTF(VI_SLL(VI_ADD(m2, VI_SET1(52)), 23));
  return V_MUL(V_MUL(p, s1), s2);
#endif
}

/* e^v for softmax: 0 instead of any result below FLT_MIN (v < ER_VM_FTZ_LO), so no
 * subnormal is produced (see kernels/vmath.h); NaN stays NaN. v <= ~0 (an argument
 * x - max): the clamp keeps 2^n normal, one scaling factor suffices. */
static inline vf vm_exp_ftz(vf v) {
  const vf lo = V_SET1(ER_VM_FTZ_LO);
  vf t;
  const vf p = vm_exp_parts(V_MAX(lo, v), &t); /* NaN in v: v */
  /* 2^n from the low bits of t: (n + 127) << 23, n in [-126, 1] */
  const vf s = V_CASTF(VI_SLL(VI_ADD(V_CASTI(t), VI_SET1(127 - 0x4B400000)), 23));
  return V_ZMASK(V_NLT(v, lo), V_MUL(p, s));
}

static inline vf vm_erf_small(vf z) {
  const vf s = V_MUL(z, z);
  vf p = V_SET1(ER_VM_ERF_P5);
  p = V_FMA(p, s, V_SET1(ER_VM_ERF_P4));
  p = V_FMA(p, s, V_SET1(ER_VM_ERF_P3));
  p = V_FMA(p, s, V_SET1(ER_VM_ERF_P2));
  p = V_FMA(p, s, V_SET1(ER_VM_ERF_P1));
  return V_FMA(z, V_SET1(ER_VM_ERF_P0), V_MUL(V_MUL(z, s), p));
}

static inline vf vm_erfc_r(vf z) {
  const vf w = V_DIV(V_SET1(1.0f), V_FMA(z, V_SET1(0.5f), V_SET1(1.0f)));
  vf p = V_SET1(ER_VM_ERFC_R8);
  p = V_FMA(p, w, V_SET1(ER_VM_ERFC_R7));
  p = V_FMA(p, w, V_SET1(ER_VM_ERFC_R6));
  p = V_FMA(p, w, V_SET1(ER_VM_ERFC_R5));
  p = V_FMA(p, w, V_SET1(ER_VM_ERFC_R4));
  p = V_FMA(p, w, V_SET1(ER_VM_ERFC_R3));
  p = V_FMA(p, w, V_SET1(ER_VM_ERFC_R2));
  p = V_FMA(p, w, V_SET1(ER_VM_ERFC_R1));
  return V_FMA(p, w, V_SET1(ER_VM_ERFC_R0));
}

static inline vf vm_erf(vf x) {
  const vf z = vm_abs(x);
  const vf big = V_FNMA(vm_exp(V_SUB(V_ZERO(), V_MUL(z, z))), vm_erfc_r(z), V_SET1(1.0f));
  return vm_signof(x, V_SEL(V_LT(z, V_SET1(ER_VM_ERF_T)), vm_erf_small(z), big));
}

static inline vf vm_tanh(vf x) {
  const vf z = vm_abs(x), s = V_MUL(z, z);
  vf p = V_SET1(ER_VM_TANH_P4);
  p = V_FMA(p, s, V_SET1(ER_VM_TANH_P3));
  p = V_FMA(p, s, V_SET1(ER_VM_TANH_P2));
  p = V_FMA(p, s, V_SET1(ER_VM_TANH_P1));
  const vf small = V_FMA(V_MUL(z, s), p, z);
  const vf large = V_SUB(V_SET1(1.0f), V_DIV(V_SET1(2.0f), V_ADD(vm_exp(V_ADD(z, z)), V_SET1(1.0f))));
  return vm_signof(x, V_SEL(V_LT(z, V_SET1(ER_VM_TANH_T)), small, large));
}

static inline vf vm_sigmoid(vf x) {
  const vf e = vm_exp(V_SUB(V_ZERO(), vm_abs(x)));
  const vf s = V_DIV(V_SET1(1.0f), V_ADD(V_SET1(1.0f), e));
  return V_SEL(V_LT(x, V_ZERO()), V_MUL(e, s), s);
}

/* 1/x: approximate reciprocal refined by one Newton step (~23 bits) */
static inline vf vm_rcp(vf x) {
#if ER_VW == 16
  const vf y = _mm512_rcp14_ps(x);
#else
  const vf y = _mm256_rcp_ps(x);
#endif
  return V_FMA(y, V_FNMA(x, y, V_SET1(1.0f)), y);
}

/* x Phi(x) by the formula of kernels/vmath.h (any x) */
static inline vf vm_gelu_formula(vf x) {
  /* |x| capped so w stays finite for infinite x (NaN passes: the min returns its 2nd operand) */
  const vf z = V_MIN(V_SET1(1e30f), V_MUL(vm_abs(x), V_SET1(ER_VM_SQRT1_2)));
  const vf w = vm_rcp(V_FMA(z, V_SET1(0.5f), V_SET1(1.0f)));
  vf p = V_SET1(ER_VM_GR11);
  p = V_FMA(p, w, V_SET1(ER_VM_GR10));
  p = V_FMA(p, w, V_SET1(ER_VM_GR9));
  p = V_FMA(p, w, V_SET1(ER_VM_GR8));
  p = V_FMA(p, w, V_SET1(ER_VM_GR7));
  p = V_FMA(p, w, V_SET1(ER_VM_GR6));
  p = V_FMA(p, w, V_SET1(ER_VM_GR5));
  p = V_FMA(p, w, V_SET1(ER_VM_GR4));
  p = V_FMA(p, w, V_SET1(ER_VM_GR3));
  p = V_FMA(p, w, V_SET1(ER_VM_GR2));
  p = V_FMA(p, w, V_SET1(ER_VM_GR1));
  p = V_FMA(p, w, V_SET1(ER_VM_GR0));
  const vf h = V_MUL(V_SET1(0.5f), V_MUL(vm_exp(V_MUL(V_SET1(-0.5f), V_MUL(x, x))), p));
  return V_MUL(x, V_SEL(V_LT(x, V_ZERO()), h, V_SUB(V_SET1(1.0f), h)));
}

#if ER_VW == 16
/* AVX-512: Phi on [-3, 3) from 16 pieces of width 0.375, a degree-6 polynomial in
 * u = x - centre each (relative error <= 8e-9), coefficients picked per lane by vpermps;
 * vectors with a lane outside (|x| >= 3, NaN) also take the formula for those lanes. */
static const float k_phi_coef[7][16] __attribute__((aligned(64))) = {
    {2.457901165e-03f, 7.394607094e-03f, 1.958007877e-02f, 4.575362497e-02f, 9.467574305e-02f, 1.742507119e-01f, 2.868877018e-01f, 4.256343118e-01f,
     5.743656881e-01f, 7.131122982e-01f, 8.257492881e-01f, 9.053242570e-01f, 9.542463750e-01f, 9.804199212e-01f, 9.926053929e-01f, 9.975420988e-01f},
    {7.642605154e-03f, 2.045267259e-02f, 4.755389053e-02f, 9.606150219e-02f, 1.685931881e-01f, 2.570739105e-01f, 3.405675936e-01f, 3.919908933e-01f,
     3.919908933e-01f, 3.405675936e-01f, 2.570739106e-01f, 1.685931882e-01f, 9.606150223e-02f, 4.755389047e-02f, 2.045267248e-02f, 7.642605079e-03f},
    {1.074741935e-02f, 2.492670492e-02f, 4.903995687e-02f, 8.105188753e-02f, 1.106392625e-01f, 1.205033788e-01f, 9.578463223e-02f, 3.674915526e-02f,
     -3.674913493e-02f, -9.578462922e-02f, -1.205033938e-01f, -1.106392808e-01f, -8.105189491e-02f, -4.903995185e-02f, -2.492669583e-02f, -1.074741358e-02f},
    {8.802093212e-03f, 1.684444311e-02f, 2.578949082e-02f, 2.958114238e-02f, 2.030500050e-02f, -5.189077287e-03f, -3.880148381e-02f, -6.303387355e-02f,
     -6.303387315e-02f, -3.880148638e-02f, -5.189088123e-03f, 2.030498700e-02f, 2.958113761e-02f, 2.578949868e-02f, 1.684445607e-02f, 8.802101761e-03f},
    {4.397281420e-03f, 6.109301114e-03f, 5.123725602e-03f, -1.028819807e-03f, -1.177597279e-02f, -2.129863455e-02f, -2.142005655e-02f, -9.080138884e-03f,
     9.078596955e-03f, 2.141982655e-02f, 2.129977737e-02f, 1.177736941e-02f, 1.029381003e-03f, -5.124110922e-03f, -6.109997583e-03f, -4.397724280e-03f},
    {1.143990133e-03f, 4.355094085e-04f, -1.764806106e-03f, -4.767469488e-03f, -6.090231856e-03f, -3.173141398e-03f, 3.401152910e-03f, 9.050799587e-03f,
     9.050790547e-03f, 3.401211701e-03f, -3.172894731e-03f, -6.089924512e-03f, -4.767360863e-03f, -1.764985502e-03f, 4.352137957e-04f, 1.143794889e-03f},
    {-4.119668881e-05f, -6.190748496e-04f, -1.271753527e-03f, -1.203784534e-03f, 2.117713349e-04f, 2.306318010e-03f, 3.151386873e-03f, 1.497680493e-03f,
     -1.468446952e-03f, -3.147004844e-03f, -2.328016903e-03f, -2.382933875e-04f, 1.193125830e-03f, 1.279110415e-03f, 6.323599808e-04f, 4.965098001e-05f},
};
static inline vf vm_gelu(vf x) {
  const vf t = V_MIN(V_SET1(15.0f), V_MAX(V_ZERO(), V_FMA(x, V_SET1(16.0f / 6.0f), V_SET1(8.0f))));
  const __m512i i = _mm512_cvttps_epi32(t); /* NaN lanes: any index, replaced below */
  const vf u = V_SUB(x, V_FMA(_mm512_cvtepi32_ps(i), V_SET1(0.375f), V_SET1(-2.8125f)));
  vf p = _mm512_permutexvar_ps(i, _mm512_load_ps(k_phi_coef[6]));
  for (int c = 5; c >= 0; c--) p = V_FMA(p, u, _mm512_permutexvar_ps(i, _mm512_load_ps(k_phi_coef[c])));
  const vf y = V_MUL(x, p);
  const __mmask16 far = _mm512_cmp_ps_mask(vm_abs(x), V_SET1(3.0f), _CMP_NLT_UQ);
  return far ? _mm512_mask_mov_ps(y, far, vm_gelu_formula(x)) : y;
}
#else
static inline vf vm_gelu(vf x) { return vm_gelu_formula(x); }
#endif

static inline vf vm_gelu_tanh(vf x) {
  const vf k = V_SET1(2.0f * ER_VM_GELU_K), kc = V_SET1(2.0f * ER_VM_GELU_K * ER_VM_GELU_C);
  const vf u2 = V_MUL(x, V_FMA(kc, V_MUL(x, x), k));
  return V_MUL(x, vm_sigmoid(u2));
}

static inline vf vm_silu(vf x) { return V_MUL(x, vm_sigmoid(x)); }

/* A fused activation ER_ACT_* (kernels/dispatch.h) on one vector: pa, pb are act.a, act.b
 * broadcast. NaN handling follows er_f32_apply_act: max/min return their second operand
 * when either is NaN. */
static inline vf vm_act(vf x, int kind, vf pa, vf pb) {
  const vf zero = V_ZERO(), one = V_SET1(1.0f);
  switch (kind) {
    case ER_ACT_RELU: return V_MAX(x, zero);                   /* NaN -> 0 */
    case ER_ACT_CLIP: return V_MIN(pb, V_MAX(pa, x));          /* NaN stays */
    case ER_ACT_LEAKYRELU: return V_SEL(V_GE(x, zero), x, V_MUL(pa, x));
    case ER_ACT_HARDSIGMOID: return V_MIN(one, V_MAX(zero, V_FMA(pa, x, pb)));
    case ER_ACT_HARDSWISH:
      return V_MUL(x, V_MIN(one, V_MAX(zero, V_FMA(x, V_SET1(1.0f / 6.0f), V_SET1(0.5f)))));
    case ER_ACT_SILU: return vm_silu(x);
    case ER_ACT_GELU: return vm_gelu(x);
    case ER_ACT_SIGMOID: return vm_sigmoid(x);
    case ER_ACT_TANH: return vm_tanh(x);
    default: return x;
  }
}

static inline vf vm_func(int fn, vf x) {
  switch (fn) {
    case ER_VF_EXP: return vm_exp(x);
    case ER_VF_ERF: return vm_erf(x);
    case ER_VF_TANH: return vm_tanh(x);
    case ER_VF_SIGMOID: return vm_sigmoid(x);
    case ER_VF_GELU: return vm_gelu(x);
    case ER_VF_GELU_TANH: return vm_gelu_tanh(x);
    case ER_VF_SILU: return vm_silu(x);
    default: return x;
  }
}
#endif
