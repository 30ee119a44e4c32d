/*
 * Type conversion and pass-through ops: Cast, CastLike, Identity, Dropout (inference).
 *
 * Cast semantics (numpy astype, as the ONNX tests expect):
 *   float -> integer truncates toward zero (NaN -> 0, out of range saturates to the
 *   int64 range, then wraps to the narrower type); anything -> bool is `v != 0`;
 *   float -> bfloat16 truncates (as the ONNX reference and its test data do);
 *   -> int4/uint4 rounds half to even and clamps to [-8, 7] / [0, 15] (stored one per
 *   byte); float64 -> float16/bfloat16/float8 rounds once (no double rounding);
 *   -> float8 honours `saturate` (opset 19+, default 1).
 */
#include <math.h>
#include <string.h>

#include "kernels/kernel.h"

static int is_int_like(int t) { return er_dtype_is_signed_int(t) || er_dtype_is_unsigned_int(t); }
static int is_cast_type(int t) { return er_dtype_size(t) != 0; }

/* Round a double to float with round-to-odd, so that a second rounding to a
 * narrower format (f16, bf16, f8) gives the correctly rounded result. */
static float f64_to_f32_odd(double d) {
  float f = (float)d;
  if (isnan(d) || isinf(f) || (double)f == d) return f;
  uint32_t u;
  memcpy(&u, &f, 4);
  if ((u & 1) == 0) { /* even: step toward d to the odd neighbour */
    f = nextafterf(f, (double)f < d ? INFINITY : -INFINITY);
  }
  return f;
}

/* Cast to bfloat16 truncates the float32 value (ONNX reference and test data);
 * NaN keeps a quiet NaN. Arithmetic in bfloat16 elsewhere rounds to nearest even. */
static uint16_t f32_to_bf16_trunc(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  if (isnan(f)) return (uint16_t)((u >> 16) | 0x40);
  return (uint16_t)(u >> 16);
}

static void cast_elems(void *dst, int dt, const void *src, int st, int64_t n, int saturate) {
  if (dt == st) {
    memcpy(dst, src, (size_t)n * er_dtype_size(dt));
    return;
  }
  if (dt == ER_I4 || dt == ER_U4) {
    double lo = dt == ER_I4 ? -8 : 0, hi = dt == ER_I4 ? 7 : 15;
    for (int64_t i = 0; i < n; i++) {
      double v = er_load_f64(src, st, (size_t)i);
      v = isnan(v) ? 0 : nearbyint(v < lo ? lo : v > hi ? hi : v);
      er_store_i64(dst, dt, (size_t)i, (int64_t)v);
    }
    return;
  }
  if (is_int_like(st) && is_int_like(dt)) {
    for (int64_t i = 0; i < n; i++) er_store_i64(dst, dt, (size_t)i, er_load_i64(src, st, (size_t)i));
    return;
  }
  if (st == ER_F32 && dt == ER_F64) {
    for (int64_t i = 0; i < n; i++) ((double *)dst)[i] = ((const float *)src)[i];
    return;
  }
  if (st == ER_F64 && dt == ER_F32) {
    for (int64_t i = 0; i < n; i++) ((float *)dst)[i] = (float)((const double *)src)[i];
    return;
  }
  for (int64_t i = 0; i < n; i++) {
    size_t k = (size_t)i;
    switch (dt) {
      case ER_F32:
        if (st == ER_I64) ((float *)dst)[k] = (float)((const int64_t *)src)[k];
        else if (st == ER_U64) ((float *)dst)[k] = (float)((const uint64_t *)src)[k];
        else ((float *)dst)[k] = (float)er_load_f64(src, st, k);
        break;
      case ER_F64:
        if (st == ER_U64) ((double *)dst)[k] = (double)((const uint64_t *)src)[k];
        else ((double *)dst)[k] = er_load_f64(src, st, k);
        break;
      case ER_F16: case ER_BF16: case ER_F8E4M3FN: case ER_F8E4M3FNUZ: case ER_F8E5M2:
      case ER_F8E5M2FNUZ: case ER_F4E2M1: {
        float f;
        if (st == ER_F64) f = f64_to_f32_odd(((const double *)src)[k]);
        else if (st == ER_I64) f = (float)((const int64_t *)src)[k];
        else if (st == ER_U64) f = (float)((const uint64_t *)src)[k];
        else f = (float)er_load_f64(src, st, k);
        if (dt == ER_F16) ((uint16_t *)dst)[k] = er_f32_to_f16(f);
        else if (dt == ER_BF16) ((uint16_t *)dst)[k] = f32_to_bf16_trunc((float)er_load_f64(src, st, k));
        else if (dt == ER_F4E2M1) ((uint8_t *)dst)[k] = er_f32_to_f4e2m1(f);
        else ((uint8_t *)dst)[k] = er_f32_to_f8(f, dt, saturate);
        break;
      }
      default: /* integer or bool target from a float source */
        er_store_f64(dst, dt, k, er_load_f64(src, st, k));
        break;
    }
  }
}

static er_status cast_common_infer(er_kctx *c, int to) {
  const er_tensor *x = c->in[0];
  if (!is_cast_type(x->dtype))
    return ER_ERR(ER_UNSUPPORTED, "cast from %s is not supported", er_dtype_name((er_dtype)x->dtype));
  if (!is_cast_type(to))
    return ER_ERR(ER_UNSUPPORTED, "cast to %s is not supported", er_dtype_name((er_dtype)to));
  int64_t sat = er_attr_int(c, "saturate", 1);
  if (sat != 0 && sat != 1) return ER_ERR(ER_INVALID_ARGUMENT, "saturate must be 0 or 1");
  if (!er_out(c, 0)) return ER_ERR(ER_INVALID_MODEL, "output 0 is missing");
  er_tensor_set_shape(c->out[0], to, x->rank, x->dims);
  return 0;
}

er_status er_ew_cast_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  const er_attr *to = er_attr_get(c, "to");
  if (!to || to->type != ER_ATTR_INT) return ER_ERR(ER_INVALID_MODEL, "attribute 'to' is missing");
  if (to->i <= 0 || to->i > ER_F4E2M1)
    return ER_ERR(ER_INVALID_ARGUMENT, "attribute 'to' has invalid type %lld", (long long)to->i);
  return cast_common_infer(c, (int)to->i);
}

er_status er_ew_castlike_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 2, 2));
  return cast_common_infer(c, c->in[1]->dtype);
}

er_status er_ew_cast_run(er_kctx *c) {
  const er_tensor *x = c->in[0];
  er_tensor *y = c->out[0];
  cast_elems(y->data, y->dtype, x->data, x->dtype, er_tensor_numel(x),
             (int)er_attr_int(c, "saturate", 1));
  return 0;
}

/* ---- Identity ---- */
er_status er_ew_identity_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  const er_tensor *x = c->in[0];
  if (!er_dtype_size(x->dtype))
    return ER_ERR(ER_UNSUPPORTED, "type %s is not supported", er_dtype_name((er_dtype)x->dtype));
  if (!er_out(c, 0)) return ER_ERR(ER_INVALID_MODEL, "output 0 is missing");
  er_tensor_set_shape(c->out[0], x->dtype, x->rank, x->dims);
  return 0;
}

er_status er_ew_identity_run(er_kctx *c) {
  if (c->out[0]->data != c->in[0]->data)
    memmove(c->out[0]->data, c->in[0]->data, er_tensor_nbytes(c->in[0]));
  return 0;
}

/* ---- Dropout (inference only) ---- */
/* Training mode (opset 12+, input 2 known and true) drops random elements, which this
 * runtime does not do, except with a known ratio of 0, where it is the identity. */
static int training_unsupported(const er_kctx *c) {
  if (c->opset < 12 || !er_in_known(c, 2)) return 0;
  const er_tensor *t = c->in[2];
  if (er_load_f64(t->data, t->dtype, 0) == 0) return 0;
  if (!er_in(c, 1)) return 1; /* default ratio 0.5 */
  return !er_in_known(c, 1) || er_load_f64(c->in[1]->data, c->in[1]->dtype, 0) != 0;
}

er_status er_ew_dropout_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, c->opset >= 12 ? 3 : 1));
  const er_tensor *x = c->in[0];
  if (!er_dtype_is_float(x->dtype))
    return ER_ERR(ER_UNSUPPORTED, "type %s is not supported", er_dtype_name((er_dtype)x->dtype));
  for (int i = 1; i < 3; i++) {
    const er_tensor *t = er_in(c, i);
    if (t && er_tensor_numel(t) != 1)
      return ER_ERR(ER_INVALID_ARGUMENT, "%s must be a scalar", i == 1 ? "ratio" : "training_mode");
  }
  if (training_unsupported(c))
    return ER_ERR(ER_UNSUPPORTED, "training_mode=true with a non-zero ratio (random dropout) is not supported");
  if (!er_out(c, 0)) return ER_ERR(ER_INVALID_MODEL, "output 0 is missing");
  er_tensor_set_shape(c->out[0], x->dtype, x->rank, x->dims);
  /* mask: bool from opset 10, the input type before */
  if (er_out(c, 1)) er_tensor_set_shape(c->out[1], c->opset >= 10 ? ER_BOOL : x->dtype, x->rank, x->dims);
  return 0;
}

er_status er_ew_dropout_run(er_kctx *c) {
  if (training_unsupported(c))
    return ER_ERR(ER_UNSUPPORTED, "training_mode=true with a non-zero ratio (random dropout) is not supported");
  er_ew_identity_run(c);
  er_tensor *mask = er_out(c, 1);
  if (mask) {
    int64_t n = er_tensor_numel(mask);
    for (int64_t i = 0; i < n; i++) er_store_f64(mask->data, mask->dtype, (size_t)i, 1.0);
  }
  return 0;
}
