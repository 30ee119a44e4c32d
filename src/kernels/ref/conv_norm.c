/*
 * Normalization: BatchNormalization (inference and training mode),
 * InstanceNormalization, LayerNormalization, GroupNormalization, LRN,
 * LpNormalization, MeanVarianceNormalization. Registered in ops_conv.c.
 * Statistics are accumulated in double; kernel bodies are a float/double template.
 */
#ifndef CV_T
#include <math.h>
#include "kernels/ref/conv_common.h"

/* Odometer over a shape that tracks the offset into a reduced ("kept") array:
 * kstride[d] is 0 on reduced axes. */
typedef struct nm_iter {
  int rank;
  int64_t dims[ER_MAX_RANK], idx[ER_MAX_RANK], kstride[ER_MAX_RANK];
  int64_t off;
} nm_iter;

static void nm_iter_init(nm_iter *it, int rank, const int64_t *dims, const int *reduce) {
  it->rank = rank;
  it->off = 0;
  int64_t s = 1;
  for (int d = rank - 1; d >= 0; d--) {
    it->dims[d] = dims[d], it->idx[d] = 0;
    it->kstride[d] = reduce[d] ? 0 : s;
    if (!reduce[d]) s *= dims[d];
  }
}
static inline void nm_iter_next(nm_iter *it) {
  for (int d = it->rank - 1; d >= 0; d--) {
    it->off += it->kstride[d];
    if (++it->idx[d] < it->dims[d]) return;
    it->off -= it->kstride[d] * it->dims[d];
    it->idx[d] = 0;
  }
}

typedef struct bn_args {
  int64_t N, C, S;
  int spatial, training;
  double eps, mom;
} bn_args;

typedef struct ln_args {
  int axis;
  int64_t outer, inner;
  double eps;
  int stash;
} ln_args;

#define CV_T float
#define CV(name) name##_f32
#include "kernels/ref/conv_norm.c"
#undef CV_T
#undef CV
#define CV_T double
#define CV(name) name##_f64
#include "kernels/ref/conv_norm.c"
#undef CV_T
#undef CV

static size_t nm_stage_all(const er_kctx *c, int ct) {
  size_t b = 0;
  for (int i = 0; i < c->n_in; i++) b += cv_stage_bytes(c->in[i], ct);
  for (int i = 0; i < c->n_out; i++) b += cv_stage_bytes(c->out[i], ct);
  return b;
}

static er_status nm_check_float(const er_kctx *c, int i, const char *what) {
  const er_tensor *t = er_in(c, i);
  if (!t) return ER_ERR(ER_INVALID_MODEL, "input %s is missing", what);
  if (!er_dtype_is_float(t->dtype) || !er_dtype_size(t->dtype) || t->dtype > ER_BF16)
    return ER_ERR(ER_INVALID_ARGUMENT, "input %s has unsupported type %s", what, er_dtype_name((er_dtype)t->dtype));
  return 0;
}

static er_status nm_check_len(const er_tensor *t, int64_t n, const char *what) {
  if (er_tensor_numel(t) != n)
    return ER_ERR(ER_INVALID_ARGUMENT, "%s has %lld values, expected %lld", what, (long long)er_tensor_numel(t),
                  (long long)n);
  return 0;
}

/* Stage all inputs and outputs of the node in order; returns compute type. */
typedef struct nm_bufs {
  void *in[8], *out[8];
} nm_bufs;
static void nm_stage(er_kctx *c, int ct, char **sp, nm_bufs *b) {
  for (int i = 0; i < c->n_in && i < 8; i++) b->in[i] = cv_stage_in(c->in[i], ct, sp);
  for (int i = 0; i < c->n_out && i < 8; i++) b->out[i] = cv_stage_out(c->out[i], ct, sp);
}
static void nm_unstage(er_kctx *c, int ct, nm_bufs *b) {
  for (int i = 0; i < c->n_out && i < 8; i++) cv_unstage_out(c->out[i], ct, b->out[i]);
}

/* ---------------- BatchNormalization ---------------- */

static er_status bn_geom(const er_kctx *c, bn_args *a) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 5, 5));
  ER_RETURN_IF_ERROR(er_check_type(c, 0, cv_float_types));
  static const char *names[] = {"X", "scale", "B", "input_mean", "input_var"};
  for (int i = 1; i < 5; i++) ER_RETURN_IF_ERROR(nm_check_float(c, i, names[i]));
  const er_tensor *X = c->in[0];
  if (X->rank < 2) return ER_ERR(ER_INVALID_ARGUMENT, "X must have rank >= 2, got %d", X->rank);
  a->N = X->dims[0], a->C = X->dims[1], a->S = er_shape_numel(X->dims + 2, X->rank - 2);
  a->eps = er_attr_float(c, "epsilon", 1e-5f);
  a->mom = er_attr_float(c, "momentum", 0.9f);
  a->spatial = c->opset < 9 ? (int)er_attr_int(c, "spatial", 1) : 1;
  if (c->opset >= 14)
    a->training = (int)er_attr_int(c, "training_mode", 0);
  else if (c->opset < 7)
    a->training = er_attr_int(c, "is_test", 0) == 0 && er_out(c, 1);
  else
    a->training = er_out(c, 1) != 0;
  if (a->training && !a->spatial) return ER_ERR(ER_UNSUPPORTED, "training mode with spatial=0");
  int64_t np = a->spatial ? a->C : a->C * a->S;
  for (int i = 1; i < 5; i++) ER_RETURN_IF_ERROR(nm_check_len(c->in[i], np, names[i]));
  if (c->opset >= 14 && !a->training && er_out(c, 1))
    return ER_ERR(ER_INVALID_ARGUMENT, "running_mean/var outputs require training_mode=1");
  return 0;
}

er_status cv_batchnorm_infer(er_kctx *c) {
  bn_args a;
  ER_RETURN_IF_ERROR(bn_geom(c, &a));
  er_tensor_set_shape(c->out[0], c->in[0]->dtype, c->in[0]->rank, c->in[0]->dims);
  for (int i = 1; i < c->n_out; i++)
    if (c->out[i]) er_tensor_set_shape(c->out[i], c->in[3]->dtype, 1, &a.C);
  int ct = cv_ctype(c->in[0]->dtype);
  c->scratch_bytes = nm_stage_all(c, ct) + cv_align((size_t)a.C * 2 * sizeof(double));
  return 0;
}

er_status cv_batchnorm_run(er_kctx *c) {
  bn_args a;
  ER_RETURN_IF_ERROR(bn_geom(c, &a));
  int ct = cv_ctype(c->in[0]->dtype);
  char *sp = (char *)c->scratch;
  nm_bufs b;
  nm_stage(c, ct, &sp, &b);
  double *stats = (double *)cv_take(&sp, (size_t)a.C * 2 * sizeof(double));
  if (ct == ER_F64)
    bn_f64(&a, c->opset, c->n_out, b.in, b.out, stats);
  else
    bn_f32(&a, c->opset, c->n_out, b.in, b.out, stats);
  nm_unstage(c, ct, &b);
  return 0;
}

/* ---------------- InstanceNormalization ---------------- */
static er_status in_geom(const er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 3, 3));
  ER_RETURN_IF_ERROR(er_check_type(c, 0, cv_float_types));
  const er_tensor *X = c->in[0];
  if (X->rank < 3) return ER_ERR(ER_INVALID_ARGUMENT, "X must have rank >= 3, got %d", X->rank);
  for (int i = 1; i < 3; i++) {
    if (c->in[i]->dtype != X->dtype) return ER_ERR(ER_INVALID_ARGUMENT, "scale and B must have the type of X");
    ER_RETURN_IF_ERROR(nm_check_len(c->in[i], X->dims[1], i == 1 ? "scale" : "B"));
  }
  return 0;
}

er_status cv_instnorm_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(in_geom(c));
  er_tensor_set_shape(c->out[0], c->in[0]->dtype, c->in[0]->rank, c->in[0]->dims);
  c->scratch_bytes = nm_stage_all(c, cv_ctype(c->in[0]->dtype));
  return 0;
}

er_status cv_instnorm_run(er_kctx *c) {
  ER_RETURN_IF_ERROR(in_geom(c));
  const er_tensor *X = c->in[0];
  int ct = cv_ctype(X->dtype);
  char *sp = (char *)c->scratch;
  nm_bufs b;
  nm_stage(c, ct, &sp, &b);
  int64_t N = X->dims[0], C = X->dims[1], S = er_shape_numel(X->dims + 2, X->rank - 2);
  double eps = er_attr_float(c, "epsilon", 1e-5f);
  /* one group per (n, c): the group-norm body with G = C and per-channel affine */
  if (ct == ER_F64)
    gn_f64(N, C, C, S, eps, b.in[0], b.in[1], b.in[2], 1, b.out[0]);
  else
    gn_f32(N, C, C, S, eps, b.in[0], b.in[1], b.in[2], 1, b.out[0]);
  nm_unstage(c, ct, &b);
  return 0;
}

/* ---------------- GroupNormalization ---------------- */
static er_status gn_geom(const er_kctx *c, int64_t *G, int *per_channel) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 3, 3));
  ER_RETURN_IF_ERROR(er_check_type(c, 0, cv_float_types));
  const er_tensor *X = c->in[0];
  if (X->rank < 2) return ER_ERR(ER_INVALID_ARGUMENT, "X must have rank >= 2, got %d", X->rank);
  const er_attr *ng = er_attr_get(c, "num_groups");
  if (!ng) return ER_ERR(ER_INVALID_MODEL, "attribute num_groups is required");
  *G = ng->i;
  int64_t C = X->dims[1];
  if (*G < 1 || C % *G) return ER_ERR(ER_INVALID_ARGUMENT, "num_groups %lld does not divide %lld channels", (long long)*G, (long long)C);
  for (int i = 1; i < 3; i++) ER_RETURN_IF_ERROR(nm_check_float(c, i, i == 1 ? "scale" : "bias"));
  int64_t ns = er_tensor_numel(c->in[1]), nb = er_tensor_numel(c->in[2]);
  if (ns != nb) return ER_ERR(ER_INVALID_ARGUMENT, "scale and bias sizes differ");
  /* opset 21: per channel [C]; opset 18: per group [num_groups] */
  if (ns == C && (c->opset >= 21 || ns == *G)) *per_channel = 1;
  else if (ns == *G && c->opset < 21) *per_channel = 0;
  else
    return ER_ERR(ER_INVALID_ARGUMENT, "scale has %lld values, expected %lld", (long long)ns,
                  (long long)(c->opset >= 21 ? C : *G));
  return 0;
}

er_status cv_groupnorm_infer(er_kctx *c) {
  int64_t G;
  int pc;
  ER_RETURN_IF_ERROR(gn_geom(c, &G, &pc));
  er_tensor_set_shape(c->out[0], c->in[0]->dtype, c->in[0]->rank, c->in[0]->dims);
  c->scratch_bytes = nm_stage_all(c, cv_ctype(c->in[0]->dtype));
  return 0;
}

er_status cv_groupnorm_run(er_kctx *c) {
  int64_t G;
  int pc;
  ER_RETURN_IF_ERROR(gn_geom(c, &G, &pc));
  const er_tensor *X = c->in[0];
  int ct = cv_ctype(X->dtype);
  char *sp = (char *)c->scratch;
  nm_bufs b;
  nm_stage(c, ct, &sp, &b);
  int64_t N = X->dims[0], C = X->dims[1], S = er_shape_numel(X->dims + 2, X->rank - 2);
  double eps = er_attr_float(c, "epsilon", 1e-5f);
  if (ct == ER_F64)
    gn_f64(N, C, G, S, eps, b.in[0], b.in[1], b.in[2], pc, b.out[0]);
  else
    gn_f32(N, C, G, S, eps, b.in[0], b.in[1], b.in[2], pc, b.out[0]);
  nm_unstage(c, ct, &b);
  return 0;
}

/* ---------------- LayerNormalization ---------------- */

static er_status ln_geom(const er_kctx *c, ln_args *a) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 2, 3));
  ER_RETURN_IF_ERROR(er_check_type(c, 0, cv_float_types));
  const er_tensor *X = c->in[0];
  ER_RETURN_IF_ERROR(er_normalize_axis(er_attr_int(c, "axis", -1), X->rank, &a->axis));
  a->outer = er_shape_numel(X->dims, a->axis);
  a->inner = er_shape_numel(X->dims + a->axis, X->rank - a->axis);
  a->eps = er_attr_float(c, "epsilon", 1e-5f);
  a->stash = (int)er_attr_int(c, "stash_type", 1);
  if (a->stash != ER_F32 && a->stash != ER_F64 && a->stash != ER_F16 && a->stash != ER_BF16)
    return ER_ERR(ER_INVALID_ARGUMENT, "unsupported stash_type %d", a->stash);
  /* Scale and B broadcast unidirectionally to X.shape[axis:] */
  int nr = X->rank - a->axis;
  for (int i = 1; i < 3; i++) {
    const er_tensor *t = er_in(c, i);
    if (!t) continue;
    if (t->dtype != X->dtype) return ER_ERR(ER_INVALID_ARGUMENT, "%s must have the type of X", i == 1 ? "Scale" : "B");
    if (t->rank > nr) return ER_ERR(ER_INVALID_ARGUMENT, "%s has rank %d, more than the %d normalized dims", i == 1 ? "Scale" : "B", t->rank, nr);
    for (int d = 0; d < t->rank; d++) {
      int64_t td = t->dims[t->rank - 1 - d], xd = X->dims[X->rank - 1 - d];
      if (td != 1 && td != xd)
        return ER_ERR(ER_INVALID_ARGUMENT, "%s does not broadcast to the normalized shape", i == 1 ? "Scale" : "B");
    }
  }
  return 0;
}

er_status cv_layernorm_infer(er_kctx *c) {
  ln_args a;
  ER_RETURN_IF_ERROR(ln_geom(c, &a));
  const er_tensor *X = c->in[0];
  er_tensor_set_shape(c->out[0], X->dtype, X->rank, X->dims);
  int64_t d[ER_MAX_RANK];
  for (int i = 0; i < X->rank; i++) d[i] = i < a.axis ? X->dims[i] : 1;
  for (int i = 1; i < 3 && i < c->n_out; i++)
    if (c->out[i]) er_tensor_set_shape(c->out[i], a.stash, X->rank, d);
  int ct = cv_ctype(X->dtype);
  c->scratch_bytes = cv_stage_bytes(X, ct) + cv_stage_bytes(c->in[1], ct) + cv_stage_bytes(er_in(c, 2), ct) +
                     cv_stage_bytes(c->out[0], ct) + 2 * cv_align((size_t)a.inner * sizeof(int64_t)) +
                     2 * cv_align((size_t)a.outer * sizeof(double));
  return 0;
}

/* Element offsets of a broadcast parameter tensor for each normalized position. */
static void ln_index_map(const er_tensor *t, int rank, const int64_t *dims, int64_t *map) {
  int64_t st[ER_MAX_RANK];
  er_broadcast_strides(t, rank, dims, st);
  int64_t n = er_shape_numel(dims, rank), idx[ER_MAX_RANK] = {0}, off = 0;
  for (int64_t k = 0; k < n; k++) {
    map[k] = off;
    for (int d = rank - 1; d >= 0; d--) {
      off += st[d];
      if (++idx[d] < dims[d]) break;
      off -= st[d] * dims[d];
      idx[d] = 0;
    }
  }
}

/* float32 fast path: Scale (and B) hold one value per normalized element (no broadcasting
 * within the normalized dims) and the Mean / InvStdDev outputs, when present, are float32.
 * Rows go to the table's f32_layernorm, split over threads by blocks of rows; each row is
 * computed the same way for any split. */
typedef struct {
  const er_microkernels *mk;
  const float *x, *sc, *bi;
  float *y, *mean, *istd;
  int64_t n;
  float eps;
} ln_job;

static void ln_rows_range(void *arg, int64_t b, int64_t e) {
  const ln_job *j = (const ln_job *)arg;
  j->mk->f32_layernorm(j->x + b * j->n, j->y + b * j->n, e - b, j->n, j->sc, j->bi, j->eps,
                       j->mean ? j->mean + b : NULL, j->istd ? j->istd + b : NULL);
}

/* Test hook: non-zero keeps float32 on the generic (double statistics) path. */
int er_layernorm_f32_fast_disabled;

static int ln_fast(er_kctx *c, const ln_args *a) {
  const er_tensor *X = c->in[0], *S = c->in[1], *B = er_in(c, 2);
  er_tensor *m = er_out(c, 1), *is = er_out(c, 2);
  if (er_layernorm_f32_fast_disabled || X->dtype != ER_F32 || a->inner <= 0) return 0;
  if (er_tensor_numel(S) != a->inner || (B && er_tensor_numel(B) != a->inner)) return 0;
  if ((m && m->dtype != ER_F32) || (is && is->dtype != ER_F32)) return 0;
  ln_job j = {c->mk ? c->mk : er_microkernels_ref(), (const float *)X->data,
              (const float *)S->data, B ? (const float *)B->data : NULL,
              (float *)c->out[0]->data, m ? (float *)m->data : NULL,
              is ? (float *)is->data : NULL, a->inner, (float)a->eps};
  /* ~32K elements per thread chunk: below that, waking a thread costs more than it saves */
  int64_t grain = a->inner >= 32768 ? 1 : 32768 / a->inner;
  er_parallel_for(c, a->outer, grain, ln_rows_range, &j);
  return 1;
}

er_status cv_layernorm_run(er_kctx *c) {
  ln_args a;
  ER_RETURN_IF_ERROR(ln_geom(c, &a));
  if (ln_fast(c, &a)) return 0;
  const er_tensor *X = c->in[0];
  int ct = cv_ctype(X->dtype);
  char *sp = (char *)c->scratch;
  void *x = cv_stage_in(X, ct, &sp), *sc = cv_stage_in(c->in[1], ct, &sp), *bi = cv_stage_in(er_in(c, 2), ct, &sp);
  void *y = cv_stage_out(c->out[0], ct, &sp);
  int64_t *smap = (int64_t *)cv_take(&sp, (size_t)a.inner * sizeof(int64_t));
  int64_t *bmap = (int64_t *)cv_take(&sp, (size_t)a.inner * sizeof(int64_t));
  double *mean = (double *)cv_take(&sp, (size_t)a.outer * sizeof(double));
  double *istd = (double *)cv_take(&sp, (size_t)a.outer * sizeof(double));
  int nr = X->rank - a.axis;
  ln_index_map(c->in[1], nr, X->dims + a.axis, smap);
  if (bi) ln_index_map(c->in[2], nr, X->dims + a.axis, bmap);
  if (ct == ER_F64)
    ln_f64(&a, x, sc, smap, bi, bmap, y, mean, istd);
  else
    ln_f32(&a, x, sc, smap, bi, bmap, y, mean, istd);
  cv_unstage_out(c->out[0], ct, y);
  for (int i = 1; i < 3 && i < c->n_out; i++) {
    er_tensor *t = c->out[i];
    if (!t) continue;
    const double *v = i == 1 ? mean : istd;
    for (int64_t k = 0; k < a.outer; k++) er_store_f64(t->data, t->dtype, (size_t)k, v[k]);
  }
  return 0;
}

/* ---------------- LRN ---------------- */
static er_status lrn_check(const er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  ER_RETURN_IF_ERROR(er_check_type(c, 0, cv_float_types));
  if (c->in[0]->rank < 2) return ER_ERR(ER_INVALID_ARGUMENT, "X must have rank >= 2");
  const er_attr *s = er_attr_get(c, "size");
  if (!s || s->i < 1) return ER_ERR(ER_INVALID_MODEL, "attribute size is required and must be >= 1");
  return 0;
}

er_status cv_lrn_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(lrn_check(c));
  er_tensor_set_shape(c->out[0], c->in[0]->dtype, c->in[0]->rank, c->in[0]->dims);
  c->scratch_bytes = nm_stage_all(c, cv_ctype(c->in[0]->dtype));
  return 0;
}

er_status cv_lrn_run(er_kctx *c) {
  ER_RETURN_IF_ERROR(lrn_check(c));
  const er_tensor *X = c->in[0];
  int ct = cv_ctype(X->dtype);
  char *sp = (char *)c->scratch;
  nm_bufs b;
  nm_stage(c, ct, &sp, &b);
  int64_t size = er_attr_int(c, "size", 1);
  double alpha = er_attr_float(c, "alpha", 1e-4f), beta = er_attr_float(c, "beta", 0.75f), bias = er_attr_float(c, "bias", 1.0f);
  int64_t N = X->dims[0], C = X->dims[1], S = er_shape_numel(X->dims + 2, X->rank - 2);
  if (ct == ER_F64)
    lrn_f64(N, C, S, size, alpha, beta, bias, b.in[0], b.out[0]);
  else
    lrn_f32(N, C, S, size, alpha, beta, bias, b.in[0], b.out[0]);
  nm_unstage(c, ct, &b);
  return 0;
}

/* ---------------- LpNormalization ---------------- */
static er_status lpn_geom(const er_kctx *c, int *axis, int64_t *p) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  ER_RETURN_IF_ERROR(er_check_type(c, 0, cv_float_types));
  ER_RETURN_IF_ERROR(er_normalize_axis(er_attr_int(c, "axis", -1), c->in[0]->rank, axis));
  *p = er_attr_int(c, "p", 2);
  if (*p != 1 && *p != 2) return ER_ERR(ER_INVALID_ARGUMENT, "p must be 1 or 2, got %lld", (long long)*p);
  return 0;
}

er_status cv_lpnorm_infer(er_kctx *c) {
  int axis;
  int64_t p;
  ER_RETURN_IF_ERROR(lpn_geom(c, &axis, &p));
  er_tensor_set_shape(c->out[0], c->in[0]->dtype, c->in[0]->rank, c->in[0]->dims);
  c->scratch_bytes = nm_stage_all(c, cv_ctype(c->in[0]->dtype));
  return 0;
}

er_status cv_lpnorm_run(er_kctx *c) {
  int axis;
  int64_t p;
  ER_RETURN_IF_ERROR(lpn_geom(c, &axis, &p));
  const er_tensor *X = c->in[0];
  int ct = cv_ctype(X->dtype);
  char *sp = (char *)c->scratch;
  nm_bufs b;
  nm_stage(c, ct, &sp, &b);
  int64_t outer = er_shape_numel(X->dims, axis), n = X->dims[axis];
  int64_t inner = er_shape_numel(X->dims + axis + 1, X->rank - axis - 1);
  if (ct == ER_F64)
    lpn_f64(outer, n, inner, (int)p, b.in[0], b.out[0]);
  else
    lpn_f32(outer, n, inner, (int)p, b.in[0], b.out[0]);
  nm_unstage(c, ct, &b);
  return 0;
}

/* ---------------- MeanVarianceNormalization ---------------- */
static er_status mvn_geom(const er_kctx *c, int *reduce, int *norm_var, int64_t *groups) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  ER_RETURN_IF_ERROR(er_check_type(c, 0, cv_float_types));
  const er_tensor *X = c->in[0];
  int r = X->rank;
  for (int i = 0; i < r; i++) reduce[i] = 0;
  *norm_var = 1;
  if (c->opset < 9) {
    int across = (int)er_attr_int(c, "across_channels", 0);
    *norm_var = (int)er_attr_int(c, "normalize_variance", 1);
    for (int i = across ? 1 : 2; i < r; i++) reduce[i] = 1;
  } else {
    const int64_t *ax;
    int n = er_attr_ints(c, "axes", &ax);
    if (n < 0) {
      if (r < 4) return ER_ERR(ER_INVALID_ARGUMENT, "default axes [0,2,3] need rank >= 4, got %d", r);
      reduce[0] = reduce[2] = reduce[3] = 1;
    }
    for (int i = 0; i < n; i++) {
      int a;
      ER_RETURN_IF_ERROR(er_normalize_axis(ax[i], r, &a));
      reduce[a] = 1;
    }
  }
  *groups = 1;
  for (int i = 0; i < r; i++)
    if (!reduce[i]) *groups *= X->dims[i];
  return 0;
}

er_status cv_mvn_infer(er_kctx *c) {
  int reduce[ER_MAX_RANK], nv;
  int64_t groups;
  ER_RETURN_IF_ERROR(mvn_geom(c, reduce, &nv, &groups));
  er_tensor_set_shape(c->out[0], c->in[0]->dtype, c->in[0]->rank, c->in[0]->dims);
  c->scratch_bytes = nm_stage_all(c, cv_ctype(c->in[0]->dtype)) + cv_align((size_t)groups * 2 * sizeof(double));
  return 0;
}

er_status cv_mvn_run(er_kctx *c) {
  int reduce[ER_MAX_RANK], nv;
  int64_t groups;
  ER_RETURN_IF_ERROR(mvn_geom(c, reduce, &nv, &groups));
  const er_tensor *X = c->in[0];
  int ct = cv_ctype(X->dtype);
  char *sp = (char *)c->scratch;
  nm_bufs b;
  nm_stage(c, ct, &sp, &b);
  double *acc = (double *)cv_take(&sp, (size_t)groups * 2 * sizeof(double));
  if (ct == ER_F64)
    mvn_f64(X, reduce, nv, groups, b.in[0], b.out[0], acc);
  else
    mvn_f32(X, reduce, nv, groups, b.in[0], b.out[0], acc);
  nm_unstage(c, ct, &b);
  return 0;
}

#else /* ===================== template section ===================== */
typedef CV_T CV(T);
#define T CV(T)

/* mean and population variance of n values (two passes, double) */
static void CV(moments)(const T *x, int64_t n, int64_t stride, double *mean, double *var) {
  double s = 0, q = 0;
  for (int64_t i = 0; i < n; i++) s += x[i * stride];
  double m = n ? s / (double)n : 0;
  for (int64_t i = 0; i < n; i++) {
    double d = x[i * stride] - m;
    q += d * d;
  }
  *mean = m, *var = n ? q / (double)n : 0;
}

static void CV(bn)(const struct bn_args *a, int opset, int n_out, void **in, void **out, double *stats) {
  const T *x = in[0], *sc = in[1], *bi = in[2], *mean = in[3], *var = in[4];
  T *y = out[0];
  const int64_t N = a->N, C = a->C, S = a->S;
  if (!a->training) {
    for (int64_t n = 0; n < N; n++)
      for (int64_t ch = 0; ch < C; ch++) {
        const T *xp = x + (n * C + ch) * S;
        T *yp = y + (n * C + ch) * S;
        if (a->spatial) {
          double k = sc[ch] / sqrt((double)var[ch] + a->eps), m = mean[ch], bb = bi[ch];
          for (int64_t s = 0; s < S; s++) yp[s] = (T)((xp[s] - m) * k + bb);
        } else {
          for (int64_t s = 0; s < S; s++) {
            int64_t p = ch * S + s;
            yp[s] = (T)((xp[s] - (double)mean[p]) * sc[p] / sqrt((double)var[p] + a->eps) + bi[p]);
          }
        }
      }
    return;
  }
  double *bm = stats, *bv = stats + C;
  for (int64_t ch = 0; ch < C; ch++) {
    double s = 0, q = 0;
    for (int64_t n = 0; n < N; n++)
      for (int64_t i = 0; i < S; i++) s += x[(n * C + ch) * S + i];
    double m = N * S > 0 ? s / (double)(N * S) : 0;
    for (int64_t n = 0; n < N; n++)
      for (int64_t i = 0; i < S; i++) {
        double d = x[(n * C + ch) * S + i] - m;
        q += d * d;
      }
    bm[ch] = m, bv[ch] = N * S > 0 ? q / (double)(N * S) : 0;
    double k = sc[ch] / sqrt(bv[ch] + a->eps);
    for (int64_t n = 0; n < N; n++)
      for (int64_t i = 0; i < S; i++) y[(n * C + ch) * S + i] = (T)((x[(n * C + ch) * S + i] - m) * k + bi[ch]);
  }
  /* opset >= 14: Y, running_mean, running_var.
   * older: Y, mean, var (running), saved_mean, saved_var (batch statistics) */
  T *rm = n_out > 1 ? out[1] : 0, *rv = n_out > 2 ? out[2] : 0;
  T *smo = opset < 14 && n_out > 3 ? out[3] : 0, *svo = opset < 14 && n_out > 4 ? out[4] : 0;
  for (int64_t ch = 0; ch < C; ch++) {
    if (rm) rm[ch] = (T)(mean[ch] * a->mom + bm[ch] * (1 - a->mom));
    if (rv) rv[ch] = (T)(var[ch] * a->mom + bv[ch] * (1 - a->mom));
    if (smo) smo[ch] = (T)bm[ch];
    if (svo) svo[ch] = (T)bv[ch];
  }
}

/* Group normalization over N x G groups of (C/G)*S values; affine per channel
 * (per_channel) or per group. Instance norm is G = C. */
static void CV(gn)(int64_t N, int64_t C, int64_t G, int64_t S, double eps, const T *x, const T *sc, const T *bi,
                   int per_channel, T *y) {
  const int64_t cpg = C / G, len = cpg * S;
  for (int64_t n = 0; n < N; n++)
    for (int64_t g = 0; g < G; g++) {
      const T *xp = x + (n * C + g * cpg) * S;
      T *yp = y + (n * C + g * cpg) * S;
      double m, v;
      CV(moments)(xp, len, 1, &m, &v);
      double inv = 1.0 / sqrt(v + eps);
      for (int64_t ci = 0; ci < cpg; ci++) {
        int64_t p = per_channel ? g * cpg + ci : g;
        double k = inv * sc[p], bb = bi[p];
        for (int64_t s = 0; s < S; s++) yp[ci * S + s] = (T)((xp[ci * S + s] - m) * k + bb);
      }
    }
}

static void CV(ln)(const struct ln_args *a, const T *x, const T *sc, const int64_t *smap, const T *bi,
                   const int64_t *bmap, T *y, double *mean, double *istd) {
  for (int64_t o = 0; o < a->outer; o++) {
    const T *xp = x + o * a->inner;
    T *yp = y + o * a->inner;
    double m, v;
    CV(moments)(xp, a->inner, 1, &m, &v);
    double inv = 1.0 / sqrt(v + a->eps);
    mean[o] = m, istd[o] = inv;
    for (int64_t i = 0; i < a->inner; i++) {
      double r = (xp[i] - m) * inv * sc[smap[i]];
      if (bi) r += bi[bmap[i]];
      yp[i] = (T)r;
    }
  }
}

static void CV(lrn)(int64_t N, int64_t C, int64_t S, int64_t size, double alpha, double beta, double bias,
                    const T *x, T *y) {
  const int64_t lo = (size - 1) / 2, hi = size - 1 - lo;
  for (int64_t n = 0; n < N; n++)
    for (int64_t ch = 0; ch < C; ch++)
      for (int64_t s = 0; s < S; s++) {
        double q = 0;
        int64_t c0 = ch - lo < 0 ? 0 : ch - lo, c1 = ch + hi > C - 1 ? C - 1 : ch + hi;
        for (int64_t k = c0; k <= c1; k++) {
          double v = x[(n * C + k) * S + s];
          q += v * v;
        }
        int64_t i = (n * C + ch) * S + s;
        y[i] = (T)(x[i] / pow(bias + alpha / (double)size * q, beta));
      }
}

static void CV(lpn)(int64_t outer, int64_t n, int64_t inner, int p, const T *x, T *y) {
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < inner; j++) {
      const T *xp = x + o * n * inner + j;
      T *yp = y + o * n * inner + j;
      double s = 0;
      for (int64_t i = 0; i < n; i++) s += p == 1 ? fabs((double)xp[i * inner]) : (double)xp[i * inner] * xp[i * inner];
      double norm = p == 1 ? s : sqrt(s);
      for (int64_t i = 0; i < n; i++) yp[i * inner] = norm == 0 ? (T)0 : (T)(xp[i * inner] / norm);
    }
}

static void CV(mvn)(const er_tensor *X, const int *reduce, int norm_var, int64_t groups, const T *x, T *y, double *acc) {
  int64_t total = er_tensor_numel(X), cnt = groups ? total / groups : 0;
  double *sum = acc, *sq = acc + groups;
  memset(acc, 0, (size_t)groups * 2 * sizeof(double));
  nm_iter it;
  nm_iter_init(&it, X->rank, X->dims, reduce);
  for (int64_t k = 0; k < total; k++, nm_iter_next(&it)) {
    double v = x[k];
    sum[it.off] += v, sq[it.off] += v * v;
  }
  for (int64_t g = 0; g < groups; g++) {
    double m = sum[g] / (double)cnt, var = sq[g] / (double)cnt - m * m;
    sum[g] = m, sq[g] = norm_var ? 1.0 / (sqrt(var > 0 ? var : 0) + 1e-9) : 1.0;
  }
  nm_iter_init(&it, X->rank, X->dims, reduce);
  for (int64_t k = 0; k < total; k++, nm_iter_next(&it)) y[k] = (T)((x[k] - sum[it.off]) * sq[it.off]);
}

#undef T
#endif
