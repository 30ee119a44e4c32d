/* Transformer kernels through their ops with a chosen micro-kernel table and thread pool:
 * Softmax / LogSoftmax (any axis, both opset conventions), LayerNormalization and the
 * transcendental elementwise ops on float32 against the generic double-precision paths,
 * and 1 vs 2 threads bit-identical. */
#include <string.h>

#include "base/cpu.h"
#include "kernels/kernel.h"
#include "kernels/vmath.h"
#include "optest.h"
#include "test.h"
#include "xf_util.h"

extern int er_softmax_f32_fast_disabled;
extern int er_layernorm_f32_fast_disabled;
extern int er_ew_f32_fast_disabled;

static uint32_t g_rng = 4242;
static float frand(void) { /* [-1, 1) */
  g_rng = g_rng * 1664525u + 1013904223u;
  return (float)((g_rng >> 8) & 0xffffff) / 8388608.0f - 1.0f;
}
static er_tensor *rand_t(int rank, const int64_t *dims, float amp) {
  er_tensor *t = ot_tensor(ER_F32, rank, dims, NULL);
  float *p = (float *)t->data;
  for (int64_t i = 0; i < er_tensor_numel(t); i++) p[i] = amp * frand();
  return t;
}

/* max |a - b| / (atol + rtol |b|) over n floats (inf on NaN mismatch) */
static double rel_err(const float *a, const float *b, int64_t n, double atol, double rtol) {
  double m = 0;
  for (int64_t i = 0; i < n; i++) {
    if (isnan(a[i]) || isnan(b[i])) {
      if (isnan(a[i]) != isnan(b[i])) return INFINITY;
      continue;
    }
    double e = fabs((double)a[i] - b[i]) / (atol + rtol * fabs((double)b[i]));
    if (e > m) m = e;
  }
  return m;
}

TEST(xf_softmax_op_fast_vs_generic) {
  er_threadpool *pool2 = NULL;
  CHECK_OK(er_threadpool_create(2, &pool2));
  const er_microkernels *tabs[4];
  int nt = xf_tables(tabs);
  struct { int rank; int64_t dims[4]; int axis; int opset; } cases[] = {
      {2, {3, 7}, -1, 13},     {2, {5, 128}, 1, 13},    {3, {2, 9, 33}, 1, 13},
      {3, {2, 9, 33}, 0, 13},  {4, {1, 12, 16, 17}, -1, 13}, {4, {2, 3, 70, 5}, 2, 13},
      {3, {2, 9, 33}, 1, 11},  {4, {2, 3, 4, 5}, 2, 11}, {1, {1000}, 0, 13},
      {2, {600, 130}, -1, 13}, {3, {4, 300, 70}, 1, 13},
  };
  for (int ti = 0; ti < nt; ti++)
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
      for (int lg = 0; lg < 2; lg++) {
        const char *op = lg ? "LogSoftmax" : "Softmax";
        er_tensor *x = rand_t(cases[k].rank, cases[k].dims, 8.0f);
        int64_t n = er_tensor_numel(x);
        er_attr at[] = {ot_int("axis", cases[k].axis)};
        er_tensor *slow[1], *f1[1], *f2[1];
        er_softmax_f32_fast_disabled = 1;
        CHECK_OK(ot_run_ex("", op, cases[k].opset, at, 1, &x, 1, slow, 1, tabs[ti], NULL));
        er_softmax_f32_fast_disabled = 0;
        CHECK_OK(ot_run_ex("", op, cases[k].opset, at, 1, &x, 1, f1, 1, tabs[ti], NULL));
        CHECK_OK(ot_run_ex("", op, cases[k].opset, at, 1, &x, 1, f2, 1, tabs[ti], pool2));
        /* the argument x - max (|.| <= 16) is rounded in float: ~16 * 2^-24 relative */
        double e = lg ? rel_err(f1[0]->data, slow[0]->data, n, 4e-6, 2e-6)
                      : rel_err(f1[0]->data, slow[0]->data, n, 1e-30, 3e-6);
        if (!(e <= 1)) fprintf(stderr, "  %s %s case %zu: err %g\n", tabs[ti]->isa, op, k, e);
        CHECK(e <= 1);
        CHECK(memcmp(f1[0]->data, f2[0]->data, sizeof(float) * (size_t)n) == 0);
        ot_free_all();
      }
  er_threadpool_destroy(pool2);
}

TEST(xf_layernorm_op_fast_vs_generic) {
  er_threadpool *pool2 = NULL;
  CHECK_OK(er_threadpool_create(2, &pool2));
  const er_microkernels *tabs[4];
  int nt = xf_tables(tabs);
  struct { int rank; int64_t dims[4]; int axis; int bias; int stats; } cases[] = {
      {3, {1, 128, 312}, -1, 1, 0}, {2, {7, 5}, 1, 1, 1},   {3, {2, 3, 17}, 1, 0, 1},
      {4, {2, 3, 4, 9}, 2, 1, 1},   {2, {300, 64}, -1, 1, 1}, {2, {1, 1}, -1, 1, 0},
  };
  for (int ti = 0; ti < nt; ti++)
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
      int r = cases[k].rank, ax = cases[k].axis < 0 ? r + cases[k].axis : cases[k].axis;
      er_tensor *x = rand_t(r, cases[k].dims, 3.0f);
      float *xp = (float *)x->data;
      for (int64_t i = 0; i < er_tensor_numel(x); i++) xp[i] += 2.0f; /* non-zero mean */
      er_tensor *s = rand_t(r - ax, cases[k].dims + ax, 1.0f);
      er_tensor *b = rand_t(r - ax, cases[k].dims + ax, 1.0f);
      er_tensor *in[3] = {x, s, b};
      int nin = cases[k].bias ? 3 : 2, nout = cases[k].stats ? 3 : 1;
      er_attr at[] = {ot_int("axis", cases[k].axis), ot_float("epsilon", 1e-5f)};
      er_tensor *slow[3], *f1[3], *f2[3];
      er_layernorm_f32_fast_disabled = 1;
      CHECK_OK(ot_run_ex("", "LayerNormalization", 17, at, 2, in, nin, slow, nout, tabs[ti], NULL));
      er_layernorm_f32_fast_disabled = 0;
      CHECK_OK(ot_run_ex("", "LayerNormalization", 17, at, 2, in, nin, f1, nout, tabs[ti], NULL));
      CHECK_OK(ot_run_ex("", "LayerNormalization", 17, at, 2, in, nin, f2, nout, tabs[ti], pool2));
      for (int o = 0; o < nout; o++) {
        int64_t n = er_tensor_numel(f1[o]);
        double e = rel_err(f1[o]->data, slow[o]->data, n, 1e-5, 1e-5);
        if (!(e <= 1)) fprintf(stderr, "  %s LayerNorm case %zu out %d: err %g\n", tabs[ti]->isa, k, o, e);
        CHECK(e <= 1);
        CHECK(memcmp(f1[o]->data, f2[o]->data, sizeof(float) * (size_t)n) == 0);
      }
      ot_free_all();
    }
  er_threadpool_destroy(pool2);
}

TEST(xf_unary_ops_tables_and_threads) {
  er_threadpool *pool2 = NULL;
  CHECK_OK(er_threadpool_create(2, &pool2));
  const er_microkernels *tabs[4];
  int nt = xf_tables(tabs);
  struct { const char *op; int opset; const char *approx; } ops[] = {
      {"Exp", 13, 0}, {"Erf", 13, 0}, {"Tanh", 13, 0}, {"Sigmoid", 13, 0},
      {"Gelu", 20, "none"}, {"Gelu", 20, "tanh"},
  };
  int64_t dims[2] = {3, 40001}; /* above the per-thread grain, odd length */
  for (int ti = 0; ti < nt; ti++)
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
      er_tensor *x = rand_t(2, dims, 9.0f);
      int64_t n = er_tensor_numel(x);
      er_attr at[1];
      int na = 0;
      if (ops[k].approx) at[na++] = ot_str("approximate", ops[k].approx);
      er_tensor *slow[1], *f1[1], *f2[1];
      er_ew_f32_fast_disabled = 1;
      CHECK_OK(ot_run_ex("", ops[k].op, ops[k].opset, at, na, &x, 1, slow, 1, tabs[ti], NULL));
      er_ew_f32_fast_disabled = 0;
      CHECK_OK(ot_run_ex("", ops[k].op, ops[k].opset, at, na, &x, 1, f1, 1, tabs[ti], NULL));
      CHECK_OK(ot_run_ex("", ops[k].op, ops[k].opset, at, na, &x, 1, f2, 1, tabs[ti], pool2));
      /* the generic Gelu computes 0.5 x (1 + erf) in double: it cancels to ~1e-16 absolute */
      double e = rel_err(f1[0]->data, slow[0]->data, n, 1e-14, 4e-6);
      if (!(e <= 1)) fprintf(stderr, "  %s %s: err %g\n", tabs[ti]->isa, ops[k].op, e);
      CHECK(e <= 1);
      CHECK(memcmp(f1[0]->data, f2[0]->data, sizeof(float) * (size_t)n) == 0);
      ot_free_all();
    }
  er_threadpool_destroy(pool2);
}
