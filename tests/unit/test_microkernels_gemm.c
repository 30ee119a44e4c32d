/* The float32 GEMM micro-kernels of every optimized table (AVX2/FMA) against the reference
 * table on many shapes: f32_gemm (transposes, alpha/beta, padded leading dimensions),
 * pack_b + f32_gemm_packed (bias, every fused activation), f32_gemm_packed_cols and row
 * splits (must give the same bits as the whole call), and the Gemm/MatMul ops through the
 * selected table with packed constant weights, fused activation and threads. */
#include <math.h>
#include <string.h>

#include "base/cpu.h"
#include "kernels/kernel.h"
#include "optest.h"
#include "test.h"

const er_microkernels *er_microkernels_avx2(void);
const er_microkernels *er_microkernels_avx512(void);
static int g_use_avx512; /* set while mk_gemm_avx512_table re-runs the tests */

static const int64_t k_sizes[] = {1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 64, 100, 257};
#define N_SIZES ((int)(sizeof k_sizes / sizeof k_sizes[0]))

/* The optimized table to test, or NULL when this CPU has none. */
static const er_microkernels *opt_table(void) {
#if defined(__x86_64__)
  er_cpu_features f = er_cpu_detect();
  if (g_use_avx512) return f.avx2 && f.fma && f.avx512f ? er_microkernels_avx512() : 0;
  if (f.avx2 && f.fma) return er_microkernels_avx2();
#endif
  return 0;
}

static uint32_t g_rng = 12345;
static float frand(void) { /* uniform in [-1, 1) */
  g_rng = g_rng * 1664525u + 1013904223u;
  return (float)((g_rng >> 8) & 0xffffff) / 8388608.0f - 1.0f;
}
static float *rand_buf(int64_t n) {
  float *p = (float *)malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
  for (int64_t i = 0; i < n; i++) p[i] = frand();
  return p;
}

/* Max |x - y| / (K + 1) over an M x N block (inf on NaN mismatch). Entries are sums of K
 * products of values in [-1, 1], so float reassociation error grows at most ~K * eps. */
static double max_err(const float *x, const float *y, int64_t M, int64_t N, int64_t ldc, int64_t K) {
  double m = 0;
  for (int64_t i = 0; i < M; i++)
    for (int64_t j = 0; j < N; j++) {
      float a = x[i * ldc + j], b = y[i * ldc + j];
      if (isnan(a) || isnan(b)) {
        if (isnan(a) != isnan(b)) return INFINITY;
        continue;
      }
      double d = fabs((double)a - (double)b) / (double)(K + 1);
      if (d > m) m = d;
    }
  return m;
}
#define TOL 2e-6

static void gemm_case(int *er_failed_, const er_microkernels *opt, int ta, int tb, int64_t M,
                      int64_t N, int64_t K, float alpha, float beta, int pad) {
  const er_microkernels *ref = er_microkernels_ref();
  int64_t lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
  int64_t arows = ta ? K : M, brows = tb ? N : K;
  float *A = rand_buf(arows * lda), *B = rand_buf(brows * ldb), *C0 = rand_buf(M * ldc);
  float *C1 = (float *)malloc(sizeof(float) * (size_t)(M * ldc));
  float *C2 = (float *)malloc(sizeof(float) * (size_t)(M * ldc));
  if (beta == 0.0f) /* C must not be read */
    for (int64_t i = 0; i < M * ldc; i++) C0[i] = NAN;
  memcpy(C1, C0, sizeof(float) * (size_t)(M * ldc));
  memcpy(C2, C0, sizeof(float) * (size_t)(M * ldc));
  ref->f32_gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C1, ldc);
  opt->f32_gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C2, ldc);
  double e = max_err(C1, C2, M, N, ldc, K);
  if (!(e <= TOL)) {
    fprintf(stderr, "  f32_gemm ta=%d tb=%d M=%lld N=%lld K=%lld alpha=%g beta=%g pad=%d: err %g\n",
            ta, tb, (long long)M, (long long)N, (long long)K, alpha, beta, pad, e);
    *er_failed_ = 1;
  }
  /* padding columns of C untouched */
  for (int64_t i = 0; i < M && pad; i++)
    for (int64_t j = N; j < ldc; j++)
      if (memcmp(&C2[i * ldc + j], &C0[i * ldc + j], sizeof(float)) != 0) {
        fprintf(stderr, "  f32_gemm wrote past N at (%lld, %lld)\n", (long long)i, (long long)j);
        *er_failed_ = 1;
        i = M;
        break;
      }
  free(A), free(B), free(C0), free(C1), free(C2);
}

TEST(mk_gemm_f32_gemm_all_shapes) {
  const er_microkernels *opt = opt_table();
  if (!opt) return;
  for (int i = 0; i < N_SIZES; i++)
    for (int j = 0; j < N_SIZES; j++)
      for (int k = 0; k < N_SIZES; k++) {
        int v = i + j + k;
        gemm_case(er_failed_, opt, v & 1, (v >> 1) & 1, k_sizes[i], k_sizes[j], k_sizes[k],
                  1.0f, 0.0f, 0);
      }
}

TEST(mk_gemm_f32_gemm_transposes_alpha_beta) {
  const er_microkernels *opt = opt_table();
  if (!opt) return;
  static const float ab[][2] = {{1, 0}, {1, 1}, {0.5f, -2.0f}, {-1.5f, 0}, {0, 0.25f}, {2, 1}};
  static const int64_t shp[][3] = {{1, 1, 1}, {7, 17, 31}, {16, 16, 16}, {100, 33, 257},
                                   {5, 100, 3}, {64, 1, 300}, {1, 129, 64}, {13, 70, 600},
                                   {9, 25, 40}, {6, 45, 17}, {12, 14, 9}, {11, 27, 1},
                                   {4, 90, 2}, {3, 76, 513}};
  for (int t = 0; t < 4; t++)
    for (size_t s = 0; s < sizeof shp / sizeof shp[0]; s++)
      for (size_t a = 0; a < sizeof ab / sizeof ab[0]; a++)
        gemm_case(er_failed_, opt, t & 1, t >> 1, shp[s][0], shp[s][1], shp[s][2], ab[a][0],
                  ab[a][1], (int)(s % 3) * 3);
}

TEST(mk_gemm_f32_gemm_k_zero) {
  const er_microkernels *opt = opt_table();
  if (!opt) return;
  float C[6] = {1, 2, 3, 4, 5, 6};
  opt->f32_gemm(0, 0, 2, 3, 0, 1.0f, C, 1, C, 1, 2.0f, C, 3);
  for (int i = 0; i < 6; i++) CHECK_NEAR(C[i], 2.0f * (float)(i + 1), 0);
  opt->f32_gemm(0, 0, 2, 3, 0, 1.0f, C, 1, C, 1, 0.0f, C, 3);
  for (int i = 0; i < 6; i++) CHECK_NEAR(C[i], 0.0f, 0);
}

static const er_act k_acts[] = {
    {ER_ACT_NONE, 0, 0},          {ER_ACT_RELU, 0, 0},       {ER_ACT_CLIP, -0.5f, 0.75f},
    {ER_ACT_CLIP, 0.0f, 6.0f},    {ER_ACT_HARDSWISH, 0, 0},  {ER_ACT_HARDSIGMOID, 0.2f, 0.5f},
    {ER_ACT_SILU, 0, 0},          {ER_ACT_GELU, 0, 0},       {ER_ACT_SIGMOID, 0, 0},
    {ER_ACT_TANH, 0, 0},          {ER_ACT_LEAKYRELU, 0.1f, 0},
};
#define N_ACTS ((int)(sizeof k_acts / sizeof k_acts[0]))

/* opt pack + packed vs ref pack + packed; then column blocks and row blocks of opt must
 * reproduce the whole opt result bit for bit. */
static void packed_case(int *er_failed_, const er_microkernels *opt, int tb, int64_t M, int64_t N,
                        int64_t K, int use_bias, er_act act, int check_splits) {
  const er_microkernels *ref = er_microkernels_ref();
  int64_t lda = K + 1, ldb = (tb ? K : N) + 2, ldc = N + 3;
  float *A = rand_buf(M * lda), *B = rand_buf((tb ? N : K) * ldb), *bias = rand_buf(N);
  float *C1 = rand_buf(M * ldc), *C2 = rand_buf(M * ldc), *C3 = rand_buf(M * ldc);
  void *P1 = malloc(ref->f32_gemm_packed_size(K, N) + 1);
  void *P2 = malloc(opt->f32_gemm_packed_size(K, N) + 1);
  ref->f32_gemm_pack_b(tb, K, N, B, ldb, P1);
  opt->f32_gemm_pack_b(tb, K, N, B, ldb, P2);
  const float *bp = use_bias ? bias : NULL;
  ref->f32_gemm_packed(M, N, K, A, lda, P1, bp, act, C1, ldc);
  opt->f32_gemm_packed(M, N, K, A, lda, P2, bp, act, C2, ldc);
  double e = max_err(C1, C2, M, N, ldc, K);
  if (!(e <= TOL)) {
    fprintf(stderr, "  packed tb=%d M=%lld N=%lld K=%lld bias=%d act=%d: err %g\n", tb,
            (long long)M, (long long)N, (long long)K, use_bias, act.kind, e);
    *er_failed_ = 1;
  }
  if (check_splits) {
    /* columns [0, 32), [32, 96), [96, 192), [192, N) and rows [0, 7), [7, M) */
    int64_t cuts[] = {0, 32, 96, 192, N};
    for (int c = 0; c < 4; c++)
      if (cuts[c] < N)
        opt->f32_gemm_packed_cols(M, N, K, A, lda, P2, bp, act, C3, ldc, cuts[c],
                                  cuts[c + 1] < N ? cuts[c + 1] : N);
    int same = 1;
    for (int64_t i = 0; i < M; i++)
      if (memcmp(C2 + i * ldc, C3 + i * ldc, sizeof(float) * (size_t)N) != 0) same = 0;
    int64_t m1 = M < 7 ? M : 7;
    opt->f32_gemm_packed(m1, N, K, A, lda, P2, bp, act, C3, ldc);
    opt->f32_gemm_packed(M - m1, N, K, A + m1 * lda, lda, P2, bp, act, C3 + m1 * ldc, ldc);
    for (int64_t i = 0; i < M; i++)
      if (memcmp(C2 + i * ldc, C3 + i * ldc, sizeof(float) * (size_t)N) != 0) same = 0;
    if (!same) {
      fprintf(stderr, "  packed splits differ: M=%lld N=%lld K=%lld\n", (long long)M,
              (long long)N, (long long)K);
      *er_failed_ = 1;
    }
    /* the reference's own column entry agrees with its whole call */
    ref->f32_gemm_packed_cols(M, N, K, A, lda, P1, bp, act, C3, ldc, 0, N);
    CHECK(max_err(C1, C3, M, N, ldc, K) == 0);
  }
  free(A), free(B), free(bias), free(C1), free(C2), free(C3), free(P1), free(P2);
}

TEST(mk_gemm_packed_all_shapes) {
  const er_microkernels *opt = opt_table();
  if (!opt) return;
  for (int i = 0; i < N_SIZES; i++)
    for (int j = 0; j < N_SIZES; j++)
      for (int k = 0; k < N_SIZES; k++) {
        int v = i * 7 + j * 3 + k;
        packed_case(er_failed_, opt, v & 1, k_sizes[i], k_sizes[j], k_sizes[k], (v >> 1) & 1,
                    k_acts[v % N_ACTS], (v % 5) == 0);
      }
}

TEST(mk_gemm_packed_each_activation) {
  const er_microkernels *opt = opt_table();
  if (!opt) return;
  static const int64_t shp[][3] = {{1, 1, 1}, {6, 16, 8}, {7, 17, 300}, {13, 200, 31},
                                   {100, 64, 257}, {2, 1000, 5}, {257, 3, 2}, {5, 25, 9},
                                   {8, 77, 12}, {3, 270, 20}};
  for (int a = 0; a < N_ACTS; a++)
    for (size_t s = 0; s < sizeof shp / sizeof shp[0]; s++)
      for (int bias = 0; bias < 2; bias++)
        packed_case(er_failed_, opt, (int)s & 1, shp[s][0], shp[s][1], shp[s][2], bias, k_acts[a], 1);
}

TEST(mk_gemm_packed_k_zero_and_nan) {
  const er_microkernels *opt = opt_table();
  if (!opt) return;
  /* K = 0: C = act(bias) */
  float bias[3] = {-1.0f, 0.5f, 2.0f}, C[6];
  er_act relu = {ER_ACT_RELU, 0, 0};
  opt->f32_gemm_packed(2, 3, 0, bias, 1, NULL, bias, relu, C, 3);
  for (int i = 0; i < 6; i++) CHECK_NEAR(C[i], bias[i % 3] > 0 ? bias[i % 3] : 0.0f, 0);
  /* NaN through the fused activations behaves like er_f32_apply_act */
  float A[1] = {NAN}, B[16], P[256], C2[16], C3[16];
  for (int i = 0; i < 16; i++) B[i] = 1.0f;
  opt->f32_gemm_pack_b(0, 1, 16, B, 16, P);
  for (int a = 0; a < N_ACTS; a++) {
    opt->f32_gemm_packed(1, 16, 1, A, 1, P, NULL, k_acts[a], C2, 16);
    for (int i = 0; i < 16; i++) C3[i] = NAN;
    er_f32_apply_act(C3, 16, k_acts[a]);
    for (int i = 0; i < 16; i++) CHECK(isnan(C2[i]) == isnan(C3[i]));
  }
}

/* ---- Gemm / MatMul ops through the selected table, packed weights, threads ---- */
typedef struct {
  er_threadpool *pool;
} op_env;

/* Run an op like the executor does: infer, state + prepare, run with ctx->mk and threads. */
static er_status run_op(const char *op_type, const er_attr *attrs, int n_attrs, er_tensor **in,
                        int n_in, er_tensor *out, const er_microkernels *mk, er_threadpool *pool) {
  const er_op_def *op = er_op_find("", op_type, 13);
  if (!op) return ER_ERR(ER_UNSUPPORTED, "no %s", op_type);
  er_node node = {.name = "t", .op_type = op_type, .domain = "", .opset = 13, .n_inputs = n_in,
                  .n_outputs = 1, .n_attrs = n_attrs, .attrs = (er_attr *)attrs, .op = op};
  er_tensor *outs[1] = {out};
  er_kctx c = {.node = &node, .opset = 13, .n_in = n_in, .n_out = 1, .in = in, .out = outs,
               .threads = pool, .mk = mk};
  ER_RETURN_IF_ERROR(op->infer(&c));
  void *state = c.state_bytes ? calloc(1, c.state_bytes) : NULL;
  void *scratch = c.scratch_bytes ? calloc(1, c.scratch_bytes) : NULL;
  c.state = state, c.scratch = scratch;
  out->data = calloc(1, er_tensor_nbytes(out) + 1);
  er_status s = op->prepare ? op->prepare(&c) : NULL;
  if (!s) s = op->run(&c);
  free(state), free(scratch);
  return s;
}

static float act_ref(float x, er_act a) {
  er_f32_apply_act(&x, 1, a);
  return x;
}

TEST(mk_gemm_op_gemm_packed_bias_act_threads) {
  const er_microkernels *mks[2] = {er_microkernels_ref(), opt_table()};
  er_threadpool *pool2 = NULL;
  CHECK_OK(er_threadpool_create(2, &pool2));
  static const int64_t shp[][3] = {{1, 1000, 512}, {7, 33, 65}, {50, 130, 40}, {30, 5, 300},
                                   {60, 90, 100}};
  for (size_t si = 0; si < sizeof shp / sizeof shp[0]; si++) {
    int64_t M = shp[si][0], N = shp[si][1], K = shp[si][2];
    for (int tb = 0; tb < 2; tb++)
      for (int cshape = 0; cshape < 4; cshape++) { /* none, [N], [M,N], [1] */
        int64_t ad[2] = {M, K}, bd[2] = {tb ? N : K, tb ? K : N}, cd[2] = {M, N};
        er_tensor *A = ot_tensor(ER_F32, 2, ad, NULL), *B = ot_tensor(ER_F32, 2, bd, NULL);
        for (int64_t i = 0; i < M * K; i++) ((float *)A->data)[i] = frand();
        for (int64_t i = 0; i < K * N; i++) ((float *)B->data)[i] = frand();
        er_tensor *Ct = NULL;
        if (cshape == 1) Ct = ot_tensor(ER_F32, 1, cd + 1, NULL);
        if (cshape == 2) Ct = ot_tensor(ER_F32, 2, cd, NULL);
        if (cshape == 3) Ct = ot_tensor(ER_F32, 1, (int64_t[]){1}, NULL);
        if (Ct)
          for (int64_t i = 0; i < er_tensor_numel(Ct); i++) ((float *)Ct->data)[i] = frand();
        er_act act = k_acts[(si * 8 + (size_t)tb * 4 + (size_t)cshape) % N_ACTS];
        float beta = cshape == 2 ? 0.5f : 1.0f;
        float alpha = tb && cshape == 0 ? 2.0f : 1.0f; /* alpha != 1: not packed */
        er_attr at[] = {ot_int("transB", tb), ot_float("beta", beta), ot_int("_act", act.kind),
                        ot_float("_act_a", act.a), ot_float("_act_b", act.b),
                        ot_float("alpha", alpha)};
        /* expected in double */
        double *want = (double *)malloc(sizeof(double) * (size_t)(M * N));
        const float *a = (const float *)A->data, *b = (const float *)B->data;
        for (int64_t m = 0; m < M; m++)
          for (int64_t n = 0; n < N; n++) {
            double s = 0;
            for (int64_t k = 0; k < K; k++) s += (double)a[m * K + k] * b[tb ? n * K + k : k * N + n];
            s *= alpha;
            if (Ct) {
              const float *cv = (const float *)Ct->data;
              s += beta * (cshape == 1 ? cv[n] : cshape == 2 ? cv[m * N + n] : cv[0]);
            }
            want[m * N + n] = act_ref((float)s, act);
          }
        float *first = NULL;
        for (int t = 0; t < 2; t++)
          for (int p = 0; p < 2; p++) {
            if (!mks[t]) continue;
            er_tensor Y = {0};
            er_tensor *in[3] = {A, B, Ct};
            CHECK_OK(run_op("Gemm", at, 6, in, Ct ? 3 : 2, &Y, mks[t], p ? pool2 : NULL));
            const float *y = (const float *)Y.data;
            double e = 0;
            for (int64_t i = 0; i < M * N; i++) {
              double d = fabs(y[i] - want[i]);
              if (d > e) e = d;
            }
            if (!(e <= 1e-6 * (double)(K + 1))) {
              fprintf(stderr, "  Gemm M=%lld N=%lld K=%lld tb=%d c=%d act=%d mk=%s threads=%d: err %g\n",
                      (long long)M, (long long)N, (long long)K, tb, cshape, act.kind, mks[t]->isa,
                      p + 1, e);
              *er_failed_ = 1;
            }
            /* same table: identical bits with 1 and 2 threads */
            if (p == 0) {
              free(first);
              first = (float *)Y.data;
            } else {
              CHECK(memcmp(first, Y.data, sizeof(float) * (size_t)(M * N)) == 0);
              free(Y.data);
            }
          }
        free(first);
        free(want);
        ot_free_all();
      }
  }
  er_threadpool_destroy(pool2);
}

TEST(mk_gemm_op_matmul_packed_batched_threads) {
  const er_microkernels *mks[2] = {er_microkernels_ref(), opt_table()};
  er_threadpool *pool2 = NULL;
  CHECK_OK(er_threadpool_create(2, &pool2));
  /* a dims, b dims (rank 2 = packable constant weights; batched = broadcast path) */
  static const int64_t cases[][2][4] = {
      {{2, 3, 50, 70}, {70, 130}},    /* tall product, packed B */
      {{1, 1, 1, 300}, {300, 20}},    /* M = 1 */
      {{4, 1, 9, 17}, {3, 17, 33}},   /* broadcast batch dims */
      {{64, 100}, {5, 100, 64}},      /* A broadcast over B's batch */
      {{1, 1, 3, 200}, {200, 1}},     /* N = 1 */
  };
  static const int ranks[][2] = {{4, 2}, {4, 2}, {4, 3}, {2, 3}, {4, 2}};
  for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
    int ra = ranks[ci][0], rb = ranks[ci][1];
    er_tensor *A = ot_tensor(ER_F32, ra, cases[ci][0], NULL), *B = ot_tensor(ER_F32, rb, cases[ci][1], NULL);
    for (int64_t i = 0; i < er_tensor_numel(A); i++) ((float *)A->data)[i] = frand();
    for (int64_t i = 0; i < er_tensor_numel(B); i++) ((float *)B->data)[i] = frand();
    er_act act = k_acts[(ci * 3 + 1) % N_ACTS];
    er_attr at[] = {ot_int("_act", act.kind), ot_float("_act_a", act.a), ot_float("_act_b", act.b)};
    /* expected: the reference op without fused activation, then the activation */
    er_tensor *Yr[1];
    CHECK_OK(ot_run("MatMul", 13, NULL, 0, (er_tensor *[]){A, B}, 2, Yr, 1));
    int64_t n = er_tensor_numel(Yr[0]), K = cases[ci][1][rb - 2];
    float *want = (float *)Yr[0]->data;
    er_f32_apply_act(want, n, act);
    float *first = NULL;
    for (int t = 0; t < 2; t++)
      for (int p = 0; p < 2; p++) {
        if (!mks[t]) continue;
        er_tensor Y = {0};
        CHECK_OK(run_op("MatMul", at, 3, (er_tensor *[]){A, B}, 2, &Y, mks[t], p ? pool2 : NULL));
        CHECK(Y.rank == Yr[0]->rank && er_tensor_numel(&Y) == n);
        double e = max_err((const float *)Y.data, want, 1, n, n, K);
        if (!(e <= TOL)) {
          fprintf(stderr, "  MatMul case %zu mk=%s threads=%d: err %g\n", ci, mks[t]->isa, p + 1, e);
          *er_failed_ = 1;
        }
        if (p == 0) {
          free(first);
          first = (float *)Y.data;
        } else {
          CHECK(memcmp(first, Y.data, sizeof(float) * (size_t)n) == 0);
          free(Y.data);
        }
      }
    free(first);
    ot_free_all();
  }
  er_threadpool_destroy(pool2);
}

TEST(mk_gemm_op_bad_act) {
  int64_t d[2] = {2, 2};
  er_tensor *A = ot_tensor(ER_F32, 2, d, (float[]){1, 2, 3, 4});
  er_tensor *Ad = ot_tensor(ER_F64, 2, d, (double[]){1, 2, 3, 4});
  er_tensor *y[1];
  er_attr bad[] = {ot_int("_act", 99)}, relu[] = {ot_int("_act", ER_ACT_RELU)};
  CHECK_ERR(ot_run("Gemm", 13, bad, 1, (er_tensor *[]){A, A}, 2, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("MatMul", 13, bad, 1, (er_tensor *[]){A, A}, 2, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("MatMul", 13, relu, 1, (er_tensor *[]){Ad, Ad}, 2, y, 1), ER_UNSUPPORTED);
  /* relu fused on float: [[-1,-2],[3,4]] x [[1,2],[3,4]] = [[-7,-10],[15,22]] */
  er_tensor *An = ot_tensor(ER_F32, 2, d, (float[]){-1, -2, 3, 4});
  CHECK_OK(ot_run("MatMul", 13, relu, 1, (er_tensor *[]){An, A}, 2, y, 1));
  const float want[4] = {0, 0, 15, 22};
  CHECK(ot_max_abs_diff_f32(y[0], want, 4) == 0);
  ot_free_all();
}

/* Edges of the register tiles (AVX2 6x16, AVX-512 8x48: rows around 6, 8, 12 and columns
 * around 16, 32, 48, 96) and transformer shapes, with K blocks (K > 192) and splits. */
TEST(mk_gemm_packed_tile_edges) {
  const er_microkernels *opt = opt_table();
  if (!opt) return;
  static const int64_t ms[] = {5, 8, 9, 13, 17, 40, 128}, ns[] = {26, 47, 48, 49, 95, 97, 128, 312};
  static const int64_t ks[] = {26, 156, 400};
  int v = 0;
  for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
    for (size_t j = 0; j < sizeof ns / sizeof ns[0]; j++)
      for (size_t k = 0; k < sizeof ks / sizeof ks[0]; k++, v++)
        packed_case(er_failed_, opt, v & 1, ms[i], ns[j], ks[k], (v >> 1) & 1, k_acts[v % N_ACTS], 1);
}

/* Every test above again on the AVX-512 table (8x48 tiles over the AVX2 packed format),
 * when this CPU has AVX-512F. */
TEST(mk_gemm_avx512_table) {
  g_use_avx512 = 1;
  if (opt_table()) {
    test_mk_gemm_f32_gemm_all_shapes(er_failed_);
    test_mk_gemm_f32_gemm_transposes_alpha_beta(er_failed_);
    test_mk_gemm_f32_gemm_k_zero(er_failed_);
    test_mk_gemm_packed_all_shapes(er_failed_);
    test_mk_gemm_packed_tile_edges(er_failed_);
    test_mk_gemm_packed_each_activation(er_failed_);
    test_mk_gemm_packed_k_zero_and_nan(er_failed_);
    test_mk_gemm_op_gemm_packed_bias_act_threads(er_failed_);
    test_mk_gemm_op_matmul_packed_batched_threads(er_failed_);
  }
  g_use_avx512 = 0;
}
