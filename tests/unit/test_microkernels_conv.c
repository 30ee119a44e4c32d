/* The Conv op's fast path (the channels-last kernel on channels-first tensors with the best
 * table for this CPU: packed weights, threads, fused activations) vs a direct convolution
 * loop. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/threads.h"
#include "kernels/dispatch.h"
#include "optest.h"
#include "test.h"

static uint32_t mk_rng = 777;
static float mk_rand(void) { /* [-1, 1) */
  mk_rng = mk_rng * 1664525u + 1013904223u;
  return (float)((mk_rng >> 8) & 0xffff) / 32768.0f - 1.0f;
}
static void fill(float *p, int64_t n) {
  for (int64_t i = 0; i < n; i++) p[i] = mk_rand();
}

static const er_act acts[] = {{ER_ACT_NONE, 0, 0},        {ER_ACT_RELU, 0, 0},      {ER_ACT_CLIP, -0.5f, 0.75f},
                              {ER_ACT_HARDSWISH, 0, 0},   {ER_ACT_HARDSIGMOID, 0.2f, 0.5f},
                              {ER_ACT_SILU, 0, 0},        {ER_ACT_GELU, 0, 0},      {ER_ACT_SIGMOID, 0, 0},
                              {ER_ACT_TANH, 0, 0},        {ER_ACT_LEAKYRELU, 0.1f, 0}};
enum { N_ACTS = sizeof acts / sizeof acts[0] };

/* max over i of |a-b| / (1 + |b|) */
static double rel_err(const float *a, const float *b, int64_t n) {
  double m = 0;
  for (int64_t i = 0; i < n; i++) {
    double d = fabs((double)a[i] - (double)b[i]) / (1.0 + fabs((double)b[i]));
    if (isnan(a[i]) != isnan(b[i])) return INFINITY;
    if (d > m) m = d;
  }
  return m;
}

/* ---- Conv op: fast path (this CPU's table, prepared weights, threads) vs a direct loop ---- */

typedef struct cgeo {
  int nsp;
  int64_t N, C, M, group, in[3], k[3], s[3], d[3], pb[3], pe[3];
} cgeo;

static void direct_conv(const cgeo *g, const float *X, const float *W, const float *B, er_act act, float *Y,
                        int64_t *out) {
  int64_t in[3] = {1, 1, 1}, k[3] = {1, 1, 1}, s[3] = {1, 1, 1}, d[3] = {1, 1, 1}, p[3] = {0, 0, 0};
  for (int i = 0; i < g->nsp; i++) {
    int j = 3 - g->nsp + i;
    in[j] = g->in[i], k[j] = g->k[i], s[j] = g->s[i], d[j] = g->d[i], p[j] = g->pb[i];
  }
  for (int j = 0; j < 3; j++) out[j] = 1;
  for (int i = 0; i < g->nsp; i++) {
    int j = 3 - g->nsp + i;
    out[j] = (in[j] + g->pb[i] + g->pe[i] - (k[j] - 1) * d[j] - 1) / s[j] + 1;
  }
  int64_t Cg = g->C / g->group, Mg = g->M / g->group, on = out[0] * out[1] * out[2];
  for (int64_t n = 0; n < g->N; n++)
    for (int64_t m = 0; m < g->M; m++) {
      int64_t grp = m / Mg;
      for (int64_t o = 0; o < on; o++) {
        int64_t oz = o / (out[1] * out[2]), oy = (o / out[2]) % out[1], ox = o % out[2];
        double acc = B ? B[m] : 0;
        for (int64_t ci = 0; ci < Cg; ci++)
          for (int64_t a = 0; a < k[0]; a++)
            for (int64_t b = 0; b < k[1]; b++)
              for (int64_t e = 0; e < k[2]; e++) {
                int64_t iz = oz * s[0] - p[0] + a * d[0], iy = oy * s[1] - p[1] + b * d[1],
                        ix = ox * s[2] - p[2] + e * d[2];
                if (iz < 0 || iz >= in[0] || iy < 0 || iy >= in[1] || ix < 0 || ix >= in[2]) continue;
                acc += (double)W[((m * Cg + ci) * k[0] + a) * k[1] * k[2] + b * k[2] + e] *
                       X[(((n * g->C + grp * Cg + ci) * in[0] + iz) * in[1] + iy) * in[2] + ix];
              }
        Y[(n * g->M + m) * on + o] = (float)acc;
      }
      er_f32_apply_act(Y + (n * g->M + m) * on, on, act);
    }
}

/* Infer, prepare (packs W), run: what the runtime does for a static graph. */
static er_status run_conv_fast(const er_attr *at, int nat, er_tensor **in, int nin, er_tensor *y,
                               er_threadpool *pool, int *out_packed) {
  const er_op_def *op = er_op_find("", "Conv", 13);
  er_node node = {.name = "conv", .op_type = "Conv", .domain = "", .opset = 13, .n_inputs = nin,
                  .n_outputs = 1, .n_attrs = nat, .attrs = (er_attr *)at, .op = op};
  er_tensor *outs[1] = {y};
  er_kctx c = {.node = &node, .opset = 13, .n_in = nin, .n_out = 1, .in = in, .out = outs,
               .threads = pool, .mk = er_microkernels_select()};
  ER_RETURN_IF_ERROR(op->infer(&c));
  y->data = calloc(1, er_tensor_nbytes(y) + 1);
  void *state = c.state_bytes ? calloc(1, c.state_bytes) : NULL;
  c.state = state;
  er_status s = op->prepare ? op->prepare(&c) : NULL;
  *out_packed = state != NULL;
  void *scratch = c.scratch_bytes ? calloc(1, c.scratch_bytes) : NULL;
  c.scratch = scratch;
  if (!s) s = op->run(&c);
  free(scratch), free(state);
  return s;
}

static int check_conv_case(const cgeo *g, er_act act, int with_bias, er_threadpool *pool, int *packed) {
  int64_t xd[5] = {g->N, g->C}, wd[5] = {g->M, g->C / g->group}, bd[1] = {g->M};
  int64_t pads[6], one = 0;
  (void)one;
  for (int i = 0; i < g->nsp; i++) {
    xd[2 + i] = g->in[i], wd[2 + i] = g->k[i];
    pads[i] = g->pb[i], pads[g->nsp + i] = g->pe[i];
  }
  er_tensor *X = ot_tensor(ER_F32, 2 + g->nsp, xd, NULL), *W = ot_tensor(ER_F32, 2 + g->nsp, wd, NULL);
  er_tensor *B = ot_tensor(ER_F32, 1, bd, NULL);
  fill((float *)X->data, er_tensor_numel(X));
  fill((float *)W->data, er_tensor_numel(W));
  fill((float *)B->data, g->M);
  er_attr at[] = {ot_int("group", g->group), ot_ints("strides", g->nsp, g->s), ot_ints("dilations", g->nsp, g->d),
                  ot_ints("pads", 2 * g->nsp, pads), ot_int("_act", act.kind), ot_float("_act_a", act.a),
                  ot_float("_act_b", act.b)};
  er_tensor y1 = {0}, y2 = {0};
  int ok = 1;
  er_status s = run_conv_fast(at, 7, (er_tensor *[]){X, W, with_bias ? B : NULL}, 3, &y1, NULL, packed);
  if (s) {
    fprintf(stderr, "  conv failed: %s\n", er_status_message(s));
    er_status_free(s);
    ok = 0;
  }
  s = run_conv_fast(at, 7, (er_tensor *[]){X, W, with_bias ? B : NULL}, 3, &y2, pool, packed);
  if (s) {
    er_status_free(s);
    ok = 0;
  }
  int64_t out[3];
  int64_t ny = er_tensor_numel(&y1);
  float *expect = (float *)malloc(sizeof(float) * (size_t)(ny + 1));
  direct_conv(g, (float *)X->data, (float *)W->data, with_bias ? (float *)B->data : NULL, act, expect, out);
  if (ok) {
    double e = rel_err((float *)y1.data, expect, ny);
    int64_t kdepth = g->C / g->group * g->k[0] * (g->nsp > 1 ? g->k[1] : 1) * (g->nsp > 2 ? g->k[2] : 1);
    /* Winograd F(4x4,3x3) (3x3, stride 1, >= 16 channels) rounds more than a direct sum */
    int wino = g->nsp == 2 && g->k[0] == 3 && g->k[1] == 3 && g->s[0] == 1 && g->s[1] == 1 && g->d[0] == 1 &&
               g->d[1] == 1 && g->group == 1 && g->C >= 16 && g->M >= 16;
    double tol = wino ? 4e-4 : 2e-6 * (4 + sqrt((double)kdepth));
    if (!(e <= tol)) {
      fprintf(stderr, "  conv N=%lld C=%lld M=%lld group=%lld nsp=%d in0=%lld k0=%lld act=%d: err %g\n",
              (long long)g->N, (long long)g->C, (long long)g->M, (long long)g->group, g->nsp, (long long)g->in[0],
              (long long)g->k[0], act.kind, e);
      ok = 0;
    }
    /* bit-identical for 1 and 2 threads */
    if (y2.data && memcmp(y1.data, y2.data, sizeof(float) * (size_t)ny)) {
      fprintf(stderr, "  conv: results differ between 1 and 2 threads\n");
      ok = 0;
    }
  }
  free(expect), free(y1.data), free(y2.data);
  ot_free_all();
  return ok;
}

TEST(mk_conv_fast_vs_direct) {
  er_threadpool *pool = NULL;
  CHECK_OK(er_threadpool_create(2, &pool));
  int bad = 0, cases = 0, packed_any = 0, ai = 0;
  /* 2-D: odd channels, sizes, groups, strides, pads, dilations, 1x1 pointwise */
  static const int64_t Cs[] = {1, 3, 8, 13};
  static const int64_t Ms[] = {1, 7, 16, 29};
  static const int64_t Ks[] = {1, 3, 5};
  for (size_t ci = 0; ci < 4; ci++)
    for (size_t mi = 0; mi < 4; mi++)
      for (size_t ki = 0; ki < 3; ki++)
        for (int variant = 0; variant < 4; variant++) {
          cgeo g = {2, 1 + (variant == 3), Cs[ci], Ms[mi], 1, {5 + variant * 4, 9 + 3 * variant}, {Ks[ki], Ks[ki]},
                    {1, 1}, {1, 1}, {0, 0}, {0, 0}};
          if (variant == 1) g.s[0] = g.s[1] = 2, g.pb[0] = g.pb[1] = Ks[ki] / 2, g.pe[1] = Ks[ki] / 2 + 1;
          if (variant == 2) g.d[0] = 2, g.pb[1] = 1, g.pe[0] = 2;
          if (variant == 3 && g.C % 2 == 0 && g.M % 2 == 0) g.group = 2;
          if ((g.in[0] + g.pb[0] + g.pe[0] - (g.k[0] - 1) * g.d[0] - 1) < 0) continue;
          int packed = 0;
          if (!check_conv_case(&g, acts[ai++ % N_ACTS], variant != 2, pool, &packed)) bad++;
          packed_any |= packed;
          cases++;
        }
  /* large enough for several pixel tiles, depth chunks and row chunks */
  cgeo big[] = {
      {2, 1, 64, 96, 1, {20, 23}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}},    /* K = 576 > one chunk */
      {2, 2, 40, 70, 1, {17, 19}, {1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}},    /* pointwise, 323 px */
      {2, 1, 3, 16, 1, {31, 29}, {7, 7}, {2, 2}, {1, 1}, {3, 3}, {3, 3}},     /* stem-like */
      {2, 1, 48, 64, 4, {9, 9}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}},      /* grouped */
      {2, 1, 300, 50, 1, {3, 4}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}},     /* deep, few pixels */
      {2, 1, 24, 30, 1, {12, 12}, {1, 1}, {2, 2}, {1, 1}, {0, 0}, {0, 0}},    /* 1x1 strided */
      {1, 2, 5, 9, 1, {40}, {4}, {3}, {2}, {2}, {1}},                         /* 1-D */
      /* Winograd F(4x4,3x3): odd sizes, partial tiles, asymmetric pads, T = 32 and 16 */
      {2, 2, 17, 19, 1, {9, 11}, {3, 3}, {1, 1}, {1, 1}, {1, 0}, {2, 1}},
      {2, 1, 16, 16, 1, {8, 8}, {3, 3}, {1, 1}, {1, 1}, {0, 0}, {2, 2}},
      {2, 1, 150, 130, 1, {10, 13}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}},
      {2, 3, 32, 40, 1, {29, 30}, {3, 3}, {1, 1}, {1, 1}, {2, 1}, {0, 1}},
      {3, 1, 4, 6, 2, {5, 6, 7}, {3, 2, 3}, {1, 2, 1}, {1, 1, 2}, {1, 0, 2}, {1, 1, 0}}, /* 3-D */
  };
  for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
    int packed = 0;
    if (!check_conv_case(&big[i], acts[i % N_ACTS], 1, pool, &packed)) bad++;
    cases++;
  }
  /* depthwise through the op (dispatch kernel, any multiplier of 1) */
  for (int64_t k = 1; k <= 5; k += 2)
    for (int64_t s = 1; s <= 2; s++) {
      cgeo g = {2, 2, 12, 12, 12, {19, 21}, {k, k}, {s, s}, {1, 1}, {k / 2, k / 2}, {k / 2, k / 2}};
      int packed = 0;
      if (!check_conv_case(&g, acts[(k + s) % N_ACTS], 1, pool, &packed)) bad++;
      cases++;
    }
  CHECK(bad == 0);
  CHECK(cases > 150);
  /* the fast path is actually taken when the CPU has an optimized table */
  if (er_microkernels_select() != er_microkernels_ref()) CHECK(packed_any);
  er_threadpool_destroy(pool);
}

/* The reference path (no prepared weights, float64) also applies fused activations. */
TEST(conv_ref_fused_activation) {
  int64_t xd[4] = {1, 2, 4, 4}, wd[4] = {3, 2, 3, 3};
  er_tensor *X = ot_tensor(ER_F32, 4, xd, NULL), *W = ot_tensor(ER_F32, 4, wd, NULL);
  fill((float *)X->data, 32), fill((float *)W->data, 54);
  int64_t pads[4] = {1, 1, 1, 1};
  cgeo g = {2, 1, 2, 3, 1, {4, 4}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}};
  for (int a = 0; a < N_ACTS; a++) {
    er_attr at[] = {ot_ints("pads", 4, pads), ot_int("_act", acts[a].kind), ot_float("_act_a", acts[a].a),
                    ot_float("_act_b", acts[a].b)};
    er_tensor *y[1];
    CHECK_OK(ot_run("Conv", 11, at, 4, (er_tensor *[]){X, W}, 2, y, 1));
    float expect[48];
    int64_t out[3];
    direct_conv(&g, (float *)X->data, (float *)W->data, NULL, acts[a], expect, out);
    CHECK(rel_err((float *)y[0]->data, expect, 48) <= 1e-5);
    /* float64 */
    er_tensor *Xd = ot_tensor(ER_F64, 4, xd, NULL), *Wd = ot_tensor(ER_F64, 4, wd, NULL);
    for (int i = 0; i < 32; i++) ((double *)Xd->data)[i] = ((float *)X->data)[i];
    for (int i = 0; i < 54; i++) ((double *)Wd->data)[i] = ((float *)W->data)[i];
    CHECK_OK(ot_run("Conv", 11, at, 4, (er_tensor *[]){Xd, Wd}, 2, y, 1));
    double e = 0;
    for (int i = 0; i < 48; i++) {
      double d = fabs(((double *)y[0]->data)[i] - expect[i]);
      if (d > e) e = d;
    }
    CHECK(e <= 1e-5);
  }
  /* ConvTranspose: fused Clip equals Clip of the plain result */
  {
    int64_t wtd[4] = {2, 3, 3, 3};
    er_tensor *Wt = ot_tensor(ER_F32, 4, wtd, NULL);
    fill((float *)Wt->data, 54);
    er_attr fused[] = {ot_int("_act", ER_ACT_CLIP), ot_float("_act_a", -0.3f), ot_float("_act_b", 0.4f)};
    er_tensor *y0[1], *y1[1];
    CHECK_OK(ot_run("ConvTranspose", 11, NULL, 0, (er_tensor *[]){X, Wt}, 2, y0, 1));
    CHECK_OK(ot_run("ConvTranspose", 11, fused, 3, (er_tensor *[]){X, Wt}, 2, y1, 1));
    int64_t n = er_tensor_numel(y0[0]);
    CHECK(n == 3 * 6 * 6);
    int same = 1, clipped = 0;
    for (int64_t i = 0; i < n; i++) {
      float v = ((float *)y0[0]->data)[i], e = v < -0.3f ? -0.3f : v > 0.4f ? 0.4f : v;
      if (((float *)y1[0]->data)[i] != e) same = 0;
      if (e != v) clipped++;
    }
    CHECK(same);
    CHECK(clipped > 0);
  }
  er_attr bad[] = {ot_int("_act", 99)};
  er_tensor *y[1];
  CHECK_ERR(ot_run("Conv", 11, bad, 1, (er_tensor *[]){X, W}, 2, y, 1), ER_UNSUPPORTED);
  ot_free_all();
}
