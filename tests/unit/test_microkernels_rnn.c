/* Recurrent-layer micro-kernels (kernels/dispatch.h: packed GEMV, sigmoid, tanh, LSTM step)
 * of this CPU's table and the reference table, against double-precision computations on
 * many sizes (vector tails, group edges); and the LSTM/GRU/RNN ops' fast path, prepared
 * (packed weights) or not, against the generic double path, with 1 and 2 threads (the
 * 2-thread projection/recurrence pipeline for long sequences) giving the same bits. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/threads.h"
#include "kernels/dispatch.h"
#include "optest.h"
#include "test.h"

static uint32_t g_seed = 777;
static float frand(void) { /* uniform in [-1, 1) */
  g_seed = g_seed * 1664525u + 1013904223u;
  return (float)((double)(g_seed >> 8) / (double)(1u << 23) - 1.0);
}

static void *packed_alloc(size_t n) { return calloc(1, n + 64); }

/* y = add + W x with both tables; error bound relative to sum |w x| + |add|. */
static int check_gemv(const er_microkernels *mk, int64_t N, int64_t K, int add_mode) {
  float *W = malloc(sizeof(float) * (size_t)(N * K + 1)), *x = malloc(sizeof(float) * (size_t)(K + 1));
  float *add = malloc(sizeof(float) * (size_t)(N + 1)), *y = malloc(sizeof(float) * (size_t)(N + 9));
  for (int64_t i = 0; i < N * K; i++) W[i] = frand();
  for (int64_t i = 0; i < K; i++) x[i] = frand();
  for (int64_t i = 0; i < N; i++) add[i] = frand();
  for (int64_t i = 0; i < N + 8; i++) y[i] = 12345.0f; /* past N must stay untouched */
  void *p = packed_alloc(mk->f32_gemv_packed_size(N, K));
  mk->f32_gemv_pack(N, K, W, K, p);
  const float *a = NULL;
  if (add_mode == 1) a = add;
  if (add_mode == 2) { /* in place: add == y */
    memcpy(y, add, sizeof(float) * (size_t)N);
    a = y;
  }
  mk->f32_gemv_packed(N, K, x, p, a, y);
  int ok = 1;
  for (int64_t n = 0; n < N; n++) {
    double s = add_mode ? add[n] : 0, mag = fabs(s);
    for (int64_t k = 0; k < K; k++) s += (double)W[n * K + k] * x[k], mag += fabs((double)W[n * K + k] * x[k]);
    ok &= fabs(y[n] - s) <= 1e-6 * mag + 1e-30;
  }
  for (int64_t n = N; n < N + 8; n++) ok &= y[n] == 12345.0f;
  if (!ok) fprintf(stderr, "  gemv %s N=%lld K=%lld add=%d wrong\n", mk->isa, (long long)N, (long long)K, add_mode);
  free(W), free(x), free(add), free(y), free(p);
  return ok;
}

TEST(mk_rnn_gemv_matches_double) {
  const er_microkernels *tabs[2] = {er_microkernels_ref(), er_microkernels_select()};
  static const int64_t Ns[] = {1, 3, 7, 8, 9, 15, 16, 17, 31, 63, 64, 65, 100, 129, 256, 300, 512};
  static const int64_t Ks[] = {1, 2, 5, 8, 13, 64, 129};
  for (int t = 0; t < 2; t++)
    for (unsigned i = 0; i < sizeof Ns / sizeof Ns[0]; i++)
      for (unsigned j = 0; j < sizeof Ks / sizeof Ks[0]; j++) CHECK(check_gemv(tabs[t], Ns[i], Ks[j], (int)((i + j) % 3)));
}

/* sigmoid / tanh: relative error <= 1e-6 (sigmoid: or absolute <= 1e-37 where it
 * underflows) on a grid, at +-inf and at every tail length; NaN stays NaN. */
static int check_act(const er_microkernels *mk, int tanh_) {
  enum { NX = 6000 };
  static float xs[NX], ys[NX];
  int n = 0;
  for (int i = 0; i < 4000; i++) xs[n++] = -30.0f + 60.0f * (float)i / 4000.0f;
  for (int i = 0; i < 600; i++) xs[n++] = (float)(i - 300) * 1e-3f;  /* around 0 */
  for (int i = 0; i < 400; i++) xs[n++] = ldexpf(1.0f, -i / 4) * (i & 1 ? -1 : 1); /* tiny */
  static const float sp[] = {0.0f, -0.0f, 0.625f, -0.625f, 0.62499994f, 0.62500006f, 9.0f, -9.0f, 20.0f,
                             -87.0f, 87.0f, 88.0f, -88.0f, 100.0f, -100.0f, 1e30f, -1e30f, 1e-40f};
  for (unsigned i = 0; i < sizeof sp / sizeof sp[0]; i++) xs[n++] = sp[i];
  int ok = 1;
  for (int off = 0; off < 8; off++) { /* every tail length */
    (tanh_ ? mk->f32_tanh : mk->f32_sigmoid)(n - off, xs + off, ys + off);
    for (int i = off; i < n; i++) {
      double x = xs[i], want = tanh_ ? tanh(x) : 1.0 / (1.0 + exp(-x)), err = fabs(ys[i] - want);
      int good = err <= 1e-6 * fabs(want) || (!tanh_ && err <= 1e-37) || (x == 0 && ys[i] == want);
      if (!good && ok) fprintf(stderr, "  %s %s(%.9g) = %.9g, want %.9g\n", mk->isa, tanh_ ? "tanh" : "sigmoid", x, ys[i], want);
      ok &= good;
    }
  }
  float sp2[4] = {INFINITY, -INFINITY, NAN, 0.5f}, out[4];
  (tanh_ ? mk->f32_tanh : mk->f32_sigmoid)(4, sp2, out);
  ok &= fabsf(out[0] - 1.0f) <= 1e-6f && out[1] == (tanh_ ? -1.0f : 0.0f) && isnan(out[2]);
  (tanh_ ? mk->f32_tanh : mk->f32_sigmoid)(3, sp2, sp2); /* in place */
  ok &= fabsf(sp2[0] - 1.0f) <= 1e-6f && isnan(sp2[2]);
  return ok;
}

TEST(mk_rnn_sigmoid_tanh_accuracy) {
  const er_microkernels *tabs[2] = {er_microkernels_ref(), er_microkernels_select()};
  for (int t = 0; t < 2; t++) {
    CHECK(check_act(tabs[t], 0));
    CHECK(check_act(tabs[t], 1));
  }
}

static double sig_d(double x) { return 1.0 / (1.0 + exp(-x)); }

/* LSTM step against double; parity 0 and 1 must give the same bits. */
static int check_lstm_step(const er_microkernels *mk, int64_t H) {
  float *R = malloc(sizeof(float) * (size_t)(4 * H * H)), *xw = malloc(sizeof(float) * (size_t)(4 * H));
  float *h0 = malloc(sizeof(float) * (size_t)H), *c = malloc(sizeof(float) * (size_t)(2 * H));
  float *h = malloc(sizeof(float) * (size_t)(2 * H + 8));
  double sc = 2.0 / sqrt((double)H);
  for (int64_t i = 0; i < 4 * H * H; i++) R[i] = (float)(sc * frand());
  for (int64_t i = 0; i < 4 * H; i++) xw[i] = 2.0f * frand();
  for (int64_t i = 0; i < H; i++) h0[i] = frand(), c[i] = c[H + i] = 2.0f * frand();
  for (int64_t i = 0; i < 2 * H + 8; i++) h[i] = 777.0f;
  void *p = packed_alloc(mk->f32_lstm_packed_size(H));
  mk->f32_lstm_pack(H, R, p);
  float c_in[256];
  memcpy(c_in, c, sizeof(float) * (size_t)H);
  mk->f32_lstm_step(H, h0, p, xw, c, h, 0);
  mk->f32_lstm_step(H, h0, p, xw, c + H, h + H, 1);
  int ok = !memcmp(c, c + H, sizeof(float) * (size_t)H) && !memcmp(h, h + H, sizeof(float) * (size_t)H);
  for (int64_t i = 2 * H; i < 2 * H + 8; i++) ok &= h[i] == 777.0f;
  for (int64_t j = 0; j < H; j++) {
    double g[4];
    for (int q = 0; q < 4; q++) {
      g[q] = xw[q * H + j];
      for (int64_t k = 0; k < H; k++) g[q] += (double)R[(q * H + j) * H + k] * h0[k];
    }
    double cn = sig_d(g[2]) * c_in[j] + sig_d(g[0]) * tanh(g[3]), hn = sig_d(g[1]) * tanh(cn);
    ok &= fabs(c[j] - cn) <= 1e-5 * (1 + fabs(cn)) && fabs(h[j] - hn) <= 1e-5;
  }
  if (!ok) fprintf(stderr, "  lstm_step %s H=%lld wrong\n", mk->isa, (long long)H);
  free(R), free(xw), free(h0), free(c), free(h), free(p);
  return ok;
}

TEST(mk_rnn_lstm_step_matches_double) {
  const er_microkernels *tabs[2] = {er_microkernels_ref(), er_microkernels_select()};
  static const int64_t Hs[] = {1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 65, 100, 128};
  for (int t = 0; t < 2; t++)
    for (unsigned i = 0; i < sizeof Hs / sizeof Hs[0]; i++) CHECK(check_lstm_step(tabs[t], Hs[i]));
}

/* ---- ops: prepared fast path (what a static plan runs) vs the generic double path ---- */

/* infer, prepare (unless raw), run with this CPU's table and the given pool. Outputs are
 * allocated here (free with free_outs). */
static er_status run_fast(const char *op_type, const er_attr *at, int nat, er_tensor **in, int nin,
                          er_tensor *out, int n_out, er_threadpool *pool, int raw, int *prepared) {
  const er_op_def *op = er_op_find("", op_type, 14);
  er_node node = {.name = "rnn", .op_type = op_type, .domain = "", .opset = 14, .n_inputs = nin,
                  .n_outputs = n_out, .n_attrs = nat, .attrs = (er_attr *)at, .op = op};
  er_tensor *outs[3] = {&out[0], &out[1], &out[2]};
  er_kctx c = {.node = &node, .opset = 14, .n_in = nin, .n_out = n_out, .in = in, .out = outs,
               .threads = pool, .mk = er_microkernels_select()};
  ER_RETURN_IF_ERROR(op->infer(&c));
  for (int k = 0; k < n_out; k++) out[k].data = calloc(1, er_tensor_nbytes(&out[k]) + 4);
  void *state = !raw && c.state_bytes ? calloc(1, c.state_bytes) : NULL;
  c.state = state;
  *prepared = state != NULL;
  er_status s = state && op->prepare ? op->prepare(&c) : NULL;
  if (!raw) c.state_bytes = state ? c.state_bytes : 0;
  else c.state_bytes = 0;
  void *scratch = c.scratch_bytes ? calloc(1, c.scratch_bytes) : NULL;
  c.scratch = scratch;
  if (!s) s = op->run(&c);
  free(scratch), free(state);
  return s;
}

static void free_outs(er_tensor *o, int n) {
  for (int k = 0; k < n; k++) free(o[k].data), o[k].data = NULL;
}

typedef struct {
  const char *op;
  int lbr, T, N, I, H, dir, layout, with_b, with_h0;
} rnn_case;

/* Worst relative error of the fast path vs double; -1 if 1 and 2 threads differ. */
static double check_rnn_case(const rnn_case *k, er_threadpool *pool, int raw, int *prepared) {
  int G = !strcmp(k->op, "LSTM") ? 4 : !strcmp(k->op, "GRU") ? 3 : 1;
  int D = k->dir == 2 ? 2 : 1, nst = G == 4 ? 2 : 1, n_out = 2 + (G == 4);
  int64_t dx[3] = {k->layout ? k->N : k->T, k->layout ? k->T : k->N, k->I};
  int64_t dw[3] = {D, G * k->H, k->I}, dr[3] = {D, G * k->H, k->H}, db[2] = {D, 2 * G * k->H};
  int64_t dh[3] = {k->layout ? k->N : D, k->layout ? D : k->N, k->H};
  const int64_t *dims[8] = {dx, dw, dr, db, NULL, dh, dh};
  int ranks[8] = {3, 3, 3, 2, 0, 3, 3};
  double scale[8] = {1.0, 2.0 / sqrt((double)(k->H > k->I ? k->H : k->I)), 2.0 / sqrt((double)k->H), 0.5, 0, 0.8, 0.8};
  er_tensor *fin[8] = {0}, *din[8] = {0};
  int n_in = k->with_h0 ? 5 + nst : k->with_b ? 4 : 3;
  for (int i = 0; i < n_in; i++) {
    if (i == 4 || (i == 3 && !k->with_b)) continue;
    fin[i] = ot_tensor(ER_F32, ranks[i], dims[i], NULL);
    din[i] = ot_tensor(ER_F64, ranks[i], dims[i], NULL);
    for (int64_t e = 0; e < er_tensor_numel(fin[i]); e++) {
      float v = (float)(scale[i] * frand());
      ((float *)fin[i]->data)[e] = v;
      ((double *)din[i]->data)[e] = v;
    }
  }
  static const char *const dirs[] = {"forward", "reverse", "bidirectional"};
  er_attr at[] = {ot_int("hidden_size", k->H), ot_str("direction", dirs[k->dir]), ot_int("layout", k->layout),
                  ot_int("linear_before_reset", k->lbr)};
  int nat = G == 3 ? 4 : 3;
  er_tensor a[3] = {0}, b[3] = {0}, *dout[3];
  double worst = INFINITY;
  er_status s = run_fast(k->op, at, nat, fin, n_in, a, n_out, NULL, raw, prepared);
  if (!s) s = run_fast(k->op, at, nat, fin, n_in, b, n_out, pool, raw, prepared);
  if (!s) s = ot_run(k->op, 14, at, nat, din, n_in, dout, n_out);
  if (s) {
    fprintf(stderr, "  %s: %s\n", k->op, er_status_message(s));
    er_status_free(s);
  } else {
    worst = 0;
    for (int o = 0; o < n_out; o++) {
      if (memcmp(a[o].data, b[o].data, er_tensor_nbytes(&a[o]))) worst = -1;
      for (int64_t e = 0; worst >= 0 && e < er_tensor_numel(&a[o]); e++) {
        double x = ((float *)a[o].data)[e], y = ((double *)dout[o]->data)[e];
        double err = fabs(x - y) / (fabs(y) + 1e-2);
        if (!(err <= worst)) worst = err;
      }
    }
  }
  free_outs(a, n_out), free_outs(b, n_out);
  ot_free_all();
  return worst;
}

static const rnn_case k_cases[] = {
    {"LSTM", 0, 1, 1, 128, 128, 0, 0, 1, 1},  /* Silero-like: one step, GEMV projection */
    {"LSTM", 0, 128, 1, 8, 64, 0, 1, 1, 0},   /* lstm_ts layer 1 */
    {"LSTM", 0, 128, 1, 64, 64, 0, 1, 1, 0},  /* lstm_ts layer 2 */
    {"LSTM", 0, 256, 2, 128, 64, 2, 0, 1, 1}, /* projection split over threads */
    {"LSTM", 0, 3, 2, 5, 17, 2, 0, 1, 1},
    {"LSTM", 0, 2, 2, 3, 9, 1, 1, 0, 1},
    {"LSTM", 0, 7, 5, 33, 65, 2, 1, 1, 1},
    {"LSTM", 0, 40, 3, 50, 40, 0, 0, 1, 1},
    {"LSTM", 0, 0, 2, 3, 5, 0, 0, 1, 1},     /* empty sequence */
    {"GRU", 0, 1, 1, 40, 33, 0, 0, 1, 1},
    {"GRU", 1, 1, 1, 40, 33, 2, 0, 1, 1},
    {"GRU", 0, 50, 2, 30, 48, 2, 1, 1, 1},
    {"GRU", 1, 50, 2, 30, 48, 1, 0, 1, 0},
    {"GRU", 0, 6, 3, 7, 9, 0, 1, 0, 1},
    {"RNN", 0, 1, 1, 16, 20, 0, 0, 1, 1},
    {"RNN", 0, 90, 2, 60, 70, 2, 1, 1, 1},
    {"RNN", 0, 5, 4, 3, 2, 1, 0, 0, 0},
    /* long enough for the 2-thread pipeline (projection ahead of the recurrence) */
    {"RNN", 0, 64, 1, 64, 64, 1, 1, 1, 1},
    {"GRU", 0, 40, 2, 64, 32, 2, 0, 1, 1},
};

static void rnn_op_cases(int *er_failed_, int raw) {
  er_threadpool *pool = NULL;
  CHECK_OK(er_threadpool_create(2, &pool));
  for (unsigned i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++) {
    int prepared = 0;
    double e = check_rnn_case(&k_cases[i], pool, raw, &prepared);
    if (!(e >= 0 && e < 1e-4))
      fprintf(stderr, "  case %u (%s T=%d N=%d H=%d raw=%d): error %g%s\n", i, k_cases[i].op, k_cases[i].T,
              k_cases[i].N, k_cases[i].H, raw, e, e < 0 ? " (threads 1 and 2 differ)" : "");
    CHECK(e >= 0 && e < 1e-4);
    CHECK(prepared == !raw);
  }
  er_threadpool_destroy(pool);
}

TEST(rnn_prepared_fast_path_matches_double_and_threads) { rnn_op_cases(er_failed_, 0); }
TEST(rnn_unprepared_fast_path_matches_double_and_threads) { rnn_op_cases(er_failed_, 1); }
