/* Quantizer (src/quant): calibration math on known data and histograms, the
 * scale/zero-point rules, weight quantization, and the QDQ rewriting of the small models of
 * tests/data/quant (made by tests/data/quant/make.py), run through the executor against the
 * float model. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "export/onnx_write.h"
#include "import/onnx/onnx.h"
#include "io/dataset.h"
#include "io/tensor_io.h"
#include "quant/calib.h"
#include "quant/internal.h"
#include "quant/quantize.h"
#include "runtime/exec.h"
#include "test.h"

#define QDATA "tests/data/quant/"

/* ------------------------------------------------------------ statistics */

TEST(quant_minmax_ignores_nonfinite) {
  er_qstat s;
  CHECK_OK(er_qstat_init(&s, 0));
  float a[] = {0.5f, -2.0f, NAN, 3.0f, INFINITY};
  er_qstat_add(&s, a, 5);
  CHECK(s.count == 3 && s.nonfinite == 2);
  double lo, hi;
  CHECK(er_qstat_range(&s, ER_CALIB_MINMAX, 0, &lo, &hi));
  CHECK(lo == -2.0 && hi == 3.0);
  /* one-signed data: the range is widened to contain 0 */
  er_qstat t;
  CHECK_OK(er_qstat_init(&t, 0));
  float b[] = {1.0f, 2.0f};
  er_qstat_add(&t, b, 2);
  CHECK(er_qstat_range(&t, ER_CALIB_MINMAX, 0, &lo, &hi) && lo == 0.0 && hi == 2.0);
  er_qstat e;
  CHECK_OK(er_qstat_init(&e, 1));
  CHECK(!er_qstat_range(&e, ER_CALIB_ENTROPY, 0, &lo, &hi) && lo == 0 && hi == 0);
  er_qstat_free(&s);
  er_qstat_free(&t);
  er_qstat_free(&e);
}

TEST(quant_histogram_widens_exactly) {
  er_qstat s;
  CHECK_OK(er_qstat_init(&s, 1));
  float z[4] = {0, 0, 0, 0};
  er_qstat_add(&s, z, 4); /* zeros before any range */
  float a[] = {0.75f, -0.5f, 0.25f};
  er_qstat_add(&s, a, 3);
  CHECK(s.range == 1.0);
  float b[] = {3.0f, -2.5f};
  er_qstat_add(&s, b, 2);
  CHECK(s.range == 4.0);
  double total = 0;
  for (int i = 0; i < ER_QHIST_BINS; i++) total += s.bins[i];
  CHECK(total == 9.0);
  /* after widening twice, bins are 4*2/4096 wide: 0.75 lands in bin 2048 + 0.75/w */
  double w = 8.0 / ER_QHIST_BINS;
  CHECK(s.bins[ER_QHIST_BINS / 2 + (int)(0.75 / w)] == 1.0);
  CHECK(s.bins[ER_QHIST_BINS / 2] == 4.0); /* the zeros */
  CHECK(s.bins[ER_QHIST_BINS / 2 + (int)floor(-2.5 / w)] == 1.0);
  er_qstat_free(&s);
}

TEST(quant_percentile_on_uniform_data) {
  er_qstat s;
  CHECK_OK(er_qstat_init(&s, 1));
  enum { N = 100000 };
  float *x = (float *)malloc(sizeof(float) * N);
  for (int i = 0; i < N; i++) x[i] = (float)i / N; /* uniform on [0, 1) */
  er_qstat_add(&s, x, N);
  double lo, hi;
  CHECK(er_qstat_range(&s, ER_CALIB_PERCENTILE, 99.0, &lo, &hi));
  CHECK(lo == 0.0);
  CHECK_NEAR(hi, 0.99, 2.0 / ER_QHIST_BINS + 1e-9);
  CHECK(er_qstat_range(&s, ER_CALIB_PERCENTILE, 100.0, &lo, &hi));
  CHECK_NEAR(hi, (float)(N - 1) / N, 1e-7); /* clipped to the observed max */
  /* symmetric data: both tails cut */
  for (int i = 0; i < N; i++) x[i] = 2.0f * (float)i / N - 1.0f;
  er_qstat t;
  CHECK_OK(er_qstat_init(&t, 1));
  er_qstat_add(&t, x, N);
  CHECK(er_qstat_range(&t, ER_CALIB_PERCENTILE, 99.0, &lo, &hi));
  CHECK_NEAR(lo, -0.98, 2.0 / ER_QHIST_BINS + 1e-9);
  CHECK_NEAR(hi, 0.98, 2.0 / ER_QHIST_BINS + 1e-9);
  er_qstat_free(&s);
  er_qstat_free(&t);
  free(x);
}

TEST(quant_quantile_bin) {
  double h[] = {0, 5, 0, 3, 2};
  CHECK(er_hist_quantile_bin(h, 5, 0.0) == 1);
  CHECK(er_hist_quantile_bin(h, 5, 0.5) == 1);
  CHECK(er_hist_quantile_bin(h, 5, 0.51) == 3);
  CHECK(er_hist_quantile_bin(h, 5, 1.0) == 4);
  double e[] = {0, 0};
  CHECK(er_hist_quantile_bin(e, 2, 0.5) == -1);
}

TEST(quant_kl_threshold_on_known_histograms) {
  enum { NB = 2048 };
  double *h = (double *)calloc(NB, sizeof(double));
  /* few bins: no clipping */
  for (int i = 0; i < 100; i++) h[i] = 1;
  CHECK(er_hist_kl_bins(h, NB, 128) == 100);
  /* a dense bell over the first ~400 bins plus a handful of far outliers: the threshold
   * leaves the outliers out and keeps the bulk */
  memset(h, 0, sizeof(double) * NB);
  for (int i = 0; i < NB; i++) h[i] = floor(1e6 * exp(-0.5 * pow(i / 100.0, 2)));
  h[2000] = 3;
  int t = er_hist_kl_bins(h, NB, 128);
  CHECK(t >= 250 && t <= 600);
  /* uniform mass over 1000 bins: every clip loses information, the full extent wins */
  memset(h, 0, sizeof(double) * NB);
  for (int i = 0; i < 1000; i++) h[i] = 1000;
  t = er_hist_kl_bins(h, NB, 128);
  CHECK(t >= 990 && t <= 1000);
  free(h);
}

TEST(quant_entropy_range_on_gaussian) {
  enum { N = 200000 };
  float *x = (float *)malloc(sizeof(float) * N);
  unsigned r = 12345;
  for (int i = 0; i < N; i += 2) { /* Box-Muller on a fixed LCG */
    double u, v;
    r = r * 1103515245u + 12345u;
    u = ((r >> 8) + 1.0) / 16777218.0;
    r = r * 1103515245u + 12345u;
    v = ((r >> 8) + 1.0) / 16777218.0;
    x[i] = (float)(sqrt(-2 * log(u)) * cos(2 * M_PI * v));
    x[i + 1] = (float)(sqrt(-2 * log(u)) * sin(2 * M_PI * v));
  }
  er_qstat s;
  CHECK_OK(er_qstat_init(&s, 1));
  er_qstat_add(&s, x, N);
  double lo, hi;
  CHECK(er_qstat_range(&s, ER_CALIB_ENTROPY, 0, &lo, &hi));
  /* clips the tails (max is ~4.5 sigma) but keeps ~3 sigma and more */
  CHECK(hi > 2.8 && hi < s.max && lo < -2.8 && lo > s.min);
  /* after a ReLU: the spike of zeros does not drag the threshold down */
  for (int i = 0; i < N; i++) x[i] = x[i] > 0 ? x[i] : 0;
  er_qstat t;
  CHECK_OK(er_qstat_init(&t, 1));
  er_qstat_add(&t, x, N);
  CHECK(er_qstat_range(&t, ER_CALIB_ENTROPY, 0, &lo, &hi));
  CHECK(lo == 0 && hi > 2.8);
  er_qstat_free(&s);
  er_qstat_free(&t);
  free(x);
}

/* ------------------------------------------------------------ parameters */

TEST(quant_affine_params_zero_exact) {
  float s;
  int32_t z;
  er_qparams_affine(-1.0, 3.0, 0, 255, &s, &z);
  CHECK_NEAR(s, 4.0 / 255, 1e-9);
  CHECK(z == 64); /* round(1 / (4/255)) = round(63.75) */
  CHECK(er_quantize_value(0.0f, s, z, 0, 255) == z);
  CHECK((float)((er_quantize_value(0.0f, s, z, 0, 255) - z) * s) == 0.0f);
  /* one-signed ranges are widened to contain 0 */
  er_qparams_affine(0.5, 2.0, 0, 255, &s, &z);
  CHECK(z == 0 && fabsf(s - 2.0f / 255) < 1e-9f);
  er_qparams_affine(-2.0, -1.0, 0, 255, &s, &z);
  CHECK(z == 255);
  /* int8: [-1, 1] -> zero point about -128 + 127.5 */
  er_qparams_affine(-1.0, 1.0, -128, 127, &s, &z);
  CHECK(z == 0 || z == -1);
  er_qparams_affine(-1.0, 3.0, -128, 127, &s, &z);
  CHECK(z == -64);
  /* every range keeps 0 exact */
  for (int k = 1; k < 200; k++) {
    double lo = -0.013 * k, hi = 0.07 * (200 - k);
    er_qparams_affine(lo, hi, 0, 255, &s, &z);
    CHECK(z >= 0 && z <= 255);
    CHECK(er_quantize_value(0.0f, s, z, 0, 255) == z);
  }
  /* empty range */
  er_qparams_affine(0, 0, 0, 255, &s, &z);
  CHECK(s == 1.0f && z == 0);
}

TEST(quant_symmetric_weights_and_rounding) {
  float s = er_qparams_symmetric(2.54, 127);
  CHECK_NEAR(s, 0.02, 1e-7);
  CHECK(er_quantize_value(2.54f, s, 0, -127, 127) == 127);
  CHECK(er_quantize_value(-2.54f, s, 0, -127, 127) == -127);
  CHECK(er_quantize_value(-9.0f, s, 0, -127, 127) == -127); /* saturates, never -128 */
  CHECK(er_qparams_symmetric(0, 127) == 1.0f);
  /* ties to even, like QuantizeLinear */
  CHECK(er_quantize_value(0.5f, 1.0f, 0, -128, 127) == 0);
  CHECK(er_quantize_value(1.5f, 1.0f, 0, -128, 127) == 2);
  CHECK(er_quantize_value(-2.5f, 1.0f, 0, -128, 127) == -2);
  CHECK(er_quantize_value(NAN, 1.0f, 3, 0, 255) == 3);
  /* per-channel along axis 0 and axis 1 */
  float w[6] = {1, -2, 0.5f, 4, 0, -8}; /* [2,3] */
  int64_t d[2] = {2, 3};
  int8_t q[6];
  float sc[3];
  quant_weight_int8(w, 2, d, 0, q, sc);
  CHECK_NEAR(sc[0], 2.0 / 127, 1e-9);
  CHECK_NEAR(sc[1], 8.0 / 127, 1e-9);
  CHECK(q[1] == -127 && q[5] == -127 && q[3] == 64 && q[0] == 64);
  quant_weight_int8(w, 2, d, 1, q, sc);
  CHECK_NEAR(sc[0], 4.0 / 127, 1e-9);
  CHECK_NEAR(sc[2], 8.0 / 127, 1e-9);
  CHECK(q[3] == 127 && q[4] == 0 && q[2] == 8);
  quant_weight_int8(w, 2, d, -1, q, sc);
  CHECK_NEAR(sc[0], 8.0 / 127, 1e-9);
}

TEST(quant_int4_blocks) {
  /* [4, 2] blocked along axis 0 by 2: scales [2, 2]; blocks whose values all land on the
   * max|w| / 7 grid keep that scale (any other loses more) */
  float w[8] = {7, 1, -3, 0, 3.0f / 7, 14, 1, -4};
  int64_t d[2] = {4, 2};
  int8_t q[8];
  float sc[4];
  quant_weight_int4(w, 2, d, 0, 2, q, sc);
  CHECK(sc[0] == 1.0f && sc[1] == 1.0f / 7 && sc[2] == 1.0f / 7 && sc[3] == 2.0f);
  CHECK(q[0] == 7 && q[2] == -3 && q[1] == 7 && q[3] == 0);
  CHECK(q[5] == 7 && q[7] == -2 && q[4] == 3 && q[6] == 7);
  for (int i = 0; i < 8; i++) CHECK(q[i] >= -8 && q[i] <= 7);
  /* a partial last block (K = 3, block 2) */
  int64_t d3[2] = {3, 1};
  float w3[3] = {1, 2, 3};
  float sc3[2];
  quant_weight_int4(w3, 2, d3, 0, 2, q, sc3);
  CHECK(sc3[1] == 3.0f / 7 && q[2] == 7);
  /* random blocks: the chosen scale never loses more than max|w| / 7, and is at most it */
  enum { K = 64 };
  float r[K], rs[2];
  int8_t rq[K];
  unsigned z = 99;
  for (int i = 0; i < K; i++) {
    z = z * 1103515245u + 12345u;
    r[i] = ((float)((z >> 8) & 0xffff) / 65535.0f - 0.5f) * (i == 5 ? 9.0f : 1.0f);
  }
  int64_t dk[2] = {K, 1};
  quant_weight_int4(r, 2, dk, 0, 32, rq, rs);
  for (int b = 0; b < 2; b++) {
    double amax = 0, e_naive = 0, e = 0;
    for (int i = b * 32; i < b * 32 + 32; i++) amax = fmax(amax, fabs(r[i]));
    float s0 = (float)(amax / 7);
    for (int i = b * 32; i < b * 32 + 32; i++) {
      e_naive += pow(r[i] - s0 * er_quantize_value(r[i], s0, 0, -8, 7), 2);
      e += pow(r[i] - rs[b] * rq[i], 2);
    }
    CHECK(rs[b] <= s0 * 1.000001f && rs[b] >= 0.69f * s0 && e <= e_naive + 1e-12);
  }
  /* the block with an outlier clips it a little: a finer grid for the rest wins */
  CHECK(rs[0] < (float)(4.5 / 7) * 0.999f || rs[0] == (float)(fabs(r[5]) / 7));
}

TEST(quant_bias_fits_int32) {
  float in_scale = 1e-3f, w_scale = 1e-9f, bias = 100.0f;
  CHECK(fabs(bias / ((double)in_scale * w_scale)) > 2147483647.0); /* would overflow */
  float ws = er_qbias_fit(w_scale, in_scale, &bias, 1);
  CHECK(ws > w_scale);
  int32_t q = er_quantize_bias(bias, in_scale, ws);
  CHECK(q > 2000000000 && q <= 2147483647);
  CHECK_NEAR((double)q * (double)(float)((double)in_scale * ws), 100.0, 1e-3);
  /* a bias that fits keeps the weight scale */
  float small = 0.5f;
  CHECK(er_qbias_fit(0.01f, 0.02f, &small, 1) == 0.01f);
  CHECK(er_quantize_bias(0.5f, 0.02f, 0.01f) == 2500);
  CHECK(er_quantize_bias(-1e30f, 1.0f, 1.0f) == INT32_MIN);
}

/* ------------------------------------------------------------ rewriting */

static er_status load(const char *name, er_imported *m) {
  char path[256];
  snprintf(path, sizeof path, QDATA "%s.onnx", name);
  return er_onnx_import_file(path, 0, m);
}

/* A calibration folder under /tmp with n samples of a [dims] float input (a smooth
 * pattern shifted per sample), or of input count `n_inputs`. */
static void make_calib(char *dir, size_t cap, int n, int n_inputs, int rank, const int64_t *dims) {
  snprintf(dir, cap, "/tmp/er_quant_test_%d_XXXXXX", (int)getpid());
  if (!mkdtemp(dir)) return;
  int64_t numel = er_shape_numel(dims, rank);
  float *x = (float *)malloc(sizeof(float) * (size_t)numel);
  for (int s = 0; s < n; s++) {
    char p[512];
    snprintf(p, sizeof p, "%s/s%02d", dir, s);
    mkdir(p, 0777);
    for (int k = 0; k < n_inputs; k++) {
      for (int64_t i = 0; i < numel; i++) x[i] = 1.5f * sinf(0.37f * (float)i + (float)s + 0.5f * (float)k);
      er_tensor t = {0};
      er_tensor_set_shape(&t, ER_F32, rank, dims);
      t.data = x;
      snprintf(p, sizeof p, "%s/s%02d/input_%d.npy", dir, s, k);
      er_status st = er_npy_write(p, &t);
      er_status_free(st);
    }
  }
  free(x);
}

static void rm_calib(const char *dir) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (strncmp(dir, "/tmp/er_quant_test_", 19) == 0 && system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
}

/* Output 0 of g on input x (all graph inputs get x). Caller frees. */
static float *run1(const er_graph *g, const float *x, int rank, const int64_t *dims, int64_t *out_n) {
  er_exec *e;
  er_status s = er_exec_create(g, NULL, er_host_allocator(), &e);
  if (s) {
    er_status_free(s);
    return NULL;
  }
  er_tensor t = {0};
  er_tensor_set_shape(&t, ER_F32, rank, dims);
  t.data = (void *)x;
  for (int i = 0; i < g->n_inputs && !s; i++)
    if (g->values[g->inputs[i]].kind != ER_VALUE_INITIALIZER) s = er_exec_set_input(e, i, &t);
  if (!s) s = er_exec_run(e);
  float *out = NULL;
  if (!s) {
    const er_tensor *o = er_exec_output(e, 0);
    *out_n = er_tensor_numel(o);
    out = (float *)malloc(sizeof(float) * (size_t)(*out_n + 1));
    memcpy(out, o->data, sizeof(float) * (size_t)*out_n);
  } else {
    fprintf(stderr, "  run: %s\n", er_status_message(s));
  }
  er_status_free(s);
  er_exec_destroy(e);
  return out;
}

static int count_op(const er_graph *g, const char *op) {
  int k = 0;
  for (int i = 0; i < g->n_nodes; i++) k += !strcmp(g->nodes[i].op_type, op);
  return k;
}

static const er_node *find_op(const er_graph *g, const char *op, int nth) {
  for (int i = 0; i < g->n_nodes; i++)
    if (!strcmp(g->nodes[i].op_type, op) && nth-- == 0) return &g->nodes[i];
  return NULL;
}

static const er_value *input_value(const er_graph *g, const er_node *n, int k) {
  return k < n->n_inputs && n->inputs[k] >= 0 ? &g->values[n->inputs[k]] : NULL;
}

/* Quantize model `name` (static, calibrated on 4 samples of its input) and compare with
 * float on a fresh input: max |diff| <= tol. */
static void quantize_and_compare(int *er_failed_, const char *name, er_quant_options *o, int rank,
                                 const int64_t *dims, double tol, er_imported *out_q) {
  er_imported f, q;
  char dir[256];
  make_calib(dir, sizeof dir, 4, 1, rank, dims);
  er_dataset d;
  CHECK_OK(load(name, &f));
  CHECK_OK(load(name, &q));
  CHECK_OK(er_dataset_open(dir, 1, &d));
  er_quant_report r;
  int weight_only = o->dynamic || o->int4 || o->fp16;
  CHECK_OK(er_quantize(&q, weight_only ? NULL : &d, o, &r));
  CHECK(r.n_samples == (weight_only ? 0 : 4));
  int64_t numel = er_shape_numel(dims, rank), n1 = 0, n2 = 0;
  float *x = (float *)malloc(sizeof(float) * (size_t)numel);
  for (int64_t i = 0; i < numel; i++) x[i] = 1.4f * sinf(0.37f * (float)i + 2.2f);
  float *a = run1(f.graph, x, rank, dims, &n1), *b = run1(q.graph, x, rank, dims, &n2);
  CHECK(a && b && n1 == n2);
  double md = 0;
  for (int64_t i = 0; a && b && i < n1; i++) md = fmax(md, fabs(a[i] - b[i]));
  CHECK(md <= tol);
  if (md > tol) fprintf(stderr, "  %s: max |quantized - float| = %g > %g\n", name, md, tol);
  CHECK(md > 0); /* it really is quantized */
  free(a);
  free(b);
  free(x);
  er_quant_report_free(&r);
  er_dataset_close(&d);
  rm_calib(dir);
  er_imported_free(&f);
  *out_q = q;
}

TEST(quant_rewrite_cnn) {
  er_quant_options o;
  er_quant_options_default(&o);
  er_imported q;
  int64_t dims[4] = {1, 3, 8, 8};
  quantize_and_compare(er_failed_, "cnn", &o, 4, dims, 0.15, &q);
  const er_graph *g = q.graph;
  /* BN folded, Relu folded into the Conv's range, MatMul+Add -> Gemm */
  CHECK(count_op(g, "BatchNormalization") == 0 && count_op(g, "Relu") == 0 && count_op(g, "Add") == 0);
  CHECK(count_op(g, "Gemm") == 1);
  /* activation pairs: x, conv out, pool out, flatten out, gemm out */
  CHECK(count_op(g, "QuantizeLinear") == 5);
  /* + weight and bias DQs of conv and gemm */
  CHECK(count_op(g, "DequantizeLinear") == 9);
  const er_node *conv = find_op(g, "Conv", 0);
  CHECK(conv != NULL);
  if (conv) {
    const er_node *wdq = NULL, *bdq = NULL;
    for (int i = 0; i < g->n_nodes; i++)
      for (int k = 0; k < g->nodes[i].n_outputs; k++) {
        if (g->nodes[i].outputs[k] == conv->inputs[1]) wdq = &g->nodes[i];
        if (g->nodes[i].outputs[k] == conv->inputs[2]) bdq = &g->nodes[i];
      }
    CHECK(wdq && !strcmp(wdq->op_type, "DequantizeLinear"));
    CHECK(bdq && !strcmp(bdq->op_type, "DequantizeLinear"));
    if (wdq && bdq) {
      const er_value *wq = input_value(g, wdq, 0), *ws = input_value(g, wdq, 1);
      const er_value *bq = input_value(g, bdq, 0), *bs = input_value(g, bdq, 1);
      CHECK(wq->dtype == ER_I8 && wq->rank == 4 && ws->rank == 1 && ws->dims[0] == 8);
      CHECK(er_node_attr(wdq, "axis") && er_node_attr(wdq, "axis")->i == 0);
      CHECK(bq->dtype == ER_I32 && bdq->n_inputs == 2); /* zero point 0 by default */
      /* bias scale = input scale * weight scale, per channel */
      const er_node *xdq = NULL;
      for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].n_outputs && g->nodes[i].outputs[0] == conv->inputs[0]) xdq = &g->nodes[i];
      CHECK(xdq != NULL);
      if (xdq) {
        float xs = *(const float *)input_value(g, xdq, 1)->data;
        for (int m = 0; m < 8; m++)
          CHECK(((const float *)bs->data)[m] == (float)((double)xs * ((const float *)ws->data)[m]));
      }
      for (int64_t i = 0; i < 8 * 27; i++) {
        int8_t v = ((const int8_t *)wq->data)[i];
        CHECK(v != -128);
      }
    }
  }
  /* the graph output keeps its name and is the last DequantizeLinear's output */
  CHECK(!strcmp(g->values[g->outputs[0]].name, "y"));
  const er_value *y = &g->values[g->outputs[0]];
  CHECK(y->producer >= 0 && !strcmp(g->nodes[y->producer].op_type, "DequantizeLinear"));
  /* MaxPool and Flatten share their input's scale (ONNX Runtime drops their Q/DQ) */
  const er_node *pool = find_op(g, "MaxPool", 0);
  CHECK(pool != NULL);
  if (pool) {
    const er_node *in_dq = &g->nodes[g->values[pool->inputs[0]].producer];
    int out_v = pool->outputs[0];
    const er_node *out_q = NULL;
    for (int i = 0; i < g->n_nodes; i++)
      if (!strcmp(g->nodes[i].op_type, "QuantizeLinear") && g->nodes[i].inputs[0] == out_v) out_q = &g->nodes[i];
    CHECK(out_q != NULL);
    if (out_q)
      CHECK(*(const float *)input_value(g, in_dq, 1)->data == *(const float *)input_value(g, out_q, 1)->data &&
            *(const uint8_t *)input_value(g, in_dq, 2)->data == *(const uint8_t *)input_value(g, out_q, 2)->data);
  }
  er_imported_free(&q);
}

TEST(quant_rewrite_branches_lists_float_and_folds_clip) {
  er_quant_options o;
  er_quant_options_default(&o);
  o.act_dtype = ER_I8;
  o.method = ER_CALIB_PERCENTILE;
  er_imported q, f;
  int64_t dims[4] = {1, 4, 6, 6};
  quantize_and_compare(er_failed_, "branches", &o, 4, dims, 0.2, &q);
  const er_graph *g = q.graph;
  CHECK(count_op(g, "Relu") == 0 && count_op(g, "Clip") == 0);
  CHECK(count_op(g, "Tanh") == 1); /* never dropped */
  const er_node *gemm = find_op(g, "Gemm", 0);
  CHECK(gemm != NULL);
  if (gemm) {
    const er_node *wdq = &g->nodes[g->values[gemm->inputs[1]].producer];
    CHECK(!strcmp(wdq->op_type, "DequantizeLinear") && er_node_attr(wdq, "axis")->i == 0); /* transB */
  }
  /* activations int8: every Q zero point is int8 */
  for (int i = 0; i < g->n_nodes; i++)
    if (!strcmp(g->nodes[i].op_type, "QuantizeLinear")) CHECK(input_value(g, &g->nodes[i], 2)->dtype == ER_I8);
  /* both graph outputs keep their names */
  CHECK(g->n_outputs == 2 && !strcmp(g->values[g->outputs[1]].name, "r"));
  er_imported_free(&q);
  /* the report lists Tanh as float, the Relu and Clip as folded */
  char dir[256];
  make_calib(dir, sizeof dir, 2, 1, 4, dims);
  er_dataset d;
  CHECK_OK(load("branches", &f));
  CHECK_OK(er_dataset_open(dir, 1, &d));
  er_quant_report r;
  o.n_exclude = 1;
  const char *ex[] = {"conv_c"};
  o.exclude = ex;
  CHECK_OK(er_quantize(&f, &d, &o, &r));
  int tanh_float = 0, conv_c_float = 0, folded = 0;
  for (int i = 0; i < r.n_nodes; i++) {
    tanh_float |= !strcmp(r.nodes[i].name, "tanh") && r.nodes[i].status == ER_QN_FLOAT && r.nodes[i].reason;
    conv_c_float |= !strcmp(r.nodes[i].name, "conv_c") && r.nodes[i].status == ER_QN_FLOAT;
    folded += r.nodes[i].status == ER_QN_FOLDED;
  }
  CHECK(tanh_float && conv_c_float);
  CHECK(folded == 1); /* the Relu; the Clip after the excluded conv_c stays (quantized on its own) */
  CHECK(count_op(f.graph, "Clip") == 1);
  er_quant_report_free(&r);
  er_dataset_close(&d);
  rm_calib(dir);
  er_imported_free(&f);
}

TEST(quant_upgrades_old_opset) {
  er_quant_options o;
  er_quant_options_default(&o);
  er_imported q;
  int64_t dims[4] = {1, 2, 5, 5};
  quantize_and_compare(er_failed_, "old", &o, 4, dims, 0.02, &q);
  CHECK(quant_model_opset(&q) == 13);
  for (int i = 0; i < q.graph->n_nodes; i++) {
    const er_node *n = &q.graph->nodes[i];
    CHECK(n->opset == 13);
    if (!strcmp(n->op_type, "Squeeze") || !strcmp(n->op_type, "Unsqueeze")) CHECK(n->n_inputs == 2 && !er_node_attr(n, "axes"));
  }
  er_imported_free(&q);
}

TEST(quant_dynamic_int4_fp16) {
  er_quant_options o;
  er_quant_options_default(&o);
  er_imported q;
  int64_t dims[2] = {1, 64};
  o.dynamic = 1;
  quantize_and_compare(er_failed_, "mlp", &o, 2, dims, 0.08, &q);
  CHECK(count_op(q.graph, "QuantizeLinear") == 0 && count_op(q.graph, "DequantizeLinear") == 2);
  er_imported_free(&q);
  er_quant_options_default(&o);
  o.int4 = 1;
  quantize_and_compare(er_failed_, "mlp", &o, 2, dims, 0.8, &q);
  CHECK(quant_model_opset(&q) == 21);
  int blocked = 0;
  for (int i = 0; i < q.graph->n_nodes; i++) {
    const er_node *n = &q.graph->nodes[i];
    if (strcmp(n->op_type, "DequantizeLinear")) continue;
    const er_attr *bs = er_node_attr(n, "block_size");
    blocked += bs && bs->i == 64 && input_value(q.graph, n, 0)->dtype == ER_I4;
  }
  CHECK(blocked == 2);
  /* the Gemm became MatMul + Add: DequantizeLinear(axis 0) -> MatMul is the 4-bit pattern */
  CHECK(count_op(q.graph, "Gemm") == 0 && count_op(q.graph, "MatMul") == 2 && count_op(q.graph, "Add") == 1);
  er_imported_free(&q);
  er_quant_options_default(&o);
  o.fp16 = 1;
  quantize_and_compare(er_failed_, "mlp", &o, 2, dims, 0.01, &q);
  CHECK(count_op(q.graph, "Cast") == 2); /* w1 and w2; the 10-element bias stays float32 */
  if (count_op(q.graph, "Cast") != 2) fprintf(stderr, "  %d Cast\n", count_op(q.graph, "Cast"));
  er_imported_free(&q);
  /* ONNX Runtime's dynamic QOperator form: one DynamicQuantizeLinear per input value */
  er_quant_options_default(&o);
  o.dynamic = 1;
  o.qoperator = 1;
  quantize_and_compare(er_failed_, "mlp", &o, 2, dims, 0.08, &q);
  CHECK(count_op(q.graph, "MatMulInteger") == 2 && count_op(q.graph, "DynamicQuantizeLinear") == 2);
  CHECK(count_op(q.graph, "Gemm") == 0 && count_op(q.graph, "MatMul") == 0 && count_op(q.graph, "Add") == 1);
  CHECK(count_op(q.graph, "DequantizeLinear") == 0 && count_op(q.graph, "Cast") == 2);
  const er_node *mi = find_op(q.graph, "MatMulInteger", 1); /* the Gemm: weight transposed to [K, N] */
  CHECK(mi && input_value(q.graph, mi, 1)->dtype == ER_I8 && input_value(q.graph, mi, 1)->dims[0] == 32 &&
        input_value(q.graph, mi, 1)->dims[1] == 10 && input_value(q.graph, mi, 3)->dims[0] == 10);
  er_imported_free(&q);
  er_quant_options_default(&o);
  o.dynamic = 1;
  int64_t ld[3] = {5, 1, 4};
  quantize_and_compare(er_failed_, "lstm", &o, 3, ld, 0.05, &q);
  CHECK(count_op(q.graph, "DequantizeLinear") == 3); /* W, R, head */
  er_imported_free(&q);
}

/* MatMul + Add on a 3-D activation: the runtime fuses the bias into the MatMul (_bias, an
 * internal attribute); the quantizer's preparation must not, or the file cannot be written. */
TEST(quant_matmul_bias_3d_stays_standard) {
  int64_t dims[3] = {1, 4, 16};
  for (int mode = 0; mode < 4; mode++) {
    er_quant_options o;
    er_quant_options_default(&o);
    o.dynamic = mode == 1;
    o.int4 = mode == 2;
    o.fp16 = mode == 3;
    er_imported q;
    quantize_and_compare(er_failed_, "seq", &o, 3, dims, mode == 2 ? 0.5 : 0.1, &q);
    int internal = 0;
    for (int i = 0; i < q.graph->n_nodes; i++)
      for (int k = 0; k < q.graph->nodes[i].n_attrs; k++) internal += q.graph->nodes[i].attrs[k].name[0] == '_';
    CHECK(internal == 0);
    CHECK(count_op(q.graph, "MatMul") == 1 && count_op(q.graph, "Add") == 1);
    void *buf = NULL;
    size_t size = 0;
    CHECK_OK(er_onnx_write_buffer(&q, &buf, &size));
    CHECK(buf && size > 0);
    free(buf);
    er_imported_free(&q);
  }
}

TEST(quant_errors) {
  er_quant_options o;
  er_quant_options_default(&o);
  er_imported m;
  er_quant_report r;
  char dir[256];
  int64_t dims[2] = {1, 8};
  make_calib(dir, sizeof dir, 2, 1, 2, dims);
  er_dataset d;
  CHECK_OK(er_dataset_open(dir, 1, &d));
  /* nothing to quantize */
  CHECK_OK(load("nothing", &m));
  er_status s = er_quantize(&m, &d, &o, &r);
  CHECK(er_status_code(s) == ER_UNSUPPORTED && strstr(er_status_message(s), "nothing to quantize"));
  er_status_free(s);
  er_quant_report_free(&r);
  er_imported_free(&m);
  /* static without calibration */
  CHECK_OK(load("cnn", &m));
  CHECK_ERR(er_quantize(&m, NULL, &o, &r), ER_INVALID_ARGUMENT);
  er_quant_report_free(&r);
  er_imported_free(&m);
  /* samples of the wrong shape: the message names the sample and the input */
  CHECK_OK(load("cnn", &m));
  s = er_quantize(&m, &d, &o, &r);
  CHECK(er_status_code(s) == ER_INVALID_ARGUMENT && strstr(er_status_message(s), "input_0") &&
        strstr(er_status_message(s), "[1,3,8,8]"));
  er_status_free(s);
  er_quant_report_free(&r);
  er_imported_free(&m);
  /* one input per sample, the model wants two */
  CHECK_OK(load("two_in", &m));
  s = er_quantize(&m, &d, &o, &r);
  CHECK(er_status_code(s) == ER_INVALID_ARGUMENT && strstr(er_status_message(s), "2"));
  er_status_free(s);
  er_quant_report_free(&r);
  er_imported_free(&m);
  /* every compute node excluded */
  CHECK_OK(load("cnn", &m));
  const char *ex[] = {"fc", "conv1"};
  o.exclude = ex;
  o.n_exclude = 2;
  o.dynamic = 1;
  CHECK_ERR(er_quantize(&m, NULL, &o, &r), ER_UNSUPPORTED);
  er_quant_report_free(&r);
  er_imported_free(&m);
  /* bad options */
  er_quant_options_default(&o);
  o.qoperator = 1;
  CHECK_OK(load("mlp", &m));
  CHECK_ERR(er_quantize(&m, &d, &o, &r), ER_INVALID_ARGUMENT); /* QOperator without --dynamic */
  er_quant_report_free(&r);
  er_imported_free(&m);
  er_quant_options_default(&o);
  o.int4 = 1;
  o.block_size = 24;
  CHECK_OK(load("mlp", &m));
  CHECK_ERR(er_quantize(&m, NULL, &o, &r), ER_INVALID_ARGUMENT);
  er_quant_report_free(&r);
  er_imported_free(&m);
  er_dataset_close(&d);
  rm_calib(dir);
}

/* ------------------------------------------------------------ subgraphs */

static const er_graph *branch_of(const er_graph *g, const char *op, const char *attr) {
  const er_node *n = find_op(g, op, 0);
  const er_attr *a = n ? er_node_attr(n, attr) : NULL;
  return a && a->type == ER_ATTR_GRAPH ? a->g : NULL;
}

/* Scale of the QuantizeLinear in g whose input is called `in`, or -1. */
static float q_scale_of(const er_graph *g, const char *in) {
  for (int i = 0; i < g->n_nodes; i++) {
    const er_node *n = &g->nodes[i];
    if (!strcmp(n->op_type, "QuantizeLinear") && !strcmp(g->values[n->inputs[0]].name, in))
      return *(const float *)quant_root_value(g, n->inputs[1])->data;
  }
  return -1;
}

/* The written model reads back and computes what the in-memory one does. */
static void check_roundtrip(int *er_failed_, const er_imported *q, const float *x, int rank, const int64_t *dims) {
  void *buf = NULL;
  size_t size = 0;
  er_imported back;
  CHECK_OK(er_onnx_write_buffer(q, &buf, &size));
  memset(&back, 0, sizeof back);
  CHECK_OK(er_onnx_import(buf, size, NULL, "written", &back));
  int64_t n1 = 0, n2 = 0;
  float *a = run1(q->graph, x, rank, dims, &n1), *b = run1(back.graph, x, rank, dims, &n2);
  CHECK(a && b && n1 == n2);
  for (int64_t i = 0; a && b && i < n1; i++) CHECK(a[i] == b[i]);
  free(a);
  free(b);
  free(buf);
  er_imported_free(&back);
}

TEST(quant_subgraph_if) {
  er_quant_options o;
  er_quant_options_default(&o);
  er_imported q;
  int64_t dims[4] = {1, 4, 6, 6};
  quantize_and_compare(er_failed_, "if", &o, 4, dims, 0.2, &q);
  const er_graph *g = q.graph, *then_g = branch_of(g, "If", "then_branch"), *else_g = branch_of(g, "If", "else_branch");
  CHECK(then_g && else_g);
  if (!then_g || !else_g) return;
  /* inside the branch that ran: both Convs quantized (the branch's Relu folded), the Add too */
  CHECK(count_op(then_g, "Relu") == 0 && count_op(then_g, "QuantizeLinear") >= 4);
  const er_node *c2 = find_op(then_g, "Conv", 1);
  CHECK(c2 != NULL);
  if (c2) {
    /* its weight came from the main graph: now an int8 initializer of the branch */
    const er_value *dqo = &then_g->values[c2->inputs[1]];
    CHECK(dqo->kind == ER_VALUE_NODE && !strcmp(then_g->nodes[dqo->producer].op_type, "DequantizeLinear"));
    if (dqo->kind == ER_VALUE_NODE) {
      const er_value *wq = input_value(then_g, &then_g->nodes[dqo->producer], 0);
      CHECK(wq->kind == ER_VALUE_INITIALIZER && wq->dtype == ER_I8);
    }
    CHECK(er_graph_find_value(g, "wo") < 0); /* the float original is gone */
  }
  /* the main graph's Relu output read inside the branch keeps the main graph's scale */
  float sm = q_scale_of(g, "r0_float"), sb = q_scale_of(then_g, "r0");
  CHECK(sm > 0 && sm == sb);
  /* the branch that never ran: int8 weight only, float activations */
  CHECK(count_op(else_g, "QuantizeLinear") == 0 && count_op(else_g, "DequantizeLinear") == 1);
  /* the If output feeds the quantized Gemm */
  const er_node *gemm = find_op(g, "Gemm", 0);
  CHECK(gemm && !strcmp(g->nodes[g->values[gemm->inputs[0]].producer].op_type, "DequantizeLinear"));
  float x[144];
  for (int i = 0; i < 144; i++) x[i] = sinf(0.3f * (float)i);
  check_roundtrip(er_failed_, &q, x, 4, dims);
  er_imported_free(&q);
  /* the report names the branch's nodes, the one that never ran with its reason */
  er_imported f;
  char dir[256];
  make_calib(dir, sizeof dir, 2, 1, 4, dims);
  er_dataset d;
  CHECK_OK(load("if", &f));
  CHECK_OK(er_dataset_open(dir, 1, &d));
  er_quant_report r;
  CHECK_OK(er_quantize(&f, &d, &o, &r));
  int conv1 = 0, never = 0;
  for (int i = 0; i < r.n_nodes; i++) {
    conv1 |= !strcmp(r.nodes[i].name, "then_conv1") && r.nodes[i].status == ER_QN_QUANTIZED;
    never |= !strcmp(r.nodes[i].name, "else_conv") && r.nodes[i].status == ER_QN_FLOAT && r.nodes[i].reason &&
             strstr(r.nodes[i].reason, "never ran");
  }
  CHECK(conv1 && never);
  er_quant_report_free(&r);
  er_imported_free(&f);
  /* every Conv/Gemm excluded, the branch's included: nothing to quantize */
  CHECK_OK(load("if", &f));
  const char *ex[] = {"conv0", "then_conv1", "then_conv2", "head"};
  o.exclude = ex;
  o.n_exclude = 4;
  er_status s = er_quantize(&f, &d, &o, &r);
  CHECK(er_status_code(s) == ER_UNSUPPORTED && strstr(er_status_message(s), "excluded"));
  er_status_free(s);
  er_quant_report_free(&r);
  er_imported_free(&f);
  er_dataset_close(&d);
  rm_calib(dir);
}

TEST(quant_subgraph_loop) {
  er_quant_options o;
  er_quant_options_default(&o);
  er_imported q;
  int64_t dims[2] = {1, 16};
  quantize_and_compare(er_failed_, "loop", &o, 2, dims, 0.05, &q);
  const er_graph *body = branch_of(q.graph, "Loop", "body");
  CHECK(body != NULL);
  if (body) {
    /* the carried value (a body input) and the MatMul output get Q/DQ; the Relu is folded;
     * the main graph's weight became an int8 initializer of the body */
    CHECK(q_scale_of(body, "h") > 0);
    CHECK(count_op(body, "Relu") == 0 && count_op(body, "QuantizeLinear") == 2);
    const er_node *mm = find_op(body, "MatMul", 0);
    const er_value *dqo = mm ? &body->values[mm->inputs[1]] : NULL;
    CHECK(dqo && dqo->kind == ER_VALUE_NODE);
    if (dqo && dqo->kind == ER_VALUE_NODE)
      CHECK(input_value(body, &body->nodes[dqo->producer], 0)->dtype == ER_I8);
  }
  CHECK(er_graph_find_value(q.graph, "w") < 0);
  float x[16];
  for (int i = 0; i < 16; i++) x[i] = cosf(0.7f * (float)i);
  check_roundtrip(er_failed_, &q, x, 2, dims);
  er_imported_free(&q);
  /* dynamic: weights only, inside the body too */
  o.dynamic = 1;
  quantize_and_compare(er_failed_, "loop", &o, 2, dims, 0.05, &q);
  body = branch_of(q.graph, "Loop", "body");
  CHECK(body && count_op(body, "DequantizeLinear") == 1 && count_op(body, "QuantizeLinear") == 0);
  check_roundtrip(er_failed_, &q, x, 2, dims);
  er_imported_free(&q);
}
