/* Reduce* (Sum Mean Max Min Prod L1 L2 LogSum LogSumExp SumSquare), ArgMax, ArgMin. */
#include <math.h>
#include <string.h>

#include "kernels/kernel.h"

enum { R_SUM, R_MEAN, R_MAX, R_MIN, R_PROD, R_L1, R_L2, R_LOGSUM, R_LOGSUMEXP, R_SUMSQ };

static const int k_reduce_types[] = {ER_F32, ER_F64, ER_F16, ER_BF16, ER_I8, ER_I16, ER_I32,
                                     ER_I64, ER_U8, ER_U16, ER_U32, ER_U64, ER_BOOL, 0};

/* Fast element load as double for the common types, generic otherwise. */
/* Smallest / largest value of an integer type, as int64 bits (uint64 max is all ones). */
static int64_t int_type_min(int dt) {
  switch (dt) {
    case ER_I8: return INT8_MIN;
    case ER_I16: return INT16_MIN;
    case ER_I32: return INT32_MIN;
    case ER_I64: return INT64_MIN;
    default: return 0; /* unsigned, bool */
  }
}
static int64_t int_type_max(int dt) {
  switch (dt) {
    case ER_I8: return INT8_MAX;
    case ER_I16: return INT16_MAX;
    case ER_I32: return INT32_MAX;
    case ER_I64: return INT64_MAX;
    case ER_U8: return UINT8_MAX;
    case ER_U16: return UINT16_MAX;
    case ER_U32: return UINT32_MAX;
    case ER_U64: return -1;
    case ER_BOOL: return 1;
    default: return 0;
  }
}

/* Which axes to reduce. Sets mask[d] = 1 for reduced axes; *noop when axes are empty and
 * noop_with_empty_axes is set. Axes come from input 1 for ReduceSum >= 13 and the others
 * >= 18, from the "axes" attribute before. */
static er_status reduce_axes(er_kctx *ctx, int op, int rank, int *mask, int *noop) {
  int from_input = op == R_SUM ? ctx->opset >= 13 : ctx->opset >= 18;
  ER_RETURN_IF_ERROR(er_check_inputs(ctx, 1, from_input ? 2 : 1));
  int64_t axes[ER_MAX_RANK];
  int n = 0;
  if (from_input) {
    const er_tensor *t = er_in(ctx, 1);
    if (t && er_tensor_numel(t) > 0) {
      if (!er_in_known(ctx, 1)) return er_needs_data(ctx);
      er_status s = er_read_ints(t, axes, ER_MAX_RANK, &n);
      if (s) return er_status_prefix(s, "axes");
    }
  } else {
    const int64_t *a;
    int na = er_attr_ints(ctx, "axes", &a);
    if (na > ER_MAX_RANK) return ER_ERR(ER_INVALID_ARGUMENT, "too many axes (%d)", na);
    for (int i = 0; i < na; i++) axes[n++] = a[i];
  }
  for (int d = 0; d < rank; d++) mask[d] = n == 0;
  *noop = n == 0 && er_attr_int(ctx, "noop_with_empty_axes", 0) != 0;
  if (*noop) {
    for (int d = 0; d < rank; d++) mask[d] = 0;
    return 0;
  }
  for (int i = 0; i < n; i++) {
    int ax;
    ER_RETURN_IF_ERROR(er_normalize_axis(axes[i], rank, &ax));
    if (mask[ax]) return ER_ERR(ER_INVALID_ARGUMENT, "axis %lld repeated", (long long)axes[i]);
    mask[ax] = 1;
  }
  return 0;
}

/* Integer accumulation keeps int64 exact; Mean, L2, LogSum, LogSumExp and float inputs
 * accumulate in double. */
static int reduce_uses_int(int op, int dt) {
  if (er_dtype_is_float(dt)) return 0;
  return op == R_SUM || op == R_PROD || op == R_SUMSQ || op == R_L1 || op == R_MAX || op == R_MIN;
}

static er_status reduce_infer(er_kctx *ctx, int op) {
  ER_RETURN_IF_ERROR(er_check_type(ctx, 0, k_reduce_types));
  const er_tensor *x = ctx->in[0];
  if (x->dtype == ER_BOOL && op != R_MAX && op != R_MIN)
    return ER_ERR(ER_INVALID_ARGUMENT, "bool input is only allowed for ReduceMax/ReduceMin");
  int mask[ER_MAX_RANK], noop;
  ER_RETURN_IF_ERROR(reduce_axes(ctx, op, x->rank, mask, &noop));
  int keep = er_attr_int(ctx, "keepdims", 1) != 0;
  int64_t dims[ER_MAX_RANK];
  int r = 0;
  for (int d = 0; d < x->rank; d++) {
    if (!mask[d]) dims[r++] = x->dims[d];
    else if (keep) dims[r++] = 1;
  }
  er_tensor_set_shape(ctx->out[0], x->dtype, r, dims);
  int64_t on = er_shape_numel(dims, r);
  ctx->scratch_bytes = noop ? 0 : (size_t)on * 8 * (op == R_LOGSUMEXP ? 2 : 1);
  return 0;
}

static er_status reduce_run(er_kctx *ctx, int op) {
  const er_tensor *x = ctx->in[0];
  er_tensor *y = ctx->out[0];
  int dt = x->dtype, rank = x->rank;
  int mask[ER_MAX_RANK], noop;
  ER_RETURN_IF_ERROR(reduce_axes(ctx, op, rank, mask, &noop));
  int64_t n = er_tensor_numel(x), on = er_tensor_numel(y);
  if (noop) { /* identity (SumSquare squares, as the ONNX reference does) */
    if (op != R_SUMSQ) {
      memcpy(y->data, x->data, er_tensor_nbytes(x));
    } else if (er_dtype_is_float(dt)) {
      for (int64_t i = 0; i < n; i++) { double v = er_ld(x->data, dt, i); er_st(y->data, dt, i, v * v); }
    } else {
      for (int64_t i = 0; i < n; i++) {
        uint64_t v = (uint64_t)er_load_i64(x->data, dt, (size_t)i);
        er_store_i64(y->data, dt, (size_t)i, (int64_t)(v * v));
      }
    }
    return 0;
  }
  /* output stride of each input dim (0 along reduced dims) */
  int64_t ostr[ER_MAX_RANK], s = 1, count = 1;
  for (int d = rank - 1; d >= 0; d--) {
    if (mask[d]) { ostr[d] = 0; count *= x->dims[d]; }
    else { ostr[d] = s; s *= x->dims[d]; }
  }
  int64_t last = rank ? x->dims[rank - 1] : 1, lstr = rank ? ostr[rank - 1] : 0;
  int64_t rows = last ? n / last : 0;
  /* Visit every input element: row by row over the last dim, tracking the output offset. */
#define FOR_EACH_ELEMENT(BODY)                                                  \
  do {                                                                          \
    int64_t idx_[ER_MAX_RANK] = {0}, base_ = 0, i_ = 0;                         \
    for (int64_t r_ = 0; r_ < rows; r_++) {                                     \
      for (int64_t j_ = 0; j_ < last; j_++, i_++) {                             \
        int64_t o = base_ + j_ * lstr, i = i_;                                  \
        BODY;                                                                   \
      }                                                                         \
      for (int d_ = rank - 2; d_ >= 0; d_--) {                                  \
        base_ += ostr[d_];                                                      \
        if (++idx_[d_] < x->dims[d_]) break;                                    \
        base_ -= ostr[d_] * x->dims[d_];                                        \
        idx_[d_] = 0;                                                           \
      }                                                                         \
    }                                                                           \
  } while (0)

  if (reduce_uses_int(op, dt)) {
    int64_t *acc = (int64_t *)ctx->scratch;
    int uns = er_dtype_is_unsigned_int(dt);
    int64_t init = op == R_PROD ? 1 : op == R_MAX ? int_type_min(dt) : op == R_MIN ? int_type_max(dt) : 0;
    for (int64_t o = 0; o < on; o++) acc[o] = init;
    const void *p = x->data;
    switch (op) {
      case R_SUM: FOR_EACH_ELEMENT(acc[o] = (int64_t)((uint64_t)acc[o] + (uint64_t)er_load_i64(p, dt, (size_t)i))); break;
      case R_PROD: FOR_EACH_ELEMENT(acc[o] = (int64_t)((uint64_t)acc[o] * (uint64_t)er_load_i64(p, dt, (size_t)i))); break;
      case R_SUMSQ:
        FOR_EACH_ELEMENT({
          uint64_t v = (uint64_t)er_load_i64(p, dt, (size_t)i);
          acc[o] = (int64_t)((uint64_t)acc[o] + v * v);
        });
        break;
      case R_L1:
        FOR_EACH_ELEMENT({
          int64_t v = er_load_i64(p, dt, (size_t)i);
          uint64_t a = (!uns && v < 0) ? 0 - (uint64_t)v : (uint64_t)v;
          acc[o] = (int64_t)((uint64_t)acc[o] + a);
        });
        break;
      case R_MAX:
      case R_MIN:
        FOR_EACH_ELEMENT({
          int64_t v = er_load_i64(p, dt, (size_t)i);
          int gt = uns ? (uint64_t)v > (uint64_t)acc[o] : v > acc[o];
          int lt = uns ? (uint64_t)v < (uint64_t)acc[o] : v < acc[o];
          if (op == R_MAX ? gt : lt) acc[o] = v;
        });
        break;
      default: return ER_ERR(ER_INTERNAL, "bad reduction");
    }
    for (int64_t o = 0; o < on; o++) er_store_i64(y->data, dt, (size_t)o, acc[o]);
    return 0;
  }

  double *acc = (double *)ctx->scratch;
  double init = op == R_PROD ? 1.0 : op == R_MAX ? -INFINITY : op == R_MIN ? INFINITY : 0.0;
  for (int64_t o = 0; o < on; o++) acc[o] = init;
  const void *p = x->data;
  if (dt == ER_F32 && lstr == 1 && (op == R_SUM || op == R_MEAN || op == R_LOGSUM)) {
    /* the last dim kept (a channels-last global pool): whole rows added to a run of acc,
     * in the same order as the general loop below */
    const float *xf = (const float *)p;
    int64_t idx[ER_MAX_RANK] = {0}, base = 0;
    for (int64_t r = 0; r < rows; r++, xf += last) {
      double *a = acc + base;
      int64_t j = 0;
      for (; j + 4 <= last; j += 4) { /* straight-line groups the compiler packs into vectors */
        a[j] += (double)xf[j], a[j + 1] += (double)xf[j + 1];
        a[j + 2] += (double)xf[j + 2], a[j + 3] += (double)xf[j + 3];
      }
      for (; j < last; j++) a[j] += (double)xf[j];
      for (int d = rank - 2; d >= 0; d--) {
        base += ostr[d];
        if (++idx[d] < x->dims[d]) break;
        base -= ostr[d] * x->dims[d];
        idx[d] = 0;
      }
    }
  } else switch (op) {
    case R_SUM: case R_MEAN: case R_LOGSUM: FOR_EACH_ELEMENT(acc[o] += er_ld(p, dt, i)); break;
    case R_PROD: FOR_EACH_ELEMENT(acc[o] *= er_ld(p, dt, i)); break;
    case R_L1: FOR_EACH_ELEMENT(acc[o] += fabs(er_ld(p, dt, i))); break;
    case R_L2: case R_SUMSQ: FOR_EACH_ELEMENT({ double v = er_ld(p, dt, i); acc[o] += v * v; }); break;
    case R_MAX: FOR_EACH_ELEMENT({ double v = er_ld(p, dt, i); if (v > acc[o] || isnan(v)) acc[o] = v; }); break;
    case R_MIN: FOR_EACH_ELEMENT({ double v = er_ld(p, dt, i); if (v < acc[o] || isnan(v)) acc[o] = v; }); break;
    case R_LOGSUMEXP: {
      double *mx = acc + on;
      for (int64_t o = 0; o < on; o++) mx[o] = -INFINITY;
      FOR_EACH_ELEMENT({ double v = er_ld(p, dt, i); if (v > mx[o] || isnan(v)) mx[o] = v; });
      FOR_EACH_ELEMENT({
        double m = mx[o];
        if (isfinite(m)) acc[o] += exp(er_ld(p, dt, i) - m);
      });
      for (int64_t o = 0; o < on; o++) acc[o] = isfinite(mx[o]) ? mx[o] + log(acc[o]) : mx[o];
      break;
    }
    default: return ER_ERR(ER_INTERNAL, "bad reduction");
  }
#undef FOR_EACH_ELEMENT
  for (int64_t o = 0; o < on; o++) {
    double v = acc[o];
    if (op == R_MEAN) v = v / (double)count;
    else if (op == R_L2) v = sqrt(v);
    else if (op == R_LOGSUM) v = log(v);
    er_st(y->data, dt, o, v);
  }
  return 0;
}

#define REDUCE_OP(name, code)                                                            \
  er_status er_linalg_##name##_infer(er_kctx *ctx) { return reduce_infer(ctx, code); } \
  er_status er_linalg_##name##_run(er_kctx *ctx) { return reduce_run(ctx, code); }
REDUCE_OP(reduce_sum, R_SUM)
REDUCE_OP(reduce_mean, R_MEAN)
REDUCE_OP(reduce_max, R_MAX)
REDUCE_OP(reduce_min, R_MIN)
REDUCE_OP(reduce_prod, R_PROD)
REDUCE_OP(reduce_l1, R_L1)
REDUCE_OP(reduce_l2, R_L2)
REDUCE_OP(reduce_log_sum, R_LOGSUM)
REDUCE_OP(reduce_log_sum_exp, R_LOGSUMEXP)
REDUCE_OP(reduce_sum_square, R_SUMSQ)

/* ---- ArgMax / ArgMin ------------------------------------------------------------------ */
static er_status arg_infer(er_kctx *ctx, int is_max) {
  (void)is_max;
  ER_RETURN_IF_ERROR(er_check_inputs(ctx, 1, 1));
  ER_RETURN_IF_ERROR(er_check_type(ctx, 0, k_reduce_types));
  const er_tensor *x = ctx->in[0];
  if (x->rank == 0) return ER_ERR(ER_INVALID_ARGUMENT, "input must have rank >= 1");
  int ax;
  ER_RETURN_IF_ERROR(er_normalize_axis(er_attr_int(ctx, "axis", 0), x->rank, &ax));
  if (x->dims[ax] == 0 && er_tensor_numel(x) == 0) {
    int64_t other = 1;
    for (int d = 0; d < x->rank; d++) if (d != ax) other *= x->dims[d];
    if (other > 0) return ER_ERR(ER_INVALID_ARGUMENT, "cannot take arg-max/min over an empty axis");
  }
  int keep = er_attr_int(ctx, "keepdims", 1) != 0;
  int64_t dims[ER_MAX_RANK];
  int r = 0;
  for (int d = 0; d < x->rank; d++) {
    if (d != ax) dims[r++] = x->dims[d];
    else if (keep) dims[r++] = 1;
  }
  er_tensor_set_shape(ctx->out[0], ER_I64, r, dims);
  return 0;
}

static er_status arg_run(er_kctx *ctx, int is_max) {
  const er_tensor *x = ctx->in[0];
  int ax;
  ER_RETURN_IF_ERROR(er_normalize_axis(er_attr_int(ctx, "axis", 0), x->rank, &ax));
  int last = er_attr_int(ctx, "select_last_index", 0) != 0;
  int dt = x->dtype, isf = er_dtype_is_float(dt), uns = er_dtype_is_unsigned_int(dt);
  int64_t outer = 1, inner = 1, n = x->dims[ax];
  for (int d = 0; d < ax; d++) outer *= x->dims[d];
  for (int d = ax + 1; d < x->rank; d++) inner *= x->dims[d];
  int64_t *out = (int64_t *)ctx->out[0]->data;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t in = 0; in < inner; in++) {
      int64_t base = o * n * inner + in, best = 0;
      if (isf) {
        double bv = er_ld(x->data, dt, base);
        for (int64_t k = 1; k < n; k++) {
          double v = er_ld(x->data, dt, base + k * inner);
          int take;
          if (isnan(bv)) take = last && isnan(v); /* first (or last) NaN wins, like numpy */
          else if (isnan(v)) take = 1;
          else take = is_max ? (last ? v >= bv : v > bv) : (last ? v <= bv : v < bv);
          if (take) bv = v, best = k;
        }
      } else {
        int64_t bv = er_load_i64(x->data, dt, (size_t)base);
        for (int64_t k = 1; k < n; k++) {
          int64_t v = er_load_i64(x->data, dt, (size_t)(base + k * inner));
          int c = uns ? ((uint64_t)v > (uint64_t)bv) - ((uint64_t)v < (uint64_t)bv)
                      : (v > bv) - (v < bv);
          if (!is_max) c = -c;
          if (c > 0 || (last && c == 0)) bv = v, best = k;
        }
      }
      out[o * inner + in] = best;
    }
  return 0;
}

er_status er_linalg_argmax_infer(er_kctx *ctx) { return arg_infer(ctx, 1); }
er_status er_linalg_argmax_run(er_kctx *ctx) { return arg_run(ctx, 1); }
er_status er_linalg_argmin_infer(er_kctx *ctx) { return arg_infer(ctx, 0); }
er_status er_linalg_argmin_run(er_kctx *ctx) { return arg_run(ctx, 0); }
