/* Unit tests for the linear algebra family (src/kernels/ref/linalg_*.c). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels/ref/gemm.h"
#include "optest.h"
#include "test.h"

#define T(dt, rank, dims, ...) ot_tensor(dt, rank, (int64_t[])dims, __VA_ARGS__)
#define D(...) {__VA_ARGS__}
#define F32(...) ((float[]){__VA_ARGS__})
#define F64(...) ((double[]){__VA_ARGS__})
#define I64(...) ((int64_t[]){__VA_ARGS__})
#define IN(...) ((er_tensor *[]){__VA_ARGS__})

static const float *fp(const er_tensor *t) { return (const float *)t->data; }
static const double *dp(const er_tensor *t) { return (const double *)t->data; }
static const int64_t *ip(const er_tensor *t) { return (const int64_t *)t->data; }
static int shape_is(const er_tensor *t, int rank, const int64_t *dims) {
  if (t->rank != rank) return 0;
  for (int i = 0; i < rank; i++)
    if (t->dims[i] != dims[i]) return 0;
  return 1;
}
#define SHAPE(t, rank, ...) shape_is(t, rank, (int64_t[]){0, __VA_ARGS__} + 1)
#define CHECK_F32(t, ...)                                                               \
  do {                                                                                  \
    const float e_[] = {__VA_ARGS__};                                                   \
    CHECK_NEAR(ot_max_abs_diff_f32(t, e_, (int64_t)(sizeof e_ / sizeof e_[0])), 0, 1e-5); \
  } while (0)

/* ---- er_f32_gemm_ref against a double-precision naive product --------------------------- */
static uint32_t rng = 12345;
static float frand(void) {
  rng = rng * 1664525u + 1013904223u;
  return (float)((rng >> 8) & 0xffff) / 65536.0f - 0.5f;
}

TEST(linalg_gemm_ref_odd_shapes) {
  static float A[80 * 310], B[80 * 310], C[80 * 80], R[80 * 80];
  const int64_t shapes[][3] = {{1, 1, 1}, {1, 37, 300}, {5, 3, 2}, {17, 33, 257}, {4, 16, 8},
                               {70, 19, 300}, {3, 70, 0}, {2, 2, 513 / 3}};
  for (unsigned s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
    for (int ta = 0; ta < 2; ta++)
      for (int tb = 0; tb < 2; tb++)
        for (int bz = 0; bz < 2; bz++) {
          int64_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
          int64_t lda = (ta ? M : K) + 1, ldb = (tb ? K : N) + 2, ldc = N + 3; /* padded */
          for (int i = 0; i < 80 * 310; i++) A[i] = frand(), B[i] = frand();
          for (int i = 0; i < 80 * 80; i++) C[i] = bz ? NAN : frand();
          float alpha = 0.75f, beta = bz ? 0.0f : -1.25f;
          for (int64_t m = 0; m < M; m++)
            for (int64_t n = 0; n < N; n++) {
              double acc = 0;
              for (int64_t k = 0; k < K; k++)
                acc += (double)(ta ? A[k * lda + m] : A[m * lda + k]) *
                       (tb ? B[n * ldb + k] : B[k * ldb + n]);
              R[m * N + n] = (float)(alpha * acc + (bz ? 0.0 : beta * C[m * ldc + n]));
            }
          er_f32_gemm_ref(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
          double md = 0;
          for (int64_t m = 0; m < M; m++)
            for (int64_t n = 0; n < N; n++) {
              double d = fabs(C[m * ldc + n] - R[m * N + n]);
              if (!(d <= md)) md = d; /* NaN propagates */
            }
          CHECK(md < 1e-4);
          if (!(md < 1e-4))
            fprintf(stderr, "  shape %lld %lld %lld ta=%d tb=%d bz=%d diff %g\n", (long long)M,
                    (long long)N, (long long)K, ta, tb, bz, md);
          /* padding columns of C untouched */
          if (M > 0 && N > 0 && !bz) CHECK(!isnan(C[N]));
        }
}

/* ---- Gemm --------------------------------------------------------------------------------- */
TEST(linalg_gemm_attributes_and_bias) {
  /* A^T is 2x3, B^T is 3x2 */
  er_tensor *a = T(ER_F32, 2, D(3, 2), F32(1, 4, 2, 5, 3, 6));       /* A = [[1,4],[2,5],[3,6]] */
  er_tensor *b = T(ER_F32, 2, D(2, 3), F32(1, 0, 2, 0, 1, 1));       /* B = [[1,0,2],[0,1,1]] */
  er_tensor *c = T(ER_F32, 2, D(1, 2), F32(10, 20));
  er_attr at[] = {ot_int("transA", 1), ot_int("transB", 1), ot_float("alpha", 2.0f),
                  ot_float("beta", 0.5f)};
  er_tensor *y[1];
  CHECK_OK(ot_run("Gemm", 13, at, 4, IN(a, b, c), 3, y, 1));
  /* A^T B^T = [[1,2,3],[4,5,6]] [[1,0],[0,1],[2,1]] = [[7,5],[16,11]] */
  CHECK(SHAPE(y[0], 2, 2, 2));
  CHECK_F32(y[0], 2 * 7 + 5, 2 * 5 + 10, 2 * 16 + 5, 2 * 11 + 10);

  /* scalar bias, no attributes; then no bias at all */
  er_tensor *a2 = T(ER_F32, 2, D(2, 2), F32(1, 2, 3, 4));
  er_tensor *b2 = T(ER_F32, 2, D(2, 1), F32(1, -1));
  CHECK_OK(ot_run("Gemm", 13, 0, 0, IN(a2, b2, T(ER_F32, 0, D(0), F32(0.5f))), 3, y, 1));
  CHECK_F32(y[0], -0.5f, -0.5f);
  CHECK_OK(ot_run("Gemm", 11, 0, 0, IN(a2, b2), 2, y, 1));
  CHECK_F32(y[0], -1, -1);
  /* column bias [M,1] */
  CHECK_OK(ot_run("Gemm", 7, 0, 0, IN(a2, b2, T(ER_F32, 2, D(2, 1), F32(1, 2))), 3, y, 1));
  CHECK_F32(y[0], 0, 1);
  ot_free_all();
}

TEST(linalg_gemm_types) {
  er_tensor *y[1];
  /* double */
  CHECK_OK(ot_run("Gemm", 13, (er_attr[]){ot_float("alpha", 0.5f)}, 1,
                  IN(T(ER_F64, 2, D(1, 2), F64(1, 2)), T(ER_F64, 2, D(2, 2), F64(3, 4, 5, 6)),
                     T(ER_F64, 1, D(2), F64(1, 1))), 3, y, 1));
  CHECK(y[0]->dtype == ER_F64);
  CHECK_NEAR(dp(y[0])[0], 0.5 * 13 + 1, 1e-12);
  CHECK_NEAR(dp(y[0])[1], 0.5 * 16 + 1, 1e-12);
  /* int32, exact */
  CHECK_OK(ot_run("Gemm", 13, 0, 0,
                  IN(T(ER_I32, 2, D(1, 2), (int32_t[]){100000, 3}),
                     T(ER_I32, 2, D(2, 1), (int32_t[]){20000, -7}),
                     T(ER_I32, 1, D(1), (int32_t[]){5})), 3, y, 1));
  CHECK(((int32_t *)y[0]->data)[0] == (int32_t)(2000000000 - 21 + 5));
  /* float16 */
  uint16_t ha[4], hb[2];
  float fa[4] = {1, 2, 3, 4}, fb[2] = {0.5f, 0.25f};
  for (int i = 0; i < 4; i++) ha[i] = er_f32_to_f16(fa[i]);
  for (int i = 0; i < 2; i++) hb[i] = er_f32_to_f16(fb[i]);
  CHECK_OK(ot_run("Gemm", 13, 0, 0, IN(T(ER_F16, 2, D(2, 2), ha), T(ER_F16, 2, D(2, 1), hb)), 2, y, 1));
  CHECK(y[0]->dtype == ER_F16);
  CHECK_NEAR(er_f16_to_f32(((uint16_t *)y[0]->data)[0]), 1.0, 1e-3);
  CHECK_NEAR(er_f16_to_f32(((uint16_t *)y[0]->data)[1]), 2.5, 1e-3);
  ot_free_all();
}

TEST(linalg_gemm_errors) {
  er_tensor *y[1];
  er_tensor *a = T(ER_F32, 2, D(2, 3), 0), *b = T(ER_F32, 2, D(2, 3), 0);
  CHECK_ERR(ot_run("Gemm", 13, 0, 0, IN(a, b), 2, y, 1), ER_INVALID_ARGUMENT);
  er_tensor *bt = T(ER_F32, 2, D(3, 4), 0);
  CHECK_ERR(ot_run("Gemm", 13, 0, 0, IN(a, bt, T(ER_F32, 1, D(3), 0)), 3, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("Gemm", 13, 0, 0, IN(a, T(ER_F64, 2, D(3, 4), 0)), 2, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("Gemm", 13, 0, 0, IN(T(ER_F32, 1, D(3), 0), bt), 2, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("Gemm", 13, 0, 0, IN(T(ER_BOOL, 2, D(2, 3), 0), T(ER_BOOL, 2, D(3, 4), 0)), 2, y, 1),
            ER_INVALID_ARGUMENT);
  ot_free_all();
}

/* ---- MatMul ------------------------------------------------------------------------------ */
TEST(linalg_matmul_shapes) {
  er_tensor *y[1];
  er_tensor *v = T(ER_F32, 1, D(3), F32(1, 2, 3));
  CHECK_OK(ot_run("MatMul", 13, 0, 0, IN(v, v), 2, y, 1));
  CHECK(y[0]->rank == 0);
  CHECK_F32(y[0], 14);
  /* [3] x [2,3,2] -> [2,2] */
  er_tensor *b = T(ER_F32, 3, D(2, 3, 2), F32(1, 0, 0, 1, 1, 1, 2, 0, 0, 2, 1, 1));
  CHECK_OK(ot_run("MatMul", 13, 0, 0, IN(v, b), 2, y, 1));
  CHECK(SHAPE(y[0], 2, 2, 2));
  CHECK_F32(y[0], 4, 5, 5, 7);
  /* [2,3,2] x [2] -> [2,3] */
  CHECK_OK(ot_run("MatMul", 13, 0, 0, IN(b, T(ER_F32, 1, D(2), F32(1, -1))), 2, y, 1));
  CHECK(SHAPE(y[0], 2, 2, 3));
  CHECK_F32(y[0], 1, -1, 0, 2, -2, 0);
  /* broadcast batch: [2,1,1,2] x [3,2,1] -> [2,3,1,1] */
  er_tensor *a = T(ER_F32, 4, D(2, 1, 1, 2), F32(1, 2, 3, 4));
  er_tensor *c = T(ER_F32, 3, D(3, 2, 1), F32(1, 0, 0, 1, 1, 1));
  CHECK_OK(ot_run("MatMul", 13, 0, 0, IN(a, c), 2, y, 1));
  CHECK(SHAPE(y[0], 4, 2, 3, 1, 1));
  CHECK_F32(y[0], 1, 2, 3, 3, 4, 7);
  /* shared B with batched A (one tall product) */
  CHECK_OK(ot_run("MatMul", 1, 0, 0, IN(b, T(ER_F32, 2, D(2, 1), F32(2, 1))), 2, y, 1));
  CHECK(SHAPE(y[0], 3, 2, 3, 1));
  CHECK_F32(y[0], 2, 1, 3, 4, 2, 3);
  /* zero-size K */
  CHECK_OK(ot_run("MatMul", 13, 0, 0, IN(T(ER_F32, 2, D(2, 0), 0), T(ER_F32, 2, D(0, 2), 0)), 2, y, 1));
  CHECK_F32(y[0], 0, 0, 0, 0);
  ot_free_all();
}

TEST(linalg_matmul_types_and_errors) {
  er_tensor *y[1];
  CHECK_OK(ot_run("MatMul", 13, 0, 0,
                  IN(T(ER_I64, 2, D(1, 2), I64(3000000000LL, 1)), T(ER_I64, 2, D(2, 1), I64(3, 5))),
                  2, y, 1));
  CHECK(ip(y[0])[0] == 9000000005LL);
  CHECK_OK(ot_run("MatMul", 13, 0, 0,
                  IN(T(ER_U32, 2, D(1, 2), (uint32_t[]){7, 1}), T(ER_U32, 2, D(2, 1), (uint32_t[]){3, 5})),
                  2, y, 1));
  CHECK(((uint32_t *)y[0]->data)[0] == 26);
  uint16_t h[2] = {er_f32_to_bf16(1.5f), er_f32_to_bf16(2.0f)};
  CHECK_OK(ot_run("MatMul", 13, 0, 0, IN(T(ER_BF16, 2, D(1, 2), h), T(ER_BF16, 2, D(2, 1), h)), 2, y, 1));
  CHECK_NEAR(er_bf16_to_f32(((uint16_t *)y[0]->data)[0]), 6.25, 1e-2);
  CHECK_ERR(ot_run("MatMul", 13, 0, 0, IN(T(ER_F32, 2, D(2, 3), 0), T(ER_F32, 2, D(2, 3), 0)), 2, y, 1),
            ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("MatMul", 13, 0, 0,
                   IN(T(ER_F32, 3, D(2, 2, 3), 0), T(ER_F32, 3, D(3, 3, 2), 0)), 2, y, 1),
            ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("MatMul", 13, 0, 0, IN(T(ER_F32, 0, D(0), 0), T(ER_F32, 1, D(1), 0)), 2, y, 1),
            ER_INVALID_ARGUMENT);
  ot_free_all();
}

/* ---- Einsum ------------------------------------------------------------------------------ */
static er_status einsum(const char *eq, er_tensor **in, int n, er_tensor **y) {
  er_attr at[] = {ot_str("equation", eq)};
  return ot_run("Einsum", 12, at, 1, in, n, y, 1);
}

TEST(linalg_einsum_cases) {
  er_tensor *y[1];
  er_tensor *m = T(ER_F64, 2, D(2, 3), F64(1, 2, 3, 4, 5, 6));
  CHECK_OK(einsum("ij->ji", IN(m), 1, y));
  CHECK(SHAPE(y[0], 2, 3, 2));
  CHECK(dp(y[0])[1] == 4 && dp(y[0])[4] == 3);
  CHECK_OK(einsum("ij", IN(m), 1, y)); /* implicit: identity */
  CHECK(SHAPE(y[0], 2, 2, 3) && dp(y[0])[5] == 6);
  CHECK_OK(einsum("ji", IN(m), 1, y)); /* implicit output sorts labels: transpose */
  CHECK(SHAPE(y[0], 2, 3, 2) && dp(y[0])[1] == 4);
  CHECK_OK(einsum("ij->", IN(m), 1, y));
  CHECK(y[0]->rank == 0 && dp(y[0])[0] == 21);
  CHECK_OK(einsum(" i j -> j ", IN(m), 1, y));
  CHECK(SHAPE(y[0], 1, 3) && dp(y[0])[0] == 5 && dp(y[0])[2] == 9);
  /* matmul, implicit output */
  er_tensor *k = T(ER_F64, 2, D(3, 2), F64(1, 0, 0, 1, 1, 1));
  CHECK_OK(einsum("ij,jk", IN(m, k), 2, y));
  CHECK(SHAPE(y[0], 2, 2, 2));
  CHECK(dp(y[0])[0] == 4 && dp(y[0])[1] == 5 && dp(y[0])[2] == 10 && dp(y[0])[3] == 11);
  /* trace and diagonal */
  er_tensor *sq = T(ER_F64, 2, D(2, 2), F64(1, 2, 3, 4));
  CHECK_OK(einsum("ii", IN(sq), 1, y));
  CHECK(y[0]->rank == 0 && dp(y[0])[0] == 5);
  CHECK_OK(einsum("ii->i", IN(sq), 1, y));
  CHECK(SHAPE(y[0], 1, 2) && dp(y[0])[0] == 1 && dp(y[0])[1] == 4);
  /* batched diagonal with ellipsis */
  er_tensor *bd = T(ER_F64, 3, D(2, 2, 2), F64(1, 2, 3, 4, 5, 6, 7, 8));
  CHECK_OK(einsum("...ii ->...i", IN(bd), 1, y));
  CHECK(SHAPE(y[0], 2, 2, 2));
  CHECK(dp(y[0])[0] == 1 && dp(y[0])[1] == 4 && dp(y[0])[2] == 5 && dp(y[0])[3] == 8);
  /* ellipsis broadcasting across operands: [2,1,3] and [4,3] -> [2,4] via ...j,...j->... */
  er_tensor *e1 = T(ER_F32, 3, D(2, 1, 3), F32(1, 1, 1, 1, 2, 3));
  er_tensor *e2 = T(ER_F32, 2, D(4, 3), F32(1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1));
  CHECK_OK(einsum("...j,...j->...", IN(e1, e2), 2, y));
  CHECK(SHAPE(y[0], 2, 2, 4));
  CHECK_F32(y[0], 1, 1, 1, 3, 1, 2, 3, 6);
  /* outer product of three operands, int */
  er_tensor *a = T(ER_I32, 1, D(2), (int32_t[]){1, 2}), *b = T(ER_I32, 1, D(2), (int32_t[]){3, 4});
  CHECK_OK(einsum("i,j,i->j", IN(a, b, a), 3, y));
  CHECK(SHAPE(y[0], 1, 2) && ((int32_t *)y[0]->data)[0] == 15 && ((int32_t *)y[0]->data)[1] == 20);
  ot_free_all();
}

TEST(linalg_einsum_errors) {
  er_tensor *y[1];
  er_tensor *m = T(ER_F32, 2, D(2, 3), 0);
  CHECK_ERR(einsum("ijk->i", IN(m), 1, y), ER_INVALID_ARGUMENT);  /* too many labels */
  CHECK_ERR(einsum("ij->k", IN(m), 1, y), ER_INVALID_ARGUMENT);   /* unknown output label */
  CHECK_ERR(einsum("ij->ii", IN(m), 1, y), ER_INVALID_ARGUMENT);  /* repeated output label */
  CHECK_ERR(einsum("ij,jk->ik", IN(m), 1, y), ER_INVALID_ARGUMENT);
  CHECK_ERR(einsum("i1->i", IN(m), 1, y), ER_INVALID_ARGUMENT);
  CHECK_ERR(einsum("ii->i", IN(m), 1, y), ER_INVALID_ARGUMENT);   /* 2 != 3 */
  CHECK_ERR(einsum("i..j->i", IN(m), 1, y), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("Einsum", 12, 0, 0, IN(m), 1, y, 1), ER_INVALID_MODEL);
  ot_free_all();
}

/* ---- Det ---------------------------------------------------------------------------------- */
TEST(linalg_det) {
  er_tensor *y[1];
  CHECK_OK(ot_run("Det", 11, 0, 0, IN(T(ER_F32, 2, D(2, 2), F32(1, 2, 3, 4))), 1, y, 1));
  CHECK(y[0]->rank == 0);
  CHECK_F32(y[0], -2);
  CHECK_OK(ot_run("Det", 22, 0, 0,
                  IN(T(ER_F64, 3, D(2, 3, 3), F64(2, 1, 3, 0, -1, 4, 5, 2, 1, 1, 2, 3, 2, 4, 6, 0, 1, 1))),
                  1, y, 1));
  CHECK(SHAPE(y[0], 1, 2));
  CHECK_NEAR(dp(y[0])[0], 17, 1e-9);
  CHECK_NEAR(dp(y[0])[1], 0, 1e-9); /* singular */
  CHECK_OK(ot_run("Det", 11, 0, 0, IN(T(ER_F32, 2, D(2, 2), F32(0, 1, 1, 0))), 1, y, 1));
  CHECK_F32(y[0], -1); /* needs a row swap */
  CHECK_ERR(ot_run("Det", 11, 0, 0, IN(T(ER_F32, 2, D(2, 3), 0)), 1, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

/* ---- Reductions ----------------------------------------------------------------------------- */
static er_tensor *x23(void) { return T(ER_F32, 2, D(2, 3), F32(1, 2, 3, 4, 5, 6)); }

TEST(linalg_reduce_ops_axis_attr) {
  er_tensor *y[1];
  er_attr ax1[] = {ot_ints("axes", 1, I64(1)), ot_int("keepdims", 0)};
  struct { const char *op; float e0, e1; } cases[] = {
      {"ReduceSum", 6, 15},        {"ReduceMean", 2, 5},         {"ReduceMax", 3, 6},
      {"ReduceMin", 1, 4},         {"ReduceProd", 6, 120},       {"ReduceL1", 6, 15},
      {"ReduceL2", 3.7416574f, 8.7749643f},                      {"ReduceSumSquare", 14, 77},
      {"ReduceLogSum", 1.7917595f, 2.7080503f},                  {"ReduceLogSumExp", 3.407606f, 6.407606f},
  };
  for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    CHECK_OK(ot_run(cases[i].op, 11, ax1, 2, IN(x23()), 1, y, 1));
    CHECK(SHAPE(y[0], 1, 2));
    CHECK_F32(y[0], cases[i].e0, cases[i].e1);
  }
  /* default: all axes, keepdims */
  CHECK_OK(ot_run("ReduceL2", 13, 0, 0, IN(x23()), 1, y, 1));
  CHECK(SHAPE(y[0], 2, 1, 1));
  CHECK_F32(y[0], 9.539392f);
  /* negative axis, keepdims */
  CHECK_OK(ot_run("ReduceLogSum", 1, (er_attr[]){ot_ints("axes", 1, I64(-2))}, 1, IN(x23()), 1, y, 1));
  CHECK(SHAPE(y[0], 2, 1, 3));
  CHECK_F32(y[0], 1.609438f, 1.9459102f, 2.1972246f);
  ot_free_all();
}

/* float32 Sum / Mean / LogSum keeping the last dim (the channels-last global-pool path, whole
 * rows into a run of accumulators) against a direct double sum, over several axis sets */
TEST(linalg_reduce_last_dim_kept_f32) {
  enum { A = 2, B = 3, C = 5, L = 7 };
  float xv[A * B * C * L];
  for (int i = 0; i < A * B * C * L; i++) xv[i] = (float)((i * 37 % 101) - 50) / 16.0f + 0.01f * (float)i;
  static const int64_t sets[4][3] = {{1, 2, -1}, {0, 2, -1}, {0, -1, -1}, {0, 1, 2}};
  static const int nsets[4] = {2, 2, 1, 3};
  static const char *const ops[3] = {"ReduceSum", "ReduceMean", "ReduceLogSum"};
  const int64_t dims[4] = {A, B, C, L};
  for (int s = 0; s < 4; s++)
    for (int o = 0; o < 3; o++) {
      er_tensor *y[1];
      er_attr at[] = {ot_ints("axes", nsets[s], sets[s]), ot_int("keepdims", s & 1)};
      CHECK_OK(ot_run(ops[o], 11, at, 2, IN(T(ER_F32, 4, D(A, B, C, L), xv)), 1, y, 1));
      int red[4] = {0, 0, 0, 0};
      int64_t count = 1, on = 1;
      for (int k = 0; k < nsets[s]; k++) red[sets[s][k]] = 1, count *= dims[sets[s][k]];
      for (int d = 0; d < 4; d++) on *= red[d] ? 1 : dims[d];
      CHECK(er_tensor_numel(y[0]) == on);
      double want[A * B * C * L] = {0};
      for (int i = 0; i < A * B * C * L; i++) {
        int64_t t = i, idx[4], oi = 0;
        for (int d = 3; d >= 0; d--) idx[d] = t % dims[d], t /= dims[d];
        for (int d = 0; d < 4; d++)
          if (!red[d]) oi = oi * dims[d] + idx[d];
        want[oi] += (double)xv[i];
      }
      for (int64_t i = 0; i < on && er_tensor_numel(y[0]) == on; i++) {
        double w = o == 0 ? want[i] : o == 1 ? want[i] / (double)count : log(want[i]);
        float got = ((const float *)y[0]->data)[i];
        if (!(w == w) ? got == got : fabs((double)got - w) > 1e-5 * (1 + fabs(w))) {
          fprintf(stderr, "  %s set %d: element %lld %g, want %g\n", ops[o], s, (long long)i, got, w);
          CHECK(0);
          break;
        }
      }
      ot_free_all();
    }
}

TEST(linalg_reduce_axes_input_and_noop) {
  er_tensor *y[1];
  er_tensor *axes = T(ER_I64, 1, D(1), I64(0));
  CHECK_OK(ot_run("ReduceSum", 13, 0, 0, IN(x23(), axes), 2, y, 1));
  CHECK(SHAPE(y[0], 2, 1, 3));
  CHECK_F32(y[0], 5, 7, 9);
  CHECK_OK(ot_run("ReduceMax", 18, (er_attr[]){ot_int("keepdims", 0)}, 1, IN(x23(), axes), 2, y, 1));
  CHECK(SHAPE(y[0], 1, 3));
  CHECK_F32(y[0], 4, 5, 6);
  /* empty axes: reduce all, or identity with noop_with_empty_axes */
  er_tensor *none = T(ER_I64, 1, D(0), 0);
  CHECK_OK(ot_run("ReduceSum", 13, 0, 0, IN(x23(), none), 2, y, 1));
  CHECK(SHAPE(y[0], 2, 1, 1));
  CHECK_F32(y[0], 21);
  CHECK_OK(ot_run("ReduceMean", 18, 0, 0, IN(x23()), 1, y, 1)); /* axes input absent */
  CHECK_F32(y[0], 3.5f);
  er_attr noop[] = {ot_int("noop_with_empty_axes", 1)};
  CHECK_OK(ot_run("ReduceSum", 13, noop, 1, IN(x23(), none), 2, y, 1));
  CHECK(SHAPE(y[0], 2, 2, 3));
  CHECK_F32(y[0], 1, 2, 3, 4, 5, 6);
  CHECK_OK(ot_run("ReduceSumSquare", 18, noop, 1, IN(x23()), 1, y, 1));
  CHECK_F32(y[0], 1, 4, 9, 16, 25, 36);
  /* axes values unknown at infer time -> needs data */
  er_tensor *unknown = T(ER_I64, 1, D(1), I64(1));
  unknown->data = NULL;
  CHECK_ERR(ot_run("ReduceSum", 13, 0, 0, IN(x23(), unknown), 2, y, 1), ER_NEEDS_DATA);
  /* errors */
  CHECK_ERR(ot_run("ReduceSum", 13, 0, 0, IN(x23(), T(ER_I64, 1, D(2), I64(1, -1))), 2, y, 1),
            ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("ReduceSum", 13, 0, 0, IN(x23(), T(ER_I64, 1, D(1), I64(2))), 2, y, 1),
            ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("ReduceMean", 13, (er_attr[]){ot_ints("axes", 1, I64(-3))}, 1, IN(x23()), 1, y, 1),
            ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("ReduceMean", 13, 0, 0, IN(x23(), axes), 2, y, 1), ER_INVALID_MODEL);
  CHECK_ERR(ot_run("ReduceSum", 13, 0, 0, IN(T(ER_BOOL, 1, D(2), 0)), 1, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

TEST(linalg_reduce_empty_set) {
  er_tensor *y[1];
  er_tensor *axes = T(ER_I64, 1, D(1), I64(1));
  struct { const char *op; float e; } cases[] = {
      {"ReduceSum", 0},       {"ReduceProd", 1},         {"ReduceMax", -INFINITY},
      {"ReduceMin", INFINITY}, {"ReduceL1", 0},          {"ReduceL2", 0},
      {"ReduceSumSquare", 0}, {"ReduceLogSum", -INFINITY}, {"ReduceLogSumExp", -INFINITY},
  };
  for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    CHECK_OK(ot_run(cases[i].op, 20, 0, 0, IN(T(ER_F32, 3, D(2, 0, 4), 0), axes), 2, y, 1));
    CHECK(SHAPE(y[0], 3, 2, 1, 4));
    CHECK(fp(y[0])[0] == cases[i].e && fp(y[0])[7] == cases[i].e);
  }
  /* non-reduced axis of size zero: empty output */
  CHECK_OK(ot_run("ReduceSum", 13, 0, 0, IN(T(ER_F32, 3, D(2, 0, 4), 0), T(ER_I64, 1, D(1), I64(2))), 2, y, 1));
  CHECK(SHAPE(y[0], 3, 2, 0, 1));
  /* integer empty max/min: type limits */
  CHECK_OK(ot_run("ReduceMax", 20, 0, 0, IN(T(ER_I8, 2, D(0, 2), 0), T(ER_I64, 1, D(1), I64(0))), 2, y, 1));
  CHECK(((int8_t *)y[0]->data)[0] == INT8_MIN);
  CHECK_OK(ot_run("ReduceMin", 20, 0, 0, IN(T(ER_U16, 2, D(0, 2), 0), T(ER_I64, 1, D(1), I64(0))), 2, y, 1));
  CHECK(((uint16_t *)y[0]->data)[1] == UINT16_MAX);
  ot_free_all();
}

TEST(linalg_reduce_int_bool_types) {
  er_tensor *y[1];
  er_tensor *x = T(ER_I64, 2, D(2, 2), I64(4000000000000000001LL, 3, -5, 7));
  CHECK_OK(ot_run("ReduceSum", 13, (er_attr[]){ot_int("keepdims", 0)}, 1,
                  IN(x, T(ER_I64, 1, D(1), I64(1))), 2, y, 1));
  CHECK(ip(y[0])[0] == 4000000000000000004LL && ip(y[0])[1] == 2);
  CHECK_OK(ot_run("ReduceL1", 18, 0, 0, IN(x, T(ER_I64, 1, D(1), I64(0))), 2, y, 1));
  CHECK(ip(y[0])[0] == 4000000000000000006LL && ip(y[0])[1] == 10);
  CHECK_OK(ot_run("ReduceMean", 18, 0, 0, IN(T(ER_I32, 1, D(2), (int32_t[]){3, 4})), 1, y, 1));
  CHECK(((int32_t *)y[0]->data)[0] == 3); /* 3.5 truncated */
  CHECK_OK(ot_run("ReduceMax", 13, 0, 0, IN(T(ER_U64, 1, D(2), (uint64_t[]){1, UINT64_MAX - 1})), 1, y, 1));
  CHECK(((uint64_t *)y[0]->data)[0] == UINT64_MAX - 1);
  uint8_t bv[] = {1, 1, 1, 0, 0, 1, 0, 0};
  er_tensor *b = T(ER_BOOL, 2, D(4, 2), bv);
  CHECK_OK(ot_run("ReduceMax", 20, 0, 0, IN(b, T(ER_I64, 1, D(1), I64(1))), 2, y, 1));
  uint8_t *o = (uint8_t *)y[0]->data;
  CHECK(SHAPE(y[0], 2, 4, 1) && o[0] == 1 && o[1] == 1 && o[2] == 1 && o[3] == 0);
  CHECK_OK(ot_run("ReduceMin", 20, 0, 0, IN(b, T(ER_I64, 1, D(1), I64(1))), 2, y, 1));
  o = (uint8_t *)y[0]->data;
  CHECK(o[0] == 1 && o[1] == 0 && o[2] == 0 && o[3] == 0);
  /* float16 and double */
  uint16_t h[3] = {er_f32_to_f16(1), er_f32_to_f16(2), er_f32_to_f16(3)};
  CHECK_OK(ot_run("ReduceSumSquare", 13, 0, 0, IN(T(ER_F16, 1, D(3), h)), 1, y, 1));
  CHECK_NEAR(er_f16_to_f32(((uint16_t *)y[0]->data)[0]), 14, 1e-3);
  CHECK_OK(ot_run("ReduceLogSumExp", 13, 0, 0, IN(T(ER_F64, 1, D(2), F64(1000, 1000))), 1, y, 1));
  CHECK_NEAR(dp(y[0])[0], 1000 + log(2.0), 1e-9);
  /* NaN propagates through max */
  CHECK_OK(ot_run("ReduceMax", 13, 0, 0, IN(T(ER_F32, 1, D(3), F32(1, NAN, 2))), 1, y, 1));
  CHECK(isnan(fp(y[0])[0]));
  ot_free_all();
}

/* ---- ArgMax / ArgMin ------------------------------------------------------------------------- */
TEST(linalg_argmax_argmin) {
  er_tensor *y[1];
  er_tensor *x = T(ER_F32, 2, D(2, 3), F32(2, 5, 5, 7, 1, 7));
  CHECK_OK(ot_run("ArgMax", 13, (er_attr[]){ot_int("axis", 1)}, 1, IN(x), 1, y, 1));
  CHECK(SHAPE(y[0], 2, 2, 1) && y[0]->dtype == ER_I64);
  CHECK(ip(y[0])[0] == 1 && ip(y[0])[1] == 0);
  er_attr last[] = {ot_int("axis", -1), ot_int("select_last_index", 1), ot_int("keepdims", 0)};
  CHECK_OK(ot_run("ArgMax", 13, last, 3, IN(x), 1, y, 1));
  CHECK(SHAPE(y[0], 1, 2) && ip(y[0])[0] == 2 && ip(y[0])[1] == 2);
  CHECK_OK(ot_run("ArgMin", 13, 0, 0, IN(x), 1, y, 1)); /* axis 0 */
  CHECK(SHAPE(y[0], 2, 1, 3) && ip(y[0])[0] == 0 && ip(y[0])[1] == 1 && ip(y[0])[2] == 0);
  CHECK_OK(ot_run("ArgMin", 12, (er_attr[]){ot_int("select_last_index", 1)}, 1,
                  IN(T(ER_I32, 1, D(4), (int32_t[]){3, -1, 4, -1})), 1, y, 1));
  CHECK(ip(y[0])[0] == 3);
  CHECK_OK(ot_run("ArgMax", 11, 0, 0, IN(T(ER_U8, 1, D(3), (uint8_t[]){200, 255, 255})), 1, y, 1));
  CHECK(ip(y[0])[0] == 1);
  CHECK_ERR(ot_run("ArgMax", 13, (er_attr[]){ot_int("axis", 2)}, 1, IN(x), 1, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("ArgMax", 13, 0, 0, IN(T(ER_F32, 2, D(0, 3), 0)), 1, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

/* ---- Softmax family ---------------------------------------------------------------------------- */
TEST(linalg_softmax_family) {
  er_tensor *y[1];
  CHECK_OK(ot_run("Softmax", 13, (er_attr[]){ot_int("axis", 0)}, 1, IN(x23()), 1, y, 1));
  CHECK_F32(y[0], 0.047425874f, 0.047425874f, 0.047425874f, 0.95257413f, 0.95257413f, 0.95257413f);
  CHECK_OK(ot_run("LogSoftmax", 13, 0, 0, IN(x23()), 1, y, 1));
  CHECK_F32(y[0], -2.407606f, -1.407606f, -0.40760598f, -2.407606f, -1.407606f, -0.40760598f);
  /* opset < 13: coerce to 2-D at axis 1 (default) */
  er_tensor *x3 = T(ER_F32, 3, D(2, 2, 2), F32(0, 0.5f, 1, 1.5f, 2, 2.5f, 3, 3.5f));
  CHECK_OK(ot_run("Softmax", 11, 0, 0, IN(x3), 1, y, 1));
  CHECK_F32(y[0], 0.10153632f, 0.16740508f, 0.27600434f, 0.45505422f, 0.10153632f, 0.16740508f,
            0.27600434f, 0.45505422f);
  /* opset 13 default axis -1 differs */
  CHECK_OK(ot_run("Softmax", 13, 0, 0, IN(x3), 1, y, 1));
  CHECK_NEAR(fp(y[0])[0], 0.37754067, 1e-6);
  /* large numbers stay finite */
  CHECK_OK(ot_run("Softmax", 13, 0, 0, IN(T(ER_F32, 1, D(2), F32(10000, 10000))), 1, y, 1));
  CHECK_F32(y[0], 0.5f, 0.5f);
  /* Hardmax: first max wins, opset 11 coerces */
  CHECK_OK(ot_run("Hardmax", 13, 0, 0, IN(T(ER_F32, 2, D(2, 3), F32(1, 3, 3, -1, -2, -3))), 1, y, 1));
  CHECK_F32(y[0], 0, 1, 0, 1, 0, 0);
  CHECK_OK(ot_run("Hardmax", 11, (er_attr[]){ot_int("axis", 0)}, 1, IN(x23()), 1, y, 1));
  CHECK_F32(y[0], 0, 0, 0, 0, 0, 1);
  /* double */
  CHECK_OK(ot_run("LogSoftmax", 11, 0, 0, IN(T(ER_F64, 2, D(1, 2), F64(0, 0))), 1, y, 1));
  CHECK_NEAR(dp(y[0])[1], -log(2.0), 1e-12);
  CHECK_ERR(ot_run("Softmax", 13, (er_attr[]){ot_int("axis", 2)}, 1, IN(x23()), 1, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("Softmax", 13, 0, 0, IN(T(ER_I32, 1, D(2), 0)), 1, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

/* ---- CumSum ------------------------------------------------------------------------------------ */
TEST(linalg_cumsum) {
  er_tensor *y[1];
  er_tensor *x = T(ER_F64, 1, D(4), F64(1, 2, 3, 4));
  er_tensor *a0 = T(ER_I32, 0, D(0), (int32_t[]){0});
  struct { int ex, rev; double e[4]; } cases[] = {
      {0, 0, {1, 3, 6, 10}}, {1, 0, {0, 1, 3, 6}}, {0, 1, {10, 9, 7, 4}}, {1, 1, {9, 7, 4, 0}}};
  for (int i = 0; i < 4; i++) {
    er_attr at[] = {ot_int("exclusive", cases[i].ex), ot_int("reverse", cases[i].rev)};
    CHECK_OK(ot_run("CumSum", 14, at, 2, IN(x, a0), 2, y, 1));
    for (int j = 0; j < 4; j++) CHECK(dp(y[0])[j] == cases[i].e[j]);
  }
  CHECK_OK(ot_run("CumSum", 11, 0, 0, IN(x23(), T(ER_I64, 1, D(1), I64(-1))), 2, y, 1));
  CHECK_F32(y[0], 1, 3, 6, 4, 9, 15);
  CHECK_OK(ot_run("CumSum", 14, 0, 0, IN(T(ER_I64, 2, D(2, 2), I64(1, 2, 3, 4)), T(ER_I64, 0, D(0), I64(0))), 2, y, 1));
  CHECK(ip(y[0])[0] == 1 && ip(y[0])[1] == 2 && ip(y[0])[2] == 4 && ip(y[0])[3] == 6);
  CHECK_ERR(ot_run("CumSum", 14, 0, 0, IN(x, T(ER_I64, 0, D(0), I64(1))), 2, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("CumSum", 14, 0, 0, IN(x, T(ER_F32, 0, D(0), F32(0))), 2, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

/* ---- TopK --------------------------------------------------------------------------------------- */
TEST(linalg_topk) {
  er_tensor *y[2];
  er_tensor *x = T(ER_F32, 2, D(2, 4), F32(1, 5, 5, 2, 9, -1, 9, 9));
  er_tensor *k2 = T(ER_I64, 1, D(1), I64(2));
  CHECK_OK(ot_run("TopK", 11, 0, 0, IN(x, k2), 2, y, 2));
  CHECK(SHAPE(y[0], 2, 2, 2) && SHAPE(y[1], 2, 2, 2));
  CHECK_F32(y[0], 5, 5, 9, 9);
  CHECK(ip(y[1])[0] == 1 && ip(y[1])[1] == 2 && ip(y[1])[2] == 0 && ip(y[1])[3] == 2);
  er_attr small[] = {ot_int("largest", 0), ot_int("axis", 0)};
  CHECK_OK(ot_run("TopK", 11, small, 2, IN(x, T(ER_I64, 1, D(1), I64(1))), 2, y, 2));
  CHECK(SHAPE(y[0], 2, 1, 4));
  CHECK_F32(y[0], 1, -1, 5, 2);
  CHECK(ip(y[1])[0] == 0 && ip(y[1])[1] == 1 && ip(y[1])[2] == 0 && ip(y[1])[3] == 0);
  /* opset 1: k attribute */
  CHECK_OK(ot_run("TopK", 1, (er_attr[]){ot_int("k", 3)}, 1, IN(T(ER_I64, 1, D(5), I64(3, 1, 4, 1, 5))), 1, y, 2));
  CHECK(ip(y[0])[0] == 5 && ip(y[0])[1] == 4 && ip(y[0])[2] == 3);
  CHECK(ip(y[1])[0] == 4 && ip(y[1])[1] == 2 && ip(y[1])[2] == 0);
  /* ties, smallest, uint */
  CHECK_OK(ot_run("TopK", 11, (er_attr[]){ot_int("largest", 0)}, 1,
                  IN(T(ER_U64, 1, D(5), (uint64_t[]){7, UINT64_MAX, 7, 2, 7}), T(ER_I64, 1, D(1), I64(4))),
                  2, y, 2));
  CHECK(ip(y[1])[0] == 3 && ip(y[1])[1] == 0 && ip(y[1])[2] == 2 && ip(y[1])[3] == 4);
  /* k = 0 */
  CHECK_OK(ot_run("TopK", 10, 0, 0, IN(x, T(ER_I64, 1, D(1), I64(0))), 2, y, 2));
  CHECK(SHAPE(y[0], 2, 2, 0));
  /* unknown k -> needs data; bad k -> error */
  er_tensor *ku = T(ER_I64, 1, D(1), I64(1));
  ku->data = NULL;
  CHECK_ERR(ot_run("TopK", 11, 0, 0, IN(x, ku), 2, y, 2), ER_NEEDS_DATA);
  CHECK_ERR(ot_run("TopK", 11, 0, 0, IN(x, T(ER_I64, 1, D(1), I64(5))), 2, y, 2), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("TopK", 11, 0, 0, IN(x, T(ER_I64, 1, D(1), I64(-1))), 2, y, 2), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("TopK", 1, 0, 0, IN(x), 1, y, 2), ER_INVALID_MODEL);
  ot_free_all();
}

/* ---- Losses ---------------------------------------------------------------------------------------- */
TEST(linalg_nll_and_sce) {
  er_tensor *y[2];
  er_tensor *x = T(ER_F32, 2, D(2, 3), F32(0.1f, -0.5f, 2.0f, 1.5f, 0.3f, -1.2f));
  er_tensor *t = T(ER_I64, 1, D(2), I64(0, 2));
  er_tensor *w = T(ER_F32, 1, D(3), F32(1, 2, 3));
  CHECK_OK(ot_run("NegativeLogLikelihoodLoss", 13, (er_attr[]){ot_str("reduction", "none")}, 1,
                  IN(x, t), 2, y, 1));
  CHECK(SHAPE(y[0], 1, 2));
  CHECK_F32(y[0], -0.1f, 1.2f);
  CHECK_OK(ot_run("NegativeLogLikelihoodLoss", 22, 0, 0, IN(x, t, w), 3, y, 1));
  CHECK(y[0]->rank == 0);
  CHECK_F32(y[0], 0.875f);
  CHECK_OK(ot_run("NegativeLogLikelihoodLoss", 13,
                  (er_attr[]){ot_str("reduction", "sum"), ot_int("ignore_index", 2)}, 2, IN(x, t, w), 3, y, 1));
  CHECK_F32(y[0], -0.1f);
  /* SCE with log_prob output */
  CHECK_OK(ot_run("SoftmaxCrossEntropyLoss", 13, (er_attr[]){ot_str("reduction", "none")}, 1,
                  IN(x, t), 2, y, 2));
  CHECK_F32(y[0], 2.1083577f, 3.013642f);
  CHECK(SHAPE(y[1], 2, 2, 3));
  CHECK_F32(y[1], -2.1083577f, -2.7083577f, -0.20835767f, -0.31364197f, -1.513642f, -3.013642f);
  CHECK_OK(ot_run("SoftmaxCrossEntropyLoss", 13, (er_attr[]){ot_int("ignore_index", 2)}, 1,
                  IN(x, t, w), 3, y, 1));
  CHECK_F32(y[0], 2.1083577f);
  CHECK_OK(ot_run("SoftmaxCrossEntropyLoss", 13, (er_attr[]){ot_str("reduction", "sum")}, 1, IN(x, t), 2, y, 1));
  CHECK_F32(y[0], 5.1219996f);
  /* N, C, d1 layout: x [1, 2, 2], targets per position */
  er_tensor *x3 = T(ER_F32, 3, D(1, 2, 2), F32(1, 2, 3, 4));
  CHECK_OK(ot_run("NegativeLogLikelihoodLoss", 13, (er_attr[]){ot_str("reduction", "none")}, 1,
                  IN(x3, T(ER_I32, 2, D(1, 2), (int32_t[]){1, 0})), 2, y, 1));
  CHECK(SHAPE(y[0], 2, 1, 2));
  CHECK_F32(y[0], -3, -2);
  /* errors */
  CHECK_ERR(ot_run("NegativeLogLikelihoodLoss", 13, 0, 0, IN(x, T(ER_I64, 1, D(2), I64(0, 3))), 2, y, 1),
            ER_OUT_OF_RANGE);
  CHECK_ERR(ot_run("NegativeLogLikelihoodLoss", 13, (er_attr[]){ot_str("reduction", "avg")}, 1, IN(x, t), 2, y, 1),
            ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("SoftmaxCrossEntropyLoss", 13, 0, 0, IN(x, T(ER_I64, 1, D(3), I64(0, 0, 0))), 2, y, 1),
            ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("SoftmaxCrossEntropyLoss", 13, 0, 0, IN(x, t, T(ER_F32, 1, D(2), 0)), 3, y, 1),
            ER_INVALID_ARGUMENT);
  ot_free_all();
}

/* ---- Training optimizers (values from onnx's test_adagrad/test_adam/test_momentum data) ---- */
#define TRAIN "ai.onnx.preview.training"
TEST(linalg_training_optimizers) {
  er_tensor *y[6];
  er_tensor *r = T(ER_F32, 0, D(0), F32(0.1f)), *t = T(ER_I64, 0, D(0), I64(0));
  /* Adagrad: x=1, g=-1, h=2, decay 0.1, eps 1e-5, norm 1e-3 */
  er_attr ag[] = {ot_float("decay_factor", 0.1f), ot_float("epsilon", 1e-5f),
                  ot_float("norm_coefficient", 0.001f)};
  CHECK_OK(ot_run_domain(TRAIN, "Adagrad", 1, ag, 3,
                         IN(r, t, T(ER_F32, 1, D(1), F32(1)), T(ER_F32, 1, D(1), F32(-1)),
                            T(ER_F32, 1, D(1), F32(2))), 5, y, 2));
  /* g' = -0.999, h' = 2 + 0.998001, x' = 1 + 0.1*0.999/(sqrt(2.998001)+1e-5) */
  CHECK_NEAR(fp(y[1])[0], 2.998001, 1e-6);
  CHECK_NEAR(fp(y[0])[0], 1 + 0.1 * 0.999 / (sqrt(2.998001) + 1e-5), 1e-6);
  /* Momentum standard and nesterov, two tensors, T > 0 */
  er_tensor *t1 = T(ER_I64, 0, D(0), I64(1));
  er_attr mo[] = {ot_float("alpha", 0.9f), ot_float("beta", 0.5f), ot_str("mode", "standard"),
                  ot_float("norm_coefficient", 0.0f)};
  er_tensor *x1 = T(ER_F32, 1, D(1), F32(1)), *x2 = T(ER_F32, 1, D(2), F32(2, 3));
  er_tensor *g1 = T(ER_F32, 1, D(1), F32(1)), *g2 = T(ER_F32, 1, D(2), F32(-2, 4));
  er_tensor *v1 = T(ER_F32, 1, D(1), F32(0.5f)), *v2 = T(ER_F32, 1, D(2), F32(1, 0));
  CHECK_OK(ot_run_domain(TRAIN, "Momentum", 1, mo, 4, IN(r, t1, x1, x2, g1, g2, v1, v2), 8, y, 4));
  /* v' = 0.9 v + 0.5 g; x' = x - 0.1 v' */
  CHECK_F32(y[2], 0.95f);
  CHECK_F32(y[3], -0.1f, 2.0f);
  CHECK_F32(y[0], 0.905f);
  CHECK_F32(y[1], 2.01f, 2.8f);
  mo[2] = ot_str("mode", "nesterov");
  CHECK_OK(ot_run_domain(TRAIN, "Momentum", 1, mo, 4, IN(r, t, x1, g1, v1), 5, y, 2));
  /* T = 0: v' = 0.9*0.5 + 1*1 = 1.45; x' = 1 - 0.1*(1 + 0.9*1.45) */
  CHECK_F32(y[1], 1.45f);
  CHECK_F32(y[0], 1 - 0.1f * (1 + 0.9f * 1.45f));
  mo[2] = ot_str("mode", "heavy");
  CHECK_ERR(ot_run_domain(TRAIN, "Momentum", 1, mo, 4, IN(r, t, x1, g1, v1), 5, y, 2), ER_INVALID_ARGUMENT);
  /* Adam with bias correction */
  er_attr ad[] = {ot_float("alpha", 0.9f), ot_float("beta", 0.99f), ot_float("epsilon", 0.0f)};
  CHECK_OK(ot_run_domain(TRAIN, "Adam", 1, ad, 3, IN(r, t1, x1, g1, v1, T(ER_F32, 1, D(1), F32(0))), 6, y, 3));
  {
    double v = 0.9 * 0.5 + 0.1 * 1, h = 0.01 * 1;
    double rr = 0.1 * sqrt(1 - 0.99) / (1 - 0.9);
    CHECK_NEAR(fp(y[1])[0], v, 1e-6);
    CHECK_NEAR(fp(y[2])[0], h, 1e-6);
    CHECK_NEAR(fp(y[0])[0], 1 - rr * v / sqrt(h), 1e-5);
  }
  /* wrong arity / mismatched shapes */
  CHECK_ERR(ot_run_domain(TRAIN, "Adam", 1, ad, 3, IN(r, t1, x1, g1, v1), 5, y, 3), ER_INVALID_MODEL);
  CHECK_ERR(ot_run_domain(TRAIN, "Adagrad", 1, ag, 3, IN(r, t, x1, g2, v1), 5, y, 2), ER_INVALID_ARGUMENT);
  ot_free_all();
}
