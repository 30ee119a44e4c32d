/*
 * Private helpers shared by the conv / pool / normalization family
 * (ops_conv.c, conv_pool.c, conv_norm.c). Not part of the kernel API.
 *
 * Spatial geometry is always handled as 3-D: a 1-D or 2-D op is padded with
 * leading spatial dims of size 1 (kernel 1, stride 1, dilation 1, no pads), so
 * one loop nest serves every spatial rank.
 *
 * Compute types: every kernel body is written once for a compute type T that is
 * float (for f32, f16, bf16 and small integer tensors) or double (for f64).
 * Tensors whose dtype differs from the compute type are "staged": converted
 * into ctx->scratch before the run and converted back afterwards.
 */
#ifndef ER_KERNELS_REF_CONV_COMMON_H
#define ER_KERNELS_REF_CONV_COMMON_H
#include <math.h>
#include <string.h>
#include "kernels/kernel.h"

#define CV_MAXSP 3 /* spatial ranks handled (1..3) */

typedef struct cv_win {
  int nsp;                      /* real spatial rank (1..3) */
  int64_t in[3], out[3];        /* spatial extents, 3-D (leading 1s) */
  int64_t k[3], s[3], d[3];     /* kernel, stride, dilation */
  int64_t pb[3], pe[3];         /* pads at begin / end */
} cv_win;

static inline int64_t cv_prod3(const int64_t *v) { return v[0] * v[1] * v[2]; }

/* Output sizes / pads of a sliding window over `in_sp` (nsp values) with kernel
 * `k_sp`. Reads strides, dilations, pads, auto_pad (and ceil_mode when
 * `pool` is set) from the node. `use_dil` = 0 ignores dilations (old pools). */
er_status cv_window(const er_kctx *c, int nsp, const int64_t *in_sp, const int64_t *k_sp,
                    int pool, int use_dil, cv_win *w);
/* Read an INTS attribute of exactly n values (or absent: fill with def). */
er_status cv_ints_attr(const er_kctx *c, const char *name, int n, int64_t def, int64_t *out);

/* ---- compute-type staging ---- */
static inline size_t cv_align(size_t n) { return (n + 63) & ~(size_t)63; }
/* Compute type for a float tensor dtype: ER_F64 stays double, all else float. */
static inline int cv_ctype(int dtype) { return dtype == ER_F64 ? ER_F64 : ER_F32; }
static inline size_t cv_csize(int ct) { return ct == ER_F64 ? 8 : 4; }
/* Scratch bytes needed to stage tensor t (0 if absent or already of type ct). */
static inline size_t cv_stage_bytes(const er_tensor *t, int ct) {
  if (!t || t->dtype == ct) return 0;
  return cv_align((size_t)er_tensor_numel(t) * cv_csize(ct));
}
/* Take `bytes` (aligned) from the scratch cursor. */
static inline void *cv_take(char **sp, size_t bytes) {
  void *p = *sp;
  *sp += cv_align(bytes);
  return p;
}
/* Pointer to t's values in compute type ct (converted into scratch if needed). */
static inline void *cv_stage_in(const er_tensor *t, int ct, char **sp) {
  if (!t) return 0;
  if (t->dtype == ct) return t->data;
  int64_t n = er_tensor_numel(t);
  void *p = cv_take(sp, (size_t)n * cv_csize(ct));
  if (ct == ER_F32) {
    float *f = (float *)p;
    if (t->dtype == ER_F16) {
      for (int64_t i = 0; i < n; i++) f[i] = er_f16_to_f32(((const uint16_t *)t->data)[i]);
    } else {
      for (int64_t i = 0; i < n; i++) f[i] = (float)er_load_f64(t->data, t->dtype, (size_t)i);
    }
  } else {
    for (int64_t i = 0; i < n; i++) ((double *)p)[i] = er_load_f64(t->data, t->dtype, (size_t)i);
  }
  return p;
}
/* Buffer in compute type for output t (t's own memory when types agree). */
static inline void *cv_stage_out(er_tensor *t, int ct, char **sp) {
  if (!t) return 0;
  if (t->dtype == ct) return t->data;
  return cv_take(sp, (size_t)er_tensor_numel(t) * cv_csize(ct));
}
/* Convert a staged output back into t (no-op when it was t's own memory). */
static inline void cv_unstage_out(er_tensor *t, int ct, const void *buf) {
  if (!t || buf == t->data) return;
  int64_t n = er_tensor_numel(t);
  if (ct == ER_F32) {
    const float *f = (const float *)buf;
    if (t->dtype == ER_F16) {
      for (int64_t i = 0; i < n; i++) ((uint16_t *)t->data)[i] = er_f32_to_f16(f[i]);
    } else if (t->dtype == ER_BF16) {
      for (int64_t i = 0; i < n; i++) ((uint16_t *)t->data)[i] = er_f32_to_bf16(f[i]);
    } else {
      for (int64_t i = 0; i < n; i++) er_store_f64(t->data, t->dtype, (size_t)i, (double)f[i]);
    }
  } else {
    for (int64_t i = 0; i < n; i++) er_store_f64(t->data, t->dtype, (size_t)i, ((const double *)buf)[i]);
  }
}

static inline int cv_streq(const char *a, const char *b) { return strcmp(a, b) == 0; }

/* Float dtypes accepted by most ops of this family. */
extern const int cv_float_types[];

/* Fused activation attributes _act, _act_a, _act_b (set by the graph optimizer). */
static inline er_status cv_act_attr(const er_kctx *c, er_act *a) {
  a->kind = (int)er_attr_int(c, "_act", ER_ACT_NONE);
  if (a->kind < ER_ACT_NONE || a->kind > ER_ACT_LEAKYRELU)
    return ER_ERR(ER_UNSUPPORTED, "fused activation _act=%d is unknown", a->kind);
  const float lo = a->kind == ER_ACT_CLIP ? -INFINITY : a->kind == ER_ACT_HARDSIGMOID ? 0.2f
                 : a->kind == ER_ACT_LEAKYRELU ? 0.01f : 0.0f;
  const float hi = a->kind == ER_ACT_CLIP ? INFINITY : a->kind == ER_ACT_HARDSIGMOID ? 0.5f : 0.0f;
  a->a = er_attr_float(c, "_act_a", lo);
  a->b = er_attr_float(c, "_act_b", hi);
  return 0;
}

/* Kernel extents k[0..nsp) of conv weights W (dims 2..), checked against kernel_shape. */
static inline er_status cv_w_kernel(const er_kctx *c, const er_tensor *W, int nsp, int64_t *k) {
  const int64_t *ks;
  const int n = er_attr_ints(c, "kernel_shape", &ks);
  if (n >= 0 && n != nsp) return ER_ERR(ER_INVALID_ARGUMENT, "kernel_shape has %d values, expected %d", n, nsp);
  for (int i = 0; i < nsp; i++) {
    k[i] = W->dims[2 + i];
    if (n >= 0 && ks[i] != k[i])
      return ER_ERR(ER_INVALID_ARGUMENT, "kernel_shape[%d]=%lld does not match W dim %lld", i, (long long)ks[i],
                    (long long)k[i]);
  }
  return 0;
}

/* ---- op entry points defined in conv_pool.c and conv_norm.c ---- */
#define CV_DECL(name) er_status name##_infer(er_kctx *c); er_status name##_run(er_kctx *c);
CV_DECL(cv_avgpool) CV_DECL(cv_maxpool) CV_DECL(cv_lppool)
CV_DECL(cv_gavgpool) CV_DECL(cv_gmaxpool) CV_DECL(cv_glppool)
CV_DECL(cv_maxunpool) CV_DECL(cv_roialign) CV_DECL(cv_maxroipool)
CV_DECL(cv_batchnorm) CV_DECL(cv_instnorm) CV_DECL(cv_layernorm) CV_DECL(cv_groupnorm)
CV_DECL(cv_lrn) CV_DECL(cv_lpnorm) CV_DECL(cv_mvn)
#undef CV_DECL
#endif
