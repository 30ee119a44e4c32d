/* Vector-math table entries written once over the SIMD layer of vmath-simd.h: included by
 * f32-vmath-avx2.c (ER_VW 8) and f32-vmath-avx512.c (ER_VW 16) with VM_NAME(x) giving each
 * function its ISA suffix. See kernels/dispatch.h for the entries' contracts. */
#include <float.h>
#include <math.h>

#include "kernels/x86/f32-vmath.h"
#include "kernels/x86/vmath-simd.h"

#define UNARY_LOOP(F)                                                          \
  do {                                                                         \
    int64_t i = 0;                                                             \
    for (; i + 2 * ER_VW <= n; i += 2 * ER_VW) {                               \
      const vf a = F(V_LOAD(x + i)), b = F(V_LOAD(x + i + ER_VW));             \
      V_STORE(y + i, a);                                                       \
      V_STORE(y + i + ER_VW, b);                                               \
    }                                                                          \
    for (; i < n; i += ER_VW) {                                                \
      const vtail t = v_tail(n - i < ER_VW ? n - i : ER_VW);                   \
      V_TSTORE(t, y + i, F(V_TLOAD(t, x + i)));                                \
    }                                                                          \
  } while (0)

void VM_NAME(er_f32_vunary)(int fn, const float *x, float *y, int64_t n) {
  switch (fn) {
    case ER_VF_EXP: UNARY_LOOP(vm_exp); break;
    case ER_VF_ERF: UNARY_LOOP(vm_erf); break;
    case ER_VF_TANH: UNARY_LOOP(vm_tanh); break;
    case ER_VF_SIGMOID: UNARY_LOOP(vm_sigmoid); break;
    case ER_VF_GELU: UNARY_LOOP(vm_gelu); break;
    case ER_VF_GELU_TANH: UNARY_LOOP(vm_gelu_tanh); break;
    case ER_VF_SILU: UNARY_LOOP(vm_silu); break;
    default:
      if (y != x)
        for (int64_t i = 0; i < n; i++) y[i] = x[i];
      break;
  }
}

/* Rows of n: nv full vectors, then a tail of n - nv lanes (mask t). */
void VM_NAME(er_f32_softmax)(const float *x, int64_t ldx, float *y, int64_t ldy, int64_t rows,
                             int64_t n, float scale, int log_) {
  if (n <= 0) return;
  const vf vs = V_SET1(scale), ninf = V_SET1(-INFINITY);
  const int64_t nv = n / ER_VW * ER_VW;
  const vtail t = v_tail(n - nv);
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * ldx;
    float *yr = y + r * ldy;
    vf m0 = ninf, m1 = ninf; /* max of scale * x (a NaN is ignored here, reaches the sum) */
    int64_t i = 0;
    for (; i + 2 * ER_VW <= nv; i += 2 * ER_VW) {
      m0 = V_MAX(V_MUL(vs, V_LOAD(xr + i)), m0);
      m1 = V_MAX(V_MUL(vs, V_LOAD(xr + i + ER_VW)), m1);
    }
    if (i < nv) m0 = V_MAX(V_MUL(vs, V_LOAD(xr + i)), m0);
    if (nv < n) m1 = V_MAX(V_TSEL(t, V_MUL(vs, V_TLOAD(t, xr + nv)), ninf), m1);
    const float mx = v_hmax(V_MAX(m0, m1));
    const vf vm = V_SET1(mx);
    vf s0 = V_ZERO(), s1 = V_ZERO();
    if (log_) {
      for (i = 0; i + 2 * ER_VW <= nv; i += 2 * ER_VW) {
        s0 = V_ADD(s0, vm_exp_ftz(V_FMA(vs, V_LOAD(xr + i), V_SUB(V_ZERO(), vm))));
        s1 = V_ADD(s1, vm_exp_ftz(V_FMA(vs, V_LOAD(xr + i + ER_VW), V_SUB(V_ZERO(), vm))));
      }
      if (i < nv) s0 = V_ADD(s0, vm_exp_ftz(V_FMA(vs, V_LOAD(xr + i), V_SUB(V_ZERO(), vm))));
      if (nv < n)
        s1 = V_ADD(s1, V_TZERO(t, vm_exp_ftz(V_FMA(vs, V_TLOAD(t, xr + nv), V_SUB(V_ZERO(), vm)))));
      const vf lse = V_SET1(logf(v_hsum(V_ADD(s0, s1))));
      for (i = 0; i < nv; i += ER_VW)
        V_STORE(yr + i, V_SUB(V_FMA(vs, V_LOAD(xr + i), V_SUB(V_ZERO(), vm)), lse));
      if (nv < n)
        V_TSTORE(t, yr + nv, V_SUB(V_FMA(vs, V_TLOAD(t, xr + nv), V_SUB(V_ZERO(), vm)), lse));
      continue;
    }
    for (i = 0; i + 2 * ER_VW <= nv; i += 2 * ER_VW) {
      const vf e0 = vm_exp_ftz(V_FMA(vs, V_LOAD(xr + i), V_SUB(V_ZERO(), vm)));
      const vf e1 = vm_exp_ftz(V_FMA(vs, V_LOAD(xr + i + ER_VW), V_SUB(V_ZERO(), vm)));
      V_STORE(yr + i, e0);
      V_STORE(yr + i + ER_VW, e1);
      s0 = V_ADD(s0, e0);
      s1 = V_ADD(s1, e1);
    }
    if (i < nv) {
      const vf e0 = vm_exp_ftz(V_FMA(vs, V_LOAD(xr + i), V_SUB(V_ZERO(), vm)));
      V_STORE(yr + i, e0);
      s0 = V_ADD(s0, e0);
    }
    if (nv < n) {
      const vf e = V_TZERO(t, vm_exp_ftz(V_FMA(vs, V_TLOAD(t, xr + nv), V_SUB(V_ZERO(), vm))));
      V_TSTORE(t, yr + nv, e);
      s1 = V_ADD(s1, e);
    }
    /* normalize; values that would become subnormal (e < FLT_MIN * sum) become 0 first */
    const float sum = v_hsum(V_ADD(s0, s1));
    const vf inv = V_SET1(1.0f / sum), lim = V_SET1(FLT_MIN * sum);
    for (i = 0; i < nv; i += ER_VW) {
      const vf e = V_LOAD(yr + i);
      V_STORE(yr + i, V_MUL(V_ZMASK(V_NLT(e, lim), e), inv));
    }
    if (nv < n) {
      const vf e = V_TLOAD(t, yr + nv);
      V_TSTORE(t, yr + nv, V_MUL(V_ZMASK(V_NLT(e, lim), e), inv));
    }
  }
}

void VM_NAME(er_f32_layernorm)(const float *x, float *y, int64_t rows, int64_t n,
                               const float *scale, const float *bias, float eps, float *mean,
                               float *istd) {
  if (n <= 0) return;
  const int64_t nv = n / ER_VW * ER_VW;
  const vtail t = v_tail(n - nv);
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * n;
    float *yr = y + r * n;
    vf s0 = V_ZERO(), s1 = V_ZERO();
    int64_t i = 0;
    for (; i + 2 * ER_VW <= nv; i += 2 * ER_VW) {
      s0 = V_ADD(s0, V_LOAD(xr + i));
      s1 = V_ADD(s1, V_LOAD(xr + i + ER_VW));
    }
    if (i < nv) s0 = V_ADD(s0, V_LOAD(xr + i));
    if (nv < n) s1 = V_ADD(s1, V_TLOAD(t, xr + nv));
    const float mu = v_hsum(V_ADD(s0, s1)) / (float)n;
    const vf vmu = V_SET1(mu);
    s0 = s1 = V_ZERO();
    for (i = 0; i + 2 * ER_VW <= nv; i += 2 * ER_VW) {
      const vf d0 = V_SUB(V_LOAD(xr + i), vmu), d1 = V_SUB(V_LOAD(xr + i + ER_VW), vmu);
      s0 = V_FMA(d0, d0, s0);
      s1 = V_FMA(d1, d1, s1);
    }
    if (i < nv) {
      const vf d0 = V_SUB(V_LOAD(xr + i), vmu);
      s0 = V_FMA(d0, d0, s0);
    }
    if (nv < n) {
      const vf d = V_TZERO(t, V_SUB(V_TLOAD(t, xr + nv), vmu));
      s1 = V_FMA(d, d, s1);
    }
    const float var = v_hsum(V_ADD(s0, s1)) / (float)n;
    const float is = 1.0f / sqrtf(var + eps);
    if (mean) mean[r] = mu;
    if (istd) istd[r] = is;
    const vf vis = V_SET1(is);
    for (i = 0; i < nv; i += ER_VW) {
      const vf d = V_MUL(V_SUB(V_LOAD(xr + i), vmu), vis);
      V_STORE(yr + i, V_FMA(d, V_LOAD(scale + i), bias ? V_LOAD(bias + i) : V_ZERO()));
    }
    if (nv < n) {
      const vf d = V_MUL(V_SUB(V_TLOAD(t, xr + nv), vmu), vis);
      V_TSTORE(t, yr + nv, V_FMA(d, V_TLOAD(t, scale + nv), bias ? V_TLOAD(t, bias + nv) : V_ZERO()));
    }
  }
}
