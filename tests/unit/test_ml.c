/* ML family: TfIdfVectorizer and the ai.onnx.ml ops. Expected values are hand-computed or
 * taken from the ONNX backend test data (noted where so). */
#include <math.h>
#include <string.h>

#include "optest.h"
#include "test.h"

#define D(...) ((const int64_t[]){__VA_ARGS__})
#define F(...) ((const float[]){__VA_ARGS__})
#define ML "ai.onnx.ml"

static er_attr tattr(const char *name, er_tensor *t) {
  er_attr a;
  memset(&a, 0, sizeof a);
  a.name = name, a.type = ER_ATTR_TENSOR, a.t = t;
  return a;
}
static er_attr strs(const char *name, int n, const char *const *v) {
  er_attr a;
  memset(&a, 0, sizeof a);
  a.name = name, a.type = ER_ATTR_STRINGS, a.n = n, a.strings = v;
  return a;
}
static int shape_is(const er_tensor *t, int rank, const int64_t *dims) {
  if (t->rank != rank) return 0;
  for (int i = 0; i < rank; i++)
    if (t->dims[i] != dims[i]) return 0;
  return 1;
}
static const int64_t *iv(const er_tensor *t) { return (const int64_t *)t->data; }

/* ---------------- TfIdfVectorizer ---------------- */

static const int32_t k_tf_in[] = {1, 1, 3, 3, 3, 7, 8, 6, 7, 5, 6, 8};
static const int64_t k_tf_pool[] = {2, 3, 5, 4, 5, 6, 7, 8, 6, 7};

static const int64_t k_tf_counts[] = {0, 4}, k_tf_indexes[] = {0, 1, 2, 3, 4, 5, 6};
/* ot_ints/ot_floats keep the pointer: the helpers below use file-scope arrays only. */
static int tf_attrs(er_attr *at, const char *mode, int64_t mn, int64_t mx, int64_t skip) {
  int n = 0;
  at[n++] = ot_str("mode", mode);
  at[n++] = ot_int("min_gram_length", mn);
  at[n++] = ot_int("max_gram_length", mx);
  at[n++] = ot_int("max_skip_count", skip);
  at[n++] = ot_ints("ngram_counts", 2, k_tf_counts);
  at[n++] = ot_ints("ngram_indexes", 7, k_tf_indexes);
  at[n++] = ot_ints("pool_int64s", 10, k_tf_pool);
  return n;
}

TEST(tfidf_onnx_cases_1d) { /* test_tfidfvectorizer_tf_{only_bigrams_skip0,onlybigrams_skip5,uniandbigrams_skip5} */
  er_tensor *x = ot_tensor(ER_I32, 1, D(12), k_tf_in), *y[1];
  er_attr at[8];
  int n = tf_attrs(at, "TF", 2, 2, 0);
  CHECK_OK(ot_run("TfIdfVectorizer", 9, at, n, &x, 1, y, 1));
  CHECK(shape_is(y[0], 1, D(7)));
  CHECK(ot_max_abs_diff_f32(y[0], F(0, 0, 0, 0, 1, 1, 1), 7) == 0);
  n = tf_attrs(at, "TF", 2, 2, 5);
  CHECK_OK(ot_run("TfIdfVectorizer", 9, at, n, &x, 1, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], F(0, 0, 0, 0, 1, 3, 1), 7) == 0);
  n = tf_attrs(at, "TF", 1, 2, 5);
  CHECK_OK(ot_run("TfIdfVectorizer", 9, at, n, &x, 1, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], F(0, 3, 1, 0, 1, 3, 1), 7) == 0);
  ot_free_all();
}

TEST(tfidf_batch_int64_and_levelempty) { /* test_tfidfvectorizer_tf_batch_uniandbigrams_skip5, _levelempty */
  int64_t in64[12];
  for (int i = 0; i < 12; i++) in64[i] = k_tf_in[i];
  er_tensor *x = ot_tensor(ER_I64, 2, D(2, 6), in64), *y[1];
  er_attr at[8];
  int n = tf_attrs(at, "TF", 1, 2, 5);
  CHECK_OK(ot_run("TfIdfVectorizer", 9, at, n, &x, 1, y, 1));
  CHECK(shape_is(y[0], 2, D(2, 7)));
  CHECK(ot_max_abs_diff_f32(y[0], F(0, 3, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1), 14) == 0);
  /* no unigrams in the pool: level 1 is empty */
  er_tensor *x1 = ot_tensor(ER_I32, 1, D(12), k_tf_in);
  er_attr a2[] = {ot_str("mode", "TF"), ot_int("min_gram_length", 2), ot_int("max_gram_length", 2),
                  ot_int("max_skip_count", 0), ot_ints("ngram_counts", 2, D(0, 0)),
                  ot_ints("ngram_indexes", 3, D(0, 1, 2)), ot_ints("pool_int64s", 6, D(5, 6, 7, 8, 6, 7))};
  CHECK_OK(ot_run("TfIdfVectorizer", 9, a2, 7, &x1, 1, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], F(1, 1, 1), 3) == 0);
  ot_free_all();
}

TEST(tfidf_idf_tfidf_weights) {
  /* uni+bigrams, skip 5 on the 1-D input gives counts {0,3,1,0,1,3,1} */
  er_tensor *x = ot_tensor(ER_I32, 1, D(12), k_tf_in), *y[1];
  er_attr at[9];
  int n = tf_attrs(at, "IDF", 1, 2, 5);
  CHECK_OK(ot_run("TfIdfVectorizer", 9, at, n, &x, 1, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], F(0, 1, 1, 0, 1, 1, 1), 7) == 0);
  at[n] = ot_floats("weights", 7, F(1, 2, 3, 4, 5, 6, 7));
  CHECK_OK(ot_run("TfIdfVectorizer", 9, at, n + 1, &x, 1, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], F(0, 2, 3, 0, 5, 6, 7), 7) == 0);
  at[0] = ot_str("mode", "TFIDF");
  CHECK_OK(ot_run("TfIdfVectorizer", 9, at, n + 1, &x, 1, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], F(0, 6, 3, 0, 5, 18, 7), 7) == 0);
  CHECK_OK(ot_run("TfIdfVectorizer", 9, at, n, &x, 1, y, 1)); /* TFIDF without weights = TF */
  CHECK(ot_max_abs_diff_f32(y[0], F(0, 3, 1, 0, 1, 3, 1), 7) == 0);
  /* ngram_indexes may map to any column; output size is max index + 1 */
  at[0] = ot_str("mode", "TF");
  at[5] = ot_ints("ngram_indexes", 7, D(9, 8, 7, 6, 5, 4, 3));
  CHECK_OK(ot_run("TfIdfVectorizer", 9, at, n, &x, 1, y, 1));
  CHECK(shape_is(y[0], 1, D(10)));
  CHECK(ot_max_abs_diff_f32(y[0], F(0, 0, 0, 1, 3, 1, 0, 1, 3, 0), 10) == 0);
  ot_free_all();
}

TEST(tfidf_errors) {
  er_tensor *x = ot_tensor(ER_I32, 1, D(12), k_tf_in), *y[1];
  er_attr at[8];
  int n = tf_attrs(at, "BM25", 1, 2, 5);
  CHECK_ERR(ot_run("TfIdfVectorizer", 9, at, n, &x, 1, y, 1), ER_INVALID_ARGUMENT);
  n = tf_attrs(at, "TF", 3, 2, 0);
  CHECK_ERR(ot_run("TfIdfVectorizer", 9, at, n, &x, 1, y, 1), ER_INVALID_ARGUMENT);
  n = tf_attrs(at, "TF", 1, 2, 0);
  at[n] = strs("pool_strings", 1, (const char *const[]){"a"});
  CHECK_ERR(ot_run("TfIdfVectorizer", 9, at, n + 1, &x, 1, y, 1), ER_UNSUPPORTED);
  at[4] = ot_ints("ngram_counts", 2, D(0, 11)); /* past the pool */
  CHECK_ERR(ot_run("TfIdfVectorizer", 9, at, n, &x, 1, y, 1), ER_INVALID_ARGUMENT);
  at[4] = ot_ints("ngram_counts", 2, D(0, 4));
  at[5] = ot_ints("ngram_indexes", 3, D(0, 1, 2)); /* fewer indexes than n-grams */
  CHECK_ERR(ot_run("TfIdfVectorizer", 9, at, n, &x, 1, y, 1), ER_INVALID_ARGUMENT);
  er_tensor *xf = ot_tensor(ER_F32, 1, D(2), F(1, 2));
  n = tf_attrs(at, "TF", 1, 2, 0);
  CHECK_ERR(ot_run("TfIdfVectorizer", 9, at, n, &xf, 1, y, 1), ER_INVALID_ARGUMENT);
  er_tensor *x3 = ot_tensor(ER_I32, 3, D(1, 2, 6), k_tf_in);
  CHECK_ERR(ot_run("TfIdfVectorizer", 9, at, n, &x3, 1, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

/* ---------------- Binarizer, ArrayFeatureExtractor, Scaler, Normalizer ---------------- */

TEST(binarizer_types) {
  er_attr at[] = {ot_float("threshold", 1.0f)};
  er_tensor *x = ot_tensor(ER_F32, 2, D(2, 3), F(1.76f, 0.4f, 1.0f, -0.9f, NAN, 2.0f)), *y[1];
  CHECK_OK(ot_run_domain(ML, "Binarizer", 1, at, 1, &x, 1, y, 1));
  CHECK(y[0]->dtype == ER_F32 && shape_is(y[0], 2, D(2, 3)));
  CHECK(ot_max_abs_diff_f32(y[0], F(1, 0, 0, 0, 0, 1), 6) == 0);
  int64_t vi[] = {-3, 1, 2, 5};
  er_tensor *xi = ot_tensor(ER_I64, 1, D(4), vi);
  CHECK_OK(ot_run_domain(ML, "Binarizer", 1, at, 1, &xi, 1, y, 1));
  CHECK(y[0]->dtype == ER_I64 && iv(y[0])[0] == 0 && iv(y[0])[1] == 0 && iv(y[0])[2] == 1 && iv(y[0])[3] == 1);
  double vd[] = {0.5, 1.5};
  er_tensor *xd = ot_tensor(ER_F64, 1, D(2), vd);
  CHECK_OK(ot_run_domain(ML, "Binarizer", 1, NULL, 0, &xd, 1, y, 1)); /* threshold 0 */
  CHECK(((double *)y[0]->data)[0] == 1 && ((double *)y[0]->data)[1] == 1);
  ot_free_all();
}

TEST(array_feature_extractor) { /* 2-D case from test_ai_onnx_ml_array_feature_extractor */
  er_tensor *x = ot_tensor(ER_F32, 2, D(3, 4), F(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)), *y[1];
  er_tensor *ix = ot_tensor(ER_I64, 1, D(2), D(0, 1));
  CHECK_OK(ot_run_domain(ML, "ArrayFeatureExtractor", 1, NULL, 0, (er_tensor *[]){x, ix}, 2, y, 1));
  CHECK(shape_is(y[0], 2, D(3, 2)));
  CHECK(ot_max_abs_diff_f32(y[0], F(0, 1, 4, 5, 8, 9), 6) == 0);
  /* 1-D data gives one row; indices may repeat and reorder; int64 data */
  er_tensor *x1 = ot_tensor(ER_I64, 1, D(4), D(10, 11, 12, 13));
  er_tensor *ix2 = ot_tensor(ER_I64, 2, D(1, 3), D(3, 0, 3));
  CHECK_OK(ot_run_domain(ML, "ArrayFeatureExtractor", 1, NULL, 0, (er_tensor *[]){x1, ix2}, 2, y, 1));
  CHECK(shape_is(y[0], 2, D(1, 3)) && y[0]->dtype == ER_I64);
  CHECK(iv(y[0])[0] == 13 && iv(y[0])[1] == 10 && iv(y[0])[2] == 13);
  /* 3-D data */
  er_tensor *x3 = ot_tensor(ER_F32, 3, D(2, 1, 3), F(1, 2, 3, 4, 5, 6));
  er_tensor *ix3 = ot_tensor(ER_I64, 1, D(1), D(2));
  CHECK_OK(ot_run_domain(ML, "ArrayFeatureExtractor", 1, NULL, 0, (er_tensor *[]){x3, ix3}, 2, y, 1));
  CHECK(shape_is(y[0], 3, D(2, 1, 1)) && ot_max_abs_diff_f32(y[0], F(3, 6), 2) == 0);
  er_tensor *bad = ot_tensor(ER_I64, 1, D(1), D(4));
  CHECK_ERR(ot_run_domain(ML, "ArrayFeatureExtractor", 1, NULL, 0, (er_tensor *[]){x, bad}, 2, y, 1), ER_OUT_OF_RANGE);
  er_tensor *neg = ot_tensor(ER_I64, 1, D(1), D(-1));
  CHECK_ERR(ot_run_domain(ML, "ArrayFeatureExtractor", 1, NULL, 0, (er_tensor *[]){x, neg}, 2, y, 1), ER_OUT_OF_RANGE);
  ot_free_all();
}

TEST(scaler_broadcast_and_types) {
  er_tensor *x = ot_tensor(ER_F32, 2, D(2, 3), F(1, 2, 3, 4, 5, 6)), *y[1];
  er_attr at[] = {ot_floats("offset", 3, F(1, 0, -1)), ot_floats("scale", 3, F(2, 0.5f, -1))};
  CHECK_OK(ot_run_domain(ML, "Scaler", 1, at, 2, &x, 1, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], F(0, 1, -4, 6, 2.5f, -7), 6) == 0);
  er_attr a1[] = {ot_floats("offset", 1, F(1)), ot_floats("scale", 1, F(3))};
  er_tensor *xi = ot_tensor(ER_I32, 1, D(3), (const int32_t[]){1, 2, 4});
  CHECK_OK(ot_run_domain(ML, "Scaler", 1, a1, 2, &xi, 1, y, 1));
  CHECK(y[0]->dtype == ER_F32 && ot_max_abs_diff_f32(y[0], F(0, 3, 9), 3) == 0);
  er_attr bad[] = {ot_floats("offset", 2, F(1, 2))};
  CHECK_ERR(ot_run_domain(ML, "Scaler", 1, bad, 1, &x, 1, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

TEST(normalizer_modes) {
  er_tensor *x = ot_tensor(ER_F32, 2, D(3, 2), F(3, -4, 0, 0, -2, -1)), *y[1];
  er_attr at[1];
  at[0] = ot_str("norm", "MAX"); /* signed row max; zero divisor keeps the row; row 3 max is -1 */
  CHECK_OK(ot_run_domain(ML, "Normalizer", 1, at, 1, &x, 1, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], F(1, -4.0f / 3, 0, 0, 2, 1), 6) < 1e-6);
  at[0] = ot_str("norm", "L1");
  CHECK_OK(ot_run_domain(ML, "Normalizer", 1, at, 1, &x, 1, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], F(3.0f / 7, -4.0f / 7, 0, 0, -2.0f / 3, -1.0f / 3), 6) < 1e-6);
  at[0] = ot_str("norm", "L2");
  CHECK_OK(ot_run_domain(ML, "Normalizer", 1, at, 1, &x, 1, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], F(0.6f, -0.8f, 0, 0, -2 / sqrtf(5), -1 / sqrtf(5)), 6) < 1e-6);
  er_tensor *x1 = ot_tensor(ER_I64, 1, D(2), D(1, 3));
  CHECK_OK(ot_run_domain(ML, "Normalizer", 1, at, 1, &x1, 1, y, 1));
  CHECK(shape_is(y[0], 1, D(2)) && ot_max_abs_diff_f32(y[0], F(1 / sqrtf(10), 3 / sqrtf(10)), 2) < 1e-6);
  at[0] = ot_str("norm", "L3");
  CHECK_ERR(ot_run_domain(ML, "Normalizer", 1, at, 1, &x, 1, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

/* ---------------- LinearRegressor, LinearClassifier ---------------- */

TEST(linear_regressor) {
  er_tensor *x = ot_tensor(ER_F32, 2, D(2, 3), F(1, 2, 3, -1, 0, 2)), *y[1];
  er_attr at[] = {ot_floats("coefficients", 6, F(1, 0, 1, 0.5f, -1, 2)), ot_floats("intercepts", 2, F(10, -1)),
                  ot_int("targets", 2)};
  CHECK_OK(ot_run_domain(ML, "LinearRegressor", 1, at, 3, &x, 1, y, 1));
  CHECK(shape_is(y[0], 2, D(2, 2)));
  CHECK(ot_max_abs_diff_f32(y[0], F(14, 3.5f, 11, 2.5f), 4) < 1e-6);
  er_attr a1[] = {ot_floats("coefficients", 3, F(1, 1, 1)), ot_str("post_transform", "LOGISTIC")};
  er_tensor *xd = ot_tensor(ER_F64, 1, D(3), (const double[]){0.5, -1, 0.5});
  CHECK_OK(ot_run_domain(ML, "LinearRegressor", 1, a1, 2, &xd, 1, y, 1));
  CHECK(shape_is(y[0], 2, D(1, 1)) && ot_max_abs_diff_f32(y[0], F(0.5f), 1) < 1e-7);
  er_attr bad[] = {ot_floats("coefficients", 5, F(1, 1, 1, 1, 1)), ot_int("targets", 2)};
  CHECK_ERR(ot_run_domain(ML, "LinearRegressor", 1, bad, 2, &x, 1, y, 1), ER_INVALID_ARGUMENT);
  er_attr bad_pt[] = {ot_floats("coefficients", 3, F(1, 1, 1)), ot_str("post_transform", "EXP")};
  CHECK_ERR(ot_run_domain(ML, "LinearRegressor", 1, bad_pt, 2, &x, 1, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

TEST(linear_classifier) {
  er_tensor *x = ot_tensor(ER_F32, 2, D(2, 2), F(1, 0, 0, 1)), *y[2];
  er_attr at[] = {ot_floats("coefficients", 6, F(1, 0, 0, 1, -1, -1)), ot_floats("intercepts", 3, F(0, 0.5f, 0)),
                  ot_ints("classlabels_ints", 3, D(7, 8, 9))};
  CHECK_OK(ot_run_domain(ML, "LinearClassifier", 1, at, 3, &x, 1, y, 2));
  CHECK(shape_is(y[0], 1, D(2)) && shape_is(y[1], 2, D(2, 3)));
  CHECK(iv(y[0])[0] == 7 && iv(y[0])[1] == 8);
  CHECK(ot_max_abs_diff_f32(y[1], F(1, 0.5f, -1, 0, 1.5f, -1), 6) < 1e-6);
  /* one coefficient row and two labels: scores [-s, s] */
  er_attr bin[] = {ot_floats("coefficients", 2, F(1, -1)), ot_ints("classlabels_ints", 2, D(3, 5))};
  CHECK_OK(ot_run_domain(ML, "LinearClassifier", 1, bin, 2, &x, 1, y, 2));
  CHECK(shape_is(y[1], 2, D(2, 2)) && ot_max_abs_diff_f32(y[1], F(-1, 1, 1, -1), 4) == 0);
  CHECK(iv(y[0])[0] == 5 && iv(y[0])[1] == 3);
  /* one coefficient row and one label: label if score >= 0.5 after LOGISTIC */
  er_attr one[] = {ot_floats("coefficients", 2, F(1, -1)), ot_ints("classlabels_ints", 1, D(4)),
                   ot_str("post_transform", "LOGISTIC")};
  CHECK_OK(ot_run_domain(ML, "LinearClassifier", 1, one, 3, &x, 1, y, 2));
  CHECK(iv(y[0])[0] == 4 && iv(y[0])[1] == 0);
  CHECK(ot_max_abs_diff_f32(y[1], F((float)(1 / (1 + exp(-1.0))), (float)(1 / (1 + exp(1.0)))), 2) < 1e-6);
  er_attr sl[] = {ot_floats("coefficients", 2, F(1, -1)), strs("classlabels_strings", 2, (const char *const[]){"a", "b"})};
  CHECK_ERR(ot_run_domain(ML, "LinearClassifier", 1, sl, 2, &x, 1, y, 2), ER_UNSUPPORTED);
  er_attr bad[] = {ot_floats("coefficients", 3, F(1, 1, 1))};
  CHECK_ERR(ot_run_domain(ML, "LinearClassifier", 1, bad, 1, &x, 1, y, 2), ER_INVALID_ARGUMENT);
  ot_free_all();
}

/* ---------------- TreeEnsemble (opset 5) ---------------- */

/* test_ai_onnx_ml_tree_ensemble_single_tree (double) */
/* test_ai_onnx_ml_tree_ensemble_single_tree (double) */
static const int64_t k_te_1[] = {0, 1, 0, 1};
static const int64_t k_te_2[] = {0, 1, 1};
static const int64_t k_te_3[] = {2, 2, 3};
static const int64_t k_te_4[] = {0, 0, 0};
static const int64_t k_te_5[] = {0, 1, 1};
static const int64_t k_te_6[] = {1, 0, 1};
static const int64_t k_te_7[] = {0};
static int te5_single_tree(er_attr *at, int modes_dtype) {
  int n = 0;
  at[n++] = ot_int("aggregate_function", 1);
  at[n++] = ot_ints("leaf_targetids", 4, k_te_1);
  at[n++] = tattr("leaf_weights", ot_tensor(ER_F64, 1, D(4), (const double[]){5.23, 12.12, -12.23, 7.21}));
  at[n++] = ot_int("n_targets", 2);
  at[n++] = ot_ints("nodes_falseleafs", 3, k_te_2);
  at[n++] = ot_ints("nodes_falsenodeids", 3, k_te_3);
  at[n++] = ot_ints("nodes_featureids", 3, k_te_4);
  at[n++] = tattr("nodes_modes", ot_tensor(modes_dtype, 1, D(3), (const uint8_t[]){0, 0, 0}));
  at[n++] = tattr("nodes_splits", ot_tensor(ER_F64, 1, D(3), (const double[]){3.14, 1.2, 4.2}));
  at[n++] = ot_ints("nodes_trueleafs", 3, k_te_5);
  at[n++] = ot_ints("nodes_truenodeids", 3, k_te_6);
  at[n++] = ot_int("post_transform", 0);
  at[n++] = ot_ints("tree_roots", 1, k_te_7);
  return n;
}

TEST(tree_ensemble_v5_single_tree) {
  er_attr at[16];
  int n = te5_single_tree(at, ER_U8);
  er_tensor *x = ot_tensor(ER_F64, 2, D(3, 2), (const double[]){1.2, 3.4, -0.12, 1.66, 4.14, 1.77}), *y[1];
  CHECK_OK(ot_run_domain(ML, "TreeEnsemble", 5, at, n, &x, 1, y, 1));
  CHECK(y[0]->dtype == ER_F64 && shape_is(y[0], 2, D(3, 2)));
  const double *o = (const double *)y[0]->data, e[] = {5.23, 0, 5.23, 0, 0, 12.12};
  for (int i = 0; i < 6; i++) CHECK_NEAR(o[i], e[i], 1e-12);
  /* float16 input (values exact in f16: 1.2 would round up past the 1.2f split): output float16 */
  uint16_t h[6];
  const float xf[] = {1.0f, 3.5f, -0.125f, 1.625f, 4.125f, 1.75f};
  for (int i = 0; i < 6; i++) h[i] = er_f32_to_f16(xf[i]);
  er_tensor *xh = ot_tensor(ER_F16, 2, D(3, 2), h);
  CHECK_OK(ot_run_domain(ML, "TreeEnsemble", 5, at, n, &xh, 1, y, 1));
  CHECK(y[0]->dtype == ER_F16);
  for (int i = 0; i < 6; i++) CHECK_NEAR(er_f16_to_f32(((uint16_t *)y[0]->data)[i]), e[i], 0.01);
  /* post_transform LOGISTIC on the scores */
  at[11] = ot_int("post_transform", 2);
  CHECK_OK(ot_run_domain(ML, "TreeEnsemble", 5, at, n, &x, 1, y, 1));
  CHECK_NEAR(((double *)y[0]->data)[0], 1 / (1 + exp(-5.23)), 1e-12);
  CHECK_NEAR(((double *)y[0]->data)[1], 0.5, 1e-12);
  /* not registered before opset 5 */
  CHECK_ERR(ot_run_domain(ML, "TreeEnsemble", 4, at, n, &x, 1, y, 1), ER_UNSUPPORTED);
  ot_free_all();
}

TEST(tree_ensemble_v5_aggregates) {
  /* two single-split trees on feature 0 (x <= 0 ?) voting for targets 0 / 1 */
  er_attr at[] = {
      ot_ints("nodes_featureids", 2, D(0, 0)),
      tattr("nodes_modes", ot_tensor(ER_U8, 1, D(2), (const uint8_t[]){0, 1})),
      tattr("nodes_splits", ot_tensor(ER_F32, 1, D(2), F(0, 0))),
      ot_ints("nodes_truenodeids", 2, D(0, 2)), ot_ints("nodes_trueleafs", 2, D(1, 1)),
      ot_ints("nodes_falsenodeids", 2, D(1, 3)), ot_ints("nodes_falseleafs", 2, D(1, 1)),
      ot_ints("leaf_targetids", 4, D(0, 0, 0, 1)),
      tattr("leaf_weights", ot_tensor(ER_F32, 1, D(4), F(1, 2, 4, 8))),
      ot_ints("tree_roots", 2, D(0, 1)), ot_int("n_targets", 2), ot_int("aggregate_function", 0)};
  er_tensor *x = ot_tensor(ER_F32, 2, D(2, 1), F(-1, 1)), *y[1];
  struct { int agg; float e[4]; } cases[] = {
      {0, {2.5f, 0, 1, 4}}, /* AVERAGE: (1+4)/2 ; (2)/2, 8/2 */
      {1, {5, 0, 2, 8}},    /* SUM */
      {2, {1, 0, 2, 8}},    /* MIN; target 1 without votes -> 0 */
      {3, {4, 0, 2, 8}},    /* MAX */
  };
  for (int i = 0; i < 4; i++) {
    at[11] = ot_int("aggregate_function", cases[i].agg);
    CHECK_OK(ot_run_domain(ML, "TreeEnsemble", 5, at, 12, &x, 1, y, 1));
    CHECK(ot_max_abs_diff_f32(y[0], cases[i].e, 4) < 1e-6);
  }
  at[11] = ot_int("aggregate_function", 4);
  CHECK_ERR(ot_run_domain(ML, "TreeEnsemble", 5, at, 12, &x, 1, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

TEST(tree_ensemble_v5_set_membership) { /* test_ai_onnx_ml_tree_ensemble_set_membership */
  er_attr at[] = {
      ot_int("aggregate_function", 1), ot_ints("leaf_targetids", 4, D(0, 1, 2, 3)),
      tattr("leaf_weights", ot_tensor(ER_F32, 1, D(4), F(1, 10, 1000, 100))),
      tattr("membership_values", ot_tensor(ER_F32, 1, D(8), F(1.2f, 3.7f, 8, 9, NAN, 12, 7, NAN))),
      ot_int("n_targets", 4), ot_ints("nodes_falseleafs", 3, D(1, 0, 1)), ot_ints("nodes_falsenodeids", 3, D(2, 2, 3)),
      ot_ints("nodes_featureids", 3, D(0, 0, 0)),
      tattr("nodes_modes", ot_tensor(ER_U8, 1, D(3), (const uint8_t[]){0, 6, 6})),
      tattr("nodes_splits", ot_tensor(ER_F32, 1, D(3), F(11, 232344, NAN))),
      ot_ints("nodes_trueleafs", 3, D(0, 1, 1)), ot_ints("nodes_truenodeids", 3, D(1, 0, 1)),
      ot_int("post_transform", 0), ot_ints("tree_roots", 1, D(0))};
  er_tensor *x = ot_tensor(ER_F32, 2, D(6, 1), F(1.2f, 3.4f, -0.12f, NAN, 12, 7)), *y[1];
  CHECK_OK(ot_run_domain(ML, "TreeEnsemble", 5, at, 14, &x, 1, y, 1));
  CHECK(shape_is(y[0], 2, D(6, 4)));
  CHECK(ot_max_abs_diff_f32(y[0], F(1, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 100, 0, 0, 1000, 0, 0, 0, 1000, 0, 0, 10, 0, 0), 24) == 0);
  /* too few NaN-terminated sets for the MEMBER nodes */
  at[3] = tattr("membership_values", ot_tensor(ER_F32, 1, D(3), F(1, 2, NAN)));
  CHECK_ERR(ot_run_domain(ML, "TreeEnsemble", 5, at, 14, &x, 1, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

TEST(tree_ensemble_v5_errors) {
  er_attr at[16];
  int n = te5_single_tree(at, ER_U8);
  er_tensor *x = ot_tensor(ER_F64, 2, D(1, 2), (const double[]){1, 2}), *y[1];
  at[1] = ot_ints("leaf_targetids", 4, D(0, 1, 0, 2)); /* target 2 >= n_targets */
  CHECK_ERR(ot_run_domain(ML, "TreeEnsemble", 5, at, n, &x, 1, y, 1), ER_INVALID_ARGUMENT);
  n = te5_single_tree(at, ER_U8);
  at[7] = tattr("nodes_modes", ot_tensor(ER_U8, 1, D(3), (const uint8_t[]){0, 9, 0}));
  CHECK_ERR(ot_run_domain(ML, "TreeEnsemble", 5, at, n, &x, 1, y, 1), ER_INVALID_ARGUMENT);
  n = te5_single_tree(at, ER_U8);
  at[6] = ot_ints("nodes_featureids", 3, D(0, 2, 0)); /* feature 2 of 2 */
  CHECK_ERR(ot_run_domain(ML, "TreeEnsemble", 5, at, n, &x, 1, y, 1), ER_INVALID_ARGUMENT);
  n = te5_single_tree(at, ER_U8);
  at[10] = ot_ints("nodes_truenodeids", 3, D(1, 0, 4)); /* leaf 4 of 4 */
  CHECK_ERR(ot_run_domain(ML, "TreeEnsemble", 5, at, n, &x, 1, y, 1), ER_INVALID_ARGUMENT);
  n = te5_single_tree(at, ER_U8);
  at[10] = ot_ints("nodes_truenodeids", 3, D(1, 0, 2)); /* node 2 -> node 2 (not a leaf): cycle */
  at[9] = ot_ints("nodes_trueleafs", 3, D(0, 1, 0));
  er_tensor *xc = ot_tensor(ER_F64, 2, D(1, 2), (const double[]){4, 2});
  CHECK_ERR(ot_run_domain(ML, "TreeEnsemble", 5, at, n, &xc, 1, y, 1), ER_INVALID_ARGUMENT);
  n = te5_single_tree(at, ER_U8);
  er_tensor *xi = ot_tensor(ER_I64, 2, D(1, 2), D(1, 2));
  CHECK_ERR(ot_run_domain(ML, "TreeEnsemble", 5, at, n, &xi, 1, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

/* ---------------- TreeEnsembleRegressor / Classifier (opset 1..4) ---------------- */

/* tree 0: x0 <= 0.5 ? node1 (leaf) : node2 (leaf); tree 1 (ids listed out of order):
 * node 0: x1 < 0 (NaN goes true) ? node 2 : node 1 */
static const char *const k_modes[] = {"BRANCH_LEQ", "LEAF", "LEAF", "BRANCH_LT", "LEAF", "LEAF"};
static const int64_t k_lg_tree[] = {0, 0, 0, 1, 1, 1};
static const int64_t k_lg_node[] = {0, 1, 2, 0, 2, 1};
static const int64_t k_lg_feat[] = {0, 0, 0, 1, 0, 0};
static const int64_t k_lg_true[] = {1, 0, 0, 2, 0, 0};
static const int64_t k_lg_false[] = {2, 0, 0, 1, 0, 0};
static const int64_t k_lg_mtt[] = {0, 0, 0, 1, 0, 0};
static const float k_lg_values[] = {0.5f, 0, 0, 0, 0, 0};
static int legacy_nodes(er_attr *at) {
  int n = 0;
  at[n++] = ot_ints("nodes_treeids", 6, k_lg_tree);
  at[n++] = ot_ints("nodes_nodeids", 6, k_lg_node);
  at[n++] = ot_ints("nodes_featureids", 6, k_lg_feat);
  at[n++] = strs("nodes_modes", 6, k_modes);
  at[n++] = ot_floats("nodes_values", 6, k_lg_values);
  at[n++] = ot_ints("nodes_truenodeids", 6, k_lg_true);
  at[n++] = ot_ints("nodes_falsenodeids", 6, k_lg_false);
  at[n++] = ot_ints("nodes_missing_value_tracks_true", 6, k_lg_mtt);
  return n;
}

TEST(tree_ensemble_regressor) {
  er_attr at[24];
  int n = legacy_nodes(at);
  at[n++] = ot_ints("target_treeids", 5, D(0, 0, 0, 1, 1));
  at[n++] = ot_ints("target_nodeids", 5, D(1, 2, 2, 2, 1));
  at[n++] = ot_ints("target_ids", 5, D(0, 0, 1, 1, 0));
  at[n++] = ot_floats("target_weights", 5, F(1, 2, 3, 4, 5));
  at[n++] = ot_int("n_targets", 2);
  at[n++] = ot_floats("base_values", 2, F(0.5f, -0.5f));
  int i_agg = n;
  at[n++] = ot_str("aggregate_function", "SUM");
  /* rows: (0,-1): t0 leaf1 {0:1}, t1 node2 {1:4}; (1,1): t0 leaf2 {0:2,1:3}, t1 node1 {0:5};
   * (1,NaN): t0 leaf2, t1 NaN tracks true -> node2 {1:4} */
  er_tensor *x = ot_tensor(ER_F32, 2, D(3, 2), F(0, -1, 1, 1, 1, NAN)), *y[1];
  CHECK_OK(ot_run_domain(ML, "TreeEnsembleRegressor", 1, at, n, &x, 1, y, 1));
  CHECK(shape_is(y[0], 2, D(3, 2)));
  CHECK(ot_max_abs_diff_f32(y[0], F(1.5f, 3.5f, 7.5f, 2.5f, 2.5f, 6.5f), 6) < 1e-6);
  at[i_agg] = ot_str("aggregate_function", "AVERAGE");
  CHECK_OK(ot_run_domain(ML, "TreeEnsembleRegressor", 3, at, n, &x, 1, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], F(1, 1.5f, 4, 1, 1.5f, 3), 6) < 1e-6);
  at[i_agg] = ot_str("aggregate_function", "MAX");
  CHECK_OK(ot_run_domain(ML, "TreeEnsembleRegressor", 3, at, n, &x, 1, y, 1));
  CHECK(ot_max_abs_diff_f32(y[0], F(1.5f, 3.5f, 5.5f, 2.5f, 2.5f, 3.5f), 6) < 1e-6);
  /* double input; nodes_values as a double tensor (opset 3) */
  at[4] = tattr("nodes_values_as_tensor", ot_tensor(ER_F64, 1, D(6), (const double[]){0.5, 0, 0, 0, 0, 0}));
  at[i_agg] = ot_str("aggregate_function", "SUM");
  er_tensor *xd = ot_tensor(ER_F64, 2, D(1, 2), (const double[]){0.5, -1});
  CHECK_OK(ot_run_domain(ML, "TreeEnsembleRegressor", 3, at, n, &xd, 1, y, 1));
  CHECK(y[0]->dtype == ER_F32 && ot_max_abs_diff_f32(y[0], F(1.5f, 3.5f), 2) < 1e-6);
  /* not registered from opset 5 on */
  CHECK_ERR(ot_run_domain(ML, "TreeEnsembleRegressor", 5, at, n, &xd, 1, y, 1), ER_UNSUPPORTED);
  at[i_agg] = ot_str("aggregate_function", "MEDIAN");
  CHECK_ERR(ot_run_domain(ML, "TreeEnsembleRegressor", 3, at, n, &xd, 1, y, 1), ER_INVALID_ARGUMENT);
  at[i_agg] = ot_str("aggregate_function", "SUM");
  at[n - 6] = ot_ints("target_nodeids", 5, D(1, 2, 2, 2, 7)); /* missing node */
  CHECK_ERR(ot_run_domain(ML, "TreeEnsembleRegressor", 3, at, n, &xd, 1, y, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
}

TEST(tree_ensemble_classifier) {
  er_attr at[24];
  int n = legacy_nodes(at);
  at[n++] = ot_ints("class_treeids", 4, D(0, 0, 1, 1));
  at[n++] = ot_ints("class_nodeids", 4, D(1, 2, 2, 1));
  at[n++] = ot_ints("class_ids", 4, D(0, 1, 2, 1));
  at[n++] = ot_floats("class_weights", 4, F(1, 2, 3, 4));
  at[n++] = ot_ints("classlabels_int64s", 3, D(10, 20, 30));
  er_tensor *x = ot_tensor(ER_F32, 2, D(2, 2), F(0, -1, 1, 1)), *y[2];
  CHECK_OK(ot_run_domain(ML, "TreeEnsembleClassifier", 1, at, n, &x, 1, y, 2));
  CHECK(shape_is(y[0], 1, D(2)) && shape_is(y[1], 2, D(2, 3)));
  CHECK(ot_max_abs_diff_f32(y[1], F(1, 0, 3, 0, 6, 0), 6) == 0);
  CHECK(iv(y[0])[0] == 30 && iv(y[0])[1] == 20);
  /* binary: every weight votes for class 0; column 1 takes the score, column 0 = 1 - score */
  at[n - 3] = ot_ints("class_ids", 4, D(0, 0, 0, 0));
  at[n - 1] = ot_ints("classlabels_int64s", 2, D(10, 20));
  CHECK_OK(ot_run_domain(ML, "TreeEnsembleClassifier", 3, at, n, &x, 1, y, 2));
  CHECK(ot_max_abs_diff_f32(y[1], F(-3, 4, -5, 6), 4) == 0);
  CHECK(iv(y[0])[0] == 20 && iv(y[0])[1] == 20);
  at[n - 1] = strs("classlabels_strings", 2, (const char *const[]){"a", "b"});
  CHECK_ERR(ot_run_domain(ML, "TreeEnsembleClassifier", 3, at, n, &x, 1, y, 2), ER_UNSUPPORTED);
  at[n - 1] = ot_ints("classlabels_int64s", 2, D(10, 20));
  at[3] = strs("nodes_modes", 6, (const char *const[]){"BRANCH_LEQ", "LEAF", "LEAF", "BRANCH_XX", "LEAF", "LEAF"});
  CHECK_ERR(ot_run_domain(ML, "TreeEnsembleClassifier", 3, at, n, &x, 1, y, 2), ER_INVALID_ARGUMENT);
  ot_free_all();
}
