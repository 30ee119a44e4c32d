/*
 * Pooling: AveragePool, MaxPool (+Indices), LpPool, Global{Average,Max,Lp}Pool,
 * MaxUnpool, RoiAlign, MaxRoiPool. Registered in ops_conv.c.
 * Like ops_conv.c, the kernel bodies are a template included twice (float, double).
 */
#ifndef CV_T
#include <math.h>
#include "kernels/ref/conv_common.h"

enum { POOL_MAX = 0, POOL_AVG = 1, POOL_LP = 2 };

static inline int64_t pl_cdiv(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

/* Taps t in [0,k) of a window starting at `start` with dilation d whose position
 * start + t*d lies in [lo, hi): returns [*t0, *t1). */
static inline void pl_taps(int64_t start, int64_t k, int64_t d, int64_t lo, int64_t hi, int64_t *t0, int64_t *t1) {
  int64_t a = pl_cdiv(lo - start, d), b = pl_cdiv(hi - start, d);
  if (a < 0) a = 0;
  if (b > k) b = k;
  if (b < a) b = a;
  *t0 = a, *t1 = b;
}

/* ---- RoiAlign ---- */
typedef struct ra_args {
  int64_t R, C, H, W, oh, ow, sr;
  double scale, offset;
  int max_mode, aligned_clip; /* clip roi size to >= 1 (output_half_pixel) */
} ra_args;

#define CV_T float
#define CV(name) name##_f32
#include "kernels/ref/conv_pool.c"
#undef CV_T
#undef CV
#define CV_T double
#define CV(name) name##_f64
#include "kernels/ref/conv_pool.c"
#undef CV_T
#undef CV

static const int pool_max_types[] = {ER_F32, ER_F64, ER_F16, ER_BF16, ER_I8, ER_U8, 0};

typedef struct pl_args {
  cv_win w;
  int kind, cip, so;
  double p;
} pl_args;

static double pl_p(const er_kctx *c, int opset_int) {
  if (c->opset >= opset_int) return (double)er_attr_int(c, "p", 2);
  return (double)er_attr_float(c, "p", 2.0f);
}

static er_status pool_geom(const er_kctx *c, int kind, pl_args *a) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  ER_RETURN_IF_ERROR(er_check_type(c, 0, kind == POOL_MAX ? pool_max_types : cv_float_types));
  const er_tensor *X = c->in[0];
  if (X->rank < 3) return ER_ERR(ER_INVALID_ARGUMENT, "X must have rank >= 3, got %d", X->rank);
  int nsp = X->rank - 2;
  if (nsp > CV_MAXSP) return ER_ERR(ER_UNSUPPORTED, "%d spatial dimensions (1 to 3 supported)", nsp);
  const int64_t *k;
  int nk = er_attr_ints(c, "kernel_shape", &k);
  if (nk < 0) return ER_ERR(ER_INVALID_MODEL, "attribute kernel_shape is required");
  if (nk != nsp) return ER_ERR(ER_INVALID_ARGUMENT, "kernel_shape has %d values, expected %d", nk, nsp);
  int dil_from = kind == POOL_MAX ? 10 : kind == POOL_AVG ? 19 : 18;
  ER_RETURN_IF_ERROR(cv_window(c, nsp, X->dims + 2, k, 1, c->opset >= dil_from, &a->w));
  a->kind = kind;
  a->cip = kind == POOL_AVG ? (int)er_attr_int(c, "count_include_pad", 0) : 0;
  a->so = kind == POOL_MAX ? (int)er_attr_int(c, "storage_order", 0) : 0;
  if (a->so != 0 && a->so != 1) return ER_ERR(ER_INVALID_ARGUMENT, "storage_order must be 0 or 1");
  a->p = kind == POOL_LP ? pl_p(c, 2) : 0;
  if (kind == POOL_LP && !(a->p > 0)) return ER_ERR(ER_INVALID_ARGUMENT, "p must be positive");
  return 0;
}

static er_status pool_infer(er_kctx *c, int kind) {
  pl_args a;
  ER_RETURN_IF_ERROR(pool_geom(c, kind, &a));
  const er_tensor *X = c->in[0];
  int64_t d[ER_MAX_RANK] = {X->dims[0], X->dims[1]};
  for (int i = 0; i < a.w.nsp; i++) d[2 + i] = a.w.out[3 - a.w.nsp + i];
  er_tensor_set_shape(c->out[0], X->dtype, X->rank, d);
  if (er_out(c, 1)) {
    if (kind != POOL_MAX) return ER_ERR(ER_INVALID_MODEL, "only one output expected");
    er_tensor_set_shape(c->out[1], ER_I64, X->rank, d);
  }
  int ct = cv_ctype(X->dtype);
  c->scratch_bytes = cv_stage_bytes(X, ct) + cv_stage_bytes(c->out[0], ct);
  return 0;
}

typedef struct pl_job {
  const pl_args *a;
  int ct;
  void *x, *y;
  int64_t *ind;
} pl_job;

static void pl_task(void *arg, int64_t nc0, int64_t nc1) {
  const pl_job *j = (const pl_job *)arg;
  const pl_args *a = j->a;
  if (j->ct == ER_F64)
    pool_f64(&a->w, a->kind, a->cip, a->p, a->so, nc0, nc1, (const double *)j->x, (double *)j->y, j->ind);
  else
    pool_f32(&a->w, a->kind, a->cip, (float)a->p, a->so, nc0, nc1, (const float *)j->x, (float *)j->y, j->ind);
}

static er_status pool_run(er_kctx *c, int kind) {
  pl_args a;
  ER_RETURN_IF_ERROR(pool_geom(c, kind, &a));
  const er_tensor *X = c->in[0];
  int ct = cv_ctype(X->dtype);
  char *sp = (char *)c->scratch;
  void *x = cv_stage_in(X, ct, &sp), *y = cv_stage_out(c->out[0], ct, &sp);
  int64_t *ind = er_out(c, 1) ? (int64_t *)c->out[1]->data : 0;
  pl_job j = {&a, ct, x, y, ind};
  int64_t nc = X->dims[0] * X->dims[1];
  /* planes are independent: split them over the threads (same bits for any split) */
  int64_t grain = 4096 / (cv_prod3(a.w.out) + 1) + 1;
  er_parallel_for(c, nc, grain, pl_task, &j);
  cv_unstage_out(c->out[0], ct, y);
  return 0;
}

er_status cv_avgpool_infer(er_kctx *c) { return pool_infer(c, POOL_AVG); }
er_status cv_avgpool_run(er_kctx *c) { return pool_run(c, POOL_AVG); }
er_status cv_maxpool_infer(er_kctx *c) { return pool_infer(c, POOL_MAX); }
er_status cv_maxpool_run(er_kctx *c) { return pool_run(c, POOL_MAX); }
er_status cv_lppool_infer(er_kctx *c) { return pool_infer(c, POOL_LP); }
er_status cv_lppool_run(er_kctx *c) { return pool_run(c, POOL_LP); }

/* ---- global pools ---- */
static er_status gpool_infer(er_kctx *c, int kind) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  ER_RETURN_IF_ERROR(er_check_type(c, 0, cv_float_types));
  const er_tensor *X = c->in[0];
  if (X->rank < 2) return ER_ERR(ER_INVALID_ARGUMENT, "X must have rank >= 2, got %d", X->rank);
  if (kind == POOL_LP && !(pl_p(c, 2) > 0)) return ER_ERR(ER_INVALID_ARGUMENT, "p must be positive");
  int64_t d[ER_MAX_RANK];
  for (int i = 0; i < X->rank; i++) d[i] = i < 2 ? X->dims[i] : 1;
  er_tensor_set_shape(c->out[0], X->dtype, X->rank, d);
  int ct = cv_ctype(X->dtype);
  c->scratch_bytes = cv_stage_bytes(X, ct) + cv_stage_bytes(c->out[0], ct);
  return 0;
}

static er_status gpool_run(er_kctx *c, int kind) {
  const er_tensor *X = c->in[0];
  int ct = cv_ctype(X->dtype);
  char *sp = (char *)c->scratch;
  void *x = cv_stage_in(X, ct, &sp), *y = cv_stage_out(c->out[0], ct, &sp);
  int64_t nc = X->dims[0] * X->dims[1], n = er_shape_numel(X->dims + 2, X->rank - 2);
  double p = kind == POOL_LP ? pl_p(c, 2) : 0;
  if (ct == ER_F64)
    gpool_f64(kind, p, nc, n, x, y);
  else
    gpool_f32(kind, (float)p, nc, n, x, y);
  cv_unstage_out(c->out[0], ct, y);
  return 0;
}

er_status cv_gavgpool_infer(er_kctx *c) { return gpool_infer(c, POOL_AVG); }
er_status cv_gavgpool_run(er_kctx *c) { return gpool_run(c, POOL_AVG); }
er_status cv_gmaxpool_infer(er_kctx *c) { return gpool_infer(c, POOL_MAX); }
er_status cv_gmaxpool_run(er_kctx *c) { return gpool_run(c, POOL_MAX); }
er_status cv_glppool_infer(er_kctx *c) { return gpool_infer(c, POOL_LP); }
er_status cv_glppool_run(er_kctx *c) { return gpool_run(c, POOL_LP); }

/* ---- MaxUnpool ----
 * Indices address the unpooled tensor of the inferred shape (from kernel, strides,
 * pads). With an explicit output_shape, that tensor is placed at the origin of a
 * zero output of the given shape. Element type agnostic (bytes are copied). */
static er_status unpool_inferred(const er_kctx *c, int64_t *d) {
  const er_tensor *X = c->in[0];
  int nsp = X->rank - 2;
  const int64_t *k;
  if (er_attr_ints(c, "kernel_shape", &k) != nsp) return ER_ERR(ER_INVALID_MODEL, "kernel_shape must have %d values", nsp);
  int64_t s[ER_MAX_RANK], p[2 * ER_MAX_RANK];
  ER_RETURN_IF_ERROR(cv_ints_attr(c, "strides", nsp, 1, s));
  ER_RETURN_IF_ERROR(cv_ints_attr(c, "pads", 2 * nsp, 0, p));
  d[0] = X->dims[0], d[1] = X->dims[1];
  for (int i = 0; i < nsp; i++) {
    d[2 + i] = (X->dims[2 + i] - 1) * s[i] + k[i] - p[i] - p[i + nsp];
    if (d[2 + i] < 0) return ER_ERR(ER_INVALID_ARGUMENT, "negative output size in dim %d", i);
  }
  return 0;
}

er_status cv_maxunpool_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 2, 3));
  const er_tensor *X = c->in[0], *I = c->in[1];
  if (!er_dtype_size(X->dtype)) return ER_ERR(ER_INVALID_ARGUMENT, "unsupported X type");
  if (I->dtype != ER_I64) return ER_ERR(ER_INVALID_ARGUMENT, "I must be int64");
  if (X->rank < 3) return ER_ERR(ER_INVALID_ARGUMENT, "X must have rank >= 3, got %d", X->rank);
  if (I->rank != X->rank) return ER_ERR(ER_INVALID_ARGUMENT, "I and X shapes differ");
  for (int i = 0; i < X->rank; i++)
    if (I->dims[i] != X->dims[i]) return ER_ERR(ER_INVALID_ARGUMENT, "I and X shapes differ");
  int64_t d[ER_MAX_RANK], inf[ER_MAX_RANK];
  ER_RETURN_IF_ERROR(unpool_inferred(c, inf));
  if (er_in(c, 2)) {
    if (!er_in_known(c, 2)) return er_needs_data(c);
    int n;
    ER_RETURN_IF_ERROR(er_read_ints(c->in[2], d, ER_MAX_RANK, &n));
    if (n != X->rank) return ER_ERR(ER_INVALID_ARGUMENT, "output_shape has %d values, expected %d", n, X->rank);
    for (int i = 0; i < n; i++)
      if (d[i] < inf[i])
        return ER_ERR(ER_INVALID_ARGUMENT, "output_shape[%d]=%lld is smaller than the unpooled size %lld", i,
                      (long long)d[i], (long long)inf[i]);
  } else {
    memcpy(d, inf, sizeof d);
  }
  er_tensor_set_shape(c->out[0], X->dtype, X->rank, d);
  return 0;
}

er_status cv_maxunpool_run(er_kctx *c) {
  const er_tensor *X = c->in[0], *I = c->in[1];
  er_tensor *Y = c->out[0];
  int64_t inf[ER_MAX_RANK];
  ER_RETURN_IF_ERROR(unpool_inferred(c, inf));
  size_t es = er_dtype_size(X->dtype);
  int r = X->rank;
  int64_t n = er_tensor_numel(X), ninf = er_shape_numel(inf, r);
  const int64_t *ind = (const int64_t *)I->data;
  memset(Y->data, 0, er_tensor_nbytes(Y));
  for (int64_t j = 0; j < n; j++) {
    int64_t q = ind[j];
    if (q < 0 || q >= ninf)
      return ER_ERR(ER_OUT_OF_RANGE, "index %lld at position %lld is outside the unpooled tensor (%lld elements)",
                    (long long)q, (long long)j, (long long)ninf);
    int64_t off = 0, mul = 1; /* re-linearize the coordinates in Y's shape */
    for (int d = r - 1; d >= 0; d--) {
      off += (q % inf[d]) * mul;
      q /= inf[d], mul *= Y->dims[d];
    }
    memcpy((char *)Y->data + (size_t)off * es, (const char *)X->data + (size_t)j * es, es);
  }
  return 0;
}

/* ---- RoiAlign ---- */
static er_status roialign_geom(const er_kctx *c, ra_args *a) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 3, 3));
  ER_RETURN_IF_ERROR(er_check_type(c, 0, cv_float_types));
  const er_tensor *X = c->in[0], *rois = c->in[1], *bi = c->in[2];
  if (X->rank != 4) return ER_ERR(ER_INVALID_ARGUMENT, "X must have rank 4, got %d", X->rank);
  if (rois->dtype != X->dtype) return ER_ERR(ER_INVALID_ARGUMENT, "rois must have the type of X");
  if (rois->rank != 2 || rois->dims[1] != 4) return ER_ERR(ER_INVALID_ARGUMENT, "rois must have shape [R,4]");
  if (!er_dtype_is_signed_int(bi->dtype) || bi->rank != 1 || bi->dims[0] != rois->dims[0])
    return ER_ERR(ER_INVALID_ARGUMENT, "batch_indices must be an integer tensor of shape [R]");
  a->R = rois->dims[0], a->C = X->dims[1], a->H = X->dims[2], a->W = X->dims[3];
  a->oh = er_attr_int(c, "output_height", 1), a->ow = er_attr_int(c, "output_width", 1);
  a->sr = er_attr_int(c, "sampling_ratio", 0);
  a->scale = er_attr_float(c, "spatial_scale", 1.0f);
  if (a->oh < 1 || a->ow < 1) return ER_ERR(ER_INVALID_ARGUMENT, "output_height/width must be >= 1");
  if (a->sr < 0) return ER_ERR(ER_INVALID_ARGUMENT, "sampling_ratio must be >= 0");
  const char *mode = er_attr_str(c, "mode", "avg");
  if (cv_streq(mode, "avg")) a->max_mode = 0;
  else if (cv_streq(mode, "max")) a->max_mode = 1;
  else return ER_ERR(ER_INVALID_ARGUMENT, "unknown mode '%s'", mode);
  const char *ctm = er_attr_str(c, "coordinate_transformation_mode", c->opset >= 16 ? "half_pixel" : "output_half_pixel");
  if (cv_streq(ctm, "half_pixel")) a->offset = 0.5, a->aligned_clip = 0;
  else if (cv_streq(ctm, "output_half_pixel")) a->offset = 0, a->aligned_clip = 1;
  else return ER_ERR(ER_INVALID_ARGUMENT, "unknown coordinate_transformation_mode '%s'", ctm);
  return 0;
}

er_status cv_roialign_infer(er_kctx *c) {
  ra_args a;
  ER_RETURN_IF_ERROR(roialign_geom(c, &a));
  int64_t d[4] = {a.R, a.C, a.oh, a.ow};
  er_tensor_set_shape(c->out[0], c->in[0]->dtype, 4, d);
  int ct = cv_ctype(c->in[0]->dtype);
  c->scratch_bytes = cv_stage_bytes(c->in[0], ct) + cv_stage_bytes(c->in[1], ct) + cv_stage_bytes(c->out[0], ct);
  return 0;
}

er_status cv_roialign_run(er_kctx *c) {
  ra_args a;
  ER_RETURN_IF_ERROR(roialign_geom(c, &a));
  int64_t N = c->in[0]->dims[0];
  for (int64_t r = 0; r < a.R; r++) {
    int64_t b = er_load_i64(c->in[2]->data, c->in[2]->dtype, (size_t)r);
    if (b < 0 || b >= N) return ER_ERR(ER_OUT_OF_RANGE, "batch index %lld of roi %lld is out of range", (long long)b, (long long)r);
  }
  int ct = cv_ctype(c->in[0]->dtype);
  char *sp = (char *)c->scratch;
  void *x = cv_stage_in(c->in[0], ct, &sp), *rois = cv_stage_in(c->in[1], ct, &sp);
  void *y = cv_stage_out(c->out[0], ct, &sp);
  if (ct == ER_F64)
    roialign_f64(&a, x, rois, c->in[2], y);
  else
    roialign_f32(&a, x, rois, c->in[2], y);
  cv_unstage_out(c->out[0], ct, y);
  return 0;
}

/* ---- MaxRoiPool ---- */
static er_status maxroi_geom(const er_kctx *c, int64_t *ph, int64_t *pw) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 2, 2));
  ER_RETURN_IF_ERROR(er_check_type(c, 0, cv_float_types));
  const er_tensor *X = c->in[0], *rois = c->in[1];
  if (X->rank != 4) return ER_ERR(ER_INVALID_ARGUMENT, "X must have rank 4, got %d", X->rank);
  if (rois->dtype != X->dtype || rois->rank != 2 || rois->dims[1] != 5)
    return ER_ERR(ER_INVALID_ARGUMENT, "rois must have the type of X and shape [R,5]");
  const int64_t *ps;
  if (er_attr_ints(c, "pooled_shape", &ps) != 2) return ER_ERR(ER_INVALID_MODEL, "pooled_shape must have 2 values");
  if (ps[0] < 1 || ps[1] < 1) return ER_ERR(ER_INVALID_ARGUMENT, "pooled_shape must be positive");
  *ph = ps[0], *pw = ps[1];
  return 0;
}

er_status cv_maxroipool_infer(er_kctx *c) {
  int64_t ph, pw;
  ER_RETURN_IF_ERROR(maxroi_geom(c, &ph, &pw));
  int64_t d[4] = {c->in[1]->dims[0], c->in[0]->dims[1], ph, pw};
  er_tensor_set_shape(c->out[0], c->in[0]->dtype, 4, d);
  int ct = cv_ctype(c->in[0]->dtype);
  c->scratch_bytes = cv_stage_bytes(c->in[0], ct) + cv_stage_bytes(c->in[1], ct) + cv_stage_bytes(c->out[0], ct);
  return 0;
}

er_status cv_maxroipool_run(er_kctx *c) {
  int64_t ph, pw;
  ER_RETURN_IF_ERROR(maxroi_geom(c, &ph, &pw));
  int ct = cv_ctype(c->in[0]->dtype);
  char *sp = (char *)c->scratch;
  void *x = cv_stage_in(c->in[0], ct, &sp), *rois = cv_stage_in(c->in[1], ct, &sp);
  void *y = cv_stage_out(c->out[0], ct, &sp);
  double scale = er_attr_float(c, "spatial_scale", 1.0f);
  er_status s = ct == ER_F64 ? maxroi_f64(c->in[0]->dims, c->in[1]->dims[0], ph, pw, scale, x, rois, y)
                             : maxroi_f32(c->in[0]->dims, c->in[1]->dims[0], ph, pw, scale, x, rois, y);
  if (s) return s;
  cv_unstage_out(c->out[0], ct, y);
  return 0;
}

#else /* ===================== template section ===================== */
typedef CV_T CV(T);
#define T CV(T)

/* planes [nc0, nc1) of X (N*C planes) */
static void CV(pool)(const cv_win *w, int kind, int cip, T p, int so, int64_t nc0, int64_t nc1, const T *X, T *Y,
                     int64_t *I) {
  const int64_t D = w->in[0], H = w->in[1], W = w->in[2], inN = D * H * W;
  const int64_t outN = cv_prod3(w->out);
  for (int64_t nc = nc0; nc < nc1; nc++) {
    const T *x = X + nc * inN;
    T *y = Y + nc * outN;
    int64_t o = 0;
    /* output columns whose whole window row is inside [0, W): no tap clipping needed */
    int64_t ow_lo = pl_cdiv(w->pb[2], w->s[2]), ow_hi = W - 1 + w->pb[2] - (w->k[2] - 1) * w->d[2];
    ow_hi = ow_hi < 0 ? 0 : ow_hi / w->s[2] + 1;
    for (int64_t od = 0; od < w->out[0]; od++)
      for (int64_t oh = 0; oh < w->out[1]; oh++) {
        int64_t st[3] = {od * w->s[0] - w->pb[0], oh * w->s[1] - w->pb[1], 0};
        int64_t t0[3], t1[3];
        for (int i = 0; i < 2; i++) pl_taps(st[i], w->k[i], w->d[i], 0, w->in[i], &t0[i], &t1[i]);
        for (int64_t ow = 0; ow < w->out[2]; ow++, o++) {
          st[2] = ow * w->s[2] - w->pb[2];
          if (ow >= ow_lo && ow < ow_hi)
            t0[2] = 0, t1[2] = w->k[2];
          else
            pl_taps(st[2], w->k[2], w->d[2], 0, w->in[2], &t0[2], &t1[2]);
          if (kind == POOL_MAX && !I) { /* no indices: a lean loop, same NaN rule */
            T m = 0;
            int any = 0;
            for (int64_t a = t0[0]; a < t1[0]; a++)
              for (int64_t b = t0[1]; b < t1[1]; b++) {
                const T *row = x + ((st[0] + a * w->d[0]) * H + st[1] + b * w->d[1]) * W + st[2];
                for (int64_t e = t0[2]; e < t1[2]; e++) {
                  T v = row[e * w->d[2]];
                  if (!any || v > m || m != m) m = v;
                  any = 1;
                }
              }
            y[o] = m;
            continue;
          }
          T acc = 0, best = 0;
          int64_t bi = -1, cnt = 0;
          for (int64_t a = t0[0]; a < t1[0]; a++) {
            int64_t id = st[0] + a * w->d[0];
            for (int64_t b = t0[1]; b < t1[1]; b++) {
              int64_t ih = st[1] + b * w->d[1];
              const T *row = x + (id * H + ih) * W;
              for (int64_t e = t0[2]; e < t1[2]; e++) {
                int64_t iw = st[2] + e * w->d[2];
                T v = row[iw];
                if (kind == POOL_MAX) {
                  if (bi < 0 || v > best || (best != best && v == v)) {
                    best = v;
                    bi = so ? (iw * H + ih) * D + id : (id * H + ih) * W + iw;
                  }
                } else if (kind == POOL_AVG) {
                  acc += v;
                } else {
                  T av = v < 0 ? -v : v;
                  acc += p == 2 ? av * av : p == 1 ? av : (T)pow(av, p);
                }
              }
            }
          }
          cnt = (t1[0] - t0[0]) * (t1[1] - t0[1]) * (t1[2] - t0[2]);
          if (kind == POOL_MAX) {
            y[o] = best;
            if (I) I[nc * outN + o] = bi < 0 ? -1 : nc * inN + bi;
          } else if (kind == POOL_AVG) {
            /* count_include_pad: every tap counts, also those past the end padding
             * in ceil mode (as the ONNX reference and its test data do) */
            if (cip) cnt = w->k[0] * w->k[1] * w->k[2];
            y[o] = cnt > 0 ? acc / (T)cnt : (T)NAN;
          } else {
            y[o] = p == 2 ? (T)sqrt(acc) : p == 1 ? acc : (T)pow(acc, 1 / p);
          }
        }
      }
  }
}

static void CV(gpool)(int kind, T p, int64_t NC, int64_t n, const T *X, T *Y) {
  for (int64_t nc = 0; nc < NC; nc++) {
    const T *x = X + nc * n;
    if (kind == POOL_MAX) {
      T best = n > 0 ? x[0] : 0;
      for (int64_t i = 1; i < n; i++)
        if (x[i] > best || best != best) best = x[i];
      Y[nc] = best;
    } else if (kind == POOL_AVG) {
      double s = 0;
      for (int64_t i = 0; i < n; i++) s += x[i];
      Y[nc] = (T)(s / (double)n);
    } else {
      double s = 0;
      for (int64_t i = 0; i < n; i++) s += pow(fabs((double)x[i]), (double)p);
      Y[nc] = (T)pow(s, 1.0 / (double)p);
    }
  }
}

static void CV(roialign)(const ra_args *a, const T *X, const T *rois, const er_tensor *bidx, T *Y) {
  const int64_t H = a->H, W = a->W;
  for (int64_t r = 0; r < a->R; r++) {
    int64_t b = er_load_i64(bidx->data, bidx->dtype, (size_t)r);
    const T *roi = rois + r * 4;
    T x0 = (T)(roi[0] * a->scale - a->offset), y0 = (T)(roi[1] * a->scale - a->offset);
    T x1 = (T)(roi[2] * a->scale - a->offset), y1 = (T)(roi[3] * a->scale - a->offset);
    T rw = x1 - x0, rh = y1 - y0;
    if (a->aligned_clip) {
      if (rw < 1) rw = 1;
      if (rh < 1) rh = 1;
    }
    T bh = rh / (T)a->oh, bw = rw / (T)a->ow;
    int64_t gh = a->sr > 0 ? a->sr : (int64_t)ceil(rh / (T)a->oh);
    int64_t gw = a->sr > 0 ? a->sr : (int64_t)ceil(rw / (T)a->ow);
    if (gh < 0) gh = 0;
    if (gw < 0) gw = 0;
    int64_t cnt = gh * gw > 1 ? gh * gw : 1;
    for (int64_t ch = 0; ch < a->C; ch++) {
      const T *plane = X + (b * a->C + ch) * H * W;
      T *y = Y + ((r * a->C + ch) * a->oh) * a->ow;
      for (int64_t ph = 0; ph < a->oh; ph++)
        for (int64_t pw = 0; pw < a->ow; pw++) {
          T out = 0;
          int have = 0;
          for (int64_t iy = 0; iy < gh; iy++) {
            T yy = y0 + (T)ph * bh + ((T)iy + (T)0.5) * bh / (T)gh;
            for (int64_t ix = 0; ix < gw; ix++) {
              T xx = x0 + (T)pw * bw + ((T)ix + (T)0.5) * bw / (T)gw;
              T w1 = 0, w2 = 0, w3 = 0, w4 = 0;
              int64_t p1 = 0, p2 = 0, p3 = 0, p4 = 0;
              if (!(yy < -1 || yy > H || xx < -1 || xx > W)) {
                T yv = yy > 0 ? yy : 0, xv = xx > 0 ? xx : 0;
                int64_t ylo = (int64_t)yv, xlo = (int64_t)xv, yhi, xhi;
                if (ylo >= H - 1) yhi = ylo = H - 1, yv = (T)ylo;
                else yhi = ylo + 1;
                if (xlo >= W - 1) xhi = xlo = W - 1, xv = (T)xlo;
                else xhi = xlo + 1;
                T ly = yv - (T)ylo, lx = xv - (T)xlo, hy = 1 - ly, hx = 1 - lx;
                w1 = hy * hx, w2 = hy * lx, w3 = ly * hx, w4 = ly * lx;
                p1 = ylo * W + xlo, p2 = ylo * W + xhi, p3 = yhi * W + xlo, p4 = yhi * W + xhi;
              }
              T v1 = w1 * plane[p1], v2 = w2 * plane[p2], v3 = w3 * plane[p3], v4 = w4 * plane[p4];
              if (a->max_mode) {
                T m = v1;
                if (v2 > m) m = v2;
                if (v3 > m) m = v3;
                if (v4 > m) m = v4;
                if (!have || m > out) out = m;
                have = 1;
              } else {
                out += v1 + v2 + v3 + v4;
              }
            }
          }
          y[ph * a->ow + pw] = a->max_mode ? out : out / (T)cnt;
        }
    }
  }
}

static er_status CV(maxroi)(const int64_t *xd, int64_t R, int64_t PH, int64_t PW, double scale, const T *X,
                            const T *rois, T *Y) {
  const int64_t N = xd[0], C = xd[1], H = xd[2], W = xd[3];
  for (int64_t r = 0; r < R; r++) {
    const T *roi = rois + r * 5;
    int64_t b = (int64_t)roi[0];
    if (b < 0 || b >= N) return ER_ERR(ER_OUT_OF_RANGE, "batch index %lld of roi %lld is out of range", (long long)b, (long long)r);
    int64_t sw = (int64_t)round(roi[1] * scale), sh = (int64_t)round(roi[2] * scale);
    int64_t ew = (int64_t)round(roi[3] * scale), eh = (int64_t)round(roi[4] * scale);
    int64_t rh = eh - sh + 1 > 1 ? eh - sh + 1 : 1, rw = ew - sw + 1 > 1 ? ew - sw + 1 : 1;
    double bh = (double)rh / (double)PH, bw = (double)rw / (double)PW;
    for (int64_t ch = 0; ch < C; ch++) {
      const T *plane = X + (b * C + ch) * H * W;
      T *y = Y + (r * C + ch) * PH * PW;
      for (int64_t ph = 0; ph < PH; ph++)
        for (int64_t pw = 0; pw < PW; pw++) {
          int64_t h0 = (int64_t)floor((double)ph * bh) + sh, h1 = (int64_t)ceil((double)(ph + 1) * bh) + sh;
          int64_t w0 = (int64_t)floor((double)pw * bw) + sw, w1 = (int64_t)ceil((double)(pw + 1) * bw) + sw;
          h0 = h0 < 0 ? 0 : h0 > H ? H : h0, h1 = h1 < 0 ? 0 : h1 > H ? H : h1;
          w0 = w0 < 0 ? 0 : w0 > W ? W : w0, w1 = w1 < 0 ? 0 : w1 > W ? W : w1;
          T best = 0;
          int have = 0;
          for (int64_t h = h0; h < h1; h++)
            for (int64_t w = w0; w < w1; w++)
              if (!have || plane[h * W + w] > best) best = plane[h * W + w], have = 1;
          y[ph * PW + pw] = best;
        }
    }
  }
  return 0;
}

#undef T
#endif
