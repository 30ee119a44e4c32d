/*
 * Portable entries of the reference micro-kernel table for transcendental vector functions,
 * Softmax rows and LayerNormalization rows (see kernels/dispatch.h). Loops over the
 * branch-free functions of kernels/vmath.h, written so the compiler vectorizes them with
 * whatever vector unit the target has (SSE2 on x86-64, NEON on Arm).
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("tree-vectorize", "vect-cost-model=dynamic", "no-trapping-math")
#endif
#include <float.h>
#include <math.h>

#include "kernels/dispatch.h"
#include "kernels/vmath.h"

#define VLOOP(F)                                   \
  for (int64_t i = 0; i < n; i++) y[i] = F(x[i]); \
  break;

void er_f32_vunary_ref(int fn, const float *x, float *y, int64_t n) {
  switch (fn) {
    case ER_VF_EXP: VLOOP(er_vm_exp)
    case ER_VF_ERF: VLOOP(er_vm_erf)
    case ER_VF_TANH: VLOOP(er_vm_tanh)
    case ER_VF_SIGMOID: VLOOP(er_vm_sigmoid)
    case ER_VF_GELU: VLOOP(er_vm_gelu)
    case ER_VF_GELU_TANH: VLOOP(er_vm_gelu_tanh)
    case ER_VF_SILU: VLOOP(er_vm_silu)
    default:
      for (int64_t i = 0; i < n; i++) y[i] = x[i];
      break;
  }
}

/* Sums in 8 interleaved partial sums (the order the vector versions use), then pairwise. */
static float sum8(const float *p, int64_t n) {
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; k++) s[k] += p[i + k];
  for (int k = 0; i < n; i++, k++) s[k] += p[i];
  return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

void er_f32_softmax_ref(const float *x, int64_t ldx, float *y, int64_t ldy, int64_t rows,
                        int64_t n, float scale, int log_) {
  if (n <= 0) return;
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * ldx;
    float *yr = y + r * ldy;
    float m = -INFINITY; /* max of scale * x, NaN ignored (a NaN reaches the sum) */
    for (int64_t i = 0; i < n; i++) {
      float v = scale * xr[i];
      m = v > m ? v : m;
    }
    if (log_) {
      float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      int64_t i = 0;
      for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) s[k] += er_vm_exp_ftz(scale * xr[i + k] - m);
      for (int k = 0; i < n; i++, k++) s[k] += er_vm_exp_ftz(scale * xr[i] - m);
      const float lse = logf(((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7])));
      for (int64_t j = 0; j < n; j++) yr[j] = (scale * xr[j] - m) - lse;
    } else {
      for (int64_t i = 0; i < n; i++) yr[i] = er_vm_exp_ftz(scale * xr[i] - m);
      /* values that would become subnormal are 0 (kernels/vmath.h, ER_VM_FTZ_LO) */
      const float sum = sum8(yr, n), inv = 1.0f / sum, lim = FLT_MIN * sum;
      for (int64_t i = 0; i < n; i++) yr[i] = (yr[i] < lim ? 0.0f : yr[i]) * inv;
    }
  }
}

void er_f32_layernorm_ref(const float *x, float *y, int64_t rows, int64_t n, const float *scale,
                          const float *bias, float eps, float *mean, float *istd) {
  if (n <= 0) return;
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * n;
    float *yr = y + r * n;
    const float mu = sum8(xr, n) / (float)n;
    float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
      for (int k = 0; k < 8; k++) {
        float d = xr[i + k] - mu;
        s[k] += d * d;
      }
    for (int k = 0; i < n; i++, k++) {
      float d = xr[i] - mu;
      s[k] += d * d;
    }
    const float var = (((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]))) / (float)n;
    const float is = 1.0f / sqrtf(var + eps);
    if (mean) mean[r] = mu;
    if (istd) istd[r] = is;
    if (bias)
      for (int64_t j = 0; j < n; j++) yr[j] = (xr[j] - mu) * is * scale[j] + bias[j];
    else
      for (int64_t j = 0; j < n; j++) yr[j] = (xr[j] - mu) * is * scale[j];
  }
}
