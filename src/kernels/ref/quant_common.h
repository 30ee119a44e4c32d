/*
 * Private helpers shared by the quantized-op files (ops_quant.c: the standard ops and their
 * reference loops; quant_conv.c / quant_gemm.c / quant_ops.c: the fast paths over the q8
 * micro-kernels and the internal ops of kernels/qops.h). Not part of the kernel API.
 */
#ifndef ER_KERNELS_REF_QUANT_COMMON_H
#define ER_KERNELS_REF_QUANT_COMMON_H
#include "kernels/kernel.h"
#include "kernels/q8.h"
#include "kernels/qops.h"

/* Convolution geometry (any spatial rank). channels_last: x is [N, spatial..., C] and the
 * output [N, out..., M]; w is always ONNX's [M, C/group, k...]. */
typedef struct er_qconv_geom {
  int r;                         /* spatial rank */
  int64_t N, C, M, group, ksize, isize, osize;
  int64_t in[ER_MAX_RANK], k[ER_MAX_RANK], out[ER_MAX_RANK];
  int64_t stride[ER_MAX_RANK], dil[ER_MAX_RANK], pad[ER_MAX_RANK]; /* pad = begin pads */
} er_qconv_geom;

er_status er_qconv_geometry(const er_kctx *c, const er_tensor *x, const er_tensor *w, int channels_last,
                            er_qconv_geom *g);
/* Output dims of the convolution (NCHW or NHWC order). */
void er_qconv_out_dims(const er_qconv_geom *g, int channels_last, int64_t *dims);

/* Integer element i of a uint8 / int8 (or any integer) tensor. */
static inline int32_t er_q_ld(const void *p, int t, size_t i) {
  if (t == ER_U8) return ((const uint8_t *)p)[i];
  if (t == ER_I8) return ((const int8_t *)p)[i];
  return (int32_t)er_load_i64(p, t, i);
}

/* Clamp range [lo, hi] of a uint8/int8 output with zero point zp and scale ys, narrowed by
 * the fused activation attributes _act/_act_a/_act_b (Relu: q >= zp; Clip(a, b):
 * rint(a/ys) + zp <= q <= rint(b/ys) + zp). Other activations are an error. */
er_status er_q8_act_bounds(const er_kctx *c, int type, float ys, int32_t zp, int32_t *lo, int32_t *hi);

/* ---- convolution fast paths (quant_conv.c) ----
 * What a run needs besides the geometry: the weight input indices, x's zero point, and
 * for requantizing ops the bias ([M] int32 or NULL), w_scale, x/y scales, y zero point and
 * clamp range (ConvInteger: ws NULL, int32 output). */
typedef struct er_qconv_io {
  int w_idx, wzp_idx;
  int32_t xzp;
  const int32_t *bias;
  const er_tensor *ws;
  float xs, ys;
  int32_t yzp, lo, hi;
} er_qconv_io;
/* infer: request state (packed weights) and scratch when the fast path applies. */
void er_qconv_fast_infer(er_kctx *c, const er_qconv_geom *g, int channels_last, int w_idx);
/* prepare: pack the constant weights (no-op when the fast path does not apply). */
er_status er_qconv_fast_prepare(er_kctx *c, int channels_last, int w_idx, int wzp_idx);
/* run: 1 if done, 0 if the reference loops must run. */
int er_qconv_fast_run(er_kctx *c, const er_qconv_geom *g, int channels_last, const er_qconv_io *io);

/* ---- matrix-product fast path (quant_gemm.c) ----
 * Input indices of A, its scale and zero point, B, its scale and zero point, bias, Y's scale
 * and zero point (-1: absent; MatMulInteger has no scales, bias or Y). */
typedef struct er_qmm_io {
  int a, as, azp, b, bs, bzp, bias, ys, yzp;
} er_qmm_io;
void er_qmm_fast_infer(er_kctx *c, const er_qmm_io *io);
er_status er_qmm_fast_prepare(er_kctx *c, const er_qmm_io *io);
/* 1 if done (lo/hi: clamp range of a requantized output), 0 if the reference must run. */
int er_qmm_fast_run(er_kctx *c, const er_qmm_io *io, int32_t lo, int32_t hi);
/* QGemm (kernels/qops.h) */
er_status er_qgemm_infer(er_kctx *c);
er_status er_qgemm_prepare(er_kctx *c);
er_status er_qgemm_run(er_kctx *c);
/* MatMulQ4 (kernels/qops.h) */
er_status er_matmulq4_infer(er_kctx *c);
er_status er_matmulq4_run(er_kctx *c);
/* QLinearAdd, QLinearGlobalAveragePool (quant_ops.c) */
er_status er_qadd_infer(er_kctx *c);
er_status er_qadd_run(er_kctx *c);
er_status er_qgap_infer(er_kctx *c);
er_status er_qgap_run(er_kctx *c);
er_status er_qcat_infer(er_kctx *c);
er_status er_qcat_run(er_kctx *c);
er_status er_nhwc_maxpool_infer(er_kctx *c);
er_status er_nhwc_maxpool_run(er_kctx *c);
/* QuantizeLinear to channels-last (quant_ops.c) */
er_status er_qlc_infer(er_kctx *c);
er_status er_qlc_run(er_kctx *c);
#endif
