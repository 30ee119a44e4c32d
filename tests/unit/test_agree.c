/* compress/agree.c: output agreement statistics. */
#include <math.h>
#include <string.h>

#include "compress/agree.h"
#include "test.h"

static er_tensor f32(float *data, int rank, int64_t d0, int64_t d1) {
  er_tensor t = {0};
  int64_t dims[2] = {d0, d1};
  er_tensor_set_shape(&t, ER_F32, rank, dims);
  t.data = data;
  return t;
}

TEST(agree_known_values) {
  float a[6] = {1, 2, 3, 0, 5, 1}, b[6] = {1, 2, 4, 6, 5, 0};
  er_tensor x = f32(a, 2, 2, 3), y = f32(b, 2, 2, 3);
  er_agree g;
  memset(&g, 0, sizeof g);
  er_agree_add(&g, &x, &y);
  CHECK(g.n == 6);
  CHECK_NEAR(g.max_abs, 6, 0);
  CHECK_NEAR(er_agree_mean_abs(&g), (0 + 0 + 1 + 6 + 0 + 1) / 6.0, 1e-12);
  double dot = 1 + 4 + 12 + 0 + 25 + 0, na = 1 + 4 + 9 + 0 + 25 + 1, nb = 1 + 4 + 16 + 36 + 25 + 0;
  CHECK_NEAR(er_agree_cosine(&g), dot / sqrt(na * nb), 1e-12);
  /* rows: [1,2,3] vs [1,2,4] agree (argmax 2); [0,5,1] vs [6,5,0] differ */
  CHECK(g.rows == 2 && g.top1_same == 1);
  /* a second sample accumulates */
  er_agree_add(&g, &x, &x);
  CHECK(g.n == 12 && g.rows == 4 && g.top1_same == 3);
  CHECK_NEAR(g.max_abs, 6, 0);
}

TEST(agree_class_shapes_and_edge_cases) {
  float d[8] = {0};
  er_tensor t = f32(d, 2, 1, 8);
  CHECK(er_agree_classes(&t) == 8);
  t = f32(d, 2, 8, 1); /* one score per row: not classes */
  CHECK(er_agree_classes(&t) == 0);
  t = f32(d, 2, 4, 2); /* the class dim must be the largest */
  CHECK(er_agree_classes(&t) == 0);
  t = f32(d, 1, 8, 0);
  CHECK(er_agree_classes(&t) == 8);
  t.dtype = ER_I64;
  CHECK(er_agree_classes(&t) == 0);
  int64_t dims4[4] = {1, 2, 2, 2};
  er_tensor_set_shape(&t, ER_F32, 4, dims4); /* NCHW maps are not class scores */
  CHECK(er_agree_classes(&t) == 0);
  int64_t dims3[3] = {1, 16, 312}; /* [N,T,C]: hidden states look the same */
  er_tensor_set_shape(&t, ER_F32, 3, dims3);
  CHECK(er_agree_classes(&t) == 0);
  int64_t dims_sq[4] = {2, 1, 1, 10}; /* [N,1,1,C] */
  er_tensor_set_shape(&t, ER_F32, 4, dims_sq);
  CHECK(er_agree_classes(&t) == 10);
  /* all zero: cosine 1; one side zero: 0; NaN mismatches counted apart */
  float z[3] = {0, 0, 0}, o[3] = {1, NAN, NAN}, q[3] = {0, NAN, 2};
  er_tensor x = f32(z, 1, 3, 0), y = f32(z, 1, 3, 0);
  er_agree g;
  memset(&g, 0, sizeof g);
  er_agree_add(&g, &x, &y);
  CHECK_NEAR(er_agree_cosine(&g), 1, 0);
  memset(&g, 0, sizeof g);
  x = f32(o, 1, 3, 0);
  y = f32(q, 1, 3, 0);
  er_agree_add(&g, &x, &y);
  CHECK(g.n == 1 && g.nonfinite == 1);
  CHECK_NEAR(g.max_abs, 1, 0);
  CHECK_NEAR(er_agree_cosine(&g), 0, 0);
}
