/* Resize nearest fast path (resize_ops.c: blocks of identity trailing axes, runs along the
 * last resized axis, repeated runs copied) against the generic per-element path, bit for
 * bit, on random shapes, scales (up, down, 1), coordinate modes, nearest modes and element
 * sizes, with 1 and 2 threads. */
#include <string.h>

#include "optest.h"
#include "test.h"

extern int er_resize_fast_disabled;

static uint32_t rs = 777;
static int rnd(int n) {
  rs = rs * 1664525u + 1013904223u;
  return (int)((rs >> 8) % (uint32_t)n);
}

TEST(resize_nearest_fast_matches_generic) {
  static const char *const ctms[] = {"half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel",
                                     "tf_half_pixel_for_nn"};
  static const char *const nms[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
  static const float scs[] = {1.0f, 2.0f, 3.0f, 0.5f, 1.5f, 0.7f, 4.0f};
  static const int dts[] = {ER_F32, ER_U8, ER_I16, ER_F64};
  int bad = 0;
  for (int it = 0; it < 300; it++) {
    const int rank = 1 + rnd(5), dt = dts[rnd(4)];
    int64_t xd[5];
    float sc[5];
    for (int d = 0; d < rank; d++) {
      xd[d] = 1 + rnd(7);
      sc[d] = rnd(2) ? 1.0f : scs[rnd(7)]; /* often identity axes, also trailing ones */
    }
    er_tensor *x = ot_tensor(dt, rank, xd, NULL);
    for (size_t i = 0; i < er_tensor_nbytes(x); i++) ((unsigned char *)x->data)[i] = (unsigned char)rnd(256);
    const int64_t sd[1] = {rank};
    er_tensor *scales = ot_tensor(ER_F32, 1, sd, sc);
    er_attr at[3] = {ot_str("mode", "nearest"), ot_str("coordinate_transformation_mode", ctms[rnd(5)]),
                     ot_str("nearest_mode", nms[rnd(4)])};
    er_tensor *y[3][1];
    for (int v = 0; v < 3; v++) { /* generic, fast 1 thread, fast 2 threads */
      er_resize_fast_disabled = v == 0;
      ot_set_threads(v == 2 ? 2 : 1);
      CHECK_OK(ot_run("Resize", 13, at, 3, (er_tensor *[]){x, NULL, scales}, 3, y[v], 1));
    }
    er_resize_fast_disabled = 0;
    ot_set_threads(1);
    for (int v = 1; v < 3; v++)
      if (er_tensor_nbytes(y[v][0]) != er_tensor_nbytes(y[0][0]) ||
          memcmp(y[v][0]->data, y[0][0]->data, er_tensor_nbytes(y[0][0])))
        {
          bad++;
          fprintf(stderr, "it %d rank %d dt %d v %d:", it, rank, dt, v);
          for (int d = 0; d < rank; d++) fprintf(stderr, " %lld*%g", (long long)xd[d], sc[d]);
          fprintf(stderr, " %s %s\n", at[1].s, at[2].s);
        }
    ot_free_all();
  }
  CHECK(bad == 0);
}

/* a large channels-last upsample (rows split over threads, repeated rows copied) */
TEST(resize_nearest_fast_nhwc_upsample) {
  const int64_t xd[4] = {1, 30, 40, 24};
  er_tensor *x = ot_tensor(ER_F32, 4, xd, NULL);
  for (int64_t i = 0; i < er_tensor_numel(x); i++) ((float *)x->data)[i] = (float)i;
  er_tensor *scales = ot_tensor(ER_F32, 1, (const int64_t[]){4}, (const float[]){1, 4, 4, 1});
  er_attr at[3] = {ot_str("mode", "nearest"), ot_str("coordinate_transformation_mode", "asymmetric"),
                   ot_str("nearest_mode", "floor")};
  er_tensor *y[1];
  ot_set_threads(2);
  CHECK_OK(ot_run("Resize", 13, at, 3, (er_tensor *[]){x, NULL, scales}, 3, y, 1));
  ot_set_threads(1);
  int bad = 0;
  const float *o = (const float *)y[0]->data;
  for (int64_t h = 0; h < 120; h++)
    for (int64_t w = 0; w < 160; w++)
      for (int64_t c = 0; c < 24; c++)
        bad += o[(h * 160 + w) * 24 + c] != (float)(((h / 4) * 40 + w / 4) * 24 + c);
  CHECK(bad == 0);
  ot_free_all();
}
