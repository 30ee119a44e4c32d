/* Softmax, LogSoftmax, Hardmax, NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss. */
#include <math.h>
#include <string.h>

#include "kernels/kernel.h"
#include "kernels/vmath.h"

static const int k_float_types[] = {ER_F32, ER_F64, ER_F16, ER_BF16, 0};

/* ---- Softmax / LogSoftmax / Hardmax ----------------------------------------------------
 * opset < 13: the input is coerced to 2-D [prod(dims[:axis]), prod(dims[axis:])] (default
 * axis 1) and the op runs over the second dimension. opset >= 13: the op runs along the one
 * axis (default -1). Both are the view [outer, n, inner]. */
enum { SM_SOFTMAX, SM_LOGSOFTMAX, SM_HARDMAX };

static er_status sm_view(const er_kctx *ctx, const er_tensor *x, int64_t *outer, int64_t *n,
                         int64_t *inner) {
  int old = ctx->opset < 13;
  int64_t axis = er_attr_int(ctx, "axis", old ? 1 : -1);
  int ax;
  if (x->rank == 0) { /* a scalar is a single-element vector */
    if (axis != 0 && axis != -1)
      return ER_ERR(ER_INVALID_ARGUMENT, "axis %lld out of range for a scalar", (long long)axis);
    *outer = *n = *inner = 1;
    return 0;
  }
  if (old && axis == x->rank) ax = x->rank; /* coerce to [numel, 1] */
  else ER_RETURN_IF_ERROR(er_normalize_axis(axis, x->rank, &ax));
  *outer = er_shape_numel(x->dims, ax);
  if (old) {
    *n = er_shape_numel(x->dims + ax, x->rank - ax);
    *inner = 1;
  } else {
    *n = x->dims[ax];
    *inner = er_shape_numel(x->dims + ax + 1, x->rank - ax - 1);
  }
  return 0;
}

static er_status sm_infer(er_kctx *ctx) {
  ER_RETURN_IF_ERROR(er_check_inputs(ctx, 1, 1));
  ER_RETURN_IF_ERROR(er_check_type(ctx, 0, k_float_types));
  const er_tensor *x = ctx->in[0];
  int64_t o, n, i;
  ER_RETURN_IF_ERROR(sm_view(ctx, x, &o, &n, &i));
  er_tensor_set_shape(ctx->out[0], x->dtype, x->rank, x->dims);
  return 0;
}

/* float32 fast path: rows of n (inner == 1) go to the table's f32_softmax; a strided axis
 * (inner > 1) is done on blocks of SM_COLS columns with vector passes along the rows of
 * the block. Work units (row blocks, or (outer, column block) pairs) are split over
 * threads; each element is computed the same way for any split. */
#define SM_COLS 64
#define SM_MIN_ELEMS 16384 /* per thread chunk */

typedef struct {
  const er_microkernels *mk;
  const float *x;
  float *y;
  int64_t n, inner, col_blocks;
  int log_;
} sm_job;

static void sm_rows_range(void *arg, int64_t b, int64_t e) {
  const sm_job *j = (const sm_job *)arg;
  j->mk->f32_softmax(j->x + b * j->n, j->n, j->y + b * j->n, j->n, e - b, j->n, 1.0f, j->log_);
}

static void sm_cols_range(void *arg, int64_t b, int64_t e) {
  const sm_job *j = (const sm_job *)arg;
  const int64_t n = j->n, inner = j->inner;
  float m[SM_COLS], s[SM_COLS];
  for (int64_t u = b; u < e; u++) {
    const int64_t o = u / j->col_blocks, c0 = (u % j->col_blocks) * SM_COLS;
    const int64_t w = inner - c0 < SM_COLS ? inner - c0 : SM_COLS;
    const float *x = j->x + o * n * inner + c0;
    float *y = j->y + o * n * inner + c0;
    for (int64_t c = 0; c < w; c++) m[c] = -INFINITY, s[c] = 0.0f;
    for (int64_t k = 0; k < n; k++)
      for (int64_t c = 0; c < w; c++) m[c] = x[k * inner + c] > m[c] ? x[k * inner + c] : m[c];
    for (int64_t k = 0; k < n; k++) {
      float *yk = y + k * inner;
      for (int64_t c = 0; c < w; c++) yk[c] = x[k * inner + c] - m[c];
      if (j->log_) {
        float t[SM_COLS];
        j->mk->f32_vunary(ER_VF_EXP, yk, t, w);
        for (int64_t c = 0; c < w; c++) s[c] += t[c];
      } else {
        j->mk->f32_vunary(ER_VF_EXP, yk, yk, w);
        for (int64_t c = 0; c < w; c++) s[c] += yk[c];
      }
    }
    if (j->log_) {
      for (int64_t c = 0; c < w; c++) s[c] = logf(s[c]);
      for (int64_t k = 0; k < n; k++)
        for (int64_t c = 0; c < w; c++) y[k * inner + c] -= s[c];
    } else {
      for (int64_t c = 0; c < w; c++) s[c] = 1.0f / s[c];
      for (int64_t k = 0; k < n; k++)
        for (int64_t c = 0; c < w; c++) y[k * inner + c] *= s[c];
    }
  }
}

static void sm_run_f32(er_kctx *ctx, int64_t outer, int64_t n, int64_t inner, int log_) {
  sm_job j = {ctx->mk ? ctx->mk : er_microkernels_ref(), (const float *)ctx->in[0]->data,
              (float *)ctx->out[0]->data, n, inner, (inner + SM_COLS - 1) / SM_COLS, log_};
  if (inner == 1) {
    int64_t grain = n >= SM_MIN_ELEMS ? 1 : SM_MIN_ELEMS / n;
    er_parallel_for(ctx, outer, grain, sm_rows_range, &j);
  } else {
    int64_t per = n * (inner < SM_COLS ? inner : SM_COLS);
    int64_t grain = per >= SM_MIN_ELEMS ? 1 : SM_MIN_ELEMS / per;
    er_parallel_for(ctx, outer * j.col_blocks, grain, sm_cols_range, &j);
  }
}

/* Test hook: non-zero keeps float32 on the generic (double) path. */
int er_softmax_f32_fast_disabled;

static er_status sm_run(er_kctx *ctx, int kind) {
  const er_tensor *x = ctx->in[0];
  er_tensor *y = ctx->out[0];
  int64_t outer, n, inner;
  ER_RETURN_IF_ERROR(sm_view(ctx, x, &outer, &n, &inner));
  int dt = x->dtype;
  if (dt == ER_F32 && kind != SM_HARDMAX && !er_softmax_f32_fast_disabled) {
    if (n > 0) sm_run_f32(ctx, outer, n, inner, kind == SM_LOGSOFTMAX);
    return 0;
  }
  const void *xp = x->data;
  void *yp = y->data;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t in = 0; in < inner; in++) {
      int64_t base = o * n * inner + in;
      if (n == 0) continue;
      double m = er_ld(xp, dt, base);
      int64_t arg = 0;
      for (int64_t k = 1; k < n; k++) {
        double v = er_ld(xp, dt, base + k * inner);
        if (v > m) m = v, arg = k;
      }
      if (kind == SM_HARDMAX) {
        for (int64_t k = 0; k < n; k++) er_st(yp, dt, base + k * inner, k == arg ? 1.0 : 0.0);
        continue;
      }
      double sum = 0;
      for (int64_t k = 0; k < n; k++) {
        sum += exp(er_ld(xp, dt, base + k * inner) - m);
      }
      if (kind == SM_SOFTMAX) {
        for (int64_t k = 0; k < n; k++)
          er_st(yp, dt, base + k * inner, exp(er_ld(xp, dt, base + k * inner) - m) / sum);
      } else {
        double ls = m + log(sum);
        for (int64_t k = 0; k < n; k++) er_st(yp, dt, base + k * inner, er_ld(xp, dt, base + k * inner) - ls);
      }
    }
  return 0;
}

er_status er_linalg_softmax_infer(er_kctx *ctx) { return sm_infer(ctx); }
er_status er_linalg_softmax_run(er_kctx *ctx) { return sm_run(ctx, SM_SOFTMAX); }
er_status er_linalg_logsoftmax_run(er_kctx *ctx) { return sm_run(ctx, SM_LOGSOFTMAX); }
er_status er_linalg_hardmax_run(er_kctx *ctx) { return sm_run(ctx, SM_HARDMAX); }

/* ---- NegativeLogLikelihoodLoss / SoftmaxCrossEntropyLoss --------------------------------
 * input [N, C, d1..dk], target [N, d1..dk] (int32/int64), optional weight [C].
 * loss[n, d] = -w[t] * p[n, t, d] with t = target[n, d] and p the input (NLL) or its
 * log-softmax over C (SCE); targets equal to ignore_index contribute 0 with weight 0.
 * reduction: none (loss per element), sum, mean (sum / sum of the weights used). */
enum { RED_NONE, RED_SUM, RED_MEAN };

static er_status loss_reduction(const er_kctx *ctx, int *out) {
  const char *r = er_attr_str(ctx, "reduction", "mean");
  if (!strcmp(r, "none")) *out = RED_NONE;
  else if (!strcmp(r, "sum")) *out = RED_SUM;
  else if (!strcmp(r, "mean")) *out = RED_MEAN;
  else return ER_ERR(ER_INVALID_ARGUMENT, "reduction '%s' is not one of none, sum, mean", r);
  return 0;
}

static er_status loss_infer(er_kctx *ctx, int is_sce) {
  static const int tind[] = {ER_I32, ER_I64, 0};
  ER_RETURN_IF_ERROR(er_check_inputs(ctx, 2, 3));
  ER_RETURN_IF_ERROR(er_check_type(ctx, 0, k_float_types));
  ER_RETURN_IF_ERROR(er_check_type(ctx, 1, tind));
  const er_tensor *x = ctx->in[0], *t = ctx->in[1], *w = er_in(ctx, 2);
  if (x->rank < 2) return ER_ERR(ER_INVALID_ARGUMENT, "input must have rank >= 2 (got %d)", x->rank);
  int ok = t->rank == x->rank - 1 && t->dims[0] == x->dims[0];
  for (int d = 1; ok && d < t->rank; d++) ok = t->dims[d] == x->dims[d + 1];
  if (!ok) {
    char b1[64], b2[64];
    return ER_ERR(ER_INVALID_ARGUMENT, "target shape %s does not match input shape %s",
                  er_shape_str(t->dims, t->rank, b1, sizeof b1),
                  er_shape_str(x->dims, x->rank, b2, sizeof b2));
  }
  if (w && (w->dtype != x->dtype || w->rank != 1 || w->dims[0] != x->dims[1]))
    return ER_ERR(ER_INVALID_ARGUMENT, "weight must be a 1-D %s tensor of length C=%lld",
                  er_dtype_name(x->dtype), (long long)x->dims[1]);
  int red;
  ER_RETURN_IF_ERROR(loss_reduction(ctx, &red));
  if (red == RED_NONE) er_tensor_set_shape(ctx->out[0], x->dtype, t->rank, t->dims);
  else er_tensor_set_shape(ctx->out[0], x->dtype, 0, t->dims);
  if (is_sce && er_out(ctx, 1)) er_tensor_set_shape(ctx->out[1], x->dtype, x->rank, x->dims);
  return 0;
}

static er_status loss_run(er_kctx *ctx, int is_sce) {
  const er_tensor *x = ctx->in[0], *t = ctx->in[1], *w = er_in(ctx, 2);
  er_tensor *y = ctx->out[0], *lp = is_sce ? er_out(ctx, 1) : 0;
  int red;
  ER_RETURN_IF_ERROR(loss_reduction(ctx, &red));
  const er_attr *iia = er_attr_get(ctx, "ignore_index");
  int has_ii = iia && iia->type == ER_ATTR_INT;
  int64_t ii = has_ii ? iia->i : 0;
  int dt = x->dtype;
  int64_t N = x->dims[0], C = x->dims[1], D = er_shape_numel(x->dims + 2, x->rank - 2);
  double total = 0, wsum = 0;
  for (int64_t n = 0; n < N; n++)
    for (int64_t d = 0; d < D; d++) {
      int64_t base = n * C * D + d;
      double lse = 0;
      if (is_sce) { /* log-sum-exp over the class axis */
        double m = -INFINITY, s = 0;
        for (int64_t c = 0; c < C; c++) {
          double v = er_ld(x->data, dt, base + c * D);
          if (v > m) m = v;
        }
        for (int64_t c = 0; c < C; c++) s += exp(er_ld(x->data, dt, base + c * D) - m);
        lse = m + log(s);
        if (lp)
          for (int64_t c = 0; c < C; c++)
            er_st(lp->data, dt, base + c * D, er_ld(x->data, dt, base + c * D) - lse);
      }
      int64_t tv = er_load_i64(t->data, t->dtype, (size_t)(n * D + d));
      double l = 0, wt = 0;
      if (!(has_ii && tv == ii)) {
        if (tv < 0 || tv >= C)
          return ER_ERR(ER_OUT_OF_RANGE, "target value %lld outside [0, %lld)", (long long)tv,
                        (long long)C);
        wt = w ? er_ld(w->data, dt, tv) : 1.0;
        l = -(er_ld(x->data, dt, base + tv * D) - lse) * wt;
      }
      if (red == RED_NONE) er_st(y->data, dt, n * D + d, l);
      total += l;
      wsum += wt;
    }
  if (red == RED_SUM) er_st(y->data, dt, 0, total);
  else if (red == RED_MEAN) er_st(y->data, dt, 0, total / wsum);
  return 0;
}

er_status er_linalg_nllloss_infer(er_kctx *ctx) { return loss_infer(ctx, 0); }
er_status er_linalg_nllloss_run(er_kctx *ctx) { return loss_run(ctx, 0); }
er_status er_linalg_sce_infer(er_kctx *ctx) { return loss_infer(ctx, 1); }
er_status er_linalg_sce_run(er_kctx *ctx) { return loss_run(ctx, 1); }
