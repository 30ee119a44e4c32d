/* Signal family: Resize, Upsample, GridSample, AffineGrid, DFT, STFT, windows,
 * MelWeightMatrix, NonMaxSuppression. Expected values are hand-computed or taken from the
 * ONNX backend test data (noted where so). */
#include <math.h>
#include <string.h>

#include "optest.h"
#include "test.h"

#define D(...) ((const int64_t[]){__VA_ARGS__})
#define F(...) ((const float[]){__VA_ARGS__})
#define NARGS(t, ...) ((int)(sizeof((t[]){__VA_ARGS__}) / sizeof(t)))

static er_tensor *tf(int rank, const int64_t *dims, const float *v) { return ot_tensor(ER_F32, rank, dims, v); }
static er_tensor *vf(int n, const float *v) { return ot_tensor(ER_F32, 1, D(n), v); }
static er_tensor *vi(int n, const int64_t *v) { return ot_tensor(ER_I64, 1, D(n), v); }
static er_tensor *si(int64_t v) { return ot_tensor(ER_I64, 0, NULL, &v); }
static er_tensor *sf(float v) { return ot_tensor(ER_F32, 0, NULL, &v); }
static er_tensor *ramp(int rank, const int64_t *dims, float start) {
  er_tensor *t = ot_tensor(ER_F32, rank, dims, NULL);
  for (int64_t i = 0; i < er_tensor_numel(t); i++) ((float *)t->data)[i] = start + (float)i;
  return t;
}
static int shape_is(const er_tensor *t, int rank, const int64_t *dims) {
  if (t->rank != rank) return 0;
  for (int i = 0; i < rank; i++)
    if (t->dims[i] != dims[i]) return 0;
  return 1;
}
static const float *fv(const er_tensor *t) { return (const float *)t->data; }
/* Max |t[i] - e[i]| over the first n elements of a float32 tensor (inf if too short). */
static double prefix_diff(const er_tensor *t, const float *e, int n) {
  if (t->dtype != ER_F32 || er_tensor_numel(t) < n) return INFINITY;
  double m = 0;
  for (int i = 0; i < n; i++) m = fmax(m, fabs((double)fv(t)[i] - e[i]));
  return m;
}

/* ---------------- Resize / Upsample ---------------- */

TEST(resize_nearest_upsample_scales) { /* ONNX test_resize_upsample_scales_nearest */
  er_tensor *x = ramp(4, D(1, 1, 2, 2), 1), *y[1];
  er_attr at[] = {ot_str("mode", "nearest")};
  for (int opset = 11; opset <= 19; opset += 8) {
    CHECK_OK(ot_run("Resize", opset, at, 1, (er_tensor *[]){x, NULL, vf(4, F(1, 1, 2, 3))}, 3, y, 1));
    CHECK(shape_is(y[0], 4, D(1, 1, 4, 6)));
    CHECK(ot_max_abs_diff_f32(y[0], F(1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4), 24) == 0);
  }
  ot_free_all();
}

TEST(resize_nearest_modes) {
  /* 4 -> 8 with half_pixel: x_orig = (x + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25, ... */
  er_tensor *x = ramp(1, D(4), 0), *y[1];
  struct { const char *nm; float e[8]; } cases[] = {
      {"round_prefer_floor", {0, 0, 1, 1, 2, 2, 3, 3}},
      {"round_prefer_ceil", {0, 0, 1, 1, 2, 2, 3, 3}},
      {"floor", {0, 0, 0, 1, 1, 2, 2, 3}}, /* floor(-0.25) clamps to 0 */
      {"ceil", {0, 1, 1, 2, 2, 3, 3, 3}},
  };
  for (int i = 0; i < 4; i++) {
    er_attr at[] = {ot_str("nearest_mode", cases[i].nm)};
    CHECK_OK(ot_run("Resize", 13, at, 1, (er_tensor *[]){x, NULL, NULL, vi(1, D(8))}, 4, y, 1));
    CHECK(ot_max_abs_diff_f32(y[0], cases[i].e, 8) == 0);
  }
  /* asymmetric 4 -> 8 gives exact halves: round_prefer_floor vs ceil differ */
  er_attr a1[] = {ot_str("coordinate_transformation_mode", "asymmetric"), ot_str("nearest_mode", "round_prefer_ceil")};
  CHECK_OK(ot_run("Resize", 13, a1, 2, (er_tensor *[]){x, NULL, NULL, vi(1, D(8))}, 4, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], F(0, 1, 1, 2, 2, 3, 3, 3), 8) == 0);
  er_attr a2[] = {ot_str("coordinate_transformation_mode", "asymmetric")};
  CHECK_OK(ot_run("Resize", 13, a2, 1, (er_tensor *[]){x, NULL, NULL, vi(1, D(8))}, 4, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], F(0, 0, 1, 1, 2, 2, 3, 3), 8) == 0);
  ot_free_all();
}

TEST(resize_nearest_int64_exact_and_bool) {
  int64_t big[] = {(1LL << 60) + 1, -7};
  er_tensor *x = ot_tensor(ER_I64, 1, D(2), big), *y[1];
  CHECK_OK(ot_run("Resize", 13, NULL, 0, (er_tensor *[]){x, NULL, vf(1, F(2))}, 3, y, 1));
  const int64_t *o = (const int64_t *)y[0]->data;
  CHECK(y[0]->dtype == ER_I64 && o[0] == big[0] && o[1] == big[0] && o[2] == -7 && o[3] == -7);
  uint8_t b[] = {1, 0};
  er_tensor *xb = ot_tensor(ER_BOOL, 1, D(2), b);
  CHECK_OK(ot_run("Resize", 19, NULL, 0, (er_tensor *[]){xb, NULL, vf(1, F(1.5f))}, 3, y, 1));
  CHECK(shape_is(y[0], 1, D(3)));
  ot_free_all();
}

TEST(resize_linear) {
  er_tensor *x = ramp(4, D(1, 1, 2, 4), 1), *y[1];
  er_attr lin[] = {ot_str("mode", "linear")};
  /* ONNX test_resize_downsample_scales_linear: [[2.6666665, 4.3333331]] */
  CHECK_OK(ot_run("Resize", 13, lin, 1, (er_tensor *[]){x, NULL, vf(4, F(1, 1, 0.6f, 0.6f))}, 3, y, 1));
  CHECK(shape_is(y[0], 4, D(1, 1, 1, 2)));
  CHECK(ot_max_abs_diff_f32(y[0], F(2.6666665f, 4.3333331f), 2) < 1e-5);
  /* align_corners uses the fractional output width: [[1, 3.142857]] */
  er_attr ac[] = {ot_str("mode", "linear"), ot_str("coordinate_transformation_mode", "align_corners")};
  CHECK_OK(ot_run("Resize", 19, ac, 2, (er_tensor *[]){x, NULL, vf(4, F(1, 1, 0.6f, 0.6f))}, 3, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], F(1, 3.142857f), 2) < 1e-5);
  /* upsample 2x2 -> 4x4 half_pixel (ONNX test_resize_upsample_scales_linear, first row) */
  er_tensor *x2 = ramp(4, D(1, 1, 2, 2), 1);
  CHECK_OK(ot_run("Resize", 13, lin, 1, (er_tensor *[]){x2, NULL, vf(4, F(1, 1, 2, 2))}, 3, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], F(1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3, 3.25f, 3.75f, 4), 16) < 1e-6);
  /* pytorch_half_pixel with output length 1 samples coordinate 0 */
  er_attr pt[] = {ot_str("mode", "linear"), ot_str("coordinate_transformation_mode", "pytorch_half_pixel")};
  CHECK_OK(ot_run("Resize", 13, pt, 2, (er_tensor *[]){ramp(1, D(4), 5), NULL, NULL, vi(1, D(1))}, 4, y, 1));
  CHECK_NEAR(fv(y[0])[0], 5, 1e-6);
  ot_free_all();
}

TEST(resize_cubic) {
  er_tensor *x = ramp(4, D(1, 1, 4, 4), 1), *y[1];
  er_attr at[] = {ot_str("mode", "cubic")};
  CHECK_OK(ot_run("Resize", 19, at, 1, (er_tensor *[]){x, NULL, vf(4, F(1, 1, 2, 2))}, 3, y, 1));
  CHECK(shape_is(y[0], 4, D(1, 1, 8, 8)));
  /* ONNX test_resize_upsample_scales_cubic, first 10 values */
  CHECK(prefix_diff(y[0], F(0.47265625f, 0.76953125f, 1.24609375f, 1.875f, 2.28125f, 2.91015625f, 3.38671875f,
                                    3.68359375f, 1.66015625f, 1.95703125f), 10) < 1e-5);
  er_attr ex[] = {ot_str("mode", "cubic"), ot_float("cubic_coeff_a", -0.5f), ot_int("exclude_outside", 1)};
  CHECK_OK(ot_run("Resize", 13, ex, 3, (er_tensor *[]){x, NULL, vf(4, F(1, 1, 2, 2))}, 3, y, 1));
  CHECK(prefix_diff(y[0], F(0.5588235259f, 0.8149420619f, 1.3569824696f, 1.8970588446f), 4) < 1e-5);
  ot_free_all();
}

TEST(resize_antialias) {
  er_tensor *x = ramp(4, D(1, 1, 4, 4), 1), *y[1];
  er_attr lin[] = {ot_str("mode", "linear"), ot_int("antialias", 1)};
  CHECK_OK(ot_run("Resize", 18, lin, 2, (er_tensor *[]){x, NULL, vf(4, F(1, 1, 0.6f, 0.6f))}, 3, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], F(2.875f, 4.5f, 9.375f, 11), 4) < 1e-5);
  er_attr cub[] = {ot_str("mode", "cubic"), ot_int("antialias", 1)};
  CHECK_OK(ot_run("Resize", 18, cub, 2, (er_tensor *[]){x, NULL, NULL, vi(4, D(1, 1, 3, 3))}, 4, y, 1));
  CHECK(prefix_diff(y[0], F(1.7750091552734375f, 3.120007276535034f, 4.465005397796631f, 7.155001640319824f,
                                    8.5f, 9.844998359680176f), 6) < 1e-5);
  /* antialias is an opset-18 attribute: ignored by Resize-13 (plain linear result differs) */
  CHECK_OK(ot_run("Resize", 13, lin, 2, (er_tensor *[]){x, NULL, vf(4, F(1, 1, 0.6f, 0.6f))}, 3, y, 1));
  CHECK(fabs(fv(y[0])[0] - 2.875f) > 0.1);
  ot_free_all();
}

TEST(resize_tf_crop_and_resize) { /* ONNX test_resize_tf_crop_and_resize_extrapolation_value */
  er_tensor *x = ramp(4, D(1, 1, 4, 4), 1), *y[1];
  er_attr at[] = {ot_str("mode", "linear"), ot_str("coordinate_transformation_mode", "tf_crop_and_resize"),
                  ot_float("extrapolation_value", 10)};
  er_tensor *roi = vf(8, F(0, 0, 0.4f, 0.6f, 1, 1, 1.2f, 1.7f));
  CHECK_OK(ot_run("Resize", 13, at, 3, (er_tensor *[]){x, roi, NULL, vi(4, D(1, 1, 3, 3))}, 4, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], F(7.6f, 10, 10, 12.4f, 10, 10, 10, 10, 10), 9) < 1e-5);
  /* axes (opset 18) with roi for the listed axes only; negative axes */
  er_attr ax[] = {ot_str("mode", "linear"), ot_str("coordinate_transformation_mode", "tf_crop_and_resize"),
                  ot_ints("axes", 2, D(-1, -2))};
  CHECK_OK(ot_run("Resize", 18, ax, 3, (er_tensor *[]){x, vf(4, F(0.6f, 0.4f, 0.8f, 0.6f)), NULL, vi(2, D(3, 3))}, 4, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], F(7.6f, 7.9f, 8.2f, 8.8f, 9.1f, 9.4f, 10, 10.3f, 10.6f), 9) < 1e-5);
  /* missing roi is an error */
  CHECK_ERR(ot_run("Resize", 13, at, 3, (er_tensor *[]){x, NULL, NULL, vi(4, D(1, 1, 3, 3))}, 4, y, 1), ER_INVALID_MODEL);
  ot_free_all();
}

TEST(resize_axes_and_aspect_policy) {
  er_tensor *x = ramp(4, D(1, 1, 2, 4), 1), *y[1];
  er_attr nl[] = {ot_ints("axes", 2, D(2, 3)), ot_str("keep_aspect_ratio_policy", "not_larger")};
  CHECK_OK(ot_run("Resize", 18, nl, 2, (er_tensor *[]){x, NULL, NULL, vi(2, D(1, 3))}, 4, y, 1));
  CHECK(shape_is(y[0], 4, D(1, 1, 1, 2)));
  CHECK(ot_max_abs_diff_f32(y[0], F(1, 3), 2) == 0); /* ONNX ..._nearest_not_larger */
  er_attr ns[] = {ot_ints("axes", 2, D(2, 3)), ot_str("keep_aspect_ratio_policy", "not_smaller")};
  CHECK_OK(ot_run("Resize", 18, ns, 2, (er_tensor *[]){x, NULL, NULL, vi(2, D(1, 3))}, 4, y, 1));
  CHECK(shape_is(y[0], 4, D(1, 1, 2, 3))); /* scale 0.75: round(1.5) = 2, 3 */
  /* scales with axes [3, 2] */
  er_attr ax[] = {ot_ints("axes", 2, D(3, 2))};
  CHECK_OK(ot_run("Resize", 19, ax, 1, (er_tensor *[]){ramp(4, D(1, 1, 2, 2), 1), NULL, vf(2, F(3, 2))}, 3, y, 1));
  CHECK(shape_is(y[0], 4, D(1, 1, 4, 6)));
  /* policy with scales is an error */
  CHECK_ERR(ot_run("Resize", 18, nl, 2, (er_tensor *[]){x, NULL, vf(2, F(1, 1))}, 3, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

TEST(resize_types) {
  /* uint8 linear rounds to nearest: [0, 255] upsampled x2 half_pixel -> 0, 63.75, 191.25, 255 */
  er_tensor *y[1];
  er_tensor *x8 = ot_tensor(ER_U8, 1, D(2), (const uint8_t[]){0, 255});
  er_attr lin[] = {ot_str("mode", "linear")};
  CHECK_OK(ot_run("Resize", 13, lin, 1, (er_tensor *[]){x8, NULL, vf(1, F(2))}, 3, y, 1));
  const uint8_t *o8 = (const uint8_t *)y[0]->data;
  CHECK(y[0]->dtype == ER_U8 && o8[0] == 0 && o8[1] == 64 && o8[2] == 191 && o8[3] == 255);
  /* cubic overshoot saturates for int8 */
  er_tensor *xi = ot_tensor(ER_I8, 1, D(4), (const int8_t[]){-128, -128, 127, 127});
  er_attr cub[] = {ot_str("mode", "cubic")};
  CHECK_OK(ot_run("Resize", 13, cub, 1, (er_tensor *[]){xi, NULL, vf(1, F(2))}, 3, y, 1));
  const int8_t *oi = (const int8_t *)y[0]->data;
  CHECK(oi[0] == -128 && oi[7] == 127 && oi[2] == -128 && oi[5] == 127);
  /* float16 and double */
  uint16_t h[2] = {er_f32_to_f16(1.0f), er_f32_to_f16(3.0f)};
  CHECK_OK(ot_run("Resize", 13, lin, 1, (er_tensor *[]){ot_tensor(ER_F16, 1, D(2), h), NULL, vf(1, F(2))}, 3, y, 1));
  CHECK(y[0]->dtype == ER_F16 && er_f16_to_f32(((uint16_t *)y[0]->data)[1]) == 1.5f);
  CHECK_OK(ot_run("Resize", 13, lin, 1, (er_tensor *[]){ot_tensor(ER_F64, 1, D(2), (const double[]){1, 3}), NULL, vf(1, F(2))}, 3, y, 1));
  CHECK(y[0]->dtype == ER_F64 && ((double *)y[0]->data)[2] == 2.5);
  ot_free_all();
}

TEST(resize_legacy_opsets_and_upsample) {
  er_tensor *x = ramp(4, D(1, 1, 2, 2), 1), *y[1];
  const float up[] = {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4};
  er_attr nn[] = {ot_str("mode", "nearest")};
  /* Resize-10: scales is input 1 */
  CHECK_OK(ot_run("Resize", 10, nn, 1, (er_tensor *[]){x, vf(4, F(1, 1, 2, 3))}, 2, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], up, 24) == 0);
  /* Upsample-9: scales input; Upsample-7: scales attribute */
  CHECK_OK(ot_run("Upsample", 9, nn, 1, (er_tensor *[]){x, vf(4, F(1, 1, 2, 3))}, 2, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], up, 24) == 0);
  er_attr u7[] = {ot_str("mode", "nearest"), ot_floats("scales", 4, F(1, 1, 2, 3))};
  CHECK_OK(ot_run("Upsample", 7, u7, 2, (er_tensor *[]){x}, 1, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], up, 24) == 0);
  /* legacy linear is asymmetric: [1, 3] x2 -> 1, 2, 3, 3 */
  er_attr u7l[] = {ot_str("mode", "linear"), ot_floats("scales", 1, F(2))};
  CHECK_OK(ot_run("Upsample", 7, u7l, 2, (er_tensor *[]){vf(2, F(1, 3))}, 1, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], F(1, 2, 3, 3), 4) == 0);
  er_attr cub[] = {ot_str("mode", "cubic")};
  CHECK_ERR(ot_run("Resize", 10, cub, 1, (er_tensor *[]){x, vf(4, F(1, 1, 2, 2))}, 2, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("Upsample", 7, nn, 1, (er_tensor *[]){x}, 1, y, 1), ER_INVALID_MODEL);
  ot_free_all();
}

TEST(resize_errors_and_needs_data) {
  er_tensor *x = ramp(4, D(1, 1, 2, 2), 1), *y[1];
  er_attr bad[] = {ot_str("mode", "quadratic")};
  CHECK_ERR(ot_run("Resize", 13, bad, 1, (er_tensor *[]){x, NULL, vf(4, F(1, 1, 2, 2))}, 3, y, 1), ER_INVALID_ARGUMENT);
  er_attr badct[] = {ot_str("coordinate_transformation_mode", "sideways")};
  CHECK_ERR(ot_run("Resize", 13, badct, 1, (er_tensor *[]){x, NULL, vf(4, F(1, 1, 2, 2))}, 3, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("Resize", 13, NULL, 0, (er_tensor *[]){x, NULL, vf(3, F(1, 2, 2))}, 3, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("Resize", 13, NULL, 0, (er_tensor *[]){x, NULL, vf(4, F(1, 1, 0, 2))}, 3, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("Resize", 13, NULL, 0, (er_tensor *[]){x, NULL, vf(4, F(1, 1, 2, 2)), vi(4, D(1, 1, 4, 4))}, 4, y, 1),
            ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("Resize", 13, NULL, 0, (er_tensor *[]){x, NULL, NULL, vi(4, D(1, 1, -1, 4))}, 4, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("Resize", 13, NULL, 0, (er_tensor *[]){x}, 1, y, 1), ER_INVALID_MODEL);
  er_attr dup[] = {ot_ints("axes", 2, D(2, -2))};
  CHECK_ERR(ot_run("Resize", 18, dup, 1, (er_tensor *[]){x, NULL, vf(2, F(2, 2))}, 3, y, 1), ER_INVALID_ARGUMENT);
  /* unknown scales values -> needs data */
  er_tensor *sc = vf(4, F(1, 1, 2, 2));
  sc->data = NULL;
  CHECK_ERR(ot_run("Resize", 13, NULL, 0, (er_tensor *[]){x, NULL, sc}, 3, y, 1), ER_NEEDS_DATA);
  ot_free_all();
}

/* ---------------- GridSample / AffineGrid ---------------- */

TEST(gridsample_modes) { /* ONNX test_gridsample_* (X = 0..5 as 3x2) */
  er_tensor *x = ramp(4, D(1, 1, 3, 2), 0), *y[1];
  er_tensor *g = tf(4, D(1, 2, 4, 2), F(-1, -1, -0.5f, -0.5f, -0.2f, -0.2f, 0, 0, 0, 0, -0.2f, -0.2f, 0.5f, 0.5f, 1, 1));
  er_attr bil[] = {ot_str("mode", "bilinear")};
  CHECK_OK(ot_run("GridSample", 16, bil, 1, (er_tensor *[]){x, g}, 2, y, 1));
  CHECK(shape_is(y[0], 4, D(1, 1, 2, 4)));
  CHECK(ot_max_abs_diff_f32(y[0], F(0, 0.5f, 1.7f, 2.5f, 2.5f, 1.7f, 4.5f, 1.25f), 8) < 1e-5);
  er_attr cub[] = {ot_str("mode", "cubic")};
  CHECK_OK(ot_run("GridSample", 20, cub, 1, (er_tensor *[]){x, g}, 2, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], F(-0.1406f, 0.3828f, 1.7556f, 2.9688f, 2.9688f, 1.7556f, 5.1445f, 1.3906f), 8) < 1e-4);
  er_attr nn[] = {ot_str("mode", "nearest")};
  CHECK_OK(ot_run("GridSample", 16, nn, 1, (er_tensor *[]){x, g}, 2, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], F(0, 0, 2, 2, 2, 2, 5, 0), 8) == 0);
  er_attr al[] = {ot_str("mode", "linear"), ot_int("align_corners", 1)};
  CHECK_OK(ot_run("GridSample", 22, al, 2, (er_tensor *[]){x, g}, 2, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], F(0, 1.25f, 2, 2.5f, 2.5f, 2, 3.75f, 5), 8) < 1e-5);
  ot_free_all();
}

TEST(gridsample_padding) { /* ONNX test_gridsample_{zeros,border,reflection}_padding */
  er_tensor *x = ramp(4, D(1, 1, 3, 2), 0), *y[1];
  er_tensor *g = tf(4, D(1, 2, 4, 2), F(-10, -10, -5, -5, -0.2f, -0.2f, 10, 10, 10, 10, -0.2f, -0.2f, 5, 5, 10, 10));
  er_attr z[] = {ot_str("padding_mode", "zeros")};
  CHECK_OK(ot_run("GridSample", 16, z, 1, (er_tensor *[]){x, g}, 2, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], F(0, 0, 1.7f, 0, 0, 1.7f, 0, 0), 8) < 1e-5);
  er_attr b[] = {ot_str("padding_mode", "border")};
  CHECK_OK(ot_run("GridSample", 16, b, 1, (er_tensor *[]){x, g}, 2, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], F(0, 0, 1.7f, 5, 5, 1.7f, 5, 5), 8) < 1e-5);
  er_attr r[] = {ot_str("padding_mode", "reflection")};
  CHECK_OK(ot_run("GridSample", 16, r, 1, (er_tensor *[]){x, g}, 2, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], F(2.5f, 0, 1.7f, 2.5f, 2.5f, 1.7f, 5, 2.5f), 8) < 1e-5);
  ot_free_all();
}

TEST(gridsample_volumetric_and_types) {
  /* 3-D identity sampling with align_corners=1: grid points at voxel centres return X */
  er_tensor *x = ramp(5, D(1, 1, 2, 2, 2), 1), *y[1];
  er_tensor *g = ot_tensor(ER_F32, 5, D(1, 2, 2, 2, 3), NULL);
  float *gp = (float *)g->data;
  for (int d = 0; d < 2; d++)
    for (int h = 0; h < 2; h++)
      for (int w = 0; w < 2; w++) {
        float *v = gp + ((d * 2 + h) * 2 + w) * 3;
        v[0] = w ? 1.f : -1.f, v[1] = h ? 1.f : -1.f, v[2] = d ? 1.f : -1.f;
      }
  er_attr al[] = {ot_int("align_corners", 1)};
  CHECK_OK(ot_run("GridSample", 20, al, 1, (er_tensor *[]){x, g}, 2, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], F(1, 2, 3, 4, 5, 6, 7, 8), 8) < 1e-6);
  /* GridSample-16 is 2-D only */
  CHECK_ERR(ot_run("GridSample", 16, al, 1, (er_tensor *[]){x, g}, 2, y, 1), ER_INVALID_ARGUMENT);
  /* uint8 input, linear midpoint between 10 and 21 = 15.5 truncates to 15 */
  er_tensor *x8 = ot_tensor(ER_U8, 4, D(1, 1, 1, 2), (const uint8_t[]){10, 21});
  er_attr a2[] = {ot_int("align_corners", 1)};
  CHECK_OK(ot_run("GridSample", 20, a2, 1, (er_tensor *[]){x8, tf(4, D(1, 1, 1, 2), F(0, 0))}, 2, y, 1));
  CHECK(y[0]->dtype == ER_U8 && ((uint8_t *)y[0]->data)[0] == 15);
  er_attr bad[] = {ot_str("padding_mode", "wrap")};
  CHECK_ERR(ot_run("GridSample", 20, bad, 1, (er_tensor *[]){x8, tf(4, D(1, 1, 1, 2), F(0, 0))}, 2, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("GridSample", 20, NULL, 0, (er_tensor *[]){x8, tf(4, D(1, 1, 1, 3), F(0, 0, 0))}, 2, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

TEST(affine_grid) {
  er_tensor *y[1];
  er_tensor *id2 = tf(3, D(1, 2, 3), F(1, 0, 0, 0, 1, 0));
  CHECK_OK(ot_run("AffineGrid", 20, NULL, 0, (er_tensor *[]){id2, vi(4, D(1, 1, 2, 3))}, 2, y, 1));
  CHECK(shape_is(y[0], 4, D(1, 2, 3, 2)));
  /* align_corners=0: x = -2/3, 0, 2/3; y = -0.5, 0.5 */
  CHECK(ot_max_abs_diff_f32(y[0], F(-2.f / 3, -0.5f, 0, -0.5f, 2.f / 3, -0.5f, -2.f / 3, 0.5f, 0, 0.5f, 2.f / 3, 0.5f), 12) < 1e-6);
  er_attr ac[] = {ot_int("align_corners", 1)};
  er_tensor *th = tf(3, D(1, 2, 3), F(2, 0, 0.5f, 0, 1, -1));
  CHECK_OK(ot_run("AffineGrid", 20, ac, 1, (er_tensor *[]){th, vi(4, D(1, 1, 2, 3))}, 2, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], F(-1.5f, -2, 0.5f, -2, 2.5f, -2, -1.5f, 0, 0.5f, 0, 2.5f, 0), 12) < 1e-6);
  /* 3-D: z follows D, translation on z */
  er_tensor *th3 = tf(3, D(1, 3, 4), F(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0.25f));
  CHECK_OK(ot_run("AffineGrid", 20, ac, 1, (er_tensor *[]){th3, vi(5, D(1, 1, 2, 1, 2))}, 2, y, 1));
  CHECK(shape_is(y[0], 5, D(1, 2, 1, 2, 3)));
  CHECK(ot_max_abs_diff_f32(y[0], F(-1, 0, -0.75f, 1, 0, -0.75f, -1, 0, 1.25f, 1, 0, 1.25f), 12) < 1e-6);
  CHECK_ERR(ot_run("AffineGrid", 20, NULL, 0, (er_tensor *[]){id2, vi(4, D(2, 1, 2, 3))}, 2, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("AffineGrid", 20, NULL, 0, (er_tensor *[]){id2, vi(3, D(1, 1, 2))}, 2, y, 1), ER_INVALID_ARGUMENT);
  er_tensor *sz = vi(4, D(1, 1, 2, 3));
  sz->data = NULL;
  CHECK_ERR(ot_run("AffineGrid", 20, NULL, 0, (er_tensor *[]){id2, sz}, 2, y, 1), ER_NEEDS_DATA);
  ot_free_all();
}

/* ---------------- DFT / STFT ---------------- */

/* Naive double-precision DFT of a real/complex sequence for reference values. */
static void ref_dft(const double *re, const double *im, int n, int inverse, double *ore, double *oim) {
  for (int k = 0; k < n; k++) {
    double sr = 0, si = 0;
    for (int j = 0; j < n; j++) {
      double a = (inverse ? 2 : -2) * M_PI * (double)j * k / n;
      sr += re[j] * cos(a) - im[j] * sin(a);
      si += re[j] * sin(a) + im[j] * cos(a);
    }
    ore[k] = inverse ? sr / n : sr;
    oim[k] = inverse ? si / n : si;
  }
}

TEST(dft_real_pow2_and_direct) {
  er_tensor *y[1];
  for (int n = 4; n <= 7; n++) { /* lengths 4, 5, 6, 8: 4 and 8 use the FFT, 5 and 6 the direct DFT */
    int len = n == 7 ? 8 : n;
    er_tensor *x = ot_tensor(ER_F32, 3, D(1, len, 1), NULL);
    double re[8], im[8] = {0}, ore[8], oim[8];
    for (int j = 0; j < len; j++) ((float *)x->data)[j] = (float)(re[j] = sin(j * 1.3) + j * 0.25);
    CHECK_OK(ot_run("DFT", 17, NULL, 0, (er_tensor *[]){x}, 1, y, 1));
    CHECK(shape_is(y[0], 3, D(1, len, 2)));
    ref_dft(re, im, len, 0, ore, oim);
    for (int k = 0; k < len; k++) {
      CHECK_NEAR(fv(y[0])[2 * k], ore[k], 1e-5);
      CHECK_NEAR(fv(y[0])[2 * k + 1], oim[k], 1e-5);
    }
  }
  ot_free_all();
}

TEST(dft_inverse_roundtrip_onesided_length) {
  er_tensor *y[1], *z[1];
  er_tensor *x = ot_tensor(ER_F64, 3, D(2, 6, 2), NULL);
  for (int i = 0; i < 24; i++) ((double *)x->data)[i] = cos(i * 0.7) * 3;
  CHECK_OK(ot_run("DFT", 17, NULL, 0, (er_tensor *[]){x}, 1, y, 1));
  er_attr inv[] = {ot_int("inverse", 1)};
  CHECK_OK(ot_run("DFT", 17, inv, 1, (er_tensor *[]){y[0]}, 1, z, 1));
  double md = 0;
  for (int i = 0; i < 24; i++) md = fmax(md, fabs(((double *)z[0]->data)[i] - ((double *)x->data)[i]));
  CHECK(z[0]->dtype == ER_F64 && md < 1e-12);
  /* onesided: 6 -> 4 bins, equal to the first bins of the full transform */
  er_tensor *xr = ramp(3, D(1, 6, 1), 1);
  er_attr os[] = {ot_int("onesided", 1)};
  CHECK_OK(ot_run("DFT", 17, os, 1, (er_tensor *[]){xr}, 1, y, 1));
  CHECK(shape_is(y[0], 3, D(1, 4, 2)));
  CHECK_NEAR(fv(y[0])[0], 21, 1e-5);
  CHECK_NEAR(fv(y[0])[2], -3, 1e-5);
  CHECK_NEAR(fv(y[0])[3], 5.196152, 1e-5);
  /* dft_length pads with zeros: [1,2,3] at length 4 -> X[1] = 1 - 3 + j(-2) */
  CHECK_OK(ot_run("DFT", 17, NULL, 0, (er_tensor *[]){ramp(3, D(1, 3, 1), 1), si(4)}, 2, y, 1));
  CHECK(shape_is(y[0], 3, D(1, 4, 2)));
  CHECK_NEAR(fv(y[0])[2], -2, 1e-6);
  CHECK_NEAR(fv(y[0])[3], -2, 1e-6);
  /* and truncates: length 2 of [1,2,3] -> [3, -1] */
  CHECK_OK(ot_run("DFT", 17, NULL, 0, (er_tensor *[]){ramp(3, D(1, 3, 1), 1), si(2)}, 2, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], F(3, 0, -1, 0), 4) < 1e-6);
  ot_free_all();
}

TEST(dft_axis_opsets) {
  er_tensor *x = ramp(4, D(1, 2, 3, 1), 0), *y[1], *y2[1];
  /* opset 17 axis attribute 2 vs opset 20 axis input -2 (same axis) */
  er_attr ax[] = {ot_int("axis", 2)};
  CHECK_OK(ot_run("DFT", 17, ax, 1, (er_tensor *[]){x}, 1, y, 1));
  CHECK_OK(ot_run("DFT", 20, NULL, 0, (er_tensor *[]){x, NULL, si(-2)}, 3, y2, 1));
  CHECK(shape_is(y[0], 4, D(1, 2, 3, 2)) && ot_max_abs_diff_f32(y2[0], fv(y[0]), 12) == 0);
  CHECK_NEAR(fv(y[0])[0], 3, 1e-6);  /* 0+1+2 */
  CHECK_NEAR(fv(y[0])[6], 12, 1e-6); /* 3+4+5 */
  /* opset 20 default axis is -2; opset 17 default is 1 */
  CHECK_OK(ot_run("DFT", 20, NULL, 0, (er_tensor *[]){x}, 1, y2, 1));
  CHECK(ot_max_abs_diff_f32(y2[0], fv(y[0]), 12) == 0);
  CHECK_OK(ot_run("DFT", 17, NULL, 0, (er_tensor *[]){x}, 1, y, 1));
  CHECK_NEAR(fv(y[0])[0], 3, 1e-6); /* x[0,0,0] + x[0,1,0] = 0 + 3 */
  /* errors: the last axis, bad last dim, bad length */
  CHECK_ERR(ot_run("DFT", 20, NULL, 0, (er_tensor *[]){x, NULL, si(3)}, 3, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("DFT", 17, NULL, 0, (er_tensor *[]){ramp(2, D(2, 3), 0)}, 1, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("DFT", 17, NULL, 0, (er_tensor *[]){x, si(0)}, 2, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("DFT", 17, NULL, 0, (er_tensor *[]){ot_tensor(ER_I32, 3, D(1, 2, 1), NULL)}, 1, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

TEST(stft_window_frames) {
  er_tensor *y[1];
  er_tensor *x = ot_tensor(ER_F32, 3, D(2, 20, 1), NULL);
  for (int i = 0; i < 40; i++) ((float *)x->data)[i] = (float)sin(i * 0.37);
  er_tensor *w = ot_tensor(ER_F32, 1, D(6), NULL);
  for (int i = 0; i < 6; i++) ((float *)w->data)[i] = (float)(0.5 + 0.1 * i);
  CHECK_OK(ot_run("STFT", 17, NULL, 0, (er_tensor *[]){x, si(4), w}, 3, y, 1));
  /* frames = 1 + (20 - 6) / 4 = 4; onesided bins = 6 / 2 + 1 = 4 */
  CHECK(shape_is(y[0], 4, D(2, 4, 4, 2)));
  double md = 0;
  for (int b = 0; b < 2; b++)
    for (int f = 0; f < 4; f++) {
      double re[6], im[6] = {0}, ore[6], oim[6];
      for (int j = 0; j < 6; j++) re[j] = (double)fv(x)[b * 20 + f * 4 + j] * fv(w)[j];
      ref_dft(re, im, 6, 0, ore, oim);
      for (int k = 0; k < 4; k++) {
        const float *o = fv(y[0]) + ((b * 4 + f) * 4 + k) * 2;
        md = fmax(md, fmax(fabs(o[0] - ore[k]), fabs(o[1] - oim[k])));
      }
    }
  CHECK(md < 1e-5);
  /* frame_length without window, two-sided */
  er_attr two[] = {ot_int("onesided", 0)};
  CHECK_OK(ot_run("STFT", 17, two, 1, (er_tensor *[]){x, si(5), NULL, si(8)}, 4, y, 1));
  CHECK(shape_is(y[0], 4, D(2, 3, 8, 2)));
  double s = 0;
  for (int j = 0; j < 8; j++) s += fv(x)[5 + j];
  CHECK_NEAR(fv(y[0])[16], s, 1e-5); /* frame 1, bin 0 */
  CHECK_ERR(ot_run("STFT", 17, NULL, 0, (er_tensor *[]){x, si(4), w, si(8)}, 4, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("STFT", 17, NULL, 0, (er_tensor *[]){x, si(0), w}, 3, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("STFT", 17, NULL, 0, (er_tensor *[]){x, si(1), NULL, si(21)}, 4, y, 1), ER_INVALID_ARGUMENT);
  er_tensor *step = si(4);
  step->data = NULL;
  CHECK_ERR(ot_run("STFT", 17, NULL, 0, (er_tensor *[]){x, step, w}, 3, y, 1), ER_NEEDS_DATA);
  ot_free_all();
}

/* ---------------- windows / mel ---------------- */

TEST(windows) {
  er_tensor *y[1];
  CHECK_OK(ot_run("HannWindow", 17, NULL, 0, (er_tensor *[]){si(4)}, 1, y, 1));
  CHECK(y[0]->dtype == ER_F32 && ot_max_abs_diff_f32(y[0], F(0, 0.5f, 1, 0.5f), 4) < 1e-6);
  er_attr sym[] = {ot_int("periodic", 0)};
  CHECK_OK(ot_run("HannWindow", 17, sym, 1, (er_tensor *[]){si(5)}, 1, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], F(0, 0.5f, 1, 0.5f, 0), 5) < 1e-6);
  /* ONNX test_hammingwindow (size 10, periodic) */
  int32_t ten = 10;
  CHECK_OK(ot_run("HammingWindow", 17, NULL, 0, (er_tensor *[]){ot_tensor(ER_I32, 0, NULL, &ten)}, 1, y, 1));
  CHECK(prefix_diff(y[0], F(0.08695652f, 0.17414442f, 0.40240529f, 0.68455124f, 0.91281211f, 1), 6) < 1e-6);
  /* ONNX test_blackmanwindow_symmetric */
  CHECK_OK(ot_run("BlackmanWindow", 17, sym, 1, (er_tensor *[]){ot_tensor(ER_I32, 0, NULL, &ten)}, 1, y, 1));
  CHECK(prefix_diff(y[0], F(0, 0.05086964f, 0.25800052f, 0.63f, 0.95112991f), 5) < 1e-6);
  er_attr dbl[] = {ot_int("output_datatype", ER_F64)};
  CHECK_OK(ot_run("HannWindow", 17, dbl, 1, (er_tensor *[]){si(4)}, 1, y, 1));
  CHECK(y[0]->dtype == ER_F64 && fabs(((double *)y[0]->data)[1] - 0.5) < 1e-15);
  er_attr i32[] = {ot_int("output_datatype", ER_I32)};
  CHECK_OK(ot_run("HannWindow", 17, i32, 1, (er_tensor *[]){si(4)}, 1, y, 1));
  CHECK(y[0]->dtype == ER_I32 && ((int32_t *)y[0]->data)[2] == 1 && ((int32_t *)y[0]->data)[1] == 0);
  CHECK_OK(ot_run("HannWindow", 17, sym, 1, (er_tensor *[]){si(1)}, 1, y, 1));
  CHECK(fv(y[0])[0] == 1.0f);
  CHECK_OK(ot_run("BlackmanWindow", 17, NULL, 0, (er_tensor *[]){si(0)}, 1, y, 1));
  CHECK(shape_is(y[0], 1, D(0)));
  er_attr badt[] = {ot_int("output_datatype", ER_BOOL)};
  CHECK_ERR(ot_run("HannWindow", 17, badt, 1, (er_tensor *[]){si(4)}, 1, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("HannWindow", 17, NULL, 0, (er_tensor *[]){si(-1)}, 1, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

TEST(mel_weight_matrix) { /* ONNX test_melweightmatrix */
  er_tensor *y[1];
  int32_t v[3] = {8, 16, 8192};
  er_tensor *in[5] = {ot_tensor(ER_I32, 0, NULL, &v[0]), ot_tensor(ER_I32, 0, NULL, &v[1]),
                      ot_tensor(ER_I32, 0, NULL, &v[2]), sf(0), sf(4096)};
  CHECK_OK(ot_run("MelWeightMatrix", 17, NULL, 0, in, 5, y, 1));
  CHECK(shape_is(y[0], 2, D(9, 8)));
  float e[72] = {0};
  e[0] = e[1] = 1;
  e[8 + 2] = e[8 + 3] = 1;
  e[16 + 4] = e[24 + 5] = e[32 + 6] = e[40 + 7] = 1;
  CHECK(ot_max_abs_diff_f32(y[0], e, 72) == 0);
  /* a wider filter bank has fractional slopes that peak at 1 */
  in[0] = si(2), in[1] = si(64), in[2] = si(1000), in[4] = sf(500);
  er_attr f64[] = {ot_int("output_datatype", ER_F64)};
  CHECK_OK(ot_run("MelWeightMatrix", 17, f64, 1, in, 5, y, 1));
  CHECK(shape_is(y[0], 2, D(33, 2)) && y[0]->dtype == ER_F64);
  double mx = 0, frac = 0;
  for (int i = 0; i < 66; i++) {
    double t = ((double *)y[0]->data)[i];
    mx = fmax(mx, t);
    if (t > 0 && t < 1) frac = 1;
  }
  CHECK(mx == 1.0 && frac == 1);
  CHECK_ERR(ot_run("MelWeightMatrix", 17, NULL, 0, (er_tensor *[]){si(0), si(16), si(8000), sf(0), sf(100)}, 5, y, 1),
            ER_INVALID_ARGUMENT);
  ot_free_all();
}

/* ---------------- NonMaxSuppression ---------------- */

static const float k_boxes[] = {0, 0, 1, 1, 0, 0.1f, 1, 1.1f, 0, -0.1f, 1, 0.9f, 0, 10, 1, 11, 0, 10.1f, 1, 11.1f, 0, 100, 1, 101};
static const float k_scores[] = {0.9f, 0.75f, 0.6f, 0.95f, 0.5f, 0.3f};

static int rows_are(const er_tensor *t, int n, const int64_t *e) {
  if (t->dtype != ER_I64 || !shape_is(t, 2, D(n, 3))) return 0;
  return memcmp(t->data, e, (size_t)n * 3 * sizeof(int64_t)) == 0;
}

TEST(nms_basic) { /* ONNX test_nonmaxsuppression_suppress_by_IOU / limit / scores */
  er_tensor *b = tf(3, D(1, 6, 4), k_boxes), *s = tf(3, D(1, 1, 6), k_scores), *y[1];
  CHECK_OK(ot_run("NonMaxSuppression", 11, NULL, 0, (er_tensor *[]){b, s, vi(1, D(3)), vf(1, F(0.5f)), vf(1, F(0))}, 5, y, 1));
  CHECK(rows_are(y[0], 3, D(0, 0, 3, 0, 0, 0, 0, 0, 5)));
  CHECK_OK(ot_run("NonMaxSuppression", 11, NULL, 0, (er_tensor *[]){b, s, si(2), sf(0.5f), sf(0)}, 5, y, 1));
  CHECK(rows_are(y[0], 2, D(0, 0, 3, 0, 0, 0)));
  CHECK_OK(ot_run("NonMaxSuppression", 10, NULL, 0, (er_tensor *[]){b, s, vi(1, D(3)), vf(1, F(0.5f)), vf(1, F(0.4f))}, 5, y, 1));
  CHECK(rows_are(y[0], 2, D(0, 0, 3, 0, 0, 0)));
  /* no max_output_boxes_per_class: nothing selected */
  CHECK_OK(ot_run("NonMaxSuppression", 11, NULL, 0, (er_tensor *[]){b, s}, 2, y, 1));
  CHECK(shape_is(y[0], 2, D(0, 3)));
  /* iou_threshold absent (0): any overlap suppresses */
  CHECK_OK(ot_run("NonMaxSuppression", 11, NULL, 0, (er_tensor *[]){b, s, si(10)}, 3, y, 1));
  CHECK(rows_are(y[0], 3, D(0, 0, 3, 0, 0, 0, 0, 0, 5)));
  ot_free_all();
}

TEST(nms_center_flipped_batches_classes) {
  er_tensor *y[1];
  /* center format: same boxes as k_boxes, written (x_c, y_c, w, h) */
  er_tensor *bc = tf(3, D(1, 6, 4), F(0.5f, 0.5f, 1, 1, 0.5f, 0.6f, 1, 1, 0.5f, 0.4f, 1, 1, 0.5f, 10.5f, 1, 1, 0.5f, 10.6f, 1, 1,
                                      0.5f, 100.5f, 1, 1));
  er_attr cpb[] = {ot_int("center_point_box", 1)};
  er_tensor *s = tf(3, D(1, 1, 6), k_scores);
  CHECK_OK(ot_run("NonMaxSuppression", 11, cpb, 1, (er_tensor *[]){bc, s, si(3), sf(0.5f), sf(0)}, 5, y, 1));
  CHECK(rows_are(y[0], 3, D(0, 0, 3, 0, 0, 0, 0, 0, 5)));
  /* flipped corners give the same result */
  er_tensor *bf = tf(3, D(1, 6, 4), F(1, 1, 0, 0, 0, 0.1f, 1, 1.1f, 0, 0.9f, 1, -0.1f, 0, 10, 1, 11, 1, 10.1f, 0, 11.1f, 1, 101, 0, 100));
  CHECK_OK(ot_run("NonMaxSuppression", 11, NULL, 0, (er_tensor *[]){bf, s, si(3), sf(0.5f), sf(0)}, 5, y, 1));
  CHECK(rows_are(y[0], 3, D(0, 0, 3, 0, 0, 0, 0, 0, 5)));
  /* two batches x two classes, max 2 per class; equal scores keep the lower index first */
  float b2[48], s2[24];
  memcpy(b2, k_boxes, sizeof k_boxes);
  memcpy(b2 + 24, k_boxes, sizeof k_boxes);
  for (int i = 0; i < 6; i++) s2[i] = k_scores[i], s2[6 + i] = 0.5f, s2[12 + i] = k_scores[5 - i], s2[18 + i] = 0;
  CHECK_OK(ot_run("NonMaxSuppression", 11, NULL, 0,
                  (er_tensor *[]){tf(3, D(2, 6, 4), b2), tf(3, D(2, 2, 6), s2), si(2), sf(0.5f), sf(0)}, 5, y, 1));
  CHECK(rows_are(y[0], 6, D(0, 0, 3, 0, 0, 0, 0, 1, 0, 0, 1, 3, 1, 0, 2, 1, 0, 5)));
  ot_free_all();
}

TEST(nms_large_uses_scan_path_consistently) {
  /* N > 4096: infer counts with the scan path, run selects with the sorting path; run
   * fails with ER_INTERNAL if the two disagree. */
  enum { N = 5000 };
  er_tensor *b = ot_tensor(ER_F32, 3, D(1, N, 4), NULL), *s = ot_tensor(ER_F32, 3, D(1, 2, N), NULL), *y[1];
  float *bp = (float *)b->data, *sp = (float *)s->data;
  uint32_t r = 12345;
  for (int i = 0; i < N; i++) {
    r = r * 1664525u + 1013904223u;
    float x0 = (float)(r % 1000) / 10.0f;
    r = r * 1664525u + 1013904223u;
    float y0 = (float)(r % 1000) / 10.0f;
    bp[4 * i] = y0, bp[4 * i + 1] = x0, bp[4 * i + 2] = y0 + 5, bp[4 * i + 3] = x0 + 5;
    r = r * 1664525u + 1013904223u;
    sp[i] = (float)(r % 100) / 100.0f; /* many ties */
    sp[N + i] = (float)(i % 7) / 7.0f;
  }
  CHECK_OK(ot_run("NonMaxSuppression", 11, NULL, 0, (er_tensor *[]){b, s, si(200), sf(0.3f), sf(0.2f)}, 5, y, 1));
  CHECK(y[0]->rank == 2 && y[0]->dims[0] > 100 && y[0]->dims[0] <= 400);
  /* the first pick of class 0 is the lowest-index box with the top score */
  int64_t best = 0;
  for (int i = 1; i < N; i++)
    if (sp[i] > sp[best]) best = i;
  CHECK(((int64_t *)y[0]->data)[2] == best);
  ot_free_all();
}

TEST(nms_errors_and_needs_data) {
  er_tensor *b = tf(3, D(1, 6, 4), k_boxes), *s = tf(3, D(1, 1, 6), k_scores), *y[1];
  CHECK_ERR(ot_run("NonMaxSuppression", 11, NULL, 0, (er_tensor *[]){b, tf(3, D(1, 1, 5), k_scores), si(3)}, 3, y, 1),
            ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("NonMaxSuppression", 11, NULL, 0, (er_tensor *[]){tf(3, D(1, 4, 6), k_boxes), s, si(3)}, 3, y, 1),
            ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("NonMaxSuppression", 11, NULL, 0, (er_tensor *[]){b, s, si(3), sf(1.5f)}, 4, y, 1), ER_INVALID_ARGUMENT);
  er_attr cpb[] = {ot_int("center_point_box", 2)};
  CHECK_ERR(ot_run("NonMaxSuppression", 11, cpb, 1, (er_tensor *[]){b, s, si(3)}, 3, y, 1), ER_INVALID_ARGUMENT);
  er_tensor *su = tf(3, D(1, 1, 6), k_scores);
  su->data = NULL;
  CHECK_ERR(ot_run("NonMaxSuppression", 11, NULL, 0, (er_tensor *[]){b, su, si(3)}, 3, y, 1), ER_NEEDS_DATA);
  ot_free_all();
}
