/* CumSum, TopK, Det, and the ai.onnx.preview.training optimizers (Adagrad, Adam, Momentum). */
#include <math.h>
#include <string.h>

#include "kernels/kernel.h"

/* Read a scalar (or one-element) integer tensor. */
static er_status read_scalar_int(const er_tensor *t, const char *what, int64_t *out) {
  if (er_tensor_numel(t) != 1 || t->rank > 1)
    return ER_ERR(ER_INVALID_ARGUMENT, "%s must be a scalar or a 1-element tensor", what);
  if (!er_dtype_is_signed_int(t->dtype) && !er_dtype_is_unsigned_int(t->dtype))
    return ER_ERR(ER_INVALID_ARGUMENT, "%s must be an integer tensor (got %s)", what,
                  er_dtype_name(t->dtype));
  *out = er_load_i64(t->data, t->dtype, 0);
  return 0;
}

/* ---- CumSum ---------------------------------------------------------------------------- */
static er_status cumsum_infer(er_kctx *ctx) {
  static const int types[] = {ER_F32, ER_F64, ER_F16, ER_BF16, ER_I32, ER_I64, ER_U32, ER_U64, 0};
  static const int atypes[] = {ER_I32, ER_I64, 0};
  ER_RETURN_IF_ERROR(er_check_inputs(ctx, 2, 2));
  ER_RETURN_IF_ERROR(er_check_type(ctx, 0, types));
  ER_RETURN_IF_ERROR(er_check_type(ctx, 1, atypes));
  const er_tensor *x = ctx->in[0], *a = ctx->in[1];
  if (er_tensor_numel(a) != 1 || a->rank > 1)
    return ER_ERR(ER_INVALID_ARGUMENT, "axis must be a scalar");
  if (er_in_known(ctx, 1)) {
    int64_t axis;
    int ax;
    ER_RETURN_IF_ERROR(read_scalar_int(a, "axis", &axis));
    ER_RETURN_IF_ERROR(er_normalize_axis(axis, x->rank, &ax));
  }
  er_tensor_set_shape(ctx->out[0], x->dtype, x->rank, x->dims);
  return 0;
}

static er_status cumsum_run(er_kctx *ctx) {
  const er_tensor *x = ctx->in[0];
  int64_t axis;
  int ax;
  ER_RETURN_IF_ERROR(read_scalar_int(ctx->in[1], "axis", &axis));
  ER_RETURN_IF_ERROR(er_normalize_axis(axis, x->rank, &ax));
  int excl = er_attr_int(ctx, "exclusive", 0) != 0, rev = er_attr_int(ctx, "reverse", 0) != 0;
  int dt = x->dtype, isf = er_dtype_is_float(dt);
  if (x->rank == 0) { /* scalar: a one-element scan */
    if (excl) er_st(ctx->out[0]->data, dt, 0, 0.0);
    else memcpy(ctx->out[0]->data, x->data, er_dtype_size(dt));
    return 0;
  }
  int64_t outer = er_shape_numel(x->dims, ax), n = x->dims[ax];
  int64_t inner = er_shape_numel(x->dims + ax + 1, x->rank - ax - 1);
  void *y = ctx->out[0]->data;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t in = 0; in < inner; in++) {
      double fs = 0;
      uint64_t is = 0;
      for (int64_t k = 0; k < n; k++) {
        int64_t kk = rev ? n - 1 - k : k, i = (o * n + kk) * inner + in;
        if (isf) {
          double v = er_ld(x->data, dt, i);
          if (!excl) fs += v;
          er_st(y, dt, i, fs);
          if (excl) fs += v;
        } else {
          uint64_t v = (uint64_t)er_load_i64(x->data, dt, (size_t)i);
          if (!excl) is += v;
          er_store_i64(y, dt, (size_t)i, (int64_t)is);
          if (excl) is += v;
        }
      }
    }
  return 0;
}

/* ---- TopK -------------------------------------------------------------------------------
 * k: attribute before opset 10, input 1 after. largest/sorted from opset 11. Output is
 * always sorted (allowed when sorted=0); equal values keep the lower index first; NaN
 * counts as larger than every number. */
static er_status topk_params(er_kctx *ctx, const er_tensor *x, int *ax, int64_t *k) {
  if (x->rank == 0) return ER_ERR(ER_INVALID_ARGUMENT, "input must have rank >= 1");
  ER_RETURN_IF_ERROR(er_normalize_axis(er_attr_int(ctx, "axis", -1), x->rank, ax));
  if (ctx->opset < 10) {
    const er_attr *a = er_attr_get(ctx, "k");
    if (!a || a->type != ER_ATTR_INT) return ER_ERR(ER_INVALID_MODEL, "attribute k is required");
    *k = a->i;
  } else {
    if (!er_in_known(ctx, 1)) return er_needs_data(ctx);
    ER_RETURN_IF_ERROR(read_scalar_int(ctx->in[1], "K", k));
  }
  if (*k < 0 || *k > x->dims[*ax])
    return ER_ERR(ER_INVALID_ARGUMENT, "k = %lld outside [0, %lld]", (long long)*k,
                  (long long)x->dims[*ax]);
  return 0;
}

static er_status topk_infer(er_kctx *ctx) {
  static const int types[] = {ER_F32, ER_F64, ER_F16, ER_BF16, ER_I8, ER_I16, ER_I32,
                              ER_I64, ER_U8, ER_U16, ER_U32, ER_U64, 0};
  ER_RETURN_IF_ERROR(er_check_inputs(ctx, ctx->opset < 10 ? 1 : 2, ctx->opset < 10 ? 1 : 2));
  ER_RETURN_IF_ERROR(er_check_type(ctx, 0, types));
  const er_tensor *x = ctx->in[0];
  int ax;
  int64_t k;
  ER_RETURN_IF_ERROR(topk_params(ctx, x, &ax, &k));
  int64_t dims[ER_MAX_RANK];
  memcpy(dims, x->dims, sizeof(int64_t) * (size_t)x->rank);
  dims[ax] = k;
  er_tensor_set_shape(ctx->out[0], x->dtype, x->rank, dims);
  if (er_out(ctx, 1)) er_tensor_set_shape(ctx->out[1], ER_I64, x->rank, dims);
  ctx->scratch_bytes = (size_t)x->dims[ax] * 2 * sizeof(int64_t);
  return 0;
}

/* sign of (x[i] - x[j]) with NaN above everything */
static int cmp_elem(const void *p, int dt, int cat, int64_t i, int64_t j) {
  if (cat == 0) {
    double a = er_ld(p, dt, i), b = er_ld(p, dt, j);
    int na = isnan(a), nb = isnan(b);
    if (na || nb) return na - nb;
    return (a > b) - (a < b);
  }
  int64_t a = er_load_i64(p, dt, (size_t)i), b = er_load_i64(p, dt, (size_t)j);
  if (cat == 2) return ((uint64_t)a > (uint64_t)b) - ((uint64_t)a < (uint64_t)b);
  return (a > b) - (a < b);
}

static er_status topk_run(er_kctx *ctx) {
  const er_tensor *x = ctx->in[0];
  int ax;
  int64_t k;
  ER_RETURN_IF_ERROR(topk_params(ctx, x, &ax, &k));
  int largest = ctx->opset < 11 || er_attr_int(ctx, "largest", 1) != 0;
  int dt = x->dtype;
  int cat = er_dtype_is_float(dt) ? 0 : er_dtype_is_unsigned_int(dt) ? 2 : 1;
  int64_t outer = er_shape_numel(x->dims, ax), n = x->dims[ax];
  int64_t inner = er_shape_numel(x->dims + ax + 1, x->rank - ax - 1);
  int64_t *idx = (int64_t *)ctx->scratch, *tmp = idx + n;
  er_tensor *yv = ctx->out[0], *yi = er_out(ctx, 1);
  size_t es = er_dtype_size(dt);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t in = 0; in < inner; in++) {
      int64_t base = o * n * inner + in;
      for (int64_t i = 0; i < n; i++) idx[i] = i;
      /* bottom-up stable merge sort of positions, best first */
      for (int64_t w = 1; w < n; w *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * w) {
          int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
          int64_t a = lo, b = mid, t = lo;
          while (a < mid && b < hi) {
            int c = cmp_elem(x->data, dt, cat, base + idx[b] * inner, base + idx[a] * inner);
            int b_first = largest ? c > 0 : c < 0;
            tmp[t++] = b_first ? idx[b++] : idx[a++];
          }
          while (a < mid) tmp[t++] = idx[a++];
          while (b < hi) tmp[t++] = idx[b++];
        }
        memcpy(idx, tmp, sizeof(int64_t) * (size_t)n);
      }
      for (int64_t j = 0; j < k; j++) {
        int64_t oi = (o * k + j) * inner + in;
        memcpy((char *)yv->data + oi * es, (const char *)x->data + (base + idx[j] * inner) * es, es);
        if (yi) ((int64_t *)yi->data)[oi] = idx[j];
      }
    }
  return 0;
}

/* ---- Det --------------------------------------------------------------------------------- */
static er_status det_infer(er_kctx *ctx) {
  static const int types[] = {ER_F32, ER_F64, ER_F16, ER_BF16, 0};
  ER_RETURN_IF_ERROR(er_check_inputs(ctx, 1, 1));
  ER_RETURN_IF_ERROR(er_check_type(ctx, 0, types));
  const er_tensor *x = ctx->in[0];
  if (x->rank < 2 || x->dims[x->rank - 1] != x->dims[x->rank - 2]) {
    char b[64];
    return ER_ERR(ER_INVALID_ARGUMENT, "input %s is not a batch of square matrices",
                  er_shape_str(x->dims, x->rank, b, sizeof b));
  }
  er_tensor_set_shape(ctx->out[0], x->dtype, x->rank - 2, x->dims);
  int64_t n = x->dims[x->rank - 1];
  ctx->scratch_bytes = (size_t)(n * n) * sizeof(double);
  return 0;
}

static er_status det_run(er_kctx *ctx) {
  const er_tensor *x = ctx->in[0];
  int dt = x->dtype;
  int64_t n = x->dims[x->rank - 1], nn = n * n;
  int64_t batch = er_shape_numel(x->dims, x->rank - 2);
  double *a = (double *)ctx->scratch;
  for (int64_t b = 0; b < batch; b++) {
    for (int64_t i = 0; i < nn; i++) a[i] = er_ld(x->data, dt, b * nn + i);
    double det = 1.0;
    /* LU decomposition with partial pivoting */
    for (int64_t c = 0; c < n && det != 0.0; c++) {
      int64_t p = c;
      for (int64_t r = c + 1; r < n; r++)
        if (fabs(a[r * n + c]) > fabs(a[p * n + c])) p = r;
      if (a[p * n + c] == 0.0) { det = 0.0; break; }
      if (p != c) {
        for (int64_t j = 0; j < n; j++) {
          double t = a[c * n + j]; a[c * n + j] = a[p * n + j]; a[p * n + j] = t;
        }
        det = -det;
      }
      double piv = a[c * n + c];
      det *= piv;
      for (int64_t r = c + 1; r < n; r++) {
        double f = a[r * n + c] / piv;
        if (f == 0.0) continue;
        for (int64_t j = c + 1; j < n; j++) a[r * n + j] -= f * a[c * n + j];
      }
    }
    er_st(ctx->out[0]->data, dt, b, det);
  }
  return 0;
}

/* ---- ai.onnx.preview.training: Adagrad, Adam, Momentum ----------------------------------
 * Inputs R (learning rate, scalar), T (update count, scalar int64), then n tensors of each
 * per-parameter group; outputs are the new values of the updated groups. */
static er_status optim_infer(er_kctx *ctx, int in_groups, int out_groups) {
  static const int ftypes[] = {ER_F32, ER_F64, 0};
  static const int ttypes[] = {ER_I64, 0};
  int rest = ctx->n_in - 2;
  if (rest <= 0 || rest % in_groups)
    return ER_ERR(ER_INVALID_MODEL, "expects 2 + %d*n inputs, got %d", in_groups, ctx->n_in);
  int n = rest / in_groups;
  if (ctx->n_out != out_groups * n)
    return ER_ERR(ER_INVALID_MODEL, "expects %d outputs for %d tensors, got %d", out_groups * n, n,
                  ctx->n_out);
  ER_RETURN_IF_ERROR(er_check_type(ctx, 0, ftypes));
  ER_RETURN_IF_ERROR(er_check_type(ctx, 1, ttypes));
  if (er_tensor_numel(ctx->in[0]) != 1 || er_tensor_numel(ctx->in[1]) != 1)
    return ER_ERR(ER_INVALID_ARGUMENT, "R and T must be scalars");
  for (int i = 0; i < n; i++) {
    const er_tensor *x = ctx->in[2 + i];
    ER_RETURN_IF_ERROR(er_check_type(ctx, 2 + i, ftypes));
    for (int g = 1; g < in_groups; g++) {
      const er_tensor *o = ctx->in[2 + g * n + i];
      if (!o) return ER_ERR(ER_INVALID_MODEL, "input %d is missing", 2 + g * n + i);
      int same = o->dtype == x->dtype && o->rank == x->rank;
      for (int d = 0; same && d < x->rank; d++) same = o->dims[d] == x->dims[d];
      if (!same)
        return ER_ERR(ER_INVALID_ARGUMENT, "input %d must have the type and shape of input %d",
                      2 + g * n + i, 2 + i);
    }
    for (int g = 0; g < out_groups; g++)
      if (ctx->out[g * n + i]) er_tensor_set_shape(ctx->out[g * n + i], x->dtype, x->rank, x->dims);
  }
  return 0;
}

er_status er_linalg_adagrad_infer(er_kctx *ctx) { return optim_infer(ctx, 3, 2); }
er_status er_linalg_momentum_infer(er_kctx *ctx) {
  static const char *const req[] = {"alpha", "beta", "norm_coefficient", "mode"};
  for (int i = 0; i < 4; i++)
    if (!er_attr_get(ctx, req[i]))
      return ER_ERR(ER_INVALID_MODEL, "attribute %s is required", req[i]);
  return optim_infer(ctx, 3, 2);
}
er_status er_linalg_adam_infer(er_kctx *ctx) { return optim_infer(ctx, 4, 3); }

er_status er_linalg_adagrad_run(er_kctx *ctx) {
  int n = (ctx->n_in - 2) / 3;
  double r = er_ld(ctx->in[0]->data, ctx->in[0]->dtype, 0);
  double t = (double)er_load_i64(ctx->in[1]->data, ER_I64, 0);
  double decay = er_attr_float(ctx, "decay_factor", 0.0f);
  double eps = er_attr_float(ctx, "epsilon", 1e-6f);
  double lambda = er_attr_float(ctx, "norm_coefficient", 0.0f);
  double rr = r / (1.0 + t * decay);
  for (int i = 0; i < n; i++) {
    const er_tensor *X = ctx->in[2 + i], *G = ctx->in[2 + n + i], *H = ctx->in[2 + 2 * n + i];
    er_tensor *Xo = ctx->out[i], *Ho = ctx->out[n + i];
    int dt = X->dtype;
    for (int64_t j = 0, m = er_tensor_numel(X); j < m; j++) {
      double x = er_ld(X->data, dt, j), g = lambda * x + er_ld(G->data, dt, j);
      double h = er_ld(H->data, dt, j) + g * g;
      if (Xo) er_st(Xo->data, dt, j, x - rr * g / (sqrt(h) + eps));
      if (Ho) er_st(Ho->data, dt, j, h);
    }
  }
  return 0;
}

er_status er_linalg_momentum_run(er_kctx *ctx) {
  int n = (ctx->n_in - 2) / 3;
  const er_attr *am = er_attr_get(ctx, "mode");
  const char *mode = am && am->type == ER_ATTR_STRING ? am->s : 0;
  int nesterov;
  if (!mode) return ER_ERR(ER_INVALID_MODEL, "attribute mode is required");
  if (!strcmp(mode, "standard")) nesterov = 0;
  else if (!strcmp(mode, "nesterov")) nesterov = 1;
  else return ER_ERR(ER_INVALID_ARGUMENT, "mode '%s' is not standard or nesterov", mode);
  double r = er_ld(ctx->in[0]->data, ctx->in[0]->dtype, 0);
  int64_t t = er_load_i64(ctx->in[1]->data, ER_I64, 0);
  double alpha = er_attr_float(ctx, "alpha", 0.0f), beta = er_attr_float(ctx, "beta", 0.0f);
  double lambda = er_attr_float(ctx, "norm_coefficient", 0.0f);
  double beta_adj = t > 0 ? beta : 1.0; /* the first update takes the whole gradient */
  for (int i = 0; i < n; i++) {
    const er_tensor *X = ctx->in[2 + i], *G = ctx->in[2 + n + i], *V = ctx->in[2 + 2 * n + i];
    er_tensor *Xo = ctx->out[i], *Vo = ctx->out[n + i];
    int dt = X->dtype;
    for (int64_t j = 0, m = er_tensor_numel(X); j < m; j++) {
      double x = er_ld(X->data, dt, j), g = lambda * x + er_ld(G->data, dt, j);
      double v = alpha * er_ld(V->data, dt, j) + beta_adj * g;
      double xn = nesterov ? x - r * (g + alpha * v) : x - r * v;
      if (Xo) er_st(Xo->data, dt, j, xn);
      if (Vo) er_st(Vo->data, dt, j, v);
    }
  }
  return 0;
}

er_status er_linalg_adam_run(er_kctx *ctx) {
  int n = (ctx->n_in - 2) / 4;
  double r = er_ld(ctx->in[0]->data, ctx->in[0]->dtype, 0);
  int64_t t = er_load_i64(ctx->in[1]->data, ER_I64, 0);
  double alpha = er_attr_float(ctx, "alpha", 0.9f), beta = er_attr_float(ctx, "beta", 0.999f);
  double eps = er_attr_float(ctx, "epsilon", 1e-6f);
  double lambda = er_attr_float(ctx, "norm_coefficient", 0.0f);
  double post = er_attr_float(ctx, "norm_coefficient_post", 0.0f);
  double rr = r; /* bias correction once updates have started */
  if (t > 0) rr = r * sqrt(1.0 - pow(beta, (double)t)) / (1.0 - pow(alpha, (double)t));
  for (int i = 0; i < n; i++) {
    const er_tensor *X = ctx->in[2 + i], *G = ctx->in[2 + n + i], *V = ctx->in[2 + 2 * n + i],
                    *H = ctx->in[2 + 3 * n + i];
    er_tensor *Xo = ctx->out[i], *Vo = ctx->out[n + i], *Ho = ctx->out[2 * n + i];
    int dt = X->dtype;
    for (int64_t j = 0, m = er_tensor_numel(X); j < m; j++) {
      double x = er_ld(X->data, dt, j), g = lambda * x + er_ld(G->data, dt, j);
      double v = alpha * er_ld(V->data, dt, j) + (1.0 - alpha) * g;
      double h = beta * er_ld(H->data, dt, j) + (1.0 - beta) * g * g;
      double xn = (1.0 - post) * (x - rr * (v / (sqrt(h) + eps)));
      if (Xo) er_st(Xo->data, dt, j, xn);
      if (Vo) er_st(Vo->data, dt, j, v);
      if (Ho) er_st(Ho->data, dt, j, h);
    }
  }
  return 0;
}

er_status er_linalg_cumsum_infer(er_kctx *ctx) { return cumsum_infer(ctx); }
er_status er_linalg_cumsum_run(er_kctx *ctx) { return cumsum_run(ctx); }
er_status er_linalg_topk_infer(er_kctx *ctx) { return topk_infer(ctx); }
er_status er_linalg_topk_run(er_kctx *ctx) { return topk_run(ctx); }
er_status er_linalg_det_infer(er_kctx *ctx) { return det_infer(ctx); }
er_status er_linalg_det_run(er_kctx *ctx) { return det_run(ctx); }
