/*
 * Convolution family: Conv, ConvTranspose, DeformConv, Col2Im (this file), pooling
 * (conv_pool.c) and normalization (conv_norm.c). The op table is at the end.
 *
 * Conv = im2col of a block of output columns into ctx->scratch, then a blocked
 * GEMM whose innermost loop runs over contiguous output columns (vectorizes at
 * -O2). ConvTranspose and Col2Im use the same column walker in scatter mode.
 *
 * A float32 1-D or 2-D Conv with an optimized micro-kernel table (ctx->mk) runs the
 * channels-last NhwcConv kernel on its channels-first tensors (section "float32 fast path"
 * below). Everything else (other dtypes, 3-D, the reference table) uses the template code,
 * which applies the fused activation (_act, _act_a, _act_b) afterwards.
 *
 * The kernel bodies are a template: this file includes itself twice, once with
 * CV_T = float and once with CV_T = double (section "template" at the bottom).
 */
#ifndef CV_T
#include <math.h>
#include "kernels/nhwc.h"
#include "kernels/ref/conv_common.h"

const int cv_float_types[] = {ER_F32, ER_F64, ER_F16, ER_BF16, 0};

/* ceil(a / b) for b > 0 and any sign of a */
static inline int64_t cv_cdiv(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

er_status cv_ints_attr(const er_kctx *c, const char *name, int n, int64_t def, int64_t *out) {
  const int64_t *v;
  int cnt = er_attr_ints(c, name, &v);
  if (cnt < 0) {
    for (int i = 0; i < n; i++) out[i] = def;
    return 0;
  }
  if (cnt != n) return ER_ERR(ER_INVALID_ARGUMENT, "attribute %s has %d values, expected %d", name, cnt, n);
  for (int i = 0; i < n; i++) out[i] = v[i];
  return 0;
}

er_status cv_window(const er_kctx *c, int nsp, const int64_t *in_sp, const int64_t *k_sp, int pool,
                    int use_dil, cv_win *w) {
  if (nsp < 1 || nsp > CV_MAXSP)
    return ER_ERR(ER_UNSUPPORTED, "%d spatial dimensions (1 to %d supported)", nsp, CV_MAXSP);
  int64_t s[3], d[3], p[6];
  ER_RETURN_IF_ERROR(cv_ints_attr(c, "strides", nsp, 1, s));
  if (use_dil)
    ER_RETURN_IF_ERROR(cv_ints_attr(c, "dilations", nsp, 1, d));
  else
    for (int i = 0; i < nsp; i++) d[i] = 1;
  ER_RETURN_IF_ERROR(cv_ints_attr(c, "pads", 2 * nsp, 0, p));
  const char *ap = er_attr_str(c, "auto_pad", "NOTSET");
  int ceil_mode = pool ? (int)er_attr_int(c, "ceil_mode", 0) : 0;
  int mode = cv_streq(ap, "NOTSET") || ap[0] == 0 ? 0 : cv_streq(ap, "VALID") ? 1
           : cv_streq(ap, "SAME_UPPER") ? 2 : cv_streq(ap, "SAME_LOWER") ? 3 : -1;
  if (mode < 0) return ER_ERR(ER_INVALID_ARGUMENT, "unknown auto_pad '%s'", ap);
  w->nsp = nsp;
  for (int i = 0; i < 3; i++) w->in[i] = w->out[i] = w->k[i] = w->s[i] = w->d[i] = 1, w->pb[i] = w->pe[i] = 0;
  for (int i = 0; i < nsp; i++) {
    int j = 3 - nsp + i;
    if (k_sp[i] < 1) return ER_ERR(ER_INVALID_ARGUMENT, "kernel size %lld must be >= 1", (long long)k_sp[i]);
    if (s[i] < 1) return ER_ERR(ER_INVALID_ARGUMENT, "stride %lld must be >= 1", (long long)s[i]);
    if (d[i] < 1) return ER_ERR(ER_INVALID_ARGUMENT, "dilation %lld must be >= 1", (long long)d[i]);
    if (p[i] < 0 || p[i + nsp] < 0) return ER_ERR(ER_INVALID_ARGUMENT, "pads must be >= 0");
    int64_t in = in_sp[i], dk = (k_sp[i] - 1) * d[i] + 1, pb = 0, pe = 0, out;
    if (mode >= 2) {
      out = cv_cdiv(in, s[i]);
      int64_t total = (out - 1) * s[i] + dk - in;
      if (total < 0) total = 0;
      pb = mode == 2 ? total / 2 : total - total / 2;
      pe = total - pb;
    } else {
      if (mode == 0) pb = p[i], pe = p[i + nsp];
      int64_t num = in + pb + pe - dk;
      if (num < 0)
        return ER_ERR(ER_INVALID_ARGUMENT,
                      "window (%lld with dilation) is larger than the padded input (%lld) in spatial dim %d",
                      (long long)dk, (long long)(in + pb + pe), i);
      out = (ceil_mode ? cv_cdiv(num, s[i]) : num / s[i]) + 1;
      /* the last window must start inside the input or the begin padding */
      if (ceil_mode && (out - 1) * s[i] >= in + pb) out--;
    }
    w->in[j] = in, w->out[j] = out, w->k[j] = k_sp[i], w->s[j] = s[i], w->d[j] = d[i];
    w->pb[j] = pb, w->pe[j] = pe;
  }
  return 0;
}

/* Geometry of one convolution-like op, in 3-D form. */
typedef struct cv_conv {
  cv_win w;         /* Conv: in = X spatial, out = Y spatial; ConvTranspose: swapped */
  int64_t N, C, M;  /* batch, input channels, output channels */
  int64_t group, Cg, Mg;
  int64_t ks;       /* kernel elements */
  int64_t Kg;       /* GEMM depth: Cg*ks (Conv) or Cg (ConvTranspose) */
  int64_t inN, outN;/* spatial sizes of X and Y */
  int64_t cw;       /* column-chunk width of the column buffer */
  int64_t rows;     /* rows of the column buffer */
  int pointwise;    /* 1x1, stride 1, no pads: use X directly as GEMM B */
  int64_t offg;     /* DeformConv offset groups */
} cv_conv;

/* Columns per chunk so the column buffer stays near 4 MB (floats). */
static int64_t cv_chunk(int64_t rows, int64_t cols) {
  int64_t lim = ((int64_t)1 << 20) / (rows > 0 ? rows : 1);
  if (cols <= lim) return cols;
  lim &= ~(int64_t)63;
  return lim < 64 ? (cols < 64 ? cols : 64) : lim;
}

enum { GEMM_NB = 64, GEMM_KB = 256 }; /* GEMM column / depth blocks */

#define CV_T float
#define CV(name) name##_f32
#include "kernels/ref/ops_conv.c"
#undef CV_T
#undef CV
#define CV_T double
#define CV(name) name##_f64
#include "kernels/ref/ops_conv.c"
#undef CV_T
#undef CV

/* Check tensor i is present, of dtype `dt`, and rank `rank` (-1: any). */
static er_status cv_check_same(const er_kctx *c, int i, int dt, int rank, const char *what) {
  const er_tensor *t = er_in(c, i);
  if (!t) return ER_ERR(ER_INVALID_MODEL, "input %s is missing", what);
  if (t->dtype != dt)
    return ER_ERR(ER_INVALID_ARGUMENT, "input %s has type %s, expected %s", what,
                  er_dtype_name((er_dtype)t->dtype), er_dtype_name((er_dtype)dt));
  if (rank >= 0 && t->rank != rank)
    return ER_ERR(ER_INVALID_ARGUMENT, "input %s has rank %d, expected %d", what, t->rank, rank);
  return 0;
}

/* Kernel shape from W (dims 2..), checked against the kernel_shape attribute. */
static er_status cv_kernel_shape(const er_kctx *c, const er_tensor *W, int nsp, int64_t *k) {
  for (int i = 0; i < nsp; i++) k[i] = W->dims[2 + i];
  const int64_t *ks;
  int n = er_attr_ints(c, "kernel_shape", &ks);
  if (n >= 0) {
    if (n != nsp) return ER_ERR(ER_INVALID_ARGUMENT, "kernel_shape has %d values, expected %d", n, nsp);
    for (int i = 0; i < nsp; i++)
      if (ks[i] != k[i])
        return ER_ERR(ER_INVALID_ARGUMENT, "kernel_shape[%d]=%lld does not match W dim %lld", i,
                      (long long)ks[i], (long long)k[i]);
  }
  return 0;
}

static size_t cv_stage_all(const er_kctx *c, int ct) {
  size_t b = 0;
  for (int i = 0; i < c->n_in; i++) b += cv_stage_bytes(c->in[i], ct);
  for (int i = 0; i < c->n_out; i++) b += cv_stage_bytes(c->out[i], ct);
  return b;
}

/* ---------------- Conv ---------------- */
static er_status conv_geom(const er_kctx *c, cv_conv *g) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 2, 3));
  ER_RETURN_IF_ERROR(er_check_type(c, 0, cv_float_types));
  const er_tensor *X = c->in[0], *W = c->in[1], *B = er_in(c, 2);
  if (X->rank < 3) return ER_ERR(ER_INVALID_ARGUMENT, "X must have rank >= 3, got %d", X->rank);
  int nsp = X->rank - 2;
  ER_RETURN_IF_ERROR(cv_check_same(c, 1, X->dtype, X->rank, "W"));
  memset(g, 0, sizeof *g);
  g->group = er_attr_int(c, "group", 1);
  g->N = X->dims[0], g->C = X->dims[1], g->M = W->dims[0];
  if (g->group < 1 || g->C % g->group || g->M % g->group || W->dims[1] * g->group != g->C)
    return ER_ERR(ER_INVALID_ARGUMENT, "channels do not match: X has %lld, W %lldx%lld, group %lld",
                  (long long)g->C, (long long)W->dims[0], (long long)W->dims[1], (long long)g->group);
  if (B) {
    ER_RETURN_IF_ERROR(cv_check_same(c, 2, X->dtype, 1, "B"));
    if (B->dims[0] != g->M) return ER_ERR(ER_INVALID_ARGUMENT, "B has %lld values, expected %lld",
                                          (long long)B->dims[0], (long long)g->M);
  }
  if (nsp > CV_MAXSP) return ER_ERR(ER_UNSUPPORTED, "%d spatial dimensions (1 to %d supported)", nsp, CV_MAXSP);
  int64_t k[3];
  ER_RETURN_IF_ERROR(cv_kernel_shape(c, W, nsp, k));
  ER_RETURN_IF_ERROR(cv_window(c, nsp, X->dims + 2, k, 0, 1, &g->w));
  g->Cg = g->C / g->group, g->Mg = g->M / g->group;
  g->ks = cv_prod3(g->w.k);
  g->Kg = g->Cg * g->ks;
  g->inN = cv_prod3(g->w.in), g->outN = cv_prod3(g->w.out);
  g->pointwise = g->ks == 1;
  for (int i = 0; i < 3; i++)
    if (g->w.s[i] != 1 || g->w.pb[i] || g->w.pe[i]) g->pointwise = 0;
  g->rows = g->Kg;
  int depthwise = g->Cg == 1 && g->group > 1; /* direct path, no column buffer */
  g->cw = g->pointwise || depthwise ? 0 : cv_chunk(g->rows, g->outN);
  return 0;
}

/* Fused activation from the graph optimizer (_act, _act_a, _act_b attributes). */
static er_status cv_read_act(const er_kctx *c, er_act *a) {
  a->kind = (int)er_attr_int(c, "_act", ER_ACT_NONE);
  if (a->kind < ER_ACT_NONE || a->kind > ER_ACT_LEAKYRELU)
    return ER_ERR(ER_UNSUPPORTED, "fused activation _act=%d is unknown", a->kind);
  float da = 0, db = 0;
  if (a->kind == ER_ACT_CLIP) da = -INFINITY, db = INFINITY;
  if (a->kind == ER_ACT_HARDSIGMOID) da = 0.2f, db = 0.5f;
  if (a->kind == ER_ACT_LEAKYRELU) da = 0.01f;
  a->a = er_attr_float(c, "_act_a", da);
  a->b = er_attr_float(c, "_act_b", db);
  return 0;
}

/* The activation on n values of the compute type (double keeps double precision). */
static void cv_apply_act(void *y, int ct, int64_t n, er_act a) {
  if (a.kind == ER_ACT_NONE) return;
  if (ct == ER_F32) {
    er_f32_apply_act((float *)y, n, a);
    return;
  }
  double *x = (double *)y, lo = a.a, hi = a.b;
  for (int64_t i = 0; i < n; i++) {
    double v = x[i], t;
    switch (a.kind) {
      case ER_ACT_RELU: v = v > 0 ? v : 0; break;
      case ER_ACT_CLIP: v = v < lo ? lo : v > hi ? hi : v; break;
      case ER_ACT_HARDSWISH: t = v / 6 + 0.5, t = t < 0 ? 0 : t > 1 ? 1 : t, v *= t; break;
      case ER_ACT_HARDSIGMOID: t = lo * v + hi, v = t < 0 ? 0 : t > 1 ? 1 : t; break;
      case ER_ACT_SILU: v = v / (1 + exp(-v)); break;
      case ER_ACT_GELU: v = 0.5 * v * (1 + erf(v * 0.70710678118654752)); break;
      case ER_ACT_SIGMOID: v = 1 / (1 + exp(-v)); break;
      case ER_ACT_TANH: v = tanh(v); break;
      case ER_ACT_LEAKYRELU: v = v >= 0 ? v : lo * v; break;
    }
    x[i] = v;
  }
}

/* ---- float32 fast path: the channels-last kernel on channels-first tensors ----
 * With an optimized micro-kernel table, a float32 1-D or 2-D Conv (the ones the layout pass
 * leaves channels-first: weights computed in the graph, subgraph bodies, ER_LAYOUT=0) runs
 * the NhwcConv kernel (kernels/nhwc.h, ops_nhwc.c) through a shadow context: the node's
 * attributes plus _nchw_in = 1, so it reads X as it is; it writes Y channels-last into
 * scratch, and a transpose per image makes it NCHW. Its weights are packed in prepare from
 * constant W (else at each run), its paths (1x1 GEMM, gathered GEMM, depthwise, Winograd) and
 * thread splits are the channels-last ones, and its results are the same for any thread
 * count. Other convs (other dtypes, 3-D, the reference table) take the template code. */
enum { CVN_ATTRS = 24 };
typedef struct cvn_shadow {
  er_node node;
  er_attr attrs[CVN_ATTRS];
  er_tensor y; /* [N, (OH,) OW, M] in scratch */
  er_tensor *out[1];
  er_kctx c;
  const er_op_def *op;
} cvn_shadow;

/* 1 and a shadow context for NhwcConv when the fast path applies to c */
static int cvn_shadow_init(const er_kctx *c, const cv_conv *g, cvn_shadow *s) {
  const er_microkernels *mk = c->mk;
  if (!mk || mk == er_microkernels_ref() || c->in[0]->dtype != ER_F32 || g->w.nsp > 2 ||
      c->node->n_attrs >= CVN_ATTRS)
    return 0;
  s->op = 0;
  for (const er_op_def *d = er_ops_nhwc; d->op_type && !s->op; d++)
    if (strcmp(d->op_type, ER_OP_NHWC_CONV) == 0) s->op = d;
  if (!s->op) return 0;
  s->node = *c->node;
  for (int i = 0; i < c->node->n_attrs; i++) s->attrs[i] = c->node->attrs[i];
  er_attr nchw = {.name = "_nchw_in", .type = ER_ATTR_INT, .i = 1};
  s->attrs[c->node->n_attrs] = nchw;
  s->node.attrs = s->attrs;
  s->node.n_attrs = c->node->n_attrs + 1;
  s->y = *c->out[0];
  s->y.data = NULL;
  s->out[0] = &s->y;
  s->c = *c;
  s->c.node = &s->node;
  s->c.opset = 1;
  s->c.n_out = 1;
  s->c.out = s->out;
  return 1;
}
/* bytes of the channels-last Y at the start of scratch */
static size_t cvn_y_bytes(const er_kctx *c) { return cv_align(er_tensor_nbytes(c->out[0])); }

typedef struct cvn_job {
  const er_microkernels *mk;
  const float *src;
  float *dst;
  int64_t S, M;
} cvn_job;
/* images [n0, n1): [S, M] -> [M, S] */
static void cvn_to_first(void *arg, int64_t n0, int64_t n1) {
  const cvn_job *j = (const cvn_job *)arg;
  for (int64_t n = n0; n < n1; n++)
    j->mk->x32_transpose(j->src + n * j->S * j->M, j->M, j->dst + n * j->S * j->M, j->S, j->S, j->M);
}

/* infer (state_bytes, scratch_bytes), prepare or run through NhwcConv; *done = 0 when the
 * fast path does not apply */
static er_status cvn_call(er_kctx *c, const cv_conv *g, int what, int *done) {
  cvn_shadow s;
  *done = cvn_shadow_init(c, g, &s);
  if (!*done) return 0;
  const size_t yb = cvn_y_bytes(c);
  if (what == 0) {
    ER_RETURN_IF_ERROR(s.op->infer(&s.c));
    c->state_bytes = s.c.state_bytes;
    c->scratch_bytes = yb + s.c.scratch_bytes;
    return 0;
  }
  if (what == 1) {
    s.c.consumed = 0;
    ER_RETURN_IF_ERROR(s.op->prepare(&s.c));
    c->consumed |= s.c.consumed;
    return 0;
  }
  ER_RETURN_IF_ERROR(s.op->infer(&s.c)); /* the channels-last shape of Y, the scratch it needs */
  if (c->scratch_bytes < yb + s.c.scratch_bytes)
    return ER_ERR(ER_INTERNAL, "Conv scratch too small for the channels-last path");
  s.y.data = c->scratch;
  s.c.scratch = (char *)c->scratch + yb;
  s.c.scratch_bytes = c->scratch_bytes - yb;
  s.c.state = c->state;
  s.c.state_bytes = c->state_bytes;
  ER_RETURN_IF_ERROR(s.op->run(&s.c));
  cvn_job j = {c->mk, (const float *)s.y.data, (float *)c->out[0]->data, er_tensor_numel(c->out[0]) / (g->N * g->M),
               g->M};
  er_parallel_for(c, g->N, 1, cvn_to_first, &j);
  return 0;
}

static er_status conv_infer(er_kctx *c) {
  cv_conv g;
  ER_RETURN_IF_ERROR(conv_geom(c, &g));
  er_act act;
  ER_RETURN_IF_ERROR(cv_read_act(c, &act));
  const er_tensor *X = c->in[0];
  int64_t d[ER_MAX_RANK] = {g.N, g.M};
  for (int i = 0; i < g.w.nsp; i++) d[2 + i] = g.w.out[3 - g.w.nsp + i];
  er_tensor_set_shape(c->out[0], X->dtype, X->rank, d);
  int done;
  ER_RETURN_IF_ERROR(cvn_call(c, &g, 0, &done));
  if (done) return 0;
  int ct = cv_ctype(X->dtype);
  c->scratch_bytes = cv_stage_all(c, ct) + cv_align((size_t)(g.rows * g.cw) * cv_csize(ct));
  return 0;
}

static er_status conv_prepare(er_kctx *c) {
  cv_conv g;
  ER_RETURN_IF_ERROR(conv_geom(c, &g));
  int done;
  return cvn_call(c, &g, 1, &done);
}

static er_status conv_run(er_kctx *c) {
  cv_conv g;
  ER_RETURN_IF_ERROR(conv_geom(c, &g));
  er_act act;
  ER_RETURN_IF_ERROR(cv_read_act(c, &act));
  int done;
  ER_RETURN_IF_ERROR(cvn_call(c, &g, 2, &done));
  if (done) return 0;
  int ct = cv_ctype(c->in[0]->dtype);
  size_t csz = cv_csize(ct);
  char *sp = (char *)c->scratch;
  void *X = cv_stage_in(c->in[0], ct, &sp), *W = cv_stage_in(c->in[1], ct, &sp);
  void *B = cv_stage_in(er_in(c, 2), ct, &sp), *Y = cv_stage_out(c->out[0], ct, &sp);
  void *col = cv_take(&sp, (size_t)(g.rows * g.cw) * csz);
  if (ct == ER_F64)
    conv_f64(&g, X, W, B, Y, col);
  else
    conv_f32(&g, X, W, B, Y, col);
  cv_apply_act(Y, ct, er_tensor_numel(c->out[0]), act);
  cv_unstage_out(c->out[0], ct, Y);
  return 0;
}

/* ---------------- ConvTranspose ---------------- */
static er_status convt_geom(const er_kctx *c, cv_conv *g) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 2, 3));
  ER_RETURN_IF_ERROR(er_check_type(c, 0, cv_float_types));
  const er_tensor *X = c->in[0], *W = c->in[1], *B = er_in(c, 2);
  if (X->rank < 3) return ER_ERR(ER_INVALID_ARGUMENT, "X must have rank >= 3, got %d", X->rank);
  int nsp = X->rank - 2;
  if (nsp > CV_MAXSP) return ER_ERR(ER_UNSUPPORTED, "%d spatial dimensions (1 to 3 supported)", nsp);
  ER_RETURN_IF_ERROR(cv_check_same(c, 1, X->dtype, X->rank, "W"));
  memset(g, 0, sizeof *g);
  g->group = er_attr_int(c, "group", 1);
  g->N = X->dims[0], g->C = X->dims[1];
  if (g->group < 1 || W->dims[0] != g->C || g->C % g->group)
    return ER_ERR(ER_INVALID_ARGUMENT, "channels do not match: X has %lld, W has %lld, group %lld",
                  (long long)g->C, (long long)W->dims[0], (long long)g->group);
  g->Mg = W->dims[1], g->M = g->Mg * g->group, g->Cg = g->C / g->group;
  if (B) {
    ER_RETURN_IF_ERROR(cv_check_same(c, 2, X->dtype, 1, "B"));
    if (B->dims[0] != g->M) return ER_ERR(ER_INVALID_ARGUMENT, "B has %lld values, expected %lld",
                                          (long long)B->dims[0], (long long)g->M);
  }
  int64_t k[3], s[3], d[3], p[6], op[3], os[ER_MAX_RANK];
  ER_RETURN_IF_ERROR(cv_kernel_shape(c, W, nsp, k));
  ER_RETURN_IF_ERROR(cv_ints_attr(c, "strides", nsp, 1, s));
  ER_RETURN_IF_ERROR(cv_ints_attr(c, "dilations", nsp, 1, d));
  ER_RETURN_IF_ERROR(cv_ints_attr(c, "pads", 2 * nsp, 0, p));
  ER_RETURN_IF_ERROR(cv_ints_attr(c, "output_padding", nsp, 0, op));
  const int64_t *osa;
  int n_os = er_attr_ints(c, "output_shape", &osa);
  if (n_os >= 0) {
    if (n_os != nsp && n_os != nsp + 2)
      return ER_ERR(ER_INVALID_ARGUMENT, "output_shape has %d values, expected %d", n_os, nsp);
    for (int i = 0; i < nsp; i++) os[i] = osa[n_os - nsp + i];
  }
  const char *ap = er_attr_str(c, "auto_pad", "NOTSET");
  int same = cv_streq(ap, "SAME_UPPER") ? 2 : cv_streq(ap, "SAME_LOWER") ? 3 : 0;
  if (!same && !cv_streq(ap, "NOTSET") && !cv_streq(ap, "VALID") && ap[0])
    return ER_ERR(ER_INVALID_ARGUMENT, "unknown auto_pad '%s'", ap);
  if (cv_streq(ap, "VALID")) memset(p, 0, sizeof p);
  cv_win *w = &g->w;
  w->nsp = nsp;
  for (int i = 0; i < 3; i++) w->in[i] = w->out[i] = w->k[i] = w->s[i] = w->d[i] = 1, w->pb[i] = w->pe[i] = 0;
  for (int i = 0; i < nsp; i++) {
    int j = 3 - nsp + i;
    if (k[i] < 1 || s[i] < 1 || d[i] < 1 || p[i] < 0 || p[i + nsp] < 0 || op[i] < 0)
      return ER_ERR(ER_INVALID_ARGUMENT, "invalid kernel/stride/dilation/pad/output_padding in dim %d", i);
    int64_t in = X->dims[2 + i], dk = (k[i] - 1) * d[i] + 1, pb = p[i], pe = p[i + nsp], out;
    if (n_os >= 0 || same) {
      out = n_os >= 0 ? os[i] : in * s[i];
      int64_t total = s[i] * (in - 1) + op[i] + dk - out;
      if (total < 0) total = 0; /* extra outputs beyond the last input tap stay zero / bias */
      if (same == 2)
        pb = total / 2, pe = total - total / 2;
      else
        pb = total - total / 2, pe = total / 2;
    } else {
      out = s[i] * (in - 1) + op[i] + dk - pb - pe;
    }
    if (out < 0) return ER_ERR(ER_INVALID_ARGUMENT, "output size %lld in dim %d is negative", (long long)out, i);
    /* for the column walker the "grid" is X and the "image" is Y */
    w->out[j] = in, w->in[j] = out, w->k[j] = k[i], w->s[j] = s[i], w->d[j] = d[i];
    w->pb[j] = pb, w->pe[j] = pe;
  }
  g->ks = cv_prod3(w->k);
  g->Kg = g->Cg;
  g->inN = cv_prod3(w->out), g->outN = cv_prod3(w->in);
  g->rows = g->Mg * g->ks;
  g->cw = cv_chunk(g->rows, g->inN);
  return 0;
}

static er_status convt_infer(er_kctx *c) {
  cv_conv g;
  ER_RETURN_IF_ERROR(convt_geom(c, &g));
  er_act act;
  ER_RETURN_IF_ERROR(cv_read_act(c, &act));
  const er_tensor *X = c->in[0];
  int64_t d[ER_MAX_RANK] = {g.N, g.M};
  for (int i = 0; i < g.w.nsp; i++) d[2 + i] = g.w.in[3 - g.w.nsp + i];
  er_tensor_set_shape(c->out[0], X->dtype, X->rank, d);
  int ct = cv_ctype(X->dtype);
  c->scratch_bytes = cv_stage_all(c, ct) + cv_align((size_t)(g.rows * g.cw) * cv_csize(ct));
  return 0;
}

static er_status convt_run(er_kctx *c) {
  cv_conv g;
  ER_RETURN_IF_ERROR(convt_geom(c, &g));
  er_act act;
  ER_RETURN_IF_ERROR(cv_read_act(c, &act));
  int ct = cv_ctype(c->in[0]->dtype);
  char *sp = (char *)c->scratch;
  void *X = cv_stage_in(c->in[0], ct, &sp), *W = cv_stage_in(c->in[1], ct, &sp);
  void *B = cv_stage_in(er_in(c, 2), ct, &sp), *Y = cv_stage_out(c->out[0], ct, &sp);
  void *col = cv_take(&sp, (size_t)(g.rows * g.cw) * cv_csize(ct));
  if (ct == ER_F64)
    convt_f64(&g, X, W, B, Y, col);
  else
    convt_f32(&g, X, W, B, Y, col);
  cv_apply_act(Y, ct, er_tensor_numel(c->out[0]), act);
  cv_unstage_out(c->out[0], ct, Y);
  return 0;
}

/* ---------------- DeformConv (2-D) ---------------- */
static er_status deform_geom(const er_kctx *c, cv_conv *g) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 3, 5));
  ER_RETURN_IF_ERROR(er_check_type(c, 0, cv_float_types));
  const er_tensor *X = c->in[0], *W = c->in[1], *O = c->in[2], *B = er_in(c, 3), *Mk = er_in(c, 4);
  if (X->rank != 4) return ER_ERR(ER_UNSUPPORTED, "only 2-D DeformConv is supported (X rank %d)", X->rank);
  ER_RETURN_IF_ERROR(cv_check_same(c, 1, X->dtype, 4, "W"));
  ER_RETURN_IF_ERROR(cv_check_same(c, 2, X->dtype, 4, "offset"));
  memset(g, 0, sizeof *g);
  g->group = er_attr_int(c, "group", 1);
  g->offg = er_attr_int(c, "offset_group", 1);
  g->N = X->dims[0], g->C = X->dims[1], g->M = W->dims[0];
  if (g->group < 1 || g->C % g->group || g->M % g->group || W->dims[1] * g->group != g->C)
    return ER_ERR(ER_INVALID_ARGUMENT, "channels do not match: X has %lld, W %lldx%lld, group %lld",
                  (long long)g->C, (long long)W->dims[0], (long long)W->dims[1], (long long)g->group);
  if (g->offg < 1 || g->C % g->offg)
    return ER_ERR(ER_INVALID_ARGUMENT, "offset_group %lld does not divide %lld channels", (long long)g->offg,
                  (long long)g->C);
  int64_t k[2];
  ER_RETURN_IF_ERROR(cv_kernel_shape(c, W, 2, k));
  ER_RETURN_IF_ERROR(cv_window(c, 2, X->dims + 2, k, 0, 1, &g->w));
  g->Cg = g->C / g->group, g->Mg = g->M / g->group;
  g->ks = cv_prod3(g->w.k), g->Kg = g->Cg * g->ks;
  g->inN = cv_prod3(g->w.in), g->outN = cv_prod3(g->w.out);
  if (O->dims[0] != g->N || O->dims[1] != g->offg * 2 * g->ks || O->dims[2] != g->w.out[1] || O->dims[3] != g->w.out[2])
    return ER_ERR(ER_INVALID_ARGUMENT, "offset shape does not match (expected [%lld,%lld,%lld,%lld])",
                  (long long)g->N, (long long)(g->offg * 2 * g->ks), (long long)g->w.out[1], (long long)g->w.out[2]);
  if (B) {
    ER_RETURN_IF_ERROR(cv_check_same(c, 3, X->dtype, 1, "B"));
    if (B->dims[0] != g->M) return ER_ERR(ER_INVALID_ARGUMENT, "B has %lld values, expected %lld",
                                          (long long)B->dims[0], (long long)g->M);
  }
  if (Mk) {
    ER_RETURN_IF_ERROR(cv_check_same(c, 4, X->dtype, 4, "mask"));
    if (Mk->dims[0] != g->N || Mk->dims[1] != g->offg * g->ks || Mk->dims[2] != g->w.out[1] || Mk->dims[3] != g->w.out[2])
      return ER_ERR(ER_INVALID_ARGUMENT, "mask shape does not match offset");
  }
  g->rows = g->Kg;
  g->cw = cv_chunk(g->rows, g->outN);
  return 0;
}

static er_status deform_infer(er_kctx *c) {
  cv_conv g;
  ER_RETURN_IF_ERROR(deform_geom(c, &g));
  int64_t d[4] = {g.N, g.M, g.w.out[1], g.w.out[2]};
  er_tensor_set_shape(c->out[0], c->in[0]->dtype, 4, d);
  int ct = cv_ctype(c->in[0]->dtype);
  c->scratch_bytes = cv_stage_all(c, ct) + cv_align((size_t)(g.rows * g.cw) * cv_csize(ct));
  return 0;
}

static er_status deform_run(er_kctx *c) {
  cv_conv g;
  ER_RETURN_IF_ERROR(deform_geom(c, &g));
  int ct = cv_ctype(c->in[0]->dtype);
  char *sp = (char *)c->scratch;
  void *X = cv_stage_in(c->in[0], ct, &sp), *W = cv_stage_in(c->in[1], ct, &sp);
  void *O = cv_stage_in(c->in[2], ct, &sp), *B = cv_stage_in(er_in(c, 3), ct, &sp);
  void *Mk = cv_stage_in(er_in(c, 4), ct, &sp), *Y = cv_stage_out(c->out[0], ct, &sp);
  void *col = cv_take(&sp, (size_t)(g.rows * g.cw) * cv_csize(ct));
  if (ct == ER_F64)
    deform_f64(&g, X, W, O, B, Mk, Y, col);
  else
    deform_f32(&g, X, W, O, B, Mk, Y, col);
  cv_unstage_out(c->out[0], ct, Y);
  return 0;
}

/* ---------------- Col2Im ---------------- */
static er_status col2im_geom(const er_kctx *c, cv_conv *g) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 3, 3));
  ER_RETURN_IF_ERROR(er_check_type(c, 0, cv_float_types));
  const er_tensor *X = c->in[0];
  if (!er_in_known(c, 1) || !er_in_known(c, 2)) return er_needs_data(c);
  int64_t img[8], blk[8];
  int ni, nb;
  ER_RETURN_IF_ERROR(er_read_ints(c->in[1], img, 8, &ni));
  ER_RETURN_IF_ERROR(er_read_ints(c->in[2], blk, 8, &nb));
  if (ni != nb) return ER_ERR(ER_INVALID_ARGUMENT, "image_shape has %d values, block_shape %d", ni, nb);
  if (X->rank != 3) return ER_ERR(ER_INVALID_ARGUMENT, "input must have rank 3, got %d", X->rank);
  if (ni < 1 || ni > CV_MAXSP) return ER_ERR(ER_UNSUPPORTED, "%d spatial dimensions (1 to 3 supported)", ni);
  for (int i = 0; i < ni; i++)
    if (img[i] < 0) return ER_ERR(ER_INVALID_ARGUMENT, "image_shape[%d] is negative", i);
  memset(g, 0, sizeof *g);
  /* the "grid" is the block positions, the "image" is the output */
  ER_RETURN_IF_ERROR(cv_window(c, ni, img, blk, 0, 1, &g->w));
  g->ks = cv_prod3(g->w.k);
  g->N = X->dims[0];
  if (X->dims[1] % g->ks) return ER_ERR(ER_INVALID_ARGUMENT, "dim 1 (%lld) is not a multiple of the block size %lld",
                                        (long long)X->dims[1], (long long)g->ks);
  g->C = X->dims[1] / g->ks;
  g->inN = cv_prod3(g->w.out), g->outN = cv_prod3(g->w.in);
  if (X->dims[2] != g->inN)
    return ER_ERR(ER_INVALID_ARGUMENT, "input has %lld blocks, image/block/strides/pads give %lld",
                  (long long)X->dims[2], (long long)g->inN);
  return 0;
}

static er_status col2im_infer(er_kctx *c) {
  cv_conv g;
  ER_RETURN_IF_ERROR(col2im_geom(c, &g));
  int64_t d[ER_MAX_RANK] = {g.N, g.C};
  for (int i = 0; i < g.w.nsp; i++) d[2 + i] = g.w.in[3 - g.w.nsp + i];
  er_tensor_set_shape(c->out[0], c->in[0]->dtype, 2 + g.w.nsp, d);
  c->scratch_bytes = cv_stage_bytes(c->in[0], cv_ctype(c->in[0]->dtype)) +
                     cv_stage_bytes(c->out[0], cv_ctype(c->in[0]->dtype));
  return 0;
}

static er_status col2im_run(er_kctx *c) {
  cv_conv g;
  ER_RETURN_IF_ERROR(col2im_geom(c, &g));
  int ct = cv_ctype(c->in[0]->dtype);
  char *sp = (char *)c->scratch;
  void *X = cv_stage_in(c->in[0], ct, &sp), *Y = cv_stage_out(c->out[0], ct, &sp);
  if (ct == ER_F64)
    col2im_f64(&g, X, Y);
  else
    col2im_f32(&g, X, Y);
  cv_unstage_out(c->out[0], ct, Y);
  return 0;
}

#define OP(name, lo, hi, fn) ER_OPDEF(name, {#name, "", lo, hi, fn##_infer, fn##_run, 0})
const er_op_def er_ops_conv[] = {
    ER_OPDEF(Conv, {"Conv", "", 1, 0, conv_infer, conv_run, 0, conv_prepare})
    OP(ConvTranspose, 1, 0, convt)
    OP(DeformConv, 19, 0, deform)
    OP(Col2Im, 18, 0, col2im)
    OP(AveragePool, 1, 0, cv_avgpool)
    OP(MaxPool, 1, 0, cv_maxpool)
    OP(LpPool, 1, 0, cv_lppool)
    OP(GlobalAveragePool, 1, 0, cv_gavgpool)
    OP(GlobalMaxPool, 1, 0, cv_gmaxpool)
    OP(GlobalLpPool, 1, 0, cv_glppool)
    OP(MaxUnpool, 9, 0, cv_maxunpool)
    OP(RoiAlign, 10, 0, cv_roialign)
    OP(MaxRoiPool, 1, 0, cv_maxroipool)
    OP(BatchNormalization, 1, 0, cv_batchnorm)
    OP(InstanceNormalization, 1, 0, cv_instnorm)
    OP(LayerNormalization, 17, 0, cv_layernorm)
    OP(GroupNormalization, 18, 0, cv_groupnorm)
    OP(LRN, 1, 0, cv_lrn)
    OP(LpNormalization, 1, 0, cv_lpnorm)
    OP(MeanVarianceNormalization, 1, 0, cv_mvn)
    {0},
};
#undef OP

#else /* ===================== template section: CV_T, CV(name) ===================== */
typedef CV_T CV(T);
#define T CV(T)


/* C[0..4)[0..nb) += A[4 x K] * B[K x nb], nb <= GEMM_NB. The inner loops have a
 * fixed trip count so they vectorize; a short tail panel goes through a padded row. */
static void CV(gemm_4xnb)(int64_t K, int64_t nb, const T *A, int64_t ars, int64_t acs, const T *B,
                          int64_t ldb, T *C, int64_t ldc) {
  T c0[GEMM_NB] = {0}, c1[GEMM_NB] = {0}, c2[GEMM_NB] = {0}, c3[GEMM_NB] = {0}, pad[GEMM_NB] = {0};
  size_t bytes = (size_t)nb * sizeof(T);
  memcpy(c0, C, bytes);
  memcpy(c1, C + ldc, bytes);
  memcpy(c2, C + 2 * ldc, bytes);
  memcpy(c3, C + 3 * ldc, bytes);
  for (int64_t k = 0; k < K; k++) {
    const T a0 = A[k * acs], a1 = A[ars + k * acs], a2 = A[2 * ars + k * acs], a3 = A[3 * ars + k * acs];
    const T *b = B + k * ldb;
    if (nb < GEMM_NB) {
      memcpy(pad, b, bytes);
      b = pad;
    }
    for (int j = 0; j < GEMM_NB; j++) {
      const T bj = b[j];
      c0[j] += a0 * bj;
      c1[j] += a1 * bj;
      c2[j] += a2 * bj;
      c3[j] += a3 * bj;
    }
  }
  memcpy(C, c0, bytes);
  memcpy(C + ldc, c1, bytes);
  memcpy(C + 2 * ldc, c2, bytes);
  memcpy(C + 3 * ldc, c3, bytes);
}

/* C[M x N] += A[M x K] * B[K x N] with a(i,k) = A[i*ars + k*acs], row strides ldb, ldc. */
static void CV(gemm)(int64_t M, int64_t N, int64_t K, const T *A, int64_t ars, int64_t acs,
                     const T *B, int64_t ldb, T *C, int64_t ldc) {
  for (int64_t n0 = 0; n0 < N; n0 += GEMM_NB) {
    int64_t nb = N - n0 < GEMM_NB ? N - n0 : GEMM_NB;
    for (int64_t k0 = 0; k0 < K; k0 += GEMM_KB) {
      int64_t kb = K - k0 < GEMM_KB ? K - k0 : GEMM_KB;
      int64_t m = 0;
      for (; m + 4 <= M; m += 4)
        CV(gemm_4xnb)(kb, nb, A + m * ars + k0 * acs, ars, acs, B + k0 * ldb + n0, ldb, C + m * ldc + n0, ldc);
      for (; m < M; m++) {
        T acc[GEMM_NB];
        T *crow = C + m * ldc + n0;
        for (int64_t j = 0; j < nb; j++) acc[j] = crow[j];
        for (int64_t k = k0; k < k0 + kb; k++) {
          const T a = A[m * ars + k * acs];
          const T *b = B + k * ldb + n0;
          if (nb == GEMM_NB)
            for (int j = 0; j < GEMM_NB; j++) acc[j] += a * b[j];
          else
            for (int64_t j = 0; j < nb; j++) acc[j] += a * b[j];
        }
        for (int64_t j = 0; j < nb; j++) crow[j] = acc[j];
      }
    }
  }
}

/* Column walker. The grid (w->out) indexes columns, the image (w->in) holds `nch`
 * channels. Row r = (channel, kd, kh, kw) of `col` holds, for grid positions
 * [g0, g0+gn), the image value under that kernel tap (0 in the padding).
 * scatter = 0: col <- image (im2col); scatter = 1: image += col (col2im). */
static void CV(cols)(const cv_win *w, T *img, int64_t nch, int64_t g0, int64_t gn, T *col, int scatter) {
  const int64_t D = w->in[0], H = w->in[1], W = w->in[2];
  const int64_t OH = w->out[1], OW = w->out[2];
  const int64_t sw = w->s[2];
  T *dst = col;
  for (int64_t ch = 0; ch < nch; ch++) {
    T *plane = img + ch * D * H * W;
    for (int64_t a = 0; a < w->k[0]; a++)
      for (int64_t b = 0; b < w->k[1]; b++)
        for (int64_t e = 0; e < w->k[2]; e++) {
          const int64_t xoff = e * w->d[2] - w->pb[2];
          /* first / last+1 ow whose tap lands inside [0, W) */
          const int64_t ow_lo = cv_cdiv(-xoff, sw), ow_hi = cv_cdiv(W - xoff, sw);
          int64_t n = g0, end = g0 + gn;
          int64_t ow = n % OW, oh = (n / OW) % OH, od = n / (OW * OH);
          while (n < end) {
            int64_t run = OW - ow < end - n ? OW - ow : end - n;
            int64_t id = od * w->s[0] - w->pb[0] + a * w->d[0];
            int64_t ih = oh * w->s[1] - w->pb[1] + b * w->d[1];
            if (id < 0 || id >= D || ih < 0 || ih >= H) {
              if (!scatter) memset(dst, 0, (size_t)run * sizeof(T));
            } else {
              T *src = plane + (id * H + ih) * W;
              int64_t jlo = ow_lo - ow, jhi = ow_hi - ow;
              if (jlo < 0) jlo = 0;
              if (jlo > run) jlo = run;
              if (jhi > run) jhi = run;
              if (jhi < jlo) jhi = jlo;
              if (scatter) {
                for (int64_t j = jlo; j < jhi; j++) src[(ow + j) * sw + xoff] += dst[j];
              } else {
                for (int64_t j = 0; j < jlo; j++) dst[j] = 0;
                if (sw == 1)
                  memcpy(dst + jlo, src + ow + jlo + xoff, (size_t)(jhi - jlo) * sizeof(T));
                else
                  for (int64_t j = jlo; j < jhi; j++) dst[j] = src[(ow + j) * sw + xoff];
                for (int64_t j = jhi; j < run; j++) dst[j] = 0;
              }
            }
            dst += run, n += run, ow = 0;
            if (++oh == OH) oh = 0, od++;
          }
        }
  }
}

/* Depthwise (one input channel per group): direct taps, no column buffer.
 * For each kernel tap and output row, the valid output columns are computed once. */
static void CV(dwconv)(const cv_conv *g, const T *X, const T *Wt, const T *Bv, T *Y) {
  const cv_win *w = &g->w;
  const int64_t D = w->in[0], H = w->in[1], W = w->in[2], OD = w->out[0], OH = w->out[1], OW = w->out[2];
  const int64_t sw = w->s[2];
  for (int64_t n = 0; n < g->N; n++)
    for (int64_t m = 0; m < g->M; m++) {
      const T *x = X + (n * g->C + m / g->Mg) * g->inN;
      const T *wk = Wt + m * g->ks;
      T *y = Y + (n * g->M + m) * g->outN;
      T bias = Bv ? Bv[m] : 0;
      for (int64_t i = 0; i < g->outN; i++) y[i] = bias;
      int64_t t = 0;
      for (int64_t a = 0; a < w->k[0]; a++)
        for (int64_t b = 0; b < w->k[1]; b++)
          for (int64_t e = 0; e < w->k[2]; e++, t++) {
            const T wt = wk[t];
            const int64_t xoff = e * w->d[2] - w->pb[2];
            int64_t lo = cv_cdiv(-xoff, sw), hi = cv_cdiv(W - xoff, sw);
            if (lo < 0) lo = 0;
            if (hi > OW) hi = OW;
            for (int64_t od = 0; od < OD; od++) {
              int64_t id = od * w->s[0] - w->pb[0] + a * w->d[0];
              if (id < 0 || id >= D) continue;
              for (int64_t oh = 0; oh < OH; oh++) {
                int64_t ih = oh * w->s[1] - w->pb[1] + b * w->d[1];
                if (ih < 0 || ih >= H) continue;
                const T *src = x + (id * H + ih) * W + xoff;
                T *dst = y + (od * OH + oh) * OW;
                if (sw == 1)
                  for (int64_t ow = lo; ow < hi; ow++) dst[ow] += wt * src[ow];
                else
                  for (int64_t ow = lo; ow < hi; ow++) dst[ow] += wt * src[ow * sw];
              }
            }
          }
    }
}

static void CV(conv)(const cv_conv *g, const T *X, const T *Wt, const T *Bv, T *Y, T *col) {
  if (g->Cg == 1 && g->group > 1) {
    CV(dwconv)(g, X, Wt, Bv, Y);
    return;
  }
  for (int64_t n = 0; n < g->N; n++)
    for (int64_t grp = 0; grp < g->group; grp++) {
      T *y = Y + (n * g->M + grp * g->Mg) * g->outN;
      const T *x = X + (n * g->C + grp * g->Cg) * g->inN;
      const T *wg = Wt + grp * g->Mg * g->Kg;
      for (int64_t m = 0; m < g->Mg; m++) {
        T bias = Bv ? Bv[grp * g->Mg + m] : 0;
        for (int64_t i = 0; i < g->outN; i++) y[m * g->outN + i] = bias;
      }
      if (g->pointwise) {
        CV(gemm)(g->Mg, g->outN, g->Cg, wg, g->Kg, 1, x, g->inN, y, g->outN);
        continue;
      }
      for (int64_t g0 = 0; g0 < g->outN; g0 += g->cw) {
        int64_t gn = g->outN - g0 < g->cw ? g->outN - g0 : g->cw;
        CV(cols)(&g->w, (T *)x, g->Cg, g0, gn, col, 0);
        CV(gemm)(g->Mg, gn, g->Kg, wg, g->Kg, 1, col, gn, y + g0, g->outN);
      }
    }
}

static void CV(convt)(const cv_conv *g, const T *X, const T *Wt, const T *Bv, T *Y, T *col) {
  const int64_t rows = g->Mg * g->ks;
  for (int64_t n = 0; n < g->N; n++)
    for (int64_t grp = 0; grp < g->group; grp++) {
      T *y = Y + (n * g->M + grp * g->Mg) * g->outN;
      const T *x = X + (n * g->C + grp * g->Cg) * g->inN;
      const T *wg = Wt + grp * g->Cg * rows; /* W is (C, Mg, k...): A = W_g^T */
      memset(y, 0, (size_t)(g->Mg * g->outN) * sizeof(T));
      for (int64_t g0 = 0; g0 < g->inN; g0 += g->cw) {
        int64_t gn = g->inN - g0 < g->cw ? g->inN - g0 : g->cw;
        memset(col, 0, (size_t)(rows * gn) * sizeof(T));
        CV(gemm)(rows, gn, g->Cg, wg, 1, rows, x + g0, g->inN, col, gn);
        CV(cols)(&g->w, y, g->Mg, g0, gn, col, 1);
      }
      if (Bv)
        for (int64_t m = 0; m < g->Mg; m++) {
          T bias = Bv[grp * g->Mg + m];
          for (int64_t i = 0; i < g->outN; i++) y[m * g->outN + i] += bias;
        }
    }
}

/* Bilinear sample of a plane at (h, w); taps outside the plane read as 0. */
static T CV(bilinear0)(const T *p, int64_t H, int64_t W, T h, T w) {
  if (!(h > -1 && h < H && w > -1 && w < W)) return 0;
  T hf = (T)floor(h), wf = (T)floor(w);
  int64_t h0 = (int64_t)hf, w0 = (int64_t)wf;
  T lh = h - hf, lw = w - wf, v = 0;
  if (h0 >= 0 && w0 >= 0) v += (1 - lh) * (1 - lw) * p[h0 * W + w0];
  if (h0 >= 0 && w0 + 1 < W) v += (1 - lh) * lw * p[h0 * W + w0 + 1];
  if (h0 + 1 < H && w0 >= 0) v += lh * (1 - lw) * p[(h0 + 1) * W + w0];
  if (h0 + 1 < H && w0 + 1 < W) v += lh * lw * p[(h0 + 1) * W + w0 + 1];
  return v;
}

static void CV(deform)(const cv_conv *g, const T *X, const T *Wt, const T *Off, const T *Bv, const T *Mk,
                       T *Y, T *col) {
  const cv_win *w = &g->w;
  const int64_t H = w->in[1], W = w->in[2], OW = w->out[2], kh = w->k[1], kw = w->k[2];
  const int64_t cpo = g->C / g->offg; /* channels per offset group */
  for (int64_t n = 0; n < g->N; n++)
    for (int64_t grp = 0; grp < g->group; grp++) {
      T *y = Y + (n * g->M + grp * g->Mg) * g->outN;
      const T *wg = Wt + grp * g->Mg * g->Kg;
      for (int64_t m = 0; m < g->Mg; m++) {
        T bias = Bv ? Bv[grp * g->Mg + m] : 0;
        for (int64_t i = 0; i < g->outN; i++) y[m * g->outN + i] = bias;
      }
      for (int64_t g0 = 0; g0 < g->outN; g0 += g->cw) {
        int64_t gn = g->outN - g0 < g->cw ? g->outN - g0 : g->cw;
        T *dst = col;
        for (int64_t ci = 0; ci < g->Cg; ci++) {
          int64_t ch = grp * g->Cg + ci, og = ch / cpo;
          const T *plane = X + (n * g->C + ch) * g->inN;
          const T *off = Off + (n * g->offg + og) * 2 * g->ks * g->outN;
          const T *mk = Mk ? Mk + (n * g->offg + og) * g->ks * g->outN : 0;
          for (int64_t i = 0; i < kh; i++)
            for (int64_t j = 0; j < kw; j++, dst += gn) {
              int64_t kidx = i * kw + j;
              for (int64_t p = g0; p < g0 + gn; p++) {
                int64_t oh = p / OW, ow = p % OW;
                T hh = (T)(oh * w->s[1] - w->pb[1] + i * w->d[1]) + off[2 * kidx * g->outN + p];
                T ww = (T)(ow * w->s[2] - w->pb[2] + j * w->d[2]) + off[(2 * kidx + 1) * g->outN + p];
                T v = CV(bilinear0)(plane, H, W, hh, ww);
                dst[p - g0] = mk ? v * mk[kidx * g->outN + p] : v;
              }
            }
        }
        CV(gemm)(g->Mg, gn, g->Kg, wg, g->Kg, 1, col, gn, y + g0, g->outN);
      }
    }
}

static void CV(col2im)(const cv_conv *g, const T *X, T *Y) {
  for (int64_t n = 0; n < g->N; n++) {
    T *y = Y + n * g->C * g->outN;
    memset(y, 0, (size_t)(g->C * g->outN) * sizeof(T));
    CV(cols)(&g->w, y, g->C, 0, g->inN, (T *)(X + n * g->C * g->ks * g->inN), 1);
  }
}

#undef T
#endif
