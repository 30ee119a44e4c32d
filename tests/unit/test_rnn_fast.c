/* RNN / GRU / LSTM float32 fast path (GEMM input projection, float gates) against the
 * generic double path: the same random data run as float and as double must agree.
 * Shapes cover the GEMV recurrence (batch <= 4) and the GEMM one (batch 5, 6). */
#include <math.h>
#include <string.h>

#include "optest.h"
#include "test.h"

static uint32_t g_seed = 12345;
static double rnd(void) { /* uniform in [-1, 1) */
  g_seed = g_seed * 1664525u + 1013904223u;
  return (double)(g_seed >> 8) / (double)(1u << 23) - 1.0;
}

/* The same random values as a float tensor and a double tensor. */
static void rand_pair(int rank, const int64_t *dims, double scale, er_tensor **f, er_tensor **d) {
  *f = ot_tensor(ER_F32, rank, dims, NULL);
  *d = ot_tensor(ER_F64, rank, dims, NULL);
  for (int64_t i = 0; i < er_tensor_numel(*f); i++) {
    float v = (float)(scale * rnd());
    ((float *)(*f)->data)[i] = v;
    ((double *)(*d)->data)[i] = v;
  }
}

/* max over elements of |a - b| / (|b| + 1e-2): relative, except near zero */
static double rel_err(const er_tensor *a, const er_tensor *b) {
  if (er_tensor_numel(a) != er_tensor_numel(b) || a->dtype != ER_F32 || b->dtype != ER_F64)
    return INFINITY;
  double m = 0;
  for (int64_t i = 0; i < er_tensor_numel(a); i++) {
    double x = ((const float *)a->data)[i], y = ((const double *)b->data)[i];
    double e = fabs(x - y) / (fabs(y) + 1e-2);
    if (!(e <= m)) m = e; /* NaN propagates */
  }
  return m;
}

/* One random case: returns the worst relative error over all outputs. */
static double run_case(const char *op, int seq, int batch, int hid, int in, int dir, int layout,
                       int with_b, int with_h0, int lbr) {
  int G = !strcmp(op, "LSTM") ? 4 : !strcmp(op, "GRU") ? 3 : 1;
  int D = dir == 2 ? 2 : 1, nst = G == 4 ? 2 : 1, n_out = 1 + 1 + (G == 4);
  int64_t dx[3] = {layout ? batch : seq, layout ? seq : batch, in};
  int64_t dw[3] = {D, G * hid, in}, dr[3] = {D, G * hid, hid}, db[2] = {D, 2 * G * hid};
  int64_t dh[3] = {layout ? batch : D, layout ? D : batch, hid};
  er_tensor *fin[8] = {0}, *din[8] = {0};
  double ws = 1.0 / sqrt((double)(hid > in ? hid : in));
  rand_pair(3, dx, 1.0, &fin[0], &din[0]);
  rand_pair(3, dw, 2 * ws, &fin[1], &din[1]);
  rand_pair(3, dr, 2 * ws, &fin[2], &din[2]);
  if (with_b) rand_pair(2, db, 0.5, &fin[3], &din[3]);
  if (with_h0)
    for (int s = 0; s < nst; s++) rand_pair(3, dh, 0.8, &fin[5 + s], &din[5 + s]);
  static const char *const dirs[] = {"forward", "reverse", "bidirectional"};
  er_attr at[] = {ot_int("hidden_size", hid), ot_str("direction", dirs[dir]), ot_int("layout", layout),
                  ot_int("linear_before_reset", lbr)};
  int n_at = G == 3 ? 4 : 3;
  int n_in = with_h0 ? 5 + nst : with_b ? 4 : 3;
  er_tensor *fo[3], *dout[3];
  er_status st = ot_run(op, 14, at, n_at, fin, n_in, fo, n_out);
  if (st) return INFINITY;
  st = ot_run(op, 14, at, n_at, din, n_in, dout, n_out);
  if (st) return INFINITY;
  double m = 0;
  for (int k = 0; k < n_out; k++) {
    double e = rel_err(fo[k], dout[k]);
    if (!(e <= m)) m = e;
  }
  ot_free_all();
  return m;
}

static double sweep(const char *op, int lbr) {
  double worst = 0;
  for (int i = 0; i < 60; i++) {
    int seq = 1 + i % 7, batch = 1 + (i / 7) % 3, hid = 1 + (i * 13) % 65, in = 1 + (i * 7) % 33;
    if (i % 10 == 9) batch = 5 + i % 2; /* recurrence through the GEMM micro-kernel */
    int dir = i % 3, layout = (i / 3) % 2, with_b = i % 4 != 1, with_h0 = i % 5 >= 2;
    double e = run_case(op, seq, batch, hid, in, dir, layout, with_b, with_h0, lbr);
    if (!(e <= worst)) worst = e;
  }
  /* edge sizes */
  double e = run_case(op, 7, 3, 65, 33, 2, 1, 1, 1, lbr);
  if (!(e <= worst)) worst = e;
  e = run_case(op, 1, 1, 1, 1, 0, 0, 0, 0, lbr);
  if (!(e <= worst)) worst = e;
  return worst;
}

TEST(rnn_fast_lstm_matches_double) { CHECK(sweep("LSTM", 0) < 1e-4); }
TEST(rnn_fast_gru_matches_double) { CHECK(sweep("GRU", 0) < 1e-4); }
TEST(rnn_fast_gru_lbr_matches_double) { CHECK(sweep("GRU", 1) < 1e-4); }
TEST(rnn_fast_rnn_matches_double) { CHECK(sweep("RNN", 0) < 1e-4); }

/* Zero-length sequence: empty Y, zero states (both paths agree). */
TEST(rnn_fast_lstm_empty_sequence) {
  int64_t dx[] = {0, 2, 3}, dw[] = {1, 8, 3}, dr[] = {1, 8, 2};
  er_tensor *x = ot_tensor(ER_F32, 3, dx, NULL), *w, *wd, *r, *rd;
  rand_pair(3, dw, 0.5, &w, &wd);
  rand_pair(3, dr, 0.5, &r, &rd);
  er_tensor *in[] = {x, w, r}, *out[3];
  er_attr at[] = {ot_int("hidden_size", 2)};
  CHECK_OK(ot_run("LSTM", 14, at, 1, in, 3, out, 3));
  CHECK(er_tensor_numel(out[0]) == 0 && er_tensor_numel(out[1]) == 4);
  for (int i = 0; i < 4; i++) CHECK(((float *)out[1]->data)[i] == 0 && ((float *)out[2]->data)[i] == 0);
  ot_free_all();
}

/* Non-default activation on float keeps the generic path and still matches double. */
TEST(rnn_fast_lstm_custom_activation_falls_back) {
  int64_t dx[] = {3, 2, 4}, dw[] = {1, 12, 4}, dr[] = {1, 12, 3};
  er_tensor *fin[3], *din[3];
  rand_pair(3, dx, 1.0, &fin[0], &din[0]);
  rand_pair(3, dw, 0.5, &fin[1], &din[1]);
  rand_pair(3, dr, 0.5, &fin[2], &din[2]);
  const char *acts[] = {"HardSigmoid", "Tanh", "Tanh"};
  er_attr at[] = {ot_int("hidden_size", 3),
                  {.name = "activations", .type = ER_ATTR_STRINGS, .n = 3, .strings = acts}};
  er_tensor *fo[2], *dout[2];
  CHECK_OK(ot_run("LSTM", 14, at, 2, fin, 3, fo, 2));
  CHECK_OK(ot_run("LSTM", 14, at, 2, din, 3, dout, 2));
  CHECK(rel_err(fo[0], dout[0]) < 1e-5 && rel_err(fo[1], dout[1]) < 1e-5);
  ot_free_all();
}
