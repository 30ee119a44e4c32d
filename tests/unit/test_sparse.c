/* Sparse float32 weights (kernels/sparse.h): the format, the micro-kernels of the reference
 * table and this CPU's, and the driver (transposed 32-row tiles, one-row gathers, thread
 * split) against a double-precision product on many shapes (K, N around the vector and
 * tile widths, M from 1 to several tiles, strided A and C) and sparsity levels (0, 50, 70,
 * 95, 100 %), with bias and activations; 1 and 2 threads give the same bits. Then the ops
 * that use it (Gemm, MatMul, NhwcConv 1x1) with `_sparse` = 1 against `_sparse` = 0. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/threads.h"
#include "kernels/nhwc.h"
#include "kernels/sparse.h"
#include "optest.h"
#include "test.h"
#include "xf_util.h"

static uint32_t g_seed = 4242;
static float frand(void) { /* uniform in [-1, 1) */
  g_seed = g_seed * 1664525u + 1013904223u;
  return (float)((double)(g_seed >> 8) / (double)(1u << 23) - 1.0);
}

/* K x N weights, about `zeros` of them 0 (exactly all for zeros >= 1). */
static float *sparse_weights(int64_t K, int64_t N, double zeros) {
  float *w = malloc(sizeof(float) * (size_t)(K * N + 1));
  for (int64_t i = 0; i < K * N; i++) {
    const float u = 0.5f * (frand() + 1.0f);
    w[i] = (double)u < zeros ? 0.0f : frand();
  }
  return w;
}

static void *spw_build(int64_t K, int64_t N, const float *w, int64_t sn, int64_t sk) {
  const int64_t nnz = er_spw_count(K, N, w, sn, sk);
  const size_t b = er_spw_bytes(K, N, nnz);
  if (!b) return NULL;
  void *p = aligned_alloc(64, (b + 63) / 64 * 64);
  er_spw_pack(K, N, w, sn, sk, p);
  return p;
}

/* C (M x N, ldc) against double; rows past M and columns past N untouched. */
static int check_product(const char *what, int64_t M, int64_t K, int64_t N, const float *A, int64_t lda,
                         const float *W, const float *bias, er_act act, const float *C, int64_t ldc) {
  int ok = 1;
  for (int64_t m = 0; m < M && ok; m++)
    for (int64_t n = 0; n < ldc && ok; n++) {
      if (n >= N) {
        ok &= C[m * ldc + n] == 777.0f;
        continue;
      }
      double s = bias ? bias[n] : 0, mag = fabs(s);
      for (int64_t k = 0; k < K; k++) s += (double)A[m * lda + k] * W[k * N + n], mag += fabs((double)A[m * lda + k] * W[k * N + n]);
      if (act.kind == ER_ACT_RELU) s = s > 0 ? s : 0;
      if (act.kind == ER_ACT_SIGMOID) s = 1.0 / (1.0 + exp(-s)), mag = 1;
      if (act.kind == ER_ACT_CLIP) s = s < act.a ? act.a : s > act.b ? act.b : s;
      if (!(fabs(C[m * ldc + n] - s) <= 2e-6 * mag + 1e-6 * (act.kind == ER_ACT_SIGMOID))) {
        fprintf(stderr, "  %s M=%lld K=%lld N=%lld: C[%lld][%lld] = %.9g, expected %.9g\n", what, (long long)M,
                (long long)K, (long long)N, (long long)m, (long long)n, C[m * ldc + n], s);
        ok = 0;
      }
    }
  return ok;
}

static int run_gemm(const er_microkernels *mk, er_threadpool *pool, int64_t M, const float *A, int64_t lda,
                    const er_spw *w, const float *bias, er_act act, float *C, int64_t ldc) {
  er_kctx c;
  memset(&c, 0, sizeof c);
  c.mk = mk;
  c.threads = pool;
  const size_t sb = er_spw_scratch_bytes(M, w->K, w->N, er_threadpool_size(pool));
  void *scratch = sb ? malloc(sb) : NULL;
  er_status s = er_spw_gemm(&c, M, A, lda, w, bias, act, C, ldc, scratch, sb);
  free(scratch);
  if (s) fprintf(stderr, "  er_spw_gemm: %s\n", er_status_message(s)), er_status_free(s);
  return s == NULL;
}

static int check_case(const er_microkernels *mk, er_threadpool *pool, int64_t M, int64_t K, int64_t N, double zeros,
                      int variant) {
  float *W = sparse_weights(K, N, zeros);
  const int64_t lda = K + (variant & 1) * 3, ldc = N + (variant & 2 ? 5 : 0);
  float *A = malloc(sizeof(float) * (size_t)(M * lda + 1)), *bias = malloc(sizeof(float) * (size_t)(N + 1));
  float *C1 = malloc(sizeof(float) * (size_t)(M * ldc + 1)), *C2 = malloc(sizeof(float) * (size_t)(M * ldc + 1));
  for (int64_t i = 0; i < M * lda; i++) A[i] = frand();
  for (int64_t i = 0; i < N; i++) bias[i] = frand();
  for (int64_t i = 0; i < M * ldc; i++) C1[i] = C2[i] = 777.0f;
  static const int kinds[4] = {ER_ACT_NONE, ER_ACT_RELU, ER_ACT_SIGMOID, ER_ACT_CLIP};
  const er_act act = {kinds[(variant / 3) % 4], -0.5f, 0.75f};
  const float *b = variant & 4 ? NULL : bias;
  /* weights stored transposed (N x K, as Gemm transB / conv weights) half of the time */
  float *Wt = malloc(sizeof(float) * (size_t)(K * N + 1));
  for (int64_t k = 0; k < K; k++)
    for (int64_t n = 0; n < N; n++) Wt[n * K + k] = W[k * N + n];
  void *w = variant & 8 ? spw_build(K, N, Wt, K, 1) : spw_build(K, N, W, 1, N);
  int ok = w != NULL;
  char what[64];
  snprintf(what, sizeof what, "%s zeros %.2f variant %d", mk->isa, zeros, variant);
  if (ok) ok = run_gemm(mk, NULL, M, A, lda, w, b, act, C1, ldc) && run_gemm(mk, pool, M, A, lda, w, b, act, C2, ldc);
  if (ok) ok = check_product(what, M, K, N, A, lda, W, b, act, C1, ldc);
  if (ok && memcmp(C1, C2, sizeof(float) * (size_t)(M * ldc))) {
    fprintf(stderr, "  %s M=%lld K=%lld N=%lld: 1 and 2 threads differ\n", what, (long long)M, (long long)K, (long long)N);
    ok = 0;
  }
  free(W), free(Wt), free(A), free(bias), free(C1), free(C2), free(w);
  return ok;
}

TEST(sparse_format) {
  /* 3 x 4: per column its nonzeros in increasing k, runs padded to 4 with the last k, value 0 */
  const float W[12] = {0, 1, 0, 2, /* k=0 */ 0, 0, 0, 3, /* k=1 */ 4, 0, 0, 5};
  er_spw *w = spw_build(3, 4, W, 1, 4);
  CHECK(w && w->K == 3 && w->N == 4 && w->nnz == 5 && w->nkb == 1);
  if (w) {
    CHECK(w->ptr[0] == 0 && w->ptr[1] == 4 && w->ptr[2] == 8 && w->ptr[3] == 8 && w->ptr[4] == 12);
    const uint16_t *i = er_spw_idx(w);
    const float *v = er_spw_val(w);
    static const uint16_t ei[12] = {2, 2, 2, 2, 0, 0, 0, 0, 0, 1, 2, 2}; /* column 2 has none */
    static const float ev[12] = {4, 0, 0, 0, 1, 0, 0, 0, 2, 3, 5, 0};
    CHECK(memcmp(i, ei, sizeof ei) == 0 && memcmp(v, ev, sizeof ev) == 0);
    CHECK(((uintptr_t)v & 63) == 0 && ((uintptr_t)i & 63) == 0);
  }
  free(w);
  /* K > 256: blocks of 256 rows */
  float *W2 = sparse_weights(600, 3, 0.5);
  w = spw_build(600, 3, W2, 1, 3);
  CHECK(w && w->nkb == 3);
  if (w) {
    const uint16_t *i = er_spw_idx(w);
    int ok = 1;
    for (int b = 0; b < 3; b++)
      for (int n = 0; n < 3; n++)
        for (int32_t j = w->ptr[b * 3 + n]; j < w->ptr[b * 3 + n + 1]; j++) ok &= i[j] / 256 == b;
    CHECK(ok && w->ptr[9] % 4 == 0);
  }
  free(w), free(W2);
  CHECK(er_spw_bytes(65536, 4, 10) == 0 && er_spw_bytes(65535, 4, 10) > 0 && er_spw_bytes(0, 4, 0) == 0);
  /* the rule: mode 0 never, mode 1 whenever storable, auto needs >= 70 % zeros */
  CHECK(!er_spw_choose(64, 256, 256, 256 * 256 / 100, 0));
  CHECK(er_spw_choose(64, 256, 256, 256 * 256, 1));
  CHECK(!er_spw_choose(64, 70000, 256, 100, 1));
  CHECK(!er_spw_choose(64, 256, 256, 256 * 256 / 2, -1));
  CHECK(er_spw_choose(64, 256, 256, 256 * 256 / 20, -1)); /* 95 % zeros, 64 rows: sparse */
  CHECK(!er_spw_choose(0, 256, 256, 1, 1));
  /* one row: small weights (cache-resident) stay dense, a big classifier goes sparse */
  CHECK(!er_spw_choose(1, 64, 256, 64 * 256 / 10, -1));
  CHECK(er_spw_choose(1, 1280, 1000, 1280 * 100, -1));
}

TEST(sparse_kernels_match_double) {
  const er_microkernels *tabs[4];
  const int nt = xf_tables(tabs);
  er_threadpool *pool = NULL;
  CHECK_OK(er_threadpool_create(2, &pool));
  static const int64_t Ms[] = {1, 2, 7, 8, 31, 32, 33, 70, 129};
  static const int64_t KNs[][2] = {{1, 1}, {3, 5}, {8, 16}, {17, 33}, {64, 64}, {40, 130}, {300, 20}, {129, 257}, {600, 9}};
  static const double Zs[] = {0.0, 0.5, 0.7, 0.95, 1.0};
  int v = 0;
  for (int t = 0; t < nt; t++)
    for (unsigned i = 0; i < sizeof Ms / sizeof Ms[0]; i++)
      for (unsigned k = 0; k < sizeof KNs / sizeof KNs[0]; k++)
        for (unsigned z = 0; z < sizeof Zs / sizeof Zs[0]; z++, v++)
          CHECK(check_case(tabs[t], pool, Ms[i], KNs[k][0], KNs[k][1], Zs[z], v % 16));
  /* big enough for the threads to split rows and columns */
  for (int t = 0; t < nt; t++) {
    CHECK(check_case(tabs[t], pool, 200, 512, 300, 0.9, 3));
    CHECK(check_case(tabs[t], pool, 5, 1000, 700, 0.7, 8));
    CHECK(check_case(tabs[t], pool, 1, 2000, 900, 0.9, 5)); /* one row, columns split */
    CHECK(check_case(tabs[t], pool, 2, 700, 900, 0.7, 10));
  }
  er_threadpool_destroy(pool);
}

/* Column sub-ranges of the micro-kernels alone (n0 > 0), against the reference table. */
TEST(sparse_microkernels_ranges) {
  const er_microkernels *tabs[4], *ref = er_microkernels_ref();
  const int nt = xf_tables(tabs);
  const int64_t K = 77, N = 45;
  float *W = sparse_weights(K, N, 0.8), *At = malloc(sizeof(float) * K * 32), *x = malloc(sizeof(float) * K);
  float bias[45], c1[45 * 32], c2[45 * 32], y1[45], y2[45];
  for (int64_t i = 0; i < K * 32; i++) At[i] = frand();
  for (int64_t i = 0; i < K; i++) x[i] = frand();
  for (int i = 0; i < N; i++) bias[i] = frand();
  er_spw *w = spw_build(K, N, W, 1, N);
  const uint16_t *idx = er_spw_idx(w);
  const float *val = er_spw_val(w);
  for (int t = 1; t < nt; t++) {
    const er_microkernels *mk = tabs[t];
    for (int64_t n0 = 0; n0 < N; n0 += 7) {
      const int64_t n1 = n0 + 11 < N ? n0 + 11 : N, nc = n1 - n0;
      const int acc = n0 % 3 == 2;
      for (int64_t i = 0; i < nc * 32; i++) c1[i] = c2[i] = 0.25f * (float)(i % 7);
      const er_act act = {n0 % 2 ? ER_ACT_RELU : n0 % 3 ? ER_ACT_CLIP : ER_ACT_HARDSWISH, -0.5f, 0.5f};
      mk->f32_spmm_32(At, w->ptr + n0, idx, val, nc, bias + n0, acc, act, c1);
      ref->f32_spmm_32(At, w->ptr + n0, idx, val, nc, bias + n0, acc, act, c2);
      double worst = 0;
      for (int64_t i = 0; i < nc * 32; i++) worst = fmax(worst, fabs(c1[i] - c2[i]));
      CHECK(worst < 1e-5);
      for (int64_t i = 0; i < N; i++) y1[i] = y2[i] = 777.0f;
      mk->f32_spmv(x, w->ptr + n0, idx, val, nc, n0 & 1 ? bias + n0 : NULL, acc, y1 + n0);
      ref->f32_spmv(x, w->ptr + n0, idx, val, nc, n0 & 1 ? bias + n0 : NULL, acc, y2 + n0);
      for (int64_t i = 0; i < N; i++) CHECK(i >= n0 && i < n1 ? fabs(y1[i] - y2[i]) < 1e-5 : y1[i] == 777.0f);
    }
  }
  free(W), free(At), free(x), free(w);
}

/* ---- the ops ---------------------------------------------------------------------------
 * Each op runs with `_sparse` = 1 and = 0 on this CPU's table (prepare packs), 1 and 2
 * threads. Input column k0 is NaN and row k0 of the weights is all zeros: the dense product
 * gives NaN everywhere, the sparse one never reads it -- proof of which path ran. Elsewhere
 * the two agree within float rounding, and 1 and 2 threads give the same bits. */
typedef struct op_case {
  const char *domain, *op;
  int opset, n_in;
  er_tensor *in[3];
  er_attr attrs[4];
  int n_attrs;           /* the last attribute is _sparse */
  int64_t M, K, N;       /* rows, depth, outputs: X is [M][K] in memory */
} op_case;

static er_tensor *run_case(op_case *c, int sparse, int threads) {
  c->attrs[c->n_attrs - 1] = ot_int("_sparse", sparse);
  er_tensor *y[1] = {0};
  ot_set_threads(threads);
  er_status s = ot_run_ex(c->domain, c->op, c->opset, c->attrs, c->n_attrs, c->in, c->n_in, y, 1,
                          er_microkernels_select(), NULL);
  ot_set_threads(1);
  if (s) fprintf(stderr, "  %s: %s\n", c->op, er_status_message(s)), er_status_free(s);
  return s ? NULL : y[0];
}

/* Weights [K][N] (or [N][K] when nk) with row k0 zero, ~90 % zeros; X with column k0 NaN. */
static void fill_case(op_case *c, float *X, float *W, int nk, int64_t k0) {
  for (int64_t i = 0; i < c->M * c->K; i++) X[i] = i % c->K == k0 ? NAN : frand();
  for (int64_t k = 0; k < c->K; k++)
    for (int64_t n = 0; n < c->N; n++) {
      const float v = k == k0 || 0.5f * (frand() + 1.0f) < 0.9f ? 0.0f : frand();
      W[nk ? n * c->K + k : k * c->N + n] = v;
    }
}

static void check_case_op(int *er_failed_, op_case *c) {
  int64_t act = 0; /* no fused activation here (Relu / Clip would hide the NaNs) */
  for (int i = 0; i < c->n_attrs; i++)
    if (c->attrs[i].name && !strcmp(c->attrs[i].name, "_act")) act = c->attrs[i].i, c->attrs[i].i = ER_ACT_NONE;
  er_tensor *d = run_case(c, 0, 1), *s1 = run_case(c, 1, 1), *s2 = run_case(c, 1, 2);
  for (int i = 0; i < c->n_attrs; i++)
    if (c->attrs[i].name && !strcmp(c->attrs[i].name, "_act")) c->attrs[i].i = act;
  CHECK(d && s1 && s2);
  if (!d || !s1 || !s2) return;
  const int64_t n = er_tensor_numel(d);
  const float *pd = (const float *)d->data, *p1 = (const float *)s1->data, *p2 = (const float *)s2->data;
  int nan_dense = 1, finite = 1;
  for (int64_t i = 0; i < n; i++) nan_dense &= isnan(pd[i]), finite &= isfinite(p1[i]);
  CHECK(nan_dense && finite && n == c->M * c->N);
  CHECK(memcmp(p1, p2, sizeof(float) * (size_t)n) == 0);
}

/* same op without the NaN column: sparse = dense within rounding */
static void check_case_close(int *er_failed_, op_case *c, float *X, int64_t k0) {
  for (int64_t m = 0; m < c->M; m++) X[m * c->K + k0] = 0.5f;
  memcpy(c->in[0]->data, X, sizeof(float) * (size_t)(c->M * c->K));
  er_tensor *d = run_case(c, 0, 1), *s1 = run_case(c, 1, 2);
  CHECK(d && s1);
  if (!d || !s1) return;
  double worst = 0;
  for (int64_t i = 0; i < er_tensor_numel(d); i++)
    worst = fmax(worst, fabs(((const float *)d->data)[i] - ((const float *)s1->data)[i]));
  CHECK(worst < 1e-5);
}

TEST(sparse_ops_gemm_matmul_nhwcconv) {
  for (int v = 0; v < 6; v++) {
    const int64_t M = v % 3 == 0 ? 1 : v % 3 == 1 ? 37 : 70, K = 45 + 7 * v, N = 29 + 5 * v, k0 = 3 + v;
    float *X = malloc(sizeof(float) * (size_t)(M * K)), *W = malloc(sizeof(float) * (size_t)(K * N));
    float *B = malloc(sizeof(float) * (size_t)N);
    for (int64_t i = 0; i < N; i++) B[i] = frand();
    op_case c;
    memset(&c, 0, sizeof c);
    c.M = M, c.K = K, c.N = N;
    if (v < 2) { /* Gemm, transB = v, bias C [N], Relu fused */
      fill_case(&c, X, W, v, k0);
      c.domain = "", c.op = "Gemm", c.opset = 13, c.n_in = 3;
      c.in[0] = ot_tensor(ER_F32, 2, (int64_t[]){M, K}, X);
      c.in[1] = ot_tensor(ER_F32, 2, v ? (int64_t[]){N, K} : (int64_t[]){K, N}, W);
      c.in[2] = ot_tensor(ER_F32, 1, (int64_t[]){N}, B);
      c.attrs[0] = ot_int("transB", v), c.attrs[1] = ot_int("_act", ER_ACT_RELU), c.n_attrs = 3;
    } else if (v < 4) { /* MatMul, A [M/..., K] as rank 3 when M > 1 */
      fill_case(&c, X, W, 0, k0);
      c.domain = "", c.op = "MatMul", c.opset = 13, c.n_in = 2;
      c.in[0] = M > 1 && M % 37 == 0 ? ot_tensor(ER_F32, 3, (int64_t[]){1, M, K}, X)
                                      : ot_tensor(ER_F32, 2, (int64_t[]){M, K}, X);
      c.in[1] = ot_tensor(ER_F32, 2, (int64_t[]){K, N}, W);
      c.n_attrs = 1;
    } else { /* NhwcConv 1x1: X [1, M, 1, K] channels-last, W [N, K, 1, 1], Clip fused */
      fill_case(&c, X, W, 1, k0);
      c.domain = "edgerun", c.op = "NhwcConv", c.opset = 1, c.n_in = 3;
      c.in[0] = ot_tensor(ER_F32, 4, (int64_t[]){1, M, 1, K}, X);
      c.in[1] = ot_tensor(ER_F32, 4, (int64_t[]){N, K, 1, 1}, W);
      c.in[2] = ot_tensor(ER_F32, 1, (int64_t[]){N}, B);
      c.attrs[0] = ot_int("_act", ER_ACT_CLIP), c.attrs[1] = ot_float("_act_a", -0.25f);
      c.attrs[2] = ot_float("_act_b", 0.5f), c.n_attrs = 4;
    }
    check_case_op(er_failed_, &c);
    check_case_close(er_failed_, &c, X, k0);
    free(X), free(W), free(B);
    ot_free_all();
  }
  /* a bad _sparse value is an error naming it */
  er_tensor *in[2] = {ot_tensor(ER_F32, 2, (int64_t[]){2, 3}, NULL), ot_tensor(ER_F32, 2, (int64_t[]){3, 4}, NULL)};
  er_attr bad = ot_int("_sparse", 2);
  er_tensor *y[1];
  er_status s = ot_run_ex("", "MatMul", 13, &bad, 1, in, 2, y, 1, er_microkernels_select(), NULL);
  CHECK(er_status_code(s) == ER_INVALID_ARGUMENT && strstr(er_status_message(s), "_sparse"));
  er_status_free(s);
  ot_free_all();
}
