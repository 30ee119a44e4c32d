/* Conv family: Conv, ConvTranspose, DeformConv, Col2Im, pooling, normalization. */
#include <math.h>
#include <string.h>

#include "optest.h"
#include "test.h"

#define F(t) ((float *)(t)->data)
#define D(t) ((double *)(t)->data)
#define I64(t) ((int64_t *)(t)->data)
#define IN(...) ((er_tensor *[]){__VA_ARGS__})

static uint32_t rng_state = 12345;
static float frand(void) { /* deterministic values in [-1, 1) */
  rng_state = rng_state * 1664525u + 1013904223u;
  return (float)((rng_state >> 8) & 0xffff) / 32768.0f - 1.0f;
}
static er_tensor *rand_t(int rank, const int64_t *dims) {
  er_tensor *t = ot_tensor(ER_F32, rank, dims, NULL);
  for (int64_t i = 0; i < er_tensor_numel(t); i++) F(t)[i] = frand();
  return t;
}
static float iota_vals[256];
static const float *iota(void) {
  for (int i = 0; i < 256; i++) iota_vals[i] = (float)i;
  return iota_vals;
}

/* Direct convolution (1..3 spatial dims, via 3-D with leading 1s) used as the oracle. */
typedef struct ref_geom {
  int nsp;
  int64_t k[3], s[3], d[3], pb[3], pe[3];
} ref_geom;
static void ref_conv(const er_tensor *X, const er_tensor *W, const float *B, int64_t group, const ref_geom *g,
                     float *Y, int64_t *odims) {
  int64_t N = X->dims[0], C = X->dims[1], M = W->dims[0], Cg = C / group, Mg = M / group;
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, k[3] = {1, 1, 1}, s[3] = {1, 1, 1}, d[3] = {1, 1, 1}, p[3] = {0, 0, 0};
  for (int i = 0; i < g->nsp; i++) {
    int j = 3 - g->nsp + i;
    in[j] = X->dims[2 + i], k[j] = g->k[i], s[j] = g->s[i], d[j] = g->d[i], p[j] = g->pb[i];
    out[j] = (in[j] + g->pb[i] + g->pe[i] - ((k[j] - 1) * d[j] + 1)) / s[j] + 1;
    odims[i] = out[j];
  }
  const float *x = F(X), *w = F(W);
  for (int64_t n = 0; n < N; n++)
    for (int64_t m = 0; m < M; m++)
      for (int64_t a = 0; a < out[0]; a++)
        for (int64_t b = 0; b < out[1]; b++)
          for (int64_t e = 0; e < out[2]; e++) {
            double acc = B ? B[m] : 0;
            int64_t grp = m / Mg;
            for (int64_t c = 0; c < Cg; c++)
              for (int64_t u = 0; u < k[0]; u++)
                for (int64_t v = 0; v < k[1]; v++)
                  for (int64_t z = 0; z < k[2]; z++) {
                    int64_t id = a * s[0] - p[0] + u * d[0], ih = b * s[1] - p[1] + v * d[1], iw = e * s[2] - p[2] + z * d[2];
                    if (id < 0 || id >= in[0] || ih < 0 || ih >= in[1] || iw < 0 || iw >= in[2]) continue;
                    acc += (double)x[(((n * C + grp * Cg + c) * in[0] + id) * in[1] + ih) * in[2] + iw] *
                           w[(((m * Cg + c) * k[0] + u) * k[1] + v) * k[2] + z];
                  }
            Y[(((n * M + m) * out[0] + a) * out[1] + b) * out[2] + e] = (float)acc;
          }
}

/* Run Conv on random data with the given geometry and compare to ref_conv. */
static double conv_vs_ref(int nsp, const int64_t *xdims, int64_t M, int64_t group, const ref_geom *g, int bias) {
  int64_t wd[5] = {M, xdims[1] / group};
  for (int i = 0; i < nsp; i++) wd[2 + i] = g->k[i];
  er_tensor *X = rand_t(nsp + 2, xdims), *W = rand_t(nsp + 2, wd), *B = bias ? rand_t(1, &M) : NULL;
  int64_t pads[6], od[3];
  for (int i = 0; i < nsp; i++) pads[i] = g->pb[i], pads[i + nsp] = g->pe[i];
  er_attr at[] = {ot_ints("strides", nsp, g->s), ot_ints("dilations", nsp, g->d), ot_ints("pads", 2 * nsp, pads),
                  ot_int("group", group)};
  er_tensor *y[1];
  er_status s = ot_run("Conv", 11, at, 4, IN(X, W, B), 3, y, 1);
  if (s) {
    fprintf(stderr, "  conv_vs_ref: %s\n", er_status_message(s));
    er_status_free(s);
    return INFINITY;
  }
  int64_t n = er_tensor_numel(y[0]);
  float *ref = (float *)calloc((size_t)n, sizeof(float));
  ref_conv(X, W, B ? F(B) : NULL, group, g, ref, od);
  for (int i = 0; i < nsp; i++)
    if (y[0]->dims[2 + i] != od[i]) {
      free(ref);
      return INFINITY;
    }
  double diff = ot_max_abs_diff_f32(y[0], ref, n);
  free(ref);
  return diff;
}

TEST(conv_basic_padding_known_values) {
  /* ONNX test_basic_conv_with_padding / without_padding */
  int64_t xd[] = {1, 1, 5, 5}, wd[] = {1, 1, 3, 3};
  float ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  er_tensor *x = ot_tensor(ER_F32, 4, xd, iota()), *w = ot_tensor(ER_F32, 4, wd, ones);
  int64_t p1[] = {1, 1, 1, 1}, k[] = {3, 3};
  er_attr at[] = {ot_ints("pads", 4, p1), ot_ints("kernel_shape", 2, k)};
  er_tensor *y[1];
  CHECK_OK(ot_run("Conv", 11, at, 2, IN(x, w), 2, y, 1));
  const float e1[] = {12, 21, 27, 33, 24, 33, 54, 63, 72, 51, 63, 99, 108, 117, 81, 93, 144, 153, 162, 111, 72, 111, 117, 123, 84};
  CHECK(y[0]->dims[2] == 5 && y[0]->dims[3] == 5);
  CHECK(ot_max_abs_diff_f32(y[0], e1, 25) == 0);
  CHECK_OK(ot_run("Conv", 1, at + 1, 1, IN(x, w), 2, y, 1));
  const float e0[] = {54, 63, 72, 99, 108, 117, 144, 153, 162};
  CHECK(y[0]->dims[2] == 3 && ot_max_abs_diff_f32(y[0], e0, 9) == 0);
  ot_free_all();
}

TEST(conv_autopad_same_upper_vs_lower) {
  /* 1-D, kernel 2: total pad 1 goes to the end (UPPER) or the start (LOWER) */
  int64_t xd[] = {1, 1, 4}, wd[] = {1, 1, 2};
  er_tensor *x = ot_tensor(ER_F32, 3, xd, (float[]){1, 2, 3, 4}), *w = ot_tensor(ER_F32, 3, wd, (float[]){1, 10});
  er_tensor *y[1];
  er_attr up[] = {ot_str("auto_pad", "SAME_UPPER")}, lo[] = {ot_str("auto_pad", "SAME_LOWER")};
  CHECK_OK(ot_run("Conv", 11, up, 1, IN(x, w), 2, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], (float[]){21, 32, 43, 4}, 4) == 0);
  CHECK_OK(ot_run("Conv", 11, lo, 1, IN(x, w), 2, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], (float[]){10, 21, 32, 43}, 4) == 0);
  er_attr va[] = {ot_str("auto_pad", "VALID"), ot_ints("strides", 1, (int64_t[]){2})};
  CHECK_OK(ot_run("Conv", 11, va, 2, IN(x, w), 2, y, 1));
  CHECK(y[0]->dims[2] == 2 && ot_max_abs_diff_f32(y[0], (float[]){21, 43}, 2) == 0);
  ot_free_all();
}

TEST(conv_matches_direct_reference) {
  ref_geom g2 = {2, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}};
  CHECK(conv_vs_ref(2, (int64_t[]){2, 5, 9, 11}, 7, 1, &g2, 1) < 1e-4);
  ref_geom g2s = {2, {3, 2}, {2, 3}, {2, 1}, {1, 0}, {2, 1}}; /* strides, dilations, asymmetric pads */
  CHECK(conv_vs_ref(2, (int64_t[]){1, 4, 13, 10}, 6, 2, &g2s, 1) < 1e-4);
  ref_geom dw = {2, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}}; /* depthwise with multiplier 2 */
  CHECK(conv_vs_ref(2, (int64_t[]){1, 6, 15, 15}, 12, 6, &dw, 1) < 1e-4);
  ref_geom pw = {2, {1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}}; /* 1x1: direct GEMM, odd sizes */
  CHECK(conv_vs_ref(2, (int64_t[]){2, 9, 7, 13}, 11, 1, &pw, 0) < 1e-4);
  ref_geom g1 = {1, {4}, {3}, {2}, {3}, {0}};
  CHECK(conv_vs_ref(1, (int64_t[]){2, 3, 40}, 5, 1, &g1, 1) < 1e-4);
  ref_geom g3 = {3, {2, 3, 2}, {1, 2, 1}, {1, 1, 2}, {1, 0, 1}, {0, 1, 1}};
  CHECK(conv_vs_ref(3, (int64_t[]){1, 4, 5, 7, 6}, 4, 2, &g3, 1) < 1e-4);
  /* rows * columns > 2^20: the column buffer is processed in chunks */
  ref_geom big = {2, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}};
  CHECK(conv_vs_ref(2, (int64_t[]){1, 130, 33, 35}, 5, 1, &big, 1) < 1e-3);
  ot_free_all();
}

TEST(conv_f64_and_f16) {
  int64_t xd[] = {1, 1, 3, 3}, wd[] = {1, 1, 2, 2}, bd[] = {1};
  double xv[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, wv[4] = {1, 0, 0, -1}, bv[1] = {0.5};
  er_tensor *y[1];
  CHECK_OK(ot_run("Conv", 11, NULL, 0,
                  IN(ot_tensor(ER_F64, 4, xd, xv), ot_tensor(ER_F64, 4, wd, wv), ot_tensor(ER_F64, 1, bd, bv)), 3, y, 1));
  CHECK(y[0]->dtype == ER_F64 && er_tensor_numel(y[0]) == 4);
  for (int i = 0; i < 4; i++) CHECK(D(y[0])[i] == -3.5);
  uint16_t xh[9], wh[4], bh[1] = {er_f32_to_f16(0.5f)};
  for (int i = 0; i < 9; i++) xh[i] = er_f32_to_f16((float)xv[i]);
  for (int i = 0; i < 4; i++) wh[i] = er_f32_to_f16((float)wv[i]);
  CHECK_OK(ot_run("Conv", 11, NULL, 0,
                  IN(ot_tensor(ER_F16, 4, xd, xh), ot_tensor(ER_F16, 4, wd, wh), ot_tensor(ER_F16, 1, bd, bh)), 3, y, 1));
  CHECK(y[0]->dtype == ER_F16);
  for (int i = 0; i < 4; i++) CHECK(er_f16_to_f32(((uint16_t *)y[0]->data)[i]) == -3.5f);
  ot_free_all();
}

TEST(conv_errors) {
  int64_t xd[] = {1, 4, 5, 5}, wd[] = {2, 3, 3, 3};
  er_tensor *x = ot_tensor(ER_F32, 4, xd, NULL), *w = ot_tensor(ER_F32, 4, wd, NULL), *y[1];
  CHECK_ERR(ot_run("Conv", 11, NULL, 0, IN(x, w), 2, y, 1), ER_INVALID_ARGUMENT); /* C=4 vs W 3 */
  int64_t wd2[] = {2, 2, 3, 3};
  er_tensor *w2 = ot_tensor(ER_F32, 4, wd2, NULL);
  er_attr g3[] = {ot_int("group", 3)};
  CHECK_ERR(ot_run("Conv", 11, g3, 1, IN(x, w2), 2, y, 1), ER_INVALID_ARGUMENT);
  er_attr ks[] = {ot_int("group", 2), ot_ints("kernel_shape", 2, (int64_t[]){2, 2})};
  CHECK_ERR(ot_run("Conv", 11, ks, 2, IN(x, w2), 2, y, 1), ER_INVALID_ARGUMENT);
  er_attr ap[] = {ot_int("group", 2), ot_str("auto_pad", "SAME")};
  CHECK_ERR(ot_run("Conv", 11, ap, 2, IN(x, w2), 2, y, 1), ER_INVALID_ARGUMENT);
  er_attr st[] = {ot_int("group", 2), ot_ints("strides", 2, (int64_t[]){0, 1})};
  CHECK_ERR(ot_run("Conv", 11, st, 2, IN(x, w2), 2, y, 1), ER_INVALID_ARGUMENT);
  er_attr pd[] = {ot_int("group", 2), ot_ints("pads", 2, (int64_t[]){1, 1})};
  CHECK_ERR(ot_run("Conv", 11, pd, 2, IN(x, w2), 2, y, 1), ER_INVALID_ARGUMENT);
  int64_t wbig[] = {2, 2, 7, 7};
  er_attr g2[] = {ot_int("group", 2)};
  CHECK_ERR(ot_run("Conv", 11, g2, 1, IN(x, ot_tensor(ER_F32, 4, wbig, NULL)), 2, y, 1), ER_INVALID_ARGUMENT);
  int64_t x6[] = {1, 1, 2, 2, 2, 2}, w6[] = {1, 1, 1, 1, 1, 1};
  CHECK_ERR(ot_run("Conv", 11, NULL, 0, IN(ot_tensor(ER_F32, 6, x6, NULL), ot_tensor(ER_F32, 6, w6, NULL)), 2, y, 1),
            ER_UNSUPPORTED);
  int64_t xi[] = {1, 1, 3, 3}, wi[] = {1, 1, 1, 1};
  CHECK_ERR(ot_run("Conv", 11, NULL, 0, IN(ot_tensor(ER_I32, 4, xi, NULL), ot_tensor(ER_I32, 4, wi, NULL)), 2, y, 1),
            ER_INVALID_ARGUMENT);
  ot_free_all();
}

/* ---- ConvTranspose ---- */
TEST(convtranspose_known_values) {
  /* ONNX test_convtranspose_1d: x = [0,1,2], W = ones(1,2,3) */
  int64_t xd[] = {1, 1, 3}, wd[] = {1, 2, 3};
  er_tensor *x = ot_tensor(ER_F32, 3, xd, (float[]){0, 1, 2});
  er_tensor *w = ot_tensor(ER_F32, 3, wd, (float[]){1, 1, 1, 1, 1, 1}), *y[1];
  CHECK_OK(ot_run("ConvTranspose", 11, NULL, 0, IN(x, w), 2, y, 1));
  CHECK(y[0]->dims[1] == 2 && y[0]->dims[2] == 5);
  CHECK(ot_max_abs_diff_f32(y[0], (float[]){0, 1, 3, 3, 2, 0, 1, 3, 3, 2}, 10) == 0);
  /* strides 2 + output_padding 1 + bias */
  er_attr at[] = {ot_ints("strides", 1, (int64_t[]){2}), ot_ints("output_padding", 1, (int64_t[]){1})};
  int64_t bd[] = {2};
  er_tensor *b = ot_tensor(ER_F32, 1, bd, (float[]){10, 20});
  CHECK_OK(ot_run("ConvTranspose", 11, at, 2, IN(x, w, b), 3, y, 1));
  CHECK(y[0]->dims[2] == 8);
  CHECK(ot_max_abs_diff_f32(y[0], (float[]){10, 10, 11, 11, 13, 12, 12, 10, 20, 20, 21, 21, 23, 22, 22, 20}, 16) == 0);
  /* output_shape 7 gives total padding 1: with NOTSET it goes to the start */
  er_attr os[] = {ot_ints("strides", 1, (int64_t[]){2}), ot_ints("output_shape", 1, (int64_t[]){6})};
  CHECK_OK(ot_run("ConvTranspose", 11, os, 2, IN(x, w), 2, y, 1));
  CHECK(y[0]->dims[2] == 6 && ot_max_abs_diff_f32(y[0], (float[]){0, 1, 1, 3, 2, 2, 0, 1, 1, 3, 2, 2}, 12) == 0);
  /* SAME_UPPER: output = input * stride, extra padding at the end */
  er_attr su[] = {ot_ints("strides", 1, (int64_t[]){2}), ot_str("auto_pad", "SAME_UPPER")};
  CHECK_OK(ot_run("ConvTranspose", 11, su, 2, IN(x, w), 2, y, 1));
  CHECK(y[0]->dims[2] == 6 && ot_max_abs_diff_f32(y[0], (float[]){0, 0, 1, 1, 3, 2, 0, 0, 1, 1, 3, 2}, 12) == 0);
  ot_free_all();
}

TEST(convtranspose_grouped_2d_matches_scatter_reference) {
  int64_t xd[] = {2, 4, 3, 4}, wd[] = {4, 3, 3, 2}, bd[] = {6};
  er_tensor *x = rand_t(4, xd), *w = rand_t(4, wd), *b = rand_t(1, bd), *y[1];
  int64_t s[] = {2, 3}, d[] = {1, 2}, p[] = {1, 0, 0, 2}, op[] = {1, 0};
  er_attr at[] = {ot_int("group", 2), ot_ints("strides", 2, s), ot_ints("dilations", 2, d), ot_ints("pads", 4, p),
                  ot_ints("output_padding", 2, op)};
  CHECK_OK(ot_run("ConvTranspose", 11, at, 5, IN(x, w, b), 3, y, 1));
  int64_t OH = 2 * 2 + 1 + 3 - 1 - 0, OW = 3 * 3 + 0 + 3 - 0 - 2; /* 7, 10 */
  CHECK(y[0]->dims[1] == 6 && y[0]->dims[2] == OH && y[0]->dims[3] == OW);
  float ref[2 * 6 * 7 * 10];
  for (int n = 0; n < 2; n++)
    for (int m = 0; m < 6; m++)
      for (int i = 0; i < OH * OW; i++) ref[(n * 6 + m) * OH * OW + i] = F(b)[m];
  for (int n = 0; n < 2; n++)
    for (int c = 0; c < 4; c++)
      for (int ih = 0; ih < 3; ih++)
        for (int iw = 0; iw < 4; iw++)
          for (int mg = 0; mg < 3; mg++)
            for (int u = 0; u < 3; u++)
              for (int v = 0; v < 2; v++) {
                int oh = ih * 2 - 1 + u * 1, ow = iw * 3 - 0 + v * 2, m = (c / 2) * 3 + mg;
                if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
                ref[((n * 6 + m) * OH + oh) * OW + ow] +=
                    F(x)[((n * 4 + c) * 3 + ih) * 4 + iw] * F(w)[((c * 3 + mg) * 3 + u) * 2 + v];
              }
  CHECK(ot_max_abs_diff_f32(y[0], ref, 2 * 6 * OH * OW) < 1e-5);
  CHECK_ERR(ot_run("ConvTranspose", 11, at, 1, IN(x, ot_tensor(ER_F32, 4, (int64_t[]){3, 3, 3, 2}, NULL)), 2, y, 1),
            ER_INVALID_ARGUMENT);
  ot_free_all();
}

/* ---- DeformConv / Col2Im ---- */
TEST(deformconv_zero_offset_equals_conv_and_shift) {
  int64_t xd[] = {1, 2, 5, 6}, wd[] = {4, 1, 2, 2}, od[] = {1, 2 * 2 * 4, 4, 5}, md[] = {1, 2 * 4, 4, 5};
  er_tensor *x = rand_t(4, xd), *w = rand_t(4, wd), *off = ot_tensor(ER_F32, 4, od, NULL), *y[1], *yc[1];
  er_attr at[] = {ot_int("group", 2), ot_int("offset_group", 2)};
  CHECK_OK(ot_run("DeformConv", 19, at, 2, IN(x, w, off), 3, y, 1));
  CHECK_OK(ot_run("Conv", 11, at, 1, IN(x, w), 2, yc, 1));
  CHECK(ot_max_abs_diff_f32(y[0], F(yc[0]), er_tensor_numel(yc[0])) < 1e-5);
  /* mask 0.5 halves the result; offset +1 in w for every tap shifts the input left */
  er_tensor *mask = ot_tensor(ER_F32, 4, md, NULL);
  for (int i = 0; i < 8 * 20; i++) F(mask)[i] = 0.5f;
  CHECK_OK(ot_run("DeformConv", 19, at, 2, IN(x, w, off, NULL, mask), 5, y, 1));
  for (int i = 0; i < 80; i++) CHECK_NEAR(F(y[0])[i], 0.5f * F(yc[0])[i], 1e-5);
  for (int c = 0; c < 16; c++)
    for (int i = 0; i < 20; i++) F(off)[c * 20 + i] = (c % 2) ? 1.0f : 0.0f;
  CHECK_OK(ot_run("DeformConv", 19, at, 2, IN(x, w, off), 3, y, 1));
  for (int m = 0; m < 4; m++)
    for (int oh = 0; oh < 4; oh++)
      for (int ow = 0; ow < 4; ow++) CHECK_NEAR(F(y[0])[(m * 4 + oh) * 5 + ow], F(yc[0])[(m * 4 + oh) * 5 + ow + 1], 1e-5);
  /* fractional offset 0.5 in h interpolates between rows */
  int64_t x1d[] = {1, 1, 2, 1}, w1d[] = {1, 1, 1, 1}, o1d[] = {1, 2, 2, 1};
  er_tensor *o1 = ot_tensor(ER_F32, 4, o1d, (float[]){0.5f, 0.5f, 0, 0});
  CHECK_OK(ot_run("DeformConv", 19, NULL, 0,
                  IN(ot_tensor(ER_F32, 4, x1d, (float[]){2, 4}), ot_tensor(ER_F32, 4, w1d, (float[]){1}), o1), 3, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], (float[]){3, 2}, 2) < 1e-6); /* row 1.5 is half outside: 4*0.5 */
  int64_t bad[] = {1, 3, 4, 5};
  CHECK_ERR(ot_run("DeformConv", 19, at, 2, IN(x, w, ot_tensor(ER_F32, 4, bad, NULL)), 3, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

TEST(col2im_sums_overlapping_blocks) {
  /* image 1x3, block 1x2: blocks at columns 0 and 1 overlap at column 1 */
  int64_t xd[] = {1, 2, 2}, sd[] = {2};
  er_tensor *x = ot_tensor(ER_F32, 3, xd, (float[]){1, 2, 10, 20}); /* rows: tap0, tap1; cols: block */
  er_tensor *img = ot_tensor(ER_I64, 1, sd, (int64_t[]){1, 3}), *blk = ot_tensor(ER_I64, 1, sd, (int64_t[]){1, 2}), *y[1];
  CHECK_OK(ot_run("Col2Im", 18, NULL, 0, IN(x, img, blk), 3, y, 1));
  CHECK(y[0]->rank == 4 && y[0]->dims[1] == 1 && y[0]->dims[3] == 3);
  CHECK(ot_max_abs_diff_f32(y[0], (float[]){1, 12, 20}, 3) == 0);
  /* wrong number of blocks */
  int64_t xb[] = {1, 2, 3};
  CHECK_ERR(ot_run("Col2Im", 18, NULL, 0, IN(ot_tensor(ER_F32, 3, xb, NULL), img, blk), 3, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

/* ---- pooling ---- */
TEST(maxpool_indices_storage_order_ceil) {
  int64_t xd[] = {1, 1, 3, 3};
  er_tensor *x = ot_tensor(ER_F32, 4, xd, (float[]){1, 9, 2, 3, 4, 8, 7, 5, 6}), *y[2];
  er_attr at[] = {ot_ints("kernel_shape", 2, (int64_t[]){2, 2}), ot_ints("strides", 2, (int64_t[]){2, 2}),
                  ot_int("ceil_mode", 1), ot_int("storage_order", 1)};
  CHECK_OK(ot_run("MaxPool", 12, at, 3, IN(x), 1, y, 2));
  CHECK(y[0]->dims[2] == 2 && y[0]->dims[3] == 2);
  CHECK(ot_max_abs_diff_f32(y[0], (float[]){9, 8, 7, 6}, 4) == 0);
  CHECK(I64(y[1])[0] == 1 && I64(y[1])[1] == 5 && I64(y[1])[2] == 6 && I64(y[1])[3] == 8);
  CHECK_OK(ot_run("MaxPool", 12, at, 4, IN(x), 1, y, 2)); /* column-major indices */
  CHECK(I64(y[1])[0] == 3 && I64(y[1])[1] == 7 && I64(y[1])[2] == 2 && I64(y[1])[3] == 8);
  CHECK_OK(ot_run("MaxPool", 12, at, 2, IN(x), 1, y, 1)); /* floor mode */
  CHECK(er_tensor_numel(y[0]) == 1 && F(y[0])[0] == 9);
  /* int8 with padding: padding never wins */
  int64_t xi[] = {1, 1, 1, 3};
  er_attr ap[] = {ot_ints("kernel_shape", 2, (int64_t[]){1, 2}), ot_ints("pads", 4, (int64_t[]){0, 1, 0, 1})};
  CHECK_OK(ot_run("MaxPool", 12, ap, 2, IN(ot_tensor(ER_I8, 4, xi, (int8_t[]){-5, -7, -1})), 1, y, 1));
  CHECK(y[0]->dtype == ER_I8 && y[0]->dims[3] == 4);
  int8_t *r = (int8_t *)y[0]->data;
  CHECK(r[0] == -5 && r[1] == -5 && r[2] == -1 && r[3] == -1);
  /* dilation 2 in 1-D */
  int64_t x1[] = {1, 1, 5};
  er_attr dl[] = {ot_ints("kernel_shape", 1, (int64_t[]){2}), ot_ints("dilations", 1, (int64_t[]){2})};
  CHECK_OK(ot_run("MaxPool", 12, dl, 2, IN(ot_tensor(ER_F32, 3, x1, (float[]){5, 1, 2, 7, 0})), 1, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], (float[]){5, 7, 2}, 3) == 0);
  CHECK_ERR(ot_run("MaxPool", 12, NULL, 0, IN(x), 1, y, 1), ER_INVALID_MODEL); /* no kernel_shape */
  ot_free_all();
}

TEST(averagepool_count_include_pad_and_same_lower) {
  int64_t xd[] = {1, 1, 2, 2};
  er_tensor *x = ot_tensor(ER_F32, 4, xd, (float[]){1, 2, 3, 4}), *y[1];
  er_attr at[] = {ot_ints("kernel_shape", 2, (int64_t[]){2, 2}), ot_ints("pads", 4, (int64_t[]){1, 1, 0, 0}),
                  ot_int("count_include_pad", 1)};
  CHECK_OK(ot_run("AveragePool", 11, at, 2, IN(x), 1, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], (float[]){1, 1.5f, 2, 2.5f}, 4) < 1e-6);
  CHECK_OK(ot_run("AveragePool", 11, at, 3, IN(x), 1, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], (float[]){0.25f, 0.75f, 1, 2.5f}, 4) < 1e-6);
  er_attr sl[] = {ot_ints("kernel_shape", 2, (int64_t[]){2, 2}), ot_str("auto_pad", "SAME_LOWER")};
  CHECK_OK(ot_run("AveragePool", 11, sl, 2, IN(x), 1, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], (float[]){1, 1.5f, 2, 2.5f}, 4) < 1e-6);
  er_attr su[] = {ot_ints("kernel_shape", 2, (int64_t[]){2, 2}), ot_str("auto_pad", "SAME_UPPER")};
  CHECK_OK(ot_run("AveragePool", 11, su, 2, IN(x), 1, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], (float[]){2.5f, 3, 3.5f, 4}, 4) < 1e-6);
  /* f64 and 3-D */
  int64_t x3[] = {1, 1, 2, 2, 2};
  double v3[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  er_attr k3[] = {ot_ints("kernel_shape", 3, (int64_t[]){2, 2, 2})};
  CHECK_OK(ot_run("AveragePool", 11, k3, 1, IN(ot_tensor(ER_F64, 5, x3, v3)), 1, y, 1));
  CHECK(y[0]->dtype == ER_F64 && D(y[0])[0] == 4.5);
  ot_free_all();
}

TEST(lppool_and_global_pools) {
  int64_t xd[] = {1, 2, 1, 2};
  er_tensor *x = ot_tensor(ER_F32, 4, xd, (float[]){3, -4, 1, 2}), *y[1];
  er_attr at[] = {ot_ints("kernel_shape", 2, (int64_t[]){1, 2}), ot_int("p", 2)};
  CHECK_OK(ot_run("LpPool", 11, at, 2, IN(x), 1, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], (float[]){5, sqrtf(5)}, 2) < 1e-6);
  er_attr p1[] = {ot_ints("kernel_shape", 2, (int64_t[]){1, 2}), ot_int("p", 1)};
  CHECK_OK(ot_run("LpPool", 11, p1, 2, IN(x), 1, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], (float[]){7, 3}, 2) < 1e-6);
  er_attr pf[] = {ot_ints("kernel_shape", 2, (int64_t[]){1, 2}), ot_float("p", 1.0f)}; /* opset 1: float p */
  CHECK_OK(ot_run("LpPool", 1, pf, 2, IN(x), 1, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], (float[]){7, 3}, 2) < 1e-6);
  CHECK_OK(ot_run("GlobalAveragePool", 1, NULL, 0, IN(x), 1, y, 1));
  CHECK(y[0]->rank == 4 && y[0]->dims[2] == 1 && y[0]->dims[3] == 1);
  CHECK(ot_max_abs_diff_f32(y[0], (float[]){-0.5f, 1.5f}, 2) < 1e-6);
  CHECK_OK(ot_run("GlobalMaxPool", 1, NULL, 0, IN(x), 1, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], (float[]){3, 2}, 2) == 0);
  CHECK_OK(ot_run("GlobalLpPool", 2, NULL, 0, IN(x), 1, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], (float[]){5, sqrtf(5)}, 2) < 1e-6);
  er_attr bad[] = {ot_ints("kernel_shape", 2, (int64_t[]){1, 2}), ot_int("p", 0)};
  CHECK_ERR(ot_run("LpPool", 11, bad, 2, IN(x), 1, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

TEST(maxunpool_roundtrip_and_output_shape) {
  int64_t xd[] = {1, 1, 2, 2};
  er_tensor *x = ot_tensor(ER_F32, 4, xd, (float[]){5, 6, 7, 8});
  er_tensor *ind = ot_tensor(ER_I64, 4, xd, (int64_t[]){5, 7, 13, 15}), *y[1];
  er_attr at[] = {ot_ints("kernel_shape", 2, (int64_t[]){2, 2}), ot_ints("strides", 2, (int64_t[]){2, 2})};
  CHECK_OK(ot_run("MaxUnpool", 11, at, 2, IN(x, ind), 2, y, 1));
  CHECK(y[0]->dims[2] == 4 && y[0]->dims[3] == 4);
  CHECK(F(y[0])[5] == 5 && F(y[0])[7] == 6 && F(y[0])[13] == 7 && F(y[0])[15] == 8 && F(y[0])[0] == 0);
  int64_t sd[] = {4};
  er_tensor *os = ot_tensor(ER_I64, 1, sd, (int64_t[]){1, 1, 5, 5});
  CHECK_OK(ot_run("MaxUnpool", 11, at, 2, IN(x, ind, os), 3, y, 1));
  CHECK(y[0]->dims[2] == 5 && F(y[0])[6] == 5 && F(y[0])[8] == 6 && F(y[0])[16] == 7 && F(y[0])[18] == 8);
  er_tensor *badi = ot_tensor(ER_I64, 4, xd, (int64_t[]){5, 7, 13, 16});
  CHECK_ERR(ot_run("MaxUnpool", 11, at, 2, IN(x, badi), 2, y, 1), ER_OUT_OF_RANGE);
  ot_free_all();
}

TEST(roialign_and_maxroipool) {
  int64_t xd[] = {1, 1, 4, 4}, rd[] = {1, 4}, bd[] = {1};
  er_tensor *x = ot_tensor(ER_F32, 4, xd, NULL), *y[1];
  for (int i = 0; i < 16; i++) F(x)[i] = (float)(i % 4); /* value = column index */
  er_tensor *rois = ot_tensor(ER_F32, 2, rd, (float[]){0, 0, 4, 4}), *bi = ot_tensor(ER_I64, 1, bd, (int64_t[]){0});
  er_attr at[] = {ot_int("output_height", 1), ot_int("output_width", 2), ot_int("sampling_ratio", 2)};
  /* half_pixel: roi [-0.5, 3.5); samples at x = 0, 1 (bin 0), 2, 3 (bin 1) */
  CHECK_OK(ot_run("RoiAlign", 16, at, 3, IN(x, rois, bi), 3, y, 1));
  CHECK(y[0]->dims[0] == 1 && y[0]->dims[3] == 2);
  CHECK(ot_max_abs_diff_f32(y[0], (float[]){0.5f, 2.5f}, 2) < 1e-6);
  /* opset 10 default (output_half_pixel): samples at 0.5,1.5 / 2.5,3.5(clamped to 3) */
  CHECK_OK(ot_run("RoiAlign", 10, at, 3, IN(x, rois, bi), 3, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], (float[]){1, 2.75f}, 2) < 1e-6);
  er_tensor *bad = ot_tensor(ER_I64, 1, bd, (int64_t[]){1});
  CHECK_ERR(ot_run("RoiAlign", 16, at, 3, IN(x, rois, bad), 3, y, 1), ER_OUT_OF_RANGE);
  er_attr m[] = {ot_str("mode", "median")};
  CHECK_ERR(ot_run("RoiAlign", 16, m, 1, IN(x, rois, bi), 3, y, 1), ER_INVALID_ARGUMENT);
  int64_t r5[] = {1, 5};
  er_attr ps[] = {ot_ints("pooled_shape", 2, (int64_t[]){1, 2})};
  CHECK_OK(ot_run("MaxRoiPool", 1, ps, 1, IN(x, ot_tensor(ER_F32, 2, r5, (float[]){0, 0, 0, 3, 3})), 2, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], (float[]){1, 3}, 2) == 0);
  CHECK_ERR(ot_run("MaxRoiPool", 1, NULL, 0, IN(x, ot_tensor(ER_F32, 2, r5, NULL)), 2, y, 1), ER_INVALID_MODEL);
  ot_free_all();
}

/* ---- normalization ---- */
TEST(batchnorm_inference_and_training) {
  int64_t xd[] = {2, 2, 2}, cd[] = {2};
  er_tensor *x = ot_tensor(ER_F32, 3, xd, (float[]){1, 2, 10, 20, 3, 4, 30, 40});
  er_tensor *sc = ot_tensor(ER_F32, 1, cd, (float[]){1, 2}), *b = ot_tensor(ER_F32, 1, cd, (float[]){0, 1});
  er_tensor *mean = ot_tensor(ER_F32, 1, cd, (float[]){2, 20}), *var = ot_tensor(ER_F32, 1, cd, (float[]){1, 100});
  er_tensor *y[3];
  er_attr eps0[] = {ot_float("epsilon", 0)};
  CHECK_OK(ot_run("BatchNormalization", 15, eps0, 1, IN(x, sc, b, mean, var), 5, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], (float[]){-1, 0, -1, 1, 1, 2, 3, 5}, 8) < 1e-6);
  CHECK_OK(ot_run("BatchNormalization", 9, eps0, 1, IN(x, sc, b, mean, var), 5, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], (float[]){-1, 0, -1, 1, 1, 2, 3, 5}, 8) < 1e-6);
  /* training: channel 0 values {1,2,3,4}: mean 2.5 var 1.25 */
  er_attr tr[] = {ot_float("epsilon", 0), ot_int("training_mode", 1), ot_float("momentum", 0.5f)};
  CHECK_OK(ot_run("BatchNormalization", 15, tr, 3, IN(x, sc, b, mean, var), 5, y, 3));
  CHECK_NEAR(F(y[0])[0], -1.5 / sqrt(1.25), 1e-5);
  CHECK_NEAR(F(y[1])[0], 2.25, 1e-6);           /* 0.5*2 + 0.5*2.5 */
  CHECK_NEAR(F(y[2])[0], 0.5 + 0.625, 1e-6);    /* 0.5*1 + 0.5*1.25 */
  CHECK_NEAR(F(y[1])[1], 0.5 * 20 + 0.5 * 25, 1e-5);
  /* spatial = 0 (opset 7): statistics per (channel, position) */
  int64_t pd[] = {2, 2};
  er_tensor *one = ot_tensor(ER_F32, 2, pd, (float[]){1, 1, 1, 1}), *zero = ot_tensor(ER_F32, 2, pd, NULL);
  er_tensor *m2 = ot_tensor(ER_F32, 2, pd, (float[]){1, 2, 10, 20});
  er_attr sp0[] = {ot_float("epsilon", 0), ot_int("spatial", 0)};
  CHECK_OK(ot_run("BatchNormalization", 7, sp0, 2, IN(x, one, zero, m2, one), 5, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], (float[]){0, 0, 0, 0, 2, 2, 20, 20}, 8) < 1e-6);
  int64_t bad[] = {3};
  CHECK_ERR(ot_run("BatchNormalization", 15, NULL, 0, IN(x, ot_tensor(ER_F32, 1, bad, NULL), b, mean, var), 5, y, 1),
            ER_INVALID_ARGUMENT);
  ot_free_all();
}

TEST(instance_group_layer_norm) {
  int64_t xd[] = {1, 2, 2}, cd[] = {2};
  er_tensor *x = ot_tensor(ER_F32, 3, xd, (float[]){1, 3, 10, 30}), *y[3];
  er_tensor *sc = ot_tensor(ER_F32, 1, cd, (float[]){1, 2}), *b = ot_tensor(ER_F32, 1, cd, (float[]){0, 5});
  er_attr e0[] = {ot_float("epsilon", 0)};
  CHECK_OK(ot_run("InstanceNormalization", 6, e0, 1, IN(x, sc, b), 3, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], (float[]){-1, 1, 3, 7}, 4) < 1e-6);
  /* GroupNorm with one group over all 4 values {1,3,10,30}: mean 11 */
  er_attr g1[] = {ot_float("epsilon", 0), ot_int("num_groups", 1)};
  CHECK_OK(ot_run("GroupNormalization", 21, g1, 2, IN(x, sc, b), 3, y, 1));
  double sd = sqrt((100 + 64 + 1 + 361) / 4.0);
  CHECK_NEAR(F(y[0])[0], -10 / sd, 1e-5);
  CHECK_NEAR(F(y[0])[3], 2 * 19 / sd + 5, 1e-5);
  /* opset 18: scale per group */
  int64_t gd[] = {1};
  CHECK_OK(ot_run("GroupNormalization", 18, g1, 2,
                  IN(x, ot_tensor(ER_F32, 1, gd, (float[]){2}), ot_tensor(ER_F32, 1, gd, (float[]){1})), 3, y, 1));
  CHECK_NEAR(F(y[0])[3], 2 * 19 / sd + 1, 1e-5);
  CHECK_ERR(ot_run("GroupNormalization", 21, g1, 2,
                   IN(x, ot_tensor(ER_F32, 1, gd, (float[]){2}), ot_tensor(ER_F32, 1, gd, (float[]){1})), 3, y, 1),
            ER_INVALID_ARGUMENT);
  er_attr g3[] = {ot_int("num_groups", 3)};
  CHECK_ERR(ot_run("GroupNormalization", 21, g3, 1, IN(x, sc, b), 3, y, 1), ER_INVALID_ARGUMENT);
  /* LayerNorm over the last axis with Mean / InvStdDev outputs, scale broadcast from [1] */
  er_attr ln[] = {ot_float("epsilon", 0), ot_int("axis", -1)};
  er_tensor *s1 = ot_tensor(ER_F32, 1, gd, (float[]){2});
  CHECK_OK(ot_run("LayerNormalization", 17, ln, 2, IN(x, s1), 2, y, 3));
  CHECK(ot_max_abs_diff_f32(y[0], (float[]){-2, 2, -2, 2}, 4) < 1e-6);
  CHECK(y[1]->rank == 3 && y[1]->dims[1] == 2 && y[1]->dims[2] == 1 && y[1]->dtype == ER_F32);
  CHECK_NEAR(F(y[1])[0], 2, 1e-6);
  CHECK_NEAR(F(y[1])[1], 20, 1e-6);
  CHECK_NEAR(F(y[2])[0], 1, 1e-6);
  CHECK_NEAR(F(y[2])[1], 0.1, 1e-6);
  /* axis 1: normalize the whole [2,2] block, B broadcast along rows */
  er_attr ln1[] = {ot_float("epsilon", 0), ot_int("axis", 1)};
  int64_t rd[] = {2, 1};
  CHECK_OK(ot_run("LayerNormalization", 17, ln1, 2,
                  IN(x, s1, ot_tensor(ER_F32, 2, rd, (float[]){0, 100})), 3, y, 1));
  CHECK_NEAR(F(y[0])[0], -20 / sd, 1e-5);
  CHECK_NEAR(F(y[0])[2], -2 / sd + 100, 1e-4);
  int64_t bd3[] = {3};
  CHECK_ERR(ot_run("LayerNormalization", 17, ln, 2, IN(x, ot_tensor(ER_F32, 1, bd3, NULL)), 2, y, 1),
            ER_INVALID_ARGUMENT);
  er_attr lnb[] = {ot_int("axis", 3)};
  CHECK_ERR(ot_run("LayerNormalization", 17, lnb, 1, IN(x, s1), 2, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

TEST(lrn_lpnorm_mvn) {
  int64_t xd[] = {1, 3, 1, 1};
  er_tensor *x = ot_tensor(ER_F32, 4, xd, (float[]){1, 2, 3}), *y[1];
  er_attr at[] = {ot_int("size", 3), ot_float("alpha", 3), ot_float("beta", 1), ot_float("bias", 1)};
  CHECK_OK(ot_run("LRN", 13, at, 4, IN(x), 1, y, 1));
  /* channel 0: window {0,1}: 1/(1 + 1*(1+4)) */
  CHECK(ot_max_abs_diff_f32(y[0], (float[]){1 / 6.0f, 2 / 15.0f, 3 / 14.0f}, 3) < 1e-6);
  CHECK_ERR(ot_run("LRN", 13, NULL, 0, IN(x), 1, y, 1), ER_INVALID_MODEL);
  int64_t md[] = {2, 2};
  er_tensor *m = ot_tensor(ER_F32, 2, md, (float[]){3, 4, 0, 0});
  CHECK_OK(ot_run("LpNormalization", 1, NULL, 0, IN(m), 1, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], (float[]){0.6f, 0.8f, 0, 0}, 4) < 1e-6);
  er_attr l1[] = {ot_int("axis", 0), ot_int("p", 1)};
  CHECK_OK(ot_run("LpNormalization", 1, l1, 2, IN(m), 1, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], (float[]){1, 1, 0, 0}, 4) < 1e-6);
  er_attr p3[] = {ot_int("p", 3)};
  CHECK_ERR(ot_run("LpNormalization", 1, p3, 1, IN(m), 1, y, 1), ER_INVALID_ARGUMENT);
  er_attr ax[] = {ot_ints("axes", 1, (int64_t[]){-1})};
  CHECK_OK(ot_run("MeanVarianceNormalization", 13, ax, 1, IN(ot_tensor(ER_F32, 2, md, (float[]){1, 3, 5, 5})), 1, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], (float[]){-1, 1, 0, 0}, 4) < 1e-6);
  /* default axes [0,2,3] need rank 4 */
  CHECK_ERR(ot_run("MeanVarianceNormalization", 13, NULL, 0, IN(m), 1, y, 1), ER_INVALID_ARGUMENT);
  int64_t x4[] = {2, 1, 1, 1};
  CHECK_OK(ot_run("MeanVarianceNormalization", 13, NULL, 0, IN(ot_tensor(ER_F32, 4, x4, (float[]){2, 4})), 1, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], (float[]){-1, 1}, 2) < 1e-6);
  ot_free_all();
}
