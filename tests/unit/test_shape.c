/* Unit tests for the shape and indexing kernels (ops_shape.c, shape_index.c). */
#include <string.h>

#include "optest.h"
#include "test.h"

#define D(...) ((const int64_t[]){__VA_ARGS__})
#define F(...) ((const float[]){__VA_ARGS__})
#define L(...) ((const int64_t[]){__VA_ARGS__})
#define IN(...) ((er_tensor *[]){__VA_ARGS__})

static int dims_eq(const er_tensor *t, int rank, const int64_t *d) {
  if (t->rank != rank) return 0;
  for (int i = 0; i < rank; i++)
    if (t->dims[i] != d[i]) return 0;
  return 1;
}
static int f32_eq(const er_tensor *t, const float *v, int64_t n) { return ot_max_abs_diff_f32(t, v, n) == 0; }
static int i64_eq(const er_tensor *t, const int64_t *v, int64_t n) {
  if (t->dtype != ER_I64 || er_tensor_numel(t) != n) return 0;
  return n == 0 || !memcmp(t->data, v, sizeof(int64_t) * (size_t)n);
}
/* A tensor whose values are unknown (shape inference time). */
static er_tensor *unknown(int dtype, int rank, const int64_t *dims) {
  er_tensor *t = ot_tensor(dtype, rank, dims, NULL);
  t->data = NULL;
  return t;
}
static er_tensor *f32(int rank, const int64_t *dims, const float *v) { return ot_tensor(ER_F32, rank, dims, v); }
static er_tensor *i64(int rank, const int64_t *dims, const int64_t *v) { return ot_tensor(ER_I64, rank, dims, v); }
static er_tensor *iota(int dtype, int rank, const int64_t *dims) {
  er_tensor *t = ot_tensor(dtype, rank, dims, NULL);
  for (int64_t i = 0; i < er_tensor_numel(t); i++) er_store_f64(t->data, dtype, (size_t)i, (double)i);
  return t;
}

TEST(shape_constant) {
  er_tensor *y[1];
  er_attr a[] = {ot_floats("value_floats", 3, F(1, 2, 3))};
  CHECK_OK(ot_run("Constant", 13, a, 1, NULL, 0, y, 1));
  CHECK(dims_eq(y[0], 1, D(3)) && f32_eq(y[0], F(1, 2, 3), 3));
  er_attr b[] = {ot_int("value_int", -7)};
  CHECK_OK(ot_run("Constant", 13, b, 1, NULL, 0, y, 1));
  CHECK(y[0]->dtype == ER_I64 && y[0]->rank == 0 && *(int64_t *)y[0]->data == -7);
  er_tensor *v = ot_tensor(ER_F16, 1, D(2), (const uint16_t[]){0x3c00, 0xc000});
  er_attr t = {.name = "value", .type = ER_ATTR_TENSOR, .t = v};
  CHECK_OK(ot_run("Constant", 9, &t, 1, NULL, 0, y, 1));
  CHECK(y[0]->dtype == ER_F16 && ((uint16_t *)y[0]->data)[1] == 0xc000);
  er_attr s = ot_str("value_string", "x");
  CHECK_ERR(ot_run("Constant", 13, &s, 1, NULL, 0, y, 1), ER_UNSUPPORTED);
  er_attr two[] = {ot_int("value_int", 1), ot_float("value_float", 2)};
  CHECK_ERR(ot_run("Constant", 13, two, 2, NULL, 0, y, 1), ER_INVALID_MODEL);
  CHECK_ERR(ot_run("Constant", 13, NULL, 0, NULL, 0, y, 1), ER_INVALID_MODEL);
  ot_free_all();
}

TEST(shape_shape_size) {
  er_tensor *y[1], *x = unknown(ER_F16, 4, D(2, 3, 4, 5));
  CHECK_OK(ot_run("Shape", 13, NULL, 0, IN(x), 1, y, 1));
  CHECK(i64_eq(y[0], L(2, 3, 4, 5), 4));
  er_attr a[] = {ot_int("start", -3), ot_int("end", -1)};
  CHECK_OK(ot_run("Shape", 15, a, 2, IN(x), 1, y, 1));
  CHECK(i64_eq(y[0], L(3, 4), 2));
  er_attr b[] = {ot_int("start", 3), ot_int("end", 1)};
  CHECK_OK(ot_run("Shape", 15, b, 2, IN(x), 1, y, 1));
  CHECK(dims_eq(y[0], 1, D(0)));
  CHECK_OK(ot_run("Size", 13, NULL, 0, IN(x), 1, y, 1));
  CHECK(y[0]->rank == 0 && *(int64_t *)y[0]->data == 120);
  CHECK(er_op_find("", "Shape", 21)->flags & ER_OP_SHAPE_ONLY);
  CHECK(er_op_find("", "Size", 21)->flags & ER_OP_SHAPE_ONLY);
  ot_free_all();
}

TEST(shape_reshape) {
  er_tensor *y[1], *x = iota(ER_I8, 3, D(2, 3, 4));
  CHECK_OK(ot_run("Reshape", 14, NULL, 0, IN(x, i64(1, D(3), L(0, -1, 2))), 2, y, 1));
  CHECK(dims_eq(y[0], 3, D(2, 6, 2)) && ((int8_t *)y[0]->data)[23] == 23);
  /* values unknown -> needs data */
  CHECK_ERR(ot_run("Reshape", 14, NULL, 0, IN(x, unknown(ER_I64, 1, D(2))), 2, y, 1), ER_NEEDS_DATA);
  /* allowzero: 0 means an empty dim */
  er_attr az = ot_int("allowzero", 1);
  CHECK_OK(ot_run("Reshape", 14, &az, 1, IN(ot_tensor(ER_F32, 2, D(0, 3), NULL), i64(1, D(2), L(3, 0))), 2, y, 1));
  CHECK(dims_eq(y[0], 2, D(3, 0)));
  CHECK_ERR(ot_run("Reshape", 14, &az, 1, IN(x, i64(1, D(2), L(0, -1))), 2, y, 1), ER_INVALID_ARGUMENT);
  /* opset 1: shape attribute */
  er_attr sh = ot_ints("shape", 2, L(4, -1));
  CHECK_OK(ot_run("Reshape", 1, &sh, 1, IN(x), 1, y, 1));
  CHECK(dims_eq(y[0], 2, D(4, 6)));
  CHECK_ERR(ot_run("Reshape", 13, NULL, 0, IN(x, i64(1, D(2), L(5, -1))), 2, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("Reshape", 13, NULL, 0, IN(x, i64(1, D(2), L(-1, -1))), 2, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("Reshape", 13, NULL, 0, IN(x, i64(1, D(2), L(5, 5))), 2, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("Reshape", 13, NULL, 0, IN(x, i64(1, D(4), L(0, 0, 0, 0))), 2, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

TEST(shape_flatten_squeeze_unsqueeze) {
  er_tensor *y[1], *x = iota(ER_F32, 4, D(1, 3, 1, 2));
  er_attr ax = ot_int("axis", -1);
  CHECK_OK(ot_run("Flatten", 13, &ax, 1, IN(x), 1, y, 1));
  CHECK(dims_eq(y[0], 2, D(3, 2)) && f32_eq(y[0], F(0, 1, 2, 3, 4, 5), 6));
  er_attr a0 = ot_int("axis", 0);
  CHECK_OK(ot_run("Flatten", 9, &a0, 1, IN(x), 1, y, 1));
  CHECK(dims_eq(y[0], 2, D(1, 6)));
  er_attr a5 = ot_int("axis", 5);
  CHECK_ERR(ot_run("Flatten", 13, &a5, 1, IN(x), 1, y, 1), ER_INVALID_ARGUMENT);

  CHECK_OK(ot_run("Squeeze", 13, NULL, 0, IN(x), 1, y, 1)); /* all size-1 dims */
  CHECK(dims_eq(y[0], 2, D(3, 2)));
  CHECK_OK(ot_run("Squeeze", 13, NULL, 0, IN(x, i64(1, D(1), L(-2))), 2, y, 1));
  CHECK(dims_eq(y[0], 3, D(1, 3, 2)));
  er_attr sa = ot_ints("axes", 1, L(0));
  CHECK_OK(ot_run("Squeeze", 11, &sa, 1, IN(x), 1, y, 1));
  CHECK(dims_eq(y[0], 3, D(3, 1, 2)));
  CHECK_ERR(ot_run("Squeeze", 13, NULL, 0, IN(x, i64(1, D(1), L(1))), 2, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("Squeeze", 13, NULL, 0, IN(x, unknown(ER_I64, 1, D(1))), 2, y, 1), ER_NEEDS_DATA);

  er_tensor *v = iota(ER_BOOL, 1, D(3));
  CHECK_OK(ot_run("Unsqueeze", 13, NULL, 0, IN(v, i64(1, D(2), L(-1, 0))), 2, y, 1));
  CHECK(dims_eq(y[0], 3, D(1, 3, 1)));
  er_attr ua = ot_ints("axes", 2, L(1, 2));
  CHECK_OK(ot_run("Unsqueeze", 11, &ua, 1, IN(v), 1, y, 1));
  CHECK(dims_eq(y[0], 3, D(3, 1, 1)) && !memcmp(y[0]->data, v->data, 3));
  er_attr ub = ot_ints("axes", 2, L(1, 3));
  CHECK_ERR(ot_run("Unsqueeze", 11, &ub, 1, IN(v), 1, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("Unsqueeze", 13, NULL, 0, IN(v, i64(1, D(2), L(0, 0))), 2, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("Unsqueeze", 13, NULL, 0, IN(v, i64(1, D(1), L(3))), 2, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

TEST(shape_transpose) {
  er_tensor *y[1], *x = iota(ER_F32, 3, D(2, 3, 2));
  er_attr p = ot_ints("perm", 3, L(1, 2, 0));
  CHECK_OK(ot_run("Transpose", 13, &p, 1, IN(x), 1, y, 1));
  /* y[i][j][k] = x[k][i][j] = 6k + 2i + j */
  CHECK(dims_eq(y[0], 3, D(3, 2, 2)) && f32_eq(y[0], F(0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11), 12));
  er_tensor *h = iota(ER_F16, 2, D(2, 3));
  CHECK_OK(ot_run("Transpose", 13, NULL, 0, IN(h), 1, y, 1));
  CHECK(dims_eq(y[0], 2, D(3, 2)) && er_load_f64(y[0]->data, ER_F16, 1) == 3.0);
  er_attr bad = ot_ints("perm", 3, L(0, 0, 1));
  CHECK_ERR(ot_run("Transpose", 13, &bad, 1, IN(x), 1, y, 1), ER_INVALID_ARGUMENT);
  er_attr shortp = ot_ints("perm", 2, L(0, 1));
  CHECK_ERR(ot_run("Transpose", 13, &shortp, 1, IN(x), 1, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

TEST(shape_concat_split) {
  er_tensor *y[3];
  er_tensor *a = f32(2, D(2, 1), F(1, 2)), *b = f32(2, D(2, 2), F(3, 4, 5, 6)), *e = f32(2, D(2, 0), NULL);
  er_attr ax = ot_int("axis", -1);
  CHECK_OK(ot_run("Concat", 13, &ax, 1, IN(a, e, b), 3, y, 1));
  CHECK(dims_eq(y[0], 2, D(2, 3)) && f32_eq(y[0], F(1, 3, 4, 2, 5, 6), 6));
  CHECK_ERR(ot_run("Concat", 13, NULL, 0, IN(a, b), 2, y, 1), ER_INVALID_MODEL); /* axis required */
  er_attr a0 = ot_int("axis", 0);
  CHECK_ERR(ot_run("Concat", 13, &a0, 1, IN(a, b), 2, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("Concat", 13, &ax, 1, IN(a, i64(2, D(2, 1), L(1, 2))), 2, y, 1), ER_INVALID_ARGUMENT);

  er_tensor *x = iota(ER_I32, 2, D(7, 1));
  er_attr s18[] = {ot_int("axis", 0), ot_int("num_outputs", 3)};
  CHECK_OK(ot_run("Split", 18, s18, 2, IN(x), 1, y, 3)); /* 3,3,1 */
  CHECK(dims_eq(y[0], 2, D(3, 1)) && dims_eq(y[2], 2, D(1, 1)) && ((int32_t *)y[2]->data)[0] == 6);
  CHECK_OK(ot_run("Split", 13, s18, 1, IN(x, i64(1, D(2), L(5, 2))), 2, y, 2));
  CHECK(dims_eq(y[1], 2, D(2, 1)) && ((int32_t *)y[1]->data)[0] == 5);
  CHECK_ERR(ot_run("Split", 13, s18, 1, IN(x, unknown(ER_I64, 1, D(2))), 2, y, 2), ER_NEEDS_DATA);
  CHECK_ERR(ot_run("Split", 13, s18, 1, IN(x, i64(1, D(2), L(5, 3))), 2, y, 2), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("Split", 13, s18, 1, IN(x), 1, y, 3), ER_INVALID_ARGUMENT); /* 7 not divisible */
  er_attr s2[] = {ot_int("axis", 0), ot_ints("split", 2, L(1, 6))};
  CHECK_OK(ot_run("Split", 2, s2, 2, IN(x), 1, y, 2));
  CHECK(dims_eq(y[0], 2, D(1, 1)) && ((int32_t *)y[1]->data)[5] == 6);
  ot_free_all();
}

TEST(shape_slice) {
  er_tensor *y[1], *x = iota(ER_F32, 2, D(3, 4));
  /* reverse both axes, step -2 on axis 1 */
  CHECK_OK(ot_run("Slice", 13, NULL, 0,
                  IN(x, i64(1, D(2), L(-1, 100)), i64(1, D(2), L(INT64_MIN, -100)), i64(1, D(2), L(0, 1)),
                     i64(1, D(2), L(-1, -2))), 5, y, 1));
  CHECK(dims_eq(y[0], 2, D(3, 2)) && f32_eq(y[0], F(11, 9, 7, 5, 3, 1), 6));
  /* opset 1 attributes, axes omitted */
  er_attr at[] = {ot_ints("starts", 2, L(1, -3)), ot_ints("ends", 2, L(2, 1000))};
  CHECK_OK(ot_run("Slice", 9, at, 2, IN(x), 1, y, 1));
  CHECK(dims_eq(y[0], 2, D(1, 3)) && f32_eq(y[0], F(5, 6, 7), 3));
  /* empty result and huge step */
  CHECK_OK(ot_run("Slice", 10, NULL, 0, IN(x, i64(1, D(1), L(3)), i64(1, D(1), L(1)), i64(1, D(1), L(1))), 4, y, 1));
  CHECK(dims_eq(y[0], 2, D(3, 0)));
  CHECK_OK(ot_run("Slice", 13, NULL, 0,
                  IN(x, i64(1, D(1), L(1)), i64(1, D(1), L(4)), i64(1, D(1), L(1)), i64(1, D(1), L(INT64_MAX))), 5, y, 1));
  CHECK(dims_eq(y[0], 2, D(3, 1)) && f32_eq(y[0], F(1, 5, 9), 3));
  CHECK_ERR(ot_run("Slice", 13, NULL, 0,
                   IN(x, i64(1, D(1), L(0)), i64(1, D(1), L(2)), i64(1, D(1), L(0)), i64(1, D(1), L(0))), 5, y, 1),
            ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("Slice", 13, NULL, 0, IN(x, i64(1, D(1), L(0)), i64(1, D(1), L(2)), i64(1, D(1), L(2))), 4, y, 1),
            ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("Slice", 13, NULL, 0, IN(x, unknown(ER_I64, 1, D(1)), i64(1, D(1), L(2))), 3, y, 1), ER_NEEDS_DATA);
  ot_free_all();
}

TEST(shape_expand_tile) {
  er_tensor *y[1], *x = f32(2, D(2, 1), F(1, 2));
  CHECK_OK(ot_run("Expand", 13, NULL, 0, IN(x, i64(1, D(3), L(2, 1, 3))), 2, y, 1));
  CHECK(dims_eq(y[0], 3, D(2, 2, 3)) && f32_eq(y[0], F(1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2), 12));
  CHECK_OK(ot_run("Expand", 13, NULL, 0, IN(x, i64(1, D(1), L(1))), 2, y, 1)); /* shape smaller than input */
  CHECK(dims_eq(y[0], 2, D(2, 1)));
  CHECK_ERR(ot_run("Expand", 13, NULL, 0, IN(x, i64(1, D(2), L(3, 1))), 2, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("Expand", 13, NULL, 0, IN(x, unknown(ER_I64, 1, D(2))), 2, y, 1), ER_NEEDS_DATA);

  er_tensor *b = ot_tensor(ER_BOOL, 2, D(1, 2), (const uint8_t[]){1, 0});
  CHECK_OK(ot_run("Tile", 13, NULL, 0, IN(b, i64(1, D(2), L(2, 2))), 2, y, 1));
  CHECK(dims_eq(y[0], 2, D(2, 4)) && !memcmp(y[0]->data, (const uint8_t[]){1, 0, 1, 0, 1, 0, 1, 0}, 8));
  CHECK_OK(ot_run("Tile", 6, NULL, 0, IN(b, i64(1, D(2), L(0, 3))), 2, y, 1));
  CHECK(dims_eq(y[0], 2, D(0, 6)));
  CHECK_ERR(ot_run("Tile", 13, NULL, 0, IN(b, i64(1, D(1), L(2))), 2, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("Tile", 13, NULL, 0, IN(b, i64(1, D(2), L(1, -1))), 2, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

TEST(shape_pad) {
  er_tensor *y[1], *x = f32(2, D(2, 3), F(1, 2, 3, 4, 5, 6));
  CHECK_OK(ot_run("Pad", 13, NULL, 0, IN(x, i64(1, D(4), L(0, 1, 1, -1)), f32(0, NULL, F(9))), 3, y, 1));
  CHECK(dims_eq(y[0], 2, D(3, 3)) && f32_eq(y[0], F(9, 1, 2, 9, 4, 5, 9, 9, 9), 9));
  er_attr refl = ot_str("mode", "reflect");
  CHECK_OK(ot_run("Pad", 18, &refl, 1, IN(x, i64(1, D(2), L(3, 2)), NULL, i64(1, D(1), L(-1))), 4, y, 1));
  /* row [1 2 3] reflect-padded by 3 / 2: 2 3 2 | 1 2 3 | 2 1 */
  CHECK(dims_eq(y[0], 2, D(2, 8)) && f32_eq(y[0], F(2, 3, 2, 1, 2, 3, 2, 1, 5, 6, 5, 4, 5, 6, 5, 4), 16));
  er_attr wrap = ot_str("mode", "wrap");
  CHECK_OK(ot_run("Pad", 19, &wrap, 1, IN(x, i64(1, D(4), L(0, 4, 0, 0))), 2, y, 1));
  CHECK(dims_eq(y[0], 2, D(2, 7)) && f32_eq(y[0], F(3, 1, 2, 3, 1, 2, 3, 6, 4, 5, 6, 4, 5, 6), 14));
  CHECK_ERR(ot_run("Pad", 18, &wrap, 1, IN(x, i64(1, D(4), L(0, 4, 0, 0))), 2, y, 1), ER_INVALID_ARGUMENT);
  er_attr p2[] = {ot_ints("pads", 4, L(1, 0, 0, 1)), ot_str("mode", "edge")};
  CHECK_OK(ot_run("Pad", 2, p2, 2, IN(x), 1, y, 1));
  CHECK(dims_eq(y[0], 2, D(3, 4)) && f32_eq(y[0], F(1, 2, 3, 3, 1, 2, 3, 3, 4, 5, 6, 6), 12));
  er_attr p2c[] = {ot_ints("pads", 4, L(0, 0, 0, 1)), ot_float("value", -2.5f)};
  er_tensor *h = ot_tensor(ER_F16, 2, D(1, 1), (const uint16_t[]){0x3c00});
  CHECK_OK(ot_run("Pad", 2, p2c, 2, IN(h), 1, y, 1));
  CHECK(y[0]->dtype == ER_F16 && ((uint16_t *)y[0]->data)[1] == 0xc100);
  CHECK_ERR(ot_run("Pad", 13, NULL, 0, IN(x, i64(1, D(3), L(0, 1, 1))), 2, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("Pad", 13, NULL, 0, IN(x, i64(1, D(4), L(0, -4, 0, 0))), 2, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("Pad", 13, NULL, 0, IN(x, unknown(ER_I64, 1, D(4))), 2, y, 1), ER_NEEDS_DATA);
  er_attr bad = ot_str("mode", "mirror");
  CHECK_ERR(ot_run("Pad", 13, &bad, 1, IN(x, i64(1, D(4), L(0, 0, 0, 0))), 2, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

TEST(shape_depth_space) {
  er_tensor *y[1], *x = iota(ER_U16, 4, D(1, 4, 1, 2));
  er_attr dcr = ot_int("blocksize", 2);
  CHECK_OK(ot_run("DepthToSpace", 13, &dcr, 1, IN(x), 1, y, 1));
  /* DCR: out[0,0,b1,2w+b2] = x[0, b1*2+b2, 0, w] */
  CHECK(dims_eq(y[0], 4, D(1, 1, 2, 4)) && !memcmp(y[0]->data, (const uint16_t[]){0, 2, 1, 3, 4, 6, 5, 7}, 16));
  er_tensor *back[1];
  CHECK_OK(ot_run("SpaceToDepth", 13, &dcr, 1, IN(y[0]), 1, back, 1));
  CHECK(dims_eq(back[0], 4, D(1, 4, 1, 2)) && !memcmp(back[0]->data, x->data, 16));
  er_attr crd[] = {ot_int("blocksize", 2), ot_str("mode", "CRD")};
  er_tensor *x2 = iota(ER_U16, 4, D(1, 8, 1, 1));
  CHECK_OK(ot_run("DepthToSpace", 13, crd, 2, IN(x2), 1, y, 1));
  /* CRD: out[0,c,b1,b2] = x[0, c*4 + b1*2 + b2] */
  CHECK(dims_eq(y[0], 4, D(1, 2, 2, 2)) && !memcmp(y[0]->data, (const uint16_t[]){0, 1, 2, 3, 4, 5, 6, 7}, 16));
  er_attr b3 = ot_int("blocksize", 3);
  CHECK_ERR(ot_run("DepthToSpace", 13, &b3, 1, IN(x), 1, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("SpaceToDepth", 13, &b3, 1, IN(x), 1, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("DepthToSpace", 13, NULL, 0, IN(x), 1, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

TEST(shape_gather) {
  er_tensor *y[1], *x = iota(ER_F32, 2, D(3, 2));
  er_tensor *ind = ot_tensor(ER_I32, 2, D(2, 2), (const int32_t[]){-1, 0, 2, 1});
  CHECK_OK(ot_run("Gather", 13, NULL, 0, IN(x, ind), 2, y, 1));
  CHECK(dims_eq(y[0], 3, D(2, 2, 2)) && f32_eq(y[0], F(4, 5, 0, 1, 4, 5, 2, 3), 8));
  er_attr a1 = ot_int("axis", 1);
  CHECK_OK(ot_run("Gather", 1, &a1, 1, IN(x, i64(0, NULL, L(-1))), 2, y, 1));
  CHECK(dims_eq(y[0], 1, D(3)) && f32_eq(y[0], F(1, 3, 5), 3));
  CHECK_ERR(ot_run("Gather", 13, NULL, 0, IN(x, i64(1, D(1), L(3))), 2, y, 1), ER_OUT_OF_RANGE);
  CHECK_ERR(ot_run("Gather", 13, NULL, 0, IN(x, i64(1, D(1), L(-4))), 2, y, 1), ER_OUT_OF_RANGE);
  CHECK_ERR(ot_run("Gather", 13, NULL, 0, IN(x, f32(1, D(1), F(0))), 2, y, 1), ER_INVALID_ARGUMENT);

  /* GatherElements axis 1 */
  CHECK_OK(ot_run("GatherElements", 13, &a1, 1, IN(x, i64(2, D(3, 1), L(1, -2, 1))), 2, y, 1));
  CHECK(dims_eq(y[0], 2, D(3, 1)) && f32_eq(y[0], F(1, 2, 5), 3));
  CHECK_ERR(ot_run("GatherElements", 13, &a1, 1, IN(x, i64(2, D(1, 1), L(2))), 2, y, 1), ER_OUT_OF_RANGE);
  CHECK_ERR(ot_run("GatherElements", 13, &a1, 1, IN(x, i64(2, D(4, 1), L(0, 0, 0, 0))), 2, y, 1), ER_INVALID_ARGUMENT);

  /* GatherND with batch_dims = 1: data [2,3], indices [2,1] */
  er_attr bd = ot_int("batch_dims", 1);
  er_tensor *d3 = iota(ER_I64, 2, D(2, 3));
  CHECK_OK(ot_run("GatherND", 13, &bd, 1, IN(d3, i64(2, D(2, 1), L(2, -3))), 2, y, 1));
  CHECK(dims_eq(y[0], 1, D(2)) && i64_eq(y[0], L(2, 3), 2));
  CHECK_OK(ot_run("GatherND", 11, NULL, 0, IN(d3, i64(2, D(2, 1), L(1, 0))), 2, y, 1));
  CHECK(dims_eq(y[0], 2, D(2, 3)) && i64_eq(y[0], L(3, 4, 5, 0, 1, 2), 6));
  CHECK_ERR(ot_run("GatherND", 13, NULL, 0, IN(d3, i64(2, D(1, 2), L(0, 3))), 2, y, 1), ER_OUT_OF_RANGE);
  CHECK_ERR(ot_run("GatherND", 13, NULL, 0, IN(d3, i64(2, D(1, 3), L(0, 0, 0))), 2, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

TEST(shape_scatter) {
  er_tensor *y[1], *x = f32(2, D(2, 3), F(1, 2, 3, 4, 5, 6));
  er_tensor *ind = i64(2, D(1, 2), L(1, 1)), *upd = f32(2, D(1, 2), F(10, 3));
  er_attr mul[] = {ot_int("axis", 1), ot_str("reduction", "mul")};
  CHECK_OK(ot_run("ScatterElements", 16, mul, 2, IN(x, ind, upd), 3, y, 1));
  CHECK(f32_eq(y[0], F(1, 60, 3, 4, 5, 6), 6)); /* duplicates accumulate */
  CHECK_ERR(ot_run("ScatterElements", 13, mul, 2, IN(x, ind, upd), 3, y, 1), ER_INVALID_ARGUMENT);
  er_attr mx[] = {ot_int("axis", -1), ot_str("reduction", "min")};
  CHECK_OK(ot_run("ScatterElements", 18, mx, 2, IN(x, i64(2, D(1, 2), L(-1, 0)), upd), 3, y, 1));
  CHECK(f32_eq(y[0], F(1, 2, 3, 4, 5, 6), 6));
  er_attr ax0 = ot_int("axis", 0);
  CHECK_OK(ot_run("Scatter", 9, &ax0, 1, IN(x, i64(2, D(1, 2), L(1, 0)), upd), 3, y, 1));
  CHECK(f32_eq(y[0], F(1, 3, 3, 10, 5, 6), 6));
  CHECK_ERR(ot_run("ScatterElements", 13, &ax0, 1, IN(x, i64(2, D(1, 2), L(2, 0)), upd), 3, y, 1), ER_OUT_OF_RANGE);
  CHECK_ERR(ot_run("ScatterElements", 13, &ax0, 1, IN(x, i64(2, D(1, 1), L(0)), upd), 3, y, 1), ER_INVALID_ARGUMENT);
  CHECK(er_op_find("", "Scatter", 11) == NULL);

  /* bfloat16 add through the generic path */
  er_tensor *bx = ot_tensor(ER_BF16, 1, D(2), (const uint16_t[]){0x3f80, 0x4000}); /* 1, 2 */
  er_tensor *bu = ot_tensor(ER_BF16, 1, D(2), (const uint16_t[]){0x4040, 0x3f80}); /* 3, 1 */
  er_attr add = ot_str("reduction", "add");
  CHECK_OK(ot_run("ScatterElements", 18, &add, 1, IN(bx, i64(1, D(2), L(1, 1)), bu), 3, y, 1));
  CHECK(((uint16_t *)y[0]->data)[0] == 0x3f80 && er_load_f64(y[0]->data, ER_BF16, 1) == 6.0);

  /* ScatterND */
  er_tensor *d = iota(ER_I32, 2, D(3, 2));
  er_tensor *su = ot_tensor(ER_I32, 2, D(2, 2), (const int32_t[]){10, 20, 30, 40});
  CHECK_OK(ot_run("ScatterND", 11, NULL, 0, IN(d, i64(2, D(2, 1), L(-1, 0)), su), 3, y, 1));
  CHECK(!memcmp(y[0]->data, (const int32_t[]){30, 40, 2, 3, 10, 20}, 24));
  er_attr mxr = ot_str("reduction", "max");
  CHECK_OK(ot_run("ScatterND", 18, &mxr, 1, IN(d, i64(2, D(2, 2), L(0, 1, 0, 1)), ot_tensor(ER_I32, 1, D(2), (const int32_t[]){7, -1})), 3, y, 1));
  CHECK(!memcmp(y[0]->data, (const int32_t[]){0, 7, 2, 3, 4, 5}, 24));
  CHECK_ERR(ot_run("ScatterND", 16, &mxr, 1, IN(d, i64(2, D(1, 2), L(0, 1)), ot_tensor(ER_I32, 1, D(1), NULL)), 3, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("ScatterND", 13, NULL, 0, IN(d, i64(2, D(1, 2), L(0, 2)), ot_tensor(ER_I32, 1, D(1), NULL)), 3, y, 1), ER_OUT_OF_RANGE);
  CHECK_ERR(ot_run("ScatterND", 13, NULL, 0, IN(d, i64(2, D(1, 2), L(0, 1)), ot_tensor(ER_I32, 1, D(2), NULL)), 3, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

TEST(shape_onehot) {
  er_tensor *y[1];
  er_tensor *ind = f32(1, D(4), F(1.7f, -1, 5, -3)), *depth = i64(0, NULL, L(3)), *vals = i64(1, D(2), L(-1, 9));
  CHECK_OK(ot_run("OneHot", 11, NULL, 0, IN(ind, depth, vals), 3, y, 1));
  /* 1.7 -> 1; -1 -> 2; 5 out of range -> all off; -3 -> 0 */
  CHECK(dims_eq(y[0], 2, D(4, 3)) && i64_eq(y[0], L(-1, 9, -1, -1, -1, 9, -1, -1, -1, 9, -1, -1), 12));
  er_attr a0 = ot_int("axis", 0);
  CHECK_OK(ot_run("OneHot", 9, &a0, 1, IN(i64(1, D(2), L(0, 2)), f32(1, D(1), F(3)), vals), 3, y, 1));
  CHECK(dims_eq(y[0], 2, D(3, 2)) && i64_eq(y[0], L(9, -1, -1, -1, -1, 9), 6));
  CHECK_ERR(ot_run("OneHot", 11, NULL, 0, IN(ind, unknown(ER_I64, 0, NULL), vals), 3, y, 1), ER_NEEDS_DATA);
  CHECK_ERR(ot_run("OneHot", 11, NULL, 0, IN(ind, i64(0, NULL, L(0)), vals), 3, y, 1), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("OneHot", 11, NULL, 0, IN(ind, depth, i64(1, D(3), L(0, 1, 2))), 3, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

TEST(shape_nonzero_compress) {
  er_tensor *y[1], *x = f32(2, D(2, 3), F(0, -0.0f, NAN, 1, 0, 2));
  CHECK_OK(ot_run("NonZero", 13, NULL, 0, IN(x), 1, y, 1));
  CHECK(dims_eq(y[0], 2, D(2, 3)) && i64_eq(y[0], L(0, 1, 1, 2, 0, 2), 6));
  CHECK_ERR(ot_run("NonZero", 13, NULL, 0, IN(unknown(ER_F32, 1, D(3))), 1, y, 1), ER_NEEDS_DATA);
  CHECK_OK(ot_run("NonZero", 13, NULL, 0, IN(ot_tensor(ER_U64, 1, D(2), NULL)), 1, y, 1));
  CHECK(dims_eq(y[0], 2, D(1, 0)));

  er_tensor *cond = ot_tensor(ER_BOOL, 1, D(2), (const uint8_t[]){0, 1});
  er_attr a1 = ot_int("axis", -1);
  CHECK_OK(ot_run("Compress", 11, &a1, 1, IN(x, cond), 2, y, 1)); /* shorter condition: rest dropped */
  CHECK(dims_eq(y[0], 2, D(2, 1)) && er_load_f64(y[0]->data, ER_F32, 1) == 0.0);
  CHECK_OK(ot_run("Compress", 9, NULL, 0, IN(x, ot_tensor(ER_BOOL, 1, D(4), (const uint8_t[]){0, 0, 0, 1})), 2, y, 1));
  CHECK(dims_eq(y[0], 1, D(1)) && f32_eq(y[0], F(1), 1));
  CHECK_ERR(ot_run("Compress", 11, &a1, 1, IN(x, ot_tensor(ER_BOOL, 1, D(4), (const uint8_t[]){0, 0, 0, 1})), 2, y, 1),
            ER_OUT_OF_RANGE);
  CHECK_ERR(ot_run("Compress", 11, &a1, 1, IN(x, unknown(ER_BOOL, 1, D(2))), 2, y, 1), ER_NEEDS_DATA);
  ot_free_all();
}

TEST(shape_unique) {
  er_tensor *y[4];
  er_tensor *x = ot_tensor(ER_I8, 1, D(6), (const int8_t[]){2, 1, 1, 3, 4, 3});
  er_attr uns = ot_int("sorted", 0);
  CHECK_OK(ot_run("Unique", 11, &uns, 1, IN(x), 1, y, 4));
  CHECK(dims_eq(y[0], 1, D(4)) && !memcmp(y[0]->data, (const int8_t[]){2, 1, 3, 4}, 4));
  CHECK(i64_eq(y[1], L(0, 1, 3, 4), 4) && i64_eq(y[2], L(0, 1, 1, 2, 3, 2), 6) && i64_eq(y[3], L(1, 2, 2, 1), 4));
  CHECK_OK(ot_run("Unique", 11, NULL, 0, IN(x), 1, y, 4));
  CHECK(!memcmp(y[0]->data, (const int8_t[]){1, 2, 3, 4}, 4));
  CHECK(i64_eq(y[1], L(1, 0, 3, 4), 4) && i64_eq(y[2], L(1, 0, 0, 2, 3, 2), 6) && i64_eq(y[3], L(2, 1, 2, 1), 4));
  /* axis = 1, not sorted: columns [1,0] [0,1] [1,0] [0,0] */
  er_tensor *m = f32(2, D(2, 4), F(1, 0, 1, 0, 0, 1, 0, 0));
  er_attr ax[] = {ot_int("axis", -1), ot_int("sorted", 0)};
  CHECK_OK(ot_run("Unique", 11, ax, 2, IN(m), 1, y, 4));
  CHECK(dims_eq(y[0], 2, D(2, 3)) && f32_eq(y[0], F(1, 0, 0, 0, 1, 0), 6));
  CHECK(i64_eq(y[1], L(0, 1, 3), 3) && i64_eq(y[2], L(0, 1, 0, 2), 4) && i64_eq(y[3], L(2, 1, 1), 3));
  ax[1] = ot_int("sorted", 1);
  CHECK_OK(ot_run("Unique", 11, ax, 2, IN(m), 1, y, 4)); /* sorted: [0,0] [0,1] [1,0] */
  CHECK(f32_eq(y[0], F(0, 0, 1, 0, 1, 0), 6) && i64_eq(y[2], L(2, 1, 2, 0), 4));
  CHECK_ERR(ot_run("Unique", 11, NULL, 0, IN(unknown(ER_I8, 1, D(6))), 1, y, 1), ER_NEEDS_DATA);
  er_attr bad = ot_int("axis", 2);
  CHECK_ERR(ot_run("Unique", 11, &bad, 1, IN(m), 1, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

TEST(shape_generators) {
  er_tensor *y[1];
  er_attr v = {.name = "value", .type = ER_ATTR_TENSOR, .t = ot_tensor(ER_I32, 1, D(1), (const int32_t[]){7})};
  CHECK_OK(ot_run("ConstantOfShape", 9, &v, 1, IN(i64(1, D(2), L(1, 2))), 1, y, 1));
  CHECK(y[0]->dtype == ER_I32 && dims_eq(y[0], 2, D(1, 2)) && ((int32_t *)y[0]->data)[1] == 7);
  CHECK_OK(ot_run("ConstantOfShape", 9, NULL, 0, IN(i64(1, D(0), NULL)), 1, y, 1));
  CHECK(y[0]->dtype == ER_F32 && y[0]->rank == 0 && *(float *)y[0]->data == 0);
  CHECK_ERR(ot_run("ConstantOfShape", 9, NULL, 0, IN(unknown(ER_I64, 1, D(2))), 1, y, 1), ER_NEEDS_DATA);
  CHECK_ERR(ot_run("ConstantOfShape", 9, NULL, 0, IN(i64(1, D(1), L(-1))), 1, y, 1), ER_INVALID_ARGUMENT);

  CHECK_OK(ot_run("Range", 11, NULL, 0, IN(f32(0, NULL, F(1)), f32(0, NULL, F(2)), f32(0, NULL, F(0.25f))), 3, y, 1));
  CHECK(dims_eq(y[0], 1, D(4)) && f32_eq(y[0], F(1, 1.25f, 1.5f, 1.75f), 4));
  CHECK_OK(ot_run("Range", 11, NULL, 0, IN(i64(0, NULL, L(10)), i64(0, NULL, L(1)), i64(0, NULL, L(-4))), 3, y, 1));
  CHECK(i64_eq(y[0], L(10, 6, 2), 3));
  CHECK_OK(ot_run("Range", 11, NULL, 0, IN(i64(0, NULL, L(1)), i64(0, NULL, L(5)), i64(0, NULL, L(-1))), 3, y, 1));
  CHECK(dims_eq(y[0], 1, D(0)));
  CHECK_ERR(ot_run("Range", 11, NULL, 0, IN(i64(0, NULL, L(1)), i64(0, NULL, L(5)), i64(0, NULL, L(0))), 3, y, 1),
            ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("Range", 11, NULL, 0, IN(i64(0, NULL, L(1)), unknown(ER_I64, 0, NULL), i64(0, NULL, L(1))), 3, y, 1),
            ER_NEEDS_DATA);

  er_attr ey[] = {ot_int("k", 1), ot_int("dtype", ER_BOOL)};
  CHECK_OK(ot_run("EyeLike", 9, ey, 2, IN(f32(2, D(2, 3), NULL)), 1, y, 1));
  CHECK(y[0]->dtype == ER_BOOL && !memcmp(y[0]->data, (const uint8_t[]){0, 1, 0, 0, 0, 1}, 6));
  CHECK_ERR(ot_run("EyeLike", 9, NULL, 0, IN(f32(1, D(3), NULL)), 1, y, 1), ER_INVALID_ARGUMENT);

  er_tensor *t = iota(ER_F32, 2, D(3, 3));
  er_attr lower = ot_int("upper", 0);
  CHECK_OK(ot_run("Trilu", 14, &lower, 1, IN(t, i64(0, NULL, L(-1))), 2, y, 1));
  CHECK(f32_eq(y[0], F(0, 0, 0, 3, 0, 0, 6, 7, 0), 9));
  CHECK_OK(ot_run("Trilu", 14, NULL, 0, IN(t), 1, y, 1));
  CHECK(f32_eq(y[0], F(0, 1, 2, 0, 4, 5, 0, 0, 8), 9));
  CHECK_ERR(ot_run("Trilu", 14, NULL, 0, IN(f32(1, D(3), NULL)), 1, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

TEST(shape_reverse_sequence_center_crop_pad) {
  er_tensor *y[1], *x = iota(ER_F32, 2, D(3, 2)); /* [time, batch] */
  CHECK_OK(ot_run("ReverseSequence", 10, NULL, 0, IN(x, i64(1, D(2), L(3, 2))), 2, y, 1));
  CHECK(f32_eq(y[0], F(4, 3, 2, 1, 0, 5), 6));
  CHECK_ERR(ot_run("ReverseSequence", 10, NULL, 0, IN(x, i64(1, D(2), L(4, 1))), 2, y, 1), ER_OUT_OF_RANGE);
  CHECK_ERR(ot_run("ReverseSequence", 10, NULL, 0, IN(x, i64(1, D(3), L(1, 1, 1))), 2, y, 1), ER_INVALID_ARGUMENT);

  er_tensor *img = iota(ER_F32, 2, D(3, 4));
  CHECK_OK(ot_run("CenterCropPad", 18, NULL, 0, IN(img, i64(1, D(2), L(1, 6))), 2, y, 1));
  /* rows: crop 3 -> 1 keeps row 1; cols: pad 4 -> 6 puts one zero each side */
  CHECK(dims_eq(y[0], 2, D(1, 6)) && f32_eq(y[0], F(0, 4, 5, 6, 7, 0), 6));
  er_attr ax = ot_ints("axes", 1, L(-1));
  CHECK_OK(ot_run("CenterCropPad", 18, &ax, 1, IN(img, i64(1, D(1), L(1))), 2, y, 1));
  CHECK(dims_eq(y[0], 2, D(3, 1)) && f32_eq(y[0], F(1, 5, 9), 3));
  CHECK_ERR(ot_run("CenterCropPad", 18, &ax, 1, IN(img, i64(1, D(2), L(1, 1))), 2, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}
