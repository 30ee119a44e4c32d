/* base/: status, dtype conversions, shapes, broadcasting, pool. */
#include <math.h>
#include <string.h>

#include "base/dtype.h"
#include "base/pool.h"
#include "base/status.h"
#include "base/tensor.h"
#include "test.h"

TEST(status_messages_and_prefix) {
  er_status s = er_status_new(ER_INVALID_MODEL, "bad %s %d", "thing", 7);
  CHECK(er_status_code(s) == ER_INVALID_MODEL);
  CHECK(strcmp(er_status_message(s), "bad thing 7") == 0);
  s = er_status_prefix(s, "node '%s'", "n1");
  CHECK(strcmp(er_status_message(s), "node 'n1': bad thing 7") == 0);
  er_status_free(s);
  CHECK(er_status_code(NULL) == ER_OK);
  CHECK(strcmp(er_status_message(NULL), "") == 0);
}

TEST(f16_round_trip_and_rounding) {
  /* every finite half converts to float and back exactly */
  int bad = 0;
  for (uint32_t h = 0; h < 0x10000; h++) {
    if ((h & 0x7c00) == 0x7c00) continue;
    if (er_f32_to_f16(er_f16_to_f32((uint16_t)h)) != h) bad++;
  }
  CHECK(bad == 0);
  CHECK(er_f32_to_f16(1.0f) == 0x3c00);
  CHECK(er_f32_to_f16(65504.0f) == 0x7bff);
  CHECK(er_f32_to_f16(65520.0f) == 0x7c00);         /* rounds to inf */
  CHECK(er_f32_to_f16(1.0f + 1.0f / 2048) == 0x3c00); /* tie -> even */
  CHECK(er_f32_to_f16(1.0f + 3.0f / 2048) == 0x3c02); /* tie -> even (up) */
  CHECK(er_f32_to_f16(5.9604645e-08f) == 0x0001);   /* smallest subnormal */
  CHECK(isnan(er_f16_to_f32(er_f32_to_f16(NAN))));
  CHECK(er_f16_to_f32(0xc000) == -2.0f);
}

TEST(bf16_rounding) {
  CHECK(er_f32_to_bf16(1.0f) == 0x3f80);
  CHECK(er_bf16_to_f32(0x3f80) == 1.0f);
  /* 1 + 2^-8 is exactly halfway between bf16 1.0 and 1.0078125: ties to even -> 1.0 */
  CHECK(er_f32_to_bf16(1.0f + 1.0f / 256) == 0x3f80);
  CHECK(er_f32_to_bf16(1.0f + 3.0f / 256) == 0x3f82);
  CHECK(isnan(er_bf16_to_f32(er_f32_to_bf16(NAN))));
}

TEST(float8_known_values) {
  CHECK(er_f8_to_f32(0x7e, ER_F8E4M3FN) == 448.0f);    /* max */
  CHECK(isnan(er_f8_to_f32(0x7f, ER_F8E4M3FN)));
  CHECK(er_f32_to_f8(1000.0f, ER_F8E4M3FN, 1) == 0x7e); /* saturate */
  CHECK(er_f32_to_f8(1000.0f, ER_F8E4M3FN, 0) == 0x7f); /* NaN without saturation */
  CHECK(er_f32_to_f8(464.0f, ER_F8E4M3FN, 0) == 0x7e);  /* tie between 448 and 480: even */
  CHECK(er_f32_to_f8(465.0f, ER_F8E4M3FN, 0) == 0x7f);
  CHECK(er_f8_to_f32(0x38, ER_F8E4M3FN) == 1.0f);
  CHECK(er_f32_to_f8(1.0f, ER_F8E4M3FN, 1) == 0x38);
  CHECK(er_f8_to_f32(0x7b, ER_F8E5M2) == 57344.0f);
  CHECK(isinf(er_f8_to_f32(0x7c, ER_F8E5M2)));
  CHECK(er_f32_to_f8(1e6f, ER_F8E5M2, 0) == 0x7c);
  CHECK(isnan(er_f8_to_f32(0x80, ER_F8E4M3FNUZ)));
  CHECK(er_f8_to_f32(0x7f, ER_F8E4M3FNUZ) == 240.0f);
  CHECK(er_f32_to_f8(-0.0f, ER_F8E4M3FNUZ, 1) == 0x00); /* no negative zero in fnuz */
  /* every e4m3fn code round-trips */
  int bad = 0;
  for (int v = 0; v < 256; v++) {
    float f = er_f8_to_f32((uint8_t)v, ER_F8E4M3FN);
    if (isnan(f)) continue;
    if (er_f32_to_f8(f, ER_F8E4M3FN, 1) != v) bad++;
  }
  CHECK(bad == 0);
}

TEST(load_store_generic) {
  int8_t i8[2] = {0};
  er_store_f64(i8, ER_I8, 1, -5.7);
  CHECK(i8[1] == -5);
  uint8_t b[1];
  er_store_f64(b, ER_BOOL, 0, 0.25);
  CHECK(b[0] == 1);
  int64_t big[1];
  er_store_i64(big, ER_I64, 0, INT64_MIN);
  CHECK(er_load_i64(big, ER_I64, 0) == INT64_MIN);
  uint16_t h[1] = {0x3c00};
  CHECK(er_load_f64(h, ER_F16, 0) == 1.0);
  CHECK(er_dtype_size(ER_STRING) == 0);
  CHECK(strcmp(er_dtype_name(ER_BF16), "bfloat16") == 0);
}

TEST(shape_check_limits) {
  int64_t ok[2] = {3, 4}, neg[2] = {3, -1}, huge[3] = {1 << 30, 1 << 30, 1 << 30}, zero[3] = {0, 1 << 30, 1 << 30};
  CHECK_OK(er_shape_check(ok, 2, ER_F32, 1 << 20));
  CHECK_ERR(er_shape_check(neg, 2, ER_F32, 1 << 20), ER_INVALID_ARGUMENT);
  CHECK_ERR(er_shape_check(huge, 3, ER_F32, (uint64_t)1 << 40), ER_OUT_OF_RANGE);
  CHECK_ERR(er_shape_check(zero, 3, ER_F32, 16), ER_OUT_OF_RANGE); /* empty, but huge other dims */
  int64_t zero_ok[3] = {0, 2, 3};
  CHECK_OK(er_shape_check(zero_ok, 3, ER_F32, 64)); /* empty tensor is fine */
  CHECK_ERR(er_shape_check(ok, 9, ER_F32, 1 << 20), ER_UNSUPPORTED);
  CHECK_ERR(er_shape_check(ok, 2, ER_STRING, 1 << 20), ER_UNSUPPORTED);
}

TEST(broadcast_shapes_and_iter) {
  er_tensor a = {.dtype = ER_F32, .rank = 2, .dims = {3, 1}};
  er_tensor b = {.dtype = ER_F32, .rank = 1, .dims = {4}};
  const er_tensor *ts[2] = {&a, &b};
  int r;
  int64_t d[ER_MAX_RANK];
  CHECK_OK(er_broadcast_shape(ts, 2, &r, d));
  CHECK(r == 2 && d[0] == 3 && d[1] == 4);
  er_bcast_iter it;
  er_bcast_iter_init(&it, 2, ts, r, d);
  int ok = 1;
  for (int64_t k = 0; k < 12; k++, er_bcast_iter_next(&it)) {
    ok &= it.off[0] == k / 4;
    ok &= it.off[1] == k % 4;
  }
  CHECK(ok);
  er_tensor c = {.dtype = ER_F32, .rank = 1, .dims = {5}};
  const er_tensor *bad[2] = {&b, &c};
  CHECK_ERR(er_broadcast_shape(bad, 2, &r, d), ER_INVALID_ARGUMENT);
  int ax;
  CHECK_OK(er_normalize_axis(-1, 3, &ax));
  CHECK(ax == 2);
  CHECK_ERR(er_normalize_axis(3, 3, &ax), ER_INVALID_ARGUMENT);
}

TEST(pool_alignment_and_big_blocks) {
  er_pool p;
  er_pool_init(&p);
  int ok = 1;
  for (int i = 1; i < 200; i++) {
    unsigned char *q = (unsigned char *)er_pool_alloc(&p, (size_t)i * 7);
    ok &= q && ((uintptr_t)q % 16) == 0 && q[0] == 0;
  }
  char *big = (char *)er_pool_alloc(&p, 1 << 20);
  ok &= big != NULL;
  char *after = (char *)er_pool_alloc(&p, 10); /* must come from a small block, not overlap */
  ok &= after && (after < big || after >= big + (1 << 20));
  CHECK(ok);
  CHECK(strcmp(er_pool_strndup(&p, "hello world", 5), "hello") == 0);
  CHECK(er_pool_alloc(&p, (size_t)-8) == NULL); /* no wrap-around to a tiny block */
  er_pool_free(&p);
}
