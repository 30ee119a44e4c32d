/* RNN / GRU / LSTM kernels. Expected values come from the ONNX backend test data
 * (test_simple_rnn_defaults, test_gru_with_initial_bias, test_lstm_with_peepholes) and
 * from onnxruntime 1.20 for the cases the test data does not cover. */
#include <string.h>

#include "optest.h"
#include "test.h"

static const float k_x[12] = {-0.8f, -0.5f, -0.2f, 0.1f, 0.4f, 0.7f, 1.0f, 1.3f, 1.6f, 1.9f, 2.2f, 2.5f};
static const float k_w[24] = {0.0f, 0.4207355f, 0.4546487f, 0.07056f, -0.3784012f, -0.4794621f,
                              -0.1397077f, 0.3284933f, 0.4946791f, 0.2060592f, -0.2720106f, -0.4999951f,
                              -0.2682865f, 0.2100835f, 0.4953037f, 0.3251439f, -0.1439517f, -0.4806987f,
                              -0.3754936f, 0.0749386f, 0.4564726f, 0.4183278f, -0.004425655f, -0.4231102f};
static const float k_r[24] = {0.4f, 0.2161209f, -0.1664587f, -0.395997f, -0.2614574f, 0.1134649f,
                              0.3840681f, 0.3015609f, -0.05820001f, -0.3644521f, -0.3356286f, 0.001770279f,
                              0.3375416f, 0.3629787f, 0.05469489f, -0.3038752f, -0.3830638f, -0.1100653f,
                              0.2641267f, 0.3954819f, 0.1632328f, -0.2190917f, -0.3999843f, -0.2131332f};
static const float k_b[24] = {0.0f, 0.1288435f, 0.1970899f, 0.1726419f, 0.06699763f, -0.07015665f,
                              -0.1743152f, -0.1964905f, -0.1262533f, 0.00336278f, 0.1313973f, 0.1976337f,
                              0.1709198f, 0.06381967f, -0.07329582f, -0.1759392f, -0.1958355f, -0.1236274f,
                              0.00672461f, 0.1339139f, 0.1981215f, 0.1691494f, 0.06062367f, -0.07641429f};

static er_tensor *filled(int dtype, int rank, const int64_t *dims, double v) {
  er_tensor *t = ot_tensor(dtype, rank, dims, NULL);
  for (int64_t i = 0; i < er_tensor_numel(t); i++) er_store_f64(t->data, dtype, (size_t)i, v);
  return t;
}

TEST(rnn_simple_defaults_onnx_data) {
  int64_t dx[] = {1, 3, 2}, dw[] = {1, 4, 2}, dr[] = {1, 4, 4};
  er_tensor *in[] = {ot_tensor(ER_F32, 3, dx, (float[]){1, 2, 3, 4, 5, 6}), filled(ER_F32, 3, dw, 0.1f),
                     filled(ER_F32, 3, dr, 0.1f)};
  er_attr at[] = {ot_int("hidden_size", 4)};
  er_tensor *out[2];
  CHECK_OK(ot_run("RNN", 14, at, 1, in, 3, out, 2));
  static const float yh[] = {0.29131263f, 0.29131263f, 0.29131263f, 0.29131263f, 0.60436779f, 0.60436779f,
                             0.60436779f, 0.60436779f, 0.80049902f, 0.80049902f, 0.80049902f, 0.80049902f};
  CHECK(out[1]->rank == 3 && out[1]->dims[0] == 1 && out[1]->dims[1] == 3 && out[1]->dims[2] == 4);
  CHECK(out[0]->rank == 4 && out[0]->dims[0] == 1 && out[0]->dims[1] == 1);
  CHECK(ot_max_abs_diff_f32(out[1], yh, 12) < 1e-6);
  CHECK(ot_max_abs_diff_f32(out[0], yh, 12) < 1e-6); /* one step: Y == Y_h */
  ot_free_all();
}

TEST(rnn_leakyrelu_alpha_ort) {
  int64_t dx[] = {3, 2, 2}, dw[] = {1, 2, 2}, db[] = {1, 4};
  er_tensor *in[] = {ot_tensor(ER_F32, 3, dx, k_x), ot_tensor(ER_F32, 3, dw, k_w),
                     ot_tensor(ER_F32, 3, dw, k_r), ot_tensor(ER_F32, 2, db, k_b)};
  const char *acts[] = {"LeakyRelu"};
  er_attr at[] = {ot_int("hidden_size", 2), ot_floats("activation_alpha", 1, (float[]){0.2f}),
                  {.name = "activations", .type = ER_ATTR_STRINGS, .n = 1, .strings = acts}};
  er_tensor *out[2];
  CHECK_OK(ot_run("RNN", 14, at, 3, in, 4, out, 2));
  static const float y[] = {-0.00265556f, -0.0195027f, 0.2391635f, 0.2176117f, 0.4863276f, 0.540902f,
                            0.8867419f, 0.7218777f, 1.307919f, 0.8678383f, 1.759638f, 1.044645f};
  CHECK(ot_max_abs_diff_f32(out[0], y, 12) < 1e-5);
  CHECK(ot_max_abs_diff_f32(out[1], y + 8, 4) < 1e-5);
  ot_free_all();
}

TEST(gru_initial_bias_onnx_data) {
  int64_t dx[] = {1, 3, 3}, dw[] = {1, 9, 3}, db[] = {1, 18};
  float b[18] = {0};
  for (int i = 0; i < 9; i++) b[i] = 0.1f;
  er_tensor *in[] = {ot_tensor(ER_F32, 3, dx, (float[]){1, 2, 3, 4, 5, 6, 7, 8, 9}),
                     filled(ER_F32, 3, dw, 0.1f), filled(ER_F32, 3, dw, 0.1f), ot_tensor(ER_F32, 2, db, b)};
  er_attr at[] = {ot_int("hidden_size", 3)};
  er_tensor *out[2];
  CHECK_OK(ot_run("GRU", 7, at, 1, in, 4, out, 2));
  static const float yh[] = {0.20053662f, 0.20053662f, 0.20053662f, 0.15482338f, 0.15482338f,
                             0.15482338f, 0.07484276f, 0.07484276f, 0.07484276f};
  CHECK(ot_max_abs_diff_f32(out[1], yh, 9) < 1e-6);
  ot_free_all();
}

/* bidirectional, linear_before_reset=1, sequence_lens {3,2}: padding steps of Y are 0 */
TEST(gru_bidirectional_lbr_seqlens_ort) {
  int64_t dx[] = {3, 2, 2}, dw[] = {2, 6, 2}, db[] = {2, 12}, dl[] = {2};
  er_tensor *in[] = {ot_tensor(ER_F32, 3, dx, k_x), ot_tensor(ER_F32, 3, dw, k_w),
                     ot_tensor(ER_F32, 3, dw, k_r), ot_tensor(ER_F32, 2, db, k_b),
                     ot_tensor(ER_I32, 1, dl, (int32_t[]){3, 2})};
  er_attr at[] = {ot_int("hidden_size", 2), ot_str("direction", "bidirectional"),
                  ot_int("linear_before_reset", 1)};
  er_tensor *out[2];
  CHECK_OK(ot_run("GRU", 14, at, 3, in, 5, out, 2));
  static const float y[] = {-0.1983158f, 0.2851526f, 0.03066853f, 0.02402836f, -0.02867067f, -0.1094869f,
                            0.1042301f, -0.1945696f, 0.08622479f, -0.02232891f, 0.3001082f, -0.2572156f,
                            0.3721579f, -0.2442636f, 0.3081415f, -0.1508571f, 0.3491472f, -0.2882438f,
                            0, 0, 0.4043423f, -0.1244994f, 0, 0};
  static const float yh[] = {0.3491472f, -0.2882438f, 0.3001082f, -0.2572156f,
                             -0.02867067f, -0.1094869f, 0.1042301f, -0.1945696f};
  CHECK(out[0]->dims[0] == 3 && out[0]->dims[1] == 2 && out[0]->dims[2] == 2 && out[0]->dims[3] == 2);
  CHECK(ot_max_abs_diff_f32(out[0], y, 24) < 1e-5);
  CHECK(ot_max_abs_diff_f32(out[1], yh, 8) < 1e-5);
  ot_free_all();
}

TEST(lstm_peepholes_onnx_data) {
  int64_t dx[] = {1, 2, 4}, dw[] = {1, 12, 4}, dr[] = {1, 12, 3}, db[] = {1, 24}, dl[] = {2},
          dh[] = {1, 2, 3}, dp[] = {1, 9};
  er_tensor *in[] = {ot_tensor(ER_F32, 3, dx, (float[]){1, 2, 3, 4, 5, 6, 7, 8}),
                     filled(ER_F32, 3, dw, 0.1f), filled(ER_F32, 3, dr, 0.1f), ot_tensor(ER_F32, 2, db, NULL),
                     ot_tensor(ER_I32, 1, dl, (int32_t[]){1, 1}), ot_tensor(ER_F32, 3, dh, NULL),
                     ot_tensor(ER_F32, 3, dh, NULL), filled(ER_F32, 2, dp, 0.1f)};
  er_attr at[] = {ot_int("hidden_size", 3)};
  er_tensor *out[2]; /* Y_c absent */
  CHECK_OK(ot_run("LSTM", 14, at, 1, in, 8, out, 2));
  static const float yh[] = {0.37506911f, 0.37506911f, 0.37506911f, 0.6801309f, 0.6801309f, 0.6801309f};
  CHECK(ot_max_abs_diff_f32(out[1], yh, 6) < 1e-6);
  ot_free_all();
}

/* reverse, clip, input_forget, peepholes, initial states, uneven sequence_lens */
static const float k_lstm_y[] = {-0.1084844f, -0.1518442f, -0.09509618f, -0.01146465f, -0.07276409f,
                                 -0.04267393f, -0.07393362f, 0.2391756f, 0, 0, -0.078237f, 0.1737385f};
static const float k_lstm_yc[] = {-0.1696304f, -0.2752984f, -0.163298f, -0.01860458f};

static er_status run_lstm_case(int dtype, int layout, er_tensor **out) {
  int64_t dx[] = {3, 2, 2}, dw[] = {1, 8, 2}, db[] = {1, 16}, dl[] = {2}, dh[] = {1, 2, 2}, dp[] = {1, 6};
  int64_t dx1[] = {2, 3, 2}, dh1[] = {2, 1, 2};
  float x1[12];
  for (int t = 0; t < 3; t++) /* [seq,batch,in] -> [batch,seq,in] */
    for (int b = 0; b < 2; b++) memcpy(x1 + (b * 3 + t) * 2, k_x + (t * 2 + b) * 2, 2 * sizeof(float));
  er_tensor *f[] = {layout ? ot_tensor(ER_F32, 3, dx1, x1) : ot_tensor(ER_F32, 3, dx, k_x),
                    ot_tensor(ER_F32, 3, dw, k_w), ot_tensor(ER_F32, 3, dw, k_r), ot_tensor(ER_F32, 2, db, k_b),
                    ot_tensor(ER_I64, 1, dl, (int64_t[]){2, 3}), filled(ER_F32, 3, layout ? dh1 : dh, 0.1),
                    filled(ER_F32, 3, layout ? dh1 : dh, -0.2),
                    ot_tensor(ER_F32, 2, dp, (float[]){0.1f, -0.2f, 0.3f, 0.05f, 0.1f, -0.1f})};
  er_tensor *in[8];
  for (int i = 0; i < 8; i++) { /* convert to the requested float type */
    if (i == 4) { in[i] = f[i]; continue; }
    in[i] = ot_tensor(dtype, f[i]->rank, f[i]->dims, NULL);
    for (int64_t k = 0; k < er_tensor_numel(f[i]); k++)
      er_store_f64(in[i]->data, dtype, (size_t)k, ((float *)f[i]->data)[k]);
  }
  er_attr at[] = {ot_int("hidden_size", 2), ot_str("direction", "reverse"), ot_float("clip", 0.6f),
                  ot_int("input_forget", 1), ot_int("layout", layout)};
  return ot_run("LSTM", 14, at, 5, in, 8, out, 3);
}

TEST(lstm_reverse_clip_input_forget_ort) {
  er_tensor *out[3];
  CHECK_OK(run_lstm_case(ER_F32, 0, out));
  CHECK(ot_max_abs_diff_f32(out[0], k_lstm_y, 12) < 1e-5);
  CHECK(ot_max_abs_diff_f32(out[1], k_lstm_y, 4) < 1e-5); /* reverse: Y_h is step 0 */
  CHECK(ot_max_abs_diff_f32(out[2], k_lstm_yc, 4) < 1e-5);
  ot_free_all();
}

TEST(lstm_layout1_matches_layout0) {
  er_tensor *out[3];
  CHECK_OK(run_lstm_case(ER_F32, 1, out));
  CHECK(out[0]->dims[0] == 2 && out[0]->dims[1] == 3 && out[0]->dims[2] == 1 && out[0]->dims[3] == 2);
  CHECK(out[1]->dims[0] == 2 && out[1]->dims[1] == 1);
  const float *y = (const float *)out[0]->data;
  double md = 0;
  for (int t = 0; t < 3; t++)
    for (int b = 0; b < 2; b++)
      for (int j = 0; j < 2; j++) {
        double d = fabs(y[(b * 3 + t) * 2 + j] - k_lstm_y[(t * 2 + b) * 2 + j]);
        if (d > md) md = d;
      }
  CHECK(md < 1e-5);
  CHECK(ot_max_abs_diff_f32(out[2], k_lstm_yc, 4) < 1e-5); /* [batch,1,H] == [1,batch,H] flat */
  ot_free_all();
}

TEST(lstm_double_and_float16) {
  er_tensor *out[3];
  CHECK_OK(run_lstm_case(ER_F64, 0, out));
  CHECK(out[0]->dtype == ER_F64);
  for (int i = 0; i < 12; i++) CHECK_NEAR(((double *)out[0]->data)[i], k_lstm_y[i], 1e-5);
  ot_free_all();
  CHECK_OK(run_lstm_case(ER_F16, 0, out));
  CHECK(out[2]->dtype == ER_F16);
  for (int i = 0; i < 4; i++) CHECK_NEAR(er_f16_to_f32(((uint16_t *)out[2]->data)[i]), k_lstm_yc[i], 2e-3);
  ot_free_all();
}

TEST(rnn_activation_functions) {
  /* hidden 1, input 1, W = 1, R = 0: Y = f(x) for each activation */
  int64_t dx[] = {4, 1, 1}, dw[] = {1, 1, 1};
  static const float xs[] = {-2.0f, -0.5f, 0.5f, 3.0f};
  struct { const char *name; float alpha, beta; float expect[4]; } cases[] = {
      {"Relu", 0, 0, {0, 0, 0.5f, 3}},
      {"Sigmoid", 0, 0, {0.11920292f, 0.37754067f, 0.62245933f, 0.95257413f}},
      {"Affine", 2, 1, {-3, 0, 2, 7}},
      {"LeakyRelu", 0.1f, 0, {-0.2f, -0.05f, 0.5f, 3}},
      {"ThresholdedRelu", 1, 0, {0, 0, 0, 3}},
      {"ScaledTanh", 2, 0.5f, {-1.5231884f, -0.4898373f, 0.4898373f, 1.8103049f}},
      {"HardSigmoid", 0.2f, 0.5f, {0.1f, 0.4f, 0.6f, 1}},
      {"elu", 1, 0, {-0.86466472f, -0.39346934f, 0.5f, 3}},
      {"Softsign", 0, 0, {-0.6666667f, -0.3333333f, 0.3333333f, 0.75f}},
      {"Softplus", 0, 0, {0.12692801f, 0.47407698f, 0.97407698f, 3.04858735f}},
  };
  for (unsigned k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    er_tensor *in[] = {ot_tensor(ER_F32, 3, dx, xs), filled(ER_F32, 3, dw, 1), filled(ER_F32, 3, dw, 0)};
    const char *acts[] = {cases[k].name};
    er_attr at[] = {ot_int("hidden_size", 1), ot_floats("activation_alpha", 1, &cases[k].alpha),
                    ot_floats("activation_beta", 1, &cases[k].beta),
                    {.name = "activations", .type = ER_ATTR_STRINGS, .n = 1, .strings = acts}};
    er_tensor *out[1];
    CHECK_OK(ot_run("RNN", 14, at, 4, in, 3, out, 1));
    if (ot_max_abs_diff_f32(out[0], cases[k].expect, 4) > 1e-5) {
      fprintf(stderr, "  activation %s wrong\n", cases[k].name);
      CHECK(0);
    }
    ot_free_all();
  }
}

TEST(rnn_errors) {
  int64_t dx[] = {2, 1, 3}, dw[] = {1, 4, 3}, dr[] = {1, 4, 4}, dl[] = {1};
  er_tensor *x = ot_tensor(ER_F32, 3, dx, NULL), *w = ot_tensor(ER_F32, 3, dw, NULL);
  er_tensor *r = ot_tensor(ER_F32, 3, dr, NULL);
  er_tensor *out[2];
  er_attr bad_dir[] = {ot_str("direction", "sideways")};
  CHECK_ERR(ot_run("RNN", 14, bad_dir, 1, (er_tensor *[]){x, w, r}, 3, out, 2), ER_INVALID_ARGUMENT);
  const char *acts[] = {"Swish"};
  er_attr bad_act[] = {{.name = "activations", .type = ER_ATTR_STRINGS, .n = 1, .strings = acts}};
  CHECK_ERR(ot_run("RNN", 14, bad_act, 1, (er_tensor *[]){x, w, r}, 3, out, 2), ER_UNSUPPORTED);
  const char *two[] = {"Tanh", "Tanh"};
  er_attr many[] = {{.name = "activations", .type = ER_ATTR_STRINGS, .n = 2, .strings = two},
                    ot_str("direction", "forward")};
  CHECK_ERR(ot_run("GRU", 14, many, 2, (er_tensor *[]){x, w, r}, 3, out, 2), ER_INVALID_ARGUMENT);
  er_attr hs[] = {ot_int("hidden_size", 5)}; /* W rows do not match 1*5 */
  CHECK_ERR(ot_run("RNN", 14, hs, 1, (er_tensor *[]){x, w, r}, 3, out, 2), ER_INVALID_ARGUMENT);
  er_attr lay[] = {ot_int("layout", 2)};
  CHECK_ERR(ot_run("RNN", 14, lay, 1, (er_tensor *[]){x, w, r}, 3, out, 2), ER_INVALID_ARGUMENT);
  /* RNN W is [1, 4, 3] -> hidden 4, fine; GRU needs 3*H rows */
  CHECK_ERR(ot_run("GRU", 14, NULL, 0, (er_tensor *[]){x, w, r}, 3, out, 2), ER_INVALID_ARGUMENT);
  er_tensor *len = ot_tensor(ER_I32, 1, dl, (int32_t[]){3}); /* > seq_length 2 */
  CHECK_ERR(ot_run("RNN", 14, NULL, 0, (er_tensor *[]){x, w, r, NULL, len}, 5, out, 2), ER_OUT_OF_RANGE);
  er_tensor *xi = ot_tensor(ER_I32, 3, dx, NULL);
  CHECK_ERR(ot_run("RNN", 14, NULL, 0, (er_tensor *[]){xi, w, r}, 3, out, 2), ER_INVALID_ARGUMENT);
  er_tensor *wd = ot_tensor(ER_F64, 3, dw, NULL); /* mixed types */
  CHECK_ERR(ot_run("RNN", 14, NULL, 0, (er_tensor *[]){x, wd, r}, 3, out, 2), ER_INVALID_ARGUMENT);
  CHECK_ERR(ot_run("RNN", 14, NULL, 0, (er_tensor *[]){x, w}, 2, out, 2), ER_INVALID_MODEL);
  ot_free_all();
}

TEST(rnn_zero_length_sequence_gives_zero_state) {
  int64_t dx[] = {2, 2, 1}, dw[] = {1, 1, 1}, dl[] = {2}, dh[] = {1, 2, 1};
  er_tensor *in[] = {ot_tensor(ER_F32, 3, dx, (float[]){1, 2, 3, 4}), filled(ER_F32, 3, dw, 1),
                     filled(ER_F32, 3, dw, 0), NULL, ot_tensor(ER_I32, 1, dl, (int32_t[]){0, 2}),
                     filled(ER_F32, 3, dh, 0.5)};
  er_tensor *out[2];
  CHECK_OK(ot_run("RNN", 14, NULL, 0, in, 6, out, 2));
  const float *y = (const float *)out[0]->data, *yh = (const float *)out[1]->data;
  CHECK(y[0] == 0 && y[2] == 0 && yh[0] == 0);
  CHECK_NEAR(y[1], tanh(2.0), 1e-6);
  CHECK_NEAR(yh[1], tanh(4.0), 1e-6);
  ot_free_all();
}
