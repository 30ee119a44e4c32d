/* Unit tests for the elementwise family (src/kernels/ref/ops_elementwise.c and
 * elementwise_*.c). Expected values are hand-computed or taken from the ONNX node tests. */
#include <math.h>
#include <string.h>

#include "optest.h"
#include "test.h"

#define NE(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const int64_t D1_4[] = {4};
static const int64_t D2_3[] = {2, 3};

/* 1 if t is float32 with shape (rank, dims) and values within tol of e (NaN == NaN). */
static int f32_is(const er_tensor *t, int rank, const int64_t *dims, const float *e, double tol) {
  if (!t || t->dtype != ER_F32 || t->rank != rank) return 0;
  for (int i = 0; i < rank; i++)
    if (t->dims[i] != dims[i]) return 0;
  int64_t n = er_tensor_numel(t);
  const float *v = (const float *)t->data;
  for (int64_t i = 0; i < n; i++) {
    if (isnan(e[i]) || isnan(v[i])) {
      if (isnan(e[i]) != isnan(v[i])) return 0;
      continue;
    }
    if (isinf(e[i]) || isinf(v[i])) {
      if (e[i] != v[i]) return 0;
      continue;
    }
    if (fabs((double)v[i] - (double)e[i]) > tol * (1 + fabs((double)e[i]))) {
      fprintf(stderr, "    element %lld: got %.9g expected %.9g\n", (long long)i, v[i], e[i]);
      return 0;
    }
  }
  return 1;
}
/* 1 if t has dtype and the raw bytes equal e. */
static int bytes_are(const er_tensor *t, int dtype, int64_t n, const void *e) {
  return t && t->dtype == dtype && er_tensor_numel(t) == n &&
         memcmp(t->data, e, (size_t)n * er_dtype_size(dtype)) == 0;
}

/* Run a one-input float32 op on 4 values. */
static er_status un4(const char *op, int opset, const er_attr *at, int nat, const float *x,
                     er_tensor **y) {
  er_tensor *in[] = {ot_tensor(ER_F32, 1, D1_4, x)};
  return ot_run(op, opset, at, nat, in, 1, y, 1);
}

/* ---------------- unary ---------------- */

TEST(ew_unary_math_f32) {
  er_tensor *y[1];
  const float x[4] = {-1.5f, -0.5f, 0.25f, 2.0f};
  struct { const char *op; float e[4]; } cases[] = {
      {"Abs", {1.5f, 0.5f, 0.25f, 2.0f}},
      {"Neg", {1.5f, 0.5f, -0.25f, -2.0f}},
      {"Ceil", {-1, -0.0f, 1, 2}},
      {"Floor", {-2, -1, 0, 2}},
      {"Reciprocal", {-0.6666667f, -2, 4, 0.5f}},
      {"Sign", {-1, -1, 1, 1}},
      {"Exp", {0.22313016f, 0.60653066f, 1.2840254f, 7.3890561f}},
      {"Tanh", {-0.90514825f, -0.46211716f, 0.24491866f, 0.96402758f}},
      {"Erf", {-0.96610515f, -0.52049988f, 0.27632639f, 0.99532227f}},
      {"Atan", {-0.98279372f, -0.46364761f, 0.24497866f, 1.10714872f}},
      {"Sinh", {-2.12927946f, -0.52109531f, 0.25261232f, 3.62686041f}},
      {"Relu", {0, 0, 0.25f, 2}},
      {"Sigmoid", {0.18242552f, 0.37754067f, 0.56217650f, 0.88079708f}},
      {"Softsign", {-0.6f, -0.33333333f, 0.2f, 0.66666667f}},
      {"Softplus", {0.20141328f, 0.47407698f, 0.82593942f, 2.12692801f}},
      {"HardSwish", {-0.375f, -0.20833333f, 0.13541667f, 1.66666667f}},
      {"Mish", {-0.29809974f, -0.22074377f, 0.16957241f, 1.94395896f}},
      {"Gelu", {-0.1002108f, -0.15426877f, 0.14967658f, 1.95449974f}},
  };
  for (int i = 0; i < NE(cases); i++) {
    int op_set = strcmp(cases[i].op, "Gelu") == 0 ? 20 : 18;
    CHECK_OK(un4(cases[i].op, op_set, NULL, 0, x, y));
    if (!f32_is(y[0], 1, D1_4, cases[i].e, 1e-6)) {
      fprintf(stderr, "    op %s\n", cases[i].op);
      CHECK(0);
    }
  }
  ot_free_all();
}

TEST(ew_unary_domain_edges) {
  er_tensor *y[1];
  const float x[4] = {-1.0f, 0.0f, 1.0f, 4.0f};
  CHECK_OK(un4("Log", 13, NULL, 0, x, y));
  CHECK(f32_is(y[0], 1, D1_4, (float[]){NAN, -INFINITY, 0, 1.3862944f}, 1e-6));
  CHECK_OK(un4("Sqrt", 13, NULL, 0, x, y));
  CHECK(f32_is(y[0], 1, D1_4, (float[]){NAN, 0, 1, 2}, 1e-6));
  CHECK_OK(un4("Acosh", 9, NULL, 0, x, y));
  CHECK(f32_is(y[0], 1, D1_4, (float[]){NAN, NAN, 0, 2.0634370f}, 1e-6));
  CHECK_OK(un4("Atanh", 9, NULL, 0, (float[]){-1, 0, 0.5f, 2}, y));
  CHECK(f32_is(y[0], 1, D1_4, (float[]){-INFINITY, 0, 0.54930614f, NAN}, 1e-6));
  /* stable sigmoid / softplus at large magnitude */
  CHECK_OK(un4("Sigmoid", 13, NULL, 0, (float[]){-1000, -50, 50, 1000}, y));
  CHECK(f32_is(y[0], 1, D1_4, (float[]){0, 1.9287499e-22f, 1, 1}, 1e-6));
  CHECK_OK(un4("Softplus", 1, NULL, 0, (float[]){-1000, -50, 50, 1000}, y));
  CHECK(f32_is(y[0], 1, D1_4, (float[]){0, 1.9287499e-22f, 50, 1000}, 1e-6));
  /* Relu and Sign keep NaN */
  CHECK_OK(un4("Relu", 14, NULL, 0, (float[]){NAN, -0.0f, -3, 3}, y));
  CHECK(f32_is(y[0], 1, D1_4, (float[]){NAN, 0, 0, 3}, 0));
  CHECK_OK(un4("Sign", 13, NULL, 0, (float[]){NAN, 0, -INFINITY, 1e-30f}, y));
  CHECK(f32_is(y[0], 1, D1_4, (float[]){NAN, 0, -1, 1}, 0));
  ot_free_all();
}

TEST(ew_round_half_to_even) {
  er_tensor *y[1];
  CHECK_OK(un4("Round", 11, NULL, 0, (float[]){0.5f, 1.5f, -2.5f, 2.51f}, y));
  CHECK(f32_is(y[0], 1, D1_4, (float[]){0, 2, -2, 3}, 0));
  CHECK_OK(un4("Round", 22, NULL, 0, (float[]){-0.5f, -1.5f, 3.5f, -4.49f}, y));
  CHECK(f32_is(y[0], 1, D1_4, (float[]){-0.0f, -2, 4, -4}, 0));
  ot_free_all();
}

TEST(ew_activation_attributes) {
  er_tensor *y[1];
  const float x[4] = {-2.0f, -0.5f, 0.5f, 3.0f};
  CHECK_OK(un4("LeakyRelu", 16, NULL, 0, x, y)); /* default alpha 0.01 */
  CHECK(f32_is(y[0], 1, D1_4, (float[]){-0.02f, -0.005f, 0.5f, 3}, 1e-6));
  er_attr a1[] = {ot_float("alpha", 0.1f)};
  CHECK_OK(un4("LeakyRelu", 16, a1, 1, x, y));
  CHECK(f32_is(y[0], 1, D1_4, (float[]){-0.2f, -0.05f, 0.5f, 3}, 1e-6));
  er_attr a2[] = {ot_float("alpha", 2.0f)};
  CHECK_OK(un4("Elu", 6, a2, 1, x, y));
  CHECK(f32_is(y[0], 1, D1_4, (float[]){-1.72932943f, -0.78693868f, 0.5f, 3}, 1e-6));
  CHECK_OK(un4("Selu", 6, NULL, 0, x, y)); /* defaults alpha 1.6733, gamma 1.0507 */
  CHECK(f32_is(y[0], 1, D1_4, (float[]){-1.52016647f, -0.69175819f, 0.52535051f, 3.15210307f}, 1e-6));
  er_attr a3[] = {ot_float("alpha", 2.0f), ot_float("gamma", 3.0f)};
  CHECK_OK(un4("Selu", 22, a3, 2, x, y));
  CHECK(f32_is(y[0], 1, D1_4, (float[]){-5.1879883f, -2.36081604f, 1.5f, 9}, 1e-6));
  CHECK_OK(un4("Celu", 12, a2, 1, x, y)); /* max(0,x) + min(0, a*(exp(x/a)-1)) */
  CHECK(f32_is(y[0], 1, D1_4, (float[]){-1.26424112f, -0.44239843f, 0.5f, 3}, 1e-6));
  CHECK_OK(un4("HardSigmoid", 6, NULL, 0, x, y)); /* 0.2x + 0.5 clipped */
  CHECK(f32_is(y[0], 1, D1_4, (float[]){0.1f, 0.4f, 0.6f, 1}, 1e-6));
  er_attr a4[] = {ot_float("alpha", 0.5f), ot_float("beta", 0.6f)};
  CHECK_OK(un4("HardSigmoid", 22, a4, 2, x, y));
  CHECK(f32_is(y[0], 1, D1_4, (float[]){0, 0.35f, 0.85f, 1}, 1e-6));
  CHECK_OK(un4("ThresholdedRelu", 10, NULL, 0, (float[]){0.5f, 1.0f, 1.5f, -3}, y));
  CHECK(f32_is(y[0], 1, D1_4, (float[]){0, 0, 1.5f, 0}, 0));
  er_attr a5[] = {ot_float("lambd", 1.0f), ot_float("bias", 0.25f)};
  CHECK_OK(un4("Shrink", 9, a5, 2, (float[]){-2, -1, 0.5f, 1.5f}, y));
  CHECK(f32_is(y[0], 1, D1_4, (float[]){-1.75f, 0, 0, 1.25f}, 1e-6));
  er_attr a6[] = {ot_str("approximate", "tanh")};
  CHECK_OK(un4("Gelu", 20, a6, 1, x, y));
  CHECK(f32_is(y[0], 1, D1_4, (float[]){-0.04540231f, -0.15428599f, 0.34571401f, 2.99636261f}, 1e-6));
  ot_free_all();
}

TEST(ew_unary_errors) {
  er_tensor *y[1];
  const float x[4] = {0};
  er_attr bad[] = {ot_str("approximate", "erf")};
  CHECK_ERR(un4("Gelu", 20, bad, 1, x, y), ER_INVALID_ARGUMENT);
  er_attr zero[] = {ot_float("alpha", 0.0f)};
  CHECK_ERR(un4("Celu", 12, zero, 1, x, y), ER_INVALID_ARGUMENT);
  er_tensor *xi[] = {ot_tensor(ER_I32, 1, D1_4, NULL)};
  CHECK_ERR(ot_run("Sqrt", 13, NULL, 0, xi, 1, y, 1), ER_UNSUPPORTED);
  er_tensor *xb[] = {ot_tensor(ER_F32, 1, D1_4, NULL)};
  CHECK_ERR(ot_run("Not", 1, NULL, 0, xb, 1, y, 1), ER_UNSUPPORTED);
  CHECK_ERR(ot_run("Neg", 13, NULL, 0, (er_tensor *[]){ot_tensor(ER_U8, 1, D1_4, NULL)}, 1, y, 1),
            ER_UNSUPPORTED);
  CHECK_ERR(ot_run("Abs", 13, NULL, 0, (er_tensor *[]){NULL}, 1, y, 1), ER_INVALID_MODEL);
  ot_free_all();
}

TEST(ew_unary_integer_and_bool) {
  er_tensor *y[1];
  int8_t xi8[4] = {-128, -5, 0, 7};
  er_tensor *in[] = {ot_tensor(ER_I8, 1, D1_4, xi8)};
  CHECK_OK(ot_run("Abs", 13, NULL, 0, in, 1, y, 1));
  CHECK(bytes_are(y[0], ER_I8, 4, (int8_t[]){-128, 5, 0, 7})); /* wraps like numpy */
  CHECK_OK(ot_run("Neg", 13, NULL, 0, in, 1, y, 1));
  CHECK(bytes_are(y[0], ER_I8, 4, (int8_t[]){-128, 5, 0, -7}));
  CHECK_OK(ot_run("Sign", 13, NULL, 0, in, 1, y, 1));
  CHECK(bytes_are(y[0], ER_I8, 4, (int8_t[]){-1, -1, 0, 1}));
  CHECK_OK(ot_run("Relu", 14, NULL, 0, in, 1, y, 1));
  CHECK(bytes_are(y[0], ER_I8, 4, (int8_t[]){0, 0, 0, 7}));
  uint64_t xu[4] = {0, 1, 0x8000000000000000ull, UINT64_MAX};
  er_tensor *inu[] = {ot_tensor(ER_U64, 1, D1_4, xu)};
  CHECK_OK(ot_run("Sign", 13, NULL, 0, inu, 1, y, 1));
  CHECK(bytes_are(y[0], ER_U64, 4, (uint64_t[]){0, 1, 1, 1}));
  CHECK_OK(ot_run("Abs", 13, NULL, 0, inu, 1, y, 1));
  CHECK(bytes_are(y[0], ER_U64, 4, xu));
  CHECK_OK(ot_run("BitwiseNot", 18, NULL, 0, inu, 1, y, 1));
  CHECK(bytes_are(y[0], ER_U64, 4, (uint64_t[]){UINT64_MAX, UINT64_MAX - 1, 0x7fffffffffffffffull, 0}));
  int32_t x32[4] = {0, -1, 5, INT32_MIN};
  CHECK_OK(ot_run("BitwiseNot", 18, NULL, 0, (er_tensor *[]){ot_tensor(ER_I32, 1, D1_4, x32)}, 1, y, 1));
  CHECK(bytes_are(y[0], ER_I32, 4, (int32_t[]){-1, 0, -6, INT32_MAX}));
  uint8_t b[4] = {1, 0, 0, 1};
  CHECK_OK(ot_run("Not", 1, NULL, 0, (er_tensor *[]){ot_tensor(ER_BOOL, 1, D1_4, b)}, 1, y, 1));
  CHECK(bytes_are(y[0], ER_BOOL, 4, (uint8_t[]){0, 1, 1, 0}));
  ot_free_all();
}

TEST(ew_isinf_isnan) {
  er_tensor *y[1];
  const float x[4] = {-INFINITY, NAN, 1.0f, INFINITY};
  CHECK_OK(un4("IsInf", 10, NULL, 0, x, y));
  CHECK(bytes_are(y[0], ER_BOOL, 4, (uint8_t[]){1, 0, 0, 1}));
  er_attr pos[] = {ot_int("detect_negative", 0)};
  CHECK_OK(un4("IsInf", 20, pos, 1, x, y));
  CHECK(bytes_are(y[0], ER_BOOL, 4, (uint8_t[]){0, 0, 0, 1}));
  er_attr neg[] = {ot_int("detect_positive", 0)};
  CHECK_OK(un4("IsInf", 20, neg, 1, x, y));
  CHECK(bytes_are(y[0], ER_BOOL, 4, (uint8_t[]){1, 0, 0, 0}));
  CHECK_OK(un4("IsNaN", 13, NULL, 0, x, y));
  CHECK(bytes_are(y[0], ER_BOOL, 4, (uint8_t[]){0, 1, 0, 0}));
  /* float16: 0x7c00 = inf, 0x7e00 = NaN, 0xfc00 = -inf, 0x3c00 = 1 */
  uint16_t h[4] = {0x7c00, 0x7e00, 0xfc00, 0x3c00};
  er_tensor *in[] = {ot_tensor(ER_F16, 1, D1_4, h)};
  CHECK_OK(ot_run("IsInf", 20, NULL, 0, in, 1, y, 1));
  CHECK(bytes_are(y[0], ER_BOOL, 4, (uint8_t[]){1, 0, 1, 0}));
  CHECK_OK(ot_run("IsNaN", 20, NULL, 0, in, 1, y, 1));
  CHECK(bytes_are(y[0], ER_BOOL, 4, (uint8_t[]){0, 1, 0, 0}));
  /* float8e4m3fn: 0x7f is NaN */
  uint8_t f8[4] = {0x7f, 0x38, 0xff, 0x00};
  CHECK_OK(ot_run("IsNaN", 20, NULL, 0, (er_tensor *[]){ot_tensor(ER_F8E4M3FN, 1, D1_4, f8)}, 1, y, 1));
  CHECK(bytes_are(y[0], ER_BOOL, 4, (uint8_t[]){1, 0, 1, 0}));
  ot_free_all();
}

TEST(ew_unary_f16_bf16_f64) {
  er_tensor *y[1];
  /* float16 exp(1) = 2.71875 (0x4170), exp(0) = 1 (0x3c00), exp(-inf) = 0 */
  uint16_t h[4] = {0x3c00, 0x0000, 0xfc00, 0x4000};
  CHECK_OK(ot_run("Exp", 13, NULL, 0, (er_tensor *[]){ot_tensor(ER_F16, 1, D1_4, h)}, 1, y, 1));
  CHECK(bytes_are(y[0], ER_F16, 4, (uint16_t[]){0x4170, 0x3c00, 0x0000, 0x4764})); /* e^2 = 7.39 */
  /* bfloat16 sqrt(4) = 2 (0x4000), sqrt(2) = 1.4140625 (0x3fb5) */
  uint16_t b[4] = {0x4080, 0x4000, 0x0000, 0x3f80};
  CHECK_OK(ot_run("Sqrt", 13, NULL, 0, (er_tensor *[]){ot_tensor(ER_BF16, 1, D1_4, b)}, 1, y, 1));
  CHECK(bytes_are(y[0], ER_BF16, 4, (uint16_t[]){0x4000, 0x3fb5, 0x0000, 0x3f80}));
  double d[4] = {0.1, -0.2, 1e-300, 700};
  CHECK_OK(ot_run("Exp", 13, NULL, 0, (er_tensor *[]){ot_tensor(ER_F64, 1, D1_4, d)}, 1, y, 1));
  const double *o = (const double *)y[0]->data;
  CHECK(y[0]->dtype == ER_F64);
  CHECK_NEAR(o[0], exp(0.1), 1e-15);
  CHECK_NEAR(o[1], exp(-0.2), 1e-15);
  CHECK_NEAR(o[2], 1.0, 0);
  CHECK_NEAR(o[3] / 1.0142320547350045e304, 1.0, 1e-14);
  ot_free_all();
}

/* ---------------- Clip ---------------- */

TEST(ew_clip_opsets) {
  er_tensor *y[1];
  const float x[4] = {-2, -0.25f, 0.75f, NAN};
  er_attr at[] = {ot_float("min", -0.5f), ot_float("max", 0.5f)};
  CHECK_OK(un4("Clip", 6, at, 2, x, y));
  CHECK(f32_is(y[0], 1, D1_4, (float[]){-0.5f, -0.25f, 0.5f, NAN}, 0));
  er_attr only_max[] = {ot_float("max", 0.0f)};
  CHECK_OK(un4("Clip", 6, only_max, 1, x, y));
  CHECK(f32_is(y[0], 1, D1_4, (float[]){-2, -0.25f, 0, NAN}, 0));
  /* opset 11+: optional inputs; absent min */
  er_tensor *in[] = {ot_tensor(ER_F32, 1, D1_4, x), NULL, ot_tensor(ER_F32, 0, NULL, (float[]){0.5f})};
  CHECK_OK(ot_run("Clip", 13, NULL, 0, in, 3, y, 1));
  CHECK(f32_is(y[0], 1, D1_4, (float[]){-2, -0.25f, 0.5f, NAN}, 0));
  CHECK_OK(ot_run("Clip", 11, NULL, 0, in, 1, y, 1)); /* no bounds: copy */
  CHECK(f32_is(y[0], 1, D1_4, x, 0));
  /* min > max: everything becomes max */
  er_tensor *in2[] = {ot_tensor(ER_F32, 1, D1_4, x), ot_tensor(ER_F32, 0, NULL, (float[]){1}),
                      ot_tensor(ER_F32, 0, NULL, (float[]){0})};
  CHECK_OK(ot_run("Clip", 13, NULL, 0, in2, 3, y, 1));
  CHECK(f32_is(y[0], 1, D1_4, (float[]){0, 0, 0, NAN}, 0));
  ot_free_all();
}

TEST(ew_clip_int_and_errors) {
  er_tensor *y[1];
  int8_t x[4] = {-128, -3, 4, 127};
  er_tensor *in[] = {ot_tensor(ER_I8, 1, D1_4, x), ot_tensor(ER_I8, 0, NULL, (int8_t[]){-2})};
  CHECK_OK(ot_run("Clip", 12, NULL, 0, in, 2, y, 1));
  CHECK(bytes_are(y[0], ER_I8, 4, (int8_t[]){-2, -2, 4, 127}));
  uint64_t xu[4] = {0, 5, 1ull << 63, UINT64_MAX};
  er_tensor *inu[] = {ot_tensor(ER_U64, 1, D1_4, xu), ot_tensor(ER_U64, 1, (int64_t[]){1}, (uint64_t[]){1}),
                      ot_tensor(ER_U64, 0, NULL, (uint64_t[]){(1ull << 63) + 1})};
  CHECK_OK(ot_run("Clip", 13, NULL, 0, inu, 3, y, 1));
  CHECK(bytes_are(y[0], ER_U64, 4, (uint64_t[]){1, 5, 1ull << 63, (1ull << 63) + 1}));
  uint16_t h[2] = {0xc000, 0x4200}; /* -2, 3 in float16 */
  er_tensor *inh[] = {ot_tensor(ER_F16, 1, (int64_t[]){2}, h), ot_tensor(ER_F16, 0, NULL, (uint16_t[]){0xbc00}),
                      ot_tensor(ER_F16, 0, NULL, (uint16_t[]){0x4000})};
  CHECK_OK(ot_run("Clip", 13, NULL, 0, inh, 3, y, 1));
  CHECK(bytes_are(y[0], ER_F16, 2, (uint16_t[]){0xbc00, 0x4000}));
  /* errors: bound type differs, bound not scalar, integers before opset 12 */
  er_tensor *bad1[] = {ot_tensor(ER_I8, 1, D1_4, x), ot_tensor(ER_F32, 0, NULL, (float[]){0})};
  CHECK_ERR(ot_run("Clip", 13, NULL, 0, bad1, 2, y, 1), ER_INVALID_ARGUMENT);
  er_tensor *bad2[] = {ot_tensor(ER_I8, 1, D1_4, x), ot_tensor(ER_I8, 1, (int64_t[]){2}, NULL)};
  CHECK_ERR(ot_run("Clip", 13, NULL, 0, bad2, 2, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("Clip", 6, NULL, 0, in, 1, y, 1), ER_UNSUPPORTED);
  CHECK_ERR(ot_run("Clip", 6, NULL, 0, bad2, 2, y, 1), ER_INVALID_MODEL);
  ot_free_all();
}

/* ---------------- binary ---------------- */

static er_status bin(const char *op, int opset, const er_attr *at, int nat, er_tensor *a,
                     er_tensor *b, er_tensor **y) {
  er_tensor *in[] = {a, b};
  return ot_run(op, opset, at, nat, in, 2, y, 1);
}

TEST(ew_binary_broadcast_shapes) {
  er_tensor *y[1];
  float a[6] = {1, 2, 3, 4, 5, 6};
  /* [2,3] + [3] */
  CHECK_OK(bin("Add", 14, NULL, 0, ot_tensor(ER_F32, 2, D2_3, a),
               ot_tensor(ER_F32, 1, (int64_t[]){3}, (float[]){10, 20, 30}), y));
  CHECK(f32_is(y[0], 2, D2_3, (float[]){11, 22, 33, 14, 25, 36}, 0));
  /* [2,1] - [3] -> [2,3] */
  CHECK_OK(bin("Sub", 14, NULL, 0, ot_tensor(ER_F32, 2, (int64_t[]){2, 1}, (float[]){1, 2}),
               ot_tensor(ER_F32, 1, (int64_t[]){3}, (float[]){10, 20, 30}), y));
  CHECK(f32_is(y[0], 2, D2_3, (float[]){-9, -19, -29, -8, -18, -28}, 0));
  /* scalar * [2,3] */
  CHECK_OK(bin("Mul", 14, NULL, 0, ot_tensor(ER_F32, 0, NULL, (float[]){2}), ot_tensor(ER_F32, 2, D2_3, a), y));
  CHECK(f32_is(y[0], 2, D2_3, (float[]){2, 4, 6, 8, 10, 12}, 0));
  /* [2,1,3] / [4,1] -> [2,4,3] (both operands broadcast, size-1 inner dims) */
  float b[4] = {1, 2, 4, 8};
  CHECK_OK(bin("Div", 14, NULL, 0, ot_tensor(ER_F32, 3, (int64_t[]){2, 1, 3}, a),
               ot_tensor(ER_F32, 2, (int64_t[]){4, 1}, b), y));
  {
    float e[24];
    for (int i = 0; i < 2; i++)
      for (int j = 0; j < 4; j++)
        for (int k = 0; k < 3; k++) e[(i * 4 + j) * 3 + k] = a[i * 3 + k] / b[j];
    CHECK(f32_is(y[0], 3, (int64_t[]){2, 4, 3}, e, 0));
  }
  /* [3,1] + [3,1] with output [3,1] and [1,3,1] + [2,1,1]: inner broadcast on both */
  CHECK_OK(bin("Add", 14, NULL, 0, ot_tensor(ER_F32, 3, (int64_t[]){1, 3, 1}, (float[]){1, 2, 3}),
               ot_tensor(ER_F32, 3, (int64_t[]){2, 1, 1}, (float[]){10, 20}), y));
  CHECK(f32_is(y[0], 3, (int64_t[]){2, 3, 1}, (float[]){11, 12, 13, 21, 22, 23}, 0));
  /* empty tensor */
  CHECK_OK(bin("Add", 14, NULL, 0, ot_tensor(ER_F32, 2, (int64_t[]){0, 3}, NULL),
               ot_tensor(ER_F32, 1, (int64_t[]){3}, a), y));
  CHECK(y[0]->rank == 2 && y[0]->dims[0] == 0 && y[0]->dims[1] == 3);
  /* incompatible shapes and mismatched types */
  CHECK_ERR(bin("Add", 14, NULL, 0, ot_tensor(ER_F32, 2, D2_3, a), ot_tensor(ER_F32, 1, (int64_t[]){2}, a), y),
            ER_INVALID_ARGUMENT);
  CHECK_ERR(bin("Add", 14, NULL, 0, ot_tensor(ER_F32, 2, D2_3, a), ot_tensor(ER_F64, 2, D2_3, NULL), y),
            ER_INVALID_ARGUMENT);
  CHECK_ERR(bin("Add", 14, NULL, 0, ot_tensor(ER_BOOL, 1, D1_4, NULL), ot_tensor(ER_BOOL, 1, D1_4, NULL), y),
            ER_UNSUPPORTED);
  ot_free_all();
}

TEST(ew_binary_rank5_strided) {
  /* [2,3,1,2,2] * [3,2,1] : compare against a direct index computation */
  er_tensor *y[1];
  float a[24], b[6], e[72];
  for (int i = 0; i < 24; i++) a[i] = (float)(i + 1);
  for (int i = 0; i < 6; i++) b[i] = (float)(i - 2);
  int64_t da[] = {2, 3, 1, 2, 2}, db[] = {3, 2, 1}, dy[] = {2, 3, 3, 2, 2};
  for (int i0 = 0; i0 < 2; i0++)
    for (int i1 = 0; i1 < 3; i1++)
      for (int i2 = 0; i2 < 3; i2++)
        for (int i3 = 0; i3 < 2; i3++)
          for (int i4 = 0; i4 < 2; i4++)
            e[(((i0 * 3 + i1) * 3 + i2) * 2 + i3) * 2 + i4] =
                a[((i0 * 3 + i1) * 2 + i3) * 2 + i4] * b[i2 * 2 + i3];
  CHECK_OK(bin("Mul", 14, NULL, 0, ot_tensor(ER_F32, 5, da, a), ot_tensor(ER_F32, 3, db, b), y));
  CHECK(f32_is(y[0], 5, dy, e, 0));
  ot_free_all();
}

TEST(ew_binary_legacy_broadcast) {
  er_tensor *y[1];
  float a[6] = {1, 2, 3, 4, 5, 6};
  /* opset 6, broadcast=1, axis=0: B [2] aligned with A's first axis */
  er_attr at[] = {ot_int("broadcast", 1), ot_int("axis", 0)};
  CHECK_OK(bin("Add", 6, at, 2, ot_tensor(ER_F32, 2, D2_3, a), ot_tensor(ER_F32, 1, (int64_t[]){2}, (float[]){10, 20}), y));
  CHECK(f32_is(y[0], 2, D2_3, (float[]){11, 12, 13, 24, 25, 26}, 0));
  /* broadcast=1 without axis: suffix alignment */
  er_attr at2[] = {ot_int("broadcast", 1)};
  CHECK_OK(bin("Mul", 6, at2, 1, ot_tensor(ER_F32, 2, D2_3, a), ot_tensor(ER_F32, 0, NULL, (float[]){2}), y));
  CHECK(f32_is(y[0], 2, D2_3, (float[]){2, 4, 6, 8, 10, 12}, 0));
  /* without broadcast, shapes must match */
  CHECK_ERR(bin("Add", 6, NULL, 0, ot_tensor(ER_F32, 2, D2_3, a), ot_tensor(ER_F32, 1, (int64_t[]){3}, a), y),
            ER_INVALID_ARGUMENT);
  er_attr bad[] = {ot_int("broadcast", 1), ot_int("axis", 2)};
  CHECK_ERR(bin("Add", 6, bad, 2, ot_tensor(ER_F32, 2, D2_3, a), ot_tensor(ER_F32, 1, (int64_t[]){3}, a), y),
            ER_INVALID_ARGUMENT);
  ot_free_all();
}

TEST(ew_integer_arithmetic) {
  er_tensor *y[1];
  int32_t a[4] = {7, -7, 7, INT32_MIN}, b[4] = {2, 2, 0, -1};
  CHECK_OK(bin("Div", 14, NULL, 0, ot_tensor(ER_I32, 1, D1_4, a), ot_tensor(ER_I32, 1, D1_4, b), y));
  CHECK(bytes_are(y[0], ER_I32, 4, (int32_t[]){3, -3, 0, INT32_MIN})); /* truncation, x/0 -> 0 */
  uint8_t ua[4] = {200, 3, 255, 10}, ub[4] = {100, 5, 2, 3};
  CHECK_OK(bin("Add", 14, NULL, 0, ot_tensor(ER_U8, 1, D1_4, ua), ot_tensor(ER_U8, 1, D1_4, ub), y));
  CHECK(bytes_are(y[0], ER_U8, 4, (uint8_t[]){44, 8, 1, 13}));
  CHECK_OK(bin("Sub", 14, NULL, 0, ot_tensor(ER_U8, 1, D1_4, ua), ot_tensor(ER_U8, 1, D1_4, ub), y));
  CHECK(bytes_are(y[0], ER_U8, 4, (uint8_t[]){100, 254, 253, 7}));
  CHECK_OK(bin("Mul", 14, NULL, 0, ot_tensor(ER_U8, 1, D1_4, ua), ot_tensor(ER_U8, 1, D1_4, ub), y));
  CHECK(bytes_are(y[0], ER_U8, 4, (uint8_t[]){32, 15, 254, 30}));
  CHECK_OK(bin("Div", 14, NULL, 0, ot_tensor(ER_U8, 1, D1_4, ua), ot_tensor(ER_U8, 1, D1_4, ub), y));
  CHECK(bytes_are(y[0], ER_U8, 4, (uint8_t[]){2, 0, 127, 3}));
  int64_t big[2] = {INT64_MAX, INT64_MIN}, one[2] = {1, -1};
  CHECK_OK(bin("Add", 14, NULL, 0, ot_tensor(ER_I64, 1, (int64_t[]){2}, big), ot_tensor(ER_I64, 1, (int64_t[]){2}, one), y));
  CHECK(bytes_are(y[0], ER_I64, 2, (int64_t[]){INT64_MIN, INT64_MAX})); /* wraps */
  ot_free_all();
}

TEST(ew_mod) {
  er_tensor *y[1];
  /* test_mod_mixed_sign_int32: fmod=0 follows the divisor's sign */
  int32_t a[6] = {-4, 7, 5, 4, -7, 8}, b[6] = {2, -3, 8, -2, 3, 5};
  er_tensor *ta = ot_tensor(ER_I32, 1, (int64_t[]){6}, a), *tb = ot_tensor(ER_I32, 1, (int64_t[]){6}, b);
  CHECK_OK(bin("Mod", 13, NULL, 0, ta, tb, y));
  CHECK(bytes_are(y[0], ER_I32, 6, (int32_t[]){0, -2, 5, 0, 2, 3}));
  er_attr fm[] = {ot_int("fmod", 1)};
  CHECK_OK(bin("Mod", 13, fm, 1, ta, tb, y));
  CHECK(bytes_are(y[0], ER_I32, 6, (int32_t[]){0, 1, 5, 0, -1, 3}));
  /* test_mod_mixed_sign_float32 (fmod=1) */
  float fa[6] = {-4.3f, 7.2f, 5.0f, 4.3f, -7.2f, 8.0f}, fb[6] = {2.1f, -3.4f, 8.0f, -2.1f, 3.4f, 5.0f};
  CHECK_OK(bin("Mod", 13, fm, 1, ot_tensor(ER_F32, 1, (int64_t[]){6}, fa), ot_tensor(ER_F32, 1, (int64_t[]){6}, fb), y));
  CHECK(f32_is(y[0], 1, (int64_t[]){6}, (float[]){-0.1f, 0.4f, 5.f, 0.1f, -0.4f, 3.f}, 1e-5));
  /* integer division by zero and INT_MIN % -1 do not trap */
  int8_t ia[4] = {5, -128, -5, 0}, ib[4] = {0, -1, 3, 7};
  CHECK_OK(bin("Mod", 13, NULL, 0, ot_tensor(ER_I8, 1, D1_4, ia), ot_tensor(ER_I8, 1, D1_4, ib), y));
  CHECK(bytes_are(y[0], ER_I8, 4, (int8_t[]){0, 0, 1, 0}));
  uint16_t ua[2] = {65535, 9}, ub[2] = {10, 0};
  CHECK_OK(bin("Mod", 13, NULL, 0, ot_tensor(ER_U16, 1, (int64_t[]){2}, ua), ot_tensor(ER_U16, 1, (int64_t[]){2}, ub), y));
  CHECK(bytes_are(y[0], ER_U16, 2, (uint16_t[]){5, 0}));
  er_attr bad[] = {ot_int("fmod", 2)};
  CHECK_ERR(bin("Mod", 13, bad, 1, ta, tb, y), ER_INVALID_ARGUMENT);
  ot_free_all();
}

TEST(ew_pow_types) {
  er_tensor *y[1];
  int64_t d3[] = {3};
  float fx[3] = {1, 2, 3};
  /* float base, int64 exponent (test_pow_types_float32_int64) */
  CHECK_OK(bin("Pow", 15, NULL, 0, ot_tensor(ER_F32, 1, d3, fx), ot_tensor(ER_I64, 1, d3, (int64_t[]){4, 5, 6}), y));
  CHECK(f32_is(y[0], 1, d3, (float[]){1, 32, 729}, 0));
  CHECK_OK(bin("Pow", 15, NULL, 0, ot_tensor(ER_F32, 1, d3, fx), ot_tensor(ER_U32, 1, d3, (uint32_t[]){4, 5, 6}), y));
  CHECK(f32_is(y[0], 1, d3, (float[]){1, 32, 729}, 0));
  /* int base, float exponent -> int output (test_pow_types_int32_float32) */
  CHECK_OK(bin("Pow", 15, NULL, 0, ot_tensor(ER_I32, 1, d3, (int32_t[]){1, 2, 3}), ot_tensor(ER_F32, 1, d3, (float[]){4, 5, 6}), y));
  CHECK(bytes_are(y[0], ER_I32, 3, (int32_t[]){1, 32, 729}));
  CHECK_OK(bin("Pow", 15, NULL, 0, ot_tensor(ER_I64, 1, d3, (int64_t[]){-2, 3, 2}), ot_tensor(ER_I64, 1, d3, (int64_t[]){3, 0, -1}), y));
  CHECK(bytes_are(y[0], ER_I64, 3, (int64_t[]){-8, 1, 0}));
  CHECK_OK(bin("Pow", 12, NULL, 0, ot_tensor(ER_I64, 1, d3, (int64_t[]){-1, 7, 2}), ot_tensor(ER_I32, 1, d3, (int32_t[]){-3, 2, 40}), y));
  CHECK(bytes_are(y[0], ER_I64, 3, (int64_t[]){-1, 49, 1099511627776LL}));
  /* float/float with broadcast, fractional exponent of a negative base is NaN */
  CHECK_OK(bin("Pow", 15, NULL, 0, ot_tensor(ER_F32, 1, d3, (float[]){-8, 4, 9}), ot_tensor(ER_F32, 0, NULL, (float[]){0.5f}), y));
  CHECK(f32_is(y[0], 1, d3, (float[]){NAN, 2, 3}, 1e-7));
  CHECK_ERR(bin("Pow", 15, NULL, 0, ot_tensor(ER_F32, 1, d3, fx), ot_tensor(ER_BOOL, 1, d3, NULL), y), ER_UNSUPPORTED);
  ot_free_all();
}

TEST(ew_bitshift_bitwise) {
  er_tensor *y[1];
  uint8_t x[4] = {16, 4, 1, 255}, s[4] = {1, 2, 3, 9};
  er_attr l[] = {ot_str("direction", "LEFT")}, r[] = {ot_str("direction", "RIGHT")};
  CHECK_OK(bin("BitShift", 11, l, 1, ot_tensor(ER_U8, 1, D1_4, x), ot_tensor(ER_U8, 1, D1_4, s), y));
  CHECK(bytes_are(y[0], ER_U8, 4, (uint8_t[]){32, 16, 8, 0}));
  CHECK_OK(bin("BitShift", 11, r, 1, ot_tensor(ER_U8, 1, D1_4, x), ot_tensor(ER_U8, 1, D1_4, s), y));
  CHECK(bytes_are(y[0], ER_U8, 4, (uint8_t[]){8, 1, 0, 0}));
  uint64_t x64[2] = {1, 0x8000000000000000ull}, s64[1] = {63};
  CHECK_OK(bin("BitShift", 11, r, 1, ot_tensor(ER_U64, 1, (int64_t[]){2}, x64), ot_tensor(ER_U64, 1, (int64_t[]){1}, s64), y));
  CHECK(bytes_are(y[0], ER_U64, 2, (uint64_t[]){0, 1}));
  er_attr bad[] = {ot_str("direction", "UP")};
  CHECK_ERR(bin("BitShift", 11, bad, 1, ot_tensor(ER_U8, 1, D1_4, x), ot_tensor(ER_U8, 1, D1_4, s), y), ER_INVALID_ARGUMENT);
  CHECK_ERR(bin("BitShift", 11, l, 1, ot_tensor(ER_I8, 1, D1_4, x), ot_tensor(ER_I8, 1, D1_4, s), y), ER_UNSUPPORTED);
  int16_t a[4] = {-1, 0x0f0f, 6, -32768}, b[4] = {0x00ff, 0x00ff, 3, -1};
  er_tensor *ta = ot_tensor(ER_I16, 1, D1_4, a), *tb = ot_tensor(ER_I16, 1, D1_4, b);
  CHECK_OK(bin("BitwiseAnd", 18, NULL, 0, ta, tb, y));
  CHECK(bytes_are(y[0], ER_I16, 4, (int16_t[]){0x00ff, 0x000f, 2, -32768}));
  CHECK_OK(bin("BitwiseOr", 18, NULL, 0, ta, tb, y));
  CHECK(bytes_are(y[0], ER_I16, 4, (int16_t[]){-1, 0x0fff, 7, -1}));
  CHECK_OK(bin("BitwiseXor", 18, NULL, 0, ta, tb, y));
  CHECK(bytes_are(y[0], ER_I16, 4, (int16_t[]){(int16_t)0xff00, 0x0ff0, 5, 32767}));
  CHECK_ERR(bin("BitwiseAnd", 18, NULL, 0, ot_tensor(ER_F32, 1, D1_4, NULL), ot_tensor(ER_F32, 1, D1_4, NULL), y),
            ER_UNSUPPORTED);
  ot_free_all();
}

TEST(ew_logical_compare) {
  er_tensor *y[1];
  uint8_t a[4] = {0, 0, 1, 1}, b[4] = {0, 1, 0, 1};
  er_tensor *ta = ot_tensor(ER_BOOL, 1, D1_4, a), *tb = ot_tensor(ER_BOOL, 1, D1_4, b);
  CHECK_OK(bin("And", 7, NULL, 0, ta, tb, y));
  CHECK(bytes_are(y[0], ER_BOOL, 4, (uint8_t[]){0, 0, 0, 1}));
  CHECK_OK(bin("Or", 7, NULL, 0, ta, tb, y));
  CHECK(bytes_are(y[0], ER_BOOL, 4, (uint8_t[]){0, 1, 1, 1}));
  CHECK_OK(bin("Xor", 7, NULL, 0, ta, tb, y));
  CHECK(bytes_are(y[0], ER_BOOL, 4, (uint8_t[]){0, 1, 1, 0}));
  CHECK_OK(bin("Equal", 19, NULL, 0, ta, tb, y));
  CHECK(bytes_are(y[0], ER_BOOL, 4, (uint8_t[]){1, 0, 0, 1}));
  CHECK_ERR(bin("And", 7, NULL, 0, ot_tensor(ER_I32, 1, D1_4, NULL), ot_tensor(ER_I32, 1, D1_4, NULL), y), ER_UNSUPPORTED);
  /* [2,3] vs [3] */
  float x[6] = {1, 2, 3, NAN, 5, -1}, z[3] = {2, 2, NAN};
  er_tensor *tx = ot_tensor(ER_F32, 2, D2_3, x), *tz = ot_tensor(ER_F32, 1, (int64_t[]){3}, z);
  CHECK_OK(bin("Greater", 13, NULL, 0, tx, tz, y));
  CHECK(bytes_are(y[0], ER_BOOL, 6, (uint8_t[]){0, 0, 0, 0, 1, 0}));
  CHECK_OK(bin("GreaterOrEqual", 16, NULL, 0, tx, tz, y));
  CHECK(bytes_are(y[0], ER_BOOL, 6, (uint8_t[]){0, 1, 0, 0, 1, 0}));
  CHECK_OK(bin("Less", 13, NULL, 0, tx, tz, y));
  CHECK(bytes_are(y[0], ER_BOOL, 6, (uint8_t[]){1, 0, 0, 0, 0, 0}));
  CHECK_OK(bin("LessOrEqual", 16, NULL, 0, tx, tz, y));
  CHECK(bytes_are(y[0], ER_BOOL, 6, (uint8_t[]){1, 1, 0, 0, 0, 0}));
  CHECK_OK(bin("Equal", 13, NULL, 0, tx, tz, y));
  CHECK(bytes_are(y[0], ER_BOOL, 6, (uint8_t[]){0, 1, 0, 0, 0, 0}));
  uint64_t u1[2] = {UINT64_MAX, 1}, u2[2] = {1, UINT64_MAX};
  CHECK_OK(bin("Greater", 13, NULL, 0, ot_tensor(ER_U64, 1, (int64_t[]){2}, u1), ot_tensor(ER_U64, 1, (int64_t[]){2}, u2), y));
  CHECK(bytes_are(y[0], ER_BOOL, 2, (uint8_t[]){1, 0}));
  /* float16 compare through float */
  uint16_t h1[2] = {0x3c00, 0xc000}, h2[2] = {0x3c01, 0xc000};
  CHECK_OK(bin("Less", 13, NULL, 0, ot_tensor(ER_F16, 1, (int64_t[]){2}, h1), ot_tensor(ER_F16, 1, (int64_t[]){2}, h2), y));
  CHECK(bytes_are(y[0], ER_BOOL, 2, (uint8_t[]){1, 0}));
  /* strings are not supported */
  CHECK_ERR(bin("Equal", 19, NULL, 0, ot_tensor(ER_STRING, 1, D1_4, NULL), ot_tensor(ER_STRING, 1, D1_4, NULL), y),
            ER_UNSUPPORTED);
  ot_free_all();
}

TEST(ew_prelu) {
  er_tensor *y[1];
  float x[6] = {-1, 2, -3, 4, -5, 6};
  /* opset 16 numpy broadcast: slope [3] over [2,3] */
  CHECK_OK(bin("PRelu", 16, NULL, 0, ot_tensor(ER_F32, 2, D2_3, x), ot_tensor(ER_F32, 1, (int64_t[]){3}, (float[]){0.1f, 0.2f, 0.3f}), y));
  CHECK(f32_is(y[0], 2, D2_3, (float[]){-0.1f, 2, -0.9f, 4, -1.0f, 6}, 1e-6));
  /* opset 6: slope [C] applies along axis 1 of [N,C,L] */
  int64_t d3[] = {1, 2, 3};
  CHECK_OK(bin("PRelu", 6, NULL, 0, ot_tensor(ER_F32, 3, d3, x), ot_tensor(ER_F32, 1, (int64_t[]){2}, (float[]){0.5f, 2}), y));
  CHECK(f32_is(y[0], 3, d3, (float[]){-0.5f, 2, -1.5f, 4, -10, 6}, 1e-6));
  /* int32 */
  CHECK_OK(bin("PRelu", 16, NULL, 0, ot_tensor(ER_I32, 1, D1_4, (int32_t[]){-3, 3, -1, 0}), ot_tensor(ER_I32, 0, NULL, (int32_t[]){2}), y));
  CHECK(bytes_are(y[0], ER_I32, 4, (int32_t[]){-6, 3, -2, 0}));
  /* slope must not grow the output */
  CHECK_ERR(bin("PRelu", 16, NULL, 0, ot_tensor(ER_F32, 1, (int64_t[]){3}, x), ot_tensor(ER_F32, 2, D2_3, x), y),
            ER_INVALID_ARGUMENT);
  ot_free_all();
}

/* ---------------- variadic ---------------- */

TEST(ew_variadic) {
  er_tensor *y[1];
  float a[6] = {1, 2, 3, 4, 5, 6}, b[3] = {10, 20, 30}, c[1] = {100};
  er_tensor *in[] = {ot_tensor(ER_F32, 2, D2_3, a), ot_tensor(ER_F32, 1, (int64_t[]){3}, b),
                     ot_tensor(ER_F32, 0, NULL, c)};
  CHECK_OK(ot_run("Sum", 13, NULL, 0, in, 3, y, 1));
  CHECK(f32_is(y[0], 2, D2_3, (float[]){111, 122, 133, 114, 125, 136}, 0));
  CHECK_OK(ot_run("Mean", 13, NULL, 0, in, 3, y, 1));
  CHECK(f32_is(y[0], 2, D2_3, (float[]){37, 122.f / 3, 133.f / 3, 38, 125.f / 3, 136.f / 3}, 1e-6));
  /* smaller first input still broadcasts to the full shape */
  er_tensor *rev[] = {in[2], in[1], in[0]};
  CHECK_OK(ot_run("Max", 13, NULL, 0, rev, 3, y, 1));
  CHECK(f32_is(y[0], 2, D2_3, (float[]){100, 100, 100, 100, 100, 100}, 0));
  CHECK_OK(ot_run("Min", 13, NULL, 0, rev, 3, y, 1));
  CHECK(f32_is(y[0], 2, D2_3, a, 0));
  CHECK_OK(ot_run("Sum", 6, NULL, 0, in, 1, y, 1)); /* one input: copy */
  CHECK(f32_is(y[0], 2, D2_3, a, 0));
  CHECK_OK(ot_run("Mean", 13, NULL, 0, in, 1, y, 1));
  CHECK(f32_is(y[0], 2, D2_3, a, 0));
  /* NaN propagates through Max/Min */
  er_tensor *nn[] = {ot_tensor(ER_F32, 1, (int64_t[]){2}, (float[]){NAN, 1}), ot_tensor(ER_F32, 1, (int64_t[]){2}, (float[]){0, NAN})};
  CHECK_OK(ot_run("Max", 13, NULL, 0, nn, 2, y, 1));
  CHECK(f32_is(y[0], 1, (int64_t[]){2}, (float[]){NAN, NAN}, 0));
  /* integer Max/Min, unsigned 64-bit */
  er_tensor *u[] = {ot_tensor(ER_U64, 1, (int64_t[]){2}, (uint64_t[]){UINT64_MAX, 3}), ot_tensor(ER_U64, 1, (int64_t[]){2}, (uint64_t[]){1, 4})};
  CHECK_OK(ot_run("Max", 13, NULL, 0, u, 2, y, 1));
  CHECK(bytes_are(y[0], ER_U64, 2, (uint64_t[]){UINT64_MAX, 4}));
  CHECK_OK(ot_run("Min", 13, NULL, 0, u, 2, y, 1));
  CHECK(bytes_are(y[0], ER_U64, 2, (uint64_t[]){1, 3}));
  /* float16 Mean */
  er_tensor *h[] = {ot_tensor(ER_F16, 1, (int64_t[]){1}, (uint16_t[]){0x3c00}), ot_tensor(ER_F16, 1, (int64_t[]){1}, (uint16_t[]){0x4000})};
  CHECK_OK(ot_run("Mean", 13, NULL, 0, h, 2, y, 1));
  CHECK(bytes_are(y[0], ER_F16, 1, (uint16_t[]){0x3e00})); /* 1.5 */
  /* errors */
  er_tensor *mixed[] = {in[0], ot_tensor(ER_F64, 1, (int64_t[]){3}, NULL)};
  CHECK_ERR(ot_run("Sum", 13, NULL, 0, mixed, 2, y, 1), ER_INVALID_ARGUMENT);
  er_tensor *badshape[] = {in[0], ot_tensor(ER_F32, 1, (int64_t[]){4}, NULL)};
  CHECK_ERR(ot_run("Max", 13, NULL, 0, badshape, 2, y, 1), ER_INVALID_ARGUMENT);
  er_tensor *ints[] = {ot_tensor(ER_I32, 1, (int64_t[]){3}, NULL)};
  CHECK_ERR(ot_run("Mean", 13, NULL, 0, ints, 1, y, 1), ER_UNSUPPORTED);
  ot_free_all();
}

/* ---------------- Where ---------------- */

TEST(ew_where) {
  er_tensor *y[1];
  /* cond [2,1], X [3], Y scalar -> [2,3] */
  er_tensor *in[] = {ot_tensor(ER_BOOL, 2, (int64_t[]){2, 1}, (uint8_t[]){1, 0}),
                     ot_tensor(ER_I64, 1, (int64_t[]){3}, (int64_t[]){1, 2, 3}),
                     ot_tensor(ER_I64, 0, NULL, (int64_t[]){-9})};
  CHECK_OK(ot_run("Where", 16, NULL, 0, in, 3, y, 1));
  CHECK(y[0]->rank == 2 && y[0]->dims[0] == 2 && y[0]->dims[1] == 3);
  CHECK(bytes_are(y[0], ER_I64, 6, (int64_t[]){1, 2, 3, -9, -9, -9}));
  /* test_where_example */
  er_tensor *in2[] = {ot_tensor(ER_BOOL, 2, (int64_t[]){2, 2}, (uint8_t[]){1, 0, 1, 1}),
                      ot_tensor(ER_F32, 2, (int64_t[]){2, 2}, (float[]){1, 2, 3, 4}),
                      ot_tensor(ER_F32, 2, (int64_t[]){2, 2}, (float[]){9, 8, 7, 6})};
  CHECK_OK(ot_run("Where", 9, NULL, 0, in2, 3, y, 1));
  CHECK(f32_is(y[0], 2, (int64_t[]){2, 2}, (float[]){1, 8, 3, 4}, 0));
  er_tensor *bad[] = {in2[1], in2[1], in2[2]};
  CHECK_ERR(ot_run("Where", 16, NULL, 0, bad, 3, y, 1), ER_INVALID_ARGUMENT);
  er_tensor *bad2[] = {in2[0], in2[1], in[2]};
  CHECK_ERR(ot_run("Where", 16, NULL, 0, bad2, 3, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

/* ---------------- Cast / CastLike / Identity / Dropout ---------------- */

static er_status cast_to(int to, int dtype, int64_t n, const void *x, er_tensor **y, int saturate) {
  er_attr at[] = {ot_int("to", to), ot_int("saturate", saturate)};
  er_tensor *in[] = {ot_tensor(dtype, 1, &n, x)};
  return ot_run("Cast", 21, at, saturate < 0 ? 1 : 2, in, 1, y, 1);
}

TEST(ew_cast_numeric) {
  er_tensor *y[1];
  float f[4] = {-2.7f, 3.9f, 0.0f, 127.5f};
  CHECK_OK(cast_to(ER_I32, ER_F32, 4, f, y, -1));
  CHECK(bytes_are(y[0], ER_I32, 4, (int32_t[]){-2, 3, 0, 127})); /* truncation */
  CHECK_OK(cast_to(ER_BOOL, ER_F32, 4, (float[]){0, -0.0f, NAN, 0.1f}, y, -1));
  CHECK(bytes_are(y[0], ER_BOOL, 4, (uint8_t[]){0, 0, 1, 1}));
  CHECK_OK(cast_to(ER_F64, ER_BOOL, 4, (uint8_t[]){1, 0, 1, 1}, y, -1));
  CHECK(bytes_are(y[0], ER_F64, 4, (double[]){1, 0, 1, 1}));
  CHECK_OK(cast_to(ER_I8, ER_I64, 4, (int64_t[]){300, -129, 5, -1}, y, -1));
  CHECK(bytes_are(y[0], ER_I8, 4, (int8_t[]){44, 127, 5, -1})); /* wraps */
  CHECK_OK(cast_to(ER_U64, ER_I32, 4, (int32_t[]){-1, 0, 7, INT32_MAX}, y, -1));
  CHECK(bytes_are(y[0], ER_U64, 4, (uint64_t[]){UINT64_MAX, 0, 7, INT32_MAX}));
  CHECK_OK(cast_to(ER_F32, ER_I64, 2, (int64_t[]){(1LL << 53) + 1, -3}, y, -1));
  CHECK(bytes_are(y[0], ER_F32, 2, (float[]){9007199254740992.0f, -3}));
  /* same type: copy */
  CHECK_OK(cast_to(ER_F32, ER_F32, 4, f, y, -1));
  CHECK(bytes_are(y[0], ER_F32, 4, f));
  ot_free_all();
}

TEST(ew_cast_half_types) {
  er_tensor *y[1];
  CHECK_OK(cast_to(ER_F16, ER_F32, 4, (float[]){1.0f, 65504.0f, 1e6f, 5.9604645e-08f}, y, -1));
  CHECK(bytes_are(y[0], ER_F16, 4, (uint16_t[]){0x3c00, 0x7bff, 0x7c00, 0x0001}));
  /* float64 -> float16 rounds once: 1 + 2^-11 + 2^-40 rounds up to 1 + 2^-10 */
  double d = 1.0 + ldexp(1.0, -11) + ldexp(1.0, -40);
  CHECK_OK(cast_to(ER_F16, ER_F64, 1, &d, y, -1));
  CHECK(bytes_are(y[0], ER_F16, 1, (uint16_t[]){0x3c01}));
  CHECK_OK(cast_to(ER_F64, ER_F16, 2, (uint16_t[]){0x3555, 0xfc00}, y, -1));
  CHECK(bytes_are(y[0], ER_F64, 2, (double[]){0.333251953125, -INFINITY}));
  /* float -> bfloat16 truncates (ONNX reference): 1.005859375 -> 1.0 */
  CHECK_OK(cast_to(ER_BF16, ER_F32, 3, (float[]){1.005859375f, -2.0f, INFINITY}, y, -1));
  CHECK(bytes_are(y[0], ER_BF16, 3, (uint16_t[]){0x3f80, 0xc000, 0x7f80}));
  CHECK_OK(cast_to(ER_F32, ER_BF16, 2, (uint16_t[]){0x3ef5, 0xff80}, y, -1));
  CHECK(bytes_are(y[0], ER_F32, 2, (float[]){0.478515625f, -INFINITY}));
  ot_free_all();
}

TEST(ew_cast_float8_and_int4) {
  er_tensor *y[1];
  float big[3] = {1000.0f, -1000.0f, 0.5f};
  CHECK_OK(cast_to(ER_F8E4M3FN, ER_F32, 3, big, y, 1));
  CHECK(bytes_are(y[0], ER_F8E4M3FN, 3, (uint8_t[]){0x7e, 0xfe, 0x30})); /* +-448 */
  CHECK_OK(cast_to(ER_F8E4M3FN, ER_F32, 3, big, y, 0));
  CHECK(bytes_are(y[0], ER_F8E4M3FN, 3, (uint8_t[]){0x7f, 0xff, 0x30})); /* NaN */
  CHECK_OK(cast_to(ER_F8E5M2, ER_F32, 3, (float[]){1e6f, -1e6f, 1.0f}, y, 1));
  CHECK(bytes_are(y[0], ER_F8E5M2, 3, (uint8_t[]){0x7b, 0xfb, 0x3c})); /* +-57344 */
  CHECK_OK(cast_to(ER_F8E5M2, ER_F32, 3, (float[]){1e6f, -1e6f, 1.0f}, y, 0));
  CHECK(bytes_are(y[0], ER_F8E5M2, 3, (uint8_t[]){0x7c, 0xfc, 0x3c})); /* +-inf */
  CHECK_OK(cast_to(ER_F32, ER_F8E4M3FNUZ, 3, (uint8_t[]){0x80, 0x40, 0x00}, y, -1));
  CHECK(f32_is(y[0], 1, (int64_t[]){3}, (float[]){NAN, 1.0f, 0}, 0));
  CHECK_ERR(cast_to(ER_F8E5M2, ER_F32, 3, big, y, 3), ER_INVALID_ARGUMENT);
  /* int4 / uint4: clamp then round half to even, one value per byte */
  float q[6] = {-9, -8.5f, 2.5f, 3.5f, 7.5f, 100};
  CHECK_OK(cast_to(ER_I4, ER_F32, 6, q, y, -1));
  CHECK(bytes_are(y[0], ER_I4, 6, (int8_t[]){-8, -8, 2, 4, 7, 7}));
  CHECK_OK(cast_to(ER_U4, ER_F32, 6, q, y, -1));
  CHECK(bytes_are(y[0], ER_U4, 6, (uint8_t[]){0, 0, 2, 4, 8, 15}));
  CHECK_OK(cast_to(ER_F32, ER_I4, 3, (int8_t[]){-8, 7, -1}, y, -1));
  CHECK(f32_is(y[0], 1, (int64_t[]){3}, (float[]){-8, 7, -1}, 0));
  CHECK_OK(cast_to(ER_U8, ER_U4, 2, (uint8_t[]){15, 3}, y, -1));
  CHECK(bytes_are(y[0], ER_U8, 2, (uint8_t[]){15, 3}));
  ot_free_all();
}

TEST(ew_cast_errors_and_castlike) {
  er_tensor *y[1];
  float f[2] = {1.5f, -2.5f};
  CHECK_ERR(cast_to(ER_STRING, ER_F32, 2, f, y, -1), ER_UNSUPPORTED);
  CHECK_ERR(cast_to(99, ER_F32, 2, f, y, -1), ER_INVALID_ARGUMENT);
  er_tensor *s[] = {ot_tensor(ER_STRING, 1, (int64_t[]){2}, NULL)};
  er_attr to[] = {ot_int("to", ER_F32)};
  CHECK_ERR(ot_run("Cast", 13, to, 1, s, 1, y, 1), ER_UNSUPPORTED);
  CHECK_ERR(ot_run("Cast", 13, NULL, 0, (er_tensor *[]){ot_tensor(ER_F32, 1, (int64_t[]){2}, f)}, 1, y, 1),
            ER_INVALID_MODEL);
  /* CastLike takes the target type from the second input */
  er_tensor *in[] = {ot_tensor(ER_F32, 1, (int64_t[]){2}, f), ot_tensor(ER_F16, 1, (int64_t[]){1}, NULL)};
  CHECK_OK(ot_run("CastLike", 15, NULL, 0, in, 2, y, 1));
  CHECK(bytes_are(y[0], ER_F16, 2, (uint16_t[]){0x3e00, 0xc100}));
  er_tensor *in2[] = {ot_tensor(ER_F32, 1, (int64_t[]){2}, f), ot_tensor(ER_I16, 0, NULL, NULL)};
  CHECK_OK(ot_run("CastLike", 21, NULL, 0, in2, 2, y, 1));
  CHECK(bytes_are(y[0], ER_I16, 2, (int16_t[]){1, -2}));
  ot_free_all();
}

TEST(ew_identity_dropout) {
  er_tensor *y[2];
  float x[6] = {1, -2, 3, -4, 5, -6};
  er_tensor *in[] = {ot_tensor(ER_F32, 2, D2_3, x), NULL, NULL};
  CHECK_OK(ot_run("Identity", 16, NULL, 0, in, 1, y, 1));
  CHECK(f32_is(y[0], 2, D2_3, x, 0));
  er_tensor *ii[] = {ot_tensor(ER_I64, 1, (int64_t[]){2}, (int64_t[]){-1, 1LL << 40})};
  CHECK_OK(ot_run("Identity", 21, NULL, 0, ii, 1, y, 1));
  CHECK(bytes_are(y[0], ER_I64, 2, (int64_t[]){-1, 1LL << 40}));
  /* Dropout inference: output = input, mask all true (bool from opset 10) */
  CHECK_OK(ot_run("Dropout", 13, NULL, 0, in, 1, y, 2));
  CHECK(f32_is(y[0], 2, D2_3, x, 0));
  CHECK(bytes_are(y[1], ER_BOOL, 6, (uint8_t[]){1, 1, 1, 1, 1, 1}));
  er_attr r[] = {ot_float("ratio", 0.2f)};
  CHECK_OK(ot_run("Dropout", 7, r, 1, in, 1, y, 2)); /* opset 7: mask has the input type */
  CHECK(f32_is(y[1], 2, D2_3, (float[]){1, 1, 1, 1, 1, 1}, 0));
  CHECK_OK(ot_run("Dropout", 11, r, 1, in, 1, y, 1));
  CHECK(f32_is(y[0], 2, D2_3, x, 0));
  /* opset 12+: ratio and training_mode inputs */
  er_tensor *ratio = ot_tensor(ER_F32, 0, NULL, (float[]){0.75f});
  er_tensor *off = ot_tensor(ER_BOOL, 0, NULL, (uint8_t[]){0});
  er_tensor *on = ot_tensor(ER_BOOL, 0, NULL, (uint8_t[]){1});
  er_tensor *zero = ot_tensor(ER_F32, 0, NULL, (float[]){0});
  CHECK_OK(ot_run("Dropout", 12, NULL, 0, (er_tensor *[]){in[0], ratio, off}, 3, y, 2));
  CHECK(f32_is(y[0], 2, D2_3, x, 0));
  CHECK(bytes_are(y[1], ER_BOOL, 6, (uint8_t[]){1, 1, 1, 1, 1, 1}));
  CHECK_ERR(ot_run("Dropout", 13, NULL, 0, (er_tensor *[]){in[0], ratio, on}, 3, y, 2), ER_UNSUPPORTED);
  CHECK_ERR(ot_run("Dropout", 22, NULL, 0, (er_tensor *[]){in[0], NULL, on}, 3, y, 1), ER_UNSUPPORTED);
  /* training with ratio 0 is the identity (test_training_dropout_zero_ratio) */
  CHECK_OK(ot_run("Dropout", 13, NULL, 0, (er_tensor *[]){in[0], zero, on}, 3, y, 2));
  CHECK(f32_is(y[0], 2, D2_3, x, 0));
  CHECK(bytes_are(y[1], ER_BOOL, 6, (uint8_t[]){1, 1, 1, 1, 1, 1}));
  CHECK_ERR(ot_run("Dropout", 13, NULL, 0, (er_tensor *[]){in[0], ot_tensor(ER_F32, 1, (int64_t[]){2}, NULL)}, 2, y, 1),
            ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("Dropout", 13, NULL, 0, (er_tensor *[]){ot_tensor(ER_I32, 1, (int64_t[]){2}, NULL)}, 1, y, 1),
            ER_UNSUPPORTED);
  ot_free_all();
}

TEST(ew_registry_covers_ops) {
  static const char *ops[] = {
      "Abs", "Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "Ceil", "Cos", "Cosh", "Erf", "Exp",
      "Floor", "Log", "Neg", "Reciprocal", "Round", "Sign", "Sin", "Sinh", "Sqrt", "Tan", "Tanh",
      "IsInf", "IsNaN", "Not", "BitwiseNot", "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu",
      "Sigmoid", "HardSigmoid", "HardSwish", "Softplus", "Softsign", "ThresholdedRelu", "Shrink",
      "Mish", "Gelu", "Clip", "Add", "Sub", "Mul", "Div", "Pow", "Mod", "BitShift", "BitwiseAnd",
      "BitwiseOr", "BitwiseXor", "And", "Or", "Xor", "Equal", "Greater", "GreaterOrEqual", "Less",
      "LessOrEqual", "Sum", "Mean", "Max", "Min", "Where", "Identity", "Dropout", "Cast", "CastLike"};
  for (int i = 0; i < NE(ops); i++) {
    if (!er_op_find("", ops[i], 22)) {
      fprintf(stderr, "    %s missing\n", ops[i]);
      CHECK(0);
    }
  }
  CHECK(er_op_find("", "Gelu", 19) == NULL); /* Gelu starts at opset 20 */
}
