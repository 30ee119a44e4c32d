/*
 * Unary elementwise ops: math functions, activations, predicates, Clip.
 *
 * Each op is one row of `unary_ops`: a double-precision function for float types
 * (float32 and float64 computed directly; float16/bfloat16/float8 loaded to float,
 * computed, rounded back) and, where the op accepts integers, an int64 function.
 * Attribute defaults live in the same row, so adding an op is one line.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "kernels/kernel.h"

/* Type classes an op accepts. */
enum { T_FLT = 1, T_SINT = 2, T_UINT = 4, T_BOOL = 8, T_F8 = 16, T_INT = T_SINT | T_UINT };

typedef struct {
  double alpha, beta, gamma, lambd, bias;
  int flag_a, flag_b; /* IsInf detect_positive/negative; Gelu tanh approximation */
  int is_unsigned;    /* integer path: the element type is unsigned */
} upar;

/* float32 fast paths (elementwise_fast.c); return 1 when they computed the output */
int er_ew_f32_unary_fast(er_kctx *c, float alpha, float beta, int gelu_tanh);
int er_ew_f32_clip_fast(er_kctx *c, const void *lo, const void *hi);

typedef double (*ufn_d)(double x, const upar *p);
typedef int64_t (*ufn_i)(int64_t x, const upar *p);

/* ---- float functions ---- */
#define FD(name, expr) \
  static double name(double x, const upar *p) { (void)p; return (expr); }
FD(f_abs, fabs(x))
FD(f_acos, acos(x))
FD(f_acosh, acosh(x))
FD(f_asin, asin(x))
FD(f_asinh, asinh(x))
FD(f_atan, atan(x))
FD(f_atanh, atanh(x))
FD(f_ceil, ceil(x))
FD(f_cos, cos(x))
FD(f_cosh, cosh(x))
FD(f_erf, erf(x))
FD(f_exp, exp(x))
FD(f_floor, floor(x))
FD(f_log, log(x))
FD(f_neg, -x)
FD(f_recip, 1.0 / x)
FD(f_round, nearbyint(x)) /* default rounding mode: half to even */
FD(f_sign, x > 0 ? 1.0 : x < 0 ? -1.0 : x) /* keeps NaN and signed zero */
FD(f_sin, sin(x))
FD(f_sinh, sinh(x))
FD(f_sqrt, sqrt(x))
FD(f_tan, tan(x))
FD(f_tanh, tanh(x))
FD(f_isnan, isnan(x) ? 1.0 : 0.0)
FD(f_isinf, isinf(x) && ((x > 0 && p->flag_a) || (x < 0 && p->flag_b)) ? 1.0 : 0.0)
FD(f_relu, x > 0 ? x : (x == x ? 0.0 : x))
FD(f_leaky, x < 0 ? p->alpha * x : x)
FD(f_elu, x < 0 ? p->alpha * expm1(x) : x)
FD(f_selu, x > 0 ? p->gamma * x : p->gamma * p->alpha * expm1(x))
FD(f_celu, fmax(0.0, x) + fmin(0.0, p->alpha * expm1(x / p->alpha)))
FD(f_sigmoid, x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x)))
FD(f_hsigmoid, fmax(0.0, fmin(1.0, p->alpha * x + p->beta)))
FD(f_hswish, x * fmax(0.0, fmin(1.0, x / 6.0 + 0.5)))
FD(f_softplus, x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)))
FD(f_softsign, x / (1.0 + fabs(x)))
FD(f_threlu, x > p->alpha ? x : 0.0)
FD(f_shrink, x < -p->lambd ? x + p->bias : x > p->lambd ? x - p->bias : 0.0)
FD(f_mish, x * tanh(f_softplus(x, p)))
FD(f_gelu, p->flag_a ? 0.5 * x * (1.0 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)))
                     : 0.5 * x * (1.0 + erf(x * 0.7071067811865476)))

/* ---- integer functions (int64 with wrap-around; unsigned via p->is_unsigned) ---- */
#define FI(name, expr) \
  static int64_t name(int64_t x, const upar *p) { (void)p; return (expr); }
#define WRAP_NEG(x) ((int64_t)(0u - (uint64_t)(x)))
FI(i_abs, p->is_unsigned || x >= 0 ? x : WRAP_NEG(x))
FI(i_neg, WRAP_NEG(x))
FI(i_sign, p->is_unsigned ? (x != 0) : (x > 0) - (x < 0))
FI(i_relu, p->is_unsigned || x > 0 ? x : 0)
FI(i_bnot, ~x)
FI(i_not, !x)

typedef struct {
  const char *name;
  ufn_d fd;      /* float types (NULL: not accepted) */
  ufn_i fi;      /* integer / bool types (NULL: not accepted, or go through fd) */
  unsigned types;
  int out_bool;
  float alpha, beta, gamma; /* attribute defaults */
} unary_op;

/* (ER_OPDEF: a selective-op build keeps its op types only; the last entry matches no op) */
static const unary_op unary_ops[] = {
    ER_OPDEF(Abs, {"Abs", f_abs, i_abs, T_FLT | T_INT})
    ER_OPDEF(Acos, {"Acos", f_acos, 0, T_FLT})
    ER_OPDEF(Acosh, {"Acosh", f_acosh, 0, T_FLT})
    ER_OPDEF(Asin, {"Asin", f_asin, 0, T_FLT})
    ER_OPDEF(Asinh, {"Asinh", f_asinh, 0, T_FLT})
    ER_OPDEF(Atan, {"Atan", f_atan, 0, T_FLT})
    ER_OPDEF(Atanh, {"Atanh", f_atanh, 0, T_FLT})
    ER_OPDEF(Ceil, {"Ceil", f_ceil, 0, T_FLT})
    ER_OPDEF(Cos, {"Cos", f_cos, 0, T_FLT})
    ER_OPDEF(Cosh, {"Cosh", f_cosh, 0, T_FLT})
    ER_OPDEF(Erf, {"Erf", f_erf, 0, T_FLT | T_INT})
    ER_OPDEF(Exp, {"Exp", f_exp, 0, T_FLT})
    ER_OPDEF(Floor, {"Floor", f_floor, 0, T_FLT})
    ER_OPDEF(Log, {"Log", f_log, 0, T_FLT})
    ER_OPDEF(Neg, {"Neg", f_neg, i_neg, T_FLT | T_SINT})
    ER_OPDEF(Reciprocal, {"Reciprocal", f_recip, 0, T_FLT})
    ER_OPDEF(Round, {"Round", f_round, 0, T_FLT})
    ER_OPDEF(Sign, {"Sign", f_sign, i_sign, T_FLT | T_INT})
    ER_OPDEF(Sin, {"Sin", f_sin, 0, T_FLT})
    ER_OPDEF(Sinh, {"Sinh", f_sinh, 0, T_FLT})
    ER_OPDEF(Sqrt, {"Sqrt", f_sqrt, 0, T_FLT})
    ER_OPDEF(Tan, {"Tan", f_tan, 0, T_FLT})
    ER_OPDEF(Tanh, {"Tanh", f_tanh, 0, T_FLT})
    ER_OPDEF(IsNaN, {"IsNaN", f_isnan, 0, T_FLT | T_F8, 1})
    ER_OPDEF(IsInf, {"IsInf", f_isinf, 0, T_FLT | T_F8, 1})
    ER_OPDEF(Not, {"Not", 0, i_not, T_BOOL})
    ER_OPDEF(BitwiseNot, {"BitwiseNot", 0, i_bnot, T_INT})
    ER_OPDEF(Relu, {"Relu", f_relu, i_relu, T_FLT | T_SINT})
    ER_OPDEF(LeakyRelu, {"LeakyRelu", f_leaky, 0, T_FLT, 0, 0.01f})
    ER_OPDEF(Elu, {"Elu", f_elu, 0, T_FLT, 0, 1.0f})
    ER_OPDEF(Selu, {"Selu", f_selu, 0, T_FLT, 0, 1.67326319217681884765625f, 0, 1.05070102214813232421875f})
    ER_OPDEF(Celu, {"Celu", f_celu, 0, T_FLT, 0, 1.0f})
    ER_OPDEF(Sigmoid, {"Sigmoid", f_sigmoid, 0, T_FLT})
    ER_OPDEF(HardSigmoid, {"HardSigmoid", f_hsigmoid, 0, T_FLT, 0, 0.2f, 0.5f})
    ER_OPDEF(HardSwish, {"HardSwish", f_hswish, 0, T_FLT})
    ER_OPDEF(Softplus, {"Softplus", f_softplus, 0, T_FLT})
    ER_OPDEF(Softsign, {"Softsign", f_softsign, 0, T_FLT})
    ER_OPDEF(ThresholdedRelu, {"ThresholdedRelu", f_threlu, 0, T_FLT, 0, 1.0f})
    ER_OPDEF(Shrink, {"Shrink", f_shrink, 0, T_FLT | T_INT})
    ER_OPDEF(Mish, {"Mish", f_mish, 0, T_FLT})
    ER_OPDEF(Gelu, {"Gelu", f_gelu, 0, T_FLT})
    {"", 0},
};

static const unary_op *find_unary(const char *name) {
  for (size_t i = 0; i < sizeof unary_ops / sizeof unary_ops[0]; i++)
    if (strcmp(unary_ops[i].name, name) == 0) return &unary_ops[i];
  return 0;
}

static unsigned type_class(int dt) {
  switch (dt) {
    case ER_F32: case ER_F64: case ER_F16: case ER_BF16: return T_FLT;
    case ER_F8E4M3FN: case ER_F8E4M3FNUZ: case ER_F8E5M2: case ER_F8E5M2FNUZ: return T_F8;
    case ER_I8: case ER_I16: case ER_I32: case ER_I64: return T_SINT;
    case ER_U8: case ER_U16: case ER_U32: case ER_U64: return T_UINT;
    case ER_BOOL: return T_BOOL;
    default: return 0;
  }
}

static er_status read_params(const er_kctx *c, const unary_op *op, upar *p) {
  memset(p, 0, sizeof *p);
  p->alpha = er_attr_float(c, "alpha", op->alpha);
  p->beta = er_attr_float(c, "beta", op->beta);
  p->gamma = er_attr_float(c, "gamma", op->gamma);
  p->lambd = er_attr_float(c, "lambd", 0.5f);
  p->bias = er_attr_float(c, "bias", 0.0f);
  if (op->fd == f_isinf) {
    p->flag_a = er_attr_int(c, "detect_positive", 1) != 0;
    p->flag_b = er_attr_int(c, "detect_negative", 1) != 0;
  } else if (op->fd == f_gelu) {
    const char *a = er_attr_str(c, "approximate", "none");
    if (strcmp(a, "tanh") == 0) p->flag_a = 1;
    else if (strcmp(a, "none") != 0)
      return ER_ERR(ER_INVALID_ARGUMENT, "approximate must be \"none\" or \"tanh\", got \"%s\"", a);
  } else if (op->fd == f_celu && p->alpha == 0) {
    return ER_ERR(ER_INVALID_ARGUMENT, "alpha must be non-zero");
  }
  return 0;
}

er_status er_ew_unary_infer(er_kctx *c) {
  const unary_op *op = find_unary(c->node->op_type);
  if (!op) return ER_ERR(ER_INTERNAL, "no unary kernel for %s", c->node->op_type);
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  const er_tensor *x = c->in[0];
  if (!(type_class(x->dtype) & op->types))
    return ER_ERR(ER_UNSUPPORTED, "input type %s is not supported", er_dtype_name((er_dtype)x->dtype));
  upar p;
  ER_RETURN_IF_ERROR(read_params(c, op, &p));
  if (!er_out(c, 0)) return ER_ERR(ER_INVALID_MODEL, "output 0 is missing");
  er_tensor_set_shape(c->out[0], op->out_bool ? ER_BOOL : x->dtype, x->rank, x->dims);
  return 0;
}

er_status er_ew_unary_run(er_kctx *c) {
  const unary_op *op = find_unary(c->node->op_type);
  if (!op) return ER_ERR(ER_INTERNAL, "no unary kernel for %s", c->node->op_type);
  upar p;
  ER_RETURN_IF_ERROR(read_params(c, op, &p));
  if (er_ew_f32_unary_fast(c, (float)p.alpha, (float)p.beta, p.flag_a)) return 0;
  const er_tensor *x = c->in[0];
  er_tensor *y = c->out[0];
  int xt = x->dtype, yt = y->dtype;
  int64_t n = er_tensor_numel(x);
  unsigned cls = type_class(xt);
  if (cls & (T_FLT | T_F8)) {
    if (xt == ER_F32 && yt == ER_F32) {
      const float *a = (const float *)x->data;
      float *o = (float *)y->data;
      for (int64_t i = 0; i < n; i++) o[i] = (float)op->fd(a[i], &p);
    } else if (xt == ER_F64 && yt == ER_F64) {
      const double *a = (const double *)x->data;
      double *o = (double *)y->data;
      for (int64_t i = 0; i < n; i++) o[i] = op->fd(a[i], &p);
    } else {
      /* float16 / bfloat16 / float8: compute in float, round back */
      for (int64_t i = 0; i < n; i++) {
        float v = (float)er_load_f64(x->data, xt, (size_t)i);
        er_store_f64(y->data, yt, (size_t)i, (float)op->fd(v, &p));
      }
    }
  } else if (op->fi) {
    p.is_unsigned = (cls & (T_UINT | T_BOOL)) != 0;
    for (int64_t i = 0; i < n; i++)
      er_store_i64(y->data, yt, (size_t)i, op->fi(er_load_i64(x->data, xt, (size_t)i), &p));
  } else {
    /* integer input for an op defined through its float function (Shrink, Erf) */
    for (int64_t i = 0; i < n; i++)
      er_store_f64(y->data, yt, (size_t)i, op->fd(er_load_f64(x->data, xt, (size_t)i), &p));
  }
  return 0;
}

/* ---- Clip ---- */
/* X(ER_ENUM, storage type, compute type, load, store) */
#define CLIP_TYPES(X)                                                     \
  X(ER_F32, float, float, (float), (float))                              \
  X(ER_F64, double, double, (double), (double))                          \
  X(ER_F16, uint16_t, float, er_f16_to_f32, er_f32_to_f16)               \
  X(ER_BF16, uint16_t, float, er_bf16_to_f32, er_f32_to_bf16)            \
  X(ER_I8, int8_t, int8_t, (int8_t), (int8_t))                           \
  X(ER_I16, int16_t, int16_t, (int16_t), (int16_t))                      \
  X(ER_I32, int32_t, int32_t, (int32_t), (int32_t))                      \
  X(ER_I64, int64_t, int64_t, (int64_t), (int64_t))                      \
  X(ER_U8, uint8_t, uint8_t, (uint8_t), (uint8_t))                       \
  X(ER_U16, uint16_t, uint16_t, (uint16_t), (uint16_t))                  \
  X(ER_U32, uint32_t, uint32_t, (uint32_t), (uint32_t))                  \
  X(ER_U64, uint64_t, uint64_t, (uint64_t), (uint64_t))

/* lo/hi: pointers to one element of the storage type, or NULL (no bound).
 * y = min(max(x, lo), hi): when lo > hi every element becomes hi (numpy.clip). */
#define CLIP_FN(E, S, C, LD, ST)                                                       \
  static void clip_##E(void *o_, const void *x_, int64_t n, const void *lo_, const void *hi_) { \
    const S *x = (const S *)x_;                                                        \
    S *o = (S *)o_;                                                                    \
    int has_lo = lo_ != 0, has_hi = hi_ != 0;                                          \
    C lo = has_lo ? LD(*(const S *)lo_) : 0, hi = has_hi ? LD(*(const S *)hi_) : 0;   \
    for (int64_t i = 0; i < n; i++) {                                                  \
      C v = LD(x[i]);                                                                  \
      if (has_lo && v < lo) v = lo;                                                    \
      if (has_hi && v > hi) v = hi;                                                    \
      o[i] = ST(v);                                                                    \
    }                                                                                  \
  }
CLIP_TYPES(CLIP_FN)

typedef void (*clip_fn)(void *, const void *, int64_t, const void *, const void *);
static clip_fn clip_for(int dt) {
#define CLIP_CASE(E, S, C, LD, ST) case E: return clip_##E;
  switch (dt) {
    CLIP_TYPES(CLIP_CASE)
    default: return 0;
  }
#undef CLIP_CASE
}

er_status er_ew_clip_infer(er_kctx *c) {
  if (c->opset < 11) ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  else ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 3));
  const er_tensor *x = c->in[0];
  if (!clip_for(x->dtype) || (c->opset < 11 && !er_dtype_is_float(x->dtype)))
    return ER_ERR(ER_UNSUPPORTED, "input type %s is not supported", er_dtype_name((er_dtype)x->dtype));
  for (int i = 1; i < 3; i++) {
    const er_tensor *b = er_in(c, i);
    if (!b) continue;
    if (b->dtype != x->dtype)
      return ER_ERR(ER_INVALID_ARGUMENT, "%s has type %s, expected %s like the input",
                    i == 1 ? "min" : "max", er_dtype_name((er_dtype)b->dtype),
                    er_dtype_name((er_dtype)x->dtype));
    if (er_tensor_numel(b) != 1)
      return ER_ERR(ER_INVALID_ARGUMENT, "%s must be a scalar, got %lld elements",
                    i == 1 ? "min" : "max", (long long)er_tensor_numel(b));
  }
  if (!er_out(c, 0)) return ER_ERR(ER_INVALID_MODEL, "output 0 is missing");
  er_tensor_set_shape(c->out[0], x->dtype, x->rank, x->dims);
  return 0;
}

er_status er_ew_clip_run(er_kctx *c) {
  const er_tensor *x = c->in[0];
  er_tensor *y = c->out[0];
  clip_fn fn = clip_for(x->dtype);
  const void *lo = 0, *hi = 0;
  uint8_t lo_buf[8], hi_buf[8];
  if (c->opset < 11) {
    /* attributes, float types only; absent means unbounded */
    const er_attr *amin = er_attr_get(c, "min"), *amax = er_attr_get(c, "max");
    if (amin) { er_store_f64(lo_buf, x->dtype, 0, amin->f); lo = lo_buf; }
    if (amax) { er_store_f64(hi_buf, x->dtype, 0, amax->f); hi = hi_buf; }
  } else {
    if (er_in(c, 1)) lo = c->in[1]->data;
    if (er_in(c, 2)) hi = c->in[2]->data;
  }
  if (x->dtype == ER_F32 && er_ew_f32_clip_fast(c, lo, hi)) return 0;
  fn(y->data, x->data, er_tensor_numel(x), lo, hi);
  return 0;
}
