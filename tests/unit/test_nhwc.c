/* Channels-last ops (kernels/nhwc.h) against the standard ONNX ops run on the transposed
 * (NCHW) data: NhwcConv vs Conv, NhwcMaxPool / NhwcAveragePool vs MaxPool / AveragePool,
 * NhwcGlobal{Average,Max}Pool vs Global{Average,Max}Pool. Every case runs with the
 * reference micro-kernel table and with this CPU's best one, each with 1 and 2 threads
 * (which must give the same bits). The oracle is the standard op's portable path (no
 * micro-kernel table). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/cpu.h"
#include "base/threads.h"
#include "kernels/nhwc.h"
#include "optest.h"
#include "test.h"

static uint32_t nh_rng = 4242;
static float nh_rand(void) { /* [-1, 1) */
  nh_rng = nh_rng * 1664525u + 1013904223u;
  return (float)((nh_rng >> 8) & 0xffff) / 32768.0f - 1.0f;
}
static er_tensor *nh_rand_t(int rank, const int64_t *dims) {
  er_tensor *t = ot_tensor(ER_F32, rank, dims, NULL);
  for (int64_t i = 0; i < er_tensor_numel(t); i++) ((float *)t->data)[i] = nh_rand();
  return t;
}

static const er_act nh_acts[] = {{ER_ACT_NONE, 0, 0},      {ER_ACT_RELU, 0, 0},      {ER_ACT_CLIP, -0.5f, 0.75f},
                                 {ER_ACT_HARDSWISH, 0, 0}, {ER_ACT_HARDSIGMOID, 0.2f, 0.5f},
                                 {ER_ACT_SILU, 0, 0},      {ER_ACT_GELU, 0, 0},      {ER_ACT_SIGMOID, 0, 0},
                                 {ER_ACT_TANH, 0, 0},      {ER_ACT_LEAKYRELU, 0.1f, 0}};
enum { NH_NACTS = sizeof nh_acts / sizeof nh_acts[0] };

/* [N, S..., C] <-> [N, C, S...] (S = product of the spatial dims) */
static er_tensor *nh_to_nchw(const er_tensor *x) {
  int64_t d[4] = {x->dims[0], x->dims[x->rank - 1]}, S = 1;
  for (int i = 1; i < x->rank - 1; i++) d[i + 1] = x->dims[i], S *= x->dims[i];
  er_tensor *y = ot_tensor(ER_F32, x->rank, d, NULL);
  const float *a = (const float *)x->data;
  float *b = (float *)y->data;
  for (int64_t n = 0; n < d[0]; n++)
    for (int64_t s = 0; s < S; s++)
      for (int64_t c = 0; c < d[1]; c++) b[(n * d[1] + c) * S + s] = a[(n * S + s) * d[1] + c];
  return y;
}
static void nh_to_nhwc(const er_tensor *y, float *out) {
  int64_t N = y->dims[0], C = y->dims[1], S = er_tensor_numel(y) / (N * C > 0 ? N * C : 1);
  const float *a = (const float *)y->data;
  for (int64_t n = 0; n < N; n++)
    for (int64_t s = 0; s < S; s++)
      for (int64_t c = 0; c < C; c++) out[(n * S + s) * C + c] = a[(n * C + c) * S + s];
}

/* max over i of |a-b| / (1 + |b|); NaN must match NaN */
static double nh_err(const float *a, const float *b, int64_t n) {
  double m = 0;
  for (int64_t i = 0; i < n; i++) {
    if (isnan(a[i]) != isnan(b[i])) return INFINITY;
    if (isnan(a[i])) continue;
    double d = fabs((double)a[i] - (double)b[i]) / (1.0 + fabs((double)b[i]));
    if (d > m) m = d;
  }
  return m;
}

/* The tables this CPU can run: the reference, then AVX2 and AVX-512 where supported. */
#if defined(__x86_64__)
const er_microkernels *er_microkernels_avx2(void);
const er_microkernels *er_microkernels_avx512(void);
#endif
static int nh_tables(const er_microkernels **t) {
  int n = 0;
  t[n++] = er_microkernels_ref();
#if defined(__x86_64__)
  er_cpu_features f = er_cpu_detect();
  if (f.avx2 && f.fma && er_microkernels_avx2()) t[n++] = er_microkernels_avx2();
  if (f.avx2 && f.fma && f.avx512f) t[n++] = er_microkernels_avx512();
#endif
  return n;
}

/* Run the channels-last op with each table and thread count; compare with `expect` (NHWC)
 * within tol, and 1 vs 2 threads bit for bit. Returns 1 when all agree. */
static int nh_check_all(const char *op, const er_attr *at, int nat, er_tensor **in, int nin, const float *expect,
                        int64_t ny, const int64_t *ydims, int yrank, double tol, const char *what) {
  const er_microkernels *tables[3];
  const int ntab = nh_tables(tables);
  int ok = 1;
  for (int ti = 0; ti < ntab; ti++) {
    float *first = NULL;
    for (int th = 1; th <= 2; th++) {
      ot_set_microkernels(tables[ti]);
      ot_set_threads(th);
      er_tensor *y[1];
      er_status s = ot_run_domain(ER_DOMAIN_EDGERUN, op, 1, at, nat, in, nin, y, 1);
      ot_set_microkernels(NULL);
      ot_set_threads(1);
      if (s) {
        fprintf(stderr, "  %s %s: %s\n", op, what, er_status_message(s));
        er_status_free(s);
        free(first);
        return 0;
      }
      int same_shape = y[0]->rank == yrank;
      for (int i = 0; same_shape && i < yrank; i++) same_shape = y[0]->dims[i] == ydims[i];
      if (!same_shape) {
        fprintf(stderr, "  %s %s: output shape differs from the standard op's\n", op, what);
        free(first);
        return 0;
      }
      const float *yv = (const float *)y[0]->data;
      double e = nh_err(yv, expect, ny);
      if (!(e <= tol)) {
        fprintf(stderr, "  %s %s (%s table, %d threads): error %g > %g\n", op, what, tables[ti]->isa, th, e, tol);
        ok = 0;
      }
      if (th == 1) {
        first = (float *)malloc(sizeof(float) * (size_t)(ny + 1));
        memcpy(first, yv, sizeof(float) * (size_t)ny);
      } else if (memcmp(first, yv, sizeof(float) * (size_t)ny)) {
        fprintf(stderr, "  %s %s (%s table): 1 and 2 threads differ\n", op, what, tables[ti]->isa);
        ok = 0;
      }
    }
    free(first);
  }
  return ok;
}

/* ---- NhwcConv ---- */
typedef struct nh_cc {
  int nsp;
  int64_t N, C, M, group;
  int64_t in[2], k[2], s[2], d[2], pads[4]; /* pads: begins then ends */
  const char *auto_pad;                     /* NULL: explicit pads */
} nh_cc;

static int nh_wino_geom(const nh_cc *g) {
  return g->nsp == 2 && g->k[0] == 3 && g->k[1] == 3 && g->s[0] == 1 && g->s[1] == 1 && g->d[0] == 1 &&
         g->d[1] == 1 && g->group == 1;
}

/* How many cases took each NhwcConv path (er_nhwc_conv_path), so each test can check that
 * its path was exercised. */
static int nh_paths[6];
static int nh_path_index(const char *p) {
  static const char *const names[] = {"pointwise", "gemm", "depthwise", "depthwise-multiplier", "winograd"};
  for (int i = 0; i < 5; i++)
    if (p && !strcmp(p, names[i])) return i;
  return 5;
}
static void nh_count_path(const er_attr *at, int nat, er_tensor **in) {
  er_node node = {.name = "t", .op_type = ER_OP_NHWC_CONV, .domain = ER_DOMAIN_EDGERUN, .opset = 1, .n_inputs = 3,
                  .n_outputs = 1, .n_attrs = nat, .attrs = (er_attr *)at};
  er_kctx c = {.node = &node, .opset = 1, .n_in = 3, .n_out = 1, .in = in};
  nh_paths[nh_path_index(er_nhwc_conv_path(&c))]++;
}

static int64_t nh_algo; /* _algo given to NhwcConv (0: its choice) */
static int nh_nchw;     /* give X channels-first with _nchw_in = 1 */
static int nh_z;        /* give a random residual Z (input 3): y = act(conv + Z) */

/* With each table and 1 thread: the fused output y (inputs in[0..3], attributes at) equals
 * the unfused conv (in[0..2], at without the activation: the first nat0) plus Z, then the
 * activation, bit for bit (RELU / CLIP / NONE: the same math in every table). */
static int nh_z_exact(const er_attr *at, int nat0, int nat, er_tensor **in, er_act act, const char *what) {
  if (act.kind != ER_ACT_NONE && act.kind != ER_ACT_RELU && act.kind != ER_ACT_CLIP) return 1;
  const er_microkernels *tables[3];
  const int ntab = nh_tables(tables);
  int ok = 1;
  for (int ti = 0; ti < ntab && ok; ti++) {
    er_tensor *y[1], *u[1];
    ot_set_microkernels(tables[ti]);
    er_status s = ot_run_domain(ER_DOMAIN_EDGERUN, ER_OP_NHWC_CONV, 1, at, nat, in, 4, y, 1);
    er_status s2 = s ? NULL : ot_run_domain(ER_DOMAIN_EDGERUN, ER_OP_NHWC_CONV, 1, at, nat0, in, 3, u, 1);
    ot_set_microkernels(NULL);
    if (s || s2) {
      fprintf(stderr, "  residual %s: %s\n", what, er_status_message(s ? s : s2));
      er_status_free(s ? s : s2);
      return 0;
    }
    const int64_t n = er_tensor_numel(y[0]);
    float *e = (float *)u[0]->data;
    for (int64_t i = 0; i < n; i++) e[i] += ((const float *)in[3]->data)[i];
    er_f32_apply_act(e, n, act);
    if (n != er_tensor_numel(u[0]) || memcmp(e, y[0]->data, sizeof(float) * (size_t)n)) {
      fprintf(stderr, "  residual %s (%s table): not bit for bit the unfused conv + Z\n", what, tables[ti]->isa);
      ok = 0;
    }
  }
  return ok;
}

/* Run the standard op `op` (opset 11) on X transposed to channels-first; its output back
 * channels-last with the activation applied (malloc'ed, *ny elements; NULL on error).
 * *yn receives the standard op's output. */
static float *nh_oracle(const char *op, const er_attr *at, int nat, er_tensor *X, er_tensor *W, er_tensor *B,
                        er_act act, er_tensor **yn, int64_t *ny) {
  er_status s = ot_run(op, 11, at, nat, (er_tensor *[]){nh_to_nchw(X), W, B}, 3, yn, 1);
  if (s) {
    fprintf(stderr, "  %s oracle: %s\n", op, er_status_message(s));
    er_status_free(s);
    return NULL;
  }
  *ny = er_tensor_numel(yn[0]);
  float *expect = (float *)malloc(sizeof(float) * (size_t)(*ny + 1));
  nh_to_nhwc(yn[0], expect);
  er_f32_apply_act(expect, *ny, act);
  return expect;
}

/* NhwcConv on random data vs Transpose(Conv(Transpose(X))) with the activation. */
static int nh_conv_case(const nh_cc *g, er_act act, int bias) {
  int64_t xd[4] = {g->N}, wd[4] = {g->M, g->C / g->group}, bd[1] = {g->M};
  for (int i = 0; i < g->nsp; i++) xd[1 + i] = g->in[i], wd[2 + i] = g->k[i];
  xd[1 + g->nsp] = g->C;
  er_tensor *X = nh_rand_t(g->nsp + 2, xd), *W = nh_rand_t(g->nsp + 2, wd), *B = bias ? nh_rand_t(1, bd) : NULL;
  int64_t pads[4];
  for (int i = 0; i < g->nsp; i++) pads[i] = g->pads[i], pads[g->nsp + i] = g->pads[2 + i];
  er_attr at[10] = {ot_ints("strides", g->nsp, g->s), ot_ints("dilations", g->nsp, g->d), ot_int("group", g->group),
                   ot_ints("kernel_shape", g->nsp, g->k)};
  int nat = 4;
  at[nat++] = g->auto_pad ? ot_str("auto_pad", g->auto_pad) : ot_ints("pads", 2 * g->nsp, pads);
  /* the oracle: Conv's portable path, then the activation */
  er_tensor *yn[1];
  int64_t ny;
  const er_act none = {ER_ACT_NONE, 0, 0};
  float *expect = nh_oracle("Conv", at, nat, X, W, B, nh_z ? none : act, yn, &ny);
  if (!expect) return 0;
  int64_t yd[4] = {g->N};
  for (int i = 0; i < g->nsp; i++) yd[1 + i] = yn[0]->dims[2 + i];
  yd[1 + g->nsp] = g->M;
  er_tensor *Z = nh_z ? nh_rand_t(g->nsp + 2, yd) : NULL;
  if (Z) {
    for (int64_t i = 0; i < ny; i++) expect[i] += ((const float *)Z->data)[i];
    er_f32_apply_act(expect, ny, act);
  }
  const int nat0 = nat + 1; /* with _algo, without the activation */
  at[nat++] = ot_int("_algo", nh_algo);
  at[nat++] = ot_int("_act", act.kind);
  at[nat++] = ot_float("_act_a", act.a);
  at[nat++] = ot_float("_act_b", act.b);
  if (nh_nchw) at[nat++] = ot_int("_nchw_in", 1), X = nh_to_nchw(X);
  const double depth = (double)(g->C / g->group * g->k[0] * (g->nsp > 1 ? g->k[1] : 1));
  const double tol = nh_wino_geom(g) && nh_algo != 1 ? 5e-4 : 2e-6 * (8 + sqrt(depth));
  char what[160];
  snprintf(what, sizeof what, "nsp=%d N=%lld C=%lld M=%lld g=%lld in=%lldx%lld k=%lldx%lld s=%lld,%lld d=%lld,%lld act=%d",
           g->nsp, (long long)g->N, (long long)g->C, (long long)g->M, (long long)g->group, (long long)g->in[0],
           (long long)(g->nsp > 1 ? g->in[1] : 1), (long long)g->k[0], (long long)(g->nsp > 1 ? g->k[1] : 1),
           (long long)g->s[0], (long long)(g->nsp > 1 ? g->s[1] : 1), (long long)g->d[0],
           (long long)(g->nsp > 1 ? g->d[1] : 1), act.kind);
  nh_count_path(at, nat, (er_tensor *[]){X, W, B});
  er_tensor *in[4] = {X, W, B, Z};
  int ok = nh_check_all(ER_OP_NHWC_CONV, at, nat, in, Z ? 4 : 3, expect, ny, yd, g->nsp + 2, tol, what);
  if (Z && nh_nchw) { /* the unfused run needs _nchw_in too: move it before the activation */
    er_attr t = at[nat - 1];
    for (int i = nat - 1; i > nat0; i--) at[i] = at[i - 1];
    at[nat0] = t;
    if (ok) ok = nh_z_exact(at, nat0 + 1, nat, in, act, what);
  } else if (Z && ok) {
    ok = nh_z_exact(at, nat0, nat, in, act, what);
  }
  free(expect);
  ot_free_all();
  return ok;
}

TEST(nhwc_conv_pointwise) {
  memset(nh_paths, 0, sizeof nh_paths);
  static const int64_t Cs[] = {1, 3, 7, 13, 17, 33}, Ms[] = {1, 3, 7, 16, 17, 33};
  static const int64_t planes[][2] = {{1, 1}, {2, 3}, {5, 7}};
  int bad = 0, n = 0;
  for (int ci = 0; ci < 6; ci++)
    for (int mi = 0; mi < 6; mi++)
      for (int pi = 0; pi < 3; pi++, n++) {
        nh_cc g = {2, 1 + (n % 2), Cs[ci], Ms[mi], 1, {planes[pi][0], planes[pi][1]}, {1, 1}, {1, 1}, {1, 1}};
        if (!nh_conv_case(&g, nh_acts[n % NH_NACTS], n % 3 != 0)) bad++;
      }
  /* large: several row chunks, column split, deep K; grouped; 1-D */
  nh_cc big[] = {
      {2, 2, 33, 40, 1, {20, 23}, {1, 1}, {1, 1}, {1, 1}},
      {2, 1, 16, 96, 1, {28, 28}, {1, 1}, {1, 1}, {1, 1}},
      {2, 1, 320, 200, 1, {3, 3}, {1, 1}, {1, 1}, {1, 1}},  /* few pixels, many columns */
      {2, 1, 700, 24, 1, {5, 4}, {1, 1}, {1, 1}, {1, 1}},   /* K > one depth block */
      {2, 2, 12, 18, 3, {9, 7}, {1, 1}, {1, 1}, {1, 1}},   /* grouped 1x1 */
      {2, 1, 60, 90, 2, {16, 16}, {1, 1}, {1, 1}, {1, 1}},
      {1, 2, 24, 40, 1, {50}, {1}, {1}, {1}},               /* 1-D */
      {1, 1, 128, 4, 1, {1}, {1}, {1}, {1}},                /* 1 pixel, 4 channels */
      /* 2 threads: row chunks rebalanced (169 and 196 pixels) */
      {2, 1, 64, 200, 1, {13, 13}, {1, 1}, {1, 1}, {1, 1}},
      {2, 1, 64, 100, 1, {14, 14}, {1, 1}, {1, 1}, {1, 1}},
  };
  for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
    if (!nh_conv_case(&big[i], nh_acts[i % NH_NACTS], 1)) bad++;
  CHECK(bad == 0);
  CHECK(nh_paths[0] >= 100 && nh_paths[5] == 0);
}

TEST(nhwc_conv_gathered) {
  memset(nh_paths, 0, sizeof nh_paths);
  int bad = 0, n = 0;
  static const int64_t Cs[] = {1, 3, 7, 13}, Ms[] = {1, 7, 16, 33};
  for (int ci = 0; ci < 4; ci++)
    for (int mi = 0; mi < 4; mi++)
      for (int v = 0; v < 6; v++, n++) {
        nh_cc g = {2, 1 + (v == 1), Cs[ci], Ms[mi], 1, {7 + v, 9 - v / 2}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}};
        if (v == 1) g.s[0] = g.s[1] = 2, g.pads[3] = 2;                           /* stride 2, asymmetric */
        if (v == 2) g.k[0] = 5, g.k[1] = 2, g.s[0] = 3, g.d[1] = 2, g.pads[0] = 0; /* stride 3, dilation */
        if (v == 3) g.auto_pad = "SAME_UPPER", g.s[1] = 2;
        if (v == 4) g.auto_pad = "SAME_LOWER", g.s[0] = 2, g.k[0] = 2;
        if (v == 5) g.auto_pad = "VALID", g.k[1] = 1, g.pads[0] = 0;
        if (!nh_conv_case(&g, nh_acts[n % NH_NACTS], v != 4)) bad++;
      }
  nh_cc more[] = {
      {2, 2, 6, 9, 3, {8, 9}, {3, 3}, {1, 2}, {1, 1}, {1, 0, 2, 1}},         /* grouped */
      {2, 1, 8, 12, 2, {11, 10}, {3, 3}, {2, 2}, {2, 1}, {2, 1, 2, 1}},      /* grouped, dilated */
      {2, 1, 3, 32, 1, {37, 35}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}},      /* stem: several tiles */
      {2, 2, 3, 64, 1, {31, 29}, {7, 7}, {2, 2}, {1, 1}, {3, 3, 3, 3}},      /* 7x7 stem */
      {2, 1, 200, 40, 1, {9, 8}, {3, 3}, {2, 1}, {1, 1}, {1, 1, 1, 1}},      /* 2 taps per depth chunk */
      {2, 1, 600, 20, 1, {5, 6}, {3, 3}, {1, 1}, {2, 2}, {2, 2, 2, 2}},      /* 1 tap per chunk */
      {2, 1, 24, 30, 1, {12, 12}, {1, 1}, {2, 2}, {1, 1}, {0, 0, 0, 0}},     /* 1x1 strided */
      {2, 1, 5, 6, 1, {4, 4}, {1, 1}, {1, 1}, {1, 1}, {1, 2, 0, 1}},         /* 1x1 padded */
      {2, 1, 16, 16, 1, {6, 6}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},      /* 3x3 s1, too few tiles */
      {2, 1, 2, 3, 1, {1, 1}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},        /* 1x1 plane, padded */
      {2, 2, 4, 5, 1, {2, 3}, {2, 2}, {1, 1}, {1, 1}, {0, 0, 0, 0}},        /* 2x3 plane */
      {1, 2, 5, 9, 1, {40}, {4}, {3}, {2}, {2, 1}},                         /* 1-D */
      {1, 1, 64, 64, 1, {100}, {3}, {1}, {1}, {1, 1}},                      /* 1-D, 3 tiles, threads */
      {1, 1, 1, 16, 1, {576}, {5}, {2}, {1}, {2, 2}},                       /* 1-D over raw samples */
  };
  for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
    if (!nh_conv_case(&more[i], nh_acts[(i + 3) % NH_NACTS], i % 4 != 1)) bad++;
  CHECK(bad == 0);
  CHECK(nh_paths[1] >= 100 && nh_paths[5] == 0);
}

TEST(nhwc_conv_depthwise) {
  memset(nh_paths, 0, sizeof nh_paths);
  int bad = 0, n = 0;
  static const int64_t Cs[] = {2, 3, 7, 13, 17, 33};
  for (int ci = 0; ci < 6; ci++)
    for (int mult = 1; mult <= 2; mult++)
      for (int v = 0; v < 4; v++, n++) {
        const int64_t C = Cs[ci];
        nh_cc g = {2, 1 + (v == 0), C, C * mult, C, {9, 8}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}};
        if (v == 1) g.s[0] = g.s[1] = 2, g.pads[2] = 0;
        if (v == 2) g.k[0] = g.k[1] = 5, g.s[1] = 3, g.pads[0] = 2, g.pads[1] = 0, g.pads[2] = 2, g.pads[3] = 1;
        if (v == 3) g.d[0] = 2, g.auto_pad = "SAME_LOWER";
        if (!nh_conv_case(&g, nh_acts[n % NH_NACTS], v != 3)) bad++;
      }
  nh_cc more[] = {
      {2, 2, 32, 32, 32, {19, 21}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},   /* threads */
      {2, 1, 96, 96, 96, {28, 28}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}},
      {2, 1, 40, 40, 40, {14, 14}, {5, 5}, {1, 1}, {1, 1}, {2, 2, 2, 2}},
      {2, 2, 12, 24, 12, {10, 11}, {3, 3}, {2, 1}, {1, 1}, {1, 1, 1, 1}},   /* multiplier 2, threads */
      {2, 1, 20, 20, 20, {1, 1}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},     /* 1x1 plane */
      {2, 1, 9, 9, 9, {2, 3}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}},        /* 2x3 plane */
      {2, 1, 8, 8, 8, {40, 40}, {33, 33}, {1, 1}, {1, 1}, {16, 16, 16, 16}}, /* 1089 taps: portable path */
      {1, 2, 16, 16, 16, {60}, {5}, {1}, {1}, {2, 2}},                      /* 1-D */
      {1, 1, 24, 48, 24, {33}, {3}, {2}, {2}, {1, 0}},                      /* 1-D, multiplier 2 */
  };
  for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
    if (!nh_conv_case(&more[i], nh_acts[(i + 5) % NH_NACTS], i % 3 != 2)) bad++;
  CHECK(bad == 0);
  CHECK(nh_paths[2] >= 30 && nh_paths[3] >= 25 && nh_paths[0] + nh_paths[1] + nh_paths[4] + nh_paths[5] == 0);
}

TEST(nhwc_conv_winograd) {
  nh_cc cases[] = {
      {2, 2, 17, 19, 1, {13, 15}, {3, 3}, {1, 1}, {1, 1}, {1, 0, 2, 1}},  /* odd sizes, partial tiles */
      {2, 1, 16, 16, 1, {16, 16}, {3, 3}, {1, 1}, {1, 1}, {0, 0, 2, 2}},
      {2, 1, 64, 80, 1, {20, 23}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},  /* items, column split */
      {2, 2, 33, 40, 1, {29, 30}, {3, 3}, {1, 1}, {1, 1}, {2, 1, 0, 1}},
      {2, 1, 128, 128, 1, {30, 31}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},  /* 2 items per image */
      {2, 2, 144, 250, 1, {14, 13}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},  /* past 128x128 channels */
      {2, 1, 100, 100, 1, {27, 28}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},  /* 49 tiles: 2 items on 2 threads */
      {2, 1, 40, 24, 1, {54, 56}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},    /* 196 tiles: an even item count */
  };
  int bad = 0;
  memset(nh_paths, 0, sizeof nh_paths);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    for (int a = 0; a < 3; a++)
      if (!nh_conv_case(&cases[i], nh_acts[(3 * i + a) % NH_NACTS], a != 1)) bad++;
  CHECK(bad == 0);
  CHECK(nh_paths[4] == 3 * (int)(sizeof cases / sizeof cases[0]));
}

/* _algo forces a path: Winograd on shapes the kernel would not choose (few channels, few
 * tiles, one image row of tiles), the gathered GEMM on 1x1 and Winograd-sized convs */
TEST(nhwc_conv_forced_algo) {
  nh_cc wino[] = {
      {2, 2, 1, 1, 1, {5, 6}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},
      {2, 1, 3, 7, 1, {4, 9}, {3, 3}, {1, 1}, {1, 1}, {0, 2, 1, 0}},
      {2, 1, 9, 20, 1, {3, 3}, {3, 3}, {1, 1}, {1, 1}, {0, 0, 0, 0}},
      {2, 2, 17, 5, 1, {11, 7}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},
  };
  nh_cc gemm[] = {
      {2, 2, 7, 9, 1, {5, 6}, {1, 1}, {1, 1}, {1, 1}},
      {2, 1, 24, 20, 1, {13, 15}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},
      {2, 1, 6, 4, 2, {5, 5}, {1, 1}, {1, 1}, {1, 1}},
  };
  int bad = 0;
  memset(nh_paths, 0, sizeof nh_paths);
  nh_algo = 2;
  for (size_t i = 0; i < sizeof wino / sizeof wino[0]; i++)
    if (!nh_conv_case(&wino[i], nh_acts[(i + 1) % NH_NACTS], 1)) bad++;
  nh_algo = 1;
  for (size_t i = 0; i < sizeof gemm / sizeof gemm[0]; i++)
    if (!nh_conv_case(&gemm[i], nh_acts[(i + 2) % NH_NACTS], i != 1)) bad++;
  nh_algo = 0;
  CHECK(bad == 0);
  CHECK(nh_paths[4] == 4 && nh_paths[1] == 3);
  /* Winograd cannot be forced on other geometry */
  int64_t xd[] = {1, 6, 6, 4}, wd[] = {2, 4, 3, 3};
  er_attr at[] = {ot_int("_algo", 2), ot_ints("strides", 2, (int64_t[]){2, 2})}, bad_algo[] = {ot_int("_algo", 5)};
  er_tensor *y[1], *in[] = {ot_tensor(ER_F32, 4, xd, NULL), ot_tensor(ER_F32, 4, wd, NULL)};
  CHECK_ERR(ot_run_domain(ER_DOMAIN_EDGERUN, ER_OP_NHWC_CONV, 1, at, 2, in, 2, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run_domain(ER_DOMAIN_EDGERUN, ER_OP_NHWC_CONV, 1, bad_algo, 1, in, 2, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

/* The residual input Z (conv_residual.c's fusion): y = act(conv + B + Z) on every path --
 * pointwise, gathered (strided, dilated, grouped, 1-D, a channels-first input), depthwise
 * (multiplier 1 and 2, the portable path), Winograd (partial tiles, column splits), forced
 * algorithms -- vs the oracle, 1 vs 2 threads bit for bit, and bit for bit the unfused conv
 * plus Z then the activation (RELU, CLIP, none). */
TEST(nhwc_conv_residual) {
  nh_cc cases[] = {
      {2, 2, 7, 17, 1, {5, 7}, {1, 1}, {1, 1}, {1, 1}},                      /* pointwise */
      {2, 1, 13, 33, 1, {2, 3}, {1, 1}, {1, 1}, {1, 1}},
      {2, 2, 12, 18, 3, {9, 7}, {1, 1}, {1, 1}, {1, 1}},                     /* grouped 1x1 */
      {2, 1, 64, 200, 1, {13, 13}, {1, 1}, {1, 1}, {1, 1}},                  /* threads: rebalanced */
      {1, 2, 24, 40, 1, {50}, {1}, {1}, {1}},                                /* 1-D */
      {2, 2, 7, 33, 1, {9, 8}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 2, 1}},        /* gathered, stride 2 */
      {2, 1, 13, 16, 1, {10, 9}, {5, 2}, {3, 1}, {1, 2}, {0, 1, 1, 1}},      /* stride 3, dilation */
      {2, 1, 8, 12, 2, {11, 10}, {3, 3}, {2, 2}, {2, 1}, {2, 1, 2, 1}},      /* grouped, dilated */
      {2, 2, 3, 64, 1, {31, 29}, {7, 7}, {2, 2}, {1, 1}, {3, 3, 3, 3}},      /* 7x7 stem */
      {2, 1, 600, 20, 1, {5, 6}, {3, 3}, {1, 1}, {2, 2}, {2, 2, 2, 2}},      /* 1 tap per depth chunk */
      {2, 1, 24, 30, 1, {12, 12}, {1, 1}, {2, 2}, {1, 1}, {0, 0, 0, 0}},     /* 1x1 strided */
      {1, 1, 64, 64, 1, {100}, {3}, {1}, {1}, {1, 1}},                       /* 1-D, threads */
      {2, 2, 17, 17, 17, {9, 8}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},      /* depthwise */
      {2, 2, 32, 32, 32, {19, 21}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}},    /* threads, stride 2 */
      {2, 2, 12, 24, 12, {10, 11}, {3, 3}, {2, 1}, {1, 1}, {1, 1, 1, 1}},    /* multiplier 2 */
      {2, 1, 8, 8, 8, {40, 40}, {33, 33}, {1, 1}, {1, 1}, {16, 16, 16, 16}}, /* portable path */
      {2, 2, 17, 19, 1, {13, 15}, {3, 3}, {1, 1}, {1, 1}, {1, 0, 2, 1}},     /* Winograd, partial tiles */
      {2, 1, 64, 80, 1, {20, 23}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},     /* items, column split */
      {2, 1, 128, 128, 1, {30, 31}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},
  };
  static const er_act acts[] = {{ER_ACT_RELU, 0, 0}, {ER_ACT_NONE, 0, 0}, {ER_ACT_CLIP, -0.5f, 0.75f},
                                {ER_ACT_SILU, 0, 0}, {ER_ACT_HARDSWISH, 0, 0}};
  int bad = 0;
  memset(nh_paths, 0, sizeof nh_paths);
  nh_z = 1;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    for (int a = 0; a < 2; a++)
      if (!nh_conv_case(&cases[i], acts[(i + 3 * a) % 5], (i + a) % 3 != 2)) bad++;
  /* forced Winograd on few channels, forced gathered GEMM on a 3x3 and a 1x1, X channels-first */
  nh_cc wino = {2, 2, 3, 7, 1, {4, 9}, {3, 3}, {1, 1}, {1, 1}, {0, 2, 1, 0}};
  nh_cc gemm = {2, 1, 24, 20, 1, {13, 15}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}};
  nh_cc pw = {2, 2, 7, 9, 1, {5, 6}, {1, 1}, {1, 1}, {1, 1}};
  nh_algo = 2;
  bad += !nh_conv_case(&wino, acts[0], 1);
  nh_algo = 1;
  bad += !nh_conv_case(&gemm, acts[2], 0) + !nh_conv_case(&pw, acts[0], 1);
  nh_algo = 0;
  nh_nchw = 1;
  bad += !nh_conv_case(&cases[8], acts[0], 1) + !nh_conv_case(&cases[0], acts[2], 1);
  nh_nchw = 0;
  nh_z = 0;
  CHECK(bad == 0);
  CHECK(nh_paths[0] >= 10 && nh_paths[1] >= 16 && nh_paths[2] >= 4 && nh_paths[3] >= 4 && nh_paths[4] >= 7);
  /* Z of another shape (broadcasting is not supported) or with _up: errors */
  int64_t xd[] = {1, 6, 6, 4}, wd[] = {8, 4, 1, 1}, zd[] = {1, 6, 6, 1}, z2d[] = {1, 12, 12, 2};
  er_attr up[] = {ot_ints("_up", 2, (int64_t[]){2, 2})};
  er_tensor *y[1], *in[] = {ot_tensor(ER_F32, 4, xd, NULL), ot_tensor(ER_F32, 4, wd, NULL), NULL,
                            ot_tensor(ER_F32, 4, zd, NULL)};
  CHECK_ERR(ot_run_domain(ER_DOMAIN_EDGERUN, ER_OP_NHWC_CONV, 1, NULL, 0, in, 4, y, 1), ER_INVALID_ARGUMENT);
  in[3] = ot_tensor(ER_F32, 4, z2d, NULL);
  CHECK_ERR(ot_run_domain(ER_DOMAIN_EDGERUN, ER_OP_NHWC_CONV, 1, up, 1, in, 4, y, 1), ER_UNSUPPORTED);
  in[3] = ot_tensor(ER_I32, 4, xd, NULL);
  CHECK_ERR(ot_run_domain(ER_DOMAIN_EDGERUN, ER_OP_NHWC_CONV, 1, NULL, 0, in, 4, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

/* _up (a ConvTranspose whose kernel tiles the output, as the layout pass rewrites it): a 1x1
 * NhwcConv to kh*kw*M channels writing each pixel's kh x kw output block, vs ConvTranspose */
static int nh_up_case(int nsp, int64_t N, int64_t C, int64_t M, int64_t kh, int64_t kw, int64_t H, int64_t W,
                      er_act act, int bias) {
  const int64_t T = kh * kw, Mp = T * M;
  int64_t xd[4] = {N, H, W, C}, wd[4] = {C, M, kh, kw}, bd[1] = {M};
  if (nsp == 1) xd[1] = W, xd[2] = C, wd[2] = kw;
  er_tensor *X = nh_rand_t(nsp + 2, xd), *Wt = nh_rand_t(nsp + 2, wd), *B = bias ? nh_rand_t(1, bd) : NULL;
  const int64_t ks[2] = {nsp == 2 ? kh : kw, kw};
  er_attr at[8] = {ot_ints("strides", nsp, ks), ot_ints("kernel_shape", nsp, ks)};
  er_tensor *yn[1];
  int64_t ny;
  float *expect = nh_oracle("ConvTranspose", at, 2, X, Wt, B, act, yn, &ny);
  if (!expect) return 0;
  int64_t w2d[4] = {Mp, C, 1, 1}, b2d[1] = {Mp};
  er_tensor *W2 = ot_tensor(ER_F32, nsp + 2, w2d, NULL), *B2 = bias ? ot_tensor(ER_F32, 1, b2d, NULL) : NULL;
  for (int64_t c = 0; c < C; c++)
    for (int64_t m = 0; m < M; m++)
      for (int64_t t = 0; t < T; t++)
        ((float *)W2->data)[(t * M + m) * C + c] = ((const float *)Wt->data)[(c * M + m) * T + t];
  for (int64_t o = 0; bias && o < Mp; o++) ((float *)B2->data)[o] = ((const float *)B->data)[o % M];
  const int64_t ones[2] = {1, 1}, up[2] = {nsp == 2 ? kh : 1, kw};
  er_attr au[6] = {ot_ints("kernel_shape", nsp, ones), ot_ints("_up", 2, up), ot_int("_act", act.kind),
                   ot_float("_act_a", act.a), ot_float("_act_b", act.b)};
  int64_t yd[4] = {N, nsp == 2 ? H * kh : W * kw, W * kw, M};
  if (nsp == 1) yd[2] = M;
  char what[128];
  snprintf(what, sizeof what, "_up nsp=%d N=%lld C=%lld M=%lld k=%lldx%lld in=%lldx%lld act=%d", nsp, (long long)N,
           (long long)C, (long long)M, (long long)kh, (long long)kw, (long long)H, (long long)W, act.kind);
  int ok = nh_check_all(ER_OP_NHWC_CONV, au, 5, (er_tensor *[]){X, W2, B2}, 3, expect, ny, yd, nsp + 2,
                        2e-6 * (8 + sqrt((double)C)), what);
  free(expect);
  ot_free_all();
  return ok;
}

TEST(nhwc_conv_up) {
  static const struct { int nsp; int64_t N, C, M, kh, kw, H, W; } cases[] = {
      {2, 1, 24, 24, 2, 2, 12, 16}, {2, 2, 24, 1, 2, 2, 9, 7},  {2, 1, 7, 5, 3, 2, 5, 6},
      {2, 1, 40, 33, 2, 2, 20, 23}, {2, 1, 3, 16, 1, 4, 4, 5},  {2, 2, 17, 9, 4, 4, 3, 3},
      {1, 2, 12, 8, 1, 4, 1, 30},   {1, 1, 5, 1, 1, 2, 1, 17},
  };
  int bad = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    for (int a = 0; a < 2; a++)
      if (!nh_up_case(cases[i].nsp, cases[i].N, cases[i].C, cases[i].M, cases[i].kh, cases[i].kw, cases[i].H,
                      cases[i].W, nh_acts[(2 * i + a) % NH_NACTS], (i + a) % 3 != 0))
        bad++;
  CHECK(bad == 0);
  /* _up on a conv that is not 1x1 is an error, not a wrong result */
  int64_t xd[4] = {1, 4, 4, 2}, wd[4] = {8, 2, 3, 3};
  er_tensor *X = nh_rand_t(4, xd), *W = nh_rand_t(4, wd), *y[1];
  const int64_t up[2] = {2, 2};
  er_attr at[1] = {ot_ints("_up", 2, up)};
  CHECK_ERR(ot_run_domain(ER_DOMAIN_EDGERUN, ER_OP_NHWC_CONV, 1, at, 1, (er_tensor *[]){X, W, NULL}, 3, y, 1),
            ER_INVALID_ARGUMENT);
  ot_free_all();
}

/* _nchw_in = 1: X arrives channels-first; the gathered GEMM gathers from its planes, the
 * other paths transpose it into scratch first */
TEST(nhwc_conv_nchw_input) {
  nh_cc cases[] = {
      {2, 1, 3, 32, 1, {37, 35}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}},     /* stem: several tiles */
      {2, 2, 3, 64, 1, {31, 29}, {7, 7}, {2, 2}, {1, 1}, {3, 3, 3, 3}},     /* 7x7 stem, batch 2 */
      {2, 1, 5, 20, 1, {12, 13}, {7, 7}, {1, 1}, {1, 1}, {0, 1, 2, 3}},     /* 7x7, 5 channels, uneven pads */
      {2, 2, 6, 9, 3, {8, 9}, {3, 3}, {1, 2}, {1, 1}, {1, 0, 2, 1}},        /* grouped */
      {2, 1, 8, 12, 2, {11, 10}, {3, 3}, {2, 2}, {2, 1}, {2, 1, 2, 1}},     /* grouped, dilated */
      {2, 1, 600, 20, 1, {5, 6}, {3, 3}, {1, 1}, {2, 2}, {2, 2, 2, 2}},     /* 1 tap per chunk */
      {1, 2, 5, 9, 1, {40}, {4}, {3}, {2}, {2, 1}},                         /* 1-D */
      {2, 2, 17, 40, 1, {9, 7}, {1, 1}, {1, 1}, {1, 1}},                    /* pointwise */
      {2, 2, 13, 13, 13, {9, 8}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},     /* depthwise */
      {2, 1, 12, 24, 12, {10, 11}, {3, 3}, {2, 1}, {1, 1}, {1, 1, 1, 1}},   /* multiplier 2 */
      {2, 2, 33, 40, 1, {29, 30}, {3, 3}, {1, 1}, {1, 1}, {2, 1, 0, 1}},    /* Winograd */
  };
  int bad = 0;
  memset(nh_paths, 0, sizeof nh_paths);
  nh_nchw = 1;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    if (!nh_conv_case(&cases[i], nh_acts[(i + 2) % NH_NACTS], i % 3 != 1)) bad++;
  nh_nchw = 0;
  CHECK(bad == 0);
  CHECK(nh_paths[0] == 1 && nh_paths[1] == 7 && nh_paths[2] == 1 && nh_paths[3] == 1 && nh_paths[4] == 1);
  /* a bad value is an error */
  int64_t xd[] = {1, 4, 6, 6}, wd[] = {2, 4, 3, 3};
  er_attr at[] = {ot_int("_nchw_in", 2)}, one[] = {ot_int("_nchw_in", 1)};
  er_tensor *y[1], *in[] = {ot_tensor(ER_F32, 4, xd, NULL), ot_tensor(ER_F32, 4, wd, NULL)};
  CHECK_ERR(ot_run_domain(ER_DOMAIN_EDGERUN, ER_OP_NHWC_CONV, 1, at, 1, in, 2, y, 1), ER_INVALID_ARGUMENT);
  /* channels-first X whose dim 1 does not match W (its last dim would) */
  int64_t xb[] = {1, 6, 6, 4};
  er_tensor *badx[] = {ot_tensor(ER_F32, 4, xb, NULL), in[1]};
  CHECK_ERR(ot_run_domain(ER_DOMAIN_EDGERUN, ER_OP_NHWC_CONV, 1, one, 1, badx, 2, y, 1), ER_INVALID_ARGUMENT);
  ot_set_microkernels(er_microkernels_ref()); /* a session's state and prepare */
  CHECK(!ot_run_domain(ER_DOMAIN_EDGERUN, ER_OP_NHWC_CONV, 1, one, 1, in, 2, y, 1));
  ot_set_microkernels(NULL);
  CHECK(y[0]->rank == 4 && y[0]->dims[1] == 4 && y[0]->dims[2] == 4 && y[0]->dims[3] == 2);
  ot_free_all();
}

/* Weights not constant at prepare: the kernel packs them at run (each run). */
TEST(nhwc_conv_weights_packed_at_run) {
  const er_op_def *op = er_op_find(ER_DOMAIN_EDGERUN, ER_OP_NHWC_CONV, 1);
  CHECK(op != NULL);
  if (!op) return;
  nh_cc cases[] = {
      {2, 1, 5, 7, 1, {6, 5}, {1, 1}, {1, 1}, {1, 1}},                      /* pointwise */
      {2, 1, 5, 7, 1, {6, 5}, {3, 3}, {2, 1}, {1, 1}, {1, 1, 1, 1}},        /* gathered */
      {2, 1, 6, 6, 6, {6, 5}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},        /* depthwise */
      {2, 1, 16, 16, 1, {16, 16}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},    /* Winograd */
      {2, 1, 40, 48, 1, {20, 20}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}},    /* gathered, 2 slots */
      {2, 1, 40, 48, 1, {24, 24}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},    /* Winograd, 2 slots */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const nh_cc *g = &cases[i];
    int64_t xd[4] = {g->N, g->in[0], g->in[1], g->C}, wd[4] = {g->M, g->C / g->group, g->k[0], g->k[1]};
    er_tensor *X = nh_rand_t(4, xd), *W = nh_rand_t(4, wd);
    er_attr at[] = {ot_ints("strides", 2, g->s), ot_ints("pads", 4, g->pads), ot_int("group", g->group)};
    er_tensor *y0[1];
    ot_set_microkernels(er_microkernels_select());
    CHECK_OK(ot_run_domain(ER_DOMAIN_EDGERUN, ER_OP_NHWC_CONV, 1, at, 3, (er_tensor *[]){X, W}, 2, y0, 1));
    /* the same through infer, a prepare that does not see W, and two runs with new weights */
    er_node node = {.name = "t", .op_type = ER_OP_NHWC_CONV, .domain = ER_DOMAIN_EDGERUN, .opset = 1, .n_inputs = 2,
                    .n_outputs = 1, .n_attrs = 3, .attrs = at, .op = op};
    er_tensor y = {0}, *outs[1] = {&y}, *ins[2] = {X, W};
    er_kctx c = {.node = &node, .opset = 1, .n_in = 2, .n_out = 1, .in = ins, .out = outs, .mk = er_microkernels_select()};
    CHECK_OK(op->infer(&c));
    y.data = calloc(1, er_tensor_nbytes(&y));
    c.state = calloc(1, c.state_bytes);
    c.scratch = calloc(1, c.scratch_bytes + 1);
    void *wdata = W->data;
    W->data = NULL;
    CHECK_OK(op->prepare(&c));
    W->data = wdata;
    CHECK_OK(op->run(&c));
    CHECK(memcmp(y.data, y0[0]->data, er_tensor_nbytes(&y)) == 0);
    /* a pool larger than the one at infer (scratch sized for 1 thread): same bits */
    er_threadpool *pool = NULL;
    CHECK_OK(er_threadpool_create(2, &pool));
    c.threads = pool;
    memset(y.data, 0, er_tensor_nbytes(&y));
    CHECK_OK(op->run(&c));
    CHECK(memcmp(y.data, y0[0]->data, er_tensor_nbytes(&y)) == 0);
    c.threads = NULL;
    er_threadpool_destroy(pool);
    float *w = (float *)W->data;
    for (int64_t e = 0; e < er_tensor_numel(W); e++) w[e] = -w[e];
    CHECK_OK(op->run(&c));
    int negated = 1;
    for (int64_t e = 0; e < er_tensor_numel(&y); e++) negated &= ((float *)y.data)[e] == -((float *)y0[0]->data)[e];
    CHECK(negated);
    free(y.data), free(c.state), free(c.scratch);
    ot_set_microkernels(NULL);
    ot_free_all();
  }
}

TEST(nhwc_conv_errors) {
  int64_t xd[] = {1, 5, 5, 4}, wd[] = {2, 3, 3, 3}, wg[] = {2, 2, 3, 3};
  er_tensor *x = ot_tensor(ER_F32, 4, xd, NULL), *w = ot_tensor(ER_F32, 4, wd, NULL), *y[1];
  const char *D = ER_DOMAIN_EDGERUN, *OP = ER_OP_NHWC_CONV;
  /* C = 4 (last dim) but W has 3 input channels */
  CHECK_ERR(ot_run_domain(D, OP, 1, NULL, 0, (er_tensor *[]){x, w}, 2, y, 1), ER_INVALID_ARGUMENT);
  /* C not divisible by group */
  er_attr g3[] = {ot_int("group", 3)};
  CHECK_ERR(ot_run_domain(D, OP, 1, g3, 1, (er_tensor *[]){x, ot_tensor(ER_F32, 4, wg, NULL)}, 2, y, 1),
            ER_INVALID_ARGUMENT);
  /* wrong ranks */
  int64_t x5[] = {1, 2, 2, 2, 4}, x2[] = {1, 4};
  CHECK_ERR(ot_run_domain(D, OP, 1, NULL, 0, (er_tensor *[]){ot_tensor(ER_F32, 5, x5, NULL), w}, 2, y, 1),
            ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run_domain(D, OP, 1, NULL, 0, (er_tensor *[]){ot_tensor(ER_F32, 2, x2, NULL), w}, 2, y, 1),
            ER_INVALID_ARGUMENT);
  int64_t w3[] = {2, 4, 3};
  CHECK_ERR(ot_run_domain(D, OP, 1, NULL, 0, (er_tensor *[]){x, ot_tensor(ER_F32, 3, w3, NULL)}, 2, y, 1),
            ER_INVALID_ARGUMENT);
  /* bias of the wrong size, kernel_shape disagreeing with W, window larger than the input */
  int64_t wok[] = {2, 4, 3, 3}, b3[] = {3}, wbig[] = {2, 4, 7, 7};
  er_tensor *w4 = ot_tensor(ER_F32, 4, wok, NULL);
  CHECK_ERR(ot_run_domain(D, OP, 1, NULL, 0, (er_tensor *[]){x, w4, ot_tensor(ER_F32, 1, b3, NULL)}, 3, y, 1),
            ER_INVALID_ARGUMENT);
  er_attr ks[] = {ot_ints("kernel_shape", 2, (int64_t[]){2, 2})};
  CHECK_ERR(ot_run_domain(D, OP, 1, ks, 1, (er_tensor *[]){x, w4}, 2, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run_domain(D, OP, 1, NULL, 0, (er_tensor *[]){x, ot_tensor(ER_F32, 4, wbig, NULL)}, 2, y, 1),
            ER_INVALID_ARGUMENT);
  /* not float32; unknown activation; bad auto_pad */
  int64_t xi[] = {1, 5, 5, 4};
  CHECK_ERR(ot_run_domain(D, OP, 1, NULL, 0, (er_tensor *[]){ot_tensor(ER_I32, 4, xi, NULL), w4}, 2, y, 1),
            ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run_domain(D, OP, 1, NULL, 0, (er_tensor *[]){ot_tensor(ER_F64, 4, xi, NULL), w4}, 2, y, 1),
            ER_INVALID_ARGUMENT);
  er_attr act[] = {ot_int("_act", 99)}, ap[] = {ot_str("auto_pad", "SAME")};
  CHECK_ERR(ot_run_domain(D, OP, 1, act, 1, (er_tensor *[]){x, w4}, 2, y, 1), ER_UNSUPPORTED);
  CHECK_ERR(ot_run_domain(D, OP, 1, ap, 1, (er_tensor *[]){x, w4}, 2, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run_domain(D, OP, 1, NULL, 0, (er_tensor *[]){x}, 1, y, 1), ER_INVALID_MODEL);
  int64_t x0[] = {1, 5, 5, 0}, w0[] = {2, 0, 3, 3};
  CHECK_ERR(ot_run_domain(D, OP, 1, NULL, 0, (er_tensor *[]){ot_tensor(ER_F32, 4, x0, NULL), ot_tensor(ER_F32, 4, w0, NULL)},
                          2, y, 1),
            ER_UNSUPPORTED);
  /* the message names what is wrong */
  er_status s = ot_run_domain(D, OP, 1, NULL, 0, (er_tensor *[]){x, w}, 2, y, 1);
  CHECK(s && strstr(er_status_message(s), "channels do not match"));
  er_status_free(s);
  ot_free_all();
}

/* ---- pooling ---- */
typedef struct nh_pc {
  int nsp;
  int64_t N, C, in[2], k[2], s[2], d[2], pads[4];
  const char *auto_pad;
  int ceil, cip;
} nh_pc;

static int nh_pool_case(int avg, const nh_pc *p) {
  int64_t xd[4] = {p->N};
  for (int i = 0; i < p->nsp; i++) xd[1 + i] = p->in[i];
  xd[1 + p->nsp] = p->C;
  er_tensor *X = nh_rand_t(p->nsp + 2, xd);
  int64_t pads[4];
  for (int i = 0; i < p->nsp; i++) pads[i] = p->pads[i], pads[p->nsp + i] = p->pads[2 + i];
  er_attr at[8] = {ot_ints("kernel_shape", p->nsp, p->k), ot_ints("strides", p->nsp, p->s),
                   ot_ints("dilations", p->nsp, p->d), ot_int("ceil_mode", p->ceil)};
  int nat = 4;
  at[nat++] = p->auto_pad ? ot_str("auto_pad", p->auto_pad) : ot_ints("pads", 2 * p->nsp, pads);
  if (avg) at[nat++] = ot_int("count_include_pad", p->cip);
  er_tensor *yn[1];
  er_status s = ot_run(avg ? "AveragePool" : "MaxPool", avg ? 19 : 12, at, nat, (er_tensor *[]){nh_to_nchw(X)}, 1, yn, 1);
  if (s) {
    fprintf(stderr, "  pool oracle: %s\n", er_status_message(s));
    er_status_free(s);
    return 0;
  }
  const int64_t ny = er_tensor_numel(yn[0]);
  float *expect = (float *)malloc(sizeof(float) * (size_t)(ny + 1));
  nh_to_nhwc(yn[0], expect);
  int64_t yd[4] = {p->N};
  for (int i = 0; i < p->nsp; i++) yd[1 + i] = yn[0]->dims[2 + i];
  yd[1 + p->nsp] = p->C;
  char what[128];
  snprintf(what, sizeof what, "nsp=%d C=%lld in=%lldx%lld k=%lldx%lld ceil=%d cip=%d", p->nsp, (long long)p->C,
           (long long)p->in[0], (long long)(p->nsp > 1 ? p->in[1] : 1), (long long)p->k[0],
           (long long)(p->nsp > 1 ? p->k[1] : 1), p->ceil, p->cip);
  int ok = nh_check_all(avg ? ER_OP_NHWC_AVGPOOL : ER_OP_NHWC_MAXPOOL, at, nat, (er_tensor *[]){X}, 1, expect, ny, yd,
                        p->nsp + 2, 1e-6, what);
  free(expect);
  ot_free_all();
  return ok;
}

TEST(nhwc_pools) {
  nh_pc cases[] = {
      {2, 2, 3, {8, 8}, {2, 2}, {2, 2}, {1, 1}},
      {2, 1, 64, {56, 56}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}},       /* ResNet stem pool, threads */
      {2, 2, 13, {9, 10}, {3, 2}, {2, 3}, {1, 1}, {1, 0, 2, 1}},        /* asymmetric pads */
      {2, 1, 17, {9, 10}, {3, 3}, {2, 2}, {1, 1}, {0, 0, 1, 1}, NULL, 1}, /* ceil mode */
      {2, 1, 33, {11, 9}, {2, 3}, {3, 1}, {1, 1}, {0}, "SAME_UPPER"},
      {2, 2, 7, {11, 9}, {3, 2}, {2, 2}, {1, 1}, {0}, "SAME_LOWER"},
      {2, 1, 9, {11, 9}, {4, 3}, {1, 2}, {1, 1}, {0}, "VALID"},
      {2, 1, 5, {12, 12}, {3, 3}, {1, 2}, {2, 2}, {2, 1, 2, 1}},        /* dilations */
      {2, 1, 40, {1, 1}, {1, 1}, {1, 1}, {1, 1}},                       /* 1x1 plane */
      {2, 1, 6, {2, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1, 1, 1}},          /* 2x3 plane */
      {2, 1, 4, {40, 40}, {40, 33}, {1, 1}, {1, 1}},                    /* 1320 taps: folded batches */
      {1, 2, 19, {30}, {3}, {2}, {1}, {1, 1}},                          /* 1-D */
      {1, 1, 8, {25}, {4}, {3}, {2}, {0, 2}, NULL, 1},                  /* 1-D, dilated, ceil */
  };
  int bad = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    if (!nh_pool_case(0, &cases[i])) bad++;
    for (int cip = 0; cip <= 1; cip++) {
      nh_pc p = cases[i];
      p.cip = cip;
      if (!nh_pool_case(1, &p)) bad++;
    }
  }
  CHECK(bad == 0);
}

TEST(nhwc_global_pools) {
  static const int64_t shapes[][4] = {{2, 7, 7, 13}, {1, 1, 1, 40}, {2, 2, 3, 3}, {1, 56, 56, 96}, {1, 9, 11, 200}};
  int bad = 0;
  for (int i = 0; i < 6; i++) {
    const int nsp = i == 5 ? 1 : 2;
    int64_t xd[4] = {2, 50, 17};
    if (i < 5) memcpy(xd, shapes[i], sizeof xd);
    er_tensor *X = nh_rand_t(nsp + 2, xd);
    for (int avg = 0; avg <= 1; avg++) {
      er_tensor *yn[1];
      CHECK_OK(ot_run(avg ? "GlobalAveragePool" : "GlobalMaxPool", 1, NULL, 0, (er_tensor *[]){nh_to_nchw(X)}, 1, yn, 1));
      const int64_t ny = er_tensor_numel(yn[0]);
      float *expect = (float *)malloc(sizeof(float) * (size_t)ny);
      nh_to_nhwc(yn[0], expect);
      int64_t yd[4] = {xd[0], 1, 1, 1};
      yd[nsp + 1] = xd[nsp + 1];
      if (!nh_check_all(avg ? ER_OP_NHWC_GAVGPOOL : ER_OP_NHWC_GMAXPOOL, NULL, 0, (er_tensor *[]){X}, 1, expect, ny, yd,
                        nsp + 2, 2e-6, "global"))
        bad++;
      free(expect);
    }
    ot_free_all();
  }
  CHECK(bad == 0);
}

TEST(nhwc_pool_errors) {
  int64_t xd[] = {1, 5, 5, 4}, x5[] = {1, 2, 2, 2, 4};
  er_tensor *x = ot_tensor(ER_F32, 4, xd, NULL), *y[2];
  const char *D = ER_DOMAIN_EDGERUN;
  CHECK_ERR(ot_run_domain(D, ER_OP_NHWC_MAXPOOL, 1, NULL, 0, (er_tensor *[]){x}, 1, y, 1), ER_INVALID_MODEL);
  er_attr k1[] = {ot_ints("kernel_shape", 1, (int64_t[]){2})}, k2[] = {ot_ints("kernel_shape", 2, (int64_t[]){2, 2})};
  CHECK_ERR(ot_run_domain(D, ER_OP_NHWC_AVGPOOL, 1, k1, 1, (er_tensor *[]){x}, 1, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run_domain(D, ER_OP_NHWC_MAXPOOL, 1, k2, 1, (er_tensor *[]){ot_tensor(ER_F32, 5, x5, NULL)}, 1, y, 1),
            ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run_domain(D, ER_OP_NHWC_MAXPOOL, 1, k2, 1, (er_tensor *[]){x}, 1, y, 2), ER_UNSUPPORTED);
  er_attr big[] = {ot_ints("kernel_shape", 2, (int64_t[]){9, 2})};
  CHECK_ERR(ot_run_domain(D, ER_OP_NHWC_MAXPOOL, 1, big, 1, (er_tensor *[]){x}, 1, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run_domain(D, ER_OP_NHWC_GAVGPOOL, 1, NULL, 0, (er_tensor *[]){ot_tensor(ER_F32, 5, x5, NULL)}, 1, y, 1),
            ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run_domain(D, ER_OP_NHWC_GMAXPOOL, 1, NULL, 0, (er_tensor *[]){ot_tensor(ER_F16, 4, xd, NULL)}, 1, y, 1),
            ER_INVALID_ARGUMENT);
  ot_free_all();
}

/* ---- micro-kernels of the best table vs the reference table ---- */
static double nh_cmp(const float *a, const float *b, int64_t rows, int64_t cols, int64_t ld) {
  double m = 0;
  for (int64_t i = 0; i < rows; i++) {
    double e = nh_err(a + i * ld, b + i * ld, cols);
    if (e > m) m = e;
  }
  return m;
}

/* one optimized table's GEMM against the reference; M from 1 to 98 rows (every tile height
 * and the few-row-tiles loop of each table) */
static int nh_gemm_vs_ref(const er_microkernels *mk, int *ncases) {
  const er_microkernels *ref = er_microkernels_ref();
  static const int64_t Ns[] = {1, 5, 8, 9, 16, 17, 24, 31, 33, 48, 63, 64, 65, 100, 300};
  static const int64_t Ks[] = {1, 7, 40, 300, 600};
  int bad = 0, cases = 0;
  for (int ki = 0; ki < 5; ki++)
    for (int ni = 0; ni < 15; ni++) {
      const int64_t K = Ks[ki], N = Ns[ni], lda = K + 3, ldc = N + 5;
      const int64_t M = 1 + (ki * 15 + ni) % 14 + ((ki * 15 + ni) % 3 == 0 ? 12 * ((ki + ni) % 8) : 0);
      float *A = (float *)malloc(sizeof(float) * (size_t)(M * lda)), *src = (float *)malloc(sizeof(float) * (size_t)(K * N));
      float *bias = (float *)malloc(sizeof(float) * (size_t)N);
      float *C1 = (float *)malloc(sizeof(float) * (size_t)(M * ldc)), *C2 = (float *)malloc(sizeof(float) * (size_t)(M * ldc));
      float *C3 = (float *)malloc(sizeof(float) * (size_t)(M * ldc));
      for (int64_t i = 0; i < M * lda; i++) A[i] = nh_rand();
      for (int64_t i = 0; i < K * N; i++) src[i] = nh_rand();
      for (int64_t i = 0; i < N; i++) bias[i] = nh_rand();
      void *p1 = malloc(ref->f32_nhwc_pack_size(K, N)), *p2 = malloc(mk->f32_nhwc_pack_size(K, N));
      ref->f32_nhwc_pack(K, N, src, 1, K, N, 0, p1); /* K x N row-major */
      mk->f32_nhwc_pack(K, N, src, 1, K, N, 0, p2);
      for (int v = 0; v < 4; v++, cases++) {
        const er_act act = nh_acts[(cases * 3) % NH_NACTS];
        /* v 0: whole depth; v 1: two depth chunks (accumulate); v 2: no bias; v 3: columns from n0 = 16 */
        const int64_t n0 = v == 3 && N > 16 ? 16 : 0, nn = N - n0, k1 = v == 1 ? K / 2 : K;
        const float *b = v == 2 ? NULL : bias + n0;
        for (int64_t i = 0; i < M * ldc; i++) C1[i] = C2[i] = C3[i] = 7.0f;
        const er_act none = {ER_ACT_NONE, 0, 0};
        const er_microkernels *t[2] = {ref, mk};
        float *Cs[2] = {C1, C2};
        void *ps[2] = {p1, p2};
        for (int q = 0; q < 2; q++) {
          if (k1 < K) {
            t[q]->f32_nhwc_gemm(M, nn, k1, A, lda, ps[q], K, 0, n0, b, 0, none, Cs[q] + n0, ldc);
            t[q]->f32_nhwc_gemm(M, nn, K - k1, A + k1, lda, ps[q], K, k1, n0, NULL, 1, act, Cs[q] + n0, ldc);
          } else {
            t[q]->f32_nhwc_gemm(M, nn, K, A, lda, ps[q], K, 0, n0, b, 0, act, Cs[q] + n0, ldc);
          }
        }
        double e = nh_cmp(C2, C1, M, ldc, ldc); /* also checks that nothing outside was written */
        if (!(e <= 2e-6 * (8 + sqrt((double)K)))) {
          fprintf(stderr, "  gemm M=%lld N=%lld K=%lld v=%d act=%d: err %g\n", (long long)M, (long long)N, (long long)K, v,
                  act.kind, e);
          bad++;
        }
        /* the same bits when the rows are split and the columns split at a multiple of 16 */
        if (k1 == K) {
          const int64_t m1 = M / 2, c1 = nn > 16 ? 16 : nn;
          mk->f32_nhwc_gemm(m1, nn, K, A, lda, p2, K, 0, n0, b, 0, act, C3 + n0, ldc);
          mk->f32_nhwc_gemm(M - m1, c1, K, A + m1 * lda, lda, p2, K, 0, n0, b, 0, act, C3 + m1 * ldc + n0, ldc);
          if (nn > c1)
            mk->f32_nhwc_gemm(M - m1, nn - c1, K, A + m1 * lda, lda, p2, K, 0, n0 + c1, b ? b + c1 : NULL, 0, act,
                              C3 + m1 * ldc + n0 + c1, ldc);
          if (memcmp(C2, C3, sizeof(float) * (size_t)(M * ldc))) {
            fprintf(stderr, "  gemm M=%lld N=%lld K=%lld: split changes the bits\n", (long long)M, (long long)N, (long long)K);
            bad++;
          }
        }
      }
      free(A), free(src), free(bias), free(C1), free(C2), free(C3), free(p1), free(p2);
    }
  *ncases = cases;
  return bad;
}

TEST(nhwc_mk_gemm_vs_ref) {
  const er_microkernels *tables[3];
  const int n = nh_tables(tables);
  for (int t = 1; t < n; t++) {
    int cases = 0;
    const int bad = nh_gemm_vs_ref(tables[t], &cases);
    if (bad) fprintf(stderr, "  table %s: %d bad\n", tables[t]->isa, bad);
    CHECK(bad == 0);
    CHECK(cases == 300);
  }
}

/* Each optimized table's depthwise kernel against the reference: pointer lists, and runs
 * (pixel 0's taps moved by p*step) with the taps in one row or in kernel rows of 3 or 5
 * consecutive pixels (the register-row paths). */
TEST(nhwc_mk_dwconv_vs_ref) {
  const er_microkernels *tables[3], *ref = er_microkernels_ref();
  const int ntab = nh_tables(tables);
  static const int64_t Cs[] = {1, 3, 8, 13, 16, 17, 33, 40, 64, 70};
  int bad = 0;
  for (int ti = 1; ti < ntab; ti++)
    for (int ci = 0; ci < 10; ci++)
      for (int64_t T = 1; T <= 25; T += 8)
        for (int64_t n = 1; n <= 13; n += 4) {
          const er_microkernels *mk = tables[ti];
          /* kernel rows of L taps (9 = 3x3, 25 = 5x5), 40 pixels apart; else one row */
          const int64_t L = T == 9 ? 3 : T == 25 ? 5 : T, C = Cs[ci], step = C + 2, ldo = C + 1;
          const int64_t W = ((T / L) * 40 + n + L) * step + C;
          const er_act act = nh_acts[(ci + T + n) % NH_NACTS];
          float *x = (float *)malloc(sizeof(float) * (size_t)W), *w = (float *)malloc(sizeof(float) * (size_t)(T * C));
          float *b = (float *)malloc(sizeof(float) * (size_t)C), *y[3];
          const float **ptrs = (const float **)malloc(sizeof(float *) * (size_t)(n * T));
          for (int64_t i = 0; i < W; i++) x[i] = nh_rand();
          for (int64_t i = 0; i < T * C; i++) w[i] = nh_rand();
          for (int64_t i = 0; i < C; i++) b[i] = nh_rand();
          for (int64_t p = 0; p < n; p++)
            for (int64_t t = 0; t < T; t++) ptrs[p * T + t] = x + ((t / L) * 40 + t % L + p) * step;
          for (int q = 0; q < 3; q++) {
            y[q] = (float *)malloc(sizeof(float) * (size_t)(n * ldo));
            for (int64_t i = 0; i < n * ldo; i++) y[q][i] = 5.0f;
          }
          const float *bb = ci % 2 ? b : NULL;
          ref->f32_nhwc_dwconv(n, C, T, ptrs, 0, w, bb, act, y[0], ldo);
          mk->f32_nhwc_dwconv(n, C, T, ptrs, 0, w, bb, act, y[1], ldo);
          mk->f32_nhwc_dwconv(n, C, T, ptrs, step, w, bb, act, y[2], ldo);
          if (!(nh_cmp(y[1], y[0], n, ldo, ldo) <= 1e-5) || memcmp(y[1], y[2], sizeof(float) * (size_t)(n * ldo))) {
            fprintf(stderr, "  dwconv (%s) C=%lld T=%lld n=%lld act=%d differs\n", mk->isa, (long long)C, (long long)T,
                    (long long)n, act.kind);
            bad++;
          }
          free(x), free(w), free(b), free(ptrs), free(y[0]), free(y[1]), free(y[2]);
        }
  CHECK(bad == 0);
}

/* f32_nhwc_add_act (the residual epilogue) of each table vs the reference: rows with strides
 * (ldy, ldz past n), n not a multiple of the vector width, every activation; RELU / CLIP /
 * NONE bit for bit, padding between rows untouched. */
TEST(nhwc_mk_add_act_vs_ref) {
  const er_microkernels *tables[3], *ref = er_microkernels_ref();
  const int ntab = nh_tables(tables);
  static const int64_t ns[] = {1, 3, 8, 13, 16, 17, 33, 64, 70};
  int bad = 0;
  for (int ti = 0; ti < ntab; ti++)
    for (int ni = 0; ni < 9; ni++)
      for (int ai = 0; ai < NH_NACTS; ai++) {
        const er_microkernels *mk = tables[ti];
        const int64_t n = ns[ni], rows = 1 + (ni + ai) % 5, ldy = n + ai % 3, ldz = n + ni % 2;
        const er_act act = nh_acts[ai];
        float *z = (float *)malloc(sizeof(float) * (size_t)(rows * ldz)), *y[2], *y0;
        y0 = (float *)malloc(sizeof(float) * (size_t)(rows * ldy));
        for (int64_t i = 0; i < rows * ldz; i++) z[i] = 2 * nh_rand();
        for (int64_t i = 0; i < rows * ldy; i++) y0[i] = 2 * nh_rand();
        for (int q = 0; q < 2; q++) {
          y[q] = (float *)malloc(sizeof(float) * (size_t)(rows * ldy));
          memcpy(y[q], y0, sizeof(float) * (size_t)(rows * ldy));
        }
        ref->f32_nhwc_add_act(rows, n, z, ldz, act, y[0], ldy);
        mk->f32_nhwc_add_act(rows, n, z, ldz, act, y[1], ldy);
        int wrong = !(nh_cmp(y[1], y[0], rows, n, ldy) <= 1e-5);
        const int exact = act.kind == ER_ACT_NONE || act.kind == ER_ACT_RELU || act.kind == ER_ACT_CLIP;
        for (int64_t r = 0; r < rows; r++)
          for (int64_t j = 0; j < ldy; j++) {
            if (j >= n) wrong |= y[1][r * ldy + j] != y0[r * ldy + j]; /* past the row: untouched */
            else if (act.kind == ER_ACT_NONE) wrong |= y[1][r * ldy + j] != y0[r * ldy + j] + z[r * ldz + j];
            else if (exact) wrong |= memcmp(&y[1][r * ldy + j], &y[0][r * ldy + j], sizeof(float)) != 0;
          }
        if (wrong) {
          fprintf(stderr, "  add_act (%s) n=%lld rows=%lld act=%d differs\n", mk->isa, (long long)n, (long long)rows,
                  act.kind);
          bad++;
        }
        free(z), free(y0), free(y[0]), free(y[1]);
      }
  CHECK(bad == 0);
}

/* The packed format (kernels/ref/nhwc_mk.h) element by element: B[k][j] at ((j/16)*K + k)*16
 * + j%16, zero past N, from row-major K x N sources and from conv weights [N][kin][taps]. */
TEST(nhwc_pack_layout) {
  static const int64_t Ns[] = {1, 15, 16, 17, 40}, kins[] = {1, 3, 64, 70}, taps[] = {1, 9};
  int bad = 0;
  for (int ni = 0; ni < 5; ni++)
    for (int ki = 0; ki < 4; ki++)
      for (int ti = 0; ti < 2; ti++)
        for (int rowmajor = 0; rowmajor < 2; rowmajor++) {
          const int64_t N = Ns[ni], kin = kins[ki], T = taps[ti], K = kin * T;
          if (rowmajor && T > 1) continue;
          float *src = (float *)malloc(sizeof(float) * (size_t)(K * N));
          for (int64_t i = 0; i < K * N; i++) src[i] = (float)i;
          const er_microkernels *tables[2] = {er_microkernels_ref(), er_microkernels_select()};
          for (int q = 0; q < 2; q++) {
            const size_t bytes = tables[q]->f32_nhwc_pack_size(K, N);
            float *p = (float *)malloc(bytes);
            memset(p, 0x7f, bytes);
            if (rowmajor)
              tables[q]->f32_nhwc_pack(K, N, src, 1, K, N, 0, p);
            else
              tables[q]->f32_nhwc_pack(K, N, src, K, kin, T, 1, p);
            CHECK(bytes == sizeof(float) * (size_t)(((N + 15) / 16) * 16 * K));
            for (int64_t j = 0; j < (N + 15) / 16 * 16; j++)
              for (int64_t k = 0; k < K; k++) {
                const float want = j >= N ? 0.0f : rowmajor ? src[k * N + j] : src[j * K + (k % kin) * T + k / kin];
                if (p[((j / 16) * K + k) * 16 + j % 16] != want) bad++;
              }
            free(p);
          }
          free(src);
        }
  CHECK(bad == 0);
}
