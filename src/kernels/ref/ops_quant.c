/*
 * Quantization ops (default domain):
 *   QuantizeLinear / DequantizeLinear (opsets 10, 13, 19, 21, 23): per-tensor, per-axis and
 *     blocked scales; integer (u8 i8 u16 i16 u4 i4, i32 for dequantize), float8 and float4
 *     quantized types; round half to even with saturation.
 *   DynamicQuantizeLinear (11): uint8, as the ONNX formula.
 *   MatMulInteger, QLinearMatMul, ConvInteger, QLinearConv (10; QLinearMatMul 21 adds
 *     float16/bfloat16 scales): integer products accumulated in int32 (zero points
 *     subtracted first), then for the QLinear ops requantized once per output:
 *     y = saturate(rint(acc * (s_a * s_b / s_y)) + zp_y).
 * 4-bit types are stored unpacked, one element per byte (see base/dtype.h).
 */
#include <math.h>
#include <string.h>

#include "kernels/ref/quant_common.h"

/* ---------------------------------------------------------------- helpers */

static int is_f8(int t) {
  return t == ER_F8E4M3FN || t == ER_F8E4M3FNUZ || t == ER_F8E5M2 || t == ER_F8E5M2FNUZ;
}

/* Saturation range of an integer quantized type; 0 if not one. */
static int int_range(int t, double *lo, double *hi) {
  switch (t) {
    case ER_U8: *lo = 0, *hi = 255; return 1;
    case ER_I8: *lo = -128, *hi = 127; return 1;
    case ER_U16: *lo = 0, *hi = 65535; return 1;
    case ER_I16: *lo = -32768, *hi = 32767; return 1;
    case ER_U4: *lo = 0, *hi = 15; return 1;
    case ER_I4: *lo = -8, *hi = 7; return 1;
    case ER_I32: *lo = -2147483648.0, *hi = 2147483647.0; return 1;
    default: return 0;
  }
}

static double clampd(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

#define ld_int er_q_ld

/* Value of a zero point element as a real number (float8 zero points decode). */
static double zp_value(const er_tensor *zp, size_t i) {
  if (!zp) return 0;
  return er_load_f64(zp->data, zp->dtype, i);
}

/* Round-half-even + saturate to the integer type t. NaN saturates to the type's minimum
 * (as onnxruntime and the ONNX reference). */
static double sat_round(double v, double zp, int t) {
  double lo, hi;
  int_range(t, &lo, &hi);
  if (isnan(v)) return lo;
  return clampd(rint(v) + zp, lo, hi);
}

/* ------------------------------------------- QuantizeLinear granularity */

/* Maps an element index of x to the index of its scale / zero point. */
typedef struct {
  int mode;             /* 0 per-tensor, 1 per-axis, 2 blocked */
  int64_t dim, inner;   /* size of the quantized axis and the product of later dims */
  int64_t block, sdim;  /* blocked: block size and the scale's size along the axis */
} qgran;

static inline size_t q_index(const qgran *g, int64_t i) {
  if (g->mode == 0) return 0;
  int64_t n = i % g->inner, a = (i / g->inner) % g->dim, o = i / (g->inner * g->dim);
  if (g->mode == 1) return (size_t)a;
  return (size_t)((o * g->sdim + a / g->block) * g->inner + n);
}

static er_status q_granularity(const er_kctx *c, const er_tensor *x, const er_tensor *s,
                               const er_tensor *zp, qgran *g) {
  memset(g, 0, sizeof *g);
  int64_t block = c->opset >= 21 ? er_attr_int(c, "block_size", 0) : 0;
  if (block < 0) return ER_ERR(ER_INVALID_ARGUMENT, "block_size must be >= 0, got %lld", (long long)block);
  if (zp) { /* same shape, except that a scalar and a [1] tensor are interchangeable */
    int same = zp->rank == s->rank;
    for (int d = 0; same && d < s->rank; d++) same = zp->dims[d] == s->dims[d];
    if (!same && !(er_tensor_numel(s) == 1 && er_tensor_numel(zp) == 1 && s->rank <= 1 && zp->rank <= 1))
      return ER_ERR(ER_INVALID_ARGUMENT, "zero point and scale shapes differ");
  }
  if (block == 0 && er_tensor_numel(s) == 1 && s->rank <= 1) return 0; /* per-tensor */
  if (c->opset < 13) return ER_ERR(ER_INVALID_ARGUMENT, "scale must be a scalar before opset 13");
  int axis;
  ER_RETURN_IF_ERROR(er_normalize_axis(er_attr_int(c, "axis", 1), x->rank, &axis));
  g->dim = x->dims[axis];
  g->inner = er_shape_numel(x->dims + axis + 1, x->rank - axis - 1);
  if (block == 0) {
    if (s->rank != 1 || s->dims[0] != g->dim)
      return ER_ERR(ER_INVALID_ARGUMENT, "per-axis scale must be 1-D of length %lld (axis %d)",
                    (long long)g->dim, axis);
    g->mode = 1;
    return 0;
  }
  if (s->rank != x->rank) return ER_ERR(ER_INVALID_ARGUMENT, "blocked scale must have the rank of x");
  for (int d = 0; d < x->rank; d++)
    if (d != axis && s->dims[d] != x->dims[d])
      return ER_ERR(ER_INVALID_ARGUMENT, "blocked scale must match x except along axis %d", axis);
  if (s->dims[axis] != (g->dim + block - 1) / block)
    return ER_ERR(ER_INVALID_ARGUMENT, "blocked scale has %lld blocks along axis %d, expected %lld",
                  (long long)s->dims[axis], axis, (long long)((g->dim + block - 1) / block));
  g->mode = 2;
  g->block = block;
  g->sdim = s->dims[axis];
  if (g->inner == 0 || g->dim == 0) g->mode = 0; /* empty tensor */
  return 0;
}

/* ----------------------------------------------------------- QuantizeLinear */

static int quant_out_ok(int t) {
  double lo, hi;
  return (int_range(t, &lo, &hi) && t != ER_I32) || is_f8(t) || t == ER_F4E2M1;
}

static er_status quantize_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 2, 3));
  static const int xt[] = {ER_F32, ER_F16, ER_BF16, ER_I32, 0};
  static const int st[] = {ER_F32, ER_F16, ER_BF16, ER_I32, 0};
  ER_RETURN_IF_ERROR(er_check_type(c, 0, xt));
  ER_RETURN_IF_ERROR(er_check_type(c, 1, st));
  const er_tensor *x = c->in[0], *s = c->in[1], *zp = er_in(c, 2);
  int64_t odt = c->opset >= 21 ? er_attr_int(c, "output_dtype", 0) : 0;
  int out = zp ? zp->dtype : odt ? (int)odt : ER_U8;
  if (zp && odt && odt != zp->dtype)
    return ER_ERR(ER_INVALID_ARGUMENT, "output_dtype %lld differs from the zero point type %s",
                  (long long)odt, er_dtype_name((er_dtype)zp->dtype));
  if (!quant_out_ok(out))
    return ER_ERR(ER_UNSUPPORTED, "cannot quantize to %s", er_dtype_name((er_dtype)out));
  qgran g;
  ER_RETURN_IF_ERROR(q_granularity(c, x, s, zp, &g));
  er_tensor_set_shape(c->out[0], out, x->rank, x->dims);
  return 0;
}

static er_status quantize_run(er_kctx *c) {
  const er_tensor *x = c->in[0], *s = c->in[1], *zp = er_in(c, 2);
  er_tensor *y = c->out[0];
  qgran g;
  ER_RETURN_IF_ERROR(q_granularity(c, x, s, zp, &g));
  int out = y->dtype, sat = c->opset >= 19 ? (int)er_attr_int(c, "saturate", 1) : 1;
  int64_t n = er_tensor_numel(x);
  if (c->mk && c->mk->q8_quantize && x->dtype == ER_F32 && s->dtype == ER_F32 && (out == ER_U8 || out == ER_I8) &&
      g.mode != 2) {
    /* runs of `inner` elements share a scale and zero point (the whole tensor if per-tensor) */
    int32_t lo, hi;
    er_q8_range(out, &lo, &hi);
    int64_t run = g.mode ? g.inner : n, runs = run ? n / run : 0;
    for (int64_t r = 0; r < runs; r++) {
      size_t k = q_index(&g, r * run);
      int32_t z = zp ? ld_int(zp->data, zp->dtype, k) : 0;
      c->mk->q8_quantize(run, (const float *)x->data + r * run, ((const float *)s->data)[k], z, lo, hi, out,
                         (char *)y->data + r * run);
    }
    return 0;
  }
  double lo, hi;
  int is_int = int_range(out, &lo, &hi);
  for (int64_t i = 0; i < n; i++) {
    size_t k = q_index(&g, i);
    double sc = er_load_f64(s->data, s->dtype, k), q;
    /* float inputs divide in float32 (as the reference), int32 inputs in double */
    if (x->dtype == ER_I32) q = er_load_f64(x->data, x->dtype, (size_t)i) / sc;
    else q = (float)er_load_f64(x->data, x->dtype, (size_t)i) / (float)sc;
    double z = zp_value(zp, k);
    if (is_int) {
      er_store_i64(y->data, out, (size_t)i, (int64_t)sat_round(q, z, out));
    } else if (out == ER_F4E2M1) {
      ((uint8_t *)y->data)[i] = er_f32_to_f4e2m1((float)(q + z));
    } else {
      ((uint8_t *)y->data)[i] = er_f32_to_f8((float)(q + z), out, sat);
    }
  }
  return 0;
}

/* --------------------------------------------------------- DequantizeLinear */

static er_status dequantize_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 2, 3));
  static const int xt[] = {ER_U8, ER_I8, ER_U16, ER_I16, ER_I32, ER_U4, ER_I4, ER_F8E4M3FN,
                           ER_F8E4M3FNUZ, ER_F8E5M2, ER_F8E5M2FNUZ, ER_F4E2M1, 0};
  static const int st[] = {ER_F32, ER_F16, ER_BF16, 0};
  ER_RETURN_IF_ERROR(er_check_type(c, 0, xt));
  ER_RETURN_IF_ERROR(er_check_type(c, 1, st));
  const er_tensor *x = c->in[0], *s = c->in[1], *zp = er_in(c, 2);
  if (zp && zp->dtype != x->dtype)
    return ER_ERR(ER_INVALID_ARGUMENT, "zero point type %s differs from x type %s",
                  er_dtype_name((er_dtype)zp->dtype), er_dtype_name((er_dtype)x->dtype));
  if (c->opset < 19 && s->dtype != ER_F32)
    return ER_ERR(ER_INVALID_ARGUMENT, "scale must be float32 before opset 19");
  int out = s->dtype;
  int64_t odt = c->opset >= 23 ? er_attr_int(c, "output_dtype", 0) : 0;
  if (odt) {
    if (odt != ER_F32 && odt != ER_F16 && odt != ER_BF16)
      return ER_ERR(ER_UNSUPPORTED, "unsupported output_dtype %lld", (long long)odt);
    out = (int)odt;
  }
  qgran g;
  ER_RETURN_IF_ERROR(q_granularity(c, x, s, zp, &g));
  er_tensor_set_shape(c->out[0], out, x->rank, x->dims);
  return 0;
}

static er_status dequantize_run(er_kctx *c) {
  const er_tensor *x = c->in[0], *s = c->in[1], *zp = er_in(c, 2);
  er_tensor *y = c->out[0];
  qgran g;
  ER_RETURN_IF_ERROR(q_granularity(c, x, s, zp, &g));
  int64_t n = er_tensor_numel(x);
  int xf = er_dtype_is_float(x->dtype);
  if (c->mk && c->mk->q8_dequantize && (x->dtype == ER_U8 || x->dtype == ER_I8) && s->dtype == ER_F32 &&
      y->dtype == ER_F32 && g.mode != 2) {
    int64_t run = g.mode ? g.inner : n, runs = run ? n / run : 0;
    for (int64_t r = 0; r < runs; r++) {
      size_t k = q_index(&g, r * run);
      int32_t z = zp ? ld_int(zp->data, zp->dtype, k) : 0;
      c->mk->q8_dequantize(run, (const char *)x->data + r * run, x->dtype == ER_I8, z, ((const float *)s->data)[k],
                           (float *)y->data + r * run);
    }
    return 0;
  }
  for (int64_t i = 0; i < n; i++) {
    size_t k = q_index(&g, i);
    float d;
    if (xf) {
      d = (float)er_load_f64(x->data, x->dtype, (size_t)i) - (float)zp_value(zp, k);
    } else {
      int64_t zi = zp ? er_load_i64(zp->data, zp->dtype, k) : 0;
      d = (float)(er_load_i64(x->data, x->dtype, (size_t)i) - zi);
    }
    float v = d * (float)er_load_f64(s->data, s->dtype, k);
    if (y->dtype == ER_F32) ((float *)y->data)[i] = v;
    else er_store_f64(y->data, y->dtype, (size_t)i, v);
  }
  return 0;
}

/* ---------------------------------------------------- DynamicQuantizeLinear */

static er_status dynq_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  static const int xt[] = {ER_F32, 0};
  ER_RETURN_IF_ERROR(er_check_type(c, 0, xt));
  if (c->n_out < 1 || !c->out[0]) return ER_ERR(ER_INVALID_MODEL, "output y is required");
  er_tensor_set_shape(c->out[0], ER_U8, c->in[0]->rank, c->in[0]->dims);
  if (er_out(c, 1)) er_tensor_set_shape(c->out[1], ER_F32, 0, 0);
  if (er_out(c, 2)) er_tensor_set_shape(c->out[2], ER_U8, 0, 0);
  return 0;
}

static er_status dynq_run(er_kctx *c) {
  const er_tensor *x = c->in[0];
  const float *xp = (const float *)x->data;
  int64_t n = er_tensor_numel(x);
  float mn = 0, mx = 0; /* the range always includes 0 */
  if (c->mk && c->mk->f32_minmax) {
    c->mk->f32_minmax(n, xp, &mn, &mx);
  } else {
    for (int64_t i = 0; i < n; i++) {
      if (xp[i] < mn) mn = xp[i];
      if (xp[i] > mx) mx = xp[i];
    }
  }
  /* an all-zero input gets scale 1 (as onnxruntime; any scale gives y = 0, zp = 0) */
  float scale = mx == mn ? 1.0f : (mx - mn) / 255.0f;
  float zpf = 0.0f - mn / scale;
  zpf = zpf < 0 ? 0 : zpf > 255 ? 255 : zpf;
  float zp = rintf(zpf);
  uint8_t *y = (uint8_t *)c->out[0]->data;
  if (c->mk && c->mk->q8_quantize) {
    c->mk->q8_quantize(n, xp, scale, (int32_t)zp, 0, 255, ER_U8, y);
  } else {
    for (int64_t i = 0; i < n; i++) {
      float v = rintf(xp[i] / scale) + zp;
      if (isnan(v)) v = 0;
      y[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
  }
  if (er_out(c, 1)) *(float *)c->out[1]->data = scale;
  if (er_out(c, 2)) *(uint8_t *)c->out[2]->data = (uint8_t)zp;
  return 0;
}

/* ------------------------------------------------ batched integer matmul */

/* numpy matmul geometry: A [..., M, K] x B [..., K, N] (1-D operands promoted). */
typedef struct {
  int64_t M, K, N;
  int brank;                  /* rank of the broadcast batch shape */
  int64_t bdims[ER_MAX_RANK]; /* broadcast batch dims */
  int64_t astr[ER_MAX_RANK], bstr[ER_MAX_RANK]; /* batch strides in matrices (0 = broadcast) */
  int64_t abatch, bbatch;     /* number of matrices in A and B */
  int out_rank;
  int64_t out_dims[ER_MAX_RANK];
} mm_geom;

static er_status mm_geometry(const er_tensor *a, const er_tensor *b, mm_geom *g) {
  memset(g, 0, sizeof *g);
  if (a->rank < 1 || b->rank < 1) return ER_ERR(ER_INVALID_ARGUMENT, "matmul operands must be at least 1-D");
  int ar = a->rank, br = b->rank;
  g->M = ar == 1 ? 1 : a->dims[ar - 2];
  g->K = a->dims[ar - 1];
  int64_t kb = br == 1 ? b->dims[0] : b->dims[br - 2];
  g->N = br == 1 ? 1 : b->dims[br - 1];
  if (kb != g->K)
    return ER_ERR(ER_INVALID_ARGUMENT, "inner dimensions differ (%lld vs %lld)", (long long)g->K, (long long)kb);
  int an = ar > 2 ? ar - 2 : 0, bn = br > 2 ? br - 2 : 0;
  g->brank = an > bn ? an : bn;
  g->abatch = er_shape_numel(a->dims, an);
  g->bbatch = er_shape_numel(b->dims, bn);
  int64_t sa = 1, sb = 1;
  for (int d = g->brank - 1; d >= 0; d--) {
    int ia = d - (g->brank - an), ib = d - (g->brank - bn);
    int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
    if (da != db && da != 1 && db != 1)
      return ER_ERR(ER_INVALID_ARGUMENT, "batch dimensions %lld and %lld do not broadcast",
                    (long long)da, (long long)db);
    g->bdims[d] = da == 1 ? db : da;
    g->astr[d] = da == 1 ? 0 : sa;
    g->bstr[d] = db == 1 ? 0 : sb;
    sa *= da;
    sb *= db;
  }
  int r = 0;
  for (int d = 0; d < g->brank; d++) g->out_dims[r++] = g->bdims[d];
  if (ar > 1) g->out_dims[r++] = g->M;
  if (br > 1) g->out_dims[r++] = g->N;
  g->out_rank = r;
  return 0;
}

/* Per-row (A side) or per-column (B side) quantization parameter layout. */
typedef struct {
  int kind; /* 0 absent/scalar, 1 vector over rows/cols, 2 per matrix x rows/cols */
} qvec;

/* zp/scale for A: scalar, [M], or [..., M, 1] with A's batch dims. For B: scalar, [N],
 * or [..., 1, N]. */
static er_status mm_qparam(const er_tensor *t, const er_tensor *op, int64_t len, int64_t batch,
                           const char *what, qvec *q) {
  q->kind = 0;
  if (!t) return 0;
  int64_t n = er_tensor_numel(t);
  if (n == 1) return 0;
  if (t->rank == 1 && n == len) { q->kind = 1; return 0; }
  if (t->rank == op->rank && n == batch * len) { q->kind = 2; return 0; }
  return ER_ERR(ER_INVALID_ARGUMENT, "%s must be a scalar, a %lld-vector or per-matrix", what,
                (long long)len);
}

static inline size_t qv_index(const qvec *q, int64_t mat, int64_t j, int64_t len) {
  return q->kind == 0 ? 0 : q->kind == 1 ? (size_t)j : (size_t)(mat * len + j);
}

/* Calls out(ctx, index, acc, m, n, amat, bmat) per output element. */
typedef struct {
  const er_tensor *a, *b, *azp, *bzp;
  qvec qa, qb;
} mm_args;

typedef void (*mm_sink)(void *ctx, size_t o, int32_t acc, int64_t m, int64_t n, int64_t amat,
                        int64_t bmat);

static void mm_int(const mm_geom *g, const mm_args *p, mm_sink sink, void *ctx) {
  int64_t nbatch = er_shape_numel(g->bdims, g->brank);
  const int at = p->a->dtype, bt = p->b->dtype;
  size_t o = 0;
  for (int64_t bi = 0; bi < nbatch; bi++) {
    int64_t amat = 0, bmat = 0, rem = bi;
    for (int d = g->brank - 1; d >= 0; d--) {
      int64_t idx = rem % g->bdims[d];
      rem /= g->bdims[d];
      amat += idx * g->astr[d];
      bmat += idx * g->bstr[d];
    }
    size_t aoff = (size_t)(amat * g->M * g->K), boff = (size_t)(bmat * g->K * g->N);
    for (int64_t m = 0; m < g->M; m++) {
      int32_t za = p->azp ? ld_int(p->azp->data, p->azp->dtype, qv_index(&p->qa, amat, m, g->M)) : 0;
      for (int64_t n = 0; n < g->N; n++) {
        int32_t zb = p->bzp ? ld_int(p->bzp->data, p->bzp->dtype, qv_index(&p->qb, bmat, n, g->N)) : 0;
        uint32_t acc = 0; /* int32 arithmetic wraps, as in the vector kernels */
        for (int64_t k = 0; k < g->K; k++)
          acc += (uint32_t)((ld_int(p->a->data, at, aoff + (size_t)(m * g->K + k)) - za) *
                            (ld_int(p->b->data, bt, boff + (size_t)(k * g->N + n)) - zb));
        sink(ctx, o++, (int32_t)acc, m, n, amat, bmat);
      }
    }
  }
}

static const int k_i8u8[] = {ER_U8, ER_I8, 0};

static er_status mmi_check(er_kctx *c, mm_geom *g, mm_args *p) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 2, 4));
  ER_RETURN_IF_ERROR(er_check_type(c, 0, k_i8u8));
  ER_RETURN_IF_ERROR(er_check_type(c, 1, k_i8u8));
  memset(p, 0, sizeof *p);
  p->a = c->in[0], p->b = c->in[1], p->azp = er_in(c, 2), p->bzp = er_in(c, 3);
  if (p->azp && p->azp->dtype != p->a->dtype)
    return ER_ERR(ER_INVALID_ARGUMENT, "a_zero_point type must match A");
  if (p->bzp && p->bzp->dtype != p->b->dtype)
    return ER_ERR(ER_INVALID_ARGUMENT, "b_zero_point type must match B");
  ER_RETURN_IF_ERROR(mm_geometry(p->a, p->b, g));
  ER_RETURN_IF_ERROR(mm_qparam(p->azp, p->a, g->M, g->abatch, "a_zero_point", &p->qa));
  ER_RETURN_IF_ERROR(mm_qparam(p->bzp, p->b, g->N, g->bbatch, "b_zero_point", &p->qb));
  return 0;
}

static const er_qmm_io mmi_io = {0, -1, 2, 1, -1, 3, -1, -1, -1};

static er_status mmi_infer(er_kctx *c) {
  mm_geom g;
  mm_args p;
  ER_RETURN_IF_ERROR(mmi_check(c, &g, &p));
  er_tensor_set_shape(c->out[0], ER_I32, g.out_rank, g.out_dims);
  er_qmm_fast_infer(c, &mmi_io);
  return 0;
}

static er_status mmi_prepare(er_kctx *c) { return er_qmm_fast_prepare(c, &mmi_io); }

static void sink_i32(void *ctx, size_t o, int32_t acc, int64_t m, int64_t n, int64_t am, int64_t bm) {
  ((int32_t *)ctx)[o] = acc;
}

static er_status mmi_run(er_kctx *c) {
  mm_geom g;
  mm_args p;
  ER_RETURN_IF_ERROR(mmi_check(c, &g, &p));
  if (er_qmm_fast_run(c, &mmi_io, 0, 0)) return 0;
  mm_int(&g, &p, sink_i32, c->out[0]->data);
  return 0;
}

/* ------------------------------------------------ MatMulIntegerToFloat (com.microsoft) */
/* MatMulIntegerToFloat(A, B, a_scale, b_scale, a_zero_point?, b_zero_point?, bias?), as ONNX
 * Runtime's contrib op: Y = (float)((A - a_zp)(B - b_zp)) * (a_scale * b_scale) + bias, float32
 * (the QDQ pass makes it from MatMulInteger -> Cast -> Mul(a_scale * b_scale) [-> Add(bias)],
 * ONNX Runtime's dynamic quantization). Here: a_scale and a_zero_point scalars, b_scale and
 * b_zero_point scalars or [N], bias [N] (B 2-D); the product rounded once, then the sum. */
typedef struct {
  const float *bs, *bias;
  float as;
  int bper;
  int64_t N;
  float *y;
} mitf_sink_ctx;

static void sink_mitf(void *vctx, size_t o, int32_t acc, int64_t m, int64_t n, int64_t am, int64_t bm) {
  const mitf_sink_ctx *q = (const mitf_sink_ctx *)vctx;
  float v = (float)acc * (q->as * q->bs[q->bper ? n : 0]);
  q->y[o] = q->bias ? v + q->bias[n] : v;
}

static er_status mitf_check(er_kctx *c, mm_geom *g, mm_args *p) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 4, 7));
  static const int tf[] = {ER_F32, 0};
  ER_RETURN_IF_ERROR(er_check_type(c, 0, k_i8u8));
  ER_RETURN_IF_ERROR(er_check_type(c, 1, k_i8u8));
  ER_RETURN_IF_ERROR(er_check_type(c, 2, tf));
  ER_RETURN_IF_ERROR(er_check_type(c, 3, tf));
  memset(p, 0, sizeof *p);
  p->a = c->in[0], p->b = c->in[1], p->azp = er_in(c, 4), p->bzp = er_in(c, 5);
  if ((p->azp && p->azp->dtype != p->a->dtype) || (p->bzp && p->bzp->dtype != p->b->dtype))
    return ER_ERR(ER_INVALID_ARGUMENT, "zero point types must match A and B");
  if (p->b->rank != 2) return ER_ERR(ER_UNSUPPORTED, "B must be 2-D, got rank %d", p->b->rank);
  ER_RETURN_IF_ERROR(mm_geometry(p->a, p->b, g));
  if (er_tensor_numel(c->in[2]) != 1 || (p->azp && er_tensor_numel(p->azp) != 1))
    return ER_ERR(ER_UNSUPPORTED, "a_scale and a_zero_point must be scalars");
  ER_RETURN_IF_ERROR(mm_qparam(p->bzp, p->b, g->N, g->bbatch, "b_zero_point", &p->qb));
  const er_tensor *bs = c->in[3], *bias = er_in(c, 6);
  if (er_tensor_numel(bs) != 1 && !(bs->rank == 1 && bs->dims[0] == g->N))
    return ER_ERR(ER_INVALID_ARGUMENT, "b_scale must be a scalar or a %lld-vector", (long long)g->N);
  if (bias) {
    ER_RETURN_IF_ERROR(er_check_type(c, 6, tf));
    if (bias->rank != 1 || bias->dims[0] != g->N)
      return ER_ERR(ER_INVALID_ARGUMENT, "bias must be float [%lld]", (long long)g->N);
  }
  return 0;
}

static const er_qmm_io mitf_io = {0, 2, 4, 1, 3, 5, 6, -1, -1};

static er_status mitf_infer(er_kctx *c) {
  mm_geom g;
  mm_args p;
  ER_RETURN_IF_ERROR(mitf_check(c, &g, &p));
  er_tensor_set_shape(c->out[0], ER_F32, g.out_rank, g.out_dims);
  er_qmm_fast_infer(c, &mitf_io);
  return 0;
}

static er_status mitf_prepare(er_kctx *c) { return er_qmm_fast_prepare(c, &mitf_io); }

static er_status mitf_run(er_kctx *c) {
  mm_geom g;
  mm_args p;
  ER_RETURN_IF_ERROR(mitf_check(c, &g, &p));
  if (er_qmm_fast_run(c, &mitf_io, 0, 0)) return 0;
  mitf_sink_ctx q = {(const float *)c->in[3]->data, er_in(c, 6) ? (const float *)c->in[6]->data : NULL,
                     ((const float *)c->in[2]->data)[0], er_tensor_numel(c->in[3]) > 1, g.N,
                     (float *)c->out[0]->data};
  mm_int(&g, &p, sink_mitf, &q);
  return 0;
}

/* ------------------------------------------------------------ QLinearMatMul */

typedef struct {
  const er_tensor *as, *bs, *ys, *yzp;
  qvec qa, qb;
  int64_t M, N;
  float ys_v;
  int32_t yzp_v;
  void *out;
  int out_t;
} qmm_sink_ctx;

static void sink_qmm(void *vctx, size_t o, int32_t acc, int64_t m, int64_t n, int64_t am, int64_t bm) {
  qmm_sink_ctx *q = (qmm_sink_ctx *)vctx;
  float sa = (float)er_load_f64(q->as->data, q->as->dtype, qv_index(&q->qa, am, m, q->M));
  float sb = (float)er_load_f64(q->bs->data, q->bs->dtype, qv_index(&q->qb, bm, n, q->N));
  float mult = sa * sb / q->ys_v;
  int32_t lo, hi;
  er_q8_range(q->out_t, &lo, &hi);
  er_store_i64(q->out, q->out_t, o, er_q8_requant(acc, mult, q->yzp_v, lo, hi));
}

static er_status qmm_check(er_kctx *c, mm_geom *g, mm_args *p, qmm_sink_ctx *q) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 8, 8));
  static const int st[] = {ER_F32, ER_F16, ER_BF16, 0};
  ER_RETURN_IF_ERROR(er_check_type(c, 0, k_i8u8));
  ER_RETURN_IF_ERROR(er_check_type(c, 3, k_i8u8));
  ER_RETURN_IF_ERROR(er_check_type(c, 7, k_i8u8));
  static const int scales[] = {1, 4, 6};
  for (int j = 0; j < 3; j++) {
    ER_RETURN_IF_ERROR(er_check_type(c, scales[j], st));
    if (c->opset < 21 && c->in[scales[j]]->dtype != ER_F32)
      return ER_ERR(ER_INVALID_ARGUMENT, "scales must be float32 before opset 21");
  }
  memset(p, 0, sizeof *p);
  memset(q, 0, sizeof *q);
  p->a = c->in[0], p->azp = c->in[2], p->b = c->in[3], p->bzp = c->in[5];
  q->as = c->in[1], q->bs = c->in[4], q->ys = c->in[6], q->yzp = c->in[7];
  if (p->azp->dtype != p->a->dtype || p->bzp->dtype != p->b->dtype)
    return ER_ERR(ER_INVALID_ARGUMENT, "zero point types must match their operands");
  ER_RETURN_IF_ERROR(mm_geometry(p->a, p->b, g));
  ER_RETURN_IF_ERROR(mm_qparam(p->azp, p->a, g->M, g->abatch, "a_zero_point", &p->qa));
  ER_RETURN_IF_ERROR(mm_qparam(p->bzp, p->b, g->N, g->bbatch, "b_zero_point", &p->qb));
  ER_RETURN_IF_ERROR(mm_qparam(q->as, p->a, g->M, g->abatch, "a_scale", &q->qa));
  ER_RETURN_IF_ERROR(mm_qparam(q->bs, p->b, g->N, g->bbatch, "b_scale", &q->qb));
  if (q->qa.kind != p->qa.kind && er_tensor_numel(p->azp) != 1)
    return ER_ERR(ER_INVALID_ARGUMENT, "a_scale and a_zero_point granularity differ");
  if (q->qb.kind != p->qb.kind && er_tensor_numel(p->bzp) != 1)
    return ER_ERR(ER_INVALID_ARGUMENT, "b_scale and b_zero_point granularity differ");
  if (er_tensor_numel(q->ys) != 1 || er_tensor_numel(q->yzp) != 1)
    return ER_ERR(ER_UNSUPPORTED, "y_scale and y_zero_point must be per-tensor");
  q->M = g->M, q->N = g->N;
  return 0;
}

static const er_qmm_io qmm_io = {0, 1, 2, 3, 4, 5, -1, 6, 7};

static er_status qmm_infer(er_kctx *c) {
  mm_geom g;
  mm_args p;
  qmm_sink_ctx q;
  ER_RETURN_IF_ERROR(qmm_check(c, &g, &p, &q));
  er_tensor_set_shape(c->out[0], q.yzp->dtype, g.out_rank, g.out_dims);
  er_qmm_fast_infer(c, &qmm_io);
  return 0;
}

static er_status qmm_prepare(er_kctx *c) { return er_qmm_fast_prepare(c, &qmm_io); }

static er_status qmm_run(er_kctx *c) {
  mm_geom g;
  mm_args p;
  qmm_sink_ctx q;
  ER_RETURN_IF_ERROR(qmm_check(c, &g, &p, &q));
  int32_t lo, hi;
  er_q8_range(c->out[0]->dtype, &lo, &hi);
  if (er_qmm_fast_run(c, &qmm_io, lo, hi)) return 0;
  q.ys_v = (float)er_load_f64(q.ys->data, q.ys->dtype, 0);
  q.yzp_v = ld_int(q.yzp->data, q.yzp->dtype, 0);
  q.out = c->out[0]->data;
  q.out_t = c->out[0]->dtype;
  mm_int(&g, &p, sink_qmm, &q);
  return 0;
}

/* ------------------------------------------------------- integer convolution */

er_status er_qconv_geometry(const er_kctx *c, const er_tensor *x, const er_tensor *w, int channels_last,
                            er_qconv_geom *g) {
  memset(g, 0, sizeof *g);
  if (x->rank < 3) return ER_ERR(ER_INVALID_ARGUMENT, "x must have rank >= 3, got %d", x->rank);
  if (w->rank != x->rank) return ER_ERR(ER_INVALID_ARGUMENT, "w rank %d differs from x rank %d", w->rank, x->rank);
  int r = g->r = x->rank - 2;
  g->N = x->dims[0], g->C = channels_last ? x->dims[x->rank - 1] : x->dims[1], g->M = w->dims[0];
  g->group = er_attr_int(c, "group", 1);
  if (g->group <= 0 || g->C % g->group || g->M % g->group)
    return ER_ERR(ER_INVALID_ARGUMENT, "group %lld does not divide channels %lld / filters %lld",
                  (long long)g->group, (long long)g->C, (long long)g->M);
  if (w->dims[1] * g->group != g->C)
    return ER_ERR(ER_INVALID_ARGUMENT, "w has %lld input channels, expected %lld",
                  (long long)w->dims[1], (long long)(g->C / g->group));
  const int64_t *ks = 0, *st = 0, *dl = 0, *pd = 0;
  int nks = er_attr_ints(c, "kernel_shape", &ks), nst = er_attr_ints(c, "strides", &st);
  int ndl = er_attr_ints(c, "dilations", &dl), npd = er_attr_ints(c, "pads", &pd);
  if ((nks >= 0 && nks != r) || (nst >= 0 && nst != r) || (ndl >= 0 && ndl != r) ||
      (npd >= 0 && npd != 2 * r))
    return ER_ERR(ER_INVALID_ARGUMENT, "kernel_shape/strides/dilations/pads do not match spatial rank %d", r);
  const char *ap = er_attr_str(c, "auto_pad", "NOTSET");
  int mode = !strcmp(ap, "NOTSET") ? 0 : !strcmp(ap, "VALID") ? 1 : !strcmp(ap, "SAME_UPPER") ? 2
           : !strcmp(ap, "SAME_LOWER") ? 3 : -1;
  if (mode < 0) return ER_ERR(ER_INVALID_ARGUMENT, "bad auto_pad '%s'", ap);
  g->isize = g->ksize = g->osize = 1;
  for (int d = 0; d < r; d++) {
    g->in[d] = x->dims[(channels_last ? 1 : 2) + d];
    g->k[d] = w->dims[2 + d];
    if (nks >= 0 && ks[d] != g->k[d])
      return ER_ERR(ER_INVALID_ARGUMENT, "kernel_shape does not match w");
    g->stride[d] = nst >= 0 ? st[d] : 1;
    g->dil[d] = ndl >= 0 ? dl[d] : 1;
    if (g->stride[d] <= 0 || g->dil[d] <= 0)
      return ER_ERR(ER_INVALID_ARGUMENT, "strides and dilations must be positive");
    int64_t dk = (g->k[d] - 1) * g->dil[d] + 1, pb = 0, pe = 0;
    if (mode == 0 && npd >= 0) pb = pd[d], pe = pd[d + r];
    if (pb < 0 || pe < 0) return ER_ERR(ER_INVALID_ARGUMENT, "pads must be >= 0");
    if (mode >= 2) {
      int64_t o = (g->in[d] + g->stride[d] - 1) / g->stride[d];
      int64_t total = (o - 1) * g->stride[d] + dk - g->in[d];
      if (total < 0) total = 0;
      pb = mode == 2 ? total / 2 : total - total / 2;
      pe = total - pb;
    }
    int64_t span = g->in[d] + pb + pe - dk;
    if (span < 0) return ER_ERR(ER_INVALID_ARGUMENT, "kernel larger than padded input");
    g->out[d] = span / g->stride[d] + 1;
    g->pad[d] = pb;
    g->isize *= g->in[d], g->ksize *= g->k[d], g->osize *= g->out[d];
  }
  return 0;
}

void er_qconv_out_dims(const er_qconv_geom *g, int channels_last, int64_t *dims) {
  dims[0] = g->N;
  dims[channels_last ? g->r + 1 : 1] = g->M;
  for (int d = 0; d < g->r; d++) dims[(channels_last ? 1 : 2) + d] = g->out[d];
}

/* Integer convolution; sink(ctx, out_index, acc, m) per output element. The kernel offset
 * table koff (ksize * r int64) comes from scratch. cl: channels-last x and output. */
typedef void (*conv_sink)(void *ctx, size_t o, int32_t acc, int64_t m);

static void conv_int(const er_qconv_geom *g, int cl, const er_tensor *x, int32_t xzp, const er_tensor *w,
                     const er_tensor *wzp, int64_t *koff, conv_sink sink, void *ctx) {
  const int r = g->r;
  const int64_t Cg = g->C / g->group, Mg = g->M / g->group;
  for (int64_t kk = 0; kk < g->ksize; kk++) {
    int64_t rem = kk;
    for (int d = r - 1; d >= 0; d--) koff[kk * r + d] = (rem % g->k[d]) * g->dil[d], rem /= g->k[d];
  }
  int wzp_per_m = wzp && er_tensor_numel(wzp) > 1;
  for (int64_t n = 0; n < g->N; n++)
    for (int64_t m = 0; m < g->M; m++) {
      int64_t grp = m / Mg;
      int32_t zw = wzp ? ld_int(wzp->data, wzp->dtype, wzp_per_m ? (size_t)m : 0) : 0;
      int64_t oc[ER_MAX_RANK] = {0};
      for (int64_t op = 0; op < g->osize; op++) {
        int64_t base[ER_MAX_RANK];
        for (int d = 0; d < r; d++) base[d] = oc[d] * g->stride[d] - g->pad[d];
        uint32_t acc = 0; /* int32 arithmetic wraps, as in the vector kernels */
        for (int64_t kk = 0; kk < g->ksize; kk++) {
          int64_t xi = 0, ok = 1;
          for (int d = 0; d < r; d++) {
            int64_t p = base[d] + koff[kk * r + d];
            if (p < 0 || p >= g->in[d]) { ok = 0; break; }
            xi = xi * g->in[d] + p;
          }
          if (!ok) continue; /* padding holds the zero point: contributes 0 */
          for (int64_t cc = 0; cc < Cg; cc++) {
            int64_t ch = grp * Cg + cc;
            size_t xo = (size_t)(cl ? (n * g->isize + xi) * g->C + ch : (n * g->C + ch) * g->isize + xi);
            size_t wo = (size_t)((m * Cg + cc) * g->ksize + kk);
            acc += (uint32_t)((ld_int(x->data, x->dtype, xo) - xzp) * (ld_int(w->data, w->dtype, wo) - zw));
          }
        }
        size_t o = (size_t)(cl ? (n * g->osize + op) * g->M + m : (n * g->M + m) * g->osize + op);
        sink(ctx, o, (int32_t)acc, m);
        for (int d = r - 1; d >= 0; d--) { /* next output position */
          if (++oc[d] < g->out[d]) break;
          oc[d] = 0;
        }
      }
    }
}

static er_status check_zp_channels(const er_tensor *wzp, int64_t M, const char *what) {
  if (!wzp) return 0;
  int64_t n = er_tensor_numel(wzp);
  if (n != 1 && !(wzp->rank == 1 && n == M))
    return ER_ERR(ER_INVALID_ARGUMENT, "%s must be a scalar or a %lld-vector", what, (long long)M);
  return 0;
}

static size_t conv_ref_scratch(const er_qconv_geom *g) { return (size_t)(g->ksize * g->r) * sizeof(int64_t); }

/* ConvInteger: x, w, x_zero_point?, w_zero_point? -> int32 */
static er_status convi_check(er_kctx *c, er_qconv_geom *g) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 2, 4));
  ER_RETURN_IF_ERROR(er_check_type(c, 0, k_i8u8));
  ER_RETURN_IF_ERROR(er_check_type(c, 1, k_i8u8));
  const er_tensor *xzp = er_in(c, 2), *wzp = er_in(c, 3);
  if (xzp && (xzp->dtype != c->in[0]->dtype || er_tensor_numel(xzp) != 1))
    return ER_ERR(ER_INVALID_ARGUMENT, "x_zero_point must be a scalar of x's type");
  if (wzp && wzp->dtype != c->in[1]->dtype)
    return ER_ERR(ER_INVALID_ARGUMENT, "w_zero_point must have w's type");
  ER_RETURN_IF_ERROR(er_qconv_geometry(c, c->in[0], c->in[1], 0, g));
  return check_zp_channels(wzp, g->M, "w_zero_point");
}

static er_status convi_infer(er_kctx *c) {
  er_qconv_geom g;
  ER_RETURN_IF_ERROR(convi_check(c, &g));
  int64_t dims[ER_MAX_RANK];
  er_qconv_out_dims(&g, 0, dims);
  er_tensor_set_shape(c->out[0], ER_I32, g.r + 2, dims);
  c->scratch_bytes = conv_ref_scratch(&g);
  er_qconv_fast_infer(c, &g, 0, 1);
  return 0;
}

static er_status convi_prepare(er_kctx *c) { return er_qconv_fast_prepare(c, 0, 1, 3); }

static void sink_conv_i32(void *ctx, size_t o, int32_t acc, int64_t m) { ((int32_t *)ctx)[o] = acc; }

static er_status convi_run(er_kctx *c) {
  er_qconv_geom g;
  ER_RETURN_IF_ERROR(convi_check(c, &g));
  const er_tensor *xzp = er_in(c, 2);
  int32_t zx = xzp ? ld_int(xzp->data, xzp->dtype, 0) : 0;
  er_qconv_io io = {1, 3, zx};
  if (er_qconv_fast_run(c, &g, 0, &io)) return 0;
  if (c->scratch_bytes < conv_ref_scratch(&g)) return ER_ERR(ER_INTERNAL, "ConvInteger scratch too small");
  conv_int(&g, 0, c->in[0], zx, c->in[1], er_in(c, 3), (int64_t *)c->scratch, sink_conv_i32,
           c->out[0]->data);
  return 0;
}

er_status er_q8_act_bounds(const er_kctx *c, int type, float ys, int32_t zp, int32_t *lo, int32_t *hi) {
  er_q8_range(type, lo, hi);
  int act = (int)er_attr_int(c, "_act", ER_ACT_NONE);
  if (act == ER_ACT_NONE) return 0;
  float a = 0, b = INFINITY;
  if (act == ER_ACT_CLIP) {
    a = er_attr_float(c, "_act_a", -INFINITY);
    b = er_attr_float(c, "_act_b", INFINITY);
  } else if (act != ER_ACT_RELU) {
    return ER_ERR(ER_UNSUPPORTED, "fused activation _act=%d on a quantized op (Relu and Clip only)", act);
  }
  /* q = rint(v / ys) + zp is monotonic in v, so clamping v to [a, b] clamps q to these */
  double qa = isnan(a) ? -INFINITY : rint((double)(a / ys)) + zp, qb = isnan(b) ? INFINITY : rint((double)(b / ys)) + zp;
  if (qa > *lo) *lo = qa > *hi ? *hi : (int32_t)qa;
  if (qb < *hi) *hi = qb < *lo ? *lo : (int32_t)qb;
  return 0;
}

/* QLinearConv: x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B?  (NhwcQLinearConv: the
 * same with channels-last x and y) */
typedef struct {
  const er_tensor *ws;
  const int32_t *bias;
  float xs, ys;
  int ws_per_m;
  int32_t yzp, lo, hi;
  void *out;
  int out_t;
} qconv_sink_ctx;

static void sink_qconv(void *vctx, size_t o, int32_t acc, int64_t m) {
  qconv_sink_ctx *q = (qconv_sink_ctx *)vctx;
  if (q->bias) acc = er_q8_add_wrap(acc, q->bias[m]);
  float wsc = (float)er_load_f64(q->ws->data, q->ws->dtype, q->ws_per_m ? (size_t)m : 0);
  float mult = q->xs * wsc / q->ys;
  int32_t y = er_q8_requant(acc, mult, q->yzp, q->lo, q->hi);
  if (q->out_t == ER_U8) ((uint8_t *)q->out)[o] = (uint8_t)y;
  else ((int8_t *)q->out)[o] = (int8_t)y;
}

static int is_cl(const er_kctx *c) { return c->node && c->node->domain && !strcmp(c->node->domain, ER_DOMAIN_EDGERUN); }

static er_status qconv_check(er_kctx *c, er_qconv_geom *g) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 8, 9));
  static const int st[] = {ER_F32, 0};
  static const int bt[] = {ER_I32, 0};
  ER_RETURN_IF_ERROR(er_check_type(c, 0, k_i8u8));
  ER_RETURN_IF_ERROR(er_check_type(c, 3, k_i8u8));
  ER_RETURN_IF_ERROR(er_check_type(c, 7, k_i8u8));
  ER_RETURN_IF_ERROR(er_check_type(c, 1, st));
  ER_RETURN_IF_ERROR(er_check_type(c, 4, st));
  ER_RETURN_IF_ERROR(er_check_type(c, 6, st));
  const er_tensor *xzp = c->in[2], *wzp = c->in[5];
  if (xzp->dtype != c->in[0]->dtype || wzp->dtype != c->in[3]->dtype)
    return ER_ERR(ER_INVALID_ARGUMENT, "zero point types must match x and w");
  if (er_tensor_numel(c->in[1]) != 1 || er_tensor_numel(xzp) != 1)
    return ER_ERR(ER_INVALID_ARGUMENT, "x_scale and x_zero_point must be scalars");
  if (er_tensor_numel(c->in[6]) != 1 || er_tensor_numel(c->in[7]) != 1)
    return ER_ERR(ER_INVALID_ARGUMENT, "y_scale and y_zero_point must be scalars");
  int cl = is_cl(c);
  if (cl && (c->in[0]->rank < 3 || c->in[0]->rank > 4))
    return ER_ERR(ER_INVALID_ARGUMENT, "channels-last x must have rank 3 or 4, got %d", c->in[0]->rank);
  ER_RETURN_IF_ERROR(er_qconv_geometry(c, c->in[0], c->in[3], cl, g));
  ER_RETURN_IF_ERROR(check_zp_channels(c->in[4], g->M, "w_scale"));
  ER_RETURN_IF_ERROR(check_zp_channels(wzp, g->M, "w_zero_point"));
  const er_tensor *B = er_in(c, 8);
  if (B) {
    ER_RETURN_IF_ERROR(er_check_type(c, 8, bt));
    if (B->rank != 1 || B->dims[0] != g->M)
      return ER_ERR(ER_INVALID_ARGUMENT, "B must be 1-D of length %lld", (long long)g->M);
  }
  return 0;
}

static er_status qconv_infer(er_kctx *c) {
  er_qconv_geom g;
  ER_RETURN_IF_ERROR(qconv_check(c, &g));
  int cl = is_cl(c);
  int64_t dims[ER_MAX_RANK];
  er_qconv_out_dims(&g, cl, dims);
  er_tensor_set_shape(c->out[0], c->in[7]->dtype, g.r + 2, dims);
  int32_t lo, hi;
  if (er_in_known(c, 6) && er_in_known(c, 7))
    ER_RETURN_IF_ERROR(er_q8_act_bounds(c, c->in[7]->dtype, ((const float *)c->in[6]->data)[0],
                                        ld_int(c->in[7]->data, c->in[7]->dtype, 0), &lo, &hi));
  c->scratch_bytes = conv_ref_scratch(&g);
  er_qconv_fast_infer(c, &g, cl, 3);
  return 0;
}

static er_status qconv_prepare(er_kctx *c) { return er_qconv_fast_prepare(c, is_cl(c), 3, 5); }

static er_status qconv_run(er_kctx *c) {
  er_qconv_geom g;
  ER_RETURN_IF_ERROR(qconv_check(c, &g));
  int cl = is_cl(c);
  er_qconv_io io = {3, 5};
  io.xzp = ld_int(c->in[2]->data, c->in[2]->dtype, 0);
  io.bias = er_in(c, 8) ? (const int32_t *)c->in[8]->data : NULL;
  io.ws = c->in[4];
  io.xs = ((const float *)c->in[1]->data)[0];
  io.ys = ((const float *)c->in[6]->data)[0];
  io.yzp = ld_int(c->in[7]->data, c->in[7]->dtype, 0);
  ER_RETURN_IF_ERROR(er_q8_act_bounds(c, c->out[0]->dtype, io.ys, io.yzp, &io.lo, &io.hi));
  if (er_qconv_fast_run(c, &g, cl, &io)) return 0;
  if (c->scratch_bytes < conv_ref_scratch(&g)) return ER_ERR(ER_INTERNAL, "QLinearConv scratch too small");
  qconv_sink_ctx q = {io.ws, io.bias, io.xs, io.ys, er_tensor_numel(io.ws) > 1, io.yzp, io.lo, io.hi,
                      c->out[0]->data, c->out[0]->dtype};
  conv_int(&g, cl, c->in[0], io.xzp, c->in[3], c->in[5], (int64_t *)c->scratch, sink_qconv, &q);
  return 0;
}

const er_op_def er_ops_quant[] = {
    ER_OPDEF(QuantizeLinear, {"QuantizeLinear", "", 10, 0, quantize_infer, quantize_run, 0})
    ER_OPDEF(DequantizeLinear, {"DequantizeLinear", "", 10, 0, dequantize_infer, dequantize_run, 0})
    ER_OPDEF(DynamicQuantizeLinear, {"DynamicQuantizeLinear", "", 11, 0, dynq_infer, dynq_run, 0})
    ER_OPDEF(MatMulInteger, {"MatMulInteger", "", 10, 0, mmi_infer, mmi_run, 0, mmi_prepare})
    ER_OPDEF(QLinearMatMul, {"QLinearMatMul", "", 10, 0, qmm_infer, qmm_run, 0, qmm_prepare})
    ER_OPDEF(ConvInteger, {"ConvInteger", "", 10, 0, convi_infer, convi_run, 0, convi_prepare})
    ER_OPDEF(QLinearConv, {"QLinearConv", "", 10, 0, qconv_infer, qconv_run, 0, qconv_prepare})
    ER_OPDEF(NhwcQLinearConv, {ER_OP_NHWC_QLINEARCONV, ER_DOMAIN_EDGERUN, 1, 0, qconv_infer, qconv_run, 0, qconv_prepare})
    ER_OPDEF(QGemm, {ER_OP_QGEMM, ER_DOMAIN_EDGERUN, 1, 0, er_qgemm_infer, er_qgemm_run, 0, er_qgemm_prepare})
    ER_OPDEF(QLinearAdd, {"QLinearAdd", ER_DOMAIN_EDGERUN, 1, 0, er_qadd_infer, er_qadd_run, 0})
    ER_OPDEF(QLinearAdd, {"QLinearAdd", "com.microsoft", 1, 0, er_qadd_infer, er_qadd_run, 0})
    ER_OPDEF(QLinearGlobalAveragePool, {"QLinearGlobalAveragePool", ER_DOMAIN_EDGERUN, 1, 0, er_qgap_infer, er_qgap_run, 0})
    ER_OPDEF(QLinearGlobalAveragePool, {"QLinearGlobalAveragePool", "com.microsoft", 1, 0, er_qgap_infer, er_qgap_run, 0})
    ER_OPDEF(NhwcMaxPool, {"NhwcMaxPool", "com.microsoft", 1, 0, er_nhwc_maxpool_infer, er_nhwc_maxpool_run, 0})
    ER_OPDEF(QLinearConcat, {"QLinearConcat", ER_DOMAIN_EDGERUN, 1, 0, er_qcat_infer, er_qcat_run, 0})
    ER_OPDEF(QLinearConcat, {"QLinearConcat", "com.microsoft", 1, 0, er_qcat_infer, er_qcat_run, 0})
    ER_OPDEF(MatMulQ4, {ER_OP_MATMULQ4, ER_DOMAIN_EDGERUN, 1, 0, er_matmulq4_infer, er_matmulq4_run, 0})
    ER_OPDEF(QuantizeLinear, {"QuantizeLinear", ER_DOMAIN_EDGERUN, 1, 0, er_qlc_infer, er_qlc_run, 0})
    ER_OPDEF(MatMulIntegerToFloat, {"MatMulIntegerToFloat", "com.microsoft", 1, 0, mitf_infer, mitf_run, 0, mitf_prepare})
    {0},
};
