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
      {3, {1, 128, 312}, -1, 1, 0}, {2, {7, 5}, 1, 1, 1},   {3, {2, 3, 17}, 1, 0, 1}, {2, {1200, 64}, 1, 1, 1},
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

/* ---- fused Attention op (kernels/attention.h) against a double-precision reference ---- */
/* Element (b, h, s, d) offset of a [B,H,S,D] (BHSD), [B,S,H,D] (BSHD) or, for K,
 * [B,H,D,S] (BHDS) tensor. */
static int64_t att_off(int lay, int64_t H, int64_t S, int64_t D, int64_t b, int64_t h, int64_t s,
                       int64_t d) {
  if (lay == 1) return ((b * S + s) * H + h) * D + d;
  if (lay == 2) return ((b * H + h) * D + d) * S + s;
  return ((b * H + h) * S + s) * D + d;
}
static void att_dims(int lay, int64_t B, int64_t H, int64_t S, int64_t D, int64_t *d) {
  d[0] = B;
  if (lay == 1) d[1] = S, d[2] = H, d[3] = D;
  else if (lay == 2) d[1] = H, d[2] = D, d[3] = S;
  else d[1] = H, d[2] = S, d[3] = D;
}

static void att_reference(const int *lay, int64_t B, int64_t H, int64_t Sq, int64_t Sk, int64_t Dk,
                          int64_t Dv, float scale, const float *q, const float *k, const float *v,
                          const er_tensor *mask, double *out) {
  int64_t sd[4] = {B, H, Sq, Sk}, ms[4] = {0, 0, 0, 0};
  if (mask) er_broadcast_strides(mask, 4, sd, ms);
  double *p = (double *)malloc(sizeof(double) * (size_t)(Sk > 0 ? Sk : 1));
  for (int64_t b = 0; b < B; b++)
    for (int64_t h = 0; h < H; h++)
      for (int64_t i = 0; i < Sq; i++) {
        double mx = -INFINITY, sum = 0;
        for (int64_t j = 0; j < Sk; j++) {
          double s = 0;
          for (int64_t d = 0; d < Dk; d++)
            s += (double)q[att_off(lay[0], H, Sq, Dk, b, h, i, d)] * k[att_off(lay[1], H, Sk, Dk, b, h, j, d)];
          s *= scale;
          if (mask) s += ((const float *)mask->data)[b * ms[0] + h * ms[1] + i * ms[2] + j * ms[3]];
          p[j] = s;
          if (s > mx) mx = s;
        }
        for (int64_t j = 0; j < Sk; j++) sum += (p[j] = exp(p[j] - mx));
        for (int64_t d = 0; d < Dv; d++) {
          double acc = 0;
          for (int64_t j = 0; j < Sk; j++) acc += p[j] / sum * v[att_off(lay[2], H, Sk, Dv, b, h, j, d)];
          out[att_off(lay[3], H, Sq, Dv, b, h, i, d)] = acc;
        }
      }
  free(p);
}

TEST(xf_attention_op_layouts_masks_threads) {
  er_threadpool *pool2 = NULL;
  CHECK_OK(er_threadpool_create(2, &pool2));
  const er_microkernels *tabs[4];
  int nt = xf_tables(tabs);
  struct { int64_t B, H, Sq, Sk, Dk, Dv; } shapes[] = {
      {1, 12, 128, 128, 26, 26}, {2, 3, 5, 7, 4, 6}, {1, 1, 1, 1, 1, 1}, {2, 2, 37, 130, 64, 3},
      {1, 4, 130, 9, 17, 33},    {1, 2, 200, 200, 8, 8},
  };
  int lays[][4] = {{1, 1, 1, 1}, {0, 0, 0, 0}, {0, 2, 0, 1}, {1, 0, 1, 0}, {1, 2, 0, 0}};
  for (int ti = 0; ti < nt; ti++)
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
      for (size_t li = 0; li < sizeof lays / sizeof lays[0]; li++)
        for (int mk = 0; mk < 4; mk++) {
          const int *lay = lays[li];
          int64_t B = shapes[si].B, H = shapes[si].H, Sq = shapes[si].Sq, Sk = shapes[si].Sk;
          int64_t Dk = shapes[si].Dk, Dv = shapes[si].Dv, dq[4], dk[4], dv[4];
          att_dims(lay[0], B, H, Sq, Dk, dq);
          att_dims(lay[1], B, H, Sk, Dk, dk);
          att_dims(lay[2], B, H, Sk, Dv, dv);
          er_tensor *in[4] = {rand_t(4, dq, 2.0f), rand_t(4, dk, 2.0f), rand_t(4, dv, 1.0f), NULL};
          /* masks: none, [Sk], [B,1,1,Sk] with -inf-like entries, full [B,H,Sq,Sk] */
          int64_t m1[1] = {Sk}, m2[4] = {B, 1, 1, Sk}, m3[4] = {B, H, Sq, Sk};
          if (mk == 1) in[3] = rand_t(1, m1, 3.0f);
          if (mk == 2) {
            in[3] = rand_t(4, m2, 1.0f);
            float *mp = (float *)in[3]->data;
            for (int64_t j = 0; j < B * Sk; j++) mp[j] = (j % 3 == 2) ? -10000.0f : 0.0f;
          }
          if (mk == 3) in[3] = rand_t(4, m3, 2.0f);
          int64_t lay64[4] = {lay[0], lay[1], lay[2], lay[3]};
          float scale = 1.0f / sqrtf((float)Dk);
          er_attr at[] = {ot_ints("layouts", 4, lay64), ot_float("scale", scale)};
          er_tensor *o1[1], *o2[1];
          int nin = in[3] ? 4 : 3;
          CHECK_OK(ot_run_ex("edgerun", "Attention", 1, at, 2, in, nin, o1, 1, tabs[ti], NULL));
          CHECK_OK(ot_run_ex("edgerun", "Attention", 1, at, 2, in, nin, o2, 1, tabs[ti], pool2));
          int64_t n = B * H * Sq * Dv;
          double *ref = (double *)malloc(sizeof(double) * (size_t)n);
          att_reference(lay, B, H, Sq, Sk, Dk, Dv, scale, in[0]->data, in[1]->data, in[2]->data,
                        in[3], ref);
          const float *y = (const float *)o1[0]->data;
          double worst = 0;
          for (int64_t i = 0; i < n; i++) {
            double e = fabs(y[i] - ref[i]) / (1e-5 + 1e-5 * fabs(ref[i]));
            if (!(e <= worst)) worst = e;
          }
          if (!(worst <= 1))
            fprintf(stderr, "  %s attention shape %zu layouts %zu mask %d: err %g\n", tabs[ti]->isa,
                    si, li, mk, worst);
          CHECK(worst <= 1);
          CHECK(memcmp(o1[0]->data, o2[0]->data, sizeof(float) * (size_t)n) == 0);
          free(ref);
          ot_free_all();
        }
  er_threadpool_destroy(pool2);
}

/* Rank 3 ([B*H, S, D]) is the 4-D op with a batch of 1 left out. */
TEST(xf_attention_op_rank3) {
  int64_t dq[3] = {4, 9, 5}, dk[3] = {4, 11, 5}, dv[3] = {4, 11, 6};
  er_tensor *q = rand_t(3, dq, 2.0f), *k = rand_t(3, dk, 2.0f), *v = rand_t(3, dv, 1.0f);
  int64_t lay[4] = {0, 0, 0, 0};
  er_attr at[] = {ot_ints("layouts", 4, lay), ot_float("scale", 0.4f)};
  er_tensor *in[3] = {q, k, v}, *y[1];
  CHECK_OK(ot_run_ex("edgerun", "Attention", 1, at, 2, in, 3, y, 1, er_microkernels_ref(), NULL));
  CHECK(y[0]->rank == 3 && y[0]->dims[0] == 4 && y[0]->dims[1] == 9 && y[0]->dims[2] == 6);
  double *ref = (double *)malloc(sizeof(double) * 4 * 9 * 6);
  int lays[4] = {0, 0, 0, 0};
  att_reference(lays, 1, 4, 9, 11, 5, 6, 0.4f, q->data, k->data, v->data, NULL, ref);
  double worst = 0;
  for (int i = 0; i < 4 * 9 * 6; i++) worst = fmax(worst, fabs(((float *)y[0]->data)[i] - ref[i]));
  CHECK(worst < 1e-5);
  free(ref);
  ot_free_all();
}

TEST(xf_attention_op_errors) {
  int64_t d[4] = {1, 2, 3, 4}, dv[4] = {1, 2, 5, 4}, dm[2] = {2, 2};
  er_tensor *q = ot_tensor(ER_F32, 4, d, NULL), *v = ot_tensor(ER_F32, 4, dv, NULL);
  er_tensor *m = ot_tensor(ER_F32, 2, dm, NULL);
  int64_t good[4] = {0, 0, 0, 0}, bad[4] = {0, 2, 0, 0}, three[3] = {0, 0, 0};
  er_attr at_good[] = {ot_ints("layouts", 4, good)}, at_bad[] = {ot_ints("layouts", 4, bad)};
  er_attr at_three[] = {ot_ints("layouts", 3, three)};
  er_tensor *y[1];
  er_tensor *ok_in[3] = {q, q, q};
  CHECK_OK(ot_run_domain("edgerun", "Attention", 1, at_good, 1, ok_in, 3, y, 1));
  CHECK_ERR(ot_run_domain("edgerun", "Attention", 1, at_bad, 1, ok_in, 3, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run_domain("edgerun", "Attention", 1, at_three, 1, ok_in, 3, y, 1), ER_INVALID_ARGUMENT);
  er_tensor *mism[3] = {q, q, v}; /* V has Sk = 5, K has 3 */
  CHECK_ERR(ot_run_domain("edgerun", "Attention", 1, at_good, 1, mism, 3, y, 1), ER_INVALID_ARGUMENT);
  er_tensor *masked[4] = {q, q, q, m}; /* [2,2] does not broadcast to [1,2,3,3] */
  CHECK_ERR(ot_run_domain("edgerun", "Attention", 1, at_good, 1, masked, 4, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

/* MatMul with the internal _bias input (from src/opt/matmul_add.c) equals MatMul + bias with
 * the fused activation applied after the bias: packed constant B, batched B, threads. */
TEST(xf_matmul_bias_input) {
  er_threadpool *pool2 = NULL;
  CHECK_OK(er_threadpool_create(2, &pool2));
  const er_microkernels *tabs[4];
  int nt = xf_tables(tabs);
  struct { int ra; int64_t a[3]; int rb; int64_t b[3]; } cases[] = {
      {3, {1, 128, 312}, 2, {312, 100}}, {3, {2, 7, 5}, 2, {5, 9}}, {1, {33}, 2, {33, 17}},
      {3, {3, 4, 6}, 3, {3, 6, 5}},      {2, {64, 40}, 2, {40, 70}},
  };
  for (int ti = 0; ti < nt; ti++)
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
      for (int act = 0; act < 2; act++) {
        er_tensor *a = rand_t(cases[k].ra, cases[k].a, 1.0f), *b = rand_t(cases[k].rb, cases[k].b, 1.0f);
        int64_t N = cases[k].b[cases[k].rb - 1];
        er_tensor *bias = rand_t(1, &N, 1.0f);
        er_attr at[] = {ot_int("_bias", 1), ot_int("_act", act ? ER_ACT_GELU : ER_ACT_NONE)};
        er_tensor *in3[3] = {a, b, bias}, *in2[2] = {a, b}, *y1[1], *y2[1], *p[1];
        CHECK_OK(ot_run_ex("", "MatMul", 13, at, 2, in3, 3, y1, 1, tabs[ti], NULL));
        CHECK_OK(ot_run_ex("", "MatMul", 13, at, 2, in3, 3, y2, 1, tabs[ti], pool2));
        CHECK_OK(ot_run_ex("", "MatMul", 13, NULL, 0, in2, 2, p, 1, tabs[ti], NULL));
        int64_t n = er_tensor_numel(p[0]);
        float *ref = (float *)p[0]->data;
        for (int64_t i = 0; i < n; i++) {
          ref[i] += ((const float *)bias->data)[i % N];
          if (act) ref[i] = 0.5f * ref[i] * (1.0f + erff(ref[i] * 0.70710678f));
        }
        double e = rel_err(y1[0]->data, ref, n, 1e-5, 1e-5);
        if (!(e <= 1)) fprintf(stderr, "  %s MatMul _bias case %zu act %d: err %g\n", tabs[ti]->isa, k, act, e);
        CHECK(e <= 1);
        CHECK(memcmp(y1[0]->data, y2[0]->data, sizeof(float) * (size_t)n) == 0);
        /* a third input without _bias is an error */
        CHECK_ERR(ot_run_ex("", "MatMul", 13, NULL, 0, in3, 3, y1, 1, tabs[ti], NULL), ER_INVALID_MODEL);
        ot_free_all();
      }
  er_threadpool_destroy(pool2);
}

/* ---- Transpose fast paths (shape_transpose.c) against the generic table copy ---- */
extern int er_transpose_fast_disabled;

static void next_perm(int *p, int n, int k) { /* k-th permutation of n items (k < n!) */
  int items[8];
  for (int i = 0; i < n; i++) items[i] = i;
  for (int i = 0; i < n; i++) {
    int f = 1;
    for (int j = 2; j < n - i; j++) f *= j;
    int q = k / f;
    k %= f;
    p[i] = items[q];
    for (int j = q; j < n - i - 1; j++) items[j] = items[j + 1];
  }
}

TEST(xf_transpose_fast_vs_generic) {
  er_threadpool *pool2 = NULL;
  CHECK_OK(er_threadpool_create(2, &pool2));
  const er_microkernels *tabs[4];
  int nt = xf_tables(tabs);
  const int dts[] = {ER_F32, ER_U8, ER_F16, ER_I64, ER_I8, ER_BOOL};
  struct { int rank; int64_t d[5]; int all; int perm[5]; } cases[] = {
      {4, {2, 3, 5, 7}, 1, {0}},          {3, {9, 13, 11}, 1, {0}},
      {4, {1, 32, 56, 56}, 0, {0, 2, 3, 1}}, {4, {1, 56, 56, 32}, 0, {0, 3, 1, 2}},
      {4, {1, 128, 12, 26}, 0, {0, 2, 1, 3}}, {4, {1, 12, 128, 26}, 0, {0, 2, 1, 3}},
      {4, {1, 128, 12, 26}, 0, {0, 2, 3, 1}}, {2, {17, 33}, 0, {1, 0}},
      {2, {1000, 3}, 0, {1, 0}},           {5, {5, 1, 3, 1, 7}, 1, {0}},
      {4, {2, 1, 1, 9}, 1, {0}},           {3, {1, 1, 1}, 1, {0}},
      {4, {3, 70, 9, 130}, 0, {0, 3, 1, 2}}, {3, {2, 300, 260}, 0, {0, 2, 1}},
  };
  for (int ti = 0; ti < nt; ti++)
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
      for (size_t di = 0; di < sizeof dts / sizeof dts[0]; di++) {
        int r = cases[k].rank, nperm = 1;
        if (cases[k].all)
          for (int i = 2; i <= r; i++) nperm *= i;
        er_tensor *x = ot_tensor(dts[di], r, cases[k].d, NULL);
        size_t nb = er_tensor_nbytes(x);
        uint8_t *xb = (uint8_t *)x->data;
        for (size_t i = 0; i < nb; i++) xb[i] = (uint8_t)(i * 131u + (i >> 8) * 7u);
        if (dts[di] == ER_BOOL)
          for (size_t i = 0; i < nb; i++) xb[i] &= 1;
        for (int pi = 0; pi < nperm; pi++) {
          int perm[5];
          if (cases[k].all) next_perm(perm, r, pi);
          else memcpy(perm, cases[k].perm, sizeof perm);
          int64_t p64[5];
          for (int i = 0; i < r; i++) p64[i] = perm[i];
          er_attr at[] = {ot_ints("perm", r, p64)};
          er_tensor *slow[1], *f1[1], *f2[1];
          er_transpose_fast_disabled = 1;
          CHECK_OK(ot_run_ex("", "Transpose", 13, at, 1, &x, 1, slow, 1, tabs[ti], NULL));
          er_transpose_fast_disabled = 0;
          CHECK_OK(ot_run_ex("", "Transpose", 13, at, 1, &x, 1, f1, 1, tabs[ti], NULL));
          CHECK_OK(ot_run_ex("", "Transpose", 13, at, 1, &x, 1, f2, 1, tabs[ti], pool2));
          int same = !memcmp(f1[0]->data, slow[0]->data, nb) && !memcmp(f2[0]->data, slow[0]->data, nb);
          if (!same)
            fprintf(stderr, "  %s transpose case %zu dtype %d perm #%d differs\n", tabs[ti]->isa, k,
                    dts[di], pi);
          CHECK(same);
        }
        ot_free_all();
      }
  er_threadpool_destroy(pool2);
}

TEST(xf_x32_transpose_table) {
  const er_microkernels *tabs[4];
  int nt = xf_tables(tabs);
  const int64_t sizes[] = {0, 1, 3, 7, 8, 9, 15, 16, 17, 33, 64, 100};
  for (int ti = 0; ti < nt; ti++)
    for (size_t a = 0; a < sizeof sizes / sizeof sizes[0]; a++)
      for (size_t b = 0; b < sizeof sizes / sizeof sizes[0]; b++) {
        int64_t R = sizes[a], C = sizes[b], lds = C + 3, ldd = R + 5;
        uint32_t *s = (uint32_t *)malloc(sizeof(uint32_t) * (size_t)(R * lds + 1));
        uint32_t *d = (uint32_t *)malloc(sizeof(uint32_t) * (size_t)(C * ldd + 1));
        for (int64_t i = 0; i < R * lds; i++) s[i] = (uint32_t)(i * 2654435761u); /* NaN patterns too */
        for (int64_t i = 0; i < C * ldd; i++) d[i] = 0xdeadbeefu;
        tabs[ti]->x32_transpose(s, lds, d, ldd, R, C);
        int ok = 1;
        for (int64_t c = 0; c < C; c++)
          for (int64_t r = 0; r < ldd; r++)
            ok &= d[c * ldd + r] == (r < R ? s[r * lds + c] : 0xdeadbeefu);
        if (!ok) fprintf(stderr, "  %s x32_transpose %lldx%lld wrong\n", tabs[ti]->isa, (long long)R, (long long)C);
        CHECK(ok);
        free(s), free(d);
      }
}

/* Batched MatMul with a non-constant B (units of batch x row blocks over threads): 1 vs 2
 * threads bit-identical, and close to the reference table's product. */
TEST(xf_matmul_batched_threads) {
  er_threadpool *pool2 = NULL;
  CHECK_OK(er_threadpool_create(2, &pool2));
  const er_microkernels *tabs[4];
  int nt = xf_tables(tabs);
  struct { int r; int64_t a[4], b[4]; } cases[] = {
      {3, {3, 37, 20}, {3, 20, 45}},        {3, {2, 130, 64}, {2, 64, 130}},
      {4, {1, 12, 128, 26}, {1, 12, 26, 128}}, {4, {1, 12, 128, 128}, {1, 12, 128, 26}},
      {3, {2, 25, 300}, {2, 300, 33}},      {3, {3, 49, 8}, {1, 8, 70}},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    er_tensor *a = rand_t(cases[k].r, cases[k].a, 1.0f), *b = rand_t(cases[k].r, cases[k].b, 1.0f);
    er_tensor *in[2] = {a, b}, *ref[1];
    CHECK_OK(ot_run_ex("", "MatMul", 13, NULL, 0, in, 2, ref, 1, er_microkernels_ref(), NULL));
    int64_t n = er_tensor_numel(ref[0]);
    for (int ti = 0; ti < nt; ti++) {
      er_tensor *y1[1], *y2[1];
      CHECK_OK(ot_run_ex("", "MatMul", 13, NULL, 0, in, 2, y1, 1, tabs[ti], NULL));
      CHECK_OK(ot_run_ex("", "MatMul", 13, NULL, 0, in, 2, y2, 1, tabs[ti], pool2));
      double e = rel_err(y1[0]->data, ref[0]->data, n, 1e-4, 1e-5);
      if (!(e <= 1)) fprintf(stderr, "  %s batched MatMul case %zu: err %g\n", tabs[ti]->isa, k, e);
      CHECK(e <= 1);
      CHECK(memcmp(y1[0]->data, y2[0]->data, sizeof(float) * (size_t)n) == 0);
    }
    ot_free_all();
  }
  er_threadpool_destroy(pool2);
}
