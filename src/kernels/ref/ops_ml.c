/* Classical ML operators: TfIdfVectorizer (default domain, opset 9+) and the ai.onnx.ml
 * domain ops Binarizer, ArrayFeatureExtractor, Scaler, Normalizer, LinearRegressor,
 * LinearClassifier (opset 1+), TreeEnsembleRegressor / TreeEnsembleClassifier (opset 1..4)
 * and TreeEnsemble (opset 5+).
 *
 * Semantics follow the ONNX reference implementation (onnx/reference/ops/aionnxml), with these
 * choices where it is silent or deviates from the spec:
 *  - TreeEnsemble (v5) applies post_transform (the reference ignores it; the spec and
 *    onnxruntime apply it). BRANCH_MEMBER sets are taken from membership_values in the order
 *    the MEMBER nodes appear in nodes_modes, as the spec says.
 *  - Comparisons use the threshold rounded to float unless X is double (as onnxruntime).
 *  - Scores are accumulated in double and rounded to the output type at the end.
 *  - Normalizer follows the spec and onnxruntime: MAX divides by the (signed) row maximum, L2
 *    keeps the sign, and a zero divisor leaves the row as is (the reference uses max |x| and
 *    a 1e-30 floor).
 *  - LinearClassifier with one coefficient row and two labels scores [-s, s] and argmax picks
 *    the label, as the reference does (onnxruntime writes [1 - s, s] and skips SOFTMAX).
 *  - TfIdfVectorizer counts every pool n-gram; a pool that lists the same n-gram twice
 *    counts it for both indexes (the reference keeps only the last one).
 * String tensors (pool_strings, string class labels, string inputs) are ER_UNSUPPORTED. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "kernels/kernel.h"

#define ML_DOMAIN "ai.onnx.ml"

/* ------------------------------------------------------------------ helpers */

static int ml_str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* A numeric array attribute: INTS, FLOATS or TENSOR, read element-wise. */
typedef struct {
  int n; /* -1 if absent */
  const int64_t *i;
  const float *f;
  const er_tensor *t;
} ml_vec;

static er_status ml_vec_get(const er_kctx *c, const char *name, ml_vec *v) {
  memset(v, 0, sizeof *v);
  v->n = -1;
  const er_attr *a = er_attr_get(c, name);
  if (!a) return 0;
  if (a->type == ER_ATTR_INTS) {
    v->i = a->ints, v->n = a->n;
  } else if (a->type == ER_ATTR_FLOATS) {
    v->f = a->floats, v->n = a->n;
  } else if (a->type == ER_ATTR_TENSOR && a->t) {
    if (!er_dtype_is_numeric(a->t->dtype))
      return ER_ERR(ER_UNSUPPORTED, "attribute %s: tensor of type %s not supported", name,
                    er_dtype_name((er_dtype)a->t->dtype));
    int64_t n = er_tensor_numel(a->t);
    if (n > 0 && !a->t->data) return ER_ERR(ER_INVALID_MODEL, "attribute %s: tensor has no data", name);
    if (n > 0x7fffffff) return ER_ERR(ER_UNSUPPORTED, "attribute %s is too large", name);
    v->t = a->t, v->n = (int)n;
  } else {
    return ER_ERR(ER_INVALID_MODEL, "attribute %s has an unexpected type", name);
  }
  return 0;
}

/* First present of `name` and `alt` (e.g. nodes_values / nodes_values_as_tensor). */
static er_status ml_vec_get2(const er_kctx *c, const char *name, const char *alt, ml_vec *v) {
  ER_RETURN_IF_ERROR(ml_vec_get(c, name, v));
  if (v->n < 0 && alt) ER_RETURN_IF_ERROR(ml_vec_get(c, alt, v));
  return 0;
}

static double ml_at(const ml_vec *v, int k) {
  if (v->i) return (double)v->i[k];
  if (v->f) return v->f[k];
  return er_load_f64(v->t->data, v->t->dtype, (size_t)k);
}
static int64_t ml_int(const ml_vec *v, int k) {
  if (v->i) return v->i[k];
  if (v->f) return (int64_t)v->f[k];
  return er_load_i64(v->t->data, v->t->dtype, (size_t)k);
}
/* Element k, or `def` when the attribute is absent. */
static int64_t ml_int_or(const ml_vec *v, int k, int64_t def) { return v->n > 0 ? ml_int(v, k) : def; }

/* Require a vector attribute of exactly n elements (n < 0: any length, but present). */
static er_status ml_need(const er_kctx *c, const char *name, const ml_vec *v, int n) {
  (void)c;
  if (v->n < 0) return ER_ERR(ER_INVALID_MODEL, "attribute %s is required", name);
  if (n >= 0 && v->n != n)
    return ER_ERR(ER_INVALID_MODEL, "attribute %s has %d elements, expected %d", name, v->n, n);
  return 0;
}

/* Row view of a [N, C] or [C] input: rank 1 is one row. */
static er_status ml_rows(const er_tensor *x, int64_t *out_n, int64_t *out_c) {
  *out_n = *out_c = 0;
  if (x->rank == 1) {
    *out_n = 1, *out_c = x->dims[0];
  } else if (x->rank == 2) {
    *out_n = x->dims[0], *out_c = x->dims[1];
  } else {
    return ER_ERR(ER_INVALID_ARGUMENT, "input must be 1-D [C] or 2-D [N, C], got rank %d", x->rank);
  }
  return 0;
}

static const int k_ml_num_types[] = {ER_F32, ER_F64, ER_I32, ER_I64, 0};

static er_status ml_check_num_input(const er_kctx *c, int i) {
  if (er_in(c, i) && er_in(c, i)->dtype == ER_STRING)
    return ER_ERR(ER_UNSUPPORTED, "string tensors are not supported");
  return er_check_type(c, i, k_ml_num_types);
}

/* ---- post transforms (shared by the linear and tree models) ---- */
enum { PT_NONE = 0, PT_SOFTMAX = 1, PT_LOGISTIC = 2, PT_SOFTMAX_ZERO = 3, PT_PROBIT = 4 };

static er_status ml_post_transform_str(const er_kctx *c, int *out) {
  const char *s = er_attr_str(c, "post_transform", "NONE");
  static const char *const names[] = {"NONE", "SOFTMAX", "LOGISTIC", "SOFTMAX_ZERO", "PROBIT"};
  for (int i = 0; i < 5; i++)
    if (ml_str_eq(s, names[i])) return *out = i, (er_status)0;
  return ER_ERR(ER_INVALID_ARGUMENT, "unknown post_transform '%s'", s);
}

static double ml_logistic(double v) {
  double e = 1.0 / (1.0 + exp(-fabs(v)));
  return v < 0 ? 1.0 - e : e;
}
/* The approximation of erf^-1 the reference and onnxruntime use. */
static double ml_erf_inv(double x) {
  double sgn = x < 0 ? -1.0 : 1.0;
  x = (1.0 - x) * (1.0 + x);
  if (x == 0) return 0;
  double lg = log(x);
  double v = 2.0 / (3.14159265358979323846 * 0.147) + 0.5 * lg;
  double v2 = 1.0 / 0.147 * lg;
  double v3 = -v + sqrt(v * v - v2);
  return sgn * sqrt(v3);
}

static void ml_apply_transform(int pt, double *v, int64_t n) {
  if (n <= 0) return;
  switch (pt) {
    case PT_LOGISTIC:
      for (int64_t i = 0; i < n; i++) v[i] = ml_logistic(v[i]);
      break;
    case PT_PROBIT:
      for (int64_t i = 0; i < n; i++) v[i] = 1.41421356 * ml_erf_inv(v[i] * 2 - 1);
      break;
    case PT_SOFTMAX: {
      double mx = v[0], s = 0;
      for (int64_t i = 1; i < n; i++) mx = v[i] > mx ? v[i] : mx;
      for (int64_t i = 0; i < n; i++) s += v[i] = exp(v[i] - mx);
      for (int64_t i = 0; i < n; i++) v[i] /= s;
      break;
    }
    case PT_SOFTMAX_ZERO: {
      double mx = v[0], s = 0;
      for (int64_t i = 1; i < n; i++) mx = v[i] > mx ? v[i] : mx;
      double e = exp(-mx);
      for (int64_t i = 0; i < n; i++) {
        v[i] = (v[i] > 1e-7 || v[i] < -1e-7) ? exp(v[i] - mx) : v[i] * e;
        s += v[i];
      }
      for (int64_t i = 0; i < n; i++) v[i] = s == 0 ? 0.5 : v[i] / s;
      break;
    }
    default: break;
  }
}

/* Index of the largest value, first one on ties; like numpy, a NaN counts as the largest. */
static int64_t ml_argmax(const double *v, int64_t n) {
  int64_t b = 0;
  for (int64_t i = 0; i < n; i++) {
    if (isnan(v[i])) return i;
    if (v[i] > v[b]) b = i;
  }
  return b;
}

/* ------------------------------------------------------------------ TfIdfVectorizer */

typedef struct {
  int mode; /* 1 TF, 2 IDF, 3 TFIDF */
  int64_t min_n, max_n, max_skip;
  const int64_t *pool, *counts, *indexes;
  int n_pool, n_counts, n_indexes, n_weights;
  const float *weights;
  int64_t out_size;
} tfidf_params;

static er_status tfidf_parse(er_kctx *c, tfidf_params *p) {
  memset(p, 0, sizeof *p);
  if (er_attr_get(c, "pool_strings")) return ER_ERR(ER_UNSUPPORTED, "pool_strings (string n-grams) is not supported");
  const char *m = er_attr_str(c, "mode", NULL);
  if (ml_str_eq(m, "TF")) p->mode = 1;
  else if (ml_str_eq(m, "IDF")) p->mode = 2;
  else if (ml_str_eq(m, "TFIDF")) p->mode = 3;
  else return ER_ERR(ER_INVALID_ARGUMENT, "mode must be TF, IDF or TFIDF, got '%s'", m ? m : "(absent)");
  p->min_n = er_attr_int(c, "min_gram_length", -1);
  p->max_n = er_attr_int(c, "max_gram_length", -1);
  p->max_skip = er_attr_int(c, "max_skip_count", 0);
  if (p->min_n < 1 || p->max_n < p->min_n)
    return ER_ERR(ER_INVALID_ARGUMENT, "need 1 <= min_gram_length (%lld) <= max_gram_length (%lld)",
                  (long long)p->min_n, (long long)p->max_n);
  if (p->max_skip < 0 || p->max_skip > 0x7fffffff)
    return ER_ERR(ER_INVALID_ARGUMENT, "max_skip_count must be >= 0, got %lld", (long long)p->max_skip);
  p->n_pool = er_attr_ints(c, "pool_int64s", &p->pool);
  p->n_counts = er_attr_ints(c, "ngram_counts", &p->counts);
  p->n_indexes = er_attr_ints(c, "ngram_indexes", &p->indexes);
  if (p->n_pool < 0) return ER_ERR(ER_INVALID_MODEL, "attribute pool_int64s is required");
  if (p->n_counts < 0) return ER_ERR(ER_INVALID_MODEL, "attribute ngram_counts is required");
  if (p->n_indexes < 1) return ER_ERR(ER_INVALID_MODEL, "attribute ngram_indexes is required");
  p->n_weights = er_attr_floats(c, "weights", &p->weights);
  if (p->n_weights < 0) p->n_weights = 0;
  int64_t total = 0;
  for (int l = 0; l < p->n_counts; l++) {
    int64_t s = p->counts[l], e = l + 1 < p->n_counts ? p->counts[l + 1] : p->n_pool;
    if (s < 0 || e < s || e > p->n_pool)
      return ER_ERR(ER_INVALID_ARGUMENT, "ngram_counts must be non-decreasing offsets into the pool (level %d)", l);
    total += (e - s) / (l + 1);
  }
  if (total > p->n_indexes)
    return ER_ERR(ER_INVALID_ARGUMENT, "ngram_indexes has %d entries but the pool holds %lld n-grams",
                  p->n_indexes, (long long)total);
  int64_t mx = -1;
  for (int i = 0; i < p->n_indexes; i++) {
    if (p->indexes[i] < 0 || p->indexes[i] > 0x7fffffff)
      return ER_ERR(ER_INVALID_ARGUMENT, "ngram_indexes[%d] = %lld is out of range", i, (long long)p->indexes[i]);
    mx = p->indexes[i] > mx ? p->indexes[i] : mx;
  }
  p->out_size = mx + 1;
  if (p->n_weights > 0 && p->n_weights < p->out_size)
    return ER_ERR(ER_INVALID_ARGUMENT, "weights has %d entries, expected %lld", p->n_weights, (long long)p->out_size);
  return 0;
}

static er_status tfidf_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  if (c->in[0]->dtype == ER_STRING) return ER_ERR(ER_UNSUPPORTED, "string input is not supported");
  ER_RETURN_IF_ERROR(er_check_type(c, 0, (const int[]){ER_I32, ER_I64, 0}));
  tfidf_params p;
  ER_RETURN_IF_ERROR(tfidf_parse(c, &p));
  const er_tensor *x = c->in[0];
  if (x->rank > 2) return ER_ERR(ER_INVALID_ARGUMENT, "input must be [C] or [B, C], got rank %d", x->rank);
  if (x->rank == 2) er_tensor_set_shape(c->out[0], ER_F32, 2, (int64_t[]){x->dims[0], p.out_size});
  else er_tensor_set_shape(c->out[0], ER_F32, 1, &p.out_size);
  return 0;
}

static er_status tfidf_run(er_kctx *c) {
  tfidf_params p;
  ER_RETURN_IF_ERROR(tfidf_parse(c, &p));
  const er_tensor *x = c->in[0];
  float *y = (float *)c->out[0]->data;
  int64_t rows = x->rank == 2 ? x->dims[0] : 1;
  int64_t C = x->rank == 0 ? 1 : x->dims[x->rank - 1];
  int64_t no = p.out_size;
  memset(y, 0, sizeof(float) * (size_t)(rows * no));
  for (int64_t r = 0; r < rows; r++) {
    float *yr = y + r * no;
    int64_t base = r * C;
    int id = 0; /* global n-gram number, counted over all levels */
    for (int l = 0; l < p.n_counts; l++) {
      int64_t n = l + 1, s = p.counts[l], e = l + 1 < p.n_counts ? p.counts[l + 1] : p.n_pool;
      int64_t count = (e - s) / n;
      if (n < p.min_n || n > p.max_n) {
        id += (int)count;
        continue;
      }
      for (int64_t g = 0; g < count; g++, id++) {
        const int64_t *gram = p.pool + s + g * n;
        int64_t col = p.indexes[id];
        /* unigrams are not affected by skips: count them once */
        int64_t max_d = n == 1 ? 1 : p.max_skip + 1;
        for (int64_t d = 1; d <= max_d; d++) {
          for (int64_t st = 0; st + (n - 1) * d < C; st++) {
            int64_t k = 0;
            while (k < n && er_load_i64(x->data, x->dtype, (size_t)(base + st + k * d)) == gram[k]) k++;
            if (k == n) yr[col] += 1.0f;
          }
        }
      }
    }
    for (int64_t i = 0; i < no; i++) {
      float w = p.n_weights > 0 ? p.weights[i] : 1.0f;
      if (p.mode == 2) yr[i] = yr[i] > 0 ? w : 0.0f;
      else if (p.mode == 3) yr[i] *= w;
    }
  }
  return 0;
}

/* ------------------------------------------------------------------ Binarizer */

static er_status binarizer_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  if (c->in[0]->dtype == ER_STRING || !er_dtype_is_numeric(c->in[0]->dtype))
    return ER_ERR(ER_UNSUPPORTED, "input type %s is not supported", er_dtype_name((er_dtype)c->in[0]->dtype));
  er_tensor_set_shape(c->out[0], c->in[0]->dtype, c->in[0]->rank, c->in[0]->dims);
  return 0;
}

static er_status binarizer_run(er_kctx *c) {
  const er_tensor *x = c->in[0];
  double th = er_attr_float(c, "threshold", 0.0f);
  int64_t n = er_tensor_numel(x);
  if (x->dtype == ER_F32) {
    const float *xs = (const float *)x->data;
    float *ys = (float *)c->out[0]->data;
    for (int64_t i = 0; i < n; i++) ys[i] = xs[i] > (float)th ? 1.0f : 0.0f;
  } else {
    for (int64_t i = 0; i < n; i++)
      er_store_f64(c->out[0]->data, x->dtype, (size_t)i, er_load_f64(x->data, x->dtype, (size_t)i) > th ? 1.0 : 0.0);
  }
  return 0;
}

/* ------------------------------------------------------------------ ArrayFeatureExtractor */

static er_status afe_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 2, 2));
  const er_tensor *x = c->in[0], *ix = c->in[1];
  if (x->dtype == ER_STRING) return ER_ERR(ER_UNSUPPORTED, "string tensors are not supported");
  if (!er_dtype_size(x->dtype)) return ER_ERR(ER_UNSUPPORTED, "input type %s is not supported", er_dtype_name((er_dtype)x->dtype));
  ER_RETURN_IF_ERROR(er_check_type(c, 1, (const int[]){ER_I64, ER_I32, 0}));
  if (x->rank < 1) return ER_ERR(ER_INVALID_ARGUMENT, "X must have rank >= 1");
  int64_t k = er_tensor_numel(ix);
  int64_t d[ER_MAX_RANK];
  int r;
  if (x->rank == 1) {
    d[0] = 1, d[1] = k, r = 2;
  } else {
    for (int i = 0; i < x->rank - 1; i++) d[i] = x->dims[i];
    d[x->rank - 1] = k, r = x->rank;
  }
  er_tensor_set_shape(c->out[0], x->dtype, r, d);
  return 0;
}

static er_status afe_run(er_kctx *c) {
  const er_tensor *x = c->in[0], *ix = c->in[1];
  size_t es = er_dtype_size(x->dtype);
  int64_t last = x->dims[x->rank - 1], rows = last ? er_tensor_numel(x) / last : 0, k = er_tensor_numel(ix);
  if (x->rank == 1) rows = 1;
  for (int64_t j = 0; j < k; j++) {
    int64_t v = er_load_i64(ix->data, ix->dtype, (size_t)j);
    if (v < 0 || v >= last)
      return ER_ERR(ER_OUT_OF_RANGE, "index %lld is out of range [0, %lld)", (long long)v, (long long)last);
  }
  const char *xs = (const char *)x->data;
  char *ys = (char *)c->out[0]->data;
  for (int64_t r = 0; r < rows; r++)
    for (int64_t j = 0; j < k; j++) {
      int64_t v = er_load_i64(ix->data, ix->dtype, (size_t)j);
      memcpy(ys + (size_t)(r * k + j) * es, xs + (size_t)(r * last + v) * es, es);
    }
  return 0;
}

/* ------------------------------------------------------------------ Scaler */

static er_status scaler_params(const er_kctx *c, ml_vec *off, ml_vec *sc, int64_t C) {
  ER_RETURN_IF_ERROR(ml_vec_get(c, "offset", off));
  ER_RETURN_IF_ERROR(ml_vec_get(c, "scale", sc));
  if (off->n > 1 && off->n != C)
    return ER_ERR(ER_INVALID_ARGUMENT, "offset has %d elements, expected 1 or %lld", off->n, (long long)C);
  if (sc->n > 1 && sc->n != C)
    return ER_ERR(ER_INVALID_ARGUMENT, "scale has %d elements, expected 1 or %lld", sc->n, (long long)C);
  return 0;
}

static er_status scaler_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  ER_RETURN_IF_ERROR(ml_check_num_input(c, 0));
  const er_tensor *x = c->in[0];
  ml_vec off, sc;
  ER_RETURN_IF_ERROR(scaler_params(c, &off, &sc, x->rank ? x->dims[x->rank - 1] : 1));
  er_tensor_set_shape(c->out[0], ER_F32, x->rank, x->dims);
  return 0;
}

static er_status scaler_run(er_kctx *c) {
  const er_tensor *x = c->in[0];
  int64_t C = x->rank ? x->dims[x->rank - 1] : 1, n = er_tensor_numel(x);
  ml_vec off, sc;
  ER_RETURN_IF_ERROR(scaler_params(c, &off, &sc, C));
  float *y = (float *)c->out[0]->data;
  for (int64_t i = 0; i < n; i++) {
    int j = C ? (int)(i % C) : 0;
    double o = off.n > 0 ? ml_at(&off, off.n == 1 ? 0 : j) : 0.0;
    double s = sc.n > 0 ? ml_at(&sc, sc.n == 1 ? 0 : j) : 1.0;
    y[i] = (float)((er_load_f64(x->data, x->dtype, (size_t)i) - o) * s);
  }
  return 0;
}

/* ------------------------------------------------------------------ Normalizer */

static er_status normalizer_mode(const er_kctx *c, int *mode) {
  const char *s = er_attr_str(c, "norm", "MAX");
  if (ml_str_eq(s, "MAX")) *mode = 0;
  else if (ml_str_eq(s, "L1")) *mode = 1;
  else if (ml_str_eq(s, "L2")) *mode = 2;
  else return ER_ERR(ER_INVALID_ARGUMENT, "norm must be MAX, L1 or L2, got '%s'", s);
  return 0;
}

static er_status normalizer_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  ER_RETURN_IF_ERROR(ml_check_num_input(c, 0));
  int mode;
  int64_t n, C;
  ER_RETURN_IF_ERROR(normalizer_mode(c, &mode));
  ER_RETURN_IF_ERROR(ml_rows(c->in[0], &n, &C));
  er_tensor_set_shape(c->out[0], ER_F32, c->in[0]->rank, c->in[0]->dims);
  return 0;
}

static er_status normalizer_run(er_kctx *c) {
  const er_tensor *x = c->in[0];
  int mode;
  int64_t n, C;
  ER_RETURN_IF_ERROR(normalizer_mode(c, &mode));
  ER_RETURN_IF_ERROR(ml_rows(x, &n, &C));
  float *y = (float *)c->out[0]->data;
  for (int64_t r = 0; r < n; r++) {
    double div = mode == 0 ? -INFINITY : 0.0;
    for (int64_t j = 0; j < C; j++) {
      double v = er_load_f64(x->data, x->dtype, (size_t)(r * C + j));
      if (mode == 0) div = v > div ? v : div;
      else if (mode == 1) div += fabs(v);
      else div += v * v;
    }
    for (int64_t j = 0; j < C; j++) {
      double v = er_load_f64(x->data, x->dtype, (size_t)(r * C + j));
      if (div != 0 && C > 0) v = mode == 2 ? copysign(sqrt(v * v / div), v) : v / div;
      y[r * C + j] = (float)v;
    }
  }
  return 0;
}

/* ------------------------------------------------------------------ LinearRegressor */

static er_status linreg_params(const er_kctx *c, int64_t C, ml_vec *coef, ml_vec *icpt, int64_t *targets, int *pt) {
  *targets = er_attr_int(c, "targets", 1);
  if (*targets < 1 || *targets > 0x7fffffff) return ER_ERR(ER_INVALID_ARGUMENT, "targets must be >= 1");
  ER_RETURN_IF_ERROR(ml_post_transform_str(c, pt));
  ER_RETURN_IF_ERROR(ml_vec_get(c, "coefficients", coef));
  ER_RETURN_IF_ERROR(ml_vec_get(c, "intercepts", icpt));
  if (coef->n < 0) return ER_ERR(ER_INVALID_MODEL, "attribute coefficients is required");
  if ((int64_t)coef->n != *targets * C)
    return ER_ERR(ER_INVALID_ARGUMENT, "coefficients has %d elements, expected targets*C = %lld", coef->n,
                  (long long)(*targets * C));
  if (icpt->n > 0 && icpt->n != *targets)
    return ER_ERR(ER_INVALID_ARGUMENT, "intercepts has %d elements, expected %lld", icpt->n, (long long)*targets);
  return 0;
}

static er_status linreg_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  ER_RETURN_IF_ERROR(ml_check_num_input(c, 0));
  int64_t n, C, T;
  ml_vec coef, icpt;
  int pt;
  ER_RETURN_IF_ERROR(ml_rows(c->in[0], &n, &C));
  ER_RETURN_IF_ERROR(linreg_params(c, C, &coef, &icpt, &T, &pt));
  er_tensor_set_shape(c->out[0], ER_F32, 2, (int64_t[]){n, T});
  c->scratch_bytes = sizeof(double) * (size_t)T;
  return 0;
}

static er_status linreg_run(er_kctx *c) {
  const er_tensor *x = c->in[0];
  int64_t n, C, T;
  ml_vec coef, icpt;
  int pt;
  ER_RETURN_IF_ERROR(ml_rows(x, &n, &C));
  ER_RETURN_IF_ERROR(linreg_params(c, C, &coef, &icpt, &T, &pt));
  double *acc = (double *)c->scratch;
  float *y = (float *)c->out[0]->data;
  for (int64_t r = 0; r < n; r++) {
    for (int64_t t = 0; t < T; t++) {
      double s = icpt.n > 0 ? ml_at(&icpt, (int)t) : 0.0;
      for (int64_t j = 0; j < C; j++)
        s += er_load_f64(x->data, x->dtype, (size_t)(r * C + j)) * ml_at(&coef, (int)(t * C + j));
      acc[t] = s;
    }
    ml_apply_transform(pt, acc, T);
    for (int64_t t = 0; t < T; t++) y[r * T + t] = (float)acc[t];
  }
  return 0;
}

/* ------------------------------------------------------------------ LinearClassifier */

typedef struct {
  ml_vec coef, icpt;
  const int64_t *labels;
  int n_labels; /* classlabels_ints count, 0 if absent */
  int64_t rows; /* coefficient rows (classes in the model) */
  int64_t cols; /* score columns */
  int pt;
} lincls_params;

static er_status lincls_parse(const er_kctx *c, int64_t C, lincls_params *p) {
  memset(p, 0, sizeof *p);
  if (er_attr_get(c, "classlabels_strings")) return ER_ERR(ER_UNSUPPORTED, "string class labels are not supported");
  ER_RETURN_IF_ERROR(ml_post_transform_str(c, &p->pt));
  ER_RETURN_IF_ERROR(ml_vec_get(c, "coefficients", &p->coef));
  ER_RETURN_IF_ERROR(ml_vec_get(c, "intercepts", &p->icpt));
  if (p->coef.n < 0) return ER_ERR(ER_INVALID_MODEL, "attribute coefficients is required");
  if (C <= 0 || p->coef.n == 0 || p->coef.n % C)
    return ER_ERR(ER_INVALID_ARGUMENT, "coefficients has %d elements, not a positive multiple of C = %lld",
                  p->coef.n, (long long)C);
  p->rows = p->coef.n / C;
  if (p->icpt.n > 0 && p->icpt.n != p->rows)
    return ER_ERR(ER_INVALID_ARGUMENT, "intercepts has %d elements, expected %lld", p->icpt.n, (long long)p->rows);
  p->n_labels = er_attr_ints(c, "classlabels_ints", &p->labels);
  if (p->n_labels < 0) p->n_labels = 0;
  p->cols = (p->rows == 1 && p->n_labels == 2) ? 2 : p->rows;
  if (p->n_labels > 0 && p->cols > 1 && p->n_labels < p->cols)
    return ER_ERR(ER_INVALID_ARGUMENT, "classlabels_ints has %d labels for %lld classes", p->n_labels,
                  (long long)p->cols);
  return 0;
}

static er_status lincls_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  ER_RETURN_IF_ERROR(ml_check_num_input(c, 0));
  int64_t n, C;
  lincls_params p;
  ER_RETURN_IF_ERROR(ml_rows(c->in[0], &n, &C));
  ER_RETURN_IF_ERROR(lincls_parse(c, C, &p));
  er_tensor_set_shape(c->out[0], ER_I64, 1, &n);
  if (er_out(c, 1)) er_tensor_set_shape(c->out[1], ER_F32, 2, (int64_t[]){n, p.cols});
  c->scratch_bytes = sizeof(double) * (size_t)p.cols;
  return 0;
}

static er_status lincls_run(er_kctx *c) {
  const er_tensor *x = c->in[0];
  int64_t n, C;
  lincls_params p;
  ER_RETURN_IF_ERROR(ml_rows(x, &n, &C));
  ER_RETURN_IF_ERROR(lincls_parse(c, C, &p));
  double *s = (double *)c->scratch;
  int64_t *lab = (int64_t *)c->out[0]->data;
  float *z = er_out(c, 1) ? (float *)c->out[1]->data : NULL;
  for (int64_t r = 0; r < n; r++) {
    for (int64_t k = 0; k < p.rows; k++) {
      double v = p.icpt.n > 0 ? ml_at(&p.icpt, (int)k) : 0.0;
      for (int64_t j = 0; j < C; j++)
        v += er_load_f64(x->data, x->dtype, (size_t)(r * C + j)) * ml_at(&p.coef, (int)(k * C + j));
      s[k] = v;
    }
    if (p.cols == 2 && p.rows == 1) s[1] = s[0], s[0] = -s[0];
    ml_apply_transform(p.pt, s, p.cols);
    if (p.cols > 1) {
      int64_t b = ml_argmax(s, p.cols);
      lab[r] = p.n_labels ? p.labels[b] : b;
    } else {
      double th = p.pt == PT_NONE ? 0.0 : 0.5;
      lab[r] = s[0] >= th ? (p.n_labels ? p.labels[0] : 1) : 0;
    }
    if (z)
      for (int64_t k = 0; k < p.cols; k++) z[r * p.cols + k] = (float)s[k];
  }
  return 0;
}

/* ------------------------------------------------------------------ tree ensembles */

enum { TM_LEQ = 0, TM_LT, TM_GTE, TM_GT, TM_EQ, TM_NEQ, TM_MEMBER, TM_LEAF };
enum { AGG_AVERAGE = 0, AGG_SUM = 1, AGG_MIN = 2, AGG_MAX = 3 };

static int tm_compare(int mode, double x, double th) {
  switch (mode) {
    case TM_LEQ: return x <= th;
    case TM_LT: return x < th;
    case TM_GTE: return x >= th;
    case TM_GT: return x > th;
    case TM_EQ: return x == th;
    case TM_NEQ: return x != th;
    default: return 0;
  }
}

static double tm_round(double v, int x_is_double) { return x_is_double ? v : (double)(float)v; }

/* MIN/MAX start from NaN meaning "no leaf voted"; agg_finish turns those into 0 (like
 * onnxruntime; the reference leaves +-FLT_MAX there). */
static void agg_init(int agg, double *acc, int64_t n) {
  double v = (agg == AGG_MIN || agg == AGG_MAX) ? NAN : 0.0;
  for (int64_t i = 0; i < n; i++) acc[i] = v;
}
static void agg_add(int agg, double *acc, int64_t t, double w) {
  if (agg == AGG_MIN) acc[t] = isnan(acc[t]) || w < acc[t] ? w : acc[t];
  else if (agg == AGG_MAX) acc[t] = isnan(acc[t]) || w > acc[t] ? w : acc[t];
  else acc[t] += w;
}
static void agg_finish(int agg, double *acc, int64_t n, int n_trees) {
  for (int64_t i = 0; i < n; i++) {
    if ((agg == AGG_MIN || agg == AGG_MAX) && isnan(acc[i])) acc[i] = 0;
    if (agg == AGG_AVERAGE && n_trees > 0) acc[i] /= n_trees;
  }
}

/* ---- TreeEnsemble (ai.onnx.ml opset 5) ---- */

typedef struct {
  ml_vec feat, modes, splits, tn, fn, tl, fl, mtt, ltarget, lweight, roots, members;
  int n_nodes, n_leaves, n_roots;
  int64_t n_targets;
  int agg, pt;
} te5_params;

static er_status te5_parse(const er_kctx *c, int64_t C, te5_params *p) {
  memset(p, 0, sizeof *p);
  ER_RETURN_IF_ERROR(ml_vec_get(c, "nodes_featureids", &p->feat));
  ER_RETURN_IF_ERROR(ml_vec_get(c, "nodes_modes", &p->modes));
  ER_RETURN_IF_ERROR(ml_vec_get(c, "nodes_splits", &p->splits));
  ER_RETURN_IF_ERROR(ml_vec_get(c, "nodes_truenodeids", &p->tn));
  ER_RETURN_IF_ERROR(ml_vec_get(c, "nodes_falsenodeids", &p->fn));
  ER_RETURN_IF_ERROR(ml_vec_get(c, "nodes_trueleafs", &p->tl));
  ER_RETURN_IF_ERROR(ml_vec_get(c, "nodes_falseleafs", &p->fl));
  ER_RETURN_IF_ERROR(ml_vec_get(c, "nodes_missing_value_tracks_true", &p->mtt));
  ER_RETURN_IF_ERROR(ml_vec_get(c, "leaf_targetids", &p->ltarget));
  ER_RETURN_IF_ERROR(ml_vec_get(c, "leaf_weights", &p->lweight));
  ER_RETURN_IF_ERROR(ml_vec_get(c, "tree_roots", &p->roots));
  ER_RETURN_IF_ERROR(ml_vec_get(c, "membership_values", &p->members));
  ER_RETURN_IF_ERROR(ml_need(c, "nodes_featureids", &p->feat, -1));
  int nn = p->n_nodes = p->feat.n;
  ER_RETURN_IF_ERROR(ml_need(c, "nodes_modes", &p->modes, nn));
  ER_RETURN_IF_ERROR(ml_need(c, "nodes_splits", &p->splits, nn));
  ER_RETURN_IF_ERROR(ml_need(c, "nodes_truenodeids", &p->tn, nn));
  ER_RETURN_IF_ERROR(ml_need(c, "nodes_falsenodeids", &p->fn, nn));
  ER_RETURN_IF_ERROR(ml_need(c, "nodes_trueleafs", &p->tl, nn));
  ER_RETURN_IF_ERROR(ml_need(c, "nodes_falseleafs", &p->fl, nn));
  if (p->mtt.n >= 0) ER_RETURN_IF_ERROR(ml_need(c, "nodes_missing_value_tracks_true", &p->mtt, nn));
  ER_RETURN_IF_ERROR(ml_need(c, "leaf_weights", &p->lweight, -1));
  int nl = p->n_leaves = p->lweight.n;
  ER_RETURN_IF_ERROR(ml_need(c, "leaf_targetids", &p->ltarget, nl));
  ER_RETURN_IF_ERROR(ml_need(c, "tree_roots", &p->roots, -1));
  p->n_roots = p->roots.n;
  p->n_targets = er_attr_int(c, "n_targets", -1);
  if (p->n_targets < 1 || p->n_targets > 0x7fffffff) return ER_ERR(ER_INVALID_MODEL, "attribute n_targets must be >= 1");
  int64_t agg = er_attr_int(c, "aggregate_function", AGG_SUM), pt = er_attr_int(c, "post_transform", PT_NONE);
  if (agg < 0 || agg > 3) return ER_ERR(ER_INVALID_ARGUMENT, "aggregate_function %lld is not one of 0..3", (long long)agg);
  if (pt < 0 || pt > 4) return ER_ERR(ER_INVALID_ARGUMENT, "post_transform %lld is not one of 0..4", (long long)pt);
  p->agg = (int)agg, p->pt = (int)pt;
  int n_member_nodes = 0;
  for (int i = 0; i < nn; i++) {
    int64_t m = ml_int(&p->modes, i), f = ml_int(&p->feat, i);
    if (m < TM_LEQ || m > TM_MEMBER) return ER_ERR(ER_INVALID_ARGUMENT, "nodes_modes[%d] = %lld is not one of 0..6", i, (long long)m);
    if (m == TM_MEMBER) n_member_nodes++;
    if (f < 0 || f >= C)
      return ER_ERR(ER_INVALID_ARGUMENT, "nodes_featureids[%d] = %lld is out of range [0, %lld)", i, (long long)f, (long long)C);
    int64_t t = ml_int(&p->tn, i), e = ml_int(&p->fn, i);
    if (t < 0 || t >= (ml_int(&p->tl, i) ? nl : nn) || e < 0 || e >= (ml_int(&p->fl, i) ? nl : nn))
      return ER_ERR(ER_INVALID_ARGUMENT, "node %d: true/false ids (%lld, %lld) are out of range", i, (long long)t, (long long)e);
  }
  for (int i = 0; i < nl; i++) {
    int64_t t = ml_int(&p->ltarget, i);
    if (t < 0 || t >= p->n_targets)
      return ER_ERR(ER_INVALID_ARGUMENT, "leaf_targetids[%d] = %lld is out of range [0, %lld)", i, (long long)t, (long long)p->n_targets);
  }
  for (int i = 0; i < p->n_roots; i++) {
    int64_t r = ml_int(&p->roots, i);
    if (r < 0 || r >= nn) return ER_ERR(ER_INVALID_ARGUMENT, "tree_roots[%d] = %lld is out of range", i, (long long)r);
  }
  int n_sets = 0;
  for (int i = 0; i < p->members.n; i++) n_sets += isnan(ml_at(&p->members, i)) ? 1 : 0;
  if (n_member_nodes > 0 && n_sets < n_member_nodes)
    return ER_ERR(ER_INVALID_ARGUMENT, "membership_values holds %d NaN-terminated sets for %d BRANCH_MEMBER nodes", n_sets,
                  n_member_nodes);
  return 0;
}

static int te5_x_types[] = {ER_F32, ER_F64, ER_F16, 0};

static er_status te5_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  ER_RETURN_IF_ERROR(er_check_type(c, 0, te5_x_types));
  int64_t n, C;
  te5_params p;
  ER_RETURN_IF_ERROR(ml_rows(c->in[0], &n, &C));
  ER_RETURN_IF_ERROR(te5_parse(c, C, &p));
  er_tensor_set_shape(c->out[0], c->in[0]->dtype, 2, (int64_t[]){n, p.n_targets});
  c->scratch_bytes = sizeof(double) * (size_t)p.n_targets + sizeof(int32_t) * (size_t)p.n_nodes;
  return 0;
}

static er_status te5_run(er_kctx *c) {
  const er_tensor *x = c->in[0];
  int64_t n, C;
  te5_params p;
  ER_RETURN_IF_ERROR(ml_rows(x, &n, &C));
  ER_RETURN_IF_ERROR(te5_parse(c, C, &p));
  double *acc = (double *)c->scratch;
  int32_t *mstart = (int32_t *)(acc + p.n_targets);
  int xd = x->dtype == ER_F64;
  /* start of each MEMBER node's set in membership_values, in node order */
  for (int i = 0, pos = 0; i < p.n_nodes; i++) {
    mstart[i] = -1;
    if (ml_int(&p.modes, i) != TM_MEMBER) continue;
    mstart[i] = pos;
    while (pos < p.members.n && !isnan(ml_at(&p.members, pos))) pos++;
    pos++;
  }
  for (int64_t r = 0; r < n; r++) {
    agg_init(p.agg, acc, p.n_targets);
    for (int t = 0; t < p.n_roots; t++) {
      int idx = (int)ml_int(&p.roots, t);
      int leaf = ml_int(&p.tl, idx) && ml_int(&p.fl, idx) && ml_int(&p.tn, idx) == ml_int(&p.fn, idx);
      for (int steps = 0; !leaf; steps++) {
        if (steps > p.n_nodes) return ER_ERR(ER_INVALID_ARGUMENT, "tree %d has a cycle", t);
        double xv = er_load_f64(x->data, x->dtype, (size_t)(r * C + ml_int(&p.feat, idx)));
        int mode = (int)ml_int(&p.modes, idx), go;
        if (mode == TM_MEMBER) {
          go = 0;
          for (int k = mstart[idx]; k < p.members.n; k++) {
            double m = ml_at(&p.members, k);
            if (isnan(m)) break;
            if (xv == tm_round(m, xd)) go = 1;
          }
        } else {
          go = tm_compare(mode, xv, tm_round(ml_at(&p.splits, idx), xd));
        }
        if (!go && isnan(xv) && ml_int_or(&p.mtt, idx, 0)) go = 1;
        leaf = (int)(go ? ml_int(&p.tl, idx) : ml_int(&p.fl, idx));
        idx = (int)(go ? ml_int(&p.tn, idx) : ml_int(&p.fn, idx));
      }
      if (idx >= p.n_leaves) return ER_ERR(ER_INVALID_ARGUMENT, "tree %d reaches leaf %d of %d", t, idx, p.n_leaves);
      agg_add(p.agg, acc, ml_int(&p.ltarget, idx), ml_at(&p.lweight, idx));
    }
    agg_finish(p.agg, acc, p.n_targets, p.n_roots);
    ml_apply_transform(p.pt, acc, p.n_targets);
    for (int64_t k = 0; k < p.n_targets; k++) er_store_f64(c->out[0]->data, x->dtype, (size_t)(r * p.n_targets + k), acc[k]);
  }
  return 0;
}

/* ---- TreeEnsembleRegressor / TreeEnsembleClassifier (ai.onnx.ml opset 1..4) ----
 * Nodes are addressed by (tree id, node id); leaves (mode LEAF) carry a list of
 * (target or class, weight) entries given as parallel arrays. At run time the
 * structure is resolved into index links in scratch. */

typedef struct {
  int classifier;
  int n_nodes, n_tg;
  ml_vec treeids, nodeids, feat, tn, fn, vals, mtt;
  const char *const *modes;
  ml_vec tg_tree, tg_node, tg_id, tg_w, base;
  int64_t n_out;   /* regressor: n_targets; classifier: score columns */
  int64_t n_class; /* classifier: number of labels */
  const int64_t *labels;
  int binary;
  int agg, pt;
} tel_params;

static er_status tel_parse(const er_kctx *c, int classifier, tel_params *p) {
  memset(p, 0, sizeof *p);
  p->classifier = classifier;
  ER_RETURN_IF_ERROR(ml_vec_get(c, "nodes_treeids", &p->treeids));
  ER_RETURN_IF_ERROR(ml_vec_get(c, "nodes_nodeids", &p->nodeids));
  ER_RETURN_IF_ERROR(ml_vec_get(c, "nodes_featureids", &p->feat));
  ER_RETURN_IF_ERROR(ml_vec_get(c, "nodes_truenodeids", &p->tn));
  ER_RETURN_IF_ERROR(ml_vec_get(c, "nodes_falsenodeids", &p->fn));
  ER_RETURN_IF_ERROR(ml_vec_get2(c, "nodes_values", "nodes_values_as_tensor", &p->vals));
  ER_RETURN_IF_ERROR(ml_vec_get(c, "nodes_missing_value_tracks_true", &p->mtt));
  ER_RETURN_IF_ERROR(ml_need(c, "nodes_treeids", &p->treeids, -1));
  int nn = p->n_nodes = p->treeids.n;
  ER_RETURN_IF_ERROR(ml_need(c, "nodes_nodeids", &p->nodeids, nn));
  ER_RETURN_IF_ERROR(ml_need(c, "nodes_featureids", &p->feat, nn));
  ER_RETURN_IF_ERROR(ml_need(c, "nodes_truenodeids", &p->tn, nn));
  ER_RETURN_IF_ERROR(ml_need(c, "nodes_falsenodeids", &p->fn, nn));
  if (p->vals.n >= 0) ER_RETURN_IF_ERROR(ml_need(c, "nodes_values", &p->vals, nn));
  if (p->mtt.n >= 0) ER_RETURN_IF_ERROR(ml_need(c, "nodes_missing_value_tracks_true", &p->mtt, nn));
  const er_attr *m = er_attr_get(c, "nodes_modes");
  if (!m || m->type != ER_ATTR_STRINGS || m->n != nn)
    return ER_ERR(ER_INVALID_MODEL, "attribute nodes_modes must be %d strings", nn);
  p->modes = m->strings;
  const char *pre = classifier ? "class_" : "target_";
  char nm[40];
#define TEL_GET(field, suffix, alt)                                          \
  do {                                                                       \
    strcpy(nm, pre);                                                         \
    strcat(nm, suffix);                                                      \
    ER_RETURN_IF_ERROR(ml_vec_get(c, nm, &p->field));                        \
    if (p->field.n < 0 && (alt)) {                                           \
      strcat(nm, "_as_tensor");                                              \
      ER_RETURN_IF_ERROR(ml_vec_get(c, nm, &p->field));                      \
    }                                                                        \
  } while (0)
  TEL_GET(tg_tree, "treeids", 0);
  TEL_GET(tg_node, "nodeids", 0);
  TEL_GET(tg_id, "ids", 0);
  TEL_GET(tg_w, "weights", 1);
#undef TEL_GET
  p->n_tg = p->tg_id.n < 0 ? 0 : p->tg_id.n;
  if (p->tg_tree.n != p->tg_id.n || p->tg_node.n != p->tg_id.n || p->tg_w.n != p->tg_id.n)
    return ER_ERR(ER_INVALID_MODEL, "%streeids, %snodeids, %sids and %sweights must have the same length", pre, pre, pre, pre);
  ER_RETURN_IF_ERROR(ml_vec_get2(c, "base_values", "base_values_as_tensor", &p->base));
  ER_RETURN_IF_ERROR(ml_post_transform_str(c, &p->pt));
  if (classifier) {
    if (er_attr_get(c, "classlabels_strings"))
      return ER_ERR(ER_UNSUPPORTED, "string class labels are not supported");
    int nc = er_attr_ints(c, "classlabels_int64s", &p->labels);
    if (nc < 1) return ER_ERR(ER_INVALID_MODEL, "attribute classlabels_int64s is required");
    p->n_class = nc;
    p->binary = p->n_tg > 0;
    for (int i = 1; i < p->n_tg; i++)
      if (ml_int(&p->tg_id, i) != ml_int(&p->tg_id, 0)) p->binary = 0;
    p->n_out = p->binary && nc == 1 ? 2 : nc;
    if (p->binary && nc == 1 && p->labels[0] != 1)
      return ER_ERR(ER_UNSUPPORTED, "a single class label must be 1, got %lld", (long long)p->labels[0]);
    p->agg = AGG_SUM;
  } else {
    p->n_out = er_attr_int(c, "n_targets", -1);
    if (p->n_out < 1 || p->n_out > 0x7fffffff) return ER_ERR(ER_INVALID_MODEL, "attribute n_targets must be >= 1");
    const char *a = er_attr_str(c, "aggregate_function", "SUM");
    if (ml_str_eq(a, "SUM")) p->agg = AGG_SUM;
    else if (ml_str_eq(a, "AVERAGE")) p->agg = AGG_AVERAGE;
    else if (ml_str_eq(a, "MIN")) p->agg = AGG_MIN;
    else if (ml_str_eq(a, "MAX")) p->agg = AGG_MAX;
    else return ER_ERR(ER_INVALID_ARGUMENT, "unknown aggregate_function '%s'", a);
  }
  int64_t n_ids = classifier ? p->n_class : p->n_out;
  for (int i = 0; i < p->n_tg; i++) {
    int64_t t = ml_int(&p->tg_id, i);
    if (t < 0 || t >= n_ids)
      return ER_ERR(ER_INVALID_ARGUMENT, "%sids[%d] = %lld is out of range [0, %lld)", pre, i, (long long)t, (long long)n_ids);
  }
  if (p->base.n > 0 && p->base.n != n_ids)
    return ER_ERR(ER_INVALID_ARGUMENT, "base_values has %d elements, expected %lld", p->base.n, (long long)n_ids);
  return 0;
}

static size_t tel_scratch(const tel_params *p) {
  return sizeof(double) * (size_t)p->n_out + sizeof(int32_t) * (size_t)(4 * p->n_nodes + p->n_tg) + (size_t)p->n_nodes;
}

static int tel_mode(const char *s) {
  static const char *const names[] = {"BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT",
                                      "BRANCH_EQ",  "BRANCH_NEQ", "BRANCH_MEMBER", "LEAF"};
  for (int i = 0; i < 8; i++)
    if (ml_str_eq(s, names[i])) return i;
  return -1;
}

/* Index of the node (tid, nid), trying `hint` first; -1 if none. */
static int tel_find(const tel_params *p, int64_t tid, int64_t nid, int64_t hint) {
  if (hint >= 0 && hint < p->n_nodes && ml_int(&p->nodeids, hint) == nid && ml_int(&p->treeids, hint) == tid) return hint;
  for (int i = 0; i < p->n_nodes; i++)
    if (ml_int(&p->nodeids, i) == nid && ml_int(&p->treeids, i) == tid) return i;
  return -1;
}

/* Where node `to` probably is, seen from node index i with node id `from` (nodes of a tree are
 * usually listed in id order). */
static int64_t tel_hint(int i, int64_t to, int64_t from) {
  if (to < -0x40000000 || to > 0x40000000 || from < -0x40000000 || from > 0x40000000) return -1;
  return i + (to - from);
}

typedef struct {
  double *acc;
  int32_t *roots, *tnext, *fnext, *head, *chain;
  uint8_t *mode;
  int n_roots;
} tel_links;

static er_status tel_link(const tel_params *p, void *scratch, tel_links *L) {
  int nn = p->n_nodes;
  L->acc = (double *)scratch;
  L->roots = (int32_t *)(L->acc + p->n_out);
  L->tnext = L->roots + nn, L->fnext = L->tnext + nn, L->head = L->fnext + nn, L->chain = L->head + nn;
  L->mode = (uint8_t *)(L->chain + p->n_tg);
  L->n_roots = 0;
  for (int i = 0; i < nn; i++) {
    int m = tel_mode(p->modes[i]);
    if (m < 0 || m == TM_MEMBER)
      return ER_ERR(ER_INVALID_ARGUMENT, "nodes_modes[%d] '%s' is not supported", i, p->modes[i] ? p->modes[i] : "");
    L->mode[i] = (uint8_t)m;
    L->head[i] = -1;
    int64_t tid = ml_int(&p->treeids, i), nid = ml_int(&p->nodeids, i);
    /* the first node listed for a tree id is its root */
    int seen = 0;
    if (i == 0 || ml_int(&p->treeids, i - 1) != tid)
      for (int r = 0; r < L->n_roots && !seen; r++) seen = ml_int(&p->treeids, L->roots[r]) == tid;
    else
      seen = 1;
    if (!seen) L->roots[L->n_roots++] = i;
    L->tnext[i] = L->fnext[i] = -1;
    if (m == TM_LEAF) continue;
    int64_t f = ml_int(&p->feat, i);
    if (f < 0) return ER_ERR(ER_INVALID_ARGUMENT, "nodes_featureids[%d] = %lld is negative", i, (long long)f);
    int64_t t = ml_int(&p->tn, i), e = ml_int(&p->fn, i);
    L->tnext[i] = tel_find(p, tid, t, tel_hint(i, t, nid));
    L->fnext[i] = tel_find(p, tid, e, tel_hint(i, e, nid));
    if (L->tnext[i] < 0 || L->fnext[i] < 0)
      return ER_ERR(ER_INVALID_ARGUMENT, "node (tree %lld, node %lld) refers to a missing node", (long long)tid, (long long)nid);
  }
  int prev = -1;
  for (int k = p->n_tg - 1; k >= 0; k--) { /* prepend in reverse: lists keep attribute order */
    int64_t tid = ml_int(&p->tg_tree, k), nid = ml_int(&p->tg_node, k);
    int j = tel_find(p, tid, nid, prev);
    if (j < 0)
      return ER_ERR(ER_INVALID_ARGUMENT, "weight %d refers to a missing node (tree %lld, node %lld)", k, (long long)tid, (long long)nid);
    L->chain[k] = L->head[j];
    L->head[j] = k;
    prev = j;
  }
  return 0;
}

/* Evaluate every tree on row x (C features) and aggregate into L->acc (n_out entries). */
static er_status tel_eval_row(const tel_params *p, const tel_links *L, const er_tensor *x, int64_t r, int64_t C) {
  int xd = x->dtype == ER_F64;
  agg_init(p->agg, L->acc, p->n_out);
  if (p->classifier && p->base.n > 0)
    for (int k = 0; k < p->base.n; k++) L->acc[k] = ml_at(&p->base, k);
  for (int t = 0; t < L->n_roots; t++) {
    int idx = L->roots[t];
    for (int steps = 0; L->mode[idx] != TM_LEAF; steps++) {
      if (steps > p->n_nodes) return ER_ERR(ER_INVALID_ARGUMENT, "tree %d has a cycle", t);
      int64_t f = ml_int(&p->feat, idx);
      if (f >= C) return ER_ERR(ER_INVALID_ARGUMENT, "feature id %lld is out of range [0, %lld)", (long long)f, (long long)C);
      double xv = er_load_f64(x->data, x->dtype, (size_t)(r * C + f));
      int go = isnan(xv) ? ml_int_or(&p->mtt, idx, 0) >= 1
                         : tm_compare(L->mode[idx], xv, tm_round(p->vals.n > 0 ? ml_at(&p->vals, idx) : 0.0, xd));
      idx = go ? L->tnext[idx] : L->fnext[idx];
    }
    for (int k = L->head[idx]; k >= 0; k = L->chain[k]) agg_add(p->agg, L->acc, ml_int(&p->tg_id, k), ml_at(&p->tg_w, k));
  }
  if (!p->classifier) {
    agg_finish(p->agg, L->acc, p->n_out, L->n_roots);
    if (p->base.n > 0)
      for (int k = 0; k < p->base.n; k++) L->acc[k] += ml_at(&p->base, k);
  }
  return 0;
}

static const int k_tel_x_types[] = {ER_F32, ER_F64, ER_I32, ER_I64, 0};

static er_status tel_infer(er_kctx *c, int classifier) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  if (c->in[0]->dtype == ER_STRING) return ER_ERR(ER_UNSUPPORTED, "string tensors are not supported");
  ER_RETURN_IF_ERROR(er_check_type(c, 0, k_tel_x_types));
  int64_t n, C;
  tel_params p;
  ER_RETURN_IF_ERROR(ml_rows(c->in[0], &n, &C));
  ER_RETURN_IF_ERROR(tel_parse(c, classifier, &p));
  if (classifier) {
    er_tensor_set_shape(c->out[0], ER_I64, 1, &n);
    if (er_out(c, 1)) er_tensor_set_shape(c->out[1], ER_F32, 2, (int64_t[]){n, p.n_out});
  } else {
    er_tensor_set_shape(c->out[0], ER_F32, 2, (int64_t[]){n, p.n_out});
  }
  c->scratch_bytes = tel_scratch(&p);
  return 0;
}

static er_status tel_run(er_kctx *c, int classifier) {
  const er_tensor *x = c->in[0];
  int64_t n, C;
  tel_params p;
  tel_links L;
  ER_RETURN_IF_ERROR(ml_rows(x, &n, &C));
  ER_RETURN_IF_ERROR(tel_parse(c, classifier, &p));
  ER_RETURN_IF_ERROR(tel_link(&p, c->scratch, &L));
  for (int64_t r = 0; r < n; r++) {
    ER_RETURN_IF_ERROR(tel_eval_row(&p, &L, x, r, C));
    double *s = L.acc;
    if (!classifier) {
      ml_apply_transform(p.pt, s, p.n_out);
      float *y = (float *)c->out[0]->data + r * p.n_out;
      for (int64_t k = 0; k < p.n_out; k++) y[k] = (float)s[k];
      continue;
    }
    if (p.binary) {
      s[1] = s[0];
      s[0] = (p.pt == PT_NONE || p.pt == PT_PROBIT) ? 1.0 - s[1] : -s[1];
    }
    ml_apply_transform(p.pt, s, p.n_out);
    int64_t b = ml_argmax(s, p.n_out);
    ((int64_t *)c->out[0]->data)[r] = p.n_class == 1 ? (b == 1 ? 1 : 0) : p.labels[b];
    if (er_out(c, 1)) {
      float *z = (float *)c->out[1]->data + r * p.n_out;
      for (int64_t k = 0; k < p.n_out; k++) z[k] = (float)s[k];
    }
  }
  return 0;
}

static er_status ter_infer(er_kctx *c) { return tel_infer(c, 0); }
static er_status ter_run(er_kctx *c) { return tel_run(c, 0); }
static er_status tec_infer(er_kctx *c) { return tel_infer(c, 1); }
static er_status tec_run(er_kctx *c) { return tel_run(c, 1); }

/* ------------------------------------------------------------------ table */

const er_op_def er_ops_ml[] = {
    ER_OPDEF(TfIdfVectorizer, {"TfIdfVectorizer", "", 9, 0, tfidf_infer, tfidf_run, 0})
    ER_OPDEF(Binarizer, {"Binarizer", ML_DOMAIN, 1, 0, binarizer_infer, binarizer_run, 0})
    ER_OPDEF(ArrayFeatureExtractor, {"ArrayFeatureExtractor", ML_DOMAIN, 1, 0, afe_infer, afe_run, 0})
    ER_OPDEF(Scaler, {"Scaler", ML_DOMAIN, 1, 0, scaler_infer, scaler_run, 0})
    ER_OPDEF(Normalizer, {"Normalizer", ML_DOMAIN, 1, 0, normalizer_infer, normalizer_run, 0})
    ER_OPDEF(LinearRegressor, {"LinearRegressor", ML_DOMAIN, 1, 0, linreg_infer, linreg_run, 0})
    ER_OPDEF(LinearClassifier, {"LinearClassifier", ML_DOMAIN, 1, 0, lincls_infer, lincls_run, 0})
    ER_OPDEF(TreeEnsembleRegressor, {"TreeEnsembleRegressor", ML_DOMAIN, 1, 4, ter_infer, ter_run, 0})
    ER_OPDEF(TreeEnsembleClassifier, {"TreeEnsembleClassifier", ML_DOMAIN, 1, 4, tec_infer, tec_run, 0})
    ER_OPDEF(TreeEnsemble, {"TreeEnsemble", ML_DOMAIN, 5, 0, te5_infer, te5_run, 0})
    {0},
};
