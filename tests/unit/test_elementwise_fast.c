/* float32 fast paths of the elementwise family (elementwise_fast.c) compared with the
 * generic paths (enabled by er_ew_f32_fast_disabled) on random shapes and broadcast
 * patterns, in-place aliasing (output 0 == input 0) and a 2-thread pool. */
#include <string.h>

#include "optest.h"
#include "test.h"

extern int er_ew_f32_fast_disabled;

static uint32_t rng = 12345;
static float frand(void) { /* [-4, 4) with some exact zeros, +-inf/NaN rare */
  rng = rng * 1664525u + 1013904223u;
  uint32_t r = rng >> 8;
  if (r % 97 == 0) return 0.0f;
  if (r % 211 == 0) return -0.0f;
  return (float)((double)(r & 0xffff) / 65536.0 * 8.0 - 4.0);
}
static int irand(int n) {
  rng = rng * 1664525u + 1013904223u;
  return (int)((rng >> 8) % (uint32_t)n);
}

static er_tensor *rand_tensor(int rank, const int64_t *dims, int specials) {
  er_tensor *t = ot_tensor(ER_F32, rank, dims, NULL);
  float *p = (float *)t->data;
  int64_t n = er_tensor_numel(t);
  for (int64_t i = 0; i < n; i++) p[i] = frand();
  if (specials && n > 3) {
    p[0] = NAN;
    p[1] = INFINITY;
    p[2] = -INFINITY;
  }
  return t;
}

/* Bitwise-equal with NaN == NaN (sign of NaN ignored) or within tol (relative+absolute). */
static int close_f32(const float *a, const float *b, int64_t n, double tol) {
  for (int64_t i = 0; i < n; i++) {
    if (isnan(a[i]) || isnan(b[i])) {
      if (isnan(a[i]) != isnan(b[i])) return 0;
      continue;
    }
    if (tol == 0) {
      if (memcmp(&a[i], &b[i], sizeof(float)) != 0) return 0;
    } else if (a[i] != b[i] && !(fabs((double)a[i] - b[i]) <= tol * (1 + fabs((double)b[i])))) {
      return 0;
    }
  }
  return 1;
}

/* Run op directly with output 0 sharing input 0's memory (copy of input 0), optional pool. */
static er_status run_direct(const char *op_type, int opset, const er_attr *attrs, int n_attrs,
                            er_tensor **in, int n_in, er_tensor *out, er_threadpool *pool) {
  const er_op_def *op = er_op_find("", op_type, opset);
  if (!op) return ER_ERR(ER_UNSUPPORTED, "no op %s", op_type);
  er_node node = {.name = "test", .op_type = op_type, .domain = "", .opset = opset,
                  .n_inputs = n_in, .n_outputs = 1, .n_attrs = n_attrs,
                  .attrs = (er_attr *)attrs, .op = op};
  er_tensor *outs[1] = {out};
  er_kctx c = {.node = &node, .opset = opset, .n_in = n_in, .n_out = 1, .in = in, .out = outs,
               .threads = pool};
  void *data = out->data;
  ER_RETURN_IF_ERROR(op->infer(&c));
  out->data = data;
  return op->run(&c);
}

typedef struct {
  const char *op;
  int opset;
  er_attr attrs[2];
  int n_attrs;
  double tol;
} ucase;

static void unary_cases(int *er_failed_, er_threadpool *pool) {
  ucase cases[] = {
      {"Relu", 14, {{0}}, 0, 0},
      {"LeakyRelu", 16, {{0}}, 0, 0},
      {"LeakyRelu", 16, {ot_float("alpha", 0.37f)}, 1, 0},
      {"HardSigmoid", 6, {{0}}, 0, 1e-6},
      {"HardSigmoid", 6, {ot_float("alpha", 0.3f), ot_float("beta", 0.4f)}, 2, 1e-6},
      {"HardSwish", 14, {{0}}, 0, 1e-6},
      {"Neg", 13, {{0}}, 0, 0},
      {"Abs", 13, {{0}}, 0, 0},
      {"Sqrt", 13, {{0}}, 0, 0},
      {"Reciprocal", 13, {{0}}, 0, 0},
      {"Sigmoid", 13, {{0}}, 0, 1e-6},
      {"Tanh", 13, {{0}}, 0, 1e-6},
      {"Exp", 13, {{0}}, 0, 1e-6},
      {"Erf", 13, {{0}}, 0, 1e-6},
      {"Gelu", 20, {{0}}, 0, 1e-6},
      {"Gelu", 20, {ot_str("approximate", "tanh")}, 1, 1e-6},
  };
  int64_t shapes[][4] = {{1, 1, 1, 1}, {1, 3, 7, 5}, {2, 1, 1, 17}, {1, 16, 40, 41}};
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    const ucase *u = &cases[k];
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
      er_tensor *x = rand_tensor(4, shapes[s], 1);
      int64_t n = er_tensor_numel(x);
      er_tensor *fast[1], *slow[1];
      er_ew_f32_fast_disabled = 1;
      CHECK_OK(ot_run(u->op, u->opset, u->attrs, u->n_attrs, &x, 1, slow, 1));
      er_ew_f32_fast_disabled = 0;
      CHECK_OK(ot_run(u->op, u->opset, u->attrs, u->n_attrs, &x, 1, fast, 1));
      int ok = close_f32(fast[0]->data, slow[0]->data, n, u->tol);
      /* in place: output tensor shares a copy of the input's memory */
      er_tensor *xi = ot_tensor(ER_F32, 4, shapes[s], x->data);
      er_tensor io = *xi;
      CHECK_OK(run_direct(u->op, u->opset, u->attrs, u->n_attrs, &xi, 1, &io, pool));
      int ok_inplace = close_f32(io.data, slow[0]->data, n, u->tol);
      if (!ok || !ok_inplace)
        fprintf(stderr, "  %s shape %zu: fast %d inplace %d\n", u->op, s, ok, ok_inplace);
      CHECK(ok);
      CHECK(ok_inplace);
    }
    ot_free_all();
  }
}

TEST(ew_fast_unary_matches_generic) { unary_cases(er_failed_, NULL); }

TEST(ew_fast_unary_threads) {
  er_threadpool *pool = NULL;
  CHECK_OK(er_threadpool_create(2, &pool));
  unary_cases(er_failed_, pool);
  er_threadpool_destroy(pool);
}

TEST(ew_fast_clip_matches_generic) {
  int64_t d[] = {3, 70000};
  float lo = -1.5f, hi = 2.25f, lo2 = 3.0f;
  int64_t one = 1;
  for (int variant = 0; variant < 5; variant++) {
    er_tensor *x = rand_tensor(2, d, 1);
    er_tensor *tl = ot_tensor(ER_F32, 0, &one, variant == 4 ? &lo2 : &lo);
    er_tensor *th = ot_tensor(ER_F32, 0, &one, &hi);
    er_tensor *in[3] = {x, variant == 1 ? NULL : tl, variant == 2 ? NULL : th};
    int n_in = variant == 3 ? 1 : 3;
    er_tensor *fast[1], *slow[1];
    er_ew_f32_fast_disabled = 1;
    CHECK_OK(ot_run("Clip", 13, NULL, 0, in, n_in, slow, 1));
    er_ew_f32_fast_disabled = 0;
    CHECK_OK(ot_run("Clip", 13, NULL, 0, in, n_in, fast, 1));
    CHECK(close_f32(fast[0]->data, slow[0]->data, er_tensor_numel(x), 0));
    er_tensor *xi = ot_tensor(ER_F32, 2, d, x->data);
    er_tensor io = *xi;
    in[0] = xi;
    CHECK_OK(run_direct("Clip", 13, NULL, 0, in, n_in, &io, NULL));
    CHECK(close_f32(io.data, slow[0]->data, er_tensor_numel(x), 0));
    ot_free_all();
  }
  /* opset 6: attributes */
  int64_t d2[] = {5, 9};
  er_tensor *x = rand_tensor(2, d2, 1);
  er_attr at[] = {ot_float("min", -0.5f), ot_float("max", 0.75f)};
  er_tensor *fast[1], *slow[1];
  er_ew_f32_fast_disabled = 1;
  CHECK_OK(ot_run("Clip", 6, at, 2, &x, 1, slow, 1));
  er_ew_f32_fast_disabled = 0;
  CHECK_OK(ot_run("Clip", 6, at, 2, &x, 1, fast, 1));
  CHECK(close_f32(fast[0]->data, slow[0]->data, 45, 0));
  CHECK(((float *)fast[0]->data)[5] >= -0.5f && ((float *)fast[0]->data)[5] <= 0.75f);
  ot_free_all();
}

/* Random operand shapes: b is a with some dims set to 1 and/or leading dims dropped. */
static void binary_cases(int *er_failed_, er_threadpool *pool) {
  const char *ops[] = {"Add", "Sub", "Mul", "Div"};
  int64_t bases[][4] = {{1, 8, 6, 5}, {2, 3, 4, 5}, {1, 32, 28, 28}, {2, 1, 300, 120},
                        {1, 1, 1, 7}, {1, 1, 100000, 1}};
  /* which dims of b keep a's size (bitmask over 4 dims), and b's rank */
  struct { int keep, rank; } pats[] = {
      {0xf, 4}, {0x0, 0}, {0x0, 4}, {0x2, 4}, {0x2, 3}, {0x1, 4}, {0xc, 2}, {0x8, 1},
      {0x6, 4}, {0xa, 4}, {0x3, 4}, {0x5, 4}, {0xe, 3}, {0x4, 4}, {0x9, 4},
  };
  for (size_t o = 0; o < 4; o++)
    for (size_t bs = 0; bs < sizeof bases / sizeof bases[0]; bs++)
      for (size_t pt = 0; pt < sizeof pats / sizeof pats[0]; pt++)
        for (int swap = 0; swap < 2; swap++) {
          int64_t bd[4];
          int rank = pats[pt].rank;
          for (int i = 0; i < rank; i++) {
            int d = 4 - rank + i;
            bd[i] = (pats[pt].keep >> d) & 1 ? bases[bs][d] : 1;
          }
          er_tensor *a = rand_tensor(4, bases[bs], irand(2));
          er_tensor *b = rand_tensor(rank, bd, 0);
          er_tensor *in[2] = {swap ? b : a, swap ? a : b};
          er_tensor *fast[1], *slow[1];
          er_ew_f32_fast_disabled = 1;
          CHECK_OK(ot_run(ops[o], 14, NULL, 0, in, 2, slow, 1));
          er_ew_f32_fast_disabled = 0;
          CHECK_OK(ot_run(ops[o], 14, NULL, 0, in, 2, fast, 1));
          int64_t n = er_tensor_numel(slow[0]);
          int ok = close_f32(fast[0]->data, slow[0]->data, n, 0);
          int ok_inplace = 1;
          if (!swap) { /* in place: output aliases the full-shape input 0 */
            er_tensor *ai = ot_tensor(ER_F32, 4, bases[bs], a->data);
            er_tensor io = *ai;
            in[0] = ai;
            CHECK_OK(run_direct(ops[o], 14, NULL, 0, in, 2, &io, pool));
            ok_inplace = close_f32(io.data, slow[0]->data, n, 0);
          }
          if (!ok || !ok_inplace)
            fprintf(stderr, "  %s base %zu pattern %zu swap %d: fast %d inplace %d\n", ops[o], bs,
                    pt, swap, ok, ok_inplace);
          CHECK(ok);
          CHECK(ok_inplace);
          ot_free_all();
        }
}

TEST(ew_fast_binary_matches_generic) { binary_cases(er_failed_, NULL); }

TEST(ew_fast_binary_threads) {
  er_threadpool *pool = NULL;
  CHECK_OK(er_threadpool_create(2, &pool));
  binary_cases(er_failed_, pool);
  er_threadpool_destroy(pool);
}

TEST(ew_fast_binary_values) {
  /* hand-checked: per-channel bias [C,1,1] on [1,C,2,2] and row bias [3] on [2,3] */
  int64_t xd[] = {1, 2, 2, 2}, bd[] = {2, 1, 1};
  float xv[] = {1, 2, 3, 4, 5, 6, 7, 8}, bv[] = {10, -1};
  er_tensor *in[2] = {ot_tensor(ER_F32, 4, xd, xv), ot_tensor(ER_F32, 3, bd, bv)};
  er_tensor *y[1];
  CHECK_OK(ot_run("Add", 14, NULL, 0, in, 2, y, 1));
  float e1[] = {11, 12, 13, 14, 4, 5, 6, 7};
  CHECK(ot_max_abs_diff_f32(y[0], e1, 8) == 0);
  int64_t ad[] = {2, 3}, rd[] = {3};
  float av[] = {1, 2, 3, 4, 5, 6}, rv[] = {2, 4, 8};
  er_tensor *in2[2] = {ot_tensor(ER_F32, 2, ad, av), ot_tensor(ER_F32, 1, rd, rv)};
  CHECK_OK(ot_run("Div", 14, NULL, 0, in2, 2, y, 1));
  float e2[] = {0.5f, 0.5f, 0.375f, 2, 1.25f, 0.75f};
  CHECK(ot_max_abs_diff_f32(y[0], e2, 6) == 0);
  ot_free_all();
}

TEST(ew_fast_variadic_matches_generic) {
  const char *ops[] = {"Sum", "Mean", "Max", "Min"};
  int64_t ad[] = {2, 16, 9, 9}, bd[] = {16, 1, 1}, cd[] = {9};
  for (size_t o = 0; o < 4; o++) {
    er_tensor *in[3] = {rand_tensor(3, bd, 0), rand_tensor(4, ad, 1), rand_tensor(1, cd, 1)};
    er_tensor *fast[1], *slow[1];
    er_ew_f32_fast_disabled = 1;
    CHECK_OK(ot_run(ops[o], 13, NULL, 0, in, 3, slow, 1));
    er_ew_f32_fast_disabled = 0;
    CHECK_OK(ot_run(ops[o], 13, NULL, 0, in, 3, fast, 1));
    CHECK(close_f32(fast[0]->data, slow[0]->data, er_tensor_numel(slow[0]), 0));
    ot_free_all();
  }
}

TEST(ew_fast_sigmoid_wide_range) {
  /* the vectorized exp: every range-reduction step k from -126 to 0, both signs */
  int64_t d[] = {40001};
  er_tensor *x = ot_tensor(ER_F32, 1, d, NULL);
  float *p = (float *)x->data;
  for (int i = 0; i < 40001; i++) p[i] = (float)(i - 20000) * 0.005f;
  er_tensor *fast[1], *slow[1];
  er_ew_f32_fast_disabled = 1;
  CHECK_OK(ot_run("Sigmoid", 13, NULL, 0, &x, 1, slow, 1));
  er_ew_f32_fast_disabled = 0;
  CHECK_OK(ot_run("Sigmoid", 13, NULL, 0, &x, 1, fast, 1));
  double worst = 0;
  const float *f = fast[0]->data, *s = slow[0]->data;
  for (int i = 0; i < 40001; i++) {
    double rel = fabs((double)f[i] - s[i]) / (s[i] > 1e-30f ? s[i] : 1e-30f);
    if (rel > worst) worst = rel;
  }
  CHECK(worst < 1e-6);
  CHECK(f[20000] == 0.5f && f[40000] == 1.0f);
  ot_free_all();
}

TEST(ew_fast_sigmoid_nan_and_extremes) {
  int64_t d[1] = {7};
  float xs[7] = {NAN, -INFINITY, INFINITY, -1000.0f, 1000.0f, -88.5f, 0.0f};
  er_tensor *x = ot_tensor(ER_F32, 1, d, xs);
  er_tensor *y[1];
  CHECK_OK(ot_run("Sigmoid", 13, NULL, 0, (er_tensor *[]){x}, 1, y, 1));
  const float *o = (const float *)y[0]->data;
  CHECK(isnan(o[0]));
  CHECK(o[1] >= 0.0f && o[1] < 1e-30f);
  CHECK(o[2] == 1.0f);
  CHECK(o[3] >= 0.0f && o[3] < 1e-30f);
  CHECK(o[4] == 1.0f);
  CHECK(o[5] >= 0.0f && o[5] < 1e-30f);
  CHECK(o[6] == 0.5f);
  ot_free_all();
}

/* Pow by a scalar 1, 2, 3, 0.5 or -1 takes the fast path and must equal the generic
 * (float)pow((double)x, e) bit for bit: random floats of every magnitude, signed zeros,
 * infinities, NaN, subnormals, values whose cube overflows or underflows; also the scalar
 * as a [1] tensor and an exponent the fast path does not take (2.5). */
TEST(ew_fast_pow_scalar_exact) {
  enum { N = 20000 };
  static float xs[N];
  for (int i = 0; i < N; i++) {
    rng = rng * 1664525u + 1013904223u;
    uint32_t bits = rng ^ (rng >> 13) << 7;
    memcpy(&xs[i], &bits, sizeof bits); /* any float, NaN included */
  }
  static const float sp[] = {0.0f, -0.0f, INFINITY, -INFINITY, 1.0f, -1.0f, 1e-45f, -1e-45f,
                             3e38f, -3e38f, 1e13f, -1e13f, 1e-13f, 2.0f, 0.5f};
  memcpy(xs, sp, sizeof sp);
  static const float exps[] = {1.0f, 2.0f, 3.0f, 0.5f, -1.0f, 2.5f};
  int64_t xd[1] = {N}, ed[1] = {1};
  for (unsigned k = 0; k < sizeof exps / sizeof exps[0]; k++)
    for (int rank = 0; rank < 2; rank++) {
      er_tensor *in[2] = {ot_tensor(ER_F32, 1, xd, xs), ot_tensor(ER_F32, rank, ed, &exps[k])};
      er_tensor *fast[1], *slow[1];
      er_ew_f32_fast_disabled = 1;
      CHECK_OK(ot_run("Pow", 15, NULL, 0, in, 2, slow, 1));
      er_ew_f32_fast_disabled = 0;
      CHECK_OK(ot_run("Pow", 15, NULL, 0, in, 2, fast, 1));
      int ok = 1;
      for (int i = 0; i < N; i++) {
        float a = ((float *)fast[0]->data)[i], b = ((float *)slow[0]->data)[i];
        int same = isnan(a) ? isnan(b) : memcmp(&a, &b, sizeof a) == 0;
        if (!same && ok) fprintf(stderr, "  pow(%.9g, %g) = %.9g, generic %.9g\n", xs[i], exps[k], a, b);
        ok &= same;
      }
      CHECK(ok);
      ot_free_all();
    }
}
