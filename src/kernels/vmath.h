/*
 * float32 approximations of the transcendental functions that activations and Softmax
 * need: exp, erf, tanh, sigmoid, GELU (erf and tanh forms), SiLU.
 *
 * Written branch-free (every lane computes every piece and selects) so a compiler can
 * vectorize a loop over them; the AVX2 / AVX-512 versions (src/kernels/x86/vmath-simd.h)
 * follow the same steps with the same constants, one instruction per operation.
 *
 * Algorithms (coefficients fitted by minimax over the stated ranges):
 *   exp(x)     x = n ln2 + r, |r| <= ln2/2 (ln2 split in two so n*ln2_hi is exact);
 *              e^r = 1 + r + r^2 (c2 + ... + c6 r^4); 2^n applied as two factors 2^n1 2^n2
 *              so results between 2^-149 and 2^-126 underflow gradually. x is clamped to
 *              [-104, 89] (exp there is 0 or inf in float32); NaN stays NaN.
 *   erf(x)     z = |x|. z < 0.875: z * P(z^2) (degree 5 in z^2). Else
 *              erfc(z) = e^-z^2 * R(w), w = 1 / (1 + z/2), R degree 8, and erf = 1 - erfc.
 *   tanh(x)    z = |x|. z < 0.55: z + z^3 P(z^2) (degree 4 in z^2). Else 1 - 2 / (e^2z + 1).
 *   sigmoid(x) e = exp(-|x|), s = 1 / (1 + e); x >= 0 ? s : e * s (no cancellation).
 *   gelu(x)    x Phi(x), Phi(x) = 0.5 (1 + erf(x/sqrt2)) = c/2 (x < 0) or 1 - c/2 (x >= 0)
 *              with c = erfc(|x|/sqrt2) = e^(-x^2/2) R(w), R a degree-11 polynomial in
 *              w = 1/(1 + |x|/(2 sqrt2)) fitted on all of [0, inf): no branch, no
 *              cancellation, and the negative tail keeps its relative accuracy.
 *   gelu_tanh  0.5 x (1 + tanh(u)) = x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3).
 *   silu(x)    x sigmoid(x).
 *
 * Measured maximum error against double-precision libm (every 61st float32 bit pattern, and
 * every float in [-10, 0] for the GELUs; ulp = unit in the last place of the float32
 * result; portable, AVX2 and AVX-512 versions alike).
 * tests/unit/test_vmath.c asserts slightly looser bounds on a coarser sweep.
 *   exp        1.0 ulp for normal results; subnormal results within 1 step of 2^-149
 *   erf        2.6 ulp
 *   tanh       1.5 ulp
 *   sigmoid    2.7 ulp (subnormal results within 1 step)
 *   silu       3.6 ulp for x >= -87 (below, |y| < 1e-36: within 128 steps of 2^-149)
 *   gelu       (every float in [-10, 1]) 8.7 ulp for x >= -3, 12.7 for x >= -5, 36 (2.1e-6
 *              relative) for x >= -10; 8.2 for x >= 0 (the largest near +0.015, where
 *              1 - c/2 carries the error of c). The rounding of x*x costs up to x^2/2 ulp in
 *              e^(-x^2/2) (an expf-based float kernel has the same term, and
 *              0.5x(1 + erff(x/sqrt2)) loses all digits below x = -5). The vector forms
 *              refine a reciprocal estimate by one Newton step instead of dividing.
 *              AVX-512 computes Phi on [-3, 3) from 16 degree-6 pieces picked per lane
 *              (vpermps; relative error 8e-9): 2.4 ulp there, twice as fast; vectors with
 *              a lane outside take the formula for those lanes.
 *   gelu_tanh  x >= 0: 4 ulp. 15 ulp for x >= -3, 36 for x >= -5, 211 (1.3e-5 relative) for
 *              x >= -10, from the rounding of u likewise
 * Below x = -10 gelu and gelu_tanh are < 1e-22 in magnitude with relative errors up to
 * ~2e-5, and results below FLT_MIN within 16 steps of 2^-149.
 * Inputs: +-inf give the limits, NaN gives NaN.
 */
#ifndef ER_KERNELS_VMATH_H
#define ER_KERNELS_VMATH_H
#include <stdint.h>
#include <string.h>

/* Vector functions of the micro-kernel tables (f32_vunary). */
enum { ER_VF_EXP = 1, ER_VF_ERF, ER_VF_TANH, ER_VF_SIGMOID, ER_VF_GELU, ER_VF_GELU_TANH,
       ER_VF_SILU };

/* ---- constants shared with the SIMD versions ---- */
#define ER_VM_EXP_LO (-104.0f)
#define ER_VM_EXP_HI 89.0f
#define ER_VM_LOG2E 1.44269504088896341f
#define ER_VM_LN2_HI 0.693145751953125f
#define ER_VM_LN2_LO 1.428606765330187e-06f
#define ER_VM_ROUND 12582912.0f /* 1.5 * 2^23: x + it rounds x to an integer in the low bits */
#define ER_VM_EXP_C2 0.4999999345162588f
#define ER_VM_EXP_C3 0.16666520688656844f
#define ER_VM_EXP_C4 0.04166838737390378f
#define ER_VM_EXP_C5 0.008368709961333914f
#define ER_VM_EXP_C6 0.0013814613093225648f

/* Softmax rows flush probabilities below FLT_MIN to 0: e^v for v < ER_VM_FTZ_LO (> ln
 * FLT_MIN = -87.34, with margin for the approximation) becomes 0, and a normalized value
 * below FLT_MIN becomes 0. Such values are far below float resolution next to the row's
 * largest probability (>= 1/n), and producing or reading subnormals costs a microcode
 * assist per operation on x86 (measured: a 128x128 attention head 10x slower). */
#define ER_VM_FTZ_LO (-87.3f)

#define ER_VM_ERF_T 0.875f
#define ER_VM_ERF_P0 1.1283791574904405f
#define ER_VM_ERF_P1 (-0.37612550454311106f)
#define ER_VM_ERF_P2 0.11282455210930907f
#define ER_VM_ERF_P3 (-0.02679145810437764f)
#define ER_VM_ERF_P4 0.005032173065057881f
#define ER_VM_ERF_P5 (-0.0006203207261624437f)
#define ER_VM_ERFC_R0 (-8.02636462428917e-06f)
#define ER_VM_ERFC_R1 0.2822939020232687f
#define ER_VM_ERFC_R2 0.2800242640220283f
#define ER_VM_ERFC_R3 0.2584498816231778f
#define ER_VM_ERFC_R4 0.1391692502145433f
#define ER_VM_ERFC_R5 0.14574006049979524f
#define ER_VM_ERFC_R6 (-0.027508603292228206f)
#define ER_VM_ERFC_R7 (-0.14697183819255072f)
#define ER_VM_ERFC_R8 0.06912897582608529f

#define ER_VM_TANH_T 0.55f
#define ER_VM_TANH_P1 (-0.33332946605067043f)
#define ER_VM_TANH_P2 0.13320724285004948f
#define ER_VM_TANH_P3 (-0.052671761394532016f)
#define ER_VM_TANH_P4 0.016437477093191752f

/* GELU: erfc(z) e^(z^2) on all of [0, inf) as a degree-11 polynomial in w = 1/(1 + z/2)
 * (relative error 1.8e-9), so one formula serves both signs without a branch */
#define ER_VM_GR0 2.8679740951409717e-06f
#define ER_VM_GR1 0.2820074353749538f
#define ER_VM_GR2 0.28324999914957294f
#define ER_VM_GR3 0.23812768802880552f
#define ER_VM_GR4 0.21744134552080763f
#define ER_VM_GR5 (-0.04175631496180141f)
#define ER_VM_GR6 0.2368211072125245f
#define ER_VM_GR7 (-0.3109511066282822f)
#define ER_VM_GR8 (-0.009224764750566323f)
#define ER_VM_GR9 0.2058556978583238f
#define ER_VM_GR10 (-0.12702595384436693f)
#define ER_VM_GR11 0.025452000885681832f

#define ER_VM_SQRT1_2 0.70710678118654752f
#define ER_VM_GELU_K 0.79788456080286536f /* sqrt(2/pi) */
#define ER_VM_GELU_C 0.044715f

/* ---- scalar (portable) versions ---- */
static inline uint32_t er_vm_fbits(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  return u;
}
static inline float er_vm_bitsf(uint32_t u) {
  float x;
  memcpy(&x, &u, sizeof x);
  return x;
}

static inline float er_vm_exp(float x) {
  x = x < ER_VM_EXP_LO ? ER_VM_EXP_LO : x; /* comparisons are false for NaN: it stays */
  x = x > ER_VM_EXP_HI ? ER_VM_EXP_HI : x;
  const float t = x * ER_VM_LOG2E + ER_VM_ROUND;
  const float n = t - ER_VM_ROUND;
  const float r = (x - n * ER_VM_LN2_HI) - n * ER_VM_LN2_LO;
  float p = ER_VM_EXP_C6;
  p = p * r + ER_VM_EXP_C5;
  p = p * r + ER_VM_EXP_C4;
  p = p * r + ER_VM_EXP_C3;
  p = p * r + ER_VM_EXP_C2;
  p = (p * r) * r + r + 1.0f;
  /* n + 150 in [0, 278] read from the low bits of t; split into two exponents >= -75 */
  const uint32_t m = er_vm_fbits(t) - er_vm_fbits(ER_VM_ROUND) + 150u;
  const uint32_t m1 = (m >> 1) & 0x1ffu, m2 = (m - m1) & 0x1ffu;
  return p * er_vm_bitsf((m1 + 52u) << 23) * er_vm_bitsf((m2 + 52u) << 23);
}

/* erf(z) on the small branch (z < ER_VM_ERF_T) */
static inline float er_vm_erf_small(float z) {
  const float s = z * z;
  float p = ER_VM_ERF_P5;
  p = p * s + ER_VM_ERF_P4;
  p = p * s + ER_VM_ERF_P3;
  p = p * s + ER_VM_ERF_P2;
  p = p * s + ER_VM_ERF_P1;
  return z * ER_VM_ERF_P0 + (z * s) * p; /* the leading term rounded once */
}

/* erfc(z) e^(z^2) for z >= ER_VM_ERF_T (w = 0 and R = R0 at z = inf) */
static inline float er_vm_erfc_r(float z) {
  const float w = 1.0f / (1.0f + 0.5f * z);
  float p = ER_VM_ERFC_R8;
  p = p * w + ER_VM_ERFC_R7;
  p = p * w + ER_VM_ERFC_R6;
  p = p * w + ER_VM_ERFC_R5;
  p = p * w + ER_VM_ERFC_R4;
  p = p * w + ER_VM_ERFC_R3;
  p = p * w + ER_VM_ERFC_R2;
  p = p * w + ER_VM_ERFC_R1;
  return p * w + ER_VM_ERFC_R0;
}

/* |x| and the sign of x applied to a non-negative value (odd functions keep -0 and the
 * sign of NaN) */
static inline float er_vm_abs(float x) { return er_vm_bitsf(er_vm_fbits(x) & 0x7fffffffu); }
static inline float er_vm_signof(float x, float v) {
  return er_vm_bitsf(er_vm_fbits(v) ^ (er_vm_fbits(x) & 0x80000000u));
}

static inline float er_vm_erf(float x) {
  const float z = er_vm_abs(x);
  const float e = z < ER_VM_ERF_T ? er_vm_erf_small(z) : 1.0f - er_vm_exp(-(z * z)) * er_vm_erfc_r(z);
  return er_vm_signof(x, e);
}

static inline float er_vm_tanh(float x) {
  const float z = er_vm_abs(x), s = z * z;
  float p = ER_VM_TANH_P4;
  p = p * s + ER_VM_TANH_P3;
  p = p * s + ER_VM_TANH_P2;
  p = p * s + ER_VM_TANH_P1;
  const float small = z + (z * s) * p;
  const float large = 1.0f - 2.0f / (er_vm_exp(z + z) + 1.0f);
  return er_vm_signof(x, z < ER_VM_TANH_T ? small : large);
}

static inline float er_vm_sigmoid(float x) {
  const float e = er_vm_exp(x < 0.0f ? x : -x), s = 1.0f / (1.0f + e);
  return x < 0.0f ? e * s : s;
}

/* x Phi(x): with c = erfc(|x|/sqrt2) = e^(-x^2/2) R(w), Phi = c/2 for x < 0 and 1 - c/2 for
 * x >= 0 (c/2 <= 1/2: no cancellation); e^(-x^2/2) from x*x (one rounding). */
static inline float er_vm_gelu(float x) {
  const float z = er_vm_abs(x) * ER_VM_SQRT1_2, w = 1.0f / (1.0f + 0.5f * z);
  float p = ER_VM_GR11;
  p = p * w + ER_VM_GR10;
  p = p * w + ER_VM_GR9;
  p = p * w + ER_VM_GR8;
  p = p * w + ER_VM_GR7;
  p = p * w + ER_VM_GR6;
  p = p * w + ER_VM_GR5;
  p = p * w + ER_VM_GR4;
  p = p * w + ER_VM_GR3;
  p = p * w + ER_VM_GR2;
  p = p * w + ER_VM_GR1;
  p = p * w + ER_VM_GR0;
  const float h = 0.5f * (er_vm_exp(-0.5f * (x * x)) * p);
  return x * (x < 0.0f ? h : 1.0f - h);
}

static inline float er_vm_gelu_tanh(float x) {
  const float u2 = x * (2.0f * ER_VM_GELU_K + (2.0f * ER_VM_GELU_K * ER_VM_GELU_C) * (x * x));
  return x * er_vm_sigmoid(u2);
}

static inline float er_vm_silu(float x) { return x * er_vm_sigmoid(x); }

/* e^v with results below FLT_MIN flushed to 0 (softmax rows; NaN stays NaN). */
static inline float er_vm_exp_ftz(float v) {
  const float e = er_vm_exp(v < ER_VM_FTZ_LO ? ER_VM_FTZ_LO : v);
  return v < ER_VM_FTZ_LO ? 0.0f : e;
}

/* Reference-table entries f32_vunary / f32_softmax / f32_layernorm (ref/vmath_ref.c). */
void er_f32_vunary_ref(int fn, const float *x, float *y, int64_t n);
void er_f32_softmax_ref(const float *x, int64_t ldx, float *y, int64_t ldy, int64_t rows,
                        int64_t n, float scale, int log_);
void er_f32_layernorm_ref(const float *x, float *y, int64_t rows, int64_t n, const float *scale,
                          const float *bias, float eps, float *mean, float *istd);
#endif
