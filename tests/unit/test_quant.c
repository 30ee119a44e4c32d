/* Quantization kernels. Expected values are hand-computed or from the ONNX backend test
 * data (test_quantizelinear_blocked_asymmetric, test_dequantizelinear_blocked,
 * test_convinteger_with_padding, test_dynamicquantizelinear_min_adjusted, test_matmulinteger). */
#include <string.h>

#include "optest.h"
#include "test.h"

static int eq_bytes(const er_tensor *t, const void *expect, size_t n) {
  return er_tensor_nbytes(t) == n && memcmp(t->data, expect, n) == 0;
}

TEST(quantize_per_tensor_round_half_even_saturate) {
  int64_t d[] = {10};
  float x[] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 300, -300, NAN, 7.49f};
  er_tensor *in[] = {ot_tensor(ER_F32, 1, d, x), ot_tensor(ER_F32, 0, NULL, (float[]){1}),
                     ot_tensor(ER_U8, 0, NULL, (uint8_t[]){128})};
  er_tensor *out[1];
  CHECK_OK(ot_run("QuantizeLinear", 10, NULL, 0, in, 3, out, 1));
  CHECK(out[0]->dtype == ER_U8);
  CHECK(eq_bytes(out[0], (uint8_t[]){128, 130, 130, 128, 126, 126, 255, 0, 0, 135}, 10));
  /* no zero point: uint8 with zp 0 */
  CHECK_OK(ot_run("QuantizeLinear", 13, NULL, 0, in, 2, out, 1));
  CHECK(eq_bytes(out[0], (uint8_t[]){0, 2, 2, 0, 0, 0, 255, 0, 0, 7}, 10));
  ot_free_all();
}

TEST(quantize_per_axis_negative_axis_int8) {
  int64_t d[] = {2, 3}, ds[] = {3};
  er_tensor *in[] = {ot_tensor(ER_F32, 2, d, (float[]){1, 2, 3, -4, 50, -600}),
                     ot_tensor(ER_F32, 1, ds, (float[]){0.5f, 2, 4}),
                     ot_tensor(ER_I8, 1, ds, (int8_t[]){1, -1, 0})};
  er_attr at[] = {ot_int("axis", -1)};
  er_tensor *out[1];
  CHECK_OK(ot_run("QuantizeLinear", 13, at, 1, in, 3, out, 1));
  CHECK(eq_bytes(out[0], (int8_t[]){3, 0, 1, -7, 24, -128}, 6));
  /* opset 10 has no per-axis quantization */
  CHECK_ERR(ot_run("QuantizeLinear", 10, at, 1, in, 3, out, 1), ER_INVALID_ARGUMENT);
  er_attr bad[] = {ot_int("axis", 0)}; /* axis 0 has 2 entries, scale has 3 */
  CHECK_ERR(ot_run("QuantizeLinear", 13, bad, 1, in, 3, out, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

TEST(quantize_blocked_onnx_data) {
  int64_t d[] = {3, 4}, ds[] = {3, 2};
  er_tensor *in[] = {ot_tensor(ER_F32, 2, d, (float[]){6, 12, 50, 5, 1, 8, 4, 5, 0, 20, 10, 4}),
                     ot_tensor(ER_F32, 2, ds, (float[]){1.5f, 2.5f, 3, 4.9f, 5.1f, 6.9f}),
                     ot_tensor(ER_U8, 2, ds, (uint8_t[]){0, 1, 1, 0, 2, 3})};
  er_attr at[] = {ot_int("axis", 1), ot_int("block_size", 2)};
  er_tensor *out[1];
  CHECK_OK(ot_run("QuantizeLinear", 21, at, 2, in, 3, out, 1));
  CHECK(eq_bytes(out[0], (uint8_t[]){4, 8, 21, 3, 1, 4, 1, 1, 2, 6, 4, 4}, 12));
  er_attr bad[] = {ot_int("axis", 1), ot_int("block_size", 3)}; /* ceil(4/3) = 2 blocks: ok */
  CHECK_OK(ot_run("QuantizeLinear", 21, bad, 2, in, 3, out, 1));
  er_attr bad2[] = {ot_int("axis", 1), ot_int("block_size", 1)}; /* would need 4 blocks */
  CHECK_ERR(ot_run("QuantizeLinear", 21, bad2, 2, in, 3, out, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

TEST(quantize_output_dtypes) {
  int64_t d[] = {4};
  er_tensor *x = ot_tensor(ER_F32, 1, d, (float[]){-100, -3.4f, 2.5f, 100});
  er_tensor *s = ot_tensor(ER_F32, 0, NULL, (float[]){1});
  er_tensor *out[1];
  er_attr i4[] = {ot_int("output_dtype", ER_I4)};
  CHECK_OK(ot_run("QuantizeLinear", 21, i4, 1, (er_tensor *[]){x, s}, 2, out, 1));
  CHECK(out[0]->dtype == ER_I4 && eq_bytes(out[0], (int8_t[]){-8, -3, 2, 7}, 4));
  er_attr u4[] = {ot_int("output_dtype", ER_U4)};
  CHECK_OK(ot_run("QuantizeLinear", 21, u4, 1, (er_tensor *[]){x, s}, 2, out, 1));
  CHECK(eq_bytes(out[0], (uint8_t[]){0, 0, 2, 15}, 4));
  er_tensor *z16 = ot_tensor(ER_I16, 0, NULL, (int16_t[]){1000});
  CHECK_OK(ot_run("QuantizeLinear", 21, NULL, 0, (er_tensor *[]){x, s, z16}, 3, out, 1));
  CHECK(eq_bytes(out[0], (int16_t[]){900, 997, 1002, 1100}, 8));
  /* output_dtype disagreeing with the zero point type */
  CHECK_ERR(ot_run("QuantizeLinear", 21, i4, 1, (er_tensor *[]){x, s, z16}, 3, out, 1), ER_INVALID_ARGUMENT);
  er_attr f32[] = {ot_int("output_dtype", ER_F32)};
  CHECK_ERR(ot_run("QuantizeLinear", 21, f32, 1, (er_tensor *[]){x, s}, 2, out, 1), ER_UNSUPPORTED);
  ot_free_all();
}

TEST(quantize_float8_saturate) {
  int64_t d[] = {4};
  er_tensor *x = ot_tensor(ER_F32, 1, d, (float[]){1, 448, 1000, -1000});
  er_tensor *s = ot_tensor(ER_F32, 0, NULL, (float[]){1});
  er_tensor *z = ot_tensor(ER_F8E4M3FN, 0, NULL, (uint8_t[]){0});
  er_tensor *out[1];
  CHECK_OK(ot_run("QuantizeLinear", 19, NULL, 0, (er_tensor *[]){x, s, z}, 3, out, 1));
  CHECK(out[0]->dtype == ER_F8E4M3FN && eq_bytes(out[0], (uint8_t[]){0x38, 0x7e, 0x7e, 0xfe}, 4));
  er_attr nosat[] = {ot_int("saturate", 0)};
  CHECK_OK(ot_run("QuantizeLinear", 19, nosat, 1, (er_tensor *[]){x, s, z}, 3, out, 1));
  CHECK(eq_bytes(out[0], (uint8_t[]){0x38, 0x7e, 0x7f, 0xff}, 4)); /* NaN codes */
  er_tensor *z5 = ot_tensor(ER_F8E5M2, 0, NULL, (uint8_t[]){0});
  CHECK_OK(ot_run("QuantizeLinear", 19, nosat, 1, (er_tensor *[]){x, s, z5}, 3, out, 1));
  CHECK(eq_bytes(out[0], (uint8_t[]){0x3c, 0x5f, 0x64, 0xe4}, 4));
  ot_free_all();
}

TEST(dequantize_types_and_granularity) {
  int64_t d[] = {2, 2}, ds[] = {2};
  er_tensor *out[1];
  /* per-axis (axis 0) int8 */
  er_tensor *x = ot_tensor(ER_I8, 2, d, (int8_t[]){-128, 127, 10, -10});
  er_tensor *s = ot_tensor(ER_F32, 1, ds, (float[]){0.5f, 2});
  er_tensor *z = ot_tensor(ER_I8, 1, ds, (int8_t[]){0, -10});
  er_attr ax0[] = {ot_int("axis", 0)};
  CHECK_OK(ot_run("DequantizeLinear", 13, ax0, 1, (er_tensor *[]){x, s, z}, 3, out, 1));
  CHECK(ot_max_abs_diff_f32(out[0], (float[]){-64, 63.5f, 40, 0}, 4) == 0);
  /* int32 without zero point */
  er_tensor *xi = ot_tensor(ER_I32, 1, ds, (int32_t[]){-1000000, 7});
  er_tensor *s1 = ot_tensor(ER_F32, 0, NULL, (float[]){0.25f});
  CHECK_OK(ot_run("DequantizeLinear", 10, NULL, 0, (er_tensor *[]){xi, s1}, 2, out, 1));
  CHECK(ot_max_abs_diff_f32(out[0], (float[]){-250000, 1.75f}, 2) == 0);
  /* float16 scale -> float16 output (opset 19+) */
  er_tensor *sh = ot_tensor(ER_F16, 0, NULL, (uint16_t[]){er_f32_to_f16(0.5f)});
  er_tensor *xu = ot_tensor(ER_U8, 1, ds, (uint8_t[]){3, 200});
  er_tensor *zu = ot_tensor(ER_U8, 0, NULL, (uint8_t[]){100});
  CHECK_OK(ot_run("DequantizeLinear", 19, NULL, 0, (er_tensor *[]){xu, sh, zu}, 3, out, 1));
  CHECK(out[0]->dtype == ER_F16);
  CHECK(er_f16_to_f32(((uint16_t *)out[0]->data)[0]) == -48.5f);
  CHECK(er_f16_to_f32(((uint16_t *)out[0]->data)[1]) == 50.0f);
  CHECK_ERR(ot_run("DequantizeLinear", 13, NULL, 0, (er_tensor *[]){xu, sh, zu}, 3, out, 1), ER_INVALID_ARGUMENT);
  /* zero point type must match x */
  CHECK_ERR(ot_run("DequantizeLinear", 13, NULL, 0, (er_tensor *[]){xu, s1, z}, 3, out, 1), ER_INVALID_ARGUMENT);
  /* int4 and float8 */
  er_tensor *x4 = ot_tensor(ER_I4, 1, ds, (int8_t[]){-8, 7});
  er_tensor *z4 = ot_tensor(ER_I4, 0, NULL, (int8_t[]){-1});
  CHECK_OK(ot_run("DequantizeLinear", 21, NULL, 0, (er_tensor *[]){x4, s1, z4}, 3, out, 1));
  CHECK(ot_max_abs_diff_f32(out[0], (float[]){-1.75f, 2}, 2) == 0);
  er_tensor *x8 = ot_tensor(ER_F8E4M3FN, 1, ds, (uint8_t[]){0x38, 0xfe});
  CHECK_OK(ot_run("DequantizeLinear", 19, NULL, 0, (er_tensor *[]){x8, s1}, 2, out, 1));
  CHECK(ot_max_abs_diff_f32(out[0], (float[]){0.25f, -112}, 2) == 0);
  ot_free_all();
}

TEST(dequantize_blocked_onnx_data) {
  int64_t d[] = {1, 4, 3, 2}, ds[] = {1, 2, 3, 2};
  er_tensor *in[] = {
      ot_tensor(ER_U8, 4, d, (uint8_t[]){3, 89, 34, 200, 74, 59, 5, 24, 24, 87, 32, 13, 5, 12, 12, 33, 65, 42,
                                         245, 99, 4, 142, 121, 102}),
      ot_tensor(ER_F32, 4, ds, (float[]){3, 2, 4, 1, 2, 2, 5, 2, 4, 3, 5, 2}),
      ot_tensor(ER_U8, 4, ds, (uint8_t[]){1, 0, 0, 1, 2, 20, 3, 2, 4, 3, 15, 2})};
  er_attr at[] = {ot_int("axis", 1), ot_int("block_size", 2)};
  er_tensor *out[1];
  CHECK_OK(ot_run("DequantizeLinear", 21, at, 2, in, 3, out, 1));
  static const float y[] = {6, 178, 136, 199, 144, 78, 12, 48, 96, 86, 60, -14,
                            10, 20, 32, 90, 250, 80, 1210, 194, 0, 417, 530, 200};
  CHECK(ot_max_abs_diff_f32(out[0], y, 24) == 0);
  ot_free_all();
}

TEST(dynamic_quantize_linear) {
  int64_t d[] = {3, 4};
  er_tensor *x = ot_tensor(ER_F32, 2, d, (float[]){1, 2.1f, 1.3f, 2.5f, 3.34f, 4, 1.5f, 2.6f, 3.9f, 4, 3, 2.345f});
  er_tensor *out[3];
  CHECK_OK(ot_run("DynamicQuantizeLinear", 11, NULL, 0, (er_tensor *[]){x}, 1, out, 3));
  CHECK(eq_bytes(out[0], (uint8_t[]){64, 134, 83, 159, 213, 255, 96, 166, 249, 255, 191, 149}, 12));
  CHECK_NEAR(*(float *)out[1]->data, 0.01568627543747425, 1e-9);
  CHECK(*(uint8_t *)out[2]->data == 0);
  /* negative range: zero point moves up */
  int64_t d3[] = {3};
  er_tensor *xn = ot_tensor(ER_F32, 1, d3, (float[]){-2.55f, 0, 2.55f / 2});
  CHECK_OK(ot_run("DynamicQuantizeLinear", 11, NULL, 0, (er_tensor *[]){xn}, 1, out, 3));
  CHECK_NEAR(*(float *)out[1]->data, 3.825 / 255, 1e-7);
  CHECK(*(uint8_t *)out[2]->data == 170);
  CHECK(eq_bytes(out[0], (uint8_t[]){0, 170, 255}, 3));
  er_tensor *xd = ot_tensor(ER_F64, 1, d3, NULL);
  CHECK_ERR(ot_run("DynamicQuantizeLinear", 11, NULL, 0, (er_tensor *[]){xd}, 1, out, 3), ER_INVALID_ARGUMENT);
  ot_free_all();
}

TEST(matmul_integer) {
  int64_t da[] = {4, 3}, db[] = {3, 2}, d1[] = {1};
  er_tensor *a = ot_tensor(ER_U8, 2, da, (uint8_t[]){11, 7, 3, 10, 6, 2, 9, 5, 1, 8, 4, 0});
  er_tensor *b = ot_tensor(ER_U8, 2, db, (uint8_t[]){1, 4, 2, 5, 3, 6});
  er_tensor *out[1];
  CHECK_OK(ot_run("MatMulInteger", 10, NULL, 0,
                  (er_tensor *[]){a, b, ot_tensor(ER_U8, 1, d1, (uint8_t[]){12}), ot_tensor(ER_U8, 1, d1, NULL)},
                  4, out, 1));
  CHECK(out[0]->dtype == ER_I32 && out[0]->dims[0] == 4 && out[0]->dims[1] == 2);
  CHECK(eq_bytes(out[0], (int32_t[]){-38, -83, -44, -98, -50, -113, -56, -128}, 32));
  /* per-row a zero point [M], per-column b zero point [N], int8 B */
  int64_t dm[] = {4}, dn[] = {2};
  er_tensor *bi = ot_tensor(ER_I8, 2, db, (int8_t[]){1, -4, 2, 5, -3, 6});
  CHECK_OK(ot_run("MatMulInteger", 10, NULL, 0,
                  (er_tensor *[]){a, bi, ot_tensor(ER_U8, 1, dm, (uint8_t[]){1, 2, 3, 4}),
                                  ot_tensor(ER_I8, 1, dn, (int8_t[]){1, -1})},
                  4, out, 1));
  /* row 0: a-1 = {10,6,2}; col 0: b-1 = {0,1,-4} -> 6-8 = -2; col 1: b+1 = {-3,6,7} -> -30+36+14 = 20 */
  CHECK(((int32_t *)out[0]->data)[0] == -2 && ((int32_t *)out[0]->data)[1] == 20);
  /* row 3: a-4 = {4,0,-4}: col 0 -> 0+0+16 = 16, col 1 -> -12+0-28 = -40 */
  CHECK(((int32_t *)out[0]->data)[6] == 16 && ((int32_t *)out[0]->data)[7] == -40);
  /* batched broadcast: A [2,1,2,3] x B [3,3,2] -> [2,3,2,2] */
  int64_t dA[] = {2, 1, 2, 3}, dB[] = {3, 3, 2};
  uint8_t av[12], bv[18];
  for (int i = 0; i < 12; i++) av[i] = (uint8_t)(i * 7 % 11);
  for (int i = 0; i < 18; i++) bv[i] = (uint8_t)(i * 5 % 13);
  CHECK_OK(ot_run("MatMulInteger", 10, NULL, 0, (er_tensor *[]){ot_tensor(ER_U8, 4, dA, av), ot_tensor(ER_U8, 3, dB, bv)},
                  2, out, 1));
  CHECK(out[0]->rank == 4 && out[0]->dims[0] == 2 && out[0]->dims[1] == 3 && out[0]->dims[2] == 2 &&
        out[0]->dims[3] == 2);
  int ok = 1;
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 3; j++)
      for (int m = 0; m < 2; m++)
        for (int n = 0; n < 2; n++) {
          int32_t s = 0;
          for (int k = 0; k < 3; k++) s += av[i * 6 + m * 3 + k] * bv[j * 6 + k * 2 + n];
          ok &= ((int32_t *)out[0]->data)[((i * 3 + j) * 2 + m) * 2 + n] == s;
        }
  CHECK(ok);
  CHECK_ERR(ot_run("MatMulInteger", 10, NULL, 0, (er_tensor *[]){a, a}, 2, out, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

TEST(qlinear_matmul_saturates) {
  /* one row: acc = sum (a-za)(b-zb); y = sat(rint(acc * sa*sb/sy) + zy) */
  int64_t da[] = {1, 2}, db[] = {2, 3}, d1[] = {1};
  er_tensor *in[] = {ot_tensor(ER_I8, 2, da, (int8_t[]){100, -100}), ot_tensor(ER_F32, 1, d1, (float[]){1}),
                     ot_tensor(ER_I8, 1, d1, (int8_t[]){0}),
                     ot_tensor(ER_I8, 2, db, (int8_t[]){1, 2, -1, 0, 3, 1}), ot_tensor(ER_F32, 1, d1, (float[]){0.25f}),
                     ot_tensor(ER_I8, 1, d1, (int8_t[]){0}), ot_tensor(ER_F32, 1, d1, (float[]){1}),
                     ot_tensor(ER_I8, 1, d1, (int8_t[]){-3})};
  er_tensor *out[1];
  CHECK_OK(ot_run("QLinearMatMul", 10, NULL, 0, in, 8, out, 1));
  /* acc = {100, -100, -200} * 0.25 = {25, -25, -50} - 3 */
  CHECK(eq_bytes(out[0], (int8_t[]){22, -28, -53}, 3));
  ((float *)in[6]->data)[0] = 0.125f; /* {200, -200, -400} - 3 -> saturate */
  CHECK_OK(ot_run("QLinearMatMul", 10, NULL, 0, in, 8, out, 1));
  CHECK(eq_bytes(out[0], (int8_t[]){127, -128, -128}, 3));
  ((float *)in[6]->data)[0] = 1.0f / 3; /* 25*3 = 75 -> half-even rounding of 74.99..., exact values */
  CHECK_OK(ot_run("QLinearMatMul", 10, NULL, 0, in, 8, out, 1));
  CHECK(eq_bytes(out[0], (int8_t[]){72, -78, -128}, 3));
  /* float16 scales need opset 21 */
  in[1] = ot_tensor(ER_F16, 1, d1, (uint16_t[]){er_f32_to_f16(1)});
  CHECK_ERR(ot_run("QLinearMatMul", 10, NULL, 0, in, 8, out, 1), ER_INVALID_ARGUMENT);
  CHECK_OK(ot_run("QLinearMatMul", 21, NULL, 0, in, 8, out, 1));
  ot_free_all();
}

TEST(conv_integer_padding_onnx_data) {
  int64_t dx[] = {1, 1, 3, 3}, dw[] = {1, 1, 2, 2};
  er_tensor *in[] = {ot_tensor(ER_U8, 4, dx, (uint8_t[]){2, 3, 4, 5, 6, 7, 8, 9, 10}),
                     ot_tensor(ER_U8, 4, dw, (uint8_t[]){1, 1, 1, 1}), ot_tensor(ER_U8, 0, NULL, (uint8_t[]){1})};
  er_attr at[] = {ot_ints("pads", 4, (int64_t[]){1, 1, 1, 1})};
  er_tensor *out[1];
  CHECK_OK(ot_run("ConvInteger", 10, at, 1, in, 3, out, 1));
  CHECK(out[0]->dims[2] == 4 && out[0]->dims[3] == 4);
  CHECK(eq_bytes(out[0], (int32_t[]){1, 3, 5, 3, 5, 12, 16, 9, 11, 24, 28, 15, 7, 15, 17, 9}, 64));
  /* SAME_UPPER with stride 2 on 3x3: out 2x2, pad total 1 at the end */
  er_attr same[] = {ot_str("auto_pad", "SAME_UPPER"), ot_ints("strides", 2, (int64_t[]){2, 2})};
  CHECK_OK(ot_run("ConvInteger", 10, same, 2, in, 3, out, 1));
  CHECK(eq_bytes(out[0], (int32_t[]){1 + 2 + 4 + 5, 3 + 6, 7 + 8, 9}, 16));
  er_attr badpad[] = {ot_ints("pads", 2, (int64_t[]){1, 1})};
  CHECK_ERR(ot_run("ConvInteger", 10, badpad, 1, in, 3, out, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

TEST(qlinear_conv_per_channel_group_bias) {
  /* x [1,2,1,3] int8, w [2,1,1,2] (group 2, per-channel scale/zp), bias */
  int64_t dx[] = {1, 2, 1, 3}, dw[] = {2, 1, 1, 2}, d2[] = {2};
  er_tensor *in[] = {ot_tensor(ER_I8, 4, dx, (int8_t[]){1, 2, 3, 10, 20, 30}),
                     ot_tensor(ER_F32, 0, NULL, (float[]){0.5f}), ot_tensor(ER_I8, 0, NULL, (int8_t[]){1}),
                     ot_tensor(ER_I8, 4, dw, (int8_t[]){2, 3, -1, 1}),
                     ot_tensor(ER_F32, 1, d2, (float[]){1, 0.25f}), ot_tensor(ER_I8, 1, d2, (int8_t[]){1, 0}),
                     ot_tensor(ER_F32, 0, NULL, (float[]){0.5f}), ot_tensor(ER_I8, 0, NULL, (int8_t[]){-5}),
                     ot_tensor(ER_I32, 1, d2, (int32_t[]){1, -2})};
  er_attr at[] = {ot_int("group", 2)};
  er_tensor *out[1];
  CHECK_OK(ot_run("QLinearConv", 10, at, 1, in, 9, out, 1));
  CHECK(out[0]->dtype == ER_I8 && out[0]->dims[1] == 2 && out[0]->dims[3] == 2);
  /* ch0: x-1 = {0,1,2}, w-1 = {1,2}: acc {2,5}+1 = {3,6}; *0.5*1/0.5 = {3,6} - 5 = {-2, 1}
   * ch1: x-1 = {9,19,29}, w = {-1,1}: acc {10,10}-2 = {8,8}; *0.5*0.25/0.5 = 2 -> -3 */
  CHECK(eq_bytes(out[0], (int8_t[]){-2, 1, -3, -3}, 4));
  /* w_scale of the wrong length */
  in[4] = ot_tensor(ER_F32, 1, (int64_t[]){3}, (float[]){1, 1, 1});
  CHECK_ERR(ot_run("QLinearConv", 10, at, 1, in, 9, out, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}
